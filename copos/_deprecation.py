"""Deprecation aliases: an old public name that still works for one release and says so.

Old module paths are handled by :mod:`copos._moved`.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def deprecated_alias(function: F, old_name: str, module: str) -> F:
    """``old_name`` in ``module``: calls ``function`` after a :class:`DeprecationWarning`.

    The warning names the replacement and points at the caller's line (``stacklevel=2``).
    """
    new_name = f"{function.__module__}.{function.__qualname__}"
    message = (
        f"{module}.{old_name} is deprecated and will be removed in the next release; "
        f"use {new_name} (the same function under its new name)"
    )

    @functools.wraps(function)
    def alias(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        return function(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old_name
    alias.__module__ = module
    alias.__doc__ = f"Deprecated alias of :func:`{new_name}`.\n\n{message}."
    del alias.__wrapped__  # type: ignore[attr-defined]
    return alias  # type: ignore[return-value]
