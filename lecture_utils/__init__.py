"""lecture_utils: the helpers of the course "Training deep networks".

One module per concern (see docs): ``data`` (Fashion-MNIST, verified),
``profile`` (full/fast, seeding, environment report), ``grads`` (per-layer
gradients on any Keras backend), ``diagnostics`` (per-layer statistics),
``plots`` (figures). Import the module you need; importing the package
itself is cheap and does not import Keras.
"""
import os

# TensorFlow's C++ start-up chatter (CPU feature notes, CUDA probing) is noise in a lecture.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
