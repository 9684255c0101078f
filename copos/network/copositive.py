r"""Vector-output ReLU networks as copositive programs (Sahiner et al., 2021).

For data :math:`X \in \mathbb R^{n\times d}`, targets :math:`Y \in \mathbb R^{n\times c}` and
activation patterns :math:`D_1,\dots,D_P` (:mod:`copos.network.arrangements`) put
:math:`A_i = (2D_i - I_n)X` and :math:`M(S) = \sum_i D_iXS_iX^\top D_i`.  The training optimum
:math:`p^\star` of :class:`~copos.network.problem.TrainingProblem` is the value of the
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
* :func:`recover_from_rel` — a network from a REL solution, with an a-posteriori exactness check;
* :func:`frank_wolfe` — Frank–Wolfe on the constrained gauge form, an **upper** bound.

How to read the bounds
----------------------
* **Complete arrangements** (:func:`~copos.network.arrangements.enumerate_arrangements`):
  the REL value and every dual value are **lower** bounds on the training objective of every
  network of any width (``bound_kind="lower"``), up to the solver's accuracy.
* **Incomplete (sampled) arrangements**: the program is a relaxation of a *restriction* of the
  exact program, so its value is neither a lower nor an upper bound (``bound_kind="neither"``).
* A recovered or Frank–Wolfe network is a real network: its objective is an **upper** bound.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

from copos._deprecation import deprecated_alias
from copos._validation import check_dimension, check_level, check_positive
from copos.cones import Parrilo
from copos.cones.base import Cone
from copos.cones.basic import Nonnegative
from copos.cones.membership import cp_factorize
from copos.errors import InvalidInputError
from copos.network.arrangements import Arrangements, enumerate_arrangements
from copos.network.convex import network_objective
from copos.network.problem import TrainingProblem
from copos.solvers import DEFAULT_SOLVER, SolveInfo, require_solution, solve

FloatArray = NDArray[np.float64]
BoundKind = Literal["lower", "neither"]

#: Largest input dimension accepted by the exact cone-constrained PCA oracle of Frank–Wolfe.
MAX_ORACLE_DIM = 3

_COMPLETE_NOTE = (
    "complete arrangements: the value is a lower bound on the training objective of every "
    "network (any width), up to the solver's accuracy"
)
_SAMPLED_NOTE = (
    "incomplete (sampled) arrangements: the program is a relaxation of a restriction of the "
    "exact copositive program, so its value is neither a lower nor an upper bound on p*"
)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


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
    def kind(self) -> BoundKind:
        """What ``value`` is, as reported: ``bound_kind`` if the solve is accurate, else neither.

        ``bound_kind`` is the claim that holds for an exact solve; an unverified solver value
        (:attr:`copos.solvers.SolveInfo.accurate` false) bounds nothing.
        """
        return self.bound_kind if self.solve.accurate else "neither"


@dataclass(frozen=True, eq=False)
class Recovery:
    """A network recovered from a :class:`CopositiveResult`.

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


@dataclass(frozen=True, eq=False)
class FrankWolfeResult:
    r"""Outcome of :func:`frank_wolfe`.

    Attributes
    ----------
    U, V:
        The final iterate as a balanced network (one neuron per atom).
    objective:
        Its training objective (true ReLU, weight decay): an **upper** bound on p*.
    fw_value:
        :math:`\tfrac12\|R\|_F^2 + \beta t` for the final residual ``R``; at least ``objective``.
    gap:
        Frank–Wolfe gap :math:`\max_{S\in\text{set}}\langle R, S - F\rangle` of the last iterate;
        :math:`\tfrac12\|R\|^2 - \text{gap}` lower-bounds the constrained (restricted) problem.
    history:
        ``objective`` after every iteration.
    radius:
        The constraint radius ``t``.
    bound_kind:
        Always ``"upper"``.
    """

    U: FloatArray
    V: FloatArray
    objective: float
    fw_value: float
    gap: float
    history: FloatArray
    radius: float
    bound_kind: Literal["upper"] = field(default="upper")


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------


