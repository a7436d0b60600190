"""Training one model over several seeds, the copies side by side.

A comparison that depends on chance trains the same network from several
seeds. :func:`fit_seeds` trains all the copies at once, as one Keras model:
each copy is built after ``keras.utils.set_random_seed(seed)`` (so its weights
are the ones a run from that seed would start from), takes its own input and
has its own output and loss, and reads the training images in its own order
(shuffled by its seed, then with the others each epoch). The loss Keras
minimises is the sum of the copies' losses, and a copy's weights appear in its
own loss only, so each copy's gradient, and with SGD its every step, is the
one it would get trained alone on the same batches (``tests/unit`` checks it).
What is shared is the per-step overhead of the backend, which for the
lecture's small models costs more than their arithmetic (``benchmarks/``,
"Training engine").

Introduced in ``notebooks/01_vanishing_gradients.ipynb``; used by 02, 03 and 04.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np


@dataclasses.dataclass(frozen=True)
class SeedRuns:
    """The copies' training, seed by seed.

    Attributes:
        seeds: the seeds, in the order of the rows below.
        history: each metric Keras logged (``"loss"``, ``"accuracy"``,
            ``"val_loss"``, ``"val_accuracy"``) as an array of shape
            (seeds, epochs).
        seconds_per_epoch: wall-clock seconds an epoch of all the copies took.
        models: the trained copies, one per seed.
    """

    seeds: tuple
    history: dict
    seconds_per_epoch: float
    models: tuple

    def final(self, metric: str = "val_accuracy") -> np.ndarray:
        """``metric`` after the last epoch, one value per seed."""
        if metric not in self.history:
            raise KeyError(f"no metric {metric!r}; logged: {', '.join(sorted(self.history))}")
        return self.history[metric][:, -1]


def _check_seeds(seeds) -> tuple:
    seeds = tuple(seeds)
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed, e.g. PROFILE.seeds")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seeds must be non-negative integers, got {seed!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds repeat: {seeds}; each copy needs a seed of its own")
    return tuple(int(s) for s in seeds)


def training_order(seed: int, n: int) -> np.ndarray:
    """The order in which the copy of seed ``seed`` reads ``n`` training images
    (before ``fit`` shuffles all the copies' images alike each epoch)."""
    return np.random.default_rng(seed).permutation(n)


def fit_seeds(build, seeds, X, y, *, epochs: int, batch_size: int, validation_data,
              learning_rate: float = 1e-3, shuffle: bool = True, callbacks=None,
              **compile_options) -> SeedRuns:
    """Train ``build()`` from each seed, the copies side by side, with SGD.

    Args:
        build: a function of no arguments returning a new, uncompiled Keras
            model (one input, one softmax output over the classes).
        seeds: the seeds, one copy each (``PROFILE.seeds``).
        X, y: the training images and labels.
        epochs, batch_size: as for ``model.fit``.
        validation_data: ``(X_valid, y_valid)``, evaluated after each epoch.
        learning_rate: SGD's learning rate.
        shuffle: as for ``model.fit`` (each copy's own order is kept either way).
        callbacks: as for ``model.fit``; they see the copies as one model.
        **compile_options: passed to ``model.compile`` (e.g.
            ``steps_per_execution``, ``jit_compile``).

    Returns:
        a :class:`SeedRuns`.

    Memory: it holds one copy of ``X`` per seed, in that seed's order (for the
    full profile's 55,000 images, 172 MB each).
    """
    import keras

    seeds = _check_seeds(seeds)
    if isinstance(build, keras.Model) or not callable(build):
        raise TypeError(f"build must be a function returning a new model, got {type(build).__name__}")
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y differ in length: {len(X)} images, {len(y)} labels")
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise ValueError(f"validation_data must be a pair (X_valid, y_valid), got {type(validation_data).__name__}")
    X_valid, y_valid = validation_data
    inputs, outputs, models = {}, {}, []
    X_in, y_in, X_valid_in, y_valid_in = {}, {}, {}, {}
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        model = build()
        if not isinstance(model, keras.Model):
            raise TypeError(f"build() must return a Keras model, got {type(model).__name__}")
        models.append(model)
        images, name = f"images_{seed}", f"seed_{seed}"
        inputs[images] = keras.Input(shape=X.shape[1:], name=images)
        outputs[name] = keras.layers.Identity(name=name)(model(inputs[images]))
        # each copy its own order: permuted by its seed, then (with the others) by fit's shuffle
        order = training_order(seed, len(X))
        X_in[images], y_in[name] = X[order], y[order]
        X_valid_in[images], y_valid_in[name] = X_valid, y_valid
    together = keras.Model(inputs, outputs)
    together.compile(loss={name: "sparse_categorical_crossentropy" for name in outputs},
                     optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                     # the loss as a metric too: Keras averages each output's own loss over
                     # batches unweighted, so a short last batch counts as much as a full one
                     metrics={name: ["accuracy", keras.metrics.SparseCategoricalCrossentropy(name="crossentropy")]
                              for name in outputs}, **compile_options)
    start = time.perf_counter()
    logged = together.fit(X_in, y_in, epochs=epochs, batch_size=batch_size, shuffle=shuffle, callbacks=callbacks,
                          verbose=0, validation_data=(X_valid_in, y_valid_in)).history
    seconds = (time.perf_counter() - start) / epochs
    history = {}
    for metric, logged_as in (("loss", "crossentropy"), ("accuracy", "accuracy")):
        for prefix in ("", "val_"):
            # with one copy, Keras does not put the output's name in front
            keys = [f"{prefix}seed_{seed}_{logged_as}" if len(seeds) > 1 else prefix + logged_as for seed in seeds]
            history[prefix + metric] = np.array([logged[key] for key in keys])
    return SeedRuns(seeds, history, seconds, tuple(models))
