"""The clipping explorer (notebook 05): a two-component gradient and a
threshold -> what Keras's SGD(clipvalue=...) and SGD(clipnorm=...) make of it."""

from __future__ import annotations

import dataclasses

import numpy as np

from .live import Explorer, static_figure, sticky_range
from .. import palette

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


def keras_code(values: dict) -> str:
    """The two optimizers the explorer clips with: executed, it binds
    ``by_value`` and ``by_norm``."""
    t = values["threshold"]
    return "\n".join([
        "import keras", "",
        f"by_value = keras.optimizers.SGD(learning_rate=0.01, clipvalue={t:.4g})  # each component into [-{t:.4g}, {t:.4g}]",
        f"by_norm = keras.optimizers.SGD(learning_rate=0.01, clipnorm={t:.4g})    # each gradient's norm at most {t:.4g}",
        "# global_clipnorm= scales all the model's gradients together instead",
    ]) + "\n"


#: one click each
PRESETS = {
    "one huge component": dict(g1=0.9, g2=100.0, threshold=1.0),
    "both large": dict(g1=8.0, g2=60.0, threshold=1.0),
    "threshold above the norm": dict(g1=0.9, g2=5.0, threshold=10.0),
    "opposite signs": dict(g1=-6.0, g2=40.0, threshold=2.0),
}

_COLORS = (palette.BLUE, palette.VERMILLION, palette.GREEN)
_LABELS = ("raw gradient", "clipvalue", "clipnorm")


class ClippingView:
    """Left: the three vectors as arrows on a common scale; right: the two
    clipped ones enlarged, with the threshold's square (clipvalue) and
    circle (clipnorm)."""

    def __init__(self, axes):
        import matplotlib.patches as patches

        self.left, self.right = axes
        self.arrows, self.texts = [], []
        for ax, shown in ((self.left, (0, 1, 2)), (self.right, (1, 2))):
            arrows, texts = {}, {}
            for k, i in enumerate(shown):
                arrows[i] = ax.annotate("", xy=(0, 0), xytext=(0, 0), arrowprops=dict(
                    arrowstyle="-|>", color=_COLORS[i], lw=2.5, mutation_scale=18))
                texts[i] = ax.text(0.02, 0.03 + 0.07 * (len(shown) - 1 - k), "", transform=ax.transAxes,
                                   color=_COLORS[i], fontsize=9, fontweight="bold")
                ax.plot([], [], color=_COLORS[i], ls="-", lw=2.5, label=_LABELS[i])  # the arrows: solid
            ax.set_aspect("equal")
            ax.axhline(0, color="black", lw=0.6)
            ax.axvline(0, color="black", lw=0.6)
            ax.set_xlabel("∂L/∂w₁")
            ax.set_ylabel("∂L/∂w₂")
            self.arrows.append(arrows)
            self.texts.append(texts)
        self.legends = [ax.legend(loc="upper left", fontsize=9, framealpha=1) for ax in axes]
        self.box = self.right.add_patch(patches.Rectangle((-1, -1), 2, 2, fill=False, ls=":", color=palette.VERMILLION,
                                                          zorder=1.6))
        self.circle = self.right.add_patch(patches.Circle((0, 0), 1, fill=False, ls=":", color=palette.GREEN,
                                                          zorder=1.6))
        self.left.set_title("The gradient and its clipped versions")
        self._first = True

    def update(self, clip: Clipping):
        angles = clip.angles
        vectors = (clip.raw, clip.by_value, clip.by_norm)
        degrees = (angles["raw"], angles["clipvalue"], angles["clipnorm"])
        for ax, arrows, texts in zip((self.left, self.right), self.arrows, self.texts):
            need = max(max(np.abs(vectors[i]).max() for i in arrows), clip.threshold) * 1.25
            # extra room at the top left for the legend, at the bottom left for the numbers
            need *= 1.3
            limits = sticky_range(None if self._first else ax.get_xlim(), (-need, need), 2)
            ax.set_xlim(limits)
            ax.set_ylim(limits)
            for i, arrow in arrows.items():
                arrow.xy = (float(vectors[i][0]), float(vectors[i][1]))
                texts[i].set_text(f"{_LABELS[i]}: [{vectors[i][0]:.4g}, {vectors[i][1]:.4g}], {degrees[i]:.1f}°")
        t = clip.threshold
        self.box.set_bounds(-t, -t, 2 * t, 2 * t)
        self.circle.set_radius(t)
        self.right.set_title(f"Clipped, threshold {t:g}: value clipping turned it {clip.turned_by_value:.1f}°")
        self._first = False

    def static_key(self):
        return ()

    def dynamic(self):
        return ([a for arrows in self.arrows for a in arrows.values()]
                + [t for texts in self.texts for t in texts.values()]
                + [self.box, self.circle, self.right.title])

    def overlays(self):
        return self.legends


def clipping_in_words(clip: Clipping) -> str:
    """The figure in words (its text alternative), from the numbers it draws."""
    a = clip.angles
    vector = lambda v: f"({v[0]:.3g}, {v[1]:.3g})"  # noqa: E731
    return (f"the gradient {vector(clip.raw)} points at {a['raw']:.1f}°; clipped by value at {clip.threshold:.3g} "
            f"it becomes {vector(clip.by_value)} at {a['clipvalue']:.1f}°, turned by {clip.turned_by_value:.1f}°; "
            f"clipped by norm it becomes {vector(clip.by_norm)} at {a['clipnorm']:.1f}°, "
            f"norm {np.linalg.norm(clip.by_norm):.3g}, the direction kept")


def plot_clipping(clip: Clipping, axes=None):
    """The clipping explorer's figure, drawn once. Returns the two axes."""
    return static_figure(ClippingView, clip, axes, figsize=(12, 4.6))


def explore_clipping(g1: float = 0.9, g2: float = 100.0, threshold: float = 1.0):
    """The clipping explorer: the two gradient components and the threshold →
    the raw, value-clipped and norm-clipped vectors as arrows, with their angles.

    Returns:
        The widget.
    """
    import ipywidgets as w

    style = {"description_width": "90px"}
    controls = {
        "g1": w.FloatSlider(g1, min=-10, max=10, step=0.1, description="∂L/∂w₁", style=style),
        "g2": w.FloatSlider(g2, min=-100, max=100, step=0.5, description="∂L/∂w₂", style=style),
        "threshold": w.FloatLogSlider(threshold, base=10, min=-1, max=2, step=0.05,
                                      description="threshold", style=style),
    }
    explorer = Explorer(controls, lambda v: compute_clipping(**v), ClippingView, [["g1"], ["g2"], ["threshold"]],
                        presets=PRESETS, code=keras_code, figsize=(12, 4.6),
                        describe=lambda v: f"gradient [{v['g1']:.4g}, {v['g2']:.4g}], threshold {v['threshold']:.3g}",
                        words=clipping_in_words)
    return explorer.widget
