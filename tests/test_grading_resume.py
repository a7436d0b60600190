"""A batch that survives interruption: `lecture-utils grade` stopped by
Ctrl-C or killed outright keeps what it graded (its journal), never leaves a
half-written CSV in place of a good one, leaves no process behind, and
`--resume` grades only what is missing, each submission once."""
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lecture_utils import exercises
from lecture_utils.grading import batch

ROOT = Path(__file__).resolve().parents[1]
NAME = "05_gradient_clipping"
N = 6


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A build folder with exercise 05's autograder, and N blank submissions
    that each take a second or two (a cell that sleeps)."""
    build = tmp_path_factory.mktemp("build")
    built = exercises.assign(ROOT / "solutions" / f"{NAME}.ipynb", build, run_tests=False)
    exercises.autograder(NAME, ROOT / "solutions", build, say=lambda s: None)
    blank = json.loads(built.student)
    blank["cells"].append({"cell_type": "code", "metadata": {}, "source": "import time\ntime.sleep(0.5)",
                           "outputs": [], "execution_count": None, "id": "sleeps"})
    subs = tmp_path_factory.mktemp("submissions")
    for i in range(N):
        (subs / f"student{i}.ipynb").write_text(json.dumps(blank))
    return build, subs


def _grade(build, subs, out, *extra):
    return subprocess.Popen([sys.executable, "-m", "lecture_utils.cli", "grade", str(subs), "--out", str(out),
                             "--build", str(build), "--jobs", "2", *extra], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))


def _stop_after(process, sig) -> str:
    """Read its lines until it has graded one submission, then send it `sig`; all it printed."""
    seen = []
    deadline = time.monotonic() + 240
    for line in process.stdout:
        seen.append(line)
        if line.startswith("[") and f"/{N}]" in line:
            process.send_signal(sig)
            break
        assert time.monotonic() < deadline, "".join(seen)
    seen.append(process.stdout.read())
    process.wait(timeout=60)
    return "".join(seen)


def _totals(out):
    with open(out, newline="") as f:
        return [(Path(r["submission"]).name, r["status"], r["message"]) for r in csv.DictReader(f)
                if r["question"] == "TOTAL"]


def _graded_lines(text):
    return [line for line in text.splitlines() if line.startswith("[") and f"/{N}]" in line]


def _left_running(wait: float = 10.0):
    """The template processes of this test's batches still running after up to `wait` seconds."""
    psutil = pytest.importorskip("psutil")
    deadline = time.monotonic() + wait
    while True:
        left = [p.info["cmdline"] for p in psutil.process_iter(["cmdline"])
                if "lecture_utils.grading.template" in " ".join(p.info["cmdline"] or [])
                and p.status() != psutil.STATUS_ZOMBIE and _ours(p, psutil)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


def _ours(p, psutil):
    """A process this test's batches started (not one of another pytest worker's): under this
    process, or orphaned (its batch was killed)."""
    try:
        return p.ppid() == 1 or any(parent.pid == os.getpid() for parent in p.parents())
    except psutil.Error:
        return False


def test_a_batch_killed_then_interrupted_resumes_to_each_submission_once(course, tmp_path):
    """kill -9, then Ctrl-C during the resumed batch, then a journal line cut in half: the
    last good CSV stays until a whole one replaces it, nothing is left running, and the
    last --resume grades only what is missing."""
    build, subs = course
    out = tmp_path / "grades.csv"
    journal = out.with_name(out.name + ".journal")
    out.write_text("the last good grades\n")
    said = _stop_after(_grade(build, subs, out, "--force"), signal.SIGKILL)
    assert out.read_text() == "the last good grades\n", said   # never a half-written CSV in its place
    assert len(journal.read_text().splitlines()) >= 1, said
    assert not _left_running()

    again = _grade(build, subs, out)   # neither --resume nor --force: refused, nothing touched
    assert again.wait(timeout=60) == 2 and "pass --resume" in again.stdout.read()
    assert out.read_text() == "the last good grades\n"

    before = len(journal.read_text().splitlines())
    said = _stop_after(_grade(build, subs, out, "--resume"), signal.SIGINT)
    assert f"{before} of {N} submissions graded before" in said, said
    assert "interrupted" in said and "--resume" in said, said
    totals = _totals(out)
    assert len(totals) == N, totals
    done = [t for t in totals if t[1] != "not graded"]
    assert before < len(done) < N, totals
    assert all("--resume" in t[2] for t in totals if t[1] == "not graded"), totals
    lines = journal.read_text().splitlines()
    assert len(lines) == len(done), (lines, totals)

    # a crash in the middle of writing a line: that line is ignored, its submission graded again
    journal.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2])
    resumed = _grade(build, subs, out, "--resume")
    said = resumed.stdout.read()
    assert resumed.wait(timeout=240) == 0, said
    assert f"{len(lines) - 1} of {N} submissions graded before" in said, said
    assert len(_graded_lines(said)) == N - (len(lines) - 1), said   # only the rest graded
    after = _totals(out)
    assert sorted(t[0] for t in after) == sorted(f"student{i}.ipynb" for i in range(N))   # each once
    assert all(t[1] == "graded" for t in after), after
    assert not journal.exists()
    assert not _left_running()


def test_resume_without_a_journal_says_so(course, tmp_path):
    build, subs = course
    process = _grade(build, subs, tmp_path / "grades.csv", "--resume")
    assert process.wait(timeout=60) == 2
    assert "nothing to resume" in process.stdout.read()
    assert not (tmp_path / "grades.csv").exists()


def test_the_progress_bar_on_a_terminal_shows_the_count_the_rate_and_the_time_left():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    progress = batch._Progress(4, screen, done=1)   # one graded before (--resume)
    progress.update(batch.Outcome(batch.Submission(Path("s.ipynb"), "s.ipynb"), "graded", [], 3.0, 4.0, 1.0))
    progress.close()
    shown = screen.getvalue()
    assert "2/4" in shown and "submission/s" in shown and "<" in shown and "s.ipynb: 3/4" in shown, shown
