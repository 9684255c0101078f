"""Test configuration: a deterministic hypothesis profile without deadlines, and the built
documentation site shared by the site and browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("copos", deadline=None, max_examples=25, derandomize=True)
settings.load_profile("copos")


# --- the documentation site, built once per session (tests/test_docs_site.py, test_docs_links.py, browser/)

#: A site already built by ``.ci/run`` (every notebook executed): the tests read it, no rebuild.
SITE_ENV = "COPOS_DOCS_SITE"
#: Without it the tests build the site, running only the first tutorial (its figures are checked).
EXECUTED_HERE = "01_*"


@pytest.fixture(scope="session")
def docs_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built documentation site: ``$COPOS_DOCS_SITE`` if set, else a strict build here."""
    given = os.environ.get(SITE_ENV)
    if given:
        site = Path(given)
        assert (site / "index.html").is_file(), f"{SITE_ENV}={given} holds no built site"
        return site
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "COPOS_DOCS_EXECUTE": EXECUTED_HERE}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return site
