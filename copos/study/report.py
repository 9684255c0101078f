r"""The tightness report: rows of bounds with their direction, as a table, JSON, CSV and figures.

A report holds, for one problem, the rows (each a :class:`~copos.bound.Bound`: method, value,
kind, rigour) with kind :math:`\in\{\text{lower}, \text{upper}, \text{exact}, \text{neither}\}` and the
SGD runs; the gap of a row is measured against the best upper bound.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from copos._deprecation import deprecated_alias
from copos._io import atomic_write, write_text_atomic
from copos.bound import FAILED as FAILED  # re-exported: the status of a failed row
from copos.bound import Bound
from copos.errors import CoposError, DataFileError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.training import TrainingRun

#: Directions a row can have (``neither``: a solver value that was not verified, or a failure).
KINDS: tuple[str, ...] = ("lower", "upper", "exact", "neither")


#: Version of the JSON layout written by :meth:`TightnessReport.to_json` (read back by ``--resume``).
JSON_FORMAT = 2


#: Deprecated: the rows of a report are :class:`~copos.bound.Bound` s; this builds one from the
#: former ``MethodResult`` fields (method, kind, value, time, status, verified, note, rigorous,
#: source).  Removed in the next release.
MethodResult = deprecated_alias(Bound.stated, "MethodResult", __name__)


@dataclass
class TightnessReport:
    """Everything :func:`check_tightness` computed on one problem.

    ``complete`` is false for the partial report of an interrupted run; ``options`` and
    ``fingerprint`` (SHA-256 of the data, see :class:`copos.certificates.certificate.DataFingerprint`) let
    :func:`check_tightness` resume it; ``warnings`` lists rows demoted by the invariant check.
    """

    problem: str
    beta: float
    shape: tuple[int, int, int]
    widths: tuple[int, ...]
    seeds: tuple[int, ...]
    runs: list[TrainingRun] = field(repr=False)
    rows: list[Bound]
    skipped: dict[str, str]
    complete: bool = True
    options: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def best_upper(self) -> float:
        """The smallest objective of any network found (an upper bound on the optimum)."""
        uppers = [row.value for row in self.rows if row.counts and row.kind in ("upper", "exact")]
        return min(uppers) if uppers else math.inf

    @property
    def best_lower(self) -> float:
        """The largest verified lower bound (solver values checked after the solve, or rigorous)."""
        lowers = [
            row.value
            for row in self.rows
            if row.counts and row.kind in ("lower", "exact") and row.verified
        ]
        return max(lowers) if lowers else -math.inf

    @property
    def best_rigorous_lower(self) -> float:
        """The largest lower bound recomputed after the solve ("Z, checked", certificates)."""
        lowers = [
            row.value for row in self.rows if row.counts and row.kind == "lower" and row.rigorous
        ]
        return max(lowers) if lowers else -math.inf

    @property
    def failed(self) -> list[Bound]:
        """Rows of methods that raised."""
        return [row for row in self.rows if row.failed]

    def gap(self, row: Bound) -> float:
        r"""Relative gap :math:`(F_{\text{best}} - b)/\max(1, |F_{\text{best}}|)`; NaN for rows without a direction."""
        best = self.best_upper
        if not row.counts or not math.isfinite(best):
            return math.nan
        return (best - row.value) / max(1.0, abs(best))

    @property
    def dnn_lower(self) -> float:
        """The best verified lower bound of the lifted DNN rows (``source == "lifted-dnn"``), the
        reference of :meth:`closes`; NaN when the lifted DNN was not run or gave none."""
        values = [
            row.value
            for row in self.rows
            if row.source == "lifted-dnn" and row.counts and row.kind in ("lower", "exact")
        ]
        return max(values) if values else math.nan

    def closes(self, row: Bound) -> float:
        r"""Share of the lifted DNN's gap that a lower row closes: :math:`(L - L_{\rm DNN}) /
        (F_{\rm best} - L_{\rm DNN})` (1: it proves the best net optimal, 0: no better than the
        DNN); NaN for other rows, or when the DNN gap is not positive."""
        if row.kind not in ("lower", "exact") or not row.counts:
            return math.nan
        return dnn_gap_closed(row.value, self.dnn_lower, self.best_upper)

    def table(self) -> str:
        """A fixed-width text table: method, bound kind, value, gap, time, status."""
        n, d, c = self.shape
        width = self._method_width()
        closes = math.isfinite(dnn_gap_closed(self.dnn_lower, self.dnn_lower, self.best_upper))
        header = f"{'method':<{width}} {'bound':<7} {'value':>12} {'gap':>10} "
        header += f"{'closes':>8} " if closes else ""
        header += f"{'time[s]':>8}  status"
        lines = [
            f"{self.problem}: n={n}, d={d}, c={c}, beta={self.beta:g}; "
            f"widths {list(self.widths)}, seeds {list(self.seeds)}",
            header,
            "-" * len(header),
        ]
        lines += [self._table_row(row, width, closes) for row in self.rows]
        lines.append(
            f"best upper {_fmt(self.best_upper)}; best verified lower {_fmt(self.best_lower)}; "
            f"best rigorous lower {_fmt(self.best_rigorous_lower)}"
        )
        lines.append(
            "bound 'neither': a solver value that was not verified, or a failed method; it never "
            "enters the best bounds, the gaps or the figure."
        )
        if closes:
            lines.append(
                "closes: the share of the lifted DNN's gap (best upper - DNN lower) that a lower "
                "bound closes; 100 % proves the best net optimal."
            )
        lines += [f"skipped {name}: {why}" for name, why in self.skipped.items()]
        lines += [f"WARNING: {warning}" for warning in self.warnings]
        if not self.complete:
            lines.append("INCOMPLETE: the run was interrupted; resume it with --resume")
        return "\n".join(lines)

    def _closes_text(self, row: Bound) -> str:
        share = self.closes(row)
        return f"{100 * share:>7.1f}% " if math.isfinite(share) else f"{'-':>8} "

    def _method_width(self) -> int:
        """The method column: at least 28 characters, as wide as the longest method."""
        return max([28, *(len(row.method) for row in self.rows)])

    def _table_row(self, row: Bound, width: int = 28, closes: bool = False) -> str:
        gap = self.gap(row)
        gap_text = f"{gap:>10.2e}" if math.isfinite(gap) else f"{'-':>10}"
        if row.failed:
            status = f"failed: {row.note}"
        elif row.verified or row.kind == "upper":
            status = row.status
        else:
            status = f"{row.status} (unverified)"
        return (
            f"{row.method:<{width}} {row.kind:<7} {'-' if row.failed else _fmt(row.value):>12} {gap_text} "
            f"{self._closes_text(row) if closes else ''}{row.time:>8.2f}  {status}"
        )

    def to_dict(self, weights: bool = True) -> dict[str, Any]:
        """A JSON-friendly summary; with ``weights`` it holds enough to resume (every run's net)."""
        return {
            "format": JSON_FORMAT,
            "complete": self.complete,
            "problem": self.problem,
            "beta": self.beta,
            "n": self.shape[0],
            "d": self.shape[1],
            "c": self.shape[2],
            "widths": list(self.widths),
            "seeds": list(self.seeds),
            "fingerprint": self.fingerprint,
            "options": dict(self.options),
            "best_upper": self.best_upper,
            "best_lower": self.best_lower,
            "best_rigorous_lower": self.best_rigorous_lower,
            "rows": [
                {**row.to_dict(), "gap": self.gap(row), "closes_dnn_gap": self.closes(row)}
                for row in self.rows
            ],
            "runs": [_run_to_dict(run, weights) for run in self.runs],
            "skipped": self.skipped,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TightnessReport:
        """Rebuild a report written by :meth:`to_dict` (with weights), e.g. a partial one."""
        try:
            if data.get("format") != JSON_FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {JSON_FORMAT}")
            rows = [Bound.from_dict(row) for row in data["rows"]]
            return cls(
                problem=str(data["problem"]),
                beta=float(data["beta"]),
                shape=(int(data["n"]), int(data["d"]), int(data["c"])),
                widths=tuple(int(w) for w in data["widths"]),
                seeds=tuple(int(s) for s in data["seeds"]),
                runs=[_run_from_dict(run) for run in data["runs"]],
                rows=rows,
                skipped=dict(data["skipped"]),
                complete=bool(data["complete"]),
                options=dict(data["options"]),
                fingerprint=str(data["fingerprint"]),
                warnings=list(data.get("warnings", [])),
            )
        except (KeyError, TypeError, ValueError, AttributeError, CoposError) as exc:
            raise DataFileError(f"not a copos tightness report (JSON): {exc}") from exc

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TightnessReport:
        """Read a report written by :meth:`save_json` (raises :class:`DataFileError`)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataFileError(
                f"cannot read the tightness report {os.fspath(path)!r}: {exc}"
            ) from exc
        if not isinstance(data, dict):
            raise DataFileError(f"{os.fspath(path)!r} does not hold a JSON object")
        return cls.from_dict(data)

    def to_json(self, weights: bool = True) -> str:
        """:meth:`to_dict` as JSON; non-finite numbers become ``null``."""
        return json.dumps(_json_safe(self.to_dict(weights)), indent=2, allow_nan=False)

    def save_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_json` atomically."""
        return write_text_atomic(path, self.to_json())

    def plot(self, stem: str | os.PathLike[str]) -> list[Path]:
        """SGD objective against width per seed, lower bounds dashed; writes ``stem``.png/.pdf.

        Rows with direction ``neither`` (unverified solver values, failures) are not drawn.
        """
        plt = pyplot()
        curves = {}
        for seed in self.seeds:
            runs = sorted(
                (r for r in self.runs if r.seed == seed and math.isfinite(r.best_objective)),
                key=lambda r: r.width,
            )
            curves[seed] = ([r.width for r in runs], [r.best_objective for r in runs])
        drawn = [r for r in self.rows if r.counts and r.kind in ("lower", "exact")]
        figure = width_figure(
            curves,
            [(row.value, f"{row.method} ({row.kind})") for row in drawn],
            f"{self.problem}, beta = {self.beta:g}",
            size=(6.4, 4.2),
            legend="small",
        )
        paths = [_save_figure(figure, stem, suffix) for suffix in (".png", ".pdf")]
        plt.close(figure)
        return paths


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (a :class:`CoposError` if matplotlib is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise CoposError("plotting needs matplotlib: pip install 'copos[plot]'") from exc
    return plt


def width_figure(
    curves: Mapping[int, tuple[list[int], list[float]]],
    lines: list[tuple[float, str]],
    title: str,
    *,
    size: tuple[float, float],
    legend: str,
) -> Any:
    """SGD's objective against the width (one curve per seed, log x) with bounds as dashed lines."""
    figure, axis = pyplot().subplots(figsize=size)
    for seed, (widths, objectives) in curves.items():
        axis.plot(widths, objectives, "o-", label=f"SGD seed {seed}")
    for index, (value, label) in enumerate(lines):
        axis.axhline(value, linestyle="--", color=f"C{(index + len(curves)) % 10}", label=label)
    axis.set_xscale("log")
    axis.set_xlabel("width m")
    axis.set_ylabel("training objective")
    axis.set_title(title)
    axis.legend(fontsize=legend)
    figure.tight_layout()
    return figure


