"""Tests of the preconditioned face solves of copos.nets.polish: the change of variables maps back
exactly, and the polish reaches the same objective as in the original variables."""

from __future__ import annotations

import numpy as np
import pytest

from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.datasets import whitened
from copos.nets.polish import (
    AUTO_MIN_ITERATIONS,
    AUTO_PRODUCTS_PER_ITERATION,
    PRECONDITIONERS,
    _Face,
    _KrylovCount,
    _Preconditioned,
    polish,
)
from copos.nets.problem import TrainingProblem
from copos.relaxations.closed_form import soft_threshold_optimum


def _face(seed: int = 0) -> tuple[_Face, TwoLayerReLU]:
    """A face of a random net (n = 10, d = 3, m = 4, c = 2) with one row held on neuron 1."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((10, 3))
    problem = TrainingProblem(X, rng.standard_normal((10, 2)), beta=0.05)
    net = TwoLayerReLU(rng.standard_normal((3, 4)), rng.standard_normal((4, 2)))
    masks = X @ net.U > 0.0
    active = np.zeros_like(masks)
    active[int(np.argmin(np.abs(X @ net.U[:, 1]))), 1] = True
    return _Face(problem, net, masks, active), net


@pytest.mark.parametrize("kind", ["block", "full"])
def test_preconditioned_variables_map_back_exactly(kind: str) -> None:
    face, net = _face()
    scaled = _Preconditioned(face, net, kind)  # type: ignore[arg-type]
    psi = scaled.start(net)
    theta = face.start(net)
    np.testing.assert_array_equal(scaled.theta(psi), theta)  # the start, bit for bit
    assert scaled.value(psi) == face.value(theta)
    np.testing.assert_array_equal(scaled.U_of(psi), face.U_of(theta))
    rng = np.random.default_rng(1)
    step = rng.standard_normal(psi.size)
    moved = scaled.theta(step)
    np.testing.assert_allclose(scaled.L.T @ (moved - theta), step, rtol=1e-10, atol=1e-10)
    # the chain rule: grad_psi = L^{-1} grad_theta and hessp = L^{-1} H L^{-T}
    np.testing.assert_allclose(scaled.L @ scaled.gradient(step), face.gradient(moved), atol=1e-10)
    direction = rng.standard_normal(psi.size)
    expected = face.hessp(moved, scaled.theta(direction) - theta)
    np.testing.assert_allclose(scaled.L @ scaled.hessp(step, direction), expected, atol=1e-9)
    assert scaled.gradient_norm(step) == face.gradient_norm(moved)


def _residual_jacobian(face: _Face, theta: np.ndarray) -> np.ndarray:
    """:math:`J` by central differences (exact up to rounding: each coordinate of theta enters
    the residual linearly)."""

    def residual(t: np.ndarray) -> np.ndarray:
        U, V = face.U_of(t), t[face.d * face.m :].reshape(face.m, face.c)
        return (((face.X @ U) * face.M) @ V).ravel()

    steps = np.eye(theta.size)
    return np.column_stack([(residual(theta + e) - residual(theta - e)) / 2.0 for e in steps])


@pytest.mark.parametrize("kind", ["block", "full"])
def test_preconditioner_is_the_gauss_newton_matrix(kind: str) -> None:
    face, net = _face(2)
    theta = face.start(net)
    J = _residual_jacobian(face, theta)
    gram = J.T @ J
    if kind == "block":  # z is (d, m) and V is (m, c), both in C order
        neuron = np.concatenate(
            [np.tile(np.arange(face.m), face.d), np.repeat(np.arange(face.m), face.c)]
        )
        gram = np.where(neuron[:, None] == neuron[None, :], gram, 0.0)
    np.testing.assert_allclose(face.gauss_newton(theta, blocks=kind == "block"), gram, atol=1e-10)
    scaled = _Preconditioned(face, net, kind)  # type: ignore[arg-type]
    expected = gram + face.beta * np.eye(theta.size)
    np.testing.assert_allclose(scaled.L @ scaled.L.T, expected, rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("seed", [1, 3])
def test_preconditioned_polish_reaches_the_objective_of_the_original_variables(seed: int) -> None:
    problem = whitened(n=4, d=5, c=3, seed=0, beta=0.1, class_sizes=(2, 1, 1))
    optimum = soft_threshold_optimum(problem)
    rng = np.random.default_rng(seed)
    U = optimum.U + 1e-3 * rng.standard_normal(optimum.U.shape)
    V = optimum.V + 1e-3 * rng.standard_normal(optimum.V.shape)
    net = TwoLayerReLU(np.hstack([U, 2.0 * U]), np.vstack([V / 3.0, V / 3.0]))
    objectives = {
        kind: polish(net, problem, precondition=kind).objective for kind in PRECONDITIONERS
    }
    for kind in ("auto", "block", "full"):
        assert objectives[kind] == pytest.approx(objectives["none"], rel=1e-10)
    assert objectives["full"] == pytest.approx(optimum.value, rel=1e-12)


def test_polish_refuses_an_unknown_preconditioner() -> None:
    face, net = _face()
    problem = TrainingProblem(face.X, face.Y, beta=face.beta)
    with pytest.raises(InvalidInputError, match="precondition"):
        polish(net, problem, precondition="jacobi")  # type: ignore[arg-type]


def test_auto_preconditions_once_the_krylov_subproblems_are_ill_conditioned() -> None:
    krylov = _KrylovCount()
    assert krylov.choose("auto") == "none"  # nothing measured yet
    krylov.iterations = AUTO_MIN_ITERATIONS
    krylov.products = AUTO_PRODUCTS_PER_ITERATION * AUTO_MIN_ITERATIONS
    assert krylov.choose("auto") == "none"  # at the threshold, not above
    assert krylov.choose("block") == "block"  # an explicit choice is kept
    krylov.products += 1
    assert krylov.choose("auto") == "full"
    krylov.products = 0
    assert krylov.choose("auto") == "full"  # for the rest of the path
    counted = krylov.counted(lambda theta, direction: theta + direction)
    np.testing.assert_array_equal(counted(np.ones(2), np.ones(2)), 2.0 * np.ones(2))
    assert krylov.products == 1
