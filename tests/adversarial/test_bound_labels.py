r"""Relaxations at extreme :math:`\beta` and on badly scaled data: every value labelled a bound
must be one.

Truth (:mod:`tests.adversarial._truth`): exact :math:`p^\star` for whitened one-hot data (closed
form, any :math:`\beta`), and for tiny scalar-output data the bracket
:math:`0 \le p^\star \le p^\star_{hi}` (objective of a real network).  A value is **mislabelled**
when it is labelled ``lower``/``exact`` and exceeds :math:`p^\star_{hi}` (or labelled
``upper``/``exact`` and lies below :math:`p^\star_{lo}`) by more than the allowance of
:func:`~tests.adversarial._truth.allowance` (rounding for proven numbers; :math:`10^{-5}\max(1,
|p^\star|)` for verified solver values), and it is presented as trusted: certified, verified
(``verified``, else ``solve.accurate``), or coming from a solve that did not even end
``optimal``/``optimal_inaccurate`` (such a value carries no direction at all).  A value marked
unverified by an optimal-looking solve is allowed to be wrong: the contract asks for it to be
shown without a direction, and the tightness tests check the table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from copos.certificates.certify import certify, checked_lower_bound
from copos.nets.arrangements import enumerate_arrangements
from copos.nets.datasets import planted, whitened
from copos.nets.problem import TrainingProblem
from copos.relaxations.convex import solve_arrangement_admm, solve_convex_program
from copos.relaxations.lifted import solve_lifted_dnn
from copos.relaxations.rel import solve_copositive_dual, solve_rel
from tests.adversarial._attack import Refused, call, raw_error
from tests.adversarial._collector import Category, Collector, Finding, describe
from tests.adversarial._truth import (
    Truth,
    lower_bound_wrong,
    scalar_truth,
    upper_bound_wrong,
    whitened_truth,
)

BETAS = (1e-6, 1e-3, 1.0, 1e4)
SOLVER_STATUSES = ("optimal", "optimal_inaccurate")


def _presentation(result: Any) -> tuple[str, float, bool, bool, str]:
    """(label, value, trusted, rigorous, status) of a result or a Bound."""
    label = str(getattr(result, "bound_kind", getattr(result, "kind", "neither")))
    value = float(result.value)
    solve = getattr(result, "solve", None)
    status = "none" if solve is None else str(solve.status)
    if getattr(result, "certified", False):
        return label, value, True, True, status
    flag = getattr(result, "verified", None)
    if not isinstance(flag, bool):
        flag = True if solve is None else bool(getattr(solve, "verified", solve.accurate))
    return label, value, flag, solve is None, status


def judge(result: Any, truth: Truth) -> list[tuple[Category, str]]:
    """Findings about one labelled value."""
    label, value, trusted, rigorous, status = _presentation(result)
    problems: list[tuple[Category, str]] = []
    solve = getattr(result, "solve", None)
    if solve is not None and trusted and not rigorous:
        residuals = (getattr(solve, "primal_residual", 0.0), getattr(solve, "dual_residual", 0.0))
        if any(isinstance(r, float) and math.isnan(r) for r in residuals):
            problems.append(("contract", f"verified although a residual is NaN: {residuals}"))
    if label not in ("lower", "upper", "exact"):
        return problems
    if not (trusted or status not in SOLVER_STATUSES):
        return problems
    checks: list[Callable[[float, Truth, bool], str | None]] = []
    if label in ("lower", "exact"):
        checks.append(lower_bound_wrong)
    if label in ("upper", "exact"):
        checks.append(upper_bound_wrong)
    for check in checks:
        wrong = check(value, truth, rigorous)
        if wrong:
            how = "trusted" if trusted else f"solver status {status!r}"
            problems.append(("bound", f"labelled {label!r} ({how}): {wrong}"))
    return problems


def _run(
    adversarial: Collector, name: str, truth: Truth, compute: Callable[[], Any]
) -> list[Finding]:
    """One attack: compute a labelled value (a copos refusal is fine) and judge it and its Bound."""
    problems: list[tuple[Category, str]] = []
    try:
        result = call(compute)
        problems += judge(result, truth)
        if hasattr(result, "to_bound"):
            problems += [(c, f"Bound: {d}") for c, d in judge(result.to_bound(), truth)]
    except Refused:
        pass
    except Exception as exc:  # noqa: BLE001 - every raw error is a finding
        problems.append(raw_error(exc))
    return adversarial.attack(name, problems)


def _certificate_bound(problem: TrainingProblem, truth: Truth) -> Any:
    """The certificate's proven lower bound L of the best known network, as a labelled value."""
    cert = certify(truth.net, problem)

    class Labelled:
        bound_kind = "lower" if (cert.rigorous or cert.lifted is not None) else "neither"
        value = cert.lower_bound
        certified = True

    return Labelled()


def _relaxations(problem: TrainingProblem, truth: Truth) -> dict[str, Callable[[], Any]]:
    methods: dict[str, Callable[[], Any]] = {
        "rel (DNN, clarabel)": lambda: solve_rel(problem),
        "lifted-dnn (clarabel)": lambda: solve_lifted_dnn(problem, solver="clarabel"),
        "certificate L": lambda: _certificate_bound(problem, truth),
    }
    if problem.c == 1:
        methods["convex program (clarabel)"] = lambda: solve_convex_program(
            problem, solver="clarabel"
        )
    return methods


