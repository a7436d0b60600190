#!/usr/bin/env bash
# One run on a GPU machine that has JAX with CUDA but no TensorFlow and no internet
# (the device machine of ../shared/tools/gpu-prep.sh). Prepare here first:
#   ../shared/tools/gpu-prep.sh nbconvert otter-grader
#   rm -f .whl/playwright-* .whl/greenlet-* .whl/sphinx* .whl/babel-* .whl/docutils-* \
#         .whl/alabaster-* .whl/imagesize-* .whl/snowballstemmer-* .whl/roman_numerals-* .whl/ipykernel-7*
#   python3 -m pip download --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 \
#         --no-deps -d .whl "ipykernel>=6.29,<7"      # (ipykernel 7 hangs nbconvert; the rest keeps it under 64 MiB)
# then, on the GPU machine, carrying .whl and .data:
#   BUDGET=560 bash benchmarks/gpu_run.sh [NOTEBOOK ...]     # e.g. 05 06; default: all of notebooks/
# Side by side until BUDGET seconds are spent:
#  (a) the notebooks in the FULL profile with KERAS_BACKEND=jax (benchmarks/bench.py --runs full-jax);
#  (b) nbval (fast profile) over solutions/ and exercises/ with KERAS_BACKEND=jax.
# Everything comes back in $OUT: gpu.txt, nbval.log, bench.log and gpu-full-jax.tgz (build/gpu/full-jax:
# add it to the report here with `python benchmarks/bench.py --report-only --gpu build/gpu/full-jax`).
cd "$(dirname "$0")/.." || exit 1
: "${OUT:?set OUT to the folder the results go to}"
t0=$(date +%s)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
  .whl/*.whl > "$OUT/pip.log" 2>&1 || { tail "$OUT/pip.log"; exit 1; }
export PYTHONPATH=/tmp/site:$PWD PATH=/tmp/site/bin:$PATH
export KERAS_BACKEND=jax FASHION_MNIST_DIR=$PWD/.data/fashion-mnist XLA_PYTHON_CLIENT_PREALLOCATE=false \
  TF_CPP_MIN_LOG_LEVEL=3
echo "installed in $(( $(date +%s) - t0 )) s"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -c "import jax, keras; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__)" \
  2>&1 | tail -1 | tee -a "$OUT/gpu.txt"
mkdir -p build/gpu/full-jax
python3 - <<'PY'
import json, subprocess, jax
name = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                      capture_output=True, text=True).stdout.strip()
json.dump({"name": name, "jax": jax.__version__, "devices": [str(d) for d in jax.devices()]},
          open("build/gpu/full-jax/device.json", "w"))
PY
left=$(( ${BUDGET:-560} - ($(date +%s) - t0) ))
notebooks=(); [ $# -gt 0 ] && notebooks=(--notebooks "$@")
(timeout $left python3 benchmarks/bench.py --runs full-jax --out build/gpu --no-report "${notebooks[@]}" \
   > "$OUT/bench.log" 2>&1; echo "bench rc=$?" >> "$OUT/bench.log") &
timeout $(( left - 20 )) python3 -m pytest -v --nbval-lax solutions exercises -p no:cacheprovider --durations=12 \
  > "$OUT/nbval.log" 2>&1; echo "nbval rc=$?" >> "$OUT/nbval.log"
wait
tail -3 "$OUT/nbval.log"; cat "$OUT/bench.log"
tar czf "$OUT/gpu-full-jax.tgz" -C build/gpu full-jax
echo "total $(( $(date +%s) - t0 )) s"
