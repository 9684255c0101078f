"""Tests of copos.nets.polish: polish on the net's own patterns, merge, prune, witness insertion."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copos.certificates.certify import certify
from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.datasets import whitened
from copos.nets.polish import (
    PRECONDITIONERS,
    Preconditioner,
    _step_to_boundary,
    insert_neuron,
    merge_parallel,
    near_boundary,
    newton_on_face,
    polish,
    prune_dead,
)
from copos.nets.problem import TrainingProblem
from copos.relaxations.closed_form import soft_threshold_optimum


def _whitened_optimum(seed: int = 0) -> tuple[TrainingProblem, TwoLayerReLU, float]:
    """Whitened data (n = 4, d = 5, three classes): the closed-form optimum and p*."""
    problem = whitened(n=4, d=5, c=3, seed=seed, beta=0.1, class_sizes=(2, 1, 1))
    optimum = soft_threshold_optimum(problem)
    return problem, TwoLayerReLU(optimum.U, optimum.V), optimum.value


def _perturbed(net: TwoLayerReLU, scale: float, seed: int) -> TwoLayerReLU:
    """The net with noise, each neuron split in two parallel halves, and one dead neuron."""
    rng = np.random.default_rng(seed)
    U = net.U + scale * rng.standard_normal(net.U.shape)
    V = net.V + scale * rng.standard_normal(net.V.shape)
    dead_u = rng.standard_normal((net.d, 1))
    return TwoLayerReLU(
        np.hstack([U, 2.0 * U, dead_u]), np.vstack([V / 3.0, V / 3.0, np.zeros((1, net.c))])
    )


def test_polished_perturbed_optimum_reaches_the_closed_form_and_certifies_to_1e_8() -> None:
    problem, optimum, p_star = _whitened_optimum()
    net = _perturbed(optimum, 1e-3, seed=1)
    result = polish(net, problem)
    assert result.accepted
    assert result.original.m == 7 and result.net.m == 3  # one dead pruned, three halves merged
    assert result.pruned >= 1 and result.merged >= 3
    assert result.objective == result.net.objective(problem)
    assert abs(result.objective - p_star) <= 1e-12 * p_star
    assert net.objective(problem) - p_star > 1e-7  # the net handed in was not optimal
    certificate = certify(result.net, problem)
    assert certificate.optimal and certificate.relative_gap <= 1e-8


def test_certify_with_polish_reports_both_objectives() -> None:
    problem, optimum, p_star = _whitened_optimum()
    net = _perturbed(optimum, 1e-3, seed=2)
    plain = certify(net, problem)
    polished = certify(net, problem, polish=True)
    assert not plain.optimal
    assert polished.optimal and polished.relative_gap <= 1e-8
    assert polished.original_objective == net.objective(problem)
    assert polished.objective <= polished.original_objective
    assert polished.original_gap == pytest.approx(net.objective(problem) - polished.lower_bound)
    assert polished.lower_bound <= p_star + 1e-12
    assert polished.polish is not None and polished.polish["accepted"] is True
    assert polished.polish["original_width"] == 7 and polished.polish["width"] == 3
    assert plain.original_objective is None and plain.original_gap == plain.gap


def test_merge_parallel_keeps_the_function_and_lowers_the_path_norm() -> None:
    problem, optimum, _ = _whitened_optimum()
    doubled = TwoLayerReLU(
        np.hstack([optimum.U, 3.0 * optimum.U]), np.vstack([optimum.V, optimum.V])
    )
    merged = merge_parallel(doubled, problem.X)
    assert merged.m == optimum.m
    np.testing.assert_allclose(merged.predict(problem.X), doubled.predict(problem.X), atol=1e-12)
    assert merged.path_norm <= doubled.path_norm + 1e-12


def test_merge_parallel_keeps_neurons_of_different_patterns_or_directions() -> None:
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    U = np.array([[1.0, 1.0, -1.0], [0.0, 1e-3, 0.0]])  # 0 and 1 share a pattern, not a direction
    net = TwoLayerReLU(U, np.ones((3, 1)))
    assert merge_parallel(net, X).m == 3


def test_prune_dead_drops_inactive_and_zero_neurons() -> None:
    problem, optimum, _ = _whitened_optimum()
    X = problem.X
    inactive = -np.linalg.pinv(X) @ np.ones(X.shape[0])  # X u = -1 on every row
    net = TwoLayerReLU(
        np.column_stack([optimum.U, inactive, np.zeros(X.shape[1])]),
        np.vstack([optimum.V, np.ones((1, 3)), np.ones((1, 3))]),
    )
    assert prune_dead(net, problem).m == optimum.m


def test_near_boundary_is_relative() -> None:
    X = np.array([[1.0, 0.0], [1.0, 1e-7], [0.0, 1.0]])
    net = TwoLayerReLU(np.array([[0.0], [1e3]]), np.ones((1, 1)))
    assert near_boundary(net, X, 1e-6)[:, 0].tolist() == [True, True, False]
    assert near_boundary(net, X, 0.0)[:, 0].tolist() == [True, False, False]


def test_insert_neuron_decrease_is_the_closed_form() -> None:
    problem, optimum, p_star = _whitened_optimum()
    short = TwoLayerReLU(optimum.U[:, 1:], optimum.V[1:])
    u = optimum.U[:, 0] / np.linalg.norm(optimum.U[:, 0])
    Z = short.residual(problem)
    a = np.maximum(problem.X @ u, 0.0)
    correlation = np.linalg.norm(Z.T @ a)
    assert correlation > problem.beta
    insertion = insert_neuron(short, problem, 5.0 * u)  # any positive multiple of u
    expected = (correlation - problem.beta) ** 2 / (2.0 * a @ a)
    assert insertion.decrease == pytest.approx(expected, rel=1e-10)
    assert insertion.objective_after == insertion.net.objective(problem)
    assert insertion.net.m == short.m + 1
    assert insertion.objective_after >= p_star - 1e-12  # never below the optimum
    np.testing.assert_allclose(insertion.u, u)


def test_insert_neuron_without_correlation_above_beta_changes_nothing() -> None:
    problem, optimum, _ = _whitened_optimum()
    rng = np.random.default_rng(0)
    for _ in range(5):
        insertion = insert_neuron(optimum, problem, rng.standard_normal(problem.d))
        assert insertion.step == 0.0 and insertion.net.m == optimum.m
        assert insertion.correlation <= problem.beta * (1 + 1e-9)
        assert insertion.objective_after == pytest.approx(insertion.objective_before, abs=1e-12)


@pytest.mark.parametrize("u", [np.zeros(5), np.ones(3), np.array([np.nan] * 5)])
def test_insert_neuron_refuses_bad_directions(u: np.ndarray) -> None:
    problem, optimum, _ = _whitened_optimum()
    with pytest.raises(InvalidInputError):
        insert_neuron(optimum, problem, u)


def test_polish_refuses_bad_input() -> None:
    problem, optimum, _ = _whitened_optimum()
    with pytest.raises(InvalidInputError):
        polish("net", problem)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        polish(TwoLayerReLU(np.ones((2, 1)), np.ones((1, 3))), problem)
    with pytest.raises(InvalidInputError):
        polish(optimum, problem, boundary_tols=())
    with pytest.raises(InvalidInputError):
        polish(optimum, problem, gtol=0.0)
    for budget in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(InvalidInputError):
            polish(optimum, problem, time_budget=budget)


def test_polish_time_budget_stops_before_any_solve_and_keeps_the_best_net() -> None:
    problem, optimum, _ = _whitened_optimum()
    net = _perturbed(optimum, 0.05, seed=1)
    stopped = polish(net, problem, time_budget=1e-9)
    assert stopped.budget_reached and stopped.iterations == 0
    assert "time budget reached" in stopped.reason
    assert stopped.objective <= stopped.original_objective
    assert stopped.objective == stopped.net.objective(problem)
    free = polish(net, problem, time_budget=600.0)
    assert not free.budget_reached and free.iterations > 0
    assert free.objective < stopped.objective


def test_polish_of_the_zero_net_is_the_zero_net() -> None:
    problem, _, _ = _whitened_optimum()
    zero = TwoLayerReLU(np.zeros((problem.d, 2)), np.zeros((2, problem.c)))
    result = polish(zero, problem)
    assert result.accepted and result.net.m == 0
    assert result.objective == result.original_objective == zero.objective(problem)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 6),
    d=st.integers(1, 3),
    m=st.integers(1, 4),
    c=st.integers(1, 2),
    beta=st.sampled_from([0.01, 0.1, 1.0]),
    precondition=st.sampled_from(PRECONDITIONERS),
)
def test_polish_never_increases_the_true_objective(
    seed: int, n: int, d: int, m: int, c: int, beta: float, precondition: Preconditioner
) -> None:
    rng = np.random.default_rng(seed)
    problem = TrainingProblem(
        X=rng.standard_normal((n, d)), Y=rng.standard_normal((n, c)), beta=beta
    )
    net = TwoLayerReLU(rng.standard_normal((d, m)), rng.standard_normal((m, c)))
    result = polish(
        net,
        problem,
        max_rounds=2,
        max_iter=50,
        boundary_tols=(1e-4, 0.0),
        precondition=precondition,
    )
    assert result.objective <= result.original_objective
    assert result.objective == result.net.objective(problem)  # the true ReLU objective
    assert result.original_objective == net.objective(problem)
    if not result.accepted:
        assert result.net is net


def test_verify_rechecks_the_original_objective_of_a_polished_certificate() -> None:
    from dataclasses import replace

    from copos.certificates.certificate import Certificate
    from copos.certificates.verify import verify

    problem, optimum, _ = _whitened_optimum()
    net = _perturbed(optimum, 1e-3, seed=4)
    certificate = certify(net, problem, polish=True)
    restored = Certificate.from_dict(certificate.to_dict())
    np.testing.assert_array_equal(restored.original_U, net.U)
    assert verify(restored, problem.X, problem.Y).optimal
    lied = replace(
        restored, original_objective=restored.objective
    )  # "the net handed in was optimal"
    result = verify(lied, problem.X, problem.Y)
    assert not result.passed and any("original objective" in r for r in result.reasons)
    no_weights = replace(restored, original_U=None, original_V=None)
    assert not verify(no_weights, problem.X, problem.Y).passed
    old = certificate.to_dict()
    for key in ("original_objective", "polish", "original_network"):
        del old[key]  # a certificate written before issue 11
    assert Certificate.from_dict(old).original_objective is None


def test_polish_and_insertion_refuse_an_output_bias_they_do_not_model() -> None:
    """Polish and the witness step move (U, V) only: on a problem with an unregularized output
    bias they would drop or ignore b, so they refuse it with the one guard of such programs."""
    rng = np.random.default_rng(0)
    problem = TrainingProblem.from_data(
        rng.standard_normal((8, 2)), rng.standard_normal(8), beta=0.1, output_bias=True
    )
    net = TwoLayerReLU(rng.standard_normal((2, 3)), rng.standard_normal((3, 1)), b=np.zeros(1))
    with pytest.raises(InvalidInputError, match="output bias"):
        polish(net, problem)
    with pytest.raises(InvalidInputError, match="output bias"):
        insert_neuron(net, problem, np.ones(2))


def _crossing_face() -> tuple[TrainingProblem, TwoLayerReLU, np.ndarray]:
    """A net whose face (its own patterns, no active row) has its minimiser outside the cones."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((12, 2))
    problem = TrainingProblem(X, rng.standard_normal((12, 1)), beta=1e-3)
    net = TwoLayerReLU(rng.standard_normal((2, 3)), rng.standard_normal((3, 1)))
    return problem, net, X @ net.U > 0.0


