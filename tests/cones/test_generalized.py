"""Generalized cones over R^k_+ x R^(n-k) (base.py docstring): pullbacks and duals."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from copos.cones import DNN, SPN, Parrilo, ParriloDual, SimplexGridCOP, is_copositive, orthant_lift
from copos.errors import InvalidInputError

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def _random(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    return (A + A.T) / 2 + np.eye(n) * rng.uniform(0, 1.5)


def test_lift_maps_the_orthant_onto_the_product() -> None:
    L = orthant_lift(4, 2)
    assert L.shape == (4, 6)
    w = np.array([1.0, 2.0, 0.5, 0.0, 0.0, 3.0])
    assert np.allclose(L @ w, [1.0, 2.0, 0.5, -3.0])


@given(seed=seeds)
def test_s_plus_n_k_equals_pullback_of_s_plus_n(seed: int) -> None:
    # K^0 over R^k_+ x R^(n-k) (natural S+ + N_k) equals {M : L^T M L in S+ + N}.
    n, k = 4, 2
    M = _random(seed, n)
    L = orthant_lift(n, k)
    E = np.eye(n)
    E[:k, :k] += 1.0
    natural = SPN(n, k).margin(M, direction=E).margin
    pulled = SPN(2 * n - k).margin(L.T @ M @ L, direction=L.T @ E @ L).margin
    assert natural == pytest.approx(pulled, abs=1e-5)


@given(seed=seeds)
def test_generalized_hierarchy_is_nested_and_sound(seed: int) -> None:
    n, k = 3, 2
    M = _random(seed, n)
    k0 = Parrilo(n, 0, k).margin(M).margin
    k1 = Parrilo(n, 1, k).margin(M).margin
    grid = SimplexGridCOP(n, 3, k).margin(M).margin
    assert k0 <= k1 + 1e-6
    assert k1 <= grid + 1e-6
    exact = is_copositive(M, k).copositive
    if k1 > 1e-6:
        assert exact
    if grid < -1e-6:
        assert not exact


def test_free_coordinate_breaks_copositivity() -> None:
    M = np.array([[1.0, 1.0], [1.0, 1.0]])  # (x1 + x2)^2 >= 0 always, PSD
    assert Parrilo(2, 0, 1).contains(M).member
    N = np.array([[1.0, 2.0], [2.0, 1.0]])  # copositive, but x = (1, -1) gives -2
    assert Parrilo(2, 0, 2).contains(N).member
    assert not Parrilo(2, 0, 1).contains(N).member
    assert not is_copositive(N, 1).copositive


@pytest.mark.parametrize("level", [0, 1])
def test_generalized_primal_dual_pair_agree(level: int) -> None:
    # max{<C, X> : tr X = 1, X in (K^r_{n,k})*} = min{y : yI - C in K^r_{n,k}}.
    rng = np.random.default_rng(level)
    n, k = 4, 2
    C = rng.standard_normal((n, n))
    C = (C + C.T) / 2
    X = cp.Variable((n, n), symmetric=True)
    primal = cp.Problem(
        cp.Maximize(cp.trace(C @ X)), [cp.trace(X) == 1, *ParriloDual(n, level, k).constraints(X)]
    )
    primal.solve(solver=cp.CLARABEL)
    y = cp.Variable()
    dual = cp.Problem(cp.Minimize(y), Parrilo(n, level, k).constraints(y * np.eye(n) - C))
    dual.solve(solver=cp.CLARABEL)
    assert primal.status == dual.status == "optimal"
    assert primal.value == pytest.approx(dual.value, abs=1e-5)


def test_dnn_k_only_constrains_the_leading_block() -> None:
    M = np.array([[1.0, -0.5], [-0.5, 1.0]])
    assert DNN(2, 1).contains(M).member
    assert not DNN(2, 2).contains(M).member


def test_sign_count_is_validated() -> None:
    with pytest.raises(InvalidInputError, match="k"):
        Parrilo(3, 1, 4)
    with pytest.raises(InvalidInputError, match="k"):
        DNN(3, -1)
