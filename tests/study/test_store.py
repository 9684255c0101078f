"""The results store: one JSON line per cell, appended whole; skip, --only failed, torn lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copos.errors import DataFileError, InvalidInputError
from copos.study.cell import FAILED, FINISHED, record
from copos.study.config import load_config
from copos.study.runner import pending_cells
from copos.study.store import ResultsStore, read_records
from tests.study.studyhelp import write_config


def test_append_read_skip_and_only_failed(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))  # 2 instances x 2 betas
    first, second, third, _ = config.cells
    store = ResultsStore(tmp_path / "r.jsonl", "tiny")
    assert pending_cells(config, store, only_failed=False) == list(config.cells)
    store.append(record(first, FINISHED, time=1.0))
    store.append(record(second, FAILED, "ValueError: boom", time=float("nan")))
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["time"] is None  # NaN never reaches JSON
    assert pending_cells(config, store, only_failed=False) == list(config.cells[2:])
    assert pending_cells(config, store, only_failed=True) == [second]
    store.append(record(second, FINISHED))  # the re-run: the last line of a cell wins
    assert pending_cells(config, store, only_failed=True) == []
    assert {c: d["status"] for c, d in store.latest().items()} == {
        first.cell_id: FINISHED,
        second.cell_id: FINISHED,
    }
    assert third.cell_id not in store.done()
    assert len(read_records(tmp_path / "r.jsonl")) == 2


def test_a_torn_last_line_is_skipped_and_the_next_line_is_whole(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    path = tmp_path / "r.jsonl"
    store = ResultsStore(path, "tiny")
    store.append(record(config.cells[0], FINISHED))
    with path.open("a") as handle:
        handle.write('{"cell": "abc", "stat')  # a crash in the middle of a write
    assert set(store.latest()) == {config.cells[0].cell_id} and store.torn_lines == 1
    store.append(record(config.cells[1], FINISHED))
    assert set(store.latest()) == {c.cell_id for c in config.cells[:2]}
    assert store.torn_lines == 1


def test_bad_results_paths_are_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="is a directory"):
        ResultsStore(tmp_path, "tiny")
    with pytest.raises(InvalidInputError, match="does not exist"):
        ResultsStore(tmp_path / "no" / "r.jsonl", "tiny")
    config = load_config(write_config(tmp_path))
    ResultsStore(tmp_path / "r.jsonl", "tiny").append(record(config.cells[0], FINISHED))
    with pytest.raises(InvalidInputError, match="study 'tiny', not 'other'"):
        ResultsStore(tmp_path / "r.jsonl", "other")
    with pytest.raises(InvalidInputError, match="does not exist"):
        read_records(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("not json\n")
    with pytest.raises(DataFileError, match="no study results"):
        read_records(tmp_path / "empty.jsonl")
