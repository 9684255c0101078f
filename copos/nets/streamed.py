r"""Streamed enumeration of a central arrangement through its vertex rays.

The cells of the central arrangement :math:`\{g : a_k^\top g = 0\}_{k=1}^L` of ``L`` distinct unit
normals spanning :math:`\mathbb R^r` (whitened coordinates, :func:`~copos.nets.arrangements.
hyperplanes`) are reached from its *vertex rays*, never all held at once:

.. math::

    \mathcal R = \{\pm v_S :\ S \subset [L],\ |S| = r - 1,\ \operatorname{rank} A_S = r - 1,\
    A_Sv_S = 0,\ \|v_S\| = 1\},

and around a ray :math:`v` with through-set :math:`T = \{k : a_k^\top v = 0\}` the faces
:math:`F` whose closure contains :math:`v` have signs :math:`\operatorname{sign}(a_k^\top v)` off
:math:`T` and some :math:`s \in \{+, 0, -\}^T` on :math:`T` (the cells: :math:`s \in
\{+,-\}^T`).

Completeness (the argument)
---------------------------
The normals span :math:`\mathbb R^r`, so the arrangement is essential: the closure of every face
is a *pointed* polyhedral cone, and a pointed cone of dimension :math:`\ge 1` is the conic hull of
its extreme rays.  An extreme ray of a face's closure is a one-dimensional face of the
arrangement, i.e. a line on which the normals through it have rank :math:`r - 1`; some
independent :math:`S \subseteq T` of size :math:`r - 1` defines it, so it is in :math:`\mathcal
R`.  Hence every face of dimension :math:`\ge 1` (every cell in particular) is listed from at
least one ray, with the signs above: off :math:`T` a face keeps the sign of :math:`v`, which is
nonzero there.  In general position :math:`|T| = r - 1` and each ray has exactly :math:`2^{r-1}`
cells around it; at a degenerate ray (:math:`|T| > r - 1`, rows in a subspace) not every
:math:`s \in \{+,-\}^T` is a cell, and the stream lists a *superset* (perturbation-free: nothing
is dropped, some sign vectors are empty).  A degenerate ray is listed once, from the
lexicographically first basis of :math:`T` (the greedy one); for rays with :math:`|T|` above
``max_through`` (counted in :attr:`RayBatch.skipped`) :func:`faces_around` lists the faces from
the arrangement of the planes of :math:`T` in :math:`v^\perp`, of rank :math:`r - 1`, recursively,
instead of all :math:`3^{|T|}` sign vectors.

Floating point: :math:`a_k^\top v` with :math:`|a_k^\top v| \le` ``through_tol`` counts as
through the ray (a generous tolerance only adds sign vectors, it never drops one); a subset with
smallest singular value below ``through_tol`` is treated as dependent.  Cells thinner than that
are the allowance, as in :func:`~copos.nets.arrangements.enumerate_arrangements`.

Memory: a batch holds ``batch_size`` (r-1)-subsets, i.e. at most
:math:`2\cdot\text{batch\_size}` rays; the number of rays is :math:`2\binom{L}{r-1}` however many
cells there are.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from copos._validation import check_dimension
from copos.errors import InvalidInputError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: :math:`|a_k^\top v|` at most this (unit normals, unit ray) counts as "through the ray".
DEFAULT_THROUGH_TOL = 1e-7
#: Largest through-set of a degenerate ray whose :math:`3^{|T|}` faces are listed.
DEFAULT_MAX_THROUGH = 9
#: Default number of (r-1)-subsets per batch.
DEFAULT_SUBSET_BATCH = 4096
#: Largest table of subsets of the suffix kept in memory by :func:`subset_batches`.
_MAX_TABLE = 1 << 20


@dataclass(frozen=True, eq=False)
class RayBatch:
    r"""A batch of vertex rays :math:`v` with the signs :math:`\operatorname{sign}(a_k^\top v)`.

    Attributes
    ----------
    rays:
        Unit rays, shape ``(B, r)`` (whitened coordinates); both :math:`\pm v_S` are listed.
    signs:
        ``(B, L)`` in ``{-1, 0, 1}``: 0 on the through-set :math:`T`.
    subsets:
        ``(B, r-1)``: the defining subset :math:`S` of each ray.
    general:
        ``(B,)``: :math:`T = S` (general position at this ray).
    skipped:
        Degenerate rays of this batch with :math:`|T| >` ``max_through`` (listed: their faces
        come from :func:`faces_around`, not from :math:`\{+,0,-\}^T`).
    """

    rays: FloatArray
    signs: NDArray[np.int8]
    subsets: IntArray
    general: BoolArray
    skipped: int

    def __len__(self) -> int:
        return int(self.rays.shape[0])

    def through(self, i: int) -> IntArray:
        """The through-set :math:`T` of ray ``i`` (sorted hyperplane indices)."""
        return np.flatnonzero(self.signs[i] == 0)


def streamed_batch_bytes(L: int, r: int, batch_size: int = DEFAULT_SUBSET_BATCH) -> int:
    r"""Bytes of the sign vectors of one batch's cells (:func:`cells_around`): ``batch_size``
    subsets, two rays each, :math:`2^{r-1}` cells per ray in general position, each an int8
    row of length :math:`L` plus its int64 row and column indices."""
    cells = 2 * batch_size * 2 ** (r - 1)
    return cells * (L + 8 * r)


def vertex_ray_count(L: int, r: int) -> int:
    r""":math:`2\binom{L}{r-1}`: the rays visited (subsets times two directions)."""
    return 2 * math.comb(L, r - 1)


def subset_batches(L: int, size: int, batch_size: int) -> Iterator[IntArray]:
    """All ``size``-subsets of ``range(L)`` in lexicographic order, in arrays of at most
    ``batch_size`` rows: a Python loop over short prefixes, the suffixes read from one table."""
    batch_size = check_dimension(batch_size, "batch_size")
    if size == 0:
        yield np.zeros((1, 0), dtype=np.int64)
        return
    if size > L:
        return
    prefix = 0
    while prefix < size - 1 and math.comb(L, size - prefix) > _MAX_TABLE:
        prefix += 1
    table = np.array(list(itertools.combinations(range(L), size - prefix)), dtype=np.int64)
    table = table.reshape(-1, size - prefix)
    starts = np.searchsorted(table[:, 0], np.arange(L + 1))
    for head in itertools.combinations(range(L), prefix):
        first = starts[head[-1] + 1] if head else 0
        tail = table[first:]
        for lo in range(0, tail.shape[0], batch_size):
            block = tail[lo : lo + batch_size]
            yield np.hstack(
                [np.broadcast_to(np.array(head, dtype=np.int64), (len(block), prefix)), block]
            )


def vertex_rays(
    normals: FloatArray,
    *,
    batch_size: int = DEFAULT_SUBSET_BATCH,
    through_tol: float = DEFAULT_THROUGH_TOL,
    max_through: int = DEFAULT_MAX_THROUGH,
) -> Iterator[RayBatch]:
    r"""Every vertex ray :math:`\pm v_S` of the arrangement of the unit ``normals`` (``(L, r)``,
    spanning :math:`\mathbb R^r`, :math:`r \ge 2`), in batches of ``batch_size`` subsets.

    See the module docstring for why every face is around one of these rays.
    """
    L, r = normals.shape
    if r < 2:
        raise InvalidInputError(f"vertex rays need rank >= 2; got {r}")
    for subsets in subset_batches(L, r - 1, batch_size):
        _, singular, Vt = np.linalg.svd(normals[subsets], full_matrices=True)
        independent = singular[:, -1] > through_tol
        subsets, rays = subsets[independent], Vt[independent, -1, :]
        products = rays @ normals.T
        signs = np.sign(products).astype(np.int8)
        signs[np.abs(products) <= through_tol] = 0
        signs[np.arange(len(subsets))[:, None], subsets] = 0
        through = np.sum(signs == 0, axis=1)
        general = through == r - 1
        keep = general.copy()
        skipped = 0
        for i in np.flatnonzero(~general):
            T = np.flatnonzero(signs[i] == 0)
            if not np.array_equal(greedy_basis(normals, T, through_tol), subsets[i]):
                continue  # listed from its first basis
            if T.size > max_through:
                skipped += 2
            keep[i] = True
        rays, signs, subsets, general = rays[keep], signs[keep], subsets[keep], general[keep]
        yield RayBatch(
            rays=np.vstack([rays, -rays]),
            signs=np.vstack([signs, -signs]),
            subsets=np.vstack([subsets, subsets]),
            general=np.concatenate([general, general]),
            skipped=skipped,
        )


def faces_around(
    normals: FloatArray,
    ray: FloatArray,
    T: IntArray,
    *,
    max_through: int = DEFAULT_MAX_THROUGH,
    through_tol: float = DEFAULT_THROUGH_TOL,
) -> NDArray[np.int8]:
    r"""Sign vectors on :math:`T` (``(k, |T|)``, in ``{-1, 0, 1}``, never all zero) of the faces
    around the ray ``ray`` whose through-set is ``T``: all of :math:`\{+,0,-\}^T` when
    :math:`|T| \le` ``max_through``; else the faces of the arrangement of the planes of
    :math:`T` in :math:`v^\perp` (rank :math:`r - 1`: they all contain :math:`v`), listed from its
    own vertex rays, recursively (a superset only at degenerate rays of that arrangement)."""
    if T.size <= max_through:
        faces = sign_vectors(T.size, (1, 0, -1))
        return faces[np.any(faces != 0, axis=1)]
    r = normals.shape[1]
    complement = np.linalg.svd(ray[None, :], full_matrices=True)[2][1:].T  # (r, r - 1)
    projected = normals[T] @ complement
    projected /= np.linalg.norm(projected, axis=1, keepdims=True)
    if r - 1 == 1:
        signs = np.sign(projected[:, 0]).astype(np.int8)
        return np.vstack([signs, -signs])
    found = []
    for batch in vertex_rays(projected, max_through=max_through, through_tol=through_tol):
        for i in range(len(batch)):
            sub = batch.through(i)
            inner = faces_around(projected, batch.rays[i], sub, max_through=max_through)
            around = np.repeat(batch.signs[i : i + 1], len(inner) + 1, axis=0)
            around[1:, sub] = inner  # row 0: the ray of the projected arrangement itself
            found.append(around)
    faces = np.vstack(found)
    packed = np.ascontiguousarray(pack_signs(faces))
    _, first = np.unique(
        packed.view(np.dtype((np.void, packed.shape[1]))).ravel(), return_index=True
    )
    return faces[np.sort(first)]


def greedy_basis(normals: FloatArray, T: IntArray, tol: float) -> IntArray:
    """The lexicographically first maximal independent subset of ``normals[T]`` (greedy)."""
    chosen: list[int] = []
    for k in T:
        trial = normals[[*chosen, int(k)]]
        if np.linalg.svd(trial, compute_uv=False)[-1] > tol:
            chosen.append(int(k))
    return np.array(chosen, dtype=np.int64)


def sign_vectors(size: int, values: tuple[int, ...]) -> NDArray[np.int8]:
    """All vectors of ``values`` of length ``size`` (``(len(values)**size, size)``, int8)."""
    grid = itertools.product(values, repeat=size)
    return np.array(list(grid), dtype=np.int8).reshape(-1, size)


def cells_around(batch: RayBatch) -> Iterator[NDArray[np.int8]]:
    """Hyperplane sign vectors ``(k, L)`` of the cells around the rays of ``batch`` (a superset
    at degenerate rays), one array per group of rays (general ones together)."""
    general = np.flatnonzero(batch.general)
    if general.size:
        r_minus_1 = batch.subsets.shape[1]
        choices = sign_vectors(r_minus_1, (1, -1))
        signs = np.repeat(batch.signs[general], len(choices), axis=0)
        rows = np.repeat(np.arange(general.size), len(choices))
        columns = batch.subsets[general][rows]
        signs[np.arange(len(rows))[:, None], columns] = np.tile(choices, (general.size, 1))
        yield signs
    for i in np.flatnonzero(~batch.general):
        T = batch.through(i)
        choices = sign_vectors(T.size, (1, -1))
        signs = np.repeat(batch.signs[i : i + 1], len(choices), axis=0)
        signs[:, T] = choices
        yield signs


def pack_signs(signs: NDArray[np.int8]) -> NDArray[np.uint8]:
    """Rows of ``signs`` in ``{-1, 0, 1}`` packed to bytes (two bits per hyperplane): the hash
    key of a face."""
    return np.packbits(np.hstack([signs > 0, signs < 0]), axis=1)


def stream_cells(
    normals: FloatArray, *, batch_size: int = DEFAULT_SUBSET_BATCH
) -> Iterator[NDArray[np.int8]]:
    """The cells (hyperplane sign vectors) of the arrangement, batch by batch, each batch
    deduplicated by its packed bits; a cell may recur in later batches (no global set)."""
    for batch in vertex_rays(normals, batch_size=batch_size):
        blocks = list(cells_around(batch))
        if not blocks:
            continue
        signs = np.vstack(blocks)
        _, first = np.unique(pack_signs(signs), axis=0, return_index=True)
        yield signs[np.sort(first)]
