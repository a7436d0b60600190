"""A class to try the report on: submissions built from the right and wrong
answers in tests/exercises/, in a known mix, graded, and the report rendered.

    .venv/bin/python tools/demo_class.py OUT [--per-exercise 60] [--exercises 01 05 ...] [--jobs 2]

``--per-exercise`` students, each handing in every exercise (the files
``OUT/submissions/student017_05_gradient_clipping.ipynb``); in each exercise:

- most hand in the solution notebook, a third of those with one of their
  answers written another right way (``RIGHT`` in tests/exercises/NN.py);
- some make a mistake: the first wrong answers (``WRONG``) of the
  questions, taken in turn, each made by a known number of students: of 60,
  12 make the first, 8 the second, then 6, 5, 4, 3, 3, 2, 2, 2, ... (scaled
  to the class's size; a student with a mistake in one question may make one
  in another question too, when the two wrong answers touch no common name);
- one in twelve hands in the blank exercise notebook, one hands in a file
  that is not a notebook.

A wrong answer is a cell appended to the solution notebook, as
tests/test_exercises.py runs it: only its own question loses points. What
each student did is written to ``OUT/class.json``, the CSV to
``OUT/grades.csv`` and the report to ``OUT/report/``. Deterministic: the
same arguments give the same class.
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib.util
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COUNTS = (12, 8, 6, 5, 4, 3, 3, 2, 2, 2, 2, 2)   # students of 60 per mistake, in turn (scaled to the class)


def _answers(name: str):
    spec = importlib.util.spec_from_file_location(f"answers_{name}", ROOT / "tests" / "exercises" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _names(code: str) -> tuple[set, set]:
    """(bound, used): the names a snippet binds and the names it reads."""
    tree = ast.parse(code)
    bound, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store) else used).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return bound, used


def _independent(a: str, b: str) -> bool:
    bound_a, used_a = _names(a)
    bound_b, used_b = _names(b)
    return not (bound_a & (bound_b | used_b)) and not (bound_b & used_a)


def _cell(code: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": code.strip("\n") + "\n"}


def plan(name: str, n: int, seed: int = 0) -> list[dict]:
    """What each of ``n`` students of exercise ``name`` hands in: a list of
    {"kind": "solution"|"blank"|"invalid", "right": [question, i] | None,
    "mistakes": [[question, i, says], ...]}."""
    answers = _answers(name)
    rng = random.Random(f"{name}-{seed}")
    questions = list(answers.WRONG)
    # the mistakes: each question's first wrong answer, then each one's second, ...
    pool = []
    for i in range(max(len(w) for w in answers.WRONG.values())):
        pool += [(q, i) for q in questions if i < len(answers.WRONG[q])]
    blank = max(1, n // 12)
    students = [{"kind": "solution", "right": None, "mistakes": []} for _ in range(n - blank - 1)]
    students += [{"kind": "blank", "right": None, "mistakes": []} for _ in range(blank)]
    students.append({"kind": "invalid", "right": None, "mistakes": []})
    answerable = list(range(n - blank - 1))
    seen_says = set()
    for (q, i), count in zip(pool, COUNTS):
        count = max(1, round(count * n / 60))
        code, says = answers.WRONG[q][i]
        if says in seen_says:   # two mistakes the class could not tell apart: keep the first
            continue
        seen_says.add(says)
        # those with no mistake in this question, and none that touches the same names
        free = [s for s in answerable
                if all(m[0] != q and _independent(code, answers.WRONG[m[0]][m[1]][0])
                       for m in students[s]["mistakes"])]
        free.sort(key=lambda s: (len(students[s]["mistakes"]), rng.random()))
        for s in free[:count]:
            students[s]["mistakes"].append([q, i, says])
    for s in answerable:
        taken = {m[0] for m in students[s]["mistakes"]}
        options = [(q, i) for q in questions if q not in taken for i in range(len(answers.RIGHT.get(q, [])))]
        if options and rng.random() < 1 / 3:
            q, i = rng.choice(options)
            right_code = answers.RIGHT[q][i]
            if all(_independent(right_code, answers.WRONG[m[0]][m[1]][0]) for m in students[s]["mistakes"]):
                students[s]["right"] = [q, i]
    rng.shuffle(students)
    return students


def build(out: Path, names: list[str], per_exercise: int, build_dir: Path, seed: int = 0) -> list[dict]:
    """Write the class's submissions under ``out/submissions``; return what each is."""
    from lecture_utils import exercises

    subs = out / "submissions"
    subs.mkdir(parents=True, exist_ok=True)
    truth = []
    for name in names:
        exercises.autograder(name, ROOT / "solutions", build_dir, say=lambda s: None)
        info = json.loads((build_dir / "autograder" / f"{name}.json").read_text())
        solution = json.loads(Path(info["solution_notebook"]).read_text())
        student = json.loads((Path(info["solution_notebook"]).parents[1] / "student" / f"{name}.ipynb").read_text())
        answers = _answers(name)
        for number, who in enumerate(plan(name, per_exercise, seed), start=1):
            path = subs / f"student{number:03d}_{name}.ipynb"
            if who["kind"] == "invalid":
                path.write_text("this is not a notebook: it was saved as text by mistake\n")
            elif who["kind"] == "blank":
                path.write_text(json.dumps(student))
            else:
                nb = copy.deepcopy(solution)
                if who["right"]:
                    nb["cells"].append(_cell(answers.RIGHT[who["right"][0]][who["right"][1]]))
                for q, i, _ in who["mistakes"]:
                    nb["cells"].append(_cell(answers.WRONG[q][i][0]))
                path.write_text(json.dumps(nb))
            truth.append({"submission": str(path), "exercise": name, **who})
    (out / "class.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n")
    return truth


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the folder to write the class, its grades and its report in")
    parser.add_argument("--per-exercise", type=int, default=60, help="students per exercise (default 60)")
    parser.add_argument("--exercises", nargs="*", default=None,
                        help="the exercises by number or name (default: all of solutions/)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from lecture_utils import exercises
    from lecture_utils.grading import batch, grades, report

    known = exercises.exercise_names(ROOT / "solutions")
    names = known if not args.exercises else [n for n in known if any(n == e or n[:2] == e for e in args.exercises)]
    if args.per_exercise < 14:
        parser.error("--per-exercise must be at least 14 (the known mix needs room)")
    if (args.out / "grades.csv").exists():
        parser.error(f"{args.out / 'grades.csv'} exists: choose a new folder")
    build_dir = ROOT / "build"
    build(args.out, names, args.per_exercise, build_dir, args.seed)
    batch.grade([args.out / "submissions"], args.out / "grades.csv", solutions_dir=ROOT / "solutions",
                build_dir=build_dir, jobs=args.jobs)
    report.write(grades.read([args.out / "grades.csv"]), args.out / "report", exercises_dir=ROOT / "exercises")
    return 0


if __name__ == "__main__":
    sys.exit(main())
