r"""Linear algebra of the lifted DNN projection: the structured Cholesky factor of
:math:`T^\top T` and the projection onto :math:`\mathbb S^q_+` with a warm-started partial
eigendecomposition.

Structured factor
-----------------
For :math:`T^\top T = \begin{bmatrix} 2I_n & -X & 0\\ -X^\top & I + X^\top X & 0\\ 0 & 0 & I_c
\end{bmatrix}` the upper Cholesky factor is

.. math::

    R = \begin{bmatrix} \sqrt2\,I & -X/\sqrt2 & 0\\ 0 & R_u & 0\\ 0 & 0 & I\end{bmatrix},
    \qquad R_u^\top R_u = I + \tfrac12X^\top X,

so a solve with ``R`` or :math:`R^\top` on ``k`` right-hand sides costs :math:`O(ndk)`
instead of :math:`O(q^2k)`.

Partial eigendecomposition
--------------------------
:math:`\Pi_{\mathbb S_+}(M) = \sum_{\lambda_i > 0}\lambda_iv_iv_i^\top`.  When the previous
projection had ``r`` positive eigenvalues with ``r`` small against ``q``, the ``r + guard``
largest eigenpairs are computed by LOBPCG started from the previous eigenvectors (plus random
guard vectors).  The result is accepted only if

* every returned pair with a positive Ritz value has residual :math:`\|Mv - \lambda v\| \le
  \epsilon\|M\|_F` (a bound on the error of the Ritz value and, with the gap, of the vector; the
  guard vectors sit in the dense non-positive spectrum and need not converge), and
* the smallest returned Ritz value is :math:`\le 0`, so the block reached the non-positive
  spectrum and, if LOBPCG found the top of the spectrum, no positive eigenvalue was left out;

otherwise the LAPACK decomposition is used (and LOBPCG is not tried again for 1, 2, 4, ...,
``BACKOFF_MAX`` calls after consecutive failures).  The second check is cheap, not a proof: a
positive eigenvector the block never approached would be missed.  An inexact projection can
only slow the splitting, never invalidate its certified bound (recomputed from the dual
point); the solver keeps LOBPCG off by default (:data:`copos.solvers.admm.dnn._LOBPCG`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.linalg
import scipy.sparse.linalg
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: LAPACK ``syevr`` on the positive interval when the last rank was below ``q`` / this.
PARTIAL_LAPACK_BELOW = 3
#: LOBPCG when the last rank was below ``q`` / this and ``q`` at least ``LOBPCG_FROM``.
LOBPCG_BELOW = 8
LOBPCG_FROM = 400
#: Extra (guard) vectors beyond the last rank: at least this many, and this fraction of it.
GUARD_MIN, GUARD_FRACTION = 6, 0.25
#: Accept LOBPCG's pairs when every residual is at most this times ``‖M‖_F``.
RESIDUAL_TOL = 1e-8
LOBPCG_MAXITER = 20
#: After consecutive fallbacks, LAPACK for 1, 2, 4, ... up to this many calls before trying again.
BACKOFF_MAX = 64
#: LOBPCG only for a block of size ``k`` with ``k`` times this below ``q`` (it iterates on 3k vectors).
BLOCK_RATIO = 3


class StructuredFactor:
    r"""Solves with the upper Cholesky factor ``R`` of :math:`T^\top T` (module docstring)."""

    def __init__(self, X: FloatArray, c: int) -> None:
        self.X = X
        self.n, self.d = X.shape
        self.c = c
        self.q = self.n + self.d + c
        self.R_u = scipy.linalg.cholesky(
            np.eye(self.d) + 0.5 * (X.T @ X), lower=False, check_finite=False
        )

    def dense(self) -> FloatArray:
        """``R`` as a q×q array (for tests)."""
        n, d, s = self.n, self.d, math.sqrt(2.0)
        R = np.eye(self.q)
        R[:n, :n] *= s
        R[:n, n : n + d] = -self.X / s
        R[n : n + d, n : n + d] = self.R_u
        return R

    def solve(self, B: FloatArray) -> FloatArray:
        """``R⁻¹B`` (a new array; ``B`` has ``q`` rows)."""
        n, d, s = self.n, self.d, math.sqrt(2.0)
        out = np.empty_like(B)
        y_u = scipy.linalg.solve_triangular(self.R_u, B[n : n + d], check_finite=False)
        out[n : n + d] = y_u
        out[:n] = (B[:n] + self.X @ y_u / s) / s
        out[n + d :] = B[n + d :]
        return out

    def solve_transposed(self, B: FloatArray) -> FloatArray:
        """``R⁻ᵀB`` (a new array; ``B`` has ``q`` rows)."""
        n, d, s = self.n, self.d, math.sqrt(2.0)
        out = np.empty_like(B)
        out[:n] = B[:n] / s
        rhs = B[n : n + d] + self.X.T @ out[:n] / s
        out[n : n + d] = scipy.linalg.solve_triangular(self.R_u, rhs, trans="T", check_finite=False)
        out[n + d :] = B[n + d :]
        return out

    def congruence(self, K: FloatArray) -> FloatArray:
        """``R⁻ᵀKR⁻¹`` for a symmetric q×q ``K``."""
        half = self.solve_transposed(K)
        return self.solve_transposed(half.T)


class PsdProjector:
    r"""``F`` with :math:`FF^\top = \Pi_{\mathbb S_+}(M)`, remembering the last positive
    eigenvectors to warm-start the next call (module docstring)."""

    def __init__(self, q: int, *, lobpcg: bool = True, seed: int = 0) -> None:
        self.q = q
        self.lobpcg = lobpcg
        self.rank = q
        self.basis: FloatArray | None = None
        self.rng = np.random.default_rng(seed)
        self.counts = {"lobpcg": 0, "evr": 0, "evd": 0, "fallback": 0}
        self.backoff = self.skip = 0  # after a fallback, LAPACK for `skip` more calls

    def __call__(self, M: FloatArray) -> FloatArray:
        sym = 0.5 * (M + M.T)
        factor = None
        if self._lobpcg_applies():
            factor = self._lobpcg(sym)
            if factor is None:
                self.counts["fallback"] += 1
                self.backoff = min(2 * self.backoff, BACKOFF_MAX) if self.backoff else 1
                self.skip = self.backoff
            else:
                self.backoff = 0
        elif self.skip:
            self.skip -= 1
        if factor is None:
            factor = self._lapack(sym)
        self.rank = factor.shape[1]
        return factor

    def _lobpcg_applies(self) -> bool:
        return (
            self.lobpcg
            and self.basis is not None
            and self.q >= LOBPCG_FROM
            and self.rank * LOBPCG_BELOW < self.q
            and not self.skip
        )

    def _lapack(self, sym: FloatArray) -> FloatArray:
        if self.rank * PARTIAL_LAPACK_BELOW < self.q:
            self.counts["evr"] += 1
            w, V = scipy.linalg.eigh(
                sym, driver="evr", subset_by_value=(0.0, np.inf), check_finite=False
            )
        else:
            self.counts["evd"] += 1
            w, V = scipy.linalg.eigh(sym, driver="evd", check_finite=False)
            keep = w > 0
            w, V = w[keep], V[:, keep]
        self._remember(V)
        return V * np.sqrt(np.maximum(w, 0.0))

    def _remember(self, V: FloatArray) -> None:
        self.basis = V.copy() if V.shape[1] else None

    def _lobpcg(self, sym: FloatArray) -> FloatArray | None:
        """The positive part by LOBPCG from the last basis, or ``None`` when unverified."""
        assert self.basis is not None
        r = self.basis.shape[1]
        k = r + max(GUARD_MIN, int(GUARD_FRACTION * r))
        if BLOCK_RATIO * k >= self.q:
            return None
        start = np.empty((self.q, k))
        start[:, :r] = self.basis
        start[:, r:] = self.rng.standard_normal((self.q, k - r))
        scale = float(np.linalg.norm(sym))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                w, V = scipy.sparse.linalg.lobpcg(
                    sym,
                    start,
                    largest=True,
                    tol=RESIDUAL_TOL * scale,
                    maxiter=LOBPCG_MAXITER,
                )
        except (np.linalg.LinAlgError, ValueError):
            return None
        return self._verified(sym, w, V, scale)

    def _verified(
        self, sym: FloatArray, w: FloatArray, V: FloatArray, scale: float
    ) -> FloatArray | None:
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(V))):
            return None
        keep = w > 0
        if keep.all():  # no computed eigenvalue <= 0: positive ones may be missing
            return None
        residual = np.linalg.norm(sym @ V[:, keep] - V[:, keep] * w[keep], axis=0)
        if residual.size and float(residual.max()) > RESIDUAL_TOL * max(scale, 1e-300):
            return None
        self.counts["lobpcg"] += 1
        self._remember(V[:, keep])
        return V[:, keep] * np.sqrt(w[keep])
