"""The matplotlib figures the notebooks draw.

Each function draws into a given ``ax`` (or makes one) and returns it, so a
notebook can put several side by side. Plots never load data or build models.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

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


def _pair(axes):
    """Two side-by-side axes for an explorer's figure (new ones if None)."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    return axes


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


def _describe(config: dict) -> str:
    init = config.get("initializer", "")
    if init == "random_normal":
        init = f"N(0, {config['sigma']:.3g}²)"
    bn = " + BN" if config.get("batch_norm") else ""
    return f"{config.get('depth')} × {config.get('width')} {config.get('activation')}, {init}{bn}"


def plot_gradient_flow(flow, axes=None):
    """The gradient-flow explorer's figure: per-layer gradient norms (log
    scale, the output layer last) and the spread of each hidden layer's outputs.

    Args:
        flow: a :class:`lecture_utils.widgets.GradientFlow`.
        axes: two axes (new ones if None).

    Returns:
        The two axes.
    """
    left, right = axes = _pair(axes)
    layers = np.arange(1, len(flow.grad_norms) + 1)
    norms = np.asarray(flow.grad_norms, dtype=float)
    finite = np.isfinite(norms)
    positive = finite & (norms > 0)
    left.semilogy(layers[positive], norms[positive], "o-", markersize=3)
    if positive[-1]:
        left.semilogy(layers[-1:], norms[-1:], "s", color="C3", label="output layer")
    floor = norms[positive].min() if positive.any() else 1.0
    zero = finite & (norms == 0)
    if zero.any():  # a log axis cannot show 0: mark the layers whose gradient underflowed
        left.semilogy(layers[zero], np.full(zero.sum(), floor), "v", color="C1",
                      label="exactly 0 (float32 underflow)")
    if not finite.all():
        left.text(0.5, 0.5, f"{(~finite).sum()} layers overflowed (inf/NaN)", transform=left.transAxes,
                  ha="center", color="C3", fontsize=12)
    left.set_xlabel("layer (1 = nearest the input)")
    left.set_ylabel("gradient norm ‖∂L/∂W‖")
    ratio = flow.ratio
    shown = "overflow" if not np.isfinite(ratio) else "0 (underflow)" if ratio == 0 else f"{ratio:.1e}"
    left.set_title(f"Gradients: first/last = {shown}")
    if left.get_legend_handles_labels()[0]:
        left.legend(loc="best")
    hidden = np.arange(1, len(flow.act_std) + 1)
    right.plot(hidden, flow.act_std, "o-", markersize=3, label="std")
    right.plot(hidden, flow.act_mean, "o-", markersize=3, label="mean", alpha=0.7)
    if not np.all(np.isnan(flow.saturated)):
        right.plot(hidden, flow.saturated, "--", color="C3", label="saturated share")
    if not np.all(np.isnan(flow.dead)):
        right.plot(hidden, flow.dead, "--", color="C3", label="dead share")
    shown = np.concatenate([flow.act_std, flow.act_mean, np.nan_to_num(flow.saturated), np.nan_to_num(flow.dead)])
    shown = shown[np.isfinite(shown)]
    if shown.size:  # room above the lines for the legend
        right.set_ylim(min(0.0, shown.min() * 1.1), max(1.0, shown.max()) * 1.35)
    right.set_xlabel("hidden layer")
    right.set_ylabel("activation statistic")
    right.set_title("Activations")
    right.legend(loc="upper right", ncol=2, fontsize=9)
    left.figure.suptitle(_describe(flow.config), fontsize=13)
    left.figure.tight_layout()
    return axes


