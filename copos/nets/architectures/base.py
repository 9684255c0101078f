r"""The seam every architecture plugs into: the data operator its hidden layer sees.

A two-layer net whose hidden layer applies the same weights :math:`U \in \mathbb R^{h\times m}` to
:math:`K` patch matrices :math:`X_1, \dots, X_K \in \mathbb R^{n\times h}` and pools the ReLUs,

.. math::

    f(X) = \Big(\sum_{k=1}^K (X_kU)_+\Big)V,
    \qquad
    F(U, V) = \tfrac12\|f(X) - Y\|_F^2 + \tfrac\beta2\big(\|U\|_F^2 + \|V\|_F^2\big),

is described to the programs by its :class:`DataOperator` :math:`(X_1, \dots, X_K)`: the dense
net is :math:`K = 1`, :math:`X_1 = X`; a convolutional net (Ergen & Pilanci, 2021) has one
:math:`X_k` per patch position.  Activation patterns are those of the stacked matrix
:math:`M = [X_1; \dots; X_K] \in \mathbb R^{nK\times h}`; a pattern :math:`D_i` of :math:`M` splits
into :math:`K` diagonal blocks :math:`D_i^k`, and on its cone the pooled ReLU is linear,
:math:`\sum_k (X_ku)_+ = A_iu` with :math:`A_i = \sum_k D_i^kX_k`.

An :class:`Architecture` says how to build the operator from the data, how to evaluate a net
and its weight-decay objective; the programs (e.g. :func:`copos.relaxations.convex.solve_convex_program`)
read only the operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos.errors import InvalidInputError
from copos.nets.problem import TrainingProblem

FloatArray = NDArray[np.float64]
#: ``(U, V)``: hidden weights ``(h, m)`` (one column per neuron or filter), output ``(m, c)``.
Weights = tuple[FloatArray, FloatArray]


@dataclass(frozen=True, eq=False)
class DataOperator:
    r"""The patch matrices :math:`X_1, \dots, X_K` (each :math:`n \times h`) of a hidden layer.

    ``patches`` has shape ``(K, n, h)``; it is stored as a read-only float64 view (not copied
    when it already is float64).  Built by an architecture from validated data, so only the
    shape is checked here.
    """

    patches: FloatArray

    def __post_init__(self) -> None:
        patches = np.asarray(self.patches, dtype=np.float64)
        if patches.ndim != 3 or 0 in patches.shape:
            raise InvalidInputError(
                f"patches must be a (K, n, h) array with K, n, h >= 1; got shape {patches.shape}"
            )
        view = patches.view()
        view.flags.writeable = False
        object.__setattr__(self, "patches", view)

    @classmethod
    def dense(cls, X: ArrayLike) -> DataOperator:
        """The dense net's operator: ``K = 1``, :math:`X_1 = X`."""
        return cls(np.asarray(X, dtype=np.float64)[None, :, :])

    @property
    def K(self) -> int:
        """Number of patch matrices (patch positions)."""
        return int(self.patches.shape[0])

    @property
    def n(self) -> int:
        """Number of samples (rows of each :math:`X_k`)."""
        return int(self.patches.shape[1])

    @property
    def h(self) -> int:
        """Patch size: the dimension of the hidden weights (columns of each :math:`X_k`)."""
        return int(self.patches.shape[2])

    @property
    def rows(self) -> int:
        """Rows :math:`nK` of the stacked matrix: the length of an activation pattern."""
        return self.n * self.K

    @property
    def stacked(self) -> FloatArray:
        r""":math:`M = [X_1; \dots; X_K]`, shape ``(nK, h)``; row ``k*n + i`` is patch ``k`` of sample ``i``."""
        return self.patches.reshape(self.rows, self.h)

    def blocks(self, masks: ArrayLike) -> FloatArray:
        r"""Per-patch blocks :math:`D^k` of patterns of :math:`M`: ``(rows, ...)`` to ``(K, n, ...)``."""
        array = np.asarray(masks)
        if array.shape[0] != self.rows:
            raise InvalidInputError(
                f"patterns must have {self.rows} = n*K entries; got {array.shape[0]}"
            )
        return array.reshape(self.K, self.n, *array.shape[1:])

    def pooled_relu(self, U: FloatArray) -> FloatArray:
        r""":math:`\sum_k (X_kU)_+`, shape ``(n, m)`` (for ``K = 1`` exactly :math:`(XU)_+`)."""
        hidden = np.maximum(self.patches[0] @ U, 0.0)
        for X_k in self.patches[1:]:
            hidden += np.maximum(X_k @ U, 0.0)
        return hidden

    def pattern_matrices(self, patterns: ArrayLike) -> FloatArray:
        r""":math:`A_i = \sum_k D_i^kX_k` for each pattern (row) of ``patterns`` ``(P, nK)``: ``(P, n, h)``."""
        masks = np.asarray(patterns, dtype=np.float64)
        blocks = self.blocks(masks.T)  # (K, n, P)
        return np.einsum("knp,knh->pnh", blocks, self.patches)


def weight_decay_objective(
    prediction: FloatArray, problem: TrainingProblem, U: FloatArray, V: FloatArray
) -> float:
    r""":math:`\tfrac12\|f(X) - Y\|_F^2 + \tfrac\beta2(\|U\|_F^2 + \|V\|_F^2)` given :math:`f(X)`."""
    R = problem.Y - prediction
    weight = float(np.vdot(U, U)) + float(np.vdot(V, V))
    return 0.5 * float(np.vdot(R, R)) + 0.5 * problem.beta * weight


@runtime_checkable
class Architecture(Protocol):
    """A two-layer architecture: its data operator, forward map and weight-decay objective.

    ``weights`` are ``(U, V)`` float arrays (:data:`Weights`) and ``X`` the data matrix as a
    :class:`~copos.nets.problem.TrainingProblem` holds it, both already validated.
    """

    @property
    def name(self) -> str:
        """Short name, e.g. ``"dense"``."""
        ...

    def data_operator(self, X: FloatArray) -> DataOperator:
        """The patch matrices the hidden layer sees on data ``X``."""
        ...

    def forward(self, weights: Weights, X: FloatArray) -> FloatArray:
        """Outputs ``f(X)``, shape ``(n, c)``."""
        ...

    def objective(self, weights: Weights, problem: TrainingProblem) -> float:
        """The weight-decay training objective ``F(U, V)`` on ``problem``."""
        ...
