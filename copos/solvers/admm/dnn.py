r"""Operator-based Douglas-Rachford (ADMM) solver for the lifted DNN relaxation, with a
certified lower bound at every iterate.

The program (``copos.relaxations.lifted``; :math:`p = 2n + d + c`, blocks ``a, b, u, v``)

.. math::

    p^\star = \min_{\Lambda \in \mathbb S^p}\ f(\Lambda) = \tfrac12\|\Lambda_{av} - Y\|_F^2
        + \tfrac\beta2(\operatorname{tr}\Lambda_{uu} + \operatorname{tr}\Lambda_{vv})
    \quad\text{s.t.}\quad \Lambda \in \mathcal C := \{TST^\top : S \succeq 0\},\quad
    \Lambda_{ab} \in \mathcal W,

where :math:`T` (p×q, :math:`q = n + d + c`) spans :math:`\ker M`, :math:`M = [-I, I, X, 0]`
(so :math:`\mathcal C = \{\Lambda \succeq 0 : \Lambda M^\top = 0\}`), and :math:`\mathcal W =
\{W \in \mathbb S^{2n} : W_{jk} \ge 0` off the complementarity entries, :math:`W_{a_ib_i} = 0\}`.
In the reduced variable ``S`` this is the null-space form of the relaxation, with the same
value.

Splitting
---------
:math:`p^\star = \min_\Lambda\ g_1(\Lambda) + g_2(\Lambda)` with :math:`g_1 = \iota_{\mathcal C}`
and :math:`g_2 = f + \iota_{\{\Lambda_{ab} \in \mathcal W\}}`.  Both proximal maps are cheap and
exact, and no constraint matrix is ever formed:

* :math:`\Pi_{\mathcal C}(\Lambda) = V\,\Pi_{\mathbb S_+}(V^\top\Lambda V)V^\top` for an
  orthonormal basis :math:`V = TR^{-1}` of :math:`\ker M` (:math:`T^\top T = R^\top R`,
  Cholesky once).  :math:`T^\top\Lambda T` costs :math:`O(npd)` by the block structure of
  ``T``, the congruence by ``R`` :math:`O(nqd)` (``R`` is block structured,
  :mod:`copos.solvers.admm.eig`), and the PSD projection one ``eigh`` of side ``q`` — one
  eigendecomposition per iteration (only of the positive part once the iterate's rank is below
  ``q/3``, as it is near the low-rank DNN solutions; a warm-started LOBPCG variant exists, off);
* :math:`\operatorname{prox}_{\gamma g_2}` is entrywise: the ``ab`` block is clipped onto
  :math:`\mathcal W`, the ``av`` entries become :math:`(\gamma Y + 2W)/(\gamma + 2)` (each
  appears twice in the Frobenius norm of a symmetric matrix), the ``uu``/``vv`` diagonal is
  shifted by :math:`-\gamma\beta/2`, every other entry is left alone (the blocks are disjoint).

One Douglas-Rachford step on the state :math:`\zeta \in \mathbb S^p`:

.. math::

    \Lambda_1 = \Pi_{\mathcal C}(\zeta),\quad \Lambda_2 = \operatorname{prox}_{\gamma g_2}(2\Lambda_1 - \zeta),
    \quad \zeta \leftarrow \zeta + \alpha(\Lambda_2 - \Lambda_1),

which is ADMM on :math:`\Lambda_1 = \Lambda_2` with penalty :math:`\rho = 1/\gamma`.  The map is
accelerated by safeguarded type-II Anderson acceleration (a step that increases the fixed-point
residual is replaced by the plain one), and :math:`\rho` is adapted by residual balancing.
Before iterating, the data are put in normalized coordinates by an exact change of variables
(:mod:`copos.solvers.admm.equilibrate`; ``equilibrate="rows"`` also scales each
sample row to unit norm).  Memory: a few p×p arrays and ``2·anderson`` of them for the acceleration.

Multipliers and the certified lower bound
-----------------------------------------
From :math:`\operatorname{prox}_{\gamma g_2}`: :math:`(\Lambda_2 - w)/\gamma \in -\partial g_2(\Lambda_2)`
with :math:`w = 2\Lambda_1 - \zeta`, so :math:`N = ((\Lambda_2 - w)/\gamma)_{ab}` is the
multiplier of :math:`\Lambda_{ab} \in \mathcal W` (in :math:`\mathcal W^*`: ``>= 0`` off the
complementarity entries, free on them), and :math:`Z = Y - (\Lambda_2)_{av}` is the dual
variable of the loss.  For every feasible ``S`` (Lagrangian with the conjugate of the loss;
:math:`\mathcal A(S) = T_{ab}ST_{ab}^\top`)

.. math::

    f(S) \ge \mathcal D(Z) + \langle G, S\rangle,\qquad \mathcal D(Z) = \langle Z, Y\rangle - \tfrac12\|Z\|^2,\quad
    G := C(Z) - \mathcal A^*(N),\ \ C(Z) = R_\beta - \operatorname{sym}(E_aZE_v^\top),

because :math:`\langle N, \mathcal A(S)\rangle \ge 0`.  ``G`` is recomputed exactly from
``(Z, N)`` in the original coordinates; it is PSD only up to the dual residual.  Two valid
corrections (see :func:`certified_lower_bound`):

* *weighted trace* (default, tighter): for :math:`D_\mu = \operatorname{blkdiag}(\mu I_n,
  \tfrac\beta2 I - \mu X^\top X, \tfrac\beta2 I_c) \succ 0` and feasible ``S``,
  :math:`\langle D_\mu, S\rangle \le \tfrac\beta2(\operatorname{tr}S_{uu} + \operatorname{tr}S_{vv})
  \le f(S)` (the trace lemma below).  With :math:`\lambda = \min(0, \lambda_{\min}(D_\mu^{-1/2}
  GD_\mu^{-1/2}))` and an optimal ``S*``: :math:`p^\star \ge \mathcal D + \lambda p^\star`, i.e.
  :math:`p^\star \ge \mathcal D/(1-\lambda)`;
* *plain trace*: :math:`p^\star \ge \mathcal D + \min(0, \lambda_{\min}(G))\tau`,
  :math:`\tau = (1 + \|X\|_2^2)\,\|Y\|_F^2/\beta \ge \operatorname{tr}S^\star`.

Trace lemma: with :math:`W = \mathcal A(S)`, :math:`W_{aa} = S_{aa}`, :math:`W_{ab} = S_{aa} -
S_{au}X^\top`, :math:`W_{bb} = S_{aa} - XS_{ua} - S_{au}X^\top + XS_{uu}X^\top`, so
:math:`\operatorname{tr}W_{aa} + \operatorname{tr}W_{bb} - 2\operatorname{tr}W_{ab} =
\langle X^\top X, S_{uu}\rangle`.  Feasibility gives :math:`\operatorname{tr}W_{ab} = 0` and
:math:`W_{bb} \succeq 0`, hence :math:`\operatorname{tr}S_{aa} \le \langle X^\top X, S_{uu}\rangle
\le \|X\|_2^2\operatorname{tr}S_{uu}`; ``S = 0`` is feasible, so :math:`\tfrac\beta2(\operatorname{tr}
S^\star_{uu} + \operatorname{tr}S^\star_{vv}) \le p^\star \le \tfrac12\|Y\|_F^2`.

The reported primal point is the ``S`` of :math:`\Lambda_1` (exactly PSD, and
:math:`\Lambda = TST^\top` satisfies :math:`\Lambda M^\top = 0` exactly); the sign and
complementarity constraints on :math:`\mathcal A(S)` hold only approximately, and their
violation is reported.  ``value`` is :math:`f(S)`; the certified statement is
``lower_bound <= p*``, whatever the iteration did.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

from copos._deprecation import deprecated_alias
from copos._validation import check_dimension, check_positive
from copos.errors import InvalidInputError
from copos.solvers.admm.anderson import Anderson
from copos.solvers.admm.eig import PsdProjector, StructuredFactor
from copos.solvers.admm.equilibrate import KINDS, Equilibration, Kind, ScaledData
from copos.solvers.admm.progress import Progress
from copos.solvers.base import ProblemData, SolveInfo
from copos.solvers.registry import COPOS_ADMM

FloatArray = NDArray[np.float64]
Status = Literal["optimal", "max_iterations", "time_limit", "diverged"]
#: ``sign_cost(r2)``: for the row scales ``r2`` (2n) of the normalized coordinates, the map
#: ``(w, gamma) -> K`` of :func:`solve_lifted_dnn_admm` (``sign_cost``), in those coordinates.
SignCost = Callable[[FloatArray], Callable[[FloatArray, float], FloatArray]]

#: Solver name reported in :class:`SolveInfo`.
SOLVER_NAME = COPOS_ADMM
#: Residual balancing: adapt ``rho`` when the residual ratio leaves ``[1/r, r]``.
_BALANCE_RATIO = 5.0
#: Iterations between residual-balancing decisions (the first ``_BALANCE_EARLY`` use a shorter window).
_BALANCE_EVERY = 50
_BALANCE_EARLY = (200, 20)
#: Range allowed for ``rho`` (normalized coordinates).
_RHO_RANGE = (1e-8, 1e4)
#: Default ``rho`` in normalized coordinates: this times the normalized ``beta`` over
#: ``(‖X‖₂ / σ)²`` (close to the balanced ``rho`` on planted and digits data).
_RHO_PER_BETA = 2.0 / 3.0
#: Candidate ``theta`` (``mu = theta * beta / (2 ||X||^2)``) tried for the final bound.
_THETAS = (0.5, 0.9, 0.99)
#: Iterations between evaluations of the certified bound while the residuals are above ``tol``
#: (so that a time limit returns the best bound seen).
_BEST_EVERY = 250
#: Warm-started LOBPCG for the positive part (:mod:`copos.solvers.admm.eig`).  Off: on the
#: iterates of planted and digits data (q <= 1031) it rarely passed its checks (eigenvalues
#: cluster at 0 on both sides) and cost more than LAPACK's ``syevr`` (benchmarks/README.md).
_LOBPCG = False
#: ``equilibrate="auto"`` scales each sample row from this ``n`` on.
_ROWS_FROM_N = 100
#: Matrix side ``q`` from which BLAS may use every core (below, one thread is faster).
_MULTITHREAD_FROM = 800


# --------------------------------------------------------------------------------------------
# Reduced program: A, its adjoint, the objective and the dual slack
# --------------------------------------------------------------------------------------------


class _Operators:
    r"""Block-wise :math:`\mathcal A(S) = T_{ab}ST_{ab}^\top`, :math:`\mathcal A^*`, ``f`` and ``C(Z)``."""

    def __init__(self, problem: ProblemData | ScaledData) -> None:
        self.X = np.ascontiguousarray(problem.X, dtype=np.float64)
        self.Y = np.asarray(problem.Y, dtype=np.float64)
        self.beta = float(problem.beta)
        self.n, self.d = self.X.shape
        self.c = self.Y.shape[1]
        self.q = self.n + self.d + self.c
        self.sigma2 = float(np.linalg.norm(self.X, 2) ** 2)
        self.a = slice(0, self.n)
        self.u = slice(self.n, self.n + self.d)
        self.v = slice(self.n + self.d, self.q)

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

    def objective(self, S: FloatArray) -> float:
        r""":math:`f(S) = \tfrac12\|S_{av} - Y\|^2 + \tfrac\beta2(\operatorname{tr}S_{uu} + \operatorname{tr}S_{vv})`."""
        residual = S[self.a, self.v] - self.Y
        regularizer = float(np.trace(S)) - float(np.trace(S[self.a, self.a]))
        return 0.5 * float(np.sum(residual**2)) + 0.5 * self.beta * regularizer

    def C(self, Z: FloatArray) -> FloatArray:
        r""":math:`C(Z) = R_\beta - \operatorname{sym}(E_aZE_v^\top)` (q×q), the gradient of ``f`` at ``S`` when ``Z = Y - S_av``."""
        out = np.zeros((self.q, self.q))
        out[self.a, self.v] = -0.5 * Z
        out[self.v, self.a] = -0.5 * Z.T
        idx = np.arange(self.n, self.q)
        out[idx, idx] = 0.5 * self.beta
        return out


# --------------------------------------------------------------------------------------------
# The lifted space: the two proximal maps of the splitting
# --------------------------------------------------------------------------------------------


class _Lift:
    r"""The sets of the splitting in :math:`\mathbb S^p`: :math:`\Pi_{\mathcal C}` and :math:`\operatorname{prox}_{\gamma g_2}`.

    Index ranges ``a = [0, n)``, ``b = [n, 2n)``, ``u = [2n, 2n+d)``, ``v = [2n+d, p)``;
    :math:`T = \begin{bmatrix} I & 0 & 0\\ I & -X & 0\\ 0 & I & 0\\ 0 & 0 & I\end{bmatrix}`.
    """

    def __init__(
        self,
        ops: _Operators,
        loss_weight: FloatArray | None = None,
        reg_u: FloatArray | None = None,
        lobpcg: bool | None = None,
        sign_cost: Callable[[FloatArray, float], FloatArray] | None = None,
    ) -> None:
        self.ops = ops
        self.sign_cost = sign_cost  # extra linear term -<K, L_ab> chosen at each prox
        self.K = np.zeros((2 * ops.n, 2 * ops.n))
        n, d, c = ops.n, ops.d, ops.c
        # loss 1/2 sum_i w_i |L_{a_i v} - Y_i|^2, regularizer 1/2 <B_u, L_uu> (default beta I)
        self.loss_weight = np.ones((n, 1)) if loss_weight is None else loss_weight[:, None]
        self.reg_u = ops.beta * np.eye(d) if reg_u is None else reg_u
        self.n, self.d, self.q, self.p = n, d, ops.q, 2 * n + d + c
        self.R = StructuredFactor(ops.X, c)  # TᵀT = RᵀR
        self.projector = PsdProjector(self.q, lobpcg=_LOBPCG if lobpcg is None else lobpcg)

    def congruence(self, L: FloatArray) -> FloatArray:
        r""":math:`T^\top LT` (q×q) for a symmetric p×p ``L``, in :math:`O(npd)`."""
        n, d, X = self.n, self.d, self.ops.X
        rows = np.empty((self.q, self.p))
        rows[:n] = L[:n] + L[n : 2 * n]
        rows[n : n + d] = L[2 * n : 2 * n + d] - X.T @ L[n : 2 * n]
        rows[n + d :] = L[2 * n + d :]
        out = np.empty((self.q, self.q))
        out[:, :n] = rows[:, :n] + rows[:, n : 2 * n]
        out[:, n : n + d] = rows[:, 2 * n : 2 * n + d] - rows[:, n : 2 * n] @ X
        out[:, n + d :] = rows[:, 2 * n + d :]
        return out

    def lift(self, S: FloatArray) -> FloatArray:
        r""":math:`TST^\top` (p×p) for a symmetric q×q ``S``, in :math:`O(n^2d)`."""
        n, d, X = self.n, self.d, self.ops.X
        rows = np.empty((self.p, self.q))
        rows[:n] = S[:n]
        rows[n : 2 * n] = S[:n] - X @ S[n : n + d]
        rows[2 * n : 2 * n + d] = S[n : n + d]
        rows[2 * n + d :] = S[n + d :]
        out = np.empty((self.p, self.p))
        out[:, :n] = rows[:, :n]
        out[:, n : 2 * n] = rows[:, :n] - rows[:, n : n + d] @ X.T
        out[:, 2 * n : 2 * n + d] = rows[:, n : n + d]
        out[:, 2 * n + d :] = rows[:, n + d :]
        return out

    def project_C(self, L: FloatArray) -> tuple[FloatArray, FloatArray]:
        r""":math:`(S, TST^\top)` with :math:`TST^\top = \Pi_{\mathcal C}(L)`, ``S ⪰ 0`` exactly."""
        inner = self.R.congruence(self.congruence(L))  # VᵀLV, V = TR⁻¹
        F = self.R.solve(self.projector(inner))  # Π₊(VᵀLV) = factor factorᵀ
        S = F @ F.T
        return S, self.lift(S)

    def prox_g2(self, W: FloatArray, gamma: float) -> FloatArray:
        r""":math:`\operatorname{prox}_{\gamma g_2}(W)`, entrywise (a new array)."""
        n, d, p = self.n, self.d, self.p
        out = W.copy()
        if self.sign_cost is not None:
            self.K = self.sign_cost(W[: 2 * n, : 2 * n], gamma)
            out[: 2 * n, : 2 * n] += gamma * self.K
        clip_sign_set(out[: 2 * n, : 2 * n], n)
        a, v = slice(0, n), slice(2 * n + d, p)
        gw = gamma * self.loss_weight
        out[a, v] = (gw * self.ops.Y + 2.0 * W[a, v]) / (gw + 2.0)
        out[v, a] = out[a, v].T
        u = slice(2 * n, 2 * n + d)
        out[u, u] -= 0.5 * gamma * self.reg_u
        diag = np.arange(2 * n + d, p)
        out[diag, diag] -= 0.5 * gamma * self.ops.beta
        return out

    def multipliers(
        self, W: FloatArray, L2: FloatArray, gamma: float
    ) -> tuple[FloatArray, FloatArray]:
        r"""``(Z, N)``: :math:`Z = Y - (\Lambda_2)_{av}`, :math:`N = ((\Lambda_2 - W)/\gamma)_{ab}`."""
        n, d = self.n, self.d
        Z = self.ops.Y - L2[:n, 2 * n + d :]
        N = (L2[: 2 * n, : 2 * n] - W[: 2 * n, : 2 * n]) / gamma - self.K
        return Z, 0.5 * (N + N.T)


def _psd_factor(M: FloatArray, rank_hint: int) -> FloatArray:
    r"""``F`` with :math:`FF^\top = \Pi_{\mathbb S_+}(M)` by LAPACK (no LOBPCG, no memory).

    When ``rank_hint`` is below ``q / 3`` only the positive eigenpairs are computed (``syevr``
    on the interval ``(0, inf]``, exact, not a rank guess); otherwise all of them (``syevd``).
    """
    projector = PsdProjector(M.shape[0], lobpcg=False)
    projector.rank = rank_hint
    return projector(M)


def clip_sign_set(W: FloatArray, n: int) -> FloatArray:
    """The projection onto the sign set in place: ``max(W, 0)``, ``W_{a_i b_i} = 0``; returns ``W``."""
    np.maximum(W, 0.0, out=W)
    idx = np.arange(n)
    W[idx, idx + n] = 0.0
    W[idx + n, idx] = 0.0
    return W


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


@contextlib.contextmanager
def _blas_threads(q: int, threads: int | None) -> Iterator[None]:
    """Limit BLAS threads: one below side ``_MULTITHREAD_FROM`` (faster there), else ``threads``."""
    limit = threads if threads is not None else (1 if q < _MULTITHREAD_FROM else None)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    with threadpool_limits(limits=limit, user_api="blas"):
        yield


# --------------------------------------------------------------------------------------------
# Certified lower bound
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorrectedDual:
    r"""The dual objective of a point ``(Z, N)``, corrected for its PSD violation: plain numbers.

    The solver layer states no direction; the relaxation (:mod:`copos.relaxations.lifted`,
    :mod:`copos.certificates`) turns ``value`` into a lower :class:`copos.bound.Bound` on
    :math:`p^\star` (the module docstring proves that it is one).

    Attributes
    ----------
    value:
        ``max(weighted, trace)`` (rounding in ``eigh`` is covered by a safety margin).
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


