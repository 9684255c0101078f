"""Every docstring example (``>>>``) of the package runs, as written, in the suite.

The modules are found by their source (any ``copos/**/*.py`` holding ``>>>``), so an example
added anywhere is run without registering it; each module's examples run with
:mod:`doctest` (``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``) and must all pass.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "copos"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

#: Modules whose public names carry examples today (the test fails if they lose them).
DOCUMENTED = {
    "copos.bound",
    "copos.cones.basic",
    "copos.nets.architectures.dense",
    "copos.nets.datasets",
    "copos.nets.problem",
    "copos.programs.stability",
    "copos.programs.stqp",
    "copos.relaxations.closed_form",
}


def modules_with_examples() -> list[str]:
    """The dotted names of the package's modules whose source holds ``>>>``."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def test_the_documented_modules_have_examples() -> None:
    assert DOCUMENTED <= set(modules_with_examples())


@pytest.mark.parametrize("name", modules_with_examples())
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    tests = [t for t in doctest.DocTestFinder().find(module, name) if t.examples]
    assert tests, f"{name} has '>>>' in its source but no docstring example"
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
