"""mkdocs hook: MathJax 3 served by the site itself, so formulas render with no network.

The MathJax files come from the PyPI package ``django-static-mathjax`` (MathJax 3.2.2, no
dependencies; it installs the import package ``mathjax``, whose ``static/mathjax/es5`` is
MathJax's own ``es5`` directory). After the build they are copied to ``javascripts/mathjax/``
of the site: the component ``tex-mml-chtml.js`` that the pages load (``extra_javascript`` in
``mkdocs.yml``), and the directories it loads on demand (fonts, menu, accessibility, TeX
extensions). Nothing of MathJax is kept in the repository.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

TARGET = "javascripts/mathjax"
COMPONENT = "tex-mml-chtml.js"
#: What tex-mml-chtml.js loads later: CHTML fonts, the context menu, the accessibility
#: extensions and the speech rule engine they use, TeX packages named by \require.
ON_DEMAND = ("output/chtml", "ui", "a11y", "sre", "input/tex/extensions")


def es5_dir() -> Path:
    """MathJax's ``es5`` directory in the installed ``django-static-mathjax``."""
    try:
        root = Path(str(resources.files("mathjax"))) / "static" / "mathjax" / "es5"
    except ModuleNotFoundError as error:
        raise RuntimeError(
            "MathJax is missing: pip install django-static-mathjax (in the 'docs' extra)"
        ) from error
    if not (root / COMPONENT).is_file():
        raise RuntimeError(f"{root / COMPONENT} is missing: reinstall django-static-mathjax")
    return root


def copy_mathjax(site_dir: Path) -> Path:
    """Copy the component and its on-demand directories under ``site_dir/javascripts/mathjax``."""
    source, target = es5_dir(), site_dir / TARGET
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / COMPONENT, target / COMPONENT)
    for sub in ON_DEMAND:
        shutil.copytree(source / sub, target / sub, dirs_exist_ok=True)
    return target


def on_post_build(config: Any, **kwargs: Any) -> None:
    copy_mathjax(Path(config.site_dir))
