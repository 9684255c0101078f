r"""Tampered certificates: every field changed alone, in pairs, and consistent forgeries.

The data are whitened (:math:`XX^\top = I`) with one-hot labels, so :math:`p^\star(\beta)` is
known in closed form for every :math:`\beta`.  A tampered certificate may pass :func:`verify`
with an "optimal" verdict only when it is still true: the data fingerprint is the data's, eps
lies in :math:`(0, 10^{-2}]`, and the network it holds is within
:math:`\varepsilon\max(1,|F|)` of :math:`p^\star(\beta)` at the :math:`\beta` it states
(recomputed here in numpy).  Everything else counted as "passed and optimal" is a false verdict.
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from copos.certificates.certificate import NOT_CERTIFIED, OPTIMAL, Certificate
from copos.certificates.certify import certify
from copos.certificates.verify import verify
from copos.nets.architectures.dense import TwoLayerReLU
from copos.nets.datasets import whitened
from copos.nets.problem import TrainingProblem
from copos.relaxations.closed_form import soft_threshold_optimum
from tests.adversarial._attack import Refused, call, raw_error
from tests.adversarial._collector import Category, Collector, Finding, describe
from tests.adversarial._truth import MAX_EPS, false_optimal, objective

Document = dict[str, Any]
Mutation = tuple[str, Callable[[Document], None]]

PROBLEM = whitened(n=3, d=3, c=2, seed=0, beta=0.1)
NUMBER_FIELDS = (
    "beta", "sigma", "sigma_lower", "scale", "lower_bound", "objective", "gap", "relative_gap", "eps",
)  # fmt: skip
NUMBER_CHANGES: dict[str, Callable[[Any], Any]] = {
    "*1.001": lambda v: v * 1.001,
    "*0.5": lambda v: v * 0.5,
    "*2": lambda v: v * 2,
    "neg": lambda v: -v,
    "zero": lambda v: 0.0,
    "nan": lambda v: math.nan,
    "inf": lambda v: math.inf,
    "1e308": lambda v: 1e308,
    "string": lambda v: str(v),
    "null": lambda v: None,
    "bool": lambda v: True,
}


@pytest.fixture(scope="module")
def certificates() -> dict[str, Certificate]:
    """A certified, an uncertified and a lifted (certified) certificate on ``PROBLEM``."""
    net = soft_threshold_optimum(PROBLEM).network()
    worse = TwoLayerReLU(net.U * 1.3, net.V * 1.3)
    return {
        "certified": certify(net, PROBLEM, method="exact"),
        "uncertified": certify(worse, PROBLEM, method="exact"),
        "lifted": certify(net, PROBLEM, method="global", lifted="always", lifted_tol=1e-6),
    }


# ------------------------------------------------------------------------------ ground truth


def false_acceptance(document: Document, reference: Certificate) -> tuple[Category, str] | None:
    """What is wrong with accepting the (tampered) document's claim "optimal within eps" on
    ``PROBLEM``: ``("verdict", ...)`` when the network is not within ``min(eps, MAX_EPS)`` of
    p*, ``("contract", ...)`` when it is but eps lies outside ``(0, MAX_EPS]``; else ``None``."""
    try:
        data = document["data"]
        same_data = (
            data["sha256"] == reference.data.sha256
            and list(data["X_shape"]) == list(reference.data.X_shape)
            and list(data["Y_shape"]) == list(reference.data.Y_shape)
        )
        U = np.array(document["network"]["U"], dtype=np.float64)
        V = np.array(document["network"]["V"], dtype=np.float64)
        beta, eps = float(document["beta"]), float(document["eps"])
        net = TwoLayerReLU(U, V)
        problem = TrainingProblem.from_data(PROBLEM.X, PROBLEM.Y, beta)
    except Exception as exc:  # noqa: BLE001 - an unreadable claim is not a true one
        return ("verdict", f"accepted an unreadable claim ({type(exc).__name__}: {exc})")
    if not same_data:
        return ("verdict", "accepted a certificate of other data")
    p_star = soft_threshold_optimum(problem).value
    F = objective(net, problem)
    why = false_optimal(F, p_star, min(eps, MAX_EPS) if eps > 0 else eps)
    if why:
        return ("verdict", f"accepted a false 'optimal': {why} (p* = {p_star:.10g})")
    if not 0.0 < eps <= MAX_EPS:
        return ("contract", f"accepted eps = {eps!r} outside (0, {MAX_EPS}]")
    return None


def accepted_as_optimal(result: Any) -> bool:
    """``verify`` says the certificate holds **and** the (recomputed) verdict is optimal."""
    if not bool(getattr(result, "passed", False)):
        return False
    flag = getattr(result, "optimal", None)
    if isinstance(flag, bool):
        return flag
    verdict = getattr(result, "verdict", None)
    if isinstance(verdict, str):
        return verdict == OPTIMAL
    return bool(result.certificate.optimal)


# ------------------------------------------------------------------------------ mutations


def _setter(path: tuple[str, ...], change: Callable[[Any], Any]) -> Callable[[Document], None]:
    def apply(document: Document) -> None:
        try:
            node = document
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = change(node.get(path[-1]))
        except (KeyError, TypeError, AttributeError, IndexError, ValueError):
            pass  # the field is gone or of another type (an earlier mutation): nothing to change

    return apply


def _remover(key: str) -> Callable[[Document], None]:
    def apply(document: Document) -> None:
        document.pop(key, None)

    return apply


def _flip_hex(text: str) -> str:
    return text[:-1] + ("0" if text[-1] != "0" else "1")


def _scaled(factor: float) -> Callable[[Any], Any]:
    return lambda matrix: (np.array(matrix) * factor).tolist()


def _poisoned(value: float) -> Callable[[Any], Any]:
    def change(matrix: Any) -> Any:
        array = np.array(matrix, dtype=float)
        array.flat[0] = value
        return array.tolist()

    return change


def single_mutations(document: Document) -> Iterator[Mutation]:
    """Every field of ``document`` changed alone, in several ways."""
    for key in NUMBER_FIELDS:
        for name, change in NUMBER_CHANGES.items():
            yield f"{key}{name}", _setter((key,), change)
    yield "bias-flipped", _setter(("bias",), lambda v: not v)
    yield "rigorous-flipped", _setter(("rigorous",), lambda v: not v)
    yield "rigorous-string", _setter(("rigorous",), lambda v: "true")
    other = NOT_CERTIFIED if document["verdict"] == OPTIMAL else OPTIMAL
    yield "verdict-flipped", _setter(("verdict",), lambda v: other)
    for method in ("exact", "relaxation", "global", "magic"):
        yield f"method={method}", _setter(("method",), lambda v, m=method: m)
    yield "reason", _setter(("reason",), lambda v: "trust me")
    yield "copos_version", _setter(("copos_version",), lambda v: "999.0")
    yield "format_version", _setter(("format_version",), lambda v: 2)
    for value in (0, -1, 10**12, "many", 1.5):
        yield f"max_patterns={value!r}", _setter(("options", "max_patterns"), lambda v, x=value: x)
    yield "max_exact_work=0", _setter(("options", "max_exact_work"), lambda v: 0)
    for value in ("scs", "bogus", 5):
        yield f"solver={value!r}", _setter(("options", "solver"), lambda v, x=value: x)
    yield "sha256-flipped", _setter(("data", "sha256"), _flip_hex)
    yield (
        "X_shape-swapped",
        _setter(("data", "X_shape"), lambda v: v[::-1] if v[0] != v[1] else [v[0], v[1] + 1]),
    )
    yield "Y_shape-zero", _setter(("data", "Y_shape"), lambda v: [0, 0])
    for key in ("U", "V"):
        for factor in (1.01, -1.0, 1e160, 1e-160, 0.0):
            yield f"{key}*{factor:g}", _setter(("network", key), _scaled(factor))
        for bad in (math.nan, math.inf):
            yield f"{key}[0]={bad}", _setter(("network", key), _poisoned(bad))
        yield f"{key}-row-dropped", _setter(("network", key), lambda m: m[:-1])
        yield f"{key}-empty", _setter(("network", key), lambda m: [])
    yield "U<->V", _swap_weights
    yield (
        "U/1e160,V*1e160",
        _pair(
            _setter(("network", "U"), _scaled(1e-160)), _setter(("network", "V"), _scaled(1e160))
        ),
    )
    yield "lifted-null", _setter(("lifted",), lambda v: None)
    yield "lifted-fabricated", _fabricate_lifted
    if document.get("lifted") is not None:
        for key in ("value", "gap", "tol"):
            for name in ("*1.001", "*2", "neg", "nan", "inf", "string"):
                yield f"lifted.{key}{name}", _setter(("lifted", key), NUMBER_CHANGES[name])
        for key in ("Z", "N"):
            for factor in (1.01, -1.0, 0.0, 1e160):
                yield f"lifted.{key}*{factor:g}", _setter(("lifted", key), _scaled(factor))
        yield "lifted.status", _setter(("lifted", "status"), lambda v: "optimal")
    for key in list(document):
        yield f"removed-{key}", _remover(key)


def _pair(
    first: Callable[[Document], None], second: Callable[[Document], None]
) -> Callable[[Document], None]:
    def apply(document: Document) -> None:
        first(document)
        second(document)

    return apply


def _swap_weights(document: Document) -> None:
    network = document["network"]
    network["U"], network["V"] = (
        np.array(network["V"]).T.tolist(),
        np.array(network["U"]).T.tolist(),
    )


def _fabricate_lifted(document: Document) -> None:
    """A lifted bound equal to F, with a dual point of the right shapes."""
    n, c = PROBLEM.n, PROBLEM.c
    document["lifted"] = {
        "value": document["objective"],
        "Z": PROBLEM.Y.tolist(),
        "N": np.zeros((2 * n, 2 * n)).tolist(),
        "solver": "copos-admm",
        "status": "optimal",
        "gap": 0.0,
        "tol": 1e-6,
    }
    del c


def forge(document: Document, **primaries: Any) -> Document:
    """An arithmetic-consistent forgery: set ``primaries`` (``beta``, ``sigma``, ``eps``,
    ``scale_U``) and recompute F, t, L, gaps and verdict (the certificate's formulas, here)."""
    forged = copy.deepcopy(document)
    if "scale_U" in primaries:
        forged["network"]["U"] = _scaled(primaries.pop("scale_U"))(forged["network"]["U"])
    forged.update(primaries)
    net = TwoLayerReLU(np.array(forged["network"]["U"]), np.array(forged["network"]["V"]))
    problem = TrainingProblem.from_data(PROBLEM.X, PROBLEM.Y, forged["beta"])
    Z = net.residual(problem)
    F = objective(net, problem)
    sigma = forged["sigma"]
    scale = 1.0 if sigma <= problem.beta else problem.beta / sigma
    L = scale * float(np.vdot(Z, problem.Y)) - 0.5 * scale**2 * float(np.vdot(Z, Z))
    if forged.get("lifted"):
        L = max(L, forged["lifted"]["value"])
    optimal = F - L <= forged["eps"] * max(1.0, abs(F))
    verdict, reason = (OPTIMAL if optimal else NOT_CERTIFIED), "forged"
    forged.update(
        objective=F, scale=scale, lower_bound=L, gap=F - L,
        relative_gap=(F - L) / max(1.0, abs(F)), verdict=verdict, reason=reason, rigorous=True,
    )  # fmt: skip
    return forged


def forgeries(document: Document) -> Iterator[tuple[str, Document]]:
    """Consistent forgeries of ``document`` (every derived number recomputed)."""
    beta, sigma = document["beta"], document["sigma"]
    for eps in (1e9, 1.0, 0.5, 0.02, 1e-2, 1e-3):
        forged = forge(document, eps=eps)
        forged["verdict"] = OPTIMAL
        yield f"forged eps={eps:g} + verdict", forged
    for claimed in (beta, 0.5 * sigma, document["sigma_lower"] * 0.99):
        yield f"forged sigma={claimed:.4g}", forge(document, sigma=claimed)
    for new_beta in (beta * (1 + 1e-9), beta * 2, beta * 0.5, 1e-6, 1e4, 1e308):
        yield f"forged beta={new_beta:g}", forge(document, beta=new_beta)
    for factor in (1.001, 1.3, 1e160):
        yield f"forged U*{factor:g}", forge(document, scale_U=factor)
    optimal = copy.deepcopy(document)
    optimal.update(lower_bound=document["objective"], gap=0.0, relative_gap=0.0, verdict=OPTIMAL)
    yield "forged L=F, gap=0, verdict", optimal


# ------------------------------------------------------------------------------ running


def _attack(
    adversarial: Collector, tmp_path: Path, label: str, document: Document, reference: Certificate
) -> list[Finding]:
    """Write ``document`` (NaN/inf as JSON literals), verify it against ``PROBLEM``, judge."""
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(document, allow_nan=True), encoding="utf-8")
    problems: list[tuple[Category, str]] = []
    try:
        result = call(verify, path, PROBLEM.X, PROBLEM.Y)
        wrong = false_acceptance(document, reference) if accepted_as_optimal(result) else None
        if wrong:
            problems.append(wrong)
    except Refused:
        pass
    except Exception as exc:  # noqa: BLE001 - every raw error is a finding
        problems.append(raw_error(exc))
    return adversarial.attack(f"verify {label}", problems)


