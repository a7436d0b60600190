"""Test-wide settings. Notebook kernels that nbval starts inherit this
environment, so the notebooks run in the fast profile unless told otherwise."""
import os

os.environ.setdefault("LECTURE_PROFILE", "fast")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
