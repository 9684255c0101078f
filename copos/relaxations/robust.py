r"""Convex adversarial training of a scalar-output two-layer ReLU net (Bai, Gautam, Sojoudi §5).

Threat model: every training input may move in the box :math:`\|\delta_k\|_\infty \le \epsilon`
(the ones column of a first-layer bias stays fixed; :class:`copos.nets.attacks.Box`).  Keep the
activation patterns :math:`D_i` of the *clean* data and require them to hold on every box (the
robust cones); then the net is linear on each box, :math:`f(x_k + \delta) = (x_k + \delta)^\top
z_k` with :math:`z_k = \sum_i d_{ik}(v_i - w_i)`, and the inner maximum has a closed form.  The
program is

.. math::

    \min_{v_i, w_i}\ \sum_{k=1}^n \bar\ell_\epsilon(x_k^\top z_k, y_k; \|z_k\|_1)
        + \beta\sum_i\big(\|v_i\|_2 + \|w_i\|_2\big)
    \quad\text{s.t.}\quad (2D_i - I)Xv_i \ge \epsilon\|v_i\|_1\mathbf 1,\
    (2D_i - I)Xw_i \ge \epsilon\|w_i\|_1\mathbf 1,

with the worst-case losses :math:`\bar\ell_\epsilon(t, y; s) = \max_{|\tau|\le\epsilon s}
\ell(t+\tau, y)`: :math:`\tfrac12(|t-y|+\epsilon s)^2` (squared),
:math:`(1 - yt + \epsilon s)_+` (hinge), :math:`\log(1+e^{-(yt-\epsilon s)})` (logistic).  It is an
SOCP (the logistic loss adds exponential cones), solved through copos's CVXPY backend or, for
the squared and hinge losses, copos's own ADMM (:mod:`copos.solvers.admm.robust`); at
:math:`\epsilon = 0` it is the Pilanci–Ergen program of :mod:`copos.relaxations.convex`.

What the value bounds
---------------------
The recovered net :math:`(U, V)` (:func:`copos.recovery.convex.recover_from_convex`) is linear on
every box, so at an exact solution

.. math::

    \text{value} \;\ge\; F_\epsilon(U, V) = \sum_k \max_{\|\delta_k\|_\infty\le\epsilon}
        \ell\big(f_{U,V}(x_k+\delta_k), y_k\big) + \tfrac\beta2\big(\|U\|_F^2 + \|V\|_F^2\big)
    \;\ge\; p^\star_\epsilon(m),

with equality on the left when the robust cones hold exactly: the value is an **upper** bound on
the robust training objective of its own net, hence on the robust optimum :math:`p^\star_\epsilon`
of every width :math:`m` at least the recovered one.  The frozen patterns restrict the net class,
so it is not a lower bound on anything.  ``certified_objective`` recomputes the left side from
the net alone (:func:`copos.nets.attacks.certified_robust_loss`): a rigorous upper bound whatever
the solver did.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

from copos._validation import check_nonnegative, check_positive
from copos.bound import Bound
from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.arrangements import Arrangements
from copos.nets.attacks import Box, Loss, certified_robust_loss, check_loss, stable_units
from copos.nets.problem import TrainingProblem, require_no_output_bias
from copos.recovery.convex import DEFAULT_NEURON_TOL, recover_from_convex
from copos.solvers import DEFAULT_SOLVER, SolveInfo, require_solution, solve
from copos.solvers.registry import is_splitting, runner

FloatArray = NDArray[np.float64]


def robust_quantity(eps: float, loss: str) -> str:
    """The name of :math:`p^\\star_\\epsilon`, the robust training optimum, in a :class:`Bound`."""
    return f"p*_eps={eps:g}({loss}, robust)"


@dataclass(frozen=True, eq=False)
class RobustProgramResult:
    """Solution of the robust convex program (module docstring) and its recovered net.

    Attributes
    ----------
    value:
        The solver's optimal value (an upper bound on ``certified_objective`` of its net when the
        robust cones hold; see the module docstring).
    certified_objective:
        :math:`\\sum_k` :func:`~copos.nets.attacks.certified_robust_loss` of the recovered net plus
        its weight decay, computed in numpy: a rigorous upper bound on its robust objective
        :math:`F_\\epsilon(U, V)`, equal to it when ``stable``.
    stable:
        No recovered unit changes sign on any training box (the net is linear on each).
    """

    value: float
    eps: float
    loss: str
    solve: SolveInfo
    net: TwoLayerReLU
    certified_objective: float
    stable: bool
    v_blocks: FloatArray
    w_blocks: FloatArray
    arrangements: Arrangements
    box: Box

    @property
    def bound(self) -> Bound:
        """``value`` as an upper bound on :math:`p^\\star_\\epsilon` (verified when the solve is accurate)."""
        return Bound(
            value=self.value,
            claimed_kind="upper",
            quantity=robust_quantity(self.eps, self.loss),
            cone="robust arrangements",
            view="convex",
            solve=self.solve,
            time=self.solve.solve_time,
            note=f">= robust objective of its own net ({self.net.m} neurons)",
        )

    @property
    def network_bound(self) -> Bound:
        """``certified_objective``: the recovered net's robust objective bounded in numpy (rigorous upper)."""
        return Bound.of_network(
            self.certified_objective,
            quantity=robust_quantity(self.eps, self.loss),
            note="robust objective of the recovered net, interval-checked in numpy"
            + ("" if self.stable else " (some units unstable: a looser upper bound)"),
        )


