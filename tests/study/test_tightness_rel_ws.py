"""The tightness rows of the REL working set (issue 12): a proven lower end, a read-off net, and
the share of the lifted DNN's gap closed."""

from __future__ import annotations

import math

from copos.nets.datasets import spiral
from copos.study.report import dnn_gap_closed
from copos.study.tightness import check_tightness


def test_dnn_gap_closed() -> None:
    assert dnn_gap_closed(10.0, 8.0, 10.0) == 1.0
    assert dnn_gap_closed(9.0, 8.0, 10.0) == 0.5
    assert math.isnan(dnn_gap_closed(9.0, math.nan, 10.0))
    assert math.isnan(dnn_gap_closed(9.0, 10.0, 10.0))  # no DNN gap to close
    assert math.isnan(dnn_gap_closed(9.0, 10.0 - 1e-9, 10.0))  # a gap at solver accuracy


def test_rel_ws_rows_bracket_the_optimum_and_close_the_dnn_gap() -> None:
    problem = spiral(n_per_class=3, classes=2, bias=False, beta=0.1)
    report = check_tightness(
        problem,
        widths=(2,),
        seeds=(0,),
        methods=("lifted-dnn", "rel-ws"),
        epochs=300,
        progress=False,
    )
    lower, upper = (row for row in report.rows if row.source == "rel-ws")
    assert lower.kind == "lower" and lower.rigour == "rigorous"
    assert upper.kind == "upper" and upper.rigour == "rigorous"
    assert lower.value <= report.best_upper + 1e-9 * max(1.0, report.best_upper)
    assert report.best_upper <= upper.value
    closes = report.closes(lower)
    assert 0.0 <= closes <= 1.0 + 1e-9 and math.isnan(report.closes(upper))
    assert "closes" in report.table().splitlines()[1]
    rows = report.to_dict()["rows"]
    assert [row["closes_dnn_gap"] for row in rows if row["source"] == "rel-ws"][0] == closes
