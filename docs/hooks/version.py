"""mkdocs hook: the site shows the version of copos it documents.

The version is read from ``copos/_version.py`` next to ``mkdocs.yml`` (not from an installed
copos, which may be another version), and shown as ``copos <version>`` in the header and the
footer; ``config.extra.version`` holds it for templates.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any


def read_version(root: Path) -> str:
    """The ``__version__`` string assigned in ``root/copos/_version.py``."""
    tree = ast.parse((root / "copos" / "_version.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            return str(ast.literal_eval(node.value))
    raise ValueError("copos/_version.py assigns no __version__")


def on_config(config: Any, **kwargs: Any) -> Any:
    version = read_version(Path(config.config_file_path).parent)
    config.extra["version"] = version
    config.site_name = f"copos {version}"
    config.copyright = f"copos {version}, BSD-3-Clause"
    return config
