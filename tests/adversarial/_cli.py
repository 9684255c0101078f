"""The parent side of the CLI fuzz: fork a case, wait with a time limit, read what it printed."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.adversarial import _cli_child
from tests.adversarial._attack import strict_json

TRACEBACK = "Traceback (most recent call last)"
VALID_CODES = frozenset({0, 1, 2, 3, 4})

_CONTEXT: Any = None


def _context() -> Any:
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(["tests.adversarial._cli_child"])
    return _CONTEXT


@dataclass(frozen=True)
class CliRun:
    """What one command did: exit code (negative: killed by that signal), output, time-out."""

    argv: tuple[str, ...]
    code: int | None
    stdout: str
    stderr: str
    timed_out: bool


def run_cli(argv: list[str], cwd: Path, timeout: float) -> CliRun:
    """``copos ARGV`` in a forked child (see :mod:`tests.adversarial._cli_child`)."""
    with tempfile.TemporaryDirectory() as scratch:
        out, err = Path(scratch, "stdout"), Path(scratch, "stderr")
        process = _context().Process(
            target=_cli_child.run, args=(argv, str(out), str(err), str(cwd)), daemon=True
        )
        process.start()
        process.join(timeout)
        timed_out = process.is_alive()
        if timed_out:
            process.kill()
            process.join()
        read = lambda path: path.read_text(errors="replace") if path.exists() else ""  # noqa: E731
        return CliRun(tuple(argv), process.exitcode, read(out), read(err), timed_out)


def run_subprocess(argv: list[str], cwd: Path, timeout: float) -> CliRun:
    """``python -m copos.cli ARGV`` for real (the entry point itself)."""
    root = Path(__file__).resolve().parents[2]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "copos.cli", *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
        )
    except subprocess.TimeoutExpired as exc:
        text = lambda b: b.decode(errors="replace") if isinstance(b, bytes) else (b or "")  # noqa: E731
        return CliRun(tuple(argv), None, text(exc.stdout), text(exc.stderr), True)
    return CliRun(tuple(argv), done.returncode, done.stdout, done.stderr, False)


def contract_problems(
    run: CliRun, expect: frozenset[int] | None, as_json: bool, false_yes: bool
) -> list[tuple[str, str]]:
    """Findings (category, detail) about one run against the CLI contract."""
    problems: list[tuple[str, str]] = []
    if run.timed_out:
        return [("contract", "did not finish in time (not refused up front?)")]
    if TRACEBACK in run.stderr or TRACEBACK in run.stdout:
        last = run.stderr.strip().splitlines()[-1:] or ["?"]
        problems.append(("traceback", f"raw traceback, exit {run.code}: {last[0][:160]}"))
    if run.code not in VALID_CODES:
        problems.append(("contract", f"exit code {run.code} outside 0-4"))
    if false_yes and run.code == 0:
        problems.append(("verdict", "exit 0 ('yes') for a net/certificate that is not optimal"))
    elif expect is not None and run.code not in expect and run.code in VALID_CODES:
        problems.append(("contract", f"exit code {run.code}, expected one of {sorted(expect)}"))
    if as_json:
        problems += _json_problems(run)
    return problems


def _json_problems(run: CliRun) -> list[tuple[str, str]]:
    try:
        document = strict_json(run.stdout)
    except ValueError as exc:
        head = run.stdout.strip()[:80].replace("\n", " ")
        return [("contract", f"--json stdout is not one JSON document ({exc}); stdout {head!r}")]
    if run.code in (0, 1):
        if not isinstance(document, (dict, list)):
            return [("contract", f"--json stdout is a {type(document).__name__}")]
        return []
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict) or not {"type", "message", "exit_code"} <= set(error):
        return [("contract", "--json error is not {'error': {type, message, exit_code}}")]
    if error["exit_code"] != run.code:
        return [("contract", f"--json error exit_code {error['exit_code']} != exit {run.code}")]
    return []
