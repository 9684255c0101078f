"""Parrilo's K^r and its dual: known answers, block structure, duality (cones.md §0, §1, §3)."""

from __future__ import annotations

import math

import cvxpy as cp
import networkx as nx
import numpy as np
import pytest

from copos.cones import SPN, Parrilo, ParriloDual
from copos.cones._polynomial import coefficient_operator, gram_structure, monomials
from copos.errors import InvalidInputError
from tests.known import HORN, TOL


def test_horn_margins_match_reference() -> None:
    # min{t : H + tI in K^0} = sqrt(5) - 2 and H is in K^1 (cones.md §1.1).
    k0 = Parrilo(5, 0).margin(HORN, direction=np.eye(5))
    k1 = Parrilo(5, 1).margin(HORN, direction=np.eye(5))
    assert k0.solve is not None and k0.solve.accurate
    assert k0.margin == pytest.approx(-(math.sqrt(5) - 2), abs=TOL)
    assert abs(k1.margin) < TOL
    assert not Parrilo(5, 0).contains(HORN, tol=1e-4).member
    assert Parrilo(5, 1).contains(HORN, tol=TOL).member


def test_horn_padded_with_zero_is_in_no_level() -> None:
    # Laurent-Vargas: M not in K^0 implies M (+) 0 in no K^r (cones.md §1.4, §6.4).
    padded = np.zeros((6, 6))
    padded[:5, :5] = HORN
    for level in (1, 2):
        assert Parrilo(6, level).margin(padded, direction=np.eye(6)).margin < -1e-3


def test_level_one_block_shape_is_parrilos_lmi() -> None:
    # r = 1: n blocks of size n and C(n,3) scalars (cones.md §0 implementation tip).
    for n in (4, 5, 7):
        structure = gram_structure(n, 1)
        assert structure.block_sizes == (n,) * n
        assert structure.num_scalars == math.comb(n, 3)
    structure = gram_structure(5, 2)
    assert sorted(structure.block_sizes) == [5] * math.comb(5, 2) + [5 + math.comb(5, 2)]
    assert structure.num_scalars == math.comb(5, 4)


def test_coefficient_operator_matches_direct_expansion() -> None:
    # (sum y)^r y^T M y evaluated at random y equals sum_eta coeff_eta y^eta.
    rng = np.random.default_rng(0)
    n, r = 4, 2
    M = rng.standard_normal((n, n))
    M = M + M.T
    y = rng.random(n)
    coefficients = coefficient_operator(n, r) @ M.reshape(-1)
    powers = np.prod(y[None, :] ** monomials(n, r + 2), axis=1)
    assert coefficients @ powers == pytest.approx(y.sum() ** r * (y @ M @ y), rel=1e-12)


@pytest.mark.parametrize("n", [5, 6])
def test_blocks_and_full_gram_define_the_same_cone(n: int) -> None:
    rng = np.random.default_rng(n)
    M = rng.standard_normal((n, n))
    M = (M + M.T) / 2
    blocks = Parrilo(n, 1).margin(M).margin
    full = Parrilo(n, 1, gram="full").margin(M).margin
    assert blocks == pytest.approx(full, abs=1e-5)


def test_full_gram_dual_agrees_with_block_dual() -> None:
    X = cp.Variable((5, 5), symmetric=True)
    A = nx.to_numpy_array(nx.cycle_graph(5))
    values = []
    for gram in ("blocks", "full"):
        cone = ParriloDual(5, 1, gram=gram)
        problem = cp.Problem(
            cp.Maximize(cp.sum(X)), [cp.trace((np.eye(5) + A) @ X) == 1, *cone.constraints(X)]
        )
        problem.solve(solver=cp.CLARABEL)
        values.append(problem.value)
    assert values[0] == pytest.approx(2.0, abs=TOL)
    assert values[1] == pytest.approx(2.0, abs=TOL)


def test_level_zero_is_s_plus_n_and_dual_is_dnn() -> None:
    rng = np.random.default_rng(3)
    M = rng.standard_normal((5, 5))
    M = (M + M.T) / 2
    assert Parrilo(5, 0).margin(M).margin == pytest.approx(SPN(5).margin(M).margin, abs=1e-7)
    assert ParriloDual(5, 0).symbol == "DNN"
    assert Parrilo(5, 2).dual == ParriloDual(5, 2)
    assert Parrilo(5, 2).dual.dual == Parrilo(5, 2)


def test_dual_moment_matrix_is_psd_on_cp_matrix() -> None:
    # A CP matrix x x^T lies in (K^r)*: the margin problem is feasible with margin >= 0.
    rng = np.random.default_rng(7)
    B = rng.random((5, 8))
    membership = ParriloDual(5, 1).contains(B @ B.T)
    assert membership.member
    assert membership.certificate["moments"] is not None


@pytest.mark.parametrize("bad", [-1, 1.5, "1", True])
def test_bad_levels_raise(bad: object) -> None:
    with pytest.raises(InvalidInputError):
        Parrilo(5, bad)  # type: ignore[arg-type]


def test_wrong_expression_shape_raises() -> None:
    with pytest.raises(InvalidInputError, match="5x5"):
        Parrilo(5, 1).constraints(cp.Variable((4, 4), symmetric=True))
    with pytest.raises(InvalidInputError, match="gram"):
        Parrilo(5, 1, gram="dense")  # type: ignore[arg-type]
