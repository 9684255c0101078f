r"""The convex programs of two-layer convolutional nets (Ergen & Pilanci, 2021).

**Pooled CNNs** (:class:`~copos.nets.architectures.conv.Convolution`, ``"avg"`` or ``"sum"``
pooling, scalar output): with the patch matrices :math:`X_k`, :math:`M = [X_1; \dots; X_K]`, the
patterns :math:`D_i` of :math:`M` and :math:`A_i = \sum_k D_i^kX_k`,

.. math::

    p^\star = \min_{c_i, c_i'}\ \tfrac12\Big\|\sum_i A_i(c_i - c_i') - y\Big\|_2^2
        + \beta\sum_i\big(\|c_i\|_2 + \|c_i'\|_2\big)
    \ \ \text{s.t.}\ (2D_i - I)Mc_i \ge 0,\ (2D_i - I)Mc_i' \ge 0,

the program of :mod:`copos.relaxations.convex` through the data-operator seam.  All patterns of
:math:`M` (at most :math:`2r(e(nK-1)/r)^r`, :math:`r = \mathrm{rank}\,M \le h`: polynomial in
:math:`n` and :math:`K` for a fixed filter size): the value is exact.  Sampled patterns: a
restriction, so the value is the objective of the recovered CNN, an **upper** bound on
:math:`p^\star` (labelled ``"upper"``, never exact).

**Circular nets** (:mod:`copos.nets.architectures.circular`): the same program over the
patterns of :math:`X` with the spectral :math:`\ell_1` norm
:math:`R(c) = \|\mathsf Fc\|_1/\sqrt d` in place of :math:`\|c\|_2`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

from copos._validation import check_level
from copos.bound import Bound
from copos.errors import InvalidInputError
from copos.nets.architectures.base import DataOperator
from copos.nets.architectures.circular import CircularReLU, check_circular_problem
from copos.nets.architectures.conv import Convolution, ConvReLU, require_pooled
from copos.nets.arrangements import (
    DEFAULT_MARGIN,
    Arrangements,
    ScaledSVD,
    arrangements_of,
    hyperplanes,
    sample_arrangements,
)
from copos.nets.problem import TrainingProblem, require_no_output_bias
from copos.recovery.circular import recover_circular
from copos.recovery.conv import conv_network_from_rel, patterns_of_conv_net
from copos.recovery.convex import DEFAULT_NEURON_TOL
from copos.relaxations.convex import (
    BoundKind,
    ConvexProgramResult,
    _build_program,
    solve_convex_program,
)
from copos.relaxations.read_off import ReadOff, best_stage
from copos.relaxations.rel import (
    CopositiveResult,
    _bound_label,
    _dual_program,
    _multiplier_block,
    _psd_value,
    _rel_program,
    _Scaling,
    _solve_tight,
)
from copos.solvers import DEFAULT_SOLVER, SolveInfo, require_solution, solve

FloatArray = NDArray[np.float64]
Enumeration = Literal["auto", "exact", "sampled"]

#: ``"auto"`` enumerates every pattern of M when the general-position bound is at most this.
DEFAULT_MAX_EXACT_PATTERNS = 600
#: Gaussian directions drawn when the patterns are sampled.
DEFAULT_SAMPLES = 200


def conv_patterns(
    operator: DataOperator,
    enumeration: Enumeration = "auto",
    *,
    max_patterns: int = DEFAULT_MAX_EXACT_PATTERNS,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
) -> Arrangements:
    r"""Patterns :math:`\mathbb 1[Mg \ge 0]` of the stacked patch matrix: all of them
    (``"exact"``; ``"auto"`` when at most ``max_patterns``) or those of ``samples`` Gaussian
    :math:`g` (``"sampled"``; ``complete=False``)."""
    if enumeration not in ("auto", "exact", "sampled"):
        raise InvalidInputError(f"enumeration must be auto, exact or sampled; got {enumeration!r}")
    M = operator.stacked
    if enumeration != "sampled":
        svd = ScaledSVD.of(M)
        planes = hyperplanes(svd)
        if enumeration == "exact" or planes.pattern_bound <= max_patterns:
            return arrangements_of(svd, planes, DEFAULT_MARGIN)
    return sample_arrangements(M, samples, seed=seed)


@dataclass(frozen=True, eq=False)
class ConvProgramResult:
    """The pooled CNN's program (a :class:`ConvexProgramResult`) and the recovered :class:`ConvReLU`."""

    program: ConvexProgramResult
    net: ConvReLU

    @property
    def value(self) -> float:
        """The program's value."""
        return self.program.value

    @property
    def bound(self) -> Bound:
        """The value as a :class:`Bound` on p*: exact (all patterns) or upper (sampled)."""
        return self.program.bound

    @property
    def recovered_objective(self) -> float:
        """The recovered CNN's weight-decay objective (numpy, true ReLU)."""
        return self.program.recovered_objective

    @property
    def patterns(self) -> Arrangements:
        """The patterns of M used."""
        return self.program.arrangements


