"""``lecture-utils``: the course's command line.

    lecture-utils doctor            the environment report and the data verdict
    lecture-utils fetch-data        download Fashion-MNIST into Keras's cache, verified
    lecture-utils build-exercises   generate exercises/ and the autograders from solutions/
    lecture-utils grade SUBMISSIONS... --out grades.csv [--report DIR]
                                    grade submissions, each in a sandbox, one row per question
    lecture-utils report grades.csv... --out DIR
                                    the class's report (HTML) and each student's feedback
    lecture-utils export grades.csv... --format canvas|moodle --roster roster.csv --key COLUMN --out FILE
                                    the gradebook, for Canvas's or Moodle's grade import
    lecture-utils live NOTEBOOK [-o DIR]
                                    a live-coding skeleton: cells tagged 'live' emptied
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _doctor(args) -> int:
    from . import data
    from .profile import environment_report

    try:
        print(environment_report())
    except ValueError as exc:  # an unknown LECTURE_PROFILE
        print(f"error: {exc}", file=sys.stderr)
        return 2
    source = data.find_source()
    if source is None:
        print("\n" + data._not_found_message("it has not been downloaded yet"))
        return 1
    try:
        data.verify(source)
    except data.DataError as exc:
        print(f"\n{exc}")
        return 1
    print(f"\nFashion-MNIST is ready ({source.kind}: {source.path}).")
    from .grading import sandbox

    try:
        print(f"Grading sandbox: {sandbox.check()}.")
    except sandbox.SandboxUnavailable as exc:
        print(f"Grading sandbox: not available -- {exc}.")
    from .grading import memory

    print(f"Grading memory budget: {memory.describe()}.")
    return 0


def _fetch_data(args) -> int:
    from . import data

    target = data.keras_cache_dir()
    try:
        source = data.download()
    except data.DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Fashion-MNIST downloaded and verified in {source.path}" if source.path == target
          else f"Fashion-MNIST verified in {source.path}")
    return 0


def _folders(args) -> tuple:
    from .exercises import course_root

    root = course_root()
    return (Path(args.solutions) if args.solutions else root / "solutions",
            Path(args.exercises) if getattr(args, "exercises", None) else root / "exercises",
            Path(args.build) if args.build else root / "build")


def _otter_missing() -> bool:
    try:
        import otter  # noqa: F401
    except ImportError:
        print("error: otter-grader is not installed; install the dev extra: "
              "pip install -e '.[dev]' (make venv does)", file=sys.stderr)
        return True
    return False


def _build_exercises(args) -> int:
    from . import exercises

    if _otter_missing():
        return 2
    solutions, exercises_dir, build = _folders(args)
    if not solutions.is_dir():
        print(f"error: no solutions folder {solutions} (run from the course folder, or give --solutions)",
              file=sys.stderr)
        return 2
    try:
        return exercises.build_exercises(solutions, exercises_dir, build, force=args.force,
                                         run_tests=not args.no_run_tests, names=args.names or None)
    except exercises.ExerciseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _grade(args) -> int:
    from .grading import batch

    if _otter_missing():
        return 2
    solutions, exercises_dir, build = _folders(args)
    if args.report and Path(args.report).resolve() == Path(args.out).resolve():
        print("error: --report is a folder for the report's pages; --out is the CSV", file=sys.stderr)
        return 2
    try:
        batch.grade(args.submissions, args.out, solutions_dir=solutions, build_dir=build,
                    timeout=args.timeout, jobs=args.jobs, exercise=args.exercise, force=args.force,
                    sandboxed=not args.no_sandbox, memory_budget=args.memory_budget, resume=args.resume,
                    cluster=args.cluster, certs=args.certs, insecure_cluster=args.insecure_cluster)
    except batch.GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    if args.report:
        return _write_report([args.out], args.report, exercises_dir)
    return 0


def _write_report(csvs, out, exercises_dir) -> int:
    from .grading import grades, report

    try:
        report.write(grades.read(csvs), out, exercises_dir=exercises_dir)
    except (grades.GradesError, report.ReportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _report(args) -> int:
    _, exercises_dir, _ = _folders(args)
    return _write_report(args.csvs, args.out, exercises_dir)


def _export(args) -> int:
    from .grading import gradebook, grades

    try:
        if args.format == "canvas" and not args.roster:
            raise grades.GradesError("--format canvas needs --roster: Canvas matches each row to a student by "
                                     "ID, SIS User ID or SIS Login ID (export the gradebook from Canvas and "
                                     "pass it as the roster)")
        if args.roster and not args.key:
            raise grades.GradesError("--roster needs --key COLUMN: the roster's column that holds the id or "
                                     "the name each student's submissions carry")
        graded = grades.read(args.csvs)
        roster = gradebook.read_roster(args.roster, args.key) if args.roster else None
        found = gradebook.match(graded, roster)
        if args.format == "canvas":
            gradebook.write_canvas(graded, found, args.out, roster, overwrite=args.force)
        else:
            gradebook.write_moodle(graded, found, args.out, roster, args.key or "student", overwrite=args.force)
    except grades.GradesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in gradebook.summary(found):
        print(line)
    print(f"wrote {args.out} ({args.format})")
    return 0


def _cluster_certs(args) -> int:
    try:
        from .grading import cluster
    except ImportError:
        print("error: cluster-certs needs Dask's distributed and cryptography: pip install 'lecture-utils[cluster]'",
              file=sys.stderr)
        return 2
    try:
        paths = cluster.make_certificates(args.dir, days=args.days)
    except cluster.ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("wrote " + ", ".join(map(str, paths)))
    return 0


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def _gibibytes(text: str) -> int:
    from .grading.memory import GiB

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of GiB (e.g. 4 or 2.5), got {text!r}") from None
    if not 1 <= value <= 1024:
        raise argparse.ArgumentTypeError(f"must be between 1 and 1024 GiB, got {text}")
    return int(value * GiB)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _live(args) -> int:
    from .live import write_skeleton

    try:
        target, n_live = write_skeleton(Path(args.notebook), Path(args.out), force=args.force)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {target}: {n_live} cell(s) left for you to type")
    return 0


def _folder_options(parser, exercises: bool) -> None:
    parser.add_argument("--solutions", help="the solutions folder (default: solutions/ of the course)")
    if exercises:
        parser.add_argument("--exercises", help="the exercises folder (default: exercises/ of the course)")
    parser.add_argument("--build", help="the build folder (default: build/ of the course)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lecture-utils", description="Helpers for the course "
                                     "'Training deep networks'.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    commands.add_parser("doctor", help="print the environment report and check the data").set_defaults(run=_doctor)
    commands.add_parser("fetch-data", help="download Fashion-MNIST into Keras's cache and verify it"
                        ).set_defaults(run=_fetch_data)

    build = commands.add_parser(
        "build-exercises", help="generate exercises/ and the autograders (build/autograder/) from solutions/",
        description="Run otter assign on every solution notebook: the student notebooks go to exercises/ "
                    "(an exercise notebook that differs from what was generated last time -- edited by "
                    "hand, or a student's work -- is kept unless --force), the autograder zips to "
                    "build/autograder/. Each solution is first graded by its own autograder and must get "
                    "full marks.")
    build.add_argument("names", nargs="*", metavar="NAME",
                       help="only these exercises (e.g. 01_vanishing_gradients); default: all")
    build.add_argument("--force", action="store_true",
                       help="overwrite exercise notebooks that differ from the last generated version "
                            "(a copy of each goes to build/exercises/replaced/)")
    build.add_argument("--no-run-tests", action="store_true",
                       help="do not grade the solutions with their autograders first (faster)")
    _folder_options(build, exercises=True)
    build.set_defaults(run=_build_exercises)

    grade = commands.add_parser(
        "grade", help="grade submissions, each in a sandbox; write one CSV row per submission and question",
        description="Grade each submission (a notebook, a zip of one, or every one in a folder) against "
                    "its exercise's autograder (built if missing), under a time limit. The notebook runs "
                    "in a bubblewrap sandbox (no network, nothing of this machine writable or readable "
                    "but the system and the course's code, bounded memory, CPU time and processes); its "
                    "answers are checked outside it, by a fresh process. A broken submission (not a "
                    "notebook, a cell that raises or never ends, a kernel that dies, another exercise) "
                    "gets rows saying why; the others are graded.")
    grade.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                       help="submission files (.ipynb, .zip) or folders of them")
    grade.add_argument("--out", required=True, help="the CSV to write (e.g. grades.csv)")
    grade.add_argument("--timeout", type=_positive_float, default=300, metavar="SECONDS",
                       help="time limit per submission (default: 300)")
    grade.add_argument("--jobs", type=_positive_int, default=1, metavar="N",
                       help="submissions graded at the same time (default: 1)")
    from .grading.memory import DEFAULT_BUDGET, GiB

    grade.add_argument("--memory-budget", type=_gibibytes, default=DEFAULT_BUDGET, metavar="GIB",
                       help="memory per submission, its notebook and its grading together, in-memory files "
                            f"included (default: {DEFAULT_BUDGET / GiB:g}); --jobs times this must fit in the "
                            "memory available")
    grade.add_argument("--exercise", metavar="NAME",
                       help="grade every submission as this exercise (default: the one its notebook names)")
    grade.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    grade.add_argument("--resume", action="store_true",
                       help="after a batch was stopped (Ctrl-C, a crash, a reboot): grade only the submissions "
                            "it did not grade (from its journal, OUT.journal), and write the whole CSV")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run the notebooks WITHOUT the sandbox, with your permissions (only for "
                            "submissions you trust; every row of the CSV then says so)")
    grade.add_argument("--cluster", metavar="ADDRESS",
                       help="grade on this Dask cluster (tls://HOST:8786), each worker in its own sandbox; "
                            "the CSV is written here")
    grade.add_argument("--certs", metavar="DIR",
                       help="the cluster's certificates (ca.pem, course.pem, course-key.pem: "
                            "`lecture-utils cluster-certs DIR`)")
    grade.add_argument("--insecure-cluster", action="store_true",
                       help="allow a plain tcp:// cluster address on another machine (anyone who reaches "
                            "the scheduler can run code on the cluster)")
    grade.add_argument("--report", metavar="DIR",
                       help="then write the class's report to DIR, as `lecture-utils report` does")
    _folder_options(grade, exercises=True)
    grade.set_defaults(run=_grade)

    rep = commands.add_parser(
        "report", help="the class's report (static HTML) and each student's feedback, from grades CSVs",
        description="Read the CSVs that `grade` wrote (one or several exercises) and write a static HTML "
                    "report to DIR that opens offline in any browser: the class at a glance, per exercise "
                    "each question's difficulty and discrimination and the common mistakes, the gradebook "
                    "(students x exercises), and each submission's feedback (HTML, and Markdown for an "
                    "LMS comment box) in DIR/feedback/. The hints come from the exercise notebooks.")
    rep.add_argument("csvs", nargs="+", metavar="GRADES_CSV", help="CSV files written by `lecture-utils grade`")
    rep.add_argument("--out", required=True, metavar="DIR", help="the report's folder (e.g. report/)")
    rep.add_argument("--exercises", help="the exercises folder, for the hints (default: exercises/ of the course)")
    rep.set_defaults(run=_report, solutions=None, build=None)

    export = commands.add_parser(
        "export", help="the gradebook for Canvas's or Moodle's grade import, matched to a roster",
        description="Read the CSVs that `grade` wrote and write one CSV that a learning platform's "
                    "gradebook imports: one row per student of the roster, one column per exercise with "
                    "the total points (Moodle: and one with the points per question as feedback). Each "
                    "submission is matched to the roster entry whose --key value its path holds (a file "
                    "or folder name, or a word of it). Submissions that match no one or several, students "
                    "with two submissions or none, are listed, never dropped silently.")
    export.add_argument("csvs", nargs="+", metavar="GRADES_CSV", help="CSV files written by `lecture-utils grade`")
    export.add_argument("--format", required=True, choices=("canvas", "moodle"), help="which platform's import")
    export.add_argument("--out", required=True, metavar="FILE", help="the CSV to write")
    export.add_argument("--roster", metavar="CSV",
                        help="the class list (for Canvas: the gradebook exported from Canvas)")
    export.add_argument("--key", metavar="COLUMN",
                        help="the roster's column with each student's id or submission name (e.g. 'SIS Login ID')")
    export.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    export.set_defaults(run=_export)

    certs = commands.add_parser(
        "cluster-certs", help="make a course's own certificates for a grading cluster (TLS)",
        description="Make a certificate authority (ca.pem) and one certificate signed by it (course.pem, "
                    "course-key.pem) in DIR, for the Dask scheduler, its workers and `grade --cluster`: "
                    "all three then require TLS with them. Copy DIR to each machine; keep the key private.")
    certs.add_argument("dir", metavar="DIR")
    certs.add_argument("--days", type=_positive_int, default=365, help="how long they are valid (default: 365)")
    certs.set_defaults(run=_cluster_certs)

    live = commands.add_parser(
        "live", help="write a live-coding skeleton of a lecture notebook",
        description="Copy NOTEBOOK with every code cell tagged 'live' reduced to its leading comment "
                    "line (what to type) and without outputs; everything else stays. Written to "
                    "DIR/<name>_live.ipynb; an existing skeleton is kept unless --force.")
    live.add_argument("notebook", metavar="NOTEBOOK", help="e.g. notebooks/06_transfer_learning.ipynb")
    live.add_argument("-o", "--out", default="live", metavar="DIR", help="output folder (default: live/)")
    live.add_argument("--force", action="store_true", help="replace an existing skeleton")
    live.set_defaults(run=_live)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
