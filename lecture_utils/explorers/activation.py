"""The activation explorer (notebook 03): a function and its hyperparameter
-> f(z) and f'(z), with a reference function drawn faintly."""

from __future__ import annotations

import dataclasses

import numpy as np

from ._checks import check_choice
from .live import Explorer, static_figure, sticky_limits, sticky_range
from .mlp import SELU_ALPHA, SELU_SCALE

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
    check_choice("activation", name, ACTIVATION_FUNCTIONS)
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
    check_choice("activation", name, ACTIVATION_FUNCTIONS)
    if parameter is not None and name in HYPERPARAMETERS and not 0 <= parameter <= 5:
        raise ValueError(f"{HYPERPARAMETERS[name][0]} must be between 0 and 5; got {parameter!r}")
    if not z_min < z_max:
        raise ValueError(f"z_min must be below z_max; got {z_min} and {z_max}")
    z = np.linspace(z_min, z_max, n)
    f, df = activation_and_derivative(name, z, parameter)
    used = (parameter if parameter is not None else HYPERPARAMETERS[name][1]) if name in HYPERPARAMETERS else None
    return ActivationCurve(z, f, df, name, used)


def keras_code(values: dict) -> str:
    """The Keras layer of the function shown: executed, it binds ``layer``,
    which computes the curve on the left (``layer(z)``)."""
    name, p = values["function"], values["parameter"]
    layer = {
        "leaky_relu": f"keras.layers.LeakyReLU(negative_slope={p:g})",
        "prelu": f"keras.layers.PReLU(alpha_initializer=keras.initializers.Constant({p:g}))"
                 "  # α is learned; it starts here",
        "elu": f"keras.layers.ELU(alpha={p:g})",
        "swish": ("keras.layers.Activation(\"swish\")" if p == 1 else
                  f"keras.layers.Activation(lambda z: z * keras.ops.sigmoid({p:g} * z))  # swish with β = {p:g}"),
        "gelu": "keras.layers.Activation(\"gelu\")  # the exact z·Φ(z)",
    }.get(name, f"keras.layers.Activation({name!r})")
    lines = ["import keras", "", f"layer = {layer}"]
    if name == "selu":
        lines.append("# with kernel_initializer=\"lecun_normal\" in each Dense layer, for self-normalization")
    return "\n".join(lines) + "\n"


#: one click each: the functions of the lecture and their hyperparameters
PRESETS = {
    "ReLU": dict(function="relu"),
    "LeakyReLU α = 0.01": dict(function="leaky_relu", parameter=0.01),
    "LeakyReLU α = 0.3": dict(function="leaky_relu", parameter=0.3),
    "ELU α = 1": dict(function="elu", parameter=1.0),
    "SELU": dict(function="selu"),
    "Swish β = 5": dict(function="swish", parameter=5.0),
    "sigmoid": dict(function="sigmoid"),
}


class ActivationView:
    """f(z) on the left, f′(z) on the right; the reference faintly behind."""

    def __init__(self, axes):
        self.axes = axes
        self.curves, self.references = [], []
        for ax, title in zip(axes, ("f(z)", "f′(z)")):
            (reference,) = ax.plot([], [], color="gray", lw=1.5, alpha=0.5)
            (curve,) = ax.plot([], [], lw=2.5)
            ax.axhline(0, color="black", lw=0.6)
            ax.axvline(0, color="black", lw=0.6)
            ax.set_xlabel("z")
            ax.set_ylabel(title)
            self.curves.append(curve)
            self.references.append(reference)
        self.legends = []
        self._key = None
        self._first = True

    def update(self, pair):
        curve, reference = pair
        shown_reference = reference is not None and reference.name != curve.name
        for ax, line, ref, values, ref_values, title in zip(
                self.axes, self.curves, self.references, (curve.f, curve.df),
                (reference and reference.f, reference and reference.df), ("f(z)", "f′(z)")):
            line.set_data(curve.z, values)
            ref.set_data((reference.z, ref_values) if shown_reference else ([], []))
            ax.set_title(f"{curve.label}: {title}")
            ax.set_xlim(curve.z[0], curve.z[-1])
        left, right = self.axes
        f = np.concatenate([curve.f] + ([reference.f] if shown_reference else []))
        low, high = np.nanmin(f), np.nanmax(f)
        left.set_ylim(sticky_limits(None if self._first else left.get_ylim(), low, high, slack=2.5))
        low, high = np.nanmin(curve.df), np.nanmax(curve.df)
        need = (min(-0.1, low - 0.1), max(1.2, high + 0.1))
        right.set_ylim(sticky_range(None if self._first else right.get_ylim(), need, 2))
        key = (curve.name, reference.name if shown_reference else None)
        if key != self._key:  # the legend names the functions only: new one when they change
            for legend in self.legends:
                legend.remove()
            for line, ref in zip(self.curves, self.references):
                line.set_label(curve.name)
                ref.set_label(reference.label if shown_reference else "_")
            self.legends = [ax.legend(handles=[r, c] if shown_reference else [c], loc="upper left",
                                      framealpha=1) for ax, r, c in zip(self.axes, self.references, self.curves)]
            self._key = key
        self._first = False

    def static_key(self):
        return ()

    def dynamic(self):
        return [*self.curves, *self.references, *(ax.title for ax in self.axes)]

    def overlays(self):
        return self.legends


