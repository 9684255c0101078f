r"""Hyperplane arrangements (activation patterns) of a data matrix.

The activation patterns of :math:`X \in \mathbb R^{n\times d}` are the distinct 0/1 vectors

.. math::

    \mathcal D(X) = \big\{\mathbb 1[Xh \ge 0] :\ h \in \mathbb R^d \text{ generic}\big\},
    \qquad D_i = \operatorname{diag}(\text{pattern } i),

one per open cell of the central arrangement :math:`\{h : x_j^\top h = 0\}` of the nonzero rows.

Conventions (used by every function here)
------------------------------------------
* **Generic cells only.**  A pattern is kept when some :math:`h` realises it with
  :math:`x_j^\top h \ne 0` for every nonzero row :math:`x_j`.  Patterns seen only at boundary
  points :math:`h` (where some :math:`x_j^\top h = 0` and the ``>=`` puts a 1) are *not* listed:
  their cone :math:`\{u : (2D-I)Xu \ge 0\}` is a face of the closed cone of an adjacent open cell,
  on which both patterns give the same :math:`DXu`, so the convex programs of
  :mod:`copos.relaxations.convex` have the same value with or without them.
* **Zero rows** (``||x_j|| <= tol * max_k ||x_k||``) always get a 1, since
  :math:`x_j^\top h = 0 \ge 0`.
* **Parallel rows** (equal or opposite directions) define one hyperplane; they are handled by
  grouping, so duplicated samples do not inflate the count.
* Computations happen in the whitened row space of ``X`` (rank ``r`` from the SVD), where
  :math:`Xh = U_r g` with :math:`h = V_r \Sigma_r^{-1} g`.  Every pattern carries a *witness*
  :math:`h` with ``1[X h >= 0] == pattern`` and no nonzero row on its boundary.

For ``L`` distinct hyperplanes in general position in :math:`\mathbb R^r` the number of patterns is
:func:`expected_count` ``(L, r)`` :math:`= 2\sum_{k<r}\binom{L-1}{k}`, and it is an upper bound
otherwise.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linprog
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from copos._validation import as_finite_array, check_dimension, check_positive, power_of_two_scale
from copos.errors import InvalidInputError, SolverError

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: Refuse exact enumeration when the general-position count exceeds this.
DEFAULT_MAX_PATTERNS = 100_000
#: Relative singular-value threshold of the numerical rank of ``X``: singular values
#: ``<= RANK_TOL * s_max`` are dropped.  One threshold for :attr:`TrainingProblem.rank
#: <copos.nets.problem.TrainingProblem.rank>`, the arrangements and the dual norm.
RANK_TOL = 1e-10
#: Default relative tolerance for the rank, zero rows and parallel rows.
DEFAULT_TOL = RANK_TOL
#: Default smallest slack ``min_j s_j a_j^T g`` (unit normals, ``|g|_inf <= 1``) of a cell.
DEFAULT_MARGIN = 1e-9

#: The enumeration finds cells in *whitened* coordinates, where a cell can be up to
#: :math:`s_1/s_r` times thinner than on the unit sphere of ``u``; thin cells are then lost to
#: the margin and the LP's tolerance (measured: 12 random rows in R^3 with one row scaled by
#: 1e6, condition 5.8e5, lost 14 of ~800 patterns over six draws; scaled by 1e8, about half).
#: Above this condition number :func:`arrangements_of` does not claim completeness
#: (``complete=False``): a program over the patterns is then a restriction, never "exact".
#: Standardised data are far below it (spiral 5, iris 12, breast cancer 343).
MAX_ENUMERATION_CONDITION = 1e4


@dataclass(frozen=True, eq=False)
class Arrangements:
    r"""A set of activation patterns :math:`\{D_i\}_{i=1}^P` of a data matrix.

    Attributes
    ----------
    patterns:
        Boolean array of shape ``(P, n)``; row ``i`` is the diagonal of :math:`D_i`.
    complete:
        True when every generic pattern of ``X`` is listed (exact enumeration).
    method:
        How the patterns were found: ``"trivial"``, ``"angles"``, ``"incremental-lp"`` or
        ``"sampled"``.
    rank:
        Numerical rank of ``X``.
    witnesses:
        Array of shape ``(P, d)``: row ``i`` is an ``h`` with ``1[X h >= 0] == patterns[i]``
        (on every row not treated as zero) and ``x_j^T h != 0`` on every nonzero row.
    """

    patterns: BoolArray
    complete: bool
    method: str
    rank: int
    witnesses: FloatArray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        patterns = np.array(self.patterns, dtype=bool)
        if patterns.ndim != 2:
            raise InvalidInputError(f"patterns must have shape (P, n); got {patterns.shape}")
        patterns.setflags(write=False)
        object.__setattr__(self, "patterns", patterns)
        if self.witnesses is not None:
            witnesses = np.array(self.witnesses, dtype=np.float64)
            if witnesses.ndim != 2 or witnesses.shape[0] != patterns.shape[0]:
                raise InvalidInputError(
                    f"witnesses must have shape (P, d) with P = {patterns.shape[0]}; "
                    f"got {witnesses.shape}"
                )
            witnesses.setflags(write=False)
            object.__setattr__(self, "witnesses", witnesses)

    def __len__(self) -> int:
        return int(self.patterns.shape[0])

    @property
    def n(self) -> int:
        """Number of samples (length of each pattern)."""
        return int(self.patterns.shape[1])

    @property
    def masks(self) -> FloatArray:
        """All diagonals as a float ``(P, n)`` 0/1 array."""
        return self.patterns.astype(np.float64)

    def D(self, i: int) -> FloatArray:
        r"""Diagonal of :math:`D_i = \operatorname{diag}(\mathbb 1[Xh \ge 0])` as a 0/1 vector."""
        return self.patterns[i].astype(np.float64)

    def sign_matrix(self, i: int) -> FloatArray:
        r"""Diagonal of :math:`2D_i - I_n` as a :math:`\pm1` vector (cone: ``(2D_i-I)Xu >= 0``)."""
        return 2.0 * self.D(i) - 1.0


def numerical_rank(singular: FloatArray, tol: float = RANK_TOL) -> int:
    r"""Number of singular values :math:`s_k > \mathrm{tol}\cdot s_1` (0 when :math:`s_1 = 0`)."""
    if singular.size == 0 or singular[0] == 0:
        return 0
    return int(np.sum(singular > tol * singular[0]))


@dataclass(frozen=True, eq=False)
class ScaledSVD:
    r"""The thin SVD of ``X`` at unit scale: :math:`X/s = U\operatorname{diag}(\sigma)V^\top`.

    :math:`s = 2^k` is :func:`~copos._validation.power_of_two_scale` ``(X)``, so that
    :math:`\max|X/s| \in [1, 2)` and dividing is exact.  Every array is read-only: one SVD can
    serve every consumer (:class:`~copos.nets.problem.TrainingProblem` caches it).

    Attributes
    ----------
    scale:
        :math:`s`.
    X:
        :math:`X/s`, shape ``(n, d)``.
    U, singular, Vt:
        ``numpy.linalg.svd(X / s, full_matrices=False)``.
    """

    scale: float
    X: FloatArray
    U: FloatArray
    singular: FloatArray
    Vt: FloatArray

    @classmethod
    def of(cls, X: FloatArray, scale: float | None = None) -> ScaledSVD:
        """The SVD of ``X / scale`` (default :func:`power_of_two_scale` ``(X)``); ``X`` must be
        a finite float64 matrix (checked by the caller)."""
        scale = power_of_two_scale(X) if scale is None else scale
        unit = X / scale
        U, singular, Vt = np.linalg.svd(unit, full_matrices=False)
        for array in (unit, U, singular, Vt):
            array.setflags(write=False)
        return cls(scale=scale, X=unit, U=U, singular=singular, Vt=Vt)

    def rank(self, tol: float = RANK_TOL) -> int:
        """Numerical rank (:func:`numerical_rank`)."""
        return numerical_rank(self.singular, tol)

    def row_space_map(self, rank: int) -> FloatArray:
        r""":math:`H = V_r\Sigma_r^{-1}` of shape ``(d, r)``: ``(X/s) @ H = U_r`` (whitened)."""
        return self.Vt[:rank].T / self.singular[:rank]


def expected_count(n: int, r: int) -> int:
    r"""Number of cells of ``n`` central hyperplanes in general position in :math:`\mathbb R^r`.

    .. math::

        P(n, r) = 2\sum_{k=0}^{r-1}\binom{n-1}{k}\quad(n, r \ge 1),
        \qquad P(n, r) = 1 \text{ if } n = 0 \text{ or } r = 0.

    It is also the largest possible number of cells of any ``n`` central hyperplanes in
    :math:`\mathbb R^r`.
    """
    n = check_dimension(n, "n", minimum=0)
    r = check_dimension(r, "r", minimum=0)
    if n == 0 or r == 0:
        return 1
    return 2 * sum(math.comb(n - 1, k) for k in range(r))


def is_in_general_position(
    X: ArrayLike, *, tol: float = DEFAULT_TOL, max_subsets: int = 200_000
) -> bool:
    r"""Whether the distinct nonzero row directions of ``X`` are in general position.

    True iff every :math:`\min(L, r)` of the ``L`` hyperplane normals (in the row space of ``X``)
    are linearly independent, :math:`r = \operatorname{rank} X`; then
    :func:`enumerate_arrangements` finds exactly :func:`expected_count` ``(L, r)`` patterns.
    Parallel rows count as one normal.
    Raises :class:`InvalidInputError` when more than ``max_subsets`` subsets would be checked.
    """
    X_arr = as_finite_array(X, "X", ndim=2)
    normals, _, _, rank = hyperplanes(ScaledSVD.of(X_arr, scale=1.0), tol)
    size = min(normals.shape[0], rank)
    if size == 0:
        return True
    if math.comb(normals.shape[0], size) > max_subsets:
        raise InvalidInputError(
            f"checking general position needs C({normals.shape[0]}, {size}) subsets "
            f"> max_subsets = {max_subsets}"
        )
    return all(
        np.linalg.matrix_rank(normals[list(subset)], tol=tol) == size
        for subset in itertools.combinations(range(normals.shape[0]), size)
    )


def enumerate_arrangements(
    X: ArrayLike,
    *,
    tol: float = DEFAULT_TOL,
    margin: float = DEFAULT_MARGIN,
    max_patterns: int = DEFAULT_MAX_PATTERNS,
) -> Arrangements:
    r"""All generic activation patterns :math:`\{\mathbb 1[Xh\ge0] : h\in\mathbb R^d\}` of ``X``.

    Exact: rank 0 and 1 are trivial, rank 2 sorts the angles of the lines in the plane, and
    rank :math:`\ge 3` builds the arrangement incrementally — each new hyperplane splits every
    existing cell whose both sides are nonempty, tested with one LP (HiGHS) per cell that the
    cell's witness does not already settle, :math:`O(P L)` LPs in all.

    Parameters
    ----------
    X:
        Data matrix ``(n, d)``.
    tol:
        Relative tolerance for the rank (singular values ``<= tol * s_max`` are dropped), for
        zero rows and for merging parallel rows (unit normals within ``tol``).
    margin:
        A cell counts when some ``g`` with ``|g|_inf <= 1`` has slack ``>= margin`` on all its
        (unit-normalised, whitened) hyperplanes; thinner cells are treated as degenerate.
    max_patterns:
        Refuse (``InvalidInputError``) when the general-position bound
        :func:`expected_count` ``(L, r)`` exceeds this; use :func:`sample_arrangements` instead.

    Returns
    -------
    Arrangements
        ``complete=True``, patterns sorted lexicographically, with witnesses.
    """
    # Patterns are scale-invariant: work on X / 2^k (ScaledSVD), whose norms cannot overflow.
    svd = ScaledSVD.of(as_finite_array(X, "X", ndim=2))
    return enumerate_from_svd(svd, tol=tol, margin=margin, max_patterns=max_patterns)


def enumerate_from_svd(
    svd: ScaledSVD,
    *,
    tol: float = DEFAULT_TOL,
    margin: float = DEFAULT_MARGIN,
    max_patterns: int = DEFAULT_MAX_PATTERNS,
) -> Arrangements:
    """:func:`enumerate_arrangements` of ``svd.X`` from its SVD (no check of ``X``, no SVD)."""
    check_positive(margin, "margin")
    planes = hyperplanes(svd, tol)
    check_pattern_bound(planes, svd.X.shape[0], max_patterns)
    return arrangements_of(svd, planes, margin)


class Hyperplanes(NamedTuple):
    """The distinct hyperplanes of ``X`` in whitened coordinates (see :func:`hyperplanes`)."""

    normals: FloatArray
    groups: IntArray
    orientation: FloatArray
    rank: int

    @property
    def pattern_bound(self) -> int:
        """:func:`expected_count` ``(L, r)``: at most this many patterns."""
        return expected_count(self.normals.shape[0], self.rank)


def check_pattern_bound(planes: Hyperplanes, n: int, max_patterns: int) -> None:
    """Refuse (``InvalidInputError``) when ``planes`` may have more than ``max_patterns`` cells."""
    bound = planes.pattern_bound
    if bound > check_dimension(max_patterns, "max_patterns"):
        raise InvalidInputError(
            f"X (n={n}, rank {planes.rank}, {planes.normals.shape[0]} distinct hyperplanes) may "
            f"have up to {bound} activation patterns > max_patterns = {max_patterns}; raise "
            f"max_patterns or use sample_arrangements(X, num_samples) for an incomplete set"
        )


def arrangements_of(svd: ScaledSVD, planes: Hyperplanes, margin: float) -> Arrangements:
    """The complete :class:`Arrangements` of the hyperplanes ``planes`` of ``svd.X``
    (``complete=False`` above :data:`MAX_ENUMERATION_CONDITION`).

    The exact-enumeration step of :func:`enumerate_arrangements`, for a caller that holds the
    SVD and the hyperplanes already (:meth:`TrainingProblem.arrangements
    <copos.nets.problem.TrainingProblem.arrangements>`); ``margin`` must be checked.
    """
    signs, cell_points, method = _cells(planes.normals, planes.rank, margin)
    patterns = _patterns_from_signs(signs, planes.groups, planes.orientation)
    witnesses = cell_points @ svd.row_space_map(planes.rank).T
    trusted = enumeration_condition(svd, planes.rank) <= MAX_ENUMERATION_CONDITION
    if not trusted:
        method = f"{method} (ill-conditioned X: thin cells may be missing)"
    return _canonical(patterns, witnesses, complete=trusted, method=method, rank=planes.rank)


def enumeration_condition(svd: ScaledSVD, rank: int) -> float:
    """:math:`s_1/s_r` of ``X`` over its numerical rank ``r`` (1 when ``r = 0``): how much
    thinner a cell can look to the enumeration than it is on the sphere."""
    if rank == 0:
        return 1.0
    return float(svd.singular[0] / svd.singular[rank - 1])


def sample_arrangements(
    X: ArrayLike,
    num_samples: int,
    *,
    seed: int | np.random.Generator | None = None,
    tol: float = DEFAULT_TOL,
) -> Arrangements:
    r"""Distinct patterns :math:`\mathbb 1[Xh_j\ge0]` of Gaussian :math:`h_j\sim\mathcal N(0,I_d)`.

    ``num_samples`` directions are drawn; duplicates are removed (first witness kept) and zero
    rows get a 1, as in :func:`enumerate_arrangements`.  The result has ``complete=False`` even
    if, by chance, every cell was hit: small cells are easily missed.
    """
    X_arr = as_finite_array(X, "X", ndim=2)
    X_arr = X_arr / power_of_two_scale(X_arr)  # patterns are scale-invariant
    count = check_dimension(num_samples, "num_samples")
    rng = np.random.default_rng(seed)
    H = rng.standard_normal((count, X_arr.shape[1]))
    patterns = (H @ X_arr.T) >= 0
    patterns[:, _zero_rows(X_arr, tol)] = True
    rank = numerical_rank(np.linalg.svd(X_arr, compute_uv=False), tol)
    return _canonical(patterns, H, complete=False, method="sampled", rank=rank)


# --- geometry helpers ---------------------------------------------------------------------------


def _zero_rows(X: FloatArray, tol: float) -> BoolArray:
    norms = np.linalg.norm(X, axis=1)
    scale = float(norms.max(initial=0.0))
    return norms <= tol * scale


def hyperplanes(svd: ScaledSVD, tol: float = DEFAULT_TOL) -> Hyperplanes:
    """Distinct unit normals ``(L, r)`` of the rows of ``svd.X`` in whitened coordinates, the
    group of each row (-1 for a zero row), each row's orientation (+1/-1) relative to its
    group's normal, and the rank (singular values ``> tol * s_max``)."""
    check_positive(tol, "tol")
    X = svd.X
    rank = svd.rank(tol)
    coords = X @ svd.row_space_map(rank)
    nonzero = ~_zero_rows(X, tol)
    directions = coords[nonzero] / np.linalg.norm(coords[nonzero], axis=1, keepdims=True)
    row_groups, row_orientation = _group_directions(directions, tol)
    groups = np.full(X.shape[0], -1, dtype=np.int64)
    orientation = np.ones(X.shape[0])
    groups[nonzero], orientation[nonzero] = row_groups, row_orientation
    _, first = np.unique(row_groups, return_index=True)
    normals = directions[first] * row_orientation[first, None]
    return Hyperplanes(normals.reshape(first.size, rank), groups, orientation, rank)


