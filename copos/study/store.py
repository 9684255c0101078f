"""The results store of a study: one JSON Lines file, one line per finished or failed cell.

Only the driver writes, one line per cell as soon as the cell ends: :meth:`ResultsStore.append`
makes one ``write`` of the whole line to a file opened with ``O_APPEND``, then ``fsync``, under
an exclusive ``flock`` on ``PATH.lock`` (so two drivers on one file cannot interleave). A crash
can therefore leave at most a torn last line, which :meth:`ResultsStore.read` skips (and counts).
A cell may appear more than once (a failure, then its re-run): the last line of a cell wins.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from copos.errors import DataFileError, InvalidInputError


class ResultsStore:
    """Append-only JSON Lines file of cell records (``record["cell"]`` is the cell id)."""

    def __init__(self, path: str | os.PathLike[str], study: str) -> None:
        self.path = Path(path)
        self.study = study
        self.torn_lines = 0
        self._check()

    def _check(self) -> None:
        """Refuse a results path that cannot be written, or that belongs to another study."""
        if self.path.is_dir():
            raise InvalidInputError(f"the results path {os.fspath(self.path)!r} is a directory")
        parent = self.path.parent
        if not parent.is_dir():
            raise InvalidInputError(
                f"the directory of the results file {os.fspath(parent)!r} does not exist"
            )
        if not os.access(parent, os.W_OK) or (
            self.path.exists() and not os.access(self.path, os.W_OK)
        ):
            raise InvalidInputError(f"cannot write the results file {os.fspath(self.path)!r}")
        for data in self.records():
            if data.get("study") != self.study:
                raise InvalidInputError(
                    f"{os.fspath(self.path)!r} holds results of study {data.get('study')!r}, "
                    f"not {self.study!r}; give another --results file"
                )
            break

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(f"{os.fspath(self.path)}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def append(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one line: one ``write``, flushed and ``fsync``-ed, under the lock."""
        line = (json.dumps(record, allow_nan=False, separators=(",", ":")) + "\n").encode()
        with self._locked():
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                self._finish_torn_line(descriptor)
                written = os.write(descriptor, line)
                if written != len(line):
                    raise OSError(f"short write to {os.fspath(self.path)!r}")
                os.fsync(descriptor)
            finally:
                os.close(descriptor)

    def _finish_torn_line(self, descriptor: int) -> None:
        """End a torn last line (a crash mid-write) with a newline, so the next line is whole."""
        size = os.fstat(descriptor).st_size
        if size == 0:
            return
        with open(self.path, "rb") as handle:
            handle.seek(size - 1)
            if handle.read(1) != b"\n":
                os.write(descriptor, b"\n")

    def records(self) -> Iterator[dict[str, Any]]:
        """Every whole record in file order (torn lines are skipped, counted in ``torn_lines``)."""
        torn = [0]
        yield from iter_records(self.path, torn)
        self.torn_lines = torn[0]

    def latest(self) -> dict[str, dict[str, Any]]:
        """The last record of every cell, by cell id."""
        return {data["cell"]: data for data in self.records()}

    def done(self, only_failed: bool = False) -> set[str]:
        """Cell ids not to run again: every recorded cell, or (re-running failures) the finished."""
        latest = self.latest()
        if only_failed:
            return {cell for cell, data in latest.items() if data.get("status") != "failed"}
        return set(latest)


def read_records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The last record of every cell in a results file (for reports; the file is only read)."""
    file = Path(path)
    if not file.is_file():
        raise InvalidInputError(f"the results file {os.fspath(file)!r} does not exist")
    latest = {data["cell"]: data for data in iter_records(file)}
    if not latest:
        raise DataFileError(f"{os.fspath(file)!r} holds no study results")
    return list(latest.values())


def iter_records(path: Path, torn: list[int] | None = None) -> Iterator[dict[str, Any]]:
    """Every whole record of a results file in order; torn lines are counted in ``torn[0]``."""
    if not path.exists():
        return
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise DataFileError(f"cannot read the results {os.fspath(path)!r}: {exc}") from exc
    for line in lines:
        try:
            data = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        if isinstance(data, dict) and "cell" in data:
            yield data
        elif torn is not None:
            torn[0] += 1
