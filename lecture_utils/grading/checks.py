"""Comparison helpers for the exercises' tests: a failing check says what is
wrong in the student's terms.

The tests of the exercise notebooks (``solutions/``, otter-grader's
exception-based format) call these helpers. Each one either returns quietly
or raises :class:`Incorrect` (or :class:`NotAnswered` while the answer is still
the placeholder ``...``) with a message such as::

    max_slope = 0.5; expected 0.25 — 0.5 is σ(0), the sigmoid itself; the question asks for its slope σ′

which ``grader.check("q1")`` shows under the test's name. They accept every
correct answer: numbers within a tolerance, NumPy scalars, arrays of the
right shape, any equivalent Keras architecture (``Dense(100, activation="tanh")``
or ``Dense(100)`` then ``Activation("tanh")``; ``"glorot_normal"`` or the
equivalent ``VarianceScaling``; ``Flatten`` or ``Reshape``). A student's function
that raises, returns the wrong type or shape, or loops forever becomes a
failing check with a message, never an error that stops the notebook.

How to write a test with them (one function per test cell; import inside it,
because otter keeps only the function)::

    def test_max_slope(max_slope):
        from lecture_utils.grading.checks import expect_close
        hint = "σ′(z) = σ(z)(1 − σ(z)) is largest where σ(z) = 1/2"
        expect_close(max_slope, 0.25, "max_slope", hint)

    test_max_slope(max_slope)

Introduced in ``solutions/01_vanishing_gradients.ipynb`` (see ``solutions/README.md``).
"""

from __future__ import annotations

import contextlib
import math
import numbers
import signal
import threading
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

__all__ = [
    "Incorrect", "NotAnswered", "Args", "fail", "expect", "expect_answered", "expect_number",
    "expect_close", "expect_integer", "expect_equal", "expect_array_close",
    "expect_function_matches", "expect_model", "expect_variance_scaling", "dense", "activation", "flatten",
    "batch_norm", "dropout", "describe_model",
]


class Incorrect(AssertionError):
    """A check failed. The message says what is wrong, in the exercise's terms.

    (otter strips single quotes from both ends of a message, so a message that
    would end with one gets a full stop.)"""

    def __init__(self, message: str = ""):
        message = str(message)
        if message.endswith("'"):
            message += "."
        super().__init__(message)


class NotAnswered(Incorrect):
    """The answer is still the placeholder (``...``), or was never defined."""


def fail(message: str) -> None:
    """Fail the check with ``message``."""
    raise Incorrect(message)


def expect(condition: Any, message: str) -> None:
    """Fail with ``message`` unless ``condition`` is true."""
    if not condition:
        raise Incorrect(message)


# --------------------------------------------------------------------------
# Formatting values the way a student reads them.

def _fmt(value: Any) -> str:
    """A short, readable rendering: 4 significant digits for numbers."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        x = float(value)
        if math.isnan(x) or math.isinf(x):
            return str(x)
        return f"{x:.4g}"
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return _fmt(value.item())
        if value.size <= 6:
            return "[" + ", ".join(_fmt(v) for v in value.ravel()) + "]"
        return f"an array of shape {value.shape}"
    if isinstance(value, str):
        return _quote(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _quote(text: str) -> str:
    """``"text"`` in double quotes (what a student reads, and otter keeps)."""
    return '"' + str(text).replace('"', '\\"') + '"'


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _type_name(value: Any) -> str:
    """``value``'s type with its article: "a list", "an int"."""
    if isinstance(value, np.ndarray):
        return "a NumPy array"
    name = type(value).__name__
    return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"


def _message(base: str, hint: str | None) -> str:
    return f"{base} — {hint}" if hint else base


# --------------------------------------------------------------------------
# Answered at all?

def expect_answered(value: Any, what: str) -> None:
    """Fail with :class:`NotAnswered` while ``value`` is the placeholder ``...``
    or ``None`` (a variable the student has not defined reaches a test as
    ``None``)."""
    if value is Ellipsis:
        raise NotAnswered(f"{what} is still `...`: replace the `...` with your answer and run the cell")
    if value is None:
        raise NotAnswered(f"{what} is not defined (or is None): run the cell where you set it")


