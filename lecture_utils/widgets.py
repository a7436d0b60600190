"""The interactive explorers: ipywidgets controls wired to pure functions.

Each explorer is three pieces:

- ``compute_x(...) -> result``: a pure function of the controls' values (and
  the data it is given), unit-tested, fast enough to answer a slider at once;
- ``plot_x(result, axes)`` in :mod:`lecture_utils.plots`: draws the result;
- ``explore_x(...)``: builds the controls and redraws on every change. The
  callback only calls the two above.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from . import plots

ACTIVATIONS = ("sigmoid", "tanh", "relu", "selu", "linear")
INITIALIZERS = ("random_normal", "glorot", "he", "lecun")

# SELU's constants (Klambauer et al., 2017), as in keras.activations.selu
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def _check_choice(name: str, value, valid) -> None:
    if value not in valid:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, valid))}; got {value!r}")


def _starting_values(defaults: dict, initial: dict) -> dict:
    """An explorer's starting control values: ``defaults`` updated with the
    caller's ``initial`` ones (ValueError naming any unknown control)."""
    unknown = set(initial) - set(defaults)
    if unknown:
        raise ValueError(f"unknown control(s) {sorted(unknown)}; valid: {sorted(defaults)}")
    return {**defaults, **initial}


def _check_int(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}; got {value!r}")


# --------------------------------------------------------------------------
# A plain NumPy multilayer perceptron: forward and backward, layer by layer.

def _activate(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if activation == "tanh":
        return np.tanh(z)
    if activation == "relu":
        return np.maximum(z, 0.0)
    if activation == "selu":
        return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))
    return z


def _derivative(z: np.ndarray, a: np.ndarray, activation: str) -> np.ndarray:
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


def init_std(initializer: str, fan_in: int, fan_out: int, sigma: float = 1.0) -> float:
    """The standard deviation of a normal initialization: ``sigma`` for
    ``random_normal``; the table's σ² = 1/fan_avg (Glorot), 2/fan_in (He),
    1/fan_in (LeCun) otherwise."""
    _check_choice("initializer", initializer, INITIALIZERS)
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
    from .diagnostics import dead_share, saturated_share

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
        a = _activate(z, activation)
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
    grads = [np.linalg.norm(h.T @ d)]
    dh = d @ kernels[-1].T
    for W, (h_in, z, a, norm) in zip(reversed(kernels[:-1]), reversed(cache)):
        dz = dh * _derivative(z, a, activation)
        if norm is not None:
            zhat, inv = norm
            dz = inv * (dz - dz.mean(axis=0) - zhat * (dz * zhat).mean(axis=0))
        grads.append(np.linalg.norm(h_in.T @ dz))
        dh = dz @ W.T
    return GradientFlow(np.array(grads[::-1]), np.array(stds), np.array(means), np.array(sats),
                        np.array(deads), loss, {"activation": activation, "batch_norm": batch_norm})


def compute_gradient_flow(X: np.ndarray, y: np.ndarray, depth: int = 20, width: int = 100,
                          activation: str = "sigmoid", initializer: str = "random_normal",
                          sigma: float = 1.0, batch_norm: bool = False, seed: int = 0) -> GradientFlow:
    """The gradient-flow explorer's computation: a fresh MLP, one batch, its
    per-layer gradient norms and activation spread.

    Computed in float32, as Keras trains: a gradient below ~1e-38 underflows
    to exactly 0, and an exploding network overflows to inf/NaN; both are
    reported as they are (see :attr:`GradientFlow.overflowed`).

    Args:
        X, y: a batch of images (any shape, flattened) and labels 0-9.
        depth: hidden layers, 1-100. width: units per hidden layer, 1-2000.
        activation: one of ``ACTIVATIONS``.
        initializer: one of ``INITIALIZERS`` (normal distributions with the
            table's variances; ``random_normal`` uses ``sigma``).
        sigma: the standard deviation for ``random_normal``, > 0.
        batch_norm: normalize each hidden layer's pre-activations.
        seed: the weights' seed.

    Returns:
        A :class:`GradientFlow`.

    Raises:
        ValueError: a value out of range or not among the choices.
    """
    _check_int("depth", depth, 1, 100)
    _check_int("width", width, 1, 2000)
    _check_choice("activation", activation, ACTIVATIONS)
    if not sigma > 0:
        raise ValueError(f"sigma must be positive; got {sigma!r}")
    kernels = init_mlp(int(np.prod(np.shape(X)[1:])), depth, width, 10, initializer, sigma, seed)
    with np.errstate(all="ignore"):  # overflow and underflow are results here, not accidents
        flow = mlp_gradient_flow(X, y, kernels, activation, batch_norm)
    flow.config.update(depth=depth, width=width, initializer=initializer, sigma=sigma)
    return flow