def solve_robust_program(
    problem: TrainingProblem,
    eps: float,
    *,
    loss: Loss = "squared",
    arrangements: Arrangements | None = None,
    solver: str = DEFAULT_SOLVER,
    neuron_tol: float = DEFAULT_NEURON_TOL,
    tol: float = 1e-6,
    max_iters: int | None = None,
    time_limit: float | None = None,
) -> RobustProgramResult:
    r"""Solve the ℓ∞-robust program over clean-data ``arrangements`` and recover its net.

    ``problem`` gives :math:`X` (its ones column, if ``problem.bias``, is not perturbed), the
    targets :math:`y` (labels in {-1, +1} for ``hinge`` and ``logistic``) and :math:`\beta`.
    ``arrangements`` default to the problem's exact enumeration; any subset (e.g.
    :func:`~copos.nets.arrangements.sample_arrangements`) gives a further restriction, still an
    upper bound.

    ``solver`` is a CVXPY solver or a registered splitting (``"copos-admm"``:
    :mod:`copos.solvers.admm.robust`, squared and hinge loss), which stops at relative
    residuals and certified gap ``tol`` (or ``max_iters``, ``time_limit``); its value is
    ``verified`` when it stopped there, and ``certified_objective`` is rigorous either way.

    Raises
    ------
    InvalidInputError
        ``c != 1``, an output bias, ``eps < 0``, an unknown loss, labels not in {-1, +1} for
        hinge/logistic, or patterns of the wrong length.
    SolverError
        The solver returned no point.
    """
    require_no_output_bias(problem, "the robust convex program")
    if problem.c != 1:
        raise InvalidInputError(
            f"the robust convex program needs a scalar output (c = 1); got c = {problem.c}"
        )
    eps = check_nonnegative(eps, "eps")
    y = check_loss(loss, problem.Y)
    neuron_tol = check_positive(neuron_tol, "neuron_tol")
    patterns = problem.arrangements() if arrangements is None else arrangements
    if not isinstance(patterns, Arrangements) or patterns.n != problem.n or len(patterns) == 0:
        raise InvalidInputError(
            f"arrangements must be non-empty Arrangements of length n = {problem.n}"
        )
    box = Box.of(eps, problem.d, fixed_last=problem.bias)
    if is_splitting(solver):
        limits = {} if max_iters is None else {"max_iters": max_iters}
        solution = runner(solver, "robust")(
            problem.X, y, problem.beta, patterns.patterns, box.radius, loss,
            tol=check_positive(tol, "tol"), time_limit=time_limit, **limits,
        )  # fmt: skip
        value, info = solution.value, solution.solve
        v_blocks, w_blocks = solution.v_blocks, solution.w_blocks
    else:
        program, v_var, w_var = _build_robust_program(
            problem.X, y, problem.beta, patterns, box, loss
        )
        info = solve(program, solver=solver)
        require_solution(program, info)
        value = float(program.value)
        v_blocks = np.asarray(v_var.value, dtype=np.float64).T
        w_blocks = np.asarray(w_var.value, dtype=np.float64).T
    net = TwoLayerReLU(*recover_from_convex(v_blocks, w_blocks, neuron_tol=neuron_tol))
    return RobustProgramResult(
        value=value,
        eps=eps,
        loss=loss,
        solve=info,
        net=net,
        certified_objective=robust_objective(net, problem.X, y, problem.beta, box, loss),
        stable=stable_units(net, problem.X, box),
        v_blocks=v_blocks,
        w_blocks=w_blocks,
        arrangements=patterns,
        box=box,
    )


