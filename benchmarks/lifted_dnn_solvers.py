"""Lifted DNN relaxation (reduced form): copos ADMM against CVXPY+SCS and CVXPY+Clarabel.

Run by hand::

    python benchmarks/lifted_dnn_solvers.py --n 25 50 100 200 --time-limit 1800
    python benchmarks/lifted_dnn_solvers.py --n 500 1000 --solvers admm

Every case runs in its own child process (``--child``); the parent reads the child's peak
resident memory from ``os.wait4`` (``ru_maxrss``) and kills it after ``--time-limit`` seconds.
Wall time is end to end inside the child (model building included, data loading excluded).
Writes ``benchmarks/results/lifted_dnn_solvers.csv`` (appending rows of new cases to existing
ones unless ``--fresh``) and a PNG plot if matplotlib is importable.

Columns: ``value`` final objective; ``rel_diff`` = (value - ref)/|ref| with ``ref`` the Clarabel
value where Clarabel ran, else the best certified ADMM lower bound and its value (``ref_kind``);
``lower_bound`` the certified lower bound (ADMM only; for CVXPY solvers the value is not
certified).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _harness import Column, as_float, format_table, last_json, pyplot, run_child, save_figure
from _harness import write_csv as write_table

RESULTS = Path(__file__).resolve().parent / "results"
CSV_PATH = RESULTS / "lifted_dnn_solvers.csv"
PNG_PATH = RESULTS / "lifted_dnn_solvers.png"
SOLVERS = (
    "admm",
    "admm-rms",
    "admm-1e-5",
    "admm-1e-6",
    "admm-dense",
    "admm-lobpcg",
    "scs-1e-4",
    "scs-1e-5",
    "scs-1e-6",
    "clarabel",
)
#: ``admm-rms``: the solver as it was before issue 14 (one scale, ``equilibrate="rms"``), run
#: beside ``admm`` (default ``equilibrate="auto"``) for before/after rows of one invocation.
ADMM_EQUILIBRATION = {"admm-rms": "rms"}
#: Variants of the splitting's internals (session 14), same iteration otherwise:
#: ``admm-dense`` solves with the dense Cholesky factor of TᵀT as before (two q×q triangular
#: solves per iteration), ``admm-lobpcg`` turns the warm-started LOBPCG projection on.
ADMM_VARIANTS = ("admm-dense", "admm-lobpcg")
#: Below this side q = n + d + c every child runs with one BLAS thread (faster there, for every solver).
ONE_THREAD_BELOW_Q = 800
CLARABEL_MAX_N = 100
FIELDS = [
    "data",
    "n",
    "d",
    "c",
    "solver",
    "status",
    "time_s",
    "peak_mb",
    "value",
    "lower_bound",
    "gap",
    "iterations",
    "rel_diff",
    "lb_rel_diff",
    "ref",
    "ref_kind",
    "threads",
]


# ------------------------------------------------------------------------------ problems
def make_problem(data: str, n: int, beta: float = 0.1) -> Any:
    """Planted (d = 20, c = 10) or digits (PCA-20 + bias, c = 10, train split subsampled to n)."""
    from copos.nets.datasets import planted, real
    from copos.nets.problem import TrainingProblem

    if data == "planted":
        return planted(n=n, d=20, c=10, seed=0, beta=beta)
    train, _ = real("digits", pca=20, beta=beta)
    if n > train.n:
        raise SystemExit(f"digits train split has only {train.n} samples")
    rows = np.sort(np.random.default_rng(0).choice(train.n, size=n, replace=False))
    return TrainingProblem(X=train.X[rows], Y=train.Y[rows], beta=beta, bias=True, name="digits")


# ------------------------------------------------------------------------------ child
def run_case(data: str, n: int, solver: str, time_limit: float) -> dict[str, Any]:
    """Solve one case in this process and return its row (without memory)."""
    problem = make_problem(data, n)
    start = time.perf_counter()
    if solver.startswith("admm"):
        from copos.solvers.admm.dnn import solve_lifted_dnn_admm

        suffix = solver.split("-", 1)[1] if "-" in solver else ""
        equilibrate = ADMM_EQUILIBRATION.get(solver, "auto")
        tol = 1e-4 if suffix in ("", "rms") or solver in ADMM_VARIANTS else float(suffix)
        _set_variant(solver)
        result = solve_lifted_dnn_admm(
            problem,
            tol=tol,
            max_iters=10**6,
            time_limit=time_limit,
            equilibrate=equilibrate,
            quiet=True,
        )
        row = {
            "status": result.status,
            "value": result.value,
            "lower_bound": result.lower_bound,
            "gap": result.gap,
            "iterations": result.iterations,
        }
    else:
        row = _run_cvxpy(problem, solver)
    row.update(time_s=time.perf_counter() - start, d=problem.d, c=problem.c)
    return row


def _set_variant(solver: str) -> None:
    """Switch this (child) process's splitting to the internals of ``solver`` (``ADMM_VARIANTS``)."""
    from copos.solvers.admm import dnn

    if solver == "admm-lobpcg":
        dnn._LOBPCG = True
    elif solver == "admm-dense":
        dnn.StructuredFactor = _DenseFactor  # type: ignore[misc]


