r"""The cone interface: every cone knows its dual, its family and which side it approximates.

Conventions (``../shared/reference/cones.md`` §0).  For ``0 <= k <= n`` the *generalized* cones
over :math:`\mathbb R^k_+\times\mathbb R^{n-k}` (only the first ``k`` coordinates
sign-constrained) are

.. math::

    \mathcal{COP}_{n,k} = \{M : x^\top M x \ge 0\ \ \forall x \in \mathbb R^k_+\times\mathbb R^{n-k}\},
    \qquad
    \mathcal{CP}_{n,k} = \operatorname{conv}\{xx^\top : x \in \mathbb R^k_+\times\mathbb R^{n-k}\},

and ``k = n`` gives the classical COP and CP cones.  Every :math:`x` in the orthant product is
:math:`x = Lw` with :math:`w \ge 0` and :math:`L = [\,I_k\ 0\ 0;\ 0\ I\ {-I}\,]`, so
:math:`M \in \mathcal{COP}_{n,k} \iff L^\top M L \in \mathcal{COP}_{2n-k}`.  Approximations of
the generalized cones above level 0 are these pullbacks (dually, pushforwards :math:`LYL^\top`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal

import cvxpy as cp
import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos._validation import as_symmetric_matrix, check_dimension
from copos.errors import InvalidInputError
from copos.solvers.base import SolveInfo
from copos.solvers.cvxpy_backend import solve
from copos.solvers.modeling import Constraint, Expression, Model, as_model

Family = Literal["COP", "CP"]
Side = Literal["inner", "outer", "exact"]
FloatArray = NDArray[np.float64]

#: Default relative tolerance of :meth:`Cone.contains` on the margin (times ``max(1, max|M_ij|)``):
#: about five times the largest margin error measured on exact boundary members with Clarabel at
#: its default accuracy (Horn in K^1_5: -2e-7), far below any margin that matters.
MARGIN_TOL = 1e-6


def check_sign_count(n: int, k: int | None) -> int:
    """Validate the number ``k`` of sign-constrained coordinates (default ``n``)."""
    if k is None:
        return n
    k = check_dimension(k, "k", minimum=0)
    if k > n:
        raise InvalidInputError(f"k (sign-constrained coordinates) must be <= n = {n}; got {k}")
    return k


def orthant_lift(n: int, k: int) -> FloatArray:
    """The matrix :math:`L` with :math:`\\mathbb R^k_+\\times\\mathbb R^{n-k} = L\\,\\mathbb R^{2n-k}_+`."""
    free = n - k
    lift = np.zeros((n, n + free))
    lift[:, :n] = np.eye(n)
    lift[k:, n:] = -np.eye(free)
    return lift


@dataclass(frozen=True)
class Formulation:
    """Constraints putting an expression in a cone, and the auxiliary variables they introduce."""

    constraints: list[Constraint]
    auxiliaries: dict[str, Any] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        """Numerical values of the auxiliaries after a solve (the membership certificate)."""
        values: dict[str, Any] = {}
        for key, item in self.auxiliaries.items():
            if isinstance(item, list | tuple):
                values[key] = [_value(part) for part in item]
            else:
                values[key] = _value(item)
        return values


def _value(expr: Any) -> Any:
    value = getattr(expr, "value", None)
    return None if value is None else np.asarray(value, dtype=float)


@dataclass(frozen=True)
class Membership:
    """Answer of a membership test.

    ``margin`` is :math:`\\max\\{t : M - tE \\in K\\}` for the cone's interior direction ``E``
    (or the one given), so ``member`` means ``margin >= -tol``; ``certificate`` holds the arrays
    that prove it (Gram blocks, coefficients, a violating point, ...).  ``decided`` is false when
    a heuristic (CP factorization) found neither a factor nor a witness, and, for a margin
    computed by a solver, when ``|margin| <= tol`` (inside the solver's
    accuracy band: exact boundary members land there) or the solve was not verified.
    :attr:`answer` gives the three-valued reading.
    """

    member: bool
    margin: float
    cone: str
    certificate: dict[str, Any] = field(default_factory=dict)
    solve: SolveInfo | None = None
    tol: float = 1e-7
    decided: bool = True

    @property
    def answer(self) -> str:
        """``"member"``, ``"not a member"`` or ``"undecided"`` (see the class docstring)."""
        if not self.decided:
            return "undecided"
        return "member" if self.member else "not a member"


class Cone(ABC):
    """A closed convex cone of symmetric ``n x n`` matrices.

    Subclasses set ``family`` (which exact cone they approximate), ``side`` (``inner``,
    ``outer`` or ``exact``), a ``symbol`` and implement :meth:`_constraints` and :attr:`dual`.
    """

    family: Family
    side: Side

    def __init__(self, n: int, k: int | None = None) -> None:
        self.n = check_dimension(n, "n")
        self.k = check_sign_count(self.n, k)

    # -- to override ------------------------------------------------------------------------
    @property
    @abstractmethod
    def symbol(self) -> str:
        """Short mathematical name, e.g. ``K^1`` or ``DNN``."""

    @property
    @abstractmethod
    def dual(self) -> Cone:
        """The dual cone :math:`K^* = \\{Y : \\langle Y, M\\rangle \\ge 0\\ \\forall M \\in K\\}`."""

    @abstractmethod
    def _formulate(self, M: Expression, model: Model) -> Formulation:
        """Constraints saying ``M`` (symmetric ``n x n`` expression) lies in the cone."""

    # -- shared behaviour -------------------------------------------------------------------
    @property
    def level(self) -> int | None:
        """Hierarchy level, or ``None`` for cones outside a hierarchy."""
        return None

    @property
    def name(self) -> str:
        suffix = "" if self.k == self.n else f" over R^{self.k}_+ x R^{self.n - self.k}"
        return f"{self.symbol}_{self.n}{suffix}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n}, k={self.k}{self._repr_extra()})"

    def _repr_extra(self) -> str:
        return "" if self.level is None else f", level={self.level}"

    def constraints(self, M: Expression, model: Model | None = None) -> list[Constraint]:
        """Constraints (cvxpy by default) that put the symmetric expression ``M`` in the cone."""
        return self.formulate(M, model).constraints

    def formulate(self, M: Expression, model: Model | None = None) -> Formulation:
        """Constraints together with the named auxiliary variables that certify membership."""
        shape = tuple(M.shape)
        if shape != (self.n, self.n):
            raise InvalidInputError(
                f"{self.name} needs an {self.n}x{self.n} expression; got {shape}"
            )
        return self._formulate(M, as_model(model))

    def interior_direction(self) -> FloatArray:
        """A matrix ``E`` in the interior of the cone, used as the default margin direction.

        :math:`I + J_k` (``J_k`` the all-ones block on the sign-constrained coordinates) lies in
        the interior of :math:`\\mathcal{CP}_{n,k}` and of every COP cone here; polyhedral
        cones override it.
        """
        direction = np.eye(self.n)
        direction[: self.k, : self.k] += 1.0
        return direction

    def margin(
        self,
        M: ArrayLike,
        direction: ArrayLike | None = None,
        solver: str = "clarabel",
    ) -> Membership:
        """Solve :math:`\\max\\{t : M - tE \\in K\\}` and return it with its certificate."""
        matrix = self._check_matrix(M)
        E = self.interior_direction() if direction is None else self._check_matrix(direction, "E")
        t = cp.Variable()
        shifted = cp.Constant(matrix) - t * cp.Constant(E)
        formulation = self.formulate(shifted)
        problem = cp.Problem(cp.Maximize(t), formulation.constraints)
        scale = max(1.0, float(np.max(np.abs(matrix))), float(np.max(np.abs(E))))
        info = solve(problem, solver, objective_scale=scale)
        if info.status in ("infeasible", "infeasible_inaccurate"):
            value = -np.inf
        elif info.status in ("unbounded", "unbounded_inaccurate"):
            value = np.inf
        elif t.value is None:
            value = np.nan
        else:
            value = float(t.value)
        return Membership(
            member=bool(value >= -1e-7),
            margin=value,
            cone=self.name,
            certificate=formulation.values(),
            solve=info,
        )

    def contains(
        self, M: ArrayLike, tol: float | None = None, solver: str = "clarabel"
    ) -> Membership:
        r"""Membership of ``M``: ``member`` iff margin :math:`\ge -\text{tol}` (:meth:`margin`).

        Default ``tol`` = :data:`MARGIN_TOL` :math:`\cdot\max(1, \max_{ij}|M_{ij}|)`: the
        interior-point solver's margins of exact boundary members are small negatives (the Horn
        matrix in :math:`\mathcal K^1_5`: about -2e-7 with Clarabel's default accuracy), so a
        tolerance below that would call them non-members.  Inside the band
        :math:`|\text{margin}| \le \text{tol}`, or when the solve was not verified
        (:attr:`copos.solvers.SolveInfo.accurate`), the answer is ``decided=False``
        ("undecided"); ``member`` then says only that ``M`` is a member up to ``tol``.
        """
        matrix = self._check_matrix(M)
        if tol is None:
            tol = MARGIN_TOL * max(1.0, float(np.max(np.abs(matrix))))
        result = self.margin(matrix, solver=solver)
        verified = result.solve is None or result.solve.accurate
        outside_band = bool(abs(result.margin) > tol)  # False for NaN
        return Membership(
            member=bool(result.margin >= -tol),
            margin=result.margin,
            cone=result.cone,
            certificate=result.certificate,
            solve=result.solve,
            tol=tol,
            decided=verified and outside_band,
        )

    def _check_matrix(self, M: ArrayLike, name: str = "M") -> FloatArray:
        matrix = as_symmetric_matrix(M, name)
        if matrix.shape != (self.n, self.n):
            raise InvalidInputError(
                f"{self.name} needs an {self.n}x{self.n} {name}; got {matrix.shape}"
            )
        return matrix

    def _same_kind(self, other: object) -> bool:
        return (
            type(self) is type(other)
            and self.n == other.n  # type: ignore[attr-defined]
            and self.k == other.k  # type: ignore[attr-defined]
            and self.level == other.level  # type: ignore[attr-defined]
        )

    def __eq__(self, other: object) -> bool:
        return self._same_kind(other)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.n, self.k, self.level))


def lifted(M: Expression, n: int, k: int, model: Model) -> Expression:
    """:math:`L^\\top M L`, the pullback of ``M`` to :math:`\\mathbb R^{2n-k}_+`."""
    lift = orthant_lift(n, k)
    return model.sandwich(lift.T, M)


def pushed(Y: Expression, n: int, k: int, model: Model) -> Expression:
    """:math:`L Y L^\\top`, the pushforward of a matrix on :math:`\\mathbb R^{2n-k}_+`."""
    return model.sandwich(orthant_lift(n, k), Y)
