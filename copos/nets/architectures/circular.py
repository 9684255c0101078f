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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos._validation import as_finite_array
from copos.errors import InvalidInputError
from copos.nets.problem import TrainingProblem

FloatArray = NDArray[np.float64]


def circular_convolution(u: ArrayLike, w: ArrayLike) -> FloatArray:
    r""":math:`(u\circledast w)_t = \sum_\tau u_\tau w_{(t-\tau) \bmod d}` along axis 0 (columns)."""
    return np.real(np.fft.ifft(np.fft.fft(u, axis=0) * np.fft.fft(w, axis=0), axis=0))


def spectral_norm(z: ArrayLike) -> FloatArray:
    r""":math:`R(z) = \|\mathsf Fz\|_1/\sqrt d` per column (unitary DFT): half the least
    :math:`\|u\|^2 + \|w\|^2` over :math:`u \circledast w = z`."""
    z_arr = np.asarray(z, dtype=np.float64)
    return np.sum(np.abs(np.fft.fft(z_arr, axis=0, norm="ortho")), axis=0) / np.sqrt(z_arr.shape[0])


def circular_factor(z: ArrayLike) -> tuple[FloatArray, FloatArray]:
    r"""Real :math:`(u, w)` with :math:`u\circledast w = z` and :math:`\tfrac12(\|u\|^2 + \|w\|^2)
    = R(z)`: each Fourier coefficient split evenly, :math:`|\hat u_l| = |\hat w_l| =
    (|\hat z_l|/\sqrt d)^{1/2}`, phase halved; Hermitian symmetry kept (the real bins
    :math:`l = 0, d/2` carry the sign in :math:`\hat w`), so both are real."""
    z_arr = as_finite_array(z, "z", ndim=1)
    d = z_arr.shape[0]
    spectrum = np.fft.fft(z_arr, norm="ortho")
    modulus = np.sqrt(np.abs(spectrum) / np.sqrt(d))
    half = np.exp(0.5j * np.angle(spectrum))
    a, b = modulus * half, modulus * half
    for l in {0, d // 2} if d % 2 == 0 else {0}:
        a[l] = modulus[l]
        b[l] = modulus[l] * (1.0 if spectrum[l].real >= 0 else -1.0)
    for l in range(1, (d + 1) // 2):
        a[d - l], b[d - l] = np.conj(a[l]), np.conj(b[l])
    u = np.real(np.fft.ifft(a, norm="ortho"))
    w = np.real(np.fft.ifft(b, norm="ortho"))
    return u, w


@dataclass(frozen=True, eq=False)
class CircularReLU:
    r""":math:`f(X) = \sum_j s_j(X(u_j\circledast w_j))_+`: ``U``, ``W`` ``(d, m)``, ``signs`` ``(m,)``."""

    U: FloatArray
    W: FloatArray
    signs: FloatArray

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

    @property
    def m(self) -> int:
        """Number of neurons."""
        return int(self.U.shape[1])

    @property
    def filters(self) -> FloatArray:
        r""":math:`z_j = u_j\circledast w_j` as columns, ``(d, m)``."""
        return circular_convolution(self.U, self.W)

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
    U: FloatArray, W: FloatArray, signs: FloatArray, problem: TrainingProblem
) -> tuple[float, FloatArray, FloatArray]:
    r""":math:`F` and its gradient: with :math:`g_j = s_jX^\top(r\odot\mathbb 1[Xz_j > 0])`,
    :math:`\nabla_{u_j} = g_j \star w_j + \beta u_j`, :math:`\nabla_{w_j} = g_j \star u_j + \beta w_j`
    (:math:`\star` the circular correlation)."""
    Z = circular_convolution(U, W)
    pre = problem.X @ Z
    r = np.maximum(pre, 0.0) @ signs - problem.Y[:, 0]
    value = 0.5 * float(r @ r) + 0.5 * problem.beta * float(np.vdot(U, U) + np.vdot(W, W))
    G = problem.X.T @ ((r[:, None] * (pre > 0)) * signs[None, :])
    G_hat = np.fft.fft(G, axis=0)
    grad_U = np.real(np.fft.ifft(G_hat * np.conj(np.fft.fft(W, axis=0)), axis=0))
    grad_W = np.real(np.fft.ifft(G_hat * np.conj(np.fft.fft(U, axis=0)), axis=0))
    return value, grad_U + problem.beta * U, grad_W + problem.beta * W
