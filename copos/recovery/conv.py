r"""Convolutional nets read off the patch REL's blocks (Sahiner et al., on patch data).

A block :math:`S_i \succeq 0` (``h x h``, pattern :math:`D_i` of :math:`M = [X_1; \dots; X_K]`)
is split by its eigenvectors, :math:`S_i = \sum_k\lambda_kq_kq_k^\top`; each
:math:`s = \sqrt{\lambda_k}q_k` (sign chosen so that :math:`s` is as far inside the cone
:math:`\{(2D_i - I)Ms \ge 0\}` as it can be) becomes a filter with its readout, as in
:func:`copos.recovery.cp_factor.recover_from_rel` with the patch matrices,

.. math:: u = \sqrt{2\beta}\,s,\qquad
    v = \beta^{-1}Z^\top A_iu\ \ (\text{pooled},\ A_i = \textstyle\sum_kD_i^kX_k),\qquad
    v_k = \beta^{-1}Z^\top D_i^kX_ku\ \ (\text{linear readout}).

A rank-one block in its cone is a filter exactly; otherwise the net is still a real CNN, and
its objective :math:`F(U, V) \ge p^\star` holds whatever the relaxation's accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from copos.nets.architectures.base import DataOperator
from copos.nets.architectures.conv import Convolution, ConvReLU
from copos.nets.arrangements import Arrangements
from copos.recovery.from_relaxation import EIGEN_RTOL

FloatArray = NDArray[np.float64]


def position_maps(operator: DataOperator, mask: FloatArray) -> FloatArray:
    r""":math:`B_k = D^kX_k` of one pattern (length ``nK``), shape ``(K, n, h)``."""
    return operator.blocks(np.asarray(mask, dtype=np.float64))[:, :, None] * operator.patches


def conv_network_from_rel(
    S: Sequence[FloatArray],
    Z: FloatArray,
    patterns: Arrangements,
    architecture: Convolution,
    operator: DataOperator,
    beta: float,
    rtol: float = EIGEN_RTOL,
) -> ConvReLU:
    """The filters and readouts of every block ``S_i`` (module docstring); eigenvalues below
    ``rtol`` times the largest one (over all blocks) are dropped."""
    blocks = np.asarray(S, dtype=np.float64)
    values, vectors = np.linalg.eigh(blocks)
    top = float(np.max(values, initial=0.0))
    M = operator.stacked
    filters: list[FloatArray] = []
    readouts: list[FloatArray] = []
    for i in range(len(blocks)):
        signs = patterns.sign_matrix(i)[:, None] * M
        maps = position_maps(operator, patterns.D(i))  # (K, n, h)
        for lam, q in zip(values[i], vectors[i].T, strict=True):
            if top > 0 and lam > rtol * top:
                slack = signs @ q
                u = np.sqrt(2.0 * beta * lam) * (q if np.min(slack) >= np.min(-slack) else -q)
                per_position = np.einsum("knh,h,nc->kc", maps, u, Z) / beta
                filters.append(u)
                readouts.append(
                    per_position
                    if architecture.pooling == "linear"
                    else per_position.sum(axis=0)[None]
                )
    c = Z.shape[1]
    if not filters:
        return ConvReLU(architecture, np.zeros((operator.h, 0)), np.zeros((0, c)))
    return ConvReLU(architecture, np.array(filters).T, np.vstack(readouts))


def patterns_of_conv_net(net: ConvReLU, operator: DataOperator) -> Arrangements:
    r"""The distinct nonzero patterns :math:`\mathbb 1[Mu_j > 0]` of the net's filters (incomplete)."""
    masks = np.asarray(operator.stacked @ net.U > 0.0).T
    distinct = np.unique(masks, axis=0) if masks.size else np.zeros((0, operator.rows), dtype=bool)
    distinct = distinct[distinct.any(axis=1)]
    rank = int(np.linalg.matrix_rank(operator.stacked))
    return Arrangements(patterns=distinct, complete=False, method="sampled", rank=rank)
