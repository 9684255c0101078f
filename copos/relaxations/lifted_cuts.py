r"""Valid inequalities for the lifted CP program, separated and added to its DNN relaxation in rounds.

Every cut of this module is a product of two linear forms that are nonnegative on the lifted
atom of every neuron.  With :math:`W = \Lambda_{\{a,b\},\{a,b\}}` (the :math:`2n\times2n`
sign-constrained block; :mod:`copos.relaxations.lifted` for the layout) and forms
:math:`g, h \in \mathbb R^{2n}` with :math:`g^\top(a, b) \ge 0` and :math:`h^\top(a, b) \ge 0`
whenever :math:`a = (Xu)_+,\ b = (-Xu)_+`,

.. math::

    g^\top W h \;\ge\; 0 \qquad\text{for every } \Lambda \in \mathcal{CP}(\mathcal K)
    \text{ feasible for the lifted program,}

because such a :math:`\Lambda` is :math:`\sum_j\lambda_j\lambda_j^\top` with atoms
:math:`\lambda_j = ((Xu_j)_+, (-Xu_j)_+, u_j, v_j)` (prakhya2024.md §2.5), and
:math:`g^\top W h = \sum_j (g^\top(a_j, b_j))(h^\top(a_j, b_j))` is a sum of products of two
nonnegative numbers.  A cut is homogeneous, so the lifted program stays a cone program and
:math:`\Lambda = 0` stays feasible.  Families (derivations in ``docs/tightness.md``):

* ``rlt`` (:func:`rlt_cuts`): :math:`g, h` among the ReLU constraints :math:`\alpha_i \ge 0`,
  :math:`\alpha_i - x_i^\top u \ge 0` (which is :math:`b_i` on :math:`\ker M`): the cuts are the
  entries :math:`W_{jk} \ge 0`, already in the DNN (and :math:`\alpha\circ(\alpha - Xu) = 0`
  times a coordinate is cubic).  The family can only re-impose what a solver left violated.
* ``subadditive`` (:func:`subadditive_cuts`): the ReLU is sublinear, so whenever
  :math:`x_k = \sum_{i\in B}\mu_ix_i`, :math:`(x_k^\top u)_+ \le \sum_i(\mu_ix_i^\top u)_+`, i.e.
  :math:`s(a, b) = \sum_i(\mu_i^+a_i + \mu_i^-b_i) - a_k \ge 0`; times a coordinate
  :math:`a_l` or :math:`b_l`: :math:`s^\top We_l \ge 0`.
* ``pairs`` (:func:`pair_cuts`): the product of two subadditive forms, :math:`s^\top W s' \ge 0`.

:func:`solve_lifted_cuts` solves the reduced DNN relaxation with the cuts appended through
CVXPY (Clarabel by default; copos's own splitting :mod:`copos.solvers.admm.dnn` clips the
``ab`` block entrywise and does not take general linear constraints), separates, adds the most
violated cuts and re-solves.  Every round's bound is recomputed after the solve from the dual
point :math:`(Z, N, y)` by :func:`copos.solvers.admm.dnn.certified_lower_bound`, with the cut
multiplier :math:`K = \sum_k y_k\operatorname{sym}(g_kh_k^\top)` (:math:`y \ge 0`): a rigorous
lower bound on :math:`p^\star` whatever the solver did, provided the cuts are valid (the tests
check every family on rank-one points of every activation pattern of small data).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Literal

import cvxpy as cp
import numpy as np
import scipy.sparse
from numpy.typing import NDArray

from copos.bound import Bound
from copos.errors import InvalidInputError, SolverError
from copos.nets.problem import TrainingProblem, require_no_output_bias
from copos.relaxations.lifted import (
    QUANTITY,
    LiftedLayout,
    _primal_objective,
    _reduced_blocks,
    _sign_constraints,
)
from copos.solvers import DEFAULT_SOLVER, SolveInfo, require_solution, solve
from copos.solvers.admm.dnn import (
    AdmmState,
    CorrectedDual,
    certified_lower_bound,
    clip_sign_set,
    solve_lifted_dnn_admm,
)
from copos.solvers.registry import COPOS_ADMM

FloatArray = NDArray[np.float64]
Family = Literal["rlt", "subadditive", "pairs"]

#: The families :func:`solve_lifted_cuts` knows, in the order it separates them.
FAMILIES: tuple[Family, ...] = ("rlt", "subadditive", "pairs")
#: Default families: the ones that cut off DNN solutions (``rlt`` is implied by the DNN).
DEFAULT_FAMILIES: tuple[Family, ...] = ("subadditive", "pairs")
#: A representation :math:`x_k = \sum\mu_ix_i` is kept when its residual is below this times
#: :math:`\max(1, \|x_k\|)`.
SPAN_TOL = 1e-10
#: The cone of the tightened relaxation, in words.
CUTS_CONE = "DNN(R^2n_+ x R^(d+c)) + cuts"


# --------------------------------------------------------------------------------------------
# Cuts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Cuts:
    r"""Cuts :math:`g_k^\top Wh_k \ge 0` on the sign-constrained block :math:`W` (2n×2n).

    Attributes
    ----------
    g, h:
        Forms, shape ``(K, 2n)``: rows nonnegative on every lifted neuron :math:`(a, b)`.
    family:
        Family of each cut, shape ``(K,)``.
    """

    g: FloatArray
    h: FloatArray
    family: NDArray[np.str_]

    @classmethod
    def empty(cls, n: int) -> Cuts:
        """No cut, for ``n`` samples."""
        return cls(np.zeros((0, 2 * n)), np.zeros((0, 2 * n)), np.zeros(0, dtype="<U12"))

    @classmethod
    def of(cls, g: FloatArray, h: FloatArray, family: str) -> Cuts:
        """Cuts of one ``family`` from the rows of ``g`` and ``h``."""
        return cls(np.atleast_2d(g), np.atleast_2d(h), np.full(len(np.atleast_2d(g)), family))

    def __len__(self) -> int:
        return int(self.g.shape[0])

    def values(self, W: FloatArray) -> FloatArray:
        r""":math:`g_k^\top Wh_k` for every cut (``>= 0`` on the lifted CP program)."""
        return np.einsum("kj,jl,kl->k", self.g, W, self.h)

    def select(self, index: NDArray[np.intp]) -> Cuts:
        """The cuts at ``index``."""
        return Cuts(self.g[index], self.h[index], self.family[index])

    def __add__(self, other: Cuts) -> Cuts:
        return Cuts(
            np.vstack([self.g, other.g]),
            np.vstack([self.h, other.h]),
            np.concatenate([self.family, other.family]),
        )

    def multiplier(self, y: FloatArray) -> FloatArray:
        r""":math:`K = \sum_k y_k\operatorname{sym}(g_kh_k^\top)` (2n×2n) for ``y >= 0``."""
        outer = self.g.T @ (np.maximum(y, 0.0)[:, None] * self.h)
        return 0.5 * (outer + outer.T)

    def most_violated(self, W: FloatArray, tol: float, limit: int) -> Cuts:
        r"""At most ``limit`` cuts with :math:`g^\top Wh < -`\ ``tol``, most violated first."""
        values = self.values(W)
        violated = np.flatnonzero(values < -tol)
        order = violated[np.argsort(values[violated])][:limit]
        return self.select(order)


# --------------------------------------------------------------------------------------------
# Families
# --------------------------------------------------------------------------------------------


def _unit(n: int, index: NDArray[np.intp]) -> FloatArray:
    """Rows ``e_index`` of :math:`I_{2n}`."""
    return np.eye(2 * n)[index]


def rlt_cuts(layout: LiftedLayout, W: FloatArray, tol: float = 1e-7, limit: int = 500) -> Cuts:
    r"""RLT products of the ReLU constraints with the nonnegative coordinates.

    .. math::

        \alpha_j\cdot\alpha_k \ge 0,\quad \alpha_j(\alpha_k - x_k^\top u) \ge 0,\quad
        (\alpha_j - x_j^\top u)(\alpha_k - x_k^\top u) \ge 0
        \quad\Longleftrightarrow\quad W_{jk} \ge 0 \ \ (j, k < 2n)

    on :math:`\ker M` (:math:`\alpha - Xu = b`).  Valid: each is the product of two nonnegative
    numbers on every neuron.  Implied by the DNN relaxation (which holds every :math:`W_{jk}`,
    :math:`\{j,k\} \ne \{a_i, b_i\}`, nonnegative); the product of :math:`\alpha\circ(\alpha -
    Xu) = 0` with a coordinate is cubic in the atom, so not a constraint on :math:`\Lambda`.
    Returns the entries of ``W`` below ``-tol``, most negative first.
    """
    n = layout.n
    rows, cols = np.triu_indices(2 * n)
    keep = cols != rows + n  # the complementarity entries are held at 0 already
    rows, cols = rows[keep], cols[keep]
    candidates = Cuts.of(_unit(n, rows), _unit(n, cols), "rlt")
    return candidates.most_violated(W, tol, limit)


def subadditive_forms(layout: LiftedLayout, neighbours: int = 8) -> FloatArray:
    r"""The forms :math:`s = \sum_{i\in B}(\mu_i^+e_{a_i} + \mu_i^-e_{b_i}) - e_{a_k}`, shape (K, 2n).

    For every sample :math:`k` and every set :math:`B` of ``rank(X)`` samples among its
    ``neighbours`` nearest (by angle of :math:`x/\|x\|`) with :math:`x_k = \sum_{i\in B}\mu_ix_i`
    (residual below :data:`SPAN_TOL`; the coefficients carry a margin that covers it, see
    :func:`_subadditive_form`).  On every neuron
    :math:`s^\top(a, b) = \sum_i(\mu_ix_i^\top u)_+ - (x_k^\top u)_+ \ge 0`: the ReLU is
    positively homogeneous and convex, hence subadditive, and :math:`(\mu t)_+ = \mu^+t_+ +
    \mu^-(-t)_+`.  (The same form with the roles of ``a`` and ``b`` swapped is equal to this one on
    :math:`\ker M`.)  A form with a single nonzero (:math:`x_k = 0`) or none is dropped.
    """
    X = layout.X
    n = layout.n
    rank = int(np.linalg.matrix_rank(X)) if n else 0
    if rank == 0:
        return np.zeros((0, 2 * n))
    norms = np.linalg.norm(X, axis=1)
    directions = X / np.maximum(norms, 1e-300)[:, None]
    forms: list[FloatArray] = []
    for k in range(n):
        if norms[k] == 0:
            continue
        similarity = np.abs(directions @ directions[k])
        similarity[k] = -np.inf
        similarity[norms == 0] = -np.inf
        near = np.argsort(-similarity)[: min(neighbours, n - 1)]
        for subset in itertools.combinations(sorted(near), rank):
            form = _subadditive_form(X, k, list(subset), n)
            if form is not None:
                forms.append(form)
    if not forms:
        return np.zeros((0, 2 * n))
    return np.unique(np.asarray(forms), axis=0)


def _subadditive_form(X: FloatArray, k: int, subset: list[int], n: int) -> FloatArray | None:
    r"""The form of :func:`subadditive_forms` for ``x_k`` over ``subset``, or ``None``.

    The stored :math:`\mu` reproduces :math:`x_k` only up to a residual :math:`r = x_k - B\mu`
    (floating point).  With :math:`r = B\nu` (``r`` lies in the span of the samples),
    :math:`(x_k^\top u)_+ \le \sum_i(\mu_ix_i^\top u)_+ + \sum_i|\nu_i|(a_i + b_i)`, and
    :math:`|\nu_i| \le \|r\|/\sigma_{\min}(B)`; that margin, with the rounding of
    :math:`r` itself, is added to the coefficients of the subset, so the stored form is valid.
    """
    basis = X[subset].T
    mu, *_ = np.linalg.lstsq(basis, X[k], rcond=None)
    scale = float(np.linalg.norm(X[k])) + float(np.abs(mu) @ np.linalg.norm(X[subset], axis=1))
    residual = float(np.linalg.norm(basis @ mu - X[k]))
    if residual > SPAN_TOL * max(1.0, float(np.linalg.norm(X[k]))):
        return None
    sigma_min = float(np.linalg.svd(basis, compute_uv=False)[-1])
    if sigma_min <= 0.0:
        return None
    rounding = 4.0 * (len(subset) + 2) * np.finfo(float).eps * scale
    margin = 1.01 * (residual + rounding) / sigma_min
    form = np.zeros(2 * n)
    idx = np.asarray(subset)
    form[idx] += np.maximum(mu, 0.0) + margin
    form[idx + n] += np.maximum(-mu, 0.0) + margin
    form[k] -= 1.0
    return form


def subadditive_cuts(
    layout: LiftedLayout, W: FloatArray, forms: FloatArray, tol: float = 1e-7, limit: int = 500
) -> Cuts:
    r"""Subadditivity of the ReLU times a nonnegative coordinate: :math:`s^\top We_l \ge 0`.

    ``forms`` from :func:`subadditive_forms`; :math:`l` ranges over the ``2n`` coordinates
    :math:`a_l, b_l`.  Valid: :math:`s^\top(a, b) \ge 0` and :math:`e_l^\top(a, b) \ge 0` on every
    neuron.  Returns at most ``limit`` cuts violated by more than ``tol``, most violated first.
    """
    if len(forms) == 0:
        return Cuts.empty(layout.n)
    values = forms @ W  # (K, 2n): s_k^T W e_l
    flat = np.flatnonzero(values.ravel() < -tol)
    order = flat[np.argsort(values.ravel()[flat])][:limit]
    form_index, coordinate = np.unravel_index(order, values.shape)
    return Cuts.of(forms[form_index], _unit(layout.n, coordinate), "subadditive")


def pair_cuts(
    layout: LiftedLayout,
    W: FloatArray,
    forms: FloatArray,
    tol: float = 1e-7,
    limit: int = 500,
    candidates: int = 300,
) -> Cuts:
    r"""Products of two subadditive forms: :math:`s^\top Ws' \ge 0`.

    Valid: both factors are nonnegative on every neuron.  Only pairs among the ``candidates``
    forms most violated by a coordinate product (:func:`subadditive_cuts`' values, minimized over
    :math:`l`) are tried, so the separation costs :math:`O(\text{candidates}^2\,n)`.
    """
    if len(forms) == 0:
        return Cuts.empty(layout.n)
    FW = forms @ W
    worst = np.argsort(FW.min(axis=1))[:candidates]
    chosen = forms[worst]
    values = chosen @ W @ chosen.T
    rows, cols = np.triu_indices(len(chosen), k=1)
    pair_values = values[rows, cols]
    flat = np.flatnonzero(pair_values < -tol)
    order = flat[np.argsort(pair_values[flat])][:limit]
    return Cuts.of(chosen[rows[order]], chosen[cols[order]], "pairs")


# --------------------------------------------------------------------------------------------
# Rounds
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CutRound:
    """One round: cuts in the program, its certified bound, the solver's value, the violation found.

    Attributes
    ----------
    cuts:
        Number of cuts in the program of this round (0 in round 0, the DNN).
    bound:
        Certified lower bound of this round (``-inf`` if the solve failed).
    value:
        Primal objective at the solver's point (not a bound).
    violation:
        Largest violation of a cut of the separated families at that point (after the solve).
    added:
        Cuts added after this round, by family.
    time:
        Seconds of the solve and the separation.
    solve_time:
        Seconds of the solve alone (building the program included).
    iterations:
        Iterations of copos-admm in this round (0 for an interior-point solver).
    """

    cuts: int
    bound: float
    value: float
    violation: float
    added: dict[str, int]
    time: float
    solve_time: float
    iterations: int = 0


@dataclass(frozen=True, eq=False)
class LiftedCutsResult:
    r"""The tightened lifted relaxation: the best certified bound over the rounds.

    Attributes
    ----------
    value:
        Largest certified lower bound over the rounds (a lower bound on :math:`p^\star`).
    dnn_value:
        Certified bound of round 0 (the plain DNN relaxation, same solver).
    rounds:
        Every round.
    cuts:
        The cuts of the last program solved.
    Z:
        The loss dual of the best round.
    corrected:
        The :class:`~copos.solvers.admm.dnn.CorrectedDual` of the best round.
    solve:
        The last round's :class:`SolveInfo`.
    time:
        Wall-clock seconds of every round.
    """

    value: float
    dnn_value: float
    rounds: list[CutRound]
    cuts: Cuts
    Z: FloatArray
    corrected: CorrectedDual
    solve: SolveInfo
    time: float
    families: tuple[str, ...] = field(default=DEFAULT_FAMILIES)

    @property
    def bound(self) -> Bound:
        """``value`` as a rigorous lower :class:`~copos.bound.Bound` on the training optimum."""
        return Bound(
            value=self.value,
            claimed_kind="lower",
            quantity=QUANTITY,
            cone=CUTS_CONE,
            level=0,
            view="cp",
            solve=self.solve,
            time=self.time,
            certificate={"Z": self.Z, "cuts": len(self.cuts), "rounds": len(self.rounds)},
            note=(
                f"certified lower bound of the lifted DNN relaxation with {len(self.cuts)} valid "
                f"cuts ({', '.join(self.families)}), {len(self.rounds)} rounds: dual point "
                "(Z, N, y) checked in numpy after the solve"
            ),
            certified=True,
        )


def solve_lifted_cuts(
    problem: TrainingProblem,
    *,
    families: tuple[str, ...] = DEFAULT_FAMILIES,
    rounds: int = 5,
    per_round: int = 400,
    tol: float = 1e-6,
    neighbours: int = 8,
    solver: str = DEFAULT_SOLVER,
    admm_tol: float = 1e-4,
    inner: int = 3,
    admm_iterations: int = 2000,
    final_solver: str | None = None,
) -> LiftedCutsResult:
    r"""The reduced lifted DNN relaxation tightened by valid cuts, in rounds.

    .. math::

        \min_{S \succeq 0}\ \tfrac12\|S_{av} - Y\|_F^2 + \tfrac\beta2(\operatorname{tr}S_{uu}
        + \operatorname{tr}S_{vv})\ \ \text{s.t.}\ \ W = T_{ab}ST_{ab}^\top \in \mathcal W,\ \
        g_k^\top Wh_k \ge 0\ \ (k \in \mathcal C),

    with :math:`\mathcal C` empty in round 0 (the DNN relaxation).  After each solve the
    ``families`` are separated at :math:`W`; the at most ``per_round`` most violated cuts of each
    (by more than ``tol`` times :math:`\max(1, \max|W|)`) are added and the program is solved
    again, for at most ``rounds`` rounds after round 0, or until no cut is violated.  Every
    round's bound is certified after the solve (module docstring); the result keeps the largest.

    ``solver="copos-admm"``: copos's own splitting (:func:`~copos.solvers.admm.dnn.solve_lifted_dnn_admm`
    to relative accuracy ``admm_tol``), the cuts entering its proximal step through their
    Lagrange multipliers (:class:`CutMultipliers`, ``inner`` dual steps per proximal step), each
    round warm-started from the last round's Douglas-Rachford state and multipliers.  Any other
    ``solver``: CVXPY, each round from scratch (CVXPY has no warm start for Clarabel).
    ``final_solver`` (with ``solver="copos-admm"``): the last round (index ``rounds``) is solved
    by this CVXPY solver instead, once, with the cuts the splitting's rounds separated and left
    at a positive multiplier, and those of the last separation (the splitting selects the cuts,
    the interior-point solve certifies them).

    Raises
    ------
    InvalidInputError
        Unknown family, ``rounds < 0``, ``per_round < 1`` or ``tol <= 0``.
    SolverError
        The solver returned no solution in round 0 (a later failure ends the rounds: the
        result keeps the best bound certified before it).
    """
    require_no_output_bias(problem, "the lifted relaxation with cuts")
    _check_arguments(families, rounds, per_round, tol)
    _check_admm_arguments(admm_tol, inner, admm_iterations)
    start = time.perf_counter()
    layout = LiftedLayout.from_problem(problem)
    forms = (
        subadditive_forms(layout, neighbours) if {"subadditive", "pairs"} & set(families) else None
    )
    cuts = solved = Cuts.empty(layout.n)
    history: list[CutRound] = []
    best: tuple[CorrectedDual, FloatArray] | None = None
    info: SolveInfo | None = None
    admm = _AdmmRounds(layout, admm_tol, inner, admm_iterations) if solver == COPOS_ADMM else None
    for index in range(rounds + 1):
        round_start = time.perf_counter()
        try:
            if admm is None:
                solution = _solve_round(layout, problem, cuts, solver)
            elif final_solver is not None and index == rounds:
                cuts = admm.active(cuts)
                solution = _solve_round(layout, problem, cuts, final_solver)
            else:
                solution = admm(problem, cuts)
        except SolverError:
            if index == 0:
                raise
            break  # keep the bounds certified so far
        solve_time = time.perf_counter() - round_start
        info = solution.info
        if best is None or solution.corrected.value > best[0].value:
            best = (solution.corrected, solution.Z)
        scale = max(1.0, float(np.abs(solution.W).max()))
        found = _separate(layout, solution.W, forms, families, tol * scale, per_round)
        violation = max(0.0, -float(found.values(solution.W).min())) if len(found) else 0.0
        last = index == rounds or len(found) == 0
        added = {} if last else _count(found)
        history.append(
            CutRound(
                len(cuts),
                solution.corrected.value,
                solution.value,
                violation,
                added,
                time.perf_counter() - round_start,
                solve_time,
                solution.iterations,
            )
        )
        solved = cuts
        if last:
            break
        cuts = cuts + found
    assert best is not None and info is not None
    return LiftedCutsResult(
        value=best[0].value,
        dnn_value=history[0].bound,
        rounds=history,
        cuts=solved,
        Z=best[1],
        corrected=best[0],
        solve=info,
        time=time.perf_counter() - start,
        families=tuple(families),
    )


def _count(cuts: Cuts) -> dict[str, int]:
    names, counts = np.unique(cuts.family, return_counts=True)
    return {str(name): int(count) for name, count in zip(names, counts, strict=True)}


def _separate(
    layout: LiftedLayout,
    W: FloatArray,
    forms: FloatArray | None,
    families: tuple[str, ...],
    tol: float,
    limit: int,
) -> Cuts:
    """The most violated cuts of each family at ``W``."""
    found = Cuts.empty(layout.n)
    if "rlt" in families:
        found = found + rlt_cuts(layout, W, tol, limit)
    if forms is not None and "subadditive" in families:
        found = found + subadditive_cuts(layout, W, forms, tol, limit)
    if forms is not None and "pairs" in families:
        found = found + pair_cuts(layout, W, forms, tol, limit)
    return found


@dataclass(frozen=True, eq=False)
class _Solution:
    """A solve of one round: primal ``W`` and value, the loss dual and the certified bound."""

    W: FloatArray
    value: float
    Z: FloatArray
    corrected: CorrectedDual
    info: SolveInfo
    iterations: int = 0


class CutMultipliers:
    r"""Lagrange multipliers :math:`\lambda \ge 0` of cuts, updated inside copos-admm's proximal step.

    The sign block's proximal map of the cut-tightened program is the projection onto
    :math:`\mathcal P = \{x \in \mathcal W : \langle G_k, x\rangle \ge 0\}`,
    :math:`G_k = \operatorname{sym}(g_kh_k^\top)`.  Its dual:
    :math:`\Pi_{\mathcal P}(w) = \Pi_{\mathcal W}(w + \gamma\sum_k\lambda_kG_k)` at the
    maximizer :math:`\lambda \ge 0` of the concave dual function, whose gradient in
    :math:`y = \gamma\lambda` is :math:`-\mathcal G(x)`, :math:`\mathcal G(x) = (\langle G_k,
    x\rangle)_k`.  Each call makes ``inner`` projected gradient steps
    :math:`\lambda \leftarrow (\lambda - D^{-1}\mathcal G(x)/\gamma)_+` (``D`` the row sums of
    :math:`|\mathcal G\mathcal G^*|`, a diagonal majorizer of the dual's Hessian, so that each
    step ascends) from the last :math:`\lambda` (warm: across iterations and rounds) and
    returns :math:`K = \sum_k\lambda_kG_k`, the Lagrangian term
    :math:`-\langle K, \Lambda_{ab}\rangle` of copos-admm's ``sign_cost``.  An inexact
    :math:`\lambda` never makes a bound wrong: the bound is recomputed from :math:`(Z, N, K)`.
    Everything lives in copos-admm's normalized coordinates (forms scaled by ``r2``).
    """

    def __init__(self, n: int, inner: int = 3) -> None:
        self.n = n
        self.inner = inner
        self.cuts = Cuts.empty(n)
        self.lam = np.zeros(0)
        self.steps = 0

    def extend(self, cuts: Cuts) -> None:
        """Append ``cuts`` with multipliers 0 (the existing ones are kept: a warm start)."""
        self.cuts = self.cuts + cuts
        self.lam = np.concatenate([self.lam, np.zeros(len(cuts))])

    def __call__(self, r2: FloatArray) -> _CutProx:
        """The map ``(w, gamma) -> K`` for copos-admm in coordinates with row scales ``r2``."""
        return _CutProx(self, r2)


class _CutProx:
    """The ``sign_cost`` map of :class:`CutMultipliers` in one set of normalized coordinates."""

    def __init__(self, owner: CutMultipliers, r2: FloatArray) -> None:
        self.owner = owner
        self.side = 2 * owner.n
        self.G = _cut_operator(owner.cuts.g * r2, owner.cuts.h * r2)
        self.GT = self.G.T.tocsr()
        self.D = _diagonal_majorizer(self.G)

    def __call__(self, w: FloatArray, gamma: float) -> FloatArray:
        owner = self.owner
        lam = owner.lam
        if len(lam) == 0:
            return np.zeros((self.side, self.side))
        step = 1.0 / (gamma * self.D)
        point, t = lam, 1.0  # FISTA: momentum restarted at every call, lam warm
        for _ in range(owner.inner):
            x = clip_sign_set(w + gamma * self._adjoint(point), owner.n)
            following = np.maximum(point - step * (self.G @ x.ravel()), 0.0)
            t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            point = following + ((t - 1.0) / t_next) * (following - lam)
            lam, t = following, t_next
        owner.lam = lam
        owner.steps += owner.inner
        return self._adjoint(lam)

    def _adjoint(self, lam: FloatArray) -> FloatArray:
        r""":math:`\sum_k\lambda_kG_k` (side × side)."""
        return np.asarray(self.GT @ lam).reshape(self.side, self.side)


def _cut_operator(g: FloatArray, h: FloatArray) -> scipy.sparse.csr_matrix:
    r"""Row ``k`` is :math:`\operatorname{vec}(\operatorname{sym}(g_kh_k^\top))` (sparse, K × (2n)²)."""
    side = g.shape[1]
    rows, cols, data = [], [], []
    for k in range(len(g)):
        i = np.flatnonzero(g[k])
        j = np.flatnonzero(h[k])
        product = 0.5 * np.outer(g[k, i], h[k, j]).ravel()
        I, J = np.meshgrid(i, j, indexing="ij")
        for first, second in ((I, J), (J, I)):
            rows.append(np.full(product.size, k))
            cols.append((first * side + second).ravel())
            data.append(product)
    if not rows:
        return scipy.sparse.csr_matrix((len(g), side * side))
    return scipy.sparse.csr_matrix(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(g), side * side),
    )


def _diagonal_majorizer(G: scipy.sparse.csr_matrix) -> FloatArray:
    r"""Row sums of :math:`|GG^\top|`: :math:`GG^\top \preceq \operatorname{diag}` of them (Gershgorin)."""
    if G.shape[0] == 0:
        return np.ones(0)
    rows = np.asarray(abs(G @ G.T).sum(axis=1)).ravel()
    return np.where(rows > 0, rows, 1.0)


class _AdmmRounds:
    """The rounds by copos-admm: the Douglas-Rachford state and the cut multipliers carry over."""

    def __init__(self, layout: LiftedLayout, tol: float, inner: int, max_iters: int) -> None:
        self.layout = layout
        self.tol = tol
        self.max_iters = max_iters
        self.multipliers = CutMultipliers(layout.n, inner)
        self.state: AdmmState | None = None

    def active(self, cuts: Cuts) -> Cuts:
        """``cuts`` without those the splitting has seen and left at multiplier 0."""
        seen = len(self.multipliers.lam)
        keep = np.r_[np.flatnonzero(self.multipliers.lam > 0), np.arange(seen, len(cuts))]
        return cuts.select(keep.astype(np.intp))

    def __call__(self, problem: TrainingProblem, cuts: Cuts) -> _Solution:
        """Solve with ``cuts`` (a superset of the last round's), warm-started; certify the dual."""
        new = len(cuts) - len(self.multipliers.cuts)  # cuts only grow between rounds
        self.multipliers.extend(cuts.select(np.arange(len(cuts) - new, len(cuts))))
        result = solve_lifted_dnn_admm(
            problem,
            tol=self.tol,
            max_iters=self.max_iters,
            warm_start=self.state,
            quiet=True,
            sign_cost=self.multipliers if len(cuts) else None,
        )
        if result.status == "diverged":
            raise SolverError(f"{COPOS_ADMM} diverged on the lifted DNN with {len(cuts)} cuts")
        self.state = result.state
        T_ab = self.layout.T[self.layout.ab]
        W = T_ab @ result.S @ T_ab.T
        corrected = certified_lower_bound(problem, result.Z, result.N, cuts=result.cuts)
        return _Solution(
            W, result.value, result.Z, corrected, result.to_solve_info(), result.iterations
        )


def _solve_round(
    layout: LiftedLayout, problem: TrainingProblem, cuts: Cuts, solver: str
) -> _Solution:
    """Solve the reduced program with ``cuts`` and certify its dual point."""
    S, blocks = _reduced_blocks(layout)
    signs = _sign_constraints(layout, blocks.ab)
    constraints = [*blocks.constraints, *signs]
    cut_constraint = None
    if len(cuts):
        cut_constraint = cp.sum(cp.multiply(cuts.g @ blocks.ab, cuts.h), axis=1) >= 0
        constraints.append(cut_constraint)
    program = cp.Problem(cp.Minimize(_primal_objective(blocks, problem)), constraints)
    info = solve(program, solver=solver)
    require_solution(program, info)
    S_value = 0.5 * (np.asarray(S.value) + np.asarray(S.value).T)
    T_ab = layout.T[layout.ab]
    W = T_ab @ S_value @ T_ab.T
    n, d = layout.n, layout.d
    Z = problem.Y - S_value[:n, n + d :]
    N = _sign_multiplier(layout, signs)
    K = (
        cuts.multiplier(np.asarray(cut_constraint.dual_value, dtype=np.float64))
        if cut_constraint is not None and cut_constraint.dual_value is not None
        else None
    )
    corrected = certified_lower_bound(problem, Z, N, cuts=K)
    value = float(program.value) if program.value is not None else float("nan")
    return _Solution(W, value, Z, corrected, info)


def _sign_multiplier(layout: LiftedLayout, signs: list[cp.Constraint]) -> FloatArray:
    r"""``N`` (2n×2n, symmetric) with :math:`\langle N, W\rangle` the Lagrangian term of ``signs``.

    CVXPY's duals: ``expr >= 0`` enters as :math:`-\nu^\top\text{expr}` (:math:`\nu \ge 0`),
    ``expr == 0`` as :math:`+\eta^\top\text{expr}`; each upper-triangle entry of ``W`` is listed
    once, so an off-diagonal multiplier is split between :math:`N_{jk}` and :math:`N_{kj}`.
    """
    k = layout.k
    N = np.zeros((k, k))
    equal, nonnegative = signs
    for constraint, index, sign in (
        (equal, layout.complementarity_entries, -1.0),
        (nonnegative, layout.sign_entries, 1.0),
    ):
        if constraint.dual_value is None:
            continue
        dual = sign * np.asarray(constraint.dual_value, dtype=np.float64).ravel()
        rows, cols = index % k, index // k
        np.add.at(N, (rows, cols), np.where(rows == cols, dual, 0.5 * dual))
        off = rows != cols
        np.add.at(N, (cols[off], rows[off]), 0.5 * dual[off])
    return N


def _check_arguments(families: object, rounds: object, per_round: object, tol: object) -> None:
    if isinstance(families, str) or not all(f in FAMILIES for f in families):  # type: ignore[union-attr]
        raise InvalidInputError(f"families must be a tuple of {FAMILIES}; got {families!r}")
    if not isinstance(rounds, int) or rounds < 0:
        raise InvalidInputError(f"rounds must be an integer >= 0; got {rounds!r}")
    if not isinstance(per_round, int) or per_round < 1:
        raise InvalidInputError(f"per_round must be an integer >= 1; got {per_round!r}")
    if not isinstance(tol, (int, float)) or not tol > 0:
        raise InvalidInputError(f"tol must be > 0; got {tol!r}")


def _check_admm_arguments(admm_tol: object, inner: object, admm_iterations: object) -> None:
    if not isinstance(admm_tol, (int, float)) or not admm_tol > 0:
        raise InvalidInputError(f"admm_tol must be > 0; got {admm_tol!r}")
    for name, value in (("inner", inner), ("admm_iterations", admm_iterations)):
        if not isinstance(value, int) or value < 1:
            raise InvalidInputError(f"{name} must be an integer >= 1; got {value!r}")
