"""What every benchmark script shares, once: child processes, CSV files, tables and plots.

* :func:`run_child` runs ``python SCRIPT --child ARGS...`` under a wall-clock limit (killed with
  SIGKILL after ``max_seconds``), an optional address-space cap (``RLIMIT_AS``) and an optional
  BLAS/OpenMP thread count, and measures the child's peak resident memory
  ``peak_mb = ru_maxrss / 1024`` (``os.wait4``; KiB on Linux, also for a killed child).  The
  child's stdout and stderr go to files, so what it printed before a kill survives.
* :func:`outcome_row` turns a child run into a table row: its last JSON line, or ``timeout`` /
  ``error`` with the wall time and a note.
* :func:`write_csv` writes rows under fixed columns (missing cells empty); :func:`write_results`
  also prints the rows' notes and the path.
* :class:`Column` and :func:`format_table` print fixed-width tables: cell ``i`` is
  ``format(fmt(value_i, spec_i), align_i + width_i)``, cells joined by one space.
* :func:`pyplot` and :func:`save_figure` give the headless matplotlib the plots use.

The scripts import this module as ``_harness`` (``python benchmarks/NAME.py`` puts
``benchmarks/`` first on ``sys.path``).
"""

from __future__ import annotations

import csv
import json
import math
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: environment variables that set the BLAS / OpenMP thread count of a child
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: how often the parent checks whether the child has finished (seconds)
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class ChildRun:
    """Outcome of one child process: its output, exit code, wall time and peak memory."""

    stdout: str
    stderr: str
    returncode: int
    timed_out: bool
    wall_s: float
    peak_mb: float


def run_child(
    script: str | Path,
    args: Sequence[str],
    max_seconds: float,
    *,
    threads: int | str | None = None,
    memory_gb: float = 0.0,
) -> ChildRun:
    """Run ``python script --child *args`` for at most ``max_seconds`` of wall clock.

    ``threads`` sets :data:`THREAD_VARIABLES` in the child's environment (``None``: inherited);
    ``memory_gb > 0`` caps the child's address space at ``memory_gb * 2**30`` bytes, so that a
    failed allocation is reported instead of swapping the machine.
    """
    command = [sys.executable, str(Path(script).resolve()), "--child", *map(str, args)]
    env = dict(os.environ)
    if threads is not None:
        env.update(dict.fromkeys(THREAD_VARIABLES, str(threads)))
    cap = _memory_cap(memory_gb) if memory_gb > 0 else None
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(
            command, stdout=out, stderr=err, text=True, env=env, preexec_fn=cap
        )
        status, usage, timed_out = _wait(child.pid, start + max_seconds)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    return ChildRun(
        stdout=stdout,
        stderr=stderr,
        returncode=os.waitstatus_to_exitcode(status),
        timed_out=timed_out,
        wall_s=wall,
        peak_mb=usage.ru_maxrss / 1024,
    )


def _wait(pid: int, deadline: float) -> tuple[int, Any, bool]:
    """Wait for ``pid`` until ``deadline`` (perf_counter), then SIGKILL it; (status, rusage, killed)."""
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage, False
        if time.perf_counter() >= deadline:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            return status, usage, True
        time.sleep(POLL_SECONDS)


def _memory_cap(memory_gb: float) -> Callable[[], None]:
    """A ``preexec_fn`` setting ``RLIMIT_AS`` to ``memory_gb`` GiB in the child."""
    cap = int(memory_gb * 1024**3)

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    return apply


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects among the lines of ``text`` (other lines, e.g. solver logs, skipped)."""
    objects = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                objects.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return objects


def last_json(text: str) -> dict[str, Any]:
    """The last JSON object printed in ``text``, or ``{}``."""
    objects = json_lines(text)
    return objects[-1] if objects else {}


def stderr_tail(stderr: str, limit: int = 160, default: str = "no output") -> str:
    """The last line of ``stderr`` (``default`` if empty), cut to ``limit`` characters."""
    return (stderr.strip().splitlines() or [default])[-1][:limit]


def outcome_row(
    run: ChildRun, base: dict[str, Any], max_seconds: float, time_key: str = "time_s"
) -> dict[str, Any]:
    """The row of a child run: its last JSON line, or ``timeout``/``error`` with wall time and note.

    A killed or failed child keeps ``base`` updated by the last JSON line it printed (partial
    progress), with ``time_key`` = the wall time of the child.
    """
    last = last_json(run.stdout)
    if run.timed_out:
        return {
            **base,
            **last,
            "status": "timeout",
            time_key: run.wall_s,
            "note": f"killed after {max_seconds:g} s",
        }
    if run.returncode != 0 or not last:
        return {
            **base,
            **last,
            "status": "error",
            time_key: run.wall_s,
            "note": stderr_tail(run.stderr),
        }
    return last


def write_csv(path: Path, rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> None:
    """Write ``rows`` to ``path`` under ``columns`` (missing cells empty, extra keys dropped)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row.get(key, "") for key in columns})


def write_results(
    path: Path,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    note_label: Callable[[dict[str, Any]], str] | None = None,
) -> None:
    """Print ``note LABEL: NOTE`` per row with a note (if ``note_label``), write the CSV, say so."""
    if note_label is not None:
        for row in rows:
            if row.get("note"):
                print(f"note {note_label(row)}: {row['note']}")
    write_csv(path, rows, columns)
    print(f"wrote {path}")


def as_float(value: Any) -> float | None:
    """``float(value)`` if that is a finite number (also from a CSV string), else ``None``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fmt(value: Any, spec: str = "", missing: str = "-") -> str:
    """One table cell: ``missing`` for None or "", yes/no for booleans, ``spec`` for floats."""
    if value is None or value == "":
        return missing
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


@dataclass(frozen=True)
class Column:
    """A fixed-width table column: ``title`` over cells ``fmt(get(row), spec, missing)``.

    ``get`` defaults to ``row.get(key)`` (``key`` defaults to ``title``); ``gap`` is the text
    before the column (one space).
    """

    title: str
    width: int
    align: str = ">"
    spec: str = ""
    key: str | None = None
    get: Callable[[dict[str, Any]], Any] | None = None
    missing: str = "-"
    gap: str = " "

    def value(self, row: dict[str, Any]) -> Any:
        return self.get(row) if self.get is not None else row.get(self.key or self.title)

    def cell(self, row: dict[str, Any]) -> str:
        return format(fmt(self.value(row), self.spec, self.missing), f"{self.align}{self.width}")


def _join(columns: Sequence[Column], cells: Sequence[str]) -> str:
    text = "".join(column.gap + cell for column, cell in zip(columns, cells, strict=True))
    return text[len(columns[0].gap) :].rstrip()


def format_header(columns: Sequence[Column]) -> str:
    """The header line: every title padded to its column's width."""
    return _join(columns, [format(c.title, f"{c.align}{c.width}") for c in columns])


def format_row(columns: Sequence[Column], row: dict[str, Any]) -> str:
    """One row of the table (trailing blanks stripped)."""
    return _join(columns, [c.cell(row) for c in columns])


def format_table(
    columns: Sequence[Column], rows: Iterable[dict[str, Any]], rule: bool = True
) -> str:
    """Header, a rule of dashes as long as the header (if ``rule``), then one line per row."""
    header = format_header(columns)
    lines = [header, "-" * len(header)] if rule else [header]
    lines.extend(format_row(columns, row) for row in rows)
    return "\n".join(lines)


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the headless Agg backend, or ``None`` without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save_figure(figure: Any, path: Path) -> Path:
    """Lay out, save at 120 dpi and close ``figure``; return ``path``."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
