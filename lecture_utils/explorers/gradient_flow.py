"""The gradient-flow explorer (notebook 01): depth, width, activation,
initializer and batch normalization -> the gradient norm of every layer and
the spread of every hidden layer's outputs, for a freshly initialized MLP on
one batch (computed by :mod:`.mlp`, in float32 as Keras trains)."""

from __future__ import annotations

import math

import numpy as np

from ._checks import check_choice, check_int, starting_values
from .live import Explorer, ratio_in_words, static_figure, sticky_limits
from .mlp import ACTIVATIONS, INITIALIZERS, GradientFlow, init_mlp, mlp_gradient_flow
from .. import palette

#: the batch the preview uses while a control moves (the exact result uses all of it)
PREVIEW_IMAGES = 64

#: the notebook's "things to try", one click each
PRESETS = {
    "50 sigmoid layers, Glorot": dict(depth=50, width=100, activation="sigmoid", initializer="glorot",
                                      batch_norm=False),
    "… with batch normalization": dict(depth=50, width=100, activation="sigmoid", initializer="glorot",
                                       batch_norm=True),
    "ReLU, N(0, 0.5²)": dict(depth=20, width=100, activation="relu", initializer="random_normal", sigma=0.5,
                             batch_norm=False),
    "ReLU, He": dict(depth=20, width=100, activation="relu", initializer="he", batch_norm=False),
    "SELU, LeCun": dict(depth=20, width=100, activation="selu", initializer="lecun", batch_norm=False),
}


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
    check_int("depth", depth, 1, 100)
    check_int("width", width, 1, 2000)
    check_choice("activation", activation, ACTIVATIONS)
    if not sigma > 0:
        raise ValueError(f"sigma must be positive; got {sigma!r}")
    kernels = init_mlp(int(np.prod(np.shape(X)[1:])), depth, width, 10, initializer, sigma, seed)
    with np.errstate(all="ignore"):  # overflow and underflow are results here, not accidents
        flow = mlp_gradient_flow(X, y, kernels, activation, batch_norm)
    flow.config.update(depth=depth, width=width, initializer=initializer, sigma=sigma)
    return flow


def describe(config: dict) -> str:
    """``20 × 100 sigmoid, N(0, 0.05²) + BN``: a configuration in a line."""
    init = config.get("initializer", "")
    if init == "random_normal":
        init = f"N(0, {config['sigma']:.3g}²)"
    bn = " + BN" if config.get("batch_norm") else ""
    return f"{config.get('depth')} × {config.get('width')} {config.get('activation')}, {init}{bn}"


def gradient_flow_in_words(flow: GradientFlow) -> str:
    """The figure in words (its text alternative), from the numbers it draws."""
    norms = np.asarray(flow.grad_norms, dtype=float)
    parts = [describe(flow.config) + ", one batch at initialization"]
    if np.isfinite(norms).all():
        parts.append(f"gradient norm per layer from {norms[-1]:.1e} at the output layer to {norms[0]:.1e} at "
                     f"layer 1; {ratio_in_words(flow.ratio)}")
    else:
        parts.append(f"{int((~np.isfinite(norms)).sum())} of {len(norms)} layers' gradients are inf or NaN: "
                     "they exploded")
    std = np.asarray(flow.act_std, dtype=float)
    activations = f"hidden layers' output std {std[0]:.2g} at layer 1, {std[-1]:.2g} at layer {len(std)}"
    for name, share in (("saturated", flow.saturated), ("dead", flow.dead)):
        share = np.asarray(share, dtype=float)
        if not np.all(np.isnan(share)):
            activations += f", {100 * np.nanmax(share):.0f}% {name} at most"
    return "; ".join(parts + [activations])


# the table's variances as keras.initializers.VarianceScaling arguments (untruncated
# normal: what init_mlp draws from; Keras's glorot_normal etc. truncate at 2σ)
_SCALING = {"glorot": (1.0, "fan_avg"), "he": (2.0, "fan_in"), "lecun": (1.0, "fan_in")}


