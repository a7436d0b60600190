"""Right and wrong answers to solutions/02_initialization.ipynb (the format: solutions/README.md,
"Right and wrong answers"); tests/test_exercises.py grades them.
"""

RIGHT = {
    "q1": [
        """
he_variance = 2 / 300
glorot_limit = np.sqrt(6 / (784 + 300))
forward_ratio = 784 * 2 / (784 + 300)
""",
        """
he_variance = np.float32(0.00667)            # NumPy scalars, rounded answers count
glorot_limit = np.array([0.0744])            # an array holding one number counts
forward_ratio = 1.4465
""",
    ],
    "q2": [
        """
def init_variance(strategy, fan_in, fan_out):
    fan = {"glorot": (fan_in + fan_out) / 2, "he": fan_in / 2, "lecun": fan_in}[strategy]
    return 1 / fan
""",
        # VarianceScaling's view: σ² = scale / fan, returned as a NumPy number
        """
def init_variance(strategy, fan_in, fan_out):
    scale = 2.0 if strategy == "he" else 1.0
    fan = np.mean([fan_in, fan_out]) if strategy == "glorot" else fan_in
    return np.float64(scale / fan)
""",
    ],
    "q3": [
        """
selu_init = keras.initializers.LecunUniform(seed=7)
backward_he_init = keras.initializers.VarianceScaling(2, "fan_out", "untruncated_normal")
""",
        """
selu_init = keras.initializers.VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform")
backward_he_init = keras.initializers.VarianceScaling(scale=2., mode="fan_out", distribution="normal")
""",
        # a class, and a config dictionary: Keras accepts both as a kernel_initializer
        """
selu_init = keras.initializers.LecunUniform
backward_he_init = {"class_name": "VarianceScaling",
                    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"}}
""",
    ],
    "q4": [
        # the outputs themselves, with layer_outputs; NumPy arrays; the name in another case
        """
from lecture_utils.diagnostics import layer_outputs

def dense_stds(net):
    return np.array([out.std() for layer, out in layer_outputs(net, X_probe)
                     if isinstance(layer, keras.layers.Dense)][:-1])

he_stds = dense_stds(relu_nets["he_normal"])
spread_ratios = np.array([dense_stds(net)[-1] / dense_stds(net)[0] for net in relu_nets.values()])
best_init = " He_Normal"
""",
        # positions in activation_stats' list; a tuple; the ratios as a dict by network
        """
stats = activation_stats(relu_nets["he_normal"], X_probe)
he_stds = tuple(s.std for s in stats[1:11])
spread_ratios = {}
for name, net in relu_nets.items():
    st = activation_stats(net, X_probe)
    spread_ratios[name] = st[10].std / st[1].std
best_init = min(spread_ratios, key=lambda name: abs(np.log(spread_ratios[name])))
""",
    ],
}

