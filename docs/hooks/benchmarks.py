"""mkdocs hook: the benchmark tables of ``benchmarks/`` are pages of the site, read at build time.

``benchmarks/README.md`` (the summary), ``README_solvers.md`` and ``README_network.md`` become
the pages ``benchmarks/``, ``benchmarks/README_solvers/`` and ``benchmarks/README_network/``
as they are in the repository (never copied into ``docs/``), so their links to each other hold.
The figures in ``benchmarks/results/*.png`` are added as files of the site and shown at the end
of the summary page, each under its file name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

PAGES = ("README.md", "README_solvers.md", "README_network.md")
SUMMARY = "benchmarks/README.md"
FIGURES = "## Figures\n\nThe plots that the benchmark scripts wrote to `benchmarks/results/`:\n"


def figures(root: Path) -> list[Path]:
    """The benchmark figures, by name."""
    return sorted((root / "benchmarks" / "results").glob("*.png"))


def _file(config: Any, root: Path, path: Path) -> File:
    return File(
        path.relative_to(root).as_posix(),
        src_dir=str(root),
        dest_dir=config.site_dir,
        use_directory_urls=config.use_directory_urls,
    )


def on_files(files: Files, config: Any, **kwargs: Any) -> Files:
    root = Path(config.config_file_path).parent
    for path in [*(root / "benchmarks" / name for name in PAGES), *figures(root)]:
        files.append(_file(config, root, path))
    return files


def figures_section(names: list[str]) -> str:
    """Markdown that shows each figure ``results/<name>`` under its name."""
    shown = [f"### `{name}`\n\n![{name}](results/{name})\n" for name in names]
    return "\n".join([FIGURES, *shown])


def on_page_markdown(markdown: str, page: Any, config: Any, **kwargs: Any) -> str:
    if page.file.src_uri != SUMMARY:
        return markdown
    names = [path.name for path in figures(Path(config.config_file_path).parent)]
    return f"{markdown.rstrip()}\n\n{figures_section(names)}" if names else markdown
