"""``copos certify`` and ``copos verify`` as a subprocess: verdicts, numbers, exit codes (#17)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from copos.certificates.certificate import OPTIMAL
from copos.certificates.certify import certify
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.datasets import save_data, whitened
from copos.relaxations.closed_form import soft_threshold_optimum

BETA = 0.5


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "copos.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Data (n = 5, d = 6, c = 3), the closed-form optimal net, the same net rescaled so that its
    objective overflows, a random net, and the certificates of the optimal and the random net."""
    root = tmp_path_factory.mktemp("certify")
    problem = whitened(n=5, d=6, c=3, seed=1, beta=BETA)
    save_data(root / "data.npz", problem.X, problem.Y)
    net = soft_threshold_optimum(problem).network()
    rng = np.random.default_rng(0)
    nets = {
        "optimal": net,
        "overflow": TwoLayerReLU(net.U * 1e160, net.V / 1e160),
        "random": TwoLayerReLU(rng.standard_normal((6, 4)), rng.standard_normal((4, 3))),
    }
    paths = {"data": root / "data.npz", "root": root}
    for name, other in nets.items():
        paths[name] = other.save(root / f"{name}.npz")
    for name in ("optimal", "random"):
        paths[f"{name}_cert"] = certify(nets[name], problem).save(root / f"{name}.json")
    return paths


def _numbers_printed(text: str) -> None:
    for word in ("objective F", "lower L", "gap F - L", "eps", "beta", "verdict"):
        assert word in text, text


def test_certify_prints_every_number_of_the_verdict(files: dict[str, Path]) -> None:
    result = run("certify", files["optimal"], files["data"], "--beta", BETA)
    assert result.returncode == 0, result.stderr
    _numbers_printed(result.stdout)
    assert OPTIMAL in result.stdout and "1e-06" in result.stdout


@pytest.mark.parametrize("json_mode", [False, True])
@pytest.mark.parametrize("net", ["overflow", "optimal"])
def test_overflowing_objective_is_not_certified(
    files: dict[str, Path], net: str, json_mode: bool
) -> None:
    # #17 item 1: an objective of inf used to print "globally optimal within eps" with exit 0,
    # and --json then crashed on the non-finite float.
    beta = "1e308" if net == "optimal" else str(BETA)
    result = run("certify", files[net], files["data"], "--beta", beta, *["--json"] * json_mode)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    if json_mode:
        document = json.loads(result.stdout)
        assert document["objective"] is None and document["verdict"] == "not certified"
    else:
        assert "not certified" in result.stdout and "not finite" in result.stdout