#: Deprecated name of :class:`CorrectedDual` (the solver layer states no direction); removed in
#: the next release.
LowerBound = deprecated_alias(CorrectedDual, "LowerBound", __name__)


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
    ops: _Operators,
    Z: FloatArray,
    N: FloatArray,
    thetas: tuple[float, ...] = (0.9,),
    cuts: FloatArray | None = None,
) -> CorrectedDual:
    """:class:`CorrectedDual` from ``Z`` (n×c), ``N`` (2n×2n; clipped onto the dual cone) and the
    multiplier ``cuts`` (2n×2n) of valid inequalities, added unclipped."""
    N = _clip_dual_cone(N, ops.n)
    if cuts is not None:
        N = N + cuts
    G = ops.C(Z) - ops.At(N)
    dual = float(np.sum(Z * ops.Y)) - 0.5 * float(np.sum(Z**2))
    lam = _min_eigenvalue(G)
    tau = (1.0 + ops.sigma2) * float(np.sum(ops.Y**2)) / ops.beta
    trace_bound = dual + min(0.0, lam) * tau
    lam_w = max(_weighted_eigenvalue(ops, G, theta) for theta in thetas)
    weighted = dual / (1.0 - min(0.0, lam_w))
    return CorrectedDual(
        value=max(weighted, trace_bound),
        dual_objective=dual,
        min_eigenvalue=lam,
        weighted_eigenvalue=lam_w,
        weighted=weighted,
        trace=trace_bound,
    )


