"""Tests of copos.certificates.sigma_search: the branch and bound's interval always holds sigma(Z)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copos.certificates.certificate import Certificate
from copos.certificates.certify import certify, dual_scale
from copos.certificates.dual_norm import dual_norm
from copos.certificates.sigma_search import (
    bisect,
    initial_cones,
    sigma_branch_and_bound,
)
from copos.certificates.verify import verify
from copos.errors import InvalidInputError
from copos.nets.datasets import whitened
from copos.nets.problem import TrainingProblem
from copos.nets.training import train
from copos.relaxations.closed_form import soft_threshold_optimum


def _f(Z: np.ndarray, X: np.ndarray, U: np.ndarray) -> np.ndarray:
    """||Z^T (X u)_+|| for every column u of U."""
    return np.linalg.norm(Z.T @ np.maximum(X @ U, 0.0), axis=0)


def _grid_max_2d(Z: np.ndarray, X: np.ndarray, points: int = 200_000) -> tuple[float, float]:
    """Max of f over a fine grid of the circle, and the Lipschitz slack of the grid."""
    angles = np.linspace(0.0, 2 * np.pi, points, endpoint=False)
    values = _f(Z, X, np.vstack([np.cos(angles), np.sin(angles)]))
    slack = np.linalg.norm(Z, 2) * np.linalg.norm(X, 2) * np.pi / points
    return float(values.max()), float(slack)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 9),
    c=st.integers(1, 3),
    seed=st.integers(0, 10_000),
)
def test_interval_holds_the_grid_maximum_in_2d(n: int, c: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X, Z = rng.standard_normal((n, 2)), rng.standard_normal((n, c))
    found = sigma_branch_and_bound(Z, X)
    grid, slack = _grid_max_2d(Z, X)
    assert found.complete and found.lower <= found.upper
    assert grid <= found.upper * (1 + 1e-12)
    assert found.lower >= grid - slack  # the lower end is (nearly) the maximum
    assert abs(float(_f(Z, X, found.maximizer[:, None])[0]) - found.lower) <= 1e-12 * found.lower


@pytest.mark.parametrize("d", [3, 4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_interval_closes_on_the_exhaustive_enumeration(d: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, c = 11 - d, 2  # the enumeration's face count grows like n^(d-1)
    X, Z = rng.standard_normal((n, d)), rng.standard_normal((n, c))
    exact = dual_norm(Z, X, method="exact")
    searched = dual_norm(Z, X, method="branch-and-bound")
    assert searched.method == "branch-and-bound" and searched.rigorous and searched.complete
    assert searched.lower <= exact.value and exact.lower <= searched.value
    assert searched.value == pytest.approx(exact.value, rel=2e-9)
    assert searched.gap <= 2e-9 * searched.value


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 7), seed=st.integers(0, 10_000))
def test_random_small_instances_in_3d(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X, Z = rng.standard_normal((n, 3)), rng.standard_normal((n, 2))
    exact = dual_norm(Z, X, method="exact")
    searched = dual_norm(Z, X, method="branch-and-bound")
    assert searched.lower <= exact.value and exact.lower <= searched.value * (1 + 1e-12)
    assert searched.complete and searched.gap <= 2e-9 * max(searched.value, 1e-300)


def test_closed_form_whitened_optimum_has_sigma_beta() -> None:
    # X X^T = I and the soft-thresholded SVD is optimal: sigma(Y - f(X)) = beta (tight)
    problem = whitened(n=4, d=5, c=2, seed=3, beta=0.5)
    net = soft_threshold_optimum(problem).network()
    result = dual_norm(net.residual(problem), problem, method="branch-and-bound")
    assert result.complete
    assert result.lower == pytest.approx(problem.beta, rel=2e-9)
    assert problem.beta <= result.value <= problem.beta * (1 + 2e-9)


def test_budget_stop_gives_a_valid_wider_interval() -> None:
    rng = np.random.default_rng(5)
    X, Z = rng.standard_normal((9, 3)), rng.standard_normal((9, 2))
    exact = dual_norm(Z, X, method="exact")
    full = dual_norm(Z, X, method="branch-and-bound")
    stopped = dual_norm(Z, X, method="branch-and-bound", node_budget=10)
    assert not stopped.complete and "nodes budget" in stopped.note and stopped.nodes <= 12
    assert stopped.lower <= exact.value <= stopped.value
    assert stopped.gap > full.gap and stopped.value >= full.value


def test_threshold_answers_the_certificate_question() -> None:
    rng = np.random.default_rng(6)
    X, Z = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    sigma = dual_norm(Z, X, method="exact").value
    above = dual_norm(Z, X, method="branch-and-bound", threshold=1.5 * sigma)
    assert above.complete and sigma <= above.value <= 1.5 * sigma
    assert above.nodes < dual_norm(Z, X, method="branch-and-bound").nodes
    below = dual_norm(Z, X, method="branch-and-bound", threshold=0.5 * sigma)
    assert below.lower > 0.5 * sigma  # a witness u with ||Z^T (Xu)_+|| > threshold
    assert below.lower <= sigma <= below.value
    assert "witness" in below.note and below.value <= below.lower * (1 + 1.01e-3)


def test_progress_reports_a_tightening_interval() -> None:
    rng = np.random.default_rng(7)
    X, Z = rng.standard_normal((12, 4)), rng.standard_normal((12, 3))
    seen: list[tuple[int, float, float]] = []
    result = dual_norm(
        Z, X, method="branch-and-bound", progress=lambda k, lo, hi: seen.append((k, lo, hi))
    )
    assert seen and seen[-1][1] == pytest.approx(result.lower, rel=1e-9)
    assert seen[-1][2] == pytest.approx(result.value, rel=1e-12)
    assert all(lo <= hi for _, lo, hi in seen)
    lowers = [lo for _, lo, _ in seen]
    assert lowers == sorted(lowers)


def _adversarial(kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X, Z = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    if kind == "near-parallel":
        X[1] = X[0] + 1e-9 * rng.standard_normal(3)
        X[2] = -X[0] * (1 + 1e-12)
    elif kind == "duplicates":
        X[4:] = X[:4]
    elif kind == "zero-rows":
        X[[0, 3]] = 0.0
        Z[5] = 0.0
    elif kind == "huge":
        X, Z = X * 2.0**500, Z * 1e140
    elif kind == "tiny":
        X, Z = X * 1e-150, Z * 2.0**-600
    elif kind == "mixed-scales":
        X[0] *= 1e8
        Z[1] *= 1e-8
    return X, Z


@pytest.mark.parametrize(
    "kind", ["near-parallel", "duplicates", "zero-rows", "huge", "tiny", "mixed-scales"]
)
def test_never_an_upper_end_below_sigma(kind: str) -> None:
    X, Z = _adversarial(kind, np.random.default_rng(11))
    searched = dual_norm(Z, X, method="branch-and-bound")
    assert np.isfinite(searched.value) and searched.rigorous and searched.complete
    # every proven lower bound on sigma: the enumeration's witness and 20,000 sampled directions
    # (at unit scale: f(tZ; sX) = t s f(Z; X))
    x_scale, z_scale = np.abs(X).max(), np.abs(Z).max()
    U = np.random.default_rng(0).standard_normal((3, 20_000))
    sampled = _f(Z / z_scale, X / x_scale, U / np.linalg.norm(U, axis=0)).max()
    witness = dual_norm(Z, X, method="exact").lower
    assert max(sampled * x_scale * z_scale, witness) <= searched.value
    # the lower end is attained at the returned direction
    attained = _f(Z / z_scale, X / x_scale, searched.maximizer[:, None])[0] * x_scale * z_scale
    assert searched.lower == pytest.approx(attained, rel=1e-12)
    assert searched.gap <= 2e-9 * searched.value


def test_rank_one_and_zero_residual() -> None:
    X = np.outer(np.arange(1.0, 6.0) - 3.0, [1.0, 2.0])
    Z = np.arange(10.0).reshape(5, 2)
    exact = dual_norm(Z, X, method="exact")
    searched = dual_norm(Z, X, method="branch-and-bound")
    assert searched.complete and searched.value == pytest.approx(exact.value, rel=1e-12)
    zero = dual_norm(np.zeros((5, 2)), X, method="branch-and-bound")
    assert zero.value == 0.0 and zero.lower == 0.0


def test_hints_start_the_lower_end() -> None:
    rng = np.random.default_rng(8)
    X, Z = rng.standard_normal((9, 3)), rng.standard_normal((9, 2))
    exact = dual_norm(Z, X, method="exact")
    hinted = dual_norm(Z, X, method="branch-and-bound", hints=exact.maximizer, node_budget=1)
    assert hinted.lower == pytest.approx(exact.lower, rel=1e-12)


def test_cones_cover_the_sphere_and_bisection_keeps_them() -> None:
    for r in (1, 2, 3, 11):
        cones = initial_cones(r)
        U = np.random.default_rng(r).standard_normal((r, 2000))
        inside = np.zeros(U.shape[1], dtype=bool)
        for V in cones:
            inside |= np.all(np.linalg.solve(V, U) >= -1e-12, axis=0)
        assert inside.all()
    V = initial_cones(3)[0]
    left, right = bisect(V)
    U = V @ np.random.default_rng(0).random((3, 500))
    covered = np.all(np.linalg.solve(left, U) >= -1e-12, axis=0) | np.all(
        np.linalg.solve(right, U) >= -1e-12, axis=0
    )
    assert covered.all()


@pytest.mark.parametrize(
    "options",
    [{"threshold": -1.0}, {"time_budget": 0.0}, {"node_budget": 0}, {"hints": [[np.nan, 1.0]]}],
)
def test_bad_search_options_are_refused(options: dict) -> None:
    X, Z = np.eye(2), np.ones((2, 1))
    with pytest.raises(InvalidInputError):
        dual_norm(Z, X, method="branch-and-bound", **options)


def test_search_certificate_verifies() -> None:
    rng = np.random.default_rng(9)
    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    problem = TrainingProblem.from_data(X, Y, 0.5)
    net = train(problem, 4, epochs=200, seed=0).net
    cert = certify(net, problem, method="branch-and-bound", lifted="never")
    assert cert.method == "branch-and-bound" and cert.rigorous
    exact = dual_norm(net.residual(problem), problem, method="exact")
    assert cert.sigma_lower <= exact.value and exact.lower <= cert.sigma
    assert verify(cert, X, Y).passed


def _budget_limited_certificate() -> tuple[Certificate, np.ndarray, np.ndarray]:
    """A branch-and-bound certificate whose search was stopped by its (tiny) time budget."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 6))
    Y = np.maximum(X @ rng.standard_normal((6, 3)), 0) @ rng.standard_normal((3, 1))
    problem = TrainingProblem.from_data(X, Y, 0.1)
    net = train(problem, 4, epochs=100, seed=0).net
    cert = certify(net, problem, method="branch-and-bound", lifted="never", sigma_budget=0.2)
    return cert, X, Y


def test_budget_limited_search_certificate_verifies_by_proving_its_sigma() -> None:
    # the stored sigma is an anytime upper end: verify proves sigma(Z) <= max(stored, beta)
    # (whatever a longer search would find) instead of recomputing it to equality
    cert, X, Y = _budget_limited_certificate()
    assert cert.options["sigma_budget"] == 0.2 and cert.sigma > cert.sigma_lower * 1.01
    result = verify(cert, X, Y)
    assert result.passed, result.reasons
    assert result.sigma == cert.sigma and result.lower_bound == pytest.approx(cert.lower_bound)


def test_search_certificate_with_a_sigma_below_its_witness_fails() -> None:
    cert, X, Y = _budget_limited_certificate()
    low = 0.5 * cert.sigma_lower  # below sigma(Z): no search can prove it
    tampered = replace(cert, sigma=low, scale=dual_scale(cert.beta, low))
    result = verify(tampered, X, Y, sigma_budget=1.0)
    assert not result.passed
    assert any(reason.startswith("sigma:") for reason in result.reasons)
    lifted_witness = replace(cert, sigma_lower=2.0 * cert.sigma)  # a witness above the upper end
    assert any(r.startswith("sigma_lower") for r in verify(lifted_witness, X, Y).reasons)
