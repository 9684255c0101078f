#!/usr/bin/env python
r"""Benchmark: REL over complete arrangements on the spiral (no bias) against Adam.

Data: ``copos.nets.datasets.spiral(bias=False)`` (n = 60, d = 2, c = 3; rank 2, so the exact
enumeration of activation patterns is cheap and REL is tight: the recovered network is optimal).

For each weight decay β in {0.1, 0.01}:

* ``rel/scs`` and ``rel/clarabel``: :func:`copos.relaxations.rel.solve_rel` over the complete
  arrangements, then :func:`copos.recovery.cp_factor.recover_from_rel` (objective and ``exact`` flag);
* ``adam``: :func:`copos.nets.training.train_grid` over widths 5, 10, 100 and seeds 0, 1, 2 (default
  Adam settings); the best objective (:func:`copos.nets.training.best_run`) and the best per width.

Every case runs in its own child process (this file with ``--child``) under a wall-clock limit
(default 900 s), so a solver that blows up is reported as ``timeout`` instead of taking the
benchmark down. REL's value is a lower bound on every network's objective; Adam's objectives
are upper bounds, so ``adam - rel >= 0`` up to solver accuracy.

Usage::

    python benchmarks/rel_spiral.py [--max-seconds S] [--betas 0.1,0.01]
                                    [--solvers scs,clarabel] [--csv PATH]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from _harness import Column, format_table, outcome_row, run_child, write_results

HERE = Path(__file__).resolve().parent
DEFAULT_CSV = HERE / "results" / "rel_spiral.csv"
WIDTHS = (5, 10, 100)
SEEDS = (0, 1, 2)

COLUMNS = [
    "beta",
    "method",
    "status",
    "time_s",
    "value",
    "patterns",
    "primal_res",
    "dual_res",
    "accurate",
    "recovered",
    "exact",
    "neurons",
    "adam_best",
    "adam_m5",
    "adam_m10",
    "adam_m100",
    "note",
]


def _problem(beta: float):
    from copos.nets.datasets import spiral

    return spiral(bias=False, beta=beta)


def _child(method: str, beta: float) -> dict:
    """Run one case in this process and return its row."""
    import numpy as np

    from copos.nets.arrangements import enumerate_arrangements
    from copos.nets.training import best_run, train_grid
    from copos.recovery.cp_factor import recover_from_rel
    from copos.relaxations.rel import solve_rel

    problem = _problem(beta)
    row: dict = {"beta": beta, "method": method}
    if method == "adam":
        start = time.perf_counter()
        runs = train_grid(problem, list(WIDTHS), list(SEEDS), progress=False)
        row["time_s"] = time.perf_counter() - start
        best = best_run(runs)
        row["status"] = "done"
        row["value"] = best.best_objective
        row["adam_best"] = best.best_objective
        for width in WIDTHS:
            row[f"adam_m{width}"] = min(r.best_objective for r in runs if r.width == width)
        row["note"] = f"best: m={best.width} seed={best.seed}"
        return row
    solver = method.split("/", 1)[1]
    patterns = enumerate_arrangements(problem.X)
    row["patterns"] = len(patterns)
    start = time.perf_counter()
    result = solve_rel(problem, patterns, solver=solver)
    row["time_s"] = time.perf_counter() - start
    info = result.solve
    row.update(
        status=info.status,
        value=result.value,
        primal_res=info.primal_residual,
        dual_res=info.dual_residual,
        accurate=info.accurate,
    )
    recovery = recover_from_rel(result, problem)
    row["recovered"] = recovery.objective
    row["exact"] = recovery.exact
    row["neurons"] = recovery.num_neurons
    if not recovery.exact:
        row["note"] = recovery.message[:120]
    row["rank"] = int(np.linalg.matrix_rank(problem.X))
    return row


def run_case(method: str, beta: float, max_seconds: float) -> dict:
    """Run one case in a child process under a wall-clock limit."""
    run = run_child(__file__, [method, beta], max_seconds)
    return outcome_row(run, {"beta": beta, "method": method}, max_seconds)


def _adam_gap(row: dict, rows: list[dict]) -> float | str:
    """``adam_best - value`` of a REL row (same beta), else ""."""
    if not (row.get("method", "").startswith("rel") and isinstance(row.get("value"), float)):
        return ""
    adam = next(
        (r.get("adam_best") for r in rows if r["beta"] == row["beta"] and r["method"] == "adam"),
        None,
    )
    return adam - row["value"] if isinstance(adam, float) else ""


def _table(rows: list[dict]) -> list[Column]:
    return [
        Column("beta", 5, spec=".6g"),
        Column("method", 13, "<"),
        Column("status", 8, "<"),
        Column("time_s", 8, spec=".2f"),
        Column("patterns", 8),
        Column("value", 11, spec=".8g"),
        Column("primal_res", 10, spec=".1e"),
        Column("dual_res", 10, spec=".1e"),
        Column("recovered", 11, spec=".8g"),
        Column("exact", 5),
        Column("neurons", 7),
        Column("adam_best", 10, spec=".6g"),
        Column("adam-rel", 10, spec=".2e", get=lambda row: _adam_gap(row, rows)),
    ]


def format_rows(rows: list[dict]) -> str:
    return format_table(_table(rows), rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "BETA"), help=argparse.SUPPRESS)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--betas", default="0.1,0.01")
    parser.add_argument("--solvers", default="scs,clarabel")
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child[0], float(args.child[1]))))
        return 0

    betas = [float(b) for b in args.betas.split(",") if b]
    methods = ["adam"] + [f"rel/{s}" for s in args.solvers.split(",") if s]
    print(
        f"REL on spiral(bias=False) (n=60, d=2, c=3), complete arrangements; "
        f"Adam widths {WIDTHS} x seeds {SEEDS}; python {platform.python_version()}, "
        f"limit {args.max_seconds:g} s per case",
        flush=True,
    )
    rows: list[dict] = []
    for beta in betas:
        for method in methods:
            row = run_case(method, beta, args.max_seconds)
            rows.append(row)
            print(
                f"  done beta={beta:g} {method}: {row.get('status')} "
                f"in {row.get('time_s', float('nan')):.1f} s",
                flush=True,
            )
    print(format_rows(rows))
    write_results(
        args.csv, rows, COLUMNS, note_label=lambda row: f"beta={row['beta']:g} {row['method']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
