"""Exact boundary members are members, or undecided, never 'not a member' (#17 item 11)."""

from __future__ import annotations

import numpy as np
import pytest

from copos.cones import Parrilo
from copos.cones.base import MARGIN_TOL
from tests.known import HORN


@pytest.mark.parametrize("scale", [1.0, 10.0, 100.0])
def test_horn_is_in_k1_with_the_default_tolerance(scale: float) -> None:
    # Before #17: tol = 1e-7 absolute; Clarabel's margin of 10 H is -2.7e-7, of 100 H -3.1e-6,
    # so exact boundary members were called non-members.
    membership = Parrilo(5, 1).contains(scale * HORN)
    assert membership.member
    assert membership.answer in ("member", "undecided")
    assert membership.tol == pytest.approx(MARGIN_TOL * scale)


def test_horn_margin_along_identity_is_within_the_band() -> None:
    membership = Parrilo(5, 1).contains(HORN)
    assert abs(membership.margin) <= membership.tol or membership.margin > 0


def test_clear_non_member_is_decided() -> None:
    membership = Parrilo(5, 0).contains(HORN)
    assert not membership.member
    assert membership.answer in ("not a member", "undecided")
    if membership.solve is not None and membership.solve.accurate:
        assert membership.answer == "not a member"


def test_interior_member_is_decided() -> None:
    membership = Parrilo(5, 1).contains(np.eye(5) + np.ones((5, 5)))
    assert membership.member and membership.margin > MARGIN_TOL
