"""The batch statistics explorer (notebook 04): batch size and momentum ->
the mean and variance of one feature in each mini-batch, and the moving
averages a keras.layers.BatchNormalization layer keeps."""

from __future__ import annotations

import dataclasses

import numpy as np

from ._checks import check_int, starting_values
from .live import Explorer, static_figure, sticky_limits
from .. import palette

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
    check_int("batch_size", batch_size, 2, len(values))
    check_int("n_batches", n_batches, 1, 100_000)
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


MOMENTA = (0.0, 0.5, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)


def keras_code(values: dict) -> str:
    """The Keras layer whose moving averages the explorer computes: executed,
    it binds ``bn``; called on each mini-batch with ``training=True`` (what
    ``model.fit(..., batch_size=...)`` does), its ``moving_mean`` and
    ``moving_variance`` follow the red lines."""
    return "\n".join([
        "import keras", "",
        f"bn = keras.layers.BatchNormalization(momentum={values['momentum']:g})",
        "# in a model: model.fit(X, y, batch_size="
        f"{values['batch_size']}) updates, at every training step,",
        "#   moving = momentum * moving + (1 - momentum) * (the batch's statistic)",
        "# and predict / evaluate normalize with the moving statistics",
    ]) + "\n"


#: the notebook's settings to compare, one click each
PRESETS = {
    "batch 8": dict(batch_size=8, momentum=0.99),
    "batch 256": dict(batch_size=256, momentum=0.99),
    "momentum 0.9": dict(batch_size=32, momentum=0.9),
    "momentum 0.999": dict(batch_size=32, momentum=0.999),
}


class BatchStatsView:
    """Left: each mini-batch's mean (dots), the moving mean (line), the
    full-data mean (dashed); right: the same for the variance."""

    def __init__(self, axes, feature: str = "feature"):
        self.axes, self.feature = axes, feature
        self.batch, self.moving, self.full = [], [], []
        for ax, name in zip(axes, ("mean", "variance")):
            (batch,) = ax.plot([], [], ".", alpha=0.4, markersize=4,
                               label="batch mean μ_B" if name == "mean" else "batch variance σ²_B")
            (moving,) = ax.plot([], [], lw=2, color=palette.PURPLE, label=f"moving {name}")
            full = ax.axhline(0, color="black", ls="--", lw=1, label=f"full-data {name}")
            ax.set_xlabel("training step (mini-batch)")
            ax.set_ylabel(name)
            self.batch.append(batch)
            self.moving.append(moving)
            self.full.append(full)
        self.legends = [ax.legend(loc="upper right", fontsize=9, framealpha=1) for ax in axes]
        self._first = True

    def update(self, stats: BatchStats):
        steps = np.arange(1, len(stats.batch_means) + 1)
        for ax, batch, moving, full, b, m, f in zip(
                self.axes, self.batch, self.moving, self.full, (stats.batch_means, stats.batch_vars),
                (stats.moving_mean, stats.moving_var), (stats.full_mean, stats.full_var)):
            batch.set_data(steps, b)
            moving.set_data(steps, m)
            full.set_ydata([f, f])
            ax.set_xlim(0, len(steps) + 1)
            low = min(b.min(), m.min(), f)
            high = max(b.max(), m.max(), f)
            # room at the top for the legend
            ax.set_ylim(sticky_limits(None if self._first else ax.get_ylim(), low, high + 0.3 * (high - low),
                                      slack=2))
        c = stats.config
        self.axes[0].set_title(f"{self.feature}: batch means, spread {stats.spread_of_means:.3f}")
        self.axes[1].set_title(f"batch size {c['batch_size']}, momentum {c['momentum']}")
        self._first = False

    def static_key(self):
        return ()

    def dynamic(self):
        return [*self.batch, *self.moving, *self.full, *(ax.title for ax in self.axes)]

    def overlays(self):
        return self.legends


def batch_stats_in_words(stats: BatchStats, feature: str = "feature") -> str:
    """The figure in words (its text alternative), from the numbers it draws."""
    c = stats.config
    return (f"{feature}, batch size {c['batch_size']}, momentum {c['momentum']}: the means of "
            f"{len(stats.batch_means)} mini-batches scatter with a spread of {stats.spread_of_means:.3f} around "
            f"the full-data mean {stats.full_mean:.3f}; the moving mean ends at {stats.moving_mean[-1]:.3f} and "
            f"the moving variance at {stats.moving_var[-1]:.3f} against the full-data {stats.full_var:.3f}")


def plot_batch_stats(stats: BatchStats, axes=None, feature: str = "feature"):
    """The batch statistics explorer's figure, drawn once. Returns the two axes."""
    return static_figure(lambda ax: BatchStatsView(ax, feature), stats, axes)


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

    start = dict(batch_size=32, momentum=0.99)
    start = starting_values(start, initial)
    style = {"description_width": "90px"}
    controls = {
        "batch_size": w.SelectionSlider(options=BATCH_SIZES, value=start["batch_size"],
                                        description="batch size", style=style),
        "momentum": w.SelectionSlider(options=MOMENTA, value=start["momentum"], description="momentum",
                                      style=style),
    }
    explorer = Explorer(controls, lambda v: compute_batch_stats(values, v["batch_size"], v["momentum"]),
                        lambda ax: BatchStatsView(ax, feature), [["batch_size"], ["momentum"]],
                        presets=PRESETS, code=keras_code,
                        describe=lambda v: f"batch size {v['batch_size']}, momentum {v['momentum']}",
                        words=lambda stats: batch_stats_in_words(stats, feature))
    return explorer.widget