def explore_gradient_flow(X: np.ndarray, y: np.ndarray, **initial):
    """The gradient-flow explorer: depth, width, activation, initializer (with
    σ for ``random_normal``) and batch normalization → per-layer gradient norms
    and activation spread, redrawn at every change.

    Args:
        X, y: the batch to measure on (e.g. 256 training images).
        initial: starting values for the controls (names as in
            :func:`compute_gradient_flow`).

    Returns:
        The widget (display it, or leave it as a cell's last expression).
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    start = dict(depth=20, width=100, activation="sigmoid", initializer="random_normal",
                 sigma=1.0, batch_norm=False)
    start = _starting_values(start, initial)
    style = {"description_width": "90px"}
    controls = {
        "depth": w.IntSlider(start["depth"], min=2, max=50, description="depth", style=style),
        "width": w.IntSlider(start["width"], min=10, max=300, step=10, description="width", style=style),
        "activation": w.Dropdown(options=ACTIVATIONS[:4], value=start["activation"],
                                 description="activation", style=style),
        "initializer": w.Dropdown(options=INITIALIZERS, value=start["initializer"],
                                  description="initializer", style=style),
        "sigma": w.FloatLogSlider(start["sigma"], base=10, min=-3, max=1, step=0.05,
                                  description="σ (random)", readout_format=".3f", style=style),
        "batch_norm": w.Checkbox(start["batch_norm"], description="batch normalization"),
    }

    def sync_sigma(change=None):
        controls["sigma"].disabled = controls["initializer"].value != "random_normal"

    controls["initializer"].observe(sync_sigma, names="value")
    sync_sigma()

    def draw(**values):
        result = compute_gradient_flow(X, y, **values)
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
        plots.plot_gradient_flow(result, axes)
        plt.show()

    out = w.interactive_output(draw, controls)
    left = w.VBox([controls[k] for k in ("depth", "width", "activation")])
    right = w.VBox([controls[k] for k in ("initializer", "sigma", "batch_norm")])
    return w.VBox([w.HBox([left, right]), out])


# --------------------------------------------------------------------------
# The initializer explorer (notebook 02).

STRATEGIES = {  # name: (scale, mode) of keras.initializers.VarianceScaling
    "glorot": (1.0, "fan_avg"),
    "he": (2.0, "fan_in"),
    "lecun": (1.0, "fan_in"),
}
MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")
# Keras's truncated normal keeps |x| < 2 stddev; this corrects its variance
_TRUNC = 0.87962566103423978


@dataclasses.dataclass
class InitializerSample:
    """What the initializer explorer shows."""

    weights: np.ndarray         # the sampled kernel, flattened
    variance: float             # the target σ² = scale / fan
    limit: float                # r = √(3σ²) for uniform, 2·stddev for truncated normal, inf otherwise
    grid: np.ndarray            # x values for the theoretical density
    density: np.ndarray         # the theoretical density on ``grid``
    spread: np.ndarray          # std of each layer's pre-activations z = hW (unit-variance inputs)
    config: dict


def variance_scaling_variance(scale: float, mode: str, fan_in: int, fan_out: int) -> float:
    """σ² = scale / fan, with fan = fan_in, fan_out or their average (``mode``)."""
    _check_choice("mode", mode, MODES)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    return scale / fan


def theoretical_density(variance: float, distribution: str, grid: np.ndarray) -> tuple[np.ndarray, float]:
    """The density Keras's ``VarianceScaling`` samples from, on ``grid``, and
    its limit (``inf`` when unbounded)."""
    _check_choice("distribution", distribution, DISTRIBUTIONS)
    if distribution == "uniform":
        r = math.sqrt(3 * variance)
        return np.where(np.abs(grid) <= r, 1 / (2 * r), 0.0), r
    std = math.sqrt(variance) / (_TRUNC if distribution == "truncated_normal" else 1.0)
    density = np.exp(-0.5 * (grid / std) ** 2) / (std * math.sqrt(2 * math.pi))
    if distribution == "untruncated_normal":
        return density, math.inf
    inside = math.erf(2 / math.sqrt(2))  # mass of a normal within ±2 std
    return np.where(np.abs(grid) <= 2 * std, density / inside, 0.0), 2 * std


def compute_initializer(mode: str = "fan_avg", distribution: str = "truncated_normal", scale: float = 1.0,
                        fan_in: int = 300, fan_out: int = 100, activation: str = "tanh",
                        depth: int = 10, seed: int = 0, n_inputs: int = 100) -> InitializerSample:
    """The initializer explorer's computation.

    Samples a ``fan_in × fan_out`` kernel with
    ``keras.initializers.VarianceScaling(scale, mode, distribution)`` and
    pushes ``n_inputs`` unit-variance random vectors through ``depth`` such
    layers (the first ``fan_in → fan_out``, then ``fan_out → fan_out``) with
    ``activation``, recording the std of each layer's pre-activations
    ``z = h W`` -- the quantity the Glorot/He argument keeps constant.

    Raises:
        ValueError: a value out of range or not among the choices.
    """
    import keras

    _check_choice("mode", mode, MODES)
    _check_choice("distribution", distribution, DISTRIBUTIONS)
    _check_choice("activation", activation, ACTIVATIONS)
    _check_int("fan_in", fan_in, 1, 10_000)
    _check_int("fan_out", fan_out, 1, 10_000)
    _check_int("depth", depth, 1, 200)
    if not scale > 0:
        raise ValueError(f"scale must be positive; got {scale!r}")

    def sample(shape, layer_seed):
        init = keras.initializers.VarianceScaling(scale=scale, mode=mode, distribution=distribution,
                                                  seed=layer_seed)
        return np.asarray(keras.ops.convert_to_numpy(init(shape)), dtype=np.float32)

    first = sample((fan_in, fan_out), seed)
    variance = variance_scaling_variance(scale, mode, fan_in, fan_out)
    extent = (1.3 * math.sqrt(3 * variance) if distribution == "uniform"
              else 3.5 * math.sqrt(variance) / (_TRUNC if distribution == "truncated_normal" else 1.0))
    grid = np.linspace(-extent, extent, 401)
    density, limit = theoretical_density(variance, distribution, grid)

    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n_inputs, fan_in)).astype(np.float32)
    spread = []
    for layer in range(depth):
        W = first if layer == 0 else sample((fan_out, fan_out), seed + layer)
        z = h @ W
        spread.append(float(z.std()))
        h = _activate(z, activation)
    return InitializerSample(first.ravel(), variance, limit, grid, density, np.array(spread),
                             dict(mode=mode, distribution=distribution, scale=scale, fan_in=fan_in,
                                  fan_out=fan_out, activation=activation, depth=depth))


def explore_initializer(**initial):
    """The initializer explorer: strategy (sets scale and mode), mode,
    distribution, scale, fan-in, fan-out and the activation of the forward
    pass → histogram of sampled weights with the theoretical density, and the
    spread of activations over depth.

    Returns:
        The widget.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    start = dict(mode="fan_avg", distribution="truncated_normal", scale=1.0, fan_in=300, fan_out=100,
                 activation="tanh")
    start = _starting_values(start, initial)
    style = {"description_width": "90px"}
    strategy = w.Dropdown(options=["glorot", "he", "lecun", "(custom)"], value="glorot",
                          description="strategy", style=style)
    controls = {
        "mode": w.Dropdown(options=MODES, value=start["mode"], description="mode", style=style),
        "distribution": w.Dropdown(options=DISTRIBUTIONS, value=start["distribution"],
                                   description="distribution", style=style),
        "scale": w.FloatSlider(start["scale"], min=0.1, max=4.0, step=0.1, description="scale", style=style),
        "fan_in": w.IntSlider(start["fan_in"], min=10, max=1000, step=10, description="fan-in", style=style),
        "fan_out": w.IntSlider(start["fan_out"], min=10, max=1000, step=10, description="fan-out", style=style),
        "activation": w.Dropdown(options=ACTIVATIONS, value=start["activation"],
                                 description="activation", style=style),
    }

    def apply_strategy(change):
        if change["new"] in STRATEGIES:
            scale, mode = STRATEGIES[change["new"]]
            with controls["scale"].hold_trait_notifications(), controls["mode"].hold_trait_notifications():
                controls["scale"].value, controls["mode"].value = scale, mode

    def mark_custom(change):
        preset = STRATEGIES.get(strategy.value)
        if preset and preset != (controls["scale"].value, controls["mode"].value):
            strategy.value = "(custom)"

    strategy.observe(apply_strategy, names="value")
    controls["scale"].observe(mark_custom, names="value")
    controls["mode"].observe(mark_custom, names="value")

    def draw(**values):
        result = compute_initializer(**values)
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
        plots.plot_initializer(result, axes)
        plt.show()

    out = w.interactive_output(draw, controls)
    left = w.VBox([strategy, controls["mode"], controls["distribution"], controls["scale"]])
    right = w.VBox([controls["fan_in"], controls["fan_out"], controls["activation"]])
    return w.VBox([w.HBox([left, right]), out])


