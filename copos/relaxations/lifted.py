r"""Prakhya et al. (2024): two-layer ReLU training as a lifted completely positive program.

Every neuron :math:`(u_j, v_j)` becomes a lifted vector :math:`\lambda_j = (a_j, b_j, u_j, v_j)
\in \mathcal K = \mathbb R^{2n}_+\times\mathbb R^{d+c}` with :math:`a_j = (Xu_j)_+`,
:math:`b_j = (-Xu_j)_+`, and a network becomes :math:`\Lambda = \sum_j\lambda_j\lambda_j^\top
\in \mathbb S^p`, :math:`p = 2n + d + c` (blocks in the order ``a, b, u, v``).  With
:math:`M = [-I_n,\ I_n,\ X,\ 0]` and :math:`Q = \operatorname{blkdiag}(0_{2n}, I_{d+c})` the
training optimum over all widths is the completely positive program (reference notes,
prakhya2024.md §2.4)

.. math::

    p^\star = \min_{\Lambda \in \mathcal{CP}(\mathcal K)}\ \tfrac12\|\Lambda_{av} - Y\|_F^2
        + \tfrac\beta2\langle Q, \Lambda\rangle
    \quad\text{s.t.}\quad \Lambda M^\top = 0,\ \ \operatorname{diag}(\Lambda_{ab}) = 0 .

This module provides

* :class:`LiftedLayout` — block ranges, selectors :math:`P_a, P_b, P_u, P_v`, :math:`M`, :math:`Q`
  and the null-space basis :math:`T` of :math:`M` (§3.3);
* :func:`solve_lifted_dnn` — the DNN relaxation (an SDP, §3.1), in the full form over
  :math:`\mathbb S^p` or in the null-space reduced form :math:`\Lambda = TST^\top` over
  :math:`\mathbb S^q`, :math:`q = n + d + c`;
* :func:`solve_lifted_copositive_dual` — the copositive dual (§6.1) with
  :math:`\mathcal{COP}(\mathcal K)` replaced by Parrilo's :math:`\mathcal K^r`, literally (scalar
  multipliers :math:`t_1, t_2`) or as the Lagrange dual of the reduced primal;
* :func:`semi_infinite_dual_value` — the objective that these duals share with the semi-infinite
  dual of Sahiner et al. / Pilanci–Ergen.

How to read the bounds
----------------------
:math:`\mathcal{DNN}(\mathcal K) \supseteq \mathcal{CP}(\mathcal K)`, so the DNN value is a
**lower** bound on the training objective of every network of every width, up to the solver's
accuracy.  Every dual-feasible point gives a **lower** bound as well (weak duality).  Neither
primal form has a Slater point (§3.2, §6.2); the reduced form removes the face
:math:`\Lambda M^\top = 0` and is the one to trust (and the fast one).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, NamedTuple

import cvxpy as cp
import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos._memory import check_memory, lifted_dnn_bytes
from copos._validation import as_finite_array, check_level, check_positive
from copos.bound import Bound
from copos.cones import PSD, Parrilo
from copos.errors import InvalidInputError
from copos.nets.problem import TrainingProblem, require_no_output_bias
from copos.solvers import DEFAULT_SOLVER, SolveInfo, require_solution, solve
from copos.solvers.admm.dnn import pad_state
from copos.solvers.registry import (
    COPOS_ADMM,
    LIFTED_ADMM_FROM_D,
    LIFTED_ADMM_FROM_N,
    LIFTED_ADMM_FROM_N_LOW_D,
    LIFTED_ADMM_LOW_D,
    Sizes,
    is_splitting,
    resolve,
    runner,
)

FloatArray = NDArray[np.float64]
Block = Literal["a", "b", "u", "v"]
Form = Literal["reduced", "full"]
View = Literal["cp", "cop"]

#: Accepted values of ``form``.
FORMS: tuple[Form, ...] = ("reduced", "full")
#: The cone of the DNN relaxation, in words.
DNN_CONE = "DNN(R^2n_+ x R^(d+c))"
#: Default bound on the full-form dual multipliers :math:`|t_1|, |t_2|` (see the dual's docstring).
DEFAULT_T_BOUND = 1e3
#: What every bound of this module bounds.
QUANTITY = "p*(training)"
#: copos's own operator-based solver of the DNN relaxation (:mod:`copos.solvers.admm.dnn`).
ADMM_SOLVER = COPOS_ADMM
#: The thresholds of ``solver="auto"``, kept here for one release: they live, with their
#: measurements, in :mod:`copos.solvers.registry` (``LIFTED_ADMM_*``).
ADMM_FROM_N = LIFTED_ADMM_FROM_N
ADMM_FROM_D = LIFTED_ADMM_FROM_D
ADMM_FROM_N_LOW_D = LIFTED_ADMM_FROM_N_LOW_D
ADMM_LOW_D = LIFTED_ADMM_LOW_D

_LOWER_NOTE = (
    "lower bound on the training objective of every network of every width (relaxation of the "
    "exact lifted CP program), up to the solver's accuracy"
)
_ADMM_NOTE = (
    "certified lower bound on the training objective of every network of every width: the "
    "dual point of the splitting, made dual feasible and evaluated in numpy after the solve"
)
_DUAL_NOTE = (
    "dual-feasible value: a lower bound on the training objective of every network of every "
    "width by weak duality, up to the solver's accuracy"
)


# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LiftedLayout:
    r"""Index ranges and constant matrices of the lifted program for data ``X`` (n×d) and ``c``.

    :math:`\Lambda \in \mathbb S^p` has blocks ``a = [0, n)``, ``b = [n, 2n)``,
    ``u = [2n, 2n+d)``, ``v = [2n+d, p)``; the reduced matrix :math:`S \in \mathbb S^q` has
    blocks ``a, u, v`` of the null-space coordinates :math:`(a, u, v) \mapsto (a, a - Xu, u, v)`.

    Attributes
    ----------
    X:
        Data matrix, shape ``(n, d)``.
    c:
        Output dimension.
    """

    X: FloatArray
    c: int

    @classmethod
    def from_problem(cls, problem: TrainingProblem) -> LiftedLayout:
        """The layout of ``problem``'s lifted program."""
        _check_problem(problem)
        return cls(X=problem.X, c=problem.c)

    # -- sizes and ranges ---------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        """Input dimension."""
        return int(self.X.shape[1])

    @property
    def p(self) -> int:
        """Side :math:`2n + d + c` of :math:`\\Lambda`."""
        return 2 * self.n + self.d + self.c

    @property
    def q(self) -> int:
        """Side :math:`n + d + c` of the reduced matrix :math:`S` (dimension of ker M)."""
        return self.n + self.d + self.c

    @property
    def k(self) -> int:
        """Number :math:`2n` of sign-constrained coordinates of :math:`\\mathcal K`."""
        return 2 * self.n

    def block(self, name: Block) -> slice:
        """Index range of block ``a``, ``b``, ``u`` or ``v`` in :math:`\\Lambda`."""
        n, d = self.n, self.d
        ranges = {"a": (0, n), "b": (n, 2 * n), "u": (2 * n, 2 * n + d), "v": (2 * n + d, self.p)}
        if name not in ranges:
            raise InvalidInputError(f"unknown block {name!r}; choose a, b, u or v")
        start, stop = ranges[name]
        return slice(start, stop)

    @property
    def ab(self) -> slice:
        """Index range :math:`[0, 2n)` of the sign-constrained coordinates."""
        return slice(0, self.k)

    # -- constant matrices --------------------------------------------------------------------
    def selector(self, name: Block) -> FloatArray:
        """The 0/1 selector :math:`P_{name}` (rows of :math:`I_p`), e.g. :math:`P_a = [I_n, 0, 0, 0]`."""
        return np.eye(self.p)[self.block(name)]

    @cached_property
    def M(self) -> FloatArray:
        """:math:`M = [-I_n,\\ I_n,\\ X,\\ 0_{n\\times c}]`, so :math:`M\\lambda = Xu - a + b`."""
        return np.hstack([-np.eye(self.n), np.eye(self.n), self.X, np.zeros((self.n, self.c))])

    @cached_property
    def T(self) -> FloatArray:
        """Null-space basis :math:`T` (p×q) of :math:`M`: :math:`T(a, u, v) = (a, a - Xu, u, v)`."""
        n, d, c = self.n, self.d, self.c
        basis = np.zeros((self.p, self.q))
        basis[:n, :n] = np.eye(n)
        basis[n : 2 * n, :n] = np.eye(n)
        basis[n : 2 * n, n : n + d] = -self.X
        basis[2 * n :, n:] = np.eye(d + c)
        return basis

    @cached_property
    def Q(self) -> FloatArray:
        """:math:`Q = \\operatorname{blkdiag}(0_{2n}, I_{d+c})`: :math:`\\langle Q, \\Lambda\\rangle = \\operatorname{tr}\\Lambda_{uu} + \\operatorname{tr}\\Lambda_{vv}`."""
        return np.diag(np.r_[np.zeros(self.k), np.ones(self.d + self.c)])

    @cached_property
    def B1(self) -> FloatArray:
        """:math:`B_1 = M^\\top M`: :math:`\\langle B_1, \\lambda\\lambda^\\top\\rangle = \\|Xu - a + b\\|^2`."""
        return self.M.T @ self.M

    @cached_property
    def B2(self) -> FloatArray:
        """:math:`B_2 = \\tfrac12(P_a^\\top P_b + P_b^\\top P_a)`: :math:`\\langle B_2, \\lambda\\lambda^\\top\\rangle = a^\\top b`."""
        P_a, P_b = self.selector("a"), self.selector("b")
        return 0.5 * (P_a.T @ P_b + P_b.T @ P_a)

    # -- entries of the (a, b) block ----------------------------------------------------------
    @cached_property
    def complementarity_entries(self) -> NDArray[np.intp]:
        """Column-major indices in :math:`\\operatorname{vec}(W)`, W 2n×2n, of the entries :math:`(a_i, b_i)`."""
        rows = np.arange(self.n)
        return rows + self.k * (rows + self.n)

    @cached_property
    def sign_entries(self) -> NDArray[np.intp]:
        """Column-major indices of the upper-triangle entries of a 2n×2n block held ``>= 0``.

        All entries :math:`i \\le j` except the complementarity entries :math:`(a_i, b_i)`, which
        are held at 0 only (§3.2: imposing both keeps the program without a relative interior).
        """
        rows, cols = np.triu_indices(self.k)
        index = rows + self.k * cols
        return np.setdiff1d(index, self.complementarity_entries)

    def lift(self, S: ArrayLike) -> FloatArray:
        """:math:`\\Lambda = TST^\\top` for a reduced matrix ``S`` (q×q)."""
        matrix = as_finite_array(S, "S", ndim=2)
        if matrix.shape != (self.q, self.q):
            raise InvalidInputError(f"S must be ({self.q}, {self.q}); got {matrix.shape}")
        return self.T @ matrix @ self.T.T


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiftedDiagnostics:
    r"""Residuals of a lifted matrix :math:`\Lambda`, recomputed after the solve (§5.7 item 3).

    Attributes
    ----------
    min_eigenvalue:
        :math:`\lambda_{\min}(\Lambda)` (``>= 0`` for a feasible point).
    min_ab_entry:
        Most negative entry of the :math:`2n\times2n` block :math:`\Lambda_{\{a,b\},\{a,b\}}`
        (``>= 0`` for a feasible point).
    trace_ab:
        :math:`\operatorname{tr}\Lambda_{ab} = \sum_i\Lambda_{a_ib_i}` (0 for a feasible point).
    kernel_residual:
        :math:`\|\Lambda M^\top\|_F` (0 for a feasible point).
    """

    min_eigenvalue: float
    min_ab_entry: float
    trace_ab: float
    kernel_residual: float

    def worst(self) -> float:
        """Largest violation among the four residuals (0 for an exactly feasible point)."""
        return max(
            0.0, -self.min_eigenvalue, -self.min_ab_entry, abs(self.trace_ab), self.kernel_residual
        )


