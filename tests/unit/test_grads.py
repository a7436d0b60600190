"""lecture_utils.grads against finite differences of a NumPy float64 forward pass,
on whatever Keras backend this run uses (CI runs it under TensorFlow and JAX)."""
import keras
import numpy as np
import pytest

from lecture_utils.grads import compute_gradients, gradient_norms


def _model():
    keras.utils.set_random_seed(3)
    return keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(5, activation="tanh", name="hidden"),
        keras.layers.Dense(3, activation="softmax", name="out"),
    ])


def _numpy_loss(params, x, y):
    W1, b1, W2, b2 = params
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean()


def _finite_differences(params, x, y, eps=1e-6):
    grads = []
    for p in params:
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            up = _numpy_loss(params, x, y)
            p[i] = old - eps
            down = _numpy_loss(params, x, y)
            p[i] = old
            g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def test_gradients_match_finite_differences():
    model = _model()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.integers(0, 3, size=16)
    loss, layers = compute_gradients(model, x, y, "sparse_categorical_crossentropy")
    params = [w.astype(np.float64) for w in model.get_weights()]
    expected = _finite_differences(params, x.astype(np.float64), y)
    assert loss == pytest.approx(_numpy_loss(params, x.astype(np.float64), y), rel=1e-5)
    assert [g.layer for g in layers] == ["hidden", "out"]
    assert layers[0].weight_names == ["kernel", "bias"]
    got = [g for layer in layers for g in layer.grads]
    for name, g, e in zip(["W1", "b1", "W2", "b2"], got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-3, atol=1e-6, err_msg=name)
    norms = gradient_norms(model, x, y)
    assert norms == pytest.approx({"hidden": np.linalg.norm(expected[0]),
                                   "out": np.linalg.norm(expected[2])}, rel=1e-3)


def test_repeated_calls_compiled_or_not_give_the_same_gradients():
    """Later calls on a model run compiled (a tf.function, or jax.jit): they
    follow the weights as they change and agree with finite differences."""
    model = _model()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.integers(0, 3, size=16)
    for step in range(4):
        loss, layers = compute_gradients(model, x[: 8 + 2 * step], y[: 8 + 2 * step])  # other batch sizes too
        params = [w.astype(np.float64) for w in model.get_weights()]
        expected = _finite_differences(params, x[: 8 + 2 * step].astype(np.float64), y[: 8 + 2 * step])
        got = [g for layer in layers for g in layer.grads]
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-3, atol=1e-6, err_msg=f"call {step + 1}")
        model.set_weights([w - 0.5 * g for w, g in zip(model.get_weights(), got)])  # a step of SGD


def test_batch_norm_gradients_in_training_mode():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.BatchNormalization(),
                              keras.layers.Dense(1)])
    x = np.random.default_rng(1).normal(size=(8, 3)).astype("float32")
    y = np.ones((8, 1), dtype="float32")
    _, layers = compute_gradients(model, x, y, "mse")
    bn = layers[1]
    assert bn.weight_names == ["gamma", "beta"]  # moving statistics are not trainable
    # in training mode BN removes the batch mean, so the first Dense's bias gets no gradient
    np.testing.assert_allclose(layers[0].grad("bias"), 0, atol=1e-5)
    with pytest.raises(KeyError, match="has no trainable weight 'kernel'"):
        bn.grad("kernel")


def test_clear_errors():
    model = _model()
    x, y = np.zeros((2, 4), "float32"), np.zeros(2, "int64")
    with pytest.raises(ValueError, match="unknown loss 'crossentropy_please'"):
        compute_gradients(model, x, y, "crossentropy_please")
    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        compute_gradients(unbuilt, x, y)