def plot_paths(stem: str | os.PathLike[str]) -> list[Path]:
    """The files :meth:`TightnessReport.plot` writes for ``stem``."""
    return [Path(f"{os.fspath(stem)}{suffix}") for suffix in (".png", ".pdf")]


def _save_figure(figure: Any, stem: str | os.PathLike[str], suffix: str) -> Path:
    """Write ``figure`` to ``stem + suffix`` atomically."""
    target = Path(f"{os.fspath(stem)}{suffix}")
    atomic_write(target, lambda handle: figure.savefig(handle, format=suffix[1:]))
    return target


def _fmt(value: float) -> str:
    return f"{value:.6f}" if math.isfinite(value) else str(value)


def _nan_if_none(value: Any) -> Any:
    return math.nan if value is None else value


def _run_to_dict(run: TrainingRun, weights: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "width": run.width,
        "seed": run.seed,
        "objective": run.best_objective,
        "time": run.time,
        "best_epoch": run.best_epoch,
        "epochs": run.epochs,
        "optimizer": run.optimizer,
        "lr": run.lr,
        "schedule": run.schedule,
        "diverged": run.diverged,
    }
    if weights:
        data["U"] = run.net.U.tolist()
        data["V"] = run.net.V.tolist()
    return data


#: :func:`dnn_gap_closed` is defined only when the DNN gap exceeds this (relative to
#: :math:`\max(1, |F|)`): a smaller gap is solver accuracy, and shares of it are noise.
DNN_GAP_RTOL = 1e-6


