r"""Memory estimates and the size guard (private): refuse a model before building it.

Every estimate is an honest order of magnitude of the bytes the model needs (interpreter and
imported libraries excluded), calibrated against measured peaks on small cases. The guard
compares it with a limit:

.. math::

    \text{refuse} \iff \widehat{\text{bytes}}(\text{model}) > \text{limit},\qquad
    \text{limit} = \min\big(\tfrac12\,\text{physical memory},\ \texttt{RLIMIT\_AS}\big)
    \ \text{by default}.

The limit can be changed for a block of code with :func:`memory_limit` (the command line's
``--max-memory``). A refused model raises :class:`~copos.errors.TooLargeError` quoting the
estimate and the limit.

Calibration (Clarabel 0.11, one thread, peak RSS minus the 130 MB of a bare interpreter with
copos imported): a PSD block of side ``s`` becomes a dense Hessian block of side
``t = s(s+1)/2`` in the interior-point KKT system; the measured cost is 53 to 92 bytes per entry
of :math:`\sum_b t_b^2` (``K^0`` of side 40 and 60, ``K^4 ... K^7`` of side 5), hence
``PSD_ENTRY_BYTES = 96``. Sparse constraint data costs 64 to 68 bytes per nonzero (the simplex
grid cone at ``m = 20, 40``), hence ``SPARSE_ENTRY_BYTES = 72``.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import re
from collections.abc import Iterator

from copos.errors import InvalidInputError, TooLargeError

#: Bytes per entry of the dense KKT blocks of PSD cones (see the module docstring).
PSD_ENTRY_BYTES = 96
#: Bytes per nonzero of sparse constraint data (built in Python, then copied by the solver).
SPARSE_ENTRY_BYTES = 72
#: Bytes of one float64.
FLOAT_BYTES = 8
#: Fraction of physical memory allowed by default.
DEFAULT_FRACTION = 0.5
#: Default when the machine's memory cannot be read.
FALLBACK_LIMIT = 4 * 1024**3

_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)

_limit: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "copos_memory_limit", default=None
)


# ---------------------------------------------------------------------------- the limit
def physical_memory() -> int | None:
    """Physical memory of the machine in bytes (``os.sysconf``), or ``None`` if unknown."""
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        page_size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None
    if pages <= 0 or page_size <= 0:
        return None
    return int(pages) * int(page_size)


def _address_space_limit() -> int | None:
    """The soft ``RLIMIT_AS`` of this process in bytes, or ``None`` if unlimited or unknown."""
    try:
        import resource
    except ImportError:  # not on every platform
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY or soft <= 0 else int(soft)


def default_limit() -> int:
    """``min(DEFAULT_FRACTION * physical memory, RLIMIT_AS)``; 4 GiB if the machine won't say."""
    physical = physical_memory()
    limit = FALLBACK_LIMIT if physical is None else int(DEFAULT_FRACTION * physical)
    cap = _address_space_limit()
    return limit if cap is None else min(limit, cap)


def current_limit() -> int:
    """The limit in force: the innermost :func:`memory_limit`, else :func:`default_limit`."""
    limit = _limit.get()
    return default_limit() if limit is None else limit


@contextlib.contextmanager
def memory_limit(nbytes: int | None) -> Iterator[int]:
    """Use ``nbytes`` as the limit inside the block (``None`` keeps the current one).

    The limit is a context variable: threads and asyncio tasks each see their own.
    """
    if nbytes is not None and (
        isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes <= 0
    ):
        raise InvalidInputError(
            f"a memory limit must be a positive number of bytes; got {nbytes!r}"
        )
    token = _limit.set(_limit.get() if nbytes is None else nbytes)
    try:
        yield current_limit()
    finally:
        _limit.reset(token)


def parse_size(text: str) -> int:
    """Bytes of a size such as ``"4G"``, ``"500M"``, ``"1.5GiB"`` or ``"1048576"`` (1K = 1024)."""
    match = _SIZE.match(str(text))
    if match is None:
        raise InvalidInputError(
            f"cannot read the memory size {text!r}; give a number with an optional unit K, M, G "
            "or T (binary: 1G = 1024^3 bytes), e.g. 4G or 500M"
        )
    value = float(match.group(1)) * _UNITS[match.group(2).upper()]
    if not math.isfinite(value) or value < 1:
        raise InvalidInputError(f"a memory size must be finite and at least 1 byte; got {text!r}")
    return int(value)


def format_size(nbytes: float) -> str:
    """``nbytes`` with a binary unit and three significant digits, e.g. ``"36.7 GiB"``."""
    if nbytes >= 1024**6 * 1000:  # beyond PiB (and perhaps beyond a float): a power of ten
        return f"10^{len(str(int(nbytes))) - 1} B"
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{value:.3g} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def check_memory(estimate: float, what: str, hint: str = "") -> None:
    """Raise :class:`TooLargeError` if ``estimate`` bytes exceed :func:`current_limit`."""
    limit = current_limit()
    if estimate > limit:
        raise TooLargeError(
            f"{what} would need about {format_size(estimate)} of memory, more than the limit "
            f"{format_size(limit)}; refused before building it"
            + (f". {hint}" if hint else "")
            + " (raise the limit with --max-memory or copos._memory.memory_limit if the machine "
            "really has the memory)"
        )


