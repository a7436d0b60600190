"""Seconds to render the instructor's report (``lecture-utils report``) of a
large class: 500 submissions of each of the six exercises (3,000), read from
the CSV and written as HTML (the class page, six exercise pages, 3,000
feedback pages in HTML and Markdown). Target (issue 32): under 30 s on the
2-core machine.

    .venv/bin/python benchmarks/instructor_report.py [--source build/demo-class/grades.csv] [--per-exercise 500]

The class's rows are real grades: those of a class that tools/demo_class.py
built and graded (``--source``; by default build/demo-class/grades.csv, made
with ``tools/demo_class.py build/demo-class`` if it is missing: 60 students
of each exercise), repeated under new students' names until each exercise has
``--per-exercise`` submissions. The report's work is per submission, question
and message, so repeated rows cost what new ones would. Three runs, the
median. Writes benchmarks/instructor_report.json and benchmarks/INSTRUCTOR_REPORT.md.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 30.0


def enlarge(source: Path, target: Path, per_exercise: int) -> int:
    """``source``'s submissions, repeated under new names to ``per_exercise``
    an exercise, written to ``target``; returns the number of submissions."""
    with open(source, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    by_sub: dict[tuple, list] = {}
    for row in rows:
        by_sub.setdefault((row[1], row[0]), []).append(row)
    exercises: dict[str, list] = {}
    for (exercise, _), sub_rows in by_sub.items():
        exercises.setdefault(exercise, []).append(sub_rows)
    n = 0
    with open(target, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for exercise, subs in sorted(exercises.items()):
            for i in range(per_exercise):
                label = f"class/student{i:04d}_{exercise or 'unknown'}.ipynb"
                for row in subs[i % len(subs)]:
                    w.writerow([label, *row[1:]])
                n += 1
    return n


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT / "build" / "demo-class" / "grades.csv")
    parser.add_argument("--per-exercise", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"{args.source} is missing: building and grading the demo class (a few minutes) ...", flush=True)
        subprocess.run([sys.executable, str(ROOT / "tools" / "demo_class.py"), str(args.source.parent)], check=True)
    sys.path.insert(0, str(ROOT))
    from lecture_utils.grading import grades, report

    times = []
    with tempfile.TemporaryDirectory(prefix="instructor-report-") as tmp:
        tmp = Path(tmp)
        n = enlarge(args.source, tmp / "class.csv", args.per_exercise)
        for run in range(args.runs):
            out = tmp / f"report{run}"
            start = time.perf_counter()
            g = grades.read([tmp / "class.csv"])
            written = report.write(g, out, exercises_dir=ROOT / "exercises", say=lambda s: None)
            times.append(time.perf_counter() - start)
            files = sum(1 for _ in out.rglob("*") if _.is_file())
            print(f"run {run + 1}: {n} submissions, {files} files, {times[-1]:.1f} s", flush=True)
        exercises = len({r.exercise for r in g.results})
    median = statistics.median(times)
    info = {"submissions": n, "exercises": exercises, "per_exercise": args.per_exercise, "runs": times,
            "median_s": median, "target_s": TARGET_SECONDS, "files": files, "feedback": written.feedback,
            "cpus": os.cpu_count(), "source": str(args.source.relative_to(ROOT) if args.source.is_relative_to(ROOT)
                                                  else args.source)}
    (ROOT / "benchmarks" / "instructor_report.json").write_text(json.dumps(info, indent=1) + "\n")
    lines = ["# The report of a large class, rendered", "",
             f"`benchmarks/instructor_report.py`: {n} submissions ({args.per_exercise} of each of {exercises} "
             f"exercises, the graded rows of the demo class repeated under new names), read from the CSV and "
             f"written as the report ({files} files: the class page, the exercise pages, each submission's "
             f"feedback in HTML and Markdown), {args.runs} runs on {os.cpu_count()} cores.", "",
             "| runs (s) | median (s) | target (s) |", "|---|---|---|",
             f"| {', '.join(f'{t:.1f}' for t in times)} | **{median:.1f}** | under {TARGET_SECONDS:.0f} |", "",
             f"Target {'met' if median < TARGET_SECONDS else 'MISSED'}."]
    (ROOT / "benchmarks" / "INSTRUCTOR_REPORT.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
