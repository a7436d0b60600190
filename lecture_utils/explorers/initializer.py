"""The initializer explorer (notebook 02): keras.initializers.VarianceScaling's
arguments -> a histogram of a sampled kernel over the density it is drawn
from, and the spread of the pre-activations through a stack of such layers."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ._checks import check_choice, check_int, starting_values
from .live import Explorer, static_figure, sticky_limits, sticky_range
from .mlp import ACTIVATIONS, activate
from .. import palette

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
    check_choice("mode", mode, MODES)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    return scale / fan


def theoretical_density(variance: float, distribution: str, grid: np.ndarray) -> tuple[np.ndarray, float]:
    """The density Keras's ``VarianceScaling`` samples from, on ``grid``, and
    its limit (``inf`` when unbounded)."""
    check_choice("distribution", distribution, DISTRIBUTIONS)
    if distribution == "uniform":
        r = math.sqrt(3 * variance)
        return np.where(np.abs(grid) <= r, 1 / (2 * r), 0.0), r
    std = math.sqrt(variance) / (_TRUNC if distribution == "truncated_normal" else 1.0)
    density = np.exp(-0.5 * (grid / std) ** 2) / (std * math.sqrt(2 * math.pi))
    if distribution == "untruncated_normal":
        return density, math.inf
    inside = math.erf(2 / math.sqrt(2))  # mass of a normal within ±2 std
    return np.where(np.abs(grid) <= 2 * std, density / inside, 0.0), 2 * std


def numpy_variance_scaling(shape, scale: float, mode: str, distribution: str,
                           rng: np.random.Generator) -> np.ndarray:
    """A kernel drawn by NumPy from the distribution
    ``keras.initializers.VarianceScaling(scale, mode, distribution)`` samples
    from (the same law; not the same numbers)."""
    variance = variance_scaling_variance(scale, mode, shape[0], shape[1])
    if distribution == "uniform":
        r = math.sqrt(3 * variance)
        return rng.uniform(-r, r, shape).astype(np.float32)
    if distribution == "untruncated_normal":
        return (rng.standard_normal(shape) * math.sqrt(variance)).astype(np.float32)
    x = rng.standard_normal(shape)
    outside = np.abs(x) >= 2
    while outside.any():  # redraw what falls beyond two standard deviations, as Keras does
        x[outside] = rng.standard_normal(outside.sum())
        outside = np.abs(x) >= 2
    return (x * math.sqrt(variance) / _TRUNC).astype(np.float32)


def compute_initializer(mode: str = "fan_avg", distribution: str = "truncated_normal", scale: float = 1.0,
                        fan_in: int = 300, fan_out: int = 100, activation: str = "tanh",
                        depth: int = 10, seed: int = 0, n_inputs: int = 100,
                        sampler: str = "keras") -> InitializerSample:
    """The initializer explorer's computation.

    Samples a ``fan_in × fan_out`` kernel with
    ``keras.initializers.VarianceScaling(scale, mode, distribution)`` and
    pushes ``n_inputs`` unit-variance random vectors through ``depth`` such
    layers (the first ``fan_in → fan_out``, then ``fan_out → fan_out``) with
    ``activation``, recording the std of each layer's pre-activations
    ``z = h W`` -- the quantity the Glorot/He argument keeps constant.

    With ``sampler="numpy"`` the kernels come from NumPy's generator, drawn
    from the same distribution (the explorer's preview while a control moves:
    Keras's sampling dominates the time of a 1000 × 1000 stack).

    Raises:
        ValueError: a value out of range or not among the choices.
    """
    import keras

    check_choice("mode", mode, MODES)
    check_choice("distribution", distribution, DISTRIBUTIONS)
    check_choice("activation", activation, ACTIVATIONS)
    check_int("fan_in", fan_in, 1, 10_000)
    check_int("fan_out", fan_out, 1, 10_000)
    check_int("depth", depth, 1, 200)
    if not scale > 0:
        raise ValueError(f"scale must be positive; got {scale!r}")

    check_choice("sampler", sampler, ("keras", "numpy"))
    rng_w = np.random.default_rng(seed)

    def sample(shape, layer_seed):
        if sampler == "numpy":
            return numpy_variance_scaling(shape, scale, mode, distribution, rng_w)
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
        h = activate(z, activation)
    return InitializerSample(first.ravel(), variance, limit, grid, density, np.array(spread),
                             dict(mode=mode, distribution=distribution, scale=scale, fan_in=fan_in,
                                  fan_out=fan_out, activation=activation, depth=depth))



def describe(values: dict) -> str:
    return (f"VarianceScaling(scale={values['scale']:g}, mode={values['mode']!r}, "
            f"distribution={values['distribution']!r}), {values['fan_in']} × {values['fan_out']}, "
            f"{values['activation']}")


def keras_code(values: dict, depth: int = 10, seed: int = 0) -> str:
    """The Keras code of the stack the explorer samples: executed, it binds
    ``model``, whose kernels are the explorer's (same initializer, same seeds)."""
    init = (f"keras.initializers.VarianceScaling(scale={values['scale']:g}, mode={values['mode']!r}, "
            f"distribution={values['distribution']!r}, seed={seed} + i)")
    return "\n".join([
        "import keras", "",
        f"# {depth} layers: the first {values['fan_in']} → {values['fan_out']}, "
        f"then {values['fan_out']} → {values['fan_out']}; z = hW is what the right panel measures",
        "model = keras.Sequential(",
        f"    [keras.Input(shape=({values['fan_in']},))]",
        f"    + [keras.layers.Dense({values['fan_out']}, activation={values['activation']!r}, use_bias=False,",
        f"                          kernel_initializer={init})",
        f"       for i in range({depth})])",
        "kernel = keras.ops.convert_to_numpy(model.layers[0].kernel)  # the histogram on the left",
    ]) + "\n"


#: the notebook's "things to try", one click each
PRESETS = {
    "He + tanh": dict(scale=2.0, mode="fan_in", activation="tanh", fan_in=300, fan_out=100),
    "He + ReLU": dict(scale=2.0, mode="fan_in", activation="relu", fan_in=300, fan_out=100),
    "Glorot + ReLU": dict(scale=1.0, mode="fan_avg", activation="relu", fan_in=300, fan_out=100),
    "1000 × 10, fan_in": dict(scale=1.0, mode="fan_in", fan_in=1000, fan_out=10),
    "1000 × 10, fan_out": dict(scale=1.0, mode="fan_out", fan_in=1000, fan_out=10),
    "1000 × 10, fan_avg": dict(scale=1.0, mode="fan_avg", fan_in=1000, fan_out=10),
}


class InitializerView:
    """Left: the sampled weights' histogram over the theoretical density
    (dotted: the limits); right: the std of z = hW through the layers."""

    def __init__(self, axes):
        self.left, self.right = left, right = axes
        self.hist = left.stairs(np.zeros(60), np.linspace(-1, 1, 61), fill=True, alpha=0.6, zorder=1.6,
                                label="sampled weights")
        (self.theory,) = left.plot([], [], color=palette.PURPLE, label="theoretical density")
        self.limits = [left.axvline(0, color="gray", linestyle=":") for _ in range(2)]
        self.numbers = left.text(0.02, 0.97, "", transform=left.transAxes, va="top", fontsize=9)
        left.set_xlabel("weight value")
        left.set_ylabel("density")
        self.legends = [left.legend(loc="upper right", fontsize=9, framealpha=1)]
        (self.spread,) = right.semilogy([], [], "o-", markersize=3)
        right.axhline(1.0, color="gray", linestyle=":")
        right.set_xlabel("layer")
        right.set_ylabel("std of z = hW (log scale)")
        self._first = True

    def update(self, sample: InitializerSample):
        left, right, c = self.left, self.right, sample.config
        values, edges = np.histogram(sample.weights, bins=60, range=(sample.grid[0], sample.grid[-1]),
                                     density=True)
        self.hist.set_data(values, edges)
        self.theory.set_data(sample.grid, sample.density)
        for line, x in zip(self.limits, (-sample.limit, sample.limit)):
            line.set_visible(bool(np.isfinite(x)))
            if np.isfinite(x):
                line.set_xdata([x, x])
        self.numbers.set_text(f"σ² = {sample.variance:.2e} (target)\n{sample.weights.var():.2e} (sampled)")
        extent = float(sample.grid[-1])
        left.set_xlim(sticky_range(None if self._first else left.get_xlim(), (-extent, extent), 2.5, 1.3))
        top = max(float(values.max()), float(np.max(sample.density))) * 1.25
        # room to grow: a new background every few frames, not every one
        left.set_ylim(sticky_range(None if self._first else left.get_ylim(), (0.0, top), 2, 1.4))
        left.set_title(f"{c['fan_in']}×{c['fan_out']} kernel, {c['distribution']}, "
                       f"scale {c['scale']:g}/{c['mode']}")
        layers = np.arange(1, len(sample.spread) + 1)
        spread = np.maximum(sample.spread, 1e-30)
        self.spread.set_data(layers, spread)
        right.set_xlim(0.5, len(layers) + 0.5)
        finite = spread[np.isfinite(spread)]
        if finite.size:  # at least 0.1 to 10, so that sampling noise does not look like a trend
            right.set_ylim(sticky_limits(None if self._first else right.get_ylim(),
                                         min(0.1, finite.min() / 2), max(10.0, finite.max() * 2), log=True))
        right.set_title(f"Forward spread through {c['depth']} {c['activation']} layers")
        self._first = False

    def static_key(self):
        return ()

    def dynamic(self):
        return [self.hist, self.theory, *self.limits, self.numbers, self.spread, self.left.title,
                self.right.title]

    def overlays(self):
        return self.legends


def initializer_in_words(sample: InitializerSample) -> str:
    """The figure in words (its text alternative), from the numbers it draws."""
    c, spread = sample.config, np.asarray(sample.spread, dtype=float)
    last = spread[-1]
    verdict = ("the signal keeps its scale (within a factor of 2 of 1)" if 0.5 <= last <= 2 else
               "the signal shrinks layer after layer" if last < 0.5 else "the signal grows layer after layer")
    return (f"{c['fan_in']}×{c['fan_out']} kernel, {c['distribution']}, scale {c['scale']:g}/{c['mode']}: "
            f"histogram of the sampled weights over the theoretical density, variance {sample.weights.var():.2e} "
            f"sampled against {sample.variance:.2e} targeted; the std of z through {c['depth']} {c['activation']} "
            f"layers goes from {spread[0]:.2g} at layer 1 to {last:.2g} at layer {len(spread)}: {verdict}")


def plot_initializer(sample: InitializerSample, axes=None):
    """The initializer explorer's figure, drawn once. Returns the two axes."""
    return static_figure(InitializerView, sample, axes)


def explore_initializer(**initial):
    """The initializer explorer: strategy (sets scale and mode), mode,
    distribution, scale, fan-in, fan-out and the activation of the forward
    pass → histogram of sampled weights with the theoretical density, and the
    spread of activations over depth. While a control moves on a large
    kernel, a preview drawn by NumPy (the same distribution) is shown.

    Returns:
        The widget.
    """
    import ipywidgets as w

    start = dict(mode="fan_avg", distribution="truncated_normal", scale=1.0, fan_in=300, fan_out=100,
                 activation="tanh")
    start = starting_values(start, initial)
    style = {"description_width": "90px"}
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
    named = [name for name, preset in STRATEGIES.items() if preset == (start["scale"], start["mode"])]
    strategy = w.Dropdown(options=["glorot", "he", "lecun", "(custom)"], value=(named or ["(custom)"])[0],
                          description="strategy", style=style)

    def apply_strategy(change):
        if change["new"] in STRATEGIES:
            scale, mode = STRATEGIES[change["new"]]
            explorer.apply(scale=scale, mode=mode)

    def name_strategy(change):  # scale and mode set by hand (or a preset): which strategy that is
        # (the scale as the page's log slider sends it back: 10 ** log10(1.0) is 1.0000000000000002)
        named = [n for n, (scale, mode) in STRATEGIES.items()
                 if math.isclose(controls["scale"].value, scale, rel_tol=1e-9) and controls["mode"].value == mode]
        if strategy.value != (named or ["(custom)"])[0]:
            strategy.value = (named or ["(custom)"])[0]

    explorer = Explorer(
        controls, lambda v: compute_initializer(**v), InitializerView,
        [[strategy, "mode", "distribution", "scale"], ["fan_in", "fan_out", "activation"]],
        presets=PRESETS, code=keras_code, describe=describe, words=initializer_in_words,
        preview=lambda v: compute_initializer(**v, sampler="numpy"),
        preview_note="kernels drawn by NumPy from the same distribution, not by Keras")
    strategy.observe(apply_strategy, names="value")
    controls["scale"].observe(name_strategy, names="value")
    controls["mode"].observe(name_strategy, names="value")
    explorer.strategy = strategy
    return explorer.widget
