r"""Circular nets from the spectral program's blocks: :math:`z = c`, :math:`(u, w)` its even split.

.. math:: c_i \ne 0 \mapsto (u, w, s) = (\text{circular\_factor}(c_i), +1),
    \qquad c_i' \ne 0 \mapsto (\text{circular\_factor}(c_i'), -1),

so that :math:`s(X(u\circledast w))_+ = s(Xc)_+` and :math:`\tfrac12(\|u\|^2 + \|w\|^2) = R(c)`:
the net's objective equals the program's value at the blocks.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from copos._validation import as_finite_array
from copos.nets.architectures.circular import (
    CircularReLU,
    Shape,
    circular_factor,
    spectral_norm,
)
from copos.recovery.convex import DEFAULT_NEURON_TOL


def recover_circular(
    v_blocks: ArrayLike,
    w_blocks: ArrayLike,
    *,
    neuron_tol: float = DEFAULT_NEURON_TOL,
    shape: Shape | None = None,
) -> CircularReLU:
    """The :class:`CircularReLU` of the nonzero blocks (``(P, d)`` rows; ``+`` then ``-``);
    blocks with :math:`R(b) \\le` ``neuron_tol`` times the largest are dropped.  ``shape`` is
    the signal shape (``None``: 1-D; ``(h, w)``: 2-D circular convolutions)."""
    positive = as_finite_array(v_blocks, "v_blocks", ndim=2)
    negative = as_finite_array(w_blocks, "w_blocks", ndim=2)
    blocks = np.vstack([positive, negative])
    signs = np.concatenate([np.ones(positive.shape[0]), -np.ones(negative.shape[0])])
    sizes = spectral_norm(blocks.T, shape)
    keep = sizes > neuron_tol * float(sizes.max(initial=0.0))
    factors = [circular_factor(block, shape) for block in blocks[keep]]
    d = blocks.shape[1]
    U = np.array([u for u, _ in factors]).T.reshape(d, -1)
    W = np.array([w for _, w in factors]).T.reshape(d, -1)
    return CircularReLU(U, W, signs[keep], shape)
