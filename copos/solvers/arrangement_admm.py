r"""ADMM for the Pilanci–Ergen convex program with fixed activation patterns (Bai et al. 2022).

Program (scalar output, :math:`c = 1`), patterns :math:`D_1,\dots,D_P`, :math:`E_i = 2D_i - I`:

.. math::

    \min_{v_i, w_i}\ \tfrac12\Big\|\sum_{i=1}^P D_iX(v_i - w_i) - y\Big\|_2^2
        + \beta\sum_{i=1}^P\big(\|v_i\|_2 + \|w_i\|_2\big)
    \quad\text{s.t.}\quad E_iXv_i \ge 0,\ E_iXw_i \ge 0 ,

the program of :func:`copos.network.convex.solve_convex_program`, solved here without CVXPY.

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
:math:`(I + F^\top F/\rho + G^\top G)u = b` has :math:`2dP` unknowns, but
:math:`E_i^2 = I` gives :math:`G^\top G = I_{2P}\otimes X^\top X`, so with
:math:`B = I_{2P}\otimes(I + X^\top X)` the Woodbury identity reduces it to the :math:`n\times n`
SPD system

.. math:: \big(\rho I_n + F B^{-1} F^\top\big),\qquad
    F B^{-1} F^\top = 2\,(X M X^\top)\circ(D D^\top),\ M = (I + X^\top X)^{-1},

which is inverted once through its Cholesky factor (again only when the adaptive :math:`\rho`
changes).  One iteration costs four products with ``X`` of total :math:`O(ndP)` flops plus one
:math:`n\times n` matrix-vector product.

Implementation notes
--------------------
* The data are rescaled internally to :math:`\|X\|_2 = 1`, :math:`\|y\|_2 = 1` (the program is
  invariant up to :math:`\beta \to \beta/(\|X\|_2\|y\|_2)` and a factor :math:`\|y\|^2` on the
  value); results are reported in the original units.
* Two refinements of the plain splitting, both standard: the cone constraint gets the penalty
  :math:`\sigma\rho` (``sigma``, default 10; equivalent to scaling :math:`G` by
  :math:`\sqrt\sigma`), and over-relaxation :math:`\alpha` (``relaxation``, default 1.6; Boyd et
  al. 2011, §3.4.3).  On our test problems these cut iterations by about 1.5-2x against
  :math:`\sigma = \alpha = 1`.
* The cone multipliers and slacks are kept in "sign-flipped" coordinates :math:`E\circ\nu`,
  :math:`E\circ s`, so that the slack update, the dual update and :math:`G^\top(s - \nu)` need
  only a few array passes (:math:`s - \nu = |t|` after the update); :math:`G^\top\nu` is tracked
  by a contracting recursion (errors halve every iteration) instead of an extra product.
* Stopping rule (checked every ``check_every`` iterations): the relative primal residual
  :math:`\|(u - v, \sqrt\sigma(Gu - s))\| / \max(1, \|(u, \sqrt\sigma Gu)\|, \|(v, \sqrt\sigma Gv)\|)`
  and the relative dual residual (the :math:`u`-stationarity residual
  :math:`\nabla f(u) + \rho\lambda + \sigma\rho G^\top\nu`, computed in closed form from the
  iterate differences) divided by :math:`\max(\beta, \|F^\top(Fu - y)\|, \|\rho\lambda\|,
  \sigma\rho\|G^\top\nu\|)`, both in the rescaled units, are at most ``tol``.  The other KKT
  conditions (subgradient of the group norm, sign and complementarity of the cone multipliers)
  hold exactly after every iteration by construction.
* ``rho`` is adapted by residual balancing (OSQP-style, factor :math:`\sqrt{r_p/r_d}`, applied
  when it changes :math:`\rho` by more than ``2x``, at most every 50 iterations); each change
  costs one :math:`n\times n` Cholesky.
* Convergence is linear only asymptotically and can be slow: reaching a relative objective error
  of 1e-5 took a few hundred to ~20,000 iterations on small test problems (slowest with complete
  arrangements in low dimension and small ``beta``).  The residuals are not a certificate; the
  lower bound below and ``recovered_objective`` are.

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
import numbers
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

from copos._validation import check_positive
from copos.errors import InvalidInputError
from copos.network.arrangements import Arrangements
from copos.network.convex import (
    DEFAULT_NEURON_TOL,
    RecoveredNetwork,
    network_objective,
    recover_network,
)
from copos.network.problem import TrainingProblem
from copos.solvers.base import SolveInfo

FloatArray = NDArray[np.float64]
BoundKind = Literal["exact", "upper"]
Status = Literal["optimal", "max_iterations", "time_limit"]

SOLVER_NAME = "copos-admm"
#: Default initial penalty, in the rescaled units (‖X‖₂ = ‖y‖₂ = 1); adapted during the run.
DEFAULT_RHO = None
DEFAULT_MAX_ITERS = 20_000
DEFAULT_CHECK_EVERY = 10
#: Residual balancing: change ρ when the balancing factor exceeds this (or its inverse).
RHO_ADAPT_THRESHOLD = 2.0
#: and at most once per this many iterations.
RHO_ADAPT_INTERVAL = 50


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
class ArrangementAdmmResult(RecoveredNetwork):
    """Result of :func:`solve_arrangement_admm`.

    Attributes
    ----------
    value:
        Convex objective at the returned blocks ``(v_blocks, w_blocks)``.  These satisfy the cone
        constraints only up to the ADMM accuracy (see ``cone_violation``).
    lower_bound:
        Dual-certificate lower bound on the optimal value of the program over ``arrangements``
        (valid for any accuracy; see the module docstring).  With complete arrangements it is a
        lower bound on every network's training objective.
    bound_kind:
        ``"exact"`` for complete arrangements, ``"upper"`` for sampled ones (as in
        :class:`copos.network.convex.ConvexProgramResult`).
    solve:
        Solver, status (``"optimal"``, ``"max_iterations"`` or ``"time_limit"``), time, the final
        stopping residuals (``primal_residual``/``dual_residual``, relative, rescaled units) and
        ``extra`` diagnostics.
    U, V:
        Recovered network, shapes ``(d, m)`` and ``(m, 1)``
        (:func:`copos.network.convex.recover_network`).
    recovered_objective:
        Training objective of ``(U, V)`` with the true ReLU (an actual network, hence an upper
        bound on the training optimum at width ``m``).
    v_blocks, w_blocks:
        Blocks :math:`v_i`, :math:`w_i` as rows of ``(P, d)`` arrays.
    cone_violation:
        :math:`\\max_{i,j}\\big(-(E_iXb_i)_j\\big)_+` over all returned blocks, divided by
        ``max(1e-300, max_i ||X b_i||_inf)`` (relative to the size of the pre-activations).
    arrangements:
        The patterns used.
    state:
        Final iterate, for ``warm_start``.
    """

    value: float
    lower_bound: float
    bound_kind: BoundKind
    solve: SolveInfo
    U: FloatArray
    V: FloatArray
    recovered_objective: float
    v_blocks: FloatArray
    w_blocks: FloatArray
    cone_violation: float
    arrangements: Arrangements
    state: AdmmState

    @property
    def status(self) -> str:
        """``"optimal"``, ``"max_iterations"`` or ``"time_limit"``."""
        return self.solve.status

    @property
    def iterations(self) -> int:
        """Number of ADMM iterations performed."""
        return int(self.solve.iterations or 0)

    @property
    def duality_gap(self) -> float:
        """``recovered_objective - lower_bound``.

        With complete arrangements both are certified (the lower bound holds for every network),
        so this is >= 0 up to rounding.  With sampled arrangements the lower bound only bounds the
        sampled program, and the recovered network (whose true activation patterns may differ
        from the sampled ones when ``cone_violation > 0``) can lie below it, so it may be < 0.
        """
        return self.recovered_objective - self.lower_bound

    @property
    def relative_duality_gap(self) -> float:
        """``duality_gap / max(1e-300, |recovered_objective|)``."""
        return self.duality_gap / max(1e-300, abs(self.recovered_objective))


class _Operators:
    """Rescaled data, the maps F, Fᵀ, the block inverse M and the Woodbury core."""

    def __init__(self, X: FloatArray, y: FloatArray, masks: FloatArray, sigma: float) -> None:
        self.X = X
        self.XT = np.ascontiguousarray(X.T)
        self.y = y
        self.D = masks  # (n, P) of 0/1
        self.E = 2.0 * masks - 1.0  # (n, P) of ±1
        self.E2 = np.ascontiguousarray(np.hstack([self.E, self.E]))  # (n, 2P): E on both halves
        self.n, self.d = X.shape
        self.P = masks.shape[1]
        self.gram = X.T @ X
        self.sigma = sigma
        self.M = np.linalg.inv(np.eye(self.d) + sigma * self.gram)
        self.M = (self.M + self.M.T) / 2
        kernel = X @ self.M @ X.T
        self.core = 2.0 * kernel * (masks @ masks.T)  # F B^{-1} F^T
        self.rho = float("nan")
        self.core_inverse: FloatArray | None = None

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
        P = self.P
        pre = self.X @ (blocks[:, :P] - blocks[:, P:])
        return np.einsum("np,np->n", pre, self.D)

    def FT_half(self, r: FloatArray) -> FloatArray:
        """The v-half of Fᵀr (the w-half is its negative)."""
        return self.XT @ (self.D * r[:, None])

    def FT(self, r: FloatArray) -> FloatArray:
        half = self.FT_half(r)
        return np.hstack([half, -half])

    def solve_u(self, rhs: FloatArray) -> FloatArray:
        """(I + FᵀF/ρ + GᵀG)⁻¹ rhs by Woodbury."""
        assert self.core_inverse is not None
        c = self.M @ rhs
        t = self.core_inverse @ self.F(c)
        correction = self.M @ self.FT_half(t)
        c[:, : self.P] -= correction
        c[:, self.P :] += correction
        return c

    def GT(self, cone: FloatArray) -> FloatArray:
        """Gᵀ applied to an (n, 2P) array in sign-flipped coordinates (E ∘ cone already)."""
        return self.XT @ cone

    def flip(self, cone: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """Multiply the (n, 2P) array by E on both halves (E ∘ ·), into ``out`` if given."""
        return np.multiply(cone, self.E2, out=out)


def solve_arrangement_admm(
    problem: TrainingProblem,
    arrangements: Arrangements,
    *,
    rho: float | None = DEFAULT_RHO,
    tol: float = 1e-6,
    max_iters: int = DEFAULT_MAX_ITERS,
    warm_start: ArrangementAdmmResult | AdmmState | None = None,
    time_limit: float | None = None,
    adaptive_rho: bool = True,
    sigma: float = 10.0,
    relaxation: float = 1.6,
    check_every: int = DEFAULT_CHECK_EVERY,
    neuron_tol: float = DEFAULT_NEURON_TOL,
) -> ArrangementAdmmResult:
    r"""Solve the c = 1 convex program over ``arrangements`` by ADMM (module docstring).

    Parameters
    ----------
    problem:
        Training problem with scalar output (``c = 1``).
    arrangements:
        Activation patterns (complete from ``enumerate_arrangements`` or sampled).
    rho:
        Initial penalty in the rescaled units (``‖X‖₂ = ‖y‖₂ = 1``); default
        ``max(1e-3, min(1, 10 β'))`` with :math:`\beta' = \beta/(\|X\|_2\|y\|_2)`, or the final
        ``rho`` of ``warm_start``.
    tol:
        Relative primal and dual residual at which to stop (status ``"optimal"``).
    max_iters:
        Iteration cap (status ``"max_iterations"``).
    warm_start:
        A previous result or :class:`AdmmState` for the same data shape and the same number of
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
    check_every:
        Residuals are computed every this many iterations.
    neuron_tol:
        Passed to :func:`copos.network.convex.recover_network`.

    Raises
    ------
    InvalidInputError
        ``c != 1`` (the program and Bai et al.'s ADMM are for scalar outputs), patterns of the
        wrong length, no patterns, or bad parameters.
    """
    start = time.perf_counter()
    if problem.c != 1:
        raise InvalidInputError(
            f"solve_arrangement_admm needs a scalar output (c = 1); got c = {problem.c}. Bai et "
            "al.'s ADMM is for the scalar-output Pilanci-Ergen program; for vector outputs use the "
            "copositive program of Sahiner et al. (2021) or its relaxations."
        )
    if not isinstance(arrangements, Arrangements):
        raise InvalidInputError(
            f"arrangements must be an Arrangements object; got {type(arrangements).__name__}"
        )
    if arrangements.n != problem.n:
        raise InvalidInputError(
            f"arrangements have patterns of length {arrangements.n}, but X has {problem.n} rows"
        )
    if len(arrangements) == 0:
        raise InvalidInputError("arrangements is empty; at least one pattern is needed")
    tol = check_positive(tol, "tol")
    max_iters = _check_count(max_iters, "max_iters")
    check_every = _check_count(check_every, "check_every")
    neuron_tol = check_positive(neuron_tol, "neuron_tol")
    if time_limit is not None:
        time_limit = check_positive(time_limit, "time_limit")
    if rho is not None:
        rho = check_positive(rho, "rho")
    sigma = check_positive(sigma, "sigma")
    relaxation = check_positive(relaxation, "relaxation")
    if relaxation >= 2.0:
        raise InvalidInputError(f"relaxation must lie in (0, 2); got {relaxation!r}")

    X_orig, y_orig = problem.X, problem.Y[:, 0]
    x_scale = float(np.linalg.norm(X_orig, 2))
    y_scale = float(np.linalg.norm(y_orig))
    if x_scale == 0.0:
        raise InvalidInputError("X is zero; the program is trivial (all blocks zero)")
    if y_scale == 0.0:
        y_scale = 1.0
    beta = problem.beta / (x_scale * y_scale)
    masks = np.ascontiguousarray(arrangements.patterns.T, dtype=np.float64)
    ops = _Operators(X_orig / x_scale, y_orig / y_scale, masks, sigma)
    alpha = relaxation
    n, d, P = ops.n, ops.d, ops.P

    # --- initial point (rescaled units) -------------------------------------------------------
    u_to_scaled = x_scale / y_scale  # blocks: scaled = original * x_scale / y_scale
    if warm_start is not None:
        state = warm_start.state if isinstance(warm_start, ArrangementAdmmResult) else warm_start
        if not isinstance(state, AdmmState):
            raise InvalidInputError(
                "warm_start must be an ArrangementAdmmResult or AdmmState; "
                f"got {type(warm_start).__name__}"
            )
        if state.blocks.shape != (d, 2 * P) or state.cone_multiplier.shape != (n, 2 * P):
            raise InvalidInputError(
                f"warm_start has blocks {state.blocks.shape} and cone multipliers "
                f"{state.cone_multiplier.shape}; expected {(d, 2 * P)} and {(n, 2 * P)} "
                "(same data shape and number of patterns)"
            )
        rho_now = float(state.rho) if rho is None else rho
        v = state.blocks * u_to_scaled
        lam = state.block_multiplier / (x_scale * y_scale) / rho_now
        nu_flip = ops.flip(np.minimum(state.cone_multiplier, 0.0)) / (y_scale * sigma * rho_now)
    else:
        rho_now = max(1e-3, min(1.0, 10.0 * beta)) if rho is None else rho
        v = np.zeros((d, 2 * P))
        lam = np.zeros((d, 2 * P))
        nu_flip = np.zeros((n, 2 * P))
    # slack s = (Gv)_+; every array on the n x 2P cone side is kept as E ∘ (.) ("flipped")
    s_flip = ops.flip(np.maximum(ops.flip(ops.X @ v), 0.0))
    a = ops.GT(s_flip - nu_flip)  # G^T (s - ν)
    gt_nu = ops.GT(nu_flip)  # G^T ν

    ops.factor(rho_now)
    FTy = ops.FT(ops.y)
    u = v.copy()
    iterations = 0
    status: Status = "max_iterations"
    primal_rel = dual_rel = float("inf")
    rho_changes = 0
    last_adapt = 0
    history: list[tuple[int, float, float, float]] = []
    iter_start = time.perf_counter()
    t, q = np.empty((n, 2 * P)), np.empty((n, 2 * P))  # work arrays of the cone side

    for k in range(1, max_iters + 1):
        check = k % check_every == 0 or k == max_iters
        v_old, gt_s_old = v, a + gt_nu
        # u-update: (I + FᵀF/ρ + σGᵀG) u = Fᵀy/ρ + v - λ + σGᵀ(s - ν)
        u = ops.solve_u(FTy / rho_now + v - lam + sigma * a)
        gu = ops.gram @ u  # GᵀG u, block by block
        # relaxed s- and ν-updates in flipped coordinates: t = E∘(α Gu + (1-α) s + ν)
        np.matmul(ops.X, alpha * u, out=t)
        t += nu_flip
        if alpha != 1.0:
            t += (1.0 - alpha) * s_flip
        np.abs(t, out=q)
        ops.flip(q, out=q)  # E ∘ |t| = E ∘ (s_new - ν_new)
        np.subtract(t, q, out=nu_flip)
        nu_flip *= 0.5  # E ∘ min(t, 0)
        if alpha != 1.0 or check:
            np.add(t, q, out=s_flip)
            s_flip *= 0.5  # E ∘ max(t, 0)
        a_old, a = a, ops.GT(q)
        gt_nu = 0.5 * (gt_nu + alpha * gu + (1.0 - alpha) * (a_old + gt_nu) - a)
        # v-update (block soft-thresholding of the relaxed u) and λ-update
        z = alpha * u + (1.0 - alpha) * v + lam
        norms = np.sqrt(np.einsum("db,db->b", z, z))
        v = z * np.maximum(0.0, 1.0 - (beta / rho_now) / np.maximum(norms, 1e-300))
        lam = z - v
        iterations = k

        if check:
            gv = ops.gram @ v
            cone_gap = ops.X @ u - s_flip  # E ∘ (Gu - s)
            primal = math.sqrt(
                float(np.sum((u - v) ** 2)) + sigma * float(np.sum(cone_gap * cone_gap))
            )
            scale_p = max(
                1.0,
                math.sqrt(float(np.sum(u * u) + sigma * np.sum(u * gu))),
                math.sqrt(float(np.sum(v * v) + sigma * np.sum(v * gv))),
            )
            gt_s = a + gt_nu
            stationarity = (v - v_old) + (1.0 - alpha) * (u - v_old)
            stationarity += sigma * ((gt_s - gt_s_old) + (1.0 - alpha) * (gu - gt_s_old))
            dual = rho_now * float(np.linalg.norm(stationarity))
            scale_d = max(
                beta,
                float(np.linalg.norm(ops.FT_half(ops.F(u) - ops.y))) * math.sqrt(2.0),
                rho_now * float(np.linalg.norm(lam)),
                sigma * rho_now * float(np.linalg.norm(gt_nu)),
            )
            primal_rel, dual_rel = primal / scale_p, dual / scale_d
            history.append((k, primal_rel, dual_rel, rho_now))
            if primal_rel <= tol and dual_rel <= tol:
                status = "optimal"
                break
            if adaptive_rho and k - last_adapt >= RHO_ADAPT_INTERVAL and dual_rel > 0:
                factor = math.sqrt(primal_rel / dual_rel)
                if factor > RHO_ADAPT_THRESHOLD or factor < 1.0 / RHO_ADAPT_THRESHOLD:
                    new_rho = rho_now * factor
                    # scaled multipliers λ = μ/ρ, ν = η/(σρ); s is unchanged
                    lam *= rho_now / new_rho
                    nu_flip *= rho_now / new_rho
                    gt_nu *= rho_now / new_rho
                    a = gt_s - gt_nu
                    rho_now = new_rho
                    ops.factor(rho_now)
                    rho_changes += 1
                    last_adapt = k
        if time_limit is not None and time.perf_counter() - start > time_limit:
            status = "time_limit"
            break
    iter_time = time.perf_counter() - iter_start

    # --- results in original units -------------------------------------------------------------
    blocks_scaled = v
    gt_nu_exact = ops.GT(nu_flip)
    lower_scaled = _dual_bound(ops, blocks_scaled, sigma * rho_now * gt_nu_exact, beta)
    value_scaled = _objective(ops, blocks_scaled, beta)
    value = value_scaled * y_scale**2
    lower_bound = lower_scaled * y_scale**2
    blocks = blocks_scaled / u_to_scaled
    v_blocks = np.ascontiguousarray(blocks[:, :P].T)
    w_blocks = np.ascontiguousarray(blocks[:, P:].T)
    U, V = recover_network(v_blocks, w_blocks, neuron_tol=neuron_tol)
    recovered = network_objective(problem, U, V)
    violation = _cone_violation(ops, blocks_scaled)
    state = AdmmState(
        blocks=blocks,
        block_multiplier=rho_now * lam * (x_scale * y_scale),
        cone_multiplier=ops.flip(nu_flip) * sigma * rho_now * y_scale,
        rho=rho_now,
    )
    info = SolveInfo(
        solver=SOLVER_NAME,
        status=status,
        solve_time=time.perf_counter() - start,
        primal_residual=primal_rel,
        dual_residual=dual_rel,
        iterations=iterations,
        accuracy=tol,
        extra={
            "rho": rho_now,
            "rho_changes": rho_changes,
            "iteration_time": iter_time,
            "setup_time": iter_start - start,
            "cone_violation": violation,
            "lower_bound": lower_bound,
            "history": history,
        },
    )
    return ArrangementAdmmResult(
        value=value,
        lower_bound=lower_bound,
        bound_kind="exact" if arrangements.complete else "upper",
        solve=info,
        U=U,
        V=V,
        recovered_objective=recovered,
        v_blocks=v_blocks,
        w_blocks=w_blocks,
        cone_violation=violation,
        arrangements=arrangements,
        state=state,
    )


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
    signed = ops.flip(pre)
    scale = float(np.max(np.abs(pre), initial=0.0))
    worst = float(np.max(-signed, initial=0.0))
    return max(worst, 0.0) / max(scale, 1e-300)


def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InvalidInputError(f"{name} must be a positive integer; got {value!r}")
    return int(value)
