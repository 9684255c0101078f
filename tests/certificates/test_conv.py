"""Tests of CNN certificates: copos.certify / verify on a ConvReLU (copos.certificates.conv)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from copos.certificates.certificate import Certificate
from copos.certificates.certify import certify
from copos.certificates.conv import cone_bound, conv_dual_norm
from copos.certificates.verify import verify
from copos.errors import DataFileError, InvalidInputError
from copos.nets.architectures.conv import Convolution, ConvReLU
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.problem import TrainingProblem
from copos.nets.training import train_conv
from copos.relaxations.conv import solve_conv_program


def signals() -> TrainingProblem:
    rng = np.random.default_rng(0)
    return TrainingProblem(rng.standard_normal((12, 7)), rng.standard_normal((12, 1)), 0.02)


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
    problem = signals()
    arch = Convolution.conv1d(7, 2, pooling="sum")
    optimum = solve_conv_program(problem, arch)
    certificate = certify(optimum.net, problem, eps=1e-2)
    assert certificate.bound.kind == "lower" and certificate.bound.rigour == "rigorous"
    assert certificate.method == "patch-patterns" and certificate.architecture == arch
    assert 0.95 * optimum.value <= certificate.lower_bound <= optimum.value * (1 + 1e-6)
    assert certificate.objective == pytest.approx(optimum.value, rel=1e-6)
    assert certificate.verdict == "globally optimal within eps"
    run = train_conv(problem, arch, 8, epochs=300)
    assert certify(run.net, problem).lower_bound <= optimum.value * (1 + 1e-6)


def test_sigma_is_between_the_witness_and_a_sampled_maximum() -> None:
    problem = signals()
    arch = Convolution.conv1d(7, 2)
    net = train_conv(problem, arch, 4, epochs=100).net
    Z = net.residual(problem)
    norm = conv_dual_norm(Z, net, problem)
    rng = np.random.default_rng(1)
    filters = rng.standard_normal((arch.h, 3000))
    filters /= np.linalg.norm(filters, axis=0)
    sampled = np.abs(Z[:, 0] @ arch.operator_of(problem).pooled_relu(filters)).max()
    assert norm.rigorous and norm.num_patterns == 2 * 12 * 6
    assert max(sampled, norm.lower) <= norm.value <= 1.01 * max(sampled, norm.lower)


def test_saved_certificate_verifies_and_a_tampered_one_is_rejected(tmp_path: Path) -> None:
    problem = signals()
    arch = Convolution.conv1d(7, 2, pooling="sum")
    certificate = certify(solve_conv_program(problem, arch).net, problem, eps=1e-2)
    path = certificate.save(tmp_path / "cnn.json")
    loaded = Certificate.load(path)
    assert loaded.architecture == arch and isinstance(loaded.network(), ConvReLU)
    result = verify(path, problem.X, problem.Y)
    assert result.passed and result.optimal, result.reasons
    assert result.sigma == pytest.approx(certificate.sigma, rel=1e-12)
    assert result.lower_bound == pytest.approx(certificate.lower_bound, rel=1e-12)
    tampered = replace(loaded, V=2.0 * loaded.V)
    assert not verify(tampered, problem.X, problem.Y).passed
    data = json.loads(path.read_text())
    data["architecture"]["kernel"] = [9]
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(DataFileError, match="architecture"):
        Certificate.load(tmp_path / "bad.json")


def test_dense_certificates_have_no_architecture_field() -> None:
    rng = np.random.default_rng(3)
    problem = TrainingProblem(rng.standard_normal((8, 2)), rng.standard_normal((8, 1)), 0.1)
    net = TwoLayerReLU(rng.standard_normal((2, 3)), rng.standard_normal((3, 1)))
    certificate = certify(net, problem)
    assert certificate.architecture is None and "architecture" not in certificate.to_dict()
    assert certificate.method == "exact"


def test_vector_outputs_linear_readout_and_refusals() -> None:
    rng = np.random.default_rng(1)
    problem = TrainingProblem(rng.standard_normal((8, 6)), rng.standard_normal((8, 2)), 0.1)
    run = train_conv(problem, Convolution.conv1d(6, 2), 4, epochs=200)
    certificate = certify(run.net, problem)
    assert certificate.proven and 0.0 <= certificate.lower_bound <= run.best_objective
    linear = train_conv(problem, Convolution.conv1d(6, 2, pooling="linear"), 4, epochs=200)
    certificate = certify(linear.net, problem)
    assert certificate.proven and 0.0 <= certificate.lower_bound <= linear.best_objective
    assert verify(certificate, problem.X, problem.Y).passed
    for options in ({"method": "exact"}, {"lifted": "always"}, {"polish": True}):
        with pytest.raises(InvalidInputError):
            certify(run.net, problem, **options)


def test_ill_conditioned_patches_are_not_proven() -> None:
    # nearly constant signals: every patch is close to (a, a), the patch matrix has condition
    # ~1e6 and its enumeration may miss thin cells
    # (copos.nets.arrangements.MAX_ENUMERATION_CONDITION), so sigma proves nothing
    rng = np.random.default_rng(0)
    X = np.repeat(rng.standard_normal((12, 1)), 7, axis=1) + 1e-6 * rng.standard_normal((12, 7))
    problem = TrainingProblem(X, rng.standard_normal((12, 1)), 0.02)
    arch = Convolution.conv1d(7, 2, pooling="sum")
    net = ConvReLU(arch, rng.standard_normal((2, 3)), rng.standard_normal((3, 1)))
    certificate = certify(net, problem)
    assert not certificate.proven and certificate.verdict == "not certified"
    assert certificate.bound.rigour == "unverified" and certificate.bound.kind == "neither"
    assert "not rigorous" in certificate.reason
    assert "not proven" in certificate.dual_norm.note


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_an_overflowing_cnn_never_certifies_and_its_bound_has_no_direction() -> None:
    """Attack: weights so large that f(X) overflows; sigma cannot be bounded, so no verdict."""
    rng = np.random.default_rng(0)
    problem = TrainingProblem(rng.standard_normal((8, 6)), rng.standard_normal((8, 1)), 0.1)
    net = ConvReLU(Convolution.conv1d(6, 2), 1e200 * np.ones((2, 3)), 1e200 * np.ones((3, 1)))
    certificate = certify(net, problem)
    assert not certificate.optimal
    assert certificate.bound.kind == "neither" and certificate.bound.rigour == "unverified"
