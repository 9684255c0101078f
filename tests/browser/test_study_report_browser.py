"""The study report as a reader sees it: ``report.html`` opened in headless Chromium (issue 13).

The report of a tiny results file (the records of ``tests/study/test_paper_report.py``) is
written, served on 127.0.0.1 and opened with the probe of ``test_docs_browser.py``: every figure
is an inline PNG that the browser decoded (``naturalWidth > 0``), and the page loads nothing from
another host.  Run by ``.ci/run`` with the other browser tests (Chromium from the system).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import replace
from http.server import ThreadingHTTPServer
from pathlib import Path

from copos.study.cell import FINISHED, record
from copos.study.config import load_config
from copos.study.paper_report import write_report
from copos.study.store import ResultsStore
from tests.browser.test_docs_browser import _Handler, open_page
from tests.study.studyhelp import write_config
from tests.study.test_paper_report import _report


def _results(tmp_path: Path) -> Path:
    config = load_config(write_config(tmp_path, instances='"0:3"'))
    store = ResultsStore(tmp_path / "r.jsonl", "tiny")
    single = replace(config.cells[0], dataset="single", instance=None)
    store.append(record(single, FINISHED, time=2.0, report=_report(8.0, 10.0)))
    for index, cell in enumerate(config.cells[:4]):
        store.append(record(cell, FINISHED, time=1.0, report=_report(8.0 + index, 10.0 + index)))
    return tmp_path / "r.jsonl"


def test_study_report_renders_its_figures_in_the_browser(tmp_path: Path) -> None:
    out = tmp_path / "report"
    write_report(_results(tmp_path), out)
    handler = functools.partial(_Handler, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/report.html"
        probe = open_page(url, tmp_path / "chromium")
    finally:
        server.shutdown()
        server.server_close()
    assert len(probe["images"]) == 3  # the single problem's figure and one histogram per beta
    for source, width in probe["images"]:
        assert source.startswith("data:image/png;base64,") and width > 0, source
    assert "p*" in probe["text"]