def _group_directions(directions: FloatArray, tol: float) -> tuple[IntArray, FloatArray]:
    """Group unit vectors that are parallel up to sign (chains of distance ``<= tol``).

    The connected components of the ``tol``-neighbourhood graph on ``directions`` and their
    negatives come in pairs ``(+, -)``; a row's group is its pair, and its orientation is ``+1``
    when its own component is the pair's smaller label.
    """
    count = directions.shape[0]
    if count == 0:
        return np.zeros(0, dtype=np.int64), np.ones(0)
    points = np.vstack([directions, -directions])
    pairs = cKDTree(points).query_pairs(tol, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(2 * count,) * 2)
    _, labels = connected_components(graph, directed=False)
    plus, minus = labels[:count], labels[count:]
    _, groups = np.unique(np.minimum(plus, minus), return_inverse=True)
    return groups.astype(np.int64), np.where(plus <= minus, 1.0, -1.0)


def _cells(normals: FloatArray, rank: int, margin: float) -> tuple[IntArray, FloatArray, str]:
    """Sign vectors ``(P, L)`` and interior points ``(P, r)`` of all cells, and the method used."""
    if normals.shape[0] == 0:
        return np.ones((1, 0), dtype=np.int64), np.zeros((1, rank)), "trivial"
    if rank == 1:
        return np.array([[1], [-1]]), np.array([[1.0], [-1.0]]) * normals[:1], "trivial"
    if rank == 2:
        return (*_cells_by_angles(normals), "angles")
    return (*_cells_incremental(normals, margin), "incremental-lp")


