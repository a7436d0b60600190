"""Answers to solutions/01_vanishing_gradients.ipynb that its tests must grade right.

For each question: answers that are RIGHT but written differently from the
solution (they must get every point, public and hidden tests), and WRONG
answers, each with a piece of the message the student must be shown (they
must lose points on that question, with that message, and every failing test
must fail with a checks.Incorrect message, never a bare error).

Each answer is Python run on top of the solution's variables (so the other
questions stay right). tests/test_exercises.py runs them.
"""

RIGHT = {
    "q1": [
        """
max_slope = 1 / 4
slope_at_4 = np.exp(-4) / (1 + np.exp(-4)) ** 2
layers_to_vanish = next(n for n in range(1, 100) if max_slope ** n < 1e-6)
""",
        """
max_slope = np.float32(0.25)                 # NumPy scalars and whole floats count
slope_at_4 = np.array([0.0176627])           # an array holding one number counts
layers_to_vanish = 10.0
""",
    ],
    "q2": [
        """
def sigmoid_derivative(z):
    return sigmoid(z) * sigmoid(-z)
""",
        """
def sigmoid_derivative(z):
    e = np.exp(-z)
    return e / (1 + e) ** 2
""",
    ],
    "q3": [
        """
from lecture_utils.grads import gradient_norms

norms = gradient_norms(model, X_batch, y_batch)
kernel_grad_norms = np.array(list(norms.values()))
smallest_layer = np.argmin(kernel_grad_norms) + 1          # a NumPy integer
first_to_last = kernel_grad_norms[0] / kernel_grad_norms[10]
""",
        """
loss, grads = compute_gradients(model, X_batch, y_batch)
kernel_grad_norms = tuple(np.sqrt((g.grad("kernel") ** 2).sum()) for g in grads)
smallest_layer = 1 + min(range(11), key=lambda i: kernel_grad_norms[i])
first_to_last = float(kernel_grad_norms[0] / kernel_grad_norms[-1])
""",
    ],
    "q4": [
        # the functional API, Reshape for Flatten, separate Activation layers,
        # the initializer spelled as VarianceScaling
        """
inputs = keras.Input(shape=(28, 28))
x = keras.layers.Reshape((784,))(inputs)
for _ in range(10):
    x = keras.layers.Dense(100, kernel_initializer=keras.initializers.VarianceScaling(
        scale=1.0, mode="fan_avg", distribution="truncated_normal"))(x)
    x = keras.layers.Activation("tanh")(x)
outputs = keras.layers.Softmax()(keras.layers.Dense(10)(x))
glorot_tanh = keras.Model(inputs, outputs)
from lecture_utils.grads import gradient_norms
norms = list(gradient_norms(glorot_tanh, X_batch, y_batch).values())
glorot_first_to_last = norms[0] / norms[-1]
""",
        # the lecture's helper with an initializer object (its output layer keeps
        # Keras's default initializer: only the hidden layers' is asked for)
        """
glorot_tanh = deep_sigmoid_net(keras.initializers.GlorotNormal(), activation="tanh")
layers = compute_gradients(glorot_tanh, X_batch, y_batch)[1]
glorot_first_to_last = np.linalg.norm(layers[0].grad()) / np.linalg.norm(layers[-1].grad())
""",
    ],
}

WRONG = {
    "q1": [
        ("max_slope = 0.5", "0.5 is σ(0), the sigmoid itself"),
        ("max_slope = '0.25'", "without quotes"),
        ("layers_to_vanish = 9", "after 9 layers, 0.25 ** 9 ≈ 3.8e-06 of the gradient is left: still above 1e-06"),
        ("layers_to_vanish = 11", "already after 10 layers only 0.25 ** 10 ≈ 9.5e-07 is left"),
        ("slope_at_4 = sigmoid(4)", "that is σ(4), not its slope"),   # caught by the hidden test
        ("slope_at_4 = 4 * (1 - 4)", "between 0 and 0.25"),
    ],
    "q2": [
        ("def sigmoid_derivative(z):\n    return z * (1 - z)", "apply the formula to s = sigmoid(z)"),
        ("def sigmoid_derivative(z):\n    return sigmoid(z)", "that is σ(z) itself"),
        ("def sigmoid_derivative(z):\n    ...", "returned None"),
        ("def sigmoid_derivative(z):\n    raise NotImplementedError('later')",
         "raised NotImplementedError: later"),
        ("def sigmoid_derivative(z):\n    return [sigmoid(z) * (1 - sigmoid(z))]", "it should return one number"),
        ("def sigmoid_derivative(z):\n    return float(np.mean(sigmoid(z) * (1 - sigmoid(z))))",
         "expected (13,)"),
        ("def sigmoid_derivative(z):\n    z = np.asarray(z, dtype=float)\n    s = sigmoid(z)\n"
         "    z[...] = s * (1 - s)\n    return z", "changed its input array in place"),
        ("sigmoid_derivative = 0.25", "should be a function"),
    ],
    "q3": [
        ("kernel_grad_norms = kernel_grad_norms[::-1]", "starts at the output layer"),
        ("kernel_grad_norms = [float(np.linalg.norm(g.grad('bias'))) for g in layers]", "bias gradients"),
        ("kernel_grad_norms = kernel_grad_norms[:-1]", "has shape (10,); expected 11 numbers"),
        ("smallest_layer = smallest_layer - 1", "counted from 1"),
        ("smallest_layer = int(np.argmax(kernel_grad_norms)) + 1", "largest gradient"),
        ("first_to_last = 1 / first_to_last", "divide first by last"),
    ],
    "q4": [
        ("glorot_tanh = deep_sigmoid_net('glorot_uniform', activation='tanh')", "glorot_uniform (Keras's default)"),
        ("glorot_tanh = deep_sigmoid_net('glorot_normal')", 'is "sigmoid"; expected "tanh"'),
        ("glorot_tanh = deep_sigmoid_net('glorot_normal', activation='tanh', n_hidden=9)",
         "has 10 Dense layers; expected 11"),
        ("glorot_tanh = deep_sigmoid_net('glorot_normal', activation='tanh', n_units=50)", "has 50 units; expected 100"),
        ("glorot_tanh = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten()]"
         " + [keras.layers.Dense(100, activation='tanh', kernel_initializer='glorot_normal') for _ in range(10)]"
         " + [keras.layers.Dense(10)])", 'has no activation (it is linear); expected "softmax"'),
        ("glorot_first_to_last = first_to_last", "measure it on glorot_tanh"),
        ("glorot_first_to_last = -1.0", "a ratio of two norms is positive"),
    ],
}