def plot_initializer(sample, axes=None):
    """The initializer explorer's figure: the histogram of the sampled weights
    over the theoretical density, and the spread of activations over depth.

    Args:
        sample: a :class:`lecture_utils.widgets.InitializerSample`.
        axes: two axes (new ones if None).

    Returns:
        The two axes.
    """
    left, right = axes = _pair(axes)
    c = sample.config
    left.hist(sample.weights, bins=60, range=(sample.grid[0], sample.grid[-1]), density=True,
              alpha=0.6, label=f"sampled (var {sample.weights.var():.2e})")
    left.plot(sample.grid, sample.density, color="C3", label=f"theory (σ² = {sample.variance:.2e})")
    if np.isfinite(sample.limit):
        for x in (-sample.limit, sample.limit):
            left.axvline(x, color="gray", linestyle=":")
    left.set_xlabel("weight value")
    left.set_ylabel("density")
    left.set_title(f"{c['fan_in']}×{c['fan_out']} kernel, {c['distribution']}, "
                   f"scale {c['scale']:g}/{c['mode']}")
    left.legend(loc="upper right", fontsize=9)
    layers = np.arange(1, len(sample.spread) + 1)
    spread = np.maximum(sample.spread, 1e-30)
    right.semilogy(layers, spread, "o-", markersize=3)
    right.axhline(1.0, color="gray", linestyle=":")
    finite = spread[np.isfinite(spread)]
    # at least 0.1 to 10, so that sampling noise does not look like a trend
    if finite.size:
        right.set_ylim(min(0.1, finite.min() / 2), max(10.0, finite.max() * 2))
    right.set_xlabel("layer")
    right.set_ylabel("std of z = hW (log scale)")
    right.set_title(f"Forward spread through {c['depth']} {c['activation']} layers")
    left.figure.tight_layout()
    return axes


def plot_activation(curve, axes=None, reference=None):
    """The activation explorer's figure: f(z) (left) and f′(z) (right), with
    a ``reference`` curve drawn faintly for comparison.

    Args:
        curve, reference: :class:`lecture_utils.widgets.ActivationCurve`.

    Returns:
        The two axes.
    """
    left, right = axes = _pair(axes)
    for ax, values, ref, title in ((left, curve.f, reference and reference.f, "f(z)"),
                                   (right, curve.df, reference and reference.df, "f′(z)")):
        if ref is not None and reference.name != curve.name:
            ax.plot(reference.z, ref, color="gray", lw=1.5, alpha=0.5, label=reference.label)
        ax.plot(curve.z, values, lw=2.5, label=curve.label)
        ax.axhline(0, color="black", lw=0.6)
        ax.axvline(0, color="black", lw=0.6)
        ax.set_xlabel("z")
        ax.set_ylabel(title)
        ax.set_title(f"{curve.label}: {title}")
        ax.legend(loc="upper left")
    low, high = np.nanmin(curve.df), np.nanmax(curve.df)
    right.set_ylim(min(-0.1, low - 0.1), max(1.2, high + 0.1))
    left.figure.tight_layout()
    return axes


def plot_batch_stats(stats, axes=None, feature: str = "feature"):
    """The batch statistics explorer's figure: each mini-batch's mean (left)
    and variance (right) as dots, the moving average as a line, and the
    full-data value dashed.

    Args:
        stats: a :class:`lecture_utils.widgets.BatchStats`.

    Returns:
        The two axes.
    """
    left, right = axes = _pair(axes)
    steps = np.arange(1, len(stats.batch_means) + 1)
    c = stats.config
    for ax, batch, moving, full, name in ((left, stats.batch_means, stats.moving_mean, stats.full_mean, "mean"),
                                          (right, stats.batch_vars, stats.moving_var, stats.full_var, "variance")):
        ax.plot(steps, batch, ".", alpha=0.4, markersize=4, label=f"batch {name} μ_B" if name == "mean"
                else "batch variance σ²_B")
        ax.plot(steps, moving, lw=2, color="C3", label=f"moving {name}")
        ax.axhline(full, color="black", ls="--", lw=1, label=f"full-data {name}")
        ax.set_xlabel("training step (mini-batch)")
        ax.set_ylabel(name)
        ax.legend(loc="best", fontsize=9)
    left.set_title(f"{feature}: batch means, spread {stats.spread_of_means:.3f}")
    right.set_title(f"batch size {c['batch_size']}, momentum {c['momentum']}")
    left.figure.tight_layout()
    return axes


