r"""Cone-constrained PCA over a pattern cone, the oracle of Frank–Wolfe and of σ(Z).

.. math:: \max_{u}\ \|Gu\|_2 \quad\text{s.t.}\quad Au \ge 0,\ \|u\|_2 \le 1 .
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


#: Largest input dimension accepted by the exact cone-constrained PCA oracle of Frank–Wolfe.
MAX_ORACLE_DIM = 3


def cone_pca(
    G: FloatArray,
    A: FloatArray,
    *,
    bases: list[FloatArray] | None = None,
    tol: float = 1e-10,
) -> tuple[FloatArray, float]:
    r"""Exact :math:`\max\{\|Gu\|^2 : Au \ge 0,\ \|u\| \le 1\}` by enumerating faces.

    A maximiser with active rows :math:`\mathcal S` is a top eigenvector of :math:`G^\top G`
    restricted to :math:`\{u : A_{\mathcal S}u = 0\}` (the Rayleigh quotient has no other local
    maxima), so the candidates are :math:`\pm` the top eigenvectors on the null spaces of all
    row subsets of size :math:`< d`: :math:`O(n^{d-1})` eigen-solves.  Feasibility is checked
    with :math:`Au \ge -\mathrm{tol}\,\|A\|`.  Degenerate (repeated) top eigenvalues may make it
    miss a maximiser; returns ``(0, 0.0)`` if nothing nonzero is feasible.  ``bases`` may pass
    precomputed :func:`face_bases` ``(A)`` (they depend on the rows only up to sign).
    """
    d = A.shape[1]
    slack = tol * max(1.0, float(np.max(np.abs(A))))
    best, best_value = np.zeros(d), 0.0
    for basis in face_bases(A) if bases is None else bases:
        projected = G @ basis
        _, singular, right = np.linalg.svd(projected, full_matrices=True)
        direction = basis @ right[0]
        value = float(singular[0] ** 2) if singular.size else 0.0
        for u in (direction, -direction):
            if value > best_value and float(np.min(A @ u)) >= -slack:
                best, best_value = u, value
    return best, best_value


def face_bases(A: FloatArray) -> list[FloatArray]:
    """Orthonormal bases of :math:`\\{u : A_{\\mathcal S}u = 0\\}` for all ``|S| < d`` (nonzero)."""
    n, d = A.shape
    bases = [np.eye(d)]
    for size in range(1, d):
        for rows in itertools.combinations(range(n), size):
            _, singular, Vt = np.linalg.svd(A[list(rows)], full_matrices=True)
            rank = int(np.sum(singular > 1e-12 * max(1.0, float(singular.max(initial=0.0)))))
            if rank < d:
                bases.append(Vt[rank:].T)
    return bases
