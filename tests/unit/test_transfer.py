"""Model B on A as the slide builds it, the freeze-then-unfreeze recipe, the
grid behind the transfer explorer, and the explorer's lookup."""
import math

import keras
import numpy as np
import pytest

from lecture_utils import data, explorers, transfer
from lecture_utils.explorers import transfer as transfer_explorer
from lecture_utils.profile import get_profile

# Dense parameters of the lecture's MLP: 784-300-100-50-50-50, then the output
PARAMS = [784 * 300 + 300, 300 * 100 + 100, 100 * 50 + 50, 50 * 50 + 50, 50 * 50 + 50]


@pytest.fixture(scope="module")
def tasks():
    d = data.load_fashion_mnist(get_profile("fast"), allow_download=False)
    (X_A, y_A), (X_B, y_B) = data.split_task_a_b(d.X_train, d.y_train)
    _, (X_Bt, y_Bt) = data.split_task_a_b(d.X_test, d.y_test)
    return X_A, y_A, X_B, y_B, X_Bt, y_Bt


@pytest.fixture
def model_A():
    keras.utils.set_random_seed(0)
    return transfer.build_mlp(8, "softmax")


def _weights(layers):
    return [w.copy() for layer in layers for w in layer.get_weights()]


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_build_mlp_is_the_lecture_model(model_A):
    assert [type(layer).__name__ for layer in model_A.layers] == ["Flatten"] + ["Dense"] * 6
    assert model_A.count_params() == sum(PARAMS) + 50 * 8 + 8
    assert model_A.layers[1].activation.__name__ == "selu"


@pytest.mark.parametrize("k", [0, 2, 5])
def test_model_b_on_a_reuses_copies_of_the_lower_layers(model_A, k):
    model, reused = transfer.model_b_on_a(model_A, k)
    assert len(model.layers) == 7 and model.output_shape == (None, 1)
    assert len(reused) == k
    for mine, theirs in zip(model.layers[1:1 + k], model_A.layers[1:1 + k]):
        assert mine is not theirs                                    # a clone ...
        assert _same(mine.get_weights(), theirs.get_weights())       # ... with A's weights
    assert model.layers[-1].activation.__name__ == "sigmoid"
    assert model.count_params() == sum(PARAMS) + 51


def test_model_b_on_a_rejects_a_bad_number_of_layers(model_A):
    for bad in (-1, 6, 2.0, True, "5"):
        with pytest.raises(ValueError, match="n_reused must be an integer from 0 to 5"):
            transfer.model_b_on_a(model_A, bad)


def test_recipe_rejects_bad_values():
    with pytest.raises(ValueError, match="frozen_steps must be an integer from 0 to steps=3"):
        transfer.Recipe(steps=3, frozen_steps=4)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        transfer.Recipe(steps=0)
    with pytest.raises(ValueError, match="learning rates must be positive"):
        transfer.Recipe(lr_unfrozen=0)


def test_freeze_then_unfreeze(tasks, model_A):
    _, _, X_B, y_B, _, _ = tasks
    X, y = X_B[:64], y_B[:64]
    before_A = _weights(model_A.layers)

    model, reused = transfer.model_b_on_a(model_A)
    start, head = _weights(reused), _weights(model.layers[-1:])
    history = transfer.train_b_on_a(model, reused, X, y, transfer.Recipe(steps=2, frozen_steps=2))
    assert history["trainable"] == [51]                  # only the new output layer
    assert _same(_weights(reused), start)                # frozen layers did not move
    assert not _same(_weights(model.layers[-1:]), head)    # the new output layer did

    history = transfer.train_b_on_a(model, reused, X, y, transfer.Recipe(steps=4, frozen_steps=2))
    assert history["trainable"] == [51, sum(PARAMS) + 51]
    assert len(history["loss"]) == 2 and all(np.isfinite(history["loss"]))
    assert not _same(_weights(reused), start)            # unfrozen, they learn
    assert _same(_weights(model_A.layers), before_A)     # and model A never changed


def test_without_the_clone_training_b_changes_a(tasks, model_A):
    """The reason for clone_model + set_weights: the slide's Sequential over
    model_A's own layers shares them."""
    _, _, X_B, y_B, _, _ = tasks
    before = _weights(model_A.layers[:-1])
    shared = keras.Sequential(model_A.layers[:-1])
    shared.add(keras.layers.Dense(1, activation="sigmoid"))
    transfer.train_b_from_scratch(shared, X_B[:64], y_B[:64], transfer.Recipe(steps=2, frozen_steps=0))
    assert not _same(_weights(model_A.layers[:-1]), before)


