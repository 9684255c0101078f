"""Progress lines of long splitting solves, on a terminal only.

A line (iteration, relative residuals, primal value, certified lower bound, its relative gap,
elapsed seconds) is written at most every ``every`` seconds, to ``stream`` (default: standard
error) and only when that stream is a terminal and ``quiet`` is false, so logs, pipes and test
runs stay silent.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

#: Seconds between two progress lines.
PROGRESS_EVERY = 5.0


class Progress:
    """Throttled progress printer; :meth:`due` says when the caller should compute a line."""

    def __init__(
        self,
        quiet: bool,
        start: float,
        stream: TextIO | None = None,
        every: float | None = None,
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = (not quiet) and bool(isatty and isatty())
        self.start = start
        self.every = PROGRESS_EVERY if every is None else every
        self._last = start

    def due(self) -> bool:
        """Whether a line is due now (never when disabled)."""
        return self.enabled and time.perf_counter() - self._last >= self.every

    def show(
        self, iteration: int, r_p: float, r_d: float, value: float, lower: float, gap: float
    ) -> None:
        """Write one line and restart the clock."""
        now = time.perf_counter()
        self._last = now
        self.stream.write(
            f"[copos-admm] it {iteration:>7d}  r_p {r_p:.1e}  r_d {r_d:.1e}  "
            f"value {value:.8g}  lower bound {lower:.8g}  gap {gap:.1e}  "
            f"{now - self.start:.1f} s\n"
        )
        self.stream.flush()
