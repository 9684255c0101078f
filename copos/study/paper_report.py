r"""The report of a study: Markdown and one self-contained HTML page from its results file.

For every cell the rows of its tightness report give the bracket of the optimum,

.. math::

    L^\star = \max\{\text{rigorous lower bounds}\} \;\le\; p^\star \;\le\;
    U^\star = \min\{\text{objectives of networks found}\},

and for every bound :math:`b` with a direction the report states its gap to :math:`p^\star` as
the interval :math:`[(L^\star - b)^+,\ U^\star - b] / \max(1, |U^\star|)` (a lower bound) or
:math:`[b - U^\star, b - L^\star]/\max(1, |U^\star|)` (an upper bound), with the solve time.
Per data set and beta: a table of every bound, and a figure of SGD's best objective against
the width with the lower bounds dashed. A data set with several instances (the planted family)
is summarised instead: the distribution of the gaps per method as histograms and quantiles.
Figures are PNG files beside the Markdown and embedded (base64) in the HTML page.
"""

from __future__ import annotations

import base64
import html
import math
import os
import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copos._io import write_text_atomic
from copos.errors import CoposError
from copos.study.report import pyplot, width_figure
from copos.study.store import read_records


@dataclass
class Figure:
    """A PNG figure: its file name and bytes."""

    name: str
    png: bytes
    caption: str


