"""The architecture seam: the data operator, the dense net through it, a patch net of K = 1."""

from __future__ import annotations

import numpy as np
import pytest

from copos.errors import InvalidInputError
from copos.nets.architectures.base import Architecture, DataOperator
from copos.nets.architectures.dense import DENSE, TwoLayerReLU
from tests.known import random_problem
from tests.nets.architectures.patch1d import Patch1D


def test_the_dense_operator_is_x_itself_read_only() -> None:
    problem = random_problem(0, n=7, d=3)
    operator = DENSE.data_operator(problem.X)
    assert (operator.K, operator.n, operator.h, operator.rows) == (1, 7, 3, 7)
    assert np.array_equal(operator.stacked, problem.X)
    assert np.shares_memory(operator.stacked, problem.X)  # a view: X is not copied
    assert not operator.patches.flags.writeable
    with pytest.raises(InvalidInputError, match=r"\(K, n, h\)"):
        DataOperator(np.zeros((3, 4)))
    with pytest.raises(InvalidInputError, match="n\\*K"):
        operator.blocks(np.zeros(6))


def test_pattern_matrices_are_the_sums_of_masked_patches() -> None:
    rng = np.random.default_rng(1)
    operator = DataOperator(rng.standard_normal((3, 4, 2)))
    patterns = rng.random((5, 12)) < 0.5
    A = operator.pattern_matrices(patterns)
    for i, pattern in enumerate(patterns):
        D = pattern.reshape(3, 4).astype(float)
        expected = sum(D[k][:, None] * operator.patches[k] for k in range(3))
        np.testing.assert_allclose(A[i], expected, rtol=0, atol=1e-15)
    # stacked rows are patch-major: row k*n + i is patch k of sample i
    np.testing.assert_array_equal(operator.stacked[4 * 2 + 1], operator.patches[2][1])


def test_two_layer_relu_goes_through_dense_with_the_same_bits() -> None:
    problem = random_problem(2, n=9, d=4, c=2, beta=0.3)
    rng = np.random.default_rng(3)
    U, V = rng.standard_normal((4, 5)), rng.standard_normal((5, 2))
    net = TwoLayerReLU(U, V)
    assert isinstance(DENSE, Architecture)
    prediction = np.maximum(problem.X @ U, 0.0) @ V
    R = problem.Y - prediction
    before = 0.5 * float(np.vdot(R, R)) + 0.5 * 0.3 * (float(np.vdot(U, U)) + float(np.vdot(V, V)))
    assert net.objective(problem) == before  # bit for bit, the formula before the seam
    assert np.array_equal(net.predict(problem.X), prediction)
    assert DENSE.objective((net.U, net.V), problem) == before
    assert np.array_equal(
        DENSE.data_operator(problem.X).pooled_relu(U), np.maximum(problem.X @ U, 0.0)
    )
    with pytest.raises(InvalidInputError, match="d=4"):
        DENSE.objective((U[:3], V), problem)


def test_a_patch_of_the_whole_input_is_the_dense_net() -> None:
    problem = random_problem(4, n=8, d=3, c=1)
    rng = np.random.default_rng(5)
    U, V = rng.standard_normal((3, 6)), rng.standard_normal((6, 1))
    patch = Patch1D(h=3)
    assert isinstance(patch, Architecture)
    assert patch.data_operator(problem.X).K == 1
    assert np.array_equal(patch.forward((U, V), problem.X), DENSE.forward((U, V), problem.X))
    assert patch.objective((U, V), problem) == DENSE.objective((U, V), problem)
    two = Patch1D(h=2).data_operator(problem.X)
    assert (two.K, two.h) == (2, 2)
    np.testing.assert_array_equal(two.patches[1], problem.X[:, 1:3])
