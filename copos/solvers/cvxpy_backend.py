"""Solve cvxpy problems with SCS or Clarabel, fall back on failure, and check the answer.

Every program of copos that is modelled in cvxpy is solved by :func:`solve`.  It compiles the
problem to the solver's conic form :math:`\\min \\tfrac12x^\\top Px + c^\\top x` s.t.
:math:`Ax + s = b,\\ s \\in K`, runs the solver, and recomputes from the raw primal-dual point
the primal residual, the dual residual and the duality gap (:class:`~copos.solvers.SolveInfo`),
so that "accurate" never rests on the solver's own word.
"""

from __future__ import annotations

import time
import types
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from copos._deprecation import deprecated_alias
from copos.errors import SolverError
from copos.solvers import registry
from copos.solvers.base import DEFAULT_ACCURACY, GAP_FLOOR, SolveInfo
from copos.solvers.registry import DEFAULT_SOLVER


class _CvxpyView(Mapping[str, Any]):
    """Read-only, live view of the registry's CVXPY solvers: name -> ``attribute`` of the entry."""

    def __init__(self, attribute: str) -> None:
        self._attribute = attribute

    def __getitem__(self, name: str) -> Any:
        for entry in registry.solvers(family="cvxpy"):
            if entry.name == name:
                return getattr(entry, self._attribute)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter([entry.name for entry in registry.solvers(family="cvxpy")])

    def __len__(self) -> int:
        return len(registry.solvers(family="cvxpy"))

    def __repr__(self) -> str:
        return repr(dict(self))


#: Solver names accepted by copos, mapped to cvxpy's names (the registry's "cvxpy" entries).
CVXPY_SOLVERS: Mapping[str, str] = _CvxpyView("cvxpy_name")

#: Default options: tight enough that the after-solve checks usually pass.
DEFAULT_OPTIONS: Mapping[str, Mapping[str, Any]] = _CvxpyView("options")

#: Statuses after which cvxpy holds a primal (and dual) point.
SOLUTION_STATUSES = ("optimal", "optimal_inaccurate")
#: Status of a point that the solver left when it failed (checked, never trusted).
LAST_ITERATE = "last_iterate"
#: Clarabel statuses whose iterate is kept (as :data:`LAST_ITERATE`) when nothing else worked.
_CLARABEL_FAILURES = ("NumericalError", "MaxIterations", "MaxTime", "InsufficientProgress")


#: Deprecated: :func:`copos.solvers.registry.resolve` (its default program is ``"conic"``).
resolve_solver = deprecated_alias(registry.resolve, "resolve_solver", __name__)


@dataclass
class _Attempt:
    """One solve of the fallback chain: its checked info and what is needed to restore it."""

    info: SolveInfo
    raw: Any = None
    chain: Any = None
    inverse: Any = None
    data: Any = None

    @property
    def usable(self) -> bool:
        return self.info.status in SOLUTION_STATUSES


