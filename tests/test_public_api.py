"""The public API: ``import copos`` gives the main names lazily; old recovery names warn."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import copos
import copos.errors
from copos._moved import MOVED_MODULES
from copos.errors import InvalidInputError
from copos.recovery import convex, cp_factor
from tests.known import random_problem

ROOT = Path(__file__).resolve().parents[1]

#: The names the API promises (issue 10); __all__ may hold more, never fewer.
PROMISED = {
    "TrainingProblem", "TwoLayerReLU", "Bound", "Certificate", "certify", "verify", "dual_norm",
    "check_tightness", "TightnessReport", "solve_rel", "solve_copositive_dual",
    "solve_convex_program", "solve_lifted_dnn", "round_lifted", "recover_from_rel", "train",
    "train_grid", "spiral", "planted", "whitened", "load_data", "load_problem", "save_data",
    "PSD", "Nonnegative", "DNN", "Copositive", "CompletelyPositive", "Parrilo", "ParriloDual",
    "stability_number", "standard_quadratic", "CoposError", "InvalidInputError",
    "DataFileError", "UnknownSolverError", "SolverError", "TooLargeError", "__version__",
    "Convolution", "ConvReLU", "train_conv", "solve_conv_program", "solve_circular_program",
    "rel_working_set",
}  # fmt: skip
#: Issue 18's names: convex adversarial training, the gated-ReLU route, semi-NMF.
PROMISED |= {
    "solve_robust_program", "solve_gated_program", "cone_decomposition", "semi_nmf", "pgd",
    "fgsm", "adversarial_training", "solve_circular2d_program",
}  # fmt: skip
#: Issue 18, part A: the patch REL (pooled and linear readout) and the CNN read off it.
PROMISED |= {"solve_conv_rel", "solve_conv_copositive_dual", "read_off_conv_rel"}
PROMISED |= {"solve_lifted_cuts"}


def home_module(name: str) -> str:
    """The module that defines a public name (the errors and the version live eagerly)."""
    return copos._LAZY.get(name, "copos.errors" if name != "__version__" else "copos")


def test_all_holds_the_promised_names_once() -> None:
    assert PROMISED <= set(copos.__all__)
    assert len(copos.__all__) == len(set(copos.__all__))
    errors = {name for name in vars(copos.errors) if name.endswith("Error")}
    assert set(copos.__all__) == set(copos._LAZY) | errors | {"__version__"}


@pytest.mark.parametrize("name", sorted(copos.__all__))
def test_every_public_name_is_its_home_modules_object(name: str) -> None:
    home = importlib.import_module(home_module(name))
    assert getattr(copos, name) is getattr(home, name)


def test_dir_lists_every_public_name() -> None:
    assert set(copos.__all__) <= set(dir(copos))


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from copos import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(copos.__all__)


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'recover_network'"):
        copos.recover_network  # noqa: B018 -- the deprecated name is not part of the new API
    assert not hasattr(copos, "no_such_name")


def test_import_copos_loads_neither_cvxpy_nor_numpy() -> None:
    probe = "import sys, copos; print(sorted({'cvxpy', 'numpy', 'scipy'} & set(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


# --- the two recoveries: distinct names, old name warns and still works ---------------------


def test_the_two_recoveries_have_distinct_names() -> None:
    assert copos.recover_from_rel is cp_factor.recover_from_rel
    assert copos.recover_from_convex is convex.recover_from_convex
    assert copos.recover_from_rel.__name__ == "recover_from_rel"
    assert copos.recover_from_convex.__name__ == "recover_from_convex"


def test_old_convex_recovery_name_warns_and_gives_the_same_network() -> None:
    v_blocks = np.array([[3.0, 4.0], [0.0, 0.0]])
    w_blocks = np.array([[0.0, 0.0], [1.0, 2.0]])
    with pytest.warns(DeprecationWarning, match="recover_from_convex") as caught:
        U_old, V_old = convex.recover_network(v_blocks, w_blocks)
    assert caught[0].filename == __file__  # the warning points at the caller's line
    U_new, V_new = convex.recover_from_convex(v_blocks, w_blocks)
    np.testing.assert_array_equal(U_old, U_new)
    np.testing.assert_array_equal(V_old, V_new)


def test_old_rel_recovery_name_warns_and_gives_the_same_network() -> None:
    problem = random_problem(0, n=5, d=2, c=2)
    result = copos.solve_rel(problem)
    with pytest.warns(DeprecationWarning, match="recover_from_rel"):
        old = cp_factor.recover_network(result, problem)
    new = cp_factor.recover_from_rel(result, problem)
    assert (old.exact, old.objective) == (new.exact, new.objective)
    np.testing.assert_array_equal(old.U, new.U)
    np.testing.assert_array_equal(old.V, new.V)


def test_old_rel_recovery_name_still_checks_its_input() -> None:
    problem = random_problem(0, n=5, d=2, c=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(InvalidInputError, match="CopositiveResult"):
            cp_factor.recover_network("not a result", problem)  # type: ignore[arg-type]


def test_copos_itself_does_not_call_the_deprecated_names() -> None:
    problem = random_problem(1, n=5, d=2, c=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        convex_result = copos.solve_convex_program(problem)
        copos.recover_from_rel(copos.solve_rel(problem), problem)
    assert convex_result.U.shape[0] == problem.d


# --- the module paths before the redesign (issue 10): one release of warning aliases ---------

#: A name that each old module path held, and the module that holds it now.
OLD_NAMES = {
    "copos.network": ("TrainingProblem", "copos.nets.problem"),
    "copos.network.problem": ("TrainingProblem", "copos.nets.problem"),
    "copos.network.arrangements": ("enumerate_arrangements", "copos.nets.arrangements"),
    "copos.network.training": ("train", "copos.nets.training"),
    "copos.network.model": ("TwoLayerReLU", "copos.nets.architectures.dense"),
    "copos.network.closed_form": ("soft_threshold_optimum", "copos.relaxations.closed_form"),
    "copos.network.lifted": ("solve_lifted_dnn", "copos.relaxations.lifted"),
    "copos.network.rounding": ("round_lifted", "copos.recovery.rounding"),
    "copos.network.convex": ("network_objective", "copos.nets.architectures.dense"),
    "copos.network.copositive": ("cone_pca", "copos.nets.cone_pca"),
    "copos.datasets": ("spiral", "copos.nets.datasets"),
    "copos.certificate": ("LiftedBound", "copos.certificates.certificate"),
    "copos.tightness": ("TightnessReport", "copos.study.report"),
    "copos.programs.result": ("Bound", "copos.bound"),
    "copos.solvers.arrangement_admm": ("solve_arrangement_admm", "copos.relaxations.convex"),
    "copos.solvers.dnn_admm": ("solve_lifted_dnn_admm", "copos.solvers.admm.dnn"),
}


def test_every_moved_module_is_tested() -> None:
    assert set(OLD_NAMES) == set(MOVED_MODULES)


@pytest.mark.parametrize("old", sorted(OLD_NAMES))
def test_an_old_module_path_still_imports_and_warns(old: str) -> None:
    name, home = OLD_NAMES[old]
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=rf"{old}\.{name} moved to {home}\.{name}"):
        value = getattr(module, name)
    assert value is getattr(importlib.import_module(home), name)


@pytest.mark.parametrize("old", sorted(OLD_NAMES))
def test_every_new_home_of_an_old_path_exists(old: str) -> None:
    for target in MOVED_MODULES[old]:
        importlib.import_module(target)


def test_an_old_path_without_the_name_raises_attribute_error() -> None:
    module = importlib.import_module("copos.network.lifted")
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        module.no_such_name  # noqa: B018


def test_from_import_of_an_old_submodule_works() -> None:
    with pytest.warns(DeprecationWarning, match="copos.network.training.train moved"):
        from copos.network.training import train
    assert train is copos.train