def lifted_diagnostics(layout: LiftedLayout, Lambda: ArrayLike) -> LiftedDiagnostics:
    """The residuals of :class:`LiftedDiagnostics` for ``Lambda`` (p×p)."""
    matrix = as_finite_array(Lambda, "Lambda", ndim=2)
    if matrix.shape != (layout.p, layout.p):
        raise InvalidInputError(f"Lambda must be ({layout.p}, {layout.p}); got {matrix.shape}")
    symmetric = 0.5 * (matrix + matrix.T)
    a, b = layout.block("a"), layout.block("b")
    return LiftedDiagnostics(
        min_eigenvalue=float(np.linalg.eigvalsh(symmetric)[0]),
        min_ab_entry=float(np.min(symmetric[layout.ab, layout.ab])),
        trace_ab=float(np.trace(symmetric[a, b])),
        kernel_residual=float(np.linalg.norm(symmetric @ layout.M.T)),
    )


@dataclass(frozen=True, eq=False)
class LiftedResult:
    r"""Solution of the lifted DNN relaxation or of the lifted copositive dual.

    Attributes
    ----------
    value:
        Optimal value: the primal objective of :math:`\Lambda` (DNN) or the dual objective
        :math:`\langle Z, Y\rangle - \tfrac12\|Z\|_F^2` of ``Z`` (dual), recomputed in numpy.
    bound_kind:
        Always ``"lower"`` (see the module docstring).
    cone:
        ``"DNN(R^2n_+ x R^(d+c))"`` for the relaxation, ``"K^r(R^2n_+ x R^(d+c))"`` for the dual.
    level:
        Hierarchy level (0 for the DNN relaxation).
    form:
        ``"full"`` (side ``p``) or ``"reduced"`` (null-space form).
    view:
        ``"cp"`` for the primal relaxation, ``"cop"`` for the dual.
    solve:
        How the program was solved (status and residuals checked afterwards).
    Z:
        Dual variable :math:`Z \in \mathbb R^{n\times c}`; for the primal the optimal residual
        :math:`Y - \Lambda_{av}` (the dual optimum, by the conjugate of the loss).
    Lambda:
        The lifted matrix (p×p); ``T S T^T`` in the reduced form.  For a dual solve, the primal
        matrix read from the multiplier of the reduced level-0 PSD constraint, otherwise ``None``.
    diagnostics:
        Residuals of ``Lambda`` (``None`` when ``Lambda`` is).
    multipliers:
        Scalar multipliers of the dual (``t1``, ``t2`` for the full form), empty otherwise.
    time:
        Wall-clock seconds to build and solve the program.
    note:
        How to read ``value``, in words.
    certified:
        ``value`` is a lower bound whatever the solver's accuracy (recomputed from a dual point
        after the solve, as ``copos-admm`` does); otherwise it holds up to the solver's accuracy.
    warm_state:
        ``copos-admm`` only: the splitting's state, to pass as ``warm_start`` of a neighbouring
        solve (another ``beta`` on the same data, or more samples of it); ``None`` otherwise.
    """

    value: float
    bound_kind: Literal["lower"]
    cone: str
    level: int
    form: Form
    view: View
    solve: SolveInfo
    Z: FloatArray
    Lambda: FloatArray | None
    diagnostics: LiftedDiagnostics | None
    multipliers: dict[str, float] = field(default_factory=dict)
    time: float = 0.0
    note: str = ""
    certified: bool = False
    warm_state: Any = None

    @property
    def bound(self) -> Bound:
        """This value as a :class:`~copos.bound.Bound` on the training optimum.

        ``verified`` (a property of the bound) is true only when the solve is accurate or the
        value is ``certified``.
        """
        certificate: dict[str, object] = {"Z": self.Z, **self.multipliers}
        if self.Lambda is not None:
            certificate["Lambda"] = self.Lambda
        return Bound(
            value=self.value,
            claimed_kind=self.bound_kind,
            quantity=QUANTITY,
            cone=self.cone,
            level=self.level,
            view=self.view,
            solve=self.solve,
            time=self.time,
            certificate=certificate,
            note=f"{self.form} form; {self.note}",
            certified=self.certified,
        )

    def to_bound(self) -> Bound:
        """:attr:`bound` (kept for callers of the method)."""
        return self.bound

    @property
    def kind(self) -> Literal["lower", "neither"]:
        """``"lower"`` if certified or the solve is accurate, else ``"neither"``."""
        return "lower" if self.bound.kind == "lower" else "neither"