def robust_objective(
    net: TwoLayerReLU, X: FloatArray, y: FloatArray, beta: float, box: Box, loss: Loss
) -> float:
    r"""Certified :math:`\sum_k\max_\delta\ell(f(x_k+\delta),y_k) + \tfrac\beta2(\|U\|_F^2+\|V\|_F^2)` (upper)."""
    decay = 0.5 * beta * float(np.sum(net.U**2) + np.sum(net.V**2))
    return float(np.sum(certified_robust_loss(net, X, y, box, loss))) + decay


def _build_robust_program(
    X: FloatArray, y: FloatArray, beta: float, patterns: Arrangements, box: Box, loss: str
) -> tuple[cp.Problem, cp.Variable, cp.Variable]:
    r"""Blocks as columns of two ``(d, P)`` variables; :math:`Z = \mathrm{masks}\,(V - W)^\top` holds the :math:`z_k`."""
    masks = patterns.masks.T  # (n, P)
    signs = 2.0 * masks - 1.0
    d, count = X.shape[1], len(patterns)
    v_var = cp.Variable((d, count), name="v")
    w_var = cp.Variable((d, count), name="w")
    prediction = cp.sum(cp.multiply(masks, X @ (v_var - w_var)), axis=1)
    radius = box.radius
    free = radius > 0
    constraints = [cp.multiply(signs, X @ v_var) >= 0, cp.multiply(signs, X @ w_var) >= 0]
    if box.eps > 0 and free.any():
        Z = masks @ (v_var - w_var).T  # (n, d)
        spread = cp.abs(Z[:, free]) @ radius[free]  # eps ||z_k||_1 over the free coordinates
        ones = np.ones((X.shape[0], 1))
        for block in (v_var, w_var):
            cone = ones @ cp.reshape(radius[free] @ cp.abs(block[free, :]), (1, count), order="C")
            constraints.append(cp.multiply(signs, X @ block) >= cone)
    else:
        spread = cp.Constant(np.zeros(X.shape[0]))
    penalty = cp.sum(cp.norm(v_var, 2, axis=0)) + cp.sum(cp.norm(w_var, 2, axis=0))
    objective = _worst_case_loss(loss, prediction, y, spread) + beta * penalty
    return cp.Problem(cp.Minimize(objective), constraints), v_var, w_var


def _worst_case_loss(
    loss: str, prediction: cp.Expression, y: FloatArray, spread: cp.Expression
) -> cp.Expression:
    r""":math:`\sum_k\bar\ell_\epsilon`: the loss at the worst output in :math:`[t_k - s_k, t_k + s_k]`."""
    if loss == "squared":
        if spread.is_constant():
            return 0.5 * cp.sum_squares(prediction - y)  # eps = 0: the standard program, verbatim
        return 0.5 * cp.sum(cp.square(cp.abs(prediction - y) + spread))
    margin = cp.multiply(y, prediction) - spread
    if loss == "hinge":
        return cp.sum(cp.pos(1 - margin))
    return cp.sum(cp.logistic(-margin))
