"""The wire format between the sandbox and the judge: answers as data, never code.

The sandbox (:mod:`lecture_utils.grading.inside`) runs the student's notebook and
*encodes* the values the tests ask for; the judge (:mod:`lecture_utils.grading.judge`),
a separate process, *decodes* them and runs the tests on them. What can cross:

- ``None``, ``...``, booleans, integers, floats (NaN and infinities too), text;
- lists, tuples and dicts of those (text keys), to a bounded depth and length;
- NumPy numbers and arrays of numbers or booleans (raw bytes, dtype, shape);
  tensors of the Keras backend cross as NumPy arrays;
- Keras models, as the ``.keras`` archive ``model.save`` writes (architecture,
  weights, compile settings), rebuilt with ``safe_mode=True``, and which of
  their variables are the same object (so that "shares model A's layers" is
  still visible);
- Keras objects with a config (initializers, optimizers, losses, layers), as
  their serialized config, rebuilt with ``safe_mode=True`` from Keras's own
  classes only;
- functions, as a name the judge calls back through the channel (the
  sandbox runs the call on data and sends back data: the result, what the
  call did to its array arguments, or the name and message of what it raised);
- anything else, as its type's name and a short ``repr`` (tests then fail
  with "x is a Foo").

Every message is length-prefixed JSON, at most :data:`MAX_MESSAGE` bytes and
:data:`MAX_NODES` lists and dicts (counted before it is parsed); a malformed
or oversized value is decoded as an :class:`Unreadable` answer that says why,
and never crashes the judge.

The judge trusts no size it is told. Before it rebuilds a model it measures
what the model would cost from its configuration alone (Keras builds it
inside a ``StatelessScope``, which gives every variable its shape and no
memory): its parameters, its layers, each layer's output per example, the
weights its archive holds. An answer over a limit is refused, with a message
naming the limit, before anything of its size is allocated. The limits stand
far above the largest honest answer of the six exercises (measured by
``benchmarks/honest_sizes.py``; docs/INSTRUCTORS.md, "What is protected").
"""

from __future__ import annotations

import base64
import builtins
import io
import json
import math
import os
import struct
import tempfile
import zipfile
from typing import Any, Callable

MAX_MESSAGE = 64 * 2**20        # one message (the answers, or one reply)
MAX_ARRAY_BYTES = 32 * 2**20    # one array
MAX_MODEL_BYTES = 32 * 2**20    # one model's .keras archive
MAX_TEXT = 2**20                # one string
MAX_ITEMS = 100_000             # one list, tuple or dict
MAX_DEPTH = 20
MAX_NODES = 200_000             # lists and dicts in one message (each value is a dict on the wire)
MAX_PARAMS = 20_000_000         # one model's parameters (80 MB as float32)
MAX_LAYERS = 300                # one model's layers, nested models included (Keras builds
                                # a Sequential model in time quadratic in its layers: 300 take ~10 s)
MAX_LAYER_OUTPUT = 2**20        # numbers one layer outputs for one example
MAX_CONFIG_BYTES = 2**22        # a model's config.json
ARRAY_KINDS = "biuf"            # bool, int, unsigned, float (no objects, strings, complex)


class ProtocolError(RuntimeError):
    """The other side sent something that is not a message of this format."""


# --------------------------------------------------------------------------
# Framing: 4-byte big-endian length, then UTF-8 JSON.

def write_message(stream, message: dict) -> None:
    data = json.dumps(message, allow_nan=False, separators=(",", ":")).encode()
    if len(data) > MAX_MESSAGE:
        data = json.dumps({"kind": "too large", "bytes": len(data)}).encode()
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


