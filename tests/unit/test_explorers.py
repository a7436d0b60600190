"""The explorers' compute functions, against known answers; their wiring (a
control change reaches the compute function and the figure); the live-figure
machinery (blitting, coalescing, previews); the Keras code each explorer shows
(executed, it builds what the explorer computes on); presets; the static picture."""
import math
import time

import keras
import numpy as np
import pytest

from lecture_utils import data, explorers
from lecture_utils.explorers import activation, batch_stats, clipping, gradient_flow, initializer, live
from lecture_utils.profile import get_profile
from lecture_utils.grads import gradient_norms


@pytest.fixture(scope="module")
def batch():
    d = data.load_fashion_mnist(get_profile("fast"), allow_download=False)
    return d.X_train[:256], d.y_train[:256]


def test_init_std_is_the_table():
    assert explorers.init_std("glorot", 300, 100) == pytest.approx(math.sqrt(1 / 200))
    assert explorers.init_std("he", 300, 100) == pytest.approx(math.sqrt(2 / 300))
    assert explorers.init_std("lecun", 300, 100) == pytest.approx(math.sqrt(1 / 300))
    assert explorers.init_std("random_normal", 300, 100, sigma=0.05) == 0.05
    with pytest.raises(ValueError, match="initializer must be one of 'random_normal', 'glorot'"):
        explorers.init_std("xavier", 3, 3)


def test_deep_sigmoid_gradient_vanishes_toward_the_input(batch):
    flow = explorers.compute_gradient_flow(*batch, depth=50, width=100, activation="sigmoid",
                                         initializer="glorot")
    assert len(flow.grad_norms) == 51 and len(flow.act_std) == 50
    assert flow.grad_norms[0] < 1e-6 * flow.grad_norms[-1]  # many orders of magnitude
    assert flow.ratio < 1e-6 and not flow.overflowed
    # batch normalization keeps it flowing
    with_bn = explorers.compute_gradient_flow(*batch, depth=50, width=100, activation="sigmoid",
                                            initializer="glorot", batch_norm=True)
    assert with_bn.ratio > 1e-3


def test_relu_with_large_weights_explodes_and_he_does_not(batch):
    exploding = explorers.compute_gradient_flow(*batch, depth=30, activation="relu",
                                              initializer="random_normal", sigma=0.5)
    he = explorers.compute_gradient_flow(*batch, depth=30, activation="relu", initializer="he")
    assert exploding.act_std[-1] > 1e6 * exploding.act_std[0] or exploding.overflowed
    assert 0.1 < he.act_std[-1] / he.act_std[0] < 10


def test_saturation_and_dead_units_are_reported(batch):
    sat = explorers.compute_gradient_flow(*batch, depth=5, activation="sigmoid", initializer="random_normal",
                                        sigma=3.0)
    assert np.all(sat.saturated > 0.5) and np.all(np.isnan(sat.dead))
    relu = explorers.compute_gradient_flow(*batch, depth=5, activation="relu", initializer="he")
    assert np.all(np.isnan(relu.saturated)) and np.all((0 <= relu.dead) & (relu.dead <= 1))


@pytest.mark.parametrize("batch_norm", [False, True])
def test_hand_backprop_matches_keras(batch, batch_norm):
    X, y = batch[0][:64].reshape(64, -1), batch[1][:64]
    kernels = explorers.init_mlp(784, 3, 16, 10, "glorot", seed=1)
    flow = explorers.mlp_gradient_flow(X, y, kernels, "tanh", batch_norm=batch_norm)
    layers = [keras.Input((784,))]
    for W in kernels[:-1]:
        layers.append(keras.layers.Dense(W.shape[1], use_bias=False))
        if batch_norm:
            layers.append(keras.layers.BatchNormalization(center=False, scale=False))
        layers.append(keras.layers.Activation("tanh"))
    layers.append(keras.layers.Dense(10, activation="softmax", use_bias=False))
    model = keras.Sequential(layers)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    for layer, W in zip(dense, kernels):
        layer.set_weights([W])
    norms = list(gradient_norms(model, X, y).values())
    np.testing.assert_allclose(flow.grad_norms, norms, rtol=2e-3)


def test_gradient_flow_rejects_bad_controls(batch):
    with pytest.raises(ValueError, match="depth must be an integer from 1 to 100; got 0"):
        explorers.compute_gradient_flow(*batch, depth=0)
    with pytest.raises(ValueError, match="activation must be one of"):
        explorers.compute_gradient_flow(*batch, activation="swish")
    with pytest.raises(ValueError, match="sigma must be positive"):
        explorers.compute_gradient_flow(*batch, sigma=0)


