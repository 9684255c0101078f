r"""Global-optimality certificates for trained two-layer ReLU networks.

Weak duality for the weight-decay training problem (Sahiner et al. 2021, §2 of the reference
notes) says that every :math:`Z \in \mathbb R^{n\times c}` with

.. math::

    \sigma(Z) := \max_{\|u\|_2\le 1}\big\|Z^\top (Xu)_+\big\|_2 \le \beta

gives the lower bound :math:`-\tfrac12\|Z - Y\|_F^2 + \tfrac12\|Y\|_F^2 \le p^\star`.  For a
trained network :math:`f` the residual :math:`Z = Y - f(X)` is the natural candidate (it is the
optimal dual variable at a global optimum); scaling it into the feasible set,

.. math::

    \tilde Z = t Z,\quad t = \min\big(1, \beta/\sigma\big),\qquad
    L = -\tfrac12\|\tilde Z - Y\|_F^2 + \tfrac12\|Y\|_F^2
      = t\langle Z, Y\rangle - \tfrac12 t^2\|Z\|_F^2 \;\le\; p^\star \;\le\; F,

where :math:`F` is the network's weight-decay objective and :math:`\sigma` is any **upper bound**
on :math:`\sigma(Z)` (a larger :math:`\sigma` only shrinks :math:`t`, and :math:`tZ` stays
feasible for every :math:`t \le \beta/\sigma(Z)`).  The gap :math:`F - L` bounds the network's
sub-optimality.

Computing :math:`\sigma(Z)`
---------------------------
With the activation patterns :math:`D_i` of :math:`X` (:mod:`copos.network.arrangements`) and the
pattern cones :math:`\mathcal K_i = \{u : A_iu \ge 0\}`, :math:`A_i = (2D_i - I)X`, whose closures
cover :math:`\mathbb R^d` and on which :math:`(Xu)_+ = D_iXu`,

.. math::

    \sigma(Z) = \max_i \sigma_i,\qquad
    \sigma_i = \max_{u\in\mathcal K_i,\ \|u\|\le1}\|Z^\top D_iXu\|_2

(a cone-constrained PCA per pattern).  :func:`dual_norm` offers three rigorous upper bounds:

* ``"exact"`` — every pattern solved exactly by face enumeration
  (:func:`copos.network.copositive.cone_pca`) in the row space of :math:`X`;
* ``"relaxation"`` — per pattern the doubly-nonnegative (Shor) bound
  :math:`\sigma_i^2 \le \min\{\mu : \mu I - G_i - A_i^\top NA_i \succeq 0,\ N \ge 0\}`,
  :math:`G_i = X^\top D_iZZ^\top D_iX`, repaired after the solve so that it holds whatever the
  solver's accuracy;
* ``"global"`` — :math:`\sigma(Z) \le \|Z\|_2\|X\|_2`, since :math:`\|(Xu)_+\| \le \|Xu\|`.

All computations happen in the row space of :math:`X` (rank :math:`r`); see :func:`dual_norm`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Literal, cast

import cvxpy as cp
import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos import __version__
from copos._io import atomic_write
from copos._validation import as_finite_array, check_dimension, check_positive, power_of_two_scale
from copos.errors import CoposError, DataFileError, InvalidInputError
from copos.network.arrangements import Arrangements, enumerate_arrangements
from copos.network.copositive import cone_pca, face_bases
from copos.network.lifted import ADMM_SOLVER, dnn_solver
from copos.network.model import TwoLayerReLU
from copos.network.problem import TrainingProblem
from copos.solvers import DEFAULT_SOLVER, resolve_solver, solve
from copos.solvers.dnn_admm import SOLVER_NAME, certified_lower_bound, solve_lifted_dnn_admm

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

Method = Literal["auto", "exact", "relaxation", "global"]
ResolvedMethod = Literal["exact", "relaxation", "global"]
Verdict = Literal["globally optimal within eps", "not certified"]
LiftedMode = Literal["auto", "always", "never"]

OPTIMAL: Verdict = "globally optimal within eps"
NOT_CERTIFIED: Verdict = "not certified"
METHODS: tuple[str, ...] = ("auto", "exact", "relaxation", "global")

#: Refuse to enumerate more activation patterns than this (``auto`` then uses ``"global"``).
DEFAULT_MAX_PATTERNS = 20_000
#: ``auto`` uses ``"exact"`` when (patterns) x (faces) is at most this many small SVDs.
DEFAULT_MAX_EXACT_WORK = 200_000
#: Relative singular-value threshold for the rank of ``X`` (same as the arrangements module).
RANK_TOL = 1e-10
#: Relative inflation of every computed upper bound, covering floating-point rounding.
FP_SAFETY = 1e-12
#: Relative tolerance of :func:`verify` for numbers recomputed by pure arithmetic.
CHECK_RTOL = 1e-8
#: Relative tolerance of :func:`verify` for numbers that come out of a conic solver.
SOLVER_RTOL = 1e-6
#: ``certify(lifted="auto")`` computes the lifted bound up to this many samples (the dual
#: point stored in the certificate has (2n)² + nc numbers).
MAX_LIFTED_N = 500
LIFTED_MODES: tuple[str, ...] = ("auto", "always", "never")
CERTIFICATE_FORMAT = "copos.certificate"
CERTIFICATE_VERSION = 1
#: Largest tolerance of a verdict: :func:`certify` and :func:`verify` refuse ``eps`` outside
#: ``(0, MAX_EPS]`` (a "global optimum within 1 %" is the loosest claim copos will make).
MAX_EPS = 1e-2
#: :math:`L > F` by more than this (relative to :math:`\max(1, |F|)`) cannot be rounding: the
#: numbers are inconsistent and nothing is certified.
ROUNDING_RTOL = 1e-9


# --------------------------------------------------------------------------------------------
# The dual norm
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DualNormResult:
    r"""An upper bound on :math:`\sigma(Z) = \max_{\|u\|\le1}\|Z^\top(Xu)_+\|_2`.

    Attributes
    ----------
    value:
        Upper bound on :math:`\sigma(Z)` (``"exact"``: the exact value, inflated by
        :data:`FP_SAFETY` and by the rank-truncation term ``truncation``).
    rigorous:
        Whether ``value`` is a proven upper bound (up to the floating-point allowances described
        in :func:`dual_norm`).  True for all three methods with a complete enumeration.
    method:
        The method used: ``"exact"``, ``"relaxation"`` or ``"global"``.
    requested:
        The method asked for (may be ``"auto"``).
    lower:
        :math:`\|Z^\top(Xu)_+\|` at the best unit ``u`` seen (the exact maximiser, or the
        pattern witnesses): a lower bound on :math:`\sigma(Z)`, so
        ``lower <= sigma(Z) <= value``.
    maximizer:
        For ``"exact"``: a unit ``u`` (shape ``(d,)``) attaining ``lower``; else ``None``.
    pattern_bounds:
        Upper bounds on :math:`\sigma_i`, one per pattern (``None`` for ``"global"``).  Exact or
        relaxed values where ``evaluated``; elsewhere the spectral bound
        :math:`\|Z^\top D_iX\|_2`, which was already below the running maximum (pruned).
    evaluated:
        Which patterns were solved (``None`` for ``"global"``).
    num_patterns:
        Number of activation patterns (0 for ``"global"``).
    rank:
        Numerical rank ``r`` of ``X``.
    truncation:
        :math:`\|Z\|_2\, s_{r+1}(X)`, added to ``value`` to cover the singular values of ``X``
        dropped by the rank cut-off.
    time:
        Wall-clock seconds.
    note:
        How to read ``value``, in words.
    """

    value: float
    rigorous: bool
    method: ResolvedMethod
    requested: Method
    lower: float
    maximizer: FloatArray | None
    pattern_bounds: FloatArray | None
    evaluated: BoolArray | None
    num_patterns: int
    rank: int
    truncation: float
    time: float
    note: str

    @property
    def num_evaluated(self) -> int:
        """Number of patterns actually solved (the others were pruned by the spectral bound)."""
        return 0 if self.evaluated is None else int(np.sum(self.evaluated))


def dual_norm(
    Z: ArrayLike,
    X: ArrayLike,
    *,
    method: Method = "auto",
    max_patterns: int = DEFAULT_MAX_PATTERNS,
    solver: str = DEFAULT_SOLVER,
    max_exact_work: int = DEFAULT_MAX_EXACT_WORK,
    prune: bool = True,
) -> DualNormResult:
    r"""Upper bound on :math:`\sigma(Z) = \max_{\|u\|_2\le1}\|Z^\top(Xu)_+\|_2`.

    Row-space reduction: with the SVD :math:`X = U\Sigma V^\top` and rank ``r``,
    :math:`X_r = XV_r = U_r\Sigma_r` (``n x r``) has :math:`\sigma(Z; X_r) = \sigma(Z; X)` up to
    the dropped singular values: :math:`|\|Z^\top(Xu)_+\| - \|Z^\top(X_rV_r^\top u)_+\|| \le
    \|Z\|_2 s_{r+1}`, which is added to the bound.  Patterns are enumerated exactly
    (:func:`~copos.network.arrangements.enumerate_arrangements`, ``complete=True``).

    Pruning: patterns are processed by decreasing spectral bound
    :math:`\sigma_i \le \|Z^\top D_iX_r\|_2`; once that bound is at most the running maximum the
    remaining patterns cannot change :math:`\max_i\sigma_i` and are skipped.

    The methods:

    ``"exact"``
        :math:`\sigma_i^2 = \max\{\|G u\|^2 : A_iu \ge 0, \|u\| \le 1\}`, :math:`G = Z^\top
        D_iX_r`, by :func:`~copos.network.copositive.cone_pca`: a maximiser is a top singular
        vector of :math:`G` restricted to the null space of its active rows, so it suffices to
        try :math:`\pm` the top right singular vector on every face
        :math:`\{u : A_{\mathcal S}u = 0\}`, :math:`|\mathcal S| < r` (when the top singular
        value of a face is repeated, an extreme ray of the top singular space inside the cone
        is a 1-dimensional face of its own, so nothing is missed).  Cost: at most
        :math:`P\cdot F` SVDs of ``c x k`` matrices, :math:`F = \sum_{k<r}\binom{n}{k}` faces
        and :math:`P \le 2\sum_{k<r}\binom{n-1}{k}` patterns; refused when :math:`PF >`
        ``max_exact_work``.  The value is inflated by :data:`FP_SAFETY` (relative).
    ``"relaxation"``
        Per pattern, with :math:`G_i = X_r^\top D_iZZ^\top D_iX_r` and :math:`A_i =
        (2D_i-I)X_r`, for :math:`u\in\mathcal K_i`, :math:`\|u\|\le1` and any :math:`N \ge 0`,
        :math:`\mu I - G_i - A_i^\top NA_i \succeq 0` implies :math:`u^\top G_iu \le
        \mu - (A_iu)^\top N(A_iu) \le \mu`.  The SDP :math:`\min\{\mu : \ldots\}` is solved with
        ``solver``; then :math:`N \leftarrow \max(N, 0)` (symmetrised) and :math:`\mu \leftarrow
        \mu + \max(0, -\lambda_{\min}(\mu I - G_i - A_i^\top NA_i))` plus a rounding margin,
        computed with numpy, so the bound holds whatever the solver's accuracy (a failed solve
        falls back to :math:`N = 0`, i.e. :math:`\lambda_{\max}(G_i)`).  The final per-pattern
        bound is :math:`\min(\sqrt{\mu}, \|Z^\top D_iX_r\|_2)`.  One small SDP (``r x r`` PSD
        block, ``n x n`` nonnegative multiplier) per evaluated pattern.
    ``"global"``
        :math:`\sigma(Z) \le \|Z\|_2\|X\|_2`, because :math:`\|(Xu)_+\| \le \|Xu\|`.  No patterns;
        crude but always available.
    ``"auto"``
        ``"exact"`` if the patterns can be enumerated (at most ``max_patterns``) and
        :math:`PF \le` ``max_exact_work``; else ``"relaxation"`` if they can be enumerated; else
        ``"global"``.

    Parameters
    ----------
    Z:
        Dual candidate, shape ``(n, c)`` (a 1-D ``Z`` is one column).
    X:
        Data, shape ``(n, d)``.
    method:
        ``"auto"``, ``"exact"``, ``"relaxation"`` or ``"global"``.
    max_patterns:
        Largest number of activation patterns to enumerate.
    solver:
        Conic solver for ``"relaxation"`` (``"clarabel"`` or ``"scs"``).
    max_exact_work:
        Largest :math:`P\cdot F` accepted by ``"exact"`` (and by ``"auto"`` for choosing it).
    prune:
        Skip patterns whose spectral bound cannot raise the maximum (default).  With ``False``
        every pattern is solved, so ``pattern_bounds`` holds every :math:`\sigma_i` (or its
        relaxation); the value is the same up to solver accuracy.

    Returns
    -------
    DualNormResult

    Raises
    ------
    InvalidInputError
        Bad shapes, NaN/inf, unknown method, or an explicit ``"exact"``/``"relaxation"`` that
        exceeds ``max_patterns`` / ``max_exact_work``.

    Notes
    -----
    Floating-point allowances: the enumeration treats rows that are parallel to within
    ``1e-10`` as one hyperplane and ignores cells thinner than ``1e-9`` (in whitened
    coordinates), and eigen-solves are accurate to a few units of rounding; the bounds are
    rigorous up to perturbations of that size.
    """
    start = time.perf_counter()
    Z_arr, X_arr = _check_pair(Z, X)
    # sigma(tZ; sX) = t s sigma(Z; X) for t, s > 0: compute at unit scale (exact powers of two,
    # so nothing is rounded) and scale back; rows near 1e154 would overflow their squared norms.
    z_scale, x_scale = power_of_two_scale(Z_arr), power_of_two_scale(X_arr)
    result = _dual_norm_at_unit_scale(
        Z_arr / z_scale, X_arr / x_scale, method, max_patterns, solver, max_exact_work, prune
    )
    scale = z_scale * x_scale
    return replace(
        result,
        value=result.value * scale,
        lower=result.lower * scale,
        truncation=result.truncation * scale,
        pattern_bounds=None if result.pattern_bounds is None else result.pattern_bounds * scale,
        time=time.perf_counter() - start,
    )


def _dual_norm_at_unit_scale(
    Z_arr: FloatArray,
    X_arr: FloatArray,
    method: Method,
    max_patterns: int,
    solver: str,
    max_exact_work: int,
    prune: bool,
) -> DualNormResult:
    """:func:`dual_norm` on checked arrays (``max|Z|``, ``max|X|`` of order 1)."""
    start = time.perf_counter()
    requested = _check_method(method)
    max_patterns = check_dimension(max_patterns, "max_patterns")
    max_exact_work = check_dimension(max_exact_work, "max_exact_work")
    resolve_solver(solver)
    Xr, Vr, tail = _row_space(X_arr)
    truncation = float(np.linalg.norm(Z_arr, 2)) * tail
    if Xr.shape[1] == 0 or not np.any(Z_arr):
        return _trivial_result(requested, Xr.shape[1], truncation, start)
    if requested == "global":
        return _global_result(Z_arr, X_arr, requested, Xr.shape[1], start, "requested")
    patterns = _enumerate(Xr, max_patterns, requested)
    if patterns is None:
        reason = f"more than max_patterns = {max_patterns} activation patterns"
        return _global_result(Z_arr, X_arr, requested, Xr.shape[1], start, reason)
    work = len(patterns) * face_count(Xr.shape[0], Xr.shape[1])
    resolved = _choose(requested, work, max_exact_work)
    if resolved == "exact":
        bounds, evaluated, u_r = _exact_bounds(Z_arr, Xr, patterns, prune)
        maximizer = _unit(Vr @ u_r) if u_r is not None else None
        candidates = [maximizer] if maximizer is not None else []
    else:
        bounds, evaluated = _relaxed_bounds(Z_arr, Xr, patterns, solver, prune)
        maximizer = None
        candidates = _witness_candidates(patterns, Vr)
    value = float(np.max(bounds)) * (1.0 + FP_SAFETY) + truncation
    return DualNormResult(
        value=value,
        rigorous=patterns.complete,
        method=resolved,
        requested=requested,
        lower=_attained(Z_arr, X_arr, candidates),
        maximizer=maximizer,
        pattern_bounds=bounds,
        evaluated=evaluated,
        num_patterns=len(patterns),
        rank=int(Xr.shape[1]),
        truncation=truncation,
        time=time.perf_counter() - start,
        note=_NOTES[resolved],
    )


_NOTES: dict[str, str] = {
    "exact": "exact cone-constrained PCA on every activation pattern (face enumeration)",
    "relaxation": "doubly-nonnegative (Shor) upper bound per activation pattern, repaired "
    "with numpy eigenvalues so that it holds whatever the solver accuracy",
    "global": "crude global bound ||Z||_2 ||X||_2 (no activation patterns)",
}


def face_count(n: int, r: int) -> int:
    r"""Number of faces tried per pattern by ``"exact"``: :math:`\sum_{k<r}\binom{n}{k}`."""
    return sum(math.comb(n, k) for k in range(r))


def _check_pair(Z: ArrayLike, X: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Finite ``Z`` (n×c; 1-D is a column) and ``X`` (n×d) with the same ``n``."""
    X_arr = as_finite_array(X, "X", ndim=2)
    Z_arr = as_finite_array(Z, "Z")
    if Z_arr.ndim == 1:
        Z_arr = Z_arr[:, None]
    if Z_arr.ndim != 2 or Z_arr.shape[0] != X_arr.shape[0]:
        raise InvalidInputError(
            f"need Z (n×c) and X (n×d) with the same n; got Z {Z_arr.shape}, X {X_arr.shape}"
        )
    if 0 in X_arr.shape or Z_arr.shape[1] == 0:
        raise InvalidInputError(f"Z and X must be non-empty; got Z {Z_arr.shape}, X {X_arr.shape}")
    return Z_arr, X_arr


