"""Networks read off REL blocks (copos.recovery.from_relaxation)."""

from __future__ import annotations

import numpy as np

from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.arrangements import Arrangements
from copos.recovery.from_relaxation import network_from_blocks, patterns_of_network
from tests.known import random_problem


def test_a_rank_one_block_is_its_neuron() -> None:
    problem = random_problem(3, n=6, d=2, c=2)
    u, v = np.array([0.7, -0.4]), np.array([1.5, -0.2])
    mask = problem.X @ u > 0
    patterns = Arrangements(patterns=mask[None, :], complete=False, method="sampled", rank=2)
    q = np.concatenate([u, v])
    for sign in (1.0, -1.0):  # the sign of the eigenvector must not matter
        net = network_from_blocks(np.outer(sign * q, sign * q)[None], patterns, problem)
        expected = TwoLayerReLU(U=u[:, None], V=v[None, :])
        assert np.isclose(net.objective(problem), expected.objective(problem), rtol=1e-12)
    assert network_from_blocks(np.zeros((1, 4, 4)), patterns, problem).m == 0


def test_patterns_of_a_network_are_its_neurons_patterns() -> None:
    problem = random_problem(4, n=7)
    U = np.array([[1.0, 1.0, -1.0], [0.0, 0.0, 2.0]])
    patterns = patterns_of_network(TwoLayerReLU(U=U, V=np.ones((3, 2))), problem)
    assert len(patterns) == 2 and not patterns.complete  # two neurons share a direction
    assert {m.tobytes() for m in patterns.patterns} == {
        (problem.X @ U[:, j] > 0).tobytes() for j in (0, 2)
    }
