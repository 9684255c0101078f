r"""σ(Z) beyond enumeration: a conical branch and bound that returns a proven interval, anytime.

.. math::

    \sigma(Z) = \max_{\|u\|_2 \le 1}\ \|Z^\top(Xu)_+\|_2
    \in [\sigma_{\rm lower}, \sigma_{\rm upper}],

with :math:`X \in \mathbb R^{n\times r}` in row-space coordinates (full column rank) and both
ends proven: :math:`\sigma_{\rm lower} = f(u)` at a unit ``u`` actually evaluated,
:math:`\sigma_{\rm upper}` the largest rigorous bound over the cones still open or discarded.

The search
----------
The unit sphere of :math:`\mathbb R^r` is covered by simplicial cones :math:`\mathcal C =
\operatorname{cone}(v_1, \ldots, v_r)` (first the :math:`2^r` orthants, or the :math:`r + 1`
cones of a regular simplex when :math:`r > 10`), explored best first and split by bisecting the
longest edge (:math:`v_i, v_j \to (v_i + v_j)/\|v_i + v_j\|`), the exhaustive subdivision of
simplicial and conical branch and bound (Horst & Tuy, *Global Optimization*, ch. 5–7; Žilinskas,
"Branch and bound with simplicial partitions for global optimization", 2008).

On a cone the rows split into the *stable* ones, whose sign :math:`x_j^\top u` is fixed on
:math:`\mathcal C` (read off the generators: :math:`x_j^\top v_k` of one sign for every
:math:`k`) — active :math:`A` or inactive :math:`I` — and the *unstable* ones :math:`F` whose
hyperplane cuts :math:`\mathcal C`; branching refines cones until rows become stable, as the
per-neuron splits of β-CROWN do (Wang et al., "Beta-CROWN: efficient bound propagation with
per-neuron split constraints", NeurIPS 2021), here in input space.  With
:math:`(y)_+ = \tfrac12 y + \tfrac12|y|`, for :math:`u \in \mathcal C`:

.. math::

    f(u) = \|Z^\top(Xu)_+\| \le g_1(u) + \tfrac12\|Z_F\|_2\, g_2(u),\qquad
    g_1(u) = \|(Z_A^\top X_A + \tfrac12 Z_F^\top X_F)u\|,\quad g_2(u) = \|X_Fu\| .

Both :math:`g_1` and :math:`g_2` are convex and positively homogeneous, so on
:math:`\mathcal C\cap\{\|u\|\le1\} \subseteq \tau\operatorname{conv}\{0, v_1, \ldots, v_r\}`,
:math:`\tau = \|V^{-\top}\mathbb 1\|` (the facet through the generators is
:math:`\{a^\top u = 1\}`, :math:`a = V^{-\top}\mathbb 1`), they are at most :math:`\tau` times
their largest value at a generator (a convex function is maximised at a vertex):

.. math::

    \sigma_{\mathcal C} \le \min\Big(\tau\big(\max_k g_1(v_k)
        + \tfrac12\|Z_F\|_2\max_k g_2(v_k)\big),\
        \|Z_A^\top X_A + \tfrac12 Z_F^\top X_F\|_2 + \tfrac12\|Z_F\|_2\|X_F\|_2\Big).

The second (the ball, the cone ignored) is the spectral bound :math:`\|Z^\top D_iX\|_2` of the
enumeration once every row is stable, exact on a cell whose top singular vector lies inside it.

The slice-vertex bound (the one that closes the gap).  Write :math:`u = V\lambda`.  The heaviest
unstable rows :math:`F_1` (as many as :data:`MAX_SLICE_SUBSETS` vertex systems allow, by
:math:`\|z_j\|\max_k|x_j^\top v_k|`) cut the simplex :math:`\Delta = \{\lambda \ge 0,
\mathbb 1^\top\lambda = 1\}` into polytopes on each of which their pattern is fixed, so that
:math:`h(\lambda) = \|(Z_A^\top X_A + \tfrac12Z_{F_2}^\top X_{F_2})V\lambda +
Z_{F_1}^\top(X_{F_1}V\lambda)_+\|` is convex there and peaks at a vertex: a point of
:math:`\Delta` with ``r - 1`` independent active constraints among :math:`\lambda_k = 0`,
:math:`x_j^\top V\lambda = 0` (:math:`j \in F_1`), all found by solving the
:math:`\binom{r + |F_1|}{r - 1}` small systems at once.  Then

.. math::

    \sigma_{\mathcal C} \le \tau\Big(\max_{\text{vertices}} h
        + \tfrac12\max_{\lambda\in\Delta}\|Z_{F_2}^\top|X_{F_2}V\lambda|\|\Big),

and with :math:`F_2 = \emptyset` the maximum of :math:`h` is that of :math:`f` at the vertices,
so the bound is within the factor :math:`\tau = 1 + O(\theta^2)` of :math:`\sigma_{\mathcal C}`
on a cone of angular radius :math:`\theta`: second-order tight, also at maxima on a hyperplane.
A child's bound is capped by its parent's.

Floating-point allowances: every bound is inflated by :math:`4(n + r + c)\epsilon_{\rm mach}`
(relative) plus :math:`10^{-13}\|Z\|_2\|X\|_2`; a row counts as stable only when
:math:`|x_j^\top v_k| > 8(r + 1)\epsilon_{\rm mach}\|x_j\|`; each vertex is accurate to
:math:`8r\epsilon_{\rm mach}\kappa` (:math:`\kappa \le r^{r/2}/|\det|`, unit rows), which is
added as :math:`2\sqrt r\,\|Z\|_2\|X\|_2` times that; systems with :math:`|\det| < 10^{-6}`
make the cone use the first-order bound, and those below :math:`10^{-14}` count as singular
(hyperplanes that close to dependent are treated as one).

The lower side: :math:`f` at each new cone's best vertex (or centre) and at :math:`\pm` the top right singular
vector of its matrix, then a local ascent from any improvement (and every 64 nodes): with the
pattern :math:`D = D(u)` fixed, :math:`u \leftarrow` the top right singular vector of
:math:`Z^\top DX` or one power step :math:`u \leftarrow X^\top DZZ^\top DXu` normalised,
whichever raises :math:`f`, until neither does.  Caller ``hints`` (e.g. the net's neurons) and
the top singular vectors of :math:`Z^\top X` start it.

Stopping: when the largest open bound is within ``max(abs_tol, rel_tol * lower)`` of the lower
end (complete), when every open bound is at most ``threshold`` (complete for the question
":math:`\sigma \le \beta`?" that a certificate asks: such cones cannot push :math:`\sigma`
above :math:`\beta`), when the lower end exceeds ``threshold`` and the interval is within
:data:`WITNESS_REL_GAP` (the answer is no: a witness), or at the time or node budget (incomplete:
still a valid, wider interval).
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Called as ``progress(nodes, lower, upper)`` while the search runs (about 4 times a second).
ProgressCallback = Callable[[int, float, float], None]

#: Stop when ``upper - lower <= rel_tol * lower`` (default).
DEFAULT_REL_TOL = 1e-9
#: Default wall-clock budget of one search, in seconds.
DEFAULT_TIME_BUDGET = 60.0
#: Default number of cones bounded in one search.
DEFAULT_NODE_BUDGET = 400_000
#: With a threshold below the lower end (a witness), stop once ``upper <= lower (1 + this)``.
WITNESS_REL_GAP = 1e-3
#: Above this rank the first partition is the ``r + 1`` cones of a regular simplex, not orthants.
MAX_ORTHANT_RANK = 10

_EPS = float(np.finfo(np.float64).eps)
_ASCENT_EVERY = 64
_PROGRESS_EVERY = 0.25


@dataclass(frozen=True, eq=False)
class SigmaInterval:
    r"""A proven interval :math:`\sigma(Z) \in [\text{lower}, \text{upper}]` from the search.

    Attributes
    ----------
    lower:
        :math:`f(u) = \|Z^\top(Xu)_+\|` at the unit ``maximizer`` (evaluated, so proven).
    upper:
        The largest rigorous bound over the open and discarded cones (rounding included).
    maximizer:
        Unit ``u`` (row-space coordinates, shape ``(r,)``) attaining ``lower``.
    complete:
        True when the search finished: ``upper - lower`` within the tolerance, or every open
        cone at most ``threshold``.  False when a budget stopped it, or a witness: ``lower >
        threshold`` with ``upper <= lower (1 +`` :data:`WITNESS_REL_GAP` ``)``.
    nodes:
        Number of cones bounded.
    open_nodes:
        Number of cones left open at the stop.
    stop:
        ``"gap"``, ``"threshold"``, ``"witness"``, ``"time"`` or ``"nodes"``.
    time:
        Wall-clock seconds.
    """

    lower: float
    upper: float
    maximizer: FloatArray
    complete: bool
    nodes: int
    open_nodes: int
    stop: str
    time: float

    @property
    def gap(self) -> float:
        """``upper - lower`` (at least 0)."""
        return max(self.upper - self.lower, 0.0)


def sigma_branch_and_bound(
    Z: FloatArray,
    X: FloatArray,
    *,
    threshold: float | None = None,
    rel_tol: float = DEFAULT_REL_TOL,
    abs_tol: float = 0.0,
    time_budget: float = DEFAULT_TIME_BUDGET,
    node_budget: int = DEFAULT_NODE_BUDGET,
    hints: FloatArray | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> SigmaInterval:
    r"""Proven :math:`[\sigma_{\rm lower}, \sigma_{\rm upper}] \ni \max_{\|u\|\le1}\|Z^\top(Xu)_+\|`.

    ``X`` (``n x r``) must have full column rank ``r >= 1`` and moderate scale (the caller,
    :func:`~copos.certificates.dual_norm.dual_norm`, passes row-space coordinates at unit
    scale); ``Z`` is ``n x c``.  See the module docstring for the bounds and the stopping rules.

    Parameters
    ----------
    threshold:
        Discard cones whose bound is at most this (the :math:`\beta` of "is
        :math:`\sigma \le \beta`?"); ``None`` to close the gap.
    rel_tol, abs_tol:
        Stop when the largest open bound is at most ``lower + max(abs_tol, rel_tol * lower)``.
    time_budget, node_budget:
        Stop (incomplete) after this many seconds or cones.
    hints:
        Directions (rows, shape ``(k, r)``) to try first, e.g. the neurons of a trained net.
    seed:
        Seed of the random restarts of the ascent.
    progress:
        Called as ``progress(nodes, lower, upper)`` about four times a second.
    """
    start = time.perf_counter()
    objective = _Objective(np.asarray(Z, dtype=np.float64), np.asarray(X, dtype=np.float64))
    search = _Search(objective, threshold, rel_tol, abs_tol, start, progress)
    search.start(_starting_points(objective, hints, seed))
    search.run(time_budget, node_budget)
    return search.result()


class _Objective:
    r""":math:`f(u) = \|Z^\top(Xu)_+\|` with the data the bounds need."""

    def __init__(self, Z: FloatArray, X: FloatArray) -> None:
        self.Z = Z
        self.X = X
        self.row_norms = np.linalg.norm(X, axis=1)
        n, r = X.shape
        self.nonzero = self.row_norms > 0
        self.z_norms = np.linalg.norm(Z, axis=1)
        self.guard = 8.0 * (r + 1) * _EPS * self.row_norms
        self.inflation = 1.0 + 4.0 * (n + r + Z.shape[1]) * _EPS
        # |f(u) - f(u')| <= ||Z|| ||X|| ||u - u'||: covers points computed with rounding errors
        self.lipschitz = float(np.linalg.norm(Z, 2) * np.linalg.norm(X, 2))
        self.slack = self.lipschitz * 1e-13

    @property
    def rank(self) -> int:
        return int(self.X.shape[1])

    def value(self, u: FloatArray) -> float:
        return float(np.linalg.norm(self.Z.T @ np.maximum(self.X @ u, 0.0)))

    def pattern_matrix(self, u: FloatArray) -> FloatArray:
        r""":math:`Z^\top D(u)X`, ``D(u) = diag(1[Xu > 0])``."""
        active = (self.X @ u) > 0
        return self.Z[active].T @ self.X[active]

    def ascend(self, u: FloatArray, value: float, steps: int = 50) -> tuple[FloatArray, float]:
        """Local ascent from the unit ``u`` (``value = f(u)``): pattern-fixed top singular vector
        or power step, whichever raises ``f``, until neither does."""
        for _ in range(steps):
            M = self.pattern_matrix(u)
            top = _top_right_vector(M)
            step = M.T @ (M @ u)
            candidates = [top, -top]
            if np.linalg.norm(step) > 0:
                candidates.append(step / np.linalg.norm(step))
            values = [self.value(c) for c in candidates]
            best = int(np.argmax(values))
            if not values[best] > value:
                break
            u, value = candidates[best], values[best]
        return u, value

    def values(self, U: FloatArray) -> FloatArray:
        """:math:`f` at every column of ``U``."""
        return np.linalg.norm(self.Z.T @ np.maximum(self.X @ U, 0.0), axis=0)

    def cone_bound(self, V: FloatArray) -> tuple[float, FloatArray]:
        r"""Rigorous upper bound on :math:`\max f` over :math:`\operatorname{cone}(V)\cap` ball
        (columns of ``V`` are the generators) and candidates for the lower side (columns: the
        best slice vertex, or the centre, and :math:`\pm` the top right singular vector of
        :math:`Z_A^\top X_A + \tfrac12Z_F^\top X_F`)."""
        P = self.X @ V
        guard = self.guard[:, None]
        active = np.all(P > guard, axis=1)
        free = ~(active | np.all(P < -guard, axis=1)) & self.nonzero
        weights = active + 0.5 * free
        M = (self.Z * weights[:, None]).T @ self.X
        _, singular, Vt = np.linalg.svd(M, full_matrices=False)
        ball = float(singular[0])
        free_z = 0.0
        if free.any():
            free_z = _gram_norm(self.Z[free])
            ball += 0.5 * free_z * _gram_norm(self.X[free])
        tau = _facet_factor(V)
        vertex = self._vertex_bound(V, P, active, free, tau) if math.isfinite(tau) else None
        if vertex is None:
            bound = min(ball, tau * _first_order_bound(V, M, P[free], free_z))
            point = V.sum(axis=1)
        else:
            bound = min(ball, vertex[0])
            point = vertex[1]
        bound = bound * self.inflation + self.slack
        return bound, np.column_stack([point, Vt[0], -Vt[0]])

    def _vertex_bound(
        self, V: FloatArray, P: FloatArray, active: BoolArray, free: BoolArray, tau: float
    ) -> tuple[float, FloatArray] | None:
        r""":math:`\tau(\max_w h(w) + \tfrac12 b_2)` over the slice vertices ``w`` of the
        heaviest unstable rows :math:`F_1` (as many as :data:`MAX_SLICE_SUBSETS` allows), with
        :math:`h(w) = \|(Z_A^\top X_A + \tfrac12Z_{F_2}^\top X_{F_2})w + Z_{F_1}^\top(X_{F_1}w)_+\|`
        and :math:`b_2 \ge \max_{\lambda\in\Delta}\|Z_{F_2}^\top|X_{F_2}V\lambda|\|`; and the
        best vertex.  ``None`` when the slice is ill-conditioned."""
        rows = np.flatnonzero(free)
        r = V.shape[1]
        exact_rows = rows
        if math.comb(r + rows.size, r - 1) > MAX_SLICE_SUBSETS:
            weight = self.z_norms[rows] * np.max(np.abs(P[rows]), axis=1)
            exact_rows = rows[np.argsort(-weight, kind="stable")[: _exact_row_count(r)]]
        relaxed = free.copy()
        relaxed[exact_rows] = False
        found = _slice_vertices(P[exact_rows])
        if found is None:
            return None
        vertices, error = found
        points = V @ vertices
        weights = active + 0.5 * relaxed
        linear = ((self.Z * weights[:, None]).T @ self.X) @ points
        kinks = self.Z[exact_rows].T @ np.maximum(self.X[exact_rows] @ points, 0.0)
        values = np.linalg.norm(linear + kinks, axis=0)
        best = int(np.argmax(values))
        rest = 0.0
        if relaxed.any():
            P_rest = np.abs(P[relaxed])
            by_norm = _gram_norm(self.Z[relaxed]) * float(np.max(np.linalg.norm(P_rest, axis=0)))
            by_rows = float(np.max(self.z_norms[relaxed] @ P_rest))
            rest = 0.5 * min(by_norm, by_rows)
        # each computed vertex is within sqrt(r) 2 error of a true one (columns of V are unit)
        moved = self.lipschitz * 2.0 * error * math.sqrt(r)
        return tau * (float(values[best]) + rest + moved), points[:, best]


def _exact_row_count(r: int) -> int:
    """Most unstable rows ``k`` with ``comb(r + k, r - 1) <=`` :data:`MAX_SLICE_SUBSETS`."""
    k = 0
    while math.comb(r + k + 1, r - 1) <= MAX_SLICE_SUBSETS:
        k += 1
    return k


def _gram_norm(A: FloatArray) -> float:
    r""":math:`\|A\|_2 = \sqrt{\lambda_{\max}(A^\top A)}` (``A`` tall and thin), rounded up."""
    gram = A.T @ A
    top = float(np.linalg.eigvalsh(gram)[-1]) if gram.shape[0] > 1 else float(gram[0, 0])
    return math.sqrt(max(top, 0.0)) * (1.0 + 4.0 * A.shape[0] * _EPS)


def _facet_factor(V: FloatArray) -> float:
    r""":math:`\tau \ge \max\{a^\top u : u \in \operatorname{cone}(V), \|u\| = 1\}`, :math:`a =
    V^{-\top}\mathbb 1`, so that :math:`\operatorname{cone}(V)\cap\text{ball} \subseteq
    \tau\operatorname{conv}\{0, v_1, \ldots, v_r\}`; inf when ``V`` is (nearly) singular."""
    ones = np.ones(V.shape[1])
    try:
        a = np.linalg.solve(V.T, ones)
    except np.linalg.LinAlgError:
        return math.inf
    residual = float(np.max(np.abs(V.T @ a - ones)))
    if not (np.all(np.isfinite(a)) and residual < 1e-6):
        return math.inf
    return float(np.linalg.norm(a)) / (1.0 - residual)


def _first_order_bound(V: FloatArray, M: FloatArray, P_free: FloatArray, free_z: float) -> float:
    r""":math:`\max_k\|Mv_k\| + \tfrac12\|Z_F\|\max_k\|X_Fv_k\|` (to be multiplied by
    :math:`\tau`): the convex majorant :math:`g_1 + \tfrac12\|Z_F\|g_2` at the generators."""
    g1 = float(np.max(np.linalg.norm(M @ V, axis=0)))
    g2 = float(np.max(np.linalg.norm(P_free, axis=0))) if P_free.size else 0.0
    return g1 + 0.5 * free_z * g2


#: Largest number of candidate vertices (subsets of constraints) of one cone's slice.
MAX_SLICE_SUBSETS = 256
#: Smallest accepted determinant of a (unit-row) vertex system; a smaller nonzero one makes the
#: cone fall back to the first-order bound.  Below 1e-14 a system counts as singular.
_VERTEX_DETERMINANT = 1e-6


def _subsets(size: int, count: int) -> NDArray[np.int64]:
    key = (size, count)
    if key not in _SUBSET_CACHE:
        _SUBSET_CACHE[key] = np.array(
            list(itertools.combinations(range(size), count)), dtype=np.int64
        )
    return _SUBSET_CACHE[key]


_SUBSET_CACHE: dict[tuple[int, int], NDArray[np.int64]] = {}


def _slice_vertices(P_free: FloatArray) -> tuple[FloatArray, float] | None:
    r"""Barycentric coordinates (columns) of every vertex of the simplex
    :math:`\Delta = \{\lambda \ge 0, \mathbb 1^\top\lambda = 1\}` cut by the hyperplanes
    :math:`p_j^\top\lambda = 0` (rows of ``P_free``, :math:`p_j = V^\top x_j`): the points of
    :math:`\Delta` with ``r - 1`` independent active constraints among :math:`\lambda_k = 0`,
    :math:`p_j^\top\lambda = 0`, and a bound on the error of each computed coordinate.
    ``None`` when there are too many subsets or one system is ill-conditioned (then a vertex
    might be missed, so the caller uses another bound).

    Floating-point allowance: a system with determinant at most ``1e-14`` (unit rows) is taken
    as singular, i.e. hyperplanes that close to dependent are treated as one, as the
    enumeration of :mod:`copos.nets.arrangements` does for rows parallel within ``1e-10``."""
    f, r = P_free.shape
    if math.comb(r + f, r - 1) > MAX_SLICE_SUBSETS:
        return None
    if f == 0:
        return np.eye(r), 0.0
    constraints = np.vstack([np.eye(r), P_free / np.linalg.norm(P_free, axis=1, keepdims=True)])
    subsets = _subsets(r + f, r - 1)
    systems = np.empty((subsets.shape[0], r, r))
    systems[:, 0, :] = 1.0 / math.sqrt(r)
    systems[:, 1:, :] = constraints[subsets]
    # unit rows: |det| <= 1 (Hadamard), and s_min >= |det| / s_max^(r-1) >= |det| / r^((r-1)/2)
    determinants = np.abs(np.linalg.det(systems))
    regular = determinants > 1e-14
    if not regular.any() or np.any(regular & (determinants < _VERTEX_DETERMINANT)):
        return None
    rhs = np.zeros((int(regular.sum()), r, 1))
    rhs[:, 0, 0] = 1.0 / math.sqrt(r)
    lambdas = np.linalg.solve(systems[regular], rhs)[..., 0]
    # condition <= r^(r/2) / |det|; LU solves to a few r eps times the condition
    errors = 8.0 * r * _EPS * r ** (r / 2) / determinants[regular]
    inside = np.all(lambdas >= -errors[:, None], axis=1)
    error = float(errors[inside].max(initial=0.0))
    return np.maximum(lambdas[inside], 0.0).T, error


def _top_right_vector(M: FloatArray) -> FloatArray:
    """A unit top right singular vector of ``M`` (``e_1`` when ``M = 0``)."""
    if not np.any(M):
        vector = np.zeros(M.shape[1])
        vector[0] = 1.0
        return vector
    return np.linalg.svd(M, full_matrices=False)[2][0]


def _unit(u: FloatArray) -> FloatArray | None:
    norm = float(np.linalg.norm(u))
    return u / norm if norm > 0 and math.isfinite(norm) else None


def _starting_points(objective: _Objective, hints: FloatArray | None, seed: int) -> list:
    """Unit directions to start the ascent from: the hints, ``±`` the top right singular vector
    of :math:`Z^\\top X`, and ``r + 2`` seeded random directions."""
    r = objective.rank
    points = [] if hints is None else [np.asarray(h, dtype=np.float64) for h in hints]
    top = _top_right_vector(objective.Z.T @ objective.X)
    points += [top, -top]
    points += list(np.random.default_rng(seed).standard_normal((r + 2, r)))
    return [unit for unit in (_unit(p) for p in points) if unit is not None]


def initial_cones(r: int) -> list[FloatArray]:
    r"""Simplicial cones covering :math:`\mathbb R^r` (generators as columns): the :math:`2^r`
    orthants for :math:`r \le` :data:`MAX_ORTHANT_RANK`, else the :math:`r + 1` cones spanned by
    ``r`` of the ``r + 1`` vertices of a regular simplex centred at 0."""
    if r <= MAX_ORTHANT_RANK:
        return [np.diag(np.array(signs)) for signs in itertools.product((1.0, -1.0), repeat=r)]
    basis = np.linalg.qr(np.vstack([np.ones(r + 1), np.eye(r + 1)[:r]]).T)[0][:, 1:]
    vertices = basis / np.linalg.norm(basis, axis=1, keepdims=True)  # (r+1, r), sum 0
    return [np.delete(vertices, k, axis=0).T for k in range(r + 1)]


def bisect(V: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Split ``cone(V)`` at the normalised midpoint of its longest edge (smallest cosine)."""
    cosines = V.T @ V
    np.fill_diagonal(cosines, np.inf)
    i, j = np.unravel_index(int(np.argmin(cosines)), cosines.shape)
    middle = V[:, i] + V[:, j]
    middle /= np.linalg.norm(middle)
    left, right = V.copy(), V.copy()
    left[:, i] = middle
    right[:, j] = middle
    return left, right


class _Search:
    """The best-first loop: a max-heap of open cones, the incumbent and the discarded maximum."""

    def __init__(
        self,
        objective: _Objective,
        threshold: float | None,
        rel_tol: float,
        abs_tol: float,
        start: float,
        progress: ProgressCallback | None,
    ) -> None:
        self.objective = objective
        self.threshold = -math.inf if threshold is None else float(threshold)
        self.rel_tol = rel_tol
        self.abs_tol = abs_tol
        self.start_time = start
        self.progress = progress
        self.heap: list[tuple[float, int, FloatArray]] = []
        self.counter = itertools.count()
        self.lower = 0.0
        self.maximizer = np.zeros(objective.rank)
        self.maximizer[0] = 1.0
        self.discarded = 0.0
        self.nodes = 0
        self.stop = "gap"
        self.last_report = start

    # -- lower side
    def offer(self, candidates: FloatArray, ascend: bool = False) -> None:
        """Evaluate the columns of ``candidates`` (normalised); ascend from the best one when it
        beats the incumbent (or when ``ascend``)."""
        norms = np.linalg.norm(candidates, axis=0)
        usable = norms > 0
        if not usable.any():
            return
        units = candidates[:, usable] / norms[usable]
        values = self.objective.values(units)
        best = int(np.argmax(values))
        unit, value = units[:, best], float(values[best])
        if ascend or value > self.lower:
            unit, value = self.objective.ascend(unit, value)
        if value > self.lower:
            self.lower, self.maximizer = value, unit

    def start(self, points: list[FloatArray]) -> None:
        self.lower = self.objective.value(self.maximizer)
        for point in points:
            self.offer(point[:, None], ascend=True)
        for V in initial_cones(self.objective.rank):
            self.push(V, math.inf)

    # -- upper side
    def done_level(self) -> float:
        return self.lower + max(self.abs_tol, self.rel_tol * self.lower)

    def push(self, V: FloatArray, parent_bound: float) -> None:
        bound, candidates = self.objective.cone_bound(V)
        bound = min(bound, parent_bound)
        self.nodes += 1
        self.offer(candidates, ascend=self.nodes % _ASCENT_EVERY == 0)
        if bound <= max(self.done_level(), self.threshold):
            self.discarded = max(self.discarded, bound)
            return
        heapq.heappush(self.heap, (-bound, next(self.counter), V))

    def upper(self) -> float:
        top = -self.heap[0][0] if self.heap else 0.0
        return max(top, self.discarded, self.lower)

    def run(self, time_budget: float, node_budget: int) -> None:
        deadline = self.start_time + time_budget
        while self.heap:
            bound = -self.heap[0][0]
            if bound <= max(self.done_level(), self.threshold):
                self.discarded = max(self.discarded, bound)
                self.heap.clear()
                break
            witness = math.isfinite(self.threshold) and self.lower > self.threshold
            if witness and bound <= self.lower * (1.0 + WITNESS_REL_GAP):
                self.stop = "witness"
                break
            if self.nodes >= node_budget:
                self.stop = "nodes"
                break
            if time.perf_counter() >= deadline:
                self.stop = "time"
                break
            _, _, V = heapq.heappop(self.heap)
            for child in bisect(V):
                self.push(child, bound)
            self.report()
        if not self.heap:
            self.stop = "gap" if self.discarded <= self.done_level() else "threshold"

    def report(self) -> None:
        if self.progress is None:
            return
        now = time.perf_counter()
        if now - self.last_report >= _PROGRESS_EVERY:
            self.last_report = now
            self.progress(self.nodes, self.lower, self.upper())

    def result(self) -> SigmaInterval:
        upper = self.upper()
        if self.progress is not None:
            self.progress(self.nodes, self.lower, upper)
        return SigmaInterval(
            lower=self.lower,
            upper=upper,
            maximizer=self.maximizer,
            complete=not self.heap,
            nodes=self.nodes,
            open_nodes=len(self.heap),
            stop=self.stop,
            time=time.perf_counter() - self.start_time,
        )
