r"""The data sets of the lifted-CP paper (Prakhya, Birdal & Yurtsever 2024), read from their files.

The training split of each set, preprocessed as the authors' code does (see the reference notes,
``prakhya2024.md`` §5): :math:`(X, Y)` with one-hot :math:`Y` (binary tasks in two columns).

* ``planted`` (instances 0..99) and ``spiral``: the authors' generated data, used whole.
* ``iris``, ``ionosphere``, ``pima``, ``banknote``: raw features, a 50/50 split as
  ``train_test_split(test_size=0.5, random_state=42)`` makes it (a ``RandomState(42)``
  permutation; the first :math:`\lceil n/2\rceil` are the test set). The authors' CSV reader took
  the first data row of ionosphere, Pima and banknote as a header, so that sample is dropped
  (351→350, 768→767, 1372→1371); Iris keeps its 150 rows and drops its index column.
* ``mnist``: the 1000 training images after PCA-20, standardized by one scalar mean and std.

The files are not part of copos: a study names the directory holding them.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from copos.errors import DataFileError, InvalidInputError

FloatArray = NDArray[np.float64]

#: Paper set -> (file name, number of instances or None for a single data set).
PAPER_SETS: dict[str, tuple[str, int | None]] = {
    "planted": ("planted_authors_100.npz", 100),
    "spiral": ("spiral_authors.npz", None),
    "iris": ("Iris.csv", None),
    "ionosphere": ("ionosphere.data", None),
    "pima": ("pima-indians-diabetes.csv", None),
    "banknote": ("data_banknote_authentication.txt", None),
    "mnist": ("mnist_train_downsampled_pca.csv", None),
}

#: The seed of the authors' 50/50 split.
SPLIT_SEED = 42


def check_paper_set(name: str, data_dir: str, instances: Sequence[int | None]) -> None:
    """Refuse a missing file or an instance the set does not have, before any work."""
    file_name, count = PAPER_SETS[name]
    path = Path(data_dir) / file_name
    if not path.is_file():
        raise InvalidInputError(f"the paper's {name} data {os.fspath(path)!r} does not exist")
    if count is None and list(instances) != [None]:
        raise InvalidInputError(f"the paper's {name} data is one data set; drop 'instances'")
    if count is not None:
        bad = [i for i in instances if i is None or not 0 <= i < count]
        if bad:
            raise InvalidInputError(
                f"the paper's {name} data has instances 0..{count - 1}; got {bad}"
            )


def load_paper(
    name: str, data_dir: str, instance: int | None = None
) -> tuple[FloatArray, FloatArray]:
    """``(X, Y)`` of the training split of the paper's set ``name`` (one-hot ``Y``)."""
    if name not in PAPER_SETS:
        raise InvalidInputError(
            f"unknown paper data set {name!r}; choose from {sorted(PAPER_SETS)}"
        )
    path = Path(data_dir) / PAPER_SETS[name][0]
    try:
        return _LOADERS[name](path, instance)
    except (OSError, KeyError, ValueError, IndexError) as exc:
        raise DataFileError(
            f"cannot read the paper's {name} data {os.fspath(path)!r}: {exc}"
        ) from exc


def authors_split(n: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Train and test indices of ``train_test_split(range(n), test_size=0.5, random_state=42)``."""
    n_test = math.ceil(0.5 * n)
    permutation = np.random.RandomState(SPLIT_SEED).permutation(n)
    return permutation[n_test:], permutation[:n_test]


def one_hot_labels(labels: Sequence[str]) -> FloatArray:
    """One column per distinct label (sorted), a 1 in the column of each sample's label."""
    classes = sorted(set(labels))
    index = {label: k for k, label in enumerate(classes)}
    Y = np.zeros((len(labels), len(classes)))
    Y[np.arange(len(labels)), [index[label] for label in labels]] = 1.0
    return Y


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.reader(handle) if row]


def _table_split(
    rows: list[list[str]], features: slice, label: int
) -> tuple[FloatArray, FloatArray]:
    """The authors' training split of a table: features as floats, one-hot labels."""
    X = np.array([[float(v) for v in row[features]] for row in rows])
    Y = one_hot_labels([row[label].strip() for row in rows])
    train, _ = authors_split(len(rows))
    return X[train], Y[train]


def _iris(path: Path, instance: int | None) -> tuple[FloatArray, FloatArray]:
    return _table_split(_rows(path), slice(1, 5), 5)


def _headerless(path: Path, instance: int | None) -> tuple[FloatArray, FloatArray]:
    rows = _rows(path)[1:]  # the authors' reader took the first sample as the header
    return _table_split(rows, slice(0, len(rows[0]) - 1), -1)


def _mnist(path: Path, instance: int | None) -> tuple[FloatArray, FloatArray]:
    rows = _rows(path)[1:]  # a real header (PC1..PC20, label)
    X = np.array([[float(v) for v in row[:-1]] for row in rows])
    X = (X - X.mean()) / X.std()
    return X, one_hot_labels([str(int(float(row[-1]))) for row in rows])


def _spiral(path: Path, instance: int | None) -> tuple[FloatArray, FloatArray]:
    with np.load(path) as data:
        X, labels = np.asarray(data["X"], float), np.asarray(data["Y"])
    return X, one_hot_labels([str(int(v)) for v in labels])


def _planted(path: Path, instance: int | None) -> tuple[FloatArray, FloatArray]:
    with np.load(path) as data:
        return np.asarray(data["X"][instance], float), np.asarray(data["Y"][instance], float)


_LOADERS: dict[str, Callable[[Path, int | None], tuple[FloatArray, FloatArray]]] = {
    "planted": _planted,
    "spiral": _spiral,
    "iris": _iris,
    "ionosphere": _headerless,
    "pima": _headerless,
    "banknote": _headerless,
    "mnist": _mnist,
}
