"""Exact copositivity test and CP factorization (ground truth: shared/reference/cones.md §1, §2, §6)."""

from __future__ import annotations

import time

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from copos.cones.membership import (
    HORN,
    CopositivityResult,
    CPFactorization,
    cp_factorize,
    is_copositive,
)
from copos.errors import InvalidInputError

# ---- matrices from cones.md ----------------------------------------------------------------

HORN_PERTURBED = HORN.copy()
HORN_PERTURBED[4, 4] = 0.99

HOFFMAN_PEREIRA = np.array(
    [
        [1, -1, 1, 0, 0, 1, -1],
        [-1, 1, -1, 1, 0, 0, 1],
        [1, -1, 1, -1, 1, 0, 0],
        [0, 1, -1, 1, -1, 1, 0],
        [0, 0, 1, -1, 1, -1, 1],
        [1, 0, 0, 1, -1, 1, -1],
        [-1, 1, 0, 0, 1, -1, 1],
    ],
    dtype=float,
)
DANNENBERG1 = np.array(
    [[3, 4, 3, -3, -2], [4, 2, 0, 1, -2], [3, 0, 3, -1, -2], [-3, 1, -1, 5, 3], [-2, -2, -2, 3, 3]],
    dtype=float,
)
DANNENBERG2 = np.array(
    [[100, -72, -59, 120], [-72, 100, -60, -46], [-59, -60, 100, -60], [120, -46, -60, 100]],
    dtype=float,
)


def _cycle(n: int) -> np.ndarray:
    """Adjacency matrix of the cycle 0-1-...-(n-1)-0."""
    return np.roll(np.eye(n), 1, axis=0) + np.roll(np.eye(n), -1, axis=0)


_I3, _J3 = np.eye(3), np.ones((3, 3))
CP_MATRICES = {
    "Sec41_Sponsel_Dur": [
        [2, 1, 1, 1, 2],
        [1, 2, 2, 1, 1],
        [1, 2, 6, 5, 1],
        [1, 1, 5, 6, 2],
        [2, 1, 1, 2, 3],
    ],
    "Berman_Example2_7": [
        [1, 1, 0, 0, 1],
        [1, 2, 1, 0, 0],
        [0, 1, 3, 1, 0],
        [0, 0, 1, 4, 1],
        [1, 0, 0, 1, 5],
    ],
    "Example6_1_Nie": [
        [6, 4, 1, 2, 2],
        [4, 6, 0, 1, 3],
        [1, 0, 3, 1, 2],
        [2, 1, 1, 2, 1],
        [2, 3, 2, 1, 5],
    ],
    "Berman_Example2_22": 2 * np.eye(5) + _cycle(5),
    "Berman_Example2_28": [[6, 0, 2, 2], [0, 5, 4, 2], [2, 4, 6, 0], [2, 2, 0, 6]],
    "Berman_Example2_16": [
        [2, 1, 1, 0, 0],
        [1, 2, 0, 0, 1],
        [1, 0, 2, 1, 0],
        [0, 0, 1, 2, 1],
        [0, 1, 0, 1, 2],
    ],
    "Prakash_etal_Example3_1": [
        [2, 0, 0, 1, 1],
        [0, 2, 0, 1, 1],
        [0, 0, 2, 1, 1],
        [1, 1, 1, 3, 0],
        [1, 1, 1, 0, 3],
    ],
    "Jarre_Schmallowsky_3_3": np.block([[3 * _I3, _J3], [_J3, 3 * _I3]]),
    "Berman_p128_Exercise2_45": [[6, 5, 3, 0], [5, 11, 4, 0], [3, 4, 2, 0], [0, 0, 0, 0]],
    "Zhou_Fan_Example5_2": 2 * np.eye(7) + _cycle(7),
}
#: Exact cp-ranks from the triangle-free argument of cones.md §2.1.
CP_RANKS = {"Berman_Example2_22": 5, "Prakash_etal_Example3_1": 6, "Jarre_Schmallowsky_3_3": 9}

