"""Right and wrong answers to solutions/06_transfer_learning.ipynb (the format: solutions/README.md,
"Right and wrong answers"); tests/test_exercises.py grades them.

The solution's objects are shared between answers (the answers get a shallow
copy of its variables): an answer builds new models and never changes
model_A, model_B or model_B_on_A in place.
"""

RIGHT = {
    "q1": [
        # np.isin, a lookup table for the new labels, lists for the pairs, int labels for B
        """
def split_a_b(X, y):
    b = np.isin(y, [5, 6])
    new_label = np.array([0, 1, 2, 3, 4, -1, -1, 5, 6, 7])
    return [X[~b], new_label[y[~b]]], [X[b], (y[b] == 6).astype(int)]
""",
        # index lists built in loops (empty tasks give arrays of shape (0,)), boolean y_B
        """
def split_a_b(X, y):
    a_classes = [c for c in range(10) if c not in (5, 6)]
    idx_a = [i for i in range(len(y)) if y[i] in a_classes]
    idx_b = [i for i in range(len(y)) if y[i] in (5, 6)]
    y_A = np.array([a_classes.index(y[i]) for i in idx_a])
    y_B = np.array([y[i] == 6 for i in idx_b])
    return (X[idx_a], y_A), (X[idx_b], y_B)
""",
    ],
    "q2": [
        """
(_, y_A), (_, y_B) = split_a_b(X_train, y_train)
n_train_A = len(y_A)
n_train_B = np.int64(len(y_B))                              # a NumPy integer counts
ankle_boot_label = int(split_a_b(np.zeros(1), np.array([9]))[0][1][0])   # one ankle boot, split
""",
        """
n_train_A = float(np.sum((y_train != 5) & (y_train != 6)))   # a whole float counts
n_train_B = np.array([np.count_nonzero(y_train == 5) + np.count_nonzero(y_train == 6)])
ankle_boot_label = 9 - 2
""",
    ],
    "q3": [
        # the functional API, with the clone's input and a loss object
        """
clone = keras.models.clone_model(model_A)
clone.set_weights(model_A.get_weights())
for layer in clone.layers[:-1]:
    layer.trainable = False
outputs = keras.layers.Dense(1, activation="sigmoid")(clone.layers[-2].output)
model_B_on_A = keras.Model(clone.inputs, outputs)
model_B_on_A.compile(loss=keras.losses.BinaryCrossentropy(), optimizer=keras.optimizers.SGD(learning_rate=0.03))
""",
        # a nested model: the reused layers as one frozen Sequential, a separate Activation
        """
clone = keras.models.clone_model(model_A)
clone.set_weights(model_A.get_weights())
base = keras.Sequential([keras.Input(shape=(28, 28))] + clone.layers[:-1])
base.trainable = False
model_B_on_A = keras.Sequential([keras.Input(shape=(28, 28)), base, keras.layers.Dense(1),
                                 keras.layers.Activation("sigmoid")])
model_B_on_A.compile(loss=keras.losses.binary_crossentropy, optimizer="sgd")
""",
    ],
    "q4": [
        # a fresh model B, frozen through model_B.layers, counted by hand, count_params at the end
        """
model_B, reused = transfer.model_b_on_a(model_A, hidden=HIDDEN_A)
for layer in model_B.layers[:-1]:
    layer.trainable = False
model_B.compile(loss="binary_crossentropy", optimizer=keras.optimizers.SGD(learning_rate=recipe.lr))
trainable_frozen = sum(int(np.prod(w.shape)) for w in model_B.trainable_weights)
for layer in model_B.layers:
    layer.trainable = True
model_B.compile(loss=keras.losses.BinaryCrossentropy(), optimizer=keras.optimizers.SGD(learning_rate=0.003))
trainable_unfrozen = np.int64(model_B.count_params())
""",
        # the counts by hand (model_B as the solution left it)
        """
trainable_frozen = 25 + 1
trainable_unfrozen = float(784 * 100 + 100 + 100 * 50 + 50 + 50 * 25 + 25 + 26)
""",
    ],
}

