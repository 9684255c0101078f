"""Size guards (#17 item 8): memory estimates before building, refused with TooLargeError."""

from __future__ import annotations

import time
import tracemalloc
from collections import Counter

import networkx as nx
import numpy as np
import pytest

from copos import _memory
from copos._memory import (
    cone_bytes,
    count_monomials,
    format_size,
    memory_limit,
    parrilo_blocks,
    parse_size,
    training_bytes,
)
from copos.cones._polynomial import gram_structure, monomials
from copos.cones.registry import make_cone
from copos.errors import InvalidInputError, TooLargeError
from copos.nets import training
from copos.nets.problem import TrainingProblem
from copos.programs.stability import stability_number, stability_program
from copos.programs.stqp import grid_minimum, standard_quadratic

GiB = 1024**3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4G", 4 * GiB),
        ("500M", 500 * 1024**2),
        ("1.5GiB", 3 * GiB // 2),
        ("2048", 2048),
        (" 1 t ", 1024**4),
        ("64KB", 64 * 1024),
    ],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "G", "12Q", "-1G", "0", "1e3G", "nan", "inf", "0.1"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(InvalidInputError, match="memory size"):
        parse_size(text)


def test_format_size() -> None:
    assert format_size(512) == "512 B"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(34.2 * GiB) == "34.2 GiB"


def test_default_limit_is_half_the_machine() -> None:
    physical = _memory.physical_memory()
    limit = _memory.default_limit()
    assert limit > 0
    if physical is not None:
        assert limit <= physical // 2 + 1


def test_memory_limit_is_scoped() -> None:
    outer = _memory.current_limit()
    with memory_limit(10 * GiB) as limit:
        assert limit == _memory.current_limit() == 10 * GiB
        with memory_limit(None):
            assert _memory.current_limit() == 10 * GiB
    assert _memory.current_limit() == outer
    with pytest.raises(InvalidInputError, match="positive"), memory_limit(0):
        pass


@pytest.mark.parametrize(("n", "r"), [(2, 1), (3, 2), (5, 1), (5, 4), (6, 3), (7, 2)])
def test_parrilo_blocks_match_the_built_gram_structure(n: int, r: int) -> None:
    assert parrilo_blocks(n, r) == dict(Counter(gram_structure(n, r).block_sizes))


def test_count_monomials_matches_enumeration() -> None:
    for n, degree in [(1, 0), (1, 4), (3, 0), (4, 3), (5, 6)]:
        assert count_monomials(n, degree) == len(monomials(n, degree))


@pytest.mark.parametrize("family", ["parrilo", "parrilo-dual"])
def test_psd_blocks_are_those_of_the_compiled_program(family: str) -> None:
    """The PSD blocks the estimate counts are exactly the cones cvxpy hands to the solver."""
    program = stability_program(nx.cycle_graph(5))
    problem, _ = program.cvxpy_problem(make_cone(family, 5, 3))
    dims = problem.get_problem_data("CLARABEL")[0]["dims"]
    assert dict(Counter(dims.psd)) == parrilo_blocks(5, 3)


@pytest.mark.parametrize(("family", "level"), [("grid", 20), ("grid-cp", 20), ("dkp", 6)])
def test_cone_estimate_against_measured_peak(family: str, level: int) -> None:
    """The estimate covers the traced Python/NumPy peak of a real solve, within a factor 8.

    (The solver's own memory is not traced; the docstring of copos._memory gives the RSS
    calibration.)
    """
    graph = nx.cycle_graph(5)
    stability_number(graph, "parrilo", 0)  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        stability_number(graph, family, level)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    estimate = cone_bytes(family, 5, level)
    assert peak <= estimate <= 8 * peak, (estimate, peak)


