"""Cones by name, for programs and the command line."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from copos._validation import check_level
from copos.cones.base import Cone
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


def make_cone(family: str, n: int, level: int, k: int | None = None) -> Cone:
    """The cone of ``family`` at ``level`` (``m`` for the grid families) on ``n x n`` matrices."""
    key = str(family).lower()
    if key not in FAMILIES:
        raise InvalidInputError(f"unknown cone family {family!r}; choose one of: {', '.join(FAMILIES)}")
    level = check_level(level)
    if FAMILIES[key][2] == "m" and level < 1:
        raise InvalidInputError(f"the grid family {family!r} needs a grid size m >= 1; got {level}")
    return FAMILIES[key][0](n, level, k)
