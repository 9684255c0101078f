r"""Re-check a certificate from the net and the data, trusting nothing it stores.

:func:`verify` recomputes :math:`F(U, V)`, :math:`\sigma(Z)` (or its rigorous upper bound), the
scaled dual bound :math:`L` and the verdict :math:`F - L \le \varepsilon\max(1, |F|)`, and
reports every check that failed.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from copos._validation import as_finite_array, check_positive
from copos.bound import Bound
from copos.certificates.certificate import (
    NOT_CERTIFIED,
    OPTIMAL,
    Certificate,
    DataFingerprint,
    Verdict,
    json_number,
)
from copos.certificates.certify import (
    MAX_EPS,
    check_eps,
    combined_lower_bound,
    decide,
    dual_lower_bound,
    dual_residual,
    dual_scale,
    residual_dual_norm,
    sigma_search_options,
    witness_margin,
)
from copos.certificates.conv import conv_dual_norm
from copos.certificates.dual_norm import DEFAULT_MAX_EXACT_WORK, DEFAULT_MAX_PATTERNS
from copos.certificates.sigma_search import DEFAULT_TIME_BUDGET
from copos.errors import CoposError, DataFileError, InvalidInputError
from copos.nets.architectures.conv import ConvReLU
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.problem import TrainingProblem
from copos.solvers import DEFAULT_SOLVER
from copos.solvers.admm.dnn import certified_lower_bound

#: Relative tolerance of :func:`verify` for numbers recomputed by pure arithmetic.
CHECK_RTOL = 1e-8


#: Relative tolerance of :func:`verify` for numbers that come out of a conic solver.
SOLVER_RTOL = 1e-6


@dataclass(frozen=True)
class Check:
    """One recomputed quantity of :func:`verify`."""

    name: str
    stored: Any
    recomputed: Any
    tolerance: float
    ok: bool
    against: str = "recomputed"

    def describe(self) -> str:
        """One line: what was compared and whether it agreed."""
        status = "ok" if self.ok else "MISMATCH"
        return f"{self.name}: stored {self.stored!r}, {self.against} {self.recomputed!r} ({status})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: numbers (``null`` if not finite), booleans and strings; others as text."""
        return {
            "name": self.name,
            "stored": _json_value(self.stored),
            "recomputed": _json_value(self.recomputed),
            "tolerance": json_number(self.tolerance),
            "ok": bool(self.ok),
        }


def _json_value(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, (int, float, np.floating, np.integer)):
        return json_number(float(value))
    return str(value)


@dataclass(frozen=True)
class Recomputed:
    r"""The numbers :func:`verify` recomputes from the data and the stored weights alone.

    ``lower_bound`` :math:`= \max` of the proven bounds, :math:`L = t\langle Z, Y\rangle -
    \tfrac12t^2\|Z\|_F^2` with :math:`t = \min(1, \beta/\sigma)` for the **recomputed**
    :math:`\sigma` and the lifted bound recomputed from its dual point.  NaN where nothing
    could be recomputed (the data do not match, or the weights do not fit them).
    """

    objective: float = math.nan
    lower_bound: float = math.nan
    sigma: float = math.nan
    rigorous: bool = False
    lifted: float | None = None
    failure: str | None = None

    @property
    def proven(self) -> bool:
        """Whether ``lower_bound`` is a proven bound (rigorous sigma, or a lifted bound)."""
        return self.rigorous or self.lifted is not None


