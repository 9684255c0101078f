"""PSD, N, DNN, S+ + N and the exact cones; small-n equalities (cones.md §6.1)."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from copos.cones import (
    DNN,
    PSD,
    SPN,
    CompletelyPositive,
    Copositive,
    DeKlerkPasechnik,
    Nonnegative,
    Parrilo,
    ParriloDual,
    SimplexGridCOP,
    SimplexGridCP,
    cp_factorize,
)
from copos.errors import InvalidInputError
from tests.known import HORN

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def test_duals_pair_up() -> None:
    assert PSD(4).dual == PSD(4)
    assert Nonnegative(4).dual == Nonnegative(4)
    assert DNN(4).dual == SPN(4)
    assert SPN(4, 2).dual == DNN(4, 2)
    assert Copositive(4).dual == CompletelyPositive(4)
    assert CompletelyPositive(4, 3).dual == Copositive(4, 3)


def test_exact_cones_hand_out_approximations() -> None:
    cop = Copositive(5)
    assert cop.inner(1) == Parrilo(5, 1)
    assert cop.inner(2, family="dkp") == DeKlerkPasechnik(5, 2)
    assert cop.outer(3) == SimplexGridCOP(5, 3)
    cpc = CompletelyPositive(5)
    assert cpc.outer(1) == ParriloDual(5, 1)
    assert cpc.inner(2) == SimplexGridCP(5, 2)
    with pytest.raises(InvalidInputError, match="no finite conic description"):
        cop.constraints(cp.Variable((5, 5), symmetric=True))
    with pytest.raises(InvalidInputError, match="unknown inner family"):
        cop.inner(1, family="lasserre")


def test_exact_membership_uses_witnesses() -> None:
    assert Copositive(5).contains(HORN).member
    perturbed = HORN.copy()
    perturbed[4, 4] = 0.99
    result = Copositive(5).contains(perturbed)
    assert not result.member
    x = result.certificate["witness"]
    assert np.all(x >= 0) and x @ perturbed @ x < 0


@given(seed=seeds, n=st.integers(min_value=2, max_value=4))
def test_small_dnn_matrices_are_completely_positive(seed: int, n: int) -> None:
    # Maxfield-Minc: DNN = CP for n <= 4; the factorization must find B >= 0.
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n + 1))
    M = A @ A.T
    M = M + np.maximum(-M, 0.0)  # entrywise nonnegative
    M += (max(0.0, -np.linalg.eigvalsh(M)[0]) + 0.05) * np.eye(n)  # and positive definite
    result = cp_factorize(M)
    assert result.status == "factored"
    assert result.B is not None and np.all(result.B >= 0)
    assert np.linalg.norm(result.B @ result.B.T - M) <= 1e-5 * max(1.0, np.linalg.norm(M))


@pytest.mark.parametrize(
    ("matrix", "problem"),
    [
        (np.ones((3, 2)), "square"),
        (np.array([[1.0, 2.0], [0.0, 1.0]]), "symmetric"),
        (np.array([[np.nan, 0.0], [0.0, 1.0]]), "NaN"),
    ],
)
def test_bad_matrices_raise(matrix: np.ndarray, problem: str) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        SPN(2).margin(matrix)
