"""The arrangement program through the architecture seam: a patch net (K = 2) against brute force."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from copos.errors import InvalidInputError
from copos.nets.architectures.base import DataOperator
from copos.relaxations.convex import _choose_solver, solve_convex_program
from tests.known import random_problem
from tests.nets.architectures.patch1d import Patch1D, gradient_descent


def test_a_patch_of_the_whole_input_gives_the_dense_program_bit_for_bit() -> None:
    problem = random_problem(0, n=8, d=3, c=1)
    dense = solve_convex_program(problem)
    patch = solve_convex_program(problem, architecture=Patch1D(h=3))
    assert patch.value == dense.value
    assert np.array_equal(patch.v_blocks, dense.v_blocks)
    assert np.array_equal(patch.arrangements.patterns, dense.arrangements.patterns)
    assert patch.recovered_objective == dense.recovered_objective


def grid_value(architecture: Patch1D, problem: object, atoms: int) -> float:
    r"""Brute force: the training optimum over filters on a grid of the unit circle (h = 2).

    By positive homogeneity every net is :math:`\sum_j c_j\,a(u_j)` with unit filters
    :math:`u_j` and :math:`a(u) = \sum_k (X_ku)_+`, the weight decay becoming
    :math:`\beta\sum_j|c_j|`; fixing the filters to a grid leaves a lasso whose value is above
    the optimum and tends to it.  Only the architecture's forward map is used.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, atoms, endpoint=False)
    A = architecture.forward((np.vstack([np.cos(theta), np.sin(theta)]), np.eye(atoms)), problem.X)
    c = cp.Variable(atoms)
    fit = 0.5 * cp.sum_squares(A @ c - problem.Y[:, 0]) + problem.beta * cp.norm1(c)
    lasso = cp.Problem(cp.Minimize(fit))
    lasso.solve(solver=cp.CLARABEL)
    return float(lasso.value)


@pytest.mark.parametrize(("seed", "n"), [(0, 6), (5, 4)])
def test_two_patches_program_is_the_training_optimum(seed: int, n: int) -> None:
    problem = random_problem(seed, n=n, d=3, c=1)
    patch = Patch1D(h=2)  # K = 2 patches of a signal of length 3
    result = solve_convex_program(problem, architecture=patch)
    assert result.arrangements.complete and result.arrangements.n == 2 * n
    scale = max(1.0, abs(result.value))
    # attained: the recovered filters, evaluated by the architecture, give the value
    assert abs(result.recovered_objective - result.value) <= 1e-6 * scale
    # and nothing lower exists: brute force over a fine grid of filters stays above, and close
    coarse, fine = grid_value(patch, problem, 360), grid_value(patch, problem, 3600)
    assert result.value <= fine + 1e-7 * scale <= coarse + 2e-7 * scale
    assert fine - result.value <= 2e-3 * scale
    # nets of that architecture trained by gradient descent end above the value
    rng = np.random.default_rng(seed)
    for width in (3, 10):
        U, V = rng.standard_normal((2, width)), rng.standard_normal((width, 1)) / np.sqrt(width)
        assert result.value <= gradient_descent(patch, problem, U, V, steps=300) + 1e-7 * scale


def test_the_patch_program_differs_from_the_dense_one() -> None:
    problem = random_problem(0, n=6, d=3, c=1)
    dense = solve_convex_program(problem).value
    patch = solve_convex_program(problem, architecture=Patch1D(h=2)).value
    assert abs(patch - dense) > 0.1  # two different nets: the seam is not a no-op


def test_what_the_patch_program_refuses() -> None:
    problem = random_problem(1, n=5, d=3, c=1)
    patch = Patch1D(h=2)
    with pytest.raises(InvalidInputError, match="K = 2"):
        solve_convex_program(problem, solver="copos-admm", architecture=patch)
    dense_patterns = solve_convex_program(problem).arrangements  # patterns of X, length n
    with pytest.raises(InvalidInputError, match="M has 10 rows"):
        solve_convex_program(problem, dense_patterns, architecture=patch)
    with pytest.raises(InvalidInputError, match="Architecture"):
        solve_convex_program(problem, architecture=object())  # type: ignore[arg-type]
    result = solve_convex_program(problem, architecture=patch)
    assert result.architecture is patch
    with pytest.raises(InvalidInputError, match="patch-1d"):
        result.network()


def test_auto_never_hands_patches_to_the_dense_admm() -> None:
    large = DataOperator(np.zeros((2, 1000, 5)))  # n*K*P = 200,000 rows, h = 5: the ADMM's size
    assert _choose_solver("auto", DataOperator(np.zeros((1, 2000, 5))), 100) == "copos-admm"
    assert _choose_solver("auto", large, 100) == "clarabel"
