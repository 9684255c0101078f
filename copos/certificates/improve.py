r"""Improve a net until it is certified: polish, certify, insert a neuron along the witness.

When the certified net's residual :math:`Z = Y - f(X)` has a unit direction :math:`u` with

.. math:: \sigma_{\rm lower} = \|Z^\top(Xu)_+\|_2 > \beta ,

the net is **not** optimal: the neuron :math:`(\sqrt\rho\,u, \sqrt\rho\,Z^\top a/\|Z^\top a\|)`,
:math:`a = (Xu)_+`, :math:`\rho = (\sigma_{\rm lower} - \beta)/\|a\|^2`, lowers the weight-decay
objective by :math:`(\sigma_{\rm lower} - \beta)^2/(2\|a\|^2) > 0`
(:func:`copos.nets.polish.insert_neuron`, decrease computed on the true objective).
:func:`improve` loops polish :math:`\to` certify :math:`\to` insert until the net is certified,
no witness is left, or the budget (iterations, seconds) is spent.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from copos._validation import check_dimension
from copos.certificates.certificate import WITNESS_RTOL, Certificate
from copos.certificates.certify import certify_with_dual_norm
from copos.certificates.dual_norm import DualNormResult
from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.arrangements import Arrangements
from copos.nets.polish import Insertion, PolishResult, insert_neuron, polish
from copos.nets.problem import TrainingProblem
from copos.relaxations.convex import solve_convex_program
from copos.solvers import DEFAULT_SOLVER

#: Default number of polish -> certify -> insert rounds of :func:`improve`.
DEFAULT_ITERATIONS = 10


@dataclass(frozen=True)
class ImproveStep:
    r"""One round of :func:`improve`: the polished net's certificate and the insertion after it.

    Attributes
    ----------
    iteration:
        Round number, from 1.
    width, objective, lower_bound, relative_gap:
        The polished net's width, :math:`F`, certified :math:`L` and :math:`(F - L)/\max(1,|F|)`.
    sigma_lower, sigma:
        The interval :math:`[\sigma_{\rm lower}, \sigma] \ni \sigma(Z)`.
    verdict:
        The certificate's verdict.
    witness:
        Whether :math:`\sigma_{\rm lower} > \beta` with a witness direction (a proof that the
        net is not optimal).
    decrease:
        Decrease of the true objective by the inserted neuron (0 when nothing was inserted).
    time:
        Seconds since :func:`improve` started, at the end of the round.
    """

    iteration: int
    width: int
    objective: float
    lower_bound: float
    relative_gap: float
    sigma_lower: float
    sigma: float
    verdict: str
    witness: bool
    decrease: float
    time: float


@dataclass(frozen=True, eq=False)
class ImproveResult:
    """Outcome of :func:`improve`.

    Attributes
    ----------
    net:
        The last certified net (polished; with every inserted neuron).
    certificate:
        Its certificate; ``original_objective`` is the objective of the net handed in.
    history:
        One :class:`ImproveStep` per round.
    original_objective:
        :math:`F` of the net handed in.
    reason:
        Why the loop stopped, in words.
    time:
        Wall-clock seconds.
    """

    net: TwoLayerReLU
    certificate: Certificate
    history: list[ImproveStep] = field(default_factory=list)
    original_objective: float = math.nan
    reason: str = ""
    time: float = 0.0

    @property
    def optimal(self) -> bool:
        """Whether the final net is certified globally optimal within eps."""
        return self.certificate.optimal

    @property
    def decrease(self) -> float:
        """:math:`F_{\\rm original} - F_{\\rm final}`."""
        return self.original_objective - self.certificate.objective

    def summary(self) -> str:
        """One line per round, then why the loop stopped."""
        lines = [
            f"round {step.iteration}: width {step.width}, F {step.objective:.12g}, L "
            f"{step.lower_bound:.12g} (relative gap {step.relative_gap:.3g}), sigma in "
            f"[{step.sigma_lower:.6g}, {step.sigma:.6g}], {step.verdict}"
            + (
                f"; witness: inserted a neuron, F decreased by {step.decrease:.3e}"
                if step.witness
                else ""
            )
            for step in self.history
        ]
        lines.append(f"stopped: {self.reason} ({self.time:.1f}s)")
        return "\n".join(lines)


def witness_direction(norm: DualNormResult, beta: float) -> np.ndarray | None:
    r"""The unit :math:`u` with :math:`\|Z^\top(Xu)_+\| = \sigma_{\rm lower} > \beta(1 +`
    :data:`~copos.certificates.certificate.WITNESS_RTOL` :math:`)`, or ``None`` when there is none (no maximiser, or
    :math:`\sigma_{\rm lower}` within rounding of :math:`\beta` or below)."""
    if norm.maximizer is None or not math.isfinite(norm.lower):
        return None
    if not norm.lower > beta * (1.0 + WITNESS_RTOL):
        return None
    return np.asarray(norm.maximizer, dtype=np.float64)


def improve(
    net: TwoLayerReLU,
    problem: TrainingProblem,
    *,
    max_iterations: int = DEFAULT_ITERATIONS,
    seconds: float = math.inf,
    eps: float = 1e-6,
    **certify_options: Any,
) -> ImproveResult:
    r"""Polish :math:`\to` certify :math:`\to` insert a neuron along the witness, until certified.

    Each round certifies the polished net (``certify(..., polish=True)``); when it is not
    certified and :math:`\sigma_{\rm lower} > \beta`, the witness :math:`u` gives a neuron whose
    insertion lowers the true objective (:func:`~copos.nets.polish.insert_neuron`), and the next
    round starts from that net.  Stops when certified, when there is no witness (the gap then
    comes from the looseness of the bound, not from a proven sub-optimality), when an insertion
    does not lower the objective, or after ``max_iterations`` rounds or ``seconds`` (checked
    after each round; each round's polish gets the time that is left).

    Parameters
    ----------
    net, problem:
        The trained net and its problem.
    max_iterations:
        Largest number of rounds (each one certificate).
    seconds:
        Time budget; a round that starts is finished.
    eps, certify_options:
        Passed to :func:`~copos.certificates.certify.certify` (``method``, ``solver``, ...).
    """
    start = time.perf_counter()
    if not isinstance(net, TwoLayerReLU):
        raise InvalidInputError(f"net must be a TwoLayerReLU; got {type(net).__name__}")
    max_iterations = check_dimension(max_iterations, "max_iterations")
    if not (isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds > 0):
        raise InvalidInputError(
            f"seconds must be a positive number (inf: no limit); got {seconds!r}"
        )
    for key in ("polish", "polish_budget"):
        if key in certify_options:
            raise InvalidInputError(f"improve always polishes within its budget; do not pass {key}")
    original_objective = net.objective(problem)
    history: list[ImproveStep] = []
    current, reason = net, ""
    for iteration in range(1, max_iterations + 1):
        left = seconds - (time.perf_counter() - start)
        certificate, norm = certify_with_dual_norm(
            current,
            problem,
            eps=eps,
            polish=True,
            polish_budget=max(left, 1.0) if math.isfinite(left) else None,
            **certify_options,
        )
        direction = None if certificate.optimal else witness_direction(norm, problem.beta)
        insertion = (
            None if direction is None else insert_neuron(certificate.network(), problem, direction)
        )
        history.append(_step(iteration, certificate, insertion, start))
        reason = _stop_reason(certificate, direction, insertion)
        if not reason and iteration == max_iterations:
            reason = f"out of budget: {max_iterations} rounds"
        elif not reason and time.perf_counter() - start >= seconds:
            reason = f"out of budget: {seconds:g} seconds"
        if reason:
            break
        assert insertion is not None
        current = insertion.net
    final = replace(
        certificate,
        original_objective=original_objective,
        original_U=np.array(net.U),
        original_V=np.array(net.V),
    )
    return ImproveResult(
        net=certificate.network(),
        certificate=final,
        history=history,
        original_objective=original_objective,
        reason=reason,
        time=time.perf_counter() - start,
    )


def _step(
    iteration: int, certificate: Certificate, insertion: Insertion | None, start: float
) -> ImproveStep:
    return ImproveStep(
        iteration=iteration,
        width=certificate.U.shape[1],
        objective=certificate.objective,
        lower_bound=certificate.lower_bound,
        relative_gap=certificate.relative_gap,
        sigma_lower=certificate.sigma_lower,
        sigma=certificate.sigma,
        verdict=certificate.verdict,
        witness=insertion is not None and insertion.step > 0.0,
        decrease=0.0 if insertion is None or insertion.step == 0.0 else insertion.decrease,
        time=time.perf_counter() - start,
    )


def _stop_reason(
    certificate: Certificate, direction: np.ndarray | None, insertion: Insertion | None
) -> str:
    """Why the loop stops after this round ("" to go on)."""
    if certificate.optimal:
        return "certified globally optimal within eps"
    if direction is None:
        return (
            f"no witness: sigma_lower = {certificate.sigma_lower:.6g} <= beta = "
            f"{certificate.beta:.6g}, so the gap comes from the bound (sigma in "
            f"[{certificate.sigma_lower:.6g}, {certificate.sigma:.6g}]), not a proven sub-optimality"
        )
    if insertion is None or insertion.step == 0.0:
        return "the witness neuron did not lower the objective beyond rounding"
    return ""


def polish_by_convex_program(
    net: TwoLayerReLU, problem: TrainingProblem, *, solver: str = DEFAULT_SOLVER
) -> PolishResult:
    r"""The second route of polish (scalar output): the convex program restricted to the net's
    own activation patterns :math:`D_1, \dots, D_P` (the distinct columns of
    :math:`\mathbb 1[XU > 0]`),

    .. math::

        \min_{v_i, w_i}\ \tfrac12\Big\|\sum_i D_iX(v_i - w_i) - y\Big\|^2
            + \beta\sum_i\big(\|v_i\| + \|w_i\|\big)
        \quad\text{s.t.}\quad (2D_i - I)Xv_i \ge 0,\ (2D_i - I)Xw_i \ge 0,

    solved by :func:`copos.relaxations.convex.solve_convex_program` (``solver``), its recovered
    net then polished to machine precision (:func:`copos.nets.polish.polish`).  Returns the
    better (true objective) of that net and ``polish(net)``, as a polish of ``net``: never above
    ``net``'s objective.  The program is convex, so it does not stop at a face that the
    active-set Newton method of :func:`~copos.nets.polish.polish` might settle on.
    """
    if problem.c != 1:
        raise InvalidInputError(
            f"the restricted convex program needs scalar output (c = 1); got c = {problem.c}"
        )
    start = time.perf_counter()
    direct = polish(net, problem)
    columns = np.unique(problem.X @ net.U > 0.0, axis=1).T
    columns = columns[columns.any(axis=1)]
    if len(columns) == 0:
        return direct
    patterns = Arrangements(patterns=columns, complete=False, method="net", rank=problem.rank)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a recovery discrepancy is checked below, in numpy
        recovered = solve_convex_program(problem, patterns, solver=solver).network()
    convex = polish(recovered, problem)
    if not convex.objective < direct.objective:
        return direct
    return replace(
        convex,
        original=net,
        original_objective=direct.original_objective,
        accepted=True,
        reason=(
            f"restricted convex program over the net's {len(columns)} patterns, then polished: "
            f"the true objective decreased by {direct.original_objective - convex.objective:.3e}"
        ),
        time=time.perf_counter() - start,
    )
