#!/usr/bin/env python
r"""Benchmark: the polish (:func:`copos.nets.polish.polish`) on planted instances of the paper.

For each case ``INSTANCE:BETA`` the planted instance of the lifted-CP paper
(``../shared/data/planted_authors_100.npz``, read, never copied) with weight decay
:math:`\beta`, the best of 9 Adam nets (widths {5, 10, 100} x seeds {0, 1, 2}, 10,000 epochs, as
in the paper study's certificate cells) is polished; one line per case: wall and CPU seconds, the Adam
and polished true objectives :math:`F`, the widths, the Newton iterations and rounds.  The Adam
nets are trained once and kept in ``--cache`` (``U``, ``V`` in ``.npz``), so that a timing run
(``farm-bench -n 3 --vs 'OLD' -- NEW``) measures the polish alone.

Usage::

    python benchmarks/polish_timing.py [--cases 0:0.01,1:0.01,99:0.01,0:0.1] [--cache DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
DATA = ROOT.parent.parent / "shared" / "data"
DEFAULT_CASES = "0:0.01,1:0.01,99:0.01,0:0.1"
DEFAULT_CACHE = Path("/tmp/copos-polish-nets")


def problem_of(instance: int, beta: float):  # noqa: ANN201 (TrainingProblem, imported lazily)
    """The training problem of planted instance ``instance`` (no bias), weight decay ``beta``."""
    from copos.nets.problem import TrainingProblem
    from copos.study.paper_data import load_paper

    X, Y = load_paper("planted", str(DATA), instance)
    return TrainingProblem.from_data(X, Y, beta, name=f"planted#{instance}")


def best_adam_net(instance: int, beta: float, cache: Path):  # noqa: ANN201 (TwoLayerReLU)
    """The best of 9 Adam nets on the case, from ``cache`` when it was trained before."""
    from copos.nets.architectures.dense import TwoLayerReLU
    from copos.nets.training import train

    path = cache / f"planted_{instance}_{beta:g}.npz"
    if path.exists():
        saved = np.load(path)
        return TwoLayerReLU(saved["U"], saved["V"])
    problem = problem_of(instance, beta)
    runs = [train(problem, width=w, seed=s, epochs=10_000) for w in (5, 10, 100) for s in (0, 1, 2)]
    net = min(runs, key=lambda run: run.best_objective).net
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, U=net.U, V=net.V)
    return net


def main(argv: list[str] | None = None) -> None:
    from copos.nets.polish import polish

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=DEFAULT_CASES, help="comma list of INSTANCE:BETA")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    for case in args.cases.split(","):
        instance, beta = int(case.split(":")[0]), float(case.split(":")[1])
        problem = problem_of(instance, beta)
        net = best_adam_net(instance, beta, args.cache)
        tic, cpu = time.perf_counter(), time.process_time()
        result = polish(net, problem)
        seconds, cpu = time.perf_counter() - tic, time.process_time() - cpu
        print(
            f"#{instance} beta={beta:g} {seconds:7.2f}s wall {cpu:6.2f}s CPU "
            f"F {result.original_objective:.15g} -> "
            f"{result.objective:.15g} width {net.m} -> {result.net.m} "
            f"iterations {result.iterations} rounds {result.rounds}",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
