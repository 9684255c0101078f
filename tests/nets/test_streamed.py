"""Tests of copos.nets.streamed: the vertex rays reach every cell, batch by batch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from copos.errors import InvalidInputError
from copos.nets.arrangements import (
    ScaledSVD,
    _patterns_from_signs,
    enumerate_arrangements,
    hyperplanes,
)
from copos.nets.streamed import (
    pack_signs,
    stream_cells,
    subset_batches,
    vertex_ray_count,
    vertex_rays,
)


def _streamed_patterns(X: np.ndarray, batch_size: int) -> set[bytes]:
    planes = hyperplanes(ScaledSVD.of(X))
    found: set[bytes] = set()
    for signs in stream_cells(planes.normals, batch_size=batch_size):
        patterns = _patterns_from_signs(signs.astype(np.int64), planes.groups, planes.orientation)
        found |= {row.tobytes() for row in patterns}
    return found


@pytest.mark.parametrize(("r", "n", "seed"), [(2, 9, 0), (3, 10, 1), (4, 9, 2), (5, 8, 3)])
def test_streamed_cells_are_the_enumerated_patterns(r: int, n: int, seed: int) -> None:
    X = np.random.default_rng(seed).standard_normal((n, r))
    expected = {row.tobytes() for row in enumerate_arrangements(X).patterns}
    assert _streamed_patterns(X, batch_size=5) == expected


def test_repeated_and_opposite_rows_give_the_same_patterns() -> None:
    X = np.random.default_rng(4).standard_normal((7, 3))
    X = np.vstack([X, X[:3], -2.0 * X[3:5], np.zeros((1, 3))])  # duplicates, opposites, a zero
    expected = {row.tobytes() for row in enumerate_arrangements(X).patterns}
    assert _streamed_patterns(X, batch_size=3) == expected


def test_rows_in_a_subspace_give_a_superset_of_the_cells() -> None:
    # five rows in the plane x_3 = 0 of R^3: their hyperplanes all contain the line e_3,
    # a degenerate ray; the stream lists a superset there, never fewer cells
    rng = np.random.default_rng(5)
    planar = np.column_stack([rng.standard_normal((5, 2)), np.zeros(5)])
    X = np.vstack([planar, rng.standard_normal((4, 3))])
    expected = {row.tobytes() for row in enumerate_arrangements(X).patterns}
    found = _streamed_patterns(X, batch_size=4)
    assert expected <= found
    planes = hyperplanes(ScaledSVD.of(X))
    degenerate = [b for b in vertex_rays(planes.normals, batch_size=4) if not np.all(b.general)]
    assert degenerate and all(b.skipped == 0 for b in degenerate)


def test_a_degenerate_ray_above_max_through_is_counted_as_skipped() -> None:
    rng = np.random.default_rng(6)
    planar = np.column_stack([rng.standard_normal((6, 2)), np.zeros(6)])
    X = np.vstack([planar, rng.standard_normal((3, 3))])
    planes = hyperplanes(ScaledSVD.of(X))
    skipped = sum(b.skipped for b in vertex_rays(planes.normals, max_through=4))
    assert skipped == 2  # the line e_3, both directions


def test_batches_respect_the_batch_size_and_list_every_subset_once() -> None:
    L, size = 11, 3
    seen = []
    for block in subset_batches(L, size, batch_size=7):
        assert 1 <= len(block) <= 7
        seen.extend(map(tuple, block))
    assert len(seen) == len(set(seen)) == math.comb(L, size)
    assert all(list(s) == sorted(set(s)) for s in seen)


def test_rays_per_batch_and_total() -> None:
    X = np.random.default_rng(7).standard_normal((10, 4))
    planes = hyperplanes(ScaledSVD.of(X))
    batches = list(vertex_rays(planes.normals, batch_size=6))
    assert all(len(b) <= 12 for b in batches)  # both directions of at most 6 subsets
    assert sum(len(b) for b in batches) == vertex_ray_count(10, 4)
    for batch in batches[:3]:
        products = batch.rays @ planes.normals.T
        assert np.allclose(products[np.arange(len(batch))[:, None], batch.subsets], 0.0)


def test_packed_signs_tell_faces_apart() -> None:
    signs = np.array([[1, 0, -1], [1, -1, 0], [1, 0, -1]], dtype=np.int8)
    packed = pack_signs(signs)
    assert np.array_equal(packed[0], packed[2]) and not np.array_equal(packed[0], packed[1])


def test_rank_one_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="rank >= 2"):
        next(vertex_rays(np.ones((3, 1))))
