"""The explorers on screen, in JupyterLab and headless Chromium: this tree
against the explorers before they were rebuilt (commit OLD, in a temporary
git worktree), measured in one run, one after the other, on the same machine.

    .venv/bin/python benchmarks/browser_latency.py [--old COMMIT] [--changes 20]

For each explorer: 3 warm-up then 20 one-step changes (input event to new
figure painted), median and p95; and a drag of 20 steps in one second (when
the last frame is painted after the last step). The measurement is
tests/jupyterlab_driver.measure_explorer, the one tests/test_browser.py
asserts on. Writes benchmarks/browser_latency.json, which ``make bench``
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

from jupyterlab_driver import LabServer, find_explorers, measure_explorer  # noqa: E402

#: the last commit with the explorers of lecture_utils/widgets.py (interactive_output, a new figure per change)
OLD = "9de6cf8"
TARGETS = {"median_s": 0.15, "p95_s": 0.25, "settle_s": 0.3}
OUT = ROOT / "benchmarks" / "browser_latency.json"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def measure_tree(tree: Path, context, workdir: Path, n_changes: int, env: dict | None = None) -> list[dict]:
    rows = []
    with LabServer(tree / "notebooks", workdir, env=env) as lab:
        for explorer in find_explorers(tree / "notebooks"):
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", default=OLD, help="the commit of the old explorers (default %(default)s)")
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    result = {"old_commit": args.old, "targets": TARGETS, "changes": args.changes,
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                       text=True).stdout.strip(),
              "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        old = tmp / "old"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), args.old], cwd=ROOT, check=True,
                       capture_output=True)
        playwright = sync_playwright().start()
        try:
            context = playwright.chromium.launch_persistent_context(
                str(tmp / "profile"), executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1600, "height": 1200})
            context.set_default_timeout(60_000)
            start = time.monotonic()
            print("[browser] this tree", flush=True)
            result["new"] = measure_tree(ROOT, context, tmp / "lab-new", args.changes)
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
