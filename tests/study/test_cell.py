"""One cell: its record when it finishes, raises, or passes its time limit in a child process."""

from __future__ import annotations

import math
import signal
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from copos.study.cell import (
    FAILED,
    FINISHED,
    CellInterrupted,
    _crash_reason,
    execute,
    run_cell,
)
from copos.study.config import load_config
from tests.study.studyhelp import write_config


def test_a_finished_cell_holds_every_bound_with_direction_and_rigour(tmp_path: Path) -> None:
    cell = load_config(write_config(tmp_path)).cells[0]
    data = run_cell(cell)
    assert data["status"] == FINISHED and data["cell"] == cell.cell_id
    assert data["time"] > 0 and data["cpu_time"] > 0
    assert data["spec"]["beta"] == 0.1 and data["copos"] and data["machine"]["cpus"]
    report = data["report"]
    assert {row["source"] for row in report["rows"]} == {"sgd", "certificate"}
    for row in report["rows"]:
        assert row["kind"] in ("lower", "upper", "exact", "neither")
        assert row["rigour"] in ("rigorous", "verified", "unverified")
    assert [(run["width"], run["seed"]) for run in report["runs"]] == [(2, 0)]
    assert "U" not in report["runs"][0]  # weights only with keep_weights
    assert report["best_upper"] is not None and math.isfinite(report["best_upper"])


def test_a_cell_that_raises_is_a_failed_record(tmp_path: Path) -> None:
    cell = load_config(write_config(tmp_path)).cells[0]
    broken = replace(cell, params=(("n", 0),))  # the generator refuses n = 0
    data = execute(broken)
    assert data["status"] == FAILED and "InvalidInputError" in data["reason"]
    assert "report" not in data


def test_a_cell_over_its_time_limit_is_stopped_and_recorded(tmp_path: Path) -> None:
    cell = load_config(write_config(tmp_path, isolate="process")).cells[0]
    slow = replace(cell, epochs=10**7, time_limit=0.5)
    data = execute(slow)
    assert data["status"] == FAILED and data["reason"].startswith("time limit")
    assert data["cell"] == slow.cell_id == replace(slow, time_limit=None).cell_id


def test_crash_reasons_name_the_signal_or_the_memory_error() -> None:
    killed = subprocess.CompletedProcess([], -9, "", "")
    assert _crash_reason(killed) == "crashed: killed by signal 9"
    memory = subprocess.CompletedProcess([], 1, "", "Traceback\nMemoryError: no room\n")
    assert _crash_reason(memory).startswith("memory limit: crashed: exit code 1")


def test_a_child_stopped_by_ctrl_c_is_not_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cell = load_config(write_config(tmp_path, isolate="process")).cells[0]
    stopped = subprocess.CompletedProcess([], -signal.SIGINT, "", "")
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: stopped)
    with pytest.raises(CellInterrupted):
        execute(cell)
