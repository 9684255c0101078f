r"""ℓ∞ attacks on two-layer ReLU networks and PGD adversarial training (numpy only).

A training point :math:`x_k` may move inside the box :math:`\{x_k + \delta : \|\delta\|_\infty
\le \epsilon,\ \delta_j = 0 \text{ on fixed coordinates}\}` (the ones column of a first-layer
bias is fixed).  For a loss :math:`\ell(\hat y, y)` convex in the output,

.. math::

    R_\epsilon(f) = \sum_{k=1}^n \max_{\|\delta_k\|_\infty\le\epsilon} \ell\big(f(x_k+\delta_k), y_k\big)

is the robust training loss.  The attacks are lower bounds on each inner maximum (they return a
point of the box); :func:`certified_robust_loss` is an upper bound on it (interval bounds on the
hidden units, exact when no unit changes sign on a box).  Losses (:data:`LOSSES`):

* ``squared``: :math:`\tfrac12(\hat y - y)^2`, any real :math:`y`;
* ``hinge``: :math:`(1 - y\hat y)_+`, :math:`y \in \{-1, +1\}`;
* ``logistic``: :math:`\log(1 + e^{-y\hat y})`, :math:`y \in \{-1, +1\}`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos._validation import as_finite_array, check_dimension, check_nonnegative, check_positive
from copos.bound import Bound
from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU, init_weights
from copos.nets.training import _Adam, _step_size

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Loss = Literal["squared", "hinge", "logistic"]

LOSSES: tuple[str, ...] = ("squared", "hinge", "logistic")


# ---------------------------------------------------------------------------- losses
def loss_values(loss: str, outputs: FloatArray, y: FloatArray) -> FloatArray:
    r"""Per-sample :math:`\ell(\hat y_k, y_k)` (module docstring)."""
    if loss == "squared":
        return 0.5 * (outputs - y) ** 2
    margin = y * outputs
    if loss == "hinge":
        return np.maximum(0.0, 1.0 - margin)
    return np.logaddexp(0.0, -margin)


def loss_derivative(loss: str, outputs: FloatArray, y: FloatArray) -> FloatArray:
    r"""Per-sample :math:`\partial\ell/\partial\hat y` (a subgradient for the hinge)."""
    if loss == "squared":
        return outputs - y
    margin = y * outputs
    if loss == "hinge":
        return np.where(margin < 1.0, -y, 0.0)
    return -y * np.exp(-np.logaddexp(0.0, margin))  # -y σ(-margin)


def check_loss(loss: str, y: ArrayLike) -> FloatArray:
    """``y`` as a 1-D float array after checking ``loss`` and (hinge, logistic) labels in {-1, +1}."""
    if loss not in LOSSES:
        raise InvalidInputError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}")
    labels = as_finite_array(y, "y")
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise InvalidInputError(f"y must be a vector (scalar outputs); got shape {labels.shape}")
    if loss != "squared" and not np.all(np.isin(labels, (-1.0, 1.0))):
        raise InvalidInputError(f"the {loss} loss needs labels in {{-1, +1}}")
    return labels


# ---------------------------------------------------------------------------- threat model
@dataclass(frozen=True)
class Box:
    r"""The ℓ∞ threat model :math:`\|\delta\|_\infty \le \epsilon`, :math:`\delta_j = 0` where ``fixed``."""

    eps: float
    fixed: BoolArray

    @classmethod
    def of(cls, eps: float, d: int, fixed_last: bool = False) -> Box:
        """Radius ``eps >= 0`` on ``d`` coordinates; ``fixed_last``: the last one (a bias column) is fixed."""
        mask = np.zeros(check_dimension(d, "d"), dtype=bool)
        mask[-1] = bool(fixed_last)
        return cls(check_nonnegative(eps, "eps"), mask)

    @property
    def radius(self) -> FloatArray:
        """Per-coordinate radius: ``eps``, 0 on fixed coordinates."""
        return np.where(self.fixed, 0.0, self.eps)

    def project(self, X: FloatArray, X_adv: FloatArray) -> FloatArray:
        """``X_adv`` clipped to the boxes around the rows of ``X``."""
        r = self.radius
        return np.clip(X_adv, X - r, X + r)

    def l1(self, Z: FloatArray) -> FloatArray:
        r"""Row-wise :math:`\epsilon\|z\|_1` over the free coordinates: the linear term's worst change."""
        return np.abs(Z) @ self.radius


def _checked(
    net: TwoLayerReLU, X: ArrayLike, y: ArrayLike, loss: str, box: Box
) -> tuple[FloatArray, FloatArray]:
    if not isinstance(net, TwoLayerReLU) or net.c != 1:
        raise InvalidInputError("the attacks need a scalar-output TwoLayerReLU")
    X_arr = as_finite_array(X, "X", ndim=2)
    labels = check_loss(loss, y)
    if X_arr.shape[1] != net.d or labels.shape[0] != X_arr.shape[0] or box.fixed.shape[0] != net.d:
        raise InvalidInputError(
            f"X {X_arr.shape}, y {labels.shape} and the box ({box.fixed.shape[0]} coordinates) "
            f"do not match a network with d = {net.d}"
        )
    return X_arr, labels


