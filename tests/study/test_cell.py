"""One cell: its record when it finishes, raises, or passes its time limit in a child process."""

from __future__ import annotations

import math
import os
import signal
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from copos.study.cell import (
    FAILED,
    FINISHED,
    CellInterrupted,
    CellServer,
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


def test_crash_reasons_name_the_signal_or_the_memory_error() -> None:
    assert _crash_reason(-9, "") == "crashed: killed by signal 9"
    memory = _crash_reason(1, "Traceback\nMemoryError: no room\n")
    assert memory.startswith("memory limit: crashed: exit code 1")


def test_the_cell_server_crash_time_limit_and_ctrl_c(tmp_path: Path) -> None:
    cells = load_config(write_config(tmp_path, isolate="process")).cells
    assert execute(cells[0])["status"] == FINISHED
    server = CellServer.for_limit(None)
    pid = server.process.pid
    assert execute(cells[1])["status"] == FINISHED
    assert CellServer.for_limit(None).process.pid == pid  # one start-up for both cells

    os.kill(pid, signal.SIGKILL)  # e.g. the OOM killer: the cell is a failed record
    assert server.run(cells[2], None) == "died"
    assert _crash_reason(*server.ended()) == "crashed: killed by signal 9"

    slow = replace(cells[2], epochs=10**7, time_limit=0.5)
    data = execute(slow)  # a new server, killed when the limit passes
    assert data["status"] == FAILED and data["reason"].startswith("time limit")
    assert data["cell"] == slow.cell_id == replace(slow, time_limit=None).cell_id

    fresh = CellServer.for_limit(None)  # the server execute will use (one per thread)
    # Ctrl-C reaches the whole process group, the server included
    timer = threading.Timer(0.3, fresh.process.send_signal, (signal.SIGINT,))
    timer.start()
    with pytest.raises(CellInterrupted):  # in flight, not failed: nothing to record
        execute(replace(slow, time_limit=None))
    timer.join()