def test_face_solve_stops_inside_the_cones_at_the_first_crossing() -> None:
    """A face whose minimiser lies outside the net's pattern cones: the solve stops at the first
    iterate that leaves them; the iterate before it keeps every pattern and lowers F_D."""
    problem, net, masks = _crossing_face()
    X = problem.X
    active = np.zeros_like(masks)
    inside, outside, steps, _ = newton_on_face(
        net, problem, masks, active, max_iter=50, precondition="none"
    )
    assert steps >= 1
    assert np.array_equal(X @ inside.U > 0.0, masks)  # the patterns are kept
    assert not np.array_equal(X @ outside.U > 0.0, masks)  # the solve stopped at a crossing
    assert inside.objective(problem) < net.objective(problem)  # F_D = F inside the cones


@pytest.mark.parametrize("precondition", ["block", "full"])
def test_preconditioned_face_solve_keeps_the_first_crossing_rule(
    precondition: Preconditioner,
) -> None:
    """The same face solved in preconditioned variables: it also stops at its first iterate
    outside the cones, the iterate before it keeps every pattern, and the segment cut at the
    first hyperplane lowers the true objective."""
    problem, net, masks = _crossing_face()
    X = problem.X
    active = np.zeros_like(masks)
    inside, outside, steps, _ = newton_on_face(
        net, problem, masks, active, max_iter=50, precondition=precondition
    )
    assert steps >= 1
    assert np.array_equal(X @ inside.U > 0.0, masks)
    assert not np.array_equal(X @ outside.U > 0.0, masks)
    assert inside.objective(problem) <= net.objective(problem)
    cut, hits = _step_to_boundary(inside, outside, X, masks, active)
    assert hits.any() and np.all((X @ cut.U)[~masks] <= 1e-12)  # on the first hyperplane
    assert cut.objective(problem) < net.objective(problem)
