"""Session-wide counting of the adversarial attacks.

Every attack is recorded in :data:`COLLECTOR` (through the ``adversarial`` fixture) with the
findings it produced.  At the end of the run the terminal summary prints

    adversarial: attacks tried N, false verdicts A, mislabelled bounds B, raw tracebacks C

and, when the environment variable ``COPOS_ADVERSARIAL_REPORT`` names a file, the same counts
(and every finding) are written there as JSON.  Each test also asserts its own zero counts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from tests.adversarial._collector import COLLECTOR, Collector


@pytest.fixture
def adversarial() -> Iterator[Collector]:
    """The session collector (one per pytest process)."""
    yield COLLECTOR


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the counts and, if asked for, write them as JSON."""
    if COLLECTOR.attacks == 0:
        return
    terminalreporter.write_sep("-", "adversarial suite")
    terminalreporter.write_line(COLLECTOR.summary_line())
    other = COLLECTOR.count("contract")
    terminalreporter.write_line(f"adversarial: other contract violations {other}")
    for finding in COLLECTOR.findings[:40]:
        terminalreporter.write_line(f"  [{finding.category}] {finding.attack}: {finding.detail}")
    if len(COLLECTOR.findings) > 40:
        terminalreporter.write_line(f"  ... and {len(COLLECTOR.findings) - 40} more")
    target = os.environ.get("COPOS_ADVERSARIAL_REPORT")
    if target:
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(COLLECTOR.to_dict(), handle, indent=2, allow_nan=False)
