r"""The dual norm of the training problem, with rigorous upper bounds.

.. math:: \sigma(Z) := \max_{\|u\|_2\le 1}\big\|Z^\top (Xu)_+\big\|_2
    = \max_i \max_{A_iu \ge 0,\ \|u\|_2 \le 1} \|Z^\top D_iXu\|_2 ,

computed exactly over the activation patterns of :math:`X` (``"exact"``) or over the faces of
their arrangement streamed from its vertex rays (``"streamed"``, ranks 4–9), enclosed in a proven
interval by a conical branch and bound over the sphere (``"branch-and-bound"``,
:mod:`copos.certificates.sigma_search`), bounded above by a doubly-nonnegative relaxation per
pattern (``"relaxation"``), or by :math:`\|Z^\top X\|_2` (``"global"``).  Every upper bound is
inflated for floating-point rounding.

Beyond enumeration
------------------
The patterns can be enumerated only at small rank (``auto`` refuses more than
:data:`DEFAULT_MAX_PATTERNS`; in practice rank :math:`\le 3`).  Above that ``auto`` runs the
branch and bound (it used :math:`\|Z\|_2\|X\|_2`, which certifies nothing), which returns :math:`\sigma(Z) \in [\sigma_{\rm lower}, \sigma_{\rm upper}]`
at any stop (``lower``, ``value``; ``complete`` says whether the gap closed): the lower end is
:math:`\|Z^\top(Xu)_+\|` at the evaluated unit ``maximizer``, the upper end the largest
rigorous bound over the cones of the sphere not yet closed.  A certificate asks
":math:`\sigma \le \beta`?": pass ``threshold=beta`` and cones whose bound is at most
:math:`\beta` are discarded unexplored.  ``progress(nodes, lower, upper)`` shows the interval
tightening.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

import cvxpy as cp
import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos._memory import check_memory
from copos._validation import as_finite_array, check_dimension, power_of_two_scale
from copos.certificates.sigma_search import (
    DEFAULT_NODE_BUDGET,
    DEFAULT_TIME_BUDGET,
    ProgressCallback,
    SigmaInterval,
    sigma_branch_and_bound,
)
from copos.certificates.sigma_streamed import sigma_streamed, streamed_work
from copos.errors import InvalidInputError
from copos.nets.arrangements import (
    MAX_ENUMERATION_CONDITION,
    RANK_TOL,
    Arrangements,
    ScaledSVD,
    enumerate_from_svd,
    enumeration_condition,
    hyperplanes,
)
from copos.nets.cone_pca import cone_pca, face_bases
from copos.nets.problem import TrainingProblem
from copos.nets.streamed import streamed_batch_bytes
from copos.solvers import DEFAULT_SOLVER, resolve, solve

FloatArray = NDArray[np.float64]


BoolArray = NDArray[np.bool_]


Method = Literal["auto", "exact", "streamed", "branch-and-bound", "relaxation", "global"]


ResolvedMethod = Literal[
    "exact", "streamed", "branch-and-bound", "relaxation", "global", "patch-patterns"
]


METHODS: tuple[str, ...] = (
    "auto",
    "exact",
    "streamed",
    "branch-and-bound",
    "relaxation",
    "global",
)


#: Refuse to enumerate more activation patterns than this (``auto`` then uses ``"global"``).
DEFAULT_MAX_PATTERNS = 20_000


#: ``auto`` uses ``"exact"`` when (patterns) x (faces) is at most this many small SVDs.
DEFAULT_MAX_EXACT_WORK = 200_000


#: ``auto`` uses ``"streamed"`` (beyond ``max_patterns``) when it visits at most this many vertex
#: rays :math:`2\binom{L}{r-1}` (:func:`~copos.certificates.sigma_streamed.streamed_work`).
#: Measured on Iris with a bias (rank 5, ``n = 75``, 2.3e6 rays) at about 4,000 rays a second
#: near the threshold: 10 minutes on one core.
DEFAULT_MAX_STREAM_RAYS = 2_500_000
#: ``auto`` streams only up to this rank: a vertex ray in general position is surrounded by
#: :math:`2^{r-1}` cells, so a batch of rays holds :math:`2^{r-1}` times as many sign vectors
#: (rank 20 asked for about 100 GB per batch).
MAX_STREAM_RANK = 7


#: ``auto`` runs the branch and bound (above enumeration) only up to this rank of ``X``: beyond
#: it the search cannot tighten ``||Z|| ||X||`` within its budget (measured: 96 % wide at rank 9
#: after 120 s) and would only spend the budget, so ``auto`` keeps ``"global"`` there.
AUTO_SEARCH_MAX_RANK = 8


#: Relative inflation of every computed upper bound, covering floating-point rounding.
FP_SAFETY = 1e-12


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
        The method used: ``"exact"``, ``"streamed"``, ``"branch-and-bound"``, ``"relaxation"`` or
        ``"global"``.
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
    complete:
        Whether the computation finished: always True but for a ``"branch-and-bound"`` search
        stopped by its budget, whose interval ``[lower, value]`` is then still proven but wider.
    nodes:
        Cones bounded by ``"branch-and-bound"`` (0 for the other methods).
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
    complete: bool = True
    nodes: int = 0

    @property
    def gap(self) -> float:
        """``value - lower``: the width of the proven interval on sigma(Z)."""
        return max(self.value - self.lower, 0.0)

    @property
    def num_evaluated(self) -> int:
        """Number of patterns actually solved (the others were pruned by the spectral bound)."""
        return 0 if self.evaluated is None else int(np.sum(self.evaluated))


def dual_norm(
    Z: ArrayLike,
    X: ArrayLike | TrainingProblem,
    *,
    method: Method = "auto",
    max_patterns: int = DEFAULT_MAX_PATTERNS,
    solver: str = DEFAULT_SOLVER,
    max_exact_work: int = DEFAULT_MAX_EXACT_WORK,
    prune: bool = True,
    threshold: float | None = None,
    max_stream_rays: int = DEFAULT_MAX_STREAM_RAYS,
    time_budget: float = DEFAULT_TIME_BUDGET,
    node_budget: int = DEFAULT_NODE_BUDGET,
    hints: ArrayLike | None = None,
    progress: ProgressCallback | None = None,
) -> DualNormResult:
    r"""Upper bound on :math:`\sigma(Z) = \max_{\|u\|_2\le1}\|Z^\top(Xu)_+\|_2`.

    Row-space reduction: with the SVD :math:`X = U\Sigma V^\top` and rank ``r``,
    :math:`X_r = XV_r = U_r\Sigma_r` (``n x r``) has :math:`\sigma(Z; X_r) = \sigma(Z; X)` up to
    the dropped singular values: :math:`|\|Z^\top(Xu)_+\| - \|Z^\top(X_rV_r^\top u)_+\|| \le
    \|Z\|_2 s_{r+1}`, which is added to the bound.  The patterns of ``X`` are enumerated
    exactly (:func:`~copos.nets.arrangements.enumerate_arrangements`, ``complete=True``).
    Given a :class:`~copos.nets.problem.TrainingProblem` instead of ``X``, its ``X`` is
    trusted and its cached SVD and arrangements are used (nothing is recomputed).

    Pruning: patterns are processed by decreasing spectral bound
    :math:`\sigma_i \le \|Z^\top D_iX_r\|_2`; once that bound is at most the running maximum the
    remaining patterns cannot change :math:`\max_i\sigma_i` and are skipped.

    The methods:

    ``"exact"``
        :math:`\sigma_i^2 = \max\{\|G u\|^2 : A_iu \ge 0, \|u\| \le 1\}`, :math:`G = Z^\top
        D_iX_r`, by :func:`~copos.nets.cone_pca.cone_pca`: a maximiser is a top singular
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
    ``"branch-and-bound"``
        :func:`~copos.certificates.sigma_search.sigma_branch_and_bound` on :math:`(Z, X_r)`: no
        patterns are enumerated; a proven interval ``[lower, value]`` (``value`` inflated by
        :data:`FP_SAFETY` and ``truncation``), complete unless a budget stopped it.
    ``"streamed"``
        :func:`~copos.certificates.sigma_streamed.sigma_streamed`: the exact value, every face of
        the arrangement listed from its vertex rays (batches of :math:`(r-1)`-subsets of the
        hyperplanes, never all held), each face solved only when every cell around it has a
        norm bound above :math:`\max(\text{threshold}, \sigma_{\rm lower})`.  No time budget;
        its cost is :math:`2\binom{L}{r-1}` rays for ``L`` distinct hyperplanes.
    ``"auto"``
        ``"exact"`` if the patterns can be enumerated (at most ``max_patterns``) and
        :math:`PF \le` ``max_exact_work``; else ``"relaxation"`` if they can be enumerated; else
        ``"streamed"`` when it visits at most ``max_stream_rays`` rays; else
        ``"branch-and-bound"`` up to rank :data:`AUTO_SEARCH_MAX_RANK` and ``"global"`` above
        it.  When :math:`s_1/s_r >` :data:`MAX_ENUMERATION_CONDITION` the patterns are not
        enumerated (the branch and bound, or ``"global"``, is used), and an explicit
        ``"exact"`` or ``"relaxation"`` is reported as not rigorous.

    Parameters
    ----------
    Z:
        Dual candidate, shape ``(n, c)`` (a 1-D ``Z`` is one column).
    X:
        Data, shape ``(n, d)``, or a :class:`~copos.nets.problem.TrainingProblem` (its ``X``).
    method:
        One of :data:`METHODS`.
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
    threshold:
        ``"branch-and-bound"`` and ``"streamed"``: discard cones whose bound is at most this (the
        :math:`\beta` of the question ":math:`\sigma(Z) \le \beta`?"); then ``value`` may
        exceed :math:`\sigma(Z)` but is at most ``threshold`` when the answer is yes.
    max_stream_rays:
        ``"auto"`` streams (``"streamed"``) only up to this many vertex rays.
    time_budget, node_budget:
        ``"branch-and-bound"`` only: stop after this many seconds or cones (``complete=False``).
    hints:
        ``"branch-and-bound"`` and ``"streamed"``: directions ``u`` (rows, shape ``(k, d)``) to start the
        ascent of the lower end from, e.g. the neurons of a trained net.
    progress:
        ``"branch-and-bound"`` only: called as ``progress(nodes, lower, upper)`` (about four
        times a second, in the units of ``Z`` and ``X``).

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
    rigorous up to perturbations of that size as long as :math:`s_1/s_r \le`
    :data:`MAX_ENUMERATION_CONDITION` (above it a thin cell in whitened coordinates can be a wide
    one on the sphere, and the enumeration is not trusted).
    """
    start = time.perf_counter()
    Z_arr, data = _check_pair(Z, X)
    # sigma(tZ; sX) = t s sigma(Z; X) for t, s > 0: compute at unit scale (exact powers of two,
    # so nothing is rounded) and scale back; rows near 1e154 would overflow their squared norms.
    z_scale = power_of_two_scale(Z_arr)
    scale = z_scale * data.svd.scale
    search = _SearchOptions.of(threshold, time_budget, node_budget, hints, progress, scale, data)
    limits = (max_patterns, max_exact_work, check_dimension(max_stream_rays, "max_stream_rays"))
    result = _dual_norm_at_unit_scale(Z_arr / z_scale, data, method, limits, solver, prune, search)
    return replace(
        result,
        value=result.value * scale,
        lower=result.lower * scale,
        truncation=result.truncation * scale,
        pattern_bounds=None if result.pattern_bounds is None else result.pattern_bounds * scale,
        time=time.perf_counter() - start,
    )


@dataclass(frozen=True, eq=False)
class _SearchOptions:
    """The options of ``"branch-and-bound"``, at unit scale (``X / s``, ``Z / t``)."""

    threshold: float | None
    time_budget: float
    node_budget: int
    hints: FloatArray | None
    progress: ProgressCallback | None
    scale: float

    @classmethod
    def of(
        cls,
        threshold: float | None,
        time_budget: float,
        node_budget: int,
        hints: ArrayLike | None,
        progress: ProgressCallback | None,
        scale: float,
        data: _Data,
    ) -> _SearchOptions:
        if threshold is not None and not (isinstance(threshold, (int, float)) and threshold >= 0):
            raise InvalidInputError(f"threshold must be a number >= 0 or None; got {threshold!r}")
        if not (isinstance(time_budget, (int, float)) and time_budget > 0):
            raise InvalidInputError(f"time_budget must be a positive number; got {time_budget!r}")
        node_budget = check_dimension(node_budget, "node_budget")
        hint_rows = None
        if hints is not None:
            hint_rows = as_finite_array(hints, "hints")
            hint_rows = hint_rows.reshape(-1, data.svd.X.shape[1]) if hint_rows.size else None
        unit = None if threshold is None else float(threshold) / scale
        return cls(unit, float(time_budget), node_budget, hint_rows, progress, scale)

    def search(
        self, Z: FloatArray, Xr: FloatArray, Vr: FloatArray, truncation: float
    ) -> SigmaInterval:
        """:func:`sigma_branch_and_bound` of ``(Z, Xr)``; the threshold and the progress account
        for :data:`FP_SAFETY`, ``truncation`` and the scale."""
        threshold = None
        if self.threshold is not None:
            threshold = (self.threshold - truncation) / (1.0 + FP_SAFETY)
        report = self.progress
        progress = None
        if report is not None:

            def progress(nodes: int, lower: float, upper: float) -> None:
                value = upper * (1.0 + FP_SAFETY) + truncation
                report(nodes, lower * self.scale, value * self.scale)

        hints = None if self.hints is None else self.hints @ Vr
        return sigma_branch_and_bound(
            Z,
            Xr,
            threshold=threshold,
            time_budget=self.time_budget,
            node_budget=self.node_budget,
            hints=hints,
            progress=progress,
        )


@dataclass(frozen=True, eq=False)
class _Data:
    """``X`` at unit scale (its :class:`ScaledSVD`) and where its activation patterns come from."""

    svd: ScaledSVD
    problem: TrainingProblem | None

    def arrangements(self, max_patterns: int) -> Arrangements:
        """The exact patterns of ``X``: the problem's cached ones, or enumerated from the SVD."""
        if self.problem is not None:
            return self.problem.arrangements(max_patterns=max_patterns)
        return enumerate_from_svd(self.svd, max_patterns=max_patterns)

    def face_bases(self, Xr: FloatArray) -> list[FloatArray]:
        """:func:`~copos.nets.cone_pca.face_bases` of the row-space coordinates ``Xr`` of
        ``X``: computed once per problem (read-only), or afresh for an array ``X``."""
        if self.problem is None:
            return face_bases(Xr)
        return self.problem.cached("dual norm face bases", lambda: _read_only(face_bases(Xr)))