# --------------------------------------------------------------------------------------------
# The DNN relaxation
# --------------------------------------------------------------------------------------------


class _Blocks(NamedTuple):
    """The affine pieces of the primal: (a,b) block, (a,v) block, ⟨Q, Λ⟩ and extra constraints."""

    ab: cp.Expression
    av: cp.Expression
    regularizer: cp.Expression
    constraints: list[cp.Constraint]


def solve_lifted_dnn(
    problem: TrainingProblem,
    *,
    form: Form = "reduced",
    solver: str = DEFAULT_SOLVER,
    tol: float = 1e-4,
    time_limit: float | None = None,
    warm_start: LiftedResult | None = None,
    quiet: bool = False,
) -> LiftedResult:
    r"""Solve the DNN (SDP) relaxation of the lifted CP program.

    Full form (side :math:`p = 2n + d + c`):

    .. math::

        \min_{\Lambda \succeq 0}\ \tfrac12\|\Lambda_{av} - Y\|_F^2 + \tfrac\beta2\langle Q,\Lambda\rangle
        \ \ \text{s.t.}\ \ \Lambda M^\top = 0,\ \ \Lambda_{a_ib_i} = 0,\ \
        \Lambda_{jk} \ge 0\ \ (j, k < 2n,\ \{j,k\} \ne \{a_i, b_i\}) ;

    reduced form (side :math:`q = n + d + c`, :math:`\Lambda = TST^\top`, :math:`W = T_{ab}ST_{ab}^\top`):

    .. math::

        \min_{S \succeq 0}\ \tfrac12\|S_{av} - Y\|_F^2 + \tfrac\beta2(\operatorname{tr}S_{uu} + \operatorname{tr}S_{vv})
        \ \ \text{s.t.}\ \ W_{a_ib_i} = 0,\ \ W_{jk} \ge 0\ \ \text{otherwise}.

    Both have the same value (every feasible :math:`\Lambda` has its range in
    :math:`\ker M = \operatorname{range}T`); the reduced one is smaller and better conditioned.
    The complementarity entries :math:`\Lambda_{a_ib_i}` are held at 0 without also being held
    ``>= 0`` (§3.2).  The full form writes the kernel condition as :math:`\Lambda M^\top = 0`:
    its multiplier :math:`G` (``sym(GM)`` in the dual) is attained, whereas the multiplier of
    :math:`M\Lambda M^\top = 0` is not (Clarabel failed on that encoding already at ``n = 12``).
    The full form still has no Slater point; expect ``optimal_inaccurate`` from Clarabel, and
    failures from about ``n = 25`` on — use the reduced form.

    Parameters
    ----------
    problem:
        Training problem (data, targets, weight decay).
    form:
        ``"reduced"`` (default) or ``"full"``.
    solver:
        ``"clarabel"`` (default), ``"scs"``, ``"copos-admm"`` (:mod:`copos.solvers.admm.dnn`:
        no constraint matrix, one ``eigh`` of side ``q`` per iteration; ``value`` is then its
        certified lower bound, the primal value is in ``solve.extra``) or ``"auto"``
        (``copos-admm`` from ``n = ADMM_FROM_N`` and ``d = ADMM_FROM_D`` on, Clarabel
        otherwise).  The ADMM works on
        :math:`\Lambda` directly, so ``form`` only labels the result.
    tol, time_limit:
        Relative tolerance and wall-clock limit of ``copos-admm`` (ignored by CVXPY solvers);
        at the limit the best certified bound seen is returned (status ``"time_limit"``).
    warm_start, quiet:
        ``copos-admm`` only (ignored by CVXPY solvers): a previous result whose
        ``warm_state`` starts the splitting (same data at another ``beta``, or its first
        samples: the state is then padded by :func:`copos.solvers.admm.dnn.pad_state`), and
        no progress lines on a terminal.

    Returns
    -------
    LiftedResult
        ``bound_kind="lower"``, ``cone="DNN(R^2n_+ x R^(d+c))"``, ``level=0``, ``view="cp"``,
        the matrix ``Lambda`` (p×p) and its :class:`LiftedDiagnostics`.

    Raises
    ------
    InvalidInputError
        ``problem`` is not a :class:`TrainingProblem` or ``form`` is unknown.
    TooLargeError
        A CVXPY solve would need more memory than ``copos._memory.current_limit()``.
    UnknownSolverError
        Unknown or uninstalled solver.
    SolverError
        The solver returned no solution.
    """
    require_no_output_bias(problem, "the lifted DNN relaxation")
    layout = LiftedLayout.from_problem(problem)
    form = _check_form(form)
    solver = resolve(solver, "lifted-dnn", Sizes(problem.n, problem.d))
    if is_splitting(solver):
        options = {"tol": tol, "time_limit": time_limit, "quiet": quiet}
        if warm_start is not None and warm_start.warm_state is not None:
            options["warm_start"] = _padded(warm_start.warm_state, problem)
        return _solve_by_splitting(solver, layout, problem, form, options)
    check_memory(
        lifted_dnn_bytes(layout.n, layout.d, layout.c, form),
        f"the lifted DNN relaxation ({form} form, n = {layout.n}) with {solver}",
        "Use solver='copos-admm' (memory of order (n + d + c)^2)",
    )
    start = time.perf_counter()
    variable, blocks = _full_blocks(layout) if form == "full" else _reduced_blocks(layout)
    objective = _primal_objective(blocks, problem)
    constraints = [*blocks.constraints, *_sign_constraints(layout, blocks.ab)]
    program = cp.Problem(cp.Minimize(objective), constraints)
    info = solve(program, solver=solver)
    require_solution(program, info)
    value = _symmetric_value(variable)
    Lambda = value if form == "full" else layout.lift(value)
    return _primal_result(layout, problem, Lambda, form, info, time.perf_counter() - start)