def fallback_chain(solver: str, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The solves tried in order: the requested one, the other solver, Clarabel with one thread.

    Duplicates (e.g. a request for Clarabel with ``max_threads=1``) are tried once.
    """
    key = registry.resolve(solver, "conic")
    chain = [(key, {**DEFAULT_OPTIONS[key], **options})]
    for other in registry.solvers("conic", "cvxpy"):
        if other.fallback and other.name != key and other.available():
            chain.append((other.name, dict(other.options)))
    chain.append(("clarabel", {**DEFAULT_OPTIONS["clarabel"], "max_threads": 1}))
    unique: list[tuple[str, dict[str, Any]]] = []
    for entry in chain:
        if entry not in unique:
            unique.append(entry)
    return unique


def solve(
    problem: cp.Problem,
    solver: str = DEFAULT_SOLVER,
    accuracy: float = DEFAULT_ACCURACY,
    *,
    fallback: bool = True,
    objective_scale: float = GAP_FLOOR,
    **options: Any,
) -> SolveInfo:
    """Solve ``problem`` and return a :class:`SolveInfo` whose residuals and gap copos checked.

    Fallback chain (:func:`fallback_chain`): when a solve returns no point, the next one is
    tried; the first that returns a point (status ``optimal`` or ``optimal_inaccurate``) is kept.
    If none does, the last iterate any solver left (finite) is loaded into the problem's
    variables with status :data:`LAST_ITERATE`: it is checked like any other point but never
    counts as accurate.  Every attempt is recorded in ``SolveInfo.attempts``.  A solver failure
    is a status, never an exception; :func:`require_solution` decides whether it is fatal.
    ``objective_scale`` is the smallest objective magnitude the gap and the dual residual are
    measured against (:func:`conic_checks`); pass the problem's natural unit when its optimum
    may be exactly 0 (e.g. a membership margin).
    """
    chain = fallback_chain(solver, options)
    if not fallback:
        chain = chain[:1]
    attempts: list[_Attempt] = []
    for key, settings in chain:
        attempt = _attempt(problem, key, settings, accuracy, objective_scale)
        attempts.append(attempt)
        if attempt.usable:
            break
    chosen = attempts[-1]
    if not chosen.usable:
        chosen = _last_iterate(problem, attempts, accuracy, objective_scale) or chosen
    record = tuple(_summary(a, settings) for a, (_, settings) in zip(attempts, chain, strict=False))
    return replace(chosen.info, attempts=record)


def _summary(attempt: _Attempt, settings: Mapping[str, Any]) -> dict[str, Any]:
    info = attempt.info
    return {
        "solver": info.solver,
        "options": {k: v for k, v in settings.items() if isinstance(v, int | float | str)},
        "status": info.status,
        "time": info.solve_time,
        "message": info.extra.get("message", ""),
    }


def _attempt(
    problem: cp.Problem,
    key: str,
    settings: Mapping[str, Any],
    accuracy: float,
    objective_scale: float = GAP_FLOOR,
) -> _Attempt:
    """Compile, solve, unpack and check once; a solver exception becomes a status."""
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # cvxpy warns on inaccurate solutions; copos reports the status and residuals instead.
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            data, chain, inverse = problem.get_problem_data(
                CVXPY_SOLVERS[key], solver_opts=dict(settings)
            )
            raw = chain.solver.solve_via_data(data, False, False, dict(settings))
            problem.unpack_results(raw, chain, inverse)
    except (cp.error.SolverError, ValueError, ArithmeticError) as exc:
        return _Attempt(_failed_info(key, start, accuracy, str(exc)))
    status = str(problem.status)
    elapsed = time.perf_counter() - start
    data = {**data, "offset": _objective_offset(inverse)}
    info = _checked_info(problem, key, status, elapsed, accuracy, data, raw, objective_scale)
    return _Attempt(info, raw, chain, inverse, data)


def _objective_offset(inverse: Any) -> float:
    """The constant cvxpy moved out of the conic objective (0 if it cannot be found)."""
    try:
        offset = float(inverse[-1].inverse_data["offset"])
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return 0.0
    return offset if np.isfinite(offset) else 0.0


def _failed_info(key: str, start: float, accuracy: float, message: str) -> SolveInfo:
    return SolveInfo(
        solver=key,
        status="solver_error",
        solve_time=time.perf_counter() - start,
        accuracy=accuracy,
        extra={"message": message},
    )


def _checked_info(
    problem: cp.Problem,
    key: str,
    status: str,
    elapsed: float,
    accuracy: float,
    data: Mapping[str, Any],
    raw: Any,
    objective_scale: float = GAP_FLOOR,
) -> SolveInfo:
    """SolveInfo with residuals and gap recomputed from the raw conic point (nan if none)."""
    stats = problem.solver_stats
    iterations = None if stats is None else stats.num_iters
    extra: dict[str, Any] = {"raw_status": _raw_status(raw)}
    if status not in SOLUTION_STATUSES and status != LAST_ITERATE:
        return SolveInfo(
            key, status, elapsed, iterations=iterations, accuracy=accuracy, extra=extra
        )
    checks = conic_checks(data, *_raw_point(raw), objective_scale=objective_scale)
    scale_b = 1.0 + _inf_norm(data["b"])
    return SolveInfo(
        solver=key,
        status=status,
        solve_time=elapsed,
        primal_residual=max(checks["primal"], primal_residual(problem) / scale_b),
        dual_residual=max(checks["dual"], dual_residual(problem) / (1.0 + _inf_norm(data["c"]))),
        iterations=iterations,
        accuracy=accuracy,
        extra=extra,
        gap=checks["gap"],
        gap_source="recomputed",
    )


def conic_checks(
    data: Mapping[str, Any],
    x: np.ndarray | None,
    s: np.ndarray | None,
    z: np.ndarray | None,
    *,
    objective_scale: float = GAP_FLOOR,
) -> dict[str, float]:
    r"""Relative primal residual, dual residual and gap of a conic point (see SolveInfo).

    With :math:`r = Px + c + A^\top z`: primal :math:`\|Ax+s-b\|_\infty/(1+\|b\|_\infty)`,
    dual :math:`\max(\|r\|_\infty/(1+\|c\|_\infty),\ \sum_j|r_jx_j|/\max(|p|,|d|,\gamma))`, gap
    :math:`|p-d|/\max(|p|,|d|,\gamma)` (:math:`\gamma` = ``objective_scale``), where :math:`p = \tfrac12x^\top Px + c^\top x` and
    :math:`d = -\tfrac12x^\top Px - b^\top z`, both plus the constant ``data["offset"]`` in the
    denominators (NaN when the point is missing or not finite).
    """
    nan = {"primal": float("nan"), "dual": float("nan"), "gap": float("nan")}
    if x is None or s is None or z is None:
        return nan
    x, s, z = (np.asarray(v, dtype=float) for v in (x, s, z))
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(s)) and np.all(np.isfinite(z))):
        return nan
    A = sp.csc_matrix(data["A"])
    b = np.asarray(data["b"], dtype=float)
    c = np.asarray(data["c"], dtype=float)
    P = data.get("P")
    Px = np.zeros_like(x) if P is None else sp.csc_matrix(P) @ x
    quadratic = float(x @ Px)
    primal_obj = 0.5 * quadratic + float(c @ x)
    dual_obj = -0.5 * quadratic - float(b @ z)
    offset = float(data.get("offset", 0.0))
    scale = max(abs(primal_obj + offset), abs(dual_obj + offset), objective_scale)
    r = Px + c + A.T @ z
    return {
        "primal": _inf_norm(A @ x + s - b) / (1.0 + _inf_norm(b)),
        "dual": max(_inf_norm(r) / (1.0 + _inf_norm(c)), float(np.sum(np.abs(r * x))) / scale),
        "gap": abs(primal_obj - dual_obj) / scale,
    }


def _inf_norm(vector: Any) -> float:
    array = np.asarray(vector, dtype=float)
    return float(np.max(np.abs(array))) if array.size else 0.0


def _raw_point(raw: Any) -> tuple[Any, Any, Any]:
    """``(x, s, z)`` of a raw Clarabel solution or SCS dictionary."""
    if isinstance(raw, Mapping):
        return raw.get("x"), raw.get("s"), raw.get("y")
    return getattr(raw, "x", None), getattr(raw, "s", None), getattr(raw, "z", None)


def _raw_status(raw: Any) -> str:
    if isinstance(raw, Mapping):
        return str(raw.get("info", {}).get("status", ""))
    return str(getattr(raw, "status", ""))


def _last_iterate(
    problem: cp.Problem, attempts: list[_Attempt], accuracy: float, objective_scale: float
) -> _Attempt | None:
    """Load the last finite iterate any attempt left into ``problem`` (status LAST_ITERATE)."""
    for attempt in reversed(attempts):
        proxy = _as_inaccurate(attempt.raw)
        if proxy is None:
            continue
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                problem.unpack_results(proxy, attempt.chain, attempt.inverse)
        except (cp.error.SolverError, ValueError, KeyError, TypeError):
            continue
        info = attempt.info
        checked = _checked_info(
            problem,
            info.solver,
            LAST_ITERATE,
            info.solve_time,
            accuracy,
            attempt.data,
            attempt.raw,
            objective_scale,
        )
        message = f"last iterate of {info.solver} (status {info.extra.get('raw_status', '')})"
        checked = replace(checked, extra={**checked.extra, "message": message})
        return _Attempt(checked, attempt.raw, attempt.chain, attempt.inverse, attempt.data)
    return None


def _as_inaccurate(raw: Any) -> Any:
    """A copy of a failed raw solution that cvxpy unpacks as ``optimal_inaccurate`` (or None)."""
    x, s, z = _raw_point(raw)
    if x is None or z is None or not (np.all(np.isfinite(x)) and np.all(np.isfinite(z))):
        return None
    if isinstance(raw, Mapping):
        info = {**raw.get("info", {}), "status_val": 2, "status": "solved_inaccurate"}
        return {**raw, "info": info}
    if str(getattr(raw, "status", "")) not in _CLARABEL_FAILURES:
        return None
    return types.SimpleNamespace(
        x=x,
        z=z,
        s=s,
        status="AlmostSolved",
        solve_time=raw.solve_time,
        iterations=raw.iterations,
        obj_val=raw.obj_val,
    )


def require_solution(problem: cp.Problem, info: SolveInfo) -> None:
    """Raise :class:`SolverError` if the solve returned no usable point.

    A :data:`LAST_ITERATE` is usable (its numbers are checked and never count as accurate).
    """
    if info.status not in (*SOLUTION_STATUSES, LAST_ITERATE):
        message = info.extra.get("message", "")
        tried = ", ".join(f"{a['solver']}: {a['status']}" for a in info.attempts)
        raise SolverError(
            f"{info.solver} returned status {info.status!r}{': ' + message if message else ''}"
            f"{'; tried ' + tried if tried else ''}; check the problem data"
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
