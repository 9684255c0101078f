"""The ``copos`` command.

``copos`` alone runs the main job on a built-in problem (the stability-number hierarchy of C5,
C7 and the Petersen graph); ``copos bound stability|stqp`` bounds one instance.  Every
subcommand accepts ``--json``.  Exit codes: 0 success, 2 bad input, 3 solver failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import networkx as nx
import numpy as np

from copos.errors import CoposError, DataFileError, SolverError
from copos.programs import (
    Bound,
    bounds_to_json,
    exact_stability_number,
    format_table,
    grid_minimum,
    stability_number,
    standard_quadratic,
)
from copos.solvers import CVXPY_SOLVERS, DEFAULT_SOLVER

EXIT_OK, EXIT_BAD_INPUT, EXIT_SOLVER = 0, 2, 3

GRAPHS: dict[str, Callable[[], nx.Graph]] = {
    "c5": lambda: nx.cycle_graph(5),
    "c7": lambda: nx.cycle_graph(7),
    "c9": lambda: nx.cycle_graph(9),
    "petersen": nx.petersen_graph,
    "complement-c7": lambda: nx.complement(nx.cycle_graph(7)),
    "icosahedron": nx.icosahedral_graph,
}

#: (family, level) pairs of the default hierarchy: inner COP upper bounds, an outer lower bound.
DEFAULT_HIERARCHY: tuple[tuple[str, int], ...] = (
    ("parrilo", 0),
    ("parrilo", 1),
    ("dkp", 2),
    ("grid", 4),
)


def stability_hierarchy(
    graphs: Sequence[str], levels: Sequence[tuple[str, int]], solver: str
) -> list[Bound]:
    """Bounds on alpha(G) for each named graph: exact value first, then each family/level."""
    bounds: list[Bound] = []
    for name in graphs:
        graph = _graph(name)
        exact = exact_stability_number(graph)
        bounds.append(_renamed(exact, name))
        for family, level in levels:
            bounds.append(_renamed(stability_number(graph, family, level, solver), name))
    return bounds


def _renamed(bound: Bound, graph: str) -> Bound:
    from dataclasses import replace

    return replace(bound, quantity=f"alpha({graph})")


def _graph(name: str) -> nx.Graph:
    key = name.lower()
    if key in GRAPHS:
        return GRAPHS[key]()
    try:
        return nx.from_graph6_bytes(name.encode())
    except Exception as exc:  # networkx raises several exception types for bad graph6
        known = ", ".join(GRAPHS)
        raise DataFileError(f"unknown graph {name!r}: give one of {known} or a graph6 string") from exc


def _levels(values: Sequence[str] | None) -> list[tuple[str, int]]:
    if not values:
        return list(DEFAULT_HIERARCHY)
    pairs = []
    for value in values:
        family, _, level = value.partition(":")
        if not level.isdigit():
            raise CoposError(f"--cone expects FAMILY:LEVEL such as parrilo:1 or grid:4; got {value!r}")
        pairs.append((family, int(level)))
    return pairs


def _load_matrix(path: str) -> np.ndarray:
    try:
        if path.endswith(".npy"):
            return np.load(path)
        return np.loadtxt(path, delimiter=",")
    except (OSError, ValueError) as exc:
        raise DataFileError(f"cannot read a matrix from {path!r}: {exc}") from exc


def _emit(bounds: list[Bound], as_json: bool, title: str) -> None:
    if as_json:
        print(bounds_to_json(bounds))
    else:
        print(format_table(bounds, title))
        print("\nupper/lower: bound on the quantity; 'unverified' marks a solve whose residuals failed the check.")


def _cmd_main(args: argparse.Namespace) -> int:
    bounds = stability_hierarchy(["c5", "c7", "petersen"], DEFAULT_HIERARCHY, args.solver)
    _emit(bounds, args.json, "Stability number alpha(G): exact value and copositive bounds")
    return EXIT_OK


def _cmd_stability(args: argparse.Namespace) -> int:
    bounds = stability_hierarchy(args.graph, _levels(args.cone), args.solver)
    _emit(bounds, args.json, "Stability number alpha(G)")
    return EXIT_OK


def _cmd_stqp(args: argparse.Namespace) -> int:
    Q = _load_matrix(args.matrix)
    bounds = [standard_quadratic(Q, family, level, args.solver) for family, level in _levels(args.cone)]
    bounds.append(grid_minimum(Q, args.grid)[0])
    _emit(bounds, args.json, "Standard quadratic program min x^T Q x over the simplex")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="copos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--solver", default=DEFAULT_SOLVER, choices=sorted(CVXPY_SOLVERS))
    parser.set_defaults(handler=_cmd_main)
    commands = parser.add_subparsers(title="commands")
    bound = commands.add_parser("bound", help="bounds from the cone hierarchies").add_subparsers(title="programs")
    stability = bound.add_parser("stability", help="stability number of graphs")
    stability.add_argument("--graph", nargs="+", default=["c5", "c7", "petersen"], help="names or graph6 strings")
    stability.add_argument("--cone", nargs="*", help="FAMILY:LEVEL, e.g. parrilo:1 dkp:2 grid:4")
    stability.set_defaults(handler=_cmd_stability)
    stqp = bound.add_parser("stqp", help="standard quadratic program from a matrix file (.csv or .npy)")
    stqp.add_argument("matrix")
    stqp.add_argument("--cone", nargs="*", help="FAMILY:LEVEL, e.g. parrilo:1 dkp:2")
    stqp.add_argument("--grid", type=int, default=4, help="grid size m of the upper bound")
    stqp.set_defaults(handler=_cmd_stqp)
    for sub in (stability, stqp):
        sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        sub.add_argument("--solver", choices=sorted(CVXPY_SOLVERS), default=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SolverError as exc:
        print(f"copos: solver failure: {exc}", file=sys.stderr)
        return EXIT_SOLVER
    except CoposError as exc:
        print(f"copos: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