def _full_blocks(layout: LiftedLayout) -> tuple[cp.Variable, _Blocks]:
    r""":math:`\Lambda \in \mathbb S^p_+` with :math:`\Lambda M^\top = 0`."""
    Lambda = cp.Variable((layout.p, layout.p), symmetric=True)
    u, v = layout.block("u"), layout.block("v")
    constraints = [*PSD(layout.p).constraints(Lambda), Lambda @ layout.M.T == 0]
    blocks = _Blocks(
        ab=Lambda[layout.ab, layout.ab],
        av=Lambda[layout.block("a"), v],
        regularizer=cp.trace(Lambda[u, u]) + cp.trace(Lambda[v, v]),
        constraints=constraints,
    )
    return Lambda, blocks


def _reduced_blocks(layout: LiftedLayout) -> tuple[cp.Variable, _Blocks]:
    r""":math:`S \in \mathbb S^q_+`, :math:`\Lambda = TST^\top` (the kernel constraint holds exactly)."""
    S = cp.Variable((layout.q, layout.q), symmetric=True)
    n, d = layout.n, layout.d
    T_ab = layout.T[layout.ab]
    free = slice(n, layout.q)  # u and v coordinates of S
    blocks = _Blocks(
        ab=T_ab @ S @ T_ab.T,
        av=S[:n, n + d :],
        regularizer=cp.trace(S[free, free]),
        constraints=PSD(layout.q).constraints(S),
    )
    return S, blocks