def _whitened_cases() -> list[tuple[str, TrainingProblem]]:
    return [
        (f"whitened c={c} beta={beta:g}", whitened(n=3, d=3, c=c, seed=0, beta=beta))
        for c in (1, 2)
        for beta in BETAS
    ]


@pytest.mark.parametrize(("name", "problem"), _whitened_cases(), ids=lambda v: str(v)[:24])
def test_whitened_exact_optimum(
    adversarial: Collector, name: str, problem: TrainingProblem
) -> None:
    truth = whitened_truth(problem)
    methods = _relaxations(problem, truth)
    methods["lifted-dnn (copos-admm)"] = lambda: solve_lifted_dnn(problem, solver="copos-admm")
    methods["copositive dual level 0"] = lambda: solve_copositive_dual(problem, level=0)
    found: list[Finding] = []
    for method, compute in methods.items():
        found += _run(adversarial, f"{name}: {method}", truth, compute)
    assert not found, describe(found)


@pytest.mark.parametrize("beta", BETAS)
def test_planted_extreme_beta(adversarial: Collector, beta: float) -> None:
    """The instance of issue 17 item 4 (planted, bias, noise 0.1), at a smaller n."""
    found: list[Finding] = []
    for seed in (0,):
        problem = planted(n=8, d=2, c=1, seed=seed, beta=beta, bias=True, noise=0.1)
        truth = scalar_truth(problem)
        for method, compute in _relaxations(problem, truth).items():
            found += _run(adversarial, f"planted s{seed} beta={beta:g}: {method}", truth, compute)
    assert not found, describe(found)


def _scaled_problems() -> list[tuple[str, TrainingProblem]]:
    base = planted(n=8, d=2, c=1, seed=3, beta=0.1, bias=False, noise=0.1)
    mixed = np.where(np.arange(base.n) % 2 == 0, 1e6, 1e-6)
    cases = {
        "rows*1e6": np.full(base.n, 1e6),
        "rows*1e-6": np.full(base.n, 1e-6),
        "rows*1e+-6 alternating": mixed,
    }
    return [
        (name, TrainingProblem.from_data(scale[:, None] * base.X, base.Y, base.beta))
        for name, scale in cases.items()
    ]


@pytest.mark.parametrize(("name", "problem"), _scaled_problems(), ids=lambda v: str(v)[:24])
def test_badly_scaled_data(adversarial: Collector, name: str, problem: TrainingProblem) -> None:
    truth = scalar_truth(problem)
    found: list[Finding] = []
    for method, compute in _relaxations(problem, truth).items():
        found += _run(adversarial, f"scaled {name}: {method}", truth, compute)
    assert not found, describe(found)


@pytest.mark.parametrize("max_iters", [1, 5])
def test_stopped_admm_claims_nothing(adversarial: Collector, max_iters: int) -> None:
    """Issue 17 item 10: the arrangement ADMM stopped early must not report an exact value."""
    problem = whitened(n=3, d=3, c=1, seed=0, beta=0.1)
    truth = whitened_truth(problem)
    patterns = enumerate_arrangements(problem.X)
    found = _run(
        adversarial,
        f"arrangement ADMM max_iters={max_iters}",
        truth,
        lambda: solve_arrangement_admm(problem, patterns, max_iters=max_iters),
    )
    assert not found, describe(found)


def _checked(Z: np.ndarray, problem: TrainingProblem) -> Any:
    """``checked_lower_bound(Z)`` as a labelled value (rigorous when it says so)."""
    bound = checked_lower_bound(Z, problem)

    class Labelled:
        bound_kind = "lower" if bound.rigorous else "neither"
        value = bound.value
        certified = True

    return Labelled()


@pytest.mark.parametrize("beta", [1e-6, 0.1, 1e4])
def test_checked_bound_from_arbitrary_dual_points(adversarial: Collector, beta: float) -> None:
    """The "Z, checked" bound is proven whatever Z is: scaled, random, huge, or of other data."""
    problem = whitened(n=3, d=3, c=2, seed=0, beta=beta)
    truth = whitened_truth(problem)
    rng = np.random.default_rng(5)
    Y = problem.Y
    candidates = {
        "Y": Y,
        "-Y": -Y,
        "10Y": 10 * Y,
        "optimal residual": truth.net.residual(problem),
        "random": rng.standard_normal(Y.shape),
        "random*1e150": 1e150 * rng.standard_normal(Y.shape),
        "random*1e200": 1e200 * rng.standard_normal(Y.shape),
        "random*1e-300": 1e-300 * rng.standard_normal(Y.shape),
        "zero": np.zeros_like(Y),
    }
    found: list[Finding] = []
    for name, Z in candidates.items():
        found += _run(
            adversarial,
            f"checked bound beta={beta:g} Z={name}",
            truth,
            lambda Z=Z: _checked(Z, problem),
        )
    assert not found, describe(found)
