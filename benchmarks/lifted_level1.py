"""How large an instance the level-1 lifted copositive dual solves within a time limit.

Runs ``solve_lifted_copositive_dual(problem, level=1)`` (reduced form, generalized Parrilo K^1
over R^2n_+ x R^(d+c), pulled back to side 2n + 2d + 2c) on planted data with d = 2, c = 2 for
growing n, each in a child process with a wall-clock limit, next to the level-0 value.  Prints
a table and writes ``benchmarks/results/lifted_level1.csv``.

    python benchmarks/lifted_level1.py [--sizes 4 6 8 10 12 14] [--max-seconds 600]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _harness import Column, format_header, format_row, last_json, run_child, write_results

RESULTS = Path(__file__).resolve().parent / "results"
FIELDS = ["n", "side_K1", "level", "status", "value", "time_s", "peak_mb"]
TABLE = [
    Column("n", 3),
    Column("side", 5, key="side_K1"),
    Column("level", 5),
    Column("status", 20, "<"),
    Column("value", 12, spec=".6f", missing=""),
    Column("time[s]", 9, key="time_s", missing=""),
    Column("peak[MB]", 9, key="peak_mb", missing=""),
]


def _case(n: int, level: int) -> dict[str, object]:
    """Solve one case in this (child) process: value, status and solve time."""
    from copos.nets.datasets import planted
    from copos.relaxations.lifted import solve_lifted_copositive_dual

    problem = planted(n=n, d=2, c=2, seed=0, beta=0.1)
    start = time.perf_counter()
    result = solve_lifted_copositive_dual(problem, level=level)
    elapsed = time.perf_counter() - start
    return {"value": result.value, "status": result.solve.status, "time_s": elapsed}


def run(n: int, level: int, limit: float) -> dict[str, object]:
    """One case in a child process; peak memory = the child's ru_maxrss."""
    child = run_child(__file__, [n, level], limit)
    if child.timed_out:
        return {"n": n, "level": level, "status": "timeout", "time_s": round(child.wall_s, 1)}
    last = last_json(child.stdout)
    if child.returncode != 0 or not last:
        return {"n": n, "level": level, "status": f"crashed (exit {child.returncode})"}
    return {
        "n": n,
        "level": level,
        "status": last["status"],
        "value": last["value"],
        "time_s": round(last["time_s"], 2),
        "peak_mb": round(child.peak_mb),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 6, 8, 10, 12, 14])
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument(
        "--child", type=int, nargs=2, metavar=("N", "LEVEL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_case(*args.child)))
        return
    rows = []
    print(format_header(TABLE))
    for n in args.sizes:
        for level in (0, 1):
            row = run(n, level, args.max_seconds)
            row["side_K1"] = 2 * n + 2 * 2 + 2 * 2
            rows.append(row)
            print(format_row(TABLE, row), flush=True)
        if rows[-1]["status"] == "timeout":
            break
    write_results(RESULTS / "lifted_level1.csv", rows, FIELDS)


if __name__ == "__main__":
    main()