@dataclass(frozen=True, eq=False)
class VerificationResult:
    r"""Outcome of :func:`verify`.

    The verdict is **recomputed** (:func:`decide` on the recomputed :math:`F`, :math:`L`,
    :math:`\sigma` with the certificate's ``eps``); the stored verdict only has to agree with it.

    Attributes
    ----------
    passed:
        Every check agreed: the certificate holds (whatever its verdict).
    reasons:
        One line per failed check (empty when ``passed``).
    checks:
        All checks performed, in order.
    certificate:
        The certificate that was verified.
    verdict, reason:
        The recomputed verdict and why.
    eps, beta:
        The certificate's tolerance and weight decay (each checked against the pinned value,
        if any).
    objective, lower_bound, sigma, rigorous:
        Recomputed :math:`F`, :math:`L`, :math:`\sigma` and whether :math:`L` is proven (NaN /
        False when nothing could be recomputed).
    """

    passed: bool
    reasons: list[str]
    checks: list[Check]
    certificate: Certificate
    verdict: Verdict = NOT_CERTIFIED
    reason: str = ""
    eps: float = math.nan
    beta: float = math.nan
    objective: float = math.nan
    lower_bound: float = math.nan
    sigma: float = math.nan
    rigorous: bool = False

    def __bool__(self) -> bool:
        return self.passed

    @property
    def bound(self) -> Bound:
        """The recomputed ``lower_bound`` as a :class:`~copos.bound.Bound` on p*: rigorous when
        proven after the recomputation, else unverified."""
        return Bound(
            value=self.lower_bound,
            claimed_kind="lower",
            view="certificate",
            checked=None if self.rigorous else "unverified",
            certificate={"sigma": self.sigma, "objective": self.objective},
            status_text=self.verdict,
            note=self.reason,
        )

    @property
    def optimal(self) -> bool:
        """The certificate holds **and** its recomputed verdict is "globally optimal within eps"."""
        return self.passed and self.verdict == OPTIMAL

    @property
    def gap(self) -> float:
        r""":math:`F - L` (recomputed)."""
        return self.objective - self.lower_bound

    @property
    def relative_gap(self) -> float:
        r""":math:`(F - L)/\max(1, |F|)` (recomputed)."""
        return self.gap / max(1.0, abs(self.objective))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (non-finite numbers as ``null``)."""
        numbers = {
            "eps": self.eps,
            "beta": self.beta,
            "objective": self.objective,
            "lower_bound": self.lower_bound,
            "gap": self.gap,
            "relative_gap": self.relative_gap,
            "sigma": self.sigma,
        }
        return {
            "passed": bool(self.passed),
            "optimal": bool(self.optimal),
            "verdict": self.verdict,
            "reason": self.reason,
            **{key: json_number(value) for key, value in numbers.items()},
            "rigorous": bool(self.rigorous),
            "method": self.certificate.method,
            "reasons": list(self.reasons),
            "checks": [check.to_dict() for check in self.checks],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON (never a non-finite number)."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def summary(self) -> str:
        """A short human-readable report: outcome, verdict, eps, beta, F, L, gap, failed checks."""
        if self.passed:
            head = f"certificate verified (verdict: {self.verdict})"
        else:
            head = "certificate REJECTED (failed checks below)"
        lines = [
            head,
            f"  verdict   {self.verdict} (recomputed): {self.reason}",
            f"  eps       {self.eps:.3g}",
            f"  beta      {self.beta:.10g}",
            f"  F         {self.objective:.10g}  (objective, upper bound on p*)",
            f"  L         {self.lower_bound:.10g}  (proven lower bound: {self.rigorous or False})",
            f"  gap F - L {self.gap:.3g}  (relative {self.relative_gap:.3g})",
            f"  sigma     {self.sigma:.6g} by {self.certificate.method}",
        ]
        lines += [f"  - {reason}" for reason in self.reasons]
        return "\n".join(lines)


def _agree(a: float, b: float, rtol: float) -> bool:
    r""":math:`|a - b| \le \mathrm{rtol}\max(1, |a|, |b|)` for finite numbers; two non-finite
    numbers agree (``null`` in a file is a NaN, an inf or a NaN recomputed), one alone does not."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return not (math.isfinite(a) or math.isfinite(b))
    return abs(a - b) <= rtol * max(1.0, abs(a), abs(b))


def _verification_problem(cert: Certificate, X: ArrayLike, Y: ArrayLike) -> TrainingProblem:
    """The problem of the certificate: ``from_data(X, Y, beta, bias)``; with ``bias`` an ``X``
    that already has the certificate's ``d`` columns, the last one all ones, is taken as
    including the ones column."""
    if X is None or Y is None:
        raise InvalidInputError("verify needs the data X and Y; got None")
    X_arr = as_finite_array(X, "X", ndim=2)
    if cert.bias and X_arr.shape[1] == cert.data.X_shape[1] and np.all(X_arr[:, -1:] == 1.0):
        Y_arr = as_finite_array(Y, "Y")
        Y_arr = Y_arr[:, None] if Y_arr.ndim == 1 else Y_arr
        return TrainingProblem(X_arr, Y_arr, cert.beta, True, output_bias=cert.output_bias)
    return TrainingProblem.from_data(
        X_arr, Y, cert.beta, bias=cert.bias, output_bias=cert.output_bias
    )


