"""The instructor's report of a graded class (host side): static HTML that
opens offline in any browser, and feedback for every student.

``lecture-utils report grades.csv [more.csv …] --out report/`` (or ``grade
… --report report/``) writes

- ``index.html``: the class at a glance, one section per exercise: how many
  submissions, the mean and median, the distribution of totals as a figure,
  how many were not graded and why; the gradebook (students × exercises)
  (one row per student, as the files name them);
- ``NN_topic.html`` per exercise: each question's points, mean, share with
  every point, difficulty and discrimination (:func:`lecture_utils.grading.grades.items`),
  the distribution of its points, flags; then **the common mistakes**, per
  question, grouped by diagnosis with counts, shares and one example each,
  most frequent first (:func:`lecture_utils.grading.grades.mistakes`); then the
  submissions that were not graded;
- ``feedback/NN_topic/STUDENT.html`` and ``.md`` per submission: points per
  question, what went wrong in the checks' own words and the question's hint
  (from the exercise's student notebook). A hidden check's message is shown
  without what it expected (``expected …`` is replaced): a student sees what
  the check found wrong, never the hidden tests' code, expected values or
  another student's anything. The Markdown is for an LMS's comment box.

Everything that came from a submission (its name, the checks' messages,
which quote its values, the errors it raised) is escaped for HTML, and every
page carries a Content-Security-Policy that allows no script at all, so even
a mistake in escaping could not run one in the instructor's browser. No page
loads anything from outside the report folder: the figures are inline SVG.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import re
import statistics
from pathlib import Path
from typing import Callable, Iterable

from . import grades as g
from .. import palette
from .safetext import clean

MARKER = ".lecture-utils-report"


class ReportError(ValueError):
    """A report that cannot be written where it was asked to be."""


CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
NOT_GRADED_ORDER = ("timeout", "kernel died", "memory limit", "invalid notebook", "wrong exercise",
                    "unknown exercise", "error", "not graded")

STYLE = """
body{font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:#1a1a1a;
max-width:72rem;margin:0 auto;padding:1rem 1.5rem 4rem}
h1{font-size:1.7rem;margin:.5rem 0 1rem}h2{font-size:1.35rem;margin-top:2.2rem;border-bottom:1px solid #ccc}
h3{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;margin:.6rem 0 1rem}th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd;
text-align:left;vertical-align:top}th{background:#f3f3f3}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.flag{color:#8a3b00;font-weight:600}.muted{color:#555}.ok{color:#005a8c}
code,.msg{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
.msg{white-space:pre-wrap;overflow-wrap:anywhere}
.hint{background:#f6f6f6;border-left:4px solid #0072B2;padding:.4rem .8rem;white-space:pre-wrap}
nav a{margin-right:1rem}a{color:#005a8c}figure{margin:.5rem 0}.wide{overflow-x:auto;max-width:100%}
figcaption{font-size:.9em;color:#444;max-width:40rem}
"""


def _e(text: object) -> str:
    """Text that may come from a submission, safe in HTML: cleaned of control
    characters (safetext) and escaped, quotes included."""
    return html.escape(clean(text), quote=True)


def _num(x: float | None, digits: int = 2) -> str:
    if x is None:
        return "—"
    x = round(float(x), digits)
    return f"{int(x)}" if x == int(x) else f"{x:.{digits}f}".rstrip("0").rstrip(".")


def _fixed(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def _page(title: str, body: str, depth: int = 0) -> str:
    up = "../" * depth
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="referrer" content="no-referrer">'
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
            f'<nav aria-label="report"><a href="{up}index.html">The class</a></nav>'
            f"<main>{body}</main></body></html>\n")


# --------------------------------------------------------------------------
# Figures: inline SVG bar charts with a text alternative from their numbers

def bars(counts: dict[float, int], title: str, xlabel: str, describe: str, width: int = 560,
         height: int = 200, color: str = palette.BLUE, domain: Iterable[float] = ()) -> str:
    """A bar chart of ``counts`` (value -> submissions), as inline SVG with a
    title, labelled axes and ``describe`` as its text alternative; every
    value of ``domain`` gets a place on the axis, with a bar or without."""
    counts = {**{v: 0 for v in domain}, **counts}
    values = sorted(counts)
    n = len(values)
    top = max(counts.values()) if counts else 0
    left, right, upper, lower = 44, 10, 26, 44
    plot_w, plot_h = width - left - right, height - upper - lower
    slot = plot_w / max(n, 1)
    bar_w = max(min(slot * 0.8, 60), 1)
    uid = hashlib.sha1((title + describe).encode()).hexdigest()[:10]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="t{uid} d{uid}">',
             f'<title id="t{uid}">{_e(title)}</title><desc id="d{uid}">{_e(describe)}</desc>',
             f'<text x="{left}" y="16" font-size="14" font-weight="600">{_e(title)}</text>',
             f'<line x1="{left}" y1="{upper + plot_h}" x2="{left + plot_w}" y2="{upper + plot_h}" stroke="#333"/>',
             f'<line x1="{left}" y1="{upper}" x2="{left}" y2="{upper + plot_h}" stroke="#333"/>']
    for tick in sorted({0, top // 2, top} if top else {0}):
        y = upper + plot_h - (tick / top * plot_h if top else 0)
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{tick}</text>')
    step = max(1, n // 12)
    for i, value in enumerate(values):
        h = counts[value] / top * plot_h if top else 0
        x = left + i * slot + (slot - bar_w) / 2
        parts.append(f'<rect x="{x:.1f}" y="{upper + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                     f'fill="{color}"><title>{_num(value)}: {counts[value]}</title></rect>')
        if i % step == 0 or i == n - 1:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{upper + plot_h + 15}" font-size="11" '
                         f'text-anchor="middle">{_num(value)}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" font-size="12" '
                 f'text-anchor="middle">{_e(xlabel)}</text>')
    parts.append(f'<text x="12" y="{upper + plot_h / 2:.1f}" font-size="12" text-anchor="middle" '
                 f'transform="rotate(-90 12 {upper + plot_h / 2:.1f})">submissions</text></svg>')
    return "".join(parts)


def _describe_counts(counts: dict[float, int], unit: str) -> str:
    total = sum(counts.values())
    if not total:
        return "no submission was graded"
    mode = max(counts, key=lambda v: (counts[v], v))
    ordered = sorted(counts)
    return (f"{total} submissions, from {_num(ordered[0])} to {_num(ordered[-1])} {unit}; the most common "
            f"is {_num(mode)} ({counts[mode]} submissions)")


# --------------------------------------------------------------------------
# What a student may read

_EXPECTED = re.compile(r"expected [^;—|]*?(?=;| —|\||$)")


def student_text(failure: g.Failure) -> str:
    """A failing check's message as its student may read it: a public check's
    whole message (the student has run it in the notebook); a hidden check's
    without what it expected."""
    text = failure.text
    if failure.kind == "NotAnswered":
        return text
    if failure.hidden:
        text = _EXPECTED.sub("(what a hidden check expects is not shown)", text)
        return "a hidden check failed: " + text
    return text


def hints(exercises_dir: Path | None, exercise: str) -> dict[str, str]:
    """The hint of each question of ``exercise``, from its student notebook
    (``<details><summary>Hint</summary>`` above each ``grader.check``), as
    Markdown text; empty when the notebook is not there."""
    if exercises_dir is None:
        return {}
    path = Path(exercises_dir) / f"{exercise}.ipynb"
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found, pending = {}, None
    for cell in nb.get("cells", []):
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "markdown" and "<summary>Hint</summary>" in source:
            m = re.search(r"<summary>Hint</summary>(.*?)</details>", source, re.S)
            pending = m.group(1).strip() if m else None
        m = re.search(r'grader\.check\("(\w+)"\)', source) if cell.get("cell_type") == "code" else None
        if m and pending:
            found[m.group(1)] = pending
            pending = None
    return found


# --------------------------------------------------------------------------
# Names of the feedback files

def _safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "submission"
    return name[:80]


def feedback_names(results: Iterable[g.Result]) -> dict[tuple[str, str], str]:
    """(exercise, label) -> ``feedback/EXERCISE/STUDENT`` (without suffix),
    the student as :func:`lecture_utils.grading.grades.student_of` finds them;
    two submissions that would get one name get their file's hash appended."""
    wanted: dict[str, list[g.Result]] = {}
    for r in results:
        base = f"feedback/{_safe_name(r.exercise or 'unknown')}/{_safe_name(g.student_of(r.label, r.exercise))}"
        wanted.setdefault(base, []).append(r)
    names = {}
    for base, rs in wanted.items():
        for r in rs:
            suffix = "" if len(rs) == 1 else "-" + hashlib.sha1(r.label.encode()).hexdigest()[:8]
            names[(r.exercise, r.label)] = base + suffix
    return names


# --------------------------------------------------------------------------
# The pages

@dataclasses.dataclass
class Written:
    """What :func:`write` wrote."""

    folder: Path
    pages: list[Path]
    feedback: int


def _summary(results: list[g.Result]) -> dict:
    graded = [r for r in results if r.graded]
    totals = [r.points for r in graded]
    not_graded: dict[str, list[g.Result]] = {}
    for r in results:
        if not r.graded:
            not_graded.setdefault(r.status, []).append(r)
    order = {s: i for i, s in enumerate(NOT_GRADED_ORDER)}
    return {"n": len(results), "graded": len(graded),
            "mean": statistics.fmean(totals) if totals else None,
            "median": statistics.median(totals) if totals else None,
            "possible": max((r.possible or 0) for r in graded) if graded else None,
            "totals": totals, "counts": g.counted(totals),
            "not_graded": dict(sorted(not_graded.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))}


def _glance(exercise: str, s: dict, link: str | None, heading: str | None = None) -> str:
    title = f"{exercise}: the totals of {s['graded']} graded submissions"
    per_point = g.counted(float(int(t)) for t in s["totals"])   # a bar per point: 4.5 in the bar of 4
    figure = bars(per_point, title, f"total points (of {_num(s['possible'])}; a bar per point)",
                  _describe_counts(s["counts"], "points") + (f"; mean {_num(s['mean'])}, median "
                                                             f"{_num(s['median'])}" if s["graded"] else ""),
                  domain=range(int(s["possible"] or 0) + 1))
    not_graded = sum(len(v) for v in s["not_graded"].values())
    why = ", ".join(f"{len(v)} {_e(k)}" for k, v in s["not_graded"].items())
    head = f'<a href="{link}">{_e(exercise)}</a>' if link else _e(heading or exercise)
    return (f"<h2>{head}</h2>"
            f"<p>{s['n']} submissions, {s['graded']} graded; mean <strong>{_num(s['mean'])}</strong>, median "
            f"<strong>{_num(s['median'])}</strong> of {_num(s['possible'])} points. "
            + (f"Not graded: {not_graded} ({why})." if not_graded else "Every submission was graded.")
            + f"</p><figure>{figure}</figure>")


def _overview(summaries: dict[str, dict]) -> str:
    rows = []
    for x, s in summaries.items():
        not_graded = ", ".join(f"{len(v)} {_e(k)}" for k, v in s["not_graded"].items()) or "—"
        rows.append(f'<tr><th scope="row"><a href="{_e(x)}.html">{_e(x)}</a></th><td class="n">{s["n"]}</td>'
                    f'<td class="n">{s["graded"]}</td><td class="n">{_num(s["possible"])}</td>'
                    f'<td class="n">{_fixed(s["mean"])}</td><td class="n">{_num(s["median"])}</td>'
                    f"<td>{not_graded}</td></tr>")
    return ('<div class="wide"><table><thead><tr><th scope="col">Exercise</th><th class="n" scope="col">'
            'Submissions</th><th class="n" scope="col">Graded</th><th class="n" scope="col">Points</th>'
            '<th class="n" scope="col">Mean</th><th class="n" scope="col">Median</th>'
            '<th scope="col">Not graded (why)</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table></div>")


MONDAY = 8   # the mistakes the class page lists


def _monday(mistakes: dict[str, dict[str, list[g.Mistake]]]) -> str:
    """The most common mistakes of the whole class (not the unanswered): what to teach again."""
    found = [(x, m) for x, questions in mistakes.items() for groups in questions.values() for m in groups
             if m.kind != "NotAnswered"]
    found.sort(key=lambda xm: (-xm[1].share, -xm[1].count))
    if not found:
        return "<h2>The most common mistakes</h2><p>No failing check in any graded submission.</p>"
    rows = [f'<tr><td class="n">{m.count}</td><td class="n">{m.share:.0%}</td>'
            f'<td><a href="{_e(x)}.html#{_e(m.question)}">{_e(x)} {_e(m.question)}</a></td>'
            f'<td class="msg">{_e(m.diagnosis)}</td></tr>' for x, m in found[:MONDAY]]
    return ("<h2>The most common mistakes</h2><p class=\"muted\">Across the exercises, the failing checks "
            "that the largest share of an exercise's graded submissions made (unanswered questions left out; numbers shown as #): "
            "what to teach again. Each exercise's page has all of them.</p>"
            '<div class="wide"><table><thead><tr><th class="n" scope="col">Submissions</th><th class="n" '
            'scope="col">Share</th><th scope="col">Question</th><th scope="col">Diagnosis</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _exercise_page(grades: g.Grades, exercise: str, names: dict, s: dict,
                   mistakes: dict[str, list[g.Mistake]]) -> str:
    results = grades.of(exercise)
    parts = [f"<h1>{_e(exercise)}: the class's results</h1>", _glance(exercise, s, None, "At a glance")]
    its = g.items(grades, exercise)
    parts.append("<h2>Per question</h2><p class=\"muted\">Over the graded submissions. <em>Difficulty</em> is "
                 "the mean share of the question's points (1: everybody gets every point). "
                 "<em>Discrimination</em> is the corrected item-total correlation: the correlation of the "
                 "question's points with the points of the other questions; near 0 the question says little "
                 "about who has learnt the rest, below 0 it points the other way.</p>")
    parts.append('<table><thead><tr><th scope="col">Question</th><th class="n" scope="col">Points</th>'
                 '<th class="n" scope="col">Mean</th><th class="n" scope="col">Every point</th>'
                 '<th class="n" scope="col">Difficulty</th><th class="n" scope="col">Discrimination</th>'
                 '<th scope="col">Points given</th><th scope="col">Flags</th></tr></thead><tbody>')
    for it in its:
        desc = _describe_counts(it.counts, "points")
        fig = bars(it.counts, f"{it.question}: points given", f"points (of {_num(it.max)})", desc,
                   width=220, height=120, domain=range(int(it.max) + 1))
        flags = "".join(f'<div class="flag">{_e(f)}</div>' for f in it.flags)
        parts.append(f'<tr><th scope="row"><a href="#{_e(it.question)}">{_e(it.question)}</a></th>'
                     f'<td class="n">{_num(it.max)}</td><td class="n">{it.mean:.2f}</td>'
                     f'<td class="n">{it.full:.0%}</td><td class="n">{it.difficulty:.2f}</td>'
                     f'<td class="n">{_fixed(it.discrimination)}</td><td>{fig}</td><td>{flags}</td></tr>')
    parts.append("</tbody></table>")
    parts.append(f"<h2>The common mistakes</h2><p class=\"muted\">Per question, the failing checks of the "
                 f"{s['graded']} graded submissions, grouped by what they diagnose (numbers and quoted texts "
                 f"shown as # and \"…\"), most frequent first. A submission counts once per group.</p>")
    for question, groups in mistakes.items():
        parts.append(f'<h3 id="{_e(question)}">{_e(question)}</h3>')
        if not groups:
            parts.append("<p>No failing check.</p>")
            continue
        parts.append('<table><thead><tr><th class="n" scope="col">Submissions</th><th class="n" scope="col">'
                     'Share</th><th scope="col">Diagnosis</th><th scope="col">One example</th></tr></thead><tbody>')
        for m in groups:
            kind = "not answered" if m.kind == "NotAnswered" else ("hidden check" if m.hidden else "public check")
            link = names.get((exercise, m.example_label))
            example = (f'<div class="msg">{_e(m.example)}</div><div class="muted">from '
                       + (f'<a href="{link}.html">{_e(m.example_label)}</a>' if link else _e(m.example_label))
                       + "</div>")
            parts.append(f'<tr><td class="n">{m.count}</td><td class="n">{m.share:.0%}</td>'
                         f'<td><div class="msg">{_e(m.diagnosis)}</div><div class="muted">{kind}</div></td>'
                         f"<td>{example}</td></tr>")
        parts.append("</tbody></table>")
    bad = [r for r in results if not r.graded]
    parts.append("<h2>Not graded</h2>")
    if bad:
        parts.append('<table><thead><tr><th scope="col">Submission</th><th scope="col">Why</th>'
                     '<th scope="col">What the grader said</th></tr></thead><tbody>')
        for r in bad:
            parts.append(f'<tr><td><a href="{names[(exercise, r.label)]}.html">{_e(r.label)}</a></td>'
                         f'<td>{_e(r.status)}</td><td class="msg">{_e(r.note)}</td></tr>')
        parts.append("</tbody></table>")
    else:
        parts.append("<p>Every submission was graded.</p>")
    return _page(f"{exercise}: the class's results", "".join(parts))


def _gradebook(grades: g.Grades, exercises: list[str], names: dict) -> str:
    students: dict[str, dict[str, g.Result]] = {}
    for r in grades.results:
        students.setdefault(g.student_of(r.label, r.exercise), {}).setdefault(r.exercise, r)
    head = "".join(f'<th class="n" scope="col"><a href="{_e(x)}.html">{_e(x.replace("_", " "))}</a></th>'
                   for x in exercises)
    rows = []
    for student in sorted(students):
        cells = []
        for x in exercises:
            r = students[student].get(x)
            if r is None:
                cells.append('<td class="n muted">—</td>')
            else:
                shown = _num(r.points) if r.graded else f"{_num(r.points)} ({_e(r.status)})"
                cells.append(f'<td class="n"><a href="{names[(x, r.label)]}.html">{shown}</a></td>')
        rows.append(f'<tr><th scope="row">{_e(student)}</th>{"".join(cells)}</tr>')
    return (f"<h2>Gradebook</h2><p class=\"muted\">{len(students)} students (by their files' names; "
            "<code>lecture-utils export --roster</code> matches them to a roster) × "
            f"{len(exercises)} exercises: total points, — where there is no submission.</p>"
            f'<div class="wide"><table><thead><tr><th scope="col">Student</th>{head}</tr></thead><tbody>'
            f'{"".join(rows)}</tbody></table></div>')


def _feedback(r: g.Result, hint_of: dict[str, str], depth: int) -> tuple[str, str]:
    """(HTML, Markdown) of one submission's feedback."""
    title = f"{r.exercise or 'Your submission'}: {_num(r.points)} of {_num(r.possible)} points"
    md = [f"# {clean(r.exercise or 'Your submission')}: {_num(r.points)} of {_num(r.possible)} points", "",
          f"Submission: `{clean(r.label)}`", ""]
    parts = [f"<h1>{_e(title)}</h1><p>Submission: <code>{_e(r.label)}</code></p>"]
    if not r.graded:
        parts.append(f"<p class=\"flag\">Not graded: {_e(r.status)}.</p><p class=\"msg\">{_e(r.note)}</p>")
        md += [f"**Not graded: {clean(r.status)}.** {clean(r.note)}", ""]
    elif r.note:
        parts.append(f'<p>Note: <span class="msg">{_e(r.note)}</span></p>')
        md += [f"Note: {clean(r.note)}", ""]
    parts.append('<table><thead><tr><th scope="col">Question</th><th class="n" scope="col">Points</th>'
                 '<th scope="col">What the checks found</th></tr></thead><tbody>')
    md += ["| Question | Points |", "|---|---|"]
    details_md = []
    for question, a in r.answers.items():
        found = [student_text(f) for f in g.failures(a.message)]
        text = "".join(f'<div class="msg">{_e(t)}</div>' for t in found) or (
            '<span class="ok">every check passed</span>' if a.status == "passed" else _e(a.status))
        parts.append(f'<tr><th scope="row">{_e(question)}</th><td class="n">{_num(a.points)} / {_num(a.max)}</td>'
                     f"<td>{text}</td></tr>")
        md.append(f"| {clean(question)} | {_num(a.points)} / {_num(a.max)} |")
        if found:
            details_md += [f"## {clean(question)}", ""] + [f"- {clean(t)}" for t in found] + [""]
            if hint_of.get(question):
                details_md += ["Hint:", "", hint_of[question], ""]
    parts.append("</tbody></table>")
    hinted = [(q, hint_of[q]) for q, a in r.answers.items() if a.points < a.max and hint_of.get(q)]
    if hinted:
        parts.append("<h2>Hints for what to look at again</h2>")
        for q, h in hinted:
            parts.append(f"<h3>{_e(q)}</h3><div class=\"hint\">{html.escape(h)}</div>")
    md += [""] + details_md
    return _page(title, "".join(parts), depth), "\n".join(md).rstrip() + "\n"


def write(grades: g.Grades, out: str | Path, exercises_dir: str | Path | None = None,
          say: Callable[[str], None] = print) -> Written:
    """The report of ``grades`` in the folder ``out``: created, or a folder
    an earlier report wrote (its pages are replaced; nothing else in it is
    touched).

    Raises:
        ReportError: ``out`` is a file, or a folder with something else in it
            (a report never writes over what it did not write).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ReportError(f"{out} is a file; --out is the report's folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise ReportError(f"{out} holds files that no report wrote; choose a new folder for the report "
                          f"(a folder a report wrote has {MARKER} in it)")
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by `lecture-utils report`; its pages are replaced by the next one\n")
    exercises = [x for x in sorted({r.exercise for r in grades.results}) if x]
    names = feedback_names(grades.results)
    hint_of = {x: hints(Path(exercises_dir) if exercises_dir else None, x) for x in exercises}
    pages = []
    body = ["<h1>The class at a glance</h1>",
            f"<p class=\"muted\">From {', '.join(_e(Path(f).name) for f in grades.files)}: "
            f"{len(grades.results)} submissions of {len(exercises)} exercise{'s' if len(exercises) != 1 else ''}."
            "</p>"]
    summaries = {x: _summary(grades.of(x)) for x in exercises}
    mistakes = {x: g.mistakes(grades, x) for x in exercises}
    if exercises:
        body.append(_overview(summaries))
        body.append(_monday(mistakes))
    for x in exercises:
        body.append(_glance(x, summaries[x], f"{x}.html"))
        page = out / f"{x}.html"
        page.write_text(_exercise_page(grades, x, names, summaries[x], mistakes[x]), encoding="utf-8")
        pages.append(page)
    unknown = [r for r in grades.results if not r.exercise]
    if unknown:
        body.append(f"<h2>Not identified</h2><p>{len(unknown)} submissions could not be identified as one of "
                    "the exercises:</p><ul>" + "".join(
                        f'<li><a href="{names[("", r.label)]}.html">{_e(r.label)}</a>: {_e(r.status)}, '
                        f'<span class="msg">{_e(r.note)}</span></li>' for r in unknown) + "</ul>")
    if exercises:
        body.append(_gradebook(grades, exercises, names))
    index = out / "index.html"
    index.write_text(_page("The class at a glance", "".join(body)), encoding="utf-8")
    pages.insert(0, index)
    for r in grades.results:
        name = names[(r.exercise, r.label)]
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        page, md = _feedback(r, hint_of.get(r.exercise, {}), depth=name.count("/"))
        target.with_name(target.name + ".html").write_text(page, encoding="utf-8")
        target.with_name(target.name + ".md").write_text(md, encoding="utf-8")
    say(f"report: {index} ({len(exercises)} exercise page{'s' if len(exercises) != 1 else ''}, feedback for "
        f"{len(grades.results)} submissions in {out / 'feedback'})")
    return Written(out, pages, len(grades.results))
