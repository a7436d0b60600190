"""The grades of ``lecture-utils grade``, exported for a learning platform's
gradebook (host side): a CSV that Canvas's or Moodle's gradebook import
accepts, one row per student of a roster.

Who does what:

- :func:`read_roster` reads the class list: a CSV with a header row, and the
  column (``key``) that names each student: an id, a login, or the name the
  student's submissions carry. Canvas's own gradebook export is a roster (its
  "Points Possible" row is skipped). A roster without the column, with a row
  without a key or with the same key twice is refused with a
  :class:`~lecture_utils.grading.grades.GradesError` naming the file, the row
  and what is wrong.
- :func:`match` finds each graded submission's student: the roster entry
  whose key is one of the names the submission's path holds (see
  :func:`names`). Nothing is dropped silently: a submission that matches no
  student, or several, a student with two submissions for one exercise, a
  student without one, and a submission of an unknown exercise are each
  listed in the :class:`Match`, and :func:`summary` says them to the
  instructor. Without a roster each student is the one the file names
  (:func:`~lecture_utils.grading.grades.student_of`).
- :func:`write_canvas` and :func:`write_moodle` write the import files: one
  column per exercise with each student's total points (empty where the
  student has no submission); Moodle's also one feedback column per exercise
  with the points of each question.

The files are written beside their destination and renamed into place, so a
failed export never leaves half a file where a good one was, and an existing
file is replaced only when asked to. Every text cell (a submission's name,
a roster's text) goes through :func:`~lecture_utils.grading.safetext.csv_cell`:
no formula reaches the instructor's spreadsheet.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from ..exercises import as_points
from .grades import GRADED, Grades, GradesError, Result, read_rows, student_of, write_rows
from .safetext import LABEL_LIMIT, clean, csv_cell

POINTS_POSSIBLE = "Points Possible"
# Canvas's gradebook import and export: the columns that say who a row is
# (Canvas Instructor Guide, "How do I import grades in the Gradebook?",
# https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807,
# and "How do I export grades in the Gradebook?",
# https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-export-grades-in-the-Gradebook/ta-p/809)
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_IDS = ("ID", "SIS User ID", "SIS Login ID")   # Canvas matches a row to a student by one of these
LIST_LIMIT = 20     # names listed in one line of the summary; the rest are counted


# --------------------------------------------------------------------------
# The roster

@dataclasses.dataclass
class Entry:
    """One student of the roster: its key and its row's cells."""

    key: str
    row: int                      # in the roster file, counting the header as row 1
    fields: dict[str, str]        # column -> text (stripped)


@dataclasses.dataclass
class Roster:
    """A class list read by :func:`read_roster`."""

    path: str
    key: str                      # the column that names each student
    columns: list[str]            # as the header names them, in order
    entries: list[Entry]          # in the file's order

    @property
    def keys(self) -> list[str]:
        return [e.key for e in self.entries]


