r"""The Pilanci–Ergen convex program of a scalar-output two-layer ReLU network.

For :math:`c = 1` and activation patterns :math:`D_1,\dots,D_P` (see
:mod:`copos.nets.arrangements`):

.. math::

    \min_{v_i, w_i \in \mathbb R^d}\ \tfrac12\Big\|\sum_{i=1}^P D_iX(v_i - w_i) - y\Big\|_2^2
        + \beta\sum_{i=1}^P\big(\|v_i\|_2 + \|w_i\|_2\big)
    \quad\text{s.t.}\quad (2D_i - I_n)Xv_i \ge 0,\ (2D_i - I_n)Xw_i \ge 0 .

On the cone :math:`\{u : (2D_i - I)Xu \ge 0\}` the ReLU is linear, :math:`(Xu)_+ = D_iXu`, so every
feasible point is a ReLU network with the same objective: each nonzero :math:`v_i` gives a
neuron :math:`u = v_i/\sqrt{\|v_i\|}` with output weight :math:`+\sqrt{\|v_i\|}`, each nonzero
:math:`w_i` one with output weight :math:`-\sqrt{\|w_i\|}`.

How to read the value
---------------------
* **Complete arrangements** (``bound_kind="exact"``): the value equals the training optimum
  :math:`p^\star(m)` of :class:`~copos.nets.problem.TrainingProblem` for every width
  :math:`m` at least the number of recovered neurons (at most :math:`n + 1` suffice), and it is a
  lower bound on the objective of every network of any width (group a network's neurons by
  pattern to get a feasible point).  Both statements hold up to the solver's accuracy.
* **Incomplete (e.g. sampled) arrangements** (``bound_kind="upper"``): the program is a
  restriction, so its value is the objective of a real network (the recovered one) and hence an
  upper bound on :math:`p^\star(m)` for every width :math:`m` at least the number of recovered
  neurons.  It is not a lower bound on anything.
"""

from __future__ import annotations

import functools
import math
import operator as operator_module
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

from copos._validation import check_positive
from copos.bound import TRAINING_OPTIMUM, Bound
from copos.errors import InvalidInputError
from copos.nets.architectures.base import Architecture, DataOperator
from copos.nets.architectures.dense import DENSE, Dense, TwoLayerReLU, network_objective
from copos.nets.arrangements import Arrangements, enumerate_arrangements
from copos.nets.problem import TrainingProblem, require_no_output_bias
from copos.recovery.convex import DEFAULT_NEURON_TOL, recover_from_convex
from copos.solvers import DEFAULT_SOLVER, SolveInfo, require_solution, solve
from copos.solvers.admm import arrangement as admm
from copos.solvers.registry import (
    ARRANGEMENT_ADMM_FROM_D,
    ARRANGEMENT_ADMM_FROM_ROWS,
    COPOS_ADMM,
    Sizes,
    is_splitting,
    resolve,
    runner,
)

FloatArray = NDArray[np.float64]


BoundKind = Literal["exact", "upper", "neither"]


#: copos's own solver of the program (:mod:`copos.solvers.admm.arrangement`).
ADMM_SOLVER = COPOS_ADMM


#: The thresholds of ``solver="auto"``, kept here for one release: they live, with their
#: measurements, in :mod:`copos.solvers.registry` (``ARRANGEMENT_ADMM_*``).
ADMM_FROM_ROWS = ARRANGEMENT_ADMM_FROM_ROWS
ADMM_FROM_D = ARRANGEMENT_ADMM_FROM_D


#: Default residual tolerance of the ADMM when called through :func:`solve_convex_program`.
ADMM_TOL = 1e-6


#: Relative discrepancy between the recovered network and the convex value that triggers a warning.
DEFAULT_RECOVERY_TOL = 1e-6


