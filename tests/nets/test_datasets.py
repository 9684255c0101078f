"""Tests of copos.nets.datasets: generated data, bundled real data and data files."""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from copos.errors import CoposError, DataFileError, InvalidInputError
from copos.nets import datasets
from copos.nets.datasets import (
    atomic_write,
    load_data,
    load_problem,
    one_hot,
    planted,
    real,
    save_data,
    spiral,
    whitened,
)

HAVE_SKLEARN = importlib.util.find_spec("sklearn") is not None


def assert_one_hot(Y: np.ndarray) -> None:
    assert set(np.unique(Y)) <= {0.0, 1.0}
    np.testing.assert_array_equal(Y.sum(axis=1), 1.0)


# ---------------------------------------------------------------------------- one_hot
def test_one_hot() -> None:
    np.testing.assert_array_equal(one_hot([0, 2, 1]), np.eye(3)[[0, 2, 1]])
    assert one_hot([0, 1], classes=4).shape == (2, 4)
    np.testing.assert_array_equal(one_hot(np.array([1.0, 0.0])), [[0, 1], [1, 0]])
    with pytest.raises(InvalidInputError, match="integers"):
        one_hot([0.5, 1])
    with pytest.raises(InvalidInputError, match="integers"):
        one_hot([-1, 1])
    with pytest.raises(InvalidInputError, match="classes=2"):
        one_hot([0, 2], classes=2)


# ---------------------------------------------------------------------------- spiral
def test_spiral_shapes_and_labels() -> None:
    problem = spiral()
    assert (problem.n, problem.d, problem.c) == (60, 3, 3)
    assert problem.bias and problem.beta == 0.1 and problem.name == "spiral"
    np.testing.assert_array_equal(problem.X[:, -1], 1.0)
    assert_one_hot(problem.Y)
    np.testing.assert_array_equal(problem.Y.sum(axis=0), [20, 20, 20])
    np.testing.assert_array_equal(problem.Y[:20, 0], 1.0)  # rows ordered by class
    radius = np.linalg.norm(problem.X[:, :2], axis=1)
    np.testing.assert_allclose(radius[:20], np.linspace(0, 0.5, 20))


def test_spiral_noise_free_geometry_and_options() -> None:
    problem = spiral(n_per_class=5, classes=2, noise=0.0, bias=False, beta=0.01)
    assert problem.X.shape == (10, 2) and problem.Y.shape == (10, 2)
    t = np.linspace(4.0, 8.0, 5)  # class 1
    r = np.linspace(0, 0.5, 5)
    np.testing.assert_allclose(problem.X[5:], np.column_stack([r * np.sin(t), r * np.cos(t)]))


def test_spiral_determinism() -> None:
    np.testing.assert_array_equal(spiral(seed=4).X, spiral(seed=4).X)
    assert not np.array_equal(spiral(seed=4).X, spiral(seed=5).X)
    with pytest.raises(InvalidInputError, match="noise"):
        spiral(noise=-1.0)
    with pytest.raises(InvalidInputError, match="n_per_class"):
        spiral(n_per_class=1)


# ---------------------------------------------------------------------------- planted
def test_planted_shapes_and_determinism() -> None:
    problem = planted()
    assert (problem.n, problem.d, problem.c) == (25, 2, 5)
    assert not problem.bias
    np.testing.assert_array_equal(planted(seed=3).Y, planted(seed=3).Y)
    assert not np.array_equal(planted(seed=3).Y, planted(seed=4).Y)
    biased = planted(n=10, d=3, c=2, teacher_width=7, bias=True)
    assert biased.X.shape == (10, 4) and biased.Y.shape == (10, 2)
    # same X and Y apart from the bias column and noise
    base = planted(n=10, d=3, c=2, teacher_width=7)
    np.testing.assert_array_equal(biased.X[:, :3], base.X)
    noisy = planted(n=10, d=3, c=2, teacher_width=7, noise=0.5)
    np.testing.assert_array_equal(noisy.X, base.X)
    assert not np.array_equal(noisy.Y, base.Y)


