"""TrainingProblem: validated once, then trusted; SVD, rank and arrangements cached (issue 10)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import copos._validation
import copos.nets.problem as problem_module
from copos.certificates.certify import certify, checked_lower_bound
from copos.certificates.dual_norm import dual_norm
from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.arrangements import RANK_TOL, enumerate_arrangements
from copos.nets.patterns import patterns_for
from copos.nets.problem import TrainingProblem
from copos.recovery.rounding import kernel_basis
from copos.relaxations.convex import solve_convex_program
from copos.relaxations.rel import solve_rel


def small_problem(n: int = 8, d: int = 2, seed: int = 0, beta: float = 0.1) -> TrainingProblem:
    rng = np.random.default_rng(seed)
    return TrainingProblem.from_data(rng.standard_normal((n, d)), rng.standard_normal(n), beta)


class Counter:
    """Wraps a function and counts its calls (and keeps their first arguments)."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.calls = 0
        self.arguments: list[Any] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        self.arguments.append(args[0] if args else None)
        return self.function(*args, **kwargs)

    def of(self, X: np.ndarray) -> int:
        """Calls whose argument is ``X`` times a positive number (an SVD of ``X``)."""
        unit = X / np.max(np.abs(X))
        return sum(
            isinstance(a, np.ndarray)
            and a.shape == X.shape
            and np.allclose(a / np.max(np.abs(a)), unit, rtol=1e-14, atol=1e-15)
            for a in self.arguments
        )


