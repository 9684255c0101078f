r"""One cell of a study: build its problem, check its tightness, return one JSON-ready record.

:func:`execute` is what a worker runs. With ``isolate = "process"`` it runs the cell in a child
Python (``python -m copos.study.cell``) under the cell's limits: the wall-clock limit (the child
is killed when it passes), the memory limit (``RLIMIT_AS`` of the child, and copos's own memory
guard), and any crash of native code stays in the child. Whatever happens, the result is a
record: ``status`` is ``"finished"`` (every method ran or failed on its own row) or
``"failed"`` with the ``reason`` (an exception, the time or memory limit, a crash).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from threadpoolctl import threadpool_limits

from copos._memory import memory_limit
from copos._version import __version__
from copos.nets import datasets
from copos.nets.problem import TrainingProblem
from copos.study.config import CellSpec
from copos.study.paper_data import load_paper
from copos.study.report import _json_safe
from copos.study.tightness import check_tightness

#: Version of the record layout in the results file.
RECORD_FORMAT = 1
FINISHED = "finished"
FAILED = "failed"

#: One BLAS/OpenMP thread per cell: the engine runs one cell per core.
SINGLE_THREAD_ENV: dict[str, str] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


class CellInterrupted(Exception):
    """The cell's child was stopped by Ctrl-C: nothing to record, the cell runs again next time."""


def build_problem(spec: CellSpec) -> TrainingProblem:
    """The cell's training problem, built from its spec (never shipped: CVXPY does not pickle)."""
    params = dict(spec.params)
    if spec.source == "builtin":
        seed = {} if spec.instance is None else {"seed": spec.instance}
        generator = getattr(datasets, spec.generator)
        problem = generator(**params, **seed, beta=spec.beta, **_bias_of(spec))
        return replace(problem, name=spec.dataset)
    if spec.source == "file":
        X, Y = datasets.load_data(spec.path)
    else:
        X, Y = load_paper(spec.generator, spec.data_dir, spec.instance)
    return TrainingProblem.from_data(X, Y, spec.beta, bias=spec.bias, name=spec.dataset)


def _bias_of(spec: CellSpec) -> dict[str, bool]:
    """``bias=`` for the generators that take it (``whitened`` has none: it would break XXᵀ = I)."""
    return {} if spec.generator == "whitened" else {"bias": spec.bias}


def machine() -> dict[str, Any]:
    """Where a cell ran: host, platform, Python, cores."""
    return {
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def record(spec: CellSpec, status: str, reason: str = "", **fields: Any) -> dict[str, Any]:
    """The results-file line of a cell (JSON-safe: non-finite numbers become null)."""
    data = {
        "format": RECORD_FORMAT,
        "cell": spec.cell_id,
        "study": spec.study,
        "label": spec.label,
        "status": status,
        "reason": reason,
        "spec": spec.to_dict(),
        "copos": __version__,
        "machine": machine(),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **fields,
    }
    return _json_safe(data)


def run_cell(spec: CellSpec) -> dict[str, Any]:
    """Run ``spec`` in this process: its record, ``failed`` if building or checking raised.

    ``time`` is the cell's wall-clock time, ``cpu_time`` the CPU time of this process (all its
    threads) meanwhile: on a shared machine the second says what the cell costs.
    """
    start, cpu = time.perf_counter(), time.process_time()
    try:
        with memory_limit(spec.memory_limit):
            problem = build_problem(spec)
            report = check_tightness(
                problem,
                widths=spec.widths,
                seeds=spec.seeds,
                methods=spec.methods,
                solver=spec.solver,
                epochs=spec.epochs,
                progress=False,
            )
    except MemoryError as exc:
        return record(spec, FAILED, f"memory limit: {exc}", time=time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - a failing cell is a row, never the end of the study
        reason = f"{type(exc).__name__}: {exc}"
        return record(spec, FAILED, reason, time=time.perf_counter() - start)
    return record(
        spec,
        FINISHED,
        time=time.perf_counter() - start,
        cpu_time=time.process_time() - cpu,
        report=report.to_dict(weights=spec.keep_weights),
    )


def execute(spec: CellSpec) -> dict[str, Any]:
    """Run ``spec`` as its ``isolate`` setting says; the entry point of every engine's workers."""
    if spec.isolate == "none":
        with threadpool_limits(1):  # BLAS is loaded already here: limit its pools directly
            return run_cell(spec)
    return run_in_child(spec)


def run_in_child(spec: CellSpec) -> dict[str, Any]:
    """Run ``spec`` in a child Python under its time and memory limits; a record in any case."""
    start = time.perf_counter()
    env = {**os.environ, **SINGLE_THREAD_ENV, "PYTHONPATH": _package_path()}
    with tempfile.TemporaryDirectory(prefix="copos-cell-") as scratch:
        out = os.path.join(scratch, "record.json")
        command = [sys.executable, "-m", "copos.study.cell", out]
        try:
            child = subprocess.run(
                command,
                input=json.dumps(spec.to_dict()),
                capture_output=True,
                text=True,
                timeout=spec.time_limit,
                env=env,
                cwd=os.getcwd(),
            )
        except subprocess.TimeoutExpired:
            reason = f"time limit: the cell ran longer than {spec.time_limit:g} s and was stopped"
            return record(spec, FAILED, reason, time=time.perf_counter() - start)
        if child.returncode == 0 and os.path.exists(out):
            with open(out, encoding="utf-8") as handle:
                data: dict[str, Any] = json.load(handle)
            data["wall_time"] = time.perf_counter() - start  # with the child's start-up
            return data
    if child.returncode == -signal.SIGINT or child.stderr.rstrip().endswith("KeyboardInterrupt"):
        raise CellInterrupted(spec.label)
    return record(spec, FAILED, _crash_reason(child), time=time.perf_counter() - start)


def _package_path() -> str:
    """``PYTHONPATH`` that makes the child import this very copos (not another installed one)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    rest = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join([root, rest]) if rest else root


def _crash_reason(child: subprocess.CompletedProcess[str]) -> str:
    """Why a child ended without a record: a signal (the OOM killer, a segfault) or an exit code."""
    tail = " | ".join(child.stderr.strip().splitlines()[-3:])
    if child.returncode < 0:
        what = f"crashed: killed by signal {-child.returncode}"
    else:
        what = f"crashed: exit code {child.returncode}"
    if "MemoryError" in child.stderr:
        what = f"memory limit: {what}"
    return f"{what}; {tail}" if tail else what


def _limit_address_space(nbytes: int | None) -> None:
    """Cap this process's address space (the memory limit of a cell in its child)."""
    if nbytes is None:
        return
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (nbytes, nbytes))


def main(argv: list[str]) -> int:
    """Child entry point: spec JSON on stdin, record JSON written to ``argv[0]``."""
    spec = CellSpec.from_dict(json.loads(sys.stdin.read()))
    _limit_address_space(spec.memory_limit)
    try:
        data = run_cell(spec)
    except BaseException:  # noqa: BLE001 - the parent reads the traceback from stderr
        traceback.print_exc()
        return 1
    with open(argv[0], "w", encoding="utf-8") as handle:
        json.dump(data, handle, allow_nan=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
