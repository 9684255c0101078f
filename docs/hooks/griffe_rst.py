r"""A griffe extension: the reST of copos's docstrings, as Markdown that the site renders.

copos's docstrings are numpy style with reST markup. Before mkdocstrings renders them:

* ``.. math::`` blocks become display math ``$$ ... $$`` (pymdownx.arithmatex renders it);
* ``:math:`x``` becomes inline math ``\(x\)``;
* ``:class:`~a.b.C```, ``:func:``, ``:meth:``, ``:attr:``, ``:data:``, ``:mod:``, ``:exc:``
  become inline code (``~`` keeps the last component, as in Sphinx); inside math, their text;
* ``:pep:`562``` becomes a link to the PEP;
* a paragraph ending in ``::`` (a reST literal block follows) ends in ``:``;
* a section heading with math in its title (griffe would show it as an admonition whose
  title drops the math) becomes a bold paragraph.

``rst_to_markdown`` is the whole conversion (tests call it directly).
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

_MATH_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<rest>.*)$")
_INLINE_MATH = re.compile(r":math:`(?P<body>[^`]*)`")
_XREF = re.compile(r":(?:py:)?(?:class|func|meth|attr|data|mod|exc|obj|const):`(?P<target>[^`]+)`")
_PEP = re.compile(r":pep:`(?P<number>\d+)`")
_MATH_HEADING = re.compile(
    r"^(?P<indent>[ \t]*)(?P<title>[^\n]*:math:`[^\n]*)\n(?P=indent)-{3,}[ \t]*$", re.MULTILINE
)
_LITERAL_MARKER = re.compile(r"(?<=\S)::[ \t]*$", re.MULTILINE)


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def _xref_text(target: str) -> str:
    """The text Sphinx shows for a cross-reference target: ``~a.b.C`` is ``C``."""
    target = target.strip()
    if target.startswith("~"):
        return target[1:].rsplit(".", 1)[-1]
    return target


def _plain_roles(tex: str) -> str:
    """Roles written inside mathematics become their plain text."""
    return _XREF.sub(lambda m: _xref_text(m["target"]), tex)


def _math_blocks(text: str) -> str:
    """Every ``.. math::`` directive as a ``$$`` block at the directive's indentation."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _MATH_DIRECTIVE.match(lines[i])
        if match is None:
            out.append(lines[i])
            i += 1
            continue
        indent, depth = match["indent"], len(match["indent"])
        body = [match["rest"].strip()] if match["rest"].strip() else []
        i += 1
        while i < len(lines) and (not lines[i].strip() or _indent_of(lines[i]) > depth):
            body.append(lines[i].strip())
            i += 1
        tex = "\n".join(indent + line for line in _trim_blank(body) if line)
        out.extend(["", f"{indent}$$", _plain_roles(tex), f"{indent}$$", ""])
    return "\n".join(out)


def _trim_blank(lines: list[str]) -> list[str]:
    while lines and not lines[0]:
        lines = lines[1:]
    while lines and not lines[-1]:
        lines = lines[:-1]
    return lines


def rst_to_markdown(text: str) -> str:
    """The docstring ``text`` with its reST math, roles and literal markers as Markdown."""
    text = _math_blocks(text)
    text = _MATH_HEADING.sub(lambda m: f"{m['indent']}**{m['title'].strip()}**", text)
    text = _INLINE_MATH.sub(lambda m: rf"\({_plain_roles(m['body'])}\)", text)
    text = _PEP.sub(
        lambda m: f"[PEP {int(m['number'])}](https://peps.python.org/pep-{int(m['number']):04d}/)",
        text,
    )
    text = _XREF.sub(lambda m: f"`{_xref_text(m['target'])}`", text)
    return _LITERAL_MARKER.sub(":", text)


class RstToMarkdown(Extension):
    """Converts each docstring once, when griffe has loaded its object."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
