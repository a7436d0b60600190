"""Right and wrong answers to solutions/05_gradient_clipping.ipynb (the format: solutions/README.md,
"Right and wrong answers"); tests/test_exercises.py grades them.
"""

RIGHT = {
    "q1": [
        # by hand, the angle as a difference of the two vectors' angles (as in the lecture)
        """
by_value = np.minimum(np.maximum(gradient, -1), 1)
by_norm = gradient / np.sqrt(np.sum(gradient ** 2))
turn_degrees = (np.degrees(np.arctan2(gradient[1], gradient[0]))
                - np.degrees(np.arctan2(by_value[1], by_value[0])))
""",
        # Keras's own clipping (float32), a list, a one-element array, 5 decimals kept
        """
from lecture_utils.explorers import clip_with_optimizer

by_value = [float(x) for x in clip_with_optimizer([gradient], clipvalue=1.0)[0]]
by_norm = np.round(clip_with_optimizer([gradient], clipnorm=1.0)[0], 5)
cos = np.dot(gradient, by_value) / np.linalg.norm(gradient) / np.linalg.norm(by_value)
turn_degrees = np.array([np.arccos(cos) * 180 / np.pi], dtype=np.float32)
""",
    ],
    "q2": [
        """
def clip_by_value(g, threshold):
    return np.where(g > threshold, threshold, np.where(g < -threshold, -threshold, g))

def clip_by_norm(g, max_norm):
    norm = np.linalg.norm(g)
    return g * min(1.0, max_norm / norm) if norm > 0 else g.copy()
""",
        # Keras's own clipping (float32 results)
        """
from lecture_utils.explorers import clip_with_optimizer

def clip_by_value(g, threshold):
    return clip_with_optimizer([g], clipvalue=threshold)[0]

def clip_by_norm(g, max_norm):
    return clip_with_optimizer([g], clipnorm=max_norm)[0]
""",
        # on a copy, in place; a norm through the flattened array
        """
def clip_by_value(g, threshold):
    out = np.array(g, dtype=float)
    out[out > threshold] = threshold
    out[out < -threshold] = -threshold
    return out

def clip_by_norm(g, max_norm):
    norm = np.linalg.norm(np.ravel(g))
    out = np.array(g, dtype=float)
    if norm > max_norm:
        out *= max_norm / norm
    return out
""",
    ],
    "q3": [
        """
def clip_by_global_norm(grads, max_norm):
    norm = np.linalg.norm(np.concatenate([np.ravel(g) for g in grads]))
    if norm <= max_norm:
        return list(grads)
    return [g * (max_norm / norm) for g in grads]
""",
        # Keras's own global_clipnorm (float32 results)
        """
from lecture_utils.explorers import clip_with_optimizer

def clip_by_global_norm(grads, max_norm):
    return clip_with_optimizer(grads, global_clipnorm=max_norm)
""",
        # a tuple; the squared norm compared with max_norm ** 2
        """
def clip_by_global_norm(grads, max_norm):
    squares = sum(float(np.vdot(g, g)) for g in grads)
    scale = 1.0 if squares <= max_norm ** 2 else max_norm / squares ** 0.5
    return tuple(np.multiply(g, scale) for g in grads)
""",
    ],
    "q4": [
        """
clipped_sgd = keras.optimizers.SGD(0.1, clipnorm=1)
w = keras.Variable([0.0, 0.0])
clipped_sgd.apply([keras.ops.convert_to_tensor(gradient, dtype="float32")], [w])
w_after = np.array(keras.ops.convert_to_numpy(w.value)).tolist()
""",
        """
clipped_sgd = keras.optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.1, "clipnorm": 1.0}})
w = keras.Variable(keras.ops.zeros((2,)))
clipped_sgd.apply_gradients([(gradient, w)])
w_after = keras.ops.convert_to_numpy(w)
""",
    ],
    "q5": [
        """
rnn_norm = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads))
clipped = [np.clip(g, -1, 1) for g in grads]
dot = sum(np.sum(g * c) for g, c in zip(grads, clipped))
rnn_turn_degrees = float(np.degrees(np.arccos(dot / (rnn_norm * np.sqrt(sum(np.sum(c ** 2) for c in clipped))))))
""",
        # Keras's own clipvalue on the five arrays
        """
from lecture_utils.explorers import clip_with_optimizer

a = np.concatenate([g.ravel() for g in grads])
b = np.concatenate([c.ravel() for c in clip_with_optimizer(grads, clipvalue=1.0)])
rnn_norm = np.linalg.norm(a)
rnn_turn_degrees = np.degrees(np.arccos(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
""",
    ],
}

