r"""Exact membership tests for the copositive cone and certified factorizations for the CP cone.

.. math::

    \mathrm{COP}_{n,k} = \{M \in S^n : x^\top M x \ge 0 \ \ \forall x \in
        \mathbb R^k_+ \times \mathbb R^{n-k}\}, \qquad
    \mathrm{COP}_n = \mathrm{COP}_{n,n}, \qquad
    \mathrm{CP}_n = \{B B^\top : B \in \mathbb R^{n \times r}_+\} = \mathrm{COP}_n^*.

* :func:`is_copositive` decides :math:`M \in \mathrm{COP}_{n,k}` exactly (up to a stated
  tolerance) with Kaplan's eigenvector criterion and returns a verified witness when the
  answer is no.
* :func:`cp_factorize` either finds :math:`B \ge 0` with :math:`BB^\top = M`, or proves
  :math:`M \notin \mathrm{CP}_n` with a copositive :math:`W` such that
  :math:`\langle W, M\rangle < 0`, or honestly says it could do neither.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations, permutations
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from copos._validation import (
    as_symmetric_matrix,
    check_dimension,
    check_level,
    check_positive,
)
from copos.cones.base import check_sign_count, orthant_lift
from copos.errors import InvalidInputError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: The Horn matrix: -1 on cyclic neighbours (i, i+-1), +1 elsewhere (cones.md §1.1).
HORN: FloatArray = np.array(
    [
        [1, -1, 1, 1, -1],
        [-1, 1, -1, 1, 1],
        [1, -1, 1, -1, 1],
        [1, 1, -1, 1, -1],
        [-1, 1, 1, -1, 1],
    ],
    dtype=np.float64,
)

#: Bitmask enumeration of connected index sets uses int64, so components are limited to this.
_MAX_COMPONENT_BITS = 62
#: Number of principal submatrices diagonalised in one batched ``numpy.linalg.eigh`` call.
_BATCH = 4096
#: A unit eigenvector is a candidate if no entry has the wrong sign by more than this (it is
#: clipped at zero and verified, so leniency costs nothing but a few extra checks).
_SIGN_TOL = 1e-6
#: Negative eigenvalues closer than this (times the spectral scale) span one eigenspace.
_CLUSTER_TOL = 1e-10


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CopositivityResult:
    r"""Outcome of :func:`is_copositive`.

    Attributes
    ----------
    copositive:
        Whether :math:`x^\top M x \ge 0` for all :math:`x \in \mathbb R^k_+ \times
        \mathbb R^{n-k}` (within the tolerance documented in :func:`is_copositive`).
    witness:
        ``None`` when copositive; otherwise an ``x`` with ``x[:k] >= 0``,
        :math:`\lVert x\rVert_1 = 1` and :math:`x^\top M x < -\mathrm{tol}\cdot\mathrm{scale}`.
    value:
        :math:`x^\top M x` at the witness (recomputed from ``M``), ``None`` when copositive.
    method:
        How the answer was reached: ``"nonnegative"`` (entrywise >= 0), ``"psd"``,
        ``"negative-diagonal"`` (witness :math:`e_i`) or ``"kaplan"`` (subset enumeration).
        For ``k < n`` these refer to the lifted matrix :math:`L^\top M L`.
    subsets_checked:
        Number of principal submatrices whose eigen-decomposition was examined.
    """

    copositive: bool
    witness: FloatArray | None
    value: float | None
    method: str
    subsets_checked: int


@dataclass(frozen=True)
class CPFactorization:
    r"""Outcome of :func:`cp_factorize`.

    Attributes
    ----------
    status:
        ``"factored"`` (``B`` certifies :math:`M \in \mathrm{CP}_n`), ``"not_cp"``
        (``witness`` certifies :math:`M \notin \mathrm{CP}_n`) or ``"unknown"``.
    B:
        Entrywise nonnegative factor of shape ``(n, r)`` without all-zero columns, with
        :math:`\lVert BB^\top - M\rVert_F / \max(1, \lVert M\rVert_F) \le \mathrm{tol}`;
        ``None`` unless factored.
    residual:
        Relative residual :math:`\lVert BB^\top - M\rVert_F / \max(1, \lVert M\rVert_F)` of
        the best nonnegative factor found; ``inf`` if no factorization was attempted.
    witness:
        Copositive :math:`W` (unit Frobenius norm, verified with :func:`is_copositive`) with
        :math:`\langle W, M\rangle < -\mathrm{tol}\cdot\max(1, \lVert M\rVert_F)`; ``None``
        unless ``status == "not_cp"``.
    message:
        What was found, in words.
    """

    status: Literal["factored", "not_cp", "unknown"]
    B: FloatArray | None
    residual: float
    witness: FloatArray | None
    message: str


# --------------------------------------------------------------------------------------------
# Copositivity
# --------------------------------------------------------------------------------------------


def is_copositive(
    M: ArrayLike,
    k: int | None = None,
    *,
    tol: float = 1e-9,
    max_size: int = 20,
) -> CopositivityResult:
    r"""Decide exactly whether :math:`x^\top M x \ge 0` for all :math:`x \in \mathbb R^k_+
    \times \mathbb R^{n-k}`.

    For ``k = n`` (default) this is :math:`M \in \mathrm{COP}_n`.  For ``k < n`` the problem is
    lifted with :math:`L = \begin{bmatrix} I_k & 0 & 0\\ 0 & I_{n-k} & -I_{n-k}\end{bmatrix}`
    (shape :math:`n \times (2n-k)`): :math:`M \in \mathrm{COP}_{n,k} \iff L^\top M L \in
    \mathrm{COP}_{2n-k}`, and a witness :math:`w` of the lifted problem maps back to
    :math:`x = Lw`.  ``k = 0`` is positive semidefiniteness and is decided by one
    eigen-decomposition.

    Method (Kaplan 2000): :math:`A` is copositive iff no principal submatrix :math:`A_S` has an
    eigenvector :math:`v > 0` with eigenvalue :math:`\lambda < 0`.  Only index sets :math:`S`
    that are connected in the graph of negative off-diagonal entries need checking (a minimal
    non-copositive principal submatrix cannot split into blocks with a nonnegative coupling),
    and they are enumerated by increasing size.  Repeated negative eigenvalues are handled by a
    small LP deciding whether the eigenspace meets the positive orthant.  Fast exits: entrywise
    nonnegative, positive semidefinite, negative diagonal entry (witness :math:`e_i`).

    Parameters
    ----------
    M:
        Symmetric ``(n, n)`` matrix.
    k:
        Number of leading sign-constrained coordinates, ``0 <= k <= n``; default ``n``.
    tol:
        Tolerance, see Notes.
    max_size:
        Largest connected component (of the negative-entry graph of the lifted matrix, at most
        ``2n - k`` nodes) that may be enumerated; its cost grows like :math:`2^{m}`.  Fast exits
        work for any size.  At most 62.

    Returns
    -------
    CopositivityResult

    Raises
    ------
    InvalidInputError
        Bad ``M`` (non-square, non-symmetric, NaN/inf), ``k`` outside ``[0, n]``, or an
        enumeration larger than ``max_size``.

    Notes
    -----
    Let :math:`\mathrm{scale} = \max(1, \max_{ij} |M_{ij}|)` and :math:`m = 2n - k`.

    * ``copositive=False`` is always certified: the returned witness satisfies
      :math:`x^\top M x < -\mathrm{tol}\cdot\mathrm{scale}` with :math:`\lVert x\rVert_1 = 1`,
      recomputed directly from ``M``.
    * ``copositive=True`` means no such witness exists; more precisely
      :math:`x^\top M x \ge -m\cdot\mathrm{tol}\cdot\mathrm{scale}\,\lVert x\rVert_2^2` on the
      cone, up to eigen-solver rounding (about :math:`10^{-15}\,\mathrm{scale}`).

    Cost: a copositive matrix with a dense negative-entry graph needs about :math:`2^m`
    batched eigen-decompositions: ~0.03 s at ``m = 12``, ~0.6 s at 16, ~20 s at 20.
    """
    A = as_symmetric_matrix(M, "M")
    n = A.shape[0]
    k_value = check_sign_count(n, k)
    tol_value = check_positive(tol, "tol")
    size_limit = _check_max_size(max_size)
    scale = _entry_scale(A)
    if k_value == 0:
        return _psd_decision(A, tol_value, scale)
    L = orthant_lift(n, k_value)
    lifted = _copositive_standard(L.T @ A @ L, tol_value, scale, size_limit)
    if lifted.witness is None:
        return lifted
    # ||Lw||_1 <= ||w||_1 = 1 and max|L^T M L| = max|M|, so the mapped witness always verifies.
    x, value = _verified_witness(A, L @ lifted.witness, tol_value * scale)
    assert x is not None and value is not None
    return CopositivityResult(False, x, value, lifted.method, lifted.subsets_checked)


def _check_max_size(max_size: int) -> int:
    """Return ``max_size`` as an int in ``[1, 62]``."""
    size = check_dimension(max_size, "max_size")
    if size > _MAX_COMPONENT_BITS:
        raise InvalidInputError(
            f"max_size must be <= {_MAX_COMPONENT_BITS} (index sets are int64 bitmasks, and "
            f"2^{_MAX_COMPONENT_BITS} subsets could never be enumerated anyway); got {size}"
        )
    return size


def _entry_scale(A: FloatArray) -> float:
    r""":math:`\max(1, \max_{ij} |A_{ij}|)`."""
    return max(1.0, float(np.max(np.abs(A))))


def _verified_witness(
    A: FloatArray, v: FloatArray, threshold: float
) -> tuple[FloatArray, float] | tuple[None, None]:
    r"""Normalise ``v`` to :math:`\lVert v\rVert_1 = 1`; keep it iff :math:`v^\top A v <
    -\mathrm{threshold}`."""
    norm = float(np.sum(np.abs(v)))
    if norm == 0.0:
        return None, None
    x = v / norm
    value = float(x @ A @ x)
    if value < -threshold:
        return x, value
    return None, None


def _psd_decision(A: FloatArray, tol: float, scale: float) -> CopositivityResult:
    r""":math:`A \succeq 0`, with the eigenvector of :math:`\lambda_{\min}` as witness."""
    eigenvalues, vectors = np.linalg.eigh(A)
    x, value = _verified_witness(A, vectors[:, 0], tol * scale)
    return CopositivityResult(x is None, x, value, "psd", 1)


def _copositive_standard(
    A: FloatArray, tol: float, scale: float, max_size: int
) -> CopositivityResult:
    r"""Decide :math:`A \in \mathrm{COP}_m` (all coordinates sign-constrained)."""
    threshold = tol * scale
    if np.all(A >= -threshold):
        return CopositivityResult(True, None, None, "nonnegative", 0)
    diagonal = np.diag(A)
    worst = int(np.argmin(diagonal))
    if diagonal[worst] < -threshold:
        unit = np.zeros(A.shape[0])
        unit[worst] = 1.0
        return CopositivityResult(False, unit, float(diagonal[worst]), "negative-diagonal", 1)
    if np.linalg.eigvalsh(A)[0] >= -threshold:
        return CopositivityResult(True, None, None, "psd", 1)
    return _kaplan(A, threshold, max_size)


def _kaplan(A: FloatArray, threshold: float, max_size: int) -> CopositivityResult:
    """Kaplan's criterion over the connected index sets of the negative-entry graph."""
    checked = 0
    for subsets in _connected_subsets_by_size(A < 0, max_size):
        for start in range(0, subsets.shape[0], _BATCH):
            batch = subsets[start : start + _BATCH]
            checked += batch.shape[0]
            blocks = A[batch[:, :, None], batch[:, None, :]]
            found = _best_witness(blocks, batch, A, threshold)
            if found is not None:
                return CopositivityResult(False, found[0], found[1], "kaplan", checked)
    return CopositivityResult(True, None, None, "kaplan", checked)


