"""Right and wrong answers to solutions/04_batch_normalization.ipynb (the format: solutions/README.md,
"Right and wrong answers"); tests/test_exercises.py grades them.
"""

RIGHT = {
    "q1": [
        # sums instead of mean/var, a power 0.5 for the square root, X read as floats
        """
def batch_norm_forward(X, gamma, beta, eps=1e-3):
    X = np.asarray(X, dtype=float)
    m = X.shape[0]
    mu = X.sum(axis=0) / m
    var = ((X - mu) ** 2).sum(axis=0) / m
    return gamma * ((X - mu) / (var + eps) ** 0.5) + beta
""",
        # keepdims, np.multiply, eps written 0.001
        """
def batch_norm_forward(X, gamma, beta, eps=0.001):
    mu = np.mean(X, axis=0, keepdims=True)
    sigma = np.sqrt(np.var(X, axis=0, keepdims=True) + eps)
    return np.add(np.multiply(gamma, (X - mu) / sigma), beta)
""",
        # one column at a time
        """
def batch_norm_forward(X, gamma, beta, eps=1e-3):
    Z = np.empty(np.shape(X))
    for j in range(Z.shape[1]):
        col = X[:, j]
        Z[:, j] = gamma[j] * (col - col.mean()) / np.sqrt(col.var() + eps) + beta[j]
    return Z
""",
        # keras.ops (returns the backend's tensor, converted)
        """
def batch_norm_forward(X, gamma, beta, eps=1e-3):
    x = keras.ops.convert_to_tensor(X)
    mean, var = keras.ops.moments(x, axes=[0])
    return keras.ops.convert_to_numpy(gamma * (x - mean) / keras.ops.sqrt(var + eps) + beta)
""",
    ],
    "q2": [
        # counted by Keras on the slide's model (NumPy integers, an array)
        """
slide = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                          keras.layers.BatchNormalization(), keras.layers.Dense(300, activation="relu"),
                          keras.layers.BatchNormalization(), keras.layers.Dense(100, activation="relu"),
                          keras.layers.BatchNormalization(), keras.layers.Dense(10, activation="softmax")])
bn_params = np.array([layer.count_params() for layer in slide.layers
                      if isinstance(layer, keras.layers.BatchNormalization)])
non_trainable_params = np.int64(count(slide.non_trainable_weights))
trainable_params = count(slide.trainable_weights)
""",
        # floats and a tuple
        """
bn_params = (3136.0, 1200.0, 400.0)
non_trainable_params = 2368.0
trainable_params = 271346 - non_trainable_params
""",
    ],
    "q3": [
        # the functional API, ReLU layers, an initializer object, a Softmax layer;
        # the count by arithmetic
        """
inputs = keras.Input(shape=(28, 28))
x = keras.layers.BatchNormalization()(keras.layers.Flatten()(inputs))
for units in (200, 100):
    x = keras.layers.Dense(units, kernel_initializer=keras.initializers.HeNormal(), use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
outputs = keras.layers.Softmax()(keras.layers.Dense(10)(x))
bn_before = keras.Model(inputs, outputs)
before_trainable = (784 * 200 + 200 * 100 + 100 * 10 + 10) + 2 * (784 + 200 + 100)
""",
        # Reshape for Flatten, the activation as a function, the count from Keras's totals
        """
bn_before = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Reshape((784,)),
                              keras.layers.BatchNormalization()])
for units in (200, 100):
    bn_before.add(keras.layers.Dense(units, kernel_initializer="he_normal", use_bias=False))
    bn_before.add(keras.layers.BatchNormalization())
    bn_before.add(keras.layers.Activation(keras.activations.relu))
bn_before.add(keras.layers.Dense(10, activation="softmax"))
before_trainable = np.int64(bn_before.count_params() - count(bn_before.non_trainable_weights))
""",
    ],
    "q4": [
        # with Keras layers (float32 results; the one-example output as 3 numbers); each
        # training call updates the moving statistics, so inference first, then one step
        """
fresh = keras.layers.BatchNormalization(momentum=0.9)
fresh.build((None, 3))
fresh.set_weights([bn_gamma, bn_beta, bn_moving_mean, bn_moving_var])
inference_output = keras.ops.convert_to_numpy(fresh(X_small, training=False))
fresh(X_small, training=True)
new_moving_mean = keras.ops.convert_to_numpy(fresh.moving_mean)
one_example_output = keras.ops.convert_to_numpy(fresh(X_small[:1], training=True))[0]
""",
        # lists, worked out by hand
        """
new_moving_mean = [0.3, 2.3, 2.8]
inference_output = (bn_gamma * (X_small - bn_moving_mean) / (bn_moving_var + 0.001) ** 0.5 + bn_beta).tolist()
one_example_output = [[0, -1, 3]]
""",
    ],
}

