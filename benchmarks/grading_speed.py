"""Seconds per submission of `lecture-utils grade`: the grading of this tree
against the grading of an earlier commit, side by side in one run, on the
same 20 submissions of exercise 05, with --jobs 2 (and 1 with --jobs 1 2);
and, in the same run, the seconds of one `python -c "import keras"` (the
median of three), since this machine's speed drifts by the hour.

    .venv/bin/python benchmarks/grading_speed.py [--old REV] [--n 20] [--jobs 1 2]

REV (default aed0119, the last commit before the templates of issue 31: a
judge process and a sandbox process started, and importing, for each
submission) is checked out in a temporary git worktree; both run with this
virtual environment's packages, in the fast profile. Writes
benchmarks/grading_speed.json and benchmarks/GRADING.md. Targets (issue 31):
at most 1.2 s per submission at --jobs 2, and at most a quarter of one
`import keras` measured in the same run.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "05_gradient_clipping"
TARGET_SECONDS = 1.2      # per submission, --jobs 2
TARGET_OF_IMPORT = 0.25   # per submission, --jobs 2, as a share of one `import keras`
OLD_PATHS = {"83cbc26": "otter run, no sandbox",
             "4051e62": "the sandbox and judge before issue 29: no memory group, no measuring of models",
             "aed0119": "before issue 31: a judge and a sandbox process started, and importing, per submission"}

RUN = """
import sys, time
from pathlib import Path
import lecture_utils
try:
    from lecture_utils.grading import batch          # the grading package (issue 31)
except ImportError:
    import lecture_utils.grading as batch            # before it: one module
assert lecture_utils.__file__.startswith(sys.argv[1]), (lecture_utils.__file__, sys.argv[1])
batch.grade([sys.argv[2]], sys.argv[3], solutions_dir=Path(sys.argv[1]) / "solutions",
            build_dir=Path(sys.argv[4]), jobs=int(sys.argv[5]), timeout=600, say=lambda s: None)
