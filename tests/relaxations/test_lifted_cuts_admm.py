"""The cuts inside copos-admm: the ``sign_cost`` hook, bounds, agreement with Clarabel, warm starts."""

from __future__ import annotations

import numpy as np
import pytest

from copos.errors import InvalidInputError
from copos.relaxations import lifted_cuts
from copos.relaxations.lifted import LiftedLayout
from copos.relaxations.lifted_cuts import CUTS_CONE, CutMultipliers, Cuts, solve_lifted_cuts
from copos.solvers.admm.dnn import certified_lower_bound, solve_lifted_dnn_admm
from tests.known import random_problem
from tests.relaxations.test_lifted_cuts import BOUND_TOL, exact_optimum

#: The ADMM route's bound on a fixed cut set lies within this (relative) of Clarabel's.
CLARABEL_AGREEMENT = 5e-3


def test_a_zero_sign_cost_changes_no_number() -> None:
    problem = random_problem(0, n=5, beta=0.1)
    plain = solve_lifted_dnn_admm(problem, max_iters=300, quiet=True)
    zero = solve_lifted_dnn_admm(
        problem,
        max_iters=300,
        quiet=True,
        sign_cost=lambda r2: lambda w, gamma: np.zeros_like(w),
    )
    assert (zero.value, zero.lower_bound, zero.iterations) == (
        plain.value,
        plain.lower_bound,
        plain.iterations,
    )
    assert plain.cuts is None and zero.cuts is not None and not zero.cuts.any()


def test_cut_multipliers_give_a_valid_combination_of_the_cuts() -> None:
    n = 3
    eye = np.eye(2 * n)
    cuts = Cuts.of(np.vstack([eye[1] - eye[0], eye[2]]), eye[[4, 5]], "subadditive")
    multipliers = CutMultipliers(n, inner=5)
    multipliers.extend(cuts)
    prox = multipliers(np.ones(2 * n))
    w = np.zeros((2 * n, 2 * n))
    w[0, 4] = w[4, 0] = 1.0  # W_14 - W_04 >= 0 is violated by w, W_25 >= 0 is not
    K = prox(w, 1.0)
    assert multipliers.lam[0] > 0 and multipliers.lam[1] == 0
    assert np.allclose(K, cuts.multiplier(multipliers.lam))  # sum_k lam_k sym(g_k h_k^T)


@pytest.fixture(scope="module")
def fixed_cuts() -> tuple[object, LiftedLayout, Cuts]:
    """A problem whose DNN bound (0.4496) the cuts of one Clarabel round lift to 0.4748."""
    problem = random_problem(1, n=5, beta=0.1)
    layout = LiftedLayout.from_problem(problem)
    cuts = solve_lifted_cuts(problem, rounds=1).cuts
    assert len(cuts) > 0
    return problem, layout, cuts


def test_admm_route_agrees_with_clarabel_on_the_same_cuts(
    fixed_cuts: tuple[object, LiftedLayout, Cuts],
) -> None:
    problem, layout, cuts = fixed_cuts
    clarabel = lifted_cuts._solve_round(layout, problem, cuts, "CLARABEL").corrected.value
    admm = lifted_cuts._AdmmRounds(layout, 1e-3, 10, 3000)(problem, cuts)
    # both are certified lower bounds on the same program; Clarabel's is its optimum
    assert admm.corrected.value <= clarabel + BOUND_TOL
    assert admm.corrected.value >= clarabel * (1.0 - CLARABEL_AGREEMENT)
    dnn = certified_lower_bound(problem, admm.Z).value  # without the cuts' multipliers
    assert admm.corrected.value > dnn + 1e-3


def test_warm_multipliers_save_iterations(
    fixed_cuts: tuple[object, LiftedLayout, Cuts],
) -> None:
    problem, layout, cuts = fixed_cuts
    rounds = lifted_cuts._AdmmRounds(layout, 1e-3, 10, 3000)
    first = rounds(problem, cuts)  # cold
    state = rounds.state
    again = rounds(problem, cuts)  # warm: the Douglas-Rachford state and the multipliers
    rounds.state, rounds.multipliers.lam = state, np.zeros(len(cuts))
    forgotten = rounds(problem, cuts)  # the state only: the multipliers start at 0
    assert first.info.status == again.info.status == "optimal"
    assert again.iterations < forgotten.iterations
    assert again.iterations < first.iterations


def test_admm_route_lies_between_the_dnn_bound_and_p_star() -> None:
    problem = random_problem(1, n=5, beta=0.1)
    result = solve_lifted_cuts(
        problem, solver="copos-admm", rounds=1, admm_tol=1e-3, admm_iterations=1500, inner=10
    )
    p_star = exact_optimum(problem)
    dnn = solve_lifted_cuts(problem, rounds=0).value  # Clarabel's DNN bound
    assert dnn + 1e-2 <= result.value <= p_star + BOUND_TOL * max(1.0, p_star)
    assert [r.iterations > 0 for r in result.rounds] == [True, True]
    bound = result.bound
    assert (bound.kind, bound.rigour, bound.cone) == ("lower", "rigorous", CUTS_CONE)


@pytest.mark.parametrize("kwargs", [{"admm_tol": 0}, {"inner": 0}, {"admm_iterations": 1.5}])
def test_bad_admm_arguments_raise(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        solve_lifted_cuts(random_problem(0, n=4), solver="copos-admm", **kwargs)  # type: ignore[arg-type]


def test_final_interior_point_round_certifies_the_cuts_the_splitting_selected() -> None:
    problem = random_problem(1, n=5, beta=0.1)
    result = solve_lifted_cuts(
        problem, solver="copos-admm", rounds=2, admm_iterations=500, final_solver="CLARABEL"
    )
    p_star = exact_optimum(problem)
    dnn = solve_lifted_cuts(problem, rounds=0).value
    *splitting, final = result.rounds
    assert [r.iterations > 0 for r in splitting] == [True, True] and final.iterations == 0
    assert result.solve.solver != "copos-admm"  # the last program went to Clarabel
    # the final solve certifies more than the splitting's rounds (500 iterations each)
    assert max(dnn, max(r.bound for r in splitting)) < final.bound == result.value
    assert result.value <= p_star + BOUND_TOL * max(1.0, p_star)
    assert p_star - result.value <= 0.1 * (p_star - dnn)


def test_the_final_round_keeps_the_active_and_the_unseen_cuts() -> None:
    layout = LiftedLayout(X=np.eye(2), c=1)
    rounds = lifted_cuts._AdmmRounds(layout, 1e-3, 1, 10)
    eye = np.eye(4)
    seen = Cuts.of(eye[[0, 1, 2]], eye[[3, 3, 3]], "subadditive")
    rounds.multipliers.extend(seen)
    rounds.multipliers.lam = np.array([0.0, 2.0, 0.0])
    unseen = Cuts.of(eye[[3]], eye[[0]], "pairs")
    kept = rounds.active(seen + unseen)
    assert np.array_equal(kept.g, eye[[1, 3]]) and list(kept.family) == ["subadditive", "pairs"]
