r"""Networks from the arrangement program's blocks (Pilanci & Ergen, 2020).

.. math:: (u_j, \alpha_j) = \big(b_j/\sqrt{\|b_j\|},\ \pm\sqrt{\|b_j\|}\big)
    \quad\text{for every nonzero block } b_j \in \{v_i\} \cup \{w_i\}.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos._deprecation import deprecated_alias
from copos._validation import as_finite_array

FloatArray = NDArray[np.float64]


#: Blocks with norm at most this times the largest block norm are not turned into neurons.
DEFAULT_NEURON_TOL = 1e-6


def recover_from_convex(
    v_blocks: ArrayLike, w_blocks: ArrayLike, *, neuron_tol: float = DEFAULT_NEURON_TOL
) -> tuple[FloatArray, FloatArray]:
    r"""Neurons :math:`(u, \alpha) = (b/\sqrt{\|b\|},\ \pm\sqrt{\|b\|})` of the nonzero blocks.

    ``v_blocks`` (sign ``+``) and ``w_blocks`` (sign ``-``) are ``(P, h)`` arrays (``h = d`` for the
    dense net, the patch size for a patch architecture); blocks with
    norm ``<= neuron_tol * (largest block norm)`` are dropped.  Returns ``U (d, m)`` and
    ``V (m, 1)``; each neuron is balanced, :math:`\|u\| = |\alpha|`, so its weight decay
    :math:`\tfrac\beta2(\|u\|^2+\alpha^2)` equals :math:`\beta\|b\|`.
    """
    positive = as_finite_array(v_blocks, "v_blocks", ndim=2)
    negative = as_finite_array(w_blocks, "w_blocks", ndim=2)
    blocks = np.vstack([positive, negative])
    signs = np.concatenate([np.ones(positive.shape[0]), -np.ones(negative.shape[0])])
    norms = np.linalg.norm(blocks, axis=1)
    keep = norms > neuron_tol * float(norms.max(initial=0.0))
    roots = np.sqrt(norms[keep])
    U = (blocks[keep] / roots[:, None]).T
    V = (signs[keep] * roots)[:, None]
    return U, V


#: Deprecated (one release): the old name of :func:`recover_from_convex`.
recover_network = deprecated_alias(recover_from_convex, "recover_network", __name__)
