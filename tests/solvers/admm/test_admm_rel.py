"""copos's own REL splitting (copos.solvers.admm.rel) and its driver solve_rel_admm."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import nnls

from copos.relaxations.rel import facet_rows, solve_rel, solve_rel_admm
from copos.solvers.admm.rel import RelAdmmState, psd_project
from tests.known import random_problem, relative_gap


def test_psd_projection_is_the_nearest_psd_block() -> None:
    rng = np.random.default_rng(0)
    blocks = rng.standard_normal((4, 3, 3))
    blocks = blocks + blocks.transpose(0, 2, 1)
    projected = psd_project(blocks)
    for block, proj in zip(blocks, projected, strict=True):
        values, vectors = np.linalg.eigh(block)
        expected = (vectors * np.maximum(values, 0.0)) @ vectors.T
        np.testing.assert_allclose(proj, expected, atol=1e-12)
        assert np.linalg.eigvalsh(proj)[0] >= -1e-12


def test_facet_rows_keep_the_cone() -> None:
    A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0], [0.0, 0.0]])
    facets = facet_rows(A)
    assert facets.shape == (2, 2)  # (1,1) is a sum of the others, (2,0) repeats (1,0)
    for row in A[np.linalg.norm(A, axis=1) > 0]:
        assert nnls(facets.T, row / np.linalg.norm(row))[1] < 1e-12


def test_state_grows_with_the_working_set() -> None:
    state = RelAdmmState.zeros(2, 3, 4, rho=0.5).extended(3).padded(5)
    assert state.P.shape == (5, 4, 4) and state.H.shape == (5, 5, 5) and state.rho == 0.5


@pytest.mark.parametrize("seed", [1, 3])
def test_admm_value_matches_the_cvxpy_rel(seed: int) -> None:
    problem = random_problem(seed, n=6, beta=0.1)
    reference = solve_rel(problem, solver="clarabel")
    run = solve_rel_admm(problem, tol=1e-9, max_iter=20_000)
    assert run.result.solve.status == "optimal"
    assert relative_gap(run.result.value, reference.value) <= 1e-6
    np.testing.assert_allclose(run.result.Z, reference.Z, atol=1e-5)
    assert run.result.bound_kind == "lower"  # complete enumeration
    assert run.result.kind == "neither"  # no duality gap checked: unverified


def test_solve_rel_dispatches_to_copos_rel() -> None:
    problem = random_problem(2, n=5, beta=0.2)
    result = solve_rel(problem, solver="copos-rel")
    assert result.solve.solver == "copos-rel"
    assert relative_gap(result.value, solve_rel(problem).value) <= 1e-5