# ---------------------------------------------------------------------------- estimates
def count_monomials(variables: int, degree: int) -> int:
    """Number of monomials of ``degree`` in ``variables`` variables: :math:`\\binom{N+g-1}{g}`."""
    if degree < 0:
        return 0
    if variables == 0:
        return 1 if degree == 0 else 0
    return math.comb(variables + degree - 1, degree)


def psd_bytes(sizes: dict[int, int]) -> int:
    """Interior-point memory of PSD blocks ``{side: count}``: :math:`96\\sum_b (s_b(s_b+1)/2)^2`."""
    return PSD_ENTRY_BYTES * sum(count * (s * (s + 1) // 2) ** 2 for s, count in sizes.items())


def sparse_bytes(nonzeros: int) -> int:
    """Memory of sparse constraint data with ``nonzeros`` entries: :math:`72\\,\\mathrm{nnz}`."""
    return SPARSE_ENTRY_BYTES * nonzeros


def parrilo_blocks(variables: int, level: int) -> dict[int, int]:
    r"""Gram block sides of :math:`\mathcal K^r` on :math:`\mathbb R^N_+` (``{side: count}``).

    The half-degree monomials :math:`x^\alpha`, :math:`|\alpha| = r + 2`, with parity class
    ``p`` (``|p| = j`` odd entries) are :math:`\alpha = p + 2\beta` with
    :math:`|\beta| = (r + 2 - j)/2`; there are :math:`\binom{N}{j}` classes of that size.
    Classes of one monomial are scalars, not PSD blocks (see ``copos.cones._polynomial``).
    """
    half = level + 2
    blocks: dict[int, int] = {}
    for odd in range(min(variables, half) + 1):
        if (half - odd) % 2:
            continue
        side = count_monomials(variables, (half - odd) // 2)
        if side >= 2:
            blocks[side] = blocks.get(side, 0) + math.comb(variables, odd)
    return blocks


def cone_bytes(family: str, n: int, level: int, k: int | None = None) -> int:
    r"""Estimated memory of a program over the cone ``family`` at ``level`` on ``n x n`` matrices.

    :math:`\text{bytes} \approx 96\sum_b (s_b(s_b+1)/2)^2 + 72\,\mathrm{nnz}` with the PSD
    blocks ``s_b`` and the constant nonzeros ``nnz`` (coefficient map, Gram maps, atoms) of the
    family. Families as in ``copos.cones.registry`` (and ``"parrilo-full"``, Parrilo's cone with one
    dense Gram matrix); ``N = 2n - k`` is the side of the orthant version.
    """
    sign = n if k is None else k
    side = 2 * n - sign
    key = family.lower()
    if key in ("grid", "grid-cp"):
        atoms = count_monomials(side, level)
        return sparse_bytes(atoms * (n * n + side))
    coefficients = count_monomials(side, level) * side * side + count_monomials(side, level + 2)
    if key in ("dkp", "dkp-dual"):
        return sparse_bytes(coefficients)
    if key in ("parrilo", "parrilo-dual", "parrilo-full"):
        if level == 0:
            return psd_bytes({n: 1}) + sparse_bytes(3 * n * n)
        if key == "parrilo-full":  # one dense Gram matrix over all half-degree monomials
            half = count_monomials(side, level + 2)
            return psd_bytes({half: 1}) + sparse_bytes(coefficients + half * half)
        blocks = parrilo_blocks(side, level)
        block_entries = sum(count * s * s for s, count in blocks.items())
        return psd_bytes(blocks) + sparse_bytes(coefficients + block_entries)
    return psd_bytes({n: 1}) + sparse_bytes(3 * n * n)


def grid_points_bytes(variables: int, m: int) -> int:
    """Memory of enumerating :math:`\\Delta(N, m)`: three float64/int64 copies of the points."""
    return 3 * FLOAT_BYTES * count_monomials(variables, m) * variables


def training_bytes(n: int, d: int, c: int, width: int, epochs: int = 0) -> int:
    r"""Memory of full-batch training of a width-``m`` net: :math:`8\,(5nm + 10(d+c)m + K)`.

    Five ``n x m`` activations (``XU``, its ReLU, the mask, ``RV^T`` and its masked product) and
    ten weight-sized vectors (weights, gradient, best iterate, optimizer state, temporaries),
    plus the objective history of ``K`` epochs.
    """
    return FLOAT_BYTES * (5 * n * width + 10 * (d + c) * width + epochs + 1)


def lifted_dnn_bytes(n: int, d: int, c: int, form: str = "reduced") -> int:
    r"""Interior-point memory of the lifted DNN relaxation: one PSD block of side ``q`` or ``p``.

    ``q = n + d + c`` (reduced form) or ``p = 2n + d + c`` (full form), plus the
    :math:`(2n)^2` sign constraints: :math:`96\,(s(s+1)/2)^2 + 72\cdot 4n^2`. Measured
    (Clarabel, planted data, d = 4, c = 2): reduced n = 30, 40 use 37 and 86 MB against
    estimates of 41 and 107 MiB; full n = 20, 30 use 83 and 290 MB against 107 and 448 MiB.
    """
    side = n + d + c if form == "reduced" else 2 * n + d + c
    return psd_bytes({side: 1}) + sparse_bytes(4 * n * n)