def _read_only(arrays: list[FloatArray]) -> list[FloatArray]:
    for array in arrays:
        array.setflags(write=False)
    return arrays


def _dual_norm_at_unit_scale(
    Z_arr: FloatArray,
    data: _Data,
    method: Method,
    limits: tuple[int, int, int],
    solver: str,
    prune: bool,
    search: _SearchOptions,
) -> DualNormResult:
    """:func:`dual_norm` on checked data (``max|Z|``, ``max|X|`` of order 1); ``limits`` are
    ``(max_patterns, max_exact_work, max_stream_rays)``."""
    start = time.perf_counter()
    requested = _check_method(method)
    max_patterns = check_dimension(limits[0], "max_patterns")
    max_exact_work = check_dimension(limits[1], "max_exact_work")
    resolve(solver)
    X_arr = data.svd.X
    Xr, Vr, tail = _row_space(data.svd)
    truncation = float(np.linalg.norm(Z_arr, 2)) * tail
    if Xr.shape[1] == 0 or not np.any(Z_arr):
        return _trivial_result(requested, Xr.shape[1], truncation, start)
    if requested == "global":
        return _global_result(Z_arr, X_arr, requested, Xr.shape[1], start, "requested")
    if requested == "branch-and-bound":
        return _search_result(Z_arr, X_arr, Xr, Vr, truncation, requested, search, "requested")
    if requested == "streamed":
        return _streamed_result(Z_arr, data, Xr, Vr, truncation, requested, search, "requested")
    condition = enumeration_condition(data.svd, Xr.shape[1])
    trusted = condition <= MAX_ENUMERATION_CONDITION
    patterns = _enumerate(data, max_patterns, requested) if trusted or requested != "auto" else None
    if patterns is None:
        reason = (
            f"more than max_patterns = {max_patterns} activation patterns"
            if trusted
            else f"X is ill-conditioned (s_1/s_r = {condition:.3g} > "
            f"{MAX_ENUMERATION_CONDITION:.0e}): its enumerated patterns may miss thin cells"
        )
        if requested == "auto" and trusted and _streams(data, Xr.shape[1], limits[2]):
            return _streamed_result(Z_arr, data, Xr, Vr, truncation, requested, search, reason)
        if requested == "auto" and Xr.shape[1] > AUTO_SEARCH_MAX_RANK:
            return _global_result(Z_arr, X_arr, requested, Xr.shape[1], start, reason)
        return _search_result(Z_arr, X_arr, Xr, Vr, truncation, requested, search, reason)
    work = len(patterns) * face_count(Xr.shape[0], Xr.shape[1])
    resolved = _choose(requested, work, max_exact_work)
    if resolved == "exact":
        bounds, evaluated, u_r = _exact_bounds(Z_arr, Xr, patterns, prune, data.face_bases(Xr))
        maximizer = _unit(Vr @ u_r) if u_r is not None else None
        candidates = [maximizer] if maximizer is not None else []
    else:
        bounds, evaluated = _relaxed_bounds(Z_arr, Xr, patterns, solver, prune)
        maximizer = None
        candidates = _witness_candidates(patterns)
    value = float(np.max(bounds)) * (1.0 + FP_SAFETY) + truncation
    note = _NOTES[resolved] + (
        ""
        if trusted
        else f"; NOT rigorous: X is ill-conditioned (s_1/s_r = {condition:.3g}), the "
        "enumeration may miss thin cells"
    )
    return DualNormResult(
        value=value,
        rigorous=patterns.complete and trusted,
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
        note=note,
    )


