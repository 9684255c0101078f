r"""The stability number of a graph as a copositive program (de Klerk–Pasechnik).

.. math::

    \alpha(G) = \max\{\langle J, X\rangle : \langle I + A_G, X\rangle = 1,\ X \in \mathcal{CP}\}
              = \min\{\lambda : \lambda(I + A_G) - J \in \mathcal{COP}\}.

With :math:`\mathcal K^r` this gives :math:`\vartheta^{(r)}(G) \ge \alpha(G)` (``ϑ^(0)`` is
Schrijver's :math:`\theta'`), with :math:`\mathcal C^r` the LP bound
:math:`\zeta^{(r)} \ge \alpha`, with the simplex grid :math:`\ell_m(G) \le \alpha(G)`; the
clique number is :math:`\omega(G) = \alpha(\bar G)`.
"""

from __future__ import annotations

import time

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from copos.bound import Bound
from copos.cones.registry import make_cone
from copos.errors import InvalidInputError
from copos.programs.conic import ConicProgram
from copos.solvers.cvxpy_backend import DEFAULT_SOLVER


def check_graph(graph: nx.Graph) -> NDArray[np.float64]:
    """The adjacency matrix of a simple undirected graph with at least one node."""
    if not isinstance(graph, nx.Graph):
        raise InvalidInputError(f"expected a networkx Graph; got {type(graph).__name__}")
    if graph.is_directed():
        raise InvalidInputError("the graph must be undirected; use graph.to_undirected()")
    if graph.is_multigraph():
        raise InvalidInputError(
            "the graph must be simple; use nx.Graph(graph) to merge parallel edges"
        )
    if graph.number_of_nodes() == 0:
        raise InvalidInputError("the graph has no nodes")
    loops = list(nx.selfloop_edges(graph))
    if loops:
        raise InvalidInputError(
            f"the graph has self-loops {loops[:3]}; remove them with "
            "graph.remove_edges_from(nx.selfloop_edges(graph))"
        )
    nodes = sorted(graph.nodes(), key=str)
    return nx.to_numpy_array(graph, nodelist=nodes, weight=None)


def stability_program(graph: nx.Graph, quantity: str = "alpha(G)") -> ConicProgram:
    """The (CP)/(COP) pair whose value is :math:`\\alpha(G)`."""
    adjacency = check_graph(graph)
    n = len(adjacency)
    return ConicProgram(
        C=np.ones((n, n)), A=(np.eye(n) + adjacency,), b=np.ones(1), quantity=quantity
    )


def stability_number(
    graph: nx.Graph, family: str = "parrilo", level: int = 0, solver: str = DEFAULT_SOLVER
) -> Bound:
    """A bound on :math:`\\alpha(G)` from one cone family and level (see ``copos.cones.registry``).

    An inner cone of COP gives an upper bound, an outer one a lower bound; the pentagon has
    :math:`\\alpha(C_5) = 2`:

    >>> import networkx as nx
    >>> from copos.programs.stability import exact_stability_number, stability_number
    >>> pentagon = nx.cycle_graph(5)
    >>> upper = stability_number(pentagon, "parrilo", 1)  # K^1, inside COP
    >>> upper.kind, round(upper.value, 4)
    ('upper', 2.0)
    >>> lower = stability_number(pentagon, "grid", 3)  # the simplex grid O_3, outside COP
    >>> lower.kind, round(lower.value, 4)
    ('lower', 1.8)
    >>> exact_stability_number(pentagon).value
    2.0
    """
    program = stability_program(graph)
    return program.bound(make_cone(family, program.n, level), solver)


def clique_number(
    graph: nx.Graph, family: str = "parrilo", level: int = 0, solver: str = DEFAULT_SOLVER
) -> Bound:
    """A bound on :math:`\\omega(G) = \\alpha(\\bar G)`."""
    check_graph(graph)
    program = stability_program(nx.complement(graph), quantity="omega(G)")
    return program.bound(make_cone(family, program.n, level), solver)


def exact_stability_number(graph: nx.Graph) -> Bound:
    """:math:`\\alpha(G)` exactly, as the largest clique of the complement (combinatorial)."""
    check_graph(graph)
    start = time.perf_counter()
    _, weight = nx.max_weight_clique(nx.complement(graph), weight=None)
    return Bound(
        value=float(weight),
        claimed_kind="exact",
        quantity="alpha(G)",
        cone="combinatorial",
        level=None,
        view="-",
        solve=None,
        time=time.perf_counter() - start,
    )