@pytest.mark.parametrize("kind", ["certified", "uncertified", "lifted"])
def test_genuine_certificate_verifies(certificates: dict[str, Certificate], kind: str) -> None:
    cert = certificates[kind]
    result = verify(cert, PROBLEM.X, PROBLEM.Y)
    assert cert.optimal == (kind != "uncertified")
    assert accepted_as_optimal(result) == cert.optimal, result.reasons


@pytest.mark.parametrize("kind", ["certified", "uncertified", "lifted"])
def test_every_field_tampered_alone(
    adversarial: Collector, tmp_path: Path, certificates: dict[str, Certificate], kind: str
) -> None:
    reference = certificates[kind]
    original = reference.to_dict()
    found: list[Finding] = []
    for name, mutate in single_mutations(original):
        document = copy.deepcopy(original)
        mutate(document)
        found += _attack(adversarial, tmp_path, f"{kind} {name}", document, reference)
    assert not found, describe(found)


@pytest.mark.parametrize("kind", ["certified", "uncertified", "lifted"])
def test_fields_tampered_in_pairs(
    adversarial: Collector, tmp_path: Path, certificates: dict[str, Certificate], kind: str
) -> None:
    reference = certificates[kind]
    original = reference.to_dict()
    mutations = list(single_mutations(original))
    rng = random.Random(17)
    pairs = [tuple(rng.sample(mutations, 2)) for _ in range(40)]
    # the pairs of issue 17 item 3: verdict together with eps, rigorous, gap or lower bound
    verdict = [m for m in mutations if m[0] == "verdict-flipped"]
    pairs += [
        (verdict[0], m)
        for m in mutations
        if m[0].startswith((*NUMBER_FIELDS, "rigorous", "lifted"))
    ]
    found: list[Finding] = []
    for (first_name, first), (second_name, second) in pairs:
        document = copy.deepcopy(original)
        first(document)
        second(document)
        found += _attack(
            adversarial, tmp_path, f"{kind} {first_name} + {second_name}", document, reference
        )
    assert not found, describe(found)