def _patterns_from_signs(signs: IntArray, groups: IntArray, orientation: FloatArray) -> BoolArray:
    """Row ``j`` is active in a cell iff its oriented hyperplane sign is positive (zero rows: 1)."""
    patterns = np.ones((signs.shape[0], groups.size), dtype=bool)
    nonzero = groups >= 0
    patterns[:, nonzero] = signs[:, groups[nonzero]] * orientation[nonzero] > 0
    return patterns


def _canonical(
    patterns: BoolArray, witnesses: FloatArray, *, complete: bool, method: str, rank: int
) -> Arrangements:
    """Remove duplicate patterns (keeping the first witness) and sort them lexicographically."""
    unique, first = np.unique(patterns, axis=0, return_index=True)
    return Arrangements(
        patterns=unique, complete=complete, method=method, rank=rank, witnesses=witnesses[first]
    )


def _cells_by_angles(normals: FloatArray) -> tuple[IntArray, FloatArray]:
    """Cells of ``L`` distinct lines through the origin of the plane: ``2L`` arcs of the circle.

    Each line contributes the two boundary angles ``theta`` and ``theta + pi``; the midpoints of
    consecutive sorted boundary angles are interior points of the cells.
    """
    line_angles = np.mod(np.arctan2(normals[:, 1], normals[:, 0]) + np.pi / 2, np.pi)
    boundaries = np.sort(np.concatenate([line_angles, line_angles + np.pi]))
    following = np.append(boundaries[1:], boundaries[0] + 2 * np.pi)
    middles = (boundaries + following) / 2
    points = np.column_stack([np.cos(middles), np.sin(middles)])
    return _signs_at(normals, points), points


