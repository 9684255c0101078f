r"""The certificate of a trained net: data model, JSON and the fingerprint of the data.

A :class:`Certificate` stores what :func:`~copos.certificates.certify.certify` computed, so that
:func:`~copos.certificates.verify.verify` can recompute every number from the net and the data:

.. math:: L = -\tfrac12\|sZ - Y\|_F^2 + \tfrac12\|Y\|_F^2 \;\le\; p^\star \;\le\; F(U, V),
    \qquad s = \min(1, \beta/\sigma(Z)) .
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, cast

import numpy as np
from numpy.typing import NDArray

from copos._deprecation import deprecated_alias
from copos._io import atomic_write
from copos.bound import Bound
from copos.certificates.dual_norm import DualNormResult, ResolvedMethod
from copos.errors import DataFileError, InvalidInputError
from copos.nets.architectures.conv import Convolution, ConvReLU
from copos.nets.architectures.dense import TwoLayerReLU

FloatArray = NDArray[np.float64]


Verdict = Literal["globally optimal within eps", "not certified"]


OPTIMAL: Verdict = "globally optimal within eps"


NOT_CERTIFIED: Verdict = "not certified"


CERTIFICATE_FORMAT = "copos.certificates.certify"


CERTIFICATE_VERSION = 1

#: A witness of non-optimality needs :math:`\sigma_{\rm lower} > \beta(1 + \text{WITNESS\_RTOL})`:
#: at a global optimum :math:`\sigma_{\rm lower}` computes to :math:`\beta` plus rounding (a few
#: 1e-16).
WITNESS_RTOL = 1e-9


@dataclass(frozen=True)
class DataFingerprint:
    """SHA-256 of the data actually used (``problem.X`` and ``problem.Y`` as float64).

    The hash covers, in order, ``b"X"``, the shape of ``X`` as text, the little-endian float64
    bytes of ``X`` (C order), then the same for ``Y``.
    """

    sha256: str
    X_shape: tuple[int, int]
    Y_shape: tuple[int, int]

    @classmethod
    def of(cls, X: FloatArray, Y: FloatArray) -> DataFingerprint:
        """Fingerprint of ``X`` (n×d) and ``Y`` (n×c)."""
        digest = hashlib.sha256()
        for name, array in (("X", X), ("Y", Y)):
            data = np.ascontiguousarray(array, dtype="<f8")
            digest.update(f"{name}{tuple(data.shape)}".encode())
            digest.update(data.tobytes())
        return cls(
            sha256=digest.hexdigest(),
            X_shape=(int(X.shape[0]), int(X.shape[1])),
            Y_shape=(int(Y.shape[0]), int(Y.shape[1])),
        )


def lifted_dual_bound(
    value: float, Z: FloatArray, N: FloatArray, solver: str, status: str, gap: float, tol: float
) -> Bound:
    r"""The certified lower bound of the lifted DNN relaxation as a :class:`~copos.bound.Bound`.

    ``value`` is :func:`copos.solvers.admm.dnn.certified_lower_bound` of ``(Z, N)``: a lower
    bound on the DNN relaxation, hence on :math:`p^\star` over networks of every width,
    recomputed in numpy from ``(Z, N)`` alone (so :func:`verify` can re-check it), hence
    ``certified``.  ``solver``, ``status``, ``gap`` and ``tol`` describe the solve that produced
    the dual point; ``Z``, ``N``, ``gap`` and ``tol`` are the bound's ``certificate`` payload.
    """
    return Bound(
        value=value,
        claimed_kind="lower",
        cone="DNN(R^2n_+ x R^(d+c))",
        level=0,
        view="cop",
        certificate={"Z": Z, "N": N, "gap": gap, "tol": tol},
        certified=True,
        solver=solver,
        status_text=status,
        note="lifted DNN relaxation, bound recomputed from the dual point (Z, N)",
    )


#: Deprecated: the lifted bound is a :class:`~copos.bound.Bound` built by
#: :func:`lifted_dual_bound` (same arguments).  Removed in the next release.
LiftedBound = deprecated_alias(lifted_dual_bound, "LiftedBound", __name__)


def lifted_finite(bound: Bound) -> bool:
    """Whether the lifted bound's value and its dual point ``(Z, N)`` are finite (a diverged solve is not)."""
    point = bound.certificate
    return bound.finite and bool(
        np.all(np.isfinite(point["Z"])) and np.all(np.isfinite(point["N"]))
    )


