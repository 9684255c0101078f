#!/usr/bin/env python
r"""Benchmark grid (issue 15): copos's arrangement ADMM vs CVXPY+Clarabel across instance families.

Program (both solvers): sampled activation patterns :math:`D_1..D_P`,

.. math:: \min\ \tfrac12\|\textstyle\sum_i D_iX(v_i-w_i)-y\|^2+\beta\sum_i(\|v_i\|+\|w_i\|)
    \ \ \text{s.t.}\ (2D_i-I)Xv_i\ge0,\ (2D_i-I)Xw_i\ge0 .

Cells: ``n`` in {500, 2000}, ``d`` in {10, 20}, ``P`` in {200, 1000}, label noise in {0, 0.1, 1}
(standard deviation relative to that of the noiseless labels), ``X`` raw (i.i.d. standard
Gaussian) or row-normalized, ``beta`` in {1e-2, 1e-1, 1} (absolute, as in the issue).  Labels
come from a planted ReLU teacher of width 30 with hidden weights ``N(0, 1)`` and output weights
``N(0, 1) / 5`` (the issue's reproduction), ``y = (X U)_+ a + noise``; patterns
``sample_arrangements(X, P, seed=1)``; everything seeded.

Per cell, each in its own child process with a wall-clock limit and one thread:

* ``admm``: ``solve_convex_program(..., solver="copos-admm", tol=1e-4)``; it stops when the
  relative residuals *and* the certified relative gap are at most 1e-4, so its value is within
  1e-4 of the optimum with a certificate; the row records time, iterations, value, certified
  lower bound and gap;
* ``clarabel``: ``solve_convex_program(..., solver="clarabel")`` (default accuracy, time
  including CVXPY compilation) under an address-space cap (``--clarabel-memory-gb``), so that a
  cell too big for the machine is reported as ``error`` instead of swapping.

Rows are appended to the CSV as they finish and a restart skips the (cell, solver) pairs already
there (resumable).  ``--summary`` merges them per cell: speed-up, the ADMM's relative error
against Clarabel, its certified gap, and ``auto``'s choice (the registry's rule) with whether it
picked the faster solver.

Usage::

    python benchmarks/arrangement_grid.py [--cases n=500,d=10,P=200] [--solvers admm,clarabel]
        [--max-seconds 900] [--csv PATH] [--summary] [--figure]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import time
from pathlib import Path
from typing import Any

from _harness import (
    Column,
    as_float,
    fmt,
    format_table,
    outcome_row,
    pyplot,
    run_child,
    save_figure,
    write_csv,
)

HERE = Path(__file__).resolve().parent
DEFAULT_CSV = HERE / "results" / "arrangement_grid.csv"
GRID = {
    "n": (500, 2000),
    "d": (10, 20),
    "P": (200, 1000),
    "noise": (0.0, 0.1, 1.0),
    "X": ("raw", "rownorm"),
    "beta": (1e-2, 1e-1, 1.0),
}
TEACHER_WIDTH = 30
TEACHER_OUTPUT_SCALE = 0.2
SEED = 0
ADMM_TOL = 1e-4
#: address-space cap of the Clarabel child (GiB)
CLARABEL_MEMORY_GB = 8.0
COLUMNS = [
    "cell",
    "solver",
    "n",
    "d",
    "P",
    "noise",
    "X",
    "beta",
    "status",
    "time_s",
    "iterations",
    "value",
    "lower_bound",
    "gap",
    "neurons",
    "note",
]


def cell_key(cell: dict[str, Any]) -> str:
    return "n{n}-d{d}-P{P}-noise{noise:g}-{X}-beta{beta:g}".format(**cell)


def all_cells() -> list[dict[str, Any]]:
    keys = list(GRID)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*GRID.values())]


def select(cells: list[dict[str, Any]], spec: str) -> list[dict[str, Any]]:
    """Cells matching ``spec``: comma-separated ``key=value`` filters (``|`` for alternatives)."""
    filters: dict[str, set[str]] = {}
    for item in (part for part in spec.split(",") if part):
        key, _, values = item.partition("=")
        filters[key] = {str(value) for value in values.split("|")}

    def matches(cell: dict[str, Any]) -> bool:
        return all(
            any(_same(cell[key], value) for value in values) for key, values in filters.items()
        )

    return [cell for cell in cells if matches(cell)]


def _same(actual: Any, wanted: str) -> bool:
    if isinstance(actual, str):
        return actual == wanted
    return float(actual) == float(wanted)


def make_instance(cell: dict[str, Any]):
    """The planted, seeded instance of a cell: ``(problem, patterns)``."""
    import numpy as np

    from copos.nets.arrangements import sample_arrangements
    from copos.nets.problem import TrainingProblem

    rng = np.random.default_rng(SEED)
    n, d = int(cell["n"]), int(cell["d"])
    X = rng.standard_normal((n, d))
    if cell["X"] == "rownorm":
        X /= np.linalg.norm(X, axis=1, keepdims=True)
    hidden = rng.standard_normal((d, TEACHER_WIDTH))
    output = TEACHER_OUTPUT_SCALE * rng.standard_normal(TEACHER_WIDTH)
    signal = np.maximum(X @ hidden, 0.0) @ output
    y = signal + float(cell["noise"]) * float(np.std(signal)) * rng.standard_normal(n)
    problem = TrainingProblem.from_data(X, y, float(cell["beta"]), name=cell_key(cell))
    return problem, sample_arrangements(X, int(cell["P"]), seed=1)


def _child(key: str, solver: str) -> dict[str, Any]:
    import numpy as np

    from copos.relaxations.convex import solve_convex_program

    cell = next(c for c in all_cells() if cell_key(c) == key)
    problem, patterns = make_instance(cell)
    row: dict[str, Any] = {"cell": key, "solver": solver, **cell}
    start = time.perf_counter()
    if solver == "admm":
        result = solve_convex_program(problem, patterns, solver="copos-admm", tol=ADMM_TOL)
        row.update(lower_bound=result.lower_bound, gap=result.solve.gap)
        phase = result.solve.extra.get("active_set")
        if phase:  # the active-set phase ran: its restricted solves, working set, time, end
            row["note"] = (
                "active set: {solves} solves, |W| = {working}, {time:.1f} s, {status}".format(
                    **phase
                )
            )
    else:
        result = solve_convex_program(problem, patterns, solver="clarabel")
    row["time_s"] = time.perf_counter() - start
    row.update(
        status=result.solve.status,
        iterations=result.solve.iterations,
        value=result.value,
        neurons=int(np.asarray(result.U).shape[1]),
    )
    return row


def read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def append_row(path: Path, row: dict[str, Any]) -> None:
    """Append one row (header first if the file is new): the run survives an interruption."""
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow({key: row.get(key, "") for key in COLUMNS})


def run(cells: list[dict[str, Any]], solvers: list[str], args: argparse.Namespace) -> None:
    done = {(row["cell"], row["solver"]) for row in read_rows(args.csv)}
    for cell in cells:
        key = cell_key(cell)
        for solver in solvers:
            if (key, solver) in done:
                continue
            memory = args.clarabel_memory_gb if solver == "clarabel" else 0.0
            child = run_child(
                __file__, [key, solver], args.max_seconds, threads=1, memory_gb=memory
            )
            base = {"cell": key, "solver": solver, **cell}
            row = outcome_row(child, base, args.max_seconds)
            append_row(args.csv, row)
            print(
                f"{key} {solver}: {row.get('status')} {fmt(row.get('time_s'), '.1f')} s", flush=True
            )


def auto_choice(cell: dict[str, Any]) -> str:
    """What ``solver="auto"`` picks for the cell's instance (the registry's rule on
    :func:`copos.relaxations.convex.arrangement_sizes`: n, d, P and beta/beta_max)."""
    from copos.relaxations.convex import arrangement_sizes
    from copos.solvers.registry import resolve

    problem, patterns = make_instance({k: _typed(k, v) for k, v in cell.items()})
    return resolve("auto", "arrangement", arrangement_sizes(problem, patterns))


def instance_features(cell: dict[str, Any]) -> dict[str, float]:
    """Cheap features of a cell's instance, known before solving (for fitting ``auto``)."""
    from copos.relaxations.convex import arrangement_features

    problem, patterns = make_instance({k: _typed(k, v) for k, v in cell.items()})
    return arrangement_features(problem, patterns)


