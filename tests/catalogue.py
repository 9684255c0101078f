"""A catalogue of training problems whose optimum p* is known by proof, for every relaxation and solver.

In the spirit of cvxpy's ``solver_test_helpers``: each entry holds a problem, its optimum, why the
optimum is known, and the tolerance a verified solver value must meet. ``tests/test_catalogue.py``
runs every relaxation with every solver on every entry and checks each *verified* bound against
p* by its direction (lower <= p*, upper >= p*, exact = p*), and that the rigorous ones hold exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from copos.certificates.dual_norm import dual_norm
from copos.nets.datasets import whitened
from copos.nets.problem import TrainingProblem
from copos.relaxations.closed_form import soft_threshold_value


@dataclass(frozen=True)
class KnownProblem:
    """A training problem with its optimum ``p_star``, the reason it is known, and a tolerance."""

    name: str
    problem: TrainingProblem
    p_star: float
    why: str
    rtol: float = 1e-4


def zero_is_optimal(n: int = 7, d: int = 2, c: int = 1, seed: int = 3) -> KnownProblem:
    r"""β above the dual norm of Y: the zero network is optimal and :math:`p^\star = \tfrac12\|Y\|_F^2`.

    :math:`Z = Y` is dual feasible when :math:`\sigma(Y) \le \beta`, so
    :math:`p^\star \ge \tfrac12\|Y\|_F^2 = F(0, 0) \ge p^\star`.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    Y = rng.standard_normal((n, c))
    sigma = dual_norm(Y, X, method="exact").value  # a rigorous upper bound on sigma(Y)
    problem = TrainingProblem(X, Y, beta=1.25 * sigma)
    return KnownProblem(
        f"zero-optimal (n={n}, d={d}, c={c})",
        problem,
        0.5 * float(np.sum(Y**2)),
        "beta >= sigma(Y): Z = Y is dual feasible and the zero net attains 1/2 ||Y||^2",
    )


def whitened_labels(n: int = 5, d: int = 6, c: int = 2, beta: float = 0.3) -> KnownProblem:
    r"""Whitened data, one-hot labels: the soft-thresholded SVD (Sahiner et al. 2021, §6.3)."""
    problem = whitened(n=n, d=d, c=c, seed=1, beta=beta)
    sigma = np.linalg.svd(problem.Y, compute_uv=False)
    return KnownProblem(
        f"whitened (n={n}, d={d}, c={c})",
        problem,
        soft_threshold_value(sigma, beta),
        "XX^T = I: p* = sum over singular values of Y of the soft-threshold penalty",
    )


def scalar_whitened(n: int = 4, d: int = 4, beta: float = 0.2) -> KnownProblem:
    """Whitened data with one class (``Y`` all ones): a scalar-output instance for the convex program."""
    known = whitened_labels(n=n, d=d, c=1, beta=beta)
    return KnownProblem(f"whitened scalar (n={n}, d={d})", known.problem, known.p_star, known.why)


def catalogue() -> list[KnownProblem]:
    """Every known problem, small enough that each relaxation solves it in about a second."""
    return [
        zero_is_optimal(),
        zero_is_optimal(n=6, d=2, c=2, seed=5),
        whitened_labels(),
        scalar_whitened(),
    ]
