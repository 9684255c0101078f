"""Bounds report 'neither' unless verified; JSON holds no non-finite number (#17 items 1, 4, 12)."""

from __future__ import annotations

import json

from copos.bound import Bound, bounds_to_json
from copos.solvers import SolveInfo


def _bound(value: float, solve: SolveInfo | None, certified: bool = False) -> Bound:
    return Bound(
        value=value,
        claimed_kind="lower",
        quantity="p*",
        cone="DNN",
        level=0,
        view="cp",
        solve=solve,
        time=0.0,
        certified=certified,
    )


def test_unverified_solver_value_is_neither() -> None:
    inaccurate = SolveInfo("clarabel", "optimal_inaccurate", 1.0, 1e-9, 1e-9, gap=1e-9)
    bound = _bound(2.4287, inaccurate)
    assert bound.claimed_kind == "lower"
    assert bound.kind == "neither" and not bound.verified


def test_verified_and_certified_values_keep_their_kind() -> None:
    accurate = SolveInfo("clarabel", "optimal", 1.0, 1e-9, 1e-9, gap=1e-9, gap_source="recomputed")
    assert _bound(1.0, accurate).kind == "lower"
    assert _bound(1.0, None).kind == "lower"
    unchecked = SolveInfo("copos-admm", "max_iterations", 1.0)
    assert _bound(1.0, unchecked, certified=True).kind == "lower"


def test_non_finite_value_is_neither_and_null_in_json() -> None:
    bound = _bound(float("inf"), None)
    assert bound.kind == "neither"
    data = json.loads(bounds_to_json([bound]))
    assert data[0]["value"] is None