def _read_exactly(stream, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def frame_length(header: bytes) -> int:
    """The length a message's 4-byte header announces (ProtocolError past the limit)."""
    (length,) = struct.unpack(">I", header)
    if length > MAX_MESSAGE:
        raise ProtocolError(f"a message of {length} bytes (the limit is {MAX_MESSAGE})")
    return length


def parse_message(data: bytes) -> dict:
    """A message's body as a dict (ProtocolError if it is not one of this format,
    or holds more than :data:`MAX_NODES` lists and dicts: counted on the bytes
    first, since parsing makes each a Python object many times its size)."""
    containers = data.count(b"{") + data.count(b"[")
    if containers > MAX_NODES:
        raise ProtocolError(f"a message of {containers} lists and dicts or more (the limit is {MAX_NODES})")
    try:
        message = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"a message that is not JSON ({exc})") from None
    if not isinstance(message, dict) or not isinstance(message.get("kind"), str):
        raise ProtocolError("a message without a kind")
    return message


def read_message(stream) -> dict:
    """The next message. Raises EOFError when the channel is closed, and
    ProtocolError when what arrives is not a message of this format."""
    length = frame_length(_read_exactly(stream, 4))
    return parse_message(_read_exactly(stream, length))


# --------------------------------------------------------------------------
# Encoding (in the sandbox). Imports Keras and NumPy only when a value needs them.

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _is_keras(value: Any, name: str) -> bool:
    module = type(value).__module__ or ""
    if not module.startswith("keras"):
        return False
    import keras

    return isinstance(value, getattr(keras, name))


class _TooDeep(Exception):
    pass


