"""Tests of copos.certificate: dual norm, certificates, verification."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from copos.certificate import (
    NOT_CERTIFIED,
    OPTIMAL,
    Certificate,
    certified_mu,
    certify,
    dual_lower_bound,
    dual_norm,
    verify,
)
from copos.datasets import planted, whitened
from copos.errors import DataFileError, InvalidInputError
from copos.network.closed_form import soft_threshold_optimum
from copos.network.model import TwoLayerReLU
from copos.network.problem import TrainingProblem
from copos.network.training import train


def _low_rank(n: int, d: int, r: int, c: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, r)) @ rng.standard_normal((r, d))
    return X, rng.standard_normal((n, c))


def _sampled_sigma(Z: np.ndarray, X: np.ndarray, samples: int = 50_000, seed: int = 0) -> float:
    """max ||Z^T (Xu)_+|| over random unit u: a lower bound on sigma(Z)."""
    U = np.random.default_rng(seed).standard_normal((X.shape[1], samples))
    U /= np.linalg.norm(U, axis=0)
    return float(np.max(np.linalg.norm(Z.T @ np.maximum(X @ U, 0.0), axis=0)))


@pytest.fixture(scope="module")
def whitened_problem() -> TrainingProblem:
    return whitened(n=5, d=6, c=3, seed=1, beta=0.5)


@pytest.fixture(scope="module")
def optimal_certificate(whitened_problem: TrainingProblem) -> Certificate:
    net = soft_threshold_optimum(whitened_problem).network()
    return certify(net, whitened_problem, method="exact")


# ------------------------------------------------------------------------------ dual norm


@pytest.mark.parametrize("rank", [2, 3])
def test_relaxation_upper_bounds_exact(rank: int) -> None:
    X, Z = _low_rank(n=8, d=4, r=rank, c=2, seed=rank)
    exact = dual_norm(Z, X, method="exact", prune=False)
    relaxed = dual_norm(Z, X, method="relaxation", prune=False)
    crude = dual_norm(Z, X, method="global")
    assert exact.method == "exact" and relaxed.method == "relaxation"
    assert exact.rigorous and relaxed.rigorous and crude.rigorous
    assert exact.rank == rank and exact.num_patterns == relaxed.num_patterns
    assert exact.pattern_bounds is not None and relaxed.pattern_bounds is not None
    assert np.all(relaxed.pattern_bounds >= exact.pattern_bounds * (1 - 1e-9))
    assert relaxed.value >= exact.value * (1 - 1e-9)
    assert crude.value >= exact.value
    # the exact value is attained (maximiser) and not below what sampling finds
    assert exact.maximizer is not None
    assert abs(exact.lower - exact.value) <= 1e-9 * exact.value
    assert _sampled_sigma(Z, X) <= exact.value
    assert relaxed.lower <= exact.value * (1 + 1e-9)


def test_pruning_keeps_the_value() -> None:
    X, Z = _low_rank(n=9, d=3, r=3, c=2, seed=7)
    pruned = dual_norm(Z, X, method="exact")
    full = dual_norm(Z, X, method="exact", prune=False)
    assert pruned.value == pytest.approx(full.value, rel=1e-12)
    assert pruned.num_evaluated <= full.num_evaluated == full.num_patterns


def test_auto_choice_and_global_fallback() -> None:
    X, Z = _low_rank(n=8, d=4, r=3, c=2, seed=3)
    assert dual_norm(Z, X).method == "exact"
    assert dual_norm(Z, X, max_exact_work=10).method == "relaxation"
    fallback = dual_norm(Z, X, max_patterns=5)
    assert fallback.method == "global" and "max_patterns" in fallback.note
    expected = np.linalg.norm(Z, 2) * np.linalg.norm(X, 2)
    assert fallback.value == pytest.approx(expected, rel=1e-10)
    with pytest.raises(InvalidInputError, match="max_patterns"):
        dual_norm(Z, X, method="exact", max_patterns=5)
    with pytest.raises(InvalidInputError, match="max_exact_work"):
        dual_norm(Z, X, method="exact", max_exact_work=10)


def test_certified_mu_repairs_a_bad_solution() -> None:
    rng = np.random.default_rng(0)
    B = rng.standard_normal((2, 3))
    G = B.T @ B
    A = rng.standard_normal((6, 3))
    N = rng.standard_normal((6, 6))  # not even nonnegative
    mu = certified_mu(0.0, N, G, A)
    N_hat = np.maximum((N + N.T) / 2, 0)
    assert np.linalg.eigvalsh(mu * np.eye(3) - G - A.T @ N_hat @ A)[0] >= 0
    # hence a valid bound on max u^T G u over the cone (checked by sampling)
    U = rng.standard_normal((3, 20_000))
    U /= np.linalg.norm(U, axis=0)
    inside = np.all(A @ U >= 0, axis=0)
    assert np.max(np.sum(U[:, inside] * (G @ U[:, inside]), axis=0), initial=0.0) <= mu


def test_zero_residual_has_zero_dual_norm() -> None:
    X, Z = _low_rank(n=5, d=3, r=2, c=2, seed=0)
    result = dual_norm(np.zeros_like(Z), X)
    assert result.value == 0.0 and result.rigorous


# ------------------------------------------------------------------------------ certify


def test_closed_form_optimum_is_certified(
    whitened_problem: TrainingProblem, optimal_certificate: Certificate
) -> None:
    cert = optimal_certificate
    assert cert.method == "exact" and cert.rigorous
    assert cert.verdict == OPTIMAL and cert.optimal
    assert 0 <= cert.gap <= 1e-6 * max(1.0, cert.objective)
    assert cert.sigma == pytest.approx(whitened_problem.beta, rel=1e-9)
    value = soft_threshold_optimum(whitened_problem).value
    assert cert.lower_bound == pytest.approx(value, abs=1e-9)
    assert cert.objective == pytest.approx(value, abs=1e-9)
    # auto picks the exact method at this size; the relaxation certifies it too
    net = cert.network()
    assert certify(net, whitened_problem).method == "exact"
    assert certify(net, whitened_problem, method="relaxation").optimal


def test_perturbed_networks_are_not_certified(whitened_problem: TrainingProblem) -> None:
    net = soft_threshold_optimum(whitened_problem).network()
    scaled = TwoLayerReLU(net.U * 1.1, net.V * 1.1)
    rng = np.random.default_rng(0)
    extra = TwoLayerReLU(
        np.hstack([net.U, rng.standard_normal((net.d, 1))]),
        np.vstack([net.V, rng.standard_normal((1, net.c))]),
    )
    for other in (scaled, extra):
        cert = certify(other, whitened_problem, method="exact")
        assert cert.verdict == NOT_CERTIFIED and not cert.optimal
        assert "gap too large" in cert.reason
        assert cert.gap > 1e-3
        assert cert.lower_bound <= cert.objective


def test_lower_bound_below_trained_objectives() -> None:
    rng = np.random.default_rng(5)
    problem = TrainingProblem.from_data(
        rng.standard_normal((8, 2)), rng.standard_normal((8, 2)), 0.1, bias=True
    )
    nets = [train(problem, width, epochs=400, seed=seed).net for width in (2, 6) for seed in (0, 1)]
    objectives = [net.objective(problem) for net in nets]
    for net in nets:
        cert = certify(net, problem)
        assert cert.rigorous and cert.method == "exact"
        assert cert.lower_bound <= min(objectives) + 1e-12
        assert 0.0 <= cert.scale <= 1.0
        Z = net.residual(problem)
        assert cert.lower_bound == pytest.approx(
            -0.5 * np.sum((cert.scale * Z - problem.Y) ** 2) + 0.5 * np.sum(problem.Y**2),
            abs=1e-10,
        )
    assert dual_lower_bound(np.zeros((8, 2)), problem.Y, 1.0) == 0.0


# ------------------------------------------------------------------------------ lifted bound


@pytest.fixture(scope="module")
def lifted_case() -> tuple[TrainingProblem, Certificate]:
    problem = planted(n=25, d=10, c=2, seed=2, beta=0.1)
    net = train(problem, 3, epochs=300, seed=0).net
    return problem, certify(net, problem, method="global", lifted="always", lifted_tol=1e-5)


def test_lifted_bound_joins_the_certificate(lifted_case: tuple[TrainingProblem, Certificate]) -> None:
    from copos.network.lifted import solve_lifted_dnn

    problem, cert = lifted_case
    assert cert.lifted is not None and cert.lifted.status == "optimal"
    reference = solve_lifted_dnn(problem, solver="clarabel").value
    assert cert.lifted.value <= reference + 1e-6 * reference
    assert cert.lifted.value >= reference * (1 - 1e-4)
    sigma_bound = dual_lower_bound(cert.network().residual(problem), problem.Y, cert.scale)
    assert cert.lower_bound == max(sigma_bound, cert.lifted.value)
    assert cert.lower_bound <= cert.objective
    assert certify(cert.network(), problem, method="global", lifted="never").lifted is None


def test_lifted_certificate_verifies_and_detects_tampering(
    tmp_path: Path, lifted_case: tuple[TrainingProblem, Certificate]
) -> None:
    problem, cert = lifted_case
    path = cert.save(tmp_path / "lifted.json")
    assert Certificate.load(path).to_dict() == cert.to_dict()
    assert verify(path, problem.X, problem.Y).passed
    document = cert.to_dict()
    document["lifted"]["value"] = cert.lifted.value * 1.001  # type: ignore[union-attr]
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    result = verify(tampered, problem.X, problem.Y)
    assert not result.passed
    assert any("lifted lower bound" in line for line in result.reasons)


def test_lifted_mode_is_checked(lifted_case: tuple[TrainingProblem, Certificate]) -> None:
    problem, cert = lifted_case
    with pytest.raises(InvalidInputError):
        certify(cert.network(), problem, lifted="sometimes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        certify(cert.network(), problem, lifted="never", lifted_tol=0.0)


# ------------------------------------------------------------------------------ files, verify


def test_save_load_roundtrip_and_verify(
    tmp_path: Path, whitened_problem: TrainingProblem, optimal_certificate: Certificate
) -> None:
    path = optimal_certificate.save(tmp_path / "cert.json")
    loaded = Certificate.load(path)
    assert loaded.to_dict() == optimal_certificate.to_dict()
    document = json.loads(path.read_text())
    assert document["data"]["X_shape"] == [5, 6] and len(document["data"]["sha256"]) == 64
    result = verify(path, whitened_problem.X, whitened_problem.Y)
    assert result.passed and not result.reasons and bool(result)
    assert {check.name for check in result.checks} >= {"data fingerprint", "sigma", "verdict"}


def _tampered(tmp_path: Path, cert: Certificate, change: dict[str, object]) -> Path:
    document = cert.to_dict()
    for key, value in change.items():
        if key in ("U", "V"):
            document["network"][key] = value
        else:
            document[key] = value
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"lower_bound": "L+"}, "lower bound L"),
        ({"U": "U*1.01"}, "objective F"),
        ({"beta": 0.4}, "objective F"),
        ({"sigma": 0.45}, "sigma"),
        ({"verdict": NOT_CERTIFIED}, "verdict"),
    ],
)
def test_tampered_certificates_fail(
    tmp_path: Path,
    whitened_problem: TrainingProblem,
    optimal_certificate: Certificate,
    change: dict[str, object],
    reason: str,
) -> None:
    cert = optimal_certificate
    values: dict[str, object] = {}
    for key, value in change.items():
        if value == "L+":
            values[key] = cert.lower_bound + 1e-3
        elif value == "U*1.01":
            values[key] = (cert.U * 1.01).tolist()
        else:
            values[key] = value
    result = verify(_tampered(tmp_path, cert, values), whitened_problem.X, whitened_problem.Y)
    assert not result.passed
    assert any(reason in line for line in result.reasons), result.reasons
    assert "REJECTED" in result.summary()


def test_other_data_fails_fingerprint(
    whitened_problem: TrainingProblem, optimal_certificate: Certificate
) -> None:
    other = whitened(n=5, d=6, c=3, seed=2, beta=0.5)
    result = verify(optimal_certificate, other.X, other.Y)
    assert not result.passed and "data fingerprint" in result.reasons[0]
    Y = whitened_problem.Y.copy()
    Y[0] = Y[0][::-1]
    assert not verify(optimal_certificate, whitened_problem.X, Y).passed


def test_relaxation_certificate_verifies() -> None:
    X, Y = _low_rank(n=7, d=3, r=3, c=2, seed=11)
    problem = TrainingProblem.from_data(X, Y, 0.2)
    net = train(problem, 4, epochs=300, seed=0).net
    cert = certify(net, problem, method="relaxation")
    assert cert.method == "relaxation" and cert.rigorous
    assert verify(cert, X, Y).passed


# ------------------------------------------------------------------------------ bad input


def test_bad_input_raises(
    tmp_path: Path, whitened_problem: TrainingProblem, optimal_certificate: Certificate
) -> None:
    X, Z = _low_rank(n=5, d=3, r=2, c=2, seed=0)
    with pytest.raises(InvalidInputError):
        dual_norm(Z[:4], X)
    bad = Z.copy()
    bad[0, 0] = np.nan
    with pytest.raises(InvalidInputError):
        dual_norm(bad, X)
    with pytest.raises(InvalidInputError):
        dual_norm(Z, X, method="magic")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        certify(TwoLayerReLU(np.ones((2, 1)), np.ones((1, 3))), whitened_problem)
    with pytest.raises(InvalidInputError):
        certify(optimal_certificate.network(), whitened_problem, eps=0.0)
    nan_X = whitened_problem.X.copy()
    nan_X[1, 1] = np.nan
    with pytest.raises(InvalidInputError):
        verify(optimal_certificate, nan_X, whitened_problem.Y)
    with pytest.raises(InvalidInputError):
        verify(optimal_certificate, whitened_problem.X, whitened_problem.Y[:3])


@pytest.mark.parametrize(
    "content",
    ["not json {", json.dumps({"hello": 1}), json.dumps([1, 2]), "\udcff"],
)
def test_unreadable_certificate_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content.encode("utf-8", errors="surrogateescape"))
    with pytest.raises(DataFileError):
        Certificate.load(path)
    with pytest.raises(DataFileError):
        verify(path, np.eye(2), np.eye(2))


def test_malformed_certificate_fields(tmp_path: Path, optimal_certificate: Certificate) -> None:
    with pytest.raises(DataFileError):
        Certificate.load(tmp_path / "missing.json")
    for change in ({"sigma": "big"}, {"U": [[1.0, 2.0], [3.0]]}, {"rigorous": 1}):
        document = optimal_certificate.to_dict()
        for key, value in change.items():
            if key == "U":
                document["network"]["U"] = value
            else:
                document[key] = value
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(document))
        with pytest.raises(DataFileError):
            Certificate.load(path)
