r"""Every solver copos knows, by name, with the rules that turn ``"auto"`` into one of them.

A solver is an entry :class:`SolverEntry`: its name, its family (``"cvxpy"``: a conic solver
reached through CVXPY, which solves any program modelled there; ``"splitting"``: copos's own
operator-based method, which serves the programs it names), the programs it serves, a one-line
description and how to check it is installed.  The command line, the tightness checker and the
relaxations ask :func:`resolve`; nothing else holds a list of solver names.  Adding a solver is
one module and one :func:`register` call.

``"auto"`` is resolved per program by a rule on plain sizes (:class:`Sizes`: samples ``n``,
features ``d``, activation patterns ``P``):

.. math::

    \text{lifted-dnn: copos-admm} \iff (n \ge 25 \wedge d \ge 10) \vee (n \ge 100 \wedge d \ge 4),
    \qquad \text{arrangement: copos-admm} \iff nP \ge 50{,}000 \wedge d \ge 5,

else the conic fallback (Clarabel by default); the measurements behind each threshold are at
:data:`AUTO_RULES`.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import cvxpy as cp

from copos.errors import InvalidInputError, UnknownSolverError

Family = Literal["cvxpy", "splitting"]

#: The programs a solver may serve: ``"conic"`` is any program modelled in CVXPY (cones,
#: REL, the dual norm, the lifted duals); the others are the programs copos's splittings solve
#: from operators, and CVXPY solves them too.
PROGRAMS: tuple[str, ...] = ("conic", "lifted-dnn", "arrangement", "robust")
FAMILIES: tuple[str, ...] = ("cvxpy", "splitting")

#: The conic solver used when none is named.
DEFAULT_SOLVER = "clarabel"
#: copos's own ADMM (:mod:`copos.solvers.admm.dnn`, :mod:`copos.solvers.admm.arrangement`).
COPOS_ADMM = "copos-admm"
#: What the command line accepts besides the names: the rule of :data:`AUTO_RULES`.
AUTO = "auto"


def _always() -> bool:
    return True


@dataclass(frozen=True)
class SolverEntry:
    """One solver: ``name`` (lower case), ``family``, ``programs`` served, ``description``.

    ``available()`` says whether it can run here (``install`` says how to make it so).  A
    ``"cvxpy"`` entry names CVXPY's solver (``cvxpy_name``) and the ``options`` copos passes
    by default; ``fallback`` puts it in the fallback chain of every CVXPY solve
    (:func:`copos.solvers.cvxpy_backend.fallback_chain`).
    """

    name: str
    family: Family
    programs: frozenset[str]
    description: str
    available: Callable[[], bool] = _always
    install: str = ""
    cvxpy_name: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    fallback: bool = False
    #: For a ``"splitting"``: program -> ``"module:function"`` that solves it, imported on use.
    #: The function takes what the relaxation hands over (operators and data, never a network):
    #: ``"lifted-dnn"``: the signature of :func:`copos.solvers.admm.dnn.solve_lifted_dnn_admm`;
    #: ``"arrangement"``: that of :func:`copos.solvers.admm.arrangement.solve_arrangement_blocks`;
    #: ``"robust"``: that of :func:`copos.solvers.admm.robust.solve_robust_blocks`.
    runners: Mapping[str, str] = field(default_factory=dict)

    def serves(self, program: str) -> bool:
        """Whether this solver solves ``program``."""
        return program in self.programs


def cvxpy_entry(
    name: str,
    description: str,
    *,
    cvxpy_name: str | None = None,
    options: Mapping[str, Any] | None = None,
    fallback: bool = False,
    module: str | None = None,
) -> SolverEntry:
    """A CVXPY conic solver serving every program, available when CVXPY lists it as installed.

    ``module`` is the Python package that provides it (default ``name``), for the install hint.
    """
    cvxpy_key = cvxpy_name or name.upper()
    return SolverEntry(
        name=name,
        family="cvxpy",
        programs=frozenset(PROGRAMS),
        description=description,
        available=lambda: _cvxpy_installed(cvxpy_key),
        install=f"pip install {module or name}",
        cvxpy_name=cvxpy_key,
        options=MappingProxyType(dict(options or {})),
        fallback=fallback,
    )


def _cvxpy_installed(cvxpy_name: str) -> bool:
    return cvxpy_name in cp.installed_solvers()


_REGISTRY: dict[str, SolverEntry] = {}


def register(entry: SolverEntry) -> SolverEntry:
    """Add ``entry``; returns it.

    Raises
    ------
    InvalidInputError
        The name is taken or not lower case, the family or a program is unknown, a
        ``"cvxpy"`` entry names no CVXPY solver, or a ``"splitting"`` has no runner for a
        program it serves.
    """
    if not entry.name or entry.name != entry.name.lower() or entry.name == AUTO:
        raise InvalidInputError(f"a solver name is a non-empty lower-case word; got {entry.name!r}")
    if entry.name in _REGISTRY:
        raise InvalidInputError(f"solver {entry.name!r} is already registered")
    if entry.family not in FAMILIES:
        raise InvalidInputError(
            f"unknown solver family {entry.family!r}; choose one of: {FAMILIES}"
        )
    unknown = sorted(set(entry.programs) - set(PROGRAMS))
    if not entry.programs or unknown:
        raise InvalidInputError(
            f"solver {entry.name!r} serves unknown programs {unknown}; choose from {PROGRAMS}"
        )
    if entry.family == "cvxpy" and not entry.cvxpy_name:
        raise InvalidInputError(f"the CVXPY solver {entry.name!r} needs its cvxpy_name")
    missing = sorted(set(entry.programs) - set(entry.runners))
    if entry.family == "splitting" and missing:
        raise InvalidInputError(
            f"the splitting {entry.name!r} needs a runner ('module:function') for {missing}"
        )
    _REGISTRY[entry.name] = entry
    return entry


def unregister(name: str) -> SolverEntry:
    """Remove the solver ``name`` and return its entry (:class:`UnknownSolverError` if absent)."""
    entry = get(name)
    del _REGISTRY[entry.name]
    return entry


@contextmanager
def registered(entry: SolverEntry) -> Iterator[SolverEntry]:
    """``with registered(entry):`` the solver exists inside the block only."""
    register(entry)
    try:
        yield entry
    finally:
        _REGISTRY.pop(entry.name, None)


def get(name: str) -> SolverEntry:
    """The entry of ``name`` (any case), or :class:`UnknownSolverError`."""
    entry = _REGISTRY.get(str(name).lower())
    if entry is None:
        raise UnknownSolverError(f"unknown solver {name!r}; choose one of: {_known(None)}")
    return entry


def is_splitting(name: str) -> bool:
    """Whether the registered solver ``name`` is a splitting (run through :func:`runner`)."""
    return get(name).family == "splitting"


def runner(name: str, program: str) -> Callable[..., Any]:
    """The function by which the splitting ``name`` solves ``program`` (see ``SolverEntry.runners``)."""
    entry = get(name)
    target = entry.runners.get(program)
    if target is None:
        raise UnknownSolverError(f"solver {entry.name!r} has no runner for the {program!r} program")
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


def solvers(program: str | None = None, family: str | None = None) -> tuple[SolverEntry, ...]:
    """Registered entries in registration order, optionally only those of a program or family."""
    return tuple(
        entry
        for entry in _REGISTRY.values()
        if (program is None or entry.serves(program)) and (family is None or entry.family == family)
    )


def choices(program: str) -> list[str]:
    """What the command line accepts for ``program``: ``"auto"`` if it has a rule, then the names.

    Splittings first, then CVXPY solvers, each group in alphabetical order.
    """
    names = [
        e.name for e in sorted(solvers(program), key=lambda e: (e.family != "splitting", e.name))
    ]
    return [AUTO, *names] if program in AUTO_RULES else names


@dataclass(frozen=True)
class Sizes:
    r"""The sizes ``"auto"`` looks at: samples ``n``, features ``d``, activation patterns ``P``,
    and for the arrangement program the regularization ratio :math:`\beta/\beta_{\max}`
    (``beta_ratio``; ``inf`` when unknown: the rule then looks at the sizes only)."""

    n: int
    d: int
    patterns: int = 0
    beta_ratio: float = math.inf


@dataclass(frozen=True)
class AutoRule:
    """``solver`` where ``applies(sizes)``, else the conic fallback; ``text`` says it in words."""

    solver: str
    applies: Callable[[Sizes], bool]
    text: str


#: ``solver="auto"`` on the lifted DNN relaxation picks copos-admm from ``n = 25`` samples and
#: ``d = 10`` features on (where ``benchmarks/lifted_dnn_solvers.py`` measured it faster than
#: CVXPY+SCS and CVXPY+Clarabel); on low-dimensional data such as the spiral (d = 2 or 3) the
#: splitting converges slowly.
LIFTED_ADMM_FROM_N = 25
LIFTED_ADMM_FROM_D = 10
#: ... and also from ``n = 100`` samples with ``d >= 4``, where Clarabel's interior-point SDP
#: (side n + d + c) is the slower one (``benchmarks/lifted_dnn_auto_rule.py``: iris train,
#: n = 114, d = 5: copos-admm 150 s, certified 0.959448; Clarabel > 300 s; without the bias
#: column, d = 4: copos-admm 120 s, certified 2.277 at its iteration limit, Clarabel 582 s,
#: 3.3 GB and unverified).  Below, at d = 3 (spiral, planted) and d = 5 (planted n = 60),
#: Clarabel was 3-16x faster.
LIFTED_ADMM_FROM_N_LOW_D = 100
LIFTED_ADMM_LOW_D = 4
#: ``solver="auto"`` on the arrangement program picks copos-admm once the cone constraints have
#: ``n * P >= 50,000`` rows and ``d >= 5``.  Measured at the ADMM tolerance 1e-6
#: (``benchmarks/arrangement_admm_defaults.py``, one thread, CVXPY + Clarabel time including
#: compilation): ``n·P = 60,000-100,000`` with ``d = 10, 20``: ADMM 2.5-3.8x faster;
#: ``n·P = 30,000``, ``d = 5``: 1.5x slower; complete arrangements with ``d = 2``, ``n = 100``
#: (``n·P = 20,000``): the ADMM hit 20,000 iterations, 10x slower.
ARRANGEMENT_ADMM_FROM_ROWS = 50_000
ARRANGEMENT_ADMM_FROM_D = 5
#: ... and only when the weight decay is not tiny against the data,
#: :math:`\beta/\beta_{\max} \ge` this (:math:`\beta_{\max} = \max_i\|X^\top D_iy\|`,
#: ``copos.relaxations.convex.arrangement_features``): below it the solution is dense and
#: degenerate; the ADMM alone needs 10,000s of iterations for a certified 1e-4 gap, and with
#: its active-set phase (issue 15, session 14) it was faster than Clarabel in the 6 grid cells
#: at 1.2e-4 to 1.3e-4 and in 1 of the 3 at 1.2e-5 (``benchmarks/arrangement_grid.py``; 5e-4
#: before the phase; the fit and its accuracy on the grid are in ``docs/solvers.md``).
ARRANGEMENT_ADMM_FROM_BETA_RATIO = 4e-5


def lifted_dnn_prefers_admm(sizes: Sizes) -> bool:
    """:math:`(n \\ge 25 \\wedge d \\ge 10) \\vee (n \\ge 100 \\wedge d \\ge 4)`."""
    n, d = sizes.n, sizes.d
    return (n >= LIFTED_ADMM_FROM_N and d >= LIFTED_ADMM_FROM_D) or (
        n >= LIFTED_ADMM_FROM_N_LOW_D and d >= LIFTED_ADMM_LOW_D
    )


def arrangement_prefers_admm(sizes: Sizes) -> bool:
    """:math:`nP \\ge 50{,}000 \\wedge d \\ge 5 \\wedge \\beta/\\beta_{\\max} \\ge 5\\cdot10^{-4}`."""
    return (
        sizes.n * sizes.patterns >= ARRANGEMENT_ADMM_FROM_ROWS
        and sizes.d >= ARRANGEMENT_ADMM_FROM_D
        and sizes.beta_ratio >= ARRANGEMENT_ADMM_FROM_BETA_RATIO
    )


#: program -> its "auto" rule.  A program without a rule does not accept "auto".
AUTO_RULES: dict[str, AutoRule] = {
    "lifted-dnn": AutoRule(
        COPOS_ADMM,
        lifted_dnn_prefers_admm,
        f"{COPOS_ADMM} from n = {LIFTED_ADMM_FROM_N} and d = {LIFTED_ADMM_FROM_D} on, and from "
        f"n = {LIFTED_ADMM_FROM_N_LOW_D} with d >= {LIFTED_ADMM_LOW_D}",
    ),
    "arrangement": AutoRule(
        COPOS_ADMM,
        arrangement_prefers_admm,
        f"{COPOS_ADMM} from n*P = {ARRANGEMENT_ADMM_FROM_ROWS:,} and d = "
        f"{ARRANGEMENT_ADMM_FROM_D} on, when beta/beta_max >= "
        f"{ARRANGEMENT_ADMM_FROM_BETA_RATIO:g}",
    ),
}


def check(name: str, program: str = "conic") -> str:
    """``name`` in lower case if it is ``"auto"`` (and ``program`` has a rule) or resolves.

    For a choice made before the sizes are known (e.g. before the patterns are enumerated).
    """
    key = str(name).lower()
    return key if key == AUTO and program in AUTO_RULES else resolve(key, program)


def resolve(
    name: str,
    program: str = "conic",
    sizes: Sizes | None = None,
    *,
    fallback: str = DEFAULT_SOLVER,
) -> str:
    """The registered solver that ``name`` means for ``program`` at ``sizes``.

    ``"auto"`` follows the program's :data:`AUTO_RULES` (its solver, else ``fallback`` resolved
    as a conic solver); any other name (any case) must be registered, serve ``program`` and be
    available.

    Raises
    ------
    UnknownSolverError
        Unknown name, a solver that does not serve ``program``, or one that is not installed.
    InvalidInputError
        ``"auto"`` without ``sizes``, or an unknown program.
    """
    if program not in PROGRAMS:
        raise InvalidInputError(f"unknown program {program!r}; choose one of: {PROGRAMS}")
    key = str(name).lower()
    if key == AUTO and program in AUTO_RULES:
        if sizes is None:
            raise InvalidInputError(f"solver 'auto' for the {program} program needs its sizes")
        rule = AUTO_RULES[program]
        return rule.solver if rule.applies(sizes) else resolve(fallback, "conic")
    entry = _REGISTRY.get(key)
    if entry is None or not entry.serves(program):
        raise UnknownSolverError(f"unknown solver {name!r}; choose one of: {_known(program)}")
    if not entry.available():
        raise UnknownSolverError(f"solver {name!r} is not installed; {entry.install}")
    return key


def _known(program: str | None) -> str:
    return ", ".join(sorted(entry.name for entry in solvers(program)))


def describe(program: str) -> str:
    """The ``"auto"`` rule of ``program`` in words, for help texts (empty if it has none)."""
    rule = AUTO_RULES.get(program)
    return f"auto: {rule.text}" if rule else ""


for _entry in (
    cvxpy_entry(
        "clarabel",
        "interior-point conic solver through CVXPY (the default)",
        fallback=True,
    ),
    cvxpy_entry(
        "scs",
        "first-order conic solver (operator splitting) through CVXPY",
        options={"eps_abs": 1e-7, "eps_rel": 1e-7, "max_iters": 200_000},
        fallback=True,
    ),
    SolverEntry(
        COPOS_ADMM,
        "splitting",
        frozenset({"lifted-dnn", "arrangement", "robust"}),
        "copos's ADMM on the program's operators; reports a certified lower bound",
        runners=MappingProxyType(
            {
                "lifted-dnn": "copos.solvers.admm.dnn:solve_lifted_dnn_admm",
                "arrangement": "copos.solvers.admm.arrangement:solve_arrangement_blocks",
                "robust": "copos.solvers.admm.robust:solve_robust_blocks",
            }
        ),
    ),
):
    register(_entry)
del _entry