NOT_CP_MATRICES = {
    "Example6_2_Nie": [
        [1, 1, 0, 0, 1],
        [1, 2, 1, 0, 0],
        [0, 1, 2, 1, 0],
        [0, 0, 1, 2, 1],
        [1, 0, 0, 1, 6],
    ],
    "X_3/5": np.eye(5) + 0.6 * _cycle(5),
    "Berman_p122_Example2_17": [
        [2, 0, 0, 1, 1],
        [0, 2, 0, 1, 1],
        [0, 0, 2, 1, 1],
        [1, 1, 1, 2, 0],
        [1, 1, 1, 0, 2],
    ],
    "Fan_Zhou_Example5_4": [
        [4, 5, 4, 6, 4, 2],
        [5, 1, 4, 7, 4, 6],
        [4, 4, 4, 2, 5, 4],
        [6, 7, 2, 0, 3, 7],
        [4, 4, 5, 3, 1, 6],
        [2, 6, 4, 7, 6, 4],
    ],
}


# ---- helpers -------------------------------------------------------------------------------


def assert_valid_witness(M: np.ndarray, result: CopositivityResult, k: int | None = None) -> None:
    """A non-copositive answer carries x in the cone, ||x||_1 = 1, x^T M x = value < 0."""
    M = np.asarray(M, dtype=float)
    k = M.shape[0] if k is None else k
    assert not result.copositive
    x = result.witness
    assert x is not None and result.value is not None
    assert x.shape == (M.shape[0],)
    assert np.all(x[:k] >= 0)
    assert np.sum(np.abs(x)) == pytest.approx(1.0, abs=1e-12)
    assert float(x @ M @ x) == pytest.approx(result.value, abs=1e-12)
    assert result.value < -1e-9 * max(1.0, float(np.max(np.abs(M))))


def assert_valid_factor(M: np.ndarray, result: CPFactorization, tol: float = 1e-8) -> None:
    """A factored answer carries B >= 0 without zero columns and BB^T = M to ``tol``."""
    M = np.asarray(M, dtype=float)
    assert result.status == "factored", result.message
    B = result.B
    assert B is not None and B.shape[0] == M.shape[0]
    assert np.all(B >= 0)
    assert np.all(np.linalg.norm(B, axis=0) > 0)
    residual = np.linalg.norm(B @ B.T - M) / max(1.0, np.linalg.norm(M))
    assert residual <= tol
    assert residual == pytest.approx(result.residual, abs=1e-15)
    assert result.witness is None


def spn_margin(M: np.ndarray) -> float:
    """max{t : M - tI in S+ + N} (cvxpy + Clarabel); for n <= 4 its sign decides COP."""
    n = M.shape[0]
    t = cp.Variable()
    P = cp.Variable((n, n), PSD=True)
    N = cp.Variable((n, n), symmetric=True)
    problem = cp.Problem(cp.Maximize(t), [N >= 0, M - t * np.eye(n) == P + N])
    problem.solve(solver=cp.CLARABEL)
    assert problem.status == cp.OPTIMAL
    return float(t.value)


def symmetric(size: int, low: float = -1.0, high: float = 1.0) -> st.SearchStrategy[np.ndarray]:
    """Symmetric size x size matrices with entries in [low, high]."""
    entries = st.floats(low, high, allow_nan=False, allow_subnormal=False)
    return arrays(np.float64, (size, size), elements=entries).map(lambda A: (A + A.T) / 2)


# ---- is_copositive: named matrices ---------------------------------------------------------


def test_horn_is_copositive() -> None:
    result = is_copositive(HORN)
    assert result.copositive and result.witness is None and result.value is None
    assert result.method == "kaplan"
    assert result.subsets_checked == 16  # connected sets of size >= 2 in C5: 5 + 5 + 5 + 1


def test_horn_perturbation_is_not_copositive() -> None:
    result = is_copositive(HORN_PERTURBED)
    assert_valid_witness(HORN_PERTURBED, result)
    # cones.md §1.1: (e4 + e5)/2 gives -0.0025; the Kaplan witness is at least as good.
    assert result.value <= -0.0025
    assert set(np.flatnonzero(result.witness)) == {0, 4}