def solve_conv_program(
    problem: TrainingProblem,
    architecture: Convolution,
    *,
    enumeration: Enumeration = "auto",
    max_patterns: int = DEFAULT_MAX_EXACT_PATTERNS,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    solver: str = DEFAULT_SOLVER,
    neuron_tol: float = DEFAULT_NEURON_TOL,
) -> ConvProgramResult:
    """Solve the pooled CNN's program (module docstring) over :func:`conv_patterns` and recover
    the CNN; :class:`InvalidInputError` for the linear readout or ``c != 1``."""
    if not isinstance(architecture, Convolution):
        raise InvalidInputError(
            f"architecture must be a Convolution; got {type(architecture).__name__}"
        )
    require_pooled(architecture, "the convex program of a CNN")
    architecture.check_problem(problem, problem.c)
    patterns = conv_patterns(
        architecture.operator_of(problem),
        enumeration,
        max_patterns=max_patterns,
        samples=samples,
        seed=seed,
    )
    program = solve_convex_program(
        problem, patterns, solver=solver, neuron_tol=neuron_tol, architecture=architecture
    )
    assert isinstance(program, ConvexProgramResult)  # the splittings refuse K > 1 patches
    return ConvProgramResult(program, ConvReLU(architecture, program.U, program.V))


# ---------------------------------------------------------------------------- circular
def spectral_l1(blocks: cp.Variable) -> cp.Expression:
    r""":math:`\sum_i R(c_i) = \sum_i\|\mathsf Fc_i\|_1/\sqrt d` over the columns (one second-order
    cone per frequency: the modulus of the complex coefficient)."""
    d, P = blocks.shape
    F = np.fft.fft(np.eye(d), axis=0, norm="ortho")
    real = cp.reshape(cp.vec(np.real(F) @ blocks, order="F"), (d * P, 1), order="F")
    imag = cp.reshape(cp.vec(np.imag(F) @ blocks, order="F"), (d * P, 1), order="F")
    return cp.sum(cp.norm(cp.hstack([real, imag]), 2, axis=1)) / np.sqrt(d)


@dataclass(frozen=True, eq=False)
class CircularProgramResult:
    """The spectral-:math:`\\ell_1` program's value, blocks and recovered :class:`CircularReLU`."""

    value: float
    bound_kind: BoundKind
    solve: SolveInfo
    net: CircularReLU
    recovered_objective: float
    arrangements: Arrangements

    @property
    def bound(self) -> Bound:
        """Exact (all patterns of X) or upper (sampled) bound on the circular model's optimum."""
        return Bound(
            value=self.value,
            claimed_kind=self.bound_kind,
            quantity="p*(circular)",
            cone="arrangements",
            view="convex",
            solve=self.solve,
            time=self.solve.solve_time,
            note="spectral l1 program (Ergen & Pilanci)",
        )


