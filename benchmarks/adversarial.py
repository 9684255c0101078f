r"""Benchmark: convex adversarial training (Bai et al. §5) vs PGD adversarial training vs standard training.

Data: scikit-learn's breast-cancer (d = 30) and digits 3 vs 8 (d = 64), labels in {-1, +1},
features standardized on the training split (a constant feature keeps scale 1), a ones column for
the first-layer bias (never perturbed).  A seeded split: ``--n-train`` training points, the rest
(up to ``--n-test``) for testing.

For each radius :math:`\epsilon` in ``--eps`` (standardized units):

* ``convex-robust``: :func:`copos.relaxations.robust.solve_robust_program`, hinge loss, the
  training radius :math:`\epsilon`, ``--patterns`` sampled clean patterns (seed 0), Clarabel;
  the recovered ReLU net has width ``m``;
* ``pgd-training``: :func:`copos.nets.attacks.adversarial_training` of the *same* width ``m``,
  hinge loss, PGD with ``--pgd-train-steps`` steps at radius :math:`\epsilon`, Adam, ``--epochs``;
* ``standard``: the same training at radius 0 (once per data set, width = the largest ``m``).

Every net is attacked on the test split by PGD on the hinge margin (``--pgd-steps`` steps,
step :math:`2.5\epsilon/\text{steps}`, random start, best of the iterates), and FGSM; the table
reports clean test accuracy, PGD and FGSM robust accuracy, and training time.  ``bound`` is the
convex program's value (an upper bound on the robust training objective of its own net) and
``certified`` that net's robust training objective recomputed by interval arithmetic in numpy.

``--compare-solvers`` instead times the robust program itself at the first radius on each data
set: CVXPY with Clarabel against copos's ADMM (:mod:`copos.solvers.admm.robust`,
``--admm-tol``, ``--admm-time-limit``), both losses of ``--losses``, one row per solver side by side (value, the
ADMM's certified lower bound, the recovered net's certified robust objective, rigour, time).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/adversarial.py [--datasets breast_cancer,digits]
        [--eps 0.01,0.05,0.1] [--n-train 150] [--n-test 300] [--patterns 30] [--beta 1.0]
        [--epochs 300] [--csv benchmarks/results/adversarial.csv]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _harness import Column, format_table, write_results  # noqa: E402

from copos.nets.arrangements import sample_arrangements  # noqa: E402
from copos.nets.attacks import Box, accuracy, adversarial_training, fgsm, pgd  # noqa: E402
from copos.nets.problem import TrainingProblem  # noqa: E402
from copos.relaxations.robust import solve_robust_program  # noqa: E402

COLUMNS = [
    "dataset", "n_train", "n_test", "d", "eps", "method", "width", "clean_acc", "pgd_acc",
    "fgsm_acc", "train_s", "bound", "certified", "rigour",
]  # fmt: skip

TABLE = [
    Column("dataset", 13, "<"), Column("eps", 5, ">", ".2f"), Column("method", 13, "<"),
    Column("width", 5), Column("clean_acc", 9, ">", ".3f"), Column("pgd_acc", 7, ">", ".3f"),
    Column("fgsm_acc", 8, ">", ".3f"), Column("train_s", 7, ">", ".2f"), Column("bound", 9, ">", ".3f"),
    Column("certified", 9, ">", ".3f"), Column("rigour", 10, ">"),
]  # fmt: skip


def load(name: str, n_train: int, n_test: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Standardized, bias-augmented train/test arrays with labels in {-1, +1}."""
    from sklearn import datasets

    if name == "breast_cancer":
        X, labels = datasets.load_breast_cancer(return_X_y=True)
        y = np.where(labels == 1, 1.0, -1.0)
    elif name == "digits":
        X, labels = datasets.load_digits(return_X_y=True)
        keep = np.isin(labels, (3, 8))
        X, y = X[keep], np.where(labels[keep] == 3, 1.0, -1.0)
    else:
        raise SystemExit(f"unknown data set {name!r}")
    order = np.random.default_rng(seed).permutation(len(y))
    train, test = order[:n_train], order[n_train : n_train + n_test]
    mean, scale = X[train].mean(0), X[train].std(0)
    scale[scale == 0] = 1.0

    def prepared(rows: np.ndarray) -> np.ndarray:
        Z = (X[rows] - mean) / scale
        return np.hstack([Z, np.ones((len(rows), 1))])

    return prepared(train), y[train], prepared(test), y[test]


def evaluate(net, X: np.ndarray, y: np.ndarray, box: Box, steps: int) -> dict:
    attacked = pgd(net, X, y, box, "hinge", steps=steps, seed=1)
    return {
        "clean_acc": accuracy(net, X, y),
        "pgd_acc": accuracy(net, attacked, y),
        "fgsm_acc": accuracy(net, fgsm(net, X, y, box, "hinge"), y),
    }


