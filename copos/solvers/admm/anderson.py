r"""Type-II Anderson acceleration of a fixed-point map, shared by copos's splitting solvers.

For a map :math:`g` with fixed-point residual :math:`f(x) = g(x) - x`, the accelerated iterate is

.. math:: x^+ = g(x) - \Delta G\,\gamma,\qquad
    \gamma = \arg\min_\gamma \|f(x) - \Delta F\,\gamma\|_2 ,

with :math:`\Delta F, \Delta G` the last ``m`` differences of :math:`f` and :math:`g`
(Walker and Ni 2011; Zhang, O'Donoghue and Boyd 2020 for the safeguarded use in splitting
methods: the caller rejects a step that increases :math:`\|f\|` and calls :meth:`Anderson.reset`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Tikhonov term of the least-squares problem, relative to the trace of its Gram matrix.
REGULARIZATION = 1e-10


class Anderson:
    r"""Anderson acceleration with memory ``m`` on vectors of length ``size``.

    The differences live in preallocated ring buffers and their Gram matrix is updated one row
    per step, so a step costs three passes over ``m`` vectors.  ``memory = 0`` disables it.
    """

    def __init__(self, memory: int, size: int) -> None:
        self.memory = memory
        self.dF = np.empty((memory, size)) if memory else np.empty((0, size))
        self.dG = np.empty_like(self.dF)
        self.gram = np.zeros((memory, memory))
        self.count = 0
        self.next = 0
        self.last: tuple[FloatArray, FloatArray] | None = None
        self.rejected = 0
        self._fallback: tuple[float, FloatArray] | None = None

    def reset(self) -> None:
        """Forget the stored differences (after a rejected step or a change of the map)."""
        self.count, self.next, self.last = 0, 0, None
        self._fallback = None

    def safeguarded(self, x: FloatArray, gx: FloatArray) -> FloatArray:
        """The next iterate, with the safeguard of Zhang, O'Donoghue and Boyd (2020).

        If the fixed-point residual :math:`\\|g(x) - x\\|` grew since the last extrapolated step,
        that step is rejected: the history is cleared and the plain point :math:`g` of the
        iterate before it is returned (counted in ``rejected``).  Otherwise the extrapolation
        of :meth:`__call__`.
        """
        norm_f = float(np.linalg.norm(gx - x))
        if self._fallback is not None and norm_f > self._fallback[0]:
            self.rejected += 1
            fallback = self._fallback[1]
            self.reset()
            return fallback
        following, used = self(x, gx)
        self._fallback = (norm_f, gx.copy()) if used else None
        return following

    def __call__(self, x: FloatArray, gx: FloatArray) -> tuple[FloatArray, bool]:
        """``(next iterate, accelerated?)``; ``gx`` itself when there is nothing to extrapolate.

        ``x`` and ``gx`` are read, never modified; the returned array is new or ``gx``.
        """
        if self.memory == 0:
            return gx, False
        f = gx - x
        if self.last is not None:
            j = self.next
            np.subtract(f, self.last[0], out=self.dF[j])
            np.subtract(gx, self.last[1], out=self.dG[j])
            self.count = min(self.count + 1, self.memory)
            self.next = (j + 1) % self.memory
            row = self.dF[: self.count] @ self.dF[j]
            self.gram[j, : self.count] = row
            self.gram[: self.count, j] = row
        self.last = (f, gx.copy())
        if self.count == 0:
            return gx, False
        k = self.count
        trace = max(float(np.trace(self.gram[:k, :k])), 1e-300)
        gram = self.gram[:k, :k] + REGULARIZATION * trace * np.eye(k)
        try:
            gamma = np.linalg.solve(gram, self.dF[:k] @ f)
        except np.linalg.LinAlgError:
            self.reset()
            return gx, False
        return gx - gamma @ self.dG[:k], True
