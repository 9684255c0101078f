#!/usr/bin/env python
"""How the arrangement ADMM's ``tol`` maps to objective error, on five seeded instances.

Instances (teacher labels as in ``arrangement_admm.py``; ``X`` Gaussian, sampled patterns):

====  =====  ==  ===  ====  ======
name  n      d   P    seed  beta/||X^T y||_inf
====  =====  ==  ===  ====  ======
A     500    10  200  0     1e-2   (the benchmark case)
B     500    10  200  1     1e-1
C     300    5   100  2     1e-2
D     60     4   40   3     1e-1
E     400    20  150  4     3e-3
====  =====  ==  ===  ====  ======

For each instance and each configuration (JSON keyword arguments of ``solve_arrangement_admm``,
default ``{}``) and ``tol`` in ``--tols``, prints iterations, time, the relative objective error
against CVXPY + Clarabel on the same patterns (whose time, CVXPY compilation included, is printed
too) and how far the certified lower bound lies below Clarabel's value.  One BLAS thread.  Writes a CSV.

Usage::

    python benchmarks/arrangement_admm_defaults.py [--configs '{}' '{"anderson": 0}']
        [--tols 1e-3 1e-4] [--instances A B C D E] [--csv PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from _harness import Column, format_header, format_row, write_results  # noqa: E402

from copos.nets.arrangements import sample_arrangements
from copos.nets.problem import TrainingProblem
from copos.relaxations.convex import solve_arrangement_admm, solve_convex_program

DEFAULT_CSV = Path(__file__).resolve().parent / "results" / "arrangement_admm_defaults.csv"
INSTANCES = {
    "A": (500, 10, 200, 0, 1e-2),
    "B": (500, 10, 200, 1, 1e-1),
    "C": (300, 5, 100, 2, 1e-2),
    "D": (60, 4, 40, 3, 1e-1),
    "E": (400, 20, 150, 4, 3e-3),
}
TEACHER_WIDTH = 10
#: the table: columns packed without separators (each width includes its padding)
TABLE = [
    Column("inst", 5, "<", key="instance", gap=""),
    Column("config", 40, "<", gap=""),
    Column("tol", 8, spec=".0e", missing="", gap=""),
    Column("iters", 7, key="iterations", missing="", gap=""),
    Column("time_s", 8, spec=".2f", missing="", gap=""),
    Column("rel_err", 9, spec=".1e", missing="", gap=""),
    Column("lb_gap", 9, spec=".1e", missing="", gap=""),
]


def make_instance(n: int, d: int, P: int, seed: int, beta_factor: float):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    teacher = rng.standard_normal((d, TEACHER_WIDTH)) / np.sqrt(d)
    y = np.maximum(X @ teacher, 0.0) @ rng.standard_normal(TEACHER_WIDTH)
    beta = beta_factor * float(np.abs(X.T @ y).max())
    return TrainingProblem.from_data(X, y, beta), sample_arrangements(X, P, seed=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["{}"])
    parser.add_argument("--tols", nargs="+", type=float, default=[1e-3, 1e-4])
    parser.add_argument("--instances", nargs="+", default=list(INSTANCES), choices=list(INSTANCES))
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args(argv)
    rows = []
    header = format_header(TABLE)
    print(header)
    print("-" * len(header))
    for name in args.instances:
        spec = INSTANCES[name]
        problem, patterns = make_instance(*spec)
        start = time.perf_counter()
        reference = solve_convex_program(problem, patterns, solver="clarabel").value
        clarabel_time = time.perf_counter() - start
        reference_row = {
            "instance": name,
            "config": "clarabel (reference)",
            "time_s": clarabel_time,
        }
        print(format_row(TABLE, reference_row), flush=True)
        for config in args.configs:
            options = json.loads(config)
            for tol in args.tols:
                start = time.perf_counter()
                result = solve_arrangement_admm(problem, patterns, tol=tol, **options)
                elapsed = time.perf_counter() - start
                row = {
                    "instance": name,
                    "n": spec[0],
                    "d": spec[1],
                    "P": spec[2],
                    "config": config,
                    "tol": tol,
                    "status": result.status,
                    "iterations": result.iterations,
                    "time_s": elapsed,
                    "rel_err": abs(result.value - reference) / abs(reference),
                    "lb_gap": (reference - result.lower_bound) / abs(reference),
                    "reference": reference,
                    "clarabel_time_s": clarabel_time,
                }
                rows.append(row)
                print(format_row(TABLE, row), flush=True)
    write_results(args.csv, rows, list(rows[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