def solve_circular_program(
    problem: TrainingProblem,
    arrangements: Arrangements | None = None,
    *,
    solver: str = DEFAULT_SOLVER,
    neuron_tol: float = DEFAULT_NEURON_TOL,
) -> CircularProgramResult:
    r"""min :math:`\tfrac12\|\sum_iD_iX(c_i - c_i') - y\|^2 + \beta\sum_i(R(c_i) + R(c_i'))`
    s.t. :math:`(2D_i - I)Xc_i \ge 0`, :math:`(2D_i - I)Xc_i' \ge 0`, and the circular net
    recovered from it (:func:`copos.recovery.circular.recover_circular`)."""
    check_circular_problem(problem)
    return solve_spectral_program(problem, arrangements, spectral_l1, None, solver, neuron_tol)


def solve_spectral_program(
    problem: TrainingProblem,
    arrangements: Arrangements | None,
    penalty: Callable[[cp.Variable], cp.Expression],
    shape: tuple[int, ...] | None,
    solver: str,
    neuron_tol: float,
) -> CircularProgramResult:
    """The circular program with the spectral ``penalty`` of signals of ``shape`` (``None``:
    1-D) over ``arrangements`` (default: all of ``X``), and the circular net recovered from it;
    shared by the 1-D and the 2-D (:mod:`copos.relaxations.circular2d`) programs."""
    patterns = problem.arrangements() if arrangements is None else arrangements
    if patterns.n != problem.n:
        raise InvalidInputError(
            f"arrangements have patterns of length {patterns.n}, but X has {problem.n} rows"
        )
    program, v_var, w_var = _build_program(
        DataOperator.dense(problem.X), problem, patterns, penalty=penalty
    )
    info = solve(program, solver=solver)
    require_solution(program, info)
    net = recover_circular(
        np.asarray(v_var.value).T, np.asarray(w_var.value).T, neuron_tol=neuron_tol, shape=shape
    )
    return CircularProgramResult(
        value=float(program.value),
        bound_kind="exact" if patterns.complete else "upper",
        solve=info,
        net=net,
        recovered_objective=net.objective(problem),
        arrangements=patterns,
    )


# ---------------------------------------------------------------------------- vector outputs
def solve_conv_rel(
    problem: TrainingProblem,
    architecture: Convolution,
    *,
    enumeration: Enumeration = "auto",
    max_patterns: int = DEFAULT_MAX_EXACT_PATTERNS,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    patterns: Arrangements | None = None,
    solver: str = DEFAULT_SOLVER,
) -> CopositiveResult:
    r"""Sahiner et al.'s doubly-nonnegative relaxation (REL) of a CNN's copositive program, any ``c``:

    .. math::

        \min_{S_i \succeq 0}\ \tfrac12\operatorname{tr}\big(Y^\top(I + 2\textstyle\sum_i\sum_k
            B_{ik}S_iB_{ik}^\top)^{-1}Y\big) + \beta^2\sum_i\operatorname{tr}S_i
        \ \ \text{s.t.}\ (2D_i - I)MS_iM^\top(2D_i - I) \ge 0,

    with :math:`B_{ik} = D_i^kX_k`: pooled nets (``"avg"``/``"sum"``) have the single term
    :math:`A_iS_iA_i^\top`, :math:`A_i = \sum_kD_i^kX_k`, in place of the sum over ``k``
    (:func:`copos.relaxations.rel.solve_rel`'s program on patch data); the **linear readout**
    over positions (``"linear"``, readout :math:`v_{jk} \in \mathbb R^c` per filter and
    position) has the sum, since its dual constraint is
    :math:`\max_{\|u\|\le1}\sum_k\|Z^\top(X_ku)_+\|^2 \le \beta^2` (the copositive program of
    the reference notes, ergen2021_cnn.md §2 "Other output layers"; for a scalar output it is
    not a finite SOCP).  All patterns of :math:`M` (or ``patterns``, complete): a **lower**
    bound on every CNN's objective; sampled or candidate patterns: ``"neither"``.  A CNN is read
    off it by :func:`read_off_conv_rel`.
    """
    choice = (enumeration, max_patterns, samples, seed, patterns)
    setup = _PatchSetup.of(problem, architecture, *choice)
    patterns, terms, scaling = setup.patterns, setup.terms, setup.scaling
    program, blocks = _rel_program(scaling.problem, patterns, setup.matrices)
    info = _solve_tight(program, solver)
    require_solution(program, info)
    S = [scaling.block_factor * _psd_value(block.value) for block in blocks]
    lifted = sum(
        B @ S_i @ B.T
        for term, S_i in zip(terms, S, strict=True)
        for B in (term if term.ndim == 3 else term[None])
    )
    Z = np.linalg.solve(np.eye(problem.n) + (lifted + lifted.T), problem.Y)
    bound_kind, note = _bound_label(patterns)
    return CopositiveResult(
        value=scaling.value_factor * float(program.value),
        bound_kind=bound_kind,
        note=note,
        solve=info,
        S=S,
        Z=np.asarray(Z, dtype=np.float64),
        arrangements=patterns,
        cone="DNN",
        level=0,
    )


