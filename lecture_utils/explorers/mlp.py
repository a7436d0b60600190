"""A plain NumPy multilayer perceptron, forward and backward layer by layer:
what the gradient-flow explorer computes on (checked against Keras in
tests/unit/test_explorers.py)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..grads import grad_norm
from ._checks import check_choice

ACTIVATIONS = ("sigmoid", "tanh", "relu", "selu", "linear")
INITIALIZERS = ("random_normal", "glorot", "he", "lecun")

# SELU's constants (Klambauer et al., 2017), as in keras.activations.selu
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def activate(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if activation == "tanh":
        return np.tanh(z)
    if activation == "relu":
        return np.maximum(z, 0.0)
    if activation == "selu":
        return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))
    return z


def derivative(z: np.ndarray, a: np.ndarray, activation: str) -> np.ndarray:
    """f'(z), given z and a = f(z)."""
    if activation == "sigmoid":
        return a * (1.0 - a)
    if activation == "tanh":
        return 1.0 - a * a
    if activation == "relu":
        return (z > 0).astype(z.dtype)
    if activation == "selu":
        return np.where(z > 0, SELU_SCALE, a + SELU_SCALE * SELU_ALPHA)
    return np.ones_like(z)


#: the smallest normal float32; below it, CPUs compute 10-100 times slower (denormals)
FLOAT32_TINY = np.finfo(np.float32).tiny


def flush_denormals(x: np.ndarray) -> np.ndarray:
    """``x`` with its subnormal values set to 0, as TensorFlow's CPU kernels do
    (flush-to-zero): a gradient below ~1.2e-38 becomes exactly 0. Without it a
    vanishing gradient makes every later matrix product crawl."""
    return np.where(np.abs(x) < FLOAT32_TINY, np.float32(0), x)


def init_std(initializer: str, fan_in: int, fan_out: int, sigma: float = 1.0) -> float:
    """The standard deviation of a normal initialization: ``sigma`` for
    ``random_normal``; the table's σ² = 1/fan_avg (Glorot), 2/fan_in (He),
    1/fan_in (LeCun) otherwise."""
    check_choice("initializer", initializer, INITIALIZERS)
    if initializer == "random_normal":
        return float(sigma)
    variance = {"glorot": 2.0 / (fan_in + fan_out), "he": 2.0 / fan_in, "lecun": 1.0 / fan_in}[initializer]
    return math.sqrt(variance)


def init_mlp(n_inputs: int, depth: int, width: int, n_outputs: int, initializer: str,
             sigma: float = 1.0, seed: int = 0) -> list:
    """Kernels of an MLP with ``depth`` hidden layers of ``width`` units and an
    output layer, drawn from normal distributions (see :func:`init_std`);
    biases are zero, as in Keras."""
    rng = np.random.default_rng(seed)
    sizes = [n_inputs] + [width] * depth + [n_outputs]
    return [(rng.standard_normal((a, b)) * init_std(initializer, a, b, sigma)).astype(np.float32)
            for a, b in zip(sizes[:-1], sizes[1:])]


@dataclasses.dataclass
class GradientFlow:
    """What the gradient-flow explorer shows, per hidden layer (input side
    first) and for the output layer (last entry of ``grad_norms``)."""

    grad_norms: np.ndarray      # ‖∂L/∂W‖ of each layer's kernel, output layer last
    act_std: np.ndarray         # std of each hidden layer's outputs
    act_mean: np.ndarray        # mean of each hidden layer's outputs
    saturated: np.ndarray       # share of outputs in the flat regions (sigmoid, tanh; else NaN)
    dead: np.ndarray            # share of units silent for the whole batch (relu; else NaN)
    loss: float
    config: dict

    @property
    def ratio(self) -> float:
        """Gradient norm of the first layer over that of the last (output)
        layer: 0 when the first layer's gradient underflowed float32, NaN when
        the network overflowed."""
        with np.errstate(all="ignore"):
            return float(self.grad_norms[0] / self.grad_norms[-1])

    @property
    def overflowed(self) -> bool:
        """True when activations or gradients went past float32's range (inf/NaN)."""
        return not (np.all(np.isfinite(self.grad_norms)) and np.all(np.isfinite(self.act_std)))


def mlp_gradient_flow(X: np.ndarray, y: np.ndarray, kernels: list, activation: str,
                      batch_norm: bool = False, eps: float = 1e-3) -> GradientFlow:
    """Backpropagation by hand through an MLP (zero biases; softmax
    cross-entropy at the output), recording per-layer statistics.

    With ``batch_norm`` each hidden layer normalizes its pre-activations with
    the batch's mean and variance (training mode, γ = 1, β = 0, ε as Keras's
    default 1e-3), as ``Dense -> BatchNormalization -> Activation`` does.
    """
    from ..diagnostics import dead_share, saturated_share

    X = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
    y = np.asarray(y).astype(int)
    n = len(X)
    h, cache = X, []
    stds, means, sats, deads = [], [], [], []
    for W in kernels[:-1]:
        z = h @ W
        norm = None
        if batch_norm:
            mu, var = z.mean(axis=0), z.var(axis=0)
            inv = 1.0 / np.sqrt(var + eps)
            zhat = (z - mu) * inv
            norm = (zhat, inv)
            z = zhat
        a = activate(z, activation)
        cache.append((h, z, a, norm))
        stds.append(a.std())
        means.append(a.mean())
        sats.append(saturated_share(a, activation))
        deads.append(dead_share(a, activation))
        h = a
    logits = h @ kernels[-1]
    logits = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    loss = float(-np.mean(np.log(p[np.arange(n), y] + 1e-12)))
    d = p
    d[np.arange(n), y] -= 1.0
    d /= n
    grads = [grad_norm(h.T @ d)]
    dh = d @ kernels[-1].T
    for W, (h_in, z, a, norm) in zip(reversed(kernels[:-1]), reversed(cache)):
        dz = flush_denormals(dh * derivative(z, a, activation))
        if norm is not None:
            zhat, inv = norm
            dz = inv * (dz - dz.mean(axis=0) - zhat * (dz * zhat).mean(axis=0))
        grads.append(grad_norm(h_in.T @ dz))
        dh = dz @ W.T
    return GradientFlow(np.array(grads[::-1]), np.array(stds), np.array(means), np.array(sats),
                        np.array(deads), loss, {"activation": activation, "batch_norm": batch_norm})


