"""The matplotlib figures the notebooks draw.

Each function draws into a given ``ax`` (or makes one) and returns it, so a
notebook can put several side by side. Plots never load data or build models.
"""

from __future__ import annotations

import io
import math

import matplotlib.pyplot as plt
import numpy as np

# the explorers' figures: one view each draws both the live explorer and these, and one
# function each says what the figure shows, in words (its text alternative, for show())
from .explorers.activation import activation_in_words, plot_activation  # noqa: F401
from .explorers.batch_stats import batch_stats_in_words, plot_batch_stats  # noqa: F401
from .explorers.clipping import clipping_in_words, plot_clipping  # noqa: F401
from .explorers.gradient_flow import gradient_flow_in_words, plot_gradient_flow  # noqa: F401
from .explorers.initializer import initializer_in_words, plot_initializer  # noqa: F401
from .explorers.training import plot_training, training_in_words  # noqa: F401
from .explorers.transfer import plot_transfer, transfer_in_words  # noqa: F401
from .explorers.access import figure_bundle

_FIELD_LABELS = {
    "mean": "activation mean",
    "std": "activation std",
    "saturated": "saturated outputs (%)",
    "dead": "dead units (%)",
    "grad_norm": "gradient norm ‖∂L/∂W‖",
    "update_ratio": "update:data ratio",
}
_PERCENT = {"saturated", "dead"}


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots()
    return ax


ALT_MIN_CHARS = 40   # a text alternative says what the figure shows, not "figure 3"


def show(fig, alt: str) -> None:
    """Show ``fig`` in the notebook as a PNG whose text alternative is ``alt``,
    then close it. ``alt`` says what the figure shows and what it shows about
    the lecture, written from the run's numbers (an f-string of the values the
    cell computed), e.g. ``f"gradient norm per layer, from {g[-1]:.0e} at layer
    10 to {g[0]:.0e} at layer 1: the vanishing gradient"``. See :func:`figure_bundle`
    (``lecture_utils.explorers.access``) for where it is stored.

    Raises:
        ValueError: ``alt`` is shorter than :data:`ALT_MIN_CHARS` characters or
            looks like a file name.
    """
    from IPython.display import display

    text = " ".join(str(alt).split())
    if len(text) < ALT_MIN_CHARS or text.lower().endswith((".png", ".svg", ".jpg")):
        raise ValueError(f"alt must say what the figure shows, in at least {ALT_MIN_CHARS} characters; "
                         f"got {text!r}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    data, metadata = figure_bundle(buffer.getvalue(), text, text)   # where each reader finds the alt
    display(data, raw=True, metadata=metadata)


def plot_image_grid(X, y, class_names, n_rows: int = 3, n_cols: int = 8, title: str | None = None):
    """The first ``n_rows * n_cols`` images of ``X``, each titled with its
    class, in a figure of their own (with ``title`` above them, if given).

    Returns:
        The figure.
    """
    n = n_rows * n_cols
    if len(X) < n:
        raise ValueError(f"need at least {n} images for a {n_rows}x{n_cols} grid, got {len(X)}")
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.5 * n_cols, 1.8 * n_rows))
    for image, label, axis in zip(X[:n], y[:n], np.ravel(axes)):
        axis.imshow(image, cmap="binary")
        axis.set_title(class_names[int(label)], fontsize=10)
        axis.axis("off")
    if title:
        fig.suptitle(title, fontsize=14)
    fig.tight_layout()
    return fig


def plot_layer_stats(stats, field: str = "grad_norm", ax=None, label: str | None = None,
                     log: bool | None = None, title: str | None = None):
    """One statistic of :func:`lecture_utils.diagnostics.layer_stats` per layer,
    input side on the left.

    Args:
        stats: a list of ``LayerStats``; layers where ``field`` is NaN are skipped.
        field: ``grad_norm``, ``update_ratio``, ``mean``, ``std``, ``saturated`` or ``dead``.
        ax: the axes to draw in (new ones if None).
        label: the legend label of this line.
        log: log scale on y (default: yes for ``grad_norm`` and ``update_ratio``).
        title: the axes' title.

    Returns:
        The axes.
    """
    if field not in _FIELD_LABELS:
        raise ValueError(f"unknown field {field!r}; valid: {list(_FIELD_LABELS)}")
    ax = _axes(ax)
    points = [(i, getattr(s, field)) for i, s in enumerate(stats) if not math.isnan(getattr(s, field))]
    if not points:
        raise ValueError(f"no layer has a value for {field!r}")
    xs, ys = zip(*points)
    ys = np.array(ys) * (100 if field in _PERCENT else 1)
    ax.plot(range(1, len(xs) + 1), ys, "o-", label=label, markersize=4)
    if log if log is not None else field in ("grad_norm", "update_ratio"):
        ax.set_yscale("log")
    ax.set_xlabel("layer (1 = nearest the input)")
    ax.set_ylabel(_FIELD_LABELS[field])
    if title:
        ax.set_title(title)
    if label:
        ax.legend()
    return ax


def plot_activation_histograms(outputs, ax=None, bins: int = 50, title: str | None = None):
    """Overlaid histograms of the outputs of several layers.

    Args:
        outputs: a list of ``(label, array)``, e.g. from
            :func:`lecture_utils.diagnostics.layer_outputs` with labels made
            from the layer names and their saturated share.

    Returns:
        The axes.
    """
    ax = _axes(ax)
    for label, values in outputs:
        hist, edges = np.histogram(np.ravel(values), bins=bins)
        centers = (edges[:-1] + edges[1:]) / 2
        ax.plot(centers, hist / hist.sum(), label=label)
    ax.set_xlabel("activation value")
    ax.set_ylabel("share of outputs")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=9)
    return ax


def plot_history(histories: dict, metric: str = "val_accuracy", ax=None, title: str | None = None):
    """Learning curves of several runs: ``{label: keras History or its .history dict}``.

    Returns:
        The axes.
    """
    ax = _axes(ax)
    for label, history in histories.items():
        values = getattr(history, "history", history)
        if metric not in values:
            raise ValueError(f"run {label!r} has no {metric!r}; it has {sorted(values)}")
        ax.plot(range(1, len(values[metric]) + 1), values[metric], "o-", label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


PRESENTATION = {  # large enough to read from the back of a lecture room
    "font.size": 16, "axes.titlesize": 20, "axes.labelsize": 18, "xtick.labelsize": 15,
    "ytick.labelsize": 15, "legend.fontsize": 15, "figure.titlesize": 22,
    "lines.linewidth": 3.0, "lines.markersize": 9, "axes.linewidth": 1.5, "grid.linewidth": 1.0,
}
_saved_style: dict = {}


def presentation_style(on: bool = True) -> None:
    """Large fonts and thick lines for a projector (``on``), or back to the
    settings from before (``off``). Applies to figures drawn from then on."""
    import matplotlib as mpl

    if on:
        if not _saved_style:
            _saved_style.update({key: mpl.rcParams[key] for key in PRESENTATION})
        mpl.rcParams.update(PRESENTATION)
    elif _saved_style:
        mpl.rcParams.update(_saved_style)
        _saved_style.clear()
