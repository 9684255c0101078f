"""The copositive program of vector-output ReLU networks: REL, its dual, recovery, Frank-Wolfe."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU, network_objective
from copos.nets.arrangements import enumerate_arrangements, sample_arrangements
from copos.nets.cone_pca import cone_pca
from copos.nets.frank_wolfe import frank_wolfe
from copos.nets.problem import TrainingProblem
from copos.nets.training import train
from copos.recovery.cp_factor import REFIT_SWEEPS, recover_from_rel, refit_output_layer
from copos.relaxations.closed_form import soft_threshold_optimum
from copos.relaxations.rel import CopositiveResult, solve_copositive_dual, solve_rel
from tests.known import random_problem, relative_gap

#: Lower-bound slack: REL may exceed a network's objective by this times max(1, |value|)
#: (Clarabel's relative accuracy is about 1e-8; 1e-6 leaves a margin).
BOUND_TOL = 1e-6
#: Agreement of two solves of the same value (REL vs dual, REL vs recovered network).
REL_TOL = 1e-5


@pytest.fixture(scope="module")
def small() -> tuple[TrainingProblem, CopositiveResult]:
    problem = random_problem(0)
    return problem, solve_rel(problem)


# --- (a) REL is a lower bound on every network ----------------------------------------------


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(6, 8),
    beta=st.sampled_from([0.05, 0.1, 0.5]),
)
def test_rel_is_below_random_and_trained_networks(seed: int, n: int, beta: float) -> None:
    problem = random_problem(seed, n=n, beta=beta)
    result = solve_rel(problem)
    assert result.bound_kind == "lower"
    slack = BOUND_TOL * max(1.0, abs(result.value))
    rng = np.random.default_rng(seed)
    for width in (1, 3, 8):
        U = rng.standard_normal((problem.d, width))
        V = rng.standard_normal((width, problem.c))
        assert result.value <= network_objective(problem, U, V) + slack
    run = train(problem, 8, epochs=300, seed=seed)
    assert result.value <= run.best_objective + slack


# --- (b, e) rank-2 data: the relaxation is exact and recovery attains it --------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rank_two_recovery_is_exact(seed: int) -> None:
    problem = random_problem(seed, n=7, d=2, c=3)
    result = solve_rel(problem)
    recovery = recover_from_rel(result, problem)
    assert recovery.exact, recovery.message
    assert relative_gap(recovery.objective, result.value) <= REL_TOL
    assert recovery.objective == pytest.approx(network_objective(problem, recovery.U, recovery.V))
    # the recovered network's residual is Z
    residual = problem.Y - np.maximum(problem.X @ recovery.U, 0.0) @ recovery.V
    assert np.allclose(residual, result.Z, atol=1e-4)


def test_rank_two_training_does_not_beat_rel(
    small: tuple[TrainingProblem, CopositiveResult],
) -> None:
    problem, result = small
    best = min(train(problem, 20, epochs=2000, seed=seed).best_objective for seed in range(3))
    assert best >= result.value - BOUND_TOL * max(1.0, result.value)
    assert relative_gap(best, result.value) <= 1e-4


# --- (c) whitened data, one-hot labels: the soft-thresholded SVD ------------------------------


def test_whitened_one_hot_matches_closed_form() -> None:
    rng = np.random.default_rng(3)
    n, d = 4, 5
    Q, _ = np.linalg.qr(rng.standard_normal((d, n)))
    X = Q.T  # X X^T = I_n
    Y = np.eye(3)[[0, 0, 1, 2]]
    problem = TrainingProblem.from_data(X, Y, 0.5)
    result = solve_rel(problem)
    expected = soft_threshold_optimum(problem).value
    assert relative_gap(result.value, expected) <= REL_TOL


# --- (d) duality ---------------------------------------------------------------------------------


def test_dual_level_zero_equals_rel_and_level_one_is_between(
    small: tuple[TrainingProblem, CopositiveResult],
) -> None:
    problem, rel = small
    level0 = solve_copositive_dual(problem, level=0)
    level1 = solve_copositive_dual(problem, level=1)
    assert (level0.cone, level1.cone, level1.level) == ("K^0", "K^1", 1)
    assert level0.bound_kind == level1.bound_kind == "lower"
    assert relative_gap(level0.value, rel.value) <= REL_TOL
    recovered = recover_from_rel(rel, problem).objective
    assert level1.value >= level0.value - BOUND_TOL
    assert level1.value <= recovered + BOUND_TOL * max(1.0, recovered)


def test_dual_variable_is_feasible_for_the_semi_infinite_dual(
    small: tuple[TrainingProblem, CopositiveResult],
) -> None:
    problem, _ = small
    dual = solve_copositive_dual(problem, level=0)
    patterns = dual.arrangements
    worst = max(
        cone_pca(
            dual.Z.T @ (patterns.D(i)[:, None] * problem.X),
            patterns.sign_matrix(i)[:, None] * problem.X,
        )[1]
        for i in range(len(patterns))
    )
    assert np.sqrt(worst) <= problem.beta * (1 + 1e-4)


# --- (e) recovery failure is reported ------------------------------------------------------------


def test_unfactorable_block_is_reported(small: tuple[TrainingProblem, CopositiveResult]) -> None:
    problem, result = small
    blocks = [np.zeros_like(S) for S in result.S]
    blocks[0] = np.eye(problem.d)  # A S A^T = A A^T has negative entries: not in the cone
    broken = dataclasses.replace(result, S=blocks)
    recovery = recover_from_rel(broken, problem)
    assert not recovery.exact
    assert "block 0" in recovery.message


def test_a_failed_block_leaves_the_other_neurons_with_a_refit_output_layer(
    small: tuple[TrainingProblem, CopositiveResult],
) -> None:
    problem, result = small
    blocks = list(result.S)
    blocks[0] = np.eye(problem.d)  # outside its pattern cone; the other blocks factor
    recovery = recover_from_rel(dataclasses.replace(result, S=blocks), problem)
    assert "block 0" in recovery.message and "refit" in recovery.message
    assert recovery.num_neurons > 0
    assert recovery.objective >= result.value - BOUND_TOL * max(1.0, abs(result.value))
    refit = TwoLayerReLU(U=recovery.U, V=recovery.V)
    again = refit.with_optimal_output_layer(problem).objective(problem)
    assert again >= recovery.objective - 1e-9 * max(1.0, recovery.objective)  # (near) stationary


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), beta=st.sampled_from([0.01, 0.1, 1.0]))
def test_refit_output_layer_never_increases_the_objective(seed: int, beta: float) -> None:
    rng = np.random.default_rng(seed)
    problem = TrainingProblem.from_data(
        rng.standard_normal((10, 2)), rng.standard_normal((10, 3)), beta
    )
    U, V = rng.standard_normal((2, 5)) * 3.0, rng.standard_normal((5, 3)) / 3.0
    refit_U, refit_V, sweeps = refit_output_layer(U, V, problem)
    first = TwoLayerReLU(U=U, V=V).with_optimal_output_layer(problem).objective(problem)
    assert 1 <= sweeps <= REFIT_SWEEPS
    assert network_objective(problem, refit_U, refit_V) <= first + 1e-12
    u_norms, v_norms = TwoLayerReLU(U=refit_U, V=refit_V).neuron_norms
    np.testing.assert_allclose(u_norms, v_norms, rtol=1e-9, atol=1e-12)


# --- (f) sampled arrangements -----------------------------------------------------------------


def test_sampled_arrangements_are_labelled_neither() -> None:
    problem = random_problem(4)
    patterns = sample_arrangements(problem.X, 5, seed=0)
    result = solve_rel(problem, patterns)
    assert result.bound_kind == "neither"
    assert "neither" in result.note
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dual = solve_copositive_dual(problem, patterns, level=0)
    assert dual.bound_kind == "neither"


# --- Frank-Wolfe -----------------------------------------------------------------------------------


def test_cone_pca_matches_brute_force_in_the_plane() -> None:
    rng = np.random.default_rng(5)
    X = rng.standard_normal((6, 2))
    A = np.where(rng.random(6) < 0.5, -1.0, 1.0)[:, None] * X
    G = rng.standard_normal((2, 2))
    angles = np.linspace(0, 2 * np.pi, 200_001)
    circle = np.stack([np.cos(angles), np.sin(angles)])
    feasible = np.all(A @ circle >= 0, axis=0)
    expected = float(np.max(np.sum((G @ circle[:, feasible]) ** 2, axis=0), initial=0.0))
    u, value = cone_pca(G, A)
    assert value == pytest.approx(expected, rel=1e-6, abs=1e-12)
    assert np.all(A @ u >= -1e-9)


def test_frank_wolfe_is_an_upper_bound(small: tuple[TrainingProblem, CopositiveResult]) -> None:
    problem, rel = small
    recovery = recover_from_rel(rel, problem)
    radius = float(np.sum(np.linalg.norm(recovery.U, axis=0) * np.linalg.norm(recovery.V, axis=1)))
    fw = frank_wolfe(problem, rel.arrangements, radius=radius, iterations=150)
    assert fw.bound_kind == "upper"
    assert fw.objective == pytest.approx(network_objective(problem, fw.U, fw.V))
    assert rel.value - BOUND_TOL <= fw.objective <= fw.fw_value + 1e-9
    assert fw.objective <= 1.05 * rel.value


# --- (g) bad input -------------------------------------------------------------------------------


def test_bad_input_raises(small: tuple[TrainingProblem, CopositiveResult]) -> None:
    problem, result = small
    other = random_problem(1, n=7)
    with pytest.raises(InvalidInputError):
        solve_rel(problem, enumerate_arrangements(other.X))
    with pytest.raises(InvalidInputError):
        solve_copositive_dual(problem, level=-1)
    wrong_c = TrainingProblem.from_data(problem.X, problem.Y[:, :1], problem.beta)
    with pytest.raises(InvalidInputError):
        recover_from_rel(result, wrong_c)
    with pytest.raises(InvalidInputError):
        frank_wolfe(problem, result.arrangements, radius=0.0)
    wide = random_problem(2, n=5, d=4)
    with pytest.raises(InvalidInputError):
        frank_wolfe(wide, enumerate_arrangements(wide.X), radius=1.0)


def test_rank_three_block_is_factored_through_cp_factorize() -> None:
    problem = random_problem(6, n=6, d=3, c=2)
    patterns = enumerate_arrangements(problem.X)
    i = 0
    A = patterns.sign_matrix(i)[:, None] * problem.X
    rng = np.random.default_rng(0)
    witness = patterns.witnesses[i] / np.linalg.norm(patterns.witnesses[i])
    vectors = [witness + 0.05 * rng.standard_normal(3) for _ in range(4)]
    vectors = [s for s in vectors if np.all(A @ s > 0)]
    assert len(vectors) >= 3
    blocks = [np.zeros((3, 3)) for _ in range(len(patterns))]
    blocks[i] = sum(np.outer(s, s) for s in vectors)
    result = CopositiveResult(
        value=0.0,
        bound_kind="lower",
        note="synthetic",
        solve=solve_rel(problem, patterns).solve,
        S=blocks,
        Z=problem.Y.copy(),
        arrangements=patterns,
        cone="DNN",
        level=0,
    )
    recovery = recover_from_rel(result, problem)
    assert "not all blocks" not in recovery.message, recovery.message
    gram = recovery.U @ recovery.U.T / (2 * problem.beta)
    assert np.allclose(gram, blocks[i], atol=1e-6)
    assert np.all(A @ recovery.U >= -1e-6)


# --- exact classes of REL: n <= 4 (DNN = CP) and whitened data (closed form) ------------------


@pytest.mark.parametrize("seed", range(3))
def test_rel_is_exact_for_four_samples(seed: int) -> None:
    # With n <= 4 every A_i S_i A_i^T is a 4 x 4 DNN matrix, hence CP (Maxfield-Minc), so the
    # relaxation is exact and recovery must reproduce its value, here in full rank d = 3.
    problem = random_problem(seed, n=4, d=3, c=2, beta=0.1)
    rel = solve_rel(problem)
    recovery = recover_from_rel(rel, problem)
    assert recovery.exact, recovery.message
    assert relative_gap(recovery.objective, rel.value) <= REL_TOL


def test_closed_form_rel_and_training_agree_on_whitened_data() -> None:
    from copos.nets.datasets import whitened

    problem = whitened(n=5, d=7, c=3, seed=2, beta=0.3)
    closed = soft_threshold_optimum(problem)
    rel = solve_rel(problem)
    trained = min(
        train(problem, width, seed=seed, epochs=4000).best_objective
        for width in (3, 6)
        for seed in (0, 1)
    )
    assert relative_gap(rel.value, closed.value) <= REL_TOL
    assert trained >= closed.value - BOUND_TOL * max(1.0, closed.value)
    assert relative_gap(trained, closed.value) <= 1e-4


def test_rank_two_blocks_a_solver_error_outside_their_cone_are_still_factored() -> None:
    # Before: a block whose generator Gram matrix had an entry of -1.8e-5 (against 8.8) from the
    # solve was refused, and the REL network of planted(n=12, d=2, c=3, beta=0.1) not recovered.
    from copos.recovery.cp_factor import GRAM_CLIP_TOL, _factor_rank_two

    A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # the cone is the nonnegative quadrant
    rays = np.eye(2)
    for offdiag, factored in ((-1e-6, True), (-0.1 * GRAM_CLIP_TOL, True), (-1e-2, False)):
        G = np.array([[3.0, offdiag], [offdiag, 2.0]])  # generator Gram in the rays' coordinates
        S = rays @ G @ rays.T
        eigenvalues, vectors = np.linalg.eigh(S)
        factors, reason = _factor_rank_two(eigenvalues, vectors, A, 1e-6)
        if factored:
            assert reason == "" and factors is not None
            assert np.allclose(sum(np.outer(s, s) for s in factors), S, atol=1e-5)
            assert all(np.min(A @ s) >= -1e-9 for s in factors)
        else:
            assert "outside the pattern cone" in reason


# --- the one Bound type (issue 10) ------------------------------------------------------------


def _expected_rigour(solve) -> str:  # type: ignore[no-untyped-def]
    return "verified" if solve.accurate else "unverified"


def test_rel_reports_a_lower_bound_verified_only_by_its_solve(
    small: tuple[TrainingProblem, CopositiveResult],
) -> None:
    problem, result = small
    bound = result.bound
    assert (bound.claimed_kind, bound.cone, bound.level, bound.view) == ("lower", "DNN", 0, "cp")
    assert bound.rigour == _expected_rigour(result.solve) and bound.kind == result.kind
    assert bound.value == result.value and bound.solver == result.solve.solver
    recovery = recover_from_rel(result, problem).bound  # a real network: rigorous upper bound
    assert (recovery.kind, recovery.rigour) == ("upper", "rigorous")
    assert recovery.status in ("exact recovery", "inexact recovery")


def test_sampled_rel_and_frank_wolfe_bounds(
    small: tuple[TrainingProblem, CopositiveResult],
) -> None:
    problem, result = small
    sampled = solve_rel(problem, sample_arrangements(problem.X, 4, seed=0)).bound
    assert sampled.claimed_kind == sampled.kind == "neither"
    fw = frank_wolfe(problem, result.arrangements, radius=1.0, iterations=5).bound
    assert (fw.kind, fw.rigour, fw.view) == ("upper", "rigorous", "network")