def test_gradient_flow_answers_fast_at_depth_50(batch):
    times = []
    for seed in range(7):
        start = time.perf_counter()
        explorers.compute_gradient_flow(*batch, depth=50, width=100, batch_norm=bool(seed % 2), seed=seed)
        times.append(time.perf_counter() - start)
    # the target is 0.3 s on 2 idle cores (benchmarks/widget_latency.py measures it);
    # this bound only catches a regression of another order, and survives a busy machine
    assert np.median(times) < 1.0, f"median {np.median(times):.3f} s"


# ---------------------------------------------------------------- initializer explorer

def test_he_normal_variance_is_two_over_fan_in():
    s = explorers.compute_initializer(mode="fan_in", scale=2.0, distribution="truncated_normal",
                                    fan_in=400, fan_out=300, depth=1)
    assert s.variance == pytest.approx(2 / 400)
    assert s.weights.var() == pytest.approx(2 / 400, rel=0.03)
    assert np.abs(s.weights).max() <= s.limit + 1e-6  # truncated at two standard deviations


@pytest.mark.parametrize("mode,expected", [("fan_in", 1 / 300), ("fan_out", 1 / 100), ("fan_avg", 1 / 200)])
def test_uniform_limit_is_sqrt_three_sigma_squared(mode, expected):
    s = explorers.compute_initializer(mode=mode, distribution="uniform", scale=1.0, fan_in=300, fan_out=100,
                                    depth=1)
    assert s.variance == pytest.approx(expected)
    assert s.limit == pytest.approx(math.sqrt(3 * expected))
    assert s.weights.var() == pytest.approx(expected, rel=0.05)
    assert s.limit * 0.98 < np.abs(s.weights).max() <= s.limit


@pytest.mark.parametrize("distribution", explorers.DISTRIBUTIONS)
def test_theoretical_density_integrates_to_one(distribution):
    grid = np.linspace(-1, 1, 20001)
    density, _ = explorers.theoretical_density(0.01, distribution, grid)
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=2e-3)


def test_forward_spread_follows_the_table():
    lecun_selu = explorers.compute_initializer(mode="fan_in", scale=1.0, activation="selu", fan_in=200,
                                             fan_out=200, depth=10)
    assert np.all(np.abs(lecun_selu.spread - 1) < 0.15)
    glorot_relu = explorers.compute_initializer(mode="fan_avg", scale=1.0, activation="relu", fan_in=200,
                                              fan_out=200, depth=10)
    assert glorot_relu.spread[-1] < 0.2  # halves its variance at every layer


def test_initializer_rejects_bad_controls():
    with pytest.raises(ValueError, match="mode must be one of 'fan_in', 'fan_out', 'fan_avg'; got 'fan_sum'"):
        explorers.compute_initializer(mode="fan_sum")
    with pytest.raises(ValueError, match="scale must be positive"):
        explorers.compute_initializer(scale=-1.0)


# ---------------------------------------------------------------- activation explorer

@pytest.mark.parametrize("name,keras_fn", [
    ("sigmoid", lambda z, p: keras.activations.sigmoid(z)),
    ("tanh", lambda z, p: keras.activations.tanh(z)),
    ("relu", lambda z, p: keras.activations.relu(z)),
    ("leaky_relu", lambda z, p: keras.layers.LeakyReLU(negative_slope=p)(z)),
    ("elu", lambda z, p: keras.activations.elu(z, alpha=p)),
    ("selu", lambda z, p: keras.activations.selu(z)),
    ("gelu", lambda z, p: keras.activations.gelu(z, approximate=False)),
    ("swish", lambda z, p: keras.activations.silu(z)),
])
def test_activation_matches_keras_and_its_derivative_matches_finite_differences(name, keras_fn):
    parameter = {"leaky_relu": 0.3, "elu": 0.7, "swish": 1.0}.get(name)
    curve = explorers.compute_activation(name, parameter, -4, 4, 801)
    z = curve.z.astype("float32")
    expected = keras.ops.convert_to_numpy(keras_fn(keras.ops.convert_to_tensor(z), parameter))
    np.testing.assert_allclose(curve.f, expected, rtol=1e-5, atol=1e-6)
    numeric = np.gradient(curve.f, curve.z)
    smooth = np.abs(curve.z) > 0.02  # the kinks of the ReLU family at 0
    np.testing.assert_allclose(curve.df[smooth][1:-1], numeric[smooth][1:-1], atol=2e-3)