def read_roster(path: str | Path, key: str) -> Roster:
    """The roster CSV ``path`` (UTF-8, a byte order mark allowed), each
    student named by the column ``key``. Keys are compared ignoring case, as
    :func:`match` compares them; Canvas's "Points Possible" row (the first
    cell, stripped, says so) is skipped.

    Raises:
        GradesError: no such file, an empty file, no column ``key`` (the
            message lists the columns there are), a row without a key, or the
            same key in two rows (the message names both).
    """
    path = str(path)
    rows = read_rows(path)
    numbered = [(n, row) for n, row in enumerate(rows, start=1) if any(cell.strip() for cell in row)]
    if not numbered:
        raise GradesError(f"{path}: empty; expected a roster: a header row naming the columns, "
                          "then one row per student")
    header_row, header = numbered[0]
    columns = [cell.strip() for cell in header]
    if key not in columns:
        similar = [c for c in columns if c.casefold() == key.strip().casefold()]
        hint = f" (did you mean {similar[0]!r}?)" if similar else ""
        raise GradesError(f"{path}: no column {key!r}{hint}; its columns are "
                          + ", ".join(repr(c) for c in columns if c))
    if columns.count(key) > 1:
        raise GradesError(f"{path}: the column {key!r} twice in the header (row {header_row})")
    at = columns.index(key)
    entries: list[Entry] = []
    first: dict[str, Entry] = {}    # casefolded key -> the entry that has it
    for number, row in numbered[1:]:
        where = f"{path}, row {number}"
        cells = [cell.strip() for cell in row]
        if cells and cells[0] == POINTS_POSSIBLE:
            continue
        if len(cells) > len(columns) and any(cells[len(columns):]):
            raise GradesError(f"{where}: {len(cells)} fields; the header has {len(columns)}")
        cells += [""] * (len(columns) - len(cells))
        value = cells[at]
        if not value:
            raise GradesError(f"{where}: no {key} (its {key!r} cell is empty)")
        fields: dict[str, str] = {}
        for column, cell in zip(columns, cells):
            fields.setdefault(column, cell)
        seen = first.get(value.casefold())
        if seen is not None:
            spelled = "" if seen.key == value else f" (as {seen.key!r} in row {seen.row}; keys are compared ignoring case)"
            raise GradesError(f"{path}, rows {seen.row} and {number}: the {key} {value!r} twice{spelled}")
        entry = Entry(value, number, fields)
        first[value.casefold()] = entry
        entries.append(entry)
    return Roster(path, key, columns, entries)


# --------------------------------------------------------------------------
# Whose submission is it

def names(label: str, exercise: str) -> set[str]:
    """The names a submission's path holds, casefolded: the student its file
    names (:func:`~lecture_utils.grading.grades.student_of`), the file's stem,
    each folder's name, and each token of the path split on what is not a
    letter or a digit (``re.split(r"[\\W_]+", label)``).

    ``subs/S-12/05_gradient_clipping_alice.ipynb`` holds ``alice``,
    ``05_gradient_clipping_alice``, ``subs``, ``s-12``, ``s``, ``12``,
    ``05``, ``gradient``, ``clipping`` and ``ipynb``.
    """
    parts = [p for p in re.split(r"[/\\]", label) if p not in ("", ".", "..")]
    found = {student_of(label, exercise), *parts[:-1], *re.split(r"[\W_]+", label)}
    if parts:
        found.add(Path(parts[-1]).stem)
    return {n.casefold() for n in found if n}


@dataclasses.dataclass
class Ambiguous:
    """A submission that matches several students: exported for none."""

    result: Result
    students: list[str]


@dataclasses.dataclass
class Duplicate:
    """A second submission of one student for one exercise: the one with more
    points (``kept``; on a tie a graded one, then the first read) is exported,
    ``dropped`` is not."""

    student: str
    exercise: str
    kept: Result
    dropped: Result


@dataclasses.dataclass
class Match:
    """Each submission's student, and every submission or student that did
    not find its counterpart (see :func:`match`)."""

    students: list[str]                      # one row each: the roster's keys in order, or the files' students sorted
    exercises: list[str]                     # the grades' exercises, sorted
    matched: dict[str, dict[str, Result]]    # student -> exercise -> the submission exported
    unmatched: list[Result]                  # no student in the roster
    ambiguous: list[Ambiguous]               # several students in the roster
    duplicates: list[Duplicate]              # a student's second submission for an exercise
    missing: dict[str, list[str]]            # student -> the exercises without a submission
    unknown_exercise: list[Result]           # exercise "": not exported
    roster: Roster | None


def _better(new: Result, old: Result) -> bool:
    return (new.points, new.status == GRADED) > (old.points, old.status == GRADED)


def exercises_of(grades: Grades) -> list[str]:
    """The exercises the grades hold, sorted (``""``, unknown, left out)."""
    return sorted(set(grades.questions) | {r.exercise for r in grades.results if r.exercise})


