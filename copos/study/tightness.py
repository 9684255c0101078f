r"""The tightness checker: every bound on one training problem, side by side, with its direction.

For one :class:`~copos.nets.problem.TrainingProblem` it trains baseline networks over a grid
of widths and seeds (upper bounds on :math:`p^\star`), computes the lower bounds that fit the
size, and reports each value's gap to the best upper bound,

.. math::

    \text{gap}(b) = \frac{F_{\text{best}} - b}{\max(1, |F_{\text{best}}|)},\qquad
    F_{\text{best}} = \min\{\text{objective of every network found}\}.

Methods (``METHODS``): ``lifted-dnn`` (Prakhya et al.'s DNN relaxation, reduced form; lower),
``lifted-k1`` (the lifted copositive dual with the generalized Parrilo cone at level 1, small
``n`` only; lower), ``rel`` (Sahiner et al.'s DNN relaxation over complete arrangements; lower),
``convex`` (the exact Pilanci-Ergen program, ``c = 1`` only; exact), ``robust`` (with
``robust_eps``: Bai et al.'s l_inf-robust program, an upper bound on the robust objective
:math:`p^\star_\epsilon \ge p^\star` of its own net, and that net's interval-checked robust
objective; ``c = 1`` only), ``rel`` also reports the
network recovered from its solution (upper), ``certificate`` (the
certified lower bound of the best trained net; lower), ``rounding`` (the lifted solution
rounded to a network and polished; upper) and ``lifted-cuts`` (the lifted DNN tightened by
valid cuts in rounds, :mod:`copos.relaxations.lifted_cuts`; a lower bound certified from its
dual point, ``n <= MAX_CUTS_N``).  A lower bound counts as ``verified`` only when its
numbers were checked after the solve: each relaxation is reported twice, once as the solver's
optimal value (verified only if the solve is accurate) and once as "Z, checked", the dual
candidate :math:`Z` of the solve scaled by :math:`\min(1, \beta/\sigma(Z))` with
:math:`\sigma(Z)` recomputed exactly or rigorously bounded (:mod:`copos.certificates.certify`).

What a row promises (``kind``, the direction):

* ``upper``: the objective of a real network, computed with the true ReLU.
* ``lower`` / ``exact``: a value that was verified after the solve (residuals and gap checked)
  or recomputed rigorously (``rigorous=True``).
* ``neither``: a solver value that was not verified, a non-finite value, a value demoted by the
  invariant check (a "lower bound" above a network's objective beyond rounding, listed in
  ``report.warnings`` and printed as a WARNING), or a method that raised (``status="failed"``,
  value NaN, written as ``null`` in JSON, the exception in ``note``). Such rows never enter the
  best bounds, the gaps or the figure.

A failing method never aborts the report; if the solver's exception carries the dual candidate
of its last iterate as ``exc.Z``, its "Z, checked" row is still produced. Ctrl-C raises
:class:`TightnessInterrupted` whose ``report`` holds what finished; pass that report (or
:meth:`TightnessReport.load` of its JSON) as ``resume=`` to finish it without recomputing.
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from copos._validation import check_dimension, check_nonnegative
from copos.bound import Bound
from copos.certificates.certificate import DataFingerprint
from copos.certificates.certify import certify, checked_lower_bound
from copos.certificates.rel_working_set import rel_working_set
from copos.errors import InvalidInputError, SolverError
from copos.nets import training
from copos.nets.architectures.conv import Convolution
from copos.nets.arrangements import expected_count, sample_arrangements
from copos.nets.problem import TrainingProblem
from copos.nets.training import ProgressBar, TrainingRun, best_run, check_training_size
from copos.recovery.cp_factor import recover_from_rel
from copos.recovery.rounding import round_lifted
from copos.relaxations.conv import read_off_conv_rel, solve_conv_program, solve_conv_rel
from copos.relaxations.convex import arrangement_sizes, solve_convex_program
from copos.relaxations.lifted import solve_lifted_copositive_dual, solve_lifted_dnn
from copos.relaxations.lifted_cuts import solve_lifted_cuts
from copos.relaxations.rel import solve_rel
from copos.relaxations.robust import solve_robust_program
from copos.solvers import registry
from copos.solvers.registry import COPOS_ADMM, DEFAULT_SOLVER, Sizes
from copos.study.report import TightnessReport

#: Methods run by default: they finish in well under three minutes on the spiral (n = 60).
DEFAULT_METHODS: tuple[str, ...] = ("lifted-dnn", "rel", "certificate")


#: Largest number of activation patterns for which ``rel`` is attempted.
MAX_REL_PATTERNS = 400


#: Largest side ``2p - 2n`` of the orthant lift for which ``lifted-k1`` is attempted.
MAX_K1_SIDE = 24
#: Largest ``n`` for which ``lifted-cuts`` is attempted (each round is an interior-point solve
#: of side ``n + d + c``; several minutes per round on the spiral, n = 60, benchmarks/README.md).
MAX_CUTS_N = 100
#: From this ``n`` on, ``lifted-cuts`` selects its cuts in rounds of copos-admm and certifies
#: them by one interior-point solve (``final_solver``): on the spiral (n = 60) 17.314 in 2.2x
#: Clarabel's DNN time, against 5 interior-point rounds (benchmarks/README.md).
CUTS_SPLITTING_FROM_N = 50


#: A lower bound above a network's objective by more than this (relative) is demoted: rounding.
ROUNDING_RTOL = 1e-9


@dataclass
class _Context:
    """What the methods share: the problem, the solvers, the runs, and the lifted DNN solution.

    The lifted solution is solved once, on first use, by whichever method needs it first
    (``lifted-dnn`` reports it; ``rounding`` rounds it): :meth:`lifted` is the one place that
    solves it, so no method re-solves it behind another's back.
    """

    problem: TrainingProblem
    solver: str
    runs: list[TrainingRun]
    dnn_solver: str = "auto"
    convex_solver: str = "auto"
    robust_eps: float | None = None
    architecture: Convolution | None = None
    quiet: bool = False
    _lifted: Any = field(default=None, repr=False)

    def lifted(self) -> Any:
        """The reduced lifted DNN of the problem with ``dnn_solver`` (solved on first call; a
        splitting solver shows its progress on a terminal unless ``quiet``)."""
        if self._lifted is None:
            self._lifted = solve_lifted_dnn(
                self.problem, form="reduced", solver=self.dnn_solver, quiet=self.quiet
            )
        return self._lifted


Method = Callable[[_Context], list[Bound]]


def _lifted_dnn(context: _Context) -> list[Bound]:
    result = context.lifted()
    row = replace(result.bound, method=f"lifted-dnn (DNN, {result.solve.solver})")
    if result.certified:
        row = replace(row, status_text=f"{row.status}; certified lower bound")
    return [row, _checked("lifted-dnn", result.Z, context)]


def _lifted_k1(context: _Context) -> list[Bound]:
    result = solve_lifted_copositive_dual(context.problem, level=1, solver=context.solver)
    row = replace(result.bound, method="lifted-k1 (COP dual, K^1)")
    return [row, _checked("lifted-k1", result.Z, context)]


def _rel(context: _Context) -> list[Bound]:
    if context.architecture is not None:
        return _conv_rel(context, context.architecture)
    result = solve_rel(context.problem, solver=context.solver)
    row = replace(result.bound, method="rel (Sahiner, DNN)")
    recovered = _isolated("rel recovered net", lambda: _recovered(result, context))
    return [row, _checked("rel", result.Z, context), recovered]


def _recovered(result: Any, context: _Context) -> Bound:
    """The network recovered from REL: a real network, so its objective is an upper bound."""
    start = time.perf_counter()
    recovery = recover_from_rel(result, context.problem)
    return replace(
        recovery.bound,
        method=f"rel recovered net (m={recovery.num_neurons})",
        time=time.perf_counter() - start,
    )


def _checked(name: str, Z: Any, context: _Context) -> Bound:
    r"""The solve's dual candidate ``Z`` scaled by :math:`\min(1, \beta/\sigma(Z))`, evaluated in numpy.

    Isolated: if ``Z`` is missing or the dual norm cannot be computed, the row is a failed row.
    """
    label = f"{name} Z, checked"
    return _isolated(label, lambda: _checked_row(label, Z, context))


def _checked_row(label: str, Z: Any, context: _Context) -> Bound:
    if Z is None:
        raise SolverError("the solver left no dual candidate Z")
    bound = checked_lower_bound(Z, context.problem, solver=context.solver)
    sigma, method = bound.certificate["sigma"], bound.certificate["sigma_method"]
    return replace(
        bound,
        method=label,
        status_text=f"sigma(Z)/beta = {sigma / context.problem.beta:.6f} ({method})",
        note="dual candidate Z of the solve, scaled into the dual-feasible set after the solve",
    )


def _isolated(label: str, compute: Callable[[], Bound]) -> Bound:
    """``compute()``, or a failed row named ``label`` if it raises."""
    start = time.perf_counter()
    try:
        return compute()
    except Exception as exc:  # noqa: BLE001 - one failing row must not abort the report
        return failed_row(label, exc, time.perf_counter() - start)


def failed_row(method: str, exc: BaseException, elapsed: float = 0.0) -> Bound:
    """The row of a method that raised: no value, direction ``neither``, the reason in ``note``."""
    return Bound.failure(method, exc, elapsed)


def _convex(context: _Context) -> list[Bound]:
    if context.architecture is not None:
        return _conv_convex(context, context.architecture)
    start = time.perf_counter()
    patterns = context.problem.arrangements()
    sizes = arrangement_sizes(context.problem, patterns)
    solver = registry.resolve(context.convex_solver, "arrangement", sizes, fallback=context.solver)
    result = solve_convex_program(context.problem, patterns, solver=solver)
    elapsed = time.perf_counter() - start
    if registry.is_splitting(solver):
        return _convex_admm_rows(result, elapsed)
    row = replace(result.bound, method="convex (Pilanci-Ergen, c=1)", time=elapsed)
    return [replace(row, note=f"{result.num_neurons} neurons recovered")]


def _convex_admm_rows(result: Any, elapsed: float) -> list[Bound]:
    """The ADMM's certified dual bound (lower) and its recovered network (upper), not its value.

    Over complete arrangements the weak-duality bound holds for every network of any width; the
    recovered network's objective is computed with the true ReLU, so it is an upper bound.
    """
    info = result.solve
    status = f"{result.status}; residuals {info.primal_residual:.1e}/{info.dual_residual:.1e}"
    lower = result.dual_bound
    lower = replace(
        lower,
        method=f"convex dual ({result.solve.solver})",
        time=elapsed,
        status_text=f"{status}; certified lower bound",
        note=f"{lower.note}; ADMM value {result.value:.10g}",
    )
    upper = replace(
        result.network_bound,
        method=f"convex net (admm, m={result.num_neurons})",
        status_text=status,
    )
    return [lower, upper]


def _certificate(context: _Context) -> list[Bound]:
    """The certificate of the best trained net, polished first on its own activation patterns
    (never a larger objective; not with an output bias, which polish does not model): its
    lower bound, and the polished net's objective as an upper row when polish improved it."""
    start = time.perf_counter()
    best = best_run(context.runs)
    if context.architecture is not None:
        row = certify(best.net, context.problem).bound
        elapsed = time.perf_counter() - start
        return [replace(row, method=f"certificate (best CNN, m={best.width})", time=elapsed)]
    polish = not context.problem.output_bias
    certificate = certify(
        best.net, context.problem, solver=context.solver, lifted="never", polish=polish
    )
    elapsed = time.perf_counter() - start
    rows = [
        replace(
            certificate.bound,
            method=f"certificate ({'polished, ' if polish else 'best net, '}m={best.width})",
            time=elapsed,
        )
    ]
    original = certificate.original_objective
    if original is not None and certificate.objective < original:
        rows.append(
            Bound.of_network(
                certificate.objective,
                method=f"polished best net (m={certificate.U.shape[1]})",
                time=elapsed,
                status_text=f"polish: F {original:.6g} -> {certificate.objective:.6g}",
            )
        )
    return rows


