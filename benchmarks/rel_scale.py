#!/usr/bin/env python
r"""Benchmark: REL over every activation pattern at scale (copos's working set) vs CVXPY + Clarabel.

Cases (each in its own child process under a wall-clock limit, side by side in one run):

* ``spiral``: ``copos.nets.datasets.spiral(bias=False)`` (n = 60, d = 2, c = 3, 114 patterns)
  at β = 0.1 and 0.01: :func:`copos.certificates.rel_working_set.rel_working_set`
  (``copos-rel``) against :func:`copos.relaxations.rel.solve_rel` with Clarabel over the whole
  enumeration (``clarabel``: the net recovered from its blocks,
  :func:`copos.recovery.cp_factor.recover_from_rel`, gives ``upper``; ``lower`` is the larger of
  its dual candidate Z scaled and checked after the solve and the recovered net's certificate);
* ``iris``: the training split of ``real("iris", bias=False)`` (n = 112, rank 4, about 4.6e5
  patterns; none is enumerated: pricing by the branch and bound of
  :func:`copos.certificates.dual_norm.dual_norm`);
* ``planted:K``: instance ``K`` of ``../shared/data/planted_authors_100.npz`` (n = 25, d = 2,
  c = 5) at each β (``copos-rel``, and ``clarabel`` with ``--clarabel``); with ``--lifted``
  also ``lifted-read``: the lifted DNN's value and the net read off its :math:`\Lambda`
  (:func:`copos.relaxations.read_off.read_off_lifted`).

Every ``copos-rel`` and ``clarabel`` row is a proven bracket ``lower <= p* <= upper`` (``lower`` from the
certificate's :math:`L(Z)` with a proven :math:`\sigma`, ``upper`` a real net read off the REL
blocks and polished); ``rel_gap = (upper - lower)/max(1, |upper|)``.

Usage::

    python benchmarks/rel_scale.py [--cases spiral,iris,planted] [--planted 20]
        [--clarabel] [--no-working-set] [--lifted] [--max-seconds S] [--iris-seconds S]
        [--csv PATH]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _harness import Column, format_table, outcome_row, run_child, write_results

HERE = Path(__file__).resolve().parent
DEFAULT_CSV = HERE / "results" / "rel_scale.csv"
PLANTED = HERE.parent.parent / "shared" / "data" / "planted_authors_100.npz"
COLUMNS = [
    "case",
    "beta",
    "method",
    "status",
    "time_s",
    "patterns",
    "rounds",
    "lower",
    "upper",
    "rel_gap",
    "proven",
    "complete",
    "rel_value",
    "note",
]


def _problem(case: str, beta: float):
    import numpy as np

    from copos.nets.datasets import real, spiral
    from copos.nets.problem import TrainingProblem

    if case == "spiral":
        return spiral(bias=False, beta=beta)
    if case == "iris":
        return real("iris", bias=False, beta=beta)[0]
    index = int(case.split(":")[1])
    data = np.load(PLANTED)
    return TrainingProblem(X=data["X"][index], Y=data["Y"][index], beta=beta, bias=False)


def _child(case: str, beta: float, method: str, seconds: float) -> dict:
    problem = _problem(case, beta)
    row: dict = {"case": case, "beta": beta, "method": method}
    start = time.perf_counter()
    if method == "clarabel":
        return _clarabel(problem, row, start)
    if method == "lifted-read":
        return _lifted_read(problem, row, start)
    from copos.certificates.rel_working_set import rel_working_set

    result = rel_working_set(problem, eps=1e-6, time_limit=seconds, max_rounds=200)
    row.update(
        status="proven" if result.proven else "open",
        time_s=time.perf_counter() - start,
        patterns=len(result.patterns),
        rounds=len(result.rounds),
        lower=result.lower.value,
        upper=result.upper.value,
        rel_gap=result.relative_gap,
        proven=result.proven,
        complete=result.complete,
        rel_value=result.rel.value,
        note=f"lower {result.lower.rigour}; net width {result.net.m}",
    )
    return row


def _clarabel(problem, row: dict, start: float) -> dict:
    """REL over the whole enumeration by CVXPY + Clarabel and the net recovered from its blocks
    (upper, a real network); lower: the larger of REL's Z scaled and checked after the solve and
    the recovered net's certificate (both rigorous)."""
    from copos.certificates.certify import certify, checked_lower_bound
    from copos.nets.architectures.dense import TwoLayerReLU
    from copos.recovery.cp_factor import recover_from_rel
    from copos.relaxations.rel import solve_rel

    result = solve_rel(problem, solver="clarabel")
    solved = time.perf_counter() - start
    checked = checked_lower_bound(result.Z, problem, solver="clarabel")
    recovery = recover_from_rel(result, problem)
    net = TwoLayerReLU(recovery.U, recovery.V)
    certificate = certify(net, problem, solver="clarabel", lifted="never")
    lower = max(checked.value, certificate.lower_bound)
    row.update(
        status=result.solve.status,
        time_s=time.perf_counter() - start,
        patterns=len(result.arrangements),
        lower=lower,
        upper=recovery.objective,
        rel_gap=(recovery.objective - lower) / max(1.0, abs(recovery.objective)),
        proven=checked.rigorous and certificate.proven,
        complete=result.arrangements.complete,
        rel_value=result.value,
        note=f"solve {solved:.1f} s, accurate={result.solve.accurate}; lower: REL's Z checked "
        f"{checked.value:.10g}, the recovered net's certificate {certificate.lower_bound:.10g}"
        f"{' (witness: not optimal)' if certificate.witness else ''}; "
        f"recovered m={recovery.num_neurons}: {recovery.message[-90:]}",
    )
    return row


