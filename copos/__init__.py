r"""copos: completely positive and copositive programs for two-layer ReLU networks.

The public API, one name per idea (each is also importable from its home module)::

    import copos
    problem = copos.whitened(n=6, d=8, c=3, beta=0.1)      # a copos.TrainingProblem
    run = copos.train(problem, 5, epochs=5000)                # Adam, width 5
    certificate = copos.certify(run.net, problem)             # verdict, lower bound, gap

Names are imported lazily (:pep:`562`): ``import copos`` loads only the errors, and the first
use of a name imports its home module (numpy, cvxpy, ... only then), so the command line's
start-up is not slowed by the API it does not use.
"""

from __future__ import annotations

import sys as _sys

from copos._moved import install_moved_modules as _install_moved_modules
from copos._version import __version__
from copos.errors import (
    CoposError,
    DataFileError,
    InvalidInputError,
    SolverError,
    TooLargeError,
    UnknownSolverError,
)

_install_moved_modules()  # the module paths before the redesign still import, with a warning

#: ``typing.TYPE_CHECKING`` without importing :mod:`typing` (13 ms, a third of a bare start-up);
#: static checkers treat any constant of this name as true.
TYPE_CHECKING = False

#: Public name -> the module that defines it (the object is the same, not a copy).
_LAZY: dict[str, str] = {
    # the training problem, networks, training
    "TrainingProblem": "copos.nets.problem",
    "TwoLayerReLU": "copos.nets.architectures.dense",
    "Convolution": "copos.nets.architectures.conv",
    "ConvReLU": "copos.nets.architectures.conv",
    "train": "copos.nets.training",
    "train_conv": "copos.nets.training",
    "train_grid": "copos.nets.training",
    "TrainingRun": "copos.nets.training",
    "enumerate_arrangements": "copos.nets.arrangements",
    # data sets
    "spiral": "copos.nets.datasets",
    "planted": "copos.nets.datasets",
    "whitened": "copos.nets.datasets",
    "load_data": "copos.nets.datasets",
    "load_problem": "copos.nets.datasets",
    "save_data": "copos.nets.datasets",
    # programs of the network and networks recovered from them
    "soft_threshold_optimum": "copos.relaxations.closed_form",
    "solve_convex_program": "copos.relaxations.convex",
    "solve_conv_program": "copos.relaxations.conv",
    "solve_circular_program": "copos.relaxations.conv",
    "solve_conv_rel": "copos.relaxations.conv",
    "solve_conv_copositive_dual": "copos.relaxations.conv",
    "read_off_conv_rel": "copos.relaxations.conv",
    "solve_circular2d_program": "copos.relaxations.circular2d",
    "recover_from_convex": "copos.recovery.convex",
    "solve_rel": "copos.relaxations.rel",
    "solve_copositive_dual": "copos.relaxations.rel",
    "recover_from_rel": "copos.recovery.cp_factor",
    "solve_lifted_dnn": "copos.relaxations.lifted",
    "solve_lifted_cuts": "copos.relaxations.lifted_cuts",
    "round_lifted": "copos.recovery.rounding",
    # adversarial training and the gated-ReLU route (issue 18)
    "solve_robust_program": "copos.relaxations.robust",
    "solve_gated_program": "copos.relaxations.gated",
    "cone_decomposition": "copos.relaxations.gated",
    "semi_nmf": "copos.recovery.semi_nmf",
    "pgd": "copos.nets.attacks",
    "fgsm": "copos.nets.attacks",
    "adversarial_training": "copos.nets.attacks",
    # certificates of global optimality
    "Certificate": "copos.certificates.certificate",
    "VerificationResult": "copos.certificates.verify",
    "certify": "copos.certificates.certify",
    "verify": "copos.certificates.verify",
    "dual_norm": "copos.certificates.dual_norm",
    "rel_working_set": "copos.certificates.rel_working_set",
    "improve": "copos.certificates.improve",
    "polish": "copos.nets.polish",
    # the tightness checker
    "check_tightness": "copos.study.tightness",
    "TightnessReport": "copos.study.report",
    # cones
    "Cone": "copos.cones.base",
    "PSD": "copos.cones.basic",
    "Nonnegative": "copos.cones.basic",
    "DNN": "copos.cones.basic",
    "SPN": "copos.cones.basic",
    "Copositive": "copos.cones.basic",
    "CompletelyPositive": "copos.cones.basic",
    "Parrilo": "copos.cones.parrilo",
    "ParriloDual": "copos.cones.parrilo",
    "DeKlerkPasechnik": "copos.cones.polya",
    "DeKlerkPasechnikDual": "copos.cones.polya",
    "is_copositive": "copos.cones.membership",
    "cp_factorize": "copos.cones.membership",
    # classic copositive programs and their bounds
    "Bound": "copos.bound",
    "stability_number": "copos.programs.stability",
    "standard_quadratic": "copos.programs.stqp",
}

