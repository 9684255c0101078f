"""Tests of the active-set phase of the arrangement ADMM (copos.solvers.admm.active_set, issue 15).

Small instances with beta/beta_max ~ 1e-4, the regime where the ADMM alone does not certify 1e-4;
the reference is ``solve_convex_program(..., solver="clarabel")`` on the same patterns, whose
value is checked against its own accuracy before it judges the phase's bound.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from copos.nets.arrangements import sample_arrangements
from copos.nets.problem import TrainingProblem
from copos.relaxations.convex import arrangement_features, solve_convex_program
from copos.solvers.admm import active_set
from copos.solvers.admm import arrangement as admm

TOL = 1e-4
BETA_RATIO = 1e-4


def _instance(seed: int) -> tuple[TrainingProblem, object]:
    """Noisy planted labels, ``beta = 1e-4 * beta_max`` (nearly unregularized)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((50, 4))
    y = np.maximum(X @ rng.standard_normal((4, 6)), 0.0) @ rng.standard_normal(6)
    y = y + 0.1 * float(np.std(y)) * rng.standard_normal(50)
    patterns = sample_arrangements(X, 12, seed=1)
    unit = TrainingProblem.from_data(X, y, 1.0)
    beta_max = 1.0 / arrangement_features(unit, patterns)["beta_ratio"]
    return TrainingProblem.from_data(X, y, BETA_RATIO * beta_max), patterns


def _solve(problem: TrainingProblem, patterns, **options):  # type: ignore[no-untyped-def]
    """``solve_arrangement_blocks`` at ``tol = TOL`` on the instance."""
    X, y = problem.X, problem.Y[:, 0]
    return admm.solve_arrangement_blocks(X, y, problem.beta, patterns.patterns, tol=TOL, **options)