@dataclass(frozen=True, eq=False)
class _PatchSetup:
    """The patterns of a CNN's REL or dual, their terms and cone rows in :class:`_Scaling` units."""

    patterns: Arrangements
    terms: FloatArray
    scaling: _Scaling
    matrices: list[tuple[FloatArray, FloatArray]]

    @classmethod
    def of(
        cls,
        problem: TrainingProblem,
        architecture: Convolution,
        enumeration: Enumeration,
        max_patterns: int,
        samples: int,
        seed: int,
        patterns: Arrangements | None,
    ) -> _PatchSetup:
        """Checks, patterns (given or :func:`conv_patterns`) and the scaled matrices."""
        if not isinstance(architecture, Convolution):
            raise InvalidInputError(
                f"architecture must be a Convolution; got {type(architecture).__name__}"
            )
        architecture.check_problem(problem, problem.c)
        require_no_output_bias(problem, "the REL relaxation and its dual")
        operator = architecture.operator_of(problem)
        if patterns is None:
            patterns = conv_patterns(
                operator, enumeration, max_patterns=max_patterns, samples=samples, seed=seed
            )
        elif patterns.n != operator.rows:
            raise InvalidInputError(
                f"patterns must have {operator.rows} = n*K entries; got {patterns.n}"
            )
        terms = rel_terms(operator, patterns, architecture.pooling == "linear")
        cones = [sign[:, None] * operator.stacked for sign in 2.0 * patterns.masks - 1.0]
        scaling = _Scaling.of(problem)
        kappa = 1.0 / np.sqrt(scaling.block_factor * scaling.problem.beta)
        matrices = [(term / kappa, rows / kappa) for term, rows in zip(terms, cones, strict=True)]
        return cls(patterns, terms, scaling, matrices)


