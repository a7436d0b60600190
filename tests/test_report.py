"""The instructor's report of a graded class, on a class built from the right
and wrong answers of tests/exercises/ (tools/demo_class.py) and graded for
real: its counts equal the known mix, each student's feedback says what they
got wrong and never a hidden check's expected value, the gradebook exports
for Canvas and Moodle, and the pages load in headless Chromium with no console
error and no request leaving 127.0.0.1. Screenshots of the class page, an
exercise page and one student's page go to build/screenshots/report-*.png."""
import csv
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import demo_class  # noqa: E402
from lecture_utils import cli  # noqa: E402
from lecture_utils.grading import grades, report  # noqa: E402
from static_pages import axe_violations, serve  # noqa: E402

EXERCISES = ["05_gradient_clipping"]   # one exercise: a class of several costs the suite half a minute more
EVIL_NAME = "<script>document.title='PWNED'<\\script><img src=x onerror=alert(1)>"
EVIL_TEXT = '<script>document.title="PWNED"</script><img src=x onerror="document.title=1">'

PER_EXERCISE = 14     # the smallest class the mix fits in (the command's default is 60)
SCREENSHOTS = ROOT / "build" / "screenshots"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class: built, graded (two at a time, sandboxed) with its report (`grade --report`), read;
    and its truth."""
    out = tmp_path_factory.mktemp("class")
    build = tmp_path_factory.mktemp("build")
    truth = demo_class.build(out, EXERCISES, PER_EXERCISE, build)
    # and a hostile one: its file name and what it raises carry HTML and a script
    evil = out / "evil" / f"{EVIL_NAME}_05_gradient_clipping.ipynb"
    evil.parent.mkdir()
    nb = json.loads(next(p for p in (out / "submissions").glob("*_05_*") if p.stat().st_size > 1000).read_text())
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                        "source": f"raise ValueError({EVIL_TEXT!r})\n"})
    evil.write_text(json.dumps(nb))
    assert cli.main(["grade", str(out / "submissions"), str(evil.parent), "--out", str(out / "grades.csv"),
                     "--jobs", "2", "--timeout", "200", "--build", str(build), "--report", str(out / "report")]) == 0
    g = grades.read([out / "grades.csv"])
    known = {Path(t["submission"]).name for t in truth}
    return out, truth, grades.Grades([r for r in g.results if Path(r.label).name in known], g.questions, g.files), \
        next(r for r in g.results if "evil" in r.label)


@pytest.fixture(scope="module")
def rendered(graded):
    return graded[0] / "report"


def test_the_grades_are_the_known_mix(graded):
    _, truth, g, _ = graded
    for exercise in EXERCISES:
        mine = [t for t in truth if t["exercise"] == exercise]
        results = g.of(exercise)
        assert len(results) == len(mine) == PER_EXERCISE
        assert sum(r.status == "invalid notebook" for r in results) == sum(t["kind"] == "invalid" for t in mine) == 1
        possible = max(r.possible for r in results if r.graded)
        right = sum(t["kind"] == "solution" and not t["mistakes"] for t in mine)
        assert sum(r.graded and r.points == possible for r in results) == right


def test_each_mistake_is_one_group_counted_as_the_class_made_it(graded):
    _, truth, g, _ = graded
    checked = 0
    for exercise in EXERCISES:
        mine = [t for t in truth if t["exercise"] == exercise]
        groups = grades.mistakes(g, exercise)
        made: dict = {}
        for t in mine:
            for q, _, says in t["mistakes"]:
                made[(q, says)] = made.get((q, says), 0) + 1
        blank = sum(t["kind"] == "blank" for t in mine)
        for (q, says), n in made.items():
            found = [m for m in groups[q] if says in m.example]
            assert found, f"{exercise} {q}: no group of mistakes says {says!r}: {[m.diagnosis for m in groups[q]]}"
            # a wrong answer that leaves the question unanswered (a function returning None) says what the
            # blank notebook says: one diagnosis, one group, the blank students in it too
            expected = n + (blank if all(m.kind == "NotAnswered" for m in found) else 0)
            assert max(m.count for m in found) == expected, \
                (exercise, q, says, [(m.diagnosis, m.count) for m in found])
            checked += 1
        blanks = {Path(t["submission"]).name for t in mine if t["kind"] == "blank"}
        for q, found in groups.items():
            unanswered = {Path(label).name for m in found if m.kind == "NotAnswered" for label in m.labels}
            wrong_here = {Path(t["submission"]).name for t in mine if any(m[0] == q for m in t["mistakes"])}
            assert blanks <= unanswered <= blanks | wrong_here, (exercise, q, unanswered)
    assert checked >= 8


def test_the_report_counts_what_the_class_did(graded, rendered):
    _, truth, g, _ = graded
    page = (rendered / "05_gradient_clipping.html").read_text()
    mine = [t for t in truth if t["exercise"] == "05_gradient_clipping"]
    graded_n = sum(t["kind"] != "invalid" for t in mine)
    assert f"{PER_EXERCISE + 1} submissions, {graded_n + 1} graded" in page   # and the hostile one
    assert "Not graded: 1 (1 invalid notebook)" in page
    q, _, says = next(m for t in mine for m in t["mistakes"])
    n = sum(1 for t in mine for m in t["mistakes"] if m[0] == q and m[2] == says)
    row = re.search(rf'<tr><td class="n">(\d+)</td><td class="n">\d+%</td><td><div class="msg">[^<]*</div>'
                    rf'<div class="muted">[^<]*</div></td><td><div class="msg">[^<]*{re.escape(says[:20])}', page)
    assert row and int(row.group(1)) == n
    index = (rendered / "index.html").read_text()
    assert "Gradebook" in index and all(x in index for x in EXERCISES)


def test_each_student_gets_feedback_without_hidden_expected_values(graded, rendered):
    _, truth, g, _ = graded
    pages = sorted((rendered / "feedback").rglob("*.md"))
    assert len(pages) == len(truth) + 1 == len(list((rendered / "feedback").rglob("*.html")))   # + the hostile one
    hidden_messages = [f for r in g.results for a in r.answers.values()
                       for f in grades.failures(a.message) if f.hidden and f.kind == "Incorrect"]
    assert hidden_messages, "the class should fail some hidden checks"
    text = "\n".join(p.read_text() for p in pages)
    for f in hidden_messages:
        for expected in re.findall(r"expected ([^;—|]+)", f.text):
            assert f"expected {expected.strip()}" not in text
    assert "a hidden check failed" in text and "Hint:" in text


def test_the_gradebook_exports_for_canvas_and_moodle(graded, tmp_path):
    out, truth, g, _ = graded
    roster = tmp_path / "roster.csv"
    ids = sorted({grades.student_of(r.label, r.exercise) for r in g.results}) + ["nobody99"]
    with open(roster, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section"])
        for i, sid in enumerate(ids):
            w.writerow([f"Student {i}", 1000 + i, "", sid, "A"])
    canvas = tmp_path / "canvas.csv"
    assert cli.main(["export", str(out / "grades.csv"), "--format", "canvas", "--roster", str(roster),
                     "--key", "SIS Login ID", "--out", str(canvas)]) == 0
    rows = list(csv.reader(open(canvas, newline="")))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] and rows[0][5:] == EXERCISES
    assert rows[1][0] == "Points Possible" and len(rows) == 2 + len(ids)
    nobody = [r for r in rows if r[3] == "nobody99"][0]
    assert nobody[5:] == [""] * len(EXERCISES)
    moodle = tmp_path / "moodle.csv"
    assert cli.main(["export", str(out / "grades.csv"), "--format", "moodle", "--roster", str(roster),
                     "--key", "SIS Login ID", "--out", str(moodle)]) == 0
    header = next(csv.reader(open(moodle, newline="")))
    assert header == ["SIS Login ID", *EXERCISES, *(f"{x} feedback" for x in EXERCISES)]


@pytest.fixture(scope="module")
def server(rendered):
    with serve(rendered) as origin:
        yield origin


def test_the_pages_load_offline_and_look_right(reader, rendered):
    student = sorted((rendered / "feedback" / "05_gradient_clipping").glob("student*.html"))[0]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path, shot in (("index.html", "class"), ("05_gradient_clipping.html", "exercise"),
                       (str(student.relative_to(rendered)), "student")):
        page = reader.open(path)
        figures = page.locator("svg[role=img]").count()
        page.screenshot(path=str(SCREENSHOTS / f"report-{shot}.png"), full_page=True)
        assert not reader.problems, f"{path}: " + "; ".join(reader.problems)
        if shot != "student":
            assert figures >= 1 and page.locator("svg[role=img] desc").first.text_content().strip()
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} is {overflow} px wider than the window"
        violations = axe_violations(page)
        assert not violations, f"{path}:\n  " + "\n  ".join(violations)


def test_a_script_in_a_submissions_name_and_what_it_raises_does_not_run(graded, rendered, reader):
    _, _, _, evil = graded
    assert EVIL_TEXT in evil.note and "<script>" in evil.label    # it came through: the CSV keeps the text
    feedback = report.feedback_names([evil])[(evil.exercise, evil.label)]
    for path in ["index.html", "05_gradient_clipping.html", f"{feedback}.html"]:
        page = reader.open(path)
        assert page.title() != "PWNED" and page.locator("script, img").count() == 0, path
        assert not reader.problems, f"{path}: " + "; ".join(reader.problems)
    shown = page.locator("main").inner_text()
    assert EVIL_TEXT in shown and "<script>document.title='PWNED'" in shown   # shown as text, escaped
