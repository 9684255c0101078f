"""Tests of copos.recovery.rounding: lifting networks and TOS rounding of a lifted matrix."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.problem import TrainingProblem
from copos.nets.training import train
from copos.recovery.rounding import (
    RoundingResult,
    eigen_start,
    factor_misfit,
    kernel_basis,
    lifted_factor,
    lifted_from_network,
    network_from_factor,
    project_d1,
    project_d2,
    round_lifted,
)

N, D, C = 10, 2, 2
P = 2 * N + D + C


@pytest.fixture(scope="module")
def problem() -> TrainingProblem:
    rng = np.random.default_rng(0)
    return TrainingProblem.from_data(rng.standard_normal((N, D)), rng.standard_normal((N, C)), 0.1)


@pytest.fixture(scope="module")
def random_net() -> TwoLayerReLU:
    rng = np.random.default_rng(1)
    return TwoLayerReLU(U=rng.standard_normal((D, 3)), V=rng.standard_normal((3, C))).rebalanced()


@pytest.fixture(scope="module")
def trained_net(problem: TrainingProblem) -> TwoLayerReLU:
    """A width-3 Adam stationary point, rebalanced (a harder target than a random net)."""
    return train(problem, 3, epochs=5000, seed=1).net.rebalanced()


def _M(problem: TrainingProblem) -> np.ndarray:
    n, c = problem.n, problem.c
    return np.hstack([-np.eye(n), np.eye(n), problem.X, np.zeros((n, c))])


def _lifted_objective(Lambda: np.ndarray, problem: TrainingProblem) -> float:
    n, d = problem.n, problem.d
    av = Lambda[:n, 2 * n + d :]
    trace = np.trace(Lambda[2 * n :, 2 * n :])
    return 0.5 * float(np.sum((av - problem.Y) ** 2)) + 0.5 * problem.beta * trace


def _assert_valid(net: TwoLayerReLU, problem: TrainingProblem, max_width: int) -> None:
    assert isinstance(net, TwoLayerReLU)
    assert (net.d, net.c) == (problem.d, problem.c)
    assert net.m <= max_width
    assert np.all(np.isfinite(net.U)) and np.all(np.isfinite(net.V))


# ---------------------------------------------------------------------------- lifting
def test_lifted_from_network_structure(problem: TrainingProblem, random_net: TwoLayerReLU) -> None:
    Lambda = lifted_from_network(random_net, problem)
    n, d = problem.n, problem.d
    scale = float(np.max(np.abs(Lambda)))
    assert Lambda.shape == (P, P)
    np.testing.assert_array_equal(Lambda, Lambda.T)
    assert np.linalg.eigvalsh(Lambda).min() >= -1e-10 * scale
    np.testing.assert_allclose(_M(problem) @ Lambda, 0.0, atol=1e-10 * scale)
    np.testing.assert_allclose(np.diag(Lambda[:n, n : 2 * n]), 0.0, atol=1e-12 * scale)
    assert Lambda[: 2 * n, : 2 * n].min() >= 0.0
    np.testing.assert_allclose(Lambda[:n, 2 * n + d :], random_net.predict(problem.X), atol=1e-12)
    np.testing.assert_allclose(
        Lambda[2 * n : 2 * n + d, 2 * n : 2 * n + d], random_net.U @ random_net.U.T
    )
    assert _lifted_objective(Lambda, problem) == pytest.approx(
        random_net.objective(problem), rel=1e-12
    )


def test_lifted_factor_is_fixed_point_of_projections(
    problem: TrainingProblem, random_net: TwoLayerReLU
) -> None:
    L = lifted_factor(random_net, problem)
    assert L.shape == (P, random_net.m)
    np.testing.assert_allclose(project_d1(L, kernel_basis(problem)), L, atol=1e-12)
    np.testing.assert_array_equal(project_d2(L, problem.n), L)
    np.testing.assert_allclose(L @ L.T, lifted_from_network(random_net, problem), atol=1e-12)


def test_lifted_rejects_mismatched_net(problem: TrainingProblem) -> None:
    with pytest.raises(InvalidInputError):
        lifted_from_network(TwoLayerReLU(U=np.ones((D + 1, 2)), V=np.ones((2, C))), problem)
    with pytest.raises(InvalidInputError):
        lifted_from_network("net", problem)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- operators
def test_projections(problem: TrainingProblem) -> None:
    rng = np.random.default_rng(2)
    W = rng.standard_normal((P, 7))
    Nb = kernel_basis(problem)
    assert Nb.shape == (P, problem.n + problem.d + problem.c)
    np.testing.assert_allclose(Nb.T @ Nb, np.eye(Nb.shape[1]), atol=1e-12)
    W1 = project_d1(W, Nb)
    np.testing.assert_allclose(_M(problem) @ W1, 0.0, atol=1e-12)
    np.testing.assert_allclose(project_d1(W1, Nb), W1, atol=1e-12)
    W2 = project_d2(W, problem.n)
    a, b = W2[: problem.n], W2[problem.n : 2 * problem.n]
    assert a.min() >= 0 and b.min() >= 0 and np.all(a * b == 0)
    np.testing.assert_array_equal(W2[2 * problem.n :], W[2 * problem.n :])
    np.testing.assert_array_equal(project_d2(W2, problem.n), W2)


def test_factor_misfit_gradient() -> None:
    rng = np.random.default_rng(3)
    A = rng.standard_normal((6, 6))
    Lambda = A @ A.T
    W, E = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    value, grad = factor_misfit(W, Lambda)
    assert value == pytest.approx(0.5 * np.linalg.norm(W @ W.T - Lambda) ** 2)
    h = 1e-6
    numeric = (factor_misfit(W + h * E, Lambda)[0] - factor_misfit(W - h * E, Lambda)[0]) / (2 * h)
    assert numeric == pytest.approx(float(np.vdot(grad, E)), rel=1e-6)


def test_eigen_start_reproduces_psd_matrix_and_pads() -> None:
    rng = np.random.default_rng(4)
    A = rng.standard_normal((5, 3))
    Lambda = A @ A.T
    Z0 = eigen_start(Lambda, 8)
    assert Z0.shape == (5, 8)
    np.testing.assert_allclose(Z0 @ Z0.T, Lambda, atol=1e-10)
    np.testing.assert_array_equal(Z0[:, 5:], 0.0)


def test_network_from_factor_reads_blocks(
    problem: TrainingProblem, random_net: TwoLayerReLU
) -> None:
    net = network_from_factor(lifted_factor(random_net, problem), problem)
    np.testing.assert_allclose(net.predict(problem.X), random_net.predict(problem.X), atol=1e-12)
    assert net.objective(problem) <= random_net.objective(problem) + 1e-12


# ---------------------------------------------------------------------------- rounding
def test_rank_one_is_recovered_exactly(problem: TrainingProblem) -> None:
    rng = np.random.default_rng(0)
    net = TwoLayerReLU(U=rng.standard_normal((D, 1)), V=rng.standard_normal((1, C))).rebalanced()
    result = round_lifted(lifted_from_network(net, problem), problem, polish_epochs=0)
    assert result.status == "converged"
    assert result.rounded_objective == pytest.approx(net.objective(problem), rel=1e-9)
    np.testing.assert_allclose(result.rounded.predict(problem.X), net.predict(problem.X), atol=1e-6)
    assert result.polished is result.rounded and result.polish_run is None


@pytest.mark.parametrize("which", ["random_net", "trained_net"])
def test_rounding_a_lifted_network(
    problem: TrainingProblem, which: str, request: pytest.FixtureRequest
) -> None:
    net: TwoLayerReLU = request.getfixturevalue(which)
    target = net.objective(problem)
    result = round_lifted(lifted_from_network(net, problem), problem)
    assert isinstance(result, RoundingResult)
    _assert_valid(result.rounded, problem, P)
    _assert_valid(result.polished, problem, P)
    assert result.bound_kind == "upper"
    assert result.width == P and result.step == pytest.approx(
        0.75 / np.linalg.norm(lifted_from_network(net, problem))
    )
    assert result.status in ("converged", "max_iterations")
    assert result.rounded_objective == pytest.approx(result.rounded.objective(problem), rel=1e-12)
    assert result.polished_objective == pytest.approx(result.polished.objective(problem), rel=1e-12)
    # TOS is a heuristic with no guarantee: on these instances the rounded net lands within 1%
    # of the target (0.45% above for the trained net), so 2% leaves room for BLAS differences.
    assert result.rounded_objective <= 1.02 * target
    # Polishing can only go down, and ends at or below the lifted network's objective.
    assert result.polished_objective <= result.rounded_objective
    assert result.polished_objective <= target + 1e-6 * max(1.0, target)
    history = result.history
    for series in (history.phi, history.objective, history.d1_error, history.d2_error):
        assert series.shape == (result.iterations,)
        assert np.all(np.isfinite(series))
    assert history.objective[result.best_iteration] == pytest.approx(result.rounded_objective)
    assert result.improved_over_baseline is None and result.message == ""


def test_random_psd_matrix_gives_valid_net(problem: TrainingProblem) -> None:
    rng = np.random.default_rng(5)
    A = rng.standard_normal((P, P))
    result = round_lifted(A @ A.T, problem, width=P + 5, iterations=200, polish_epochs=100)
    for net in (result.rounded, result.polished):
        _assert_valid(net, problem, P + 5)
    assert np.isfinite(result.rounded_objective) and np.isfinite(result.polished_objective)
    assert result.polished_objective <= result.rounded_objective
    assert result.history.phi.size == result.iterations <= 200


def test_divergence_is_reported(problem: TrainingProblem, trained_net: TwoLayerReLU) -> None:
    Lambda = lifted_from_network(trained_net, problem)
    with pytest.warns(RuntimeWarning, match="diverged"):
        result = round_lifted(
            Lambda, problem, step=1e3 / float(np.linalg.norm(Lambda)), polish_epochs=50
        )
    assert result.status == "diverged"
    assert result.iterations < 1000
    assert "diverged" in result.message
    _assert_valid(result.rounded, problem, P)
    _assert_valid(result.polished, problem, P)
    assert np.isfinite(result.polished_objective)


def test_zero_matrix_gives_zero_network(problem: TrainingProblem) -> None:
    result = round_lifted(np.zeros((P, P)), problem)
    assert result.status == "converged"
    assert result.rounded.m == 0 and result.polished.m == 0
    assert result.polished_objective == pytest.approx(0.5 * float(np.sum(problem.Y**2)))
    assert "no live neuron" in result.message


def test_baseline_comparison(problem: TrainingProblem, random_net: TwoLayerReLU) -> None:
    Lambda = lifted_from_network(random_net, problem)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        failed = round_lifted(Lambda, problem, iterations=50, polish_epochs=50, baseline=1e-3)
        beaten = round_lifted(Lambda, problem, iterations=50, polish_epochs=50, baseline=1e6)
    assert failed.improved_over_baseline is False
    assert "did not improve on the baseline" in failed.message
    assert "did not improve" in failed.summary()
    assert beaten.improved_over_baseline is True
    assert beaten.message == ""


@pytest.mark.parametrize(
    ("matrix", "kwargs"),
    [
        (np.eye(P - 1), {}),
        (np.ones((P, P + 1)), {}),
        (np.ones(P), {}),
        (np.triu(np.ones((P, P))), {}),
        (np.where(np.eye(P) > 0, np.nan, 0.0), {}),
        (np.where(np.eye(P) > 0, np.inf, 0.0), {}),
        (np.eye(P), {"width": 0}),
        (np.eye(P), {"step": -1.0}),
        (np.eye(P), {"iterations": 0}),
        (np.eye(P), {"polish_epochs": -1}),
        (np.eye(P), {"baseline": float("nan")}),
        (np.eye(P), {"polish_optimizer": "sgd"}),
        (np.eye(P), {"tol": 0.0}),
    ],
)
def test_bad_input_raises(
    problem: TrainingProblem, matrix: np.ndarray, kwargs: dict[str, object]
) -> None:
    with pytest.raises(InvalidInputError):
        round_lifted(matrix, problem, **kwargs)  # type: ignore[arg-type]


def test_bad_problem_raises() -> None:
    with pytest.raises(InvalidInputError):
        round_lifted(np.eye(P), "problem")  # type: ignore[arg-type]


def test_rounding_bound_is_a_rigorous_upper_bound(
    problem: TrainingProblem, random_net: TwoLayerReLU
) -> None:
    result = round_lifted(lifted_from_network(random_net, problem), problem, polish_epochs=0)
    bound = result.bound
    assert (bound.kind, bound.rigour, bound.value) == ("upper", "rigorous", result.objective)
    assert bound.status == f"TOS {result.status}"
