"""Tests of copos.certificates.improve: witnesses of non-optimality and the improve loop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from copos.certificates.certify import certify_with_dual_norm
from copos.certificates.improve import improve, polish_by_convex_program, witness_direction
from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.datasets import planted, whitened
from copos.nets.polish import polish
from copos.nets.problem import TrainingProblem
from copos.relaxations.closed_form import soft_threshold_optimum


def _whitened() -> tuple[TrainingProblem, TwoLayerReLU, float]:
    problem = whitened(n=4, d=5, c=3, seed=0, beta=0.1, class_sizes=(2, 1, 1))
    optimum = soft_threshold_optimum(problem)
    return problem, TwoLayerReLU(optimum.U, optimum.V), optimum.value


def _grid_sigma(Z: np.ndarray, X: np.ndarray, points: int = 20_000) -> float:
    """max ||Z^T (Xu)_+|| over a grid of unit directions u in R^2 (brute force)."""
    angles = np.linspace(0.0, 2.0 * np.pi, points, endpoint=False)
    directions = np.vstack([np.cos(angles), np.sin(angles)])
    return float(np.max(np.linalg.norm(Z.T @ np.maximum(X @ directions, 0.0), axis=0)))


def test_a_net_one_neuron_short_gets_a_witness_improves_and_certifies() -> None:
    problem, optimum, p_star = _whitened()
    short = TwoLayerReLU(optimum.U[:, :-1], optimum.V[:-1])
    result = improve(short, problem)
    first = result.history[0]
    assert first.witness and first.decrease > 0.0 and first.sigma_lower > problem.beta
    assert first.verdict == "not certified"
    assert result.optimal and result.reason.startswith("certified")
    assert abs(result.certificate.objective - p_star) <= 1e-10 * p_star
    assert result.certificate.relative_gap <= 1e-8
    assert result.certificate.original_objective == short.objective(problem)
    assert result.decrease == pytest.approx(short.objective(problem) - p_star, rel=1e-9)
    np.testing.assert_allclose(result.net.U, result.certificate.U)


def test_d2_witness_matches_brute_force_and_improve_certifies() -> None:
    problem = planted(n=8, d=2, c=1, teacher_width=3, bias=False, beta=0.1)
    rng = np.random.default_rng(0)
    net = TwoLayerReLU(0.1 * rng.standard_normal((2, 1)), 0.1 * rng.standard_normal((1, 1)))
    certificate, norm = certify_with_dual_norm(net, problem, polish=True)
    u = witness_direction(norm, problem.beta)
    assert u is not None
    Z = certificate.network().residual(problem)
    grid = _grid_sigma(Z, problem.X)
    assert grid <= norm.lower * (1 + 1e-9)  # the witness is the maximiser ...
    assert norm.lower <= grid * (1 + 1e-3)  # ... which the grid approaches
    result = improve(net, problem, max_iterations=10)
    assert result.optimal
    final_Z = result.net.residual(problem)
    assert _grid_sigma(final_Z, problem.X) <= problem.beta * (1 + 1e-9)


def test_an_optimal_net_gets_no_witness() -> None:
    problem, optimum, _ = _whitened()
    certificate, norm = certify_with_dual_norm(optimum, problem)
    assert certificate.optimal
    assert witness_direction(norm, problem.beta) is None
    result = improve(optimum, problem)
    assert len(result.history) == 1 and not result.history[0].witness
    assert result.optimal and result.decrease == pytest.approx(0.0, abs=1e-12)


def test_improve_stops_when_out_of_rounds() -> None:
    problem, optimum, _ = _whitened()
    short = TwoLayerReLU(optimum.U[:, :-1], optimum.V[:-1])
    result = improve(short, problem, max_iterations=1)
    assert not result.optimal and "out of budget: 1 rounds" in result.reason
    assert len(result.history) == 1 and result.history[0].witness
    assert "round 1" in result.summary() and "stopped" in result.summary()


def test_witness_direction_needs_a_maximizer_above_beta() -> None:
    problem, optimum, _ = _whitened()
    _, norm = certify_with_dual_norm(optimum, problem)
    assert witness_direction(norm, norm.lower + 1.0) is None
    assert witness_direction(norm, norm.lower / 2) is not None
    unknown = type(norm)(**{**vars(norm), "lower": math.nan})
    assert witness_direction(unknown, 0.0) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_iterations": 0},
        {"seconds": 0.0},
        {"seconds": -1.0},
        {"seconds": True},
        {"polish": True},
    ],
)
def test_improve_refuses_bad_budgets(kwargs: dict) -> None:
    problem, optimum, _ = _whitened()
    with pytest.raises(InvalidInputError):
        improve(optimum, problem, **kwargs)


def test_the_restricted_convex_program_route_never_raises_the_objective() -> None:
    problem = planted(n=8, d=2, c=1, teacher_width=3, bias=False, beta=0.1)
    rng = np.random.default_rng(1)
    net = TwoLayerReLU(rng.standard_normal((2, 4)), rng.standard_normal((4, 1)))
    result = polish_by_convex_program(net, problem, solver="clarabel")
    assert result.original is net and result.original_objective == net.objective(problem)
    assert result.objective == result.net.objective(problem) <= net.objective(problem)
    assert result.objective <= polish(net, problem).objective


def test_the_restricted_convex_program_needs_scalar_output() -> None:
    problem, optimum, _ = _whitened()
    with pytest.raises(InvalidInputError):
        polish_by_convex_program(optimum, problem)


def test_the_certificate_row_says_when_the_net_is_proven_not_optimal() -> None:
    problem, optimum, _ = _whitened()
    short = TwoLayerReLU(optimum.U[:, :-1], optimum.V[:-1])
    missing, _ = certify_with_dual_norm(short, problem)
    assert missing.witness and not missing.optimal
    row = missing.bound
    assert "witness: the net is not optimal" in row.status
    assert row.certificate["sigma_lower"] == missing.sigma_lower > problem.beta
    assert f"sigma in [{missing.sigma_lower:.6g}, {missing.sigma:.6g}]" in row.note
    optimal, _ = certify_with_dual_norm(optimum, problem)
    assert optimal.optimal and not optimal.witness
    assert "witness" not in optimal.bound.status
