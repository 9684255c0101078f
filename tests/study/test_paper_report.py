"""The study report: gap intervals from the bracket, Markdown with figures, self-contained HTML."""

from __future__ import annotations

import base64
import math
import re
from pathlib import Path

import pytest

from copos.study.cell import FAILED, FINISHED, record
from copos.study.config import load_config
from copos.study.paper_report import Bracket, build_report, write_report
from copos.study.store import ResultsStore
from tests.study.studyhelp import write_config


def _row(method: str, value: float | None, kind: str, rigour: str, source: str) -> dict:
    return {
        "method": method,
        "value": value,
        "kind": kind,
        "rigour": rigour,
        "time": 0.5,
        "status": "optimal",
        "source": source,
    }


def _report(lower: float, upper: float) -> dict:
    return {
        "skipped": {"rel": "too many patterns"},
        "n": 5,
        "d": 2,
        "c": 1,
        "best_upper": upper,
        "best_rigorous_lower": lower,
        "rows": [
            _row("sgd (adam, m=2)", upper, "upper", "rigorous", "sgd"),
            _row("lifted-dnn Z, checked", lower, "lower", "rigorous", "lifted-dnn"),
            _row("rel (Sahiner, DNN)", lower - 0.5, "lower", "verified", "rel"),
            _row("lifted-dnn (DNN, clarabel)", lower + 9.0, "neither", "unverified", "lifted-dnn"),
        ],
        "runs": [
            {"width": 2, "seed": 0, "objective": upper},
            {"width": 5, "seed": 0, "objective": upper},
        ],
    }


def test_gap_intervals_come_from_the_bracket() -> None:
    limits = Bracket(lower=8.0, upper=10.0)
    assert limits.gap({"value": 7.0, "kind": "lower"}) == (0.1, 0.3)
    assert limits.gap({"value": 9.0, "kind": "lower"}) == (0.0, 0.1)
    assert limits.gap({"value": 11.0, "kind": "upper"}) == (0.1, 0.3)
    assert all(math.isnan(g) for g in limits.gap({"value": 7.0, "kind": "neither"}))
    assert all(math.isnan(g) for g in limits.gap({"value": None, "kind": "lower"}))


@pytest.fixture
def results(tmp_path: Path) -> Path:
    config = load_config(write_config(tmp_path, instances='"0:3"'))
    store = ResultsStore(tmp_path / "r.jsonl", "tiny")
    single = config.cells[0]
    from dataclasses import replace

    store.append(
        record(
            replace(single, dataset="single", instance=None),
            FINISHED,
            time=2.0,
            report=_report(8.0, 10.0),
        )
    )
    for index, cell in enumerate(config.cells[:4]):
        store.append(record(cell, FINISHED, time=1.0, report=_report(8.0 + index, 10.0 + index)))
    store.append(record(config.cells[5], FAILED, "time limit: stopped", time=3.0))
    return tmp_path / "r.jsonl"


def test_report_tables_figures_and_failures(results: Path, tmp_path: Path) -> None:
    from copos.study.store import read_records

    document = build_report(read_records(results))
    markdown = document.markdown("figures")
    assert "L* = 8 <= p* <= U* = 10" in markdown
    assert "skipped rel: too many patterns." in markdown
    assert "| rel (Sahiner, DNN) | lower | verified | 7.5 | [5%, 25%] |" in markdown
    assert "| lifted-dnn (DNN, clarabel) | neither | unverified | 17 | [–, –] |" in markdown
    assert "planted-tiny, beta = 0.1: 2 instances" in markdown
    assert "| planted-tiny | 0.1 | 2 | 1 | 1 | 2 | – |" in markdown  # the timing table
    assert "## Failed cells" in markdown and "time limit: stopped" in markdown
    written = write_report(results, tmp_path / "out")
    names = sorted(p.name for p in written)
    assert "report.md" in names and "report.html" in names
    for figure in re.findall(
        r"\]\((figures/[^)]+)\)", (tmp_path / "out" / "report.md").read_text()
    ):
        assert (tmp_path / "out" / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (tmp_path / "out" / "report.html").read_text()
    sources = re.findall(r'src="([^"]+)"', page)
    assert len(sources) == 3  # the single problem's figure and two histograms (one per beta)
    for source in sources:  # self-contained: every image is inline PNG data
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1])[:4] == b"\x89PNG"
    assert "<link" not in page and "<script" not in page


def test_headline_and_instances_give_the_dnn_against_the_bracket(results: Path) -> None:
    from copos.study.store import read_records

    markdown = build_report(read_records(results)).markdown("figures")
    # the single cell: DNN solver 17, checked 8 = L*, U* = SGD = 10, gap [0, 2/10]
    assert "| single | 0.1 | 17 | 8 | 8 | 10 | 10 | [0%, 20%] | 20% |" in markdown
    # planted-tiny at beta 0.1: instances with brackets (8, 10) and (10, 12) -> medians
    assert "| planted-tiny (median of 2) | 0.1 | 18 | 9 | 9 | 11 | 11 |" in markdown
    assert markdown.index("## Headline") < markdown.index("## single")
    instances = markdown[markdown.index("## Instances") : markdown.index("## Failed cells")]
    assert instances.count("| planted-tiny#") == 4 and "| single beta=0.1 |" in instances


def test_the_headline_takes_the_dnn_solver_certified_bound_when_it_is_the_better_one() -> None:
    from copos.study.paper_report import Headline

    report = _report(0.8, 1.1)
    report["rows"][1]["value"] = 0.01  # "lifted-dnn Z, checked": a loose global sigma
    report["rows"][3] = _row("lifted-dnn (DNN, copos-admm)", 0.8, "lower", "rigorous", "x")
    line = Headline.of(report)
    assert line.dnn == 0.8 and line.dnn_checked == 0.8
    assert line.dnn_gap() == pytest.approx((0.0, 0.3 / 1.1))
