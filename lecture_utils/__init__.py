"""lecture_utils: the helpers of the course "Training deep networks".

One module per concern (see docs): ``data`` (Fashion-MNIST, verified),
``profile`` (full/fast, seeding, environment report), ``grads`` (per-layer
gradients on any Keras backend), ``diagnostics`` (per-layer statistics),
``plots`` (figures), ``explorers`` (the interactive explorers), ``transfer``
(model B on A, the freeze-then-unfreeze recipe, the transfer grid),
``seeds`` (a model trained over several seeds, the copies side by side),
``results`` (headline results recorded for the reproduction report),
``checks`` (the comparisons the exercises' tests make), ``exercises`` and
``grading`` (``lecture-utils build-exercises`` and ``grade``). Import
the module you need; importing the package itself is cheap and does not
import Keras.
"""
import os

# TensorFlow's C++ log lines (CPU feature notes, "failed call to cuInit" on every
# machine without a GPU) are noise in a lecture; its errors still raise Python
# exceptions. The device in use is in the environment report instead.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"