@pytest.mark.parametrize("eps", ["1e9", "0.02", "0", "-1e-6", "nan", "inf"])
def test_eps_outside_range_exits_2_before_any_work(
    files: dict[str, Path], tmp_path: Path, eps: str
) -> None:
    # #17 item 2: --eps 1e9 certified a random net with relative gap 0.99.
    output = tmp_path / "cert.json"
    result = run(
        "certify", files["random"], files["data"], "--beta", BETA, "--eps", eps, "--output", output
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "eps" in result.stderr and "Traceback" not in result.stderr
    assert not output.exists()


def test_certify_output_into_a_missing_directory_exits_2(
    files: dict[str, Path], tmp_path: Path
) -> None:
    result = run(
        "certify",
        files["optimal"],
        files["data"],
        "--beta",
        BETA,
        "--output",
        tmp_path / "no/c.json",
    )
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_certify_empty_output_name_exits_2(files: dict[str, Path]) -> None:
    result = run("certify", files["optimal"], files["data"], "--beta", BETA, "--output", "")
    assert result.returncode == 2 and "empty file name" in result.stderr


def test_verify_prints_the_recomputed_verdict(files: dict[str, Path]) -> None:
    result = run("verify", files["optimal_cert"], files["data"])
    assert result.returncode == 0, result.stdout + result.stderr
    for word in ("verified", OPTIMAL, "eps", "beta", "F ", "L ", "gap"):
        assert word in result.stdout, result.stdout


def test_verify_json_has_the_verdict_and_its_numbers(files: dict[str, Path]) -> None:
    result = run("verify", files["optimal_cert"], files["data"], "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["passed"] and document["optimal"] and document["verdict"] == OPTIMAL
    for key in ("eps", "beta", "objective", "lower_bound", "gap", "relative_gap"):
        assert isinstance(document[key], float), key


def test_verify_of_a_not_certified_certificate_exits_1(files: dict[str, Path]) -> None:
    # #17 item 3: exit 0 and {"passed": true, "reasons": []} for a not-certified certificate.
    result = run("verify", files["random_cert"], files["data"], "--json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["passed"] and not document["optimal"]
    assert document["verdict"] == "not certified"


@pytest.mark.parametrize("eps", [1e9, 1e-2])
def test_verify_sees_through_edited_eps_and_verdict(
    files: dict[str, Path], tmp_path: Path, eps: float
) -> None:
    # #17 item 3: editing eps and verdict together made a not-certified certificate pass.
    document = json.loads(files["random_cert"].read_text())
    document.update(eps=eps, verdict=OPTIMAL)
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    result = run("verify", tampered, files["data"])
    assert result.returncode == 1, result.stdout
    assert "REJECTED" in result.stdout and "verdict   not certified" in result.stdout


@pytest.mark.parametrize(
    ("pin", "code"),
    [
        (["--eps", "1e-6", "--beta", str(BETA)], 0),
        (["--eps", "1e-8"], 1),  # the certificate's eps 1e-6 is looser than required
        (["--beta", "0.4"], 1),  # a certificate for another beta
        (["--eps", "1"], 2),
        (["--beta", "-1"], 2),
        (["--sigma-budget", "5"], 0),
        (["--sigma-budget", "0"], 2),
        (["--sigma-budget", "nan"], 2),
    ],
)
def test_verify_pinned_eps_and_beta(files: dict[str, Path], pin: list[str], code: int) -> None:
    result = run("verify", files["optimal_cert"], files["data"], *pin)
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["certify", "verify"])
def test_help_documents_the_exit_codes(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert "exit codes" in result.stdout and "--eps" in result.stdout and "--beta" in result.stdout


@pytest.mark.parametrize("command", ["certify", "verify"])
@pytest.mark.parametrize("what", ["missing", "directory", "garbage"])
def test_bad_files_exit_2(files: dict[str, Path], tmp_path: Path, what: str, command: str) -> None:
    path = {"missing": tmp_path / "nope.json", "directory": tmp_path}.get(what)
    if path is None:
        path = tmp_path / "garbage.json"
        path.write_text("{not json")
    args = ("--beta", BETA) if command == "certify" else ()
    result = run(command, path, files["data"], *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def improvable(files: dict[str, Path]) -> dict[str, Path]:
    """The optimal net perturbed (noise, a dead neuron) and the optimal net one neuron short."""
    net = TwoLayerReLU.load(files["optimal"])
    rng = np.random.default_rng(3)
    perturbed = TwoLayerReLU(
        np.hstack([net.U + 1e-3 * rng.standard_normal(net.U.shape), rng.standard_normal((6, 1))]),
        np.vstack([net.V, np.zeros((1, 3))]),
    )
    short = TwoLayerReLU(net.U[:, 1:], net.V[1:])
    root = files["root"]
    return {
        "perturbed": perturbed.save(root / "perturbed.npz"),
        "short": short.save(root / "short.npz"),
    }


def test_certify_polish_certifies_the_polished_net_and_verify_rechecks_it(
    files: dict[str, Path], improvable: dict[str, Path], tmp_path: Path
) -> None:
    cert, net = tmp_path / "cert.json", tmp_path / "polished.npz"
    args = ("--beta", BETA, "--polish", "--budget", "120", "--output", cert, "--save-net", net)
    result = run("certify", improvable["perturbed"], files["data"], *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "net handed in" in result.stdout and "certified net written" in result.stdout
    data = json.loads(cert.read_text())
    original = TwoLayerReLU.load(improvable["perturbed"])
    assert data["original_objective"] > data["objective"] and data["polish"]["accepted"]
    assert data["polish"]["budget_reached"] is False
    assert TwoLayerReLU.load(net).m == 3 and original.m == 4
    assert run("verify", cert, files["data"]).returncode == 0


def test_certify_improve_inserts_the_witness_neuron_and_certifies(
    files: dict[str, Path], improvable: dict[str, Path]
) -> None:
    short = ("certify", improvable["short"], files["data"], "--beta", BETA, "--improve")
    result = run(*short, "--json", "--budget", "60")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["verdict"] == OPTIMAL and data["improve"]["reason"].startswith("certified")
    first = data["improve"]["rounds"][0]
    assert first["witness"] and first["decrease"] > 0 and first["sigma_lower"] > BETA
    one_round = run(*short, "--rounds", "1")
    assert one_round.returncode == 1 and "out of budget" in one_round.stdout


@pytest.mark.parametrize(
    "flags",
    [
        ["--budget", "5"],
        ["--polish", "--budget", "0"],
        ["--rounds", "2"],
        ["--polish", "--rounds", "2"],
        ["--improve", "--budget", "0"],
        ["--improve", "--budget", "nan"],
        ["--improve", "--rounds", "0"],
    ],
)
def test_improve_flags_are_checked_before_any_work(
    files: dict[str, Path], flags: list[str]
) -> None:
    result = run("certify", files["optimal"], files["data"], "--beta", BETA, *flags)
    assert result.returncode == 2, result.stdout + result.stderr


def test_certify_and_verify_a_saved_cnn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from copos import cli
    from copos.nets.architectures.conv import Convolution
    from copos.nets.problem import TrainingProblem
    from copos.relaxations.conv import solve_conv_program

    rng = np.random.default_rng(0)
    problem = TrainingProblem(rng.standard_normal((12, 7)), rng.standard_normal((12, 1)), 0.02)
    save_data(tmp_path / "signals.npz", problem.X, problem.Y)
    net = solve_conv_program(problem, Convolution.conv1d(7, 2, pooling="sum")).net
    net.save(tmp_path / "cnn.npz")
    certify_args = ["certify", str(tmp_path / "cnn.npz"), str(tmp_path / "signals.npz")]
    output = ["--output", str(tmp_path / "cnn.json")]
    assert cli.main([*certify_args, "--beta", "0.02", "--eps", "0.01", *output]) == 0
    assert "patch-patterns" in capsys.readouterr().out
    assert cli.main(["verify", str(tmp_path / "cnn.json"), str(tmp_path / "signals.npz")]) == 0
    assert cli.main([*certify_args, "--beta", "0.02", "--eps", "1e-9"]) == 1  # gap ~1 %
    assert cli.main([*certify_args, "--beta", "0.02", "--improve"]) == 2
    assert cli.main([*certify_args, "--beta", "0.02", "--method", "exact"]) == 2