def solve_conv_copositive_dual(
    problem: TrainingProblem,
    architecture: Convolution,
    *,
    level: int = 1,
    enumeration: Enumeration = "auto",
    max_patterns: int = DEFAULT_MAX_EXACT_PATTERNS,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    patterns: Arrangements | None = None,
    solver: str = DEFAULT_SOLVER,
) -> CopositiveResult:
    r"""The dual of a CNN's copositive program with multipliers :math:`C_i \in \mathcal K^r_{nK}`:

    .. math::

        \max_{Z,\ C_i \in \mathcal K^r_{nK}}\ -\tfrac12\|Z - Y\|_F^2 + \tfrac12\|Y\|_F^2
        \ \ \text{s.t.}\ \begin{bmatrix}\beta^2 I_h - G_i^\top C_iG_i & [B_{ik}^\top Z]_k\\
        [B_{ik}^\top Z]_k^\top & I\end{bmatrix} \succeq 0,\quad G_i = (2D_i - I)M,

    :func:`copos.relaxations.rel.solve_copositive_dual`'s program on patch data (the single
    coupling :math:`A_i^\top Z` for pooled nets, one :math:`B_{ik}^\top Z = X_k^\top D_i^kZ` per
    position for the linear readout).  A feasible :math:`Z` has
    :math:`\sum_k\|Z^\top(X_ku)_+\|^2 \le \beta^2\|u\|^2` on every pattern cone, so with all
    patterns the value is a **lower** bound on every CNN's objective (weak duality); level 0 is
    :func:`solve_conv_rel`'s value, higher levels are at least as large.  :math:`\mathcal K^1_{nK}`
    costs :math:`nK` PSD blocks of side :math:`nK` per pattern: keep :math:`nK` small.
    """
    level = check_level(level, "level")
    choice = (enumeration, max_patterns, samples, seed, patterns)
    setup = _PatchSetup.of(problem, architecture, *choice)
    scaling = setup.scaling
    program, W, schur = _dual_program(scaling.problem, setup.patterns, level, setup.matrices)
    info = solve(program, solver=solver)
    require_solution(program, info)
    bound_kind, note = _bound_label(setup.patterns)
    return CopositiveResult(
        value=scaling.value_factor * float(program.value),
        bound_kind=bound_kind,
        note=note,
        solve=info,
        S=[scaling.block_factor * _multiplier_block(c, architecture.h) for c in schur],
        Z=scaling.residual_factor * np.asarray(W.value, dtype=np.float64),
        arrangements=setup.patterns,
        cone=f"K^{level}",
        level=level,
    )


def rel_terms(operator: DataOperator, patterns: Arrangements, linear: bool) -> FloatArray:
    r"""Per pattern, :math:`A_i` ``(P, n, h)`` (pooled) or the :math:`B_{ik} = D_i^kX_k`
    ``(P, K, n, h)`` (linear readout)."""
    if not linear:
        return operator.pattern_matrices(patterns.masks)
    blocks = operator.blocks(patterns.masks.T)  # (K, n, P)
    return np.einsum("knp,knh->pknh", blocks, operator.patches)


def read_off_conv_rel(
    result: CopositiveResult,
    problem: TrainingProblem,
    architecture: Convolution,
    *,
    solver: str = DEFAULT_SOLVER,
) -> ReadOff:
    r"""An **upper** bound on the CNN's :math:`p^\star` from :func:`solve_conv_rel`'s blocks.

    The CNN of the blocks (:func:`copos.recovery.conv.conv_network_from_rel`), then the exact
    program restricted to the patterns :math:`\mathcal C` of its filters: for a pooled scalar
    output the convex program over :math:`\mathcal C` (:func:`solve_conv_program`'s program),
    otherwise (vector outputs, linear readout: copositive) REL over :math:`\mathcal C` read off
    again.  The bound is the best **true** objective :math:`F(U, V) \ge p^\star` of these real
    CNNs (no polish: :func:`copos.nets.polish.polish` models dense nets)."""
    start = time.perf_counter()
    operator = architecture.operator_of(problem)

    def net_of(rel: CopositiveResult) -> ConvReLU:
        return conv_network_from_rel(
            rel.S, rel.Z, rel.arrangements, architecture, operator, problem.beta
        )

    first = net_of(result)
    nets = {"read": first}
    candidates = patterns_of_conv_net(first, operator)
    if len(candidates):
        if problem.c == 1 and architecture.pooling != "linear":
            program = solve_convex_program(
                problem, candidates, solver=solver, architecture=architecture
            )
            assert isinstance(program, ConvexProgramResult)
            nets["restricted"] = ConvReLU(architecture, program.U, program.V)
        else:
            restricted = solve_conv_rel(problem, architecture, patterns=candidates, solver=solver)
            nets["restricted"] = net_of(restricted)
    return best_stage(nets, problem, candidates, "patch REL", start)
