r"""Networks that must not be certified: perturbed, rescaled to overflow, non-finite, paired with
other data, random, or judged at a meaningless eps.

Ground truth (:mod:`tests.adversarial._truth`): exact :math:`p^\star` on whitened data, and
:math:`p^\star_{hi}` (objective of a real network) on tiny scalar-output data.  A verdict
"globally optimal within eps" is false when :math:`F - p^\star_{hi} > \varepsilon\max(1,|F|)`,
when :math:`F` is not finite, or when eps is outside :math:`(0, 10^{-2}]`.  Every certificate's
lower bound :math:`L` is also checked against :math:`p^\star_{hi}` (it is a proven bound).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from copos.certificates.certify import certify
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.datasets import planted, whitened
from copos.nets.problem import TrainingProblem
from tests.adversarial._attack import Refused, call, non_finite_fields, raw_error, strict_json
from tests.adversarial._collector import Category, Collector, Finding, describe
from tests.adversarial._truth import (
    MAX_EPS,
    Truth,
    false_optimal,
    lower_bound_wrong,
    objective,
    scalar_truth,
    whitened_truth,
    zero_net,
)

Problems = list[tuple[Category, str]]


@dataclass(frozen=True)
class Case:
    """A problem, its ground truth and the name used in findings."""

    name: str
    problem: TrainingProblem
    truth: Truth


def _cases() -> list[Case]:
    cases = []
    for seed in (0, 1):
        problem = whitened(n=3, d=3, c=2, seed=seed, beta=0.1)
        cases.append(Case(f"whitened-s{seed}", problem, whitened_truth(problem)))
    for seed in (0, 1):
        problem = planted(n=8, d=2, c=1, seed=seed, beta=0.1, bias=True, noise=0.1)
        cases.append(Case(f"planted-s{seed}", problem, scalar_truth(problem)))
    return cases


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return _cases()


def _weights_attacks(net: TwoLayerReLU, seed: int) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(name, U, V) of networks derived from a (near-)optimal one."""
    U, V = np.array(net.U), np.array(net.V)
    rng = np.random.default_rng(seed)
    for delta in (1e-2, -1e-3, 1e-4):
        yield f"scaled(1{delta:+g})", U * (1 + delta), V * (1 + delta)
    yield "noise(1e-3)", U + 1e-3 * rng.standard_normal(U.shape), V
    for size in (1e-3, 1.0):
        extra_u = size * rng.standard_normal((U.shape[0], 1))
        extra_v = size * rng.standard_normal((1, V.shape[1]))
        yield f"extra-neuron({size:g})", np.hstack([U, extra_u]), np.vstack([V, extra_v])
    yield "sign-flipped", U, -V
    for power in (160, 300):
        yield f"rescaled(U*1e{power}, V/1e{power})", U * 10.0**power, V / 10.0**power
        yield f"rescaled(U/1e{power}, V*1e{power})", U / 10.0**power, V * 10.0**power
    yield "huge-weights(1e154)", U * 1e154, V * 1e154
    for bad in (math.nan, math.inf, -math.inf):
        poisoned = U.copy()
        poisoned.flat[0] = bad
        yield f"U[0]={bad}", poisoned, V
        poisoned_v = V.copy()
        poisoned_v.flat[-1] = bad
        yield f"V[-1]={bad}", U, poisoned_v


def _random_nets(
    problem: TrainingProblem, seed: int
) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    for width, scale in ((1, 1e-3), (1, 1.0), (3, 1.0), (10, 1e3), (10, 1e-3)):
        U = scale * rng.standard_normal((problem.d, width))
        V = scale * rng.standard_normal((width, problem.c))
        yield f"random(m={width}, scale={scale:g})", U, V


def _judge(cert: object, case: Case, eps: float) -> Problems:
    """Findings about one certificate: false verdict, lower bound above p*, bad JSON."""
    problems: Problems = []
    optimal = bool(getattr(cert, "optimal", False))
    F = float(getattr(cert, "objective", math.nan))
    if optimal:
        # judged at the largest meaningful eps: a net within MAX_EPS of p* is no false verdict,
        # only a contract violation when eps itself is out of range
        why = false_optimal(F, case.truth.p_hi, min(eps, MAX_EPS) if eps > 0 else eps)
        if why:
            problems.append(("verdict", f"certified optimal although {why}"))
        elif not 0.0 < eps <= MAX_EPS:
            problems.append(("contract", f"certified with eps = {eps!r} outside (0, {MAX_EPS}]"))
    lower = float(getattr(cert, "lower_bound", math.nan))
    if math.isfinite(lower) and (getattr(cert, "rigorous", False) or getattr(cert, "lifted", None)):
        wrong = lower_bound_wrong(lower, case.truth, rigorous=True)
        if wrong:
            problems.append(("bound", f"certificate lower bound L: {wrong}"))
    try:
        document = strict_json(cert.to_json())  # type: ignore[attr-defined]
        bad = non_finite_fields(document)
        if bad:
            problems.append(("contract", f"certificate dict holds non-finite {bad}"))
    except ValueError as exc:
        problems.append(("contract", f"certificate JSON: {type(exc).__name__}: {exc}"))
    return problems


