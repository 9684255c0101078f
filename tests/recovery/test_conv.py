"""Tests of copos.recovery.conv and read_off_conv_rel: CNNs read off the patch REL."""

from __future__ import annotations

import numpy as np
import pytest

from copos.nets.architectures.conv import Convolution
from copos.nets.problem import TrainingProblem
from copos.recovery.conv import patterns_of_conv_net
from copos.relaxations.conv import read_off_conv_rel, solve_conv_rel
from copos.relaxations.rel import solve_rel


def problem_of(n: int, d: int, c: int, seed: int) -> TrainingProblem:
    rng = np.random.default_rng(seed)
    return TrainingProblem(rng.standard_normal((n, d)), rng.standard_normal((n, c)), 0.1)


@pytest.mark.parametrize("pooling", ["sum", "linear"])
def test_whole_input_patch_reads_off_the_dense_optimum(pooling: str) -> None:
    problem = problem_of(6, 3, 1, seed=1)
    arch = Convolution.conv1d(3, 3, pooling=pooling)  # c = 1, one patch = the dense net
    rel = solve_conv_rel(problem, arch)
    read = read_off_conv_rel(rel, problem, arch)
    assert read.bound.kind == "upper" and read.bound.rigour == "rigorous"
    assert read.bound.value == pytest.approx(read.net.objective(problem), rel=1e-12)
    assert rel.value <= read.bound.value * (1 + 1e-7)
    assert read.bound.value == pytest.approx(rel.value, rel=1e-5)
    assert read.bound.value == pytest.approx(solve_rel(problem).value, rel=1e-5)


@pytest.mark.parametrize(("pooling", "c"), [("sum", 1), ("avg", 2), ("linear", 1)])
def test_read_off_cnn_is_above_the_rel_value(pooling: str, c: int) -> None:
    problem = problem_of(6, 5, c, seed=2)
    arch = Convolution.conv1d(5, 2, pooling=pooling)
    rel = solve_conv_rel(problem, arch)
    read = read_off_conv_rel(rel, problem, arch)
    assert rel.kind == "lower" and read.net.architecture == arch
    assert rel.value <= read.bound.value * (1 + 1e-7)
    assert set(read.stages) <= {"read", "restricted"} and len(read.candidates) >= 1
    assert read.bound.value == min(read.stages.values())


def test_patterns_of_a_net_are_its_filters_patterns() -> None:
    problem = problem_of(6, 5, 1, seed=3)
    arch = Convolution.conv1d(5, 2)
    read = read_off_conv_rel(solve_conv_rel(problem, arch), problem, arch)
    operator = arch.operator_of(problem)
    patterns = patterns_of_conv_net(read.net, operator)
    assert patterns.n == operator.rows and not patterns.complete
    for mask in patterns.patterns:
        assert any(np.array_equal(mask, operator.stacked @ u > 0) for u in read.net.U.T)