class RecoveredNetwork:
    """What a convex program's result knows about the network recovered from its solution."""

    value: float
    U: FloatArray
    V: FloatArray
    recovered_objective: float

    bound_kind: BoundKind
    solve: SolveInfo
    #: The architecture whose program was solved (the ADMM solves the dense one only).
    architecture: Architecture = DENSE

    @property
    def bound(self) -> Bound:
        """``value`` as a :class:`~copos.bound.Bound` on p*: ``bound_kind`` if the solve is accurate."""
        return Bound(
            value=self.value,
            claimed_kind=self.bound_kind,
            cone="arrangements",
            view="convex",
            solve=self.solve,
            time=self.solve.solve_time,
        )

    @property
    def network_bound(self) -> Bound:
        """The recovered network's objective (true ReLU, numpy): a rigorous upper bound on p*."""
        return Bound.of_network(
            self.recovered_objective,
            note="objective of the recovered network, computed with the true ReLU",
        )

    @property
    def kind(self) -> BoundKind:
        """``bound_kind`` if the solve is accurate (checked after the solve), else ``"neither"``."""
        return self.bound.kind

    @property
    def num_neurons(self) -> int:
        """Number of neurons of the recovered network (nonzero blocks)."""
        return int(self.U.shape[1])

    @property
    def recovery_gap(self) -> float:
        """Recovered network's objective minus the convex value (0 up to solver accuracy)."""
        return self.recovered_objective - self.value

    @property
    def relative_recovery_gap(self) -> float:
        """``|recovery_gap| / max(1, |value|)``."""
        return abs(self.recovery_gap) / max(1.0, abs(self.value))

    def network(self) -> Any:
        """The recovered network as a :class:`copos.nets.architectures.dense.TwoLayerReLU`.

        Raises :class:`InvalidInputError` for another architecture: its weights ``(U, V)`` are
        evaluated with ``architecture.forward((U, V), X)``.
        """
        if not isinstance(self.architecture, Dense):
            raise InvalidInputError(
                f"the recovered weights are a {self.architecture.name!r} network, not a dense "
                "TwoLayerReLU; evaluate them with result.architecture.forward((U, V), X)"
            )
        return TwoLayerReLU(self.U, self.V)


@dataclass(frozen=True, eq=False)
class ConvexProgramResult(RecoveredNetwork):
    """Solution of the Pilanci–Ergen convex program and the network recovered from it.

    Attributes
    ----------
    value:
        Optimal value of the convex program (as computed by the solver).
    bound_kind:
        ``"exact"`` for complete arrangements (value = training optimum, and a lower bound on
        every network), ``"upper"`` for incomplete ones (value = objective of a real network).
    solve:
        How the program was solved, with residuals checked afterwards.
    U, V:
        Recovered weights, shapes ``(d, m)`` and ``(m, 1)``.
    recovered_objective:
        Training objective of ``(U, V)``, computed with numpy.
    v_blocks, w_blocks:
        Solution blocks :math:`v_i`, :math:`w_i` as rows of ``(P, d)`` arrays.
    arrangements:
        The patterns used (of the stacked patch matrix :math:`M`; of ``X`` for the dense net).
    architecture:
        The architecture whose program was solved (default the dense net).
    """

    value: float
    bound_kind: BoundKind
    solve: SolveInfo
    U: FloatArray
    V: FloatArray
    recovered_objective: float
    v_blocks: FloatArray
    w_blocks: FloatArray
    arrangements: Arrangements
    architecture: Architecture = DENSE


def convex_solver(
    problem: TrainingProblem,
    arrangements: Arrangements,
    solver: str,
    fallback: str = DEFAULT_SOLVER,
) -> str:
    """Deprecated: ``copos.solvers.registry.resolve(solver, "arrangement", sizes, fallback=...)``.

    The solver that ``solve_convex_program(problem, arrangements, solver=solver)`` uses
    (``sizes`` = :func:`arrangement_sizes`).
    """
    warnings.warn(
        "copos.relaxations.convex.convex_solver is deprecated and will be removed in the next "
        "release; use copos.solvers.registry.resolve(solver, 'arrangement', "
        "arrangement_sizes(problem, arrangements), fallback=fallback)",
        DeprecationWarning,
        stacklevel=2,
    )
    return resolve(
        solver, "arrangement", arrangement_sizes(problem, arrangements), fallback=fallback
    )