def _best_witness(
    blocks: FloatArray, batch: IntArray, A: FloatArray, threshold: float
) -> tuple[FloatArray, float] | None:
    """Most negative verified witness among the Kaplan candidates of a batch of blocks."""
    best: tuple[FloatArray, float] | None = None
    for row, vector in _kaplan_candidates(blocks, threshold):
        full = np.zeros(A.shape[0])
        full[batch[row]] = vector
        x, value = _verified_witness(A, full, threshold)
        if x is not None and value is not None and (best is None or value < best[1]):
            best = (x, value)
    return best


def _kaplan_candidates(blocks: FloatArray, threshold: float) -> Iterator[tuple[int, FloatArray]]:
    r"""Yield ``(i, v)`` with :math:`v \ge 0` in a negative eigenspace of ``blocks[i]``.

    Simple negative eigenvalues are tested for a one-signed eigenvector in one vectorised
    pass; clusters of (numerically) repeated negative eigenvalues go to an LP.
    """
    eigenvalues, vectors = np.linalg.eigh(blocks)
    negative = eigenvalues < -threshold
    if not negative.any():
        return
    scale = max(1.0, float(np.max(np.abs(eigenvalues))))
    close = np.diff(eigenvalues, axis=1) <= _CLUSTER_TOL * scale
    clustered = np.zeros_like(negative)
    clustered[:, 1:] |= close
    clustered[:, :-1] |= close
    one_signed = (vectors.min(axis=1) >= -_SIGN_TOL) | (vectors.max(axis=1) <= _SIGN_TOL)
    for row, col in zip(*np.nonzero(negative & ~clustered & one_signed), strict=True):
        vector = vectors[row, :, col]
        yield int(row), np.maximum(vector if vector.sum() > 0 else -vector, 0.0)
    for row in np.unique(np.nonzero(negative & clustered)[0]):
        for cluster in _negative_clusters(
            eigenvalues[row], negative[row], clustered[row], close[row]
        ):
            positive = _positive_vector_in_span(vectors[row][:, cluster])
            if positive is not None:
                yield int(row), positive


