"""The wire format between the sandbox and the judge (lecture_utils.grading.wire):
what crosses comes back equal, and whatever arrives malformed or oversized is
an Unreadable answer that says why, never an error of the judge."""
import base64
import io
import json
import math
import struct

import numpy as np
import pytest

from lecture_utils.grading import wire, inside, judge


def cross(value, scratch=None):
    encoder = wire.Encoder(scratch=str(scratch) if scratch else None)
    node = json.loads(json.dumps(encoder.encode(value)))
    return wire.Decoder().decode(node)


@pytest.mark.parametrize("value", [None, Ellipsis, True, False, 0, -7, 10**40, 0.25, "σ′(z)", "",
                                   [1, [2.5, "x"]], (1, (2,)), {"a": [1, 2], "b": {"c": None}}])
def test_plain_values_cross_unchanged(value):
    got = cross(value)
    assert got == value and type(got) is type(value)


def test_special_floats_cross():
    assert math.isnan(cross(float("nan"))) and cross(float("inf")) == math.inf and cross(-math.inf) == -math.inf


@pytest.mark.parametrize("value", [np.float32(0.5), np.int64(3), np.bool_(True), np.arange(6.0).reshape(2, 3),
                                   np.array(2.0), np.array([True, False]), np.zeros((0, 3), np.uint8)])
def test_numpy_values_keep_dtype_and_shape(value):
    got = cross(value)
    assert type(got) is type(value) and got.dtype == value.dtype and np.shape(got) == np.shape(value)
    assert np.array_equal(got, value)


def test_the_same_object_twice_is_one_object():
    model_like = [1, 2]
    encoder = wire.Encoder()
    fn = lambda x: x  # noqa: E731
    nodes = json.loads(json.dumps([encoder.encode(fn), encoder.encode(fn), encoder.encode(model_like)]))
    decoder = wire.Decoder()
    a, b, _ = (decoder.decode(n) for n in nodes)
    assert a is b and isinstance(a, wire.RemoteFunction) and a.__name__ == "<lambda>"


def test_other_objects_keep_their_type_name_only():
    class Foo:
        def __repr__(self):
            return "Foo()"

    got = cross(Foo())
    assert type(got).__name__ == "Foo" and repr(got) == "Foo()" and not isinstance(got, wire.Unreadable)
    assert type(cross(np.array(["a", "b"]))).__name__ == "ndarray"    # text arrays: not numbers
    assert type(cross({1: "a"})).__name__ == "dict"                   # keys that are not text


