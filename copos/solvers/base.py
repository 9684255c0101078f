"""What every solve reports: solver, status, time and the residuals checked after the solve."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

#: Relative tolerance on the primal residual, the dual residual and the duality gap (each
#: measured relative to the data's scale, see :class:`SolveInfo`) below which a solve counts
#: as accurate.
DEFAULT_ACCURACY = 1e-6

#: Where :attr:`SolveInfo.gap` comes from: recomputed by copos from the primal and dual points,
#: read from the solver's own primal and dual objectives, or not available.
GapSource = Literal["recomputed", "solver", "none"]


@dataclass(frozen=True)
class SolveInfo:
    r"""How a convex program was solved, checked independently after the solver returned.

    For the conic form :math:`\min\ \tfrac12x^\top Px + c^\top x` s.t. :math:`Ax + s = b`,
    :math:`s \in K` with dual :math:`z \in K^*` (objectives :math:`p`, :math:`d`), copos
    recomputes from the returned point

    .. math::

        r_p = \frac{\|Ax + s - b\|_\infty}{1 + \|b\|_\infty},\quad
        r_d = \max\Big(\frac{\|Px + c + A^\top z\|_\infty}{1 + \|c\|_\infty},\
        \frac{\sum_j|(Px + c + A^\top z)_jx_j|}{\max(|p|, |d|, \gamma)}\Big),\quad
        g = \frac{|p - d|}{\max(|p|, |d|, \gamma)}

    (:math:`\gamma` = :data:`GAP_FLOOR`).  The second term of :math:`r_d` is the dual
    infeasibility measured in objective units at the scale of the solution: since
    :math:`p - d = \langle x, Px + c + A^\top z\rangle + \langle s, z\rangle`, it bounds how far
    the dual objective can be from a valid bound.  A small absolute residual on a program whose
    objective is ~1e-4 and whose solution is ~1e5 is therefore *not* accurate.  ``primal_residual``
    and ``dual_residual`` also include the constraint violation and the dual-cone distance that
    cvxpy reports in the user's variables (scaled the same way).  ``gap_source`` says whether
    ``gap`` was recomputed by copos or read from the solver.  ``attempts`` lists every solve of the
    fallback chain (:func:`copos.solvers.cvxpy_backend.solve`).
    """

    solver: str
    status: str
    solve_time: float
    primal_residual: float = float("nan")
    dual_residual: float = float("nan")
    iterations: int | None = None
    accuracy: float = DEFAULT_ACCURACY
    extra: dict[str, Any] = field(default_factory=dict)
    gap: float = float("nan")
    gap_source: GapSource = "none"
    attempts: tuple[dict[str, Any], ...] = ()

    @property
    def optimal(self) -> bool:
        """The solver claims optimality (cvxpy status ``optimal``)."""
        return self.status == "optimal"

    @property
    def accurate(self) -> bool:
        """Optimal, and primal residual, dual residual and gap all finite and ``<= accuracy``.

        A NaN (not computed) residual or gap fails: nothing unchecked counts as accurate.
        """
        return self.optimal and all(
            _within(value, self.accuracy)
            for value in (self.primal_residual, self.dual_residual, self.gap)
        )

    @property
    def verified(self) -> bool:
        """Alias of :attr:`accurate`: every check after the solve passed."""
        return self.accurate

    def failed_checks(self) -> list[str]:
        """Which of status, primal residual, dual residual and gap failed (empty if accurate)."""
        failures = [] if self.optimal else [f"status {self.status!r}"]
        for name, value in (
            ("primal residual", self.primal_residual),
            ("dual residual", self.dual_residual),
            ("duality gap", self.gap),
        ):
            if not _within(value, self.accuracy):
                failures.append(f"{name} {value:.2e} > {self.accuracy:.0e}")
        return failures

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dictionary (non-finite floats become ``None``)."""
        data = asdict(self)
        data["attempts"] = list(self.attempts)
        data["accurate"] = self.accurate
        return _json_safe(data)


def _within(value: float, bound: float) -> bool:
    """``value`` is a finite number ``<= bound`` (NaN and infinities fail)."""
    return isinstance(value, int | float) and math.isfinite(value) and value <= bound


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


#: Smallest objective magnitude used to make the gap and the dual residual relative.
GAP_FLOOR = 1e-12


@runtime_checkable
class ProblemData(Protocol):
    r"""The data :math:`(X, Y, \beta)` of a training problem, as the splittings see it.

    :math:`\min\ \tfrac12\|f(X) - Y\|_F^2 + \beta\,\mathrm{penalty}`: the solvers know these
    arrays, not the network (``copos.nets.problem.TrainingProblem`` is one, validated at its
    constructor).
    """

    X: NDArray[np.float64]
    Y: NDArray[np.float64]
    beta: float
