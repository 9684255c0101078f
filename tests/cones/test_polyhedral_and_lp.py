"""de Klerk-Pasechnik C^r and the simplex-grid cones (cones.md §0, §4.3-§4.5)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from copos.cones import (
    AtomCOP,
    AtomCP,
    DeKlerkPasechnik,
    DeKlerkPasechnikDual,
    Nonnegative,
    SimplexGridCOP,
    SimplexGridCP,
)
from copos.cones._polynomial import simplex_grid
from copos.errors import InvalidInputError
from tests.known import HORN


def test_level_zero_lp_cone_is_the_nonnegative_cone() -> None:
    rng = np.random.default_rng(1)
    M = rng.standard_normal((4, 4))
    M = (M + M.T) / 2
    E = np.eye(4) + np.ones((4, 4))
    assert DeKlerkPasechnik(4, 0).margin(M, direction=E).margin == pytest.approx(
        Nonnegative(4).margin(M, direction=E).margin, abs=1e-7
    )


def test_grid_size_counts() -> None:
    grid = simplex_grid(5, 3)
    assert len(grid) == 35  # C(5 + 3 - 1, 3)
    assert np.allclose(grid.sum(axis=1), 1.0)
    assert np.allclose(grid * 3, np.round(grid * 3))


def test_horn_perturbation_rejected_by_grid_two() -> None:
    # cones.md §1.1: x = (e4 + e5)/2 gives x^T H' x = -0.0025.
    perturbed = HORN.copy()
    perturbed[4, 4] = 0.99
    result = SimplexGridCOP(5, 2).margin(perturbed, direction=np.eye(5))
    assert not result.member
    assert result.certificate["value"] == pytest.approx(-0.0025, abs=1e-12)
    assert SimplexGridCOP(5, 2).margin(HORN).member


@pytest.mark.parametrize("m", range(1, 7))
def test_grid_margin_is_exact_minimum_over_the_grid(m: int) -> None:
    # Horn: min over Delta(5, m) of x^T H x is 0 for even m and 1/m^2 for odd m (cones.md §4.2).
    values = np.einsum("ai,ij,aj->a", simplex_grid(5, m), HORN, simplex_grid(5, m))
    expected = 0.0 if m % 2 == 0 else 1.0 / m**2
    assert values.min() == pytest.approx(expected, abs=1e-12)


def test_inner_cp_grid_contains_two_i_plus_cycle() -> None:
    # 2I + A_C5 = sum over edges of (e_i + e_j)(e_i + e_j)^T lies in the m = 2 grid cone.
    n = 5
    M = 2 * np.eye(n)
    for i in range(n):
        M[i, (i + 1) % n] = M[(i + 1) % n, i] = 1
    membership = SimplexGridCP(n, 2).contains(M)
    assert membership.member
    cone = SimplexGridCP(n, 2)
    B = cone.factor(membership.certificate["weights"])
    assert np.all(B >= 0)
    assert np.allclose(B @ B.T, M, atol=1e-6)


def test_atom_cones_validate_atoms() -> None:
    with pytest.raises(InvalidInputError, match=">= 0"):
        AtomCP(np.array([[1.0, -1.0]]))
    with pytest.raises(InvalidInputError, match="nonzero"):
        AtomCOP(np.zeros((2, 3)))
    with pytest.raises(InvalidInputError):
        SimplexGridCOP(4, 0)
    cone = AtomCOP(np.array([[1.0, -1.0]]), k=1)
    assert cone.dual.dual == cone


def test_duals_are_declared_consistently() -> None:
    assert DeKlerkPasechnik(5, 2).dual == DeKlerkPasechnikDual(5, 2)
    assert SimplexGridCOP(5, 3).dual == SimplexGridCP(5, 3)
    assert SimplexGridCP(5, 3).dual.dual == SimplexGridCP(5, 3)
    for cone in (DeKlerkPasechnik(5, 2), SimplexGridCOP(5, 3)):
        assert cone.family == "COP" and cone.dual.family == "CP"
    assert DeKlerkPasechnik(5, 1).side == "inner" and SimplexGridCOP(5, 1).side == "outer"


def test_lp_closed_form_for_horn() -> None:
    # p^(r)_C for Q = H: -1/(r+1) for even r, -1/(r+2) for odd r (cones.md §4.2), as
    # max{lambda : H - lambda J in C^r}, i.e. the margin along J.
    J = np.ones((5, 5))
    for r in range(4):
        expected = Fraction(-1, r + 1) if r % 2 == 0 else Fraction(-1, r + 2)
        margin = DeKlerkPasechnik(5, r).margin(HORN, direction=J).margin
        assert margin == pytest.approx(float(expected), abs=1e-6)


def test_lp_membership_certificate_is_the_coefficient_vector() -> None:
    # 2I + J has (sum y) * y^T (2I + J) y with positive coefficients: a member with margin > 0,
    # and the certificate lists those coefficients (one per monomial of degree r + 2 = 3).
    M = 2 * np.eye(4) + np.ones((4, 4))
    membership = DeKlerkPasechnik(4, 1).contains(M)
    assert membership.member and membership.margin > 0
    coefficients = membership.certificate["coefficients"]
    assert coefficients.shape == (20,) and np.all(coefficients >= -1e-9)
