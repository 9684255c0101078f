"""Exact enumeration and sampling of activation patterns."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copos.errors import InvalidInputError
from copos.nets.arrangements import (
    Arrangements,
    enumerate_arrangements,
    expected_count,
    is_in_general_position,
    sample_arrangements,
)

GENERAL_POSITION_CASES = [(10, 2, 20), (4, 4, 16), (12, 3, 134), (8, 3, 58)]


def gaussian(n: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d))


def pattern_set(arrangements: Arrangements) -> set[bytes]:
    return {row.tobytes() for row in arrangements.patterns}


def brute_force_patterns(X: np.ndarray, samples: int, seed: int) -> set[bytes]:
    H = np.random.default_rng(seed).standard_normal((samples, X.shape[1]))
    return {row.tobytes() for row in (H @ X.T >= 0)}


def assert_witnesses_realise(X: np.ndarray, arrangements: Arrangements) -> None:
    assert arrangements.witnesses is not None
    values = arrangements.witnesses @ X.T
    np.testing.assert_array_equal(values >= 0, arrangements.patterns)
    nonzero_rows = np.linalg.norm(X, axis=1) > 0
    assert np.all(np.abs(values[:, nonzero_rows]) > 0), "a witness lies on a hyperplane"


@pytest.mark.parametrize(
    ("n", "r", "count"), [(10, 2, 20), (4, 4, 16), (12, 3, 134), (8, 3, 58), (3, 5, 8), (0, 2, 1)]
)
def test_expected_count_values(n: int, r: int, count: int) -> None:
    assert expected_count(n, r) == count


def test_expected_count_rejects_negative() -> None:
    with pytest.raises(InvalidInputError):
        expected_count(-1, 2)


@pytest.mark.parametrize(("n", "d", "count"), GENERAL_POSITION_CASES)
def test_count_in_general_position(n: int, d: int, count: int) -> None:
    X = gaussian(n, d, seed=n + d)
    arrangements = enumerate_arrangements(X)
    assert is_in_general_position(X)
    assert len(arrangements) == count == expected_count(n, min(n, d))
    assert arrangements.complete and arrangements.rank == min(n, d)
    assert_witnesses_realise(X, arrangements)


@pytest.mark.parametrize(("n", "d", "count"), GENERAL_POSITION_CASES)
def test_enumeration_contains_brute_force_sampling(n: int, d: int, count: int) -> None:
    X = gaussian(n, d, seed=100 + n)
    exact = pattern_set(enumerate_arrangements(X))
    sampled = brute_force_patterns(X, 20_000, seed=n)
    assert sampled <= exact
    assert len(exact) == count


def test_patterns_are_distinct_and_sorted() -> None:
    patterns = enumerate_arrangements(gaussian(8, 3, seed=1)).patterns
    assert len({row.tobytes() for row in patterns}) == len(patterns)
    as_tuples = [tuple(row) for row in patterns.astype(int)]
    assert as_tuples == sorted(as_tuples)


def test_rank_deficient_data() -> None:
    rng = np.random.default_rng(7)
    A = rng.standard_normal((9, 2))
    X = A @ rng.standard_normal((2, 3))
    arrangements = enumerate_arrangements(X)
    assert arrangements.rank == 2 and arrangements.method == "angles"
    assert pattern_set(arrangements) == pattern_set(enumerate_arrangements(A))
    assert len(arrangements) == expected_count(9, 2)
    assert_witnesses_realise(X, arrangements)


def test_rank_deficient_in_higher_dimension_uses_lp() -> None:
    rng = np.random.default_rng(8)
    A = rng.standard_normal((7, 3))
    X = A @ rng.standard_normal((3, 5))
    arrangements = enumerate_arrangements(X)
    assert arrangements.rank == 3 and arrangements.method == "incremental-lp"
    assert pattern_set(arrangements) == pattern_set(enumerate_arrangements(A))
    assert len(arrangements) == expected_count(7, 3)


def test_zero_and_parallel_rows() -> None:
    X = gaussian(6, 3, seed=3)
    augmented = np.vstack([X, np.zeros(3), X[0], -2.0 * X[1]])
    base = enumerate_arrangements(X)
    arrangements = enumerate_arrangements(augmented)
    assert len(arrangements) == len(base) == expected_count(6, 3)
    patterns = arrangements.patterns
    assert np.all(patterns[:, 6]), "a zero row is always active (x^T h = 0 >= 0)"
    np.testing.assert_array_equal(patterns[:, 7], patterns[:, 0])
    np.testing.assert_array_equal(patterns[:, 8], ~patterns[:, 1])
    assert_witnesses_realise(augmented, arrangements)


def test_boundary_only_patterns_are_excluded() -> None:
    # h = 0 gives 1[Xh >= 0] = (1, 1), realised by no generic h.
    arrangements = enumerate_arrangements(np.array([[1.0], [-1.0]]))
    assert pattern_set(arrangements) == {
        np.array([True, False]).tobytes(),
        np.array([False, True]).tobytes(),
    }


def test_rank_zero_and_one() -> None:
    zero = enumerate_arrangements(np.zeros((3, 2)))
    assert len(zero) == 1 and zero.rank == 0 and np.all(zero.patterns)
    one = enumerate_arrangements(np.array([[1.0, 2.0], [-0.5, -1.0], [0.0, 0.0]]))
    assert one.rank == 1
    assert pattern_set(one) == {
        np.array([True, False, True]).tobytes(),
        np.array([False, True, True]).tobytes(),
    }


def test_not_in_general_position_has_fewer_cells() -> None:
    X = gaussian(6, 3, seed=4)
    X[2] = X[0] + X[1]  # three coplanar normals
    arrangements = enumerate_arrangements(X)
    assert not is_in_general_position(X)
    assert len(arrangements) < expected_count(6, 3)
    assert brute_force_patterns(X, 20_000, seed=0) <= pattern_set(arrangements)
    assert_witnesses_realise(X, arrangements)


def test_refuses_too_many_patterns() -> None:
    with pytest.raises(InvalidInputError, match="max_patterns"):
        enumerate_arrangements(gaussian(12, 3, seed=0), max_patterns=100)


def test_sampling_dedups_and_is_incomplete() -> None:
    X = gaussian(10, 3, seed=5)
    sampled = sample_arrangements(X, 5_000, seed=0)
    assert not sampled.complete and sampled.method == "sampled" and sampled.rank == 3
    assert len(pattern_set(sampled)) == len(sampled) <= expected_count(10, 3)
    assert pattern_set(sampled) <= pattern_set(enumerate_arrangements(X))
    assert_witnesses_realise(X, sampled)
    assert len(sample_arrangements(X, 1, seed=0)) == 1
    again = sample_arrangements(X, 5_000, seed=0)
    np.testing.assert_array_equal(again.patterns, sampled.patterns)


def test_sampling_marks_zero_rows_active() -> None:
    X = np.vstack([gaussian(5, 2, seed=6), np.zeros(2)])
    assert np.all(sample_arrangements(X, 100, seed=1).patterns[:, -1])


def test_diagonal_accessors() -> None:
    arrangements = enumerate_arrangements(gaussian(5, 2, seed=2))
    for i in range(len(arrangements)):
        np.testing.assert_array_equal(arrangements.D(i), arrangements.patterns[i].astype(float))
        np.testing.assert_array_equal(arrangements.sign_matrix(i), 2 * arrangements.D(i) - 1)
    np.testing.assert_array_equal(arrangements.masks, arrangements.patterns.astype(float))
    assert arrangements.n == 5
    with pytest.raises(ValueError):
        arrangements.patterns[0, 0] = True


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=8),
    d=st.integers(min_value=1, max_value=4),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_random_gaussian_data_properties(n: int, d: int, seed: int) -> None:
    X = gaussian(n, d, seed)
    arrangements = enumerate_arrangements(X)
    exact = pattern_set(arrangements)
    assert len(exact) == len(arrangements) == expected_count(n, min(n, d))
    assert_witnesses_realise(X, arrangements)
    # h -> -h maps cells to cells: the complement of every pattern is a pattern.
    assert {(~row).tobytes() for row in arrangements.patterns} == exact
    assert brute_force_patterns(X, 2_000, seed=seed) <= exact


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=7),
    d=st.integers(min_value=2, max_value=4),
    copies=st.lists(st.integers(min_value=0, max_value=6), max_size=4),
    zeros=st.integers(min_value=0, max_value=2),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_parallel_copies_and_zero_rows_do_not_change_the_count(
    n: int, d: int, copies: list[int], zeros: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    X = gaussian(n, d, seed)
    picked = [index % n for index in copies]
    scales = rng.choice([-3.0, -1.0, 0.5, 2.0], size=len(picked))
    augmented = np.vstack([X, scales[:, None] * X[picked], np.zeros((zeros, d))])
    arrangements = enumerate_arrangements(augmented)
    assert len(arrangements) == expected_count(n, min(n, d))
    assert_witnesses_realise(augmented, arrangements)
    patterns = arrangements.patterns
    for column, (index, scale) in enumerate(zip(picked, scales, strict=True), start=n):
        expected = patterns[:, index] if scale > 0 else ~patterns[:, index]
        np.testing.assert_array_equal(patterns[:, column], expected)
    assert np.all(patterns[:, n + len(picked) :])


@pytest.mark.parametrize("scale", [1e-200, 1e154, 1e300])
def test_patterns_do_not_depend_on_the_scale_of_x(scale: float) -> None:
    # Before: squared row norms overflowed (or underflowed) and one pattern came out "complete".
    X = np.random.default_rng(3).standard_normal((7, 2))
    reference = enumerate_arrangements(X)
    scaled = enumerate_arrangements(X * scale)
    assert scaled.complete and len(scaled) == len(reference)
    assert np.array_equal(scaled.patterns, reference.patterns)


@pytest.mark.filterwarnings("ignore:the recovered network's objective")  # 1e8-scaled row
def test_ill_conditioned_data_is_not_claimed_complete() -> None:
    # one row scaled by 1e8: cells thin in whitened coordinates are lost by the enumeration
    # (here more than a third of the patterns that random directions hit), so it must not claim
    # completeness, and a program over its patterns is a restriction (upper), never "exact"
    from copos.nets.arrangements import MAX_ENUMERATION_CONDITION, sample_arrangements
    from copos.nets.problem import TrainingProblem
    from copos.relaxations.convex import solve_convex_program

    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    X[0] *= 1e8
    singular = np.linalg.svd(X, compute_uv=False)
    assert singular[0] / singular[-1] > MAX_ENUMERATION_CONDITION
    enumerated = enumerate_arrangements(X)
    sampled = sample_arrangements(X, 20_000, seed=1)
    found = {row.tobytes() for row in enumerated.patterns}
    missed = [row for row in sampled.patterns if row.tobytes() not in found]
    assert len(missed) > 0.3 * len(sampled.patterns)  # the enumeration is really incomplete
    assert not enumerated.complete and "ill-conditioned" in enumerated.method
    problem = TrainingProblem(X, rng.standard_normal((12, 1)), 0.1)
    assert not problem.arrangements().complete
    assert solve_convex_program(problem, solver="clarabel").bound_kind == "upper"
    well = X.copy()
    well[0] /= 1e8
    assert enumerate_arrangements(well).complete
