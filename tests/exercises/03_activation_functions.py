"""Right and wrong answers to solutions/03_activation_functions.ipynb (the format: solutions/README.md,
"Right and wrong answers"); tests/test_exercises.py grades them.
"""

RIGHT = {
    "q1": [
        # np.maximum for LeakyReLU (α ≤ 1), boolean indexing on a copy for ELU
        """
def leaky_relu(z, alpha=0.2):
    z = np.asarray(z, dtype=float)
    return np.maximum(z, alpha * z)

def elu(z, alpha=1.0):
    out = np.array(z, dtype=float)          # a copy: z itself stays as it is
    negative = out <= 0
    out[negative] = alpha * (np.exp(out[negative]) - 1)
    return out
""",
        # Keras's own functions, converted to NumPy (float32 counts)
        """
def leaky_relu(z, alpha=0.2):
    return keras.ops.convert_to_numpy(keras.activations.leaky_relu(np.asarray(z, dtype="float32"), negative_slope=alpha))

def elu(z, alpha=1.0):
    z = np.asarray(z, dtype=float)
    return (z > 0) * z + (z <= 0) * alpha * np.expm1(np.minimum(z, 0))
""",
    ],
    "q2": [
        # the constants rounded to 4 decimals are accepted
        """
def selu(z):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, 1.0507 * z, 1.0507 * 1.6733 * (np.exp(np.minimum(z, 0)) - 1))
""",
        # λ·ELU, through question 1's elu
        """
def selu(z):
    return SELU_SCALE * elu(z, alpha=SELU_ALPHA)
""",
    ],
    "q3": [
        """
leaky_slope = np.float32(0.2)
elu_left = 0.5
elu_right = 1
selu_left = 1.0507 * 1.6733                    # rounded constants: within 3 significant digits
""",
        # measured numerically, from the left and from the right
        """
h = 1e-6
leaky_slope = (leaky_relu(-3.0 + h) - leaky_relu(-3.0)) / h
elu_left = (elu(0.0, alpha=0.5) - elu(-h, alpha=0.5)) / h
elu_right = np.array([(elu(h, alpha=0.5) - elu(0.0, alpha=0.5)) / h])
selu_left = (selu(0.0) - selu(-h)) / h
""",
    ],
    "q4": [
        """
def dead_share(outputs):
    outputs = np.asarray(outputs)
    return 1 - np.mean((outputs > 0).any(axis=0))

hidden = [layer.output for layer in relu_model.layers if isinstance(layer, keras.layers.ReLU)]
probe = keras.Model(relu_model.inputs[0], hidden)
dead_shares = np.array([dead_share(keras.ops.convert_to_numpy(o)) for o in probe(X_probe)])
""",
        # a lambda, and the lecture's activation_stats (its .dead is the same share)
        """
dead_share = lambda outputs: np.count_nonzero(np.max(outputs, axis=0) <= 0) / np.shape(outputs)[1]
dead_shares = tuple(s.dead for s in activation_stats(relu_model, X_probe) if s.activation == "relu")
""",
    ],
    "q5": [
        # the functional API, Reshape for Flatten, separate Activation layers,
        # LeCun normal spelled as VarianceScaling, a Softmax layer
        """
inputs = keras.Input(shape=(28, 28))
x = keras.layers.Reshape((784,))(inputs)
for _ in range(20):
    x = keras.layers.Dense(100, kernel_initializer=keras.initializers.VarianceScaling(
        scale=1.0, mode="fan_in", distribution="truncated_normal"))(x)
    x = keras.layers.Activation("selu")(x)
last_hidden_output = x
selu_net = keras.Model(inputs, keras.layers.Softmax()(keras.layers.Dense(10)(x)))
h = keras.ops.convert_to_numpy(keras.Model(inputs, last_hidden_output)(X_scaled))
last_mean = h.mean()
last_std = np.std(h)
""",
        """
selu_net = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten()]
                            + [keras.layers.Dense(100, activation=keras.activations.selu,
                                                  kernel_initializer=keras.initializers.LecunNormal())
                               for _ in range(20)]
                            + [keras.layers.Dense(10, activation="softmax")])
outs = layer_outputs(selu_net, X_scaled)
last_mean = np.float32(outs[-2][1].mean())
last_std = np.array([outs[-2][1].std()])
""",
    ],
}

