"""Output files (private): every target is checked before any work, and written atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from copos.errors import DataFileError


def check_output_path(path: str | os.PathLike[str], name: str = "output") -> Path:
    """Return the file that writing ``path`` will create or replace, or raise before any work.

    A symlink is followed to its target (the link itself is kept). Refused with
    :class:`~copos.errors.DataFileError`: an empty path, a directory, a missing or unwritable
    parent directory, an existing file that cannot be replaced.
    """
    text = os.fspath(path)
    if not str(text).strip():
        raise DataFileError(f"{name}: empty file name")
    target = Path(os.path.realpath(text))
    if target.is_dir():
        raise DataFileError(f"{name}: {text!r} is a directory; give a file name")
    directory = target.parent
    if not directory.is_dir():
        raise DataFileError(
            f"{name}: cannot write {text!r}: directory {str(directory)!r} does not exist"
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise DataFileError(
            f"{name}: cannot write {text!r}: directory {str(directory)!r} is not writable"
        )
    if target.exists() and not os.access(target, os.W_OK):
        raise DataFileError(f"{name}: cannot replace {text!r}: the file is not writable")
    return target


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> Path:
    """Write a file atomically and return the file written.

    ``write(handle)`` fills a temporary file in the target's directory, which is flushed, synced
    and moved onto the target with :func:`os.replace`. A symlink is followed (its target is
    replaced, the link stays). If anything fails, the temporary file is removed and the target
    is left untouched (old content or absent). A new file gets the permissions of an ordinary
    new file (``0o666 & ~umask``); an existing file keeps its permissions.

    Raises
    ------
    DataFileError
        The target cannot be written (see :func:`check_output_path`).
    """
    target = check_output_path(path)
    try:
        mode = target.stat().st_mode & 0o777 if target.exists() else None
    except OSError:
        mode = None
    if mode is None:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise DataFileError(f"cannot write {str(target)!r}: {exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError) and not isinstance(exc, DataFileError):
            raise DataFileError(f"cannot write {str(target)!r}: {exc}") from exc
        raise
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`atomic_write` of a UTF-8 string."""
    payload = text.encode("utf-8")
    return atomic_write(path, lambda handle: handle.write(payload))
