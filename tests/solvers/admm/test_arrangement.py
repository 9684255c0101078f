"""Tests of the Bai et al. ADMM for the c = 1 convex program (copos.solvers.admm.arrangement).

Reference values come from ``solve_convex_program(..., solver="clarabel")`` on the same patterns.
Cone feasibility after recovery is checked two ways: the solver's ``cone_violation`` (largest
negative entry of ``(2D_i - I) X b_i`` over all returned blocks, relative to ``max |X b_i|``), and
directly: the recovered ReLU network's prediction ``(XU)_+ V`` must equal the convex model's
``sum_i D_i X (v_i - w_i)``, which holds exactly when every block lies in its cone.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copos.errors import CoposError, InvalidInputError
from copos.nets.arrangements import enumerate_arrangements, sample_arrangements
from copos.nets.datasets import whitened
from copos.nets.problem import TrainingProblem
from copos.relaxations.convex import (
    ArrangementAdmmResult,
    solve_arrangement_admm,
    solve_convex_program,
)
from copos.solvers.admm.arrangement import AdmmState, solve_arrangement_blocks
from tests.catalogue import scalar_whitened

TIGHT = 1e-7


def _problem(n: int, d: int, seed: int, beta_factor: float = 0.1) -> TrainingProblem:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    teacher = rng.standard_normal((d, 5))
    y = np.maximum(X @ teacher, 0.0) @ rng.standard_normal(5) + 0.1 * rng.standard_normal(n)
    beta = beta_factor * float(np.abs(X.T @ y).max())
    return TrainingProblem.from_data(X, y, beta)


CASES = {
    "complete-n30-d2": (30, 2, 5, None),
    "sampled-n40-d3": (40, 3, 2, 30),
    "sampled-n60-d4": (60, 4, 3, 40),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def solved(request):
    n, d, seed, samples = CASES[request.param]
    problem = _problem(n, d, seed)
    if samples is None:
        patterns = enumerate_arrangements(problem.X)
    else:
        patterns = sample_arrangements(problem.X, samples, seed=1)
    reference = solve_convex_program(problem, patterns, solver="clarabel")
    result = solve_arrangement_admm(problem, patterns, tol=TIGHT, max_iters=20_000)
    return problem, patterns, reference, result


def test_value_matches_clarabel(solved):
    _, patterns, reference, result = solved
    assert isinstance(result, ArrangementAdmmResult)
    assert result.status == "optimal"
    assert result.solve.primal_residual <= TIGHT and result.solve.dual_residual <= TIGHT
    assert abs(result.value - reference.value) <= 1e-5 * abs(reference.value)
    assert result.bound_kind == ("exact" if patterns.complete else "upper")


def test_recovered_network_objective_and_cones(solved):
    problem, patterns, _, result = solved
    assert abs(result.recovered_objective - result.value) <= 1e-6 * max(1.0, abs(result.value))
    assert result.cone_violation <= 1e-6
    masks = patterns.patterns.T.astype(float)
    signs = 2.0 * masks - 1.0
    pre = [problem.X @ blocks.T for blocks in (result.v_blocks, result.w_blocks)]  # (n, P) each
    scale = max(1e-12, max(float(np.abs(p).max()) for p in pre))
    worst = max(float(np.max(-signs * p, initial=0.0)) for p in pre)
    assert worst <= 1e-6 * scale
    assert worst == pytest.approx(result.cone_violation * scale, rel=1e-9, abs=1e-15)
    convex_prediction = np.sum(masks * (problem.X @ (result.v_blocks - result.w_blocks).T), axis=1)
    network_prediction = (np.maximum(problem.X @ result.U, 0.0) @ result.V)[:, 0]
    scale = max(1.0, float(np.abs(convex_prediction).max()))
    np.testing.assert_allclose(network_prediction, convex_prediction, atol=1e-6 * scale)


def test_lower_bound_is_valid_and_tight(solved):
    problem, patterns, reference, result = solved
    slack = 1e-9 * max(1.0, abs(reference.value))
    assert result.lower_bound <= reference.value + slack
    assert result.lower_bound >= reference.value - 1e-4 * abs(reference.value)
    assert result.duality_gap >= -slack
    # weak duality does not depend on convergence: a 5-iteration run still gives a valid bound
    rough = solve_arrangement_admm(problem, patterns, max_iters=5)
    assert rough.status == "max_iterations"
    assert rough.lower_bound <= reference.value + slack
    assert rough.recovered_objective >= rough.lower_bound - slack


def test_warm_start_cuts_iterations():
    problem = _problem(40, 3, 2)
    patterns = sample_arrangements(problem.X, 30, seed=1)
    first = solve_arrangement_admm(problem, patterns, tol=1e-6)
    nearby = problem.with_beta(problem.beta * 1.05)
    cold = solve_arrangement_admm(nearby, patterns, tol=1e-6)
    warm = solve_arrangement_admm(nearby, patterns, tol=1e-6, warm_start=first)
    assert cold.status == warm.status == "optimal"
    assert warm.iterations < cold.iterations
    assert abs(warm.value - cold.value) <= 1e-5 * abs(cold.value)
    again = solve_arrangement_admm(nearby, patterns, tol=1e-6, warm_start=warm.state)
    assert isinstance(warm.state, AdmmState)
    assert again.iterations <= warm.iterations


def test_iteration_and_time_limits():
    problem = _problem(40, 3, 2)
    patterns = sample_arrangements(problem.X, 30, seed=1)
    capped = solve_arrangement_admm(problem, patterns, tol=1e-12, max_iters=3)
    assert capped.status == "max_iterations"
    assert capped.iterations == 3
    assert not capped.solve.accurate
    assert np.isfinite(capped.value) and np.isfinite(capped.recovered_objective)
    # a limit that every iteration exceeds: the status cannot depend on the machine's speed
    timed = solve_arrangement_admm(problem, patterns, tol=1e-14, max_iters=10**7, time_limit=1e-9)
    assert timed.status == "time_limit"
    assert timed.iterations == 1 and np.isfinite(timed.value)


def test_zero_targets_give_zero_network():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((15, 3))
    problem = TrainingProblem.from_data(X, np.zeros(15), 0.1)
    result = solve_arrangement_admm(problem, sample_arrangements(X, 10, seed=0))
    assert result.status == "optimal"
    assert result.value == pytest.approx(0.0, abs=1e-12)
    assert result.num_neurons == 0


def test_bad_input_raises_copos_errors():
    problem = _problem(20, 2, 0)
    patterns = sample_arrangements(problem.X, 10, seed=0)
    vector = TrainingProblem.from_data(problem.X, np.ones((20, 2)), 0.1)
    with pytest.raises(InvalidInputError, match="c = 1"):
        solve_arrangement_admm(vector, patterns)
    other = sample_arrangements(np.ones((7, 2)) + np.arange(14).reshape(7, 2), 5, seed=0)
    with pytest.raises(InvalidInputError, match="length"):
        solve_arrangement_admm(problem, other)
    with pytest.raises(InvalidInputError):
        solve_arrangement_admm(problem, patterns.patterns)  # type: ignore[arg-type]
    for kwargs in (
        {"tol": 0.0},
        {"tol": float("nan")},
        {"max_iters": 0},
        {"max_iters": 2.5},
        {"rho": -1.0},
        {"time_limit": 0.0},
        {"check_every": 0},
        {"sigma": 0.0},
        {"relaxation": 2.0},
        {"anderson": -1},
        {"anderson": True},
        {"anderson_every": 0},
    ):
        with pytest.raises(CoposError):
            solve_arrangement_admm(problem, patterns, **kwargs)
    smaller = sample_arrangements(problem.X, 3, seed=5)
    previous = solve_arrangement_admm(problem, smaller, max_iters=5)
    if len(smaller) != len(patterns):
        with pytest.raises(InvalidInputError, match="warm_start"):
            solve_arrangement_admm(problem, patterns, warm_start=previous)
    with pytest.raises(InvalidInputError, match="warm_start"):
        solve_arrangement_admm(problem, patterns, warm_start="state")  # type: ignore[arg-type]


def test_acceleration_and_splitting_options_agree():
    """Anderson on or off, another cone weight or relaxation: the same optimum (to 1e-5)."""
    problem = _problem(60, 4, 3)
    patterns = sample_arrangements(problem.X, 40, seed=1)
    reference = solve_convex_program(problem, patterns, solver="clarabel").value
    for options in ({}, {"anderson": 0}, {"sigma": 10.0}, {"relaxation": 1.0}):
        result = solve_arrangement_admm(problem, patterns, tol=TIGHT, max_iters=50_000, **options)
        assert result.status == "optimal", options
        assert abs(result.value - reference) <= 1e-5 * abs(reference), options
        assert result.lower_bound <= reference + 1e-9 * abs(reference), options


def test_nan_in_the_iteration_gives_diverged(monkeypatch):
    """A non-finite iterate stops the run honestly and returns the last finite iterate."""
    import copos.solvers.admm.arrangement as admm

    problem = _problem(40, 3, 2)
    patterns = sample_arrangements(problem.X, 30, seed=1)
    reference = solve_convex_program(problem, patterns, solver="clarabel").value
    original = admm._Operators.solve_u
    calls = {"n": 0}

    def poisoned(self, rhs):
        calls["n"] += 1
        result = original(self, rhs)
        return np.full_like(result, np.nan) if calls["n"] > 35 else result

    monkeypatch.setattr(admm._Operators, "solve_u", poisoned)
    result = solve_arrangement_admm(problem, patterns, tol=1e-12, check_every=10)
    assert result.status == "diverged"
    assert not result.solve.accurate
    assert np.isfinite(result.value) and np.isfinite(result.recovered_objective)
    assert result.lower_bound <= reference + 1e-9 * abs(reference)


def test_unconverged_admm_is_not_exact() -> None:
    # #17 item 10: after max_iters=1 the ADMM used to report bound_kind="exact".
    from copos.nets.arrangements import enumerate_arrangements as _enumerate
    from copos.nets.datasets import planted
    from copos.relaxations.convex import solve_arrangement_admm as _solve

    problem = planted(n=10, d=2, c=1, seed=0, beta=1e-2, bias=True, noise=0.1)
    result = _solve(problem, _enumerate(problem.X), max_iters=1)
    assert result.status != "optimal"
    assert result.bound_kind == "neither" and result.kind == "neither"
    assert result.lower_bound <= result.recovered_objective  # the certified numbers still hold


def test_old_home_of_solve_arrangement_admm_is_a_deprecation_alias() -> None:
    """The names that moved up to copos.relaxations.convex still resolve in the solver module."""
    import copos.solvers.arrangement_admm as old_home

    with pytest.warns(DeprecationWarning, match="copos.relaxations.convex.solve_arrangement_admm"):
        assert old_home.solve_arrangement_admm is solve_arrangement_admm
    with pytest.warns(DeprecationWarning):
        assert old_home.ArrangementAdmmResult is ArrangementAdmmResult
    with pytest.raises(AttributeError):
        old_home.no_such_name  # noqa: B018


def test_whitened_square_data_reach_the_known_optimum() -> None:
    """X square orthogonal, Y = ones, all 16 patterns: p* = 0.38 exactly (tests.catalogue).

    Before the fix the run stopped after 580 iterations at value 8.7e25 with status "optimal"
    (relative residuals 3e-10 and 2e-8 at a diverged iterate; certified gap 1.0): an Anderson
    extrapolation made just before rho changed was never checked by the safeguard.
    """
    known = scalar_whitened()
    problem = known.problem
    result = solve_arrangement_admm(problem, enumerate_arrangements(problem.X), tol=1e-6)
    assert result.status == "optimal" and result.solve.accurate
    assert abs(result.value - known.p_star) <= 1e-5 * known.p_star
    assert result.lower_bound <= known.p_star + 1e-9
    assert result.solve.gap <= 1e-6 and result.bound_kind == "exact"


def _instance(kind: str, n: int, extra: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Whitened (``XXᵀ = I``, one class) or Gaussian data with a random target."""
    if kind == "whitened":
        problem = whitened(n=n, d=n + extra, c=1, seed=seed)
        return problem.X, problem.Y[:, 0]
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n + extra - 1)), rng.standard_normal(n)


