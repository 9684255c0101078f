r"""A study's configuration (TOML) and its expansion into independent cells.

A study is the grid

.. math::

    \text{cells} = \{(D_i, \beta) : D_i \in \text{instances of every data set},\ \beta \in B\},

and every cell runs :func:`~copos.study.tightness.check_tightness` on one problem with the study's
methods, widths and seeds (the certificate and the rounding use the cell's own SGD runs and
lifted solution, so a problem's methods stay together in one cell). A cell is a frozen,
picklable :class:`CellSpec`; workers build the problem from it (CVXPY problems do not pickle).
Its id is the SHA-256 of its canonical JSON without the data directory and the limits, so the
same cell keeps its id when the data move or a limit is raised.

The TOML layout::

    [study]
    name = "smoke"
    betas = [0.1, 0.01]
    methods = ["lifted-dnn", "rel", "certificate"]
    widths = [5, 10, 100]
    seeds = [0, 1, 2]
    epochs = 2000
    data_dir = "../shared/data"      # optional; relative to the TOML file; --data-dir wins
    time_limit = 1800                # seconds per cell (optional)
    memory_limit = "4G"              # per cell (optional)
    isolate = "process"              # "process": a cell server (child) per worker; "none": in it

    [[datasets]]
    name = "spiral-small"
    source = "builtin"               # builtin | file | paper
    generator = "spiral"             # builtin: spiral | planted | whitened
    params = { n_per_class = 5 }
    instances = [0, 1]               # builtin: seeds; paper: indices (planted); "0:100" = range
    bias = true
    # methods / widths / seeds / epochs / betas may be overridden per data set
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from copos._memory import parse_size
from copos.errors import InvalidInputError, UnknownSolverError
from copos.solvers import registry
from copos.study.paper_data import PAPER_SETS, check_paper_set
from copos.study.tightness import DEFAULT_METHODS, METHODS

#: Generators of built-in data (``source = "builtin"``), from :mod:`copos.nets.datasets`.
BUILTIN_GENERATORS: tuple[str, ...] = ("spiral", "planted", "whitened")
SOURCES: tuple[str, ...] = ("builtin", "file", "paper")
ISOLATION: tuple[str, ...] = ("process", "none")

#: Keys a ``[[datasets]]`` table may hold, and those of ``[study]``.
_DATASET_KEYS = frozenset(
    {
        "name",
        "source",
        "generator",
        "params",
        "instances",
        "path",
        "set",
        "bias",
        "methods",
        "widths",
        "seeds",
        "epochs",
        "betas",
    }
)
_STUDY_KEYS = frozenset(
    {
        "name",
        "betas",
        "methods",
        "widths",
        "seeds",
        "epochs",
        "data_dir",
        "time_limit",
        "memory_limit",
        "isolate",
        "solver",
        "keep_weights",
    }
)


@dataclass(frozen=True)
class CellSpec:
    """One cell: one problem (data set instance, beta, bias) and what to compute on it.

    ``data_dir`` (absolute, for ``paper`` data), a data file's ``path`` (its content counts,
    as ``data_sha256``) and the limits are not part of :attr:`cell_id`.
    """

    study: str
    dataset: str
    source: str
    generator: str
    params: tuple[tuple[str, Any], ...]
    instance: int | None
    beta: float
    bias: bool
    methods: tuple[str, ...]
    widths: tuple[int, ...]
    seeds: tuple[int, ...]
    epochs: int
    solver: str = "clarabel"
    path: str = ""
    data_sha256: str = ""
    data_dir: str = ""
    time_limit: float | None = None
    memory_limit: int | None = None
    isolate: str = "process"
    keep_weights: bool = False

    def identity(self) -> dict[str, Any]:
        """What determines the cell's result: everything but the data directory and limits."""
        data = asdict(self)
        for key in ("data_dir", "time_limit", "memory_limit", "isolate", "keep_weights"):
            data.pop(key)
        data["params"] = dict(self.params)
        data.pop("path")  # a file counts by its content (data_sha256), wherever it lies
        return data

    @property
    def cell_id(self) -> str:
        """SHA-256 (first 16 hex digits) of :meth:`identity` as canonical JSON."""
        text = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        """``dataset[#instance] beta=...`` for tables and logs."""
        instance = "" if self.instance is None else f"#{self.instance}"
        return f"{self.dataset}{instance} beta={self.beta:g}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (read back by :meth:`from_dict`)."""
        data = asdict(self)
        data["params"] = dict(self.params)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CellSpec:
        """The spec written by :meth:`to_dict`."""
        fields = dict(data)
        fields["params"] = tuple(sorted(dict(fields["params"]).items()))
        for key in ("methods", "widths", "seeds"):
            fields[key] = tuple(fields[key])
        return cls(**fields)


