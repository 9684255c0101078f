"""Run a study's cells on Dask and append each result as soon as it ends.

The engine is Dask's ``distributed`` scheduler in both deployments:

* local (default): a :class:`distributed.LocalCluster` of worker *processes*, one thread each,
  as many as this machine has cores, with OpenMP/OpenBLAS/MKL at one thread in every worker;
* remote: ``--dask-scheduler tcp://HOST:PORT`` (or ``DASK_SCHEDULER_ADDRESS``) sends the same
  cells to an existing cluster through :class:`distributed.Client`.

Workers receive picklable :class:`~copos.study.config.CellSpec` s and build their own problems.
Only the driver writes the results file (:class:`~copos.study.store.ResultsStore`), in the order
cells end (:func:`distributed.as_completed`). A worker that dies has its cells rescheduled by
Dask (up to ``distributed.scheduler.allowed-failures`` times); a cell that still cannot run is
recorded as failed with the reason. Ctrl-C cancels what is in flight: those cells, and only
those, are lost, and the next run starts them again.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from copos.errors import CoposError
from copos.study.cell import FAILED, SINGLE_THREAD_ENV, CellInterrupted, execute, record
from copos.study.config import CellSpec, StudyConfig
from copos.study.store import ResultsStore

DASK_HINT = (
    "copos study runs on Dask: install it with `pip install 'copos[study]'` "
    "(or `pip install dask distributed`)"
)

#: Environment variable naming an existing Dask scheduler (like ``--dask-scheduler``).
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"


@dataclass
class StudySummary:
    """What one run of a study did: cells in the config, already done, run now, failed now."""

    total: int
    skipped: int
    ran: int = 0
    failed: int = 0
    seconds: float = 0.0
    workers: int = 0
    engine: str = ""
    failures: list[str] = field(default_factory=list)

    def text(self) -> str:
        if not self.engine:
            return f"study: {self.total} cells, all {self.skipped} already recorded; nothing to run"
        return (
            f"study: {self.total} cells, {self.skipped} already done, {self.ran} run now "
            f"({self.failed} failed) on {self.workers} workers ({self.engine}) in "
            f"{self.seconds:.1f} s"
        )


class StudyInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run_study`; ``summary`` counts what was recorded before it."""

    def __init__(self, summary: StudySummary) -> None:
        super().__init__("study interrupted; the cells in flight were lost, the rest is saved")
        self.summary = summary


def pending_cells(config: StudyConfig, store: ResultsStore, only_failed: bool) -> list[CellSpec]:
    """Cells to run now: not yet recorded, or (``only_failed``) recorded as failed."""
    if only_failed:
        failed = {c for c, data in store.latest().items() if data.get("status") == FAILED}
        return [cell for cell in config.cells if cell.cell_id in failed]
    done = store.done()
    return [cell for cell in config.cells if cell.cell_id not in done]


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run_study(
    config: StudyConfig,
    store: ResultsStore,
    *,
    only_failed: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> StudySummary:
    """Run every pending cell of ``config``; append each record to ``store`` as it ends.

    ``client`` (a :class:`distributed.Client`) wins over ``scheduler``, which wins over
    ``DASK_SCHEDULER_ADDRESS``; without any of them a local cluster of ``workers`` processes
    (default: the cores) is started and closed. ``on_record`` sees every record after it is saved.
    """
    cells = pending_cells(config, store, only_failed)
    summary = StudySummary(total=len(config.cells), skipped=len(config.cells) - len(cells))
    if not cells:
        return summary
    start = time.perf_counter()
    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    with _client(client, address, workers) as (dask_client, engine):
        summary.engine = engine
        summary.workers = len(dask_client.scheduler_info().get("workers", {}))
        try:
            _gather(dask_client, cells, store, summary, on_record)
        except KeyboardInterrupt as exc:
            summary.seconds = time.perf_counter() - start
            raise StudyInterrupted(summary) from exc
    summary.seconds = time.perf_counter() - start
    return summary


def _gather(
    client: Any,
    cells: list[CellSpec],
    store: ResultsStore,
    summary: StudySummary,
    on_record: Callable[[dict[str, Any]], None] | None,
) -> None:
    """Submit the cells, save each record in the order they end; cancel the rest on Ctrl-C."""
    from distributed import as_completed

    by_key = {f"copos-cell-{cell.cell_id}-{time.time_ns()}": cell for cell in cells}
    futures = [client.submit(execute, cell, key=key, pure=False) for key, cell in by_key.items()]
    try:
        for future in as_completed(futures):
            cell = by_key[future.key]
            try:
                data = future.result()
            except CellInterrupted:  # Ctrl-C reached the cell's child: it is in flight, not failed
                continue
            except Exception as exc:  # noqa: BLE001 - a lost worker: the cell is a failed row
                data = record(cell, FAILED, f"worker lost: {type(exc).__name__}: {exc}")
            store.append(data)
            summary.ran += 1
            if data.get("status") == FAILED:
                summary.failed += 1
                summary.failures.append(f"{cell.label}: {data.get('reason')}")
            if on_record is not None:
                on_record(data)
    except BaseException:
        client.cancel(futures)
        raise


@contextlib.contextmanager
def _client(client: Any, address: str | None, workers: int | None) -> Iterator[tuple[Any, str]]:
    """The Dask client to use, and a name for the engine; closes what it opened."""
    if client is not None:
        yield client, "dask client"
        return
    try:
        from distributed import Client
    except ImportError as exc:
        raise CoposError(DASK_HINT) from exc
    if address:
        try:
            remote = Client(address, timeout="30s")
        except OSError as exc:
            raise CoposError(f"cannot reach the Dask scheduler {address}: {exc}") from exc
        with remote:
            yield remote, f"dask scheduler {address}"
        return
    count = workers or default_workers()
    cluster = local_cluster(count)
    with cluster, Client(cluster) as local:
        yield local, "dask LocalCluster"


def local_cluster(workers: int) -> Any:
    """A LocalCluster of ``workers`` single-threaded processes with one BLAS thread each.

    Dask's own memory manager is off (``memory_limit=0``): the cells carry their own limits.
    """
    try:
        from distributed import LocalCluster
    except ImportError as exc:
        raise CoposError(DASK_HINT) from exc
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=0,
        dashboard_address=None,
        env=dict(SINGLE_THREAD_ENV),
        silence_logs=40,
    )
