"""mkdocs hook: the CLI reference page, generated from ``copos.cli.build_parser()`` at build time.

The page ``cli.md`` is not a file in ``docs/``: it is made in ``on_files`` from the argument
parser of the copos in this repository (its root goes first on ``sys.path``), so it can never
drift from the command. Each command and subcommand gets a section with its ``--help`` text,
formatted at a fixed width.

Defaults that depend on the machine are shown as what they are, not as the build machine's
figure: the help of ``--max-memory`` names "half of this machine's memory" followed by its size
on the machine that runs ``copos``; :func:`machine_independent` drops that size, so the page is
the same wherever it is built. The command itself is unchanged.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

PAGE = "cli.md"
WIDTH = 100  # columns of the help text (argparse reads COLUMNS)

INTRO = """# Command-line reference

Generated at build time from `copos.cli.build_parser()`: the `--help` of `copos` and of each
of its commands, exactly as the command prints it (at {width} columns), except that a default
that depends on the machine is described, not given: `--max-memory` defaults to half of the
memory of the machine that runs `copos`, and `copos --help` there prints that size. `copos` with
no command runs `copos tightness`.
"""


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommand parsers of ``parser``, by name, in the order they were added."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (command path, parser) pair, depth first: ``()``, ``("tightness",)``, ...,
    ``("bound", "stability")``."""
    yield path, parser
    for name, sub in _subcommands(parser).items():
        yield from walk(sub, (*path, name))


def help_text(parser: argparse.ArgumentParser, width: int = WIDTH) -> str:
    """``parser.format_help()`` at ``width`` columns, whatever the terminal."""
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        return parser.format_help()
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


def render(parser: argparse.ArgumentParser) -> str:
    """The Markdown page: a section per command path with its help in a text block."""
    sections = [INTRO.format(width=WIDTH)]
    for path, sub in walk(parser):
        title = " ".join(("copos", *path))
        body = help_text(sub).rstrip().replace("```", "'''")
        sections.append(f"## `{title}`\n\n```text\n{body}\n```\n")
    return "\n".join(sections)


def machine_independent(parser: argparse.ArgumentParser, sizes: list[str]) -> None:
    """Drop the machine's figures ``sizes`` (``", 3.9 GiB"`` after the default's description)
    from the help of every option of ``parser`` and its subcommands, in place."""
    for _, sub in walk(parser):
        for action in sub._actions:
            if isinstance(action.help, str):
                for size in sizes:
                    action.help = action.help.replace(f", {size}", "")


def build_parser(root: Path) -> argparse.ArgumentParser:
    """``copos.cli.build_parser()`` of the copos package under ``root``, without the figures
    of the machine that builds the site."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from copos._memory import default_limit, format_size
    from copos.cli import build_parser as build

    parser = build()
    machine_independent(parser, [format_size(default_limit())])
    return parser


def on_files(files: Files, config: Any, **kwargs: Any) -> Files:
    parser = build_parser(Path(config.config_file_path).parent.resolve())
    files.append(File.generated(config, PAGE, content=render(parser)))
    return files
