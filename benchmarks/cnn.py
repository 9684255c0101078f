"""Convolutional two-layer nets (issue 18): the convex program against the best SGD CNN.

    python benchmarks/cnn.py [--quick] [--csv PATH]

Two data sets, two classes each, targets +-1, weight decay beta:

* ``signals``: generated 1-D signals of length 16 (a sinusoid of frequency 1 or 3 with a random
  phase and noise 0.3), n = 40; conv1d with 2 taps (exact enumeration of the patterns of the
  patch matrix) and 3 taps (sampled patterns: an upper bound on p*), average pooling;
* ``digits``: scikit-learn digits 0 vs 1, 8x8 pixels / 16, n = 60; conv2d 3x3 (h = 9, K = 36,
  nK = 2160 rows: sampled patterns), average pooling.

For each: the program's value, its bound kind, the recovered CNN's objective, the best SGD CNN
(Adam, full batch) over widths x seeds, and times.  Then the enumeration sweep: the exact
enumeration time of the patterns of M for growing n (signals, 2 and 3 taps) until one call
exceeds ``--limit`` seconds: where exact enumeration stops.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _harness import write_results

from copos.nets.architectures.conv import Convolution
from copos.nets.arrangements import ScaledSVD, hyperplanes
from copos.nets.problem import TrainingProblem
from copos.nets.training import train_conv
from copos.relaxations.conv import conv_patterns, solve_conv_program
from copos.relaxations.convex import solve_convex_program

HERE = Path(__file__).resolve().parent
DEFAULT_CSV = HERE / "results" / "cnn.csv"
COLUMNS = (
    "data", "n", "arch", "K", "h", "patterns", "enumeration", "kind", "convex", "recovered",
    "sgd_best", "sgd_width", "sgd_seed", "convex_s", "sgd_s", "note",
)  # fmt: skip


def signals(n: int, length: int = 16, seed: int = 0, beta: float = 0.05) -> TrainingProblem:
    """Sinusoids of frequency 1 (class +1) or 3 (class -1), random phase, noise 0.3."""
    rng = np.random.default_rng(seed)
    labels = rng.choice([1.0, -1.0], n)
    t = np.arange(length)
    freq = np.where(labels > 0, 1, 3)[:, None]
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    X = np.sin(2 * np.pi * freq * t / length + phase) + 0.3 * rng.standard_normal((n, length))
    return TrainingProblem(X, labels[:, None], beta)


def digits(n: int, beta: float = 0.05) -> TrainingProblem:
    """scikit-learn digits 0 vs 1 (the first n), pixels / 16, targets +-1."""
    from sklearn.datasets import load_digits

    data = load_digits()
    keep = np.flatnonzero(data.target < 2)[:n]
    return TrainingProblem(data.data[keep] / 16.0, 2.0 * data.target[keep, None] - 1.0, beta)


def compare(
    name: str, problem: TrainingProblem, arch: Convolution, args: argparse.Namespace
) -> dict:
    start = time.perf_counter()
    result = solve_conv_program(problem, arch, samples=args.samples)
    convex_s = time.perf_counter() - start
    start = time.perf_counter()
    runs = [
        train_conv(problem, arch, width, seed=seed, epochs=args.epochs)
        for width in args.widths
        for seed in args.seeds
    ]
    sgd_s = time.perf_counter() - start
    best = min(runs, key=lambda run: run.best_objective)
    row = {
        "data": name,
        "n": problem.n,
        "arch": arch.describe(),
        "K": arch.K,
        "h": arch.h,
        "patterns": len(result.patterns),
        "enumeration": "exact" if result.patterns.complete else "sampled",
        "kind": result.bound.kind,
        "convex": result.value,
        "recovered": result.recovered_objective,
        "sgd_best": best.best_objective,
        "sgd_width": best.width,
        "sgd_seed": best.seed,
        "convex_s": round(convex_s, 2),
        "sgd_s": round(sgd_s, 2),
        "note": f"{len(runs)} SGD runs, {args.epochs} epochs each",
    }
    print(
        f"{name:8s} {arch.describe():58s} P={row['patterns']:5d} {row['enumeration']:7s} "
        f"{row['kind']:7s} convex {row['convex']:.6g} recovered {row['recovered']:.6g} "
        f"SGD {row['sgd_best']:.6g} (m={best.width}) {convex_s:.1f}s / {sgd_s:.1f}s",
        flush=True,
    )
    return row


def sweep(taps: int, limit: float, sizes: list[int]) -> list[dict]:
    """Exact enumeration of M's patterns for growing n until one call takes over ``limit`` s."""
    rows = []
    arch = Convolution.conv1d(16, taps)
    for n in sizes:
        problem = signals(n)
        operator = arch.operator_of(problem)
        bound = hyperplanes(ScaledSVD.of(operator.stacked)).pattern_bound
        start = time.perf_counter()
        patterns = conv_patterns(operator, "exact")
        elapsed = time.perf_counter() - start
        start = time.perf_counter()
        result = solve_convex_program(problem, patterns, architecture=arch)
        program_s = time.perf_counter() - start
        rows.append(
            {
                "data": "signals-sweep",
                "n": n,
                "arch": arch.describe(),
                "K": arch.K,
                "h": arch.h,
                "patterns": len(patterns),
                "enumeration": "exact",
                "kind": result.bound.kind,
                "convex": result.value,
                "recovered": result.recovered_objective,
                "convex_s": round(elapsed + program_s, 2),
                "note": f"nK={n * arch.K}, pattern bound {bound}, enumeration {elapsed:.2f}s, "
                f"program {program_s:.2f}s",
            }
        )
        print(
            f"sweep taps={taps} n={n:3d} nK={n * arch.K:4d} P={len(patterns):6d} {rows[-1]['note']}",
            flush=True,
        )
        if elapsed + program_s > limit:
            break
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller grids (a smoke run)")
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--limit", type=float, default=60.0, help="sweep stop (seconds)")
    args = parser.parse_args()
    args.widths = [4, 16] if args.quick else [4, 16, 64]
    args.seeds = [0] if args.quick else [0, 1, 2]
    args.epochs = 500 if args.quick else 3000
    args.samples = 100 if args.quick else 300
    rows = [
        compare("signals", signals(40), Convolution.conv1d(16, 2), args),
        compare("signals", signals(40), Convolution.conv1d(16, 3), args),
        compare("digits", digits(20 if args.quick else 60), Convolution.conv2d(8, 8, 3), args),
    ]
    rows += sweep(2, args.limit, [5, 10, 20] if args.quick else [5, 10, 20, 40])
    rows += sweep(3, args.limit, [1] if args.quick else [1, 2, 3])
    write_results(args.csv, rows, COLUMNS)


if __name__ == "__main__":
    main()