def ascent_direction(net: TwoLayerReLU, X: FloatArray, y: FloatArray, loss: str) -> FloatArray:
    r"""Rows :math:`s_k\nabla_x f(x_k)`, :math:`\nabla_x f = U(\mathbb 1[U^\top x_k > 0]\circ v)`.

    :math:`s_k = -y_k` for the margin losses (hinge, logistic: both non-increasing in
    :math:`y f`, so this is their ascent direction even where the hinge is flat) and
    :math:`s_k = \mathrm{sign}(f(x_k) - y_k)` for the squared loss (:math:`+1` at a tie).
    """
    active = (X @ net.U) > 0
    if loss == "squared":
        scale = np.where(net.predict(X)[:, 0] >= y, 1.0, -1.0)
    else:
        scale = -y
    return scale[:, None] * ((active * net.V[:, 0]) @ net.U.T)


def fgsm(
    net: TwoLayerReLU, X: ArrayLike, y: ArrayLike, box: Box, loss: Loss = "hinge"
) -> FloatArray:
    r"""Fast gradient sign: :math:`x_k + \epsilon\,\mathrm{sign}(s_k\nabla_x f)` on the free coordinates (:func:`ascent_direction`)."""
    X_arr, labels = _checked(net, X, y, loss, box)
    return X_arr + box.radius * np.sign(ascent_direction(net, X_arr, labels, loss))


def pgd(
    net: TwoLayerReLU,
    X: ArrayLike,
    y: ArrayLike,
    box: Box,
    loss: Loss = "hinge",
    *,
    steps: int = 20,
    step_size: float | None = None,
    random_start: bool = True,
    seed: int = 0,
) -> FloatArray:
    r"""Projected sign ascent: :math:`x \leftarrow \Pi_{\text{box}}(x + \alpha\,\mathrm{sign}(s_k\nabla_x f))` (:func:`ascent_direction`).

    ``step_size`` defaults to :math:`2.5\epsilon/\text{steps}`; ``random_start`` draws the start
    uniformly in the box.  Each sample keeps the iterate of largest loss (so the result is never
    worse than the start).  Returns the attacked inputs, shape ``(n, d)``.
    """
    X_arr, labels = _checked(net, X, y, loss, box)
    steps = check_dimension(steps, "steps")
    alpha = 2.5 * box.eps / steps if step_size is None else check_positive(step_size, "step_size")
    rng = np.random.default_rng(seed)
    start = rng.uniform(-1.0, 1.0, X_arr.shape) * box.radius if random_start else 0.0
    current = X_arr + start
    best, best_loss = current.copy(), _losses(net, current, labels, loss)
    for _ in range(steps):
        step = alpha * np.sign(ascent_direction(net, current, labels, loss))
        current = box.project(X_arr, current + np.where(box.fixed, 0.0, step))
        values = _losses(net, current, labels, loss)
        better = values > best_loss
        best[better], best_loss[better] = current[better], values[better]
    return best


def _losses(net: TwoLayerReLU, X: FloatArray, y: FloatArray, loss: str) -> FloatArray:
    return loss_values(loss, net.predict(X)[:, 0], y)


def robust_accuracy(
    net: TwoLayerReLU, X: ArrayLike, y: ArrayLike, box: Box, **pgd_options: object
) -> float:
    """Fraction of ``sign(f(x)) == y`` at the PGD points of the hinge loss (labels in {-1, +1})."""
    attacked = pgd(net, X, y, box, "hinge", **pgd_options)  # type: ignore[arg-type]
    return accuracy(net, attacked, y)


def accuracy(net: TwoLayerReLU, X: ArrayLike, y: ArrayLike) -> float:
    """Fraction of ``sign(f(x_k)) == y_k`` (0 counts as wrong)."""
    labels = check_loss("hinge", y)
    return float(np.mean(np.sign(net.predict(X)[:, 0]) == labels))