@dataclass
class Document:
    """Blocks of a report: ``("h", level, text)``, ``("p", text)``, ``("table", head, rows)``, ``("fig", Figure)``."""

    title: str
    blocks: list[tuple[Any, ...]] = field(default_factory=list)

    def heading(self, level: int, text: str) -> None:
        self.blocks.append(("h", level, text))

    def paragraph(self, text: str) -> None:
        self.blocks.append(("p", text))

    def table(self, head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.blocks.append(("table", list(head), [list(r) for r in rows]))

    def figure(self, figure: Figure | None) -> None:
        if figure is not None:
            self.blocks.append(("fig", figure))

    def markdown(self, figure_dir: str) -> str:
        out = [f"# {self.title}", ""]
        for block in self.blocks:
            if block[0] == "h":
                out += ["#" * block[1] + " " + block[2], ""]
            elif block[0] == "p":
                out += [block[1], ""]
            elif block[0] == "table":
                out += _markdown_table(block[1], block[2]) + [""]
            else:
                out += [f"![{block[1].caption}]({figure_dir}/{block[1].name})", ""]
        return "\n".join(out)

    def html(self) -> str:
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        for block in self.blocks:
            if block[0] == "h":
                body.append(f"<h{block[1]}>{html.escape(block[2])}</h{block[1]}>")
            elif block[0] == "p":
                body.append(f"<p>{html.escape(block[1])}</p>")
            elif block[0] == "table":
                body.append(_html_table(block[1], block[2]))
            else:
                data = base64.b64encode(block[1].png).decode()
                caption = html.escape(block[1].caption)
                body.append(
                    f'<figure><img alt="{caption}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{caption}</figcaption></figure>"
                )
        return HTML_PAGE.format(title=html.escape(self.title), body="\n".join(body))


HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0;font-size:90%}}
td,th{{border:1px solid #bbb;padding:.2em .5em;text-align:right}}
td:first-child,th:first-child{{text-align:left}}img{{max-width:100%}}
figcaption{{font-size:90%;color:#444}}</style></head>
<body>
{body}
</body></html>
"""


def _markdown_table(head: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return [line(head), "|" + "---|" * len(head)] + [line(row) for row in rows]


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    top = "".join(f"<th>{html.escape(cell)}</th>" for cell in head)
    lines = ["".join(f"<td>{html.escape(cell)}</td>" for cell in row) for row in rows]
    return (
        "<table><tr>" + top + "</tr>" + "".join(f"<tr>{line}</tr>" for line in lines) + "</table>"
    )


# ---------------------------------------------------------------------------- numbers
@dataclass(frozen=True)
class Bracket:
    """:math:`L^\\star \\le p^\\star \\le U^\\star` of one cell, and the scale of its gaps."""

    lower: float
    upper: float

    @property
    def scale(self) -> float:
        return max(1.0, abs(self.upper)) if math.isfinite(self.upper) else math.nan

    def gap(self, row: dict[str, Any]) -> tuple[float, float]:
        """Relative gap of a row to p*, as an interval ``(least, most)``; NaN without a direction."""
        value = _number(row.get("value"))
        kind = row.get("kind")
        if kind == "neither" or not math.isfinite(value) or not math.isfinite(self.upper):
            return math.nan, math.nan
        if kind == "upper":
            least, most = value - self.upper, value - self.lower
        else:
            least, most = max(0.0, self.lower - value), self.upper - value
        return least / self.scale, most / self.scale


def bracket(report: dict[str, Any]) -> Bracket:
    """The best rigorous lower bound and the best network objective of a cell's report."""
    return Bracket(_number(report.get("best_rigorous_lower")), _number(report.get("best_upper")))


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def _fmt(value: float, digits: int = 6) -> str:
    return "–" if not math.isfinite(value) else f"{value:.{digits}g}"


def _pct(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{100 * value:.3g}%"


def bound_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a cell other than SGD's per-width rows (those are drawn in the figure)."""
    return [row for row in report.get("rows", []) if row.get("source") != "sgd"]


# ---------------------------------------------------------------------------- sections
def build_report(records: list[dict[str, Any]], title: str = "") -> Document:
    """The report of a study's records (the last record of every cell)."""
    study = records[0].get("study", "study") if records else "study"
    document = Document(title or f"Study {study}")
    finished = [r for r in records if r.get("status") == "finished"]
    failed = [r for r in records if r.get("status") != "finished"]
    versions = sorted({str(r.get("copos")) for r in records})
    hosts = sorted({str(r.get("machine", {}).get("host")) for r in records})
    document.paragraph(
        f"{len(records)} cells recorded: {len(finished)} finished, {len(failed)} failed. "
        f"copos {', '.join(versions)}; machines {', '.join(hosts)}. Gaps are relative to "
        "max(1, |U*|), as intervals [least, most] from the bracket L* <= p* <= U* "
        "(L*: best rigorous lower bound, U*: best network objective)."
    )
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for data in finished:
        groups[data["spec"]["dataset"]].append(data)
    if finished:
        _headline_section(document, groups)
    for name, cells in groups.items():
        document.heading(2, name)
        by_beta: dict[float, list[dict[str, Any]]] = defaultdict(list)
        for data in cells:
            by_beta[float(data["spec"]["beta"])].append(data)
        for beta in sorted(by_beta, reverse=True):
            group = sorted(by_beta[beta], key=lambda r: r["spec"]["instance"] or 0)
            if len(group) == 1:
                _single_section(document, group[0], beta)
            else:
                _family_section(document, name, group, beta)
    _timing_section(document, records)
    if finished:
        _instances_section(document, finished)
    if failed:
        document.heading(2, "Failed cells")
        document.table(
            ["cell", "reason", "time [s]"],
            [
                [
                    r.get("label", r["cell"]),
                    str(r.get("reason", "")),
                    _fmt(_number(r.get("time")), 3),
                ]
                for r in failed
            ],
        )
    return document


@dataclass(frozen=True)
class Headline:
    r"""What a reader of the lifted-CP paper asks of one cell: the lifted DNN's solver value and
    its best proven lower bound (its own certified bound or its dual point checked after the
    solve), the bracket :math:`L^\star \le p^\star \le U^\star`, SGD's best
    objective, and the DNN's gap to :math:`p^\star` as an interval."""

    dnn: float
    dnn_checked: float
    lower: float
    upper: float
    sgd: float

    @classmethod
    def of(cls, report: dict[str, Any]) -> Headline:
        rows = report.get("rows", [])
        sgd = [_number(r.get("value")) for r in rows if r.get("source") == "sgd"]
        limits = bracket(report)
        return cls(
            dnn=_value_of(rows, lambda m: m.startswith("lifted-dnn (")),
            dnn_checked=max(
                _finite(
                    [
                        _number(r.get("value"))
                        for r in rows
                        if str(r.get("method", "")).startswith("lifted-dnn")
                        and r.get("kind") in ("lower", "exact")
                    ]
                ),
                default=math.nan,
            ),
            lower=limits.lower,
            upper=limits.upper,
            sgd=min(_finite(sgd), default=math.nan),
        )

    def dnn_gap(self) -> tuple[float, float]:
        """Relative gap of the proven DNN bound to p*: ``[(L* - b)^+, U* - b] / max(1, |U*|)``."""
        return Bracket(self.lower, self.upper).gap({"value": self.dnn_checked, "kind": "lower"})

    def width(self) -> float:
        return (self.upper - self.lower) / Bracket(self.lower, self.upper).scale


def _value_of(rows: list[dict[str, Any]], match: Any) -> float:
    values = [_number(r.get("value")) for r in rows if match(str(r.get("method", "")))]
    return values[0] if values else math.nan


def _headline_section(document: Document, groups: dict[str, list[dict[str, Any]]]) -> None:
    """One row per data set and beta (the median over the instances of a family)."""
    rows = []
    for name, cells in groups.items():
        by_beta: dict[float, list[Headline]] = defaultdict(list)
        for data in cells:
            by_beta[float(data["spec"]["beta"])].append(Headline.of(data["report"]))
        for beta in sorted(by_beta, reverse=True):
            lines = by_beta[beta]
            label = name if len(lines) == 1 else f"{name} (median of {len(lines)})"
            rows.append([label, f"{beta:g}", *_headline_cells(lines)])
    document.heading(2, "Headline")
    document.paragraph(
        "Per data set and beta: the lifted DNN's solver value and its best lower bound proven "
        "after the solve (the solver's certified bound or its dual point checked), the bracket L* <= p* <= U*, SGD's best objective over the "
        "widths and seeds, and that bound's gap to p* as [least, most]. A family of "
        "instances shows medians (each column on its own); the per-instance values are listed "
        "under Instances."
    )
    document.table(HEADLINE_HEAD, rows)


HEADLINE_HEAD = [
    "data set",
    "beta",
    "DNN (solver)",
    "DNN proven (lower)",
    "L*",
    "U*",
    "best SGD",
    "DNN gap to p*",
    "bracket width",
]


def _headline_cells(lines: list[Headline]) -> list[str]:
    def median(values: list[float]) -> float:
        kept = _finite(values)
        return statistics.median(kept) if kept else math.nan

    gaps = [line.dnn_gap() for line in lines]
    return [
        _fmt(median([line.dnn for line in lines]), 8),
        _fmt(median([line.dnn_checked for line in lines]), 8),
        _fmt(median([line.lower for line in lines]), 10),
        _fmt(median([line.upper for line in lines]), 10),
        _fmt(median([line.sgd for line in lines]), 8),
        f"[{_pct(median([g[0] for g in gaps]))}, {_pct(median([g[1] for g in gaps]))}]",
        _pct(median([line.width() for line in lines])),
    ]


def _instances_section(document: Document, finished: list[dict[str, Any]]) -> None:
    """The headline numbers of every finished cell."""
    ordered = sorted(
        finished,
        key=lambda r: (r["spec"]["dataset"], -float(r["spec"]["beta"]), r["spec"]["instance"] or 0),
    )
    document.heading(2, "Instances")
    document.table(
        ["cell", *HEADLINE_HEAD[2:]],
        [
            [data.get("label", data["cell"]), *_headline_cells([Headline.of(data["report"])])]
            for data in ordered
        ],
    )


def _timing_section(document: Document, records: list[dict[str, Any]]) -> None:
    """Cells and their wall-clock and CPU times per data set and beta (without start-up)."""
    groups: dict[tuple[str, float], list[dict[str, Any]]] = defaultdict(list)
    for data in records:
        groups[(data["spec"]["dataset"], float(data["spec"]["beta"]))].append(data)
    rows = []
    for (name, beta), cells in groups.items():
        wall = _finite([_number(data.get("time")) for data in cells])
        cpu = _finite([_number(data.get("cpu_time")) for data in cells])
        rows.append(
            [
                name,
                f"{beta:g}",
                str(len(cells)),
                _mean(wall),
                _fmt(max(wall, default=math.nan), 3),
                _fmt(sum(wall), 4),
                _mean(cpu),
            ]
        )
    document.heading(2, "Timing")
    document.table(
        [
            "data set",
            "beta",
            "cells",
            "mean cell time [s]",
            "max [s]",
            "total [s]",
            "mean CPU time [s]",
        ],
        rows,
    )


def _finite(values: list[float]) -> list[float]:
    return [value for value in values if math.isfinite(value)]


def _mean(values: list[float]) -> str:
    return _fmt(statistics.fmean(values), 3) if values else "–"


def _single_section(document: Document, data: dict[str, Any], beta: float) -> None:
    """One problem: every bound with its direction, rigour, gap interval and time; the figure."""
    report = data["report"]
    limits = bracket(report)
    document.heading(3, f"{data['label']} (n={report['n']}, d={report['d']}, c={report['c']})")
    document.paragraph(
        f"L* = {_fmt(limits.lower, 10)} <= p* <= U* = {_fmt(limits.upper, 10)}; bracket width "
        f"{_pct((limits.upper - limits.lower) / limits.scale)}; cell time "
        f"{_fmt(_number(data.get('time')), 3)} s."
    )
    notes = [f"skipped {name}: {why}." for name, why in report.get("skipped", {}).items()]
    notes += [f"WARNING: {warning}" for warning in report.get("warnings", [])]
    if notes:
        document.paragraph(" ".join(notes))
    rows = []
    for row in report.get("rows", []):
        least, most = limits.gap(row)
        rows.append(
            [
                row.get("method", ""),
                row.get("kind", ""),
                row.get("rigour", ""),
                _fmt(_number(row.get("value"))),
                f"[{_pct(least)}, {_pct(most)}]",
                _fmt(_number(row.get("time")), 3),
                str(row.get("status", ""))[:60],
            ]
        )
    document.table(
        ["method", "direction", "rigour", "value", "gap to p*", "time [s]", "status"], rows
    )
    document.figure(_width_figure(data))


def _family_section(
    document: Document, name: str, group: list[dict[str, Any]], beta: float
) -> None:
    """Many instances: quantiles of each method's gap (most) and mean time; histograms."""
    document.heading(3, f"{name}, beta = {beta:g}: {len(group)} instances")
    gaps: dict[str, list[float]] = defaultdict(list)
    times: dict[str, list[float]] = defaultdict(list)
    widths: list[float] = []
    for data in group:
        limits = bracket(data["report"])
        widths.append((limits.upper - limits.lower) / limits.scale)
        for row in data["report"].get("rows", []):
            key = row["method"] if row.get("source") == "sgd" else _method_key(row)
            times[key].append(_number(row.get("time")))
            _, most = limits.gap(row)
            if math.isfinite(most):
                gaps[key].append(most)
    rows = [["bracket (U* - L*)", "", *_quantiles([w for w in widths if math.isfinite(w)]), ""]]
    for key in sorted(times):
        values = gaps.get(key, [])
        rows.append(
            [
                key,
                f"{len(values)}/{len(times[key])}",
                *_quantiles(values),
                _fmt(statistics.fmean(t for t in times[key] if math.isfinite(t)), 3)
                if any(math.isfinite(t) for t in times[key])
                else "–",
            ]
        )
    document.table(
        ["method", "with a direction", "median gap", "90% gap", "max gap", "mean time [s]"], rows
    )
    document.figure(_histogram_figure(name, beta, gaps))


def _method_key(row: dict[str, Any]) -> str:
    """A method's row name without the width of its network (it varies between instances)."""
    method = re.sub(r",? ?m=\d+", "", str(row.get("method", "")))
    return method.replace(" ()", "").replace("()", "").strip()


def _quantiles(values: list[float]) -> list[str]:
    if not values:
        return ["–", "–", "–"]
    ordered = sorted(values)
    pick = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return [_pct(statistics.median(ordered)), _pct(pick), _pct(ordered[-1])]


# ---------------------------------------------------------------------------- figures
def _png(figure: Any) -> bytes:
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    pyplot().close(figure)
    return buffer.getvalue()


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text).strip("-").lower()


def _width_figure(data: dict[str, Any]) -> Figure | None:
    """Best SGD objective per width (one line per seed) with the lower bounds dashed."""
    report = data["report"]
    runs = [r for r in report.get("runs", []) if r.get("objective") is not None]
    if not runs:
        return None
    curves: dict[int, tuple[list[int], list[float]]] = {}
    for seed in sorted({r["seed"] for r in runs}):
        mine = sorted((r for r in runs if r["seed"] == seed), key=lambda r: r["width"])
        curves[seed] = ([r["width"] for r in mine], [r["objective"] for r in mine])
    lowers = [
        (row["value"], f"{row['method']} ({row['rigour']})")
        for row in bound_rows(report)
        if row.get("kind") in ("lower", "exact") and row.get("value") is not None
    ]
    figure = width_figure(curves, lowers, data["label"], size=(6.0, 3.8), legend="x-small")
    return Figure(
        f"{_slug(data['label'])}.png",
        _png(figure),
        f"{data['label']}: SGD against width, lower bounds dashed",
    )


def _histogram_figure(name: str, beta: float, gaps: dict[str, list[float]]) -> Figure | None:
    """One histogram per method of the gaps (most) over the instances."""
    shown = {key: values for key, values in gaps.items() if values}
    if not shown:
        return None
    plt = pyplot()
    figure, axes = plt.subplots(len(shown), 1, figsize=(6.0, 1.9 * len(shown)), squeeze=False)
    for axis, (key, values) in zip(axes[:, 0], sorted(shown.items()), strict=True):
        axis.hist([100 * v for v in values], bins=20, color="C0")
        axis.set_title(key, fontsize="small")
        axis.set_xlabel("gap to p* (at most), %")
    figure.tight_layout()
    label = f"{name} beta={beta:g}"
    return Figure(
        f"{_slug(label)}-gaps.png", _png(figure), f"{label}: histogram of gaps per method"
    )


# ---------------------------------------------------------------------------- writing
def write_report(results: str | os.PathLike[str], out: str | os.PathLike[str]) -> list[Path]:
    """Write ``report.md`` (figures in ``figures/``) and a self-contained ``report.html`` to ``out``."""
    records = read_records(results)
    document = build_report(records)
    directory = Path(out)
    try:
        (directory / "figures").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CoposError(
            f"cannot create the report directory {os.fspath(directory)!r}: {exc}"
        ) from exc
    written = []
    for block in document.blocks:
        if block[0] == "fig":
            target = directory / "figures" / block[1].name
            target.write_bytes(block[1].png)
            written.append(target)
    written.append(write_text_atomic(directory / "report.md", document.markdown("figures")))
    written.append(write_text_atomic(directory / "report.html", document.html()))
    return written