_NOTES: dict[str, str] = {
    "exact": "exact cone-constrained PCA on every activation pattern (face enumeration)",
    "streamed": "exact: every face of the arrangement, streamed from its vertex rays and pruned "
    "by rigorous norm bounds",
    "branch-and-bound": "conical branch and bound over the sphere: sigma(Z) in [lower, value], "
    "both proven",
    "relaxation": "doubly-nonnegative (Shor) upper bound per activation pattern, repaired "
    "with numpy eigenvalues so that it holds whatever the solver accuracy",
    "global": "crude global bound ||Z||_2 ||X||_2 (no activation patterns)",
}


def face_count(n: int, r: int) -> int:
    r"""Number of faces tried per pattern by ``"exact"``: :math:`\sum_{k<r}\binom{n}{k}`."""
    return sum(math.comb(n, k) for k in range(r))


def _check_pair(Z: ArrayLike, X: ArrayLike | TrainingProblem) -> tuple[FloatArray, _Data]:
    """Finite ``Z`` (n×c; 1-D is a column) and ``X`` (n×d) with the same ``n``; the ``X`` of a
    :class:`TrainingProblem` is trusted (checked when the problem was built)."""
    problem = X if isinstance(X, TrainingProblem) else None
    X_arr = as_finite_array(X, "X", ndim=2) if problem is None else problem.X
    Z_arr = as_finite_array(Z, "Z")
    if Z_arr.ndim == 1:
        Z_arr = Z_arr[:, None]
    if Z_arr.ndim != 2 or Z_arr.shape[0] != X_arr.shape[0]:
        raise InvalidInputError(
            f"need Z (n×c) and X (n×d) with the same n; got Z {Z_arr.shape}, X {X_arr.shape}"
        )
    if 0 in X_arr.shape or Z_arr.shape[1] == 0:
        raise InvalidInputError(f"Z and X must be non-empty; got Z {Z_arr.shape}, X {X_arr.shape}")
    svd = ScaledSVD.of(X_arr) if problem is None else problem.scaled_svd
    return Z_arr, _Data(svd, problem)


