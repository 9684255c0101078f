"""Tiny study configurations for the study tests (built-in data only, cheap methods)."""

from __future__ import annotations

from pathlib import Path

TINY = """
[study]
name = "tiny"
betas = [0.1, 0.01]
methods = ["certificate"]
widths = [2]
seeds = [0]
epochs = 100
isolate = "{isolate}"
{extra}

[[datasets]]
name = "planted-tiny"
source = "builtin"
generator = "planted"
params = {{ n = 5, d = 2, c = 1, teacher_width = 3 }}
instances = {instances}
"""


def write_config(
    directory: Path, instances: str = "[0, 1]", isolate: str = "none", extra: str = ""
) -> Path:
    """A study TOML of len(instances) x 2 cells of tiny planted problems; its path."""
    path = directory / "tiny.toml"
    path.write_text(TINY.format(instances=instances, isolate=isolate, extra=extra))
    return path
