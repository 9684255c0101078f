r"""Upper bounds read off a relaxation: the relaxation brackets :math:`p^\star` on its own.

From a relaxation's solution — the lifted DNN's :math:`\Lambda` (its top eigenfactor
:math:`\Lambda \approx WW^\top`, :func:`copos.recovery.rounding.network_from_factor`) or the REL
blocks (:func:`copos.recovery.from_relaxation.network_from_blocks`) — a first net is read; the
activation patterns of its neurons (and of its polished version) are the candidates
:math:`\mathcal C`; the exact program restricted to them is solved,

.. math:: \min\ \tfrac12\Big\|\sum_{i\in\mathcal C}D_iXW_i - Y\Big\|_F^2 + \ldots
    \quad\text{(the convex program for } c = 1\text{, REL on } \mathcal C \text{ otherwise)},

its net is polished (:func:`copos.nets.polish.polish`) and the best true objective

.. math:: p^\star \le F(U, V) = \tfrac12\|(XU)_+V - Y\|_F^2 + \tfrac\beta2(\|U\|_F^2 + \|V\|_F^2)

is returned as a rigorous upper :class:`~copos.bound.Bound` (a real network; no SGD involved).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from copos.bound import Bound
from copos.nets.architectures.conv import ConvReLU
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.arrangements import Arrangements
from copos.nets.problem import TrainingProblem, require_no_output_bias
from copos.recovery.from_relaxation import (
    network_from_blocks,
    patterns_of_network,
    polished_network,
)
from copos.recovery.rounding import eigen_start, network_from_factor
from copos.relaxations.convex import solve_convex_program
from copos.relaxations.rel import solve_rel_admm

FloatArray = NDArray[np.float64]


#: Tolerance and iterations of REL on the candidates: the polish that follows does the rest.
RESTRICTED_TOL = 1e-5
RESTRICTED_ITER = 5_000


@dataclass(frozen=True, eq=False)
class ReadOff:
    """The best net read off a relaxation, its objective as an upper ``bound``, the candidate
    patterns of the restricted program and the objectives of every stage (``stages``)."""

    net: TwoLayerReLU | ConvReLU
    bound: Bound
    candidates: Arrangements
    stages: dict[str, float]


def read_off_lifted(
    Lambda: FloatArray, problem: TrainingProblem, *, width: int | None = None
) -> ReadOff:
    r"""An upper bound from the lifted DNN's :math:`\Lambda` (side :math:`2n + d + c`): the net of
    its top-``width`` eigenfactor (default: every eigenvalue), then the restricted program and
    polish (module docstring)."""
    rank = Lambda.shape[0] if width is None else width
    first = network_from_factor(eigen_start(np.asarray(Lambda, dtype=np.float64), rank), problem)
    return read_off(first, problem, source="lifted DNN")


def read_off_rel(blocks: FloatArray, patterns: Arrangements, problem: TrainingProblem) -> ReadOff:
    """An upper bound from lifted REL blocks ``(k, d+c, d+c)`` on ``patterns``."""
    return read_off(network_from_blocks(blocks, patterns, problem), problem, source="REL")


def read_off(first: TwoLayerReLU, problem: TrainingProblem, *, source: str) -> ReadOff:
    """Polish ``first``, solve the program restricted to the patterns of both nets, polish its
    net; the best true objective is the upper bound."""
    require_no_output_bias(problem, "reading a net off a relaxation")
    start = time.perf_counter()
    polished = polished_network(first, problem).net if first.m else first
    nets: dict[str, TwoLayerReLU | ConvReLU] = {"read": first, "polished": polished}
    candidates = _union(patterns_of_network(first, problem), patterns_of_network(polished, problem))
    if len(candidates):
        restricted = _restricted_net(problem, candidates)
        nets["restricted"] = restricted
        nets["restricted, polished"] = polished_network(restricted, problem).net
    return best_stage(nets, problem, candidates, source, start)


def best_stage(
    nets: dict[str, TwoLayerReLU | ConvReLU],
    problem: TrainingProblem,
    candidates: Arrangements,
    source: str,
    start: float,
) -> ReadOff:
    """The net of least true objective among the stages ``nets``, its objective an upper bound."""
    stages = {name: net.objective(problem) for name, net in nets.items()}
    best = min(stages, key=lambda name: stages[name])
    bound = Bound.of_network(
        stages[best],
        method=f"net read off {source} ({best})",
        time=time.perf_counter() - start,
        note=f"{len(candidates)} candidate patterns; stages "
        + ", ".join(f"{name} {value:.10g}" for name, value in stages.items()),
    )
    return ReadOff(net=nets[best], bound=bound, candidates=candidates, stages=stages)


def _restricted_net(problem: TrainingProblem, candidates: Arrangements) -> TwoLayerReLU:
    """The net of the exact program on ``candidates``: the convex program (``c = 1``), else REL."""
    if problem.c == 1:
        return solve_convex_program(problem, candidates).network()
    run = solve_rel_admm(problem, candidates, tol=RESTRICTED_TOL, max_iter=RESTRICTED_ITER)
    return network_from_blocks(run.blocks, candidates, problem)


def _union(first: Arrangements, second: Arrangements) -> Arrangements:
    masks = np.unique(np.vstack([first.patterns, second.patterns]), axis=0)
    masks = masks[masks.any(axis=1)]
    return Arrangements(patterns=masks, complete=False, method="sampled", rank=first.rank)
