r"""Data sets for two-layer ReLU training problems, and data files.

Every generator returns a :class:`~copos.nets.problem.TrainingProblem` (for real data, a
``(train, test)`` pair); all randomness comes from ``numpy.random.default_rng(seed)``, so equal
arguments give equal data.

* :func:`spiral` — the 3-class spiral of the lifted-CP paper (Prakhya et al., §5.2).
* :func:`planted` — Gaussian inputs labelled by a random ReLU teacher (§5.1).
* :func:`whitened` — :math:`XX^\top = I_n` with one-hot labels, where the soft-thresholded SVD
  gives the global optimum in closed form (Sahiner et al., §6.3).
* :func:`real` — small classification sets bundled with scikit-learn (never downloaded).
* :func:`load_data` / :func:`save_data` — ``.npz`` or ``.csv`` files holding ``X`` and ``Y``.

CSV layout
----------
UTF-8 text (a leading byte-order mark is ignored), one header row, then one row per sample,
comma separated. A column belongs to ``X`` if its name is ``x``, ``x`` followed by digits
(``x0``, ``x12``) or ``x`` followed by ``_``, ``-``, ``.`` or a space and any label
(``x_petal``); likewise ``y`` for ``Y``. Names are case-insensitive, surrounding spaces are
ignored, columns keep the order they appear in (:func:`save_data` writes
``x0, x1, ..., y0, y1, ...``), and any other name (``xylophone``, ``z0``) or a name used twice
is an error. Every
field is a plain decimal number such as ``-1.5``, ``2``, ``.5`` or ``6.02e23`` (ASCII digits, no
``_`` separators, no hexadecimal); an empty field, ``nan`` or ``inf`` is a missing value and is
rejected with :class:`~copos.errors.InvalidInputError`.
"""

from __future__ import annotations

import csv
import io
import numbers
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos._io import atomic_write
from copos._memory import FLOAT_BYTES, check_memory
from copos._validation import (
    as_finite_array,
    as_real_array,
    check_dimension,
    check_nonnegative,
    check_positive,
)
from copos.errors import CoposError, DataFileError, InvalidInputError
from copos.nets.problem import TrainingProblem

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

RealName = Literal["iris", "wine", "breast_cancer", "digits"]
REAL_DATASETS: tuple[str, ...] = ("iris", "wine", "breast_cancer", "digits")
DATA_SUFFIXES: tuple[str, ...] = (".npz", ".csv")

