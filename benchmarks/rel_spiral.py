#!/usr/bin/env python
r"""Benchmark: REL over complete arrangements on the spiral (no bias) against Adam.

Data: ``copos.datasets.spiral(bias=False)`` (n = 60, d = 2, c = 3; rank 2, so the exact
enumeration of activation patterns is cheap and REL is tight: the recovered network is optimal).

For each weight decay β in {0.1, 0.01}:

* ``rel/scs`` and ``rel/clarabel``: :func:`copos.network.solve_rel` over the complete
  arrangements, then :func:`copos.network.recover_from_rel` (objective and ``exact`` flag);
* ``adam``: :func:`copos.network.train_grid` over widths 5, 10, 100 and seeds 0, 1, 2 (default
  Adam settings); the best objective (:func:`copos.network.best_run`) and the best per width.

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
import csv
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

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
    from copos.datasets import spiral

    return spiral(bias=False, beta=beta)


def _child(method: str, beta: float) -> dict:
    """Run one case in this process and return its row."""
    import numpy as np

    from copos.network import (
        best_run,
        enumerate_arrangements,
        recover_from_rel,
        solve_rel,
        train_grid,
    )

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
    command = [sys.executable, str(Path(__file__).resolve()), "--child", method, str(beta)]
    start = time.perf_counter()
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=max_seconds)
    except subprocess.TimeoutExpired:
        return {
            "beta": beta,
            "method": method,
            "status": "timeout",
            "time_s": time.perf_counter() - start,
            "note": f"killed after {max_seconds:g} s",
        }
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {
            "beta": beta,
            "method": method,
            "status": "error",
            "time_s": time.perf_counter() - start,
            "note": tail[:160],
        }
    return json.loads(lines[-1])


def _fmt(value: object, spec: str = ".6g") -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


def format_rows(rows: list[dict]) -> str:
    header = (
        f"{'beta':>5} {'method':<13} {'status':<8} {'time_s':>8} {'patterns':>8} "
        f"{'value':>11} {'primal_res':>10} {'dual_res':>10} {'recovered':>11} {'exact':>5} "
        f"{'neurons':>7} {'adam_best':>10} {'adam-rel':>10}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        gap = ""
        if row.get("method", "").startswith("rel") and isinstance(row.get("value"), float):
            adam = next(
                (
                    r.get("adam_best")
                    for r in rows
                    if r["beta"] == row["beta"] and r["method"] == "adam"
                ),
                None,
            )
            if isinstance(adam, float):
                gap = adam - row["value"]
        lines.append(
            f"{_fmt(row['beta']):>5} {row['method']:<13} {_fmt(row.get('status')):<8} "
            f"{_fmt(row.get('time_s'), '.2f'):>8} {_fmt(row.get('patterns')):>8} "
            f"{_fmt(row.get('value'), '.8g'):>11} {_fmt(row.get('primal_res'), '.1e'):>10} "
            f"{_fmt(row.get('dual_res'), '.1e'):>10} {_fmt(row.get('recovered'), '.8g'):>11} "
            f"{_fmt(row.get('exact')):>5} {_fmt(row.get('neurons')):>7} "
            f"{_fmt(row.get('adam_best'), '.6g'):>10} {_fmt(gap, '.2e'):>10}"
        )
    return "\n".join(lines)


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
            print(f"  done beta={beta:g} {method}: {row.get('status')} "
                  f"in {row.get('time_s', float('nan')):.1f} s", flush=True)
    print(format_rows(rows))
    for row in rows:
        if row.get("note"):
            print(f"note beta={row['beta']:g} {row['method']}: {row['note']}")
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    with args.csv.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row.get(key, "") for key in COLUMNS})
    print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
