"""The ``copos`` command, run as a subprocess with good and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "copos.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_main_job_is_the_default_tightness_study() -> None:
    # The README's first command: spiral, beta = 0.1, widths 5, 10, 100, seeds 0, 1, 2.
    result = run()
    assert result.returncode == 0, result.stderr
    assert "spiral: n=60, d=2, c=3, beta=0.1; widths [5, 10, 100], seeds [0, 1, 2]" in result.stdout
    for method in ("sgd (adam, m=100)", "lifted-dnn", "rel (Sahiner, DNN)", "certificate"):
        assert method in result.stdout
    assert "upper" in result.stdout and "lower" in result.stdout


def test_stability_table() -> None:
    result = run("bound", "stability")
    assert result.returncode == 0, result.stderr
    assert "alpha(c5)" in result.stdout and "alpha(petersen)" in result.stdout
    assert "upper" in result.stdout and "lower" in result.stdout and "exact" in result.stdout


def test_stability_json_output() -> None:
    result = run("bound", "stability", "--graph", "c5", "--cone", "parrilo:1", "grid:3", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    kinds = {row["cone"]: row["kind"] for row in rows}
    assert kinds == {"combinatorial": "exact", "K^1": "upper", "O_3": "lower"}
    assert abs(rows[1]["value"] - 2.0) < 1e-5 and rows[1]["verified"]


def test_stqp_from_csv(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    np.savetxt(path, np.eye(3), delimiter=",")
    result = run("bound", "stqp", str(path), "--cone", "parrilo:0", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert abs(rows[0]["value"] - 1 / 3) < 1e-5 and rows[0]["kind"] == "lower"
    assert rows[1]["kind"] == "upper"


def test_bad_input_gives_message_and_exit_code(tmp_path: Path) -> None:
    missing = run("bound", "stqp", str(tmp_path / "missing.csv"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3,4\n")
    asym = run("bound", "stqp", str(bad))
    assert asym.returncode == 2 and "symmetric" in asym.stderr
    graph = run("bound", "stability", "--graph", "no-such-graph")
    assert graph.returncode == 2 and "unknown graph" in graph.stderr
    level = run("bound", "stability", "--graph", "c5", "--cone", "parrilo:x")
    assert level.returncode == 2 and "FAMILY:LEVEL" in level.stderr
    assert "Traceback" not in missing.stderr + asym.stderr + graph.stderr + level.stderr


def _small_data(tmp_path: Path) -> Path:
    from copos.datasets import save_data, whitened

    problem = whitened(n=4, d=6, c=2, seed=1, beta=0.2)
    return save_data(tmp_path / "data.npz", problem.X, problem.Y)


def test_tightness_on_a_file_with_json(tmp_path: Path) -> None:
    data = _small_data(tmp_path)
    result = run(
        "tightness",
        "--data",
        str(data),
        "--beta",
        "0.2",
        "--widths",
        "2",
        "4",
        "--seeds",
        "0",
        "--epochs",
        "500",
        "--methods",
        "rel",
        "certificate",
        "--json",
        "--output-json",
        str(tmp_path / "report.json"),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n"] == 4 and report["c"] == 2
    assert json.loads((tmp_path / "report.json").read_text())["best_upper"] == report["best_upper"]


def test_certify_and_verify_round_trip(tmp_path: Path) -> None:
    from copos.datasets import load_problem
    from copos.network.closed_form import soft_threshold_optimum

    data = _small_data(tmp_path)
    problem = load_problem(data, beta=0.2)
    optimal = soft_threshold_optimum(problem).network()
    net = optimal.save(tmp_path / "optimal.npz")
    certificate = tmp_path / "certificate.json"
    certified = run("certify", str(net), str(data), "--beta", "0.2", "--output", str(certificate))
    assert certified.returncode == 0, certified.stdout + certified.stderr
    assert "globally optimal" in certified.stdout
    assert run("verify", str(certificate), str(data)).returncode == 0

    tampered = json.loads(certificate.read_text())
    tampered["lower_bound"] += 0.01
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    rejected = run("verify", str(tmp_path / "tampered.json"), str(data), "--json")
    assert rejected.returncode == 1
    assert json.loads(rejected.stdout)["reasons"]

    from copos.network.model import TwoLayerReLU

    worse = TwoLayerReLU(optimal.U * 1.1, optimal.V).save(tmp_path / "worse.npz")
    not_certified = run("certify", str(worse), str(data), "--beta", "0.2", "--json")
    assert not_certified.returncode == 1
    assert json.loads(not_certified.stdout)["verdict"] == "not certified"


def test_certify_rejects_bad_input(tmp_path: Path) -> None:
    data = _small_data(tmp_path)
    from copos.network.model import TwoLayerReLU

    net = TwoLayerReLU(np.ones((6, 3)), np.ones((3, 2))).save(tmp_path / "net.npz")
    missing = run("certify", str(tmp_path / "nope.npz"), str(data), "--beta", "0.2")
    assert missing.returncode == 2 and "nope.npz" in missing.stderr
    negative = run("certify", str(net), str(data), "--beta", "-1")
    assert negative.returncode == 2 and "beta" in negative.stderr
    wrong = TwoLayerReLU(np.ones((3, 3)), np.ones((3, 2))).save(tmp_path / "wrong.npz")
    shapes = run("certify", str(wrong), str(data), "--beta", "0.2")
    assert shapes.returncode == 2 and "Traceback" not in shapes.stderr
    nan = tmp_path / "nan.csv"
    nan.write_text("x0,y0\n1.0,nan\n2.0,1.0\n")
    bad = run("certify", str(net), str(nan), "--beta", "0.2")
    assert bad.returncode == 2 and "NaN" in bad.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    unreadable = run("verify", str(garbage), str(data))
    assert unreadable.returncode == 2 and "Traceback" not in unreadable.stderr