def _patterns_for(problem: TrainingProblem, arrangements: Arrangements | None) -> Arrangements:
    """The given patterns (checked against ``X``) or the exact enumeration."""
    if not isinstance(problem, TrainingProblem):
        raise InvalidInputError(f"problem must be a TrainingProblem; got {type(problem).__name__}")
    patterns = enumerate_arrangements(problem.X) if arrangements is None else arrangements
    if not isinstance(patterns, Arrangements):
        raise InvalidInputError(f"arrangements must be Arrangements; got {type(patterns).__name__}")
    if patterns.n != problem.n:
        raise InvalidInputError(
            f"arrangements have patterns of length {patterns.n}, but X has {problem.n} rows"
        )
    if len(patterns) == 0:
        raise InvalidInputError("arrangements must contain at least one pattern")
    return patterns


def _bound_label(patterns: Arrangements) -> tuple[BoundKind, str]:
    """``("lower", ...)`` for complete arrangements, ``("neither", ...)`` otherwise."""
    return ("lower", _COMPLETE_NOTE) if patterns.complete else ("neither", _SAMPLED_NOTE)


def _masked_data(problem: TrainingProblem, patterns: Arrangements, i: int) -> FloatArray:
    r""":math:`D_iX` of shape ``(n, d)``."""
    return patterns.D(i)[:, None] * problem.X


def _cone_rows(problem: TrainingProblem, patterns: Arrangements, i: int) -> FloatArray:
    r""":math:`A_i = (2D_i - I)X`; the cone is :math:`\{u : A_iu \ge 0\}`."""
    return patterns.sign_matrix(i)[:, None] * problem.X


def _lifted_matrix(
    problem: TrainingProblem, patterns: Arrangements, S: Sequence[FloatArray]
) -> FloatArray:
    r""":math:`M = \sum_i D_iXS_iX^\top D_i` (numpy)."""
    M = np.zeros((problem.n, problem.n))
    for i, S_i in enumerate(S):
        DX = _masked_data(problem, patterns, i)
        M += DX @ S_i @ DX.T
    return 0.5 * (M + M.T)


def residual_from_blocks(
    problem: TrainingProblem, patterns: Arrangements, S: Sequence[FloatArray]
) -> FloatArray:
    r""":math:`Z = (I_n + 2\sum_iD_iXS_iX^\top D_i)^{-1}Y`, the optimal residual at a REL optimum."""
    M = _lifted_matrix(problem, patterns, S)
    return np.asarray(np.linalg.solve(np.eye(problem.n) + 2.0 * M, problem.Y), dtype=np.float64)


def _symmetric(expr: cp.Expression) -> cp.Expression:
    """``(E + E^T)/2``: lets cvxpy accept a PSD constraint on a structurally symmetric block."""
    return 0.5 * (expr + expr.T)


# --------------------------------------------------------------------------------------------
# (REL)
# --------------------------------------------------------------------------------------------


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
        ``"clarabel"`` or ``"scs"``.

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
    patterns = _patterns_for(problem, arrangements)
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
        kappa = float(np.max(np.linalg.norm(problem.X, axis=1)))
        gamma = float(np.max(np.abs(problem.Y)))
        kappa = kappa if np.isfinite(kappa) and kappa > 0 else 1.0
        gamma = gamma if np.isfinite(gamma) and gamma > 0 else 1.0
        beta = problem.beta / (kappa * gamma)
        scaled = TrainingProblem(
            X=problem.X / kappa, Y=problem.Y / gamma, beta=beta, bias=False, name=problem.name
        )
        return cls(
            problem=scaled,
            value_factor=gamma**2 * beta,
            block_factor=1.0 / (beta * kappa**2),
            residual_factor=gamma * beta,
        )


