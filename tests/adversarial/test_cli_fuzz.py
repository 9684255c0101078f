"""CLI fuzz: every command and option with bad values, malformed files and unusable outputs.

Each case runs ``copos.cli.main`` in a child forked from a process that imported copos once
(:mod:`tests.adversarial._cli`), with a time limit and an address-space cap, so a case that the
code under test fails to refuse cannot hang or exhaust the machine.  A few cases also run the
real entry point ``python -m copos.cli``.  Per run: no raw traceback, an exit code in 0-4 and in
the expected set, exit 0 never for a net or certificate that is not optimal, and with ``--json``
exactly one JSON document on stdout (for errors ``{"error": {type, message, exit_code}}``).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from copos.certificates.certificate import OPTIMAL
from copos.certificates.certify import certify
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.datasets import save_data, whitened
from copos.relaxations.closed_form import soft_threshold_optimum
from tests.adversarial._cli import CliRun, contract_problems, run_cli, run_subprocess
from tests.adversarial._collector import Collector, Finding, describe

BAD_INPUT = frozenset({2})
ANSWER = frozenset({0, 1})
ANY_ANSWER = frozenset({0, 1, 2})
#: Time limit of a case that must be refused before any work (seconds).
FAST = 6.0


@dataclass(frozen=True)
class Case:
    """One command line and what the contract allows."""

    name: str
    argv: tuple[str, ...]
    expect: frozenset[int] | None
    false_yes: bool = False
    timeout: float = FAST
    json_variant: bool = True


def _case(name: str, *argv: str, expect: frozenset[int] | None = BAD_INPUT, **kw: object) -> Case:
    return Case(name, tuple(argv), expect, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Good and malformed inputs in one directory (the cases use relative names)."""
    root = tmp_path_factory.mktemp("cli-fuzz")
    problem = whitened(n=3, d=3, c=2, seed=0, beta=0.1)
    save_data(root / "W.npz", problem.X, problem.Y)
    save_data(root / "W.csv", problem.X, problem.Y)
    other = whitened(n=3, d=3, c=2, seed=1, beta=0.1)
    save_data(root / "W2.npz", other.X, other.Y)
    net = soft_threshold_optimum(problem).network()
    net.save(root / "net.npz")
    worse = TwoLayerReLU(net.U * 1.3, net.V * 1.3)
    worse.save(root / "worse.npz")
    rng = np.random.default_rng(0)
    TwoLayerReLU(rng.standard_normal((3, 4)), rng.standard_normal((4, 2))).save(root / "rand.npz")
    U = np.array(net.U)
    U[0, 0] = np.nan
    np.savez(root / "nan_net.npz", U=U, V=net.V)
    np.savez(root / "shape_net.npz", U=np.ones((2, 2)), V=np.ones((2, 2)))
    certify(net, problem, method="exact").save(root / "cert.json")
    uncertified = certify(worse, problem, method="exact")
    uncertified.save(root / "uncert.json")
    forged = uncertified.to_dict()
    forged.update(eps=1e9, verdict=OPTIMAL)
    (root / "forged.json").write_text(json.dumps(forged))
    (root / "garbage.npz").write_bytes(rng.bytes(200))
    (root / "empty.npz").write_bytes(b"")
    (root / "empty.csv").write_text("")
    (root / "garbage.json").write_text("not json {")
    (root / "array.json").write_text("[1, 2]")
    (root / "bom.csv").write_bytes(b"\xef\xbb\xbf" + (root / "W.csv").read_bytes())
    rows = "x0,x1,x2,y0,y1\n1_0,0,0,1,0\n0,1,0,0,1\n0,0,1,1,0\n"
    (root / "underscore.csv").write_text(rows)
    (root / "xylophone.csv").write_text(rows.replace("1_0", "1").replace("x2,", "xylophone,"))
    (root / "nan.csv").write_text(rows.replace("1_0", "nan"))
    (root / "ragged.csv").write_text(rows.replace("0,1,0,0,1", "0,1"))
    np.savez(root / "complex.npz", X=problem.X + 1j, Y=problem.Y)
    np.savez(root / "strings.npz", X=np.array([["a", "b", "c"]] * 3), Y=problem.Y)
    np.savetxt(root / "q3.csv", np.eye(3), delimiter=",")
    (root / "q1.csv").write_text("2\n")
    (root / "q23.csv").write_text("1,2,3\n4,5,6\n")
    (root / "qnan.csv").write_text("1,nan\nnan,1\n")
    np.save(root / "qc.npy", np.eye(2) + 1j)
    (root / "adir").mkdir()
    return root


