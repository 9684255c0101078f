"""Known matrices and tolerances shared by the tests (values from ../shared/reference/cones.md)."""

from __future__ import annotations

import numpy as np

#: Horn matrix (cones.md §1.1): copositive, not in K^0, in K^1.
HORN = np.array(
    [
        [1, -1, 1, 1, -1],
        [-1, 1, -1, 1, 1],
        [1, -1, 1, -1, 1],
        [1, 1, -1, 1, -1],
        [-1, 1, 1, -1, 1],
    ],
    dtype=float,
)

#: Solver accuracy we rely on in known-answer tests (Clarabel reaches about 1e-7).
TOL = 1e-5


def random_symmetric(rng: np.random.Generator, n: int) -> np.ndarray:
    A = rng.standard_normal((n, n))
    return (A + A.T) / 2
