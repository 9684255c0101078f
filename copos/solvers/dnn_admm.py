r"""Operator-based ADMM for the null-space reduced lifted DNN relaxation (no constraint matrix).

The program (``copos.network.lifted``, reduced form; :math:`q = n + d + c`, blocks ``a, u, v``)

.. math::

    p^\star = \min_{S \in \mathbb S^q}\ f(S) = \tfrac12\|S_{av} - Y\|_F^2
        + \langle R, S\rangle,\qquad R = \tfrac\beta2\operatorname{blkdiag}(0_n, I_d, I_c),

    \text{s.t.}\ \ S \succeq 0,\qquad W := \mathcal A(S) = T_{ab}ST_{ab}^\top \in \mathcal W,

where :math:`T_{ab} = \begin{bmatrix} I & 0 & 0\\ I & -X & 0\end{bmatrix}` (the first ``2n``
rows of the null-space basis ``T``) and :math:`\mathcal W = \{W \in \mathbb S^{2n}: W_{jk} \ge 0`
off the complementarity entries, :math:`W_{a_ib_i} = 0\}`.  Its dual cone
:math:`\mathcal W^*` is ``N >= 0`` off the complementarity entries, free on them.

Algorithm (two-block ADMM in Douglas-Rachford form, Anderson-accelerated)
--------------------------------------------------------------------------
First an exact change of coordinates (:class:`_Scaling`): ``X/σ``, ``σY/s``, ``β/s`` with
:math:`\sigma = \|X\|_2`, ``s = σ·rms(Y)`` (:math:`p^\star` scales by :math:`(s/\sigma)^2`).
Then split :math:`S = P` (:math:`P \succeq 0`) and :math:`\hat{\mathcal A}(S) = W`
(:math:`W \in \mathcal W`), :math:`\hat{\mathcal A}(S) = (ww^\top\circ\mathcal A(S))/\kappa`
with :math:`w` the inverse row norms of :math:`T_{ab}` (row equilibration) and
:math:`\kappa = \|\operatorname{diag}(w)T_{ab}\|_2^2` (so :math:`\|\hat{\mathcal A}\| \le 1`;
:math:`\mathcal W` is a cone, so the weights do not change the feasible set).  State
:math:`\zeta = (\zeta_P, \zeta_W)`; one step

1. ``P = Π_PSD(ζ_P)`` — one ``eigh`` of a q×q matrix; ``W = Π_W(ζ_W)`` — entrywise;
2. ``S`` solves :math:`(\mathcal H + \rho I + \rho\hat{\mathcal A}^*\hat{\mathcal A})S =
   \tfrac12\tilde Y - R + \rho(2P - \zeta_P) + \rho\hat{\mathcal A}^*(2W - \zeta_W)` by
   warm-started conjugate gradients (:math:`\mathcal H` = Hessian of ``f``: ``1/2`` on the
   ``av``/``va`` entries; :math:`\tilde Y` the symmetric embedding of ``Y``); the spectrum lies
   in :math:`[\rho, 2\rho + \tfrac12]`, and :math:`\mathcal A`, :math:`\mathcal A^*` are applied
   block-wise in :math:`O(n^2d)` — no constraint matrix is ever formed;
3. ``ζ ← ζ + α(S - P, Â(S) - W)``, then type-II Anderson acceleration on ``ζ`` (memory
   ``anderson``), safeguarded: an accelerated point whose fixed-point residual grows is
   replaced by the plain step.

``ρ`` is adapted by residual balancing (every 25 iterations, ``ρ ← ρ·sqrt(r_p/r_d)`` when the
ratio leaves ``[1/5, 5]``).  Memory: a handful of q×q and 2n×2n arrays plus ``2·anderson``
vectors of length ``q² + 4n²``.

Multipliers and the certified lower bound
-----------------------------------------
The multipliers are :math:`G = \rho(P - \zeta_P) \succeq 0` and :math:`\hat N = \rho(W -
\zeta_W) \in \mathcal W^*` (exactly, by Moreau; ``N = ww∘N̂/κ`` in the units of
:math:`\mathcal A`, mapped back to the original coordinates and clipped again anyway), and
``Z = Y - P_av``.  For every feasible ``S`` (Lagrangian with the conjugate of the loss)

.. math::

    f(S) \ge \langle Z, Y\rangle - \tfrac12\|Z\|^2 + \langle C(Z), S\rangle
        \ge \mathcal D(Z) + \langle G, S\rangle,\qquad
    G := C(Z) - \mathcal A^*(N),\ \ C(Z) = R - \operatorname{sym}(E_aZE_v^\top),

because :math:`\langle N, \mathcal A(S)\rangle \ge 0`.  ``G`` is recomputed exactly from
``(Z, N)``; it is PSD only up to the dual residual.  Two valid corrections (see
:func:`certified_lower_bound`):

* *weighted trace* (default, tighter): for :math:`D_\mu = \operatorname{blkdiag}(\mu I_n,
  \tfrac\beta2 I - \mu X^\top X, \tfrac\beta2 I_c) \succ 0` and feasible ``S``,
  :math:`\langle D_\mu, S\rangle \le \langle R, S\rangle \le f(S)` (uses
  :math:`\operatorname{tr}S_{aa} \le \langle X^\top X, S_{uu}\rangle`, below).  With
  :math:`\lambda = \min(0, \lambda_{\min}(D_\mu^{-1/2}GD_\mu^{-1/2}))` and an optimal ``S*``:
  :math:`p^\star \ge \mathcal D + \lambda p^\star`, i.e. :math:`p^\star \ge \mathcal D/(1-\lambda)`.
* *plain trace*: :math:`p^\star \ge \mathcal D + \min(0, \lambda_{\min}(G))\tau`,
  :math:`\tau = (1 + \|X\|_2^2)\,\|Y\|_F^2/\beta \ge \operatorname{tr}S^\star`.

Trace lemma: with :math:`W = \mathcal A(S)`, :math:`W_{aa} = S_{aa}`, :math:`W_{ab} = S_{aa} -
S_{au}X^\top`, :math:`W_{bb} = S_{aa} - XS_{ua} - S_{au}X^\top + XS_{uu}X^\top`, so
:math:`\operatorname{tr}W_{aa} + \operatorname{tr}W_{bb} - 2\operatorname{tr}W_{ab} =
\langle X^\top X, S_{uu}\rangle` (the lifted :math:`a - b = Xu`).  Feasibility gives
:math:`\operatorname{tr}W_{ab} = 0` and :math:`W_{bb} \succeq 0`, hence
:math:`\operatorname{tr}S_{aa} \le \langle X^\top X, S_{uu}\rangle \le \|X\|_2^2\operatorname{tr}S_{uu}`;
``S = 0`` is feasible, so :math:`\tfrac\beta2(\operatorname{tr}S^\star_{uu} +
\operatorname{tr}S^\star_{vv}) \le p^\star \le \tfrac12\|Y\|_F^2`.

The reported primal point is ``P`` (exactly PSD, so :math:`\Lambda = TPT^\top` satisfies
:math:`\Lambda M^\top = 0` exactly); the sign/complementarity constraints on
:math:`\mathcal A(P)` hold only approximately, and their violation is reported.  ``value`` is
:math:`f(P)`; the certified statement is ``lower_bound <= p*``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

from copos._validation import check_positive
from copos.errors import InvalidInputError
from copos.network.problem import TrainingProblem
from copos.solvers.base import SolveInfo

FloatArray = NDArray[np.float64]
Status = Literal["optimal", "max_iterations", "time_limit", "diverged"]

#: Solver name reported in :class:`SolveInfo`.
SOLVER_NAME = "copos-admm"
#: Residual-balancing parameters: adapt when one residual exceeds the other by this factor.
_BALANCE_RATIO = 5.0
#: How often (iterations) residual balancing may change ``rho``.
_BALANCE_EVERY = 25
#: Range allowed for ``rho`` (normalized coordinates).
_RHO_RANGE = (1e-4, 1e4)
#: Candidate ``theta`` (``mu = theta * beta / (2 ||X||^2)``) tried for the final bound.
_THETAS = (0.5, 0.9, 0.99)


# --------------------------------------------------------------------------------------------
# Linear operators of the reduced program
# --------------------------------------------------------------------------------------------


class _Operators:
    r"""Block-wise :math:`\mathcal A`, :math:`\mathcal A^*`, the Hessian of ``f`` and constants."""

    def __init__(self, problem: TrainingProblem) -> None:
        self.X = np.ascontiguousarray(problem.X, dtype=np.float64)
        self.Y = np.asarray(problem.Y, dtype=np.float64)
        self.beta = float(problem.beta)
        self.n, self.d = self.X.shape
        self.c = self.Y.shape[1]
        self.q = self.n + self.d + self.c
        self.sigma2 = float(np.linalg.norm(self.X, 2) ** 2)
        self.kappa = 2.0 + self.sigma2
        self.a = slice(0, self.n)
        self.u = slice(self.n, self.n + self.d)
        self.v = slice(self.n + self.d, self.q)
        self.comp = np.arange(self.n)

    # -- A and its adjoint (unscaled) --------------------------------------------------------
    def A(self, S: FloatArray) -> FloatArray:
        r""":math:`T_{ab}ST_{ab}^\top` (2n×2n) in :math:`O(n^2d)`."""
        n, a, u = self.n, self.a, self.u
        S_aa = S[a, a]
        B = S[a, u] @ self.X.T
        W = np.empty((2 * n, 2 * n))
        W[:n, :n] = S_aa
        W[:n, n:] = S_aa - B
        W[n:, :n] = W[:n, n:].T
        W[n:, n:] = S_aa - B - B.T + self.X @ S[u, u] @ self.X.T
        return W

    def At(self, N: FloatArray) -> FloatArray:
        r""":math:`T_{ab}^\top NT_{ab}` (q×q): ``aa = N_aa+N_ab+N_ba+N_bb``, ``au = -(N_ab+N_bb)X``, ``uu = XᵀN_bbX``."""
        n, a, u = self.n, self.a, self.u
        N_ab, N_bb = N[:n, n:], N[n:, n:]
        out = np.zeros((self.q, self.q))
        out[a, a] = N[:n, :n] + N_ab + N_ab.T + N_bb
        out[a, u] = -(N_ab + N_bb) @ self.X
        out[u, a] = out[a, u].T
        out[u, u] = self.X.T @ N_bb @ self.X
        return out

    # -- the objective -----------------------------------------------------------------------
    def objective(self, S: FloatArray) -> float:
        r""":math:`f(S) = \tfrac12\|S_{av} - Y\|^2 + \tfrac\beta2(\operatorname{tr}S_{uu} + \operatorname{tr}S_{vv})`."""
        residual = S[self.a, self.v] - self.Y
        regularizer = float(np.trace(S)) - float(np.trace(S[self.a, self.a]))
        return 0.5 * float(np.sum(residual**2)) + 0.5 * self.beta * regularizer

    def hessian(self, S: FloatArray) -> FloatArray:
        """Hessian of ``f`` in the Frobenius metric: ``1/2`` on the ``av`` and ``va`` entries."""
        out = np.zeros_like(S)
        out[self.a, self.v] = 0.5 * S[self.a, self.v]
        out[self.v, self.a] = 0.5 * S[self.v, self.a]
        return out

    def linear_term(self) -> FloatArray:
        r""":math:`\tfrac12\tilde Y - R` (minus the gradient of ``f`` at 0)."""
        out = np.zeros((self.q, self.q))
        out[self.a, self.v] = 0.5 * self.Y
        out[self.v, self.a] = 0.5 * self.Y.T
        idx = np.arange(self.n, self.q)
        out[idx, idx] = -0.5 * self.beta
        return out

    def C(self, Z: FloatArray) -> FloatArray:
        r""":math:`C(Z) = R - \operatorname{sym}(E_aZE_v^\top)` (q×q), the gradient of ``f`` at ``S`` when ``Z = Y - S_av``."""
        out = np.zeros((self.q, self.q))
        out[self.a, self.v] = -0.5 * Z
        out[self.v, self.a] = -0.5 * Z.T
        idx = np.arange(self.n, self.q)
        out[idx, idx] = 0.5 * self.beta
        return out


# --------------------------------------------------------------------------------------------
# Projections
# --------------------------------------------------------------------------------------------


def _project_psd(M: FloatArray) -> FloatArray:
    """Nearest PSD matrix (Frobenius) to the symmetric part of ``M``: one ``eigh``."""
    sym = 0.5 * (M + M.T)
    w, V = scipy.linalg.eigh(sym, driver="evd", check_finite=False)
    positive = w > 0
    if positive.sum() <= w.size // 2:
        Vp = V[:, positive] * np.sqrt(w[positive])
        return Vp @ Vp.T
    Vn = V[:, ~positive] * np.sqrt(-w[~positive])
    return sym + Vn @ Vn.T


def _project_sign(W: FloatArray, n: int) -> FloatArray:
    """Projection onto the sign set: ``max(W, 0)`` off the complementarity entries, 0 on them."""
    out = np.maximum(W, 0.0)
    idx = np.arange(n)
    out[idx, idx + n] = 0.0
    out[idx + n, idx] = 0.0
    return out


def _clip_dual_cone(N: FloatArray, n: int) -> FloatArray:
    """Nearest point of the dual cone: ``max(N, 0)`` off the complementarity entries (free there)."""
    sym = 0.5 * (N + N.T)
    out = np.maximum(sym, 0.0)
    idx = np.arange(n)
    out[idx, idx + n] = sym[idx, idx + n]
    out[idx + n, idx] = sym[idx + n, idx]
    return out


def sign_violation(W: FloatArray, n: int) -> float:
    """Largest violation of ``W in 𝒲``: ``max(-min off-complementarity entry, max |W_{a_i b_i}|)``."""
    idx = np.arange(n)
    comp = float(np.max(np.abs(W[idx, idx + n]))) if n else 0.0
    masked = W.copy()
    masked[idx, idx + n] = 0.0
    masked[idx + n, idx] = 0.0
    return max(0.0, -float(np.min(masked)), comp)


# --------------------------------------------------------------------------------------------
# Certified lower bound
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LowerBound:
    r"""A certified lower bound on the reduced DNN optimum from a dual point ``(Z, N)``.

    Attributes
    ----------
    value:
        ``max(weighted, trace)``; a valid lower bound on :math:`p^\star` (up to rounding in
        ``eigvalsh``, which is accounted for by a safety margin).
    dual_objective:
        :math:`\mathcal D(Z) = \langle Z, Y\rangle - \tfrac12\|Z\|^2` (a bound only if ``G ⪰ 0``).
    min_eigenvalue:
        :math:`\lambda_{\min}(G)`, ``G = C(Z) - A*(N)``.
    weighted_eigenvalue:
        :math:`\lambda_{\min}(D_\mu^{-1/2}GD_\mu^{-1/2})` for the best ``mu`` tried.
    weighted, trace:
        The two bounds :math:`\mathcal D/(1 - \min(0,\lambda_w))` and
        :math:`\mathcal D + \min(0,\lambda_{\min}(G))\tau`.
    """

    value: float
    dual_objective: float
    min_eigenvalue: float
    weighted_eigenvalue: float
    weighted: float
    trace: float


def _min_eigenvalue(M: FloatArray) -> float:
    """Smallest eigenvalue minus a rounding margin ``q·eps·‖M‖_F``."""
    sym = 0.5 * (M + M.T)
    w = scipy.linalg.eigh(sym, eigvals_only=True, subset_by_index=[0, 0], check_finite=False)
    margin = sym.shape[0] * np.finfo(float).eps * float(np.linalg.norm(sym))
    return float(w[0]) - margin


def _weighted_eigenvalue(ops: _Operators, G: FloatArray, theta: float) -> float:
    r""":math:`\lambda_{\min}(L^{-1}GL^{-\top})` with :math:`LL^\top = D_\mu`, :math:`\mu = \theta\beta/(2\max(\|X\|^2, 1))`."""
    mu = theta * ops.beta / (2.0 * max(ops.sigma2, 1.0))
    D_uu = 0.5 * ops.beta * np.eye(ops.d) - mu * (ops.X.T @ ops.X)
    L_uu = np.linalg.cholesky(D_uu)
    scaled = G.copy()
    scaled[ops.a, :] /= math.sqrt(mu)
    scaled[ops.v, :] /= math.sqrt(0.5 * ops.beta)
    scaled[ops.u, :] = scipy.linalg.solve_triangular(L_uu, scaled[ops.u, :], lower=True)
    scaled[:, ops.a] /= math.sqrt(mu)
    scaled[:, ops.v] /= math.sqrt(0.5 * ops.beta)
    scaled[:, ops.u] = scipy.linalg.solve_triangular(L_uu, scaled[:, ops.u].T, lower=True).T
    return _min_eigenvalue(scaled)


def _lower_bound(
    ops: _Operators, Z: FloatArray, N: FloatArray, thetas: tuple[float, ...] = (0.9,)
) -> LowerBound:
    """:class:`LowerBound` from ``Z`` (n×c) and ``N`` (2n×2n; clipped onto the dual cone)."""
    N = _clip_dual_cone(N, ops.n)
    G = ops.C(Z) - ops.At(N)
    dual = float(np.sum(Z * ops.Y)) - 0.5 * float(np.sum(Z**2))
    lam = _min_eigenvalue(G)
    tau = (1.0 + ops.sigma2) * float(np.sum(ops.Y**2)) / ops.beta
    trace_bound = dual + min(0.0, lam) * tau
    lam_w = max(_weighted_eigenvalue(ops, G, theta) for theta in thetas)
    weighted = dual / (1.0 - min(0.0, lam_w))
    return LowerBound(
        value=max(weighted, trace_bound),
        dual_objective=dual,
        min_eigenvalue=lam,
        weighted_eigenvalue=lam_w,
        weighted=weighted,
        trace=trace_bound,
    )


def certified_lower_bound(
    problem: TrainingProblem, Z: FloatArray, N: FloatArray | None = None
) -> LowerBound:
    r"""A valid lower bound on the reduced lifted DNN optimum from any ``Z`` (n×c) and ``N`` (2n×2n).

    ``N`` is first projected onto :math:`\mathcal W^*` (``>= 0`` off the complementarity
    entries), then :math:`G = C(Z) - \mathcal A^*(N)` and the two corrections of the module
    docstring are applied; no feasibility of ``(Z, N)`` is assumed.  ``N=None`` means 0.
    """
    if not isinstance(problem, TrainingProblem):
        raise InvalidInputError(f"problem must be a TrainingProblem; got {type(problem).__name__}")
    ops = _Operators(problem)
    Z = _check_matrix(Z, "Z", (ops.n, ops.c))
    N = np.zeros((2 * ops.n, 2 * ops.n)) if N is None else _check_matrix(N, "N", (2 * ops.n,) * 2)
    return _lower_bound(ops, Z, N, _THETAS)


# --------------------------------------------------------------------------------------------
# State, result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AdmmState:
    r"""Everything needed to warm-start, in the normalized coordinates of the solver.

    ``zeta_P`` (q×q) and ``zeta_W`` (2n×2n) are the Douglas-Rachford variables
    (``P = Π_PSD(ζ_P)``, multiplier ``ρ(P - ζ_P)``), ``S`` the last linear-system solution
    (warm start of CG) and ``rho`` the last penalty.
    """

    S: FloatArray
    zeta_P: FloatArray
    zeta_W: FloatArray
    rho: float


@dataclass(frozen=True, eq=False)
class AdmmResult:
    r"""Result of :func:`solve_lifted_dnn_admm`.

    Attributes
    ----------
    value:
        :math:`f(P)` at the returned PSD iterate ``S`` (= ``P``), approximately feasible (see
        ``sign_violation``).
    lower_bound:
        Certified lower bound on the DNN optimum (:class:`LowerBound`).
    gap:
        ``(value - lower_bound) / max(1, |value|)``: the solver's accuracy.
    status:
        ``"optimal"`` (residuals and gap below ``tol``), ``"max_iterations"``, ``"time_limit"``
        or ``"diverged"`` (NaN/inf detected; then value and bound are NaN / -inf).
    iterations, time:
        ADMM iterations and wall-clock seconds (setup included).
    S:
        Returned reduced matrix (q×q, exactly PSD).
    Z:
        Dual variable ``Y - S_av`` (n×c) used for the bound.
    N:
        Multiplier (2n×2n) of the sign constraints, in the units of :math:`\mathcal A`.
    primal_residual, dual_residual:
        Final relative ADMM residuals.
    sign_violation:
        Largest violation of :math:`\mathcal A(S) \in \mathcal W` (absolute).
    history:
        Per-iteration ``primal``, ``dual`` residuals, ``rho``, and ``(iteration, gap)`` checks.
    state:
        Warm-start state for a neighbouring problem.
    """

    value: float
    lower_bound: float
    gap: float
    status: Status
    iterations: int
    time: float
    S: FloatArray
    Z: FloatArray
    N: FloatArray
    primal_residual: float
    dual_residual: float
    sign_violation: float
    bound: LowerBound | None
    tol: float
    history: dict[str, list[Any]] = field(default_factory=dict)
    state: AdmmState | None = None

    def to_solve_info(self) -> SolveInfo:
        """The solve as a copos :class:`SolveInfo` (solver ``"copos-admm"``).

        ``primal_residual`` = absolute sign/complementarity violation of the PSD iterate;
        ``dual_residual`` = :math:`\\max(0, -\\lambda_{\\min}(G))`; ``accuracy`` = ``tol``.
        """
        lam = float("nan") if self.bound is None else self.bound.min_eigenvalue
        return SolveInfo(
            solver=SOLVER_NAME,
            status=self.status,
            solve_time=self.time,
            primal_residual=self.sign_violation,
            dual_residual=max(0.0, -lam) if lam == lam else float("nan"),
            iterations=self.iterations,
            accuracy=self.tol,
            extra={"value": self.value, "lower_bound": self.lower_bound, "gap": self.gap},
        )


# --------------------------------------------------------------------------------------------
# Normalized coordinates
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Scaling:
    r"""Exact change of coordinates used inside the iteration.

    With :math:`\sigma = \|X\|_2`, :math:`D = \operatorname{blkdiag}(I_n, \sigma I_d, \sigma I_c)`
    and a scale ``s > 0``, :math:`S = sD^{-1}S'D^{-1}` maps the problem ``(X, Y, beta)`` onto
    ``(X/σ, σY/s, β/s)`` with :math:`p^\star = (s/\sigma)^2 p'^\star` (``T_ab S T_abᵀ = s
    T'_ab S' T'_abᵀ``, so the sign set is unchanged); ``s = σ·rms(Y)`` makes ``Y'`` of unit RMS.
    Both depend on ``X`` and ``Y`` only, so a warm start across ``beta`` stays meaningful.
    """

    sigma: float
    s: float

    @classmethod
    def of(cls, problem: TrainingProblem) -> _Scaling:
        sigma = float(np.linalg.norm(problem.X, 2)) or 1.0
        rms = float(np.sqrt(np.mean(problem.Y**2))) or 1.0
        return cls(sigma=sigma, s=sigma * rms)

    def problem(self, problem: TrainingProblem) -> TrainingProblem:
        return TrainingProblem(
            X=problem.X / self.sigma, Y=self.sigma * problem.Y / self.s, beta=problem.beta / self.s
        )

    def S(self, S_norm: FloatArray, n: int) -> FloatArray:
        """Original ``S`` from the normalized one."""
        d_inv = np.ones(S_norm.shape[0])
        d_inv[n:] = 1.0 / self.sigma
        return self.s * (d_inv[:, None] * S_norm * d_inv[None, :])

    def Z(self, Z_norm: FloatArray) -> FloatArray:
        """Original ``Z = Y - S_av`` from the normalized one: ``Z = s Z'/σ``."""
        return self.s * Z_norm / self.sigma

    def N(self, N_norm: FloatArray) -> FloatArray:
        """Original multiplier (units of ``A``) from the normalized one (units of ``A'``): ``s/σ² N'``."""
        return self.s * N_norm / self.sigma**2


# --------------------------------------------------------------------------------------------
# The iteration (Douglas-Rachford form of ADMM with Anderson acceleration)
# --------------------------------------------------------------------------------------------


def _cg(
    apply: Any, rhs: FloatArray, x0: FloatArray, rtol: float, max_steps: int = 500
) -> tuple[FloatArray, int]:
    """Conjugate gradients for a symmetric positive definite operator on matrices."""
    x = x0.copy()
    r = rhs - apply(x)
    target = rtol * max(float(np.linalg.norm(rhs)), 1e-300)
    rr = float(np.sum(r * r))
    p = r.copy()
    for step in range(max_steps):
        if math.sqrt(rr) <= target:
            return x, step
        Ap = apply(p)
        alpha = rr / float(np.sum(p * Ap))
        x += alpha * p
        r -= alpha * Ap
        rr_new = float(np.sum(r * r))
        p *= rr_new / rr
        p += r
        rr = rr_new
    return x, max_steps


class _Anderson:
    """Type-II Anderson acceleration of a fixed-point map ``x -> g(x)`` (memory ``m``)."""

    def __init__(self, memory: int) -> None:
        self.memory = memory
        self.dF: list[FloatArray] = []
        self.dG: list[FloatArray] = []
        self.last: tuple[FloatArray, FloatArray] | None = None

    def reset(self) -> None:
        self.dF, self.dG, self.last = [], [], None

    def __call__(self, x: FloatArray, gx: FloatArray) -> FloatArray:
        r"""Next iterate :math:`g(x) - \Delta G\gamma`, :math:`\gamma = \arg\min\|f - \Delta F\gamma\|`."""
        f = gx - x
        if self.memory == 0:
            return gx
        if self.last is not None:
            self.dF.append(f - self.last[0])
            self.dG.append(gx - self.last[1])
            if len(self.dF) > self.memory:
                self.dF.pop(0)
                self.dG.pop(0)
        self.last = (f, gx)
        if not self.dF:
            return gx
        F = np.stack(self.dF, axis=1)
        gram = F.T @ F
        gram += 1e-10 * max(float(np.trace(gram)), 1e-300) * np.eye(gram.shape[0])
        gamma = np.linalg.solve(gram, F.T @ f)
        return gx - np.stack(self.dG, axis=1) @ gamma


class _Admm:
    r"""ADMM for the normalized problem in Douglas-Rachford form.

    State :math:`\zeta = (\zeta_P, \zeta_W)`; one step of the map ``g``:
    ``P = Π_PSD(ζ_P)``, ``W = Π_W(ζ_W)``; ``S`` solves
    :math:`(\mathcal H + \rho I + \rho\hat{\mathcal A}^*\hat{\mathcal A})S = \tfrac12\tilde Y - R +
    \rho(2P - \zeta_P) + \rho\hat{\mathcal A}^*(2W - \zeta_W)`;
    ``g(ζ) = ζ + α(S - P, Â(S) - W)``.  Multipliers ``G = ρ(P - ζ_P) ⪰ 0`` and
    ``N = ρ(W - ζ_W) ∈ 𝒲*`` hold exactly.  (With ``α = 1`` this is scaled ADMM with
    ``U = ζ_P - P``.)
    """

    def __init__(self, ops: _Operators, rho: float, alpha: float, memory: int, warm: AdmmState | None) -> None:
        self.ops = ops
        self.alpha = alpha
        self.rho = rho if warm is None else float(warm.rho)
        q, m = ops.q, 2 * ops.n
        self.weights = _row_weights(ops)
        self.kappa = _operator_norm(ops, self.weights)
        if warm is None:
            self.zP, self.zW, self.S = np.zeros((q, q)), np.zeros((m, m)), np.zeros((q, q))
        else:
            self.zP, self.zW, self.S = warm.zeta_P.copy(), warm.zeta_W.copy(), warm.S.copy()
        self.P, self.W = _project_psd(self.zP), _project_sign(self.zW, ops.n)
        self.base = ops.linear_term()
        self.anderson = _Anderson(memory)
        self.cg_steps = 0
        self.rejected = 0
        self._previous: tuple[float, FloatArray] | None = None
        self._last_PW: tuple[FloatArray, FloatArray] | None = None

    # -- scaled operator Â(S) = (w wᵀ ∘ A(S)) / κ ----------------------------------------------
    def Ahat(self, S: FloatArray) -> FloatArray:
        return self.ops.A(S) * self.weights / self.kappa

    def Ahat_t(self, W: FloatArray) -> FloatArray:
        return self.ops.At(W * self.weights) / self.kappa

    def _system(self, S: FloatArray) -> FloatArray:
        return self.ops.hessian(S) + self.rho * (S + self.Ahat_t(self.Ahat(S)))

    def _map(self, zP: FloatArray, zW: FloatArray, cg_rtol: float) -> tuple[FloatArray, FloatArray]:
        """``g(ζ)``; also stores ``P, W, S`` of this evaluation."""
        self.P, self.W = _project_psd(zP), _project_sign(zW, self.ops.n)
        rhs = self.base + self.rho * (2 * self.P - zP) + self.rho * self.Ahat_t(2 * self.W - zW)
        self.S, steps = _cg(self._system, rhs, self.S, cg_rtol)
        self.cg_steps += steps
        self.AS = self.Ahat(self.S)
        return zP + self.alpha * (self.S - self.P), zW + self.alpha * (self.AS - self.W)

    def step(self, cg_rtol: float) -> tuple[float, float]:
        """One accelerated step (safeguarded); returns the relative (primal, dual) residuals."""
        zP, zW = self.zP, self.zW
        gP, gW = self._map(zP, zW, cg_rtol)
        x = np.concatenate([zP.ravel(), zW.ravel()])
        gx = np.concatenate([gP.ravel(), gW.ravel()])
        norm_f = _norm(gx - x)
        if self._previous is not None and norm_f > self._previous[0]:
            # the accelerated point made the fixed-point residual grow: fall back to g(ζ_prev)
            self.rejected += 1
            self.anderson.reset()
            x_next = self._previous[1]
            self._previous = None
        else:
            x_next = self.anderson(x, gx)
            self._previous = (norm_f, gx) if x_next is not gx else None
        residuals = self._residuals(zP, zW)
        q = self.ops.q
        self.zP = x_next[: q * q].reshape(q, q)
        self.zW = x_next[q * q :].reshape(self.zW.shape)
        return residuals

    def _residuals(self, zP: FloatArray, zW: FloatArray) -> tuple[float, float]:
        r"""Relative primal :math:`\|(S-P, \hat{\mathcal A}S-W)\|` and ADMM dual residual
        :math:`\rho\|(P-P_{prev}) + \hat{\mathcal A}^*(W-W_{prev})\|` relative to ``‖G‖ + ‖Â*N‖``."""
        r_p = math.hypot(_norm(self.S - self.P), _norm(self.AS - self.W))
        scale_p = max(math.hypot(_norm(self.S), _norm(self.AS)), math.hypot(_norm(self.P), _norm(self.W)), 1e-12)
        G = self.rho * (self.P - zP)
        AtN = self.Ahat_t(self.rho * (self.W - zW))
        scale_d = max(_norm(G) + _norm(AtN), _norm(self.base), 1e-12)
        if self._last_PW is None:
            change = scale_d
        else:
            P_prev, W_prev = self._last_PW
            change = self.rho * _norm((self.P - P_prev) + self.Ahat_t(self.W - W_prev))
        self._last_PW = (self.P, self.W)
        return r_p / scale_p, change / scale_d

    def rescale(self, factor: float) -> None:
        """``rho *= factor``; the scaled multiplier ``ζ - Π(ζ)`` is divided by ``factor``."""
        factor = float(np.clip(self.rho * factor, _RHO_RANGE[0], _RHO_RANGE[1])) / self.rho
        if factor == 1.0:
            return
        self.rho *= factor
        self.zP = self.P + (self.zP - _project_psd(self.zP)) / factor
        self.zW = self.W + (self.zW - _project_sign(self.zW, self.ops.n)) / factor
        self.anderson.reset()
        self._previous = None

    def multipliers(self) -> tuple[FloatArray, FloatArray]:
        """Normalized ``Z = Y' - P_av`` and ``N`` in the units of the normalized ``A'``."""
        Z = self.ops.Y - self.P[self.ops.a, self.ops.v]
        N_hat = self.rho * (self.W - self.zW)
        return Z, N_hat * self.weights / self.kappa

    def state(self) -> AdmmState:
        return AdmmState(S=self.S.copy(), zeta_P=self.zP.copy(), zeta_W=self.zW.copy(), rho=self.rho)


def _row_weights(ops: _Operators) -> FloatArray:
    r"""Outer product :math:`ww^\top` of the inverse row norms of :math:`T_{ab}` (row equilibration)."""
    norms = np.ones(2 * ops.n)
    norms[ops.n :] = np.sqrt(1.0 + np.sum(ops.X**2, axis=1))
    w = 1.0 / norms
    return np.outer(w, w)


def _operator_norm(ops: _Operators, weights: FloatArray, steps: int = 50) -> float:
    r""":math:`\|\operatorname{diag}(w)T_{ab}\|_2^2` by power iteration (times 1.05), so ``‖Â‖ <= 1``."""
    w = np.sqrt(np.diag(weights))
    rng = np.random.default_rng(0)
    x = rng.standard_normal(ops.n + ops.d)
    value = 1.0
    for _ in range(steps):
        y = w * np.concatenate([x[: ops.n], x[: ops.n] - ops.X @ x[ops.n :]])
        z = np.concatenate([w[: ops.n] * y[: ops.n] + w[ops.n :] * y[ops.n :], -ops.X.T @ (w[ops.n :] * y[ops.n :])])
        value = float(np.linalg.norm(z))
        x = z / value
    return 1.05 * value


def _norm(M: FloatArray) -> float:
    return float(np.linalg.norm(M))


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def solve_lifted_dnn_admm(
    problem: TrainingProblem,
    *,
    tol: float = 1e-4,
    max_iters: int = 50_000,
    rho: float = 1.0,
    alpha: float = 1.0,
    anderson: int = 10,
    warm_start: AdmmState | AdmmResult | None = None,
    time_limit: float | None = None,
    check_every: int = 25,
    verbose: bool = False,
) -> AdmmResult:
    r"""Solve the reduced lifted DNN relaxation by ADMM, with a certified lower bound.

    Stops with ``"optimal"`` when the relative primal and dual residuals are ``<= tol``
    **and** the relative gap ``|f(P) - lower_bound| / max(1, |f(P)|) <= tol`` (the bound is
    evaluated every ``check_every`` iterations once both residuals are below ``tol``; one
    extra partial ``eigh`` per evaluation).

    Parameters
    ----------
    problem:
        Training problem.
    tol:
        Relative tolerance, ``> 0``.
    max_iters:
        Iteration limit, ``>= 1``.
    rho:
        Initial penalty ``> 0`` (normalized coordinates; a warm start reuses its own).
    alpha:
        Relaxation in ``(0, 2)``.
    anderson:
        Anderson memory ``>= 0`` (0 disables acceleration); memory cost ``2·anderson``
        vectors of length ``q² + 4n²``.
    warm_start:
        An :class:`AdmmState` or a previous :class:`AdmmResult` for a problem with the same
        ``(n, d, c)`` (e.g. another ``beta`` on the same data).
    time_limit:
        Wall-clock limit in seconds (``None``: none).
    check_every:
        Iterations between lower-bound evaluations.
    verbose:
        Print progress.

    Raises
    ------
    InvalidInputError
        Bad problem or argument, or a warm start of the wrong shape.
    """
    start = time.perf_counter()
    _check_arguments(problem, tol, max_iters, rho, alpha, anderson, time_limit, check_every)
    scaling = _Scaling.of(problem)
    original, ops = _Operators(problem), _Operators(scaling.problem(problem))
    admm = _Admm(ops, float(rho), float(alpha), int(anderson), _check_warm(warm_start, ops))
    history: dict[str, list[Any]] = {"primal": [], "dual": [], "rho": [], "gap": []}
    status: Status = "max_iterations"
    r_p = r_d = 1.0
    iteration = 0
    for iteration in range(1, max_iters + 1):
        r_p, r_d = admm.step(max(min(1e-7, 0.01 * min(r_p, r_d)), 1e-13))
        _record(history, r_p, r_d, admm.rho)
        if not (math.isfinite(r_p) and math.isfinite(r_d)) or _norm(admm.S) > 1e150:
            status = "diverged"
            break
        if r_p <= tol and r_d <= tol and iteration % check_every == 0:
            gap = _check_gap(original, scaling, admm)
            history["gap"].append((iteration, gap))
            if verbose:
                print(f"[admm] it {iteration}: r_p {r_p:.2e} r_d {r_d:.2e} rho {admm.rho:.2e} gap {gap:.2e}")
            if abs(gap) <= tol:
                status = "optimal"
                break
        elif verbose and iteration % 100 == 0:
            print(f"[admm] it {iteration}: r_p {r_p:.2e} r_d {r_d:.2e} rho {admm.rho:.2e}")
        if time_limit is not None and time.perf_counter() - start > time_limit:
            status = "time_limit"
            break
        _balance(admm, history, iteration)
    return _finish(original, scaling, admm, status, iteration, start, (r_p, r_d), history, tol)


def _record(history: dict[str, list[Any]], r_p: float, r_d: float, rho: float) -> None:
    history["primal"].append(r_p)
    history["dual"].append(r_d)
    history["rho"].append(rho)


def _balance(admm: _Admm, history: dict[str, list[Any]], iteration: int) -> None:
    r"""Residual balancing every ``_BALANCE_EVERY`` iterations.

    With ``r`` the geometric mean of ``primal/dual`` over the last window, ``rho`` is
    multiplied by :math:`\sqrt r` (clipped to ``[1/10, 10]``) when ``r`` is outside
    ``[1/_BALANCE_RATIO, _BALANCE_RATIO]``.
    """
    if iteration % _BALANCE_EVERY:
        return
    primal = np.asarray(history["primal"][-_BALANCE_EVERY:])
    dual = np.asarray(history["dual"][-_BALANCE_EVERY:])
    ratio = float(np.exp(np.mean(np.log(np.maximum(primal, 1e-300) / np.maximum(dual, 1e-300)))))
    if ratio > _BALANCE_RATIO or ratio < 1.0 / _BALANCE_RATIO:
        admm.rescale(float(np.clip(math.sqrt(ratio), 0.1, 10.0)))


def _gap(value: float, lower: float) -> float:
    return (value - lower) / max(1.0, abs(value))


def _original_point(ops: _Operators, scaling: _Scaling, admm: _Admm) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(S, Z, N)`` of the current iterate in the original coordinates (``S`` = mapped ``P``)."""
    Z_norm, N_norm = admm.multipliers()
    return scaling.S(admm.P, ops.n), scaling.Z(Z_norm), scaling.N(N_norm)


def _check_gap(ops: _Operators, scaling: _Scaling, admm: _Admm) -> float:
    S, Z, N = _original_point(ops, scaling, admm)
    return _gap(ops.objective(S), _lower_bound(ops, Z, N).value)


def _finish(
    ops: _Operators,
    scaling: _Scaling,
    admm: _Admm,
    status: Status,
    iteration: int,
    start: float,
    residuals: tuple[float, float],
    history: dict[str, list[Any]],
    tol: float,
) -> AdmmResult:
    """Final bound (best of several ``mu``), value at the PSD iterate and the result."""
    S, Z, N = _original_point(ops, scaling, admm)
    finite = all(np.all(np.isfinite(M)) for M in (S, Z, N))
    if status == "diverged" or not finite:
        status, value, lower, bound, violation = "diverged", math.nan, -math.inf, None, math.nan
    else:
        bound = _lower_bound(ops, Z, N, _THETAS)
        value, lower = ops.objective(S), bound.value
        violation = sign_violation(ops.A(S), ops.n)
    return AdmmResult(
        value=value,
        lower_bound=lower,
        gap=_gap(value, lower) if bound is not None else math.inf,
        status=status,
        iterations=iteration,
        time=time.perf_counter() - start,
        S=S,
        Z=Z,
        N=_clip_dual_cone(N, ops.n) if finite else N,
        primal_residual=residuals[0],
        dual_residual=residuals[1],
        sign_violation=violation,
        bound=bound,
        tol=tol,
        history=history,
        state=admm.state(),
    )


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def _check_arguments(
    problem: object,
    tol: object,
    max_iters: object,
    rho: object,
    alpha: object,
    anderson: object,
    time_limit: object,
    check_every: object,
) -> None:
    if not isinstance(problem, TrainingProblem):
        raise InvalidInputError(f"problem must be a TrainingProblem; got {type(problem).__name__}")
    check_positive(tol, "tol")
    check_positive(rho, "rho")
    _check_count(max_iters, "max_iters")
    _check_count(check_every, "check_every")
    _check_count(anderson, "anderson", minimum=0)
    if check_positive(alpha, "alpha") >= 2:
        raise InvalidInputError(f"alpha must be in (0, 2); got {alpha!r}")
    if time_limit is not None:
        check_positive(time_limit, "time_limit")
    if not (np.all(np.isfinite(problem.X)) and np.all(np.isfinite(problem.Y))):
        raise InvalidInputError("problem data contain NaN or inf")


def _check_count(value: object, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _check_matrix(value: object, name: str, shape: tuple[int, int]) -> FloatArray:
    array = np.asarray(value, dtype=np.float64)
    if array.shape != shape:
        raise InvalidInputError(f"{name} must have shape {shape}; got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"{name} contains NaN or inf")
    return array


def _check_warm(warm: object, ops: _Operators) -> AdmmState | None:
    if warm is None:
        return None
    if isinstance(warm, AdmmResult):
        warm = warm.state
    if not isinstance(warm, AdmmState):
        raise InvalidInputError(
            f"warm_start must be an AdmmState or AdmmResult; got {type(warm).__name__}"
        )
    q, m = ops.q, 2 * ops.n
    for name, shape in (("S", (q, q)), ("zeta_P", (q, q)), ("zeta_W", (m, m))):
        _check_matrix(getattr(warm, name), f"warm_start.{name}", shape)
    check_positive(warm.rho, "warm_start.rho")
    return warm