def _as_certificate(certificate: Any) -> Certificate:
    """A :class:`Certificate`, or the one saved at a path; anything else is bad input."""
    if isinstance(certificate, Certificate):
        return certificate
    if isinstance(certificate, (str, os.PathLike)):
        return Certificate.load(certificate)
    raise InvalidInputError(
        f"certificate must be a Certificate or the path of a saved one; got "
        f"{type(certificate).__name__}"
    )


def verify(
    certificate: Certificate | str | os.PathLike[str],
    X: ArrayLike,
    Y: ArrayLike,
    *,
    eps: float | None = None,
    beta: float | None = None,
    rtol: float = CHECK_RTOL,
    solver_rtol: float = SOLVER_RTOL,
    sigma_budget: float | None = None,
) -> VerificationResult:
    r"""Re-check a certificate from the data alone and recompute its verdict.

    Steps: (1) the fingerprint of the data matches; the stored ``eps`` is in
    :math:`(0,` :data:`MAX_EPS` :math:`]` and at most the pinned ``eps``, the stored
    :math:`\beta` equals the pinned ``beta``; (2) :math:`F` recomputed from the stored weights
    and :math:`\beta`; (3) :math:`Z = Y - f(X)` and :math:`\sigma` recomputed independently by
    :func:`dual_norm` with the stored method and options, and the lifted bound (if any) from its
    stored dual point; (4) ``scale``, :math:`L`, gap and relative gap recomputed from the stored
    :math:`\sigma` (pure arithmetic) **and** :math:`L` from the recomputed :math:`\sigma`;
    (5) the verdict is recomputed by :func:`decide` from the recomputed :math:`F`, :math:`L`,
    :math:`\sigma` and the stored ``eps``, and the stored verdict must equal it.  Arithmetic
    quantities must agree within ``rtol`` (:math:`|a-b| \le \mathrm{rtol}\max(1,|a|,|b|)`);
    :math:`\sigma` and the :math:`L` derived from the recomputed :math:`\sigma` within ``rtol``
    for ``exact``/``global`` and within ``solver_rtol`` for ``relaxation`` (a conic solver is
    involved).  A ``branch-and-bound`` :math:`\sigma` is an anytime upper end that depends on
    the time budget and the machine, so it is not recomputed to equality: the search is re-run
    to **prove** :math:`\sigma(Z) \le \max(\sigma_{\rm stored}, \beta)` (which is all the
    stored :math:`L` needs), and the stored witness :math:`\sigma_{\rm lower}` must not exceed
    the recomputed upper end.  A CNN certificate (``architecture`` set) recomputes
    :math:`\sigma` over the patterns of its patch matrix
    (:func:`copos.certificates.conv.conv_dual_norm`).  Nothing stored is trusted: :attr:`VerificationResult.optimal` holds only when
    every check agreed and the recomputed numbers prove the verdict.

    Parameters
    ----------
    certificate:
        A :class:`Certificate` or the path of a saved one.
    X, Y:
        The data as passed to :meth:`TrainingProblem.from_data` (without the ones column; it is
        appended when the certificate says ``bias``; an ``X`` that already has the
        certificate's number of columns, the last one all ones, is used as is).
    eps:
        The tolerance the user requires (``None``: the certificate's own, which is reported); a
        certificate with a larger ``eps`` fails.
    beta:
        The weight decay the user requires (``None``: the certificate's own, which is
        reported); a certificate for another ``beta`` (beyond ``rtol``) fails.
    rtol, solver_rtol:
        Tolerances (defaults :data:`CHECK_RTOL`, :data:`SOLVER_RTOL`).
    sigma_budget:
        Seconds for re-running a ``branch-and-bound`` search (``None``: the certificate's own
        budget, at least :data:`~copos.certificates.sigma_search.DEFAULT_TIME_BUDGET`); a
        slower machine may need more.

    Returns
    -------
    VerificationResult
        ``passed`` False, with reasons, for a tampered or inconsistent certificate.

    Raises
    ------
    DataFileError
        The certificate file is missing, unreadable or malformed.
    InvalidInputError
        ``certificate`` is neither a certificate nor a path; ``X``/``Y`` are missing, have bad
        shapes or NaN/inf; a pinned ``eps`` outside :math:`(0,` :data:`MAX_EPS` :math:`]` or a
        pinned ``beta`` that is not positive.
    """
    cert = _as_certificate(certificate)
    rtol = check_positive(rtol, "rtol")
    solver_rtol = check_positive(solver_rtol, "solver_rtol")
    budget = None if sigma_budget is None else check_positive(sigma_budget, "sigma_budget")
    pinned_eps = None if eps is None else check_eps(eps)
    pinned_beta = None if beta is None else check_positive(beta, "beta")
    problem = _verification_problem(cert, X, Y)
    fingerprint = DataFingerprint.of(problem.X, problem.Y)
    checks = [Check("data fingerprint", cert.data, fingerprint, 0.0, fingerprint == cert.data)]
    checks += _requirement_checks(cert, pinned_eps, pinned_beta, rtol)
    if fingerprint == cert.data:
        numbers, recomputed_checks = _recompute(cert, problem, rtol, solver_rtol, budget)
    else:
        numbers = Recomputed(failure="the data do not match the certificate's fingerprint")
        recomputed_checks = []
    verdict, reason = _recomputed_verdict(cert, numbers)
    checks += recomputed_checks
    checks.append(Check("verdict", cert.verdict, verdict, 0.0, cert.verdict == verdict))
    reasons = [check.describe() for check in checks if not check.ok]
    return VerificationResult(
        passed=not reasons,
        reasons=reasons,
        checks=checks,
        certificate=cert,
        verdict=verdict,
        reason=reason,
        eps=cert.eps,
        beta=cert.beta,
        objective=numbers.objective,
        lower_bound=numbers.lower_bound,
        sigma=numbers.sigma,
        rigorous=numbers.proven,
    )