class Encoder:
    """Encodes values of the student's namespace. Functions are registered in
    :attr:`functions` (their name on the wire -> the function) for calls; the
    same object met twice gets the same reference (so ``b is a`` stays true)."""

    def __init__(self, scratch: str | None = None):
        self.functions: dict[str, Callable] = {}
        self._seen: dict[int, str] = {}
        self._keep: list = []           # keeps encoded objects alive (ids stay unique)
        self.scratch = scratch or tempfile.gettempdir()

    def encode(self, value: Any, depth: int = 0) -> dict:
        try:
            return self._encode(value, depth)
        except _TooDeep:
            return {"t": "unreadable", "why": f"it is nested more than {MAX_DEPTH} levels deep"}
        except RecursionError:
            return {"t": "unreadable", "why": "it is nested too deeply"}
        except Exception as exc:  # a value we cannot encode: say why, go on
            return {"t": "unreadable", "why": f"encoding it raised {type(exc).__name__}: {str(exc)[:200]}"}

    def _ref(self, value: Any) -> tuple[str, bool]:
        key = id(value)
        if key in self._seen:
            return self._seen[key], True
        ref = f"o{len(self._seen)}"
        self._seen[key] = ref
        self._keep.append(value)
        return ref, False

    def _encode(self, value: Any, depth: int) -> dict:
        if depth > MAX_DEPTH:
            raise _TooDeep
        if value is None:
            return {"t": "none"}
        if value is Ellipsis:
            return {"t": "ellipsis"}
        if type(value) is bool:
            return {"t": "bool", "v": value}
        if type(value) is int:
            return {"t": "int", "v": str(value)}
        if type(value) is float:
            return {"t": "float", "v": repr(value)}
        if type(value) is str:
            if len(value) > MAX_TEXT:
                return {"t": "unreadable", "why": f"a text of {len(value)} characters (the limit is {MAX_TEXT})"}
            return {"t": "str", "v": value}
        if type(value) in (list, tuple):
            if len(value) > MAX_ITEMS:
                return {"t": "unreadable", "why": f"a {type(value).__name__} of {len(value)} items"}
            return {"t": type(value).__name__, "v": [self._encode(v, depth + 1) for v in value]}
        if type(value) is dict:
            if len(value) > MAX_ITEMS or not all(type(k) is str for k in value):
                return {"t": "other", "type": "dict", "repr": _short_repr(value)}
            return {"t": "dict", "v": {k: self._encode(v, depth + 1) for k, v in value.items()}}
        module = type(value).__module__ or ""
        if module == "numpy":
            import numpy as np

            if isinstance(value, np.ndarray):
                return self._array(value)
            if isinstance(value, np.generic) and value.dtype.kind in ARRAY_KINDS:
                return {**self._array(np.asarray(value)), "t": "npscalar"}
        if _is_keras(value, "Model"):
            return self._model(value)
        if _is_keras(value, "Variable") or _is_tensor(value):
            import numpy as np

            return self._array(np.asarray(value))
        if isinstance(value, type) and str(getattr(value, "__module__", "")).startswith("keras"):
            return {"t": "keras class", "module": value.__module__, "name": value.__qualname__}
        if module.startswith("keras") and hasattr(value, "get_config"):
            import keras

            ref, seen = self._ref(value)
            if seen:
                return {"t": "ref", "ref": ref}
            config = keras.saving.serialize_keras_object(value)
            return {"t": "keras", "ref": ref, "config": json.loads(json.dumps(config, default=_plain))}
        if callable(value) and not isinstance(value, type):
            ref, seen = self._ref(value)
            if not seen:
                self.functions[ref] = value
            return {"t": "function", "ref": ref, "name": str(getattr(value, "__name__", type(value).__name__))[:80]}
        return {"t": "other", "type": type(value).__name__[:80], "repr": _short_repr(value)}

    def _array(self, array) -> dict:
        import numpy as np

        if array.dtype.kind not in ARRAY_KINDS:
            return {"t": "other", "type": "ndarray", "repr": f"an array of {array.dtype} (not numbers)"}
        if array.nbytes > MAX_ARRAY_BYTES:
            return {"t": "unreadable", "why": f"an array of {array.nbytes} bytes (the limit is {MAX_ARRAY_BYTES})"}
        array = np.array(array, order="C", copy=True)  # (ascontiguousarray would make a 0-d array 1-d)
        return {"t": "ndarray", "dtype": array.dtype.str, "shape": list(array.shape), "data": _b64(array.tobytes())}

    def _model(self, model) -> dict:
        ref, seen = self._ref(model)
        if seen:
            return {"t": "ref", "ref": ref}
        fd, path = tempfile.mkstemp(suffix=".keras", dir=self.scratch)
        os.close(fd)
        try:
            model.save(path)
            size = os.path.getsize(path)
            if size > MAX_MODEL_BYTES:
                return {"t": "unreadable", "why": f"a model of {size} bytes (the limit is {MAX_MODEL_BYTES})"}
            with open(path, "rb") as f:
                archive = f.read()
        finally:
            os.unlink(path)
        # which variables are the same object as another model's (weights in model.weights order)
        variables = []
        for v in model.weights:
            vref, _ = self._ref(v)
            variables.append(vref)
        # Keras's archive keeps each layer's trainable flag but not the model's own
        trainable = [bool(getattr(layer, "trainable", True)) for layer in _all_layers(model)]
        return {"t": "model", "ref": ref, "archive": _b64(archive), "variables": variables,
                "trainable": trainable, "type": type(model).__name__}


def _is_tensor(value: Any) -> bool:
    module = type(value).__module__ or ""
    return module.startswith(("tensorflow", "jax", "jaxlib")) and hasattr(value, "shape") and hasattr(value, "dtype")


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 200 else text[:197] + "..."


def _plain(value: Any) -> Any:
    """Keras configs may hold NumPy numbers or tuples: plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} in a Keras config")


# --------------------------------------------------------------------------
# Decoding (in the judge).

class Unreadable:
    """An answer that could not cross: the tests see this object, and the
    judge adds ``why`` to the failing tests' messages."""

    def __init__(self, why: str):
        self.why = why

    def __repr__(self) -> str:
        return f"<an answer the grader could not read: {self.why}>"


