"""The lifted-DNN projection's linear algebra (issue 14): the structured Cholesky factor of TᵀT and
the warm-started partial (LOBPCG) eigendecomposition with its LAPACK fallback."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from copos.relaxations.lifted import LiftedLayout
from copos.solvers.admm import dnn, eig
from copos.solvers.admm.dnn import _Operators, solve_lifted_dnn_admm
from copos.solvers.admm.eig import PsdProjector, StructuredFactor
from tests.solvers.admm.test_dnn import _below, _problem, _reference


def test_structured_factor_is_the_cholesky_factor_of_the_gram_matrix() -> None:
    problem = _problem("random-25")
    ops, T = _Operators(problem), LiftedLayout.from_problem(problem).T
    factor = StructuredFactor(ops.X, ops.c)
    R = scipy.linalg.cholesky(T.T @ T, lower=False)
    rng = np.random.default_rng(0)
    np.testing.assert_allclose(factor.dense(), R, atol=1e-12)
    B = rng.standard_normal((factor.q, 5))
    np.testing.assert_allclose(R @ factor.solve(B), B, atol=1e-11)
    np.testing.assert_allclose(R.T @ factor.solve_transposed(B), B, atol=1e-11)
    K = B @ B.T
    np.testing.assert_allclose(R.T @ factor.congruence(K) @ R, K, atol=1e-10)


def _low_rank_minus_negative(q: int, rank: int, seed: int) -> np.ndarray:
    """A symmetric matrix with ``rank`` large positive eigenvalues and a full negative part."""
    rng = np.random.default_rng(seed)
    F = rng.standard_normal((q, rank)) * 3.0
    A = rng.standard_normal((q, q))
    return F @ F.T - A @ A.T / q


def _projection(M: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(M)
    return (V * np.maximum(w, 0.0)) @ V.T


def test_partial_projection_equals_the_full_one_on_a_low_rank_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(eig, "LOBPCG_FROM", 50)
    q, rank = 120, 6
    M = _low_rank_minus_negative(q, rank, 1)
    projector = PsdProjector(q)
    first = projector(M)  # no basis yet: LAPACK
    assert projector.counts["lobpcg"] == 0 and first.shape[1] == rank
    nearby = M + 1e-3 * _low_rank_minus_negative(q, 2, 2)
    F = projector(nearby)  # warm-started from the last positive eigenvectors
    assert projector.counts == {"lobpcg": 1, "evr": 0, "evd": 1, "fallback": 0}
    np.testing.assert_allclose(F @ F.T, _projection(nearby), atol=1e-10 * np.linalg.norm(M))


def test_partial_projection_falls_back_on_a_full_rank_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(eig, "LOBPCG_FROM", 50)
    q = 120
    projector = PsdProjector(q)
    projector(_low_rank_minus_negative(q, 4, 3))
    assert projector.rank == 4
    full = _low_rank_minus_negative(q, q, 4) + 50.0 * np.eye(q)  # every eigenvalue positive
    F = projector(full)
    assert projector.counts["fallback"] == 1 and projector.counts["lobpcg"] == 0
    assert F.shape[1] == q
    np.testing.assert_allclose(F @ F.T, _projection(full), atol=1e-9 * np.linalg.norm(full))
    assert projector.counts["evr"] == 1  # the exact fallback on (0, inf) after the low rank
    projector(full)  # the rank is now q: straight to the full decomposition
    assert projector.counts["evd"] == 2 and projector.counts["fallback"] == 1


def test_lobpcg_backs_off_after_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eig, "LOBPCG_FROM", 50)
    q, tried = 120, []
    monkeypatch.setattr(PsdProjector, "_lobpcg", lambda self, sym: tried.append(1))
    projector = PsdProjector(q)
    M = _low_rank_minus_negative(q, 3, 8)
    for call in range(1, 9):
        F = projector(M)
        np.testing.assert_allclose(F @ F.T, _projection(M), atol=1e-10 * np.linalg.norm(M))
        assert len(tried) == {1: 0, 2: 1, 3: 1, 4: 2, 5: 2, 6: 2, 7: 3, 8: 3}[call]
    assert projector.counts["fallback"] == 3


def test_a_lapack_only_projector_never_uses_lobpcg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eig, "LOBPCG_FROM", 50)
    q = 120
    projector = PsdProjector(q, lobpcg=False)
    for seed in (5, 6):
        M = _low_rank_minus_negative(q, 3, seed)
        F = projector(M)
        np.testing.assert_allclose(F @ F.T, _projection(M), atol=1e-10 * np.linalg.norm(M))
    assert projector.counts["lobpcg"] == 0 and projector.counts["evr"] == 1


def test_a_solve_with_partial_eigendecompositions_certifies_the_same_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = "random-15"
    full = solve_lifted_dnn_admm(_problem(name), tol=1e-5, max_iters=3000)
    # partial whenever possible (at q = 22 scipy's LOBPCG works densely, through our checks)
    for constant in ("LOBPCG_FROM", "LOBPCG_BELOW", "GUARD_MIN", "BLOCK_RATIO"):
        monkeypatch.setattr(eig, constant, 1)
    monkeypatch.setattr(dnn, "_LOBPCG", True)
    accepted = []
    verified = PsdProjector._verified

    def spy(self: PsdProjector, *args: object) -> object:
        out = verified(self, *args)  # type: ignore[arg-type]
        accepted.append(out is not None)
        return out

    monkeypatch.setattr(PsdProjector, "_verified", spy)
    partial = solve_lifted_dnn_admm(_problem(name), tol=1e-5, max_iters=3000)
    assert sum(accepted) > 100
    optimum = _reference(name).value
    for result in (full, partial):
        assert result.status == "optimal"
        assert _below(result.lower_bound, optimum)
        assert result.lower_bound >= optimum - 2e-5 * abs(optimum)
    assert partial.lower_bound == pytest.approx(full.lower_bound, rel=2e-5)
