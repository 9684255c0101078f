"""Input checks shared by every public entry point (private)."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos.errors import InvalidInputError

SYMMETRY_TOL = 1e-9


def as_real_array(value: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``value`` as a float64 array; a complex value must have imaginary part exactly 0.

    NumPy would silently keep only the real part, Re(z); copos refuses a nonzero (or NaN)
    imaginary part instead, so no data is lost without a word.
    """
    try:
        array = np.asarray(value)
        if np.iscomplexobj(array):
            imaginary = array.imag
            if np.any(imaginary != 0):  # NaN imaginary parts are refused too
                count = int(np.count_nonzero(imaginary != 0))
                raise InvalidInputError(
                    f"{name} is complex with {count} nonzero imaginary part(s); copos needs "
                    "real data (pass the real part yourself if that is what you mean)"
                )
            array = array.real
        return np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(
            f"{name} must be a numeric array; got {type(value).__name__}"
        ) from exc


def as_finite_array(value: ArrayLike, name: str, ndim: int | None = None) -> NDArray[np.float64]:
    """Return ``value`` as a float64 array, rejecting NaN/inf and the wrong number of axes."""
    array = as_real_array(value, name)
    if ndim is not None and array.ndim != ndim:
        raise InvalidInputError(f"{name} must have {ndim} axes; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"{name} contains NaN or inf; clean the data before calling copos")
    return array


def as_symmetric_matrix(
    value: ArrayLike, name: str = "M", tol: float = SYMMETRY_TOL
) -> NDArray[np.float64]:
    """Return ``value`` as a finite, square, symmetric float64 matrix (symmetrised exactly)."""
    matrix = as_finite_array(value, name, ndim=2)
    rows, cols = matrix.shape
    if rows != cols:
        raise InvalidInputError(f"{name} must be square; got shape {matrix.shape}")
    if rows == 0:
        raise InvalidInputError(f"{name} must have at least one row; got shape {matrix.shape}")
    scale = max(1.0, float(np.max(np.abs(matrix))))
    asymmetry = float(np.max(np.abs(matrix - matrix.T)))
    if asymmetry > tol * scale:
        raise InvalidInputError(
            f"{name} must be symmetric; max |{name} - {name}^T| = {asymmetry:.3g}. "
            f"Pass (M + M.T) / 2 if the asymmetry is rounding."
        )
    return (matrix + matrix.T) / 2


def check_level(level: Any, name: str = "level") -> int:
    """Return a hierarchy level as a nonnegative int."""
    if isinstance(level, bool) or not isinstance(level, numbers.Integral):
        raise InvalidInputError(f"{name} must be a nonnegative integer; got {level!r}")
    if level < 0:
        raise InvalidInputError(f"{name} must be >= 0; got {level}")
    return int(level)


def check_positive(value: Any, name: str) -> float:
    """Return a strictly positive finite float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInputError(f"{name} must be a positive number; got {value!r}")
    number = float(value)
    if not np.isfinite(number) or number <= 0:
        raise InvalidInputError(f"{name} must be positive and finite; got {value!r}")
    return number


def check_nonnegative(value: Any, name: str) -> float:
    """Return a finite float ``>= 0``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInputError(f"{name} must be a finite number >= 0; got {value!r}")
    number = float(value)
    if not np.isfinite(number) or number < 0:
        raise InvalidInputError(f"{name} must be a finite number >= 0; got {value!r}")
    return number


def check_dimension(value: Any, name: str, minimum: int = 1) -> int:
    """Return an integer dimension >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidInputError(f"{name} must be an integer; got {value!r}")
    if value < minimum:
        raise InvalidInputError(f"{name} must be >= {minimum}; got {value}")
    return int(value)


def power_of_two_scale(array: NDArray[np.float64]) -> float:
    """``2**k`` with ``max|array| / 2**k`` in ``[1, 2)`` (``1.0`` for a zero or non-finite array).

    Dividing by it is exact in floating point (barring subnormals), so homogeneous computations
    can run on data of unit size: squares of entries near 1e154 overflow and those near 1e-162
    underflow, which silently turns row norms into inf or 0.
    """
    peak = float(np.max(np.abs(array), initial=0.0))
    if peak == 0.0 or not math.isfinite(peak):
        return 1.0
    return math.ldexp(1.0, math.frexp(peak)[1] - 1)  # <= peak: never overflows
