"""What every solve reports: solver, status, time and the residuals checked after the solve."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Residual (absolute, scaled by max(1, size of the data)) below which a solve counts as accurate.
DEFAULT_ACCURACY = 1e-6


@dataclass(frozen=True)
class SolveInfo:
    """How a convex program was solved, checked independently after the solver returned.

    ``primal_residual`` is the largest constraint violation of the returned primal point and
    ``dual_residual`` the largest distance of the returned dual multipliers from their dual
    cones, both recomputed by copos from the solution (not copied from the solver's log).
    """

    solver: str
    status: str
    solve_time: float
    primal_residual: float = float("nan")
    dual_residual: float = float("nan")
    iterations: int | None = None
    accuracy: float = DEFAULT_ACCURACY
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def optimal(self) -> bool:
        """The solver claims optimality (cvxpy status ``optimal``)."""
        return self.status == "optimal"

    @property
    def accurate(self) -> bool:
        """Optimal and both residuals, recomputed after the solve, within ``accuracy``."""
        return (
            self.optimal
            and self.primal_residual <= self.accuracy
            and (self.dual_residual != self.dual_residual or self.dual_residual <= self.accuracy)
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dictionary."""
        data = asdict(self)
        data["accurate"] = self.accurate
        return data