def test_activation_known_values():
    assert explorers.compute_activation("sigmoid").df.max() == pytest.approx(0.25, abs=1e-6)
    leaky = explorers.compute_activation("leaky_relu", 0.1)
    assert leaky.df[0] == pytest.approx(0.1) and leaky.label == "leaky_relu (α = 0.1)"
    selu = explorers.compute_activation("selu")
    assert selu.f[0] == pytest.approx(-explorers.SELU_SCALE * explorers.SELU_ALPHA, rel=0.01)  # its floor
    with pytest.raises(ValueError, match="α must be between 0 and 5; got -1"):
        explorers.compute_activation("elu", -1)
    with pytest.raises(ValueError, match="activation must be one of"):
        explorers.compute_activation("softplus")


# ---------------------------------------------------------------- batch statistics explorer

@pytest.fixture(scope="module")
def pixel():
    d = data.load_fashion_mnist(get_profile("fast"), allow_download=False)
    return d.X_train[:, 14, 14]


def test_spread_of_batch_means_is_sigma_over_root_b(pixel):
    for batch_size in (8, 32, 128):
        s = explorers.compute_batch_stats(pixel, batch_size, 0.99, n_batches=2000)
        expected = pixel.std() / np.sqrt(batch_size) * np.sqrt(1 - (batch_size - 1) / (len(pixel) - 1))
        assert s.spread_of_means == pytest.approx(expected, rel=0.1)
        # the variance of a batch underestimates the population's by (B - 1) / B on average
        assert s.batch_vars.mean() == pytest.approx(pixel.var() * (batch_size - 1) / batch_size, rel=0.05)


def test_moving_averages_match_keras_batch_normalization(pixel):
    s = explorers.compute_batch_stats(pixel, 16, momentum=0.9, n_batches=40, seed=3)
    bn = keras.layers.BatchNormalization(momentum=0.9)
    bn.build((None, 1))
    rng = np.random.default_rng(3)
    order = rng.permutation(len(pixel))[: (len(pixel) // 16) * 16].reshape(-1, 16)
    for t in range(40):
        bn(pixel[order[t]].reshape(-1, 1).astype("float32"), training=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_mean)[0], s.moving_mean[-1], rtol=1e-4)
    # Keras keeps the biased batch variance in its moving average, as we do
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_variance)[0], s.moving_var[-1], rtol=1e-4)


def test_moving_mean_converges_and_momentum_zero_is_the_last_batch(pixel):
    slow = explorers.compute_batch_stats(pixel, 32, 0.99, n_batches=2000)
    assert abs(slow.moving_mean[-1] - slow.full_mean) < 0.02
    assert abs(slow.moving_mean[10] - slow.full_mean) > 0.5 * slow.full_mean  # still near its start, 0
    none = explorers.compute_batch_stats(pixel, 32, 0.0, n_batches=5)
    assert np.array_equal(none.moving_mean, none.batch_means)
    with pytest.raises(ValueError, match="momentum must be in"):
        explorers.compute_batch_stats(pixel, 32, 1.0)
    with pytest.raises(ValueError, match="batch_size must be an integer from 2"):
        explorers.compute_batch_stats(pixel, 1)


# ---------------------------------------------------------------- clipping explorer

def test_the_classic_clipping_example():
    clip = explorers.compute_clipping(0.9, 100.0, 1.0)
    np.testing.assert_allclose(clip.by_value, [0.9, 1.0], rtol=1e-6)
    np.testing.assert_allclose(clip.by_norm, [0.00899964, 0.9999595], rtol=1e-5)
    assert clip.angles["clipnorm"] == pytest.approx(clip.angles["raw"], abs=1e-3)  # direction kept
    assert clip.turned_by_value == pytest.approx(89.48 - 48.01, abs=0.05)  # atan2(100, .9) vs atan2(1, .9)


def test_small_gradients_are_left_alone_and_global_norm_spans_variables():
    clip = explorers.compute_clipping(0.3, -0.4, 1.0)
    np.testing.assert_allclose(clip.by_value, [0.3, -0.4], rtol=1e-6)
    np.testing.assert_allclose(clip.by_norm, [0.3, -0.4], rtol=1e-6)
    a, b = explorers.clip_with_optimizer([np.array([3.0]), np.array([4.0])], global_clipnorm=1.0)
    np.testing.assert_allclose(np.concatenate([a, b]), [0.6, 0.8], rtol=1e-5)  # one norm, 5, over both
    a, b = explorers.clip_with_optimizer([np.array([3.0]), np.array([4.0])], clipnorm=1.0)
    np.testing.assert_allclose(np.concatenate([a, b]), [1.0, 1.0], rtol=1e-5)  # each variable on its own
    with pytest.raises(ValueError, match="unknown clipping argument"):
        explorers.clip_with_optimizer([np.ones(2)], clip_value=1.0)
    with pytest.raises(ValueError, match="threshold must be positive"):
        explorers.compute_clipping(threshold=0)


