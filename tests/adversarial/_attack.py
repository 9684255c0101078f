"""Running one attack against the API: copos errors are refusals, anything else is a finding."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from copos.errors import CoposError
from tests.adversarial._collector import Category

T = TypeVar("T")


class Refused(Exception):
    """The API refused the attack with a copos error (a correct outcome)."""

    def __init__(self, error: CoposError) -> None:
        super().__init__(str(error))
        self.error = error


def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` with warnings silenced; a :class:`CoposError` becomes
    :class:`Refused`; any other exception propagates (the caller records it as a raw error)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return function(*args, **kwargs)
        except CoposError as exc:
            raise Refused(exc) from exc


def raw_error(exc: BaseException) -> tuple[Category, str]:
    """A raw Python exception escaping the API: the library's equivalent of a raw traceback."""
    return ("traceback", f"raw {type(exc).__name__}: {exc}")


def strict_json(text: str) -> Any:
    """``json.loads`` that refuses NaN and infinities (the contract: JSON holds finite numbers)."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"non-finite number {constant} in JSON")

    return json.loads(text, parse_constant=refuse)


def non_finite_fields(data: Any, path: str = "") -> list[str]:
    """Paths of the non-finite floats in a nested structure."""
    if isinstance(data, float):
        return [] if math.isfinite(data) else [path or "(root)"]
    if isinstance(data, dict):
        return [p for key, value in data.items() for p in non_finite_fields(value, f"{path}.{key}")]
    if isinstance(data, (list, tuple)):
        return [p for i, value in enumerate(data) for p in non_finite_fields(value, f"{path}[{i}]")]
    return []
