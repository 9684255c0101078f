"""A trained net as a semi-NMF of the copositive program's variable (Sahiner et al.)."""

from __future__ import annotations

import numpy as np
import pytest

from copos.errors import CoposError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.problem import TrainingProblem
from copos.nets.training import train
from copos.recovery.semi_nmf import lifted_matrix, semi_nmf
from copos.relaxations.convex import solve_convex_program


def problem() -> TrainingProblem:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 2))
    return TrainingProblem.from_data(X, np.abs(X[:, 0]) - X[:, 1], beta=0.1, bias=True)


def test_the_net_is_a_semi_nmf_and_a_cp_point_between_p_star_and_its_objective() -> None:
    data = problem()
    run = train(data, 6, epochs=200, seed=0)
    factor = semi_nmf(run.net, data)
    assert np.all(factor.H >= 0) and factor.rank == 6
    np.testing.assert_allclose(factor.H @ factor.V, run.net.predict(data.X), atol=1e-12)
    np.testing.assert_allclose(lifted_matrix(factor, data.X), factor.M, atol=1e-10)
    for pattern, block in zip(factor.patterns, factor.S, strict=True):  # S_i in C_i
        A = (2.0 * pattern - 1.0)[:, None] * data.X
        assert np.linalg.eigvalsh(block).min() >= -1e-12
        assert np.min(A @ block @ A.T) >= -1e-12  # a sum of (Au)(Au)^T with Au >= 0
    exact = solve_convex_program(data, solver="clarabel").value
    assert exact - 1e-6 <= factor.cp_objective <= run.net.objective(data) + 1e-12


def test_bad_input_raises_a_copos_error() -> None:
    with pytest.raises(CoposError):
        semi_nmf(TwoLayerReLU(np.ones((2, 1)), np.ones((1, 1))), problem())
