#!/usr/bin/env python
r"""Benchmark: Bai et al.'s ADMM (copos) vs CVXPY+Clarabel vs pyscnn on the c = 1 convex program.

Program (same for every solver): sampled activation patterns :math:`D_1..D_P`,

.. math:: \min\ \tfrac12\|\textstyle\sum_i D_iX(v_i-w_i)-y\|^2+\beta\sum_i(\|v_i\|+\|w_i\|)
    \ \ \text{s.t.}\ (2D_i-I)Xv_i\ge0,\ (2D_i-I)Xw_i\ge0 .

Data (seeded): ``X`` i.i.d. standard Gaussian ``n x d`` (no bias), labels from a planted ReLU
teacher of width 10, ``y = (X U_t)_+ a_t`` with ``U_t ~ N(0, 1/d)``, ``a_t ~ N(0, 1)``;
``beta = 1e-2 * ||X^T y||_inf``; patterns ``sample_arrangements(X, P, seed=1)``.

Cases: (n, d, P) = (500, 10, 200) and (2000, 20, 1000).

Solvers (each case and solver in its own child process with a wall-clock limit):

* ``clarabel``: :func:`copos.relaxations.convex.solve_convex_program` (CVXPY + Clarabel, default settings);
  time includes CVXPY compilation; its child process may use at most ``CLARABEL_MEMORY_GB``
  (16 GiB) of address space, so that n = 2000 fails cleanly instead of exhausting the machine.
* ``copos-admm``: :func:`copos.relaxations.convex.solve_arrangement_admm` with the given
  ``tol`` and ``time_limit=450`` s (default settings otherwise).
* ``pyscnn``: ``scnn.models.ConvexReLU`` with gate vectors = the witnesses of the *same* sampled
  patterns (``1[X h > 0]`` equals ``1[X h >= 0]`` for Gaussian data), ``scnn.solvers.AL``,
  ``NeuronGL1(beta / n)`` (pyscnn divides the squared loss by ``n``), ``unitize_data=False`` (column
  scaling would change the patterns), float64, CPU, ``return_convex=True``.  pyscnn is a
  benchmark-only dependency and is imported only in its child process.

For every solver the returned blocks are scored with numpy in the same way: the convex objective,
the largest relative cone violation, and the objective of the ReLU network recovered with
:func:`copos.recovery.convex.recover_from_convex` (a true network).  ``rel_err`` is
``|objective - reference| / reference`` where the reference is Clarabel's value when it finished,
otherwise the copos ADMM value at the tightest tolerance run (its certified relative duality gap
is printed, so the reference's own accuracy is known).  Threads are limited to
``--threads`` (default 1) for every solver (the machine is shared).

Usage::

    python benchmarks/arrangement_admm.py [--max-seconds 1200] [--cases 500,2000]
        [--solvers clarabel,copos-admm-1e-5,pyscnn-1e-6,...] [--limits CONFIG=S,...]
        [--threads 1] [--csv PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from _harness import (
    Column,
    fmt,
    format_table,
    outcome_row,
    pyplot,
    run_child,
    save_figure,
    write_results,
)

HERE = Path(__file__).resolve().parent
DEFAULT_CSV = HERE / "results" / "arrangement_admm.csv"
CASES = {500: (500, 10, 200), 2000: (2000, 20, 1000)}
TEACHER_WIDTH = 10
BETA_FACTOR = 1e-2
SEED = 0
#: internal wall-clock cap of the copos ADMM runs (returns status "time_limit" with its iterate)
ADMM_TIME_LIMIT = 450.0
#: address-space cap of the Clarabel child (GiB): a failed allocation is reported, not swapped
CLARABEL_MEMORY_GB = 16
#: solver configurations: name -> (solver, options)
CONFIGS = {
    "clarabel": ("clarabel", {}),
    "copos-admm-1e-3": ("copos-admm", {"tol": 1e-3, "time_limit": ADMM_TIME_LIMIT}),
    "copos-admm-1e-4": ("copos-admm", {"tol": 1e-4, "time_limit": ADMM_TIME_LIMIT}),
    "copos-admm-1e-5": ("copos-admm", {"tol": 1e-5, "time_limit": ADMM_TIME_LIMIT}),
    "copos-admm-1e-6": ("copos-admm", {"tol": 1e-6, "time_limit": ADMM_TIME_LIMIT}),
    "pyscnn-1e-6": ("pyscnn", {"tol": 1e-6, "constraint_tol": 1e-6}),
    "pyscnn-1e-8": ("pyscnn", {"tol": 1e-8, "constraint_tol": 1e-8}),
}
DEFAULT_CONFIGS = "clarabel,copos-admm-1e-3,copos-admm-1e-4,copos-admm-1e-5,copos-admm-1e-6,pyscnn-1e-6,pyscnn-1e-8"

COLUMNS = [
    "n",
    "d",
    "P",
    "config",
    "status",
    "time_s",
    "iterations",
    "objective",
    "rel_err",
    "recovered",
    "cone_violation",
    "neurons",
    "lower_bound",
    "reference",
    "reference_from",
    "note",
]


def make_problem(n: int, d: int, P: int):
    import numpy as np

    from copos.nets.arrangements import sample_arrangements
    from copos.nets.problem import TrainingProblem

    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((n, d))
    teacher = rng.standard_normal((d, TEACHER_WIDTH)) / np.sqrt(d)
    y = np.maximum(X @ teacher, 0.0) @ rng.standard_normal(TEACHER_WIDTH)
    beta = BETA_FACTOR * float(np.abs(X.T @ y).max())
    problem = TrainingProblem.from_data(X, y, beta, name=f"teacher-{n}-{d}")
    return problem, sample_arrangements(X, P, seed=1)


def score(problem, patterns, v_blocks, w_blocks) -> dict:
    """Objective, cone violation and recovered-network objective of (P, d) blocks."""
    import numpy as np

    from copos.nets.architectures.dense import network_objective
    from copos.recovery.convex import recover_from_convex

    masks = patterns.patterns.T.astype(float)
    signs = 2.0 * masks - 1.0
    X, y = problem.X, problem.Y[:, 0]
    prediction = np.sum(masks * (X @ (v_blocks - w_blocks).T), axis=1)
    penalty = np.linalg.norm(v_blocks, axis=1).sum() + np.linalg.norm(w_blocks, axis=1).sum()
    objective = 0.5 * float(np.sum((prediction - y) ** 2)) + problem.beta * float(penalty)
    worst, scale = 0.0, 1e-300
    for blocks in (v_blocks, w_blocks):
        pre = X @ blocks.T
        scale = max(scale, float(np.abs(pre).max(initial=0.0)))
        worst = max(worst, float(np.max(-signs * pre, initial=0.0)))
    U, V = recover_from_convex(v_blocks, w_blocks)
    return {
        "objective": objective,
        "cone_violation": worst / scale,
        "recovered": network_objective(problem, U, V),
        "neurons": int(U.shape[1]),
    }


def _child(n: int, config: str) -> dict:
    import numpy as np

    problem, patterns = make_problem(*CASES[n])
    solver, options = CONFIGS[config]
    row: dict = {"n": n, "d": problem.d, "P": len(patterns), "config": config}
    start = time.perf_counter()
    if solver == "clarabel":
        from copos.relaxations.convex import solve_convex_program

        result = solve_convex_program(problem, patterns, solver="clarabel")
        elapsed = time.perf_counter() - start
        row.update(status=result.solve.status, iterations=result.solve.iterations)
        v_blocks, w_blocks = result.v_blocks, result.w_blocks
    elif solver == "copos-admm":
        from copos.relaxations.convex import solve_arrangement_admm

        result = solve_arrangement_admm(problem, patterns, **options)
        elapsed = time.perf_counter() - start
        row.update(
            status=result.status, iterations=result.iterations, lower_bound=result.lower_bound
        )
        v_blocks, w_blocks = result.v_blocks, result.w_blocks
    else:
        import scnn.optimize
        import torch
        from scnn.metrics import Metrics
        from scnn.models import ConvexReLU
        from scnn.regularizers import NeuronGL1
        from scnn.solvers import AL

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
        gates = np.ascontiguousarray(patterns.witnesses.T)
        model = ConvexReLU(gates, c=1)
        solver_obj = AL(model, **options)
        start = time.perf_counter()
        fitted, metrics = scnn.optimize.optimize_model(
            model,
            solver_obj,
            Metrics(),
            problem.X,
            problem.Y,
            regularizer=NeuronGL1(problem.beta / problem.n),
            return_convex=True,
            unitize_data=False,
            dtype="float64",
            device="cpu",
        )
        elapsed = time.perf_counter() - start
        check = (np.maximum(problem.X @ gates, 0.0) > 0).T
        note = "" if np.array_equal(check, patterns.patterns) else "pattern mismatch"
        v_blocks = np.asarray(fitted.parameters[0][0], dtype=float)
        w_blocks = np.asarray(fitted.parameters[1][0], dtype=float)
        iterations = getattr(metrics, "total_iters", None) if metrics is not None else None
        row.update(status="done", iterations=iterations, note=note)
    row["time_s"] = elapsed
    row.update(score(problem, patterns, v_blocks, w_blocks))
    return row


def run_case(n: int, config: str, max_seconds: float, threads: int) -> dict:
    """One (case, configuration) in a child process; Clarabel under an address-space cap."""
    memory_gb = CLARABEL_MEMORY_GB if CONFIGS[config][0] == "clarabel" else 0.0
    run = run_child(__file__, [n, config], max_seconds, threads=threads, memory_gb=memory_gb)
    n_, d, P = CASES[n]
    return outcome_row(run, {"n": n_, "d": d, "P": P, "config": config}, max_seconds)


def add_reference(rows: list[dict]) -> None:
    """rel_err against Clarabel's value, or else the tightest finished copos ADMM run."""
    for n in {row["n"] for row in rows}:
        group = [row for row in rows if row["n"] == n]
        reference, source = None, ""
        for row in group:
            if row["config"] == "clarabel" and row.get("status") == "optimal":
                reference, source = row["objective"], "clarabel"
        if reference is None:
            admm = [r for r in group if r["config"].startswith("copos-admm") and "objective" in r]
            if admm:
                best = min(admm, key=lambda r: CONFIGS[r["config"]][1]["tol"])
                reference = best["objective"]
                above = (best.get("lower_bound", float("nan")) - reference) / reference
                source = (
                    f"{best['config']} (not certified: its dual lower bound on the sampled "
                    f"optimum is {above:+.1e} relative to it)"
                )
        for row in group:
            row["reference"] = reference
            row["reference_from"] = source
            if reference is not None and "objective" in row:
                row["rel_err"] = abs(row["objective"] - reference) / abs(reference)