def keras_code(values: dict, input_shape=(28, 28)) -> str:
    """The Keras code of the network the explorer computes on: executed, it
    binds ``model``, a ``keras.Sequential`` of the same layers, sizes,
    activation, initializer distribution and normalization."""
    depth, width, activation = values["depth"], values["width"], values["activation"]
    if values["initializer"] == "random_normal":
        init = f"keras.initializers.RandomNormal(mean=0.0, stddev={values['sigma']:.6g})"
    else:
        scale, mode = _SCALING[values["initializer"]]
        init = (f"keras.initializers.VarianceScaling(scale={scale}, mode={mode!r}, "
                f"distribution=\"untruncated_normal\")  # {values['initializer']}")
    lines = ["import keras", "", f"initializer = {init}",
             f"layers = [keras.Input(shape={tuple(input_shape)!r}), keras.layers.Flatten()]",
             f"for _ in range({depth}):"]
    if values["batch_norm"]:
        lines += [f"    layers += [keras.layers.Dense({width}, kernel_initializer=initializer, use_bias=False),",
                  "               keras.layers.BatchNormalization(),",
                  f"               keras.layers.Activation({activation!r})]"]
    else:
        lines += [f"    layers.append(keras.layers.Dense({width}, activation={activation!r}, "
                  "kernel_initializer=initializer))"]
    lines += ["layers.append(keras.layers.Dense(10, activation=\"softmax\", kernel_initializer=initializer))",
              "model = keras.Sequential(layers)"]
    return "\n".join(lines) + "\n"


class GradientFlowView:
    """Left: per-layer gradient norms (log scale, output layer last, layers
    whose gradient underflowed to 0 marked); right: the mean, std and
    saturated or dead share of every hidden layer's outputs."""

    def __init__(self, axes):
        self.left, self.right = left, right = axes
        left.set_yscale("log")
        (self.norms,) = left.plot([], [], "o-", markersize=3)
        (self.output,) = left.plot([], [], "s", color=palette.PURPLE, label="output layer")
        (self.zeros,) = left.plot([], [], "v", color=palette.VERMILLION, label="exactly 0 (float32 underflow)")
        self.overflow = left.text(0.5, 0.5, "", transform=left.transAxes, ha="center", color=palette.PURPLE, fontsize=12)
        left.set_xlabel("layer (1 = nearest the input)")
        left.set_ylabel("gradient norm ‖∂L/∂W‖")
        (self.std,) = right.plot([], [], "o-", markersize=3, label="std")
        (self.mean,) = right.plot([], [], "s--", markersize=3, label="mean", alpha=0.7)
        (self.share,) = right.plot([], [], ":", color=palette.PURPLE, lw=2)
        right.set_xlabel("hidden layer")
        right.set_ylabel("activation statistic")
        right.set_title("Activations")
        self.title = left.figure.suptitle("", fontsize=13)
        self.legends = []
        self._legend_key = None
        self._first = True

    def update(self, flow: GradientFlow):
        left, right = self.left, self.right
        layers = np.arange(1, len(flow.grad_norms) + 1)
        norms = np.asarray(flow.grad_norms, dtype=float)
        finite = np.isfinite(norms)
        positive = finite & (norms > 0)
        self.norms.set_data(layers[positive], norms[positive])
        self.output.set_data(layers[-1:] if positive[-1] else [], norms[-1:] if positive[-1] else [])
        floor = norms[positive].min() if positive.any() else 1.0
        zero = finite & (norms == 0)
        self.zeros.set_data(layers[zero], np.full(zero.sum(), floor))
        self.overflow.set_text(f"{(~finite).sum()} layers overflowed (inf/NaN)" if not finite.all() else "")
        n = len(layers)
        left.set_xlim(self._xlim(None if self._first else left.get_xlim(), n))
        if positive.any():
            ylim = sticky_limits(None if self._first else left.get_ylim(),
                                 norms[positive].min() / 2, norms[positive].max() * 2, log=True, slack=4)
            left.set_ylim(ylim)
        ratio = flow.ratio
        shown = "overflow" if not np.isfinite(ratio) else "0 (underflow)" if ratio == 0 else f"{ratio:.1e}"
        left.set_title(f"Gradients: first/last = {shown}")

        hidden = np.arange(1, len(flow.act_std) + 1)
        self.std.set_data(hidden, flow.act_std)
        self.mean.set_data(hidden, flow.act_mean)
        share = flow.saturated if not np.all(np.isnan(flow.saturated)) else flow.dead
        label = "saturated share" if not np.all(np.isnan(flow.saturated)) else "dead share"
        has_share = not np.all(np.isnan(share))
        self.share.set_data(hidden if has_share else [], share if has_share else [])
        self.share.set_label(label)
        right.set_xlim(left.get_xlim())  # the same layers under each other
        values = np.concatenate([flow.act_std, flow.act_mean, np.nan_to_num(flow.saturated),
                                 np.nan_to_num(flow.dead)])
        values = values[np.isfinite(values)]
        if values.size:  # room above the lines for the legend
            low, high = min(0.0, values.min() * 1.1), max(1.0, values.max()) * 1.35
            current = None if self._first else right.get_ylim()
            if current is None or not (current[0] <= low and high <= current[1]
                                       and current[1] - current[0] <= 3 * (high - low)):
                current = (low, high)
            right.set_ylim(current)
        left_handles = tuple(h for h in (self.output, self.zeros) if len(h.get_xdata()))
        right_handles = (self.std, self.mean) + ((self.share,) if has_share else ())
        key = (left_handles, right_handles, label)
        if key != self._legend_key:  # legends change only with what is drawn: new ones then
            for legend in self.legends:
                legend.remove()
            self.legends = [right.legend(handles=list(right_handles), loc="upper right", ncol=2, fontsize=9,
                                         framealpha=1)]
            if left_handles:
                self.legends.append(left.legend(handles=list(left_handles), loc="best", framealpha=1))
            self._legend_key = key
        self.title.set_text(describe(flow.config))
        self._first = False

    @staticmethod
    def _xlim(current, n):
        """0.5 to a multiple of 10 above ``n``, kept while ``n`` still fits."""
        if current is not None and n + 0.5 <= current[1] <= n + 10.5:
            return current
        return 0.5, 10 * math.ceil(n / 10) + 0.5

    def static_key(self):
        return ()

    def dynamic(self):
        return [self.norms, self.output, self.zeros, self.overflow, self.std, self.mean, self.share,
                self.left.title, self.right.title, self.title]

    def overlays(self):
        return self.legends