def test_hoffman_pereira_is_copositive() -> None:
    # Repeated negative eigenvalues (cones.md §1.2): exercises the eigenspace LP.
    assert np.sum(np.isclose(np.linalg.eigvalsh(HOFFMAN_PEREIRA), -0.692021, atol=1e-6)) == 2
    result = is_copositive(HOFFMAN_PEREIRA)
    assert result.copositive and result.method == "kaplan"


@pytest.mark.parametrize("M", [DANNENBERG1, DANNENBERG2], ids=["Dannenberg1", "Dannenberg2"])
def test_dannenberg_not_copositive(M: np.ndarray) -> None:
    assert_valid_witness(M, is_copositive(M))


def test_psd_and_nonnegative_are_copositive() -> None:
    rng = np.random.default_rng(0)
    G = rng.standard_normal((6, 3))
    assert np.any(G @ G.T < 0)
    psd = is_copositive(G @ G.T)
    assert psd.copositive and psd.method == "psd"
    N = np.abs(rng.standard_normal((6, 6)))
    assert np.linalg.eigvalsh(N + N.T)[0] < 0
    nonnegative = is_copositive(N + N.T)
    assert nonnegative.copositive and nonnegative.method == "nonnegative"


def test_negative_diagonal_gives_unit_witness() -> None:
    M = np.eye(4)
    M[2, 2] = -0.5
    result = is_copositive(M)
    assert_valid_witness(M, result)
    assert result.method == "negative-diagonal"
    assert np.array_equal(result.witness, np.eye(4)[2])


def test_fast_exits_ignore_max_size() -> None:
    G = np.random.default_rng(1).standard_normal((40, 40))
    assert is_copositive(G @ G.T, max_size=5).copositive


def test_enumeration_beyond_max_size_is_refused() -> None:
    M = 1.5 * np.eye(8) - 0.5 * np.ones((8, 8))  # not PSD, complete negative-entry graph
    assert np.linalg.eigvalsh(M)[0] < 0
    with pytest.raises(InvalidInputError, match="max_size"):
        is_copositive(M, max_size=5)


# ---- is_copositive: properties -------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data(), n=st.integers(2, 4))
def test_agrees_with_spn_for_n_at_most_4(data: st.DataObject, n: int) -> None:
    """COP_n = S+ + N for n <= 4 (Diananda): compare with an SDP, away from the boundary."""
    shift = data.draw(st.floats(0.0, 2.0))  # a diagonal shift balances the two answers
    M = data.draw(symmetric(n)) + shift * np.eye(n)
    margin = spn_margin(M)
    assume(abs(margin) > 1e-5)
    result = is_copositive(M)
    event("copositive" if margin > 0 else "not copositive")
    assert result.copositive == (margin > 0)
    if not result.copositive:
        assert_valid_witness(M, result)
        # margin = min of x^T M x on the nonnegative unit sphere, so it bounds every witness.
        assert result.value >= margin - 1e-6


@settings(max_examples=40, deadline=None)
@given(data=st.data(), n=st.integers(2, 7))
def test_witness_is_valid_on_shifted_random_matrices(data: st.DataObject, n: int) -> None:
    """M - (x^T M x + delta) J with x in the simplex is not copositive; the witness is checked."""
    M = data.draw(symmetric(n, -3.0, 3.0))
    weights = data.draw(arrays(np.float64, n, elements=st.floats(0.0, 1.0)))
    assume(weights.sum() > 0.1)
    x = weights / weights.sum()
    delta = data.draw(st.floats(1e-3, 1.0))
    shifted = M - (x @ M @ x + delta) * np.ones((n, n))
    k = data.draw(st.integers(1, n))
    result = is_copositive(shifted, k)
    assert_valid_witness(shifted, result, k)


@settings(max_examples=25, deadline=None)
@given(scaling=arrays(np.float64, 5, elements=st.floats(0.2, 5.0)), seed=st.integers(0, 1000))
def test_scaled_permuted_horn(scaling: np.ndarray, seed: int) -> None:
    """COP is invariant under positive diagonal scaling and permutation (cones.md §6.3)."""
    order = np.random.default_rng(seed).permutation(5)
    D = np.diag(scaling)
    horn = (D @ HORN @ D)[np.ix_(order, order)]
    perturbed = (D @ HORN_PERTURBED @ D)[np.ix_(order, order)]
    assert is_copositive(horn).copositive
    assert_valid_witness(perturbed, is_copositive(perturbed))


