"""copos: completely positive and copositive programs for two-layer ReLU networks."""

from copos.errors import (
    CoposError,
    DataFileError,
    InvalidInputError,
    SolverError,
    UnknownSolverError,
)

__version__ = "0.1.0"

__all__ = [
    "CoposError",
    "DataFileError",
    "InvalidInputError",
    "SolverError",
    "UnknownSolverError",
    "__version__",
]
