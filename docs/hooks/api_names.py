"""mkdocs hook: the API index lists every public name of ``import copos``, read from the source.

``copos/__init__.py`` names its public API in ``__all__``: the lazy names map to their home
modules in ``_LAZY``, the others are imported eagerly (``from copos.errors import ...``). The
table replaces the marker ``<!-- copos-public-names -->`` in ``api/index.md``; each name links to
its entry in the reference, so a public name without a documented entry fails the strict build.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

MARKER = "<!-- copos-public-names -->"


def public_names(init: Path) -> dict[str, str]:
    """Public name -> the module that defines it, from the ``copos/__init__.py`` at ``init``."""
    tree = ast.parse(init.read_text(encoding="utf-8"))
    homes: dict[str, str] = {}
    exported: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("copos."):
            homes.update({alias.asname or alias.name: node.module for alias in node.names})
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "_LAZY":
            homes.update(ast.literal_eval(node.value))
        if isinstance(target, ast.Name) and target.id == "__all__":
            exported = list(ast.literal_eval(node.value))
    return {name: homes[name] for name in exported if not name.startswith("_")}


def names_table(names: dict[str, str]) -> str:
    """A Markdown table: each name linked to its reference entry, and its home module."""
    rows = [f"| [`{name}`][{module}.{name}] | `{module}` |" for name, module in names.items()]
    return "\n".join(["| name | defined in |", "|---|---|", *rows])


def on_page_markdown(markdown: str, page: Any, config: Any, **kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    root = Path(config.config_file_path).parent
    return markdown.replace(MARKER, names_table(public_names(root / "copos" / "__init__.py")))
