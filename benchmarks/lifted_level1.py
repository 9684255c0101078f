"""How large an instance the level-1 lifted copositive dual solves within a time limit.

Runs ``solve_lifted_copositive_dual(problem, level=1)`` (reduced form, generalized Parrilo K^1
over R^2n_+ x R^(d+c), pulled back to side 2n + 2d + 2c) on planted data with d = 2, c = 2 for
growing n, each in a child process with a wall-clock limit, next to the level-0 value.  Prints
a table and writes ``benchmarks/results/lifted_level1.csv``.

    python benchmarks/lifted_level1.py [--sizes 4 6 8 10 12 14] [--max-seconds 600]
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import resource
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _case(n: int, level: int, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    from copos.datasets import planted
    from copos.network.lifted import solve_lifted_copositive_dual

    problem = planted(n=n, d=2, c=2, seed=0, beta=0.1)
    start = time.perf_counter()
    result = solve_lifted_copositive_dual(problem, level=level)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((result.value, result.solve.status, elapsed, peak))


def run(n: int, level: int, limit: float) -> dict[str, object]:
    queue: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    process = mp.Process(target=_case, args=(n, level, queue))
    start = time.perf_counter()
    process.start()
    process.join(limit)
    if process.is_alive():
        process.kill()
        process.join()
        return {
            "n": n,
            "level": level,
            "status": "timeout",
            "time_s": round(time.perf_counter() - start, 1),
        }
    if queue.empty():
        return {"n": n, "level": level, "status": f"crashed (exit {process.exitcode})"}
    value, status, elapsed, peak = queue.get()
    return {
        "n": n,
        "level": level,
        "status": status,
        "value": value,
        "time_s": round(elapsed, 2),
        "peak_mb": round(peak),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 6, 8, 10, 12, 14])
    parser.add_argument("--max-seconds", type=float, default=600.0)
    args = parser.parse_args()
    rows = []
    print(
        f"{'n':>3} {'side':>5} {'level':>5} {'status':<20} {'value':>12} {'time[s]':>9} {'peak[MB]':>9}"
    )
    for n in args.sizes:
        for level in (0, 1):
            row = run(n, level, args.max_seconds)
            row["side_K1"] = 2 * n + 2 * 2 + 2 * 2
            rows.append(row)
            value = row.get("value")
            print(
                f"{n:>3} {row['side_K1']:>5} {level:>5} {row['status']!s:<20} "
                f"{'' if value is None else f'{value:.6f}':>12} {row.get('time_s', ''):>9} {row.get('peak_mb', ''):>9}",
                flush=True,
            )
        if rows[-1]["status"] == "timeout":
            break
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / "lifted_level1.csv", "w", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=["n", "side_K1", "level", "status", "value", "time_s", "peak_mb"]
        )
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {RESULTS / 'lifted_level1.csv'}")


if __name__ == "__main__":
    main()