def _check_method(method: Any) -> Method:
    if method not in METHODS:
        raise InvalidInputError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    return cast(Method, method)


def _row_space(svd: ScaledSVD) -> tuple[FloatArray, FloatArray, float]:
    r"""``(X V_r, V_r, s_{r+1})``: coordinates in the row space, its basis, first dropped value."""
    rank = svd.rank(RANK_TOL)
    singular = svd.singular
    tail = float(singular[rank]) if rank < singular.size else 0.0
    Vr = svd.Vt[:rank].T
    return svd.X @ Vr, Vr, tail


def _enumerate(data: _Data, max_patterns: int, requested: Method) -> Arrangements | None:
    """All patterns of ``X``; ``None`` (for ``"auto"``) when there may be too many."""
    try:
        return data.arrangements(max_patterns)
    except InvalidInputError as exc:
        if requested == "auto" and "max_patterns" in str(exc):
            return None
        raise


def no_bound(method: ResolvedMethod, requested: Method, seconds: float = 0.0) -> DualNormResult:
    """The result when the net's output overflowed: no bound (``value = inf``, not rigorous)."""
    return DualNormResult(
        value=math.inf,
        rigorous=False,
        method=method,
        requested=requested,
        lower=math.nan,
        maximizer=None,
        pattern_bounds=None,
        evaluated=None,
        num_patterns=0,
        rank=0,
        truncation=0.0,
        time=seconds,
        note="the network's output f(X) is not finite (overflow): sigma(Z) cannot be bounded",
    )


