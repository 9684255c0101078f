"""A small modelling interface so that every cone is written once for cvxpy and for PICOS.

Cone classes build their constraints through a :class:`Model`; :class:`CvxpyModel` produces
cvxpy constraints (solved with SCS or Clarabel), :class:`PicosModel` PICOS constraints (solved
with cvxopt), which lets the test suite cross-check the two transcriptions of one program.
"""

from __future__ import annotations

import itertools
from functools import cache
from typing import Any, Protocol, TypeAlias

import cvxpy as cp
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

Expression: TypeAlias = Any
Constraint: TypeAlias = Any
ConstMatrix: TypeAlias = NDArray[np.float64] | sp.spmatrix | sp.sparray


class Model(Protocol):
    """Operations a cone needs from a modelling language."""

    name: str

    def variable(self, shape: tuple[int, ...], nonneg: bool = False) -> Expression: ...

    def symmetric(self, size: int) -> Expression: ...

    def psd_variable(self, size: int) -> tuple[Expression, list[Constraint]]: ...

    def vec(self, expr: Expression) -> Expression: ...

    def matmul(self, matrix: ConstMatrix, expr: Expression) -> Expression: ...

    def sandwich(self, left: ConstMatrix, expr: Expression) -> Expression: ...

    def psd(self, expr: Expression) -> Constraint: ...

    def nonneg(self, expr: Expression) -> Constraint: ...

    def equal(self, lhs: Expression, rhs: Expression) -> Constraint: ...


def symmetric_equal(model: Model, vec_lhs: Expression, vec_rhs: Expression, n: int) -> Constraint:
    """``vec_lhs == vec_rhs`` for vectorized symmetric ``n x n`` matrices, one row per pair i <= j.

    Imposing both triangles gives a rank-deficient equality system that interior-point solvers
    handle badly, so only the upper triangle is kept.
    """
    select = triangle_selector(n)
    return model.equal(model.matmul(select, vec_lhs), model.matmul(select, vec_rhs))


@cache
def triangle_selector(n: int) -> sp.csr_matrix:
    """Rows pick ``vec(M)[i + n j]`` for ``i <= j``: equalities of symmetric matrices, once each."""
    rows, cols = np.triu_indices(n)
    index = rows + n * cols
    return sp.csr_matrix(
        (np.ones(len(index)), (np.arange(len(index)), index)), shape=(len(index), n * n)
    )


class CvxpyModel:
    """Build cvxpy expressions and constraints."""

    name = "cvxpy"

    def variable(self, shape: tuple[int, ...], nonneg: bool = False) -> cp.Variable:
        return cp.Variable(shape, nonneg=nonneg)

    def symmetric(self, size: int) -> cp.Variable:
        return cp.Variable((size, size), symmetric=True)

    def psd_variable(self, size: int) -> tuple[cp.Variable, list[cp.Constraint]]:
        return cp.Variable((size, size), PSD=True), []

    def vec(self, expr: cp.Expression) -> cp.Expression:
        return cp.vec(expr, order="F")

    def matmul(self, matrix: ConstMatrix, expr: cp.Expression) -> cp.Expression:
        return matrix @ expr

    def sandwich(self, left: ConstMatrix, expr: cp.Expression) -> cp.Expression:
        """``left @ expr @ left.T``, kept symmetric for cvxpy."""
        return left @ expr @ left.T

    def psd(self, expr: cp.Expression) -> cp.Constraint:
        return expr >> 0

    def nonneg(self, expr: cp.Expression) -> cp.Constraint:
        return expr >= 0

    def equal(self, lhs: cp.Expression, rhs: cp.Expression) -> cp.Constraint:
        return lhs == rhs


class PicosModel:
    """Build PICOS expressions and constraints (for the cvxopt backend)."""

    name = "picos"

    def __init__(self) -> None:
        import picos

        self._picos = picos
        self._counter = itertools.count()

    def _name(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter)}"

    def variable(self, shape: tuple[int, ...], nonneg: bool = False) -> Expression:
        return self._picos.RealVariable(self._name("v"), shape, lower=0 if nonneg else None)

    def symmetric(self, size: int) -> Expression:
        return self._picos.SymmetricVariable(self._name("S"), size)

    def psd_variable(self, size: int) -> tuple[Expression, list[Constraint]]:
        variable = self.symmetric(size)
        return variable, [variable >> 0]

    def vec(self, expr: Expression) -> Expression:
        return expr.vec

    def matmul(self, matrix: ConstMatrix, expr: Expression) -> Expression:
        return self._picos.Constant(_to_dense_or_sparse(matrix)) * expr

    def sandwich(self, left: ConstMatrix, expr: Expression) -> Expression:
        const = self._picos.Constant(_to_dense_or_sparse(left))
        return const * expr * const.T

    def psd(self, expr: Expression) -> Constraint:
        return expr >> 0

    def nonneg(self, expr: Expression) -> Constraint:
        return expr >= 0

    def equal(self, lhs: Expression, rhs: Expression) -> Constraint:
        return lhs == rhs


def _to_dense_or_sparse(matrix: ConstMatrix) -> Any:
    if sp.issparse(matrix):
        return sp.csr_matrix(matrix)
    return np.asarray(matrix, dtype=float)


def as_model(model: Model | None) -> Model:
    """The default model is cvxpy."""
    return CvxpyModel() if model is None else model
