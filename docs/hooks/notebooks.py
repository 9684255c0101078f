"""mkdocs hook: the notebooks of ``notebooks/`` are the site's tutorials, with their outputs.

The repository keeps the notebooks without outputs. ``on_files`` adds each
``notebooks/NN_name.ipynb`` as a page of the same path (mkdocs-jupyter renders it; its wrapper
needs the file's source directory, so the page keeps the repository's path);
whether mkdocs-jupyter *executes* it at build time is chosen by the environment variable
``COPOS_DOCS_EXECUTE``:

* unset, empty or ``none``: no notebook runs (the pages show the code without outputs);
* ``all``: every notebook runs (``.ci/run`` builds the published site so, once);
* otherwise, comma-separated globs of notebook names (``01_*``): only those run.

A notebook that raises fails the build (``allow_errors: false``). nbconvert's pages load MathJax 2
and Mermaid from a CDN; ``on_page_content`` drops both (the site works offline), and the site's
own MathJax 3 (``docs/hooks/mathjax.py``) typesets the notebooks' ``$...$`` like every page.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ENV = "COPOS_DOCS_EXECUTE"
SOURCE = "notebooks"
PLUGIN = "mkdocs-jupyter"
#: nbconvert's MathJax 2 block and its Mermaid loader, both from a CDN
_CDN_SCRIPTS = re.compile(
    r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->"
    r"|<script type=\"module\">(?:(?!</script>).)*?jp-Mermaid.*?</script>",
    re.DOTALL,
)


def notebooks(root: Path) -> list[Path]:
    """The tutorial notebooks, in the order of their numbers."""
    return sorted((root / SOURCE).glob("[0-9][0-9]_*.ipynb"))


def executed(names: list[str], setting: str | None) -> list[str]:
    """The names among ``names`` that ``COPOS_DOCS_EXECUTE=setting`` runs at build time."""
    setting = (setting or "").strip()
    if setting.lower() in ("", "none", "false", "0"):
        return []
    if setting.lower() in ("all", "true", "1"):
        return list(names)
    globs = [glob.strip() for glob in setting.split(",") if glob.strip()]
    return [name for name in names if any(fnmatch.fnmatch(name, g) for g in globs)]


def on_config(config: Any, **kwargs: Any) -> Any:
    names = [path.name for path in notebooks(Path(config.config_file_path).parent)]
    run = executed(names, os.environ.get(ENV))
    plugin = config.plugins[PLUGIN].config
    plugin["execute"] = bool(run)
    plugin["execute_ignore"] = [name for name in names if name not in run]
    return config


@event_priority(100)  # before mkdocs-jupyter wraps the .ipynb files
def on_files(files: Files, config: Any, **kwargs: Any) -> Files:
    root = Path(config.config_file_path).parent
    for path in notebooks(root):
        files.append(
            File(
                f"{SOURCE}/{path.name}",
                src_dir=str(root),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    return files


def on_page_content(html: str, page: Any, **kwargs: Any) -> str:
    if page.file.src_uri.startswith(f"{SOURCE}/"):
        return _CDN_SCRIPTS.sub("", html)
    return html