def expect_number(value: Any, what: str) -> float:
    """``value`` as a float, if it is one real number (a Python or NumPy number,
    or an array holding exactly one); otherwise fail saying what it is instead.
    NaN and infinity fail too."""
    expect_answered(value, what)
    if isinstance(value, (bool, np.bool_)):
        fail(f"{what} is {value}, a yes/no value; it should be a number")
    if isinstance(value, str):
        fail(f"{what} is the text {_quote(value)}; write the number itself, without quotes")
    if not isinstance(value, numbers.Real):
        try:
            array = np.asarray(value)
        except Exception:
            array = None
        if array is None or array.dtype == object or not np.issubdtype(array.dtype, np.number) \
                or np.issubdtype(array.dtype, np.complexfloating):
            fail(f"{what} is {_type_name(value)}; it should be a number")
        if array.size != 1:
            fail(f"{what} should be one number; it is {_fmt(array) if array.size <= 6 else f'{_type_name(value)} of shape {array.shape}'}")
        value = array.reshape(()).item()
    x = float(value)
    if math.isnan(x):
        fail(f"{what} is NaN (not a number): check for 0/0 or a log of a negative number")
    if math.isinf(x):
        fail(f"{what} is infinite: check for a division by zero or an overflow")
    return x


def _close(a: float, b: float, rel: float, abs_: float) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def _known_mistake(value: Any, mistakes: Any, same: Callable[[Any, Any], bool]) -> str | None:
    """The message for a known wrong answer: ``mistakes`` maps wrong values to
    messages (compared with ``same``), or is a function of the answer that
    returns a message or None."""
    if mistakes is None:
        return None
    if callable(mistakes):
        try:
            return mistakes(value)
        except Exception:
            return None
    for wrong, why in mistakes.items():
        try:
            if same(value, wrong):
                return why
        except Exception:
            pass
    return None


def expect_close(value: Any, expected: float, what: str, hint: str | None = None, *,
                 rel: float = 1e-3, abs: float = 0.0, explain: str | None = None,
                 mistakes: Mapping[float, str] | Callable[[float], str | None] | None = None) -> None:
    """``value`` must be a number within ``rel`` (relative) or ``abs`` of ``expected``.

    Args:
        value: the student's answer.
        expected: the right value.
        what: how to name the answer in the message (usually the variable's name).
        hint: what to check; added to the message after a dash.
        rel, abs: the tolerances (as in ``math.isclose``).
        explain: says what the right value is and why (replaces
            "expected <value>"), e.g. ``"He normal with fan_in = 300 gives 2/300 ≈ 0.0067"``.
        mistakes: known wrong values and what each means, e.g.
            ``{2.5: "that is 0.25 × 10: the factors multiply"}``; an answer
            close to one of them gets that message instead of ``hint``. Or a
            function of the (wrong) answer that returns such a message, or None.

    Raises:
        Incorrect: with a message such as
            ``"σ² = 0.0033; He normal with fan_in = 300 gives 2/300 ≈ 0.0067 — check the mode"``.
    """
    x = expect_number(value, what)
    if _close(x, float(expected), rel, abs):
        return
    hint = _known_mistake(x, mistakes, lambda a, b: _close(a, float(b), rel, abs)) or hint
    fail(_message(f"{what} = {_fmt(x)}; {explain or f'expected {_fmt(expected)}'}", hint))


def expect_integer(value: Any, expected: int, what: str, hint: str | None = None, *,
                   explain: str | None = None,
                   mistakes: Mapping[int, str] | Callable[[int], str | None] | None = None) -> None:
    """``value`` must be the whole number ``expected`` (``10``, ``10.0`` and
    ``np.int64(10)`` all count); ``mistakes`` as in :func:`expect_close`."""
    x = expect_number(value, what)
    if x != round(x):
        fail(_message(f"{what} = {_fmt(x)}; it should be a whole number", hint))
    if round(x) == expected:
        return
    hint = _known_mistake(round(x), mistakes, lambda a, b: a == b) or hint
    fail(_message(f"{what} = {round(x)}; {explain or f'expected {expected}'}", hint))


