"""The gradebook export: a roster read, each submission matched to its student,
and the CSV files Canvas's and Moodle's gradebook imports take."""
import csv

import pytest

from lecture_utils.grading import gradebook, grades
from lecture_utils.grading.grades import GradesError
from lecture_utils.grading.safetext import csv_cell

HEADER = "submission,exercise,question,points,max,status,message,sandbox".split(",")
CLIP, INIT = "05_gradient_clipping", "06_weight_init"
MAXIMA = {CLIP: {"q1": 3, "q2": 4}, INIT: {"q1": 2, "q2": 2}}


def write_grades(tmp_path, submissions, name="grades.csv"):
    """A grades CSV as `lecture-utils grade` writes it, read back.

    ``submissions``: (label, exercise, points per question, status); a
    submission that was not graded scores 0 on each question."""
    rows = [HEADER]
    for label, exercise, points, status in submissions:
        label = csv_cell(label)
        if not exercise:
            rows.append([label, "", "TOTAL", 0, "", status, "not an exercise", "bubblewrap"])
            continue
        top = MAXIMA[exercise]
        for q, p in zip(top, points):
            if status != "graded":
                p = 0
            state = "not graded" if status != "graded" else "passed" if p == top[q] else "failed"
            rows.append([label, exercise, q, p, top[q], state, "", "bubblewrap"])
        total = sum(points) if status == "graded" else 0
        rows.append([label, exercise, "TOTAL", total, sum(top.values()), status, "", "bubblewrap"])
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return grades.read([path])


def write_roster(tmp_path, text, name="roster.csv", bom=False):
    path = tmp_path / name
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def labels(results):
    return [r.label for r in results]


# --------------------------------------------------------------------------
# Matching

def test_names_a_path_holds():
    assert gradebook.names("subs/S-12/05_gradient_clipping_alice.ipynb", CLIP) == {
        "alice", "05_gradient_clipping_alice", "subs", "s-12", "s", "12", "05", "gradient", "clipping", "ipynb"}


def test_matched_by_folder_by_token_and_by_stem_ignoring_case(tmp_path):
    g = write_grades(tmp_path, [
        ("subs/S-123/notebook.ipynb", CLIP, (3, 4), "graded"),                  # the folder
        ("hw/05_gradient_clipping_s456_final.ipynb", CLIP, (1, 0), "graded"),   # a token
        ("in/carol_05_gradient_clipping.ipynb", CLIP, (0, 2), "graded"),        # the stem
    ])
    roster = gradebook.read_roster(write_roster(tmp_path, "id,name\ns-123,Ann\nS456,Ben\n"
                                                           "carol_05_gradient_clipping,Carol\n"), "id")
    m = gradebook.match(g, roster)
    assert m.students == ["s-123", "S456", "carol_05_gradient_clipping"]
    assert {s: labels(x.values()) for s, x in m.matched.items()} == {
        "s-123": ["subs/S-123/notebook.ipynb"],
        "S456": ["hw/05_gradient_clipping_s456_final.ipynb"],
        "carol_05_gradient_clipping": ["in/carol_05_gradient_clipping.ipynb"]}
    assert (m.unmatched, m.ambiguous, m.duplicates, m.missing, m.unknown_exercise) == ([], [], [], {}, [])


def submissions_of_a_class(tmp_path):
    return write_grades(tmp_path, [
        ("subs/alice_05_gradient_clipping.ipynb", CLIP, (3, 1), "graded"),
        ("subs/alice_05_gradient_clipping_v2.ipynb", CLIP, (3, 4), "graded"),
        ("subs/bob_carol_05_gradient_clipping.ipynb", CLIP, (2, 2), "graded"),
        ("subs/eve_05_gradient_clipping.ipynb", CLIP, (1, 1), "graded"),
        ("subs/bob_06_weight_init.ipynb", INIT, (2, 1), "graded"),
        ("subs/mystery.ipynb", "", (), "unknown exercise"),
    ])


