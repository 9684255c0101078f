"""Study configurations: parsing, validation, cell expansion and stable cell ids."""

from __future__ import annotations

import pickle
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from copos.errors import InvalidInputError
from copos.study.config import CellSpec, load_config
from copos.study.paper_data import authors_split, load_paper
from tests.study.studyhelp import write_config


def test_grid_expands_into_instances_times_betas(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, instances='"0:3"'))
    assert config.name == "tiny"
    assert [(c.instance, c.beta) for c in config.cells] == [
        (i, b) for i in range(3) for b in (0.1, 0.01)
    ]
    assert len(set(config.cell_ids)) == 6
    cell = config.cells[0]
    assert cell.methods == ("certificate",) and cell.widths == (2,) and cell.epochs == 100
    assert pickle.loads(pickle.dumps(cell)) == cell
    assert CellSpec.from_dict(cell.to_dict()) == cell


def test_cell_id_ignores_limits_and_data_dir_but_not_the_problem(tmp_path: Path) -> None:
    cell = load_config(write_config(tmp_path)).cells[0]
    same = replace(
        cell, time_limit=5.0, memory_limit=10**9, data_dir="/elsewhere", isolate="process"
    )
    assert same.cell_id == cell.cell_id
    for other in (replace(cell, beta=0.2), replace(cell, instance=7), replace(cell, widths=(3,))):
        assert other.cell_id != cell.cell_id
    again = load_config(write_config(tmp_path)).cells[0]  # a fresh parse gives the same id
    assert again.cell_id == cell.cell_id


@pytest.mark.parametrize(
    ("extra", "instances", "message"),
    [
        ("betas = [0.1, -1.0]", "[0]", "[study] betas"),
        ("colour = 1", "[0]", "unknown keys"),
        ('methods = ["nope"]', "[0]", "unknown methods"),
        ("time_limit = 0", "[0]", "time_limit"),
        ('solver = "no-such-solver"', "[0]", "no-such-solver"),
        ("", '"3:x"', "start:stop"),
        ("", "[-1]", "instances"),
    ],
)
def test_bad_configs_are_refused_with_the_key(
    tmp_path: Path, extra: str, instances: str, message: str
) -> None:
    path = write_config(tmp_path, instances=instances)
    key = extra.split(" = ")[0]
    lines = [line for line in path.read_text().splitlines() if not (key and line.startswith(key))]
    path.write_text("\n".join(lines).replace('name = "tiny"', f'name = "tiny"\n{extra}', 1))
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        load_config(path)


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\n")
    with pytest.raises(InvalidInputError, match="not valid TOML"):
        load_config(bad)
    bad.write_text('[study]\nname = "x"\n')
    with pytest.raises(InvalidInputError, match="at least one"):
        load_config(bad)


def _paper_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "paper.toml"
    path.write_text(f'[study]\nname = "p"\n\n[[datasets]]\nsource = "paper"\n{body}\n')
    return path


def test_paper_sets_need_a_data_dir_and_existing_instances(tmp_path: Path) -> None:
    path = _paper_config(tmp_path, 'set = "planted"\ninstances = [0, 1]')
    with pytest.raises(InvalidInputError, match="data directory"):
        load_config(path)
    with pytest.raises(InvalidInputError, match="does not exist"):
        load_config(path, data_dir=str(tmp_path))
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "planted_authors_100.npz",
        X=rng.standard_normal((100, 4, 2)),
        Y=rng.standard_normal((100, 4, 3)),
    )
    config = load_config(path, data_dir=str(tmp_path))
    assert [c.instance for c in config.cells] == [0, 1]
    path.write_text(path.read_text().replace("[0, 1]", "[100]"))
    with pytest.raises(InvalidInputError, match="instances 0..99"):
        load_config(path, data_dir=str(tmp_path))


def test_paper_split_and_the_lost_header_row(tmp_path: Path) -> None:
    rows = [f"{i},{2 * i},{'g' if i % 3 else 'b'}" for i in range(11)]
    (tmp_path / "ionosphere.data").write_text("\n".join(rows) + "\n")
    X, Y = load_paper("ionosphere", str(tmp_path))
    train, test = authors_split(10)  # the first row was read as a header: 10 samples remain
    assert len(train) == 5 and len(test) == 5 and not set(train) & set(test)
    assert np.array_equal(X[:, 0], train + 1.0) and np.array_equal(X[:, 1], 2 * (train + 1.0))
    assert Y.shape == (5, 2) and np.array_equal(Y.sum(axis=1), np.ones(5))
    assert np.array_equal(Y[:, 1], [(i + 1) % 3 != 0 for i in train])  # columns sorted: b, g


def test_a_data_file_counts_by_its_content_not_its_path(tmp_path: Path) -> None:
    from copos.nets.datasets import save_data

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        save_data(tmp_path / folder / "data.csv", np.eye(3), np.ones((3, 1)))
        (tmp_path / folder / "s.toml").write_text(
            '[study]\nname = "f"\n\n[[datasets]]\nsource = "file"\npath = "data.csv"\n'
        )
    first, second = (load_config(tmp_path / f / "s.toml").cells[0] for f in ("a", "b"))
    assert first.path != second.path and first.cell_id == second.cell_id
    save_data(tmp_path / "b" / "data.csv", 2 * np.eye(3), np.ones((3, 1)))
    assert load_config(tmp_path / "b" / "s.toml").cells[0].cell_id != first.cell_id
    assert first.dataset == "data" and first.bias is False
