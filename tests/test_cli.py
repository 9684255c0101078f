"""The ``copos`` command, run as a subprocess with good and bad input."""

from __future__ import annotations

import json
import os
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
    rows = json.loads(result.stdout)["bounds"]
    kinds = {row["cone"]: row["kind"] for row in rows}
    assert kinds == {"combinatorial": "exact", "K^1": "upper", "O_3": "lower"}
    assert abs(rows[1]["value"] - 2.0) < 1e-5 and rows[1]["verified"]


def test_stqp_from_csv(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    np.savetxt(path, np.eye(3), delimiter=",")
    result = run("bound", "stqp", str(path), "--cone", "parrilo:0", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["bounds"]
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
    from copos.nets.datasets import save_data, whitened

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
    from copos.nets.datasets import load_problem
    from copos.relaxations.closed_form import soft_threshold_optimum

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

    from copos.nets.architectures.dense import TwoLayerReLU

    worse = TwoLayerReLU(optimal.U * 1.1, optimal.V).save(tmp_path / "worse.npz")
    not_certified = run("certify", str(worse), str(data), "--beta", "0.2", "--json")
    assert not_certified.returncode == 1
    assert json.loads(not_certified.stdout)["verdict"] == "not certified"


def test_certify_rejects_bad_input(tmp_path: Path) -> None:
    data = _small_data(tmp_path)
    from copos.nets.architectures.dense import TwoLayerReLU

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


# ---------------------------------------------------------------------------- #17 items 8, 9, 10
# In-process runs of copos.cli.main (fast); the subprocess runs above cover the console script.
import pytest  # noqa: E402

from copos import cli  # noqa: E402

HELP_MARKUP = ("``", ":func:", ":class:", ":meth:", ":math:", ":data:", ".. ")


def call(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_json_error(out: str, code: int, kind: str) -> dict[str, object]:
    payload = json.loads(out)  # exactly one JSON object and nothing else on stdout
    assert isinstance(payload, dict) and set(payload) == {"error"}
    error = payload["error"]
    assert error["type"] == kind and error["exit_code"] == code and error["message"]
    return error


def test_exit_code_constants() -> None:
    assert (cli.EXIT_OK, cli.EXIT_NO, cli.EXIT_BAD_INPUT, cli.EXIT_SOLVER, cli.EXIT_INTERNAL) == (
        0,
        1,
        2,
        3,
        4,
    )


def test_bound_without_program_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[object] = []
    monkeypatch.setattr(cli, "_cmd_tightness", lambda args: ran.append(args) or 0)
    code, out, err = call(capsys, "bound")
    assert code == cli.EXIT_BAD_INPUT and not ran and out == ""
    assert "usage: copos bound" in err and "required" in err
    code, out, _ = call(capsys, "bound", "--json")
    assert code == cli.EXIT_BAD_INPUT and not ran
    one_json_error(out, cli.EXIT_BAD_INPUT, "UsageError")


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["tightness"],
        ["certify"],
        ["verify"],
        ["bound"],
        ["bound", "stability"],
        ["bound", "stqp"],
    ],
)
def test_help_is_plain_text_and_documents_exit_codes(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([*command, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert not [mark for mark in HELP_MARKUP if mark in text], text
    assert "exit codes:" in text and "internal error" in text and "130" in text


def test_usage_errors_in_json_mode(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["--json", "--no-such-option"],
        ["bound", "stability", "--json", "--graph"],
        ["bound", "stability", "--json", "--max-memory", "12Q"],
        ["certify", "--json"],
        ["bound", "stqp", "--js"],  # an abbreviation still means --json
    ):
        code, out, err = call(capsys, *argv)
        assert code == cli.EXIT_BAD_INPUT, argv
        one_json_error(out, cli.EXIT_BAD_INPUT, "UsageError")
        assert "Traceback" not in err


def test_copos_errors_in_json_mode(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = call(capsys, "bound", "stability", "--json", "--graph", "no-such-graph")
    assert code == cli.EXIT_BAD_INPUT
    assert "unknown graph" in str(one_json_error(out, code, "InvalidInputError")["message"])
    code, out, _ = call(capsys, "--json", "bound", "stqp", str(tmp_path / "missing.csv"))
    one_json_error(out, cli.EXIT_BAD_INPUT, "DataFileError")


def test_internal_error_is_one_line_exit_4(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise ZeroDivisionError("a\nbug")

    monkeypatch.setattr(cli, "stability_hierarchy", broken)
    monkeypatch.delenv("COPOS_DEBUG", raising=False)
    code, out, err = call(capsys, "bound", "stability", "--graph", "c5", "--cone", "parrilo:0")
    assert code == cli.EXIT_INTERNAL and out == ""
    assert err == "copos: internal error: ZeroDivisionError: a bug\n"
    code, out, _ = call(capsys, "bound", "stability", "--json")
    one_json_error(out, cli.EXIT_INTERNAL, "ZeroDivisionError")
    monkeypatch.setenv("COPOS_DEBUG", "1")
    code, _, err = call(capsys, "bound", "stability")
    assert code == cli.EXIT_INTERNAL and "Traceback (most recent call last)" in err


def test_solver_failure_and_interrupt_codes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from copos.errors import SolverError

    def fail(*args: object) -> None:
        raise SolverError("clarabel stopped")

    monkeypatch.setattr(cli, "stability_hierarchy", fail)
    code, out, _ = call(capsys, "bound", "stability", "--json")
    one_json_error(out, cli.EXIT_SOLVER, "SolverError")

    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "stability_hierarchy", interrupt)
    code, out, err = call(capsys, "bound", "stability")
    assert code == 130 and "Traceback" not in err and "interrupted" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["tightness", "--widths", "1000000000"],
        ["bound", "stability", "--graph", "c5", "--cone", "parrilo:9"],
        ["bound", "stability", "--graph", "c5", "--cone", "grid:200"],
        ["bound", "stability", "--graph", "c5", "--cone", "parrilo:1", "parrilo:9"],
    ],
)
def test_size_guards_refuse_before_any_work(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    from copos.nets import training

    solved: list[object] = []
    monkeypatch.setattr(cli, "stability_number", lambda *a: solved.append(a))
    monkeypatch.setattr(training, "train", lambda *a, **k: solved.append(a))
    code, out, err = call(capsys, *argv, "--max-memory", "8G")
    assert code == cli.EXIT_BAD_INPUT and not solved
    assert "would need about" in err and "limit 8 GiB" in err
    code, out, _ = call(capsys, *argv, "--max-memory", "8G", "--json")
    one_json_error(out, cli.EXIT_BAD_INPUT, "TooLargeError")


def test_size_guard_exits_2_as_a_console_script() -> None:
    result = run("bound", "stability", "--graph", "c5", "--cone", "grid:200", "--max-memory", "8G")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("copos: error: a program over grid:200")


def test_max_memory_applies_at_either_level(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["bound", "stability", "--graph", "c5", "--cone", "parrilo:2"]
    code, _, err = call(capsys, "--max-memory", "1K", *base)
    assert code == cli.EXIT_BAD_INPUT and "limit 1 KiB" in err
    code, _, err = call(capsys, *base, "--max-memory", "1K")
    assert code == cli.EXIT_BAD_INPUT and "limit 1 KiB" in err


def test_stqp_one_by_one_matrix(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text("3\n")
    code, out, err = call(capsys, "bound", "stqp", str(path), "--cone", "parrilo:0", "--json")
    assert code == cli.EXIT_OK, err
    rows = json.loads(out)["bounds"]
    assert abs(rows[0]["value"] - 3.0) < 1e-6 and rows[-1]["value"] == 3.0


@pytest.mark.parametrize("entry", ["1_0", "nan", "inf", "0x10", "\uff11"])
def test_stqp_matrix_entries_are_plain_decimals(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, entry: str
) -> None:
    path = tmp_path / "q.csv"
    path.write_text(f"1,2\n2,{entry}\n", encoding="utf-8")
    code, _, err = call(capsys, "bound", "stqp", str(path))
    assert code == cli.EXIT_BAD_INPUT and "not a plain decimal" in err


def test_bound_json_never_holds_non_finite_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    # dkp:2 on C9 is infeasible: the (trivial) bound is +inf, written as null.
    code, out, _ = call(capsys, "bound", "stability", "--graph", "c9", "--cone", "dkp:2", "--json")
    assert code == cli.EXIT_OK
    payload = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    assert isinstance(payload, dict) and payload["bounds"][1]["value"] is None


@pytest.mark.parametrize("cone", ["parrilo:\u0661", "parrilo:1:2", "parrilo:", ":1", "nosuch:1"])
def test_every_cone_is_checked_before_any_solve(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, cone: str
) -> None:
    solved: list[object] = []
    monkeypatch.setattr(cli, "stability_number", lambda *a: solved.append(a))
    code, _, err = call(capsys, "bound", "stability", "--graph", "c5", "--cone", "parrilo:0", cone)
    assert code == cli.EXIT_BAD_INPUT and not solved, err


@pytest.mark.parametrize("grid", ["0", "-3", "2.5", "\u0663"])
def test_stqp_grid_must_be_a_positive_integer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, grid: str
) -> None:
    solved: list[object] = []
    monkeypatch.setattr(cli, "standard_quadratic", lambda *a: solved.append(a))
    path = tmp_path / "q.csv"
    path.write_text("1,0\n0,1\n")
    code, _, err = call(capsys, "bound", "stqp", str(path), "--grid", grid)
    assert code == cli.EXIT_BAD_INPUT and not solved and "--grid" in err


def test_output_onto_a_symlink_writes_the_target(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from copos.nets.datasets import load_problem
    from copos.relaxations.closed_form import soft_threshold_optimum

    data = _small_data(tmp_path)
    net = soft_threshold_optimum(load_problem(data, beta=0.2)).network().save(tmp_path / "n.npz")
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "cert.json"
    link.symlink_to(target)
    argv = ["certify", str(net), str(data), "--beta", "0.2", "--output", str(link)]
    code, _, err = call(capsys, *argv)
    assert code in (cli.EXIT_OK, cli.EXIT_NO), err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text())["objective"] > 0


def test_stqp_csv_reader_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("1" * 200_000 + "\n")  # beyond csv.field_size_limit()
    code, _, err = call(capsys, "bound", "stqp", str(path))
    assert code == cli.EXIT_BAD_INPUT and "cannot read a matrix" in err


@pytest.mark.parametrize(
    ("content", "kind", "message"),
    [
        ("1,2\n3\n", "DataFileError", "different numbers of entries"),
        ("", "DataFileError", "empty"),
        ("1,2\n", "InvalidInputError", "square"),
    ],
)
def test_stqp_malformed_matrices_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, kind: str, message: str
) -> None:
    path = tmp_path / "q.csv"
    path.write_text(content)
    code, out, _ = call(capsys, "bound", "stqp", str(path), "--json")
    assert code == cli.EXIT_BAD_INPUT
    assert message in str(one_json_error(out, code, kind)["message"])


def test_absurd_sizes_are_refused_not_crashed(capsys: pytest.CaptureFixture[str]) -> None:
    cone = "parrilo:" + "9" * 20
    code, out, _ = call(capsys, "bound", "stability", "--graph", "c5", "--cone", cone, "--json")
    assert "10^" in str(one_json_error(out, cli.EXIT_BAD_INPUT, "TooLargeError")["message"])
    code, out, _ = call(capsys, "bound", "stability", "--graph", "?", "--json")  # graph6: 0 nodes
    error = one_json_error(out, cli.EXIT_BAD_INPUT, "InvalidInputError")
    assert "no nodes" in str(error["message"])
    code, out, _ = call(capsys, "--max-memory", "9" * 400, "bound", "stability", "--json")
    one_json_error(out, cli.EXIT_BAD_INPUT, "UsageError")


def test_a_reader_that_goes_away_is_not_an_internal_error() -> None:
    # Before: `copos certify ... --json | head -5` ended in two BrokenPipeError tracebacks.
    process = subprocess.Popen(
        [sys.executable, "-m", "copos.cli", "--json", "bound", "stability", "--graph", "c5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before copos writes anything (its imports alone take ~1 s)
    err = process.stderr.read()
    assert process.wait(timeout=300) == 141
    assert "Traceback" not in err and err == ""