def certified_lower_bound(
    problem: ProblemData,
    Z: FloatArray,
    N: FloatArray | None = None,
    cuts: FloatArray | None = None,
) -> CorrectedDual:
    r"""A valid lower bound on the lifted DNN optimum from any ``Z`` (n×c) and ``N`` (2n×2n).

    ``N`` is first projected onto :math:`\mathcal W^*` (``>= 0`` off the complementarity
    entries), then :math:`G = C(Z) - \mathcal A^*(N)` and the two corrections of the module
    docstring are applied; no feasibility of ``(Z, N)`` is assumed, so any solver's dual point
    (or a guess) can be certified this way.  ``N=None`` means 0.

    ``cuts`` (2n×2n, symmetric) is the multiplier :math:`K` of valid inequalities
    :math:`\langle K_k, \mathcal A(S)\rangle \ge 0` (:math:`K = \sum_k y_kK_k`, :math:`y \ge 0`),
    added to ``N`` after the projection: :math:`G = C(Z) - \mathcal A^*(N + K)`.  The bound is then
    one on the DNN optimum with those inequalities, hence on :math:`p^\star` when they hold on
    the lifted CP program (:mod:`copos.relaxations.lifted_cuts`); both corrections still apply,
    since ``S = 0`` stays feasible and the trace lemma uses the DNN constraints only.
    """
    _check_problem(problem)
    ops = _Operators(problem)
    Z = _check_matrix(Z, "Z", (ops.n, ops.c))
    N = np.zeros((2 * ops.n, 2 * ops.n)) if N is None else _check_matrix(N, "N", (2 * ops.n,) * 2)
    K = None if cuts is None else _check_matrix(cuts, "cuts", (2 * ops.n,) * 2)
    return _lower_bound(ops, Z, N, _THETAS, cuts=K)


