"""Issue 14 additions to the lifted-DNN splitting: equilibration, partial eigendecompositions,
best certified bound under a time limit, progress lines, warm starts across ``n``."""

from __future__ import annotations

import io

import numpy as np
import pytest
import scipy.linalg

from copos.errors import InvalidInputError
from copos.nets.problem import TrainingProblem
from copos.solvers.admm import dnn, progress
from copos.solvers.admm.dnn import (
    _Operators,
    _psd_factor,
    certified_lower_bound,
    pad_state,
    solve_lifted_dnn_admm,
)
from copos.solvers.admm.equilibrate import Equilibration
from tests.solvers.admm.test_dnn import _below, _problem, _reference


def _psd(q: int, rank: int, seed: int) -> np.ndarray:
    F = np.random.default_rng(seed).standard_normal((q, rank))
    return F @ F.T


# ------------------------------------------------------------------------------ equilibration
def test_equilibration_is_an_exact_change_of_variables() -> None:
    rng = np.random.default_rng(3)
    n, d, c, beta = 7, 3, 2, 0.3
    X = rng.standard_normal((n, d)) * rng.uniform(0.2, 5.0, size=(n, 1))
    Y = rng.standard_normal((n, c))
    eq = Equilibration.of(X, Y, "rows")
    data = eq.data(X, Y, beta)
    assert np.allclose(np.linalg.norm(data.X, axis=1), np.linalg.norm(data.X, axis=1)[0])
    original, scaled = (
        _Operators(TrainingProblem.from_data(X, Y, beta, bias=False)),
        _Operators(data),
    )
    S_scaled = _psd(n + d + c, 4, 4)
    S = eq.S(S_scaled, n)
    r2 = np.concatenate([eq.r, eq.r])
    # A(S) = s R2 A'(S') R2: the sign set is the same
    np.testing.assert_allclose(
        original.A(S), eq.s * r2[:, None] * scaled.A(S_scaled) * r2, atol=1e-10
    )
    # f(S) = s^2 t^2 f'(S') with the weighted loss and the u-block regularizer of the data
    a, u, v = scaled.a, scaled.u, scaled.v
    residual = S_scaled[a, v] - data.Y
    f_scaled = 0.5 * np.sum(data.loss_weight[:, None] * residual**2)
    f_scaled += 0.5 * np.sum(data.reg_u * S_scaled[u, u]) + 0.5 * data.beta * np.trace(
        S_scaled[v, v]
    )
    assert original.objective(S) == pytest.approx(eq.s**2 * eq.t**2 * f_scaled, rel=1e-12)
    # the multipliers map back: Z = Y - S_av and <N, A(S)> = s^2 t^2 <N', A'(S')>
    np.testing.assert_allclose(eq.Z(data.Y - S_scaled[a, v]), Y - S[a, v], atol=1e-12)
    N_scaled = rng.standard_normal((2 * n, 2 * n))
    lhs = np.sum(eq.N(N_scaled) * original.A(S))
    assert lhs == pytest.approx(
        eq.s**2 * eq.t**2 * np.sum(N_scaled * scaled.A(S_scaled)), rel=1e-10
    )


@pytest.mark.parametrize("name", ["random-8"])
def test_equilibrated_solve_equals_unscaled_solve(name: str) -> None:
    reference = _reference(name).value
    results = [
        solve_lifted_dnn_admm(_problem(name), tol=1e-6, max_iters=20_000, equilibrate=kind)
        for kind in ("rms", "rows")
    ]
    for result in results:
        assert result.status == "optimal"
        assert abs(result.value - reference) <= 1e-5 * abs(reference)
        assert _below(result.lower_bound, reference)
    assert results[0].lower_bound == pytest.approx(results[1].lower_bound, rel=2e-6)


def test_auto_equilibration_and_bad_kind() -> None:
    problem = _problem("planted-10")
    auto = solve_lifted_dnn_admm(problem, max_iters=30, equilibrate="auto")
    rms = solve_lifted_dnn_admm(problem, max_iters=30, equilibrate="rms")
    assert auto.lower_bound == rms.lower_bound  # n < 100: the same iteration
    with pytest.raises(InvalidInputError, match="equilibrate"):
        solve_lifted_dnn_admm(problem, equilibrate="cols")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ partial eigh
