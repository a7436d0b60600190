"""The graded exercises (solutions/ -> exercises/ and the autograders):

- exercises/ is what `lecture-utils build-exercises` generates from solutions/;
- every question has public and hidden tests and a hint;
- the solution gets every point; right answers written differently get every
  point; wrong answers (tests/exercises/NN_topic.py) lose points on their
  question with a message in the student's terms -- graded as the judge grades
  them, after the answers crossed the wire format (``crossed``), in this
  process, without a sandbox or kernel per answer;
- the solution's and the blank exercise's every cell runs (otter's
  ``grader.check`` cells too, in the notebook's folder: the student's immediate
  feedback passes on the solution and says "not answered" on the blank); the
  blank exercise scores zero. nbval does not run solutions/ and exercises/ again;
- build-exercises never overwrites an edited exercise notebook without --force;
- `lecture-utils grade` grades a batch (sandboxed) and survives broken
  submissions (these tests start kernels: about a minute on two cores).
"""
import copy
import csv
import importlib.util
import json
import os
import re
import zipfile
from pathlib import Path

import nbformat
import pytest

from lecture_utils import cli, exercises
from lecture_utils.grading import batch, judge

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = exercises.solution_notebooks(ROOT / "solutions")
NAMES = [p.stem for p in SOLUTIONS]
ANSWERS = ROOT / "tests" / "exercises"


def test_there_are_exercises():
    assert "01_vanishing_gradients" in NAMES


# --------------------------------------------------------------------------
# Fixtures: one build of every exercise (in a temporary folder), the
# solution's variables, each question's tests.

@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="module")
def built(build_dir):
    return {p.stem: exercises.assign(p, build_dir, run_tests=False) for p in SOLUTIONS}


def _answers(name):
    path = ANSWERS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"answers_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_notebook(path):
    """Run a notebook's code cells in this process, otter's own cells too, in the
    notebook's folder as its kernel would (otter reads the public tests from the
    notebook there). Returns its variables and each ``grader.check`` cell's result,
    by question. A cell that raises fails the test."""
    env, checks = {"__name__": "__main__"}, {}
    cwd = os.getcwd()
    os.chdir(Path(path).parent)
    try:
        for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type != "code":
                continue
            where = f"{Path(path).name}, cell {i}"
            check = _CHECK.fullmatch(cell.source.strip())
            if check:
                checks[check.group(1)] = eval(compile(check.group(0), where, "eval"), env)
            else:
                exec(compile(cell.source, where, "exec"), env)
    finally:
        os.chdir(cwd)
    for name in ("otter", "grader"):   # bound by otter's own cells, not the student
        env.pop(name, None)
    return env, checks


_CHECK = re.compile(r'grader\.check\("(q\w+)"\)')
_ENVS = {}


def _solution_run(built, name):
    """``_run_notebook`` of the solution in student form, once a module."""
    if name not in _ENVS:
        _ENVS[name] = _run_notebook(built[name].solution_notebook)
    return _ENVS[name]


def _solution_env(built, name):
    return _solution_run(built, name)[0]


def _check_per_question(checks, files):
    assert sorted(checks) == sorted(files), f"grader.check cells for {sorted(checks)}, tests for {sorted(files)}"


def _test_files(built, name, tmp_path):
    """{question: path of its test file (public and hidden tests)} from the autograder zip."""
    files = {}
    with zipfile.ZipFile(built[name].autograder_zip) as zf:
        for member in zf.namelist():
            if member.startswith("tests/") and member.endswith(".py"):
                path = tmp_path / Path(member).name
                path.write_bytes(zf.read(member))
                files[path.stem] = path
    return files


def crossed(env, tests, scratch):
    """``env`` as the judge sees it: each variable the tests take encoded as the
    sandbox sends it and decoded as the judge rebuilds it (models through their
    .keras archive, with safe_mode), every call of a function going through the
    same messages, as JSON -- in this process, without starting a sandbox."""
    from lecture_utils.grading import wire, inside

    encoder, inside_decoder = wire.Encoder(scratch=str(scratch)), wire.Decoder()

    def call(fn, args, kwargs):
        request = json.loads(json.dumps(judge.call_request(fn, args, kwargs)))
        reply = json.loads(json.dumps(inside.answer_call(encoder, inside_decoder, request)))
        return judge.take_reply(fn, args, reply)

    names = judge.test_parameters(tests)
    sent = json.loads(json.dumps({n: encoder.encode(env[n]) for n in names if n in env}))
    decoder = wire.Decoder(call=call)
    return {n: decoder.decode(v) for n, v in sent.items()}


