"""The interactive explorers, one module each, and what they share.

Each explorer module holds three pieces:

- ``compute_x(...) -> result``: a pure function of the controls' values (and
  the data it is given), unit-tested;
- a view class that draws a result into two axes and updates its artists in
  place (``plots.plot_x`` draws the same view once, for static figures);
- ``explore_x(...)``: the controls, wired through :class:`.live.Explorer`
  (persistent figure, coalesced updates, presets, the Keras code of what is
  shown, a static picture in saved notebooks).

:mod:`.training` is the exception: its compute function trains a Keras model,
frame after frame, while Play is on (:class:`.training.TrainingRun`).

:mod:`.mlp` is the NumPy MLP the gradient-flow explorer computes on;
:mod:`.live` the machinery every explorer shares.
"""

from .activation import (ACTIVATION_FUNCTIONS, HYPERPARAMETERS, ActivationCurve, activation_and_derivative,
                         compute_activation, explore_activation)
from .batch_stats import BATCH_SIZES, BatchStats, compute_batch_stats, explore_batch_stats
from .clipping import Clipping, clip_with_optimizer, compute_clipping, explore_clipping
from .gradient_flow import compute_gradient_flow, explore_gradient_flow
from .initializer import (DISTRIBUTIONS, MODES, STRATEGIES, InitializerSample, compute_initializer,
                          explore_initializer, theoretical_density, variance_scaling_variance)
from .mlp import (ACTIVATIONS, INITIALIZERS, SELU_ALPHA, SELU_SCALE, GradientFlow, init_mlp, init_std,
                  mlp_gradient_flow)
from .training import TrainingHistory, TrainingRun, compute_training, explore_training
from .transfer import TransferChoice, compute_transfer, explore_transfer

__all__ = [name for name in dir() if not name.startswith("_") and name not in {
    "activation", "batch_stats", "clipping", "gradient_flow", "initializer", "mlp", "training", "transfer",
    "live"}]
