"""Standard quadratic programs with known optima (cones.md §4.1-§4.3)."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from copos.errors import InvalidInputError
from copos.programs import grid_minimum, standard_quadratic
from tests.known import HORN, TOL

MOTZKIN_STRAUS_C5 = np.eye(5) + nx.to_numpy_array(nx.cycle_graph(5))


def test_motzkin_straus_pentagon() -> None:
    # p* = 1/alpha = 1/2; p^(0)_K = 1/sqrt(5); p^(1)_K = 1/2 (cones.md §4.1).
    k0 = standard_quadratic(MOTZKIN_STRAUS_C5, "parrilo", 0)
    k1 = standard_quadratic(MOTZKIN_STRAUS_C5, "parrilo", 1)
    assert k0.kind == k1.kind == "lower"
    assert k0.verified and k1.verified
    assert k0.value == pytest.approx(1 / math.sqrt(5), abs=TOL)
    assert k1.value == pytest.approx(0.5, abs=TOL)


@pytest.mark.parametrize(("r", "expected"), [(0, 0.0), (1, 1 / 3), (2, 1 / 3), (3, 2 / 5)])
def test_lp_bounds_on_pentagon(r: int, expected: float) -> None:
    bound = standard_quadratic(MOTZKIN_STRAUS_C5, "dkp", r)
    assert bound.kind == "lower"
    assert bound.value == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("m", "expected"), [(1, 1.0), (2, 0.5), (3, 5 / 9), (4, 0.5), (5, 13 / 25)]
)
def test_grid_upper_bounds_on_pentagon(m: int, expected: float) -> None:
    bound, x = grid_minimum(MOTZKIN_STRAUS_C5, m)
    assert bound.kind == "upper"
    assert bound.value == pytest.approx(expected, abs=1e-12)
    assert x @ MOTZKIN_STRAUS_C5 @ x == pytest.approx(bound.value)
    assert standard_quadratic(MOTZKIN_STRAUS_C5, "grid-cp", m).value == pytest.approx(
        expected, abs=1e-6
    )


def test_horn_stqp() -> None:
    # p* = 0, p^(0)_K = 2/sqrt(5) - 1, p^(1)_K = 0 (cones.md §4.2).
    assert standard_quadratic(HORN, "parrilo", 0).value == pytest.approx(
        2 / math.sqrt(5) - 1, abs=TOL
    )
    assert standard_quadratic(HORN, "parrilo", 1).value == pytest.approx(0.0, abs=TOL)
    assert standard_quadratic(HORN, "parrilo-dual", 1).value == pytest.approx(0.0, abs=TOL)


@pytest.mark.parametrize("seed", range(3))
def test_bomze_de_klerk_closed_form(seed: int) -> None:
    # p^(r)_C = (r+2)/(r+1) min_{x in Delta(n, r+2)} [x^T Q x - x^T diag(Q) / (r+2)] (cones.md §4.3).
    rng = np.random.default_rng(seed)
    Q = rng.integers(-5, 6, size=(5, 5)).astype(float)
    Q = (Q + Q.T) / 2
    from copos.cones._polynomial import simplex_grid

    for r in range(3):
        grid = simplex_grid(5, r + 2)
        values = np.einsum("ai,ij,aj->a", grid, Q, grid) - grid @ np.diag(Q) / (r + 2)
        expected = (r + 2) / (r + 1) * values.min()
        assert standard_quadratic(Q, "dkp", r).value == pytest.approx(expected, abs=1e-6)


def test_bad_matrix() -> None:
    with pytest.raises(InvalidInputError, match="symmetric"):
        standard_quadratic(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(InvalidInputError, match="NaN"):
        grid_minimum(np.array([[np.inf, 0.0], [0.0, 1.0]]), 2)
