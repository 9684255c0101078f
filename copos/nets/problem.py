r"""The two-layer ReLU training problem with weight decay.

.. math::

    p^\star = \min_{U \in \mathbb R^{d\times m},\, V \in \mathbb R^{m\times c}}
        \tfrac12 \lVert (XU)_+ V - Y \rVert_F^2 + \tfrac{\beta}{2}\big(\lVert U\rVert_F^2
        + \lVert V\rVert_F^2\big)

with data :math:`X \in \mathbb R^{n\times d}` (rows are samples), targets
:math:`Y \in \mathbb R^{n\times c}` and weight decay :math:`\beta > 0`.  A first-layer bias is
modelled as a column of ones appended to ``X`` (``bias=True``), so that every program in copos
sees bias-free data.

An **output bias** :math:`b \in \mathbb R^c` (``output_bias=True``), as in every PyTorch
``nn.Linear``, is not regularized:

.. math::

    p^\star = \min_{U, V, b}\ \tfrac12 \lVert (XU)_+ V + \mathbf 1 b^\top - Y \rVert_F^2
        + \tfrac{\beta}{2}\big(\lVert U\rVert_F^2 + \lVert V\rVert_F^2\big);

the optimal :math:`b` makes the residual's columns sum to zero, and the dual gets the
constraint :math:`Z^\top\mathbf 1 = 0` (:mod:`copos.certificates.certify`).  A program that
does not model it refuses such a problem (:meth:`TrainingProblem.require_no_output_bias`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos._validation import as_finite_array, check_positive
from copos.errors import InvalidInputError
from copos.nets.arrangements import (
    DEFAULT_MARGIN,
    DEFAULT_MAX_PATTERNS,
    DEFAULT_TOL,
    RANK_TOL,
    Arrangements,
    ScaledSVD,
    arrangements_of,
    check_pattern_bound,
    hyperplanes,
)

FloatArray = NDArray[np.float64]
T = TypeVar("T")


class _Cache:
    """Values computed once from ``X`` and ``Y`` (never from ``beta``), keyed, thread-safe.

    Not part of a problem's value: it is left out of ``repr`` and ``==``, and a pickled or
    copied problem starts with an empty cache (:meth:`TrainingProblem.__reduce__`).
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._values: dict[Hashable, Any] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value stored under ``key``, computed by ``compute()`` on first use."""
        with self._lock:
            if key not in self._values:
                self._values[key] = compute()
            return self._values[key]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<cache of {len(self._values)} values>"


@dataclass(frozen=True)
class TrainingProblem:
    """Data, targets and weight decay of a two-layer ReLU training problem.

    ``X``, ``Y`` and ``beta`` are validated once, when the problem is built (the constructor
    or :meth:`from_data`), and trusted afterwards.  ``X`` and ``Y`` are read-only views of
    the validated arrays (not copies: do not change the arrays you passed in afterwards).
    What consumers derive from the data is computed on first use and cached:
    :attr:`scaled_svd` (one SVD of ``X``), :attr:`svd`, :attr:`rank`, :attr:`row_space`,
    :meth:`arrangements` (the exact enumeration, once per options) and :meth:`cached` (for
    quantities of higher layers).  :meth:`with_beta` shares ``X``, ``Y`` and every cache, so a
    regularization path validates, factorizes and enumerates once.  The cache is not part of
    the value: it appears in neither ``repr`` nor ``==``.

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
    output_bias:
        Whether the net has an unregularized output bias :math:`b` (the objective is minimized
        over :math:`b` too; module docstring).
    """

    X: FloatArray
    Y: FloatArray
    beta: float
    bias: bool = False
    name: str = field(default="problem", compare=False)
    output_bias: bool = False
    _cache: _Cache = field(default_factory=_Cache, init=False, repr=False, compare=False)

    @classmethod
    def from_data(
        cls,
        X: ArrayLike,
        Y: ArrayLike,
        beta: float,
        *,
        bias: bool = False,
        name: str = "problem",
        output_bias: bool = False,
    ) -> TrainingProblem:
        """Validate ``X``, ``Y`` and ``beta``; append a ones column to ``X`` if ``bias``;
        ``output_bias``: the net has an unregularized output bias.

        Examples
        --------
        >>> import numpy as np
        >>> problem = TrainingProblem.from_data(np.eye(3), np.ones(3), beta=0.1, bias=True)
        >>> problem.n, problem.d, problem.c, problem.X[:, -1].tolist()
        (3, 4, 1, [1.0, 1.0, 1.0])
        """
        X_arr, Y_arr = _checked_data(X, Y)
        beta_value = check_positive(beta, "beta")
        free_bias = _check_flag(output_bias, "output_bias")
        if bias:
            X_arr = np.hstack([X_arr, np.ones((X_arr.shape[0], 1))])
        return cls._trusted(X_arr, Y_arr, beta_value, bias, name, output_bias=free_bias)

    def __post_init__(self) -> None:
        # Direct construction gets the same checks as from_data (without re-appending a bias).
        X_arr, Y_arr = _checked_data(self.X, self.Y)
        object.__setattr__(self, "X", _read_only(X_arr))
        object.__setattr__(self, "Y", _read_only(Y_arr))
        object.__setattr__(self, "beta", check_positive(self.beta, "beta"))
        object.__setattr__(self, "output_bias", _check_flag(self.output_bias, "output_bias"))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # pickle and copy: the same (read-only) data with an empty cache, not checked again
        return (_rebuilt, (self.X, self.Y, self.beta, self.bias, self.name, self.output_bias))

    @classmethod
    def _trusted(
        cls,
        X: FloatArray,
        Y: FloatArray,
        beta: float,
        bias: bool,
        name: str,
        cache: _Cache | None = None,
        *,
        output_bias: bool = False,
    ) -> TrainingProblem:
        """A problem from arrays that are already checked (no validation, no copy)."""
        problem = object.__new__(cls)
        values = {"X": _read_only(X), "Y": _read_only(Y), "beta": beta, "bias": bias}
        values.update(name=name, _cache=_Cache() if cache is None else cache)
        values.update(output_bias=output_bias)
        for key, value in values.items():
            object.__setattr__(problem, key, value)
        return problem

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
        r"""Numerical rank of ``X``: singular values :math:`s_k > 10^{-10}s_1`
        (:data:`~copos.nets.arrangements.RANK_TOL`, the threshold of the arrangements and of
        the dual norm)."""
        return self.scaled_svd.rank(RANK_TOL)

    @property
    def scaled_svd(self) -> ScaledSVD:
        r"""The thin SVD of :math:`X/2^k` with :math:`\max|X/2^k| \in [1, 2)`
        (:class:`~copos.nets.arrangements.ScaledSVD`): computed once, read-only."""
        return self._cache.get("scaled-svd", lambda: ScaledSVD.of(self.X))

    @property
    def svd(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        r"""The thin SVD :math:`X = U\operatorname{diag}(s)V^\top` as read-only ``(U, s, Vt)``.

        From :attr:`scaled_svd`: :math:`s = 2^k\sigma` (exact), ``U`` and ``Vt`` shared.
        """
        return self._cache.get("svd", self._svd)

    def _svd(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        unit = self.scaled_svd
        singular = _read_only(unit.singular * unit.scale)
        return unit.U, singular, unit.Vt

    @property
    def row_space(self) -> FloatArray:
        r"""Orthonormal basis :math:`V_r` (``d x r``, read-only) of the row space of ``X``."""
        return self._cache.get("row-space", lambda: _read_only(self.scaled_svd.Vt[: self.rank].T))

    def arrangements(
        self,
        *,
        tol: float = DEFAULT_TOL,
        margin: float = DEFAULT_MARGIN,
        max_patterns: int = DEFAULT_MAX_PATTERNS,
    ) -> Arrangements:
        r"""All generic activation patterns of ``X``, enumerated once per ``(tol, margin)``.

        The same as :func:`~copos.nets.arrangements.enumerate_arrangements` ``(X, ...)``, from
        the cached SVD; ``max_patterns`` only refuses (``InvalidInputError``) when the
        general-position bound exceeds it, so it is not part of the cache key.
        """
        margin = check_positive(margin, "margin")
        tol = check_positive(tol, "tol")
        planes = self._cache.get(("hyperplanes", tol), lambda: hyperplanes(self.scaled_svd, tol))
        check_pattern_bound(planes, self.n, max_patterns)
        key = ("arrangements", tol, margin)
        return self._cache.get(key, lambda: arrangements_of(self.scaled_svd, planes, margin))

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, computed once for this data and shared by :meth:`with_beta` copies.

        For quantities of ``X`` and ``Y`` that a higher layer needs more than once (the kernel
        basis of the rounding, the lifted layout); ``compute`` must not depend on ``beta``.
        Return read-only arrays: the value is shared.
        """
        return self._cache.get(("user", key), compute)

    def with_beta(self, beta: float) -> TrainingProblem:
        """The same data with another weight decay: ``X`` and ``Y`` are not checked again, and
        the new problem shares every cache (SVD, rank, arrangements) with this one."""
        beta_value = check_positive(beta, "beta")
        return self._trusted(
            self.X,
            self.Y,
            beta_value,
            self.bias,
            self.name,
            self._cache,
            output_bias=self.output_bias,
        )

    def with_output_bias(self, output_bias: bool = True) -> TrainingProblem:
        """The same data and ``beta`` with (or without) an unregularized output bias; shares
        every cache (the flag does not change ``X`` or ``Y``)."""
        flag = _check_flag(output_bias, "output_bias")
        return self._trusted(
            self.X, self.Y, self.beta, self.bias, self.name, self._cache, output_bias=flag
        )

    def require_no_output_bias(self, program: str) -> None:
        """:func:`require_no_output_bias` of this problem."""
        require_no_output_bias(self, program)

    def rescaled(self, x_scale: float, y_scale: float) -> TrainingProblem:
        r"""The problem in other units: :math:`(X/\kappa,\ Y/\gamma,\ \beta/(\kappa\gamma))`.

        Its optimum is :math:`p^\star/\gamma^2`: a network :math:`(U, V)` of this problem is
        :math:`(aU, aV)`, :math:`a = \sqrt{\kappa/\gamma}`, there.  ``bias`` is False (the
        last column is :math:`1/\kappa` now).  The data are not checked again, only that the
        division does not overflow; nothing is cached yet (other data).
        """
        kappa = check_positive(x_scale, "x_scale")
        gamma = check_positive(y_scale, "y_scale")
        beta = check_positive(self.beta / (kappa * gamma), "beta")
        for name, array, factor in (("X", self.X, kappa), ("Y", self.Y, gamma)):
            if not math.isfinite(float(np.max(np.abs(array), initial=0.0)) / factor):
                raise InvalidInputError(f"{name} / {factor!r} overflows; choose another scale")
        return self._trusted(
            self.X / kappa, self.Y / gamma, beta, False, self.name, output_bias=self.output_bias
        )


