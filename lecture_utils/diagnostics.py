"""Per-layer statistics that make vanishing and exploding gradients visible.

For each layer of a model, on one batch:

- the mean and standard deviation of its outputs (activations);
- the share of *saturated* outputs for sigmoid and tanh layers: where the
  function is flat and passes almost no gradient back (``|tanh| > 0.97``,
  i.e. sigmoid below 0.015 or above 0.985, where the derivative is under 6 %
  of its maximum);
- the share of *dead* units for ReLU layers: units whose output is zero for
  every example of the batch, so they pass no gradient back at all;
- the L2 norm of the gradient of its kernel;
- the update:data ratio ``learning_rate * std(gradient) / std(kernel)``, how
  much one plain SGD step would change the kernel relative to its size
  (around 1e-3 is healthy; much smaller and the layer is barely learning).

:class:`DiagnosticsCallback` records the same during ``fit``, once per epoch.
The model code stays in the notebooks; these are the measuring instruments.
Introduced in ``notebooks/01_vanishing_gradients.ipynb``.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

from .grads import compute_gradients, grad_norm

#: On the tanh scale: |tanh(z)| > 0.97 counts as saturated (sigmoid: |2s - 1| > 0.97).
SATURATION = 0.97

_SATURATING = {"sigmoid", "tanh"}
_DYING = {"relu"}


@dataclasses.dataclass
class LayerStats:
    """The statistics of one layer on one batch; NaN where not applicable."""

    index: int
    name: str
    activation: str
    mean: float
    std: float
    saturated: float = math.nan   # share of outputs in the flat regions (sigmoid/tanh)
    dead: float = math.nan        # share of units that output 0 for the whole batch (ReLU)
    grad_norm: float = math.nan   # L2 norm of d loss / d kernel
    update_ratio: float = math.nan  # learning_rate * std(grad) / std(kernel)


def activation_name(layer) -> str:
    """The name of the nonlinearity at the output of ``layer``: ``"sigmoid"``,
    ``"tanh"``, ``"relu"``, ``"leaky_relu"``, ``"linear"``, ... (``"none"`` for
    layers that have none, such as Flatten or BatchNormalization)."""
    fn = getattr(layer, "activation", None)
    if callable(fn):
        return getattr(fn, "__name__", type(fn).__name__).lower()
    known = {"ReLU": "relu", "LeakyReLU": "leaky_relu", "PReLU": "prelu", "ELU": "elu",
             "Softmax": "softmax"}
    return known.get(type(layer).__name__, "none")


def layer_outputs(model, x, training: bool = False) -> list[tuple]:
    """The output of every layer of ``model`` on the batch ``x``.

    Returns:
        A list of ``(layer, output as NumPy array)``, input side first.
    """
    x = np.asarray(x)
    if isinstance(model, keras.Sequential):
        outputs, h = [], keras.ops.convert_to_tensor(x)
        for layer in model.layers:
            h = layer(h, training=training)
            outputs.append((layer, keras.ops.convert_to_numpy(h)))
        return outputs
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs, [layer.output for layer in layers])
    values = probe(x, training=training)
    values = values if isinstance(values, (list, tuple)) else [values]
    return [(layer, keras.ops.convert_to_numpy(v)) for layer, v in zip(layers, values)]


def saturated_share(outputs: np.ndarray, activation: str) -> float:
    """Share (0-1) of ``outputs`` of a sigmoid or tanh layer that lie in the
    flat regions; NaN for other activations."""
    if activation == "sigmoid":
        return float(np.mean(np.abs(2 * outputs - 1) > SATURATION))
    if activation == "tanh":
        return float(np.mean(np.abs(outputs) > SATURATION))
    return math.nan


def dead_share(outputs: np.ndarray, activation: str) -> float:
    """Share (0-1) of the units of a ReLU layer that output zero for every
    example of the batch; NaN for other activations."""
    if activation not in _DYING:
        return math.nan
    per_unit = outputs.reshape(len(outputs), -1)
    return float(np.mean(np.all(per_unit <= 0, axis=0)))


def activation_stats(model, x, training: bool = False) -> list[LayerStats]:
    """Mean, std, saturated and dead shares of every layer's outputs on ``x``."""
    stats = []
    for index, (layer, out) in enumerate(layer_outputs(model, x, training=training)):
        act = activation_name(layer)
        stats.append(LayerStats(index, layer.name, act, float(out.mean()), float(out.std()),
                                saturated_share(out, act), dead_share(out, act)))
    return stats


