r"""The spectral :math:`\ell_1` program of circular nets on 2-D (or any N-D) signals.

A row of :math:`X` is an image of ``shape`` :math:`(h, w)` flattened in C order (:math:`d = hw`);
neuron :math:`j` is :math:`s_j(X(u_j\circledast w_j))_+` with the 2-D circular convolution
(:class:`copos.nets.architectures.circular.CircularReLU` with ``shape``).  With the unitary 2-D
DFT :math:`\mathsf F = \mathsf F_h\otimes\mathsf F_w`, the program is the 1-D one of
:func:`copos.relaxations.conv.solve_circular_program`:

.. math::

    \min_{c_i, c_i'}\ \tfrac12\Big\|\sum_i D_iX(c_i - c_i') - y\Big\|_2^2
        + \beta\sum_i\big(R(c_i) + R(c_i')\big),\quad R(c) = \frac{\|\mathsf Fc\|_1}{\sqrt{hw}},
    \quad\text{s.t.}\ (2D_i - I)Xc_i \ge 0,\ (2D_i - I)Xc_i' \ge 0 .

All patterns of :math:`X`: the value is the circular model's optimum (``"exact"``, at a width at
least the number of nonzero blocks); sampled patterns: ``"upper"``.  The net recovered by the
even split of every 2-D Fourier coefficient attains the value.
"""

from __future__ import annotations

from collections.abc import Callable

import cvxpy as cp
import numpy as np

from copos.nets.architectures.circular import Shape, check_circular_problem, signal_shape
from copos.nets.arrangements import Arrangements
from copos.nets.problem import TrainingProblem
from copos.recovery.convex import DEFAULT_NEURON_TOL
from copos.relaxations.conv import CircularProgramResult, solve_spectral_program
from copos.solvers import DEFAULT_SOLVER


def dft_matrix(shape: Shape) -> np.ndarray:
    r"""The unitary DFT of signals of ``shape`` on C-order flattened vectors
    (:math:`\mathsf F_{s_1}\otimes\cdots\otimes\mathsf F_{s_k}`): ``F @ z == fftn(z)``."""
    d = int(np.prod(shape))
    basis = np.eye(d).reshape(tuple(shape) + (d,))
    axes = tuple(range(len(shape)))
    return np.fft.fftn(basis, axes=axes, norm="ortho").reshape(d, d)


def spectral_l1_of(shape: Shape) -> Callable[[cp.Variable], cp.Expression]:
    r"""The penalty :math:`\sum_i\|\mathsf Fc_i\|_1/\sqrt d` over the columns, ``F`` the DFT of
    ``shape`` (one second-order cone per frequency: the modulus of the complex coefficient)."""
    F = dft_matrix(shape)
    d = F.shape[0]

    def penalty(blocks: cp.Variable) -> cp.Expression:
        P = blocks.shape[1]
        real = cp.reshape(cp.vec(np.real(F) @ blocks, order="F"), (d * P, 1), order="F")
        imag = cp.reshape(cp.vec(np.imag(F) @ blocks, order="F"), (d * P, 1), order="F")
        return cp.sum(cp.norm(cp.hstack([real, imag]), 2, axis=1)) / np.sqrt(d)

    return penalty


def solve_circular2d_program(
    problem: TrainingProblem,
    shape: Shape,
    arrangements: Arrangements | None = None,
    *,
    solver: str = DEFAULT_SOLVER,
    neuron_tol: float = DEFAULT_NEURON_TOL,
) -> CircularProgramResult:
    r"""The spectral-:math:`\ell_1` program (module docstring) on signals of ``shape`` (e.g. an
    image ``(h, w)`` with :math:`hw = d`) and the 2-D circular net recovered from it.

    Raises
    ------
    InvalidInputError
        A vector output, a bias column or output bias, ``shape`` not matching ``d``, or patterns
        of the wrong length.
    """
    check_circular_problem(problem)
    full = signal_shape(problem.d, shape)
    return solve_spectral_program(
        problem, arrangements, spectral_l1_of(full), full, solver, neuron_tol
    )
