r"""Linear programs over the completely positive cone and their copositive duals.

.. math::

    \text{(CP)}\quad v^\star = \max\{\langle C, X\rangle : \langle A_i, X\rangle = b_i,\ X \in \mathcal{CP}\}
    \qquad
    \text{(COP)}\quad \min\{b^\top y : \textstyle\sum_i y_iA_i - C \in \mathcal{COP}\}.

Replacing a cone by an approximation moves the optimum in a known direction, which is what every
:class:`~copos.bound.Bound` records:

=================  ================  =========================
cone               view solved       bound on :math:`v^\star`
=================  ================  =========================
outer CP           (CP)              upper
inner CP           (CP)              lower
inner COP          (COP)             upper
outer COP          (COP)             lower
=================  ================  =========================

(assuming no duality gap between the exact (CP) and (COP), true for the programs here).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

from copos.bound import Bound, BoundKind
from copos.cones.base import Cone
from copos.errors import InvalidInputError
from copos.solvers.base import SolveInfo
from copos.solvers.cvxpy_backend import DEFAULT_SOLVER, solve
from copos.solvers.modeling import PicosModel

FloatArray = NDArray[np.float64]

_DIRECTION: dict[tuple[str, str], BoundKind] = {
    ("CP", "outer"): "upper",
    ("CP", "inner"): "lower",
    ("COP", "inner"): "upper",
    ("COP", "outer"): "lower",
}


@dataclass(frozen=True)
class ConicProgram:
    """The pair (CP)/(COP) with data ``C``, ``A_i``, ``b`` (symmetric ``n x n`` matrices)."""

    C: FloatArray
    A: tuple[FloatArray, ...]
    b: FloatArray
    quantity: str = "v*"

    @property
    def n(self) -> int:
        return int(self.C.shape[0])

    def direction(self, cone: Cone) -> BoundKind:
        """Which side of :math:`v^\\star` the program over ``cone`` lies on."""
        if cone.side == "exact":
            raise InvalidInputError(
                f"{cone.name} has no finite description; pass an inner or outer approximation"
            )
        return _DIRECTION[(cone.family, cone.side)]

    @property
    def objective_scale(self) -> float:
        """The unit of v*: ``max(|C_ij|) * max(1, |b|)``, against which the gap of a
        solve is measured (the optimum itself may be 0)."""
        scale = float(np.max(np.abs(self.C))) * max(1.0, float(np.max(np.abs(self.b), initial=0.0)))
        return scale if np.isfinite(scale) and scale > 0 else 1.0

    def view(self, cone: Cone) -> str:
        """Cones of the CP family are used in (CP), those of the COP family in (COP)."""
        return "cp" if cone.family == "CP" else "cop"

    def cvxpy_problem(self, cone: Cone) -> tuple[cp.Problem, dict[str, object]]:
        """The cvxpy problem over ``cone`` and the expressions whose values certify it."""
        self._check_cone(cone)
        if cone.family == "CP":
            X = cp.Variable((self.n, self.n), symmetric=True)
            formulation = cone.formulate(X)
            constraints = [
                cp.trace(A_i @ X) == b_i for A_i, b_i in zip(self.A, self.b, strict=True)
            ]
            problem = cp.Problem(
                cp.Maximize(cp.trace(self.C @ X)), constraints + formulation.constraints
            )
            return problem, {"X": X, **formulation.auxiliaries}
        y = cp.Variable(len(self.A))
        slack = sum((y[i] * A_i for i, A_i in enumerate(self.A)), start=-cp.Constant(self.C))
        formulation = cone.formulate(slack)
        problem = cp.Problem(cp.Minimize(self.b @ y), formulation.constraints)
        return problem, {"y": y, "slack": slack, **formulation.auxiliaries}

    def bound(self, cone: Cone, solver: str = DEFAULT_SOLVER, **options: Any) -> Bound:
        """Solve over ``cone`` and label the optimum as a bound on :math:`v^\\star`."""
        kind = self.direction(cone)
        start = time.perf_counter()
        problem, expressions = self.cvxpy_problem(cone)
        options.setdefault("objective_scale", self.objective_scale)
        info = solve(problem, solver, **options)
        value = _optimal_value(problem, info)
        return Bound(
            value=value,
            claimed_kind=kind,
            quantity=self.quantity,
            cone=cone.symbol,
            level=cone.level,
            view=self.view(cone),
            solve=info,
            time=time.perf_counter() - start,
            certificate=_values(expressions),
        )

    def picos_problem(self, cone: Cone) -> object:
        """The same program transcribed for PICOS (solve it with ``solver="cvxopt"``)."""
        import picos

        self._check_cone(cone)
        model = PicosModel()
        problem = picos.Problem()
        if cone.family == "CP":
            X = picos.SymmetricVariable("X", self.n)
            for A_i, b_i in zip(self.A, self.b, strict=True):
                problem.add_constraint((picos.Constant(A_i) | X) == float(b_i))
            for constraint in cone.formulate(X, model).constraints:
                problem.add_constraint(constraint)
            problem.set_objective("max", picos.Constant(self.C) | X)
            return problem
        y = picos.RealVariable("y", len(self.A))
        slack = -picos.Constant(self.C)
        for i, A_i in enumerate(self.A):
            slack = slack + y[i] * picos.Constant(A_i)
        for constraint in cone.formulate(slack, model).constraints:
            problem.add_constraint(constraint)
        problem.set_objective("min", picos.Constant(self.b.reshape(1, -1)) * y)
        return problem

    def _check_cone(self, cone: Cone) -> None:
        if cone.n != self.n:
            raise InvalidInputError(
                f"cone {cone.name} has side {cone.n}; the program needs {self.n}"
            )
        self.direction(cone)


def _optimal_value(problem: cp.Problem, info: SolveInfo) -> float:
    if info.status in ("infeasible", "infeasible_inaccurate"):
        return float(problem.value) if problem.value is not None else np.nan
    if problem.value is None:
        return np.nan
    return float(problem.value)


def _values(expressions: dict[str, object]) -> dict[str, object]:
    values: dict[str, object] = {}
    for key, expr in expressions.items():
        if isinstance(expr, Sequence):
            values[key] = [None if e.value is None else np.asarray(e.value) for e in expr]  # type: ignore[attr-defined]
        else:
            value = getattr(expr, "value", None)
            values[key] = None if value is None else np.asarray(value)
    return values