def _load(test_path):
    """One question's otter test file."""
    from otter.nbmeta_config import NBMetadataConfig
    from otter.test_files import create_test_file

    return create_test_file(str(test_path), NBMetadataConfig())


def _grade(test_path, env):
    """Run one question's tests on ``env`` after it crossed from the sandbox to the judge."""
    test = _load(test_path)
    test.run(crossed(env, [test], Path(test_path).parent))
    return test


_MISSING = object()


def _takes(test_path):
    """The names a question's tests take."""
    return judge.test_parameters([_load(test_path)])


def _failures(test):
    return [(r.test_case.name, r.test_case.hidden, judge.clean_message(r.message))
            for r in test.test_case_results if not r.passed]


def _cases(kind):
    cases = []
    for name in NAMES:
        if not (ANSWERS / f"{name}.py").is_file():
            continue
        for question, answers in getattr(_answers(name), kind).items():
            for i, answer in enumerate(answers):
                cases.append(pytest.param(name, question, answer, id=f"{name}-{question}-{kind.lower()}{i + 1}"))
    return cases


# --------------------------------------------------------------------------
# exercises/ is generated from solutions/

@pytest.mark.parametrize("name", NAMES)
def test_exercise_notebook_is_what_its_solution_generates(built, name):
    path = ROOT / "exercises" / f"{name}.ipynb"
    hint = "run `make exercises` (lecture-utils build-exercises) and commit exercises/"
    assert path.is_file(), f"{path} is missing: {hint}"
    assert exercises.comparable(path.read_bytes()) == exercises.comparable(built[name].student), \
        f"{path} is not what solutions/{name}.ipynb generates: {hint}"
    manifest = json.loads((ROOT / "exercises" / exercises.MANIFEST).read_text())
    assert manifest[path.name]["sha256"] == exercises.sha256(path.read_bytes()), \
        f"exercises/{exercises.MANIFEST} does not record {path.name} as it is: {hint}"


def test_no_exercise_without_a_solution():
    orphans = [p.name for p in (ROOT / "exercises").glob("*.ipynb") if p.stem not in NAMES]
    assert not orphans, f"exercise notebooks without a solution notebook: {orphans}"


@pytest.mark.parametrize("name", NAMES)
def test_every_question_has_public_and_hidden_tests_a_hint_and_answers(built, name, tmp_path):
    files = _test_files(built, name, tmp_path)
    assert len(files) >= 4, f"{name} has {len(files)} questions; the course asks for at least 4"
    for question, path in files.items():
        test = _load(path)
        hidden = [tc.hidden for tc in test.test_cases]
        assert not all(hidden) and any(hidden), f"{name} {question}: needs public and hidden tests"
        assert test.possible > 0, f"{name} {question} is worth no points"
    student = nbformat.reads(built[name].student.decode(), as_version=4)
    hints = sum(c.source.count("<summary>Hint</summary>") for c in student.cells if c.cell_type == "markdown")
    assert hints >= len(files), f"{name}: {hints} hints for {len(files)} questions"
    assert (ANSWERS / f"{name}.py").is_file(), f"no right and wrong answers in tests/exercises/{name}.py"
    answers = _answers(name)
    for question in files:
        assert answers.RIGHT.get(question) and answers.WRONG.get(question), \
            f"tests/exercises/{name}.py needs a RIGHT and a WRONG answer for {question}"


# --------------------------------------------------------------------------
# The tests grade the solution, right and wrong answers, and the blank exercise.

@pytest.mark.parametrize("name", NAMES)
def test_the_solution_gets_every_point(built, name, tmp_path):
    env, checks = _solution_run(built, name)
    files = _test_files(built, name, tmp_path)
    for question, path in files.items():
        test = _grade(path, env)
        assert test.score == test.possible, f"{question}: {_failures(test)}"
    # and every grader.check cell under it, as the student runs it, passes its public tests
    _check_per_question(checks, files)
    for question, result in checks.items():
        assert result.passed_all_public, f"grader.check({question!r}) on the solution: {result}"