OUT_MISSING = "no_such_dir/out.json"


def _certify_cases() -> list[Case]:
    base = ("certify", "net.npz", "W.npz", "--beta", "0.1")
    cases = [
        _case("certify optimal (sanity)", *base, expect=frozenset({0})),
        _case(
            "certify worse net",
            "certify",
            "worse.npz",
            "W.npz",
            "--beta",
            "0.1",
            expect=frozenset({1}),
            false_yes=True,
        ),
        _case(
            "certify beta=1e308 (item 1)",
            *base[:3],
            "--beta",
            "1e308",
            expect=frozenset({1, 2}),
            false_yes=True,
        ),
        _case(
            "certify beta=1e-320",
            *base[:3],
            "--beta",
            "1e-320",
            expect=frozenset({1, 2}),
            false_yes=True,
        ),
        _case(
            "certify net on other data",
            "certify",
            "net.npz",
            "W2.npz",
            "--beta",
            "0.1",
            expect=frozenset({1}),
            false_yes=True,
        ),
        _case(
            "certify CSV data",
            "certify",
            "net.npz",
            "W.csv",
            "--beta",
            "0.1",
            expect=frozenset({0}),
        ),
        _case(
            "certify BOM CSV",
            "certify",
            "net.npz",
            "bom.csv",
            "--beta",
            "0.1",
            expect=frozenset({0, 2}),
        ),
    ]
    for eps in ("1e9", "1.0", "0.5", "inf", "nan", "0", "-1", "abc", "0.011"):
        cases.append(
            _case(
                f"certify random --eps {eps}",
                "certify",
                "rand.npz",
                "W.npz",
                "--beta",
                "0.1",
                "--eps",
                eps,
                false_yes=True,
            )
        )
    for beta in ("nan", "-1", "0", "inf", "-inf", "abc", ""):
        cases.append(_case(f"certify --beta {beta!r}", *base[:3], "--beta", beta))
    for net in (
        "missing.npz",
        "adir",
        "garbage.npz",
        "empty.npz",
        "nan_net.npz",
        "shape_net.npz",
        "W.csv",
    ):
        cases.append(_case(f"certify net {net}", "certify", net, "W.npz", "--beta", "0.1"))
    for data in (
        "missing.npz",
        "adir",
        "garbage.npz",
        "empty.csv",
        "underscore.csv",
        "xylophone.csv",
        "nan.csv",
        "ragged.csv",
        "complex.npz",
        "strings.npz",
        "garbage.json",
    ):
        cases.append(_case(f"certify data {data}", "certify", "net.npz", data, "--beta", "0.1"))
    for option, value in (
        ("--method", "magic"),
        ("--lifted", "maybe"),
        ("--solver", "gurobi"),
        ("--output", "adir"),
        ("--output", OUT_MISSING),
    ):
        cases.append(_case(f"certify {option} {value!r}", *base, option, value))
    # an empty name may mean "no file" or be refused, but never a traceback
    cases.append(_case("certify --output ''", *base, "--output", "", expect=frozenset({0, 2})))
    return cases