def _rounding(context: _Context) -> list[Bound]:
    lifted = context.lifted()
    start = time.perf_counter()
    baseline = best_run(context.runs).best_objective
    result = round_lifted(lifted.Lambda, context.problem, baseline=baseline)
    row = result.bound
    beats = "beats SGD" if result.improved_over_baseline else "does not beat SGD"
    return [
        replace(
            row,
            method="rounding (TOS + polish)",
            time=time.perf_counter() - start,
            status_text=f"{row.status}; {beats}",
        )
    ]


#: Patterns the robust row samples (seed 0) when the exact enumeration exceeds ``MAX_REL_PATTERNS``.
ROBUST_SAMPLED_PATTERNS = 200


def _robust(context: _Context) -> list[Bound]:
    """The robust program's value and its net's checked robust objective: both upper bounds on
    p*_eps (>= p*), never lower bounds; sampled patterns restrict further (still upper)."""
    problem, eps = context.problem, context.robust_eps
    if eps is None:
        raise InvalidInputError("the robust row needs an eps (copos tightness --robust-eps EPS)")
    complete = expected_count(problem.n, problem.rank) <= MAX_REL_PATTERNS
    patterns = (
        problem.arrangements()
        if complete
        else sample_arrangements(problem.X, ROBUST_SAMPLED_PATTERNS, seed=0)
    )
    start = time.perf_counter()
    result = solve_robust_program(
        problem, eps, loss="squared", arrangements=patterns, solver=context.solver
    )
    elapsed = time.perf_counter() - start
    which = "all" if complete else f"{len(patterns)} sampled"
    value = replace(
        result.bound,
        method=f"robust convex (eps={eps:g})",
        time=elapsed,
        note=f"upper bound on the robust objective p*_eps of its own net; {which} clean patterns",
    )
    net = replace(
        result.network_bound, method=f"robust net (eps={eps:g}, m={result.net.m})", time=elapsed
    )
    return [value, net]