def _primal_objective(blocks: _Blocks, problem: TrainingProblem) -> cp.Expression:
    r""":math:`\tfrac12\|\Lambda_{av} - Y\|_F^2 + \tfrac\beta2\langle Q, \Lambda\rangle`."""
    return 0.5 * cp.sum_squares(blocks.av - problem.Y) + 0.5 * problem.beta * blocks.regularizer


def _sign_constraints(layout: LiftedLayout, W: cp.Expression) -> list[cp.Constraint]:
    r""":math:`W_{a_ib_i} = 0` and :math:`W_{jk} \ge 0` on the other upper-triangle entries."""
    entries = cp.vec(W, order="F")
    return [entries[layout.complementarity_entries] == 0, entries[layout.sign_entries] >= 0]


def dnn_solver(problem: TrainingProblem, solver: str, fallback: str = DEFAULT_SOLVER) -> str:
    """Deprecated: ``copos.solvers.registry.resolve(solver, "lifted-dnn", Sizes(n, d), fallback=...)``.

    The solver that ``solve_lifted_dnn(problem, solver=solver)`` uses.
    """
    warnings.warn(
        "copos.relaxations.lifted.dnn_solver is deprecated and will be removed in the next "
        "release; use copos.solvers.registry.resolve(solver, 'lifted-dnn', "
        "Sizes(problem.n, problem.d), fallback=fallback)",
        DeprecationWarning,
        stacklevel=2,
    )
    return resolve(solver, "lifted-dnn", Sizes(problem.n, problem.d), fallback=fallback)


