"""Known matrices and tolerances shared by the tests (values from ../shared/reference/cones.md)."""

from __future__ import annotations

import numpy as np

from copos.nets.problem import TrainingProblem

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


def random_problem(
    seed: int, n: int = 6, d: int = 2, c: int = 2, beta: float = 0.1
) -> TrainingProblem:
    """Gaussian data and targets: a small training problem for property tests."""
    rng = np.random.default_rng(seed)
    return TrainingProblem.from_data(rng.standard_normal((n, d)), rng.standard_normal((n, c)), beta)


def relative_gap(a: float, b: float) -> float:
    """``|a - b| / max(1, |b|)``."""
    return abs(a - b) / max(1.0, abs(b))