def _negative_clusters(
    eigenvalues: FloatArray,
    negative: NDArray[np.bool_],
    clustered: NDArray[np.bool_],
    close: NDArray[np.bool_],
) -> list[IntArray]:
    """Runs of consecutive, mutually close negative eigenvalues (index arrays of length >= 2)."""
    clusters: list[list[int]] = []
    for j in range(eigenvalues.shape[0]):
        if not (negative[j] and clustered[j]):
            continue
        if clusters and clusters[-1][-1] == j - 1 and close[j - 1]:
            clusters[-1].append(j)
        else:
            clusters.append([j])
    return [np.array(c) for c in clusters if len(c) > 1]


def _positive_vector_in_span(U: FloatArray) -> FloatArray | None:
    r"""A :math:`v = Uy > 0` if the column span of ``U`` meets the open positive orthant.

    LP: maximise :math:`t` s.t. :math:`Uy \ge t\mathbf 1`, :math:`-1 \le y \le 1`,
    :math:`t \le 1` (HiGHS); the span meets the orthant iff :math:`t^\star > 0`.
    """
    rows, dim = U.shape
    cost = np.zeros(dim + 1)
    cost[-1] = -1.0
    result = linprog(
        cost,
        A_ub=np.hstack([-U, np.ones((rows, 1))]),
        b_ub=np.zeros(rows),
        bounds=[(-1.0, 1.0)] * dim + [(None, 1.0)],
        method="highs",
    )
    if result.status != 0 or -result.fun <= 0.0:
        return None
    return np.maximum(U @ result.x[:dim], 0.0)


