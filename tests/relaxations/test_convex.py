"""The Pilanci-Ergen convex program for scalar outputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copos.errors import InvalidInputError, UnknownSolverError
from copos.nets.architectures.dense import network_objective
from copos.nets.arrangements import enumerate_arrangements, sample_arrangements
from copos.nets.problem import TrainingProblem
from copos.recovery.convex import recover_from_convex
from copos.relaxations.convex import (
    ADMM_FROM_D,
    ADMM_FROM_ROWS,
    ADMM_SOLVER,
    ConvexProgramResult,
    arrangement_features,
    arrangement_sizes,
    solve_convex_program,
)
from copos.solvers.registry import ARRANGEMENT_ADMM_FROM_BETA_RATIO, resolve
from tests.known import relative_gap

REL_TOL = 1e-5


def numpy_objective(problem: TrainingProblem, U: np.ndarray, V: np.ndarray) -> float:
    """0.5 ||(XU)_+ V - Y||^2 + beta/2 (||U||^2 + ||V||^2), written out independently."""
    prediction = np.maximum(problem.X @ U, 0.0) @ V
    loss = 0.5 * np.sum((prediction - problem.Y) ** 2)
    return float(loss + 0.5 * problem.beta * (np.sum(U**2) + np.sum(V**2)))


def gradient_descent(
    problem: TrainingProblem, width: int, seed: int, steps: int = 3000, lr: float = 0.02
) -> tuple[np.ndarray, np.ndarray]:
    """Plain full-batch gradient descent on the nonconvex training objective."""
    rng = np.random.default_rng(seed)
    U = 0.5 * rng.standard_normal((problem.d, width))
    V = 0.5 * rng.standard_normal((width, problem.c))
    for _ in range(steps):
        pre = problem.X @ U
        hidden = np.maximum(pre, 0.0)
        residual = hidden @ V - problem.Y
        grad_V = hidden.T @ residual + problem.beta * V
        grad_U = problem.X.T @ ((residual @ V.T) * (pre > 0)) + problem.beta * U
        U, V = U - lr * grad_U, V - lr * grad_V
    return U, V


def random_problem(n: int, d: int, seed: int, beta: float = 0.1) -> TrainingProblem:
    rng = np.random.default_rng(seed)
    return TrainingProblem.from_data(rng.standard_normal((n, d)), rng.standard_normal(n), beta)


@pytest.fixture(scope="module", params=[(10, 2, 0), (12, 2, 1), (8, 2, 2)])
def solved(request: pytest.FixtureRequest) -> tuple[TrainingProblem, ConvexProgramResult]:
    n, d, seed = request.param
    problem = random_problem(n, d, seed)
    return problem, solve_convex_program(problem)


def test_recovered_network_attains_convex_value(
    solved: tuple[TrainingProblem, ConvexProgramResult],
) -> None:
    problem, result = solved
    assert result.bound_kind == "exact" and result.arrangements.complete
    assert result.solve.status == "optimal"
    assert relative_gap(numpy_objective(problem, result.U, result.V), result.value) <= REL_TOL
    assert result.relative_recovery_gap <= REL_TOL
    assert result.U.shape == (problem.d, result.num_neurons)
    assert result.V.shape == (result.num_neurons, 1)
    assert 0 < result.num_neurons <= 2 * len(result.arrangements)


def test_convex_value_below_gradient_descent(
    solved: tuple[TrainingProblem, ConvexProgramResult],
) -> None:
    problem, result = solved
    trained = [numpy_objective(problem, *gradient_descent(problem, 10, seed)) for seed in range(4)]
    slack = 1e-6 * max(1.0, result.value)
    assert all(result.value <= value + slack for value in trained)
    # gradient descent on a wide net gets close to the global optimum on these tiny problems
    assert min(trained) <= 1.05 * result.value + 1e-3


def test_convex_value_below_random_networks(
    solved: tuple[TrainingProblem, ConvexProgramResult],
) -> None:
    problem, result = solved
    rng = np.random.default_rng(0)
    for _ in range(200):
        width = int(rng.integers(1, 12))
        U = rng.standard_normal((problem.d, width))
        V = rng.standard_normal((width, 1)) * rng.uniform(0, 1)
        assert result.value <= numpy_objective(problem, U, V) + 1e-7


def test_sampled_arrangements_give_upper_bound(
    solved: tuple[TrainingProblem, ConvexProgramResult],
) -> None:
    problem, exact = solved
    sampled = sample_arrangements(problem.X, 8, seed=0)
    result = solve_convex_program(problem, sampled)
    assert result.bound_kind == "upper"
    assert result.value >= exact.value - 1e-6 * max(1.0, exact.value)
    assert relative_gap(numpy_objective(problem, result.U, result.V), result.value) <= REL_TOL


def test_vector_output_is_refused() -> None:
    rng = np.random.default_rng(0)
    problem = TrainingProblem.from_data(
        rng.standard_normal((6, 2)), rng.standard_normal((6, 2)), 0.1
    )
    with pytest.raises(InvalidInputError, match="copositive"):
        solve_convex_program(problem)


def test_mismatched_arrangements_are_refused() -> None:
    problem = random_problem(6, 2, seed=0)
    other = enumerate_arrangements(np.random.default_rng(1).standard_normal((5, 2)))
    with pytest.raises(InvalidInputError, match="rows"):
        solve_convex_program(problem, other)


def test_scs_agrees_with_clarabel() -> None:
    problem = random_problem(8, 2, seed=5)
    clarabel = solve_convex_program(problem)
    scs = solve_convex_program(problem, solver="scs", recovery_tol=1e-3)
    assert relative_gap(scs.value, clarabel.value) <= 1e-4


def test_copos_admm_agrees_with_clarabel_and_certifies_a_lower_bound() -> None:
    from copos.relaxations.convex import ArrangementAdmmResult

    problem = random_problem(12, 2, seed=3)
    clarabel = solve_convex_program(problem)
    admm = solve_convex_program(problem, solver="copos-admm", tol=1e-8)
    assert isinstance(admm, ArrangementAdmmResult) and admm.status == "optimal"
    assert relative_gap(admm.value, clarabel.value) <= REL_TOL
    assert admm.bound_kind == "exact"
    assert admm.lower_bound <= clarabel.value + 1e-9 * abs(clarabel.value)
    assert admm.recovered_objective >= clarabel.value - 1e-7 * abs(clarabel.value)


def test_copos_admm_on_whitened_square_data_is_exact_and_accurate() -> None:
    """The ADMM used to stop at value 8.7e25 with status "optimal" here (p* = 0.38 exactly)."""
    from tests.catalogue import scalar_whitened

    known = scalar_whitened()
    admm = solve_convex_program(known.problem, solver="copos-admm")
    assert admm.solve.status == "optimal" and admm.solve.accurate
    assert admm.kind == "exact"
    assert relative_gap(admm.value, known.p_star) <= REL_TOL
    assert admm.lower_bound <= known.p_star + 1e-9


def chosen(problem, patterns, solver: str, fallback: str = "clarabel") -> str:  # type: ignore[no-untyped-def]
    """The solver the registry picks for the arrangement program of ``problem``."""
    return resolve(solver, "arrangement", arrangement_sizes(problem, patterns), fallback=fallback)


def test_auto_picks_the_admm_for_large_programs_only() -> None:
    small = random_problem(20, ADMM_FROM_D, seed=0)
    patterns = sample_arrangements(small.X, 10, seed=0)
    assert chosen(small, patterns, "auto") == "clarabel"
    assert chosen(small, patterns, "auto", fallback="scs") == "scs"
    assert chosen(small, patterns, "COPOS-ADMM") == ADMM_SOLVER
    rows = -(-ADMM_FROM_ROWS // 20)  # patterns so that n * P reaches the threshold
    many = sample_arrangements(small.X, rows, seed=0)
    expected = ADMM_SOLVER if len(many) * 20 >= ADMM_FROM_ROWS else "clarabel"
    assert chosen(small, many, "auto") == expected
    low = random_problem(20, ADMM_FROM_D - 1, seed=0)
    assert chosen(low, sample_arrangements(low.X, rows, seed=0), "auto") == "clarabel"
    with pytest.raises(UnknownSolverError):
        chosen(small, patterns, "mosek-ish")
    with pytest.raises(UnknownSolverError):
        solve_convex_program(small, patterns, solver="mosek-ish")
    with pytest.raises(InvalidInputError, match="tol"):
        solve_convex_program(small, patterns, solver="clarabel", tol=0.0)


def test_bias_column_is_supported() -> None:
    rng = np.random.default_rng(9)
    problem = TrainingProblem.from_data(
        rng.standard_normal((8, 2)), rng.standard_normal(8), 0.05, bias=True
    )
    result = solve_convex_program(problem)
    assert result.arrangements.rank == 3
    assert relative_gap(numpy_objective(problem, result.U, result.V), result.value) <= REL_TOL


def test_recover_from_convex_balances_neurons() -> None:
    v_blocks = np.array([[3.0, 4.0], [0.0, 0.0]])
    w_blocks = np.array([[0.0, 0.0], [1e-12, 0.0]])
    U, V = recover_from_convex(v_blocks, w_blocks)
    assert U.shape == (2, 1) and V.shape == (1, 1)
    np.testing.assert_allclose(U[:, 0], np.array([3.0, 4.0]) / np.sqrt(5.0))
    np.testing.assert_allclose(V[0, 0], np.sqrt(5.0))
    U, V = recover_from_convex(np.zeros((0, 2)), -v_blocks)
    np.testing.assert_allclose(V[:, 0], [-np.sqrt(5.0)])


def test_network_objective_matches_formula_and_checks_shapes() -> None:
    problem = random_problem(6, 3, seed=2)
    rng = np.random.default_rng(3)
    U, V = rng.standard_normal((3, 4)), rng.standard_normal((4, 1))
    assert network_objective(problem, U, V) == pytest.approx(numpy_objective(problem, U, V))
    with pytest.raises(InvalidInputError):
        network_objective(problem, U.T, V)


def test_network_method_builds_model(solved: tuple[TrainingProblem, ConvexProgramResult]) -> None:
    pytest.importorskip("copos.nets.architectures.dense")
    problem, result = solved
    network = result.network()
    np.testing.assert_allclose(
        network.predict(problem.X), np.maximum(problem.X @ result.U, 0) @ result.V, atol=1e-12
    )
    assert network.objective(problem) == pytest.approx(result.recovered_objective, rel=1e-12)


@settings(max_examples=12, deadline=None)
@given(
    n=st.integers(min_value=3, max_value=9),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    beta=st.floats(min_value=0.01, max_value=2.0),
)
def test_random_problems_recover_exactly(n: int, seed: int, beta: float) -> None:
    problem = random_problem(n, 2, seed, beta=beta)
    result = solve_convex_program(problem)
    recovered = numpy_objective(problem, result.U, result.V)
    assert relative_gap(recovered, result.value) <= REL_TOL
    zero_network = 0.5 * float(np.sum(problem.Y**2))
    assert result.value <= zero_network + 1e-7


def test_convex_result_bounds(solved: tuple[TrainingProblem, ConvexProgramResult]) -> None:
    problem, result = solved
    bound = result.bound
    assert bound.claimed_kind == "exact" and bound.kind == result.kind
    assert bound.rigour == ("verified" if result.solve.accurate else "unverified")
    net = result.network_bound
    assert (net.kind, net.rigour, net.value) == ("upper", "rigorous", result.recovered_objective)


def test_copos_admm_dual_bound_is_certified_even_before_convergence() -> None:
    problem = random_problem(10, 2, seed=1)
    from copos.relaxations.convex import solve_arrangement_admm

    admm = solve_arrangement_admm(problem, enumerate_arrangements(problem.X), max_iters=3)
    dual = admm.dual_bound
    assert (dual.kind, dual.rigour, dual.value) == ("lower", "rigorous", admm.lower_bound)
    assert dual.solver == "copos-admm" and admm.bound.claimed_kind == admm.bound_kind


def test_beta_ratio_of_one_means_the_zero_solution() -> None:
    """beta >= beta_max = max_i ||X^T D_i y|| makes every block zero: the value is ||y||^2 / 2."""
    problem = random_problem(10, 2, seed=3)
    patterns = enumerate_arrangements(problem.X)
    beta_max = problem.beta / arrangement_features(problem, patterns)["beta_ratio"]
    at_max = TrainingProblem.from_data(problem.X, problem.Y[:, 0], 1.001 * beta_max)
    assert arrangement_features(at_max, patterns)["beta_ratio"] == pytest.approx(1.001)
    result = solve_convex_program(at_max, patterns, solver="clarabel")
    half_norm = 0.5 * float(np.sum(problem.Y**2))
    assert result.value == pytest.approx(half_norm, rel=1e-6)
    below = TrainingProblem.from_data(problem.X, problem.Y[:, 0], 0.5 * beta_max)
    assert solve_convex_program(below, patterns, solver="clarabel").value < 0.999 * half_norm


def test_auto_keeps_clarabel_when_the_weight_decay_is_tiny() -> None:
    """Large enough for the ADMM by size, but beta/beta_max below the measured threshold."""
    big = random_problem(20, ADMM_FROM_D, seed=0)
    many = sample_arrangements(big.X, -(-ADMM_FROM_ROWS // 20), seed=0)
    ratio = arrangement_features(big, many)["beta_ratio"]
    assert ratio >= ARRANGEMENT_ADMM_FROM_BETA_RATIO
    if len(many) * 20 >= ADMM_FROM_ROWS:
        assert chosen(big, many, "auto") == ADMM_SOLVER
    scale = 0.5 * ARRANGEMENT_ADMM_FROM_BETA_RATIO / ratio
    tiny = TrainingProblem.from_data(big.X, big.Y[:, 0], big.beta * scale)
    assert arrangement_features(tiny, many)["beta_ratio"] < ARRANGEMENT_ADMM_FROM_BETA_RATIO
    assert chosen(tiny, many, "auto") == "clarabel"
    assert chosen(tiny, many, "copos-admm") == ADMM_SOLVER  # an explicit name is obeyed