# ---------------------------------------------------------------------------- certified upper bound
def certified_robust_loss(
    net: TwoLayerReLU, X: ArrayLike, y: ArrayLike, box: Box, loss: Loss = "hinge"
) -> FloatArray:
    r"""Per-sample upper bounds on :math:`\max_{\delta}\ell(f(x_k+\delta), y_k)` over the box.

    With :math:`t = u_j^\top(x_k+\delta) \in [p - s, p + s]`, :math:`p = u_j^\top x_k`,
    :math:`s = \epsilon\|u_j\|_1`: a unit with :math:`p > 0` is :math:`t + (-t)_+` and one with
    :math:`p \le 0` is :math:`0 + (t)_+`, where the correction lies in
    :math:`[0, (s - |p|)_+]`.  So the output is :math:`(x_k+\delta)^\top z_k` (:math:`z_k` = the
    sum of :math:`\alpha_ju_j` over units with :math:`p > 0`) plus
    :math:`\sum_j\alpha_j[0, (s_j - |p_j|)_+]`, and lies in an interval whose ends the convex
    loss is largest at.  When no unit changes sign on a box (:func:`stable_units`) every
    correction is 0 and this is the exact maximum.
    """
    X_arr, labels = _checked(net, X, y, loss, box)
    pre = X_arr @ net.U  # (n, m)
    spread = np.abs(net.U).T @ box.radius  # (m,): eps ||u_j||_1 on the free coordinates
    alpha = net.V[:, 0]
    Z = ((pre > 0) * alpha) @ net.U.T  # (n, d): the linear part on the box
    centre = np.sum(X_arr * Z, axis=1) + (0.0 if net.b is None else net.b[0])
    correction = np.maximum(spread - np.abs(pre), 0.0) * alpha  # (n, m)
    low = centre - box.l1(Z) + np.sum(np.minimum(correction, 0.0), axis=1)
    high = centre + box.l1(Z) + np.sum(np.maximum(correction, 0.0), axis=1)
    return np.maximum(loss_values(loss, low, labels), loss_values(loss, high, labels))


def stable_units(net: TwoLayerReLU, X: ArrayLike, box: Box) -> bool:
    r"""Every unit keeps its sign on every box: :math:`|u_j^\top x_k| \ge \epsilon\|u_j\|_1` (then f is linear there)."""
    X_arr = as_finite_array(X, "X", ndim=2)
    return bool(np.all(np.abs(X_arr @ net.U) >= np.abs(net.U).T @ box.radius))


# ---------------------------------------------------------------------------- adversarial training
@dataclass(frozen=True, eq=False)
class AdversarialRun:
    r"""A net trained on :math:`\sum_k\ell(f(\tilde x_k), y_k) + \tfrac\beta2(\|U\|_F^2+\|V\|_F^2)`.

    :math:`\tilde x_k` is the PGD point of :math:`x_k` at each epoch (:math:`\tilde x = x` for
    ``eps = 0``: standard training).  ``objective`` is the clean weight-decay objective of the
    last net; ``time`` the wall-clock seconds.
    """

    net: TwoLayerReLU
    objective: float
    time: float
    eps: float
    loss: str

    @property
    def bound(self) -> Bound:
        """The clean objective of a real net (with this loss): an upper bound on its training optimum."""
        return Bound.of_network(self.objective, quantity=f"p*({self.loss})", method="pgd-training")


def adversarial_training(
    X: ArrayLike,
    y: ArrayLike,
    width: int,
    box: Box,
    *,
    loss: Loss = "hinge",
    beta: float = 1e-3,
    epochs: int = 300,
    lr: float = 0.02,
    pgd_steps: int = 5,
    seed: int = 0,
) -> AdversarialRun:
    r"""Full-batch Adam (copos.nets.training's) on the PGD-perturbed loss plus weight decay.

    Each epoch attacks the current net with :func:`pgd` (``pgd_steps`` steps, random start), then
    steps along :math:`\nabla_{U,V}\big[\sum_k\ell(f(\tilde x_k),y_k) + \tfrac\beta2(\|U\|^2+\|V\|^2)\big]`
    with a cosine-decayed step.  ``box.eps = 0`` is standard training.
    """
    X_arr = as_finite_array(X, "X", ndim=2)
    labels = check_loss(loss, y)
    width = check_dimension(width, "width")
    beta = check_positive(beta, "beta")
    epochs = check_dimension(epochs, "epochs")
    start = time.perf_counter()
    U, V = init_weights(X_arr.shape[1], width, 1, rng=np.random.default_rng(seed))
    flat = np.concatenate([U.ravel(), V.ravel()])
    adam = _Adam(flat.size, (0.9, 0.999), 1e-8)
    split = U.size
    for epoch in range(epochs):
        net = TwoLayerReLU(flat[:split].reshape(U.shape), flat[split:].reshape(V.shape))
        points = (
            X_arr
            if box.eps == 0
            else pgd(net, X_arr, labels, box, loss, steps=pgd_steps, seed=seed + epoch)
        )
        adam.step(
            flat,
            _weight_gradient(net, points, labels, loss, beta),
            _step_size(lr, epoch, epochs, "cosine"),
        )
    net = TwoLayerReLU(flat[:split].reshape(U.shape), flat[split:].reshape(V.shape))
    objective = float(np.sum(_losses(net, X_arr, labels, loss))) + 0.5 * beta * float(
        np.sum(flat**2)
    )
    return AdversarialRun(net, objective, time.perf_counter() - start, box.eps, loss)


def _weight_gradient(
    net: TwoLayerReLU, X: FloatArray, y: FloatArray, loss: str, beta: float
) -> FloatArray:
    pre = X @ net.U
    hidden = np.maximum(pre, 0.0)
    r = loss_derivative(loss, hidden @ net.V[:, 0], y)
    grad_V = hidden.T @ r[:, None] + beta * net.V
    grad_U = X.T @ ((pre > 0) * np.outer(r, net.V[:, 0])) + beta * net.U
    return np.concatenate([grad_U.ravel(), grad_V.ravel()])