def opaque(type_name: str, text: str) -> Any:
    """An object of a class named like the student's (``_type_name`` in the
    checks then says "a Foo"), whose repr is the student's."""
    safe = "".join(c for c in str(type_name) if c.isalnum() or c == "_")[:80] or "object"
    cls = type(safe, (), {"__repr__": lambda self: text, "__module__": "submission"})
    return cls()


class RaisedInSubmission(Exception):
    """Base of the exceptions a student's function raised (named as there)."""


def raised(type_name: str, message: str) -> Exception:
    """The exception a student's function raised, rebuilt: a built-in
    exception class (``ValueError``, ``RecursionError``) as itself, any other
    as a class of that name."""
    name = "".join(c for c in str(type_name) if c.isalnum() or c == "_")[:80] or "Exception"
    builtin = getattr(builtins, name, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception):
        try:
            return builtin(str(message)[:2000])
        except Exception:
            pass
    return type(name, (RaisedInSubmission,), {"__module__": "submission"})(str(message)[:2000])


class Decoder:
    """Decodes the sandbox's values. ``call(ref, args, kwargs)`` runs a
    function of the submission (through the channel) and returns its reply."""

    def __init__(self, call: Callable[[str, str, list, dict], Any] | None = None):
        self.call = call
        self._objects: dict[str, Any] = {}
        self._variables: dict[str, Any] = {}
        self._nodes = 0
        # the largest of each kind this decoder met (benchmarks/honest_sizes.py reports them)
        self.sizes = {"nodes": 0, "array_bytes": 0, "text_chars": 0, "model_params": 0, "model_layers": 0,
                      "layer_output": 0, "config_bytes": 0, "weights_bytes": 0}

    def _saw(self, what: str, value: int) -> None:
        self.sizes[what] = max(self.sizes[what], int(value))

    def decode(self, node: Any) -> Any:
        self._nodes = 0
        try:
            return self._decode(node, 0)
        except TooCostly as exc:  # refused: what it would cost, and the limit
            return Unreadable(str(exc))
        except Exception as exc:  # malformed: this answer is unreadable, nothing else
            return Unreadable(f"it arrived malformed ({type(exc).__name__}: {str(exc)[:200]})")
        finally:
            self._saw("nodes", self._nodes)

    def _decode(self, node: Any, depth: int) -> Any:
        if depth > MAX_DEPTH + 1:
            raise ValueError("nested too deeply")
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise TooCostly(f"it holds more than {MAX_NODES} values (the limit)")
        if not isinstance(node, dict):
            raise ValueError(f"a {type(node).__name__} where a tagged value belongs")
        t = node.get("t")
        if t == "none":
            return None
        if t == "ellipsis":
            return Ellipsis
        if t == "bool":
            return _typed(node["v"], bool)
        if t == "int":
            text = _typed(node["v"], str)
            if len(text) > 4300:
                raise ValueError("an integer with too many digits")
            return int(text)
        if t == "float":
            return float(_typed(node["v"], str))
        if t == "str":
            text = _typed(node["v"], str)[:MAX_TEXT]
            self._saw("text_chars", len(text))
            return text
        if t in ("list", "tuple"):
            items = _typed(node["v"], list)
            if len(items) > MAX_ITEMS:
                raise ValueError("too many items")
            values = [self._decode(v, depth + 1) for v in items]
            return values if t == "list" else tuple(values)
        if t == "dict":
            items = _typed(node["v"], dict)
            if len(items) > MAX_ITEMS:
                raise ValueError("too many items")
            return {str(k): self._decode(v, depth + 1) for k, v in items.items()}
        if t in ("ndarray", "npscalar"):
            array = _array(node)
            self._saw("array_bytes", array.nbytes)
            return array[()] if t == "npscalar" else array
        if t == "ref":
            ref = _typed(node["ref"], str)
            if ref not in self._objects:
                raise ValueError(f"a reference to {ref}, which did not arrive")
            return self._objects[ref]
        if t == "function":
            ref = _typed(node["ref"], str)
            if isinstance(self._objects.get(ref), RemoteFunction):
                return self._objects[ref]
            fn = RemoteFunction(ref, _typed(node.get("name", "f"), str)[:80], self)
            self._objects[ref] = fn
            return fn
        if t == "model":
            return self._model(node)
        if t == "keras":
            value = _keras_object(node["config"])
            self._objects[_typed(node["ref"], str)] = value
            return value
        if t == "keras class":
            return _keras_class(_typed(node["module"], str), _typed(node["name"], str))
        if t == "other":
            return opaque(_typed(node.get("type", "object"), str), _typed(node.get("repr", ""), str)[:200])
        if t == "unreadable":
            return Unreadable(_typed(node.get("why", "no reason given"), str)[:300])
        raise ValueError(f"an unknown tag {t!r}")

    def _model(self, node: dict) -> Any:
        import keras

        archive = base64.b64decode(_typed(node["archive"], str), validate=True)
        if len(archive) > MAX_MODEL_BYTES:
            raise ValueError("a model archive over the size limit")
        config, config_bytes = _check_archive(archive)
        self._saw("config_bytes", config_bytes)
        cost = model_cost(config)
        for what in ("model_params", "model_layers", "layer_output"):
            self._saw(what, cost[what])
        self._saw("weights_bytes", _check_weights(archive, cost["model_params"]))
        with tempfile.TemporaryDirectory(prefix="lecture-utils-model-") as tmp:
            path = os.path.join(tmp, "model.keras")
            with open(path, "wb") as f:
                f.write(archive)
            try:
                model = keras.saving.load_model(path, safe_mode=True, compile=True)
            except Exception:  # e.g. compiled with something Keras cannot rebuild: the architecture alone
                model = keras.saving.load_model(path, safe_mode=True, compile=False)
        flags = [_typed(f, bool) for f in _typed(node.get("trainable", []), list)]
        layers = _all_layers(model)
        if len(flags) == len(layers):
            for layer, flag in zip(layers, flags):  # outside in: a model's flag, then its layers' own
                if layer.trainable != flag:
                    layer.trainable = flag
        refs = [_typed(r, str) for r in _typed(node.get("variables", []), list)]
        self._share_variables(model, refs)
        self._objects[_typed(node["ref"], str)] = model
        return model

    def _share_variables(self, model, refs: list[str]) -> None:
        """Where the sandbox said a variable is one an earlier model holds,
        put that variable object in this model too (so ``id`` shows sharing)."""
        weights = model.weights
        if len(weights) != len(refs):
            return
        replace = {}
        for variable, ref in zip(weights, refs):
            if ref in self._variables:
                replace[id(variable)] = self._variables[ref]
            else:
                self._variables[ref] = variable
        if not replace:
            return
        for layer in _all_layers(model):
            for attr in ("_trainable_variables", "_non_trainable_variables"):
                slots = getattr(layer, attr, None)
                if isinstance(slots, list):
                    for i, v in enumerate(slots):
                        if id(v) in replace:
                            slots[i] = replace[id(v)]


