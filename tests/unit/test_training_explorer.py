"""The live-training explorer: its trainer against Keras and NumPy (training
unchanged by the measuring, gradient norms, batch normalization, the three
clippings, the update:data ratio, dead units), and the explorer's buttons,
pausing, heartbeat and threads."""
import html
import math
import time

import keras
import numpy as np
import pytest

from lecture_utils import data
from lecture_utils.explorers import training
from lecture_utils.explorers.training import TrainingRun, compute_training
from lecture_utils.grads import compute_gradients
from lecture_utils.profile import get_profile

SMALL = dict(depth=3, width=32)


@pytest.fixture(scope="module")
def fmnist():
    d = data.load_fashion_mnist(get_profile("fast"), allow_download=False)
    return d.X_train[:2000], d.y_train[:2000], d.X_valid, d.y_valid


def _weights(model):
    return [np.array(keras.ops.convert_to_numpy(v)) for v in model.variables]


@pytest.mark.parametrize("batch_norm", training.BATCH_NORM)
def test_measuring_does_not_change_the_training(fmnist, batch_norm):
    """A run measured every frame ends with the weights (BN moving statistics
    included) of the same model trained on the same batches with nothing
    measured in between."""
    config = dict(SMALL, activation="relu", initializer="he", batch_norm=batch_norm, learning_rate=0.05)
    run = TrainingRun(config, *fmnist)
    batches = np.random.default_rng(config.get("seed", 42))
    order = batches.permutation(len(fmnist[0]))[: 3 * training.FRAME_STEPS * 32].reshape(-1, 32)
    for _ in range(3):
        run.train()
    plain = training.build_model(run.config, fmnist[0].shape[1:])
    for index in order:
        plain.train_on_batch(fmnist[0][index], fmnist[1][index])
    for measured, unmeasured in zip(_weights(run.model), _weights(plain)):
        np.testing.assert_allclose(measured, unmeasured, rtol=1e-5, atol=1e-6)
    if batch_norm != "off":  # the moving statistics moved (the check above covers them)
        moving = [v for v in run.model.non_trainable_variables if "moving_mean" in v.path]
        assert moving and np.abs(keras.ops.convert_to_numpy(moving[0])).max() > 0


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def test_gradient_norms_and_dead_shares_match_numpy(fmnist):
    """The output layer's gradient norm, the hidden layers' dead shares: from
    the run's own kernels, by hand in NumPy (Dense → ReLU, softmax + cross-entropy)."""
    run = TrainingRun(dict(SMALL, activation="relu", initializer="random_normal", sigma=0.15,
                           learning_rate=0.05), *fmnist)
    run.train()
    x = run.X_probe.reshape(len(run.X_probe), -1).astype(np.float64)
    dense = [(np.asarray(keras.ops.convert_to_numpy(d.kernel), np.float64),
              np.asarray(keras.ops.convert_to_numpy(d.bias), np.float64)) for d in run.dense]
    hidden = []
    for kernel, bias in dense[:-1]:
        x = np.maximum(x @ kernel + bias, 0)
        hidden.append(x)
    p = _softmax(x @ dense[-1][0] + dense[-1][1])
    p[np.arange(len(p)), run.y_probe] -= 1
    grad_out = x.T @ p / len(p)
    h = run.history
    assert h.grad_norms[-1][-1] == pytest.approx(np.linalg.norm(grad_out), rel=1e-3)
    assert h.shares[-1] == pytest.approx([np.mean(np.all(a <= 0, axis=0)) for a in hidden], abs=1e-9)
    assert h.share_kind == "dead" and len(h.grad_norms[-1]) == SMALL["depth"] + 1


def test_gradient_norms_are_those_of_keras(fmnist):
    """Every layer's norm, as lecture_utils.grads computes it on the probe batch."""
    run = TrainingRun(dict(SMALL, activation="tanh", learning_rate=0.05), *fmnist)
    _, layers = compute_gradients(run.model, run.X_probe, run.y_probe)
    expected = [np.linalg.norm(g.grad("kernel").astype(np.float64)) for g in layers if "kernel" in g.weight_names]
    assert run.history.grad_norms[0] == pytest.approx(expected, rel=1e-4)
    assert run.history.share_kind == "saturated"


def test_batch_normalization_before_the_activation_normalizes(fmnist):
    """BN before the activation: every hidden layer's Dense output, normalized
    with the batch's statistics, is what reaches the activation (mean 0, std 1)."""
    run = TrainingRun(dict(SMALL, activation="sigmoid", batch_norm="before activation"), *fmnist)
    kinds = [type(layer).__name__ for layer in run.model.layers]
    assert kinds[:4] == ["Flatten", "Dense", "BatchNormalization", "Activation"]
    assert not run.dense[0].use_bias
    upto = keras.Model(run.model.inputs[0], run.model.layers[2].output)
    z = np.asarray(keras.ops.convert_to_numpy(upto(run.X_probe, training=True)))
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-2)
    after = TrainingRun(dict(SMALL, batch_norm="after activation"), *fmnist)
    assert [type(layer).__name__ for layer in after.model.layers][1:4] == ["Dense", "Activation",
                                                                         "BatchNormalization"]