def _connected_subsets_by_size(negative: NDArray[np.bool_], max_size: int) -> Iterator[IntArray]:
    r"""Yield, for sizes 2, 3, ..., all index sets connected in the graph
    :math:`\{ij : A_{ij} < 0,\ i \ne j\}`, as an ``(N, size)`` array of sorted indices."""
    adjacency = negative & ~np.eye(negative.shape[0], dtype=bool)
    _, labels = connected_components(adjacency, directed=False)
    components = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    components = [c for c in components if c.size > 1]
    largest = max((c.size for c in components), default=0)
    if largest > max_size:
        raise InvalidInputError(
            f"the exact copositivity test would enumerate the connected index sets of a "
            f"{largest}-node component of the negative-entry graph (up to 2^{largest} "
            f"eigen-decompositions), but max_size = {max_size}; raise max_size if you accept "
            f"the cost"
        )
    levels = [_singletons(c, adjacency) for c in components]
    for _ in range(2, largest + 1):
        levels = [(nodes, adj, _grow(masks, adj)) for nodes, adj, masks in levels]
        arrays = [
            nodes[_mask_indices(masks, nodes.size)] for nodes, _, masks in levels if masks.size
        ]
        if arrays:
            yield np.vstack(arrays)


def _singletons(
    nodes: IntArray, adjacency: NDArray[np.bool_]
) -> tuple[IntArray, IntArray, IntArray]:
    """Local bitmask adjacency of one component and its size-1 index sets."""
    local = adjacency[np.ix_(nodes, nodes)]
    weights = np.left_shift(np.int64(1), np.arange(nodes.size, dtype=np.int64))
    adj = (local * weights[None, :]).sum(axis=1).astype(np.int64)
    return nodes, adj, weights


def _grow(masks: IntArray, adj: IntArray) -> IntArray:
    """All connected sets with one more node than the sets in ``masks`` (bitmasks)."""
    if masks.size == 0:
        return masks
    size = adj.size
    bits = _mask_bits(masks, size)
    reach = np.bitwise_or.reduce(np.where(bits, adj[None, :], 0), axis=1) & ~masks
    grown = [masks[(reach >> j) & 1 == 1] | (np.int64(1) << j) for j in range(size)]
    return np.unique(np.concatenate(grown))


def _mask_bits(masks: IntArray, size: int) -> NDArray[np.bool_]:
    """Boolean ``(N, size)`` membership table of bitmasks."""
    return ((masks[:, None] >> np.arange(size, dtype=np.int64)[None, :]) & 1).astype(bool)