# ---- is_copositive: generalized cones COP_{n,k} --------------------------------------------


def test_generalized_two_by_two() -> None:
    M = np.array([[1.0, 1.0], [1.0, 0.0]])
    assert is_copositive(M).copositive  # nonnegative
    free = is_copositive(M, k=1)  # x = (a, -b): a^2 - 2ab < 0 for b > a/2
    assert_valid_witness(M, free, k=1)
    assert free.witness[1] < 0
    assert_valid_witness(M, is_copositive(M, k=0), k=0)  # not PSD
    assert is_copositive(np.array([[1.0, -1.0], [-1.0, 1.0]]), k=0).copositive


@settings(max_examples=20, deadline=None)
@given(
    data=st.data(),
    free=st.integers(1, 2),
    scaling=arrays(np.float64, 5, elements=st.floats(0.3, 3.0)),
)
def test_generalized_matches_schur_complement(
    data: st.DataObject, free: int, scaling: np.ndarray
) -> None:
    """[[A, B], [B^T, C]] with C > 0 is in COP_{n,k} iff A - B C^{-1} B^T is in COP_k."""
    B = data.draw(arrays(np.float64, (5, free), elements=st.floats(-2.0, 2.0)))
    G = data.draw(arrays(np.float64, (free, free), elements=st.floats(-1.0, 1.0)))
    C = G @ G.T + 0.5 * np.eye(free)
    D = np.diag(scaling)
    for schur, copositive in [
        (D @ HORN @ D + 1e-3 * np.eye(5), True),
        (D @ HORN_PERTURBED @ D, False),
    ]:
        M = np.block([[schur + B @ np.linalg.solve(C, B.T), B], [B.T, C]])
        M = (M + M.T) / 2
        result = is_copositive(M, k=5)
        assert result.copositive == copositive
        if not copositive:
            assert_valid_witness(M, result, k=5)


def test_generalized_cone_grows_as_k_decreases() -> None:
    """M has Schur complement S = [[1, 2], [2, 1]] (copositive, not PSD) w.r.t. M[2, 2] = 1."""
    M = np.array([[2.0, 1.0, 1.0], [1.0, 2.0, -1.0], [1.0, -1.0, 1.0]])
    answers = [is_copositive(M, k).copositive for k in range(4)]
    assert answers == [False, False, True, True]
    for k in (0, 1):
        assert_valid_witness(M, is_copositive(M, k), k)


def test_n12_runs_quickly_without_timed_assertion() -> None:
    """Timing sanity (printed, not asserted): PSD + nonnegative, not PSD, many negatives."""
    rng = np.random.default_rng(3)
    G = rng.standard_normal((12, 3))
    N = np.triu(np.where(rng.random((12, 12)) < 0.3, rng.random((12, 12)), 0.0), 1)
    M = G @ G.T + N + N.T  # in S+ + N, hence copositive
    assert np.linalg.eigvalsh(M)[0] < 0 and np.sum(M < 0) >= 40
    start = time.perf_counter()
    result = is_copositive(M)
    elapsed = time.perf_counter() - start
    assert result.copositive and result.method == "kaplan"
    assert result.subsets_checked <= 2**12
    print(f"is_copositive n=12: {result.subsets_checked} subsets in {elapsed:.3f}s")


# ---- cp_factorize --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CP_MATRICES))
def test_cp_matrices_are_factored(name: str) -> None:
    M = np.asarray(CP_MATRICES[name], dtype=float)
    assert_valid_factor(M, cp_factorize(M))


@pytest.mark.parametrize("name", list(CP_RANKS))
def test_factor_with_exact_cp_rank(name: str) -> None:
    M = np.asarray(CP_MATRICES[name], dtype=float)
    result = cp_factorize(M, rank=CP_RANKS[name])
    assert_valid_factor(M, result)
    assert result.B.shape[1] == CP_RANKS[name]  # fewer columns are impossible


