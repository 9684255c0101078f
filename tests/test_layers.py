"""The package's import graph keeps its layers and has no cycles (issue 10, rule 5).

``lint-imports`` checks the same contracts in CI (``[tool.importlinter]`` in ``pyproject.toml``);
this test reads the layers from there and walks the source with :mod:`ast`, so that ``pytest``
alone also catches a cycle or an upward import, without import-linter installed.  Every
``import`` counts, at module level or inside a function (an in-function import still runs);
imports under ``if TYPE_CHECKING:`` do not, and neither do those of ``copos/__init__`` (its lazy
public API is exempt).
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "copos"

Graph = dict[str, set[str]]


def _modules() -> dict[str, Path]:
    """``copos.x.y -> path`` for every module of the package (a package is its ``__init__``)."""
    found = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _targets(
    module: str, node: ast.Import | ast.ImportFrom, modules: dict[str, Path]
) -> Iterator[str]:
    """The copos modules an import statement names: ``from P import N`` is ``P.N`` if a module."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            anchor = module.split(".")
            if not modules[module].name == "__init__.py":
                anchor = anchor[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([node.module] if node.module else []))
        names = [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
            for alias in node.names
        ]
    for name in names:
        while name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        if name in modules and name != module:
            yield name


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run, at any depth, outside ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif not _is_type_checking(child):
            yield from _imports(child)


def import_graph() -> Graph:
    """Module-level graph ``importer -> {imported}`` of the copos source."""
    modules = _modules()
    graph: Graph = {name: set() for name in modules}
    for name, path in modules.items():
        if name == PACKAGE:
            continue  # the lazy public API of copos/__init__ is exempt
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            graph[name].update(_targets(name, node, modules))
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def collapse(graph: Graph, depth: int) -> Graph:
    """The graph between ancestors ``copos.a`` (depth 2) etc.: one node per name prefix."""

    def head(name: str) -> str:
        return ".".join(name.split(".")[:depth])

    collapsed: Graph = {}
    for importer, imported in graph.items():
        collapsed.setdefault(head(importer), set())
        for target in imported:
            if head(target) != head(importer):
                collapsed[head(importer)].add(head(target))
    return collapsed


def layers() -> list[list[str]]:
    """The layers contract of ``pyproject.toml``, highest first; ``a | b`` are siblings."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c["type"] == "layers"]
    return [[name.strip() for name in layer.split("|")] for layer in contract["layers"]]


def _layer_of(module: str, table: list[list[str]]) -> tuple[int, str] | None:
    for rank, layer in enumerate(table):
        for member in layer:
            if module == member or module.startswith(member + "."):
                return rank, member
    return None


def upward_imports(graph: Graph, table: list[list[str]]) -> list[str]:
    """Imports from a lower layer to a higher one, or between two independent siblings."""
    bad = []
    for importer, imported in sorted(graph.items()):
        source = _layer_of(importer, table)
        for target in sorted(imported):
            destination = _layer_of(target, table)
            if source is None or destination is None or source[1] == destination[1]:
                continue
            if destination[0] <= source[0]:  # same layer (siblings) or a higher one
                bad.append(f"{importer} -> {target}")
    return bad


def test_the_walker_sees_imports_at_every_depth() -> None:
    """Not vacuous: module-level and in-function imports both become edges."""
    graph = import_graph()
    assert "copos.solvers.admm.arrangement" in graph["copos.relaxations.convex"]
    assert "copos.cones.basic" in graph["copos.cones.parrilo"]
    assert "copos.cones" not in graph[PACKAGE]  # exempt
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    table = [["top"], ["mid1", "mid2"], ["low"]]
    edges = {"low.x": {"top"}, "mid1": {"mid2", "low.y"}, "top": {"low"}}
    assert upward_imports(edges, table) == ["low.x -> top", "mid1 -> mid2"]


def test_every_module_is_in_a_layer() -> None:
    """A new top-level module or subpackage must be given its place in pyproject.toml."""
    table = layers()
    missing = [
        m for m in collapse(import_graph(), 2) if m != PACKAGE and _layer_of(m, table) is None
    ]
    assert missing == []


@pytest.mark.parametrize("depth", [None, 2], ids=["modules", "subpackages"])
def test_no_import_cycles(depth: int | None) -> None:
    """No cycle between modules, nor between the subpackages that hold them."""
    graph = import_graph()
    assert cycles(graph if depth is None else collapse(graph, depth)) == []


def test_no_import_from_a_lower_layer_to_a_higher_one() -> None:
    """errors < _validation, _io, ... < solvers < cones < programs < network < ... < cli."""
    assert upward_imports(import_graph(), layers()) == []