def _verify_cases() -> list[Case]:
    base = ("verify", "cert.json", "W.npz")
    cases = [
        _case("verify genuine (sanity)", *base, expect=frozenset({0})),
        _case(
            "verify not-certified certificate",
            "verify",
            "uncert.json",
            "W.npz",
            expect=frozenset({1}),
            false_yes=True,
        ),
        _case(
            "verify forged eps+verdict (item 3)",
            "verify",
            "forged.json",
            "W.npz",
            expect=frozenset({1, 2}),
            false_yes=True,
        ),
        _case(
            "verify on other data",
            "verify",
            "cert.json",
            "W2.npz",
            expect=frozenset({1}),
            false_yes=True,
        ),
        _case(
            "verify --beta 0.2 (pinned)",
            *base,
            "--beta",
            "0.2",
            expect=frozenset({1, 2}),
            false_yes=True,
        ),
        _case("verify --eps 1e-3 (pinned)", *base, "--eps", "1e-3", expect=frozenset({0, 2})),
    ]
    for cert in ("missing.json", "adir", "garbage.json", "array.json", "W.npz", "empty.csv"):
        cases.append(_case(f"verify certificate {cert}", "verify", cert, "W.npz"))
    for data in ("missing.npz", "garbage.npz", "nan.csv", "complex.npz"):
        cases.append(
            _case(
                f"verify data {data}",
                "verify",
                "cert.json",
                data,
                expect=frozenset({1, 2}),
                false_yes=True,
            )
        )
    for option, value in (
        ("--eps", "1e9"),
        ("--eps", "nan"),
        ("--eps", "0"),
        ("--beta", "nan"),
        ("--beta", "-1"),
    ):
        cases.append(_case(f"verify {option} {value}", *base, option, value))
    return cases


def _bound_cases() -> list[Case]:
    stab = ("bound", "stability", "--graph", "c5")
    cases = [
        _case("bound without a program (item 9)", "bound", json_variant=False),
        _case(
            "stability grid:2 (sanity)",
            *stab,
            "--cone",
            "grid:2",
            expect=frozenset({0}),
            timeout=30.0,
        ),
        _case(
            "stqp 1x1 matrix (item 10)",
            "bound",
            "stqp",
            "q1.csv",
            "--cone",
            "parrilo:0",
            expect=frozenset({0}),
            timeout=30.0,
        ),
        _case("stability parrilo:9 (item 8)", *stab, "--cone", "parrilo:9", json_variant=False),
        _case("stability grid:200 (item 8)", *stab, "--cone", "grid:200", json_variant=False),
    ]
    for graph in ("bogus", "", "~~~"):
        cases.append(_case(f"stability --graph {graph!r}", "bound", "stability", "--graph", graph))
    for cone in ("parrilo:x", "magic:1", "parrilo:-1", "parrilo", ":1"):
        cases.append(_case(f"stability --cone {cone}", *stab, "--cone", cone))
    cases.append(_case("stability --solver bogus", *stab, "--solver", "bogus"))
    for matrix in (
        "missing.csv",
        "adir",
        "q23.csv",
        "qnan.csv",
        "empty.csv",
        "qc.npy",
        "garbage.npz",
    ):
        cases.append(_case(f"stqp {matrix}", "bound", "stqp", matrix))
    for grid in ("-1", "0", "1000000000", "nan"):
        cases.append(
            _case(
                f"stqp --grid {grid}",
                "bound",
                "stqp",
                "q3.csv",
                "--cone",
                "parrilo:0",
                "--grid",
                grid,
            )
        )
    cases.append(_case("stqp --cone bogus:1", "bound", "stqp", "q3.csv", "--cone", "bogus:1"))
    return cases