# --------------------------------------------------------------------------
# The activation explorer (notebook 03).

ACTIVATION_FUNCTIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu", "gelu", "swish")
#: which hyperparameter each function has, and its default (Keras's)
HYPERPARAMETERS = {"leaky_relu": ("α", 0.2), "prelu": ("α", 0.25), "elu": ("α", 1.0), "swish": ("β", 1.0)}


@dataclasses.dataclass
class ActivationCurve:
    """f(z) and f′(z) of one activation function on a grid of z."""

    z: np.ndarray
    f: np.ndarray
    df: np.ndarray
    name: str
    parameter: float | None

    @property
    def label(self) -> str:
        if self.parameter is None:
            return self.name
        return f"{self.name} ({HYPERPARAMETERS[self.name][0]} = {self.parameter:g})"


def activation_and_derivative(name: str, z: np.ndarray, parameter: float | None = None) -> tuple:
    """``(f(z), f'(z))`` of an activation, in closed form.

    ``parameter`` is α for LeakyReLU (the negative slope), PReLU (its learned
    slope, here fixed) and ELU, β for Swish (z·σ(βz); β = 1 is Keras's
    ``silu``/``swish``); ignored by the others. GELU is the exact one,
    z·Φ(z), as ``keras.activations.gelu(approximate=False)``.

    Raises:
        ValueError: an unknown name.
    """
    _check_choice("activation", name, ACTIVATION_FUNCTIONS)
    z = np.asarray(z, dtype=np.float64)
    if parameter is None and name in HYPERPARAMETERS:
        parameter = HYPERPARAMETERS[name][1]
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-z))
        return s, s * (1 - s)
    if name == "tanh":
        t = np.tanh(z)
        return t, 1 - t * t
    if name == "relu":
        return np.maximum(z, 0), (z > 0).astype(float)
    if name in ("leaky_relu", "prelu"):
        return np.where(z > 0, z, parameter * z), np.where(z > 0, 1.0, parameter)
    if name == "elu":
        e = parameter * np.expm1(np.minimum(z, 0))
        return np.where(z > 0, z, e), np.where(z > 0, 1.0, e + parameter)
    if name == "selu":
        e = SELU_SCALE * SELU_ALPHA * np.expm1(np.minimum(z, 0))
        return np.where(z > 0, SELU_SCALE * z, e), np.where(z > 0, SELU_SCALE, e + SELU_SCALE * SELU_ALPHA)
    if name == "gelu":
        from math import erf, pi, sqrt

        cdf = 0.5 * (1 + np.vectorize(erf)(z / sqrt(2)))
        pdf = np.exp(-z * z / 2) / sqrt(2 * pi)
        return z * cdf, cdf + z * pdf
    s = 1 / (1 + np.exp(-parameter * z))  # swish
    return z * s, s + parameter * z * s * (1 - s)