@pytest.mark.parametrize("kind", ["certified", "uncertified", "lifted"])
def test_consistent_forgeries(
    adversarial: Collector, tmp_path: Path, certificates: dict[str, Certificate], kind: str
) -> None:
    reference = certificates[kind]
    found: list[Finding] = []
    for name, document in forgeries(reference.to_dict()):
        found += _attack(adversarial, tmp_path, f"{kind} {name}", document, reference)
    assert not found, describe(found)


def test_verify_refuses_non_certificates(
    adversarial: Collector, certificates: dict[str, Certificate]
) -> None:
    cert = certificates["certified"]
    attempts: list[tuple[str, tuple[Any, ...]]] = [
        ("certificate=None", (None, PROBLEM.X, PROBLEM.Y)),
        ("certificate=dict", (cert.to_dict(), PROBLEM.X, PROBLEM.Y)),
        ("certificate=42", (42, PROBLEM.X, PROBLEM.Y)),
        ("X=None", (cert, None, PROBLEM.Y)),
        ("Y=None", (cert, PROBLEM.X, None)),
        ("X complex", (cert, PROBLEM.X + 1j, PROBLEM.Y)),
        ("X strings", (cert, [["a"] * 3] * 3, PROBLEM.Y)),
        ("X empty", (cert, np.zeros((0, 3)), np.zeros((0, 2)))),
        ("X 3-D", (cert, PROBLEM.X[None], PROBLEM.Y)),
        ("X other data", (cert, PROBLEM.X[::-1], PROBLEM.Y)),
    ]
    found: list[Finding] = []
    for name, args in attempts:
        problems: list[tuple[Category, str]] = []
        try:
            result = call(verify, *args)
            if accepted_as_optimal(result) and name != "certificate=dict":
                problems.append(("contract", "verify accepted data that are not the certificate's"))
        except Refused:
            pass
        except Exception as exc:  # noqa: BLE001
            problems.append(raw_error(exc))
        found += adversarial.attack(f"verify {name}", problems)
    assert not found, describe(found)


