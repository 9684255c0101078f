"""The tightness row of the lifted DNN tightened by cuts (issue 12, deliverable 2)."""

from __future__ import annotations

import numpy as np
import pytest

from copos.errors import SolverError
from copos.nets.datasets import spiral
from copos.nets.problem import TrainingProblem
from copos.study.tightness import MAX_CUTS_N, applicability, check_tightness


def test_lifted_cuts_row_is_a_rigorous_lower_bound_that_closes_part_of_the_dnn_gap() -> None:
    problem = spiral(n_per_class=3, classes=2, bias=False, beta=0.01)
    report = check_tightness(
        problem,
        widths=(4,),
        seeds=(0,),
        methods=("lifted-dnn", "lifted-cuts"),
        epochs=300,
        progress=False,
    )
    (row,) = (row for row in report.rows if row.source == "lifted-cuts")
    assert row.method == "lifted-dnn + cuts"
    assert (row.kind, row.rigour) == ("lower", "rigorous")
    assert row.value <= report.best_upper + 1e-9 * max(1.0, report.best_upper)
    closes = report.closes(row)
    assert 0.0 < closes <= 1.0 + 1e-9
    assert "lifted-dnn + cuts" in report.table()


def test_lifted_cuts_is_skipped_beyond_its_size_limit() -> None:
    problem = spiral(n_per_class=3, classes=2, bias=False)
    assert applicability(problem, "lifted-cuts") is None
    n = MAX_CUTS_N + 1
    large = TrainingProblem.from_data(np.ones((n, 2)), np.ones(n), beta=0.1)
    assert "limit n" in str(applicability(large, "lifted-cuts"))


def test_lifted_cuts_row_selects_cuts_by_the_splitting_from_its_size_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from copos.study import tightness

    calls: list[dict[str, object]] = []

    def record(problem: TrainingProblem, **options: object) -> object:
        calls.append(options)
        raise SolverError("recorded")

    monkeypatch.setattr(tightness, "solve_lifted_cuts", record)
    for n in (tightness.CUTS_SPLITTING_FROM_N - 1, tightness.CUTS_SPLITTING_FROM_N):
        problem = TrainingProblem.from_data(np.ones((n, 2)), np.ones(n), beta=0.1)
        context = tightness._Context(problem=problem, solver="CLARABEL", runs=[])
        with pytest.raises(SolverError):
            tightness.METHODS["lifted-cuts"](context)
    assert calls == [
        {"solver": "CLARABEL"},
        {"solver": "copos-admm", "final_solver": "CLARABEL"},
    ]