def _attack(
    adversarial: Collector,
    name: str,
    case: Case,
    U: np.ndarray,
    V: np.ndarray,
    b: object = None,
    **options: object,
) -> list[Finding]:
    """Build the network (output bias ``b``, if any) and certify it; refusals are fine, raw
    errors and lies are not."""
    eps = float(options.get("eps", 1e-6))  # type: ignore[arg-type]
    try:
        net = call(TwoLayerReLU, U, V, b)
        cert = call(certify, net, case.problem, **options)
        problems = _judge(cert, case, eps)
    except Refused:
        problems = []
    except Exception as exc:  # noqa: BLE001 - every raw error is a finding
        problems = [raw_error(exc)]
    return adversarial.attack(f"certify {case.name} {name} {options}", problems)


@pytest.mark.parametrize("index", range(4))
def test_derived_networks_are_not_falsely_certified(
    adversarial: Collector, cases: list[Case], index: int
) -> None:
    found: list[Finding] = []
    for case in cases[index : index + 1]:
        for name, U, V in _weights_attacks(case.truth.net, index):
            found += _attack(adversarial, name, case, U, V, method="exact")
        found += _attack(
            adversarial,
            "optimal(global)",
            case,
            case.truth.net.U,
            case.truth.net.V,
            method="global",
        )
    assert not found, describe(found)


def test_random_networks_are_not_certified(adversarial: Collector, cases: list[Case]) -> None:
    found: list[Finding] = []
    for index, case in enumerate(cases):
        for name, U, V in _random_nets(case.problem, 100 + index):
            found += _attack(adversarial, name, case, U, V)
        zero = np.zeros((case.problem.d, 1)), np.zeros((1, case.problem.c))
        found += _attack(adversarial, "zero-net", case, *zero)
    assert not found, describe(found)


def test_optimal_net_on_other_data_of_the_same_shape(
    adversarial: Collector, cases: list[Case]
) -> None:
    found: list[Finding] = []
    by_shape: dict[tuple[int, ...], list[Case]] = {}
    for case in cases:
        by_shape.setdefault(case.problem.X.shape + case.problem.Y.shape, []).append(case)
    for group in by_shape.values():
        for source in group:
            for target in group:
                if target is source:
                    continue
                net = source.truth.net
                found += _attack(adversarial, f"net-of-{source.name}", target, net.U, net.V)
                # the same data with the labels permuted
                rng = np.random.default_rng(7)
                shuffled = TrainingProblem.from_data(
                    target.problem.X,
                    target.problem.Y[rng.permutation(target.problem.n)],
                    target.problem.beta,
                )
                relabelled = Case(f"{target.name}-permuted-Y", shuffled, _truth_for(shuffled))
                found += _attack(adversarial, f"net-of-{source.name}", relabelled, net.U, net.V)
    assert not found, describe(found)


def _truth_for(problem: TrainingProblem) -> Truth:
    """p*_hi of arbitrary data: the convex program (c = 1) or the zero network."""
    if problem.c == 1:
        return scalar_truth(problem)
    return Truth(0.0, objective(zero_net(problem), problem), zero_net(problem), "zero network")


@pytest.mark.parametrize("eps", [1e9, 1.0, 0.5, 0.011, math.inf, math.nan, 0.0, -1e-6])
def test_meaningless_eps_never_certifies(
    adversarial: Collector, cases: list[Case], eps: float
) -> None:
    found: list[Finding] = []
    for index, case in enumerate(cases):
        net = case.truth.net
        attacks = [
            *list(_random_nets(case.problem, 200 + index))[:3],
            ("scaled(1.01)", net.U * 1.01, net.V * 1.01),
        ]
        for name, U, V in attacks:
            found += _attack(adversarial, name, case, U, V, eps=eps)
    assert not found, describe(found)


@pytest.mark.parametrize("beta", [1e300, 1e308])
def test_overflowing_beta_never_certifies(
    adversarial: Collector, cases: list[Case], beta: float
) -> None:
    found: list[Finding] = []
    for case in cases:
        try:
            problem = call(
                TrainingProblem.from_data, case.problem.X, case.problem.Y, beta, bias=False
            )
        except Refused:
            adversarial.attack(f"beta={beta:g} refused for {case.name}", [])
            continue
        # at this beta only the zero network can be optimal: p* <= ½‖Y‖²
        zero = zero_net(problem)  # optimal here: sigma(Y) <= ||Y|| ||X|| << beta
        truth = Truth(0.0, objective(zero, problem), zero, "zero network (beta huge)")
        huge = Case(f"{case.name}-beta{beta:g}", problem, truth)
        net = case.truth.net
        found += _attack(adversarial, "optimal-at-0.1", huge, net.U, net.V)
        found += _attack(adversarial, "optimal-at-0.1", huge, net.U, net.V, method="global")
    assert not found, describe(found)


