"""REL (Sahiner et al.) on patch data: copos.relaxations.conv.solve_conv_rel."""

from __future__ import annotations

import numpy as np
import pytest

from copos.errors import InvalidInputError
from copos.nets.architectures.conv import Convolution
from copos.nets.problem import TrainingProblem
from copos.nets.training import train_conv
from copos.relaxations.conv import (
    solve_conv_copositive_dual,
    solve_conv_program,
    solve_conv_rel,
)
from copos.relaxations.convex import solve_convex_program
from copos.relaxations.rel import solve_rel


def signals(c: int, seed: int = 0) -> TrainingProblem:
    rng = np.random.default_rng(seed)
    return TrainingProblem(rng.standard_normal((6, 5)), rng.standard_normal((6, c)), 0.1)


def test_scalar_rel_is_below_and_here_equal_to_the_exact_program() -> None:
    problem = signals(1)
    arch = Convolution.conv1d(5, 2, pooling="sum")
    rel = solve_conv_rel(problem, arch)
    exact = solve_conv_program(problem, arch)
    assert rel.kind == "lower"
    assert rel.value <= exact.value * (1 + 1e-6)
    assert rel.value == pytest.approx(exact.value, rel=1e-5)


def test_full_patch_rel_is_the_dense_rel() -> None:
    rng = np.random.default_rng(1)
    problem = TrainingProblem(rng.standard_normal((5, 3)), rng.standard_normal((5, 1)), 0.1)
    full = Convolution.conv1d(3, 3, pooling="sum")
    assert solve_conv_rel(problem, full).value == pytest.approx(solve_rel(problem).value, rel=1e-6)


def test_vector_output_rel_is_a_lower_bound_on_trained_cnns() -> None:
    problem = signals(2, seed=2)
    arch = Convolution.conv1d(5, 2)
    rel = solve_conv_rel(problem, arch)
    assert rel.kind == "lower" and rel.Z.shape == (6, 2)
    for seed in range(2):
        assert rel.value <= train_conv(problem, arch, 8, epochs=300, seed=seed).best_objective
    with pytest.raises(InvalidInputError, match="entries"):
        solve_conv_rel(
            problem,
            arch,
            patterns=rel.arrangements.__class__(
                patterns=np.ones((1, 3), dtype=bool), complete=False, method="sampled", rank=2
            ),
        )


def test_linear_readout_with_one_position_is_the_dense_program() -> None:
    rng = np.random.default_rng(4)
    problem = TrainingProblem(rng.standard_normal((6, 3)), rng.standard_normal((6, 1)), 0.1)
    whole = Convolution.conv1d(3, 3, pooling="linear")  # K = 1: the dense net
    rel = solve_conv_rel(problem, whole)
    exact = solve_convex_program(problem)
    assert rel.kind == "lower"
    assert rel.value == pytest.approx(exact.value, rel=1e-5)


def test_linear_readout_rel_is_a_lower_bound_on_trained_linear_cnns() -> None:
    problem = signals(1, seed=3)
    arch = Convolution.conv1d(5, 2, pooling="linear")
    rel = solve_conv_rel(problem, arch)
    average = solve_conv_rel(problem, Convolution.conv1d(5, 2, pooling="avg"))
    assert rel.kind == "lower"
    # S_i / K is feasible for the linear readout with sum_k B_k (S_i/K) B_k^T >= A_i S_i A_i^T
    # (Jensen, A_i = sum_k B_k / K) and a smaller trace: REL(linear) <= REL(avg)
    assert rel.value <= average.value * (1 + 1e-6)
    for seed in range(2):
        run = train_conv(problem, arch, 8, epochs=300, seed=seed)
        assert rel.value <= run.best_objective


@pytest.mark.parametrize("pooling", ["sum", "linear"])
def test_copositive_dual_on_patches_level_0_is_rel_and_level_1_is_not_below(pooling: str) -> None:
    rng = np.random.default_rng(5)
    problem = TrainingProblem(rng.standard_normal((3, 3)), rng.standard_normal((3, 2)), 0.1)
    arch = Convolution.conv1d(3, 2, pooling=pooling)  # K = 2 positions, nK = 6
    rel = solve_conv_rel(problem, arch)
    zero = solve_conv_copositive_dual(problem, arch, level=0)
    one = solve_conv_copositive_dual(problem, arch, level=1)
    assert zero.kind == "lower" and one.kind == "lower" and one.cone == "K^1"
    assert zero.value == pytest.approx(rel.value, rel=1e-5)
    assert one.value >= zero.value - 1e-6
    run = train_conv(problem, arch, 8, epochs=300)
    assert one.value <= run.best_objective
