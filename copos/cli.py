"""The copos command: bounds and certificates for two-layer ReLU networks.

"copos" alone runs the main job, "copos tightness" on its built-in default (the spiral data
at beta = 0.1, widths 5, 10, 100, three seeds). "copos train --out NET" trains a network,
"copos certify NET DATA --beta B" certifies a trained network, "copos verify CERTIFICATE DATA" re-checks a certificate from the data alone,
and "copos bound stability|stqp" bounds the classic copositive programs. Every command accepts
--json (one JSON object on stdout for every outcome, errors included) and --max-memory (models
whose estimated memory exceeds it are refused before they are built).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import os
import re
import sys
import textwrap
import traceback
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn, TextIO

import networkx as nx
import numpy as np

from copos._io import check_output_path
from copos._memory import (
    check_memory,
    default_limit,
    format_size,
    grid_points_bytes,
    memory_limit,
    parse_size,
)
from copos._validation import as_symmetric_matrix
from copos.bound import bounds_to_list
from copos.certificates.certificate import Certificate, json_number
from copos.certificates.certify import MAX_EPS, certify, check_eps
from copos.certificates.improve import DEFAULT_ITERATIONS, ImproveResult, improve
from copos.certificates.sigma_search import DEFAULT_TIME_BUDGET
from copos.certificates.verify import verify
from copos.cones.registry import FAMILIES, check_cone_size
from copos.errors import CoposError, DataFileError, InvalidInputError, SolverError
from copos.nets import datasets
from copos.nets.architectures.conv import NPZ_KIND, POOLINGS, ConvReLU
from copos.nets.architectures.dense import TwoLayerReLU, load_torch, save_torch
from copos.nets.datasets import load_data, load_problem, save_data
from copos.nets.problem import TrainingProblem
from copos.nets.torch_objective import REDUCTIONS, beta_from_weight_decay
from copos.nets.training import DEFAULT_EPOCHS, OPTIMIZERS, train
from copos.programs import (
    Bound,
    exact_stability_number,
    format_table,
    grid_minimum,
    stability_number,
    standard_quadratic,
)
from copos.programs.stability import check_graph
from copos.solvers import registry
from copos.solvers.registry import DEFAULT_SOLVER
from copos.study.report import TightnessReport, plot_paths
from copos.study.tightness import (
    ARCHITECTURES,
    DEFAULT_METHODS,
    METHODS,
    TightnessInterrupted,
    check_tightness,
    conv_architecture,
)

DATASETS = ["spiral", "planted", "whitened", "iris", "wine", "breast_cancer", "digits"]

EXIT_OK, EXIT_NO, EXIT_BAD_INPUT, EXIT_SOLVER, EXIT_INTERNAL = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a reader that went away

EXIT_CODES = f"""exit codes:
  {EXIT_OK}    success (certify: certified globally optimal; verify: the certificate holds
       and says optimal)
  {EXIT_NO}    the answer is no (not certified; the certificate fails or is not optimal)
  {EXIT_BAD_INPUT}    bad input: usage error, invalid or unreadable data, unknown solver, a model
       larger than --max-memory
  {EXIT_SOLVER}    a solver failed
  {EXIT_INTERNAL}    internal error (a bug in copos; set COPOS_DEBUG=1 to see the traceback)
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); finished results are kept
  {EXIT_BROKEN_PIPE}  the reader of the output went away (e.g. `| head`); nothing else is printed"""

#: The subcommands; argv without any of them runs ``copos tightness`` (the main job).
COMMANDS = ("tightness", "train", "certify", "verify", "bound", "solvers", "study")

GRAPHS: dict[str, Callable[[], nx.Graph]] = {
    "c5": lambda: nx.cycle_graph(5),
    "c7": lambda: nx.cycle_graph(7),
    "c9": lambda: nx.cycle_graph(9),
    "petersen": nx.petersen_graph,
    "complement-c7": lambda: nx.complement(nx.cycle_graph(7)),
    "icosahedron": nx.icosahedral_graph,
}

#: (family, level) pairs of the default hierarchy: inner COP upper bounds, an outer lower bound.
DEFAULT_HIERARCHY: tuple[tuple[str, int], ...] = (
    ("parrilo", 0),
    ("parrilo", 1),
    ("dkp", 2),
    ("grid", 4),
)

_CONE = re.compile(r"^([^:]+):([0-9]+)$", re.ASCII)
_CONE_HELP = (
    f"FAMILY:LEVEL, FAMILY one of {', '.join(FAMILIES)} (default "
    + " ".join(f"{family}:{level}" for family, level in DEFAULT_HIERARCHY)
    + ")"
)


def stability_hierarchy(
    graphs: Sequence[str], levels: Sequence[tuple[str, int]], solver: str
) -> list[Bound]:
    """Bounds on alpha(G) for each named graph: exact value first, then each family/level."""
    bounds: list[Bound] = []
    for name in graphs:
        graph = _graph(name)
        exact = exact_stability_number(graph)
        bounds.append(_renamed(exact, name))
        for family, level in levels:
            bounds.append(_renamed(stability_number(graph, family, level, solver), name))
    return bounds


def _renamed(bound: Bound, graph: str) -> Bound:
    return replace(bound, quantity=f"alpha({graph})")


def _graph(name: str) -> nx.Graph:
    key = name.lower()
    if key in GRAPHS:
        return GRAPHS[key]()
    try:
        return nx.from_graph6_bytes(name.encode())
    except Exception as exc:  # networkx raises several exception types for bad graph6
        known = ", ".join(GRAPHS)
        raise InvalidInputError(
            f"unknown graph {name!r}: give one of {known} or a graph6 string"
        ) from exc


def _levels(values: Sequence[str] | None) -> list[tuple[str, int]]:
    """``FAMILY:LEVEL`` pairs (ASCII digits only), or the default hierarchy if none are given."""
    if not values:
        return list(DEFAULT_HIERARCHY)
    pairs = []
    for value in values:
        match = _CONE.match(value)
        if match is None:
            raise InvalidInputError(
                f"--cone expects FAMILY:LEVEL such as parrilo:1 or grid:4; got {value!r}"
            )
        pairs.append((match.group(1), int(match.group(2))))
    return pairs


def _positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1 written with ASCII digits."""
    if not re.fullmatch(r"\+?[0-9]+", text.strip()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1; got {text!r}")
    return int(text)


def _load_matrix(path: str) -> np.ndarray:
    """A matrix from ``.npy`` or from CSV text of plain decimals (a single entry is 1x1)."""
    try:
        if path.endswith(".npy"):
            return np.atleast_2d(np.load(path, allow_pickle=False))
        with open(path, encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if row]
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        raise DataFileError(f"cannot read a matrix from {path!r}: {exc}") from exc
    if not rows:
        raise DataFileError(f"cannot read a matrix from {path!r}: the file is empty")
    widths = sorted({len(row) for row in rows})
    if len(widths) > 1:
        raise DataFileError(
            f"cannot read a matrix from {path!r}: rows have different numbers of entries {widths}"
        )
    return np.array(
        [[_entry(text, path, line) for text in row] for line, row in enumerate(rows, 1)]
    )


def _entry(text: str, path: str, line: int) -> float:
    """One matrix entry: a plain decimal (same rule as the data files)."""
    stripped = text.strip()
    if not datasets.DECIMAL.match(stripped):
        raise DataFileError(
            f"cannot read a matrix from {path!r}: line {line}: {stripped!r} is not a plain "
            "decimal number such as -1.5 or 2e-3"
        )
    return float(stripped)


def _emit(bounds: list[Bound], as_json: bool, title: str) -> None:
    """The table, or with --json one object ``{"title": ..., "bounds": [...]}`` (null, never NaN)."""
    if as_json:
        payload = {"title": title, "bounds": bounds_to_list(bounds)}
        print(json.dumps(payload, indent=2, allow_nan=False))
    else:
        print(format_table(bounds, title))
        print(
            "\nupper/lower: bound on the quantity; 'unverified' marks a solve whose residuals failed the check."
        )


def _problem(args: argparse.Namespace) -> TrainingProblem:
    """The training problem named by ``--data`` (a file) or ``--dataset`` (built in).

    An option that would be ignored is refused: ``--pca`` outside the scikit-learn data sets,
    ``--bias`` on the whitened data (a ones column would break XX^T = I).
    """
    real_data = args.data is None and args.dataset not in ("spiral", "planted", "whitened")
    if args.pca is not None and not real_data:
        raise InvalidInputError(
            "--pca applies to the scikit-learn data sets only (iris, wine, ...)"
        )
    if args.bias and args.data is None and args.dataset == "whitened":
        raise InvalidInputError(
            "--bias does not apply to the whitened data (XX^T = I needs no ones column)"
        )
    if args.data is not None:
        return load_problem(args.data, beta=args.beta, bias=args.bias)
    builders: dict[str, Callable[[], TrainingProblem]] = {
        "spiral": lambda: datasets.spiral(beta=args.beta, bias=args.bias),
        "planted": lambda: datasets.planted(beta=args.beta, bias=args.bias),
        "whitened": lambda: datasets.whitened(beta=args.beta),
    }
    if args.dataset in builders:
        return builders[args.dataset]()
    return datasets.real(args.dataset, pca=args.pca, beta=args.beta, bias=args.bias)[0]


#: Exit code after Ctrl-C (128 + SIGINT); the finished part of the work has been saved.
#: Where an interrupted ``copos tightness`` saves its partial report without --output-json.
DEFAULT_PARTIAL = "copos-tightness.partial.json"


def _cmd_tightness(args: argparse.Namespace) -> int:
    """Check every output target, run (or resume) the check, print the table, then write files.

    Exit 0 once the report is printed, failed methods included (each is a row with its reason);
    2 for bad input or an unusable --resume file; 130 after Ctrl-C, the finished part saved.
    """
    targets = _tightness_targets(args)
    previous = TightnessReport.load(args.resume) if args.resume else None
    problem = _problem(args)
    architecture = conv_architecture(problem, args.arch, args.patch, args.stride, args.pooling)
    try:
        report = check_tightness(
            problem,
            widths=args.widths,
            seeds=args.seeds,
            methods=args.methods,
            solver=args.solver,
            dnn_solver=args.dnn_solver,
            convex_solver=args.convex_solver,
            epochs=args.epochs,
            progress=not (args.json or args.quiet),
            resume=previous,
            robust_eps=args.robust_eps,
            architecture=architecture,
        )
    except TightnessInterrupted as stop:
        return _save_partial(stop.report, targets["partial"], args.json)
    print(report.to_json(weights=False) if args.json else report.table(), flush=True)
    if args.output_json:
        report.save_json(targets["json"])
    if args.plot:
        report.plot(args.plot)
    return EXIT_OK


def _tightness_targets(args: argparse.Namespace) -> dict[str, Path]:
    """Check every file ``copos tightness`` may write, before any work (DataFileError if not)."""
    targets: dict[str, Path] = {}
    if args.output_json:
        targets["json"] = check_output_path(args.output_json, "--output-json")
    if args.plot:
        if importlib.util.find_spec("matplotlib") is None:
            raise CoposError("--plot needs matplotlib: pip install 'copos[plot]'")
        for path in plot_paths(args.plot):
            check_output_path(path, "--plot")
    partial = args.output_json or args.resume or DEFAULT_PARTIAL
    targets["partial"] = Path(partial)
    if args.output_json or args.resume:
        check_output_path(partial, "partial report")
    return targets


def _save_partial(report: TightnessReport, target: Path, as_json: bool) -> int:
    """Write the finished part of an interrupted run atomically; say where; exit 130."""
    try:
        report.save_json(target)
        saved = f"partial results saved to {str(target)!r}; resume with --resume {str(target)!r}"
    except CoposError as exc:
        saved = f"partial results could not be saved: {exc}"
    print(f"copos: interrupted; {saved}", file=sys.stderr)
    if as_json:
        print(
            json.dumps(
                {"interrupted": True, "exit_code": EXIT_INTERRUPTED, "message": saved}, indent=2
            )
        )
    return EXIT_INTERRUPTED


def _load_net(path: str) -> TwoLayerReLU | ConvReLU:
    """The network saved at ``path`` (.npz of :meth:`TwoLayerReLU.save` or
    :meth:`ConvReLU.save`, told apart by its ``kind``, or a torch .pt/.pth)."""
    if Path(path).is_dir():
        raise DataFileError(f"network file {path!r} is a directory; give a .npz or .pt file")
    if path.endswith((".pt", ".pth")):
        return load_torch(path)
    if _npz_kind(path) == NPZ_KIND:
        return ConvReLU.load(path)
    return TwoLayerReLU.load(path)


def _npz_kind(path: str) -> str | None:
    """The ``kind`` entry of an .npz (``None`` when unreadable: the loader then says why)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return str(data["kind"]) if "kind" in data.files else None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return None


def _cmd_certify(args: argparse.Namespace) -> int:
    eps = check_eps(args.eps)  # bad eps, budget or output path: refused before any work
    _check_improve_flags(args)
    for path, flag in ((args.output, "--output"), (args.save_net, "--save-net")):
        if path is not None:
            check_output_path(path, flag)
    X, Y = load_data(args.data)
    net = _load_net(args.net)
    if isinstance(net, ConvReLU) and args.improve:
        raise InvalidInputError("--improve refines dense nets; a CNN is certified as it is")
    problem = _certify_problem(args, X, Y, net)
    progress = _sigma_progress(sys.stderr)
    options = {
        "eps": eps,
        "method": args.method,
        "solver": args.solver,
        "lifted": args.lifted,
        "sigma_budget": _positive_budget(args.sigma_budget),
        "progress": progress,
    }
    improved: ImproveResult | None = None
    if args.improve:
        improved = improve(net, problem, max_iterations=args.rounds, seconds=args.budget, **options)
        certificate = improved.certificate
    else:
        budget = args.budget if math.isfinite(args.budget) else None
        certificate = certify(net, problem, polish=args.polish, polish_budget=budget, **options)
    if progress is not None:
        sys.stderr.write("\n")
    if args.output is not None:
        certificate.save(args.output)
    if args.save_net is not None:
        certificate.network().save(args.save_net)
    if args.json:
        payload = certificate.to_dict()
        if improved is not None:
            payload["improve"] = _improve_dict(improved)
        print(json.dumps(payload, indent=2, allow_nan=False))
    else:
        if improved is not None:
            print(improved.summary())
        print(_certificate_text(certificate))
        for path, what in ((args.output, "certificate"), (args.save_net, "certified net")):
            if path is not None:
                print(f"{what} written to {path}")
    return EXIT_OK if certificate.optimal else EXIT_NO


def _positive_budget(seconds: float) -> float:
    if not (math.isfinite(seconds) and seconds > 0):
        raise InvalidInputError(
            f"--sigma-budget must be a positive number of seconds; got {seconds}"
        )
    return seconds


def _sigma_progress(stream: TextIO) -> Callable[[int, float, float], None] | None:
    """A progress line ``sigma in [lo, hi]`` rewritten in place on a terminal; ``None`` (quiet)
    when ``stream`` is not a TTY."""
    if not stream.isatty():
        return None

    def show(nodes: int, lower: float, upper: float) -> None:
        stream.write(f"\rsigma in [{lower:.10g}, {upper:.10g}]  ({nodes} cones)   ")
        stream.flush()

    return show


def _check_improve_flags(args: argparse.Namespace) -> None:
    """--rounds only goes with --improve, --budget with --improve or --polish; the budget is a
    positive number of seconds."""
    if not args.improve and args.rounds is not None:
        raise InvalidInputError("--rounds applies to --improve only")
    if not (args.improve or args.polish) and args.budget is not None:
        raise InvalidInputError("--budget applies to --improve or --polish only")
    if args.budget is None:
        args.budget = float("inf")
    elif not (args.budget > 0):  # NaN and inf-minus are refused too
        raise InvalidInputError(
            f"--budget must be a positive number of seconds; got {args.budget!r}"
        )
    if args.rounds is None:
        args.rounds = DEFAULT_ITERATIONS
    elif args.rounds < 1:
        raise InvalidInputError(f"--rounds must be at least 1; got {args.rounds!r}")


def _improve_dict(result: ImproveResult) -> dict[str, Any]:
    """The improve loop for --json: why it stopped, its time and one entry per round."""
    rounds = [
        {
            key: json_number(value) if isinstance(value, float) else value
            for key, value in vars(step).items()
        }
        for step in result.history
    ]
    return {"reason": result.reason, "time": json_number(result.time), "rounds": rounds}


def _certify_beta(args: argparse.Namespace, n: int, c: int) -> float:
    """--beta, or beta from PyTorch's --weight-decay and --torch-objective (n c lambda / 2 for
    MSELoss "mean", lambda / 2 for "sum"; :mod:`copos.nets.torch_objective`)."""
    if args.weight_decay is None:
        if args.torch_objective is not None:
            raise InvalidInputError("--torch-objective needs --weight-decay (instead of --beta)")
        return float(args.beta)
    return beta_from_weight_decay(args.weight_decay, n, c, args.torch_objective or "mean")


def _certify_problem(
    args: argparse.Namespace, X: np.ndarray, Y: np.ndarray, net: TwoLayerReLU | ConvReLU
) -> TrainingProblem:
    """The problem of ``copos certify``: an output bias iff the net has one; a net with one
    input more than the data (a first-layer bias) needs --bias."""
    Y2 = Y[:, None] if Y.ndim == 1 else Y
    d = net.architecture.d if isinstance(net, ConvReLU) else net.d
    if not args.bias and X.ndim == 2 and d == X.shape[1] + 1:
        raise InvalidInputError(
            f"the net has d = {net.d} inputs and the data {X.shape[1]} columns: a net with a "
            "first-layer bias (a torch Linear with bias, or copos train --bias) needs --bias"
        )
    return TrainingProblem.from_data(
        X,
        Y,
        _certify_beta(args, X.shape[0], Y2.shape[1]),
        bias=args.bias,
        name=Path(args.data).stem,
        output_bias=net.b is not None,
    )


def _cmd_train(args: argparse.Namespace) -> int:
    """Train one net (output files checked first), save it, print its objective; exit 0."""
    out = check_output_path(args.out, "--out")
    as_torch = out.suffix in (".pt", ".pth")
    if as_torch and importlib.util.find_spec("torch") is None:
        raise CoposError(f"--out {args.out!r} (.pt) needs PyTorch: pip install torch; or use .npz")
    if args.save_data is not None:
        check_output_path(args.save_data, "--save-data")
    problem = _problem(args).with_output_bias(args.output_bias)
    run = train(
        problem,
        args.width,
        optimizer=args.optimizer,
        lr=args.lr,
        epochs=args.epochs,
        seed=args.seed,
        progress=not (args.quiet or args.json),
    )
    if as_torch:
        save_torch(run.net, args.out, input_bias=problem.bias)
    else:
        run.net.save(args.out)
    if args.save_data is not None:
        save_data(args.save_data, problem.X[:, :-1] if problem.bias else problem.X, problem.Y)
    _print_training(args, problem, run)
    return EXIT_OK


def _print_training(args: argparse.Namespace, problem: TrainingProblem, run: Any) -> None:
    """The trained net's objective and where it went (text or --json)."""
    summary = {
        "objective": run.best_objective,
        "data": problem.name,
        "n": problem.n,
        "d": problem.d,
        "c": problem.c,
        "beta": problem.beta,
        "bias": problem.bias,
        "output_bias": problem.output_bias,
        "optimizer": run.optimizer,
        "width": run.width,
        "seed": run.seed,
        "epochs": run.epochs,
        "lr": run.lr,
        "diverged": run.diverged,
        "time": run.time,
        "out": str(args.out),
        "data_file": args.save_data,
    }
    if args.json:
        print(json.dumps(summary, indent=2, allow_nan=False))
        return
    print(
        f"objective F  {run.best_objective:.10g}  ({run.optimizer}, width {run.width}, seed "
        f"{run.seed}, {run.epochs} epochs, {run.time:.1f}s; {problem.name}: n={problem.n}, "
        f"d={problem.d}, c={problem.c}, beta={problem.beta:g})"
    )
    print(f"network written to {args.out}")
    if args.save_data is not None:
        print(f"data written to {args.save_data}")