def _signs_at(normals: FloatArray, points: FloatArray) -> IntArray:
    signs = np.sign(points @ normals.T).astype(np.int64)
    if np.any(signs == 0):
        raise SolverError("a cell witness lies on a hyperplane; the rows are nearly parallel")
    return signs


def _cells_incremental(normals: FloatArray, margin: float) -> tuple[IntArray, FloatArray]:
    """Cells of central hyperplanes in R^r, adding one hyperplane at a time.

    Invariant: every cell has a witness ``g`` with slack ``>= margin`` on all processed
    hyperplanes, so a side of the new hyperplane on which the witness already has slack ``>=
    margin`` needs no LP.
    """
    cells: list[tuple[IntArray, FloatArray]] = [
        (np.array([1]), normals[0].copy()),
        (np.array([-1]), -normals[0]),
    ]
    for k in range(1, normals.shape[0]):
        cells = [child for cell in cells for child in _split(normals[: k + 1], cell, margin)]
    signs = np.array([cell_signs for cell_signs, _ in cells])
    points = np.array([point for _, point in cells])
    return signs, points


def _split(
    normals: FloatArray, cell: tuple[IntArray, FloatArray], margin: float
) -> list[tuple[IntArray, FloatArray]]:
    """The nonempty parts of ``cell`` on either side of the last hyperplane in ``normals``."""
    cell_signs, point = cell
    slack = float(normals[-1] @ point)
    children = []
    for side in (1, -1):
        signs = np.append(cell_signs, side)
        witness = point if side * slack >= margin else _interior_point(normals, signs, margin)
        if witness is not None:
            children.append((signs, witness))
    return children


def _interior_point(normals: FloatArray, signs: IntArray, margin: float) -> FloatArray | None:
    r"""A ``g`` with :math:`\min_j s_j a_j^\top g \ge` ``margin`` and ``|g|_inf <= 1``, or None.

    LP: maximise ``t`` s.t. ``s_j a_j^T g >= t``, ``-1 <= g <= 1``, ``t <= 1`` (always feasible
    and bounded, with ``g = 0``, ``t = 0``); the slack is recomputed from ``g``.
    """
    count, dim = normals.shape
    objective = np.zeros(dim + 1)
    objective[-1] = -1.0
    constraints = np.hstack([-signs[:, None] * normals, np.ones((count, 1))])
    result: Any = linprog(
        objective,
        A_ub=constraints,
        b_ub=np.zeros(count),
        bounds=[(-1.0, 1.0)] * dim + [(None, 1.0)],
        method="highs",
    )
    if result.status != 0:
        raise SolverError(f"HiGHS failed on a cell-feasibility LP: {result.message}")
    point = np.asarray(result.x[:dim], dtype=np.float64)
    return point if float(np.min(signs * (normals @ point))) >= margin else None
