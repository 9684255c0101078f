#!/usr/bin/env python
r"""Benchmark: Parrilo's K^1 with the sign-symmetric block Gram matrix vs one full Gram matrix.

Both formulations describe the same cone K^1 (``copos.cones.Parrilo(n, 1, gram=...)``):

* ``gram="blocks"``: n PSD blocks of size n plus C(n, 3) nonnegative scalars;
* ``gram="full"``:   one PSD Gram matrix of size C(n + 2, 3) over all degree-3 monomials.

Cases
-----
* ``horn``   min{t : H + tI in K^1} for the 5x5 Horn matrix (known value 0);
* ``c12``    theta^(1)(C12) = min{lam : lam(I + A) - J in K^1}, an UPPER bound on alpha = 6;
* ``gnp20``  theta^(1) of ``nx.gnp_random_graph(20, 0.3, seed=1)``;
* ``gnp30``  theta^(1) of ``nx.gnp_random_graph(30, 0.3, seed=2)``.

Every (case, gram) pair runs in its own child process (this file with ``--child``) under an
address-space cap (``RLIMIT_AS``, default 16 GB) and a wall-clock limit (default 600 s), so a
formulation that is too large is reported as ``timeout`` or ``out of memory`` instead of taking
the benchmark down.  Peak memory is the child's maximum resident set size, read with
``os.wait4`` (``ru_maxrss`` of that one child, also for killed children); it includes the
interpreter and the imports (see the ``baseline`` row).

Timings (wall clock, seconds):

* ``build``   copos model construction: index structures + cvxpy expressions and constraints;
* ``compile`` cvxpy canonicalization (``problem.get_problem_data``, timed on its own);
* ``solver``  time reported by the solver (``problem.solver_stats.solve_time``);
* ``check``   copos's after-solve residual checks (CSV only);
* ``total``   the whole case inside the child (imports excluded).

Usage::

    python benchmarks/k1_blocks_vs_full.py [--max-seconds S] [--mem-gb G] [--solver clarabel|scs]
                                           [--cases horn,c12,gnp20,gnp30] [--csv PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import time
from pathlib import Path

from _harness import Column, fmt, format_table, json_lines, run_child, stderr_tail, write_results

HERE = Path(__file__).resolve().parent
DEFAULT_CSV = HERE / "results" / "k1_blocks_vs_full.csv"

#: name -> (description, number of nodes / matrix size)
CASES: dict[str, tuple[str, int]] = {
    "horn": ("Horn margin min{t: H+tI in K^1}", 5),
    "c12": ("theta1(C12), cycle_graph(12)", 12),
    "gnp20": ("theta1(G(20,0.3), seed=1)", 20),
    "gnp30": ("theta1(G(30,0.3), seed=2)", 30),
}
GRAMS = ("blocks", "full")

COLUMNS = [
    "case",
    "n",
    "gram",
    "psd_blocks",
    "status",
    "value",
    "reference",
    "build_s",
    "compile_s",
    "solver_s",
    "check_s",
    "total_s",
    "peak_rss_mb",
    "solver",
    "note",
]


# --------------------------------------------------------------------------------------------
# child side
# --------------------------------------------------------------------------------------------
def _graph(case: str):
    import networkx as nx

    if case == "c12":
        return nx.cycle_graph(12)
    if case == "gnp20":
        return nx.gnp_random_graph(20, 0.3, seed=1)
    if case == "gnp30":
        return nx.gnp_random_graph(30, 0.3, seed=2)
    raise ValueError(case)


def _shape(n: int, gram: str) -> str:
    from math import comb

    if gram == "full":
        size = comb(n + 2, 3)
        return f"1 x {size}x{size}"
    return f"{n} x {n}x{n} + {comb(n, 3)} scalars"


def _run_child(case: str, gram: str, solver: str) -> None:
    """Run one case and print JSON lines (progress, then the result) to stdout."""

    def report(**fields: object) -> None:
        print(json.dumps(fields), flush=True)

    report(phase="import")
    if case == "baseline":
        import cvxpy  # noqa: F401

        import copos.programs  # noqa: F401

        report(phase="done", status="ok")
        return

    import cvxpy as cp
    import numpy as np

    from copos.cones import Parrilo
    from copos.programs import exact_stability_number, stability_program
    from copos.solvers.cvxpy_backend import CVXPY_SOLVERS, solve

    start = time.perf_counter()
    try:
        report(phase="build")
        if case == "horn":
            n = 5
            idx = np.arange(n)
            dist = np.minimum((idx[:, None] - idx[None, :]) % n, (idx[None, :] - idx[:, None]) % n)
            H = np.where(dist == 0, 1.0, np.where(dist == 1, -1.0, 1.0))
            reference = 0.0
            t = cp.Variable()
            cone = Parrilo(n, 1, gram=gram)
            problem = cp.Problem(cp.Minimize(t), cone.constraints(cp.Constant(H) + t * np.eye(n)))
        else:
            graph = _graph(case)
            reference = exact_stability_number(graph).value  # alpha(G) <= theta^(1)
            program = stability_program(graph)
            cone = Parrilo(program.n, 1, gram=gram)
            problem, _ = program.cvxpy_problem(cone)
        build = time.perf_counter() - start
        report(phase="compile", build_s=build)
        # Canonicalize once on its own clock; cvxpy caches the result, so the solve below
        # only re-applies it (its own compilation_time is then negligible).
        mark = time.perf_counter()
        problem.get_problem_data(CVXPY_SOLVERS[solver])
        compile_time = time.perf_counter() - mark
        report(phase="solve", build_s=build, compile_s=compile_time)
        info = solve(problem, solver)
        total = time.perf_counter() - start
        stats = problem.solver_stats
        solver_time = None if stats is None else stats.solve_time
        status = info.status
        if info.optimal and not info.accurate:
            status += " (residual check failed)"
        note = info.extra.get("message", "")[:120] if info.extra else ""
        report(
            phase="done",
            status=status,
            value=None if problem.value is None else float(problem.value),
            reference=reference,
            build_s=build,
            compile_s=compile_time,
            solver_s=solver_time,
            check_s=total - build - compile_time - info.solve_time,
            total_s=total,
            note=note,
        )
    except MemoryError:
        report(
            phase="done",
            status="out of memory",
            note="MemoryError in Python",
            total_s=time.perf_counter() - start,
        )


# --------------------------------------------------------------------------------------------
# parent side
# --------------------------------------------------------------------------------------------
def run_case(case: str, gram: str, solver: str, max_seconds: float, mem_gb: float) -> dict:
    """Run one case in a child process and return a row of the results table."""
    n = CASES[case][1] if case in CASES else 0
    row: dict[str, object] = {key: "" for key in COLUMNS}
    row.update(case=case, n=n or "", gram=gram, solver=solver)
    if case in CASES:
        row["psd_blocks"] = _shape(n, gram)
    run = run_child(__file__, [case, gram, "--solver", solver], max_seconds, memory_gb=mem_gb)
    row["peak_rss_mb"] = round(run.peak_mb, 1)
    lines, stderr, timed_out = json_lines(run.stdout), run.stderr, run.timed_out
    last = lines[-1] if lines else {}
    done = last.get("phase") == "done"
    for key in ("value", "reference", "build_s", "compile_s", "solver_s", "check_s", "total_s"):
        if key in last and last[key] is not None:
            row[key] = last[key]
    for line in lines:  # progress lines survive a crash or a kill
        for key in ("build_s", "compile_s"):
            if key in line and row[key] == "":
                row[key] = line[key]
    phase = last.get("phase", "start")
    if timed_out:
        row["status"] = "timeout"
        row["note"] = f"killed after {max_seconds:g} s during {phase}"
    elif done:
        row["status"] = last.get("status", "")
        row["note"] = last.get("note", "")
    else:
        code = run.returncode
        oom_words = (
            "memory allocation",
            "MemoryError",
            "std::bad_alloc",
            "Cannot allocate",
            "out of memory",
            "Unable to allocate",
        )
        if any(word in stderr for word in oom_words) or code == -signal.SIGKILL:
            row["status"] = "out of memory"
        else:
            row["status"] = "crashed"
        tail = stderr_tail(stderr, 120, default="")
        row["note"] = f"exit {code} during {phase}" + (f": {tail}" if tail else "")
    if row["total_s"] == "":
        row["total_s"] = round(run.wall_s, 2)
    return row


def _value(row: dict) -> str:
    value = row["value"]
    return f"{value:.7f}" if isinstance(value, float) else str(value)


TABLE = [
    Column("case", 8, "<"),
    Column("n", 3, missing=""),
    Column("gram", 7, "<"),
    Column("PSD blocks", 28, "<", key="psd_blocks", missing=""),
    Column("status", 14, "<"),
    Column("value", 12, get=_value, missing=""),
    Column("alpha/ref", 9, spec=".0f", key="reference", missing=""),
    Column("build[s]", 9, spec=".2f", key="build_s", missing=""),
    Column("compile[s]", 10, spec=".2f", key="compile_s", missing=""),
    Column("solver[s]", 9, spec=".2f", key="solver_s", missing=""),
    Column("total[s]", 9, spec=".2f", key="total_s", missing=""),
    Column("peakRSS[MB]", 11, spec=".0f", key="peak_rss_mb", missing=""),
    Column("note", 0, "<", missing="", gap="  "),
]


def format_rows(rows: list[dict]) -> str:
    return format_table(TABLE, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--max-seconds", type=float, default=600.0, help="wall-clock limit per case (default 600)"
    )
    parser.add_argument(
        "--mem-gb",
        type=float,
        default=16.0,
        help="address-space cap per case in GB, 0 for none (default 16)",
    )
    parser.add_argument("--solver", default="clarabel", choices=["clarabel", "scs"])
    parser.add_argument(
        "--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}"
    )
    parser.add_argument("--grams", default=",".join(GRAMS), help="blocks,full or one of them")
    parser.add_argument(
        "--csv", type=Path, default=DEFAULT_CSV, help=f"output CSV (default {DEFAULT_CSV})"
    )
    parser.add_argument("--child", nargs=2, metavar=("CASE", "GRAM"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        _run_child(args.child[0], args.child[1], args.solver)
        return 0

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    grams = [g.strip() for g in args.grams.split(",") if g.strip()]
    unknown = [c for c in cases if c not in CASES] + [g for g in grams if g not in GRAMS]
    if unknown:
        parser.error(f"unknown case/gram: {', '.join(unknown)}")

    print(
        f"# K^1 blocks vs full Gram | solver={args.solver} | limit {args.max_seconds:g} s, "
        f"{args.mem_gb:g} GB per case | {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        flush=True,
    )
    rows = [run_case("baseline", "-", args.solver, args.max_seconds, args.mem_gb)]
    rows[0].update(status="ok", note="python + import cvxpy, copos (memory floor)")
    for case in cases:
        for gram in grams:
            row = run_case(case, gram, args.solver, args.max_seconds, args.mem_gb)
            rows.append(row)
            print(
                f"  done {case}/{gram}: {row['status']} ({fmt(row['total_s'], '.2f')} s)",
                flush=True,
            )
    print()
    print(format_rows(rows))
    print()
    print(
        "value: theta^(1) (upper bound on alpha) for graphs, min t with H + tI in K^1 for horn; "
        "alpha/ref: exact alpha (graphs) or known value (horn)."
    )
    print(
        "peakRSS: ru_maxrss of the child process (os.wait4), interpreter and imports included; "
        "total for a killed or crashed case is the child's wall time, imports included."
    )
    write_results(args.csv, rows, COLUMNS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
