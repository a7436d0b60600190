"""The live-training explorer (notebook 07): a deep MLP trained with Keras on
Fashion-MNIST in front of the student, with the lecture's knobs (depth,
width, activation, initializer, batch normalization, learning rate,
clipping, batch size, seed) and Play / Pause / Step / Reset.

Every frame (:data:`FRAME_STEPS` training steps) it measures, on fixed
batches:

- the training loss and accuracy (the mean over the frame's steps) and the
  validation loss and accuracy (on :data:`VALID_IMAGES` validation images);
- the norm of the gradient of every Dense layer's kernel on a probe batch of
  :data:`PROBE_IMAGES` training images (:func:`lecture_utils.grads.compute_gradients`);
- the saturated (sigmoid, tanh) or dead (ReLU) share of every hidden layer's
  outputs on the same batch (:mod:`lecture_utils.diagnostics`'s definitions);
- the update:data ratio of every kernel: the standard deviation of the last
  step's change over that of the kernel, ``std(ΔW) / std(W)`` (the change
  the optimizer really made, clipping included).

The training is Keras's own (``train_on_batch`` of a compiled model with a
``keras.optimizers.SGD``), on whichever backend is active. Measuring never
changes the run: the batch-normalization moving statistics that a probe in
training mode would move are put back.

:class:`TrainingRun` is the trainer (no widgets: notebooks and tests use it
directly); :func:`explore_training` puts it behind controls. Frames are
paced by the browser: a hidden ``ipywidgets.Play`` ticks while the page
shows the explorer, and training goes on only while ticks arrive, so a
closed notebook or a lost connection stops it within :data:`HEARTBEAT_S`.
"""

from __future__ import annotations

import atexit
import dataclasses
import math
import threading
import time
import weakref

import numpy as np

from ._checks import check_choice, check_int, starting_values
from .live import Explorer, one_blas_thread, ratio_in_words, static_figure, sticky_limits, sticky_range
from .. import palette

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu")
INITIALIZERS = ("random_normal", "glorot", "he", "lecun")
#: where batch normalization goes in each hidden layer
BATCH_NORM = ("off", "before activation", "after activation")
CLIPPING = ("none", "clipvalue", "clipnorm", "global_clipnorm")
BATCH_SIZES = (16, 32, 64, 128, 256)

#: training steps between two frames (and what Step trains)
FRAME_STEPS = 20
#: the training images the gradients and activations are measured on, every frame
PROBE_IMAGES = 256
#: the validation images the validation loss and accuracy are measured on, every frame
VALID_IMAGES = 1000
#: at most this many frames a second: the rest of the machine is the browser's
MAX_FPS = 10.0
#: the page ticks this often while it shows a playing explorer
TICK_S = 0.5
#: training pauses when the page sent no tick for this long (closed, hidden, disconnected)
HEARTBEAT_S = 2.0
#: a frame whose mean training loss is above this has diverged: three times the loss of guessing
#: (ln 10 for ten classes). Exploding weights give a NaN loss with TensorFlow; with JAX the loss stays
#: finite at the cross-entropy's clipped maximum (about 16), the run just as lost
DIVERGED_LOSS = 3 * math.log(10)
#: a paused explorer's worker thread ends after this long without a change or a press
IDLE_EXIT_S = 5.0
#: a run stops at this many steps (a memory bound: its history grows with every frame)
MAX_STEPS = 100_000

#: the update:data ratio's colour scale (fixed, so that a colour means the same in every run;
#: about 1e-3, the black mark, is the rule of thumb for a layer that learns at a healthy pace)
RATIO_RANGE = (1e-8, 1.0)

_KERAS_INIT = {"glorot": "glorot_normal", "he": "he_normal", "lecun": "lecun_normal"}

#: the explorer starts with a network that learns: 10 × 100 ReLU, He, SGD 0.05
DEFAULTS = dict(depth=10, width=100, activation="relu", initializer="he", sigma=0.05,
                batch_norm="off", learning_rate=0.05, clipping="none", threshold=1.0, batch_size=32,
                seed=42)


