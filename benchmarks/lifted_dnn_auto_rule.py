"""Lifted DNN relaxation at low input dimension: CVXPY+Clarabel against copos-admm (#17 item 12).

Run by hand (one BLAS thread, about 5-10 minutes)::

    OMP_NUM_THREADS=1 python benchmarks/lifted_dnn_auto_rule.py

The two ``iris`` rows (train split, n = 114) of the CSV were measured separately, each in its own
process under ``timeout`` (Clarabel was killed after 300 s), with
``solve_lifted_dnn(real("iris", beta=0.1)[0], solver=...)``.

Sets the ``solver="auto"`` rule of the lifted DNN (:data:`copos.solvers.registry.AUTO_RULES`).  Writes
``benchmarks/results/lifted_dnn_auto_rule.csv`` and prints a table.  Columns: ``time_s`` wall
time of ``solve_lifted_dnn`` (model building included); ``value`` the number it returns;
``kind`` what copos reports it as (``lower`` only when certified or verified after the solve,
else ``neither``); ``certified_lower`` the ADMM's certified bound (blank for Clarabel);
``verified`` whether the value counts as a bound.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _harness import write_csv

RESULTS = Path(__file__).resolve().parent / "results"
CSV_PATH = RESULTS / "lifted_dnn_auto_rule.csv"
FIELDS = ["data", "n", "d", "c", "solver", "status", "time_s", "value", "kind", "verified"]


def cases() -> list[tuple[str, Any]]:
    """Low-dimensional problems (the bias column is included in d)."""
    from copos.nets.datasets import planted, real, spiral
    from copos.nets.problem import TrainingProblem

    train, _ = real("iris", beta=0.1)
    rows = np.sort(np.random.default_rng(0).choice(train.n, size=40, replace=False))
    iris40 = TrainingProblem(X=train.X[rows], Y=train.Y[rows], beta=0.1, bias=True, name="iris40")
    return [
        ("spiral", spiral(n_per_class=10, classes=3, beta=0.1, bias=True)),
        ("spiral", spiral(n_per_class=20, classes=3, beta=0.1, bias=True)),
        ("planted", planted(n=30, d=2, c=3, seed=0, beta=0.1, bias=True, noise=0.1)),
        ("planted", planted(n=60, d=4, c=3, seed=0, beta=0.1, bias=True, noise=0.1)),
        ("iris40", iris40),
    ]


def run(problem: Any, solver: str) -> dict[str, Any]:
    from copos.relaxations.lifted import solve_lifted_dnn

    start = time.perf_counter()
    result = solve_lifted_dnn(problem, solver=solver)
    elapsed = time.perf_counter() - start
    bound = result.bound
    return {
        "solver": solver,
        "status": result.solve.status,
        "time_s": round(elapsed, 3),
        "value": result.value,
        "kind": bound.kind,
        "verified": bound.verified,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--csv",
        type=Path,
        default=CSV_PATH,
        help="where to write the rows (default: %(default)s; the committed file also holds the "
        "two iris rows measured separately, which a rerun does not reproduce)",
    )
    args = parser.parse_args()
    rows = []
    for name, problem in cases():
        for solver in ("copos-admm", "clarabel"):
            row = {
                "data": name,
                "n": problem.n,
                "d": problem.d,
                "c": problem.c,
                **run(problem, solver),
            }
            rows.append(row)
            print(
                f"{row['data']:<8} n={row['n']:<4} d={row['d']:<2} c={row['c']} {solver:<10} "
                f"{row['status']:<18} {row['time_s']:>8.2f}s value={row['value']:.6f} "
                f"kind={row['kind']}",
                flush=True,
            )
    write_csv(args.csv, rows, FIELDS)
    print(f"wrote {args.csv}", file=sys.stderr)


if __name__ == "__main__":
    main()