def test_training_estimate_against_measured_peak() -> None:
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((50, 3)), rng.standard_normal((50, 2))
    problem = TrainingProblem.from_data(X, Y, 0.1)
    tracemalloc.start()
    try:
        training.train(problem, 400, epochs=3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    estimate = training_bytes(50, 3, 2, 400, 3)
    assert peak <= estimate <= 4 * peak, (estimate, peak)


@pytest.mark.parametrize(("family", "level"), [("parrilo", 9), ("parrilo-dual", 9), ("grid", 200)])
def test_huge_cones_are_refused_before_building(family: str, level: int) -> None:
    start = time.perf_counter()
    with memory_limit(8 * GiB), pytest.raises(TooLargeError, match=r"GiB.*limit 8 GiB"):
        stability_number(nx.cycle_graph(5), family, level)
    elapsed = time.perf_counter() - start
    print(f"{family}:{level} refused in {elapsed:.4f} s")


def test_refusal_quotes_estimate_and_limit() -> None:
    with memory_limit(1024**2), pytest.raises(TooLargeError) as info:
        make_cone("parrilo", 5, 3)
    message = str(info.value)
    assert format_size(cone_bytes("parrilo", 5, 3)) in message and "1 MiB" in message
    assert isinstance(info.value, InvalidInputError)


def test_stqp_grid_guard() -> None:
    Q = np.eye(5)
    with memory_limit(GiB), pytest.raises(TooLargeError, match="Delta"):
        grid_minimum(Q, 400)
    with memory_limit(GiB), pytest.raises(TooLargeError):
        standard_quadratic(Q, "dkp", 60)


def test_training_width_guard() -> None:
    problem = TrainingProblem.from_data(np.ones((4, 2)), np.ones((4, 1)), 0.1)
    with pytest.raises(TooLargeError, match="width-1000000000"):
        training.train(problem, 10**9, epochs=1)


def test_train_grid_refuses_before_training_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = TrainingProblem.from_data(np.ones((4, 2)), np.ones((4, 1)), 0.1)
    trained: list[int] = []
    monkeypatch.setattr(training, "train", lambda problem, width, **kw: trained.append(width))
    with pytest.raises(TooLargeError):
        training.train_grid(problem, [2, 10**9], progress=False)
    assert trained == []


def test_lifted_dnn_guard_points_to_the_admm() -> None:
    from copos.nets.datasets import planted
    from copos.relaxations.lifted import solve_lifted_dnn

    problem = planted(n=6, d=2, c=1, seed=0, beta=0.1)
    estimate = _memory.lifted_dnn_bytes(6, 2, 1)
    assert estimate == 96 * (9 * 10 // 2) ** 2 + 72 * 4 * 36
    assert _memory.lifted_dnn_bytes(6, 2, 1, "full") > estimate
    with memory_limit(estimate - 1), pytest.raises(TooLargeError, match="copos-admm"):
        solve_lifted_dnn(problem, solver="clarabel")
    with memory_limit(estimate):
        assert solve_lifted_dnn(problem, solver="clarabel").value >= 0


def test_training_epochs_count_in_the_estimate() -> None:
    problem = TrainingProblem.from_data(np.ones((4, 2)), np.ones((4, 1)), 0.1)
    with memory_limit(GiB), pytest.raises(TooLargeError, match="width-2"):
        training.train(problem, 2, epochs=10**12)  # the objective history alone is 8 TB


def test_full_gram_estimate_is_one_block_of_all_half_degree_monomials() -> None:
    from copos.cones import Parrilo

    program = stability_program(nx.cycle_graph(5))
    problem, _ = program.cvxpy_problem(Parrilo(5, 2, gram="full"))
    dims = problem.get_problem_data("CLARABEL")[0]["dims"]
    assert dims.psd == [count_monomials(5, 4)]
    assert cone_bytes("parrilo-full", 5, 2) > cone_bytes("parrilo", 5, 2)


def test_cones_built_directly_are_guarded_too() -> None:
    from copos.cones import Parrilo
    from copos.cones.polya import DeKlerkPasechnikDual
    from copos.cones.polyhedral import SimplexGridCP

    with memory_limit(8 * GiB):
        for build in (
            lambda: Parrilo(5, 9),
            lambda: Parrilo(5, 7, gram="full"),
            lambda: DeKlerkPasechnikDual(40, 8),
            lambda: SimplexGridCP(5, 200),
        ):
            with pytest.raises(TooLargeError):
                build()
        assert Parrilo(5, 7).level == 7  # 3.1 GiB: allowed, and only estimated, not solved


def test_atom_cones_refuse_complex_atoms() -> None:  # #17 item 10, same family
    from copos.cones.polyhedral import AtomCOP

    with pytest.raises(InvalidInputError, match="complex"):
        AtomCOP(np.eye(3) * (1 + 1j))
