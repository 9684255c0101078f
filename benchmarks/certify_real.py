#!/usr/bin/env python
r"""Benchmark: certify the best Adam net on real data — polish, sigma interval, verdict, witness.

For each data set (with and without a first-layer bias), each weight decay
:math:`\beta \in \{0.1, 0.01\}`:

1. Adam (:func:`copos.nets.training.train`) over widths {10, 100, 300} (``--quick``: {10, 100},
   fewer epochs), the best objective :math:`F_{\rm Adam}`;
2. :func:`copos.nets.polish.polish` on the net's own patterns, :math:`F_{\rm polished} \le
   F_{\rm Adam}`;
3. ``certify(net, problem, polish=True)`` (``method="auto"``): the interval
   :math:`[\sigma_{\rm lower}, \sigma] \ni \sigma(Z)`, the certified lower bound :math:`L`, the
   relative gap :math:`(F - L)/\max(1, |F|)` of the polished net and of the Adam net, the verdict;
4. when not certified and :math:`\sigma_{\rm lower} > \beta` (a witness of non-optimality):
   :func:`copos.certificates.improve.improve` within the rest of the case's time, and its verdict.

Data: the files of the lifted-CP paper in ``../shared/data`` (read, never copied; see its
README: 50/50 split with ``random_state`` 42 as in the paper but without its lost header row;
the training half is used,
features standardized here; binary labels one-hot in 2 columns), and scikit-learn's bundled sets
through :func:`copos.nets.datasets.real` (training split).  Every case runs in a child process
under a wall-clock limit, which also measures its peak resident memory.

Usage::

    python benchmarks/certify_real.py [--quick] [--datasets spiral,planted,iris,banknote]
                                      [--betas 0.1,0.01] [--max-seconds S] [--csv PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _harness import Column, format_table, outcome_row, run_child, write_results

ROOT = Path(__file__).resolve().parent
DATA = ROOT.parent.parent / "shared" / "data"
DEFAULT_CSV = ROOT / "results" / "certify_real.csv"

#: (name, bias) of every case; the rank <= 5 sets first.
CASES: dict[str, tuple[str, bool]] = {
    "spiral": ("spiral", False),
    "spiral+bias": ("spiral", True),
    "planted": ("planted", False),
    "iris": ("iris", False),
    "iris+bias": ("iris", True),
    "banknote": ("banknote", False),
    "banknote+bias": ("banknote", True),
    "pima+bias": ("pima", True),
    "ionosphere+bias": ("ionosphere", True),
    "mnist+bias": ("mnist", True),
    "wine+bias": ("sk:wine", True),
    "breast_cancer+bias": ("sk:breast_cancer", True),
}
#: What the issue's first target covers (rank <= 5), run by ``--quick`` by default.
RANK5 = ("spiral", "planted", "iris", "iris+bias", "banknote")

COLUMNS = [
    "case", "beta", "n", "d", "c", "rank", "status", "best_width", "adam_objective",
    "polished_objective", "polished_width", "sigma_lower", "sigma", "sigma_method",
    "lower_bound", "relative_gap", "adam_relative_gap", "verdict", "witness", "improve_rounds",
    "improved_objective", "improved_relative_gap", "improved_verdict", "train_s", "polish_s",
    "certify_s", "improve_s", "time_s", "train_cpu_s", "polish_cpu_s", "certify_cpu_s", "improve_cpu_s", "cpu_s",
    "peak_mb", "note",
]  # fmt: skip


def _standardized(X: np.ndarray) -> np.ndarray:
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _one_hot(labels: np.ndarray) -> np.ndarray:
    values, index = np.unique(labels, return_inverse=True)
    return np.eye(len(values))[index]


def _paper_split(X: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The training half of ``train_test_split(test_size=0.5, random_state=42)``."""
    from sklearn.model_selection import train_test_split

    X_train, _, y_train, _ = train_test_split(X, labels, test_size=0.5, random_state=42)
    return _standardized(X_train), _one_hot(y_train)


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, Y)`` of a data set, without the bias column."""
    if name == "spiral":
        data = np.load(DATA / "spiral_authors.npz")
        return np.asarray(data["X"], dtype=float), _one_hot(np.asarray(data["Y"]))
    if name == "planted":
        data = np.load(DATA / "planted_authors_100.npz")
        return np.asarray(data["X"][0], dtype=float), np.asarray(data["Y"][0], dtype=float)
    if name.startswith("sk:"):
        from copos.nets.datasets import real

        train, _ = real(name[3:], bias=False)  # type: ignore[arg-type]
        return np.array(train.X), np.array(train.Y)
    readers = {
        "iris": lambda: _csv(DATA / "Iris.csv", slice(1, 5), 5),
        "banknote": lambda: _csv(DATA / "data_banknote_authentication.txt", slice(0, 4), 4),
        "pima": lambda: _csv(DATA / "pima-indians-diabetes.csv", slice(0, 8), 8),
        "ionosphere": lambda: _csv(DATA / "ionosphere.data", slice(0, 34), 34),
    }
    if name == "mnist":
        rows = np.genfromtxt(DATA / "mnist_train_downsampled_pca.csv", delimiter=",", skip_header=1)
        return _standardized(rows[:, :20]), _one_hot(rows[:, 20])
    X, labels = readers[name]()
    return _paper_split(X, labels)


def _csv(path: Path, columns: slice, label: int) -> tuple[np.ndarray, np.ndarray]:
    rows = [line.split(",") for line in path.read_text().splitlines() if line.strip()]
    X = np.array([[float(v) for v in row[columns]] for row in rows])
    return X, np.array([row[label].strip() for row in rows])


def child(case: str, beta: float, quick: bool, seconds: float) -> None:
    """Run one case, printing a JSON line after each stage (partial progress survives a kill)."""
    from copos.certificates.certify import certify_with_dual_norm, with_polish
    from copos.certificates.improve import improve, witness_direction
    from copos.nets.polish import polish
    from copos.nets.problem import TrainingProblem
    from copos.nets.training import train

    start, cpu = time.perf_counter(), time.process_time()
    name, bias = CASES[case]
    X, Y = load(name)
    problem = TrainingProblem.from_data(X, Y, beta, bias=bias, name=case)
    row: dict[str, Any] = {"case": case, "beta": beta, "n": problem.n, "d": problem.d}
    row.update(c=problem.c, rank=int(np.linalg.matrix_rank(problem.X)), status="training")

    def emit(**values: Any) -> None:
        row.update(values, time_s=time.perf_counter() - start, cpu_s=time.process_time() - cpu)
        print(json.dumps(row), flush=True)

    emit()
    widths, epochs = ((10, 100), 3000) if quick else ((10, 100, 300), 10_000)
    runs = [train(problem, width, epochs=epochs, seed=0) for width in widths]
    best = min(runs, key=lambda run: run.best_objective)
    emit(
        best_width=best.width,
        adam_objective=best.best_objective,
        train_s=sum(run.time for run in runs),
        train_cpu_s=time.process_time() - cpu,
        status="certifying",
    )
    tic, tic_cpu = time.perf_counter(), time.process_time()
    polished = polish(best.net, problem)
    emit(
        polished_objective=polished.objective,
        polished_width=polished.net.m,
        polish_s=time.perf_counter() - tic,
        polish_cpu_s=time.process_time() - tic_cpu,
        status="sigma",
    )
    tic, tic_cpu = time.perf_counter(), time.process_time()
    certificate, norm = certify_with_dual_norm(polished.net, problem)
    certificate = with_polish(certificate, polished)  # what certify(..., polish=True) returns
    witness = witness_direction(norm, beta) is not None
    emit(
        sigma_lower=_finite(certificate.sigma_lower),
        sigma=_finite(certificate.sigma),
        sigma_method=certificate.method,
        lower_bound=_finite(certificate.lower_bound),
        relative_gap=_finite(certificate.relative_gap),
        adam_relative_gap=_finite(certificate.original_relative_gap),
        verdict=certificate.verdict,
        witness=witness,
        certify_s=time.perf_counter() - tic,
        certify_cpu_s=time.process_time() - tic_cpu,
        status="done" if certificate.optimal or not witness else "improving",
    )
    if certificate.optimal or not witness:
        return
    tic, tic_cpu = time.perf_counter(), time.process_time()
    left = max(1.0, seconds - (time.perf_counter() - start) - 30.0)
    result = improve(certificate.network(), problem, max_iterations=50, seconds=left)
    emit(
        improve_rounds=len(result.history),
        improved_objective=result.certificate.objective,
        improved_relative_gap=_finite(result.certificate.relative_gap),
        improved_verdict=result.certificate.verdict,
        improve_s=time.perf_counter() - tic,
        improve_cpu_s=time.process_time() - tic_cpu,
        status="done",
        note=result.reason,
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


TABLE = [
    Column("case", 15, "<"),
    Column("beta", 5, spec="g"),
    Column("n", 5),
    Column("r", 2, key="rank"),
    Column("m", 4, key="best_width"),
    Column("F adam", 12, spec=".9g", key="adam_objective"),
    Column("F polished", 12, spec=".9g", key="polished_objective"),
    Column("sigma interval", 21, get=lambda r: _interval(r)),
    Column("L", 12, spec=".9g", key="lower_bound"),
    Column("rel gap", 8, spec=".1e", key="relative_gap"),
    Column("adam gap", 8, spec=".1e", key="adam_relative_gap"),
    Column("verdict", 9, get=lambda r: _short(r.get("verdict"))),
    Column("witness", 7, key="witness"),
    Column("improved", 9, get=lambda r: _short(r.get("improved_verdict"))),
    Column("time_s", 7, spec=".0f"),
    Column("MB", 5, spec=".0f", key="peak_mb"),
]


def _interval(row: dict[str, Any]) -> str:
    low, high = row.get("sigma_lower"), row.get("sigma")
    if low is None or high is None or low == "" or high == "":
        return "-"
    return f"[{float(low):.5g}, {float(high):.5g}]"


def _short(verdict: Any) -> str | None:
    if not verdict:
        return None
    return "optimal" if str(verdict).startswith("globally") else "no"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=4, metavar=("CASE", "BETA", "QUICK", "SECONDS"))
    parser.add_argument("--quick", action="store_true", help="widths 10, 100; 3000 epochs")
    parser.add_argument("--datasets", default=None, help=f"comma list of {', '.join(CASES)}")
    parser.add_argument("--betas", default="0.1,0.01")
    parser.add_argument("--max-seconds", type=float, default=None, help="per case (600; 1800)")
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args(argv)
    if args.child:
        case, beta, quick, seconds = args.child
        child(case, float(beta), quick == "1", float(seconds))
        return
    names = args.datasets.split(",") if args.datasets else list(RANK5 if args.quick else CASES)
    unknown = [name for name in names if name not in CASES]
    if unknown:
        parser.error(f"unknown data sets {unknown}; choose from {', '.join(CASES)}")
    rows = []
    for name in names:
        limit = args.max_seconds or (600.0 if name in RANK5 else 1800.0)
        for beta in (float(b) for b in args.betas.split(",")):
            base = {"case": name, "beta": beta}
            flags = [name, str(beta), "1" if args.quick else "0", str(limit)]
            run = run_child(__file__, flags, limit, threads=1)
            row = {**outcome_row(run, base, limit), "peak_mb": run.peak_mb}
            rows.append(row)
            print(format_table(TABLE, [row], rule=False).splitlines()[-1], flush=True)
    print(format_table(TABLE, rows))
    write_results(args.csv, rows, COLUMNS, note_label=lambda r: f"{r['case']} beta={r['beta']}")


if __name__ == "__main__":
    sys.exit(main())