def layer_stats(model, x, y=None, loss="sparse_categorical_crossentropy",
                learning_rate: float | None = None) -> list[LayerStats]:
    """Activation statistics of every layer, and, when targets ``y`` are given,
    the gradient norm of its kernel and (with ``learning_rate``, by default the
    compiled optimizer's) its update:data ratio.

    Args:
        model: a built Keras model.
        x: a batch of inputs; y: its targets (or None for activations only).
        loss: the loss the gradients are of (see :func:`lecture_utils.grads.compute_gradients`).
        learning_rate: for the update:data ratio.

    Returns:
        One :class:`LayerStats` per layer, input side first.
    """
    stats = activation_stats(model, x)
    if y is None:
        return stats
    if learning_rate is None and getattr(model, "optimizer", None) is not None:
        learning_rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    _, grads = compute_gradients(model, x, y, loss)
    by_name = {g.layer: g for g in grads}
    for s in stats:
        g = by_name.get(s.name)
        if g is None or "kernel" not in g.weight_names:
            continue
        grad, kernel = g.grad("kernel"), g.weight("kernel")
        s.grad_norm = grad_norm(grad)
        if learning_rate is not None and kernel.std() > 0:
            s.update_ratio = float(learning_rate * grad.std() / kernel.std())
    return stats


def format_stats(stats: list[LayerStats]) -> str:
    """A plain-text table of :class:`LayerStats` (percentages for the shares)."""
    def pct(v):
        return "" if math.isnan(v) else f"{100 * v:5.1f}%"

    def sci(v):
        return "" if math.isnan(v) else f"{v:.2e}"

    head = f"{'#':>2} {'layer':<20} {'activation':<11} {'mean':>8} {'std':>8} {'saturated':>9} {'dead':>6} {'|grad|':>9} {'update':>9}"
    rows = [head]
    for s in stats:
        rows.append(f"{s.index:>2} {s.name[:20]:<20} {s.activation[:11]:<11} {s.mean:>8.3f} {s.std:>8.3f} "
                    f"{pct(s.saturated):>9} {pct(s.dead):>6} {sci(s.grad_norm):>9} {sci(s.update_ratio):>9}")
    return "\n".join(rows)


class DiagnosticsCallback(keras.callbacks.Callback):
    """Records :func:`layer_stats` on a fixed probe batch before training and
    at the end of every epoch.

    Args:
        x, y: the probe batch (a few hundred examples are plenty).
        loss: the loss the gradients are of.

    Attributes:
        history: a list of ``(epoch, [LayerStats, ...])``; epoch 0 is before
            training, epoch k is after the k-th epoch.
    """

    def __init__(self, x, y, loss="sparse_categorical_crossentropy"):
        super().__init__()
        self.x, self.y, self.loss = np.asarray(x), np.asarray(y), loss
        self.history: list = []

    def _record(self, epoch: int) -> None:
        self.history.append((epoch, layer_stats(self.model, self.x, self.y, self.loss)))

    def on_train_begin(self, logs=None):
        self.history = []
        self._record(0)

    def on_epoch_end(self, epoch, logs=None):
        self._record(epoch + 1)

    def series(self, field: str) -> tuple[list, np.ndarray]:
        """``(layer names, array of shape (n_records, n_layers))`` of one
        :class:`LayerStats` field over the recorded epochs."""
        if not self.history:
            raise ValueError("nothing recorded yet: pass the callback to fit() first")
        if field not in LayerStats.__dataclass_fields__:
            raise ValueError(f"unknown field {field!r}; valid: {list(LayerStats.__dataclass_fields__)}")
        names = [s.name for s in self.history[0][1]]
        return names, np.array([[getattr(s, field) for s in stats] for _, stats in self.history])