def check_config(config: dict) -> dict:
    """``config`` completed with :data:`DEFAULTS` and checked: a ValueError
    names the first value out of range or not among the choices."""
    config = starting_values(DEFAULTS, config)
    check_int("depth", config["depth"], 1, 100)
    check_int("width", config["width"], 1, 2000)
    check_choice("activation", config["activation"], ACTIVATIONS)
    check_choice("initializer", config["initializer"], INITIALIZERS)
    check_choice("batch_norm", config["batch_norm"], BATCH_NORM)
    check_choice("clipping", config["clipping"], CLIPPING)
    check_int("batch_size", config["batch_size"], 1, 100_000)
    check_int("seed", config["seed"], 0, 2**31 - 1)
    for name in ("sigma", "learning_rate", "threshold"):
        value = config[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
            raise ValueError(f"{name} must be a positive number; got {value!r}")
    return config


def _initializer_code(config: dict) -> str:
    if config["initializer"] == "random_normal":
        return f"keras.initializers.RandomNormal(mean=0.0, stddev={float(config['sigma'])!r})"
    return repr(_KERAS_INIT[config["initializer"]])


def keras_code(config: dict, input_shape=(28, 28)) -> str:
    """The Keras code of a run: executed, it binds ``model`` (compiled) the
    way :class:`TrainingRun` builds it; then ``model.fit(X_train, y_train,
    batch_size=...)`` trains it as the explorer does (the explorer draws its
    batches with NumPy's generator seeded with ``seed``)."""
    config = check_config(config)
    act, bn = config["activation"], config["batch_norm"]
    clip = "" if config["clipping"] == "none" else f", {config['clipping']}={float(config['threshold'])!r}"
    lines = ["import keras", "", f"keras.utils.set_random_seed({config['seed']})",
             f"init = {_initializer_code(config)}",
             f"layers = [keras.Input(shape={tuple(input_shape)!r}), keras.layers.Flatten()]",
             f"for _ in range({config['depth']}):"]
    if bn == "before activation":
        lines += [f"    layers += [keras.layers.Dense({config['width']}, kernel_initializer=init, use_bias=False),",
                  "               keras.layers.BatchNormalization(),",
                  f"               keras.layers.Activation({act!r})]"]
    else:
        lines += [f"    layers += [keras.layers.Dense({config['width']}, kernel_initializer=init),",
                  f"               keras.layers.Activation({act!r})]"]
        if bn == "after activation":
            lines += ["    layers.append(keras.layers.BatchNormalization())"]
    lines += ["layers.append(keras.layers.Dense(10, activation=\"softmax\", kernel_initializer=init))",
              "model = keras.Sequential(layers)",
              f"model.compile(optimizer=keras.optimizers.SGD(learning_rate={float(config['learning_rate'])!r}{clip}),",
              "              loss=\"sparse_categorical_crossentropy\", metrics=[\"accuracy\"])",
              f"# model.fit(X_train, y_train, batch_size={config['batch_size']}, epochs=...)"]
    return "\n".join(lines) + "\n"


def build_model(config: dict, input_shape=(28, 28)):
    """The compiled Keras model of a run (what :func:`keras_code` writes)."""
    namespace: dict = {}
    exec(compile(keras_code(config, input_shape), "<keras_code>", "exec"), namespace)  # one way to build it
    return namespace["model"]


@dataclasses.dataclass
class TrainingHistory:
    """What a run measured, one row per frame (frame 0: before training).

    Layer arrays have one column per Dense layer (hidden layers, input side
    first, then the output layer); ``shares`` one per hidden layer.
    """

    steps: list           # the step count of each frame
    train_loss: list      # mean over the frame's steps (NaN at frame 0)
    train_acc: list
    valid_loss: list
    valid_acc: list
    grad_norms: list      # per frame: the kernel gradient norm of each Dense layer
    shares: list          # per frame: saturated or dead share of each hidden layer (NaN: neither)
    update_ratio: list    # per frame: std(ΔW) / std(W) of the last step (NaN at frame 0)
    share_kind: str       # "saturated", "dead" or "" (the activation neither saturates nor dies)
    config: dict
    diverged_at: int | None = None   # the step where the loss (or a gradient) stopped being finite, or
    #                                  the end of the frame whose mean loss passed DIVERGED_LOSS
    seconds: float = 0.0             # spent training (not measuring)

    def array(self, name: str) -> np.ndarray:
        """A field as a float array (frames × layers for the layer fields)."""
        return np.asarray(getattr(self, name), dtype=float)

    @property
    def step(self) -> int:
        return self.steps[-1]

    @property
    def gradient_ratio(self) -> float:
        """The first layer's gradient norm over the output layer's, at the last
        frame (0 where the first one underflowed, inf or NaN where they overflowed or died)."""
        with np.errstate(all="ignore"):
            return float(np.float64(self.grad_norms[-1][0]) / np.float64(self.grad_norms[-1][-1]))

    def latest(self) -> str:
        """``validation accuracy 0.71, loss 0.83`` at the last frame (or where it diverged)."""
        if self.diverged_at is not None:
            return f"diverged at step {self.diverged_at} (loss not finite or above {DIVERGED_LOSS:.1f})"
        return f"validation accuracy {self.valid_acc[-1]:.3f}, loss {self.valid_loss[-1]:.3f}"

    def summary(self) -> str:
        """``step 400: valid acc 0.71, loss 0.83`` (or where it diverged)."""
        return self.latest() if self.diverged_at is not None else f"step {self.step}: {self.latest()}"


def _share_kind(activation: str) -> str:
    return {"sigmoid": "saturated", "tanh": "saturated", "relu": "dead"}.get(activation, "")


class TrainingRun:
    """One training run of the explorer's network, measured every frame.

    Args:
        config: the controls' values (see :data:`DEFAULTS`; checked).
        X, y: the training images and labels (the profile's training split).
        X_valid, y_valid: validation images and labels (the first
            :data:`VALID_IMAGES` are used).

    Raises:
        ValueError: a value out of range, or fewer training images than a batch.
    """

    def __init__(self, config: dict, X, y, X_valid, y_valid):
        import keras

        self.config = config = check_config(config)
        X, y = np.asarray(X, dtype=np.float32), np.asarray(y)
        if len(X) < config["batch_size"] or len(X) != len(y):
            raise ValueError(f"need at least batch_size = {config['batch_size']} training images with as "
                             f"many labels; got {len(X)} images and {len(y)} labels")
        self.X, self.y = X, y
        self.X_valid = np.asarray(X_valid[:VALID_IMAGES], dtype=np.float32)
        self.y_valid = np.asarray(y_valid[:VALID_IMAGES])
        self.model = build_model(config, X.shape[1:])
        self.dense = [layer for layer in self.model.layers if isinstance(layer, keras.layers.Dense)]
        self.activations = [layer for layer in self.model.layers if isinstance(layer, keras.layers.Activation)]
        self._probe = keras.Model(self.model.inputs[0], [layer.output for layer in self.activations])
        self._rng = np.random.default_rng(config["seed"])
        self._order = np.empty(0, dtype=np.int64)
        probe = np.random.default_rng(config["seed"] + 1).choice(len(X), min(PROBE_IMAGES, len(X)), replace=False)
        self.X_probe, self.y_probe = X[probe], y[probe]
        self.history = TrainingHistory([], [], [], [], [], [], [], [], _share_kind(config["activation"]),
                                       dict(config))
        self._frame_losses: list = []
        self._frame_accs: list = []
        self._before = None
        self._measure()

    # -- training -----------------------------------------------------------
    @property
    def step(self) -> int:
        return self.history.steps[-1] if self.history.steps else 0

    @property
    def done(self) -> bool:
        """Diverged, or at :data:`MAX_STEPS`: training more does nothing."""
        return self.history.diverged_at is not None or self.step >= MAX_STEPS

    def _batch(self):
        b = self.config["batch_size"]
        if len(self._order) < b:  # a new epoch: a new shuffle (the rest of the old one is dropped)
            self._order = self._rng.permutation(len(self.X))
        index, self._order = self._order[:b], self._order[b:]
        return self.X[index], self.y[index]

    def _kernels(self) -> list:
        import keras

        return [np.array(keras.ops.convert_to_numpy(layer.kernel)) for layer in self.dense]

    def train(self, steps: int = FRAME_STEPS) -> TrainingHistory:
        """Train ``steps`` steps (one frame; stops early where the loss stops
        being finite), then measure. Returns the history."""
        check_int("steps", steps, 1, MAX_STEPS)
        if self.done:
            return self.history
        start = time.perf_counter()
        losses, accs = [], []
        for i in range(steps):
            if i == steps - 1:
                self._before = self._kernels()
            loss, acc = self.model.train_on_batch(*self._batch())
            losses.append(float(loss))
            accs.append(float(acc))
            if not math.isfinite(losses[-1]):
                self.history.diverged_at = self.step + i + 1
                break
        if self.history.diverged_at is None and np.mean(losses) > DIVERGED_LOSS:
            self.history.diverged_at = self.step + len(losses)
        self.history.seconds += time.perf_counter() - start
        self._frame_losses, self._frame_accs = losses, accs
        self._measure(len(losses))
        return self.history

    # -- measuring ----------------------------------------------------------
    def _measure(self, trained: int = 0) -> None:
        import keras

        from ..diagnostics import dead_share, saturated_share
        from ..grads import compute_gradients, grad_norm

        h = self.history
        h.steps.append(self.step + trained)
        h.train_loss.append(float(np.mean(self._frame_losses)) if trained else math.nan)
        h.train_acc.append(float(np.mean(self._frame_accs)) if trained else math.nan)
        with np.errstate(all="ignore"):
            loss, acc = self.model.test_on_batch(self.X_valid, self.y_valid)
            h.valid_loss.append(float(loss))
            h.valid_acc.append(float(acc))
            # training-mode probes move the BN moving statistics on some backends: put them back
            state = [np.array(keras.ops.convert_to_numpy(v)) for v in self.model.non_trainable_variables]
            _, layers = compute_gradients(self.model, self.X_probe, self.y_probe)
            outputs = self._probe(self.X_probe, training=True)
            outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            for variable, value in zip(self.model.non_trainable_variables, state):
                variable.assign(value)
            by_name = {g.layer: g for g in layers}
            h.grad_norms.append([grad_norm(by_name[d.name].grad("kernel")) for d in self.dense])
            if h.diverged_at is None and not np.all(np.isfinite(h.grad_norms[-1])):
                h.diverged_at = h.steps[-1]  # the loss came back from overflow, the weights did not
            act = self.config["activation"]
            shares = []
            for out in outputs:
                out = np.asarray(keras.ops.convert_to_numpy(out))
                share = saturated_share(out, act) if h.share_kind == "saturated" else dead_share(out, act)
                shares.append(share)
            h.shares.append(shares)
            if self._before is None:
                h.update_ratio.append([math.nan] * len(self.dense))
            else:
                after = self._kernels()
                h.update_ratio.append([float(np.std(a.astype(np.float64) - b) / np.std(b)) if np.std(b) > 0
                                       else math.nan for a, b in zip(after, self._before)])
                self._before = None


def compute_training(X, y, X_valid, y_valid, steps: int = 400, **config) -> TrainingHistory:
    """Train the explorer's network ``steps`` steps (frames of
    :data:`FRAME_STEPS`) and return what it measured: what the explorer shows
    after pressing Play and waiting, without the widgets (for static figures,
    several seeds, tests)."""
    check_int("steps", steps, 0, MAX_STEPS)
    run = TrainingRun(config, X, y, X_valid, y_valid)
    while run.step < steps and not run.done:
        run.train(min(FRAME_STEPS, steps - run.step))
    return run.history


def describe(config: dict) -> str:
    """``10 × 100 sigmoid, Glorot, BN before, SGD 0.01, clipnorm 1``."""
    init = config["initializer"]
    init = f"N(0, {config['sigma']:.3g}²)" if init == "random_normal" else {"glorot": "Glorot", "he": "He",
                                                                            "lecun": "LeCun"}[init]
    bn = "" if config["batch_norm"] == "off" else f", BN {config['batch_norm'].split()[0]}"
    clip = "" if config["clipping"] == "none" else f", {config['clipping']} {config['threshold']:.3g}"
    return (f"{config['depth']} × {config['width']} {config['activation']}, {init}{bn}, "
            f"SGD {config['learning_rate']:.3g}{clip}, batch {config['batch_size']}, seed {config['seed']}")


class TrainingView:
    """Top: loss and accuracy over the steps (training: the mean over each
    frame's steps; validation: on fixed images). Bottom, layers × steps (input
    side at the bottom): the kernel gradient norm (log colour), the saturated
    or dead share, the update:data ratio (log colour, 1e-3 is the rule of
    thumb)."""

    @staticmethod
    def make_axes(figure):
        grid = figure.add_gridspec(2, 6, height_ratios=(1, 1.15))
        top = [figure.add_subplot(grid[0, 0:3]), figure.add_subplot(grid[0, 3:6])]
        bottom = [figure.add_subplot(grid[1, 2 * i:2 * i + 2]) for i in range(3)]
        return top + bottom

    def __init__(self, axes, grad_limits=None):
        from matplotlib import colormaps
        from matplotlib.colors import LogNorm, Normalize
        from matplotlib.ticker import MaxNLocator

        self.loss_ax, self.acc_ax, self.grad_ax, self.share_ax, self.ratio_ax = axes
        # fixed (low, high) of the gradient colour scale, so that figures can be compared;
        # None: it follows the run (the explorer)
        self.grad_limits = grad_limits
        figure = self.loss_ax.figure
        line = dict(marker="o", markersize=2.5)  # a run's first point shows too
        (self.train_loss,) = self.loss_ax.plot([], [], "-", color=palette.BLUE, label="training", **line)
        (self.valid_loss,) = self.loss_ax.plot([], [], "--", color=palette.VERMILLION, label="validation", **line)
        self.loss_ax.set_ylabel("loss")
        self.loss_ax.set_title("Loss")
        (self.train_acc,) = self.acc_ax.plot([], [], "-", color=palette.BLUE, label="training", **line)
        (self.valid_acc,) = self.acc_ax.plot([], [], "--", color=palette.VERMILLION, label="validation", **line)
        self.acc_ax.set_ylim(0, 1)
        self.acc_ax.set_ylabel("accuracy")
        self.acc_ax.set_title("Accuracy")
        for ax in (self.loss_ax, self.acc_ax):
            ax.set_xlabel("training step")
            ax.grid(alpha=0.3)
        self.legends = [self.loss_ax.legend(loc="upper right", framealpha=1)]
        self.diverged = self.loss_ax.text(0.5, 0.85, "", transform=self.loss_ax.transAxes, ha="center",
                                          color=palette.PURPLE, fontsize=12)
        empty = np.full((1, 1), np.nan)
        self.images = {}
        for name, ax, norm, cmap, label in (
                ("grad", self.grad_ax, LogNorm(1e-6, 1e1), "magma", "‖∂L/∂W‖ (grey: 0, inf or NaN)"),
                ("share", self.share_ax, Normalize(0, 1), "viridis", "share"),
                ("ratio", self.ratio_ax, LogNorm(*RATIO_RANGE), "coolwarm", "std(ΔW) / std(W) (grey: no change)")):
            image = ax.imshow(empty, aspect="auto", origin="lower", interpolation="nearest", norm=norm,
                              cmap=colormaps[cmap].with_extremes(bad="#dddddd"), extent=(0, 1, 0.5, 1.5))
            bar = figure.colorbar(image, ax=ax, label=label, pad=0.02)
            if name == "ratio":  # the rule of thumb
                bar.ax.axhline(1e-3, color="k", linewidth=1.5)
            ax.set_xlabel("training step")
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # layers are whole numbers
            self.images[name] = image
        self.grad_ax.set_ylabel("layer (1 = input side)")
        self.grad_ax.set_title("Gradient norm of each layer")
        self.ratio_ax.set_title("Update:data ratio of each layer")
        self.share_note = self.share_ax.text(0.5, 0.5, "", transform=self.share_ax.transAxes, ha="center",
                                             va="center", fontsize=10, wrap=True)
        self.title = figure.suptitle("", fontsize=13)
        self._first = True

    def update(self, h: TrainingHistory):
        steps = np.asarray(h.steps, dtype=float)
        last = max(steps[-1], 1.0)
        xmax = _round_up(last)  # 200, 500, 1000, 2000, ...: a new background rarely
        for ax in (self.loss_ax, self.acc_ax, self.grad_ax, self.share_ax, self.ratio_ax):
            ax.set_xlim(0, xmax)
        self.train_loss.set_data(steps, h.array("train_loss"))
        self.valid_loss.set_data(steps, h.array("valid_loss"))
        self.train_acc.set_data(steps, h.array("train_acc"))
        self.valid_acc.set_data(steps, h.array("valid_acc"))
        losses = np.concatenate([h.array("train_loss"), h.array("valid_loss")])
        losses = losses[np.isfinite(losses)]
        if losses.size:
            need = (0.0, min(float(losses.max()), 20.0))
            self.loss_ax.set_ylim(sticky_range(None if self._first else self.loss_ax.get_ylim(), need, 2.5, 1.3))
        self.diverged.set_text("" if h.diverged_at is None else
                               f"diverged at step {h.diverged_at}")
        half = (steps[1] - steps[0]) / 2 if len(steps) > 1 else FRAME_STEPS / 2
        extent_x = (steps[0] - half, steps[-1] + half)
        grads = h.array("grad_norms")
        self._show("grad", grads, extent_x)
        positive = grads[np.isfinite(grads) & (grads > 0)]
        if self.grad_limits is not None:
            self.images["grad"].set_clim(*self.grad_limits)
        elif positive.size:
            lo, hi = sticky_limits(None if self._first else (self.images["grad"].norm.vmin,
                                                             self.images["grad"].norm.vmax),
                                   positive.min(), positive.max(), log=True, slack=4)
            self.images["grad"].set_clim(lo, hi)
        self._show("ratio", h.array("update_ratio"), extent_x)
        if h.share_kind:
            self._show("share", h.array("shares"), extent_x)
            self.share_ax.set_title(f"{h.share_kind.capitalize()} share of each hidden layer")
            self.share_note.set_text("")
        else:
            self.images["share"].set_data(np.full((1, 1), np.nan))
            self.share_ax.set_title("Saturated or dead share")
            self.share_note.set_text(f"{h.config['activation']} neither saturates\nnor dies: nothing to show")
        n_dense = grads.shape[1] if grads.ndim == 2 else 1
        for ax, rows in ((self.grad_ax, n_dense), (self.ratio_ax, n_dense), (self.share_ax, n_dense - 1)):
            ax.set_ylim(0.5, max(rows, 1) + 0.5)
        self.title.set_text(describe(h.config))
        self._first = False

    def _show(self, name, values, extent_x):
        image = self.images[name]
        image.set_data(np.ma.masked_invalid(values.T if values.ndim == 2 else values[None]))
        image.set_extent((extent_x[0], extent_x[1], 0.5, values.shape[1] + 0.5 if values.ndim == 2 else 1.5))

    def static_key(self):
        return tuple((im.norm.vmin, im.norm.vmax) for im in self.images.values()) + (
            self.share_ax.get_title(),)

    def dynamic(self):
        return [self.train_loss, self.valid_loss, self.train_acc, self.valid_acc, self.diverged,
                *self.images.values(), self.share_note, self.title]

    def overlays(self):
        return self.legends


def _round_up(steps: float) -> float:
    """The first of 200, 500, 1000, 2000, 5000, ... that is at least ``steps``."""
    value = 200.0
    while value < steps:
        value *= 2.5 if str(int(value))[0] == "2" else 2
    return value


def training_in_words(h: TrainingHistory) -> str:
    """The figure in words (its text alternative), from the numbers it draws."""
    parts = [f"{describe(h.config)}, step {h.step}: {h.latest()}"]
    if h.diverged_at is not None:   # the rest would be of a broken network
        return parts[0]
    if len(h.grad_norms) and np.all(np.isfinite(h.grad_norms[-1])):
        parts.append(ratio_in_words(h.gradient_ratio))
    shares = h.array("shares")
    if h.share_kind and shares.size and np.isfinite(shares[-1]).any():
        parts.append(f"{100 * np.nanmean(shares[-1]):.0f}% of the hidden units {h.share_kind} on average, "
                     f"{100 * np.nanmax(shares[-1]):.0f}% in the worst layer")
    ratios = h.array("update_ratio")
    if ratios.ndim == 2 and np.isfinite(ratios[-1]).any():
        parts.append(f"update:data ratio from {np.nanmin(ratios[-1]):.0e} to {np.nanmax(ratios[-1]):.0e} "
                     "across the layers (about 1e-03 is healthy)")
    return "; ".join(parts)


def plot_training(history: TrainingHistory, grad_limits: tuple | None = None):
    """The training explorer's figure of one run, drawn once in a new figure
    (what the explorer shows at that step). ``grad_limits``: a fixed (low,
    high) for the gradient heat map's colour scale, the same for every figure
    drawn with it (None: the scale follows the run, as in the explorer).
    Returns the five axes."""
    if grad_limits is not None:
        low, high = grad_limits
        if not 0 < low < high:
            raise ValueError(f"grad_limits must be (low, high) with 0 < low < high, got {grad_limits!r}")
    return static_figure(TrainingView, history, figsize=FIGSIZE, grad_limits=grad_limits)


FIGSIZE = (12, 7.2)

#: the lecture's stories, one click each (notebook 07 measures each over several seeds)
PRESETS = {
    "20 sigmoid, N(0, 0.05²)": dict(depth=20, activation="sigmoid", initializer="random_normal", sigma=0.05,
                                    batch_norm="off", learning_rate=0.05, clipping="none"),
    "… Glorot": dict(depth=20, activation="sigmoid", initializer="glorot", batch_norm="off",
                     learning_rate=0.05, clipping="none"),
    "ReLU, He": dict(depth=20, activation="relu", initializer="he", batch_norm="off", learning_rate=0.05,
                     clipping="none"),
    "… + batch norm": dict(depth=20, activation="relu", initializer="he", batch_norm="before activation",
                           learning_rate=0.05, clipping="none"),
    "learning rate too high": dict(depth=20, activation="relu", initializer="he", batch_norm="off",
                                   learning_rate=0.3, clipping="none"),
    "… with clipnorm": dict(depth=20, activation="relu", initializer="he", batch_norm="off",
                            learning_rate=0.3, clipping="clipnorm", threshold=0.1),
}


# -- the explorer -------------------------------------------------------------

_PLAYING: "weakref.WeakSet[TrainingExplorer]" = weakref.WeakSet()


def pause_all() -> int:
    """Pause every training explorer of this kernel; how many were playing."""
    playing = [e for e in list(_PLAYING) if e.playing]
    for explorer in playing:
        explorer.pause()
    return len(playing)


def _stop_at_exit() -> None:
    """At interpreter exit, pause every explorer and let its worker finish
    its frame: a worker killed inside XLA or TensorFlow aborts the process."""
    pause_all()
    for thread in threading.enumerate():
        if thread.name == TrainingExplorer.thread_name:
            thread.join(timeout=5)


atexit.register(_stop_at_exit)

_HOOKED = False


def _pause_on_interrupt() -> None:
    """Make a kernel interrupt (the ■ button, or I, I) pause the training
    explorers, whether a cell is running or not.

    Running a cell, ipykernel turns SIGINT into a KeyboardInterrupt in that
    cell: an IPython ``post_run_cell`` hook sees it. Idle, ipykernel ignores
    SIGINT; the handler it puts back after each message (``saved_sigint_handler``)
    becomes one that pauses them instead."""
    global _HOOKED
    if _HOOKED:
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def after_cell(result):
        if isinstance(getattr(result, "error_in_exec", None), KeyboardInterrupt):
            pause_all()

    shell.events.register("post_run_cell", after_cell)
    kernel = getattr(shell, "kernel", None)
    if kernel is not None and hasattr(kernel, "saved_sigint_handler"):
        previous = kernel.saved_sigint_handler

        def on_interrupt(signum, frame):
            pause_all()
            if callable(previous):
                previous(signum, frame)

        kernel.saved_sigint_handler = on_interrupt  # put in place by ipykernel after this cell
    _HOOKED = True


class TrainingExplorer(Explorer):
    """The training explorer: an :class:`Explorer` whose worker also trains.

    A change of any control starts a new run (step 0) with the new values;
    Play trains frame after frame (:data:`FRAME_STEPS` steps each, at most
    :data:`MAX_FPS` frames a second) while the page ticks; Pause stops after
    the frame being trained; Step trains one frame; Reset starts the same
    configuration again. A diverged run pauses itself.
    """

    thread_name = "explorer-training"

    def __init__(self, controls, X, y, X_valid, y_valid, rows, *, presets=None, heartbeat_s=HEARTBEAT_S):
        import ipywidgets as w

        self.data = (X, y, X_valid, y_valid)
        self.heartbeat_s = heartbeat_s
        self.playing = False
        self.paused_why = ""
        self._timing = (0.0, 0.0)   # the last frame's (computed, drawn) seconds
        self._commands: list = []
        self._last_tick = -math.inf
        self.steps_per_s = 0.0
        self.run = None
        buttons = {}
        for name, icon in (("play", "play"), ("pause", "pause"), ("step", "step-forward"), ("reset", "undo")):
            button = w.Button(description=name.capitalize(), icon=icon, layout=w.Layout(width="90px"),
                              tooltip={"play": "train, a frame after another", "pause": "stop after this frame",
                                       "step": f"train one frame ({FRAME_STEPS} steps)",
                                       "reset": "start this configuration again"}[name])
            button.on_click(lambda _, name=name: self.press(name))
            buttons[name] = button
        self.buttons = buttons
        # the page's heartbeat: a hidden Play widget ticks while the page shows it (every
        # TICK_S: rarely enough that the ticks do not queue before a click on Pause)
        self.ticker = w.Play(value=0, min=0, max=10**9, interval=int(TICK_S * 1000),
                             layout=w.Layout(display="none"))
        self.ticker.observe(self._tick, names="value")
        super().__init__(controls, self._new_run, TrainingView, rows, presets=presets,
                         code=lambda v: keras_code(v, np.shape(X)[1:]), describe=describe, figsize=FIGSIZE,
                         toolbar=list(buttons.values()) + [self.ticker], words=training_in_words)
        self._set_buttons()
        _pause_on_interrupt()

    # -- the buttons --------------------------------------------------------
    def press(self, name: str) -> None:
        """What a click on Play, Pause, Step or Reset does (from code too)."""
        check_choice("button", name, ("play", "pause", "step", "reset"))
        if name == "play":
            if self.run.done:  # diverged, or at MAX_STEPS: Reset or a change starts again
                return
            pause_all()  # one run at a time: two would share the two cores
            self.playing = True
            self.paused_why = ""
            _PLAYING.add(self)
            self._last_tick = time.monotonic()  # the page's ticks take over from here
            self.ticker.playing = True
        elif name == "pause":
            self.pause()
            return
        with self._cond:
            if name != "play":
                self._commands.append(name)
            self._cond.notify_all()
        self._set_buttons()
        self._wake()

    def pause(self, why: str = "") -> None:
        """Stop training after the frame being trained (``why``: said in the status line)."""
        self.playing = False
        self.paused_why = why
        self.ticker.playing = False
        self._set_buttons()
        self._set_status(self.shown, "exact", *self._timing)
        with self._cond:
            self._cond.notify_all()

    def _set_buttons(self):
        done = self.run is not None and self.run.done
        self.buttons["play"].disabled = self.playing or done
        self.buttons["pause"].disabled = not self.playing
        self.buttons["step"].disabled = self.playing or done

    def _tick(self, change=None):
        self._last_tick = time.monotonic()
        if self.playing:
            with self._cond:
                self._cond.notify_all()

    def _page_watching(self) -> bool:
        return self.heartbeat_s is None or time.monotonic() - self._last_tick < self.heartbeat_s

    # -- the worker ---------------------------------------------------------
    def _new_run(self, values):
        self.run = TrainingRun(values, *self.data)
        return self.run.history

    def _has_work(self) -> bool:
        return self._wanted is not None or bool(self._commands) or (self.playing and not self.run.done)

    def _work(self):
        last_frame = 0.0
        while True:
            with self._cond:
                idle_since = time.monotonic()
                while not self._has_work():
                    if time.monotonic() - idle_since >= IDLE_EXIT_S:
                        self._thread = None
                        self._cond.notify_all()
                        return
                    self._cond.wait(IDLE_EXIT_S)
                values, self._wanted = self._wanted, None
                commands, self._commands = self._commands, []
                self._busy = True
            try:
                if values is not None or "reset" in commands:
                    self._show_run(lambda: self._new_run(values or self.values()))
                elif "step" in commands:
                    self._show_run(self.run.train)
                else:  # playing
                    wait = 1.0 / MAX_FPS - (time.perf_counter() - last_frame)
                    if wait > 0:
                        with self._cond:  # a Pause, a change or a Step during the wait comes first
                            self._cond.wait_for(lambda: not self.playing or self._wanted is not None
                                                or self._commands, timeout=wait)
                    if not self._page_watching():
                        self.pause(why="the page stopped ticking (closed, hidden or busy)")
                    elif self.playing and self._wanted is None and not self._commands:
                        last_frame = time.perf_counter()
                        self._show_run(self.run.train)
                if self.run.done and self.playing:
                    self.pause()
            except BaseException:  # never leave the explorer without its worker
                self.playing = False
                self._show_error()
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every change and button press so far is on screen (a
        playing explorer never catches up: pause it first)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._wanted is None and not self._commands and not self._busy,
                                       timeout=timeout):
                raise TimeoutError(f"the explorer did not catch up within {timeout} s")

    def _show_run(self, advance):
        """Advance the run (train a frame, or start a new one) and show it."""
        start = time.perf_counter()
        before = self.run.step if self.run is not None else 0
        trained_before = self.run.history.seconds if self.run is not None else 0.0
        try:
            with one_blas_thread():
                history = advance()
                computed = time.perf_counter() - start
                png = self.live.frame(history)
        except Exception:
            self.playing = False
            self._set_buttons()
            self._show_error()
            return
        drawn = time.perf_counter() - start - computed
        self.show_frame(png, history)
        if history.step > before:
            trained = history.seconds - trained_before
            self.steps_per_s = (history.step - before) / trained if trained > 0 else 0.0
        self.shown = self.values()
        self._timing = (computed, drawn)
        self._set_status(self.shown, "exact", computed, drawn)
        self._set_code(self.shown)
        self._set_buttons()

    def _set_status(self, values, kind, computed, drawn):
        import html
        import json

        run = self.run
        h = run.history
        state = "diverged" if h.diverged_at is not None else "playing" if self.playing else "paused"
        why = f" ({html.escape(self.paused_why)})" if state == "paused" and self.paused_why else ""
        epoch = h.step * run.config["batch_size"] / len(run.X)
        data = html.escape(json.dumps({"kind": "training", "state": state, "step": h.step,
                                       "frame": self.live.frames, "values": values}, default=str), quote=True)
        speed = f" · {self.steps_per_s:.0f} steps/s" if self.steps_per_s else ""
        self.status.value = (f'<span class="explorer-status" data-state="{data}"><b>{state}</b>{why} · '
                             f"step {h.step:,} (epoch {epoch:.2f}) · {html.escape(h.latest())}{speed} · "
                             f"frame: trained and measured in {computed * 1000:.0f} ms, "
                             f"drawn in {drawn * 1000:.0f} ms</span>")


