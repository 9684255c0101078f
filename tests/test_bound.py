"""The one Bound type: 'neither' unless verified, rigour, failures, JSON without non-finite numbers."""

from __future__ import annotations

import json
import math

import pytest

from copos.bound import Bound, bounds_to_json
from copos.errors import SolverError
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


# ------------------------------------------------------------------ the one type (issue 10)

ACCURATE = SolveInfo("clarabel", "optimal", 1.0, 1e-9, 1e-9, gap=1e-9, gap_source="recomputed")
INACCURATE = SolveInfo("clarabel", "optimal_inaccurate", 1.0, 1e-9, 1e-9, gap=1e-9)


@pytest.mark.parametrize(
    ("solve", "certified", "checked", "rigour", "kind"),
    [
        (None, False, None, "rigorous", "lower"),  # no solver involved
        (INACCURATE, True, None, "rigorous", "lower"),  # recomputed after the solve
        (ACCURATE, False, None, "verified", "lower"),  # residuals and gap checked
        (INACCURATE, False, None, "unverified", "neither"),
        (None, False, "unverified", "unverified", "neither"),  # stated: e.g. sigma not proven
        (ACCURATE, False, "rigorous", "rigorous", "lower"),
    ],
)
def test_rigour_and_kind_table(
    solve: SolveInfo | None, certified: bool, checked: str | None, rigour: str, kind: str
) -> None:
    bound = Bound(1.0, "lower", solve=solve, certified=certified, checked=checked)  # type: ignore[arg-type]
    assert (bound.rigour, bound.kind) == (rigour, kind)
    assert bound.verified == (rigour != "unverified") and bound.rigorous == (rigour == "rigorous")
    assert bound.counts == (kind != "neither")


def test_solver_and_status_come_from_the_solve_unless_stated() -> None:
    bound = Bound(1.0, "lower", solve=INACCURATE)
    assert (bound.solver, bound.status) == ("clarabel", "optimal_inaccurate")
    assert Bound(1.0, "exact").status == "exact" and Bound(1.0, "exact").solver == ""
    assert (
        Bound(1.0, "upper", solve=ACCURATE, status_text="TOS converged").status == "TOS converged"
    )


def test_non_finite_values_and_failures_never_count() -> None:
    for value in (math.nan, math.inf, -math.inf):
        bound = Bound(value, "lower", certified=True)
        assert bound.rigour == "unverified" and bound.kind == "neither" and not bound.counts
        assert bound.to_dict()["value"] is None
    failed = Bound.failure("rel (Sahiner, DNN)", SolverError("NumericalError"), 1.5)
    assert failed.failed and failed.status == "failed" and failed.kind == "neither"
    assert failed.note == failed.error == "SolverError: NumericalError"
    data = json.loads(json.dumps(failed.to_dict(), allow_nan=False))
    assert data["value"] is None and data["status"] == "failed" and data["rigour"] == "unverified"


def test_demoted_bound_has_no_direction_and_says_so() -> None:
    bound = Bound(2.0, "lower", solve=ACCURATE).demote()
    assert bound.kind == "neither" and not bound.verified
    assert bound.status == "DEMOTED (was lower); optimal"


def test_to_dict_holds_the_row_and_the_program_keys_and_reads_back() -> None:
    bound = Bound(
        0.5, "lower", cone="DNN", level=0, view="cp", solve=ACCURATE, method="m", source="rel"
    )
    data = bound.to_dict()
    assert {"method", "kind", "value", "time", "status", "verified", "note", "rigorous"} <= set(
        data
    )
    assert {"quantity", "claimed_kind", "cone", "level", "view", "solve", "rigour"} <= set(data)
    again = Bound.from_dict(json.loads(json.dumps(data, allow_nan=False)))
    same = ("method", "kind", "value", "status", "verified", "rigorous", "source", "cone", "solver")
    assert all(getattr(again, key) == getattr(bound, key) for key in same)
    assert again.solve is None and again.checked == "verified"


def test_a_format_2_tightness_row_reads_back_unchanged() -> None:
    rows = [
        {"method": "sgd", "kind": "upper", "value": 1.0, "time": 0.1, "status": "best of 1 seeds",
         "verified": True, "note": "", "rigorous": False, "source": "sgd", "gap": 0.0},
        {"method": "rel", "kind": "neither", "value": 2.0, "time": 0.1,
         "status": "DEMOTED (was lower); optimal", "verified": False, "note": "",
         "rigorous": False, "source": "rel", "gap": None},
        {"method": "k1", "kind": "neither", "value": None, "time": 0.0, "status": "failed",
         "verified": False, "note": "SolverError: x", "rigorous": False, "source": "lifted-k1",
         "gap": None},
    ]  # fmt: skip
    for row in rows:
        bound = Bound.from_dict(row)
        for key in ("method", "kind", "status", "verified", "rigorous", "note", "source"):
            assert getattr(bound, key) == row[key], (key, row)
    assert Bound.from_dict(rows[2]).failed and math.isnan(Bound.from_dict(rows[2]).value)


def test_method_result_is_a_deprecated_constructor_of_bound() -> None:
    from copos.study.report import MethodResult

    with pytest.warns(DeprecationWarning, match="MethodResult is deprecated"):
        row = MethodResult("x", "lower", 1.0, 0.0, "optimal", True, "n", rigorous=True)
    assert isinstance(row, Bound) and row.rigorous and row.kind == "lower" and row.note == "n"
