# Training deep networks -- the course package.
#   make lab    create .venv if needed, install, open JupyterLab on notebook 00
#   make test   the same set-up, then the whole test suite (fast profile,
#               TensorFlow; then the unit tests and notebooks again under JAX;
#               then the on-screen timing tests alone)
#   make execute  re-run the notebooks in the full profile and save their outputs
#               (the explorers' outputs keep their picture, not the widget: tools/explorer_pictures.py)
#   make explorer-pictures  re-run only the explorer cells (and what they need), full profile
#   make exercises  generate exercises/ and build/autograder/ from solutions/
#               (lecture-utils build-exercises; FORCE=1 replaces edited exercise notebooks)
#   make site   the course as a static website in build/site (tools/build_site.py:
#               the committed notebooks, not re-run; nothing downloaded)
#   make bench  run every notebook (full and fast profiles, TF and JAX) and write
#               benchmarks/REPORT.md (40-70 min on 2 cores, by the hour)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= dev,jax,site,cluster
STAMP := $(VENV)/.installed
# jupyter refuses to run as root unless told to (containers, CI)
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_ARGS ?=
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: venv lab test execute explorer-pictures exercises site bench clean

venv: $(STAMP)

# uv (from PyPI, into the venv) installs the same packages as pip, in parallel, and
# byte-compiles them (with PYTHONDONTWRITEBYTECODE set, as in CI, nothing else would:
# every process would compile TensorFlow again); benchmarks/TESTS.md has the times
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e ".[$(EXTRAS)]"
	touch $@

lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(ROOT_FLAG) --ServerApp.root_dir="$(CURDIR)" $(LAB_ARGS) notebooks/00_start_here.ipynb

# make test: TensorFlow, then the unit tests and notebooks again under JAX, each
# on TEST_JOBS processes side by side (pytest-xdist; a file's tests stay in one,
# so a notebook keeps its kernel); then the tests that time what is on screen
# (marked timing), alone, so that nothing else competes with them for the CPU
TEST_JOBS ?= 2
XDIST := -n $(TEST_JOBS) --dist loadfile
# the files with timing tests: collecting only those spares the last pass ~13 s of
# collecting (and importing) everything else to deselect it (found when make test runs)
TIMING_FILES = $(shell grep -l "pytest.mark.timing" tests/*.py)

test: $(STAMP)
	KERAS_BACKEND=tensorflow $(PY) -m pytest $(XDIST) -m "not timing" $(PYTEST_ARGS)
	KERAS_BACKEND=jax $(PY) -m pytest $(XDIST) tests/unit notebooks $(PYTEST_ARGS)
	KERAS_BACKEND=tensorflow $(PY) -m pytest -m timing $(TIMING_FILES) $(PYTEST_ARGS)

execute: $(STAMP)
	for nb in notebooks/*.ipynb $(wildcard solutions/*.ipynb); do \
	  LECTURE_PROFILE=full $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=1800 "$$nb" || exit 1; \
	done
	$(PY) tools/explorer_pictures.py --strip notebooks/*.ipynb

explorer-pictures: $(STAMP)
	$(PY) tools/explorer_pictures.py --refresh notebooks/*.ipynb

exercises: $(STAMP)
	$(VENV)/bin/lecture-utils build-exercises $(if $(FORCE),--force,)

site: $(STAMP)
	$(PY) tools/build_site.py

bench: $(STAMP)
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
