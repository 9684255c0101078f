"""The documentation site: ``mkdocs build --strict`` builds it, and it shows what it promises.

One strict build (``docs_site`` in ``tests/conftest.py``, about 12 s with the first tutorial
executed) is shared by the tests: the API reference lists ``certify``, the CLI page has every
command of ``build_parser()``, the version is shown, formulas went to MathJax (no reST ``:math:``
or ``.. math::`` left in any page), MathJax is served by the site and no page loads anything from
another host, the notebooks are tutorial pages, and the docstrings' reST conversion is
unit-tested. ``tests/browser/test_docs_browser.py`` opens the same site in Chromium (run by
``.ci/run``).
"""

from __future__ import annotations

import argparse
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

import copos
from copos._memory import default_limit, format_size
from copos._version import __version__
from copos.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def _hook(name: str) -> ModuleType:
    """The module ``docs/hooks/<name>.py`` (the hooks are not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"docs_hook_{name}", ROOT / "docs/hooks" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(docs_site: Path) -> Path:
    """The strict build of ``tests/conftest.py`` (or the one ``.ci/run`` made)."""
    return docs_site


def _pages(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): p.read_text(encoding="utf-8") for p in site.rglob("*.html")}


def _command_paths(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    paths = [path]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths += _command_paths(sub, (*path, name))
    return paths


def test_api_reference_lists_certify(site: Path) -> None:
    certificates = (site / "api/certificates/index.html").read_text(encoding="utf-8")
    assert 'id="copos.certificates.certify.certify"' in certificates
    index = (site / "api/index.html").read_text(encoding="utf-8")
    assert re.search(
        r'href="certificates/#copos\.certificates\.certify\.certify"><code>certify</code>', index
    )


def test_docstring_roles_link_to_the_reference(site: Path) -> None:
    certificates = (site / "api/certificates/index.html").read_text(encoding="utf-8")
    assert 'href="../nets/#copos.nets.arrangements"' in certificates  # :mod:, another page
    assert 'href="#copos.certificates.dual_norm.dual_norm"' in certificates  # short :func:
    assert "<autoref" not in certificates


def test_api_index_links_every_public_name(site: Path) -> None:
    index = (site / "api/index.html").read_text(encoding="utf-8")
    for name in copos.__all__:
        if not name.startswith("_"):
            assert f"<code>{name}</code></a>" in index, name


def test_cli_page_has_every_command(site: Path) -> None:
    cli = (site / "cli/index.html").read_text(encoding="utf-8")
    paths = _command_paths(build_parser())
    assert {"tightness", "certify", "verify", "bound", "solvers"} <= {p[0] for p in paths if p}
    for path in paths:
        anchor = "-".join(("copos", *path))
        assert f'<h2 id="{anchor}"' in cli, path
        assert f"usage: {' '.join(('copos', *path))} " in cli, path


def test_cli_page_is_the_same_on_every_machine(site: Path) -> None:
    cli = (site / "cli/index.html").read_text(encoding="utf-8")
    assert format_size(default_limit()) not in cli  # the build machine's memory
    assert "this machine" in cli  # the default described instead


def test_machine_figures_are_dropped_from_the_help() -> None:
    hook = _hook("cli_reference")
    parser = argparse.ArgumentParser(prog="p")
    parser.add_argument("--max-memory", help="refuse (default: half of the memory, 7.5 GiB)")
    hook.machine_independent(parser, ["7.5 GiB"])
    assert "(default: half of the memory)" in hook.help_text(parser)


def test_version_is_shown(site: Path) -> None:
    assert f"copos {__version__}" in (site / "index.html").read_text(encoding="utf-8")


def test_no_raw_rest_math_and_formulas_go_to_mathjax(site: Path) -> None:
    pages = _pages(site)
    assert len(pages) >= 15
    for name, html in pages.items():
        assert ":math:" not in html, name
        assert ".. math::" not in html, name
    for name in ("api/certificates/index.html", "architecture/index.html"):
        assert pages[name].count('class="arithmatex"') > 10, name


_NAV_LINK = re.compile(r'<a[^>]*class="md-nav__link[^"]*"[^>]*>(.*?)</a>', re.DOTALL)


def test_no_math_in_navigation_and_tables_of_contents(site: Path) -> None:
    """MathJax typesets the page, not the navigation: a formula in a heading would show raw in
    the table of contents."""
    for name, html in _pages(site).items():
        for link in _NAV_LINK.findall(html):
            text = re.sub(r"<[^>]+>", "", link)
            assert "\\(" not in text and "$" not in text, (name, text.strip())


def test_rst_to_markdown_math_roles_and_headings() -> None:
    convert = _hook("griffe_rst").rst_to_markdown
    text = (
        "Bound :math:`p^\\star` of :class:`~copos.bound.Bound` (:pep:`562`)::\n\n"
        "    code\n\n"
        "Computing :math:`\\sigma(Z)`\n---------------------------\n\n"
        "    .. math::\n\n        a = b,\\qquad\n        c = \\text{:func:`dual_norm`}\n\n    after\n"
    )
    assert convert(text).splitlines() == [
        "Bound \\(p^\\star\\) of `Bound` ([PEP 562](https://peps.python.org/pep-0562/)):",
        "",
        "    code",
        "",
        "**Computing \\(\\sigma(Z)\\)**",
        "",
        "",
        "    $$",
        "    a = b,\\qquad",
        "    c = \\text{dual_norm}",
        "    $$",
        "",
        "    after",
    ]


_LOADS = re.compile(
    r"<(?:script|img|iframe|source)\b[^>]*\bsrc=\"(?P<src>[^\"]*)\""
    r"|<link\b[^>]*\bhref=\"(?P<href>[^\"]*)\""
)


def test_mathjax_is_served_by_the_site_and_nothing_loads_from_outside(site: Path) -> None:
    mathjax = site / "javascripts/mathjax"
    assert (mathjax / "tex-mml-chtml.js").stat().st_size > 500_000
    assert list((mathjax / "output/chtml/fonts/woff-v2").glob("MathJax_Main-Regular.woff"))
    pages = _pages(site)
    assert "javascripts/mathjax/tex-mml-chtml.js" in pages["architecture/index.html"]
    for name, html in pages.items():
        for match in _LOADS.finditer(html):
            url = match["src"] or match["href"]
            assert not re.match(r"(https?:)?//", url), (name, url)


def test_notebooks_are_tutorial_pages_with_outputs(site: Path) -> None:
    names = [path.stem for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert len(names) == 6  # 01-04, 05 (convolutional nets) and 06 (adversarial training)
    assert all(f"notebooks/{name}.ipynb" in nav for name in names)  # each one a tutorial page
    for name in names:
        html = (site / "notebooks" / name / "index.html").read_text(encoding="utf-8")
        assert "jupyter-wrapper" in html, name
        assert "Load mathjax" not in html, name  # nbconvert's CDN MathJax 2 is dropped
    first = (site / "notebooks" / names[0] / "index.html").read_text(encoding="utf-8")
    assert first.count('src="data:image/png;base64,') >= 1  # executed: its figures are there


def test_which_notebooks_run_at_build_time() -> None:
    executed = _hook("notebooks").executed
    names = ["01_a.ipynb", "02_b.ipynb", "03_c.ipynb"]
    assert executed(names, None) == executed(names, "none") == executed(names, "") == []
    assert executed(names, "all") == names
    assert executed(names, "01_*, 03_*") == ["01_a.ipynb", "03_c.ipynb"]


def test_user_pages_and_benchmarks_are_on_the_site(site: Path) -> None:
    for page in ("getting-started", "concepts", "networks", "certificates", "tightness"):
        assert (site / page / "index.html").is_file(), page
    benchmarks = (site / "benchmarks/index.html").read_text(encoding="utf-8")
    summary = (ROOT / "benchmarks/README.md").read_text(encoding="utf-8")
    first_row = next(line for line in summary.splitlines() if line.startswith("| lifted DNN"))
    assert first_row.split("|")[1].strip()[:40] in benchmarks  # read from benchmarks/, not copied
    for figure in sorted((ROOT / "benchmarks/results").glob("*.png")):
        assert f'src="results/{figure.name}"' in benchmarks, figure.name
        assert (site / "benchmarks/results" / figure.name).is_file(), figure.name