def match(grades: Grades, roster: Roster | None) -> Match:
    """Each submission of ``grades`` with its student.

    With a roster, a submission is a student's when the student's key,
    ignoring case, is one of the :func:`names` its path holds: the student its
    file names (:func:`~lecture_utils.grading.grades.student_of`), the file's
    stem, a folder's name, or a token of the path split on what is not a
    letter or a digit. So ``subs/s123/notebook.ipynb``,
    ``s123_05_gradient_clipping.ipynb`` and ``05_gradient_clipping-S123.zip``
    are all the student ``s123``'s; a roster keyed by the submissions' names
    matches ``alice_05_gradient_clipping`` by the stem.

    Without a roster (``None``) each submission is the student its file names,
    compared ignoring case (spelled as first read), one row each.

    Nothing is dropped silently: a submission that matches no student is
    ``unmatched``, one that matches several is ``ambiguous`` (exported for
    none of them); of one student's two submissions for one exercise the one
    with more points is exported and the other listed in ``duplicates``; each
    student's exercises without a submission are ``missing``; and a
    submission of an unknown exercise is in ``unknown_exercise``.
    """
    exercises = exercises_of(grades)
    matched: dict[str, dict[str, Result]] = {}
    unmatched: list[Result] = []
    ambiguous: list[Ambiguous] = []
    duplicates: list[Duplicate] = []
    unknown: list[Result] = []
    if roster is not None:
        index = {e.key.casefold(): i for i, e in enumerate(roster.entries)}
        students = roster.keys
    else:
        index = {}
        spelled: dict[str, str] = {}
    for result in grades.results:
        if not result.exercise:
            unknown.append(result)
            continue
        if roster is not None:
            hits = sorted({index[n] for n in names(result.label, result.exercise) if n in index})
            if not hits:
                unmatched.append(result)
                continue
            if len(hits) > 1:
                ambiguous.append(Ambiguous(result, [roster.entries[i].key for i in hits]))
                continue
            student = roster.entries[hits[0]].key
        else:
            named = student_of(result.label, result.exercise)
            student = spelled.setdefault(named.casefold(), named)
        mine = matched.setdefault(student, {})
        old = mine.get(result.exercise)
        if old is None:
            mine[result.exercise] = result
        elif _better(result, old):
            mine[result.exercise] = result
            duplicates.append(Duplicate(student, result.exercise, result, old))
        else:
            duplicates.append(Duplicate(student, result.exercise, old, result))
    if roster is None:
        students = sorted(matched, key=lambda s: (s.casefold(), s))
    missing = {}
    for student in students:
        lacking = [x for x in exercises if x not in matched.get(student, {})]
        if lacking:
            missing[student] = lacking
    # a duplicate's `kept` is the one exported in the end (a third submission may have beaten it)
    for d in duplicates:
        d.kept = matched[d.student][d.exercise]
    return Match(students, exercises, matched, unmatched, ambiguous, duplicates, missing, unknown, roster)


# --------------------------------------------------------------------------
# The files

def _text(value: float) -> str:
    return f"{as_points(value):g}"


def possible(grades: Grades, exercise: str) -> float | None:
    """An exercise's points: the sum of its questions' (from the submissions'
    TOTAL rows when no question row says it); None when nothing says it."""
    questions = grades.questions.get(exercise)
    if questions:
        return sum(questions.values())
    totals = [r.possible for r in grades.of(exercise) if r.possible is not None]
    return max(totals) if totals else None


def _check(match: Match, roster: Roster | None) -> None:
    if match.roster is not roster and (roster is None or match.roster is None or match.students != roster.keys):
        raise ValueError("the match was made with another roster than the one given: match(grades, roster) first")


def _write(out_path: str | Path, rows: list[list], overwrite: bool) -> None:
    """``rows`` as a CSV at ``out_path``: written to ``out_path.partial``, then
    renamed into place. Text through :func:`csv_cell`, numbers as numbers."""
    path = Path(out_path)
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise GradesError(f"{path}: exists already; not replaced (choose another name, or ask to overwrite it)")
    try:
        write_rows(path, [["" if cell is None else as_points(cell) if isinstance(cell, float) else csv_cell(cell)
                           for cell in row] for row in rows])
    except OSError as exc:
        raise GradesError(f"{path}: cannot be written: {exc}") from None


def _points(result: Result | None) -> float | None:
    return None if result is None else float(result.points)


