r"""Bai, Gautam and Sojoudi's unconstrained route: the gated-ReLU program on sampled gates.

Draw gates :math:`h_1, \dots, h_N \sim \mathcal N(0, I_d)`, let :math:`D_j =
\mathrm{diag}(\mathbb 1[Xh_j \ge 0])` (distinct patterns kept), and solve the group lasso

.. math::

    \min_{q_1,\dots,q_P}\ \tfrac12\Big\|\sum_{j=1}^P D_jXq_j - y\Big\|_2^2 + \beta\sum_j\|q_j\|_2

by accelerated proximal gradient (:mod:`copos.solvers.apg`): no cone constraints.  Its solution is
a *gated* net :math:`f(x) = \sum_j\mathbb 1[h_j^\top x \ge 0]\,x^\top q_j`.  The cone decomposition
(Mishkin, Sahiner, Pilanci 2022) writes each :math:`q_j = v_j - w_j` with :math:`v_j, w_j` in
:math:`\mathcal K_j = \{u : (2D_j - I)Xu \ge 0\}` and :math:`\|v_j\| + \|w_j\|` least; on
:math:`\mathcal K_j` the ReLU is :math:`D_jX`, so the ReLU net of the pairs
(:func:`copos.recovery.convex.recover_from_convex`) reproduces the gated net on the data, at a
weight decay :math:`\beta\sum_j(\|v_j\|+\|w_j\|) \ge \beta\sum_j\|q_j\|`.

What the numbers bound
----------------------
* The gated value over all patterns is a lower bound on :math:`p^\star` (drop the cones of the
  Pilanci–Ergen program, merge :math:`q = v - w`); over *sampled* gates it bounds nothing about
  :math:`p^\star` (direction ``neither``).  APG's certified dual value is a lower bound on the
  gated program over the sampled gates.
* The decomposed ReLU net's objective is a real net's: a rigorous upper bound on :math:`p^\star`.

Scenario bound (bai2022.md §2, our reading (R), not checked against the paper's theorem): the
dual of the gated program has :math:`n` variables and one convex constraint
:math:`\|X^\top D_h\lambda\| \le \beta` per gate :math:`h`, so it is a scenario program.  With
:math:`N` i.i.d. gates, the probability that a fresh gate violates the sampled dual solution
(would lower the primal) exceeds :math:`\psi` with probability at most
:math:`\sum_{i<n}\binom Ni\psi^i(1-\psi)^{N-i} =: \xi`; :math:`N \ge \tfrac2\psi(n - 1 +
\ln\tfrac1\xi)` suffices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray
from scipy.stats import binom

from copos._validation import check_dimension, check_positive
from copos.bound import Bound
from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU, network_objective
from copos.nets.arrangements import Arrangements, sample_arrangements
from copos.nets.problem import TrainingProblem, require_no_output_bias
from copos.recovery.convex import DEFAULT_NEURON_TOL, recover_from_convex
from copos.solvers import DEFAULT_SOLVER, SolveInfo, require_solution, solve
from copos.solvers.apg import DEFAULT_MAX_ITERS, DEFAULT_TOL, Operator, group_lasso_apg

FloatArray = NDArray[np.float64]

#: Default confidence parameter xi of the scenario bound.
DEFAULT_XI = 1e-3


# ---------------------------------------------------------------------------- scenario bound
def scenario_samples(n: int, psi: float, xi: float = DEFAULT_XI) -> int:
    r"""A sufficient number of gates, :math:`\lceil\tfrac2\psi(n - 1 + \ln\tfrac1\xi)\rceil` (R)."""
    n = check_dimension(n, "n")
    psi, xi = _check_probability(psi, "psi"), _check_probability(xi, "xi")
    return math.ceil(2.0 / psi * (n - 1 + math.log(1.0 / xi)))


def scenario_level(gates: int, n: int, xi: float = DEFAULT_XI) -> float:
    r"""The least :math:`\psi` with :math:`\sum_{i<n}\binom Ni\psi^i(1-\psi)^{N-i} \le \xi` (1 if none).

    With probability at least :math:`1 - \xi` over the draw of the :math:`N` gates, a fresh gate
    lowers the optimum with probability at most :math:`\psi` ("ψ-level optimal"; R).
    """
    gates, n = check_dimension(gates, "gates"), check_dimension(n, "n")
    xi = _check_probability(xi, "xi")
    if gates < n or binom.cdf(n - 1, gates, 1.0 - 1e-15) > xi:
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(60):
        middle = 0.5 * (low + high)
        low, high = (low, middle) if binom.cdf(n - 1, gates, middle) <= xi else (middle, high)
    return high


def _check_probability(value: float, name: str) -> float:
    value = check_positive(value, name)
    if value >= 1.0:
        raise InvalidInputError(f"{name} must be in (0, 1); got {value!r}")
    return value


# ---------------------------------------------------------------------------- operators
def gated_operators(X: FloatArray, masks: FloatArray) -> tuple[Operator, Operator]:
    r"""``forward(Q) = Σ_j D_jXq_j`` and ``adjoint(r) = (X^\top D_jr)_j`` (``masks``: ``(n, P)``)."""

    def forward(Q: FloatArray) -> FloatArray:
        return np.sum(masks * (X @ Q.T), axis=1)

    def adjoint(r: FloatArray) -> FloatArray:
        return (masks * r[:, None]).T @ X

    return forward, adjoint


# ---------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class GatedResult:
    """The gated program's solution ``Q`` (rows :math:`q_j`), its value and certified lower bound."""

    value: float
    lower_bound: float
    Q: FloatArray
    gates: Arrangements
    solve: SolveInfo
    drawn: int
    xi: float = DEFAULT_XI

    @property
    def psi(self) -> float:
        """:func:`scenario_level` of the ``drawn`` gates at ``xi`` (R: our reading of bai2022.md §2)."""
        return scenario_level(self.drawn, self.gates.n, self.xi)

    @property
    def bound(self) -> Bound:
        """The gated value: direction ``neither`` on p* over sampled gates (``lower`` over all)."""
        return Bound(
            value=self.value,
            claimed_kind="lower" if self.gates.complete else "neither",
            cone="gates",
            view="convex",
            solve=self.solve,
            time=self.solve.solve_time,
            note=f"gated ReLU, {len(self.gates)} gates of {self.drawn} drawn; psi = {self.psi:.3g} "
            f"with probability 1 - {self.xi:g}",
        )

    def predict_on_data(self, X: FloatArray) -> FloatArray:
        """The gated net on the training data (the patterns are the data's)."""
        forward, _ = gated_operators(X, self.gates.masks.T)
        return forward(self.Q)


