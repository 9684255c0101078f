"""Cones by name, for programs and the command line."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from copos._memory import check_memory, cone_bytes
from copos._validation import check_dimension, check_level
from copos.cones.base import Cone, check_sign_count
from copos.cones.parrilo import Parrilo, ParriloDual
from copos.cones.polya import DeKlerkPasechnik, DeKlerkPasechnikDual
from copos.cones.polyhedral import SimplexGridCOP, SimplexGridCP
from copos.errors import InvalidInputError

#: family name -> (constructor(n, level, k), what it approximates, meaning of the level)
FAMILIES: Mapping[str, tuple[Callable[[int, int, int | None], Cone], str, str]] = {
    "parrilo": (Parrilo, "COP from inside (K^r; K^0 = S+ + N)", "r"),
    "parrilo-dual": (ParriloDual, "CP from outside ((K^r)*; level 0 = DNN)", "r"),
    "dkp": (DeKlerkPasechnik, "COP from inside (de Klerk-Pasechnik LP C^r)", "r"),
    "dkp-dual": (DeKlerkPasechnikDual, "CP from outside ((C^r)*)", "r"),
    "grid": (SimplexGridCOP, "COP from outside (simplex grid O_m)", "m"),
    "grid-cp": (SimplexGridCP, "CP from inside (cone of xx^T, x in the grid)", "m"),
}


def check_cone_size(family: str, n: int, level: int, k: int | None = None) -> str:
    """Validate ``family``/``level`` and refuse a program that would not fit; returns the family key.

    Raises
    ------
    InvalidInputError
        Unknown family, negative level, grid size ``m < 1``, bad ``n`` or ``k``.
    TooLargeError
        A program over the cone would need more memory than ``copos._memory.current_limit()``
        (estimated by ``copos._memory.cone_bytes`` before anything is built).
    """
    key = str(family).lower()
    if key not in FAMILIES:
        raise InvalidInputError(
            f"unknown cone family {family!r}; choose one of: {', '.join(FAMILIES)}"
        )
    level = check_level(level)
    if FAMILIES[key][2] == "m" and level < 1:
        raise InvalidInputError(f"the grid family {family!r} needs a grid size m >= 1; got {level}")
    n = check_dimension(n, "n")
    check_memory(
        cone_bytes(key, n, level, check_sign_count(n, k)),
        f"a program over {key}:{level} on {n}x{n} matrices",
        "Use a lower level or a smaller problem",
    )
    return key


def make_cone(family: str, n: int, level: int, k: int | None = None) -> Cone:
    """The cone of ``family`` at ``level`` (``m`` for the grid families) on ``n x n`` matrices.

    Checked first by :func:`check_cone_size` (unknown family, bad level, too large).
    """
    key = check_cone_size(family, n, level, k)
    return FAMILIES[key][0](n, level, k)
