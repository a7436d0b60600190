"""The training engine: seconds per epoch of the lecture's models, under each
Keras backend and training setting, measured side by side in one run.

    .venv/bin/python benchmarks/engine.py          # about 10 minutes on 2 cores
    .venv/bin/python benchmarks/engine.py --models selu100 --repeats 1

The models are the notebooks' own: the slide's BN model (04), 10 sigmoid
layers of 100 (01), 100 SELU layers of 100 with LeCun initialization (03), and
05's SimpleRNN on image rows. Each is trained with ``model.fit`` the way the
notebooks train it (SGD, batch 32, validation data each epoch) on a fifth of
the full profile's data (11,000 training and 1,000 validation images), for
``1 + repeats`` epochs; the first epoch (it compiles) is left out, and the
fastest of the others, times five, is the seconds per epoch of the full
profile (55,000 / 5,000 images). Settings: ``steps_per_execution`` and
``jit_compile`` (arguments of ``model.compile``), and "5 seeds side by side":
five copies of the model, each from its own seed and in its own order, trained
as one Keras model by ``lecture_utils.seeds.fit_seeds``, as notebooks 01-04
train their seeds (seconds per epoch per copy).

Each backend runs in a subprocess of its own (``KERAS_BACKEND`` is read when
Keras is imported), one after the other, never two at once. Writes
``benchmarks/engine.json``; ``benchmarks/bench.py`` shows it in REPORT.md
("Training engine"), with each setting's ratio to TensorFlow with Keras's defaults.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "engine.json"
FRACTION = 5                 # the data is a fifth of the full profile's
BATCH_SIZE = 32
SIDE_BY_SIDE = 5
# (backend, label, compile arguments, copies trained side by side)
SIDE = f"{SIDE_BY_SIDE} seeds side by side"
SETTINGS = [
    ("tensorflow", "default", {}, 1),
    ("tensorflow", "steps_per_execution=8", {"steps_per_execution": 8}, 1),
    ("tensorflow", "jit_compile=True", {"jit_compile": True}, 1),
    ("tensorflow", "steps_per_execution=8, jit_compile=True", {"steps_per_execution": 8, "jit_compile": True}, 1),
    ("tensorflow", f"{SIDE}, steps_per_execution=8", {"steps_per_execution": 8}, SIDE_BY_SIDE),
    ("tensorflow", f"{SIDE}, steps_per_execution=8, jit_compile=True",
     {"steps_per_execution": 8, "jit_compile": True}, SIDE_BY_SIDE),
    ("jax", "default", {}, 1),
    ("jax", "steps_per_execution=8", {"steps_per_execution": 8}, 1),
    ("jax", SIDE, {}, SIDE_BY_SIDE),
    ("jax", f"{SIDE}, steps_per_execution=8", {"steps_per_execution": 8}, SIDE_BY_SIDE),
]
# the ratios' base: Keras's defaults on the default backend
BASE_SETTING = ("tensorflow", "default")
# how notebooks 01-04 train their seeds (lecture_utils.seeds.fit_seeds)
NOTEBOOKS_SETTING = ("tensorflow", f"{SIDE}, steps_per_execution=8")
MODELS = {
    "bn": "the slide's BN model (04): BN, Dense 300, BN, Dense 100, BN, Dense 10",
    "sigmoid10": "10 sigmoid layers of 100 (01)",
    "selu100": "100 SELU layers of 100, LeCun normal (03)",
    "rnn": "SimpleRNN(64) on image rows (05)",
}


# ------------------------------------------------------------------ in the subprocess

def build(name: str):
    """The notebook's model ``name`` (see MODELS)."""
    import keras

    L = keras.layers
    if name == "bn":
        layers = [L.Flatten(), L.BatchNormalization(),
                  L.Dense(300, activation="relu", kernel_initializer="he_normal"), L.BatchNormalization(),
                  L.Dense(100, activation="relu", kernel_initializer="he_normal"), L.BatchNormalization()]
    elif name == "sigmoid10":
        layers = [L.Flatten()] + [L.Dense(100, activation="sigmoid") for _ in range(10)]
    elif name == "selu100":
        layers = [L.Flatten(), L.Dense(300, activation="selu", kernel_initializer="lecun_normal")]
        layers += [L.Dense(100, activation="selu", kernel_initializer="lecun_normal") for _ in range(99)]
    elif name == "rnn":
        layers = [L.SimpleRNN(64, activation="relu", recurrent_initializer=keras.initializers.Orthogonal(gain=1.5))]
    else:
        raise ValueError(f"unknown model {name!r}; valid: {', '.join(MODELS)}")
    return keras.Sequential([keras.Input(shape=(28, 28))] + layers + [L.Dense(10, activation="softmax")])