# --------------------------------------------------------------------------------------------
# State, result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AdmmState:
    r"""Everything needed to warm-start, in the normalized coordinates of the solver.

    ``zeta`` (p×p) is the Douglas-Rachford state (:math:`\Lambda_1 = \Pi_{\mathcal C}(\zeta)`)
    and ``rho`` the last penalty.  The normalization depends on ``X`` and ``Y`` only, so a state
    carries over to another ``beta`` on the same data.
    """

    zeta: FloatArray
    rho: float


def pad_state(warm: AdmmState | AdmmResult, problem: ProblemData) -> AdmmState:
    r"""A warm start for ``problem`` from a solve on its first ``n`` samples (same ``d``, ``c``).

    The Douglas-Rachford state :math:`\zeta` of side :math:`2n + d + c` is embedded in side
    :math:`2n' + d + c` block by block (``a``, ``b``, ``u``, ``v``); the rows and columns of the
    new samples start at 0, ``rho`` is kept.  Both states live in normalized coordinates, which
    for a larger sample of the same data differ only by the data's RMS scales, so this is a
    start, not an exact solution; the certified bound never depends on the start.

    Raises
    ------
    InvalidInputError
        ``warm`` is not a state, or its side does not fit ``problem`` (fewer samples, or
        another ``d + c``).
    """
    _check_problem(problem)
    state = warm.state if isinstance(warm, AdmmResult) else warm
    if not isinstance(state, AdmmState):
        raise InvalidInputError(
            f"warm must be an AdmmState or AdmmResult; got {type(warm).__name__}"
        )
    n_new, d = problem.X.shape
    c = problem.Y.shape[1]
    side = state.zeta.shape[0]
    n = (side - d - c) // 2
    if side != 2 * n + d + c or not 0 < n <= n_new or state.zeta.shape != (side, side):
        raise InvalidInputError(
            f"a state of side {side} does not pad to n = {n_new}, d = {d}, c = {c}"
        )
    old = np.r_[0:n, n : 2 * n, 2 * n : side]
    new = np.r_[0:n, n_new : n_new + n, 2 * n_new : 2 * n_new + d + c]
    zeta = np.zeros((2 * n_new + d + c,) * 2)
    zeta[np.ix_(new, new)] = state.zeta[np.ix_(old, old)]
    return AdmmState(zeta=zeta, rho=state.rho)


