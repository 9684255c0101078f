r"""Certificates with an unregularized output bias: the dual with :math:`Z^\top\mathbf 1 = 0`.

The truth is brute force: with a free scalar bias (``c = 1``),
:math:`p^\star_{\rm bias}(y) = \min_b p^\star(y - b\mathbf 1)`, where :math:`p^\star` is the exact
convex (arrangement) program on every pattern of ``X`` (``d = 2``) and is convex in :math:`b`
(the convex program's value is jointly convex in the targets and its variables), so a scalar
minimization finds the optimal bias.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from copos.certificates.certificate import OPTIMAL, Certificate
from copos.certificates.certify import (
    certify,
    checked_lower_bound,
    dual_lower_bound,
    dual_residual,
    lifted_bound,
)
from copos.certificates.verify import verify
from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.problem import TrainingProblem
from copos.nets.training import train
from copos.relaxations.convex import solve_convex_program
from copos.relaxations.lifted import solve_lifted_dnn
from copos.relaxations.rel import solve_rel

BETA = 0.2


def _data(symmetric: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """n = 8 samples in d = 2 with a target far from zero mean (or an odd target on +-x)."""
    rng = np.random.default_rng(1)
    if symmetric:
        X0 = rng.standard_normal((4, 2))
        y0 = np.maximum(X0 @ [1.0, -0.5], 0.0) - 0.3 + 0.1 * rng.standard_normal(4)
        return np.vstack([X0, -X0]), np.concatenate([y0, -y0])
    X = rng.standard_normal((8, 2))
    return X, np.maximum(X @ [1.0, -0.5], 0.0) + 0.7 + 0.1 * rng.standard_normal(8)


def _bias_free_optimum(X: np.ndarray, y: np.ndarray) -> tuple[float, TwoLayerReLU]:
    """p*(y) of the bias-free problem by the exact convex program, and its net."""
    result = solve_convex_program(TrainingProblem.from_data(X, y, BETA), solver="clarabel")
    return result.value, result.network()


@cache
def _brute_force(symmetric: bool = False) -> tuple[float, float, TwoLayerReLU]:
    r""":math:`(b^\star, p^\star_{\rm bias}, \text{net})`: the optimal bias, the optimum with a
    free bias and a bias-free net optimal for :math:`y - b^\star`."""
    X, y = _data(symmetric)
    found = minimize_scalar(
        lambda b: _bias_free_optimum(X, y - b)[0], bracket=(-1.0, 2.0), tol=1e-9
    )
    value, net = _bias_free_optimum(X, y - found.x)
    return float(found.x), value, net


def _problem(symmetric: bool = False) -> TrainingProblem:
    X, y = _data(symmetric)
    return TrainingProblem.from_data(X, y, BETA, output_bias=True)


def test_a_trained_net_with_an_output_bias_bounds_below_the_brute_force_optimum() -> None:
    problem = _problem()
    _, p_star, _ = _brute_force()
    for epochs in (30, 300, 3000):  # far from, near and at the optimum
        net = train(problem, 10, epochs=epochs, seed=0).net
        assert net.b is not None
        certificate = certify(net, problem, lifted="never")
        assert certificate.rigorous and certificate.method == "exact"
        assert certificate.lower_bound <= p_star + 1e-9  # a proven bound: never above p*
        assert certificate.objective >= p_star - 1e-9  # a real net: never below p*
        assert abs(dual_residual(net, problem).sum()) < 1e-12  # the dual's Z^T 1 = 0


def test_the_net_with_the_optimal_output_bias_certifies_and_a_shifted_bias_does_not() -> None:
    problem = _problem()
    b_star, p_star, net = _brute_force()
    assert abs(b_star - np.mean(_data()[1])) > 0.05  # the optimal bias is not the mean target
    optimal = net.with_output_bias([b_star])
    certificate = certify(optimal, problem, lifted="never")
    assert certificate.verdict == OPTIMAL, certificate.reason
    assert abs(certificate.objective - p_star) <= 1e-6 * p_star
    # the centered residual does not see b: L is unchanged, F grows by n/2 * shift^2
    shifted = certify(net.with_output_bias([b_star + 0.1]), problem, lifted="never")
    assert shifted.verdict != OPTIMAL
    assert shifted.lower_bound == pytest.approx(certificate.lower_bound, rel=1e-12)
    increase = 0.5 * 8 * 0.1**2 - 0.1 * float(optimal.residual(problem).sum())  # F(b + s) - F(b)
    assert shifted.objective == pytest.approx(certificate.objective + increase, rel=1e-12)
    # the optimal bias for the net's (U, V) is found in closed form
    assert net.with_optimal_output_bias(problem).b == pytest.approx([b_star], abs=1e-4)


def test_the_output_bias_can_only_lower_the_optimum() -> None:
    r""":math:`p^\star_{\rm bias}(y) = \min_b p^\star(y - b\mathbf1) \le p^\star(y - \bar y\mathbf1)`,
    and the centered dual is the same for :math:`y` and every shift :math:`y + a\mathbf 1`."""
    X, y = _data()
    _, p_star, net = _brute_force()
    centered_optimum, _ = _bias_free_optimum(X, y - y.mean())
    assert p_star < centered_optimum - 1e-3  # strictly, here: the mean is not the optimal bias
    problem = _problem()
    shifted = TrainingProblem.from_data(X, y + 5.0, BETA, output_bias=True)
    Z = dual_residual(net, problem)
    bound = checked_lower_bound(Z, problem)
    assert bound.value == pytest.approx(checked_lower_bound(Z, shifted).value, rel=1e-12)
    # the bias-free dual on the same point is the bound on the bias-free problem, not below p*
    assert dual_lower_bound(Z, y - y.mean(), 1.0) == pytest.approx(bound.value, rel=1e-12)


def test_symmetric_data_with_odd_targets_need_no_output_bias() -> None:
    r"""Rows :math:`\pm x` with targets :math:`\pm y`: the optimal net can be taken odd, its
    outputs sum to zero, the optimal bias is 0 and the centered dual equals the bias-free dual
    on (already centered) :math:`Y`: :math:`p^\star_{\rm bias} = p^\star`."""
    X, y = _data(symmetric=True)
    b_star, p_star, _ = _brute_force(symmetric=True)
    bias_free, net = _bias_free_optimum(X, y)
    assert abs(y.mean()) < 1e-15 and abs(b_star) < 1e-4
    assert p_star == pytest.approx(bias_free, rel=1e-7)
    certificate = certify(net, _problem(symmetric=True), lifted="never")
    assert certificate.verdict == OPTIMAL, certificate.reason
    plain = certify(net, TrainingProblem.from_data(X, y, BETA), lifted="never")
    assert certificate.lower_bound == pytest.approx(plain.lower_bound, rel=1e-6)


def test_certificate_with_an_output_bias_saves_loads_and_verifies(tmp_path: Path) -> None:
    problem = _problem()
    b_star, _, net = _brute_force()
    certificate = certify(net.with_output_bias([b_star]), problem, lifted="never")
    payload = json.loads(certificate.to_json())
    assert payload["output_bias"] is True and payload["network"]["b"] == [b_star]
    path = certificate.save(tmp_path / "cert.json")
    loaded = Certificate.load(path)
    assert loaded.output_bias and loaded.network().b == pytest.approx([b_star])
    X, y = _data()
    result = verify(path, X, y)
    assert result.passed and result.optimal, result.reasons
    tampered = replace(loaded, b=np.array([b_star + 0.1]))
    assert not verify(tampered, X, y).passed  # F recomputed with the stored b
    old = {key: value for key, value in payload.items() if key != "output_bias"}
    assert not Certificate.from_dict(old).output_bias  # older files: no output bias
    # a lifted bound (of the bias-free problem) slipped into such a certificate is rejected
    bias_free = TrainingProblem.from_data(X, y, BETA)
    with_lifted = certify(net, bias_free, lifted="always", lifted_tol=1e-3)
    assert with_lifted.lifted is not None
    forged = replace(loaded, lifted=with_lifted.lifted)
    result = verify(forged, X, y)
    assert not result.passed and not result.optimal
    assert any("no lifted bound with an output bias" in reason for reason in result.reasons)
    with pytest.raises(InvalidInputError, match="output bias"):
        lifted_bound(problem)


def test_programs_that_do_not_model_an_output_bias_refuse_it() -> None:
    problem = _problem()
    for program in (
        lambda: solve_convex_program(problem, solver="clarabel"),
        lambda: solve_rel(problem),
        lambda: solve_lifted_dnn(problem),
        lambda: certify(train(problem, 2, epochs=2).net, problem, lifted="always"),
    ):
        with pytest.raises(InvalidInputError, match="output bias"):
            program()
    # certify's automatic lifted bound is left out (it is a bound on the bias-free problem)
    net = train(problem, 2, epochs=2).net
    assert certify(net, problem, lifted="auto").lifted is None
    # a net with an output bias does not fit a problem without one
    with pytest.raises(InvalidInputError, match="output bias"):
        certify(net, problem.with_output_bias(False))
