"""Circular nets on 2-D signals: the 2-D convolution, the closed form of R and the gradient."""

from __future__ import annotations

import numpy as np
import pytest

from copos.errors import InvalidInputError
from copos.nets.architectures.circular import (
    CircularReLU,
    circular_convolution,
    circular_factor,
    circular_objective_and_gradient,
    spectral_norm,
)
from copos.nets.problem import TrainingProblem


def test_the_2d_convolution_is_the_double_sum() -> None:
    rng = np.random.default_rng(0)
    h, w = 3, 4
    u, v = rng.standard_normal((h, w)), rng.standard_normal((h, w))
    direct = np.zeros((h, w))
    for a in range(h):
        for b in range(w):
            for s in range(h):
                for t in range(w):
                    direct[a, b] += u[s, t] * v[(a - s) % h, (b - t) % w]
    flat = circular_convolution(u.reshape(-1), v.reshape(-1), (h, w))
    np.testing.assert_allclose(flat.reshape(h, w), direct, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (2, 6), (2, 3, 2)])
def test_even_split_is_the_closed_form_in_2d(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(shape) + shape[0])
    d = int(np.prod(shape))
    z = rng.standard_normal(d)
    u, w = circular_factor(z, shape)
    np.testing.assert_allclose(circular_convolution(u, w, shape), z, atol=1e-12)
    assert 0.5 * (u @ u + w @ w) == pytest.approx(spectral_norm(z, shape), rel=1e-12)
    # every other factorisation u' * w' = z costs at least R(z): solve for the partner
    for _ in range(10):
        other = rng.standard_normal(d)
        operator = np.stack([circular_convolution(other, e, shape) for e in np.eye(d)], axis=1)
        partner = np.linalg.solve(operator, z)
        assert 0.5 * (other @ other + partner @ partner) >= spectral_norm(z, shape) * (1 - 1e-12)


def test_the_2d_norm_is_not_the_1d_norm() -> None:
    z = np.array([1.0, 0.0, 0.0, 1.0])  # the image [[1, 0], [0, 1]]
    # 2-D DFT: [2, 0, 0, 2] / 2 -> R = 2 / 2 = 1; 1-D DFT of (1, 0, 0, 1): |1 + e^{-3i pi k/2}|/2
    assert spectral_norm(z, (2, 2)) == pytest.approx(1.0, abs=1e-12)
    assert spectral_norm(z) == pytest.approx((2 + 2 * np.sqrt(2)) / 4, abs=1e-12)


def test_the_2d_gradient_is_the_finite_difference() -> None:
    rng = np.random.default_rng(1)
    shape, m = (2, 3), 3
    problem = TrainingProblem(rng.standard_normal((5, 6)), rng.standard_normal((5, 1)), 0.1)
    U, W = rng.standard_normal((6, m)), rng.standard_normal((6, m))
    signs = np.array([1.0, -1.0, 1.0])
    value, grad_U, _ = circular_objective_and_gradient(U, W, signs, problem, shape)
    assert value == pytest.approx(CircularReLU(U, W, signs, shape).objective(problem), rel=1e-12)
    step = 1e-6
    for index in [(0, 0), (4, 1), (5, 2)]:
        bumped = U.copy()
        bumped[index] += step
        higher = circular_objective_and_gradient(bumped, W, signs, problem, shape)[0]
        bumped[index] -= 2 * step
        lower = circular_objective_and_gradient(bumped, W, signs, problem, shape)[0]
        assert (higher - lower) / (2 * step) == pytest.approx(grad_U[index], rel=1e-5, abs=1e-7)


def test_a_shape_that_does_not_match_d_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="shape"):
        CircularReLU(np.ones((6, 1)), np.ones((6, 1)), np.ones(1), (2, 2))
