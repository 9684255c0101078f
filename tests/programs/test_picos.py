"""The PICOS transcription (cvxopt backend) agrees with the cvxpy one; PICOS's dual of DNN is S+ + N."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from copos.cones import SPN, DeKlerkPasechnik, Parrilo, ParriloDual, SimplexGridCOP
from copos.programs import stability_program, stqp_program
from tests.known import HORN, TOL


@pytest.mark.parametrize(
    "cone",
    [
        Parrilo(5, 0),
        Parrilo(5, 1),
        ParriloDual(5, 0),
        ParriloDual(5, 1),
        DeKlerkPasechnik(5, 1),
        SimplexGridCOP(5, 3),
    ],
    ids=lambda cone: cone.symbol,
)
def test_cvxpy_and_picos_transcriptions_agree(cone) -> None:  # type: ignore[no-untyped-def]
    program = stability_program(nx.cycle_graph(5))
    expected = program.bound(cone).value
    problem = program.picos_problem(cone)
    problem.solve(solver="cvxopt")
    assert float(problem.value) == pytest.approx(expected, abs=1e-5)


def test_stqp_transcriptions_agree() -> None:
    program = stqp_program(HORN)
    problem = program.picos_problem(Parrilo(5, 0))
    problem.solve(solver="cvxopt")
    assert -float(problem.value) == pytest.approx(2 / math.sqrt(5) - 1, abs=TOL)


def test_picos_dual_of_dnn_program_is_the_s_plus_n_program() -> None:
    # max{<J, X> : <I + A, X> = 1, X in DNN}; PICOS dualizes it automatically, and its value
    # must equal min{lambda : lambda (I + A) - J in S+ + N} solved by copos with cvxpy.
    program = stability_program(nx.cycle_graph(5))
    primal = program.picos_problem(ParriloDual(5, 0))
    dual = primal.dual
    dual.solve(solver="cvxopt")
    s_plus_n = program.bound(SPN(5))
    assert s_plus_n.value == pytest.approx(math.sqrt(5), abs=TOL)
    # PICOS writes the dual of a maximization as a minimization of the same value.
    assert abs(float(dual.value)) == pytest.approx(s_plus_n.value, abs=1e-5)
    # Its variables are one PSD matrix (the S+ part) and nonnegative multipliers (the N part).
    text = str(dual)
    assert "≽ 0" in text
    assert np.isfinite(float(dual.value))