def seconds_per_epoch(name: str, options: dict, copies: int, data, repeats: int) -> float:
    """Full-profile seconds per epoch of model ``name`` (per copy)."""
    import keras

    from lecture_utils.seeds import fit_seeds

    X, y, Xv, yv = data
    times = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    if copies > 1:   # as the notebooks train their seeds
        fit_seeds(lambda: build(name), range(42, 42 + copies), X, y, epochs=1 + repeats, batch_size=BATCH_SIZE,
                  validation_data=(Xv, yv), callbacks=[Clock()], **options)
    else:
        keras.utils.set_random_seed(42)
        model = build(name)
        model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.SGD(learning_rate=1e-3),
                      metrics=["accuracy"], **options)
        model.fit(X, y, epochs=1 + repeats, batch_size=BATCH_SIZE, validation_data=(Xv, yv), verbose=0,
                  callbacks=[Clock()])
    return min(times[1:]) * FRACTION / copies


def child(backend: str, models: list[str], repeats: int) -> list[dict]:
    import keras

    from lecture_utils.data import load_fashion_mnist
    from lecture_utils.profile import get_profile

    assert keras.backend.backend() == backend, (keras.backend.backend(), backend)
    full = load_fashion_mnist(get_profile("full"))
    n, nv = len(full.X_train) // FRACTION, len(full.X_valid) // FRACTION
    data = (full.X_train[:n], full.y_train[:n], full.X_valid[:nv], full.y_valid[:nv])
    rows = []
    for name in models:
        for b, label, options, copies in SETTINGS:
            if b != backend:
                continue
            seconds = seconds_per_epoch(name, options, copies, data, repeats)
            rows.append({"model": name, "backend": backend, "setting": label, "copies": copies,
                         "s_per_epoch": round(seconds, 3)})
            print(f"[engine] {name:<9} {backend:<10} {label:<48} {seconds:6.2f} s/epoch", file=sys.stderr,
                  flush=True)
    return rows


# ------------------------------------------------------------------ the run

def ratios(rows: list[dict]) -> list[dict]:
    """Each row with its ratio to ``BASE_SETTING`` for the same model
    (above 1: slower than Keras's defaults on the default backend)."""
    base = {r["model"]: r["s_per_epoch"] for r in rows if (r["backend"], r["setting"]) == BASE_SETTING}
    return [dict(r, ratio=round(r["s_per_epoch"] / base[r["model"]], 3) if r["model"] in base else None)
            for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--repeats", type=int, default=2, help="epochs timed after the first (default 2)")
    parser.add_argument("--child", choices=["tensorflow", "jax"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    if args.child:
        print(json.dumps(child(args.child, args.models, args.repeats)))
        return 0
    rows = []
    start = time.perf_counter()
    for backend in dict.fromkeys(b for b, *_ in SETTINGS):
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        proc = subprocess.run([sys.executable, __file__, "--child", backend, "--models", *args.models,
                               "--repeats", str(args.repeats)], env=env, cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, check=True)
        rows += json.loads(proc.stdout.strip().splitlines()[-1])
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench import machine

    data = {"machine": machine(), "fraction": FRACTION, "batch_size": BATCH_SIZE, "repeats": args.repeats,
            "base_setting": list(BASE_SETTING), "notebooks_setting": list(NOTEBOOKS_SETTING), "models": MODELS,
            "seconds": round(time.perf_counter() - start), "load_average_1min_at_end": round(os.getloadavg()[0], 2),
            "rows": ratios(rows)}
    OUT.write_text(json.dumps(data, indent=1))
    print(f"[engine] wrote {OUT.relative_to(ROOT)} ({data['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
