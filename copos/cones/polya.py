r"""de Klerk–Pasechnik's linear hierarchy :math:`\mathcal C^r` (inner COP) and its dual.

.. math::

    \mathcal C^r_n = \Big\{M : \big(\textstyle\sum_i y_i\big)^r\, y^\top M y
    \ \text{has only nonnegative coefficients}\Big\},\qquad
    \mathcal C^0 = \mathcal N,\quad \mathcal C^r \subseteq \mathcal K^r,

a polyhedral cone (Pólya's theorem makes the union dense in :math:`\mathrm{int}\,\mathcal{COP}`).
Its dual is :math:`(\mathcal C^r)^* = \{B^\top y : y \ge 0\}` with ``B`` the coefficient map.
"""

from __future__ import annotations

from copos.cones._polynomial import coefficient_operator
from copos.cones.base import Cone, Family, Formulation, Side
from copos.cones.hierarchy import HierarchyCone
from copos.solvers.modeling import Expression, Model, symmetric_equal


class DeKlerkPasechnik(HierarchyCone):
    """:math:`\\mathcal C^r_{n,k}`, polyhedral inner approximation of the copositive cone."""

    family: Family = "COP"
    side: Side = "inner"
    memory_model = "dkp"

    @property
    def symbol(self) -> str:
        return f"C^{self.level}"

    @property
    def dual(self) -> Cone:
        return DeKlerkPasechnikDual(self.n, self.level, self.k)

    def _orthant_version(self, size: int) -> HierarchyCone:
        return DeKlerkPasechnik(size, self.level)

    def _formulate_orthant(self, M: Expression, model: Model) -> Formulation:
        coefficients = model.matmul(coefficient_operator(self.n, self.level), model.vec(M))
        return Formulation([model.nonneg(coefficients)], {"coefficients": coefficients})


class DeKlerkPasechnikDual(HierarchyCone):
    """:math:`(\\mathcal C^r_{n,k})^*`, polyhedral outer approximation of the CP cone."""

    family: Family = "CP"
    side: Side = "outer"
    memory_model = "dkp"

    @property
    def symbol(self) -> str:
        return f"(C^{self.level})*"

    @property
    def dual(self) -> Cone:
        return DeKlerkPasechnik(self.n, self.level, self.k)

    def _orthant_version(self, size: int) -> HierarchyCone:
        return DeKlerkPasechnikDual(size, self.level)

    def _formulate_orthant(self, M: Expression, model: Model) -> Formulation:
        operator = coefficient_operator(self.n, self.level)
        y = model.variable((operator.shape[0],), nonneg=True)
        constraints = [
            model.nonneg(y),
            symmetric_equal(model, model.vec(M), model.matmul(operator.T.tocsr(), y), self.n),
        ]
        return Formulation(constraints, {"multipliers": y})
