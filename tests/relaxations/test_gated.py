"""The gated-ReLU program by APG, its cone decomposition and the scenario bound."""

from __future__ import annotations

import numpy as np
import pytest

from copos.errors import CoposError
from copos.nets.arrangements import sample_arrangements
from copos.nets.problem import TrainingProblem
from copos.relaxations.convex import solve_convex_program
from copos.relaxations.gated import (
    cone_decomposition,
    scenario_level,
    scenario_samples,
    solve_gated_program,
)


def problem(n: int = 20, seed: int = 0) -> TrainingProblem:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    return TrainingProblem.from_data(X, np.abs(X[:, 0]) - X[:, 1] ** 2, beta=0.05, bias=True)


def test_the_gated_program_relaxes_the_convex_program_on_the_same_gates() -> None:
    data = problem()
    gates = sample_arrangements(data.X, 30, seed=0)
    gated = solve_gated_program(data, gates, tol=1e-6)
    convex = solve_convex_program(data, gates, solver="clarabel")
    assert (
        gated.solve.accurate and gated.bound.kind == "neither"
    )  # sampled gates bound nothing on p*
    assert gated.lower_bound <= gated.value <= convex.value + 1e-6


def test_the_cone_decomposition_reproduces_the_gated_net_on_the_data() -> None:
    data = problem()
    gated = solve_gated_program(data, 40, seed=1, tol=1e-7)
    pairs = cone_decomposition(data, gated)
    np.testing.assert_allclose(pairs.v_blocks - pairs.w_blocks, gated.Q, atol=1e-6)
    np.testing.assert_allclose(
        pairs.net.predict(data.X)[:, 0], gated.predict_on_data(data.X), atol=1e-5
    )
    # the pair costs at least the gated neuron's norm: the ReLU net's objective is above the gated value
    assert pairs.objective >= gated.value - 1e-6
    assert pairs.network_bound.kind == "upper" and pairs.network_bound.rigorous


def test_the_scenario_bound() -> None:
    needed = scenario_samples(20, 0.1, 1e-3)
    assert needed == int(np.ceil(2 / 0.1 * (19 + np.log(1e3))))
    assert scenario_level(needed, 20, 1e-3) <= 0.1  # the sufficient N reaches the level
    assert scenario_level(10, 20) == 1.0  # fewer gates than constraints: no guarantee
    assert scenario_level(4000, 20) < scenario_level(400, 20) < 1.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: scenario_samples(10, 1.5),
        lambda: scenario_level(10, 5, xi=0.0),
        lambda: solve_gated_program(problem(), 0),
        lambda: solve_gated_program(problem(), sample_arrangements(problem(10).X, 5)),
        lambda: solve_gated_program(TrainingProblem(np.eye(3), np.eye(3), beta=0.1), 5),
    ],
)
def test_bad_input_raises_a_copos_error(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CoposError):
        call()
