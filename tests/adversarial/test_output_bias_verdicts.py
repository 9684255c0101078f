r"""Nets with an output bias (PyTorch's default) that must not be certified falsely.

Ground truth: :math:`p^\star_{hi}` of the problem with a free output bias is the objective of a
real net, the exact convex program's net on :math:`y - b^\star\mathbf 1` with the output bias
:math:`b^\star` found by minimizing the (convex in :math:`b`) program value.  Attacks: shifted,
huge and non-finite biases, targets shifted far from zero (the bias absorbs the shift, the
centered dual must not be fooled), a bias on a problem that does not model it (refused), and
the same nets judged as if the bias were regularized away.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.datasets import planted
from copos.nets.problem import TrainingProblem
from copos.relaxations.convex import solve_convex_program
from tests.adversarial._collector import Collector, Finding, describe
from tests.adversarial._truth import Truth, objective
from tests.adversarial.test_false_verdicts import Case
from tests.adversarial.test_false_verdicts import _attack as attack


def _bias_free_net(problem: TrainingProblem, b: float) -> TwoLayerReLU:
    shifted = TrainingProblem.from_data(problem.X, problem.Y - b, problem.beta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return solve_convex_program(shifted, solver="clarabel").network()


@functools.cache
def _cases() -> list[tuple[Case, float]]:
    """Output-bias problems (targets offset by 0, 3 and 1e6) with their truth and b*."""
    cases = []
    for offset in (0.0, 3.0, 1e6):
        base = planted(n=8, d=2, c=1, seed=1, beta=0.1, bias=False, noise=0.1)
        Y = base.Y + offset
        problem = TrainingProblem(base.X, Y, base.beta, output_bias=True)
        mean = float(np.mean(Y))

        def value(t: float, problem: TrainingProblem = problem, mean: float = mean) -> float:
            b = mean + t  # measured from the mean target: the tolerance is on t
            return objective(_bias_free_net(problem, b).with_output_bias([b]), problem)

        b_star = mean + minimize_scalar(value, bracket=(-1.0, 1.0), tol=1e-5).x
        net = _bias_free_net(problem, b_star).with_output_bias([b_star])
        truth = Truth(0.0, objective(net, problem), net, "convex program at the optimal bias")
        cases.append((Case(f"output-bias offset {offset:g}", problem, truth), float(b_star)))
    return cases


def _attack(adversarial: Collector, name: str, case: Case, net_args: tuple) -> list[Finding]:
    """:func:`test_false_verdicts._attack` with the exact sigma and no lifted bound."""
    return attack(adversarial, name, case, *net_args, method="exact", lifted="never")


@pytest.mark.parametrize("index", range(3))
def test_shifted_huge_and_poisoned_output_biases(adversarial: Collector, index: int) -> None:
    case, b_star = _cases()[index]
    U, V = case.truth.net.U, case.truth.net.V
    found = []
    biases = {
        "optimal": b_star,
        "shifted(+1e-2)": b_star + 1e-2,
        "shifted(-1e-4)": b_star - 1e-4,
        "zero": 0.0,
        "huge(1e300)": 1e300,
        "nan": math.nan,
        "inf": math.inf,
    }
    for name, b in biases.items():
        found += _attack(adversarial, f"b={name}", case, (U, V, [b]))
    found += _attack(adversarial, "no-bias", case, (U, V))  # b = 0: a real net, not optimal
    found += _attack(adversarial, "scaled(1.01)", case, (U * 1.01, V * 1.01, [b_star]))
    assert not found, describe(found)


def test_a_net_with_an_output_bias_on_a_problem_without_one_is_refused(
    adversarial: Collector,
) -> None:
    case, b_star = _cases()[1]
    plain = case.problem.with_output_bias(False)
    net = case.truth.net
    # without the free bias the truth is the bias-free program: a net with b would beat it
    bias_free = Case("bias-free view", plain, Truth(0.0, math.inf, net, "refusal expected"))
    found = _attack(adversarial, "net-with-b", bias_free, (net.U, net.V, [b_star]))
    from copos.certificates.certify import certify
    from copos.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="output bias"):
        certify(net, plain)
    assert not found, describe(found)
