"""The tightness rows of the REL working set (issue 12): a proven lower end, a read-off net, and
the share of the lifted DNN's gap closed."""

from __future__ import annotations

import math

from copos.nets.datasets import spiral
from copos.study.tightness import check_tightness, dnn_gap_closed


def test_dnn_gap_closed() -> None:
    assert dnn_gap_closed(10.0, 8.0, 10.0) == 1.0
    assert dnn_gap_closed(9.0, 8.0, 10.0) == 0.5
    assert math.isnan(dnn_gap_closed(9.0, math.nan, 10.0))
    assert math.isnan(dnn_gap_closed(9.0, 10.0, 10.0))  # no DNN gap to close


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
    closes = lower.certificate["closes_dnn_gap"]
    assert 0.0 <= closes <= 1.0 + 1e-9 and "of the DNN gap" in lower.status_text
    assert math.isnan(upper.certificate["closes_dnn_gap"])
