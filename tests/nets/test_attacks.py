"""FGSM, PGD, the certified robust loss and PGD adversarial training (numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from copos.errors import CoposError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.attacks import (
    Box,
    accuracy,
    adversarial_training,
    certified_robust_loss,
    fgsm,
    loss_values,
    pgd,
    robust_accuracy,
)

U_LIN = np.array([1.0, -2.0, 0.5])


def linear_net(u: np.ndarray = U_LIN) -> TwoLayerReLU:
    """f(x) = (u.x)_+ - (-u.x)_+ = u.x: a linear model as a ReLU pair."""
    return TwoLayerReLU(np.stack([u, -u], axis=1), np.array([[1.0], [-1.0]]))


def data(n: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    return X, np.where(X @ U_LIN + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0)


@pytest.mark.parametrize("loss", ["squared", "hinge", "logistic"])
def test_pgd_finds_the_closed_form_worst_case_of_a_linear_model(loss: str) -> None:
    X, y = data()
    box = Box.of(0.1, 3)
    # worst case of a linear model: move every coordinate by eps against the margin, i.e.
    # delta = -eps y sign(u) (hinge, logistic); squared: away from y, delta = eps sign(f - y) sign(u)
    direction = np.sign(X @ U_LIN - y) if loss == "squared" else -y
    exact = loss_values(loss, X @ U_LIN + 0.1 * direction * np.abs(U_LIN).sum(), y)
    # the squared loss has two local maxima on a box (one per end): start at the clean point
    attacked = pgd(linear_net(), X, y, box, loss, steps=10, random_start=loss != "squared")
    found = loss_values(loss, linear_net().predict(attacked)[:, 0], y)
    np.testing.assert_allclose(found, exact, rtol=1e-10, atol=1e-12)
    # the ReLU pair changes sign on some boxes: the interval bound is an upper bound there
    assert np.all(certified_robust_loss(linear_net(), X, y, box, loss) >= exact - 1e-12)
    one_step = loss_values(loss, linear_net().predict(fgsm(linear_net(), X, y, box, loss))[:, 0], y)
    np.testing.assert_allclose(one_step, exact, rtol=1e-10, atol=1e-12)


def test_pgd_stays_in_the_box_and_never_lowers_the_loss() -> None:
    rng = np.random.default_rng(1)
    net = TwoLayerReLU(rng.standard_normal((3, 8)), rng.standard_normal((8, 1)))
    X, y = data()
    box = Box.of(0.2, 3, fixed_last=True)
    attacked = pgd(net, X, y, box, "hinge", steps=15, seed=3)
    assert np.all(np.abs(attacked - X)[:, :2] <= 0.2 + 1e-12) and np.all(attacked[:, 2] == X[:, 2])
    clean = loss_values("hinge", net.predict(X)[:, 0], y)
    found = loss_values("hinge", net.predict(attacked)[:, 0], y)
    assert np.all(found <= certified_robust_loss(net, X, y, box, "hinge") + 1e-12)
    assert found.sum() > clean.sum()
    assert robust_accuracy(net, X, y, box, steps=15) <= accuracy(net, X, y)


def test_adversarial_training_beats_standard_training_under_attack() -> None:
    X, y = data(40)
    box = Box.of(0.3, 3)
    standard = adversarial_training(X, y, 8, Box.of(0.0, 3), epochs=150, seed=0)
    robust = adversarial_training(X, y, 8, box, epochs=150, seed=0)
    assert accuracy(standard.net, X, y) >= 0.9
    assert robust.time > 0 and robust.bound.kind == "upper"
    assert robust_accuracy(robust.net, X, y, box) >= robust_accuracy(standard.net, X, y, box)


@pytest.mark.parametrize(
    "call",
    [
        lambda: pgd(linear_net(), *data(), Box.of(0.1, 3), "hinge", steps=0),
        lambda: pgd(linear_net(), *data(), Box.of(0.1, 2), "hinge"),
        lambda: fgsm(linear_net(), data()[0], data()[1] * 0.5, Box.of(0.1, 3), "hinge"),
        lambda: Box.of(-1.0, 3),
        lambda: fgsm(linear_net(), *data(), Box.of(0.1, 3), "l2"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_raises_a_copos_error(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CoposError):
        call()
