"""The grades CSV that ``lecture-utils grade`` writes, read back (host side),
and what a class's grades say: item analysis and the common mistakes.

The CSV has one row per submission and question, and one ``TOTAL`` row per
submission, with the columns :data:`COLUMNS`. :func:`read` reads one or more
of them (several exercises, or one exercise graded in parts) and checks them:
a file that is not ours, from an older version (no ``exercise`` column), with
missing columns, points that are not numbers or above the question's
maximum, a submission without its ``TOTAL`` row, or the same submission
twice, is refused with a :class:`GradesError` naming the file, the row and
what is wrong.

What a class's grades say, per exercise, over the submissions that were
graded (one that timed out or died scores 0 on every question without having
answered, so item analysis leaves it out and the class page counts it apart):

- :func:`items`: for each question its **difficulty** (the mean share of its
  points: 1 is easy) and its **discrimination**, the corrected item-total
  correlation: Pearson's correlation between the question's points and the
  points of the *other* questions (the total without this question), so the
  question is not correlated with itself. A negative value means students who
  do well elsewhere do worse here: a question to reread. See e.g. Crocker &
  Algina, *Introduction to Classical and Modern Test Theory* (1986), ch. 14.
- :func:`mistakes`: for each question, its failing checks' messages grouped
  by what they diagnose. The checks (:mod:`lecture_utils.grading.checks`)
  write a student's own values into their messages ("by_norm[0] = 0.3521;
  expected 0.6690 — you divided by the squared norm"), so the numbers and
  quoted texts are taken out before grouping: the same diagnosis with
  different numbers is one group.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import math
import os
import re
from pathlib import Path
from typing import Iterable

from ..exercises import _question_order
from .safetext import uncsv_cell

COLUMNS = ("submission", "exercise", "question", "points", "max", "status", "message", "sandbox")
# what grade wrote before the exercise column (issue 32): recognised, to say so
OLDER_COLUMNS = ("submission", "question", "points", "max", "status", "message", "sandbox")
TOTAL = "TOTAL"
GRADED = "graded"
HIDDEN = "(hidden) "
SEPARATOR = " | "      # between the messages of a question's failing checks (submission.py)
_EXERCISE = re.compile(r"^\d\d_\w+$")


class GradesError(ValueError):
    """A grades CSV that cannot be read: the message names the file, the row
    (counting the header as row 1, as a spreadsheet does) and what is wrong."""


@dataclasses.dataclass
class Answer:
    """One question of one submission."""

    points: float
    max: float
    status: str           # passed, partial, failed, not graded
    message: str          # the failing checks' messages, SEPARATOR between them


@dataclasses.dataclass
class Result:
    """One submission: its TOTAL row and its questions."""

    label: str            # the submission as the CSV names it (its path)
    exercise: str         # "" when it could not be identified
    status: str           # graded, timeout, kernel died, invalid notebook, ...
    points: float
    possible: float | None
    note: str             # the TOTAL row's message
    answers: dict[str, Answer]
    file: str             # where it was read: the CSV and the TOTAL row's number
    row: int

    @property
    def graded(self) -> bool:
        return self.status == GRADED


@dataclasses.dataclass
class Grades:
    """Every submission of one or more grades CSVs."""

    results: list[Result]
    questions: dict[str, dict[str, float]]   # exercise -> question -> its points, in order
    files: list[str]

    def of(self, exercise: str) -> list[Result]:
        return [r for r in self.results if r.exercise == exercise]


def _number(text: str, what: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise GradesError(f"{where}: {what} is {text!r}, not a number") from None
    if not math.isfinite(value):
        raise GradesError(f"{where}: {what} is {text!r}, not a finite number")
    return value


def read_rows(path: str | Path) -> list[list[str]]:
    """The rows of the CSV file ``path`` (UTF-8, with or without a byte-order mark).

    Raises:
        GradesError: no such file, or not a CSV in UTF-8.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return list(csv.reader(f))
    except FileNotFoundError:
        raise GradesError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise GradesError(f"{path}: cannot be read as a CSV in UTF-8: {exc}") from None