@pytest.mark.parametrize("name, question, answer", _cases("RIGHT"))
def test_right_answers_get_every_point(built, name, question, answer, tmp_path):
    env = dict(_solution_env(built, name))
    exec(answer, env)
    test = _grade(_test_files(built, name, tmp_path)[question], env)
    assert test.score == test.possible, f"a right answer to {question} fails: {_failures(test)}"


@pytest.mark.parametrize("name, question, answer", _cases("WRONG"))
def test_wrong_answers_lose_points_and_say_why(built, name, question, answer, tmp_path):
    code, says = answer
    solution = _solution_env(built, name)
    env = dict(solution)
    exec(code, env)
    files = _test_files(built, name, tmp_path)
    test = _grade(files[question], env)
    failures = _failures(test)
    assert test.score < test.possible, f"the wrong answer {code!r} gets every point of {question}"
    for _, _, message in failures:  # a message for the student, never a bare error
        assert message.startswith(("Incorrect:", "NotAnswered:")), message
    assert any(says in message for _, _, message in failures), \
        f"no message says {says!r}: {[m for _, _, m in failures]}"
    # only this question loses points: every other question that takes a name the answer
    # bound anew is graded again; one that takes none of them is given the solution's own
    # objects, which get every point (test_the_solution_gets_every_point)
    rebound = {n for n in env.keys() | solution.keys() if env.get(n, _MISSING) is not solution.get(n, _MISSING)}
    assert rebound, f"the wrong answer {code!r} binds no name"
    for other, path in files.items():
        if other != question and rebound & set(_takes(path)):
            graded = _grade(path, env)
            assert graded.score == graded.possible, f"{other} lost points too: {_failures(graded)}"


@pytest.mark.parametrize("name", NAMES)
def test_the_blank_exercise_runs_to_the_end_and_scores_zero(built, name, tmp_path):
    env, checks = _run_notebook(built[name].student_path)   # every cell runs, placeholders and all
    files = _test_files(built, name, tmp_path)
    for question, path in files.items():
        test = _grade(path, env)
        assert test.score == 0, f"the blank {question} gets {test.score} points"
        for _, _, message in _failures(test):
            assert message.startswith("NotAnswered:"), message
    # the student's immediate feedback: each grader.check cell says the question is not answered yet
    _check_per_question(checks, files)
    for question, result in checks.items():
        assert not result.passed_all_public and "NotAnswered:" in str(result), \
            f"grader.check({question!r}) on the blank exercise: {result}"


# --------------------------------------------------------------------------
# build-exercises keeps what a user wrote.

def _fake_assign(content):
    def assign(solution, build_dir, run_tests=False):
        student_path = Path(build_dir) / "exercises" / solution.stem / "student.ipynb"
        student_path.parent.mkdir(parents=True, exist_ok=True)
        student_path.write_bytes(content)
        return exercises.Built(solution.stem, solution, content, student_path, Path(build_dir) / "x.zip",
                               student_path, {"q1": 1})
    return assign


def test_build_exercises_keeps_an_edited_notebook_unless_forced(tmp_path, monkeypatch):
    solutions, target_dir, build = tmp_path / "solutions", tmp_path / "exercises", tmp_path / "build"
    solutions.mkdir()
    (solutions / "01_topic.ipynb").write_text("{}")
    target = target_dir / "01_topic.ipynb"
    said = []
    monkeypatch.setattr(exercises, "assign", _fake_assign(b"version 1\n"))
    assert exercises.build_exercises(solutions, target_dir, build, say=said.append) == 0
    assert target.read_bytes() == b"version 1\n" and any("created" in s for s in said)

    monkeypatch.setattr(exercises, "assign", _fake_assign(b"version 2\n"))
    assert exercises.build_exercises(solutions, target_dir, build, say=said.append) == 0
    assert target.read_bytes() == b"version 2\n"           # unchanged since generated: updated

    target.write_bytes(b"a student's work\n")
    monkeypatch.setattr(exercises, "assign", _fake_assign(b"version 3\n"))
    said.clear()
    assert exercises.build_exercises(solutions, target_dir, build, say=said.append) == 1
    assert target.read_bytes() == b"a student's work\n"    # kept, and said so
    assert any(s.startswith(f"KEPT {target}") and "--force" in s for s in said), said

    said.clear()
    assert exercises.build_exercises(solutions, target_dir, build, force=True, say=said.append) == 0
    assert target.read_bytes() == b"version 3\n"
    backups = list((build / "exercises" / "replaced").glob("01_topic-*.ipynb"))
    assert [b.read_bytes() for b in backups] == [b"a student's work\n"], said


