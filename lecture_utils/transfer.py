"""Transfer learning as the lecture does it: model A on eight classes, model B
on sandals vs shirts, and model B built on A's lower layers.

The notebook writes the slide's steps out once; the functions here repeat the
same steps so that they can be run over seeds, numbers of reused layers and
numbers of task-B images (the transfer explorer's grid).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

HIDDEN = (300, 100, 50, 50, 50)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How model B is trained, with and without A, counted in gradient steps
    (mini-batches) so that every training-set size gets the same budget.

    B on A: ``frozen_steps`` with the reused layers frozen at learning rate
    ``lr``, then the rest of the ``steps`` with everything trainable at the
    lower ``lr_unfrozen``. B from scratch: ``steps`` at ``lr``. SGD, mini-batches
    of ``batch_size``. The defaults are the book's 4 + 16 epochs of 200
    images (7 mini-batches of 32 an epoch).
    """
    steps: int = 140
    frozen_steps: int = 28
    lr: float = 3e-2
    lr_unfrozen: float = 3e-3
    batch_size: int = 32

    def __post_init__(self):
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps must be a positive integer; got {self.steps!r}")
        if isinstance(self.frozen_steps, bool) or not isinstance(self.frozen_steps, int) \
                or not 0 <= self.frozen_steps <= self.steps:
            raise ValueError(f"frozen_steps must be an integer from 0 to steps={self.steps}; "
                             f"got {self.frozen_steps!r}")
        if not (self.lr > 0 and self.lr_unfrozen > 0):
            raise ValueError(f"learning rates must be positive; got lr={self.lr!r}, "
                             f"lr_unfrozen={self.lr_unfrozen!r}")


def build_mlp(n_outputs: int, output_activation: str, hidden=HIDDEN, activation: str = "selu"):
    """The lecture's multilayer perceptron: Flatten, the ``hidden`` Dense
    layers, and an output layer. Seed first (``keras.utils.set_random_seed``):
    the initial weights come from Keras's global seed."""
    import keras

    model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten()])
    for units in hidden:
        model.add(keras.layers.Dense(units, activation=activation))
    model.add(keras.layers.Dense(n_outputs, activation=output_activation))
    return model


def n_trainable(model) -> int:
    """How many parameters ``model`` would update now."""
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))


def model_b_on_a(model_A, n_reused: int | None = None, hidden=HIDDEN, activation: str = "selu"):
    """Model B on A, the slide's way: clone A, copy its weights, keep Flatten
    and the first ``n_reused`` hidden layers (all of them when None), add fresh
    hidden layers for the ones not reused, and a new ``Dense(1, sigmoid)``.

    Returns:
        ``(model, reused_layers)``; training ``model`` never changes ``model_A``.

    Raises:
        ValueError: ``n_reused`` not from 0 to the number of hidden layers.
    """
    import keras

    n_hidden = len(hidden)
    if n_reused is None:
        n_reused = n_hidden
    if isinstance(n_reused, bool) or not isinstance(n_reused, (int, np.integer)) \
            or not 0 <= n_reused <= n_hidden:
        raise ValueError(f"n_reused must be an integer from 0 to {n_hidden}; got {n_reused!r}")
    model_A_clone = keras.models.clone_model(model_A)
    model_A_clone.set_weights(model_A.get_weights())
    reused = model_A_clone.layers[1:1 + n_reused]
    model = keras.Sequential([keras.Input(shape=(28, 28))] + model_A_clone.layers[:1 + n_reused])
    for units in hidden[n_reused:]:
        model.add(keras.layers.Dense(units, activation=activation))
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    return model, reused


def _compile(model, lr: float) -> None:
    import keras

    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.SGD(learning_rate=lr),
                  metrics=["accuracy"])