def _certificate_text(certificate: Certificate) -> str:
    """The verdict with everything it rests on: F, L, sigma, gap, eps and beta."""
    return (
        f"objective F        {certificate.objective:.10g}  (upper bound on p*)\n"
        f"certified lower L  {certificate.lower_bound:.10g}  (sigma {certificate.sigma:.6g} by "
        f"{certificate.method}, rigorous={certificate.rigorous})\n"
        f"sigma in [{certificate.sigma_lower:.10g}, {certificate.sigma:.10g}]  (beta "
        f"{certificate.beta:.10g})\n"
        f"{_lifted_line(certificate)}"
        f"gap F - L          {certificate.gap:.3g}  (relative {certificate.relative_gap:.3g})\n"
        f"eps                {certificate.eps:.3g}  (relative gap accepted as optimal)\n"
        f"beta               {certificate.beta:.10g}\n"
        f"{_original_line(certificate)}"
        f"verdict            {certificate.verdict}: {certificate.reason}"
    )


def _original_line(certificate: Certificate) -> str:
    """For a polished net: the objective of the net handed in and its proven gap."""
    if certificate.original_objective is None:
        return ""
    return (
        f"net handed in      F = {certificate.original_objective:.10g}, within "
        f"{certificate.original_gap:.3g} of p* (relative {certificate.original_relative_gap:.3g});"
        f" the certified net is the polished one (width {certificate.U.shape[1]})\n"
    )


