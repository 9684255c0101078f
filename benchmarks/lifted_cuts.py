#!/usr/bin/env python
r"""Benchmark: the lifted DNN relaxation tightened by valid cuts, against p* from REL.

Instances:

* ``spiral``: :func:`copos.nets.datasets.spiral` with ``bias=False`` (n = 60, d = 2, c = 3; the
  spiral of ``benchmarks/rel_spiral.py`` and of the issue's table), at the given betas;
* ``planted:K``: instance ``K`` of the paper's planted data
  (``../shared/data/planted_authors_100.npz``, n = 25, d = 2, c = 5), read by
  :func:`copos.study.paper_data.load_paper`.

For each instance and beta, in a child process under a wall-clock limit:

* ``p*``: :func:`copos.relaxations.rel.solve_rel` over the complete arrangements (rank 2: REL is
  exact here) and the network :func:`copos.recovery.cp_factor.recover_from_rel` reads off it;
  for the spiral, the values proven by ``rel_scale.py`` (:data:`PROVEN_P_STAR`) unless
  ``--spiral-rel``.
  ``rel`` (REL's value) and ``p_up`` (the recovered net's objective, an upper bound on p*) are
  both reported; gaps are measured against ``p_up`` (so they can only overstate a gap);
* ``dnn``: round 0 of :func:`copos.relaxations.lifted_cuts.solve_lifted_cuts`, the reduced DNN by
  Clarabel, certified from its dual point; ``dnn_s`` its solve time; ``admm_s`` the time of
  copos's own DNN solver (``copos-admm``, default tol 1e-4) on the same problem, for reference;
* ``cuts``: the certified bound after the rounds; ``ratio`` = total time of the rounds / ``dnn_s``.
* ``--routes clarabel,copos-admm``: each run by each route, side by side in one child
  (``solver`` column): ``clarabel`` solves every round from scratch through CVXPY;
  ``copos-admm`` puts the cuts into copos's own splitting, warm-started between rounds, at most
  ``--admm-iterations`` iterations per round (``dnn_s`` is then its own round 0, not a converged
  DNN); ``copos-admm@I+clarabel``: the splitting's rounds select the cuts, the last round is
  one Clarabel solve with those of them left active (``final_solver``); ``ratio_ref`` = the
  route's total time / ``clarabel_dnn_s``, the time of one Clarabel DNN solve in the same child
  (the issue's "DNN's time"); ``clarabel_dnn`` its certified bound.

Targets of issue 12: ``cuts`` within 1 % of p*, within 3x the DNN's time.

Usage::

    python benchmarks/lifted_cuts.py [--spiral-betas 0.1,0.01] [--planted 20]
        [--planted-betas 0.1,0.01] [--families subadditive,pairs,subadditive+pairs]
        [--spiral-families subadditive+pairs] [--rounds 5] [--max-seconds S] [--csv PATH]

``--families`` lists the runs per instance, each a ``+``-joined set of families (so the table
says which family closes what), optionally ``@RxP``: ``R`` rounds of at most ``P`` cuts per
family (default ``--rounds`` x 400); REL and ``copos-admm`` run once per instance.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import time
from pathlib import Path

from _harness import Column, format_table, json_lines, outcome_row, run_child, write_results

HERE = Path(__file__).resolve().parent
DEFAULT_CSV = HERE / "results" / "lifted_cuts.csv"
DATA_DIR = HERE.parent.parent / "shared" / "data"

#: p* of the spiral (no bias), proven to 5e-14 / 5e-11 relative by the working-set REL's
#: bracket (``rel_scale.py``, benchmarks/README.md); used instead of a Clarabel REL solve unless
#: ``--spiral-rel`` (the upper end of the bracket, so gaps are never understated).
PROVEN_P_STAR: dict[tuple[str, float], float] = {
    ("spiral", 0.1): 17.37105256,
    ("spiral", 0.01): 16.10139511,
}

COLUMNS = [
    "instance",
    "beta",
    "families",
    "status",
    "rel",
    "p_up",
    "p_star",
    "dnn",
    "cuts",
    "gap_dnn",
    "gap_cuts",
    "closes",
    "rounds",
    "n_cuts",
    "dnn_s",
    "cuts_s",
    "ratio",
    "round_1pct",
    "ratio_1pct",
    "admm_s",
    "solver",
    "ratio_ref",
    "clarabel_dnn",
    "clarabel_dnn_s",
    "iterations",
    "rel_s",
    "by_round",
    "by_round_s",
    "note",
]


def _problem(instance: str, beta: float):
    from copos.nets.datasets import spiral
    from copos.nets.problem import TrainingProblem
    from copos.study.paper_data import load_paper

    if instance == "spiral":
        return spiral(bias=False, beta=beta)
    X, Y = load_paper("planted", str(DATA_DIR), int(instance.split(":", 1)[1]))
    return TrainingProblem.from_data(X, Y, beta, name=instance)


def _child(instance: str, beta: float, families: str, rounds: int, admm: bool, routes: str) -> None:
    """Run one instance in this process: print a JSON row per run of ``families`` (``,``-separated);
    ``admm``: also time ``copos-admm`` on the DNN."""
    from copos.recovery.cp_factor import recover_from_rel
    from copos.relaxations.lifted import solve_lifted_dnn
    from copos.relaxations.lifted_cuts import solve_lifted_cuts
    from copos.relaxations.rel import solve_rel

    problem = _problem(instance, beta)
    if (instance, beta) in PROVEN_P_STAR:
        reference: dict = {
            "p_up": PROVEN_P_STAR[instance, beta],
            "note": "p* proven by rel_scale.py",
        }
    else:
        start = time.perf_counter()
        rel = solve_rel(problem)
        reference = {"rel_s": time.perf_counter() - start, "rel": rel.value}
        reference["p_up"] = recover_from_rel(rel, problem).objective
    if admm:
        start = time.perf_counter()
        solve_lifted_dnn(problem, solver="copos-admm", quiet=True)
        reference["admm_s"] = time.perf_counter() - start
    start = time.perf_counter()
    clarabel_dnn = solve_lifted_cuts(problem, rounds=0, solver="CLARABEL")
    reference["clarabel_dnn_s"] = clarabel_dnn_s = time.perf_counter() - start
    for run in families.split(","):
        for route in routes.split(","):
            base, _, final = route.partition("+")
            solver, _, admm_iterations = base.partition("@")
            row: dict = {"instance": instance, "beta": beta, "families": run, **reference}
            start = time.perf_counter()
            names, _, budget = run.partition("@")
            run_rounds, per_round = (int(v) for v in budget.split("x")) if budget else (rounds, 400)
            options = {"solver": "CLARABEL" if solver == "clarabel" else solver}
            if admm_iterations:
                options["admm_iterations"] = int(admm_iterations)
            if final:
                options["final_solver"] = "CLARABEL" if final == "clarabel" else final
            result = solve_lifted_cuts(
                problem,
                families=tuple(names.split("+")),
                rounds=run_rounds,
                per_round=per_round,
                **options,
            )
            cuts_s = time.perf_counter() - start
            row.update(
                solver=route,
                ratio_ref=cuts_s / clarabel_dnn_s,
                clarabel_dnn=clarabel_dnn.value,
                iterations=" ".join(str(r.iterations) for r in result.rounds),
            )
            row.update(
                dnn=result.dnn_value,
                cuts=result.value,
                rounds=len(result.rounds) - 1,
                n_cuts=len(result.cuts),
                dnn_s=result.rounds[0].solve_time,
                cuts_s=cuts_s,
                ratio=cuts_s / result.rounds[0].solve_time,
                by_round=" ".join(f"{r.bound:.6g}" for r in result.rounds),
                by_round_s=" ".join(f"{t:.2f}" for t in _cumulative(result.rounds)),
            )
            print(json.dumps(_derived(row)), flush=True)


def _derived(row: dict) -> dict:
    """``row`` with its gaps, the share of the DNN gap closed, the first round within 1 % of p*
    and its time ratio, all against ``p_star`` = REL's value where REL ran (the issue's "exact
    p* from REL"), else the proven ``p_up``; status ``INVALID`` if a bound exceeds ``p_up``.
    The DNN's bound and time are Clarabel's (``clarabel_dnn``, ``clarabel_dnn_s``) where
    measured, so that every route is compared with the same DNN."""
    p_star = float(row["rel"]) if row.get("rel") not in (None, "") else float(row["p_up"])
    dnn = float(row.get("clarabel_dnn") or row["dnn"])
    dnn_s = float(row.get("clarabel_dnn_s") or row["dnn_s"])
    cuts, p_up = float(row["cuts"]), float(row["p_up"])
    bounds = [float(v) for v in str(row["by_round"]).split()]
    times = [float(v) for v in str(row.get("by_round_s") or "").split()]
    within = [i for i, b in enumerate(bounds) if p_star - b <= 0.01 * abs(p_star)]
    first = within[0] if within else None
    return {
        **row,
        "p_star": p_star,
        "gap_dnn": (p_star - dnn) / p_star,
        "gap_cuts": (p_star - cuts) / p_star,
        "closes": (cuts - dnn) / max(p_star - dnn, 1e-300),
        "round_1pct": "" if first is None else first,
        "ratio_1pct": "" if first is None or not times else times[first] / dnn_s,
        "status": "done" if cuts <= p_up * (1 + 1e-6) else "INVALID",
    }


def _cumulative(rounds: list) -> list[float]:
    """Seconds from the start to the end of each round's solve (separation of earlier rounds
    included)."""
    elapsed, out = 0.0, []
    for r in rounds:
        out.append(elapsed + r.solve_time)
        elapsed += r.time
    return out


def run_case(
    instance: str,
    beta: float,
    families: str,
    rounds: int,
    max_seconds: float,
    source: str,
    admm: bool,
    routes: str = "clarabel",
) -> list[dict]:
    """Run one instance in a child process under a wall-clock limit: one row per run.

    ``source`` is ``"rel"`` (p* from REL) or ``"proven"`` (:data:`PROVEN_P_STAR` where known);
    ``admm``: also time ``copos-admm`` on the DNN.
    """
    args = [instance, beta, families, rounds, source, "admm" if admm else "-", routes]
    run = run_child(__file__, args, max_seconds, threads=1)
    rows = json_lines(run.stdout)
    if run.timed_out or run.returncode != 0 or not rows:
        base = {"instance": instance, "beta": beta, "families": families}
        rows.append(outcome_row(run, base, max_seconds, time_key="cuts_s"))
    return rows


def _table() -> list[Column]:
    return [
        Column("instance", 10, "<"),
        Column("beta", 5, spec=".6g"),
        Column("families", 19, "<"),
        Column("solver", 15, "<"),
        Column("status", 7, "<"),
        Column("p_star", 10, spec=".7g"),
        Column("dnn", 10, spec=".7g"),
        Column("cuts", 10, spec=".7g"),
        Column("gap_dnn", 8, spec=".2%"),
        Column("gap_cuts", 8, spec=".2%"),
        Column("closes", 7, spec=".1%"),
        Column("rounds", 6),
        Column("n_cuts", 6),
        Column("dnn_s", 7, spec=".2f"),
        Column("cuts_s", 8, spec=".2f"),
        Column("ratio", 6, spec=".1f"),
        Column("round_1pct", 10),
        Column("ratio_1pct", 10, spec=".1f"),
        Column("admm_s", 7, spec=".2f"),
        Column("ratio_ref", 9, spec=".1f"),
    ]


def _summary(rows: list[dict]) -> str:
    """Mean gaps and ratios over the planted rows, per beta and families."""
    lines = []
    groups = sorted(
        {(r["beta"], r["families"], r.get("solver", "")) for r in rows if r["instance"] != "spiral"}
    )
    for beta, families, solver in groups:
        done = [
            r
            for r in rows
            if r["instance"] != "spiral"
            and (r["beta"], r["families"], r.get("solver", "")) == (beta, families, solver)
            and isinstance(r.get("gap_cuts"), float)
        ]
        if not done:
            continue
        keys = ("gap_dnn", "gap_cuts", "closes", "ratio")
        mean = {k: sum(r[k] for r in done) / len(done) for k in keys}
        if all(isinstance(r.get("ratio_ref"), float) for r in done):
            mean["ratio"] = sum(r["ratio_ref"] for r in done) / len(done)  # vs Clarabel's DNN
        within = sum(r["gap_cuts"] <= 0.01 for r in done)
        lines.append(
            f"planted beta={beta:g} {families} {solver}: {len(done)} instances, mean gap "
            f"{mean['gap_dnn']:.2%} -> {mean['gap_cuts']:.2%} (closes {mean['closes']:.1%}), "
            f"max gap after "
            f"{max(r['gap_cuts'] for r in done):.2%}, within 1 %: {within}/{len(done)}, "
            f"mean time ratio {mean['ratio']:.1f}x"
        )
    return "\n".join(lines)


def _read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _typed(row: dict) -> dict:
    """A CSV row with its numbers as numbers (empty cells dropped)."""
    out: dict = {}
    for key, value in row.items():
        if value in (None, ""):
            continue
        try:
            out[key] = int(value) if key in ("rounds", "n_cuts") else float(value)
        except ValueError:
            out[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=7, help=argparse.SUPPRESS)
    parser.add_argument("--spiral-betas", default="0.1,0.01")
    parser.add_argument("--planted", type=int, default=20, help="N planted instances")
    parser.add_argument("--planted-from", type=int, default=0, help="the first one")
    parser.add_argument("--planted-betas", default="0.1,0.01")
    parser.add_argument(
        "--families", default="subadditive,pairs,subadditive+pairs", help="runs on planted"
    )
    parser.add_argument(
        "--spiral-families",
        default="subadditive+pairs,subadditive+pairs@1x1500",
        help="runs on spiral",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--spiral-rel", action="store_true", help="p* of the spiral from REL")
    parser.add_argument("--no-admm", action="store_true", help="do not time copos-admm")
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    parser.add_argument(
        "--routes",
        default="clarabel",
        help=(
            "comma-separated: clarabel, copos-admm[@ITERATIONS per round][+clarabel: the last "
            "round by Clarabel] (side by side)"
        ),
    )
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--summarize", nargs="+", type=Path, help="merge these CSVs, then stop")
    args = parser.parse_args(argv)
    if args.summarize:
        rows = [_derived(_typed(r)) for path in args.summarize for r in _read_csv(path)]
        print(format_table(_table(), rows))
        print(_summary(rows))
        write_results(args.csv, rows, COLUMNS)
        return 0
    if args.child:
        instance, beta, families, rounds, source, admm, routes = args.child
        if source == "rel":
            PROVEN_P_STAR.clear()
        _child(instance, float(beta), families, int(rounds), admm == "admm", routes)
        return 0

    cases = [("spiral", float(b), args.spiral_families) for b in args.spiral_betas.split(",") if b]
    cases += [
        (f"planted:{k}", float(b), args.families)
        for b in args.planted_betas.split(",")
        if b
        for k in range(args.planted_from, args.planted_from + args.planted)
    ]
    print(
        f"lifted DNN + cuts (rounds {args.rounds}); python {platform.python_version()}, "
        f"1 thread, limit {args.max_seconds:g} s per instance",
        flush=True,
    )
    rows: list[dict] = []
    for instance, beta, families in cases:
        source = "rel" if args.spiral_rel else "proven"
        case = (
            instance,
            beta,
            families,
            args.rounds,
            args.max_seconds,
            source,
            not args.no_admm,
            args.routes,
        )
        for row in run_case(*case):
            rows.append(row)
            print(
                f"  {instance} beta={beta:g} {row.get('families')}: {row.get('status')} "
                f"dnn {row.get('dnn')} cuts {row.get('cuts')} p_up {row.get('p_up')} "
                f"in {row.get('cuts_s', float('nan')):.1f} s",
                flush=True,
            )
        write_results(args.csv, rows, COLUMNS)
    print(format_table(_table(), rows))
    print(_summary(rows))
    write_results(
        args.csv,
        rows,
        COLUMNS,
        note_label=lambda row: (
            f"{row['instance']} beta={row['beta']:g} {row['families']} {row.get('solver', '')}"
        ),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