def _typed(key: str, value: Any) -> Any:
    if key == "X":
        return value
    return int(value) if key in ("n", "d", "P") else float(value)


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per cell with both solvers: speed-up, relative error, certified gap, auto."""
    by_cell: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        by_cell.setdefault(row["cell"], {})[row["solver"]] = row
    summary = []
    for key, runs in by_cell.items():
        admm, clarabel = runs.get("admm", {}), runs.get("clarabel", {})
        cell = {k: (admm or clarabel)[k] for k in GRID}
        t_admm, t_clar = as_float(admm.get("time_s")), as_float(clarabel.get("time_s"))
        v_admm, v_clar = as_float(admm.get("value")), as_float(clarabel.get("value"))
        admm_ok = admm.get("status") == "optimal"
        clar_ok = clarabel.get("status") == "optimal"
        out: dict[str, Any] = {
            "cell": key,
            **cell,
            "admm_s": t_admm,
            "admm_status": admm.get("status"),
            "clarabel_s": t_clar,
            "clarabel_status": clarabel.get("status"),
            "gap": as_float(admm.get("gap")),
            "neurons": admm.get("neurons") or clarabel.get("neurons"),
        }
        if v_admm is not None and v_clar is not None and clar_ok:
            out["rel_err"] = abs(v_admm - v_clar) / max(abs(v_clar), 1e-300)
        if t_admm is not None and t_clar is not None and admm_ok and clar_ok:
            out["speedup"] = t_clar / t_admm  # only when both reached their accuracy
        both_ran = bool(admm) and bool(clarabel)
        faster = _faster(admm_ok, clar_ok, t_admm, t_clar) if both_ran else None
        out.update(instance_features(cell))
        choice = auto_choice({**cell})
        out["auto"] = "admm" if choice == "copos-admm" else "clarabel"
        out["faster"] = faster
        out["auto_right"] = "" if faster is None else str(out["auto"] == faster)
        summary.append(out)
    return summary


def _faster(admm_ok: bool, clar_ok: bool, t_admm: float | None, t_clar: float | None) -> str | None:
    """The solver that reached 1e-4 first; a solver that failed or timed out loses."""
    if admm_ok and clar_ok and t_admm is not None and t_clar is not None:
        return "admm" if t_admm <= t_clar else "clarabel"
    if admm_ok and not clar_ok:
        return "admm"
    if clar_ok and not admm_ok:
        return "clarabel"
    return None


SUMMARY_COLUMNS = [
    Column("cell", 36, "<"),
    Column("admm_s", 8, spec=".1f"),
    Column("clarabel_s", 10, spec=".1f"),
    Column("speedup", 7, spec=".2f"),
    Column("rel_err", 8, spec=".1e"),
    Column("gap", 8, spec=".1e"),
    Column("neurons", 7),
    Column("beta_ratio", 10, spec=".1e"),
    Column("auto", 8, "<"),
    Column("auto_right", 10, "<"),
]

EXTRA_SUMMARY = ["admm_status", "clarabel_status", "faster", "beta_scaled"]


def plot(summary: list[dict[str, Any]], path: Path) -> Path | None:
    """Clarabel time against ADMM time, one point per cell: colour = noise (blue 0, orange 0.1,
    red 1), circle = raw X, square = row-normalized, hollow = the ADMM did not reach 1e-4."""
    plt = pyplot()
    if plt is None:
        return None
    figure, axis = plt.subplots(figsize=(5.6, 4.6))
    colours = {0.0: "tab:blue", 0.1: "tab:orange", 1.0: "tab:red"}
    for row in summary:
        a, c = as_float(row.get("admm_s")), as_float(row.get("clarabel_s"))
        if a is None or c is None:
            continue
        marker = "o" if row["X"] == "raw" else "s"
        colour = colours.get(float(row["noise"]), "k")
        face = colour if row.get("admm_status") == "optimal" else "none"  # hollow: no 1e-4
        axis.loglog(a, c, marker, color=colour, markerfacecolor=face)
    low, high = axis.get_xlim()
    axis.loglog([low, high], [low, high], "k:", lw=0.8)
    axis.loglog([low, high], [5 * low, 5 * high], "k--", lw=0.8)
    axis.set_xlabel("copos ADMM, tol 1e-4 (s)")
    axis.set_ylabel("CVXPY + Clarabel (s)")
    axis.set_title("arrangement grid: dotted = equal, dashed = 5x")
    return save_figure(figure, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=2, metavar=("CELL", "SOLVER"), help=argparse.SUPPRESS)
    parser.add_argument("--cases", default="", help="filters, e.g. n=500,d=10,noise=0|0.1")
    parser.add_argument("--solvers", default="admm,clarabel")
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--clarabel-memory-gb", type=float, default=CLARABEL_MEMORY_GB)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument(
        "--also", type=Path, nargs="*", default=[], help="more CSVs of rows to summarize"
    )
    parser.add_argument("--summary", action="store_true", help="only summarize the CSV")
    parser.add_argument("--figure", action="store_true", help="also draw the summary figure")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(*args.child)))
        return 0
    cells = select(all_cells(), args.cases)
    if not args.summary:
        run(cells, [s for s in args.solvers.split(",") if s], args)
    wanted = {cell_key(cell) for cell in cells}
    rows = [row for path in [args.csv, *args.also] for row in read_rows(path)]
    summary = summarize([row for row in rows if row["cell"] in wanted])
    print(format_table(SUMMARY_COLUMNS, summary))
    judged = [row for row in summary if row["auto_right"]]
    right = sum(row["auto_right"] == "True" for row in judged)
    print(f"auto picked the faster solver in {right} of {len(judged)} cells")
    summary_path = args.csv.with_name(args.csv.stem + "_summary.csv")
    write_csv(
        summary_path,
        summary,
        [c.key or c.title for c in SUMMARY_COLUMNS] + EXTRA_SUMMARY + list(GRID),
    )
    print(f"wrote {summary_path}")
    if args.figure:
        figure = plot(summary, args.csv.with_suffix(".png"))
        if figure is not None:
            print(f"wrote {figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
