"""Tests of copos.nets.architectures.dense: the two-layer ReLU network, its objectives and files."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from copos.certificates.certify import certify
from copos.errors import CoposError, DataFileError, InvalidInputError
from copos.nets.architectures.dense import (
    TORCH_HINT,
    TwoLayerReLU,
    init_weights,
    load_torch,
    objective_and_gradient,
    save_torch,
)
from copos.nets.problem import TrainingProblem
from copos.nets.torch_objective import (
    beta_from_weight_decay,
    objective_from_torch_loss,
    parameter_groups,
    weight_decay_of,
)
from copos.relaxations.convex import solve_convex_program

HAVE_TORCH = importlib.util.find_spec("torch") is not None


def small_net() -> TwoLayerReLU:
    # u1 = (1, 0), u2 = (-1, 2); v1 = (1, 2), v2 = (3, -1)
    return TwoLayerReLU(
        U=np.array([[1.0, -1.0], [0.0, 2.0]]), V=np.array([[1.0, 2.0], [3.0, -1.0]])
    )


def small_problem(beta: float = 0.5) -> TrainingProblem:
    X = np.array([[1.0, 1.0], [2.0, -1.0], [-1.0, 0.0]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    return TrainingProblem.from_data(X, Y, beta)


def random_problem(n: int, d: int, c: int, seed: int, beta: float = 0.3) -> TrainingProblem:
    rng = np.random.default_rng(seed)
    return TrainingProblem.from_data(rng.standard_normal((n, d)), rng.standard_normal((n, c)), beta)


def random_net(d: int, m: int, c: int, seed: int) -> TwoLayerReLU:
    U, V = init_weights(d, m, c, rng=np.random.default_rng(seed))
    return TwoLayerReLU(U=U, V=V)


# ---------------------------------------------------------------------------- construction
def test_sizes_and_readonly() -> None:
    net = small_net()
    assert (net.d, net.m, net.c) == (2, 2, 2)
    assert not net.U.flags.writeable and not net.V.flags.writeable
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.U = np.zeros((2, 2))  # type: ignore[misc]


def test_construction_copies_input() -> None:
    U = np.ones((2, 3))
    net = TwoLayerReLU(U=U, V=np.ones((3, 1)))
    U[0, 0] = 5.0
    assert net.U[0, 0] == 1.0


@pytest.mark.parametrize(
    ("U", "V", "match"),
    [
        (np.ones((2, 3)), np.ones((2, 1)), "same width"),
        (np.ones(3), np.ones((3, 1)), "2 axes"),
        (np.array([[np.nan, 1.0]]), np.ones((2, 1)), "NaN"),
        (np.ones((2, 2)), np.array([[np.inf], [1.0]]), "NaN or inf"),
        (np.ones((0, 2)), np.ones((2, 1)), "d >= 1"),
        ([["a"]], np.ones((1, 1)), "numeric"),
    ],
)
def test_invalid_weights(U: object, V: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        TwoLayerReLU(U=U, V=V)  # type: ignore[arg-type]


def test_zero_width_network_predicts_zero() -> None:
    net = TwoLayerReLU(U=np.zeros((3, 0)), V=np.zeros((0, 2)))
    assert net.m == 0
    np.testing.assert_array_equal(net.predict(np.ones((4, 3))), np.zeros((4, 2)))


# ---------------------------------------------------------------------------- evaluation
def test_predict_hand_computed() -> None:
    net = small_net()
    X = np.array([[1.0, 1.0], [2.0, -1.0], [-1.0, 0.0]])
    # XU = [[1, 1], [2, -4], [-1, 1]] -> relu [[1, 1], [2, 0], [0, 1]]
    # times V = [[1, 2], [3, -1]]
    expected = np.array([[4.0, 1.0], [2.0, 4.0], [3.0, -1.0]])
    np.testing.assert_allclose(net.predict(X), expected)
    np.testing.assert_allclose(net.predict(X[0]), expected[0])


def test_predict_shape_error() -> None:
    with pytest.raises(InvalidInputError, match=r"shape \(k, 2\)"):
        small_net().predict(np.ones((3, 3)))


def test_objectives_hand_computed() -> None:
    net, problem = small_net(), small_problem(beta=0.5)
    # residual f - Y = [[3, 1], [2, 3], [3, -1]] -> squared norm 33
    assert net.loss(problem) == pytest.approx(16.5)
    # ||U||^2 = 6, ||V||^2 = 15
    assert net.objective(problem) == pytest.approx(16.5 + 0.25 * 21)
    # ||u1|| ||v1|| = sqrt(5), ||u2|| ||v2|| = sqrt(5) sqrt(10)
    path = np.sqrt(5) + np.sqrt(50)
    assert net.path_norm == pytest.approx(path)
    assert net.path_norm_objective(problem) == pytest.approx(16.5 + 0.5 * path)
    np.testing.assert_allclose(net.residual(problem), -np.array([[3, 1], [2, 3], [3, -1.0]]))


def test_objective_rejects_incompatible_problem() -> None:
    problem = random_problem(5, 3, 2, seed=0)
    with pytest.raises(InvalidInputError, match="d=2, c=2 but the problem has d=3"):
        small_net().objective(problem)
    with pytest.raises(InvalidInputError, match="TrainingProblem"):
        small_net().objective("not a problem")  # type: ignore[arg-type]


def test_path_norm_objective_below_weight_decay_objective() -> None:
    problem = random_problem(8, 3, 2, seed=1)
    for seed in range(5):
        net = random_net(3, 6, 2, seed)
        assert net.path_norm_objective(problem) <= net.objective(problem) + 1e-12
        balanced = net.rebalanced()
        assert balanced.objective(problem) == pytest.approx(balanced.path_norm_objective(problem))
        assert balanced.objective(problem) == pytest.approx(net.path_norm_objective(problem))


# ---------------------------------------------------------------------------- rebalancing
weights = st.floats(min_value=-10, max_value=10, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 4),
    m=st.integers(1, 6),
    c=st.integers(1, 3),
    log_scales=st.lists(st.floats(-3, 3), min_size=6, max_size=6),
)
def test_rebalancing_property(seed: int, d: int, m: int, c: int, log_scales: list[float]) -> None:
    rng = np.random.default_rng(seed)
    scales = np.exp(np.array(log_scales[:m]))  # badly balanced neurons
    net = TwoLayerReLU(
        U=rng.standard_normal((d, m)) * scales, V=rng.standard_normal((m, c)) / scales[:, None]
    )
    problem = TrainingProblem.from_data(
        rng.standard_normal((7, d)), rng.standard_normal((7, c)), 0.2
    )
    balanced = net.rebalanced()
    np.testing.assert_allclose(
        balanced.predict(problem.X), net.predict(problem.X), rtol=1e-9, atol=1e-9
    )
    assert balanced.objective(problem) <= net.objective(problem) * (1 + 1e-12) + 1e-12
    u_norms, v_norms = balanced.neuron_norms
    np.testing.assert_allclose(u_norms, v_norms, rtol=1e-9)
    assert balanced.path_norm_objective(problem) == pytest.approx(
        balanced.objective(problem), rel=1e-10
    )


@settings(max_examples=40, deadline=None)
@given(
    U=st.lists(st.lists(weights, min_size=3, max_size=3), min_size=2, max_size=2),
    V=st.lists(st.lists(weights, min_size=1, max_size=1), min_size=3, max_size=3),
)
def test_rebalancing_arbitrary_weights(U: list[list[float]], V: list[list[float]]) -> None:
    net = TwoLayerReLU(U=np.array(U), V=np.array(V))
    X = np.array([[1.0, 0.5], [-0.3, 2.0], [0.7, -1.2]])
    problem = TrainingProblem.from_data(X, np.ones((3, 1)), 0.1)
    balanced = net.rebalanced()
    np.testing.assert_allclose(balanced.predict(X), net.predict(X), rtol=1e-9, atol=1e-9)
    assert balanced.objective(problem) <= net.objective(problem) + 1e-9


def test_rebalancing_keeps_zero_neurons_as_zeros() -> None:
    U = np.array([[1.0, 0.0, 2.0], [1.0, 0.0, 0.0]])
    V = np.array([[4.0], [3.0], [0.0]])  # neuron 2: u = 0; neuron 3: v = 0
    balanced = TwoLayerReLU(U=U, V=V).rebalanced()
    assert balanced.m == 3
    np.testing.assert_array_equal(balanced.U[:, 1:], 0.0)
    np.testing.assert_array_equal(balanced.V[1:], 0.0)
    # ||u1|| = sqrt(2), ||v1|| = 4 -> both become sqrt(4 sqrt 2)
    np.testing.assert_allclose(balanced.neuron_norms[0][0], np.sqrt(4 * np.sqrt(2)))
    np.testing.assert_allclose(balanced.neuron_norms[1][0], np.sqrt(4 * np.sqrt(2)))


# ---------------------------------------------------------------------------- pruning
def test_pruned_drops_zero_and_inactive_neurons() -> None:
    U = np.array([[1.0, 0.0, -1.0, 1.0], [0.0, 0.0, -1.0, 1.0]])
    V = np.array([[1.0], [5.0], [2.0], [0.0]])
    net = TwoLayerReLU(U=U, V=V)
    pruned = net.pruned()
    assert pruned.m == 2  # neuron 2 (u = 0) and neuron 4 (v = 0) dropped
    np.testing.assert_array_equal(pruned.U, U[:, [0, 2]])
    X = np.array([[1.0, 1.0], [2.0, 0.5]])  # neuron 3 is inactive on these rows
    on_data = net.pruned(X=X)
    assert on_data.m == 1
    np.testing.assert_allclose(on_data.predict(X), net.predict(X))


def test_pruned_tolerance_and_errors() -> None:
    net = TwoLayerReLU(U=np.array([[1.0, 1e-3]]), V=np.array([[1.0], [1e-3]]))
    assert net.pruned().m == 2
    assert net.pruned(tol=1e-5).m == 1
    assert net.pruned(tol=10.0).m == 0
    with pytest.raises(InvalidInputError, match="tol"):
        net.pruned(tol=-1.0)
    with pytest.raises(InvalidInputError, match="tol"):
        net.pruned(tol=float("nan"))
    with pytest.raises(InvalidInputError, match="columns"):
        net.pruned(X=np.ones((2, 3)))


# ---------------------------------------------------------------------------- gradient
def test_objective_and_gradient_matches_objective_and_finite_differences() -> None:
    problem = random_problem(12, 4, 3, seed=3)
    net = random_net(4, 5, 3, seed=4)
    value, grad_U, grad_V = objective_and_gradient(net.U, net.V, problem)
    assert value == pytest.approx(net.objective(problem), rel=1e-13)
    assert grad_U.shape == net.U.shape and grad_V.shape == net.V.shape
    h = 1e-6
    for name, weights_, grad in (("U", net.U, grad_U), ("V", net.V, grad_V)):
        numeric = np.zeros_like(weights_)
        for index in np.ndindex(weights_.shape):
            plus, minus = weights_.copy(), weights_.copy()
            plus[index] += h
            minus[index] -= h
            args_plus = (plus, net.V) if name == "U" else (net.U, plus)
            args_minus = (minus, net.V) if name == "U" else (net.U, minus)
            numeric[index] = (
                TwoLayerReLU(*args_plus).objective(problem)
                - TwoLayerReLU(*args_minus).objective(problem)
            ) / (2 * h)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)


def test_objective_and_gradient_validates() -> None:
    problem = random_problem(5, 2, 1, seed=0)
    with pytest.raises(InvalidInputError):
        objective_and_gradient(np.ones((3, 2)), np.ones((2, 1)), problem)


def test_init_weights_deterministic_and_scaled() -> None:
    a = init_weights(4, 50, 2, rng=np.random.default_rng(7), scale=2.0)
    b = init_weights(4, 50, 2, rng=np.random.default_rng(7), scale=2.0)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[0].shape == (4, 50) and a[1].shape == (50, 2)
    assert np.std(a[0]) == pytest.approx(2.0 / 2.0, rel=0.3)


# ---------------------------------------------------------------------------- files
def test_save_load_roundtrip(tmp_path: Path) -> None:
    net = random_net(3, 4, 2, seed=5)
    path = net.save(tmp_path / "net.npz")
    loaded = TwoLayerReLU.load(path)
    np.testing.assert_array_equal(loaded.U, net.U)
    np.testing.assert_array_equal(loaded.V, net.V)
    assert sorted(os.listdir(tmp_path)) == ["net.npz"]  # no temporary file left behind
    # overwrite in place, also with a name without the .npz suffix
    other = random_net(3, 2, 2, seed=6)
    other.save(path)
    assert TwoLayerReLU.load(path).m == 2
    plain = other.save(tmp_path / "weights")
    assert plain.name == "weights" and TwoLayerReLU.load(plain).m == 2


def test_failed_save_leaves_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = random_net(2, 3, 1, seed=0).save(tmp_path / "net.npz")
    before = path.read_bytes()

    def broken_savez(handle: object, **arrays: object) -> None:
        handle.write(b"PK partial")  # type: ignore[attr-defined]
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(RuntimeError, match="disk full"):
        random_net(2, 5, 1, seed=1).save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["net.npz"]


def test_save_into_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="does not exist"):
        small_net().save(tmp_path / "nope" / "net.npz")


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="does not exist"):
        TwoLayerReLU.load(tmp_path / "missing.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip file")
    with pytest.raises(DataFileError, match="cannot read"):
        TwoLayerReLU.load(garbage)
    only_u = tmp_path / "only_u.npz"
    np.savez(only_u, U=np.ones((2, 2)))
    with pytest.raises(DataFileError, match="missing array"):
        TwoLayerReLU.load(only_u)
    mismatched = tmp_path / "mismatched.npz"
    np.savez(mismatched, U=np.ones((2, 3)), V=np.ones((2, 1)))
    with pytest.raises(DataFileError, match="same m"):
        TwoLayerReLU.load(mismatched)
    flat = tmp_path / "flat.npz"
    np.savez(flat, U=np.ones(3), V=np.ones((3, 1)))
    with pytest.raises(DataFileError, match="expected U"):
        TwoLayerReLU.load(flat)
    nan = tmp_path / "nan.npz"
    np.savez(nan, U=np.array([[np.nan]]), V=np.ones((1, 1)))
    with pytest.raises(InvalidInputError, match="NaN"):
        TwoLayerReLU.load(nan)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, U=np.array([{"a": 1}], dtype=object), V=np.ones((1, 1)))
    with pytest.raises(DataFileError):
        TwoLayerReLU.load(pickled)


# ---------------------------------------------------------------------------- torch
def test_torch_missing_gives_install_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(CoposError, match="pip install torch"):
        TwoLayerReLU.from_torch(object())
    with pytest.raises(CoposError, match="pip install torch"):
        load_torch(tmp_path / "net.pt")
    assert "PyTorch" in TORCH_HINT


def test_from_torch_real_module_or_clear_error(tmp_path: Path) -> None:
    if not HAVE_TORCH:
        with pytest.raises(CoposError) as info:
            TwoLayerReLU.from_torch(object())
        assert "pip install torch" in str(info.value)
        assert not isinstance(info.value, InvalidInputError)
        return
    import torch

    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(3, 5, bias=False), torch.nn.ReLU(), torch.nn.Linear(5, 2, bias=False)
    ).double()
    net = TwoLayerReLU.from_torch(module)
    assert (net.d, net.m, net.c) == (3, 5, 2)
    X = np.random.default_rng(0).standard_normal((6, 3))
    with torch.no_grad():
        expected = module(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-12)
    torch.save(module, tmp_path / "net.pt")
    np.testing.assert_allclose(load_torch(tmp_path / "net.pt").U, net.U)
    torch.save(module.state_dict(), tmp_path / "state.pt")
    np.testing.assert_allclose(load_torch(tmp_path / "state.pt").V, net.V)
    with pytest.raises(DataFileError, match="does not exist"):
        load_torch(tmp_path / "missing.pt")
    (tmp_path / "bad.pt").write_bytes(b"garbage")
    with pytest.raises(DataFileError, match="cannot read"):
        load_torch(tmp_path / "bad.pt")
    wrong = [
        torch.nn.Linear(3, 5, bias=False),
        # with biases it converts now (issue 11); three layers and a ReLU at the end do not
        torch.nn.Sequential(
            torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2), torch.nn.ReLU()
        ),
        torch.nn.Sequential(
            torch.nn.Linear(3, 5, bias=False), torch.nn.Tanh(), torch.nn.Linear(5, 2, bias=False)
        ),
        torch.nn.Sequential(torch.nn.Linear(3, 5, bias=False), torch.nn.ReLU()),
    ]
    for module_ in wrong:
        with pytest.raises(InvalidInputError, match="expects|bias"):
            TwoLayerReLU.from_torch(module_)


# ---------------------------------------------------------------------------- #17 item 10
@pytest.mark.parametrize(
    ("X", "Y"),
    [
        (np.ones((0, 2)), np.ones((0, 1))),  # no samples
        (np.ones((3, 0)), np.ones((3, 1))),  # no features
        (np.ones((3, 2)), np.ones((3, 0))),  # no outputs
    ],
)
def test_training_problem_built_directly_rejects_empty_data(X: np.ndarray, Y: np.ndarray) -> None:
    with pytest.raises(InvalidInputError, match="non-empty"):
        TrainingProblem(X=X, Y=Y, beta=0.1)
    with pytest.raises(InvalidInputError, match="non-empty"):
        TrainingProblem.from_data(X, Y, 0.1)


def test_training_problem_refuses_complex_data() -> None:
    X = np.ones((3, 2)) + 1e-3j
    with pytest.raises(InvalidInputError, match="complex"):
        TrainingProblem.from_data(X, np.ones(3), 0.1)
    with pytest.raises(InvalidInputError, match="complex"):
        TrainingProblem(X=np.ones((3, 2)), Y=np.ones((3, 1)) * (1 + 1j), beta=0.1)
    real = TrainingProblem.from_data(np.ones((3, 2)) + 0j, np.ones(3), 0.1)  # Im = 0 exactly
    assert real.X.dtype == np.float64 and real.Y.shape == (3, 1)


def test_training_problem_built_directly_accepts_a_column_y() -> None:
    problem = TrainingProblem(X=np.ones((3, 2)), Y=np.ones(3), beta=0.1)
    assert problem.Y.shape == (3, 1)


def test_network_weights_refuse_complex_values(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="complex"):
        TwoLayerReLU(U=np.ones((2, 3)) * 1j, V=np.ones((3, 1)))
    np.savez(tmp_path / "net.npz", U=np.ones((2, 3)) + 0.5j, V=np.ones((3, 1)))
    with pytest.raises(CoposError, match="complex"):
        TwoLayerReLU.load(tmp_path / "net.npz")


# ---------------------------------------------------------------------------- output bias
def test_output_bias_is_validated_predicted_saved_and_not_decayed(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    U, V, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), np.array([1.5, -2.0])
    net = TwoLayerReLU(U, V, b)
    X, Y = rng.standard_normal((7, 3)), rng.standard_normal((7, 2))
    np.testing.assert_allclose(net.predict(X), np.maximum(X @ U, 0.0) @ V + b, rtol=1e-15)
    problem = TrainingProblem.from_data(X, Y, 0.3, output_bias=True)
    plain = TwoLayerReLU(U, V)
    expected = 0.5 * np.sum((net.predict(X) - Y) ** 2) + 0.15 * (np.sum(U**2) + np.sum(V**2))
    assert net.objective(problem) == pytest.approx(expected, rel=1e-14)  # b is not decayed
    assert plain.objective(problem) == plain.objective(problem.with_output_bias(False))
    with pytest.raises(InvalidInputError, match="output bias"):
        net.objective(problem.with_output_bias(False))
    for bad in (np.ones(3), np.ones((2, 1)), [np.nan, 0.0]):
        with pytest.raises(InvalidInputError):
            TwoLayerReLU(U, V, bad)
    assert not net.b.flags.writeable
    for same in (net.rebalanced(), net.pruned(), TwoLayerReLU.load(net.save(tmp_path / "b.npz"))):
        np.testing.assert_array_equal(same.b, b)
    assert TwoLayerReLU.load(plain.save(tmp_path / "plain.npz")).b is None  # old layout
    np.savez(tmp_path / "wrong.npz", U=U, V=V, b=np.ones(3))
    with pytest.raises(DataFileError, match="b"):
        TwoLayerReLU.load(tmp_path / "wrong.npz")
    best = plain.with_optimal_output_bias(problem)
    assert abs(best.residual(problem).sum(axis=0)).max() < 1e-12
    assert best.objective(problem) <= net.objective(problem)


def test_torch_net_with_biases_converts_or_clear_error(tmp_path: Path) -> None:
    if not HAVE_TORCH:
        with pytest.raises(CoposError, match="pip install torch"):
            save_torch(TwoLayerReLU(np.ones((2, 1)), np.ones((1, 1))), tmp_path / "net.pt")
        return
    import torch

    torch.manual_seed(1)
    module = torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2)
    ).double()
    net = TwoLayerReLU.from_torch(module)
    assert (net.d, net.m, net.c) == (4, 5, 2) and net.b is not None
    X = np.random.default_rng(0).standard_normal((6, 3))
    with torch.no_grad():
        expected = module(torch.from_numpy(X)).numpy()
    ones = np.hstack([X, np.ones((6, 1))])  # the first-layer bias meets the ones column
    np.testing.assert_allclose(net.predict(ones), expected, rtol=1e-12)
    torch.save(module.state_dict(), tmp_path / "state.pt")
    np.testing.assert_array_equal(load_torch(tmp_path / "state.pt").b, net.b)
    save_torch(net, tmp_path / "net.pt", input_bias=True)
    back = load_torch(tmp_path / "net.pt")
    np.testing.assert_array_equal(back.U, net.U)
    np.testing.assert_array_equal(back.b, net.b)
    first_only = torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2, bias=False)
    )
    assert TwoLayerReLU.from_torch(first_only).b is None
    with pytest.raises(InvalidInputError, match="input_bias"):
        TwoLayerReLU(np.ones((1, 2)), np.ones((2, 1))).to_torch(input_bias=True)


def _brute_force_with_output_bias(X: np.ndarray, y: np.ndarray, beta: float) -> float:
    """p* with a ones column and a free output bias: min over b of the exact convex program
    (convex in b; a bias error db costs O(n db^2), so tol = 1e-5 is ample)."""

    def optimum(b: float) -> float:
        problem = TrainingProblem.from_data(X, y - b, beta, bias=True)
        return solve_convex_program(problem, solver="clarabel").value

    return float(minimize_scalar(optimum, bracket=(0.0, 1.0), tol=1e-5).fun)


def test_torch_trained_net_maps_to_the_copos_objective_and_gets_no_false_verdict() -> None:
    if not HAVE_TORCH:
        with pytest.raises(CoposError, match="pip install torch"):
            parameter_groups(object(), 1e-3)
        return
    import torch

    rng = np.random.default_rng(2)
    X = rng.uniform(-1.0, 1.0, (12, 1))
    y = np.abs(X[:, 0]) + 0.5 + 0.05 * rng.standard_normal(12)
    lam = 0.02
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(1, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)
    ).double()
    optimizer = torch.optim.Adam(parameter_groups(module, lam), lr=0.02)
    assert weight_decay_of(optimizer, module) == lam
    inputs, targets = torch.from_numpy(X), torch.from_numpy(y[:, None])
    mse = torch.nn.MSELoss(reduction="mean")
    for _ in range(400):
        optimizer.zero_grad()
        mse(module(inputs), targets).backward()
        optimizer.step()
    with torch.no_grad():
        decayed = sum(p.square().sum() for p in parameter_groups(module, lam)[0]["params"])
        loss = float(mse(module(inputs), targets) + lam / 2 * decayed)
    beta = beta_from_weight_decay(lam, n=12, c=1)
    assert beta == 12 * 1 * lam / 2
    problem = TrainingProblem.from_data(X, y, beta, bias=True, output_bias=True)
    net = TwoLayerReLU.from_torch(module)
    objective = net.objective(problem)
    assert objective_from_torch_loss(loss, 12, 1) == pytest.approx(objective, rel=1e-10)
    certificate = certify(net, problem, eps=1e-3, lifted="never")
    p_star = _brute_force_with_output_bias(X, y, beta)
    assert certificate.lower_bound <= p_star + 1e-7 <= certificate.objective + 2e-7
    if certificate.optimal:  # a certified net is within eps of the truth
        assert certificate.objective - p_star <= 1e-3 * max(1.0, certificate.objective)


# --- the optimal output layer for a fixed first layer ----------------------------------------


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), beta=st.sampled_from([1e-4, 0.01, 1.0]), bias=st.booleans())
def test_optimal_output_layer_solves_the_normal_equations(
    seed: int, beta: float, bias: bool
) -> None:
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((12, 3)), rng.standard_normal((12, 2))
    problem = TrainingProblem.from_data(X, Y, beta, output_bias=bias)
    net = TwoLayerReLU(
        U=rng.standard_normal((3, 4)),
        V=rng.standard_normal((4, 2)),
        b=rng.standard_normal(2) if bias else None,
    )
    best = net.with_optimal_output_layer(problem)
    np.testing.assert_array_equal(best.U, net.U)
    H = np.maximum(X @ net.U, 0.0)
    gradient = H.T @ (best.predict(X) - Y) + beta * best.V  # d/dV of the objective
    assert np.abs(gradient).max() <= 1e-8 * max(1.0, np.abs(H.T @ Y).max())
    assert best.objective(problem) <= net.objective(problem) + 1e-12
