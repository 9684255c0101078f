"""Copositive programs with known answers: stability numbers and standard quadratic programs."""

from copos.bound import Bound, bounds_to_json, format_table
from copos.programs.conic import ConicProgram
from copos.programs.stability import (
    clique_number,
    exact_stability_number,
    stability_number,
    stability_program,
)
from copos.programs.stqp import grid_minimum, standard_quadratic, stqp_program

__all__ = [
    "Bound",
    "ConicProgram",
    "bounds_to_json",
    "clique_number",
    "exact_stability_number",
    "format_table",
    "grid_minimum",
    "stability_number",
    "stability_program",
    "standard_quadratic",
    "stqp_program",
]