#: Every public name: the errors and the version (loaded eagerly) and the keys of ``_LAZY``.
__all__ = [
    "__version__",
    "Bound",
    "Certificate",
    "certify",
    "check_tightness",
    "improve",
    "polish",
    "CompletelyPositive",
    "Cone",
    "CoposError",
    "Copositive",
    "cp_factorize",
    "DataFileError",
    "DeKlerkPasechnik",
    "DeKlerkPasechnikDual",
    "DNN",
    "Convolution",
    "ConvReLU",
    "dual_norm",
    "enumerate_arrangements",
    "InvalidInputError",
    "is_copositive",
    "load_data",
    "load_problem",
    "Nonnegative",
    "Parrilo",
    "ParriloDual",
    "planted",
    "PSD",
    "recover_from_convex",
    "recover_from_rel",
    "rel_working_set",
    "round_lifted",
    "save_data",
    "soft_threshold_optimum",
    "solve_circular2d_program",
    "solve_circular_program",
    "solve_conv_program",
    "solve_conv_rel",
    "solve_conv_copositive_dual",
    "read_off_conv_rel",
    "solve_convex_program",
    "solve_copositive_dual",
    "solve_lifted_cuts",
    "solve_lifted_dnn",
    "solve_rel",
    "SolverError",
    "spiral",
    "SPN",
    "stability_number",
    "standard_quadratic",
    "TightnessReport",
    "TooLargeError",
    "train",
    "train_conv",
    "train_grid",
    "TrainingProblem",
    "TrainingRun",
    "TwoLayerReLU",
    "UnknownSolverError",
    "VerificationResult",
    "verify",
    "whitened",
    # issue 18: adversarial training, the gated-ReLU route, semi-NMF
    "adversarial_training",
    "cone_decomposition",
    "fgsm",
    "pgd",
    "semi_nmf",
    "solve_gated_program",
    "solve_robust_program",
]


def __getattr__(name: str) -> Any:
    """``copos.<name>``: imports the home module of a public name on first use (:pep:`562`)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'copos' has no attribute {name!r}")
    __import__(module)  # not importlib.import_module: importing importlib costs 0.5 ms
    value = getattr(_sys.modules[module], name)
    globals()[name] = value  # later look-ups do not come back here
    return value


def __dir__() -> list[str]:
    """The module's attributes and every public name, loaded or not."""
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static checkers and IDEs see the names without importing them at run time
    from typing import Any

    from copos.bound import Bound
    from copos.certificates.certificate import Certificate
    from copos.certificates.certify import certify
    from copos.certificates.dual_norm import dual_norm
    from copos.certificates.rel_working_set import rel_working_set
    from copos.certificates.verify import VerificationResult, verify
    from copos.cones.base import Cone
    from copos.cones.basic import DNN, PSD, SPN, CompletelyPositive, Copositive, Nonnegative
    from copos.cones.membership import cp_factorize, is_copositive
    from copos.cones.parrilo import Parrilo, ParriloDual
    from copos.cones.polya import DeKlerkPasechnik, DeKlerkPasechnikDual
    from copos.nets.architectures.conv import Convolution, ConvReLU
    from copos.nets.architectures.dense import TwoLayerReLU
    from copos.nets.arrangements import enumerate_arrangements
    from copos.nets.datasets import load_data, load_problem, planted, save_data, spiral, whitened
    from copos.nets.problem import TrainingProblem
    from copos.nets.training import TrainingRun, train, train_conv, train_grid
    from copos.programs.stability import stability_number
    from copos.programs.stqp import standard_quadratic
    from copos.recovery.convex import recover_from_convex
    from copos.recovery.cp_factor import recover_from_rel
    from copos.recovery.rounding import round_lifted
    from copos.relaxations.circular2d import solve_circular2d_program
    from copos.relaxations.closed_form import soft_threshold_optimum
    from copos.relaxations.conv import (
        read_off_conv_rel,
        solve_circular_program,
        solve_conv_copositive_dual,
        solve_conv_program,
        solve_conv_rel,
    )
    from copos.relaxations.convex import solve_convex_program
    from copos.relaxations.lifted import solve_lifted_dnn
    from copos.relaxations.lifted_cuts import solve_lifted_cuts
    from copos.relaxations.rel import solve_copositive_dual, solve_rel
    from copos.study.report import TightnessReport
    from copos.study.tightness import check_tightness
