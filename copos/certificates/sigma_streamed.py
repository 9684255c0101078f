r"""σ(Z) exactly at ranks 4–9: the faces of the arrangement streamed from its vertex rays.

.. math::

    \sigma(Z)^2 = \max_{\|u\| = 1}\|Z^\top(Xu)_+\|^2
    = \max_{F}\ \max_{u \in F,\ \|u\| = 1} \|M_Fu\|^2,\qquad
    M_F = \textstyle\sum_{j :\ x_j^\top u > 0 \text{ on } F} z_jx_j^\top ,

over the faces :math:`F` (of every dimension :math:`\ge 1`) of the central arrangement of the
rows of :math:`X` (row-space coordinates, rank :math:`r`), listed by
:func:`~copos.nets.streamed.vertex_rays` batch by batch, never all held.

Why the candidates suffice
--------------------------
Let :math:`u^\star` be a maximiser and :math:`F` the face holding it in its relative interior,
:math:`\mathcal L = \operatorname{span} F`.  Near :math:`u^\star` in :math:`\mathcal L`,
:math:`f = \|M_Fu\|^2`, so :math:`u^\star` is a local, hence global, maximiser of the Rayleigh
quotient of :math:`P_{\mathcal L}M_F^\top M_FP_{\mathcal L}` on :math:`\mathcal L`: a top
eigenvector.  If that eigenvalue is simple, :math:`\pm` the top right singular vector of
:math:`M_FB_{\mathcal L}` (:math:`B_{\mathcal L}` an orthonormal basis) is :math:`u^\star`.  If
it is repeated, moving from :math:`u^\star` along the top eigenspace keeps :math:`f =
\sigma^2` and leaves the pointed cone :math:`\bar F` through a lower-dimensional face, where the
argument repeats; a one-dimensional face is a ray, evaluated directly.  So
:math:`\sigma(Z) = \max_F \|Z^\top(Xu_F)_+\|` over these candidates :math:`u_F`, each evaluated
with the true ReLU (every value is a proven lower bound).

Pruning (rigorous, cheap)
-------------------------
For :math:`u \in F` and any sign vector :math:`D'` that agrees with :math:`F` off the rows that
vanish on :math:`F`, :math:`Z^\top D'Xu = M_Fu`; so every cell around a ray refining
:math:`F` bounds it: :math:`\max_{u\in F}\|M_Fu\| \le \|M_{D'}\|_2 \le \|M_{D'}\|_F`.  The cells
around a ray are bounded (Frobenius, then spectral norm, vectorized); a face is solved only when
*every* cell refining it has a bound above the threshold :math:`\max(\beta, \sigma_{\rm lower})`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from copos.nets.arrangements import Hyperplanes
from copos.nets.streamed import (
    DEFAULT_MAX_THROUGH,
    DEFAULT_THROUGH_TOL,
    RayBatch,
    faces_around,
    pack_signs,
    sign_vectors,
    vertex_ray_count,
    vertex_rays,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Default largest number of sign vectors (cells and faces) held at once.
DEFAULT_MAX_HELD = 400_000
#: Relative margin added to every computed norm before a pruning decision (rounding of the
#: Frobenius and eigenvalue computations, a few units of 1e-16, with room to spare).
PRUNE_SAFETY = 1e-10


@dataclass(frozen=True, eq=False)
class StreamedSigma:
    r""":math:`\sigma(Z) \in [\text{lower}, \text{upper}]` from the streamed faces (unit scale).

    Attributes
    ----------
    lower:
        :math:`\|Z^\top(Xu)_+\|` at the unit ``maximizer`` (evaluated).
    upper:
        :math:`\max(\text{lower}, \text{largest pruned bound})` when ``complete``; else also at
        least :math:`\|Z\|_2\|X\|_2`.  Exact (``upper == lower``) when nothing above ``lower``
        was pruned, i.e. without a threshold or when :math:`\sigma(Z) \ge \beta`.
    maximizer:
        Unit ``u`` (row-space coordinates, shape ``(r,)``) attaining ``lower``.
    complete:
        Every ray visited (False only when ``time_budget`` stopped the stream).
    rays, cells, faces:
        Rays visited, cells bounded, faces solved.
    skipped:
        Degenerate rays with a through-set above ``max_through``, whose faces were listed from
        the arrangement of their planes in :math:`v^\perp`
        (:func:`~copos.nets.streamed.faces_around`).
    peak_held:
        Largest number of sign vectors (cells and faces) held at once.
    time:
        Wall-clock seconds.
    """

    lower: float
    upper: float
    maximizer: FloatArray
    complete: bool
    rays: int
    cells: int
    faces: int
    skipped: int
    peak_held: int
    time: float


def subsets_per_batch(r: int, max_held: int) -> int:
    r"""(r-1)-subsets per batch so that a general-position batch holds at most ``max_held``
    sign vectors: :math:`2(2^{r-1} + 3^{r-1})` per subset (both rays)."""
    return max(1, max_held // (2 * (2 ** (r - 1) + 3 ** (r - 1))))


def streamed_work(planes: Hyperplanes) -> int:
    r"""Rays to visit, :math:`2\binom{L}{r-1}` (the cost driver; the cells number
    :attr:`~copos.nets.arrangements.Hyperplanes.pattern_bound` at most)."""
    return vertex_ray_count(planes.normals.shape[0], planes.rank)


def sigma_streamed(
    Z: FloatArray,
    Xr: FloatArray,
    planes: Hyperplanes,
    singular: FloatArray,
    *,
    threshold: float | None = None,
    hints: FloatArray | None = None,
    max_held: int = DEFAULT_MAX_HELD,
    max_through: int = DEFAULT_MAX_THROUGH,
    time_budget: float = math.inf,
) -> StreamedSigma:
    r"""The exact :math:`\sigma(Z) = \max_{\|u\|\le1}\|Z^\top(X_ru)_+\|` by streamed faces.

    ``Xr`` (``n x r``, full column rank, unit scale) are the row-space coordinates of ``X``;
    ``planes`` its hyperplanes in whitened coordinates (:func:`~copos.nets.arrangements.
    hyperplanes`) and ``singular`` its first ``r`` singular values (whitened ``g`` is
    :math:`u = g/s`).  ``threshold``: prune below :math:`\max(\text{threshold},
    \sigma_{\rm lower})` (the :math:`\beta` of ":math:`\sigma \le \beta`?").  ``hints``: unit
    directions (rows, row-space coordinates) evaluated first.  ``time_budget``: stop
    (``complete=False``, ``upper`` at least :math:`\|Z\|_2\|X_r\|_2`).
    """
    start = time.perf_counter()
    faces = _Faces(Z, Xr, planes, singular[: planes.rank], threshold, max_through)
    faces.offer(_starting_points(Z, Xr, hints))
    batch_size = subsets_per_batch(planes.rank, max_held)
    finished = True
    for batch in vertex_rays(planes.normals, batch_size=batch_size, max_through=max_through):
        faces.visit(batch)
        if time.perf_counter() - start > time_budget:
            finished = False
            break
    complete = finished
    upper = max(faces.best, faces.pruned)
    if not complete:
        upper = max(upper, float(np.linalg.norm(Z, 2) * np.linalg.norm(Xr, 2)))
    return StreamedSigma(
        lower=faces.best,
        upper=upper,
        maximizer=faces.maximizer,
        complete=complete,
        rays=faces.rays,
        cells=faces.cells,
        faces=faces.solved,
        skipped=faces.skipped,
        peak_held=faces.peak_held,
        time=time.perf_counter() - start,
    )


def _starting_points(Z: FloatArray, Xr: FloatArray, hints: FloatArray | None) -> FloatArray:
    """The hints and :math:`\\pm` the top right singular vector of :math:`Z^\\top X_r`."""
    _, _, Vt = np.linalg.svd(Z.T @ Xr)
    points = [Vt[:1], -Vt[:1]]
    if hints is not None and hints.size:
        points.append(hints.reshape(-1, Xr.shape[1]))
    return np.vstack(points)


@cache
def _star(t: int) -> list[tuple[NDArray[np.int8], BoolArray]]:
    r"""Around a ray with through-set of size ``t``, by number of zeros ``z = 0 .. t-1``: the
    faces :math:`s \in \{+,0,-\}^t` with ``z`` zeros (``z = 0``: the cells) and
    ``above[f, g]``: face ``g`` (``z - 1`` zeros) has ``f`` in its closure (agrees on
    ``f``'s nonzero signs); ``above`` is empty for the cells."""
    faces = sign_vectors(t, (1, 0, -1))
    zeros = np.sum(faces == 0, axis=1)
    levels: list[tuple[NDArray[np.int8], BoolArray]] = []
    previous = None
    for z in range(t):
        current = faces[zeros == z]
        above = np.zeros((len(current), 0), dtype=bool)
        if previous is not None:
            agree = (current[:, None, :] == 0) | (current[:, None, :] == previous[None, :, :])
            above = np.all(agree, axis=2)
        levels.append((current, above))
        previous = current
    return levels


def _distinct(signs: NDArray[np.int8]) -> tuple[IntArray, IntArray]:
    """``(first, inverse)``: one row per distinct row of ``signs`` (hashed by its packed bits,
    :func:`~copos.nets.streamed.pack_signs`) and, per row, its distinct row."""
    packed = np.ascontiguousarray(pack_signs(signs))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return first, inverse.ravel()


class _Faces:
    """The running state: best value, pruned bound, counters; bounds and solves ray stars."""

    def __init__(
        self,
        Z: FloatArray,
        Xr: FloatArray,
        planes: Hyperplanes,
        singular: FloatArray,
        threshold: float | None,
        max_through: int,
    ) -> None:
        self.Z, self.Xr, self.singular = Z, Xr, singular
        self.max_through = max_through
        self.c, self.r = Z.shape[1], Xr.shape[1]
        self.whitened = planes.normals
        self.normals = planes.normals * singular[None, :]  # in row-space coordinates
        self.plus, self.minus = _plane_factors(Z, Xr, planes)
        self.threshold = -math.inf if threshold is None else float(threshold)
        self.best, self.pruned = 0.0, 0.0
        self.maximizer = np.zeros(self.r)
        self.maximizer[0] = 1.0
        self.rays = self.cells = self.solved = self.skipped = self.peak_held = 0

    @property
    def level(self) -> float:
        """Prune bounds at most this."""
        return max(self.threshold, self.best)

    def offer(self, directions: FloatArray) -> None:
        """Evaluate :math:`f` at the unit directions (rows); keep the best."""
        norms = np.linalg.norm(directions, axis=1)
        directions = directions[norms > 0] / norms[norms > 0, None]
        if not directions.size:
            return
        values = np.linalg.norm(np.maximum(directions @ self.Xr.T, 0.0) @ self.Z, axis=1)
        i = int(np.argmax(values))
        if values[i] > self.best:
            self.best, self.maximizer = float(values[i]), directions[i]

    def visit(self, batch: RayBatch) -> None:
        """Rays, then the stars around them (general rays together, degenerate one by one)."""
        self.rays += len(batch)
        self.skipped += batch.skipped
        if not len(batch):
            return
        self.offer(batch.rays / self.singular[None, :])
        general = np.flatnonzero(batch.general)
        held = self._star(batch.signs[general], batch.subsets[general], independent=True)
        for i in np.flatnonzero(~batch.general):
            through = batch.through(i)
            if through.size <= self.max_through:
                star = self._star(batch.signs[i : i + 1], through[None, :], independent=False)
            else:
                star = self._listed(batch.signs[i], through, batch.rays[i])
            held = max(held, star)
        self.peak_held = max(self.peak_held, held)

    def _listed(self, signs: NDArray[np.int8], through: IntArray, ray: FloatArray) -> int:
        """The faces around one degenerate ray with a large through-set, listed by
        :func:`~copos.nets.streamed.faces_around` and bounded one level of zeros at a time (no
        cascade); returns their number."""
        faces = faces_around(self.whitened, ray, through, max_through=self.max_through)
        zeros = np.sum(faces == 0, axis=1)
        for z in np.unique(zeros):
            chosen = faces[zeros == z]
            face_signs = np.repeat(signs[None, :], len(chosen), axis=0)
            face_signs[:, through] = chosen
            matrices = ((face_signs > 0) @ self.plus + (face_signs < 0) @ self.minus).reshape(
                -1, self.c, self.r
            )
            planes = np.broadcast_to(through, chosen.shape)
            zero_planes = np.sort(np.where(chosen == 0, planes, -1), axis=1)[:, ::-1][:, :z]
            bounds = self._bound_faces(face_signs, matrices, zero_planes, False)
            if np.any(bounds <= self.level):
                self.pruned = max(self.pruned, float(np.max(bounds[bounds <= self.level])))
        return len(faces)

    def _star(self, signs: NDArray[np.int8], through: IntArray, independent: bool) -> int:
        """Bound the cells around rays with through-sets ``through`` (``(B, t)``), then the faces
        by increasing number of zeros, each only when every face above it around the ray is
        alive (bound above the level); returns the most sign vectors held at once.
        ``independent``: the normals of every through-set are independent (general rays)."""
        count, t = through.shape
        if count == 0:
            return 0
        base = (signs > 0) @ self.plus + (signs < 0) @ self.minus  # (B, c r), T excluded
        alive = np.ones((count, 1), dtype=bool)
        held = 0
        for z, (faces, above) in enumerate(_star(t)):
            if z == 0:
                todo = np.ones((count, len(faces)), dtype=bool)
            else:
                todo = ((~alive).astype(np.int32) @ above.T.astype(np.int32)) == 0
            rays, kinds = np.nonzero(todo)
            chosen, planes = faces[kinds], through[rays]
            face_signs = signs[rays]
            face_signs[np.arange(rays.size)[:, None], planes] = chosen
            matrices = (
                base[rays]
                + np.einsum("ft,ftm->fm", (chosen > 0).astype(float), self.plus[planes])
                + np.einsum("ft,ftm->fm", (chosen < 0).astype(float), self.minus[planes])
            ).reshape(-1, self.c, self.r)
            zero_planes = np.sort(np.where(chosen == 0, planes, -1), axis=1)[:, ::-1][:, :z]
            held = max(held, count * len(faces))
            bounds = self._bound_faces(face_signs, matrices, zero_planes, independent)
            alive = np.zeros((count, len(faces)), dtype=bool)
            alive[rays, kinds] = bounds > self.level
            if np.any(~alive[rays, kinds]):
                self.pruned = max(self.pruned, float(np.max(bounds[~alive[rays, kinds]])))
            if not np.any(alive):
                break
        return held

    def _bound_faces(
        self,
        face_signs: NDArray[np.int8],
        matrices: FloatArray,
        zero_planes: IntArray,
        independent: bool,
    ) -> FloatArray:
        r"""Rigorous :math:`\lambda_F \ge \max_{u\in F,\|u\|=1}\|M_Fu\|` per face (its signs,
        :math:`M_F` and its zero planes, ``(F, z)``); the candidates :math:`\pm u_F` of the faces
        with :math:`\lambda_F` above the level are offered.  Distinct faces only are solved (a
        face recurs around its extreme rays)."""
        cells = zero_planes.shape[1] == 0
        if cells:  # the cheap Frobenius / spectral norm first
            self.cells += len(face_signs)
            bounds = self._norm_bounds(matrices)
            todo = np.flatnonzero(bounds > self.level)
        else:
            bounds = np.zeros(len(face_signs))
            todo = np.arange(len(face_signs))
        if todo.size:
            first, inverse = _distinct(face_signs[todo])
            pick = todo[first]
            spans = self._spans(zero_planes[pick], independent)
            values = self._solve(face_signs[pick], matrices[pick], spans)
            bounds[todo] = np.minimum(bounds[todo], values[inverse]) if cells else values[inverse]
        return bounds

    def _norm_bounds(self, matrices: FloatArray) -> FloatArray:
        """Upper bounds on :math:`\\|M\\|_2`: Frobenius, refined to the spectral norm where the
        Frobenius norm is above the level; inflated by :data:`PRUNE_SAFETY`."""
        bounds = np.sqrt(np.einsum("kij,kij->k", matrices, matrices))
        high = np.flatnonzero(bounds * (1.0 + PRUNE_SAFETY) > self.level)
        if high.size:
            M = matrices[high]
            gram = M @ M.transpose(0, 2, 1) if self.c <= self.r else M.transpose(0, 2, 1) @ M
            top = np.linalg.eigvalsh(gram)[:, -1]
            bounds[high] = np.minimum(bounds[high], np.sqrt(np.maximum(top, 0.0)))
        return bounds * (1.0 + PRUNE_SAFETY)

    def _solve(
        self,
        face_signs: NDArray[np.int8],
        matrices: FloatArray,
        spans: tuple[FloatArray, IntArray],
    ) -> FloatArray:
        r""":math:`\lambda_F = \|M_FB_F\|_2` (:math:`B_F` an orthonormal basis of the face's
        span) per face, inflated by :data:`PRUNE_SAFETY`; the candidate :math:`\pm B_Fw_F`
        (top right singular vector) of a face above the level is evaluated when it lies in the
        face (else the face's maximum is on its boundary, a face of its own)."""
        self.solved += len(face_signs)
        bases, ranks = spans
        values = np.zeros(len(face_signs))
        for rank in np.unique(ranks):
            pick = np.flatnonzero(ranks == rank)
            basis = bases[pick, rank:, :]  # (k, r - rank, r), orthonormal rows
            projected = matrices[pick] @ basis.transpose(0, 2, 1)  # (k, c, r - rank)
            wide = projected.shape[1] <= projected.shape[2]
            gram = _gram(projected, wide)
            top = np.linalg.eigvalsh(gram)[:, -1]
            values[pick] = np.sqrt(np.maximum(top, 0.0)) * (1.0 + PRUNE_SAFETY)
            high = np.flatnonzero(values[pick] > self.level)
            if high.size:
                vectors = np.linalg.eigh(gram[high])[1][:, :, -1]
                if wide:  # right singular vector from the left one
                    vectors = np.einsum("kc,kcj->kj", vectors, projected[high])
                candidates = np.einsum("kj,kjr->kr", vectors, basis[high])
                self.offer(_oriented(candidates, face_signs[pick[high]], self.normals))
        return values

    def _spans(self, zero_planes: IntArray, independent: bool) -> tuple[FloatArray, IntArray]:
        r"""Per face (its zero planes, ``(F, z)``, padded with -1): ``Vt`` (``(F, r, r)``) whose
        rows after the first ``rank`` span :math:`\{u : a_k^\top u = 0,\ k \text{ zero}\}`,
        and ``rank``; one QR (``independent`` zero planes) or SVD per distinct set of them."""
        count, width = zero_planes.shape
        if width == 0:
            return np.broadcast_to(np.eye(self.r), (count, self.r, self.r)), np.zeros(count, int)
        columns = np.ascontiguousarray(zero_planes, dtype=np.int64)
        keys = columns.view(np.dtype((np.void, 8 * width))).ravel()
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        distinct = columns[first]
        rows = self.normals[distinct] * (distinct >= 0)[:, :, None]  # padded with 0
        inverse = inverse.ravel()
        if independent:  # no padding: every face here has exactly ``width`` zero planes
            Q = np.linalg.qr(rows.transpose(0, 2, 1), mode="complete")[0]
            return Q.transpose(0, 2, 1)[inverse], np.full(count, width)
        _, singular, Vt = np.linalg.svd(rows, full_matrices=True)
        scale = np.max(singular, axis=1, initial=0.0)
        # a generous cut (the through tolerance): a larger span only loosens the bound
        ranks = np.sum(singular > DEFAULT_THROUGH_TOL * scale[:, None], axis=1)
        return Vt[inverse], ranks[inverse]


def _gram(P: FloatArray, wide: bool) -> FloatArray:
    """:math:`PP^\\top` (``wide``: fewer rows than columns) or :math:`P^\\top P`, stacked."""
    return P @ P.transpose(0, 2, 1) if wide else P.transpose(0, 2, 1) @ P


def _oriented(
    candidates: FloatArray, face_signs: NDArray[np.int8], normals: FloatArray
) -> FloatArray:
    """Each candidate or its negative, whichever has the face's sign on the face's first
    nonzero plane; dropped when that one disagrees with the face elsewhere on its nonzero
    planes among those where ``|a^T u|`` is not tiny (then it lies outside the face)."""
    products = np.einsum("kr,lr->kl", candidates, normals)
    signs = face_signs.astype(np.float64)
    agreement = products * signs
    flip = np.where(np.sum(agreement, axis=1) < 0, -1.0, 1.0)
    candidates = candidates * flip[:, None]
    agreement = agreement * flip[:, None]
    tol = 1e-9 * np.max(np.abs(products), axis=1, initial=0.0)
    inside = np.all(agreement >= -tol[:, None], axis=1)
    return candidates[inside]


def _plane_factors(
    Z: FloatArray, Xr: FloatArray, planes: Hyperplanes
) -> tuple[FloatArray, FloatArray]:
    r"""``(L, c r)`` arrays: row ``k`` is :math:`\sum z_jx_j^\top` over the rows of hyperplane
    ``k`` active on its positive side (``plus``), resp. its negative side (``minus``)."""
    L = planes.normals.shape[0]
    outer = (Z[:, :, None] * Xr[:, None, :]).reshape(Z.shape[0], -1)
    plus, minus = np.zeros((L, outer.shape[1])), np.zeros((L, outer.shape[1]))
    rows = planes.groups >= 0
    positive = rows & (planes.orientation > 0)
    negative = rows & (planes.orientation < 0)
    np.add.at(plus, planes.groups[positive], outer[positive])
    np.add.at(minus, planes.groups[negative], outer[negative])
    return plus, minus
