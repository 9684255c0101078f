r"""REL over every activation pattern at scale: a working set priced by the dual norm.

(REL) is solved on a working set :math:`\mathcal W` of patterns by copos's own splitting
(:func:`copos.relaxations.rel.solve_rel_admm`); its residual :math:`Z` is priced against
**all** patterns with the dual norm of the certificate machinery,

.. math:: \sigma_i(Z) = \max_{A_iu \ge 0,\ \|u\| \le 1}\|Z^\top D_iXu\|,\qquad
    \sigma(Z) = \max_i\sigma_i(Z)\ \ (\text{:func:`~copos.certificates.dual_norm.dual_norm`}),

and a pattern enters :math:`\mathcal W` when :math:`\sigma_i(Z) > \beta` (the maximiser's
pattern, and with the enumeration every evaluated pattern above :math:`\beta`; the same for the
residual of the read-off net, and without enumeration its own neurons' patterns too).  Every outer
round brackets :math:`p^\star`:

.. math:: L(Z) = t\langle Z, Y\rangle - \tfrac12t^2\|Z\|_F^2 \le p^\star \le F(U, V),\qquad
    t = \min(1, \beta/\bar\sigma),

with :math:`\bar\sigma` the proven upper end of :math:`\sigma(Z)` (any :math:`Z`: weak
duality) and :math:`(U, V)` the net read off the blocks and polished
(:mod:`copos.recovery.from_relaxation`).  :math:`L` is taken at both the REL residual and the
polished net's residual.  The loop stops when :math:`F - L \le \varepsilon\max(1, |F|)` (a
proof), or when no pattern is left to price in (:math:`\sigma(Z) \le \beta`: the REL value on
:math:`\mathcal W` is the REL value over the whole arrangement).  :func:`rel_beta_path` warm
starts along a path of weight decays (same working set and iterates).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from copos.bound import Bound
from copos.certificates.certify import dual_lower_bound, dual_scale
from copos.certificates.dual_norm import DualNormResult, dual_norm
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.arrangements import Arrangements
from copos.nets.problem import TrainingProblem, require_no_output_bias
from copos.recovery.from_relaxation import network_from_blocks, polished_network
from copos.relaxations.rel import RelAdmmRun, solve_rel_admm
from copos.solvers.admm.rel import RelAdmmState

FloatArray = NDArray[np.float64]

#: A pattern enters when its :math:`\sigma_i` exceeds :math:`\beta(1 + \text{this})`.
PRICE_RTOL = 1e-9

#: The REL solves start at this tolerance and tighten to ``GAP_TO_TOL`` times the relative
#: gap of the bracket (never below ``admm_tol``): early working sets only need the patterns.
ADMM_TOL_START = 1e-4
GAP_TO_TOL = 1e-2

#: The method label of the rows in the tightness table.
LOWER_METHOD = "REL working set (priced by sigma)"
UPPER_METHOD = "net read off REL (polished)"


@dataclass(frozen=True)
class WorkingSetRound:
    """One outer round: working-set size, REL value on it, proven ``sigma`` upper end of the REL
    residual, the bracket ``[lower, upper]`` so far, patterns added, seconds since the start."""

    patterns: int
    rel_value: float
    sigma: float
    lower: float
    upper: float
    added: int
    time: float


@dataclass(frozen=True, eq=False)
class WorkingSetResult:
    r"""The bracket :math:`L \le p^\star \le F` of :func:`rel_working_set`.

    ``lower`` is rigorous when every dual norm was (``sigma_rigorous``); ``upper`` is a real
    net's objective; ``rel`` the REL value on the final working set (``"lower"`` only when the
    pricing found nothing left, ``complete``; unverified: the splitting has no duality gap).
    """

    beta: float
    lower: Bound
    upper: Bound
    rel: Bound
    net: TwoLayerReLU
    patterns: Arrangements
    complete: bool
    proven: bool
    rounds: tuple[WorkingSetRound, ...]
    state: RelAdmmState
    time: float

    @property
    def gap(self) -> float:
        """:math:`F - L` (``inf`` when either end is not finite)."""
        gap = self.upper.value - self.lower.value
        return gap if math.isfinite(gap) else math.inf

    @property
    def relative_gap(self) -> float:
        """:math:`(F - L)/\\max(1, |F|)`."""
        return self.gap / max(1.0, abs(self.upper.value))


@dataclass
class _Bracket:
    """The best proven ends so far."""

    lower: float = -math.inf
    upper: float = math.inf
    net: TwoLayerReLU | None = None
    rigorous: bool = True

    def offer_lower(self, Z: FloatArray, norm: DualNormResult, problem: TrainingProblem) -> None:
        value = dual_lower_bound(Z, problem.Y, dual_scale(problem.beta, norm.value))
        self.rigorous = self.rigorous and norm.rigorous
        self.lower = max(self.lower, value)

    def offer_net(self, net: TwoLayerReLU, problem: TrainingProblem) -> None:
        value = net.objective(problem)
        if value < self.upper:
            self.upper, self.net = value, net

    def relative_gap(self) -> float:
        gap = (self.upper - self.lower) / max(1.0, abs(self.upper))
        return gap if math.isfinite(gap) else math.inf

    def gap_within(self, eps: float) -> bool:
        return self.upper - self.lower <= eps * max(1.0, abs(self.upper))


def rel_working_set(
    problem: TrainingProblem,
    *,
    eps: float = 1e-6,
    max_rounds: int = 30,
    admm_tol: float = 1e-7,
    max_iter: int = 20_000,
    max_add: int = 64,
    sigma_budget: float = 60.0,
    time_limit: float = math.inf,
    initial: Arrangements | None = None,
    state: RelAdmmState | None = None,
) -> WorkingSetResult:
    r"""Bracket :math:`p^\star` by REL on a working set priced against all patterns (module doc).

    Parameters
    ----------
    problem:
        Training problem without output bias.
    eps:
        Stop when :math:`F - L \le \varepsilon\max(1, |F|)`.
    max_rounds, time_limit:
        Outer rounds and seconds (checked between rounds).
    admm_tol, max_iter:
        Tolerance (reached as the bracket closes: each solve runs to
        ``max(admm_tol, min(1e-4, 1e-2 (F - L)/max(1, |F|)))``, 100 times tighter after a round
        in which no pattern entered) and iterations of each REL solve.
    max_add:
        At most this many patterns enter per round.
    sigma_budget:
        Seconds of each branch and bound of :func:`dual_norm` (above enumeration).
    initial, state:
        Starting working set and iterates (from a previous result); default: the patterns
        priced in at :math:`Z = Y` (the zero net).
    """
    require_no_output_bias(problem, "the REL working set")
    start = time.perf_counter()
    bracket = _Bracket()
    masks = _initial_masks(problem, initial, sigma_budget, max_add)
    rounds: list[WorkingSetRound] = []
    complete = False
    run: RelAdmmRun | None = None
    tighten = 1.0
    for _ in range(max_rounds):
        patterns = _arrangements(masks, problem)
        tol = max(admm_tol, tighten * min(ADMM_TOL_START, GAP_TO_TOL * bracket.relative_gap()))
        run = solve_rel_admm(problem, patterns, state=state, tol=tol, max_iter=max_iter)
        state = run.state
        norm = dual_norm(run.result.Z, problem, time_budget=sigma_budget)
        bracket.offer_lower(run.result.Z, norm, problem)
        net, net_norm = _offer_read_off(bracket, run, problem, sigma_budget)
        entering = _priced(norm, problem, masks, max_add)
        if not bracket.gap_within(eps):  # the read-off net's witness and its own patterns
            seen = np.vstack([masks, *entering]) if entering else masks
            entering += _priced(net_norm, problem, seen, max(0, max_add - len(entering)))
            if norm.pattern_bounds is None:  # a search prices one pattern: add the net's too
                entering += _new_patterns(net, problem, masks, entering)
        complete = not entering and norm.rigorous and norm.value <= problem.beta
        rounds.append(_round(run, norm, bracket, len(entering), start))
        if bracket.gap_within(eps) or complete or time.perf_counter() - start > time_limit:
            break
        if not entering:  # nothing left to price at this accuracy: solve REL more accurately
            if tol <= admm_tol:
                break
            tighten *= 1e-2
            continue
        masks = np.vstack([masks, np.array(entering)])
    assert run is not None and bracket.net is not None
    return _result(problem, bracket, run, complete, eps, rounds, start)


def rel_beta_path(
    problem: TrainingProblem, betas: list[float], **options: object
) -> list[WorkingSetResult]:
    """:func:`rel_working_set` for every ``beta`` in turn, each warm-started from the previous
    working set and iterates (options as for :func:`rel_working_set`)."""
    results: list[WorkingSetResult] = []
    for beta in betas:
        previous = results[-1] if results else None
        results.append(
            rel_working_set(
                problem.with_beta(beta),
                initial=None if previous is None else previous.patterns,
                state=None if previous is None else previous.state,
                **options,  # type: ignore[arg-type]
            )
        )
    return results


def _initial_masks(
    problem: TrainingProblem, initial: Arrangements | None, sigma_budget: float, max_add: int
) -> NDArray[np.bool_]:
    """The given patterns, or those priced in at :math:`Z = Y` (at least the maximiser's)."""
    if initial is not None:
        return np.array(initial.patterns, dtype=bool)
    norm = dual_norm(problem.Y, problem, time_budget=sigma_budget)
    entering = _priced(norm, problem, np.zeros((0, problem.n), dtype=bool), max_add, rtol=-1.0)
    if not entering:
        entering = [np.ones(problem.n, dtype=bool)]
    return np.array(entering)


def _priced(
    norm: DualNormResult,
    problem: TrainingProblem,
    masks: NDArray[np.bool_],
    max_add: int,
    rtol: float = PRICE_RTOL,
) -> list[NDArray[np.bool_]]:
    r"""Patterns not in ``masks`` with :math:`\sigma_i > \beta(1 + \text{rtol})`, largest first:
    every evaluated one of an enumeration, and the maximiser's :math:`\mathbb 1[Xu^\star > 0]`."""
    threshold = problem.beta * (1.0 + rtol)
    candidates: list[tuple[float, NDArray[np.bool_]]] = []
    if norm.maximizer is not None and norm.lower > threshold:
        candidates.append((norm.lower, np.asarray(problem.X @ norm.maximizer > 0.0)))
    if norm.pattern_bounds is not None and norm.evaluated is not None and norm.num_patterns:
        every = problem.arrangements().patterns
        for i in np.flatnonzero(norm.evaluated & (norm.pattern_bounds > threshold)):
            candidates.append((float(norm.pattern_bounds[i]), every[i]))
    seen = {mask.tobytes() for mask in masks}
    entering: list[NDArray[np.bool_]] = []
    for _, mask in sorted(candidates, key=lambda item: -item[0]):
        if mask.tobytes() not in seen and mask.any():
            seen.add(mask.tobytes())
            entering.append(mask)
    return entering[:max_add]


def _arrangements(masks: NDArray[np.bool_], problem: TrainingProblem) -> Arrangements:
    return Arrangements(patterns=masks, complete=False, method="sampled", rank=problem.rank)


def _offer_read_off(
    bracket: _Bracket, run: RelAdmmRun, problem: TrainingProblem, sigma_budget: float
) -> tuple[TwoLayerReLU, DualNormResult]:
    """The net read off the blocks, polished; its residual also offers a lower bound.  Returns
    the polished net and the dual norm of its residual."""
    net = network_from_blocks(run.blocks, run.result.arrangements, problem)
    polished = polished_network(net, problem).net if net.m else net
    bracket.offer_net(polished, problem)
    Z = polished.residual(problem)
    norm = dual_norm(Z, problem, time_budget=sigma_budget)
    bracket.offer_lower(Z, norm, problem)
    return polished, norm


def _new_patterns(
    net: TwoLayerReLU,
    problem: TrainingProblem,
    masks: NDArray[np.bool_],
    entering: list[NDArray[np.bool_]],
) -> list[NDArray[np.bool_]]:
    r"""The patterns :math:`\mathbb 1[Xu_j > 0]` of the net's neurons not yet in the set."""
    seen = {mask.tobytes() for mask in [*masks, *entering]}
    fresh: list[NDArray[np.bool_]] = []
    for mask in np.asarray(problem.X @ net.U > 0.0).T:
        if mask.any() and mask.tobytes() not in seen:
            seen.add(mask.tobytes())
            fresh.append(mask)
    return fresh


def _round(
    run: RelAdmmRun, norm: DualNormResult, bracket: _Bracket, added: int, start: float
) -> WorkingSetRound:
    return WorkingSetRound(
        patterns=len(run.result.arrangements),
        rel_value=run.result.value,
        sigma=norm.value,
        lower=bracket.lower,
        upper=bracket.upper,
        added=added,
        time=time.perf_counter() - start,
    )


def _result(
    problem: TrainingProblem,
    bracket: _Bracket,
    run: RelAdmmRun,
    complete: bool,
    eps: float,
    rounds: list[WorkingSetRound],
    start: float,
) -> WorkingSetResult:
    assert bracket.net is not None
    elapsed = time.perf_counter() - start
    patterns = run.result.arrangements
    note = f"{len(rounds)} rounds, {len(patterns)} patterns in the working set; " + (
        "pricing found no pattern with sigma_i > beta" if complete else "pricing not closed"
    )
    lower = Bound(
        value=bracket.lower,
        claimed_kind="lower",
        method=LOWER_METHOD,
        view="certificate",
        checked="rigorous" if bracket.rigorous else "unverified",
        time=elapsed,
        note="L(Z) = t<Z,Y> - t^2|Z|^2/2, t = min(1, beta/sigma), sigma proven; " + note,
    )
    upper = Bound.of_network(
        bracket.upper, method=UPPER_METHOD, time=elapsed, note="net read off the REL blocks"
    )
    rel = Bound(
        value=run.result.value,
        claimed_kind="lower" if complete else "neither",
        cone="DNN",
        level=0,
        view="cp",
        solve=run.result.solve,
        time=elapsed,
        method="REL (copos-rel, working set)",
        note=note,
    )
    return WorkingSetResult(
        beta=problem.beta,
        lower=lower,
        upper=upper,
        rel=rel,
        net=bracket.net,
        patterns=patterns,
        complete=complete,
        proven=bracket.rigorous and bracket.gap_within(eps),
        rounds=tuple(rounds),
        state=run.state,
        time=elapsed,
    )
