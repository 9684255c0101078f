r"""Shared machinery of the level-``r`` hierarchies: pullbacks to the orthant and dual pairs.

For ``k < n`` a hierarchy cone is the pullback of its ``k = n`` version of side ``2n - k``:
:math:`M \in K_{n,k} \iff L^\top M L \in K_{2n-k}`; its dual is the pushforward
:math:`\{LYL^\top : Y \in K_{2n-k}^*\}` (``copos.cones.base`` explains ``L``).
"""

from __future__ import annotations

from abc import abstractmethod

from copos._memory import check_memory, cone_bytes
from copos._validation import check_level
from copos.cones.base import Cone, Formulation, lifted, pushed
from copos.solvers.modeling import Expression, Model, symmetric_equal


class HierarchyCone(Cone):
    """A cone of a hierarchy indexed by ``level``; subclasses describe the ``k = n`` case.

    Construction refuses (:class:`~copos.errors.TooLargeError`) a cone whose program would
    need more memory than ``copos._memory.current_limit()``, before anything is built.
    """

    #: Which estimate of ``copos._memory.cone_bytes`` applies ("parrilo" or "dkp").
    memory_model: str = "parrilo"

    def __init__(self, n: int, level: int, k: int | None = None) -> None:
        super().__init__(n, k)
        self._level = check_level(level)
        check_memory(
            cone_bytes(self.memory_model, self.n, self._level, self.k),
            f"a program over {self.symbol} on {self.n}x{self.n} matrices",
            "Use a lower level or a smaller problem",
        )

    @property
    def level(self) -> int:
        return self._level

    @abstractmethod
    def _formulate_orthant(self, M: Expression, model: Model) -> Formulation:
        """The cone for ``k = n`` (sign constraints on every coordinate)."""

    @abstractmethod
    def _orthant_version(self, size: int) -> HierarchyCone:
        """The same family and level on :math:`\\mathbb R^{size}_+`."""

    def _formulate(self, M: Expression, model: Model) -> Formulation:
        if self.k == self.n:
            return self._formulate_orthant(M, model)
        full = self._orthant_version(2 * self.n - self.k)
        if self.family == "COP":
            return full._formulate_orthant(lifted(M, self.n, self.k, model), model)
        Y = model.symmetric(2 * self.n - self.k)
        inner = full._formulate_orthant(Y, model)
        image = pushed(Y, self.n, self.k, model)
        link = symmetric_equal(model, model.vec(M), model.vec(image), self.n)
        constraints = [*inner.constraints, link]
        return Formulation(constraints, {**inner.auxiliaries, "Y": Y})