WRONG = {
    "q1": [
        ("def leaky_relu(z, alpha=0.2):\n    return alpha * z", "you multiplied every z by α"),
        ("def leaky_relu(z, alpha=0.2):\n    return np.maximum(z, 0)", "that is ReLU"),
        ("def leaky_relu(z, alpha=0.3):\n    return np.where(z > 0, z, alpha * z)",
         "your default alpha is 0.3"),
        ("def leaky_relu(z, alpha=0.2):\n    return max(z, alpha * z)",
         "raised ValueError: The truth value of an array"),
        ("def leaky_relu(z, alpha=0.2):\n    z[z < 0] *= alpha\n    return z", "raised TypeError"),
        ("def elu(z, alpha=1.0):\n    return np.where(z > 0, z, alpha * np.exp(z))", "which jumps to α at 0"),
        ("def elu(z, alpha=1.0):\n    return np.where(z > 0, z, np.exp(z) - 1)", "you left out α"),
        ("def elu(z, alpha=1.0):\n    return alpha * (np.exp(z) - 1)", "for z > 0, ELU(z) = z"),
        ("def elu(z, alpha=1.0):\n    np.where(z > 0, z, alpha * np.expm1(z))", "returned None"),
        ("def elu(z, alpha=1.0):\n    return [np.where(z > 0, z, alpha * np.expm1(z))]",
         "it should return one number"),
        ("def elu(z, alpha=1.0):\n    import math\n    return z if z > 0 else alpha * (math.exp(z) - 1)",
         "raised"),
        ("elu = 'elu'", "should be a function"),
        # right on every number, wrong far from 0 in one place: only the hidden test sees it
        ("def elu(z, alpha=1.0):\n    z = np.asarray(z, dtype=float)\n"
         "    return np.where(z > 0, np.minimum(z, 10), alpha * np.expm1(np.minimum(z, 0)))",
         "= 10 (input 20); expected 20"),
    ],
    "q2": [
        ("def selu(z):\n    return np.where(z > 0, z, SELU_ALPHA * np.expm1(z))", "SELU is λ times it"),
        ("def selu(z):\n    return np.where(z > 0, SELU_SCALE * z, SELU_ALPHA * np.expm1(z))",
         "λ multiplies the negative branch too"),
        ("def selu(z):\n    return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.exp(z))", "which jumps at 0"),
        ("def selu(z):\n    return SELU_ALPHA * np.where(z > 0, z, SELU_SCALE * np.expm1(z))", "not αz"),
        ("def selu(z):\n    return SELU_SCALE * np.where(z > 0, z, np.expm1(z))", "α ≈ 1.6733 is missing"),
        ("def selu(z):\n    pass", "returned None"),
        ("def selu(z):\n    raise NotImplementedError('later')", "raised NotImplementedError: later"),
        ("def selu(z):\n    return np.ravel(SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(z)))",
         "it should return one number"),
        ("selu = 1.0507", "should be a function"),
    ],
    "q3": [
        ("leaky_slope = -0.6", "the question asks for its slope"),
        ("leaky_slope = 0", "0 is ReLU's slope"),
        ("leaky_slope = '0.2'", "without quotes"),
        ("elu_left = 1.0", "1 is the slope from the right"),
        ("elu_left = -0.5", "not its slope"),
        ("elu_right = 0.5", "0.5 = α is the slope from the left"),
        ("selu_left = -1.0", "its slope is positive"),
        ("selu_left = SELU_ALPHA", "that is α alone"),          # caught by the hidden test
        ("selu_left = SELU_SCALE", "that is λ, SELU's slope for z > 0"),
        ("selu_left = [SELU_SCALE * SELU_ALPHA, SELU_SCALE]", "should be one number"),
    ],
    "q4": [
        ("def dead_share(outputs):\n    return float(np.mean(outputs == 0))", "share of all outputs that are 0"),
        ("def dead_share(outputs):\n    return np.mean(np.any(outputs <= 0, axis=0))", "(np.all)"),
        ("def dead_share(outputs):\n    return np.mean(np.all(outputs <= 0, axis=1))", "use axis=0"),
        ("def dead_share(outputs):\n    return np.sum(np.all(outputs <= 0, axis=0))", "number of dead units"),
        ("def dead_share(outputs):\n    return 100 * np.mean(np.all(outputs <= 0, axis=0))", "percentage"),
        ("def dead_share(outputs):\n    return np.all(outputs <= 0, axis=0)", "it should return one number"),
        ("def dead_share(outputs):\n    print(np.mean(np.all(outputs <= 0, axis=0)))", "returned None"),
        # right on ReLU outputs, wrong on negative ones: only the hidden test sees it
        ("def dead_share(outputs):\n    return np.mean(np.all(outputs == 0, axis=0))", "never positive is dead too"),
        ("dead_shares = dead_shares[::-1]", "starts with the second hidden layer"),
        ("dead_shares = [100 * s for s in dead_shares]", "percentages"),
        ("dead_shares = [float(np.mean(out <= 0)) for out in relu_outputs]", "shares of all outputs that are 0"),
        ("dead_shares = dead_shares[0]", "has shape (); expected 2 numbers"),
        ("dead_shares = 'about half'", "is the text"),
    ],
    "q5": [
        ("selu_net = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten()]"
         " + [keras.layers.Dense(100, activation='relu', kernel_initializer='lecun_normal') for _ in range(20)]"
         " + [keras.layers.Dense(10, activation='softmax')])", 'is "relu"; expected "selu"'),
        ("selu_net = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten()]"
         " + [keras.layers.Dense(100, activation='selu', kernel_initializer='he_normal') for _ in range(20)]"
         " + [keras.layers.Dense(10, activation='softmax')])", "uses kernel_initializer he_normal; expected lecun_normal"),
        ("selu_net = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten()]"
         " + [keras.layers.Dense(100, activation='selu') for _ in range(20)]"
         " + [keras.layers.Dense(10, activation='softmax')])", "glorot_uniform (Keras's default)"),
        ("selu_net = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten()]"
         " + [keras.layers.Dense(100, activation='selu', kernel_initializer='lecun_normal') for _ in range(19)]"
         " + [keras.layers.Dense(10, activation='softmax')])", "has 20 Dense layers; expected 21"),
        ("selu_net = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten()]"
         " + [keras.layers.Dense(100, activation='selu', kernel_initializer='lecun_normal') for _ in range(20)]"
         " + [keras.layers.Dense(10)])", 'has no activation (it is linear); expected "softmax"'),
        ("selu_net = 'selu'", "it should be a Keras model"),
        ("last_mean = activation_stats(selu_net, X_probe)[-2].mean\n"
         "last_std = activation_stats(selu_net, X_probe)[-2].std", "use the standardized X_scaled"),
        ("last_mean = activation_stats(selu_net, X_scaled)[1].mean", "that is the first hidden layer"),
        ("last_mean = activation_stats(selu_net, X_scaled)[-1].mean", "that is the output layer"),
        ("last_std = '1.0'", "without quotes"),
        ("last_std = -last_std", "a standard deviation is positive"),
    ],
}
