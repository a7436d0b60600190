"""Copies of a model trained over seeds side by side (``lecture_utils.seeds``):
each copy trains exactly as it would alone, from its own seed and in its own
order."""
import keras
import numpy as np
import pytest

from lecture_utils import data
from lecture_utils.profile import get_profile
from lecture_utils.seeds import fit_seeds, training_order

SEEDS = (3, 7, 11)
N = 300   # 9 batches of 32 and a short one


@pytest.fixture(scope="module")
def fashion():
    d = data.load_fashion_mnist(get_profile("fast"), allow_download=False)
    return d.X_train[:N], d.y_train[:N], d.X_valid[:100], d.y_valid[:100]


def small_bn_model():
    # BatchNormalization too: its moving statistics are state each copy must keep to itself
    return keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                             keras.layers.Dense(16, activation="relu", kernel_initializer="he_normal"),
                             keras.layers.BatchNormalization(),
                             keras.layers.Dense(10, activation="softmax")])


def _alone(seed, X, y, Xv, yv, epochs):
    """The copy of ``seed`` trained by itself, on the same batches."""
    keras.utils.set_random_seed(seed)
    model = small_bn_model()
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.SGD(learning_rate=0.05),
                  metrics=["accuracy"])
    order = training_order(seed, len(X))
    history = model.fit(X[order], y[order], epochs=epochs, batch_size=32, shuffle=False,
                        validation_data=(Xv, yv), verbose=0).history
    return model, history


def test_each_copy_trains_as_it_would_alone(fashion):
    X, y, Xv, yv = fashion
    runs = fit_seeds(small_bn_model, SEEDS, X, y, epochs=2, batch_size=32, validation_data=(Xv, yv),
                     learning_rate=0.05, shuffle=False)
    assert runs.seeds == SEEDS
    assert {k: v.shape for k, v in runs.history.items()} == {
        k: (len(SEEDS), 2) for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
    for i, seed in enumerate(SEEDS):
        model, history = _alone(seed, X, y, Xv, yv, epochs=2)
        for together, alone in zip(runs.models[i].get_weights(), model.get_weights()):
            np.testing.assert_allclose(together, alone, rtol=1e-4, atol=1e-5)
        for metric in ("loss", "accuracy", "val_loss", "val_accuracy"):
            np.testing.assert_allclose(runs.history[metric][i], history[metric], rtol=1e-4, atol=1e-5)
        assert runs.final()[i] == runs.history["val_accuracy"][i, -1]


def test_copies_start_from_their_seeds_and_read_in_their_own_order(fashion):
    X, y, Xv, yv = fashion
    runs = fit_seeds(small_bn_model, SEEDS, X, y, epochs=1, batch_size=32, validation_data=(Xv, yv))
    first_layers = [m.layers[1].get_weights()[0] for m in runs.models]
    assert not np.allclose(first_layers[0], first_layers[1])
    orders = [training_order(seed, N) for seed in SEEDS]
    assert all(sorted(o) == list(range(N)) for o in orders)
    assert not np.array_equal(orders[0], orders[1])
    assert runs.seconds_per_epoch > 0
    # the same seeds give the same runs
    again = fit_seeds(small_bn_model, SEEDS, X, y, epochs=1, batch_size=32, validation_data=(Xv, yv))
    np.testing.assert_allclose(again.history["val_loss"], runs.history["val_loss"], rtol=1e-5)


@pytest.mark.parametrize("seeds, message", [
    ((), "seeds is empty"),
    ((1, 1), "seeds repeat"),
    ((1, -2), "non-negative integers, got -2"),
    ((1, 2.5), "non-negative integers, got 2.5"),
    ((True,), "non-negative integers, got True"),
])
def test_bad_seeds_are_named(fashion, seeds, message):
    X, y, Xv, yv = fashion
    with pytest.raises(ValueError, match=message):
        fit_seeds(small_bn_model, seeds, X, y, epochs=1, batch_size=32, validation_data=(Xv, yv))


def test_bad_build_and_data_are_named(fashion):
    X, y, Xv, yv = fashion
    with pytest.raises(TypeError, match="build must be a function"):
        fit_seeds(small_bn_model(), SEEDS, X, y, epochs=1, batch_size=32, validation_data=(Xv, yv))
    with pytest.raises(TypeError, match="must return a Keras model, got list"):
        fit_seeds(lambda: [], SEEDS, X, y, epochs=1, batch_size=32, validation_data=(Xv, yv))
    with pytest.raises(ValueError, match=r"validation_data must be a pair \(X_valid, y_valid\), got NoneType"):
        fit_seeds(small_bn_model, SEEDS, X, y, epochs=1, batch_size=32, validation_data=None)
    with pytest.raises(ValueError, match="300 images, 299 labels"):
        fit_seeds(small_bn_model, SEEDS, X, y[:-1], epochs=1, batch_size=32, validation_data=(Xv, yv))


def test_final_names_the_metrics_logged(fashion):
    X, y, Xv, yv = fashion
    runs = fit_seeds(small_bn_model, (5,), X, y, epochs=1, batch_size=32, validation_data=(Xv, yv))
    with pytest.raises(KeyError, match="no metric 'val_acc'; logged: accuracy, loss, val_accuracy, val_loss"):
        runs.final("val_acc")