@dataclass(frozen=True, eq=False)
class AdmmResult:
    r"""Result of :func:`solve_lifted_dnn_admm`.

    Attributes
    ----------
    value:
        :math:`f(S)` at the returned PSD iterate ``S``, approximately feasible (see
        ``sign_violation``); not a bound.
    lower_bound:
        ``bound.value`` (:class:`CorrectedDual`): a lower bound on the DNN optimum at any iterate.
    gap:
        ``(value - lower_bound) / max(|value|, 1e-12)``: the solver's certified relative accuracy.
    status:
        ``"optimal"`` (residuals and gap below ``tol``), ``"max_iterations"``, ``"time_limit"``
        or ``"diverged"`` (NaN/inf detected; then value and bound are NaN / -inf).
    iterations, time:
        Iterations and wall-clock seconds (setup included).
    S:
        Returned reduced matrix (q×q, exactly PSD); :math:`\Lambda = TST^\top`.
    Z:
        Dual variable ``Y - Λ_av`` (n×c) used for the bound.
    N:
        Multiplier (2n×2n) of the sign constraints (clipped onto the dual cone).
    primal_residual, dual_residual:
        Final relative residuals of the splitting (:math:`\|\Lambda_1 - \Lambda_2\|` and the
        change of :math:`\Lambda_1` times ``rho``, each relative).
    sign_violation:
        Largest violation of :math:`\mathcal A(S) \in \mathcal W` (absolute).
    relative_sign_violation:
        ``sign_violation / max(1, max|A(S)|)``, the quantity the stopping rule tests.
    history:
        Per-iteration ``primal``, ``dual`` residuals, ``rho``, and ``(iteration, gap)`` checks.
    state:
        Warm-start state for a neighbouring problem.
    bound_iteration:
        Iteration whose dual point ``(Z, N)`` gives ``lower_bound``: the largest certified
        bound evaluated (at the last iteration, at residual checks, every 250 iterations and
        at progress lines), so a ``"time_limit"`` or ``"max_iterations"`` result carries the
        best bound seen, not only the last one.
    cuts:
        The ``sign_cost`` multiplier ``K`` (2n×2n, original coordinates) of the bound's dual
        point, added to ``N`` in the bound (``None`` without ``sign_cost``).
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
    bound: CorrectedDual | None
    tol: float
    relative_sign_violation: float = math.nan
    history: dict[str, list[Any]] = field(default_factory=dict)
    state: AdmmState | None = None
    bound_iteration: int = 0
    cuts: FloatArray | None = None

    def to_solve_info(self) -> SolveInfo:
        """The solve as a copos :class:`SolveInfo` (solver ``"copos-admm"``).

        ``primal_residual`` = relative sign/complementarity violation of the PSD iterate;
        ``dual_residual`` = :math:`\\max(0, -\\lambda_{\\min}(G))`; ``accuracy`` = ``tol``.
        """
        lam = float("nan") if self.bound is None else self.bound.min_eigenvalue
        return SolveInfo(
            solver=SOLVER_NAME,
            status=self.status,
            solve_time=self.time,
            primal_residual=self.relative_sign_violation,
            dual_residual=max(0.0, -lam) if lam == lam else float("nan"),
            iterations=self.iterations,
            accuracy=self.tol,
            extra={"value": self.value, "lower_bound": self.lower_bound, "gap": self.gap},
            gap=_relative_gap(self.value, self.lower_bound),
            gap_source="recomputed",
        )


def _relative_gap(value: float, lower_bound: float) -> float:
    r"""Relative gap :math:`|v - L| / \max(|v|, |L|, 10^{-12})` between value and certified bound."""
    if not (math.isfinite(value) and math.isfinite(lower_bound)):
        return float("nan")
    return abs(value - lower_bound) / max(abs(value), abs(lower_bound), 1e-12)


# --------------------------------------------------------------------------------------------
# Normalized coordinates
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# The iteration
# --------------------------------------------------------------------------------------------


class _DouglasRachford:
    r"""Douglas-Rachford splitting of :math:`\iota_{\mathcal C} + g_2` with Anderson acceleration.

    One evaluation of the map: :math:`\Lambda_1 = \Pi_{\mathcal C}(\zeta)`, :math:`w = 2\Lambda_1 - \zeta`,
    :math:`\Lambda_2 = \operatorname{prox}_{\gamma g_2}(w)`, :math:`g(\zeta) = \zeta + \alpha(\Lambda_2 - \Lambda_1)`,
    with :math:`\gamma = 1/\rho`.
    """

    def __init__(
        self, lift: _Lift, rho: float, alpha: float, memory: int, warm: AdmmState | None
    ) -> None:
        self.lift = lift
        self.alpha = alpha
        self.rho = rho if warm is None else float(warm.rho)
        p = lift.p
        self.zeta = np.zeros((p, p)) if warm is None else warm.zeta.copy()
        self.anderson = Anderson(memory, p * p)
        self._last_L1: FloatArray | None = None
        self.S = np.zeros((lift.q, lift.q))
        self.L1 = self.L2 = self.W = self.zeta

    def _map(self, zeta: FloatArray) -> FloatArray:
        """``g(ζ)``; keeps ``S, Λ1, w, Λ2`` of this evaluation."""
        gamma = 1.0 / self.rho
        self.S, self.L1 = self.lift.project_C(zeta)
        self.W = 2.0 * self.L1 - zeta
        self.L2 = self.lift.prox_g2(self.W, gamma)
        return zeta + self.alpha * (self.L2 - self.L1)

    def step(self) -> tuple[float, float]:
        """One accelerated step (safeguarded); returns the relative (primal, dual) residuals."""
        zeta = self.zeta
        g = self._map(zeta)
        following = self.anderson.safeguarded(zeta.ravel(), g.ravel()).reshape(zeta.shape)
        residuals = self._residuals(zeta)
        self.zeta = following
        return residuals

    def _residuals(self, zeta: FloatArray) -> tuple[float, float]:
        r"""Relative :math:`\|\Lambda_1 - \Lambda_2\|` and :math:`\rho\|\Lambda_1 - \Lambda_1^{prev}\|`
        (relative to the multiplier :math:`\rho\|\zeta - \Lambda_1\|`)."""
        r_p = _norm(self.L1 - self.L2) / max(_norm(self.L1), _norm(self.L2), 1e-12)
        scale_d = max(self.rho * _norm(zeta - self.L1), 1e-12)
        change = scale_d if self._last_L1 is None else self.rho * _norm(self.L1 - self._last_L1)
        self._last_L1 = self.L1
        return r_p, change / scale_d

    def rescale(self, factor: float) -> None:
        """``rho *= factor`` keeping :math:`\\Lambda_1` and the multiplier :math:`\\rho(\\zeta - \\Lambda_1)`."""
        factor = float(np.clip(self.rho * factor, *_RHO_RANGE)) / self.rho
        if factor == 1.0:
            return
        self.rho *= factor
        _, L1 = self.lift.project_C(self.zeta)
        self.zeta = L1 + (self.zeta - L1) / factor
        self.anderson.reset()

    def multipliers(self) -> tuple[FloatArray, FloatArray]:
        """Normalized ``(Z, N)`` of the last evaluation."""
        return self.lift.multipliers(self.W, self.L2, 1.0 / self.rho)

    def state(self) -> AdmmState:
        return AdmmState(zeta=self.zeta.copy(), rho=self.rho)


def _norm(M: FloatArray) -> float:
    return float(np.linalg.norm(M))


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def solve_lifted_dnn_admm(
    problem: ProblemData,
    *,
    tol: float = 1e-4,
    max_iters: int = 50_000,
    rho: float | None = None,
    alpha: float = 1.0,
    anderson: int = 10,
    warm_start: AdmmState | AdmmResult | None = None,
    time_limit: float | None = None,
    check_every: int = 25,
    threads: int | None = None,
    verbose: bool = False,
    equilibrate: Kind | Literal["auto"] = "auto",
    quiet: bool = False,
    sign_cost: SignCost | None = None,
) -> AdmmResult:
    r"""Solve the lifted DNN relaxation by Douglas-Rachford splitting, with a certified lower bound.

    Stops with ``"optimal"`` when the relative primal and dual residuals, the relative sign
    violation ``viol(A(S)) / max(1, max|A(S)|)`` and the relative complementarity
    ``|<N, A(S)>| / |f(S)|`` are ``<= tol`` **and** the relative gap ``(f(S) - lower_bound) / |f(S)|`` between the value at the (nearly
    feasible) iterate and the certified lower bound lies in ``[0, tol]`` (evaluated every
    ``check_every`` iterations once both residuals are below ``tol``).  A negative gap means the
    iterate is still infeasible enough to undercut a proven lower bound, so it never stops the
    iteration.

    Parameters
    ----------
    problem:
        Training problem.
    tol:
        Relative tolerance, ``> 0``.
    max_iters:
        Iteration limit, ``>= 1``.
    rho:
        Initial penalty ``> 0`` in normalized coordinates (``None``: a multiple of the
        normalized ``beta``; a warm start reuses its own).  Adapted by residual balancing.
    alpha:
        Relaxation in ``(0, 2)``.
    anderson:
        Anderson memory ``>= 0`` (0 disables acceleration); memory cost ``2·anderson`` p×p arrays.
    warm_start:
        An :class:`AdmmState` or a previous :class:`AdmmResult` for a problem with the same
        ``(n, d, c)`` (e.g. another ``beta`` on the same data).
    time_limit:
        Wall-clock limit in seconds (``None``: none).
    check_every:
        Iterations between lower-bound evaluations.
    threads:
        BLAS threads (``None``: one below side ``q = 800``, where it is faster, all above).
    verbose:
        Print every residual check (to standard output).
    equilibrate:
        Exact change of coordinates before iterating (:mod:`copos.solvers.admm.equilibrate`):
        ``"rms"`` (one scale), ``"rows"`` (also every sample row to unit norm) or ``"auto"``
        (``"rows"`` from ``n = 100`` on, where it saved 25–42 % of the iterations on planted
        and digits data; ``"rms"`` below, where it did not).  The certified bound does not
        depend on it.
    quiet:
        No progress lines.  Otherwise, when standard error is a terminal, a line every few
        seconds: iteration, residuals, primal value, best certified lower bound, gap, time.
    sign_cost:
        Hook for valid inequalities on the sign block (``None``: none): ``sign_cost(r2)``
        returns a map ``(w, gamma) -> K`` (2n×2n, normalized coordinates, rows scaled by
        ``r2``) called at every proximal step, which becomes
        :math:`\Pi_{\mathcal W}(w + \gamma K)`: the Lagrangian term :math:`-\langle K,
        \Lambda_{ab}\rangle` of inequalities :math:`\langle K_k, \Lambda_{ab}\rangle \ge 0`
        with :math:`K = \sum_k\lambda_kK_k`, :math:`\lambda \ge 0`, chosen by the caller.  ``K``
        (original coordinates) is then added to the multiplier in the certified bound
        (:func:`certified_lower_bound` with ``cuts``), which bounds the program with those
        inequalities; ``result.cuts`` is that ``K``.

    Raises
    ------
    InvalidInputError
        Bad problem or argument, or a warm start of the wrong shape.
    """
    start = time.perf_counter()
    _check_arguments(
        problem, tol, max_iters, rho, alpha, anderson, time_limit, check_every, threads
    )
    if equilibrate not in (*KINDS, "auto"):
        raise InvalidInputError(
            f"equilibrate must be 'auto' or one of {KINDS}; got {equilibrate!r}"
        )
    if equilibrate == "auto":
        equilibrate = "rows" if problem.X.shape[0] >= _ROWS_FROM_N else "rms"
    scaling = Equilibration.of(problem.X, problem.Y, equilibrate)
    data = scaling.data(problem.X, problem.Y, problem.beta)
    original, ops = _Operators(problem), _Operators(data)
    rho0 = _RHO_PER_BETA * ops.beta / scaling.spread**2 if rho is None else float(rho)
    with _blas_threads(ops.q, threads):
        r2 = np.concatenate([scaling.r, scaling.r])
        cost = None if sign_cost is None else sign_cost(r2)
        lift = _Lift(ops, data.loss_weight, data.reg_u, sign_cost=cost)
        solver = _DouglasRachford(
            lift, rho0, float(alpha), int(anderson), _check_warm(warm_start, lift)
        )
        loop = _Loop(
            tol, max_iters, time_limit, check_every, start, verbose, Progress(quiet, start)
        )
        outcome = _iterate(solver, original, scaling, loop)
        return _finish(original, scaling, solver, outcome, start, tol)


@dataclass(frozen=True, eq=False)
class _Loop:
    """Stopping rule and reporting of :func:`_iterate`."""

    tol: float
    max_iters: int
    time_limit: float | None
    check_every: int
    start: float
    verbose: bool
    progress: Progress


@dataclass(frozen=True, eq=False)
class _Check:
    """One evaluation of the certified bound at the current iterate (original coordinates)."""

    iteration: int
    value: float
    bound: CorrectedDual
    gap: float
    violation: float
    Z: FloatArray
    N: FloatArray
    K: FloatArray | None = None


def _iterate(
    solver: _DouglasRachford, original: _Operators, scaling: Equilibration, loop: _Loop
) -> tuple[Status, int, tuple[float, float], dict[str, list[Any]], _Check | None]:
    """The main loop: step, record, check the certified gap, balance ``rho``.

    Returns the status, the last iteration, its residuals, the history and the evaluation with
    the largest certified bound seen (``None`` if none was made).
    """
    history: dict[str, list[Any]] = {"primal": [], "dual": [], "rho": [], "gap": []}
    status: Status = "max_iterations"
    r_p = r_d = math.inf
    iteration = 0
    best: _Check | None = None
    for iteration in range(1, loop.max_iters + 1):
        r_p, r_d = solver.step()
        history["primal"].append(r_p)
        history["dual"].append(r_d)
        history["rho"].append(solver.rho)
        if not (math.isfinite(r_p) and math.isfinite(r_d)) or not np.isfinite(solver.zeta).all():
            status = "diverged"
            break
        converging = r_p <= loop.tol and r_d <= loop.tol and iteration % loop.check_every == 0
        if converging or iteration % _BEST_EVERY == 0 or loop.progress.due():
            check = _check_gap(original, scaling, solver, iteration)
            best = check if best is None or check.bound.value > best.bound.value else best
            if loop.progress.enabled:
                loop.progress.show(iteration, r_p, r_d, check.value, best.bound.value, check.gap)
            if converging:
                history["gap"].append((iteration, check.gap))
                if loop.verbose:
                    print(
                        f"[admm] it {iteration}: r_p {r_p:.2e} r_d {r_d:.2e} rho {solver.rho:.2e} gap {check.gap:.2e} viol {check.violation:.1e}"
                    )
                if 0.0 <= check.gap <= loop.tol and check.violation <= loop.tol:
                    status = "optimal"
                    break
        if loop.verbose and not converging and iteration % 100 == 0:
            print(f"[admm] it {iteration}: r_p {r_p:.2e} r_d {r_d:.2e} rho {solver.rho:.2e}")
        if loop.time_limit is not None and time.perf_counter() - loop.start > loop.time_limit:
            status = "time_limit"
            break
        _balance(solver, history, iteration)
    return status, iteration, (r_p, r_d), history, best


def _balance(solver: _DouglasRachford, history: dict[str, list[Any]], iteration: int) -> None:
    r"""Residual balancing: every ``_BALANCE_EVERY`` iterations (every 20 in the first 200).

    With ``r`` the geometric mean of ``primal/dual`` over the last window, ``rho`` is
    multiplied by :math:`\sqrt r` (clipped to ``[1/10, 10]``) when ``r`` is outside
    ``[1/_BALANCE_RATIO, _BALANCE_RATIO]``.
    """
    window = _BALANCE_EARLY[1] if iteration <= _BALANCE_EARLY[0] else _BALANCE_EVERY
    if iteration % window:
        return
    primal = np.asarray(history["primal"][-window:])
    dual = np.asarray(history["dual"][-window:])
    ratio = float(np.exp(np.mean(np.log(np.maximum(primal, 1e-300) / np.maximum(dual, 1e-300)))))
    if ratio > _BALANCE_RATIO or ratio < 1.0 / _BALANCE_RATIO:
        solver.rescale(float(np.clip(math.sqrt(ratio), 0.1, 10.0)))


def _gap(value: float, lower: float) -> float:
    return (value - lower) / max(abs(value), 1e-12)


def _original_point(
    ops: _Operators, scaling: Equilibration, solver: _DouglasRachford
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(S, Z, N)`` of the last evaluation in the original coordinates."""
    Z_norm, N_norm = solver.multipliers()
    return scaling.S(solver.S, ops.n), scaling.Z(Z_norm), scaling.N(N_norm)


