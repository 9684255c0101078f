"""Every internal link and anchor of the built documentation site resolves (no browser needed).

The site is the strict build of ``docs_site`` (``tests/conftest.py``); the crawl parses every
page's ``href``/``src`` and checks the file and the anchor it points to.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit


class _Links(HTMLParser):
    """The ids of a page and the URLs it points to (``href`` and ``src``)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)
            if key in ("href", "src") and value:
                self.urls.append(value)


def _parse(page: Path) -> _Links:
    links = _Links()
    links.feed(page.read_text(encoding="utf-8"))
    return links


def internal_target(site: Path, page: Path, url: str) -> tuple[Path, str] | None:
    """The file and anchor that ``url`` on ``page`` points to, or None for another site."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(("mailto:", "data:", "javascript:")):
        return None
    base = "/" + page.relative_to(site).as_posix()
    path = unquote(urlsplit(urljoin(base, url)).path)
    target = site / path.lstrip("/")
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


def test_every_internal_link_resolves(docs_site: Path) -> None:
    pages = sorted(p for p in docs_site.rglob("*.html") if p.name != "404.html")
    parsed = {page: _parse(page) for page in pages}
    broken: list[str] = []
    checked = 0
    for page, links in parsed.items():
        for url in links.urls:
            target = internal_target(docs_site, page, url)
            if target is None:
                continue
            file, anchor = target
            checked += 1
            if not file.is_file():
                broken.append(f"{page.relative_to(docs_site)}: {url} (no file)")
            elif anchor and file.suffix == ".html":
                ids = parsed[file].ids if file in parsed else _parse(file).ids
                if anchor not in ids:
                    broken.append(f"{page.relative_to(docs_site)}: {url} (no anchor)")
    assert checked > 1000
    assert not broken, "\n".join(broken[:40])


def test_the_link_check_sees_a_broken_link(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a/index.html").write_text('<h1 id="x">x</h1>', encoding="utf-8")
    page = tmp_path / "index.html"
    assert internal_target(tmp_path, page, "a/#x") == (tmp_path / "a/index.html", "x")
    assert internal_target(tmp_path, page, "https://example.org/") is None
    assert not internal_target(tmp_path, page, "b/")[0].is_file()