def _lifted_to_dict(bound: Bound) -> dict[str, Any]:
    """The certificate JSON of a lifted bound: value, Z, N, solver, status, gap, tol."""
    point = bound.certificate
    return {
        "value": json_number(bound.value),
        "Z": _json_matrix(point["Z"]),
        "N": _json_matrix(point["N"]),
        "solver": bound.solver,
        "status": bound.status,
        "gap": json_number(point["gap"]),
        "tol": json_number(point["tol"]),
    }


@dataclass(frozen=True, eq=False)
class Certificate:
    r"""A (possibly failed) global-optimality certificate for one network on one data set.

    Attributes
    ----------
    copos_version:
        Version of copos that wrote it.
    data:
        Fingerprint of ``problem.X`` (with its bias column, if any) and ``problem.Y``.
    beta, bias:
        Weight decay and whether ``X`` carries an appended ones column.
    U, V:
        The network's weights, shapes ``(d, m)`` and ``(m, c)``.
    sigma:
        Upper bound on :math:`\sigma(Z)`, :math:`Z = Y - f(X)`.
    sigma_lower:
        Lower bound on :math:`\sigma(Z)` (value at the best ``u`` seen).
    method:
        Method of :func:`dual_norm` that produced ``sigma`` (``exact``, ``relaxation``, ``global``).
    options:
        ``max_patterns``, ``max_exact_work`` and ``solver`` passed to :func:`dual_norm`.
    rigorous:
        Whether ``sigma`` is a proven upper bound.
    scale:
        :math:`t = \min(1, \beta/\sigma)` (1 when :math:`\sigma = 0`).
    lower_bound:
        :math:`L = t\langle Z, Y\rangle - \tfrac12t^2\|Z\|_F^2 = -\tfrac12\|tZ - Y\|_F^2 +
        \tfrac12\|Y\|_F^2 \le p^\star`.
    objective:
        :math:`F`, the network's weight-decay objective (an upper bound on :math:`p^\star`).
    gap, relative_gap:
        :math:`F - L` and :math:`(F - L)/\max(1, |F|)`.
    eps:
        Tolerance of the verdict.
    verdict:
        ``"globally optimal within eps"`` iff ``L`` is proven (``rigorous``, or a ``lifted``
        bound) and :math:`F - L \le \varepsilon\max(1, |F|)`; else ``"not certified"``.
    reason:
        Why, in words.
    lifted:
        The lifted DNN relaxation's certified lower bound (:func:`lifted_dual_bound`) when it was
        computed; then ``lower_bound`` is the larger of the two proven bounds.
    original_objective:
        With ``certify(..., polish=True)``: the objective :math:`F_{\rm original}` of the net
        handed in (``U``, ``V`` and ``objective`` are the polished net's, :math:`F \le
        F_{\rm original}`); ``None`` otherwise.  ``original_gap`` :math:`= F_{\rm original} -
        L` is what the net handed in is proven to be within of :math:`p^\star`.
    polish:
        With ``polish=True``: the polish report (accepted, reason, original_width, width,
        pruned, merged, iterations, rounds, gradient_norm, time); ``None`` otherwise.
    original_U, original_V:
        With ``polish=True``: the weights of the net handed in, so that :func:`verify` can
        recompute ``original_objective``; ``None`` otherwise.
    b, output_bias:
        The net's output bias (``None``: none) and whether the problem has an unregularized
        output bias (then :math:`Z` is the centered residual, :math:`Z^\top\mathbf 1 = 0`).
    dual_norm:
        The :class:`~copos.certificates.dual_norm.DualNormResult` of the residual as
        :func:`~copos.certificates.certify.certify` computed it (its ``lower`` and
        ``maximizer`` are the witness of :func:`~copos.certificates.improve.improve`); not
        saved, ``None`` in a loaded certificate.
    architecture:
        For a convolutional net (:class:`~copos.nets.architectures.conv.ConvReLU`): its
        :class:`~copos.nets.architectures.conv.Convolution` (``U`` ``(h, m)`` holds the filters,
        ``sigma`` is bounded over the patterns of the patch matrix, method
        ``"patch-patterns"``); ``None`` for a dense net (and then absent from the JSON).
    witness_margin:
        A bound on the rounding error of ``sigma_lower``
        (:func:`~copos.certificates.certify.witness_margin`; ``inf``, no witness claimed, in
        certificates written before it).
    """

    copos_version: str
    data: DataFingerprint
    beta: float
    bias: bool
    U: FloatArray = field(repr=False)
    V: FloatArray = field(repr=False)
    sigma: float
    sigma_lower: float
    method: ResolvedMethod
    options: dict[str, Any]
    rigorous: bool
    scale: float
    lower_bound: float
    objective: float
    gap: float
    relative_gap: float
    eps: float
    verdict: Verdict
    reason: str
    lifted: Bound | None = None
    original_objective: float | None = None
    polish: dict[str, Any] | None = None
    original_U: FloatArray | None = field(default=None, repr=False)
    original_V: FloatArray | None = field(default=None, repr=False)

    @property
    def original_gap(self) -> float:
        r""":math:`F_{\rm original} - L` (the net handed in, before any polish; ``gap`` when the
        net was not polished)."""
        original = self.objective if self.original_objective is None else self.original_objective
        return original - self.lower_bound

    @property
    def original_relative_gap(self) -> float:
        r""":math:`(F_{\rm original} - L)/\max(1, |F_{\rm original}|)`."""
        original = self.objective if self.original_objective is None else self.original_objective
        return self.original_gap / max(1.0, abs(original))

    b: FloatArray | None = field(default=None, repr=False)
    output_bias: bool = False
    dual_norm: DualNormResult | None = field(default=None, repr=False, compare=False)
    architecture: Convolution | None = None
    witness_margin: float = math.inf

    @property
    def optimal(self) -> bool:
        """Whether the verdict is ``"globally optimal within eps"``."""
        return self.verdict == OPTIMAL

    @property
    def proven(self) -> bool:
        """``lower_bound`` is proven: ``sigma`` is a rigorous bound, or a lifted bound backs it."""
        return self.rigorous or self.lifted is not None

    @property
    def witness(self) -> bool:
        r"""Whether the net is proven **not** optimal: :math:`\sigma_{\rm lower} - \beta >
        \max(\beta\,` :data:`WITNESS_RTOL` :math:`, \delta)` with :math:`\delta` =
        ``witness_margin`` the rounding error of :math:`\sigma_{\rm lower}`, so a unit :math:`u`
        with :math:`\|Z^\top(Xu)_+\| > \beta` is known and a neuron along it lowers the
        objective (:func:`~copos.nets.polish.insert_neuron`;
        :func:`~copos.certificates.improve.improve`)."""
        excess = self.sigma_lower - self.beta
        return math.isfinite(excess) and excess > max(self.beta * WITNESS_RTOL, self.witness_margin)

    @property
    def bound(self) -> Bound:
        """``lower_bound`` as a :class:`~copos.bound.Bound` on p*: rigorous when :attr:`proven`,
        else unverified (a lower bound computed from a non-rigorous ``sigma``).  The status says
        when the net is proven not optimal (:attr:`witness`)."""
        status = self.verdict
        if self.witness and not self.optimal:
            status += f"; witness: the net is not optimal (sigma_lower = {self.sigma_lower / self.beta:.6g} beta)"
        return Bound(
            value=self.lower_bound,
            claimed_kind="lower",
            view="certificate",
            checked=None if self.proven else "unverified",
            certificate={
                "sigma": self.sigma,
                "sigma_lower": self.sigma_lower,
                "scale": self.scale,
                "objective": self.objective,
            },
            status_text=status,
            note=f"sigma in [{self.sigma_lower:.6g}, {self.sigma:.6g}] by {self.method}; {self.reason}",
        )

    def network(self) -> TwoLayerReLU | ConvReLU:
        """The certified network (a :class:`ConvReLU` when the certificate has an ``architecture``)."""
        if self.architecture is not None:
            return ConvReLU(self.architecture, self.U, self.V, self.b)
        return TwoLayerReLU(self.U, self.V, self.b)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (floats written exactly by :mod:`json`; a non-finite number,
        which never certifies anything, is written as ``null``)."""
        return {
            "format": CERTIFICATE_FORMAT,
            "format_version": CERTIFICATE_VERSION,
            "copos_version": self.copos_version,
            "data": {
                "sha256": self.data.sha256,
                "X_shape": list(self.data.X_shape),
                "Y_shape": list(self.data.Y_shape),
            },
            "beta": json_number(self.beta),
            "bias": self.bias,
            "output_bias": self.output_bias,
            "network": _network_to_dict(self.U, self.V, self.b),
            "sigma": json_number(self.sigma),
            "sigma_lower": json_number(self.sigma_lower),
            "witness_margin": json_number(self.witness_margin),
            "method": self.method,
            "options": dict(self.options),
            "rigorous": self.rigorous,
            "scale": json_number(self.scale),
            "lower_bound": json_number(self.lower_bound),
            "objective": json_number(self.objective),
            "gap": json_number(self.gap),
            "relative_gap": json_number(self.relative_gap),
            "eps": json_number(self.eps),
            "verdict": self.verdict,
            "reason": self.reason,
            "lifted": None if self.lifted is None else _lifted_to_dict(self.lifted),
            "original_objective": (
                None if self.original_objective is None else json_number(self.original_objective)
            ),
            "polish": None if self.polish is None else dict(self.polish),
            "original_network": _original_network(self.original_U, self.original_V),
            **({} if self.architecture is None else {"architecture": self.architecture.to_dict()}),
        }

    def to_json(self) -> str:
        """The certificate as a JSON document (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_json` to ``path`` atomically (temporary file + :func:`os.replace`)."""
        target = Path(path)
        payload = self.to_json().encode("utf-8")

        def write(handle: IO[bytes]) -> None:
            handle.write(payload)

        atomic_write(target, write)
        return target

    @classmethod
    def from_dict(cls, data: Any) -> Certificate:
        """Rebuild a certificate from :meth:`to_dict` output.

        Raises
        ------
        DataFileError
            Not a copos certificate, or a field is missing or has the wrong type.
        """
        return _certificate_from_dict(data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Certificate:
        """Read a certificate written by :meth:`save`.

        Raises
        ------
        DataFileError
            Missing or unreadable file, invalid JSON, or not a copos certificate.
        """
        target = Path(path)
        if not target.is_file():
            raise DataFileError(
                f"certificate file {str(target)!r} does not exist (or is not a file)"
            )
        try:
            text = target.read_text(encoding="utf-8")
            data = json.loads(text)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataFileError(f"cannot read certificate {str(target)!r} as JSON: {exc}") from exc
        try:
            return _certificate_from_dict(data)
        except DataFileError as exc:
            raise DataFileError(f"{str(target)!r}: {exc}") from exc


def json_number(value: float) -> float | None:
    """``value`` for JSON: a finite float, or ``None`` (``null``) for NaN and infinities."""
    number = float(value)
    return number if math.isfinite(number) else None


def _network_to_dict(U: FloatArray, V: FloatArray, b: FloatArray | None) -> dict[str, Any]:
    """The certificate JSON of the weights: ``U``, ``V`` and ``b`` when the net has one."""
    network = {"U": _json_matrix(U), "V": _json_matrix(V)}
    return network if b is None else {**network, "b": [json_number(v) for v in b]}


def _output_bias_of(network: dict[str, Any], V: FloatArray) -> FloatArray | None:
    """The stored output bias (absent in older certificates: none), of shape ``(c,)``."""
    if network.get("b") is None:
        return None
    b = _matrix([network["b"]], "b")[0]
    if b.shape != (V.shape[1],):
        raise DataFileError(
            f"certificate output bias b has shape {b.shape}; expected ({V.shape[1]},)"
        )
    return b


def _json_matrix(array: FloatArray) -> list[Any]:
    """A matrix for JSON, non-finite entries as ``None``."""
    return [[json_number(v) for v in row] for row in np.asarray(array, dtype=np.float64)]


def _field(data: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise DataFileError(f"not a valid copos certificate: missing field {key!r}")
    value = data[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise DataFileError(f"certificate field {key!r} has the wrong type: {type(value).__name__}")
    return value


def _number(data: dict[str, Any], key: str) -> float:
    value = float(_field(data, key, (int, float)))
    if not math.isfinite(value):
        raise DataFileError(f"certificate field {key!r} is not finite: {value!r}")
    return value


def _positive(data: dict[str, Any], key: str) -> float:
    value = _number(data, key)
    if value <= 0.0:
        raise DataFileError(f"certificate field {key!r} must be positive; got {value!r}")
    return value


def _derived(data: dict[str, Any], key: str) -> float:
    """A derived number of the certificate: finite, or ``null`` (read as NaN: it was not finite,
    and :func:`decide` never certifies with it)."""
    if key in data and data[key] is None:
        return math.nan
    return _number(data, key)


def _matrix(value: Any, name: str) -> FloatArray:
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataFileError(f"certificate weights {name} are not a numeric matrix") from exc
    if array.ndim != 2:
        raise DataFileError(f"certificate weights {name} must be a matrix; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise DataFileError(f"certificate weights {name} contain NaN or inf")
    return array


def _shape(value: Any, name: str) -> tuple[int, int]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
    ):
        raise DataFileError(f"certificate field data.{name} must be two nonnegative integers")
    return (int(value[0]), int(value[1]))


def _certificate_from_dict(data: Any) -> Certificate:
    if not isinstance(data, dict) or data.get("format") != CERTIFICATE_FORMAT:
        raise DataFileError(f"not a copos certificate (expected format {CERTIFICATE_FORMAT!r})")
    if data.get("format_version") != CERTIFICATE_VERSION:
        raise DataFileError(
            f"unsupported certificate format_version {data.get('format_version')!r}; "
            f"this copos reads version {CERTIFICATE_VERSION}"
        )
    fingerprint = _field(data, "data", dict)
    network = _field(data, "network", dict)
    method = _field(data, "method", str)
    if method not in (
        "exact",
        "streamed",
        "branch-and-bound",
        "relaxation",
        "global",
        "patch-patterns",
    ):
        raise DataFileError(f"certificate field 'method' is unknown: {method!r}")
    verdict = _field(data, "verdict", str)
    if verdict not in (OPTIMAL, NOT_CERTIFIED):
        raise DataFileError(f"certificate field 'verdict' is unknown: {verdict!r}")
    U = _matrix(network.get("U"), "U")
    V = _matrix(network.get("V"), "V")
    architecture = _architecture_from_dict(data.get("architecture"), U, V)
    if architecture is None and U.shape[1] != V.shape[0]:
        raise DataFileError(f"certificate weights do not chain: U {U.shape}, V {V.shape}")
    return Certificate(
        copos_version=_field(data, "copos_version", str),
        data=DataFingerprint(
            sha256=_field(fingerprint, "sha256", str),
            X_shape=_shape(fingerprint.get("X_shape"), "X_shape"),
            Y_shape=_shape(fingerprint.get("Y_shape"), "Y_shape"),
        ),
        beta=_positive(data, "beta"),
        bias=_field(data, "bias", bool),
        U=U,
        V=V,
        sigma=_derived(data, "sigma"),
        sigma_lower=_derived(data, "sigma_lower"),
        method=cast(ResolvedMethod, method),
        options=_field(data, "options", dict),
        rigorous=_field(data, "rigorous", bool),
        scale=_derived(data, "scale"),
        lower_bound=_derived(data, "lower_bound"),
        objective=_derived(data, "objective"),
        gap=_derived(data, "gap"),
        relative_gap=_derived(data, "relative_gap"),
        eps=_number(data, "eps"),
        verdict=cast(Verdict, verdict),
        reason=_field(data, "reason", str),
        lifted=_lifted_from_dict(data.get("lifted")),
        original_objective=_optional_number(data, "original_objective"),
        polish=_optional_dict(data, "polish"),
        **_original_from_dict(data.get("original_network")),
        b=_output_bias_of(network, V),
        output_bias=_field(data, "output_bias", bool) if "output_bias" in data else False,
        architecture=architecture,
        witness_margin=_margin(data),
    )


def _margin(data: dict[str, Any]) -> float:
    """``witness_margin``: absent or ``null`` (not finite, or an older certificate) is ``inf``."""
    value = _optional_number(data, "witness_margin")
    return math.inf if value is None else value


def _architecture_from_dict(data: Any, U: FloatArray, V: FloatArray) -> Convolution | None:
    """The optional ``architecture`` of a CNN certificate, checked against the weights."""
    if data is None:
        return None
    try:
        architecture = Convolution.from_dict(data)
        architecture.check_weights(U, V)
    except InvalidInputError as exc:
        raise DataFileError(f"certificate field 'architecture': {exc}") from exc
    return architecture


def _original_network(U: FloatArray | None, V: FloatArray | None) -> dict[str, Any] | None:
    if U is None or V is None:
        return None
    return {"U": _json_matrix(U), "V": _json_matrix(V)}


def _original_from_dict(data: Any) -> dict[str, FloatArray | None]:
    """``original_U`` and ``original_V`` from the optional ``original_network`` object."""
    if data is None:
        return {"original_U": None, "original_V": None}
    if not isinstance(data, dict):
        raise DataFileError("certificate field 'original_network' must be an object or null")
    U = _matrix(data.get("U"), "original_network.U")
    V = _matrix(data.get("V"), "original_network.V")
    if U.shape[1] != V.shape[0]:
        raise DataFileError(f"original weights do not chain: U {U.shape}, V {V.shape}")
    return {"original_U": U, "original_V": V}


def _optional_number(data: dict[str, Any], key: str) -> float | None:
    """An optional number (absent or ``null``: ``None``; certificates before issue 11 lack it)."""
    if data.get(key) is None:
        return None
    return _number(data, key)


def _optional_dict(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    """An optional object (absent or ``null``: ``None``)."""
    if data.get(key) is None:
        return None
    return dict(_field(data, key, dict))


def _lifted_from_dict(data: Any) -> Bound | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise DataFileError("certificate field 'lifted' must be an object or null")
    return lifted_dual_bound(
        value=_number(data, "value"),
        Z=_matrix(data.get("Z"), "lifted.Z"),
        N=_matrix(data.get("N"), "lifted.N"),
        solver=_field(data, "solver", str),
        status=_field(data, "status", str),
        gap=_derived(data, "gap"),
        tol=_number(data, "tol"),
    )