@pytest.mark.parametrize("clipping", ["clipvalue", "clipnorm", "global_clipnorm"])
def test_one_step_is_sgd_with_the_chosen_clipping(fmnist, clipping):
    """One train_on_batch of the run's model changes every weight by
    −lr · (the gradient clipped as Keras documents), computed here in NumPy."""
    lr, c = 0.1, 0.05
    run = TrainingRun(dict(SMALL, activation="relu", initializer="he", learning_rate=lr, clipping=clipping,
                           threshold=c), *fmnist)
    x, y = fmnist[0][:32], fmnist[1][:32]
    _, layers = compute_gradients(run.model, x, y)
    grads = [g.astype(np.float64) for layer in layers for g in layer.grads]
    before = [w.astype(np.float64) for layer in layers for w in layer.weights]
    if clipping == "clipvalue":
        clipped = [np.clip(g, -c, c) for g in grads]
    elif clipping == "clipnorm":
        clipped = [g * min(1.0, c / np.linalg.norm(g)) for g in grads]
    else:
        total = math.sqrt(sum(float(np.sum(g ** 2)) for g in grads))
        clipped = [g * min(1.0, c / total) for g in grads]
    assert any(not np.allclose(a, b) for a, b in zip(grads, clipped))  # the threshold bites
    run.model.train_on_batch(x, y)
    after = [np.asarray(keras.ops.convert_to_numpy(v), np.float64) for v in run.model.trainable_variables]
    for w0, w1, g in zip(before, after, clipped):
        np.testing.assert_allclose(w1 - w0, -lr * g, rtol=2e-3, atol=2e-7)


def test_update_ratio_is_that_of_the_last_step(fmnist):
    run = TrainingRun(dict(SMALL, learning_rate=0.5), *fmnist)
    assert all(math.isnan(r) for r in run.history.update_ratio[0])
    before = [np.array(keras.ops.convert_to_numpy(d.kernel), np.float64) for d in run.dense]
    run.train(1)
    after = [np.array(keras.ops.convert_to_numpy(d.kernel), np.float64) for d in run.dense]
    expected = [np.std(a - b) / np.std(b) for a, b in zip(after, before)]
    assert run.history.update_ratio[-1] == pytest.approx(expected, rel=1e-4)
    assert run.history.steps == [0, 1]


def test_a_diverging_run_stops_and_says_where(fmnist):
    h = compute_training(*fmnist, steps=400, depth=8, width=64, activation="relu", initializer="he",
                         learning_rate=3.0)
    assert h.diverged_at is not None and h.diverged_at <= 400
    assert h.step == h.diverged_at and "diverged at step" in h.summary()
    said = training.training_in_words(h)
    # a diverged run's gradients, shares and update ratios are of a broken network: left out
    assert f"diverged at step {h.diverged_at}" in said and "times the output layer's" not in said
    assert "update:data" not in said and "dead" not in said


def test_training_learns_and_is_reproducible(fmnist):
    config = dict(depth=4, width=64, activation="relu", initializer="he", learning_rate=0.05)
    first = compute_training(*fmnist, steps=200, **config)
    again = compute_training(*fmnist, steps=200, **config)
    assert first.steps == list(range(0, 201, training.FRAME_STEPS))
    assert first.valid_acc[-1] > 0.6 > first.valid_acc[0]  # from chance to learning
    assert first.valid_loss == again.valid_loss and first.grad_norms == again.grad_norms
    other = compute_training(*fmnist, steps=200, **config, seed=7)
    assert other.valid_loss != first.valid_loss


def test_bad_configurations_are_named(fmnist):
    with pytest.raises(ValueError, match="activation must be one of 'sigmoid'"):
        TrainingRun(dict(activation="swish"), *fmnist)
    with pytest.raises(ValueError, match="learning_rate must be a positive number; got -1"):
        TrainingRun(dict(learning_rate=-1), *fmnist)
    with pytest.raises(ValueError, match="unknown control.*'optimizer'"):
        TrainingRun(dict(optimizer="adam"), *fmnist)
    with pytest.raises(ValueError, match="need at least batch_size = 256 training images"):
        TrainingRun(dict(batch_size=256), fmnist[0][:100], fmnist[1][:100], *fmnist[2:])


def test_keras_code_builds_the_model_the_run_trains(fmnist):
    config = dict(SMALL, activation="elu", initializer="random_normal", sigma=0.1, batch_norm="after activation",
                  clipping="global_clipnorm", threshold=2.0, learning_rate=0.03)
    run = TrainingRun(config, *fmnist)
    namespace = {}
    exec(training.keras_code(run.config), namespace)
    model = namespace["model"]
    assert [type(layer).__name__ for layer in model.layers] == [type(layer).__name__ for layer in run.model.layers]
    for a, b in zip(_weights(model), _weights(run.model)):  # same seed: the same initial weights
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.global_clipnorm == 2.0
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.03)


