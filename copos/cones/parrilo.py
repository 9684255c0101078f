r"""Parrilo's sum-of-squares hierarchy :math:`\mathcal K^r` (inner COP) and its dual (outer CP).

.. math::

    \mathcal K^r_n = \Big\{M : \big(\textstyle\sum_i x_i^2\big)^r \sum_{ij} M_{ij}x_i^2x_j^2
    \ \text{is a sum of squares}\Big\},\qquad
    \mathcal K^0 = \mathbb S_+ + \mathcal N \subseteq \mathcal K^1 \subseteq \dots \subseteq \mathcal{COP}.

The Gram matrix is taken block diagonal by sign symmetry (one block per parity class of the
half-degree monomials, ``copos.cones._polynomial``): for ``r = 1`` that is ``n`` PSD blocks of
size ``n`` and :math:`\binom n3` nonnegative scalars.  ``gram="full"`` uses one dense Gram matrix
instead (same cone, for benchmarks).  The dual is the moment cone

.. math::

    (\mathcal K^r)^* = \{B^\top y :\ \mathcal M_c(y) \succeq 0 \text{ for every class } c\}
    \supseteq \mathcal{CP},\qquad (\mathcal K^0)^* = \mathcal{DNN}.
"""

from __future__ import annotations

from typing import Literal

import scipy.sparse as sp

from copos.cones._polynomial import coefficient_operator, full_gram_structure, gram_structure
from copos.cones.base import Cone, Family, Formulation, Side
from copos.cones.basic import DNN, INNER_FAMILIES, SPN
from copos.cones.hierarchy import HierarchyCone
from copos.errors import InvalidInputError
from copos.solvers.modeling import Expression, Model, symmetric_equal

Gram = Literal["blocks", "full"]


def _check_gram(gram: str) -> Gram:
    if gram not in ("blocks", "full"):
        raise InvalidInputError(f"gram must be 'blocks' or 'full'; got {gram!r}")
    return gram  # type: ignore[return-value]


class Parrilo(HierarchyCone):
    """:math:`\\mathcal K^r_{n,k}`, inner approximation of the copositive cone."""

    family: Family = "COP"
    side: Side = "inner"

    def __init__(self, n: int, level: int, k: int | None = None, gram: Gram = "blocks") -> None:
        self.gram = _check_gram(gram)  # before the size check, which depends on it
        super().__init__(n, level, k)

    @property
    def memory_model(self) -> str:  # type: ignore[override]
        return "parrilo-full" if self.gram == "full" else "parrilo"

    @property
    def symbol(self) -> str:
        return f"K^{self.level}"

    @property
    def dual(self) -> Cone:
        return ParriloDual(self.n, self.level, self.k, self.gram)

    def _orthant_version(self, size: int) -> HierarchyCone:
        return Parrilo(size, self.level, None, self.gram)

    def _formulate(self, M: Expression, model: Model) -> Formulation:
        if self.level == 0:
            return SPN(self.n, self.k)._formulate(M, model)
        return super()._formulate(M, model)

    def _formulate_orthant(self, M: Expression, model: Model) -> Formulation:
        coefficients = model.matmul(coefficient_operator(self.n, self.level), model.vec(M))
        if self.gram == "full":
            return self._full_gram(coefficients, model)
        structure = gram_structure(self.n, self.level)
        constraints = []
        blocks = []
        total = None
        for size, block_map in zip(structure.block_sizes, structure.block_maps, strict=True):
            block, extra = model.psd_variable(size)
            constraints += extra
            blocks.append(block)
            term = model.matmul(block_map, model.vec(block))
            total = term if total is None else total + term
        auxiliaries: dict[str, object] = {"gram_blocks": blocks}
        if structure.num_scalars:
            scalars = model.variable((structure.num_scalars,), nonneg=True)
            constraints.append(model.nonneg(scalars))
            auxiliaries["gram_scalars"] = scalars
            term = model.matmul(structure.scalar_map, scalars)
            total = term if total is None else total + term
        constraints.append(model.equal(total, coefficients))
        return Formulation(constraints, auxiliaries)

    def _full_gram(self, coefficients: Expression, model: Model) -> Formulation:
        structure = full_gram_structure(self.n, self.level)
        gram, constraints = model.psd_variable(structure.size)
        rows = structure.gram_map.shape[0]
        selector = sp.csr_matrix(
            (
                [1.0] * len(structure.even_rows),
                (structure.even_rows, range(len(structure.even_rows))),
            ),
            shape=(rows, len(structure.even_rows)),
        )
        lhs = model.matmul(structure.gram_map, model.vec(gram))
        constraints.append(model.equal(lhs, model.matmul(selector, coefficients)))
        return Formulation(constraints, {"gram": gram})