# --- issue 12: REL over every pattern by a priced working set, and the net read off it -----


def _rel_working_set(context: _Context) -> list[Bound]:
    """The proven lower end L(Z) of the working-set REL and the polished net read off its blocks
    (:func:`copos.certificates.rel_working_set.rel_working_set`); the share of the lifted DNN's
    gap each lower row closes is the report's ``closes`` column
    (:meth:`~copos.study.report.TightnessReport.closes`)."""
    result = rel_working_set(context.problem)
    status = "proven" if result.proven else f"open (gap {result.relative_gap:.1e})"
    return [
        replace(row, source="rel-ws", status_text=status) for row in (result.lower, result.upper)
    ]


# --- issue 12: the lifted DNN tightened by valid cuts, in rounds ---------------------------


def _lifted_cuts(context: _Context) -> list[Bound]:
    """The lifted DNN with subadditivity cuts added in rounds
    (:func:`copos.relaxations.lifted_cuts.solve_lifted_cuts`): a lower bound certified from its
    dual point after the solve; the report's ``closes`` column says how much of the DNN's gap
    it closes.  From ``n = CUTS_SPLITTING_FROM_N`` on, copos-admm's rounds select the cuts and
    one solve by ``context.solver`` certifies them (``final_solver``)."""
    options: dict[str, str] = {"solver": context.solver}
    if context.problem.n >= CUTS_SPLITTING_FROM_N and context.solver != COPOS_ADMM:
        options = {"solver": COPOS_ADMM, "final_solver": context.solver}
    result = solve_lifted_cuts(context.problem, **options)
    status = f"{len(result.cuts)} cuts, {len(result.rounds) - 1} rounds; certified (Z, N, y)"
    return [replace(result.bound, method="lifted-dnn + cuts", status_text=status)]


