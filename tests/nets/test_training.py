"""Tests of copos.nets.training: full-batch GD/Adam on the weight-decay objective."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.datasets import planted, spiral
from copos.nets.problem import TrainingProblem
from copos.nets.training import (
    DEFAULT_EPOCHS,
    DEFAULT_LR,
    ProgressBar,
    TrainingRun,
    best_run,
    train,
    train_grid,
)


@pytest.fixture(scope="module")
def problem() -> TrainingProblem:
    return spiral()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"optimizer": "adam"},
        {"optimizer": "adam", "schedule": "constant"},
        {"optimizer": "gd"},
        {"optimizer": "gd", "nesterov": True, "lr": 3e-3},
        {"optimizer": "gd", "momentum": 0.0, "lr": 1e-2},
    ],
)
def test_objective_decreases(problem: TrainingProblem, kwargs: dict[str, object]) -> None:
    run = train(problem, 8, epochs=600, seed=1, **kwargs)  # type: ignore[arg-type]
    assert run.history.shape == (601,)
    assert run.best_objective < 0.8 * run.history[0]
    assert run.final_objective < run.history[0]
    assert not run.diverged


def test_best_net_is_minimum_of_history(problem: TrainingProblem) -> None:
    run = train(problem, 6, epochs=400, seed=3, schedule="constant", lr=0.2)
    assert run.best_objective == pytest.approx(float(np.min(run.history)), rel=1e-15)
    assert run.history[run.best_epoch] == run.best_objective
    assert run.net.objective(problem) == pytest.approx(run.best_objective, rel=1e-12)
    assert run.final_net.objective(problem) == pytest.approx(run.history[-1], rel=1e-12)
    assert (run.net.d, run.net.m, run.net.c) == (problem.d, 6, problem.c)


def test_deterministic_for_a_seed(problem: TrainingProblem) -> None:
    first = train(problem, 5, epochs=300, seed=11)
    second = train(problem, 5, epochs=300, seed=11)
    np.testing.assert_array_equal(first.history, second.history)
    np.testing.assert_array_equal(first.net.U, second.net.U)
    np.testing.assert_array_equal(first.final_net.V, second.final_net.V)
    other = train(problem, 5, epochs=300, seed=12)
    assert not np.array_equal(first.history, other.history)


def test_run_metadata(problem: TrainingProblem) -> None:
    run = train(problem, 4, epochs=50, seed=2, optimizer="gd")
    assert isinstance(run, TrainingRun)
    assert (run.optimizer, run.width, run.seed, run.epochs) == ("gd", 4, 2, 50)
    assert run.lr == DEFAULT_LR["gd"] and run.schedule == "cosine"
    assert run.time >= 0.0
    assert "m=4" in run.summary()


def test_defaults_reach_a_sensible_objective_on_spiral(problem: TrainingProblem) -> None:
    run = train(problem, 10)
    assert run.epochs == DEFAULT_EPOCHS
    zero_net_objective = 0.5 * float(np.sum(problem.Y**2))  # 30
    assert run.best_objective < 11.0 < zero_net_objective


def test_warm_start_does_not_get_worse(problem: TrainingProblem) -> None:
    start = train(problem, 6, epochs=300, seed=0)
    warm = train(problem, 6, epochs=100, init=start.net, lr=1e-3)
    assert warm.history[0] == pytest.approx(start.best_objective, rel=1e-12)
    assert warm.best_objective <= start.best_objective
    with pytest.raises(InvalidInputError, match="init has"):
        train(problem, 7, epochs=5, init=start.net)
    with pytest.raises(InvalidInputError, match="TwoLayerReLU"):
        train(problem, 6, epochs=5, init="net")  # type: ignore[arg-type]


def test_divergence_is_reported() -> None:
    data = planted(seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = train(data, 10, optimizer="gd", lr=10.0, epochs=200, momentum=0.9)
    assert run.diverged
    assert any(issubclass(w.category, RuntimeWarning) for w in caught)
    assert np.all(np.isfinite(run.history)) and len(run.history) < 201
    assert np.all(np.isfinite(run.final_net.U))
    assert run.best_objective == pytest.approx(float(np.min(run.history)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"width": 0}, "width"),
        ({"width": 2.5}, "width"),
        ({"lr": 0.0}, "lr"),
        ({"lr": -1.0}, "lr"),
        ({"epochs": 0}, "epochs"),
        ({"optimizer": "sgd"}, "optimizer"),
        ({"schedule": "step"}, "schedule"),
        ({"momentum": 1.0}, "momentum"),
        ({"betas": (0.9, 1.0)}, "betas"),
        ({"seed": -1}, "seed"),
        ({"init_scale": 0.0}, "init_scale"),
    ],
)
def test_train_validates(problem: TrainingProblem, kwargs: dict[str, object], match: str) -> None:
    arguments: dict[str, object] = {"width": 3, "epochs": 5}
    arguments.update(kwargs)
    width = arguments.pop("width")
    with pytest.raises(InvalidInputError, match=match):
        train(problem, width, **arguments)  # type: ignore[arg-type]


def test_train_rejects_non_problem() -> None:
    with pytest.raises(InvalidInputError, match="TrainingProblem"):
        train(np.ones((3, 3)), 3)  # type: ignore[arg-type]


def test_grid_shape_order_and_best(problem: TrainingProblem) -> None:
    runs = train_grid(problem, [2, 4], seeds=[0, 1, 2], epochs=60, progress=False)
    assert len(runs) == 6
    assert [(r.width, r.seed) for r in runs] == [(w, s) for w in (2, 4) for s in (0, 1, 2)]
    best = best_run(runs)
    assert best.best_objective == min(r.best_objective for r in runs)
    single = train(problem, 4, seed=1, epochs=60)
    np.testing.assert_array_equal(runs[4].history, single.history)


def test_grid_and_best_run_validate(problem: TrainingProblem) -> None:
    with pytest.raises(InvalidInputError, match="width"):
        train_grid(problem, [0], [0], epochs=5)
    with pytest.raises(InvalidInputError, match="at least one"):
        train_grid(problem, [], [0], epochs=5)
    with pytest.raises(InvalidInputError, match="at least one"):
        best_run([])


def test_grid_prints_nothing_when_not_a_tty(
    problem: TrainingProblem, capsys: pytest.CaptureFixture[str]
) -> None:
    train_grid(problem, [2], [0, 1], epochs=20)
    assert capsys.readouterr().err == ""


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_only_on_a_tty() -> None:
    stream = FakeTTY()
    bar = ProgressBar(4, stream=stream, delay=0.0, width=8)
    for _ in range(4):
        bar.update(1, "m=2")
    bar.close()
    text = stream.getvalue()
    assert "\r[########] 4/4 m=2" in text and text.endswith("\n")

    plain = io.StringIO()
    bar = ProgressBar(4, stream=plain, delay=0.0)
    bar.update(2)
    bar.close()
    assert plain.getvalue() == ""

    disabled = FakeTTY()
    bar = ProgressBar(4, stream=disabled, delay=0.0, enabled=False)
    bar.update(2)
    bar.close()
    assert disabled.getvalue() == ""

    delayed = FakeTTY()
    bar = ProgressBar(4, stream=delayed, delay=60.0)
    bar.update(1)
    bar.close()
    assert delayed.getvalue() == ""


def test_best_run_prefers_first_on_ties(problem: TrainingProblem) -> None:
    run = train(problem, 2, epochs=5)
    copy = TrainingRun(**{**run.__dict__, "seed": 99})
    assert best_run([run, copy]) is run
    assert isinstance(run.net, TwoLayerReLU)


def test_a_training_run_reports_a_rigorous_upper_bound() -> None:
    run = train(spiral(n_per_class=3, classes=2), 3, epochs=20, seed=1)
    bound = run.bound
    assert (bound.kind, bound.rigour, bound.value) == ("upper", "rigorous", run.best_objective)
    assert bound.method == "sgd (adam, m=3)" and bound.time == run.time


# ---------------------------------------------------------------------------- output bias
def test_training_with_an_output_bias_fits_it_and_centres_the_residual() -> None:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((20, 2))
    Y = np.maximum(X @ [1.0, -1.0], 0.0)[:, None] + 3.0
    problem = TrainingProblem.from_data(X, Y, 0.1, bias=True, output_bias=True)
    run = train(problem, 10, epochs=3000, seed=0)
    assert run.net.b is not None and run.final_net.b is not None
    assert run.best_objective == pytest.approx(run.net.objective(problem), rel=1e-12)
    assert abs(run.net.residual(problem).mean()) < 1e-3  # the optimality condition for b
    # a free bias can only help: the same training without it ends higher
    plain = train(problem.with_output_bias(False), 10, epochs=3000, seed=0)
    assert plain.net.b is None and run.best_objective < plain.best_objective
    # warm start keeps b; a net with b does not start a problem without one
    warm = train(problem, 10, epochs=5, init=run.net)
    assert warm.history[0] == pytest.approx(run.net.objective(problem), rel=1e-12)
    with pytest.raises(InvalidInputError, match="output bias"):
        train(problem.with_output_bias(False), 10, epochs=5, init=run.net)


def test_output_bias_gradient_matches_finite_differences() -> None:
    from copos.nets.architectures.dense import _objective_and_gradients_with_bias

    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((9, 3)), rng.standard_normal((9, 2))
    U, V, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)
    value, _, _, grad_b = _objective_and_gradients_with_bias(U, V, b, X, Y, 0.3)
    net = TwoLayerReLU(U, V, b)
    problem = TrainingProblem.from_data(X, Y, 0.3, output_bias=True)
    assert value == pytest.approx(net.objective(problem), rel=1e-12)
    for k in range(2):
        step = np.eye(2)[k] * 1e-6
        plus = TwoLayerReLU(U, V, b + step).objective(problem)
        minus = TwoLayerReLU(U, V, b - step).objective(problem)
        assert grad_b[k] == pytest.approx((plus - minus) / 2e-6, rel=1e-6)


def test_training_progress_bar_draws_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    train(spiral(), 5, epochs=400, progress=True)  # fast: nothing drawn before 0.5 s
    times = iter(np.arange(0.0, 1e4, 1.0))
    monkeypatch.setattr("copos.nets.training.time.perf_counter", lambda: float(next(times)))
    train(spiral(), 5, epochs=400, progress=True)
    assert "400/400" in stream.getvalue() and "objective" in stream.getvalue()