def canvas_column(exercise: str, roster: Roster) -> str:
    """The column of ``exercise`` in a Canvas import: the roster's column for
    it when the roster is Canvas's export ("05_gradient_clipping (12345)": the
    assignment's id in brackets), else the exercise's name (Canvas then
    creates a new assignment).

    Raises:
        GradesError: two columns of the roster are the exercise's.
    """
    found = [c for c in roster.columns if c.startswith(exercise + " (")]
    if len(found) > 1:
        raise GradesError(f"{roster.path}: the columns {', '.join(repr(c) for c in found)} are all "
                          f"{exercise}: which assignment should its grades go to? Remove the others from the roster")
    return found[0] if found else exercise


def write_canvas(grades: Grades, match: Match, out_path: str | Path, roster: Roster | None, *,
                 overwrite: bool = False) -> None:
    """Canvas's gradebook import file: the columns ``Student, ID, SIS User
    ID, SIS Login ID, Section`` (from the roster's columns of those names,
    empty where it has none; Student falls back to the key), then one column
    per exercise (see :func:`canvas_column`); a ``Points Possible`` row with
    each exercise's points; then one row per roster entry with its total
    points per exercise, empty where it has no submission.

    Raises:
        GradesError: no roster, or a roster with none of ``ID``, ``SIS User
            ID``, ``SIS Login ID`` (Canvas cannot tell whose a row is), or a
            row with all three empty; ``out_path`` exists and not
            ``overwrite``; it cannot be written.
    """
    # Canvas Instructor Guide, "How do I import grades in the Gradebook?"
    # (https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807)
    # and "How do I export grades in the Gradebook?" (.../ta-p/809): the import
    # takes the export's layout. A row is matched to its student by ID, SIS
    # User ID or SIS Login ID; an assignment's column is named "<name> (<id>)",
    # and a column without the "(<id>)" creates a new assignment; the second row
    # "Points Possible" gives the points, as in the export. Ohio State's guide to
    # the same import lists what a file needs (a student column, SIS Login ID,
    # Section, the assignments: https://teaching.resources.osu.edu/toolsets/
    # carmencanvas/guides/calculating-final-grades/import-csv-file-carmen-grades),
    # and Canvas's importer takes a row whose first cell matches /Points Possible/
    # as the assignments' points, not a student (instructure/canvas-lms,
    # app/models/gradebook_importer.rb, check_for_non_student_row).
    ids = [c for c in CANVAS_IDS if roster is not None and c in roster.columns]
    if not ids:
        where = f"the roster {roster.path} has" if roster is not None else "without a roster there is"
        raise GradesError(f"{where} no column ID, SIS User ID or SIS Login ID: Canvas cannot match students "
                          "without one of them. A roster exported from Canvas's gradebook (Grades > Export) "
                          "has them")
    _check(match, roster)
    nameless = [e.row for e in roster.entries if not any(e.fields.get(c) for c in ids)]
    if nameless:
        shown = ", ".join(map(str, nameless[:LIST_LIMIT])) + (f" and {len(nameless) - LIST_LIMIT} more"
                                                             if len(nameless) > LIST_LIMIT else "")
        raise GradesError(f"{roster.path}, row{'s' if len(nameless) > 1 else ''} {shown}: no {' or '.join(ids)}: "
                          "Canvas cannot match such a row to its student")
    columns = [canvas_column(x, roster) for x in match.exercises]
    rows: list[list] = [list(CANVAS_COLUMNS) + columns]
    top = [possible(grades, x) for x in match.exercises]
    rows.append([POINTS_POSSIBLE, "", "", "", ""] + [None if t is None else float(t) for t in top])
    for entry in roster.entries:
        who = [entry.fields.get(c, "") for c in CANVAS_COLUMNS]
        who[0] = who[0] or entry.key
        got = match.matched.get(entry.key, {})
        rows.append(who + [_points(got.get(x)) for x in match.exercises])
    _write(out_path, rows, overwrite)


def feedback(grades: Grades, result: Result) -> str:
    """A submission's points per question, "q1 3/3, q2 0/4"; for one that was
    not graded its status ("timeout")."""
    if not result.graded:
        return result.status
    order = list(grades.questions.get(result.exercise, {}))
    questions = sorted(result.answers, key=lambda q: order.index(q) if q in order else len(order))
    return ", ".join(f"{q} {_text(result.answers[q].points)}/{_text(result.answers[q].max)}" for q in questions)


