r"""The exact cones and the self-describing ones: PSD, N, DNN, S+ + N, COP and CP.

.. math::

    \mathcal{DNN}_{n,k} = \{M \succeq 0 : M_{[k],[k]} \ge 0\},\qquad
    \mathcal{DNN}_{n,k}^* = \mathbb S^n_+ + \mathcal N_{n,k},

where :math:`\mathcal N_{n,k}` holds the entrywise nonnegative matrices supported on the
leading :math:`k\times k` block.  For :math:`n \le 4` (and ``k = n``),
:math:`\mathbb S_+ + \mathcal N = \mathcal{COP}` and :math:`\mathcal{DNN} = \mathcal{CP}`.
"""

from __future__ import annotations

from collections.abc import Callable

from numpy.typing import ArrayLike

from copos.cones.base import Cone, Family, Formulation, Membership, Side
from copos.cones.membership import cp_factorize, is_copositive
from copos.cones.polya import DeKlerkPasechnik
from copos.cones.polyhedral import SimplexGridCOP, SimplexGridCP
from copos.errors import InvalidInputError
from copos.solvers.modeling import Expression, Model, triangle_selector


class PSD(Cone):
    r""":math:`\mathbb S^n_+ = \{M : x^\top M x \ge 0\ \forall x\}`; self-dual."""

    family: Family = "COP"
    side: Side = "inner"

    def __init__(self, n: int) -> None:
        super().__init__(n, 0)

    @property
    def symbol(self) -> str:
        return "S+"

    @property
    def dual(self) -> Cone:
        return PSD(self.n)

    def _formulate(self, M: Expression, model: Model) -> Formulation:
        return Formulation([model.psd(M)])


class Nonnegative(Cone):
    r""":math:`\mathcal N_n = \{M : M_{ij} \ge 0\}`; self-dual, equal to :math:`\mathcal C^0`."""

    family: Family = "COP"
    side: Side = "inner"

    @property
    def symbol(self) -> str:
        return "N"

    @property
    def dual(self) -> Cone:
        return Nonnegative(self.n)

    def __init__(self, n: int) -> None:
        super().__init__(n)

    def _formulate(self, M: Expression, model: Model) -> Formulation:
        return Formulation([model.nonneg(M)])


class DNN(Cone):
    r""":math:`\mathcal{DNN}_{n,k} = \mathbb S^n_+ \cap \{M : M_{[k],[k]} \ge 0\}` (outer CP)."""

    family: Family = "CP"
    side: Side = "outer"

    @property
    def symbol(self) -> str:
        return "DNN"

    @property
    def level(self) -> int:
        return 0

    @property
    def dual(self) -> Cone:
        return SPN(self.n, self.k)

    def _formulate(self, M: Expression, model: Model) -> Formulation:
        constraints = [model.psd(M)]
        if self.k > 0:
            constraints.append(model.nonneg(M[: self.k, : self.k]))
        return Formulation(constraints)


class SPN(Cone):
    r""":math:`\mathbb S^n_+ + \mathcal N_{n,k} = \mathcal K^0_{n,k}` (inner COP), dual of DNN.

    ``M = P + N`` with ``P`` PSD and ``N`` entrywise nonnegative on the leading ``k x k`` block
    and zero elsewhere; the certificate is ``(P, N)``.
    """

    family: Family = "COP"
    side: Side = "inner"

    @property
    def symbol(self) -> str:
        return "S+ + N"

    @property
    def level(self) -> int:
        return 0

    @property
    def dual(self) -> Cone:
        return DNN(self.n, self.k)

    def _formulate(self, M: Expression, model: Model) -> Formulation:
        P, constraints = model.psd_variable(self.n)
        difference = M - P
        k = self.k
        if k > 0:
            constraints.append(model.nonneg(difference[:k, :k]))
        if k < self.n:
            # M - P vanishes outside the leading block (each symmetric pair imposed once).
            if k > 0:
                constraints.append(model.equal(difference[k:, :k], 0))
            free = self.n - k
            upper = model.matmul(triangle_selector(free), model.vec(difference[k:, k:]))
            constraints.append(model.equal(upper, 0))
        return Formulation(constraints, {"P": P, "N": difference})


#: Inner hierarchies of the copositive cone, ``name -> class(n, level, k)``.  ``"parrilo"`` is
#: added by :mod:`copos.cones.parrilo` itself (it builds on :class:`DNN`/:class:`SPN` of this
#: module, so this module cannot import it); importing any ``copos.cones`` module runs
#: ``copos/cones/__init__``, which imports it, so the table is always complete.
INNER_FAMILIES: dict[str, Callable[[int, int, int], Cone]] = {"dkp": DeKlerkPasechnik}


