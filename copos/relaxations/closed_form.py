r"""Soft-thresholded SVD: the training optimum in closed form for whitened data.

Assume :math:`XX^\top = I_n` (so :math:`n \le d`) and let :math:`Y = \sum_k \sigma_k a_k b_k^\top`
be an SVD whose left singular vectors satisfy :math:`a_k \ge 0` whenever
:math:`\sigma_k > \beta` (one-hot labels do: :math:`a_k = y_k/\sqrt{n_k}`). Then
(Sahiner et al. 2021, §6.3 of the reference notes)

.. math::

    p^\star = \sum_{\sigma_k \le \beta}\tfrac12\sigma_k^2
        + \sum_{\sigma_k > \beta}\big(\beta\sigma_k - \tfrac12\beta^2\big),

attained by :math:`m^\star = \#\{k : \sigma_k > \beta\}` neurons
:math:`u_k = \sqrt{\sigma_k-\beta}\,X^\top a_k`, :math:`v_k = \sqrt{\sigma_k-\beta}\,b_k`, whose
prediction is the singular-value soft-thresholding :math:`\sum_k(\sigma_k-\beta)_+a_kb_k^\top`.

Why: for any network :math:`\|(XU)_+V\|_* \le \sum_j\|Xu_j\|\|v_j\| \le \tfrac12\sum_j(\|u_j\|^2
+ \|v_j\|^2)` because :math:`\|X\|_2 = 1`, so :math:`p^\star \ge \min_F \tfrac12\|F-Y\|_F^2 +
\beta\|F\|_*`, which is the formula above (a lower bound for **any** labels once ``X`` is
whitened); nonnegativity of :math:`a_k = Xu_k/\sqrt{\sigma_k-\beta}` makes the ReLU inactive, so
the network above attains it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos._validation import as_finite_array, check_positive
from copos.bound import Bound
from copos.errors import InvalidInputError
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.problem import TrainingProblem, require_no_output_bias

FloatArray = NDArray[np.float64]

#: Default tolerance for whitening, orthogonality of label columns and nonnegativity.
DEFAULT_TOL = 1e-8


@dataclass(frozen=True, eq=False)
class ClosedFormResult:
    """Soft-thresholded-SVD value and network.

    Attributes
    ----------
    value:
        :math:`\\sum_{\\sigma_k\\le\\beta}\\tfrac12\\sigma_k^2+\\sum_{\\sigma_k>\\beta}(\\beta\\sigma_k
        -\\tfrac12\\beta^2)`: the training optimum when ``applicable``, otherwise a lower bound.
    U, V:
        Network weights, shapes ``(d, m)`` and ``(m, c)``; optimal when ``applicable``, otherwise
        only a feasible network (its objective is an upper bound).
    singular_values:
        Singular values of ``Y`` in decreasing order.
    applicable:
        Whether the closed-form conditions hold (so ``value`` is the optimum).
    reason:
        Why the conditions hold or fail.
    """

    value: float
    U: FloatArray
    V: FloatArray
    singular_values: FloatArray
    applicable: bool
    reason: str

    @property
    def bound_kind(self) -> Literal["exact", "lower"]:
        """``"exact"`` when applicable, else ``"lower"`` (nuclear-norm bound)."""
        return "exact" if self.applicable else "lower"

    @property
    def bound(self) -> Bound:
        """``value`` as a rigorous :class:`~copos.bound.Bound` on p* (no solver): exact or lower."""
        return Bound(
            value=self.value, claimed_kind=self.bound_kind, cone="closed form", note=self.reason
        )

    @property
    def num_neurons(self) -> int:
        """Number of neurons, :math:`\\#\\{k : \\sigma_k > \\beta\\}`."""
        return int(self.U.shape[1])

    def network(self) -> Any:
        """The network as a :class:`copos.nets.architectures.dense.TwoLayerReLU`."""
        return TwoLayerReLU(self.U, self.V)


def whitening_error(X: ArrayLike) -> float:
    r"""Largest entry of :math:`|XX^\top - I_n|`; zero iff ``X`` has orthonormal rows."""
    return _whitening_error(as_finite_array(X, "X", ndim=2))


def _whitening_error(X: FloatArray) -> float:
    return float(np.max(np.abs(X @ X.T - np.eye(X.shape[0]))))


def soft_threshold_value(singular_values: ArrayLike, beta: float) -> float:
    r""":math:`\sum_k \min_{f \ge 0}\tfrac12(f-\sigma_k)^2+\beta f`, i.e. the closed-form optimum.

    .. math:: \sum_{\sigma_k\le\beta}\tfrac12\sigma_k^2+\sum_{\sigma_k>\beta}(\beta\sigma_k-\tfrac12\beta^2)
    """
    sigma = as_finite_array(singular_values, "singular_values", ndim=1)
    beta = check_positive(beta, "beta")
    return float(np.sum(np.where(sigma > beta, beta * sigma - 0.5 * beta**2, 0.5 * sigma**2)))


def label_factors(
    Y: ArrayLike, *, tol: float = DEFAULT_TOL
) -> tuple[FloatArray, FloatArray, FloatArray]:
    r"""An SVD :math:`Y = A\operatorname{diag}(\sigma)B^\top` with each :math:`a_k` oriented towards
    the nonnegative orthant (flipped with :math:`b_k` when its entries sum to a negative number).

    When the columns of ``Y`` are orthogonal (one-hot labels) the columns themselves are used,
    :math:`a_k = y_k/\|y_k\|`, :math:`b_k = e_k`: this picks the nonnegative basis even when
    classes of equal size make singular values tie.  Returns ``(sigma, A, B)`` with ``sigma``
    decreasing, ``A`` of shape ``(n, k)`` and ``B`` of shape ``(c, k)``, ``k = min(n, c)``.
    """
    return _label_factors(as_finite_array(Y, "Y", ndim=2), tol)


def _label_factors(Y: FloatArray, tol: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    sigma, A, B = _orthogonal_column_factors(Y, tol) or _svd_factors(Y)
    flip = np.where(A.sum(axis=0) < 0, -1.0, 1.0)
    return sigma, A * flip, B * flip


def soft_threshold_optimum(
    problem: TrainingProblem, *, tol: float = DEFAULT_TOL, strict: bool = True
) -> ClosedFormResult:
    r"""Closed-form optimum of a whitened training problem (module docstring).

    Parameters
    ----------
    problem:
        Training problem with :math:`XX^\top = I_n` (to ``tol``, entrywise).
    tol:
        Tolerance for whitening and for :math:`a_k \ge -\mathrm{tol}` (unit vectors).
    strict:
        When true (default) raise if a left singular vector with :math:`\sigma_k > \beta` has
        mixed signs; when false return ``applicable=False`` with the lower bound instead.

    Raises
    ------
    InvalidInputError
        If ``X`` is not whitened, or (``strict``) the nonnegativity condition fails.

    Examples
    --------
    With class sizes 3, 2, 1 the singular values of ``Y`` are :math:`\sqrt3, \sqrt2, 1`, all
    above :math:`\beta = 0.1`, so :math:`p^\star = \sum_k(\beta\sqrt{n_k} - \beta^2/2)`,
    attained by three neurons:

    >>> import numpy as np
    >>> from copos.nets.datasets import whitened
    >>> from copos.relaxations.closed_form import soft_threshold_optimum
    >>> problem = whitened(n=6, d=8, c=3, beta=0.1, class_sizes=[3, 2, 1])
    >>> optimum = soft_threshold_optimum(problem)
    >>> optimum.bound.kind, optimum.num_neurons
    ('exact', 3)
    >>> expected = sum(0.1 * np.sqrt(k) - 0.1**2 / 2 for k in (3, 2, 1))
    >>> bool(np.isclose(optimum.value, expected))
    True
    >>> bool(np.isclose(optimum.network().objective(problem), optimum.value))
    True
    """
    require_no_output_bias(problem, "the closed form of whitened data")
    check_positive(tol, "tol")
    _check_whitened(problem.X, tol)
    sigma, A, B = _label_factors(problem.Y, tol)  # problem.Y was checked when it was built
    active = sigma > problem.beta
    applicable, reason = _nonnegativity(A[:, active], tol)
    if strict and not applicable:
        raise InvalidInputError(
            f"the soft-thresholded SVD is not the optimum: {reason}; pass strict=False to get "
            "the nuclear-norm lower bound, or use the exact convex/copositive programs"
        )
    scale = np.sqrt(sigma[active] - problem.beta)
    return ClosedFormResult(
        value=soft_threshold_value(sigma, problem.beta),
        U=problem.X.T @ (A[:, active] * scale),
        V=(B[:, active] * scale).T,
        singular_values=sigma,
        applicable=applicable,
        reason=reason,
    )


def _check_whitened(X: FloatArray, tol: float) -> None:
    error = _whitening_error(X)  # X of a TrainingProblem: checked when it was built
    if error > tol:
        n, d = X.shape
        hint = f" (impossible: n = {n} > d = {d})" if n > d else ""
        raise InvalidInputError(
            f"the closed form needs whitened data X X^T = I_n{hint}; max |X X^T - I| = "
            f"{error:.3g} > tol = {tol:.3g}. Whiten with X <- (X X^T)^(-1/2) X when n <= d."
        )


def _nonnegativity(A: FloatArray, tol: float) -> tuple[bool, str]:
    if A.size == 0:
        return True, "whitened X and no singular value of Y exceeds beta"
    worst = float(A.min())
    if worst < -tol:
        return False, (
            f"a left singular vector of Y with sigma > beta has a negative entry {worst:.3g} "
            "(after sign flipping)"
        )
    return True, "whitened X and nonnegative left singular vectors of Y for sigma > beta"


def _orthogonal_column_factors(
    Y: FloatArray, tol: float
) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """Factors from the columns when ``Y^T Y`` is diagonal (to ``tol`` relative), else None."""
    gram = Y.T @ Y
    off_diagonal = gram - np.diag(np.diag(gram))
    if np.max(np.abs(off_diagonal), initial=0.0) > tol * max(1.0, float(np.max(np.diag(gram)))):
        return None
    sigma = np.sqrt(np.diag(gram))
    order = np.argsort(-sigma, kind="stable")[: min(Y.shape)]
    A = Y[:, order] / np.where(sigma[order] > 0, sigma[order], 1.0)
    return sigma[order], A, np.eye(Y.shape[1])[:, order]


def _svd_factors(Y: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    A, sigma, Bt = np.linalg.svd(Y, full_matrices=False)
    return sigma, A, Bt.T