def expect_equal(value: Any, expected: Any, what: str, hint: str | None = None, *,
                 explain: str | None = None,
                 mistakes: Mapping[Any, str] | Callable[[Any], str | None] | None = None) -> None:
    """``value == expected`` (strings compare without surrounding spaces and
    case); ``mistakes`` as in :func:`expect_close`."""
    expect_answered(value, what)

    def norm(v):
        return v.strip().lower() if isinstance(v, str) else v

    try:
        equal = bool(norm(value) == norm(expected))
    except Exception:
        equal = False
    if equal:
        return
    hint = _known_mistake(value, mistakes, lambda a, b: bool(norm(a) == norm(b))) or hint
    fail(_message(f"{what} is {_fmt(value)}; {explain or f'expected {_fmt(expected)}'}", hint))


# --------------------------------------------------------------------------
# Arrays.

def _as_float_array(value: Any, what: str) -> np.ndarray:
    expect_answered(value, what)
    if isinstance(value, str):
        fail(f"{what} is the text {_quote(value)}; it should be numbers")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        fail(f"{what} is {_type_name(value)} that cannot be read as numbers"
             + (f" (its first item is {_type_name(value[0])})" if isinstance(value, (list, tuple)) and value else ""))
    return array


def _index_text(index: tuple) -> str:
    return "" if not index else "[" + ", ".join(map(str, index)) + "]"


def expect_array_close(value: Any, expected: Any, what: str, hint: str | None = None, *,
                       rel: float = 1e-5, abs: float = 1e-8, explain: str | None = None,
                       mistakes: Sequence[tuple[Any, str]] = ()) -> None:
    """``value`` must be numbers (a list, tuple or array) of ``expected``'s
    shape, each within ``rel`` / ``abs`` of it; the message names the first
    element that differs. ``mistakes``: ``(wrong_array, message)`` pairs; an
    answer close to one of them gets that message as the hint."""
    got = _as_float_array(value, what)
    want = np.asarray(expected, dtype=float)
    if got.shape != want.shape:
        if got.size == want.size and got.size > 1:
            shape_hint = f"the right numbers in the wrong shape? use .reshape{want.shape}" if want.ndim else ""
        else:
            shape_hint = ""
        n = f"{want.size} number{'s' if want.size != 1 else ''}"
        fail(_message(f"{what} has shape {got.shape}; expected {n} in shape {want.shape}",
                      hint or shape_hint or None))
    bad = ~np.isclose(got, want, rtol=rel, atol=abs, equal_nan=False)
    if not bad.any():
        return
    for wrong, why in mistakes:
        wrong = np.asarray(wrong, dtype=float)
        if wrong.shape == got.shape and np.allclose(got, wrong, rtol=rel, atol=abs):
            hint = why
            break
    i = tuple(int(k) for k in np.argwhere(bad)[0])
    place = f"{what}{_index_text(i)}"
    fail(_message(f"{place} = {_fmt(got[i])}; {explain or f'expected {_fmt(want[i])}'}"
                  + (f" ({int(bad.sum())} of {bad.size} values differ)" if bad.size > 1 else ""), hint))


# --------------------------------------------------------------------------
# A student's function.

class Args:
    """The arguments of one call in :func:`expect_function_matches`, when the
    function takes more than one: ``Args(z, alpha=0.2)``."""

    def __init__(self, *args: Any, **kwargs: Any):
        self.args, self.kwargs = args, kwargs

    def copy(self) -> "Args":
        return Args(*(_copy(a) for a in self.args), **{k: _copy(v) for k, v in self.kwargs.items()})

    def __repr__(self) -> str:
        parts = [_fmt_input(a) for a in self.args] + [f"{k}={_fmt_input(v)}" for k, v in self.kwargs.items()]
        return ", ".join(parts)


def _split(args: Any) -> tuple[tuple, dict]:
    """The positional and keyword arguments of one input."""
    return (args.args, args.kwargs) if isinstance(args, Args) else ((args,), {})


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def _fmt_input(value: Any) -> str:
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return f"{value:.1f}"
    if isinstance(value, np.ndarray) and value.ndim > 0:
        if value.size <= 4 and value.ndim == 1:
            return "np.array([" + ", ".join(_fmt_input(float(v)) for v in value) + "])"
        return f"<array of shape {value.shape}>"
    return _fmt(value)


class _TimeUp(BaseException):
    """Raised inside a student's function that ran past its time limit (a
    BaseException, so that the student's own ``except Exception`` does not swallow it)."""