WRONG = {
    "q1": [
        ("def split_a_b(X, y):\n    b = np.isin(y, [5, 6])\n"
         "    return (X[~b], y[~b]), (X[b], (y[b] == 6).astype(np.float32))",
         "re-index task A's labels 0–7"),
        ("def split_a_b(X, y):\n    b = np.isin(y, [5, 6])\n    y_A = np.where(y[~b] > 6, y[~b] - 2, y[~b])\n"
         "    return (X[~b], y_A), (X[b], (y[b] == 5).astype(np.float32))",
         "a shirt is 1 and a sandal 0"),
        ("def split_a_b(X, y):\n    b = np.isin(y, [5, 6])\n"
         "    return (X, y), (X[b], (y[b] == 6).astype(np.float32))",
         "task A leaves out sandals (5) and shirts (6)"),
        ("def split_a_b(X, y):\n    b = np.isin(y, [5, 6])\n    y_A = np.where(y[~b] > 6, y[~b] - 2, y[~b])\n"
         "    return (X[~b], y_A), (X[b], y[b])",
         "y_B must be binary"),
        # re-indexing first makes Sneaker 5 and Bag 6: they land in task B
        ("def split_a_b(X, y):\n    y = np.where(y > 6, y - 2, y)\n    b = np.isin(y, [5, 6])\n"
         "    return (X[~b], y[~b]), (X[b], (y[b] == 6).astype(np.float32))",
         "of these 100 images belong to task A"),
        ("def split_a_b(X, y):\n    b = np.isin(y, [5, 6])\n    y[y > 6] -= 2\n"
         "    return (X[~b], y[~b]), (X[b], (y[b] == 6).astype(np.float32))",
         "changed X or y in place"),
        # one class after the other: the labels are right, the order is not
        ("def split_a_b(X, y):\n    a = [c for c in range(10) if c not in (5, 6)]\n"
         "    X_A = np.concatenate([X[y == c] for c in a])\n"
         "    y_A = np.concatenate([np.full((y == c).sum(), i) for i, c in enumerate(a)])\n"
         "    b = np.isin(y, [5, 6])\n    return (X_A, y_A), (X[b], (y[b] == 6).astype(np.float32))",
         "keep the images in their original order"),
        ("def split_a_b(X, y):\n    b = np.isin(y, [5, 6])\n    y_A = np.where(y[~b] > 6, y[~b] - 2, y[~b])\n"
         "    return X[~b], y_A, X[b], (y[b] == 6).astype(np.float32)",
         "it should return two pairs: ((X_A, y_A), (X_B, y_B))"),
        ("def split_a_b(X, y):\n    b = np.isin(y, [5, 6])\n    y_A = np.where(y[~b] > 6, y[~b] - 2, y[~b])\n"
         "    return (X[~b], y_A), (X[b], (y[b] == 6).reshape(-1, 1))",
         "in the wrong shape? use .reshape"),
        ("def split_a_b(X, y):\n    ...", "returned None"),
        ("def split_a_b(X, y):\n    raise NotImplementedError('later')", "raised NotImplementedError: later"),
        ("split_a_b = 'split'", "should be a function"),
    ],
    "q2": [
        ("n_train_A = len(y_train)", "that is every training image"),
        ("n_train_A = int(np.isin(y_train, [5, 6]).sum())", "that is task B's count"),
        ("n_train_A = X_train[~np.isin(y_train, [5, 6])].shape", "should be one number"),
        ("ankle_boot_label = 9", "9 is its label among the 10 classes"),
        ("ankle_boot_label = 8", "task A counts from 0"),
        ("ankle_boot_label = 'Ankle boot'", "without quotes"),
        ("n_train_B = int((y_train == 6).sum())", "that counts one class only"),   # caught by the hidden test
        ("n_train_B = n_train_B / len(y_train)", "a number of images is a whole number"),
    ],
    "q3": [
        ("model_B_on_A = keras.Sequential(model_A.layers[:-1] + [keras.layers.Dense(1, activation='sigmoid')])\n"
         "model_B_on_A.build(input_shape=(None, 28, 28))",
         "shares its layers with model_A"),
        ("model_B_on_A = model_A", "is model_A itself"),
        ("clone = keras.models.clone_model(model_A)\nclone.set_weights(model_A.get_weights())\n"
         "model_B_on_A = keras.Sequential(clone.layers)\nmodel_B_on_A.add(keras.layers.Dense(1, activation='sigmoid'))\n"
         "model_B_on_A.build(input_shape=(None, 28, 28))\n"
         "for layer in model_B_on_A.layers[:-1]:\n    layer.trainable = False\n"
         "model_B_on_A.compile(loss='binary_crossentropy', optimizer='sgd')",
         "still has model A's output layer"),
        # clone_model alone: new layers, new random weights (caught by the hidden test)
        ("clone = keras.models.clone_model(model_A)\n"
         "model_B_on_A = keras.Sequential(clone.layers[:-1])\nmodel_B_on_A.add(keras.layers.Dense(1, activation='sigmoid'))\n"
         "model_B_on_A.build(input_shape=(None, 28, 28))\n"
         "for layer in model_B_on_A.layers[:-1]:\n    layer.trainable = False\n"
         "model_B_on_A.compile(loss='binary_crossentropy', optimizer='sgd')",
         "does not hold model A's weights"),
        ("clone = keras.models.clone_model(model_A)\nclone.set_weights(model_A.get_weights())\n"
         "model_B_on_A = keras.Sequential(clone.layers[:-1])\nmodel_B_on_A.add(keras.layers.Dense(1, activation='sigmoid'))\n"
         "model_B_on_A.build(input_shape=(None, 28, 28))\n"
         "model_B_on_A.compile(loss='binary_crossentropy', optimizer='sgd')",
         "the 1st Dense layer of model_B_on_A, reused from model A, is still trainable"),
        ("clone = keras.models.clone_model(model_A)\nclone.set_weights(model_A.get_weights())\n"
         "model_B_on_A = keras.Sequential(clone.layers[:-1])\nmodel_B_on_A.add(keras.layers.Dense(1, activation='sigmoid'))\n"
         "model_B_on_A.build(input_shape=(None, 28, 28))\n"
         "for layer in model_B_on_A.layers[:-2]:\n    layer.trainable = False\n"
         "model_B_on_A.compile(loss='binary_crossentropy', optimizer='sgd')",
         "the 3rd Dense layer of model_B_on_A, reused from model A, is still trainable"),
        ("clone = keras.models.clone_model(model_A)\nclone.set_weights(model_A.get_weights())\n"
         "model_B_on_A = keras.Sequential(clone.layers[:-1])\nmodel_B_on_A.add(keras.layers.Dense(1, activation='sigmoid'))\n"
         "model_B_on_A.build(input_shape=(None, 28, 28))\n"
         "for layer in model_B_on_A.layers:\n    layer.trainable = False\n"
         "model_B_on_A.compile(loss='binary_crossentropy', optimizer='sgd')",
         "the new output layer is frozen too"),
        ("clone = keras.models.clone_model(model_A)\nclone.set_weights(model_A.get_weights())\n"
         "model_B_on_A = keras.Sequential(clone.layers[:-1])\nmodel_B_on_A.add(keras.layers.Dense(1, activation='sigmoid'))\n"
         "model_B_on_A.build(input_shape=(None, 28, 28))\nmodel_B_on_A.trainable = False\n"
         "model_B_on_A.compile(loss='binary_crossentropy', optimizer='sgd')",
         "so nothing in it would train"),
        ("clone = keras.models.clone_model(model_A)\nclone.set_weights(model_A.get_weights())\n"
         "model_B_on_A = keras.Sequential(clone.layers[:-1])\nmodel_B_on_A.add(keras.layers.Dense(1, activation='sigmoid'))\n"
         "model_B_on_A.build(input_shape=(None, 28, 28))\n"
         "for layer in model_B_on_A.layers[:-1]:\n    layer.trainable = False",
         "compile model_B_on_A after freezing"),
        ("clone = keras.models.clone_model(model_A)\nclone.set_weights(model_A.get_weights())\n"
         "model_B_on_A = keras.Sequential(clone.layers[:-1])\nmodel_B_on_A.add(keras.layers.Dense(1, activation='sigmoid'))\n"
         "model_B_on_A.build(input_shape=(None, 28, 28))\n"
         "for layer in model_B_on_A.layers[:-1]:\n    layer.trainable = False\n"
         "model_B_on_A.compile(loss='sparse_categorical_crossentropy', optimizer='sgd')",
         'use "binary_crossentropy"'),
        ("clone = keras.models.clone_model(model_A)\nclone.set_weights(model_A.get_weights())\n"
         "model_B_on_A = keras.Sequential(clone.layers[:-1])\nmodel_B_on_A.add(keras.layers.Dense(2, activation='softmax'))\n"
         "model_B_on_A.build(input_shape=(None, 28, 28))\n"
         "for layer in model_B_on_A.layers[:-1]:\n    layer.trainable = False\n"
         "model_B_on_A.compile(loss='sparse_categorical_crossentropy', optimizer='sgd')",
         "has 2 units; expected 1"),
        ("clone = keras.models.clone_model(model_A)\nclone.set_weights(model_A.get_weights())\n"
         "model_B_on_A = keras.Sequential(clone.layers[:-1])\nmodel_B_on_A.add(keras.layers.Dense(1, activation='softmax'))\n"
         "model_B_on_A.build(input_shape=(None, 28, 28))",
         'is "softmax"; expected "sigmoid"'),
        ("clone = keras.models.clone_model(model_A)\nclone.set_weights(model_A.get_weights())\n"
         "model_B_on_A = keras.Sequential(clone.layers[:-1])\nmodel_B_on_A.add(keras.layers.Dense(1, activation='sigmoid'))",
         "is not built yet"),
        ("clone = keras.models.clone_model(model_A)\nclone.set_weights(model_A.get_weights())\n"
         "model_B_on_A = clone.layers[:-1] + [keras.layers.Dense(1, activation='sigmoid')]",
         "is a list; it should be a Keras model"),
        ("model_B_on_A = 'model B on A'", "is a str; it should be a Keras model"),
    ],
    "q4": [
        ("trainable_frozen = model_B.count_params()", "that is every parameter of model_B, frozen or not"),
        ("trainable_frozen = 25 * 8 + 8", "that is model A's output layer"),
        ("model_B, reused = transfer.model_b_on_a(model_A, hidden=HIDDEN_A)\n"
         "for layer in reused:\n    layer.trainable = False\n"
         "trainable_frozen = len(model_B.trainable_weights)\n"
         "for layer in reused:\n    layer.trainable = True\n"
         "model_B.compile(loss='binary_crossentropy', optimizer=keras.optimizers.SGD(learning_rate=recipe.lr_unfrozen))",
         "that is the number of weight arrays"),
        ("model_B, reused = transfer.model_b_on_a(model_A, hidden=HIDDEN_A)\n"
         "for layer in reused:\n    layer.trainable = False\n"
         "trainable_frozen = sum(int(np.prod(w.shape)) for w in model_B.non_trainable_weights)\n"
         "for layer in reused:\n    layer.trainable = True\n"
         "model_B.compile(loss='binary_crossentropy', optimizer=keras.optimizers.SGD(learning_rate=recipe.lr_unfrozen))",
         "those are the frozen parameters of the reused layers"),
        # unfrozen, but still compiled for the first phase
        ("model_B, reused = transfer.model_b_on_a(model_A, hidden=HIDDEN_A)\n"
         "for layer in reused:\n    layer.trainable = False\n"
         "model_B.compile(loss='binary_crossentropy', optimizer=keras.optimizers.SGD(learning_rate=recipe.lr))\n"
         "for layer in reused:\n    layer.trainable = True",
         "model_B is compiled with learning rate 0.03: after unfreezing, compile it again"),
        # never unfrozen: counted twice in the frozen state
        ("model_B, reused = transfer.model_b_on_a(model_A, hidden=HIDDEN_A)\n"
         "for layer in reused:\n    layer.trainable = False\n"
         "model_B.compile(loss='binary_crossentropy', optimizer=keras.optimizers.SGD(learning_rate=recipe.lr))\n"
         "trainable_unfrozen = transfer.n_trainable(model_B)",
         "model_B still has frozen layers"),
        ("trainable_unfrozen = model_A.count_params()", "that is model A's count"),
        ("trainable_unfrozen = 84825", "the new output layer trains too"),
        ("trainable_unfrozen = '84851'", "without quotes"),
    ],
}
