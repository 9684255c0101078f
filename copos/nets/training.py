r"""Full-batch training of two-layer ReLU networks on the weight-decay objective (numpy only).

Minimises, from a random start,

.. math::

    F(U, V) = \tfrac12 \lVert (XU)_+ V - Y \rVert_F^2
        + \tfrac{\beta}{2}\big(\lVert U\rVert_F^2 + \lVert V\rVert_F^2\big)

(plus an unregularized output bias :math:`b`, started at its optimal value, when the problem
has ``output_bias=True``) with full-batch gradient descent with momentum (heavy-ball or Nesterov) or Adam. The problem is
non-convex: a run gives an **upper bound** on :math:`p^\star` (the objective of the net it
returns), and different seeds land in different local minima, so use :func:`train_grid` and
:func:`best_run` over several seeds.

Defaults (Adam, ``lr=0.05``, ``10_000`` epochs, cosine decay of the step size) give these best
objectives on the spiral data (``copos.nets.datasets.spiral()``, n=60, d=2+bias, c=3, β=0.1) over
seeds 0–4 (about 0.5 s per run at widths 5 and 10, 1 s at width 100, on a loaded 2-core machine):

=====  ================  ==========
width  range over seeds  best
=====  ================  ==========
5      10.52 – 12.71     10.52
10     8.77 – 10.55      8.77
100    7.949 – 7.970     7.949
=====  ================  ==========
"""

from __future__ import annotations

import math
import numbers
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TextIO

import numpy as np
from numpy.typing import NDArray

from copos._memory import check_memory, training_bytes
from copos._validation import check_dimension, check_positive
from copos.bound import Bound
from copos.errors import InvalidInputError
from copos.nets.architectures.circular import (
    CircularReLU,
    check_circular_problem,
    circular_objective_and_gradient,
    signal_shape,
)
from copos.nets.architectures.conv import Convolution, ConvReLU
from copos.nets.architectures.dense import (
    TwoLayerReLU,
    _objective_and_gradient_unchecked,
    _objective_and_gradients_with_bias,
    init_weights,
)
from copos.nets.problem import TrainingProblem

FloatArray = NDArray[np.float64]
Optimizer = Literal["gd", "adam"]
Schedule = Literal["cosine", "constant"]

OPTIMIZERS: tuple[str, ...] = ("gd", "adam")
SCHEDULES: tuple[str, ...] = ("cosine", "constant")
#: Default step size per optimizer (Adam's is per coordinate and scale-free; GD's depends on
#: the scale of the data, so lower it if a ``gd`` run reports ``diverged``).
DEFAULT_LR: dict[str, float] = {"adam": 0.05, "gd": 1e-3}
DEFAULT_EPOCHS = 10_000
#: Objective above which a run counts as diverged.
DIVERGENCE_LIMIT = 1e100


@dataclass(frozen=True, eq=False)
class TrainingRun:
    """Result of one training run.

    Attributes
    ----------
    net:
        The iterate with the lowest objective (the best upper bound found).
    final_net:
        The last iterate.
    history:
        Objective of iterates ``0..epochs`` (length ``epochs + 1``; shorter if the run diverged).
    best_objective:
        ``min(history)``, the objective of ``net``.
    best_epoch:
        Index of ``net`` in ``history``.
    optimizer, width, seed, epochs, lr, schedule:
        The settings used.
    time:
        Wall-clock seconds of the run.
    diverged:
        The objective became non-finite or exceeded ``DIVERGENCE_LIMIT``; training stopped.
    """

    net: TwoLayerReLU
    final_net: TwoLayerReLU
    history: FloatArray
    best_objective: float
    best_epoch: int
    optimizer: str
    width: int
    seed: int
    epochs: int
    lr: float
    schedule: str
    time: float
    diverged: bool = False

    @property
    def bound(self) -> Bound:
        """``best_objective`` as a rigorous upper :class:`~copos.bound.Bound` on p* (a real network)."""
        return Bound.of_network(
            self.best_objective,
            time=self.time,
            method=f"sgd ({self.optimizer}, m={self.width})",
            status_text=f"seed {self.seed}, best epoch {self.best_epoch}",
        )

    @property
    def final_objective(self) -> float:
        """Objective of the last recorded iterate."""
        return float(self.history[-1])

    def summary(self) -> str:
        """One line: optimizer, width, seed, best objective and time."""
        flag = " DIVERGED" if self.diverged else ""
        return (
            f"{self.optimizer} m={self.width} seed={self.seed}: best {self.best_objective:.6g} "
            f"(epoch {self.best_epoch}/{self.epochs}) in {self.time:.2f}s{flag}"
        )