#: A CSV column name: ``x``/``y`` alone, followed by digits, or by a separator and a label.
COLUMN_NAME = re.compile(r"^([xy])(?:\d*|[_\-. ].*)$", re.IGNORECASE | re.DOTALL)
#: A CSV number: optional sign, ASCII decimal digits with an optional point and exponent.
DECIMAL = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$", re.ASCII)
#: Spellings of a missing value (all rejected later, with the sample they occur in).
MISSING = frozenset(
    {"", "nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
)
COLUMN_RULE = (
    "a column is x or y, alone, followed by digits (x0, y1) or by _, -, . or a space and a "
    "label (x_petal)"
)

SKLEARN_HINT = (
    "scikit-learn is needed for copos.nets.datasets.real (its bundled data sets); install it with "
    "`pip install scikit-learn` (or `pip install copos[data]`)."
)


# ---------------------------------------------------------------------------- small helpers
def _check_arrays(floats: int, what: str) -> None:
    """Refuse data whose float64 arrays (``floats`` entries in all) would not fit in memory."""
    check_memory(FLOAT_BYTES * floats, what, "Ask for less data")


def _check_seed(seed: Any) -> int:
    """Return a nonnegative integer seed."""
    return check_dimension(seed, "seed", minimum=0)


def one_hot(labels: ArrayLike, classes: int | None = None) -> FloatArray:
    r"""One-hot encode integer labels: :math:`Y_{ik} = \mathbb 1[\ell_i = k]`.

    Parameters
    ----------
    labels:
        Integer class labels in ``0..classes-1``, shape ``(n,)`` (float arrays holding whole
        numbers are accepted).
    classes:
        Number of classes ``c``; default ``max(labels) + 1``.

    Returns
    -------
    numpy.ndarray
        ``Y`` of shape ``(n, c)`` with entries in ``{0, 1}`` and one 1 per row.
    """
    raw = as_finite_array(labels, "labels", ndim=1)
    if raw.size and (np.any(raw != np.round(raw)) or np.any(raw < 0)):
        raise InvalidInputError("labels must be nonnegative integers 0..c-1")
    ints = raw.astype(np.int64)
    count = int(ints.max()) + 1 if ints.size else 0
    if classes is not None:
        classes = check_dimension(classes, "classes")
        if count > classes:
            raise InvalidInputError(f"labels go up to {count - 1} but classes={classes}")
        count = classes
    _check_arrays(ints.size * count, f"one-hot labels of {ints.size} samples and {count} classes")
    Y = np.zeros((ints.size, count))
    Y[np.arange(ints.size), ints] = 1.0
    return Y


# ---------------------------------------------------------------------------- generators
def spiral(
    n_per_class: int = 20,
    classes: int = 3,
    noise: float = 0.15,
    seed: int = 0,
    beta: float = 0.1,
    bias: bool = True,
) -> TrainingProblem:
    r"""Interleaved spirals in :math:`\mathbb R^2`, one arm per class, one-hot labels.

    For class :math:`k = 0..K-1` and :math:`i = 0..N-1` (``N = n_per_class``):

    .. math::

        r_i = \tfrac12\,\tfrac{i}{N-1},\qquad
        t_i = 4k + 4\tfrac{i}{N-1} + \sigma\,\varepsilon_i,\ \varepsilon_i\sim\mathcal N(0,1),
        \qquad x = (r_i\sin t_i,\ r_i\cos t_i),

    as in Prakhya et al. (§5.2, ``σ = 0.15``). The defaults give ``n = 60``, ``d = 2`` (3 with
    the bias column) and ``c = 3``. Rows are ordered by class.

    Parameters
    ----------
    n_per_class:
        Points per class, ``>= 2``.
    classes:
        Number of classes ``K >= 2``.
    noise:
        Standard deviation ``σ >= 0`` of the angle noise.
    seed:
        Seed of ``numpy.random.default_rng``.
    beta:
        Weight decay of the returned problem.
    bias:
        Append a ones column to ``X`` (first-layer bias).

    Examples
    --------
    >>> from copos.nets.datasets import spiral
    >>> problem = spiral(n_per_class=10, classes=3, beta=0.1)
    >>> problem.X.shape, problem.Y.shape, problem.bias  # the ones column is the third
    ((30, 3), (30, 3), True)
    >>> problem.Y.sum(axis=0).tolist()  # one-hot, ordered by class
    [10.0, 10.0, 10.0]
    """
    n_per_class = check_dimension(n_per_class, "n_per_class", minimum=2)
    classes = check_dimension(classes, "classes", minimum=2)
    noise = check_nonnegative(noise, "noise")
    n = n_per_class * classes
    _check_arrays(n * (2 * classes + 6), f"the spiral with {n} samples and {classes} classes")
    rng = np.random.default_rng(_check_seed(seed))
    radius = np.linspace(0.0, 1.0, n_per_class) / 2
    blocks = []
    for k in range(classes):
        angle = np.linspace(4.0 * k, 4.0 * (k + 1), n_per_class)
        angle = angle + noise * rng.standard_normal(n_per_class)
        blocks.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
    X = np.vstack(blocks)
    Y = one_hot(np.repeat(np.arange(classes), n_per_class), classes)
    return TrainingProblem.from_data(X, Y, beta, bias=bias, name="spiral")


def planted(
    n: int = 25,
    d: int = 2,
    c: int = 5,
    teacher_width: int = 100,
    seed: int = 0,
    beta: float = 0.1,
    bias: bool = False,
    noise: float = 0.0,
) -> TrainingProblem:
    r"""Gaussian inputs labelled by a random two-layer ReLU teacher.

    Draws (in this order) :math:`U_g \in \mathbb R^{d\times m_g}`,
    :math:`V_g \in \mathbb R^{m_g\times c}` and :math:`X \in \mathbb R^{n\times d}` with i.i.d.
    :math:`\mathcal N(0,1)` entries and sets

    .. math::

        Y = (XU_g)_+ V_g + \sigma E,\qquad E_{ij}\sim\mathcal N(0,1),

    as in Prakhya et al. (§5.1: ``n=25, d=2, c=5, m_g=100``, noiseless, so entries of ``Y`` can
    reach about 50). The noise ``E`` is drawn only when ``σ > 0``.

    Parameters
    ----------
    n, d, c:
        Samples, input dimension (before any bias column) and outputs, all ``>= 1``.
    teacher_width:
        Width ``m_g >= 1`` of the teacher.
    seed:
        Seed of ``numpy.random.default_rng``.
    beta:
        Weight decay of the returned problem.
    bias:
        Append a ones column to ``X`` after generating ``Y`` (the teacher has no bias).
    noise:
        Standard deviation ``σ >= 0`` of additive label noise.
    """
    n = check_dimension(n, "n")
    d = check_dimension(d, "d")
    c = check_dimension(c, "c")
    teacher_width = check_dimension(teacher_width, "teacher_width")
    noise = check_nonnegative(noise, "noise")
    _check_arrays(
        2 * n * (d + teacher_width + 2 * c) + teacher_width * (d + c),
        f"planted data with n = {n}, d = {d}, c = {c} and a width-{teacher_width} teacher",
    )
    rng = np.random.default_rng(_check_seed(seed))
    U_teacher = rng.standard_normal((d, teacher_width))
    V_teacher = rng.standard_normal((teacher_width, c))
    X = rng.standard_normal((n, d))
    Y = np.maximum(X @ U_teacher, 0.0) @ V_teacher
    if noise > 0:
        Y = Y + noise * rng.standard_normal(Y.shape)
    return TrainingProblem.from_data(X, Y, beta, bias=bias, name="planted")


def _class_labels(
    n: int, c: int, class_sizes: Sequence[int] | None, rng: np.random.Generator
) -> IntArray:
    """Labels with the given class sizes, or random labels using every class when ``n >= c``."""
    if class_sizes is not None:
        sizes = [check_dimension(size, "class size", minimum=0) for size in class_sizes]
        if len(sizes) != c or sum(sizes) != n:
            raise InvalidInputError(
                f"class_sizes must have c={c} entries summing to n={n}; got {list(class_sizes)}"
            )
        return np.repeat(np.arange(c), sizes).astype(np.int64)
    labels = rng.integers(0, c, size=n)
    if n >= c:  # make every class non-empty: the first c positions of a permutation get 0..c-1
        labels[rng.permutation(n)[:c]] = np.arange(c)
    return np.sort(labels).astype(np.int64)


def whitened(
    n: int = 6,
    d: int = 8,
    c: int = 3,
    seed: int = 0,
    beta: float = 0.1,
    class_sizes: Sequence[int] | None = None,
) -> TrainingProblem:
    r"""Whitened data, :math:`XX^\top = I_n` (``n <= d``), with one-hot labels.

    ``X = Qᵀ`` where ``Q`` (d×n) is the orthonormal factor of a Gaussian matrix, so the rows of
    ``X`` are orthonormal. With class sizes :math:`n_k` the soft-thresholded SVD gives the global
    optimum (Sahiner et al., §6.3):
    :math:`p^\star = \sum_{\sqrt{n_k}\le\beta}\tfrac12 n_k + \sum_{\sqrt{n_k}>\beta}
    (\beta\sqrt{n_k} - \tfrac12\beta^2)`. No bias column is added (it would break
    :math:`XX^\top = I`).

    Parameters
    ----------
    n, d, c:
        Samples, dimension (``d >= n``) and classes.
    seed:
        Seed of ``numpy.random.default_rng``.
    beta:
        Weight decay of the returned problem.
    class_sizes:
        Sizes :math:`n_k` (``c`` nonnegative integers summing to ``n``). Default: random labels,
        every class non-empty when ``n >= c``. Rows are ordered by class.

    Examples
    --------
    >>> import numpy as np
    >>> from copos.nets.datasets import whitened
    >>> problem = whitened(n=6, d=8, c=3, class_sizes=[3, 2, 1])
    >>> bool(np.allclose(problem.X @ problem.X.T, np.eye(6)))
    True
    >>> problem.Y.sum(axis=0).tolist()
    [3.0, 2.0, 1.0]
    """
    n = check_dimension(n, "n")
    d = check_dimension(d, "d")
    c = check_dimension(c, "c")
    if n > d:
        raise InvalidInputError(f"whitened data needs n <= d for XXᵀ = I_n; got n={n}, d={d}")
    _check_arrays(4 * d * n + 2 * n * c, f"whitened data with n = {n}, d = {d}, c = {c}")
    rng = np.random.default_rng(_check_seed(seed))
    Q, _ = np.linalg.qr(rng.standard_normal((d, n)))
    labels = _class_labels(n, c, class_sizes, rng)
    return TrainingProblem.from_data(Q.T, one_hot(labels, c), beta, name="whitened")


# ---------------------------------------------------------------------------- real data
def _split_indices(
    labels: IntArray, test_fraction: float, rng: np.random.Generator, stratify: bool
) -> tuple[IntArray, IntArray]:
    """Train and test indices (each sorted); stratified keeps class proportions per class."""
    groups = (
        [np.flatnonzero(labels == k) for k in np.unique(labels)]
        if stratify
        else [np.arange(labels.size)]
    )
    test: list[IntArray] = []
    for group in groups:
        shuffled = rng.permutation(group)
        n_test = min(int(round(test_fraction * group.size)), group.size - 1)
        test.append(shuffled[:n_test])
    test_idx = np.sort(np.concatenate(test)).astype(np.int64)
    if test_idx.size == 0:
        raise InvalidInputError(
            f"test_fraction={test_fraction} leaves no test samples; increase it"
        )
    train_idx = np.setdiff1d(np.arange(labels.size), test_idx).astype(np.int64)
    return train_idx, test_idx


def _standardize(train: FloatArray, test: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Standardize both with the training mean and std (constant features keep std 1)."""
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std[std <= 1e-12 * max(1.0, float(np.max(np.abs(train))))] = 1.0
    return (train - mean) / std, (test - mean) / std


def _pca(train: FloatArray, test: FloatArray, k: int) -> tuple[FloatArray, FloatArray]:
    """Project onto the top ``k`` principal directions of the (centred) training data.

    Directions come from the SVD of the centred training matrix; each direction's sign is
    fixed so that its largest-magnitude entry is positive (deterministic output).
    """
    mean = train.mean(axis=0)
    _, _, Vt = np.linalg.svd(train - mean, full_matrices=False)
    components = Vt[:k]
    pivots = components[np.arange(k), np.argmax(np.abs(components), axis=1)]
    components = components * np.where(pivots < 0, -1.0, 1.0)[:, None]
    return (train - mean) @ components.T, (test - mean) @ components.T


def _load_bundled(name: str) -> tuple[FloatArray, IntArray]:
    """Features and labels of a data set bundled with scikit-learn (no download)."""
    try:
        from sklearn import datasets as sk_datasets
    except ImportError as exc:
        raise CoposError(SKLEARN_HINT) from exc
    loader = getattr(sk_datasets, f"load_{name}")
    bunch = loader()
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)


def real(
    name: RealName,
    *,
    pca: int | None = None,
    test_fraction: float = 0.25,
    seed: int = 0,
    beta: float = 0.1,
    bias: bool = True,
    stratify: bool = True,
) -> tuple[TrainingProblem, TrainingProblem]:
    r"""A bundled scikit-learn classification set as a ``(train, test)`` pair of problems.

    Uses only the loaders that ship with scikit-learn (``load_iris``, ``load_wine``,
    ``load_breast_cancer``, ``load_digits``); nothing is downloaded. Steps:

    1. seeded split (stratified by class by default), ``round(test_fraction * n_k)`` test
       samples per class (at least one training sample per class is kept);
    2. standardization :math:`x \mapsto (x - \mu)/\sigma` with the **training** mean and std
       (constant features are only centred);
    3. optionally PCA to ``pca`` components, fitted by SVD on the training split;
    4. one-hot labels over all classes of the data set; a ones column if ``bias``.

    Parameters
    ----------
    name:
        ``"iris"`` (150×4, 3 classes), ``"wine"`` (178×13, 3), ``"breast_cancer"`` (569×30, 2)
        or ``"digits"`` (1797×64, 10).
    pca:
        Number of principal components to keep, or ``None`` for all features.
    test_fraction:
        Fraction of samples in the test split, ``0 < test_fraction < 1``.
    seed:
        Seed of ``numpy.random.default_rng`` for the split.
    beta:
        Weight decay of both problems.
    bias:
        Append a ones column to ``X`` of both problems.
    stratify:
        Split each class separately (keeps class proportions).

    Raises
    ------
    CoposError
        scikit-learn is not installed.
    """
    if name not in REAL_DATASETS:
        raise InvalidInputError(
            f"unknown data set {name!r}; choose one of {', '.join(REAL_DATASETS)}"
        )
    if (
        isinstance(test_fraction, bool)
        or not isinstance(test_fraction, numbers.Real)
        or not 0 < test_fraction < 1
    ):
        raise InvalidInputError(f"test_fraction must be in (0, 1); got {test_fraction!r}")
    rng = np.random.default_rng(_check_seed(seed))
    features, labels = _load_bundled(name)
    classes = int(labels.max()) + 1
    train_idx, test_idx = _split_indices(labels, float(test_fraction), rng, stratify)
    X_train, X_test = _standardize(features[train_idx], features[test_idx])
    if pca is not None:
        limit = min(train_idx.size, features.shape[1])
        pca = check_dimension(pca, "pca")
        if pca > limit:
            raise InvalidInputError(
                f"pca must be <= min(n_train, d) = {limit} for {name!r}; got {pca}"
            )
        X_train, X_test = _pca(X_train, X_test, pca)
    train = TrainingProblem.from_data(
        X_train, one_hot(labels[train_idx], classes), beta, bias=bias, name=f"{name}-train"
    )
    test = TrainingProblem.from_data(
        X_test, one_hot(labels[test_idx], classes), beta, bias=bias, name=f"{name}-test"
    )
    return train, test


# ---------------------------------------------------------------------------- files


def _check_xy(X: ArrayLike, Y: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Finite 2-D ``X`` (n×d) and ``Y`` (n×c, a 1-D ``Y`` becomes a column), non-empty."""
    X_arr = as_finite_array(X, "X", ndim=2)
    Y_arr = as_finite_array(Y, "Y")
    if Y_arr.ndim == 1:
        Y_arr = Y_arr[:, None]
    if Y_arr.ndim != 2 or X_arr.shape[0] != Y_arr.shape[0]:
        raise InvalidInputError(f"need X (n×d) and Y (n×c); got X {X_arr.shape}, Y {Y_arr.shape}")
    if 0 in X_arr.shape or 0 in Y_arr.shape:
        raise InvalidInputError(f"X and Y must be non-empty; got X {X_arr.shape}, Y {Y_arr.shape}")
    return X_arr, Y_arr


def _suffix(path: Path, error: type[Exception] = DataFileError) -> str:
    """The lower-case suffix, which must be ``.npz`` or ``.csv`` (else ``error`` is raised)."""
    suffix = path.suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise error(
            f"{str(path)!r}: unsupported file type {path.suffix or '(none)'!r}; use .npz or .csv"
        )
    return suffix


def _csv_text(X: FloatArray, Y: FloatArray) -> str:
    """CSV text with header ``x0..,y0..`` and round-trip exact floats."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([f"x{j}" for j in range(X.shape[1])] + [f"y{j}" for j in range(Y.shape[1])])
    for row in np.hstack([X, Y]):
        writer.writerow([repr(float(value)) for value in row])
    return buffer.getvalue()


def save_data(path: str | os.PathLike[str], X: ArrayLike, Y: ArrayLike) -> Path:
    """Write ``X`` (n×d) and ``Y`` (n×c or n) atomically to a ``.npz`` or ``.csv`` file.

    ``.npz`` holds arrays ``X`` and ``Y``; ``.csv`` uses the layout of the module docstring
    (header ``x0,...,y0,...``, floats written with 17 significant digits, so a round trip is
    exact). See :func:`atomic_write` for the atomicity guarantee.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InvalidInputError
        Unsupported suffix, NaN/inf, or ``X``/``Y`` of the wrong shapes.
    DataFileError
        The directory does not exist or the file cannot be written.
    """
    target = Path(path)
    suffix = _suffix(target, InvalidInputError)
    X_arr, Y_arr = _check_xy(X, Y)
    if suffix == ".npz":

        def write(handle: IO[bytes]) -> None:
            np.savez(handle, X=X_arr, Y=Y_arr)

    else:
        payload = _csv_text(X_arr, Y_arr).encode("utf-8")

        def write(handle: IO[bytes]) -> None:
            handle.write(payload)

    atomic_write(target, write)
    return target


def _read_npz(path: Path) -> tuple[NDArray[Any], NDArray[Any]]:
    """Arrays ``X`` and ``Y`` of an ``.npz`` file (no pickles)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [key for key in ("X", "Y") if key not in data.files]
            if missing:
                raise DataFileError(
                    f"{str(path)!r} lacks array(s) {', '.join(missing)} "
                    f"(found {', '.join(data.files) or 'none'}); save them as X= and Y="
                )
            return np.asarray(data["X"]), np.asarray(data["Y"])
    except DataFileError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataFileError(f"cannot read {str(path)!r} as .npz: {exc}") from exc


def _parse_float(text: str, path: Path, line: int, column: str) -> float:
    """One CSV field, a plain decimal number (:data:`DECIMAL`); missing spellings give NaN."""
    stripped = text.strip()
    if stripped.lower() in MISSING:
        return float("nan")
    if not DECIMAL.match(stripped):
        raise DataFileError(
            f"{str(path)!r}, line {line}, column {column!r}: {stripped!r} is not a number "
            "(expected a plain decimal such as -1.5 or 6.02e23)"
        )
    return float(stripped)


def _column_kinds(header: list[str], path: Path) -> list[str]:
    """``"x"`` or ``"y"`` for each header name (:data:`COLUMN_NAME`); anything else is an error."""
    matches = [COLUMN_NAME.match(name) for name in header]
    kinds = [match.group(1).lower() if match else "" for match in matches]
    unknown = [name for name, kind in zip(header, kinds, strict=True) if not kind]
    if unknown or "x" not in kinds or "y" not in kinds:
        raise DataFileError(
            f"{str(path)!r}: header must name input columns x* and target columns y* "
            f"(at least one of each; {COLUMN_RULE}); got {header}"
            + (f" with unrecognised {unknown}" if unknown else "")
        )
    folded = [name.lower() for name in header]
    repeated = sorted({name for name in header if folded.count(name.lower()) > 1})
    if repeated:
        raise DataFileError(f"{str(path)!r}: header names columns {repeated} more than once")
    return kinds


def _read_csv(path: Path) -> tuple[FloatArray, FloatArray]:
    """Arrays ``X`` and ``Y`` of a CSV file in the module's layout."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"cannot read {str(path)!r} as UTF-8 text: {exc}") from exc
    try:
        rows = [(number, row) for number, row in enumerate(csv.reader(io.StringIO(text)), 1) if row]
    except csv.Error as exc:  # e.g. a field longer than csv.field_size_limit()
        raise DataFileError(f"cannot read {str(path)!r} as CSV: {exc}") from exc
    if not rows:
        raise DataFileError(f"{str(path)!r} is empty; expected a header row x0,..,y0,..")
    header = [name.strip() for name in rows[0][1]]
    kinds = _column_kinds(header, path)
    values = np.empty((len(rows) - 1, len(header)))
    for i, (line, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise DataFileError(
                f"{str(path)!r}, line {line}: {len(row)} fields but the header has {len(header)}"
            )
        values[i] = [_parse_float(f, path, line, h) for f, h in zip(row, header, strict=True)]
    x_cols = [j for j, kind in enumerate(kinds) if kind == "x"]
    y_cols = [j for j, kind in enumerate(kinds) if kind == "y"]
    return values[:, x_cols], values[:, y_cols]


def load_data(path: str | os.PathLike[str]) -> tuple[FloatArray, FloatArray]:
    """Read ``X`` (n×d) and ``Y`` (n×c) from a ``.npz`` or ``.csv`` file.

    ``.npz``: arrays named ``X`` (2-D) and ``Y`` (2-D, or 1-D read as one column).
    ``.csv``: the layout of the module docstring. Use :func:`one_hot` on class labels and
    :meth:`TrainingProblem.from_data` (or :func:`load_problem`) to build a problem.

    Raises
    ------
    DataFileError
        Missing or unreadable file, unsupported suffix, missing arrays/columns, non-numeric
        values, wrong shapes (not 2-D, different numbers of rows, no samples).
    InvalidInputError
        Missing values, NaN or inf; complex values with a nonzero imaginary part.
    """
    target = Path(path)
    if not target.is_file():
        raise DataFileError(f"data file {str(target)!r} does not exist (or is not a file)")
    suffix = _suffix(target)
    X_raw, Y_raw = _read_npz(target) if suffix == ".npz" else _read_csv(target)
    for name, array in (("X", X_raw), ("Y", Y_raw)):
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
            raise DataFileError(f"{str(target)!r}: {name} is not numeric (dtype {array.dtype})")
    if Y_raw.ndim == 1:
        Y_raw = Y_raw[:, None]
    if X_raw.ndim != 2 or Y_raw.ndim != 2 or X_raw.shape[0] != Y_raw.shape[0]:
        raise DataFileError(
            f"{str(target)!r}: expected X (n×d) and Y (n×c) with the same n; "
            f"got X {X_raw.shape}, Y {Y_raw.shape}"
        )
    if X_raw.shape[0] == 0 or X_raw.shape[1] == 0 or Y_raw.shape[1] == 0:
        raise DataFileError(f"{str(target)!r} holds no data: X {X_raw.shape}, Y {Y_raw.shape}")
    X = as_real_array(X_raw, f"{str(target)!r}: X")
    Y = as_real_array(Y_raw, f"{str(target)!r}: Y")
    for name, array in (("X", X), ("Y", Y)):
        bad = ~np.isfinite(array)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise InvalidInputError(
                f"{str(target)!r}: {name} has {int(bad.sum())} missing/NaN/inf value(s), first "
                f"in sample {row}; clean the data before loading it"
            )
    return X, Y


def load_problem(
    path: str | os.PathLike[str], beta: float = 0.1, *, bias: bool = False, name: str | None = None
) -> TrainingProblem:
    """:func:`load_data` then :meth:`TrainingProblem.from_data` (named after the file)."""
    X, Y = load_data(path)
    beta = check_positive(beta, "beta")
    return TrainingProblem.from_data(X, Y, beta, bias=bias, name=name or Path(path).stem)
