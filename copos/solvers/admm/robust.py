r"""ADMM for Bai et al.'s robust convex program (squared or hinge loss), with the extra splitting
for the :math:`\ell_1` terms.

Program (patterns :math:`D_i`, :math:`E_i = 2D_i - I`, per-coordinate radius :math:`r \ge 0`,
:math:`R = \operatorname{diag}(r)`, :math:`z_k = \sum_i d_{ik}(v_i - w_i)`):

.. math::

    \min_{v_i, w_i}\ \sum_{k=1}^n \ell\big(x_k^\top z_k,\ \|Rz_k\|_1;\ y_k\big)
        + \beta\sum_i\big(\|v_i\|_2 + \|w_i\|_2\big)
    \quad\text{s.t.}\quad E_iXb \ge \|Rb\|_1\mathbf 1\ \ (b = v_i, w_i),

with :math:`\ell(p, s; y) = \tfrac12(|p - y| + s)^2` (squared) or :math:`(1 - yp + s)_+`
(hinge): the program of :func:`copos.relaxations.robust.solve_robust_program`, here from
operators.  At :math:`r = 0` it is the program of :mod:`copos.solvers.admm.arrangement`.

Splitting
---------
The :math:`2P` blocks :math:`u` (``(d, 2P)``, the arrangement ADMM's layout) meet three
linear images, each handed to a simple function:

* :math:`A_1u = u`, with :math:`g_1 = \beta\|\cdot\|_{2,1}` (block soft-thresholding);
* :math:`A_2u = (E_bXu_b,\ u_{b,\text{free}})_b` with :math:`g_2` the indicator of
  :math:`C_r = \{(s, t) : s \ge \|Rt\|_1\mathbf 1\}` per block (the robust cone: the
  :math:`\ell_1` term gets its own copy :math:`t` of the free coordinates; the projection onto
  :math:`C_r` is a monotone scalar equation in the level :math:`\tau = \|Rt\|_1`,
  :func:`project_l1_cone`);
* :math:`A_3u = (x_k^\top z_k,\ z_{k,\text{free}})_k` with :math:`g_3 = \sum_k\ell(p_k,
  \|Rq_k\|_1; y_k)` (one row at a time: the prox of a squared weighted :math:`\ell_1` norm for
  the squared loss, a scalar equation for the hinge, :func:`prox_loss`).

The copies carry the coordinates themselves and the radius sits in the sets: with the images
:math:`Ru` instead (the first version), the copies' penalty is :math:`\rho r^2`, about
:math:`10^{-4}\rho` after the rescaling, and the iteration crawled.

ADMM on :math:`\min\sum_j g_j(y_j)` s.t. :math:`A_ju = y_j` with penalties :math:`\rho c_j`
(:math:`c = (1, \sigma, 1)`): the :math:`u`-step solves :math:`(\sum_jc_jA_j^\top A_j)u = b`,
whose matrix does not depend on :math:`\rho`.  With :math:`A_1, A_2` it is block diagonal,
:math:`B = I_{2P}\otimes(I + \sigma(X^\top X + I_{\text{free}}))`; :math:`A_3 = K\Phi`
(:math:`\Phi u = Z`, :math:`K_k = [x_k^\top; I_{\text{free}}]`) adds a term of rank
:math:`n(1 + f)` (:math:`f` free coordinates), and Woodbury reduces the solve to the SPD core

.. math:: I + 2\,\big[(DD^\top)_{kl}\,K_kMK_l^\top\big]_{kl},\qquad
    M = (I + \sigma(X^\top X + I_{\text{free}}))^{-1},

of order :math:`n(1 + f)`, inverted once (the arrangement ADMM's core is its :math:`f = 0` case).
Since :math:`A_3` sees only :math:`v_i - w_i`, the sums :math:`v_i + w_i` solve with :math:`M`
alone, and when :math:`Pd < n(1 + f)` (few patterns) the differences solve with the order-:math:`Pd`
matrix :math:`I_P\otimes M^{-1} + 2[\sum_kd_{ik}d_{jk}(x_kx_k^\top + I_{\text{free}})]_{ij}` instead.

Certificate
-----------
The Fenchel dual is :math:`\max -\sum_jg_j^*(\mu_j)` s.t. :math:`\sum_jA_j^\top\mu_j = 0`.
From the iterate, :math:`\mu_3 = \rho\lambda_3 \in \partial g_3`, :math:`\mu_2 = \rho\sigma\lambda_2`
clipped into the polar cone :math:`C_r^\circ = \{(\varsigma, \kappa): \varsigma \le 0,
|\kappa_j| \le -r_j\mathbf 1^\top\varsigma\}` (:math:`g_2^* = 0` there), and
:math:`\mu_1 = -(A_2^\top\mu_2 + A_3^\top\mu_3)`; scaling all three by the best
:math:`\theta \ge 0` with :math:`\|\theta\mu_{1,b}\| \le \beta` gives a feasible dual point, so
a lower bound on the program's optimum at any accuracy, with
:math:`g_3^*(\pi, \kappa) = \sum_k \pi_ky_k + \tfrac12\max(|\pi_k|, \|R^{-1}\kappa_k\|_\infty)^2`
(squared) and :math:`-\sum_k\alpha_k` for :math:`\pi_k = -y_k\alpha_k`, :math:`0 \le \alpha_k \le 1`,
:math:`|\kappa_{kj}| \le r_j\alpha_k` (hinge).  Status ``"optimal"`` means the relative
primal and dual residuals and the relative gap between the value at the blocks and this bound
are all within ``tol``, as in :mod:`copos.solvers.admm.arrangement`.  The blocks meet the robust
cones only up to ``cone_violation``; the caller's rigorous number is the recovered net's robust
objective, computed from the net alone.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

from copos._validation import check_dimension, check_positive
from copos.errors import InvalidInputError
from copos.solvers.admm.anderson import Anderson
from copos.solvers.admm.arrangement import (  # the same defaults as the arrangement ADMM
    DEFAULT_ANDERSON,
    DEFAULT_ANDERSON_EVERY,
    DEFAULT_CHECK_EVERY,
    _relative_gap,
    _shrink,
)
from copos.solvers.base import SolveInfo
from copos.solvers.registry import COPOS_ADMM

FloatArray = NDArray[np.float64]
RobustLoss = Literal["squared", "hinge"]
LOSSES: tuple[str, ...] = ("squared", "hinge")

DEFAULT_MAX_ITERS = 20_000
DEFAULT_SIGMA = 10.0
DEFAULT_RHO = 0.01
DEFAULT_RELAXATION = 1.6
#: Residual balancing: change ρ by 2 when one relative residual exceeds the other this much.
BALANCE_RATIO = 10.0
#: and at most once per this many iterations.
BALANCE_INTERVAL = 50


@dataclass(frozen=True, eq=False)
class RobustAdmmSolution:
    """What :func:`solve_robust_blocks` returns (original units).

    Attributes
    ----------
    value:
        Objective at the returned blocks (robust cones met up to ``cone_violation``).
    lower_bound:
        Dual-certificate lower bound on the program's optimum (any accuracy).
    solve:
        Status, residuals, recomputed gap and diagnostics in ``extra``.
    v_blocks, w_blocks:
        ``(P, d)`` blocks.
    cone_violation:
        :math:`\\max_{b,k}(\\|Rb\\|_1 - (E_bXb)_k)_+ / \\max_b\\|Xb\\|_\\infty`.
    """

    value: float
    lower_bound: float
    solve: SolveInfo
    v_blocks: FloatArray
    w_blocks: FloatArray
    cone_violation: float


# ---------------------------------------------------------------------------- proxes
def _by_ratio(values: FloatArray, r: FloatArray, axis: int) -> tuple[FloatArray, ...]:
    r"""For the weighted :math:`\ell_1` norm :math:`\sum_jr_j|v_j|`: the ratios :math:`|v_j|/r_j`
    sorted descending along ``axis``, and the cumulative :math:`\sum r_j|v_j|`, :math:`\sum r_j^2`
    in that order."""
    shape = [1, 1]
    shape[axis] = -1
    weights = r.reshape(shape)
    ratios = np.abs(values) / weights
    order = np.argsort(-ratios, axis=axis)
    sorted_ratios = np.take_along_axis(ratios, order, axis=axis)
    w_sorted = np.take_along_axis(np.broadcast_to(weights, values.shape), order, axis=axis)
    return (
        sorted_ratios,
        np.cumsum(w_sorted * w_sorted * sorted_ratios, axis=axis),
        np.cumsum(w_sorted * w_sorted, axis=axis),
    )


def _soft(values: FloatArray, thresholds: FloatArray) -> FloatArray:
    return np.sign(values) * np.maximum(np.abs(values) - thresholds, 0.0)


def project_l1_cone(
    s0: FloatArray, t0: FloatArray, r: FloatArray | None = None
) -> tuple[FloatArray, FloatArray]:
    r"""Column-wise projection onto :math:`C_r = \{(s, t) : s \ge \|Rt\|_1\mathbf 1\}`
    (:math:`R = \operatorname{diag}(r)`, :math:`r > 0`, default ones).

    For a level :math:`\tau`, the nearest point is :math:`s = \max(s_0, \tau)` and :math:`t` the
    projection of :math:`t_0` onto :math:`\{\|Rt\|_1 \le \tau\}`, :math:`t =
    \operatorname{soft}(t_0, \vartheta r)`; the best level solves the increasing,
    piecewise-linear equation :math:`\phi(\tau) = \sum_k(\tau - s_{0k})_+ - \vartheta(\tau) = 0`,
    :math:`\tau \ge 0` (:math:`-\vartheta` is the derivative of half the squared distance to the
    ball).  Its breakpoints are the :math:`s_{0k}` and the levels where the threshold's support
    changes; a binary search over them finds the piece, on which the root is exact.  Only
    columns outside :math:`C_r` are touched.  ``s0`` is ``(n, B)``, ``t0`` ``(f, B)``.
    """
    r = np.ones(t0.shape[0]) if r is None else r
    s, t = s0.copy(), t0.copy()
    outside = np.flatnonzero(s0.min(axis=0) < r @ np.abs(t0))
    if outside.size:
        s[:, outside], t[:, outside] = _project_outside(s0[:, outside], t0[:, outside], r)
    return s, t


def _project_outside(
    s0: FloatArray, t0: FloatArray, r: FloatArray
) -> tuple[FloatArray, FloatArray]:
    f, B = t0.shape
    columns = np.arange(B)
    if f:
        ratios, mass, weight = _by_ratio(t0, r, axis=0)  # (f, B) each
        total = mass[-1]
    else:
        total = np.zeros(B)

    def threshold(tau: FloatArray) -> FloatArray:
        """ϑ(τ): on the support J of the largest ratios, ϑ = (Σ_J r|t0| - τ) / Σ_J r²."""
        if f == 0:
            return np.zeros(B)
        support = np.maximum((ratios * weight >= mass - tau).sum(axis=0), 1)
        level = (mass[support - 1, columns] - tau) / weight[support - 1, columns]
        return np.where(tau >= total, 0.0, np.maximum(level, 0.0))

    def phi(tau: FloatArray) -> FloatArray:
        return np.where(s0 < tau, tau - s0, 0.0).sum(axis=0) - threshold(tau)

    # breakpoints: 0, the s0, the support changes Σ_J r|t0| - ratio_{J+1} Σ_J r², and ||Rt0||_1
    changes = mass[:-1] - ratios[1:] * weight[:-1] if f > 1 else np.empty((0, B))
    candidates = np.sort(
        np.maximum(np.vstack([np.zeros((1, B)), s0, changes, total[None, :]]), 0.0), axis=0
    )
    low = np.zeros(B, dtype=int)  # phi(candidates[low]) < 0 <= phi(candidates[high])
    high = np.full(B, candidates.shape[0] - 1)
    at_zero = phi(np.zeros(B)) >= 0.0
    while np.any(high - low > 1):
        middle = (low + high) // 2
        up = phi(candidates[middle, columns]) >= 0.0
        high = np.where(up, middle, high)
        low = np.where(up, low, middle)
    left, right = candidates[low, columns], candidates[high, columns]
    # on the piece: active·τ - lifted = (Σ_J r|t0| - τ)/Σ_J r²  (no threshold: active·τ = lifted)
    middle_tau = 0.5 * (left + right)
    below = s0 < middle_tau
    active = below.sum(axis=0).astype(np.float64)
    lifted = np.where(below, s0, 0.0).sum(axis=0)
    if f:
        support = np.maximum((ratios * weight >= mass - middle_tau).sum(axis=0), 1)
        part, norm = mass[support - 1, columns], weight[support - 1, columns]
        thresholded = middle_tau < total
    else:
        part, norm, thresholded = np.zeros(B), np.ones(B), np.zeros(B, dtype=bool)
    exact = np.where(
        thresholded,
        (lifted + part / norm) / (active + 1.0 / norm),
        lifted / np.maximum(active, 1.0),
    )
    tau = np.where(at_zero, 0.0, np.clip(exact, left, right))
    s = np.maximum(s0, tau[None, :])
    if f == 0:
        return s, t0.copy()
    theta = np.where(at_zero, np.inf, threshold(tau))
    return s, _soft(t0, theta[None, :] * r[:, None])


def _l1_squared_prox(w0: FloatArray, d: FloatArray, gamma: float) -> FloatArray:
    r"""Row-wise :math:`\arg\min_w \tfrac\gamma2\big(\sum_id_i|w_i|\big)^2 + \tfrac12\|w - w_0\|^2`:
    :math:`w = \operatorname{soft}(w_0, \gamma Sd)` with :math:`S = \sum_id_i|w_i| =
    A_J/(1 + \gamma W_J)` on the support :math:`J` of the largest ratios :math:`|w_{0i}|/d_i`
    (:math:`A_J = \sum_J d_i|w_{0i}|`, :math:`W_J = \sum_J d_i^2`)."""
    ratios, mass, weight = _by_ratio(w0, d, axis=1)
    sums = mass / (1.0 + gamma * weight)
    support = np.maximum((ratios > gamma * sums).sum(axis=1), 1)
    S = np.take_along_axis(sums, (support - 1)[:, None], axis=1)
    return _soft(w0, gamma * S * d[None, :])


def _hinge_step(
    p0: FloatArray, q0: FloatArray, y: FloatArray, r: FloatArray, gamma: float
) -> FloatArray:
    r"""The step :math:`\theta_k \in [0, \gamma]` of the hinge prox: :math:`p = p_0 + \theta y`,
    :math:`q = \operatorname{soft}(q_0, \theta r)`, with :math:`\theta` the root of the decreasing
    :math:`\psi(\theta) = 1 - yp_0 - \theta + \|R\operatorname{soft}(q_0, \theta r)\|_1`, clipped."""
    c = 1.0 - y * p0
    rows = q0.shape[0]
    if q0.shape[1] == 0:
        return np.clip(c, 0.0, gamma)
    ratios, mass, weight = _by_ratio(q0, r, axis=1)
    zeros = np.zeros((rows, 1))
    roots = (c[:, None] + np.hstack([zeros, mass])) / (1.0 + np.hstack([zeros, weight]))
    upper = np.hstack([np.full((rows, 1), np.inf), ratios])
    lower = np.hstack([ratios, zeros])
    valid = (roots <= upper) & (roots >= lower)
    root = np.take_along_axis(roots, np.argmax(valid, axis=1)[:, None], axis=1)[:, 0]
    return np.clip(root, 0.0, gamma)


def prox_loss(
    loss: str,
    p0: FloatArray,
    q0: FloatArray,
    y: FloatArray,
    gamma: float,
    r: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    r"""Row-wise prox of :math:`\gamma\,\ell(p, \|Rq\|_1; y)` at :math:`(p_0, q_0)` (``r``:
    default ones)."""
    r = np.ones(q0.shape[1]) if r is None else r
    if loss == "squared":
        w = _l1_squared_prox(np.hstack([(p0 - y)[:, None], q0]), np.concatenate([[1.0], r]), gamma)
        return y + w[:, 0], w[:, 1:]
    theta = _hinge_step(p0, q0, y, r, gamma)
    return p0 + theta * y, _soft(q0, theta[:, None] * r[None, :])


def loss_value(loss: str, p: FloatArray, spread: FloatArray, y: FloatArray) -> float:
    """:math:`\\sum_k\\ell(p_k, s_k; y_k)`."""
    if loss == "squared":
        return 0.5 * float(np.sum((np.abs(p - y) + spread) ** 2))
    return float(np.sum(np.maximum(1.0 - y * p + spread, 0.0)))


# ---------------------------------------------------------------------------- operators
class _RobustOperators:
    """The three images, their adjoints and the Woodbury solve of the ``u``-step."""

    def __init__(
        self, X: FloatArray, y: FloatArray, masks: FloatArray, radius: FloatArray, sigma: float
    ) -> None:
        self.X, self.y, self.D, self.sigma = X, y, masks, sigma
        self.n, self.d = X.shape
        self.P = masks.shape[1]
        self.E2 = np.hstack([2.0 * masks - 1.0] * 2)
        self.free = np.flatnonzero(radius > 0)
        self.r = radius[self.free]
        self.f = self.free.size
        Bd = np.eye(self.d) + sigma * (X.T @ X)
        Bd[self.free, self.free] += sigma
        self.Bd = Bd
        inverse = np.linalg.inv(Bd)
        self.M = 0.5 * (inverse + inverse.T)
        K = np.zeros((self.n, 1 + self.f, self.d))
        K[:, 0, :] = X
        K[:, 1 + np.arange(self.f), self.free] = 1.0
        self.K = K
        self.woodbury = self.n * (1 + self.f) < self.P * self.d
        self.inverse = _spd_inverse(self._woodbury_core() if self.woodbury else self._difference())

    def _woodbury_core(self) -> FloatArray:
        r""":math:`I + 2[(DD^\top)_{kl}K_kMK_l^\top]`, order :math:`n(1 + f)`."""
        core = 2.0 * np.einsum("kad,lbd->kalb", self.K @ self.M, self.K)
        core *= (self.D @ self.D.T)[:, None, :, None]
        size = self.n * (1 + self.f)
        core = core.reshape(size, size)
        core[np.diag_indices(size)] += 1.0
        return core

    def _difference(self) -> FloatArray:
        r""":math:`I_P\otimes M^{-1} + 2\,[\sum_kd_{ik}d_{jk}(x_kx_k^\top + R^2)]_{ij}`, order :math:`Pd`."""
        masked = (self.D[:, :, None] * self.X[:, None, :]).reshape(self.n, -1)
        matrix = 2.0 * (masked.T @ masked)
        r2 = np.zeros(self.d)
        r2[self.free] = 1.0
        overlap = 2.0 * (self.D.T @ self.D)
        blocks = matrix.reshape(self.P, self.d, self.P, self.d)
        blocks += overlap[:, None, :, None] * np.diag(r2)[None, :, None, :]
        blocks += np.eye(self.P)[:, None, :, None] * self.Bd[None, :, None, :]
        return blocks.reshape(self.P * self.d, self.P * self.d)

    def Z(self, blocks: FloatArray) -> FloatArray:
        """:math:`\\Phi u`: rows :math:`z_k = \\sum_i d_{ik}(v_i - w_i)`, ``(n, d)``."""
        return self.D @ (blocks[:, : self.P] - blocks[:, self.P :]).T

    def Phi_T(self, Z: FloatArray) -> FloatArray:
        half = Z.T @ self.D
        return np.hstack([half, -half])

    def loss_image(self, blocks: FloatArray) -> tuple[FloatArray, FloatArray]:
        """:math:`A_3u = (x_k^\\top z_k, Rz_k)_k`: ``(n,)`` and ``(n, f)``."""
        Z = self.Z(blocks)
        return np.einsum("kd,kd->k", self.X, Z), Z[:, self.free]

    def loss_adjoint(self, p: FloatArray, Q: FloatArray) -> FloatArray:
        Z = p[:, None] * self.X
        Z[:, self.free] += Q
        return self.Phi_T(Z)

    def cone_image(self, blocks: FloatArray) -> tuple[FloatArray, FloatArray]:
        """:math:`A_2u = (E_bXu_b, Ru_b)_b`: ``(n, 2P)`` and ``(f, 2P)``."""
        return self.E2 * (self.X @ blocks), blocks[self.free]

    def cone_adjoint(self, S: FloatArray, T: FloatArray) -> FloatArray:
        out = self.X.T @ (self.E2 * S)
        out[self.free] += T
        return out

    def solve_u(self, rhs: FloatArray) -> FloatArray:
        r""":math:`(I + \sigma A_2^\top A_2 + A_3^\top A_3)^{-1}` rhs.  :math:`A_3` sees only
        :math:`\delta = v - w`: the sum :math:`v + w` solves with :math:`M`, the difference with
        the order-:math:`Pd` matrix of :meth:`_difference` or, when :math:`n(1 + f) < Pd`, by
        Woodbury with the order-:math:`n(1 + f)` core."""
        P = self.P
        total = self.M @ (rhs[:, :P] + rhs[:, P:])
        b = rhs[:, :P] - rhs[:, P:]
        if self.woodbury:
            c = self.M @ b
            J = np.einsum("kad,kd->ka", self.K, self.D @ c.T).reshape(-1)
            back = (self.inverse @ J).reshape(self.n, 1 + self.f)
            delta = c - 2.0 * (self.M @ (np.einsum("kad,ka->kd", self.K, back).T @ self.D))
        else:
            delta = (self.inverse @ b.T.reshape(-1)).reshape(P, self.d).T
        return np.hstack([0.5 * (total + delta), 0.5 * (total - delta)])


def _spd_inverse(matrix: FloatArray) -> FloatArray:
    """The inverse of an SPD matrix from its Cholesky factor, symmetrized."""
    chol = scipy.linalg.cho_factor(matrix, lower=True, overwrite_a=True, check_finite=False)
    inverse = scipy.linalg.cho_solve(chol, np.eye(matrix.shape[0]), check_finite=False)
    return 0.5 * (inverse + inverse.T)


# ---------------------------------------------------------------------------- the iteration
class _Iterate:
    """Scaled ADMM state: images ``y_j`` and scaled multipliers ``λ_j`` of the three blocks."""

    def __init__(self, ops: _RobustOperators, loss: str, beta: float, rho: float) -> None:
        self.ops, self.loss, self.beta, self.rho = ops, loss, beta, rho
        n, d, B, f = ops.n, ops.d, 2 * ops.P, ops.f
        self.y1, self.l1 = np.zeros((d, B)), np.zeros((d, B))
        self.S, self.T = np.zeros((n, B)), np.zeros((f, B))
        self.lS, self.lT = np.zeros((n, B)), np.zeros((f, B))
        self.p, self.Q = np.zeros(n), np.zeros((n, f))
        self.lp, self.lQ = np.zeros(n), np.zeros((n, f))
        self.u = np.zeros((d, B))

    def step(self, alpha: float) -> tuple[float, float]:
        """One over-relaxed ADMM step; returns the primal and dual residual (absolute)."""
        ops, sigma = self.ops, self.ops.sigma
        rhs = (
            self.y1
            - self.l1
            + sigma * ops.cone_adjoint(self.S - self.lS, self.T - self.lT)
            + ops.loss_adjoint(self.p - self.lp, self.Q - self.lQ)
        )
        self.u = ops.solve_u(rhs)
        a1 = self.u
        aS, aT = ops.cone_image(self.u)
        ap, aQ = ops.loss_image(self.u)
        primal = math.sqrt(
            _sq(a1 - self.y1)
            + sigma * (_sq(aS - self.S) + _sq(aT - self.T))
            + _sq(ap - self.p)
            + _sq(aQ - self.Q)
        )
        h1 = alpha * a1 + (1 - alpha) * self.y1
        hS, hT = alpha * aS + (1 - alpha) * self.S, alpha * aT + (1 - alpha) * self.T
        hp, hQ = alpha * ap + (1 - alpha) * self.p, alpha * aQ + (1 - alpha) * self.Q
        old = (self.y1, self.S, self.T, self.p, self.Q)
        self.y1 = _shrink(h1 + self.l1, self.beta / self.rho)
        self.S, self.T = project_l1_cone(hS + self.lS, hT + self.lT, ops.r)
        self.p, self.Q = prox_loss(
            self.loss, hp + self.lp, hQ + self.lQ, ops.y, 1.0 / self.rho, ops.r
        )
        self.l1 += h1 - self.y1
        self.lS += hS - self.S
        self.lT += hT - self.T
        self.lp += hp - self.p
        self.lQ += hQ - self.Q
        change = (
            (self.y1 - old[0])
            + sigma * ops.cone_adjoint(self.S - old[1], self.T - old[2])
            + ops.loss_adjoint(self.p - old[3], self.Q - old[4])
        )
        return primal, self.rho * float(np.linalg.norm(change))

    def parts(self) -> tuple[FloatArray, ...]:
        """The state: images and scaled multipliers (``u`` is a function of them)."""
        return (
            self.y1,
            self.S,
            self.T,
            self.p,
            self.Q,
            self.l1,
            self.lS,
            self.lT,
            self.lp,
            self.lQ,
        )

    def pack(self) -> FloatArray:
        return np.concatenate([part.reshape(-1) for part in self.parts()])

    def unpack(self, flat: FloatArray) -> None:
        offset = 0
        for part in self.parts():
            part[...] = flat[offset : offset + part.size].reshape(part.shape)
            offset += part.size

    def rescale(self, factor: float) -> None:
        """``ρ *= factor``, keeping the unscaled multipliers ``ρλ``."""
        self.rho *= factor
        for lam in (self.l1, self.lS, self.lT, self.lp, self.lQ):
            lam /= factor

    def scales(self) -> tuple[float, float]:
        """Norms for the relative residuals: of the images and of the multiplier terms."""
        ops, sigma = self.ops, self.ops.sigma
        image = math.sqrt(
            _sq(self.y1) + sigma * (_sq(self.S) + _sq(self.T)) + _sq(self.p) + _sq(self.Q)
        )
        multiplier = self.rho * max(
            float(np.linalg.norm(self.l1)),
            sigma * float(np.linalg.norm(ops.cone_adjoint(self.lS, self.lT))),
            float(np.linalg.norm(ops.loss_adjoint(self.lp, self.lQ))),
        )
        return max(image, 1e-12), max(multiplier, self.beta)

    def value(self) -> float:
        """Objective at the group-sparse blocks ``y1``."""
        p, Q = self.ops.loss_image(self.y1)
        spread = np.abs(Q) @ self.ops.r
        group = float(np.sum(np.sqrt(np.einsum("db,db->b", self.y1, self.y1))))
        return loss_value(self.loss, p, spread, self.ops.y) + self.beta * group

    def lower_bound(self) -> float:
        """Weak-duality bound from the multipliers (module docstring), any accuracy."""
        ops, rho, y = self.ops, self.rho, self.ops.y
        sig = np.minimum(rho * ops.sigma * self.lS, 0.0)
        limit = -sig.sum(axis=0)
        bound = ops.r[:, None] * limit[None, :]  # the polar cone: |κ_j| <= r_j (-Σς)
        kap = np.clip(rho * ops.sigma * self.lT, -bound, bound)
        pi, kappa = rho * self.lp, rho * self.lQ
        if self.loss == "hinge":
            alpha = np.clip(-y * pi, 0.0, 1.0)
            pi = -y * alpha
            kappa = np.clip(kappa, -alpha[:, None] * ops.r, alpha[:, None] * ops.r)
        mu1 = -(ops.cone_adjoint(sig, kap) + ops.loss_adjoint(pi, kappa))
        worst = float(np.sqrt(np.einsum("db,db->b", mu1, mu1)).max(initial=0.0))
        theta_max = math.inf if worst == 0.0 else self.beta / worst
        if self.loss == "hinge":
            return min(1.0, theta_max) * float(alpha.sum())
        linear = float(pi @ y)
        dual_norm = np.maximum(np.abs(pi), (np.abs(kappa) / ops.r).max(axis=1, initial=0.0))
        quadratic = float(np.sum(dual_norm**2))
        if quadratic == 0.0:
            return 0.0
        theta = min(max(-linear / quadratic, 0.0), theta_max)
        return -theta * linear - 0.5 * theta**2 * quadratic

    def cone_violation(self) -> float:
        S, T = self.ops.cone_image(self.y1)
        spread = self.ops.r @ np.abs(T)
        scale = float(np.max(np.abs(self.ops.X @ self.y1), initial=0.0))
        worst = float(np.max(spread[None, :] - S, initial=0.0))
        return max(worst, 0.0) / max(scale, 1e-300)


def _sq(a: FloatArray) -> float:
    return float(np.vdot(a, a))


def solve_robust_blocks(
    X: FloatArray,
    y: FloatArray,
    beta: float,
    patterns: NDArray[np.bool_] | FloatArray,
    radius: FloatArray,
    loss: str = "squared",
    *,
    rho: float = DEFAULT_RHO,
    tol: float = 1e-6,
    max_iters: int = DEFAULT_MAX_ITERS,
    time_limit: float | None = None,
    sigma: float = DEFAULT_SIGMA,
    relaxation: float = DEFAULT_RELAXATION,
    check_every: int = DEFAULT_CHECK_EVERY,
    anderson: int = DEFAULT_ANDERSON,
    anderson_every: int = DEFAULT_ANDERSON_EVERY,
    adaptive_rho: bool = False,
) -> RobustAdmmSolution:
    r"""Solve the robust program (module docstring) by ADMM.

    Parameters
    ----------
    X, y, beta:
        Data ``(n, d)``, targets ``(n,)`` (labels in {-1, +1} for the hinge) and weight decay
        (trusted: validated by the caller).
    patterns:
        ``(P, n)`` clean-data activation patterns.
    radius:
        ``(d,)`` per-coordinate radius :math:`r` (``eps``, 0 on a fixed bias column).
    loss:
        ``"squared"`` or ``"hinge"``.
    rho, sigma, relaxation:
        Penalty (rescaled units, :math:`\|X\|_2 = 1`; adapted only with ``adaptive_rho``),
        weight of the cone images, over-relaxation :math:`\alpha \in (0, 2)`.
    tol, max_iters, time_limit, check_every:
        Stop at relative residuals and gap ``<= tol`` (status ``"optimal"``), or at the caps.
    adaptive_rho:
        Residual balancing of ``rho`` (off by default: on breast-cancer, n = 60, P = 20, squared
        loss, it drove ``rho`` from 0.01 to 3e-4 and left the value 2e-4 off after 25 s, where
        the fixed ``rho = 0.01`` was within 1.1e-6, certificate 2.2e-6).
    anderson, anderson_every:
        Memory of the safeguarded Anderson acceleration (:mod:`copos.solvers.admm.anderson`;
        ``0`` switches it off) of the ``anderson_every``-fold ADMM map on (images, multipliers).

    Raises
    ------
    InvalidInputError
        An unknown loss or bad parameters.
    """
    start = time.perf_counter()
    if loss not in LOSSES:
        raise InvalidInputError(f"the robust ADMM solves the losses {LOSSES}; got {loss!r}")
    tol, rho, sigma = (
        check_positive(tol, "tol"),
        check_positive(rho, "rho"),
        check_positive(sigma, "sigma"),
    )
    relaxation = check_positive(relaxation, "relaxation")
    if relaxation >= 2.0:
        raise InvalidInputError(f"relaxation must lie in (0, 2); got {relaxation!r}")
    max_iters = check_dimension(max_iters, "max_iters")
    check_every = check_dimension(check_every, "check_every")
    anderson = check_dimension(anderson, "anderson", minimum=0)
    anderson_every = check_dimension(anderson_every, "anderson_every")
    scale = float(np.linalg.norm(X, 2))
    if scale == 0.0:
        raise InvalidInputError("X is zero; the program is trivial (all blocks zero)")
    masks = np.ascontiguousarray(np.asarray(patterns, dtype=np.float64).T)
    ops = _RobustOperators(X / scale, np.asarray(y, dtype=np.float64), masks, radius / scale, sigma)
    state = _Iterate(ops, loss, beta / scale, rho)
    setup = time.perf_counter() - start
    status = "max_iterations"
    primal_rel = dual_rel = gap = float("nan")
    best_bound = -math.inf
    last_change = iterations = rho_changes = 0
    acceleration = Anderson(anderson, state.pack().size)
    anchor = state.pack()
    for k in range(1, max_iters + 1):
        iterations = k
        primal, dual = state.step(relaxation)
        if anderson and k % anderson_every == 0:
            state.unpack(acceleration.safeguarded(anchor, state.pack()))
            anchor = state.pack()
        if k % check_every and k != max_iters:
            continue
        image, multiplier = state.scales()
        primal_rel, dual_rel = primal / image, dual / multiplier
        if not (math.isfinite(primal_rel) and math.isfinite(dual_rel)):
            status = "diverged"
            break
        if primal_rel <= tol and dual_rel <= tol:
            best_bound = max(best_bound, state.lower_bound())
            gap = _relative_gap(state.value(), best_bound)
            if gap <= tol:
                status = "optimal"
                break
        if time_limit is not None and time.perf_counter() - start > time_limit:
            status = "time_limit"
            break
        if adaptive_rho and k - last_change >= BALANCE_INTERVAL:
            if primal_rel > BALANCE_RATIO * dual_rel:
                state.rescale(2.0)
            elif dual_rel > BALANCE_RATIO * primal_rel:
                state.rescale(0.5)
            else:
                continue
            last_change, rho_changes = k, rho_changes + 1
            acceleration.reset()
            anchor = state.pack()
    value = state.value()
    best_bound = max(best_bound, state.lower_bound())
    blocks = state.y1 / scale
    info = SolveInfo(
        solver=COPOS_ADMM,
        status=status,
        solve_time=time.perf_counter() - start,
        primal_residual=primal_rel,
        dual_residual=dual_rel,
        iterations=iterations,
        accuracy=tol,
        extra={
            "rho": state.rho,
            "sigma": sigma,
            "rho_changes": rho_changes,
            "setup_time": setup,
            "lower_bound": best_bound,
            "cone_violation": state.cone_violation(),
        },
        gap=_relative_gap(value, best_bound),
        gap_source="recomputed",
    )
    return RobustAdmmSolution(
        value=value,
        lower_bound=best_bound,
        solve=info,
        v_blocks=np.ascontiguousarray(blocks[:, : ops.P].T),
        w_blocks=np.ascontiguousarray(blocks[:, ops.P :].T),
        cone_violation=state.cone_violation(),
    )