def _requirement_checks(
    cert: Certificate, eps: float | None, beta: float | None, rtol: float
) -> list[Check]:
    """The stored ``eps`` is in ``(0, MAX_EPS]`` and at most the pinned one; ``beta`` as pinned."""
    valid = math.isfinite(cert.eps) and 0.0 < cert.eps <= MAX_EPS
    checks = [Check("eps", cert.eps, f"(0, {MAX_EPS:g}]", 0.0, valid, "required in")]
    if eps is not None:
        checks.append(Check("eps", cert.eps, eps, 0.0, cert.eps <= eps, "required at most"))
    if beta is not None:
        checks.append(
            Check("beta", cert.beta, beta, rtol, _agree(cert.beta, beta, rtol), "required")
        )
    return checks


def _recomputed_verdict(cert: Certificate, numbers: Recomputed) -> tuple[Verdict, str]:
    """:func:`decide` on the recomputed numbers with the stored ``eps`` (never the stored verdict)."""
    if numbers.failure is not None:
        return NOT_CERTIFIED, numbers.failure
    if not (math.isfinite(cert.eps) and 0.0 < cert.eps <= MAX_EPS):
        return NOT_CERTIFIED, f"the certificate's eps = {cert.eps!r} is outside (0, {MAX_EPS:g}]"
    return decide(
        numbers.objective,
        numbers.lower_bound,
        numbers.proven,
        cert.eps,
        sigma=numbers.sigma,
        lifted=numbers.lifted,
    )