def test_planted_is_realisable_by_a_relu_teacher() -> None:
    # Y = (X U)_+ V is positively homogeneous in X: scaling rows of X scales rows of Y.
    problem = planted(n=6, d=2, c=3, teacher_width=4, seed=1)
    rng = np.random.default_rng(1)
    U = rng.standard_normal((2, 4))
    V = rng.standard_normal((4, 3))
    X = rng.standard_normal((6, 2))
    np.testing.assert_allclose(problem.X, X)
    np.testing.assert_allclose(problem.Y, np.maximum(X @ U, 0) @ V)


# ---------------------------------------------------------------------------- whitened
@pytest.mark.parametrize(("n", "d", "c", "seed"), [(6, 8, 3, 0), (5, 5, 2, 1), (10, 40, 4, 7)])
def test_whitened_rows_orthonormal(n: int, d: int, c: int, seed: int) -> None:
    problem = whitened(n, d, c, seed=seed)
    assert problem.X.shape == (n, d) and problem.Y.shape == (n, c)
    np.testing.assert_allclose(problem.X @ problem.X.T, np.eye(n), atol=1e-10)
    assert_one_hot(problem.Y)
    assert np.all(problem.Y.sum(axis=0) >= 1)  # every class used when n >= c


def test_whitened_class_sizes_and_errors() -> None:
    problem = whitened(6, 8, 3, class_sizes=[1, 2, 3])
    np.testing.assert_array_equal(problem.Y.sum(axis=0), [1, 2, 3])
    np.testing.assert_array_equal(whitened(seed=2).X, whitened(seed=2).X)
    with pytest.raises(InvalidInputError, match="n <= d"):
        whitened(5, 4, 2)
    with pytest.raises(InvalidInputError, match="class_sizes"):
        whitened(6, 8, 3, class_sizes=[1, 2, 2])
    with pytest.raises(InvalidInputError, match="class_sizes"):
        whitened(6, 8, 3, class_sizes=[3, 3])


# ---------------------------------------------------------------------------- real data
@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly on any download attempt: no sockets, no sklearn fetch_* functions."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("copos.nets.datasets.real must not download anything")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    if HAVE_SKLEARN:
        import sklearn.datasets

        for name in dir(sklearn.datasets):
            if name.startswith("fetch_"):
                monkeypatch.setattr(sklearn.datasets, name, refuse)


EXPECTED = {
    "iris": (150, 4, 3),
    "wine": (178, 13, 3),
    "breast_cancer": (569, 30, 2),
    "digits": (1797, 64, 10),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.usefixtures("no_network")
def test_real_shapes_and_standardization(name: str) -> None:
    if not HAVE_SKLEARN:
        with pytest.raises(CoposError, match="scikit-learn"):
            real(name)  # type: ignore[arg-type]
        return
    total, d, c = EXPECTED[name]
    train, test = real(name)  # type: ignore[arg-type]
    assert train.n + test.n == total
    assert abs(test.n - 0.25 * total) <= c  # per-class rounding
    assert train.d == test.d == d + 1 and train.c == test.c == c
    np.testing.assert_array_equal(train.X[:, -1], 1.0)
    assert_one_hot(train.Y)
    assert_one_hot(test.Y)
    features = train.X[:, :-1]
    np.testing.assert_allclose(features.mean(axis=0), 0.0, atol=1e-10)
    std = features.std(axis=0)
    varying = std > 0
    np.testing.assert_allclose(std[varying], 1.0, rtol=1e-10)
    assert train.name == f"{name}-train" and test.name == f"{name}-test"


@pytest.mark.usefixtures("no_network")
def test_real_options() -> None:
    if not HAVE_SKLEARN:
        with pytest.raises(CoposError, match="pip install scikit-learn"):
            real("iris")
        return
    train, test = real("digits", pca=10, bias=False, seed=3, test_fraction=0.5, beta=0.01)
    assert train.X.shape[1] == test.X.shape[1] == 10 and train.beta == 0.01
    np.testing.assert_allclose(train.X.mean(axis=0), 0.0, atol=1e-10)
    covariance = train.X.T @ train.X
    np.testing.assert_allclose(covariance - np.diag(np.diag(covariance)), 0.0, atol=1e-8)
    assert np.all(np.diff(np.diag(covariance)) <= 1e-9)  # decreasing variance
    # stratified: class proportions kept
    full_counts = train.Y.sum(axis=0) + test.Y.sum(axis=0)
    np.testing.assert_allclose(test.Y.sum(axis=0), np.round(full_counts * 0.5), atol=1)
    # deterministic, seed-dependent
    again = real("digits", pca=10, bias=False, seed=3, test_fraction=0.5)[0]
    np.testing.assert_array_equal(again.X, train.X)
    assert not np.array_equal(real("iris", seed=1)[0].X, real("iris", seed=2)[0].X)
    plain_train, plain_test = real("iris", stratify=False)
    assert plain_train.n + plain_test.n == 150


@pytest.mark.usefixtures("no_network")
def test_real_validation() -> None:
    with pytest.raises(InvalidInputError, match="unknown data set"):
        real("mnist")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="test_fraction"):
        real("iris", test_fraction=1.0)
    with pytest.raises(InvalidInputError, match="test_fraction"):
        real("iris", test_fraction=0)
    if HAVE_SKLEARN:
        with pytest.raises(InvalidInputError, match="pca"):
            real("iris", pca=5)
        with pytest.raises(InvalidInputError, match="pca"):
            real("iris", pca=0)


