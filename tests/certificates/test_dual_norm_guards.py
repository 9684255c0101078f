"""Where ``dual_norm`` does not trust its own enumeration, and where ``auto`` stops searching.

An ill-conditioned ``X`` (one row scaled by 1e8) has cells that are thinner than the
enumeration's margin in whitened coordinates but wide on the sphere of ``u``: ``"exact"`` over the
enumerated patterns was 0.6 % below a sampled direction's value.  Above
``MAX_ENUMERATION_CONDITION`` ``auto`` uses the branch and bound (a proven interval that holds the
sampled value) and an explicit ``"exact"`` is not rigorous.  Above ``AUTO_SEARCH_MAX_RANK``
``auto`` keeps the global bound instead of spending the search's budget.
"""

from __future__ import annotations

import numpy as np

from copos.certificates.dual_norm import AUTO_SEARCH_MAX_RANK, dual_norm


def _sampled_max(Z: np.ndarray, X: np.ndarray, seed: int = 0) -> float:
    """A lower bound on sigma(Z): the best of 100,000 random unit directions."""
    U = np.random.default_rng(seed).standard_normal((100_000, X.shape[1]))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    return float(np.max(np.linalg.norm(np.maximum(U @ X.T, 0.0) @ Z, axis=1)))


def _ill_conditioned() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    X, Z = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    X[0] *= 1e8
    Z[1] *= 1e-8
    return Z, X


def test_ill_conditioned_data_are_not_trusted_to_enumeration() -> None:
    Z, X = _ill_conditioned()
    sampled = _sampled_max(Z, X)
    exact = dual_norm(Z, X, method="exact")
    assert exact.value < sampled  # the defect the guard is for: thin cells were missed
    assert not exact.rigorous and "ill-conditioned" in exact.note
    auto = dual_norm(Z, X, time_budget=20.0)
    assert auto.method == "branch-and-bound" and auto.rigorous
    assert auto.lower <= auto.value
    assert auto.value >= sampled


def test_well_conditioned_data_keep_the_exact_enumeration() -> None:
    rng = np.random.default_rng(1)
    X, Z = rng.standard_normal((12, 2)), rng.standard_normal((12, 2))
    result = dual_norm(Z, X)
    assert result.method == "exact" and result.rigorous
    assert result.value >= _sampled_max(Z, X)


def test_auto_keeps_the_global_bound_above_the_search_rank() -> None:
    rng = np.random.default_rng(2)
    r = AUTO_SEARCH_MAX_RANK + 1
    X, Z = rng.standard_normal((40, r)), rng.standard_normal((40, 2))
    result = dual_norm(Z, X, max_patterns=10)
    assert result.method == "global" and result.rigorous
    assert result.value >= np.linalg.norm(Z, 2) * np.linalg.norm(X, 2)