def arrangement_sizes(problem: TrainingProblem, arrangements: Arrangements) -> Sizes:
    r"""What the registry's ``"auto"`` rule of the arrangement program looks at: n, d, P and
    :math:`\beta/\beta_{\max}` (:func:`arrangement_features`)."""
    ratio = arrangement_features(problem, arrangements)["beta_ratio"]
    return Sizes(problem.n, problem.d, len(arrangements), beta_ratio=ratio)


def arrangement_features(problem: TrainingProblem, arrangements: Arrangements) -> dict[str, float]:
    r"""Cheap features of a scalar-output instance that ``"auto"`` may look at before solving.

    ``beta_ratio`` :math:`= \beta / \max_i\|X^\top D_iy\|_2` (at least 1: every block is zero
    at the optimum; small: many active blocks, a dense solution) and ``beta_scaled``
    :math:`= \beta / (\|X\|_2\|y\|_2)`, the weight decay the ADMM sees after its rescaling.
    """
    X, y = problem.X, problem.Y[:, 0]
    masks = np.asarray(arrangements.patterns, dtype=np.float64)  # (P, n)
    correlations = (masks * y[None, :]) @ X  # row i: (D_i X)^T y
    largest = float(np.sqrt(np.einsum("pd,pd->p", correlations, correlations)).max(initial=0.0))
    scale = float(np.linalg.norm(X, 2)) * float(np.linalg.norm(y))
    return {
        "beta_ratio": problem.beta / largest if largest > 0 else float("inf"),
        "beta_scaled": problem.beta / scale if scale > 0 else float("inf"),
    }


