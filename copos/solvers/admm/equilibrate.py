r"""Exact diagonal (and ``u``-block) equilibration of the lifted DNN relaxation.

For :math:`\Lambda \in \mathbb S^p` (blocks ``a, b, u, v``), a scale ``s > 0``, positive row
scales :math:`r \in \mathbb R^n_{>0}`, an invertible :math:`K \in \mathbb R^{d\times d}` and
``t > 0``, the change of variables

.. math::

    \Lambda = s\,D\Lambda'D^\top,\qquad D = \operatorname{blkdiag}(R, R, K, tI_c),\ R = \operatorname{diag}(r),

maps the program of :mod:`copos.solvers.admm.dnn` onto one of the same shape (``f = s^2t^2 f'``):

* the kernel :math:`\Lambda M^\top = 0`, :math:`M = [-I, I, X, 0]`, becomes
  :math:`\Lambda' M'^\top = 0` with :math:`X' = R^{-1}XK` (so the reduced variables satisfy
  :math:`S = s\,ES'E^\top`, :math:`E = \operatorname{blkdiag}(R, K, tI)`);
* the sign set :math:`\mathcal W` is unchanged (``R`` is a positive diagonal);
* the loss becomes :math:`\tfrac12\sum_i w_i\|\Lambda'_{a_iv} - Y'_i\|^2` with
  :math:`w_i = r_i^2`, :math:`Y'_i = Y_i/(s\,t\,r_i)`;
* the regularizer becomes :math:`\tfrac12\langle B_u, \Lambda'_{uu}\rangle + \tfrac{\beta'}2
  \operatorname{tr}\Lambda'_{vv}` with :math:`B_u = \beta K^\top K/(st^2)`, :math:`\beta' = \beta/s`.

The multipliers map back as :math:`Z = s\,t\,RZ'` and :math:`N = s\,t^2R_2^{-1}N'R_2^{-1}`
(:math:`R_2 = \operatorname{blkdiag}(R, R)`).  Since the certified bound is recomputed from
``(Z, N)`` in the original coordinates, no choice here can make it invalid: the scaling only
changes the metric in which the splitting measures distances (a fixed penalty per block).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
#: ``"rms"``: one scale (``X`` by its RMS row norm), ``"rows"``: each sample row to unit norm.
Kind = Literal["rms", "rows"]
KINDS: tuple[str, ...] = ("rms", "rows")
#: ``"rows"``: :math:`r_i = (\|x_i\|/\sigma)^{\text{ROW\_EXPONENT}}`.
ROW_EXPONENT = 1.0


@dataclass(frozen=True, eq=False)
class ScaledData:
    r"""Data of the equilibrated program: ``X'``, ``Y'``, ``beta'`` (``vv``), loss weights ``w`` and ``B_u``."""

    X: FloatArray
    Y: FloatArray
    beta: float
    loss_weight: FloatArray
    reg_u: FloatArray


@dataclass(frozen=True, eq=False)
class Equilibration:
    r""":math:`\Lambda = sD\Lambda'D^\top`, :math:`D = \operatorname{blkdiag}(R, R, K, tI)` (module docstring).

    ``spread`` is :math:`\|X'\|_2` over the RMS row norm of ``X'`` (it sets the default penalty).
    Everything depends on ``X`` and ``Y`` only, so a warm start across ``beta`` stays meaningful.
    """

    s: float
    t: float
    r: FloatArray
    K: FloatArray
    spread: float = 1.0

    @classmethod
    def of(cls, X: FloatArray, Y: FloatArray, kind: Kind = "rms") -> Equilibration:
        r"""``"rms"``: :math:`R = I`, :math:`K = tI = I/\sigma` with :math:`\sigma` the RMS row norm
        of ``X``; ``"rows"``: additionally :math:`r_i = \|x_i\|/\sigma`, so every row of ``X'``
        has unit norm.  ``s`` makes ``Y'`` of unit RMS."""
        norms = np.sqrt(np.sum(X**2, axis=1))
        sigma = float(np.sqrt(np.mean(norms**2))) or 1.0
        r = np.ones(X.shape[0])
        if kind == "rows":
            r = np.where(norms > 0, (norms / sigma) ** ROW_EXPONENT, 1.0)
        t = 1.0 / sigma
        K = np.eye(X.shape[1]) / sigma
        scaled_X = (X / r[:, None]) @ K
        rms_row = float(np.sqrt(np.mean(np.sum(scaled_X**2, axis=1)))) or 1.0
        spread = float(np.linalg.norm(scaled_X, 2)) / rms_row if X.size else 1.0
        s = float(np.sqrt(np.mean((Y / (t * r[:, None])) ** 2))) or 1.0
        return cls(s=s, t=t, r=r, K=K, spread=spread or 1.0)

    def data(self, X: FloatArray, Y: FloatArray, beta: float) -> ScaledData:
        """The equilibrated program's data."""
        r = self.r[:, None]
        return ScaledData(
            X=(X / r) @ self.K,
            Y=Y / (self.s * self.t * r),
            beta=beta / self.s,
            loss_weight=self.r**2,
            reg_u=beta * (self.K.T @ self.K) / (self.s * self.t**2),
        )

    def S(self, S_scaled: FloatArray, n: int) -> FloatArray:
        r"""Original reduced ``S = s E S' Eᵀ``, :math:`E = \operatorname{blkdiag}(R, K, tI)`."""
        d = self.K.shape[0]
        rows = S_scaled.copy()
        rows[:n] *= self.r[:, None]
        rows[n : n + d] = self.K @ S_scaled[n : n + d]
        rows[n + d :] *= self.t
        out = rows
        out[:, :n] *= self.r[None, :]
        out[:, n : n + d] = rows[:, n : n + d] @ self.K.T
        out[:, n + d :] *= self.t
        return self.s * out

    def Z(self, Z_scaled: FloatArray) -> FloatArray:
        """Original ``Z = Y - S_av``: ``s t R Z'``."""
        return self.s * self.t * self.r[:, None] * Z_scaled

    def N(self, N_scaled: FloatArray) -> FloatArray:
        r"""Original multiplier of the sign constraints: :math:`st^2R_2^{-1}N'R_2^{-1}`."""
        inv = 1.0 / np.concatenate([self.r, self.r])
        return self.s * self.t**2 * (inv[:, None] * N_scaled * inv[None, :])
