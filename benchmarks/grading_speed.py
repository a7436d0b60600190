"""Seconds per submission of `lecture-utils grade`: the grading of this tree
against the grading of an earlier commit, side by side in one run, on the
same 20 submissions of exercise 05, with --jobs 1 and --jobs 2.

    .venv/bin/python benchmarks/grading_speed.py [--old REV] [--n 20]

REV (default 83cbc26, the last commit before the sandbox: otter run in one
process, no sandbox; issue 29 compared with 4051e62, the last commit before
the memory budget and the judge's limits) is checked out in a temporary git
worktree; both run with this virtual environment, in the fast profile. Writes
benchmarks/grading_speed.json and benchmarks/GRADING.md. Target (issue 13):
at most 25 % more seconds per submission than the old path.
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
TARGET = 1.25
OLD_PATHS = {"83cbc26": "otter run, no sandbox",
             "4051e62": "the sandbox and judge before issue 29: no memory group, no measuring of models"}

RUN = """
import sys, time
from pathlib import Path
import lecture_utils, lecture_utils.grading as grading
assert lecture_utils.__file__.startswith(sys.argv[1]), (lecture_utils.__file__, sys.argv[1])
grading.grade([sys.argv[2]], sys.argv[3], solutions_dir=Path(sys.argv[1]) / "solutions",
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", default="83cbc26")
    parser.add_argument("--n", type=int, default=20)
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
            for jobs in (1, 2):
                for label, tree, python in trees:
                    build = tmp / f"build-{label}"
                    seconds = timed(python, tree, tmp / "submissions", build, jobs, tmp / f"{label}-{jobs}.csv")
                    results[f"{label}, --jobs {jobs}"] = seconds / args.n
                    print(f"{label} --jobs {jobs}: {seconds:.0f} s, {seconds / args.n:.1f} s per submission",
                          flush=True)
                    totals = [line for line in (tmp / f"{label}-{jobs}.csv").read_text().splitlines()
                              if ",TOTAL," in line]
                    results[f"{label}, --jobs {jobs}, totals"] = sorted(t.split(",TOTAL,")[1].split(",")[0]
                                                                       for t in totals)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, capture_output=True)
    ratios = {j: results[f"new, --jobs {j}"] / results[f"old, --jobs {j}"] for j in (1, 2)}
    info = {"submissions": args.n, "exercise": NAME, "old": args.old, "seconds_per_submission": results,
            "new_over_old": ratios, "target_ratio": TARGET, "cpus": os.cpu_count()}
    (ROOT / "benchmarks" / "grading_speed.json").write_text(json.dumps(info, indent=1) + "\n")
    lines = ["# Grading speed", "",
             f"`benchmarks/grading_speed.py`: {args.n} submissions of exercise {NAME} (fast profile), graded by "
             f"this tree (sandbox + judge) and by commit {args.old} ({OLD_PATHS.get(args.old, 'an earlier commit')}), "
             "one after the other in one run, "
             f"{os.cpu_count()} cores. Target: new ≤ {TARGET:.2f} × old seconds per submission.", "",
             "| | old (s / submission) | new (s / submission) | new / old | within target |",
             "|---|---|---|---|---|"]
    for j in (1, 2):
        lines.append(f"| --jobs {j} | {results[f'old, --jobs {j}']:.1f} | {results[f'new, --jobs {j}']:.1f} | "
                     f"{ratios[j]:.2f} | {'yes' if ratios[j] <= TARGET else 'NO'} |")
    same = results["old, --jobs 1, totals"] == results["new, --jobs 1, totals"]
    lines += ["", f"Both paths gave the same totals: {'yes' if same else 'NO'} "
                  f"({', '.join(results['new, --jobs 1, totals'])})."]
    (ROOT / "benchmarks" / "GRADING.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