def _solve_by_splitting(
    solver: str,
    layout: LiftedLayout,
    problem: TrainingProblem,
    form: Form,
    options: dict[str, Any],
) -> LiftedResult:
    """:func:`solve_lifted_dnn` by a registered splitting (copos-admm:
    :func:`copos.solvers.admm.dnn.solve_lifted_dnn_admm`), its certified bound as the value."""
    start = time.perf_counter()
    result = runner(solver, "lifted-dnn")(problem, **options)
    Lambda = layout.lift(result.S)
    return LiftedResult(
        value=result.lower_bound,
        bound_kind="lower",
        cone=DNN_CONE,
        level=0,
        form=form,
        view="cp",
        solve=result.to_solve_info(),
        Z=result.Z,
        Lambda=Lambda,
        diagnostics=lifted_diagnostics(layout, Lambda),
        time=time.perf_counter() - start,
        note=f"{_ADMM_NOTE}; primal value {result.value:.10g}, certified gap {result.gap:.2e}",
        certified=True,
        warm_state=result.state,
    )


def _padded(state: Any, problem: TrainingProblem) -> Any:
    """``state`` itself when its side fits ``problem``, else padded from fewer samples."""
    side = 2 * problem.n + problem.d + problem.c
    if getattr(state, "zeta", None) is None or state.zeta.shape == (side, side):
        return state
    return pad_state(state, problem)


def _primal_result(
    layout: LiftedLayout,
    problem: TrainingProblem,
    Lambda: FloatArray,
    form: Form,
    info: SolveInfo,
    elapsed: float,
) -> LiftedResult:
    """Value, residual ``Z`` and diagnostics of a primal solution ``Lambda``."""
    residual = problem.Y - Lambda[layout.block("a"), layout.block("v")]
    regularizer = float(np.sum(layout.Q * Lambda))
    value = 0.5 * float(np.sum(residual**2)) + 0.5 * problem.beta * regularizer
    return LiftedResult(
        value=value,
        bound_kind="lower",
        cone=DNN_CONE,
        level=0,
        form=form,
        view="cp",
        solve=info,
        Z=residual,
        Lambda=Lambda,
        diagnostics=lifted_diagnostics(layout, Lambda),
        time=elapsed,
        note=_LOWER_NOTE,
    )


# --------------------------------------------------------------------------------------------
# The copositive dual
# --------------------------------------------------------------------------------------------


def semi_infinite_dual_value(problem: TrainingProblem, Z: ArrayLike) -> float:
    r"""The dual objective :math:`-\tfrac12\|Z - Y\|_F^2 + \tfrac12\|Y\|_F^2 = \langle Z, Y\rangle - \tfrac12\|Z\|_F^2`.

    It is the objective of the copositive dual (§6.1) and of the semi-infinite dual it tends to
    as :math:`t_1, t_2 \to \infty`,

    .. math::

        \max_Z\ -\tfrac12\|Z - Y\|_F^2 + \tfrac12\|Y\|_F^2
        \ \ \text{s.t.}\ \ v^\top Z^\top(Xu)_+ \le \beta\ \ \forall\,\|u\|, \|v\| \le 1 .

    Only the objective is computed here: the value is a lower bound on :math:`p^\star` only
    when ``Z`` is feasible, which this function does **not** check (the certificate module
    does).

    Parameters
    ----------
    problem:
        Training problem.
    Z:
        Candidate dual point, shape ``(n, c)``.

    Returns
    -------
    float
    """
    _check_problem(problem)
    matrix = as_finite_array(Z, "Z", ndim=2)
    if matrix.shape != problem.Y.shape:
        raise InvalidInputError(
            f"Z must have the shape of Y, {problem.Y.shape}; got {matrix.shape}"
        )
    return 0.5 * float(np.sum(problem.Y**2)) - 0.5 * float(np.sum((matrix - problem.Y) ** 2))


