"""`copos study` on the command line: input checked before any work, exit codes, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copos.cli import main
from copos.study.cell import FINISHED, record
from copos.study.config import load_config
from copos.study.store import ResultsStore
from tests.study.studyhelp import write_config


def test_bad_config_and_results_path_exit_2_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["study", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read the study config" in capsys.readouterr().err
    config = write_config(tmp_path)
    assert main(["study", str(config), "--results", str(tmp_path / "no" / "r.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["study", str(config), "--only", "everything"]) == 2
    assert main(["study", "report", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["exit_code"] == 2
    # flags the workers would never see are refused, not ignored
    for flags in (["--solver", "scs"], ["--max-memory", "1G"]):
        assert main(["study", str(config), *flags]) == 2
        assert "would not reach the workers" in capsys.readouterr().err
        assert main([*flags, "study", str(config)]) == 2
        assert "would not reach the workers" in capsys.readouterr().err


def test_finished_study_skips_every_cell_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path)
    store = ResultsStore(tmp_path / "r.jsonl", "tiny")
    for cell in load_config(path).cells:
        store.append(record(cell, FINISHED, time=0.0, report={"rows": [], "runs": []}))
    assert main(["study", str(path), "--results", str(store.path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["skipped"] == 4 and out["unfinished"] == []
    assert main(["study", "report", str(store.path), "--out", str(tmp_path / "rep")]) == 0
    assert (tmp_path / "rep" / "report.html").is_file()