TABLE = [
    Column("n", 5),
    Column("d", 3),
    Column("P", 5),
    Column("config", 16, "<"),
    Column("status", 15, "<"),
    Column("time_s", 8, spec=".2f"),
    Column("iters", 6, key="iterations"),
    Column("objective", 14, spec=".9g"),
    Column("rel_err", 8, spec=".1e"),
    Column("recovered", 14, spec=".9g"),
    Column("cone_viol", 9, spec=".1e", key="cone_violation"),
    Column("neurons", 7),
]


def format_rows(rows: list[dict]) -> str:
    return format_table(TABLE, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=2, metavar=("N", "CONFIG"), help=argparse.SUPPRESS)
    parser.add_argument("--max-seconds", type=float, default=1200.0)
    parser.add_argument("--cases", default="500,2000")
    parser.add_argument("--solvers", default=DEFAULT_CONFIGS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--limits",
        default="",
        help="per-configuration limits overriding --max-seconds, e.g. clarabel=240,pyscnn-1e-6=360",
    )
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(int(args.child[0]), args.child[1])))
        return 0
    cases = [int(c) for c in args.cases.split(",") if c]
    configs = [c for c in args.solvers.split(",") if c]
    limits = {
        key: float(value)
        for key, value in (item.split("=") for item in args.limits.split(",") if item)
    }
    print(
        f"c=1 convex program, sampled patterns, teacher labels, beta = {BETA_FACTOR:g}*||X^T y||_inf;"
        f" python {platform.python_version()}, {args.threads} thread(s), "
        f"limit {args.max_seconds:g} s per run",
        flush=True,
    )
    rows = []
    for n in cases:
        for config in configs:
            row = run_case(n, config, limits.get(config, args.max_seconds), args.threads)
            rows.append(row)
            print(
                f"  n={n} {config}: {row.get('status')} {fmt(row.get('time_s'), '.2f')} s",
                flush=True,
            )
    add_reference(rows)
    print(format_rows(rows))
    for n in cases:
        ref = next((r for r in rows if r["n"] == n), {})
        print(
            f"reference n={n}: {fmt(ref.get('reference'), '.12g')} from {ref.get('reference_from')}"
        )
    write_results(args.csv, rows, COLUMNS, note_label=lambda row: f"n={row['n']} {row['config']}")
    figure = plot(rows, args.csv.with_suffix(".png"))
    if figure is not None:
        print(f"wrote {figure}")
    return 0


def plot(rows: list[dict], path: Path) -> Path | None:
    """Time against relative error, one marker per solver configuration and case."""
    plt = pyplot()
    if plt is None:
        return None
    figure, axis = plt.subplots(figsize=(6.4, 4.2))
    for row in rows:
        error, seconds = row.get("rel_err"), row.get("time_s")
        if isinstance(error, float) and isinstance(seconds, float):
            axis.loglog(max(error, 1e-12), seconds, "o", label=f"n={row['n']} {row['config']}")
    axis.set_xlabel("relative objective error")
    axis.set_ylabel("wall time [s]")
    axis.set_title("c = 1 convex program over sampled patterns")
    if axis.get_legend_handles_labels()[0]:
        axis.legend(fontsize="small")
    return save_figure(figure, path)


if __name__ == "__main__":
    raise SystemExit(main())