def test_real_without_sklearn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(CoposError, match="pip install scikit-learn"):
        real("iris")


def test_real_uses_only_bundled_loaders() -> None:
    source = Path(datasets.__file__).read_text()
    assert "fetch_" not in source.replace("fetch_*", "")
    assert 'f"load_{name}"' in source


# ---------------------------------------------------------------------------- files
@pytest.mark.parametrize("suffix", [".npz", ".csv", ".CSV"])
def test_save_load_roundtrip(tmp_path: Path, suffix: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 3)) * 1e3
    Y = rng.standard_normal((7, 2))
    path = save_data(tmp_path / f"data{suffix}", X, Y)
    X2, Y2 = load_data(path)
    np.testing.assert_array_equal(X2, X)  # exact, also for csv
    np.testing.assert_array_equal(Y2, Y)
    assert os.listdir(tmp_path) == [path.name]


def test_one_dimensional_y_and_load_problem(tmp_path: Path) -> None:
    path = save_data(tmp_path / "d.csv", np.ones((4, 2)), np.arange(4.0))
    assert path.read_text().splitlines()[0] == "x0,x1,y0"
    X, Y = load_data(path)
    assert Y.shape == (4, 1)
    problem = load_problem(path, 0.2, bias=True)
    assert problem.X.shape == (4, 3) and problem.beta == 0.2 and problem.name == "d"
    np.savez(tmp_path / "labels.npz", X=np.ones((3, 2)), Y=np.array([0, 1, 2]))
    assert load_data(tmp_path / "labels.npz")[1].shape == (3, 1)


def test_csv_layout_is_flexible(tmp_path: Path) -> None:
    path = tmp_path / "custom.csv"
    path.write_text("y_label, x_a ,X_b\n1, 2, 3\n\n0,4,5\n")
    X, Y = load_data(path)
    np.testing.assert_array_equal(X, [[2, 3], [4, 5]])
    np.testing.assert_array_equal(Y, [[1], [0]])