class _DenseFactor:
    """The factor as before session 14: dense Cholesky of TᵀT, q×q triangular solves."""

    def __init__(self, X: Any, c: int) -> None:
        import scipy.linalg

        n, d = X.shape
        gram = np.zeros((n + d + c,) * 2)
        gram[:n, :n] = 2.0 * np.eye(n)
        gram[:n, n : n + d] = -X
        gram[n : n + d, :n] = -X.T
        gram[n : n + d, n : n + d] = np.eye(d) + X.T @ X
        gram[n + d :, n + d :] = np.eye(c)
        self.R = scipy.linalg.cholesky(gram, lower=False, check_finite=False)
        self.solve_triangular = scipy.linalg.solve_triangular

    def solve(self, B: Any) -> Any:
        return self.solve_triangular(self.R, B, check_finite=False)

    def congruence(self, K: Any) -> Any:
        half = self.solve_triangular(self.R, K, trans="T", check_finite=False)
        return self.solve_triangular(self.R, half.T, trans="T", check_finite=False)


def _run_cvxpy(problem: Any, solver: str) -> dict[str, Any]:
    """The reduced form exactly as ``solve_lifted_dnn(form="reduced")`` builds it."""
    import cvxpy as cp

    from copos.relaxations.lifted import (
        LiftedLayout,
        _primal_objective,
        _reduced_blocks,
        _sign_constraints,
    )
    from copos.solvers import solve

    layout = LiftedLayout.from_problem(problem)
    _, blocks = _reduced_blocks(layout)
    constraints = [*blocks.constraints, *_sign_constraints(layout, blocks.ab)]
    program = cp.Problem(cp.Minimize(_primal_objective(blocks, problem)), constraints)
    if solver == "clarabel":
        info = solve(program, solver="clarabel")
    else:
        eps = float(solver.split("-", 1)[1])
        info = solve(program, solver="scs", eps_abs=eps, eps_rel=eps, max_iters=10**6)
    value = float(program.value) if program.value is not None else float("nan")
    return {
        "status": info.status,
        "value": value,
        "lower_bound": float("nan"),
        "gap": float("nan"),
        "iterations": info.iterations,
    }


# ------------------------------------------------------------------------------ parent
def spawn(data: str, n: int, solver: str, time_limit: float) -> dict[str, Any]:
    """Run one case in a child; add ``peak_mb`` (ru_maxrss of the child) and handle time-outs."""
    threads = "1" if n + 31 < ONE_THREAD_BELOW_Q else "all"  # q = n + d + c, d + c <= 31 here
    run = run_child(
        __file__,
        [data, n, solver, time_limit],
        time_limit + 60.0,
        threads=1 if threads == "1" else None,
    )
    row: dict[str, Any] = {
        "data": data,
        "n": n,
        "solver": solver,
        "peak_mb": run.peak_mb,
        "threads": threads,
    }
    last = last_json(run.stdout)
    if run.timed_out:
        row.update(status="killed_time_limit", time_s=run.wall_s)
    elif run.returncode != 0 or not last:
        row.update(
            status=f"error rc={run.returncode}: {run.stderr.strip()[-200:]}", time_s=run.wall_s
        )
    else:
        row.update(last)
    return row


def add_references(rows: list[dict[str, Any]]) -> None:
    """``ref``: Clarabel's value where it finished, else the largest certified ADMM lower bound.

    ``rel_diff`` = (value - ref)/|ref| and ``lb_rel_diff`` = (ref - lower_bound)/|ref|; a
    certified lower bound as ``ref`` is itself below the optimum, so there ``rel_diff`` of an
    accurate value is slightly positive.
    """
    for r in rows:
        r["ref"], r["ref_kind"], r["rel_diff"], r["lb_rel_diff"] = (
            float("nan"),
            "",
            float("nan"),
            float("nan"),
        )
    for key in {(r["data"], r["n"]) for r in rows}:
        case = [r for r in rows if (r["data"], r["n"]) == key]
        clarabel = [r for r in case if r["solver"] == "clarabel" and r.get("status") == "optimal"]
        certified = [
            r for r in case if str(r["solver"]).startswith("admm") and _finite(r.get("lower_bound"))
        ]
        if clarabel:
            ref, kind = float(clarabel[0]["value"]), "clarabel"
        elif certified:
            best = max(certified, key=lambda r: float(r["lower_bound"]))
            ref, kind = (
                float(best["lower_bound"]),
                f"lower bound of {best['solver']} (gap {float(best['gap']):.1e})",
            )
        else:
            continue
        for r in case:
            r["ref"], r["ref_kind"] = ref, kind
            if _finite(r.get("value")):
                r["rel_diff"] = (float(r["value"]) - ref) / max(abs(ref), 1e-12)
            if _finite(r.get("lower_bound")):
                r["lb_rel_diff"] = (ref - float(r["lower_bound"])) / max(abs(ref), 1e-12)