class ParriloDual(HierarchyCone):
    """:math:`(\\mathcal K^r_{n,k})^*`, outer approximation of the completely positive cone."""

    family: Family = "CP"
    side: Side = "outer"

    def __init__(self, n: int, level: int, k: int | None = None, gram: Gram = "blocks") -> None:
        self.gram = _check_gram(gram)  # before the size check, which depends on it
        super().__init__(n, level, k)

    @property
    def memory_model(self) -> str:  # type: ignore[override]
        return "parrilo-full" if self.gram == "full" else "parrilo"

    @property
    def symbol(self) -> str:
        return "DNN" if self.level == 0 else f"(K^{self.level})*"

    @property
    def dual(self) -> Cone:
        return Parrilo(self.n, self.level, self.k, self.gram)

    def _orthant_version(self, size: int) -> HierarchyCone:
        return ParriloDual(size, self.level, None, self.gram)

    def _formulate(self, M: Expression, model: Model) -> Formulation:
        if self.level == 0:
            return DNN(self.n, self.k)._formulate(M, model)
        return super()._formulate(M, model)

    def _formulate_orthant(self, M: Expression, model: Model) -> Formulation:
        operator = coefficient_operator(self.n, self.level)
        if self.gram == "full":
            return self._full_moments(M, operator, model)
        structure = gram_structure(self.n, self.level)
        y = model.variable((structure.num_coefficients,))
        constraints = [
            symmetric_equal(model, model.vec(M), model.matmul(operator.T.tocsr(), y), self.n)
        ]
        moments = []
        for size, block_map in zip(structure.block_sizes, structure.block_maps, strict=True):
            moment, extra = model.psd_variable(size)
            constraints += extra
            constraints.append(
                symmetric_equal(
                    model, model.vec(moment), model.matmul(block_map.T.tocsr(), y), size
                )
            )
            moments.append(moment)
        if structure.num_scalars:
            constraints.append(model.nonneg(model.matmul(structure.scalar_map.T.tocsr(), y)))
        return Formulation(constraints, {"moments": y, "moment_blocks": moments})

    def _full_moments(self, M: Expression, operator: sp.csr_matrix, model: Model) -> Formulation:
        structure = full_gram_structure(self.n, self.level)
        y = model.variable((structure.gram_map.shape[0],))
        moment, constraints = model.psd_variable(structure.size)
        constraints.append(
            symmetric_equal(
                model,
                model.vec(moment),
                model.matmul(structure.gram_map.T.tocsr(), y),
                structure.size,
            )
        )
        even = model.matmul(
            sp.csr_matrix(
                (
                    [1.0] * len(structure.even_rows),
                    (range(len(structure.even_rows)), structure.even_rows),
                ),
                shape=(len(structure.even_rows), structure.gram_map.shape[0]),
            ),
            y,
        )
        constraints.append(
            symmetric_equal(model, model.vec(M), model.matmul(operator.T.tocsr(), even), self.n)
        )
        return Formulation(constraints, {"moments": y, "moment_matrix": moment})


INNER_FAMILIES["parrilo"] = Parrilo
