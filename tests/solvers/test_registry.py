"""The solver registry: "auto" rules at their boundaries, errors, and a solver added in one call."""

from __future__ import annotations

import json
import warnings

import cvxpy as cp
import pytest

from copos.cli import UsageError, build_parser, main
from copos.errors import InvalidInputError, UnknownSolverError
from copos.nets.arrangements import sample_arrangements
from copos.nets.datasets import planted
from copos.solvers import registry, solve
from copos.solvers.cvxpy_backend import CVXPY_SOLVERS, DEFAULT_OPTIONS, fallback_chain
from copos.solvers.registry import COPOS_ADMM, Sizes, SolverEntry, cvxpy_entry, resolve
from tests.known import random_problem


@pytest.mark.parametrize(
    ("n", "d", "expected"),
    [
        (25, 10, COPOS_ADMM),
        (24, 10, "clarabel"),
        (25, 9, "clarabel"),
        (100, 4, COPOS_ADMM),
        (99, 4, "clarabel"),
        (100, 3, "clarabel"),
        (99, 9, "clarabel"),
    ],
)
def test_lifted_dnn_auto_rule_at_its_boundaries(n: int, d: int, expected: str) -> None:
    assert resolve("auto", "lifted-dnn", Sizes(n, d)) == expected
    fallback = COPOS_ADMM if expected == COPOS_ADMM else "scs"
    assert resolve("AUTO", "lifted-dnn", Sizes(n, d), fallback="scs") == fallback


@pytest.mark.parametrize(
    ("n", "d", "patterns", "expected"),
    [
        (100, 5, 500, COPOS_ADMM),  # n*P = 50,000 exactly
        (100, 5, 499, "clarabel"),
        (100, 4, 500, "clarabel"),
        (1, 20, 50_000, COPOS_ADMM),
    ],
)
def test_arrangement_auto_rule_at_its_boundaries(
    n: int, d: int, patterns: int, expected: str
) -> None:
    assert resolve("auto", "arrangement", Sizes(n, d, patterns)) == expected


def test_old_names_warn_and_choose_the_same_solver() -> None:
    from copos.relaxations.convex import convex_solver
    from copos.relaxations.lifted import dnn_solver
    from copos.solvers import resolve_solver

    problem = planted(n=25, d=20, c=2)
    with pytest.warns(DeprecationWarning, match="registry.resolve"):
        assert dnn_solver(problem, "auto") == COPOS_ADMM
    small = random_problem(0, n=20, d=5, c=1)
    patterns = sample_arrangements(small.X, 3, seed=0)
    with pytest.warns(DeprecationWarning, match="registry.resolve"):
        assert convex_solver(small, patterns, "auto", fallback="scs") == "scs"
    with pytest.warns(DeprecationWarning, match="registry.resolve"):
        assert resolve_solver("SCS") == "scs"


def test_unknown_names_and_programs_raise() -> None:
    with pytest.raises(
        UnknownSolverError, match="unknown solver 'mosek'; choose one of: clarabel, scs"
    ):
        resolve("mosek")
    with pytest.raises(UnknownSolverError, match="copos-admm"):
        resolve(COPOS_ADMM, "conic")  # the splitting does not solve CVXPY programs
    with pytest.raises(UnknownSolverError, match="'auto'"):
        resolve("auto", "conic")  # no rule: --solver never accepted auto
    with pytest.raises(InvalidInputError, match="sizes"):
        resolve("auto", "lifted-dnn")
    with pytest.raises(InvalidInputError, match="unknown program"):
        resolve("clarabel", "lifted")
    assert registry.check("Auto", "arrangement") == "auto"
    assert registry.check("COPOS-ADMM", "arrangement") == COPOS_ADMM


def test_registration_is_checked() -> None:
    good = SolverEntry(
        "toy", "splitting", frozenset({"arrangement"}), "a toy",
        runners={"arrangement": f"{__name__}:counted_arrangement"},
    )  # fmt: skip
    for bad in (
        SolverEntry("Toy", "splitting", frozenset({"arrangement"}), "upper case"),
        SolverEntry("clarabel", "splitting", frozenset({"arrangement"}), "taken"),
        SolverEntry("toy", "quantum", frozenset({"arrangement"}), "family"),  # type: ignore[arg-type]
        SolverEntry("toy", "splitting", frozenset({"nonsense"}), "program"),
        SolverEntry("toy", "cvxpy", frozenset({"conic"}), "no cvxpy name"),
    ):
        with pytest.raises(InvalidInputError):
            registry.register(bad)
    assert "toy" not in [entry.name for entry in registry.solvers()]
    with registry.registered(good):
        assert registry.choices("arrangement")[:3] == ["auto", COPOS_ADMM, "toy"]
        assert "toy" not in registry.choices("lifted-dnn")
        assert "toy" not in registry.choices("conic")
    with pytest.raises(UnknownSolverError):
        registry.unregister("toy")


def test_a_solver_that_is_not_installed_says_how_to_install_it() -> None:
    entry = cvxpy_entry(
        "nosuch", "never installed", cvxpy_name="NO_SUCH_SOLVER", module="nosuch-py"
    )
    with registry.registered(entry):
        assert not entry.available()
        with pytest.raises(UnknownSolverError, match="not installed; pip install nosuch-py"):
            resolve("nosuch")
        assert [key for key, _ in fallback_chain("scs", {})] == ["scs", "clarabel", "clarabel"]