def solve_convex_program(
    problem: TrainingProblem,
    arrangements: Arrangements | None = None,
    *,
    solver: str = DEFAULT_SOLVER,
    neuron_tol: float = DEFAULT_NEURON_TOL,
    recovery_tol: float = DEFAULT_RECOVERY_TOL,
    tol: float = ADMM_TOL,
    architecture: Architecture = DENSE,
) -> ConvexProgramResult | ArrangementAdmmResult:
    r"""Solve the group-lasso convex program (module docstring) and recover a ReLU network.

    .. math::

        \min_{v_i,w_i}\ \tfrac12\Big\|\sum_i A_i(v_i-w_i)-y\Big\|^2+\beta\sum_i(\|v_i\|+\|w_i\|)
        \ \ \text{s.t.}\ (2D_i-I)Mv_i\ge0,\ (2D_i-I)Mw_i\ge0

    with the architecture's data operator :math:`(X_1,\dots,X_K)`, :math:`M = [X_1;\dots;X_K]`
    and :math:`A_i = \sum_k D_i^kX_k` (:mod:`copos.nets.architectures.base`); for the dense net
    :math:`K = 1`, :math:`M = X` and :math:`A_i = D_iX`.

    Parameters
    ----------
    problem:
        Training problem with scalar output (``c = 1``).
    arrangements:
        Patterns to use; default the exact enumeration of the architecture's stacked patch
        matrix ``M`` — for the dense net ``M = X`` and the enumeration is
        :meth:`problem.arrangements() <copos.nets.problem.TrainingProblem.arrangements>`,
        computed once per problem (complete, so the value is exact).
    solver:
        ``"clarabel"`` or ``"scs"`` (CVXPY), ``"copos-admm"`` (copos's ADMM; the result is a
        :class:`~copos.solvers.admm.arrangement.ArrangementAdmmResult`, which adds a certified
        ``lower_bound``; below :math:`\beta/\beta_{\max} = 4\cdot10^{-3}` it finishes with the
        active-set phase of :mod:`copos.solvers.admm.active_set`), or ``"auto"`` (the registry's rule,
        :data:`copos.solvers.registry.AUTO_RULES`).
    neuron_tol:
        Blocks with norm ``<= neuron_tol * max block norm`` are not turned into neurons.
    recovery_tol:
        A :class:`RuntimeWarning` is issued when the recovered network's objective differs from
        the convex value by more than ``recovery_tol * max(1, |value|)``; the discrepancy is
        always recorded in the result.
    tol:
        Residual tolerance of the ADMM (ignored by the CVXPY solvers).
    architecture:
        An :class:`~copos.nets.architectures.base.Architecture` (default the dense net); the
        recovered ``(U, V)`` are its weights and ``recovered_objective`` its objective.

    Raises
    ------
    InvalidInputError
        If ``c != 1`` (use the copositive program), the patterns do not match ``M``, or
        ``copos-admm`` is asked for an architecture with ``K > 1``.
    SolverError
        If the solver returns no solution.
    UnknownSolverError
        If ``solver`` is not one of the above.
    """
    require_no_output_bias(problem, "the convex (arrangement) program")
    _check_scalar_output(problem)
    recovery_tol = check_positive(recovery_tol, "recovery_tol")
    neuron_tol = check_positive(neuron_tol, "neuron_tol")
    tol = check_positive(tol, "tol")  # checked for every solver, not only when the ADMM runs
    operator = _data_operator(architecture, problem)
    patterns = _default_patterns(problem, operator) if arrangements is None else arrangements
    if patterns.n != operator.rows:
        raise InvalidInputError(
            f"arrangements have patterns of length {patterns.n}, but "
            + (f"X has {problem.n} rows" if operator.K == 1 else f"M has {operator.rows} rows")
        )
    ratio = arrangement_features(problem, patterns)["beta_ratio"] if operator.K == 1 else math.inf
    chosen = _choose_solver(solver, operator, len(patterns), beta_ratio=ratio)
    if is_splitting(chosen):
        result = solve_arrangement_admm(
            problem, patterns, tol=tol, neuron_tol=neuron_tol, solver=chosen
        )
        _warn_if_inconsistent(result, recovery_tol)
        return result
    program, v_var, w_var = _build_program(operator, problem, patterns)
    info = solve(program, solver=chosen)
    require_solution(program, info)
    v_blocks = np.asarray(v_var.value, dtype=np.float64).T
    w_blocks = np.asarray(w_var.value, dtype=np.float64).T
    U, V = recover_from_convex(v_blocks, w_blocks, neuron_tol=neuron_tol)
    result = ConvexProgramResult(
        value=float(program.value),
        bound_kind="exact" if patterns.complete else "upper",
        solve=info,
        U=U,
        V=V,
        recovered_objective=architecture.objective((U, V), problem),
        v_blocks=v_blocks,
        w_blocks=w_blocks,
        arrangements=patterns,
        architecture=architecture,
    )
    _warn_if_inconsistent(result, recovery_tol)
    return result


def _data_operator(architecture: Architecture, problem: TrainingProblem) -> DataOperator:
    if not isinstance(architecture, Architecture):
        raise InvalidInputError(
            f"architecture must follow copos.nets.architectures.base.Architecture; got "
            f"{type(architecture).__name__}"
        )
    return architecture.data_operator(problem.X)


def _default_patterns(problem: TrainingProblem, operator: DataOperator) -> Arrangements:
    """The exact enumeration over ``M``: the problem's cached one when ``M = X`` (the dense net)."""
    if operator.K == 1 and np.array_equal(operator.stacked, problem.X):
        return problem.arrangements()
    return enumerate_arrangements(operator.stacked)