def require_no_output_bias(problem: object, program: str) -> None:
    """The one guard of the programs that do not model an output bias: raise
    :class:`InvalidInputError` naming ``program`` when ``problem`` has ``output_bias`` set
    (anything that is not a :class:`TrainingProblem` is left to the program's own checks)."""
    if isinstance(problem, TrainingProblem) and problem.output_bias:
        raise InvalidInputError(
            f"{program} does not model an output bias; this problem has output_bias=True "
            "(certify the net with copos.certify, which does, or use "
            "problem.with_output_bias(False) for the bias-free problem)"
        )


def _rebuilt(
    X: FloatArray, Y: FloatArray, beta: float, bias: bool, name: str, output_bias: bool = False
) -> TrainingProblem:
    """A pickled or copied problem (its data were checked when the original was built)."""
    return TrainingProblem._trusted(X, Y, beta, bias, name, output_bias=output_bias)


def _check_flag(value: Any, name: str) -> bool:
    """A bool (``numpy.bool_`` accepted); anything else is :class:`InvalidInputError`."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidInputError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def _read_only(array: FloatArray) -> FloatArray:
    """A read-only view of ``array`` (the array itself if it is read-only already)."""
    if not array.flags.writeable:
        return array
    view = array.view()
    view.setflags(write=False)
    return view


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
