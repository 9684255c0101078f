"""The ``copos`` command, run as a subprocess with good and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "copos.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_main_job_prints_the_hierarchy_table() -> None:
    result = run()
    assert result.returncode == 0, result.stderr
    assert "alpha(c5)" in result.stdout and "alpha(petersen)" in result.stdout
    assert "upper" in result.stdout and "lower" in result.stdout and "exact" in result.stdout


def test_stability_json_output() -> None:
    result = run("bound", "stability", "--graph", "c5", "--cone", "parrilo:1", "grid:3", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    kinds = {row["cone"]: row["kind"] for row in rows}
    assert kinds == {"combinatorial": "exact", "K^1": "upper", "O_3": "lower"}
    assert abs(rows[1]["value"] - 2.0) < 1e-5 and rows[1]["verified"]


def test_stqp_from_csv(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    np.savetxt(path, np.eye(3), delimiter=",")
    result = run("bound", "stqp", str(path), "--cone", "parrilo:0", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert abs(rows[0]["value"] - 1 / 3) < 1e-5 and rows[0]["kind"] == "lower"
    assert rows[1]["kind"] == "upper"


def test_bad_input_gives_message_and_exit_code(tmp_path: Path) -> None:
    missing = run("bound", "stqp", str(tmp_path / "missing.csv"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3,4\n")
    asym = run("bound", "stqp", str(bad))
    assert asym.returncode == 2 and "symmetric" in asym.stderr
    graph = run("bound", "stability", "--graph", "no-such-graph")
    assert graph.returncode == 2 and "unknown graph" in graph.stderr
    level = run("bound", "stability", "--graph", "c5", "--cone", "parrilo:x")
    assert level.returncode == 2 and "FAMILY:LEVEL" in level.stderr
    assert "Traceback" not in missing.stderr + asym.stderr + graph.stderr + level.stderr
