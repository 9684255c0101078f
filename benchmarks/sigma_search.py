"""σ(Z) of a trained net's residual on real tabular data: the branch and bound against the old "auto".

Run by hand (one BLAS thread; about ``cases x 2 x --budget`` seconds plus training)::

    OMP_NUM_THREADS=1 python benchmarks/sigma_search.py [--budget 120] [--csv PATH]

For each data set (read from ``../shared/data``, the files of the lifted-CP paper; features
standardised, labels one-hot, the first half of a seeded permutation (``numpy`` seed 42) as the
training set) a net is trained with Adam (:func:`copos.nets.training.train`, width ``--width``,
``--epochs``, seed 0) at β = 0.1, and :math:`\\sigma(Z)`, :math:`Z = Y - f(X)`, is computed:

* ``old auto``: what ``dual_norm(method="auto")`` did before issue 11 above enumeration — more
  than 20,000 possible patterns, so ``"global"``, :math:`\\|Z\\|_2\\|X\\|_2`;
* ``search@beta``: ``dual_norm`` by branch and bound with ``threshold = beta`` and the net's
  neurons as hints (what :func:`~copos.certificates.certify.certify` runs);
* ``search``: the same without a threshold (closing the gap), to show the interval itself.

Columns: ``lower``/``upper`` the proven interval, ``width = (upper - lower) / upper``, ``nodes``,
``seconds``, ``complete``/``stop``, ``rel_gap`` the certificate's relative gap
:math:`(F - L)/\\max(1, |F|)` with :math:`L` from :math:`t = \\min(1, \\beta/\\text{upper})`.
Writes ``benchmarks/results/sigma_search.csv`` (or ``--csv``) and prints a table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from _harness import Column, format_row, format_table, write_csv

RESULTS = Path(__file__).resolve().parent / "results"
CSV_PATH = RESULTS / "sigma_search.csv"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIELDS = [
    "data",
    "n",
    "rank",
    "F",
    "method",
    "lower",
    "upper",
    "width",
    "nodes",
    "seconds",
    "complete",
    "stop",
    "rel_gap",
]
BETA = 0.1


def _split(X: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standardised features and one-hot labels of the first half of a seeded permutation."""
    from copos.nets.datasets import one_hot

    order = np.random.RandomState(42).permutation(X.shape[0])[: X.shape[0] // 2]
    X = X[order]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, one_hot(np.unique(labels[order], return_inverse=True)[1])


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, Y)`` of a data set of ``../shared/data``."""
    if name == "iris":
        raw = np.genfromtxt(DATA / "Iris.csv", delimiter=",", dtype=str)
        return _split(raw[:, 1:5].astype(float), raw[:, 5])
    if name == "banknote":
        raw = np.loadtxt(DATA / "data_banknote_authentication.txt", delimiter=",")
        return _split(raw[:, :4], raw[:, 4])
    if name == "pima":
        raw = np.loadtxt(DATA / "pima-indians-diabetes.csv", delimiter=",")
        return _split(raw[:, :8], raw[:, 8])
    raise ValueError(name)


CASES = [("iris", False), ("iris", True), ("banknote", True), ("pima", True)]


def run_case(name: str, bias: bool, args: argparse.Namespace) -> list[dict[str, Any]]:
    from copos.certificates.certify import dual_lower_bound, dual_scale
    from copos.certificates.dual_norm import dual_norm
    from copos.nets.problem import TrainingProblem
    from copos.nets.training import train

    X, Y = load(name)
    problem = TrainingProblem.from_data(X, Y, BETA, bias=bias)
    net = train(problem, args.width, epochs=args.epochs, seed=0).net
    Z = net.residual(problem)
    F = float(net.objective(problem))
    label = f"{name}{' +bias' if bias else ''}"
    runs = {
        "old auto (global)": {"method": "global"},
        "search@beta": {"threshold": BETA, "hints": net.U.T, "time_budget": args.budget},
        "search": {"hints": net.U.T, "time_budget": args.budget},
    }
    rows = []
    for method, options in runs.items():
        start = time.perf_counter()
        norm = dual_norm(Z, problem, **options)
        seconds = time.perf_counter() - start
        lower = dual_lower_bound(Z, problem.Y, dual_scale(BETA, norm.value))
        rows.append(
            {
                "data": label,
                "n": problem.n,
                "rank": norm.rank,
                "F": F,
                "method": method,
                "lower": norm.lower,
                "upper": norm.value,
                "width": norm.gap / norm.value if norm.value > 0 else 0.0,
                "nodes": norm.nodes,
                "seconds": seconds,
                "complete": norm.complete,
                "stop": norm.note.split("(stop: ")[1].split(")")[0]
                if "(stop: " in norm.note
                else "",
                "rel_gap": (F - lower) / max(1.0, abs(F)),
            }
        )
        print(format_row(COLUMNS, rows[-1]), flush=True)
    return rows


COLUMNS = [
    Column("data", 15, "<"),
    Column("n", 5),
    Column("rank", 4),
    Column("method", 18, "<"),
    Column("lower", 11, spec=".6g"),
    Column("upper", 11, spec=".6g"),
    Column("width", 8, spec=".1e"),
    Column("nodes", 8),
    Column("seconds", 7, spec=".1f"),
    Column("stop", 9),
    Column("rel_gap", 9, spec=".2e"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per search")
    parser.add_argument("--width", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=5000)
    parser.add_argument("--only", nargs="*", help="data sets to run (iris, banknote, pima)")
    parser.add_argument("--csv", type=Path, default=CSV_PATH, help="output CSV")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    print(format_table(COLUMNS, []), flush=True)
    for name, bias in CASES:
        if args.only and name not in args.only:
            continue
        rows += run_case(name, bias, args)
    write_csv(args.csv, rows, FIELDS)
    print(format_table(COLUMNS, rows))
    print(f"written {args.csv}")


if __name__ == "__main__":
    main()