def compute_activation(name: str = "leaky_relu", parameter: float | None = None,
                       z_min: float = -5.0, z_max: float = 5.0, n: int = 1001) -> ActivationCurve:
    """The activation explorer's computation: f and f′ on a grid.

    Raises:
        ValueError: an unknown name, a parameter out of [0, 5], or an empty range.
    """
    _check_choice("activation", name, ACTIVATION_FUNCTIONS)
    if parameter is not None and name in HYPERPARAMETERS and not 0 <= parameter <= 5:
        raise ValueError(f"{HYPERPARAMETERS[name][0]} must be between 0 and 5; got {parameter!r}")
    if not z_min < z_max:
        raise ValueError(f"z_min must be below z_max; got {z_min} and {z_max}")
    z = np.linspace(z_min, z_max, n)
    f, df = activation_and_derivative(name, z, parameter)
    used = (parameter if parameter is not None else HYPERPARAMETERS[name][1]) if name in HYPERPARAMETERS else None
    return ActivationCurve(z, f, df, name, used)


def explore_activation(name: str = "leaky_relu", compare: str | None = "relu"):
    """The activation explorer: a function and its hyperparameter (α for
    LeakyReLU/PReLU/ELU, β for Swish) → f(z) and f′(z), redrawn at every change,
    with ``compare`` drawn faintly for reference.

    Returns:
        The widget.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    _check_choice("name", name, ACTIVATION_FUNCTIONS)
    style = {"description_width": "90px"}
    function = w.Dropdown(options=ACTIVATION_FUNCTIONS, value=name, description="function", style=style)
    parameter = w.FloatSlider(HYPERPARAMETERS.get(name, ("α", 0.2))[1], min=0.0, max=3.0, step=0.01,
                              description="α / β", style=style)

    def sync(change=None):
        spec = HYPERPARAMETERS.get(function.value)
        parameter.disabled = spec is None
        if spec is not None:
            parameter.description = spec[0]
            parameter.value = spec[1]

    function.observe(sync, names="value")
    sync()

    def draw(function, parameter):
        curve = compute_activation(function, parameter if function in HYPERPARAMETERS else None)
        reference = compute_activation(compare) if compare else None
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
        plots.plot_activation(curve, axes, reference=reference)
        plt.show()

    out = w.interactive_output(draw, {"function": function, "parameter": parameter})
    return w.VBox([w.HBox([function, parameter]), out])


# --------------------------------------------------------------------------
# The batch statistics explorer (notebook 04).

BATCH_SIZES = (2, 4, 8, 16, 32, 64, 128, 256, 512)


@dataclasses.dataclass
class BatchStats:
    """What the batch statistics explorer shows for one feature."""

    batch_means: np.ndarray     # μ_B of each mini-batch, in training order
    batch_vars: np.ndarray      # σ²_B of each mini-batch
    moving_mean: np.ndarray     # the moving average after each batch
    moving_var: np.ndarray
    full_mean: float            # the statistics of the whole training set
    full_var: float
    config: dict

    @property
    def spread_of_means(self) -> float:
        """Standard deviation of the batch means across batches (≈ σ/√B)."""
        return float(self.batch_means.std())


def compute_batch_stats(values: np.ndarray, batch_size: int = 32, momentum: float = 0.99,
                        n_batches: int = 300, seed: int = 0) -> BatchStats:
    """The batch statistics explorer's computation, for one feature.

    Shuffles ``values`` (one feature over the training set), cuts it into
    mini-batches of ``batch_size`` and computes each batch's mean and
    variance, and the moving averages a ``keras.layers.BatchNormalization``
    layer keeps: ``moving = momentum · moving + (1 − momentum) · batch``,
    starting from Keras's initial moving mean 0 and moving variance 1.

    Raises:
        ValueError: a batch size below 2 or above the data, a momentum
            outside [0, 1), or a non-positive number of batches.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    _check_int("batch_size", batch_size, 2, len(values))
    _check_int("n_batches", n_batches, 1, 100_000)
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1); got {momentum!r}")
    rng = np.random.default_rng(seed)
    per_epoch = len(values) // batch_size
    means, variances = [], []
    while len(means) < n_batches:
        order = rng.permutation(len(values))[: per_epoch * batch_size].reshape(per_epoch, batch_size)
        batches = values[order]
        means.extend(batches.mean(axis=1))
        variances.extend(batches.var(axis=1))
    means, variances = np.array(means[:n_batches]), np.array(variances[:n_batches])
    moving_mean, moving_var = np.empty(n_batches), np.empty(n_batches)
    m, v = 0.0, 1.0
    for t in range(n_batches):
        m = momentum * m + (1 - momentum) * means[t]
        v = momentum * v + (1 - momentum) * variances[t]
        moving_mean[t], moving_var[t] = m, v
    return BatchStats(means, variances, moving_mean, moving_var, float(values.mean()), float(values.var()),
                      dict(batch_size=batch_size, momentum=momentum, n_batches=n_batches))


