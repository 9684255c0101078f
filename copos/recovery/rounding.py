r"""Rounding a lifted matrix :math:`\hat\Lambda` to a two-layer ReLU network (Prakhya et al. §4.1).

**Lifting.** A network with neurons :math:`(u_j, v_j)` on data :math:`X \in \mathbb R^{n\times d}`
is encoded by the atoms

.. math::

    \lambda_j = \big((Xu_j)_+,\ (-Xu_j)_+,\ u_j,\ v_j\big) \in \mathbb R^p, \qquad p = 2n + d + c,
    \qquad \Lambda = \textstyle\sum_j \lambda_j\lambda_j^\top \in \mathbb S^p,

with blocks in the order :math:`(a, b, u, v)`. Every such :math:`\Lambda` satisfies
:math:`M\Lambda = 0` for :math:`M = [-I_n,\ I_n,\ X,\ 0_{n\times c}]`,
:math:`\mathrm{diag}(\Lambda_{ab}) = 0`, and its :math:`(a, v)` block is the prediction
:math:`(XU)_+V` (see :func:`lifted_from_network`).

**Rounding.** Given :math:`\hat\Lambda` (typically the solution of the SDP relaxation), look for a
factor :math:`W \in \mathbb R^{p\times R}` whose columns are genuine neurons:

.. math::

    \min_W\ \varphi(W) = \tfrac12\lVert WW^\top - \hat\Lambda\rVert_F^2
    \quad\text{s.t.}\quad W \in D_1 \cap D_2,

with :math:`D_1 = \{W : MW = 0\}` and :math:`D_2` the per-column complementarity set
(:math:`a, b \ge 0`, :math:`a_i b_i = 0`). Three-operator splitting (Davis–Yin), from
:math:`Z^0` = the top-:math:`R` eigenfactor of :math:`\hat\Lambda` (zero-padded):

.. math::

    W^k = \Pi_{D_1}(Z^k),\qquad
    \hat W^k = \Pi_{D_2}\big(2W^k - Z^k - \eta\,\nabla\varphi(W^k)\big),\qquad
    Z^{k+1} = Z^k - W^k + \hat W^k,

with :math:`\nabla\varphi(W) = 2(WW^\top - \hat\Lambda)W`. The network is read from the
:math:`D_1` iterate, :math:`U = P_uW^k`, :math:`V = (P_vW^k)^\top`; the iterate with the lowest
training objective is kept and then polished by full-batch descent
(:func:`copos.nets.training.train` warm-started from it).

The iteration is a heuristic for a non-convex problem: it has no guarantee and **can diverge**
(reference §5.7). Whatever happens, the result is a real network, so its objective is an
**upper bound** on the optimal training objective.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos._validation import as_symmetric_matrix, check_dimension, check_positive
from copos.bound import Bound
from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU, _check_compatible
from copos.nets.problem import TrainingProblem
from copos.nets.training import DEFAULT_LR, OPTIMIZERS, Optimizer, TrainingRun, train

FloatArray = NDArray[np.float64]
Status = Literal["converged", "max_iterations", "diverged"]

#: Default number of columns ``R`` of the factor (the authors' width), capped at ``p``.
DEFAULT_WIDTH = 300
#: Default step factor: ``step = STEP_FACTOR / ||Λ̂||_F`` (the authors' setting).
STEP_FACTOR = 0.75
#: The iteration counts as diverged once ``φ(W^k) > DIVERGENCE_FACTOR · φ(0)``, where
#: ``φ(0) = ½||Λ̂||_F²`` (or when ``φ`` or the objective stops being finite).
DIVERGENCE_FACTOR = 1e6
#: Default Adam step for polishing: smaller than the training default (0.05) because the
#: polishing starts near a good point and should not jump away from it.
DEFAULT_POLISH_LR = 1e-3


# ---------------------------------------------------------------------------- lifting
def lifted_factor(net: TwoLayerReLU, problem: TrainingProblem) -> FloatArray:
    r"""The atoms of ``net`` as columns: :math:`L = [\lambda_1, \dots, \lambda_m] \in
    \mathbb R^{p\times m}`.

    .. math::

        \lambda_j = \begin{bmatrix}(Xu_j)_+\\ (-Xu_j)_+\\ u_j\\ v_j\end{bmatrix},
        \qquad p = 2n + d + c .

    Parameters
    ----------
    net:
        Network with ``U`` (d×m) and ``V`` (m×c) matching ``problem``.
    problem:
        Supplies ``X`` (n×d).

    Returns
    -------
    numpy.ndarray
        ``L`` of shape ``(p, m)`` with :math:`LL^\top = \Lambda` (:func:`lifted_from_network`).
    """
    if not isinstance(net, TwoLayerReLU):
        raise InvalidInputError(f"net must be a TwoLayerReLU; got {type(net).__name__}")
    _check_compatible(net.U, net.V, problem)
    H = problem.X @ net.U
    return np.vstack([np.maximum(H, 0.0), np.maximum(-H, 0.0), net.U, net.V.T])


def lifted_from_network(net: TwoLayerReLU, problem: TrainingProblem) -> FloatArray:
    r"""The lifted matrix :math:`\Lambda = \sum_j \lambda_j\lambda_j^\top \in \mathbb S^p` of a
    network.

    With :math:`\lambda_j = ((Xu_j)_+, (-Xu_j)_+, u_j, v_j)` (block order :math:`(a, b, u, v)`,
    :math:`p = 2n + d + c`), :math:`\Lambda` is PSD and satisfies :math:`M\Lambda = 0` for
    :math:`M = [-I_n, I_n, X, 0]`, :math:`\mathrm{diag}(\Lambda_{ab}) = 0` and
    :math:`\Lambda_{ab\text{-block}} \ge 0`; its :math:`(a, v)` block is the prediction
    :math:`(XU)_+V` and :math:`\mathrm{tr}\Lambda_{uu} + \mathrm{tr}\Lambda_{vv} =
    \lVert U\rVert_F^2 + \lVert V\rVert_F^2`, so the lifted objective
    :math:`\tfrac12\lVert\Lambda_{av} - Y\rVert_F^2 + \tfrac\beta2(\mathrm{tr}\Lambda_{uu} +
    \mathrm{tr}\Lambda_{vv})` equals ``net.objective(problem)``.

    Parameters
    ----------
    net:
        Network with the problem's ``d`` and ``c``.
    problem:
        Supplies ``X``.

    Returns
    -------
    numpy.ndarray
        Symmetric matrix of shape ``(p, p)``.
    """
    L = lifted_factor(net, problem)
    Lambda = L @ L.T
    return (Lambda + Lambda.T) / 2


def kernel_basis(problem: TrainingProblem) -> FloatArray:
    r"""Orthonormal basis :math:`N \in \mathbb R^{p\times q}` of :math:`\ker M`, :math:`q = n+d+c`.

    :math:`\ker M = \{(a,\ a - Xu,\ u,\ v)\}` is the range of

    .. math::

        T = \begin{bmatrix}I_n&0&0\\ I_n&-X&0\\ 0&I_d&0\\ 0&0&I_c\end{bmatrix},

    which has full column rank; :math:`N` is the Q factor of :math:`T`, so
    :math:`\Pi_{D_1}(W) = NN^\top W`.  Computed once per data (``problem.cached``), read-only.
    """
    return problem.cached("lifted kernel basis", lambda: _kernel_basis(problem))


def _kernel_basis(problem: TrainingProblem) -> FloatArray:
    n, d, c = problem.n, problem.d, problem.c
    q = n + d + c
    T = np.zeros((2 * n + d + c, q))
    T[:n, :n] = np.eye(n)
    T[n : 2 * n, :n] = np.eye(n)
    T[n : 2 * n, n : n + d] = -problem.X
    T[2 * n :, n:] = np.eye(d + c)
    N, _ = np.linalg.qr(T)
    N.setflags(write=False)
    return N


# ---------------------------------------------------------------------------- operators
def project_d1(W: FloatArray, N: FloatArray) -> FloatArray:
    r"""Projection onto :math:`D_1 = \{W : MW = 0\}`: :math:`\Pi_{D_1}(W) = N(N^\top W)`."""
    return N @ (N.T @ W)


def project_d2(W: FloatArray, n: int) -> FloatArray:
    r"""Projection onto the complementarity set :math:`D_2`, column by column.

    For each pair :math:`(x, y) = (W_{a_i}, W_{b_i})`: :math:`(\max(x, 0), 0)` if
    :math:`x \ge y`, else :math:`(0, \max(y, 0))`. The :math:`u, v` rows are unchanged.
    """
    a, b = W[:n], W[n : 2 * n]
    keep_a = a >= b
    out = W.copy()
    out[:n] = np.where(keep_a, np.maximum(a, 0.0), 0.0)
    out[n : 2 * n] = np.where(keep_a, 0.0, np.maximum(b, 0.0))
    return out


def factor_misfit(W: FloatArray, Lambda_hat: FloatArray) -> tuple[float, FloatArray]:
    r""":math:`\varphi(W) = \tfrac12\lVert WW^\top - \hat\Lambda\rVert_F^2` and
    :math:`\nabla\varphi(W) = 2(WW^\top - \hat\Lambda)W`."""
    E = W @ W.T - Lambda_hat
    return 0.5 * float(np.vdot(E, E)), 2.0 * (E @ W)


def eigen_start(Lambda_hat: FloatArray, width: int) -> FloatArray:
    r"""Top-:math:`R` eigenfactor :math:`Z^0 = Q_R\,\mathrm{diag}(\sqrt{(s_R)_+})` of
    :math:`\hat\Lambda`, zero-padded to ``width`` columns when ``width > p``."""
    s, Q = np.linalg.eigh(Lambda_hat)
    order = np.argsort(s)[::-1][: min(width, s.size)]
    Z0 = np.zeros((Lambda_hat.shape[0], width))
    Z0[:, : order.size] = Q[:, order] * np.sqrt(np.maximum(s[order], 0.0))
    return Z0


# ---------------------------------------------------------------------------- networks
def _weights_from_factor(W: FloatArray, problem: TrainingProblem) -> tuple[FloatArray, FloatArray]:
    r""":math:`U = P_uW` (d×R) and :math:`V = (P_vW)^\top` (R×c)."""
    start = 2 * problem.n
    return W[start : start + problem.d], W[start + problem.d :].T


def _clean_objective(U: FloatArray, V: FloatArray, problem: TrainingProblem) -> float:
    r"""Objective of ``TwoLayerReLU(U, V).rebalanced().pruned(0, X)`` without building it:
    :math:`\tfrac12\lVert (XU)_+V - Y\rVert_F^2 + \beta\sum_{j\ \mathrm{active}}
    \lVert u_j\rVert\lVert v_j\rVert` (a neuron is active when it fires on some row of ``X``)."""
    A = np.maximum(problem.X @ U, 0.0)
    R = A @ V - problem.Y
    active = np.max(A, axis=0, initial=0.0) > 0
    path = np.linalg.norm(U, axis=0) * np.linalg.norm(V, axis=1)
    return 0.5 * float(np.vdot(R, R)) + problem.beta * float(np.sum(path[active]))


def network_from_factor(W: FloatArray, problem: TrainingProblem) -> TwoLayerReLU:
    r"""The network read from a factor, rebalanced and stripped of dead neurons.

    :math:`U = P_uW`, :math:`V = (P_vW)^\top`; then every neuron is rescaled to
    :math:`\lVert u_j\rVert = \lVert v_j\rVert` (:meth:`TwoLayerReLU.rebalanced`) and neurons
    that never fire on ``X`` or have :math:`u_j = 0` or :math:`v_j = 0` are dropped
    (:meth:`TwoLayerReLU.pruned`). Neither step changes the predictions on ``X``; both can only
    lower the objective. The width is at most the number of columns of ``W`` (possibly 0).
    """
    U, V = _weights_from_factor(W, problem)
    return TwoLayerReLU(U=U, V=V).rebalanced().pruned(0.0, X=problem.X)


# ---------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class RoundingHistory:
    r"""Per-iteration diagnostics of the splitting iteration (one entry per iterate :math:`W^k`).

    Attributes
    ----------
    phi:
        :math:`\varphi(W^k) = \tfrac12\lVert W^kW^{k\top} - \hat\Lambda\rVert_F^2`.
    objective:
        Training objective of the (rebalanced, pruned) network read from :math:`W^k`.
    d1_error:
        :math:`\lVert\Pi_{D_1}\hat W^k - \hat W^k\rVert_F`, how far the :math:`D_2` iterate is
        from :math:`D_1` (:math:`W^k` itself lies in :math:`D_1`).
    d2_error:
        :math:`\lVert\Pi_{D_2}W^k - W^k\rVert_F`, how far the :math:`D_1` iterate is from
        :math:`D_2`.
    residual:
        :math:`\lVert\hat W^k - W^k\rVert_F = \lVert Z^{k+1} - Z^k\rVert_F`, the fixed-point
        residual (0 at a fixed point).
    """

    phi: FloatArray
    objective: FloatArray
    d1_error: FloatArray
    d2_error: FloatArray
    residual: FloatArray


@dataclass(frozen=True, eq=False)
class RoundingResult:
    """Result of :func:`round_lifted`.

    Attributes
    ----------
    rounded:
        Best network of the splitting iteration (by training objective), rebalanced and pruned.
    rounded_objective:
        Its training objective.
    polished:
        ``rounded`` after warm-started descent (``rounded`` itself if polishing was skipped).
    polished_objective:
        Its training objective; never above ``rounded_objective``.
    bound_kind:
        Always ``"upper"``: both objectives belong to real networks, so they bound the optimal
        training objective from above.
    iterations:
        Number of iterates :math:`W^k` evaluated (the length of the history).
    best_iteration:
        Index ``k`` of the iterate that gave ``rounded``.
    status:
        ``"converged"`` (fixed-point residual below ``tol``), ``"max_iterations"`` or
        ``"diverged"`` (``φ`` exploded or became non-finite; the best iterate before that is
        kept).
    history:
        Per-iteration diagnostics.
    width, step:
        Number of columns ``R`` of the factor and step ``η`` used.
    baseline:
        The objective to beat (e.g. the best plain SGD run), if given.
    improved_over_baseline:
        ``polished_objective < baseline``, or ``None`` without a baseline.
    message:
        Human-readable account of what happened (divergence, failure to beat the baseline, ...).
    polish_run:
        The :class:`~copos.nets.training.TrainingRun` of the polishing, or ``None``.
    """

    rounded: TwoLayerReLU
    rounded_objective: float
    polished: TwoLayerReLU
    polished_objective: float
    bound_kind: str
    iterations: int
    best_iteration: int
    status: Status
    history: RoundingHistory
    width: int
    step: float
    baseline: float | None
    improved_over_baseline: bool | None
    message: str
    polish_run: TrainingRun | None = None

    @property
    def net(self) -> TwoLayerReLU:
        """The best network found (``polished``)."""
        return self.polished

    @property
    def objective(self) -> float:
        """Objective of :attr:`net` (an upper bound on the optimal training objective)."""
        return self.polished_objective

    @property
    def bound(self) -> Bound:
        """:attr:`objective` as a rigorous upper :class:`~copos.bound.Bound` on p* (a real network)."""
        return Bound.of_network(
            self.polished_objective,
            status_text=f"TOS {self.status}",
            note=self.message,
        )

    def summary(self) -> str:
        """One line: status, iterations and both objectives."""
        return (
            f"TOS rounding ({self.status}, {self.iterations} iterations, R={self.width}): "
            f"rounded {self.rounded_objective:.6g} (width {self.rounded.m}), "
            f"polished {self.polished_objective:.6g} (width {self.polished.m}). {self.message}"
        ).strip()


# ---------------------------------------------------------------------------- validation
def _check_lifted(Lambda_hat: ArrayLike, problem: TrainingProblem) -> FloatArray:
    """A finite symmetric ``p×p`` matrix with ``p = 2n + d + c``."""
    if not isinstance(problem, TrainingProblem):
        raise InvalidInputError(f"problem must be a TrainingProblem; got {type(problem).__name__}")
    p = 2 * problem.n + problem.d + problem.c
    matrix = as_symmetric_matrix(Lambda_hat, "Lambda_hat")
    if matrix.shape != (p, p):
        raise InvalidInputError(
            f"Lambda_hat must have shape (p, p) with p = 2n + d + c = {p} for this problem "
            f"(n={problem.n}, d={problem.d}, c={problem.c}); got {matrix.shape}"
        )
    return matrix


def _check_baseline(baseline: Any) -> float | None:
    """``None`` or a finite real number."""
    if baseline is None:
        return None
    if isinstance(baseline, bool) or not isinstance(baseline, numbers.Real):
        raise InvalidInputError(f"baseline must be a number or None; got {baseline!r}")
    if not math.isfinite(baseline):
        raise InvalidInputError(f"baseline must be finite; got {baseline!r}")
    return float(baseline)


def _default_step(Lambda_hat: FloatArray) -> float:
    r""":math:`\eta = 0.75/\lVert\hat\Lambda\rVert_F` (``0.75`` when :math:`\hat\Lambda = 0`)."""
    norm = float(np.linalg.norm(Lambda_hat))
    return STEP_FACTOR / norm if norm > 0 else STEP_FACTOR


# ---------------------------------------------------------------------------- splitting
@dataclass(frozen=True, eq=False)
class _SplittingOutcome:
    """What the splitting loop produced."""

    best_factor: FloatArray
    best_iteration: int
    status: Status
    history: RoundingHistory


def _split(
    Lambda_hat: FloatArray,
    problem: TrainingProblem,
    Z0: FloatArray,
    step: float,
    iterations: int,
    tol: float,
) -> _SplittingOutcome:
    r"""Run the Davis–Yin iteration from ``Z0``; keep the :math:`D_1` iterate with the lowest
    training objective; stop on a fixed point, after ``iterations`` iterates, or on divergence."""
    N = kernel_basis(problem)
    n = problem.n
    limit = DIVERGENCE_FACTOR * max(0.5 * float(np.vdot(Lambda_hat, Lambda_hat)), 1e-300)
    records: dict[str, list[float]] = {
        key: [] for key in ("phi", "objective", "d1_error", "d2_error", "residual")
    }
    Z = Z0.copy()
    best_value, best_iteration, best_factor = math.inf, 0, project_d1(Z0, N)
    status: Status = "max_iterations"
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(iterations):
            W = project_d1(Z, N)
            phi, grad = factor_misfit(W, Lambda_hat)
            value = _clean_objective(*_weights_from_factor(W, problem), problem)
            if not (math.isfinite(phi) and phi <= limit and math.isfinite(value)):
                status = "diverged"
                break
            if value < best_value:
                best_value, best_iteration, best_factor = value, k, W
            W_hat = project_d2(2.0 * W - Z - step * grad, n)
            difference = W_hat - W
            residual = float(np.linalg.norm(difference))
            records["phi"].append(phi)
            records["objective"].append(value)
            records["d1_error"].append(float(np.linalg.norm(project_d1(W_hat, N) - W_hat)))
            records["d2_error"].append(float(np.linalg.norm(project_d2(W, n) - W)))
            records["residual"].append(residual)
            Z = Z + difference
            if residual <= tol * max(1.0, float(np.linalg.norm(W))):
                status = "converged"
                break
    history = RoundingHistory(
        **{key: np.asarray(vals, dtype=np.float64) for key, vals in records.items()}
    )
    return _SplittingOutcome(best_factor, best_iteration, status, history)


def _polish(
    problem: TrainingProblem,
    net: TwoLayerReLU,
    epochs: int,
    optimizer: Optimizer,
    lr: float | None,
    seed: int,
) -> TrainingRun | None:
    """Warm-started descent from ``net`` (``None`` if ``epochs == 0`` or ``net`` is empty)."""
    if epochs == 0 or net.m == 0:
        return None
    if lr is None:
        lr = DEFAULT_POLISH_LR if optimizer == "adam" else DEFAULT_LR["gd"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # reported through the run's flag
        return train(problem, net.m, optimizer=optimizer, lr=lr, epochs=epochs, seed=seed, init=net)


def _compose_message(
    status: Status,
    iterations: int,
    polish_run: TrainingRun | None,
    rounded: TwoLayerReLU,
    objective: float,
    baseline: float | None,
) -> tuple[bool | None, str]:
    """Whether the baseline was beaten, and a message listing everything worth knowing."""
    notes: list[str] = []
    if status == "diverged":
        notes.append(
            f"The splitting iteration diverged after {iterations} iterate(s) (phi exploded or "
            "became non-finite); the best iterate before that was kept. Try a smaller step."
        )
    if rounded.m == 0:
        notes.append("The rounded network has no live neuron (it is the zero function).")
    if polish_run is not None and polish_run.diverged:
        notes.append("Polishing diverged; its best iterate was kept. Lower polish_lr.")
    improved: bool | None = None
    if baseline is not None:
        improved = objective < baseline
        if not improved:
            notes.append(
                f"Rounding did not improve on the baseline: objective {objective:.6g} after "
                f"polishing >= baseline {baseline:.6g}."
            )
    return improved, " ".join(notes)


def round_lifted(
    Lambda_hat: ArrayLike,
    problem: TrainingProblem,
    *,
    width: int | None = None,
    step: float | None = None,
    iterations: int = 1000,
    polish_epochs: int = 2000,
    seed: int = 0,
    baseline: float | None = None,
    tol: float = 1e-10,
    polish_optimizer: Optimizer = "adam",
    polish_lr: float | None = None,
) -> RoundingResult:
    r"""Round a lifted matrix :math:`\hat\Lambda` to a network by three-operator splitting, then
    polish it by gradient descent.

    Solves (heuristically)
    :math:`\min_{W\in D_1\cap D_2}\varphi(W) = \tfrac12\lVert WW^\top - \hat\Lambda\rVert_F^2`
    over :math:`W \in \mathbb R^{p\times R}` with the Davis–Yin iteration

    .. math::

        W^k = NN^\top Z^k,\qquad
        \hat W^k = \Pi_{D_2}\big(2W^k - Z^k - 2\eta(W^kW^{k\top} - \hat\Lambda)W^k\big),\qquad
        Z^{k+1} = Z^k - W^k + \hat W^k,

    where :math:`N` is an orthonormal basis of :math:`\ker M` (:func:`kernel_basis`),
    :math:`\Pi_{D_2}` is :func:`project_d2` and :math:`Z^0` is the top-:math:`R` eigenfactor of
    :math:`\hat\Lambda` (:func:`eigen_start`). Each :math:`W^k` gives a network
    (:func:`network_from_factor`); the one with the lowest **training** objective is kept
    (no test data is used). The iteration stops at a fixed point
    (:math:`\lVert\hat W^k - W^k\rVert_F \le \mathrm{tol}\cdot\max(1, \lVert W^k\rVert_F)`),
    after ``iterations`` iterates, or when :math:`\varphi` becomes non-finite or exceeds
    ``DIVERGENCE_FACTOR`` :math:`\cdot\,\tfrac12\lVert\hat\Lambda\rVert_F^2`. The kept network is
    then polished by :func:`copos.nets.training.train` with ``init`` set to it.

    Parameters
    ----------
    Lambda_hat:
        Symmetric ``p×p`` matrix, ``p = 2n + d + c``, blocks ordered ``(a, b, u, v)`` (e.g. the
        SDP solution). It need not be exactly PSD or feasible; negative eigenvalues are
        ignored in the start.
    problem:
        The training problem that defines ``X``, ``Y`` and ``beta``.
    width:
        Number of columns ``R >= 1`` of the factor (the maximal width of the rounded network);
        default ``min(300, p)``. Columns beyond ``p`` start at zero and stay zero.
    step:
        Step ``η > 0``; default :math:`0.75/\lVert\hat\Lambda\rVert_F` (the authors').
    iterations:
        Maximal number of iterates ``>= 1``.
    polish_epochs:
        Epochs of warm-started descent ``>= 0`` (0 skips polishing).
    seed:
        Seed passed to the polishing run (unused by the warm start itself; kept for
        reproducibility of future stochastic variants).
    baseline:
        Objective to beat, e.g. the best plain SGD/Adam objective; sets
        ``improved_over_baseline`` and adds a message when it is not beaten.
    tol:
        Relative fixed-point tolerance ``> 0``.
    polish_optimizer, polish_lr:
        Optimizer (``"adam"`` or ``"gd"``) and step of the polishing; default step
        ``DEFAULT_POLISH_LR`` for Adam, ``DEFAULT_LR["gd"]`` for GD.

    Returns
    -------
    RoundingResult
        Rounded and polished networks with their objectives (upper bounds), status,
        diagnostics and the comparison with ``baseline``.

    Raises
    ------
    InvalidInputError
        ``Lambda_hat`` is not a finite symmetric ``p×p`` matrix, or an option is invalid.

    Warns
    -----
    RuntimeWarning
        The splitting iteration diverged (the result is still a valid network).
    """
    Lambda = _check_lifted(Lambda_hat, problem)
    p = Lambda.shape[0]
    R = min(DEFAULT_WIDTH, p) if width is None else check_dimension(width, "width")
    eta = _default_step(Lambda) if step is None else check_positive(step, "step")
    iterations = check_dimension(iterations, "iterations")
    polish_epochs = check_dimension(polish_epochs, "polish_epochs", minimum=0)
    seed = check_dimension(seed, "seed", minimum=0)
    tol = check_positive(tol, "tol")
    if polish_optimizer not in OPTIMIZERS:
        raise InvalidInputError(
            f"polish_optimizer must be one of {', '.join(OPTIMIZERS)}; got {polish_optimizer!r}"
        )
    if polish_lr is not None:
        polish_lr = check_positive(polish_lr, "polish_lr")
    baseline_value = _check_baseline(baseline)

    outcome = _split(Lambda, problem, eigen_start(Lambda, R), eta, iterations, tol)
    rounded = network_from_factor(outcome.best_factor, problem)
    rounded_objective = rounded.objective(problem)
    polish_run = _polish(problem, rounded, polish_epochs, polish_optimizer, polish_lr, seed)
    if polish_run is not None and polish_run.best_objective < rounded_objective:
        polished, polished_objective = polish_run.net, polish_run.best_objective
    else:
        polished, polished_objective = rounded, rounded_objective
    iterations_run = int(outcome.history.phi.size)
    improved, message = _compose_message(
        outcome.status, iterations_run, polish_run, rounded, polished_objective, baseline_value
    )
    if outcome.status == "diverged":
        warnings.warn(message.split(". ")[0] + ".", RuntimeWarning, stacklevel=2)
    return RoundingResult(
        rounded=rounded,
        rounded_objective=rounded_objective,
        polished=polished,
        polished_objective=polished_objective,
        bound_kind="upper",
        iterations=iterations_run,
        best_iteration=outcome.best_iteration,
        status=outcome.status,
        history=outcome.history,
        width=R,
        step=eta,
        baseline=baseline_value,
        improved_over_baseline=improved,
        message=message,
        polish_run=polish_run,
    )