def _sign_cost(scaling: Equilibration, solver: _DouglasRachford) -> FloatArray | None:
    """The ``sign_cost`` multiplier ``K`` of the last evaluation (original coordinates), if any."""
    return None if solver.lift.sign_cost is None else scaling.N(solver.lift.K)


def _check_gap(
    ops: _Operators, scaling: Equilibration, solver: _DouglasRachford, iteration: int
) -> _Check:
    r"""Value, certified bound and relative gap at the current iterate, and the larger of the
    relative sign violation ``viol(A(S)) / max(1, max|A(S)|)`` and the relative complementarity
    :math:`|\langle N, \mathcal A(S)\rangle| / |f(S)|` (zero at a KKT point)."""
    S, Z, N = _original_point(ops, scaling, solver)
    K = _sign_cost(scaling, solver)
    W, value = ops.A(S), ops.objective(S)
    violation = sign_violation(W, ops.n) / max(1.0, float(np.abs(W).max()))
    complementarity = abs(float(np.sum(_clip_dual_cone(N, ops.n) * W))) / max(abs(value), 1e-12)
    bound = _lower_bound(ops, Z, N, _THETAS, cuts=K)
    return _Check(
        iteration, value, bound, _gap(value, bound.value), max(violation, complementarity), Z, N, K
    )