def test_one_call_adds_a_solver_everywhere_and_leaving_removes_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Clarabel under another name: a CVXPY solver that copos did not know, registered in one call.
    entry = cvxpy_entry("clarabel-copy", "Clarabel again, for the test", cvxpy_name=cp.CLARABEL)
    args = ["tightness", "--solver", "clarabel-copy", "--dnn-solver", "clarabel-copy"]
    with registry.registered(entry):
        parsed = build_parser().parse_args([*args, "--convex-solver", "clarabel-copy"])
        assert (parsed.solver, parsed.dnn_solver, parsed.convex_solver) == ("clarabel-copy",) * 3
        for program in registry.PROGRAMS:
            assert resolve("Clarabel-Copy", program) == "clarabel-copy"
        assert (
            resolve("auto", "lifted-dnn", Sizes(6, 2), fallback="clarabel-copy") == "clarabel-copy"
        )
        assert (
            CVXPY_SOLVERS["clarabel-copy"] == cp.CLARABEL and DEFAULT_OPTIONS["clarabel-copy"] == {}
        )
        x = cp.Variable(2)
        program = cp.Problem(cp.Minimize(cp.sum_squares(x - 3)), [x >= 1, cp.sum(x) <= 4])
        info = solve(program, solver="clarabel-copy")
        assert info.solver == "clarabel-copy" and info.accurate
        assert abs(program.value - 2.0) < 1e-6  # x = (2, 2)
        assert main(["solvers", "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)["solvers"]
        assert {"name": "clarabel-copy", "family": "cvxpy", "installed": True}.items() <= listed[
            -1
        ].items()
        assert (
            "clarabel-copy" in build_parser().format_help() or "clarabel-copy" in _tightness_help()
        )
    assert "clarabel-copy" not in CVXPY_SOLVERS
    assert "clarabel-copy" not in _tightness_help()
    with pytest.raises(UsageError):
        build_parser().parse_args(args)
    with pytest.raises(UnknownSolverError):
        resolve("clarabel-copy")


def test_solvers_command_lists_every_solver_and_the_auto_rules(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["solvers"]) == 0
    out = capsys.readouterr().out
    for name in ("clarabel", "scs", COPOS_ADMM):
        assert name in out
    assert "lifted-dnn auto: copos-admm from n = 25 and d = 10 on" in out
    assert "n*P = 50,000" in out


def test_cvxpy_views_are_the_builtin_table() -> None:
    assert dict(CVXPY_SOLVERS) == {"clarabel": cp.CLARABEL, "scs": cp.SCS}
    assert DEFAULT_OPTIONS["scs"] == {"eps_abs": 1e-7, "eps_rel": 1e-7, "max_iters": 200_000}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the backend itself uses no deprecated name
        assert [key for key, _ in fallback_chain("clarabel", {})] == ["clarabel", "scs", "clarabel"]


def _tightness_help() -> str:
    parser = build_parser()
    sub = next(a for a in parser._subparsers._group_actions)  # type: ignore[union-attr]
    return str(sub.choices["tightness"].format_help())


# --- a second splitting: one registry entry, and every relaxation that serves it calls it -----

CALLS: dict[str, int] = {"lifted-dnn": 0, "arrangement": 0}


def counted_lifted(*args, **kwargs):  # a "new" splitting: copos's ADMM, counted
    from copos.solvers.admm.dnn import solve_lifted_dnn_admm

    CALLS["lifted-dnn"] += 1
    return solve_lifted_dnn_admm(*args, **kwargs)


def counted_arrangement(*args, **kwargs):
    from copos.solvers.admm.arrangement import solve_arrangement_blocks

    CALLS["arrangement"] += 1
    return solve_arrangement_blocks(*args, **kwargs)


SECOND_SPLITTING = SolverEntry(
    "second-admm",
    "splitting",
    frozenset({"lifted-dnn", "arrangement"}),
    "a test-only splitting (copos's ADMM behind another name)",
    runners={
        "lifted-dnn": f"{__name__}:counted_lifted",
        "arrangement": f"{__name__}:counted_arrangement",
    },
)


def test_a_registered_splitting_is_called_by_the_relaxations_without_other_edits() -> None:
    from copos.relaxations.convex import solve_convex_program
    from copos.relaxations.lifted import solve_lifted_dnn
    from copos.study.tightness import check_tightness

    problem = random_problem(4, n=8, d=2, c=1)
    before = dict(CALLS)
    with registry.registered(SECOND_SPLITTING):
        convex = solve_convex_program(problem, solver="second-admm")
        lifted = solve_lifted_dnn(problem, solver="second-admm")
        report = check_tightness(
            problem, widths=(2,), seeds=(0,), epochs=50, methods=("convex",),
            convex_solver="second-admm", progress=False,
        )  # fmt: skip
    assert CALLS["arrangement"] == before["arrangement"] + 2
    assert CALLS["lifted-dnn"] == before["lifted-dnn"] + 1
    reference = solve_convex_program(problem, solver=COPOS_ADMM)
    assert convex.value == reference.value  # the same iterations, bit for bit
    assert lifted.bound.kind in ("lower", "neither") and lifted.bound.certified
    assert any(row.method.startswith("convex dual") for row in report.rows)
    with pytest.raises(UnknownSolverError):
        solve_convex_program(problem, solver="second-admm")


def test_a_splitting_without_a_runner_for_its_program_is_refused() -> None:
    entry = SolverEntry("half-admm", "splitting", frozenset({"arrangement"}), "no runner")
    with pytest.raises(InvalidInputError, match="needs a runner"):
        registry.register(entry)
    assert "half-admm" not in registry.choices("arrangement")
