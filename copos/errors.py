"""Exceptions raised by copos.

Every error a user can cause derives from :class:`CoposError`, so ``except CoposError`` catches
all of them; the message always says what was wrong and what to do about it.
"""

from __future__ import annotations


class CoposError(Exception):
    """Base class of every copos exception."""


class InvalidInputError(CoposError, ValueError):
    """An argument has the wrong shape, type or value (NaN, non-symmetric, negative level, ...)."""


class UnknownSolverError(CoposError, ValueError):
    """A solver name that copos does not know or that is not installed."""


class SolverError(CoposError, RuntimeError):
    """A solver failed outright (crashed, infeasible where it cannot be, no solution returned)."""


class DataFileError(CoposError, OSError):
    """A file could not be read or has the wrong contents."""


class TooLargeError(InvalidInputError):
    """A model whose estimated memory exceeds the limit; refused before anything is built."""