@pytest.mark.parametrize(
    ("content", "error", "match"),
    [
        ("", DataFileError, "empty"),
        ("x0,y0\n", DataFileError, "no data"),
        ("x0,z0\n1,2\n", DataFileError, "header"),
        ("x0,x1\n1,2\n", DataFileError, "header"),
        ("x0,y0\n1,2,3\n", DataFileError, "fields"),
        ("x0,y0\n1,abc\n", DataFileError, "not a number"),
        ("x0,y0\n1,nan\n", InvalidInputError, "NaN"),
        ("x0,y0\n1,\n", InvalidInputError, "missing"),
        ("x0,y0\ninf,1\n", InvalidInputError, "inf"),
    ],
)
def test_csv_errors(tmp_path: Path, content: str, error: type[Exception], match: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(error, match=match):
        load_data(path)


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="does not exist"):
        load_data(tmp_path / "missing.npz")
    with pytest.raises(DataFileError, match="does not exist"):
        load_data(tmp_path)  # a directory
    (tmp_path / "data.txt").write_text("x0,y0\n1,2\n")
    with pytest.raises(DataFileError, match="unsupported file type"):
        load_data(tmp_path / "data.txt")
    (tmp_path / "garbage.npz").write_bytes(b"not a zip")
    with pytest.raises(DataFileError, match="cannot read"):
        load_data(tmp_path / "garbage.npz")
    (tmp_path / "latin1.csv").write_bytes(b"x0,y0\n\xff,1\n")
    with pytest.raises(DataFileError, match="UTF-8"):
        load_data(tmp_path / "latin1.csv")
    cases = {
        "no_y.npz": ({"X": np.ones((3, 2))}, "lacks array"),
        "rows.npz": ({"X": np.ones((3, 2)), "Y": np.ones((4, 1))}, "same n"),
        "cube.npz": ({"X": np.ones((2, 3, 2)), "Y": np.ones((2, 3, 1))}, "expected X"),
        "empty.npz": ({"X": np.ones((0, 2)), "Y": np.ones((0, 1))}, "no data"),
        "text.npz": ({"X": np.array([["a", "b"]]), "Y": np.ones((1, 1))}, "not numeric"),
    }
    for name, (arrays, match) in cases.items():
        np.savez(tmp_path / name, **arrays)
        with pytest.raises(DataFileError, match=match):
            load_data(tmp_path / name)
    np.savez(tmp_path / "nan.npz", X=np.array([[1.0, np.nan]]), Y=np.ones((1, 1)))
    with pytest.raises(InvalidInputError, match="sample 0"):
        load_data(tmp_path / "nan.npz")


def test_save_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="unsupported"):
        save_data(tmp_path / "data.txt", np.ones((2, 2)), np.ones(2))
    with pytest.raises(InvalidInputError, match="NaN"):
        save_data(tmp_path / "data.npz", np.array([[np.nan]]), np.ones(1))
    with pytest.raises(InvalidInputError, match="n×d"):
        save_data(tmp_path / "data.npz", np.ones((2, 2)), np.ones(3))
    with pytest.raises(InvalidInputError, match="non-empty"):
        save_data(tmp_path / "data.npz", np.ones((2, 0)), np.ones(2))
    with pytest.raises(DataFileError, match="does not exist"):
        save_data(tmp_path / "nope" / "data.npz", np.ones((2, 2)), np.ones(2))
    assert os.listdir(tmp_path) == []


def test_atomic_write_keeps_old_file_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "file.csv"
    path.write_text("old")
    os.chmod(path, 0o640)

    def failing(handle: object) -> None:
        handle.write(b"half")  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, failing)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["file.csv"]
    atomic_write(path, lambda handle: handle.write(b"new"))
    assert path.read_text() == "new"
    assert path.stat().st_mode & 0o777 == 0o640  # permissions of the replaced file kept


