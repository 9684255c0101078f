"""Accelerated proximal gradient on the squared group lasso, against CVXPY."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from copos.errors import CoposError
from copos.solvers import solve
from copos.solvers.apg import dual_bound, group_lasso_apg, group_soft_threshold


def small_group_lasso(seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((15, 4 * 3)), rng.standard_normal(15), 0.8


def operators(A: np.ndarray):  # type: ignore[no-untyped-def]
    return (lambda x: A @ x.ravel()), (lambda r: (A.T @ r).reshape(4, 3))


def test_apg_matches_cvxpy_and_its_gap_is_certified() -> None:
    A, y, beta = small_group_lasso()
    x = cp.Variable((4, 3))
    program = cp.Problem(
        cp.Minimize(
            0.5 * cp.sum_squares(A @ cp.vec(x, order="C") - y)
            + beta * cp.sum(cp.norm(x, 2, axis=1))
        )
    )
    assert solve(program, "clarabel").accurate
    forward, adjoint = operators(A)
    solution = group_lasso_apg(forward, adjoint, y, beta, (4, 3), tol=1e-7)
    assert solution.solve.status == "optimal" and solution.solve.accurate
    assert solution.lower_bound - 1e-7 <= program.value <= solution.value + 1e-7
    assert abs(solution.value - program.value) <= 1e-6 * max(1.0, program.value)
    np.testing.assert_allclose(solution.x, x.value, atol=1e-3)


def test_the_dual_point_is_a_lower_bound_anywhere() -> None:
    A, y, beta = small_group_lasso(1)
    forward, adjoint = operators(A)
    best = group_lasso_apg(forward, adjoint, y, beta, (4, 3), tol=1e-7).value
    for seed in range(5):
        x = np.random.default_rng(seed).standard_normal((4, 3))
        assert dual_bound(adjoint, y, beta, y - forward(x)) <= best + 1e-9


def test_an_iteration_cap_is_reported_not_hidden() -> None:
    A, y, beta = small_group_lasso(2)
    forward, adjoint = operators(A)
    capped = group_lasso_apg(
        forward, adjoint, y, beta * 0.01, (4, 3), tol=1e-14, max_iters=3, check_every=1
    )
    assert capped.solve.status == "max_iterations" and not capped.solve.accurate
    assert capped.lower_bound <= capped.value


def test_group_soft_threshold_shrinks_rows() -> None:
    z = np.array([[3.0, 4.0], [0.3, 0.4]])
    np.testing.assert_allclose(group_soft_threshold(z, 1.0), [[2.4, 3.2], [0.0, 0.0]])


@pytest.mark.parametrize(
    "options", [{"beta": -1.0}, {"tol": 0.0}, {"max_iters": 0}, {"warm_start": np.ones((2, 2))}]
)
def test_bad_input_raises_a_copos_error(options: dict) -> None:  # type: ignore[type-arg]
    A, y, beta = small_group_lasso()
    forward, adjoint = operators(A)
    arguments = {"beta": beta, **options}
    with pytest.raises(CoposError):
        group_lasso_apg(forward, adjoint, y, shape=(4, 3), **arguments)