@settings(max_examples=12, deadline=None)
@given(
    kind=st.sampled_from(["whitened", "gaussian"]),
    n=st.integers(min_value=3, max_value=5),
    extra=st.integers(min_value=0, max_value=2),
    seed=st.integers(min_value=0, max_value=2**16),
    beta=st.floats(min_value=0.05, max_value=1.0),
    tol=st.sampled_from([1e-4, 1e-6]),
)
def test_optimal_means_the_certified_gap_is_within_tol(
    kind: str, n: int, extra: int, seed: int, beta: float, tol: float
) -> None:
    """Status "optimal" implies residuals and recomputed relative gap all <= tol (SolveInfo.accurate)."""
    X, y = _instance(kind, n, extra, seed)
    patterns = enumerate_arrangements(X).patterns
    solution = solve_arrangement_blocks(X, y, beta, patterns, tol=tol, max_iters=5_000)
    info = solution.solve
    assert info.status in ("optimal", "max_iterations")
    if info.status == "optimal":
        assert info.accurate
        assert info.gap <= tol and info.primal_residual <= tol and info.dual_residual <= tol
    assert solution.lower_bound <= solution.value + 1e-9 * max(1.0, abs(solution.value))


def test_reported_bound_is_the_best_over_the_gap_checks_and_below_the_optimum() -> None:
    """The lower bound is the best of the dual points met at the gap checks: never below the
    bound of any checked iterate (the recorded per-iterate gaps), never above Clarabel's value."""
    problem = _problem(40, 3, 2)
    patterns = sample_arrangements(problem.X, 30, seed=1)
    reference = solve_convex_program(problem, patterns, solver="clarabel").value
    X, y = problem.X, problem.Y[:, 0]
    solution = solve_arrangement_blocks(X, y, problem.beta, patterns.patterns, tol=1e-4)
    history = solution.solve.extra["gap_history"]
    assert solution.solve.status == "optimal" and history
    assert solution.lower_bound <= reference + 1e-9 * abs(reference)
    assert solution.lower_bound >= reference - 1e-4 * abs(reference)
    final_iterate_gap = history[-1][2]
    assert solution.solve.gap <= final_iterate_gap + 1e-15
    assert all(best <= current + 1e-15 for _, best, current in history)


@pytest.mark.parametrize("tol", [1e-2, 1e-4])
def test_returned_blocks_are_feasible_so_the_value_is_an_upper_bound(tol: float) -> None:
    """The blocks are projected onto their cones: at any tol the value is >= the optimum and the
    certified interval [lower_bound, value] contains Clarabel's optimum."""
    problem = _problem(60, 4, 3)
    patterns = sample_arrangements(problem.X, 40, seed=1)
    reference = solve_convex_program(problem, patterns, solver="clarabel").value
    X, y = problem.X, problem.Y[:, 0]
    solution = solve_arrangement_blocks(X, y, problem.beta, patterns.patterns, tol=tol)
    assert solution.solve.status == "optimal"
    assert solution.cone_violation <= 1e-12
    slack = 1e-8 * abs(reference)
    assert solution.lower_bound - slack <= reference <= solution.value + slack
    assert solution.value - solution.lower_bound <= tol * abs(solution.value) + 1e-12