def solve_lifted_copositive_dual(
    problem: TrainingProblem,
    *,
    level: int = 0,
    form: Form = "reduced",
    t_bound: float | None = DEFAULT_T_BOUND,
    solver: str = DEFAULT_SOLVER,
) -> LiftedResult:
    r"""Solve the copositive dual of the lifted CP program with :math:`\mathcal{COP}(\mathcal K)`
    replaced by Parrilo's :math:`\mathcal K^r_{p,2n}` (inner, so every solution is dual feasible).

    With :math:`C(Z) = \tfrac\beta2Q - \operatorname{sym}(P_a^\top ZP_v)`, the full form is §6.1
    literally (scalar multipliers of the two trace constraints):

    .. math::

        \max_{Z,\,t_1,\,t_2}\ \langle Z, Y\rangle - \tfrac12\|Z\|_F^2
        \ \ \text{s.t.}\ \ C(Z) + t_1B_1 + t_2B_2 \in \mathcal K^r_{p,2n} ;

    the reduced form is the Lagrange dual of the reduced primal (:math:`E_i = e_{a_i}e_{b_i}^\top
    + e_{b_i}e_{a_i}^\top`; at level 0 on side :math:`q`, :math:`N \in \mathbb S^{2n}` with
    :math:`N \ge 0` off the entries :math:`(a_i, b_i)`, which are free):

    .. math::

        r = 0:\ \ T^\top\big(C(Z) - P_{ab}^\top NP_{ab}\big)T \succeq 0, \qquad
        r \ge 1:\ \ C(Z) + \textstyle\sum_i\tau_iE_i + \operatorname{sym}(GM) \in \mathcal K^r_{p,2n}
        \ \ (G \in \mathbb R^{p\times n},\ \tau \in \mathbb R^n),

    equivalent at :math:`r = 0`.  ``sym(GM)`` contains :math:`t_1B_1` (take :math:`G = t_1M^\top`)
    and the free :math:`\tau_i` contain :math:`t_2B_2`, so the reduced dual is never below the full
    one at the same level.  The full one needs :math:`t_1, t_2 \to \infty` to reach the primal
    value (no Slater point in the primal face, §6.2): its supremum is not attained and interior
    point solvers fail on it, so by default :math:`|t_1|, |t_2| \le` ``t_bound`` is added.  Every
    bounded program is still a valid dual (a lower bound), nondecreasing in ``t_bound``.

    Cost: level 0 is one PSD cone of side ``q`` (reduced) or ``p`` (full); level ``r >= 1`` is
    Parrilo's cone on the orthant pullback of side :math:`2p - 2n = 2n + 2d + 2c` (level 1:
    that many PSD blocks of that side) — keep ``n`` tiny.

    Parameters
    ----------
    problem:
        Training problem.
    level:
        Parrilo level ``r >= 0``.
    form:
        ``"reduced"`` (default) or ``"full"``.
    t_bound:
        Full form only: bound ``> 0`` on :math:`|t_1|` and :math:`|t_2|`; ``None`` leaves them
        free (the literal §6.1 program, which Clarabel usually cannot solve).
    solver:
        ``"clarabel"`` (default) or ``"scs"``.

    Returns
    -------
    LiftedResult
        ``bound_kind="lower"``, ``cone="K^r(R^2n_+ x R^(d+c))"``, ``view="cop"``, the dual ``Z``;
        ``multipliers`` holds ``t1``, ``t2`` (full form); ``Lambda`` is the primal matrix read
        from the PSD multiplier for the reduced form at level 0, ``None`` otherwise.

    Raises
    ------
    InvalidInputError
        Bad ``problem``, ``level < 0``, unknown ``form`` or ``t_bound <= 0``.
    UnknownSolverError
        Unknown or uninstalled solver.
    SolverError
        The solver returned no solution.
    """
    require_no_output_bias(problem, "the lifted copositive dual")
    layout = LiftedLayout.from_problem(problem)
    level = check_level(level)
    form = _check_form(form)
    bound = None if t_bound is None else check_positive(t_bound, "t_bound")
    solver = resolve(solver)
    start = time.perf_counter()
    Z = cp.Variable((layout.n, layout.c))
    if form == "full":
        constraints, scalars = _full_dual_constraints(layout, problem.beta, Z, level, bound)
    elif level == 0:
        constraints, scalars = _reduced_psd_dual_constraints(layout, problem.beta, Z), {}
    else:
        constraints, scalars = _range_dual_constraints(layout, problem.beta, Z, level), {}
    program = cp.Problem(
        cp.Maximize(cp.sum(cp.multiply(problem.Y, Z)) - 0.5 * cp.sum_squares(Z)), constraints
    )
    info = solve(program, solver=solver)
    require_solution(program, info)
    Lambda = _multiplier_lambda(layout, constraints) if form == "reduced" and level == 0 else None
    Z_value = np.asarray(Z.value, dtype=np.float64)
    return LiftedResult(
        value=semi_infinite_dual_value(problem, Z_value),
        bound_kind="lower",
        cone=f"K^{level}(R^2n_+ x R^(d+c))",
        level=level,
        form=form,
        view="cop",
        solve=info,
        Z=Z_value,
        Lambda=Lambda,
        diagnostics=None if Lambda is None else lifted_diagnostics(layout, Lambda),
        multipliers={name: float(np.asarray(var.value)) for name, var in scalars.items()},
        time=time.perf_counter() - start,
        note=_DUAL_NOTE,
    )