def _rel_program(
    problem: TrainingProblem, patterns: Arrangements
) -> tuple[cp.Problem, list[cp.Variable]]:
    r"""The cvxpy problem of (REL) in the units of :class:`_Scaling` and its :math:`\tilde S_i`.

    ``problem`` is the scaled problem; the objective is :math:`\tfrac12\operatorname{tr}T +
    \sum_i\operatorname{tr}\tilde S_i` with the Schur block
    :math:`\tilde\beta I + 2\sum_iD_i\tilde X\tilde S_i\tilde X^\top D_i`.
    """
    n, d, c = problem.n, problem.d, problem.c
    blocks = [cp.Variable((d, d), PSD=True, name=f"S{i}") for i in range(len(patterns))]
    T = cp.Variable((c, c), symmetric=True, name="T")
    constraints = []
    lifted = problem.beta * np.eye(n)
    for i, S_i in enumerate(blocks):
        DX = _masked_data(problem, patterns, i)
        A = _cone_rows(problem, patterns, i)
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


# --------------------------------------------------------------------------------------------
# The dual with Parrilo multipliers
# --------------------------------------------------------------------------------------------


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
    level = check_level(level, "level")
    patterns = _patterns_for(problem, arrangements)
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
    problem: TrainingProblem, patterns: Arrangements, level: int
) -> tuple[cp.Problem, cp.Variable, list[cp.Constraint]]:
    r"""The cvxpy dual in the units of :class:`_Scaling`, its ``W`` and the Schur constraints.

    ``problem`` is the scaled problem: :math:`\max_W \langle W, \tilde Y\rangle -
    \tfrac{\tilde\beta}2\|W\|_F^2` s.t. :math:`\begin{bmatrix}I_d - A_i^\top C_iA_i &
    \tilde X^\top D_iW\\ W^\top D_i\tilde X & I_c\end{bmatrix} \succeq 0` (the original
    constraint with :math:`Z = \tilde\beta W`, :math:`C_i` scaled by :math:`\tilde\beta^2`).
    """
    n, d, c = problem.n, problem.d, problem.c
    Z = cp.Variable((n, c), name="W")
    cone = _multiplier_cone(n, level)
    constraints: list[cp.Constraint] = []
    schur_constraints: list[cp.Constraint] = []
    for i in range(len(patterns)):
        C_i = cp.Variable((n, n), symmetric=True, name=f"C{i}")
        constraints += cone.constraints(C_i)
        A = _cone_rows(problem, patterns, i)
        coupling = _masked_data(problem, patterns, i).T @ Z
        block = cp.bmat(
            [[np.eye(d) - A.T @ C_i @ A, coupling], [coupling.T, np.eye(c)]]
        )
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


# --------------------------------------------------------------------------------------------
# Recovery
# --------------------------------------------------------------------------------------------