def _check_method(method: Any) -> Method:
    if method not in METHODS:
        raise InvalidInputError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    return cast(Method, method)


def _row_space(X: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    r"""``(X V_r, V_r, s_{r+1})``: coordinates in the row space, its basis, first dropped value."""
    _, singular, Vt = np.linalg.svd(X, full_matrices=False)
    top = float(singular[0]) if singular.size else 0.0
    rank = int(np.sum(singular > RANK_TOL * top)) if top > 0 else 0
    tail = float(singular[rank]) if rank < singular.size else 0.0
    Vr = Vt[:rank].T
    return X @ Vr, Vr, tail


def _enumerate(Xr: FloatArray, max_patterns: int, requested: Method) -> Arrangements | None:
    """All patterns of ``Xr``; ``None`` (for ``"auto"``) when there may be too many."""
    try:
        return enumerate_arrangements(Xr, max_patterns=max_patterns)
    except InvalidInputError as exc:
        if requested == "auto" and "max_patterns" in str(exc):
            return None
        raise


def _choose(requested: Method, work: int, max_exact_work: int) -> ResolvedMethod:
    if requested == "relaxation":
        return "relaxation"
    if work <= max_exact_work:
        return "exact"
    if requested == "exact":
        raise InvalidInputError(
            f"exact dual norm needs about {work} small SVDs > max_exact_work = {max_exact_work}"
            "; raise max_exact_work or use method='relaxation'"
        )
    return "relaxation"


def _unit(u: FloatArray) -> FloatArray:
    norm = float(np.linalg.norm(u))
    return u / norm if norm > 0 else u


def _attained(Z: FloatArray, X: FloatArray, candidates: list[FloatArray]) -> float:
    r""":math:`\max_u \|Z^\top(Xu)_+\|` over unit candidates (0 if none): a lower bound."""
    values = [float(np.linalg.norm(Z.T @ np.maximum(X @ _unit(u), 0.0))) for u in candidates]
    return max(values, default=0.0)


def _witness_candidates(patterns: Arrangements, Vr: FloatArray) -> list[FloatArray]:
    if patterns.witnesses is None:
        return []
    return [Vr @ h for h in patterns.witnesses]


def _trivial_result(
    requested: Method, rank: int, truncation: float, start: float
) -> DualNormResult:
    """``X`` of rank 0 or ``Z = 0``: :math:`\\sigma = 0` (plus the truncation term)."""
    resolved: ResolvedMethod = "exact" if requested == "auto" else requested
    return DualNormResult(
        value=truncation,
        rigorous=True,
        method=resolved,
        requested=requested,
        lower=0.0,
        maximizer=None,
        pattern_bounds=None,
        evaluated=None,
        num_patterns=0,
        rank=rank,
        truncation=truncation,
        time=time.perf_counter() - start,
        note="Z = 0 or X = 0: the dual norm is 0",
    )


def _global_result(
    Z: FloatArray, X: FloatArray, requested: Method, rank: int, start: float, reason: str
) -> DualNormResult:
    r""":math:`\sigma(Z) \le \|Z\|_2\|X\|_2` (``reason`` says why this bound was used)."""
    value = float(np.linalg.norm(Z, 2)) * float(np.linalg.norm(X, 2)) * (1.0 + FP_SAFETY)
    _, _, Vt = np.linalg.svd(Z.T @ X)
    return DualNormResult(
        value=value,
        rigorous=True,
        method="global",
        requested=requested,
        lower=_attained(Z, X, [Vt[0], -Vt[0]]),
        maximizer=None,
        pattern_bounds=None,
        evaluated=None,
        num_patterns=0,
        rank=rank,
        truncation=0.0,
        time=time.perf_counter() - start,
        note=f"{_NOTES['global']}; used because: {reason}",
    )


def _pattern_factors(Z: FloatArray, Xr: FloatArray, patterns: Arrangements, i: int) -> FloatArray:
    r""":math:`Z^\top D_iX_r` of shape ``(c, r)``."""
    return Z.T @ (patterns.D(i)[:, None] * Xr)


def _spectral_bounds(Z: FloatArray, Xr: FloatArray, patterns: Arrangements) -> FloatArray:
    r""":math:`\|Z^\top D_iX_r\|_2 \ge \sigma_i` for every pattern."""
    return np.array(
        [
            float(np.linalg.norm(_pattern_factors(Z, Xr, patterns, i), 2))
            for i in range(len(patterns))
        ]
    )


def _max_with_pruning(
    spectral: FloatArray, evaluate: Callable[[int], float], prune: bool
) -> tuple[FloatArray, BoolArray]:
    """Per-pattern upper bounds, evaluating patterns by decreasing spectral bound until (with
    ``prune``) the spectral bound of the next one is at most the running maximum."""
    bounds = spectral.copy()
    evaluated = np.zeros(spectral.size, dtype=bool)
    best = 0.0
    for i in np.argsort(-spectral, kind="stable"):
        if prune and spectral[i] <= best:
            break
        bounds[i] = min(float(evaluate(int(i))), float(spectral[i]))
        evaluated[i] = True
        best = max(best, float(bounds[i]))
    return bounds, evaluated


def _exact_bounds(
    Z: FloatArray, Xr: FloatArray, patterns: Arrangements, prune: bool
) -> tuple[FloatArray, BoolArray, FloatArray | None]:
    """Exact :math:`\\sigma_i` (pruned patterns: spectral bound) and the best maximiser."""
    bases = face_bases(Xr)
    maximizers: dict[int, FloatArray] = {}

    def evaluate(i: int) -> float:
        A = patterns.sign_matrix(i)[:, None] * Xr
        u, squared = cone_pca(_pattern_factors(Z, Xr, patterns, i), A, bases=bases)
        maximizers[i] = u
        return math.sqrt(max(squared, 0.0))

    bounds, evaluated = _max_with_pruning(_spectral_bounds(Z, Xr, patterns), evaluate, prune)
    solved = np.flatnonzero(evaluated)
    if solved.size == 0:
        return bounds, evaluated, None
    best = int(solved[np.argmax(bounds[solved])])
    return bounds, evaluated, maximizers[best]


def _relaxed_bounds(
    Z: FloatArray, Xr: FloatArray, patterns: Arrangements, solver: str, prune: bool
) -> tuple[FloatArray, BoolArray]:
    """Rigorous DNN upper bounds on :math:`\\sigma_i` (pruned patterns: spectral bound)."""
    row_scale = float(np.max(np.linalg.norm(Xr, axis=1)))

    def evaluate(i: int) -> float:
        B = _pattern_factors(Z, Xr, patterns, i)
        scale = float(np.linalg.norm(B, 2)) ** 2
        if scale == 0.0:
            return 0.0
        gram = (B.T @ B) / scale
        A = patterns.sign_matrix(i)[:, None] * Xr / row_scale
        return math.sqrt(scale * max(relaxed_square_bound(gram, A, solver=solver), 0.0))

    return _max_with_pruning(_spectral_bounds(Z, Xr, patterns), evaluate, prune)


def relaxed_square_bound(G: FloatArray, A: FloatArray, *, solver: str = DEFAULT_SOLVER) -> float:
    r"""Rigorous upper bound on :math:`\max\{u^\top Gu : Au \ge 0,\ \|u\| \le 1\}`.

    Solves :math:`\min\{\mu : \mu I - G - A^\top NA \succeq 0,\ N = N^\top \ge 0\}` and repairs
    the answer with :func:`certified_mu`, so the returned :math:`\mu` satisfies
    :math:`\mu I - G - A^\top\hat NA \succeq 0` for the clipped :math:`\hat N \ge 0` (checked with
    numpy eigenvalues), whatever the solver returned.  A failed solve gives
    :math:`\lambda_{\max}(G)` (the bound with :math:`N = 0`).

    Parameters
    ----------
    G:
        Symmetric PSD matrix ``(r, r)``.
    A:
        Cone rows ``(n, r)``.
    solver:
        ``"clarabel"`` or ``"scs"``.
    """
    r = G.shape[0]
    n = A.shape[0]
    mu = cp.Variable(name="mu")
    N = cp.Variable((n, n), symmetric=True, name="N")
    lmi = mu * np.eye(r) - G - A.T @ N @ A
    program = cp.Problem(cp.Minimize(mu), [N >= 0, 0.5 * (lmi + lmi.T) >> 0])
    info = solve(program, solver=solver)
    if info.status in ("optimal", "optimal_inaccurate") and mu.value is not None:
        mu_value = float(np.asarray(mu.value, dtype=np.float64))
        N_value = np.asarray(N.value, dtype=np.float64)
        if math.isfinite(mu_value) and N_value.shape == (n, n) and np.all(np.isfinite(N_value)):
            return certified_mu(mu_value, N_value, G, A)
    return certified_mu(float(np.linalg.eigvalsh(G)[-1]), np.zeros((n, n)), G, A)


def certified_mu(mu: float, N: FloatArray, G: FloatArray, A: FloatArray) -> float:
    r"""The smallest :math:`\hat\mu \ge \mu` with :math:`\hat\mu I - G - A^\top\hat NA \succeq 0`,
    :math:`\hat N = \max(\tfrac12(N + N^\top), 0)`, plus a rounding margin.

    .. math::

        \hat\mu = \mu + \max\big(0, -\lambda_{\min}(\mu I - G - A^\top\hat NA)\big)
            + 16\,r\,\epsilon_{\rm mach}\big(|\mu| + \|G\|_2 + \|A^\top\hat NA\|_2\big).

    Then for :math:`Au \ge 0`, :math:`\|u\| \le 1`: :math:`u^\top Gu \le \hat\mu -
    (Au)^\top\hat N(Au) \le \hat\mu`.
    """
    N_hat = np.maximum(0.5 * (N + N.T), 0.0)
    penalty = A.T @ N_hat @ A
    penalty = 0.5 * (penalty + penalty.T)
    matrix = mu * np.eye(G.shape[0]) - G - penalty
    lowest = float(np.linalg.eigvalsh(0.5 * (matrix + matrix.T))[0])
    size = abs(mu) + float(np.linalg.norm(G, 2)) + float(np.linalg.norm(penalty, 2))
    margin = 16.0 * G.shape[0] * float(np.finfo(np.float64).eps) * size
    return float(mu + max(0.0, -lowest) + margin)


# --------------------------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataFingerprint:
    """SHA-256 of the data actually used (``problem.X`` and ``problem.Y`` as float64).

    The hash covers, in order, ``b"X"``, the shape of ``X`` as text, the little-endian float64
    bytes of ``X`` (C order), then the same for ``Y``.
    """

    sha256: str
    X_shape: tuple[int, int]
    Y_shape: tuple[int, int]

    @classmethod
    def of(cls, X: FloatArray, Y: FloatArray) -> DataFingerprint:
        """Fingerprint of ``X`` (n×d) and ``Y`` (n×c)."""
        digest = hashlib.sha256()
        for name, array in (("X", X), ("Y", Y)):
            data = np.ascontiguousarray(array, dtype="<f8")
            digest.update(f"{name}{tuple(data.shape)}".encode())
            digest.update(data.tobytes())
        return cls(
            sha256=digest.hexdigest(),
            X_shape=(int(X.shape[0]), int(X.shape[1])),
            Y_shape=(int(Y.shape[0]), int(Y.shape[1])),
        )


@dataclass(frozen=True, eq=False)
class LiftedBound:
    r"""The certified lower bound of the lifted DNN relaxation, with the dual point behind it.

    ``value`` is :func:`copos.solvers.dnn_admm.certified_lower_bound` of ``(Z, N)``: a lower
    bound on the DNN relaxation, hence on :math:`p^\star` over networks of every width,
    recomputed in numpy from ``(Z, N)`` alone (so :func:`verify` can re-check it).  ``solver``,
    ``status``, ``gap`` and ``tol`` describe the solve that produced the dual point.
    """

    value: float
    Z: FloatArray = field(repr=False)
    N: FloatArray = field(repr=False)
    solver: str
    status: str
    gap: float
    tol: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": json_number(self.value),
            "Z": _json_matrix(self.Z),
            "N": _json_matrix(self.N),
            "solver": self.solver,
            "status": self.status,
            "gap": json_number(self.gap),
            "tol": json_number(self.tol),
        }

    @property
    def finite(self) -> bool:
        """Whether ``value`` and the dual point ``(Z, N)`` are finite (a diverged solve is not)."""
        return bool(
            math.isfinite(self.value)
            and np.all(np.isfinite(self.Z))
            and np.all(np.isfinite(self.N))
        )