def _all_layers(model) -> list:
    found, stack = [], [model]
    while stack:
        layer = stack.pop()
        found.append(layer)
        stack.extend(getattr(layer, "_layers", []) or [])
    return found


def _typed(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise ValueError(f"a {type(value).__name__} where a {kind.__name__} belongs")
    return value


def _array(node: dict):
    import numpy as np

    dtype = np.dtype(_typed(node["dtype"], str))
    if dtype.kind not in ARRAY_KINDS:
        raise ValueError(f"an array of {dtype}")
    shape = tuple(_typed(n, int) for n in _typed(node["shape"], list))
    if any(n < 0 for n in shape) or len(shape) > 32:
        raise ValueError("a bad shape")
    data = base64.b64decode(_typed(node["data"], str), validate=True)
    if len(data) > MAX_ARRAY_BYTES or len(data) != math.prod(shape) * dtype.itemsize:
        raise ValueError(f"{len(data)} bytes for an array of shape {shape} and dtype {dtype}")
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


class TooCostly(ValueError):
    """An answer whose rebuilding would cost more than a limit (the message says which)."""


def model_cost(config: dict) -> dict:
    """What rebuilding the model of ``config`` (a .keras archive's config.json)
    would cost, measured without paying it: Keras builds the model in a
    ``StatelessScope`` that defers every variable's initialization, so each
    variable has its shape and no memory; the deferred variables are then
    dropped, never initialized. Returns its parameters, its layers and the
    largest number of values one layer outputs for one example.

    Raises:
        TooCostly: over :data:`MAX_PARAMS`, :data:`MAX_LAYERS` or
            :data:`MAX_LAYER_OUTPUT`, or a model Keras cannot measure this way.
    """
    import keras
    from keras.src.backend.common import global_state  # where Keras keeps the deferred variables

    config = {k: v for k, v in config.items() if k != "compile_config"}  # compiling is not building
    deferred = list(global_state.get_global_attribute("uninitialized_variables", []) or [])
    try:
        with keras.StatelessScope(initialize_variables=False):
            model = keras.saving.deserialize_keras_object(config, safe_mode=True)
            layers = _all_layers(model)
            params = sum(math.prod(int(n) for n in v.shape) for v in model.weights)
            outputs = [0]
            for layer in layers:
                try:
                    shapes = [getattr(o, "shape", ()) for o in keras.tree.flatten(layer.output)]
                except (AttributeError, ValueError):  # a layer not called in the graph (e.g. the model itself)
                    continue
                outputs.append(sum(math.prod(int(n) for n in shape if n is not None) for shape in shapes))
    except Exception as exc:
        raise TooCostly(f"the grader could not measure the model before rebuilding it ({type(exc).__name__}: "
                        f"{str(exc)[:200]}), so it does not rebuild it") from None
    finally:
        global_state.set_global_attribute("uninitialized_variables", deferred)
    cost = {"model_params": params, "model_layers": len(layers), "layer_output": max(outputs)}
    for what, limit, unit in (("model_params", MAX_PARAMS, "parameters"), ("model_layers", MAX_LAYERS, "layers"),
                              ("layer_output", MAX_LAYER_OUTPUT, "values from one layer for one example")):
        if cost[what] > limit:
            raise TooCostly(f"a model of {cost[what]:,} {unit} (the limit is {limit:,}): the grader does not "
                            "rebuild it")
    return cost


def _check_weights(archive: bytes, params: int) -> int:
    """The bytes of the weights a .keras archive's model.weights.h5 declares
    (read from its datasets' shapes, not their data: HDF5 can compress a
    dataset inside the file); TooCostly past 8 bytes a parameter of the model."""
    import h5py

    limit = 8 * max(params, 1) + 2**20
    total = 0
    with zipfile.ZipFile(io.BytesIO(archive)) as zf, h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as h5:
        def visit(name, item):
            nonlocal total
            if isinstance(item, h5py.Dataset):
                total += int(item.size) * item.dtype.itemsize
                if total > limit:
                    raise TooCostly(f"a model whose weights file declares more than {limit:,} bytes of weights "
                                    f"for {params:,} parameters: the grader does not rebuild it")
        h5.visititems(visit)
    return total


def _check_archive(archive: bytes) -> tuple[dict, int]:
    """A .keras archive holds config.json, metadata.json and model.weights.h5,
    and nothing that unpacks to more than the limit. Returns its config and
    the bytes of its config.json."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile:
        raise ValueError("the model is not a .keras archive") from None
    allowed = {"config.json", "metadata.json", "model.weights.h5", "assets/"}
    for info in infos:
        if info.filename not in allowed and not info.filename.startswith("assets/"):
            raise ValueError(f"the model archive holds {info.filename!r}")
    if sum(i.file_size for i in infos) > 4 * MAX_MODEL_BYTES:
        raise ValueError("the model archive unpacks to more than the limit")
    sizes = {i.filename: i.file_size for i in infos}
    if sizes.get("config.json", 0) > MAX_CONFIG_BYTES:
        raise TooCostly(f"a model whose configuration is {sizes['config.json']:,} bytes (the limit is "
                        f"{MAX_CONFIG_BYTES:,}): the grader does not rebuild it")
    if "model.weights.h5" not in sizes:
        raise ValueError("the model archive holds no weights")
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        config = json.loads(zf.read("config.json"))
    _check_config(config)
    if not isinstance(config, dict):
        raise ValueError("the model's configuration is not a dict")
    layers = _config_layers(config)
    if layers > MAX_LAYERS:
        raise TooCostly(f"a model of {layers:,} layers (the limit is {MAX_LAYERS:,}): the grader does not rebuild it")
    return config, sizes["config.json"]


def _config_layers(node: Any, depth: int = 0) -> int:
    """The layers a model's config lists (nested models' too), counted before Keras reads it."""
    if depth > 200:
        return 0
    if isinstance(node, dict):
        own = len(node["layers"]) if isinstance(node.get("layers"), list) else 0
        return own + sum(_config_layers(v, depth + 1) for v in node.values())
    if isinstance(node, list):
        return sum(_config_layers(v, depth + 1) for v in node)
    return 0


def _check_config(node: Any, depth: int = 0) -> None:
    """Only Keras's own classes: every ``module`` in a serialized config must be keras's."""
    if depth > 200:
        raise ValueError("a Keras config nested too deeply")
    if isinstance(node, dict):
        module = node.get("module")
        if module == "builtins" and node.get("class_name") == "function" and isinstance(node.get("config"), str):
            module = None  # a Keras function by its name (Keras looks it up among its own: losses, activations)
        if module is not None and not (isinstance(module, str) and (module == "keras" or module.startswith("keras."))):
            raise ValueError(f"the model uses {module}.{node.get('class_name')}, which is not a Keras class "
                             "(the grader rebuilds models from Keras's own classes only)")
        if "registered_name" in node and node.get("registered_name") not in (None, node.get("class_name")) \
                and not str(node.get("registered_name")).startswith("keras"):
            raise ValueError(f"the model uses the custom class {node.get('registered_name')}, which the "
                             "grader cannot rebuild (Keras's own classes only)")
        for v in node.values():
            _check_config(v, depth + 1)
    elif isinstance(node, list):
        for v in node:
            _check_config(v, depth + 1)


def _keras_class(module: str, name: str) -> type:
    """A class of Keras's own (``keras.initializers.LecunUniform``), found by its module and name."""
    import importlib

    if not (module == "keras" or module.startswith("keras.")) or not name.isidentifier():
        raise ValueError(f"the class {module}.{name} is not one of Keras's")
    value = getattr(importlib.import_module(module), name)
    if not isinstance(value, type):
        raise ValueError(f"{module}.{name} is not a class")
    return value


def _keras_object(config: Any) -> Any:
    import keras

    _check_config(config)
    if isinstance(config, str):
        return keras.saving.deserialize_keras_object(config, safe_mode=True)
    if not isinstance(config, dict):
        raise ValueError("a Keras config that is not a dict")
    return keras.saving.deserialize_keras_object(config, safe_mode=True)


class RemoteFunction:
    """A function of the submission: calling it sends the arguments (data) to
    the sandbox, which runs the function there and sends back the result."""

    def __init__(self, ref: str, name: str, decoder: Decoder):
        self._ref, self.__name__, self._decoder = ref, name, decoder
        self.__qualname__ = name

    def __repr__(self) -> str:
        return f"<function {self.__name__}>"

    def __call__(self, *args, **kwargs):
        if self._decoder.call is None:
            raise RuntimeError("the submission is no longer running")
        return self._decoder.call(self, args, kwargs)
