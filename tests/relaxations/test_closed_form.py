"""Soft-thresholded SVD closed form for whitened data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copos.errors import InvalidInputError
from copos.nets.problem import TrainingProblem
from copos.relaxations.closed_form import (
    label_factors,
    soft_threshold_optimum,
    soft_threshold_value,
    whitening_error,
)
from copos.relaxations.convex import solve_convex_program


def numpy_objective(problem: TrainingProblem, U: np.ndarray, V: np.ndarray) -> float:
    prediction = np.maximum(problem.X @ U, 0.0) @ V
    loss = 0.5 * np.sum((prediction - problem.Y) ** 2)
    return float(loss + 0.5 * problem.beta * (np.sum(U**2) + np.sum(V**2)))


def whitened(n: int, d: int, seed: int) -> np.ndarray:
    """An ``n x d`` matrix with orthonormal rows."""
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, n)))
    return Q.T


def one_hot(labels: list[int], classes: int) -> np.ndarray:
    return np.eye(classes)[labels]


def singular_value_soft_threshold(Y: np.ndarray, beta: float) -> np.ndarray:
    A, sigma, Bt = np.linalg.svd(Y, full_matrices=False)
    return (A * np.maximum(sigma - beta, 0.0)) @ Bt


def test_one_hot_value_matches_network_objective() -> None:
    problem = TrainingProblem.from_data(whitened(6, 8, seed=0), one_hot([0, 0, 1, 1, 1, 2], 3), 0.5)
    result = soft_threshold_optimum(problem)
    assert result.applicable and result.bound_kind == "exact"
    np.testing.assert_allclose(result.singular_values, np.sqrt([3.0, 2.0, 1.0]))
    assert result.num_neurons == 3
    assert numpy_objective(problem, result.U, result.V) == pytest.approx(
        result.value, rel=1e-9, abs=1e-12
    )
    expected = sum(0.5 * s - 0.125 for s in np.sqrt([3.0, 2.0, 1.0]))
    assert result.value == pytest.approx(expected, rel=1e-12)
    prediction = np.maximum(problem.X @ result.U, 0.0) @ result.V
    np.testing.assert_allclose(
        prediction, singular_value_soft_threshold(problem.Y, 0.5), atol=1e-12
    )


def test_tied_class_sizes_use_nonnegative_basis() -> None:
    problem = TrainingProblem.from_data(whitened(6, 6, seed=1), one_hot([0, 1, 2, 0, 1, 2], 3), 0.3)
    result = soft_threshold_optimum(problem)
    assert result.applicable and result.num_neurons == 3
    assert numpy_objective(problem, result.U, result.V) == pytest.approx(result.value, rel=1e-9)


def test_large_beta_gives_zero_network() -> None:
    problem = TrainingProblem.from_data(whitened(4, 5, seed=2), one_hot([0, 1, 1, 1], 2), 5.0)
    result = soft_threshold_optimum(problem)
    assert result.num_neurons == 0 and result.U.shape == (5, 0) and result.V.shape == (0, 2)
    assert result.value == pytest.approx(0.5 * 4)
    assert numpy_objective(problem, result.U, result.V) == pytest.approx(result.value, rel=1e-12)


@pytest.mark.parametrize("beta", [0.2, 0.8, 1.5, 3.0])
def test_agrees_with_exact_convex_program(beta: float) -> None:
    indicator = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    problem = TrainingProblem.from_data(whitened(5, 6, seed=3), indicator, beta)
    closed = soft_threshold_optimum(problem)
    convex = solve_convex_program(problem)
    assert convex.bound_kind == "exact" and len(convex.arrangements) == 2**5
    assert abs(convex.value - closed.value) <= 1e-5 * max(1.0, closed.value)


def test_mixed_sign_labels_give_lower_bound() -> None:
    y = np.array([1.0, -0.5, 2.0, 0.3, -1.0])
    problem = TrainingProblem.from_data(whitened(5, 6, seed=4), y, 0.3)
    with pytest.raises(InvalidInputError, match="negative entry"):
        soft_threshold_optimum(problem)
    relaxed = soft_threshold_optimum(problem, strict=False)
    assert not relaxed.applicable and relaxed.bound_kind == "lower"
    exact = solve_convex_program(problem)
    assert relaxed.value <= exact.value + 1e-7
    assert exact.value <= numpy_objective(problem, relaxed.U, relaxed.V) + 1e-7


def test_non_whitened_data_is_refused() -> None:
    rng = np.random.default_rng(5)
    problem = TrainingProblem.from_data(rng.standard_normal((4, 6)), one_hot([0, 1, 0, 1], 2), 0.1)
    with pytest.raises(InvalidInputError, match="whitened"):
        soft_threshold_optimum(problem)
    tall = TrainingProblem.from_data(
        rng.standard_normal((6, 3)), one_hot([0, 1, 0, 1, 0, 1], 2), 0.1
    )
    with pytest.raises(InvalidInputError, match="n = 6 > d = 3"):
        soft_threshold_optimum(tall, strict=False)


def test_helpers() -> None:
    assert whitening_error(whitened(3, 5, seed=6)) < 1e-12
    assert whitening_error(2 * np.eye(2)) == pytest.approx(3.0)
    assert soft_threshold_value([3.0, 1.0, 0.5], 1.0) == pytest.approx((3.0 - 0.5) + 0.5 + 0.125)
    rng = np.random.default_rng(7)
    Y = rng.standard_normal((5, 3))
    sigma, A, B = label_factors(Y)
    np.testing.assert_allclose((A * sigma) @ B.T, Y, atol=1e-12)
    assert np.all(A.sum(axis=0) >= 0) and np.all(np.diff(sigma) <= 0)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=7),
    extra=st.integers(min_value=0, max_value=3),
    classes=st.integers(min_value=1, max_value=4),
    beta=st.floats(min_value=0.05, max_value=3.0),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_random_one_hot_problems(n: int, extra: int, classes: int, beta: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=n).tolist()
    problem = TrainingProblem.from_data(
        whitened(n, n + extra, seed), one_hot(labels, classes), beta
    )
    result = soft_threshold_optimum(problem)
    assert numpy_objective(problem, result.U, result.V) == pytest.approx(
        result.value, rel=1e-9, abs=1e-12
    )
    assert 0.0 <= result.value <= 0.5 * n + 1e-12
    for _ in range(20):  # optimality against random competitors
        width = int(rng.integers(1, 6))
        U = rng.standard_normal((problem.d, width))
        V = rng.standard_normal((width, classes))
        assert result.value <= numpy_objective(problem, U, V) + 1e-9


def test_closed_form_bound_is_rigorous() -> None:
    problem = TrainingProblem.from_data(whitened(6, 8, seed=0), one_hot([0, 0, 1, 1, 1, 2], 3), 0.5)
    bound = soft_threshold_optimum(problem).bound
    assert (bound.kind, bound.rigour, bound.solve) == ("exact", "rigorous", None)