def test_oversized_values_are_unreadable_with_the_reason():
    got = cross(np.zeros(wire.MAX_ARRAY_BYTES // 8 + 1))
    assert isinstance(got, wire.Unreadable) and "the limit is" in got.why
    assert isinstance(cross("x" * (wire.MAX_TEXT + 1)), wire.Unreadable)
    nested = []
    for _ in range(wire.MAX_DEPTH + 5):
        nested = [nested]
    assert isinstance(cross(nested), wire.Unreadable)


@pytest.mark.parametrize("node", [
    None, 3, [], {"t": "frobnicate"}, {"t": "int", "v": 3}, {"t": "int", "v": "9" * 5000},
    {"t": "ndarray", "dtype": "|O", "shape": [1], "data": ""},
    {"t": "ndarray", "dtype": "<f8", "shape": [3], "data": base64.b64encode(b"12345678").decode()},
    {"t": "ndarray", "dtype": "<f8", "shape": [1], "data": "not base64!"},
    {"t": "ref", "ref": "o99"}, {"t": "list", "v": [{"t": "bool", "v": 1}]},
    {"t": "keras", "ref": "o1", "config": {"module": "os", "class_name": "system", "config": {}}},
    {"t": "keras class", "module": "subprocess", "name": "Popen"},
    {"t": "model", "ref": "o1", "archive": base64.b64encode(b"PK not a zip").decode()},
])
def test_malformed_answers_are_unreadable_never_an_error(node):
    got = wire.Decoder().decode(node)
    assert isinstance(got, wire.Unreadable) and got.why


def test_messages_over_the_limit_or_not_json_are_refused():
    with pytest.raises(wire.ProtocolError, match="the limit is"):
        wire.read_message(io.BytesIO(struct.pack(">I", wire.MAX_MESSAGE + 1)))
    with pytest.raises(wire.ProtocolError, match="not JSON"):
        wire.read_message(io.BytesIO(struct.pack(">I", 3) + b"{{{"))
    with pytest.raises(wire.ProtocolError, match="without a kind"):
        wire.read_message(io.BytesIO(struct.pack(">I", 2) + b"{}"))
    with pytest.raises(EOFError):
        wire.read_message(io.BytesIO(struct.pack(">I", 10) + b"abc"))
    stream = io.BytesIO()
    wire.write_message(stream, {"kind": "answers", "answers": {"x": {"t": "int", "v": "1"}}})
    stream.seek(0)
    assert wire.read_message(stream)["answers"] == {"x": {"t": "int", "v": "1"}}


def test_exceptions_cross_by_name_and_never_as_a_base_exception():
    assert type(wire.raised("ValueError", "bad")) is ValueError
    assert isinstance(wire.raised("RecursionError", "deep"), RecursionError)
    mine = wire.raised("MyError", "oops")
    assert type(mine).__name__ == "MyError" and isinstance(mine, Exception) and str(mine) == "oops"
    for name in ("SystemExit", "KeyboardInterrupt", "GeneratorExit", "Incorrect"):
        assert isinstance(wire.raised(name, ""), Exception)


def test_functions_are_called_back_on_data_and_changes_in_place_come_back():
    def double_in_place(g, out=None):
        g *= 2
        return g.sum()

    encoder, inside_decoder = wire.Encoder(), wire.Decoder()

    def call(fn, args, kwargs):
        request = json.loads(json.dumps(judge.call_request(fn, args, kwargs)))
        reply = json.loads(json.dumps(inside.answer_call(encoder, inside_decoder, request)))
        return judge.take_reply(fn, args, reply)

    fn = wire.Decoder(call=call).decode(json.loads(json.dumps(encoder.encode(double_in_place))))
    g, grads = np.array([1.0, 2.0]), [np.array([3.0])]
    assert fn(g) == 6.0 and g.tolist() == [2.0, 4.0]            # the change the call made, made here
    fn2 = wire.Decoder(call=call).decode(json.loads(json.dumps(encoder.encode(
        lambda gs: [x.__imul__(0) for x in gs]))))
    fn2(grads)
    assert grads[0].tolist() == [0.0]                            # in a list of arrays too

    def raises(x):
        raise KeyError("nope")

    fn3 = wire.Decoder(call=call).decode(json.loads(json.dumps(encoder.encode(raises))))
    with pytest.raises(KeyError, match="nope"):
        fn3(1)


def test_keras_objects_and_models_are_rebuilt_from_keras_classes(tmp_path):
    import keras

    init = cross(keras.initializers.VarianceScaling(2.0, "fan_out", "truncated_normal"))
    assert isinstance(init, keras.initializers.VarianceScaling) and init.mode == "fan_out" and init.scale == 2.0
    assert cross(keras.initializers.LecunUniform) is keras.initializers.LecunUniform

    model_a = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="selu"),
                                keras.layers.Dense(2, activation="softmax")])
    model_b = keras.Sequential([keras.Input((4,)), model_a.layers[0], keras.layers.Dense(1, activation="sigmoid")])
    model_b.layers[0].trainable = False
    model_b.compile(loss=keras.losses.binary_crossentropy, optimizer=keras.optimizers.SGD(learning_rate=0.03))
    encoder = wire.Encoder(scratch=str(tmp_path))
    nodes = json.loads(json.dumps([encoder.encode(model_a), encoder.encode(model_b), encoder.encode(model_a)]))
    decoder = wire.Decoder()
    a, b, a_again = (decoder.decode(n) for n in nodes)
    assert a is a_again and isinstance(b, keras.Model)
    assert {id(v) for v in a.weights} & {id(v) for v in b.weights}     # the shared layer stays shared
    assert not b.layers[0].trainable and b.layers[1].trainable and b.compiled
    assert abs(float(keras.ops.convert_to_numpy(b.optimizer.learning_rate)) - 0.03) < 1e-7
    x = np.ones((2, 4), "float32")
    assert np.allclose(a.predict(x, verbose=0), model_a.predict(x, verbose=0))


def test_a_model_with_a_class_of_the_notebook_is_not_rebuilt(tmp_path):
    import keras

    @keras.saving.register_keras_serializable(package="Student")
    class Sneaky(keras.layers.Layer):
        def call(self, x):
            return x

    model = keras.Sequential([keras.Input((2,)), Sneaky()])
    got = cross(model, tmp_path)
    assert isinstance(got, wire.Unreadable) and "Sneaky" in got.why


# --------------------------------------------------------------------------
# The judge trusts no size it is told: what a model would cost is measured
# from its configuration before anything of that size is allocated.

def _archive(tmp_path, model, edit=None, weights=None):
    """``model``'s .keras archive as the sandbox sends it, its config.json
    changed by ``edit`` (and its weights file replaced by ``weights``)."""
    import zipfile

    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    if edit:
        config = json.loads(files["config.json"])
        edit(config)
        files["config.json"] = json.dumps(config).encode()
    if weights is not None:
        files["model.weights.h5"] = weights
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return {"t": "model", "ref": "o0", "archive": base64.b64encode(buffer.getvalue()).decode(), "variables": [],
            "trainable": [], "type": "Sequential"}


