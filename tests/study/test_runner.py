"""A real Dask LocalCluster of two worker processes: a killed worker, Ctrl-C, resume.

The cells are tiny (n = 5 planted problems, one width, one seed, the certificate only), so the
time goes into the cluster, not into solving.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client

from copos.study.cell import FINISHED
from copos.study.config import load_config
from copos.study.runner import StudyInterrupted, local_cluster, run_study
from copos.study.store import ResultsStore
from tests.study.studyhelp import write_config


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with local_cluster(2) as cluster, Client(cluster) as dask_client:
        yield dask_client


def _finished(store: ResultsStore) -> set[str]:
    return {cell for cell, data in store.latest().items() if data["status"] == FINISHED}


def test_a_killed_worker_loses_no_finished_result_and_resume_completes(
    tmp_path: Path, client: Client
) -> None:
    config = load_config(write_config(tmp_path, instances='"0:4"'))  # 8 cells
    store = ResultsStore(tmp_path / "r.jsonl", "tiny")
    seen: list[dict[str, Any]] = []
    killed: list[int] = []

    def kill_a_worker(data: dict[str, Any]) -> None:
        seen.append(data)
        if len(seen) == 1:  # mid-study: one result saved, the others queued or running
            killed.append(next(iter(client.run(os.getpid).values())))
            os.kill(killed[0], signal.SIGKILL)

    run_study(config, store, client=client, on_record=kill_a_worker)
    assert killed and killed[0] not in client.run(os.getpid).values()
    saved = store.latest()
    assert seen[0]["cell"] in saved  # the result saved before the kill is still there
    for data in seen:
        assert saved[data["cell"]]["status"] == data["status"]
    run_study(config, store, only_failed=True, client=client)  # lost cells were recorded failed
    summary = run_study(config, store, client=client)
    assert summary.ran == 0 and summary.skipped == 8
    assert _finished(store) == set(config.cell_ids)


def test_ctrl_c_loses_at_most_the_cells_in_flight(tmp_path: Path, client: Client) -> None:
    config = load_config(write_config(tmp_path, instances='"0:3"'))  # 6 cells
    store = ResultsStore(tmp_path / "r.jsonl", "tiny")

    def interrupt(data: dict[str, Any]) -> None:
        raise KeyboardInterrupt

    with pytest.raises(StudyInterrupted) as stop:
        run_study(config, store, client=client, on_record=interrupt)
    assert stop.value.summary.ran == 1 and len(store.latest()) == 1
    summary = run_study(config, store, client=client)
    assert summary.ran == 5 and summary.skipped == 1
    assert _finished(store) == set(config.cell_ids)


def test_a_failing_cell_is_recorded_and_the_study_goes_on(tmp_path: Path, client: Client) -> None:
    path = write_config(tmp_path)
    path.write_text(
        path.read_text()
        + '\n[[datasets]]\nname = "broken"\nsource = "builtin"\ngenerator = "planted"\n'
        "params = { n = 5, d = 2, c = 1, teacher_width = 0 }\n"
    )
    config = load_config(path)
    store = ResultsStore(tmp_path / "r.jsonl", "tiny")
    summary = run_study(config, store, client=client)
    assert summary.ran == 6 and summary.failed == 2
    statuses = {data["label"]: data["status"] for data in store.latest().values()}
    assert statuses["broken#0 beta=0.1"] == "failed" and len(_finished(store)) == 4
    assert all("teacher_width" in line for line in summary.failures)
