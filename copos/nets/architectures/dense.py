r"""Two-layer ReLU networks :math:`f(X) = (XU)_+ V` and their training objectives.

A network of width :math:`m` has first-layer weights :math:`U = [u_1, \dots, u_m] \in
\mathbb R^{d\times m}` (one column per neuron) and second-layer weights :math:`V = [v_1, \dots,
v_m]^\top \in \mathbb R^{m\times c}` (one row per neuron); there are no biases (a first-layer bias
is the ones column of :attr:`copos.nets.problem.TrainingProblem.X`).  The weight-decay
objective is

.. math::

    F(U, V) = \tfrac12 \lVert (XU)_+ V - Y \rVert_F^2
        + \tfrac{\beta}{2}\big(\lVert U\rVert_F^2 + \lVert V\rVert_F^2\big),

and, by positive homogeneity of the ReLU and AM-GM, its minimum over rescalings
:math:`(u_j, v_j) \to (\alpha_j u_j, v_j/\alpha_j)` is the path-norm objective

.. math::

    F_{\mathrm{path}}(U, V) = \tfrac12 \lVert (XU)_+ V - Y \rVert_F^2
        + \beta \sum_j \lVert u_j\rVert_2 \lVert v_j\rVert_2 .

A net may carry an **output bias** :math:`b \in \mathbb R^c`, :math:`f(X) = (XU)_+V +
\mathbf 1b^\top`, as PyTorch's ``nn.Linear`` does; it is not in the weight decay and belongs to
problems with ``output_bias=True`` (:class:`~copos.nets.problem.TrainingProblem`).
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from copos._io import atomic_write
from copos._validation import as_finite_array, check_dimension, check_nonnegative
from copos.errors import CoposError, DataFileError, InvalidInputError
from copos.nets.architectures.base import DataOperator, Weights, weight_decay_objective
from copos.nets.problem import TrainingProblem

FloatArray = NDArray[np.float64]

#: Value of the ``kind`` entry written by :meth:`TwoLayerReLU.save`.
NPZ_KIND = "copos.TwoLayerReLU"

TORCH_HINT = (
    "PyTorch is needed for this function but is not installed; "
    "install it with `pip install torch` (or `pip install copos[torch]`)."
)


def _readonly(array: FloatArray) -> FloatArray:
    """A read-only copy, so that a frozen network cannot be changed through its arrays."""
    copy = np.array(array, dtype=np.float64, copy=True)
    copy.flags.writeable = False
    return copy


def _check_weights(U: ArrayLike, V: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Validate ``U`` (d×m) and ``V`` (m×c): finite, 2-D, matching width, ``d, c >= 1``."""
    U_arr = as_finite_array(U, "U", ndim=2)
    V_arr = as_finite_array(V, "V", ndim=2)
    if U_arr.shape[1] != V_arr.shape[0]:
        raise InvalidInputError(
            f"U (d×m) and V (m×c) must have the same width m; got U {U_arr.shape} and "
            f"V {V_arr.shape}. Note V holds one row per neuron (the transpose of a torch weight)."
        )
    if U_arr.shape[0] == 0 or V_arr.shape[1] == 0:
        raise InvalidInputError(
            f"U and V need d >= 1 and c >= 1; got U {U_arr.shape} and V {V_arr.shape}"
        )
    return U_arr, V_arr


def _check_compatible(U: FloatArray, V: FloatArray, problem: TrainingProblem) -> None:
    """Raise unless the network's ``d`` and ``c`` match ``problem``."""
    if not isinstance(problem, TrainingProblem):
        raise InvalidInputError(f"problem must be a TrainingProblem; got {type(problem).__name__}")
    if U.shape[0] != problem.d or V.shape[1] != problem.c:
        raise InvalidInputError(
            f"network has d={U.shape[0]}, c={V.shape[1]} but the problem has d={problem.d}, "
            f"c={problem.c}" + (" (including its bias column)" if problem.bias else "")
        )


def _forward(U: FloatArray, V: FloatArray, X: FloatArray) -> FloatArray:
    r"""Return :math:`(XU)_+ V` without any checks."""
    return np.maximum(X @ U, 0.0) @ V


