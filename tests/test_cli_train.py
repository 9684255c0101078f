"""``copos train`` and ``copos certify --weight-decay``, run in-process with small budgets."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from copos.cli import EXIT_BAD_INPUT, EXIT_NO, EXIT_OK, main
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.datasets import load_data, save_data, spiral

HAVE_TORCH = importlib.util.find_spec("torch") is not None
FAST = ["--width", "5", "--epochs", "300", "--quiet"]


def _train(tmp_path: Path, *extra: str, out: str = "net.npz") -> list[str]:
    return ["train", *FAST, "--out", str(tmp_path / out), *extra]


def test_train_then_certify_is_the_two_line_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "spiral.npz")
    assert main(_train(tmp_path, "--dataset", "spiral", "--save-data", data)) == EXIT_OK
    printed = capsys.readouterr()
    assert "objective F" in printed.out and "network written to" in printed.out
    assert printed.err == ""  # --quiet: no progress bar
    net = TwoLayerReLU.load(tmp_path / "net.npz")
    X, Y = load_data(data)
    np.testing.assert_array_equal(X, spiral(bias=False).X)  # as built in, no ones column
    objective = net.objective(spiral(bias=False))
    assert f"{objective:.10g}" in printed.out
    code = main(["certify", str(tmp_path / "net.npz"), data, "--beta", "0.1"])
    assert code in (EXIT_OK, EXIT_NO)
    assert f"objective F        {objective:.10g}" in capsys.readouterr().out


def test_train_json_and_the_optimizer_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--optimizer", "gd", "--lr", "1e-3", "--seed", "3", "--beta", "0.5", "--json"]
    assert main(_train(tmp_path, "--dataset", "planted", *args)) == EXIT_OK
    summary = json.loads(capsys.readouterr().out)
    assert summary["optimizer"] == "gd" and summary["seed"] == 3 and summary["width"] == 5
    assert summary["beta"] == 0.5 and summary["epochs"] == 300 and not summary["diverged"]
    assert summary["objective"] > 0 and summary["out"].endswith("net.npz")


def test_output_paths_are_checked_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-directory" / "net.npz"
    data = tmp_path / "data.npz"
    args = ["train", *FAST, "--out", str(missing), "--save-data", str(data)]
    assert main(args) == EXIT_BAD_INPUT
    assert "--out" in capsys.readouterr().err and not data.exists()
    bad_data = ["--save-data", str(tmp_path / "nowhere" / "d.npz")]
    assert main(_train(tmp_path, *bad_data)) == EXIT_BAD_INPUT
    assert not (tmp_path / "net.npz").exists()  # refused before training, nothing written


def test_output_bias_and_first_layer_bias_reach_certify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "d.csv")  # n = 10 points on a line: rank 2 with the ones column
    X = np.linspace(-1.0, 1.0, 10)[:, None]
    save_data(data, X, np.abs(X) + 2.0)
    extra = ["--data", data, "--bias", "--output-bias"]
    assert main(_train(tmp_path, *extra)) == EXIT_OK
    net = TwoLayerReLU.load(tmp_path / "net.npz")
    assert net.b is not None and net.d == 2  # the ones column's row of U, and b
    capsys.readouterr()
    no_bias = main(["certify", str(tmp_path / "net.npz"), data, "--beta", "0.1"])
    assert no_bias == EXIT_BAD_INPUT and "needs --bias" in capsys.readouterr().err
    args = ["certify", str(tmp_path / "net.npz"), data, "--beta", "0.1", "--bias", "--json"]
    assert main(args) in (EXIT_OK, EXIT_NO)
    certificate = json.loads(capsys.readouterr().out)
    assert certificate["output_bias"] is True and certificate["bias"] is True
    assert certificate["network"]["b"] == pytest.approx(list(net.b))


def test_certify_beta_from_torch_weight_decay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "spiral.npz")
    assert main(_train(tmp_path, "--save-data", data)) == EXIT_OK
    net = str(tmp_path / "net.npz")
    capsys.readouterr()
    lam = 0.1 / (60 * 3 / 2)  # MSELoss mean on n = 60, c = 3: beta = n c lambda / 2 = 0.1
    assert main(["certify", net, data, "--weight-decay", repr(lam), "--json"]) in (0, 1)
    assert json.loads(capsys.readouterr().out)["beta"] == pytest.approx(0.1, rel=1e-14)
    summed = ["certify", net, data, "--weight-decay", "0.2", "--torch-objective", "sum", "--json"]
    assert main(summed) in (0, 1)
    assert json.loads(capsys.readouterr().out)["beta"] == pytest.approx(0.1, rel=1e-14)
    for wrong in (
        ["--beta", "0.1", "--weight-decay", "0.001"],  # one or the other
        [],  # neither
        ["--beta", "0.1", "--torch-objective", "mean"],  # a reduction without lambda
        ["--weight-decay", "-1"],
    ):
        assert main(["certify", net, data, *wrong]) == EXIT_BAD_INPUT
        assert "error" in capsys.readouterr().err


def test_torch_output_file_or_clear_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(_train(tmp_path, "--bias", "--output-bias", out="net.pt"))
    if not HAVE_TORCH:
        assert code == EXIT_BAD_INPUT and "pip install torch" in capsys.readouterr().err
        assert not (tmp_path / "net.pt").exists()
        return
    assert code == EXIT_OK
    import torch

    module = torch.load(tmp_path / "net.pt", weights_only=False)
    assert module[0].in_features == 2 and module[2].bias is not None  # Linear(2, 5) with bias
    with torch.no_grad():
        torch_out = module(torch.from_numpy(np.array(spiral().X[:, :2]))).numpy()
    assert main(_train(tmp_path, "--bias", "--output-bias", out="same.npz")) == EXIT_OK
    same = TwoLayerReLU.load(tmp_path / "same.npz")  # the same run, saved as .npz
    np.testing.assert_allclose(torch_out, same.predict(spiral(bias=True).X), rtol=1e-12)
