r"""One cell of a study: build its problem, check its tightness, return one JSON-ready record.

:func:`execute` is what a worker runs. With ``isolate = "process"`` the cell runs in the worker
thread's cell server, a child Python (``python -m copos.study.cell --serve``) that runs cells one
after another under their limits: the wall-clock limit (the server is killed when a cell passes
it, and replaced), the memory limit (``RLIMIT_AS`` of the server, and copos's own memory guard);
a crash of native code ends the server, not the worker. Whatever happens, the result is a
record: ``status`` is ``"finished"`` (every method ran or failed on its own row) or
``"failed"`` with the ``reason`` (an exception, the time or memory limit, a crash).
"""

from __future__ import annotations

import json
import os
import platform
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
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

#: Exit code of a cell server stopped by Ctrl-C (as a shell reports SIGINT).
INTERRUPTED = 130

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
    """Run ``spec`` in this thread's cell server (a child Python) under its limits; a record.

    The server is started on first use and kept for the next cells, so a cell does not pay for
    Python's and CVXPY's start-up. It is killed when a cell passes its time limit and replaced
    after a crash; a server whose memory limit differs from the cell's is replaced first.
    """
    start = time.perf_counter()
    server = CellServer.for_limit(spec.memory_limit)
    outcome = server.run(spec, spec.time_limit)
    if isinstance(outcome, dict):
        outcome["wall_time"] = time.perf_counter() - start  # with any start-up of the server
        return outcome
    if outcome == "time limit":
        reason = f"time limit: the cell ran longer than {spec.time_limit:g} s and was stopped"
        return record(spec, FAILED, reason, time=time.perf_counter() - start)
    returncode, stderr = server.ended()
    if returncode in (INTERRUPTED, -signal.SIGINT) or stderr.rstrip().endswith("KeyboardInterrupt"):
        raise CellInterrupted(spec.label)
    return record(spec, FAILED, _crash_reason(returncode, stderr), time=time.perf_counter() - start)


class CellServer:
    """A child Python that runs cells one at a time: spec JSON lines in, record JSON lines out.

    One per worker thread (:meth:`for_limit`). Its stderr goes to a scratch file, read back
    when it dies, to say why.
    """

    _local = threading.local()

    def __init__(self, memory_limit: int | None) -> None:
        self.memory_limit = memory_limit
        self._stderr = tempfile.TemporaryFile(mode="w+b")
        command = [sys.executable, "-m", "copos.study.cell", "--serve"]
        if memory_limit is not None:
            command += ["--memory-limit", str(memory_limit)]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env={**os.environ, **SINGLE_THREAD_ENV, "PYTHONPATH": _package_path()},
        )

    @classmethod
    def for_limit(cls, memory_limit: int | None) -> CellServer:
        """This thread's live server with ``memory_limit``, started (or replaced) if needed."""
        server: CellServer | None = getattr(cls._local, "server", None)
        if (
            server is None
            or server.process.poll() is not None
            or server.memory_limit != memory_limit
        ):
            if server is not None:
                server.stop()
            server = cls(memory_limit)
            cls._local.server = server
        return server

    def run(self, spec: CellSpec, time_limit: float | None) -> dict[str, Any] | str:
        """The record of ``spec``; ``"time limit"`` (the server is killed) or ``"died"``."""
        try:
            assert self.process.stdin is not None
            self.process.stdin.write((json.dumps(spec.to_dict()) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return "died"
        line = self._read_line(time_limit)
        if line is None:
            self.stop()
            return "time limit"
        if not line:
            self.process.wait()
            return "died"
        data: dict[str, Any] = json.loads(line)
        return data

    def _read_line(self, timeout: float | None) -> bytes | None:
        """One line from the server; ``b""`` at its end, ``None`` when ``timeout`` passes first."""
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        deadline = None if timeout is None else time.monotonic() + timeout
        chunks: list[bytes] = []
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([descriptor], [], [], wait)
            if not ready:
                return None
            chunk = os.read(descriptor, 1 << 16)
            if not chunk:
                return b""
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                return b"".join(chunks)

    def ended(self) -> tuple[int, str]:
        """The exit code of a dead server and the end of its stderr."""
        returncode = self.process.wait()
        self._stderr.seek(0)
        stderr = self._stderr.read()[-4000:].decode(errors="replace")
        self.stop()
        return returncode, stderr

    def stop(self) -> None:
        """Kill the server (if alive) and forget it."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        self._stderr.close()
        if getattr(self._local, "server", None) is self:
            self._local.server = None


def _package_path() -> str:
    """``PYTHONPATH`` that makes the child import this very copos (not another installed one)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    rest = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join([root, rest]) if rest else root


def _crash_reason(returncode: int, stderr: str) -> str:
    """Why a server ended without a record: a signal (the OOM killer, a segfault) or an exit code."""
    tail = " | ".join(stderr.strip().splitlines()[-3:])
    if returncode < 0:
        what = f"crashed: killed by signal {-returncode}"
    else:
        what = f"crashed: exit code {returncode}"
    if "MemoryError" in stderr:
        what = f"memory limit: {what}"
    return f"{what}; {tail}" if tail else what


def _limit_address_space(nbytes: int | None) -> None:
    """Cap this process's address space (the memory limit of the cells in a server)."""
    if nbytes is None:
        return
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (nbytes, nbytes))


def _die_with_parent() -> None:
    """Linux: be killed when the worker that started this server dies (no orphaned cell runs on)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the worker died before the call
        os._exit(1)


def serve(memory_limit: int | None) -> int:
    """The server loop: a spec JSON per line on stdin, its record as one JSON line on stdout.

    Anything else that writes to stdout (a solver's log) is sent to stderr, so the protocol
    stays clean.
    """
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    _die_with_parent()
    _limit_address_space(memory_limit)
    try:
        for line in sys.stdin:
            data = run_cell(CellSpec.from_dict(json.loads(line)))
            protocol.write(json.dumps(data, allow_nan=False) + "\n")
            protocol.flush()
    except KeyboardInterrupt:
        return INTERRUPTED
    return 0


def main(argv: list[str]) -> int:
    """``python -m copos.study.cell --serve [--memory-limit BYTES]``."""
    limit = int(argv[argv.index("--memory-limit") + 1]) if "--memory-limit" in argv else None
    return serve(limit)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
