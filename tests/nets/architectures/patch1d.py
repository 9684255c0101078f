"""A test-only architecture: filters slid over a 1-D signal, ReLU, sum pooling (Ergen & Pilanci).

.. math:: f(X) = \\Big(\\sum_{k=1}^K (X_kU)_+\\Big)V,\\qquad (X_k)_{i,:} = x_i[ks : ks + h]

It is one small class and plugs into the arrangement program through the data-operator seam
alone (:mod:`copos.nets.architectures.base`), as the convolutional nets of issue 18 will.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from copos.nets.architectures.base import DataOperator, FloatArray, Weights, weight_decay_objective
from copos.nets.problem import TrainingProblem


@dataclass(frozen=True)
class Patch1D:
    """Patches of size ``h`` at stride ``stride``: ``K = (d - h) // stride + 1`` of them."""

    h: int
    stride: int = 1
    name: ClassVar[str] = "patch-1d"

    def data_operator(self, X: FloatArray) -> DataOperator:
        starts = range(0, X.shape[1] - self.h + 1, self.stride)
        return DataOperator(np.stack([X[:, s : s + self.h] for s in starts]))

    def forward(self, weights: Weights, X: FloatArray) -> FloatArray:
        U, V = weights
        return self.data_operator(X).pooled_relu(U) @ V

    def objective(self, weights: Weights, problem: TrainingProblem) -> float:
        U, V = weights
        return weight_decay_objective(self.forward(weights, problem.X), problem, U, V)

    def gradient(self, weights: Weights, problem: TrainingProblem) -> tuple[FloatArray, FloatArray]:
        r""":math:`\\nabla_V = H^\\top R + \\beta V`, :math:`\\nabla_U = \\sum_k X_k^\\top((RV^\\top)\\odot\\mathbb 1[X_kU>0]) + \\beta U`."""
        U, V = weights
        operator = self.data_operator(problem.X)
        R = operator.pooled_relu(U) @ V - problem.Y
        grad_V = operator.pooled_relu(U).T @ R + problem.beta * V
        grad_U = problem.beta * U
        for X_k in operator.patches:
            grad_U = grad_U + X_k.T @ ((R @ V.T) * (X_k @ U > 0))
        return grad_U, grad_V


def gradient_descent(
    architecture: Patch1D, problem: TrainingProblem, U: FloatArray, V: FloatArray, steps: int
) -> float:
    """Objective after ``steps`` of gradient descent with Armijo backtracking (monotone)."""
    value = architecture.objective((U, V), problem)
    rate = 1.0
    for _ in range(steps):
        grad_U, grad_V = architecture.gradient((U, V), problem)
        squared = float(np.vdot(grad_U, grad_U) + np.vdot(grad_V, grad_V))
        while rate >= 1e-12:
            U_new, V_new = U - rate * grad_U, V - rate * grad_V
            new = architecture.objective((U_new, V_new), problem)
            if new <= value - 0.5 * rate * squared:
                break
            rate /= 2
        else:
            break  # no descent step left: stationary to working precision
        U, V, value, rate = U_new, V_new, new, 2 * rate
    return value
