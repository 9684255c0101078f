#!/usr/bin/env python
r"""Benchmark: scaling of the exact c = 1 convex program with n on rank-2 data.

Data (seeded, no bias): ``X`` has i.i.d. standard Gaussian entries, ``n x 2``; targets
``y = (X U_t)_+ v_t`` from a random ReLU teacher of width 5 (``--labels teacher``, default) or
``y = sign(x_1 x_2)`` (``--labels sign``). Weight decay β = 0.1.

For each n in 200, 400, 600, 800, 1000: the number of activation patterns
(:func:`copos.nets.arrangements.enumerate_arrangements`, 2n for n lines in general position in the plane),
then :func:`copos.relaxations.convex.solve_convex_program` with those complete patterns (Clarabel by
default): time, status, value and the recovered network's objective. The program has
2 · P · d variables and 2 · P · n linear inequalities, so it grows like n².

Every case runs in its own child process (this file with ``--child``) under a wall-clock limit
(default 900 s), so a blow-up is reported as ``timeout``.

Usage::

    python benchmarks/convex_scaling.py [--max-seconds S] [--sizes 200,400,...]
                                        [--solver clarabel|scs] [--labels teacher|sign]
                                        [--csv PATH]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from _harness import Column, format_table, outcome_row, run_child, write_results

HERE = Path(__file__).resolve().parent
DEFAULT_CSV = HERE / "results" / "convex_scaling.csv"
DEFAULT_SIZES = "200,400,600,800,1000"
BETA = 0.1
SEED = 0
TEACHER_WIDTH = 5

COLUMNS = [
    "n",
    "d",
    "labels",
    "solver",
    "patterns",
    "status",
    "enum_s",
    "solve_s",
    "solver_s",
    "value",
    "recovered",
    "neurons",
    "primal_res",
    "dual_res",
    "note",
]


def make_problem(n: int, labels: str, seed: int = SEED):
    """Seeded rank-2 problem (d = 2, no bias)."""
    import numpy as np

    from copos.nets.problem import TrainingProblem

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    if labels == "teacher":
        U = rng.standard_normal((2, TEACHER_WIDTH))
        v = rng.standard_normal(TEACHER_WIDTH)
        y = np.maximum(X @ U, 0.0) @ v
    else:
        y = np.sign(X[:, 0] * X[:, 1])
    return TrainingProblem.from_data(X, y, BETA, name=f"rank2-{labels}-{n}")


def _child(n: int, labels: str, solver: str) -> dict:
    from copos.nets.arrangements import enumerate_arrangements
    from copos.relaxations.convex import solve_convex_program

    problem = make_problem(n, labels)
    row: dict = {"n": n, "d": problem.d, "labels": labels, "solver": solver}
    start = time.perf_counter()
    patterns = enumerate_arrangements(problem.X, max_patterns=10**7)
    row["enum_s"] = time.perf_counter() - start
    row["patterns"] = len(patterns)
    # report the pattern count even if the solve is killed later
    print(json.dumps(row), flush=True)
    start = time.perf_counter()
    result = solve_convex_program(problem, patterns, solver=solver)
    row["solve_s"] = time.perf_counter() - start
    info = result.solve
    row.update(
        status=info.status,
        solver_s=info.solve_time,
        value=result.value,
        recovered=result.recovered_objective,
        neurons=result.num_neurons,
        primal_res=info.primal_residual,
        dual_res=info.dual_residual,
    )
    return row


def run_case(n: int, labels: str, solver: str, max_seconds: float) -> dict:
    """One case in a child process under a wall-clock limit (a killed child keeps its pattern count)."""
    run = run_child(__file__, [n, labels, solver], max_seconds)
    base = {"n": n, "d": 2, "labels": labels, "solver": solver}
    row = outcome_row(run, base, max_seconds, time_key="solve_s")
    if run.timed_out:
        row["solve_s"] -= row.get("enum_s", 0.0)
    return row


TABLE = [
    Column("n", 5),
    Column("patterns", 8, spec=".6g"),
    Column("status", 8, "<"),
    Column("enum_s", 7, spec=".3f"),
    Column("solve_s", 8, spec=".2f"),
    Column("solver_s", 8, spec=".2f"),
    Column("value", 12, spec=".8g"),
    Column("recovered", 12, spec=".8g"),
    Column("neurons", 7),
    Column("primal_res", 10, spec=".1e"),
]


def format_rows(rows: list[dict]) -> str:
    return format_table(TABLE, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--child", nargs=3, metavar=("N", "LABELS", "SOLVER"), help=argparse.SUPPRESS
    )
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--sizes", default=DEFAULT_SIZES)
    parser.add_argument("--solver", default="clarabel", choices=("clarabel", "scs"))
    parser.add_argument("--labels", default="teacher", choices=("teacher", "sign"))
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(int(args.child[0]), args.child[1], args.child[2])))
        return 0

    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(
        f"exact c=1 convex program, rank-2 Gaussian X (d=2, no bias), {args.labels} labels, "
        f"beta={BETA}, seed={SEED}, solver {args.solver}; python {platform.python_version()}, "
        f"limit {args.max_seconds:g} s per case",
        flush=True,
    )
    rows: list[dict] = []
    for n in sizes:
        row = run_case(n, args.labels, args.solver, args.max_seconds)
        rows.append(row)
        print(f"  done n={n}: {row.get('status')}", flush=True)
    print(format_rows(rows))
    write_results(args.csv, rows, COLUMNS, note_label=lambda row: f"n={row['n']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