def run_dataset(name: str, args: argparse.Namespace) -> list[dict]:
    X, y, X_test, y_test = load(name, args.n_train, args.n_test)
    problem = TrainingProblem(X, y[:, None], beta=args.beta, bias=True, name=name)
    patterns = sample_arrangements(X, args.patterns, seed=0)
    base = {"dataset": name, "n_train": len(y), "n_test": len(y_test), "d": X.shape[1] - 1}
    rows, widths = [], []
    for eps in args.eps:
        box = Box.of(eps, X.shape[1], fixed_last=True)
        start = time.perf_counter()
        result = solve_robust_program(problem, eps, loss="hinge", arrangements=patterns)
        elapsed = time.perf_counter() - start
        width = max(result.net.m, 1)
        widths.append(width)
        rows.append(
            {**base, "eps": eps, "method": "convex-robust", "width": result.net.m, "train_s": elapsed,
             "bound": result.value, "certified": result.certified_objective,
             "rigour": result.bound.rigour,
             **evaluate(result.net, X_test, y_test, box, args.pgd_steps)}
        )  # fmt: skip
        run = adversarial_training(
            X, y, width, box, loss="hinge", beta=args.beta, epochs=args.epochs,
            pgd_steps=args.pgd_train_steps, seed=0,
        )  # fmt: skip
        rows.append(
            {**base, "eps": eps, "method": "pgd-training", "width": width, "train_s": run.time,
             **evaluate(run.net, X_test, y_test, box, args.pgd_steps)}
        )  # fmt: skip
        print(format_table(TABLE, rows[-2:]), flush=True)
    standard = adversarial_training(
        X, y, max(widths), Box.of(0.0, X.shape[1], fixed_last=True), loss="hinge", beta=args.beta,
        epochs=args.epochs, seed=0,
    )  # fmt: skip
    for eps in args.eps:
        box = Box.of(eps, X.shape[1], fixed_last=True)
        rows.append(
            {**base, "eps": eps, "method": "standard", "width": max(widths), "train_s": standard.time,
             **evaluate(standard.net, X_test, y_test, box, args.pgd_steps)}
        )  # fmt: skip
    return rows


SOLVER_COLUMNS = [
    "dataset", "n_train", "d", "eps", "loss", "patterns", "solver", "time_s", "value",
    "lower_bound", "certified", "rigour", "status", "iterations",
]  # fmt: skip

SOLVER_TABLE = [
    Column("dataset", 13, "<"), Column("loss", 7, "<"), Column("solver", 10, "<"),
    Column("time_s", 8, ">", ".2f"), Column("value", 11, ">", ".6f"),
    Column("lower_bound", 11, ">", ".6f"), Column("certified", 11, ">", ".6f"),
    Column("rigour", 10, ">"), Column("status", 14, ">"), Column("iterations", 10, ">"),
]  # fmt: skip


def solver_rows(name: str, args: argparse.Namespace) -> list[dict]:
    """The robust program at ``args.eps[0]`` by Clarabel and by copos's ADMM, one row each."""
    X, y, _, _ = load(name, args.n_train, args.n_test)
    patterns = sample_arrangements(X, args.patterns, seed=0)
    eps = args.eps[0]
    rows = []
    for loss in args.losses:
        targets = y if loss == "hinge" else y.astype(float)
        problem = TrainingProblem(X, targets[:, None], beta=args.beta, bias=True, name=name)
        admm = {"tol": args.admm_tol, "time_limit": args.admm_time_limit}
        admm["max_iters"] = args.admm_max_iters
        for solver, options in (("clarabel", {}), ("copos-admm", admm)):
            if solver not in args.solvers:
                continue
            start = time.perf_counter()
            result = solve_robust_program(
                problem, eps, loss=loss, arrangements=patterns, solver=solver, **options
            )
            rows.append(
                {"dataset": name, "n_train": len(y), "d": X.shape[1] - 1, "eps": eps, "loss": loss,
                 "patterns": len(patterns), "solver": solver,
                 "time_s": time.perf_counter() - start, "value": result.value,
                 "lower_bound": result.solve.extra.get("lower_bound", float("nan")),
                 "certified": result.certified_objective, "rigour": result.bound.rigour,
                 "status": result.solve.status, "iterations": result.solve.iterations}
            )  # fmt: skip
            print(format_table(SOLVER_TABLE, rows[-1:]), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="breast_cancer,digits")
    parser.add_argument("--eps", default="0.01,0.05,0.1")
    parser.add_argument("--n-train", type=int, default=150)
    parser.add_argument("--n-test", type=int, default=300)
    parser.add_argument("--patterns", type=int, default=30, help="sampled clean patterns")
    parser.add_argument("--beta", type=float, default=1.0)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--pgd-steps", type=int, default=20, help="attack steps at evaluation")
    parser.add_argument("--pgd-train-steps", type=int, default=5)
    parser.add_argument(
        "--csv", type=Path, default=ROOT / "benchmarks" / "results" / "adversarial.csv"
    )
    parser.add_argument("--compare-solvers", action="store_true", help="Clarabel vs copos-admm")
    parser.add_argument("--losses", default="hinge,squared", help="with --compare-solvers")
    parser.add_argument("--admm-tol", type=float, default=1e-6, help="with --compare-solvers")
    parser.add_argument("--admm-time-limit", type=float, default=600.0, help="seconds")
    parser.add_argument("--admm-max-iters", type=int, default=20_000)
    parser.add_argument("--solvers", default="clarabel,copos-admm", help="with --compare-solvers")
    args = parser.parse_args(argv)
    args.eps = [float(e) for e in args.eps.split(",")]
    args.losses = args.losses.split(",")
    if args.compare_solvers:
        rows = [row for name in args.datasets.split(",") for row in solver_rows(name, args)]
        print(format_table(SOLVER_TABLE, rows))
        write_results(args.csv.with_name("adversarial_solvers.csv"), rows, SOLVER_COLUMNS)
        return 0
    rows = []
    for name in args.datasets.split(","):
        rows += run_dataset(name, args)
    print(format_table(TABLE, rows))
    write_results(args.csv, rows, COLUMNS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
