r"""ADMM for Sahiner's doubly-nonnegative relaxation (REL) on a set of activation patterns.

Program (patterns :math:`D_i = \operatorname{diag}(m_i)`, signs :math:`E_i = 2D_i - I`, blocks
:math:`G_i = \begin{bmatrix}S_i & W_i\\ W_i^\top & T_i\end{bmatrix}` of size :math:`d + c`):

.. math::

    \min_{G_i}\ \tfrac12\Big\|\sum_i D_iXW_i - Y\Big\|_F^2 + \tfrac\beta2\sum_i\operatorname{tr}G_i
    \quad\text{s.t.}\quad G_i \succeq 0,\quad E_iXS_iX^\top E_i \ge 0 ,

the lifted form of (REL) (a neuron :math:`(u, v)` with :math:`u` in the cone of pattern
:math:`i` is the rank-one block :math:`[u; v][u; v]^\top`); its value equals the Schur form of
:func:`copos.relaxations.rel.solve_rel` (eliminate :math:`W_i, T_i` with :math:`S_i \to 2\beta S_i`).

Splitting
---------
Copies :math:`P_i = G_i` (PSD) and :math:`H_i = E_iXS_iX^\top E_i` (entrywise nonnegative,
:math:`n\times n`), scaled duals :math:`U_i, V_i`, one penalty :math:`\rho`.  The
:math:`G`-update separates:

* :math:`T_i = (P_i - U_i)_T - \tfrac{\beta}{2\rho}I`;
* :math:`S_i` solves :math:`(I + (X^\top X)\otimes(X^\top X))S_i = R_i` (:math:`E_i^2 = I`, so
  every pattern shares the eigenbasis of :math:`X^\top X` and the solve is a division there);
* the :math:`W_i` are coupled only through the prediction: the :math:`n\times n` Woodbury
  system :math:`2\rho I + (XX^\top)\circ(M^\top M)` (:math:`M` the stacked masks), factored once
  per :math:`\rho`.

Then a batched projection of the :math:`(d+c)\times(d+c)` blocks onto the PSD cone
(``numpy.linalg.eigh`` on the stacked array), a clip of the :math:`H_i` at zero and dual ascent.
``rho`` is adapted by residual balancing.  The solver knows matrices, not networks: it returns
the iterates, the residuals and the value at the PSD copy :math:`P`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import cho_factor, cho_solve

from copos.solvers.admm.anderson import Anderson

FloatArray = NDArray[np.float64]

#: Status of a run that met ``tol`` on both relative residuals.
OPTIMAL = "optimal"

#: Status of a run stopped by ``max_iter`` or ``time_limit``.
MAX_ITER = "max_iter"


@dataclass(frozen=True, eq=False)
class RelAdmmState:
    """Iterates that warm-start a later run: PSD copies ``P`` ``(k, d+c, d+c)``, their scaled
    duals ``U``, the nonnegative copies ``H`` ``(k, f, f)``, their scaled duals ``V`` and ``rho``."""

    P: FloatArray
    U: FloatArray
    H: FloatArray
    V: FloatArray
    rho: float

    @classmethod
    def zeros(cls, k: int, n: int, m: int, rho: float = 1.0) -> RelAdmmState:
        """The all-zero start for ``k`` patterns (``m = d + c``, ``n`` facet rows per pattern)."""
        return cls(
            np.zeros((k, m, m)), np.zeros((k, m, m)), np.zeros((k, n, n)), np.zeros((k, n, n)), rho
        )

    def extended(self, k_new: int) -> RelAdmmState:
        """The same iterates with ``k_new`` zero blocks appended (patterns entering the set)."""
        m, n = self.P.shape[1], self.H.shape[1]
        zero = RelAdmmState.zeros(k_new, n, m)
        return RelAdmmState(
            *(np.concatenate([a, b]) for a, b in zip(self.arrays, zero.arrays, strict=True)),
            rho=self.rho,
        )

    def padded(self, f: int) -> RelAdmmState:
        """The same iterates with the facet blocks ``H``, ``V`` zero-padded to ``f x f``."""
        grow = f - self.H.shape[1]
        if grow <= 0:
            return self
        pad = ((0, 0), (0, grow), (0, grow))
        return RelAdmmState(self.P, self.U, np.pad(self.H, pad), np.pad(self.V, pad), self.rho)

    @property
    def arrays(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        return self.P, self.U, self.H, self.V


@dataclass(frozen=True, eq=False)
class RelAdmmResult:
    r"""Outcome of :func:`solve_rel_admm` (units of the data handed in).

    ``value`` is the objective at the PSD copy :math:`P` (``W`` read from it); ``Z`` the residual
    :math:`Y - \sum_iD_iXW_i` there; ``primal_residual``/``dual_residual`` relative.
    """

    value: float
    Z: FloatArray
    state: RelAdmmState
    status: str
    iterations: int
    primal_residual: float
    dual_residual: float
    time: float

    @property
    def blocks(self) -> FloatArray:
        """The PSD blocks :math:`G_i` (``(k, d+c, d+c)``)."""
        return self.state.P


class _Operators:
    """The fixed data of one run: ``X``, masks, facet rows with their eigenbases, the Woodbury
    kernel."""

    def __init__(
        self, X: FloatArray, masks: FloatArray, facets: FloatArray, Y: FloatArray, beta: float
    ) -> None:
        self.X, self.Y, self.beta, self.F = X, Y, beta, facets
        self.masks = masks.astype(np.float64)
        self.d, self.c = X.shape[1], Y.shape[1]
        lam, self.Q = np.linalg.eigh(np.einsum("kfd,kfe->kde", facets, facets))
        self.denominator = 1.0 + lam[:, :, None] * lam[:, None, :]
        self.kernel = (X @ X.T) * (self.masks.T @ self.masks)
        self.Ft = facets.transpose(0, 2, 1)
        self.Qt = self.Q.transpose(0, 2, 1)
        self.BtY = self.back(Y)
        self._factor: tuple | None = None
        self._rho = math.nan

    def factor(self, rho: float) -> tuple:
        if rho != self._rho:
            n = self.X.shape[0]
            self._factor = cho_factor(2.0 * rho * np.eye(n) + self.kernel)
            self._rho = rho
        assert self._factor is not None
        return self._factor

    def cone_matrix(self, S: FloatArray) -> FloatArray:
        r""":math:`F_iS_iF_i^\top` for every pattern, ``(k, f, f)``."""
        return self.F @ S @ self.Ft

    def cone_adjoint(self, H: FloatArray) -> FloatArray:
        r""":math:`F_i^\top H_iF_i` for every pattern, ``(k, d, d)``."""
        return self.Ft @ H @ self.F

    def predict(self, W: FloatArray) -> FloatArray:
        r""":math:`\sum_iD_iXW_i`, ``(n, c)``."""
        n, d, c = self.X.shape[0], self.d, W.shape[2]
        summed = (self.masks.T @ W.reshape(W.shape[0], d * c)).reshape(n, d, c)
        return np.einsum("nd,ndc->nc", self.X, summed)

    def back(self, R: FloatArray) -> FloatArray:
        r""":math:`X^\top D_iR` for every pattern, ``(k, d, c)``."""
        n, d, c = R.shape[0], self.d, R.shape[1]
        outer = (self.X[:, :, None] * R[:, None, :]).reshape(n, d * c)
        return (self.masks @ outer).reshape(-1, d, c)

    def value(self, P: FloatArray) -> tuple[float, FloatArray]:
        """Objective and residual ``Z`` at the blocks ``P``."""
        Z = self.Y - self.predict(P[:, : self.d, self.d :])
        trace = float(np.einsum("kii->", P))
        return 0.5 * float(np.vdot(Z, Z)) + 0.5 * self.beta * trace, Z

    def g_update(self, C: FloatArray, E: FloatArray, rho: float) -> FloatArray:
        """The minimiser over ``G`` of the augmented Lagrangian at ``C = P - U``, ``E = H - V``."""
        d, beta = self.d, self.beta
        G = np.empty_like(C)
        G[:, d:, d:] = C[:, d:, d:] - beta / (2.0 * rho) * np.eye(self.c)
        R = rho * (C[:, :d, :d] + self.cone_adjoint(E)) - 0.5 * beta * np.eye(d)
        S = self.Q @ ((self.Qt @ R @ self.Q) / (rho * self.denominator)) @ self.Qt
        G[:, :d, :d] = 0.5 * (S + S.transpose(0, 2, 1))
        r = self.BtY + 2.0 * rho * C[:, :d, d:]
        y = cho_solve(self.factor(rho), self.predict(r))
        W = (r - self.back(y)) / (2.0 * rho)
        G[:, :d, d:] = W
        G[:, d:, :d] = W.transpose(0, 2, 1)
        return G


def psd_project(blocks: FloatArray) -> FloatArray:
    """Project every symmetric block of ``(k, m, m)`` onto the PSD cone (one batched ``eigh``)."""
    values, vectors = np.linalg.eigh(blocks)
    return (vectors * np.maximum(values, 0.0)[:, None, :]) @ vectors.transpose(0, 2, 1)


def _norm(*arrays: FloatArray) -> float:
    return math.sqrt(sum(float(np.vdot(a, a)) for a in arrays))


class _Splitting:
    r"""The Douglas–Rachford map on :math:`\xi = G + U`, :math:`\eta = EXSX^\top E + V`.

    :math:`P = \Pi_{\succeq 0}(\xi)`, :math:`H = \eta_+`, :math:`G` = the :math:`G`-update at
    :math:`(2P - \xi, 2H - \eta)`, then :math:`\xi^+ = \xi + G - P`, :math:`\eta^+ = \eta +
    EXSX^\top E - H` (scaled duals :math:`U = \xi - P \preceq 0`, :math:`V = \eta - H \le 0`).
    """

    def __init__(self, ops: _Operators, k: int, m: int, n: int) -> None:
        self.ops = ops
        self.shapes = ((k, m, m), (k, n, n))
        self.split = k * m * m

    def unpack(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        return x[: self.split].reshape(self.shapes[0]), x[self.split :].reshape(self.shapes[1])

    def step(self, x: FloatArray, rho: float) -> tuple[FloatArray, tuple]:
        xi, eta = self.unpack(x)
        P, H = psd_project(xi), np.maximum(eta, 0.0)
        G = self.ops.g_update(2.0 * P - xi, 2.0 * H - eta, rho)
        cone = self.ops.cone_matrix(G[:, : self.ops.d, : self.ops.d])
        following = np.concatenate([(xi + G - P).ravel(), (eta + cone - H).ravel()])
        return following, (P, H, G, cone, xi - P, eta - H)

    def _adjoint(self, H: FloatArray) -> FloatArray:
        """The cone adjoint embedded in the top-left ``d x d`` corner of a ``(k, m, m)`` array."""
        d = self.ops.d
        out = np.zeros(self.shapes[0])
        out[:, :d, :d] = self.ops.cone_adjoint(H)
        return out

    def residuals(self, parts: tuple, rho: float) -> tuple[float, float]:
        """Relative primal and dual (stationarity at ``G``) residuals."""
        P, H, G, cone, U, V = parts
        r_p = _norm(G - P, cone - H) / max(_norm(G, cone), _norm(P, H), 1e-300)
        stationarity = G - P + self._adjoint(cone - H)
        r_d = _norm(stationarity) / max(_norm(U + self._adjoint(V)), _norm(U), 1e-300)
        return r_p, r_d


def solve_rel_admm(
    X: FloatArray,
    masks: FloatArray,
    facets: FloatArray,
    Y: FloatArray,
    beta: float,
    *,
    state: RelAdmmState | None = None,
    tol: float = 1e-7,
    max_iter: int = 20_000,
    check_every: int = 10,
    time_limit: float = math.inf,
    balance: float = 10.0,
    anderson: int = 10,
) -> RelAdmmResult:
    r"""Run the splitting of the module docstring on patterns ``masks`` (``(k, n)``, 0/1).

    Stops when the relative primal residual :math:`\|(G - P, E X S X^\top E - H)\|/
    \max(\|G\|, \|P\|, \|H\|)` and the relative stationarity residual at :math:`G`,
    :math:`\|(G - P) + X^\top E(EXSX^\top E - H)EX\|/\|U + X^\top EVEX\|`, are both at most
    ``tol`` (status ``"optimal"``), or after ``max_iter`` iterations / ``time_limit`` seconds
    (``"max_iter"``).  ``state`` warm-starts (its ``k`` must match ``masks``).  ``anderson``:
    memory of the safeguarded Anderson acceleration of the map (0: plain Douglas–Rachford).
    """
    start = time.perf_counter()
    ops = _Operators(X, masks, facets, Y, beta)
    k, n = facets.shape[0], facets.shape[1]
    m = X.shape[1] + Y.shape[1]
    current = state if state is not None else RelAdmmState.zeros(k, n, m)
    splitting = _Splitting(ops, k, m, n)
    x = np.concatenate([(current.P + current.U).ravel(), (current.H + current.V).ravel()])
    rho = current.rho
    accelerator = Anderson(anderson, x.size)
    status, iteration, r_p, r_d = MAX_ITER, 0, math.inf, math.inf
    for iteration in range(1, max_iter + 1):
        gx, parts = splitting.step(x, rho)
        x = accelerator.safeguarded(x, gx)
        if iteration % check_every and iteration != max_iter:
            continue
        r_p, r_d = splitting.residuals(parts, rho)
        if r_p <= tol and r_d <= tol:
            status = OPTIMAL
            break
        if time.perf_counter() - start > time_limit:
            break
        factor = _rebalance(r_p, r_d, balance)
        if factor != 1.0:
            x = _rescaled_duals(splitting, x, factor)
            rho *= factor
            accelerator.reset()
    xi, eta = splitting.unpack(x)
    P, H = psd_project(xi), np.maximum(eta, 0.0)
    value, Z = ops.value(P)
    return RelAdmmResult(
        value=value,
        Z=Z,
        state=RelAdmmState(P, xi - P, H, eta - H, rho),
        status=status,
        iterations=iteration,
        primal_residual=r_p,
        dual_residual=r_d,
        time=time.perf_counter() - start,
    )


def _rebalance(r_p: float, r_d: float, balance: float) -> float:
    """Factor for ``rho`` (1 when the residuals are within ``balance`` of each other)."""
    ratio = r_p / max(r_d, 1e-300)
    if 1.0 / balance <= ratio <= balance:
        return 1.0
    return min(max(math.sqrt(ratio), 0.2), 5.0)


def _rescaled_duals(splitting: _Splitting, x: FloatArray, factor: float) -> FloatArray:
    """``x`` with the scaled duals divided by ``factor`` (``rho`` multiplied by it)."""
    xi, eta = splitting.unpack(x)
    P, H = psd_project(xi), np.maximum(eta, 0.0)
    return np.concatenate([(P + (xi - P) / factor).ravel(), (H + (eta - H) / factor).ravel()])
