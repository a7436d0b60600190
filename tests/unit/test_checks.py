"""lecture_utils.grading.checks: every correct answer passes, every wrong one fails
with a message in the student's terms (and a broken function is a failing
check, not an error)."""
import time

import keras
import numpy as np
import pytest

from lecture_utils.grading import checks
from lecture_utils.grading.checks import Args, Incorrect, NotAnswered


def message(fn, *args, **kwargs):
    """The message ``fn`` fails with (None if it passes)."""
    try:
        fn(*args, **kwargs)
    except Incorrect as exc:
        return str(exc)
    return None


# --------------------------------------------------------------------------
# Numbers

@pytest.mark.parametrize("value", [0.25, 1 / 4, np.float32(0.25), np.float64(0.25), np.array(0.25),
                                   np.array([0.25]), [0.2501]])
def test_expect_close_accepts_any_spelling_of_the_number(value):
    assert message(checks.expect_close, value, 0.25, "max_slope") is None


def test_expect_close_says_what_is_wrong():
    assert message(checks.expect_close, 0.0033, 2 / 300, "σ²", "check the mode",
                   explain="He normal with fan_in = 300 gives 2/300 ≈ 0.0067") == \
        "σ² = 0.0033; He normal with fan_in = 300 gives 2/300 ≈ 0.0067 — check the mode"
    assert message(checks.expect_close, 0.3, 0.25, "x") == "x = 0.3; expected 0.25"
    mistakes = {0.5: "0.5 is σ(0), not its slope"}
    assert message(checks.expect_close, 0.5, 0.25, "x", "generic", mistakes=mistakes) == \
        "x = 0.5; expected 0.25 — 0.5 is σ(0), not its slope"
    assert message(checks.expect_close, 0.7, 0.25, "x", "generic", mistakes=mistakes).endswith("— generic")
    assert "too big by 1" in message(checks.expect_close, 1.25, 0.25, "x",
                                     mistakes=lambda v: f"too big by {v - 0.25:g}")


@pytest.mark.parametrize("value, says", [
    (..., "x is still `...`: replace the `...` with your answer"),
    (None, "x is not defined (or is None)"),
    ("0.25", 'x is the text "0.25"; write the number itself, without quotes'),
    (True, "a yes/no value"),
    (float("nan"), "NaN"),
    (float("inf"), "infinite"),
    (np.arange(3.0), "x should be one number; it is [0, 1, 2]"),
    ({"a": 1}, "x is a dict; it should be a number"),
])
def test_expect_number_names_what_it_got_instead(value, says):
    text = message(checks.expect_number, value, "x")
    assert says in text, text


def test_placeholders_are_not_answered_yet():
    with pytest.raises(NotAnswered):
        checks.expect_close(..., 1.0, "x")
    with pytest.raises(NotAnswered):
        checks.expect_function_matches(..., np.sin, [0.0], "f")


def test_expect_integer():
    assert message(checks.expect_integer, 10.0, 10, "n") is None
    assert message(checks.expect_integer, np.int64(10), 10, "n") is None
    assert message(checks.expect_integer, 9.5, 10, "n") == "n = 9.5; it should be a whole number"
    assert message(checks.expect_integer, 9, 10, "n", mistakes={9: "one short"}) == "n = 9; expected 10 — one short"


def test_expect_equal():
    assert message(checks.expect_equal, " Fan_In ", "fan_in", "mode") is None
    assert message(checks.expect_equal, "fan_out", "fan_in", "mode", mistakes={"fan_out": "backwards"}) == \
        'mode is "fan_out"; expected "fan_in" — backwards.'[:-1]


def test_a_message_ending_in_a_quote_survives_otter():
    # otter shows str(exc).strip("'"): a message must not end with a quote
    assert not str(Incorrect("expected 'tanh'")).endswith("'")


# --------------------------------------------------------------------------
# Arrays

def test_expect_array_close():
    assert message(checks.expect_array_close, [1.0, 2.0], np.array([1, 2]), "v") is None
    assert message(checks.expect_array_close, (1.0, 2.0), [1, 2], "v") is None
    assert message(checks.expect_array_close, [1.0, 2.5, 9.0], [1, 2, 3], "v") == \
        "v[1] = 2.5; expected 2 (2 of 3 values differ)"
    assert message(checks.expect_array_close, [1.0, 2.0], [1, 2, 3], "v") == \
        "v has shape (2,); expected 3 numbers in shape (3,)"
    assert "the right numbers in the wrong shape" in message(checks.expect_array_close, np.ones((2, 3)),
                                                             np.ones(6), "v")
    assert "reversed" in message(checks.expect_array_close, [3, 2, 1], [1, 2, 3], "v",
                                 mistakes=[([3, 2, 1], "reversed")])
    assert "its first item is a str" in message(checks.expect_array_close, ["a", "b"], [1, 2], "v")


# --------------------------------------------------------------------------
# A student's function

def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def derivative(z):
    return sigmoid(z) * (1 - sigmoid(z))


INPUTS = [0.0, 2.0, np.linspace(-3, 3, 7), np.array([[1.0, -1.0], [0.5, 2.0]])]


