"""The exercises: student notebooks and autograders generated from ``solutions/``.

``solutions/NN_topic.ipynb`` are otter-grader master notebooks (prompts,
solutions, public and hidden tests; see ``solutions/README.md``). From each,
``otter assign`` generates

- the student notebook, written to ``exercises/NN_topic.ipynb`` (no outputs,
  no solutions, public tests only), and
- the autograder, ``build/autograder/NN_topic.zip`` (all tests; for
  ``otter run``, ``otter grade`` and Gradescope), with a copy of
  ``lecture_utils`` and a ``requirements.txt`` so that it grades anywhere.

``build_exercises`` never overwrites an exercise notebook that differs from
what it generated last time (a hand edit, or a student's work): the sha256 of
every notebook it wrote is kept in ``exercises/.generated.json``. ``force``
overwrites, keeping a copy of the replaced file in ``build/exercises/replaced/``.

Used by ``lecture-utils build-exercises`` and ``lecture-utils grade`` (see
:mod:`lecture_utils.grading.batch`).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime
import hashlib
import io
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Callable, Iterator

MANIFEST = ".generated.json"
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled")
NAME_PATTERN = re.compile(r"^\d\d_\w+$")


class ExerciseError(RuntimeError):
    """A solution notebook could not be turned into an exercise (the message says why)."""


def course_root() -> Path:
    """The course folder: the one that holds ``lecture_utils/`` (when it also
    holds ``solutions/``), else the current directory."""
    package_parent = Path(__file__).resolve().parents[1]
    if (package_parent / "solutions").is_dir():
        return package_parent
    return Path.cwd()


def solution_notebooks(solutions_dir: Path) -> list[Path]:
    """The master notebooks ``NN_topic.ipynb`` in ``solutions_dir``, in order."""
    return sorted(p for p in Path(solutions_dir).glob("*.ipynb") if NAME_PATTERN.match(p.stem))


def exercise_names(solutions_dir: Path) -> list[str]:
    """The exercises there are (the solution notebooks' names without ``.ipynb``)."""
    return [p.stem for p in solution_notebooks(solutions_dir)]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------
# Running otter assign on a staged copy.

_ASSIGNMENT_CONFIG = re.compile(r"#\s+assignment\s+config\s*", re.IGNORECASE)


def _requirements() -> list[str]:
    """The runtime requirements of this package (for the autograder image),
    without JupyterLab and the widgets, which grading does not need."""
    from importlib import metadata

    try:
        declared = metadata.requires("lecture-utils") or []
    except metadata.PackageNotFoundError:
        declared = ["keras>=3.0", "tensorflow>=2.16", "numpy>=1.26", "matplotlib>=3.7"]
    keep = []
    for requirement in declared:
        if "extra ==" in requirement:
            continue
        name = re.split(r"[<>=!~\[; ]", requirement, 1)[0].lower()
        if name not in {"jupyterlab", "ipywidgets"}:
            keep.append(requirement.split(";")[0].strip())
    return keep


def _stage(solution: Path, stage: Path) -> Path:
    """Copy the master notebook into ``stage``, with a copy of ``lecture_utils``
    and a ``requirements.txt``, and add them to its assignment config (so the
    autograder zip is self-contained). Returns the staged notebook."""
    import nbformat
    import yaml

    try:
        nb = nbformat.read(solution, as_version=4)
    except Exception as exc:
        raise ExerciseError(f"{solution} is not a readable notebook ({type(exc).__name__}: {exc})") from None
    configs = [c for c in nb.cells if c.cell_type == "raw" and _ASSIGNMENT_CONFIG.match(c.source)]
    if len(configs) != 1:
        raise ExerciseError(f"{solution} needs exactly one raw cell starting with '# ASSIGNMENT CONFIG' "
                            f"(found {len(configs)}); see solutions/README.md")
    try:
        config = yaml.safe_load(configs[0].source) or {}
    except yaml.YAMLError as exc:
        raise ExerciseError(f"the ASSIGNMENT CONFIG cell of {solution} is not valid YAML: {exc}") from None
    if config.get("name") != solution.stem:
        raise ExerciseError(f"the ASSIGNMENT CONFIG of {solution} must say `name: {solution.stem}` "
                            f"(it says {config.get('name')!r}): grading matches submissions by this name")
    tests = config.get("tests") or {}
    if tests.get("ok_format", True) is not False:
        raise ExerciseError(f"the ASSIGNMENT CONFIG of {solution} must set `tests: ok_format: false` "
                            "(the exception-based tests that lecture_utils.grading.checks is written for)")
    # what running the solution notebook left behind must not reach the student notebook
    # (execution timestamps differ on every `make execute`)
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
    nb.metadata.pop("widgets", None)
    config.setdefault("requirements", "requirements.txt")
    config["autograder_files"] = sorted(set(config.get("autograder_files") or []) | {"lecture_utils"})
    configs[0].source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)

    if stage.exists():
        shutil.rmtree(stage)
    src = stage / "src"
    src.mkdir(parents=True)
    staged = src / solution.name
    nbformat.write(nb, staged)
    shutil.copytree(Path(__file__).resolve().parent, src / "lecture_utils",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (src / "requirements.txt").write_text("\n".join(_requirements()) + "\n")
    return staged


def _deterministic_ids(nb, master_ids: set) -> None:
    """Give the cells otter adds (init and check cells, which get random ids)
    ids derived from their contents, so that the same master always gives the
    same student notebook."""
    seen = set()
    for cell in nb.cells:
        cid = cell.get("id")
        if cid not in master_ids or cid in seen:
            digest = hashlib.sha1(f"{cell.cell_type}\0{cell.source}".encode()).hexdigest()
            cid = digest[:8]
            while cid in seen or cid in master_ids:
                digest = hashlib.sha1(digest.encode()).hexdigest()
                cid = digest[:8]
            cell["id"] = cid
        seen.add(cid)


@contextlib.contextmanager
def _quiet() -> Iterator[io.StringIO]:
    """Capture what otter prints (its logging goes to stderr)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        yield buffer


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables that are not set yet, for the duration."""
    added = [k for k in values if k not in os.environ]
    for k in added:
        os.environ[k] = values[k]
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


@dataclasses.dataclass
class Built:
    """What ``otter assign`` made of one solution notebook.

    Attributes:
        name: the exercise, e.g. ``"01_vanishing_gradients"``.
        solution: the master notebook.
        student: the student notebook's bytes (what ``exercises/`` should hold).
        student_path: where a copy of it was written in the build folder.
        autograder_zip: ``build/autograder/NAME.zip``.
        solution_notebook: the solution in student form (what a perfect
            submission looks like), in the build folder.
        points: points per question, e.g. ``{"q1": 3, ...}``.
    """

    name: str
    solution: Path
    student: bytes
    student_path: Path
    autograder_zip: Path
    solution_notebook: Path
    points: dict


def fingerprint(solution: Path) -> str:
    """What an autograder depends on: the master notebook, the package's code
    (a copy of it grades), and otter's version. A changed fingerprint means
    the autograder must be rebuilt."""
    import otter

    h = hashlib.sha256(Path(solution).read_bytes())
    for py in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(py.name.encode() + b"\0" + py.read_bytes())
    h.update(otter.__version__.encode())
    return h.hexdigest()


def assign(solution: Path, build_dir: Path, run_tests: bool = False) -> Built:
    """Run ``otter assign`` on ``solution`` (staged in ``build_dir/exercises/NAME``),
    put its autograder in ``build_dir/autograder/NAME.zip`` and return what it made.

    Args:
        solution: a master notebook ``solutions/NN_topic.ipynb``.
        build_dir: the build folder (git-ignored).
        run_tests: also let otter grade the solution with its own autograder
            (it must get full marks); runs the notebook, so it takes a while.

    Raises:
        ExerciseError: the notebook is not a valid master notebook, otter
            refused it, or (``run_tests``) the solution fails its own tests.
    """
    import nbformat
    from otter.assign import main as otter_assign

    solution = Path(solution).resolve()
    name = solution.stem
    stage = Path(build_dir).resolve() / "exercises" / name
    staged = _stage(solution, stage)
    result = stage / "out"
    master_ids = {c.get("id") for c in nbformat.read(staged, as_version=4).cells}
    # the kernel otter starts to run the tests: the fast profile unless told otherwise
    with _environment(LECTURE_PROFILE="fast", TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg"), _quiet() as log:
        try:
            otter_assign(str(staged), str(result), no_pdfs=True, no_run_tests=not run_tests)
        except Exception as exc:
            details = log.getvalue().strip()
            raise ExerciseError(f"otter assign failed on {solution}: {type(exc).__name__}: {exc}"
                                + (f"\n{details[-3000:]}" if details else "")) from None

    student_path = result / "student" / solution.name
    nb = nbformat.read(student_path, as_version=4)
    _deterministic_ids(nb, master_ids)
    student = (nbformat.writes(nb) + "\n").encode()
    student_path.write_bytes(student)

    zips = sorted((result / "autograder").glob(f"{name}-autograder_*.zip"))
    if len(zips) != 1:
        raise ExerciseError(f"otter assign wrote {len(zips)} autograder zips for {solution}, expected 1")
    autograder_dir = Path(build_dir).resolve() / "autograder"
    autograder_dir.mkdir(parents=True, exist_ok=True)
    autograder_zip = autograder_dir / f"{name}.zip"
    shutil.copyfile(zips[0], autograder_zip)
    solution_notebook = result / "autograder" / solution.name
    points = question_points(autograder_zip)
    (autograder_dir / f"{name}.json").write_text(json.dumps(
        {"exercise": name, "solution": str(solution), "fingerprint": fingerprint(solution),
         "points": points, "solution_notebook": str(solution_notebook)}, indent=1) + "\n")
    return Built(name, solution, student, student_path, autograder_zip, solution_notebook, points)


def question_points(autograder_zip: Path) -> dict:
    """``{question: points}`` of an autograder zip, from its test files."""
    import tempfile
    import zipfile

    from otter.nbmeta_config import NBMetadataConfig
    from otter.test_files import create_test_file

    points = {}
    with zipfile.ZipFile(autograder_zip) as zf, tempfile.TemporaryDirectory() as tmp:
        for member in sorted(zf.namelist()):
            if member.startswith("tests/") and member.endswith(".py"):
                path = Path(tmp) / Path(member).name
                path.write_bytes(zf.read(member))
                test = create_test_file(str(path), NBMetadataConfig())
                points[test.name] = as_points(test.possible)
    return dict(sorted(points.items(), key=lambda kv: _question_order(kv[0])))


def as_points(x: float) -> float | int:
    """A number of points as it is shown: 3 rather than 3.0, at most 4 decimals."""
    x = round(float(x), 4)
    return int(x) if x == int(x) else x


def _question_order(name: str) -> tuple:
    m = re.fullmatch(r"([A-Za-z_]*)(\d+)(.*)", name)
    return (m.group(1), int(m.group(2)), m.group(3)) if m else (name, 0, "")


def autograder(name: str, solutions_dir: Path, build_dir: Path,
               say: Callable[[str], None] = print) -> Path:
    """``build_dir/autograder/NAME.zip``, built (again) if it is missing or
    older than its solution notebook or the package's code."""
    solution = Path(solutions_dir) / f"{name}.ipynb"
    if not solution.is_file():
        valid = ", ".join(exercise_names(solutions_dir)) or "none"
        raise ExerciseError(f"there is no solution notebook {solution} (exercises: {valid})")
    zip_path = Path(build_dir) / "autograder" / f"{name}.zip"
    info_path = zip_path.with_suffix(".json")
    try:
        info = json.loads(info_path.read_text())
        fresh = zip_path.is_file() and info.get("fingerprint") == fingerprint(solution)
    except (OSError, ValueError):
        fresh = False
    if not fresh:
        say(f"building the autograder for {name} ...")
        assign(solution, build_dir, run_tests=False)
    return zip_path


# --------------------------------------------------------------------------
# build-exercises

def _read_manifest(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def build_exercises(solutions_dir: Path, exercises_dir: Path, build_dir: Path, *,
                    force: bool = False, run_tests: bool = True, names: list[str] | None = None,
                    say: Callable[[str], None] = print) -> int:
    """Generate ``exercises/`` and the autograders from ``solutions/``.

    Args:
        solutions_dir, exercises_dir, build_dir: the three folders.
        force: overwrite exercise notebooks that differ from what was generated
            last time (a copy of each goes to ``build_dir/exercises/replaced/``).
        run_tests: let otter grade each solution with its autograder first; a
            solution that does not get full marks is reported and its exercise
            left as it is.
        names: only these exercises (default: all).
        say: where to report, one line per event.

    Returns:
        0 if every exercise notebook is what its solution generates, 1 if one
        was kept (differs, no ``force``) or failed to build.
    """
    solutions_dir, exercises_dir, build_dir = map(Path, (solutions_dir, exercises_dir, build_dir))
    solutions = solution_notebooks(solutions_dir)
    if names:
        known = {p.stem: p for p in solutions}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ExerciseError(f"no solution notebook for {', '.join(unknown)} in {solutions_dir}; "
                                f"exercises: {', '.join(known) or 'none'}")
        solutions = [known[n] for n in names]
    if not solutions:
        say(f"no solution notebooks (NN_topic.ipynb) in {solutions_dir}: nothing to build")
        return 0
    exercises_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = exercises_dir / MANIFEST
    manifest = _read_manifest(manifest_path)
    status = 0
    for solution in solutions:
        target = exercises_dir / solution.name
        try:
            built = assign(solution, build_dir, run_tests=run_tests)
        except ExerciseError as exc:
            say(f"FAILED {solution}: {exc}\n  left {target} as it is")
            status = 1
            continue
        say(f"autograder: {built.autograder_zip} ({sum(built.points.values()):g} points: "
            + ", ".join(f"{q} {p:g}" for q, p in built.points.items()) + ")")
        new_hash = sha256(built.student)
        recorded = manifest.get(solution.name, {}).get("sha256")
        if not target.exists():
            target.write_bytes(built.student)
            say(f"created {target}")
        else:
            current = target.read_bytes()
            if current == built.student:
                say(f"up to date: {target}")
            elif sha256(current) == recorded or force:
                if sha256(current) != recorded:
                    backup = build_dir / "exercises" / "replaced" / (
                        f"{solution.stem}-{datetime.datetime.now():%Y%m%d-%H%M%S}.ipynb")
                    backup.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(target, backup)
                    say(f"replaced {target} (--force); the previous file is saved as {backup}")
                else:
                    say(f"updated {target}")
                target.write_bytes(built.student)
            else:
                say(f"KEPT {target}: it differs from what build-exercises generated last time "
                    "(edited by hand, or a student's work?).\n"
                    f"  The new version is {built.student_path}; to replace yours with it, run "
                    "`lecture-utils build-exercises --force` (your file is then saved in "
                    f"{build_dir / 'exercises' / 'replaced'}).")
                status = 1
                continue
        manifest[solution.name] = {"sha256": new_hash, "solution": f"{solutions_dir.name}/{solution.name}"}
    orphans = sorted(p.name for p in exercises_dir.glob("*.ipynb")
                     if not (solutions_dir / p.name).exists())
    for orphan in orphans:
        say(f"note: {exercises_dir / orphan} has no solution notebook in {solutions_dir}; left as it is")
    text = json.dumps(dict(sorted(manifest.items())), indent=1, ensure_ascii=False) + "\n"
    if not manifest_path.exists() or manifest_path.read_text() != text:
        manifest_path.write_text(text)
    return status


# --------------------------------------------------------------------------
# Comparing notebooks for the "exercises/ is what solutions/ generates" test.

def comparable(notebook_bytes: bytes) -> dict:
    """A notebook reduced to what matters for "is it the generated one?":
    cells (type, source, metadata) and metadata, with the tests compared by
    their syntax tree (``ast.unparse`` formats a little differently across
    Python versions)."""
    import ast

    nb = json.loads(notebook_bytes)
    meta = copy.deepcopy(nb.get("metadata", {}))
    tests = meta.get("otter", {}).pop("tests", {}) if isinstance(meta.get("otter"), dict) else {}
    meta.get("language_info", {}).pop("version", None)
    return {
        "cells": [(c.get("cell_type"), "".join(c.get("source", "")), c.get("metadata", {}), c.get("id"))
                  for c in nb.get("cells", [])],
        "metadata": meta,
        "tests": {k: ast.dump(ast.parse(v)) if isinstance(v, str) else v for k, v in tests.items()},
    }


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `lecture-utils build-exercises`")
