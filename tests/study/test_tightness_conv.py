"""Tightness rows of convolutional nets (issue 18): ``copos tightness --arch conv1d --patch P``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from copos import cli
from copos.errors import InvalidInputError
from copos.nets.architectures.conv import Convolution, ConvReLU
from copos.nets.problem import TrainingProblem
from copos.study.tightness import check_tightness, conv_architecture


def signals(n: int = 8, d: int = 6) -> TrainingProblem:
    rng = np.random.default_rng(0)
    return TrainingProblem(rng.standard_normal((n, d)), rng.standard_normal((n, 1)), 0.1)


def test_conv_rows_hold_the_program_the_recovered_cnn_and_cnn_baselines() -> None:
    problem = signals()
    arch = conv_architecture(problem, "conv1d", 2)
    assert arch == Convolution.conv1d(6, 2)
    report = check_tightness(
        problem, [3], [0], ["convex", "certificate"], epochs=100, progress=False, architecture=arch
    )
    assert all(isinstance(run.net, ConvReLU) for run in report.runs)
    by_method = {row.method: row for row in report.rows}
    convex = by_method["convex (CNN, all patterns)"]
    assert convex.claimed_kind == "exact"
    recovered = next(row for row in report.rows if row.method.startswith("convex CNN"))
    assert recovered.kind == "upper"
    assert recovered.value == pytest.approx(convex.value, rel=1e-5)
    assert convex.value <= report.runs[0].best_objective * (1 + 1e-6)
    certificate = by_method["certificate (best CNN, m=3)"]
    assert certificate.kind == "lower" and certificate.value <= convex.value * (1 + 1e-6)
    report = check_tightness(
        problem, [2], [0], ["convex", "lifted-dnn"], epochs=20, progress=False, architecture=arch
    )
    assert "dense nets only" in report.skipped["lifted-dnn"]
    assert report.options["architecture"] == arch.describe()
    assert conv_architecture(problem, "dense", 3) is None
    with pytest.raises(InvalidInputError, match="bias"):
        conv_architecture(problem.__class__(problem.X, problem.Y, 0.1, bias=True), "conv1d", 2)


def test_conv_rel_rows_bracket_the_exact_program_and_serve_the_linear_readout() -> None:
    problem = signals()
    arch = conv_architecture(problem, "conv1d", 2)
    methods = ["convex", "rel"]
    report = check_tightness(
        problem, [2], [0], methods, epochs=50, progress=False, architecture=arch
    )
    by_method = {row.method: row for row in report.rows}
    exact, rel = by_method["convex (CNN, all patterns)"], by_method["rel (CNN, patch patterns)"]
    assert rel.claimed_kind == "lower"  # all patterns of the patch matrix
    if rel.kind == "lower":  # a verified solve: below the exact program (c = 1: equal)
        assert rel.value <= exact.value * (1 + 1e-5)
    read = next(row for row in report.rows if row.method.startswith("rel read-off CNN"))
    assert read.kind == "upper" and read.value >= exact.value * (1 - 1e-6)
    linear = conv_architecture(problem, "conv1d", 2, pooling="linear")
    report = check_tightness(
        problem, [2], [0], methods, epochs=50, progress=False, architecture=linear
    )
    assert "copositive" in report.skipped["convex"] and "rel" not in report.skipped
    rows = {row.method: row for row in report.rows}
    assert rows["rel (CNN, patch patterns)"].claimed_kind == "lower"
    read = next(row for row in report.rows if row.method.startswith("rel read-off CNN"))
    lower = rows["rel (CNN, patch patterns)"].value
    assert read.kind == "upper" and read.value >= lower * (1 - 1e-6)  # REL is below every CNN


def test_cli_conv1d_row_and_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    problem = signals()
    data = tmp_path / "signals.npz"
    np.savez(data, X=problem.X, Y=problem.Y)
    common = ["tightness", "--data", str(data), "--widths", "2", "--seeds", "0", "--epochs", "50"]
    assert cli.main([*common, "--arch", "conv1d", "--patch", "2", "--methods", "convex"]) == 0
    assert "convex (CNN, all patterns)" in capsys.readouterr().out
    linear = [*common, "--arch", "conv1d", "--patch", "2", "--pooling", "linear"]
    assert cli.main([*linear, "--methods", "convex"]) == 0
    assert "linear readout" in capsys.readouterr().out
    assert cli.main([*common, "--arch", "conv1d", "--patch", "7"]) == cli.EXIT_BAD_INPUT
    assert cli.main([*common, "--arch", "conv1d", "--bias"]) == cli.EXIT_BAD_INPUT
