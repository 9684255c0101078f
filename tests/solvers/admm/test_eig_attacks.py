"""Attacks on the lifted DNN's projector (copos.solvers.admm.eig, issue 14): whatever the PSD
projector does (LOBPCG forced on at every size, LOBPCG returning garbage, a projector that drops
and shrinks eigenpairs), the certified lower bound stays at or below Clarabel's optimum, and a
wrong projector never makes the run claim "optimal" below it."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse.linalg

from copos.nets.problem import TrainingProblem
from copos.relaxations.lifted import solve_lifted_dnn
from copos.solvers.admm import dnn, eig
from copos.solvers.admm.dnn import solve_lifted_dnn_admm
from copos.solvers.admm.eig import PsdProjector
from tests.solvers.admm.test_dnn import _below, _problem, _reference


def _force_lobpcg(monkeypatch: pytest.MonkeyPatch) -> None:
    for constant in ("LOBPCG_FROM", "LOBPCG_BELOW", "GUARD_MIN", "BLOCK_RATIO"):
        monkeypatch.setattr(eig, constant, 1)
    monkeypatch.setattr(dnn, "_LOBPCG", True)


def _check(name: str, result) -> None:  # type: ignore[no-untyped-def]
    optimum = _reference(name).value
    assert _below(result.lower_bound, optimum)
    if result.status == "optimal":
        assert result.value >= optimum - 1e-4 * abs(optimum)


@pytest.mark.parametrize("name", ["planted-10", "random-8"])
def test_lobpcg_forced_on_keeps_the_bound_below_clarabel(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _force_lobpcg(monkeypatch)
    result = solve_lifted_dnn_admm(_problem(name), tol=1e-5, max_iters=1500)
    _check(name, result)


@pytest.mark.parametrize("kind", ["nan", "not eigenpairs", "all positive"])
def test_lobpcg_returning_garbage_falls_back_and_keeps_the_bound(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _force_lobpcg(monkeypatch)
    rng = np.random.default_rng(0)

    def lying(A, X, **kwargs):  # type: ignore[no-untyped-def]
        k = X.shape[1]
        V = rng.standard_normal(X.shape)
        if kind == "nan":
            return np.full(k, np.nan), V
        if kind == "all positive":  # positive eigenvalues may be missing: not trusted
            return np.ones(k), V
        return np.where(np.arange(k) % 2, -1.0, 1.0), V  # mixed signs, wrong vectors

    monkeypatch.setattr(scipy.sparse.linalg, "lobpcg", lying)
    calls = []
    real = PsdProjector._verified

    def spy(self, *args):  # type: ignore[no-untyped-def]
        out = real(self, *args)
        calls.append(out is None)
        return out

    monkeypatch.setattr(PsdProjector, "_verified", spy)
    result = solve_lifted_dnn_admm(_problem("random-8"), tol=1e-5, max_iters=600)
    assert calls and all(calls)  # never accepted
    _check("random-8", result)


def test_a_projector_that_drops_and_shrinks_eigenpairs_never_lies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = PsdProjector.__call__

    def wrong(self: PsdProjector, M: np.ndarray) -> np.ndarray:
        F = real(self, M)
        return 0.5 * F[:, 1:] if F.shape[1] > 1 else 0.5 * F

    monkeypatch.setattr(PsdProjector, "__call__", wrong)
    for name in ("random-8", "planted-6"):
        result = solve_lifted_dnn_admm(_problem(name), tol=1e-5, max_iters=800)
        assert result.status != "optimal"
        _check(name, result)


@pytest.mark.parametrize("kind", ["zero column", "repeated rows", "bias column"])
def test_degenerate_data_through_the_structured_factor_keeps_the_bound(kind: str) -> None:
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    if kind == "zero column":
        X[:, 1] = 0.0
    elif kind == "repeated rows":
        X[4:] = X[:4]
    problem = TrainingProblem.from_data(X, Y, 0.1, bias=kind == "bias column")
    reference = solve_lifted_dnn(problem, form="reduced", solver="clarabel")
    assert reference.solve.status == "optimal"
    result = solve_lifted_dnn_admm(problem, tol=1e-5, max_iters=1000, quiet=True)
    assert _below(result.lower_bound, reference.value)


def test_zero_data_keeps_the_bound_below_half_the_labels_norm() -> None:
    # X = 0: every net outputs 0, p* = ||Y||^2 / 2 exactly (no interior-point reference needed)
    Y = np.random.default_rng(1).standard_normal((8, 2))
    problem = TrainingProblem.from_data(np.zeros((8, 3)), Y, 0.1)
    result = solve_lifted_dnn_admm(problem, tol=1e-5, max_iters=1000, quiet=True)
    assert result.lower_bound <= 0.5 * float(np.sum(Y**2)) * (1 + 1e-12)
    assert result.status != "optimal" or result.value >= result.lower_bound
