"""The explorers on screen, in JupyterLab and headless Chromium: this tree
against the explorers before they were rebuilt (commit OLD, in a temporary
git worktree), measured in one run, one after the other, on the same machine.

    .venv/bin/python benchmarks/browser_latency.py [--old COMMIT] [--changes 20]

For each explorer: 3 warm-up then 20 one-step changes (input event to new
figure painted), median and p95; and a drag of 20 steps in one second (when
the last frame is painted after the last step). The measurement is
tests/jupyterlab_driver.measure_explorer, the one tests/test_browser.py
asserts on. The training explorer (this tree only: it is new): frames and
training steps a second while playing, beside the same network trained by a
bare ``train_on_batch`` loop in a kernel of its own. Writes benchmarks/browser_latency.json, which ``make bench``
puts in REPORT.md. About 8 minutes on 2 cores. Needs Debian's chromium.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from jupyterlab_driver import LabServer, find_explorers, measure_explorer, measure_training  # noqa: E402

#: the last commit with the explorers of lecture_utils/widgets.py (interactive_output, a new figure per change)
OLD = "9de6cf8"
TARGETS = {"median_s": 0.15, "p95_s": 0.25, "settle_s": 0.3, "fps": 5.0, "steps_per_frame": 20}
OUT = ROOT / "benchmarks" / "browser_latency.json"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def measure_tree(tree: Path, context, workdir: Path, n_changes: int, env: dict | None = None) -> list[dict]:
    rows = []
    with LabServer(tree / "notebooks", workdir, env=env) as lab:
        for explorer in find_explorers(tree / "notebooks"):
            if explorer.function == "explore_training":  # it plays: measure_training
                continue
            page = context.new_page()
            try:
                row = measure_explorer(page, lab, explorer, n_changes=n_changes)
            finally:
                page.close()
                lab.shutdown_kernels()
            row.pop("final_status", None)
            rows.append(row)
            print(f"  {explorer.name}: median {row['median_s']:.3f} s, p95 {row['p95_s']:.3f} s, "
                  f"drag settled in {row['drag']['settle_s']:.3f} s ({row['drag']['frames']} frames)", flush=True)
    return rows


def measure_training_tree(context, workdir: Path) -> list[dict]:
    """The training explorer of this tree: frames a second and steps a second
    while playing (tests/jupyterlab_driver.measure_training)."""
    rows = []
    with LabServer(ROOT / "notebooks", workdir) as lab:
        for explorer in find_explorers(ROOT / "notebooks"):
            if explorer.function != "explore_training":
                continue
            page = context.new_page()
            try:
                row = measure_training(page, lab, explorer, play_s=10.0)
            finally:
                page.close()
                lab.shutdown_kernels()
            rows.append({k: v for k, v in row.items() if k in (
                "notebook", "fps", "frames", "seconds", "steps", "steps_per_s", "steps_per_frame",
                "frames_after_pause")}
                        | {"network": row["start"]["values"]})
            print(f"  {explorer.name}: {row['fps']:.1f} frames/s, {row['steps_per_s']:.0f} steps/s", flush=True)
    return rows


PLAIN_TRAINING = """
import json, time, numpy as np
from lecture_utils.data import load_fashion_mnist
from lecture_utils.profile import get_profile
from lecture_utils.explorers import training
d = load_fashion_mnist(get_profile("fast"), allow_download=False)
model = training.build_model(training.DEFAULTS, d.X_train.shape[1:])
rng = np.random.default_rng(0)
def steps(n):
    for _ in range(n):
        i = rng.choice(len(d.X_train), 32, replace=False)
        model.train_on_batch(d.X_train[i], d.y_train[i])
steps(50)
start = time.perf_counter(); steps(1000); seconds = time.perf_counter() - start
print(json.dumps({"steps_per_s": 1000 / seconds, "network": training.DEFAULTS}))
"""


def plain_training() -> dict:
    """The explorer's starting network trained by a bare train_on_batch loop
    (no measuring, no drawing, no browser): the speed the explorer is up against."""
    env = dict(os.environ, LECTURE_PROFILE="fast", KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", PLAIN_TRAINING], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _browser(playwright, chromium: str, tmp: Path):
    """Headless Chromium with a fresh profile in ``tmp``, as tests/test_browser.py starts it."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp / "profile"), executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1600, "height": 1200})
    context.set_default_timeout(60_000)
    return context


def _git_head() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()


def training_only(out: Path, chromium: str, sync_playwright) -> int:
    """Measure the training explorer and the bare loop, one after the other,
    into ``out`` (the explorers' measurements already there are kept)."""
    result = json.loads(out.read_text()) if out.exists() else {"targets": TARGETS, "cpus": os.cpu_count()}
    result["targets"] = {**result.get("targets", {}), **TARGETS}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        playwright = sync_playwright().start()
        try:
            context = _browser(playwright, chromium, tmp)
            print("[browser] the training explorer, playing", flush=True)
            result["training"] = measure_training_tree(context, tmp / "lab-training")
            context.close()
        finally:
            playwright.stop()
    result["plain_training"] = plain_training()
    result["training_commit"] = _git_head()
    result["training_load_average_1min"] = round(os.getloadavg()[0], 2)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"[browser] wrote {out}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", default=OLD, help="the commit of the old explorers (default %(default)s)")
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--training-only", action="store_true",
                        help="measure only the training explorer (and the bare loop); keep the rest of --out")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if args.training_only:
        return training_only(args.out, chromium, sync_playwright)
    result = {"old_commit": args.old, "targets": TARGETS, "changes": args.changes,
              "commit": _git_head(),
              "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        old = tmp / "old"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), args.old], cwd=ROOT, check=True,
                       capture_output=True)
        playwright = sync_playwright().start()
        try:
            context = _browser(playwright, chromium, tmp)
            start = time.monotonic()
            print("[browser] this tree", flush=True)
            result["new"] = measure_tree(ROOT, context, tmp / "lab-new", args.changes)
            print("[browser] the training explorer, playing", flush=True)
            result["training"] = measure_training_tree(context, tmp / "lab-training")
            result["plain_training"] = plain_training()
            result["training_commit"] = result["commit"]
            print(f"[browser] the old explorers ({args.old})", flush=True)
            # the old tree's lecture_utils, not the installed one, in its kernels
            result["old"] = measure_tree(old, context, tmp / "lab-old", args.changes, env={"PYTHONPATH": str(old)})
            result["seconds"] = time.monotonic() - start
            result["load_average_1min"] = round(os.getloadavg()[0], 2)
            context.close()
        finally:
            playwright.stop()
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, capture_output=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"[browser] wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