def _check_output_bias(b: ArrayLike | None, c: int) -> FloatArray | None:
    """``None``, or a finite output bias of shape ``(c,)``."""
    if b is None:
        return None
    b_arr = as_finite_array(b, "b", ndim=1)
    if b_arr.shape != (c,):
        raise InvalidInputError(
            f"the output bias b must have shape (c,) = ({c},); got {b_arr.shape}"
        )
    return b_arr


def _check_bias_modelled(b: FloatArray | None, problem: TrainingProblem) -> None:
    """A net with an output bias fits only a problem that models one (else its objective is
    not an upper bound on that problem's optimum)."""
    if b is not None and not problem.output_bias:
        raise InvalidInputError(
            "the network has an output bias b but the problem does not model one; build the "
            "problem with output_bias=True (TrainingProblem.from_data(..., output_bias=True) or "
            "problem.with_output_bias())"
        )


@dataclass(frozen=True)
class Dense:
    r"""The dense two-layer net :math:`f(X) = (XU)_+V`: one patch, the whole input (``K = 1``).

    Its :class:`~copos.nets.architectures.base.DataOperator` is :math:`X_1 = X`; its objective is
    :math:`\tfrac12\|(XU)_+V - Y\|_F^2 + \tfrac\beta2(\|U\|_F^2 + \|V\|_F^2)`.
    """

    name: ClassVar[str] = "dense"

    def data_operator(self, X: FloatArray) -> DataOperator:
        """``K = 1``, :math:`X_1 = X`."""
        return DataOperator.dense(X)

    def forward(self, weights: Weights, X: FloatArray) -> FloatArray:
        """:math:`(XU)_+V` (no checks: ``weights`` and ``X`` are validated by the caller)."""
        U, V = weights
        return _forward(U, V, X)

    def objective(self, weights: Weights, problem: TrainingProblem) -> float:
        """The weight-decay objective; :class:`InvalidInputError` if the sizes do not match."""
        U, V = weights
        _check_compatible(U, V, problem)
        return weight_decay_objective(_forward(U, V, problem.X), problem, U, V)


#: The dense architecture (stateless; the default of every program).
DENSE = Dense()


def _objective_and_gradient_unchecked(
    U: FloatArray, V: FloatArray, X: FloatArray, Y: FloatArray, beta: float
) -> tuple[float, FloatArray, FloatArray]:
    """Objective and gradient without validation (the training loop's inner kernel)."""
    value, grad_U, grad_V, _ = _objective_gradient_residual(U, V, X, Y, beta)
    return value, grad_U, grad_V


def _objective_gradient_residual(
    U: FloatArray, V: FloatArray, X: FloatArray, Y: FloatArray, beta: float
) -> tuple[float, FloatArray, FloatArray, FloatArray]:
    """Objective, gradient and the residual :math:`R = (XU)_+V - Y`, without validation."""
    H = X @ U
    A = np.maximum(H, 0.0)
    R = A @ V - Y
    value = 0.5 * float(np.vdot(R, R)) + 0.5 * beta * (float(np.vdot(U, U)) + float(np.vdot(V, V)))
    grad_V = A.T @ R + beta * V
    grad_U = X.T @ ((R @ V.T) * (H > 0)) + beta * U
    return value, grad_U, grad_V, R


def _objective_and_gradients_with_bias(
    U: FloatArray, V: FloatArray, b: FloatArray, X: FloatArray, Y: FloatArray, beta: float
) -> tuple[float, FloatArray, FloatArray, FloatArray]:
    r"""Objective and gradient with an unregularized output bias :math:`b`: the same with
    :math:`Y - \mathbf 1b^\top` as targets, and :math:`\nabla_b F = R^\top\mathbf 1`."""
    value, grad_U, grad_V, R = _objective_gradient_residual(U, V, X, Y - b, beta)
    return value, grad_U, grad_V, R.sum(axis=0)