@dataclass(frozen=True)
class StudyConfig:
    """A parsed study: its name, where it was read from, and its cells."""

    name: str
    source: Path
    cells: tuple[CellSpec, ...] = field(repr=False)

    @property
    def cell_ids(self) -> list[str]:
        return [cell.cell_id for cell in self.cells]


def load_config(path: str | os.PathLike[str], data_dir: str | None = None) -> StudyConfig:
    """Read and validate a study TOML; expand it into cells (raises :class:`InvalidInputError`)."""
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError(f"cannot read the study config {os.fspath(path)!r}: {exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{os.fspath(path)!r} is not valid TOML: {exc}") from exc
    return parse_config(raw, file, data_dir)


def parse_config(raw: Mapping[str, Any], source: Path, data_dir: str | None = None) -> StudyConfig:
    """Validate the TOML tables ``raw`` (read from ``source``) and expand them into cells."""
    study = _table(raw.get("study"), "[study]")
    _unknown(study, _STUDY_KEYS, "[study]")
    datasets = raw.get("datasets")
    if not isinstance(datasets, list) or not datasets:
        raise InvalidInputError("a study needs at least one [[datasets]] table")
    _unknown(raw, {"study", "datasets"}, "the top level")
    name = _string(study.get("name", source.stem), "[study] name")
    base = _defaults(study, source, data_dir)
    cells: list[CellSpec] = []
    labels: set[str] = set()
    for index, table in enumerate(datasets):
        where = f"[[datasets]] #{index + 1}"
        table = _table(table, where)
        _unknown(table, _DATASET_KEYS, where)
        cells += _dataset_cells(name, table, where, base, source)
        label = cells[-1].dataset
        if label in labels:
            raise InvalidInputError(f"{where}: the data set name {label!r} is used twice")
        labels.add(label)
    ids = [cell.cell_id for cell in cells]
    if len(set(ids)) != len(ids):
        raise InvalidInputError("two cells of the study are the same problem; remove the repeat")
    return StudyConfig(name, source, tuple(cells))


def _defaults(study: Mapping[str, Any], source: Path, data_dir: str | None) -> dict[str, Any]:
    """The study-wide settings, validated; ``data_dir`` made absolute (the option wins)."""
    directory = data_dir if data_dir is not None else study.get("data_dir")
    if directory is not None:
        directory = _string(directory, "data_dir")
        resolved = Path(directory) if data_dir is not None else source.parent / directory
        directory = os.fspath(resolved.expanduser().resolve())
    isolate = study.get("isolate", "process")
    if isolate not in ISOLATION:
        raise InvalidInputError(f"[study] isolate must be one of {ISOLATION}; got {isolate!r}")
    memory = study.get("memory_limit")
    return {
        "betas": _betas(study.get("betas", [0.1]), "[study] betas"),
        "methods": _methods(study.get("methods", list(DEFAULT_METHODS)), "[study] methods"),
        "widths": _ints(study.get("widths", [5, 10, 100]), "[study] widths", 1),
        "seeds": _ints(study.get("seeds", [0, 1, 2]), "[study] seeds", 0),
        "epochs": _ints([study.get("epochs", 10_000)], "[study] epochs", 1)[0],
        "solver": _solver(study.get("solver", "clarabel")),
        "data_dir": directory or "",
        "time_limit": _time_limit(study.get("time_limit")),
        "memory_limit": None if memory is None else parse_size(str(memory)),
        "isolate": isolate,
        "keep_weights": bool(study.get("keep_weights", False)),
    }