def write_rows(path: str | Path, rows: Iterable[list]) -> None:
    """``rows`` (cells ready to write) as the CSV file ``path``: written to
    ``path.partial``, on disk (synced), then renamed into place, so a CSV cut
    short never takes the place of a good one; the partial file is removed if
    writing fails.

    Raises:
        OSError: it cannot be written.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)
            f.flush()
            os.fsync(f.fileno())   # on disk before it takes the place of the last good file
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def counted(values: Iterable[float]) -> dict[float, int]:
    """value -> how many times it occurs, smallest value first."""
    return dict(sorted(collections.Counter(values).items()))


def _header(path: str, first: list[str]) -> None:
    got = tuple(cell.strip() for cell in first)
    if got == COLUMNS:
        return
    if got == OLDER_COLUMNS:
        raise GradesError(f"{path}: written by an older `lecture-utils grade` (it has no 'exercise' column): "
                          "grade the submissions again with this version (`--resume` does not apply: "
                          "start a new CSV)")
    missing = [c for c in COLUMNS if c not in got]
    if len(missing) < len(COLUMNS) - 2:
        raise GradesError(f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
                          f"a grades CSV has the columns {', '.join(COLUMNS)}")
    raise GradesError(f"{path}: not a grades CSV of `lecture-utils grade` (its first row is "
                      f"{', '.join(got[:8]) or 'empty'}); expected the columns {', '.join(COLUMNS)}")


def read(paths: Iterable[str | Path]) -> Grades:
    """Every submission in the grades CSVs ``paths``, checked.

    Raises:
        GradesError: a file that cannot be read as a grades CSV (the message
            says which, where and why).
    """
    results: list[Result] = []
    questions: dict[str, dict[str, float]] = {}
    first_max: dict[tuple[str, str], str] = {}   # (exercise, question) -> where its maximum was first read
    seen: dict[tuple[str, str], str] = {}        # (exercise, submission) -> where it was first read
    files = []
    for path in map(str, paths):
        files.append(path)
        rows = read_rows(path)
        if not rows:
            raise GradesError(f"{path}: empty; expected a grades CSV written by `lecture-utils grade`")
        _header(path, rows[0])
        pending: dict[str, dict] = {}   # submission -> its questions, until its TOTAL row
        for number, row in enumerate(rows[1:], start=2):
            where = f"{path}, row {number}"
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(COLUMNS):
                raise GradesError(f"{where}: {len(row)} fields; a grades CSV has {len(COLUMNS)} "
                                  f"({', '.join(COLUMNS)})")
            label, exercise, question, points, maximum, status, message, _ = (uncsv_cell(c) for c in row)
            if not label:
                raise GradesError(f"{where}: no submission named")
            if exercise and not _EXERCISE.match(exercise):
                raise GradesError(f"{where}: the exercise {exercise!r} is not an exercise's name "
                                  "(two digits, an underscore and a topic, e.g. 05_gradient_clipping)")
            if not question:
                raise GradesError(f"{where}: no question named")
            got = _number(points, "points", where)
            top = _number(maximum, "max", where) if maximum.strip() else None
            if top is None and question != TOTAL:
                raise GradesError(f"{where}: {question} of {label} has no maximum")
            if got < 0:
                raise GradesError(f"{where}: {question} of {label} has {points} points, below 0")
            if top is not None and got > top + 1e-9:
                raise GradesError(f"{where}: {question} of {label} has {points} points, above its maximum {maximum}")
            key = (exercise, label)
            if key in seen:
                raise GradesError(f"{where}: {label} ({exercise or 'no exercise'}) again; it was already read "
                                  f"at {seen[key]}")
            entry = pending.setdefault(label, {"exercise": exercise, "answers": {}})
            if entry["exercise"] != exercise:
                raise GradesError(f"{where}: {label} is {exercise or 'no exercise'} here and "
                                  f"{entry['exercise'] or 'no exercise'} in the rows above")
            if question != TOTAL:
                if question in entry["answers"]:
                    raise GradesError(f"{where}: {question} of {label} twice")
                entry["answers"][question] = Answer(got, top, status, message)
                if exercise:
                    known = questions.setdefault(exercise, {})
                    if question in known and abs(known[question] - top) > 1e-9:
                        raise GradesError(f"{where}: {question} of {exercise} is worth {maximum} points here and "
                                          f"{known[question]:g} at {first_max[(exercise, question)]} (graded "
                                          "with two versions of the autograder?)")
                    if question not in known:
                        known[question], first_max[(exercise, question)] = top, where
                continue
            del pending[label]
            seen[key] = where
            graded = [a.points for a in entry["answers"].values()]
            if status == GRADED and abs(sum(graded) - got) > 1e-6 * max(1.0, got):
                raise GradesError(f"{where}: the TOTAL of {label} is {points}, but its questions add up to "
                                  f"{sum(graded):g}")
            results.append(Result(label, exercise, status, got, top, message, entry["answers"], path, number))
        if pending:
            label = next(iter(pending))
            raise GradesError(f"{path}: {label} has no TOTAL row (the file was cut short, or edited)")
    for exercise, known in questions.items():
        questions[exercise] = dict(sorted(known.items(), key=lambda kv: _question_order(kv[0])))
    return Grades(results, dict(sorted(questions.items())), files)


# --------------------------------------------------------------------------
# Item analysis

@dataclasses.dataclass
class Item:
    """One question over the graded submissions of its exercise."""

    question: str
    max: float
    n: int                        # graded submissions
    mean: float
    full: float                   # share with every point
    difficulty: float             # mean / max: 1 is easy, 0 is hard
    discrimination: float | None  # corrected item-total correlation; None where undefined
    counts: dict[float, int]      # points -> submissions
    flags: list[str]


def correlation(x: list[float], y: list[float]) -> float | None:
    """Pearson's correlation of ``x`` and ``y``; None when either is constant."""
    n = len(x)
    if n < 2:
        return None
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return sxy / math.sqrt(sxx * syy)