def explore_batch_stats(values: np.ndarray, feature: str = "feature", **initial):
    """The batch statistics explorer: batch size and momentum → the batch
    means and variances across mini-batches, and the moving averages
    converging toward the full-data statistics.

    Args:
        values: one feature over the training set (e.g. one pixel of every image).
        feature: its name, for the titles.

    Returns:
        The widget.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    start = dict(batch_size=32, momentum=0.99)
    start = _starting_values(start, initial)
    style = {"description_width": "90px"}
    controls = {
        "batch_size": w.SelectionSlider(options=BATCH_SIZES, value=start["batch_size"],
                                        description="batch size", style=style),
        "momentum": w.SelectionSlider(options=(0.0, 0.5, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999),
                                      value=start["momentum"], description="momentum", style=style),
    }

    def draw(batch_size, momentum):
        result = compute_batch_stats(values, batch_size, momentum)
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
        plots.plot_batch_stats(result, axes, feature=feature)
        plt.show()

    out = w.interactive_output(draw, controls)
    return w.VBox([w.HBox(list(controls.values())), out])


# --------------------------------------------------------------------------
# The clipping explorer (notebook 05).

def clip_with_optimizer(gradients, **clipping) -> list:
    """Clip ``gradients`` with a Keras optimizer's own clipping, not a
    re-implementation: one step of ``SGD(learning_rate=1, **clipping)`` on
    variables that start at 0 leaves them at minus the clipped gradients.

    Args:
        gradients: a list of arrays (one per variable).
        clipping: ``clipvalue=...``, ``clipnorm=...`` or ``global_clipnorm=...``
            (none: no clipping).

    Returns:
        The clipped gradients, as NumPy arrays.
    """
    import keras

    unknown = set(clipping) - {"clipvalue", "clipnorm", "global_clipnorm"}
    if unknown:
        raise ValueError(f"unknown clipping argument(s) {sorted(unknown)}; "
                         "valid: clipvalue, clipnorm, global_clipnorm")
    grads = [np.asarray(g, dtype=np.float32) for g in gradients]
    variables = [keras.Variable(np.zeros_like(g)) for g in grads]
    optimizer = keras.optimizers.SGD(learning_rate=1.0, **clipping)
    optimizer.apply(grads, variables)
    return [-np.asarray(keras.ops.convert_to_numpy(v.value)) for v in variables]


def _angle(vector: np.ndarray) -> float:
    return float(np.degrees(np.arctan2(vector[1], vector[0])))


@dataclasses.dataclass
class Clipping:
    """A 2-component gradient, clipped by value and by norm, with the angle
    (degrees from the first axis) of each."""

    raw: np.ndarray
    by_value: np.ndarray
    by_norm: np.ndarray
    threshold: float

    @property
    def angles(self) -> dict:
        return {"raw": _angle(self.raw), "clipvalue": _angle(self.by_value), "clipnorm": _angle(self.by_norm)}

    @property
    def turned_by_value(self) -> float:
        """How many degrees value clipping turned the gradient."""
        return abs(self.angles["clipvalue"] - self.angles["raw"])


def compute_clipping(g1: float = 0.9, g2: float = 100.0, threshold: float = 1.0) -> Clipping:
    """The clipping explorer's computation: the gradient ``[g1, g2]`` clipped
    by ``SGD(clipvalue=threshold)`` and by ``SGD(clipnorm=threshold)``.

    Raises:
        ValueError: a threshold that is not positive.
    """
    if not threshold > 0:
        raise ValueError(f"threshold must be positive; got {threshold!r}")
    raw = np.array([g1, g2], dtype=np.float32)
    (by_value,) = clip_with_optimizer([raw], clipvalue=threshold)
    (by_norm,) = clip_with_optimizer([raw], clipnorm=threshold)
    return Clipping(raw, by_value, by_norm, float(threshold))


def explore_clipping(g1: float = 0.9, g2: float = 100.0, threshold: float = 1.0):
    """The clipping explorer: the two gradient components and the threshold →
    the raw, value-clipped and norm-clipped vectors as arrows, with their angles.

    Returns:
        The widget.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    style = {"description_width": "90px"}
    controls = {
        "g1": w.FloatSlider(g1, min=-10, max=10, step=0.1, description="∂L/∂w₁", style=style),
        "g2": w.FloatSlider(g2, min=-100, max=100, step=0.5, description="∂L/∂w₂", style=style),
        "threshold": w.FloatLogSlider(threshold, base=10, min=-1, max=2, step=0.05,
                                      description="threshold", style=style),
    }

    def draw(g1, g2, threshold):
        result = compute_clipping(g1, g2, threshold)
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
        plots.plot_clipping(result, axes)
        plt.show()

    out = w.interactive_output(draw, controls)
    return w.VBox([w.HBox(list(controls.values())), out])