def write_moodle(grades: Grades, match: Match, out_path: str | Path, roster: Roster | None, key: str, *,
                 overwrite: bool = False) -> None:
    """Moodle's grade import file ("Import grades from CSV"): the column
    ``key`` naming each student (the roster's key; without a roster, the
    student the files name), one column per exercise with its total points,
    and one ``<exercise> feedback`` column per exercise with the points per
    question (:func:`feedback`); one row per student, empty where the student
    has no submission.

    Raises:
        GradesError: ``out_path`` exists and not ``overwrite``; it cannot be
            written.
    """
    # Moodle Docs, "Grade import" (https://docs.moodle.org/en/Grade_import) and
    # "Import grades" (https://docs.moodle.org/en/Import_grades): on import the
    # teacher maps one column to a user field (username, email address, ID
    # number or user id) and each other column to a grade item or to its
    # feedback ("Map from" / "Map to"); a grade item's feedback is imported with
    # its grade, so both columns are written (the page's Note 3).
    _check(match, roster)
    rows: list[list] = [[key] + match.exercises + [f"{x} feedback" for x in match.exercises]]
    for student in match.students:
        got = match.matched.get(student, {})
        rows.append([student] + [_points(got.get(x)) for x in match.exercises]
                    + [feedback(grades, got[x]) if x in got else "" for x in match.exercises])
    _write(out_path, rows, overwrite)


# --------------------------------------------------------------------------
# What the instructor reads

def _listed(heading: str, items: list[str]) -> list[str]:
    lines = [heading] + [f"  - {item}" for item in items[:LIST_LIMIT]]
    if len(items) > LIST_LIMIT:
        lines.append(f"  … and {len(items) - LIST_LIMIT} more")
    return lines


def _label(result: Result) -> str:
    return clean(result.label, LABEL_LIMIT)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(match: Match) -> list[str]:
    """Lines for the terminal: how many submissions matched a student, and
    each that did not (unknown exercise, unmatched, ambiguous), each
    duplicate and each student's missing exercises, by name (at most
    ``LIST_LIMIT`` per list, then how many more)."""
    exported = sum(len(x) for x in match.matched.values())
    if match.roster is not None:
        lines = [f"{_plural(exported, 'submission')} matched to {len(match.matched)} of "
                 f"{_plural(len(match.students), 'student')} in {clean(match.roster.path)}"]
    else:
        lines = [f"{_plural(exported, 'submission')} of {_plural(len(match.students), 'student')} "
                 "(named by their files: no roster)"]
    if match.unknown_exercise:
        lines += _listed(f"{_plural(len(match.unknown_exercise), 'submission')} of an unknown exercise, "
                         "not exported:", [_label(r) for r in match.unknown_exercise])
    if match.unmatched:
        lines += _listed(f"{_plural(len(match.unmatched), 'submission')} matching no student of the roster, "
                         "not exported:", [f"{_label(r)} ({r.exercise})" for r in match.unmatched])
    if match.ambiguous:
        lines += _listed(f"{_plural(len(match.ambiguous), 'submission')} matching several students, "
                         "not exported:",
                         [f"{_label(a.result)} ({a.result.exercise}): {', '.join(clean(s) for s in a.students)}"
                          for a in match.ambiguous])
    if match.duplicates:
        lines += _listed(f"{_plural(len(match.duplicates), 'second submission')} of a student for an exercise, "
                         "not exported (the one with more points is):",
                         [f"{clean(d.student)}, {d.exercise}: {_label(d.dropped)} ({_text(d.dropped.points)} "
                          f"points, {d.dropped.status}); exported {_label(d.kept)} ({_text(d.kept.points)} points)"
                          for d in match.duplicates])
    if match.missing:
        lines += _listed(f"{_plural(len(match.missing), 'student')} without a submission for an exercise:",
                         [f"{clean(s)}: {', '.join(xs)}" for s, xs in match.missing.items()])
    return lines