def test_pinned_eps_and_beta(adversarial: Collector, certificates: dict[str, Certificate]) -> None:
    """Issue 17 item 3: ``verify`` lets the user pin eps and beta; the verdict must then be true
    at the pinned values, and meaningless pins are refused."""
    if not {"eps", "beta"} <= set(inspect.signature(verify).parameters):
        found = adversarial.attack(
            "verify eps=/beta= pins", [("contract", "verify cannot pin eps/beta")]
        )
        assert not found, describe(found)
    found = []
    pins: list[dict[str, float]] = [
        {"eps": e} for e in (1e-6, 1e-3, 1e-2, 0.5, 1e9, 0.0, -1.0, math.nan)
    ]
    pins += [{"beta": b} for b in (0.2, 0.05, 1e308, -1.0, math.nan)]
    for kind, cert in certificates.items():
        for pin in pins:
            document = {**cert.to_dict(), **pin}
            problems: list[tuple[Category, str]] = []
            try:
                result = call(verify, cert, PROBLEM.X, PROBLEM.Y, **pin)
                wrong = false_acceptance(document, cert) if accepted_as_optimal(result) else None
                if wrong:
                    problems.append(wrong)
            except Refused:
                pass
            except Exception as exc:  # noqa: BLE001
                problems.append(raw_error(exc))
            found += adversarial.attack(f"verify {kind} pinned {pin}", problems)
    assert not found, describe(found)
