"""The tightness checker's robust row (``--robust-eps``): labelled upper, never lower."""

from __future__ import annotations

import numpy as np
import pytest

from copos.cli import main
from copos.errors import InvalidInputError
from copos.nets.problem import TrainingProblem
from copos.study.tightness import check_tightness


def small_problem() -> TrainingProblem:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 2))
    return TrainingProblem.from_data(X, np.abs(X[:, 0]) - X[:, 1], beta=0.1, name="small")


def test_the_robust_rows_are_upper_bounds_above_the_clean_ones() -> None:
    problem = small_problem()
    report = check_tightness(
        problem, widths=[3], seeds=[0], methods=[], epochs=50, progress=False, robust_eps=0.05
    )
    value, net = [row for row in report.rows if row.source == "robust"]
    assert value.kind == "upper" and net.kind == "upper" and net.rigorous
    assert "robust" in value.quantity and "eps=0.05" in value.method
    assert net.value <= value.value * (1 + 1e-6)  # the value bounds its own net's robust objective
    clean = check_tightness(
        problem, widths=[3], seeds=[0], methods=[], epochs=50, progress=False, robust_eps=0.0
    )
    assert (
        clean.rows[-2].value <= value.value + 1e-9
    )  # eps = 0: the clean program, below the robust one
    assert report.options["robust_eps"] == 0.05


def test_the_robust_method_needs_its_eps() -> None:
    with pytest.raises(InvalidInputError):
        check_tightness(
            small_problem(), widths=[3], seeds=[0], methods=["robust"], epochs=5, progress=False
        )


def test_the_cli_refuses_a_negative_eps(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "tightness",
                "--dataset",
                "planted",
                "--widths",
                "2",
                "--seeds",
                "0",
                "--epochs",
                "5",
                "--robust-eps",
                "-1",
            ]
        )
        == 2
    )
    assert "robust_eps" in capsys.readouterr().err