def _lifted_read(problem, row: dict, start: float) -> dict:
    """The lifted DNN (its value: lower) and the net read off its Lambda (upper)."""
    from copos.relaxations.lifted import solve_lifted_dnn
    from copos.relaxations.read_off import read_off_lifted

    lifted = solve_lifted_dnn(problem)
    read = read_off_lifted(lifted.Lambda, problem)
    row.update(
        status=lifted.solve.status,
        time_s=time.perf_counter() - start,
        patterns=len(read.candidates),
        lower=lifted.bound.value if lifted.bound.kind == "lower" else None,
        upper=read.bound.value,
        rel_gap=(read.bound.value - lifted.bound.value) / max(1.0, abs(read.bound.value)),
        note=f"DNN {lifted.bound.kind}; {read.bound.method}",
    )
    return row


def run_case(case: str, beta: float, method: str, max_seconds: float) -> dict:
    """One case in a child process; the solver stops rounds at 90 % of the wall limit."""
    run = run_child(__file__, [case, beta, method, 0.9 * max_seconds], max_seconds)
    return outcome_row(run, {"case": case, "beta": beta, "method": method}, max_seconds)


def _columns() -> list[Column]:
    return [
        Column("case", 10, "<"),
        Column("beta", 5, spec=".6g"),
        Column("method", 9, "<"),
        Column("status", 8, "<"),
        Column("time_s", 8, spec=".1f"),
        Column("patterns", 8),
        Column("lower", 13, spec=".10g"),
        Column("upper", 13, spec=".10g"),
        Column("rel_gap", 8, spec=".1e"),
        Column("rel_value", 13, spec=".10g"),
    ]


def _cases(args: argparse.Namespace) -> list[tuple[str, float, str, float]]:
    wanted = args.cases.split(",")
    methods = [] if args.no_working_set else ["copos-rel"]
    methods += ["clarabel"] if args.clarabel else []
    planted_methods = methods + (["lifted-read"] if args.lifted else [])
    cases: list[tuple[str, float, str, float]] = []
    if "spiral" in wanted:
        cases += [("spiral", beta, m, args.max_seconds) for beta in (0.1, 0.01) for m in methods]
    if "planted" in wanted:
        for index in range(args.planted):
            for beta in (0.1, 0.01):
                cases += [(f"planted:{index}", beta, m, args.max_seconds) for m in planted_methods]
    if "iris" in wanted and not args.no_working_set:
        cases.append(("iris", 0.1, "copos-rel", args.iris_seconds))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=4, metavar=("CASE", "BETA", "METHOD", "SECONDS"))
    parser.add_argument("--cases", default="spiral,iris,planted")
    parser.add_argument("--planted", type=int, default=20)
    parser.add_argument(
        "--clarabel",
        action="store_true",
        help="also CVXPY + Clarabel REL (its checked Z: lower; its recovered net: upper)",
    )
    parser.add_argument(
        "--no-working-set", action="store_true", help="skip copos's working-set REL (copos-rel)"
    )
    parser.add_argument(
        "--lifted", action="store_true", help="also the net read off the lifted DNN"
    )
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--iris-seconds", type=float, default=1800.0)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args()
    if args.child:
        case, beta, method, seconds = args.child
        print(json.dumps(_child(case, float(beta), method, float(seconds))))
        return
    rows = []
    for case, beta, method, seconds in _cases(args):
        rows.append(run_case(case, beta, method, seconds))
        print(format_table(_columns(), rows[-1:]), flush=True)
    print(format_table(_columns(), rows))
    write_results(args.csv, rows, COLUMNS)


if __name__ == "__main__":
    main()
