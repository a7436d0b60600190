"""Batch grading (on the instructor's side): each submission graded by a
fresh judge process, under a time limit, with one CSV row per submission and
question.

Who runs where:

- this module (the batch) finds and identifies the submissions, builds the
  autograders, has each graded (:mod:`lecture_utils.grading.submission`: a judge and
  a sandbox forked from the batch's templates, :mod:`lecture_utils.grading.template`;
  or on a Dask cluster, :mod:`lecture_utils.grading.cluster`), keeps the journal
  that ``--resume`` reads, and writes the CSV;
- the judge reads the tests, runs the notebook in the sandbox
  (:mod:`lecture_utils.grading.sandbox`, :mod:`lecture_utils.grading.inside`) and decides the
  marks outside it, on the answers that crossed as data
  (:mod:`lecture_utils.grading.wire`).

One broken submission never stops the batch. Each of these yields rows that
say what happened, and the others are graded:

- not a notebook (not valid JSON, a zip without one, over 20 MB): ``invalid notebook``;
- a cell that raises: graded as usual (the questions it breaks fail), the
  total row names the cell and the error;
- a cell that never finishes: killed at the time limit, ``timeout``;
- a notebook that dies (``os._exit``, a crash, a resource limit): ``kernel died``;
- a submission that goes over its memory budget (the notebook and its
  judge together, in-memory files included: :mod:`lecture_utils.grading.memory`),
  stopped by the kernel: ``memory limit``;
- a submission for another exercise: ``wrong exercise`` / ``unknown exercise``.

Without bubblewrap the batch stops and says what to install; ``--no-sandbox``
runs the notebooks with the instructor's permissions, and the ``sandbox``
column of every row says so.

Everything a submission wrote (its file name, its messages, what it printed
when it died) reaches the CSV and the terminal through
:mod:`lecture_utils.grading.safetext`: no escape sequence, no formula, no endless line.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Callable, Iterable

from .. import data, exercises
from . import memory, sandbox
from .grades import COLUMNS, write_rows
from .safetext import LABEL_LIMIT, MESSAGE_LIMIT, clean, csv_cell

SANDBOXED, UNSANDBOXED = "bubblewrap", "NONE (--no-sandbox): student code ran with your permissions"
MAX_SUBMISSION_BYTES = 20 * 2**20   # a notebook of these exercises is well under 1 MB
DEFAULT_TIMEOUT = 300


from .submission import (_RUNNING, _RUNNING_LOCK, GradingError, Outcome, Submission, Templates,  # noqa: F401
                         _error, _not_graded_rows, grade_one, prepare_setup)


# --------------------------------------------------------------------------
# Finding and identifying submissions.

def find_submissions(paths: Iterable[str | Path]) -> list[Submission]:
    """The submissions among ``paths``: files as given, and every ``*.ipynb``
    and ``*.zip`` under a folder (checkpoints and hidden folders left out).

    Raises:
        GradingError: a path that does not exist, or no submission at all.
    """
    found: list[Path] = []
    missing = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if f.is_file() and f.suffix.lower() in {".ipynb", ".zip"} and not any(
                        part.startswith(".") for part in rel):
                    found.append(f)
        elif p.is_file():
            found.append(p)
        else:
            missing.append(str(p))
    if missing:
        raise GradingError("no such file or folder: " + ", ".join(missing))
    if not found:
        raise GradingError("no submissions (*.ipynb or *.zip) in " + ", ".join(map(str, paths)))
    unique = list(dict.fromkeys(f.resolve() for f in found))
    cwd = Path.cwd()

    def label(f: Path) -> str:
        try:
            return str(f.relative_to(cwd))
        except ValueError:
            return str(f)

    return [Submission(f, label(f)) for f in unique]


def _too_large(size: int) -> str:
    return (f"the notebook is {size / 2**20:.0f} MB; the limit is {MAX_SUBMISSION_BYTES // 2**20} MB "
            "(a notebook of these exercises is well under 1 MB: clear its outputs and submit it again)")


def _read_notebook(path: Path) -> dict:
    """The submission's notebook as a dict (from a zip: the one notebook in it).

    Raises:
        ValueError: with the reason, if it is not a readable notebook.
    """
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.endswith(".ipynb") and not n.startswith("__MACOSX")
                         and ".ipynb_checkpoints" not in n]
                if len(names) != 1:
                    raise ValueError(f"the zip holds {len(names)} notebooks, expected 1")
                size = zf.getinfo(names[0]).file_size
                if size > MAX_SUBMISSION_BYTES:
                    raise ValueError(_too_large(size))
                raw = zf.read(names[0])
        except zipfile.BadZipFile:
            raise ValueError("it is not a valid zip file") from None
    elif path.suffix.lower() == ".ipynb":
        size = path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            raise ValueError(_too_large(size))
        raw = path.read_bytes()
    else:
        raise ValueError(f"it is not a notebook (.ipynb) or a zip of one, but a {path.suffix or 'file without extension'}")
    try:
        nb = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("it is not text (UTF-8), so not a notebook") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"it is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): "
                         "the file is damaged or was not saved as a notebook") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        raise ValueError("it is JSON but not a Jupyter notebook (version 4) with cells")
    return nb


def identify(sub: Submission, known: list[str], expected: str | None = None) -> Submission:
    """Fill in ``sub.exercise`` (from the notebook's otter metadata, else the
    file name) or ``sub.problem`` (why it cannot be graded)."""
    by_name = [k for k in known if k in sub.path.name] or [k for k in known if sub.path.name.startswith(k[:3])]
    try:
        sub.notebook = _read_notebook(sub.path)
    except (OSError, ValueError) as exc:
        sub.problem, sub.message = "invalid notebook", f"cannot read {sub.path.name}: {exc}"
        sub.exercise = expected or (by_name[0] if len(by_name) == 1 else None)
        return sub
    otter_meta = sub.notebook.get("metadata", {}).get("otter", {})
    declared = otter_meta.get("assignment_name") if isinstance(otter_meta, dict) else None
    if declared:
        exercise, how = declared, "its notebook's metadata"
    elif expected:
        exercise, how = expected, "--exercise (the notebook has no otter metadata)"
    elif len(by_name) == 1:
        exercise, how = by_name[0], "its file name (the notebook has no otter metadata)"
    else:
        sub.problem = "unknown exercise"
        sub.message = ("the notebook has no otter metadata (assignment_name) and its file name does not "
                       f"say which exercise it is; exercises: {', '.join(known)}. Use --exercise NAME.")
        return sub
    if expected and exercise != expected:
        sub.problem, sub.exercise = "wrong exercise", expected
        sub.message = f"this is a submission for {exercise} (from {how}), not {expected}"
        return sub
    if exercise not in known:
        sub.problem = "unknown exercise"
        sub.message = f"this is a submission for {exercise!r} (from {how}); exercises: {', '.join(known)}"
        return sub
    sub.exercise = exercise
    if not declared:
        sub.message = f"graded as {exercise}, identified by {how}"
    return sub


def _connect(address: str, certs, sandboxed: bool, say: Callable[[str], None]):
    """A Dask client of the cluster at ``address``, its workers each with the
    grading plugin (:mod:`lecture_utils.grading.cluster`); GradingError if none can grade."""
    from . import cluster as dask_cluster

    try:
        from distributed import Client
    except ImportError:
        raise GradingError("--cluster needs Dask's distributed: pip install 'lecture-utils[cluster]'") from None
    try:
        client = Client(address, security=dask_cluster.security(certs), timeout="30s")
    except (OSError, TimeoutError) as exc:
        raise GradingError(f"cannot reach the cluster at {address}: {exc}") from None
    try:   # raises the first worker's refusal; the others have it set up
        client.register_plugin(dask_cluster.GradingPlugin(sandboxed), name=dask_cluster.PLUGIN)
    except Exception as exc:  # noqa: BLE001 -- a worker's refusal, said
        say(f"refused: {exc}")
    status = client.run(dask_cluster.can_grade, on_error="return")
    ready = [w for w, ok in status.items() if ok is True]
    for worker, ok in status.items():
        if ok is not True:
            say(f"worker {worker} refused: {ok if isinstance(ok, Exception) else 'its sandbox did not start'}")
    if not ready:
        client.close()
        raise GradingError(f"no worker of the cluster at {address} can grade "
                           f"({len(status)} worker{'s' if len(status) != 1 else ''}: see above)")
    say(f"cluster {address}: {len(ready)} worker{'s' if len(ready) != 1 else ''} grading, "
        f"{sum(client.nthreads(ready).values())} submissions at a time")
    return client


# --------------------------------------------------------------------------
# The batch.

class _Progress:
    """On a terminal, a progress bar (tqdm: the count, the rate, the time
    left, and the last submission); otherwise one line per submission."""

    def __init__(self, total: int, stream=None, done: int = 0):
        self.total, self.done, self.stream = total, done, stream or sys.stderr
        self.lock = threading.Lock()
        self.bar = None
        if hasattr(self.stream, "isatty") and self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, file=self.stream, unit="submission", dynamic_ncols=True,
                            smoothing=0.1)

    def update(self, outcome: Outcome) -> None:
        with self.lock:
            self.done += 1
            if outcome.score is not None and outcome.status == "graded":
                what = f"{exercises.as_points(outcome.score)}/{exercises.as_points(outcome.possible)}"
            else:
                what = outcome.status
            name = clean(outcome.submission.label, LABEL_LIMIT)
            if self.bar is not None:
                self.bar.set_postfix_str(f"{Path(name).name}: {clean(what, 40)}", refresh=False)
                self.bar.update(1)
                return
            self.stream.write(f"[{self.done}/{self.total}] {name}: {clean(what, 80)} ({outcome.seconds:.0f} s)\n")
            self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _Journal:
    """What a batch has graded so far (``OUT.journal``, next to the CSV): one
    JSON line per submission, on disk (flushed and synced) as soon as it is
    graded. A batch stopped by Ctrl-C, a crash or a reboot resumes from it
    (``--resume``): a submission whose file is unchanged (same SHA-256) is
    not graded again. A line cut short by a crash is ignored (that
    submission is graded again). Removed when the CSV holds every submission."""

    def __init__(self, out: Path):
        self.path = out.with_name(out.name + ".journal")
        self.lock = threading.Lock()
        self.file = None

    def entries(self) -> dict:
        """(path, sha256) -> what was recorded, from the journal on disk."""
        found = {}
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return found
        for line in lines:
            try:
                entry = json.loads(line)
                key = (entry["path"], entry["sha256"])
                if isinstance(entry["rows"], list) and isinstance(entry["status"], str):
                    found[key] = entry
            except (ValueError, KeyError, TypeError):
                continue   # cut short by a crash: graded again
        return found

    def open(self, fresh: bool) -> None:
        self.file = open(self.path, "w" if fresh else "a", encoding="utf-8")

    def record(self, outcome: Outcome) -> None:
        sub = outcome.submission
        entry = {"path": str(sub.path), "sha256": _digest(sub.path), "status": outcome.status,
                 "rows": [row[1:] for row in outcome.rows], "score": outcome.score, "possible": outcome.possible,
                 "seconds": outcome.seconds}
        with self.lock:
            self.file.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self.file.flush()
            os.fsync(self.file.fileno())

    def close(self, remove: bool) -> None:
        if self.file is not None:
            self.file.close()
        if remove:
            self.path.unlink(missing_ok=True)


def _digest(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def _write_csv(path: Path, rows: list[list]) -> None:
    # what a submission wrote, cleaned (safetext): no escapes, no formulas
    write_rows(path, [COLUMNS] + [[csv_cell(cell, LABEL_LIMIT if i == 0 else MESSAGE_LIMIT) if cell is not None
                                   else "" for i, cell in enumerate(row)] for row in rows])


MIN_BUDGET = 1 * memory.GiB   # below this not even an honest submission's judge imports Keras


def _check_budget(budget: int) -> None:
    if not (isinstance(budget, int) and budget >= MIN_BUDGET):
        got = f"{budget / memory.GiB:.3g} GiB" if isinstance(budget, (int, float)) else repr(budget)
        raise GradingError(f"--memory-budget must be at least {MIN_BUDGET / memory.GiB:g} GiB "
                           f"(the default is {memory.DEFAULT_BUDGET / memory.GiB:g}), got {got}")


def _check_memory(jobs: int, budget: int) -> None:
    """``jobs`` submissions at once, each with ``budget`` bytes, must fit in
    what the machine has available (and leave it :data:`memory.HEADROOM`)."""
    _check_budget(budget)
    free = memory.available()
    if free is None:
        return
    need = jobs * budget + memory.HEADROOM
    if need > free:
        fits = max(0, (free - memory.HEADROOM) // budget)
        advice = (f"use --jobs {fits} or fewer" if fits >= 1 else
                  f"free some memory, or lower --memory-budget below {max(free - memory.HEADROOM, 0) / memory.GiB:.1f} GiB")
        raise GradingError(f"--jobs {jobs} with a memory budget of {budget / memory.GiB:g} GiB per submission "
                           f"needs {need / memory.GiB:.1f} GiB ({jobs} x {budget / memory.GiB:g} GiB and "
                           f"{memory.HEADROOM / memory.GiB:g} GiB for the rest of the machine), but this machine "
                           f"has {free / memory.GiB:.1f} GiB available: {advice}")


def grade(paths: Iterable[str | Path], out: str | Path, *, solutions_dir: Path, build_dir: Path,
          timeout: float = DEFAULT_TIMEOUT, jobs: int = 1, exercise: str | None = None,
          force: bool = False, sandboxed: bool = True, memory_budget: int = memory.DEFAULT_BUDGET,
          resume: bool = False, cluster: str | None = None, certs: str | Path | None = None,
          insecure_cluster: bool = False, say: Callable[[str], None] = print,
          progress_stream=None) -> list[Outcome]:
    """Grade submissions and write ``out`` (CSV): one row per submission and
    question, then a ``TOTAL`` row per submission.

    Args:
        paths: submission files and folders (``*.ipynb``, ``*.zip``).
        out: the CSV to write.
        solutions_dir, build_dir: where the solution notebooks are, and where
            the autograders are (built there if missing or out of date).
        timeout: seconds per submission; a submission still running is killed.
        jobs: submissions graded at the same time.
        exercise: grade every submission as this exercise (one named another
            in its metadata is reported as ``wrong exercise``); default: each
            as the exercise its metadata (else its file name) names.
        force: overwrite ``out`` if it exists (and start over, past an interrupted batch's journal).
        resume: grade only what an interrupted batch writing ``out`` has not
            graded (its journal, ``out`` + ``.journal``; see :class:`_Journal`).
        cluster, certs, insecure_cluster: grade on this Dask cluster
            (:mod:`lecture_utils.grading.cluster`; ``tls://`` with the folder of
            certificates ``certs``), not here; ``jobs`` is then the cluster's.
        sandboxed: run each submission in the bubblewrap sandbox (``False``:
            with your permissions, and every row of ``out`` says so).
        memory_budget: bytes per submission, its notebook and its judge
            together (a memory cgroup where one can be made: see
            :mod:`lecture_utils.grading.memory`); ``jobs`` times this must fit in the
            memory the machine has available.

    Returns:
        The outcomes, in the order of the submissions.

    Raises:
        GradingError: bad arguments (message says what is valid); nothing is graded.
    """
    out = Path(out)
    journal = _Journal(out)
    if resume:
        if not journal.path.exists():
            raise GradingError(f"nothing to resume: {journal.path} does not exist (the last batch writing {out} "
                               "finished, or none started); grade without --resume")
    elif journal.path.exists() and not force:
        raise GradingError(f"an interrupted batch left {journal.path}: pass --resume to grade only what it has "
                           "not graded, or --force to grade everything again")
    elif out.exists() and not force:
        raise GradingError(f"{out} exists; choose another --out, or pass --force to overwrite it")
    if out.suffix.lower() != ".csv":
        raise GradingError(f"--out must name a .csv file, got {out}")
    if not (timeout > 0):
        raise GradingError(f"--timeout must be a positive number of seconds, got {timeout}")
    if not (isinstance(jobs, int) and jobs >= 1):
        raise GradingError(f"--jobs must be a whole number, 1 or more, got {jobs}")
    if cluster:
        from . import cluster as dask_cluster

        try:
            dask_cluster.check_address(cluster, certs, insecure_cluster)
        except dask_cluster.ClusterError as exc:
            raise GradingError(str(exc)) from None
        _check_budget(memory_budget)   # what fits is each worker's machine's to say
    else:
        _check_memory(jobs, memory_budget)
    known = exercises.exercise_names(solutions_dir)
    if not known:
        raise GradingError(f"no solution notebooks (NN_topic.ipynb) in {solutions_dir}: nothing to grade against")
    if exercise is not None and exercise not in known:
        raise GradingError(f"unknown exercise {exercise!r}; exercises: {', '.join(known)}")
    subs = [identify(s, known, exercise) for s in find_submissions(paths)]
    if out.resolve() in {s.path for s in subs}:
        raise GradingError(f"--out {out} is one of the submissions")
    if sandboxed and not cluster:   # on a cluster, each worker checks its own
        try:
            sandbox.check()
        except sandbox.SandboxUnavailable as exc:
            raise GradingError(f"cannot grade in a sandbox: {exc}") from None
    source = data.find_source()
    data_dir = str(source.path) if source is not None else None
    out.parent.mkdir(parents=True, exist_ok=True)
    if cluster:   # the budget is each worker's to apply, in its own memory groups
        say(f"memory budget: {memory_budget / memory.GiB:g} GiB per submission, on each worker of the cluster")
    else:
        say(f"memory budget: {memory.describe(memory_budget)}")

    zips, points, broken = {}, {}, {}
    for name in sorted({s.exercise for s in subs if s.exercise}):
        try:
            zips[name] = exercises.autograder(name, solutions_dir, build_dir, say=say)
            points[name] = exercises.question_points(zips[name])
        except Exception as exc:  # an autograder that cannot be built: its submissions are reported
            broken[name] = f"could not build the autograder for {name}: {exc}"
            say(f"error: {broken[name]}")

    outcomes: dict[int, Outcome] = {}
    if resume:   # what the journal holds, for files unchanged since
        before = journal.entries()
        for i, sub in enumerate(subs):
            entry = before.get((str(sub.path), _digest(sub.path)))
            if entry is not None:
                outcomes[i] = Outcome(sub, entry["status"], [[sub.label, *row] for row in entry["rows"]],
                                      entry.get("score"), entry.get("possible"), entry.get("seconds") or 0.0)
        say(f"resuming from {journal.path}: {len(outcomes)} of {len(subs)} submissions graded before")
    started = time.monotonic()
    masters = {name: Path(solutions_dir).resolve() / f"{name}.ipynb" for name in zips}
    setup_folder = tempfile.mkdtemp(prefix="lecture-utils-setup-")  # outside every sandbox; removed below
    # prepared where two or more submissions take them (for one, its judge computes them: one run either way)
    takers = collections.Counter(s.exercise for i, s in enumerate(subs)
                                 if not s.problem and s.exercise in zips and i not in outcomes)
    to_prepare = sorted(name for name, n in takers.items() if n >= 2)
    prepared: dict[str, Path | None] = {}
    templates = client = None
    try:
        if cluster and takers:
            client = _connect(cluster, certs, sandboxed, say)
        elif takers:
            templates = Templates(setup_folder, sandboxed, data_dir)
    except GradingError:
        shutil.rmtree(setup_folder, ignore_errors=True)
        raise
    journal.open(fresh=not resume)
    stopping = threading.Event()
    progress = _Progress(len(subs), progress_stream, done=len(outcomes))

    def ungradable(sub: Submission) -> Outcome | None:
        if sub.problem:
            return Outcome(sub, sub.problem, _not_graded_rows(sub, points.get(sub.exercise, {}),
                                                              sub.problem, sub.message))
        if sub.exercise in broken:
            return Outcome(sub, "error", _not_graded_rows(sub, {}, "error", broken[sub.exercise]))
        return None

    def finish(i: int, outcome: Outcome) -> None:
        if stopping.is_set():   # killed by Ctrl-C, not graded: --resume grades it
            return
        journal.record(outcome)
        outcomes[i] = outcome
        progress.update(outcome)

    def run(i: int, sub: Submission) -> None:
        outcome = ungradable(sub)
        if outcome is None:
            try:
                outcome = grade_one(sub, zips[sub.exercise], points[sub.exercise], timeout, templates,
                                    master=masters[sub.exercise], setup_data=prepared.get(sub.exercise),
                                    budget=memory_budget)
            except Exception as exc:  # never lose the batch to one submission
                outcome = _error(sub, points[sub.exercise], f"{type(exc).__name__}: {exc}")
        finish(i, outcome)

    def on_cluster() -> None:
        from . import cluster as dask_cluster
        from distributed import as_completed

        tasks = {}
        files = {name: (Path(zips[name]).read_bytes(), masters[name].read_bytes()) for name in zips}   # read once
        for i, sub in enumerate(subs):
            if i in outcomes:
                continue
            outcome = ungradable(sub)
            if outcome is not None:
                finish(i, outcome)
                continue
            task = dask_cluster.Task(i, sub.label, sub.exercise, sub.message, sub.notebook, *files[sub.exercise],
                                     points[sub.exercise], timeout, memory_budget)
            tasks[client.submit(dask_cluster.grade_task, task, pure=False)] = i
        for future in as_completed(list(tasks)):
            i, sub = tasks[future], subs[tasks[future]]
            try:
                done = future.result()
            except Exception as exc:  # noqa: BLE001 -- the cluster's failure to grade it, said in its row
                finish(i, _error(sub, points[sub.exercise], f"the cluster could not grade it: "
                                                            f"{type(exc).__name__}: {exc}"))
                continue
            finish(i, Outcome(sub, done["status"], [[sub.label, *row] for row in done["rows"]], done["score"],
                              done["possible"], done["seconds"], done.get("peak_bytes")))

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
    try:
        if client is not None:
            on_cluster()
        else:
            prepared.update(zip(to_prepare, pool.map(
                lambda name: prepare_setup(name, zips[name], masters[name], Path(setup_folder), timeout,
                                           templates), to_prepare)))
            futures = [pool.submit(run, i, s) for i, s in enumerate(subs) if i not in outcomes]
            for future in concurrent.futures.as_completed(futures):
                future.result()
    except KeyboardInterrupt:  # stop now: kill the running forks, keep what is graded
        stopping.set()
        pool.shutdown(wait=False, cancel_futures=True)
        with _RUNNING_LOCK:
            running = list(_RUNNING)
        for fork in running:
            fork.kill()
        progress.close()
        say(f"interrupted: the submissions graded so far are in the CSV and in {journal.path}; "
            "`--resume` grades the rest")
        raise
    finally:
        pool.shutdown(wait=True)
        progress.close()
        if templates is not None:
            templates.stop()
        if client is not None:
            client.close()
        shutil.rmtree(setup_folder, ignore_errors=True)  # every judge that read it has ended
        done = [outcomes[i] for i in sorted(outcomes)]
        label = SANDBOXED if sandboxed else UNSANDBOXED
        rows = [[row[0], o.submission.exercise or "", *row[1:], label] for o in done for row in o.rows]
        missing = [s for i, s in enumerate(subs) if i not in outcomes]
        for s in missing:
            rows += [[row[0], s.exercise or "", *row[1:], label]
                     for row in _not_graded_rows(s, points.get(s.exercise, {}), "not graded",
                                                 "the batch was interrupted (`--resume` grades it)")]
        _write_csv(out, rows)
        journal.close(remove=not missing)   # kept until every submission is in the CSV

    graded = [o for o in done if o.status == "graded"]
    counts: dict[str, int] = {}
    for o in done:
        counts[o.status] = counts.get(o.status, 0) + 1
    parts = [f"{n} {status}" for status, n in sorted(counts.items(), key=lambda kv: kv[0] != "graded")]
    mean = ""
    if graded:
        mean = (f"; mean {sum(o.score for o in graded) / len(graded):.2f} of "
                f"{exercises.as_points(max(o.possible for o in graded))}")
    say(f"{len(done)} submission{'s' if len(done) != 1 else ''} in {time.monotonic() - started:.0f} s: "
        f"{', '.join(parts)}{mean} -> {out}")
    return done


if __name__ == "__main__":
    sys.exit("use `lecture-utils grade`")