def test_denormals_are_flushed_to_zero_as_tensorflow_does():
    from lecture_utils.explorers.mlp import FLOAT32_TINY, flush_denormals

    x = np.array([1e-39, -1e-40, FLOAT32_TINY, 1.0, -2e-38], dtype=np.float32)
    np.testing.assert_array_equal(flush_denormals(x), np.array([0, 0, FLOAT32_TINY, 1.0, -2e-38], np.float32))


# ---------------------------------------------------------------- wiring: a change reaches the figure

def test_a_control_change_recomputes(batch, monkeypatch):
    calls = []
    real = gradient_flow.compute_gradient_flow

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(gradient_flow, "compute_gradient_flow", spy)
    ui = explorers.explore_gradient_flow(*batch, depth=5)
    controls, frame = ui.explorer.controls, ui.explorer.image.value
    controls["depth"].value = 7
    ui.flush()
    assert calls[-1]["depth"] == 7 and ui.explorer.image.value != frame
    assert controls["sigma"].disabled is False
    controls["initializer"].value = "he"
    ui.flush()
    assert calls[-1]["initializer"] == "he" and controls["sigma"].disabled is True
    assert ui.explorer.shown == ui.explorer.values() and ui.explorer.errors == 0
    with pytest.raises(ValueError, match="unknown control"):
        explorers.explore_gradient_flow(*batch, deep=5)


def test_strategy_sets_scale_and_mode():
    ui = explorers.explore_initializer()
    e = ui.explorer
    e.strategy.value = "he"
    ui.flush()
    assert (e.shown["scale"], e.shown["mode"]) == (2.0, "fan_in")
    e.controls["scale"].value = 3.0
    assert e.strategy.value == "(custom)"
    e.apply(scale=1.0, mode="fan_in")  # a preset that is LeCun names it
    ui.flush()
    assert e.strategy.value == "lecun" and e.shown["mode"] == "fan_in"
    # the scale as JupyterLab's log slider sends it back (10 ** log10(1.0)): still LeCun; it was
    # "(custom)", and choosing a strategy in the page jumped back to "(custom)" (test_browser's walk)
    e.controls["scale"].value = 10 ** math.log10(1.0) * (1 + 2e-16)
    assert e.controls["scale"].value != 1.0 and e.strategy.value == "lecun"


def test_activation_explorer_follows_its_function(monkeypatch):
    calls = []
    real = activation.compute_activation
    monkeypatch.setattr(activation, "compute_activation", lambda *a, **k: calls.append(a) or real(*a, **k))
    ui = explorers.explore_activation("elu", compare=None)
    function, parameter = ui.explorer.controls.values()
    parameter.value = 0.5
    ui.flush()
    assert calls[-1] == ("elu", 0.5)
    function.value = "relu"
    ui.flush()
    assert parameter.disabled and calls[-1][0] == "relu"
    function.value = "swish"
    ui.flush()
    assert parameter.description == "β" and not parameter.disabled and calls[-1] == ("swish", 1.0)


def test_clipping_explorer_follows_its_sliders(monkeypatch):
    calls = []
    real = clipping.compute_clipping
    monkeypatch.setattr(clipping, "compute_clipping", lambda *a, **k: calls.append(k) or real(*a, **k))
    ui = explorers.explore_clipping()
    ui.explorer.controls["g2"].value = -50.0
    ui.flush()
    assert calls[-1] == dict(g1=0.9, g2=-50.0, threshold=1.0)


# ---------------------------------------------------------------- the live-figure machinery

def test_sticky_limits_keep_what_still_fits_and_move_when_it_does_not():
    assert live.sticky_limits(None, 0.0, 1.0) == pytest.approx((-0.1, 1.1))
    assert live.sticky_limits((-0.1, 1.1), 0.2, 0.9) == (-0.1, 1.1)         # fits: kept
    assert live.sticky_limits((-0.1, 1.1), 0.2, 1.5) != (-0.1, 1.1)         # outside: moved
    assert live.sticky_limits((-100, 100), 0.2, 0.3) != (-100, 100)          # far too wide: moved
    lo, hi = live.sticky_limits(None, 3e-7, 2.0, log=True)
    assert lo <= 3e-7 and hi >= 2.0 and math.log10(lo).is_integer() and math.log10(hi).is_integer()
    assert live.sticky_limits((lo, hi), 1e-6, 1.0, log=True) == (lo, hi)
    assert live.sticky_limits((lo, hi), 1e-12, 1.0, log=True) != (lo, hi)