def test_unmatched_ambiguous_duplicate_missing_and_unknown_are_all_listed(tmp_path):
    g = submissions_of_a_class(tmp_path)
    roster = gradebook.read_roster(write_roster(tmp_path, "login\nalice\nbob\ncarol\ndave\n"), "login")
    m = gradebook.match(g, roster)
    assert m.exercises == [CLIP, INIT]
    assert {s: {x: r.label for x, r in xs.items()} for s, xs in m.matched.items()} == {
        "alice": {CLIP: "subs/alice_05_gradient_clipping_v2.ipynb"},
        "bob": {INIT: "subs/bob_06_weight_init.ipynb"}}
    assert labels(m.unmatched) == ["subs/eve_05_gradient_clipping.ipynb"]
    assert [(a.result.label, a.students) for a in m.ambiguous] == [
        ("subs/bob_carol_05_gradient_clipping.ipynb", ["bob", "carol"])]
    assert [(d.student, d.exercise, d.kept.label, d.dropped.label) for d in m.duplicates] == [
        ("alice", CLIP, "subs/alice_05_gradient_clipping_v2.ipynb", "subs/alice_05_gradient_clipping.ipynb")]
    assert m.missing == {"alice": [INIT], "bob": [CLIP], "carol": [CLIP, INIT], "dave": [CLIP, INIT]}
    assert labels(m.unknown_exercise) == ["subs/mystery.ipynb"]
    assert gradebook.summary(m) == [
        f"2 submissions matched to 2 of 4 students in {tmp_path / 'roster.csv'}",
        "1 submission of an unknown exercise, not exported:",
        "  - subs/mystery.ipynb",
        "1 submission matching no student of the roster, not exported:",
        "  - subs/eve_05_gradient_clipping.ipynb (05_gradient_clipping)",
        "1 submission matching several students, not exported:",
        "  - subs/bob_carol_05_gradient_clipping.ipynb (05_gradient_clipping): bob, carol",
        "1 second submission of a student for an exercise, not exported (the one with more points is):",
        "  - alice, 05_gradient_clipping: subs/alice_05_gradient_clipping.ipynb (4 points, graded); "
        "exported subs/alice_05_gradient_clipping_v2.ipynb (7 points)",
        "4 students without a submission for an exercise:",
        "  - alice: 06_weight_init",
        "  - bob: 05_gradient_clipping",
        "  - carol: 05_gradient_clipping, 06_weight_init",
        "  - dave: 05_gradient_clipping, 06_weight_init",
    ]


def test_of_two_submissions_the_one_with_more_points_is_kept_whichever_comes_first(tmp_path):
    g = write_grades(tmp_path, [
        ("a/alice_v2.ipynb", CLIP, (3, 4), "graded"),
        ("a/alice_v1.ipynb", CLIP, (3, 1), "graded"),
        ("a/alice_v3.ipynb", CLIP, (0, 0), "timeout"),
    ])
    roster = gradebook.read_roster(write_roster(tmp_path, "login\nalice\n"), "login")
    m = gradebook.match(g, roster)
    assert m.matched["alice"][CLIP].label == "a/alice_v2.ipynb"
    assert [(d.kept.label, d.dropped.label) for d in m.duplicates] == [
        ("a/alice_v2.ipynb", "a/alice_v1.ipynb"), ("a/alice_v2.ipynb", "a/alice_v3.ipynb")]


def test_without_a_roster_each_student_is_the_one_the_file_names(tmp_path):
    g = submissions_of_a_class(tmp_path)
    m = gradebook.match(g, None)
    assert m.students == ["alice", "alice_v2", "bob", "bob_carol", "eve"]
    assert m.matched["bob"] == {INIT: g.results[4]}
    assert m.missing["eve"] == [INIT] and "alice" in m.missing
    assert labels(m.unknown_exercise) == ["subs/mystery.ipynb"]
    assert (m.unmatched, m.ambiguous, m.duplicates) == ([], [], [])
    assert gradebook.summary(m)[0] == "5 submissions of 5 students (named by their files: no roster)"


def test_a_long_list_is_cut_at_twenty_names(tmp_path):
    g = write_grades(tmp_path, [(f"subs/x{i:02}_05.ipynb", CLIP, (1, 1), "graded") for i in range(25)])
    roster = gradebook.read_roster(write_roster(tmp_path, "login\nalice\n"), "login")
    lines = gradebook.summary(gradebook.match(g, roster))
    assert lines[1] == "25 submissions matching no student of the roster, not exported:"
    assert lines[2] == "  - subs/x00_05.ipynb (05_gradient_clipping)"
    assert lines[21] == "  - subs/x19_05.ipynb (05_gradient_clipping)"
    assert lines[22:24] == ["  … and 5 more", "1 student without a submission for an exercise:"]


# --------------------------------------------------------------------------
# Canvas

CANVAS_EXPORT = ("Student,ID,SIS User ID,SIS Login ID,Section,05_gradient_clipping (12345),Current Score\n"
                 "    Points Possible,,,,,7,(read only)\n"
                 '"Liddell, Alice",101,s1001,alice,Sec A,,\n'
                 '"Builder, Bob",102,s1002,bob,Sec B,3,\n'
                 '"Smith, Carol",103,s1003,carol,Sec A,,\n')