WRONG = {
    "q1": [
        ("by_value = np.array([1.0, 1.0])", "0.9 is already inside [−1, 1]"),
        ("by_value = by_norm", "that is clipping by norm"),
        ("by_value = gradient", "that is the gradient itself"),
        ("by_value = '[0.9, 1.0]'", "it should be numbers"),
        ("by_norm = gradient / np.sum(gradient ** 2)", "divided by the squared norm"),
        ("by_norm = gradient / np.sum(np.abs(gradient))", "the norm is √(g₁² + g₂²)"),
        ("by_norm = np.round(by_norm, 2)", "do not round"),
        ("by_norm = np.clip(gradient, -1.0, 1.0)", "that is clipping by value"),
        ("by_norm = by_norm[:1]", "has shape (1,); expected 2 numbers"),
        ("turn_degrees = np.arccos(cosine)", "the angle in radians"),                     # hidden test
        ("turn_degrees = cosine", "the cosine of the angle"),
        ("turn_degrees = np.degrees(np.arctan2(by_value[1], by_value[0]))", "by_value's angle from the first axis"),
        ("turn_degrees = np.degrees(np.arctan2(gradient[1], gradient[0]))", "gradient's angle from the first axis"),
        ("turn_degrees = 0.0", "clipping by norm turns the gradient"),
        ("turn_degrees = -turn_degrees", "between 0° and 180°"),
        ("turn_degrees = 'about 41 degrees'", "without quotes"),
    ],
    "q2": [
        ("def clip_by_value(g, threshold):\n    return np.minimum(g, threshold)", "only the upper side"),
        ("def clip_by_value(g, threshold):\n    return np.clip(g, 0, threshold)", "negative components stay negative"),
        ("def clip_by_value(g, threshold):\n    return np.where(np.abs(g) > threshold, 0.0, g)", "not 0"),
        ("def clip_by_value(g, threshold):\n    return clip_by_norm(g, threshold)", "(clipping by norm)"),
        ("def clip_by_value(g, threshold):\n    g[g > threshold] = threshold\n    g[g < -threshold] = -threshold\n"
         "    return g", "changed its input array in place"),
        ("def clip_by_value(g, threshold):\n    return np.clip(np.ravel(g), -threshold, threshold)",
         "returned shape (12,); expected (4, 3)"),                                       # hidden test
        ("def clip_by_value(g, threshold):\n    return [max(-threshold, min(threshold, x)) for x in g]",
         "raised ValueError"),                                                            # hidden: a matrix
        ("clip_by_value = 1.0", "should be a function"),
        ("def clip_by_norm(g, max_norm):\n    return g * max_norm / np.linalg.norm(g)",
         "a smaller gradient is returned unchanged"),
        ("def clip_by_norm(g, max_norm):\n    norm = np.linalg.norm(g)\n    return g / norm if norm > max_norm else g",
         "multiply by max_norm / ‖g‖"),
        ("def clip_by_norm(g, max_norm):\n    return np.clip(g, -max_norm, max_norm)", "(clipping by value)"),
        ("def clip_by_norm(g, max_norm):\n    norm = np.sum(g ** 2)\n    return g * max_norm / norm if norm > max_norm else g",
         "divided by the squared norm"),
        ("def clip_by_norm(g, max_norm):\n    norm = np.linalg.norm(g, 2)\n"
         "    return g * max_norm / norm if norm > max_norm else g", "leave out the 2"),      # hidden test
        ("def clip_by_norm(g, max_norm):\n    norm = np.linalg.norm(g, axis=-1, keepdims=True)\n"
         "    return g * np.minimum(1.0, max_norm / norm)", "each row by its own norm"),     # hidden test
        ("def clip_by_norm(g, max_norm):\n    norm = float(np.linalg.norm(g))\n    return g * min(1.0, max_norm / norm)",
         "raised ZeroDivisionError"),                                                     # hidden: zeros
        ("def clip_by_norm(g, max_norm):\n    g = g * min(1.0, max_norm / np.linalg.norm(g))", "returned None"),
        ("def clip_by_norm(g, max_norm):\n    raise NotImplementedError('todo')", "raised NotImplementedError: todo"),
        ("def clip_by_norm(g, max_norm):\n    return np.linalg.norm(g)", "returned shape ()"),
        ("def clip_by_norm(g, max_norm):\n    norm = np.linalg.norm(g)\n    if norm > max_norm:\n"
         "        g *= max_norm / norm\n    return g", "changed its input array in place"),
        ("clip_by_norm = 'np.clip'", "should be a function"),
    ],
    "q3": [
        ("def clip_by_global_norm(grads, max_norm):\n    return [clip_by_norm(g, max_norm) for g in grads]",
         "that is clipnorm"),
        ("def clip_by_global_norm(grads, max_norm):\n    norm = sum(np.linalg.norm(g) for g in grads)\n"
         "    return [g * min(1.0, max_norm / norm) for g in grads]", "you added the arrays' norms"),
        ("def clip_by_global_norm(grads, max_norm):\n    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))\n"
         "    return [g * max_norm / norm for g in grads]", "only a global norm above max_norm is clipped"),
        ("def clip_by_global_norm(grads, max_norm):\n    flat = np.concatenate([g.ravel() for g in grads])\n"
         "    return clip_by_norm(flat, max_norm)", "returned one NumPy array; it should return a list of 2 arrays"),
        ("def clip_by_global_norm(grads, max_norm):\n    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))\n"
         "    return [np.ravel(g) * min(1.0, max_norm / norm) for g in grads]",
         "item 0 of its list has shape (1792,); expected (28, 64)"),                      # hidden test
        ("def clip_by_global_norm(grads, max_norm):\n    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))\n"
         "    for g in grads:\n        g *= min(1.0, max_norm / norm)\n    return grads", "changed the arrays in grads"),
        ("def clip_by_global_norm(grads, max_norm):\n    pass", "returned None"),
        ("def clip_by_global_norm(grads, max_norm):\n    norm = np.linalg.norm(grads)\n"
         "    return [g * min(1.0, max_norm / norm) for g in grads]", "raised ValueError"),
        ("def clip_by_global_norm(grads, max_norm):\n    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))\n"
         "    return [g * min(1.0, max_norm / norm) for g in grads]", "raised ZeroDivisionError"),  # hidden: zeros
        ("clip_by_global_norm = [0.6, 0.8]", "should be a function"),
    ],
    "q4": [
        ("clipped_sgd = keras.optimizers.SGD(learning_rate=0.1, clipvalue=1.0)", "clipped_sgd sets clipvalue"),
        ("clipped_sgd = keras.optimizers.SGD(learning_rate=0.1, global_clipnorm=1.0)", "sets global_clipnorm"),
        ("clipped_sgd = keras.optimizers.SGD(learning_rate=0.1)", "clipped_sgd does not clip"),
        ("clipped_sgd = keras.optimizers.SGD(clipnorm=1.0)", "the learning_rate of clipped_sgd = 0.01"),
        ("clipped_sgd = keras.optimizers.SGD(learning_rate=0.1, clipnorm=10.0)", "the clipnorm of clipped_sgd = 10"),
        ("clipped_sgd = keras.optimizers.Adam(learning_rate=0.1, clipnorm=1.0)", "the question asks for SGD"),
        ("clipped_sgd = 'sgd'", "it should be an optimizer"),
        # the whole cell with clipvalue: the optimizer and its step are wrong
        ("clipped_sgd = keras.optimizers.SGD(learning_rate=0.1, clipvalue=1.0)\n"
         "w = keras.Variable(np.zeros(2), dtype='float32')\nclipped_sgd.apply([gradient], [w])\n"
         "w_after = keras.ops.convert_to_numpy(w)", "the step of clipvalue=1.0"),
        ("w_after = -w_after", "SGD steps against the gradient"),
        ("w_after = np.zeros(2)", "w has not moved"),
        ("w_after = -0.1 * gradient", "that step is not clipped"),
        ("w_after = -by_norm", "a step with learning rate 1"),
        ("w_after = w_after[0]", "w_after has shape (); expected 2 numbers"),
    ],
    "q5": [
        ("rnn_norm = sum(np.linalg.norm(g) for g in grads)", "you added the arrays' norms"),
        ("rnn_norm = rnn_norm ** 2", "squared norm"),
        ("rnn_norm = max(np.linalg.norm(g) for g in grads)", "the norm of one array only"),
        ("rnn_norm = [np.linalg.norm(g) for g in grads]", "should be one number"),
        ("rnn_norm = 'large'", "without quotes"),
        ("rnn_turn_degrees = np.radians(rnn_turn_degrees)", "in radians"),                   # hidden test
        ("rnn_turn_degrees = rnn_cosine", "the cosine of the angle"),
        ("rnn_turn_degrees = 0", "clipping by norm turns it"),
        ("rnn_turn_degrees = 180 - rnn_turn_degrees", "between 0° and 90°"),
        ("rnn_turn_degrees = np.mean([np.degrees(np.arccos(np.clip(np.sum(g * np.clip(g, -1, 1))\n"
         "    / (np.linalg.norm(g) * np.linalg.norm(np.clip(g, -1, 1))), -1, 1))) for g in grads])",
         "all arrays in one vector"),
    ],
}
