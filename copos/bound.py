"""Results that carry their direction: every number copos reports says what it bounds and how."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from copos.solvers.base import SolveInfo

BoundKind = Literal["lower", "upper", "exact", "neither"]


@dataclass(frozen=True)
class Bound:
    """A bound on ``quantity`` with its provenance.

    ``claimed_kind`` is what the mathematics gives when the program is solved exactly:
    ``lower`` or ``upper``, ``exact`` (computed combinatorially or by an exact cone), or
    ``neither``.  ``kind`` is what copos reports: ``claimed_kind`` when the number is
    :attr:`verified`, otherwise ``"neither"`` (an unverified solver value bounds nothing).
    ``verified`` is true when no solver was involved, when ``certified`` (the value was
    recomputed after the solve from a feasible point, so it holds whatever the solver did), or
    when the solve is accurate: status optimal and primal residual, dual residual and duality
    gap checked after the solve (:attr:`copos.solvers.SolveInfo.accurate`).
    """

    value: float
    claimed_kind: BoundKind
    quantity: str
    cone: str
    level: int | None
    view: str
    solve: SolveInfo | None
    time: float
    certificate: dict[str, Any] = field(default_factory=dict, repr=False)
    note: str = ""
    certified: bool = False

    @property
    def verified(self) -> bool:
        """The number holds: no solver, a certified recomputation, or an accurate solve."""
        finite = bool(np.isfinite(self.value))
        return finite and (self.solve is None or self.certified or self.solve.accurate)

    @property
    def kind(self) -> BoundKind:
        """``claimed_kind`` if :attr:`verified`, else ``"neither"``."""
        return self.claimed_kind if self.verified else "neither"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (certificate arrays omitted)."""
        return {
            "quantity": self.quantity,
            "value": self.value,
            "kind": self.kind,
            "claimed_kind": self.claimed_kind,
            "cone": self.cone,
            "level": self.level,
            "view": self.view,
            "verified": self.verified,
            "time": self.time,
            "solve": None if self.solve is None else self.solve.to_dict(),
            "note": self.note,
        }


def format_table(bounds: list[Bound], title: str = "") -> str:
    """A fixed-width text table: quantity, cone, level, view, kind, value, status, time."""
    header = f"{'quantity':<16} {'cone':<16} {'lvl':>3} {'view':<4} {'bound':<7} {'value':>12} {'status':<18} {'time[s]':>8}"
    lines = [title, header, "-" * len(header)] if title else [header, "-" * len(header)]
    for bound in bounds:
        status = "exact" if bound.solve is None else bound.solve.status
        if bound.solve is not None and bound.solve.optimal and not bound.solve.accurate:
            status += " (unverified)"
        level = "" if bound.level is None else str(bound.level)
        lines.append(
            f"{bound.quantity:<16} {bound.cone:<16} {level:>3} {bound.view:<4} {bound.kind:<7} "
            f"{bound.value:>12.6f} {status:<18} {bound.time:>8.3f}"
        )
    return "\n".join(lines)


def bounds_to_json(bounds: list[Bound]) -> str:
    """The bounds as a JSON array; NaN and infinities are written as null (never in JSON)."""
    return json.dumps(bounds_to_list(bounds), indent=2, allow_nan=False)


def bounds_to_list(bounds: list[Bound]) -> list[dict[str, Any]]:
    """``Bound.to_dict()`` of each bound with NaN and infinities replaced by ``None``."""
    return [_finite(b.to_dict()) for b in bounds]


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