def check(fn, **kwargs):
    return message(checks.expect_function_matches, fn, derivative, INPUTS, "sigmoid_derivative", **kwargs)


def test_a_correct_function_written_differently_passes():
    assert check(lambda z: sigmoid(z) * sigmoid(-z)) is None
    assert check(lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2) is None


def stub(z):
    ...


def raises(z):
    raise ValueError("not yet")


def loops(z):
    while True:
        pass


def swallows(z):  # an endless loop that catches Exception still stops
    while True:
        try:
            time.sleep(0.01)
        except Exception:
            pass


def in_place(z):
    if isinstance(z, np.ndarray):
        z *= 0.5
    return derivative(z)


@pytest.mark.parametrize("fn, says", [
    (stub, "sigmoid_derivative(0.0) returned None: write the body of sigmoid_derivative and `return` the result"),
    (raises, "sigmoid_derivative(0.0) raised ValueError: not yet"),
    (loops, "sigmoid_derivative(0.0) did not return within 0.3 s: is there a loop that never ends?"),
    (swallows, "did not return within 0.3 s"),
    (in_place, "sigmoid_derivative(<array of shape (7,)>) changed its input array in place"),
    (lambda z: np.ravel(derivative(z)), "sigmoid_derivative(0.0) returned [0.25] (shape (1,)); it should return one number"),
    (lambda z: "0.25", 'sigmoid_derivative(0.0) returned the text "0.25"; it should return a number or an array'),
    (lambda z: [derivative(z)], "sigmoid_derivative(0.0) returned [0.25] (shape (1,)); it should return one number"),
    (lambda z: {"x": 1}, "sigmoid_derivative(0.0) returned a dict; it should return a number"),
    (lambda z: float(np.sum(derivative(z))), "returned shape (); expected (7,) — work elementwise"),
    (lambda z: z * (1 - z), "sigmoid_derivative(0.0) = 0; expected 0.25 — you applied it to z"),
    (lambda z: sigmoid(z) * (1 - sigmoid(z)) + (np.asarray(z) > 2.5),
     "sigmoid_derivative(<array of shape (7,)>)[6] = 1.045 (input 3); expected 0.04518 (1 of 7 values differ)"),
    ("sigmoid", "sigmoid_derivative should be a function (def sigmoid_derivative(...): ...); it is a str"),
])
def test_a_wrong_or_broken_function_fails_with_a_message(fn, says):
    text = check(fn, time_limit=0.3, mistakes=[(lambda z: z * (1 - z), "you applied it to z")])
    assert text is not None and says in text, text


def test_the_time_limit_is_lifted_afterwards():
    check(loops, time_limit=0.2)
    time.sleep(0.4)  # an alarm left armed would interrupt this


def test_functions_of_several_arguments():
    def leaky_relu(z, alpha=0.01):
        return np.where(z > 0, z, alpha * z)

    inputs = [Args(np.array([-2.0, 3.0]), alpha=0.2), Args(-1.0, 0.3)]
    assert message(checks.expect_function_matches, leaky_relu, leaky_relu, inputs, "leaky_relu") is None
    text = message(checks.expect_function_matches, lambda z, alpha=0.01: np.maximum(z, 0), leaky_relu,
                   inputs, "leaky_relu")
    assert text == "leaky_relu(np.array([-2.0, 3.0]), alpha=0.2)[0] = 0 (input -2); expected -0.4 (1 of 2 values differ)"


def test_a_list_of_arrays_of_different_shapes_as_input():
    def total_norm(grads):  # several arrays in, one array out
        return np.array([np.sqrt(sum((g ** 2).sum() for g in grads))] * 2)

    grads = [np.ones((2, 3)), np.ones(4)]
    text = message(checks.expect_function_matches, lambda grads: np.zeros(2), total_norm, [grads], "total_norm")
    assert text.startswith("total_norm(") and "[0] = 0; expected 3.162" in text


def test_a_numpy_array_is_named_in_words():
    text = message(checks.expect_function_matches, np.zeros(3), np.sin, [0.0], "f")
    assert text == "f should be a function (def f(...): ...); it is a NumPy array"


# --------------------------------------------------------------------------
# Keras architectures

D = keras.layers.Dense
SPEC = [checks.flatten(), *[checks.dense(100, "tanh", "glorot_normal")] * 3, checks.dense(10, "softmax")]


def sequential(*layers):
    return keras.Sequential([keras.Input((28, 28)), *layers])


def model_check(model, **kwargs):
    return message(checks.expect_model, model, SPEC, "net", input_shape=(28, 28), **kwargs)