def test_sticky_range_keeps_a_range_that_fits_and_is_not_too_wide():
    assert live.sticky_range(None, (-1.0, 1.0), 2.5, 1.3) == (-1.3, 1.3)       # first frame: room to grow
    assert live.sticky_range((-1.3, 1.3), (-0.8, 0.8), 2.5) == (-1.3, 1.3)     # fits: kept
    assert live.sticky_range((-1.3, 1.3), (-0.5, 0.5), 2.5) == (-0.5, 0.5)     # 2.6 × too wide: moved
    assert live.sticky_range((-1.3, 1.3), (-1.5, 1.5), 2.5) == (-1.5, 1.5)     # outside: moved
    assert live.sticky_range((0.0, 3.0), (0.0, 2.0), 2, 1.4) == (0.0, 3.0)
    assert live.sticky_range(None, (0.0, 2.0), 2, 1.4) == (0.0, 2.8)           # a bottom of 0 stays 0


def _explorers(batch, pixel_values):
    """One of each explorer, with the data the notebooks give them."""
    from lecture_utils.transfer import Recipe, TransferGrid

    rng = np.random.default_rng(0)
    grid = TransferGrid((1, 2, 3), (20, 200), (1, 2, 3), rng.uniform(0.7, 0.9, (2, 3)),
                        rng.uniform(0.8, 1.0, (3, 2, 3)), Recipe())
    return {"gradient flow": explorers.explore_gradient_flow(*batch, depth=10),
            "initializer": explorers.explore_initializer(),
            "activation": explorers.explore_activation("elu"),
            "batch stats": explorers.explore_batch_stats(pixel_values),
            "clipping": explorers.explore_clipping(),
            "transfer": explorers.explore_transfer(grid)}


@pytest.fixture(scope="module")
def all_explorers(batch, pixel):
    import matplotlib as mpl

    with mpl.rc_context({"axes.grid": True, "grid.alpha": 0.3}):  # as setup_notebook sets them
        return _explorers(batch, pixel)


def test_a_blitted_frame_is_the_frame_a_full_redraw_gives(all_explorers):
    """The fast path (saved background + changed artists) draws what a full
    redraw of the same state draws, for every explorer and preset."""
    for name, ui in all_explorers.items():
        e = ui.explorer
        for label, preset in e.presets.items():
            e.apply(**preset)
            ui.flush()
            assert e.errors == 0, e.status.value
            blitted = np.asarray(e.live.draw(e.compute(e.values()))).copy()
            for artist in e.live.view.dynamic():  # matplotlib's own drawing of the same figure
                artist.set_animated(False)
            e.live.figure.canvas.draw()
            full = np.asarray(e.live.figure.canvas.buffer_rgba()).copy()
            e.live._signature = None  # the next frame starts afresh
            differ = np.any(blitted != full, axis=-1).mean()
            assert differ < 0.002, f"{name}, preset {label!r}: {differ:.2%} of the pixels differ"


def test_presets_set_their_controls_in_one_frame(all_explorers):
    for name, ui in all_explorers.items():
        e = ui.explorer
        assert e.presets, f"{name} has no presets"
        for label, preset in e.presets.items():
            frames = e.live.frames
            e.apply(**preset)
            ui.flush()
            assert {k: e.values()[k] for k in preset} == preset, (name, label)
            assert e.shown == e.values() and e.errors == 0, (name, label, e.status.value)
            assert e.live.frames - frames <= 2, (name, label)  # not one frame per control
        with pytest.raises(ValueError, match="unknown control"):
            e.apply(no_such_control=1)


def test_the_saved_output_carries_a_picture(all_explorers):
    import base64
    import io

    from PIL import Image

    for name, ui in all_explorers.items():
        bundle, metadata = ui._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle, name
        # the picture's text alternative is the figure's, in words (nbconvert and the site read it)
        assert metadata["image/png"]["alt"] == ui.explorer.alt and len(ui.explorer.alt) >= 40, name
        picture = Image.open(io.BytesIO(base64.b64decode(bundle["image/png"])))
        assert picture.size == ui.explorer.live.size_px, name
        assert np.asarray(picture).std() > 10, f"{name}: the picture is blank"


