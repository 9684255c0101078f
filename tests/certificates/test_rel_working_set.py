"""REL on a working set priced by the dual norm (copos.certificates.rel_working_set)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copos.certificates.dual_norm import dual_norm
from copos.certificates.rel_working_set import _priced, rel_beta_path, rel_working_set
from copos.relaxations.rel import solve_rel
from tests.catalogue import whitened_labels, zero_is_optimal
from tests.known import random_problem, relative_gap

ROUNDING = 1e-9


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), beta=st.sampled_from([0.05, 0.2, 0.5]))
def test_the_lower_bound_never_exceeds_a_network(seed: int, beta: float) -> None:
    problem = random_problem(seed, n=6, beta=beta)
    result = rel_working_set(problem, max_rounds=2, max_iter=2_000)
    assert result.lower.rigour == "rigorous" and result.lower.kind == "lower"
    assert result.lower.value <= result.upper.value + ROUNDING * max(1.0, result.upper.value)
    assert result.upper.value == result.net.objective(problem)  # a real net's objective
    rng = np.random.default_rng(seed)
    for width in (1, 4):
        U, V = rng.standard_normal((problem.d, width)), rng.standard_normal((width, problem.c))
        net_value = 0.5 * np.sum((np.maximum(problem.X @ U, 0) @ V - problem.Y) ** 2)
        net_value += 0.5 * beta * (np.sum(U**2) + np.sum(V**2))
        assert result.lower.value <= net_value + ROUNDING


def test_known_optima_are_bracketed() -> None:
    for known in (zero_is_optimal(), whitened_labels()):
        result = rel_working_set(known.problem, max_iter=3_000)
        slack = ROUNDING * max(1.0, known.p_star)
        assert result.lower.value <= known.p_star + slack <= result.upper.value + 2 * slack


def test_pricing_adds_a_pattern_when_sigma_exceeds_beta() -> None:
    problem = random_problem(7, n=6, beta=0.05)
    norm = dual_norm(problem.Y, problem)
    assert norm.value > problem.beta
    none = np.zeros((0, problem.n), dtype=bool)
    entering = _priced(norm, problem, none, max_add=100)
    assert entering  # sigma(Y) > beta: some pattern must enter
    best = problem.X @ norm.maximizer > 0
    assert any((mask == best).all() for mask in entering)
    assert not _priced(norm, problem, np.array(entering), max_add=100)  # nothing new twice
    large = problem.with_beta(2.0 * norm.value)
    assert not _priced(dual_norm(large.Y, large), large, none, max_add=100)


def test_the_loop_stops_with_a_proof_and_matches_the_cvxpy_rel() -> None:
    problem = random_problem(11, n=6, beta=0.1)
    result = rel_working_set(problem, eps=1e-6, admm_tol=1e-8, max_iter=5_000)
    assert result.proven and result.relative_gap <= 1e-6
    assert len(result.rounds) >= 1 and result.rounds[-1].upper == result.upper.value
    reference = solve_rel(problem)  # REL over every pattern, Clarabel
    assert reference.value <= result.upper.value + 1e-6 * max(1.0, reference.value)
    if result.complete:  # no pattern left to price: the working-set REL is the whole REL
        assert relative_gap(result.rel.value, reference.value) <= 1e-6


def test_the_beta_path_warm_starts_the_working_set() -> None:
    problem = random_problem(5, n=5, beta=0.2)
    first, second = rel_beta_path(problem, [0.2, 0.1], max_rounds=3, max_iter=1_000)
    assert second.beta == 0.1 and len(second.patterns) >= len(first.patterns)
    assert (second.patterns.patterns[: len(first.patterns)] == first.patterns.patterns).all()
    assert second.lower.value <= second.upper.value + ROUNDING
