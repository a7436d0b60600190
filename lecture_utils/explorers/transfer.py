"""The transfer explorer (notebook 06): a lookup in the grid the notebook
trained (layers reused from model A × task-B training images -> test
accuracy of B alone and B on A, over seeds)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ._checks import check_choice, starting_values
from .live import Explorer, static_figure
from .. import palette

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
    check_choice("n_reused", n_reused, grid.n_reused)
    check_choice("n_images", n_images, grid.n_images)
    return TransferChoice(grid, int(n_reused), int(n_images))


class TransferView:
    """Left: accuracy against the number of task-B images, B alone and B on
    A with the chosen number of reused layers; right: at the chosen number of
    images, accuracy against the number of reused layers (0 is B alone).
    Lines are means over seeds, bands and bars span min to max."""

    def __init__(self, axes):
        self.left, self.right = axes
        self.grid = None
        self.moving = []

    def _setup(self, g):
        left, right = self.left, self.right
        n_seeds = len(g.seeds)
        # B alone does not change, but is drawn with the rest: a band under a line stays under it
        self.fixed = self._band(left, g.n_images, g.scratch, palette.BLUE, "B alone")
        left.plot([], [], "o-", color=palette.VERMILLION, lw=2, label="B on A, the chosen layers reused")
        left.set_xscale("log")
        left.set_xticks(g.n_images, [str(n) for n in g.n_images])
        left.minorticks_off()
        left.set_xlabel("task-B training images")
        left.set_ylabel(f"test accuracy (mean, min–max of {n_seeds} seed{'s' if n_seeds > 1 else ''})")
        left.set_title("Accuracy against training-set size")
        layers = (0,) + tuple(g.n_reused)
        right.set_xticks(layers)
        right.set_xlim(-0.5, layers[-1] + 0.5)
        right.set_xlabel("hidden layers reused from model A")
        right.set_ylabel("test accuracy")
        right.plot([], [], "o-", color=palette.VERMILLION, lw=2, label="B on A")
        right.plot([], [], "o", color=palette.BLUE, ms=9, label="B alone (0 reused)")
        lowest = min(g.scratch.min(), g.on_a.min())
        for ax in (left, right):
            ax.set_ylim(lowest - 0.05 * (1.0 - lowest), 1.0)
            ax.grid(alpha=0.3)
        self.legends = [left.legend(loc="lower right", framealpha=1), right.legend(loc="lower right", framealpha=1)]
        self.grid = g

    @staticmethod
    def _band(ax, x, values, color, label=None):
        """Mean over the last axis of ``values`` as a line, min–max as a band."""
        (line,) = ax.plot(x, values.mean(-1), marker="o", ls="-", color=color, lw=2, label=label)
        # above the grid (1.5), under the lines (2): drawn over the saved background as it would be
        band = ax.fill_between(x, values.min(-1), values.max(-1), color=color, alpha=0.2, zorder=1.6)
        return [line, band]

    def update(self, choice: TransferChoice):
        g = choice.grid
        if self.grid is not g:
            self._setup(g)
        for artist in self.moving:
            artist.remove()
        left, right = self.left, self.right
        moving = self._band(left, g.n_images, g.on_a[choice.i], palette.VERMILLION)
        moving.append(left.axvline(choice.n_images, color="gray", ls=":", lw=1))
        layers = (0,) + tuple(g.n_reused)
        values = np.concatenate([g.scratch[choice.j][None], g.on_a[:, choice.j]])
        mean = values.mean(-1)
        bars = right.errorbar(layers, mean, yerr=[mean - values.min(-1), values.max(-1) - mean],
                              fmt="o-", color=palette.VERMILLION, capsize=4, lw=2)
        alone = right.errorbar([0], [mean[0]], yerr=[[mean[0] - values[0].min()], [values[0].max() - mean[0]]],
                               fmt="o", color=palette.BLUE, capsize=4, ms=9)
        for container in (bars, alone):
            moving += [a for a in container.get_children()]
            right.containers.remove(container)
        moving.append(right.axvline(choice.n_reused, color="gray", ls=":", lw=1))
        s, a = choice.scratch, choice.on_a
        right.set_title(f"{choice.n_images} images, {choice.n_reused} reused: alone {s.mean():.4f} ± "
                        f"{s.std():.4f}, on A {a.mean():.4f} ± {a.std():.4f}", fontsize=10)
        self.moving = moving

    def static_key(self):
        return (id(self.grid),)

    def dynamic(self):
        return self.fixed + self.moving + [self.right.title]

    def overlays(self):
        return self.legends


def transfer_in_words(choice: TransferChoice) -> str:
    """The figure in words (its text alternative), from the numbers it draws."""
    s, a = choice.scratch, choice.on_a
    ratio = choice.error_ratio
    verdict = ("transfer helped" if ratio > 1 else "transfer did not help") + f" (error ratio {ratio:.2f})"
    return (f"task B with {choice.n_images} training images, over {len(s)} seed{'s' if len(s) != 1 else ''}: B alone reaches a validation "
            f"accuracy of {s.mean():.3f} ± {s.std():.3f}, B on A reusing {choice.n_reused} layers "
            f"{a.mean():.3f} ± {a.std():.3f}: {verdict}; left, accuracy against the number of images; right, "
            "against the number of layers reused")


def plot_transfer(choice: TransferChoice, axes=None):
    """The transfer explorer's figure, drawn once. Returns the two axes."""
    return static_figure(TransferView, choice, axes, figsize=(12, 4.4))


def explore_transfer(grid, **initial):
    """The transfer explorer: the number of reused layers and of task-B
    training images → test accuracy of B alone vs B on A, looked up in
    ``grid`` (computed beforehand, so the sliders answer at once).

    Returns:
        The widget.
    """
    import ipywidgets as w

    values = starting_values({"n_reused": grid.n_reused[-1], "n_images": grid.n_images[0]}, initial)
    compute_transfer(grid, **values)  # bad starting values fail here, before any widget
    style = {"description_width": "140px"}
    layout = w.Layout(width="420px")
    controls = {
        "n_reused": w.SelectionSlider(options=list(grid.n_reused), value=values["n_reused"],
                                      description="layers reused from A", style=style, layout=layout),
        "n_images": w.SelectionSlider(options=list(grid.n_images), value=values["n_images"],
                                      description="task-B images", style=style, layout=layout),
    }
    presets = {
        "fewest images, all layers": dict(n_reused=grid.n_reused[-1], n_images=grid.n_images[0]),
        "fewest images, one layer": dict(n_reused=grid.n_reused[0], n_images=grid.n_images[0]),
        "most images, all layers": dict(n_reused=grid.n_reused[-1], n_images=grid.n_images[-1]),
    }
    explorer = Explorer(controls, lambda v: compute_transfer(grid, **v), TransferView,
                        [["n_reused"], ["n_images"]], presets=presets, figsize=(12, 4.4),
                        describe=lambda v: f"{v['n_reused']} layers reused, {v['n_images']} task-B images",
                        words=transfer_in_words)
    return explorer.widget
