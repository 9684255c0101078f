r"""The one result type: every number copos reports says what it bounds and how it was checked.

A :class:`Bound` is a value :math:`v` with a direction and a rigour,

.. math::

    v \le q \ (\text{lower}),\quad v \ge q \ (\text{upper}),\quad v = q \ (\text{exact}),
    \quad\text{or no claim (neither)},

on a ``quantity`` :math:`q` (e.g. the training optimum :math:`p^\star`).  Every relaxation,
certificate, recovered network and training run reports one; the tightness table prints them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from copos.solvers.base import SolveInfo

BoundKind = Literal["lower", "upper", "exact", "neither"]

#: How a value was checked: ``rigorous`` (no solver involved, or recomputed after the solve from
#: a feasible point), ``verified`` (a solver value whose status, primal and dual residuals and
#: duality gap were checked after the solve) or ``unverified`` (anything else).
Rigour = Literal["rigorous", "verified", "unverified"]

RIGOURS: tuple[str, ...] = ("rigorous", "verified", "unverified")

#: The quantity most bounds are about: the optimum of the weight-decay training problem.
TRAINING_OPTIMUM = "p*(training)"

#: Status of a method that raised: its bound has direction ``neither`` and value NaN.
FAILED = "failed"


@dataclass(frozen=True)
class Bound:
    r"""A bound on ``quantity`` with its provenance.

    ``claimed_kind`` is what the mathematics gives when the program is solved exactly:
    ``lower`` or ``upper``, ``exact`` (computed combinatorially or by an exact cone), or
    ``neither``.  ``kind`` is what copos reports: ``claimed_kind`` when the number is
    :attr:`verified` (and not :attr:`demoted`), otherwise ``"neither"`` (an unverified solver
    value bounds nothing).  :attr:`rigour` says how the number was checked:

    * ``"rigorous"``: no solver involved (``solve is None``), or ``certified`` (the value was
      recomputed after the solve from a feasible point, so it holds whatever the solver did);
    * ``"verified"``: the solve is accurate, i.e. status optimal and primal residual, dual
      residual and duality gap checked after the solve (:attr:`SolveInfo.accurate`);
    * ``"unverified"``: anything else, a non-finite value, a demoted value or a failure.

    ``checked`` states the rigour directly when no :class:`SolveInfo` can say it (a dual norm
    computed by a non-rigorous method, a row read back from a report file).  ``method`` is the
    label of the row in the tightness table, ``source`` the key of the method that produced it,
    ``status_text`` a status in words that replaces the solver's; ``failed`` marks a method that
    raised (its ``note`` holds the exception); ``demoted`` a value contradicted by another
    bound (``status`` then starts with ``DEMOTED``).

    Examples
    --------
    A network's objective is a rigorous upper bound; a method that raised, a non-finite value
    and a demoted value bound nothing:

    >>> from copos.bound import Bound
    >>> net = Bound.of_network(0.25, method="sgd")
    >>> net.kind, net.rigour, net.counts
    ('upper', 'rigorous', True)
    >>> Bound.failure("rel", RuntimeError("out of memory")).kind
    'neither'
    >>> Bound(float("inf"), "lower").kind
    'neither'
    >>> net.demote().status
    'DEMOTED (was upper); exact'
    """

    value: float
    claimed_kind: BoundKind
    quantity: str = TRAINING_OPTIMUM
    cone: str = ""
    level: int | None = None
    view: str = ""
    solve: SolveInfo | None = None
    time: float = 0.0
    certificate: dict[str, Any] = field(default_factory=dict, repr=False)
    note: str = ""
    certified: bool = False
    method: str = ""
    solver: str = ""
    status_text: str = ""
    checked: Rigour | None = None
    failed: bool = False
    demoted: bool = False
    source: str = ""

    def __post_init__(self) -> None:
        if not self.solver and self.solve is not None:
            object.__setattr__(self, "solver", self.solve.solver)

    @classmethod
    def failure(cls, method: str, exc: BaseException, elapsed: float = 0.0) -> Bound:
        """The bound of a method that raised: value NaN, direction ``neither``, the reason in ``note``."""
        reason = f"{type(exc).__name__}: {exc}".strip()
        return cls(math.nan, "neither", method=method, time=elapsed, note=reason, failed=True)

    @classmethod
    def of_network(cls, objective: float, **fields: Any) -> Bound:
        """The objective of a real network, computed with the true ReLU: a rigorous upper bound on p*."""
        return cls(value=objective, claimed_kind="upper", view="network", **fields)

    @property
    def finite(self) -> bool:
        """The value is a finite number (a non-finite number never bounds anything)."""
        return bool(np.isfinite(self.value))

    @property
    def rigour(self) -> Rigour:
        """``rigorous``, ``verified`` or ``unverified`` (see the class docstring)."""
        if self.failed or self.demoted or not self.finite:
            return "unverified"
        if self.checked is not None:
            return self.checked
        if self.solve is None or self.certified:
            return "rigorous"
        return "verified" if self.solve.accurate else "unverified"

    @property
    def verified(self) -> bool:
        """The number holds: rigorous, or a verified solver value."""
        return self.rigour != "unverified"

    @property
    def rigorous(self) -> bool:
        """The number holds whatever any solver did (:attr:`rigour` is ``"rigorous"``)."""
        return self.rigour == "rigorous"

    @property
    def kind(self) -> BoundKind:
        """``claimed_kind`` if :attr:`verified`, else ``"neither"``."""
        return self.claimed_kind if self.verified else "neither"

    @property
    def counts(self) -> bool:
        """The bound may enter best bounds, gaps and plots: a finite value with a direction."""
        return self.kind != "neither" and self.finite

    @property
    def status(self) -> str:
        """``failed``, ``status_text``, the solver's status, or ``exact`` (no solver)."""
        if self.failed:
            return FAILED
        status = self.status_text or ("exact" if self.solve is None else self.solve.status)
        return f"DEMOTED (was {self.claimed_kind}); {status}" if self.demoted else status

    @property
    def error(self) -> str:
        """The exception of a failed method (empty otherwise)."""
        return self.note if self.failed else ""

    def demote(self) -> Bound:
        """This bound with direction ``neither``: another bound proved it wrong."""
        return replace(self, demoted=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (certificate arrays omitted); NaN and infinities become ``None``."""
        data = {
            "method": self.method,
            "quantity": self.quantity,
            "value": self.value,
            "kind": self.kind,
            "claimed_kind": self.claimed_kind,
            "rigour": self.rigour,
            "verified": self.verified,
            "rigorous": self.rigorous,
            "cone": self.cone,
            "level": self.level,
            "view": self.view,
            "solver": self.solver,
            "status": self.status,
            "time": self.time,
            "solve": None if self.solve is None else self.solve.to_dict(),
            "note": self.note,
            "source": self.source,
        }
        return _finite(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Bound:
        """A bound read back from :meth:`to_dict` (or from a tightness row of JSON format 2).

        The solve is not rebuilt: the rigour the file states is kept in ``checked``.
        """
        value = data.get("value")
        rigour = data.get("rigour") or _stated_rigour(data["verified"], data.get("rigorous", False))
        if rigour not in RIGOURS:
            raise ValueError(f"rigour {rigour!r} is not one of {RIGOURS}")
        failed = data["status"] == FAILED
        return cls(
            value=math.nan if value is None else float(value),
            claimed_kind=data.get("claimed_kind") or data["kind"],
            quantity=str(data.get("quantity", TRAINING_OPTIMUM)),
            cone=str(data.get("cone", "")),
            level=data.get("level"),
            view=str(data.get("view", "")),
            time=float(_nan_if_none(data["time"])),
            note=str(data.get("note", "")),
            method=str(data.get("method", "")),
            solver=str(data.get("solver", "")),
            status_text="" if failed else str(data["status"]),
            checked=rigour,
            failed=failed,
            source=str(data.get("source", "")),
        )

    @classmethod
    def stated(
        cls,
        method: str,
        kind: BoundKind,
        value: float,
        time: float,
        status: str,
        verified: bool,
        note: str = "",
        rigorous: bool = False,
        source: str = "",
    ) -> Bound:
        """A bound whose rigour the caller states (the fields of the former ``MethodResult``)."""
        failed = status == FAILED
        return cls(
            value=value,
            claimed_kind=kind,
            time=time,
            note=note,
            method=method,
            status_text="" if failed else status,
            checked=_stated_rigour(verified, rigorous),
            failed=failed,
            source=source,
        )


def _stated_rigour(verified: bool, rigorous: bool) -> Rigour:
    if rigorous:
        return "rigorous"
    return "verified" if verified else "unverified"


def _nan_if_none(value: Any) -> Any:
    return math.nan if value is None else value


def format_table(bounds: list[Bound], title: str = "") -> str:
    """A fixed-width text table: quantity, cone, level, view, kind, value, status, time."""
    header = f"{'quantity':<16} {'cone':<16} {'lvl':>3} {'view':<4} {'bound':<7} {'value':>12} {'status':<18} {'time[s]':>8}"
    lines = [title, header, "-" * len(header)] if title else [header, "-" * len(header)]
    for bound in bounds:
        status = bound.status
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
    """``Bound.to_dict()`` of each bound (NaN and infinities already ``None``)."""
    return [b.to_dict() for b in bounds]


def _finite(value: Any) -> Any:
    """``value`` with NumPy scalars made Python and non-finite floats made ``None``."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        return _finite(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