def _dataset_cells(
    study: str, table: Mapping[str, Any], where: str, base: Mapping[str, Any], source: Path
) -> list[CellSpec]:
    """The cells of one ``[[datasets]]`` table: its instances times its betas."""
    kind = table.get("source", "builtin")
    if kind not in SOURCES:
        raise InvalidInputError(f"{where}: source must be one of {SOURCES}; got {kind!r}")
    params = _table(table.get("params", {}), f"{where} params")
    generator, path, instances = _data_of(kind, table, where, base, source)
    name = _string(table.get("name", generator or Path(path).stem), f"{where} name")
    template = CellSpec(
        study=study,
        dataset=name,
        source=kind,
        generator=generator,
        params=tuple(sorted(params.items())),
        instance=None,
        beta=0.0,
        bias=bool(table.get("bias", kind == "builtin" and generator == "spiral")),
        methods=_methods(table.get("methods", base["methods"]), f"{where} methods"),
        widths=_ints(table.get("widths", base["widths"]), f"{where} widths", 1),
        seeds=_ints(table.get("seeds", base["seeds"]), f"{where} seeds", 0),
        epochs=_ints([table.get("epochs", base["epochs"])], f"{where} epochs", 1)[0],
        solver=base["solver"],
        path=path,
        data_sha256=_sha256(path) if path else "",
        data_dir=base["data_dir"],
        time_limit=base["time_limit"],
        memory_limit=base["memory_limit"],
        isolate=base["isolate"],
        keep_weights=base["keep_weights"],
    )
    betas = _betas(table.get("betas", base["betas"]), f"{where} betas")
    return [
        replace(template, instance=instance, beta=beta) for instance in instances for beta in betas
    ]


def _data_of(
    kind: str, table: Mapping[str, Any], where: str, base: Mapping[str, Any], source: Path
) -> tuple[str, str, list[int | None]]:
    """``(generator or paper set, file path, instances)`` of a data set table, checked."""
    if kind == "file":
        path = _string(table.get("path"), f"{where} path")
        resolved = (source.parent / path).resolve()
        if not resolved.is_file():
            raise InvalidInputError(
                f"{where}: the data file {os.fspath(resolved)!r} does not exist"
            )
        return "", os.fspath(resolved), [None]
    if kind == "builtin":
        generator = table.get("generator")
        if generator not in BUILTIN_GENERATORS:
            raise InvalidInputError(
                f"{where}: generator must be one of {BUILTIN_GENERATORS}; got {generator!r}"
            )
        return generator, "", _instances(table.get("instances", [0]), where)
    name = table.get("set")
    if name not in PAPER_SETS:
        raise InvalidInputError(f"{where}: set must be one of {sorted(PAPER_SETS)}; got {name!r}")
    if not base["data_dir"]:
        raise InvalidInputError(
            f"{where}: the paper's data sets need a data directory: give --data-dir DIR or "
            "data_dir in [study]"
        )
    instances = _instances(table.get("instances", [None]), where)
    check_paper_set(name, base["data_dir"], instances)
    return name, "", instances


def _sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _instances(value: Any, where: str) -> list[int | None]:
    """A list of instance numbers, or ``"a:b"`` for ``range(a, b)``."""
    if isinstance(value, str):
        try:
            start, stop = (int(part) for part in value.split(":"))
        except ValueError as exc:
            raise InvalidInputError(f"{where}: instances {value!r} is not 'start:stop'") from exc
        value = list(range(start, stop))
    if value == [None]:
        return [None]
    items = _ints(value, f"{where} instances", 0)
    return list(items)


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{where} must be a table; got {value!r}")
    return value


def _unknown(table: Mapping[str, Any], known: frozenset[str] | set[str], where: str) -> None:
    extra = sorted(set(table) - set(known))
    if extra:
        raise InvalidInputError(f"{where}: unknown keys {extra}; known keys {sorted(known)}")


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{what} must be a non-empty string; got {value!r}")
    return value


def _ints(value: Any, what: str, minimum: int) -> tuple[int, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise InvalidInputError(f"{what} must be a non-empty list of integers; got {value!r}")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or item < minimum:
            raise InvalidInputError(f"{what}: {item!r} is not an integer >= {minimum}")
    return tuple(dict.fromkeys(int(item) for item in value))


def _betas(value: Any, what: str) -> tuple[float, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise InvalidInputError(f"{what} must be a non-empty list of positive numbers")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise InvalidInputError(f"{what}: {item!r} is not a number")
        if not (math.isfinite(item) and item > 0):
            raise InvalidInputError(f"{what}: beta must be finite and positive; got {item!r}")
    return tuple(dict.fromkeys(float(item) for item in value))


def _methods(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise InvalidInputError(f"{what} must be a non-empty list of method names")
    unknown = [item for item in value if item not in METHODS]
    if unknown:
        raise InvalidInputError(f"{what}: unknown methods {unknown}; choose from {sorted(METHODS)}")
    return tuple(dict.fromkeys(value))


def _solver(value: Any) -> str:
    try:
        return registry.check(_string(value, "[study] solver"), "conic")
    except UnknownSolverError as exc:
        raise InvalidInputError(f"[study] solver: {exc}") from exc


def _time_limit(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidInputError(
            f"[study] time_limit must be a positive number of seconds; got {value!r}"
        )
    return float(value)