def test_canvas_file_keeps_the_assignment_column_of_a_canvas_roster(tmp_path):
    g = write_grades(tmp_path, [
        ("subs/alice_05_gradient_clipping.ipynb", CLIP, (3, 1.5), "graded"),
        ("subs/bob_05_gradient_clipping.ipynb", CLIP, (0, 0), "timeout"),
        ("subs/alice_06_weight_init.ipynb", INIT, (2, 2), "graded"),
    ])
    roster = gradebook.read_roster(write_roster(tmp_path, CANVAS_EXPORT, bom=True), "SIS Login ID")
    assert roster.keys == ["alice", "bob", "carol"]     # the Points Possible row skipped
    out = tmp_path / "canvas.csv"
    gradebook.write_canvas(g, gradebook.match(g, roster), out, roster)
    assert read_csv(out) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "05_gradient_clipping (12345)", "06_weight_init"],
        ["Points Possible", "", "", "", "", "7", "4"],
        ["Liddell, Alice", "101", "s1001", "alice", "Sec A", "4.5", "4"],
        ["Builder, Bob", "102", "s1002", "bob", "Sec B", "0", ""],
        ["Smith, Carol", "103", "s1003", "carol", "Sec A", "", ""],
    ]
    assert not (tmp_path / "canvas.csv.partial").exists()


def test_canvas_file_from_a_plain_roster_names_new_assignments(tmp_path):
    g = write_grades(tmp_path, [("subs/s1001/05_gradient_clipping.ipynb", CLIP, (1, 2), "graded")])
    roster = gradebook.read_roster(write_roster(tmp_path, "SIS User ID,Name\ns1001,Alice\ns1002,=cmd\n"),
                                   "SIS User ID")
    out = tmp_path / "canvas.csv"
    gradebook.write_canvas(g, gradebook.match(g, roster), out, roster)
    assert read_csv(out) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "05_gradient_clipping"],
        ["Points Possible", "", "", "", "", "7"],
        ["s1001", "", "s1001", "", "", "3"],          # no Student column: the key
        ["s1002", "", "s1002", "", "", ""],
    ]


def test_canvas_without_an_id_column_is_refused(tmp_path):
    g = write_grades(tmp_path, [("subs/alice_05.ipynb", CLIP, (1, 2), "graded")])
    roster = gradebook.read_roster(write_roster(tmp_path, "login,Student\nalice,Alice\n"), "login")
    out = tmp_path / "canvas.csv"
    with pytest.raises(GradesError) as e:
        gradebook.write_canvas(g, gradebook.match(g, roster), out, roster)
    assert str(e.value) == (f"the roster {tmp_path / 'roster.csv'} has no column ID, SIS User ID or SIS Login ID: "
                            "Canvas cannot match students without one of them. A roster exported from Canvas's "
                            "gradebook (Grades > Export) has them")
    with pytest.raises(GradesError, match="without a roster there is no column ID"):
        gradebook.write_canvas(g, gradebook.match(g, None), out, None)
    assert not out.exists()


def test_canvas_row_without_any_id_is_refused(tmp_path):
    g = write_grades(tmp_path, [("subs/alice_05.ipynb", CLIP, (1, 2), "graded")])
    roster = gradebook.read_roster(write_roster(tmp_path, "login,ID\nalice,101\nbob,\n"), "login")
    with pytest.raises(GradesError) as e:
        gradebook.write_canvas(g, gradebook.match(g, roster), tmp_path / "canvas.csv", roster)
    assert str(e.value) == (f"{tmp_path / 'roster.csv'}, row 3: no ID: Canvas cannot match such a row "
                            "to its student")


# --------------------------------------------------------------------------
# Moodle

def test_moodle_file_has_grades_and_feedback_per_exercise(tmp_path):
    g = write_grades(tmp_path, [
        ("subs/alice_05_gradient_clipping.ipynb", CLIP, (3, 1.5), "graded"),
        ("subs/bob_05_gradient_clipping.ipynb", CLIP, (0, 0), "timeout"),
        ("subs/alice_06_weight_init.ipynb", INIT, (0, 2), "graded"),
    ])
    roster = gradebook.read_roster(write_roster(tmp_path, "username,email\nalice,a@x\nbob,b@x\ncarol,c@x\n"),
                                   "username")
    out = tmp_path / "moodle.csv"
    gradebook.write_moodle(g, gradebook.match(g, roster), out, roster, "username")
    assert read_csv(out) == [
        ["username", CLIP, INIT, f"{CLIP} feedback", f"{INIT} feedback"],
        ["alice", "4.5", "2", "q1 3/3, q2 1.5/4", "q1 0/2, q2 2/2"],
        ["bob", "0", "", "timeout", ""],
        ["carol", "", "", "", ""],
    ]


def test_a_formula_in_a_label_is_defused_in_the_export(tmp_path):
    g = write_grades(tmp_path, [("=evil/05_gradient_clipping.ipynb", CLIP, (3, 4), "graded")])
    m = gradebook.match(g, None)
    assert m.students == ["=evil"]
    out = tmp_path / "moodle.csv"
    gradebook.write_moodle(g, m, out, None, "username")
    assert read_csv(out) == [["username", CLIP, f"{CLIP} feedback"], ["'=evil", "7", "q1 3/3, q2 4/4"]]


