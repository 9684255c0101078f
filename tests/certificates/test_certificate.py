"""Tests of copos.certificates.certify: dual norm, certificates, verification."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copos.certificates.certificate import NOT_CERTIFIED, OPTIMAL, Certificate
from copos.certificates.certify import (
    MAX_EPS,
    certify,
    checked_lower_bound,
    decide,
    dual_lower_bound,
    dual_scale,
)
from copos.certificates.dual_norm import certified_mu, dual_norm
from copos.certificates.verify import verify
from copos.errors import DataFileError, InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.datasets import planted, whitened
from copos.nets.problem import TrainingProblem
from copos.nets.training import train
from copos.relaxations.closed_form import soft_threshold_optimum


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


def test_auto_choice_and_search_fallback() -> None:
    # issue 11: above enumeration "auto" runs the branch and bound (it fell back to "global"
    # before, which stays available by name)
    X, Z = _low_rank(n=8, d=4, r=3, c=2, seed=3)
    exact = dual_norm(Z, X)
    assert exact.method == "exact"
    assert dual_norm(Z, X, max_exact_work=10).method == "relaxation"
    # beyond max_patterns "auto" streams while the rays are few (tests/certificates/
    # test_sigma_streamed.py); with max_stream_rays=1 it runs the branch and bound
    fallback = dual_norm(Z, X, max_patterns=5, max_stream_rays=1)
    assert fallback.method == "branch-and-bound" and "max_patterns" in fallback.note
    assert fallback.complete and fallback.rigorous
    assert fallback.lower <= exact.value and exact.lower <= fallback.value
    assert fallback.value == pytest.approx(exact.value, rel=2e-9)
    crude = dual_norm(Z, X, method="global")
    expected = np.linalg.norm(Z, 2) * np.linalg.norm(X, 2)
    assert crude.value == pytest.approx(expected, rel=1e-10)
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


def test_lifted_bound_joins_the_certificate(
    lifted_case: tuple[TrainingProblem, Certificate],
) -> None:
    from copos.relaxations.lifted import solve_lifted_dnn

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


# ------------------------------------------------------------------------------ issue 17: items 1-3


@pytest.fixture(scope="module")
def random_certificate(whitened_problem: TrainingProblem) -> Certificate:
    """A certificate that says "not certified": a random net (relative gap about 0.9)."""
    rng = np.random.default_rng(0)
    net = TwoLayerReLU(rng.standard_normal((6, 4)), rng.standard_normal((4, 3)))
    cert = certify(net, whitened_problem, method="exact")
    assert not cert.optimal and cert.relative_gap > 0.5
    return cert


def _reloaded(cert: Certificate) -> Certificate:
    """The certificate after a trip through its JSON text (which must never hold NaN/inf)."""
    return Certificate.from_dict(json.loads(cert.to_json()))


@pytest.mark.parametrize("factor", [1e160, 1e300])
def test_overflowing_net_is_not_certified(whitened_problem: TrainingProblem, factor: float) -> None:
    # #17 item 1: the same function with weights U * 1e160, V / 1e160 has objective inf, and
    # `inf <= eps * inf` used to certify it; at 1e300 f(X) itself overflows (Z not finite).
    net = soft_threshold_optimum(whitened_problem).network()
    with np.errstate(all="ignore"):
        big = TwoLayerReLU(net.U * factor, net.V / factor)
        cert = certify(big, whitened_problem, method="exact")
    assert not math.isfinite(cert.objective)
    assert cert.verdict == NOT_CERTIFIED and not cert.optimal
    assert "not finite" in cert.reason
    document = json.loads(cert.to_json())  # no crash, and null instead of inf
    assert document["objective"] is None and document["verdict"] == NOT_CERTIFIED
    with np.errstate(all="ignore"):
        result = verify(_reloaded(cert), whitened_problem.X, whitened_problem.Y)
    assert result.passed and not result.optimal and result.verdict == NOT_CERTIFIED


def test_huge_beta_is_not_certified(whitened_problem: TrainingProblem) -> None:
    # #17 item 1: `--beta 1e308` makes the weight-decay term overflow.
    net = soft_threshold_optimum(whitened_problem).network()
    problem = TrainingProblem(X=whitened_problem.X, Y=whitened_problem.Y, beta=1e308)
    cert = certify(net, problem, method="exact")
    assert cert.objective == math.inf and not cert.optimal
    assert json.loads(cert.to_json())["gap"] is None


@pytest.mark.parametrize(
    ("objective", "lower", "sigma", "lifted"),
    [
        (math.inf, math.inf, 0.5, None),
        (math.inf, 1.0, 0.5, None),
        (1.0, -math.inf, 0.5, None),
        (math.nan, 1.0, 0.5, None),
        (1.0, math.nan, 0.5, None),
        (1.0, 1.0, math.inf, None),
        (1.0, 1.0, math.nan, None),
        (1.0, 1.0, 0.5, math.nan),
        (1.0, 1.0, 0.5, math.inf),
        (1e308, -1e308, 0.5, None),  # the gap overflows
        (1.0, 1.1, 0.5, None),  # L > F: inconsistent, not "gap <= eps"
    ],
)
def test_decide_never_certifies_non_finite_or_inconsistent_numbers(
    objective: float, lower: float, sigma: float, lifted: float | None
) -> None:
    verdict, reason = decide(objective, lower, True, MAX_EPS, sigma=sigma, lifted=lifted)
    assert verdict == NOT_CERTIFIED, reason
    assert decide(1.0, 1.0 - 1e-12, True, 1e-6, sigma=0.5)[0] == OPTIMAL
    assert decide(1.0, 1.0 + 1e-13, True, 1e-6)[0] == OPTIMAL  # rounding: L a hair above F


@pytest.mark.parametrize(
    "eps", [1e9, 2e-2, 1.0, math.inf, math.nan, 0.0, -1e-6, True, "1e-6", None]
)
def test_eps_outside_range_is_refused(
    whitened_problem: TrainingProblem, optimal_certificate: Certificate, eps: object
) -> None:
    # #17 item 2: eps = 1e9 certified a random net whose relative gap was 0.99.
    with pytest.raises(InvalidInputError, match="eps"):
        certify(optimal_certificate.network(), whitened_problem, eps=eps)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="eps"):
        decide(1.0, 1.0, True, eps)  # type: ignore[arg-type]
    if eps is not None:  # verify(eps=None) means "the certificate's own eps"
        with pytest.raises(InvalidInputError, match="eps"):
            verify(optimal_certificate, whitened_problem.X, whitened_problem.Y, eps=eps)  # type: ignore[arg-type]
    assert certify(optimal_certificate.network(), whitened_problem, eps=MAX_EPS).optimal


def test_verify_reports_the_recomputed_numbers(
    whitened_problem: TrainingProblem, optimal_certificate: Certificate
) -> None:
    result = verify(optimal_certificate, whitened_problem.X, whitened_problem.Y)
    cert = optimal_certificate
    assert result.passed and result.optimal and result.verdict == OPTIMAL
    assert (result.eps, result.beta) == (cert.eps, cert.beta)
    assert result.objective == pytest.approx(cert.objective, rel=1e-12)
    assert result.lower_bound == pytest.approx(cert.lower_bound, rel=1e-12)
    assert result.gap == pytest.approx(cert.gap, abs=1e-12)
    document = json.loads(result.to_json())
    for key in ("passed", "optimal", "verdict", "eps", "beta", "objective", "lower_bound", "gap"):
        assert key in document
    for word in ("verdict", "eps", "beta", "F ", "L ", "gap"):
        assert word in result.summary()


def test_not_certified_certificate_holds_but_is_not_optimal(
    whitened_problem: TrainingProblem, random_certificate: Certificate
) -> None:
    # #17 item 3: `verify` passed and exited 0 without saying the verdict was "not certified".
    result = verify(random_certificate, whitened_problem.X, whitened_problem.Y)
    assert result.passed and not result.optimal and result.verdict == NOT_CERTIFIED
    assert json.loads(result.to_json())["optimal"] is False


@pytest.mark.parametrize("eps", [1e9, 1e-2])
def test_edited_eps_and_verdict_do_not_make_optimal(
    whitened_problem: TrainingProblem, random_certificate: Certificate, eps: float
) -> None:
    # #17 item 3: editing eps and verdict together in the JSON of a not-certified certificate
    # passed `verify`; the verdict is now recomputed from the recomputed numbers.
    document = random_certificate.to_dict()
    document.update(eps=eps, verdict=OPTIMAL)
    result = verify(Certificate.from_dict(document), whitened_problem.X, whitened_problem.Y)
    assert not result.passed and not result.optimal
    assert result.verdict == NOT_CERTIFIED


def test_pinned_eps_and_beta(
    whitened_problem: TrainingProblem, optimal_certificate: Certificate
) -> None:
    X, Y = whitened_problem.X, whitened_problem.Y
    assert verify(optimal_certificate, X, Y, eps=1e-6, beta=0.5).optimal
    assert verify(optimal_certificate, X, Y, eps=1e-3).optimal  # a stricter certificate is fine
    loose = replace(optimal_certificate, eps=1e-4)
    too_loose = verify(loose, X, Y, eps=1e-6)
    assert not too_loose.passed and any("eps" in line for line in too_loose.reasons)
    other_beta = verify(optimal_certificate, X, Y, beta=0.4)
    assert not other_beta.optimal and any("beta" in line for line in other_beta.reasons)
    with pytest.raises(InvalidInputError):
        verify(optimal_certificate, X, Y, beta=-1.0)


@pytest.mark.parametrize(
    ("certificate", "X", "Y"),
    [
        (None, "X", "Y"),
        (42, "X", "Y"),
        ([1, 2], "X", "Y"),
        ("cert", None, "Y"),
        ("cert", "X", None),
        ("cert", "abc", "Y"),
        ("cert", "X", {"a": 1}),
        ("cert", object(), "Y"),
    ],
)
def test_verify_garbage_arguments_raise_copos_errors(
    whitened_problem: TrainingProblem,
    optimal_certificate: Certificate,
    certificate: object,
    X: object,
    Y: object,
) -> None:
    # #17 item 10: verify(None, ...) raised a raw TypeError.
    values = {"cert": optimal_certificate, "X": whitened_problem.X, "Y": whitened_problem.Y}
    args = [values.get(v, v) if isinstance(v, str) else v for v in (certificate, X, Y)]
    with pytest.raises(InvalidInputError):
        verify(*args)  # type: ignore[arg-type]


def _scaled(document: dict[str, Any], key: str, factor: float, shift: float = 0.0) -> None:
    if key in ("U", "V"):
        document["network"][key] = (np.array(document["network"][key]) * factor).tolist()
    else:
        document[key] = document[key] * factor + shift


@pytest.mark.parametrize(
    "key",
    ["beta", "sigma", "sigma_lower", "scale", "lower_bound", "objective", "gap", "relative_gap"]
    + ["U", "V"],
)
def test_every_number_tampered_alone_fails(
    whitened_problem: TrainingProblem, optimal_certificate: Certificate, key: str
) -> None:
    document = optimal_certificate.to_dict()
    _scaled(document, key, 1.001, shift=1e-4)  # the gap is 1e-12: a relative change is rounding
    result = verify(Certificate.from_dict(document), whitened_problem.X, whitened_problem.Y)
    assert not result.passed and not result.optimal, key


@pytest.mark.parametrize(
    "change",
    [
        {"method": "global"},
        {"rigorous": False},
        {"verdict": NOT_CERTIFIED},
        {"bias": True},
        {"eps": 0.5},
        {"data": {"sha256": "0" * 64, "X_shape": [5, 6], "Y_shape": [5, 3]}},
        {"options": {"max_patterns": 1, "max_exact_work": 1, "solver": "clarabel"}},
        {"sigma": None, "lower_bound": None, "gap": None},
    ],
)
def test_every_other_field_tampered_fails(
    whitened_problem: TrainingProblem, optimal_certificate: Certificate, change: dict[str, Any]
) -> None:
    document = {**optimal_certificate.to_dict(), **change}
    result = verify(Certificate.from_dict(document), whitened_problem.X, whitened_problem.Y)
    assert not result.passed and not result.optimal, change


_NUMERIC_FIELDS = ("beta", "sigma", "sigma_lower", "scale", "lower_bound", "objective", "gap")
_NUMBERS = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -1.0, 1e-6, 1e-2, 1e308, 5e-324]),
)
_TAMPER = st.one_of(
    st.tuples(st.just("set"), st.sampled_from((*_NUMERIC_FIELDS, "relative_gap", "eps")), _NUMBERS),
    st.tuples(
        st.just("scale"),
        st.sampled_from((*_NUMERIC_FIELDS, "U", "V")),
        st.sampled_from([0.0, -1.0, 1e-9, 0.5, 1 - 1e-7, 1 + 1e-7, 2.0, 1e160]),
    ),
    st.tuples(st.just("set"), st.just("verdict"), st.sampled_from([OPTIMAL, NOT_CERTIFIED])),
    st.tuples(
        st.just("set"), st.just("method"), st.sampled_from(["exact", "relaxation", "global"])
    ),
    st.tuples(st.just("set"), st.sampled_from(["rigorous", "bias"]), st.booleans()),
    st.tuples(st.just("set"), st.sampled_from(["copos_version", "reason"]), st.text(max_size=5)),
    st.tuples(st.just("lifted"), st.just("lifted"), st.sampled_from([0.0, 1.0, 1e9, -1e9])),
)


def _apply(document: dict[str, Any], tamper: tuple[str, str, Any], n: int, c: int) -> None:
    action, key, value = tamper
    if action == "scale" and (key in ("U", "V") or isinstance(document.get(key), float)):
        _scaled(document, key, value)
    elif action == "lifted":  # a made-up lifted bound: value claimed, dual point zero
        document["lifted"] = {
            "value": value,
            "Z": np.zeros((n, c)).tolist(),
            "N": np.zeros((2 * n, 2 * n)).tolist(),
            "solver": "copos-admm",
            "status": "optimal",
            "gap": 0.0,
            "tol": 1e-4,
        }
    elif action == "set":
        document[key] = value


@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(tampers=st.lists(_TAMPER, min_size=1, max_size=4), optimal=st.booleans())
def test_tampering_never_yields_a_false_optimal(
    whitened_problem: TrainingProblem,
    optimal_certificate: Certificate,
    random_certificate: Certificate,
    tampers: list[tuple[str, str, Any]],
    optimal: bool,
) -> None:
    # #17 item 3: no edit, alone or combined, of a saved certificate may yield "holds and
    # optimal" unless an independent certify() of the stored net proves it.
    base = optimal_certificate if optimal else random_certificate
    document = base.to_dict()
    n, c = whitened_problem.Y.shape
    for tamper in tampers:
        _apply(document, tamper, n, c)
    text = json.dumps(document, allow_nan=True)  # NaN/inf written as JSON literals
    try:
        cert = Certificate.from_dict(json.loads(text))
    except DataFileError:
        return
    with np.errstate(all="ignore"):
        result = verify(cert, whitened_problem.X, whitened_problem.Y)
    json.loads(result.to_json())  # the report never holds a non-finite number
    if not optimal:
        assert not result.optimal, tampers
    if result.optimal:
        problem = replace(whitened_problem, beta=cert.beta)
        assert certify(cert.network(), problem, eps=cert.eps, method=cert.method).optimal


def test_unknown_or_infinite_sigma_gives_the_zero_bound() -> None:
    # t = 0 (the feasible point Z = 0) for sigma NaN or inf, and L = 0 even for a non-finite Z.
    assert dual_scale(0.5, math.nan) == 0.0 and dual_scale(0.5, math.inf) == 0.0
    assert dual_lower_bound(np.full((2, 1), math.inf), np.ones((2, 1)), 0.0) == 0.0


def test_checked_lower_bound_that_overflows_is_not_rigorous(
    whitened_problem: TrainingProblem,
) -> None:
    Z = np.full(whitened_problem.Y.shape, 1e200)
    with np.errstate(all="ignore"):
        bound = checked_lower_bound(Z, whitened_problem, method="global")
    assert not math.isfinite(bound.value) and not bound.rigorous
    fine = checked_lower_bound(np.zeros_like(Z), whitened_problem)
    assert fine.rigorous and fine.value == 0.0


@pytest.mark.parametrize("beta", [5e-324, 1.0889972262200055e308])
def test_extreme_beta_with_a_made_up_lifted_bound_is_rejected_cleanly(
    whitened_problem: TrainingProblem, random_certificate: Certificate, beta: float
) -> None:
    # Found by the tampering fuzz: the lifted bound's numerics raised LinAlgError / ValueError.
    document = random_certificate.to_dict()
    _apply(document, ("lifted", "lifted", 0.0), *whitened_problem.Y.shape)
    document.update(beta=beta, verdict=OPTIMAL)
    with np.errstate(all="ignore"):
        result = verify(Certificate.from_dict(document), whitened_problem.X, whitened_problem.Y)
    assert not result.passed and not result.optimal


# --- the one Bound type (issue 10) ------------------------------------------------------------


def test_certificate_bound_is_rigorous_exactly_when_proven(
    optimal_certificate: Certificate, whitened_problem: TrainingProblem
) -> None:
    bound = optimal_certificate.bound
    assert (bound.kind, bound.rigour, bound.value) == (
        "lower",
        "rigorous",
        optimal_certificate.lower_bound,
    )
    assert bound.status == optimal_certificate.verdict
    unproven = replace(optimal_certificate, rigorous=False).bound
    assert (unproven.kind, unproven.rigour) == ("neither", "unverified")
    checked = checked_lower_bound(whitened_problem.Y * 0.1, whitened_problem)
    assert checked.claimed_kind == "lower" and checked.certificate["sigma_method"] == "exact"
    assert checked.rigour == "rigorous" and checked.solve is None


def test_lifted_bound_is_a_certified_bound_and_its_json_keys_stay(
    lifted_case: tuple[TrainingProblem, Certificate],
) -> None:
    _, cert = lifted_case
    assert cert.lifted is not None
    assert (cert.lifted.kind, cert.lifted.rigour, cert.lifted.solver) == (
        "lower",
        "rigorous",
        "copos-admm",
    )
    document = cert.to_dict()["lifted"]
    assert set(document) == {"value", "Z", "N", "solver", "status", "gap", "tol"}
    again = Certificate.from_dict(cert.to_dict()).lifted
    assert again is not None and again.value == cert.lifted.value


def test_verification_reports_the_recomputed_bound(
    whitened_problem: TrainingProblem, optimal_certificate: Certificate
) -> None:
    result = verify(optimal_certificate, whitened_problem.X, whitened_problem.Y)
    bound = result.bound
    assert (bound.kind, bound.rigour, bound.value) == ("lower", "rigorous", result.lower_bound)
    nothing = verify(optimal_certificate, whitened_problem.X, whitened_problem.Y * 2.0).bound
    assert nothing.kind == "neither" and nothing.to_dict()["value"] is None
