"""Valid inequalities for the lifted CP program: validity on every neuron, separation, rounds."""

from __future__ import annotations

import numpy as np
import pytest

from copos.errors import InvalidInputError, SolverError
from copos.nets.problem import TrainingProblem
from copos.recovery.cp_factor import recover_from_rel
from copos.relaxations.lifted import LiftedLayout, solve_lifted_dnn
from copos.relaxations.lifted_cuts import (
    CUTS_CONE,
    Cuts,
    pair_cuts,
    rlt_cuts,
    solve_lifted_cuts,
    subadditive_cuts,
    subadditive_forms,
)
from copos.relaxations.rel import solve_rel
from copos.solvers.admm.dnn import certified_lower_bound
from tests.known import random_problem

#: Rounding allowed in a cut evaluated on an exact rank-one point.
EXACT_TOL = 1e-9
#: A lower bound may exceed p* by this (solver-free numbers, a few flops of rounding).
BOUND_TOL = 1e-6


def neuron_ab(X: np.ndarray, U: np.ndarray) -> np.ndarray:
    """Columns :math:`(a, b) = ((Xu)_+, (-Xu)_+)` of the lifted neurons ``U`` (d×m)."""
    H = X @ U
    return np.vstack([np.maximum(H, 0.0), np.maximum(-H, 0.0)])


def every_pattern_2d(X: np.ndarray) -> np.ndarray:
    r"""Directions ``u`` (2×m) meeting every cell and every ray of the arrangement of ``X`` (d = 2).

    The boundaries :math:`x_i^\top u = 0` are the angles :math:`\arg x_i \pm \pi/2`; the
    directions at these angles and at the midpoints between consecutive ones realize every
    activation pattern (and every face), by enumeration.
    """
    base = np.arctan2(X[:, 1], X[:, 0])
    angles = np.sort(np.mod(np.r_[base + np.pi / 2, base - np.pi / 2], 2 * np.pi))
    gaps = np.diff(np.r_[angles, angles[0] + 2 * np.pi])
    every = np.r_[angles, angles + gaps / 2]
    return np.vstack([np.cos(every), np.sin(every)])