def recover_from_rel(
    result: CopositiveResult, problem: TrainingProblem, *, tol: float = 1e-6
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
        factors, problem_text = _factor_block(S_i, _cone_rows(problem, patterns, i), tol, scale)
        if problem_text:
            failures.append(f"block {i}: {problem_text}")
            continue
        DX = _masked_data(problem, patterns, i)
        for s in factors:
            u = np.sqrt(2.0 * problem.beta) * s
            neurons_u.append(u)
            neurons_v.append(Z.T @ (DX @ u) / problem.beta)
    U = np.array(neurons_u).T if neurons_u else np.zeros((problem.d, 0))
    V = np.array(neurons_v) if neurons_v else np.zeros((0, problem.c))
    objective = network_objective(problem, U, V)
    return _recovery_verdict(U, V, objective, result.value, tol, failures)


#: Deprecated (one release): the old name of :func:`recover_from_rel`.
recover_network = deprecated_alias(recover_from_rel, "recover_network", __name__)


def _check_result(result: CopositiveResult, problem: TrainingProblem) -> None:
    if not isinstance(result, CopositiveResult):
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


# --------------------------------------------------------------------------------------------
# Frank–Wolfe with an exact cone-constrained PCA oracle
# --------------------------------------------------------------------------------------------


def cone_pca(
    G: FloatArray,
    A: FloatArray,
    *,
    bases: list[FloatArray] | None = None,
    tol: float = 1e-10,
) -> tuple[FloatArray, float]:
    r"""Exact :math:`\max\{\|Gu\|^2 : Au \ge 0,\ \|u\| \le 1\}` by enumerating faces.

    A maximiser with active rows :math:`\mathcal S` is a top eigenvector of :math:`G^\top G`
    restricted to :math:`\{u : A_{\mathcal S}u = 0\}` (the Rayleigh quotient has no other local
    maxima), so the candidates are :math:`\pm` the top eigenvectors on the null spaces of all
    row subsets of size :math:`< d`: :math:`O(n^{d-1})` eigen-solves.  Feasibility is checked
    with :math:`Au \ge -\mathrm{tol}\,\|A\|`.  Degenerate (repeated) top eigenvalues may make it
    miss a maximiser; returns ``(0, 0.0)`` if nothing nonzero is feasible.  ``bases`` may pass
    precomputed :func:`face_bases` ``(A)`` (they depend on the rows only up to sign).
    """
    d = A.shape[1]
    slack = tol * max(1.0, float(np.max(np.abs(A))))
    best, best_value = np.zeros(d), 0.0
    for basis in face_bases(A) if bases is None else bases:
        projected = G @ basis
        _, singular, right = np.linalg.svd(projected, full_matrices=True)
        direction = basis @ right[0]
        value = float(singular[0] ** 2) if singular.size else 0.0
        for u in (direction, -direction):
            if value > best_value and float(np.min(A @ u)) >= -slack:
                best, best_value = u, value
    return best, best_value


def face_bases(A: FloatArray) -> list[FloatArray]:
    """Orthonormal bases of :math:`\\{u : A_{\\mathcal S}u = 0\\}` for all ``|S| < d`` (nonzero)."""
    n, d = A.shape
    bases = [np.eye(d)]
    for size in range(1, d):
        for rows in itertools.combinations(range(n), size):
            _, singular, Vt = np.linalg.svd(A[list(rows)], full_matrices=True)
            rank = int(np.sum(singular > 1e-12 * max(1.0, float(singular.max(initial=0.0)))))
            if rank < d:
                bases.append(Vt[rank:].T)
    return bases


def frank_wolfe(
    problem: TrainingProblem,
    arrangements: Arrangements,
    *,
    radius: float,
    iterations: int = 200,
    seed: int = 0,
) -> FrankWolfeResult:
    r"""Frank–Wolfe with exact line search on the constrained gauge problem.

    .. math::

        \min_{V_i}\ \tfrac12\Big\|Y - \sum_iD_iXV_i\Big\|_F^2\ \ \text{s.t.}\ \
        \sum_i\|V_i\|_{\mathcal B_i} \le t .

    Each step calls :func:`cone_pca` on every pattern, :math:`u_i = \arg\max_{A_iu\ge0,\|u\|\le1}
    \|R^\top D_iXu\|`, and moves towards the atom :math:`t\,D_iXu\,g^\top`, :math:`g =
    R^\top D_iXu/\|R^\top D_iXu\|`, of the best pattern.  Atoms lie in their pattern cones, so
    every iterate is a real network with path norm at most ``t``; its weight-decay objective
    after rebalancing is an **upper** bound on p* (with any arrangements, complete or not).

    Limits: ``d <= 3`` (the oracle enumerates :math:`O(n^{d-1})` faces per pattern); sublinear
    convergence; the value depends on ``radius`` (use e.g. the path norm of a trained net).

    Parameters
    ----------
    problem:
        Training problem.
    arrangements:
        Patterns to draw atoms from.
    radius:
        Path-norm budget ``t > 0``.
    iterations:
        Number of Frank–Wolfe steps.
    seed:
        Unused by the deterministic iteration; accepted for interface stability.

    Returns
    -------
    FrankWolfeResult
    """
    del seed  # the iteration is deterministic
    patterns = _patterns_for(problem, arrangements)
    t = check_positive(radius, "radius")
    iterations = check_dimension(iterations, "iterations")
    if problem.d > MAX_ORACLE_DIM:
        raise InvalidInputError(
            f"frank_wolfe's exact oracle supports d <= {MAX_ORACLE_DIM}; got d = {problem.d}"
        )
    cones = [_cone_rows(problem, patterns, i) for i in range(len(patterns))]
    masks = [patterns.D(i) for i in range(len(patterns))]
    bases = face_bases(problem.X)
    prediction = np.zeros_like(problem.Y)
    atoms_u: list[FloatArray] = []
    atoms_g: list[FloatArray] = []
    weights = np.zeros(0)
    history = np.empty(iterations)
    gap = float("inf")
    for k in range(iterations):
        residual = problem.Y - prediction
        u, g, i = _best_atom(problem, residual, masks, cones, bases)
        target = t * np.outer(masks[i] * (problem.X @ u), g)
        step, gap = _line_search(residual, target - prediction)
        prediction = (1.0 - step) * prediction + step * target
        weights = np.append((1.0 - step) * weights, step * t)
        atoms_u.append(u)
        atoms_g.append(g)
        history[k] = _atoms_objective(problem, atoms_u, atoms_g, weights)
    U, V = _atoms_network(atoms_u, atoms_g, weights)
    residual = problem.Y - prediction
    return FrankWolfeResult(
        U=U,
        V=V,
        objective=network_objective(problem, U, V),
        fw_value=0.5 * float(np.sum(residual**2)) + problem.beta * t,
        gap=gap,
        history=history,
        radius=t,
    )


def _best_atom(
    problem: TrainingProblem,
    residual: FloatArray,
    masks: list[FloatArray],
    cones: list[FloatArray],
    bases: list[FloatArray],
) -> tuple[FloatArray, FloatArray, int]:
    """Unit ``u`` (in a pattern cone), unit ``g`` and the pattern index of the best atom."""
    best: tuple[float, FloatArray, int] = (-1.0, np.zeros(problem.d), 0)
    for i, (mask, A) in enumerate(zip(masks, cones, strict=True)):
        G = residual.T @ (mask[:, None] * problem.X)
        u, value = cone_pca(G, A, bases=bases)
        if value > best[0]:
            best = (value, u, i)
    _, u, i = best
    direction = residual.T @ (masks[i] * (problem.X @ u))
    norm = float(np.linalg.norm(direction))
    g = direction / norm if norm > 0 else np.zeros(problem.c)
    return u, g, i


def _line_search(residual: FloatArray, direction: FloatArray) -> tuple[float, float]:
    r"""Exact step :math:`\arg\min_{\gamma\in[0,1]}\tfrac12\|R - \gamma\Delta\|^2` and the FW gap
    :math:`\langle R, \Delta\rangle`."""
    gap = float(np.sum(residual * direction))
    curvature = float(np.sum(direction**2))
    step = 0.0 if curvature == 0 else min(1.0, max(0.0, gap / curvature))
    return step, gap


def _atoms_network(
    atoms_u: list[FloatArray], atoms_g: list[FloatArray], weights: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Balanced neurons :math:`(\\sqrt w\\,u,\\ \\sqrt w\\,g)` of the atoms with ``w > 0``."""
    roots = np.sqrt(np.maximum(weights, 0.0))
    keep = roots > 0
    U = (np.array(atoms_u) * roots[:, None])[keep].T
    V = (np.array(atoms_g) * roots[:, None])[keep]
    return U, V


def _atoms_objective(
    problem: TrainingProblem,
    atoms_u: list[FloatArray],
    atoms_g: list[FloatArray],
    weights: FloatArray,
) -> float:
    U, V = _atoms_network(atoms_u, atoms_g, weights)
    if U.shape[1] == 0:
        return 0.5 * float(np.sum(problem.Y**2))
    return network_objective(problem, U, V)
