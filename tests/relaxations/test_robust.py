"""The l_inf-robust convex program (Bai, Gautam, Sojoudi §5)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from copos.errors import CoposError
from copos.nets.arrangements import sample_arrangements
from copos.nets.attacks import Box, loss_values, pgd
from copos.nets.problem import TrainingProblem
from copos.relaxations.convex import solve_convex_program
from copos.relaxations.robust import solve_robust_program

EPS = 0.1


def xor_problem(n: int = 10, seed: int = 0) -> TrainingProblem:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    return TrainingProblem.from_data(X, np.sign(X[:, 0] * X[:, 1] + 0.1), beta=0.1, bias=True)


def vertex_robust_objective(result, problem: TrainingProblem) -> float:
    """max over the 2^2 vertices of each box (bias fixed) of the loss, summed, plus weight decay."""
    net, y = result.net, problem.Y[:, 0]
    total = 0.0
    for x, label in zip(problem.X, y, strict=True):
        corners = np.array(
            [x + result.eps * np.array([*s, 0.0]) for s in itertools.product((-1, 1), repeat=2)]
        )
        total += float(
            np.max(loss_values(result.loss, net.predict(corners)[:, 0], np.full(4, label)))
        )
    return total + 0.5 * problem.beta * float(np.sum(net.U**2) + np.sum(net.V**2))


def test_eps_zero_is_the_standard_program() -> None:
    problem = xor_problem()
    robust = solve_robust_program(problem, 0.0, loss="squared")
    standard = solve_convex_program(problem, solver="clarabel")
    assert abs(robust.value - standard.value) <= 1e-7 * max(1.0, standard.value)
    # eps = 0: every box is a point, so the certified robust objective is the clean one
    clean = robust.net.objective(problem)
    assert abs(robust.certified_objective - clean) <= 1e-12 * max(1.0, clean)


@pytest.mark.parametrize("loss", ["squared", "hinge", "logistic"])
def test_recovered_robust_loss_matches_the_box_vertices(loss: str) -> None:
    problem = xor_problem()
    patterns = sample_arrangements(problem.X, 40, seed=1)
    result = solve_robust_program(problem, EPS, loss=loss, arrangements=patterns)
    brute = vertex_robust_objective(result, problem)
    # the net is linear on each box, so the vertex maximum is the true maximum: the certified
    # upper bound is attained, and the program's value equals it up to the solver's accuracy
    assert brute <= result.certified_objective * (1 + 1e-12) + 1e-12
    assert result.certified_objective - brute <= 1e-6 * max(1.0, brute)
    assert abs(result.value - brute) <= 1e-5 * max(1.0, brute)
    bound = result.bound
    assert bound.claimed_kind == "upper" and bound.kind == "upper" and "robust" in bound.quantity
    assert result.network_bound.rigour == "rigorous"


def test_robust_value_grows_with_eps_and_bounds_pgd() -> None:
    problem = xor_problem()
    patterns = sample_arrangements(problem.X, 40, seed=1)
    small = solve_robust_program(problem, 0.02, loss="hinge", arrangements=patterns)
    large = solve_robust_program(problem, EPS, loss="hinge", arrangements=patterns)
    assert large.value >= small.value - 1e-7
    attacked = pgd(large.net, problem.X, problem.Y[:, 0], large.box, "hinge", steps=30)
    assert np.max(np.abs(attacked - problem.X)[:, :2]) <= EPS + 1e-12
    assert np.all(attacked[:, 2] == 1.0)  # the bias column is not perturbed
    pgd_loss = float(
        np.sum(loss_values("hinge", large.net.predict(attacked)[:, 0], problem.Y[:, 0]))
    )
    decay = 0.5 * problem.beta * float(np.sum(large.net.U**2) + np.sum(large.net.V**2))
    assert pgd_loss + decay <= large.certified_objective + 1e-9


def test_the_box_keeps_the_bias_column_fixed() -> None:
    box = Box.of(0.5, 3, fixed_last=True)
    assert box.radius.tolist() == [0.5, 0.5, 0.0]
    assert box.l1(np.array([[1.0, -2.0, 100.0]])).tolist() == [1.5]


@pytest.mark.parametrize(
    ("eps", "loss", "labels"),
    [
        (-0.1, "hinge", None),
        (0.1, "hinge", "real"),
        (0.1, "cross-entropy", None),
        (0.1, "logistic", "two"),
    ],
)
def test_bad_input_raises_a_copos_error(eps: float, loss: str, labels: str | None) -> None:
    problem = xor_problem()
    if labels == "real":
        problem = TrainingProblem(problem.X, problem.Y * 0.5, beta=0.1, bias=True)
    if labels == "two":
        problem = TrainingProblem(problem.X, np.hstack([problem.Y, problem.Y]), beta=0.1, bias=True)
    with pytest.raises(CoposError):
        solve_robust_program(problem, eps, loss=loss)  # type: ignore[arg-type]
