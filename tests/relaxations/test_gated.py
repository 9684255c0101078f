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


def test_the_scenario_constants_match_the_theorem_on_hand_computed_values() -> None:
    # bai2022.md §2: Pr{V(lambda*_N) > psi} <= sum_{i<zeta} C(N, i) psi^i (1 - psi)^(N - i),
    # zeta <= n (the dual has n variables); sufficient N >= (2/psi)(n - 1 + ln(1/xi)).
    # n = 1: the tail is (1 - psi)^N, so psi = 1 - xi^(1/N); N = 10, xi = 1e-3:
    # psi = 1 - 10^(-0.3) = 1 - 0.5011872336 = 0.4988127664.
    assert scenario_level(10, 1, 1e-3) == pytest.approx(0.4988127664, abs=1e-9)
    # n = 2, N = 20: (1 - psi)^19 (1 + 19 psi) = 1e-3 at psi = 0.3775818731 (Newton by hand).
    assert scenario_level(20, 2, 1e-3) == pytest.approx(0.3775818731, abs=1e-9)
    # n = 10, psi = 0.1, xi = 1e-3: 20 (9 + 6.907755279) = 318.155 -> 319 gates.
    assert scenario_samples(10, 0.1, 1e-3) == 319
    # n = 1, psi = 0.5: 4 (0 + 6.907755279) = 27.63 -> 28 (the exact least N is 10:
    # 0.5^10 = 9.8e-4 <= 1e-3 < 0.5^9), and 28 gates reach 1 - 1e-3^(1/28) = 0.2186292623.
    assert scenario_samples(1, 0.5, 1e-3) == 28
    assert scenario_level(28, 1, 1e-3) == pytest.approx(0.2186292623, abs=1e-9)


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
