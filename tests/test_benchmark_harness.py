"""benchmarks/_harness.py: child processes (time limit, memory cap, peak memory), CSV, tables."""

from __future__ import annotations

import csv
import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[1] / "benchmarks" / "_harness.py"


@pytest.fixture(scope="module")
def harness():
    spec = importlib.util.spec_from_file_location("_harness", HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_harness"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def _script(tmp_path: Path, body: str) -> Path:
    """A child script: ``python script --child ARGS`` runs ``body`` with ``args = sys.argv[2:]``."""
    path = tmp_path / "child.py"
    path.write_text("import json, os, sys, time\nargs = sys.argv[2:]\n" + textwrap.dedent(body))
    return path


def test_child_result_is_its_last_json_line(harness, tmp_path: Path) -> None:
    script = _script(tmp_path, 'print("solver log")\nprint(json.dumps({"x": int(args[0])}))\n')
    run = harness.run_child(script, [7], max_seconds=30)
    assert not run.timed_out and run.returncode == 0
    assert run.peak_mb > 1.0  # ru_maxrss of the child, in MiB
    assert harness.outcome_row(run, {"x": 0, "y": 1}, 30) == {"x": 7}


def test_killed_child_keeps_progress_and_reports_timeout(harness, tmp_path: Path) -> None:
    script = _script(tmp_path, 'print(json.dumps({"enum_s": 0.5}), flush=True)\ntime.sleep(60)\n')
    run = harness.run_child(script, [], max_seconds=1.0)
    assert run.timed_out and run.returncode < 0
    row = harness.outcome_row(run, {"n": 3}, 1.0, time_key="solve_s")
    assert row["status"] == "timeout" and row["n"] == 3 and row["enum_s"] == 0.5
    assert row["note"] == "killed after 1 s" and isinstance(row["solve_s"], float)


def test_failed_child_reports_last_stderr_line(harness, tmp_path: Path) -> None:
    script = _script(tmp_path, 'raise RuntimeError("boom")\n')
    row = harness.outcome_row(harness.run_child(script, [], 30), {"n": 3}, 30)
    assert row["status"] == "error" and row["note"] == "RuntimeError: boom"


def test_threads_and_memory_cap_reach_the_child(harness, tmp_path: Path) -> None:
    script = _script(
        tmp_path,
        """
        threads = [os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")]
        try:
            bytearray(2 * 1024**3)
            status = "allocated"
        except MemoryError:
            status = "out of memory"
        print(json.dumps({"threads": threads, "status": status}))
        """,
    )
    run = harness.run_child(script, [], 30, threads=1, memory_gb=0.5)
    assert harness.last_json(run.stdout) == {"threads": ["1", "1"], "status": "out of memory"}


def test_csv_has_fixed_columns_and_empty_missing_cells(harness, tmp_path: Path) -> None:
    path = tmp_path / "sub" / "out.csv"
    harness.write_csv(path, [{"a": 1, "extra": 2}, {"b": "x"}], ["a", "b"])
    with path.open() as handle:
        assert list(csv.reader(handle)) == [["a", "b"], ["1", ""], ["", "x"]]


def test_table_layout_matches_the_hand_written_f_strings(harness) -> None:
    columns = [
        harness.Column("n", 5),
        harness.Column("config", 8, "<"),
        harness.Column("time_s", 8, spec=".2f"),
        harness.Column("ok", 3),
        harness.Column("note", 0, "<", missing="", gap="  "),
    ]
    rows = [{"n": 500, "config": "admm", "time_s": 1.234, "ok": True, "note": "fine"}, {"n": 20}]
    header = f"{'n':>5} {'config':<8} {'time_s':>8} {'ok':>3}  note"
    assert harness.format_table(columns, rows).splitlines() == [
        header,
        "-" * len(header),
        f"{500:>5} {'admm':<8} {1.234:>8.2f} {'yes':>3}  fine",
        f"{20:>5} {'-':<8} {'-':>8} {'-':>3}",
    ]