WRONG = {
    "q1": [
        ("he_variance = 1 / 300",
         "he_variance = 0.003333; He normal with fan_in = 300 gives 2/300 ≈ 0.0067 — 1/fan_in is LeCun's σ²"),
        ("he_variance = 2 / 100", "you used fan_out = 100"),
        ("he_variance = np.sqrt(2 / 300)", "that is σ, the standard deviation"),
        ("he_variance = 0.05", "check the mode"),
        ("he_variance = '0.0067'", "without quotes"),
        ("glorot_limit = np.sqrt(3 / (784 + 300))", "fan_avg = (fan_in + fan_out) / 2 = 542, not 1084"),
        ("glorot_limit = 3 / 542", "that is r² = 3σ²"),
        ("glorot_limit = np.sqrt(1 / 542)", "that is σ; the uniform limit is r = √(3σ²)"),
        ("glorot_limit = np.sqrt(3 / 784)", "LeCun's"),
        ("forward_ratio = 300 / 542", "that is fan_out · σ², the backward ratio"),   # the hidden test
        ("forward_ratio = 1", "Glorot keeps the ratio at 1 only when fan_in = fan_out"),
        ("forward_ratio = -784 / 542", "a ratio of two variances is positive"),
        ("forward_ratio = [784, 542]", "should be one number"),
    ],
    "q2": [
        ("def init_variance(strategy, fan_in, fan_out):\n"
         "    return {'glorot': 1 / (fan_in + fan_out), 'he': 2 / fan_in, 'lecun': 1 / fan_in}[strategy]",
         "you forgot the / 2"),
        ("def init_variance(strategy, fan_in, fan_out):\n"
         "    return {'glorot': 2 / (fan_in + fan_out), 'he': 1 / fan_in, 'lecun': 1 / fan_in}[strategy]",
         'init_variance("he", 300, 100) = 0.003333; expected 0.006667 — 1/fan_in is LeCun\'s σ²'),
        ("def init_variance(strategy, fan_in, fan_out):\n"
         "    return {'glorot': 2 / (fan_in + fan_out), 'he': 2 / fan_out, 'lecun': 1 / fan_in}[strategy]",
         "He's σ² uses fan_in, the number of inputs, not fan_out"),
        ("def init_variance(strategy, fan_in, fan_out):\n"
         "    return {'glorot': 2 / (fan_in + fan_out), 'he': 2 / fan_in, 'lecun': 1 / fan_out}[strategy]",
         "LeCun's σ² uses fan_in"),
        ("def init_variance(strategy, fan_in, fan_out):\n"
         "    return np.sqrt({'glorot': 2 / (fan_in + fan_out), 'he': 2 / fan_in, 'lecun': 1 / fan_in}[strategy])",
         "that is σ, the standard deviation; return the variance σ²"),
        ("def init_variance(strategy, fan_in, fan_out):\n    ...", "returned None"),
        ("def init_variance(strategy, fan_in, fan_out):\n"
         "    return {'Glorot': 1.0, 'He': 2.0, 'LeCun': 1.0}[strategy] / fan_in",
         "raised KeyError"),
        ("init_variance_right = init_variance\n"
         "def init_variance(strategy, fan_in, fan_out):\n"
         "    return [init_variance_right(strategy, fan_in, fan_out)]", "it should return one number"),
        ("def init_variance(strategy, fan_in, fan_out):\n"
         "    fans = np.array([fan_in, fan_out])\n"
         "    return {'glorot': 2 / fans.sum(), 'he': 2 / fans, 'lecun': 1 / fans}[strategy]",
         "returned [0.006667, 0.02] (shape (2,)); it should return one number"),
        ("init_variance = 2 / 300", "should be a function"),
        # a slip only the hidden test sees: one-unit layers
        ("def init_variance(strategy, fan_in, fan_out):\n"
         "    if fan_in == 1:\n        return 1.0\n"
         "    return {'glorot': 2 / (fan_in + fan_out), 'he': 2 / fan_in, 'lecun': 1 / fan_in}[strategy]",
         'init_variance("he", 1, 1) = 1; expected 2'),
    ],
    "q3": [
        ("selu_init = 'lecun_normal'", "that is LeCun normal; the question asks for the uniform distribution"),
        ("selu_init = 'he_uniform'", "scale 2 is He's, for ReLU"),
        ("selu_init = keras.initializers.GlorotUniform()", "LeCun's σ² uses fan_in (fan_avg is Glorot's)"),
        ("selu_init = 'lecun uniform'", 'selu_init is the text "lecun uniform", not a Keras initializer'),
        ("selu_init = ['lecun_uniform']", "selu_init is a list, not a Keras initializer"),
        ("selu_init = keras.initializers.RandomUniform(-np.sqrt(3 / 784), np.sqrt(3 / 784))",
         "its range does not follow the layer's fans"),
        ("backward_he_init = 'he_normal'", "fan_in is the mode of he_normal, which keeps the forward signal"),
        ("backward_he_init = keras.initializers.VarianceScaling(scale=2., mode='fan_avg', distribution='uniform')",
         "fan_avg is the compromise of the slide"),
        ("backward_he_init = keras.initializers.VarianceScaling(1.0, 'fan_out')", "He's scale, for ReLU, is 2"),
        ("backward_he_init = keras.initializers.VarianceScaling(2.0, 'fan_out', 'uniform')",
         "the question asks for a normal distribution"),
        ("backward_he_init = 2 / 400", "backward_he_init is a float, not a Keras initializer"),
    ],
    "q4": [
        ("he_stds = he_stds[::-1]", "your list starts at the last hidden layer"),
        ("he_stds = [s.std for s in activation_stats(relu_nets['he_normal'], X_probe)]",
         "that counts the Flatten and the output layer too"),
        ("he_stds = [s.mean for s in activation_stats(relu_nets['he_normal'], X_probe) if s.activation == 'relu']",
         "those are the means of the outputs"),
        ("he_stds = hidden_stds(relu_nets['glorot_normal'])", "those are the stds of another network"),
        ("he_stds = 'he_normal'", "it should be numbers"),
        ("spread_ratios = [1 / r for r in spread_ratios]", "divide last by first"),          # the hidden test
        ("spread_ratios = spread_ratios[::-1]", "in the order of relu_nets"),
        ("spread_ratios = spread_ratios[:2]", "spread_ratios should be 3 numbers"),
        ("spread_ratios = [-r for r in spread_ratios]", "a ratio of two standard deviations is positive"),
        ("best_init = 'glorot_normal'", "with Glorot's σ² the spread shrinks at every layer"),
        ("best_init = 'unit_normal'", "the spread grows about √(100 · 1/2) ≈ 7 times per layer"),
        ("best_init = 2", "give the key of relu_nets as text"),
        ("best_init = relu_nets['he_normal']", "give the key of relu_nets as text"),
        ("best_init = 'He normal'", "the keys of relu_nets are"),
    ],
}