def activation_in_words(pair) -> str:
    """The figure in words (its text alternative), from the numbers it draws:
    ``pair`` is (curve, reference), as the view takes it."""
    curve, reference = pair
    z, df = curve.z, curve.df
    left, middle, right = df[0], float(np.interp(0.0, z, df)), df[-1]
    if abs(left) < 0.05 and abs(right) < 0.05:
        verdict = "flat on both sides: it saturates, and its gradient vanishes there"
    elif left == 0:
        verdict = "flat for negative z: a unit whose inputs stay negative gets no gradient and can die"
    elif abs(left) < 0.05:
        verdict = "almost flat for large negative z, but never exactly 0"
    else:
        verdict = "a slope away from 0 everywhere: no unit stops learning"
    text = (f"{curve.label} and its derivative for z from {z[0]:g} to {z[-1]:g}: the slope f′ is {left:.2g} at "
            f"z = {z[0]:g}, {middle:.2g} at 0 and {right:.2g} at z = {z[-1]:g}; {verdict}")
    if reference is not None and reference.name != curve.name:
        text += f" ({reference.label} drawn in grey for comparison)"
    return text


def plot_activation(curve: ActivationCurve, axes=None, reference: ActivationCurve | None = None):
    """The activation explorer's figure, drawn once. Returns the two axes."""
    return static_figure(ActivationView, (curve, reference), axes)


def explore_activation(name: str = "leaky_relu", compare: str | None = "relu"):
    """The activation explorer: a function and its hyperparameter (α for
    LeakyReLU/PReLU/ELU, β for Swish) → f(z) and f′(z), updated at every
    change, with ``compare`` drawn faintly for reference.

    Returns:
        The widget.
    """
    import ipywidgets as w

    check_choice("name", name, ACTIVATION_FUNCTIONS)
    if compare is not None:
        check_choice("compare", compare, ACTIVATION_FUNCTIONS)
    style = {"description_width": "90px"}
    controls = {
        "function": w.Dropdown(options=ACTIVATION_FUNCTIONS, value=name, description="function", style=style),
        "parameter": w.FloatSlider(HYPERPARAMETERS.get(name, ("α", 0.2))[1], min=0.0, max=5.0, step=0.01,
                                   description="α / β", style=style),
    }
    function, parameter = controls["function"], controls["parameter"]

    def sync(change=None):
        spec = HYPERPARAMETERS.get(function.value)
        parameter.disabled = spec is None
        if spec is not None:
            parameter.description = spec[0]
            if change is not None:  # a new function starts at its Keras default
                parameter.value = spec[1]

    function.observe(sync, names="value")
    sync()
    reference = compute_activation(compare) if compare else None

    def compute(values):
        has = values["function"] in HYPERPARAMETERS
        return compute_activation(values["function"], values["parameter"] if has else None), reference

    def describe(values):
        return compute(values)[0].label

    explorer = Explorer(controls, compute, ActivationView, [["function"], ["parameter"]], presets=PRESETS,
                        code=keras_code, describe=describe, words=activation_in_words)
    return explorer.widget
