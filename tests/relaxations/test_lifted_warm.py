"""Warm starts and progress options of ``solve_lifted_dnn`` with ``copos-admm`` (issue 14)."""

from __future__ import annotations

import numpy as np

from copos.nets.datasets import planted
from copos.nets.problem import TrainingProblem
from copos.relaxations.lifted import solve_lifted_dnn
from copos.solvers.admm.dnn import AdmmState


def _gaussian(n: int = 12, d: int = 8) -> TrainingProblem:
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((n, d)), rng.standard_normal((n, 2))
    return TrainingProblem.from_data(X, Y, 0.1, bias=True, name="gaussian")


def test_warm_start_along_a_beta_path_reduces_iterations() -> None:
    problem = _gaussian()
    first = solve_lifted_dnn(problem, solver="copos-admm", quiet=True)
    assert isinstance(first.warm_state, AdmmState)
    neighbour = problem.with_beta(1.1 * problem.beta)
    cold = solve_lifted_dnn(neighbour, solver="copos-admm", quiet=True)
    warm = solve_lifted_dnn(neighbour, solver="copos-admm", warm_start=first, quiet=True)
    assert warm.solve.status == cold.solve.status == "optimal"
    assert warm.solve.iterations < cold.solve.iterations
    assert warm.certified and abs(warm.value - cold.value) <= 2e-4 * abs(cold.value)


def test_warm_start_from_fewer_samples_is_padded() -> None:
    problem = _gaussian()
    k = 8
    first = TrainingProblem(
        X=problem.X[:k], Y=problem.Y[:k], beta=problem.beta, bias=problem.bias, name="first"
    )
    small = solve_lifted_dnn(first, solver="copos-admm", quiet=True)
    warm = solve_lifted_dnn(problem, solver="copos-admm", warm_start=small, quiet=True)
    cold = solve_lifted_dnn(problem, solver="copos-admm", quiet=True)
    assert warm.warm_state.zeta.shape == (2 * problem.n + problem.d + problem.c,) * 2
    assert warm.solve.status == "optimal" and np.isfinite(warm.value)
    assert abs(warm.value - cold.value) <= 2e-4 * abs(cold.value)


def test_cvxpy_solvers_have_no_warm_state() -> None:
    problem = planted(n=6, d=2, c=2, seed=0, beta=0.1)
    assert solve_lifted_dnn(problem, solver="clarabel").warm_state is None
