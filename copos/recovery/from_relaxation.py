r"""Networks read off a relaxation's solution: an upper bound on :math:`p^\star` without SGD.

A lifted REL block :math:`G_i = \sum_k[u_k; v_k][u_k; v_k]^\top \succeq 0` (pattern :math:`i`)
is split by its eigenvectors :math:`G_i = \sum_k\lambda_kq_kq_k^\top`; each
:math:`\sqrt{\lambda_k}\,q_k = [u; v]` becomes a neuron (sign chosen so that :math:`u` is as far
inside the pattern cone :math:`\{A_iu \ge 0\}` as it can be).  A rank-one block in its cone is a
neuron exactly; otherwise the net is still a real network, and

.. math:: p^\star \le F(U, V) = \tfrac12\|(XU)_+V - Y\|_F^2 + \tfrac\beta2(\|U\|_F^2 + \|V\|_F^2)

holds whatever the relaxation's accuracy.  :func:`polished_network` then refines it on its own
patterns (:func:`copos.nets.polish.polish`, never a larger objective), and
:func:`patterns_of_network` hands the patterns of its neurons to a program restricted to them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from copos.bound import Bound
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.arrangements import Arrangements
from copos.nets.polish import PolishResult, polish
from copos.nets.problem import TrainingProblem

FloatArray = NDArray[np.float64]

#: Eigenvalues below this fraction of the largest one (over all blocks) are dropped: the tail
#: of an inexact solve gives many tiny neurons that only slow the polish down (planted n = 25:
#: 171 of 176 s in polish at 1e-8).
EIGEN_RTOL = 1e-4


def network_from_blocks(
    blocks: FloatArray, patterns: Arrangements, problem: TrainingProblem, rtol: float = EIGEN_RTOL
) -> TwoLayerReLU:
    r"""The neurons :math:`\sqrt{\lambda_k}q_k = [u; v]` of every lifted block (module docstring).

    ``blocks`` has shape ``(k, d + c, d + c)`` in the units of ``problem``, one per pattern.
    """
    d = problem.d
    values, vectors = np.linalg.eigh(blocks)
    top = float(np.max(values, initial=0.0))
    neurons: list[FloatArray] = []
    for i in range(blocks.shape[0]):
        signs = patterns.sign_matrix(i)[:, None] * problem.X
        for lam, q in zip(values[i], vectors[i].T, strict=True):
            if top > 0 and lam > rtol * top:
                neuron = np.sqrt(lam) * q
                slack = signs @ neuron[:d]
                neurons.append(neuron if np.min(slack) >= np.min(-slack) else -neuron)
    if not neurons:
        return TwoLayerReLU(U=np.zeros((d, 0)), V=np.zeros((0, problem.c)))
    stacked = np.array(neurons)
    return TwoLayerReLU(U=stacked[:, :d].T, V=stacked[:, d:])


def polished_network(net: TwoLayerReLU, problem: TrainingProblem) -> PolishResult:
    """:func:`copos.nets.polish.polish` of ``net`` (its objective never increases)."""
    return polish(net, problem)


def network_bound(net: TwoLayerReLU, problem: TrainingProblem, method: str, note: str) -> Bound:
    """The true objective of ``net``: a rigorous upper :class:`~copos.bound.Bound` on p*."""
    return Bound.of_network(net.objective(problem), method=method, note=note)


def patterns_of_network(net: TwoLayerReLU, problem: TrainingProblem) -> Arrangements:
    r"""The distinct patterns :math:`\mathbb 1[Xu_j > 0]` of the net's neurons (incomplete)."""
    masks = np.asarray(problem.X @ net.U > 0.0).T
    distinct = np.unique(masks, axis=0) if masks.size else np.zeros((0, problem.n), dtype=bool)
    return Arrangements(patterns=distinct, complete=False, method="sampled", rank=problem.rank)
