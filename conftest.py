"""Test-wide settings. Notebook kernels that nbval starts inherit this
environment, so the notebooks run in the fast profile unless told otherwise."""
import atexit
import os
import shutil
import tempfile

os.environ.setdefault("LECTURE_PROFILE", "fast")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

# Under JAX, XLA compiles every new model's training step, and a model trained again from
# another seed (or built again by another test) is the same program: one compilation cache
# for the run lets each program compile once (what runs is the same compiled program). It
# is fresh for every run (each program's first compilation is still paid and tested) and
# shared by the pytest-xdist workers and the notebook kernels, which inherit the environment.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="lecture-tests-jax-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)