def _lifted_line(certificate: Certificate) -> str:
    lifted = certificate.lifted
    if lifted is None:
        return ""
    return (
        f"lifted DNN bound   {lifted.value:.10g}  (certified; {lifted.solver} {lifted.status}, "
        f"gap {lifted.certificate['gap']:.1e})\n"
    )


def _cmd_verify(args: argparse.Namespace) -> int:
    eps = None if args.eps is None else check_eps(args.eps)
    X, Y = load_data(args.data)
    result = verify(args.certificate, X, Y, eps=eps, beta=args.beta, sigma_budget=args.sigma_budget)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, allow_nan=False))
    else:
        print(result.summary())
    return EXIT_OK if result.optimal else EXIT_NO


def _cmd_stability(args: argparse.Namespace) -> int:
    levels = _levels(args.cone)
    for name in args.graph:  # refuse bad or too large input before solving anything
        size = len(check_graph(_graph(name)))
        for family, level in levels:
            check_cone_size(family, size, level)
    bounds = stability_hierarchy(args.graph, levels, args.solver)
    _emit(bounds, args.json, "Stability number alpha(G)")
    return EXIT_OK


def _cmd_stqp(args: argparse.Namespace) -> int:
    Q = as_symmetric_matrix(_load_matrix(args.matrix), "Q")
    levels = _levels(args.cone)
    for family, level in levels:  # refuse what cannot fit before solving anything
        check_cone_size(family, len(Q), level)
    grid = f"the simplex grid Delta({len(Q)}, {args.grid})"
    check_memory(grid_points_bytes(len(Q), args.grid), grid, "Use a smaller --grid")
    bounds = [standard_quadratic(Q, family, level, args.solver) for family, level in levels]
    bounds.append(grid_minimum(Q, args.grid)[0])
    _emit(bounds, args.json, "Standard quadratic program min x^T Q x over the simplex")
    return EXIT_OK