def test_fit_steps_takes_exactly_that_many_steps(tasks):
    _, _, X_B, y_B, _, _ = tasks
    model = transfer.build_mlp(1, "sigmoid")
    transfer.train_b_from_scratch(model, X_B[:20], y_B[:20], transfer.Recipe(steps=7, frozen_steps=0))
    assert int(model.optimizer.iterations) == 7     # 7 batches of 32 from 20 images
    history = transfer.train_b_from_scratch(model, X_B[:20], y_B[:20])
    assert int(model.optimizer.iterations) == 140 and history["trainable"] == [sum(PARAMS) + 51]


def test_accuracy_thresholds_a_sigmoid_at_one_half():
    model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid", kernel_initializer="zeros",
                                                 bias_initializer=keras.initializers.Constant(3.0))])
    y = np.array([1, 1, 1, 0], dtype=np.float32)
    assert transfer.accuracy(model, np.zeros((4, 28, 28), np.float32), y) == 0.75


def test_transfer_grid_shapes_and_errors(tasks, model_A):
    _, _, X_B, y_B, X_Bt, y_Bt = tasks
    recipe = transfer.Recipe(steps=4, frozen_steps=2)
    grid = transfer.transfer_grid(model_A, X_B, y_B, X_Bt[:100], y_Bt[:100], n_reused=(1, 5),
                                  n_images=(20, 40), seeds=(7,), recipe=recipe)
    assert grid.scratch.shape == (2, 1) and grid.on_a.shape == (2, 2, 1)
    for accuracies in (grid.scratch, grid.on_a):
        assert np.all((accuracies >= 0) & (accuracies <= 1))
        assert np.allclose(accuracies * 100, np.round(accuracies * 100))  # k/100 test images
    assert grid.seconds > 0 and grid.recipe is recipe
    with pytest.raises(ValueError, match="n_images goes up to"):
        transfer.transfer_grid(model_A, X_B, y_B, X_Bt, y_Bt, (5,), (len(y_B) + 1,), (0,))
    with pytest.raises(ValueError, match="seeds must not be empty"):
        transfer.transfer_grid(model_A, X_B, y_B, X_Bt, y_Bt, (5,), (20,), ())


# ---------------------------------------------------------------- the explorer

@pytest.fixture
def grid():
    scratch = np.array([[0.80, 0.90], [0.95, 0.97]])                  # 2 sizes x 2 seeds
    on_a = np.array([[[0.85, 0.87], [0.96, 0.96]],                     # 1 layer reused
                     [[0.90, 0.94], [0.98, 0.98]]])                    # 5 layers reused
    return transfer.TransferGrid((1, 5), (20, 200), (42, 43), scratch, on_a, transfer.Recipe())


def test_compute_transfer_looks_up_the_grid(grid):
    choice = explorers.compute_transfer(grid, 5, 20)
    assert choice.scratch.tolist() == [0.80, 0.90]
    assert choice.on_a.tolist() == [0.90, 0.94]
    assert choice.error_ratio == pytest.approx(0.15 / 0.08)
    assert explorers.compute_transfer(grid, 1, 200).error_ratio == pytest.approx(0.04 / 0.04)
    with pytest.raises(ValueError, match=r"n_images must be one of 20, 200; got 100"):
        explorers.compute_transfer(grid, 5, 100)
    with pytest.raises(ValueError, match=r"n_reused must be one of 1, 5; got 3"):
        explorers.compute_transfer(grid, 3, 20)


def test_error_ratio_of_a_perfect_b_on_a(grid):
    grid.on_a[1, 1] = 1.0
    assert explorers.compute_transfer(grid, 5, 200).error_ratio == math.inf


def test_transfer_explorer_redraws(grid, monkeypatch):
    calls = []
    real = transfer_explorer.compute_transfer
    monkeypatch.setattr(transfer_explorer, "compute_transfer",
                        lambda *a, **k: calls.append((k["n_reused"], k["n_images"])) or real(*a, **k))
    ui = explorers.explore_transfer(grid)
    layers, images = ui.explorer.controls.values()
    images.value = 200
    ui.flush()
    assert calls[-1] == (5, 200) and ui.explorer.shown == {"n_reused": 5, "n_images": 200}
    layers.value = 1
    ui.flush()
    assert calls[-1] == (1, 200)
    with pytest.raises(ValueError, match="unknown control"):
        explorers.explore_transfer(grid, seed=3)
    with pytest.raises(ValueError, match="n_images must be one of"):
        explorers.explore_transfer(grid, n_images=7)
