"""Solver interfaces: cvxpy with SCS or Clarabel, and PICOS with cvxopt for cross-checks."""

from copos.solvers.base import DEFAULT_ACCURACY, SolveInfo
from copos.solvers.cvxpy_backend import (
    CVXPY_SOLVERS,
    DEFAULT_SOLVER,
    LAST_ITERATE,
    fallback_chain,
    require_solution,
    resolve_solver,
    solve,
)

__all__ = [
    "CVXPY_SOLVERS",
    "DEFAULT_ACCURACY",
    "DEFAULT_SOLVER",
    "LAST_ITERATE",
    "SolveInfo",
    "fallback_chain",
    "require_solution",
    "resolve_solver",
    "solve",
]
