"""Every relaxation, with every solver, on every problem of the catalogue: bounds on the right side of p*."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from copos.certificates.certify import certify
from copos.nets.architectures.dense import TwoLayerReLU
from copos.relaxations.closed_form import soft_threshold_optimum
from copos.relaxations.convex import solve_convex_program
from copos.relaxations.lifted import solve_lifted_copositive_dual, solve_lifted_dnn
from copos.relaxations.rel import solve_copositive_dual, solve_rel
from copos.solvers import registry
from tests.catalogue import KnownProblem, catalogue


def available(program: str) -> list[str]:
    """Every registered solver of ``program`` that can run here (a new solver joins the catalogue)."""
    return [entry.name for entry in registry.solvers(program) if entry.available()]


CONIC = available("conic")

#: name -> (runs on this problem?, compute the result)
RELAXATIONS: dict[str, tuple[Callable[[Any], bool], Callable[[Any], Any]]] = {
    **{
        f"convex ({s})": (lambda p: p.c == 1, lambda p, s=s: solve_convex_program(p, solver=s))
        for s in available("arrangement")
    },
    **{f"rel ({s})": (lambda p: True, lambda p, s=s: solve_rel(p, solver=s)) for s in CONIC},
    "copositive dual K^0 (clarabel)": (
        lambda p: True,
        lambda p: solve_copositive_dual(p, level=0, solver="clarabel"),
    ),
    **{
        f"lifted DNN ({s})": (lambda p: True, lambda p, s=s: solve_lifted_dnn(p, solver=s))
        for s in available("lifted-dnn")
    },
    "lifted copositive dual K^0 (clarabel)": (
        lambda p: True,
        lambda p: solve_lifted_copositive_dual(p, level=0, solver="clarabel"),
    ),
}

ENTRIES = catalogue()


def value_and_kind(result: Any) -> tuple[float, str]:
    """The result's :class:`~copos.bound.Bound`: its number and direction (``neither`` unless verified)."""
    return float(result.bound.value), str(result.bound.kind)


def on_the_right_side(value: float, kind: str, known: KnownProblem) -> bool:
    """lower <= p*, upper >= p*, exact = p*, each within ``rtol * max(1, |p*|)``; neither: no claim."""
    slack = known.rtol * max(1.0, abs(known.p_star))
    if kind == "lower":
        return value <= known.p_star + slack
    if kind == "upper":
        return value >= known.p_star - slack
    if kind == "exact":
        return abs(value - known.p_star) <= slack
    return kind == "neither"


@pytest.mark.parametrize("known", ENTRIES, ids=[k.name for k in ENTRIES])
@pytest.mark.parametrize("relaxation", sorted(RELAXATIONS))
def test_every_verified_bound_is_on_its_side_of_p_star(
    known: KnownProblem, relaxation: str
) -> None:
    applies, compute = RELAXATIONS[relaxation]
    if not applies(known.problem):
        return  # the program does not exist for this problem (vector output for the convex program)
    value, kind = value_and_kind(compute(known.problem))
    assert kind in ("lower", "upper", "exact", "neither")
    assert on_the_right_side(value, kind, known), (relaxation, value, kind, known.p_star)
    if kind != "neither":
        assert np.isfinite(value)


@pytest.mark.parametrize("known", ENTRIES, ids=[k.name for k in ENTRIES])
def test_the_certificate_lower_bound_is_rigorous(known: KnownProblem) -> None:
    """certify's lower bound holds exactly (it is proven after the solve), on any net."""
    rng = np.random.default_rng(0)
    net = TwoLayerReLU(
        rng.standard_normal((known.problem.d, 3)), rng.standard_normal((3, known.problem.c))
    )
    certificate = certify(net, known.problem)
    assert certificate.lower_bound <= known.p_star * (1 + 1e-12) + 1e-12
    assert certificate.objective >= known.p_star * (1 - 1e-12) - 1e-12


def test_the_zero_net_is_certified_where_zero_is_optimal() -> None:
    known = ENTRIES[0]
    net = TwoLayerReLU(np.zeros((known.problem.d, 1)), np.zeros((1, known.problem.c)))
    certificate = certify(net, known.problem)
    assert certificate.optimal
    assert abs(certificate.lower_bound - known.p_star) <= 1e-9 * known.p_star


@pytest.mark.parametrize("known", [k for k in ENTRIES if k.name.startswith("whitened")], ids=str)
def test_the_closed_form_is_exact_on_whitened_data(known: KnownProblem) -> None:
    bound = soft_threshold_optimum(known.problem).bound
    assert bound.kind == "exact" and bound.rigour == "rigorous"
    assert abs(bound.value - known.p_star) <= 1e-9 * max(1.0, known.p_star)