def solve_gated_program(
    problem: TrainingProblem,
    gates: Arrangements | int,
    *,
    seed: int = 0,
    tol: float = DEFAULT_TOL,
    max_iters: int = DEFAULT_MAX_ITERS,
    xi: float = DEFAULT_XI,
) -> GatedResult:
    """Solve the gated program (module docstring) by APG on ``gates`` (or that many sampled gates).

    Raises
    ------
    InvalidInputError
        ``c != 1``, an output bias, gates of the wrong length, or bad parameters.
    """
    require_no_output_bias(problem, "the gated-ReLU program")
    if problem.c != 1:
        raise InvalidInputError(
            f"the gated-ReLU program needs a scalar output (c = 1); got c = {problem.c}"
        )
    xi = _check_probability(xi, "xi")
    if isinstance(gates, Arrangements):
        patterns, drawn = gates, len(gates)
    else:
        drawn = check_dimension(gates, "gates")
        patterns = sample_arrangements(problem.X, drawn, seed=seed)
    if patterns.n != problem.n:
        raise InvalidInputError(
            f"gates have patterns of length {patterns.n}, but X has {problem.n} rows"
        )
    forward, adjoint = gated_operators(problem.X, patterns.masks.T)
    solution = group_lasso_apg(
        forward,
        adjoint,
        problem.Y[:, 0],
        problem.beta,
        (len(patterns), problem.d),
        tol=tol,
        max_iters=max_iters,
    )
    return GatedResult(
        solution.value, solution.lower_bound, solution.x, patterns, solution.solve, drawn, xi
    )


# ---------------------------------------------------------------------------- cone decomposition
@dataclass(frozen=True, eq=False)
class ConeDecomposition:
    """Blocks :math:`v_j - w_j = q_j` in the cones, the ReLU net of the pairs and its objective."""

    v_blocks: FloatArray
    w_blocks: FloatArray
    net: TwoLayerReLU
    objective: float
    solve: SolveInfo

    @property
    def network_bound(self) -> Bound:
        """The ReLU net's objective, computed with the true ReLU: a rigorous upper bound on p*."""
        return Bound.of_network(self.objective, note=f"cone decomposition, {self.net.m} neurons")


def cone_decomposition(
    problem: TrainingProblem,
    result: GatedResult,
    *,
    solver: str = DEFAULT_SOLVER,
    neuron_tol: float = DEFAULT_NEURON_TOL,
) -> ConeDecomposition:
    r"""Each :math:`q_j = v_j - w_j`, :math:`\min\sum_j\|v_j\|+\|w_j\|`, :math:`(2D_j-I)X\{v_j,w_j\} \ge 0`.

    One SOCP (separable over :math:`j`) through copos's CVXPY backend.  Each cone has an interior
    (it holds :math:`h_j` with :math:`Xh_j \ne 0`), so the difference of a full-dimensional cone
    with itself is :math:`\mathbb R^d` and the program is feasible.
    """
    masks = result.gates.masks.T
    signs = 2.0 * masks - 1.0
    v_var = cp.Variable(result.Q.T.shape, name="v")
    w_var = cp.Variable(result.Q.T.shape, name="w")
    constraints = [
        v_var - w_var == result.Q.T,
        cp.multiply(signs, problem.X @ v_var) >= 0,
        cp.multiply(signs, problem.X @ w_var) >= 0,
    ]
    program = cp.Problem(
        cp.Minimize(cp.sum(cp.norm(v_var, 2, axis=0)) + cp.sum(cp.norm(w_var, 2, axis=0))),
        constraints,
    )
    info = solve(program, solver=solver)
    require_solution(program, info)
    v_blocks = np.asarray(v_var.value, dtype=np.float64).T
    w_blocks = np.asarray(w_var.value, dtype=np.float64).T
    U, V = recover_from_convex(v_blocks, w_blocks, neuron_tol=neuron_tol)
    return ConeDecomposition(
        v_blocks, w_blocks, TwoLayerReLU(U, V), network_objective(problem, U, V), info
    )