def _fit_steps(model, X, y, steps: int, batch_size: int, rng: np.random.Generator) -> float:
    """Exactly ``steps`` mini-batches: passes over a fresh shuffle of the data,
    one after another, cut at ``steps * batch_size`` samples. Returns the
    mean training loss."""
    n = steps * batch_size
    order = np.concatenate([rng.permutation(len(X)) for _ in range(-(-n // len(X)))])[:n]
    history = model.fit(X[order], y[order], epochs=1, batch_size=batch_size, shuffle=False, verbose=0)
    return float(history.history["loss"][-1])


def train_b_on_a(model, reused_layers, X, y, recipe: Recipe = Recipe(), seed: int = 0) -> dict:
    """Freeze ``reused_layers`` for ``recipe.frozen_steps`` steps, then
    unfreeze them and go on at the lower learning rate, recompiling after each
    change of ``trainable``. ``seed`` shuffles the mini-batches.

    Returns:
        ``{"trainable": [...], "loss": [...]}``: each phase's trainable
        parameter count and mean training loss.
    """
    rng = np.random.default_rng(seed)
    history = {"trainable": [], "loss": []}
    phases = [(False, recipe.lr, recipe.frozen_steps),
              (True, recipe.lr_unfrozen, recipe.steps - recipe.frozen_steps)]
    for flag, lr, steps in phases:
        if steps == 0:
            continue
        for layer in reused_layers:
            layer.trainable = flag
        _compile(model, lr)
        history["trainable"].append(n_trainable(model))
        history["loss"].append(_fit_steps(model, X, y, steps, recipe.batch_size, rng))
    return history


def train_b_from_scratch(model, X, y, recipe: Recipe = Recipe(), seed: int = 0) -> dict:
    """Train a fresh model B for ``recipe.steps`` steps at ``recipe.lr``.

    Returns:
        ``{"trainable": [count], "loss": [mean training loss]}``.
    """
    _compile(model, recipe.lr)
    loss = _fit_steps(model, X, y, recipe.steps, recipe.batch_size, np.random.default_rng(seed))
    return {"trainable": [n_trainable(model)], "loss": [loss]}


def accuracy(model, X, y) -> float:
    """Binary accuracy of a sigmoid model B (threshold 0.5)."""
    import keras

    # calling the model (rather than model.predict) avoids tracing a new
    # predict function for every model of a grid
    p = np.concatenate([keras.ops.convert_to_numpy(model(X[i:i + 1024], training=False)).reshape(-1)
                        for i in range(0, len(X), 1024)])
    return float(np.mean((p > 0.5) == (np.asarray(y).reshape(-1) > 0.5)))


@dataclasses.dataclass
class TransferGrid:
    """Test accuracies of model B from scratch and on A.

    ``scratch[j, s]``: B alone trained on ``n_images[j]`` images with seed
    ``seeds[s]``; ``on_a[i, j, s]``: B on A reusing ``n_reused[i]`` layers,
    same images and seed. ``seconds``: time taken to compute the grid.
    """
    n_reused: tuple
    n_images: tuple
    seeds: tuple
    scratch: np.ndarray
    on_a: np.ndarray
    recipe: Recipe
    seconds: float = 0.0


def fit_pair(model_A, X_pool, y_pool, X_test, y_test, n_images: int, seed: int,
             n_reused=(None,), recipe: Recipe = Recipe()) -> tuple:
    """One seed of the comparison: draw ``n_images`` task-B training images
    (stratified, ``seed``), train B from scratch and B on A (for each entry of
    ``n_reused``) from weights seeded with ``seed``, and test them.

    Returns:
        ``(scratch_accuracy, [on_a_accuracy for each n_reused])``.
    """
    import keras

    from .data import stratified_indices

    i = stratified_indices(y_pool, n_images, seed=seed)
    X, y = X_pool[i], y_pool[i]
    keras.utils.set_random_seed(seed)
    scratch = build_mlp(1, "sigmoid")
    train_b_from_scratch(scratch, X, y, recipe, seed)
    on_a = []
    for k in n_reused:
        keras.utils.set_random_seed(seed)
        model, reused = model_b_on_a(model_A, k)
        train_b_on_a(model, reused, X, y, recipe, seed)
        on_a.append(accuracy(model, X_test, y_test))
    return accuracy(scratch, X_test, y_test), on_a


def transfer_grid(model_A, X_pool, y_pool, X_test, y_test, n_reused, n_images, seeds,
                  recipe: Recipe = Recipe()) -> TransferGrid:
    """Train and test B from scratch and B on A for every number of reused
    layers, number of task-B training images and seed (see :func:`fit_pair`).

    Raises:
        ValueError: an empty axis, or more images asked for than the pool has.
    """
    n_reused, n_images, seeds = tuple(n_reused), tuple(n_images), tuple(seeds)
    for name, axis in (("n_reused", n_reused), ("n_images", n_images), ("seeds", seeds)):
        if not axis:
            raise ValueError(f"{name} must not be empty")
    if max(n_images) > len(y_pool):
        raise ValueError(f"n_images goes up to {max(n_images)} but the task-B pool has "
                         f"{len(y_pool)} images")
    start = time.perf_counter()
    scratch = np.zeros((len(n_images), len(seeds)))
    on_a = np.zeros((len(n_reused), len(n_images), len(seeds)))
    for j, n in enumerate(n_images):
        for s, seed in enumerate(seeds):
            scratch[j, s], accs = fit_pair(model_A, X_pool, y_pool, X_test, y_test, n, seed,
                                           n_reused, recipe)
            on_a[:, j, s] = accs
    return TransferGrid(n_reused, n_images, seeds, scratch, on_a, recipe,
                        time.perf_counter() - start)