# ---------------------------------------------------------------------------- #17 item 10
@pytest.mark.parametrize(
    "field",
    ["1_0", "0x10", "1e5_0", "\uff11", "\u0663", "1.0.0", "--1", "1e", "e5", "infinityx", "1 0"],
)
def test_csv_numbers_are_plain_decimals(tmp_path: Path, field: str) -> None:
    path = tmp_path / "strict.csv"
    path.write_text(f"x0,y0\n{field},1\n2,0\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="not a number"):
        load_data(path)


@pytest.mark.parametrize("field", ["-1.5", "+2", ".5", "6.02e23", "1E-3", " 7 ", "3."])
def test_csv_plain_decimals_are_read(tmp_path: Path, field: str) -> None:
    path = tmp_path / "ok.csv"
    path.write_text(f"x0,y0\n{field},1\n")
    assert load_data(path)[0][0, 0] == float(field)


@pytest.mark.parametrize("header", ["xylophone,y0", "x0,yes", "x0,y0,xs", "x0,y0,x1a", "ex,x0,y0"])
def test_csv_column_names_follow_the_rule(tmp_path: Path, header: str) -> None:
    path = tmp_path / "names.csv"
    width = len(header.split(","))
    path.write_text(header + "\n" + ",".join(["1"] * width) + "\n")
    with pytest.raises(DataFileError, match="unrecognised") as info:
        load_data(path)
    assert "alone, followed by digits" in str(info.value)


def test_csv_column_names_that_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("X,x12,x-b,x.c,x d,Y,y_0\n1,2,3,4,5,6,7\n")
    X, Y = load_data(path)
    np.testing.assert_array_equal(X, [[1, 2, 3, 4, 5]])
    np.testing.assert_array_equal(Y, [[6, 7]])


def test_csv_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfx0,y0\n1,2\n3,4\n")
    X, Y = load_data(path)
    np.testing.assert_array_equal(X, [[1], [3]])
    np.testing.assert_array_equal(Y, [[2], [4]])


def test_complex_npz_is_refused_unless_real(tmp_path: Path) -> None:
    path = tmp_path / "complex.npz"
    np.savez(path, X=np.ones((3, 2)) * (1 + 2j), Y=np.ones((3, 1)))
    with pytest.raises(InvalidInputError, match="complex"):
        load_data(path)
    np.savez(path, X=np.ones((3, 2)) + 0j, Y=np.ones((3, 1)))
    X, _ = load_data(path)
    assert X.dtype == np.float64 and np.all(X == 1)
    np.savez(path, X=np.ones((3, 2)), Y=np.array([[1 + 0j], [np.nan * 1j], [1]]))
    with pytest.raises(InvalidInputError, match="complex"):
        load_data(path)


def test_save_data_onto_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    save_data(link, np.ones((2, 1)), np.zeros(2))
    assert link.is_symlink() and os.readlink(link) == str(target)
    np.testing.assert_array_equal(load_data(target)[0], np.ones((2, 1)))
    assert sorted(os.listdir(tmp_path)) == ["link.csv", "real.csv"]


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda: datasets.spiral(n_per_class=10**10), "spiral"),
        (lambda: datasets.planted(n=10**6, teacher_width=10**6), "planted"),
        (lambda: datasets.whitened(n=10**5, d=10**6), "whitened"),
        (lambda: one_hot([0, 10**12]), "one-hot"),
    ],
)
def test_generators_refuse_data_that_cannot_fit(make: Any, what: str) -> None:
    from copos._memory import memory_limit
    from copos.errors import TooLargeError

    with memory_limit(2 * 1024**3), pytest.raises(TooLargeError, match=what):
        make()


@pytest.mark.parametrize(
    "make",
    [
        lambda: datasets.spiral(n_per_class=2000, classes=3),
        lambda: datasets.planted(n=2000, d=4, c=3, teacher_width=200),
        lambda: datasets.whitened(n=300, d=500, c=3),
    ],
)
def test_generator_estimates_against_measured_peak(
    make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tracemalloc

    estimates: list[float] = []
    monkeypatch.setattr(datasets, "check_memory", lambda nbytes, *args: estimates.append(nbytes))
    tracemalloc.start()
    try:
        make()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    estimate = estimates[0]  # the generator's own estimate (one_hot's comes later)
    assert peak / 2 <= estimate <= 3 * peak, (estimate, peak)


def test_csv_reader_errors_are_data_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("x0,y0\n" + "1" * 200_000 + ",1\n")  # beyond csv.field_size_limit()
    with pytest.raises(DataFileError, match="as CSV"):
        load_data(path)


def test_csv_column_names_must_be_distinct(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("x0,X0,y0\n1,2,3\n")
    with pytest.raises(DataFileError, match="more than once"):
        load_data(path)