def dnn_gap_closed(lower: float, dnn: float, upper: float) -> float:
    r"""Share of the lifted DNN's gap a lower bound closes: :math:`(L - L_{\rm DNN})/(F - L_{\rm DNN})`
    (NaN when a number is missing or the DNN gap is at most :data:`DNN_GAP_RTOL`)."""
    if not all(map(math.isfinite, (lower, dnn, upper))):
        return math.nan
    if upper - dnn <= DNN_GAP_RTOL * max(1.0, abs(upper)):
        return math.nan
    return (lower - dnn) / (upper - dnn)


def _run_from_dict(data: Mapping[str, Any]) -> TrainingRun:
    """A training run read back from JSON: its best net and objective (not its history)."""
    net = TwoLayerReLU(np.array(data["U"], dtype=float), np.array(data["V"], dtype=float))
    objective = float(_nan_if_none(data["objective"]))
    return TrainingRun(
        net=net,
        final_net=net,
        history=np.array([objective]),
        best_objective=objective,
        best_epoch=int(data["best_epoch"]),
        optimizer=str(data["optimizer"]),
        width=int(data["width"]),
        seed=int(data["seed"]),
        epochs=int(data["epochs"]),
        lr=float(data["lr"]),
        schedule=str(data["schedule"]),
        time=float(data["time"]),
        diverged=bool(data["diverged"]),
    )


def _json_safe(value: Any) -> Any:
    """``value`` with NumPy scalars made Python and non-finite floats made ``None`` (JSON null)."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
