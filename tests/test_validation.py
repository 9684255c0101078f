"""Private input checks shared by every entry point."""

from __future__ import annotations

import numpy as np
import pytest

from copos._validation import power_of_two_scale


@pytest.mark.parametrize("peak", [1e-300, 3e-162, 1.0, 7.5, 1e154, 1.7e308])
def test_power_of_two_scale_is_exact_and_never_overflows(peak: float) -> None:
    array = np.array([[peak, -peak / 3], [0.0, peak / 7]])
    scale = power_of_two_scale(array)
    unit = array / scale
    assert 1.0 <= np.max(np.abs(unit)) < 2.0
    assert np.array_equal(unit * scale, array)  # a power of two: nothing was rounded


def test_power_of_two_scale_of_zero_or_non_finite_is_one() -> None:
    assert power_of_two_scale(np.zeros((2, 2))) == 1.0
    assert power_of_two_scale(np.array([np.inf])) == 1.0