@dataclass(frozen=True, eq=False)
class Certificate:
    r"""A (possibly failed) global-optimality certificate for one network on one data set.

    Attributes
    ----------
    copos_version:
        Version of copos that wrote it.
    data:
        Fingerprint of ``problem.X`` (with its bias column, if any) and ``problem.Y``.
    beta, bias:
        Weight decay and whether ``X`` carries an appended ones column.
    U, V:
        The network's weights, shapes ``(d, m)`` and ``(m, c)``.
    sigma:
        Upper bound on :math:`\sigma(Z)`, :math:`Z = Y - f(X)`.
    sigma_lower:
        Lower bound on :math:`\sigma(Z)` (value at the best ``u`` seen).
    method:
        Method of :func:`dual_norm` that produced ``sigma`` (``exact``, ``relaxation``, ``global``).
    options:
        ``max_patterns``, ``max_exact_work`` and ``solver`` passed to :func:`dual_norm`.
    rigorous:
        Whether ``sigma`` is a proven upper bound.
    scale:
        :math:`t = \min(1, \beta/\sigma)` (1 when :math:`\sigma = 0`).
    lower_bound:
        :math:`L = t\langle Z, Y\rangle - \tfrac12t^2\|Z\|_F^2 = -\tfrac12\|tZ - Y\|_F^2 +
        \tfrac12\|Y\|_F^2 \le p^\star`.
    objective:
        :math:`F`, the network's weight-decay objective (an upper bound on :math:`p^\star`).
    gap, relative_gap:
        :math:`F - L` and :math:`(F - L)/\max(1, |F|)`.
    eps:
        Tolerance of the verdict.
    verdict:
        ``"globally optimal within eps"`` iff ``L`` is proven (``rigorous``, or a ``lifted``
        bound) and :math:`F - L \le \varepsilon\max(1, |F|)`; else ``"not certified"``.
    reason:
        Why, in words.
    lifted:
        The lifted DNN relaxation's certified lower bound (:class:`LiftedBound`) when it was
        computed; then ``lower_bound`` is the larger of the two proven bounds.
    """

    copos_version: str
    data: DataFingerprint
    beta: float
    bias: bool
    U: FloatArray = field(repr=False)
    V: FloatArray = field(repr=False)
    sigma: float
    sigma_lower: float
    method: ResolvedMethod
    options: dict[str, Any]
    rigorous: bool
    scale: float
    lower_bound: float
    objective: float
    gap: float
    relative_gap: float
    eps: float
    verdict: Verdict
    reason: str
    lifted: LiftedBound | None = None

    @property
    def optimal(self) -> bool:
        """Whether the verdict is ``"globally optimal within eps"``."""
        return self.verdict == OPTIMAL

    def network(self) -> TwoLayerReLU:
        """The certified network."""
        return TwoLayerReLU(self.U, self.V)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (floats written exactly by :mod:`json`; a non-finite number,
        which never certifies anything, is written as ``null``)."""
        return {
            "format": CERTIFICATE_FORMAT,
            "format_version": CERTIFICATE_VERSION,
            "copos_version": self.copos_version,
            "data": {
                "sha256": self.data.sha256,
                "X_shape": list(self.data.X_shape),
                "Y_shape": list(self.data.Y_shape),
            },
            "beta": json_number(self.beta),
            "bias": self.bias,
            "network": {"U": _json_matrix(self.U), "V": _json_matrix(self.V)},
            "sigma": json_number(self.sigma),
            "sigma_lower": json_number(self.sigma_lower),
            "method": self.method,
            "options": dict(self.options),
            "rigorous": self.rigorous,
            "scale": json_number(self.scale),
            "lower_bound": json_number(self.lower_bound),
            "objective": json_number(self.objective),
            "gap": json_number(self.gap),
            "relative_gap": json_number(self.relative_gap),
            "eps": json_number(self.eps),
            "verdict": self.verdict,
            "reason": self.reason,
            "lifted": None if self.lifted is None else self.lifted.to_dict(),
        }

    def to_json(self) -> str:
        """The certificate as a JSON document (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_json` to ``path`` atomically (temporary file + :func:`os.replace`)."""
        target = Path(path)
        payload = self.to_json().encode("utf-8")

        def write(handle: IO[bytes]) -> None:
            handle.write(payload)

        atomic_write(target, write)
        return target

    @classmethod
    def from_dict(cls, data: Any) -> Certificate:
        """Rebuild a certificate from :meth:`to_dict` output.

        Raises
        ------
        DataFileError
            Not a copos certificate, or a field is missing or has the wrong type.
        """
        return _certificate_from_dict(data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Certificate:
        """Read a certificate written by :meth:`save`.

        Raises
        ------
        DataFileError
            Missing or unreadable file, invalid JSON, or not a copos certificate.
        """
        target = Path(path)
        if not target.is_file():
            raise DataFileError(
                f"certificate file {str(target)!r} does not exist (or is not a file)"
            )
        try:
            text = target.read_text(encoding="utf-8")
            data = json.loads(text)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataFileError(f"cannot read certificate {str(target)!r} as JSON: {exc}") from exc
        try:
            return _certificate_from_dict(data)
        except DataFileError as exc:
            raise DataFileError(f"{str(target)!r}: {exc}") from exc


def json_number(value: float) -> float | None:
    """``value`` for JSON: a finite float, or ``None`` (``null``) for NaN and infinities."""
    number = float(value)
    return number if math.isfinite(number) else None


def _json_matrix(array: FloatArray) -> list[Any]:
    """A matrix for JSON, non-finite entries as ``None``."""
    return [[json_number(v) for v in row] for row in np.asarray(array, dtype=np.float64)]


def _field(data: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise DataFileError(f"not a valid copos certificate: missing field {key!r}")
    value = data[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise DataFileError(f"certificate field {key!r} has the wrong type: {type(value).__name__}")
    return value


def _number(data: dict[str, Any], key: str) -> float:
    value = float(_field(data, key, (int, float)))
    if not math.isfinite(value):
        raise DataFileError(f"certificate field {key!r} is not finite: {value!r}")
    return value


def _positive(data: dict[str, Any], key: str) -> float:
    value = _number(data, key)
    if value <= 0.0:
        raise DataFileError(f"certificate field {key!r} must be positive; got {value!r}")
    return value


def _derived(data: dict[str, Any], key: str) -> float:
    """A derived number of the certificate: finite, or ``null`` (read as NaN: it was not finite,
    and :func:`decide` never certifies with it)."""
    if key in data and data[key] is None:
        return math.nan
    return _number(data, key)


def _matrix(value: Any, name: str) -> FloatArray:
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataFileError(f"certificate weights {name} are not a numeric matrix") from exc
    if array.ndim != 2:
        raise DataFileError(f"certificate weights {name} must be a matrix; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise DataFileError(f"certificate weights {name} contain NaN or inf")
    return array


def _shape(value: Any, name: str) -> tuple[int, int]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
    ):
        raise DataFileError(f"certificate field data.{name} must be two nonnegative integers")
    return (int(value[0]), int(value[1]))


def _certificate_from_dict(data: Any) -> Certificate:
    if not isinstance(data, dict) or data.get("format") != CERTIFICATE_FORMAT:
        raise DataFileError(f"not a copos certificate (expected format {CERTIFICATE_FORMAT!r})")
    if data.get("format_version") != CERTIFICATE_VERSION:
        raise DataFileError(
            f"unsupported certificate format_version {data.get('format_version')!r}; "
            f"this copos reads version {CERTIFICATE_VERSION}"
        )
    fingerprint = _field(data, "data", dict)
    network = _field(data, "network", dict)
    method = _field(data, "method", str)
    if method not in ("exact", "relaxation", "global"):
        raise DataFileError(f"certificate field 'method' is unknown: {method!r}")
    verdict = _field(data, "verdict", str)
    if verdict not in (OPTIMAL, NOT_CERTIFIED):
        raise DataFileError(f"certificate field 'verdict' is unknown: {verdict!r}")
    U = _matrix(network.get("U"), "U")
    V = _matrix(network.get("V"), "V")
    if U.shape[1] != V.shape[0]:
        raise DataFileError(f"certificate weights do not chain: U {U.shape}, V {V.shape}")
    return Certificate(
        copos_version=_field(data, "copos_version", str),
        data=DataFingerprint(
            sha256=_field(fingerprint, "sha256", str),
            X_shape=_shape(fingerprint.get("X_shape"), "X_shape"),
            Y_shape=_shape(fingerprint.get("Y_shape"), "Y_shape"),
        ),
        beta=_positive(data, "beta"),
        bias=_field(data, "bias", bool),
        U=U,
        V=V,
        sigma=_derived(data, "sigma"),
        sigma_lower=_derived(data, "sigma_lower"),
        method=cast(ResolvedMethod, method),
        options=_field(data, "options", dict),
        rigorous=_field(data, "rigorous", bool),
        scale=_derived(data, "scale"),
        lower_bound=_derived(data, "lower_bound"),
        objective=_derived(data, "objective"),
        gap=_derived(data, "gap"),
        relative_gap=_derived(data, "relative_gap"),
        eps=_number(data, "eps"),
        verdict=cast(Verdict, verdict),
        reason=_field(data, "reason", str),
        lifted=_lifted_from_dict(data.get("lifted")),
    )


def _lifted_from_dict(data: Any) -> LiftedBound | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise DataFileError("certificate field 'lifted' must be an object or null")
    return LiftedBound(
        value=_number(data, "value"),
        Z=_matrix(data.get("Z"), "lifted.Z"),
        N=_matrix(data.get("N"), "lifted.N"),
        solver=_field(data, "solver", str),
        status=_field(data, "status", str),
        gap=_derived(data, "gap"),
        tol=_number(data, "tol"),
    )


def dual_scale(beta: float, sigma: float) -> float:
    r""":math:`t = \min(1, \beta/\sigma)` (1 when :math:`\sigma = 0`): :math:`tZ` is dual feasible.

    An unknown :math:`\sigma` (NaN) gives :math:`t = 0`, the point :math:`0`, which is always
    feasible; :math:`\sigma = \infty` gives :math:`t = 0` too."""
    if math.isnan(sigma):
        return 0.0
    return 1.0 if sigma <= beta else beta / sigma


def dual_lower_bound(Z: FloatArray, Y: FloatArray, scale: float) -> float:
    r"""Dual objective at :math:`tZ`: :math:`-\tfrac12\|tZ - Y\|_F^2 + \tfrac12\|Y\|_F^2 =
    t\langle Z, Y\rangle - \tfrac12t^2\|Z\|_F^2` (the right-hand form avoids cancellation);
    exactly 0 at :math:`t = 0`, even for a non-finite ``Z``."""
    if scale == 0.0:
        return 0.0
    return scale * float(np.vdot(Z, Y)) - 0.5 * scale**2 * float(np.vdot(Z, Z))


def check_eps(eps: Any) -> float:
    r"""``eps`` as a float in :math:`(0, \texttt{MAX\_EPS}]`; anything else (NaN, inf, bool, a
    string, 0, a negative or too large number) raises :class:`~copos.errors.InvalidInputError`."""
    value = check_positive(eps, "eps")
    if value > MAX_EPS:
        raise InvalidInputError(
            f"eps must be in (0, {MAX_EPS:g}]; got {eps!r}: a relative gap above {MAX_EPS:g} "
            "is not a claim of global optimality"
        )
    return value


def decide(
    objective: float,
    lower_bound: float,
    rigorous: bool,
    eps: float,
    *,
    sigma: float = 0.0,
    lifted: float | None = None,
) -> tuple[Verdict, str]:
    r"""Verdict and reason: optimal iff

    .. math::

        \text{rigorous},\quad F, L, \sigma, L_{\rm lifted}, F - L \in \mathbb R\ (\text{finite}),
        \quad F - L \ge -\rho\max(1,|F|),\quad F - L \le \varepsilon\max(1, |F|),

    with :math:`0 < \varepsilon \le` :data:`MAX_EPS` (else :class:`InvalidInputError`) and
    :math:`\rho` = :data:`ROUNDING_RTOL` (:math:`L \le p^\star \le F`, so a larger
    :math:`L - F` means a wrong number).  ``inf <= inf`` never certifies.
    """
    eps = check_eps(eps)
    gap = objective - lower_bound
    numbers = {"objective F": objective, "lower bound L": lower_bound, "sigma": sigma, "gap": gap}
    if lifted is not None:
        numbers["lifted bound"] = lifted
    infinite = [
        f"{name} = {value!r}" for name, value in numbers.items() if not math.isfinite(value)
    ]
    if infinite:
        return NOT_CERTIFIED, (
            f"not finite: {', '.join(infinite)} (overflow or an undefined number); "
            "a non-finite number certifies nothing"
        )
    if not rigorous:
        return NOT_CERTIFIED, "the lower bound is not rigorous (incomplete activation patterns)"
    scale = max(1.0, abs(objective))
    if gap < -ROUNDING_RTOL * scale:
        return NOT_CERTIFIED, (
            f"inconsistent numbers: L - F = {-gap:.3e} > 0 beyond rounding, although "
            "L <= p* <= F; one of them is wrong"
        )
    threshold = eps * scale
    if gap <= threshold:
        return OPTIMAL, (
            f"gap F - L = {gap:.3e} <= eps * max(1, |F|) = {threshold:.3e}: the objective is "
            f"within {threshold:.3e} of the global optimum p*"
        )
    return NOT_CERTIFIED, (
        f"gap too large: F - L = {gap:.3e} > eps * max(1, |F|) = {threshold:.3e} "
        "(the network may be sub-optimal, or the lower bound loose)"
    )


def certify(
    net: TwoLayerReLU,
    problem: TrainingProblem,
    *,
    eps: float = 1e-6,
    method: Method = "auto",
    max_patterns: int = DEFAULT_MAX_PATTERNS,
    solver: str = DEFAULT_SOLVER,
    max_exact_work: int = DEFAULT_MAX_EXACT_WORK,
    lifted: LiftedMode = "auto",
    lifted_tol: float = 1e-4,
) -> Certificate:
    r"""Certify (or fail to certify) that ``net`` is a global minimiser of ``problem``.

    .. math::

        Z = Y - f(X),\quad \sigma \ge \sigma(Z)\ (\text{:func:`dual_norm`}),\quad
        t = \min(1, \beta/\sigma),\quad L = -\tfrac12\|tZ - Y\|_F^2 + \tfrac12\|Y\|_F^2,

    :math:`F` = ``net.objective(problem)`` (weight-decay form, at least the path-norm objective,
    at least :math:`p^\star`), gap :math:`F - L \ge 0` and verdict (:func:`decide`)
    ``"globally optimal within eps"`` iff the bound is rigorous and
    :math:`F - L \le \varepsilon\max(1, |F|)`.  A certified net is within
    :math:`\varepsilon\max(1,|F|)` of :math:`p^\star` over networks of **every** width.

    Parameters
    ----------
    net:
        The network (its ``d`` and ``c`` must match ``problem``).
    problem:
        Data, targets and weight decay.
    eps:
        Tolerance of the verdict, in :math:`(0,` :data:`MAX_EPS` :math:`]`.
    method, max_patterns, solver, max_exact_work:
        Passed to :func:`dual_norm`.
    lifted:
        Also compute the lifted DNN relaxation's certified lower bound with copos's own solver
        (:func:`copos.solvers.dnn_admm.solve_lifted_dnn_admm`, tolerance ``lifted_tol``) and use
        the larger proven bound: ``"always"``, ``"never"``, or ``"auto"`` (where that solver is
        the default, ``n >= 25`` and ``d >= 10``, up to ``n = MAX_LIFTED_N`` so that the stored
        dual point stays small).  This bound does not depend on the network and is often much
        tighter than the one from :math:`\sigma(Z)` when the patterns cannot be enumerated.
        A diverged solve (non-finite bound or dual point) gives no bound and is left out.

    Returns
    -------
    Certificate
    """
    if not isinstance(net, TwoLayerReLU):
        raise InvalidInputError(f"net must be a TwoLayerReLU; got {type(net).__name__}")
    if not isinstance(problem, TrainingProblem):
        raise InvalidInputError(f"problem must be a TrainingProblem; got {type(problem).__name__}")
    eps = check_eps(eps)
    Z = net.residual(problem)
    options: dict[str, Any] = {
        "max_patterns": max_patterns,
        "max_exact_work": max_exact_work,
        "solver": solver,
    }
    wants_lifted = _wants_lifted(problem, lifted)  # bad mode or tolerance fails before any work
    lifted_tol = check_positive(lifted_tol, "lifted_tol")
    norm = residual_dual_norm(Z, problem.X, method=method, **options)
    bound = lifted_bound(problem, lifted_tol) if wants_lifted else None
    if bound is not None and not bound.finite:
        bound = None  # a diverged solve gives no bound
    return _build_certificate(net, problem, Z, norm, eps, options, bound)


def _wants_lifted(problem: TrainingProblem, mode: object) -> bool:
    if mode not in LIFTED_MODES:
        raise InvalidInputError(f"lifted must be one of {LIFTED_MODES}; got {mode!r}")
    if mode == "auto":
        return problem.n <= MAX_LIFTED_N and dnn_solver(problem, "auto") == ADMM_SOLVER
    return mode == "always"


def lifted_bound(problem: TrainingProblem, tol: float = 1e-4) -> LiftedBound:
    """The lifted DNN relaxation's certified lower bound on ``problem`` (:class:`LiftedBound`)."""
    result = solve_lifted_dnn_admm(problem, tol=check_positive(tol, "lifted_tol"))
    return LiftedBound(
        value=float(result.lower_bound),
        Z=result.Z,
        N=result.N,
        solver=SOLVER_NAME,
        status=result.status,
        gap=float(result.gap),
        tol=float(tol),
    )


@dataclass(frozen=True)
class CheckedBound:
    r"""A lower bound on :math:`p^\star` from an arbitrary dual candidate ``Z``, checked in numpy.

    ``value`` :math:`= t\langle Z, Y\rangle - \tfrac12t^2\|Z\|_F^2` with
    :math:`t = \min(1, \beta/\sigma)` and ``sigma`` a rigorous upper bound on :math:`\sigma(Z)`
    when ``rigorous``; the solver that produced ``Z`` is not trusted at all.  A ``value`` that
    is not finite (overflow) is never ``rigorous``.
    """

    value: float
    scale: float
    sigma: float
    rigorous: bool
    method: str
    time: float


def residual_dual_norm(
    Z: FloatArray, X: FloatArray, *, method: Method = "auto", **options: Any
) -> DualNormResult:
    r""":func:`dual_norm` of a network's residual :math:`Z = Y - f(X)`; when :math:`f(X)`
    overflowed (``Z`` not finite) no bound exists: ``value = inf``, not rigorous."""
    if np.all(np.isfinite(Z)):
        return dual_norm(Z, X, method=method, **options)
    return DualNormResult(
        value=math.inf,
        rigorous=False,
        method="global",
        requested=_check_method(method),
        lower=math.nan,
        maximizer=None,
        pattern_bounds=None,
        evaluated=None,
        num_patterns=0,
        rank=0,
        truncation=0.0,
        time=0.0,
        note="the network's output f(X) is not finite (overflow): sigma(Z) cannot be bounded",
    )


def checked_lower_bound(
    Z: ArrayLike,
    problem: TrainingProblem,
    *,
    method: Method = "auto",
    solver: str = DEFAULT_SOLVER,
) -> CheckedBound:
    r"""Turn any dual candidate :math:`Z` (e.g. from a relaxation's solve) into a checked bound.

    Weak duality needs only :math:`\sigma(tZ) \le \beta`; computing :math:`\sigma(Z)` after the
    solve (exactly, or by the repaired relaxation of :func:`dual_norm`) makes the bound valid
    whatever the accuracy of the solve that produced :math:`Z`.
    """
    start = time.perf_counter()
    Z_arr = as_finite_array(Z, "Z", ndim=2)
    if Z_arr.shape != problem.Y.shape:
        raise InvalidInputError(f"Z must have the shape of Y {problem.Y.shape}; got {Z_arr.shape}")
    norm = dual_norm(Z_arr, problem.X, method=method, solver=solver)
    scale = dual_scale(problem.beta, norm.value)
    value = dual_lower_bound(Z_arr, problem.Y, scale)
    rigorous = norm.rigorous and math.isfinite(value)  # an overflowed number proves nothing
    return CheckedBound(
        value, scale, norm.value, rigorous, norm.method, time.perf_counter() - start
    )


def _build_certificate(
    net: TwoLayerReLU,
    problem: TrainingProblem,
    Z: FloatArray,
    norm: DualNormResult,
    eps: float,
    options: dict[str, Any],
    lifted: LiftedBound | None = None,
) -> Certificate:
    scale = dual_scale(problem.beta, norm.value)
    lower = combined_lower_bound(dual_lower_bound(Z, problem.Y, scale), norm.rigorous, lifted)
    objective = net.objective(problem)
    verdict, reason = decide(
        objective,
        lower,
        norm.rigorous or lifted is not None,
        eps,
        sigma=norm.value,
        lifted=None if lifted is None else lifted.value,
    )
    return Certificate(
        copos_version=__version__,
        data=DataFingerprint.of(problem.X, problem.Y),
        beta=problem.beta,
        bias=problem.bias,
        U=np.array(net.U),
        V=np.array(net.V),
        sigma=norm.value,
        sigma_lower=norm.lower,
        method=norm.method,
        options=dict(options),
        rigorous=norm.rigorous,
        scale=scale,
        lower_bound=lower,
        objective=objective,
        gap=objective - lower,
        relative_gap=(objective - lower) / max(1.0, abs(objective)),
        eps=eps,
        verdict=verdict,
        reason=reason,
        lifted=lifted,
    )


def combined_lower_bound(sigma_bound: float, rigorous: bool, lifted: LiftedBound | None) -> float:
    """``L``: the larger proven bound (``sigma_bound`` counts only when ``rigorous``; a NaN
    candidate is ignored, and NaN comes out when no candidate is a number)."""
    if lifted is None:
        return sigma_bound
    candidates = [sigma_bound, lifted.value] if rigorous else [lifted.value]
    numbers = [value for value in candidates if not math.isnan(value)]
    return max(numbers) if numbers else math.nan


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One recomputed quantity of :func:`verify`."""

    name: str
    stored: Any
    recomputed: Any
    tolerance: float
    ok: bool
    against: str = "recomputed"

    def describe(self) -> str:
        """One line: what was compared and whether it agreed."""
        status = "ok" if self.ok else "MISMATCH"
        return f"{self.name}: stored {self.stored!r}, {self.against} {self.recomputed!r} ({status})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: numbers (``null`` if not finite), booleans and strings; others as text."""
        return {
            "name": self.name,
            "stored": _json_value(self.stored),
            "recomputed": _json_value(self.recomputed),
            "tolerance": json_number(self.tolerance),
            "ok": bool(self.ok),
        }


def _json_value(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, (int, float, np.floating, np.integer)):
        return json_number(float(value))
    return str(value)


@dataclass(frozen=True)
class Recomputed:
    r"""The numbers :func:`verify` recomputes from the data and the stored weights alone.

    ``lower_bound`` :math:`= \max` of the proven bounds, :math:`L = t\langle Z, Y\rangle -
    \tfrac12t^2\|Z\|_F^2` with :math:`t = \min(1, \beta/\sigma)` for the **recomputed**
    :math:`\sigma` and the lifted bound recomputed from its dual point.  NaN where nothing
    could be recomputed (the data do not match, or the weights do not fit them).
    """

    objective: float = math.nan
    lower_bound: float = math.nan
    sigma: float = math.nan
    rigorous: bool = False
    lifted: float | None = None
    failure: str | None = None

    @property
    def proven(self) -> bool:
        """Whether ``lower_bound`` is a proven bound (rigorous sigma, or a lifted bound)."""
        return self.rigorous or self.lifted is not None


@dataclass(frozen=True, eq=False)
class VerificationResult:
    r"""Outcome of :func:`verify`.

    The verdict is **recomputed** (:func:`decide` on the recomputed :math:`F`, :math:`L`,
    :math:`\sigma` with the certificate's ``eps``); the stored verdict only has to agree with it.

    Attributes
    ----------
    passed:
        Every check agreed: the certificate holds (whatever its verdict).
    reasons:
        One line per failed check (empty when ``passed``).
    checks:
        All checks performed, in order.
    certificate:
        The certificate that was verified.
    verdict, reason:
        The recomputed verdict and why.
    eps, beta:
        The certificate's tolerance and weight decay (each checked against the pinned value,
        if any).
    objective, lower_bound, sigma, rigorous:
        Recomputed :math:`F`, :math:`L`, :math:`\sigma` and whether :math:`L` is proven (NaN /
        False when nothing could be recomputed).
    """

    passed: bool
    reasons: list[str]
    checks: list[Check]
    certificate: Certificate
    verdict: Verdict = NOT_CERTIFIED
    reason: str = ""
    eps: float = math.nan
    beta: float = math.nan
    objective: float = math.nan
    lower_bound: float = math.nan
    sigma: float = math.nan
    rigorous: bool = False

    def __bool__(self) -> bool:
        return self.passed

    @property
    def optimal(self) -> bool:
        """The certificate holds **and** its recomputed verdict is "globally optimal within eps"."""
        return self.passed and self.verdict == OPTIMAL

    @property
    def gap(self) -> float:
        r""":math:`F - L` (recomputed)."""
        return self.objective - self.lower_bound

    @property
    def relative_gap(self) -> float:
        r""":math:`(F - L)/\max(1, |F|)` (recomputed)."""
        return self.gap / max(1.0, abs(self.objective))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (non-finite numbers as ``null``)."""
        numbers = {
            "eps": self.eps,
            "beta": self.beta,
            "objective": self.objective,
            "lower_bound": self.lower_bound,
            "gap": self.gap,
            "relative_gap": self.relative_gap,
            "sigma": self.sigma,
        }
        return {
            "passed": bool(self.passed),
            "optimal": bool(self.optimal),
            "verdict": self.verdict,
            "reason": self.reason,
            **{key: json_number(value) for key, value in numbers.items()},
            "rigorous": bool(self.rigorous),
            "method": self.certificate.method,
            "reasons": list(self.reasons),
            "checks": [check.to_dict() for check in self.checks],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON (never a non-finite number)."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def summary(self) -> str:
        """A short human-readable report: outcome, verdict, eps, beta, F, L, gap, failed checks."""
        if self.passed:
            head = f"certificate verified (verdict: {self.verdict})"
        else:
            head = "certificate REJECTED (failed checks below)"
        lines = [
            head,
            f"  verdict   {self.verdict} (recomputed): {self.reason}",
            f"  eps       {self.eps:.3g}",
            f"  beta      {self.beta:.10g}",
            f"  F         {self.objective:.10g}  (objective, upper bound on p*)",
            f"  L         {self.lower_bound:.10g}  (proven lower bound: {self.rigorous or False})",
            f"  gap F - L {self.gap:.3g}  (relative {self.relative_gap:.3g})",
            f"  sigma     {self.sigma:.6g} by {self.certificate.method}",
        ]
        lines += [f"  - {reason}" for reason in self.reasons]
        return "\n".join(lines)


def _agree(a: float, b: float, rtol: float) -> bool:
    r""":math:`|a - b| \le \mathrm{rtol}\max(1, |a|, |b|)` for finite numbers; two non-finite
    numbers agree (``null`` in a file is a NaN, an inf or a NaN recomputed), one alone does not."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return not (math.isfinite(a) or math.isfinite(b))
    return abs(a - b) <= rtol * max(1.0, abs(a), abs(b))


def _verification_problem(cert: Certificate, X: ArrayLike, Y: ArrayLike) -> TrainingProblem:
    """The problem of the certificate: ``from_data(X, Y, beta, bias)``; with ``bias`` an ``X``
    that already has the certificate's ``d`` columns, the last one all ones, is taken as
    including the ones column."""
    if X is None or Y is None:
        raise InvalidInputError("verify needs the data X and Y; got None")
    X_arr = as_finite_array(X, "X", ndim=2)
    if cert.bias and X_arr.shape[1] == cert.data.X_shape[1] and np.all(X_arr[:, -1:] == 1.0):
        Y_arr = as_finite_array(Y, "Y")
        Y_arr = Y_arr[:, None] if Y_arr.ndim == 1 else Y_arr
        return TrainingProblem(X=X_arr, Y=Y_arr, beta=cert.beta, bias=True)
    return TrainingProblem.from_data(X_arr, Y, cert.beta, bias=cert.bias)


def _as_certificate(certificate: Any) -> Certificate:
    """A :class:`Certificate`, or the one saved at a path; anything else is bad input."""
    if isinstance(certificate, Certificate):
        return certificate
    if isinstance(certificate, (str, os.PathLike)):
        return Certificate.load(certificate)
    raise InvalidInputError(
        f"certificate must be a Certificate or the path of a saved one; got "
        f"{type(certificate).__name__}"
    )


def verify(
    certificate: Certificate | str | os.PathLike[str],
    X: ArrayLike,
    Y: ArrayLike,
    *,
    eps: float | None = None,
    beta: float | None = None,
    rtol: float = CHECK_RTOL,
    solver_rtol: float = SOLVER_RTOL,
) -> VerificationResult:
    r"""Re-check a certificate from the data alone and recompute its verdict.

    Steps: (1) the fingerprint of the data matches; the stored ``eps`` is in
    :math:`(0,` :data:`MAX_EPS` :math:`]` and at most the pinned ``eps``, the stored
    :math:`\beta` equals the pinned ``beta``; (2) :math:`F` recomputed from the stored weights
    and :math:`\beta`; (3) :math:`Z = Y - f(X)` and :math:`\sigma` recomputed independently by
    :func:`dual_norm` with the stored method and options, and the lifted bound (if any) from its
    stored dual point; (4) ``scale``, :math:`L`, gap and relative gap recomputed from the stored
    :math:`\sigma` (pure arithmetic) **and** :math:`L` from the recomputed :math:`\sigma`;
    (5) the verdict is recomputed by :func:`decide` from the recomputed :math:`F`, :math:`L`,
    :math:`\sigma` and the stored ``eps``, and the stored verdict must equal it.  Arithmetic
    quantities must agree within ``rtol`` (:math:`|a-b| \le \mathrm{rtol}\max(1,|a|,|b|)`);
    :math:`\sigma` and the :math:`L` derived from the recomputed :math:`\sigma` within ``rtol``
    for ``exact``/``global`` and within ``solver_rtol`` for ``relaxation`` (a conic solver is
    involved).  Nothing stored is trusted: :attr:`VerificationResult.optimal` holds only when
    every check agreed and the recomputed numbers prove the verdict.

    Parameters
    ----------
    certificate:
        A :class:`Certificate` or the path of a saved one.
    X, Y:
        The data as passed to :meth:`TrainingProblem.from_data` (without the ones column; it is
        appended when the certificate says ``bias``; an ``X`` that already has the
        certificate's number of columns, the last one all ones, is used as is).
    eps:
        The tolerance the user requires (``None``: the certificate's own, which is reported); a
        certificate with a larger ``eps`` fails.
    beta:
        The weight decay the user requires (``None``: the certificate's own, which is
        reported); a certificate for another ``beta`` (beyond ``rtol``) fails.
    rtol, solver_rtol:
        Tolerances (defaults :data:`CHECK_RTOL`, :data:`SOLVER_RTOL`).

    Returns
    -------
    VerificationResult
        ``passed`` False, with reasons, for a tampered or inconsistent certificate.

    Raises
    ------
    DataFileError
        The certificate file is missing, unreadable or malformed.
    InvalidInputError
        ``certificate`` is neither a certificate nor a path; ``X``/``Y`` are missing, have bad
        shapes or NaN/inf; a pinned ``eps`` outside :math:`(0,` :data:`MAX_EPS` :math:`]` or a
        pinned ``beta`` that is not positive.
    """
    cert = _as_certificate(certificate)
    rtol = check_positive(rtol, "rtol")
    solver_rtol = check_positive(solver_rtol, "solver_rtol")
    pinned_eps = None if eps is None else check_eps(eps)
    pinned_beta = None if beta is None else check_positive(beta, "beta")
    problem = _verification_problem(cert, X, Y)
    fingerprint = DataFingerprint.of(problem.X, problem.Y)
    checks = [Check("data fingerprint", cert.data, fingerprint, 0.0, fingerprint == cert.data)]
    checks += _requirement_checks(cert, pinned_eps, pinned_beta, rtol)
    if fingerprint == cert.data:
        numbers, recomputed_checks = _recompute(cert, problem, rtol, solver_rtol)
    else:
        numbers = Recomputed(failure="the data do not match the certificate's fingerprint")
        recomputed_checks = []
    verdict, reason = _recomputed_verdict(cert, numbers)
    checks += recomputed_checks
    checks.append(Check("verdict", cert.verdict, verdict, 0.0, cert.verdict == verdict))
    reasons = [check.describe() for check in checks if not check.ok]
    return VerificationResult(
        passed=not reasons,
        reasons=reasons,
        checks=checks,
        certificate=cert,
        verdict=verdict,
        reason=reason,
        eps=cert.eps,
        beta=cert.beta,
        objective=numbers.objective,
        lower_bound=numbers.lower_bound,
        sigma=numbers.sigma,
        rigorous=numbers.proven,
    )


def _requirement_checks(
    cert: Certificate, eps: float | None, beta: float | None, rtol: float
) -> list[Check]:
    """The stored ``eps`` is in ``(0, MAX_EPS]`` and at most the pinned one; ``beta`` as pinned."""
    valid = math.isfinite(cert.eps) and 0.0 < cert.eps <= MAX_EPS
    checks = [Check("eps", cert.eps, f"(0, {MAX_EPS:g}]", 0.0, valid, "required in")]
    if eps is not None:
        checks.append(Check("eps", cert.eps, eps, 0.0, cert.eps <= eps, "required at most"))
    if beta is not None:
        checks.append(
            Check("beta", cert.beta, beta, rtol, _agree(cert.beta, beta, rtol), "required")
        )
    return checks


def _recomputed_verdict(cert: Certificate, numbers: Recomputed) -> tuple[Verdict, str]:
    """:func:`decide` on the recomputed numbers with the stored ``eps`` (never the stored verdict)."""
    if numbers.failure is not None:
        return NOT_CERTIFIED, numbers.failure
    if not (math.isfinite(cert.eps) and 0.0 < cert.eps <= MAX_EPS):
        return NOT_CERTIFIED, f"the certificate's eps = {cert.eps!r} is outside (0, {MAX_EPS:g}]"
    return decide(
        numbers.objective,
        numbers.lower_bound,
        numbers.proven,
        cert.eps,
        sigma=numbers.sigma,
        lifted=numbers.lifted,
    )


def _recompute(
    cert: Certificate, problem: TrainingProblem, rtol: float, solver_rtol: float
) -> tuple[Recomputed, list[Check]]:
    """Checks (2)–(4) of :func:`verify` (the data already match) and the recomputed numbers."""
    try:
        net = cert.network()
        Z = net.residual(problem)
    except CoposError as exc:
        return Recomputed(failure=f"weights: {exc}"), [
            Check("network", "weights", str(exc), 0.0, False)
        ]
    objective = net.objective(problem)
    options = _dual_norm_options(cert.options)
    try:
        norm = residual_dual_norm(Z, problem.X, method=cert.method, **options)
    except CoposError as exc:
        failure = f"recomputation of sigma failed: {exc}"
        return Recomputed(objective=objective, failure=failure), [
            Check("sigma", cert.sigma, failure, 0.0, False)
        ]
    sigma_tol = solver_rtol if cert.method == "relaxation" else rtol
    lifted_checks, lifted = _recompute_lifted(cert, problem, rtol)
    scale = dual_scale(problem.beta, cert.sigma)
    lower = combined_lower_bound(dual_lower_bound(Z, problem.Y, scale), norm.rigorous, lifted)
    lower_recomputed = combined_lower_bound(
        dual_lower_bound(Z, problem.Y, dual_scale(problem.beta, norm.value)), norm.rigorous, lifted
    )
    gap = objective - lower

    def number(name: str, stored: float, value: float, tol: float) -> Check:
        return Check(name, stored, value, tol, _agree(stored, value, tol))

    checks = [
        number("objective F", cert.objective, objective, rtol),
        number("sigma", cert.sigma, norm.value, sigma_tol),
        number("sigma_lower", cert.sigma_lower, norm.lower, sigma_tol),
        Check("rigorous", cert.rigorous, norm.rigorous, 0.0, cert.rigorous == norm.rigorous),
        number("scale t", cert.scale, scale, rtol),
        number("lower bound L", cert.lower_bound, lower, rtol),
        number("lower bound L (recomputed sigma)", cert.lower_bound, lower_recomputed, sigma_tol),
        number("gap F - L", cert.gap, gap, rtol),
        number("relative gap", cert.relative_gap, gap / max(1.0, abs(objective)), rtol),
        *lifted_checks,
    ]
    numbers = Recomputed(
        objective=objective,
        lower_bound=lower_recomputed,
        sigma=norm.value,
        rigorous=bool(norm.rigorous),
        lifted=None if lifted is None else lifted.value,
    )
    return numbers, checks


def _recompute_lifted(
    cert: Certificate, problem: TrainingProblem, rtol: float
) -> tuple[list[Check], LiftedBound | None]:
    """The lifted bound recomputed in numpy from the stored dual point ``(Z, N)``."""
    if cert.lifted is None:
        return [], None

    try:
        value = certified_lower_bound(problem, cert.lifted.Z, cert.lifted.N).value
    except (CoposError, ValueError, ArithmeticError) as exc:  # LinAlgError is a ValueError
        # a tampered file (beta = 5e-324, a huge dual point) can break the numerics: no bound
        return [Check("lifted lower bound", cert.lifted.value, str(exc), 0.0, False)], None
    ok = _agree(cert.lifted.value, value, rtol)
    check = Check("lifted lower bound", cert.lifted.value, value, rtol, ok)
    return [check], replace(cert.lifted, value=value)


def _dual_norm_options(options: dict[str, Any]) -> dict[str, Any]:
    """The stored :func:`dual_norm` options, defaulted and type-checked."""
    result: dict[str, Any] = {
        "max_patterns": options.get("max_patterns", DEFAULT_MAX_PATTERNS),
        "max_exact_work": options.get("max_exact_work", DEFAULT_MAX_EXACT_WORK),
        "solver": options.get("solver", DEFAULT_SOLVER),
    }
    if not isinstance(result["solver"], str):
        raise DataFileError(
            f"certificate option 'solver' must be a string; got {result['solver']!r}"
        )
    return result


__all__ = [
    "Certificate",
    "Check",
    "MAX_EPS",
    "Recomputed",
    "LiftedBound",
    "DataFingerprint",
    "DualNormResult",
    "VerificationResult",
    "certified_mu",
    "certify",
    "check_eps",
    "decide",
    "dual_lower_bound",
    "dual_norm",
    "dual_scale",
    "face_count",
    "lifted_bound",
    "relaxed_square_bound",
    "residual_dual_norm",
    "verify",
]
