"""Per-layer gradients of a Keras model, for every Keras backend.

Keras 3 has no backend-neutral "give me the gradients" call: each backend
differentiates its own way (TensorFlow's ``GradientTape``, ``jax.grad`` over
``model.stateless_call``, PyTorch's autograd). This module hides that, and is
the only place in the course that touches a backend directly; the notebooks
stay pure Keras.

Introduced in ``notebooks/01_vanishing_gradients.ipynb`` (the measured
"gradient tendency").
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Callable

import numpy as np


@dataclasses.dataclass
class LayerGradients:
    """The gradients of one layer's trainable weights.

    Attributes:
        layer: the layer's name.
        index: its position in ``model.layers`` (input side first).
        weight_names: the names of its trainable weights (``kernel``, ``bias``, ...).
        weights: their current values (NumPy).
        grads: the gradient of the mean loss with respect to each (NumPy).
    """

    layer: str
    index: int
    weight_names: list
    weights: list
    grads: list

    def _position(self, name: str) -> int:
        if name not in self.weight_names:
            raise KeyError(f"layer {self.layer!r} has no trainable weight {name!r}; "
                           f"it has {self.weight_names}")
        return self.weight_names.index(name)

    def grad(self, name: str = "kernel") -> np.ndarray:
        """The gradient of the weight called ``name``.

        Raises:
            KeyError: the layer has no trainable weight of that name.
        """
        return self.grads[self._position(name)]

    def weight(self, name: str = "kernel") -> np.ndarray:
        """The current value of the weight called ``name`` (KeyError if none)."""
        return self.weights[self._position(name)]


def _loss_function(loss) -> Callable:
    import keras

    if isinstance(loss, str):
        try:
            return keras.losses.get(loss)
        except ValueError:
            raise ValueError(f"unknown loss {loss!r}: give a keras.losses name such as "
                             "'sparse_categorical_crossentropy', 'binary_crossentropy' "
                             "or 'mse', or a keras.losses.Loss object") from None
    if callable(loss):
        return loss
    raise TypeError(f"loss must be a string, a keras.losses.Loss or a function, got {type(loss).__name__}")


def _mean_loss(loss_fn: Callable, y, y_pred):
    import keras

    return keras.ops.mean(loss_fn(y, y_pred))


def _cached(model, loss_fn, training) -> tuple[dict, tuple]:
    """The model's cache of compiled gradient functions and this call's key in
    it: one per loss, mode and set of variables."""
    cache = model.__dict__.setdefault("_lecture_utils_grads", {})
    key = (loss_fn, training, tuple(map(id, model.trainable_variables)),
           tuple(map(id, model.non_trainable_variables)))
    return cache, key


def _gradients_tensorflow(model, x, y, loss_fn, training):
    import tensorflow as tf

    def loss_and_grads(x, y):
        with tf.GradientTape() as tape:
            y_pred = model(x, training=training)
            loss = _mean_loss(loss_fn, y, y_pred)
        return loss, tape.gradient(loss, [v.value for v in model.trainable_variables])

    # The first call on a model runs eagerly (a one-off call would pay more to
    # trace than it saves); from the second on, a tf.function: a training loop
    # of notebook 05's RNN takes ~5 ms a step instead of ~80 ms.
    cache, key = _cached(model, loss_fn, training)
    if key not in cache:
        cache[key] = None
        loss, grads = loss_and_grads(x, y)
    else:
        if cache[key] is None:
            cache[key] = tf.function(loss_and_grads, reduce_retracing=True)
        # one trace per model: a loop over many models would have TensorFlow warn
        # of "excessive retracing" in the student's output; quiet for this call only
        logger = tf.get_logger()
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            loss, grads = cache[key](x, y)
        finally:
            logger.setLevel(level)
    return float(loss), grads


def _gradients_jax(model, x, y, loss_fn, training):
    import jax

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    # Compiled on the first call (op-by-op JAX is about ten times slower than
    # TensorFlow's eager mode on a training loop).
    cache, key = _cached(model, loss_fn, training)
    if key not in cache:
        def loss_of(trainable_values, non_trainable_values, x, y):
            y_pred, _ = model.stateless_call(trainable_values, non_trainable_values, x, training=training)
            return _mean_loss(loss_fn, y, y_pred)

        cache[key] = jax.jit(jax.value_and_grad(loss_of))
    loss, grads = cache[key](trainable, non_trainable, x, y)
    return float(loss), grads


def _gradients_torch(model, x, y, loss_fn, training):
    import torch

    params = [v.value for v in model.trainable_variables]
    y_pred = model(x, training=training)
    loss = _mean_loss(loss_fn, y, y_pred)
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return float(loss.detach().cpu()), grads


_BACKENDS = {
    "tensorflow": _gradients_tensorflow,
    "jax": _gradients_jax,
    "torch": _gradients_torch,
}


def _to_numpy(value) -> np.ndarray:
    if value is None:
        return None
    if hasattr(value, "detach"):  # torch
        value = value.detach().cpu()
    return np.asarray(value)


def compute_gradients(model, x, y, loss="sparse_categorical_crossentropy",
                      training: bool = True) -> tuple[float, list[LayerGradients]]:
    """The loss on one batch and the gradient of every trainable weight, by layer.

    Args:
        model: a built Keras model (Sequential or functional).
        x, y: a batch of inputs and targets (NumPy arrays).
        loss: a Keras loss name, a ``keras.losses.Loss`` or a function
            ``loss(y_true, y_pred)``; the gradient is that of its mean.
        training: call the model in training mode (batch normalization uses the
            batch statistics, dropout is on), as ``fit`` does.

    Returns:
        ``(loss_value, layers)`` where ``layers`` lists a :class:`LayerGradients`
        for each layer that has trainable weights, input side first. A weight
        that does not affect the loss has gradient zeros.

    Raises:
        ValueError: the model is not built, or the loss is unknown.
        NotImplementedError: a Keras backend other than TensorFlow, JAX, PyTorch.
    """
    import keras

    if not model.built:
        raise ValueError("the model is not built: give it an Input (or call it on a batch) first")
    backend = keras.backend.backend()
    if backend not in _BACKENDS:
        raise NotImplementedError(f"gradients for the {backend!r} backend; "
                                  f"supported: {', '.join(_BACKENDS)}")
    loss_fn = _loss_function(loss)
    x = keras.ops.convert_to_tensor(np.asarray(x))
    y = keras.ops.convert_to_tensor(np.asarray(y))
    loss_value, grads = _BACKENDS[backend](model, x, y, loss_fn, training)

    by_id = {id(v): _to_numpy(g) for v, g in zip(model.trainable_variables, grads)}
    layers = []
    for index, layer in enumerate(model.layers):
        variables = layer.trainable_variables
        if not variables:
            continue
        values = [np.asarray(keras.ops.convert_to_numpy(v.value)) for v in variables]
        layer_grads = [by_id.get(id(v)) for v in variables]
        layer_grads = [np.zeros_like(w) if g is None else g for g, w in zip(layer_grads, values)]
        layers.append(LayerGradients(layer.name, index, [v.name for v in variables],
                                     values, layer_grads))
    return loss_value, layers


def grad_norm(gradient) -> float:
    """The L2 norm of a (float32) gradient, summed in float64: in float32 the
    squares of entries below ~1e-19 underflow, and a gradient of 1e-23 would
    have norm 0, as if it had vanished when only its norm did."""
    return float(np.linalg.norm(np.asarray(gradient, dtype=np.float64)))


def gradient_norms(model, x, y, loss="sparse_categorical_crossentropy",
                   weight: str = "kernel") -> dict:
    """The L2 norm of the gradient of each layer's ``weight`` (its kernel by
    default), input side first: ``{layer_name: norm}``. Layers without such a
    weight are left out."""
    _, layers = compute_gradients(model, x, y, loss)
    return {g.layer: grad_norm(g.grad(weight)) for g in layers if weight in g.weight_names}
