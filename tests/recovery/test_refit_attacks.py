"""Attacks on the output-layer refit of the recovery (refit_output_layer,
TwoLayerReLU.with_optimal_output_layer): the refit net is a real net whose true ReLU objective
is an upper bound (never below p*), and the refit never raises the objective."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copos.nets.architectures.dense import TwoLayerReLU, network_objective
from copos.nets.datasets import whitened
from copos.nets.problem import TrainingProblem
from copos.recovery import cp_factor
from copos.recovery.cp_factor import recover_from_rel, refit_output_layer
from copos.relaxations.closed_form import soft_threshold_optimum
from copos.relaxations.rel import solve_rel
from tests.known import random_problem


def _duplicated_neurons(seed: int, beta: float) -> tuple[TrainingProblem, TwoLayerReLU]:
    rng = np.random.default_rng(seed)
    problem = TrainingProblem.from_data(
        rng.standard_normal((8, 3)), rng.standard_normal((8, 2)), beta=beta
    )
    u = rng.standard_normal(3)
    return problem, TwoLayerReLU(U=np.column_stack([u, u, -u]), V=rng.standard_normal((3, 2)))


def test_duplicate_neurons_with_a_tiny_beta_are_refit() -> None:
    # H^T H + beta I is singular in floating point (two equal columns of H, beta absorbed):
    # np.linalg.solve raised LinAlgError("Singular matrix") from the recovery.
    for beta in (1e-17, 1e-30):
        problem, net = _duplicated_neurons(0, beta)
        refit = net.with_optimal_output_layer(problem)
        assert np.all(np.isfinite(refit.V))
        assert refit.objective(problem) <= net.objective(problem)
        U, V, _ = refit_output_layer(np.array(net.U), np.array(net.V), problem)
        assert network_objective(problem, U, V) <= net.objective(problem)


def test_refit_of_no_neuron_is_the_empty_net() -> None:
    problem, _ = _duplicated_neurons(1, 0.1)
    net = TwoLayerReLU(U=np.zeros((3, 0)), V=np.zeros((0, 2)))
    assert net.with_optimal_output_layer(problem).m == 0
    U, V, _ = refit_output_layer(np.zeros((3, 0)), np.zeros((0, 2)), problem)
    assert np.isclose(network_objective(problem, U, V), 0.5 * np.sum(problem.Y**2))


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    width=st.integers(1, 6),
    log_beta=st.floats(-6.0, 0.5),
    log_scale=st.floats(-4.0, 4.0),
)
def test_refit_never_goes_below_the_closed_form_optimum(
    seed: int, width: int, log_beta: float, log_scale: float
) -> None:
    # Whitened one-hot data: p* is known in closed form; any real net is at or above it.
    base = whitened(n=6, d=8, c=3, seed=seed % 7, class_sizes=[3, 2, 1])
    problem = TrainingProblem.from_data(base.X, base.Y * 10**log_scale, beta=10**log_beta)
    p_star = soft_threshold_optimum(problem).value
    rng = np.random.default_rng(seed)
    U0 = rng.standard_normal((8, width)) * 10 ** rng.uniform(-3, 3)
    V0 = rng.standard_normal((width, 3))
    start = network_objective(problem, U0, V0)
    U, V, sweeps = refit_output_layer(U0, V0, problem)
    value = network_objective(problem, U, V)
    assert 0 <= sweeps
    assert value <= start
    assert value >= p_star * (1 - 1e-12) - 1e-15


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), log_beta=st.floats(-8.0, 1.0))
def test_the_optimal_output_layer_with_an_output_bias_never_raises_the_objective(
    seed: int, log_beta: float
) -> None:
    rng = np.random.default_rng(seed)
    problem = TrainingProblem.from_data(
        rng.standard_normal((9, 3)),
        rng.standard_normal((9, 2)),
        beta=10**log_beta,
        bias=True,
        output_bias=True,
    )
    net = TwoLayerReLU(
        rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    )
    refit = net.with_optimal_output_layer(problem)
    assert refit.b is not None and np.array_equal(refit.b, net.b)
    assert refit.objective(problem) <= net.objective(problem) * (1 + 1e-12)
    # optimal over V: a perturbation of V does not do better
    nudged = TwoLayerReLU(refit.U, refit.V + 1e-3 * rng.standard_normal(refit.V.shape), refit.b)
    assert refit.objective(problem) <= nudged.objective(problem) * (1 + 1e-12)


@pytest.mark.parametrize("seed", [0, 2])
def test_a_block_that_does_not_factor_gives_a_real_net_above_p_star(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # d = 2: REL is exact and its recovered net closes it, so p* is known; then the largest
    # block is made to fail: the refit net of the others is a real net, at or above p*, and
    # the refit only lowered the objective of the net read off the other blocks.
    problem = random_problem(seed, n=6, beta=0.05)
    rel = solve_rel(problem)
    p_star = recover_from_rel(rel, problem).objective
    assert p_star - rel.value <= 1e-5 * max(1.0, p_star)
    largest = int(np.argmax([np.trace(S_i) for S_i in rel.S]))
    real_factor = cp_factor._factor_block
    calls = []

    def failing(S, A, tol, scale):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) - 1 == largest:
            return [], "forced failure"
        return real_factor(S, A, tol, scale)

    monkeypatch.setattr(cp_factor, "_factor_block", failing)
    refit = recover_from_rel(rel, problem)
    calls.clear()
    monkeypatch.setattr(cp_factor, "refit_output_layer", lambda U, V, problem: (U, V, 0))
    plain = recover_from_rel(rel, problem)
    assert not refit.exact and "refit" in refit.message
    assert refit.objective == network_objective(problem, refit.U, refit.V)
    assert p_star * (1 - 1e-9) <= refit.objective <= plain.objective
