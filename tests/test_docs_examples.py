"""The worked examples of docs/architecture.md run as written ("where to add ...", issue 10)."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def sections() -> dict[str, str]:
    """The python blocks of each "Where to add ..." section, joined in page order."""
    found: dict[str, str] = {}
    for part in re.split(r"^## ", PAGE.read_text(), flags=re.M)[1:]:
        title, _, body = part.partition("\n")
        code = "\n".join(BLOCK.findall(body))
        if title.startswith("Where to add") and code:
            found[title] = code
    return found


def test_every_where_to_add_section_has_runnable_code() -> None:
    assert {
        "Where to add a cone",
        "Where to add a relaxation",
        "Where to add a solver",
        "Where to add an architecture",
    } <= set(sections())


@pytest.mark.parametrize("title", sorted(sections()))
def test_worked_example_runs(title: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("docs_example")  # dataclasses look their module up in sys.modules
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(sections()[title], f"{PAGE.name}: {title}", "exec"), module.__dict__)
