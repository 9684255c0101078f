"""Tests of copos.relaxations.conv: the pooled CNN's program and the circular spectral program."""

from __future__ import annotations

import numpy as np
import pytest

from copos.errors import InvalidInputError
from copos.nets.architectures.circular import (
    circular_convolution,
    circular_factor,
    spectral_norm,
)
from copos.nets.architectures.conv import Convolution
from copos.nets.problem import TrainingProblem
from copos.nets.training import train_circular, train_conv
from copos.relaxations.conv import (
    conv_patterns,
    solve_circular_program,
    solve_conv_program,
)
from copos.relaxations.convex import solve_convex_program


def signals(n: int, d: int, seed: int, beta: float = 0.05) -> TrainingProblem:
    rng = np.random.default_rng(seed)
    return TrainingProblem(rng.standard_normal((n, d)), rng.standard_normal((n, 1)), beta)


def test_full_patch_is_the_dense_program() -> None:
    problem = signals(7, 3, 0)
    dense = solve_convex_program(problem)
    conv = solve_conv_program(problem, Convolution.conv1d(3, 3, pooling="avg"))
    assert conv.bound.kind == "exact"
    assert conv.value == pytest.approx(dense.value, rel=1e-6)


@pytest.mark.parametrize("pooling", ["sum", "avg"])
def test_patch_size_one_is_the_dense_program_of_the_pooled_signal(pooling: str) -> None:
    # on a nonnegative signal, sum_k (x_k u)_+ = (u sum_k x_k)_+: the dense net on d = 1
    rng = np.random.default_rng(1)
    X = np.abs(rng.standard_normal((8, 5)))
    problem = TrainingProblem(X, rng.standard_normal((8, 1)), 0.1)
    pooled = X.sum(axis=1, keepdims=True) / (5 if pooling == "avg" else 1)
    dense = solve_convex_program(TrainingProblem(pooled, problem.Y, 0.1))
    conv = solve_conv_program(problem, Convolution.conv1d(5, 1, pooling=pooling))
    assert conv.value == pytest.approx(dense.value, rel=1e-6)


@pytest.mark.parametrize(
    "arch",
    [
        Convolution.conv1d(7, 2, pooling="sum"),
        Convolution.conv1d(6, 1, stride=2, padding=1, bias=True),
        Convolution.conv2d(3, 3, (1, 2), pooling="avg"),
    ],
    ids=lambda a: a.describe(),
)
def test_recovered_cnn_attains_the_value_and_sgd_stays_above(arch: Convolution) -> None:
    problem = signals(8, arch.d, 2, beta=0.05)
    result = solve_conv_program(problem, arch)
    assert result.bound.kind == "exact" and result.patterns.complete
    assert result.recovered_objective == pytest.approx(result.value, rel=1e-5)
    assert result.net.objective(problem) == pytest.approx(result.recovered_objective, rel=1e-12)
    for seed in range(2):
        run = train_conv(problem, arch, 6, epochs=400, seed=seed)
        assert run.best_objective >= result.value * (1 - 1e-6)


def test_published_check_of_the_reference_notes() -> None:
    # ergen2021_cnn.md section 7: n = 12, d = 7, h = 2, K = 6: P = 2nK = 144 patterns
    problem = signals(12, 7, 0, beta=0.02)
    result = solve_conv_program(problem, Convolution.conv1d(7, 2, pooling="sum"))
    assert len(result.patterns) == 2 * 12 * 6
    assert result.recovered_objective == pytest.approx(result.value, rel=1e-5)


def test_sampled_patterns_give_an_upper_bound_labelled_upper() -> None:
    problem = signals(10, 6, 3)
    arch = Convolution.conv1d(6, 2, pooling="sum")
    exact = solve_conv_program(problem, arch)
    sampled = solve_conv_program(problem, arch, enumeration="sampled", samples=15, seed=1)
    assert not sampled.patterns.complete
    assert sampled.bound.claimed_kind == "upper" and sampled.bound.kind in ("upper", "neither")
    assert sampled.value >= exact.value * (1 - 1e-6)
    assert sampled.recovered_objective == pytest.approx(sampled.value, rel=1e-5)
    # "auto" samples when the pattern bound exceeds max_patterns
    auto = conv_patterns(arch.operator_of(problem), max_patterns=10, samples=15, seed=1)
    assert not auto.complete


def test_programs_refuse_what_they_do_not_solve() -> None:
    problem = signals(6, 5, 4)
    with pytest.raises(InvalidInputError, match="linear readout"):
        solve_conv_program(problem, Convolution.conv1d(5, 2, pooling="linear"))
    with pytest.raises(InvalidInputError, match="d = 6"):
        solve_conv_program(problem, Convolution.conv1d(6, 2))
    with pytest.raises(InvalidInputError, match="enumeration"):
        solve_conv_program(problem, Convolution.conv1d(5, 2), enumeration="greedy")
    vector = TrainingProblem(problem.X, np.ones((6, 2)), 0.1)
    with pytest.raises(InvalidInputError):
        solve_conv_program(vector, Convolution.conv1d(5, 2))
    with pytest.raises(InvalidInputError, match="scalar output"):
        solve_circular_program(vector)


# ---------------------------------------------------------------------------- circular
@pytest.mark.parametrize("d", [4, 5, 6])
def test_even_split_is_the_closed_form(d: int) -> None:
    rng = np.random.default_rng(d)
    z = rng.standard_normal(d)
    u, w = circular_factor(z)
    np.testing.assert_allclose(circular_convolution(u, w), z, atol=1e-12)
    assert 0.5 * (u @ u + w @ w) == pytest.approx(spectral_norm(z), rel=1e-12)
    # every other factorisation u' * w' = z costs at least R(z)
    for _ in range(20):
        other = rng.standard_normal(d)
        circulant = np.array([[other[(t - s) % d] for s in range(d)] for t in range(d)])
        partner = np.linalg.solve(circulant, z)
        assert 0.5 * (other @ other + partner @ partner) >= spectral_norm(z) * (1 - 1e-12)


def test_circular_program_recovers_its_value_and_sgd_approaches_it() -> None:
    problem = signals(8, 4, 0)
    result = solve_circular_program(problem)
    assert result.bound.kind == "exact"
    assert result.recovered_objective == pytest.approx(result.value, rel=1e-6)
    runs = [train_circular(problem, 16, epochs=800, seed=seed) for seed in range(2)]
    best = min(run.best_objective for run in runs)
    assert best >= result.value * (1 - 1e-6)
    assert best <= result.value * 1.05