@pytest.fixture
def svd_calls(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Every ``numpy.linalg.svd`` call made from now on (copos calls it as ``np.linalg.svd``)."""
    counter = Counter(np.linalg.svd)
    monkeypatch.setattr(np.linalg, "svd", counter)
    return counter


@pytest.fixture
def enumerations(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Exact enumerations by the problem; any call of the array API fails the test."""
    counter = Counter(problem_module.arrangements_of)
    monkeypatch.setattr(problem_module, "arrangements_of", counter)

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("enumerate_arrangements(X) called on a problem's data")

    for module in ("patterns", "arrangements"):
        monkeypatch.setattr(f"copos.nets.{module}.enumerate_arrangements", forbidden, raising=False)
    return counter


@pytest.fixture
def x_validations(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Validations of an array named ``X`` (``as_finite_array(..., "X")``) in any copos module."""
    original = copos._validation.as_finite_array
    counter = Counter(original)

    def counted(value: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "X":
            return counter(value, name, *args, **kwargs)
        return original(value, name, *args, **kwargs)

    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("copos") and getattr(module, "as_finite_array", None) is original:
            monkeypatch.setattr(module, "as_finite_array", counted)
    return counter


def test_caches_are_computed_once(svd_calls: Counter, enumerations: Counter) -> None:
    problem = small_problem()
    assert svd_calls.calls == 0 and enumerations.calls == 0  # lazily
    for _ in range(3):
        problem.scaled_svd, problem.svd, problem.rank, problem.row_space  # noqa: B018
        problem.arrangements()
        problem.arrangements(max_patterns=1_000)  # a limit, not a key of the cache
    assert svd_calls.calls == 1 and enumerations.calls == 1
    assert problem.arrangements() is problem.arrangements()
    problem.arrangements(margin=1e-6)  # other options: their own enumeration, same SVD
    assert svd_calls.calls == 1 and enumerations.calls == 2


def test_every_consumer_reads_the_one_enumeration(
    svd_calls: Counter, enumerations: Counter, x_validations: Counter
) -> None:
    problem = small_problem(n=6)
    x_validations.calls = 0
    patterns = patterns_for(problem, None)
    solve_convex_program(problem)
    solve_rel(problem)
    bound = checked_lower_bound(problem.Y, problem)
    net = TwoLayerReLU(np.ones((2, 1)), np.ones((1, 1)))
    certificate = certify(net, problem, lifted="never")
    assert enumerations.calls == 1 and svd_calls.of(problem.X) == 1  # (cone_pca: small SVDs)
    assert x_validations.calls == 0  # internal code trusts problem.X
    assert bound.rigorous and certificate.rigorous and len(patterns) == len(problem.arrangements())


def test_cached_arrangements_equal_the_array_api() -> None:
    problem = small_problem(n=9, d=3, seed=4)
    cached = problem.arrangements()
    fresh = enumerate_arrangements(problem.X)
    np.testing.assert_array_equal(cached.patterns, fresh.patterns)
    np.testing.assert_array_equal(cached.witnesses, fresh.witnesses)
    assert (cached.rank, cached.method, cached.complete) == (fresh.rank, fresh.method, True)


def test_too_many_patterns_is_refused_without_enumerating(enumerations: Counter) -> None:
    problem = small_problem(n=12, d=3)
    with pytest.raises(InvalidInputError, match="max_patterns"):
        problem.arrangements(max_patterns=10)
    assert enumerations.calls == 0
    with pytest.raises(InvalidInputError, match="margin"):
        problem.arrangements(margin=0.0)


def test_svd_is_that_of_x() -> None:
    rng = np.random.default_rng(1)
    for exponent in (-60, 0, 3, 40):
        problem = TrainingProblem(
            rng.standard_normal((7, 3)) * 1.3 * 2.0**exponent, np.ones(7), 1.0
        )
        U, singular, Vt = problem.svd
        U0, singular0, Vt0 = np.linalg.svd(problem.X, full_matrices=False)
        np.testing.assert_allclose(singular, singular0, rtol=1e-12, atol=0)
        np.testing.assert_allclose(np.abs(U.T @ U0), np.eye(3), atol=1e-12)
        np.testing.assert_allclose(U * singular @ Vt, problem.X, rtol=0, atol=1e-12 * singular0[0])
        assert 1.0 <= np.max(np.abs(problem.scaled_svd.X)) < 2.0


def test_one_rank_threshold_for_problem_arrangements_and_dual_norm() -> None:
    """A singular value of 1e-12 (relative) is below RANK_TOL = 1e-10: rank 2 everywhere."""
    rng = np.random.default_rng(2)
    left, _ = np.linalg.qr(rng.standard_normal((8, 3)))
    X = left @ np.diag([1.0, 0.5, 1e-12]) @ np.linalg.qr(rng.standard_normal((3, 3)))[0]
    problem = TrainingProblem(X, rng.standard_normal(8), 0.1)
    assert RANK_TOL == 1e-10
    assert problem.rank == 2 == problem.arrangements().rank == problem.row_space.shape[1]
    assert dual_norm(problem.Y, problem).rank == 2 == dual_norm(problem.Y, problem.X).rank


def test_with_beta_shares_caches_and_does_not_revalidate(
    svd_calls: Counter, enumerations: Counter, x_validations: Counter
) -> None:
    problem = small_problem()
    patterns = problem.arrangements()
    x_validations.calls = 0
    other = problem.with_beta(0.5)
    assert x_validations.calls == 0
    assert other.beta == 0.5 and problem.beta == 0.1
    assert other.X is problem.X and other.Y is problem.Y
    assert other.arrangements() is patterns and other.scaled_svd is problem.scaled_svd
    assert svd_calls.calls == 1 and enumerations.calls == 1
    for bad in (0.0, -1.0, float("nan"), float("inf"), "0.1", True):
        with pytest.raises(InvalidInputError, match="beta"):
            problem.with_beta(bad)  # type: ignore[arg-type]


def test_regularization_path_enumerates_once(
    svd_calls: Counter, enumerations: Counter, x_validations: Counter
) -> None:
    problem = small_problem(n=7, seed=3)
    values = []
    for beta in (0.01, 0.03, 0.1, 0.3, 1.0):
        point = problem.with_beta(beta)
        values.append(solve_convex_program(point).value)
        assert checked_lower_bound(point.Y, point).rigorous
    assert enumerations.calls == 1 and svd_calls.of(problem.X) == 1
    assert x_validations.calls == 1  # once, in from_data
    assert all(a < b for a, b in zip(values, values[1:], strict=False))  # p* grows with beta


def test_data_and_cached_arrays_are_read_only() -> None:
    X = np.random.default_rng(5).standard_normal((6, 2))
    Y = np.ones(6)
    problem = TrainingProblem(X, Y, 0.1)
    U, singular, Vt = problem.svd
    unit = problem.scaled_svd
    cached = [problem.X, problem.Y, U, singular, Vt, unit.X, unit.U, unit.singular, unit.Vt]
    cached += [problem.row_space, problem.arrangements().patterns, kernel_basis(problem)]
    for array in cached:
        assert not array.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            array[(0,) * array.ndim] = 1.0
    assert X.flags.writeable and Y.flags.writeable  # the caller's arrays are left alone
    assert kernel_basis(problem) is kernel_basis(problem.with_beta(2.0))


def test_caches_are_not_part_of_the_value() -> None:
    problem = small_problem()
    twin = TrainingProblem(problem.X, problem.Y, problem.beta)
    before = repr(problem)
    problem.arrangements(), problem.svd, kernel_basis(problem)  # noqa: B018
    assert repr(problem) == before == repr(twin)
    assert "cache" not in repr(problem)
    assert problem == twin and problem.with_beta(0.1) == twin
    assert problem != problem.with_beta(0.2)
    init = [f.name for f in dataclasses.fields(TrainingProblem) if f.init]
    assert init == ["X", "Y", "beta", "bias", "name", "output_bias"]
    with pytest.raises(TypeError):
        hash(problem)  # as before: the arrays are unhashable


def test_copies_start_with_an_empty_cache(svd_calls: Counter) -> None:
    problem = small_problem()
    problem.arrangements()
    for clone in (pickle.loads(pickle.dumps(problem)), copy.deepcopy(problem)):
        np.testing.assert_array_equal(clone.X, problem.X)
        assert clone.beta == problem.beta and "cache of 0" in repr(clone._cache)
        assert not clone.X.flags.writeable
        np.testing.assert_array_equal(
            clone.arrangements().patterns, problem.arrangements().patterns
        )
    replaced = dataclasses.replace(problem, beta=0.2)  # the public path: checked again
    assert replaced.scaled_svd is not problem.scaled_svd
    assert svd_calls.calls == 4


def test_threads_share_one_computation(svd_calls: Counter) -> None:
    problem = small_problem()
    barrier = threading.Barrier(4)
    results: list[object] = []

    def read() -> None:
        barrier.wait()
        results.append(problem.arrangements())

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert svd_calls.calls == 1 and len(results) == 4
    assert all(result is results[0] for result in results)


def test_rescaled_is_the_same_problem_in_other_units(x_validations: Counter) -> None:
    problem = TrainingProblem.from_data(np.eye(3)[:, :2] * 4.0, [1.0, -2.0, 0.5], 0.3, bias=True)
    x_validations.calls = 0
    scaled = problem.rescaled(4.0, 2.0)
    assert x_validations.calls == 0 and not scaled.bias
    np.testing.assert_array_equal(scaled.X, problem.X / 4.0)
    np.testing.assert_array_equal(scaled.Y, problem.Y / 2.0)
    assert scaled.beta == 0.3 / 8.0
    net = TwoLayerReLU(np.array([[1.0, -0.5], [0.2, 0.3], [0.1, 0.0]]), np.array([[0.7], [-1.1]]))
    a = np.sqrt(4.0 / 2.0)
    moved = TwoLayerReLU(net.U * a, net.V * a)
    assert moved.objective(scaled) == pytest.approx(net.objective(problem) / 4.0, rel=1e-12)
    with pytest.raises(InvalidInputError, match="overflows"):
        problem.rescaled(1e-308, 1.0)
    with pytest.raises(InvalidInputError, match="x_scale"):
        problem.rescaled(0.0, 1.0)


def test_dual_norm_face_bases_are_cached_per_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    import copos.certificates.dual_norm as dual_norm_module

    counter = Counter(dual_norm_module.face_bases)
    monkeypatch.setattr(dual_norm_module, "face_bases", counter)
    problem = small_problem(n=7, d=3, seed=6)
    Z = np.random.default_rng(7).standard_normal((7, 1))
    first = dual_norm(Z, problem, method="exact")
    second = dual_norm(2.0 * Z, problem.with_beta(3.0), method="exact")
    assert counter.calls == 1
    assert second.value == pytest.approx(2.0 * first.value, rel=1e-12)
    array = dual_norm(Z, problem.X, method="exact")  # the array API computes its own
    assert counter.calls == 2 and array.value == first.value and array.lower == first.lower


# ---------------------------------------------------------------------------- output bias
def test_output_bias_is_validated_kept_and_part_of_the_value() -> None:
    problem = small_problem()
    free = problem.with_output_bias()
    assert free.output_bias and not problem.output_bias and free != problem
    assert TrainingProblem.from_data(problem.X, problem.Y, 0.1, output_bias=True).output_bias
    assert TrainingProblem(problem.X, problem.Y, 0.1, output_bias=True).output_bias
    for copied in (pickle.loads(pickle.dumps(free)), copy.deepcopy(free)):
        assert copied.output_bias and np.array_equal(copied.X, free.X)
    assert free.with_beta(0.3).output_bias and free.rescaled(2.0, 4.0).output_bias
    assert free.with_output_bias(False) == problem and "output_bias=True" in repr(free)
    free.svd  # noqa: B018
    assert problem.with_output_bias()._cache is problem._cache  # the flag does not change X
    for bad in ("yes", 1, None):
        with pytest.raises(InvalidInputError, match="output_bias"):
            TrainingProblem.from_data(problem.X, problem.Y, 0.1, output_bias=bad)
        with pytest.raises(InvalidInputError, match="output_bias"):
            TrainingProblem(problem.X, problem.Y, 0.1, output_bias=bad)


def test_one_guard_refuses_an_output_bias_in_the_programs_that_do_not_model_it() -> None:
    problem = small_problem().with_output_bias()
    with pytest.raises(InvalidInputError, match="the REL relaxation does not model an output"):
        problem.require_no_output_bias("the REL relaxation")
    small_problem().require_no_output_bias("anything")  # no output bias: nothing to refuse
    problem_module.require_no_output_bias(object(), "anything")  # not a problem: left alone
    for program in (lambda: solve_convex_program(problem), lambda: solve_rel(problem)):
        with pytest.raises(InvalidInputError, match="output bias"):
            program()
