r"""Polish a trained net on its own activation patterns, and insert a neuron along a witness.

With the activation patterns :math:`D_j = \mathrm{diag}(\mathbb 1[Xu_j > 0])` of the net held
fixed, the weight-decay objective is the smooth function

.. math::

    F_D(U, V) = \tfrac12\Big\|\sum_j D_jXu_jv_j^\top - Y\Big\|_F^2
        + \tfrac\beta2\sum_j\big(\|u_j\|_2^2 + \|v_j\|_2^2\big),

which equals the true ReLU objective :math:`F(U, V)` wherever every :math:`u_j` stays in its
pattern cone :math:`\{u : (2D_j - I)Xu \ge 0\}`.  :func:`polish` prunes dead neurons, merges
neurons of one pattern whose first-layer weights are parallel (one neuron of the convex
program), minimises :math:`F_D` by a trust-region Newton method (exact Hessian-vector
products, Krylov subproblems) to machine precision, rebalances, and re-checks on the **true**
objective :math:`F`: the polished net is accepted only if :math:`F` did not increase.

:func:`insert_neuron` adds one neuron along a unit direction :math:`u` with :math:`a =
(Xu)_+`, :math:`Z = Y - f(X)`: the weight-decay objective of the rebalanced net plus the
neuron :math:`(\sqrt\rho\,u, \sqrt\rho\,w)`, :math:`w = Z^\top a/\|Z^\top a\|`, changes by

.. math::

    -\rho\|Z^\top a\| + \tfrac12\rho^2\|a\|^2 + \beta\rho, \qquad
    \rho^\star = \frac{\|Z^\top a\| - \beta}{\|a\|^2},\qquad
    \text{decrease} = \frac{(\|Z^\top a\| - \beta)^2}{2\|a\|^2},

positive exactly when :math:`\|Z^\top(Xu)_+\| > \beta`, i.e. when :math:`u` witnesses
:math:`\sigma(Z) > \beta` (the net is not optimal).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import solve_triangular
from scipy.optimize import OptimizeResult, minimize
from scipy.sparse.linalg import LinearOperator, minres

from copos._validation import as_finite_array, check_dimension, check_nonnegative, check_positive
from copos.errors import CoposError, InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.problem import TrainingProblem, require_no_output_bias

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Neurons with :math:`\|u_j\|\|v_j\|` at most this (relative to :math:`\|Y\|_F`) are dead.
PRUNE_TOL = 1e-12

#: Two neurons of one pattern merge when :math:`1 - \cos\angle(u_a, u_b)` is at most this.
MERGE_TOL = 1e-10

#: :func:`insert_neuron` counts a decrease only above this (relative to :math:`\max(1, |F|)`):
#: a smaller one could be rounding, and proves nothing.
DECREASE_RTOL = 1e-13

#: The trust region stops at this gradient norm (relative to :math:`\max(1, F)`); Newton on the
#: gradient (:func:`_newton_on_gradient`) takes it from there to ``gtol``.
COARSE_GTOL = 1e-8

#: Newton stops when the gradient norm of :math:`F_D` is at most this (relative to
#: :math:`\max(1, F)`).
GRADIENT_TOL = 1e-13

#: The change of variables of the face solves (:class:`_Preconditioned`): ``"full"`` (the
#: Gauss-Newton matrix at the start of each face solve), ``"block"`` (its per-neuron blocks),
#: ``"none"`` (the trust region in :math:`\theta` itself) or ``"auto"`` (below).
Preconditioner = Literal["auto", "none", "block", "full"]
PRECONDITIONERS: tuple[str, ...] = ("auto", "none", "block", "full")
DEFAULT_PRECONDITIONER: Preconditioner = "auto"

#: ``"auto"`` solves in the original variables until the face solves of the polish path have
#: taken at least :data:`AUTO_MIN_ITERATIONS` iterations at more than this many Hessian
#: products each (the Krylov subproblems are ill-conditioned), then ``"full"`` for the rest of
#: the path.  Measured: 229 a trust-region iteration on planted #99 at beta = 0.01 (``"full"``
#: 6x faster), 38 on Iris + bias at beta = 0.1 (``"full"`` 3.5x slower).
AUTO_PRODUCTS_PER_ITERATION = 80
AUTO_MIN_ITERATIONS = 20

#: Above this many variables :math:`m(d + c)` the ``"full"`` preconditioner keeps only the
#: per-neuron blocks: its Cholesky factor costs :math:`O(N^3)` per face solve and its
#: triangular solves :math:`O(N^2)` per Hessian product.
FULL_MAX_SIZE = 1000


@dataclass(frozen=True, eq=False)
class PolishResult:
    r"""Outcome of :func:`polish`: the polished net and what happened to it.

    Attributes
    ----------
    net:
        The polished net when ``accepted``, else the original one.
    original:
        The net that was handed in.
    objective, original_objective:
        True weight-decay objectives :math:`F` of ``net`` and ``original``
        (``objective <= original_objective`` always).
    accepted:
        Whether the polished net was kept (its true objective did not increase).
    reason:
        Why, in words.
    iterations:
        Newton iterations over all rounds.
    rounds:
        Rounds of merge + Newton.
    time:
        Wall-clock seconds.
    pruned, merged:
        Neurons dropped as dead, and neurons merged into a parallel one of the same pattern.
    gradient_norm:
        :math:`\|\nabla F_D\|` at the end of the last Newton solve (patterns fixed, on the
        face of the active rows).
    budget_reached:
        Whether the time budget stopped the polish (the net is the best one so far).
    """

    net: TwoLayerReLU
    original: TwoLayerReLU
    objective: float
    original_objective: float
    accepted: bool
    reason: str
    iterations: int
    rounds: int
    time: float
    pruned: int
    merged: int
    gradient_norm: float
    budget_reached: bool = False

    @property
    def decrease(self) -> float:
        """:math:`F_{\\rm original} - F_{\\rm polished} \\ge 0`."""
        return self.original_objective - self.objective

    def summary(self) -> str:
        """One line: objectives, pruned/merged neurons, iterations and time."""
        state = "accepted" if self.accepted else "rejected"
        return (
            f"polish {state}: F {self.original_objective:.12g} -> {self.objective:.12g} "
            f"(width {self.original.m} -> {self.net.m}; pruned {self.pruned}, merged "
            f"{self.merged}; {self.iterations} Newton iterations, {self.time:.2f}s): {self.reason}"
        )


# ----------------------------------------------------------------- fixed-pattern objective
class _Face:
    r""":math:`F_D` on a face of the pattern cones: :math:`u_j = B_jz_j`, :math:`B_j` an
    orthonormal basis of :math:`\{u : x_i^\top u = 0,\ i \in S_j\}` (the rows held on the
    boundary), masks :math:`M_{ij} = (D_j)_{ii}` for :math:`i \notin S_j`, 0 on :math:`S_j`;
    value, gradient and Hessian-vector products in :math:`z` (zero-padded to :math:`d` per
    neuron)."""

    def __init__(
        self, problem: TrainingProblem, net: TwoLayerReLU, masks: BoolArray, active: BoolArray
    ) -> None:
        self.X, self.Y, self.beta = problem.X, problem.Y, problem.beta
        self.d, self.m, self.c = net.d, net.m, net.c
        self.M = (masks & ~active).astype(np.float64)
        self.B = np.stack([_null_basis(problem.X[active[:, j]], net.d) for j in range(net.m)])
        self._key: bytes | None = None

    def start(self, net: TwoLayerReLU) -> FloatArray:
        """:math:`\\theta = (z, V)` with :math:`z_j = B_j^\\top u_j` (the projection on the face)."""
        z = np.einsum("jab,aj->bj", self.B, net.U)
        return np.concatenate([z.ravel(), net.V.ravel()])

    def net(self, theta: FloatArray) -> TwoLayerReLU:
        z, V = self._split(theta)
        return TwoLayerReLU(self._U(z), V)

    def _split(self, theta: FloatArray) -> tuple[FloatArray, FloatArray]:
        size = self.d * self.m
        return theta[:size].reshape(self.d, self.m), theta[size:].reshape(self.m, self.c)

    def _U(self, z: FloatArray) -> FloatArray:
        return np.einsum("jab,bj->aj", self.B, z)

    def U_of(self, theta: FloatArray) -> FloatArray:
        r"""The first-layer weights :math:`U` at :math:`\theta`."""
        return self._U(self._split(theta)[0])

    def gradient_norm(self, theta: FloatArray) -> float:
        r""":math:`\|\nabla F_D(\theta)\|`."""
        return float(np.linalg.norm(self.gradient(theta)))

    def _pack(self, grad_U: FloatArray, grad_V: FloatArray) -> FloatArray:
        grad_z = np.einsum("jab,aj->bj", self.B, grad_U)
        return np.concatenate([grad_z.ravel(), grad_V.ravel()])

    def _state(self, theta: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        key = theta.tobytes()
        if key != self._key:
            z, V = self._split(theta)
            U = self._U(z)
            A = (self.X @ U) * self.M
            self._cache = (U, V, A, A @ V - self.Y)
            self._key = key
        return self._cache

    def value(self, theta: FloatArray) -> float:
        U, V, _, R = self._state(theta)
        weights = float(np.vdot(U, U)) + float(np.vdot(V, V))
        return 0.5 * float(np.vdot(R, R)) + 0.5 * self.beta * weights

    def gradient(self, theta: FloatArray) -> FloatArray:
        U, V, A, R = self._state(theta)
        grad_U = self.X.T @ ((R @ V.T) * self.M) + self.beta * U
        return self._pack(grad_U, A.T @ R + self.beta * V)

    def hessp(self, theta: FloatArray, direction: FloatArray) -> FloatArray:
        U, V, A, R = self._state(theta)
        dz, dV = self._split(direction)
        dU = self._U(dz)
        dA = (self.X @ dU) * self.M
        dR = dA @ V + A @ dV
        hess_U = self.X.T @ ((dR @ V.T + R @ dV.T) * self.M) + self.beta * dU
        return self._pack(hess_U, dA.T @ R + A.T @ dR + self.beta * dV)

    def gauss_newton(self, theta: FloatArray, blocks: bool = False) -> FloatArray:
        r"""The Gauss-Newton matrix :math:`J^\top J` at :math:`\theta`, :math:`J` the Jacobian of
        :math:`\sum_j M_jXu_jv_j^\top - Y` in :math:`\theta`, from its blocks: with :math:`P_j =
        M_jXB_j` and :math:`a_j = M_jXu_j`, :math:`(z_j, z_k)`: :math:`(v_j^\top v_k)P_j^\top
        P_k`; :math:`(z_j, v_k)`: :math:`P_j^\top a_k v_j^\top`; :math:`(v_j, v_k)`:
        :math:`(a_j^\top a_k)I_c`.  ``blocks``: only the per-neuron diagonal blocks."""
        _, V, A, _ = self._state(theta)
        d, m, c = self.d, self.m, self.c
        P = np.einsum("ia,jab->ibj", self.X, self.B) * self.M[:, None, :]
        zz = np.einsum("ibj,ick->bjck", P, P) * (V @ V.T)[None, :, None, :]
        zv = np.einsum("ibj,ik->bjk", P, A)[:, :, :, None] * V[None, :, None, :]
        vv = np.einsum("jk,ce->jcke", A.T @ A, np.eye(c))
        if blocks:
            same = np.eye(m, dtype=bool)
            zz = zz * same[None, :, None, :]
            zv = zv * same[None, :, :, None]
            vv = vv * same[:, None, :, None]
        zz, zv, vv = zz.reshape(d * m, d * m), zv.reshape(d * m, m * c), vv.reshape(m * c, m * c)
        return np.block([[zz, zv], [zv.T, vv]])


def _null_basis(rows: FloatArray, d: int) -> FloatArray:
    """An orthonormal basis of the null space of ``rows`` (k×d), zero-padded to d×d."""
    basis = np.zeros((d, d))
    if rows.shape[0] == 0:
        basis[:] = np.eye(d)
        return basis
    _, s, Vt = np.linalg.svd(rows, full_matrices=True)
    rank = int(np.sum(s > s[0] * 1e-12)) if s.size and s[0] > 0 else 0
    null = Vt[rank:].T
    basis[:, : null.shape[1]] = null
    return basis


class _Preconditioned:
    r""":math:`F_D` of a :class:`_Face` in the variables :math:`\psi = L^\top(\theta - \theta_0)`, with
    :math:`LL^\top = G` fixed for the solve: the Gauss-Newton matrix :math:`J^\top J + \beta I`
    at the start (:math:`J` the Jacobian of the residual :math:`\sum_j M_jXu_jv_j^\top - Y` in
    :math:`\theta`, :meth:`_Face.gauss_newton`), whole (``full``, up to :data:`FULL_MAX_SIZE`
    variables) or its per-neuron diagonal blocks (``block``: block-Jacobi preconditioning of the
    Krylov subproblems); mapped back by :math:`\theta = \theta_0 +
    L^{-\top}\psi` (exactly :math:`\theta_0` at the start :math:`\psi = 0`)."""

    def __init__(self, face: _Face, net: TwoLayerReLU, kind: Preconditioner = "full") -> None:
        self.base, self.X = face, face.X
        self.theta0 = face.start(net)
        size = self.theta0.size
        gram = face.gauss_newton(self.theta0, blocks=kind == "block" or size > FULL_MAX_SIZE)
        # beta > 0 makes G positive definite; the floor keeps it so at beta = 0 (dead neurons,
        # padded coordinates): any fixed P gives the same minimisers
        shift = max(face.beta, 1e-12 * max(1.0, float(np.max(np.diag(gram), initial=0.0))))
        self.L = np.linalg.cholesky(gram + shift * np.eye(size))

    def _step(self, psi: FloatArray) -> FloatArray:
        return solve_triangular(self.L, psi, lower=True, trans="T")

    def theta(self, psi: FloatArray) -> FloatArray:
        r""":math:`\theta = \theta_0 + L^{-\top}\psi` (:math:`\psi = 0` is the start, exactly)."""
        return self.theta0 + self._step(psi)

    def start(self, net: TwoLayerReLU) -> FloatArray:
        r""":math:`\psi = 0`: the net the preconditioner was built at."""
        return np.zeros_like(self.theta0)

    def net(self, psi: FloatArray) -> TwoLayerReLU:
        return self.base.net(self.theta(psi))

    def U_of(self, psi: FloatArray) -> FloatArray:
        return self.base.U_of(self.theta(psi))

    def gradient_norm(self, psi: FloatArray) -> float:
        r""":math:`\|\nabla F_D(\theta)\|` at :math:`\theta = L^{-\top}\psi` (not the gradient
        in :math:`\psi`)."""
        return self.base.gradient_norm(self.theta(psi))

    def value(self, psi: FloatArray) -> float:
        return self.base.value(self.theta(psi))

    def gradient(self, psi: FloatArray) -> FloatArray:
        return solve_triangular(self.L, self.base.gradient(self.theta(psi)), lower=True)

    def hessp(self, psi: FloatArray, direction: FloatArray) -> FloatArray:
        product = self.base.hessp(self.theta(psi), self._step(direction))
        return solve_triangular(self.L, product, lower=True)


def patterns_of(net: TwoLayerReLU, X: FloatArray) -> BoolArray:
    r"""Activation patterns of the net on ``X``: column :math:`j` is :math:`\mathbb 1[Xu_j > 0]`."""
    return np.asarray(X @ net.U > 0.0)


def near_boundary(net: TwoLayerReLU, X: FloatArray, tau: float) -> BoolArray:
    r"""Rows on (or near) neuron :math:`j`'s hyperplane: :math:`|x_i^\top u_j| \le
    \tau\|x_i\|\|u_j\|`."""
    scale = np.linalg.norm(X, axis=1)[:, None] * np.linalg.norm(net.U, axis=0)[None, :]
    return np.asarray(np.abs(X @ net.U) <= tau * scale)


class _FirstCrossing:
    r"""A ``minimize`` callback that stops the solve at the first iterate where a free row
    crosses its neuron's hyperplane (:math:`x_i^\top u_j` changes sign against the masks):
    the face's own minimiser lies beyond, and only the segment up to the crossing is used."""

    def __init__(
        self, face: _Face | _Preconditioned, masks: BoolArray, active: BoolArray, start: FloatArray
    ):
        self.face, self.side, self.free = face, np.where(masks, 1.0, -1.0), ~active
        self.feasible, self.crossing = start, None

    def __call__(self, intermediate_result: OptimizeResult) -> None:
        theta = np.array(intermediate_result.x)
        if np.any((self.side * (self.face.X @ self.face.U_of(theta)) < 0.0) & self.free):
            self.crossing = theta
            raise StopIteration
        self.feasible = theta


class _KrylovCount:
    """Hessian products and trust-region iterations of the face solves of one polish path, and
    the choice of ``"auto"`` (:data:`AUTO_PRODUCTS_PER_ITERATION`)."""

    def __init__(self) -> None:
        self.products = self.iterations = 0
        self.switched = False

    def choose(self, requested: Preconditioner) -> Preconditioner:
        if requested != "auto":
            return requested
        if not self.switched and self.iterations >= AUTO_MIN_ITERATIONS:
            self.switched = self.products > AUTO_PRODUCTS_PER_ITERATION * self.iterations
        return "full" if self.switched else "none"

    def counted(self, hessp: Any) -> Any:
        def product(theta: FloatArray, direction: FloatArray) -> FloatArray:
            self.products += 1
            return hessp(theta, direction)

        return product


def newton_on_face(
    net: TwoLayerReLU,
    problem: TrainingProblem,
    masks: BoolArray,
    active: BoolArray,
    *,
    gtol: float = GRADIENT_TOL,
    max_iter: int = 50,
    precise: bool = True,
    precondition: Preconditioner = DEFAULT_PRECONDITIONER,
    krylov: _KrylovCount | None = None,
) -> tuple[TwoLayerReLU, TwoLayerReLU, int, float]:
    r"""Minimise :math:`F_D` with the patterns ``masks`` fixed and the rows ``active[:, j]`` held
    on neuron :math:`j`'s hyperplane (:class:`_Face`), by trust-region Newton
    (``scipy.optimize.minimize(method="trust-ncg")``, exact Hessian-vector products), stopped
    at the first iterate that leaves the pattern cones (:class:`_FirstCrossing`); at a point
    that stays inside, when ``precise``, Newton on the gradient (:func:`_newton_on_gradient`)
    to ``gtol``; else only to :data:`COARSE_GTOL` (while the active set still changes, a
    machine-precision solve on a face that is left at the next crossing is wasted work).

    Returns the last iterate inside the cones, the iterate where the solve stopped (the first
    outside, or the same net), the number of iterations and :math:`\|\nabla F_D\|` there.
    """
    if net.m == 0:
        return net, net, 0, 0.0
    face: _Face | _Preconditioned = _Face(problem, net, masks, active)
    krylov = _KrylovCount() if krylov is None else krylov
    chosen = krylov.choose(precondition)
    if chosen != "none":
        face = _Preconditioned(face, net, chosen)
    theta = face.start(net)
    scale = max(1.0, face.value(theta))
    stop = _FirstCrossing(face, masks, active, theta)
    with warnings.catch_warnings():
        # "A bad approximation caused failure to predict improvement": rounding, handled below
        warnings.simplefilter("ignore")
        result: OptimizeResult = minimize(
            face.value,
            theta,
            jac=face.gradient,
            hessp=krylov.counted(face.hessp),
            method="trust-ncg",
            callback=stop,
            options={"gtol": max(gtol, COARSE_GTOL) * scale, "maxiter": max_iter},
        )
    krylov.iterations += int(result.nit)
    if stop.crossing is not None:
        inside, outside = face.net(stop.feasible), face.net(stop.crossing)
        return inside, outside, int(result.nit), face.gradient_norm(stop.crossing)
    best = result.x if face.value(result.x) <= face.value(theta) else theta
    best, steps = _newton_on_gradient(face, best) if precise else (best, 0)
    solved = face.net(best)
    return solved, solved, int(result.nit) + steps, face.gradient_norm(best)


def _newton_on_gradient(
    face: _Face, theta: FloatArray, max_steps: int = 20
) -> tuple[FloatArray, int]:
    r"""Newton steps :math:`H p = -\nabla F_D` (MINRES: :math:`H` may be singular along the
    symmetries of the factorisation), each kept iff it lowers :math:`\|\nabla F_D\|`.

    Near a minimiser the value of :math:`F_D` changes below rounding (the trust region then
    stops, "failure to predict improvement") while the gradient still converges quadratically."""
    size = theta.size
    norm = float(np.linalg.norm(face.gradient(theta)))
    steps = 0
    for steps in range(1, max_steps + 1):  # noqa: B007 (steps is reported)
        if norm == 0.0:
            break
        hessian = LinearOperator((size, size), matvec=partial(face.hessp, theta))
        step, _ = minres(hessian, -face.gradient(theta), rtol=1e-14, maxiter=4 * size)
        trial = theta + step
        trial_norm = float(np.linalg.norm(face.gradient(trial)))
        if not trial_norm < norm or not np.all(np.isfinite(trial)):
            break
        theta, norm = trial, trial_norm
    return theta, steps


def _step_to_boundary(
    before: TwoLayerReLU, after: TwoLayerReLU, X: FloatArray, masks: BoolArray, active: BoolArray
) -> tuple[TwoLayerReLU, BoolArray]:
    r"""The first point of the segment ``before -> after`` where a free row reaches its
    neuron's hyperplane (:math:`x_i^\top u_j` changes sign against ``masks``), and the rows that
    reach it there; ``(after, no rows)`` when no free row leaves its side."""
    H0, H1 = X @ before.U, X @ after.U
    side = np.where(masks, 1.0, -1.0)
    wrong = (side * H1 < 0.0) & ~active
    if not wrong.any():
        return after, wrong
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(wrong, H0 / (H0 - H1), np.inf)
    first = float(np.clip(np.min(alpha), 0.0, 1.0))
    hits = wrong & (alpha <= first + 1e-12)
    U = before.U + first * (after.U - before.U)
    V = before.V + first * (after.V - before.V)
    return TwoLayerReLU(U, V), hits


def _releases(
    net: TwoLayerReLU, problem: TrainingProblem, masks: BoolArray, active: BoolArray
) -> tuple[BoolArray, BoolArray]:
    r"""Active rows whose release lowers :math:`F`, and the side each goes to.

    On the face, :math:`g_j = X^\top((RV^\top)_{:,j} \odot M_j) + \beta u_j = X_{S_j}^\top
    \lambda` (least squares).  Moving :math:`u_j` so that :math:`x_i^\top u_j = s` with the
    other active rows fixed changes :math:`F` at the rate :math:`\lambda_i s` (row off, :math:`s
    = -1`) or :math:`(\lambda_i + (RV^\top)_{ij})s` (row on, :math:`s = 1`); a negative rate
    (beyond rounding) releases row :math:`i` to that side, one row per neuron."""
    X = problem.X
    R = ((X @ net.U) * (masks & ~active)) @ net.V - problem.Y  # the residual of F_D
    RV = R @ net.V.T
    G = X.T @ (RV * (masks & ~active)) + problem.beta * net.U
    release = np.zeros_like(active)
    turn_on = np.zeros_like(active)
    for j in np.flatnonzero(active.any(axis=0)):
        rows = np.flatnonzero(active[:, j])
        lam = np.linalg.lstsq(X[rows].T, G[:, j], rcond=None)[0]
        tol = 1e-9 * max(1.0, float(np.linalg.norm(G[:, j])), float(np.max(np.abs(RV[rows, j]))))
        off, on = -lam, lam + RV[rows, j]
        rates = np.minimum(off, on)
        k = int(np.argmin(rates))
        if rates[k] < -tol and np.linalg.norm(X[rows[k]]) > 0:
            release[rows[k], j] = True
            turn_on[rows[k], j] = on[k] < off[k]
    return release, turn_on


def active_set_newton(
    net: TwoLayerReLU,
    problem: TrainingProblem,
    tau: float,
    *,
    gtol: float = GRADIENT_TOL,
    max_iter: int = 50,
    max_updates: int = 30,
    deadline: float = math.inf,
    precondition: Preconditioner = DEFAULT_PRECONDITIONER,
    krylov: _KrylovCount | None = None,
) -> tuple[TwoLayerReLU, int, float, bool]:
    r"""Minimise :math:`F_D` subject to the cone constraints :math:`(2D_j - I)Xu_j \ge 0` by an
    active-set method: rows within ``tau`` of neuron :math:`j`'s hyperplane
    (:func:`near_boundary`) start on it; each Newton solve on the face (:func:`newton_on_face`)
    stops at the first free row that reaches its hyperplane, which joins the active set
    (:func:`_step_to_boundary`); at a stationary point on the face, an active row whose
    multiplier says that leaving the hyperplane lowers :math:`F` is released (:func:`_releases`).
    Ends at a point where :math:`F_D = F` (no free row crossed), or after ``max_updates``.
    While the active set changes the face solves stop at :data:`COARSE_GTOL`; a point that
    looks final is solved again to ``gtol`` and re-checked.  No new solve starts after
    ``deadline`` (a :func:`time.perf_counter` time).

    Returns the net, the Newton iterations, the final :math:`\|\nabla F_D\|` on the face, and
    whether the end point is a KKT point (nothing crossed, nothing to release)."""
    active = near_boundary(net, problem.X, tau)
    masks = (problem.X @ net.U > 0.0) & ~active
    iterations, gradient, current, kkt = 0, float("nan"), net, False
    krylov = _KrylovCount() if krylov is None else krylov
    precise = False
    for _ in range(max_updates):
        if time.perf_counter() > deadline:
            break
        inside, solved, steps, gradient = newton_on_face(
            current,
            problem,
            masks,
            active,
            gtol=gtol,
            max_iter=max_iter,
            precise=precise,
            precondition=precondition,
            krylov=krylov,
        )
        iterations += steps
        current, hits = _step_to_boundary(inside, solved, problem.X, masks, active)
        if hits.any():
            active |= hits
            precise = False
            continue
        release, turn_on = _releases(current, problem, masks, active)
        if not release.any():
            if not precise:  # looks final: solve this face to gtol and check again
                precise = True
                continue
            kkt = True
            break
        precise = False
        active &= ~release
        masks = (masks & ~release) | turn_on
    return current, iterations, gradient, kkt


# ------------------------------------------------------------------- prune and merge
def prune_dead(net: TwoLayerReLU, problem: TrainingProblem, tol: float = PRUNE_TOL) -> TwoLayerReLU:
    r"""Drop neurons with :math:`\max_i (x_i^\top u_j)_+\|v_j\| \le \mathrm{tol}\cdot
    \max(1, \|Y\|_F)` or :math:`\|u_j\|\|v_j\|` below it: they change :math:`f(X)` by at most
    that much and only add weight decay."""
    threshold = tol * max(1.0, float(np.linalg.norm(problem.Y)))
    return net.pruned(threshold, problem.X)


def merge_parallel(net: TwoLayerReLU, X: FloatArray, tol: float = MERGE_TOL) -> TwoLayerReLU:
    r"""Merge neurons of one activation pattern whose :math:`u` are parallel.

    If :math:`D_a = D_b` and :math:`u_b = \kappa u_a`, :math:`\kappa > 0` (to within
    :math:`1 - \cos\angle \le` ``tol``), then :math:`D_aXu_av_a^\top + D_bXu_bv_b^\top =
    D_aXu_a(v_a + \kappa v_b)^\top` and :math:`\|u_a\|\|v_a + \kappa v_b\| \le \|u_a\|\|v_a\| +
    \|u_b\|\|v_b\|`: one neuron computes the same function with no more path norm.  The result
    is rebalanced.
    """
    if net.m <= 1:
        return net.rebalanced()
    patterns = patterns_of(net, X)
    norms = np.linalg.norm(net.U, axis=0)
    directions = net.U / np.where(norms > 0, norms, 1.0)
    U_out, V_out = [], []
    used = np.zeros(net.m, dtype=bool)
    for a in range(net.m):
        if used[a]:
            continue
        same = ~used & np.all(patterns == patterns[:, [a]], axis=0)
        same &= directions.T @ directions[:, a] >= 1.0 - tol
        same[a] = True
        used |= same
        kappa = norms[same] / norms[a] if norms[a] > 0 else np.ones(int(same.sum()))
        U_out.append(net.U[:, a])
        V_out.append(kappa @ net.V[same])
    return TwoLayerReLU(np.column_stack(U_out), np.vstack(V_out)).rebalanced()


# ------------------------------------------------------------------------------ polish
#: The boundary tolerances :math:`\tau` tried by :func:`polish`, in order (rows within :math:`\tau`
#: of a neuron's hyperplane start on it), until one ends at a KKT point; the best true
#: objective wins.
BOUNDARY_TOLS: tuple[float, ...] = (1e-4, 1e-3, 1e-6, 1e-2, 0.0)


@dataclass(frozen=True)
class _Run:
    """One polish path (one boundary tolerance): the net and its counters."""

    net: TwoLayerReLU
    objective: float
    iterations: int
    rounds: int
    pruned: int
    merged: int
    gradient: float
    kkt: bool


def _polish_path(
    start: TwoLayerReLU,
    problem: TrainingProblem,
    tau: float,
    *,
    max_rounds: int,
    max_iter: int,
    gtol: float,
    prune_tol: float,
    merge_tol: float,
    deadline: float = math.inf,
    precondition: Preconditioner = DEFAULT_PRECONDITIONER,
) -> _Run:
    """Rounds of merge -> active-set Newton -> prune from ``start``, boundary tolerance ``tau``;
    no new round after ``deadline``."""
    current = start
    pruned = merged = iterations = rounds = 0
    gradient, kkt = float("nan"), False
    threshold = gtol * max(1.0, start.objective(problem))
    krylov = _KrylovCount()
    for rounds in range(1, max_rounds + 1):  # noqa: B007 (rounds is reported)
        joined = merge_parallel(current, problem.X, merge_tol)
        merged += current.m - joined.m
        solved, steps, gradient, kkt = active_set_newton(
            joined,
            problem,
            tau,
            gtol=gtol,
            max_iter=max_iter,
            deadline=deadline,
            precondition=precondition,
            krylov=krylov,
        )
        iterations += steps
        current = prune_dead(solved, problem, prune_tol)
        pruned += solved.m - current.m
        if (current.m == joined.m and gradient <= threshold) or time.perf_counter() > deadline:
            break
    net = current.rebalanced()
    settled = kkt and gradient <= threshold
    return _Run(net, net.objective(problem), iterations, rounds, pruned, merged, gradient, settled)


def _guarded_path(
    start: TwoLayerReLU, problem: TrainingProblem, tau: float, options: dict[str, Any]
) -> _Run:
    """:func:`_polish_path`, where a numerical failure (overflow, a failed SVD) gives a run
    with objective ``inf`` that is never chosen."""
    try:
        with np.errstate(all="ignore"):
            return _polish_path(start, problem, tau, **options)
    except (ArithmeticError, ValueError, CoposError):  # LinAlgError is a ValueError
        return _Run(start, math.inf, 0, 0, 0, 0, math.nan, False)


def polish(
    net: TwoLayerReLU,
    problem: TrainingProblem,
    *,
    max_rounds: int = 5,
    max_iter: int = 50,
    gtol: float = GRADIENT_TOL,
    prune_tol: float = PRUNE_TOL,
    merge_tol: float = MERGE_TOL,
    boundary_tols: tuple[float, ...] = BOUNDARY_TOLS,
    time_budget: float | None = None,
    precondition: Preconditioner = DEFAULT_PRECONDITIONER,
) -> PolishResult:
    r"""Refine ``net`` on its own activation patterns; never increase the true objective.

    .. math::

        \min_{U, V}\ \tfrac12\Big\|\sum_j D_jXu_jv_j^\top - Y\Big\|_F^2
            + \tfrac\beta2\sum_j\big(\|u_j\|^2 + \|v_j\|^2\big)
        \quad\text{s.t.}\quad (2D_j - I)Xu_j \ge 0,

    with :math:`D_j` the net's patterns, by rounds of: merge parallel neurons of one pattern
    (:func:`merge_parallel`), active-set trust-region Newton (:func:`active_set_newton`), prune
    dead neurons (:func:`prune_dead`); once per boundary tolerance in ``boundary_tols``.  The
    candidate with the smallest true ReLU objective :math:`F` (rebalanced) is returned iff
    :math:`F_{\rm polished} \le F_{\rm original}`, else the original with the reason.

    Parameters
    ----------
    net, problem:
        The trained net and its training problem (sizes must match).
    max_rounds, max_iter:
        Rounds of merge + Newton, and Newton iterations per solve.
    gtol:
        Gradient tolerance of Newton, relative to :math:`\max(1, F)`.
    prune_tol, merge_tol:
        :func:`prune_dead` and :func:`merge_parallel` tolerances.
    boundary_tols:
        The tolerances :math:`\tau` of :func:`near_boundary` to try.
    precondition:
        The change of variables of each face solve (:class:`_Preconditioned`): ``"full"`` (the
        Gauss-Newton matrix at the solve's start), ``"block"`` (its per-neuron blocks),
        ``"none"``, or ``"auto"``: ``"none"`` until the Krylov subproblems prove
        ill-conditioned (:data:`AUTO_PRODUCTS_PER_ITERATION`), then ``"full"``; the same
        minimisers, fewer Hessian products.
    time_budget:
        Seconds (``None``: no limit).  No new Newton solve starts after it; the best net so far
        is returned (``budget_reached``), so one solve may overrun it.
    """
    start = time.perf_counter()
    if not isinstance(net, TwoLayerReLU):
        raise InvalidInputError(f"net must be a TwoLayerReLU; got {type(net).__name__}")
    require_no_output_bias(problem, "polish")  # the Newton steps do not move an output bias yet
    original_objective = net.objective(problem)  # checks the sizes against the problem
    options = {
        "max_rounds": check_dimension(max_rounds, "max_rounds"),
        "max_iter": check_dimension(max_iter, "max_iter"),
        "gtol": check_positive(gtol, "gtol"),
        "prune_tol": check_nonnegative(prune_tol, "prune_tol"),
        "merge_tol": check_nonnegative(merge_tol, "merge_tol"),
        "precondition": _check_preconditioner(precondition),
    }
    if time_budget is not None:
        options["deadline"] = start + check_positive(time_budget, "time_budget")
    taus = [check_nonnegative(tau, "boundary tolerance") for tau in boundary_tols]
    if not taus:
        raise InvalidInputError("boundary_tols must hold at least one tolerance")
    first = prune_dead(net.rebalanced(), problem, options["prune_tol"])
    runs: list[_Run] = [_Run(first, first.objective(problem), 0, 0, 0, 0, math.nan, False)]
    for tau in taus if math.isfinite(runs[0].objective) else ():
        runs.append(_guarded_path(first, problem, tau, options))
        if runs[-1].kkt or time.perf_counter() > options.get("deadline", math.inf):
            break
    best = min(runs, key=lambda run: run.objective)
    return _accept(
        net,
        best,
        problem,
        original_objective,
        start,
        iterations=sum(run.iterations for run in runs),
        pruned=net.m - first.m + best.pruned,
        budget_reached=time.perf_counter() > options.get("deadline", math.inf),
    )


def _check_preconditioner(precondition: object) -> Preconditioner:
    if precondition not in PRECONDITIONERS:
        raise InvalidInputError(
            f"precondition must be one of {', '.join(PRECONDITIONERS)}; got {precondition!r}"
        )
    return precondition  # type: ignore[return-value]


def _accept(
    net: TwoLayerReLU,
    best: _Run,
    problem: TrainingProblem,
    original_objective: float,
    start: float,
    *,
    iterations: int,
    pruned: int,
    budget_reached: bool = False,
) -> PolishResult:
    """The polish result: ``best`` if its true objective is finite and did not increase."""
    objective = best.objective
    accepted = bool(np.isfinite(objective) and objective <= original_objective)
    if accepted:
        reason = f"the true objective decreased by {original_objective - objective:.3e}"
    else:
        reason = (
            f"the polished net's true objective {objective!r} exceeds the original "
            f"{original_objective!r}; the original net is returned"
        )
    if budget_reached:
        reason += " (time budget reached: the best net so far)"
    return PolishResult(
        net=best.net if accepted else net,
        original=net,
        objective=objective if accepted else original_objective,
        original_objective=original_objective,
        accepted=accepted,
        reason=reason,
        iterations=iterations,
        rounds=best.rounds,
        time=time.perf_counter() - start,
        pruned=pruned,
        merged=best.merged,
        gradient_norm=best.gradient,
        budget_reached=budget_reached,
    )


# --------------------------------------------------------------------- witness insertion
@dataclass(frozen=True, eq=False)
class Insertion:
    r"""A neuron inserted along a witness direction (:func:`insert_neuron`).

    Attributes
    ----------
    net:
        The rebalanced net with the new neuron appended (its last column/row); the net handed in
        when nothing was inserted.
    u:
        The unit witness direction.
    correlation:
        :math:`\|Z^\top(Xu)_+\|`, a lower bound on :math:`\sigma(Z)`.
    step:
        :math:`\rho^\star = (\|Z^\top a\| - \beta)/\|a\|^2` (0 when there is no decrease).
    decrease:
        Proven decrease of the weight-decay objective, :math:`F_{\rm before} - F_{\rm after}`,
        computed on the true objective (at least :math:`(\|Z^\top a\| - \beta)^2/(2\|a\|^2)`
        up to rounding when ``net`` was rebalanced).
    objective_before, objective_after:
        True weight-decay objectives.
    """

    net: TwoLayerReLU
    u: FloatArray
    correlation: float
    step: float
    decrease: float
    objective_before: float
    objective_after: float


def insert_neuron(net: TwoLayerReLU, problem: TrainingProblem, u: ArrayLike) -> Insertion:
    r"""Append the neuron :math:`(\sqrt{\rho^\star}u, \sqrt{\rho^\star}w)`, :math:`w = Z^\top a /
    \|Z^\top a\|`, :math:`a = (Xu)_+`, :math:`Z = Y - f(X)`, to the rebalanced net: the
    closed-form best step of the weight-decay objective along the direction ``u`` (normalised).

    When :math:`\|Z^\top a\| \le \beta`, or the decrease of the true objective is within
    :data:`DECREASE_RTOL` of rounding, nothing is inserted: ``net`` is returned as it was, with
    ``step = 0`` and ``decrease = 0``.
    """
    require_no_output_bias(problem, "insert_neuron")  # the step below assumes no output bias
    direction = as_finite_array(u, "u", ndim=1)
    if direction.shape != (net.d,):
        raise InvalidInputError(f"u must have shape ({net.d},); got {direction.shape}")
    length = float(np.linalg.norm(direction))
    if length == 0.0:
        raise InvalidInputError("u must be nonzero")
    direction = direction / length
    before = net.objective(problem)
    base = net.rebalanced()
    Z = base.residual(problem)
    a = np.maximum(problem.X @ direction, 0.0)
    g = Z.T @ a
    correlation = float(np.linalg.norm(g))
    excess = correlation - problem.beta
    unchanged = Insertion(net, direction, correlation, 0.0, 0.0, before, before)
    if excess <= 0.0 or not np.any(a > 0):
        return unchanged
    step = excess / float(np.vdot(a, a))
    root = np.sqrt(step)
    new = TwoLayerReLU(
        np.column_stack([base.U, root * direction]), np.vstack([base.V, root * g / correlation])
    )
    after = new.objective(problem)
    if not after < before - DECREASE_RTOL * max(1.0, abs(before)):  # within rounding: no proof
        return unchanged
    return Insertion(new, direction, correlation, step, before - after, before, after)
