r"""The tightness report as a user reads it: every row labelled ``lower`` must be one, the best
verified lower bound must not exceed the best upper bound, an unverified value carries no
direction, one failing method must not abort the report, and its JSON holds finite numbers.

Instances: the planted data of issue 17 item 4 (bias, noise 0.1) at :math:`\beta = 10^{-3}`, and
at :math:`\beta = 100`, where the zero network is optimal (item 6).  Truth: :math:`p^\star_{hi}`
from real networks (:func:`~tests.adversarial._truth.scalar_truth`).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from copos.errors import CoposError
from copos.nets.datasets import planted
from copos.study.tightness import check_tightness
from tests.adversarial._attack import non_finite_fields, raw_error, strict_json
from tests.adversarial._collector import Category, Collector, describe
from tests.adversarial._truth import allowance, lower_bound_wrong, scalar_truth

METHODS = ("lifted-dnn", "rel", "certificate", "convex")


def _row_problems(row: Any, truth: Any) -> list[tuple[Category, str]]:
    problems: list[tuple[Category, str]] = []
    trusted = bool(row.verified or getattr(row, "rigorous", False))
    if row.kind in ("lower", "exact") and math.isfinite(row.value):
        wrong = lower_bound_wrong(row.value, truth, rigorous=bool(getattr(row, "rigorous", False)))
        if wrong and trusted:
            problems.append(("bound", f"row {row.method!r} labelled {row.kind!r}: {wrong}"))
        elif not trusted:
            category: Category = "bound" if wrong else "contract"
            problems.append(
                (category, f"row {row.method!r}: unverified value labelled {row.kind!r}")
            )
    return problems


def _report_problems(report: Any, truth: Any) -> list[tuple[Category, str]]:
    problems: list[tuple[Category, str]] = []
    for row in report.rows:
        problems += _row_problems(row, truth)
    best_upper, best_lower = report.best_upper, report.best_lower
    if math.isfinite(best_upper) and math.isfinite(best_lower):
        if best_lower > best_upper + allowance(best_upper, rigorous=False):
            problems.append(
                ("bound", f"best verified lower {best_lower:.6g} > best upper {best_upper:.6g}")
            )
    try:
        bad = non_finite_fields(strict_json(report.to_json()))
        if bad:
            problems.append(("contract", f"report JSON holds non-finite numbers at {bad}"))
    except ValueError as exc:
        problems.append(("contract", f"report JSON: {exc}"))
    return problems


@pytest.mark.parametrize("beta", [1e-3, 100.0])
def test_tightness_report_rows(adversarial: Collector, beta: float) -> None:
    problem = planted(n=8, d=2, c=1, seed=0, beta=beta, bias=True, noise=0.1)
    truth = scalar_truth(problem)
    problems: list[tuple[Category, str]] = []
    try:
        report = check_tightness(
            problem, widths=(2,), seeds=(0,), methods=METHODS, epochs=200, progress=False
        )
        problems += _report_problems(report, truth)
    except CoposError as exc:
        problems.append(("contract", f"one method aborted the report: {type(exc).__name__}: {exc}"))
    except Exception as exc:  # noqa: BLE001 - every raw error is a finding
        problems.append(raw_error(exc))
    found = adversarial.attack(f"tightness report planted beta={beta:g}", problems)
    assert not found, describe(found)
