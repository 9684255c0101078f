r"""Networks from REL blocks by completely positive factorization (Sahiner et al., 2021).

.. math:: S_i = \textstyle\sum_k s_ks_k^\top,\ A_is_k \ge 0
    \ \Longrightarrow\ u = \sqrt{2\beta}\,s,\quad v = \beta^{-1}Z^\top D_iXu .
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from copos._deprecation import deprecated_alias
from copos._validation import check_positive
from copos.bound import Bound
from copos.cones.membership import cp_factorize
from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU, network_objective
from copos.nets.arrangements import Arrangements
from copos.nets.patterns import cone_rows, masked_data, residual_from_blocks
from copos.nets.problem import TrainingProblem

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Recovery:
    """A network recovered from a :class:`~copos.relaxations.rel.CopositiveResult`.

    Attributes
    ----------
    U, V:
        Weights of shapes ``(d, m)`` and ``(m, c)``; balanced neurons.
    objective:
        Training objective of ``(U, V)`` (numpy, with the true ReLU): an upper bound on p*.
    exact:
        Whether every block was factored and ``|objective - value| <= tol * max(1, |value|)``:
        then the relaxation is tight on this instance and the network is optimal.
    message:
        What happened, in words.
    """

    U: FloatArray
    V: FloatArray
    objective: float
    exact: bool
    message: str

    @property
    def num_neurons(self) -> int:
        """Width of the recovered network."""
        return int(self.U.shape[1])

    @property
    def bound(self) -> Bound:
        """``objective`` as a rigorous upper :class:`~copos.bound.Bound` on p* (a real network)."""
        return Bound.of_network(
            self.objective,
            status_text="exact recovery" if self.exact else "inexact recovery",
            note=self.message,
        )


def recover_from_rel(
    result: RelSolution, problem: TrainingProblem, *, tol: float = 1e-6
) -> Recovery:
    r"""Build a network from the blocks :math:`S_i` of ``result`` and check it a posteriori.

    With :math:`Z = (I_n + 2\sum_iD_iXS_iX^\top D_i)^{-1}Y`, each block is factored as
    :math:`S_i = \sum_k s_ks_k^\top` with :math:`A_is_k \ge 0` and every factor becomes a neuron

    .. math:: u = \sqrt{2\beta}\,s,\qquad v = \beta^{-1}Z^\top D_iXu .

    Rank-one blocks use the top eigenvector (sign fixed), rank-two blocks the two extreme rays of
    the pattern cone within :math:`\operatorname{range}(S_i)` (exact: :math:`\mathcal{DNN}_2 =
    \mathcal{CP}_2`); others are factored through
    :func:`~copos.cones.membership.cp_factorize` of :math:`A_iS_iA_i^\top` and mapped back by
    least squares, :math:`s = A_i^+w`.  If every block factors, the prediction is
    :math:`2MZ = Y - Z` and the objective equals the REL value.

    Parameters
    ----------
    result:
        Output of :func:`solve_rel` (or :func:`solve_copositive_dual`) for ``problem``.
    problem:
        The same training problem.
    tol:
        Relative tolerance for eigenvalues counted as zero, for :math:`A_is \ge -\mathrm{tol}`
        and for the exactness test :math:`|\text{objective} - \text{value}| \le
        \mathrm{tol}\max(1, |\text{value}|)`.

    Returns
    -------
    Recovery
        ``exact=False`` (with a message) when some block could not be factored; the network
        built from the other blocks is still returned.
    """
    tol = check_positive(tol, "tol")
    _check_result(result, problem)
    patterns = result.arrangements
    Z = residual_from_blocks(problem, patterns, result.S)
    scale = max((float(np.linalg.eigvalsh(S_i)[-1]) for S_i in result.S), default=0.0)
    neurons_u: list[FloatArray] = []
    neurons_v: list[FloatArray] = []
    failures: list[str] = []
    for i, S_i in enumerate(result.S):
        factors, problem_text = _factor_block(S_i, cone_rows(problem, patterns, i), tol, scale)
        if problem_text:
            failures.append(f"block {i}: {problem_text}")
            continue
        DX = masked_data(problem, patterns, i)
        for s in factors:
            u = np.sqrt(2.0 * problem.beta) * s
            neurons_u.append(u)
            neurons_v.append(Z.T @ (DX @ u) / problem.beta)
    U = np.array(neurons_u).T if neurons_u else np.zeros((problem.d, 0))
    V = np.array(neurons_v) if neurons_v else np.zeros((0, problem.c))
    if failures and U.shape[1]:
        U, V, sweeps = refit_output_layer(U, V, problem)
        failures.append(f"output layer of the factored neurons refit ({sweeps} sweeps)")
    objective = network_objective(problem, U, V)
    return _recovery_verdict(U, V, objective, result.value, tol, failures)


#: :func:`refit_output_layer` stops when a sweep lowers the objective by at most this
#: (relative to :math:`\max(1, F)`) or after ``REFIT_SWEEPS`` sweeps.
REFIT_RTOL = 1e-12
REFIT_SWEEPS = 1000


def refit_output_layer(
    U: FloatArray, V: FloatArray, problem: TrainingProblem
) -> tuple[FloatArray, FloatArray, int]:
    r"""Alternate the optimal output layer for :math:`U` (ridge regression,
    :meth:`~copos.nets.architectures.dense.TwoLayerReLU.with_optimal_output_layer`) and the
    rebalancing :math:`\lVert u_j\rVert = \lVert v_j\rVert`; both steps are exact minimisations
    over a block of variables, so the objective never increases.

    When a block of REL does not factor, the formula :math:`v = \beta^{-1}Z^\top D_iXu` of the
    other blocks assumes neurons that are missing, and the recovered objective can be far above
    the REL value; this repairs it.  Returns the weights and the number of sweeps.
    """
    net = TwoLayerReLU(U=U, V=V)
    objective = net.objective(problem)
    for sweep in range(1, REFIT_SWEEPS + 1):
        candidate = net.with_optimal_output_layer(problem).rebalanced()
        value = candidate.objective(problem)
        if value > objective:
            return np.asarray(net.U), np.asarray(net.V), sweep - 1
        net, decrease, objective = candidate, objective - value, value
        if decrease <= REFIT_RTOL * max(1.0, abs(objective)):
            break
    return np.asarray(net.U), np.asarray(net.V), sweep


#: Deprecated (one release): the old name of :func:`recover_from_rel`.
recover_network = deprecated_alias(recover_from_rel, "recover_network", __name__)


class RelSolution(Protocol):
    """What recovery reads of a REL solution (:class:`copos.relaxations.rel.CopositiveResult`)."""

    value: float
    S: list[FloatArray]
    Z: FloatArray
    arrangements: Arrangements


def _check_result(result: RelSolution, problem: TrainingProblem) -> None:
    if not all(hasattr(result, name) for name in ("value", "S", "Z", "arrangements")):
        raise InvalidInputError(f"result must be a CopositiveResult; got {type(result).__name__}")
    if result.Z.shape != (problem.n, problem.c):
        raise InvalidInputError(
            f"result has Z of shape {result.Z.shape}, but the problem has (n, c) = "
            f"({problem.n}, {problem.c}); pass the problem the result was computed for"
        )
    if result.arrangements.n != problem.n or len(result.S) != len(result.arrangements):
        raise InvalidInputError("result's arrangements do not match the problem")
    if any(S_i.shape != (problem.d, problem.d) for S_i in result.S):
        raise InvalidInputError(f"result's blocks S_i must be (d, d) = ({problem.d}, {problem.d})")


def _factor_block(
    S: FloatArray, A: FloatArray, tol: float, scale: float
) -> tuple[list[FloatArray], str]:
    r"""Vectors :math:`s_k` with :math:`\sum_k s_ks_k^\top = S`, :math:`As_k \ge 0`; or a reason."""
    eigenvalues, vectors = np.linalg.eigh(S)
    kept = eigenvalues > tol * max(scale, np.finfo(float).tiny)
    rank = int(np.sum(kept))
    if rank == 0:
        return [], ""
    if rank == 1:
        s = np.sqrt(eigenvalues[-1]) * vectors[:, -1]
        s = s if np.sum(A @ s) >= 0 else -s
        return _checked_factors([s], A, tol)
    if rank == 2:
        factors, reason = _factor_rank_two(eigenvalues[kept], vectors[:, kept], A, tol)
        if reason:
            return [], reason
        if factors is not None:
            return _checked_factors(factors, A, tol)
    factorization = cp_factorize(np.maximum(A @ S @ A.T, 0.0), rank=rank * (rank + 1) // 2, tol=tol)
    if factorization.status != "factored" or factorization.B is None:
        return [], f"rank {rank}, A S A^T not factored ({factorization.message})"
    pseudo_inverse = np.linalg.pinv(A)
    return _checked_factors([pseudo_inverse @ w for w in factorization.B.T], A, tol)


#: Negative entries of the 2 x 2 generator Gram matrix up to this fraction of its largest entry
#: are solver error and clipped: ``G`` is computed through the inverse of the cone's rays, which
#: amplifies the solve's error (a block 1e-9 accurate gave -1.8e-5 against entries of 8.8 on
#: planted(n=12, d=2, c=3, beta=0.1)).  Clipping cannot make a recovery look better than it is:
#: the network's objective is recomputed in numpy and "exact" requires it to match the value.
GRAM_CLIP_TOL = 1e-4


def _factor_rank_two(
    eigenvalues: FloatArray, basis: FloatArray, A: FloatArray, tol: float
) -> tuple[list[FloatArray] | None, str]:
    r"""Factor :math:`S = B\operatorname{diag}(\lambda)B^\top` (rank 2) in generator coordinates.

    In the plane :math:`\operatorname{range}(S)` the cone :math:`\{c : ABc \ge 0\}` is spanned by
    two rays :math:`R = [\rho_1, \rho_2]`; :math:`G = R^{-1}\operatorname{diag}(\lambda)R^{-\top}`
    is doubly nonnegative (2 x 2) exactly when :math:`ASA^\top \ge 0`, and
    :math:`\mathcal{DNN}_2 = \mathcal{CP}_2` gives the factors (small negative entries of ``G``,
    from solver error, are clipped; larger ones mean :math:`S` is outside the cone and are
    reported).  Factors ``None`` (and no reason) if the planar cone is not pointed with two rays.
    """
    rays = _planar_cone_rays(A @ basis, tol)
    if rays is None:
        return None, ""
    generators = np.linalg.solve(rays, np.diag(np.sqrt(eigenvalues)))
    G = generators @ generators.T
    if min(G[0, 1], G[0, 0], G[1, 1]) < -GRAM_CLIP_TOL * max(1.0, float(np.max(np.abs(G)))):
        return None, f"rank 2 block outside the pattern cone (generator Gram {G.ravel().round(6)})"
    a, b, c = max(G[0, 0], 0.0), max(G[0, 1], 0.0), max(G[1, 1], 0.0)
    if a > 0:
        columns = [
            np.array([np.sqrt(a), b / np.sqrt(a)]),
            np.array([0.0, np.sqrt(max(c - b * b / a, 0.0))]),
        ]
    else:
        columns = [np.array([0.0, np.sqrt(c)])]
    return [basis @ (rays @ column) for column in columns if np.any(column > 0)], ""


def _planar_cone_rays(H: FloatArray, tol: float) -> FloatArray | None:
    r"""The two extreme rays (columns, unit) of :math:`\{c \in \mathbb R^2 : Hc \ge 0\}`, or None."""
    slack = tol * max(1.0, float(np.max(np.abs(H))))
    candidates = [
        sign * np.array([-h[1], h[0]]) / np.linalg.norm(h)
        for h in H
        if np.linalg.norm(h) > slack
        for sign in (1.0, -1.0)
    ]
    feasible = [ray for ray in candidates if float(np.min(H @ ray)) >= -slack]
    if len(feasible) < 2:
        return None
    pairs = itertools.combinations(feasible, 2)
    first, second = min(pairs, key=lambda pair: float(pair[0] @ pair[1]))
    if float(first @ second) <= -1.0 + 1e-9:  # a half-plane: not pointed
        return None
    return np.column_stack([first, second])


def _checked_factors(
    factors: list[FloatArray], A: FloatArray, tol: float
) -> tuple[list[FloatArray], str]:
    """The factors if every ``A s >= -tol * max(1, |A s|_inf)``, else an explanation."""
    for s in factors:
        image = A @ s
        if image.min() < -tol * max(1.0, float(np.max(np.abs(image)))):
            return [], f"factor leaves the pattern cone (min A s = {image.min():.3g})"
    return factors, ""


def _recovery_verdict(
    U: FloatArray, V: FloatArray, objective: float, value: float, tol: float, failures: list[str]
) -> Recovery:
    gap = objective - value
    close = abs(gap) <= tol * max(1.0, abs(value))
    if failures:
        message = "not all blocks factored: " + "; ".join(failures)
    elif close:
        message = f"every block factored; objective matches the value (gap {gap:.2e})"
    else:
        message = f"every block factored, but objective - value = {gap:.3g} exceeds tolerance"
    return Recovery(U=U, V=V, objective=objective, exact=close and not failures, message=message)
