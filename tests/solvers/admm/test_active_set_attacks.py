"""Attacks on the active-set phase of the arrangement ADMM (issue 15): degenerate data
(duplicate rows, a zero column, y = 0, tiny and huge scales, beta >= beta_max), a deadline
already passed.  The certified lower bound never exceeds Clarabel's checked optimum, the value
is a feasible point's objective, and a status says "optimal" only with the gap within tol."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from copos.nets.arrangements import Arrangements, sample_arrangements
from copos.nets.problem import TrainingProblem
from copos.relaxations.convex import arrangement_features, solve_convex_program
from copos.solvers.admm import arrangement as admm

TOL = 1e-4


def _instance(kind: str, ratio: float = 1e-4, y_scale: float = 1.0):  # type: ignore[no-untyped-def]
    """Planted noisy labels on n = 30, d = 4, ten sampled patterns, beta = ratio * beta_max."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4))
    y = np.maximum(X @ rng.standard_normal((4, 5)), 0.0) @ rng.standard_normal(5)
    y = y + 0.1 * float(np.std(y)) * rng.standard_normal(30)
    if kind == "duplicate rows":  # same inputs, different labels
        X[10:20] = X[:10]
        y[10:20] = y[:10] + 0.3
    elif kind == "zero column":
        X[:, 2] = 0.0
    patterns = sample_arrangements(X, 10, seed=1)
    beta_max = (
        1.0 / arrangement_features(TrainingProblem.from_data(X, y, 1.0), patterns)["beta_ratio"]
    )
    return TrainingProblem.from_data(X, y * y_scale, ratio * beta_max * y_scale), patterns


def _solve(problem: TrainingProblem, patterns, **options):  # type: ignore[no-untyped-def]
    X, y = problem.X, problem.Y[:, 0]
    return admm.solve_arrangement_blocks(
        X, y, problem.beta, patterns.patterns, tol=TOL, active_set=True, max_iters=3000, **options
    )


def _feasible_objective(problem: TrainingProblem, patterns, solution) -> float:  # type: ignore[no-untyped-def]
    """The objective of the returned blocks, recomputed, after checking they are in the cones."""
    X = problem.X
    signs = 2.0 * np.asarray(patterns.patterns, dtype=float) - 1.0
    masks = np.asarray(patterns.patterns, dtype=float)
    for blocks in (solution.v_blocks, solution.w_blocks):
        pre = (X @ blocks.T).T
        assert float((signs * pre).min(initial=0.0)) >= -1e-12 * float(np.abs(pre).max(initial=0.0))
    fit = np.einsum("pn,pn->n", masks, (X @ (solution.v_blocks - solution.w_blocks).T).T)
    group = np.linalg.norm(solution.v_blocks, axis=1).sum()
    group += np.linalg.norm(solution.w_blocks, axis=1).sum()
    return 0.5 * float(np.sum((fit - problem.Y[:, 0]) ** 2)) + problem.beta * group


def _check_against_clarabel(problem: TrainingProblem, patterns, solution) -> None:  # type: ignore[no-untyped-def]
    reference = solve_convex_program(problem, patterns, solver="clarabel")
    assert reference.solve.accurate  # checked before it judges anything
    slack = 1e-6 * abs(reference.value)
    assert solution.lower_bound <= reference.value + slack
    assert solution.value >= reference.value - slack
    assert math.isclose(
        solution.value, _feasible_objective(problem, patterns, solution), rel_tol=1e-9
    )
    if solution.solve.status == "optimal":
        assert solution.value - solution.lower_bound <= TOL * abs(solution.value) * (1 + 1e-9)


@pytest.mark.parametrize("kind", ["duplicate rows", "zero column"])
def test_degenerate_data_keeps_the_bound_below_the_checked_optimum(kind: str) -> None:
    problem, patterns = _instance(kind)
    solution = _solve(problem, patterns)
    assert solution.solve.extra["active_set"] is not None
    _check_against_clarabel(problem, patterns, solution)


@pytest.mark.parametrize("ratio", [1.0, 1.5])
def test_beta_at_or_above_beta_max_gives_the_zero_net(ratio: float) -> None:
    problem, patterns = _instance("plain", ratio=ratio)
    solution = _solve(problem, patterns)
    half_norm = 0.5 * float(np.sum(problem.Y**2))  # p* = ||y||^2 / 2 (the zero net)
    assert solution.lower_bound <= half_norm * (1 + 1e-12)
    assert solution.value >= solution.lower_bound
    assert solution.solve.status == "optimal"
    assert math.isclose(solution.value, half_norm, rel_tol=TOL)


