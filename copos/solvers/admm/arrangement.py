r"""ADMM for the Pilanci–Ergen convex program with fixed activation patterns (Bai et al. 2022).

Program (scalar output, :math:`c = 1`), patterns :math:`D_1,\dots,D_P`, :math:`E_i = 2D_i - I`:

.. math::

    \min_{v_i, w_i}\ \tfrac12\Big\|\sum_{i=1}^P D_iX(v_i - w_i) - y\Big\|_2^2
        + \beta\sum_{i=1}^P\big(\|v_i\|_2 + \|w_i\|_2\big)
    \quad\text{s.t.}\quad E_iXv_i \ge 0,\ E_iXw_i \ge 0 ,

the program of :func:`copos.relaxations.convex.solve_convex_program`, solved here without CVXPY.

Splitting (Bai, Gautam, Sojoudi, SIMODS 2023, §3)
-------------------------------------------------
Stack the :math:`2P` blocks into :math:`u` (a copy of the weights), :math:`v` (the group-sparse
weights) and the cone slacks :math:`s \ge 0`, with :math:`F = [D_1X \cdots D_PX\ {-D_1X} \cdots]`
and :math:`G = \operatorname{blkdiag}(E_1X, \dots, E_PX, E_1X, \dots)`:

.. math::

    \min\ \tfrac12\|Fu - y\|^2 + \beta\|v\|_{2,1} + \mathbb I_{\ge 0}(s)
    \quad\text{s.t.}\quad u = v,\ Gu = s .

Scaled ADMM with penalty :math:`\rho`: a linear solve in :math:`u`, block soft-thresholding in
:math:`v`, projection onto the orthant in :math:`s`, then dual ascent.  The :math:`u`-system
:math:`(I + F^\top F/\rho + \sigma G^\top G)u = b` (cone weight :math:`\sigma`, below) has
:math:`2dP` unknowns, but :math:`E_i^2 = I` gives :math:`G^\top G = I_{2P}\otimes X^\top X`, so
with :math:`B = I_{2P}\otimes(I + \sigma X^\top X)` the Woodbury identity reduces it to the
:math:`n\times n` SPD system

.. math:: \big(\rho I_n + F B^{-1} F^\top\big),\qquad
    F B^{-1} F^\top = 2\,(X M X^\top)\circ(D D^\top),\ M = (I + \sigma X^\top X)^{-1},

which is inverted once through its Cholesky factor (again only when the adaptive :math:`\rho`
changes).  One iteration costs four products with ``X`` of total :math:`O(ndP)` flops plus one
:math:`n\times n` matrix-vector product.

Implementation notes
--------------------
* The data are rescaled internally to :math:`\|X\|_2 = 1`, :math:`\|y\|_2 = 1` (the program is
  invariant up to :math:`\beta \to \beta/(\|X\|_2\|y\|_2)` and a factor :math:`\|y\|^2` on the
  value); results are reported in the original units.
* The cone constraint carries the weight :math:`\sigma` (``sigma``, default 100; its penalty is
  :math:`\sigma\rho`, equivalent to scaling :math:`G` by :math:`\sqrt\sigma`), and the
  iteration is over-relaxed with :math:`\alpha` (``relaxation``, default 1.8; Boyd et al. 2011,
  §3.4.3).  With :math:`\sigma` fixed, the objective error after a given number of iterations
  depends on the cone penalty :math:`\sigma\rho` and hardly on :math:`\rho` itself (measured
  for :math:`\rho \in [0.01, 0.3]`); the default start is :math:`\sigma\rho = 5`.
* The ADMM is run as the equivalent Douglas-Rachford fixed-point iteration on
  :math:`\zeta = (z, t)` with :math:`z = v + \lambda` and :math:`t = s + \nu` (:class:`_Splitting`):
  :math:`v = \operatorname{shrink}(z)`, :math:`s = t_+`, :math:`\nu = t_-`, and
  :math:`s - \nu = |t|`, so one evaluation is the linear solve, two products with ``X`` and a few
  passes over the ``n x 2P`` cone array (kept in sign-flipped coordinates :math:`E\circ t`).
* Anderson acceleration (``anderson``, memory 5) extrapolates the ``anderson_every``-fold map
  (default 10) with the safeguard of Zhang, O'Donoghue and Boyd (2020).  Accelerating every
  step costs more than it saves here: each extrapolation reads ``2·anderson`` vectors of length
  :math:`2P(n+d)`, about as much memory traffic as an iteration.
* Stopping rule (checked every ``check_every`` iterations): the relative primal residual
  :math:`\|(u - v, \sqrt\sigma(Gu - s))\| / \max(1, \|(u, \sqrt\sigma Gu)\|, \|(v, \sqrt\sigma Gv)\|)`
  and the relative dual residual, the :math:`u`-stationarity residual
  :math:`\nabla f(u) + \rho\lambda^+ + \sigma\rho G^\top\nu^+` at the multipliers of the next
  iterate, divided by :math:`\max(\beta, \|F^\top(Fu - y)\|, \|\rho\lambda^+\|,
  \sigma\rho\|G^\top\nu^+\|)`, both in the rescaled units, are at most ``tol``, *and* the
  recomputed relative gap between the objective at the blocks projected onto their cones
  (feasible, so an upper bound on the optimum; :func:`_feasible_blocks`) and the certified
  lower bound (below) is at most ``tol``, so the returned value is within ``tol`` of the
  optimum with a certificate; the returned blocks are the projected ones: status ``"optimal"`` means what :attr:`copos.solvers.base.SolveInfo.accurate`
  checks.  The residuals alone are not enough: they are relative to the size of the iterate,
  so an iterate that has run off to infinity can have tiny relative residuals (on whitened
  data a run once stopped at value 8.7e25 with residuals 3e-10 and 2e-8 and gap 1.0), and
  the dual residual is relative to the norm over all blocks while the bound feels the worst
  block (on ``benchmarks/arrangement_admm.py``'s n = 500 case the gap ran about 10x the dual
  residual).  When the residuals pass and the gap does not, the run goes on (counted in
  ``extra["gap_checks_failed"]``).  The other KKT conditions (subgradient of the group norm,
  sign and complementarity of the cone multipliers) hold exactly after every iteration by
  construction.
* ``rho`` is adapted by residual balancing (factor :math:`\sqrt{2\,r_p/r_d}`, applied when it
  changes :math:`\rho` by more than 1.4x, at most every 50 iterations; each change costs one
  :math:`n\times n` Cholesky).  The target ratio :math:`r_d \approx 2\,r_p` (issue 15; it
  was 20 before) favours the dual residual, which the certified gap feels: with the stopping
  rule on residuals alone the target 20 was the fastest to a given objective error on five
  test instances, and plain balancing (:math:`r_d \approx r_p`) stopped early with objective
  errors near 1e-3 at ``tol = 1e-4`` because the iterate's objective lay below the optimum.
  Since the value is taken at the blocks projected onto their cones (below) and the gap is
  required, that failure cannot pass the stopping rule, and the target 2 cut the iterations at
  ``tol = 1e-4`` from 4,430 to 3,380 on the n = 500 case of ``benchmarks/arrangement_admm.py``
  and from 18,710 to 10,260 on the noisy instance of ``docs/solvers.md`` (value error 2.8e-5
  and 1.9e-5 above Clarabel's, certified gaps 9.8e-5 and 7.4e-5); the target 1 stopped the
  n = 500 case earlier still but, before the projection, with the value 1.2e-3 below the
  optimum.  ``rho`` changes only at an anchor step of the Anderson
  acceleration, and that step is plain (the safeguard still judges the previous
  extrapolation): an extrapolation made just before a change of the map could never be
  rejected, and on whitened data, where the Douglas-Rachford iterate drifts at constant speed
  before it settles (the differences of the fixed-point residual vanish, the least-squares
  step is unbounded), one such step sent the iterate to 1e12 and residual balancing then drove
  ``rho`` to 1e-16.
* The residuals were tuned before the gap joined the stopping rule: on those instances
  ``tol = 1e-3`` (residuals only) gave relative objective errors of 1.4e-5 to 6.1e-4 and
  ``tol = 1e-4`` of 1.6e-6 to 2.7e-5 (``benchmarks/arrangement_admm_defaults.py``).  The lower
  bound below and ``recovered_objective`` are certified at any accuracy; the lower bound
  converges more slowly than the value (its error is first order in the dual residual), which
  is why requiring the gap costs iterations (n = 500 case: 6,440 to 7,860 at ``tol = 1e-6``).
* A non-finite residual stops the run with status ``"diverged"``; the result is then the last
  iterate whose residuals were finite.

Active-set phase (issue 15)
---------------------------
At small :math:`\beta/\beta_{\max}` the iterations go into the certified gap, which feels the
worst block's dual norm.  Once both residuals are at most ``max(tol, ACTIVE_SET_RESIDUALS)``
the run can hand its blocks to :func:`_active_set_phase` (:mod:`copos.solvers.admm.active_set`):
the program restricted to a working set of blocks (those of norm above
``ACTIVE_SET_MIN_NORM`` times the largest, plus the most violated) with all their cone rows,
solved by Clarabel to 1e-10, the violating outside blocks added, repeated.  Its value is the objective at the blocks projected onto their cones (feasible) and its
bound the formula below with, for every block, the exact dual norm
:math:`\min_{\eta_b\le0}\|(F^\top r)_b - G_b^\top\eta_b\|` (nonnegative least squares;
any :math:`\eta_b \le 0` gives a valid bound).  When it certifies ``tol`` the run stops with
its blocks; otherwise its bound is kept and the ADMM goes on (``extra["active_set"]`` says
what it did).

Lower bound (dual certificate)
------------------------------
The Lagrange dual of the program is

.. math::

    \max_{r\in\mathbb R^n,\ \eta\le 0}\ r^\top y - \tfrac12\|r\|^2
    \quad\text{s.t.}\quad \big\|(F^\top r - G^\top\eta)_b\big\|_2 \le \beta\ \text{for every block } b .

From the final iterate, :math:`r = y - Fv` and :math:`\eta = \sigma\rho\nu \le 0` are scaled by
a common factor :math:`\theta \ge 0` small enough to make them feasible (the constraint is
homogeneous) and the best such :math:`\theta` is used: every feasible point gives a valid lower
bound on the program's optimum (weak duality), whatever the ADMM accuracy.  With complete
arrangements this is a lower bound on the training objective of every network; with sampled
arrangements it bounds only the sampled program.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from typing import Literal

import numpy as np
import scipy.linalg
import scipy.optimize
from numpy.typing import NDArray

from copos._validation import check_dimension, check_positive
from copos.errors import InvalidInputError
from copos.solvers.admm import active_set
from copos.solvers.admm.anderson import Anderson
from copos.solvers.base import SolveInfo
from copos.solvers.registry import COPOS_ADMM

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Status = Literal["optimal", "max_iterations", "time_limit", "diverged"]

SOLVER_NAME = COPOS_ADMM
#: Default initial penalty, in the rescaled units (‖X‖₂ = ‖y‖₂ = 1); adapted during the run.
DEFAULT_RHO = None
DEFAULT_MAX_ITERS = 20_000
DEFAULT_CHECK_EVERY = 10
#: Default weight σ of the cone constraint and the default cone penalty σρ (rescaled units).
DEFAULT_SIGMA = 100.0
DEFAULT_CONE_PENALTY = 5.0
#: Default over-relaxation α (1.8 cut iterations by 10-20% against 1.6 on the five test instances).
DEFAULT_RELAXATION = 1.8
#: Default Anderson memory and the number of plain steps per extrapolation.
DEFAULT_ANDERSON = 5
DEFAULT_ANDERSON_EVERY = 10
#: Residual balancing: change ρ when the balancing factor exceeds this (or its inverse).
RHO_ADAPT_THRESHOLD = 1.4
#: and at most once per this many iterations.
RHO_ADAPT_INTERVAL = 50
#: Residual balancing aims at this ratio dual/primal residual (see the module docstring).
BALANCE_TARGET = 2.0


@dataclass(frozen=True, eq=False)
class AdmmState:
    r"""Iterate of the ADMM in the original units, usable as a warm start.

    Attributes
    ----------
    blocks:
        ``(d, 2P)`` group-sparse weights: columns ``0..P-1`` are the :math:`v_i`, ``P..2P-1`` the
        :math:`w_i`.
    block_multiplier:
        ``(d, 2P)`` multiplier :math:`\mu` of :math:`u = v` (unscaled; :math:`\|\mu_b\|\le\beta`).
    cone_multiplier:
        ``(n, 2P)`` multiplier :math:`\eta \le 0` of :math:`Gu = s` (unscaled), column ``b`` for the
        cone of block ``b``.
    rho:
        Penalty in the rescaled units at the end of the run.
    """

    blocks: FloatArray
    block_multiplier: FloatArray
    cone_multiplier: FloatArray
    rho: float


@dataclass(frozen=True, eq=False)
class ArrangementAdmmSolution:
    """What :func:`solve_arrangement_blocks` returns: blocks, bounds and residuals, original units.

    The network side (:func:`copos.relaxations.convex.solve_arrangement_admm`) recovers the network
    from the blocks and labels the bound; this layer knows operators, not networks.

    Attributes
    ----------
    value:
        Convex objective at the returned blocks (cone constraints met up to ``cone_violation``).
    lower_bound:
        Dual-certificate lower bound on the program's optimum over the patterns (any accuracy).
    solve:
        Solver, status, time, final relative residuals and ``extra`` diagnostics.
    v_blocks, w_blocks:
        Blocks :math:`v_i`, :math:`w_i` as rows of ``(P, d)`` arrays.
    cone_violation:
        :math:`\\max_{i,j}\\big(-(E_iXb_i)_j\\big)_+ / \\max_i\\|Xb_i\\|_\\infty`.
    state:
        Final iterate, for ``warm_start``.
    """

    value: float
    lower_bound: float
    solve: SolveInfo
    v_blocks: FloatArray
    w_blocks: FloatArray
    cone_violation: float
    state: AdmmState


class _Operators:
    r"""Rescaled data and the maps of the splitting.

    ``F`` and ``Fᵀ`` act on ``(d, 2P)`` block arrays; the cone map is :math:`\tilde G = \sqrt\sigma
    G` (products with ``Xc = √σ X``, results in sign-flipped coordinates); ``solve_u`` applies
    :math:`(I + F^\top F/\rho + \tilde G^\top\tilde G)^{-1}` by Woodbury with the ``n x n`` core.
    """

    def __init__(self, X: FloatArray, y: FloatArray, masks: FloatArray, sigma: float) -> None:
        self.X = X
        self.y = y
        self.D = masks  # (n, P) of 0/1
        self.E2 = np.ascontiguousarray(np.hstack([2.0 * masks - 1.0] * 2))  # (n, 2P) of ±1
        self.n, self.d = X.shape
        self.P = masks.shape[1]
        self.gram = X.T @ X
        self.overlap = masks @ masks.T  # D Dᵀ
        self.rho = float("nan")
        self.core_inverse: FloatArray | None = None
        self.set_sigma(sigma)

    def set_sigma(self, sigma: float) -> None:
        """Cone weight σ: ``Xc = √σ X``, ``M = (I + σXᵀX)⁻¹`` and the Woodbury core ``F B⁻¹ Fᵀ``."""
        self.sigma = sigma
        self.Xc = math.sqrt(sigma) * self.X
        self.XcT = np.ascontiguousarray(self.Xc.T)
        inverse = np.linalg.inv(np.eye(self.d) + sigma * self.gram)
        self.M = 0.5 * (inverse + inverse.T)
        self.core = 2.0 * (self.X @ self.M @ self.X.T) * self.overlap
        if not math.isnan(self.rho):
            self.factor(self.rho)

    def factor(self, rho: float) -> None:
        """``(ρI + F B⁻¹ Fᵀ)⁻¹`` from its Cholesky factor (an n×n matrix-vector product per
        iteration is about 4x faster than two triangular solves; the matrix is SPD with
        eigenvalues ``>= ρ``, so the explicit inverse is as accurate as the solves)."""
        core = self.core.copy()
        core[np.diag_indices_from(core)] += rho
        chol = scipy.linalg.cho_factor(core, lower=True, overwrite_a=True, check_finite=False)
        inverse = scipy.linalg.cho_solve(chol, np.eye(self.n), check_finite=False)
        self.core_inverse = 0.5 * (inverse + inverse.T)
        self.rho = rho

    def F(self, blocks: FloatArray) -> FloatArray:
        """:math:`\\sum_i D_iX(v_i - w_i)` for blocks ``[v | w]``."""
        P = self.P
        return np.einsum("np,np->n", self.X @ (blocks[:, :P] - blocks[:, P:]), self.D)

    def FT_half(self, r: FloatArray) -> FloatArray:
        """The v-half ``[(D_iX)ᵀ r]_i`` of Fᵀr (the w-half is its negative)."""
        return (self.X * r[:, None]).T @ self.D

    def FT(self, r: FloatArray) -> FloatArray:
        half = self.FT_half(r)
        return np.hstack([half, -half])

    def solve_u(self, rhs: FloatArray) -> FloatArray:
        """(I + FᵀF/ρ + σGᵀG)⁻¹ rhs by Woodbury."""
        assert self.core_inverse is not None
        c = self.M @ rhs
        correction = self.M @ self.FT_half(self.core_inverse @ self.F(c))
        c[:, : self.P] -= correction
        c[:, self.P :] += correction
        return c

    def cone_norm(self, blocks: FloatArray) -> float:
        """:math:`\\|\\tilde G b\\| = (\\sigma \\sum_b b_b^\\top X^\\top X b_b)^{1/2}`."""
        return math.sqrt(self.sigma * max(float(np.sum(blocks * (self.gram @ blocks))), 0.0))


def _shrink(z: FloatArray, threshold: float) -> FloatArray:
    """Block soft-thresholding: each column ``z_b`` scaled by ``max(0, 1 - threshold/‖z_b‖)``."""
    norms = np.sqrt(np.einsum("db,db->b", z, z))
    return z * np.maximum(0.0, 1.0 - threshold / np.maximum(norms, 1e-300))


class _Splitting:
    r"""The ADMM as a Douglas-Rachford fixed-point map on :math:`\zeta = (z, t)`, with Anderson.

    ``z = v + λ`` (``(d, 2P)``) and ``t = s + ν`` (``(n, 2P)``, flipped coordinates
    :math:`E\circ(\cdot)`, cone constraint scaled by :math:`\sqrt\sigma`) determine the iterate:
    :math:`v = \operatorname{shrink}(z, \beta/\rho)`, :math:`s = t_+`, :math:`\nu = t_-`.  One
    evaluation :math:`g(\zeta)`: :math:`u = (I + F^\top F/\rho + \tilde G^\top\tilde G)^{-1}
    (F^\top y/\rho + 2v - z + \tilde G^\top|t|)`, :math:`z^+ = z + \alpha(u - v)`,
    :math:`t^+ = t + \alpha(\tilde Gu - s)`.  Both halves live in one flat vector, so Anderson
    acceleration works on :math:`\zeta` in the metric of the (scaled) constraints.
    """

    def __init__(
        self, ops: _Operators, beta: float, rho: float, alpha: float, memory: int, every: int
    ) -> None:
        self.ops, self.beta, self.rho, self.alpha = ops, beta, rho, alpha
        n, d, B = ops.n, ops.d, 2 * ops.P
        self.split = d * B
        self.x = np.zeros(self.split + n * B)
        self.gx = np.empty_like(self.x)
        self.q = np.empty((n, B))  # E ∘ |t| = s - ν (flipped)
        self.anderson = Anderson(memory, self.x.size)
        self.every = every
        self.anchor = self.x.copy()
        self.since_anchor = 0
        self.last_good = self.x.copy()
        self.FTy = ops.FT(ops.y)
        ops.factor(rho)
        self.v = self.u = np.zeros((d, B))

    def z(self, x: FloatArray) -> FloatArray:
        return x[: self.split].reshape(self.ops.d, -1)

    def t(self, x: FloatArray) -> FloatArray:
        return x[self.split :].reshape(self.ops.n, -1)

    def evaluate(self) -> None:
        """``gx = g(x)``; keeps ``v``, ``u`` and ``q = E∘|t|`` of this evaluation."""
        ops, alpha = self.ops, self.alpha
        z, t = self.z(self.x), self.t(self.x)
        self.v = _shrink(z, self.beta / self.rho)
        np.abs(t, out=self.q)
        self.q *= ops.E2
        self.u = ops.solve_u(self.FTy / self.rho + 2.0 * self.v - z + ops.XcT @ self.q)
        self.z(self.gx)[...] = z + alpha * (self.u - self.v)
        gt = self.t(self.gx)
        np.matmul(ops.Xc, alpha * self.u, out=gt)  # t⁺ = α G̃u + (1 - α/2) t - (α/2) E∘|t|
        flat = gt.reshape(-1)
        _axpy(self.t(self.x).reshape(-1), flat, a=1.0 - 0.5 * alpha)
        _axpy(self.q.reshape(-1), flat, a=-0.5 * alpha)

    def at_anchor(self) -> bool:
        """The next :meth:`step` is an anchor step (or there is no acceleration)."""
        return self.anderson.memory == 0 or self.since_anchor + 1 >= self.every

    def step(self, extrapolate: bool = True) -> None:
        """Move to the next iterate.  Plain steps ``x = g(x)``, except every ``every``-th: there
        Anderson extrapolates the ``every``-fold map from the previous such anchor, safeguarded
        (an extrapolation after which the fixed-point residual grew is replaced by the plain
        point from before it).  Extrapolating the composed map keeps the cost of the
        acceleration, a few passes over ``2·memory`` state vectors, to once per ``every`` steps.

        ``extrapolate=False`` (an anchor step before ``ρ`` changes): the safeguard still judges
        the previous extrapolation, but the step is plain, because the map changes with ``ρ``
        and no later check could reject a new extrapolation.  An extrapolation left unchecked
        across a change of ``ρ`` was the cause of a divergence on whitened data (the
        Douglas-Rachford iterate drifts at constant speed there, the differences of the
        fixed-point residual vanish and the least-squares step is unbounded)."""
        self.since_anchor += 1
        if self.anderson.memory == 0 or self.since_anchor < self.every:
            self.x, self.gx = self.gx, self.x
            return
        self.since_anchor = 0
        rejected = self.anderson.rejected
        following = self.anderson.safeguarded(self.anchor, self.gx)
        if not extrapolate and self.anderson.rejected == rejected:
            following = self.gx
        self.x[...] = following
        self.anchor[...] = self.x

    def residuals(self) -> tuple[float, float]:
        """Relative primal and dual residuals of the last evaluation (module docstring)."""
        ops, alpha, rho = self.ops, self.alpha, self.rho
        x, gx = self.x, self.gx
        u_minus_v = (self.z(gx) - self.z(x)) / alpha
        cone_gap = (self.t(gx) - self.t(x)) / alpha  # G̃u - s
        primal = float(np.linalg.norm(gx - x)) / alpha
        scale_p = max(
            1.0,
            math.hypot(float(np.linalg.norm(self.u)), ops.cone_norm(self.u)),
            math.hypot(float(np.linalg.norm(self.v)), ops.cone_norm(self.v)),
        )
        lam = self.z(x) - self.v
        lam_next = self.z(gx) - _shrink(self.z(gx), self.beta / rho)
        t_next = self.t(gx)
        nu = 0.5 * (self.t(x) - self.q)
        nu_next = 0.5 * (t_next - ops.E2 * np.abs(t_next))
        gt_nu_next = ops.XcT @ nu_next
        stationarity = (lam_next - lam) - u_minus_v + ops.XcT @ (nu_next - nu - cone_gap)
        scale_d = max(
            self.beta,
            math.sqrt(2.0) * float(np.linalg.norm(ops.FT_half(ops.F(self.u) - ops.y))),
            rho * float(np.linalg.norm(lam_next)),
            rho * float(np.linalg.norm(gt_nu_next)),
        )
        return primal / scale_p, rho * float(np.linalg.norm(stationarity)) / scale_d

    def rescale(self, factor: float) -> None:
        """``ρ *= factor`` keeping the iterate and the unscaled multipliers ``ρλ``, ``ρν``."""
        z, t = self.z(self.x), self.t(self.x)
        v = _shrink(z, self.beta / self.rho)
        z[...] = v + (z - v) / factor
        q = self.ops.E2 * np.abs(t)
        t[...] = 0.5 * (t + q) + 0.5 * (t - q) / factor
        self.rho *= factor
        self.ops.factor(self.rho)
        self.restart_acceleration()

    def remember(self) -> None:
        """Keep the current iterate as the last one with finite residuals."""
        self.last_good[...] = self.x

    def restore(self) -> None:
        """Go back to the last iterate with finite residuals and evaluate it again."""
        self.x[...] = self.last_good
        self.evaluate()

    def restart_acceleration(self) -> None:
        """Forget the Anderson history (the map changed) and anchor at the current iterate."""
        self.anderson.reset()
        self.anchor[...] = self.x
        self.since_anchor = 0

    def cone_multiplier_term(self) -> FloatArray:
        r""":math:`G^\top\eta` (rescaled units) of the last evaluation, with the cone multiplier
        :math:`\eta = \rho\sqrt\sigma\,\nu \le 0`."""
        return self.rho * (self.ops.XcT @ (0.5 * (self.t(self.x) - self.q)))

    def start_from(
        self, state: AdmmState, u_to_scaled: float, x_scale: float, y_scale: float
    ) -> None:
        """Initialize ``(z, t)`` from a warm-start state in original units."""
        ops, rho = self.ops, self.rho
        v = state.blocks * u_to_scaled
        self.z(self.x)[...] = v + state.block_multiplier / (x_scale * y_scale) / rho
        eta = np.minimum(state.cone_multiplier, 0.0) / y_scale  # raw, rescaled units
        slack = np.maximum(ops.E2 * (ops.Xc @ v), 0.0)  # raw s̃ = (G̃v)_+
        self.t(self.x)[...] = ops.E2 * (slack + eta / (rho * math.sqrt(ops.sigma)))

    def state(self, u_to_scaled: float, x_scale: float, y_scale: float) -> AdmmState:
        """The last evaluated iterate in original units."""
        ops = self.ops
        nu_raw = ops.E2 * (0.5 * (self.t(self.x) - self.q))
        return AdmmState(
            blocks=self.v / u_to_scaled,
            block_multiplier=self.rho * (self.z(self.x) - self.v) * (x_scale * y_scale),
            cone_multiplier=self.rho * math.sqrt(ops.sigma) * nu_raw * y_scale,
            rho=self.rho,
        )


def _axpy(x: FloatArray, y: FloatArray, a: float) -> None:
    """``y += a x`` in place on contiguous 1-D arrays (one pass, no temporary)."""
    result = scipy.linalg.blas.daxpy(x, y, a=a)
    if result is not y:  # BLAS worked on a copy (y not contiguous float64): write it back
        y[...] = result


def solve_arrangement_blocks(
    X: FloatArray,
    y: FloatArray,
    beta: float,
    patterns: NDArray[np.bool_] | FloatArray,
    *,
    rho: float | None = DEFAULT_RHO,
    tol: float = 1e-6,
    max_iters: int = DEFAULT_MAX_ITERS,
    warm_start: object | None = None,
    time_limit: float | None = None,
    adaptive_rho: bool = True,
    sigma: float = DEFAULT_SIGMA,
    relaxation: float = DEFAULT_RELAXATION,
    anderson: int = DEFAULT_ANDERSON,
    anderson_every: int = DEFAULT_ANDERSON_EVERY,
    check_every: int = DEFAULT_CHECK_EVERY,
    active_set: bool | None = None,
) -> ArrangementAdmmSolution:
    r"""Solve :math:`\min \tfrac12\|\sum_i D_iX(v_i - w_i) - y\|^2 + \beta\sum_i(\|v_i\| + \|w_i\|)`,
    :math:`E_iXv_i, E_iXw_i \ge 0`, by ADMM (module docstring).

    Parameters
    ----------
    X, y, beta:
        Data ``(n, d)``, targets ``(n,)`` and weight decay (trusted: validated by the caller).
    patterns:
        ``(P, n)`` activation patterns :math:`\operatorname{diag}(D_i)`, ``P >= 1``.
    rho:
        Initial penalty in the rescaled units (``‖X‖₂ = ‖y‖₂ = 1``); default
        :data:`DEFAULT_CONE_PENALTY` ``/ sigma``, or the final ``rho`` of ``warm_start``.
    tol:
        Relative primal and dual residual and relative certified gap at which to stop (status
        ``"optimal"``; all three must be within ``tol``).
    max_iters:
        Iteration cap (status ``"max_iterations"``).
    warm_start:
        An :class:`AdmmState` (or any object whose ``state`` is one) for the same data shape and the same number of
        patterns (e.g. another ``beta``): its blocks and multipliers start the iteration.
    time_limit:
        Wall-clock cap in seconds for the iterations (status ``"time_limit"``).
    adaptive_rho:
        Residual balancing of ``rho`` (each change refactors the ``n x n`` core).
    sigma:
        Relative weight of the cone constraint :math:`Gu = s` against :math:`u = v` (its penalty
        is ``sigma * rho``); equivalent to scaling :math:`G` by :math:`\sqrt{\sigma}`.
    relaxation:
        Over-relaxation parameter :math:`\alpha \in (0, 2)` (Boyd et al. 2011, §3.4.3); ``1`` is
        plain ADMM.
    anderson:
        Memory of the Anderson acceleration (``0`` switches it off); it stores ``2·anderson``
        vectors of length ``2P(n + d)``.
    anderson_every:
        Extrapolate once per this many iterations (the map being accelerated is the
        ``anderson_every``-fold ADMM step).
    check_every:
        Residuals are computed every this many iterations.
    active_set:
        Run the active-set phase (:func:`_active_set_phase`) once the relative residuals are
        at most ``max(tol, ACTIVE_SET_RESIDUALS)``: ``True`` always, ``None`` (default) when
        :math:`\beta/\beta_{\max} <` :data:`ACTIVE_SET_BETA_RATIO`, ``False`` never.  If it
        certifies ``tol`` the run stops there; otherwise its bound is kept and the ADMM goes on.

    Raises
    ------
    InvalidInputError
        Bad parameters or a warm start of the wrong shape.
    """
    start = time.perf_counter()
    tol = check_positive(tol, "tol")
    max_iters = check_dimension(max_iters, "max_iters")
    check_every = check_dimension(check_every, "check_every")
    anderson = check_dimension(anderson, "anderson", minimum=0)
    anderson_every = check_dimension(anderson_every, "anderson_every")
    if time_limit is not None:
        time_limit = check_positive(time_limit, "time_limit")
    if rho is not None:
        rho = check_positive(rho, "rho")
    sigma = check_positive(sigma, "sigma")
    relaxation = check_positive(relaxation, "relaxation")
    if relaxation >= 2.0:
        raise InvalidInputError(f"relaxation must lie in (0, 2); got {relaxation!r}")

    X_orig, y_orig = X, y
    x_scale = float(np.linalg.norm(X_orig, 2))
    y_scale = float(np.linalg.norm(y_orig))
    if x_scale == 0.0:
        raise InvalidInputError("X is zero; the program is trivial (all blocks zero)")
    if y_scale == 0.0:
        y_scale = 1.0
    beta = beta / (x_scale * y_scale)
    masks = np.ascontiguousarray(np.asarray(patterns).T, dtype=np.float64)
    ops = _Operators(X_orig / x_scale, y_orig / y_scale, masks, sigma)
    u_to_scaled = x_scale / y_scale  # blocks: scaled = original * x_scale / y_scale
    state = _check_warm(warm_start, ops)
    if rho is None:
        rho = DEFAULT_CONE_PENALTY / sigma if state is None else float(state.rho)
    splitting = _Splitting(ops, beta, rho, relaxation, anderson, anderson_every)
    if state is not None:
        splitting.start_from(state, u_to_scaled, x_scale, y_scale)
        splitting.restart_acceleration()
        splitting.remember()

    status: Status = "max_iterations"
    primal_rel = dual_rel = float("inf")
    rho_changes = last_adapt = iterations = gap_checks = 0
    best_bound = -math.inf  # every iterate's dual point bounds the same program: keep the best
    next_projection = 0  # the projection costs ~50 iterations: after a failed one, wait k/10
    history: list[tuple[int, float, float, float]] = []
    history_gap: list[tuple[int, float, float]] = []
    phase_pending = _wants_active_set(active_set, splitting)
    phase: tuple[FloatArray, float, float] | None = None
    phase_report: ActiveSetReport | None = None
    iter_start = time.perf_counter()
    for k in range(1, max_iters + 1):
        iterations = k
        splitting.evaluate()
        if k % check_every == 0 or k == max_iters:
            primal_rel, dual_rel = splitting.residuals()
            history.append((k, primal_rel, dual_rel, splitting.rho))
            if not (math.isfinite(primal_rel) and math.isfinite(dual_rel)):
                status = "diverged"  # report the last iterate whose residuals were finite
                splitting.restore()
                break
            splitting.remember()
            if phase_pending and max(primal_rel, dual_rel) <= max(tol, ACTIVE_SET_RESIDUALS):
                phase_pending = False
                deadline = None if time_limit is None else start + time_limit
                blocks, value, bound, phase_report = _active_set_phase(
                    ops,
                    splitting.beta,
                    splitting.v,
                    tol,
                    deadline,
                    best_bound / y_scale**2,
                )
                best_bound = max(best_bound, bound * y_scale**2)
                phase = (blocks, value * y_scale**2, best_bound)
                if phase_report.status == "optimal":
                    status = "optimal"
                    break
            if primal_rel <= tol and dual_rel <= tol:
                value, bound = _iterate_value_and_bound(splitting, y_scale)
                best_bound = max(best_bound, bound)
                gap = _relative_gap(value, best_bound)
                projected = gap <= tol and k >= next_projection
                if projected:  # the feasible value decides (the iterate's can be too low)
                    value = _feasible_value(splitting, y_scale)[0]
                    gap = _relative_gap(value, best_bound)
                    next_projection = k + max(check_every, k // PROJECTION_SPACING)
                history_gap.append((k, gap, _relative_gap(value, bound)))
                if projected and gap <= tol:  # residuals alone can be small far from it
                    status = "optimal"
                    break
                gap_checks += 1
        if time_limit is not None and time.perf_counter() - start > time_limit:
            status = "time_limit"
            break
        if k == max_iters:
            break
        factor = 1.0
        if adaptive_rho and k % check_every == 0 and k - last_adapt >= RHO_ADAPT_INTERVAL:
            factor = _balancing_factor(primal_rel, dual_rel) if splitting.at_anchor() else 1.0
        splitting.step(extrapolate=factor == 1.0)
        if factor != 1.0:
            splitting.rescale(factor)
            rho_changes += 1
            last_adapt = k
    iter_time = time.perf_counter() - iter_start
    return _result(
        splitting,
        SolveInfo(
            solver=SOLVER_NAME,
            status=status,
            solve_time=float("nan"),
            primal_residual=primal_rel,
            dual_residual=dual_rel,
            iterations=iterations,
            accuracy=tol,
            extra={
                "rho": splitting.rho,
                "sigma": sigma,
                "rho_changes": rho_changes,
                "gap_checks_failed": gap_checks,
                "anderson_rejected": splitting.anderson.rejected,
                "iteration_time": iter_time,
                "setup_time": iter_start - start,
                "history": history,
                "gap_history": history_gap,
                "active_set": None if phase_report is None else asdict(phase_report),
            },
        ),
        scales=(u_to_scaled, x_scale, y_scale),
        start=start,
        best_bound=best_bound,
        phase=phase,
        phase_certified=phase_report is not None and phase_report.status == "optimal",
    )


def _wants_active_set(active_set: bool | None, splitting: _Splitting) -> bool:
    """Whether the run will try the active-set phase (``solve_arrangement_blocks``)."""
    if active_set is not None:
        return bool(active_set)
    largest = float(np.sqrt(np.einsum("db,db->b", splitting.FTy, splitting.FTy)).max())
    return largest > 0.0 and splitting.beta / largest < ACTIVE_SET_BETA_RATIO


def _balancing_factor(primal_rel: float, dual_rel: float) -> float:
    """The factor of ``ρ`` that residual balancing asks for, or 1 within the threshold."""
    factor = math.sqrt(BALANCE_TARGET * primal_rel / dual_rel) if dual_rel > 0 else 1.0
    if 1.0 / RHO_ADAPT_THRESHOLD <= factor <= RHO_ADAPT_THRESHOLD:
        return 1.0
    return factor


def _result(
    splitting: _Splitting,
    info: SolveInfo,
    *,
    scales: tuple[float, float, float],
    start: float,
    best_bound: float = -math.inf,
    phase: tuple[FloatArray, float, float] | None = None,
    phase_certified: bool = False,
) -> ArrangementAdmmSolution:
    """Blocks, bound and state of the last evaluated iterate, original units, or the
    active-set phase's blocks ``(d, 2P)`` rescaled, value and bound, original units, when the
    phase ran and its feasible point has the lower value (it certified, or it stalled on a
    better point than where the ADMM stopped after it)."""
    u_to_scaled, x_scale, y_scale = scales
    ops = splitting.ops
    lower_bound = _iterate_value_and_bound(splitting, y_scale)[1]
    certified = phase is not None and phase_certified
    value, blocks_scaled = (
        (phase[1], phase[0]) if certified else _feasible_value(splitting, y_scale)
    )
    if phase is not None:
        lower_bound = max(lower_bound, phase[2])
        if phase[1] < value:
            blocks_scaled, value = phase[0], phase[1]
    lower_bound = max(lower_bound, best_bound)
    blocks = blocks_scaled / u_to_scaled
    violation = _cone_violation(ops, blocks_scaled)
    info = replace(
        info,
        solve_time=time.perf_counter() - start,
        extra={**info.extra, "cone_violation": violation, "lower_bound": lower_bound},
        gap=_relative_gap(value, lower_bound),
        gap_source="recomputed",
    )
    return ArrangementAdmmSolution(
        value=value,
        lower_bound=lower_bound,
        solve=info,
        v_blocks=np.ascontiguousarray(blocks[:, : ops.P].T),
        w_blocks=np.ascontiguousarray(blocks[:, ops.P :].T),
        cone_violation=violation,
        state=_state(splitting, scales, None if phase is None else blocks),
    )


def _state(
    splitting: _Splitting, scales: tuple[float, float, float], blocks: FloatArray | None
) -> AdmmState:
    """The ADMM's state (multipliers, ``rho``), with the active-set phase's blocks if given."""
    state = splitting.state(*scales)
    return state if blocks is None else replace(state, blocks=blocks)


def _iterate_value_and_bound(splitting: _Splitting, y_scale: float) -> tuple[float, float]:
    """Objective of the (slightly infeasible) iterate and certified lower bound, original units."""
    ops, beta, blocks = splitting.ops, splitting.beta, splitting.v
    lower_bound = _dual_bound(ops, blocks, splitting.cone_multiplier_term(), beta)
    return _objective(ops, blocks, beta) * y_scale**2, lower_bound * y_scale**2


def _feasible_value(splitting: _Splitting, y_scale: float) -> tuple[float, FloatArray]:
    """Objective (original units) at the iterate's blocks projected onto their cones
    (:func:`_feasible_blocks`), and those blocks (rescaled units).

    The blocks are feasible, so the objective is an upper bound on the program's optimum (up to
    rounding) and its relative gap to the lower bound certifies its accuracy.  The iterate
    itself is slightly infeasible and its objective can lie *below* the optimum: with a
    dual-favouring penalty the n = 500 case of ``benchmarks/arrangement_admm.py`` stopped with
    the iterate's value 3.7e-4 below the optimum and a "gap" of 3e-5 to the bound.
    """
    blocks = _feasible_blocks(splitting.ops, splitting.v)
    return _objective(splitting.ops, blocks, splitting.beta) * y_scale**2, blocks


#: After a projection that did not close the gap, the next waits ``k // PROJECTION_SPACING``
#: iterations (one projection costs about as much as 50 iterations at n = 500, P = 200).
PROJECTION_SPACING = 10
#: Rounds of the cone projection (each adds the rows still violated); then the block is zeroed.
PROJECTION_ROUNDS = 5
#: A projected block counts as feasible when its worst entry of ``E_bXv`` is above
#: ``-PROJECTION_ROUNDING * max|Xv|`` (rounding of the NNLS solution on tight rows).
PROJECTION_ROUNDING = 1e-12


def _feasible_blocks(ops: _Operators, blocks: FloatArray) -> FloatArray:
    r"""Each block projected onto its cone :math:`K_b = \{v : E_bXv \ge 0\}`.

    :math:`\Pi_{K_b}(v) = v + A\lambda^\star`, :math:`A = X^\top E_b`,
    :math:`\lambda^\star = \arg\min_{\lambda\ge0}\|v + A\lambda\|` (Moreau), by nonnegative
    least squares over the rows that are violated or tight, adding rows still violated for up
    to :data:`PROJECTION_ROUNDS` rounds; a block that is still infeasible then is replaced by
    zero (always feasible).  Only violated blocks are touched.
    """
    signed = ops.E2 * (ops.X @ blocks)
    violated = np.flatnonzero(signed.min(axis=0) < 0.0)
    if violated.size == 0:
        return blocks
    feasible = blocks.copy()
    for b in violated:
        feasible[:, b] = _project_block(ops, blocks[:, b], signed[:, b], b)
    return feasible


def _project_block(ops: _Operators, v: FloatArray, signed: FloatArray, block: int) -> FloatArray:
    rows = ops.X.T * ops.E2[:, block]  # X^T E_b, d x n
    scale = float(np.abs(signed).max())
    candidates = np.flatnonzero(signed <= 1e-6 * scale)
    for _ in range(PROJECTION_ROUNDS):
        A = rows[:, candidates]
        projected = v + A @ _nnls(A, -v)
        pre = projected @ rows
        still = np.flatnonzero(pre < -PROJECTION_ROUNDING * float(np.abs(pre).max(initial=0.0)))
        if still.size == 0:
            return projected
        if np.all(np.isin(still, candidates)):
            break  # rounding on rows already in the set: nothing more to add
        candidates = np.union1d(candidates, still)
    return np.zeros_like(v)


def _nnls(A: FloatArray, b: FloatArray) -> FloatArray:
    r""":math:`\arg\min_{x\ge0}\|Ax - b\|`, clipped to ``x >= 0`` (zero if the solver fails)."""
    try:
        x, _ = scipy.optimize.nnls(A, b)
    except (RuntimeError, ValueError):
        return np.zeros(A.shape[1])
    return np.maximum(x, 0.0)


def _relative_gap(value: float, lower_bound: float) -> float:
    r"""Relative duality gap :math:`|F - L| / \max(|F|, |L|, 10^{-12})` of the ADMM point."""
    if not (math.isfinite(value) and math.isfinite(lower_bound)):
        return float("nan")
    return abs(value - lower_bound) / max(abs(value), abs(lower_bound), 1e-12)


def _check_warm(warm_start: object | None, ops: _Operators) -> AdmmState | None:
    if warm_start is None:
        return None
    state = warm_start if isinstance(warm_start, AdmmState) else getattr(warm_start, "state", None)
    if not isinstance(state, AdmmState):
        raise InvalidInputError(
            "warm_start must be an ArrangementAdmmResult or AdmmState; "
            f"got {type(warm_start).__name__}"
        )
    n, d, P = ops.n, ops.d, ops.P
    if state.blocks.shape != (d, 2 * P) or state.cone_multiplier.shape != (n, 2 * P):
        raise InvalidInputError(
            f"warm_start has blocks {state.blocks.shape} and cone multipliers "
            f"{state.cone_multiplier.shape}; expected {(d, 2 * P)} and {(n, 2 * P)} "
            "(same data shape and number of patterns)"
        )
    return state


def _objective(ops: _Operators, blocks: FloatArray, beta: float) -> float:
    residual = ops.F(blocks) - ops.y
    group = float(np.sum(np.sqrt(np.einsum("db,db->b", blocks, blocks))))
    return 0.5 * float(residual @ residual) + beta * group


def _dual_bound(ops: _Operators, blocks: FloatArray, gt_eta: FloatArray, beta: float) -> float:
    r"""Weak-duality bound from :math:`r = y - Fv` and :math:`G^\top\eta` (η ≤ 0), rescaled units."""
    r = ops.y - ops.F(blocks)
    mu = ops.FT(r) - gt_eta
    worst = float(np.sqrt(np.einsum("db,db->b", mu, mu)).max(initial=0.0))
    theta_max = math.inf if worst == 0.0 else beta / worst
    rr, ry = float(r @ r), float(r @ ops.y)
    if rr == 0.0:
        return 0.0
    theta = min(max(ry / rr, 0.0), theta_max)
    return theta * ry - 0.5 * theta**2 * rr


def _cone_violation(ops: _Operators, blocks: FloatArray) -> float:
    pre = ops.X @ blocks
    signed = ops.E2 * pre
    scale = float(np.max(np.abs(pre), initial=0.0))
    worst = float(np.max(-signed, initial=0.0))
    return max(worst, 0.0) / max(scale, 1e-300)


#: The phase starts once both relative residuals are at most this (or ``tol`` if larger): on the
#: issue's instance it certified 1e-4 from residuals 6e-4 / 1.5e-3 (1,000 ADMM iterations).
ACTIVE_SET_RESIDUALS = 1e-3
#: ``active_set=None`` runs the phase below this ``beta / beta_max``.
ACTIVE_SET_BETA_RATIO = 4e-3
#: Rounds of the active-set phase (each: one restricted Clarabel solve, then rows and blocks added).
ACTIVE_SET_ROUNDS = 12
#: The restricted program is not built beyond this many cone rows ``n |W|`` (status
#: ``"too_large"``): a memory guard, an estimate (20 M nonzeros at d = 10), not a measurement.
ACTIVE_SET_MAX_CONE_ROWS = 2_000_000
#: Blocks of the ADMM's point in the first working set: norm above this times the largest.
ACTIVE_SET_MIN_NORM = 1e-3
#: Blocks added per round: the most violated, at most this many or |W| if larger.
ACTIVE_SET_ADD = 20


@dataclass
class ActiveSetReport:
    """What the active-set phase did: restricted solves, final working set, time, the value
    and bound (rescaled units) and how it ended (``optimal``, ``stalled``, ``time_limit``,
    ``max_rounds``, ``too_large``)."""

    solves: int
    working: int
    time: float
    value: float
    lower_bound: float
    status: str


def _block_data(ops: _Operators, beta: float) -> active_set.BlockData:
    return active_set.BlockData(X=ops.X, y=ops.y, masks=ops.D, signs=ops.E2, beta=beta)


def _certify(
    ops: _Operators, data: active_set.BlockData, blocks: FloatArray
) -> tuple[float, float, FloatArray, FloatArray]:
    """Projected (feasible) blocks' value, the exact-dual-norm bound at their residual, the
    blocks and the per-block dual norms (rescaled units)."""
    feasible = _feasible_beyond_rounding(ops, blocks)
    value = _objective(ops, feasible, data.beta)
    g = data.FT(ops.y - ops.F(feasible))
    norms, gt_eta = active_set.dual_norms(data, g)
    return value, _dual_bound(ops, feasible, gt_eta, data.beta), feasible, norms


def _active_set_phase(
    ops: _Operators,
    beta: float,
    start_blocks: FloatArray,
    tol: float,
    deadline: float | None,
    start_bound: float = -math.inf,
) -> tuple[FloatArray, float, float, ActiveSetReport]:
    r"""Working-set refinement of the ADMM's blocks (:mod:`copos.solvers.admm.active_set`).

    Returns the feasible blocks, their value, the best certified lower bound (rescaled units)
    and a report.  The working set starts as the nonzero blocks plus the most violated
    (:math:`\sigma_b > \beta`); every round solves the restricted program (all cone rows of
    the working blocks) and adds the violating outside blocks.  Stops at a relative gap
    ``<= tol``, when nothing is violated (``stalled`` if the gap is still above ``tol``), when
    the program would be too large, or at ``deadline``.
    """
    start = time.perf_counter()
    data = _block_data(ops, beta)
    value, bound, blocks, norms = _certify(ops, data, start_blocks)
    bound = max(bound, start_bound)
    sizes = np.sqrt(np.einsum("db,db->b", start_blocks, start_blocks))
    nonzero = np.flatnonzero(sizes > ACTIVE_SET_MIN_NORM * sizes.max(initial=0.0))
    working = sorted(set(nonzero.tolist()) | set(_most_violated(norms, beta, nonzero, 0)))
    best = (value, bound, blocks)
    status, solves = "max_rounds", 0
    for _ in range(ACTIVE_SET_ROUNDS):
        if _relative_gap(best[0], best[1]) <= tol:
            status = "optimal"
            break
        if deadline is not None and time.perf_counter() > deadline:
            status = "time_limit"
            break
        if len(working) * ops.n > ACTIVE_SET_MAX_CONE_ROWS:
            status = "too_large"
            break
        left = None if deadline is None else deadline - time.perf_counter()
        restricted, _ = active_set.solve_restricted(data, working, left)
        solves += 1
        candidate = np.zeros_like(start_blocks)
        candidate[:, working] = restricted
        value, bound, blocks, norms = _certify(ops, data, candidate)
        if value < best[0]:
            best = (value, best[1], blocks)
        best = (best[0], max(bound, best[1]), best[2])
        fresh = _most_violated(norms, beta, np.asarray(working), len(working))
        working = sorted(set(working) | set(fresh))
        if not fresh:
            status = "optimal" if _relative_gap(best[0], best[1]) <= tol else "stalled"
            break
    else:
        if _relative_gap(best[0], best[1]) <= tol:
            status = "optimal"
    report = ActiveSetReport(
        solves=solves,
        working=len(working),
        time=time.perf_counter() - start,
        value=float(best[0]),
        lower_bound=float(best[1]),
        status=status,
    )
    return best[2], best[0], best[1], report


def _feasible_beyond_rounding(ops: _Operators, blocks: FloatArray) -> FloatArray:
    """:func:`_feasible_blocks`, touching only blocks violated beyond rounding
    (:data:`PROJECTION_ROUNDING` relative to ``max|Xv_b|``): reprojecting a block that is
    feasible up to rounding can lose it (the NNLS leaves rounding-size violations, and a block
    still violated after :data:`PROJECTION_ROUNDS` is zeroed)."""
    pre = ops.X @ blocks
    signed = ops.E2 * pre
    limit = -PROJECTION_ROUNDING * np.abs(pre).max(axis=0)
    feasible = blocks.copy()
    for b in np.flatnonzero(signed.min(axis=0) < limit):
        feasible[:, b] = _project_block(ops, blocks[:, b], signed[:, b], b)
    return feasible


def _most_violated(norms: FloatArray, beta: float, exclude: IntArray, size: int) -> list[int]:
    """Blocks outside ``exclude`` whose dual norm exceeds ``beta``, most violated first, at most
    ``max(ACTIVE_SET_ADD, size)`` (the working set at most doubles per round).  With at most
    ``max(20, size // 4)`` the noise-1 cell of the grid at beta = 0.01 took 7 restricted solves
    (282 s) as the working set crept from about 250 to 375 blocks."""
    outside = np.setdiff1d(np.flatnonzero(norms > beta), exclude)
    order = outside[np.argsort(-norms[outside])]
    return order[: max(ACTIVE_SET_ADD, size)].tolist()
