"""Known answers for the stability number (cones.md §3.2, §4.4, §4.5).

Each known-answer test checks the value, the direction of the bound and that the residuals were
verified after the solve (primal and dual feasibility), in the spirit of cvxpy's solver tests.
"""

from __future__ import annotations

import math

import networkx as nx
import pytest

from copos.errors import InvalidInputError, UnknownSolverError
from copos.programs import clique_number, exact_stability_number, stability_number
from tests.known import TOL

C7_THETA = 3.317667  # cones.md §3.2, 6 digits


@pytest.mark.parametrize(
    ("graph", "family", "level", "expected", "tol"),
    [
        (nx.cycle_graph(5), "parrilo", 0, math.sqrt(5), TOL),
        (nx.cycle_graph(5), "parrilo", 1, 2.0, TOL),
        (nx.cycle_graph(7), "parrilo", 0, C7_THETA, 1e-6),
        (nx.cycle_graph(7), "parrilo", 1, 3.0, TOL),
        (nx.petersen_graph(), "parrilo", 0, 4.0, TOL),
        (nx.complement(nx.cycle_graph(7)), "parrilo", 1, 2.0, TOL),
        (nx.complement(nx.cycle_graph(9)), "parrilo", 1, 2.0, TOL),
    ],
)
def test_parrilo_bounds_on_alpha(
    graph: nx.Graph, family: str, level: int, expected: float, tol: float
) -> None:
    bound = stability_number(graph, family, level)
    assert bound.kind == "upper"  # inner COP cone: the minimum over a smaller set
    assert bound.verified
    assert bound.value == pytest.approx(expected, abs=tol)
    assert bound.value >= exact_stability_number(graph).value - TOL


@pytest.mark.parametrize("level", [0, 1])
def test_cp_view_equals_cop_view(level: int) -> None:
    # Strong duality between (K^r)* in the primal and K^r in the dual (cones.md §6.6).
    graph = nx.cycle_graph(7)
    primal = stability_number(graph, "parrilo-dual", level)
    dual = stability_number(graph, "parrilo", level)
    assert primal.view == "cp" and dual.view == "cop"
    assert primal.kind == dual.kind == "upper"
    assert primal.value == pytest.approx(dual.value, abs=TOL)


@pytest.mark.parametrize("graph", [nx.cycle_graph(5), nx.cycle_graph(7), nx.petersen_graph()])
def test_lp_bound_closed_form(graph: nx.Graph) -> None:
    # zeta^(r) = m(m-1) / [t q(q+1) + (alpha - t) q(q-1)], m = r + 2 = q alpha + t; inf if r <= alpha - 2.
    alpha = int(exact_stability_number(graph).value)
    for r in range(alpha - 1, alpha + 1):
        m = r + 2
        q, t = divmod(m, alpha)
        expected = m * (m - 1) / (t * q * (q + 1) + (alpha - t) * q * (q - 1))
        bound = stability_number(graph, "dkp", r)
        assert bound.kind == "upper"
        assert bound.value == pytest.approx(expected, abs=1e-6)
    infeasible = stability_number(graph, "dkp", alpha - 2)
    assert infeasible.value == math.inf
    assert infeasible.solve is not None and infeasible.solve.status == "infeasible"
    assert not infeasible.verified


@pytest.mark.parametrize("m", range(1, 7))
def test_grid_lower_bound_closed_form(m: int) -> None:
    # l_m = m for m <= alpha, else m^2 / (t (q+1)^2 + (alpha - t) q^2) (cones.md §4.5).
    graph = nx.cycle_graph(5)
    alpha = 2
    q, t = divmod(m, alpha)
    expected = m if m <= alpha else m**2 / (t * (q + 1) ** 2 + (alpha - t) * q**2)
    bound = stability_number(graph, "grid", m)
    assert bound.kind == "lower"
    assert bound.value == pytest.approx(expected, abs=1e-7)
    inner = stability_number(graph, "grid-cp", m)
    assert inner.kind == "lower" and inner.view == "cp"
    assert inner.value == pytest.approx(expected, abs=1e-6)


def test_sandwich_around_alpha() -> None:
    graph = nx.cycle_graph(7)
    alpha = exact_stability_number(graph)
    assert alpha.kind == "exact" and alpha.value == 3
    lower = stability_number(graph, "grid", 3)
    upper = stability_number(graph, "parrilo", 0)
    assert lower.value <= alpha.value + TOL <= upper.value + 2 * TOL


def test_clique_number_through_the_complement() -> None:
    graph = nx.complement(nx.cycle_graph(7))  # omega(complement of C7) = alpha(C7) = 3
    bound = clique_number(graph, "parrilo", 1)
    assert bound.quantity == "omega(G)"
    assert bound.value == pytest.approx(3.0, abs=TOL)


def test_scs_agrees_with_clarabel() -> None:
    bound = stability_number(nx.cycle_graph(5), "parrilo", 0, solver="scs")
    assert bound.solve is not None and bound.solve.solver == "scs"
    assert bound.value == pytest.approx(math.sqrt(5), abs=1e-4)


def test_bad_graphs_and_arguments() -> None:
    looped = nx.cycle_graph(5)
    looped.add_edge(0, 0)
    with pytest.raises(InvalidInputError, match="self-loops"):
        stability_number(looped)
    with pytest.raises(InvalidInputError, match="no nodes"):
        stability_number(nx.Graph())
    with pytest.raises(InvalidInputError, match="undirected"):
        stability_number(nx.DiGraph([(0, 1)]))
    with pytest.raises(InvalidInputError, match="networkx"):
        stability_number([[0, 1], [1, 0]])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="unknown cone family"):
        stability_number(nx.cycle_graph(5), "lasserre", 1)
    with pytest.raises(InvalidInputError, match=">= 0"):
        stability_number(nx.cycle_graph(5), "parrilo", -1)
    with pytest.raises(InvalidInputError, match="m >= 1"):
        stability_number(nx.cycle_graph(5), "grid", 0)
    with pytest.raises(UnknownSolverError, match="mosek"):
        stability_number(nx.cycle_graph(5), "parrilo", 0, solver="mosek")