def _choose_solver(
    solver: str, operator: DataOperator, patterns: int, beta_ratio: float = math.inf
) -> str:
    """The registry's choice; the splittings solve the dense program only (``"auto"`` then falls back)."""
    sizes = Sizes(operator.rows, operator.h, patterns, beta_ratio=beta_ratio)
    chosen = resolve(solver, "arrangement", sizes)
    if not is_splitting(chosen) or operator.K == 1:
        return chosen
    if str(solver).lower() == "auto":
        return resolve(DEFAULT_SOLVER)
    raise InvalidInputError(
        f"{chosen} solves the dense arrangement program only (K = 1 patch); this "
        f"architecture has K = {operator.K}: use solver='clarabel' or 'scs'"
    )


@dataclass(frozen=True, eq=False)
class ArrangementAdmmResult(RecoveredNetwork):
    """Result of :func:`solve_arrangement_admm`.

    The ADMM itself (:func:`copos.solvers.admm.arrangement.solve_arrangement_blocks`) knows
    operators, not networks: :func:`solve_arrangement_admm` recovers the network and labels the
    bound here.

    Attributes
    ----------
    value:
        Convex objective at the returned blocks ``(v_blocks, w_blocks)``.  These satisfy the cone
        constraints only up to the ADMM accuracy (see ``cone_violation``).
    lower_bound:
        Dual-certificate lower bound on the optimal value of the program over ``arrangements``
        (valid for any accuracy; see the module docstring).  With complete arrangements it is a
        lower bound on every network's training objective.
    bound_kind:
        For a converged solve (status ``"optimal"``): ``"exact"`` for complete arrangements,
        ``"upper"`` for sampled ones (as in :class:`copos.relaxations.convex.ConvexProgramResult`).
        Not converged: ``"neither"`` (the blocks meet the cones only approximately, so ``value``
        is not a network's objective; ``lower_bound`` and ``recovered_objective`` still hold).
    solve:
        Solver, status (``"optimal"``: residuals and certified gap within ``tol``;
        ``"max_iterations"``, ``"time_limit"`` or ``"diverged"``), time, the final stopping
        residuals (``primal_residual``/``dual_residual``, relative, rescaled units) and ``extra``
        diagnostics.
    U, V:
        Recovered network, shapes ``(d, m)`` and ``(m, 1)``
        (:func:`copos.recovery.convex.recover_from_convex`).
    recovered_objective:
        Training objective of ``(U, V)`` with the true ReLU (an actual network, hence an upper
        bound on the training optimum at width ``m``).
    v_blocks, w_blocks:
        Blocks :math:`v_i`, :math:`w_i` as rows of ``(P, d)`` arrays.
    cone_violation:
        :math:`\\max_{i,j}\\big(-(E_iXb_i)_j\\big)_+` over all returned blocks, divided by
        ``max(1e-300, max_i ||X b_i||_inf)`` (relative to the size of the pre-activations).
    arrangements:
        The patterns used.
    state:
        Final iterate, for ``warm_start``.
    """

    value: float
    lower_bound: float
    bound_kind: BoundKind
    solve: SolveInfo
    U: FloatArray
    V: FloatArray
    recovered_objective: float
    v_blocks: FloatArray
    w_blocks: FloatArray
    cone_violation: float
    arrangements: Arrangements
    state: admm.AdmmState

    @property
    def status(self) -> str:
        """``"optimal"``, ``"max_iterations"``, ``"time_limit"`` or ``"diverged"``."""
        return self.solve.status

    @property
    def dual_bound(self) -> Bound:
        """``lower_bound`` as a certified :class:`~copos.bound.Bound`: lower on p* with complete
        arrangements, on the program over the sampled ones otherwise."""
        quantity = TRAINING_OPTIMUM if self.arrangements.complete else "convex(sampled)"
        return Bound(
            value=self.lower_bound,
            claimed_kind="lower",
            quantity=quantity,
            cone="arrangements",
            view="dual",
            solve=self.solve,
            time=self.solve.solve_time,
            note="Pilanci-Ergen dual at the ADMM multipliers (weak duality)",
            certified=True,
        )

    @property
    def iterations(self) -> int:
        """Number of ADMM iterations performed."""
        return int(self.solve.iterations or 0)

    @property
    def duality_gap(self) -> float:
        """``recovered_objective - lower_bound``.

        With complete arrangements both are certified (the lower bound holds for every network),
        so this is >= 0 up to rounding.  With sampled arrangements the lower bound only bounds the
        sampled program, and the recovered network (whose true activation patterns may differ
        from the sampled ones when ``cone_violation > 0``) can lie below it, so it may be < 0.
        """
        return self.recovered_objective - self.lower_bound

    @property
    def relative_duality_gap(self) -> float:
        """``duality_gap / max(1e-300, |recovered_objective|)``."""
        return self.duality_gap / max(1e-300, abs(self.recovered_objective))