class Copositive(Cone):
    r""":math:`\mathcal{COP}_{n,k} = \{M : x^\top M x \ge 0\ \forall x \in \mathbb R^k_+\times\mathbb R^{n-k}\}` (exact).

    Not representable by finitely many LMIs: use :meth:`inner` or :meth:`outer` in programs;
    :meth:`contains` decides membership exactly for small ``n`` (with a witness).

    Examples
    --------
    The Horn matrix is copositive; :math:`-I` is not (the witness is a violating
    :math:`x \ge 0`). The dual is CP, the approximations are named by their symbols:

    >>> import numpy as np
    >>> from copos.cones import Copositive
    >>> horn = np.array([[1, -1, 1, 1, -1], [-1, 1, -1, 1, 1], [1, -1, 1, -1, 1],
    ...                  [1, 1, -1, 1, -1], [-1, 1, 1, -1, 1]])
    >>> Copositive(5).contains(horn).answer
    'member'
    >>> Copositive(5).contains(-np.eye(5)).answer
    'not a member'
    >>> cone = Copositive(5)
    >>> cone.dual.symbol, cone.inner(1).symbol, cone.inner(1).side, cone.outer(3).side
    ('CP', 'K^1', 'inner', 'outer')
    """

    family: Family = "COP"
    side: Side = "exact"

    @property
    def symbol(self) -> str:
        return "COP"

    @property
    def dual(self) -> Cone:
        return CompletelyPositive(self.n, self.k)

    def inner(self, level: int, family: str = "parrilo") -> Cone:
        """Inner approximation: Parrilo's ``K^r`` (default) or de Klerk–Pasechnik's ``C^r``."""
        if family not in INNER_FAMILIES:
            raise InvalidInputError(f"unknown inner family {family!r}; choose parrilo or dkp")
        return INNER_FAMILIES[family](self.n, level, self.k)

    def outer(self, m: int) -> Cone:
        """Outer approximation by the simplex grid :math:`\\Delta(n, m)`."""
        return SimplexGridCOP(self.n, m, self.k)

    def _formulate(self, M: Expression, model: Model) -> Formulation:
        raise InvalidInputError(
            "the copositive cone has no finite conic description; use Copositive(n).inner(r) "
            "(Parrilo K^r or de Klerk-Pasechnik C^r) or Copositive(n).outer(m) (simplex grid)"
        )

    def contains(self, M: ArrayLike, tol: float = 1e-9, solver: str = "clarabel") -> Membership:
        """Exact test by :func:`copos.cones.membership.is_copositive`; the witness is the certificate."""
        matrix = self._check_matrix(M)
        result = is_copositive(matrix, self.k, tol=tol)
        certificate = {} if result.witness is None else {"witness": result.witness}
        margin = (
            0.0 if result.copositive else float(result.value if result.value is not None else -1)
        )
        return Membership(result.copositive, margin, self.name, certificate, None, tol)

    def margin(
        self, M: ArrayLike, direction: ArrayLike | None = None, solver: str = "clarabel"
    ) -> Membership:
        raise InvalidInputError("margins need a conic description; use an inner or outer cone")


class CompletelyPositive(Cone):
    r""":math:`\mathcal{CP}_{n,k} = \operatorname{conv}\{xx^\top : x \in \mathbb R^k_+\times\mathbb R^{n-k}\}` (exact).

    Use :meth:`outer` (``DNN`` at level 0, the dual of ``K^r`` above) or :meth:`inner` (simplex
    grid) in programs; :meth:`contains` tries a factorization ``BB^T`` or a copositive witness.
    """

    family: Family = "CP"
    side: Side = "exact"

    @property
    def symbol(self) -> str:
        return "CP"

    @property
    def dual(self) -> Cone:
        return Copositive(self.n, self.k)

    def outer(self, level: int, family: str = "parrilo") -> Cone:
        """Outer approximation: the dual of the inner COP cone of that family and level."""
        return Copositive(self.n, self.k).inner(level, family).dual

    def inner(self, m: int) -> Cone:
        """Inner approximation :math:`\\operatorname{cone}\\{xx^\\top : x \\in \\Delta(n, m)\\}`."""
        return SimplexGridCP(self.n, m, self.k)

    def _formulate(self, M: Expression, model: Model) -> Formulation:
        raise InvalidInputError(
            "the completely positive cone has no finite conic description; use "
            "CompletelyPositive(n).outer(r) (DNN, dual of K^r) or .inner(m) (simplex grid)"
        )

    def contains(self, M: ArrayLike, tol: float = 1e-6, solver: str = "clarabel") -> Membership:
        """Factorization ``M = BB^T`` with ``B >= 0``, or a copositive witness against it."""
        if self.k != self.n:
            raise InvalidInputError("CP factorization is implemented for k = n only")
        matrix = self._check_matrix(M)
        result = cp_factorize(matrix)
        if result.status == "factored":
            return Membership(True, 0.0, self.name, {"B": result.B}, None, tol)
        if result.status == "not_cp":
            return Membership(False, -1.0, self.name, {"witness": result.witness}, None, tol)
        return Membership(False, float("nan"), self.name, {}, None, tol, decided=False)

    def margin(
        self, M: ArrayLike, direction: ArrayLike | None = None, solver: str = "clarabel"
    ) -> Membership:
        raise InvalidInputError("margins need a conic description; use an inner or outer cone")
