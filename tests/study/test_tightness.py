"""The tightness checker on small instances: directions, gaps, failures, JSON and figures.

No assertion here depends on an interior-point method converging: a real solve may end as a
value, an unverified value (direction "neither") or a failed row, and the invariants checked
hold in every case. Failures are simulated with monkeypatch to prove it.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import copos.study.tightness as tightness
from copos.bound import Bound
from copos.errors import CoposError, DataFileError, InvalidInputError, SolverError
from copos.nets.arrangements import enumerate_arrangements
from copos.nets.datasets import planted, spiral
from copos.nets.problem import TrainingProblem
from copos.relaxations.convex import solve_arrangement_admm
from copos.solvers.base import DEFAULT_ACCURACY
from copos.study.report import KINDS, TightnessReport
from copos.study.tightness import (
    TightnessInterrupted,
    applicability,
    check_tightness,
    enforce_bound_order,
)

ALL = ("lifted-dnn", "lifted-k1", "rel", "certificate", "rounding")


def _tiny(beta: float = 0.1) -> TrainingProblem:
    return spiral(n_per_class=3, classes=2, bias=False, beta=beta)


def assert_consistent(report: TightnessReport, methods: tuple[str, ...]) -> None:
    """What must hold whatever the solvers did."""
    assert {row.source for row in report.rows} >= set(methods)
    for row in report.rows:
        assert row.kind in KINDS
        if row.failed:
            assert row.kind == "neither" and math.isnan(row.value) and ":" in row.note
        if row.kind in ("lower", "exact"):
            assert row.verified and math.isfinite(row.value), row
        if row.kind == "neither":
            assert math.isnan(report.gap(row)) and not row.verified
    best = report.best_upper
    tol = 1e-9 * max(1.0, abs(best))
    for row in report.rows:
        if row.kind == "lower":
            assert row.value <= best + tol, row
    assert report.best_lower <= best + tol
    assert report.best_rigorous_lower <= best + tol
    data = json.loads(report.to_json())  # strict JSON: no NaN, no Infinity
    assert len(data["rows"]) == len(report.rows)


@pytest.fixture(scope="module")
def report() -> TightnessReport:
    problem = spiral(n_per_class=3, classes=2, bias=False, beta=0.1)
    return check_tightness(
        problem, widths=(2, 8), seeds=(0, 1), methods=ALL, epochs=1500, progress=False
    )


def test_every_method_ends_as_rows_and_lower_bounds_are_below_every_network(report) -> None:  # type: ignore[no-untyped-def]
    assert_consistent(report, ALL)
    # The certificate and every "Z, checked" row of a finished solve are recomputed in numpy:
    # at least the certificate exists whatever the solvers did.
    assert report.best_rigorous_lower > -math.inf


def test_rank_two_rel_closes_the_gap_when_it_solves(report) -> None:  # type: ignore[no-untyped-def]
    # Rank-2 data: REL is exact (sahiner2021.md §5); its checked Z bounds within 1e-5.
    checked = next(row for row in report.rows if row.method.startswith("rel Z"))
    if not checked.failed:
        assert checked.rigorous and report.gap(checked) <= 1e-5


def test_checked_rows_are_rigorous_or_failed(report) -> None:  # type: ignore[no-untyped-def]
    checked = [row for row in report.rows if "Z, checked" in row.method]
    assert {row.method.split()[0] for row in checked} <= {"lifted-dnn", "lifted-k1", "rel"}
    assert all(row.failed or (row.rigorous and row.kind == "lower") for row in checked)


def test_json_and_figure(report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = report.save_json(tmp_path / "report.json")
    data = json.loads(path.read_text())
    assert data["best_upper"] == pytest.approx(report.best_upper)
    assert data["complete"] is True
    assert len(data["runs"]) == 4 and len(data["rows"]) == len(report.rows)
    assert {"gap", "kind", "verified", "source"} <= set(data["rows"][0])
    files = report.plot(tmp_path / "figure")
    assert [f.suffix for f in files] == [".png", ".pdf"]
    assert all(f.stat().st_size > 1000 for f in files)
    assert "best upper" in report.table()
    again = TightnessReport.load(path)
    assert [r.method for r in again.rows] == [r.method for r in report.rows]
    assert again.best_upper == report.best_upper
    assert [r.net.U.tolist() for r in again.runs] == [r.net.U.tolist() for r in report.runs]


# ------------------------------------------------------------------ simulated failures


def _fake(rows: list[Bound], calls: list[str] | None = None, name: str = ""):  # type: ignore[no-untyped-def]
    def method(context):  # type: ignore[no-untyped-def]
        if calls is not None:
            calls.append(name)
        return list(rows)

    return method


def _raising(exc: BaseException):  # type: ignore[no-untyped-def]
    def method(context):  # type: ignore[no-untyped-def]
        raise exc

    return method


def _row(
    method: str, kind: str, value: float, verified: bool = True, rigorous: bool = False
) -> Bound:
    return Bound.stated(method, kind, value, 0.0, "optimal", verified, rigorous=rigorous)


@pytest.mark.parametrize("failing", ALL)
def test_a_failing_method_becomes_a_failed_row(
    monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    for name in ALL:
        monkeypatch.setitem(tightness.METHODS, name, _fake([_row(f"{name} value", "lower", 0.0)]))
    monkeypatch.setitem(
        tightness.METHODS, failing, _raising(SolverError("Clarabel NumericalError at iteration 31"))
    )
    report = check_tightness(
        _tiny(), widths=(2,), seeds=(0,), methods=ALL, epochs=20, progress=False
    )
    failed = [row for row in report.rows if row.failed]
    assert [row.source for row in failed] == [failing]
    assert failed[0].note == "SolverError: Clarabel NumericalError at iteration 31"
    assert "failed: SolverError: Clarabel NumericalError" in report.table()
    assert {row.source for row in report.rows if not row.failed} == {"sgd"} | (set(ALL) - {failing})
    assert_consistent(report, ALL)
    data = json.loads(report.to_json())["rows"]
    assert [row["value"] for row in data if row["status"] == "failed"] == [None]


def test_fixture_invariants_hold_when_lifted_k1_fails_like_on_a_fresh_clone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The fresh-clone failure of issue 17 item 5: Clarabel's NumericalError on lifted-k1.
    monkeypatch.setitem(
        tightness.METHODS,
        "lifted-k1",
        _raising(SolverError("clarabel returned status 'solver_error'")),
    )
    methods = ("lifted-dnn", "lifted-k1", "rel", "certificate")
    report = check_tightness(
        _tiny(), widths=(2, 6), seeds=(0,), methods=methods, epochs=300, progress=False
    )
    assert_consistent(report, methods)
    assert [row.source for row in report.rows if row.failed] == ["lifted-k1"]


def test_the_checked_row_is_built_from_the_iterate_a_failed_solve_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = _tiny()
    error = SolverError("stopped at iteration 31")
    error.Z = 0.5 * problem.Y  # type: ignore[attr-defined]  # the last iterate's dual candidate
    monkeypatch.setitem(tightness.METHODS, "rel", _raising(error))
    report = check_tightness(
        problem, widths=(2,), seeds=(0,), methods=("rel",), epochs=20, progress=False
    )
    failed, checked = [row for row in report.rows if row.source == "rel"]
    assert failed.failed and checked.method == "rel (last iterate) Z, checked"
    assert checked.kind == "lower" and checked.rigorous and math.isfinite(checked.value)
    assert checked.value <= report.best_upper


def test_a_missing_dual_candidate_fails_only_its_row() -> None:
    context = tightness._Context(_tiny(), "clarabel", [])
    row = tightness._checked("rel", None, context)
    assert row.failed and "no dual candidate" in row.note


def test_zero_net_optimal_at_beta_100_gives_a_full_report() -> None:
    # beta = 100: the zero net is optimal. Before the fix a SolverError of lifted-k1 there (it
    # fails at n = 6 with Clarabel 0.11) ended the whole report; now every method is a row.
    problem = spiral(n_per_class=2, classes=2, bias=False, beta=100.0)
    methods = ("lifted-dnn", "lifted-k1", "rel", "certificate", "rounding")
    report = check_tightness(
        problem, widths=(2,), seeds=(0,), methods=methods, epochs=200, progress=False
    )
    assert_consistent(report, methods)
    zero_objective = 0.5 * float(np.sum(problem.Y**2))
    assert report.best_upper <= zero_objective * (1 + 1e-3)


def test_unverified_solver_values_have_no_direction(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rows = [
        _row("fake lower", "lower", 1e-3, verified=False),
        _row("fake exact", "exact", 2e-3, verified=False),
    ]
    monkeypatch.setitem(tightness.METHODS, "rel", _fake(rows))
    report = check_tightness(
        _tiny(), widths=(2,), seeds=(0,), methods=("rel",), epochs=20, progress=False
    )
    fake = [row for row in report.rows if row.source == "rel"]
    assert [row.kind for row in fake] == ["neither", "neither"]
    assert math.isinf(report.best_lower) and all(math.isnan(report.gap(row)) for row in fake)
    assert "not verified" in fake[0].note
    assert [row["gap"] for row in json.loads(report.to_json())["rows"][1:]] == [None, None]
    report.plot(tmp_path / "f")  # nothing to draw but the runs: must not fail


def test_a_verified_lower_bound_above_a_network_is_demoted_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 17 item 4/12: "best upper 0.000978; best verified lower 0.001336" must not print.
    monkeypatch.setitem(tightness.METHODS, "rel", _fake([_row("rel (Sahiner, DNN)", "lower", 1e9)]))
    report = check_tightness(
        _tiny(), widths=(2,), seeds=(0,), methods=("rel",), epochs=20, progress=False
    )
    row = report.rows[-1]
    assert row.kind == "neither" and row.status.startswith("DEMOTED (was lower)")
    assert report.best_lower == -math.inf and report.best_lower <= report.best_upper
    assert "WARNING: rel (Sahiner, DNN): lower value" in report.table()
    assert "NOT a bound" in report.warnings[0]


def test_bound_order_invariant() -> None:
    rows = [
        _row("net", "upper", 1.0),
        _row("exact", "exact", 0.5),
        _row("rigorous", "lower", 0.7, rigorous=True),
        _row("solver lower", "lower", 0.6),
        _row("rounding-level", "lower", 1.0 + 1e-12, rigorous=True),
    ]
    fixed, warnings = enforce_bound_order(rows)
    kinds = [row.kind for row in fixed]
    # The exact value lies below a rigorous lower bound: it is the one demoted.
    assert kinds == ["upper", "neither", "lower", "lower", "lower"]
    assert len(warnings) == 1 and "exact" in warnings[0]
    above, _ = enforce_bound_order([_row("net", "upper", 1.0), _row("x", "lower", 2.0)])
    assert above[1].kind == "neither"


def test_non_finite_values_never_count(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [_row("inf lower", "lower", math.inf), _row("nan upper", "upper", math.nan)]
    monkeypatch.setitem(tightness.METHODS, "rel", _fake(rows))
    report = check_tightness(
        _tiny(), widths=(2,), seeds=(0,), methods=("rel",), epochs=20, progress=False
    )
    assert [row.kind for row in report.rows[1:]] == ["neither", "neither"]
    assert math.isfinite(report.best_upper) and math.isinf(report.best_lower)
    assert "Infinity" not in report.to_json() and "NaN" not in report.to_json()


def test_interruption_keeps_what_finished_and_resume_recomputes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[str] = []
    monkeypatch.setitem(
        tightness.METHODS, "lifted-dnn", _fake([_row("dnn", "lower", 0.0)], calls, "dnn")
    )
    monkeypatch.setitem(tightness.METHODS, "rel", _raising(KeyboardInterrupt()))
    problem = _tiny()
    kwargs = {"widths": (2, 3), "seeds": (0,), "methods": ("lifted-dnn", "rel"), "epochs": 20}
    with pytest.raises(TightnessInterrupted) as stop:
        check_tightness(problem, progress=False, **kwargs)
    partial = stop.value.report
    assert not partial.complete and [r.source for r in partial.rows] == ["sgd", "sgd", "lifted-dnn"]
    assert "INCOMPLETE" in partial.table()
    path = partial.save_json(tmp_path / "partial.json")
    assert json.loads(path.read_text())["complete"] is False

    trained: list[int] = []
    import copos.nets.training as training

    original = training.train
    monkeypatch.setattr(training, "train", lambda *a, **k: trained.append(1) or original(*a, **k))
    monkeypatch.setitem(tightness.METHODS, "rel", _fake([_row("rel", "lower", 0.0)], calls, "rel"))
    resumed = check_tightness(problem, progress=False, resume=TightnessReport.load(path), **kwargs)
    assert resumed.complete and trained == [] and calls == ["dnn", "rel"]
    assert [r.net.U.tolist() for r in resumed.runs] == [r.net.U.tolist() for r in partial.runs]
    with pytest.raises(InvalidInputError, match="options differ"):
        check_tightness(problem, progress=False, resume=partial, **{**kwargs, "epochs": 21})
    with pytest.raises(InvalidInputError, match="other data"):
        check_tightness(_tiny(0.2), progress=False, resume=partial, **kwargs)
    data = json.loads(path.read_text())
    data["runs"][0]["objective"] *= 0.5  # an edited upper bound is refused, not trusted
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidInputError, match="objective"):
        check_tightness(problem, progress=False, resume=TightnessReport.load(path), **kwargs)


def test_ctrl_c_during_a_native_solve_is_not_held_up_by_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Clarabel releases the GIL and ignores signals: Ctrl-C used to wait for the whole solve
    # (38 s measured on the spiral). A native call (libc sleep, GIL released) stands in for it.
    import _thread
    import ctypes
    import threading

    libc = ctypes.CDLL(None)
    threads = []

    def native_solve(context):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        threading.Timer(0.1, _thread.interrupt_main).start()  # Ctrl-C, 0.1 s into the solve
        libc.sleep(3)
        return []

    monkeypatch.setitem(tightness.METHODS, "rel", native_solve)
    with pytest.raises(TightnessInterrupted):
        check_tightness(
            _tiny(), widths=(2,), seeds=(0,), methods=("rel",), epochs=20, progress=False
        )
    # The solve runs off the main thread, which keeps waiting in short joins and so takes the
    # interruption at once; in the main thread it would come only after the native call.
    assert threads and threads[0] is not threading.main_thread()


def test_a_report_file_that_is_not_one_is_a_data_file_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    for text in ("not json", "[]", '{"format": 2}', '{"format": 1, "rows": []}'):
        path.write_text(text)
        with pytest.raises(DataFileError):
            TightnessReport.load(path)
    with pytest.raises(DataFileError):
        TightnessReport.load(tmp_path / "missing.json")


# ------------------------------------------------------------------ real solves, small


def test_lifted_dnn_row_from_copos_admm_is_rigorous_and_below_the_networks() -> None:
    problem = planted(n=25, d=20, c=3, seed=1, beta=0.1)
    report = check_tightness(
        problem, widths=(4,), seeds=(0,), methods=("lifted-dnn",), epochs=300, progress=False
    )
    rows = {row.method: row for row in report.rows}
    admm = rows["lifted-dnn (DNN, copos-admm)"]
    assert admm.kind == "lower" and admm.rigorous and admm.verified
    assert "certified" in admm.status
    assert admm.value <= report.best_upper
    assert report.best_rigorous_lower >= admm.value


def test_convex_rows_from_copos_admm_bracket_the_exact_value() -> None:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((14, 2))
    y = np.maximum(X @ rng.standard_normal((2, 3)), 0.0) @ rng.standard_normal(3)
    problem = TrainingProblem.from_data(X, y, 0.1)
    kwargs = {"widths": (3,), "seeds": (0,), "methods": ("convex",), "epochs": 200}
    exact = check_tightness(problem, convex_solver="clarabel", progress=False, **kwargs)
    admm = check_tightness(problem, convex_solver="copos-admm", progress=False, **kwargs)
    rows = {row.method.split(" (")[0]: row for row in admm.rows}
    lower, upper = rows["convex dual"], rows["convex net"]
    assert lower.kind == "lower" and lower.rigorous and lower.verified
    assert upper.kind == "upper"
    assert admm.best_rigorous_lower == lower.value
    # p* between two certified numbers 1e-10 apart (a tight ADMM run's dual bound and network):
    # Clarabel's value is only verified to DEFAULT_ACCURACY and lies 5e-8 above p* here, above
    # the recovered network of the default ADMM run once that run's gap is within its tol.
    tight = solve_arrangement_admm(problem, enumerate_arrangements(problem.X), tol=1e-10)
    p_low, p_high = tight.lower_bound, tight.recovered_objective
    tol = 1e-9 * abs(p_high)
    assert p_low <= p_high <= p_low + tol
    assert lower.value <= p_high + tol and upper.value >= p_low - tol
    value = {row.method: row for row in exact.rows}["convex (Pilanci-Ergen, c=1)"]
    if value.kind == "exact":  # a verified interior-point value (not guaranteed)
        assert abs(value.value - p_high) <= DEFAULT_ACCURACY * abs(p_high)
    with pytest.raises(CoposError):
        check_tightness(problem, convex_solver="cplex-like", progress=False, **kwargs)


def test_sizes_that_do_not_fit_are_skipped_with_a_reason() -> None:
    rng = np.random.default_rng(0)
    big = TrainingProblem.from_data(rng.standard_normal((40, 3)), rng.standard_normal((40, 2)), 0.1)
    assert "activation patterns" in (applicability(big, "rel") or "")
    assert "K^1" in (applicability(big, "lifted-k1") or "")
    assert "c = 1" in (applicability(big, "convex") or "")
    assert applicability(big, "lifted-dnn") is None


def test_bad_arguments() -> None:
    problem = _tiny()
    with pytest.raises(InvalidInputError, match="unknown methods"):
        check_tightness(problem, methods=("sdp",), progress=False)
    with pytest.raises(InvalidInputError, match="at least one width"):
        check_tightness(problem, widths=(), progress=False)
    for bad in (None, "spiral", problem.X):
        with pytest.raises(InvalidInputError, match="TrainingProblem"):
            check_tightness(bad, progress=False)  # type: ignore[arg-type]
    for kwargs in (
        {"widths": (0,)},
        {"seeds": (-1,)},
        {"epochs": 0},
        {"methods": "rel"},
        {"widths": 5},
    ):
        with pytest.raises(InvalidInputError):
            check_tightness(problem, progress=False, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="TightnessReport"):
        check_tightness(
            problem, widths=(2,), seeds=(0,), methods=(), epochs=10, progress=False, resume={}
        )  # type: ignore[arg-type]
    assert math.isinf(
        check_tightness(
            problem, widths=(2,), seeds=(0,), methods=(), epochs=10, progress=False
        ).best_lower
    )


def test_a_report_of_an_output_bias_problem_does_not_resume_a_bias_free_one() -> None:
    problem = planted(n=6, d=2, c=1, seed=0)
    plain = tightness.problem_fingerprint(problem)
    assert plain.endswith(f"bias={bool(problem.bias)}")  # the format of older reports
    assert tightness.problem_fingerprint(problem.with_output_bias()) == plain + ";output_bias=True"


def test_certificate_row_polishes_the_best_net_and_reports_it_as_an_upper_row() -> None:
    # after 30 epochs of Adam the best net is far from a stationary point: polish lowers its
    # objective, the polished net is a real network (an upper row below every SGD row), and the
    # certificate's lower bound, from the polished residual, stays below it
    problem = planted(n=20, d=2, teacher_width=3, beta=0.1, seed=0)
    report = check_tightness(
        problem, widths=(4,), seeds=(0,), methods=("certificate",), epochs=30, progress=False
    )
    rows = {row.method.split(" (")[0]: row for row in report.rows}
    polished, sgd = rows["polished best net"], rows["sgd"]
    certificate = rows["certificate"]
    assert "polished" in certificate.method
    assert polished.kind == "upper" and polished.value < sgd.value
    assert report.best_upper == polished.value
    assert certificate.value <= polished.value + 1e-9 * max(1.0, polished.value)
    assert_consistent(report, ("certificate",))


def test_table_columns_stay_aligned_with_a_long_method_name() -> None:
    rows = [
        Bound.of_network(1.0, method="sgd (adam, m=5)"),
        Bound(0.5, "lower", method="certificate (polished, m=100) and more", view="dual"),
    ]
    report = TightnessReport("toy", 0.1, (4, 2, 1), (5,), (0,), [], rows, {})
    lines = report.table().splitlines()
    header, body = lines[1], lines[3:5]
    column = header.index("bound")
    assert [line[column : column + 5] for line in body] == ["upper", "lower"]


def test_closes_column_is_the_share_of_the_dnn_gap() -> None:
    rows = [
        Bound.of_network(10.0, method="sgd (adam, m=5)", source="sgd"),
        Bound(8.0, "lower", method="lifted-dnn Z, checked", view="dual", source="lifted-dnn"),
        Bound(9.5, "lower", method="rel Z, checked", view="dual", source="rel"),
        Bound(9.9, "lower", method="unverified", view="dual", checked="unverified"),
    ]
    report = TightnessReport("toy", 0.1, (4, 2, 1), (5,), (0,), [], rows, {})
    assert report.dnn_lower == 8.0
    assert [report.closes(row) for row in rows[1:3]] == [0.0, 0.75]
    assert math.isnan(report.closes(rows[0])) and math.isnan(report.closes(rows[3]))
    lines = report.table().splitlines()
    assert "closes" in lines[1] and "75.0%" in lines[5]
    without = TightnessReport("toy", 0.1, (4, 2, 1), (5,), (0,), [], [rows[0], rows[2]], {})
    assert math.isnan(without.dnn_lower) and "closes" not in without.table().splitlines()[1]
    tight = replace(rows[1], value=10.0 - 1e-9)  # a DNN gap at solver accuracy: no shares
    closed = TightnessReport("toy", 0.1, (4, 2, 1), (5,), (0,), [], [rows[0], tight], {})
    assert math.isnan(closed.closes(tight)) and "closes" not in closed.table().splitlines()[1]


def test_quiet_reaches_the_lifted_dnn_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    """``progress=False`` (``copos tightness --quiet`` or ``--json``) silences the lifted DNN's
    own progress lines as well as the training bar."""
    seen: list[bool] = []

    def fake_lifted_dnn(problem: TrainingProblem, **options: object) -> object:
        seen.append(bool(options["quiet"]))
        raise SolverError("stop here")

    monkeypatch.setattr(tightness, "solve_lifted_dnn", fake_lifted_dnn)
    for progress in (False, True):
        check_tightness(_tiny(), [2], [0], ["lifted-dnn"], epochs=5, progress=progress)
    assert seen == [True, False]
