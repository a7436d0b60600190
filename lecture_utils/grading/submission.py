"""One submission, graded here: its sandbox and its judge forked from the
batch's two templates (:mod:`lecture_utils.grading.template`), in its memory group,
under its time limit; its CSV rows. Used by the batch
(:mod:`lecture_utils.grading.batch`) and by each worker of a grading cluster
(:mod:`lecture_utils.grading.cluster`)."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

from .. import exercises
from . import memory, sandbox, template

TOTAL = "TOTAL"


class GradingError(RuntimeError):
    """Bad input to the batch as a whole (no submissions, an existing output file, ...)."""


@dataclasses.dataclass
class Submission:
    """One file to grade, and what we know about it before running it."""

    path: Path
    label: str                    # how the CSV names it
    exercise: str | None = None   # the exercise it will be graded as
    problem: str | None = None    # a status if it cannot be graded (invalid notebook, ...)
    message: str = ""             # why, or a note (e.g. "identified by its file name")
    notebook: dict | None = None  # the parsed notebook


@dataclasses.dataclass
class Outcome:
    """The grading of one submission: its rows, and a few numbers for the summary."""

    submission: Submission
    status: str
    rows: list
    score: float | None = None
    possible: float | None = None
    seconds: float = 0.0
    peak_bytes: int | None = None   # the most memory its group held (None: no memory group)
    judge_peak_bytes: int | None = None  # the judge's own largest resident size, as it said



# --------------------------------------------------------------------------
# The judges and sandboxes, forked from the batch's templates.

_RUNNING: set = set()  # the forks running now (killed on Ctrl-C)
_RUNNING_LOCK = threading.Lock()


class Templates:
    """The batch's two templates (:mod:`lecture_utils.grading.template`): the judges'
    (here) and the sandboxes' (in bubblewrap, or with ``sandboxed=False`` a
    plain process), started side by side. Stop them with :meth:`stop`."""

    def __init__(self, folder: str, sandboxed: bool, data_dir: str | None,
                 limits: sandbox.Limits = sandbox.Limits()):
        self.folder, self.sandboxed, self.limits = folder, sandboxed, limits
        self.keep = sandbox.bound_under_tmp(data_dir)
        env = _judge_env(folder)
        argv = [sys.executable, "-m", "lecture_utils.grading.template"]
        started: dict = {}
        # started here, in the batch's own thread (bubblewrap's --die-with-parent follows the thread)
        if sandboxed:
            box = dict(command=sandbox.command(argv + ["sandbox"], data_dir, limits, nested=True, environ=env),
                       preexec_fn=lambda: sandbox.preexec(limits, data_dir))
        else:  # --no-sandbox: the same conversation, with the instructor's permissions
            plain = dict(env, PYTHONPATH=str(sandbox.PACKAGE.parent))
            if data_dir:
                plain["FASHION_MNIST_DIR"] = str(data_dir)
            box = dict(command=argv + ["sandbox"], env=plain, cwd=folder)
        for kind, kwargs in (("judge", dict(command=argv + ["judge"], env=env, cwd=folder)), ("sandbox", box)):
            try:
                started[kind] = template.Template(kind, log_path=str(Path(folder) / f"{kind}-template.log"), **kwargs)
            except (OSError, sandbox.SandboxUnavailable) as exc:
                started[kind] = exc
        for kind, t in list(started.items()):   # both import at once
            if isinstance(t, template.Template):
                try:
                    t.wait_ready()
                except template.TemplateError as exc:
                    started[kind] = exc
        problems = [str(v) for v in started.values() if isinstance(v, Exception)]
        self.judge, self.sandbox = started.get("judge"), started.get("sandbox")
        if problems:
            self.stop()
            raise GradingError("cannot start grading: " + "; ".join(problems))

    def sandbox_request(self) -> dict:
        lim = self.limits
        return {"isolate": self.sandboxed, "max_tasks": lim.tasks(), "keep": self.keep,
                "sizes": {"scratch": lim.scratch_bytes, "tmp": lim.tmp_bytes, "shm": lim.shm_bytes}}

    def stop(self) -> None:
        for t in (self.judge, self.sandbox):
            if isinstance(t, template.Template):
                t.stop()


def _error(sub: Submission, points: dict, message: str) -> Outcome:
    return Outcome(sub, "error", _not_graded_rows(sub, points, "error", message))


def _not_graded_rows(sub: Submission, points: dict, status: str, message: str) -> list[list]:
    rows = [[sub.label, q, 0, p, "not graded", ""] for q, p in points.items()]
    total = sum(points.values()) if points else ""
    rows.append([sub.label, TOTAL, 0, total, status, message])
    return rows


def _graded_rows(sub: Submission, result: dict, points: dict, note: str = "") -> tuple[list[list], float, float]:
    rows, score, possible = [], 0.0, 0.0
    by_name = {q["name"]: q for q in result["questions"]}
    for name in sorted(set(points) | set(by_name), key=exercises._question_order):
        q = by_name.get(name)
        if q is None:  # otter ran no test for it: counts as 0
            rows.append([sub.label, name, 0, points[name], "failed", "not checked (no result)"])
            possible += points[name]
            continue
        failing = [t for t in q["tests"] if not t["passed"]]
        status = "passed" if not failing else ("failed" if q["score"] == 0 else "partial")
        message = " | ".join(("(hidden) " if t["hidden"] else "") + t["message"] for t in failing)
        rows.append([sub.label, name, exercises.as_points(q["score"]), exercises.as_points(q["possible"]), status, message])
        score += q["score"]
        possible += q["possible"]
    notes = []
    if result.get("cell_errors"):
        errors = result["cell_errors"]
        notes.append(f"{len(errors)} cell{'s' if len(errors) > 1 else ''} raised an error: " + "; ".join(errors))
    if sub.message:
        notes.append(sub.message)
    if note:
        notes.append(note)
    rows.append([sub.label, TOTAL, exercises.as_points(score), exercises.as_points(possible), "graded", " | ".join(notes)])
    return rows, score, possible


def _judge_env(tmp: str) -> dict:
    """The environment of the templates (the judges' and the sandboxes')."""
    env = dict(os.environ)
    env.setdefault("LECTURE_PROFILE", "fast")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("MPLBACKEND", "Agg")
    env["PYTHONUNBUFFERED"] = "1"
    env["TMPDIR"] = tmp
    return env


def _ask_judge(templates: Templates, request: dict, fds: list[int], timeout: float, notebook: bytes | None,
               group: memory.Group | None = None) -> tuple[dict | None, bool]:
    """Fork a judge with ``request`` and ``fds`` (after its log), put it in
    ``group``, send it ``notebook`` (if any) and read its result; the judge
    is killed when it has answered, or past ``timeout``. Returns (result or
    None, timed out)."""
    from .judge import recv_blob, send_blob

    started = time.monotonic()
    fork = templates.judge.fork(request, fds)
    with _RUNNING_LOCK:
        _RUNNING.add(fork)
    try:
        if group is not None:  # before it reads the notebook
            group.add(fork.pid)
        fork.go()
        if notebook is not None:
            send_blob(fork.sock, notebook)
        try:
            out = recv_blob(fork.sock, timeout=max(0.1, timeout - (time.monotonic() - started)))
        except (socket.timeout, TimeoutError):
            return None, True
        except (EOFError, OSError):
            return None, False
        try:
            result = json.loads(out.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None, False
        return (result if isinstance(result, dict) else None), False
    finally:
        fork.kill()
        fork.close()
        with _RUNNING_LOCK:
            _RUNNING.discard(fork)


def prepare_setup(exercise: str, autograder_zip: Path, master: Path, folder: Path, timeout: float,
                  templates: Templates) -> Path | None:
    """The exercise's set-up data, computed once for the batch (by a judge
    forked with ``"prepare"``) into ``folder``; None where it is not plain
    arrays or could not be computed (each judge then computes it from
    ``master`` itself, as it would anyway)."""
    out = Path(folder) / f"{exercise}-setup.npz"
    with tempfile.TemporaryDirectory(prefix="lecture-utils-grade-") as tmp:
        with open(Path(tmp) / "log.txt", "wb") as log:
            try:
                said, _ = _ask_judge(templates, {"prepare": str(out.resolve()), "master": str(Path(master).resolve()),
                                                 "autograder": str(Path(autograder_zip).resolve()), "tmp": tmp,
                                                 "env": {"TMPDIR": tmp}}, [log.fileno()], timeout, None)
            except template.TemplateError:
                return None
    return out if isinstance(said, dict) and said.get("status") == "prepared" and out.is_file() else None


def _over_budget(budget: int) -> str:
    return (f"went over its memory budget of {budget / memory.GiB:g} GiB (the notebook and its grading together, "
            "in-memory files included) and was stopped")


def grade_one(sub: Submission, autograder_zip: Path, points: dict, timeout: float, templates: Templates, *,
              master: Path | None = None, setup_data: Path | None = None, budget: int | None = None) -> Outcome:
    """Grade one identified submission: a sandbox and a judge forked from
    ``templates`` (the judge runs the notebook in the sandbox and decides the
    marks outside it), both killed after ``timeout`` seconds with everything
    they started. The set-up data the tests take: ``setup_data``
    (:func:`prepare_setup`) if given, else computed from ``master``. With
    ``budget`` (bytes) and a memory cgroup here (:func:`memory.support`), the
    sandbox and the judge run in a memory group of that size."""
    group = memory.Group(budget) if budget and memory.support().kind else None
    try:
        return _grade_in(sub, autograder_zip, points, timeout, templates, group, master=master, setup_data=setup_data)
    finally:
        if group is not None:
            group.remove()


def _grade_in(sub: Submission, autograder_zip: Path, points: dict, timeout: float, templates: Templates,
              group: memory.Group | None, *, master: Path | None, setup_data: Path | None) -> Outcome:
    """:func:`grade_one`, its forks in ``group`` (if not None)."""
    started = time.monotonic()
    notebook_text = json.dumps(sub.notebook, ensure_ascii=False)  # read (and checked) by identify()
    with tempfile.TemporaryDirectory(prefix="lecture-utils-grade-") as tmp:
        log_path = Path(tmp) / "log.txt"
        judge_end, sandbox_end = socket.socketpair()
        err_read, err_write = os.pipe()
        box = None
        try:
            box = templates.sandbox.fork(templates.sandbox_request(), [sandbox_end.fileno(), err_write])
            with _RUNNING_LOCK:
                _RUNNING.add(box)
            if group is not None:  # before it makes its sandbox and runs anything
                group.add(box.pid)
            box.go()
            sandbox_end.close()
            os.close(err_write)
            err_write = None
            request = {"exercise": sub.exercise, "autograder": str(Path(autograder_zip).resolve()), "tmp": tmp,
                       "env": {"TMPDIR": tmp}, "master": str(Path(master).resolve()) if master else None,
                       "setup_data": str(Path(setup_data).resolve()) if setup_data else None}
            with open(log_path, "wb") as log:
                result, timed_out = _ask_judge(
                    templates, request, [log.fileno(), judge_end.fileno(), err_read, box.pidfd, box.sock.fileno()],
                    timeout - (time.monotonic() - started), notebook_text.encode("utf-8"), group)
        finally:   # the sandbox too, at once (past the time limit, the judge was killed first)
            for closing in (judge_end.close, sandbox_end.close, lambda: os.close(err_read),
                            lambda: err_write is not None and os.close(err_write)):
                try:
                    closing()
                except OSError:
                    pass
            if box is not None:
                box.kill()
                box.close()
                with _RUNNING_LOCK:
                    _RUNNING.discard(box)
        seconds = time.monotonic() - started
        killed = group.oom_kills() if group is not None else 0
        peak = group.peak() if group is not None else None
        if timed_out and not killed:
            message = (f"stopped after {timeout:g} s (the time limit): a cell that never finishes, "
                       "or a notebook too slow for --timeout")
            return Outcome(sub, "timeout", _not_graded_rows(sub, points, "timeout", message), 0.0,
                           sum(points.values()), seconds, peak)
        if result is None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
            result = {"status": "error", "message": "the grading process ended with no result"
                      + (": " + " / ".join(tail) if tail else "")}
    judge_peak = result.get("judge_peak_bytes") if isinstance(result.get("judge_peak_bytes"), int) else None
    if killed and result.get("status") != "graded":
        message = f"the submission {_over_budget(group.budget)} (the kernel killed {killed} of its processes)"
        return Outcome(sub, "memory limit", _not_graded_rows(sub, points, "memory limit", message),
                       0.0, sum(points.values()), seconds, peak, judge_peak)
    if result.get("status") != "graded":
        status = str(result.get("status", "error"))
        return Outcome(sub, status, _not_graded_rows(sub, points, status, str(result.get("message", ""))),
                       0.0, sum(points.values()), seconds, peak, judge_peak)
    note = f"a process of the notebook {_over_budget(group.budget)}" if killed else ""
    rows, score, possible = _graded_rows(sub, result, points, note)
    return Outcome(sub, "graded", rows, score, possible, seconds, peak, judge_peak)


