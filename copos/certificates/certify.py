r"""Global-optimality certificates for trained two-layer ReLU networks.

Weak duality for the weight-decay training problem (Sahiner et al. 2021, §2 of the reference
notes) says that every :math:`Z \in \mathbb R^{n\times c}` with

.. math::

    \sigma(Z) := \max_{\|u\|_2\le 1}\big\|Z^\top (Xu)_+\big\|_2 \le \beta

gives the lower bound :math:`-\tfrac12\|Z - Y\|_F^2 + \tfrac12\|Y\|_F^2 \le p^\star`.  For a
trained network :math:`f` the residual :math:`Z = Y - f(X)` is the natural candidate (it is the
optimal dual variable at a global optimum); scaling it into the feasible set,

.. math::

    \tilde Z = t Z,\quad t = \min\big(1, \beta/\sigma\big),\qquad
    L = -\tfrac12\|\tilde Z - Y\|_F^2 + \tfrac12\|Y\|_F^2
      = t\langle Z, Y\rangle - \tfrac12 t^2\|Z\|_F^2 \;\le\; p^\star \;\le\; F,

where :math:`F` is the network's weight-decay objective and :math:`\sigma` is any **upper bound**
on :math:`\sigma(Z)` (a larger :math:`\sigma` only shrinks :math:`t`, and :math:`tZ` stays
feasible for every :math:`t \le \beta/\sigma(Z)`).  The gap :math:`F - L` bounds the network's
sub-optimality.

Computing :math:`\sigma(Z)`
---------------------------
With the activation patterns :math:`D_i` of :math:`X` (:mod:`copos.nets.arrangements`) and the
pattern cones :math:`\mathcal K_i = \{u : A_iu \ge 0\}`, :math:`A_i = (2D_i - I)X`, whose closures
cover :math:`\mathbb R^d` and on which :math:`(Xu)_+ = D_iXu`,

.. math::

    \sigma(Z) = \max_i \sigma_i,\qquad
    \sigma_i = \max_{u\in\mathcal K_i,\ \|u\|\le1}\|Z^\top D_iXu\|_2

(a cone-constrained PCA per pattern).  :func:`dual_norm` offers three rigorous upper bounds:

* ``"exact"`` — every pattern solved exactly by face enumeration
  (:func:`copos.nets.cone_pca.cone_pca`) in the row space of :math:`X`;
* ``"relaxation"`` — per pattern the doubly-nonnegative (Shor) bound
  :math:`\sigma_i^2 \le \min\{\mu : \mu I - G_i - A_i^\top NA_i \succeq 0,\ N \ge 0\}`,
  :math:`G_i = X^\top D_iZZ^\top D_iX`, repaired after the solve so that it holds whatever the
  solver's accuracy;
* ``"global"`` — :math:`\sigma(Z) \le \|Z\|_2\|X\|_2`, since :math:`\|(Xu)_+\| \le \|Xu\|`.

All computations happen in the row space of :math:`X` (rank :math:`r`); see :func:`dual_norm`.

An unregularized output bias
----------------------------
With :math:`f(X) = (XU)_+V + \mathbf 1b^\top` and :math:`b` free (``problem.output_bias``),
for every :math:`Z`, :math:`\tfrac12\|R\|_F^2 \ge \langle Z, R\rangle - \tfrac12\|Z\|_F^2`
with :math:`R = Y - f(X)`, and the term :math:`-\langle Z, \mathbf 1b^\top\rangle =
-b^\top Z^\top\mathbf 1` is unbounded below in :math:`b` unless :math:`Z^\top\mathbf 1 = 0`
(equivalently: minimizing over :math:`b` gives :math:`\mathbf 1^\top(Y - f(X)) = 0`).  So

.. math::

    p^\star \ge \max\big\{\langle Z, Y\rangle - \tfrac12\|Z\|_F^2 :
        \sigma(Z) \le \beta,\ Z^\top\mathbf 1 = 0\big\},

and the candidate of a net is its **centered** residual :math:`Z = P(Y - f(X))`,
:math:`P = I - \tfrac1n\mathbf 1\mathbf 1^\top` (the residual at the optimal :math:`b`, which
does not depend on the net's own :math:`b`), scaled by :math:`t = \min(1, \beta/\sigma)`; the
scaling keeps :math:`Z^\top\mathbf 1 = 0`.  Since :math:`\langle Z, Y\rangle = \langle Z,
Y - \mathbf 1a^\top\rangle` for every :math:`a`, this dual is at most the bias-free dual on
targets :math:`Y - \mathbf 1a^\top` (e.g. :math:`PY`): the output bias can only lower
:math:`p^\star` (docs/biases.md).  The lifted DNN bound models no output bias and is not used.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos._validation import as_finite_array, check_positive
from copos._version import __version__
from copos.bound import Bound
from copos.certificates.certificate import (
    NOT_CERTIFIED,
    OPTIMAL,
    Certificate,
    DataFingerprint,
    Verdict,
    json_number,
    lifted_dual_bound,
    lifted_finite,
)
from copos.certificates.conv import conv_dual_norm
from copos.certificates.dual_norm import (
    DEFAULT_MAX_EXACT_WORK,
    DEFAULT_MAX_PATTERNS,
    DualNormResult,
    Method,
    _check_method,
    dual_norm,
    no_bound,
)
from copos.certificates.sigma_search import DEFAULT_TIME_BUDGET, ProgressCallback
from copos.errors import InvalidInputError
from copos.nets.architectures.conv import ConvReLU
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.polish import PolishResult
from copos.nets.polish import polish as polish_net
from copos.nets.problem import TrainingProblem, require_no_output_bias
from copos.solvers import DEFAULT_SOLVER, Sizes, resolve
from copos.solvers.admm.dnn import SOLVER_NAME, solve_lifted_dnn_admm

FloatArray = NDArray[np.float64]


LiftedMode = Literal["auto", "always", "never"]


#: ``certify(lifted="auto")`` computes the lifted bound up to this many samples (the dual
#: point stored in the certificate has (2n)² + nc numbers).
MAX_LIFTED_N = 500


LIFTED_MODES: tuple[str, ...] = ("auto", "always", "never")


#: Largest tolerance of a verdict: :func:`certify` and :func:`verify` refuse ``eps`` outside
#: ``(0, MAX_EPS]`` (a "global optimum within 1 %" is the loosest claim copos will make).
MAX_EPS = 1e-2


#: :math:`L > F` by more than this (relative to :math:`\max(1, |F|)`) cannot be rounding: the
#: numbers are inconsistent and nothing is certified.
ROUNDING_RTOL = 1e-9


def dual_scale(beta: float, sigma: float) -> float:
    r""":math:`t = \min(1, \beta/\sigma)` (1 when :math:`\sigma = 0`): :math:`tZ` is dual feasible.

    An unknown :math:`\sigma` (NaN) gives :math:`t = 0`, the point :math:`0`, which is always
    feasible; :math:`\sigma = \infty` gives :math:`t = 0` too."""
    if math.isnan(sigma):
        return 0.0
    return 1.0 if sigma <= beta else beta / sigma


def dual_lower_bound(Z: FloatArray, Y: FloatArray, scale: float) -> float:
    r"""Dual objective at :math:`tZ`: :math:`-\tfrac12\|tZ - Y\|_F^2 + \tfrac12\|Y\|_F^2 =
    t\langle Z, Y\rangle - \tfrac12t^2\|Z\|_F^2` (the right-hand form avoids cancellation);
    exactly 0 at :math:`t = 0`, even for a non-finite ``Z``."""
    if scale == 0.0:
        return 0.0
    return scale * float(np.vdot(Z, Y)) - 0.5 * scale**2 * float(np.vdot(Z, Z))


def check_eps(eps: Any) -> float:
    r"""``eps`` as a float in :math:`(0, \texttt{MAX\_EPS}]`; anything else (NaN, inf, bool, a
    string, 0, a negative or too large number) raises :class:`~copos.errors.InvalidInputError`."""
    value = check_positive(eps, "eps")
    if value > MAX_EPS:
        raise InvalidInputError(
            f"eps must be in (0, {MAX_EPS:g}]; got {eps!r}: a relative gap above {MAX_EPS:g} "
            "is not a claim of global optimality"
        )
    return value


def decide(
    objective: float,
    lower_bound: float,
    rigorous: bool,
    eps: float,
    *,
    sigma: float = 0.0,
    lifted: float | None = None,
) -> tuple[Verdict, str]:
    r"""Verdict and reason: optimal iff

    .. math::

        \text{rigorous},\quad F, L, \sigma, L_{\rm lifted}, F - L \in \mathbb R\ (\text{finite}),
        \quad F - L \ge -\rho\max(1,|F|),\quad F - L \le \varepsilon\max(1, |F|),

    with :math:`0 < \varepsilon \le` :data:`MAX_EPS` (else :class:`InvalidInputError`) and
    :math:`\rho` = :data:`ROUNDING_RTOL` (:math:`L \le p^\star \le F`, so a larger
    :math:`L - F` means a wrong number).  ``inf <= inf`` never certifies.
    """
    eps = check_eps(eps)
    gap = objective - lower_bound
    numbers = {"objective F": objective, "lower bound L": lower_bound, "sigma": sigma, "gap": gap}
    if lifted is not None:
        numbers["lifted bound"] = lifted
    infinite = [
        f"{name} = {value!r}" for name, value in numbers.items() if not math.isfinite(value)
    ]
    if infinite:
        return NOT_CERTIFIED, (
            f"not finite: {', '.join(infinite)} (overflow or an undefined number); "
            "a non-finite number certifies nothing"
        )
    if not rigorous:
        return NOT_CERTIFIED, "the lower bound is not rigorous (incomplete activation patterns)"
    scale = max(1.0, abs(objective))
    if gap < -ROUNDING_RTOL * scale:
        return NOT_CERTIFIED, (
            f"inconsistent numbers: L - F = {-gap:.3e} > 0 beyond rounding, although "
            "L <= p* <= F; one of them is wrong"
        )
    threshold = eps * scale
    if gap <= threshold:
        return OPTIMAL, (
            f"gap F - L = {gap:.3e} <= eps * max(1, |F|) = {threshold:.3e}: the objective is "
            f"within {threshold:.3e} of the global optimum p*"
        )
    return NOT_CERTIFIED, (
        f"gap too large: F - L = {gap:.3e} > eps * max(1, |F|) = {threshold:.3e} "
        "(the network may be sub-optimal, or the lower bound loose)"
    )


def certify(
    net: TwoLayerReLU | ConvReLU,
    problem: TrainingProblem,
    *,
    eps: float = 1e-6,
    method: Method = "auto",
    max_patterns: int = DEFAULT_MAX_PATTERNS,
    solver: str = DEFAULT_SOLVER,
    max_exact_work: int = DEFAULT_MAX_EXACT_WORK,
    lifted: LiftedMode = "auto",
    lifted_tol: float = 1e-4,
    sigma_budget: float = DEFAULT_TIME_BUDGET,
    progress: ProgressCallback | None = None,
    polish: bool = False,
    polish_budget: float | None = None,
) -> Certificate:
    r"""Certify (or fail to certify) that ``net`` is a global minimiser of ``problem``.

    .. math::

        Z = Y - f(X),\quad \sigma \ge \sigma(Z)\ (\text{:func:`dual_norm`}),\quad
        t = \min(1, \beta/\sigma),\quad L = -\tfrac12\|tZ - Y\|_F^2 + \tfrac12\|Y\|_F^2,

    :math:`F` = ``net.objective(problem)`` (weight-decay form, at least the path-norm objective,
    at least :math:`p^\star`), gap :math:`F - L \ge 0` and verdict (:func:`decide`)
    ``"globally optimal within eps"`` iff the bound is rigorous and
    :math:`F - L \le \varepsilon\max(1, |F|)`.  A certified net is within
    :math:`\varepsilon\max(1,|F|)` of :math:`p^\star` over networks of **every** width.

    A convolutional net (:class:`~copos.nets.architectures.conv.ConvReLU`) is certified the same
    way with :math:`\sigma` bounded over every pattern of its patch matrix
    (:func:`copos.certificates.conv.conv_dual_norm`, method ``"patch-patterns"``; only
    ``max_patterns`` and ``eps`` apply, no lifted bound and no polish: those model dense nets);
    :math:`p^\star` is then the CNN's optimum over every number of filters.

    Parameters
    ----------
    net:
        The network (its ``d`` and ``c`` must match ``problem``).
    problem:
        Data, targets and weight decay.
    eps:
        Tolerance of the verdict, in :math:`(0,` :data:`MAX_EPS` :math:`]`.
    method, max_patterns, solver, max_exact_work:
        Passed to :func:`dual_norm`.
    lifted:
        Also compute the lifted DNN relaxation's certified lower bound with copos's own solver
        (:func:`copos.solvers.admm.dnn.solve_lifted_dnn_admm`, tolerance ``lifted_tol``) and use
        the larger proven bound: ``"always"``, ``"never"``, or ``"auto"`` (where that solver is
        the default, ``n >= 25`` and ``d >= 10``, up to ``n = MAX_LIFTED_N`` so that the stored
        dual point stays small).  This bound does not depend on the network and is often much
        tighter than the one from :math:`\sigma(Z)` when the patterns cannot be enumerated.
        A diverged solve (non-finite bound or dual point) gives no bound and is left out.
    sigma_budget, progress:
        Seconds for the branch and bound of :func:`dual_norm` (``"branch-and-bound"``, or
        ``"auto"`` above enumeration) and its ``progress(nodes, lower, upper)`` callback; see
        :func:`sigma_search_options`.
    polish:
        First refine the net on its own activation patterns (:func:`copos.nets.polish.polish`,
        never a larger objective) and certify the **polished** net; the certificate also reports
        the original net's objective (``original_objective``), and ``original_gap`` :math:`=
        F_{\rm original} - L` is what the net handed in is proven to be within of :math:`p^\star`.
    polish_budget:
        Seconds for the polish (``None``: no limit); the best net so far is certified.

    Returns
    -------
    Certificate
    """
    if not isinstance(net, (TwoLayerReLU, ConvReLU)):
        raise InvalidInputError(
            f"net must be a TwoLayerReLU or a ConvReLU; got {type(net).__name__}"
        )
    if not isinstance(problem, TrainingProblem):
        raise InvalidInputError(f"problem must be a TrainingProblem; got {type(problem).__name__}")
    eps = check_eps(eps)
    if isinstance(net, ConvReLU):
        return _certify_conv(net, problem, eps, method, max_patterns, lifted, polish)
    if not isinstance(polish, bool):
        raise InvalidInputError(f"polish must be True or False; got {polish!r}")
    polished = polish_net(net, problem, time_budget=polish_budget) if polish else None
    if polished is not None:
        net = polished.net
    Z = dual_residual(net, problem)
    options: dict[str, Any] = {
        "max_patterns": max_patterns,
        "max_exact_work": max_exact_work,
        "solver": solver,
    }
    sigma_budget = check_positive(sigma_budget, "sigma_budget")
    wants_lifted = _wants_lifted(problem, lifted)  # bad mode or tolerance fails before any work
    lifted_tol = check_positive(lifted_tol, "lifted_tol")
    search = sigma_search_options(net, problem, sigma_budget, progress)
    norm = residual_dual_norm(Z, problem, method=method, **options, **search)
    bound = lifted_bound(problem, lifted_tol) if wants_lifted else None
    if bound is not None and not lifted_finite(bound):
        bound = None  # a diverged solve gives no bound
    if norm.method == "branch-and-bound":  # verify re-runs the search with this budget
        options["sigma_budget"] = sigma_budget
    certificate = _build_certificate(net, problem, Z, norm, eps, options, bound)
    if polished is not None:
        certificate = with_polish(certificate, polished)
    return replace(certificate, dual_norm=norm)


def _certify_conv(
    net: ConvReLU,
    problem: TrainingProblem,
    eps: float,
    method: object,
    max_patterns: int,
    lifted: object,
    polish: object,
) -> Certificate:
    """:func:`certify` of a CNN: sigma over the patch patterns, nothing dense-only."""
    if method != "auto":
        raise InvalidInputError(
            f"a CNN's sigma is bounded over its patch patterns (method 'auto'); got {method!r}"
        )
    if lifted not in ("auto", "never") or polish is not False:
        raise InvalidInputError(
            "the lifted DNN bound and the polish model dense nets; a CNN takes lifted='never' "
            "or 'auto' and polish=False"
        )
    Z = dual_residual(net, problem)
    norm = conv_dual_norm(Z, net, problem, max_patterns=max_patterns)
    certificate = _build_certificate(net, problem, Z, norm, eps, {"max_patterns": max_patterns})
    return replace(certificate, dual_norm=norm)


def certify_with_dual_norm(
    net: TwoLayerReLU, problem: TrainingProblem, **options: Any
) -> tuple[Certificate, DualNormResult]:
    """:func:`certify` (same arguments), also returning the :class:`DualNormResult` of the
    certified net's residual (:attr:`Certificate.dual_norm`)."""
    certificate = certify(net, problem, **options)
    assert certificate.dual_norm is not None  # certify always sets it
    return certificate, certificate.dual_norm


def with_polish(certificate: Certificate, polished: PolishResult) -> Certificate:
    """The certificate of a polished net, with the original net's objective and the polish
    report (what :attr:`Certificate.polish` holds)."""
    report = {
        "accepted": polished.accepted,
        "reason": polished.reason,
        "original_width": polished.original.m,
        "width": polished.net.m,
        "pruned": polished.pruned,
        "merged": polished.merged,
        "iterations": polished.iterations,
        "rounds": polished.rounds,
        "gradient_norm": json_number(polished.gradient_norm),
        "budget_reached": polished.budget_reached,
        "time": polished.time,
    }
    return replace(
        certificate,
        original_objective=polished.original_objective,
        polish=report,
        original_U=np.array(polished.original.U),
        original_V=np.array(polished.original.V),
    )


def sigma_search_options(
    net: TwoLayerReLU,
    problem: TrainingProblem,
    sigma_budget: float = DEFAULT_TIME_BUDGET,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    r"""The branch-and-bound options of a certificate (used by :func:`certify` and ``verify``):
    ``threshold`` :math:`\beta` (the certificate asks only whether :math:`\sigma(Z) \le \beta`),
    the net's neurons :math:`u_k` as ``hints`` for the lower end, and the time budget."""
    return {
        "threshold": problem.beta,
        "hints": np.asarray(net.U).T,
        "time_budget": sigma_budget,
        "progress": progress,
    }


def dual_residual(net: TwoLayerReLU | ConvReLU, problem: TrainingProblem) -> FloatArray:
    r"""The dual candidate of a net: :math:`Z = Y - f(X)`, centered (:math:`Z^\top\mathbf 1 =
    0`, the residual at the optimal output bias) when ``problem.output_bias``."""
    return centered(net.residual(problem), problem)


def centered(Z: FloatArray, problem: TrainingProblem) -> FloatArray:
    r""":math:`PZ`, :math:`P = I - \tfrac1n\mathbf 1\mathbf 1^\top`, when ``problem.output_bias``
    (the dual's constraint :math:`Z^\top\mathbf 1 = 0`); else ``Z``."""
    return Z - np.mean(Z, axis=0) if problem.output_bias else Z


def _wants_lifted(problem: TrainingProblem, mode: object) -> bool:
    if mode not in LIFTED_MODES:
        raise InvalidInputError(f"lifted must be one of {LIFTED_MODES}; got {mode!r}")
    if mode == "always":
        require_no_output_bias(problem, "the lifted DNN bound (certify lifted='always')")
    if mode == "auto":
        return (
            not problem.output_bias
            and problem.n <= MAX_LIFTED_N
            and resolve("auto", "lifted-dnn", Sizes(problem.n, problem.d)) == SOLVER_NAME
        )
    return mode == "always"


def lifted_bound(problem: TrainingProblem, tol: float = 1e-4) -> Bound:
    """The lifted DNN relaxation's certified lower bound on ``problem`` (:func:`lifted_dual_bound`)."""
    require_no_output_bias(problem, "the lifted DNN bound")
    result = solve_lifted_dnn_admm(problem, tol=check_positive(tol, "lifted_tol"))
    return lifted_dual_bound(
        value=float(result.lower_bound),
        Z=result.Z,
        N=result.N,
        solver=SOLVER_NAME,
        status=result.status,
        gap=float(result.gap),
        tol=float(tol),
    )


def residual_dual_norm(
    Z: FloatArray, X: FloatArray | TrainingProblem, *, method: Method = "auto", **options: Any
) -> DualNormResult:
    r""":func:`dual_norm` of a network's residual :math:`Z = Y - f(X)`; when :math:`f(X)`
    overflowed (``Z`` not finite) no bound exists: ``value = inf``, not rigorous.  ``X`` may be
    the problem (its cached SVD and arrangements are used)."""
    if np.all(np.isfinite(Z)):
        return dual_norm(Z, X, method=method, **options)
    return no_bound("global", _check_method(method))


def checked_lower_bound(
    Z: ArrayLike,
    problem: TrainingProblem,
    *,
    method: Method = "auto",
    solver: str = DEFAULT_SOLVER,
) -> Bound:
    r"""Turn any dual candidate :math:`Z` (e.g. from a relaxation's solve) into a checked bound.

    The lower :class:`~copos.bound.Bound` :math:`t\langle Z, Y\rangle - \tfrac12t^2\|Z\|_F^2 \le
    p^\star`, :math:`t = \min(1, \beta/\sigma)`, with ``sigma`` an upper bound on
    :math:`\sigma(Z)`: weak duality needs only :math:`\sigma(tZ) \le \beta`, so computing
    :math:`\sigma(Z)` after the solve (exactly, or by the repaired relaxation of
    :func:`dual_norm`) makes the bound rigorous whatever the accuracy of the solve that produced
    :math:`Z`.  It is unverified when ``sigma`` is not a proven bound or the value overflowed.
    Its ``certificate`` holds ``scale`` (:math:`t`), ``sigma`` and ``sigma_method``.
    """
    start = time.perf_counter()
    Z_arr = as_finite_array(Z, "Z", ndim=2)
    if Z_arr.shape != problem.Y.shape:
        raise InvalidInputError(f"Z must have the shape of Y {problem.Y.shape}; got {Z_arr.shape}")
    Z_arr = centered(Z_arr, problem)  # with an output bias the dual needs Z^T 1 = 0
    norm = dual_norm(Z_arr, problem, method=method, solver=solver)
    scale = dual_scale(problem.beta, norm.value)
    value = dual_lower_bound(Z_arr, problem.Y, scale)
    return Bound(  # a non-finite (overflowed) value is never rigorous: Bound.rigour says so
        value=value,
        claimed_kind="lower",
        view="dual",
        time=time.perf_counter() - start,
        certificate={"scale": scale, "sigma": norm.value, "sigma_method": norm.method},
        checked=None if norm.rigorous else "unverified",
    )


def witness_margin(net: TwoLayerReLU | ConvReLU, problem: TrainingProblem, Z: FloatArray) -> float:
    r"""A bound :math:`\delta` on the rounding error of :math:`\sigma_{\rm lower} =
    \|Z^\top(Au)_+\|` (:math:`A` the data, or a CNN's stacked patches; :math:`\|u\| = 1`),

    .. math:: \delta = 2\gamma_k\big(\|A\|_F\|U\|_F\|V\|_F + \sqrt n\|b\| + \|Y\|_F +
        \|Z\|_F\big)\|A\|_F,\qquad \gamma_k = \frac{k\epsilon}{1 - k\epsilon},\quad
        k = n + h + m + K + 4

    (first order: the error of :math:`f(X) = (AU)_+V + \mathbb 1b^\top` and of :math:`Z = Y -
    f(X)`, carried through :math:`Z^\top(Au)_+` and the norm; :math:`h` the rows of ``U``,
    :math:`K` the patches).  A witness of non-optimality needs :math:`\sigma_{\rm lower} - \beta
    > \delta`: with labels of norm 1e7 and :math:`\beta` = 1e-3 the closed-form optimum's
    :math:`\sigma_{\rm lower}` exceeds :math:`\beta` by 4e-6 relative, all of it rounding.
    """
    if isinstance(net, ConvReLU):
        stacked = net.architecture.operator_of(problem).stacked
        patches = net.architecture.K
    else:
        stacked, patches = problem.X, 1
    data = float(np.linalg.norm(stacked))
    k = problem.n + net.U.shape[0] + net.U.shape[1] + patches + 4
    eps = np.finfo(np.float64).eps
    gamma = k * eps / (1.0 - k * eps)
    weights = data * float(np.linalg.norm(net.U)) * float(np.linalg.norm(net.V))
    bias = 0.0 if net.b is None else math.sqrt(problem.n) * float(np.linalg.norm(net.b))
    labels = float(np.linalg.norm(problem.Y)) + float(np.linalg.norm(Z))
    margin = 2.0 * gamma * (weights + bias + labels) * data
    return margin if math.isfinite(margin) else math.inf


def _build_certificate(
    net: TwoLayerReLU | ConvReLU,
    problem: TrainingProblem,
    Z: FloatArray,
    norm: DualNormResult,
    eps: float,
    options: dict[str, Any],
    lifted: Bound | None = None,
) -> Certificate:
    scale = dual_scale(problem.beta, norm.value)
    lower = combined_lower_bound(dual_lower_bound(Z, problem.Y, scale), norm.rigorous, lifted)
    objective = net.objective(problem)
    verdict, reason = decide(
        objective,
        lower,
        norm.rigorous or lifted is not None,
        eps,
        sigma=norm.value,
        lifted=None if lifted is None else lifted.value,
    )
    return Certificate(
        copos_version=__version__,
        data=DataFingerprint.of(problem.X, problem.Y),
        beta=problem.beta,
        bias=problem.bias,
        U=np.array(net.U),
        V=np.array(net.V),
        b=None if net.b is None else np.array(net.b),
        output_bias=problem.output_bias,
        sigma=norm.value,
        sigma_lower=norm.lower,
        method=norm.method,
        options=dict(options),
        rigorous=norm.rigorous,
        scale=scale,
        lower_bound=lower,
        objective=objective,
        gap=objective - lower,
        relative_gap=(objective - lower) / max(1.0, abs(objective)),
        eps=eps,
        verdict=verdict,
        reason=reason,
        lifted=lifted,
        architecture=net.architecture if isinstance(net, ConvReLU) else None,
        witness_margin=witness_margin(net, problem, Z),
    )


def combined_lower_bound(sigma_bound: float, rigorous: bool, lifted: Bound | None) -> float:
    """``L``: the larger proven bound (``sigma_bound`` counts only when ``rigorous``; a NaN
    candidate is ignored, and NaN comes out when no candidate is a number)."""
    if lifted is None:
        return sigma_bound
    candidates = [sigma_bound, lifted.value] if rigorous else [lifted.value]
    numbers = [value for value in candidates if not math.isnan(value)]
    return max(numbers) if numbers else math.nan