# ---------------------------------------------------------------------------- validation
def _check_unit_interval(value: Any, name: str) -> float:
    """A float in ``[0, 1)``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= float(value) < 1:
        raise InvalidInputError(f"{name} must be in [0, 1); got {value!r}")
    return float(value)


def _check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """One of ``choices``."""
    if value not in choices:
        raise InvalidInputError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return str(value)


def _initial_weights(
    problem: TrainingProblem,
    width: int,
    init: TwoLayerReLU | None,
    rng: np.random.Generator,
    init_scale: float,
) -> tuple[FloatArray, FloatArray]:
    """Copies of ``init``'s weights, or fresh fan-in-scaled Gaussian weights."""
    if init is None:
        return init_weights(problem.d, width, problem.c, rng=rng, scale=init_scale)
    if not isinstance(init, TwoLayerReLU):
        raise InvalidInputError(f"init must be a TwoLayerReLU; got {type(init).__name__}")
    if init.b is not None and not problem.output_bias:
        raise InvalidInputError("init has an output bias but the problem does not model one")
    if (init.d, init.m, init.c) != (problem.d, width, problem.c):
        raise InvalidInputError(
            f"init has (d, m, c) = {(init.d, init.m, init.c)}; expected "
            f"{(problem.d, width, problem.c)} from the problem and width"
        )
    return np.array(init.U), np.array(init.V)


# ---------------------------------------------------------------------------- optimizers
def _step_size(lr: float, epoch: int, epochs: int, schedule: str) -> float:
    r"""Step at ``epoch`` (0-based): ``lr`` or :math:`\mathrm{lr}\cdot\tfrac12(1+\cos(\pi k/K))`."""
    if schedule == "constant":
        return lr
    return lr * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))


class _Momentum:
    r"""Heavy ball :math:`b \leftarrow \mu b + g,\ w \leftarrow w - \eta b`; Nesterov uses
    :math:`w \leftarrow w - \eta(g + \mu b)` (the PyTorch SGD formulation)."""

    def __init__(self, size: int, momentum: float, nesterov: bool) -> None:
        self.momentum = momentum
        self.nesterov = nesterov
        self.buffer = np.zeros(size)

    def step(self, weights: FloatArray, grad: FloatArray, lr: float) -> None:
        """Update the buffer with ``grad`` and move ``weights`` in place."""
        self.buffer *= self.momentum
        self.buffer += grad
        if self.nesterov:
            weights -= lr * (grad + self.momentum * self.buffer)
        else:
            weights -= lr * self.buffer


class _Adam:
    r"""Adam: :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, :math:`s \leftarrow \beta_2 s +
    (1-\beta_2) g^2`, :math:`w \leftarrow w - \eta\,\hat m/(\sqrt{\hat s} + \epsilon)` with
    bias-corrected :math:`\hat m = m/(1-\beta_1^t)`, :math:`\hat s = s/(1-\beta_2^t)`."""

    def __init__(self, size: int, betas: tuple[float, float], eps: float) -> None:
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.t = 0
        self.first = np.zeros(size)
        self.second = np.zeros(size)

    def step(self, weights: FloatArray, grad: FloatArray, lr: float) -> None:
        """Update the moments with ``grad`` and move ``weights`` in place."""
        self.t += 1
        root2 = math.sqrt(1.0 - self.beta2**self.t)
        self.first *= self.beta1
        self.first += (1.0 - self.beta1) * grad
        self.second *= self.beta2
        self.second += (1.0 - self.beta2) * (grad * grad)
        # m̂/(√ŝ + ε) = (√c₂/c₁) · m/(√s + ε√c₂), with c_i = 1 - β_i^t (one pass over the arrays)
        denominator = np.sqrt(self.second)
        denominator += self.eps * root2
        weights -= (lr * root2 / (1.0 - self.beta1**self.t)) * (self.first / denominator)


# ---------------------------------------------------------------------------- training
def check_training_size(problem: TrainingProblem, width: int, epochs: int = DEFAULT_EPOCHS) -> None:
    """Refuse a width whose training would not fit in memory (:func:`copos._memory.training_bytes`).

    Raises
    ------
    TooLargeError
        The estimate exceeds ``copos._memory.current_limit()``.
    """
    if not isinstance(problem, TrainingProblem):
        raise InvalidInputError(f"problem must be a TrainingProblem; got {type(problem).__name__}")
    epochs = epochs if isinstance(epochs, int) and epochs > 0 else 0
    check_memory(
        training_bytes(problem.n, problem.d, problem.c, width, epochs),
        f"training a width-{width} network on n = {problem.n}, d = {problem.d}, c = {problem.c}",
        "Use a smaller width or fewer epochs",
    )


