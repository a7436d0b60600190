"""Profiles (full / fast), seeding, and the environment report.

``LECTURE_PROFILE=full`` (the default) is the lecture as taught: the full
Fashion-MNIST splits and the epochs and seeds of the lecture. ``fast`` is a
stratified subset and fewer epochs and seeds, so that a notebook runs in well
under a minute on two CPU cores (the tests use it). Notebooks read sizes and
epochs from the profile object, never from ``if fast:`` branches.

``LECTURE_SEEDS=7,8,9,10,11`` (any list of non-negative whole numbers) replaces
the profile's seeds: every comparison runs over those, and every one-seed
demonstration uses the first of them, so that a notebook's claims can be
checked on seeds they were not written from.

Introduced in ``notebooks/00_start_here.ipynb``.
"""

from __future__ import annotations

import dataclasses
import os
import platform

ENV_VAR = "LECTURE_PROFILE"
SEEDS_VAR = "LECTURE_SEEDS"


def _capped(name: str, value: int, cap: int | None) -> int:
    """``value``, or ``cap`` if that is smaller (no cap: None); ValueError below 1."""
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value if cap is None else min(value, cap)


@dataclasses.dataclass(frozen=True)
class Profile:
    """Sizes and budgets a notebook reads.

    Attributes:
        name: ``"full"`` or ``"fast"``.
        n_train, n_valid, n_test: sizes of the splits
            (:func:`lecture_utils.data.load_fashion_mnist` cuts to them).
        max_epochs: the most epochs any training run gets; see :meth:`epochs`.
        seeds: the seeds a chance-dependent comparison is repeated over.
        max_depth: the most hidden layers a "very deep" network gets; see :meth:`depth`.
        max_steps: the most training steps a run counted in steps gets
            (notebook 07's live-training runs); see :meth:`steps`.
        batch_size: the mini-batch size used for training.
    """

    name: str
    n_train: int
    n_valid: int
    n_test: int
    max_epochs: int | None
    seeds: tuple
    max_depth: int | None = None
    batch_size: int = 32
    max_steps: int | None = None

    def epochs(self, lecture_epochs: int) -> int:
        """The number of epochs for a run the lecture trains for ``lecture_epochs``:
        that number in the full profile, at most ``max_epochs`` in the fast one."""
        return _capped("lecture_epochs", lecture_epochs, self.max_epochs)

    def depth(self, lecture_depth: int) -> int:
        """The number of hidden layers for a network the lecture makes
        ``lecture_depth`` deep: that number in the full profile, at most
        ``max_depth`` in the fast one."""
        return _capped("lecture_depth", lecture_depth, self.max_depth)

    def steps(self, lecture_steps: int) -> int:
        """The number of training steps for a run the lecture trains for
        ``lecture_steps`` steps: that number in the full profile, at most
        ``max_steps`` in the fast one."""
        return _capped("lecture_steps", lecture_steps, self.max_steps)

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)


PROFILES = {
    "full": Profile("full", n_train=55_000, n_valid=5_000, n_test=10_000,
                    max_epochs=None, seeds=(42, 43, 44, 45, 46)),
    "fast": Profile("fast", n_train=5_000, n_valid=1_000, n_test=1_000,
                    max_epochs=2, seeds=(42, 43), max_depth=20, max_steps=200),
}


def parse_seeds(text: str) -> tuple:
    """``"7, 8,9"`` -> ``(7, 8, 9)``: distinct non-negative whole numbers, one or more.

    Raises:
        ValueError: saying which item is wrong and what is valid.
    """
    example = f"e.g. {SEEDS_VAR}=7,8,9,10,11"
    items = [item.strip() for item in str(text).split(",")]
    if not any(items):
        raise ValueError(f"{SEEDS_VAR}={text!r} names no seed: give one or more non-negative whole numbers "
                         f"separated by commas ({example})")
    seeds = []
    for item in items:
        if not item.isdigit() or not item.isascii():
            what = "an empty item" if not item else repr(item)
            raise ValueError(f"{SEEDS_VAR}={text!r}: {what} is not a seed; seeds are non-negative whole numbers "
                             f"separated by commas ({example})")
        if int(item) in seeds:
            raise ValueError(f"{SEEDS_VAR}={text!r}: seed {int(item)} is given twice; each seed once ({example})")
        seeds.append(int(item))
    return tuple(seeds)


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``, or the one ``$LECTURE_PROFILE`` names
    (``full`` when unset); its seeds replaced by ``$LECTURE_SEEDS`` where that is set.

    Raises:
        ValueError: an unknown name, or seeds that are not a list of
            non-negative whole numbers; the message says what is valid.
    """
    if name is None:
        name = os.environ.get(ENV_VAR, "").strip() or "full"
        origin = f"{ENV_VAR}={name!r}"
    else:
        origin = f"profile {name!r}"
    key = name.strip().lower()
    if key not in PROFILES:
        raise ValueError(f"Unknown {origin}: valid profiles are "
                         + ", ".join(repr(p) for p in PROFILES) + ".")
    seeds = os.environ.get(SEEDS_VAR)
    if seeds is not None and seeds.strip():
        return dataclasses.replace(PROFILES[key], seeds=parse_seeds(seeds))
    return PROFILES[key]


def seed_everything(seed: int = 42, deterministic: bool = True) -> None:
    """Seed Python, NumPy and the Keras backend (``keras.utils.set_random_seed``),
    and, where the backend offers it, make its operations deterministic
    (TensorFlow's op determinism; JAX is deterministic on CPU already; for
    PyTorch ``torch.use_deterministic_algorithms``).

    Args:
        seed: a non-negative integer.
        deterministic: also switch on deterministic ops.

    Raises:
        ValueError: the seed is not a non-negative integer.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    import keras

    keras.utils.set_random_seed(seed)
    if not deterministic:
        return
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif backend == "torch":
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)