# -- the explorer -------------------------------------------------------------

@pytest.fixture
def explorer(fmnist, monkeypatch):
    monkeypatch.setattr(training, "IDLE_EXIT_S", 0.5)
    widget = training.explore_training(*fmnist, depth=3, width=32)
    e = widget.explorer
    e.heartbeat_s = None  # no page ticks here: the heartbeat has a test of its own
    yield e
    e.pause()


def _wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_step_reset_and_a_change_of_control(explorer):
    assert explorer.run.step == 0
    explorer.press("step")
    explorer.flush()
    assert explorer.run.step == training.FRAME_STEPS and explorer.live.frames == 2
    assert 'data-state=' in explorer.status.value and "paused" in explorer.status.value
    explorer.press("step")
    explorer.flush()
    assert explorer.run.step == 2 * training.FRAME_STEPS
    # the figure in words, of the frame on screen (its text alternative)
    h = explorer.run.history
    assert explorer.alt == training.training_in_words(h)
    assert f"step {2 * training.FRAME_STEPS}: validation accuracy {h.valid_acc[-1]:.3f}" in explorer.alt
    assert f"{h.gradient_ratio:.1e} times the output layer's" in explorer.alt
    explorer.press("reset")
    explorer.flush()
    assert explorer.run.step == 0
    explorer.controls["activation"].value = "tanh"
    explorer.flush()
    assert explorer.run.config["activation"] == "tanh" and explorer.run.step == 0
    assert "Activation('tanh')" in html.unescape(explorer.code_view.value)


def test_play_trains_pause_stops_within_a_frame_and_the_thread_ends(explorer):
    explorer.press("play")
    _wait(lambda: explorer.run.step >= 5 * training.FRAME_STEPS)
    worker = explorer._thread
    assert explorer.buttons["play"].disabled and not explorer.buttons["pause"].disabled
    explorer.press("pause")
    explorer.flush()
    stopped = explorer.run.step
    time.sleep(0.5)
    assert explorer.run.step == stopped and not explorer.playing
    _wait(lambda: explorer._thread is None, timeout=5)  # IDLE_EXIT_S = 0.5 here
    worker.join(timeout=1)  # this explorer's worker, not one an earlier test's explorer left idling
    assert worker.name == training.TrainingExplorer.thread_name and not worker.is_alive()


def test_without_ticks_from_the_page_it_pauses(explorer):
    explorer.heartbeat_s = 0.3
    explorer.press("play")
    # nobody ticks: it pauses after the frame it is training when the heartbeat is
    # missed (a frame can take a second on a busy machine: the first one compiles)
    _wait(lambda: not explorer.playing, timeout=20.0)
    assert "stopped ticking" in explorer.status.value
    explorer.heartbeat_s = 0.3
    explorer.press("play")
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:  # a page that ticks every 100 ms keeps it playing
        explorer.ticker.value += 1
        time.sleep(0.1)
    assert explorer.playing and explorer.run.step > 0
    explorer.press("pause")


def test_one_explorer_trains_at_a_time(explorer, fmnist):
    other = training.explore_training(*fmnist, depth=2, width=16).explorer
    other.heartbeat_s = None
    explorer.press("play")
    other.press("play")
    assert other.playing and not explorer.playing
    assert training.pause_all() == 1 and not other.playing


def test_a_diverged_run_pauses_itself(explorer):
    explorer.apply(learning_rate=10.0, activation="relu", initializer="he", depth=8)
    explorer.flush()
    explorer.press("play")
    _wait(lambda: not explorer.playing)
    assert explorer.run.history.diverged_at is not None and "diverged" in explorer.status.value
    assert explorer.buttons["play"].disabled  # Reset or a change starts again


def test_presets_are_valid_configurations(fmnist):
    for label, values in training.PRESETS.items():
        config = training.check_config(values)
        assert training.describe(config)


def test_plot_training_can_fix_the_gradient_colour_scale(fmnist):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h = compute_training(*fmnist, steps=40, **SMALL, activation="relu", initializer="he")
    grad_ax = training.plot_training(h)[2]
    follows = grad_ax.images[0].norm
    assert (follows.vmin, follows.vmax) != (1e-20, 1e2)   # the run's own scale
    fixed = training.plot_training(h, grad_limits=(1e-20, 1e2))[2].images[0].norm
    assert (fixed.vmin, fixed.vmax) == (1e-20, 1e2)
    for bad in [(1.0, 1e-3), (0.0, 1.0)]:
        with pytest.raises(ValueError, match="grad_limits"):
            training.plot_training(h, grad_limits=bad)
    plt.close("all")
