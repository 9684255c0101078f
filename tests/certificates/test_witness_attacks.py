"""Attacks on Certificate.witness ("witness: the net is not optimal", issue 11): it is never
claimed for a globally optimal net: closed-form whitened optima, and the zero net at
beta = sigma(Y) exactly (the boundary where it is optimal), with a bias column, an output bias
and for a CNN; a non-finite sigma_lower never witnesses anything."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from copos.certificates.certify import certify
from copos.nets.architectures.conv import Convolution, ConvReLU
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.datasets import whitened
from copos.nets.problem import TrainingProblem
from copos.relaxations.closed_form import soft_threshold_optimum


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("beta", [1e-3, 0.1, 0.9])
@pytest.mark.parametrize("label_scale", [1e-3, 1.0, 1e3])
def test_closed_form_optima_are_never_witnessed(seed: int, beta: float, label_scale: float) -> None:
    base = whitened(n=6, d=8, c=3, seed=seed, class_sizes=[3, 2, 1])
    problem = TrainingProblem.from_data(base.X, base.Y * label_scale, beta=beta * label_scale)
    optimum = soft_threshold_optimum(problem)
    certificate = certify(optimum.network(), problem)
    assert certificate.optimal
    assert not certificate.witness
    assert "witness" not in certificate.bound.status


def _zero_net_at_its_boundary(problem: TrainingProblem, net: TwoLayerReLU | ConvReLU):  # type: ignore[no-untyped-def]
    """The zero net (with its optimal output bias, if any) certified at beta = the rigorous
    sigma of its residual: then sigma(Z) <= beta and the zero net is a global optimum."""
    first = certify(net, problem)
    assert first.rigorous and math.isfinite(first.sigma) and first.sigma > 0
    boundary = replace(problem, beta=first.sigma)
    return certify(net, boundary), first


def _data(seed: int, bias: bool = False, output_bias: bool = False) -> TrainingProblem:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((9, 2))
    y = np.maximum(X @ [1.0, -0.5], 0.0) + 0.4 + 0.1 * rng.standard_normal(9)
    return TrainingProblem.from_data(X, y, 1.0, bias=bias, output_bias=output_bias)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("bias", "output_bias"), [(False, False), (True, False), (False, True)])
def test_the_zero_net_at_beta_equal_to_sigma_is_not_witnessed(
    seed: int, bias: bool, output_bias: bool
) -> None:
    problem = _data(seed, bias, output_bias)
    zero = TwoLayerReLU(np.zeros((problem.d, 1)), np.zeros((1, problem.c)))
    if output_bias:
        zero = zero.with_optimal_output_bias(problem)
    certificate, first = _zero_net_at_its_boundary(problem, zero)
    assert certificate.sigma_lower <= certificate.beta * (1 + 1e-12)
    assert not certificate.witness
    assert "witness" not in certificate.bound.status
    # below the boundary the zero net is not optimal, and the witness says so
    below = certify(zero, replace(problem, beta=0.5 * first.sigma_lower))
    assert below.witness and not below.optimal
    assert "witness: the net is not optimal" in below.bound.status


def test_the_zero_cnn_at_beta_equal_to_sigma_is_not_witnessed() -> None:
    rng = np.random.default_rng(0)
    problem = TrainingProblem(rng.standard_normal((10, 6)), rng.standard_normal((10, 1)), 1.0)
    arch = Convolution.conv1d(6, 2, pooling="sum")
    zero = ConvReLU(arch, np.zeros((arch.h, 1)), np.zeros((1, 1)))
    certificate, _ = _zero_net_at_its_boundary(problem, zero)
    assert certificate.sigma_lower <= certificate.sigma <= certificate.beta * (1 + 1e-12)
    assert not certificate.witness
    assert "witness" not in certificate.bound.status


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_non_finite_sigma_lower_is_no_witness(value: float) -> None:
    problem = whitened(n=6, d=8, c=3, class_sizes=[3, 2, 1])
    optimum = soft_threshold_optimum(problem)
    short = TwoLayerReLU(optimum.U[:, :-1], optimum.V[:-1])
    certificate = certify(short, problem)
    assert certificate.witness  # a neuron is missing: proven not optimal
    broken = replace(certificate, sigma_lower=value)
    assert not broken.witness
    assert "witness" not in broken.bound.status


@pytest.mark.parametrize(
    ("label_scale", "beta"), [(1e7, 1e-3), (1e9, 0.1), (1e9, 1e-3), (1e5, 1e-3)]
)
def test_rounding_in_sigma_lower_is_never_a_witness(label_scale: float, beta: float) -> None:
    """Labels large against beta: the closed-form optimum's sigma_lower exceeds beta by rounding
    alone (4e-6 relative at 1e7 / 1e-3); the witness margin must absorb it (found by the
    adversarial pass of session 14, where the status said "witness: not optimal")."""
    base = whitened(n=6, d=8, c=3, beta=0.1, class_sizes=[3, 2, 1])
    problem = TrainingProblem.from_data(base.X, base.Y * label_scale, beta=beta)
    certificate = certify(soft_threshold_optimum(problem).network(), problem)
    assert certificate.sigma_lower - certificate.beta <= certificate.witness_margin
    assert not certificate.witness
    assert "witness" not in certificate.bound.status


def test_the_witness_margin_survives_json_and_verify(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from copos.certificates.certificate import Certificate
    from copos.certificates.verify import verify

    base = whitened(n=6, d=8, c=3, beta=0.1, class_sizes=[3, 2, 1])
    optimum = soft_threshold_optimum(base)
    short = TwoLayerReLU(optimum.U[:, :-1], optimum.V[:-1])
    certificate = certify(short, base)
    assert certificate.witness and 0 < certificate.witness_margin < 1e-10
    path = tmp_path / "c.json"
    certificate.save(path)
    loaded = Certificate.load(path)
    assert loaded.witness_margin == certificate.witness_margin and loaded.witness
    assert verify(loaded, base.X, base.Y).passed
    understated = replace(loaded, witness_margin=0.0)
    result = verify(understated, base.X, base.Y)
    assert not result.passed
    assert any(check.name == "witness margin" and not check.ok for check in result.checks)
