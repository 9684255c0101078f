r"""Benchmark: Bai et al.'s unconstrained route (gated ReLU by APG + cone decomposition) vs the ADMM vs pyscnn.

Data: the planted-teacher instances of ``arrangement_admm.py`` (``make_problem``: Gaussian ``X``,
no bias, ``beta = 1e-2 ||X^T y||_inf``, ``P`` patterns sampled with seed 1; the same gates for
every solver).  Configurations:

* ``apg-TOL``: :func:`copos.relaxations.gated.solve_gated_program` (FISTA, stopped at a
  certified relative duality gap ``TOL``), then :func:`~copos.relaxations.gated.cone_decomposition`
  (one SOCP, Clarabel) to a ReLU net;
* ``pyscnn-TOL``: ``scnn.models.ConvexGatedReLU`` on the same gates (witnesses), ``RFISTA(tol)``,
  ``NeuronGL1(beta / n)`` (pyscnn divides the squared loss by ``n``), ``unitize_data=False``,
  float64 (gated value only; pyscnn's own decomposition is approximate);
* ``admm-TOL``: ``solve_convex_program(..., solver="copos-admm", tol=TOL)``: the cone-constrained
  program over the same patterns (a different program: the gated one is its relaxation);
* ``clarabel-gated`` / ``clarabel-relu``: the two programs through CVXPY + Clarabel, the references.

``rel_err`` is the objective's relative distance to the Clarabel value of the program that
configuration solves; ``relu_net`` is the objective of the ReLU net each route ends with (a real
net: an upper bound on p*), ``net_s`` the time including the cone decomposition.  The scenario
level ``psi`` (probability 1 - 1e-3, our reading of bai2022.md §2) of the gate count is printed.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/gated_relu.py [--cases 200,500] [--csv PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _harness import Column, format_table, write_results  # noqa: E402
from arrangement_admm import make_problem  # noqa: E402

from copos.relaxations.convex import solve_convex_program  # noqa: E402
from copos.relaxations.gated import (  # noqa: E402
    cone_decomposition,
    gated_operators,
    scenario_level,
    solve_gated_program,
)

CASES = {200: (200, 10, 100), 500: (500, 10, 200)}
CONFIGS = ["clarabel-gated", "clarabel-relu", "apg-1e-4", "apg-1e-6", "pyscnn-1e-6", "pyscnn-1e-8",
           "admm-1e-4", "admm-1e-6"]  # fmt: skip
COLUMNS = ["n", "d", "P", "psi", "config", "program", "status", "time_s", "objective", "rel_err",
           "relu_net", "net_s"]  # fmt: skip
TABLE = [
    Column("n", 4), Column("P", 4), Column("config", 14, "<"), Column("program", 7, "<"),
    Column("status", 14, "<"), Column("time_s", 7, ">", ".2f"), Column("objective", 12, ">", ".6f"),
    Column("rel_err", 8, ">", ".1e"), Column("relu_net", 12, ">", ".6f"), Column("net_s", 7, ">", ".2f"),
]  # fmt: skip


def gated_by_clarabel(problem, patterns) -> tuple[float, float]:
    import cvxpy as cp

    from copos.solvers import solve

    Q = cp.Variable((len(patterns), problem.d))
    masks = patterns.masks.T
    prediction = cp.sum(cp.multiply(masks, problem.X @ Q.T), axis=1)
    objective = 0.5 * cp.sum_squares(prediction - problem.Y[:, 0]) + problem.beta * cp.sum(
        cp.norm(Q, 2, axis=1)
    )
    program = cp.Problem(cp.Minimize(objective))
    start = time.perf_counter()
    solve(program, "clarabel")
    return float(program.value), time.perf_counter() - start


def pyscnn_gated(problem, patterns, tol: float) -> tuple[float, float]:
    import scnn.optimize
    import torch
    from scnn.metrics import Metrics
    from scnn.models import ConvexGatedReLU
    from scnn.regularizers import NeuronGL1
    from scnn.solvers import RFISTA

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    gates = np.ascontiguousarray(patterns.witnesses.T)
    model = ConvexGatedReLU(gates, c=1)
    start = time.perf_counter()
    fitted, _ = scnn.optimize.optimize_model(
        model, RFISTA(model, tol=tol), Metrics(), problem.X, problem.Y,
        regularizer=NeuronGL1(problem.beta / problem.n), return_convex=True, unitize_data=False,
        dtype="float64", device="cpu",
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    Q = np.asarray(fitted.parameters[0], dtype=float).reshape(-1, problem.d)  # (P, d)
    forward, _ = gated_operators(problem.X, (problem.X @ gates > 0).astype(float))
    residual = forward(Q) - problem.Y[:, 0]
    value = 0.5 * float(residual @ residual) + problem.beta * float(np.linalg.norm(Q, axis=1).sum())
    return value, elapsed


def run_case(n: int) -> list[dict]:
    problem, patterns = make_problem(*CASES[n])
    base = {"n": n, "d": problem.d, "P": len(patterns), "psi": scenario_level(CASES[n][2], n)}
    rows, reference = [], {}
    for config in CONFIGS:
        kind, _, tol_text = config.partition("-")
        row = {**base, "config": config}
        if kind == "clarabel":
            if tol_text == "gated":
                value, elapsed = gated_by_clarabel(problem, patterns)
                row.update(program="gated", status="optimal", time_s=elapsed, objective=value)
            else:
                start = time.perf_counter()
                result = solve_convex_program(problem, patterns, solver="clarabel")
                row.update(program="relu", status=result.solve.status, time_s=time.perf_counter() - start,
                           objective=result.value, relu_net=result.recovered_objective)  # fmt: skip
                row["net_s"] = row["time_s"]
            reference[row["program"]] = row["objective"]
        elif kind == "apg":
            gated = solve_gated_program(problem, patterns, tol=float(tol_text))
            start = time.perf_counter()
            pairs = cone_decomposition(problem, gated)
            row.update(program="gated", status=gated.solve.status, time_s=gated.solve.solve_time,
                       objective=gated.value, relu_net=pairs.objective,
                       net_s=gated.solve.solve_time + time.perf_counter() - start)  # fmt: skip
        elif kind == "pyscnn":
            try:
                value, elapsed = pyscnn_gated(problem, patterns, float(tol_text))
                row.update(program="gated", status="done", time_s=elapsed, objective=value)
            except ImportError as exc:
                row.update(program="gated", status=f"not installed ({exc.name})")
        else:
            start = time.perf_counter()
            result = solve_convex_program(
                problem, patterns, solver="copos-admm", tol=float(tol_text)
            )
            elapsed = time.perf_counter() - start
            row.update(program="relu", status=result.solve.status, time_s=elapsed, objective=result.value,
                       relu_net=result.recovered_objective, net_s=elapsed)  # fmt: skip
        if "objective" in row and row["program"] in reference:
            row["rel_err"] = abs(row["objective"] - reference[row["program"]]) / abs(
                reference[row["program"]]
            )
        rows.append(row)
        print(format_table(TABLE, [row], rule=False).splitlines()[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default="200,500")
    parser.add_argument(
        "--csv", type=Path, default=ROOT / "benchmarks" / "results" / "gated_relu.csv"
    )
    args = parser.parse_args(argv)
    rows = []
    for n in (int(c) for c in args.cases.split(",")):
        rows += run_case(n)
    print(format_table(TABLE, rows))
    write_results(args.csv, rows, COLUMNS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