def test_zero_labels_give_zero() -> None:
    problem, patterns = _instance("plain")
    zero = TrainingProblem.from_data(problem.X, np.zeros(problem.n), problem.beta)
    solution = _solve(zero, patterns)
    assert solution.lower_bound <= 0.0 <= solution.value
    assert solution.value == 0.0


@pytest.mark.parametrize("y_scale", [1e-6, 1e6])
def test_scaling_the_labels_and_beta_scales_value_and_bound(y_scale: float) -> None:
    # (y, beta) -> (s y, s beta) scales the optimum by s^2: the run must follow, not lie.
    problem, patterns = _instance("plain")
    scaled, _ = _instance("plain", y_scale=y_scale)
    unit = _solve(problem, patterns)
    solution = _solve(scaled, patterns)
    reference = solve_convex_program(problem, patterns, solver="clarabel")
    assert reference.solve.accurate
    optimum = reference.value * y_scale**2
    assert solution.lower_bound <= optimum * (1 + 1e-6)
    assert solution.value >= optimum * (1 - 1e-6)
    assert math.isclose(solution.value, unit.value * y_scale**2, rel_tol=1e-6)


def test_a_passed_deadline_stops_the_phase_with_an_honest_status() -> None:
    problem, patterns = _instance("plain")
    X, y = problem.X, problem.Y[:, 0]
    x_scale, y_scale = float(np.linalg.norm(X, 2)), float(np.linalg.norm(y))
    masks = np.ascontiguousarray(np.asarray(patterns.patterns, dtype=float).T)
    ops = admm._Operators(X / x_scale, y / y_scale, masks, admm.DEFAULT_SIGMA)
    beta = problem.beta / (x_scale * y_scale)
    start = np.random.default_rng(5).standard_normal((ops.d, 2 * ops.P)) * 1e-2
    blocks, value, bound, report = admm._active_set_phase(
        ops, beta, start, TOL, time.perf_counter() - 1.0
    )
    assert report.status == "time_limit" and report.solves == 0
    assert bound <= value
    assert math.isclose(value, admm._objective(ops, blocks, beta), rel_tol=1e-12)
    assert admm._cone_violation(ops, blocks) <= 1e-12
    reference = solve_convex_program(problem, patterns, solver="clarabel")
    assert reference.solve.accurate
    assert bound * y_scale**2 <= reference.value * (1 + 1e-6)


@pytest.mark.parametrize("extra", ["repeated patterns", "empty pattern", "full pattern"])
def test_degenerate_patterns_keep_the_bound_below_the_checked_optimum(extra: str) -> None:
    problem, patterns = _instance("plain")
    masks = np.asarray(patterns.patterns)
    added = {
        "repeated patterns": masks[:3],
        "empty pattern": np.zeros((1, problem.n), dtype=bool),
        "full pattern": np.ones((1, problem.n), dtype=bool),
    }[extra]
    degenerate = Arrangements(
        patterns=np.vstack([masks, added]), complete=False, method="sampled", rank=problem.d
    )
    solution = _solve(problem, degenerate)
    assert solution.solve.extra["active_set"] is not None
    _check_against_clarabel(problem, degenerate, solution)


def test_a_tolerance_below_the_phase_accuracy_is_not_claimed() -> None:
    # The restricted solves run to 1e-10: at tol = 1e-12 the phase stalls, and neither it nor
    # the run may say "optimal" without the recomputed gap within tol.
    problem, patterns = _instance("plain")
    X, y = problem.X, problem.Y[:, 0]
    solution = admm.solve_arrangement_blocks(
        X, y, problem.beta, patterns.patterns, tol=1e-12, active_set=True, max_iters=1500
    )
    report = solution.solve.extra["active_set"]
    gap = (solution.value - solution.lower_bound) / abs(solution.value)
    assert report["status"] != "optimal" or report["value"] - report["lower_bound"] <= 1e-12 * abs(
        report["value"]
    )
    assert solution.solve.status != "optimal" or gap <= 1e-12
    assert solution.solve.gap == pytest.approx(abs(gap), rel=1e-9)
    _check_against_clarabel(problem, patterns, solution)