def _add_problem_arguments(parser: argparse.ArgumentParser) -> None:
    """The training problem: --data or --dataset, --beta, --bias, --pca (see :func:`_problem`)."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", help=".npz (arrays X, Y) or .csv (columns x*, y*) training data")
    source.add_argument(
        "--dataset", default="spiral", choices=DATASETS, help="built-in data (default spiral)"
    )
    parser.add_argument("--beta", type=float, default=0.1, help="weight decay (default 0.1)")
    parser.add_argument(
        "--bias", action="store_true", help="append a ones column (first-layer bias)"
    )
    parser.add_argument(
        "--pca", type=int, default=None, help="PCA components for the scikit-learn data sets"
    )


def _add_tightness_arguments(parser: argparse.ArgumentParser) -> None:
    _add_problem_arguments(parser)
    parser.add_argument("--widths", type=int, nargs="+", default=[5, 10, 100])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress on the terminal (training bar, the lifted DNN solver's lines)",
    )
    parser.add_argument(
        "--methods", nargs="+", default=list(DEFAULT_METHODS), choices=sorted(METHODS)
    )
    parser.add_argument("--epochs", type=int, default=10_000, help="training epochs per run")
    # convolutional nets (issue 18): --arch conv1d --patch 3 [--stride 1 --pooling avg|sum|linear]
    parser.add_argument(
        "--arch",
        choices=ARCHITECTURES,
        default="dense",
        help="conv1d: each row is a 1-D signal; CNN baselines and the CNN's convex program",
    )
    parser.add_argument("--patch", type=_positive_int, default=3, help="conv1d filter taps")
    parser.add_argument("--stride", type=_positive_int, default=1, help="conv1d stride")
    parser.add_argument(
        "--pooling", choices=POOLINGS, default="avg", help="conv1d: global avg/sum, or linear"
    )
    parser.add_argument(
        "--dnn-solver",
        default="auto",
        choices=registry.choices("lifted-dnn"),
        help=f"solver of the lifted DNN relaxation ({registry.describe('lifted-dnn')})",
    )
    parser.add_argument(
        "--convex-solver",
        default="auto",
        choices=registry.choices("arrangement"),
        help=f"solver of the c = 1 convex program ({registry.describe('arrangement')})",
    )
    parser.add_argument(
        "--robust-eps",
        type=float,
        default=None,
        metavar="EPS",
        help="add the l_inf-robust convex program at radius EPS (Bai et al.; c = 1): an upper "
        "bound on the robust objective of its own net, never a lower bound",
    )
    parser.add_argument(
        "--output-json",
        help="also write the report as JSON to this file (with the networks, for --resume); "
        "checked before any work, and the partial report goes there on Ctrl-C",
    )
    parser.add_argument(
        "--plot", help="write the figure to PLOT.png and PLOT.pdf (needs matplotlib)"
    )
    parser.add_argument(
        "--resume",
        metavar="PARTIAL.json",
        help="continue an interrupted run from its partial report (same data and options); "
        "finished runs and methods are not recomputed",
    )


def _add_train_arguments(parser: argparse.ArgumentParser) -> None:
    _add_problem_arguments(parser)
    parser.add_argument(
        "--output-bias", action="store_true", help="an unregularized output bias b (as torch's)"
    )
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="default adam")
    parser.add_argument("--width", type=_positive_int, default=100, help="neurons (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initialisation")
    parser.add_argument(
        "--epochs", type=_positive_int, default=DEFAULT_EPOCHS, help="full-batch steps"
    )
    parser.add_argument(
        "--lr", type=float, default=None, help="step size (default 0.05 adam, 1e-3 gd)"
    )
    parser.add_argument(
        "--out", required=True, help="the network file: .npz, or .pt/.pth (needs PyTorch)"
    )
    parser.add_argument("--save-data", metavar="PATH", help="also write X, Y (.npz or .csv)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _cmd_solvers(args: argparse.Namespace) -> int:
    """Print the registry (:mod:`copos.solvers.registry`) as a table or JSON; exit 0."""
    rows = [
        {
            "name": entry.name,
            "family": entry.family,
            "programs": [p for p in registry.PROGRAMS if entry.serves(p)],
            "installed": bool(entry.available()),
            "description": entry.description,
        }
        for entry in registry.solvers()
    ]
    if args.json:
        rules = {p: registry.describe(p) for p in registry.AUTO_RULES}
        print(json.dumps({"solvers": rows, "auto": rules}, allow_nan=False))
        return EXIT_OK
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        installed = "installed" if row["installed"] else "not installed"
        programs = ", ".join(row["programs"])
        print(f"{row['name']:<{width}}  {row['family']:<9}  {installed:<13}  {programs}")
        print(f"{'':<{width}}  {row['description']}")
    for program in registry.AUTO_RULES:
        print(f"{program} {registry.describe(program)}; else the conic --solver")
    return EXIT_OK


def _misplaced_tightness_option(tokens: Sequence[str]) -> str | None:
    """A tightness option given before any command (``copos --beta 0.5 tightness``), if any."""
    probe = argparse.ArgumentParser(add_help=False)
    _add_tightness_arguments(probe)
    options = set(probe._option_string_actions)
    end = next((i for i, token in enumerate(tokens) if token in COMMANDS), len(tokens))
    return next((t for t in tokens[:end] if t.partition("=")[0] in options), None)


CERTIFY_HELP = f"""Certify that a trained network is a global minimiser of the weight-decay problem.

