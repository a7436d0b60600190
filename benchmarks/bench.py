"""The reproduction and performance report: ``make bench``.

    .venv/bin/python benchmarks/bench.py                 # everything (40-70 min on 2 cores, by the hour)
    .venv/bin/python benchmarks/bench.py --runs fast-tensorflow --notebooks 05 06
    .venv/bin/python benchmarks/bench.py --report-only   # rebuild the report from earlier runs

With ``--notebooks`` or ``--report-only``, what is not re-run (other notebooks,
the widget latency, the start-up times) is kept from ``benchmarks/report.json``.

Runs every notebook of ``notebooks/`` in the full profile (TensorFlow) and in
the fast profile (TensorFlow and JAX), each in its own kernel through
``jupyter nbconvert --execute``, timing the notebook and each cell; the
notebooks record their headline results with ``lecture_utils.results.record``.
Then it measures the explorers' latency and the start-up times and writes
``benchmarks/REPORT.md`` and ``benchmarks/report.json``. The executed
notebooks and results stay in ``build/bench/<run>/``.

A run made elsewhere (e.g. the full profile with ``KERAS_BACKEND=jax`` on a GPU
machine: ``--runs full-jax --out build/gpu``) is added to the report with
``--gpu build/gpu/full-jax``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = ("full-tensorflow", "fast-tensorflow", "fast-jax")
NOTEBOOK_TIMEOUT_S = 3600   # a kernel that hangs after the last cell does not stop the bench
TARGETS = {"full": 600.0, "fast": 60.0, "latency_p95": 300.0, "import": 1.0}


# ---------------------------------------------------------------- running notebooks

def _seconds(start: str, end: str) -> float:
    parse = dt.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def cell_times(notebook: dict) -> list[dict]:
    """Each executed code cell's duration (nbclient's timing metadata) and first line."""
    out = []
    for i, cell in enumerate(notebook["cells"]):
        timing = cell.get("metadata", {}).get("execution", {})
        if cell["cell_type"] == "code" and "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            source = "".join(cell["source"]).strip().splitlines()
            first = next((line for line in source if not line.startswith("# NBVAL")), "")
            out.append({"cell": i, "seconds": _seconds(timing["iopub.execute_input"],
                                                       timing["shell.execute_reply"]),
                        "first_line": first[:70]})
    return out


def run_notebook(path: Path, run: str, out: Path) -> dict:
    """Execute one notebook for ``run`` ("<profile>-<backend>"); return its timing."""
    profile, backend = run.split("-", 1)
    folder = out / run
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, LECTURE_PROFILE=profile, KERAS_BACKEND=backend,
               LECTURE_RESULTS_DIR=str(folder / "results"), TF_CPP_MIN_LOG_LEVEL="3")
    executed = folder / path.name
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                               "--ExecutePreprocessor.timeout=3600", "--output", str(executed.resolve()),
                               str(path)], env=env, capture_output=True, text=True, cwd=ROOT,
                              timeout=NOTEBOOK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc = subprocess.CompletedProcess([], returncode=-1, stderr=f"stopped after {NOTEBOOK_TIMEOUT_S} s")
    seconds = time.perf_counter() - start
    # the load average shows whether something else competed for the cores meanwhile
    entry = {"notebook": path.stem, "run": run, "seconds": seconds, "ok": proc.returncode == 0,
             "load_average_1min_at_end": round(os.getloadavg()[0], 2),
             "date": dt.date.today().isoformat(), "commit": _commit(), "cpu": _cpu()}
    if proc.returncode != 0:
        entry["error"] = proc.stderr.strip().splitlines()[-1:] or ["(no message)"]
    elif executed.exists():
        cells = cell_times(json.loads(executed.read_text()))
        entry["cells"] = len(cells)
        entry["slowest_cell"] = max(cells, key=lambda c: c["seconds"]) if cells else None
    return entry


def run_all(runs, notebooks, out: Path) -> None:
    for run in runs:
        timing_file = out / run / "timing.json"
        timings = json.loads(timing_file.read_text()) if timing_file.exists() else {}
        for path in notebooks:
            print(f"[bench] {run}: {path.name} ...", end=" ", flush=True)
            entry = run_notebook(path, run, out)
            print(f"{entry['seconds']:.0f} s" + ("" if entry["ok"] else f"  FAILED: {entry['error'][0]}"),
                  flush=True)
            timings[path.stem] = entry
            timing_file.write_text(json.dumps(timings, indent=1))


# ---------------------------------------------------------------- other measurements

def _python(code: str, env=None) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, **(env or {})), check=True)
    return proc.stdout.strip().splitlines()[-1]


def startup() -> dict:
    """Seconds to import lecture_utils (fresh interpreter, best of 3; and whether
    that imported Keras), and to load the verified data: first call (no cached
    checksum verdict: every file hashed) and cached."""
    imports = [json.loads(_python(
        "import time, sys, json; t = time.perf_counter(); import lecture_utils, lecture_utils.profile, "
        "lecture_utils.results; print(json.dumps([time.perf_counter() - t, 'keras' in sys.modules]))"))
        for _ in range(3)]
    load = ("import time; from lecture_utils.data import load_fashion_mnist; "
            "from lecture_utils.profile import get_profile; t = time.perf_counter(); "
            "load_fashion_mnist(get_profile('full'), allow_download=False); print(time.perf_counter() - t)")
    with tempfile.TemporaryDirectory() as cache:
        first = float(_python(load, {"XDG_CACHE_HOME": cache}))
        cached = min(float(_python(load, {"XDG_CACHE_HOME": cache})) for _ in range(2))
    return {"import_s": min(t for t, _ in imports), "import_loads_keras": any(k for _, k in imports),
            "data_first_s": first, "data_cached_s": cached}


def latency() -> list[dict]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import widget_latency

    return widget_latency.measure()


def machine() -> dict:
    info = {"python": platform.python_version(), "cores": os.cpu_count(),
            "date": dt.date.today().isoformat()}
    info["cpu"] = _cpu()
    try:
        kib = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
        info["memory_gib"] = round(kib / 2 ** 20, 1)
    except (OSError, StopIteration):
        pass
    from importlib.metadata import PackageNotFoundError, version

    for package in ("keras", "tensorflow", "jax", "numpy", "matplotlib", "ipywidgets", "jupyterlab"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            info[package] = None
    info["commit"] = _commit()
    return info


def _cpu() -> str:
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"


def _commit() -> str | None:
    try:
        # "-dirty": what ran had changes not committed yet (tracked files only)
        return subprocess.run(["git", "describe", "--always", "--dirty", "--exclude", "*"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


# ---------------------------------------------------------------- the report

def collect(out: Path, runs, gpu: Path | None = None) -> dict:
    """What earlier runs left in ``out`` (and ``gpu``): timings and results per run."""
    from lecture_utils.results import load

    data = {"runs": {}}
    for run, folder in [(r, out / r) for r in runs] + ([("gpu", gpu)] if gpu else []):
        timing = folder / "timing.json"
        if not timing.exists():
            continue
        results = {p.stem: load(p)["results"] for p in sorted((folder / "results").glob("*.json"))}
        data["runs"][run] = {"timing": json.loads(timing.read_text()), "results": results}
        gpu_info = folder / "device.json"
        if gpu_info.exists():
            data["runs"][run]["device"] = json.loads(gpu_info.read_text())
    return data


def _fmt(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "NaN"
    if unit == "parameters" or (float(value).is_integer() and abs(value) >= 100):
        return f"{value:,.0f}"
    if unit == "accuracy":
        return f"{value:.4f}"
    return f"{value:.7g}"


def _ours(entry: dict) -> str:
    mean = _fmt(entry["mean"], entry["unit"])
    if entry["n"] == 1:
        return mean
    return f"{mean} ± {_fmt(entry['std'], entry['unit'])} (n={entry['n']})"


def results_table(results: dict) -> list[str]:
    lines = ["| notebook | result | ours (mean ± std over seeds) | reference | difference |",
             "|---|---|---|---|---|"]
    for notebook, entries in results.items():
        for e in sorted(entries, key=lambda e: e["reference"] is None):
            reference = "—" if e["reference"] is None else f"{_fmt(e['reference'], e['unit'])} ({e['source']})"
            difference = "—" if e["difference"] is None else f"{e['difference']:+.4g}"
            lines.append(f"| {notebook[:2]} | {e['name']} | {_ours(e)} | {reference} | {difference} |")
    return lines


def engine_section(engine: dict | None) -> list[str]:
    """The "Training engine" section, from benchmarks/engine.json."""
    L = ["## Training engine", ""]
    if not engine:
        return L + ["Not measured yet: `.venv/bin/python benchmarks/engine.py`.", ""]
    base = engine["base_setting"][0]   # the backend, with Keras's defaults
    L += [f"`benchmarks/engine.py`, commit {engine['machine'].get('commit')}, {engine['machine']['cores']} cores, "
          f"one run ({engine['seconds']} s; load average at the end {engine['load_average_1min_at_end']}): "
          f"seconds per epoch of the full profile (55,000 training and 5,000 validation images, batch "
          f"{engine['batch_size']}, `model.fit` with SGD as the notebooks train), timed on a fifth of the data "
          f"(the fastest of {engine['repeats']} epochs after the first, which compiles, times "
          f"{engine['fraction']}). \"side by side\": the copies, each from its own seed and in its own order, "
          "trained as one Keras model by `lecture_utils.seeds.fit_seeds`, seconds per copy; notebooks 01–04 "
          f"train their seeds so ({', '.join(engine['notebooks_setting'])}). Ratio: to {base} with Keras's "
          "default arguments; below 1 is faster.", "",
          "| model | backend | setting | s/epoch | ratio |", "|---|---|---|---|---|"]
    for r in engine["rows"]:
        ratio = "—" if r.get("ratio") is None else f"{r['ratio']:.2f}"
        L.append(f"| {engine['models'][r['model']]} | {r['backend']} | {r['setting']} | "
                 f"{r['s_per_epoch']:.2f} | {ratio} |")
    return L + [""]


def render(data: dict) -> str:
    m, runs = data["machine"], data["runs"]
    L = ["# Reproduction and performance report", "",
         f"Made by `make bench` (`benchmarks/bench.py`) on {m['date']} at commit `{m['commit']}`; "
         "every figure below was measured by a run of it, none typed in (a run of some notebooks only, "
         "`--notebooks`, keeps the others' figures from the report before it; each notebook's run has its "
         "date and commit in `report.json`). Data: `benchmarks/report.json`.", "",
         "## Machine", "",
         f"- CPU: {m['cpu']}, {m['cores']} cores; memory {m.get('memory_gib', '?')} GiB; no GPU",
         f"- Python {m['python']}; Keras {m['keras']}; TensorFlow {m['tensorflow']}; JAX {m['jax']}; "
         f"NumPy {m['numpy']}; Matplotlib {m['matplotlib']}; ipywidgets {m['ipywidgets']}; "
         f"JupyterLab {m['jupyterlab']}", ""]
    # a partial run keeps the other notebooks' times, which may come from another machine
    others = sorted({t.get("cpu", m["cpu"]) for run in runs.values() for t in run["timing"].values()} - {m["cpu"]})
    marks = {cpu: "†" * (i + 1) for i, cpu in enumerate(others)}
    for cpu, mark in marks.items():
        where = sorted({f"{t['notebook'][:2]} ({t['run']})" for run in runs.values() for t in run["timing"].values()
                        if t.get("cpu") == cpu})
        L.insert(-1, f"- {mark} measured on another machine, {cpu}, kept from an earlier report: "
                     f"{', '.join(where)}; times from two machines are not side by side")

    full = runs.get("full-tensorflow")
    L += ["## Results against the reference", ""]
    if full and full["results"]:
        L += ["From the full-profile run (TensorFlow). References are the anchor notebook's published "
              "single runs (Géron, 2nd/3rd ed.); they are not targets. \"difference\" is our mean minus "
              "the reference.", ""] + results_table(full["results"]) + [""]
    else:
        L += ["No full-profile run is on record yet.", ""]

    L += ["## Run time per notebook", "",
          f"Targets: under {TARGETS['full']:.0f} s in the full profile, under {TARGETS['fast']:.0f} s in the "
          "fast profile, on this machine.", "",
          f"The load average ({m['cores']} cores) at the end of each full run is in `report.json` "
          "(`load_average_1min_at_end`): above the number of cores, something else was running too.", "",
          "| notebook | full, TF (s) | slowest cell in full (s) | fast, TF (s) | fast, JAX (s) |",
          "|---|---|---|---|---|"]
    names = sorted({nb for run in runs.values() for nb in run["timing"]})

    def cell(run, nb, target):
        t = runs.get(run, {}).get("timing", {}).get(nb)
        if t is None:
            return "not run"
        if not t["ok"]:
            return f"FAILED ({t['seconds']:.0f})"
        return (f"{t['seconds']:.0f}" + marks.get(t.get("cpu"), "")
                + (" ⚠ over target" if t["seconds"] > target else ""))

    for nb in names:
        slow = runs.get("full-tensorflow", {}).get("timing", {}).get(nb, {}).get("slowest_cell")
        slowest = f"{slow['seconds']:.0f} (cell {slow['cell']}: `{slow['first_line']}`)" if slow else "—"
        L.append(f"| {nb} | {cell('full-tensorflow', nb, TARGETS['full'])} | {slowest} | "
                 f"{cell('fast-tensorflow', nb, TARGETS['fast'])} | {cell('fast-jax', nb, TARGETS['fast'])} |")
    full_total, fast_tf_total, fast_jax_total = (
        f"{sum(t['seconds'] for t in runs[r]['timing'].values()):.0f}" if r in runs else "—" for r in RUNS)
    L.append(f"| **all** | {full_total} | — | {fast_tf_total} | {fast_jax_total} |")
    L.append("")
    if marks:
        L += ["The totals add up times from more than one machine (†: see \"Machine\").", ""]

    L += engine_section(data.get("engine"))

    L += ["## Explorers", "",
          "### On screen, in JupyterLab and headless Chromium", ""]
    browser = data.get("browser")
    if browser:
        t = browser["targets"]
        L += [f"`benchmarks/browser_latency.py` (the measurement `tests/test_browser.py` asserts on), this tree "
              f"(commit {browser['commit']}) and the explorers before they were rebuilt (commit "
              f"{browser['old_commit']}: a new figure per change through `interactive_output`) one after the "
              f"other in one run, {browser['cpus']} cores, load average at the end {browser['load_average_1min']}. "
              f"One step: {browser['changes']} changes of the first slider after 3 warm-up ones, from the input "
              "event to the new figure painted. Drag: 20 steps in one second; when the last frame was painted "
              f"after the last step. Targets: median ≤ {t['median_s']} s, p95 ≤ {t['p95_s']} s, drag ≤ "
              f"{t['settle_s']} s.", "",
              "| explorer | slider | median, now (s) | p95, now (s) | median, before (s) | p95, before (s) | "
              "drag, now (s) | drag, before (s) | frames in the drag, now / before |",
              "|---|---|---|---|---|---|---|---|---|"]
        old = {r["notebook"]: r for r in browser.get("old", [])}

        def flag(value, target):
            return f"{value:.3f}" + ("" if value <= target else " ⚠")

        for r in browser["new"]:
            o = old.get(r["notebook"])
            L.append(f"| {r['notebook']} | {r['control']['label']} | {flag(r['median_s'], t['median_s'])} | "
                     f"{flag(r['p95_s'], t['p95_s'])} | "
                     + (f"{o['median_s']:.3f} | {o['p95_s']:.3f} | " if o else "— | — | ")
                     + f"{flag(r['drag']['settle_s'], t['settle_s'])} | "
                     + (f"{o['drag']['settle_s']:.3f} | " if o else "— | ")
                     + f"{r['drag']['frames']} / {o['drag']['frames'] if o else '—'} |")
        plays = browser.get("training")
        if plays:
            plain = browser.get("plain_training", {})
            L += ["", "### The training explorer, playing", "",
                  f"Commit {browser.get('training_commit', browser['commit'])}: "
                  f"Play pressed in notebook 07, frames painted and steps trained counted for "
                  f"{plays[0]['seconds']:.0f} s (`measure_training`, what `tests/test_browser.py` asserts on). "
                  f"Targets: ≥ {t.get('fps', 5)} frames a second with ≥ {t.get('steps_per_frame', 20)} steps "
                  "between frames, batch 32. Beside it, the same network trained by a bare `train_on_batch` "
                  "loop in a kernel of its own (no measuring, no drawing, no browser). The explorer draws at most "
                  "10 frames a second (`MAX_FPS`: the rest of the machine is the browser's), so with 20 steps a "
                  "frame it trains at most 200 steps a second.", "",
                  "| notebook | network | frames/s | steps/s | steps per frame | bare train_on_batch, steps/s |",
                  "|---|---|---|---|---|---|"]
            for r in plays:
                n = r["network"]
                fps = f"{r['fps']:.1f}" + ("" if r["fps"] >= t.get("fps", 5) else " ⚠")
                L.append(f"| {r['notebook']} | {n['depth']} × {n['width']} {n['activation']}, batch "
                         f"{n['batch_size']} | {fps} | {r['steps_per_s']:.0f} | "
                         f"{r['steps_per_frame']:.0f} | "
                         f"{plain.get('steps_per_s', float('nan')):.0f} |")
    else:
        L.append("Not measured yet: `.venv/bin/python benchmarks/browser_latency.py`.")
    L += ["", "### In the kernel", "",
          f"Each explorer's compute function, and compute + a frame, over a sweep of its controls, by the old "
          f"path (a new figure per change, saved with `bbox_inches=\"tight\"`, as the inline backend did) and "
          f"the new one (the persistent figure: artists updated, background restored, changed artists drawn; "
          f"`benchmarks/widget_latency.py`), side by side in one run. "
          f"Load average (1 min) when measured: {data.get('latency_load_average_1min', '?')}.", "",
          "| explorer | settings | compute p50 (ms) | compute p95 (ms) | new figure p50 (ms) | new figure p95 (ms) "
          "| live frame p50 (ms) | live frame p95 (ms) |",
          "|---|---|---|---|---|---|---|---|"]
    for r in data.get("latency", []):
        flag = " ⚠" if r["total_p95"] > TARGETS["latency_p95"] else ""
        old_p50 = f"{r['old_p50']:.0f}" if "old_p50" in r else "—"
        old_p95 = f"{r['old_p95']:.0f}" if "old_p95" in r else "—"
        L.append(f"| {r['explorer']} | {r['settings']} | {r['compute_p50']:.0f} | {r['compute_p95']:.0f} | "
                 f"{old_p50} | {old_p95} | {r['total_p50']:.0f} | {r['total_p95']:.0f}{flag} |")
    s = data.get("startup")
    L += ["", "## Start-up", ""]
    if s:
        L += [f"- `import lecture_utils` (with `.profile` and `.results`): {s['import_s']:.3f} s "
              f"(target under {TARGETS['import']:.0f} s); Keras imported by it: "
              f"{'yes' if s['import_loads_keras'] else 'no'}.",
              f"- Loading the verified data (`load_fashion_mnist('full')`): first call {s['data_first_s']:.2f} s "
              f"(every file hashed), cached verdict {s['data_cached_s']:.2f} s.", ""]
    L += ["## GPU", ""]
    gpu = runs.get("gpu")
    if gpu:
        device = gpu.get("device", {}).get("name", "a GPU")
        L += [f"Full profile with `KERAS_BACKEND=jax` on {device}:", "",
              "| notebook | GPU, JAX (s) | CPU, TF (s) |", "|---|---|---|"]
        for nb, t in sorted(gpu["timing"].items()):
            cpu = runs.get("full-tensorflow", {}).get("timing", {}).get(nb)
            cpu_seconds = "—" if cpu is None else f"{cpu['seconds']:.0f}"
            L.append(f"| {nb} | {t['seconds']:.0f}{'' if t['ok'] else ' FAILED'} | {cpu_seconds} |")
    else:
        L += ["No machine with a GPU was available to the session that made this report, so there are no "
              "GPU times yet. To add them: `../shared/tools/gpu-prep.sh nbconvert` here (wheels and data to "
              "take along); on the GPU machine install the wheels as that script's header shows, then "
              "`python3 benchmarks/bench.py --runs full-jax --out build/gpu --no-report`; bring "
              "`build/gpu/full-jax` back and run `python benchmarks/bench.py --report-only --gpu "
              "build/gpu/full-jax` here."]
    return "\n".join(L) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", default=list(RUNS),
                        help="which runs: <profile>-<backend>, profile full or fast (default: %(default)s)")
    parser.add_argument("--notebooks", nargs="+", default=None,
                        help="notebook numbers or names (default: all of notebooks/)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument("--report-only", action="store_true", help="run nothing; rebuild the report")
    parser.add_argument("--no-report", action="store_true", help="run the notebooks only")
    parser.add_argument("--gpu", type=Path, default=None, help="a run folder from a GPU machine")
    parser.add_argument("--no-browser", action="store_true",
                        help="do not run benchmarks/browser_latency.py (its last results are still reported)")
    parser.add_argument("--no-engine", action="store_true",
                        help="do not run benchmarks/engine.py (its last results are still reported)")
    args = parser.parse_args(argv)

    for run in args.runs:
        profile, _, backend = run.partition("-")
        if profile not in ("full", "fast") or backend not in ("tensorflow", "jax", "torch"):
            parser.error(f"unknown run {run!r}: use <profile>-<backend>, e.g. {', '.join(RUNS)}")
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if args.notebooks:
        chosen = [p for p in notebooks if any(p.stem.startswith(n) for n in args.notebooks)]
        if len(chosen) < len(args.notebooks):
            parser.error(f"no such notebook among {', '.join(p.stem for p in notebooks)}: {args.notebooks}")
        notebooks = chosen
    if not args.report_only:
        run_all(args.runs, notebooks, args.out)
    if args.no_report:
        return 0
    data = {"machine": machine(), **collect(args.out, RUNS, args.gpu)}
    previous_file = ROOT / "benchmarks" / "report.json"
    previous = json.loads(previous_file.read_text()) if previous_file.exists() else {}
    # notebooks (or whole runs) not in --out: keep those of the committed report
    for run, value in previous.get("runs", {}).items():
        here = data["runs"].setdefault(run, {"timing": {}, "results": {}})
        for notebook, timing in value["timing"].items():
            if notebook not in here["timing"]:
                # runs recorded before the CPU was: the machine of the report they were in
                here["timing"][notebook] = {"cpu": previous.get("machine", {}).get("cpu", "unknown"), **timing}
                if notebook in value["results"]:
                    here["results"][notebook] = value["results"][notebook]
    for key, script, saved, what, skip in [
            ("browser", "browser_latency.py", "browser_latency.json", "explorers in the browser", args.no_browser),
            ("engine", "engine.py", "engine.json", "the training engine", args.no_engine)]:
        if not args.report_only and not skip:  # a script of its own; its last results otherwise
            print(f"[bench] {what} ...", flush=True)
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / script)], check=True)
        if (ROOT / "benchmarks" / saved).exists():
            data[key] = json.loads((ROOT / "benchmarks" / saved).read_text())
    measure = not (args.report_only or args.notebooks)  # a part or nothing re-run: keep the report's
    if measure or "latency" not in previous:
        print("[bench] widget latency ...", flush=True)
        data["latency"] = latency()
        data["latency_load_average_1min"] = round(os.getloadavg()[0], 2)
    else:
        data["latency"], data["latency_load_average_1min"] = previous["latency"], previous["latency_load_average_1min"]
    if measure or "startup" not in previous:
        print("[bench] start-up ...", flush=True)
        data["startup"] = startup()
    else:
        data["startup"] = previous["startup"]
    (ROOT / "benchmarks" / "report.json").write_text(json.dumps(data, indent=1))
    (ROOT / "benchmarks" / "REPORT.md").write_text(render(data))
    print("[bench] wrote benchmarks/REPORT.md and benchmarks/report.json")
    failed = [t for run in data["runs"].values() for t in run["timing"].values() if not t["ok"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