def test_partial_eigendecomposition_is_exact_and_falls_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drivers: list[str] = []
    eigh = scipy.linalg.eigh

    def spy(*args: object, **kwargs: object) -> object:
        drivers.append(str(kwargs.get("driver")))
        return eigh(*args, **kwargs)

    monkeypatch.setattr(dnn.scipy.linalg, "eigh", spy)
    q = 30
    for positive_rank in (2, 20):  # low rank, and a hint far below the true rank
        M = _psd(q, positive_rank, positive_rank) - 0.5 * _psd(q, 5, 7)
        w, V = np.linalg.eigh(M)
        exact = (V * np.maximum(w, 0.0)) @ V.T
        for hint, driver in ((1, "evr"), (q, "evd")):
            F = _psd_factor(M, hint)
            assert drivers[-1] == driver
            np.testing.assert_allclose(F @ F.T, exact, atol=1e-10)


# ------------------------------------------------------------------------------ time limit, best bound
def test_time_limit_returns_a_valid_bound_with_its_status() -> None:
    name = "planted-20"
    result = solve_lifted_dnn_admm(_problem(name), time_limit=1e-9)
    assert result.status == "time_limit"
    assert result.iterations == 1
    assert np.isfinite(result.lower_bound)
    assert _below(result.lower_bound, _reference(name).value)


def test_the_best_certified_bound_seen_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "random-25"
    seen: list[float] = []
    check = dnn._check_gap

    def spy(*args: object) -> dnn._Check:
        result = check(*args)  # type: ignore[arg-type]
        seen.append(result.bound.value)
        return result

    monkeypatch.setattr(dnn, "_BEST_EVERY", 1)
    monkeypatch.setattr(dnn, "_check_gap", spy)
    result = solve_lifted_dnn_admm(_problem(name), tol=1e-9, max_iters=60)
    assert result.status == "max_iterations" and len(seen) == 60
    assert result.lower_bound == max(seen)
    assert result.lower_bound > seen[-1]  # the last iterate's bound is not the best here
    assert result.bound_iteration == 1 + seen.index(max(seen))
    # the returned dual point certifies the returned bound
    recomputed = certified_lower_bound(_problem(name), result.Z, result.N).value
    assert recomputed == pytest.approx(result.lower_bound, rel=1e-12)
    assert _below(result.lower_bound, _reference(name).value)


# ------------------------------------------------------------------------------ progress
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_lines_only_on_a_terminal_and_not_when_quiet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(progress, "PROGRESS_EVERY", 0.0)
    problem = _problem("planted-10")
    for stream, quiet, expected in (
        (_Terminal(), False, True),
        (_Terminal(), True, False),
        (io.StringIO(), False, False),
    ):
        monkeypatch.setattr(progress.sys, "stderr", stream)
        solve_lifted_dnn_admm(problem, max_iters=3, quiet=quiet)
        lines = stream.getvalue().splitlines()
        assert bool(lines) == expected
        if expected:
            assert len(lines) == 3 and "lower bound" in lines[-1] and "it       3" in lines[-1]


# ------------------------------------------------------------------------------ warm starts across n
def _first(problem: TrainingProblem, k: int) -> TrainingProblem:
    return TrainingProblem(
        X=problem.X[:k], Y=problem.Y[:k], beta=problem.beta, bias=problem.bias, name="first"
    )


def test_pad_state_embeds_the_smaller_solve_block_by_block() -> None:
    problem = _problem("random-15")
    n, k, d, c = problem.n, 8, problem.d, problem.c
    small = solve_lifted_dnn_admm(_first(problem, k), max_iters=40)
    state = pad_state(small, problem)
    zeta, old = state.zeta, small.state.zeta
    assert zeta.shape == (2 * n + d + c,) * 2 and state.rho == small.state.rho
    np.testing.assert_array_equal(zeta[:k, :k], old[:k, :k])
    np.testing.assert_array_equal(zeta[n : n + k, 2 * n :], old[k : 2 * k, 2 * k :])
    assert not zeta[k:n].any() and not zeta[n + k : 2 * n].any()
    warm = solve_lifted_dnn_admm(problem, max_iters=200, warm_start=state)
    assert _below(warm.lower_bound, _reference("random-15").value)
    with pytest.raises(InvalidInputError, match="does not pad"):
        pad_state(state, _first(problem, k))