Prints F (the net's objective), the proven lower bound L, the gap F - L, eps and beta.
"Globally optimal within eps" requires every number finite and F - L <= eps * max(1, |F|),
with 0 < eps <= {MAX_EPS:g}.

--polish certifies the net refined on its own activation patterns (F never increases; the net
handed in is reported too). --improve loops polish -> certify -> insert a neuron along the
witness u of sigma(Z) > beta (a proof that the net is not optimal) until certified, out of
--rounds or out of --budget seconds; --save-net writes the net that was certified.

exit codes: 0 certified optimal; 1 not certified; 2 bad input (eps out of range, unreadable
file, mismatched shapes); 3 solver failure; 4 internal error; 130 interrupted; 141 the reader
of the output went away."""

VERIFY_HELP = """Re-check a certificate from the data alone: the data fingerprint, F, sigma, L and the
gap are recomputed, and the verdict is recomputed from them (the stored verdict must agree).
Prints the verdict, eps, beta, F, L and the gap. Pin what you require with --eps and --beta.

exit codes: 0 the certificate holds and says "globally optimal within eps"; 1 it does not
hold, or holds but says "not certified"; 2 bad input (unreadable or malformed certificate or
data, eps out of range); 3 solver failure; 4 internal error; 130 interrupted; 141 the reader
of the output went away."""


class UsageError(Exception):
    """A command line that argparse refused (exit code 2, like every bad input)."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage


class _Parser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of exiting, so --json can report it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("epilog", EXIT_CODES)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        description = kwargs.get("description")
        if description and "\n" not in description:  # one-line texts are wrapped here
            kwargs["description"] = textwrap.fill(description, 90)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.format_usage())