def _layers(config):
    return config["config"]["layers"]


def _unbuilt(config):
    """Drop what Keras saved of each layer's input shape, so the config alone says the shapes."""
    config.pop("build_config", None)
    for layer in _layers(config):
        layer.pop("build_config", None)


def _widen(config):
    _unbuilt(config)
    _layers(config)[1]["config"]["units"] = 10**8      # 79,000,000,005 parameters: 316 GB as float32


def _repeat(config):
    _unbuilt(config)
    _layers(config)[1] = {"module": "keras.layers", "class_name": "RepeatVector", "registered_name": None,
                          "config": {"name": "rv", "n": 10**7, "trainable": True, "dtype": "float32"}}
    del _layers(config)[2:]


def _deepen(config):
    _unbuilt(config)
    activation = {"module": "keras.layers", "class_name": "Activation", "registered_name": None,
                  "config": {"activation": "linear", "trainable": True, "dtype": "float32"}}
    _layers(config)[1:] = [dict(activation, config=dict(activation["config"], name=f"a{i}"))
                           for i in range(wire.MAX_LAYERS + 1)]  # and its input layer


def _pad(config):
    config["config"]["name"] = "x" * (wire.MAX_CONFIG_BYTES + 1)


@pytest.mark.parametrize("edit, says", [
    (_widen, "a model of 79,000,000,005 parameters (the limit is 20,000,000)"),
    (_repeat, "a model of 7,840,000,000 values from one layer for one example (the limit is 1,048,576)"),
    (_deepen, f"a model of {wire.MAX_LAYERS + 2:,} layers (the limit is {wire.MAX_LAYERS:,})"),
    (_pad, f"a model whose configuration is {wire.MAX_CONFIG_BYTES + 1 + 0:,}"),
], ids=["parameters", "layer output", "layers", "config size"])
def test_a_model_that_would_cost_too_much_is_refused_before_it_is_built(tmp_path, edit, says):
    import resource

    import keras
    from keras.src.backend.common import global_state

    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(7), keras.layers.Dense(5)])
    node = json.loads(json.dumps(_archive(tmp_path, model, edit)))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    got = wire.Decoder().decode(node)
    grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
    assert isinstance(got, wire.Unreadable), got
    assert (says if edit is not _pad else "a model whose configuration is") in got.why, got.why
    assert "the grader does not rebuild it" in got.why
    assert grew < 2**28, f"refusing it took {grew / 2**20:.0f} MB"       # the model itself would take GBs
    assert not global_state.get_global_attribute("uninitialized_variables", []), "a deferred variable was kept"


def test_a_weights_file_that_declares_more_than_the_model_holds_is_refused(tmp_path):
    """HDF5 compresses inside the file: a dataset of 10**10 zeros takes a few
    kilobytes there (never written: its fill value), 40 GB when read."""
    import h5py
    import keras

    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(7), keras.layers.Dense(5)])
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        h5.create_dataset("layers/dense/vars/0", shape=(10**10,), dtype="f4", chunks=(2**20,), compression="gzip")
    assert len(buffer.getvalue()) < 2**20
    got = wire.Decoder().decode(json.loads(json.dumps(_archive(tmp_path, model, weights=buffer.getvalue()))))
    assert isinstance(got, wire.Unreadable) and "weights file declares more than" in got.why, got


def test_an_honest_model_is_measured_and_rebuilt(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(100, activation="selu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(10, activation="softmax")])
    decoder = wire.Decoder()
    got = decoder.decode(json.loads(json.dumps(_archive(tmp_path, model))))
    assert isinstance(got, keras.Model) and got.count_params() == model.count_params()
    assert decoder.sizes["model_params"] == model.count_params() and decoder.sizes["layer_output"] == 784
    assert decoder.sizes["model_layers"] == 6   # the model, its input layer and its four layers


def test_a_message_of_too_many_lists_and_dicts_is_refused_before_it_is_parsed():
    data = json.dumps({"kind": "answers", "answers": {"x": {"t": "list", "v": [{"t": "none"}] * wire.MAX_NODES}}})
    with pytest.raises(wire.ProtocolError, match="lists and dicts or more .the limit is 200000"):
        wire.parse_message(data.encode())
    few = json.dumps({"kind": "answers", "answers": {"x": {"t": "list", "v": [{"t": "none"}] * 1000}}})
    assert wire.parse_message(few.encode())["kind"] == "answers"


def test_an_answer_of_too_many_values_is_refused():
    node = {"t": "list", "v": [{"t": "list", "v": [{"t": "none"}] * 1000}] * (wire.MAX_NODES // 1000 + 1)}
    got = wire.Decoder().decode(node)
    assert isinstance(got, wire.Unreadable) and f"more than {wire.MAX_NODES} values" in got.why, got