def plot_gradient_flow(flow: GradientFlow, axes=None):
    """The gradient-flow explorer's figure, drawn once (two new axes if
    ``axes`` is None). Returns the two axes."""
    return static_figure(GradientFlowView, flow, axes)


def explore_gradient_flow(X: np.ndarray, y: np.ndarray, **initial):
    """The gradient-flow explorer: depth, width, activation, initializer (with
    σ for ``random_normal``) and batch normalization → per-layer gradient norms
    and activation spread, updated at every change. At a size where the exact
    computation is slow, a preview on the first ``PREVIEW_IMAGES`` images is
    shown while a control moves.

    Args:
        X, y: the batch to measure on (e.g. 256 training images).
        initial: starting values for the controls (names as in
            :func:`compute_gradient_flow`).

    Returns:
        The widget (display it, or leave it as a cell's last expression).
    """
    import ipywidgets as w

    start = dict(depth=20, width=100, activation="sigmoid", initializer="random_normal",
                 sigma=1.0, batch_norm=False)
    start = starting_values(start, initial)
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
    n = min(PREVIEW_IMAGES, len(X))
    explorer = Explorer(
        controls, lambda v: compute_gradient_flow(X, y, **v), GradientFlowView,
        [["depth", "width", "activation"], ["initializer", "sigma", "batch_norm"]],
        presets=PRESETS, code=lambda v: keras_code(v, np.shape(X)[1:]), describe=describe,
        words=gradient_flow_in_words,
        preview=lambda v: compute_gradient_flow(X[:n], y[:n], **v),
        preview_note=f"on {n} of the {len(X)} images")
    return explorer.widget