def _memory_size(text: str) -> int:
    """``--max-memory`` value: bytes of a size such as 4G or 500M."""
    try:
        return parse_size(text)
    except InvalidInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _add_common_arguments(parser: argparse.ArgumentParser, top: bool) -> None:
    """--json, --solver and --max-memory; on subcommands they default to the top level's value."""
    default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
    parser.add_argument(
        "--json", action="store_true", default=default(False), help="print JSON instead of a table"
    )
    parser.add_argument(
        "--solver",
        choices=registry.choices("conic"),
        default=default(DEFAULT_SOLVER),
        help=f"conic solver (default {DEFAULT_SOLVER})",
    )
    parser.add_argument(
        "--max-memory",
        type=_memory_size,
        default=default(None),
        metavar="SIZE",
        help="refuse models whose estimated memory exceeds SIZE, e.g. 4G or 500M (default: half "
        f"of this machine's memory, {format_size(default_limit())})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="copos", description=__doc__)
    _add_common_arguments(parser, top=True)
    parser.set_defaults(handler=None)
    commands = parser.add_subparsers(title="commands")
    tightness = commands.add_parser("tightness", help="every bound against trained networks")
    _add_tightness_arguments(tightness)
    tightness.set_defaults(handler=_cmd_tightness)
    cert = commands.add_parser(
        "certify",
        help="certify a trained network (exit 0 iff certified optimal)",
        description=CERTIFY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cert.add_argument(
        "net",
        help=".npz written by TwoLayerReLU.save or ConvReLU.save, or a torch .pt/.pth module",
    )
    cert.add_argument("data", help=".npz or .csv with X and Y")
    weight_decay = cert.add_mutually_exclusive_group(required=True)
    weight_decay.add_argument("--beta", type=float, help="copos's weight decay beta")
    weight_decay.add_argument(
        "--weight-decay",
        type=float,
        metavar="LAMBDA",
        help="PyTorch's weight_decay (SGD or Adam, coupled L2; not AdamW) instead of --beta: "
        "beta = n*c*LAMBDA/2 for MSELoss mean, LAMBDA/2 for sum",
    )
    cert.add_argument(
        "--torch-objective",
        choices=REDUCTIONS,
        default=None,
        help="the reduction of the net's torch.nn.MSELoss (default mean); with --weight-decay",
    )
    cert.add_argument("--bias", action="store_true", help="the net was trained with a ones column")
    cert.add_argument(
        "--eps",
        type=float,
        default=1e-6,
        help=f"relative gap accepted as optimal, in (0, {MAX_EPS:g}] (default 1e-6)",
    )
    cert.add_argument(
        "--method",
        default="auto",
        choices=["auto", "exact", "streamed", "branch-and-bound", "relaxation", "global"],
    )
    cert.add_argument(
        "--sigma-budget",
        type=float,
        default=DEFAULT_TIME_BUDGET,
        help="seconds for the branch and bound of sigma(Z) above enumeration (default "
        f"{DEFAULT_TIME_BUDGET:g}); a stopped search still gives a proven, wider interval",
    )
    cert.add_argument(
        "--lifted",
        default="auto",
        choices=["auto", "always", "never"],
        help="also use the lifted DNN relaxation's certified bound (auto: 25 <= n <= 500, d >= 10)",
    )
    cert.add_argument(
        "--polish",
        action="store_true",
        help="refine the net on its own activation patterns first and certify the polished net "
        "(never a larger objective; both objectives are reported)",
    )
    cert.add_argument(
        "--improve",
        action="store_true",
        help="loop polish -> certify -> insert a neuron along the witness of non-optimality, "
        "until certified or out of budget",
    )
    cert.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time budget of --improve (checked after each round) or of --polish",
    )
    cert.add_argument(
        "--rounds",
        type=int,
        default=None,
        help=f"largest number of rounds of --improve (default {DEFAULT_ITERATIONS})",
    )
    cert.add_argument("--save-net", help="write the certified (polished or improved) net (.npz)")
    cert.add_argument("--output", help="write the certificate (JSON) to this file")
    cert.set_defaults(handler=_cmd_certify)
    trainer = commands.add_parser(
        "train",
        help="train a network and save it (.npz, or .pt with PyTorch)",
        description="Train a two-layer ReLU net on a built-in data set or a file, on copos's "
        "objective 1/2 ||f(X) - Y||^2 + beta/2 (||U||^2 + ||V||^2), save it and print its "
        "objective. --save-data writes the data (without the ones column) for copos certify.",
    )
    _add_train_arguments(trainer)
    trainer.set_defaults(handler=_cmd_train)
    check = commands.add_parser(
        "verify",
        help="re-check a certificate from the data (exit 0 iff it holds and says optimal)",
        description=VERIFY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("certificate", help="certificate JSON written by copos certify --output")
    check.add_argument("data", help=".npz or .csv with the X and Y that were certified")
    check.add_argument(
        "--eps",
        type=float,
        default=None,
        help=f"the tolerance you require, in (0, {MAX_EPS:g}]: a certificate with a larger eps "
        "fails (default: the certificate's own, which is printed)",
    )
    check.add_argument(
        "--beta",
        type=float,
        default=None,
        help="the weight decay you require: a certificate for another beta fails "
        "(default: the certificate's own, which is printed)",
    )
    check.add_argument(
        "--sigma-budget",
        type=float,
        default=None,
        help="seconds to re-prove a branch-and-bound sigma (default: the certificate's own "
        f"budget, at least {DEFAULT_TIME_BUDGET:g}); a slower machine may need more",
    )
    check.set_defaults(handler=_cmd_verify)
    bound = commands.add_parser(
        "bound",
        help="bounds from the cone hierarchies",
        description="Bounds on classic copositive programs from the cone hierarchies.",
    ).add_subparsers(title="programs", dest="program", metavar="{stability,stqp}", required=True)
    stability = bound.add_parser(
        "stability",
        help="stability number of graphs",
        description="The stability number alpha(G) of each graph: the exact value "
        "(combinatorial), then one bound per cone FAMILY:LEVEL.",
    )
    stability.add_argument(
        "--graph",
        nargs="+",
        default=["c5", "c7", "petersen"],
        help=f"names ({', '.join(GRAPHS)}) or graph6 strings (default c5 c7 petersen)",
    )
    stability.add_argument("--cone", nargs="*", help=_CONE_HELP)
    stability.set_defaults(handler=_cmd_stability)
    stqp = bound.add_parser(
        "stqp",
        help="standard quadratic program from a matrix file (.csv or .npy)",
        description="min x^T Q x over the simplex for a symmetric matrix Q (CSV of plain "
        "decimals, or .npy): one bound per cone FAMILY:LEVEL and the simplex-grid upper bound.",
    )
    stqp.add_argument("matrix", help="Q as .csv (comma separated, one row per line) or .npy")
    stqp.add_argument("--cone", nargs="*", help=_CONE_HELP)
    stqp.add_argument(
        "--grid", type=_positive_int, default=4, help="grid size m of the upper bound (default 4)"
    )
    stqp.set_defaults(handler=_cmd_stqp)
    listing = commands.add_parser(
        "solvers",
        help="the solvers copos knows: family, programs, installed",
        description="Every registered solver, the programs it serves, whether it is installed, "
        "and the rule that --dnn-solver auto / --convex-solver auto follow.",
    )
    listing.set_defaults(handler=_cmd_solvers)
    study = _add_study_parser(commands)
    for sub in (tightness, trainer, cert, check, stability, stqp, listing, study):
        _add_common_arguments(sub, top=False)
    return parser


STUDY_HELP = """Run a study: a grid of data sets x beta x methods x widths x seeds, one cell per
problem, on Dask (a local cluster of one process per core, or --dask-scheduler). Each cell's
result is appended to the results file (JSON Lines) as soon as it ends; running the same command
again skips finished cells, --only failed re-runs the failed ones.

  copos study studies/smoke.toml --results smoke.jsonl
  copos study report smoke.jsonl --out smoke-report

The solver, the time and the memory limits of the cells come from the TOML ([study] solver,
time_limit, memory_limit); --solver and --max-memory would not reach the workers and are
refused (exit 2).

Exit 0 when every cell of the study is finished, 1 when some are failed (or not run)."""


def _add_study_parser(commands: Any) -> argparse.ArgumentParser:
    """``copos study CONFIG.toml ...`` and ``copos study report RESULTS [--out DIR]``."""
    study = commands.add_parser(
        "study", help="run a grid of tightness checks on Dask (resumable)", description=STUDY_HELP
    )
    study.add_argument("config", help="the study's TOML file, or 'report'")
    study.add_argument("results_file", nargs="?", help="with 'report': the results file to read")
    study.add_argument("--results", help="results file (default: NAME.results.jsonl here)")
    study.add_argument(
        "--only", type=str.lower, choices=["failed"], help="re-run only the cells that failed"
    )
    study.add_argument("--workers", type=_positive_int, help="local workers (default: the cores)")
    study.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="tcp://HOST:PORT of a running Dask scheduler (default: $DASK_SCHEDULER_ADDRESS)",
    )
    study.add_argument(
        "--data-dir", help="directory of the paper's data files (overrides the TOML)"
    )
    study.add_argument("--out", default="study-report", help="with 'report': output directory")
    study.set_defaults(handler=_cmd_study)
    return study


def _cmd_study(args: argparse.Namespace) -> int:
    """Run (or resume) a study, or write its report; see ``STUDY_HELP``."""
    from copos.study.config import load_config
    from copos.study.paper_report import write_report
    from copos.study.runner import StudyInterrupted, run_study
    from copos.study.store import ResultsStore

    if args.config == "report":
        if not args.results_file:
            raise InvalidInputError("copos study report needs the results file")
        for path in write_report(args.results_file, args.out)[-2:]:
            print(f"wrote {path}")
        return EXIT_OK
    if args.results_file:
        raise InvalidInputError(f"unexpected argument {args.results_file!r}; give --results FILE")
    if args.solver != DEFAULT_SOLVER or args.max_memory is not None:
        raise InvalidInputError(
            "copos study takes the solver and the memory limit of its cells from the TOML "
            "([study] solver, memory_limit); --solver and --max-memory would not reach the workers"
        )
    config = load_config(args.config, data_dir=args.data_dir)
    store = ResultsStore(args.results or f"{config.name}.results.jsonl", config.name)
    print(
        f"study {config.name}: {len(config.cells)} cells; results in {store.path}", file=sys.stderr
    )
    try:
        summary = run_study(
            config,
            store,
            only_failed=args.only == "failed",
            workers=args.workers,
            scheduler=args.dask_scheduler,
            on_record=None if args.json else _print_cell,
        )
    except StudyInterrupted as stop:
        print(f"copos: interrupted; {stop.summary.text()}", file=sys.stderr)
        return EXIT_INTERRUPTED
    latest = store.latest()
    missing = [
        c.label for c in config.cells if latest.get(c.cell_id, {}).get("status") != "finished"
    ]
    if args.json:
        print(json.dumps({"summary": summary.__dict__, "unfinished": missing}, allow_nan=False))
    else:
        print(summary.text())
        for line in summary.failures:
            print(f"failed: {line}")
    return EXIT_OK if not missing else EXIT_NO


def _print_cell(data: dict[str, Any]) -> None:
    report = data.get("report") or {}
    detail = data.get("reason") or (
        f"U* {report.get('best_upper')}, rigorous L* {report.get('best_rigorous_lower')}"
    )
    print(
        f"{data['status']:>8} {data['label']} ({data.get('time') or 0:.1f} s): {detail}", flush=True
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code (see ``EXIT_CODES``)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    as_json = _wants_json(arguments)
    try:
        parser = build_parser()
        misplaced = _misplaced_tightness_option(arguments)
        if misplaced is not None:
            parser.error(f"{misplaced} is an option of 'copos tightness': put it after the command")
        args = parser.parse_args(arguments)
        if args.handler is None and not any(token in COMMANDS for token in arguments):
            args = parser.parse_args([*arguments, "tightness"])  # no command: the main job
        as_json = bool(getattr(args, "json", as_json))
        handler = getattr(args, "handler", None)
        if handler is None:
            raise UsageError("give a command", parser.format_usage())
        with memory_limit(getattr(args, "max_memory", None)):
            return int(handler(args))
    except UsageError as exc:
        return _fail(exc, EXIT_BAD_INPUT, as_json, exc.usage)
    except SolverError as exc:
        return _fail(exc, EXIT_SOLVER, as_json)
    except CoposError as exc:
        return _fail(exc, EXIT_BAD_INPUT, as_json)
    except KeyboardInterrupt as exc:
        return _fail(exc, EXIT_INTERRUPTED, as_json)
    except BrokenPipeError:
        return _reader_gone()
    except Exception as exc:  # a bug: one line, the traceback only on request
        if os.environ.get("COPOS_DEBUG") == "1":
            traceback.print_exc()
        return _fail(exc, EXIT_INTERNAL, as_json)


def _reader_gone() -> int:
    """stdout's reader closed the pipe: send what is left to /dev/null (so the interpreter's
    final flush cannot fail) and exit quietly with :data:`EXIT_BROKEN_PIPE`."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def _wants_json(arguments: Sequence[str]) -> bool:
    """Whether the command line asks for --json (also abbreviated), before it is parsed."""
    return any(len(arg) >= 3 and "--json".startswith(arg) for arg in arguments)


_PREFIX = {
    EXIT_BAD_INPUT: "error",
    EXIT_SOLVER: "solver failure",
    EXIT_INTERNAL: "internal error",
    EXIT_INTERRUPTED: "interrupted",
}


def _fail(exc: BaseException, code: int, as_json: bool, usage: str = "") -> int:
    """Report ``exc``: one JSON object on stdout with --json, else one line on stderr."""
    message = " ".join(str(exc).split())  # one line, whatever the exception says
    message = message or {EXIT_INTERRUPTED: "stopped by Ctrl-C"}.get(code, type(exc).__name__)
    if code == EXIT_INTERNAL:
        message = f"{type(exc).__name__}: {message}"
    if as_json:
        error = {"type": type(exc).__name__, "message": message, "exit_code": code}
        print(json.dumps({"error": error}, allow_nan=False))
    else:
        print(f"{usage}copos: {_PREFIX[code]}: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