def _dual_slack(layout: LiftedLayout, beta: float, Z: cp.Variable) -> cp.Expression:
    r""":math:`C(Z) = \tfrac\beta2Q - \operatorname{sym}(P_a^\top ZP_v)` (p×p)."""
    coupling = layout.selector("a").T @ Z @ layout.selector("v")
    return 0.5 * beta * layout.Q - 0.5 * (coupling + coupling.T)


def _full_dual_constraints(
    layout: LiftedLayout, beta: float, Z: cp.Variable, level: int, bound: float | None
) -> tuple[list[cp.Constraint], dict[str, cp.Expression]]:
    r""":math:`C(Z) + t_1B_1 + t_2B_2 \in \mathcal K^r_{p,2n}` (and :math:`|t_i| \le` ``bound``)."""
    t = cp.Variable(2)
    slack = _dual_slack(layout, beta, Z) + t[0] * layout.B1 + t[1] * layout.B2
    constraints = Parrilo(layout.p, level, layout.k).constraints(slack)
    if bound is not None:
        constraints.append(cp.abs(t) <= bound)
    return constraints, {"t1": t[0], "t2": t[1]}


def _reduced_psd_dual_constraints(
    layout: LiftedLayout, beta: float, Z: cp.Variable
) -> list[cp.Constraint]:
    r""":math:`T^\top(C(Z) - P_{ab}^\top NP_{ab})T \succeq 0`, :math:`N \ge 0` off the :math:`(a_i, b_i)` entries.

    The PSD constraint comes first: its multiplier is the reduced primal matrix :math:`S`.
    """
    N = cp.Variable((layout.k, layout.k), symmetric=True)
    T, T_ab = layout.T, layout.T[layout.ab]
    reduced = T.T @ _dual_slack(layout, beta, Z) @ T - T_ab.T @ N @ T_ab
    return [*PSD(layout.q).constraints(reduced), cp.vec(N, order="F")[layout.sign_entries] >= 0]


def _range_dual_constraints(
    layout: LiftedLayout, beta: float, Z: cp.Variable, level: int
) -> list[cp.Constraint]:
    r""":math:`C(Z) + \sum_i\tau_iE_i + \operatorname{sym}(GM) \in \mathcal K^r_{p,2n}`."""
    tau = cp.Variable(layout.n)
    coupling = layout.selector("a").T @ cp.diag(tau) @ layout.selector("b")
    slack = _dual_slack(layout, beta, Z) + coupling + coupling.T + _kernel_annihilator(layout)
    return Parrilo(layout.p, level, layout.k).constraints(slack)


def _kernel_annihilator(layout: LiftedLayout) -> cp.Expression:
    r"""A free symmetric :math:`W` with :math:`T^\top WT = 0`, parametrized without redundancy.

    Every :math:`\operatorname{sym}(GM)` is :math:`\operatorname{sym}(TAM) + M^\top BM` with
    :math:`A \in \mathbb R^{q\times n}` and :math:`B \in \mathbb S^n` (write
    :math:`G = TA' + M^\top B'`; the skew part of :math:`B'` cancels), and these are unique.
    """
    A = cp.Variable((layout.q, layout.n))
    B = cp.Variable((layout.n, layout.n), symmetric=True)
    cross = layout.T @ A @ layout.M
    return 0.5 * (cross + cross.T) + layout.M.T @ B @ layout.M


def _multiplier_lambda(layout: LiftedLayout, constraints: list[cp.Constraint]) -> FloatArray | None:
    """:math:`\\Lambda = TST^\\top` with ``S`` the multiplier of the reduced dual's PSD constraint."""
    multiplier = constraints[0].dual_value
    if multiplier is None:
        return None
    S = np.asarray(multiplier, dtype=np.float64)
    return layout.lift(0.5 * (S + S.T))


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def _check_problem(problem: object) -> None:
    if not isinstance(problem, TrainingProblem):
        raise InvalidInputError(f"problem must be a TrainingProblem; got {type(problem).__name__}")


def _check_form(form: object) -> Form:
    if form not in FORMS:
        raise InvalidInputError(f"unknown form {form!r}; choose one of: {', '.join(FORMS)}")
    return form  # type: ignore[return-value]


def _symmetric_value(variable: cp.Variable) -> FloatArray:
    value = np.asarray(variable.value, dtype=np.float64)
    return 0.5 * (value + value.T)
