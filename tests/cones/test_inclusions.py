"""The inclusion chains as property tests (cones.md §6.2).

With one interior direction E = I + J, ``margin_K(M) = max{t : M - tE in K}`` is monotone in the
cone, so C^r ⊆ K^r ⊆ K^(r+1) ⊆ COP ⊆ O_m becomes an ordering of margins, and the exact
copositivity test must agree with the sign of the inner and outer margins.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from copos.cones import (
    DNN,
    DeKlerkPasechnik,
    Parrilo,
    ParriloDual,
    SimplexGridCOP,
    SimplexGridCP,
    is_copositive,
)

SLACK = 1e-6
seeds = st.integers(min_value=0, max_value=2**32 - 1)


def _copositive_leaning(seed: int, n: int) -> np.ndarray:
    """Random symmetric matrices near the copositive boundary (half of them copositive)."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    M = (A + A.T) / 2 + rng.uniform(0.0, 1.0) * np.abs(A + A.T)
    return M


@given(seed=seeds)
def test_copositive_side_chain(seed: int) -> None:
    M = _copositive_leaning(seed, 5)
    c1 = DeKlerkPasechnik(5, 1).margin(M).margin
    k0 = Parrilo(5, 0).margin(M).margin
    k1 = Parrilo(5, 1).margin(M).margin
    grid = SimplexGridCOP(5, 4).margin(M).margin
    assert c1 <= k1 + SLACK
    assert k0 <= k1 + SLACK
    assert k1 <= grid + SLACK
    exact = is_copositive(M).copositive
    if k1 > SLACK:
        assert exact
    if grid < -SLACK:
        assert not exact


@given(seed=seeds)
def test_completely_positive_side_chain(seed: int) -> None:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((5, 5))
    X = A @ A.T / 5 + rng.uniform(-0.3, 0.5) * (np.ones((5, 5)) - np.eye(5))
    E = np.eye(5) + np.ones((5, 5))
    dnn = DNN(5).margin(X, direction=E).margin
    k1_dual = ParriloDual(5, 1).margin(X, direction=E).margin
    inner = SimplexGridCP(5, 2).margin(X, direction=E).margin
    assert k1_dual <= dnn + SLACK
    assert inner <= k1_dual + SLACK


@given(seed=seeds)
def test_grid_cones_are_mutually_dual(seed: int) -> None:
    # <xx^T, M> >= 0 for every grid atom x is the definition of O_m; check via both cones.
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((4, 4))
    M = (M + M.T) / 2
    outer = SimplexGridCOP(4, 3)
    inner = outer.dual
    values = np.einsum("ai,ij,aj->a", inner.atoms, M, inner.atoms)
    assert outer.margin(M).member == bool(values.min() >= -1e-12)