def items(grades: Grades, exercise: str) -> list[Item]:
    """Difficulty and discrimination of each question of ``exercise``, over its
    graded submissions (see the module's docstring)."""
    graded = [r for r in grades.of(exercise) if r.graded]
    out = []
    for question, top in grades.questions.get(exercise, {}).items():
        points = [r.answers[question].points if question in r.answers else 0.0 for r in graded]
        rest = [r.points - p for r, p in zip(graded, points)]
        n = len(points)
        mean = sum(points) / n if n else 0.0
        full = sum(p >= top - 1e-9 for p in points) / n if n else 0.0
        difficulty = mean / top if n and top else 0.0
        discrimination = correlation(points, rest)
        flags = []
        if n and full == 0:
            flags.append("nobody gets every point")
        if n and full == 1:
            flags.append("everybody gets every point")
        if discrimination is not None and discrimination < 0:
            flags.append("discriminates negatively: students who do well on the rest do worse here")
        out.append(Item(question, top, n, mean, full, difficulty, discrimination, counted(points),
                        flags))
    return out


# --------------------------------------------------------------------------
# The common mistakes

_NUMBER = re.compile(r"(?<![\w.])[-+−]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w])|\b(?:nan|inf)\b")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_RUN = re.compile(r"#(?:[\s,;]*(?:#|\.\.\.|…))+")
_PREFIX = re.compile(r"^(Incorrect|NotAnswered|AssertionError|\w+Error): ")


@dataclasses.dataclass
class Failure:
    """One failing check of one submission's question, as the CSV says it."""

    hidden: bool
    kind: str        # Incorrect, NotAnswered, or the error's name
    text: str        # the message without the prefixes


def failures(message: str) -> list[Failure]:
    """The failing checks in a question's message (``SEPARATOR`` between them)."""
    out = []
    for part in message.split(SEPARATOR) if message else []:
        part = part.strip()
        hidden = part.startswith(HIDDEN)
        if hidden:
            part = part[len(HIDDEN):]
        m = _PREFIX.match(part)
        kind = m.group(1) if m else ""
        out.append(Failure(hidden, kind, part[m.end():] if m else part))
    return out


def diagnosis(text: str) -> str:
    """``text`` with its numbers (``#``) and quoted texts (``"…"``) taken out:
    what stays is what the check diagnoses."""
    text = _QUOTED.sub('"…"', text)
    text = _NUMBER.sub("#", text)
    return _RUN.sub("#…", text)


@dataclasses.dataclass
class Mistake:
    """A group of failing checks that diagnose the same thing."""

    question: str
    kind: str
    hidden: bool
    diagnosis: str     # with # for the numbers
    count: int         # submissions
    share: float       # of the exercise's graded submissions
    example: str       # one message as written (the first submission's)
    example_label: str
    labels: list[str]


def mistakes(grades: Grades, exercise: str) -> dict[str, list[Mistake]]:
    """For each question of ``exercise``, its failing checks grouped by
    diagnosis over the graded submissions, most frequent first (a submission
    counts once per group)."""
    graded = [r for r in grades.of(exercise) if r.graded]
    out: dict[str, list[Mistake]] = {}
    for question in grades.questions.get(exercise, {}):
        groups: dict[tuple, Mistake] = {}
        for r in graded:
            answer = r.answers.get(question)
            if answer is None or answer.status == "passed":
                continue
            for failure in failures(answer.message):
                key = (failure.kind, failure.hidden, diagnosis(failure.text))
                group = groups.get(key)
                if group is None:
                    group = groups[key] = Mistake(question, failure.kind, failure.hidden, key[2], 0, 0.0,
                                                  failure.text, r.label, [])
                if not group.labels or group.labels[-1] != r.label:
                    group.labels.append(r.label)
                    group.count += 1
        for group in groups.values():
            group.share = group.count / len(graded)
        out[question] = sorted(groups.values(), key=lambda g: (-g.count, g.diagnosis))
    return out


# --------------------------------------------------------------------------
# Who handed it in

def student_of(label: str, exercise: str) -> str:
    """The student a submission is from, by its name alone (without a roster):
    the file's name without the exercise's name or number
    (``alice_05_gradient_clipping.ipynb``, ``05-alice.ipynb``: ``alice``), or,
    when nothing else is left, its folder's (``alice/05_gradient_clipping.ipynb``)."""
    path = Path(label)
    stem = path.stem
    if exercise:
        stem = stem.replace(exercise, " ")
        stem = re.sub(rf"(?:^|(?<=[\W_])){re.escape(exercise[:2])}(?=$|[\W_])", " ", stem)
    stem = re.sub(r"^[\W_]+|[\W_]+$", "", stem)
    stem = re.sub(r"[\W_]{2,}", "_", stem)
    if stem:
        return stem
    return path.parent.name or path.stem