_BN = "def batch_norm_forward(X, gamma, beta, eps=1e-3):\n"

WRONG = {
    "q1": [
        (_BN + "    mu = X.mean(axis=1, keepdims=True)\n    var = X.var(axis=1, keepdims=True)\n"
         "    return gamma * (X - mu) / np.sqrt(var + eps) + beta", "you normalized each example (a row, axis=1)"),
        (_BN + "    return gamma * (X - X.mean(axis=1)) / np.sqrt(X.var(axis=1) + eps) + beta",
         "the batch axis is axis 0"),
        (_BN + "    return gamma * (X - X.mean()) / np.sqrt(X.var() + eps) + beta",
         "one mean and variance for the whole batch"),
        (_BN + "    mu = X.mean(axis=0)\n    var = X.var(axis=0, ddof=1)\n"
         "    return gamma * (X - mu) / np.sqrt(var + eps) + beta", "ddof=1 divides by m − 1"),
        (_BN + "    return gamma * (X - X.mean(axis=0)) / (X.std(axis=0) + eps) + beta",
         "ε goes inside the square root"),
        (_BN + "    return gamma * (X - X.mean(axis=0)) / X.std(axis=0) + beta", "you forgot ε"),
        ("def batch_norm_forward(X, gamma, beta, eps=1e-5):\n"
         "    return gamma * (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + eps) + beta",
         "your default ε seems to be 1e-5"),
        (_BN + "    return gamma * (X - X.mean(axis=0)) / (X.var(axis=0) + eps) + beta",
         "not by σ²_B + ε"),
        (_BN + "    return (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + eps)", "that is x̂"),
        (_BN + "    return beta * (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + eps) + gamma",
         "γ multiplies and β is added"),
        # only the hidden tests pass another eps
        (_BN + "    return gamma * (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + 1e-3) + beta",
         "your function ignores its eps argument"),
        (_BN + "    x_hat = (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + eps)\n"
         "    return (gamma * x_hat + beta).mean(axis=0)", "returned shape (4,); expected (4, 4)"),
        (_BN + "    X -= X.mean(axis=0)\n    return gamma * X / np.sqrt(X.var(axis=0) + eps) + beta",
         "changed its input array in place"),
        (_BN + "    z = gamma * (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + eps) + beta", "returned None"),
        (_BN + "    raise NotImplementedError('later')", "raised NotImplementedError: later"),
        ("batch_norm_forward = 'gamma * x_hat + beta'", "should be a function"),
    ],
    "q2": [
        ("bn_params = [1568, 600, 200]", "the moving mean and moving variance are parameters too"),
        ("bn_params = [784, 300, 100]", "a BN layer has 4"),
        ("bn_params = [1200, 400, 40]", "after the input (784 features)"),
        ("bn_params = [400, 1200, 3136]", "nearest the input first"),
        ("bn_params = [3136, 1200, 400, 40]", "the model has three BN layers"),
        ("bn_params = '3136, 1200, 400'", "is the text"),
        ("non_trainable_params = 4736", "γ and β are trainable"),
        ("non_trainable_params = 1184", "2 non-trainable parameters per feature"),
        ("non_trainable_params = 0", "they are non-trainable"),
        ("trainable_params = 271346", "a whole number below the model's 271,346"),     # public, 0 points
        ("trainable_params = 271346", "the 2,368 moving means and variances are not trainable"),  # hidden
        ("trainable_params = 266610", "that counts the Dense layers only"),
        ("trainable_params = 268568", "one (trainable) bias per unit"),
        ("trainable_params = 268978.5", "should be a whole number"),
        ("trainable_params = '268,978'", "without quotes"),
    ],
    "q3": [
        # BN after the activation (the slide's placement)
        ("bn_before = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),"
         " keras.layers.BatchNormalization(),"
         " keras.layers.Dense(200, activation='relu', kernel_initializer='he_normal', use_bias=False),"
         " keras.layers.BatchNormalization(),"
         " keras.layers.Dense(100, activation='relu', kernel_initializer='he_normal', use_bias=False),"
         " keras.layers.BatchNormalization(), keras.layers.Dense(10, activation='softmax')])",
         'has an activation "relu" after the 1st Dense layer that should not be there'),
        # with biases
        ("bn_before = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),"
         " keras.layers.BatchNormalization()] + [layer for units in (200, 100) for layer in"
         " (keras.layers.Dense(units, kernel_initializer='he_normal'), keras.layers.BatchNormalization(),"
         " keras.layers.Activation('relu'))] + [keras.layers.Dense(10, activation='softmax')])",
         "has use_bias=True; expected use_bias=False"),
        # the lecture's model_before, 300 and 100 units
        ("bn_before = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),"
         " keras.layers.BatchNormalization()] + [layer for units in (300, 100) for layer in"
         " (keras.layers.Dense(units, kernel_initializer='he_normal', use_bias=False),"
         " keras.layers.BatchNormalization(), keras.layers.Activation('relu'))]"
         " + [keras.layers.Dense(10, activation='softmax')])",
         "has 300 units; expected 200"),
        # Keras's default initializer
        ("bn_before = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),"
         " keras.layers.BatchNormalization()] + [layer for units in (200, 100) for layer in"
         " (keras.layers.Dense(units, use_bias=False), keras.layers.BatchNormalization(),"
         " keras.layers.Activation('relu'))] + [keras.layers.Dense(10, activation='softmax')])",
         "uses kernel_initializer glorot_uniform (Keras's default); expected he_normal"),
        # no BN after the input
        ("bn_before = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten()]"
         " + [layer for units in (200, 100) for layer in"
         " (keras.layers.Dense(units, kernel_initializer='he_normal', use_bias=False),"
         " keras.layers.BatchNormalization(), keras.layers.Activation('relu'))]"
         " + [keras.layers.Dense(10, activation='softmax')])",
         "expected BatchNormalization after the input"),
        # no softmax
        ("bn_before = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),"
         " keras.layers.BatchNormalization()] + [layer for units in (200, 100) for layer in"
         " (keras.layers.Dense(units, kernel_initializer='he_normal', use_bias=False),"
         " keras.layers.BatchNormalization(), keras.layers.Activation('relu'))]"
         " + [keras.layers.Dense(10)])",
         'has no activation (it is linear); expected "softmax"'),
        ("bn_before = 'Dense, BatchNormalization, Activation'", "it should be a Keras model"),
        ("before_trainable = 182146", "the 2,168 moving means and variances are not trainable"),
        ("before_trainable = 180278", "the two hidden Dense layers have no biases"),
        ("before_trainable = 268578", "that is the lecture's 300-100 model_before"),
        ("before_trainable = 179978 + 1", "but your bn_before has 179,978 trainable parameters"),
    ],
    "q4": [
        ("new_moving_mean = 0.1 * bn_moving_mean + 0.9 * X_small.mean(axis=0)",
         "momentum multiplies the old moving mean"),
        ("new_moving_mean = X_small.mean(axis=0)", "that is μ_B itself"),
        ("new_moving_mean = 0.99 * bn_moving_mean + 0.01 * X_small.mean(axis=0)",
         "not Keras's default 0.99"),
        ("new_moving_mean = 0.9 * bn_moving_mean[0] + 0.1 * X_small.mean(axis=1)",
         "has shape (4,); expected 3 numbers in shape (3,)"),
        ("inference_output = bn_gamma * (X_small - X_small.mean(axis=0)) / np.sqrt(X_small.var(axis=0) + 1e-3)"
         " + bn_beta", "that is training mode"),
        ("bn_layer(X_small, training=True)\n"
         "inference_output = keras.ops.convert_to_numpy(bn_layer(X_small, training=False))\n"
         "bn_layer.set_weights([bn_gamma, bn_beta, bn_moving_mean, bn_moving_var])  # put the layer back",
         "updated by a call with training=True"),
        ("inference_output = bn_gamma * (X_small - bn_moving_mean) / np.sqrt(bn_moving_var) + bn_beta",
         "you forgot ε"),
        ("inference_output = bn_gamma * (X_small - bn_moving_mean) / (bn_moving_var + 1e-3) + bn_beta",
         "divide by the square root"),
        ("inference_output = inference_output[0]", "has shape (3,); expected 12 numbers in shape (4, 3)"),
        ("one_example_output = inference_output[:1]", "that is inference mode"),     # hidden
        ("one_example_output = np.zeros((1, 3))", "then z = γ ⊗ x̂ + β is β, not 0"),
        ("one_example_output = bn_gamma", "z = γ ⊗ 0 + β = β"),
        ("one_example_output = 'beta'", "should be 3 numbers"),
        ("one_example_output = X_small[:2]", "should be 3 numbers"),
    ],
}