def _slow_explorer(seconds, preview=False):
    import ipywidgets as w

    computed = []

    def compute(values, kind="exact"):
        time.sleep(seconds)
        computed.append((kind, values["x"]))
        return values["x"]

    class View:
        def __init__(self, axes):
            (self.line,) = axes[0].plot([0, 1], [0, 0])
            axes[0].set_ylim(-1, 100)

        def update(self, x):
            self.line.set_ydata([0, x])

        def static_key(self):
            return ()

        def dynamic(self):
            return [self.line]

        def overlays(self):
            return []

    e = live.Explorer({"x": w.IntSlider(0, min=0, max=99)}, compute, View, [["x"]],
                      preview=(lambda v: compute(v, "preview")) if preview else None, preview_note="cheap")
    computed.clear()
    return e, computed


def test_a_fast_drag_leaves_no_backlog():
    e, computed = _slow_explorer(0.05)
    start = time.perf_counter()
    for x in range(1, 41):  # 40 changes in about 0.2 s, each taking 0.05 s to compute
        e.controls["x"].value = x
        time.sleep(0.005)
    e.flush()
    assert e.shown == {"x": 40} and computed[-1] == ("exact", 40)
    assert len(computed) < 15, f"{len(computed)} frames computed for 40 changes: a backlog"
    assert time.perf_counter() - start < 1.5


def test_a_slow_computation_shows_a_preview_then_the_exact_result():
    e, computed = _slow_explorer(0.2, preview=True)
    e.exact_seconds = 0.3  # as measured on the previous frame: above slow_s
    e.controls["x"].value = 5
    time.sleep(0.1)
    for x in (6, 7):
        e.controls["x"].value = x
        time.sleep(0.05)
    e.flush()
    assert computed[-1] == ("exact", 7) and e.shown == {"x": 7}
    assert ("preview", 5) in computed and ("exact", 5) not in computed  # it moved on before settling
    assert "exact" in e.status.value


def test_an_error_is_shown_and_the_next_change_recovers():
    e, computed = _slow_explorer(0.0)
    real = e.compute
    e.compute = lambda v: 1 / 0 if v["x"] == 3 else real(v)
    e.controls["x"].value = 3
    e.flush()
    assert "Traceback (most recent call last)" in e.status.value and "ZeroDivisionError" in e.status.value
    e.controls["x"].value = 4
    e.flush()
    assert e.shown == {"x": 4} and "exact" in e.status.value


def test_the_worker_thread_ends_when_idle(monkeypatch):
    import threading

    monkeypatch.setattr(live, "IDLE_EXIT_S", 0.2)
    e, _ = _slow_explorer(0.0)
    e.controls["x"].value = 1
    e.flush()
    time.sleep(0.6)
    assert e._thread is None
    assert not [t for t in threading.enumerate() if t.name == "explorer-frames" and t.is_alive()
                and getattr(t, "_target", None) == e._work]
    e.controls["x"].value = 2  # and a new one starts
    e.flush()
    assert e.shown == {"x": 2}


# ---------------------------------------------------------------- the Keras code each explorer shows

def _run(code: str, name: str):
    namespace = {}
    exec(compile(code, "<explorer code>", "exec"), namespace)
    return namespace[name]


@pytest.mark.parametrize("values", [
    dict(depth=4, width=20, activation="sigmoid", initializer="random_normal", sigma=0.05, batch_norm=False),
    dict(depth=3, width=30, activation="tanh", initializer="glorot", sigma=1.0, batch_norm=True),
    dict(depth=3, width=16, activation="relu", initializer="he", sigma=1.0, batch_norm=False),
    dict(depth=2, width=24, activation="selu", initializer="lecun", sigma=1.0, batch_norm=True),
])
def test_gradient_flow_code_builds_the_network_it_computes_on(batch, values):
    X, y = batch[0][:64], batch[1][:64]
    model = _run(gradient_flow.keras_code(values, X.shape[1:]), "model")
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [values["width"]] * values["depth"] + [10]
    bn = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bn) == (values["depth"] if values["batch_norm"] else 0)
    # the initializer draws from the explorer's distribution
    std = explorers.init_std(values["initializer"], 784, values["width"], values["sigma"])
    assert np.std(keras.ops.convert_to_numpy(dense[0].kernel)) == pytest.approx(std, rel=0.05)
    # with the explorer's kernels, Keras's gradients are the explorer's
    kernels = explorers.init_mlp(784, values["depth"], values["width"], 10, values["initializer"],
                                 values["sigma"], seed=0)
    for layer, W in zip(dense, kernels):
        layer.kernel.assign(W)
    flow = explorers.compute_gradient_flow(X, y, **values)
    norms = list(gradient_norms(model, X, y).values())
    np.testing.assert_allclose(flow.grad_norms, norms, rtol=5e-3)