def objective_and_gradient(
    U: ArrayLike, V: ArrayLike, problem: TrainingProblem
) -> tuple[float, FloatArray, FloatArray]:
    r"""Weight-decay objective and its gradient at ``(U, V)``.

    With :math:`H = XU`, :math:`A = H_+` and residual :math:`R = AV - Y`,

    .. math::

        F = \tfrac12\lVert R\rVert_F^2 + \tfrac\beta2(\lVert U\rVert_F^2 + \lVert V\rVert_F^2),
        \quad
        \nabla_V F = A^\top R + \beta V,
        \quad
        \nabla_U F = X^\top\big((R V^\top) \odot \mathbb 1[H > 0]\big) + \beta U .

    At a kink (:math:`(XU)_{ij} = 0`) the returned vector is the element of the Clarke
    subdifferential that uses ReLU'(0) = 0.

    Parameters
    ----------
    U:
        First-layer weights, shape ``(d, m)``.
    V:
        Second-layer weights, shape ``(m, c)``.
    problem:
        Data ``X`` (n×d), targets ``Y`` (n×c) and weight decay ``beta``.

    Returns
    -------
    tuple
        ``(F, grad_U, grad_V)`` with the gradients shaped like ``U`` and ``V``.
    """
    U_arr, V_arr = _check_weights(U, V)
    _check_compatible(U_arr, V_arr, problem)
    return _objective_and_gradient_unchecked(U_arr, V_arr, problem.X, problem.Y, problem.beta)


def init_weights(
    d: int,
    m: int,
    c: int,
    *,
    rng: np.random.Generator,
    scale: float = 1.0,
) -> tuple[FloatArray, FloatArray]:
    r"""Random initial weights :math:`U_{ij} \sim \mathcal N(0, s^2/d)`, :math:`V_{ij} \sim
    \mathcal N(0, s^2/m)` (fan-in scaling, ``s = scale``).

    Parameters
    ----------
    d, m, c:
        Input dimension, width and output dimension (all ``>= 1``).
    rng:
        Source of randomness; ``U`` is drawn before ``V``.
    scale:
        Multiplier ``s >= 0`` of both standard deviations.

    Returns
    -------
    tuple
        ``(U, V)`` of shapes ``(d, m)`` and ``(m, c)``.
    """
    d = check_dimension(d, "d")
    m = check_dimension(m, "width m")
    c = check_dimension(c, "c")
    U = rng.standard_normal((d, m)) * (scale / np.sqrt(d))
    V = rng.standard_normal((m, c)) * (scale / np.sqrt(m))
    return U, V


