"""Upper bounds read off the relaxations (copos.relaxations.read_off), without SGD."""

from __future__ import annotations

import pytest

from copos.relaxations.lifted import solve_lifted_dnn
from copos.relaxations.read_off import read_off_lifted, read_off_rel
from copos.relaxations.rel import solve_rel, solve_rel_admm
from tests.catalogue import scalar_whitened, whitened_labels
from tests.known import random_problem

ROUNDING = 1e-9


@pytest.mark.parametrize("known", [whitened_labels(), scalar_whitened()], ids=["c=2", "c=1"])
def test_the_lifted_read_off_is_a_real_net_above_p_star(known) -> None:  # type: ignore[no-untyped-def]
    problem = known.problem
    result = read_off_lifted(solve_lifted_dnn(problem).Lambda, problem)
    assert result.bound.kind == "upper" and result.bound.rigour == "rigorous"
    assert result.bound.value == result.net.objective(problem)
    assert result.bound.value >= known.p_star - ROUNDING * max(1.0, known.p_star)
    assert result.bound.value == min(result.stages.values())
    assert result.bound.value <= known.p_star * (1 + known.rtol)  # tight on these instances


def test_the_rel_read_off_is_above_the_rel_lower_bound() -> None:
    problem = random_problem(8, n=6, beta=0.1)
    run = solve_rel_admm(problem, tol=1e-5, max_iter=1_000)
    result = read_off_rel(run.blocks, run.result.arrangements, problem)
    lower = solve_rel(problem).value  # REL over every pattern: a lower bound on p*
    assert result.bound.value >= lower - 1e-6 * max(1.0, lower)
    assert result.bound.value == result.net.objective(problem)
    assert len(result.candidates) >= 1 and not result.candidates.complete
