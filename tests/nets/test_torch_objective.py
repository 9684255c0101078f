"""PyTorch's MSELoss + weight_decay and copos's beta: the converter's identity, in numpy."""

from __future__ import annotations

import importlib.util
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from copos.errors import CoposError, InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.problem import TrainingProblem
from copos.nets.torch_objective import (
    beta_from_weight_decay,
    objective_from_torch_loss,
    objective_scale,
    parameter_groups,
    weight_decay_from_beta,
    weight_decay_of,
)

HAVE_TORCH = importlib.util.find_spec("torch") is not None


def _torch_loss(
    net: TwoLayerReLU, X: np.ndarray, Y: np.ndarray, lam: float, reduction: str
) -> float:
    """MSELoss(reduction) + lambda/2 ||w||^2 over what copos decays (U with its bias row, V)."""
    squares = np.sum((net.predict(X) - Y) ** 2)
    mse = squares / Y.size if reduction == "mean" else squares
    return float(mse + lam / 2 * (np.sum(net.U**2) + np.sum(net.V**2)))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize(("n", "c"), [(7, 1), (20, 3)])
def test_objectives_are_equal_up_to_the_factor(reduction: str, n: int, c: int) -> None:
    rng = np.random.default_rng(n + c)
    X, Y = rng.standard_normal((n, 2)), rng.standard_normal((n, c))
    lam = 0.013
    beta = beta_from_weight_decay(lam, n, c, reduction)
    assert beta == (n * c * lam / 2 if reduction == "mean" else lam / 2)
    assert weight_decay_from_beta(beta, n, c, reduction) == pytest.approx(lam, rel=1e-15)
    problem = TrainingProblem.from_data(X, Y, beta, bias=True, output_bias=True)
    net = TwoLayerReLU(rng.standard_normal((3, 5)), rng.standard_normal((5, c)), rng.normal(size=c))
    loss = _torch_loss(net, problem.X, Y, lam, reduction)
    assert objective_from_torch_loss(loss, n, c, reduction) == pytest.approx(
        net.objective(problem), rel=1e-13
    )
    assert objective_scale(n, c, reduction) == (n * c / 2 if reduction == "mean" else 0.5)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="reduction"):
        beta_from_weight_decay(0.1, 5, 1, "none")  # type: ignore[arg-type]
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(InvalidInputError, match="weight_decay"):
            beta_from_weight_decay(bad, 5, 1)
    with pytest.raises(InvalidInputError):
        objective_scale(0, 1)


def _optimizer(name: str, groups: list[dict]) -> object:
    """What the converter reads of a torch.optim optimizer: its class name and param_groups
    (a real one is built in tests/nets/architectures/test_dense.py; building one costs 2 s)."""
    return type(name, (), {"param_groups": groups})()


def _all(module: object, decay: float) -> list[dict]:
    return [{"params": list(module.parameters()), "weight_decay": decay}]  # type: ignore[attr-defined]


def test_optimizer_checks_without_torch_give_the_install_hint_or_work() -> None:
    if not HAVE_TORCH:
        with pytest.raises(CoposError, match="pip install torch"):
            weight_decay_of(SimpleNamespace(param_groups=[]), object())
        return
    import torch

    module = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    groups = parameter_groups(module, 0.01)
    assert [g["weight_decay"] for g in groups] == [0.01, 0.0]
    assert groups[1]["params"] == [module[2].bias]
    assert weight_decay_of(_optimizer("SGD", groups), module) == 0.01
    with pytest.raises(InvalidInputError, match="AdamW"):
        weight_decay_of(_optimizer("AdamW", _all(module, 0.01)), module)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        weight_decay_of(_optimizer("Adam", _all(module, 0.01)), module)
    assert any("output bias is decayed" in str(w.message) for w in caught)  # torch's default
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first_free = [
            {"params": [module[0].weight, module[2].weight], "weight_decay": 0.01},
            {"params": [module[0].bias, module[2].bias], "weight_decay": 0.0},
        ]
        weight_decay_of(_optimizer("SGD", first_free), module)
    assert any("first-layer bias" in str(w.message) for w in caught)
    with pytest.raises(InvalidInputError, match="one weight decay"):
        weight_decay_of(_optimizer("SGD", _all(module, 0.0)), module)
    with pytest.raises(InvalidInputError, match="does not train"):
        weight_decay_of(_optimizer("SGD", _all(module[0], 0.01)), module)
    with pytest.raises(InvalidInputError, match="expects"):
        parameter_groups(torch.nn.Linear(2, 1), 0.01)