@dataclass(frozen=True, eq=False)
class TwoLayerReLU:
    r"""A two-layer ReLU network :math:`f(X) = (XU)_+ V + \mathbf 1b^\top` (``b`` optional).

    Attributes
    ----------
    U:
        First-layer weights, shape ``(d, m)``; column ``j`` is neuron ``u_j`` (a first-layer
        bias is the row of ``U`` that meets the ones column of the data).
    V:
        Second-layer weights, shape ``(m, c)``; row ``j`` is neuron ``v_j``.
    b:
        The output bias, shape ``(c,)``, or ``None`` (none).  It is not in the weight decay and
        needs a problem with ``output_bias=True``.

    Notes
    -----
    Both arrays are validated (finite, 2-D, same width ``m``, ``d, c >= 1``) and stored as
    read-only float64 copies. Width ``m = 0`` is allowed (the zero function) so that
    :meth:`pruned` can always return a network. Networks compare by identity; compare
    ``U`` and ``V`` with :func:`numpy.allclose` to test equality of weights.

    Examples
    --------
    Two neurons :math:`u = \pm 1` on scalar inputs give :math:`f(x) = |x|`:

    >>> import numpy as np
    >>> net = TwoLayerReLU(U=np.array([[1.0, -1.0]]), V=np.array([[1.0], [1.0]]))
    >>> net.predict(np.array([[2.0], [-3.0]])).ravel().tolist()
    [2.0, 3.0]
    """

    U: FloatArray
    V: FloatArray
    b: FloatArray | None = None

    def __post_init__(self) -> None:
        U, V = _check_weights(self.U, self.V)
        b = _check_output_bias(self.b, V.shape[1])
        object.__setattr__(self, "U", _readonly(U))
        object.__setattr__(self, "V", _readonly(V))
        object.__setattr__(self, "b", None if b is None else _readonly(b))

    def _outputs(self, X: FloatArray) -> FloatArray:
        r""":math:`(XU)_+V + \mathbf 1b^\top` without checks."""
        outputs = DENSE.forward((self.U, self.V), X)
        return outputs if self.b is None else outputs + self.b

    def _checked(self, problem: TrainingProblem) -> None:
        _check_compatible(self.U, self.V, problem)
        _check_bias_modelled(self.b, problem)

    # ------------------------------------------------------------------ sizes
    @property
    def d(self) -> int:
        """Input dimension (rows of ``U``)."""
        return int(self.U.shape[0])

    @property
    def m(self) -> int:
        """Width: number of hidden neurons."""
        return int(self.U.shape[1])

    @property
    def c(self) -> int:
        """Output dimension (columns of ``V``)."""
        return int(self.V.shape[1])

    @property
    def neuron_norms(self) -> tuple[FloatArray, FloatArray]:
        r"""Per-neuron norms :math:`(\lVert u_j\rVert_2)_j` and :math:`(\lVert v_j\rVert_2)_j`."""
        return np.linalg.norm(self.U, axis=0), np.linalg.norm(self.V, axis=1)

    @property
    def path_norm(self) -> float:
        r"""Path norm :math:`\sum_j \lVert u_j\rVert_2 \lVert v_j\rVert_2`."""
        u_norms, v_norms = self.neuron_norms
        return float(np.dot(u_norms, v_norms))

    # ------------------------------------------------------------ evaluation
    def predict(self, X: ArrayLike) -> FloatArray:
        r"""Network output :math:`f(X) = (XU)_+ V + \mathbf 1b^\top`.

        Parameters
        ----------
        X:
            Inputs of shape ``(k, d)``, one sample per row (with the ones column if the network
            was trained with a bias), or a single sample of shape ``(d,)``.

        Returns
        -------
        numpy.ndarray
            Outputs of shape ``(k, c)`` (or ``(c,)`` for a single sample).
        """
        X_arr = as_finite_array(X, "X")
        if X_arr.ndim not in (1, 2) or X_arr.shape[-1] != self.d:
            raise InvalidInputError(
                f"X must have shape (k, {self.d}) or ({self.d},) to match the network; "
                f"got {X_arr.shape}"
            )
        return self._outputs(X_arr)

    def residual(self, problem: TrainingProblem) -> FloatArray:
        r"""Training residual :math:`Y - f(X)`, shape ``(n, c)``."""
        self._checked(problem)
        return problem.Y - self._outputs(problem.X)

    def loss(self, problem: TrainingProblem) -> float:
        r"""Data-fit term :math:`\tfrac12\lVert f(X) - Y\rVert_F^2` (no regulariser)."""
        R = self.residual(problem)
        return 0.5 * float(np.vdot(R, R))

    def objective(self, problem: TrainingProblem) -> float:
        r"""Weight-decay objective
        :math:`\tfrac12\lVert f(X) - Y\rVert_F^2 + \tfrac\beta2(\lVert U\rVert_F^2 +
        \lVert V\rVert_F^2)` (an output bias is not decayed).
        """
        if self.b is None:
            return DENSE.objective((self.U, self.V), problem)
        self._checked(problem)
        return weight_decay_objective(self._outputs(problem.X), problem, self.U, self.V)

    def with_output_bias(self, b: ArrayLike | None) -> TwoLayerReLU:
        """The same weights with the output bias ``b`` (``None``: none)."""
        return TwoLayerReLU(self.U, self.V, b)

    def with_optimal_output_bias(self, problem: TrainingProblem) -> TwoLayerReLU:
        r"""The net with the output bias that minimizes the objective for its ``(U, V)``:
        :math:`b = \tfrac1n(Y - (XU)_+V)^\top\mathbf 1` (the residual's columns then sum to 0)."""
        _check_compatible(self.U, self.V, problem)
        return self.with_output_bias(
            np.mean(problem.Y - DENSE.forward((self.U, self.V), problem.X), axis=0)
        )

    def path_norm_objective(self, problem: TrainingProblem) -> float:
        r"""Path-norm objective
        :math:`\tfrac12\lVert f(X) - Y\rVert_F^2 + \beta\sum_j \lVert u_j\rVert\lVert v_j\rVert`.

        It never exceeds :meth:`objective` (AM-GM) and equals it for a :meth:`rebalanced` network.
        """
        return self.loss(problem) + problem.beta * self.path_norm

    # --------------------------------------------------------- transformations
    def rebalanced(self) -> TwoLayerReLU:
        r"""The same function with every neuron rescaled so that :math:`\lVert u_j\rVert =
        \lVert v_j\rVert`.

        Each neuron becomes :math:`(\alpha_j u_j, v_j/\alpha_j)` with
        :math:`\alpha_j = \sqrt{\lVert v_j\rVert/\lVert u_j\rVert}`, which minimises
        :math:`\tfrac12(\lVert\alpha u_j\rVert^2 + \lVert v_j/\alpha\rVert^2)` over
        :math:`\alpha > 0` (value :math:`\lVert u_j\rVert\lVert v_j\rVert`), so the predictions
        are unchanged and the weight-decay objective drops to the path-norm objective.

        Neurons with :math:`u_j = 0` or :math:`v_j = 0` compute the zero function; they are
        **kept, as zeros** (both ``u_j`` and ``v_j`` set to 0), so the width and the neuron
        order are preserved. Use :meth:`pruned` to drop them.
        """
        u_norms, v_norms = self.neuron_norms
        alive = (u_norms > 0) & (v_norms > 0)
        alpha = np.zeros_like(u_norms)
        alpha[alive] = np.sqrt(v_norms[alive] / u_norms[alive])
        inv_alpha = np.zeros_like(u_norms)
        inv_alpha[alive] = 1.0 / alpha[alive]
        return TwoLayerReLU(U=self.U * alpha[None, :], V=self.V * inv_alpha[:, None], b=self.b)

    def with_optimal_output_layer(self, problem: TrainingProblem) -> TwoLayerReLU:
        r"""The same first layer with the output layer that minimises the objective for it,

        .. math:: V^\star = \operatorname*{argmin}_V\ \tfrac12\lVert HV + \mathbf 1b^\top -
            Y\rVert_F^2 + \tfrac\beta2\lVert V\rVert_F^2 = (H^\top H + \beta I)^{-1}
            H^\top(Y - \mathbf 1b^\top),\qquad H = (XU)_+

        (ridge regression on the hidden features). The objective never increases: it is
        minimised exactly over :math:`V`.  Solved as the least-squares problem
        :math:`\min_V\lVert [H; \sqrt\beta I]V - [Y - \mathbf 1b^\top; 0]\rVert_F`, so that
        duplicate neurons with a tiny :math:`\beta` (a singular :math:`H^\top H + \beta I` in
        floating point) still get a solution.
        """
        self._checked(problem)
        H = np.maximum(problem.X @ self.U, 0.0)
        target = problem.Y if self.b is None else problem.Y - self.b
        stacked = np.vstack([H, np.sqrt(problem.beta) * np.eye(self.m)])
        padded = np.vstack([target, np.zeros((self.m, problem.c))])
        V = np.linalg.lstsq(stacked, padded, rcond=None)[0]
        return TwoLayerReLU(U=self.U, V=V, b=self.b)

    def pruned(self, tol: float = 1e-10, X: ArrayLike | None = None) -> TwoLayerReLU:
        r"""Drop dead neurons.

        Neuron ``j`` is dead when :math:`\lVert u_j\rVert\lVert v_j\rVert \le` ``tol`` (it
        contributes (almost) nothing anywhere). If data ``X`` (k×d) is given, neurons that are
        inactive on every row, :math:`\max_i (x_i^\top u_j)_+ \lVert v_j\rVert \le` ``tol``, are
        dropped too: they do not change the predictions on ``X`` and only add weight decay.

        Parameters
        ----------
        tol:
            Absolute threshold, ``>= 0``.
        X:
            Optional data on which to test activity.

        Returns
        -------
        TwoLayerReLU
            A network of width ``<= m`` (possibly 0) with the surviving neurons in their order.
        """
        tol = check_nonnegative(tol, "tol")
        u_norms, v_norms = self.neuron_norms
        keep = u_norms * v_norms > tol
        if X is not None:
            X_arr = as_finite_array(X, "X", ndim=2)
            if X_arr.shape[1] != self.d:
                raise InvalidInputError(f"X must have {self.d} columns; got shape {X_arr.shape}")
            if X_arr.shape[0] > 0:
                activity = np.max(np.maximum(X_arr @ self.U, 0.0), axis=0) * v_norms
                keep &= activity > tol
        return TwoLayerReLU(U=self.U[:, keep], V=self.V[keep, :], b=self.b)

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the network to ``path`` as a ``.npz`` file (arrays ``U``, ``V``, ``kind``, and
        ``b`` when the net has an output bias).

        The file is written to a temporary file in the same directory and moved into place with
        :func:`os.replace`, so ``path`` is either the old file or the complete new one, never a
        half-written file. The name is used as given (no ``.npz`` is appended).

        Returns
        -------
        pathlib.Path
            The path written.
        """
        target = Path(path)

        def write(handle: Any) -> None:
            arrays = {} if self.b is None else {"b": self.b}
            np.savez(handle, U=self.U, V=self.V, kind=np.array(NPZ_KIND), **arrays)

        atomic_write(target, write)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TwoLayerReLU:
        """Read a network written by :meth:`save`.

        Raises
        ------
        DataFileError
            The file is missing, is not a readable ``.npz``, lacks ``U``/``V``, or the arrays
            are not 2-D with a matching width.
        InvalidInputError
            The weights contain NaN or inf.
        """
        target = Path(path)
        if not target.is_file():
            raise DataFileError(f"network file {str(target)!r} does not exist (or is not a file)")
        try:
            with np.load(target, allow_pickle=False) as data:
                missing = [key for key in ("U", "V") if key not in data.files]
                if missing:
                    raise DataFileError(
                        f"{str(target)!r} is not a copos network file: missing array(s) "
                        f"{', '.join(missing)} (found {', '.join(data.files) or 'none'})"
                    )
                U = np.asarray(data["U"])
                V = np.asarray(data["V"])
                b = np.asarray(data["b"]) if "b" in data.files else None  # older files: none
        except DataFileError:
            raise
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise DataFileError(f"cannot read network file {str(target)!r} as .npz: {exc}") from exc
        if U.ndim != 2 or V.ndim != 2 or U.shape[1] != V.shape[0]:
            raise DataFileError(
                f"{str(target)!r} holds U {U.shape} and V {V.shape}; expected U (d×m) and "
                "V (m×c) with the same m"
            )
        arrays = (U, V) if b is None else (U, V, b)
        if not all(np.issubdtype(array.dtype, np.number) for array in arrays):
            raise DataFileError(f"{str(target)!r}: U, V (and b) must be numeric arrays")
        if b is not None and b.shape != (V.shape[1],):
            raise DataFileError(f"{str(target)!r} holds b {b.shape}; expected ({V.shape[1]},)")
        return cls(U=U, V=V, b=b)

    # ------------------------------------------------------------------ torch
    @classmethod
    def from_torch(cls, module: Any) -> TwoLayerReLU:
        """Convert ``Sequential(Linear(d, m), ReLU(), Linear(m, c))``, with or without biases.

        ``U = W1ᵀ`` and ``V = W2ᵀ`` where ``W1`` (m×d) and ``W2`` (c×m) are the weights of the
        two linear layers.  A first-layer bias ``b1`` becomes the last row of ``U``
        (``U = [W1ᵀ; b1ᵀ]``, shape ``(d + 1, m)``): the net then belongs to a problem with
        ``bias=True`` (the ones column).  A second-layer bias becomes the output bias ``b`` (a
        problem with ``output_bias=True``).  Weights are detached, moved to the CPU and cast to
        float64.

        Raises
        ------
        CoposError
            PyTorch is not installed.
        InvalidInputError
            ``module`` has another architecture (other layers or activations, mismatched sizes).
        """
        torch = _import_torch()
        first, second = _torch_layers(torch.nn, module)
        W1 = _numpy(first.weight)
        U = W1.T if first.bias is None else np.vstack([W1.T, _numpy(first.bias)[None, :]])
        b = None if second.bias is None else _numpy(second.bias)
        return cls(U=U, V=_numpy(second.weight).T, b=b)

    def to_torch(self, *, input_bias: bool = False) -> Any:
        """This net as ``Sequential(Linear(d, m), ReLU(), Linear(m, c))`` in float64.

        ``input_bias``: the last row of ``U`` is the first-layer bias (the net was trained on a
        problem with ``bias=True``), so the first layer is ``Linear(d - 1, m)`` with a bias;
        the second layer has a bias iff the net has an output bias.  Inverse of
        :meth:`from_torch`.
        """
        torch = _import_torch()
        nn = torch.nn
        if input_bias and self.d < 2:
            raise InvalidInputError("input_bias needs d >= 2 (the last row of U is the bias)")
        inputs = self.d - 1 if input_bias else self.d
        first = nn.Linear(inputs, self.m, bias=input_bias, dtype=torch.float64)
        second = nn.Linear(self.m, self.c, bias=self.b is not None, dtype=torch.float64)
        with torch.no_grad():
            first.weight.copy_(torch.tensor(np.array(self.U[:inputs].T)))
            if input_bias:
                first.bias.copy_(torch.tensor(np.array(self.U[-1])))
            second.weight.copy_(torch.tensor(np.array(self.V.T)))
            if self.b is not None:
                second.bias.copy_(torch.tensor(np.array(self.b)))
        return nn.Sequential(first, nn.ReLU(), second)


def save_torch(
    net: TwoLayerReLU, path: str | os.PathLike[str], *, input_bias: bool = False
) -> Path:
    """Write ``torch.save(net.to_torch(input_bias=input_bias))`` to ``path`` atomically; read it
    back with :func:`load_torch` (``U`` gets the bias row back when ``input_bias``)."""
    torch = _import_torch()
    module = net.to_torch(input_bias=input_bias)
    return atomic_write(Path(path), lambda handle: torch.save(module, handle))


TORCH_EXPECTED = "Sequential(Linear(d, m), ReLU(), Linear(m, c)) (biases optional)"


def _torch_layers(nn: Any, module: Any) -> tuple[Any, Any]:
    """The two ``nn.Linear`` layers of ``Sequential(Linear, ReLU, Linear)``; else a clear
    :class:`InvalidInputError`."""
    if not isinstance(module, nn.Sequential) or len(module) != 3:
        raise InvalidInputError(
            f"from_torch expects {TORCH_EXPECTED}; got {type(module).__name__}"
            + (f" with {len(module)} layers" if isinstance(module, nn.Sequential) else "")
        )
    first, act, second = module[0], module[1], module[2]
    if not (
        isinstance(first, nn.Linear) and isinstance(act, nn.ReLU) and isinstance(second, nn.Linear)
    ):
        names = ", ".join(type(layer).__name__ for layer in (first, act, second))
        raise InvalidInputError(f"from_torch expects {TORCH_EXPECTED}; got Sequential({names})")
    if first.out_features != second.in_features:
        raise InvalidInputError(
            f"layer sizes do not chain: Linear(.., {first.out_features}) then "
            f"Linear({second.in_features}, ..)"
        )
    return first, second


def _numpy(tensor: Any) -> FloatArray:
    """A torch tensor as a float64 numpy array (detached, on the CPU)."""
    return np.asarray(tensor.detach().cpu().double().numpy(), dtype=np.float64)


def _import_torch() -> Any:
    """Import torch lazily, raising a :class:`CoposError` with an install hint if missing."""
    try:
        import torch
    except ImportError as exc:
        raise CoposError(TORCH_HINT) from exc
    return torch


#: The keys of ``Sequential(Linear, ReLU, Linear).state_dict()`` (the biases are optional).
STATE_WEIGHTS = frozenset({"0.weight", "2.weight"})
STATE_BIASES = frozenset({"0.bias", "2.bias"})


def load_torch(path: str | os.PathLike[str]) -> TwoLayerReLU:
    """Load a PyTorch network saved with ``torch.save(module, path)`` and convert it.

    The file must hold the full module ``Sequential(Linear(d, m), ReLU(), Linear(m, c))``
    (biases optional; see :meth:`TwoLayerReLU.from_torch`) or its ``state_dict()`` (keys
    ``"0.weight"``, ``"2.weight"`` and optionally ``"0.bias"``, ``"2.bias"``). It is read with
    ``torch.load(path, weights_only=False, map_location="cpu")``, which runs pickle code:
    **only load files you trust.**

    Raises
    ------
    CoposError
        PyTorch is not installed.
    DataFileError
        The file is missing or torch cannot read it.
    InvalidInputError
        The module has another architecture.
    """
    torch = _import_torch()
    target = Path(path)
    if not target.is_file():
        raise DataFileError(f"torch file {str(target)!r} does not exist (or is not a file)")
    try:
        obj = torch.load(target, weights_only=False, map_location="cpu")
    except Exception as exc:  # torch raises many unrelated types for corrupt files
        raise DataFileError(f"torch cannot read {str(target)!r}: {exc}") from exc
    if isinstance(obj, dict) and STATE_WEIGHTS <= set(obj) <= STATE_WEIGHTS | STATE_BIASES:
        return TwoLayerReLU.from_torch(_module_of_state(torch.nn, obj, target))
    return TwoLayerReLU.from_torch(obj)


def _module_of_state(nn: Any, state: dict[str, Any], target: Path) -> Any:
    """``Sequential(Linear, ReLU, Linear)`` holding a state dict's weights and biases."""
    W1, W2 = state["0.weight"], state["2.weight"]
    if W1.ndim != 2 or W2.ndim != 2 or W1.shape[0] != W2.shape[1]:
        raise DataFileError(
            f"{str(target)!r}: state dict weights {tuple(W1.shape)} and {tuple(W2.shape)} "
            "do not chain"
        )
    module = nn.Sequential(
        nn.Linear(W1.shape[1], W1.shape[0], bias="0.bias" in state, dtype=W1.dtype),
        nn.ReLU(),
        nn.Linear(W2.shape[1], W2.shape[0], bias="2.bias" in state, dtype=W2.dtype),
    )
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:  # a bias of the wrong shape
        raise DataFileError(f"{str(target)!r}: {exc}") from exc
    return module


def network_objective(problem: TrainingProblem, U: ArrayLike, V: ArrayLike) -> float:
    r"""Training objective of the network :math:`X \mapsto (XU)_+V`.

    .. math:: \tfrac12\|(XU)_+V - Y\|_F^2 + \tfrac\beta2\big(\|U\|_F^2 + \|V\|_F^2\big)

    with ``U`` of shape ``(d, m)`` and ``V`` of shape ``(m, c)``.
    """
    U_arr = as_finite_array(U, "U", ndim=2)
    V_arr = as_finite_array(V, "V", ndim=2)
    if U_arr.shape[0] != problem.d or V_arr.shape != (U_arr.shape[1], problem.c):
        raise InvalidInputError(
            f"U must be (d, m) = ({problem.d}, m) and V (m, c) = (m, {problem.c}); "
            f"got U {U_arr.shape}, V {V_arr.shape}"
        )
    residual = np.maximum(problem.X @ U_arr, 0.0) @ V_arr - problem.Y
    penalty = float(np.sum(U_arr**2) + np.sum(V_arr**2))
    return 0.5 * float(np.sum(residual**2)) + 0.5 * problem.beta * penalty