def train(
    problem: TrainingProblem,
    width: int,
    *,
    optimizer: Optimizer = "adam",
    lr: float | None = None,
    epochs: int = DEFAULT_EPOCHS,
    seed: int = 0,
    init_scale: float = 1.0,
    schedule: Schedule = "cosine",
    momentum: float = 0.9,
    nesterov: bool = False,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    init: TwoLayerReLU | None = None,
    progress: bool = False,
) -> TrainingRun:
    r"""Train a width-``width`` network on ``problem`` by full-batch first-order descent.

    Each epoch evaluates :math:`F` and :math:`\nabla F` at the current weights
    :math:`w_k = (U_k, V_k)` (see :func:`copos.nets.architectures.dense.objective_and_gradient`) and steps
    :math:`w_{k+1} = w_k - \eta_k\,\mathrm{dir}_k`, where :math:`\mathrm{dir}_k` is the
    momentum (``"gd"``) or Adam (``"adam"``) direction and :math:`\eta_k` is ``lr`` (constant)
    or :math:`\mathrm{lr}\cdot\tfrac12(1+\cos(\pi k/K))` (cosine, ``K = epochs``). The best
    iterate by objective is kept. Equal arguments give identical runs (all randomness is the
    initialisation, from ``numpy.random.default_rng(seed)``).

    Parameters
    ----------
    problem:
        Data, targets and weight decay.
    width:
        Number of hidden neurons ``m >= 1``.
    optimizer:
        ``"adam"`` (default) or ``"gd"`` (gradient descent with momentum).
    lr:
        Base step size ``> 0``; default ``DEFAULT_LR[optimizer]`` (0.05 for Adam, 1e-3 for GD).
    epochs:
        Number of full-batch steps ``>= 1``.
    seed:
        Seed of the initialisation.
    init_scale:
        Scale ``s > 0`` of the initialisation :math:`U_{ij}\sim\mathcal N(0,s^2/d)`,
        :math:`V_{ij}\sim\mathcal N(0,s^2/m)`.
    schedule:
        ``"cosine"`` (default; decays the step to 0, so the last iterates settle) or
        ``"constant"``.
    momentum, nesterov:
        Momentum ``μ`` in ``[0, 1)`` and Nesterov's variant, for ``"gd"``.
    betas, eps:
        Adam's moment decays (each in ``[0, 1)``) and denominator offset ``> 0``.
    init:
        Start from this network instead (warm start; ``seed`` and ``init_scale`` are then
        unused). Must have the problem's ``d``, ``c`` and width ``width``.
    progress:
        Show a :class:`ProgressBar` of the epochs on stderr (only on a terminal, after half a
        second).

    Returns
    -------
    TrainingRun
        Best and final networks, objective history and settings.
    """
    if not isinstance(problem, TrainingProblem):
        raise InvalidInputError(f"problem must be a TrainingProblem; got {type(problem).__name__}")
    width = check_dimension(width, "width")
    optimizer_name = _check_choice(optimizer, "optimizer", OPTIMIZERS)
    schedule_name = _check_choice(schedule, "schedule", SCHEDULES)
    lr_value = check_positive(DEFAULT_LR[optimizer_name] if lr is None else lr, "lr")
    epochs = check_dimension(epochs, "epochs")
    seed = check_dimension(seed, "seed", minimum=0)
    init_scale = check_positive(init_scale, "init_scale")
    momentum = _check_unit_interval(momentum, "momentum")
    beta_pair = (
        _check_unit_interval(betas[0], "betas[0]"),
        _check_unit_interval(betas[1], "betas[1]"),
    )
    eps = check_positive(eps, "eps")
    check_training_size(problem, width, epochs)

    rng = np.random.default_rng(seed)
    U0, V0 = _initial_weights(problem, width, init, rng, init_scale)
    b0 = _initial_output_bias(problem, U0, V0, init)
    settings = Settings(
        optimizer_name, lr_value, epochs, schedule_name, momentum, nesterov, beta_pair, eps
    )
    return descend_from(problem, (U0, V0, b0), settings, seed=seed, progress=progress)


