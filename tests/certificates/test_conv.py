"""Tests of copos.certificates.conv: rigorous lower bounds for trained CNNs."""

from __future__ import annotations

import numpy as np
import pytest

from copos.certificates.conv import certify_conv, cone_bound
from copos.errors import InvalidInputError
from copos.nets.architectures.conv import Convolution, ConvReLU
from copos.nets.problem import TrainingProblem
from copos.nets.training import train_conv
from copos.relaxations.conv import solve_conv_program


def test_cone_bound_is_an_upper_bound_and_tight_on_a_quadrant() -> None:
    G = np.eye(2)  # the quadrant u >= 0
    assert cone_bound(np.array([3.0, -4.0]), G) == pytest.approx(3.0)
    assert cone_bound(np.array([-1.0, -1.0]), G) == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(0)
    G = rng.standard_normal((5, 3))
    g = rng.standard_normal(3)
    points = rng.standard_normal((4000, 3))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    inside = points[(points @ G.T >= 0).all(axis=1)]
    assert (inside @ g).max(initial=0.0) <= cone_bound(g, G) + 1e-12


def test_certificate_of_the_optimal_cnn_is_close_and_below_every_net() -> None:
    rng = np.random.default_rng(0)
    problem = TrainingProblem(rng.standard_normal((12, 7)), rng.standard_normal((12, 1)), 0.02)
    arch = Convolution.conv1d(7, 2, pooling="sum")
    optimum = solve_conv_program(problem, arch)
    bound = certify_conv(optimum.net, problem)
    assert bound.kind == "lower" and bound.rigour == "rigorous"
    assert 0.95 * optimum.value <= bound.value <= optimum.value * (1 + 1e-6)
    run = train_conv(problem, arch, 8, epochs=300)
    assert certify_conv(run.net, problem).value <= optimum.value * (1 + 1e-6)


def test_vector_outputs_and_refusals() -> None:
    rng = np.random.default_rng(1)
    problem = TrainingProblem(rng.standard_normal((8, 6)), rng.standard_normal((8, 2)), 0.1)
    run = train_conv(problem, Convolution.conv1d(6, 2), 4, epochs=200)
    bound = certify_conv(run.net, problem)
    assert 0.0 <= bound.value <= run.best_objective
    linear = Convolution.conv1d(6, 2, pooling="linear")
    net = ConvReLU(linear, np.ones((2, 1)), np.ones((5, 2)))
    with pytest.raises(InvalidInputError, match="linear readout"):
        certify_conv(net, problem)


def test_ill_conditioned_patches_are_not_proven() -> None:
    # nearly constant signals: every patch is close to (a, a), the patch matrix has condition
    # ~1e6 and its enumeration may miss thin cells
    # (copos.nets.arrangements.MAX_ENUMERATION_CONDITION), so sigma proves nothing
    rng = np.random.default_rng(0)
    X = np.repeat(rng.standard_normal((12, 1)), 7, axis=1) + 1e-6 * rng.standard_normal((12, 7))
    problem = TrainingProblem(X, rng.standard_normal((12, 1)), 0.02)
    arch = Convolution.conv1d(7, 2, pooling="sum")
    net = ConvReLU(arch, rng.standard_normal((2, 3)), rng.standard_normal((3, 1)))
    bound = certify_conv(net, problem)
    assert bound.rigour == "unverified" and bound.kind == "neither"
    assert "not proven" in bound.note