def _recompute(
    cert: Certificate,
    problem: TrainingProblem,
    rtol: float,
    solver_rtol: float,
    sigma_budget: float | None = None,
) -> tuple[Recomputed, list[Check]]:
    """Checks (2)–(4) of :func:`verify` (the data already match) and the recomputed numbers."""
    try:
        net = cert.network()
        Z = dual_residual(net, problem)
    except CoposError as exc:
        return Recomputed(failure=f"weights: {exc}"), [
            Check("network", "weights", str(exc), 0.0, False)
        ]
    objective = net.objective(problem)
    options = _dual_norm_options(cert.options)
    searched = cert.method == "branch-and-bound"
    try:
        if isinstance(net, ConvReLU):
            norm = conv_dual_norm(Z, net, problem, max_patterns=options["max_patterns"])
        else:
            search = _search_options(cert, net, problem, sigma_budget)
            norm = residual_dual_norm(Z, problem, method=cert.method, **options, **search)
    except CoposError as exc:
        failure = f"recomputation of sigma failed: {exc}"
        return Recomputed(objective=objective, failure=failure), [
            Check("sigma", cert.sigma, failure, 0.0, False)
        ]
    sigma_tol = solver_rtol if cert.method == "relaxation" else rtol
    lifted_checks, lifted = _recompute_lifted(cert, problem, rtol)
    scale = dual_scale(problem.beta, cert.sigma)
    lower = combined_lower_bound(dual_lower_bound(Z, problem.Y, scale), norm.rigorous, lifted)
    lower_recomputed = combined_lower_bound(
        dual_lower_bound(Z, problem.Y, dual_scale(problem.beta, norm.value)), norm.rigorous, lifted
    )
    gap = objective - lower

    def number(name: str, stored: float, value: float, tol: float) -> Check:
        return Check(name, stored, value, tol, _agree(stored, value, tol))

    if searched:
        sigma_checks, proven = _searched_sigma_checks(cert, problem, norm.value, norm.lower, rtol)
    else:
        sigma_checks = [
            number("sigma", cert.sigma, norm.value, sigma_tol),
            number("sigma_lower", cert.sigma_lower, norm.lower, sigma_tol),
            number(
                "lower bound L (recomputed sigma)", cert.lower_bound, lower_recomputed, sigma_tol
            ),
        ]
        proven = False
    checks = [
        number("objective F", cert.objective, objective, rtol),
        *sigma_checks,
        Check("rigorous", cert.rigorous, norm.rigorous, 0.0, cert.rigorous == norm.rigorous),
        number("scale t", cert.scale, scale, rtol),
        number("lower bound L", cert.lower_bound, lower, rtol),
        number("gap F - L", cert.gap, gap, rtol),
        number("relative gap", cert.relative_gap, gap / max(1.0, abs(objective)), rtol),
        *lifted_checks,
        *_original_checks(cert, problem, objective, rtol),
        _margin_check(cert, witness_margin(net, problem, Z), rtol),
    ]
    numbers = Recomputed(  # a proven stored sigma stands: its L is then proven too
        objective=objective,
        lower_bound=lower if proven else lower_recomputed,
        sigma=cert.sigma if proven else norm.value,
        rigorous=bool(norm.rigorous),
        lifted=None if lifted is None else lifted.value,
    )
    return numbers, checks


def _margin_check(cert: Certificate, margin: float, rtol: float) -> Check:
    """The stored rounding margin of ``sigma_lower`` must not understate the recomputed one (a
    smaller margin would let :attr:`Certificate.witness` claim a rounding error as a witness)."""
    ok = cert.witness_margin >= margin * (1.0 - rtol)
    return Check("witness margin", cert.witness_margin, margin, rtol, ok, "recomputed (at least)")


def _search_options(
    cert: Certificate, net: TwoLayerReLU, problem: TrainingProblem, budget: float | None
) -> dict[str, Any]:
    r"""The branch-and-bound options of the recomputation: the certificate's own (its budget,
    at least :data:`DEFAULT_TIME_BUDGET`, unless ``budget`` is given), and for a
    ``branch-and-bound`` certificate the threshold :math:`\max(\sigma_{\rm stored}, \beta)`:
    the search stops once it has proven that much."""
    if budget is None:
        stored = cert.options.get("sigma_budget", DEFAULT_TIME_BUDGET)
        valid = isinstance(stored, (int, float)) and not isinstance(stored, bool)
        budget = max(float(stored), DEFAULT_TIME_BUDGET) if valid else DEFAULT_TIME_BUDGET
        if not math.isfinite(budget):
            budget = DEFAULT_TIME_BUDGET
    search = sigma_search_options(net, problem, budget)
    if cert.method == "branch-and-bound" and math.isfinite(cert.sigma) and cert.sigma >= 0:
        search["threshold"] = max(cert.sigma, problem.beta)
    return search