@dataclass(frozen=True)
class Settings:
    """The optimizer's settings of :func:`train`, checked by it."""

    optimizer: str
    lr: float
    epochs: int
    schedule: str
    momentum: float = 0.9
    nesterov: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8


#: ``(U, V) -> (F, grad_U, grad_V)``: an architecture's objective and gradient on fixed data.
Kernel = Callable[[FloatArray, FloatArray], tuple[float, FloatArray, FloatArray]]


def descend_from(
    problem: TrainingProblem,
    start: tuple[FloatArray, FloatArray, FloatArray | None],
    settings: Settings,
    *,
    seed: int = 0,
    progress: bool = False,
    kernel: Kernel | None = None,
    make_net: Callable[[FloatArray, FloatArray], Any] | None = None,
) -> TrainingRun:
    """The descent of :func:`train` from ``start = (U0, V0, b0)``, for any architecture.

    ``kernel`` (default the dense net's) gives the objective and gradient, ``make_net`` (default
    :class:`TwoLayerReLU`) the network of the weights; another architecture (e.g. the
    convolutional nets of :mod:`copos.nets.architectures.conv`) passes both and no output bias.
    """
    size = sum(part.size for part in start if part is not None)
    stepper: _Adam | _Momentum = (
        _Adam(size, settings.betas, settings.eps)
        if settings.optimizer == "adam"
        else _Momentum(size, settings.momentum, bool(settings.nesterov))
    )
    begin = time.perf_counter()
    bar = ProgressBar(settings.epochs, enabled=progress)
    steps = (settings.lr, settings.epochs, settings.schedule)
    try:
        trace = _descend(problem, start, stepper, steps, bar, kernel=kernel, make_net=make_net)
    finally:
        bar.close()
    elapsed = time.perf_counter() - begin
    width = int(start[0].shape[1])
    if trace.diverged:
        warnings.warn(
            f"training diverged at epoch {trace.history.size} ({settings.optimizer}, "
            f"lr={settings.lr:g}, width={width}, seed={seed}); returning the best iterate so far. "
            "Lower lr.",
            RuntimeWarning,
            stacklevel=3,
        )
    return TrainingRun(
        net=trace.best_net,
        final_net=trace.final_net,
        history=trace.history,
        best_objective=trace.best_value,
        best_epoch=trace.best_epoch,
        optimizer=settings.optimizer,
        width=width,
        seed=seed,
        epochs=settings.epochs,
        lr=settings.lr,
        schedule=settings.schedule,
        time=elapsed,
        diverged=trace.diverged,
    )


@dataclass(frozen=True, eq=False)
class _Trace:
    """What the descent loop produced."""

    history: FloatArray
    best_value: float
    best_epoch: int
    best_net: TwoLayerReLU
    final_net: TwoLayerReLU
    diverged: bool


def _initial_output_bias(
    problem: TrainingProblem, U: FloatArray, V: FloatArray, init: TwoLayerReLU | None
) -> FloatArray | None:
    r"""``None`` without an output bias; else ``init``'s, or the optimal one for ``(U, V)``:
    :math:`b = \tfrac1n(Y - (XU)_+V)^\top\mathbf 1`."""
    if not problem.output_bias:
        return None
    if init is not None and init.b is not None:
        return np.array(init.b)
    return np.mean(problem.Y - np.maximum(problem.X @ U, 0.0) @ V, axis=0)


