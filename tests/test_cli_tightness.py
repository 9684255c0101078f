"""``copos tightness`` in-process: options defined once, outputs checked first, Ctrl-C and --resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import copos.cli as cli
import copos.nets.training as training
import copos.study.tightness as tightness
from copos.bound import Bound
from copos.errors import DataFileError

FAST = ["--widths", "2", "3", "--seeds", "0", "--epochs", "20", "--methods", "lifted-dnn", "rel"]


def _fake(calls: list[str], name: str):  # type: ignore[no-untyped-def]
    def method(context):  # type: ignore[no-untyped-def]
        calls.append(name)
        return [Bound.stated(f"{name} value", "lower", 0.0, 0.0, "optimal", True)]

    return method


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace the solver-backed methods by instant fakes that record their calls."""
    made: list[str] = []
    for name in ("lifted-dnn", "rel"):
        monkeypatch.setitem(tightness.METHODS, name, _fake(made, name))
    return made


@pytest.fixture
def trained(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Record every training run."""
    runs: list[tuple[int, int]] = []
    original = training.train

    def counting(problem, width, **kwargs):  # type: ignore[no-untyped-def]
        runs.append((width, kwargs.get("seed", 0)))
        return original(problem, width, **kwargs)

    monkeypatch.setattr(training, "train", counting)
    return runs


def test_a_top_level_tightness_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # Before: `copos --beta 0.5 tightness` silently ran with beta = 0.1.
    for argv in (["--beta", "0.5", "tightness"], ["--widths=3", "tightness"], ["--beta", "1"]):
        assert cli.main(argv) == cli.EXIT_BAD_INPUT
        assert "is an option of 'copos tightness'" in capsys.readouterr().err


def test_the_subcommand_option_is_used(
    calls: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["tightness", "--beta", "0.5", *FAST]) == cli.EXIT_OK
    assert "beta=0.5;" in capsys.readouterr().out


def test_quiet_turns_the_progress_off(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    original = tightness.check_tightness

    def recording(problem, **options):  # type: ignore[no-untyped-def]
        seen.append(options["progress"])
        return original(problem, **options)

    monkeypatch.setattr(cli, "check_tightness", recording)
    monkeypatch.setitem(tightness.METHODS, "lifted-dnn", _fake([], "lifted-dnn"))
    fast = ["--widths", "2", "--seeds", "0", "--epochs", "5", "--methods", "lifted-dnn"]
    assert cli.main(["tightness", *fast, "--quiet"]) == cli.EXIT_OK
    assert cli.main(["tightness", *fast]) == cli.EXIT_OK
    assert seen == [False, True]


def test_bare_copos_runs_the_tightness_job(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    monkeypatch.setattr(cli, "_cmd_tightness", lambda args: seen.append(args) or 0)
    assert cli.main([]) == 0 and cli.main(["--json"]) == 0
    assert [(a.dataset, a.beta, a.widths, a.json) for a in seen] == [
        ("spiral", 0.1, [5, 10, 100], False),
        ("spiral", 0.1, [5, 10, 100], True),
    ]


@pytest.mark.parametrize("option", ["--output-json", "--plot"])
def test_a_bad_output_path_is_refused_before_any_work(
    option: str, calls: list[str], trained: list[tuple[int, int]], tmp_path: Path
) -> None:
    target = str(tmp_path / "no-such-dir" / "report")
    assert cli.main(["tightness", *FAST, option, target]) == cli.EXIT_BAD_INPUT
    assert trained == [] and calls == []


def test_the_table_is_printed_before_the_files_are_written(
    calls: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken(self, path):  # type: ignore[no-untyped-def]
        raise DataFileError("disk full")

    monkeypatch.setattr(tightness.TightnessReport, "save_json", broken)
    code = cli.main(["tightness", *FAST, "--output-json", str(tmp_path / "r.json")])
    out = capsys.readouterr()
    assert code == cli.EXIT_BAD_INPUT and "best upper" in out.out and "disk full" in out.err


def test_interrupt_saves_the_partial_report_and_resume_finishes_it(
    calls: list[str],
    trained: list[tuple[int, int]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def interrupted(context):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setitem(tightness.METHODS, "rel", interrupted)
    path = tmp_path / "report.json"
    assert cli.main(["tightness", *FAST, "--output-json", str(path)]) == cli.EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert f"partial results saved to {str(path)!r}" in err and "--resume" in err
    partial = json.loads(path.read_text())
    assert partial["complete"] is False and len(partial["runs"]) == 2
    assert [row["source"] for row in partial["rows"]] == ["sgd", "sgd", "lifted-dnn"]
    assert trained == [(2, 0), (3, 0)] and calls == ["lifted-dnn"]

    monkeypatch.setitem(tightness.METHODS, "rel", _fake(calls, "rel"))
    code = cli.main(["tightness", *FAST, "--resume", str(path), "--output-json", str(path)])
    assert code == cli.EXIT_OK
    assert trained == [(2, 0), (3, 0)] and calls == ["lifted-dnn", "rel"]  # nothing recomputed
    done = json.loads(path.read_text())
    assert done["complete"] is True
    assert [row["source"] for row in done["rows"]] == ["sgd", "sgd", "lifted-dnn", "rel"]
    assert "rel value" in capsys.readouterr().out


def test_interrupt_without_output_json_saves_next_to_the_user(
    calls: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(
        tightness.METHODS, "lifted-dnn", lambda context: (_ for _ in ()).throw(KeyboardInterrupt())
    )
    assert cli.main(["--json", "tightness", *FAST]) == cli.EXIT_INTERRUPTED
    out = capsys.readouterr().out
    assert json.loads(out)["exit_code"] == cli.EXIT_INTERRUPTED  # one JSON object on stdout
    assert json.loads((tmp_path / cli.DEFAULT_PARTIAL).read_text())["complete"] is False


def test_resume_with_other_options_or_a_bad_file_is_bad_input(
    calls: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "report.json"
    assert cli.main(["tightness", *FAST, "--output-json", str(path)]) == cli.EXIT_OK
    assert (
        cli.main(["tightness", *FAST, "--resume", str(path), "--beta", "0.3"]) == cli.EXIT_BAD_INPUT
    )
    assert "other data or another beta" in capsys.readouterr().err
    assert cli.main(["tightness", *FAST[:-1], "--resume", str(path)]) == cli.EXIT_BAD_INPUT
    assert "options differ" in capsys.readouterr().err
    path.write_text("{")
    assert cli.main(["tightness", *FAST, "--resume", str(path)]) == cli.EXIT_BAD_INPUT
    assert (
        cli.main(["tightness", *FAST, "--resume", str(tmp_path / "missing.json")])
        == cli.EXIT_BAD_INPUT
    )


def test_json_mode_prints_one_strict_json_object(
    calls: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(context):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setitem(tightness.METHODS, "rel", failing)
    assert cli.main(["--json", "tightness", *FAST]) == cli.EXIT_OK
    data = json.loads(capsys.readouterr().out)
    failed = [row for row in data["rows"] if row["status"] == "failed"]
    assert failed == [{**failed[0], "value": None, "kind": "neither", "note": "RuntimeError: boom"}]
    assert "U" not in data["runs"][0]


def test_options_that_would_be_ignored_are_refused(
    calls: list[str], trained: list[tuple[int, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: --pca on the spiral and --bias on the whitened data were silently ignored.
    for extra, message in (
        (["--pca", "2"], "--pca applies to the scikit-learn data sets only"),
        (["--dataset", "whitened", "--bias"], "--bias does not apply to the whitened data"),
    ):
        assert cli.main(["tightness", *FAST, *extra]) == cli.EXIT_BAD_INPUT
        assert message in capsys.readouterr().err
    assert trained == [] and calls == []


def test_plot_without_matplotlib_is_refused_before_any_work(
    calls: list[str],
    trained: list[tuple[int, int]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else real(name, *a),
    )
    assert cli.main(["tightness", *FAST, "--plot", str(tmp_path / "f")]) == cli.EXIT_BAD_INPUT
    assert "needs matplotlib" in capsys.readouterr().err
    assert trained == [] and calls == []


def test_max_memory_holds_inside_the_method_worker(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Methods run in a worker thread; a context-local limit set by --max-memory must reach it
    # (a plain threading.Thread starts with an empty context and would see the default).
    from copos._memory import current_limit

    seen: list[int] = []

    def method(context):  # type: ignore[no-untyped-def]
        seen.append(current_limit())
        return [Bound.stated("probe", "lower", 0.0, 0.0, "optimal", True)]

    monkeypatch.setitem(tightness.METHODS, "rel", method)
    argv = ["tightness", *FAST[:7], "--methods", "rel", "--max-memory", "2G"]
    assert cli.main(argv) == cli.EXIT_OK
    assert seen == [2 * 2**30]