def explore_training(X, y, X_valid, y_valid, **initial):
    """The live-training explorer: choose a network and its training, press
    Play, and watch it learn (or not).

    Args:
        X, y: the training images and labels it trains on (the profile's split).
        X_valid, y_valid: the validation split (its first :data:`VALID_IMAGES`
            images are measured every frame).
        initial: starting values of the controls (names as in :data:`DEFAULTS`).

    Returns:
        The widget. ``widget.explorer`` is the :class:`TrainingExplorer`
        (``.press("play")``, ``.run.history``).
    """
    import ipywidgets as w

    start = check_config(initial)
    style = {"description_width": "100px"}
    controls = {
        "depth": w.IntSlider(start["depth"], min=2, max=50, description="depth", style=style),
        "width": w.IntSlider(start["width"], min=10, max=300, step=10, description="width", style=style),
        "activation": w.Dropdown(options=ACTIVATIONS, value=start["activation"], description="activation",
                                 style=style),
        "initializer": w.Dropdown(options=INITIALIZERS, value=start["initializer"], description="initializer",
                                  style=style),
        "sigma": w.FloatLogSlider(start["sigma"], base=10, min=-3, max=0, step=0.05, description="σ (random)",
                                  readout_format=".3f", style=style),
        "batch_norm": w.Dropdown(options=BATCH_NORM, value=start["batch_norm"], description="batch norm",
                                 style=style),
        "learning_rate": w.FloatLogSlider(start["learning_rate"], base=10, min=-4, max=1, step=0.1,
                                          description="learning rate", readout_format=".4g", style=style),
        "clipping": w.Dropdown(options=CLIPPING, value=start["clipping"], description="clipping", style=style),
        "threshold": w.FloatLogSlider(start["threshold"], base=10, min=-2, max=2, step=0.1,
                                      description="threshold", readout_format=".3g", style=style),
        "batch_size": w.Dropdown(options=BATCH_SIZES, value=start["batch_size"], description="batch size",
                                 style=style),
        "seed": w.BoundedIntText(start["seed"], min=0, max=2**31 - 1, description="seed", style=style,
                                 layout=w.Layout(width="200px")),
    }
    for name in ("depth", "width", "sigma", "learning_rate", "threshold"):
        controls[name].continuous_update = False  # a new run when the slider is let go, not at every pixel

    def sync(change=None):
        controls["sigma"].disabled = controls["initializer"].value != "random_normal"
        controls["threshold"].disabled = controls["clipping"].value == "none"

    controls["initializer"].observe(sync, names="value")
    controls["clipping"].observe(sync, names="value")
    sync()
    explorer = TrainingExplorer(controls, X, y, X_valid, y_valid,
                                [["depth", "width", "activation", "initializer"],
                                 ["sigma", "batch_norm", "learning_rate", "batch_size"],
                                 ["clipping", "threshold", "seed"]],
                                presets=PRESETS)
    return explorer.widget
