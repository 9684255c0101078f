r"""Active-set (working-set) phase for the arrangement program, seeded by the ADMM (issue 15).

Program (rescaled units, blocks :math:`b = 1..2P` with :math:`F_b = \pm D_iX` and cones
:math:`K_b = \{v : E_iXv \ge 0\}`, :math:`E_i = 2D_i - I`):

.. math::

    \min_{v}\ \tfrac12\Big\|\sum_b F_bv_b - y\Big\|^2 + \beta\sum_b\|v_b\|_2
    \quad\text{s.t.}\quad v_b \in K_b .

The ADMM's iterations at small :math:`\beta/\beta_{\max}` go into the certified gap, which feels
the *worst* block's dual norm (docs/solvers.md, "Why the arrangement ADMM slowed down on noisy
data").  This phase solves the program restricted to a working set :math:`W` of blocks, with all the
rows of their cones, to interior-point accuracy (Clarabel on the small conic program below),
then evaluates the exact per-block dual norm :math:`\sigma_b(r) = \min_{\eta\le0}\|F_b^\top r -
X^\top E_b\eta\| = \|\Pi_{K_b}(F_b^\top r)\|` (Moreau) at :math:`r = y - \sum_bF_bv_b` for
every block, adds to :math:`W` the blocks outside it with :math:`\sigma_b > \beta`, most
violated first, and repeats.  The restricted program is

.. math::

    \min_{v_W, t, r}\ \tfrac12\|r\|^2 + \beta\sum_{b\in W}t_b
    \quad\text{s.t.}\quad r = F_Wv_W - y,\ (t_b, v_b)\in\mathcal Q^{d+1},\
    E_bXv_b \ge 0\ (b \in W),

:math:`n + |W|(n + d + 1)` rows, against the full program's :math:`n + 2P(n + d + 1)`.  A
working set of cone rows (those near tight at the ADMM's point) was tried first and dropped:
from a rough start (residuals 1e-3) the restricted solutions violated rows outside it, their
projections lost the blocks, and six solves did not converge where one with all rows did
(n = 500, P = 200, noise 1, row-normalized X, beta = 0.1).  Nothing here is trusted: the caller
projects the blocks onto their cones (feasible, an upper bound) and forms the weak-duality
bound from the exact dual norms (:func:`dual_norms`), so the certificate is the ADMM's formula
at a better residual.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Clarabel's gap and feasibility tolerances on the restricted program.
SUBPROBLEM_TOL = 1e-10


@dataclass(frozen=True)
class BlockData:
    r"""The program's data in the ADMM's rescaled units.

    ``X`` ``(n, d)``, ``y`` ``(n,)``, ``masks`` ``(n, P)`` of 0/1 (:math:`D_i`), ``signs``
    ``(n, 2P)`` the cone signs :math:`E_i` of block ``b`` (column ``b mod P``), ``beta``.
    """

    X: FloatArray
    y: FloatArray
    masks: FloatArray
    signs: FloatArray
    beta: float

    @property
    def P(self) -> int:
        return self.masks.shape[1]

    def F(self, blocks: FloatArray) -> FloatArray:
        """:math:`\\sum_b F_bv_b` for ``(d, 2P)`` blocks."""
        P = self.P
        return np.einsum("np,np->n", self.X @ (blocks[:, :P] - blocks[:, P:]), self.masks)

    def FT(self, r: FloatArray) -> FloatArray:
        """:math:`[F_b^\\top r]_b` as a ``(d, 2P)`` array."""
        half = (self.X * r[:, None]).T @ self.masks
        return np.hstack([half, -half])


def dual_norms(data: BlockData, g: FloatArray) -> tuple[FloatArray, FloatArray]:
    r"""Upper bounds on :math:`\sigma_b = \min_{\lambda\ge0}\|g_b + X^\top E_b\lambda\|` and the
    matching :math:`G_b^\top\eta_b = -X^\top E_b\lambda_b` (``(d, 2P)``).

    Only blocks with :math:`\|g_b\| > \beta` are worked on (:math:`\lambda = 0` gives
    :math:`\sigma_b \le \|g_b\| \le \beta` for the others); :math:`\lambda` comes from
    nonnegative least squares and is clipped to :math:`\lambda\ge0`, so every returned norm is a
    valid upper bound whatever the NNLS accuracy (the bound stays rigorous).
    """
    norms = np.sqrt(np.einsum("db,db->b", g, g))
    gt_eta = np.zeros_like(g)
    for b in np.flatnonzero(norms > data.beta):
        A = data.X.T * data.signs[:, b]  # X^T E_b, d x n
        lam = _nnls(A, -g[:, b])
        correction = A @ lam
        norms[b] = float(np.linalg.norm(g[:, b] + correction))
        gt_eta[:, b] = -correction
    return norms, gt_eta


def _nnls(A: FloatArray, b: FloatArray) -> FloatArray:
    try:
        x, _ = scipy.optimize.nnls(A, b)
    except (RuntimeError, ValueError):
        return np.zeros(A.shape[1])
    return np.maximum(x, 0.0)


def solve_restricted(
    data: BlockData, working: list[int], time_limit: float | None = None
) -> tuple[FloatArray, str]:
    """The restricted program of the module docstring by Clarabel: ``(d, |W|)`` blocks (zero
    where Clarabel returned non-finite numbers) and Clarabel's status."""
    import clarabel

    n, d = data.X.shape
    P, m = data.P, len(working)
    nv = d * m
    # F_W: column block j is ±D_i X
    cols = []
    for b in working:
        sign = 1.0 if b < P else -1.0
        cols.append(sign * data.X * data.masks[:, b % P][:, None])
    FW = sp.csc_matrix(np.hstack(cols)) if m else sp.csc_matrix((n, 0))
    eq = sp.hstack([FW, sp.csc_matrix((n, m)), -sp.identity(n, format="csc")])
    width = nv + m + n
    cone_blocks = [_cone_rows(data, b, j, width) for j, b in enumerate(working)]
    nonneg = n * m
    # (t_j, v_j) in Q^{d+1}: s = x on those coordinates, rows ordered t_0, v_0, t_1, v_1, ...
    soc_cols = np.column_stack([nv + np.arange(m), d * np.arange(m)[:, None] + np.arange(d)])
    soc = sp.csc_matrix(
        (-np.ones(m * (d + 1)), (np.arange(m * (d + 1)), soc_cols.reshape(-1))),
        shape=(m * (d + 1), width),
    )
    A = sp.vstack([eq, *cone_blocks, soc], format="csc")
    b = np.concatenate([data.y, np.zeros(nonneg + m * (d + 1))])
    Pmat = sp.block_diag(
        [sp.csc_matrix((nv + m, nv + m)), sp.identity(n, format="csc")], format="csc"
    )
    q = np.concatenate([np.zeros(nv), np.full(m, data.beta), np.zeros(n)])
    cones = [clarabel.ZeroConeT(n)]
    if nonneg:
        cones.append(clarabel.NonnegativeConeT(nonneg))
    cones.extend(clarabel.SecondOrderConeT(d + 1) for _ in range(m))
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = SUBPROBLEM_TOL
    # qdldl: faer was 3.6x slower at n = 200, |W| = 200 and on a par at n = 500, |W| = 304
    settings.direct_solve_method = "qdldl"
    if time_limit is not None:
        settings.time_limit = max(time_limit, 1e-3)
    solution = clarabel.DefaultSolver(sp.triu(Pmat, format="csc"), q, A, b, cones, settings).solve()
    x = np.asarray(solution.x, dtype=np.float64)
    blocks = x[:nv].reshape(m, d).T if x.size == width else np.zeros((d, m))
    return np.where(np.isfinite(blocks), blocks, 0.0), str(solution.status)


def _cone_rows(data: BlockData, b: int, j: int, width: int) -> sp.csc_matrix:
    """The rows ``-E_bX`` acting on block ``j`` of the stacked variables."""
    n, d = data.X.shape
    G = -(data.signs[:, b][:, None] * data.X)
    r, c = np.nonzero(np.ones_like(G))
    return sp.csc_matrix((G.reshape(-1), (r, d * j + c)), shape=(n, width))