@pytest.mark.parametrize(
    "options",
    [{"method": "relaxation"}, {"method": "global", "lifted": "always", "lifted_tol": 1e-6}],
    ids=["relaxation", "lifted"],
)
def test_other_lower_bounds_do_not_certify_near_optimal_nets(
    adversarial: Collector, cases: list[Case], options: dict[str, object]
) -> None:
    """The repaired DNN bound on sigma and the lifted DNN bound: near-optimal is not optimal."""
    found: list[Finding] = []
    for case in cases:
        if not case.name.startswith("whitened"):
            continue
        net = case.truth.net
        for name, U, V in (
            ("optimal", net.U, net.V),
            ("scaled(1+1e-4)", net.U * (1 + 1e-4), net.V * (1 + 1e-4)),
            ("scaled(1-1e-3)", net.U * (1 - 1e-3), net.V * (1 - 1e-3)),
            ("rescaled(U*1e160, V/1e160)", net.U * 1e160, net.V / 1e160),
        ):
            found += _attack(adversarial, name, case, U, V, **options)
    assert not found, describe(found)


def _rescaled_net(net: TwoLayerReLU, scale: float) -> TwoLayerReLU:
    r"""The net with the same predictions on ``scale * X``, balanced for the least weight decay:
    :math:`U' = \alpha U/s`, :math:`V' = V/\alpha`, :math:`\alpha^2 = s\|V\|/\|U\|`."""
    norm_u, norm_v = float(np.linalg.norm(net.U)), float(np.linalg.norm(net.V))
    if norm_u == 0.0 or norm_v == 0.0:
        return net
    alpha = math.sqrt(norm_v / norm_u) * math.sqrt(scale)
    return TwoLayerReLU(net.U * (alpha / scale), net.V / alpha)


@functools.cache
def _degenerate_problems() -> dict[str, tuple[TrainingProblem, list[TwoLayerReLU]]]:
    """Data that stress the arithmetic, each with networks known to be good on it: X scaled to
    the edge of overflow or underflow, overflowing Y, subnormal beta, repeated rows with
    conflicting labels, rank-one X, a zero row."""
    base = planted(n=6, d=2, c=1, seed=4, beta=0.1, noise=0.1)
    X, Y, beta = base.X, base.Y, base.beta
    good = scalar_truth(base).net
    conflicting = np.vstack([X, X[:2]]), np.vstack([Y, -Y[:2]])
    rank_one = np.outer(np.arange(1.0, 7.0), [1.0, -2.0])
    zero_row = X.copy()
    zero_row[0] = 0.0
    cases = {
        f"X*{s:g}": (TrainingProblem.from_data(X * s, Y, beta), [_rescaled_net(good, s)])
        for s in (1e154, 1e160, 1e-200)
    }
    cases.update(
        {
            "Y*1e160": (TrainingProblem.from_data(X, Y * 1e160, beta), []),
            "beta=5e-324": (TrainingProblem.from_data(X, Y, 5e-324), [good]),
            "conflicting repeated rows": (TrainingProblem.from_data(*conflicting, beta), []),
            "rank-one X": (TrainingProblem.from_data(rank_one, Y, beta), []),
            "zero row": (TrainingProblem.from_data(zero_row, Y, beta), []),
        }
    )
    return cases


def _best(problem: TrainingProblem, nets: list[TwoLayerReLU]) -> Truth:
    """The solver-based truth improved by ``nets`` (objectives in numpy)."""
    truth = _truth_for(problem)
    for net in nets:
        value = objective(net, problem)
        if value < truth.p_hi:
            truth = Truth(0.0, value, net, "a network known to be good (rescaled)")
    return truth


DEGENERATE = (
    "X*1e+154", "X*1e+160", "X*1e-200", "Y*1e160", "beta=5e-324",
    "conflicting repeated rows", "rank-one X", "zero row",
)  # fmt: skip


@pytest.mark.parametrize("which", DEGENERATE)
def test_degenerate_data(adversarial: Collector, which: str) -> None:
    found: list[Finding] = []
    for name, (problem, known) in _degenerate_problems().items():
        if name != which:
            continue
        truth = _best(problem, known)
        case = Case(f"degenerate {name}", problem, truth)
        rng = np.random.default_rng(9)
        nets = {
            "best known": (truth.net.U, truth.net.V),
            "zero": (np.zeros((problem.d, 1)), np.zeros((1, 1))),
            "width 0": (np.zeros((problem.d, 0)), np.zeros((0, 1))),
            "random": (rng.standard_normal((problem.d, 3)), rng.standard_normal((3, 1))),
            "best known * 1.01": (truth.net.U * 1.01, truth.net.V * 1.01),
        }
        for net_name, (U, V) in nets.items():
            found += _attack(adversarial, net_name, case, U, V)
    assert not found, describe(found)
