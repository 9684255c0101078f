"""The documentation site as a reader sees it: served on 127.0.0.1 and opened in headless Chromium.

The site is the strict build of ``docs_site`` (``tests/conftest.py``). A local HTTP server
(a thread, a free port) serves it; for a request ``page/?copos-probe`` it adds a small script
before ``</body>`` that waits for MathJax, then writes what the browser sees into the page as
JSON: the MathJax containers, every image's ``naturalWidth`` and the visible text outside code.
``chromium --headless --dump-dom`` prints the page after it ran; every host name but
127.0.0.1 fails to resolve, so formulas and images render from the site alone (no network).
The internal links are checked without a browser by ``tests/test_docs_links.py``.

Chromium comes from the system's packages, which a fresh machine with only Python and pip lacks:
so these tests are not part of the README's test command (``addopts`` ignores ``tests/browser``);
``.ci/run`` installs Chromium when missing and runs them on the site it built with every notebook
executed.  Without Chromium they fail, they never skip.
"""

from __future__ import annotations

import functools
import html
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PROBE_QUERY = "copos-probe"
PROBE = """<script>
window.addEventListener("load", async () => {
  if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
  const hidden = "pre, code, script, style, noscript, textarea, mjx-container";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const text = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (parent && !parent.closest(hidden) && parent.getClientRects().length > 0) {
      text.push(node.textContent);
    }
  }
  const probe = document.createElement("pre");
  probe.id = "copos-probe";
  probe.textContent = JSON.stringify({
    mathjax: document.querySelectorAll("mjx-container").length,
    arithmatex: document.querySelectorAll(".arithmatex").length,
    images: [...document.images].map((img) => [img.src.slice(0, 60), img.naturalWidth]),
    headings: [...document.querySelectorAll("h1[id], h2[id], h3[id]")]
      .filter((h) => h.getClientRects().length > 0).map((h) => h.id),
    text: text.join(" "),
  });
  document.body.appendChild(probe);
});
</script>"""
RAW_MATH = ("$$", "\\(", "\\[")


class _Handler(SimpleHTTPRequestHandler):
    """Serves the site quietly; ``?copos-probe`` pages get the probe script."""

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if query != PROBE_QUERY:
            super().do_GET()
            return
        file = Path(self.translate_path(path))
        page = (file / "index.html" if file.is_dir() else file).read_bytes()
        body = page.replace(b"</body>", PROBE.encode() + b"</body>")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(docs_site: Path) -> Iterator[str]:
    """The base URL of the site, served from a thread on 127.0.0.1 at a free port."""
    handler = functools.partial(_Handler, directory=str(docs_site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def chromium() -> str:
    """The system's Chromium (``.ci/run`` installs the Debian package when it is missing)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("no Chromium on PATH: apt-get install chromium (.ci/run does)")


def open_page(url: str, profile: Path) -> dict:
    """What headless Chromium sees on ``url`` once MathJax is done: the probe's JSON."""
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            # no network but the local server: the site must render from itself alone
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=20000",
            "--dump-dom",
            f"{url}?{PROBE_QUERY}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r'<pre id="copos-probe">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found, f"the probe did not run on {url}: {done.stderr[-2000:]}"
    return json.loads(html.unescape(found[1]))


@pytest.fixture(scope="module")
def seen(served: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict]:
    """``seen(page)``: the probe of a page of the served site, each page opened once."""
    profile = tmp_path_factory.mktemp("chromium")
    return functools.cache(lambda page: open_page(served + page, profile))


# page, whether it has formulas, whether it has images
PAGES = [
    ("", False, False),
    ("architecture/", True, True),
    ("api/certificates/", True, False),
    ("concepts/", True, True),  # the sandwich (SVG)
    ("networks/", True, False),
    ("benchmarks/", False, True),  # the figures of benchmarks/results/
    ("notebooks/01_copositive_duality_on_graphs/", False, True),  # executed: its figures
    ("notebooks/02_relu_networks_are_copositive_programs/", True, False),  # $...$ in Markdown
]


@pytest.mark.parametrize(("page", "has_math", "has_images"), PAGES)
def test_page_renders_formulas_and_images(
    seen: Callable[[str], dict], page: str, has_math: bool, has_images: bool
) -> None:
    probe = seen(page)
    for raw in RAW_MATH:
        assert raw not in probe["text"], (page, raw)
    if has_math:
        assert probe["mathjax"] >= 5, page
        assert probe["mathjax"] >= probe["arithmatex"], page  # every arithmatex span typeset
    assert not has_images or probe["images"], page
    for src, width in probe["images"]:
        assert width > 0, (page, src)


def test_api_page_lists_certify_in_the_browser(seen: Callable[[str], dict]) -> None:
    probe = seen("api/certificates/")
    assert "copos.certificates.certify.certify" in probe["headings"]
    assert "certify" in probe["text"]