def _searched_sigma_checks(
    cert: Certificate, problem: TrainingProblem, upper: float, lower: float, rtol: float
) -> tuple[list[Check], bool]:
    r"""Checks of a ``branch-and-bound`` :math:`\sigma`: the re-run search proves
    :math:`\sigma(Z) \le \max(\sigma_{\rm stored}, \beta)` (the stored scale
    :math:`t = \min(1, \beta/\sigma_{\rm stored})` is then dual feasible), and the stored
    witness value is at most the recomputed upper end.  Returns the checks and whether the
    stored :math:`\sigma` is proven."""
    claim = max(cert.sigma, problem.beta)
    proven = math.isfinite(upper) and math.isfinite(claim) and upper <= claim * (1.0 + rtol)
    witness_ok = math.isfinite(cert.sigma_lower) and cert.sigma_lower <= upper * (1.0 + rtol)
    if not math.isfinite(upper):
        witness_ok = False
    return [
        Check("sigma", claim, upper, rtol, proven, "proven upper end (must be at most)"),
        Check("sigma_lower", cert.sigma_lower, upper, rtol, witness_ok, "proven upper end"),
        Check("sigma witness (recomputed)", lower, upper, 0.0, lower <= upper, "upper end"),
    ], proven


def _original_checks(
    cert: Certificate, problem: TrainingProblem, objective: float, rtol: float
) -> list[Check]:
    """A polished certificate: the net handed in has the stored objective, at least ``F``."""
    if cert.original_objective is None:
        return []
    if cert.original_U is None or cert.original_V is None:
        return [Check("original objective", cert.original_objective, "no weights", 0.0, False)]
    try:
        original = TwoLayerReLU(cert.original_U, cert.original_V).objective(problem)
    except CoposError as exc:
        return [Check("original objective", cert.original_objective, str(exc), 0.0, False)]
    agree = _agree(cert.original_objective, original, rtol)
    not_below = objective <= original * (1 + rtol) or not math.isfinite(original)
    return [
        Check("original objective", cert.original_objective, original, rtol, agree),
        Check("polished F <= original F", objective, original, rtol, not_below, "original"),
    ]


def _recompute_lifted(
    cert: Certificate, problem: TrainingProblem, rtol: float
) -> tuple[list[Check], Bound | None]:
    """The lifted bound recomputed in numpy from the stored dual point ``(Z, N)``."""
    if cert.lifted is None:
        return [], None
    if problem.output_bias:  # the lifted relaxation bounds the bias-free problem only
        failure = "no lifted bound with an output bias"
        return [Check("lifted lower bound", cert.lifted.value, failure, 0.0, False)], None

    try:
        value = certified_lower_bound(
            problem, cert.lifted.certificate["Z"], cert.lifted.certificate["N"]
        ).value
    except (CoposError, ValueError, ArithmeticError) as exc:  # LinAlgError is a ValueError
        # a tampered file (beta = 5e-324, a huge dual point) can break the numerics: no bound
        return [Check("lifted lower bound", cert.lifted.value, str(exc), 0.0, False)], None
    ok = _agree(cert.lifted.value, value, rtol)
    check = Check("lifted lower bound", cert.lifted.value, value, rtol, ok)
    return [check], replace(cert.lifted, value=value)


def _dual_norm_options(options: dict[str, Any]) -> dict[str, Any]:
    """The stored :func:`dual_norm` options, defaulted and type-checked."""
    result: dict[str, Any] = {
        "max_patterns": options.get("max_patterns", DEFAULT_MAX_PATTERNS),
        "max_exact_work": options.get("max_exact_work", DEFAULT_MAX_EXACT_WORK),
        "solver": options.get("solver", DEFAULT_SOLVER),
    }
    if not isinstance(result["solver"], str):
        raise DataFileError(
            f"certificate option 'solver' must be a string; got {result['solver']!r}"
        )
    return result