def _descend(
    problem: TrainingProblem,
    start: tuple[FloatArray, FloatArray, FloatArray | None],
    stepper: _Adam | _Momentum,
    steps: tuple[float, int, str],
    bar: ProgressBar,
    *,
    kernel: Kernel | None = None,
    make_net: Callable[[FloatArray, FloatArray], Any] | None = None,
) -> _Trace:
    """Run ``epochs`` steps from ``start = (U0, V0, b0)``, recording the objective of every
    iterate; ``steps = (lr, epochs, schedule)``.

    The weights live in one flat vector (``U``, ``V`` and ``b`` are views into it) so that each
    optimizer step is a few whole-array operations. Stops early if the objective becomes
    non-finite or exceeds ``DIVERGENCE_LIMIT``; the final net is then the best one.
    """
    U0, V0, b0 = start
    lr, epochs, schedule = steps
    split, end = U0.size, U0.size + V0.size
    parts = [U0.ravel(), V0.ravel()] + ([] if b0 is None else [b0.ravel()])
    weights = np.concatenate(parts)
    U = weights[:split].reshape(U0.shape)
    V = weights[split:end].reshape(V0.shape)
    b = None if b0 is None else weights[end:]
    grad = np.empty_like(weights)
    every = max(1, epochs // 200)
    history = np.empty(epochs + 1)
    best_value, best_epoch, best_weights = math.inf, 0, weights.copy()
    recorded, diverged = 0, False
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(epochs + 1):
            if kernel is not None:
                value, grad_U, grad_V = kernel(U, V)
            elif b is None:
                value, grad_U, grad_V = _objective_and_gradient_unchecked(
                    U, V, problem.X, problem.Y, problem.beta
                )
            else:
                value, grad_U, grad_V, grad[end:] = _objective_and_gradients_with_bias(
                    U, V, b, problem.X, problem.Y, problem.beta
                )
            if not (math.isfinite(value) and value <= DIVERGENCE_LIMIT):
                diverged = True
                break
            history[epoch] = value
            recorded = epoch + 1
            if value < best_value:
                best_value, best_epoch = value, epoch
                best_weights[:] = weights
            if epoch < epochs:
                grad[:split] = grad_U.ravel()
                grad[split:end] = grad_V.ravel()
                stepper.step(weights, grad, _step_size(lr, epoch, epochs, schedule))
            if epoch % every == 0:
                bar.update(every, f"objective {best_value:.6g}")

    def as_net(flat: FloatArray) -> TwoLayerReLU:
        U_flat, V_flat = flat[:split].reshape(U0.shape), flat[split:end].reshape(V0.shape)
        if make_net is not None:
            return make_net(U_flat.copy(), V_flat.copy())
        return TwoLayerReLU(U=U_flat, V=V_flat, b=None if b0 is None else flat[end:])

    best_net = as_net(best_weights)
    return _Trace(
        history=history[:recorded].copy(),
        best_value=float(best_value),
        best_epoch=int(best_epoch),
        best_net=best_net,
        final_net=best_net if diverged else as_net(weights),
        diverged=diverged,
    )


# ---------------------------------------------------------------------------- grids
class ProgressBar:
    """A minimal text progress bar on a stream (stderr by default).

    Draws ``[#####-----] k/total label elapsed`` with carriage returns, only when ``enabled``
    and the stream is a terminal, and only once ``delay`` seconds have passed (short jobs print
    nothing). :meth:`close` ends the line if anything was drawn.
    """

    def __init__(
        self,
        total: int,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        delay: float = 0.5,
        width: int = 30,
    ) -> None:
        self.total = max(int(total), 1)
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(enabled) and callable(isatty) and bool(isatty())
        self.delay = delay
        self.width = width
        self.start = time.perf_counter()
        self.count = 0
        self.drawn = False

    def update(self, count: int = 1, label: str = "") -> None:
        """Advance by ``count`` and redraw (if enabled and past the delay)."""
        self.count = min(self.count + count, self.total)
        elapsed = time.perf_counter() - self.start
        if not self.enabled or elapsed < self.delay:
            return
        filled = int(self.width * self.count / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {self.count}/{self.total} {label} {elapsed:.1f}s\x1b[K")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """Finish the line."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def train_grid(
    problem: TrainingProblem,
    widths: Iterable[int],
    seeds: Iterable[int] = (0,),
    *,
    progress: bool = True,
    **kwargs: Any,
) -> list[TrainingRun]:
    """Train every (width, seed) pair; runs are ordered by width, then seed.

    Parameters
    ----------
    problem:
        Data, targets and weight decay.
    widths:
        Widths ``>= 1``.
    seeds:
        Seeds ``>= 0``.
    progress:
        Show a progress bar on stderr when stderr is a terminal and the grid takes longer than
        half a second; ``False`` never shows it.
    **kwargs:
        Passed to :func:`train` (``optimizer``, ``lr``, ``epochs``, ...).

    Returns
    -------
    list of TrainingRun
        ``len(widths) * len(seeds)`` runs.
    """
    width_list = [check_dimension(width, "width") for width in widths]
    seed_list = [check_dimension(seed, "seed", minimum=0) for seed in seeds]
    if not width_list or not seed_list:
        raise InvalidInputError("train_grid needs at least one width and one seed")
    for width in sorted(set(width_list), reverse=True):  # refuse before training anything
        check_training_size(problem, width, kwargs.get("epochs", DEFAULT_EPOCHS))
    bar = ProgressBar(len(width_list) * len(seed_list), enabled=progress)
    runs: list[TrainingRun] = []
    try:
        for width in width_list:
            for seed in seed_list:
                runs.append(train(problem, width, seed=seed, **kwargs))
                bar.update(1, f"m={width} seed={seed} best={runs[-1].best_objective:.5g}")
    finally:
        bar.close()
    return runs


def best_run(runs: Iterable[TrainingRun]) -> TrainingRun:
    """The run with the lowest ``best_objective`` (the first one on ties)."""
    run_list = list(runs)
    if not run_list:
        raise InvalidInputError("best_run needs at least one TrainingRun")
    return min(run_list, key=lambda run: run.best_objective)


# ---------------------------------------------------------------------------- convolutional nets
def train_conv(
    problem: TrainingProblem,
    architecture: Convolution,
    width: int,
    *,
    optimizer: str = "adam",
    lr: float | None = None,
    epochs: int = DEFAULT_EPOCHS,
    seed: int = 0,
    init_scale: float = 1.0,
    schedule: str = "cosine",
) -> TrainingRun:
    r"""Full-batch Adam (or GD with momentum) on :math:`F(U, V)` from a fan-in-scaled Gaussian
    start: :func:`copos.nets.training.descend_from` with this architecture's gradient.  The
    best net (a :class:`ConvReLU`) is an upper bound on the training optimum at width ``width``.
    """
    if not isinstance(architecture, Convolution):
        raise InvalidInputError(
            f"architecture must be a Convolution; got {type(architecture).__name__}"
        )
    architecture.check_problem(problem, problem.c)
    if problem.output_bias:
        raise InvalidInputError("train_conv does not train an output bias; use output_bias=False")
    if optimizer not in DEFAULT_LR:
        raise InvalidInputError(
            f"optimizer must be one of {', '.join(DEFAULT_LR)}; got {optimizer!r}"
        )
    if not isinstance(width, int) or width < 1 or not isinstance(epochs, int) or epochs < 1:
        raise InvalidInputError(f"width and epochs must be ints >= 1; got {width!r}, {epochs!r}")
    rng = np.random.default_rng(seed)
    rows = width * architecture.readout_rows
    U0 = rng.standard_normal((architecture.h, width)) * init_scale / np.sqrt(architecture.h)
    V0 = rng.standard_normal((rows, problem.c)) * init_scale / np.sqrt(rows)
    operator = architecture.operator_of(problem)
    settings = Settings(
        optimizer, DEFAULT_LR[optimizer] if lr is None else float(lr), epochs, schedule
    )

    def kernel(U: FloatArray, V: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        return architecture.objective_and_gradient(U, V, operator, problem.Y, problem.beta)

    return descend_from(
        problem,
        (U0, V0, None),
        settings,
        seed=seed,
        kernel=kernel,
        make_net=lambda U, V: ConvReLU(architecture, U, V),
    )


def train_circular(
    problem: TrainingProblem,
    width: int,
    *,
    lr: float | None = None,
    epochs: int = DEFAULT_EPOCHS,
    seed: int = 0,
    init_scale: float = 1.0,
    shape: tuple[int, ...] | None = None,
) -> TrainingRun:
    r"""Full-batch Adam on the circular model :math:`\sum_j s_j(X(u_j\circledast w_j))_+` with
    weight decay (:mod:`copos.nets.architectures.circular`); the first ``ceil(width/2)`` signs
    are ``+1``, the rest ``-1``; ``shape`` the signal shape (``None``: 1-D, ``(h, w)``: 2-D).
    The best net (a :class:`CircularReLU`) is an upper bound on the circular model's optimum."""
    check_circular_problem(problem)
    shape = signal_shape(problem.d, shape)
    if not isinstance(width, int) or width < 1 or not isinstance(epochs, int) or epochs < 1:
        raise InvalidInputError(f"width and epochs must be ints >= 1; got {width!r}, {epochs!r}")
    rng = np.random.default_rng(seed)
    U0 = rng.standard_normal((problem.d, width)) * init_scale / np.sqrt(problem.d)
    W0 = rng.standard_normal((problem.d, width)) * init_scale / np.sqrt(problem.d)
    signs = np.where(np.arange(width) < (width + 1) // 2, 1.0, -1.0)
    settings = Settings("adam", DEFAULT_LR["adam"] if lr is None else float(lr), epochs, "cosine")

    def kernel(U: FloatArray, W: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        return circular_objective_and_gradient(U, W, signs, problem, shape)

    return descend_from(
        problem,
        (U0, W0, None),
        settings,
        seed=seed,
        kernel=kernel,
        make_net=lambda U, W: CircularReLU(U, W, signs, shape),
    )