# --------------------------------------------------------------------------
# The environment report.

def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_description() -> str:
    """``"GPU: <name>"`` for the first accelerator the Keras backend sees, else
    ``"CPU: <model> (<n> cores)"``."""
    import keras

    backend = keras.backend.backend()
    gpus: list = []
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = [tf.config.experimental.get_device_details(d).get("device_name", d.name)
                    for d in tf.config.list_physical_devices("GPU")]
        elif backend == "jax":
            import jax

            gpus = [d.device_kind for d in jax.devices() if d.platform != "cpu"]
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # a broken driver should not break the report
        gpus = []
    if gpus:
        more = f" (+{len(gpus) - 1} more)" if len(gpus) > 1 else ""
        return f"GPU: {gpus[0]}{more}"
    return f"CPU: {_cpu_name()} ({os.cpu_count()} cores)"


def environment(profile: Profile | None = None, check_data: bool = True) -> dict:
    """The facts of the environment report, as a dict of strings."""
    import keras

    from . import data

    backend = keras.backend.backend()
    backend_module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend, backend)
    try:
        backend_version = __import__(backend_module).__version__
    except Exception:
        backend_version = "?"
    profile = profile or get_profile()
    facts = {
        "Python": platform.python_version(),
        "Keras": keras.__version__,
        "Backend": f"{backend} {backend_version}",
        "Device": device_description(),
        "Profile": (f"{profile.name} (train/valid/test {profile.n_train:,}/{profile.n_valid:,}/"
                    f"{profile.n_test:,}, {profile.n_seeds} seeds)"),
    }
    if profile.seeds != PROFILES[profile.name].seeds:
        facts["Seeds"] = f"{', '.join(map(str, profile.seeds))} (from {SEEDS_VAR}; the profile's are " \
                         f"{', '.join(map(str, PROFILES[profile.name].seeds))})"
    if check_data:
        source = data.find_source()
        if source is None:
            facts["Data"] = "NOT FOUND (run `lecture-utils fetch-data`; see notebook 00)"
        else:
            try:
                data.verify(source)
                verdict = "all 4 files verified (sha256)"
            except data.DataError as exc:
                verdict = "DAMAGED: " + str(exc).splitlines()[0]
            facts["Data"] = f"{source.kind}: {source.path} -- {verdict}"
    return facts


def environment_report(profile: Profile | None = None, check_data: bool = True) -> str:
    """The report for the first cell of every notebook, as printable text:
    Python, Keras and backend versions, the device, the profile, the data
    source and its verdict."""
    facts = environment(profile, check_data)
    width = max(map(len, facts))
    return "\n".join(f"{k:<{width}} : {v}" for k, v in facts.items())


def _import_keras_quietly() -> None:
    """Import Keras (and so its backend) with the process's native stderr
    silenced: TensorFlow writes start-up lines there before its own logging
    settings apply. Python errors still surface as exceptions."""
    import sys

    if "keras" in sys.modules:
        return
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (some embedded interpreters)
        import keras  # noqa: F401
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _NoRetracingWarnings:
    """A logging filter: TensorFlow's "N out of the last M calls to <function …>
    triggered tf.function retracing" warning. A notebook that trains a new model
    per seed (notebook 07's stories) retraces by design; the warning would land in
    the middle of the student's output and says nothing about the lecture."""

    def filter(self, record) -> bool:
        try:
            return "triggered tf.function retracing" not in record.getMessage()
        except Exception:  # a record that cannot format itself: let logging report it
            return True


def quiet_retracing_warnings() -> None:
    """Drop TensorFlow's retracing warnings (only those) from its logger; once a process."""
    import logging

    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _NoRetracingWarnings) for f in logger.filters):
        logger.addFilter(_NoRetracingWarnings())


def setup_notebook(seed: int | None = None) -> Profile:
    """The first cell of every notebook: print the environment report, seed
    everything (with ``seed``, by default the profile's first seed: 42, or the
    first of ``$LECTURE_SEEDS``) and return the profile. Figures get a
    readable default size and the course's colours (:mod:`lecture_utils.palette`)."""
    profile = get_profile()
    _import_keras_quietly()
    quiet_retracing_warnings()
    print(environment_report(profile))
    seed_everything(profile.seeds[0] if seed is None else seed)
    try:
        import matplotlib as mpl

        from . import palette

        mpl.rcParams.update({"figure.figsize": (8, 4.5), "figure.dpi": 100,
                             "axes.titlesize": 13, "axes.labelsize": 12,
                             "axes.grid": True, "grid.alpha": 0.3})
        palette.apply()   # colours a colour-blind student tells apart, a line style per series
    except ImportError:
        pass
    return profile
