r"""Two-layer convolutional ReLU nets (Ergen & Pilanci, 2021): filters on patches, ReLU, pooling.

A sample :math:`x` (``C`` channels of a 1-D signal of length ``L`` or a 2-D image ``H x W``,
flattened channel-first as ``torch.flatten`` does) gives :math:`K` patches
:math:`P_k(x) \in \mathbb R^h` (``h = C * prod(kernel)``, plus one constant entry when the
convolution has a bias), one per position of the kernel at the given stride and zero padding.
With filters :math:`U = [u_1, \dots, u_m] \in \mathbb R^{h\times m}` the net is

.. math::

    f(x) = \sum_{j=1}^m \Big(\operatorname{pool}_k\ \big(P_k(x)^\top u_j\big)_+\Big) v_j^\top,
    \qquad
    F(U, V) = \tfrac12\|f(X) - Y\|_F^2 + \tfrac\beta2\big(\|U\|_F^2 + \|V\|_F^2\big),

with ``pooling``: ``"avg"`` (global average, :math:`\tfrac1K\sum_k`, PyTorch's
``AdaptiveAvgPool(1)``), ``"sum"`` (:math:`\sum_k`) or ``"linear"`` (a linear readout over the
positions, :math:`f(x) = \sum_j\sum_k (P_k(x)^\top u_j)_+ v_{jk}^\top`, PyTorch's ``Flatten``
then ``Linear(m K, c)``; ``V`` then has ``m K`` rows, row ``j K + k``).

For ``"avg"`` and ``"sum"`` the hidden layer is the data operator
:math:`(X_1, \dots, X_K)`, :math:`(X_k)_{i,:} = P_k(x_i)` (scaled by :math:`1/K` for the average,
by positive homogeneity of the ReLU), so the arrangement program of
:mod:`copos.relaxations.convex` holds it unchanged (:mod:`copos.nets.architectures.base`).  The
patch extractor is one integer index array, built once per architecture and reused.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos._io import atomic_write
from copos._validation import as_finite_array
from copos.errors import DataFileError, InvalidInputError
from copos.nets.architectures.base import DataOperator, Weights, weight_decay_objective
from copos.nets.architectures.dense import _import_torch, _numpy
from copos.nets.problem import TrainingProblem

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
Pooling = Literal["avg", "sum", "linear"]
POOLINGS: tuple[str, ...] = ("avg", "sum", "linear")

#: Value of the ``kind`` entry written by :meth:`ConvReLU.save`.
NPZ_KIND = "copos.ConvReLU"


def _positive_tuple(value: Any, dims: int, name: str, minimum: int) -> tuple[int, ...]:
    """An int or a ``dims``-tuple of ints ``>= minimum``, as a ``dims``-tuple."""
    items = (value,) * dims if isinstance(value, (int, np.integer)) else tuple(value)
    if len(items) != dims or not all(
        isinstance(item, (int, np.integer)) and not isinstance(item, bool) for item in items
    ):
        raise InvalidInputError(f"{name} must be an int or {dims} ints; got {value!r}")
    if min(items) < minimum:
        raise InvalidInputError(f"{name} must be >= {minimum}; got {value!r}")
    return tuple(int(item) for item in items)


@dataclass(frozen=True)
class Convolution:
    r"""The architecture: input shape ``(C, L)`` or ``(C, H, W)``, kernel, stride, padding, pooling.

    Its :class:`~copos.nets.architectures.base.DataOperator` on data :math:`X` (``n x C prod(shape)``)
    holds :math:`X_k = [P_k(x_i)^\top]_i` (times :math:`1/K` for ``"avg"``); build it with
    :meth:`conv1d` / :meth:`conv2d`.  Bad shapes, strides or paddings raise
    :class:`~copos.errors.InvalidInputError`.
    """

    input_shape: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    pooling: str = "avg"
    bias: bool = False
    name: ClassVar[str] = "conv"

    def __post_init__(self) -> None:
        shape = _positive_tuple(self.input_shape, len(tuple(self.input_shape)), "input_shape", 1)
        if len(shape) not in (2, 3):
            raise InvalidInputError(
                f"input_shape must be (channels, length) or (channels, height, width); got {shape}"
            )
        dims = len(shape) - 1
        object.__setattr__(self, "input_shape", shape)
        object.__setattr__(self, "kernel", _positive_tuple(self.kernel, dims, "kernel", 1))
        object.__setattr__(self, "stride", _positive_tuple(self.stride, dims, "stride", 1))
        object.__setattr__(self, "padding", _positive_tuple(self.padding, dims, "padding", 0))
        if self.pooling not in POOLINGS:
            raise InvalidInputError(
                f"pooling must be one of {', '.join(POOLINGS)}; got {self.pooling!r}"
            )
        object.__setattr__(self, "bias", bool(self.bias))
        for axis, (size, k, pad) in enumerate(
            zip(shape[1:], self.kernel, self.padding, strict=True)
        ):
            if k > size + 2 * pad:
                raise InvalidInputError(
                    f"kernel {k} is larger than the padded input ({size} + 2*{pad}) on axis {axis}"
                )

    @classmethod
    def conv1d(
        cls,
        length: int,
        kernel: int,
        *,
        channels: int = 1,
        stride: int = 1,
        padding: int = 0,
        pooling: str = "avg",
        bias: bool = False,
    ) -> Convolution:
        """A 1-D convolution over signals of ``channels`` x ``length``."""
        return cls((channels, length), (kernel,), (stride,), (padding,), pooling, bias)

    @classmethod
    def conv2d(
        cls,
        height: int,
        width: int,
        kernel: int | tuple[int, int],
        *,
        channels: int = 1,
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        pooling: str = "avg",
        bias: bool = False,
    ) -> Convolution:
        """A 2-D convolution over images of ``channels`` x ``height`` x ``width``."""
        pair = _positive_tuple
        return cls(
            (channels, height, width),
            pair(kernel, 2, "kernel", 1),
            pair(stride, 2, "stride", 1),
            pair(padding, 2, "padding", 0),
            pooling,
            bias,
        )

    # ------------------------------------------------------------------ sizes
    @property
    def dims(self) -> int:
        """1 or 2."""
        return len(self.input_shape) - 1

    @property
    def channels(self) -> int:
        """Input channels ``C``."""
        return self.input_shape[0]

    @property
    def d(self) -> int:
        """Input size ``C * prod(shape)`` (columns of ``X``)."""
        return int(np.prod(self.input_shape))

    @property
    def positions(self) -> tuple[int, ...]:
        """Output positions per axis, ``(size + 2 pad - k) // stride + 1``."""
        return tuple(
            (size + 2 * pad - k) // s + 1
            for size, k, s, pad in zip(
                self.input_shape[1:], self.kernel, self.stride, self.padding, strict=True
            )
        )

    @property
    def K(self) -> int:
        """Number of patch positions."""
        return int(np.prod(self.positions))

    @property
    def h(self) -> int:
        """Patch size: ``C * prod(kernel)`` (+ 1 with a bias), the rows of ``U``."""
        return self.channels * int(np.prod(self.kernel)) + int(self.bias)

    @property
    def readout_rows(self) -> int:
        """Rows of ``V`` per filter: ``K`` for the linear readout, 1 for pooling."""
        return self.K if self.pooling == "linear" else 1

    # ------------------------------------------------------------------ the patch operator
    @cached_property
    def patch_index(self) -> IntArray:
        r"""``(K, h)`` indices into ``[x, 0, 1]``: entry ``(k, c*prod(kernel) + t)`` is the input
        under tap ``t`` of channel ``c`` at position ``k`` (``d`` for padding, ``d + 1`` for the
        bias).  Built once; the patch order is that of a PyTorch weight ``(m, C, *kernel)``."""
        grid = np.arange(self.d).reshape(self.input_shape)
        pad = [(0, 0)] + [(p, p) for p in self.padding]
        padded = np.pad(grid, pad, constant_values=self.d)
        windows = np.lib.stride_tricks.sliding_window_view(
            padded, self.kernel, axis=tuple(range(1, self.dims + 1))
        )
        # windows: (C, *out_full, *kernel); keep the strided positions
        strided = windows[(slice(None),) + tuple(slice(None, None, s) for s in self.stride)]
        K = self.K
        moved = np.moveaxis(strided, 0, self.dims)  # (*out, C, *kernel)
        index = moved.reshape(K, -1)
        if self.bias:
            index = np.hstack([index, np.full((K, 1), self.d + 1)])
        index = np.ascontiguousarray(index, dtype=np.intp)
        index.flags.writeable = False
        return index

    def patches(self, X: FloatArray) -> FloatArray:
        """The raw patches ``(K, n, h)`` of data ``X`` (``n x d``), without pooling scale."""
        X_arr = np.asarray(X, dtype=np.float64)
        if X_arr.ndim != 2 or X_arr.shape[1] != self.d:
            raise InvalidInputError(
                f"X must be (n, {self.d}) = (n, C*prod(input shape {self.input_shape})); got "
                f"shape {X_arr.shape}"
            )
        extended = np.hstack([X_arr, np.zeros((X_arr.shape[0], 1)), np.ones((X_arr.shape[0], 1))])
        return np.ascontiguousarray(extended[:, self.patch_index].transpose(1, 0, 2))

    def data_operator(self, X: FloatArray) -> DataOperator:
        r""":math:`(X_1, \dots, X_K)`, times :math:`1/K` for ``"avg"`` (the hidden layer's view).

        The linear readout is not a pooled ReLU: its operator is the raw patches, and the
        scalar arrangement program refuses it (:func:`require_pooled`).
        """
        patches = self.patches(X)
        return DataOperator(patches / self.K if self.pooling == "avg" else patches)

    def operator_of(self, problem: TrainingProblem) -> DataOperator:
        """:meth:`data_operator` of ``problem.X``, built once per problem (cached on it)."""
        return problem.cached(("conv-operator", self), lambda: self.data_operator(problem.X))

    # ------------------------------------------------------------------ the net
    def readouts(self, V: FloatArray) -> FloatArray:
        """``V`` per position, ``(K, m, c)``: the same ``V`` for pooling, row ``j K + k`` for linear."""
        if self.pooling != "linear":
            return np.broadcast_to(V, (self.K, *V.shape))
        m = V.shape[0] // self.K
        return V.reshape(m, self.K, V.shape[1]).transpose(1, 0, 2)

    def hidden(self, operator: DataOperator, U: FloatArray) -> FloatArray:
        """Pre-activations :math:`X_kU`, ``(K, n, m)``."""
        return np.einsum("knh,hm->knm", operator.patches, U)

    def forward_operator(self, weights: Weights, operator: DataOperator) -> FloatArray:
        """``f(X)`` from the data operator: :math:`\\sum_k (X_kU)_+V_k`."""
        U, V = weights
        if self.pooling != "linear":
            return operator.pooled_relu(U) @ V
        return np.einsum("knm,kmc->nc", np.maximum(self.hidden(operator, U), 0.0), self.readouts(V))

    def forward(self, weights: Weights, X: FloatArray) -> FloatArray:
        """Outputs ``f(X)``, shape ``(n, c)``."""
        self.check_weights(*weights)
        return self.forward_operator(weights, self.data_operator(X))

    def objective(self, weights: Weights, problem: TrainingProblem) -> float:
        """The weight-decay objective :math:`F(U, V)` on ``problem``."""
        U, V = self.check_weights(*weights)
        self.check_problem(problem, V.shape[1])
        return weight_decay_objective(
            self.forward_operator((U, V), self.operator_of(problem)), problem, U, V
        )

    def objective_and_gradient(
        self, U: FloatArray, V: FloatArray, operator: DataOperator, Y: FloatArray, beta: float
    ) -> tuple[float, FloatArray, FloatArray]:
        r""":math:`F`, :math:`\nabla_{V_k} = H_k^\top R + \beta V_k`,
        :math:`\nabla_U = \sum_k X_k^\top((RV_k^\top)\odot\mathbb 1[X_kU > 0]) + \beta U`."""
        pre = self.hidden(operator, U)
        active = np.maximum(pre, 0.0)
        readouts = self.readouts(V)
        R = np.einsum("knm,kmc->nc", active, readouts) - Y
        value = 0.5 * float(np.vdot(R, R)) + 0.5 * beta * float(np.vdot(U, U) + np.vdot(V, V))
        per_position = np.einsum("knm,nc->kmc", active, R)
        if self.pooling == "linear":
            grad_V = per_position.transpose(1, 0, 2).reshape(V.shape)
        else:
            grad_V = per_position.sum(axis=0)
        back = np.einsum("nc,kmc->knm", R, readouts) * (pre > 0)
        grad_U = np.einsum("knh,knm->hm", operator.patches, back)
        return value, grad_U + beta * U, grad_V + beta * V

    # ------------------------------------------------------------------ checks
    def check_weights(self, U: ArrayLike, V: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Finite ``U`` ``(h, m)`` and ``V`` ``(m * readout_rows, c)``."""
        U_arr = as_finite_array(U, "U", ndim=2)
        V_arr = as_finite_array(V, "V", ndim=2)
        if U_arr.shape[0] != self.h or V_arr.shape[0] != U_arr.shape[1] * self.readout_rows:
            raise InvalidInputError(
                f"a {self.describe()} needs U (h, m) = ({self.h}, m) and V (m*{self.readout_rows}, c); "
                f"got U {U_arr.shape}, V {V_arr.shape}"
            )
        if V_arr.shape[1] == 0:
            raise InvalidInputError("V needs c >= 1 columns")
        return U_arr, V_arr

    def check_problem(self, problem: TrainingProblem, c: int) -> None:
        """Raise unless ``problem`` has this input size ``d`` and ``c`` outputs."""
        if not isinstance(problem, TrainingProblem):
            raise InvalidInputError(
                f"problem must be a TrainingProblem; got {type(problem).__name__}"
            )
        if problem.d != self.d or problem.c != c:
            raise InvalidInputError(
                f"the {self.describe()} takes d = {self.d} inputs with c = {c} outputs; the problem "
                f"has d = {problem.d}, c = {problem.c}"
                + (
                    " (its bias column: give the convolution bias=True instead)"
                    if problem.bias
                    else ""
                )
            )

    def to_dict(self) -> dict[str, Any]:
        """The architecture as JSON-ready lists and scalars (:meth:`from_dict` reads it back)."""
        return {
            "input_shape": list(self.input_shape),
            "kernel": list(self.kernel),
            "stride": list(self.stride),
            "padding": list(self.padding),
            "pooling": self.pooling,
            "bias": self.bias,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Convolution:
        """The architecture of :meth:`to_dict`; :class:`InvalidInputError` for anything else."""
        keys = ("input_shape", "kernel", "stride", "padding", "pooling", "bias")
        if not isinstance(data, dict) or any(key not in data for key in keys):
            raise InvalidInputError(f"a convolution needs the fields {', '.join(keys)}")
        if not isinstance(data["bias"], bool) or not isinstance(data["pooling"], str):
            raise InvalidInputError("a convolution's bias is a boolean and its pooling a string")
        try:
            return cls(*(data[key] for key in keys))
        except TypeError as exc:  # e.g. a number where a list of ints belongs
            raise InvalidInputError(f"not a convolution: {exc}") from exc

    def describe(self) -> str:
        """E.g. ``conv1d(1x16, kernel 3, stride 1, padding 0, avg)``."""
        shape = "x".join(map(str, self.input_shape))
        kernel = "x".join(map(str, self.kernel))
        stride = "x".join(map(str, self.stride))
        padding = "x".join(map(str, self.padding))
        bias = ", bias" if self.bias else ""
        return f"conv{self.dims}d({shape}, kernel {kernel}, stride {stride}, padding {padding}, {self.pooling}{bias})"


def require_pooled(architecture: Convolution, program: str) -> None:
    """Refuse the linear readout for a program of pooled nets (its dual is copositive)."""
    if architecture.pooling == "linear":
        raise InvalidInputError(
            f"{program} needs a pooled net (pooling 'avg' or 'sum'); the linear readout over "
            "positions makes the dual constraint vector-valued (a copositive program, Sahiner et "
            "al. 2021): its relaxation is copos.solve_conv_rel, a lower bound"
        )


@dataclass(frozen=True, eq=False)
class ConvReLU:
    r"""A trained convolutional net: :class:`Convolution` ``architecture``, filters ``U``
    ``(h, m)``, readout ``V`` ``(m * readout_rows, c)`` and an optional output bias ``b`` ``(c,)``.
    """

    architecture: Convolution
    U: FloatArray
    V: FloatArray
    b: FloatArray | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.architecture, Convolution):
            raise InvalidInputError(
                f"architecture must be a Convolution; got {type(self.architecture).__name__}"
            )
        U, V = self.architecture.check_weights(self.U, self.V)
        b = None if self.b is None else as_finite_array(self.b, "b", ndim=1)
        if b is not None and b.shape != (V.shape[1],):
            raise InvalidInputError(
                f"the output bias b must have shape ({V.shape[1]},); got {b.shape}"
            )
        for name, array in (("U", U), ("V", V), ("b", b)):
            if array is not None:
                copy = np.array(array, dtype=np.float64)
                copy.flags.writeable = False
                object.__setattr__(self, name, copy)

    @property
    def m(self) -> int:
        """Number of filters."""
        return int(self.U.shape[1])

    @property
    def c(self) -> int:
        """Number of outputs."""
        return int(self.V.shape[1])

    def predict(self, X: ArrayLike) -> FloatArray:
        """``f(X)`` (+ ``b``), shape ``(n, c)``, for data ``X`` ``(n, d)``."""
        X_arr = as_finite_array(X, "X", ndim=2)
        out = self.architecture.forward_operator(
            (self.U, self.V), self.architecture.data_operator(X_arr)
        )
        return out if self.b is None else out + self.b

    def residual(self, problem: TrainingProblem) -> FloatArray:
        r"""Training residual :math:`Y - f(X)` (with ``b``), shape ``(n, c)``."""
        self.architecture.check_problem(problem, self.c)
        return problem.Y - self._outputs(problem)

    def objective(self, problem: TrainingProblem) -> float:
        """The weight-decay objective on ``problem`` (``b`` is not decayed)."""
        self.architecture.check_problem(problem, self.c)
        if self.b is not None and not problem.output_bias:
            raise InvalidInputError(
                "the network has an output bias b but the problem does not model one "
                "(build it with output_bias=True)"
            )
        return weight_decay_objective(self._outputs(problem), problem, self.U, self.V)

    def _outputs(self, problem: TrainingProblem) -> FloatArray:
        """``f(X)`` (+ ``b``) on the problem's cached operator."""
        out = self.architecture.forward_operator(
            (self.U, self.V), self.architecture.operator_of(problem)
        )
        return out if self.b is None else out + self.b

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``U``, ``V``, ``kind``, the architecture (and ``b``) to ``path`` as ``.npz``,
        atomically (as :meth:`copos.nets.architectures.dense.TwoLayerReLU.save`)."""
        arch = self.architecture
        arrays: dict[str, Any] = {
            "U": self.U,
            "V": self.V,
            "kind": np.array(NPZ_KIND),
            "input_shape": np.array(arch.input_shape),
            "kernel": np.array(arch.kernel),
            "stride": np.array(arch.stride),
            "padding": np.array(arch.padding),
            "pooling": np.array(arch.pooling),
            "conv_bias": np.array(arch.bias),
        }
        if self.b is not None:
            arrays["b"] = self.b
        return atomic_write(Path(path), lambda handle: np.savez(handle, **arrays))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ConvReLU:
        """Read a net written by :meth:`save`; :class:`DataFileError` for anything else."""
        target = Path(path)
        if not target.is_file():
            raise DataFileError(f"network file {str(target)!r} does not exist (or is not a file)")
        keys = (
            "U",
            "V",
            "kind",
            "input_shape",
            "kernel",
            "stride",
            "padding",
            "pooling",
            "conv_bias",
        )
        try:
            with np.load(target, allow_pickle=False) as data:
                missing = [key for key in keys if key not in data.files]
                if missing or str(data["kind"]) != NPZ_KIND:
                    raise DataFileError(
                        f"{str(target)!r} is not a copos convolutional network file"
                        + (f": missing {', '.join(missing)}" if missing else "")
                    )
                fields = {key: np.asarray(data[key]) for key in keys}
                b = np.asarray(data["b"]) if "b" in data.files else None
        except DataFileError:
            raise
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise DataFileError(f"cannot read network file {str(target)!r} as .npz: {exc}") from exc
        try:
            architecture = Convolution(
                tuple(int(x) for x in fields["input_shape"]),
                tuple(int(x) for x in fields["kernel"]),
                tuple(int(x) for x in fields["stride"]),
                tuple(int(x) for x in fields["padding"]),
                str(fields["pooling"]),
                bool(fields["conv_bias"]),
            )
            return cls(architecture, fields["U"], fields["V"], b)
        except InvalidInputError as exc:
            raise DataFileError(f"{str(target)!r}: {exc}") from exc

    # ------------------------------------------------------------------ torch
    @classmethod
    def from_torch(cls, module: Any, input_shape: tuple[int, ...]) -> ConvReLU:
        """Convert ``Sequential(Conv1d|Conv2d, ReLU, AdaptiveAvgPool1d|2d(1), Flatten, Linear)``
        (average pooling) or ``Sequential(Conv, ReLU, Flatten, Linear)`` (linear readout), with
        or without biases, on inputs of ``input_shape`` ``(C, L)`` or ``(C, H, W)``.

        A convolution bias is the last row of ``U`` (a constant entry in every patch); a
        ``Linear`` bias is the output bias ``b``.  Dilation, groups, a non-zero padding mode,
        string paddings and other layers are refused with :class:`InvalidInputError`.
        """
        torch = _import_torch()
        conv, pooling, linear = _torch_layers(torch.nn, module)
        architecture = Convolution(
            tuple(input_shape),
            conv.kernel_size,
            conv.stride,
            conv.padding,
            pooling,
            conv.bias is not None,
        )
        if architecture.channels != conv.in_channels:
            raise InvalidInputError(
                f"input_shape has {architecture.channels} channels; the convolution takes {conv.in_channels}"
            )
        features = conv.out_channels * architecture.readout_rows
        if linear.in_features != features:
            raise InvalidInputError(
                f"the Linear layer takes {linear.in_features} features; the convolution gives "
                f"{features} on inputs {tuple(input_shape)}"
            )
        W = _numpy(conv.weight).reshape(conv.out_channels, -1)
        U = W.T if conv.bias is None else np.vstack([W.T, _numpy(conv.bias)[None, :]])
        b = None if linear.bias is None else _numpy(linear.bias)
        return cls(architecture, U, _numpy(linear.weight).T, b)

    def to_torch(self) -> Any:
        """This net as a float64 ``Sequential`` that :meth:`from_torch` reads back (``"sum"``
        pooling is written as average pooling times ``K`` in the readout)."""
        torch = _import_torch()
        nn = torch.nn
        arch = self.architecture
        Conv = nn.Conv1d if arch.dims == 1 else nn.Conv2d
        conv = Conv(
            arch.channels,
            self.m,
            arch.kernel,
            stride=arch.stride,
            padding=arch.padding,
            bias=arch.bias,
            dtype=torch.float64,
        )
        linear = nn.Linear(
            self.m * arch.readout_rows, self.c, bias=self.b is not None, dtype=torch.float64
        )
        scale = arch.K if arch.pooling == "sum" else 1.0
        taps = self.U[: self.U.shape[0] - int(arch.bias)]
        with torch.no_grad():
            conv.weight.copy_(
                torch.tensor(np.array(taps.T.reshape(self.m, arch.channels, *arch.kernel)))
            )
            if arch.bias:
                conv.bias.copy_(torch.tensor(np.array(self.U[-1])))
            linear.weight.copy_(torch.tensor(np.array(self.V.T * scale)))
            if self.b is not None:
                linear.bias.copy_(torch.tensor(np.array(self.b)))
        if arch.pooling == "linear":
            return nn.Sequential(conv, nn.ReLU(), nn.Flatten(), linear)
        Pool = nn.AdaptiveAvgPool1d if arch.dims == 1 else nn.AdaptiveAvgPool2d
        return nn.Sequential(conv, nn.ReLU(), Pool(1), nn.Flatten(), linear)


TORCH_EXPECTED = (
    "Sequential(Conv1d|Conv2d, ReLU, AdaptiveAvgPool1d|2d(1), Flatten, Linear) or "
    "Sequential(Conv1d|Conv2d, ReLU, Flatten, Linear)"
)


def _torch_layers(nn: Any, module: Any) -> tuple[Any, str, Any]:
    """``(conv, pooling, linear)`` of a supported ``Sequential``; else :class:`InvalidInputError`."""
    layers = list(module) if isinstance(module, nn.Sequential) else []
    names = ", ".join(type(layer).__name__ for layer in layers) or type(module).__name__
    shape_ok = len(layers) in (4, 5) and isinstance(layers[0], (nn.Conv1d, nn.Conv2d))
    if not shape_ok or not isinstance(layers[1], nn.ReLU) or not isinstance(layers[-1], nn.Linear):
        raise InvalidInputError(f"from_torch expects {TORCH_EXPECTED}; got {names}")
    if not isinstance(layers[-2], nn.Flatten):
        raise InvalidInputError(
            f"from_torch expects a Flatten before the Linear layer; got {names}"
        )
    pooling = "linear"
    if len(layers) == 5:
        pool = layers[2]
        Pool = nn.AdaptiveAvgPool1d if isinstance(layers[0], nn.Conv1d) else nn.AdaptiveAvgPool2d
        size = pool.output_size if isinstance(pool, Pool) else None
        if size not in (1, (1,), (1, 1)):
            raise InvalidInputError(
                f"only global average pooling ({Pool.__name__}(1)) maps to copos; got {names}"
            )
        pooling = "avg"
    conv = layers[0]
    if isinstance(conv.padding, str):
        raise InvalidInputError(f"padding={conv.padding!r} is not supported; give integer padding")
    if set(conv.dilation) != {1} or conv.groups != 1 or conv.padding_mode != "zeros":
        raise InvalidInputError(
            "only dilation 1, groups 1 and zero padding map to copos; got dilation "
            f"{conv.dilation}, groups {conv.groups}, padding_mode {conv.padding_mode!r}"
        )
    return conv, pooling, layers[-1]
