r"""Accelerated proximal gradient (FISTA with adaptive restart) for the squared group lasso.

.. math::

    \min_{x = (x_1,\dots,x_N)}\ \tfrac12\|Ax - y\|_2^2 + \beta\sum_{j=1}^N\|x_j\|_2,

with :math:`A` given as a pair of callables (``forward(x) = Ax``, ``adjoint(r) = A^\top r``) on
``x`` of shape ``(N, h)`` (row :math:`j` is the group :math:`x_j`).  Solvers know operators, not
networks: the relaxation that builds :math:`A` (:mod:`copos.relaxations.gated`) turns the result
into a bound and a network.

The stopping rule is a certified duality gap.  For a residual :math:`r = y - Ax`, the point
:math:`\lambda = tr`, :math:`t = \min(1, \beta/\max_j\|(A^\top r)_j\|_2)`, is dual feasible
(:math:`\|(A^\top\lambda)_j\| \le \beta`), so

.. math::

    D(\lambda) = \tfrac12\|y\|^2 - \tfrac12\|y - \lambda\|^2 \;\le\; \text{optimum}
    \;\le\; \text{objective}(x),

and the iteration stops when :math:`(\text{objective} - D)/\max(1, |\text{objective}|) \le`
``tol``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from copos._validation import check_dimension, check_positive
from copos.errors import InvalidInputError
from copos.solvers.base import SolveInfo

FloatArray = NDArray[np.float64]
Operator = Callable[[FloatArray], FloatArray]

#: Default relative duality gap at which the iteration stops.
DEFAULT_TOL = 1e-6
DEFAULT_MAX_ITERS = 20_000
APG = "copos-apg"


@dataclass(frozen=True, eq=False)
class GroupLassoSolution:
    """The last iterate ``x``, its objective ``value``, the certified ``lower_bound`` and the solve."""

    x: FloatArray
    value: float
    lower_bound: float
    solve: SolveInfo

    @property
    def gap(self) -> float:
        """``value - lower_bound`` (>= 0 up to rounding)."""
        return self.value - self.lower_bound


def group_soft_threshold(z: FloatArray, threshold: float) -> FloatArray:
    r"""The prox of :math:`\tau\sum_j\|x_j\|`: rows scaled by :math:`(1 - \tau/\|z_j\|)_+`."""
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    return np.maximum(0.0, 1.0 - threshold / np.maximum(norms, 1e-300)) * z


def operator_norm_squared(
    forward: Operator, adjoint: Operator, shape: tuple[int, int], iters: int = 50
) -> float:
    r""":math:`\|A\|_2^2` by power iteration on :math:`A^\top A` (from a fixed start)."""
    x = np.random.default_rng(0).standard_normal(shape)
    value = 0.0
    for _ in range(iters):
        x = adjoint(forward(x))
        value = float(np.linalg.norm(x))
        if value == 0.0:
            return 0.0
        x /= value
    return value


def group_lasso_apg(
    forward: Operator,
    adjoint: Operator,
    y: FloatArray,
    beta: float,
    shape: tuple[int, int],
    *,
    tol: float = DEFAULT_TOL,
    max_iters: int = DEFAULT_MAX_ITERS,
    warm_start: FloatArray | None = None,
    check_every: int = 10,
) -> GroupLassoSolution:
    r"""FISTA on the squared group lasso (module docstring), step :math:`1/L` with backtracking.

    The momentum restarts when the objective rises (O'Donoghue & Candès).  Status ``optimal``
    when the relative certified gap is at most ``tol``, else ``max_iterations``.  The
    :class:`SolveInfo` reports the relative gap as ``gap`` (and as ``dual_residual``; the
    program has no constraints, so ``primal_residual`` is 0).
    """
    beta = check_positive(beta, "beta")
    tol = check_positive(tol, "tol")
    max_iters = check_dimension(max_iters, "max_iters")
    check_every = check_dimension(check_every, "check_every")
    target = np.asarray(y, dtype=np.float64)
    start = time.perf_counter()
    x = np.zeros(shape) if warm_start is None else _checked_start(warm_start, shape)
    step = 1.0 / max(operator_norm_squared(forward, adjoint, shape), 1e-300)
    point, momentum, value = x.copy(), 1.0, math.inf
    gap, lower, iteration = math.inf, -math.inf, 0
    for iteration in range(1, max_iters + 1):
        x_new, step = _prox_step(forward, adjoint, target, beta, point, step)
        new_value = _objective(forward, target, beta, x_new)
        if new_value > value:  # adaptive restart: drop the momentum
            point, momentum = x.copy(), 1.0
            continue
        next_momentum = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * momentum**2))
        point = x_new + ((momentum - 1.0) / next_momentum) * (x_new - x)
        x, value, momentum = x_new, new_value, next_momentum
        if iteration % check_every == 0:
            lower = dual_bound(adjoint, target, beta, target - forward(x))
            gap = (value - lower) / max(1.0, abs(value))
            if gap <= tol:
                break
    lower = dual_bound(adjoint, target, beta, target - forward(x))
    gap = (value - lower) / max(1.0, abs(value))
    info = SolveInfo(
        solver=APG,
        status="optimal" if gap <= tol else "max_iterations",
        solve_time=time.perf_counter() - start,
        primal_residual=0.0,
        dual_residual=max(gap, 0.0),
        iterations=iteration,
        accuracy=max(tol, 1e-12),
        gap=max(gap, 0.0),
        gap_source="recomputed",
    )
    return GroupLassoSolution(x=x, value=value, lower_bound=lower, solve=info)


def dual_bound(adjoint: Operator, y: FloatArray, beta: float, residual: FloatArray) -> float:
    r""":math:`D(tr) = \tfrac12\|y\|^2 - \tfrac12\|y - tr\|^2`, :math:`t = \min(1, \beta/\max_j\|(A^\top r)_j\|)`."""
    largest = float(np.max(np.linalg.norm(adjoint(residual), axis=1), initial=0.0))
    t = 1.0 if largest <= beta else beta / largest
    return 0.5 * float(y @ y) - 0.5 * float(np.sum((y - t * residual) ** 2))


def _objective(forward: Operator, y: FloatArray, beta: float, x: FloatArray) -> float:
    residual = forward(x) - y
    return 0.5 * float(residual @ residual) + beta * float(np.sum(np.linalg.norm(x, axis=1)))


def _prox_step(
    forward: Operator, adjoint: Operator, y: FloatArray, beta: float, point: FloatArray, step: float
) -> tuple[FloatArray, float]:
    """One prox-gradient step from ``point``, halving ``step`` until the quadratic model holds."""
    residual = forward(point) - y
    smooth = 0.5 * float(residual @ residual)
    gradient = adjoint(residual)
    while True:
        candidate = group_soft_threshold(point - step * gradient, step * beta)
        difference = candidate - point
        new_residual = forward(candidate) - y
        model = (
            smooth
            + float(np.sum(gradient * difference))
            + float(np.sum(difference**2)) / (2 * step)
        )
        if (
            0.5 * float(new_residual @ new_residual) <= model * (1 + 1e-12) + 1e-300
            or step < 1e-300
        ):
            return candidate, step
        step *= 0.5


def _checked_start(start: FloatArray, shape: tuple[int, int]) -> FloatArray:
    x = np.array(start, dtype=np.float64)
    if x.shape != shape or not np.all(np.isfinite(x)):
        raise InvalidInputError(
            f"warm_start must be a finite array of shape {shape}; got {x.shape}"
        )
    return x
