r"""A trained net as a semi-nonnegative matrix factorization of the copositive program's variable.

Sahiner, Ergen, Pauly and Pilanci (2021): with :math:`H = (XU)_+ \ge 0` the prediction
:math:`\hat Y = HV` is a semi-NMF (:math:`H` nonnegative, :math:`V` free), and grouping the neurons
by activation pattern :math:`D_i` gives a feasible point of the completely positive program

.. math::

    S_i = \tfrac1{2\beta}\sum_{j:\ D(u_j) = D_i} u_ju_j^\top \in \mathcal C_i,\qquad
    M = \sum_iD_iXS_iX^\top D_i = \tfrac1{2\beta}HH^\top \in \mathcal{CP}_n\ (\text{cp-rank} \le m),

    \text{CP}(S) = \tfrac12\operatorname{tr}\Big(Y^\top\big(I_n + 2M\big)^{-1}Y\Big)
        + \beta^2\sum_i\operatorname{tr}S_i \;=\; \min_{V'} F(U, V') \;\le\; F(U, V).

So :math:`p^\star \le \text{CP}(S) \le F(U, V)`: a net is a rank-:math:`m` (Burer–Monteiro)
factorization of the CP variable, and SGD's iterates are attempts to solve the copositive program.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.problem import TrainingProblem

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class SemiNMF:
    r"""The factorization :math:`\hat Y = HV` and the CP point :math:`(S_i)` of a net (module docstring).

    Attributes
    ----------
    H:
        :math:`(XU)_+`, shape ``(n, m)``, nonnegative.
    V:
        Output weights, shape ``(m, c)``, free.
    patterns:
        The distinct activation patterns :math:`D_i` of the neurons, as rows of an ``(P, n)`` array.
    S:
        :math:`S_i`, shape ``(P, d, d)``.
    M:
        :math:`\tfrac1{2\beta}HH^\top`, completely positive with the explicit factor :math:`H/\sqrt{2\beta}`.
    cp_objective:
        :math:`\text{CP}(S)`, between :math:`p^\star` and the net's objective.
    """

    H: FloatArray
    V: FloatArray
    patterns: BoolArray
    S: FloatArray
    M: FloatArray
    cp_objective: float

    @property
    def rank(self) -> int:
        """The factorization rank: the width ``m``."""
        return int(self.H.shape[1])


def semi_nmf(net: TwoLayerReLU, problem: TrainingProblem) -> SemiNMF:
    """The semi-NMF of ``net`` on ``problem`` and its point of the copositive program."""
    if not isinstance(net, TwoLayerReLU) or net.b is not None:
        raise InvalidInputError("semi_nmf needs a TwoLayerReLU without an output bias")
    if (net.d, net.c) != (problem.d, problem.c):
        raise InvalidInputError(
            f"the net has (d, c) = {(net.d, net.c)}, the problem {(problem.d, problem.c)}"
        )
    X, beta = problem.X, problem.beta
    H = np.maximum(X @ net.U, 0.0)
    neuron_patterns = (X @ net.U >= 0).T  # (m, n)
    patterns, which = np.unique(neuron_patterns, axis=0, return_inverse=True)
    S = np.zeros((len(patterns), problem.d, problem.d))
    np.add.at(S, which.ravel(), np.einsum("dj,ej->jde", net.U, net.U) / (2.0 * beta))
    M = H @ H.T / (2.0 * beta)
    return SemiNMF(H, np.array(net.V), patterns, S, M, cp_objective(M, S, problem))


def cp_objective(M: FloatArray, S: FloatArray, problem: TrainingProblem) -> float:
    r""":math:`\tfrac12\operatorname{tr}(Y^\top(I + 2M)^{-1}Y) + \beta^2\sum_i\operatorname{tr}S_i`."""
    Y = problem.Y
    fit = 0.5 * float(np.sum(Y * np.linalg.solve(np.eye(problem.n) + 2.0 * M, Y)))
    return fit + problem.beta**2 * float(np.einsum("pii->", S))


def lifted_matrix(result: SemiNMF, X: FloatArray) -> FloatArray:
    r""":math:`\sum_iD_iXS_iX^\top D_i` from the blocks (equals ``result.M``: the same CP matrix)."""
    total = np.zeros((X.shape[0], X.shape[0]))
    for pattern, block in zip(result.patterns, result.S, strict=True):
        A = pattern[:, None] * X
        total += A @ block @ A.T
    return total