def plot_clipping(clip, axes=None):
    """The clipping explorer's figure. Left: the three vectors as arrows on a
    common scale. Right: the two clipped ones enlarged (they are much shorter),
    with the threshold's box (clipvalue) and circle (clipnorm).

    Args:
        clip: a :class:`lecture_utils.widgets.Clipping`.

    Returns:
        The two axes.
    """
    left, right = axes = _pair(axes)
    angles = clip.angles
    vectors = [("raw gradient", clip.raw, "C0", angles["raw"]),
               ("clipvalue", clip.by_value, "C1", angles["clipvalue"]),
               ("clipnorm", clip.by_norm, "C2", angles["clipnorm"])]
    for ax, shown in ((left, vectors), (right, vectors[1:])):
        extent = max(max(np.abs(v).max() for _, v, _, _ in shown), clip.threshold) * 1.25
        for label, v, color, angle in shown:
            ax.annotate("", xy=(v[0], v[1]), xytext=(0, 0),
                        arrowprops=dict(arrowstyle="-|>", color=color, lw=2.5, mutation_scale=18))
            ax.plot([], [], color=color, lw=2.5, label=f"{label}: [{v[0]:.4g}, {v[1]:.4g}], {angle:.1f}°")
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        ax.set_aspect("equal")
        ax.axhline(0, color="black", lw=0.6)
        ax.axvline(0, color="black", lw=0.6)
        ax.set_xlabel("∂L/∂w₁")
        ax.set_ylabel("∂L/∂w₂")
        ax.legend(loc="lower left", fontsize=9)
    t = clip.threshold
    right.add_patch(plt.Rectangle((-t, -t), 2 * t, 2 * t, fill=False, ls=":", color="C1"))
    right.add_patch(plt.Circle((0, 0), t, fill=False, ls=":", color="C2"))
    left.set_title("The gradient and its clipped versions")
    right.set_title(f"Clipped, threshold {t:g}: value clipping turned it {clip.turned_by_value:.1f}°")
    left.figure.tight_layout()
    return axes


def _band(ax, x, values, color, label, marker="o"):
    """Mean over the last axis of ``values`` as a line, min–max as a band."""
    ax.plot(x, values.mean(-1), marker=marker, color=color, lw=2, label=label)
    ax.fill_between(x, values.min(-1), values.max(-1), color=color, alpha=0.2)


def plot_transfer(choice, axes=None):
    """The transfer explorer's figure. Left: test accuracy against the number
    of task-B training images, B alone and B on A with the chosen number of
    reused layers. Right: at the chosen number of images, accuracy against
    the number of reused layers (0 is B alone). Lines are means over seeds,
    bands span min to max.

    Args:
        choice: a :class:`lecture_utils.widgets.TransferChoice`.

    Returns:
        The two axes.
    """
    left, right = axes = _pair(axes)
    g = choice.grid
    n_seeds = len(g.seeds)
    _band(left, g.n_images, g.scratch, "C0", "B alone")
    _band(left, g.n_images, g.on_a[choice.i], "C1",
          f"B on A, {choice.n_reused} layer{'s' if choice.n_reused > 1 else ''} reused")
    left.axvline(choice.n_images, color="gray", ls=":", lw=1)
    left.set_xscale("log")
    left.set_xticks(g.n_images, [str(n) for n in g.n_images])
    left.minorticks_off()
    left.set_xlabel("task-B training images")
    left.set_ylabel(f"test accuracy (mean, min–max of {n_seeds} seed{'s' if n_seeds > 1 else ''})")
    left.set_title("Accuracy against training-set size")
    left.legend(loc="lower right")

    layers = (0,) + tuple(g.n_reused)
    values = np.concatenate([g.scratch[choice.j][None], g.on_a[:, choice.j]])
    right.errorbar(layers, values.mean(-1),
                   yerr=[values.mean(-1) - values.min(-1), values.max(-1) - values.mean(-1)],
                   fmt="o-", color="C1", capsize=4, lw=2)
    right.errorbar([0], [values[0].mean()], yerr=[[values[0].mean() - values[0].min()],
                                                  [values[0].max() - values[0].mean()]],
                   fmt="o", color="C0", capsize=4, ms=9, label="B alone (0 reused)")
    right.axvline(choice.n_reused, color="gray", ls=":", lw=1)
    right.set_xticks(layers)
    right.set_xlabel("hidden layers reused from model A")
    right.set_ylabel("test accuracy")
    s, a = choice.scratch, choice.on_a
    right.set_title(f"{choice.n_images} images: alone {s.mean():.4f} ± {s.std():.4f}, "
                    f"on A {a.mean():.4f} ± {a.std():.4f}", fontsize=10)
    right.legend(loc="lower right")
    lowest = min(g.scratch.min(), g.on_a.min())
    bottom = lowest - 0.05 * (1.0 - lowest)
    for ax in axes:
        ax.set_ylim(bottom, 1.0)
        ax.grid(alpha=0.3)
    left.figure.tight_layout()
    return axes


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