def _choose(requested: Method, work: int, max_exact_work: int) -> ResolvedMethod:
    if requested == "relaxation":
        return "relaxation"
    if work <= max_exact_work:
        return "exact"
    if requested == "exact":
        raise InvalidInputError(
            f"exact dual norm needs about {work} small SVDs > max_exact_work = {max_exact_work}"
            "; raise max_exact_work or use method='branch-and-bound'"
        )
    return "relaxation"


def _search_result(
    Z: FloatArray,
    X: FloatArray,
    Xr: FloatArray,
    Vr: FloatArray,
    truncation: float,
    requested: Method,
    search: _SearchOptions,
    reason: str,
) -> DualNormResult:
    """``"branch-and-bound"``: the proven interval as a :class:`DualNormResult` (unit scale)."""
    found = search.search(Z, Xr, Vr, truncation)
    status = {"gap": "complete", "threshold": "complete (every open bound <= threshold)"}.get(
        found.stop,
        "stopped at a witness (lower > threshold)"
        if found.stop == "witness"
        else f"stopped by the {found.stop} budget",
    )
    note = (
        f"{_NOTES['branch-and-bound']}; {status} after {found.nodes} cones "
        f"(stop: {found.stop}); used because: {reason}"
    )
    maximizer = _unit(Vr @ found.maximizer)
    return DualNormResult(
        value=found.upper * (1.0 + FP_SAFETY) + truncation,
        rigorous=True,
        method="branch-and-bound",
        requested=requested,
        lower=_attained(Z, X, [maximizer]),
        maximizer=maximizer,
        pattern_bounds=None,
        evaluated=None,
        num_patterns=0,
        rank=int(Xr.shape[1]),
        truncation=truncation,
        time=found.time,
        note=note,
        complete=found.complete,
        nodes=found.nodes,
    )


