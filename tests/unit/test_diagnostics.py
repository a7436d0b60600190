"""lecture_utils.diagnostics on hand-built models whose answers are known."""
import math

import keras
import numpy as np
import pytest

from lecture_utils import diagnostics, plots


def _dense(units, activation, kernel, bias):
    layer = keras.layers.Dense(units, activation=activation,
                               kernel_initializer=keras.initializers.Constant(kernel),
                               bias_initializer=keras.initializers.Constant(bias))
    return layer


def test_saturated_share_of_sigmoid_and_tanh():
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    model = keras.Sequential([
        keras.Input((4,)),
        _dense(6, "sigmoid", 0.0, 10.0),   # sigmoid(10) = 0.99995: all saturated
        _dense(6, "sigmoid", 0.0, 0.0),    # sigmoid(0) = 0.5: none saturated
        _dense(6, "tanh", 0.0, -3.0),      # tanh(-3) = -0.995: all saturated
        _dense(6, "relu", 0.0, 1.0),
    ])
    stats = diagnostics.activation_stats(model, x)
    assert [s.activation for s in stats] == ["sigmoid", "sigmoid", "tanh", "relu"]
    assert [s.saturated for s in stats[:3]] == [1.0, 0.0, 1.0]
    assert math.isnan(stats[3].saturated)
    assert stats[1].mean == pytest.approx(0.5) and stats[1].std == pytest.approx(0.0, abs=1e-7)
    assert stats[2].mean == pytest.approx(np.tanh(-3.0), rel=1e-5)


def test_dead_share_of_relu():
    x = np.random.default_rng(1).normal(size=(64, 3)).astype("float32")
    bias = np.array([-1.0, -1.0, -1.0, 1.0], dtype="float32")  # 3 of 4 units never fire
    model = keras.Sequential([keras.Input((3,)), _dense(4, "relu", 0.0, bias)])
    (s,) = diagnostics.activation_stats(model, x)
    assert s.dead == 0.75
    assert s.mean == pytest.approx(0.25)
    leaky = keras.Sequential([keras.Input((3,)), _dense(4, None, 0.0, bias), keras.layers.LeakyReLU()])
    stats = diagnostics.activation_stats(leaky, x)
    assert stats[1].activation == "leaky_relu" and math.isnan(stats[1].dead)


def test_gradient_norm_and_update_ratio_of_a_linear_layer():
    # one linear layer, MSE: dL/dW = 2 / (N k) X^T (XW + b - Y), known in closed form
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 3)).astype("float32")
    Y = rng.normal(size=(20, 2)).astype("float32")
    W = rng.normal(size=(3, 2)).astype("float32")
    b = np.array([0.5, -0.5], dtype="float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.set_weights([W, b])
    expected = 2 / (20 * 2) * X.T @ (X @ W + b - Y)
    (s,) = diagnostics.layer_stats(model, X, Y, loss="mse", learning_rate=0.01)
    assert s.grad_norm == pytest.approx(np.linalg.norm(expected), rel=1e-4)
    assert s.update_ratio == pytest.approx(0.01 * expected.std() / W.std(), rel=1e-4)
    identity = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, use_bias=False)])
    identity.set_weights([np.eye(3, dtype="float32")])
    (s,) = diagnostics.activation_stats(identity, X)
    assert s.mean == pytest.approx(X.mean(), abs=1e-6) and s.std == pytest.approx(X.std(), rel=1e-5)


def test_functional_model_and_text_table():
    inputs = keras.Input((3,))
    h = keras.layers.Dense(4, activation="sigmoid", name="h")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", name="o")(h)
    model = keras.Model(inputs, outputs)
    x = np.zeros((5, 3), "float32")
    stats = diagnostics.layer_stats(model, x, np.zeros(5, "int64"), learning_rate=0.1)
    assert [s.name for s in stats] == ["h", "o"]
    table = diagnostics.format_stats(stats)
    assert "sigmoid" in table and "  0.0%" in table


def test_callback_records_each_epoch_and_weights_change():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(64, 5)).astype("float32")
    y = (X[:, 0] > 0).astype("int64")
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="sparse_categorical_crossentropy")
    recorder = diagnostics.DiagnosticsCallback(X[:32], y[:32])
    model.fit(X, y, epochs=3, batch_size=16, verbose=0, callbacks=[recorder])
    assert [epoch for epoch, _ in recorder.history] == [0, 1, 2, 3]
    names, norms = recorder.series("grad_norm")
    assert names == [layer.name for layer in model.layers] and norms.shape == (4, 2)
    assert not np.allclose(norms[0], norms[-1])  # it measured the model as it trained
    _, ratios = recorder.series("update_ratio")
    assert np.all(ratios > 0)  # the compiled optimizer's learning rate was used
    with pytest.raises(ValueError, match="unknown field 'gradnorm'"):
        recorder.series("gradnorm")


def test_plot_layer_stats_draws_one_point_per_layer():
    stats = [diagnostics.LayerStats(i, f"l{i}", "sigmoid", 0.0, 1.0, grad_norm=10.0 ** -i) for i in range(4)]
    ax = plots.plot_layer_stats(stats, "grad_norm", label="demo", title="t")
    (line,) = ax.get_lines()
    assert list(line.get_ydata()) == [1.0, 0.1, 0.01, 0.001] and ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="no layer has a value for 'dead'"):
        plots.plot_layer_stats(stats, "dead")
    with pytest.raises(ValueError, match="unknown field"):
        plots.plot_layer_stats(stats, "gradients")


def test_plot_image_grid_titles_each_image_with_its_class():
    X, y = np.zeros((6, 28, 28)), np.array([0, 1, 0, 1, 1, 0])
    fig = plots.plot_image_grid(X, y, ("Sandal", "Shirt"), n_rows=2, n_cols=3, title="task B")
    assert [ax.get_title() for ax in fig.axes] == ["Sandal", "Shirt", "Sandal", "Shirt", "Shirt", "Sandal"]
    assert fig.texts[0].get_text() == "task B"
    with pytest.raises(ValueError, match="need at least 8 images for a 2x4 grid, got 6"):
        plots.plot_image_grid(X, y, ("Sandal", "Shirt"), n_rows=2, n_cols=4)