def solve_arrangement_admm(
    problem: TrainingProblem,
    arrangements: Arrangements,
    *,
    rho: float | None = admm.DEFAULT_RHO,
    tol: float = 1e-6,
    max_iters: int = admm.DEFAULT_MAX_ITERS,
    warm_start: ArrangementAdmmResult | admm.AdmmState | None = None,
    time_limit: float | None = None,
    adaptive_rho: bool = True,
    sigma: float = admm.DEFAULT_SIGMA,
    relaxation: float = admm.DEFAULT_RELAXATION,
    anderson: int = admm.DEFAULT_ANDERSON,
    anderson_every: int = admm.DEFAULT_ANDERSON_EVERY,
    check_every: int = admm.DEFAULT_CHECK_EVERY,
    neuron_tol: float = DEFAULT_NEURON_TOL,
    solver: str = COPOS_ADMM,
) -> ArrangementAdmmResult:
    r"""Solve the c = 1 convex program over ``arrangements`` by ADMM (:mod:`copos.solvers.admm.arrangement`).

    ``solver`` names the registered splitting that runs it (``copos-admm`` by default; another
    splitting's runner takes the same arguments, see ``copos.solvers.registry``).

    Parameters
    ----------
    problem:
        Training problem with scalar output (``c = 1``).
    arrangements:
        Activation patterns (complete from ``enumerate_arrangements`` or sampled).
    rho, tol, max_iters, warm_start, time_limit, adaptive_rho, sigma, relaxation, anderson, anderson_every, check_every:
        The splitting's settings, as documented in
        :func:`copos.solvers.admm.arrangement.solve_arrangement_blocks` (``warm_start`` may also
        be a previous :class:`ArrangementAdmmResult`).
    neuron_tol:
        Passed to :func:`copos.recovery.convex.recover_from_convex`.

    Raises
    ------
    InvalidInputError
        ``c != 1`` (the program and Bai et al.'s ADMM are for scalar outputs), patterns of the
        wrong length, no patterns, or bad parameters.
    """
    require_no_output_bias(problem, "the arrangement ADMM")
    start = time.perf_counter()
    _check_admm_problem(problem, arrangements)
    neuron_tol = check_positive(neuron_tol, "neuron_tol")
    solution = runner(solver, "arrangement")(
        problem.X,
        problem.Y[:, 0],
        problem.beta,
        arrangements.patterns,
        rho=rho,
        tol=tol,
        max_iters=max_iters,
        warm_start=warm_start,
        time_limit=time_limit,
        adaptive_rho=adaptive_rho,
        sigma=sigma,
        relaxation=relaxation,
        anderson=anderson,
        anderson_every=anderson_every,
        check_every=check_every,
    )
    U, V = recover_from_convex(solution.v_blocks, solution.w_blocks, neuron_tol=neuron_tol)
    recovered = network_objective(problem, U, V)
    return ArrangementAdmmResult(
        value=solution.value,
        lower_bound=solution.lower_bound,
        bound_kind=_admm_bound_kind(solution.solve.status, arrangements.complete),
        solve=replace(solution.solve, solve_time=time.perf_counter() - start),
        U=U,
        V=V,
        recovered_objective=recovered,
        v_blocks=solution.v_blocks,
        w_blocks=solution.w_blocks,
        cone_violation=solution.cone_violation,
        arrangements=arrangements,
        state=solution.state,
    )


