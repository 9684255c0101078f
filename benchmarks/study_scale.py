"""Issue 13's targets for `copos study`: the 100 planted instances x 2 beta in <= 20 minutes on
2 cores, and the speed-up from one local worker to two (>= 1.8x).

Each run is the CLI itself (``copos study CONFIG --results FILE --workers K``) in a fresh results
file, timed from outside; the study's own summary line gives its time without start-up.  The
cells are the paper study's (``studies/prakhya2024.toml``: lifted DNN, REL, the polished
certificate, Adam over widths 5, 10, 100 x 3 seeds, 10000 epochs), so the 200-cell results file
can be handed to the full paper study, which then skips them (same study name, same cell ids).

    python benchmarks/study_scale.py --data-dir ../shared/data [--instances 10] [--all]

``--instances N`` runs the speed-up pair (1 worker, then 2) on planted 0..N-1 x 2 beta;
``--all`` also runs all 100 instances on 2 workers (about 20 minutes).  A quiet machine is
needed: anything else running on the two cores shows up in both figures.
Writes ``benchmarks/results/study_scale.csv`` and prints the table.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import Column, format_table, write_results

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "study_scale.csv"
FIELDS = ["cells", "workers", "wall_s", "study_s", "failed", "note"]

#: the paper study's settings for the planted family (studies/prakhya2024.toml)
CONFIG = """[study]
name = "prakhya2024"
data_dir = "{data_dir}"
betas = [0.1, 0.01]
methods = ["lifted-dnn", "rel", "certificate"]
widths = [5, 10, 100]
seeds = [0, 1, 2]
epochs = 10000
time_limit = 5400
memory_limit = "6G"
isolate = "process"

[[datasets]]
name = "planted"
source = "paper"
set = "planted"
instances = "0:{instances}"
"""


def run_study(config: Path, results: Path, workers: int) -> dict[str, object]:
    """One ``copos study`` run in a fresh results file: wall time, the study's own time, failures."""
    results.unlink(missing_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "copos.cli", "study", str(config)]
    command += ["--results", str(results), "--workers", str(workers)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    summary = re.search(r"study: (\d+) cells.*\((\d+) failed\).* in ([0-9.]+) s", done.stdout)
    if summary is None:
        return {"workers": workers, "wall_s": wall, "note": f"exit {done.returncode}"}
    cells, failed, seconds = summary.groups()
    return {
        "cells": int(cells),
        "workers": workers,
        "wall_s": wall,
        "study_s": float(seconds),
        "failed": int(failed),
        "note": f"exit {done.returncode}",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--instances", type=int, default=10)
    parser.add_argument("--all", action="store_true", help="also all 100 instances, 2 workers")
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir).resolve()
    if not (data_dir / "planted_authors_100.npz").is_file():
        parser.error(f"no planted_authors_100.npz in {data_dir}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp, "small.toml")
        small.write_text(CONFIG.format(data_dir=data_dir, instances=args.instances))
        for workers in (1, 2):
            rows.append(run_study(small, Path(tmp, f"w{workers}.jsonl"), workers))
            print(rows[-1], flush=True)
        if args.all:
            full = Path(tmp, "full.toml")
            full.write_text(CONFIG.format(data_dir=data_dir, instances=100))
            rows.append(run_study(full, Path(tmp, "all.jsonl"), 2))
    columns = [
        Column("cells", 6, spec="d"),
        Column("workers", 8, spec="d"),
        Column("wall [s]", 9, spec=".1f", key="wall_s"),
        Column("study [s]", 10, spec=".1f", key="study_s"),
        Column("failed", 7, spec="d"),
    ]
    print(format_table(columns, rows))
    if rows[0].get("study_s") and rows[1].get("study_s"):
        print(f"speed-up 1 -> 2 workers: {rows[0]['study_s'] / rows[1]['study_s']:.2f}x")
    write_results(RESULTS, rows, FIELDS)


if __name__ == "__main__":
    main()
