r"""The tightness checker: every bound on one training problem, side by side, with its direction.

For one :class:`~copos.network.problem.TrainingProblem` it trains baseline networks over a grid
of widths and seeds (upper bounds on :math:`p^\star`), computes the lower bounds that fit the
size, and reports each value's gap to the best upper bound,

.. math::

    \text{gap}(b) = \frac{F_{\text{best}} - b}{\max(1, |F_{\text{best}}|)},\qquad
    F_{\text{best}} = \min\{\text{objective of every network found}\}.

Methods (``METHODS``): ``lifted-dnn`` (Prakhya et al.'s DNN relaxation, reduced form; lower),
``lifted-k1`` (the lifted copositive dual with the generalized Parrilo cone at level 1, small
``n`` only; lower), ``rel`` (Sahiner et al.'s DNN relaxation over complete arrangements; lower),
``convex`` (the exact Pilanci-Ergen program, ``c = 1`` only; exact), ``rel`` also reports the
network recovered from its solution (upper), ``certificate`` (the
certified lower bound of the best trained net; lower) and ``rounding`` (the lifted solution
rounded to a network and polished; upper).  A lower bound counts as ``verified`` only when its
numbers were checked after the solve: each relaxation is reported twice, once as the solver's
optimal value (verified only if the solve is accurate) and once as "Z, checked", the dual
candidate :math:`Z` of the solve scaled by :math:`\min(1, \beta/\sigma(Z))` with
:math:`\sigma(Z)` recomputed exactly or rigorously bounded (:mod:`copos.certificate`).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import numpy as np

from copos.errors import CoposError, InvalidInputError
from copos.network.arrangements import expected_count
from copos.network.problem import TrainingProblem
from copos.network.training import TrainingRun, best_run, train_grid
from copos.solvers.cvxpy_backend import DEFAULT_SOLVER, resolve_solver

#: Methods run by default: they finish in well under three minutes on the spiral (n = 60).
DEFAULT_METHODS: tuple[str, ...] = ("lifted-dnn", "rel", "certificate")
#: Largest number of activation patterns for which ``rel`` is attempted.
MAX_REL_PATTERNS = 400
#: Largest side ``2p - 2n`` of the orthant lift for which ``lifted-k1`` is attempted.
MAX_K1_SIDE = 24


@dataclass(frozen=True)
class MethodResult:
    """One row of the report: a value with its direction and provenance."""

    method: str
    kind: str
    value: float
    time: float
    status: str
    verified: bool
    note: str = ""
    rigorous: bool = False


@dataclass
class TightnessReport:
    """Everything :func:`check_tightness` computed on one problem."""

    problem: str
    beta: float
    shape: tuple[int, int, int]
    widths: tuple[int, ...]
    seeds: tuple[int, ...]
    runs: list[TrainingRun] = field(repr=False)
    rows: list[MethodResult]
    skipped: dict[str, str]

    @property
    def best_upper(self) -> float:
        """The smallest objective of any network found (an upper bound on the optimum)."""
        uppers = [row.value for row in self.rows if row.kind in ("upper", "exact")]
        return min(uppers) if uppers else math.inf

    @property
    def best_lower(self) -> float:
        """The largest verified lower bound (solver values with residuals checked to 1e-6)."""
        lowers = [row.value for row in self.rows if row.kind in ("lower", "exact") and row.verified]
        return max(lowers) if lowers else -math.inf

    @property
    def best_rigorous_lower(self) -> float:
        """The largest lower bound recomputed after the solve ("Z, checked", certificates)."""
        lowers = [row.value for row in self.rows if row.kind == "lower" and row.rigorous]
        return max(lowers) if lowers else -math.inf

    def gap(self, row: MethodResult) -> float:
        """Relative gap of ``row`` to the best upper bound."""
        best = self.best_upper
        return (best - row.value) / max(1.0, abs(best))

    def table(self) -> str:
        """A fixed-width text table: method, bound kind, value, gap, time, status."""
        n, d, c = self.shape
        header = f"{'method':<28} {'bound':<7} {'value':>12} {'gap':>10} {'time[s]':>8}  status"
        lines = [
            f"{self.problem}: n={n}, d={d}, c={c}, beta={self.beta:g}; "
            f"widths {list(self.widths)}, seeds {list(self.seeds)}",
            header,
            "-" * len(header),
        ]
        for row in self.rows:
            status = (
                row.status if row.verified or row.kind == "upper" else f"{row.status} (unverified)"
            )
            lines.append(
                f"{row.method:<28} {row.kind:<7} {row.value:>12.6f} {self.gap(row):>10.2e} "
                f"{row.time:>8.2f}  {status}"
            )
        lines.append(
            f"best upper {self.best_upper:.6f}; best verified lower {self.best_lower:.6f}; "
            f"best rigorous lower {self.best_rigorous_lower:.6f}"
        )
        lines += [f"skipped {name}: {why}" for name, why in self.skipped.items()]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary, including every training run's objective."""
        return {
            "problem": self.problem,
            "beta": self.beta,
            "n": self.shape[0],
            "d": self.shape[1],
            "c": self.shape[2],
            "widths": list(self.widths),
            "seeds": list(self.seeds),
            "best_upper": self.best_upper,
            "best_lower": self.best_lower,
            "best_rigorous_lower": self.best_rigorous_lower,
            "rows": [{**asdict(row), "gap": self.gap(row)} for row in self.rows],
            "runs": [
                {
                    "width": run.width,
                    "seed": run.seed,
                    "objective": run.best_objective,
                    "time": run.time,
                }
                for run in self.runs
            ],
            "skipped": self.skipped,
        }

    def to_json(self) -> str:
        return json.dumps(_json_safe(self.to_dict()), indent=2)

    def save_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_json` atomically."""
        from copos._io import atomic_write

        text = self.to_json().encode()

        def write(handle: IO[bytes]) -> None:
            handle.write(text)

        atomic_write(path, write)
        return Path(path)

    def plot(self, stem: str | os.PathLike[str]) -> list[Path]:
        """SGD objective against width per seed, lower bounds dashed; writes ``stem``.png/.pdf."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as exc:
            raise CoposError("plotting needs matplotlib: pip install 'copos[plot]'") from exc
        figure, axis = plt.subplots(figsize=(6.4, 4.2))
        for seed in self.seeds:
            runs = sorted((r for r in self.runs if r.seed == seed), key=lambda r: r.width)
            axis.plot(
                [r.width for r in runs],
                [r.best_objective for r in runs],
                "o-",
                label=f"SGD seed {seed}",
            )
        for index, row in enumerate(r for r in self.rows if r.kind in ("lower", "exact")):
            style = "--" if row.verified else ":"
            axis.axhline(
                row.value,
                linestyle=style,
                color=f"C{(index + len(self.seeds)) % 10}",
                label=f"{row.method} ({row.kind})",
            )
        axis.set_xscale("log")
        axis.set_xlabel("width m")
        axis.set_ylabel("training objective")
        axis.set_title(f"{self.problem}, beta = {self.beta:g}")
        axis.legend(fontsize="small")
        figure.tight_layout()
        paths = []
        for suffix in (".png", ".pdf"):
            target = Path(f"{os.fspath(stem)}{suffix}")
            partial = target.with_name(target.name + ".partial" + suffix)
            figure.savefig(partial)
            os.replace(partial, target)
            paths.append(target)
        plt.close(figure)
        return paths


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value


@dataclass
class _Context:
    """What the methods share: the problem, the solver, the runs and the lifted solution."""

    problem: TrainingProblem
    solver: str
    runs: list[TrainingRun]
    lifted: Any = None
    dnn_solver: str = "auto"
    convex_solver: str = "auto"


Method = Callable[[_Context], list[MethodResult]]


def _lifted_dnn(context: _Context) -> list[MethodResult]:
    from copos.network.lifted import solve_lifted_dnn

    result = solve_lifted_dnn(context.problem, form="reduced", solver=context.dnn_solver)
    context.lifted = result
    row = _from_bound(f"lifted-dnn (DNN, {result.solve.solver})", result.to_bound())
    if result.certified:
        row = replace(row, rigorous=True, status=f"{row.status}; certified lower bound")
    return [row, _checked("lifted-dnn", result.Z, context)]


def _lifted_k1(context: _Context) -> list[MethodResult]:
    from copos.network.lifted import solve_lifted_copositive_dual

    result = solve_lifted_copositive_dual(context.problem, level=1, solver=context.solver)
    row = _from_bound("lifted-k1 (COP dual, K^1)", result.to_bound())
    return [row, _checked("lifted-k1", result.Z, context)]


def _rel(context: _Context) -> list[MethodResult]:
    from copos.network.copositive import solve_rel

    result = solve_rel(context.problem, solver=context.solver)
    row = MethodResult(
        "rel (Sahiner, DNN)",
        result.bound_kind,
        result.value,
        result.solve.solve_time,
        result.solve.status,
        result.solve.accurate,
        result.note,
    )
    return [row, _checked("rel", result.Z, context), _recovered(result, context)]


def _recovered(result: Any, context: _Context) -> MethodResult:
    """The network recovered from REL: a real network, so its objective is an upper bound."""
    from copos.network.copositive import recover_network

    start = time.perf_counter()
    recovery = recover_network(result, context.problem)
    status = "exact recovery" if recovery.exact else "inexact recovery"
    return MethodResult(
        f"rel recovered net (m={recovery.num_neurons})",
        "upper",
        recovery.objective,
        time.perf_counter() - start,
        status,
        True,
        recovery.message,
    )


def _checked(name: str, Z: Any, context: _Context) -> MethodResult:
    """The solve's dual variable ``Z``, scaled to be feasible and evaluated in numpy."""
    from copos.certificate import checked_lower_bound

    bound = checked_lower_bound(Z, context.problem, solver=context.solver)
    status = f"sigma(Z)/beta = {bound.sigma / context.problem.beta:.6f} ({bound.method})"
    note = "dual candidate Z of the solve, scaled into the dual-feasible set after the solve"
    return MethodResult(
        f"{name} Z, checked",
        "lower",
        bound.value,
        bound.time,
        status,
        bound.rigorous,
        note,
        rigorous=bound.rigorous,
    )


def _convex(context: _Context) -> list[MethodResult]:
    from copos.network.arrangements import enumerate_arrangements
    from copos.network.convex import ADMM_SOLVER, convex_solver, solve_convex_program

    start = time.perf_counter()
    patterns = enumerate_arrangements(context.problem.X)
    solver = convex_solver(context.problem, patterns, context.convex_solver, context.solver)
    result = solve_convex_program(context.problem, patterns, solver=solver)
    elapsed = time.perf_counter() - start
    if solver == ADMM_SOLVER:
        return _convex_admm_rows(result, elapsed)
    return [
        MethodResult(
            "convex (Pilanci-Ergen, c=1)",
            result.bound_kind,
            result.value,
            elapsed,
            result.solve.status,
            result.solve.accurate,
            f"{result.num_neurons} neurons recovered",
        )
    ]


def _convex_admm_rows(result: Any, elapsed: float) -> list[MethodResult]:
    """The ADMM's certified dual bound (lower) and its recovered network (upper), not its value.

    Over complete arrangements the weak-duality bound holds for every network of any width; the
    recovered network's objective is computed with the true ReLU, so it is an upper bound.
    """
    info = result.solve
    status = f"{result.status}; residuals {info.primal_residual:.1e}/{info.dual_residual:.1e}"
    return [
        MethodResult(
            "convex dual (copos-admm)",
            "lower",
            result.lower_bound,
            elapsed,
            f"{status}; certified lower bound",
            True,
            f"Pilanci-Ergen dual at the ADMM multipliers (weak duality); ADMM value {result.value:.10g}",
            rigorous=True,
        ),
        MethodResult(
            f"convex net (admm, m={result.num_neurons})",
            "upper",
            result.recovered_objective,
            0.0,
            status,
            True,
            "objective of the recovered network, computed with the true ReLU",
        ),
    ]


def _certificate(context: _Context) -> list[MethodResult]:
    from copos.certificate import certify

    start = time.perf_counter()
    best = best_run(context.runs)
    certificate = certify(best.net, context.problem, solver=context.solver, lifted="never")
    return [
        MethodResult(
            f"certificate (best net, m={best.width})",
            "lower",
            certificate.lower_bound,
            time.perf_counter() - start,
            certificate.verdict,
            certificate.rigorous,
            f"sigma by {certificate.method}; {certificate.reason}",
            rigorous=certificate.rigorous,
        )
    ]


def _rounding(context: _Context) -> list[MethodResult]:
    from copos.network.rounding import round_lifted

    if context.lifted is None:
        _lifted_dnn(context)
    start = time.perf_counter()
    baseline = best_run(context.runs).best_objective
    result = round_lifted(context.lifted.Lambda, context.problem, baseline=baseline)
    return [
        MethodResult(
            "rounding (TOS + polish)",
            "upper",
            result.polished_objective,
            time.perf_counter() - start,
            f"TOS {result.status}; "
            + ("beats SGD" if result.improved_over_baseline else "does not beat SGD"),
            True,
            result.message,
        )
    ]


def _from_bound(name: str, bound: Any) -> MethodResult:
    status = bound.solve.status if bound.solve is not None else "exact"
    return MethodResult(
        name, bound.kind, bound.value, bound.time, status, bound.verified, bound.note
    )


METHODS: dict[str, Method] = {
    "lifted-dnn": _lifted_dnn,
    "lifted-k1": _lifted_k1,
    "rel": _rel,
    "convex": _convex,
    "certificate": _certificate,
    "rounding": _rounding,
}


def applicability(problem: TrainingProblem, method: str) -> str | None:
    """``None`` if ``method`` fits ``problem``'s size, else the reason it is skipped."""
    if method == "convex" and problem.c != 1:
        return "the Pilanci-Ergen program needs c = 1"
    if method == "rel":
        count = expected_count(problem.n, problem.rank)
        if count > MAX_REL_PATTERNS:
            return f"up to {count} activation patterns (limit {MAX_REL_PATTERNS}); drop the bias or reduce n"
    if method == "lifted-k1":
        side = 2 * (problem.n + problem.d + problem.c)
        if side > MAX_K1_SIDE:
            return f"the K^1 lift has side {side} (limit {MAX_K1_SIDE}); use n <= {MAX_K1_SIDE // 2 - problem.d - problem.c}"
    return None


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
) -> TightnessReport:
    """Train the baselines, compute every requested bound, and collect them in a report.

    ``solver`` is the conic solver of every CVXPY program; ``dnn_solver`` the solver of the
    lifted DNN relaxation (``"auto"``: copos's own ADMM from ``n = 25`` and ``d = 10`` on,
    whose value is a certified lower bound, else ``solver``); ``convex_solver`` the solver of
    the ``c = 1`` convex program (``"auto"``: copos's ADMM from ``n·P = 50,000`` and ``d = 5``
    on, see :func:`copos.network.convex.convex_solver`; it reports its certified dual bound and
    its recovered network instead of an "exact" value).
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InvalidInputError(f"unknown methods {unknown}; choose from {sorted(METHODS)}")
    if not widths or not seeds:
        raise InvalidInputError("give at least one width and one seed")
    solver = resolve_solver(solver)
    from copos.network.lifted import dnn_solver as resolve_dnn_solver

    dnn_solver = resolve_dnn_solver(problem, dnn_solver, fallback=solver)
    runs = train_grid(problem, list(widths), list(seeds), epochs=epochs, progress=progress)
    rows = [_sgd_row(runs, width) for width in sorted(set(widths))]
    if str(convex_solver).lower() not in ("auto", "copos-admm"):
        convex_solver = resolve_solver(convex_solver)
    context = _Context(problem, solver, runs, dnn_solver=dnn_solver, convex_solver=convex_solver)
    skipped: dict[str, str] = {}
    for method in methods:
        reason = applicability(problem, method)
        if reason is not None:
            skipped[method] = reason
            continue
        rows.extend(METHODS[method](context))
    return TightnessReport(
        problem=problem.name,
        beta=problem.beta,
        shape=(problem.n, problem.d, problem.c),
        widths=tuple(widths),
        seeds=tuple(seeds),
        runs=runs,
        rows=rows,
        skipped=skipped,
    )


def _sgd_row(runs: list[TrainingRun], width: int) -> MethodResult:
    same = [run for run in runs if run.width == width]
    best = best_run(same)
    spread = max(run.best_objective for run in same) - best.best_objective
    return MethodResult(
        f"sgd (adam, m={width})",
        "upper",
        best.best_objective,
        sum(run.time for run in same),
        f"best of {len(same)} seeds",
        True,
        f"spread over seeds {spread:.3g}",
    )