METHODS: dict[str, Method] = {
    "lifted-dnn": _lifted_dnn,
    "lifted-k1": _lifted_k1,
    "rel": _rel,
    "convex": _convex,
    "certificate": _certificate,
    "rounding": _rounding,
    "robust": _robust,
    "rel-ws": _rel_working_set,
    "lifted-cuts": _lifted_cuts,
}


def applicability(
    problem: TrainingProblem, method: str, architecture: Convolution | None = None
) -> str | None:
    """``None`` if ``method`` fits ``problem``'s size, else the reason it is skipped."""
    if architecture is not None:
        return _conv_applicability(problem, method, architecture)
    if method in ("convex", "robust") and problem.c != 1:
        return f"the {'robust' if method == 'robust' else 'Pilanci-Ergen'} program needs c = 1"
    if method == "rel-ws" and problem.output_bias:
        return "the REL working set models no output bias"
    if method == "rel":
        count = expected_count(problem.n, problem.rank)
        if count > MAX_REL_PATTERNS:
            return f"up to {count} activation patterns (limit {MAX_REL_PATTERNS}); drop the bias or reduce n"
    if method == "lifted-cuts" and problem.output_bias:
        return "the lifted program models no output bias"
    if method == "lifted-cuts" and problem.n > MAX_CUTS_N:
        return f"the cuts are solved by {DEFAULT_SOLVER} on side n + d + c (limit n = {MAX_CUTS_N})"
    if method == "lifted-k1":
        side = 2 * (problem.n + problem.d + problem.c)
        if side > MAX_K1_SIDE:
            return f"the K^1 lift has side {side} (limit {MAX_K1_SIDE}); use n <= {MAX_K1_SIDE // 2 - problem.d - problem.c}"
    return None


class TightnessInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`check_tightness`; ``report`` holds what finished (``complete=False``)."""

    def __init__(self, report: TightnessReport) -> None:
        super().__init__("tightness check interrupted")
        self.report = report


def check_tightness(
    problem: TrainingProblem,
    widths: Sequence[int] = (5, 10, 100),
    seeds: Sequence[int] = (0, 1, 2),
    methods: Sequence[str] = DEFAULT_METHODS,
    *,
    solver: str = DEFAULT_SOLVER,
    dnn_solver: str = "auto",
    convex_solver: str = "auto",
    epochs: int = 10_000,
    progress: bool = True,
    resume: TightnessReport | None = None,
    robust_eps: float | None = None,
    architecture: Convolution | None = None,
) -> TightnessReport:
    """Train the baselines, compute every requested bound, and collect them in a report.

    ``architecture``: a pooled :class:`~copos.nets.architectures.conv.Convolution` (issue 18):
    the baselines are CNNs (:func:`~copos.nets.training.train_conv`) and ``convex`` is the CNN's
    program over the patterns of the patch matrix (exact, or sampled and labelled upper);
    the dense-net methods are skipped with their reason.

    ``solver`` is the conic solver of every CVXPY program; ``dnn_solver`` the solver of the
    lifted DNN relaxation (``"auto"``: copos's own ADMM from ``n = 25`` and ``d = 10`` on,
    whose value is a certified lower bound, else ``solver``); ``convex_solver`` the solver of
    the ``c = 1`` convex program (``"auto"``: copos's ADMM from ``n·P = 50,000`` and ``d = 5``
    on, see :data:`copos.solvers.registry.AUTO_RULES`; it reports its certified dual bound and
    its recovered network instead of an "exact" value).

    Every method ends as rows: a method that raises gives one row with status ``"failed"``,
    direction ``"neither"`` and the exception in ``note``; it never aborts the report. A solver
    value that was not verified has direction ``"neither"``; a lower bound above a network's
    objective (beyond rounding) is demoted to ``"neither"`` and listed in ``report.warnings``.

    ``resume`` is a partial report of the same problem and options (e.g.
    :meth:`TightnessReport.load` of the JSON written after an interruption): its training runs
    and finished methods (failed ones included) are kept, not recomputed.

    Raises
    ------
    InvalidInputError
        Bad arguments, or ``resume`` belongs to other data or other options.
    TightnessInterrupted
        Ctrl-C; its ``report`` holds everything finished so far.
    """
    method_list = _check_arguments(problem, widths, seeds, methods, epochs)
    solver = registry.resolve(solver, "conic")
    dnn_solver = registry.resolve(
        dnn_solver, "lifted-dnn", Sizes(problem.n, problem.d), fallback=solver
    )
    convex_solver = registry.check(convex_solver, "arrangement")  # "auto" waits for P
    options = {
        "widths": [int(w) for w in widths],
        "seeds": [int(s) for s in seeds],
        "methods": method_list,
        "epochs": int(epochs),
        "solver": solver,
        "dnn_solver": dnn_solver,
        "convex_solver": convex_solver,
    }
    if robust_eps is not None:  # the robust row (issue 18): its radius is part of the options
        options["robust_eps"] = check_nonnegative(robust_eps, "robust_eps")
        method_list = list(dict.fromkeys([*method_list, "robust"]))
        options["methods"] = method_list
    elif "robust" in method_list:
        raise InvalidInputError("the robust method needs robust_eps (--robust-eps EPS)")
    if architecture is not None:
        options["architecture"] = _check_conv_run(problem, architecture, resume)
    state = _State(problem, options, architecture)
    if resume is not None:
        state.adopt(resume)
    try:
        state.train(progress)
        context = _Context(
            problem,
            solver,
            state.runs,
            dnn_solver=dnn_solver,
            convex_solver=options["convex_solver"],
            robust_eps=options.get("robust_eps"),
            architecture=architecture,
            quiet=not progress,
        )
        for method in method_list:
            state.run_method(method, context)
    except KeyboardInterrupt as exc:
        raise TightnessInterrupted(state.report(complete=False)) from exc
    return state.report(complete=True)


def problem_fingerprint(problem: TrainingProblem) -> str:
    """SHA-256 of the data (:class:`copos.certificates.certificate.DataFingerprint`) with ``beta``,
    ``bias`` and, when set, ``output_bias``."""
    digest = DataFingerprint.of(problem.X, problem.Y).sha256
    free = ";output_bias=True" if problem.output_bias else ""  # older reports stay valid
    return f"sha256:{digest};beta={problem.beta!r};bias={bool(problem.bias)}{free}"


def _check_arguments(problem: Any, widths: Any, seeds: Any, methods: Any, epochs: Any) -> list[str]:
    """Validate the arguments of :func:`check_tightness`; return the methods without repeats."""
    if not isinstance(problem, TrainingProblem):
        raise InvalidInputError(
            f"check_tightness needs a TrainingProblem; got {type(problem).__name__}"
        )
    if isinstance(methods, str) or not isinstance(methods, Sequence):
        raise InvalidInputError(f"methods must be a list of method names; got {methods!r}")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InvalidInputError(f"unknown methods {unknown}; choose from {sorted(METHODS)}")
    for name, values in (("widths", widths), ("seeds", seeds)):
        if isinstance(values, str) or not isinstance(values, Sequence):
            raise InvalidInputError(f"{name} must be a list of integers; got {values!r}")
    if not widths or not seeds:
        raise InvalidInputError("give at least one width and one seed")
    for width in widths:
        check_dimension(width, "width")
    for seed in seeds:
        check_dimension(seed, "seed", minimum=0)
    check_dimension(epochs, "epochs")
    return list(dict.fromkeys(methods))


class _State:
    """The runs and method rows finished so far; assembles (partial) reports."""

    def __init__(
        self,
        problem: TrainingProblem,
        options: dict[str, Any],
        architecture: Convolution | None = None,
    ) -> None:
        self.problem = problem
        self.options = options
        self.architecture = architecture
        self.fingerprint = problem_fingerprint(problem)
        self.done_runs: dict[tuple[int, int], TrainingRun] = {}
        self.method_rows: dict[str, list[Bound]] = {}
        self.skipped: dict[str, str] = {}
        self.earlier_warnings: list[str] = []

    @property
    def runs(self) -> list[TrainingRun]:
        """Finished runs ordered by width, then seed."""
        return [self.done_runs[key] for key in sorted(self.done_runs)]

    def adopt(self, previous: TightnessReport) -> None:
        """Take over the runs and finished methods of ``previous`` after checking it matches."""
        if not isinstance(previous, TightnessReport):
            raise InvalidInputError(
                f"resume must be a TightnessReport; got {type(previous).__name__}"
            )
        if previous.fingerprint != self.fingerprint:
            raise InvalidInputError(
                "cannot resume: the partial report is of other data or another beta/bias "
                f"({previous.fingerprint or 'no fingerprint'} != {self.fingerprint})"
            )
        different = {
            key: (previous.options.get(key), value)
            for key, value in self.options.items()
            if previous.options.get(key) != value
        }
        if different:
            detail = "; ".join(
                f"{k}: {old!r} then, {new!r} now" for k, (old, new) in different.items()
            )
            raise InvalidInputError(f"cannot resume: the options differ ({detail})")
        wanted = {(w, s) for w in self.options["widths"] for s in self.options["seeds"]}
        for run in previous.runs:
            if (run.width, run.seed) in wanted:
                self.done_runs[(run.width, run.seed)] = self._rechecked(run)
        for row in previous.rows:
            if row.source in METHODS and row.source in self.options["methods"]:
                self.method_rows.setdefault(row.source, []).append(row)
        self.skipped.update(previous.skipped)
        self.earlier_warnings = list(previous.warnings)

    def _rechecked(self, run: TrainingRun) -> TrainingRun:
        """A resumed run whose objective is recomputed from its weights on this problem.

        An upper bound is only as good as its network: a stored objective that the weights do
        not reproduce (relative difference above 1e-8) means a corrupted or edited file.
        """
        objective = run.net.objective(self.problem)
        stored = run.best_objective
        if not (math.isfinite(objective) and math.isfinite(stored)) or abs(
            objective - stored
        ) > 1e-8 * max(1.0, abs(objective)):
            raise InvalidInputError(
                f"cannot resume: the network of width {run.width}, seed {run.seed} has objective "
                f"{objective!r} on this data, the partial report says {stored!r}"
            )
        return replace(run, best_objective=objective, history=np.array([objective]))

    def train(self, progress: bool) -> None:
        """Train every (width, seed) pair not finished yet."""
        for width in self.options["widths"]:  # refuse what cannot fit before training anything
            check_training_size(self.problem, width, self.options["epochs"])
        missing = [
            (w, s)
            for w in self.options["widths"]
            for s in self.options["seeds"]
            if (w, s) not in self.done_runs
        ]
        bar = ProgressBar(len(missing), enabled=progress and bool(missing))
        try:
            for width, seed in missing:
                run = self._train_one(width, seed)
                self.done_runs[(width, seed)] = run
                bar.update(1, f"m={width} seed={seed} best={run.best_objective:.5g}")
        finally:
            bar.close()

    def _train_one(self, width: int, seed: int) -> TrainingRun:
        """One baseline run: the dense net, or the CNN of ``architecture`` (``--arch``)."""
        epochs = self.options["epochs"]
        if self.architecture is None:
            return training.train(self.problem, width, seed=seed, epochs=epochs)
        return training.train_conv(self.problem, self.architecture, width, seed=seed, epochs=epochs)

    def run_method(self, method: str, context: _Context) -> None:
        """Run ``method`` unless finished or not applicable; a raise becomes a failed row."""
        if method in self.method_rows:
            return
        reason = applicability(self.problem, method, context.architecture)
        if reason is not None:
            self.skipped[method] = reason
            return
        start = time.perf_counter()
        try:
            rows = _interruptible(lambda: METHODS[method](context))
        except Exception as exc:  # noqa: BLE001 - one failing method must not abort the report
            rows = _rows_of_failure(method, exc, time.perf_counter() - start, context)
        self.method_rows[method] = [replace(_directed(row), source=method) for row in rows]

    def report(self, complete: bool) -> TightnessReport:
        """The report of everything finished, with the invariant check applied."""
        runs = self.runs
        widths = sorted({run.width for run in runs})
        rows = [replace(_directed(_sgd_row(runs, w)), source="sgd") for w in widths]
        for method in self.options["methods"]:
            rows += self.method_rows.get(method, [])
        rows, warnings = enforce_bound_order(rows)
        warnings = list(dict.fromkeys(self.earlier_warnings + warnings))
        problem = self.problem
        return TightnessReport(
            problem=problem.name,
            beta=problem.beta,
            shape=(problem.n, problem.d, problem.c),
            widths=tuple(self.options["widths"]),
            seeds=tuple(self.options["seeds"]),
            runs=runs,
            rows=rows,
            skipped=dict(self.skipped),
            complete=complete,
            options=dict(self.options),
            fingerprint=self.fingerprint,
            warnings=warnings,
        )


def _interruptible(call: Callable[[], list[Bound]]) -> list[Bound]:
    """``call()`` in a daemon worker thread, waited for in short joins.

    Native solvers (Clarabel) release the GIL but do not look at signals, so Ctrl-C during a
    solve would otherwise wait for the whole solve; here it ends the wait within 0.2 s (the
    abandoned solve runs on in the background until it returns or the process exits).
    Exceptions of ``call`` (``KeyboardInterrupt`` included) are raised in the caller.
    """
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["rows"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            box["error"] = exc

    # The worker runs in a copy of this thread's context, so context-local settings such as
    # the memory limit (copos._memory.memory_limit) hold inside the method too.
    context = contextvars.copy_context()
    worker = threading.Thread(
        target=context.run, args=(work,), name="copos-tightness-method", daemon=True
    )
    worker.start()
    while worker.is_alive():
        worker.join(0.2)
    if "error" in box:
        raise box["error"]
    return box["rows"]


#: Method names of the rows each method produces, for the failed row of a method that raised.
_LABELS: dict[str, str] = {
    "lifted-dnn": "lifted-dnn (DNN)",
    "lifted-k1": "lifted-k1 (COP dual, K^1)",
    "rel": "rel (Sahiner, DNN)",
    "convex": "convex (Pilanci-Ergen, c=1)",
    "certificate": "certificate (best net, polished)",
    "rounding": "rounding (TOS + polish)",
    "rel-ws": "REL working set (priced by sigma)",
    "lifted-cuts": "lifted-dnn + cuts",
}


def _rows_of_failure(method: str, exc: Exception, elapsed: float, context: _Context) -> list[Bound]:
    """The failed row of ``method``, plus "Z, checked" from the solver's last iterate if it left one.

    A solver exception may carry the dual candidate of its last iterate as ``exc.Z``.
    """
    rows = [failed_row(_LABELS[method], exc, elapsed)]
    Z = getattr(exc, "Z", None)
    if Z is not None:
        rows.append(_checked(f"{method} (last iterate)", Z, context))
    return rows


def _directed(row: Bound) -> Bound:
    """``row`` with the direction contract explained in its note.

    A non-finite value never bounds anything, and a solver value that was not verified is not a
    bound: :attr:`Bound.kind` gives both direction ``neither`` (they never enter best bounds,
    gaps or plots); a row that claims no direction is not verified either.
    """
    if row.failed:
        return row
    if row.claimed_kind == "neither":
        return replace(row, checked="unverified")
    if not row.finite:
        note = f"non-finite value; {row.note}" if row.note else "non-finite value"
        return replace(row, note=note)
    if not row.verified:
        note = f"solver value, not verified (would be {row.claimed_kind}); {row.note}".rstrip("; ")
        return replace(row, note=note)
    return row


def enforce_bound_order(rows: Sequence[Bound]) -> tuple[list[Bound], list[str]]:
    r"""Demote every lower bound that lies above a proven upper bound.

    With :math:`U = \min` of the networks' objectives (upper rows), a lower or exact row with
    value :math:`b > U + \tau\max(1, |U|)`, :math:`\tau` = ``ROUNDING_RTOL``, cannot be a lower
    bound; so can no exact row below a rigorous lower bound, nor a verified solver lower bound
    above an exact value. Such rows get direction ``neither`` and a warning; afterwards
    ``best_lower <= best_upper`` up to rounding.
    """
    out = list(rows)
    warnings: list[str] = []

    def limit(values: list[float]) -> float:
        return min(values) if values else math.inf

    def demote(index: int, against: float, what: str) -> None:
        row = out[index]
        excess = (row.value - against) / max(1.0, abs(against))
        warnings.append(
            f"{row.method}: {row.kind} value {row.value:.10g} contradicts {what} {against:.10g} "
            f"(relative {excess:+.2e}); demoted to 'neither': it is NOT a bound"
        )
        out[index] = row.demote()

    def tol(value: float) -> float:
        return ROUNDING_RTOL * max(1.0, abs(value))

    upper = limit([r.value for r in out if r.counts and r.kind == "upper"])
    for i, row in enumerate(out):
        if row.counts and row.kind in ("lower", "exact") and row.value > upper + tol(upper):
            demote(i, upper, "the best network objective")
    rigorous = max(
        [r.value for r in out if r.counts and r.kind == "lower" and r.rigorous], default=-math.inf
    )
    for i, row in enumerate(out):
        if row.counts and row.kind == "exact" and row.value < rigorous - tol(rigorous):
            demote(i, rigorous, "the best rigorous lower bound")
    exact = limit([r.value for r in out if r.counts and r.kind == "exact"])
    for i, row in enumerate(out):
        if row.counts and row.kind == "lower" and row.verified and row.value > exact + tol(exact):
            demote(i, exact, "the exact value")
    return out, warnings


def _sgd_row(runs: list[TrainingRun], width: int) -> Bound:
    same = [run for run in runs if run.width == width]
    best = best_run(same)
    spread = max(run.best_objective for run in same) - best.best_objective
    return replace(
        best.bound,
        method=f"sgd (adam, m={width})",
        time=sum(run.time for run in same),
        status_text=f"best of {len(same)} seeds",
        note=f"spread over seeds {spread:.3g}",
    )


# ---------------------------------------------------------------------------- convolutional nets
#: Methods a convolutional row set runs; the others are the dense net's.
CONV_METHODS = frozenset({"convex", "rel", "certificate"})
#: ``--arch`` choices (1-D signals: one channel, the problem's columns as positions).
ARCHITECTURES: tuple[str, ...] = ("dense", "conv1d")


def conv_architecture(
    problem: TrainingProblem, arch: str, patch: int, stride: int = 1, pooling: str = "avg"
) -> Convolution | None:
    """``None`` for ``"dense"``; else the 1-D convolution over the problem's columns
    (one channel, length ``d``) with filters of ``patch`` taps."""
    if arch not in ARCHITECTURES:
        raise InvalidInputError(f"arch must be one of {', '.join(ARCHITECTURES)}; got {arch!r}")
    if arch == "dense":
        return None
    if problem.bias:
        raise InvalidInputError(
            "--arch conv1d reads each row as a signal: drop --bias (a ones column is not a sample)"
        )
    return Convolution.conv1d(problem.d, patch, stride=stride, pooling=pooling)


def _check_conv_run(
    problem: TrainingProblem, architecture: Convolution, resume: TightnessReport | None
) -> str:
    if not isinstance(architecture, Convolution):
        raise InvalidInputError(
            f"architecture must be a Convolution; got {type(architecture).__name__}"
        )
    architecture.check_problem(problem, problem.c)
    if resume is not None:
        raise InvalidInputError("--resume is for dense nets only; rerun the CNN check")
    return architecture.describe()


def _conv_applicability(
    problem: TrainingProblem, method: str, architecture: Convolution
) -> str | None:
    if method not in CONV_METHODS:
        return f"dense nets only (not for {architecture.describe()})"
    if method == "convex" and architecture.pooling == "linear":
        return "the linear readout's program is copositive: its relaxation is the rel method"
    if method == "convex" and problem.c != 1:
        return "the CNN's convex program needs c = 1"
    return None


def _conv_rel(context: _Context, architecture: Convolution) -> list[Bound]:
    """REL on the patch data (lower over all patterns, ``neither`` over sampled ones) and the CNN
    read off its blocks (its true objective: upper)."""
    start = time.perf_counter()
    result = solve_conv_rel(context.problem, architecture, solver=context.solver)
    row = replace(
        result.bound, method="rel (CNN, patch patterns)", time=time.perf_counter() - start
    )

    def read_off() -> Bound:
        began = time.perf_counter()
        read = read_off_conv_rel(result, context.problem, architecture, solver=context.solver)
        return replace(
            read.bound,
            method=f"rel read-off CNN (m={read.net.m})",
            time=time.perf_counter() - began,
        )

    return [row, _isolated("rel read-off CNN", read_off)]


def _conv_convex(context: _Context, architecture: Convolution) -> list[Bound]:
    """The CNN's program (exact or sampled, labelled) and the CNN recovered from it (upper)."""
    start = time.perf_counter()
    result = solve_conv_program(context.problem, architecture, solver=context.solver)
    elapsed = time.perf_counter() - start
    patterns = result.patterns
    how = "all" if patterns.complete else "sampled"
    row = replace(
        result.bound,
        method=f"convex (CNN, {how} patterns)",
        time=elapsed,
        note=f"{len(patterns)} patterns of the patch matrix of {architecture.describe()}",
    )
    net = replace(
        result.program.network_bound,
        method=f"convex CNN (recovered, m={result.net.m})",
    )
    return [row, net]
