"""Solver interfaces: cvxpy with SCS or Clarabel, copos's splittings, and the registry of names."""

from copos.solvers.base import DEFAULT_ACCURACY, SolveInfo
from copos.solvers.cvxpy_backend import (
    CVXPY_SOLVERS,
    LAST_ITERATE,
    fallback_chain,
    require_solution,
    resolve_solver,
    solve,
)
from copos.solvers.registry import DEFAULT_SOLVER, Sizes, SolverEntry, register, resolve

__all__ = [
    "CVXPY_SOLVERS",
    "DEFAULT_ACCURACY",
    "DEFAULT_SOLVER",
    "LAST_ITERATE",
    "Sizes",
    "SolveInfo",
    "SolverEntry",
    "fallback_chain",
    "register",
    "require_solution",
    "resolve",
    "resolve_solver",
    "solve",
]
