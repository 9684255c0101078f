"""The child side of the CLI fuzz: runs ``copos.cli.main(argv)`` as ``python -m copos.cli`` would.

Imported once by the forkserver (so every case forks from a process that has imported copos but
never started a solver thread pool); each case then redirects stdout/stderr to files, caps its
address space, and exits with the code the command would have.
"""

from __future__ import annotations

import io
import os
import resource
import sys
import traceback
from collections.abc import Sequence

import copos.cli  # noqa: F401 - preloaded by the forkserver

#: Extra address space a case may use beyond what the imported libraries already map.
MEMORY_HEADROOM = 3 * 1024**3


def _address_space() -> int:
    """Current virtual memory size of this process in bytes (0 if unknown)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _redirect(fd: int, path: str) -> io.TextIOWrapper:
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(target, fd)
    os.close(target)
    return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8")


def _main(argv: Sequence[str]) -> int:
    """``sys.exit(main())`` of ``copos/cli.py``, with the interpreter's handling of exceptions."""
    from copos.cli import main

    try:
        result = main(list(argv))
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return int(exc.code or 0)
        print(exc.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        traceback.print_exc()
        return 130
    except BaseException:  # noqa: BLE001 - what the interpreter would print
        traceback.print_exc()
        return 1
    return int(result) if isinstance(result, int) else (0 if result is None else 1)


def run(argv: Sequence[str], stdout_path: str, stderr_path: str, cwd: str) -> None:
    """Run one case and leave the process with its exit code."""
    sys.stdout = _redirect(1, stdout_path)
    sys.stderr = _redirect(2, stderr_path)
    os.chdir(cwd)
    os.environ.pop("COPOS_DEBUG", None)
    vm = _address_space()
    if vm:
        limit = vm + MEMORY_HEADROOM
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    code = _main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