@pytest.mark.parametrize("values", [
    dict(mode="fan_avg", distribution="truncated_normal", scale=1.0, fan_in=300, fan_out=100, activation="tanh"),
    dict(mode="fan_in", distribution="uniform", scale=2.0, fan_in=200, fan_out=50, activation="relu"),
])
def test_initializer_code_builds_the_kernels_it_samples(values):
    sample = explorers.compute_initializer(**values)
    model = _run(initializer.keras_code(values), "model")
    assert len(model.layers) == sample.config["depth"]
    first = keras.ops.convert_to_numpy(model.layers[0].kernel)
    np.testing.assert_allclose(first.ravel(), sample.weights, rtol=1e-6)
    # and the spread on the right is that of z = hW through the model's own kernels
    h = np.random.default_rng(0).standard_normal((100, values["fan_in"])).astype(np.float32)
    spread = []
    for layer in model.layers:
        z = h @ keras.ops.convert_to_numpy(layer.kernel)
        spread.append(z.std())
        h = keras.ops.convert_to_numpy(keras.activations.get(values["activation"])(z))
    np.testing.assert_allclose(spread, sample.spread, rtol=1e-4)


@pytest.mark.parametrize("function,parameter", [
    ("sigmoid", 0.2), ("relu", 0.2), ("leaky_relu", 0.3), ("prelu", 0.25), ("elu", 0.7), ("selu", 0.2),
    ("gelu", 0.2), ("swish", 1.0), ("swish", 2.5), ("tanh", 0.2)])
def test_activation_code_builds_the_layer_it_draws(function, parameter):
    layer = _run(activation.keras_code(dict(function=function, parameter=parameter)), "layer")
    curve = explorers.compute_activation(function, parameter if function in explorers.HYPERPARAMETERS else None)
    z = curve.z.astype("float32").reshape(-1, 1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(z)).ravel(), curve.f, rtol=1e-4, atol=1e-5)


