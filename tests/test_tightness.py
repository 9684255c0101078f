"""The tightness checker on small instances: directions, gaps, JSON and figures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from copos.datasets import planted, spiral
from copos.errors import CoposError, InvalidInputError
from copos.network.problem import TrainingProblem
from copos.tightness import applicability, check_tightness


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    problem = spiral(n_per_class=4, classes=2, bias=False, beta=0.1)
    return check_tightness(
        problem,
        widths=(2, 8),
        seeds=(0, 1),
        methods=("lifted-dnn", "lifted-k1", "rel", "certificate", "rounding"),
        epochs=1500,
        progress=False,
    )


def test_every_lower_bound_is_below_every_network(report) -> None:  # type: ignore[no-untyped-def]
    lowers = [row for row in report.rows if row.kind == "lower"]
    uppers = [row for row in report.rows if row.kind == "upper"]
    assert {row.method.split()[0] for row in lowers} >= {
        "lifted-dnn",
        "lifted-k1",
        "rel",
        "certificate",
    }
    for lower in lowers:
        for upper in uppers:
            assert lower.value <= upper.value + 1e-6 * max(1.0, abs(upper.value)), (lower, upper)
    assert report.best_lower <= report.best_upper + 1e-6
    # Bounds recomputed after the solve hold up to floating point, not just solver tolerance.
    assert report.best_rigorous_lower <= report.best_upper + 1e-9 * max(1.0, report.best_upper)
    assert report.best_rigorous_lower > -math.inf


def test_rank_two_rel_closes_the_gap(report) -> None:  # type: ignore[no-untyped-def]
    # Rank-2 data: REL is exact and its recovered network attains it (sahiner2021.md §5).
    rel = next(row for row in report.rows if row.method.startswith("rel ("))
    recovered = next(row for row in report.rows if row.method.startswith("rel recovered"))
    assert rel.verified
    assert abs(recovered.value - rel.value) <= 1e-5 * max(1.0, rel.value)
    assert report.gap(rel) <= 1e-5


def test_checked_rows_are_rigorous(report) -> None:  # type: ignore[no-untyped-def]
    checked = [row for row in report.rows if row.method.endswith("Z, checked")]
    assert len(checked) == 3
    assert all(row.verified for row in checked)


def test_json_and_figure(report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = report.save_json(tmp_path / "report.json")
    data = json.loads(path.read_text())
    assert data["best_upper"] == pytest.approx(report.best_upper)
    assert len(data["runs"]) == 4 and len(data["rows"]) == len(report.rows)
    assert {"gap", "kind", "verified"} <= set(data["rows"][0])
    files = report.plot(tmp_path / "figure")
    assert [f.suffix for f in files] == [".png", ".pdf"]
    assert all(f.stat().st_size > 1000 for f in files)
    assert "best upper" in report.table()


def test_lifted_dnn_row_from_copos_admm_is_rigorous_and_below_the_networks() -> None:
    problem = planted(n=25, d=20, c=3, seed=1, beta=0.1)
    report = check_tightness(
        problem, widths=(4,), seeds=(0,), methods=("lifted-dnn",), epochs=300, progress=False
    )
    rows = {row.method: row for row in report.rows}
    admm = rows["lifted-dnn (DNN, copos-admm)"]
    assert admm.kind == "lower" and admm.rigorous and admm.verified
    assert "certified" in admm.status
    assert admm.value <= report.best_upper
    assert report.best_rigorous_lower >= admm.value


def test_convex_rows_from_copos_admm_bracket_the_exact_value() -> None:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((14, 2))
    y = np.maximum(X @ rng.standard_normal((2, 3)), 0.0) @ rng.standard_normal(3)
    problem = TrainingProblem.from_data(X, y, 0.1)
    kwargs = {"widths": (3,), "seeds": (0,), "methods": ("convex",), "epochs": 200}
    exact = check_tightness(problem, convex_solver="clarabel", progress=False, **kwargs)
    admm = check_tightness(problem, convex_solver="copos-admm", progress=False, **kwargs)
    value = {row.method: row for row in exact.rows}["convex (Pilanci-Ergen, c=1)"].value
    rows = {row.method.split(" (")[0]: row for row in admm.rows}
    lower, upper = rows["convex dual"], rows["convex net"]
    assert lower.kind == "lower" and lower.rigorous and lower.verified
    assert upper.kind == "upper"
    assert lower.value <= value + 1e-9 * abs(value) <= upper.value + 2e-9 * abs(value)
    assert admm.best_rigorous_lower == lower.value
    with pytest.raises(CoposError):
        check_tightness(problem, convex_solver="cplex-like", progress=False, **kwargs)


def test_sizes_that_do_not_fit_are_skipped_with_a_reason() -> None:
    rng = np.random.default_rng(0)
    big = TrainingProblem.from_data(rng.standard_normal((40, 3)), rng.standard_normal((40, 2)), 0.1)
    assert "activation patterns" in (applicability(big, "rel") or "")
    assert "K^1" in (applicability(big, "lifted-k1") or "")
    assert "c = 1" in (applicability(big, "convex") or "")
    assert applicability(big, "lifted-dnn") is None


def test_bad_arguments() -> None:
    problem = spiral(n_per_class=3, classes=2, bias=False)
    with pytest.raises(InvalidInputError, match="unknown methods"):
        check_tightness(problem, methods=("sdp",), progress=False)
    with pytest.raises(InvalidInputError, match="at least one width"):
        check_tightness(problem, widths=(), progress=False)
    assert math.isinf(
        check_tightness(
            problem, widths=(2,), seeds=(0,), methods=(), epochs=10, progress=False
        ).best_lower
    )
