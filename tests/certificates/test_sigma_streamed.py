"""Tests of copos.certificates.sigma_streamed: the streamed sigma(Z) is the exact one."""

from __future__ import annotations

import numpy as np
import pytest

from copos.certificates.certify import certify
from copos.certificates.dual_norm import dual_norm
from copos.certificates.sigma_streamed import sigma_streamed, subsets_per_batch
from copos.certificates.verify import verify
from copos.errors import TooLargeError
from copos.nets.arrangements import ScaledSVD, hyperplanes
from copos.nets.datasets import whitened
from copos.nets.problem import TrainingProblem
from copos.nets.training import train
from copos.relaxations.closed_form import soft_threshold_optimum


def _parts(X: np.ndarray):
    svd = ScaledSVD.of(X, scale=1.0)
    planes = hyperplanes(svd)
    return svd.X @ svd.Vt[: planes.rank].T, planes, svd.singular


def _random_directions_max(Z: np.ndarray, X: np.ndarray, count: int, seed: int) -> float:
    U = np.random.default_rng(seed).standard_normal((count, X.shape[1]))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    return float(np.max(np.linalg.norm(np.maximum(U @ X.T, 0.0) @ Z, axis=1)))


@pytest.mark.parametrize(("r", "n", "c", "seed"), [(3, 12, 2, 0), (4, 10, 3, 1), (5, 9, 2, 2)])
def test_streamed_equals_the_in_memory_enumeration(r: int, n: int, c: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X, Z = rng.standard_normal((n, r)), rng.standard_normal((n, c))
    streamed = dual_norm(Z, X, method="streamed")
    exact = dual_norm(Z, X, method="exact", max_exact_work=10**6)
    assert streamed.method == "streamed" and streamed.rigorous and streamed.complete
    assert streamed.value == pytest.approx(exact.value, rel=1e-11)
    assert streamed.lower == pytest.approx(exact.lower, rel=1e-11)
    assert streamed.lower <= streamed.value


@pytest.mark.parametrize(("r", "n", "seed"), [(3, 15, 3), (4, 12, 4)])
def test_brute_force_never_exceeds_the_streamed_sigma(r: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X, Z = rng.standard_normal((n, r)), rng.standard_normal((n, 2))
    result = dual_norm(Z, X, method="streamed")
    assert _random_directions_max(Z, X, 100_000, seed) <= result.value
    u = result.maximizer
    attained = np.linalg.norm(Z.T @ np.maximum(X @ u, 0.0))
    assert abs(np.linalg.norm(u) - 1.0) < 1e-12 and attained == pytest.approx(result.lower)


def test_degenerate_data_repeated_rows_and_rows_in_a_subspace() -> None:
    rng = np.random.default_rng(5)
    planar = np.column_stack([rng.standard_normal((5, 2)), np.zeros((5, 2))])
    X = np.vstack([planar, rng.standard_normal((5, 4))])
    X = np.vstack([X, X[:3], -X[5:7]])  # repeated and opposite rows
    Z = rng.standard_normal((X.shape[0], 2))
    streamed = dual_norm(Z, X, method="streamed")
    exact = dual_norm(Z, X, method="exact", max_exact_work=10**6)
    assert streamed.complete and streamed.rigorous
    assert streamed.value == pytest.approx(exact.value, rel=1e-11)


@pytest.mark.parametrize("d", [3, 4])
def test_a_ray_with_many_planes_through_it_is_listed_from_its_own_arrangement(d: int) -> None:
    # seven rows in a 2-plane: their hyperplanes share a line (d = 3) or a 2-flat (d = 4)
    rng = np.random.default_rng(6)
    planar = np.column_stack([rng.standard_normal((7, 2)), np.zeros((7, d - 2))])
    X = np.vstack([planar, rng.standard_normal((4, d))])
    Z = rng.standard_normal((11, 2))
    Xr, planes, singular = _parts(X)
    listed = sigma_streamed(Z, Xr, planes, singular, max_through=3)
    full = sigma_streamed(Z, Xr, planes, singular)
    exact = dual_norm(Z, X, method="exact", max_exact_work=10**6).value
    assert listed.complete and listed.skipped > 0 and full.skipped == 0
    assert listed.upper == pytest.approx(exact, rel=1e-11)
    assert full.upper == pytest.approx(exact, rel=1e-11)
    assert listed.faces < full.faces  # fewer faces than all sign vectors on T


def test_the_batch_size_bounds_the_sign_vectors_held() -> None:
    rng = np.random.default_rng(7)
    X, Z = rng.standard_normal((11, 4)), rng.standard_normal((11, 2))
    Xr, planes, singular = _parts(X)
    for max_held in (60, 400, 10_000):
        found = sigma_streamed(Z, Xr, planes, singular, max_held=max_held)
        assert found.peak_held <= max(max_held, 2 * 3**3)
        assert found.rays == 2 * 165  # every (r-1)-subset, both directions, whatever the batch
    assert subsets_per_batch(4, 60) == 1 and subsets_per_batch(4, 10_000) == 142


def test_threshold_answers_the_certificate_question() -> None:
    rng = np.random.default_rng(8)
    X, Z = rng.standard_normal((12, 4)), rng.standard_normal((12, 2))
    sigma = dual_norm(Z, X, method="exact", max_exact_work=10**6).value
    above = dual_norm(Z, X, method="streamed", threshold=1.5 * sigma)
    below = dual_norm(Z, X, method="streamed", threshold=0.5 * sigma)
    assert sigma * (1 - 1e-12) <= above.value <= 1.5 * sigma  # "yes", within the threshold
    assert below.value == pytest.approx(sigma, rel=1e-11)  # "no": the exact value
    assert above.nodes < below.nodes  # the threshold pruned faces


def test_auto_streams_beyond_max_patterns_and_names_the_method() -> None:
    rng = np.random.default_rng(9)
    X, Z = rng.standard_normal((10, 4)), rng.standard_normal((10, 2))
    streamed = dual_norm(Z, X, max_patterns=10)
    assert streamed.method == "streamed" and streamed.requested == "auto"
    assert "max_patterns" in streamed.note
    assert dual_norm(Z, X, max_patterns=10, max_stream_rays=10).method == "branch-and-bound"
    assert dual_norm(Z, X).method == "exact"


def test_high_rank_is_never_streamed_and_a_request_is_refused_before_building() -> None:
    """A vertex ray at rank r is surrounded by 2^(r-1) cells: at rank 20 one batch would need
    hundreds of GB (the test suite once hit the OOM killer through auto)."""
    rng = np.random.default_rng(4)
    X, Z = rng.standard_normal((25, 20)), rng.standard_normal((25, 3))
    assert dual_norm(Z, X, max_patterns=10).method != "streamed"
    with pytest.raises(TooLargeError, match="branch-and-bound"):
        dual_norm(Z, X, method="streamed")


def test_closed_form_whitened_optimum_has_sigma_beta() -> None:
    problem = whitened(n=4, d=5, c=2, seed=3, beta=0.5)
    net = soft_threshold_optimum(problem).network()
    result = dual_norm(net.residual(problem), problem, method="streamed")
    assert result.lower == pytest.approx(problem.beta, rel=1e-9)
    assert problem.beta <= result.value <= problem.beta * (1 + 1e-9)


def test_streamed_certificate_verifies() -> None:
    rng = np.random.default_rng(10)
    X, Y = rng.standard_normal((10, 4)), rng.standard_normal((10, 2))
    problem = TrainingProblem.from_data(X, Y, 0.5)
    net = train(problem, 4, epochs=200, seed=0).net
    cert = certify(net, problem, method="streamed", lifted="never")
    assert cert.method == "streamed" and cert.rigorous
    exact = dual_norm(net.residual(problem), problem, method="exact", max_exact_work=10**6)
    assert cert.sigma_lower <= exact.value * (1 + 1e-12) and exact.lower <= cert.sigma
    assert verify(cert, X, Y).passed