def test_batch_stats_code_builds_the_layer_whose_averages_it_shows(pixel):
    values = dict(batch_size=16, momentum=0.9)
    s = explorers.compute_batch_stats(pixel, n_batches=30, seed=0, **values)
    bn = _run(batch_stats.keras_code(values), "bn")
    order = np.random.default_rng(0).permutation(len(pixel))[: (len(pixel) // 16) * 16].reshape(-1, 16)
    for t in range(30):
        bn(pixel[order[t]].reshape(-1, 1).astype("float32"), training=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_mean)[0], s.moving_mean[-1], rtol=1e-4)


def test_clipping_code_builds_the_optimizers_it_clips_with():
    by_value = _run(clipping.keras_code(dict(g1=0.9, g2=100.0, threshold=1.0)), "by_value")
    assert by_value.clipvalue == 1.0
    assert _run(clipping.keras_code(dict(g1=0.9, g2=100.0, threshold=2.5)), "by_norm").clipnorm == 2.5


def test_a_tiny_gradient_keeps_its_norm():
    """A float32 gradient of 1e-23 has a norm of ~1e-21, not 0: its squares
    (1e-46) would underflow in float32."""
    from lecture_utils.grads import grad_norm as norm

    g = np.full((100, 100), 1e-23, dtype=np.float32)
    assert np.linalg.norm(g) == 0  # what float32 arithmetic gives
    assert norm(g) == pytest.approx(1e-21, rel=1e-5)


def test_deep_sigmoid_reports_zero_only_where_the_gradient_itself_underflowed(batch):
    flow = explorers.compute_gradient_flow(*batch, depth=49, activation="sigmoid", initializer="random_normal",
                                           sigma=0.05)
    zero = flow.grad_norms == 0
    assert zero[0] and not zero[-1]
    # the zeros start where the entries reach float32's floor (~1e-38), not where their squares do (~1e-19)
    assert flow.grad_norms[~zero].min() < 1e-30


@pytest.mark.parametrize("distribution", explorers.DISTRIBUTIONS)
def test_the_initializer_preview_draws_from_the_same_distribution(distribution):
    """The preview samples with NumPy; its law is Keras's (variance, limits)."""
    exact = explorers.compute_initializer(mode="fan_in", scale=2.0, distribution=distribution, fan_in=400,
                                          fan_out=300, depth=3)
    preview = explorers.compute_initializer(mode="fan_in", scale=2.0, distribution=distribution, fan_in=400,
                                            fan_out=300, depth=3, sampler="numpy")
    assert preview.variance == exact.variance and preview.limit == exact.limit
    assert preview.weights.var() == pytest.approx(exact.weights.var(), rel=0.03)
    assert np.abs(preview.weights).max() <= exact.limit + 1e-6
    np.testing.assert_allclose(preview.spread, exact.spread, rtol=0.15)
    assert not np.array_equal(preview.weights, exact.weights)  # other numbers, same law
    with pytest.raises(ValueError, match="sampler must be one of 'keras', 'numpy'"):
        explorers.compute_initializer(sampler="torch")


def _colours(figure):
    """Every colour a figure draws with, as #rrggbb (transparent ones left out)."""
    from matplotlib import colors as mcolors
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.text import Text

    found = set()

    def add(c):
        rgba = np.atleast_2d(mcolors.to_rgba_array(c)) if c is not None and not isinstance(c, str) or \
            (isinstance(c, str) and c != "none") else np.zeros((0, 4))
        for r in rgba:
            if r[3] > 0:
                found.add(mcolors.to_hex(r[:3]))

    for artist in figure.findobj():
        if isinstance(artist, Line2D) and artist.get_visible():
            add(artist.get_color())
            add(artist.get_markerfacecolor())
        elif isinstance(artist, Patch) and artist.get_visible():
            add(artist.get_edgecolor())
            add(artist.get_facecolor())
        elif isinstance(artist, Collection) and artist.get_visible() and artist.get_array() is None:
            add(artist.get_edgecolor())
            add(artist.get_facecolor())
        elif isinstance(artist, Text) and artist.get_visible() and artist.get_text():
            add(artist.get_color())
    return found


def test_the_explorers_draw_in_the_courses_colours(all_explorers):
    """Every colour an explorer draws with is one of lecture_utils.palette's, or a grey
    (axes, grids, reference lines): told apart with any colour vision."""
    from lecture_utils import palette

    allowed = {c.lower() for c in palette.CYCLE}
    for name, ui in all_explorers.items():
        e = ui.explorer
        e.live.draw(e.compute(e.values()))
        colours = _colours(e.live.figure)
        odd = {c for c in colours if c not in allowed and not (c[1:3] == c[3:5] == c[5:7])}
        assert not odd, f"the {name} explorer draws with {sorted(odd)}, outside the course's palette"
        assert colours & allowed, f"the {name} explorer draws with none of the palette's colours"


def test_each_explorers_figure_is_described_in_words_frame_by_frame(all_explorers, capsys):
    """The figure's text alternative (lecture_utils/explorers/access.py puts it on the image):
    written from the result on screen, and it changes with the controls."""
    said = {}
    for name, ui in all_explorers.items():
        e = ui.explorer
        (first_label, first), *others = e.presets.items()
        e.apply(**first)
        ui.flush()
        before = e.alt
        assert len(before) >= 80, (name, before)
        assert before == e.words(e.compute(e.shown)), f"the {name} explorer's alt is not its frame's"
        said[name] = before
        label, values = next(((label, v) for label, v in others if v != first), (None, None))
        if label is not None:
            e.apply(**values)
            ui.flush()
            assert e.alt != before, f"the {name} explorer's description did not change with {label!r}"
    flow = all_explorers["gradient flow"].explorer
    flow.apply(**flow.presets["50 sigmoid layers, Glorot"])
    all_explorers["gradient flow"].flush()
    result = flow.compute(flow.shown)
    assert f"{result.ratio:.1e} times the output layer's: the gradient vanishes" in flow.alt, flow.alt
    with capsys.disabled():
        print("\n" + "\n".join(f"[alt] {name}: {text}" for name, text in said.items()))


def test_the_words_say_what_the_numbers_say():
    """The verdicts of the text alternatives follow the numbers: each branch, once."""
    from lecture_utils.explorers.live import ratio_in_words

    assert "vanishes" in ratio_in_words(1e-8) and "explodes" in ratio_in_words(1e5)
    assert "within a factor of 1000" in ratio_in_words(0.5) and "exactly 0" in ratio_in_words(0.0)
    assert "overflowed" in ratio_in_words(math.nan) and "overflowed" in ratio_in_words(math.inf)
    said = {name: activation.activation_in_words((explorers.compute_activation(name), None))
            for name in ("sigmoid", "relu", "elu", "leaky_relu")}
    assert "saturates" in said["sigmoid"] and "can die" in said["relu"]
    assert "never exactly 0" in said["elu"] and "no unit stops learning" in said["leaky_relu"]
    clip = explorers.compute_clipping(0.9, 100.0, 1.0)
    assert f"turned by {clip.turned_by_value:.1f}°" in clipping.clipping_in_words(clip)
    for scale, verdict in ((2.0, "keeps its scale"), (0.2, "shrinks"), (8.0, "grows")):
        sample = explorers.compute_initializer(mode="fan_in", scale=scale, distribution="uniform", activation="relu")
        assert verdict in initializer.initializer_in_words(sample), (scale, sample.spread[-1])