@pytest.mark.parametrize("name", list(NOT_CP_MATRICES))
def test_not_cp_matrices_have_copositive_witness(name: str) -> None:
    M = np.asarray(NOT_CP_MATRICES[name], dtype=float)
    result = cp_factorize(M)
    assert result.status == "not_cp", result.message
    assert result.B is None
    W = result.witness
    assert W is not None and np.allclose(W, W.T)
    assert is_copositive(W).copositive
    assert float(np.sum(W * M)) < 0


@pytest.mark.parametrize("name", ["Example6_2_Nie", "X_3/5"])
def test_dnn_not_cp_is_refuted_by_horn(name: str) -> None:
    M = np.asarray(NOT_CP_MATRICES[name], dtype=float)
    assert np.linalg.eigvalsh(M)[0] > 0 and np.all(M >= 0)  # DNN, so only Horn can refute it
    result = cp_factorize(M)
    assert "Horn" in result.message
    assert np.count_nonzero(np.any(result.witness != 0, axis=0)) == 5


def test_negative_entry_witness() -> None:
    M = np.array([[2.0, -0.5], [-0.5, 2.0]])
    result = cp_factorize(M)
    assert result.status == "not_cp"
    assert np.sum(result.witness * M) < 0 and np.all(result.witness >= 0)


def test_cp_factorize_is_deterministic() -> None:
    M = np.asarray(CP_MATRICES["Example6_1_Nie"], dtype=float)
    first, second = cp_factorize(M, seed=7), cp_factorize(M, seed=7)
    assert np.array_equal(first.B, second.B)


def test_rank_below_matrix_rank_is_unknown() -> None:
    result = cp_factorize(np.eye(3), rank=2, restarts=2, max_iter=50)
    assert result.status == "unknown"
    assert result.B is None and result.witness is None
    assert result.residual > 1e-8 and "rank" in result.message


def test_zero_and_one_by_one() -> None:
    zero = cp_factorize(np.zeros((3, 3)))
    assert zero.status == "factored" and zero.B.shape == (3, 0)
    one = cp_factorize([[4.0]])
    assert_valid_factor(np.array([[4.0]]), one)
    assert one.B[0, 0] == pytest.approx(2.0)


@settings(max_examples=15, deadline=None)
@given(
    factor=arrays(
        np.float64, st.tuples(st.integers(2, 6), st.integers(1, 8)), elements=st.floats(0.0, 2.0)
    )
)
def test_random_cp_matrices_are_factored(factor: np.ndarray) -> None:
    M = factor @ factor.T
    assert_valid_factor(M, cp_factorize(M))


# ---- bad input -----------------------------------------------------------------------------

BAD_MATRICES = {
    "non-square": np.ones((2, 3)),
    "non-symmetric": np.array([[1.0, 2.0], [0.0, 1.0]]),
    "nan": np.array([[1.0, np.nan], [np.nan, 1.0]]),
    "inf": np.array([[np.inf, 0.0], [0.0, 1.0]]),
    "vector": np.ones(3),
}


@pytest.mark.parametrize("name", list(BAD_MATRICES))
def test_bad_matrices_raise(name: str) -> None:
    with pytest.raises(InvalidInputError):
        is_copositive(BAD_MATRICES[name])
    with pytest.raises(InvalidInputError):
        cp_factorize(BAD_MATRICES[name])


@pytest.mark.parametrize("k", [-1, 4, 1.5, True])
def test_k_out_of_range_raises(k: object) -> None:
    with pytest.raises(InvalidInputError):
        is_copositive(np.eye(3), k)  # type: ignore[arg-type]


@pytest.mark.parametrize("kwargs", [{"tol": 0.0}, {"tol": -1.0}, {"max_size": 0}, {"max_size": 63}])
def test_bad_is_copositive_parameters_raise(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidInputError):
        is_copositive(np.eye(3), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [{"rank": 0}, {"restarts": 0}, {"tol": 0.0}, {"seed": -1}, {"max_iter": 0}, {"rank": 2.5}],
)
def test_bad_cp_factorize_parameters_raise(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidInputError):
        cp_factorize(np.eye(3), **kwargs)  # type: ignore[arg-type]
