r"""A griffe extension: the reST of copos's docstrings, as Markdown that the site renders.

copos's docstrings are numpy style with reST markup. Before mkdocstrings renders them:

* ``.. math::`` blocks become display math ``$$ ... $$`` (pymdownx.arithmatex renders it);
* ``:math:`x``` becomes inline math ``\(x\)``;
* ``:class:`~a.b.C```, ``:func:``, ``:meth:``, ``:attr:``, ``:data:``, ``:mod:``, ``:exc:``
  become inline code (``~`` keeps the last component, as in Sphinx); inside math, their text.
  The code links to the object it names: an *optional* autorefs cross-reference (a short
  name is looked up as Sphinx would, in the docstring's class for ``:meth:``/``:attr:``, then
  its module, following imports), so a name that is not documented stays plain code and
  never fails the strict build;
* ``:pep:`562``` becomes a link to the PEP;
* a paragraph ending in ``::`` (a reST literal block follows) ends in ``:``;
* a section heading with math in its title (griffe would show it as an admonition whose
  title drops the math) becomes a bold paragraph.

``rst_to_markdown`` is the whole conversion (tests call it directly).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from griffe import Alias, Extension, Module, Object

_MATH_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<rest>.*)$")
_INLINE_MATH = re.compile(r":math:`(?P<body>[^`]*)`")
_XREF = re.compile(
    r":(?:py:)?(?P<role>class|func|meth|attr|data|mod|exc|obj|const):`(?P<target>[^`]+)`"
)
_PEP = re.compile(r":pep:`(?P<number>\d+)`")
_MATH_HEADING = re.compile(
    r"^(?P<indent>[ \t]*)(?P<title>[^\n]*:math:`[^\n]*)\n(?P=indent)-{3,}[ \t]*$", re.MULTILINE
)
_LITERAL_MARKER = re.compile(r"(?<=\S)::[ \t]*$", re.MULTILINE)


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


_EXPLICIT = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)


def _split_role(content: str) -> tuple[str | None, str]:
    """A role's explicit title (``title <target>``) or None, and its target."""
    content = " ".join(content.split())
    match = _EXPLICIT.match(content)
    return (match["title"], match["target"].strip()) if match else (None, content)


def _xref_text(content: str) -> str:
    """The text Sphinx shows for a cross-reference: ``~a.b.C`` is ``C``, ``t <a.b>`` is ``t``."""
    title, target = _split_role(content)
    if title is not None:
        return title
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


#: Maps a role and its target (as written) to the full path of the object it names.
Resolver = Callable[[str, str], str]


def _xref(match: re.Match[str], resolve: Resolver | None) -> str:
    code = f"`{_xref_text(match['target'])}`"
    if resolve is None:
        return code
    identifier = resolve(match["role"], _split_role(match["target"])[1].lstrip("~"))
    return f'<autoref identifier="{identifier}" optional>{code}</autoref>'


def _canonical(scope: Object | Alias, dotted: str) -> str | None:
    """The canonical path of ``dotted`` looked up from ``scope`` (following imports), or None."""
    try:
        return str(scope[dotted].canonical_path)
    except Exception:  # not a member, or an import griffe cannot resolve (builtins, cvxpy)
        return None


def resolver(obj: Object) -> Resolver:
    """How Sphinx would look up a role's target in the docstring of ``obj``: a full path as
    is; a short one in ``obj``'s class (``:meth:``/``:attr:``), then in its module."""
    cls = (
        obj
        if obj.is_class
        else obj.parent
        if obj.parent is not None and obj.parent.is_class
        else None
    )
    package = obj.package

    def resolve(role: str, target: str) -> str:
        target = target.lstrip(".")
        if target.split(".")[0] == package.name:
            return _canonical(package, target.partition(".")[2]) or target
        scopes = [cls] if cls is not None and role in ("meth", "attr") else []
        for scope in [*scopes, obj.module]:
            found = _canonical(scope, target)
            if found is not None:
                return found
        return f"{obj.module.path}.{target}"

    return resolve


def rst_to_markdown(text: str, resolve: Resolver | None = None) -> str:
    """The docstring ``text`` with its reST math, roles and literal markers as Markdown (with
    ``resolve``, roles become optional links to the objects it names)."""
    text = _math_blocks(text)
    text = _MATH_HEADING.sub(lambda m: f"{m['indent']}**{m['title'].strip()}**", text)
    text = _INLINE_MATH.sub(lambda m: rf"\({_plain_roles(m['body'])}\)", text)
    text = _PEP.sub(
        lambda m: f"[PEP {int(m['number'])}](https://peps.python.org/pep-{int(m['number']):04d}/)",
        text,
    )
    text = _XREF.sub(lambda m: _xref(m, resolve), text)
    return _LITERAL_MARKER.sub(":", text)


def _documented(obj: Object) -> Iterator[Object]:
    """``obj`` and every object defined under it (imports are documented where defined)."""
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _documented(member)


class RstToMarkdown(Extension):
    """Converts every docstring of a package once, when griffe has loaded the whole package
    (so that short names resolve through the modules' imports)."""

    def __init__(self) -> None:
        super().__init__()
        self._done: set[str] = set()

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        for obj in _documented(pkg):
            if obj.docstring is not None and obj.path not in self._done:
                self._done.add(obj.path)
                obj.docstring.value = rst_to_markdown(obj.docstring.value, resolver(obj))