def test_equivalent_architectures_pass():
    plain = sequential(keras.layers.Flatten(),
                       *[D(100, activation="tanh", kernel_initializer="glorot_normal") for _ in range(3)],
                       D(10, activation="softmax"))
    assert model_check(plain) is None
    spelled_out = sequential(keras.layers.Reshape((784,)),
                             *[layer for _ in range(3) for layer in (
                                 D(100, kernel_initializer=keras.initializers.VarianceScaling(1.0, "fan_avg", "normal")),
                                 keras.layers.Activation(keras.activations.tanh))],
                             D(10, kernel_initializer="he_normal"), keras.layers.Softmax())
    assert model_check(spelled_out) is None
    inputs = keras.Input((28, 28))
    x = keras.layers.Flatten()(inputs)
    for _ in range(3):
        x = D(100, activation="tanh", kernel_initializer=keras.initializers.GlorotNormal(seed=1))(x)
    functional = keras.Model(inputs, D(10, activation="softmax")(x))
    assert model_check(functional) is None
    body = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                             *[D(100, activation="tanh", kernel_initializer="glorot_normal") for _ in range(3)]])
    nested = keras.Sequential([body, D(10, activation="softmax")])
    assert model_check(nested) is None


@pytest.mark.parametrize("layers, says", [
    ([keras.layers.Flatten(), *[D(100, activation="tanh") for _ in range(3)], D(10, activation="softmax")],
     "the 1st Dense layer of net uses kernel_initializer glorot_uniform (Keras's default); expected glorot_normal"),
    ([keras.layers.Flatten(), *[D(100, activation="tanh", kernel_initializer="glorot_normal") for _ in range(2)],
      D(10, activation="softmax")], "net has 3 Dense layers; expected 4 (3 hidden + the output layer)"),
    ([keras.layers.Flatten(), D(100, activation="tanh", kernel_initializer="glorot_normal"),
      D(50, activation="tanh", kernel_initializer="glorot_normal"),
      D(100, activation="tanh", kernel_initializer="glorot_normal"), D(10, activation="softmax")],
     "the 2nd Dense layer of net has 50 units; expected 100"),
    ([keras.layers.Flatten(), *[D(100, activation="relu", kernel_initializer="glorot_normal") for _ in range(3)],
      D(10, activation="softmax")], 'the activation after the 1st Dense layer of net is "relu"; expected "tanh"'),
    ([keras.layers.Flatten(), *[D(100, activation="tanh", kernel_initializer="glorot_normal") for _ in range(3)],
      D(10)], 'the 4th Dense layer of net has no activation (it is linear); expected "softmax"'),
    ([*[D(100, activation="tanh", kernel_initializer="glorot_normal") for _ in range(3)],
      D(10, activation="softmax")], "net: expected Flatten after the input, found Dense(100"),
    ([keras.layers.Flatten(), *[D(100, activation="tanh", kernel_initializer="he_normal") for _ in range(3)],
      D(10, activation="softmax")], "uses kernel_initializer he_normal; expected glorot_normal"),
])
def test_a_wrong_architecture_is_named_in_words(layers, says):
    text = model_check(sequential(*layers))
    assert text is not None and says in text, text


def test_expect_model_checks_the_input_and_the_type():
    unbuilt = keras.Sequential([keras.layers.Flatten(), D(10)])
    assert "net has no input shape yet: start it with keras.Input(shape=(28, 28))" in model_check(unbuilt)
    wrong_input = keras.Sequential([keras.Input((784,)), D(10)])
    assert "net takes inputs of shape (784,); expected (28, 28)" in model_check(wrong_input)
    assert "net is a list; it should be a Keras model" in model_check([D(10)])
    assert "net is still `...`" in model_check(...)


@pytest.mark.parametrize("value", ["he_uniform", keras.initializers.HeUniform(),
                                   keras.initializers.VarianceScaling(2.0, "fan_in", "uniform")])
def test_expect_variance_scaling_accepts_any_spelling(value):
    init = checks.expect_variance_scaling(value, "init", "write a name")
    assert (init.scale, init.mode, init.distribution) == (2.0, "fan_in", "uniform")


@pytest.mark.parametrize("value, says", [
    ("he uniform", 'init is the text "he uniform", not a Keras initializer: write a name'),
    (3, "init is an int, not a Keras initializer: write a name"),
    ("random_normal", "init is a RandomNormal: its range does not follow the layer's fans"),
    (..., "init is still `...`"),
])
def test_expect_variance_scaling_says_what_is_wrong(value, says):
    assert says in message(checks.expect_variance_scaling, value, "init", "write a name")


def test_describe_model():
    model = sequential(keras.layers.Flatten(), D(10, activation="softmax"))
    assert checks.describe_model(model) == [
        "Flatten", "Dense(10, kernel_initializer=glorot_uniform (Keras's default))", 'activation "softmax"']


# --------------------------------------------------------------------------
# What the student sees: otter's exception-based test, failing with our message.

def test_otter_shows_the_message(tmp_path):
    from otter.test_files import ExceptionTestFile

    source = '''from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 1

@test_case(points=None, hidden=False)
def test_max_slope(max_slope):
    from lecture_utils.grading.checks import expect_close
    expect_close(max_slope, 0.25, "max_slope", mistakes={0.5: "0.5 is σ(0), not its slope"})
'''
    test = ExceptionTestFile.from_string(source, path=str(tmp_path / "q1.py"))
    test.run({"max_slope": 0.5})
    assert test.score == 0
    assert "Incorrect: max_slope = 0.5; expected 0.25 — 0.5 is σ(0), not its slope" in test.summary()
    test.run({"max_slope": 0.25})
    assert test.score == 1
