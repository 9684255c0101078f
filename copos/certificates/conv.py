r"""A lower bound certificate for trained convolutional nets (pooled, any number of outputs).

Weak duality (Sahiner et al.; Ergen & Pilanci for the patch form): for every
:math:`Z \in \mathbb R^{n\times c}` with

.. math:: \sigma(Z) = \max_{\|u\|\le1}\Big\|Z^\top\sum_k(X_ku)_+\Big\|_2 \le \beta,
    \qquad p^\star \ge \tfrac12\|Y\|_F^2 - \tfrac12\|Z - Y\|_F^2 .

On the cone of a pattern :math:`D_i` of :math:`M = [X_1; \dots; X_K]`,
:math:`\sum_k(X_ku)_+ = A_iu`, and the cones of all patterns cover :math:`\mathbb R^h`, so
:math:`\sigma(Z) \le \bar\sigma = \max_i \sigma_i` with :math:`\sigma_i` bounded per cone
(:func:`sigma_upper`: by a nonnegative multiplier of the cone for ``c = 1``, by the spectral norm
for ``c > 1``): no conic solver, rigorous given the complete enumeration.  At :math:`Z = t(Y - f(X))`, :math:`t\bar\sigma \le \beta`, the
bound is :math:`L = \max_t\ t\langle Z_0, Y\rangle - \tfrac12t^2\|Z_0\|_F^2`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from copos.bound import Bound
from copos.certificates.certify import dual_lower_bound
from copos.certificates.dual_norm import FP_SAFETY
from copos.errors import InvalidInputError
from copos.nets.architectures.conv import ConvReLU, require_pooled
from copos.nets.arrangements import DEFAULT_MAX_PATTERNS, enumerate_arrangements
from copos.nets.problem import TrainingProblem


def cone_bound(g: np.ndarray, G: np.ndarray) -> float:
    r"""An upper bound on :math:`\max\{g^\top u : Gu \ge 0, \|u\| \le 1\}`:
    :math:`\|g + G^\top\lambda\|` for the NNLS multiplier :math:`\lambda \ge 0` (valid for
    every :math:`\lambda \ge 0`, since :math:`\lambda^\top Gu \ge 0` on the cone; Moreau makes
    it tight at the NNLS optimum)."""
    multiplier, _ = nnls(G.T, -g)
    return float(np.linalg.norm(g + G.T @ np.maximum(multiplier, 0.0)))


def sigma_upper(
    Z: np.ndarray, net: ConvReLU, problem: TrainingProblem, max_patterns: int
) -> tuple[float, bool]:
    r""":math:`\bar\sigma \ge \sigma(Z)` over all patterns :math:`D_i` of the patch matrix: for
    ``c = 1`` the cone-aware bound :func:`cone_bound` of :math:`\pm A_i^\top z` on
    :math:`(2D_i - I)Mu \ge 0`; otherwise :math:`\|A_i^\top Z\|_2` (the cone dropped);
    inflated by :data:`~copos.certificates.dual_norm.FP_SAFETY` for rounding.  Also returns
    whether the enumeration is complete (else :math:`\bar\sigma` proves nothing)."""
    operator = net.architecture.operator_of(problem)
    patterns = enumerate_arrangements(operator.stacked, max_patterns=max_patterns)
    A = operator.pattern_matrices(patterns.masks)  # (P, n, h)
    M = operator.stacked
    bounds = []
    for block, mask in zip(A, patterns.masks, strict=True):
        if Z.shape[1] != 1:
            bounds.append(float(np.linalg.norm(block.T @ Z, 2)))
            continue
        G = (2.0 * mask - 1.0)[:, None] * M
        g = block.T @ Z[:, 0]
        bounds.append(max(cone_bound(g, G), cone_bound(-g, G)))
    return max(bounds) * (1.0 + FP_SAFETY), patterns.complete


def certify_conv(
    net: ConvReLU, problem: TrainingProblem, *, max_patterns: int = DEFAULT_MAX_PATTERNS
) -> Bound:
    """A rigorous lower bound on the CNN's training optimum :math:`p^\\star` at the residual
    of ``net`` (module docstring); :class:`InvalidInputError` for the linear readout, an output
    bias, or more patterns than ``max_patterns``."""
    if not isinstance(net, ConvReLU):
        raise InvalidInputError(f"net must be a ConvReLU; got {type(net).__name__}")
    require_pooled(net.architecture, "the CNN certificate")
    if net.b is not None or problem.output_bias:
        raise InvalidInputError("the CNN certificate does not handle an output bias")
    objective = net.objective(problem)
    Z = problem.Y - net.predict(problem.X)
    sigma, complete = sigma_upper(Z, net, problem, max_patterns)
    fit = float(np.vdot(Z, problem.Y)) / max(float(np.vdot(Z, Z)), 1e-300)
    scale = min(problem.beta / sigma if sigma > 0 else np.inf, max(fit, 0.0))
    value = dual_lower_bound(Z, problem.Y, float(scale))
    return Bound(
        value=value,
        claimed_kind="lower",
        method="certificate (CNN, sigma over patch patterns)",
        note=f"sigma <= {sigma:.6g}, scale {scale:.4g}; net objective {objective:.10g}"
        + ("" if complete else "; patterns incomplete (ill-conditioned patches): not proven"),
        checked=None if complete else "unverified",
    )
