"""Solve cvxpy problems with SCS or Clarabel and check the answer afterwards."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from typing import Any

import cvxpy as cp
import numpy as np

from copos.errors import SolverError, UnknownSolverError
from copos.solvers.base import DEFAULT_ACCURACY, SolveInfo

#: Solver names accepted by copos, mapped to cvxpy's names.
CVXPY_SOLVERS: Mapping[str, str] = {"clarabel": cp.CLARABEL, "scs": cp.SCS}

#: Default options: tight enough that the after-solve checks usually pass.
DEFAULT_OPTIONS: Mapping[str, Mapping[str, Any]] = {
    "clarabel": {},
    "scs": {"eps_abs": 1e-7, "eps_rel": 1e-7, "max_iters": 200_000},
}

DEFAULT_SOLVER = "clarabel"


def resolve_solver(name: str) -> str:
    """Return copos's canonical solver name, or raise :class:`UnknownSolverError`."""
    key = str(name).lower()
    if key not in CVXPY_SOLVERS:
        known = ", ".join(sorted(CVXPY_SOLVERS))
        raise UnknownSolverError(f"unknown solver {name!r}; choose one of: {known}")
    if CVXPY_SOLVERS[key] not in cp.installed_solvers():
        raise UnknownSolverError(f"solver {name!r} is not installed; pip install {key}")
    return key


def solve(
    problem: cp.Problem,
    solver: str = DEFAULT_SOLVER,
    accuracy: float = DEFAULT_ACCURACY,
    **options: Any,
) -> SolveInfo:
    """Solve ``problem`` with ``solver`` and return a :class:`SolveInfo` with checked residuals.

    A solver exception becomes a ``SolveInfo`` whose status names the failure, never a silent
    wrong value; callers decide whether that is fatal.
    """
    key = resolve_solver(solver)
    settings = {**DEFAULT_OPTIONS[key], **options}
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # cvxpy warns on inaccurate solutions; copos reports the status and residuals instead.
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            problem.solve(solver=CVXPY_SOLVERS[key], **settings)
    except cp.error.SolverError as exc:
        return SolveInfo(
            solver=key,
            status="solver_error",
            solve_time=time.perf_counter() - start,
            accuracy=accuracy,
            extra={"message": str(exc)},
        )
    elapsed = time.perf_counter() - start
    stats = problem.solver_stats
    return SolveInfo(
        solver=key,
        status=str(problem.status),
        solve_time=elapsed,
        primal_residual=primal_residual(problem),
        dual_residual=dual_residual(problem),
        iterations=None if stats is None else stats.num_iters,
        accuracy=accuracy,
    )


def require_solution(problem: cp.Problem, info: SolveInfo) -> None:
    """Raise :class:`SolverError` if the solve returned no usable point."""
    if info.status not in ("optimal", "optimal_inaccurate"):
        message = info.extra.get("message", "")
        raise SolverError(
            f"{info.solver} returned status {info.status!r}{': ' + message if message else ''}; "
            "try the other solver or check the problem data"
        )


def primal_residual(problem: cp.Problem) -> float:
    """Largest violation of any constraint at the current primal point (inf if none)."""
    worst = 0.0
    for constraint in problem.constraints:
        try:
            violation = np.max(np.atleast_1d(constraint.violation()))
        except (ValueError, TypeError):
            return float("inf")
        if not np.isfinite(violation):
            return float("inf")
        worst = max(worst, float(violation))
    return worst


def dual_residual(problem: cp.Problem) -> float:
    """Largest distance of a returned multiplier from its dual cone (nan if none returned)."""
    worst = 0.0
    seen = False
    for constraint in problem.constraints:
        value = constraint.dual_value
        if value is None:
            continue
        seen = True
        worst = max(worst, _dual_cone_distance(constraint, value))
    return worst if seen else float("nan")


def _dual_cone_distance(constraint: cp.constraints.Constraint, value: Any) -> float:
    if isinstance(constraint, cp.constraints.PSD):
        matrix = np.asarray(value, dtype=float)
        if matrix.ndim < 2:
            return 0.0
        sym = (matrix + matrix.T) / 2
        return max(0.0, -float(np.linalg.eigvalsh(sym)[0]))
    if isinstance(constraint, cp.constraints.Inequality | cp.constraints.NonNeg):
        return max(0.0, -float(np.min(np.asarray(value, dtype=float))))
    return 0.0
