"""After-solve checks and the fallback chain of copos.solvers.cvxpy_backend (#17 items 4, 6)."""

from __future__ import annotations

import math
from typing import Any

import cvxpy as cp
import numpy as np
import pytest
from cvxpy.reductions.solvers.conic_solvers.clarabel_conif import CLARABEL
from cvxpy.reductions.solvers.conic_solvers.scs_conif import SCS

from copos.solvers import SolveInfo, require_solution, solve
from copos.solvers.cvxpy_backend import LAST_ITERATE, conic_checks, fallback_chain


def _small_qp() -> tuple[cp.Problem, cp.Variable]:
    x = cp.Variable(2)
    problem = cp.Problem(cp.Minimize(cp.sum_squares(x - 3)), [x >= 1, cp.sum(x) <= 4])
    return problem, x


@pytest.mark.parametrize(
    ("primal", "dual", "gap"),
    [
        (float("nan"), 0.0, 0.0),
        (0.0, float("nan"), 0.0),
        (0.0, 0.0, float("nan")),
        (0.0, 0.0, 1e-3),
    ],
)
def test_unchecked_or_large_measures_are_not_accurate(
    primal: float, dual: float, gap: float
) -> None:
    # Before #17 a NaN dual residual passed and the gap was not checked at all.
    info = SolveInfo("clarabel", "optimal", 0.1, primal, dual, gap=gap, gap_source="recomputed")
    assert not info.accurate
    assert info.failed_checks()


def test_all_three_checks_within_accuracy_is_accurate() -> None:
    info = SolveInfo("clarabel", "optimal", 0.1, 1e-9, 1e-9, gap=1e-9, gap_source="recomputed")
    assert info.accurate and info.verified and not info.failed_checks()
    assert info.to_dict()["accurate"] is True


def test_solve_recomputes_residuals_and_gap() -> None:
    problem, x = _small_qp()
    info = solve(problem)
    assert info.accurate, info.failed_checks()
    assert info.gap_source == "recomputed" and math.isfinite(info.gap)
    assert np.allclose(x.value, [2.0, 2.0], atol=1e-6)
    assert [a["status"] for a in info.attempts] == ["optimal"]


def test_dual_residual_is_measured_in_objective_units() -> None:
    # A dual point off by 1e-7 on a cost of 1e-8 (the REL failure of #17 item 4): tiny in
    # absolute terms, but at a primal point of size 1e3 it moves the objective by 1e-4.
    data = {"A": -np.eye(1), "b": np.zeros(1), "c": np.array([1e-8]), "offset": 0.0}
    checks = conic_checks(data, np.array([1e3]), np.array([1e3]), np.array([1e-8 + 1e-7]))
    assert checks["dual"] > 1e-2


def test_fallback_chain_order() -> None:
    chain = fallback_chain("clarabel", {})
    assert [(key, opts.get("max_threads")) for key, opts in chain] == [
        ("clarabel", None),
        ("scs", None),
        ("clarabel", 1),
    ]
    assert [key for key, _ in fallback_chain("scs", {})] == ["scs", "clarabel", "clarabel"]


def test_fallback_reaches_single_thread_clarabel(monkeypatch: pytest.MonkeyPatch) -> None:
    # Item 5: Clarabel with its default threads stops with NumericalError; SCS fails too.
    original = CLARABEL.solve_via_data

    def clarabel(
        self: Any, data: Any, warm: Any, verbose: Any, opts: Any, *args: Any, **kw: Any
    ) -> Any:
        if opts.get("max_threads") != 1:
            raise cp.error.SolverError("simulated NumericalError")
        return original(self, data, warm, verbose, opts, *args, **kw)

    def scs(*args: Any, **kwargs: Any) -> Any:
        raise cp.error.SolverError("simulated SCS failure")

    monkeypatch.setattr(CLARABEL, "solve_via_data", clarabel)
    monkeypatch.setattr(SCS, "solve_via_data", scs)
    problem, x = _small_qp()
    info = solve(problem)
    assert [(a["solver"], a["status"]) for a in info.attempts] == [
        ("clarabel", "solver_error"),
        ("scs", "solver_error"),
        ("clarabel", "optimal"),
    ]
    assert info.status == "optimal" and np.allclose(x.value, [2.0, 2.0], atol=1e-6)


def test_last_iterate_is_kept_checked_and_never_accurate() -> None:
    problem, x = _small_qp()
    info = solve(problem, "clarabel", fallback=False, max_iter=1)
    assert info.status == LAST_ITERATE
    assert x.value is not None and np.all(np.isfinite(x.value))
    assert not info.accurate
    require_solution(problem, info)  # a checked iterate is usable (labelled, never trusted)


def test_no_point_at_all_raises_solver_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from copos.errors import SolverError

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise cp.error.SolverError("simulated")

    monkeypatch.setattr(CLARABEL, "solve_via_data", fail)
    monkeypatch.setattr(SCS, "solve_via_data", fail)
    problem, _ = _small_qp()
    info = solve(problem)
    assert len(info.attempts) == 3
    with pytest.raises(SolverError, match="tried"):
        require_solution(problem, info)