def _streams(data: _Data, rank: int, max_stream_rays: int) -> bool:
    """Whether ``auto`` streams: rank 2 to :data:`MAX_STREAM_RANK` and at most
    ``max_stream_rays`` vertex rays."""
    if not 2 <= rank <= MAX_STREAM_RANK:
        return False
    return streamed_work(hyperplanes(data.svd, RANK_TOL)) <= max_stream_rays


def _streamed_result(
    Z: FloatArray,
    data: _Data,
    Xr: FloatArray,
    Vr: FloatArray,
    truncation: float,
    requested: Method,
    search: _SearchOptions,
    reason: str,
) -> DualNormResult:
    r"""``"streamed"``: :func:`~copos.certificates.sigma_streamed.sigma_streamed` on
    :math:`(Z, X_r)` as a :class:`DualNormResult` (unit scale); with a threshold it prunes below
    :math:`\max(\beta, \sigma_{\rm lower})`, as ``"branch-and-bound"`` does.  Not rigorous
    above :data:`MAX_ENUMERATION_CONDITION` (thin cells)."""
    rank = int(Xr.shape[1])
    if rank < 2:
        raise InvalidInputError(f"method='streamed' needs rank >= 2; X has rank {rank}")
    threshold = None
    if search.threshold is not None:
        threshold = (search.threshold - truncation) / (1.0 + FP_SAFETY)
    hints = None if search.hints is None else search.hints @ Vr
    planes = hyperplanes(data.svd, RANK_TOL)
    check_memory(
        streamed_batch_bytes(planes.normals.shape[0], rank),
        f"the streamed enumeration at rank {rank} (one batch of the cells around its rays)",
        "use method='branch-and-bound' at this rank",
    )
    found = sigma_streamed(Z, Xr, planes, data.svd.singular, threshold=threshold, hints=hints)
    condition = enumeration_condition(data.svd, rank)
    trusted = condition <= MAX_ENUMERATION_CONDITION
    maximizer = _unit(Vr @ found.maximizer)
    note = (
        f"{_NOTES['streamed']}: {found.rays} rays, {found.cells} cells bounded, {found.faces} "
        f"faces solved; used because: {reason}"
    )
    if not found.complete:
        note += "; INCOMPLETE (stopped by its time budget): upper end ||Z|| ||X||"
    if not trusted:
        note += f"; NOT rigorous: X is ill-conditioned (s_1/s_r = {condition:.3g})"
    return DualNormResult(
        value=found.upper * (1.0 + FP_SAFETY) + truncation,
        rigorous=trusted,
        method="streamed",
        requested=requested,
        lower=_attained(Z, data.svd.X, [maximizer]),
        maximizer=maximizer,
        pattern_bounds=None,
        evaluated=None,
        num_patterns=found.cells,
        rank=rank,
        truncation=truncation,
        time=found.time,
        note=note,
        complete=found.complete,
        nodes=found.faces,
    )


def _unit(u: FloatArray) -> FloatArray:
    norm = float(np.linalg.norm(u))
    return u / norm if norm > 0 else u


def _attained(Z: FloatArray, X: FloatArray, candidates: list[FloatArray]) -> float:
    r""":math:`\max_u \|Z^\top(Xu)_+\|` over unit candidates (0 if none): a lower bound."""
    values = [float(np.linalg.norm(Z.T @ np.maximum(X @ _unit(u), 0.0))) for u in candidates]
    return max(values, default=0.0)


def _witness_candidates(patterns: Arrangements) -> list[FloatArray]:
    """The witnesses ``h`` (``1[Xh >= 0]`` = pattern) as candidate directions ``u``."""
    if patterns.witnesses is None:
        return []
    return list(patterns.witnesses)


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
    Z: FloatArray, Xr: FloatArray, patterns: Arrangements, prune: bool, bases: list[FloatArray]
) -> tuple[FloatArray, BoolArray, FloatArray | None]:
    """Exact :math:`\\sigma_i` (pruned patterns: spectral bound) and the best maximiser, with the
    :func:`~copos.nets.cone_pca.face_bases` ``bases`` of ``Xr``."""
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
