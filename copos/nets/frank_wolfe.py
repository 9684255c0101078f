r"""Frank–Wolfe on the gauge form of the training problem: an **upper** bound.

.. math:: \min_{\Lambda \in t\,\operatorname{conv}\{(D_iXu)v^\top : A_iu\ge0,\ \|u\|\le1,\ \|v\|\le1\}}
    \ \tfrac12\|\Lambda - Y\|_F^2 + \beta t .
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from copos._validation import check_dimension, check_positive
from copos.bound import Bound
from copos.errors import InvalidInputError
from copos.nets.architectures.dense import network_objective
from copos.nets.arrangements import Arrangements
from copos.nets.cone_pca import MAX_ORACLE_DIM, cone_pca, face_bases
from copos.nets.patterns import cone_rows, patterns_for
from copos.nets.problem import TrainingProblem

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class FrankWolfeResult:
    r"""Outcome of :func:`frank_wolfe`.

    Attributes
    ----------
    U, V:
        The final iterate as a balanced network (one neuron per atom).
    objective:
        Its training objective (true ReLU, weight decay): an **upper** bound on p*.
    fw_value:
        :math:`\tfrac12\|R\|_F^2 + \beta t` for the final residual ``R``; at least ``objective``.
    gap:
        Frank–Wolfe gap :math:`\max_{S\in\text{set}}\langle R, S - F\rangle` of the last iterate;
        :math:`\tfrac12\|R\|^2 - \text{gap}` lower-bounds the constrained (restricted) problem.
    history:
        ``objective`` after every iteration.
    radius:
        The constraint radius ``t``.
    bound_kind:
        Always ``"upper"``.
    """

    U: FloatArray
    V: FloatArray
    objective: float
    fw_value: float
    gap: float
    history: FloatArray
    radius: float
    bound_kind: Literal["upper"] = field(default="upper")

    @property
    def bound(self) -> Bound:
        """``objective`` as a rigorous upper :class:`~copos.bound.Bound` on p* (a real network)."""
        return Bound.of_network(self.objective)


def frank_wolfe(
    problem: TrainingProblem,
    arrangements: Arrangements,
    *,
    radius: float,
    iterations: int = 200,
    seed: int = 0,
) -> FrankWolfeResult:
    r"""Frank–Wolfe with exact line search on the constrained gauge problem.

    .. math::

        \min_{V_i}\ \tfrac12\Big\|Y - \sum_iD_iXV_i\Big\|_F^2\ \ \text{s.t.}\ \
        \sum_i\|V_i\|_{\mathcal B_i} \le t .

    Each step calls :func:`cone_pca` on every pattern, :math:`u_i = \arg\max_{A_iu\ge0,\|u\|\le1}
    \|R^\top D_iXu\|`, and moves towards the atom :math:`t\,D_iXu\,g^\top`, :math:`g =
    R^\top D_iXu/\|R^\top D_iXu\|`, of the best pattern.  Atoms lie in their pattern cones, so
    every iterate is a real network with path norm at most ``t``; its weight-decay objective
    after rebalancing is an **upper** bound on p* (with any arrangements, complete or not).

    Limits: ``d <= 3`` (the oracle enumerates :math:`O(n^{d-1})` faces per pattern); sublinear
    convergence; the value depends on ``radius`` (use e.g. the path norm of a trained net).

    Parameters
    ----------
    problem:
        Training problem.
    arrangements:
        Patterns to draw atoms from.
    radius:
        Path-norm budget ``t > 0``.
    iterations:
        Number of Frank–Wolfe steps.
    seed:
        Unused by the deterministic iteration; accepted for interface stability.

    Returns
    -------
    FrankWolfeResult
    """
    del seed  # the iteration is deterministic
    patterns = patterns_for(problem, arrangements)
    t = check_positive(radius, "radius")
    iterations = check_dimension(iterations, "iterations")
    if problem.d > MAX_ORACLE_DIM:
        raise InvalidInputError(
            f"frank_wolfe's exact oracle supports d <= {MAX_ORACLE_DIM}; got d = {problem.d}"
        )
    cones = [cone_rows(problem, patterns, i) for i in range(len(patterns))]
    masks = [patterns.D(i) for i in range(len(patterns))]
    bases = face_bases(problem.X)
    prediction = np.zeros_like(problem.Y)
    atoms_u: list[FloatArray] = []
    atoms_g: list[FloatArray] = []
    weights = np.zeros(0)
    history = np.empty(iterations)
    gap = float("inf")
    for k in range(iterations):
        residual = problem.Y - prediction
        u, g, i = _best_atom(problem, residual, masks, cones, bases)
        target = t * np.outer(masks[i] * (problem.X @ u), g)
        step, gap = _line_search(residual, target - prediction)
        prediction = (1.0 - step) * prediction + step * target
        weights = np.append((1.0 - step) * weights, step * t)
        atoms_u.append(u)
        atoms_g.append(g)
        history[k] = _atoms_objective(problem, atoms_u, atoms_g, weights)
    U, V = _atoms_network(atoms_u, atoms_g, weights)
    residual = problem.Y - prediction
    return FrankWolfeResult(
        U=U,
        V=V,
        objective=network_objective(problem, U, V),
        fw_value=0.5 * float(np.sum(residual**2)) + problem.beta * t,
        gap=gap,
        history=history,
        radius=t,
    )


def _best_atom(
    problem: TrainingProblem,
    residual: FloatArray,
    masks: list[FloatArray],
    cones: list[FloatArray],
    bases: list[FloatArray],
) -> tuple[FloatArray, FloatArray, int]:
    """Unit ``u`` (in a pattern cone), unit ``g`` and the pattern index of the best atom."""
    best: tuple[float, FloatArray, int] = (-1.0, np.zeros(problem.d), 0)
    for i, (mask, A) in enumerate(zip(masks, cones, strict=True)):
        G = residual.T @ (mask[:, None] * problem.X)
        u, value = cone_pca(G, A, bases=bases)
        if value > best[0]:
            best = (value, u, i)
    _, u, i = best
    direction = residual.T @ (masks[i] * (problem.X @ u))
    norm = float(np.linalg.norm(direction))
    g = direction / norm if norm > 0 else np.zeros(problem.c)
    return u, g, i


def _line_search(residual: FloatArray, direction: FloatArray) -> tuple[float, float]:
    r"""Exact step :math:`\arg\min_{\gamma\in[0,1]}\tfrac12\|R - \gamma\Delta\|^2` and the FW gap
    :math:`\langle R, \Delta\rangle`."""
    gap = float(np.sum(residual * direction))
    curvature = float(np.sum(direction**2))
    step = 0.0 if curvature == 0 else min(1.0, max(0.0, gap / curvature))
    return step, gap


def _atoms_network(
    atoms_u: list[FloatArray], atoms_g: list[FloatArray], weights: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Balanced neurons :math:`(\\sqrt w\\,u,\\ \\sqrt w\\,g)` of the atoms with ``w > 0``."""
    roots = np.sqrt(np.maximum(weights, 0.0))
    keep = roots > 0
    U = (np.array(atoms_u) * roots[:, None])[keep].T
    V = (np.array(atoms_g) * roots[:, None])[keep]
    return U, V


def _atoms_objective(
    problem: TrainingProblem,
    atoms_u: list[FloatArray],
    atoms_g: list[FloatArray],
    weights: FloatArray,
) -> float:
    U, V = _atoms_network(atoms_u, atoms_g, weights)
    if U.shape[1] == 0:
        return 0.5 * float(np.sum(problem.Y**2))
    return network_objective(problem, U, V)
