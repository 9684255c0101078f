"""Tests of copos.nets.architectures.conv: the two-layer convolutional net, its files and torch."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from copos.errors import CoposError, DataFileError, InvalidInputError
from copos.nets.architectures.base import Architecture
from copos.nets.architectures.conv import Convolution, ConvReLU
from copos.nets.architectures.dense import DENSE
from copos.nets.problem import TrainingProblem
from copos.nets.training import train_conv

HAVE_TORCH = importlib.util.find_spec("torch") is not None

ARCHITECTURES = [
    Convolution.conv1d(10, 3, channels=2, stride=2, padding=1, pooling="avg", bias=True),
    Convolution.conv1d(9, 4, pooling="sum"),
    Convolution.conv2d(5, 6, (3, 2), channels=2, stride=(1, 2), padding=(1, 0), pooling="linear"),
    Convolution.conv2d(4, 4, 3, pooling="avg", bias=True),
]


def random_net(arch: Convolution, m: int = 3, c: int = 2, seed: int = 0) -> ConvReLU:
    rng = np.random.default_rng(seed)
    V = rng.standard_normal((m * arch.readout_rows, c))
    return ConvReLU(arch, rng.standard_normal((arch.h, m)), V)


def test_patches_by_hand() -> None:
    arch = Convolution.conv1d(4, 2, stride=2, padding=1, pooling="sum", bias=True)
    X = np.array([[1.0, 2.0, 3.0, 4.0]])
    # padded signal 0 1 2 3 4 0: windows at 0, 2, 4 -> (0,1), (2,3), (4,0), each with a 1
    expected = np.array([[[0.0, 1.0, 1.0]], [[2.0, 3.0, 1.0]], [[4.0, 0.0, 1.0]]])
    np.testing.assert_array_equal(arch.patches(X), expected)
    assert (arch.K, arch.h, arch.d) == (3, 3, 4)
    assert isinstance(arch, Architecture)
    avg = Convolution.conv1d(4, 2, stride=2, padding=1, bias=True)
    np.testing.assert_allclose(avg.data_operator(X).patches, expected / 3)


def test_full_patch_is_the_dense_net() -> None:
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((6, 5)), rng.standard_normal((6, 1))
    problem = TrainingProblem(X, Y, beta=0.2)
    arch = Convolution.conv1d(5, 5, pooling="sum")
    U, V = rng.standard_normal((5, 4)), rng.standard_normal((4, 1))
    assert arch.K == 1
    np.testing.assert_array_equal(arch.data_operator(X).patches[0], X)
    assert arch.objective((U, V), problem) == pytest.approx(DENSE.objective((U, V), problem))


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=lambda a: a.describe())
def test_gradient_matches_finite_differences(arch: Convolution) -> None:
    rng = np.random.default_rng(2)
    net = random_net(arch)
    problem = TrainingProblem(rng.standard_normal((5, arch.d)), rng.standard_normal((5, 2)), 0.1)
    operator = arch.operator_of(problem)
    value, grad_U, grad_V = arch.objective_and_gradient(net.U, net.V, operator, problem.Y, 0.1)
    assert value == pytest.approx(net.objective(problem), rel=1e-12)
    for index, (grad, direction) in enumerate(
        [(grad_U, rng.standard_normal(net.U.shape)), (grad_V, rng.standard_normal(net.V.shape))]
    ):
        step = 1e-6
        ahead, behind = [np.array(net.U), np.array(net.V)], [np.array(net.U), np.array(net.V)]
        ahead[index] = ahead[index] + step * direction
        behind[index] = behind[index] - step * direction
        slope = (
            arch.objective_and_gradient(*ahead, operator, problem.Y, 0.1)[0]
            - arch.objective_and_gradient(*behind, operator, problem.Y, 0.1)[0]
        ) / (2 * step)
        assert slope == pytest.approx(np.vdot(grad, direction), rel=1e-5, abs=1e-6)


def test_training_descends_and_returns_a_conv_net() -> None:
    rng = np.random.default_rng(3)
    arch = Convolution.conv1d(8, 3)
    problem = TrainingProblem(rng.standard_normal((10, 8)), rng.standard_normal((10, 1)), 0.05)
    run = train_conv(problem, arch, 4, epochs=200, seed=1)
    assert isinstance(run.net, ConvReLU) and run.net.m == 4
    assert run.best_objective == pytest.approx(run.net.objective(problem), rel=1e-12)
    assert run.best_objective < run.history[0]
    assert run.bound.kind == "upper"
    with pytest.raises(InvalidInputError, match="optimizer"):
        train_conv(problem, arch, 4, optimizer="lbfgs")


@pytest.mark.parametrize(
    "build",
    [
        lambda: Convolution.conv1d(3, 4),  # kernel larger than the input
        lambda: Convolution.conv1d(8, 3, stride=0),
        lambda: Convolution.conv1d(8, 3, padding=-1),
        lambda: Convolution.conv1d(8, 3, pooling="max"),
        lambda: Convolution.conv2d(4, 4, (2, 2, 2)),
        lambda: Convolution((1,), (1,), (1,), (0,)),
    ],
)
def test_bad_architectures_are_refused(build) -> None:
    with pytest.raises(CoposError):
        build()


def test_bad_weights_and_data_are_refused() -> None:
    arch = Convolution.conv1d(8, 3)
    with pytest.raises(InvalidInputError, match="U"):
        ConvReLU(arch, np.ones((4, 2)), np.ones((2, 1)))
    net = ConvReLU(arch, np.ones((3, 2)), np.ones((2, 1)))
    with pytest.raises(InvalidInputError, match="X must be"):
        net.predict(np.ones((2, 7)))
    with pytest.raises(InvalidInputError, match="d = 8"):
        net.objective(TrainingProblem(np.ones((2, 7)), np.ones((2, 1)), 0.1))


def test_save_and_load(tmp_path: Path) -> None:
    for arch in ARCHITECTURES:
        net = random_net(arch)
        net = ConvReLU(arch, net.U, net.V, np.array([0.5, -1.0]))
        back = ConvReLU.load(net.save(tmp_path / "net.npz"))
        assert back.architecture == arch
        np.testing.assert_array_equal(back.U, net.U)
        np.testing.assert_array_equal(back.b, net.b)
    with pytest.raises(DataFileError, match="does not exist"):
        ConvReLU.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "dense.npz", U=np.ones((2, 2)), V=np.ones((2, 1)))
    with pytest.raises(DataFileError, match="not a copos convolutional"):
        ConvReLU.load(tmp_path / "dense.npz")


def test_torch_missing_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(CoposError, match="pip install torch"):
        ConvReLU.from_torch(object(), (1, 8))
    with pytest.raises(CoposError, match="pip install torch"):
        random_net(ARCHITECTURES[0]).to_torch()


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=lambda a: a.describe())
def test_predict_matches_torch_or_clear_error(arch: Convolution) -> None:
    if not HAVE_TORCH:
        with pytest.raises(CoposError, match="pip install torch"):
            random_net(arch).to_torch()
        return
    import torch

    net = random_net(arch)
    module = net.to_torch()
    X = np.random.default_rng(4).standard_normal((7, arch.d))
    with torch.no_grad():
        expected = module(torch.from_numpy(X.reshape(7, *arch.input_shape))).numpy()
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-10, atol=1e-12)
    back = ConvReLU.from_torch(module, arch.input_shape)
    np.testing.assert_allclose(back.predict(X), expected, rtol=1e-10, atol=1e-12)


def test_from_torch_with_default_float32_biases_and_refusals() -> None:
    if not HAVE_TORCH:
        with pytest.raises(CoposError, match="pip install torch"):
            ConvReLU.from_torch(object(), (1, 8))
        return
    import torch

    nn = torch.nn
    torch.manual_seed(0)
    module = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3))
    net = ConvReLU.from_torch(module, (2, 8))
    assert net.architecture.pooling == "linear" and net.architecture.bias and net.b is not None
    X = np.random.default_rng(5).standard_normal((4, 16))
    with torch.no_grad():
        expected = module(torch.from_numpy(X.reshape(4, 2, 8)).float()).double().numpy()
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-5, atol=1e-5)
    wrong = [
        nn.Sequential(nn.Conv1d(1, 4, 3, dilation=2), nn.ReLU(), nn.Flatten(), nn.Linear(16, 1)),
        nn.Sequential(
            nn.Conv1d(1, 4, 3), nn.ReLU(), nn.MaxPool1d(2), nn.Flatten(), nn.Linear(12, 1)
        ),
        nn.Sequential(nn.Conv1d(1, 4, 3), nn.Tanh(), nn.Flatten(), nn.Linear(24, 1)),
        nn.Sequential(nn.Conv1d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(5, 1)),
        nn.Sequential(
            nn.Conv1d(1, 4, 3, padding="same"), nn.ReLU(), nn.Flatten(), nn.Linear(32, 1)
        ),
        nn.Linear(8, 1),
    ]
    for bad in wrong:
        with pytest.raises(InvalidInputError):
            ConvReLU.from_torch(bad, (1, 8))
