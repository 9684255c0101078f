r"""PyTorch's usual training objective in copos's units: ``MSELoss``, ``weight_decay`` and β.

A PyTorch user trains ``Sequential(Linear(d, m), ReLU(), Linear(m, c))`` on

.. math::

    L_{\text{torch}} = \operatorname{MSE}(f(X), Y) + \tfrac\lambda2\|w\|_2^2,
    \qquad
    \operatorname{MSE} = \begin{cases}
        \tfrac1{nc}\|f(X) - Y\|_F^2 & \texttt{reduction="mean"} \text{ (the default)},\\
        \|f(X) - Y\|_F^2 & \texttt{reduction="sum"},
    \end{cases}

where :math:`\lambda` is the optimizer's ``weight_decay``: ``torch.optim.SGD`` and
``torch.optim.Adam`` add :math:`\lambda w` to the gradient, which is the gradient of the L2
penalty :math:`\tfrac\lambda2\|w\|^2` (coupled decay).  copos minimizes
:math:`F = \tfrac12\|f(X) - Y\|_F^2 + \tfrac\beta2(\|U\|_F^2 + \|V\|_F^2)`.  Multiplying,

.. math::

    \tfrac{nc}2 L_{\text{torch}}^{\text{mean}}
        = \tfrac12\|f(X) - Y\|_F^2 + \tfrac{nc\lambda}4\|w\|^2
    \ \Rightarrow\ \beta = \tfrac{nc\lambda}2,\ F = \tfrac{nc}2L_{\text{torch}};
    \qquad
    \tfrac12 L_{\text{torch}}^{\text{sum}} \Rightarrow \beta = \tfrac\lambda2,\ F = \tfrac12L_{\text{torch}} .

The two objectives differ by a positive factor, so they have the same minimizers and a net is
optimal for one iff it is optimal for the other (relative gaps are equal).

**What copos assumes about the parameters.**  The first-layer bias is a row of :math:`U` (the
ones column of the data), so it **is** decayed; the output bias :math:`b` is **not**
(:mod:`copos.nets.problem`).  PyTorch's ``weight_decay`` decays every parameter of its group,
both biases included, unless they are put in a group with ``weight_decay=0``:
:func:`parameter_groups` builds exactly copos's groups, and :func:`weight_decay_of` reads
:math:`\lambda` off an optimizer and warns when its groups decay differently (then the torch
objective is not :math:`F` times a factor, and a certificate speaks about copos's objective).

**AdamW is not an L2 objective.**  ``torch.optim.AdamW`` decays the weights directly
(:math:`w \leftarrow w - \eta\lambda w`, decoupled from the adaptive step), which is not the
gradient of any fixed penalty added to the loss: its fixed points minimize no objective of
the form above, so there is no β to certify against; :func:`weight_decay_of` refuses it.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

from copos._validation import check_dimension, check_positive
from copos.errors import InvalidInputError
from copos.nets.architectures.dense import _import_torch, _torch_layers

Reduction = Literal["mean", "sum"]

#: The ``MSELoss`` reductions the converter knows.
REDUCTIONS: tuple[str, ...] = ("mean", "sum")


def _check_reduction(reduction: Any) -> str:
    if reduction not in REDUCTIONS:
        raise InvalidInputError(
            f"reduction must be one of {', '.join(REDUCTIONS)} (torch.nn.MSELoss); got "
            f"{reduction!r}"
        )
    return str(reduction)


def objective_scale(n: int, c: int, reduction: Reduction = "mean") -> float:
    r"""The factor :math:`s` with :math:`F = s\,L_{\text{torch}}`: :math:`nc/2` for ``"mean"``,
    :math:`1/2` for ``"sum"`` (module docstring)."""
    n, c = check_dimension(n, "n"), check_dimension(c, "c")
    return 0.5 * n * c if _check_reduction(reduction) == "mean" else 0.5


def beta_from_weight_decay(
    weight_decay: float, n: int, c: int, reduction: Reduction = "mean"
) -> float:
    r""":math:`\beta = s\lambda` (:func:`objective_scale`): :math:`nc\lambda/2` for ``"mean"``,
    :math:`\lambda/2` for ``"sum"``; ``n`` samples, ``c`` outputs, ``weight_decay`` :math:`\lambda > 0`
    of ``torch.optim.SGD`` or ``torch.optim.Adam`` (not AdamW)."""
    return objective_scale(n, c, reduction) * check_positive(weight_decay, "weight_decay")


def weight_decay_from_beta(beta: float, n: int, c: int, reduction: Reduction = "mean") -> float:
    r"""The inverse of :func:`beta_from_weight_decay`: :math:`\lambda = \beta/s`."""
    return check_positive(beta, "beta") / objective_scale(n, c, reduction)


def objective_from_torch_loss(loss: float, n: int, c: int, reduction: Reduction = "mean") -> float:
    r"""copos's objective :math:`F = s\,L_{\text{torch}}` from the torch loss
    :math:`L_{\text{torch}} = \operatorname{MSE} + \tfrac\lambda2\|w\|^2` (the penalty over the
    parameters copos decays: :func:`parameter_groups`)."""
    return objective_scale(n, c, reduction) * float(loss)


def parameter_groups(module: Any, weight_decay: float) -> list[dict[str, Any]]:
    """Optimizer parameter groups of ``Sequential(Linear, ReLU, Linear)`` that decay what copos
    decays: both weights and the first-layer bias with ``weight_decay``, the output bias with 0.

    ``torch.optim.SGD(parameter_groups(net, lam), lr=...)`` then minimizes
    :math:`\\operatorname{MSE} + \\tfrac\\lambda2(\\|W_1\\|^2 + \\|b_1\\|^2 + \\|W_2\\|^2)`, which
    is :math:`F/s` (module docstring).
    """
    decay = check_positive(weight_decay, "weight_decay")
    first, second = _linear_layers(module)
    decayed = [first.weight, second.weight] + ([] if first.bias is None else [first.bias])
    groups: list[dict[str, Any]] = [{"params": decayed, "weight_decay": decay}]
    if second.bias is not None:
        groups.append({"params": [second.bias], "weight_decay": 0.0})
    return groups


def weight_decay_of(optimizer: Any, module: Any) -> float:
    r"""The L2 weight decay :math:`\lambda` with which ``optimizer`` trains ``module``.

    Raises :class:`InvalidInputError` for ``AdamW`` (decoupled decay: no L2 objective), for
    parameters of ``module`` that the optimizer does not train, and for weights decayed with
    different :math:`\lambda`.  Warns (``UserWarning``) when the biases are decayed otherwise
    than copos assumes (first-layer bias with :math:`\lambda`, output bias with 0): then
    :math:`F \ne s\,L_{\text{torch}}` by :math:`s\tfrac\lambda2\|b\|^2` (output bias) or
    :math:`-s\tfrac\lambda2\|b_1\|^2` (first-layer bias).
    """
    if type(optimizer).__name__ == "AdamW":
        raise InvalidInputError(
            "AdamW's decoupled weight decay (w <- w - lr * weight_decay * w) is not an L2 "
            "penalty of the loss, so its nets minimize no objective copos can certify; train "
            "with torch.optim.Adam or SGD and weight_decay (coupled L2) instead"
        )
    decay = _decay_of_parameters(optimizer)
    first, second = _linear_layers(module)
    for name, parameter in (("first-layer weight", first.weight), ("output weight", second.weight)):
        if id(parameter) not in decay:
            raise InvalidInputError(f"the optimizer does not train the {name} of the module")
    lam = decay[id(first.weight)]
    if decay[id(second.weight)] != lam or lam <= 0.0:
        raise InvalidInputError(
            f"copos needs one weight decay lambda > 0 on both weights; the optimizer has "
            f"{lam!r} and {decay[id(second.weight)]!r}"
        )
    if first.bias is not None and decay.get(id(first.bias)) != lam:
        warnings.warn(
            f"the first-layer bias is decayed with {decay.get(id(first.bias))!r}, not "
            f"lambda = {lam!r}: copos decays it (a row of U), so its objective is not the torch "
            "loss times a factor; use copos.nets.torch_objective.parameter_groups",
            UserWarning,
            stacklevel=2,
        )
    if second.bias is not None and decay.get(id(second.bias), 0.0) != 0.0:
        warnings.warn(
            f"the output bias is decayed with {decay[id(second.bias)]!r} (torch's default "
            "decays every parameter): copos's output bias is free, so its objective is the torch "
            "loss minus the bias penalty, times a factor; use "
            "copos.nets.torch_objective.parameter_groups",
            UserWarning,
            stacklevel=2,
        )
    return float(lam)


def _decay_of_parameters(optimizer: Any) -> dict[int, float]:
    """``id(parameter) -> weight_decay`` over the optimizer's parameter groups."""
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list):
        raise InvalidInputError(
            f"optimizer must be a torch.optim optimizer; got {type(optimizer).__name__}"
        )
    return {
        id(parameter): float(group.get("weight_decay", 0.0))
        for group in groups
        for parameter in group["params"]
    }


def _linear_layers(module: Any) -> tuple[Any, Any]:
    """The two linear layers of ``Sequential(Linear, ReLU, Linear)`` (a clear error otherwise)."""
    return _torch_layers(_import_torch().nn, module)
