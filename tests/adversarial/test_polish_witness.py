r"""Polished nets and witnesses of non-optimality must not lie (issue 11).

* ``certify(..., polish=True)``: the verdict concerns the polished net and must hold against the
  ground truth (:mod:`tests.adversarial._truth`); the polished objective is the true ReLU
  objective recomputed in numpy and never above the original's; the original objective it
  reports is the net's own; ``L`` stays a lower bound on :math:`p^\star`.
* Witnesses: at an exact optimum (whitened data) no witness may appear; wherever one appears, the
  inserted neuron must lower the objective recomputed in numpy, and never below
  :math:`p^\star_{lo}`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from copos.certificates.certify import certify, certify_with_dual_norm
from copos.certificates.improve import improve, witness_direction
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.polish import insert_neuron, polish
from tests.adversarial._attack import Refused, call, raw_error
from tests.adversarial._collector import Collector, Finding, describe
from tests.adversarial._truth import allowance, objective
from tests.adversarial.test_false_verdicts import (
    Case,
    Problems,
    _cases,
    _judge,
    _random_nets,
    _weights_attacks,
)


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return _cases()


def _polish_problems(net: TwoLayerReLU, case: Case) -> Problems:
    """Findings about ``polish(net)``: the objective it reports against numpy."""
    result = call(polish, net, case.problem, max_rounds=2)
    problems: Problems = []
    original = objective(net, case.problem)
    recomputed = objective(result.net, case.problem)
    if not recomputed <= original * (1 + 1e-12) + 1e-300:
        problems.append(("verdict", f"polish raised the objective: {original!r} -> {recomputed!r}"))
    if math.isfinite(recomputed) and abs(recomputed - result.objective) > 1e-12 * max(
        1.0, recomputed
    ):
        problems.append(("contract", f"polish reports {result.objective!r}, numpy {recomputed!r}"))
    if not result.accepted and result.net is not net:
        problems.append(("contract", "a rejected polish did not return the original net"))
    return problems


def _polished_certificate_problems(net: TwoLayerReLU, case: Case) -> Problems:
    cert = call(certify, net, case.problem, polish=True)
    problems = _judge(cert, case, 1e-6)
    F_net = objective(net, case.problem)
    if cert.original_objective is None or not (
        cert.original_objective == F_net or abs(cert.original_objective - F_net) <= 1e-12 * F_net
    ):
        problems.append(
            ("contract", f"original objective {cert.original_objective!r} != {F_net!r}")
        )
    if objective(cert.network(), case.problem) > F_net * (1 + 1e-12):
        problems.append(("verdict", "the certified (polished) net is worse than the original"))
    return problems


def _guarded(
    judge: Callable[[TwoLayerReLU, Case], Problems], U: np.ndarray, V: np.ndarray, case: Case
) -> Problems:
    """``judge(net, case)``; a copos refusal is no finding, any other error is one."""
    try:
        return judge(call(TwoLayerReLU, U, V), case)
    except Refused:
        return []
    except Exception as exc:  # noqa: BLE001 - every raw error is a finding
        return [raw_error(exc)]


def _polish_and_certificate_problems(net: TwoLayerReLU, case: Case) -> Problems:
    return _polish_problems(net, case) + _polished_certificate_problems(net, case)


def _attack(
    adversarial: Collector, name: str, case: Case, U: np.ndarray, V: np.ndarray
) -> list[Finding]:
    problems = _guarded(_polish_and_certificate_problems, U, V, case)
    return adversarial.attack(f"polish {case.name} {name}", problems)


@pytest.mark.parametrize("index", range(4))
def test_polished_nets_are_not_falsely_certified(
    adversarial: Collector, cases: list[Case], index: int
) -> None:
    found: list[Finding] = []
    case = cases[index]
    for name, U, V in _weights_attacks(case.truth.net, index):
        found += _attack(adversarial, name, case, U, V)
    for name, U, V in list(_random_nets(case.problem, 300 + index))[:3]:
        found += _attack(adversarial, name, case, U, V)
    assert not found, describe(found)


def _witness_problems(net: TwoLayerReLU, case: Case) -> Problems:
    """A witness must come with a real decrease, never below p*_lo; none at an exact optimum."""
    cert, norm = call(certify_with_dual_norm, net, case.problem)
    u = witness_direction(norm, case.problem.beta)
    problems: Problems = []
    exact_optimum = case.truth.exact and objective(net, case.problem) <= case.truth.p_hi * (
        1 + 1e-12
    )
    if u is None:
        return problems
    if exact_optimum:
        problems.append(("verdict", f"a witness at the exact optimum (sigma_lower {norm.lower!r})"))
    if cert.optimal:
        problems.append(("verdict", "a witness of non-optimality on a certified net"))
    insertion = call(insert_neuron, net, case.problem, u)
    before, after = objective(net, case.problem), objective(insertion.net, case.problem)
    if insertion.step > 0 and not after < before:
        problems.append(("verdict", f"the witness neuron did not lower F: {before!r} -> {after!r}"))
    if after < case.truth.p_lo - allowance(case.truth.p_lo, rigorous=True):
        problems.append(("bound", f"F after insertion {after!r} < p*_lo {case.truth.p_lo!r}"))
    return problems


def test_witnesses_are_proofs_and_absent_at_the_optimum(
    adversarial: Collector, cases: list[Case]
) -> None:
    found: list[Finding] = []
    for index, case in enumerate(cases):
        net = case.truth.net
        attacks = [
            ("optimal", net.U, net.V),
            ("rebalanced optimal", *(lambda n: (n.U, n.V))(net.rebalanced())),
            ("scaled(1+1e-9)", net.U * (1 + 1e-9), net.V * (1 + 1e-9)),
            ("scaled(0.9)", net.U * 0.9, net.V * 0.9),
            ("one neuron short", net.U[:, 1:], net.V[1:]),
            *list(_random_nets(case.problem, 400 + index))[:2],
        ]
        for name, U, V in attacks:
            problems = _guarded(_witness_problems, U, V, case)
            found += adversarial.attack(f"witness {case.name} {name}", problems)
    assert not found, describe(found)


def _improve_problems(net: TwoLayerReLU, case: Case) -> Problems:
    result = call(improve, net, case.problem, max_iterations=3)
    problems = _judge(result.certificate, case, 1e-6)
    if objective(result.net, case.problem) > objective(net, case.problem) * (1 + 1e-12):
        problems.append(("verdict", "improve raised the objective"))
    return problems


def test_improve_never_certifies_falsely(adversarial: Collector, cases: list[Case]) -> None:
    found: list[Finding] = []
    for case in cases:
        net = case.truth.net
        for name, (U, V) in {
            "one neuron short": (net.U[:, 1:], net.V[1:]),
            "zero": (np.zeros((case.problem.d, 1)), np.zeros((1, case.problem.c))),
        }.items():
            problems = _guarded(_improve_problems, U, V, case)
            found += adversarial.attack(f"improve {case.name} {name}", problems)
    assert not found, describe(found)
