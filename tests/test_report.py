"""The instructor's report of a graded class, on a class built from the right
and wrong answers of tests/exercises/ (tools/demo_class.py) and graded for
real: its counts equal the known mix, each student's feedback says what they
got wrong and never a hidden check's expected value, the gradebook exports
for Canvas and Moodle, and the pages load in headless Chromium with no console
error and no request leaving 127.0.0.1. Screenshots of the class page, an
exercise page and one student's page go to build/screenshots/report-*.png."""
import csv
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import demo_class  # noqa: E402
from lecture_utils import cli  # noqa: E402
from lecture_utils.grading import batch, grades, report  # noqa: E402
from static_pages import Reader, serve  # noqa: E402

EXERCISES = ["01_vanishing_gradients", "05_gradient_clipping"]
PER_EXERCISE = 14     # the smallest class the mix fits in (the command's default is 60)
SCREENSHOTS = ROOT / "build" / "screenshots"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class: built, graded (two at a time, sandboxed), read; and its truth."""
    out = tmp_path_factory.mktemp("class")
    build = tmp_path_factory.mktemp("build")
    truth = demo_class.build(out, EXERCISES, PER_EXERCISE, build)
    batch.grade([out / "submissions"], out / "grades.csv", solutions_dir=ROOT / "solutions", build_dir=build,
                jobs=2, timeout=200, say=lambda s: None)
    return out, truth, grades.read([out / "grades.csv"])


@pytest.fixture(scope="module")
def rendered(graded):
    out, _, g = graded
    assert cli.main(["report", str(out / "grades.csv"), "--out", str(out / "report")]) == 0
    return out / "report"


def test_the_grades_are_the_known_mix(graded):
    _, truth, g = graded
    for exercise in EXERCISES:
        mine = [t for t in truth if t["exercise"] == exercise]
        results = g.of(exercise)
        assert len(results) == len(mine) == PER_EXERCISE
        assert sum(r.status == "invalid notebook" for r in results) == sum(t["kind"] == "invalid" for t in mine) == 1
        possible = max(r.possible for r in results if r.graded)
        right = sum(t["kind"] == "solution" and not t["mistakes"] for t in mine)
        assert sum(r.graded and r.points == possible for r in results) == right


def test_each_mistake_is_one_group_counted_as_the_class_made_it(graded):
    _, truth, g = graded
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
    assert checked >= 10


def test_the_report_counts_what_the_class_did(graded, rendered):
    _, truth, g = graded
    page = (rendered / "05_gradient_clipping.html").read_text()
    mine = [t for t in truth if t["exercise"] == "05_gradient_clipping"]
    graded_n = sum(t["kind"] != "invalid" for t in mine)
    assert f"{PER_EXERCISE} submissions, {graded_n} graded" in page
    assert "Not graded: 1 (1 invalid notebook)" in page
    q, _, says = next(m for t in mine for m in t["mistakes"])
    n = sum(1 for t in mine for m in t["mistakes"] if m[0] == q and m[2] == says)
    row = re.search(rf'<tr><td class="n">(\d+)</td><td class="n">\d+%</td><td><div class="msg">[^<]*</div>'
                    rf'<div class="muted">[^<]*</div></td><td><div class="msg">[^<]*{re.escape(says[:20])}', page)
    assert row and int(row.group(1)) == n
    index = (rendered / "index.html").read_text()
    assert "Gradebook" in index and all(x in index for x in EXERCISES)


def test_each_student_gets_feedback_without_hidden_expected_values(graded, rendered):
    _, truth, g = graded
    pages = sorted((rendered / "feedback").rglob("*.md"))
    assert len(pages) == len(truth) == len(list((rendered / "feedback").rglob("*.html")))
    hidden_messages = [f for r in g.results for a in r.answers.values()
                       for f in grades.failures(a.message) if f.hidden and f.kind == "Incorrect"]
    assert hidden_messages, "the class should fail some hidden checks"
    text = "\n".join(p.read_text() for p in pages)
    for f in hidden_messages:
        for expected in re.findall(r"expected ([^;—|]+)", f.text):
            assert f"expected {expected.strip()}" not in text
    assert "a hidden check failed" in text and "Hint:" in text


def test_the_gradebook_exports_for_canvas_and_moodle(graded, tmp_path):
    out, truth, g = graded
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
    assert nobody[5:] == ["", ""]
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
    student = sorted((rendered / "feedback" / "05_gradient_clipping").glob("*.html"))[0]
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


def test_a_script_in_a_submissions_name_and_messages_does_not_run(browser, tmp_path):
    evil = '<script>document.title="PWNED"</script><img src=x onerror="document.title=\'PWNED\'">'
    rows = [["submission", "exercise", "question", "points", "max", "status", "message", "sandbox"],
            [f"{evil}.ipynb", "05_gradient_clipping", "q1", 0, 3, "failed", f"Incorrect: by_norm = {evil}", "bubblewrap"],
            [f"{evil}.ipynb", "05_gradient_clipping", "TOTAL", 0, 3, "graded", evil, "bubblewrap"]]
    with open(tmp_path / "g.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    report.write(grades.read([tmp_path / "g.csv"]), tmp_path / "r", say=lambda s: None)
    with serve(tmp_path / "r") as origin:
        r = Reader(browser, origin)
        try:
            for path in ["index.html", "05_gradient_clipping.html",
                         *[str(p.relative_to(tmp_path / "r")) for p in (tmp_path / "r").rglob("feedback/*/*.html")]]:
                page = r.open(path)
                assert "PWNED" not in page.title() and page.locator("script, img").count() == 0, path
                assert evil[:20] in page.locator("main").inner_text() or path == "index.html", path
        finally:
            r.close()
    assert not [p for p in r.problems if "asked the network" in p], r.problems