@pytest.fixture(scope="module", params=[0, 1])
def solved(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    problem, patterns = _instance(request.param)
    reference = solve_convex_program(problem, patterns, solver="clarabel")
    return problem, patterns, reference, _solve(problem, patterns, active_set=True)


def test_phase_bound_is_below_clarabel_and_within_tol(solved) -> None:  # type: ignore[no-untyped-def]
    problem, _, reference, solution = solved
    assert reference.solve.accurate  # checked: residuals and gap within Clarabel's accuracy
    optimum = reference.value
    slack = 1e-6 * abs(optimum)  # Clarabel's own accuracy
    assert solution.solve.extra["active_set"] is not None
    assert solution.solve.extra["active_set"]["status"] == "optimal"
    assert solution.solve.status == "optimal"
    assert solution.lower_bound <= optimum + slack
    assert solution.value >= optimum - slack
    assert (solution.value - solution.lower_bound) / abs(solution.value) <= TOL


def test_phase_value_is_feasible_and_above_its_bound(solved) -> None:  # type: ignore[no-untyped-def]
    problem, patterns, _, solution = solved
    X = problem.X
    signs = 2.0 * np.asarray(patterns.patterns, dtype=float) - 1.0  # (P, n)
    for blocks in (solution.v_blocks, solution.w_blocks):
        pre = (X @ blocks.T).T  # (P, n)
        scale = float(np.abs(pre).max())
        assert float((signs * pre).min()) >= -1e-12 * scale
    assert solution.cone_violation <= 1e-12
    masks = np.asarray(patterns.patterns, dtype=float)
    fit = np.einsum("pn,pn->n", masks, (X @ (solution.v_blocks - solution.w_blocks).T).T)
    group = np.linalg.norm(solution.v_blocks, axis=1).sum()
    group += np.linalg.norm(solution.w_blocks, axis=1).sum()
    objective = 0.5 * float(np.sum((fit - problem.Y[:, 0]) ** 2)) + problem.beta * group
    assert math.isclose(solution.value, objective, rel_tol=1e-9)
    assert solution.value >= solution.lower_bound


def test_admm_alone_does_not_certify_in_the_same_iterations(solved) -> None:  # type: ignore[no-untyped-def]
    problem, patterns, _, solution = solved
    plain = _solve(problem, patterns, active_set=False, max_iters=solution.solve.iterations)
    assert plain.solve.extra["active_set"] is None
    assert plain.solve.gap > solution.solve.gap


def _scaled(problem: TrainingProblem, patterns) -> tuple[admm._Operators, float]:  # type: ignore[no-untyped-def]
    X, y = problem.X, problem.Y[:, 0]
    x_scale, y_scale = float(np.linalg.norm(X, 2)), float(np.linalg.norm(y))
    masks = np.ascontiguousarray(np.asarray(patterns.patterns, dtype=float).T)
    ops = admm._Operators(X / x_scale, y / y_scale, masks, admm.DEFAULT_SIGMA)
    return ops, problem.beta / (x_scale * y_scale)


def test_a_violating_block_outside_the_working_set_is_added(solved, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    problem, patterns, _, solution = solved
    ops, beta = _scaled(problem, patterns)
    scale = float(np.linalg.norm(problem.X, 2)) / float(np.linalg.norm(problem.Y[:, 0]))
    blocks = np.hstack([solution.v_blocks.T, solution.w_blocks.T]) * scale
    removed = int(np.argmax(np.linalg.norm(blocks, axis=0)))
    start = blocks.copy()
    start[:, removed] = 0.0
    data = admm._block_data(ops, beta)
    norms, _ = active_set.dual_norms(data, data.FT(ops.y - ops.F(start)))
    assert norms[removed] > beta  # the removed block violates the dual check
    calls = []

    def first_set_without_violators(norms, beta, exclude, size):  # type: ignore[no-untyped-def]
        calls.append(size)
        return [] if len(calls) == 1 else original(norms, beta, exclude, size)

    original = admm._most_violated
    monkeypatch.setattr(admm, "_most_violated", first_set_without_violators)
    found, value, bound, report = admm._active_set_phase(ops, beta, start, TOL, None)
    assert report.solves >= 2  # the first restricted solve lacks the block; it is added
    assert np.linalg.norm(found[:, removed]) > 0.0
    assert report.status == "optimal"
    assert bound <= value and (value - bound) / value <= TOL


def test_dual_norms_are_upper_bounds_attained_in_the_cone() -> None:
    problem, patterns = _instance(2)
    ops, beta = _scaled(problem, patterns)
    data = admm._block_data(ops, beta)
    rng = np.random.default_rng(3)
    g = data.FT(rng.standard_normal(ops.n))
    beta_low = 0.1 * float(np.linalg.norm(g, axis=0).min())
    data = active_set.BlockData(data.X, data.y, data.masks, data.signs, beta_low)
    norms, gt_eta = active_set.dual_norms(data, g)
    assert np.all(norms <= np.linalg.norm(g, axis=0) * (1 + 1e-12))
    assert np.count_nonzero(norms > 1e-9 * np.linalg.norm(g, axis=0)) >= 2
    for b in range(g.shape[1]):
        size = float(np.linalg.norm(g[:, b]))  # ||X||_2 = 1 in these units
        projected = g[:, b] - gt_eta[:, b]  # the projection of g_b onto the cone K_b
        assert math.isclose(np.linalg.norm(projected), norms[b], rel_tol=1e-12, abs_tol=1e-15)
        signed = data.signs[:, b] * (data.X @ projected)
        assert signed.min() >= -1e-9 * size  # in K_b, so sigma_b is attained there
        assert math.isclose(g[:, b] @ projected, norms[b] ** 2, abs_tol=1e-9 * size**2)


def test_a_phase_too_large_to_build_leaves_the_admm_running(solved, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    problem, patterns, reference, _ = solved
    monkeypatch.setattr(admm, "ACTIVE_SET_MAX_CONE_ROWS", 1)
    capped = _solve(problem, patterns, active_set=True, max_iters=2_000)
    report = capped.solve.extra["active_set"]
    assert report["status"] == "too_large" and report["solves"] == 0
    assert capped.solve.iterations > 0 and capped.solve.status != "diverged"
    assert capped.lower_bound <= reference.value * (1 + 1e-6)


def test_a_phase_that_does_not_certify_still_hands_back_its_better_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The phase stalls (forced here); the ADMM goes on, and the run returns the lower of the
    two feasible values (before, the ADMM's last point, however much worse)."""
    problem, patterns = _instance(0)
    real, seen = admm._active_set_phase, []

    def stalled(*args, **kwargs):  # type: ignore[no-untyped-def]
        blocks, value, bound, report = real(*args, **kwargs)
        seen.append(value)
        return blocks, value, bound, dataclasses.replace(report, status="stalled")

    monkeypatch.setattr(admm, "_active_set_phase", stalled)
    solution = _solve(problem, patterns, active_set=True, max_iters=2_000)
    assert len(seen) == 1
    y_scale = float(np.linalg.norm(problem.Y[:, 0]))
    assert solution.value <= seen[0] * y_scale**2 * (1 + 1e-12)
    assert solution.value >= solution.lower_bound