def _check_admm_problem(problem: TrainingProblem, arrangements: Arrangements) -> None:
    if problem.c != 1:
        raise InvalidInputError(
            f"solve_arrangement_admm needs a scalar output (c = 1); got c = {problem.c}. Bai et "
            "al.'s ADMM is for the scalar-output Pilanci-Ergen program; for vector outputs use the "
            "copositive program of Sahiner et al. (2021) or its relaxations."
        )
    if not isinstance(arrangements, Arrangements):
        raise InvalidInputError(
            f"arrangements must be an Arrangements object; got {type(arrangements).__name__}"
        )
    if arrangements.n != problem.n:
        raise InvalidInputError(
            f"arrangements have patterns of length {arrangements.n}, but X has {problem.n} rows"
        )
    if len(arrangements) == 0:
        raise InvalidInputError("arrangements is empty; at least one pattern is needed")


def _admm_bound_kind(status: str, complete: bool) -> BoundKind:
    """``exact``/``upper`` (complete/sampled patterns) after convergence, ``neither`` before."""
    if status != "optimal":
        return "neither"
    return "exact" if complete else "upper"


def _check_scalar_output(problem: TrainingProblem) -> None:
    if problem.c != 1:
        raise InvalidInputError(
            f"the Pilanci-Ergen convex program needs a scalar output (c = 1); got c = {problem.c}. "
            "For vector outputs use the copositive program of Sahiner et al. (2021) or its "
            "doubly-nonnegative relaxation."
        )


def _group_norms(blocks: cp.Variable) -> cp.Expression:
    r""":math:`\sum_i \|b_i\|_2` over the columns :math:`b_i` of ``blocks``."""
    return cp.sum(cp.norm(blocks, 2, axis=0))


def _build_program(
    operator: DataOperator,
    problem: TrainingProblem,
    patterns: Arrangements,
    penalty: Callable[[cp.Variable], cp.Expression] = _group_norms,
) -> tuple[cp.Problem, cp.Variable, cp.Variable]:
    r"""The cvxpy problem with block variables stored as columns of two ``(h, P)`` matrices.

    Prediction :math:`\sum_k\sum_i D_i^kX_k(v_i - w_i)`, cones :math:`(2D_i - I)Mv_i \ge 0`;
    ``penalty`` is the sum of the blocks' norms (:math:`\ell_2` by default; the circular
    program of :mod:`copos.relaxations.conv` passes the spectral :math:`\ell_1` norm).
    """
    masks = patterns.masks.T
    signs = 2.0 * masks - 1.0
    M = operator.stacked
    v_var = cp.Variable((operator.h, len(patterns)), name="v")
    w_var = cp.Variable((operator.h, len(patterns)), name="w")
    terms = [
        cp.sum(cp.multiply(block, X_k @ (v_var - w_var)), axis=1)
        for block, X_k in zip(operator.blocks(masks), operator.patches, strict=True)
    ]
    prediction = functools.reduce(operator_module.add, terms)
    regulariser = penalty(v_var) + penalty(w_var)
    objective = 0.5 * cp.sum_squares(prediction - problem.Y[:, 0]) + problem.beta * regulariser
    constraints = [cp.multiply(signs, M @ v_var) >= 0, cp.multiply(signs, M @ w_var) >= 0]
    return cp.Problem(cp.Minimize(objective), constraints), v_var, w_var


def _warn_if_inconsistent(
    result: ConvexProgramResult | ArrangementAdmmResult, recovery_tol: float
) -> None:
    if result.relative_recovery_gap > recovery_tol:
        warnings.warn(
            f"the recovered network's objective {result.recovered_objective:.10g} differs from the "
            f"convex value {result.value:.10g} by {result.recovery_gap:.3g} (solve status "
            f"{result.solve.status!r}); tighten the solver tolerance or lower neuron_tol",
            RuntimeWarning,
            stacklevel=3,
        )
