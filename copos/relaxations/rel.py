r"""Vector-output ReLU networks as copositive programs (Sahiner et al., 2021).

For data :math:`X \in \mathbb R^{n\times d}`, targets :math:`Y \in \mathbb R^{n\times c}` and
activation patterns :math:`D_1,\dots,D_P` (:mod:`copos.nets.arrangements`) put
:math:`A_i = (2D_i - I_n)X` and :math:`M(S) = \sum_i D_iXS_iX^\top D_i`.  The training optimum
:math:`p^\star` of :class:`~copos.nets.problem.TrainingProblem` is the value of the
copositive program (reference notes, sahiner2021.md §4)

.. math::

    p^\star = \min_{S_i}\ \tfrac12\operatorname{tr}\big(Y^\top(I_n + 2M(S))^{-1}Y\big)
        + \beta^2\sum_i\operatorname{tr}S_i
    \quad\text{s.t.}\quad A_iS_iA_i^\top \in \mathcal{CP}_n .

This module provides

* :func:`solve_rel` — the doubly-nonnegative relaxation (REL): :math:`\mathcal{CP}_n` replaced by
  :math:`\mathcal{DNN}_n`, i.e. :math:`S_i \succeq 0` and :math:`A_iS_iA_i^\top \ge 0`;
* :func:`solve_copositive_dual` — its dual with Parrilo multipliers
  :math:`C_i \in \mathcal K^r_n` (level 0 reproduces REL, higher levels tighten);
* :func:`~copos.recovery.cp_factor.recover_from_rel` — a network from a REL solution, with an
  a-posteriori exactness check;
* :func:`~copos.nets.frank_wolfe.frank_wolfe` — Frank–Wolfe on the constrained gauge form, an
  **upper** bound.

How to read the bounds
----------------------
* **Complete arrangements** (:func:`~copos.nets.arrangements.enumerate_arrangements`):
  the REL value and every dual value are **lower** bounds on the training objective of every
  network of any width (``bound_kind="lower"``), up to the solver's accuracy.
* **Incomplete (sampled) arrangements**: the program is a relaxation of a *restriction* of the
  exact program, so its value is neither a lower nor an upper bound (``bound_kind="neither"``).
* A recovered or Frank–Wolfe network is a real network: its objective is an **upper** bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray
from scipy.optimize import nnls

from copos._validation import check_level
from copos.bound import Bound
from copos.cones import Parrilo
from copos.cones.base import Cone
from copos.cones.basic import Nonnegative
from copos.nets.arrangements import Arrangements
from copos.nets.patterns import cone_rows, masked_data, patterns_for, residual_from_blocks
from copos.nets.problem import TrainingProblem, require_no_output_bias
from copos.solvers import DEFAULT_SOLVER, SolveInfo, require_solution, solve
from copos.solvers.admm.rel import RelAdmmState
from copos.solvers.admm.rel import solve_rel_admm as admm_rel

FloatArray = NDArray[np.float64]


BoundKind = Literal["lower", "neither"]


_COMPLETE_NOTE = (
    "complete arrangements: the value is a lower bound on the training objective of every "
    "network (any width), up to the solver's accuracy"
)


_SAMPLED_NOTE = (
    "incomplete (sampled) arrangements: the program is a relaxation of a restriction of the "
    "exact copositive program, so its value is neither a lower nor an upper bound on p*"
)


@dataclass(frozen=True, eq=False)
class CopositiveResult:
    r"""Solution of the relaxation (REL) or of its Parrilo dual.

    Attributes
    ----------
    value:
        Optimal value as computed by the solver.
    bound_kind:
        ``"lower"`` with complete arrangements, ``"neither"`` with incomplete ones.
    note:
        How to read ``value``, in words.
    solve:
        How the program was solved (status and residuals checked afterwards).
    S:
        The blocks :math:`S_i` (``d x d``), one per pattern.  For the dual they are read from
        the multipliers of the Schur constraints (top-left blocks), which solve (REL) at level 0.
    Z:
        :math:`(I_n + 2M(S))^{-1}Y` for REL, the dual variable for the dual; at the optimum both
        are the optimal residual :math:`Y - f^\star(X)`.
    arrangements:
        The patterns used.
    cone:
        ``"DNN"`` for REL, ``"K^r"`` for the dual at level ``r``.
    level:
        Hierarchy level (0 for REL).
    """

    value: float
    bound_kind: BoundKind
    note: str
    solve: SolveInfo
    S: list[FloatArray]
    Z: FloatArray
    arrangements: Arrangements
    cone: str
    level: int

    @property
    def bound(self) -> Bound:
        """``value`` as a :class:`~copos.bound.Bound` on p*: ``bound_kind`` if the solve is accurate."""
        return Bound(
            value=self.value,
            claimed_kind=self.bound_kind,
            cone=self.cone,
            level=self.level,
            view="cp" if self.cone == "DNN" else "cop",
            solve=self.solve,
            time=self.solve.solve_time,
            note=self.note,
        )

    @property
    def kind(self) -> BoundKind:
        """What ``value`` is, as reported: ``bound_kind`` if the solve is accurate, else neither.

        ``bound_kind`` is the claim that holds for an exact solve; an unverified solver value
        (:attr:`copos.solvers.SolveInfo.accurate` false) bounds nothing.
        """
        return self.bound.kind


def _bound_label(patterns: Arrangements) -> tuple[BoundKind, str]:
    """``("lower", ...)`` for complete arrangements, ``("neither", ...)`` otherwise."""
    return ("lower", _COMPLETE_NOTE) if patterns.complete else ("neither", _SAMPLED_NOTE)


def _symmetric(expr: cp.Expression) -> cp.Expression:
    """``(E + E^T)/2``: lets cvxpy accept a PSD constraint on a structurally symmetric block."""
    return 0.5 * (expr + expr.T)


def solve_rel(
    problem: TrainingProblem,
    arrangements: Arrangements | None = None,
    *,
    solver: str = DEFAULT_SOLVER,
) -> CopositiveResult:
    r"""Solve the doubly-nonnegative relaxation (REL) in epigraph (Schur) form.

    .. math::

        p_{\rm rel} = \min_{S_i \succeq 0,\ T}\ \tfrac12\operatorname{tr}T + \beta^2\sum_i\operatorname{tr}S_i
        \ \ \text{s.t.}\ \begin{bmatrix}T & Y^\top\\ Y & I_n + 2\sum_iD_iXS_iX^\top D_i\end{bmatrix}
        \succeq 0,\ \ (2D_i-I)XS_iX^\top(2D_i-I) \ge 0 .

    The program is solved in the normalized units of :class:`_Scaling` (an exact change of
    variables; in the units above a small ``beta`` makes the solver report values above
    :math:`p^\star`, #17 item 4) and mapped back.  ``bound_kind`` is the claim for an exact
    solve; :attr:`CopositiveResult.kind` is ``"neither"`` unless the solve was verified.

    Parameters
    ----------
    problem:
        Training problem (any ``c``).
    arrangements:
        Patterns; default the exact enumeration (complete), making ``value`` a lower bound.
    solver:
        ``"clarabel"`` or ``"scs"``, or ``"copos-rel"`` (:func:`solve_rel_admm`, no model built).

    Returns
    -------
    CopositiveResult
        ``bound_kind`` ``"lower"`` (complete) or ``"neither"`` (sampled), ``cone="DNN"``,
        ``level=0``.

    Raises
    ------
    InvalidInputError
        Patterns do not match ``X``.
    SolverError
        The solver returned no solution.
    """
    if str(solver).lower() == REL_ADMM_SOLVER:
        return solve_rel_admm(problem, arrangements).result
    require_no_output_bias(problem, "the REL relaxation")
    patterns = patterns_for(problem, arrangements)
    scaling = _Scaling.of(problem)
    program, blocks = _rel_program(scaling.problem, patterns)
    info = _solve_tight(program, solver)
    require_solution(program, info)
    S = [scaling.block_factor * _psd_value(block.value) for block in blocks]
    bound_kind, note = _bound_label(patterns)
    return CopositiveResult(
        value=scaling.value_factor * float(program.value),
        bound_kind=bound_kind,
        note=note,
        solve=info,
        S=S,
        Z=residual_from_blocks(problem, patterns, S),
        arrangements=patterns,
        cone="DNN",
        level=0,
    )


#: Clarabel's tolerances for (REL), tightest first.  In the units of :class:`_Scaling` the
#: program is well scaled.  Its default 1e-8 leaves blocks whose factors miss their pattern
#: cones by ~1e-5 (relative), which makes :func:`recover_from_rel` fail; 1e-9 still failed on
#: spiral(n_per_class=8, classes=3, beta=0.01) (a block 3e-6 outside its cone, dual residual
#: 1.1e-6: unverified), 1e-10 recovers it exactly and verified in the same time.  1e-10 is not
#: always reached, so a solve that ends short of "optimal" is repeated at 1e-9.  (The dual
#: keeps the defaults: at 1e-9 Clarabel stops with "almost solved" on the planted instances.)
TIGHT_CLARABEL_TOLERANCES: tuple[float, ...] = (1e-10, 1e-9)


def _solve_tight(program: cp.Problem, solver: str) -> SolveInfo:
    """Solve (REL) at the tightest of :data:`TIGHT_CLARABEL_TOLERANCES` that Clarabel reaches."""
    if str(solver).lower() != "clarabel":
        return solve(program, solver=solver)
    for tol in TIGHT_CLARABEL_TOLERANCES:
        info = solve(program, solver=solver, tol_feas=tol, tol_gap_abs=tol, tol_gap_rel=tol)
        if info.optimal:
            break
    return info


@dataclass(frozen=True, eq=False)
class _Scaling:
    r"""The exact change of units under which (REL) and its dual are solved.

    With :math:`X = \kappa\tilde X`, :math:`Y = \gamma\tilde Y`, :math:`\tilde\beta =
    \beta/(\kappa\gamma)` (``κ`` the largest row norm of ``X``, ``γ`` the largest
    :math:`|Y_{ij}|`) and :math:`S_i = \tilde S_i/(\tilde\beta\kappa^2)`,
    :math:`Z = \gamma\tilde\beta W`:

    .. math:: p_{\rm rel}(X, Y, \beta) = \gamma^2\tilde\beta\,\min_{\tilde S}\
        \tfrac12\operatorname{tr}\tilde Y^\top(\tilde\beta I + 2M_{\tilde X}(\tilde S))^{-1}
        \tilde Y + \sum_i\operatorname{tr}\tilde S_i .

    Why: in the original units the trace penalty carries :math:`\beta^2` (1e-8 at
    :math:`\beta = 10^{-4}`) while the optimal :math:`S_i` grow like :math:`1/\beta`; the
    interior-point solver then meets its tolerances with a dual point that is feasible only for a
    larger :math:`\beta` (residual ~1e-7 on a cost of 1e-8) and reports a value above
    :math:`p^\star`.  In these units every coefficient and the solution are of order one.
    """

    problem: TrainingProblem
    value_factor: float
    block_factor: float
    residual_factor: float

    @classmethod
    def of(cls, problem: TrainingProblem) -> _Scaling:
        """The scaling of ``problem`` (factors 1 for all-zero data)."""
        kappa, gamma = _unit_scales(problem)
        scaled = problem.rescaled(kappa, gamma)  # the data are not checked again
        beta = scaled.beta
        return cls(
            problem=scaled,
            value_factor=gamma**2 * beta,
            block_factor=1.0 / (beta * kappa**2),
            residual_factor=gamma * beta,
        )


def _rel_program(
    problem: TrainingProblem,
    patterns: Arrangements,
    matrices: Sequence[tuple[FloatArray, FloatArray]] | None = None,
) -> tuple[cp.Problem, list[cp.Variable]]:
    r"""The cvxpy problem of (REL) in the units of :class:`_Scaling` and its :math:`\tilde S_i`.

    ``problem`` is the scaled problem; the objective is :math:`\tfrac12\operatorname{tr}T +
    \sum_i\operatorname{tr}\tilde S_i` with the Schur block
    :math:`\tilde\beta I + 2\sum_iD_i\tilde X\tilde S_i\tilde X^\top D_i`.  ``matrices``
    replaces :math:`(D_i\tilde X, (2D_i - I)\tilde X)` per pattern, e.g. by a patch
    architecture's :math:`(A_i, (2D_i - I)M)` (:mod:`copos.relaxations.conv`); a first entry of
    shape ``(K, n, d)`` contributes :math:`\sum_kB_kS_iB_k^\top` (a CNN's linear readout, with
    :math:`B_k = D_i^kX_k`).
    """
    if matrices is None:
        matrices = [
            (masked_data(problem, patterns, i), cone_rows(problem, patterns, i))
            for i in range(len(patterns))
        ]
    n, c = problem.n, problem.c
    d = matrices[0][0].shape[-1]
    blocks = [cp.Variable((d, d), PSD=True, name=f"S{i}") for i in range(len(patterns))]
    T = cp.Variable((c, c), symmetric=True, name="T")
    constraints = []
    lifted = problem.beta * np.eye(n)
    for S_i, (DX, A) in zip(blocks, matrices, strict=True):
        if DX.ndim == 3:  # sum_k B_k S B_k^T = [B_1 ... B_K](I_K kron S)[B_1 ... B_K]^T
            wide = np.hstack(list(DX))
            lifted = lifted + 2.0 * (wide @ cp.kron(np.eye(DX.shape[0]), S_i) @ wide.T)
        else:
            lifted = lifted + 2.0 * (DX @ S_i @ DX.T)
        rows = _pairwise_rows(A)
        if rows.shape[0]:  # n = 1: no off-diagonal entries, nothing to constrain
            constraints.append(rows @ cp.vec(S_i, order="F") >= 0)
    schur = cp.bmat([[T, problem.Y.T], [problem.Y, lifted]])
    constraints.append(_symmetric(schur) >> 0)
    objective = 0.5 * cp.trace(T) + sum(cp.trace(S_i) for S_i in blocks)
    return cp.Problem(cp.Minimize(objective), constraints), blocks


def _pairwise_rows(A: FloatArray) -> FloatArray:
    r"""Rows :math:`(a_k \otimes a_j)^\top` for :math:`j < k`, so that row ``@ vec(S)`` is
    :math:`a_j^\top S a_k`: the off-diagonal entries of :math:`ASA^\top`, each once (the diagonal
    ones are implied by :math:`S \succeq 0`)."""
    upper, lower = np.triu_indices(A.shape[0], k=1)
    width = A.shape[1] ** 2
    return np.einsum("pi,pj->pij", A[lower], A[upper]).reshape(len(upper), width)


def _psd_value(value: FloatArray | None) -> FloatArray:
    """Symmetrised numpy copy of a solver value with negative eigenvalues clipped to 0."""
    matrix = np.asarray(value, dtype=np.float64)
    matrix = 0.5 * (matrix + matrix.T)
    eigenvalues, vectors = np.linalg.eigh(matrix)
    return (vectors * np.maximum(eigenvalues, 0.0)) @ vectors.T


def solve_copositive_dual(
    problem: TrainingProblem,
    arrangements: Arrangements | None = None,
    *,
    level: int = 1,
    solver: str = DEFAULT_SOLVER,
) -> CopositiveResult:
    r"""Solve the dual of the copositive program with multipliers :math:`C_i \in \mathcal K^r_n`.

    .. math::

        \max_{Z,\ C_i \in \mathcal K^r_n}\ -\tfrac12\|Z - Y\|_F^2 + \tfrac12\|Y\|_F^2
        \ \ \text{s.t.}\ \begin{bmatrix}\beta^2 I_d - A_i^\top C_iA_i & X^\top D_iZ\\
        Z^\top D_iX & I_c\end{bmatrix} \succeq 0 .

    Any feasible ``Z`` satisfies :math:`\|Z^\top(Xu)_+\| \le \beta\|u\|` on every pattern cone,
    so (weak duality) the value is at most :math:`p^\star` when the arrangements are complete.
    Level 0 (:math:`\mathcal S_+ + \mathcal N`, implemented as :math:`\mathcal N` since the PSD
    part is absorbed) has the value of (REL); higher levels are at least as large.  :math:`\mathcal K^1_n` costs ``n`` PSD blocks of size ``n`` per pattern:
    keep ``n`` small.

    Parameters
    ----------
    problem:
        Training problem.
    arrangements:
        Patterns; default the exact enumeration.
    level:
        Parrilo level ``r >= 0``.
    solver:
        ``"clarabel"`` or ``"scs"``.

    Returns
    -------
    CopositiveResult
        ``cone="K^r"``, ``Z`` the dual variable, ``S`` the multipliers' top-left blocks.
    """
    require_no_output_bias(problem, "the copositive dual of REL")
    level = check_level(level, "level")
    patterns = patterns_for(problem, arrangements)
    scaling = _Scaling.of(problem)
    program, W, schur_constraints = _dual_program(scaling.problem, patterns, level)
    info = solve(program, solver=solver)
    require_solution(program, info)
    bound_kind, note = _bound_label(patterns)
    return CopositiveResult(
        value=scaling.value_factor * float(program.value),
        bound_kind=bound_kind,
        note=note,
        solve=info,
        S=[
            scaling.block_factor * _multiplier_block(constraint, problem.d)
            for constraint in schur_constraints
        ],
        Z=scaling.residual_factor * np.asarray(W.value, dtype=np.float64),
        arrangements=patterns,
        cone=f"K^{level}",
        level=level,
    )


def _dual_program(
    problem: TrainingProblem,
    patterns: Arrangements,
    level: int,
    matrices: Sequence[tuple[FloatArray, FloatArray]] | None = None,
) -> tuple[cp.Problem, cp.Variable, list[cp.Constraint]]:
    r"""The cvxpy dual in the units of :class:`_Scaling`, its ``W`` and the Schur constraints.

    ``problem`` is the scaled problem: :math:`\max_W \langle W, \tilde Y\rangle -
    \tfrac{\tilde\beta}2\|W\|_F^2` s.t. :math:`\begin{bmatrix}I_d - A_i^\top C_iA_i &
    \tilde X^\top D_iW\\ W^\top D_i\tilde X & I_c\end{bmatrix} \succeq 0` (the original
    constraint with :math:`Z = \tilde\beta W`, :math:`C_i` scaled by :math:`\tilde\beta^2`).
    ``matrices`` replaces :math:`(D_i\tilde X, (2D_i - I)\tilde X)` per pattern as in
    :func:`_rel_program`; a first entry :math:`(B_k)_k` of shape ``(K, n, d)`` couples
    :math:`[B_1^\top W, \dots, B_K^\top W]` with :math:`I_{Kc}` (a CNN's linear readout).
    """
    if matrices is None:
        matrices = [
            (masked_data(problem, patterns, i), cone_rows(problem, patterns, i))
            for i in range(len(patterns))
        ]
    n, c = problem.n, problem.c
    d, rows = (matrices[0][0].shape[-1], matrices[0][1].shape[0]) if matrices else (problem.d, n)
    Z = cp.Variable((n, c), name="W")
    cone = _multiplier_cone(rows, level)
    constraints: list[cp.Constraint] = []
    schur_constraints: list[cp.Constraint] = []
    for i, (DX, A) in enumerate(matrices):
        C_i = cp.Variable((A.shape[0], A.shape[0]), symmetric=True, name=f"C{i}")
        constraints += cone.constraints(C_i)
        if DX.ndim == 3:
            coupling = cp.hstack([B.T @ Z for B in DX])
        else:
            coupling = DX.T @ Z
        width = c * (DX.shape[0] if DX.ndim == 3 else 1)
        block = cp.bmat([[np.eye(d) - A.T @ C_i @ A, coupling], [coupling.T, np.eye(width)]])
        schur = _symmetric(block) >> 0
        schur_constraints.append(schur)
    objective = cp.sum(cp.multiply(Z, problem.Y)) - 0.5 * problem.beta * cp.sum_squares(Z)
    program = cp.Problem(cp.Maximize(objective), constraints + schur_constraints)
    return program, Z, schur_constraints


def _multiplier_cone(n: int, level: int) -> Cone:
    r""":math:`\mathcal K^r_n`; at level 0 only its :math:`\mathcal N_n` part.

    The PSD part of :math:`\mathcal K^0 = \mathcal S_+ + \mathcal N` is redundant here:
    :math:`A^\top PA \succeq 0` only tightens the Schur constraint, so dropping it keeps the value
    and avoids a degenerate free PSD variable that makes the solve less accurate.
    """
    return Nonnegative(n) if level == 0 else Parrilo(n, level)


def _multiplier_block(constraint: cp.Constraint, d: int) -> FloatArray:
    """Top-left ``d x d`` block of a Schur constraint's multiplier (zeros if unavailable)."""
    value = constraint.dual_value
    if value is None:
        return np.zeros((d, d))
    return _psd_value(np.asarray(value, dtype=np.float64)[:d, :d])


#: The name of copos's own REL solver (:func:`solve_rel_admm`), accepted by :func:`solve_rel`.
REL_ADMM_SOLVER = "copos-rel"


#: Rows of a cone closer than this (relative, unit rows) count as one direction, and a row whose
#: distance to the cone of the others is below it is dropped as redundant.
FACET_TOL = 1e-10


@dataclass(frozen=True, eq=False)
class RelAdmmRun:
    r"""(REL) on a set of patterns solved by :func:`copos.solvers.admm.rel.solve_rel_admm`.

    ``result`` holds the value, the Schur blocks :math:`S_i` and the residual ``Z`` in the
    original units (``bound_kind`` ``"neither"`` unless the patterns are complete, and the
    value unverified: the splitting reports residuals, no duality gap); ``blocks`` the lifted
    blocks :math:`G_i = \sum_k [u_k; v_k][u_k; v_k]^\top` (original units, ``(k, d+c, d+c)``);
    ``state`` the iterates (internal units) that warm-start the next run.
    """

    result: CopositiveResult
    blocks: FloatArray
    state: RelAdmmState


def facet_rows(A: FloatArray, tol: float = FACET_TOL) -> FloatArray:
    r"""The irredundant rows of the cone :math:`\{u : Au \ge 0\}`, normalised to unit length.

    A row :math:`a_j` in the cone of the others, :math:`a_j = \sum_l\lambda_la_l`,
    :math:`\lambda \ge 0`, adds nothing to :math:`ASA^\top \ge 0`: :math:`a_j^\top Sa_k =
    \sum_l\lambda_la_l^\top Sa_k`.  So (REL) needs only the extreme rays of
    :math:`\operatorname{cone}\{a_j\}` (found by non-negative least squares); zero rows and
    repeated directions are dropped first.
    """
    norms = np.linalg.norm(A, axis=1)
    top = float(np.max(norms, initial=0.0))
    rows = A[norms > tol * max(top, 1e-300)]
    rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    rows = _distinct_rows(rows, tol)
    keep = [
        j for j in range(len(rows)) if _cone_distance(np.delete(rows, j, axis=0), rows[j]) > tol
    ]
    return rows[keep]


def _distinct_rows(rows: FloatArray, tol: float) -> FloatArray:
    """``rows`` without near-repeats (unit rows within ``tol`` in the max norm)."""
    kept: list[FloatArray] = []
    for row in rows[np.lexsort(rows.T[::-1])]:
        if not kept or float(np.max(np.abs(row - kept[-1]))) > tol:
            kept.append(row)
    if not kept:
        return rows[:0]
    distinct = np.array(kept)
    _, first = np.unique(np.round(distinct / tol**0.5), axis=0, return_index=True)
    return distinct[np.sort(first)] if len(first) < len(distinct) else distinct


def _cone_distance(others: FloatArray, row: FloatArray) -> float:
    r""":math:`\min_{\lambda\ge0}\|\text{others}^\top\lambda - \text{row}\|` (``inf`` if none)."""
    if len(others) == 0:
        return math.inf
    return float(nnls(others.T, row)[1])


def facet_array(problem: TrainingProblem, patterns: Arrangements) -> FloatArray:
    """The :func:`facet_rows` of every pattern cone, zero-padded to ``(k, f, d)``."""
    facets = [facet_rows(cone_rows(problem, patterns, i)) for i in range(len(patterns))]
    width = max((len(F) for F in facets), default=0)
    out = np.zeros((len(facets), max(width, 1), problem.d))
    for i, F in enumerate(facets):
        out[i, : len(F)] = F
    return out


def solve_rel_admm(
    problem: TrainingProblem,
    arrangements: Arrangements | None = None,
    *,
    state: RelAdmmState | None = None,
    tol: float = 1e-7,
    max_iter: int = 20_000,
    time_limit: float = math.inf,
) -> RelAdmmRun:
    r"""(REL) in the lifted form of :mod:`copos.solvers.admm.rel`, without building a model.

    .. math:: \min_{G_i \succeq 0,\ F_iS_iF_i^\top \ge 0}\ \tfrac12\Big\|\sum_iD_iXW_i - Y\Big\|_F^2
        + \tfrac\beta2\sum_i\operatorname{tr}G_i ,

    with :math:`F_i` the :func:`facet_rows` of pattern :math:`i` (the same constraint set as
    :math:`A_iS_iA_i^\top \ge 0`).  Solved in the units :math:`X/\kappa`, :math:`Y/\gamma`,
    :math:`\beta/(\kappa\gamma)` (``κ`` the largest row norm, ``γ`` the largest :math:`|Y_{ij}|`),
    in which ``state`` (from a previous run, possibly on fewer patterns: new blocks start at 0)
    stays valid when ``beta`` changes.  The Schur blocks of :func:`solve_rel` are
    :math:`S_i/(2\beta)`.
    """
    require_no_output_bias(problem, "the REL relaxation")
    patterns = patterns_for(problem, arrangements)
    kappa, gamma = _unit_scales(problem)
    scaled = problem.rescaled(kappa, gamma)
    facets = facet_array(scaled, patterns)
    k, m = len(patterns), problem.d + problem.c
    start = RelAdmmState.zeros(k, facets.shape[1], m) if state is None else state
    if start.P.shape[0] < k:
        start = start.extended(k - start.P.shape[0])
    run = admm_rel(
        scaled.X,
        patterns.masks,
        facets,
        scaled.Y,
        scaled.beta,
        state=start.padded(facets.shape[1]),
        tol=tol,
        max_iter=max_iter,
        time_limit=time_limit,
    )
    blocks = (gamma / kappa) * run.blocks
    d = problem.d
    info = SolveInfo(
        solver=REL_ADMM_SOLVER,
        status="optimal" if run.status == "optimal" else "optimal_inaccurate",
        solve_time=run.time,
        primal_residual=run.primal_residual,
        dual_residual=run.dual_residual,
        iterations=run.iterations,
    )
    bound_kind, note = _bound_label(patterns)
    result = CopositiveResult(
        value=gamma**2 * run.value,
        bound_kind=bound_kind,
        note=note + "; copos's splitting reports residuals but no duality gap: unverified",
        solve=info,
        S=[_psd_value(G[:d, :d]) / (2.0 * problem.beta) for G in blocks],
        Z=gamma * run.Z,
        arrangements=patterns,
        cone="DNN",
        level=0,
    )
    return RelAdmmRun(result=result, blocks=blocks, state=run.state)


def _unit_scales(problem: TrainingProblem) -> tuple[float, float]:
    """``(κ, γ)``: the largest row norm of ``X`` and the largest :math:`|Y_{ij}|` (1 if zero)."""
    kappa = float(np.max(np.linalg.norm(problem.X, axis=1)))
    gamma = float(np.max(np.abs(problem.Y)))
    kappa = kappa if np.isfinite(kappa) and kappa > 0 else 1.0
    gamma = gamma if np.isfinite(gamma) and gamma > 0 else 1.0
    return kappa, gamma
