r"""Standard quadratic programs: minimize a quadratic form over the simplex.

.. math::

    p^\star = \min\{x^\top Q x : x \in \Delta\}
            = \min\{\langle Q, X\rangle : \langle J, X\rangle = 1,\ X \in \mathcal{CP}\}
            = \max\{\lambda : Q - \lambda J \in \mathcal{COP}\}.

Inner COP cones (:math:`\mathcal K^r`, :math:`\mathcal C^r`) give lower bounds, outer CP cones
(DNN, :math:`(\mathcal K^r)^*`) lower bounds too, and the simplex grid gives upper bounds
(:math:`p_\Delta(m) = \min_{x\in\Delta(n,m)} x^\top Q x`, attained by a grid point).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
from numpy.typing import ArrayLike

from copos._memory import check_memory, grid_points_bytes
from copos._validation import as_symmetric_matrix, check_dimension
from copos.bound import Bound, BoundKind
from copos.cones._polynomial import simplex_grid
from copos.cones.registry import make_cone
from copos.programs.conic import ConicProgram
from copos.solvers.cvxpy_backend import DEFAULT_SOLVER

_FLIP: dict[BoundKind, BoundKind] = {
    "lower": "upper",
    "upper": "lower",
    "exact": "exact",
    "neither": "neither",
}


def stqp_program(Q: ArrayLike) -> ConicProgram:
    """The (CP)/(COP) pair with value :math:`v^\\star = -p^\\star` (a maximization)."""
    matrix = as_symmetric_matrix(Q, "Q")
    n = len(matrix)
    return ConicProgram(C=-matrix, A=(np.ones((n, n)),), b=np.ones(1), quantity="-p*")


def standard_quadratic(
    Q: ArrayLike, family: str = "parrilo", level: int = 0, solver: str = DEFAULT_SOLVER
) -> Bound:
    """A bound on :math:`p^\\star = \\min_{x\\in\\Delta} x^\\top Qx` from one cone family and level."""
    program = stqp_program(Q)
    bound = program.bound(make_cone(family, program.n, level), solver)
    return replace(
        bound, value=-bound.value, claimed_kind=_FLIP[bound.claimed_kind], quantity="StQP p*"
    )


def grid_minimum(Q: ArrayLike, m: int) -> tuple[Bound, np.ndarray]:
    """:math:`p_\\Delta(m)`, an upper bound on :math:`p^\\star`, and the grid point attaining it.

    >>> import numpy as np
    >>> from copos.programs.stqp import grid_minimum
    >>> bound, x = grid_minimum(np.eye(3), 3)  # min of |x|^2 on the simplex: 1/3 at x = 1/3
    >>> bound.kind, round(bound.value, 6), x.tolist()
    ('upper', 0.333333, [0.3333333333333333, 0.3333333333333333, 0.3333333333333333])
    """
    matrix = as_symmetric_matrix(Q, "Q")
    m = check_dimension(m, "m")
    check_memory(
        grid_points_bytes(len(matrix), m),
        f"the simplex grid Delta({len(matrix)}, {m})",
        "Use a smaller grid size m",
    )
    start = time.perf_counter()
    points = simplex_grid(len(matrix), m)
    values = np.einsum("ai,ij,aj->a", points, matrix, points)
    best = int(np.argmin(values))
    bound = Bound(
        value=float(values[best]),
        claimed_kind="upper",
        quantity="StQP p*",
        cone=f"Delta({m})",
        level=m,
        view="grid",
        solve=None,
        time=time.perf_counter() - start,
        certificate={"x": points[best]},
    )
    return bound, points[best]
