"""Attacks on the cuts inside copos-admm (solve_lifted_cuts(solver="copos-admm"), optionally
with final_solver="CLARABEL"), issue 12: every round's certified bound stays at or below p*
(REL closed by its recovered net, on d = 2), with a bias column and with labels scaled by
1e+-150; a non-finite sign cost never certifies."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest

from copos.nets.problem import TrainingProblem
from copos.relaxations.lifted_cuts import solve_lifted_cuts
from copos.solvers.admm.dnn import solve_lifted_dnn_admm
from tests.known import random_problem
from tests.relaxations.test_lifted_cuts import BOUND_TOL, exact_optimum


@cache
def _p_star(seed: int, beta: float, bias: bool) -> float:
    return exact_optimum(_problem(seed, beta, bias))


def _problem(seed: int, beta: float, bias: bool) -> TrainingProblem:
    problem = random_problem(seed, n=6, beta=beta)
    if bias:  # one input and the ones column: d = 2 with a first-layer bias
        return TrainingProblem.from_data(problem.X[:, :1], problem.Y, beta, bias=True)
    return problem


def _check_rounds(result, p_star: float) -> None:  # type: ignore[no-untyped-def]
    ceiling = p_star + BOUND_TOL * max(1.0, abs(p_star))
    assert all(math.isfinite(r.bound) and r.bound <= ceiling for r in result.rounds)
    assert result.value == max(r.bound for r in result.rounds)
    assert result.bound.kind == "lower" and result.bound.rigour == "rigorous"


@pytest.mark.parametrize("final_solver", [None, "CLARABEL"])
@pytest.mark.parametrize(("seed", "beta", "bias"), [(3, 0.05, False), (4, 0.01, True)])
def test_every_round_of_the_splitting_is_below_p_star(
    seed: int, beta: float, bias: bool, final_solver: str | None
) -> None:
    problem = _problem(seed, beta, bias)
    result = solve_lifted_cuts(
        problem, rounds=2, solver="copos-admm", final_solver=final_solver, admm_iterations=1000
    )
    _check_rounds(result, _p_star(seed, beta, bias))


@pytest.mark.parametrize("scale", [1e-150, 1e150])
def test_scaled_labels_keep_every_round_below_the_scaled_p_star(scale: float) -> None:
    # (Y, beta) -> (s Y, s beta) scales p* by s^2 exactly
    base = random_problem(5, n=6, beta=0.3)
    p_star = exact_optimum(base) * scale**2
    problem = TrainingProblem.from_data(base.X, base.Y * scale, base.beta * scale)
    result = solve_lifted_cuts(problem, rounds=2, solver="copos-admm")
    _check_rounds(result, p_star)
    assert result.value >= 0.9 * p_star  # a bound, not a trivial zero


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("entry", [math.nan, math.inf, 1e300])
def test_a_non_finite_sign_cost_never_certifies(entry: float) -> None:
    problem = random_problem(0, n=5, beta=0.1)
    result = solve_lifted_dnn_admm(
        problem,
        max_iters=300,
        quiet=True,
        sign_cost=lambda r2: lambda w, gamma: np.full_like(w, entry),
    )
    assert result.status == "diverged"
    assert not result.lower_bound > -math.inf