def test_build_exercises_names_an_unknown_exercise(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "01_topic.ipynb").write_text("{}")
    with pytest.raises(exercises.ExerciseError, match="no solution notebook for 07_nope .* exercises: 01_topic"):
        exercises.build_exercises(tmp_path / "solutions", tmp_path / "exercises", tmp_path / "build",
                                  names=["07_nope"])


def test_build_exercises_command_refuses_bad_input(tmp_path, capsys):
    assert cli.main(["build-exercises", "--solutions", str(tmp_path / "missing")]) == 2
    assert "no solutions folder" in capsys.readouterr().err
    assert cli.main(["build-exercises", "07_nope", "--build", str(tmp_path / "build"),
                     "--exercises", str(tmp_path / "exercises")]) == 2
    assert "no solution notebook for 07_nope" in capsys.readouterr().err
    assert not (tmp_path / "exercises").exists()


def test_a_master_notebook_without_the_exception_format_is_refused(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_raw_cell("# ASSIGNMENT CONFIG\nname: 01_topic\n")])
    path = tmp_path / "01_topic.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(exercises.ExerciseError, match="ok_format: false"):
        exercises.assign(path, tmp_path / "build")


# --------------------------------------------------------------------------
# lecture-utils grade: bad input is refused before anything runs.

def test_grade_refuses_bad_input(tmp_path, capsys):
    sub = tmp_path / "a.ipynb"
    sub.write_text("{}")
    out = tmp_path / "grades.csv"
    assert cli.main(["grade", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert "no such file or folder: " in capsys.readouterr().err
    assert cli.main(["grade", str(sub), "--out", str(out), "--exercise", "07_nope"]) == 2
    assert "unknown exercise '07_nope'; exercises: 01_vanishing_gradients" in capsys.readouterr().err
    out.write_text("my grades\n")
    assert cli.main(["grade", str(sub), "--out", str(out)]) == 2
    assert "exists; choose another --out, or pass --force" in capsys.readouterr().err
    assert out.read_text() == "my grades\n"
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "g.txt")]) == 2
    assert "--out must name a .csv file" in capsys.readouterr().err


# --------------------------------------------------------------------------
# lecture-utils grade on real submissions (starts kernels).

NAME = "01_vanishing_gradients"


def _nb(path):
    return json.loads(Path(path).read_text())


def _code_cell(source):
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None,
            "id": f"test{abs(hash(source)) % 10**8:08d}"}


def _read_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    by = {}
    for row in rows:
        by.setdefault(Path(row["submission"]).name, {})[row["question"]] = row
    return by


def test_grade_a_batch_with_broken_submissions(built, build_dir, tmp_path):
    solution = _nb(built[NAME].solution_notebook)
    subs = tmp_path / "submissions"
    subs.mkdir()
    (subs / "solution.ipynb").write_text(json.dumps(solution))
    (subs / "blank.ipynb").write_bytes(built[NAME].student)
    wrong = copy.deepcopy(solution)                    # q2 wrong, and a cell that raises
    for cell in wrong["cells"]:
        if "".join(cell["source"]).startswith("def sigmoid_derivative"):
            cell["source"] = "def sigmoid_derivative(z):\n    return z * (1 - z)\n"
    wrong["cells"].append(_code_cell("raise RuntimeError('a cell that raises')"))
    (subs / "wrong.ipynb").write_text(json.dumps(wrong))
    dies = copy.deepcopy(solution)
    dies["cells"].insert(1, _code_cell("import os\nos._exit(1)"))
    (subs / "dies.ipynb").write_text(json.dumps(dies))
    (subs / "corrupt.ipynb").write_text('{"cells": [ not json')
    out = tmp_path / "grades.csv"

    outcomes = batch.grade([subs], out, solutions_dir=ROOT / "solutions", build_dir=build_dir,
                             timeout=240, jobs=2, say=lambda s: None)

    assert len(outcomes) == 5
    rows = _read_rows(out)
    points = built[NAME].points
    full = sum(points.values())
    assert rows["solution.ipynb"]["TOTAL"]["points"] == str(full)
    assert all(rows["solution.ipynb"][q]["status"] == "passed" for q in points)
    assert rows["blank.ipynb"]["TOTAL"]["points"] == "0" and rows["blank.ipynb"]["TOTAL"]["max"] == str(full)
    assert "NotAnswered: max_slope is still `...`" in rows["blank.ipynb"]["q1"]["message"]
    assert {q: rows["wrong.ipynb"][q]["points"] for q in points} == {
        q: ("0" if q == "q2" else str(p)) for q, p in points.items()}
    assert "you computed z(1 − z)" in rows["wrong.ipynb"]["q2"]["message"]
    assert "RuntimeError: a cell that raises" in rows["wrong.ipynb"]["TOTAL"]["message"]
    assert rows["dies.ipynb"]["TOTAL"]["status"] == "kernel died"
    assert rows["corrupt.ipynb"]["TOTAL"]["status"] == "invalid notebook"
    assert "not valid JSON" in rows["corrupt.ipynb"]["TOTAL"]["message"]