def test_a_formula_in_the_roster_is_defused_in_the_export(tmp_path):
    g = write_grades(tmp_path, [("subs/alice_05.ipynb", CLIP, (1, 2), "graded")])
    roster = gradebook.read_roster(write_roster(tmp_path, 'ID,Student\n101,"=HYPERLINK(""http://x"")"\n'), "ID")
    out = tmp_path / "canvas.csv"
    gradebook.write_canvas(g, gradebook.match(g, roster), out, roster)
    assert read_csv(out)[2] == ["'=HYPERLINK(\"http://x\")", "101", "", "", "", ""]


def test_an_existing_file_is_not_overwritten_unless_asked(tmp_path):
    g = write_grades(tmp_path, [("subs/alice_05.ipynb", CLIP, (1, 2), "graded")])
    m = gradebook.match(g, None)
    out = tmp_path / "moodle.csv"
    out.write_text("the last good export\n")
    with pytest.raises(GradesError) as e:
        gradebook.write_moodle(g, m, out, None, "username")
    assert str(e.value) == f"{out}: exists already; not replaced (choose another name, or ask to overwrite it)"
    assert out.read_text() == "the last good export\n"
    gradebook.write_moodle(g, m, out, None, "username", overwrite=True)
    assert read_csv(out) == [["username", CLIP, f"{CLIP} feedback"], ["alice", "3", "q1 1/3, q2 2/4"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades.csv", "moodle.csv"]


def test_a_failed_write_leaves_the_last_good_file(tmp_path, monkeypatch):
    g = write_grades(tmp_path, [("subs/alice_05.ipynb", CLIP, (1, 2), "graded")])
    m = gradebook.match(g, None)
    out = tmp_path / "moodle.csv"
    out.write_text("the last good export\n")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(grades.os, "fsync", broken)   # the write is grades.write_rows
    with pytest.raises(GradesError, match="moodle.csv: cannot be written: .*No space left on device"):
        gradebook.write_moodle(g, m, out, None, "username", overwrite=True)
    assert out.read_text() == "the last good export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades.csv", "moodle.csv"]


# --------------------------------------------------------------------------
# Reading the roster

@pytest.mark.parametrize("text, key, message", [
    ("", "id", "roster.csv: empty; expected a roster: a header row naming the columns, then one row per student"),
    ("\n , \n", "id", "roster.csv: empty; expected a roster: a header row naming the columns, then one row per "
                      "student"),
    ("name,email\nAnn,a@x\n", "id", "roster.csv: no column 'id'; its columns are 'name', 'email'"),
    ("name,ID\nAnn,1\n", "id", "roster.csv: no column 'id' (did you mean 'ID'?); its columns are 'name', 'ID'"),
    ("id,id\n1,2\n", "id", "roster.csv: the column 'id' twice in the header (row 1)"),
    ("id,name\ns1,Ann\n  ,Ben\n", "id", "roster.csv, row 3: no id (its 'id' cell is empty)"),
    ("name,id\nAnn\n", "id", "roster.csv, row 2: no id (its 'id' cell is empty)"),
    ("id,name\ns1,Ann,x\n", "id", "roster.csv, row 2: 3 fields; the header has 2"),
    ("id,name\ns2,A\ns123,B\ns3,C\ns4,D\ns5,E\ns6,F\ns7,G\ns123,H\n", "id",
     "roster.csv, rows 3 and 9: the id 's123' twice"),
    ("id\ns123\nS123\n", "id",
     "roster.csv, rows 2 and 3: the id 'S123' twice (as 's123' in row 2; keys are compared ignoring case)"),
])
def test_a_roster_that_cannot_be_used_is_refused_saying_where_and_why(tmp_path, monkeypatch, text, key, message):
    monkeypatch.chdir(tmp_path)
    write_roster(tmp_path, text)
    with pytest.raises(GradesError) as e:
        gradebook.read_roster("roster.csv", key)
    assert str(e.value) == message


def test_a_roster_that_is_not_there_is_refused(tmp_path):
    with pytest.raises(GradesError) as e:
        gradebook.read_roster(tmp_path / "nope.csv", "id")
    assert str(e.value) == f"{tmp_path / 'nope.csv'}: no such file"


def test_a_roster_is_read_with_its_columns_and_rows(tmp_path):
    roster = gradebook.read_roster(write_roster(tmp_path, "id, name \n\ns1 , Ann\ns2,Ben,\n", bom=True), "id")
    assert roster.columns == ["id", "name"]
    assert [(e.key, e.row, e.fields) for e in roster.entries] == [
        ("s1", 3, {"id": "s1", "name": "Ann"}), ("s2", 4, {"id": "s2", "name": "Ben"})]
