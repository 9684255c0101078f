r"""The data seen through an activation pattern :math:`D_i`.

.. math:: D_iX,\qquad A_i = (2D_i - I_n)X,\qquad M(S) = \textstyle\sum_i D_iXS_iX^\top D_i,
    \qquad Z = (I_n + 2M(S))^{-1}Y .
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from copos.errors import InvalidInputError
from copos.nets.arrangements import Arrangements
from copos.nets.problem import TrainingProblem

FloatArray = NDArray[np.float64]


def masked_data(problem: TrainingProblem, patterns: Arrangements, i: int) -> FloatArray:
    r""":math:`D_iX` of shape ``(n, d)``."""
    return patterns.D(i)[:, None] * problem.X


def cone_rows(problem: TrainingProblem, patterns: Arrangements, i: int) -> FloatArray:
    r""":math:`A_i = (2D_i - I)X`; the cone is :math:`\{u : A_iu \ge 0\}`."""
    return patterns.sign_matrix(i)[:, None] * problem.X


def lifted_matrix(
    problem: TrainingProblem, patterns: Arrangements, S: Sequence[FloatArray]
) -> FloatArray:
    r""":math:`M = \sum_i D_iXS_iX^\top D_i` (numpy)."""
    M = np.zeros((problem.n, problem.n))
    for i, S_i in enumerate(S):
        DX = masked_data(problem, patterns, i)
        M += DX @ S_i @ DX.T
    return 0.5 * (M + M.T)


def residual_from_blocks(
    problem: TrainingProblem, patterns: Arrangements, S: Sequence[FloatArray]
) -> FloatArray:
    r""":math:`Z = (I_n + 2\sum_iD_iXS_iX^\top D_i)^{-1}Y`, the optimal residual at a REL optimum."""
    M = lifted_matrix(problem, patterns, S)
    return np.asarray(np.linalg.solve(np.eye(problem.n) + 2.0 * M, problem.Y), dtype=np.float64)


def patterns_for(problem: TrainingProblem, arrangements: Arrangements | None) -> Arrangements:
    """The given patterns (checked against ``X``) or the exact enumeration (cached by the
    problem: :meth:`~copos.nets.problem.TrainingProblem.arrangements`)."""
    if not isinstance(problem, TrainingProblem):
        raise InvalidInputError(f"problem must be a TrainingProblem; got {type(problem).__name__}")
    patterns = problem.arrangements() if arrangements is None else arrangements
    if not isinstance(patterns, Arrangements):
        raise InvalidInputError(f"arrangements must be Arrangements; got {type(patterns).__name__}")
    if patterns.n != problem.n:
        raise InvalidInputError(
            f"arrangements have patterns of length {patterns.n}, but X has {problem.n} rows"
        )
    if len(patterns) == 0:
        raise InvalidInputError("arrangements must contain at least one pattern")
    return patterns