def _mask_indices(masks: IntArray, size: int) -> IntArray:
    """Sorted local indices of equally sized bitmasks, shape ``(N, popcount)``."""
    bits = _mask_bits(masks, size)
    return np.nonzero(bits)[1].reshape(masks.size, -1)


# --------------------------------------------------------------------------------------------
# Complete positivity
# --------------------------------------------------------------------------------------------


def cp_factorize(
    M: ArrayLike,
    *,
    rank: int | None = None,
    restarts: int = 20,
    tol: float = 1e-8,
    seed: int = 0,
    max_iter: int = 5000,
) -> CPFactorization:
    r"""Certify :math:`M \in \mathrm{CP}_n = \{BB^\top : B \ge 0\}` or :math:`M \notin
    \mathrm{CP}_n`.

    1. **Not-CP certificates** :math:`W \in \mathrm{COP}_n` with :math:`\langle W, M\rangle < 0`
       (tried first, cheapest first): a negative entry (:math:`W = E_{ij} + E_{ji}` or
       :math:`E_{ii}`); a negative eigenvalue (:math:`W = vv^\top`); scaled Horn matrices on
       every 5-element principal submatrix: for each of the 12 cyclic orderings :math:`\pi`,
       :math:`\langle DH_\pi D, M_S\rangle = d^\top (H_\pi \circ M_S)\, d`, so a witness
       :math:`d \ge 0` of :math:`H_\pi \circ M_S \notin \mathrm{COP}_5` (from
       :func:`is_copositive`) gives :math:`W = DH_\pi D` padded with zeros.  Every ``W`` is
       normalised to :math:`\lVert W\rVert_F = 1` and checked with :func:`is_copositive` and
       :math:`\langle W, M\rangle < -\mathrm{tol}\cdot\max(1, \lVert M\rVert_F)` before it is
       returned.
    2. **Factorization** (Groetzner & Dür 2020): from :math:`\bar B` with
       :math:`\bar B\bar B^\top = M` (eigen-decomposition; the zero padding to ``rank``
       columns is implicit, so only the first ``n`` rows of the orthogonal :math:`Q` matter)
       and a random orthogonal :math:`Q`, alternate :math:`P = \max(\bar BQ, 0)` and
       :math:`Q = UV^\top` where :math:`\bar B^\top P = U\Sigma V^\top`, until
       :math:`\min \bar BQ \ge -\mathrm{tol}\cdot\max(1, \max|\bar B|)` or ``max_iter`` steps.
       At checkpoints (0, 25, 50, 100, ... iterations and at the end)
       :math:`B = \max(\bar BQ, 0)` is polished by projected Gauss-Newton on
       :math:`BB^\top = M`, :math:`B \ge 0` (minimum-norm steps on the positive entries,
       clipping, step halving).  Seeded restarts until the relative residual is at most
       ``tol``.  On the CP examples of cones.md §2.1 the residual reached is about
       ``1e-16``-``1e-15`` within milliseconds, usually at the first checkpoint.

    Parameters
    ----------
    M:
        Symmetric ``(n, n)`` matrix.
    rank:
        Number of columns of the factor before zero columns are dropped.  Default
        :math:`\max(n, n(n+1)/2 - 1)`, an upper bound on the cp-rank of every
        :math:`M \in \mathrm{CP}_n` (Shaked-Monderer et al. 2015), so an exact factor of that
        width exists whenever :math:`M \in \mathrm{CP}_n`.  Must be at least ``rank(M)``.
    restarts:
        Number of random orthogonal starting points.
    tol:
        Accept ``B`` iff :math:`\lVert BB^\top - M\rVert_F / \max(1, \lVert M\rVert_F) \le
        \mathrm{tol}`.  The polish usually reaches ``1e-15``, so the default ``1e-8`` leaves
        a wide margin; the same ``tol`` sets the margin of the not-CP certificates.
    seed:
        Seed of the random orthogonal starts; the result is deterministic for a given seed.
    max_iter:
        Alternating-projection iterations per restart.

    Returns
    -------
    CPFactorization

    Raises
    ------
    InvalidInputError
        Bad ``M`` (non-square, non-symmetric, NaN/inf) or parameters.

    Notes
    -----
    The Horn search costs :math:`12\binom{n}{5}` batched 5x5 eigen-decompositions; proper
    principal submatrices of :math:`H_\pi \circ M_S` are copositive when :math:`M` is doubly
    nonnegative (:math:`\mathrm{DNN}_4 = \mathrm{CP}_4`), so only the full 5-set needs the
    Kaplan test and :func:`is_copositive` runs only on candidates.  ``"unknown"`` is returned
    for DNN matrices that are not refuted by a Horn certificate and not factored; that costs
    the full ``restarts * max_iter`` budget (seconds for ``n <= 10``).  Hard instances near
    the boundary of CP with a high cp-rank (e.g. the Bomze-Schachinger-Ullrich matrix
    :math:`\tilde M_9`) can end as ``"unknown"``.
    """
    A = as_symmetric_matrix(M, "M")
    tol_value = check_positive(tol, "tol")
    n = A.shape[0]
    width = _default_rank(n) if rank is None else check_dimension(rank, "rank")
    restarts = check_dimension(restarts, "restarts")
    max_iter = check_dimension(max_iter, "max_iter")
    seed = check_level(seed, "seed")
    scale = max(1.0, float(np.linalg.norm(A)))
    certificate = _not_cp_certificate(A, tol_value * scale)
    if certificate is not None:
        W, reason = certificate
        message = f"M is not CP: {reason}; <W, M> = {float(np.sum(W * A)):.3g} < 0"
        return CPFactorization("not_cp", None, math.inf, W, message)
    B, residual = _factorize(A, width, restarts, seed, max_iter, tol_value)
    if residual <= tol_value:
        message = f"M = B B^T with B >= 0 of shape {B.shape}, relative residual {residual:.2e}"
        return CPFactorization("factored", B, residual, None, message)
    return CPFactorization(
        "unknown", None, residual, None, _unknown_message(A, width, restarts, residual, tol_value)
    )


