r"""The two-layer ReLU training problem with weight decay.

.. math::

    p^\star = \min_{U \in \mathbb R^{d\times m},\, V \in \mathbb R^{m\times c}}
        \tfrac12 \lVert (XU)_+ V - Y \rVert_F^2 + \tfrac{\beta}{2}\big(\lVert U\rVert_F^2
        + \lVert V\rVert_F^2\big)

with data :math:`X \in \mathbb R^{n\times d}` (rows are samples), targets
:math:`Y \in \mathbb R^{n\times c}` and weight decay :math:`\beta > 0`.  A first-layer bias is
modelled as a column of ones appended to ``X`` (``bias=True``), so that every program in copos
sees bias-free data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos._validation import as_finite_array, check_positive
from copos.errors import InvalidInputError

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class TrainingProblem:
    """Data, targets and weight decay of a two-layer ReLU training problem.

    Attributes
    ----------
    X:
        Design matrix of shape ``(n, d)``; includes the ones column when ``bias`` is true.
    Y:
        Targets of shape ``(n, c)``; a 1-D ``Y`` is read as ``c = 1``.
    beta:
        Weight-decay parameter, ``beta > 0``.
    bias:
        Whether the last column of ``X`` is the ones column appended for a first-layer bias.
    """

    X: FloatArray
    Y: FloatArray
    beta: float
    bias: bool = False
    name: str = field(default="problem", compare=False)

    @classmethod
    def from_data(
        cls,
        X: ArrayLike,
        Y: ArrayLike,
        beta: float,
        *,
        bias: bool = False,
        name: str = "problem",
    ) -> TrainingProblem:
        """Validate ``X``, ``Y`` and ``beta``; append a ones column to ``X`` if ``bias``."""
        X_arr, Y_arr = _checked_data(X, Y)
        beta_value = check_positive(beta, "beta")
        if bias:
            X_arr = np.hstack([X_arr, np.ones((X_arr.shape[0], 1))])
        return cls(X=X_arr, Y=Y_arr, beta=beta_value, bias=bias, name=name)

    def __post_init__(self) -> None:
        # Direct construction gets the same checks as from_data (without re-appending a bias).
        X_arr, Y_arr = _checked_data(self.X, self.Y)
        object.__setattr__(self, "X", X_arr)
        object.__setattr__(self, "Y", Y_arr)
        object.__setattr__(self, "beta", check_positive(self.beta, "beta"))

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        """Input dimension (including the bias column, if any)."""
        return int(self.X.shape[1])

    @property
    def c(self) -> int:
        """Output dimension."""
        return int(self.Y.shape[1])

    @property
    def rank(self) -> int:
        """Numerical rank of ``X``."""
        return int(np.linalg.matrix_rank(self.X))

    def with_beta(self, beta: float) -> TrainingProblem:
        """The same data with another weight decay."""
        return TrainingProblem(X=self.X, Y=self.Y, beta=beta, bias=self.bias, name=self.name)


def _checked_data(X: ArrayLike, Y: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Finite real ``X`` (n×d) and ``Y`` (n×c; a 1-D ``Y`` is a column), ``n, d, c >= 1``."""
    X_arr = as_finite_array(X, "X", ndim=2)
    Y_arr = as_finite_array(Y, "Y")
    if Y_arr.ndim == 1:
        Y_arr = Y_arr[:, None]
    if Y_arr.ndim != 2:
        raise InvalidInputError(f"Y must have shape (n,) or (n, c); got {Y_arr.shape}")
    if X_arr.shape[0] != Y_arr.shape[0]:
        raise InvalidInputError(
            f"X and Y must have the same number of rows (samples); "
            f"got X {X_arr.shape} and Y {Y_arr.shape}"
        )
    if 0 in X_arr.shape or 0 in Y_arr.shape:
        raise InvalidInputError(f"X and Y must be non-empty; got X {X_arr.shape}, Y {Y_arr.shape}")
    return X_arr, Y_arr
