"""Two-layer ReLU networks: the training problem, networks, baselines and convex programs."""

from copos.network.arrangements import (
    Arrangements,
    enumerate_arrangements,
    expected_count,
    sample_arrangements,
)
from copos.network.closed_form import ClosedFormResult, soft_threshold_optimum
from copos.network.convex import ConvexProgramResult, recover_from_convex, solve_convex_program
from copos.network.copositive import (
    CopositiveResult,
    FrankWolfeResult,
    Recovery,
    frank_wolfe,
    recover_from_rel,
    recover_network,
    solve_copositive_dual,
    solve_rel,
)
from copos.network.model import TwoLayerReLU
from copos.network.problem import TrainingProblem
from copos.network.training import TrainingRun, best_run, train, train_grid

__all__ = [
    "Arrangements",
    "ClosedFormResult",
    "ConvexProgramResult",
    "CopositiveResult",
    "FrankWolfeResult",
    "Recovery",
    "TrainingProblem",
    "TrainingRun",
    "TwoLayerReLU",
    "best_run",
    "enumerate_arrangements",
    "expected_count",
    "frank_wolfe",
    "recover_from_convex",
    "recover_from_rel",
    "recover_network",
    "sample_arrangements",
    "soft_threshold_optimum",
    "solve_copositive_dual",
    "solve_convex_program",
    "solve_rel",
    "train",
    "train_grid",
]