@contextlib.contextmanager
def _time_limit(seconds: float | None):
    """Interrupt the block after ``seconds`` with :class:`_TimeUp` (only in the
    main thread of a POSIX process, where SIGALRM exists; elsewhere no limit)."""
    usable = (seconds is not None and hasattr(signal, "SIGALRM") and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise _TimeUp()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    try:
        return bool(np.array_equal(a, b, equal_nan=True))
    except TypeError:  # not numbers
        return bool(np.array_equal(a, b))


def _call(fn: Callable, args: Any, what: str, time_limit: float | None) -> Any:
    """Call the student's ``fn``; turn what can go wrong into :class:`Incorrect`."""
    call = args.copy() if isinstance(args, Args) else Args(_copy(args))
    shown = f"{what}({call!r})"
    try:
        with _time_limit(time_limit):
            result = fn(*call.args, **call.kwargs)
    except _TimeUp:
        fail(f"{shown} did not return within {time_limit:g} s: is there a loop that never ends?")
    except Incorrect:
        raise
    except RecursionError:
        fail(f"{shown} raised RecursionError: your function calls itself without end")
    except Exception as exc:  # anything the student's code raises
        fail(f"{shown} raised {type(exc).__name__}: {exc}")
    positional, keywords = _split(args)
    given = positional + tuple(keywords.values())
    for before, after in zip(given, call.args + tuple(call.kwargs.values())):
        if isinstance(before, np.ndarray) and not _same_array(before, after):
            fail(f"{shown} changed its input array in place; compute a new array instead "
                 "(e.g. `z * 2`, not `z *= 2`)")
    return result, shown


def expect_function_matches(fn: Any, reference: Callable, inputs: Iterable, what: str,
                            hint: str | None = None, *, rel: float = 1e-6, abs: float = 1e-9,
                            time_limit: float | None = 5.0,
                            mistakes: Sequence[tuple[Callable, str]] = ()) -> None:
    """The student's function ``fn`` must give what ``reference`` gives on
    every input (numbers or arrays; same shape, within ``rel`` / ``abs``).

    Each input is passed as the one argument (an :class:`Args` for several).
    The function gets a copy, and must not change it. A call that raises,
    returns ``None`` / ``...`` or the wrong type or shape, or runs longer than
    ``time_limit`` seconds fails the check with a message naming the call.

    Args:
        fn: the student's function.
        reference: a correct implementation.
        inputs: what to call them on.
        what: the function's name, for the messages.
        hint: what to check; added to the message.
        rel, abs: tolerances.
        time_limit: seconds per call (``None``: no limit).
        mistakes: ``(wrong_function, message)`` pairs: if ``fn`` agrees with a
            known wrong implementation on the failing input, that message is
            the hint.
    """
    expect_answered(fn, what)
    if not callable(fn):
        fail(f"{what} should be a function (def {what}(...): ...); it is {_type_name(fn)}")
    for args in inputs:
        result, shown = _call(fn, args, what, time_limit)
        if result is None or result is Ellipsis:
            raise NotAnswered(f"{shown} returned {_fmt(result) if result is None else '...'}: "
                              f"write the body of {what} and `return` the result")
        if isinstance(result, (str, bytes)):
            fail(f"{shown} returned the text {_quote(result)}; it should return a number or an array")
        positional, keywords = _split(args)
        want = np.asarray(reference(*positional, **keywords), dtype=float)
        try:
            got = np.asarray(result, dtype=float)
        except (TypeError, ValueError):
            fail(f"{shown} returned {_type_name(result)}; it should return "
                 + ("a number" if want.ndim == 0 else f"an array of shape {want.shape}"))
        if got.shape != want.shape:
            if want.ndim == 0:
                fail(f"{shown} returned {_fmt(got)} (shape {got.shape}); it should return one number")
            fail(f"{shown} returned shape {got.shape}; expected {want.shape} — work elementwise, "
                 "so the result has the input's shape")
        bad = ~np.isclose(got, want, rtol=rel, atol=abs)
        if not bad.any():
            continue
        i = tuple(int(k) for k in np.argwhere(bad)[0])
        this_hint = hint
        for wrong, why in mistakes:
            try:
                w = np.asarray(wrong(*positional, **keywords), dtype=float)
                if w.shape == got.shape and np.allclose(got, w, rtol=rel, atol=abs, equal_nan=True):
                    this_hint = why
                    break
            except Exception:
                pass
        if want.ndim == 0:
            fail(_message(f"{shown} = {_fmt(got)}; expected {_fmt(want)}", this_hint))
        try:  # the input at that position, when the first argument is an array of the result's shape
            x = np.asarray(positional[0]) if positional else np.asarray(None)
        except ValueError:  # e.g. a list of arrays of different shapes
            x = np.asarray(None)
        at = f" (input {_fmt(x[i])})" if x.shape == want.shape else ""
        fail(_message(f"{shown}{_index_text(i)} = {_fmt(got[i])}{at}; expected {_fmt(want[i])}"
                      f" ({int(bad.sum())} of {bad.size} values differ)", this_hint))


# --------------------------------------------------------------------------
# Keras architectures.
#
# A model is read as a sequence of steps in a canonical form, so that
# equivalent ways to write it compare equal:
#   ("flatten",)                      Flatten, or Reshape to one dimension
#   ("dense", units, init, use_bias)  Dense (its activation is a separate step)
#   ("activation", name)              a Dense's activation, Activation(...), ReLU(), ...
#   ("batch_norm",) / ("dropout", rate)
# Nested models (a Sequential used as a layer) are expanded in place.

_ANY = object()


def _initializer_key(initializer: Any) -> tuple:
    """Initializers that draw the same distribution get the same key:
    "glorot_normal" == GlorotNormal() == VarianceScaling(1, "fan_avg", "truncated_normal")."""
    import keras

    init = keras.initializers.get(initializer)
    if isinstance(init, keras.initializers.VarianceScaling):
        distribution = {"normal": "truncated_normal"}.get(init.distribution, init.distribution)
        return ("variance_scaling", float(init.scale), init.mode, distribution)
    config = {k: v for k, v in init.get_config().items() if k != "seed"}
    return (type(init).__name__,) + tuple(sorted((k, float(v) if isinstance(v, (int, float)) else v)
                                                 for k, v in config.items()))


_VS_NAMES = {
    (1.0, "fan_avg", "truncated_normal"): "glorot_normal",
    (1.0, "fan_avg", "uniform"): "glorot_uniform",
    (2.0, "fan_in", "truncated_normal"): "he_normal",
    (2.0, "fan_in", "uniform"): "he_uniform",
    (1.0, "fan_in", "truncated_normal"): "lecun_normal",
    (1.0, "fan_in", "uniform"): "lecun_uniform",
}


def expect_variance_scaling(value: Any, what: str, how: str) -> Any:
    """``value`` must be a Keras initializer of the variance-scaling family (a
    name such as ``"he_uniform"``, an object such as ``HeUniform()``, or a
    ``VarianceScaling(...)``); returns it as a ``keras.initializers.VarianceScaling``,
    whose ``scale``, ``mode`` and ``distribution`` the caller then checks.

    Args:
        value: the student's answer.
        what: its name, for the messages.
        how: what to write instead, when ``value`` is no initializer at all.

    Raises:
        Incorrect: ``value`` is no Keras initializer, or one whose variance
            does not follow the layer's fans (``RandomNormal``, ``Zeros``, ...).
    """
    import keras

    expect_answered(value, what)
    try:
        init = keras.initializers.get(value)
    except Exception:
        init = None
    if not isinstance(init, keras.initializers.Initializer):
        kind = f"the text {_quote(value)}" if isinstance(value, str) else _type_name(value)
        fail(f"{what} is {kind}, not a Keras initializer: {how}")
    if not isinstance(init, keras.initializers.VarianceScaling):
        fail(f"{what} is {_type_name(init)}: its range does not follow the layer's fans, as Glorot's, He's "
             "and LeCun's do (σ² = scale / fan); use a VarianceScaling initializer")
    return init


def _initializer_text(key: tuple) -> str:
    if key[0] == "variance_scaling":
        name = _VS_NAMES.get(key[1:])
        scale, mode, distribution = key[1:]
        spelled = f"VarianceScaling(scale={scale:g}, mode={_quote(mode)}, distribution={_quote(distribution)})"
        if name == "glorot_uniform":
            return "glorot_uniform (Keras's default)"
        return name or spelled
    params = ", ".join(f"{k}={_fmt(v)}" for k, v in key[1:])
    return f"{key[0]}({params})"


def _activation_name(fn: Any) -> str:
    import keras

    try:
        name = keras.activations.serialize(fn)
    except Exception:
        name = getattr(fn, "__name__", repr(fn))
    if isinstance(name, dict):  # a serialized object
        name = name.get("config", {}).get("name", name.get("class_name", "?"))
    return str(name)


def _layer_steps(layer: Any) -> list[tuple]:
    import keras

    L = keras.layers
    if isinstance(layer, keras.Model):  # a nested model: its steps in order
        return [s for sub in layer.layers for s in _layer_steps(sub)]
    if isinstance(layer, L.InputLayer):
        return []
    if isinstance(layer, L.Flatten):
        return [("flatten",)]
    if isinstance(layer, L.Reshape) and len(tuple(layer.target_shape)) == 1:
        return [("flatten",)]
    if isinstance(layer, L.Dense):
        steps = [("dense", int(layer.units), _initializer_key(layer.kernel_initializer), bool(layer.use_bias))]
        name = _activation_name(layer.activation)
        return steps + ([] if name == "linear" else [("activation", name)])
    if isinstance(layer, L.Activation):
        name = _activation_name(layer.activation)
        return [] if name == "linear" else [("activation", name)]
    if isinstance(layer, L.LeakyReLU):
        return [("activation", "leaky_relu", float(layer.negative_slope))]
    if isinstance(layer, L.ReLU):
        plain = (layer.max_value is None and float(layer.negative_slope) == 0.0
                 and float(layer.threshold) == 0.0)
        return [("activation", "relu")] if plain else [("activation", "relu", layer.get_config())]
    if isinstance(layer, L.Softmax):
        return [("activation", "softmax")]
    if isinstance(layer, L.ELU):
        return [("activation", "elu", float(layer.alpha))]
    if isinstance(layer, L.PReLU):
        return [("activation", "prelu")]
    if isinstance(layer, L.BatchNormalization):
        return [("batch_norm",)]
    if isinstance(layer, L.Dropout):
        return [("dropout", float(layer.rate))]
    return [(type(layer).__name__,)]


def _describe_step(step: tuple) -> str:
    kind = step[0]
    if kind == "flatten":
        return "Flatten"
    if kind == "dense":
        extra = "" if step[3] else ", use_bias=False"
        return f"Dense({step[1]}{extra}, kernel_initializer={_initializer_text(step[2])})"
    if kind == "activation":
        return f"activation {_quote(step[1])}" + (f" ({step[2]})" if len(step) > 2 else "")
    if kind == "batch_norm":
        return "BatchNormalization"
    if kind == "dropout":
        return f"Dropout({step[1]:g})"
    return kind


def describe_model(model: Any) -> list[str]:
    """The model's steps in the canonical form, in words (for messages and for the curious)."""
    return [_describe_step(s) for s in _layer_steps(model)]


def dense(units: int, activation: str | None = None, kernel_initializer: Any = _ANY,
          use_bias: bool | None = None) -> list[tuple]:
    """The spec of a Dense layer for :func:`expect_model`: ``units`` units, then
    its activation (``None``: linear). ``kernel_initializer`` (a name or an
    initializer) and ``use_bias`` are only checked when given."""
    init = _ANY if kernel_initializer is _ANY else _initializer_key(kernel_initializer)
    steps = [("dense", units, init, _ANY if use_bias is None else bool(use_bias))]
    if activation not in (None, "linear"):
        steps.append(("activation", activation))
    return steps


def activation(name: str) -> list[tuple]:
    """The spec of an activation step (an ``Activation`` layer or a layer's
    ``activation=``)."""
    return [("activation", name)]


def flatten() -> list[tuple]:
    """The spec of a Flatten (or a Reshape to one dimension)."""
    return [("flatten",)]


def batch_norm() -> list[tuple]:
    """The spec of a BatchNormalization layer."""
    return [("batch_norm",)]


def dropout(rate: float | None = None) -> list[tuple]:
    """The spec of a Dropout layer (its rate checked when given)."""
    return [("dropout", _ANY if rate is None else float(rate))]


def _matches(got: tuple, want: tuple) -> bool:
    if got[0] != want[0] or len(got) < len(want):
        return False
    return all(w is _ANY or g == w for g, w in zip(got[1:], want[1:]))


def _dense_count(steps: list[tuple], end: int) -> int:
    """How many Dense layers are among ``steps[:end]``."""
    return sum(1 for s in steps[:end] if s[0] == "dense")


def _nth_dense(k: int) -> str:
    return f"the {_ordinal(k)} Dense layer" if k else "the input"


def expect_model(model: Any, spec: Sequence, what: str, hint: str | None = None, *,
                 input_shape: tuple | None = None) -> None:
    """``model`` must be a Keras model equivalent to ``spec``.

    Args:
        model: the student's model.
        spec: the layers, in order, built with :func:`flatten`, :func:`dense`,
            :func:`activation`, :func:`batch_norm`, :func:`dropout` (each gives a
            list of steps; nested lists are flattened), e.g.
            ``[flatten(), *[dense(100, "tanh", "glorot_normal")] * 10, dense(10, "softmax")]``.
        what: the model's name, for the messages.
        hint: what to check; added to the message.
        input_shape: the shape of one input (without the batch axis), checked when given.

    Raises:
        Incorrect: naming the first layer that differs, in words (e.g. "the 4th
            Dense layer has activation 'sigmoid'; expected 'tanh'").
    """
    import keras

    expect_answered(model, what)
    if not isinstance(model, keras.Model):
        fail(f"{what} is {_type_name(model)}; it should be a Keras model (keras.Sequential([...]))")
    if input_shape is not None:
        try:
            got_shape = tuple(model.inputs[0].shape[1:])
        except Exception:
            fail(_message(f"{what} has no input shape yet: start it with keras.Input(shape={tuple(input_shape)})", hint))
        if got_shape != tuple(input_shape):
            fail(_message(f"{what} takes inputs of shape {got_shape}; expected {tuple(input_shape)}", hint))
    got = _layer_steps(model)
    want = [s for item in spec for s in (item if isinstance(item, list) else [item])]
    n_got = sum(s[0] == "dense" for s in got)
    n_want = sum(s[0] == "dense" for s in want)
    if n_got != n_want:
        detail = f" ({n_want - 1} hidden + the output layer)" if n_want > 1 else ""
        fail(_message(f"{what} has {n_got} Dense layer{'s' if n_got != 1 else ''}; "
                      f"expected {n_want}{detail}", hint))
    for i, w in enumerate(want):
        before = _nth_dense(_dense_count(got, i))  # the Dense layer this step follows
        if i >= len(got):
            if w[0] == "activation":
                fail(_message(f"{before} of {what} has no activation (it is linear); expected {_quote(w[1])}", hint))
            fail(_message(f"{what} ends too early: expected {_describe_step(w)} after {before}", hint))
        g = got[i]
        if _matches(g, w):
            continue
        if g[0] == w[0] == "dense":
            this = _nth_dense(_dense_count(got, i + 1))
            if g[1] != w[1]:
                fail(_message(f"{this} of {what} has {g[1]} units; expected {w[1]}", hint))
            if w[2] is not _ANY and g[2] != w[2]:
                fail(_message(f"{this} of {what} uses kernel_initializer {_initializer_text(g[2])}; "
                              f"expected {_initializer_text(w[2])}", hint))
            fail(_message(f"{this} of {what} has use_bias={g[3]}; expected use_bias={w[3]}", hint))
        if g[0] == w[0] == "activation":
            fail(_message(f"the activation after {before} of {what} is {_quote(g[1])}; expected {_quote(w[1])}", hint))
        if w[0] == "activation":
            fail(_message(f"{before} of {what} has no activation (it is linear); expected {_quote(w[1])}", hint))
        if g[0] == "activation":
            fail(_message(f"{what} has an activation {_quote(g[1])} after {before} that should not be there "
                          f"(expected {_describe_step(w)})", hint))
        fail(_message(f"{what}: expected {_describe_step(w)} after {before}, found {_describe_step(g)}", hint))
    if len(got) > len(want):
        fail(_message(f"{what} has more after its last expected layer: {_describe_step(got[len(want)])}", hint))
