r"""Index arithmetic for the polynomial hierarchies (private).

Both Parrilo's :math:`\mathcal K^r` and de Klerk–Pasechnik's :math:`\mathcal C^r` rest on the
coefficients of :math:`(\sum_i y_i)^r\, y^\top M y` as a linear map of :math:`M`:

.. math::

    [\,(\textstyle\sum_i y_i)^r y^\top M y\,]_\eta
        = \sum_{i,j:\ \eta - e_i - e_j \ge 0} \binom{r}{\eta - e_i - e_j} M_{ij},
    \qquad |\eta| = r + 2,

with the multinomial coefficient :math:`\binom{r}{\delta} = r!/\prod_i \delta_i!`.  Substituting
:math:`y = x\circ x` turns it into the coefficient of :math:`x^{2\eta}` in
:math:`(\sum x_i^2)^r\sum_{ij} M_{ij}x_i^2x_j^2`.  Everything here is built from exponent
vectors and dictionaries, never by symbolic expansion.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache
from math import factorial

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

IntArray = NDArray[np.int64]


@cache
def monomials(n: int, degree: int) -> IntArray:
    """All exponent vectors of ``degree`` in ``n`` variables, one per row (lexicographic)."""
    rows = []
    for combo in itertools.combinations_with_replacement(range(n), degree):
        rows.append(np.bincount(np.asarray(combo, dtype=np.int64), minlength=n))
    if not rows:
        return np.zeros((1, n), dtype=np.int64)
    return np.asarray(rows, dtype=np.int64)


def index_of(exponents: IntArray) -> dict[bytes, int]:
    """Map each exponent row (as bytes) to its row number."""
    return {row.tobytes(): i for i, row in enumerate(np.ascontiguousarray(exponents))}


def multinomial(exponent: IntArray) -> int:
    """The multinomial coefficient :math:`|\\delta|! / \\prod_i \\delta_i!`."""
    value = factorial(int(exponent.sum()))
    for e in exponent:
        value //= factorial(int(e))
    return value


@cache
def coefficient_operator(n: int, r: int) -> sp.csr_matrix:
    r"""Sparse ``B`` with ``B @ vec(M)`` the coefficients of :math:`(\sum y)^r y^\top M y`.

    Rows are indexed by :func:`monomials` ``(n, r + 2)``; columns by ``vec(M)`` in either order
    (``B`` treats ``(i, j)`` and ``(j, i)`` alike, so it is exact on symmetric ``M``).
    """
    targets = monomials(n, r + 2)
    lookup = index_of(targets)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    eye = np.eye(n, dtype=np.int64)
    for delta in monomials(n, r):
        weight = float(multinomial(delta))
        for i in range(n):
            for j in range(n):
                eta = delta + eye[i] + eye[j]
                rows.append(lookup[eta.tobytes()])
                cols.append(i * n + j)
                vals.append(weight)
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(targets), n * n))


@dataclass(frozen=True)
class GramStructure:
    r"""Sign-symmetric block structure of a Gram matrix for :math:`\mathcal K^r`.

    The half-degree monomials :math:`x^\alpha`, :math:`|\alpha| = r + 2`, fall into parity
    classes :math:`\alpha \bmod 2`; only pairs in one class can produce an even monomial, so the
    Gram matrix is block diagonal with one block per class.  ``block_maps[c]`` maps
    ``vec(Q_c)`` to coefficients (rows as in :func:`coefficient_operator`); classes of size one
    are collected in ``scalar_map`` (nonnegative scalars).
    """

    block_sizes: tuple[int, ...]
    block_maps: tuple[sp.csr_matrix, ...]
    scalar_map: sp.csr_matrix
    num_coefficients: int

    @property
    def num_scalars(self) -> int:
        return int(self.scalar_map.shape[1])


@cache
def gram_structure(n: int, r: int) -> GramStructure:
    """Blocks of the sign-symmetric Gram matrix of :math:`(\\sum x^2)^r P_M(x)`."""
    half = monomials(n, r + 2)
    lookup = index_of(half)
    classes: dict[bytes, list[int]] = {}
    for idx, alpha in enumerate(half):
        classes.setdefault((alpha % 2).tobytes(), []).append(idx)
    sizes: list[int] = []
    maps: list[sp.csr_matrix] = []
    scalar_rows: list[int] = []
    for members in classes.values():
        if len(members) == 1:
            alpha = half[members[0]]
            scalar_rows.append(lookup[alpha.tobytes()])
            continue
        sizes.append(len(members))
        maps.append(_block_map(half[members], lookup, len(half)))
    scalar_map = sp.csr_matrix(
        (np.ones(len(scalar_rows)), (scalar_rows, np.arange(len(scalar_rows)))),
        shape=(len(half), len(scalar_rows)),
    )
    return GramStructure(tuple(sizes), tuple(maps), scalar_map, len(half))


def _block_map(alphas: IntArray, lookup: dict[bytes, int], num_rows: int) -> sp.csr_matrix:
    """Map ``vec(Q)`` of one block to the coefficients of :math:`x^{\\alpha_a + \\alpha_b}`."""
    size = len(alphas)
    sums = (alphas[:, None, :] + alphas[None, :, :]) // 2
    rows = [lookup[row.tobytes()] for row in np.ascontiguousarray(sums.reshape(size * size, -1))]
    cols = np.arange(size * size)
    return sp.csr_matrix((np.ones(size * size), (rows, cols)), shape=(num_rows, size * size))


@dataclass(frozen=True)
class FullGramStructure:
    """One dense Gram matrix over all half-degree monomials (for benchmarks and cross-checks).

    ``gram_map @ vec(Q)`` gives the coefficients of every monomial of degree ``2r + 4``;
    ``even_rows[k]`` is the row of the even monomial :math:`x^{2\\eta_k}` (other rows must be 0).
    """

    size: int
    gram_map: sp.csr_matrix
    even_rows: IntArray


@cache
def full_gram_structure(n: int, r: int) -> FullGramStructure:
    """The unreduced Gram map: every monomial of degree ``2r + 4`` gets its own equation."""
    half = monomials(n, r + 2)
    full = monomials(n, 2 * r + 4)
    lookup = index_of(full)
    size = len(half)
    rows = np.empty(size * size, dtype=np.int64)
    for a in range(size):
        sums = half[a] + half
        rows[a * size : (a + 1) * size] = [lookup[row.tobytes()] for row in sums]
    # vec order is irrelevant (Q is symmetric and the map is symmetric in (a, b)).
    gram_map = sp.csr_matrix(
        (np.ones(size * size), (rows, np.arange(size * size))), shape=(len(full), size * size)
    )
    even = [lookup[(2 * eta).tobytes()] for eta in monomials(n, r + 2)]
    return FullGramStructure(size, gram_map, np.asarray(even, dtype=np.int64))


def simplex_grid(n: int, m: int) -> NDArray[np.float64]:
    r"""The grid :math:`\Delta(n, m) = \{x \ge 0 : \sum x = 1,\ m x \in \mathbb Z^n\}`, one row each."""
    return monomials(n, m).astype(np.float64) / m