def all_candidate_values(forms: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Every cut of every family at ``W``: entries, forms times coordinates, pairs of forms."""
    return np.r_[W.ravel(), (forms @ W).ravel(), (forms @ W @ forms.T).ravel()]


def degenerate_data() -> np.ndarray:
    """Collinear, repeated and opposite samples: the representations ``x_k = mu x_i`` matter."""
    return np.array([[1.0, 0.0], [2.0, 0.0], [-1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 1.0]])


# --- validity -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_every_cut_holds_on_every_activation_pattern(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((5, 2)) if seed else degenerate_data()
    layout = LiftedLayout(X=X, c=1)
    forms = subadditive_forms(layout, neighbours=5)
    assert len(forms) > 0
    for ab in neuron_ab(X, every_pattern_2d(X)).T:
        assert (forms @ ab).min() >= -EXACT_TOL * max(1.0, np.abs(ab).max())
        values = all_candidate_values(forms, np.outer(ab, ab))
        assert values.min() >= -EXACT_TOL * max(1.0, np.abs(ab).max() ** 2)


def test_every_cut_holds_on_random_networks_with_a_bias_column() -> None:
    rng = np.random.default_rng(7)
    X = np.hstack([rng.standard_normal((6, 2)), np.ones((6, 1))])
    layout = LiftedLayout(X=X, c=2)
    forms = subadditive_forms(layout, neighbours=5)
    assert len(forms) > 0
    for _ in range(20):
        ab = neuron_ab(X, rng.standard_normal((3, 4)))
        W = ab @ ab.T  # a width-4 network: a point of the lifted CP program
        assert all_candidate_values(forms, W).min() >= -EXACT_TOL * max(1.0, np.abs(W).max())


def test_subadditive_forms_are_sublinearity_of_the_relu() -> None:
    X = degenerate_data()
    forms = subadditive_forms(LiftedLayout(X=X, c=1), neighbours=5)
    # x_1 = 2 x_0: a_1 <= 2 a_0, and x_0 = -x_2: a_0 <= b_2
    expected = np.zeros(12)
    expected[[0, 1]] = [2.0, -1.0]
    assert any(np.allclose(form, expected) for form in forms)
    expected = np.zeros(12)
    expected[[0, 6 + 2]] = [-1.0, 1.0]
    assert any(np.allclose(form, expected) for form in forms)
    assert np.all((forms < 0).sum(axis=1) == 1)  # exactly one a_k with coefficient -1


# --- separation -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loose() -> tuple[TrainingProblem, np.ndarray]:
    """A tiny problem whose DNN relaxation is loose (0.326 against p* = 0.574), and its W."""
    problem = random_problem(0, n=6, beta=0.01)
    result = solve_lifted_dnn(problem)
    layout = LiftedLayout.from_problem(problem)
    return problem, result.Lambda[layout.ab, layout.ab]


def test_subadditive_and_pair_cuts_cut_off_the_dnn_solution(
    loose: tuple[TrainingProblem, np.ndarray],
) -> None:
    problem, W = loose
    layout = LiftedLayout.from_problem(problem)
    forms = subadditive_forms(layout)
    for separate in (subadditive_cuts, pair_cuts):
        cuts = separate(layout, W, forms, tol=1e-7, limit=50)
        assert 0 < len(cuts) <= 50
        values = cuts.values(W)
        assert values.max() < -1e-7 and values[0] < -1e-2  # most violated first
        assert np.all(np.diff(values) >= 0)


def test_rlt_cuts_are_implied_by_the_dnn_and_find_negative_entries(
    loose: tuple[TrainingProblem, np.ndarray],
) -> None:
    problem, W = loose
    layout = LiftedLayout.from_problem(problem)
    assert len(rlt_cuts(layout, W, tol=1e-6)) == 0  # only the solver's residual is violated
    broken = W.copy()
    broken[0, 3] = broken[3, 0] = -0.5
    cuts = rlt_cuts(layout, broken, tol=1e-6)
    assert len(cuts) == 1 and cuts.values(broken)[0] == pytest.approx(-0.5)


def test_cut_multiplier_clips_negative_weights_and_is_symmetric() -> None:
    cuts = Cuts.of(np.eye(4)[[0, 1]], np.eye(4)[[2, 3]], "rlt")
    K = cuts.multiplier(np.array([2.0, -1.0]))
    expected = np.zeros((4, 4))
    expected[0, 2] = expected[2, 0] = 1.0
    assert np.array_equal(K, expected)
    assert len(cuts + Cuts.empty(2)) == 2


# --- rounds ---------------------------------------------------------------------------------


def exact_optimum(problem: TrainingProblem) -> float:
    """p* of a rank-2 problem: REL over all patterns, closed by its recovered network."""
    rel = solve_rel(problem)
    upper = recover_from_rel(rel, problem).objective
    assert upper - rel.value <= 1e-5 * max(1.0, upper)
    return upper


@pytest.mark.parametrize(("seed", "beta"), [(0, 0.01), (1, 0.1), (2, 0.01)])
def test_tightened_bound_lies_between_the_dnn_bound_and_p_star(seed: int, beta: float) -> None:
    problem = random_problem(seed, n=6, beta=beta)
    result = solve_lifted_cuts(problem, rounds=3)
    p_star = exact_optimum(problem)
    assert result.dnn_value <= result.value <= p_star + BOUND_TOL * max(1.0, p_star)
    assert result.value == max(r.bound for r in result.rounds)
    # the DNN leaves more than 5 % of p* here; the cuts close at least 90 % of that gap
    assert p_star - result.dnn_value > 0.05 * p_star
    assert p_star - result.value <= 0.1 * (p_star - result.dnn_value)


def test_round_zero_is_the_dnn_relaxation_certified_from_the_solvers_duals() -> None:
    problem = random_problem(3, n=5, beta=0.1)
    result = solve_lifted_cuts(problem, rounds=0)
    dnn = solve_lifted_dnn(problem)
    assert len(result.rounds) == 1 and len(result.cuts) == 0
    # the multipliers read from CVXPY make the certified bound the solver's value (sign check)
    assert result.value == pytest.approx(dnn.value, rel=1e-5)
    assert result.value <= result.rounds[0].value + 1e-6
    bound = result.bound
    assert (bound.kind, bound.rigour, bound.cone) == ("lower", "rigorous", CUTS_CONE)


def test_cut_multiplier_enters_the_certified_bound() -> None:
    problem = random_problem(0, n=6, beta=0.01)
    result = solve_lifted_cuts(problem, rounds=1)
    Z = result.Z
    with_cuts = result.corrected.value
    without = certified_lower_bound(problem, Z).value
    assert with_cuts > without + 1e-3  # the cuts' multipliers are what lifts the bound


@pytest.mark.parametrize(
    "kwargs",
    [{"families": ("bogus",)}, {"families": "pairs"}, {"rounds": -1}, {"per_round": 0}, {"tol": 0}],
)
def test_bad_arguments_raise(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        solve_lifted_cuts(random_problem(0, n=4), **kwargs)  # type: ignore[arg-type]


def test_a_failed_later_round_keeps_the_bounds_certified_before_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from copos.relaxations import lifted_cuts

    problem = random_problem(0, n=6, beta=0.01)
    solve_round = lifted_cuts._solve_round
    calls: list[int] = []

    def failing_after_one(*args: object) -> object:
        calls.append(1)
        if len(calls) > 1:
            raise SolverError("Clarabel: numerical error")
        return solve_round(*args)

    monkeypatch.setattr(lifted_cuts, "_solve_round", failing_after_one)
    result = solve_lifted_cuts(problem, rounds=3)
    assert len(calls) == 2 and len(result.rounds) == 1
    assert result.value == result.dnn_value == result.rounds[0].bound
    assert len(result.cuts) == 0  # the cuts of the last program solved
    calls.append(1)  # round 0 fails now: nothing certified, the error propagates
    with pytest.raises(SolverError):
        solve_lifted_cuts(problem, rounds=3)