"""


def submissions(folder: Path, n: int) -> None:
    """n submissions of exercise 05: most complete, some with a wrong answer, some blank."""
    from lecture_utils import exercises

    built = exercises.assign(ROOT / "solutions" / f"{NAME}.ipynb", folder / "build")
    solution = json.loads(Path(built.solution_notebook).read_text())
    wrong = copy.deepcopy(solution)
    for cell in wrong["cells"]:
        cell["source"] = "".join(cell["source"]).replace("np.sqrt(np.sum(np.square(g)))", "np.sum(np.square(g))")
    blank = json.loads(built.student)
    subs = folder / "submissions"
    subs.mkdir()
    for i in range(n):
        nb = blank if i % 7 == 6 else wrong if i % 7 == 5 else solution
        (subs / f"student{i:02d}.ipynb").write_text(json.dumps(nb))


def old_venv(tree: Path) -> str:
    """A virtual environment of the old tree's own: its package installed editable
    from there, the same dependencies from uv's cache, byte-compiled as `make venv`
    does (a sandbox sees only the package its interpreter imports, and this one's
    imports this tree's). Returns its python."""
    venv = tree / ".venv"
    uv = Path(sys.executable).parent / "uv"
    subprocess.run([str(uv), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run([str(uv), "pip", "install", "--quiet", "--compile-bytecode", "--python",
                    str(venv / "bin" / "python"), "-e", f"{tree}[dev,jax]"], check=True)
    return str(venv / "bin" / "python")


def timed(python: str, tree: Path, subs: Path, build: Path, jobs: int, out: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree), LECTURE_PROFILE="fast", TF_CPP_MIN_LOG_LEVEL="3")
    started = time.monotonic()
    subprocess.run([python, "-c", RUN, str(tree), str(subs), str(out), str(build), str(jobs)],
                   cwd=tree, env=env, check=True)
    return time.monotonic() - started


def import_keras_seconds(python: str) -> float:
    """The median of three `python -c "import keras"` (TensorFlow), each a fresh process."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    times = []
    for _ in range(3):
        started = time.monotonic()
        subprocess.run([python, "-c", "import keras"], env=env, check=True, capture_output=True)
        times.append(time.monotonic() - started)
    return sorted(times)[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", default="aed0119")
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--jobs", type=int, nargs="+", default=[2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grading-speed-") as tmp:
        tmp = Path(tmp)
        old = tmp / "old"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), args.old], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            submissions(tmp, args.n)
            results = {}
            trees = (("old", old, old_venv(old)), ("new", ROOT, sys.executable))
            for label, tree, python in trees:
                # the autograder is built once per tree, before the clock starts
                timed(python, tree, tmp / "submissions" / "student00.ipynb", tmp / f"build-{label}", 1,
                      tmp / f"warm-{label}.csv")
            results["import keras, before"] = import_keras_seconds(sys.executable)
            for jobs in args.jobs:
                for label, tree, python in trees:
                    build = tmp / f"build-{label}"
                    seconds = timed(python, tree, tmp / "submissions", build, jobs, tmp / f"{label}-{jobs}.csv")
                    results[f"{label}, --jobs {jobs}"] = seconds / args.n
                    print(f"{label} --jobs {jobs}: {seconds:.0f} s, {seconds / args.n:.2f} s per submission",
                          flush=True)
                    totals = [line for line in (tmp / f"{label}-{jobs}.csv").read_text().splitlines()
                              if ",TOTAL," in line]
                    results[f"{label}, --jobs {jobs}, totals"] = sorted(t.split(",TOTAL,")[1].split(",")[0]
                                                                       for t in totals)
            results["import keras, after"] = import_keras_seconds(sys.executable)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, capture_output=True)
    keras_s = (results["import keras, before"] + results["import keras, after"]) / 2
    info = {"submissions": args.n, "exercise": NAME, "old": args.old, "seconds_per_submission": results,
            "import_keras_seconds": keras_s, "target_seconds": TARGET_SECONDS, "target_of_import": TARGET_OF_IMPORT,
            "cpus": os.cpu_count()}
    (ROOT / "benchmarks" / "grading_speed.json").write_text(json.dumps(info, indent=1) + "\n")
    lines = ["# Grading speed", "",
             f"`benchmarks/grading_speed.py`: {args.n} submissions of exercise {NAME} (fast profile), graded by "
             f"this tree and by commit {args.old} ({OLD_PATHS.get(args.old, 'an earlier commit')}), "
             f"one after the other in one run, {os.cpu_count()} cores; in the same run, one `python -c \"import keras\"` "
             f"took {keras_s:.2f} s (the median of three, before and after the batches, averaged). "
             f"Targets (issue 31): at --jobs 2, at most {TARGET_SECONDS} s per submission and at most "
             f"{TARGET_OF_IMPORT:g} × one `import keras`.", "",
             "| | old (s / submission) | new (s / submission) | old / new | new / `import keras` | within target |",
             "|---|---|---|---|---|---|"]
    for j in args.jobs:
        new, old_s = results[f"new, --jobs {j}"], results[f"old, --jobs {j}"]
        within = "—" if j != 2 else ("yes" if new <= TARGET_SECONDS and new <= TARGET_OF_IMPORT * keras_s else "NO")
        lines.append(f"| --jobs {j} | {old_s:.2f} | {new:.2f} | {old_s / new:.1f} | {new / keras_s:.2f} | {within} |")
    j = args.jobs[0]
    same = results[f"old, --jobs {j}, totals"] == results[f"new, --jobs {j}, totals"]
    lines += ["", f"Both paths gave the same totals: {'yes' if same else 'NO'} "
                  f"({', '.join(results[f'new, --jobs {j}, totals'])})."]
    (ROOT / "benchmarks" / "GRADING.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
