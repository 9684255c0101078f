"""Two-layer ReLU networks: the training problem, networks, baselines and convex programs."""

from copos.network.problem import TrainingProblem

__all__ = ["TrainingProblem"]
