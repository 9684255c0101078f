"""Operator-based Douglas-Rachford solver for the lifted DNN relaxation against Clarabel (via CVXPY)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from copos.errors import InvalidInputError
from copos.nets.datasets import planted
from copos.nets.problem import TrainingProblem
from copos.relaxations.lifted import LiftedLayout, LiftedResult, solve_lifted_dnn
from copos.solvers.admm.dnn import (
    AdmmResult,
    _Lift,
    _Operators,
    certified_lower_bound,
    solve_lifted_dnn_admm,
)

#: Clarabel's accuracy on these instances (relative), used as slack for "bound <= optimum".
REF_ACCURACY = 1e-7


def _random(n: int, d: int, c: int, seed: int, beta: float) -> TrainingProblem:
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((n, d)), rng.standard_normal((n, c))
    return TrainingProblem.from_data(X, Y, beta, bias=True, name="random")


INSTANCES = {
    "planted-6": lambda: planted(n=6, d=2, c=2, seed=0, beta=0.1),
    "planted-10": lambda: planted(n=10, d=3, c=2, seed=1, beta=0.5),
    "planted-20": lambda: planted(n=20, d=5, c=3, seed=4, beta=1.0),
    "random-8": lambda: _random(8, 2, 2, 0, 0.1),
    "random-15": lambda: _random(15, 3, 3, 1, 0.1),
    "random-25": lambda: _random(25, 4, 2, 2, 0.2),
}


@cache
def _problem(name: str) -> TrainingProblem:
    return INSTANCES[name]()


@cache
def _reference(name: str) -> LiftedResult:
    result = solve_lifted_dnn(_problem(name), form="reduced", solver="clarabel")
    assert result.solve.status == "optimal"
    return result


def _below(lower: float, optimum: float) -> bool:
    return lower <= optimum + REF_ACCURACY * max(1.0, abs(optimum))


# ------------------------------------------------------------------------------ operators
def test_operators_match_dense_formulas() -> None:
    problem = _problem("random-8")
    ops, layout = _Operators(problem), LiftedLayout.from_problem(problem)
    T_ab = layout.T[layout.ab]
    rng = np.random.default_rng(0)
    S = rng.standard_normal((ops.q, ops.q))
    S = S + S.T
    N = rng.standard_normal((2 * ops.n, 2 * ops.n))
    N = N + N.T
    np.testing.assert_allclose(ops.A(S), T_ab @ S @ T_ab.T, atol=1e-12)
    np.testing.assert_allclose(ops.At(N), T_ab.T @ N @ T_ab, atol=1e-12)
    np.testing.assert_allclose(np.sum(ops.A(S) * N), np.sum(S * ops.At(N)), rtol=1e-12)
    # C(Y - S_av) is the gradient of f at S (checked by a directional derivative)
    D = rng.standard_normal((ops.q, ops.q))
    D = D + D.T
    Z = problem.Y - S[ops.a, ops.v]
    slope = (ops.objective(S + 1e-6 * D) - ops.objective(S - 1e-6 * D)) / 2e-6
    assert slope == pytest.approx(np.sum(ops.C(Z) * D), rel=1e-6)


def test_lift_maps_match_dense_formulas() -> None:
    problem = _problem("random-8")
    ops, layout = _Operators(problem), LiftedLayout.from_problem(problem)
    lift, T = _Lift(ops), layout.T
    rng = np.random.default_rng(1)
    S = rng.standard_normal((ops.q, ops.q))
    S = S + S.T
    L = rng.standard_normal((layout.p, layout.p))
    L = L + L.T
    np.testing.assert_allclose(lift.lift(S), T @ S @ T.T, atol=1e-12)
    np.testing.assert_allclose(lift.congruence(L), T.T @ L @ T, atol=1e-12)


def test_projection_onto_the_range_psd_cone_is_the_projection() -> None:
    """Π_C(L) = V Π_PSD(VᵀLV) Vᵀ for an orthonormal basis V of ker M, checked densely."""
    problem = _problem("random-8")
    ops, layout = _Operators(problem), LiftedLayout.from_problem(problem)
    lift = _Lift(ops)
    rng = np.random.default_rng(2)
    L = rng.standard_normal((layout.p, layout.p))
    L = L + L.T
    S, projected = lift.project_C(L)
    V = np.linalg.qr(layout.T)[0]
    w, U = np.linalg.eigh(V.T @ L @ V)
    expected = V @ (U * np.maximum(w, 0)) @ U.T @ V.T
    np.testing.assert_allclose(projected, expected, atol=1e-10)
    np.testing.assert_allclose(projected, layout.T @ S @ layout.T.T, atol=1e-10)
    assert np.linalg.eigvalsh(S)[0] >= -1e-10
    assert np.abs(layout.M @ projected).max() <= 1e-10
    # the residual is normal to the cone at the projection: <L - P, P> = 0 and L - P ⪯ 0 on range V
    assert abs(np.sum((L - projected) * projected)) <= 1e-9 * np.sum(L**2)
    assert np.linalg.eigvalsh(V.T @ (L - projected) @ V)[-1] <= 1e-10


def test_prox_of_the_loss_and_sign_set_minimizes_its_model() -> None:
    """prox_{γ g2}(W) beats random feasible perturbations of itself on γ g2 + ½‖· - W‖²."""
    problem = _problem("random-8")
    ops, layout = _Operators(problem), LiftedLayout.from_problem(problem)
    lift, gamma = _Lift(ops), 0.7
    rng = np.random.default_rng(3)
    W = rng.standard_normal((layout.p, layout.p))
    W = W + W.T
    n, ab = ops.n, layout.ab

    def model(L: np.ndarray) -> float:
        loss = 0.5 * np.sum((L[layout.block("a"), layout.block("v")] - problem.Y) ** 2)
        reg = 0.5 * problem.beta * np.sum(layout.Q * L)
        return gamma * (loss + reg) + 0.5 * np.sum((L - W) ** 2)

    P = lift.prox_g2(W, gamma)
    block = P[ab, ab]
    assert block.min() >= 0 and np.allclose(np.diag(block[:n, n:]), 0)
    for _ in range(20):
        D = rng.standard_normal(W.shape) * 1e-3
        D = D + D.T
        Q = P + D
        Q[ab, ab] = np.maximum(Q[ab, ab], 0)
        idx = np.arange(n)
        Q[idx, idx + n] = Q[idx + n, idx] = 0
        assert model(P) <= model(Q) + 1e-12


# ------------------------------------------------------------------------------ accuracy
@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_agrees_with_clarabel_to_1e_5(name: str) -> None:
    reference = _reference(name).value
    result = solve_lifted_dnn_admm(_problem(name), tol=1e-6, max_iters=50_000)
    assert result.status in ("optimal", "max_iterations")
    assert abs(result.value - reference) <= 1e-5 * abs(reference)
    assert _below(result.lower_bound, reference)
    assert reference - result.lower_bound <= 1e-5 * abs(reference)
    assert np.linalg.eigvalsh(result.S)[0] >= -1e-9 * np.abs(result.S).max()


def test_optimal_status_means_a_small_certified_gap() -> None:
    name = "planted-20"
    reference = _reference(name).value
    result = solve_lifted_dnn_admm(_problem(name), tol=1e-6, max_iters=20_000)
    assert result.status == "optimal"
    assert 0 <= result.gap <= 1e-6
    assert result.lower_bound <= result.value
    assert _below(result.lower_bound, reference)
    assert reference - result.lower_bound <= 1e-5 * abs(reference)
    assert result.sign_violation <= 1e-4


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_lower_bound_is_valid_on_every_instance(name: str) -> None:
    reference = _reference(name).value
    result = solve_lifted_dnn_admm(_problem(name), tol=1e-4, max_iters=400)
    assert np.isfinite(result.lower_bound)
    assert _below(result.lower_bound, reference)
    assert result.bound is not None
    assert _below(result.bound.weighted, reference) and _below(result.bound.trace, reference)


def test_lower_bound_from_the_reference_dual_is_valid_and_tight() -> None:
    name = "random-8"
    reference = _reference(name)
    bound = certified_lower_bound(_problem(name), reference.Z)  # N = 0: valid, not tight
    assert _below(bound.value, reference.value)
    assert bound.dual_objective == pytest.approx(reference.value, rel=1e-5)


# ------------------------------------------------------------------------------ behaviour
def test_warm_start_reduces_iterations() -> None:
    problem = _problem("planted-20")
    first = solve_lifted_dnn_admm(problem, tol=1e-4, max_iters=20_000)
    neighbour = problem.with_beta(1.1 * problem.beta)
    cold = solve_lifted_dnn_admm(neighbour, tol=1e-4, max_iters=20_000)
    warm = solve_lifted_dnn_admm(neighbour, tol=1e-4, max_iters=20_000, warm_start=first)
    assert warm.status == "optimal" and cold.status == "optimal"
    assert warm.iterations < cold.iterations
    reference = solve_lifted_dnn(neighbour, form="reduced", solver="clarabel").value
    assert warm.value == pytest.approx(reference, rel=1e-3)
    assert _below(warm.lower_bound, reference)


def test_max_iterations_status_keeps_a_valid_bound() -> None:
    name = "planted-10"
    result = solve_lifted_dnn_admm(_problem(name), max_iters=5)
    assert result.status == "max_iterations"
    assert result.lower_bound < result.value
    assert result.iterations == 5
    assert _below(result.lower_bound, _reference(name).value)
    assert len(result.history["primal"]) == 5


def test_nan_in_the_iteration_is_reported_as_diverged(monkeypatch: pytest.MonkeyPatch) -> None:
    def poisoned(self: _Lift, W: np.ndarray, gamma: float) -> np.ndarray:
        return np.full_like(W, np.nan)

    monkeypatch.setattr(_Lift, "prox_g2", poisoned)
    result = solve_lifted_dnn_admm(_problem("random-8"), max_iters=50)
    assert result.status == "diverged"
    assert result.iterations == 1
    assert result.lower_bound == -np.inf and np.isnan(result.value)
    assert result.to_solve_info().status == "diverged"


def test_solve_info() -> None:
    result = solve_lifted_dnn_admm(_problem("random-8"), max_iters=50)
    assert isinstance(result, AdmmResult)
    info = result.to_solve_info()
    assert info.solver == "copos-admm"
    assert info.status == result.status
    assert info.iterations == 50
    assert info.extra["lower_bound"] == result.lower_bound
    assert info.primal_residual == result.relative_sign_violation <= result.sign_violation


# ------------------------------------------------------------------------------ inputs
@pytest.mark.parametrize(
    "kwargs",
    [
        {"tol": 0.0},
        {"tol": float("nan")},
        {"max_iters": 0},
        {"max_iters": 2.5},
        {"rho": -1.0},
        {"threads": 0},
        {"alpha": 2.0},
        {"anderson": -1},
        {"time_limit": 0.0},
        {"check_every": 0},
        {"warm_start": "nope"},
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        solve_lifted_dnn_admm(_problem("random-8"), **kwargs)  # type: ignore[arg-type]


def test_bad_problem_and_nan_data_raise() -> None:
    with pytest.raises(InvalidInputError):
        solve_lifted_dnn_admm("not a problem")  # type: ignore[arg-type]
    problem = planted(n=6, d=2, c=2, seed=0)
    X = problem.X.copy()
    X[0, 0] = np.nan
    object.__setattr__(problem, "X", X)  # bypass TrainingProblem's own check
    with pytest.raises(InvalidInputError):
        solve_lifted_dnn_admm(problem)


def test_warm_start_of_the_wrong_shape_raises() -> None:
    small = solve_lifted_dnn_admm(_problem("random-8"), max_iters=3)
    with pytest.raises(InvalidInputError):
        solve_lifted_dnn_admm(_problem("planted-10"), warm_start=small)


def test_the_splitting_takes_data_not_a_network_problem() -> None:
    """solvers/ knows (X, Y, beta), not copos.nets (issue 10): any such data gives the same bound."""
    from types import SimpleNamespace

    from copos.solvers.admm.dnn import certified_lower_bound as bound

    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((6, 2)), rng.standard_normal((6, 1))
    Z = 0.1 * rng.standard_normal((6, 1))
    problem = TrainingProblem(X, Y, 0.3)
    data = SimpleNamespace(X=problem.X, Y=problem.Y, beta=problem.beta)
    assert bound(data, Z).value == bound(problem, Z).value  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="TrainingProblem"):
        bound(np.zeros((6, 2)), Z)  # type: ignore[arg-type]