def _finish(
    ops: _Operators,
    scaling: Equilibration,
    solver: _DouglasRachford,
    outcome: tuple[Status, int, tuple[float, float], dict[str, list[Any]], _Check | None],
    start: float,
    tol: float,
) -> AdmmResult:
    """Final bound (best of several ``mu``; the best certified point seen if it is larger),
    value at the last PSD iterate and the result."""
    status, iteration, residuals, history, best = outcome
    S, Z, N = _original_point(ops, scaling, solver)
    K = _sign_cost(scaling, solver)
    finite = all(np.all(np.isfinite(M)) for M in (S, Z, N))
    bound: CorrectedDual | None = None
    relative = math.nan
    bound_iteration = iteration
    if status == "diverged" or not finite:
        status, value, lower, violation = "diverged", math.nan, -math.inf, math.nan
    else:
        bound = _lower_bound(ops, Z, N, _THETAS, cuts=K)
        if best is not None and best.bound.value > bound.value:
            bound, Z, N, K, bound_iteration = best.bound, best.Z, best.N, best.K, best.iteration
        value, lower = ops.objective(S), bound.value
        W = ops.A(S)
        violation = sign_violation(W, ops.n)
        relative = violation / max(1.0, float(np.abs(W).max()))
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
        relative_sign_violation=relative,
        history=history,
        state=solver.state(),
        bound_iteration=bound_iteration,
        cuts=K,
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
    threads: object,
) -> None:
    _check_problem(problem)
    check_positive(tol, "tol")
    if rho is not None:
        check_positive(rho, "rho")
    check_dimension(max_iters, "max_iters")
    check_dimension(check_every, "check_every")
    check_dimension(anderson, "anderson", minimum=0)
    if threads is not None:
        check_dimension(threads, "threads")
    if check_positive(alpha, "alpha") >= 2:
        raise InvalidInputError(f"alpha must be in (0, 2); got {alpha!r}")
    if time_limit is not None:
        check_positive(time_limit, "time_limit")
    if not (np.all(np.isfinite(problem.X)) and np.all(np.isfinite(problem.Y))):
        raise InvalidInputError("problem data contain NaN or inf")


def _check_problem(problem: object) -> None:
    """A :class:`~copos.solvers.base.ProblemData`: ``X`` (n×d) and ``Y`` (n×c) arrays and ``beta``."""
    if not isinstance(problem, ProblemData):
        raise InvalidInputError(f"problem must be a TrainingProblem; got {type(problem).__name__}")


def _check_matrix(value: object, name: str, shape: tuple[int, int]) -> FloatArray:
    array = np.asarray(value, dtype=np.float64)
    if array.shape != shape:
        raise InvalidInputError(f"{name} must have shape {shape}; got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"{name} contains NaN or inf")
    return array


def _check_warm(warm: object, lift: _Lift) -> AdmmState | None:
    if warm is None:
        return None
    if isinstance(warm, AdmmResult):
        warm = warm.state
    if not isinstance(warm, AdmmState):
        raise InvalidInputError(
            f"warm_start must be an AdmmState or AdmmResult; got {type(warm).__name__}"
        )
    _check_matrix(warm.zeta, "warm_start.zeta", (lift.p, lift.p))
    check_positive(warm.rho, "warm_start.rho")
    return warm
