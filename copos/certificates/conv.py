r"""The dual norm of a convolutional net's training problem, over the patterns of its patches.

Weak duality (Sahiner et al.; Ergen & Pilanci for the patch form): for every
:math:`Z \in \mathbb R^{n\times c}` with

.. math:: \sigma(Z) = \max_{\|u\|\le1}\Big\|Z^\top\sum_k(X_ku)_+\Big\|_2 \le \beta,
    \qquad p^\star \ge \tfrac12\|Y\|_F^2 - \tfrac12\|Z - Y\|_F^2 .

On the cone of a pattern :math:`D_i` of :math:`M = [X_1; \dots; X_K]`,
:math:`\sum_k(X_ku)_+ = A_iu` with :math:`A_i = \sum_kD_i^kX_k`, and the cones of all patterns
cover :math:`\mathbb R^h`, so :math:`\sigma(Z) \le \bar\sigma = \max_i \sigma_i`.  With a linear
readout over the positions (weights :math:`w_k \in \mathbb R^c`, :math:`\sum_k\|w_k\|^2 \le 1`)
the dual norm is :math:`\max_{\|u\|\le1}(\sum_k\|Z^\top(X_ku)_+\|^2)^{1/2}` and on the cone of
:math:`D_i` the map is :math:`u \mapsto [Z^\top D_i^kX_ku]_k`.  :func:`conv_dual_norm` bounds
:math:`\sigma_i` per cone without a conic solver (for a pooled ``c = 1`` net by a nonnegative
multiplier of the cone, :func:`cone_bound`, tight by Moreau's decomposition; otherwise by the
spectral norm of the cone's linear map), so :math:`\bar\sigma` is **rigorous** given the
complete enumeration; with an incomplete one it proves nothing.  :func:`copos.certify` turns it
into a :class:`~copos.certificates.certificate.Certificate` exactly as for a dense net.
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import nnls

from copos.certificates.dual_norm import (
    DEFAULT_MAX_PATTERNS,
    FP_SAFETY,
    DualNormResult,
    no_bound,
)
from copos.nets.architectures.base import DataOperator
from copos.nets.architectures.conv import ConvReLU
from copos.nets.arrangements import enumerate_arrangements
from copos.nets.problem import TrainingProblem

FloatArray = NDArray[np.float64]

#: :attr:`DualNormResult.method` of a convolutional net's dual norm.
CONV_METHOD = "patch-patterns"


def cone_bound(g: FloatArray, G: FloatArray) -> float:
    r"""An upper bound on :math:`\max\{g^\top u : Gu \ge 0, \|u\| \le 1\}`:
    :math:`\|g + G^\top\lambda\|` for the NNLS multiplier :math:`\lambda \ge 0` (valid for
    every :math:`\lambda \ge 0`, since :math:`\lambda^\top Gu \ge 0` on the cone; Moreau makes
    it tight at the NNLS optimum)."""
    multiplier, _ = nnls(G.T, -g)
    return float(np.linalg.norm(g + G.T @ np.maximum(multiplier, 0.0)))


def pattern_maps(
    operator: DataOperator, masks: FloatArray, Z: FloatArray, linear: bool
) -> FloatArray:
    r"""The linear map of each pattern's cone, ``(P, q, h)``: :math:`Z^\top A_i` (pooled,
    ``q = c``) or the rows :math:`Z^\top D_i^kX_k` stacked over ``k`` (linear readout,
    ``q = Kc``)."""
    blocks = operator.blocks(np.asarray(masks, dtype=np.float64).T)  # (K, n, P)
    per_position = np.einsum("knp,nc,knh->pkch", blocks, Z, operator.patches)
    if linear:
        return per_position.reshape(per_position.shape[0], -1, operator.h)
    return per_position.sum(axis=1)


def _pattern_bound(linear_map: FloatArray, cone: FloatArray, pooled_scalar: bool) -> float:
    """:math:`\\sigma_i` bounded above: :func:`cone_bound` of :math:`\\pm` the row (pooled ``c = 1``)
    or the spectral norm of the map (the cone dropped)."""
    if pooled_scalar:
        g = linear_map[0]
        return max(cone_bound(g, cone), cone_bound(-g, cone))
    return float(np.linalg.norm(linear_map, 2))


def witness_value(
    Z: FloatArray, net: ConvReLU, operator: DataOperator
) -> tuple[float, FloatArray | None]:
    r"""The dual norm's value at the net's best unit filter (a lower bound on :math:`\sigma(Z)`)
    and that filter; ``(0, None)`` for a net without nonzero filters."""
    norms = np.linalg.norm(net.U, axis=0)
    if not np.any(norms > 0):
        return 0.0, None
    units = net.U[:, norms > 0] / norms[norms > 0]
    hidden = np.maximum(np.einsum("knh,hm->kmn", operator.patches, units), 0.0)  # (K, m, n)
    if net.architecture.pooling == "linear":
        values = np.sqrt(np.einsum("kmc,kmc->m", *(2 * [hidden @ Z])))
    else:
        values = np.linalg.norm(hidden.sum(axis=0) @ Z, axis=1)
    best = int(np.argmax(values))
    return float(values[best]), units[:, best]


def conv_dual_norm(
    Z: FloatArray,
    net: ConvReLU,
    problem: TrainingProblem,
    *,
    max_patterns: int = DEFAULT_MAX_PATTERNS,
) -> DualNormResult:
    r""":math:`\bar\sigma \ge \sigma(Z)` over every pattern of the patch matrix of ``net``'s
    architecture on ``problem`` (module docstring), inflated by
    :data:`~copos.certificates.dual_norm.FP_SAFETY`; ``rigorous`` iff the enumeration is
    complete and ``Z`` finite.  ``lower`` is the value at the net's best unit filter."""
    start = time.perf_counter()
    if not np.all(np.isfinite(Z)):
        return no_bound(CONV_METHOD, "auto", time.perf_counter() - start)
    architecture = net.architecture
    operator = architecture.operator_of(problem)
    patterns = enumerate_arrangements(operator.stacked, max_patterns=max_patterns)
    masks = np.asarray(patterns.masks, dtype=np.float64)
    linear = architecture.pooling == "linear"
    maps = pattern_maps(operator, masks, Z, linear)
    pooled_scalar = not linear and Z.shape[1] == 1
    bounds = np.array(
        [
            _pattern_bound(
                linear_map, (2.0 * mask - 1.0)[:, None] * operator.stacked, pooled_scalar
            )
            for linear_map, mask in zip(maps, masks, strict=True)
        ]
    )
    value = float(np.max(bounds, initial=0.0)) * (1.0 + FP_SAFETY)
    lower, maximizer = witness_value(Z, net, operator)
    note = f"sigma over {len(masks)} patterns of the {operator.rows} x {operator.h} patch matrix"
    if not patterns.complete:
        note += "; patterns incomplete (ill-conditioned patches): not proven"
    return DualNormResult(
        value=value,
        rigorous=bool(patterns.complete),
        method=CONV_METHOD,
        requested="auto",
        lower=lower,
        maximizer=maximizer,
        pattern_bounds=bounds,
        evaluated=np.ones(len(bounds), dtype=bool),
        num_patterns=len(bounds),
        rank=int(patterns.rank),
        truncation=0.0,
        time=time.perf_counter() - start,
        note=note,
    )