# --------------------------------------------------------------------------
# Transfer explorer: a lookup in the grid the notebook computed.

@dataclasses.dataclass(frozen=True)
class TransferChoice:
    """One cell of a :class:`lecture_utils.transfer.TransferGrid`, with the
    curves through it. Accuracies are over the grid's seeds."""
    grid: object
    n_reused: int
    n_images: int

    @property
    def i(self) -> int:
        return self.grid.n_reused.index(self.n_reused)

    @property
    def j(self) -> int:
        return self.grid.n_images.index(self.n_images)

    @property
    def scratch(self) -> np.ndarray:
        """B alone at the chosen number of images, one accuracy per seed."""
        return self.grid.scratch[self.j]

    @property
    def on_a(self) -> np.ndarray:
        """B on A at the chosen layers and images, one accuracy per seed."""
        return self.grid.on_a[self.i, self.j]

    @property
    def error_ratio(self) -> float:
        """B alone's mean error rate over B on A's: above 1, transfer helped."""
        on_a_error = 1 - self.on_a.mean()
        return math.inf if on_a_error == 0 else float((1 - self.scratch.mean()) / on_a_error)


def compute_transfer(grid, n_reused: int, n_images: int) -> TransferChoice:
    """The transfer explorer's computation: look up B alone and B on A at
    ``n_reused`` reused layers and ``n_images`` task-B training images.

    Raises:
        ValueError: a value the grid was not computed for (the message lists
            the ones it was).
    """
    _check_choice("n_reused", n_reused, grid.n_reused)
    _check_choice("n_images", n_images, grid.n_images)
    return TransferChoice(grid, int(n_reused), int(n_images))


def explore_transfer(grid, **initial):
    """The transfer explorer: the number of reused layers and of task-B
    training images → test accuracy of B alone vs B on A, looked up in
    ``grid`` (computed beforehand, so the sliders answer at once).

    Returns:
        The widget.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    values = _starting_values({"n_reused": grid.n_reused[-1], "n_images": grid.n_images[0]}, initial)
    compute_transfer(grid, **values)  # bad starting values fail here, before any widget
    style = {"description_width": "140px"}
    layout = w.Layout(width="420px")
    controls = {
        "n_reused": w.SelectionSlider(options=list(grid.n_reused), value=values["n_reused"],
                                      description="layers reused from A", style=style, layout=layout),
        "n_images": w.SelectionSlider(options=list(grid.n_images), value=values["n_images"],
                                      description="task-B images", style=style, layout=layout),
    }

    def draw(n_reused, n_images):
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
        plots.plot_transfer(compute_transfer(grid, n_reused, n_images), axes)
        plt.show()

    out = w.interactive_output(draw, controls)
    return w.VBox([w.HBox(list(controls.values())), out])