def test_the_batch_prepares_the_solution_notebooks_own_set_up_data(built, tmp_path, monkeypatch):
    """The set-up data a batch computes once for its judges is what each
    judge would compute itself from the solution notebook, exactly; what is
    not plain arrays is not saved (each judge then computes it)."""
    import numpy as np

    master = ROOT / "solutions" / f"{NAME}.ipynb"
    (tmp_path / "tests").mkdir()
    names = judge.test_parameters(judge.load_tests(built[NAME].autograder_zip, tmp_path / "tests"))
    out = tmp_path / "setup.npz"
    assert judge.prepare_setup(master, built[NAME].autograder_zip, out)
    expected = judge.trusted_setup(master, names)
    got = judge.load_setup(out, names)
    assert expected and got.keys() == expected.keys()
    for name, value in expected.items():
        assert got[name].dtype == value.dtype and np.array_equal(got[name], value), name
    monkeypatch.setattr(judge, "trusted_setup", lambda master, names: {"X_batch": [[0.0]]})
    assert not judge.prepare_setup(master, built[NAME].autograder_zip, tmp_path / "list.npz")
    assert not (tmp_path / "list.npz").exists()


def test_grade_stops_a_loop_and_reports_another_exercise(built, build_dir, tmp_path, monkeypatch):
    solution = _nb(built[NAME].solution_notebook)
    subs = tmp_path / "submissions"
    subs.mkdir()
    loops = copy.deepcopy(solution)
    loops["cells"].insert(1, _code_cell("while True:\n    pass"))
    (subs / "loops.ipynb").write_text(json.dumps(loops))
    other = copy.deepcopy(solution)
    other["metadata"]["otter"]["assignment_name"] = "02_initialization"
    (subs / "other.ipynb").write_text(json.dumps(other))
    out = tmp_path / "grades.csv"
    batch.grade([subs / "loops.ipynb", subs / "other.ipynb"], out, solutions_dir=ROOT / "solutions",
                  build_dir=build_dir, timeout=8, exercise=NAME, say=lambda s: None)

    rows = _read_rows(out)
    assert rows["loops.ipynb"]["TOTAL"]["status"] == "timeout"
    assert "stopped after 8 s" in rows["loops.ipynb"]["TOTAL"]["message"]
    assert rows["other.ipynb"]["TOTAL"]["status"] == "wrong exercise"
    assert f"a submission for 02_initialization (from its notebook's metadata), not {NAME}" in \
        rows["other.ipynb"]["TOTAL"]["message"]
    psutil = pytest.importorskip("psutil")
    leftovers = [p for p in psutil.Process().children(recursive=True) if p.is_running()
                 and p.status() != psutil.STATUS_ZOMBIE]
    assert not leftovers, f"processes left running after the time limit: {leftovers}"


def test_the_autograder_zip_still_grades_with_otter_itself(built, tmp_path):
    """What Gradescope and `otter grade` run: otter's own grading of the zip (no sandbox of ours)."""
    from otter.run import main as otter_run

    name = "05_gradient_clipping"
    notebook = tmp_path / f"{name}.ipynb"
    notebook.write_text(Path(built[name].solution_notebook).read_text())
    results = otter_run(str(notebook), autograder=str(built[name].autograder_zip), output_dir=str(tmp_path),
                        no_logo=True)
    assert not results.has_catastrophic_failure(), results.catastrophic_error
    assert results.total == results.possible == sum(built[name].points.values())
