r"""Circular convolutions before a ReLU (Ergen & Pilanci, 2021): the spectral :math:`\ell_1` norm.

Neuron :math:`j` applies a full-length circular convolution :math:`u_j \circledast w_j` (two
linear layers, the circulant :math:`\mathrm{circ}(u_j)` then the vector :math:`w_j`), a ReLU and
an output sign :math:`s_j \in \{\pm1\}`:

.. math::

    f(X) = \sum_{j=1}^m s_j\big(X(u_j \circledast w_j)\big)_+,
    \qquad
    F = \tfrac12\|f(X) - y\|_2^2 + \tfrac\beta2\big(\|U\|_F^2 + \|W\|_F^2\big).

With the unitary DFT :math:`\mathsf F`, :math:`\mathsf F(u\circledast w) = \sqrt d\,(\mathsf Fu)
\odot(\mathsf Fw)`, and by AM-GM per frequency (the closed form of :func:`circular_factor`)

.. math::

    \min_{u\circledast w = z}\ \tfrac12\big(\|u\|_2^2 + \|w\|_2^2\big)
        = \frac{\|\mathsf Fz\|_1}{\sqrt d} =: R(z),

so the two circular layers act as one linear layer :math:`z_j` penalised by the spectral
:math:`\ell_1` norm :math:`R`: the convex program of :mod:`copos.relaxations.conv`.  (An output
weight :math:`a_j` is absorbed by positive homogeneity: :math:`a(Xz)_+ = \mathrm{sign}(a)(X|a|z)_+`.)

**2-D signals.**  Every function takes the signal ``shape`` (default ``(d,)``, a 1-D signal): a
row of :math:`X` is an image of shape :math:`(h, w)` flattened in C order, the convolution is the
2-D circular one, :math:`\mathsf F` the unitary 2-D DFT, and all formulas above hold with
:math:`d = hw` (the convolution theorem and the per-frequency AM-GM do not care about the
dimension).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos._validation import as_finite_array
from copos.errors import InvalidInputError
from copos.nets.problem import TrainingProblem

FloatArray = NDArray[np.float64]


Shape = tuple[int, ...]


def signal_shape(d: int, shape: Shape | None) -> Shape:
    """``shape`` checked against ``d = prod(shape)`` (``None``: the 1-D signal ``(d,)``)."""
    if shape is None:
        return (d,)
    checked = tuple(int(side) for side in shape)
    if not checked or min(checked) < 1 or math.prod(checked) != d:
        raise InvalidInputError(
            f"signal shape {shape!r} must have positive sides whose product is d = {d}"
        )
    return checked


def _as_signals(z: FloatArray, shape: Shape | None) -> tuple[FloatArray, tuple[int, ...]]:
    """Columns of ``z`` (``(d,)`` or ``(d, m)``) as an array of signals ``shape + (m,)`` and the
    FFT axes."""
    full = signal_shape(z.shape[0], shape)
    return z.reshape(full + z.shape[1:]), tuple(range(len(full)))


def circular_convolution(u: ArrayLike, w: ArrayLike, shape: Shape | None = None) -> FloatArray:
    r""":math:`(u\circledast w)_t = \sum_\tau u_\tau w_{(t-\tau) \bmod \text{shape}}` per column
    (columns are flattened signals of ``shape``; 1-D by default)."""
    u_arr, w_arr = np.asarray(u, dtype=np.float64), np.asarray(w, dtype=np.float64)
    U, axes = _as_signals(u_arr, shape)
    W, _ = _as_signals(w_arr, shape)
    product = np.fft.fftn(U, axes=axes) * np.fft.fftn(W, axes=axes)
    return np.real(np.fft.ifftn(product, axes=axes)).reshape(u_arr.shape)


def spectral_norm(z: ArrayLike, shape: Shape | None = None) -> FloatArray:
    r""":math:`R(z) = \|\mathsf Fz\|_1/\sqrt d` per column (unitary DFT of ``shape``): half the
    least :math:`\|u\|^2 + \|w\|^2` over :math:`u \circledast w = z`."""
    z_arr = np.asarray(z, dtype=np.float64)
    Z, axes = _as_signals(z_arr, shape)
    spectrum = np.abs(np.fft.fftn(Z, axes=axes, norm="ortho"))
    return np.sum(spectrum, axis=axes) / np.sqrt(z_arr.shape[0])


def _mirror(array: NDArray[Any]) -> NDArray[Any]:
    """``array[-k mod shape]`` for every multi-index ``k`` (the Hermitian partner's entry)."""
    axes = tuple(range(array.ndim))
    return np.roll(np.flip(array, axis=axes), 1, axis=axes)


def circular_factor(z: ArrayLike, shape: Shape | None = None) -> tuple[FloatArray, FloatArray]:
    r"""Real :math:`(u, w)` with :math:`u\circledast w = z` and :math:`\tfrac12(\|u\|^2 + \|w\|^2)
    = R(z)`: each Fourier coefficient split evenly, :math:`|\hat u_k| = |\hat w_k| =
    (|\hat z_k|/\sqrt d)^{1/2}`, phase halved; Hermitian symmetry kept (a frequency that is its
    own partner, :math:`k = -k`, has a real coefficient and carries its sign in :math:`\hat w`;
    of the other pairs the one earlier in C order is split and its partner conjugated), so both
    are real."""
    z_arr = as_finite_array(z, "z", ndim=1)
    full = signal_shape(z_arr.shape[0], shape)
    spectrum = np.fft.fftn(z_arr.reshape(full), norm="ortho")
    modulus = np.sqrt(np.abs(spectrum) / np.sqrt(z_arr.shape[0]))
    a = modulus * np.exp(0.5j * np.angle(spectrum))
    order = np.arange(spectrum.size).reshape(full)
    partner = _mirror(order)
    own = partner == order
    a[own] = modulus[own]
    b = a.copy()
    b[own] = modulus[own] * np.where(spectrum[own].real >= 0, 1.0, -1.0)
    later = partner < order
    a[later], b[later] = np.conj(_mirror(a)[later]), np.conj(_mirror(b)[later])
    u = np.real(np.fft.ifftn(a, norm="ortho")).reshape(-1)
    w = np.real(np.fft.ifftn(b, norm="ortho")).reshape(-1)
    return u, w


@dataclass(frozen=True, eq=False)
class CircularReLU:
    r""":math:`f(X) = \sum_j s_j(X(u_j\circledast w_j))_+`: ``U``, ``W`` ``(d, m)``, ``signs`` ``(m,)``;
    ``shape`` the signal shape of a row of :math:`X` (``None``: 1-D, ``(d,)``)."""

    U: FloatArray
    W: FloatArray
    signs: FloatArray
    shape: Shape | None = None

    def __post_init__(self) -> None:
        U = as_finite_array(self.U, "U", ndim=2)
        W = as_finite_array(self.W, "W", ndim=2)
        signs = as_finite_array(self.signs, "signs", ndim=1)
        if U.shape != W.shape or signs.shape != (U.shape[1],) or not np.all(np.abs(signs) == 1):
            raise InvalidInputError(
                f"U and W must be (d, m) and signs (m,) of +-1; got {U.shape}, {W.shape}, {signs.shape}"
            )
        for name, array in (("U", U), ("W", W), ("signs", signs)):
            object.__setattr__(self, name, array)
        object.__setattr__(self, "shape", signal_shape(U.shape[0], self.shape))

    @property
    def m(self) -> int:
        """Number of neurons."""
        return int(self.U.shape[1])

    @property
    def filters(self) -> FloatArray:
        r""":math:`z_j = u_j\circledast w_j` as columns, ``(d, m)``."""
        return circular_convolution(self.U, self.W, self.shape)

    def predict(self, X: ArrayLike) -> FloatArray:
        """``f(X)``, shape ``(n, 1)``."""
        X_arr = as_finite_array(X, "X", ndim=2)
        return (np.maximum(X_arr @ self.filters, 0.0) @ self.signs)[:, None]

    def objective(self, problem: TrainingProblem) -> float:
        r""":math:`\tfrac12\|f(X) - y\|^2 + \tfrac\beta2(\|U\|_F^2 + \|W\|_F^2)`."""
        check_circular_problem(problem, self.U.shape[0])
        R = self.predict(problem.X) - problem.Y
        return 0.5 * float(np.vdot(R, R)) + 0.5 * problem.beta * float(
            np.vdot(self.U, self.U) + np.vdot(self.W, self.W)
        )


def check_circular_problem(problem: TrainingProblem, d: int | None = None) -> None:
    """A scalar-output problem without bias column (the filters span the whole input)."""
    if not isinstance(problem, TrainingProblem):
        raise InvalidInputError(f"problem must be a TrainingProblem; got {type(problem).__name__}")
    if problem.c != 1 or problem.bias or problem.output_bias:
        raise InvalidInputError(
            "the circular model needs a scalar output (c = 1) and no bias column or output bias"
        )
    if d is not None and problem.d != d:
        raise InvalidInputError(f"the net has d = {d}; the problem has d = {problem.d}")


def circular_objective_and_gradient(
    U: FloatArray,
    W: FloatArray,
    signs: FloatArray,
    problem: TrainingProblem,
    shape: Shape | None = None,
) -> tuple[float, FloatArray, FloatArray]:
    r""":math:`F` and its gradient: with :math:`g_j = s_jX^\top(r\odot\mathbb 1[Xz_j > 0])`,
    :math:`\nabla_{u_j} = g_j \star w_j + \beta u_j`, :math:`\nabla_{w_j} = g_j \star u_j + \beta w_j`
    (:math:`\star` the circular correlation)."""
    Z = circular_convolution(U, W, shape)
    pre = problem.X @ Z
    r = np.maximum(pre, 0.0) @ signs - problem.Y[:, 0]
    value = 0.5 * float(r @ r) + 0.5 * problem.beta * float(np.vdot(U, U) + np.vdot(W, W))
    G = problem.X.T @ ((r[:, None] * (pre > 0)) * signs[None, :])
    grad_U = _correlation(G, W, shape)
    grad_W = _correlation(G, U, shape)
    return value, grad_U + problem.beta * U, grad_W + problem.beta * W


def _correlation(g: FloatArray, w: FloatArray, shape: Shape | None) -> FloatArray:
    r"""The circular correlation :math:`g \star w` per column: :math:`\mathsf F^{-1}(\hat g\,\bar{\hat w})`."""
    G, axes = _as_signals(g, shape)
    Wc, _ = _as_signals(w, shape)
    product = np.fft.fftn(G, axes=axes) * np.conj(np.fft.fftn(Wc, axes=axes))
    return np.real(np.fft.ifftn(product, axes=axes)).reshape(g.shape)