def _tightness_cases() -> list[Case]:
    quick = ("--dataset", "planted", "--widths", "2", "--seeds", "0", "--epochs", "5")
    cases = []
    for prefix in (("tightness",), ()):
        where = prefix[0] if prefix else "top-level"
        for beta in ("nan", "-1", "0", "inf", "abc"):
            cases.append(_case(f"{where} --beta {beta}", *prefix, *quick, "--beta", beta))
        for option, value in (
            ("--widths", "0"),
            ("--widths", "-5"),
            ("--epochs", "-1"),
            ("--seeds", "-1"),
            ("--dataset", "bogus"),
            ("--methods", "bogus"),
            ("--dnn-solver", "bogus"),
            ("--convex-solver", "bogus"),
            ("--solver", "bogus"),
        ):
            cases.append(_case(f"{where} {option} {value}", *prefix, *quick, option, value))
        for data in ("missing.npz", "garbage.npz", "nan.csv", "adir"):
            cases.append(
                _case(
                    f"{where} --data {data}",
                    *prefix,
                    "--data",
                    data,
                    "--widths",
                    "2",
                    "--epochs",
                    "5",
                )
            )
        for option, value in (
            ("--output-json", OUT_MISSING),
            ("--output-json", "adir"),
            ("--plot", "no_such_dir/plot"),
        ):
            cases.append(
                _case(
                    f"{where} {option} {value} (item 7)",
                    *prefix,
                    *quick,
                    option,
                    value,
                    json_variant=False,
                )
            )
    cases.append(
        _case(
            "tightness --widths 1e9 (item 8)",
            "tightness",
            "--dataset",
            "planted",
            "--widths",
            "1000000000",
            "--seeds",
            "0",
            "--epochs",
            "1",
            json_variant=False,
        )
    )
    cases.append(
        _case(
            "tightness --pca -1",
            "tightness",
            "--dataset",
            "iris",
            "--pca",
            "-1",
            "--widths",
            "2",
            "--epochs",
            "5",
        )
    )
    cases.append(_case("unknown command", "frobnicate"))
    cases.append(_case("unknown option", "--frobnicate"))
    return cases


def _run_cases(adversarial: Collector, files: Path, cases: list[Case]) -> list[Finding]:
    """Run every case (and its ``--json`` variant), two at a time; record and return findings."""
    runs: list[tuple[Case, tuple[str, ...], bool]] = []
    for case in cases:
        runs.append((case, case.argv, False))
        if case.json_variant:
            runs.append((case, (*case.argv, "--json"), True))
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda r: run_cli(list(r[1]), files, r[0].timeout), runs))
    found: list[Finding] = []
    for (case, _argv, as_json), result in zip(runs, results, strict=True):
        problems = contract_problems(result, case.expect, as_json, case.false_yes)
        label = f"cli {case.name}{' --json' if as_json else ''}"
        found += adversarial.attack(label, problems)  # type: ignore[arg-type]
    return found


ALL_CASES = _certify_cases() + _verify_cases() + _bound_cases() + _tightness_cases()
assert len({case.name for case in ALL_CASES}) == len(ALL_CASES), "case names must be unique"


@pytest.mark.parametrize("case", ALL_CASES, ids=[case.name for case in ALL_CASES])
def test_cli_case(adversarial: Collector, files: Path, case: Case) -> None:
    found = _run_cases(adversarial, files, [case])
    assert not found, describe(found)


def test_help_has_no_markup(adversarial: Collector, files: Path) -> None:
    """Issue 17 item 9: the help text shows reStructuredText markup."""
    found: list[Finding] = []
    for argv in (["--help"], ["certify", "--help"], ["verify", "--help"], ["bound", "--help"]):
        run = run_cli(argv, files, FAST)
        problems = contract_problems(run, frozenset({0}), False, False)
        if "``" in run.stdout:
            problems.append(("contract", "help text shows reStructuredText markup ``...``"))
        found += adversarial.attack(f"cli {' '.join(argv)}", problems)  # type: ignore[arg-type]
    assert not found, describe(found)


ENTRY_POINT_CASES = [
    (("certify", "net.npz", "W.npz", "--beta", "1e308", "--json"), frozenset({1, 2})),
    (("--json", "certify", "rand.npz", "W.npz", "--beta", "0.1", "--eps", "1e9"), BAD_INPUT),
    (("verify", "forged.json", "W.npz", "--json"), frozenset({1, 2})),
]


@pytest.mark.parametrize(
    ("argv", "expect"), ENTRY_POINT_CASES, ids=["beta-1e308", "eps-1e9", "forged"]
)
def test_entry_point(
    adversarial: Collector, files: Path, argv: tuple[str, ...], expect: frozenset[int]
) -> None:
    """The real ``python -m copos.cli`` on the worst cases of issue 17 items 1-3 (none is a yes)."""
    run: CliRun = run_subprocess(list(argv), files, 60.0)
    problems = contract_problems(run, expect, "--json" in argv, false_yes=True)
    found = adversarial.attack(f"python -m copos.cli {' '.join(argv)}", problems)  # type: ignore[arg-type]
    assert not found, describe(found)