def _finite(value: Any) -> bool:
    return as_float(value) is not None


def write_csv(rows: list[dict[str, Any]], fresh: bool) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    old: list[dict[str, Any]] = []
    if CSV_PATH.exists() and not fresh:
        with CSV_PATH.open() as handle:
            keys = {(r["data"], r["n"], r["solver"]) for r in rows}
            old = [
                r
                for r in csv.DictReader(handle)
                if (r["data"], int(r["n"]), r["solver"]) not in keys
            ]
    write_table(CSV_PATH, [*old, *rows], FIELDS)


def _number(key: str) -> Callable[[dict[str, Any]], float | None]:
    """Cell getter: the finite number under ``key`` (also read back from the CSV), else None."""
    return lambda row: as_float(row.get(key))


TABLE = [
    Column("data", 8, "<"),
    Column("n", 5),
    Column("solver", 10, "<"),
    Column("status", 18, "<", get=lambda row: str(row.get("status"))[:18]),
    Column("time_s", 9, spec=".1f", get=_number("time_s")),
    Column("peak_MB", 8, spec=".0f", get=_number("peak_mb")),
    Column("value", 13, spec=".6g", get=_number("value")),
    Column("lower_bd", 13, spec=".6g", get=_number("lower_bound")),
    Column("gap", 9, spec=".1e", get=_number("gap")),
    Column("iters", 7, get=lambda row: str(row.get("iterations", "")), missing=""),
    Column("rel_diff", 9, spec=".1e", get=_number("rel_diff")),
    Column("lb_rel", 9, spec=".1e", get=_number("lb_rel_diff")),
]


def print_table(rows: list[dict[str, Any]]) -> None:
    print(format_table(TABLE, rows, rule=False))


def plot(rows: list[dict[str, Any]]) -> None:
    plt = pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, data in zip(axes, ("planted", "digits"), strict=True):
        for solver in SOLVERS:
            points = sorted(
                (int(r["n"]), float(r["time_s"]))
                for r in rows
                if r["data"] == data
                and r["solver"] == solver
                and _finite(r.get("time_s"))
                and r.get("status") == "optimal"  # unfinished runs would look like results
            )
            if points:
                ax.loglog(*zip(*points, strict=True), marker="o", label=solver)
        ax.set_title(f"{data}: end-to-end time (finished runs)")
        ax.set_xlabel("n")
        ax.set_ylabel("seconds")
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    save_figure(fig, PNG_PATH)


def main(argv: list[str] | None = None) -> None:
    global CSV_PATH, PNG_PATH
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[25, 50, 100, 200, 500, 1000])
    parser.add_argument("--data", nargs="+", default=["planted", "digits"])
    parser.add_argument(
        "--solvers", nargs="+", default=["admm", "scs-1e-4", "scs-1e-6", "clarabel"]
    )
    parser.add_argument("--time-limit", type=float, default=1800.0)
    parser.add_argument("--fresh", action="store_true", help="overwrite the CSV instead of merging")
    parser.add_argument("--csv", type=Path, default=None, help=f"CSV to write (default {CSV_PATH})")
    parser.add_argument(
        "--from-csv", action="store_true", help="only re-read the CSV: table + plot"
    )
    args = parser.parse_args(argv)
    if args.csv is not None:
        CSV_PATH, PNG_PATH = args.csv, args.csv.with_suffix(".png")
    if args.from_csv:
        with CSV_PATH.open() as handle:
            rows = [{**r, "n": int(r["n"])} for r in csv.DictReader(handle)]
        add_references(rows)
        print_table(rows)
        write_csv(rows, fresh=True)
        plot(rows)
        return
    rows = []
    for data in args.data:
        for n in args.n:
            for solver in args.solvers:
                if solver == "clarabel" and n > CLARABEL_MAX_N:
                    continue
                row = spawn(data, n, solver, args.time_limit)
                rows.append(row)
                print(
                    json.dumps(
                        {
                            k: row.get(k)
                            for k in ("data", "n", "solver", "status", "time_s", "value")
                        }
                    ),
                    flush=True,
                )
    add_references(rows)
    print_table(rows)
    write_csv(rows, args.fresh)
    with CSV_PATH.open() as handle:
        plot([{**r, "n": int(r["n"])} for r in csv.DictReader(handle)])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, data_arg, n_arg, solver_arg, limit_arg = sys.argv
        print(json.dumps(run_case(data_arg, int(n_arg), solver_arg, float(limit_arg))))
    else:
        main()