def _unknown_message(A: FloatArray, width: int, restarts: int, residual: float, tol: float) -> str:
    """Why neither a factor nor a certificate was found, and what to try."""
    message = (
        f"M is doubly nonnegative (to tolerance) and no Horn certificate refutes it, but "
        f"{restarts} restarts of alternating projections with rank {width} reached only "
        f"relative residual {residual:.2e} > tol = {tol:g}"
    )
    matrix_rank = int(np.linalg.matrix_rank(A, tol=tol * max(1.0, float(np.linalg.norm(A)))))
    if width < matrix_rank:
        return f"{message}; rank = {width} is below rank(M) = {matrix_rank}, so no factor fits"
    return f"{message}; try a larger rank, more restarts or another seed"


def _default_rank(n: int) -> int:
    r""":math:`\max(n, n(n+1)/2 - 1)`, a cp-rank bound for :math:`\mathrm{CP}_n`."""
    return max(n, n * (n + 1) // 2 - 1)


def _relative_residual(B: FloatArray, A: FloatArray) -> float:
    r""":math:`\lVert BB^\top - A\rVert_F / \max(1, \lVert A\rVert_F)`."""
    return float(np.linalg.norm(B @ B.T - A)) / max(1.0, float(np.linalg.norm(A)))


# ---- not-CP certificates -------------------------------------------------------------------


def _not_cp_certificate(A: FloatArray, margin: float) -> tuple[FloatArray, str] | None:
    r"""A verified copositive :math:`W` (unit Frobenius norm) with :math:`\langle W, A\rangle <
    -\mathrm{margin}`, and how it was found; ``None`` if none of the searches finds one."""
    for search in (_negative_entry_witness, _negative_eigenvalue_witness, _horn_witness):
        found = search(A, margin)
        if found is not None and _is_valid_certificate(found[0], A, margin):
            return found
    return None


def _is_valid_certificate(W: FloatArray, A: FloatArray, margin: float) -> bool:
    r""":math:`W \in \mathrm{COP}` (by :func:`is_copositive`) and :math:`\langle W, A\rangle <
    -\mathrm{margin}`."""
    return float(np.sum(W * A)) < -margin and is_copositive(W).copositive


def _negative_entry_witness(A: FloatArray, margin: float) -> tuple[FloatArray, str] | None:
    r""":math:`W = (E_{ij} + E_{ji})/\sqrt2` (or :math:`E_{ii}`) at the most negative entry."""
    i, j = np.unravel_index(int(np.argmin(A)), A.shape)
    W = np.zeros_like(A)
    W[i, j] = W[j, i] = 1.0
    W /= np.linalg.norm(W)
    if float(np.sum(W * A)) >= -margin:
        return None
    return W, f"negative entry M[{i}, {j}] = {A[i, j]:.3g} (W = E_ij + E_ji, normalised)"


def _negative_eigenvalue_witness(A: FloatArray, margin: float) -> tuple[FloatArray, str] | None:
    r""":math:`W = vv^\top` for the unit eigenvector of :math:`\lambda_{\min}(A) < 0`."""
    eigenvalues, vectors = np.linalg.eigh(A)
    if eigenvalues[0] >= -margin:
        return None
    v = vectors[:, 0]
    return np.outer(v, v), f"not PSD, lambda_min = {eigenvalues[0]:.3g} (W = v v^T)"


def _horn_witness(A: FloatArray, margin: float) -> tuple[FloatArray, str] | None:
    r"""A scaled, permuted Horn matrix :math:`W = DH_\pi D` on a 5-element principal
    submatrix with :math:`\langle W, A\rangle < -\mathrm{margin}` (see :func:`cp_factorize`)."""
    horns = _permuted_horns()
    for subset, ordering, product in _horn_candidates(A, horns):
        result = is_copositive(product)
        if result.witness is None:
            continue
        d = result.witness
        W = np.zeros_like(A)
        W[np.ix_(subset, subset)] = d[:, None] * horns[ordering] * d[None, :]
        W /= np.linalg.norm(W)
        if float(np.sum(W * A)) < -margin:
            indices = ", ".join(str(i) for i in subset)
            return W, f"scaled Horn matrix on indices ({indices}), d = {np.round(d, 4)}"
    return None


def _horn_candidates(
    A: FloatArray, horns: FloatArray
) -> Iterator[tuple[IntArray, int, FloatArray]]:
    r"""Yield ``(S, pi, H_pi o A_S)`` whose full 5-set passes Kaplan's test, i.e. that may be
    non-copositive (for doubly nonnegative ``A`` no proper principal submatrix can fail)."""
    for subsets in _five_subsets(A.shape[0]):
        blocks = A[subsets[:, :, None], subsets[:, None, :]]
        products = (blocks[:, None] * horns[None]).reshape(-1, 5, 5)
        for row in sorted({row for row, _ in _kaplan_candidates(products, 0.0)}):
            subset, ordering = divmod(row, horns.shape[0])
            yield subsets[subset], ordering, products[row]


def _permuted_horns() -> FloatArray:
    r"""The 12 matrices :math:`H_\pi`, one per cyclic ordering :math:`\pi` of 5 indices up to
    rotation and reflection: :math:`(H_\pi)_{\pi_a \pi_b} = H_{ab}`."""
    orderings = [(0, *rest) for rest in permutations(range(1, 5)) if rest[0] < rest[-1]]
    horns = np.empty((len(orderings), 5, 5))
    for index, ordering in enumerate(orderings):
        horns[index][np.ix_(ordering, ordering)] = HORN
    return horns


def _five_subsets(n: int) -> Iterator[IntArray]:
    """All 5-element index sets of ``range(n)`` in lexicographic order, in batches (none for
    ``n < 5``)."""
    batch: list[tuple[int, ...]] = []
    for subset in combinations(range(n), 5):
        batch.append(subset)
        if len(batch) == _BATCH:
            yield np.array(batch)
            batch = []
    if batch:
        yield np.array(batch)


# ---- factorization -------------------------------------------------------------------------


def _factorize(
    A: FloatArray, width: int, restarts: int, seed: int, max_iter: int, tol: float
) -> tuple[FloatArray, float]:
    """Best nonnegative factor over seeded restarts (stops at the first within ``tol``)."""
    B0 = _gram_factor(A, min(A.shape[0], width))
    rng = np.random.default_rng(seed)
    best_B, best_residual = np.maximum(B0, 0.0), math.inf
    for _ in range(restarts):
        Q = _random_orthonormal_rows(rng, B0.shape[1], width)
        B, residual = _factorize_from(A, B0, Q, max_iter, tol)
        if residual < best_residual:
            best_B, best_residual = B, residual
        if best_residual <= tol:
            break
    return _clean_columns(best_B), best_residual


def _factorize_from(
    A: FloatArray, B0: FloatArray, Q: FloatArray, max_iter: int, tol: float
) -> tuple[FloatArray, float]:
    """One restart: alternating projections from ``Q``, polished at checkpoints 0, 25, 50,
    100, ... iterations and when the iteration has converged (or at ``max_iter``)."""
    floor = -tol * max(1.0, float(np.max(np.abs(B0))))
    done, budget = 0, 0
    best_B, best_residual = B0, math.inf
    while True:
        Q, converged = _alternating_projections(B0, Q, budget - done, floor)
        done = budget
        B = _polish(np.maximum(B0 @ Q, 0.0), A)
        residual = _relative_residual(B, A)
        if residual < best_residual:
            best_B, best_residual = B, residual
        if best_residual <= tol or converged or done >= max_iter:
            return best_B, best_residual
        budget = min(max_iter, max(25, 2 * budget))


def _gram_factor(A: FloatArray, columns: int) -> FloatArray:
    r""":math:`\bar B = U\sqrt{\max(\Lambda, 0)}` from the ``columns`` largest eigenpairs,
    shape ``(n, columns)``; :math:`\bar B\bar B^\top = A` if ``columns >= rank(A)``."""
    eigenvalues, vectors = np.linalg.eigh(A)
    order = np.argsort(eigenvalues)[::-1][:columns]
    return vectors[:, order] * np.sqrt(np.maximum(eigenvalues[order], 0.0))


def _random_orthonormal_rows(rng: np.random.Generator, rows: int, width: int) -> FloatArray:
    r"""Leading ``rows`` rows of a Haar-random ``width x width`` orthogonal matrix.

    Only these rows matter: :math:`[\bar B, 0]\,Q = \bar B\,Q_{1:rows}`.
    """
    Q, R = np.linalg.qr(rng.standard_normal((width, rows)))
    return (Q * np.where(np.diag(R) < 0, -1.0, 1.0)[None, :]).T


def _alternating_projections(
    B0: FloatArray, Q: FloatArray, iterations: int, floor: float
) -> tuple[FloatArray, bool]:
    r"""Groetzner-Dür on the Stiefel manifold: :math:`P = \max(\bar BQ, 0)`,
    :math:`Q = UV^\top` with the thin SVD :math:`\bar B^\top P = U\Sigma V^\top` (the nearest
    :math:`Q` with orthonormal rows).  Returns ``Q`` and whether
    :math:`\min \bar BQ \ge \mathrm{floor}` was reached within ``iterations`` steps."""
    for _ in range(iterations):
        X = B0 @ Q
        if X.min() >= floor:
            return Q, True
        U, _, Vt = np.linalg.svd(B0.T @ np.maximum(X, 0.0), full_matrices=False)
        Q = U @ Vt
    return Q, bool((B0 @ Q).min() >= floor)


def _polish(B: FloatArray, A: FloatArray, iterations: int = 100) -> FloatArray:
    r"""Projected Gauss-Newton for :math:`BB^\top = A`, :math:`B \ge 0`.

    Each step solves the linearised equations (upper triangle) for the positive entries of
    ``B`` in the minimum-norm least-squares sense, clips at zero (a clipped entry stays zero)
    and halves the step until the residual decreases.
    """
    rows, cols = np.triu_indices(A.shape[0])
    residual = _triangle_residual(B, A, rows, cols)
    target = 1e-15 * max(1.0, float(np.linalg.norm(A)))
    for _ in range(iterations):
        norm = float(np.linalg.norm(residual))
        if norm <= target:
            break
        free = B > 0
        J = _triangle_jacobian(B, rows, cols)[:, free.ravel()]
        step = np.linalg.lstsq(J, -residual, rcond=None)[0]
        for length in 0.5 ** np.arange(12):
            trial = B.copy()
            trial[free] = np.maximum(B[free] + length * step, 0.0)
            trial_residual = _triangle_residual(trial, A, rows, cols)
            if np.linalg.norm(trial_residual) < norm:
                break
        else:
            break
        B, residual = trial, trial_residual
    return B


def _triangle_residual(B: FloatArray, A: FloatArray, rows: IntArray, cols: IntArray) -> FloatArray:
    r"""Upper triangle (with diagonal) of :math:`BB^\top - A`."""
    return (B @ B.T - A)[rows, cols]


def _triangle_jacobian(B: FloatArray, rows: IntArray, cols: IntArray) -> FloatArray:
    r"""Jacobian of :func:`_triangle_residual` w.r.t. ``B.ravel()``:
    :math:`\partial (BB^\top)_{ij} / \partial B_{pq} = \delta_{ip} B_{jq} + \delta_{jp} B_{iq}`."""
    n, width = B.shape
    pairs = np.arange(rows.size)
    J = np.zeros((rows.size, n, width))
    J[pairs, rows, :] += B[cols]
    J[pairs, cols, :] += B[rows]
    return J.reshape(rows.size, n * width)


def _clean_columns(B: FloatArray) -> FloatArray:
    """Drop all-zero columns, order the rest by decreasing norm."""
    norms = np.linalg.norm(B, axis=0)
    keep = np.flatnonzero(norms > 0.0)
    return B[:, keep[np.argsort(-norms[keep], kind="stable")]]
