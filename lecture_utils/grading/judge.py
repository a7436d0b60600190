"""The judge: decides the marks of one submission, OUTSIDE the sandbox.

A fresh process per submission, forked from the batch's judge template
(:mod:`lecture_utils.grading.template`: NumPy, Keras and otter already imported) and
put in the submission's memory group by :mod:`lecture_utils.grading.batch`. It

1. reads the exercise's tests from the autograder zip into a private folder
   (the sandbox never sees them, nor any expected value);
2. sends the submission's sandbox (forked from the sandbox template, waiting,
   running :mod:`lecture_utils.grading.inside`) the notebook and the names of the
   variables the tests take;
3. receives their values as data (:mod:`lecture_utils.grading.wire`), rebuilds
   them (models with Keras's ``safe_mode``), replaces the exercise's set-up
   data (``X_batch``, ``y_train``, ...) by its own, computed from the solution
   notebook's set-up cells (once for the batch, by a judge with
   ``"prepare"``, when they are arrays), and runs otter's test files on them
   here, with this process's own ``lecture_utils.grading.checks`` and NumPy;
   the submission's functions are called through the channel, on data;
4. sends the result (one JSON object) to the batch on a socket the sandbox
   cannot reach.

Nothing the submission sends is a score or a verdict: a forged message can
only hold answers, and answers are checked. A malformed, oversized or
missing answer fails its questions with a message.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from .. import exercises
from . import wire, sandbox
from .inside import CALL_TIME_LIMIT, is_otter_cell

CALL_GRACE = 5.0        # seconds past the sandbox's own call limit before the judge gives up on it
STDERR_KEPT = 20_000     # characters of the sandbox's stderr kept for the report


class Channel:
    """The judge's end of the conversation with the sandbox: length-prefixed
    messages over a pipe, read through a buffer so that an interrupted read
    (the checks' time limit) never loses the framing."""

    def __init__(self, process: "ForkedSandbox"):
        self.process = process
        self.out_fd = process.stdout.fileno()
        self.buffer = b""
        self.pending = 0       # replies still owed for calls that were interrupted
        self.dead: str | None = None

    def send(self, message: dict) -> None:
        try:
            wire.write_message(self.process.stdin, message)
        except (BrokenPipeError, OSError, ValueError):
            self._die("the submission's sandbox is no longer running")

    def receive(self, timeout: float | None) -> dict:
        """The next message; EOFError if the sandbox closed the channel,
        TimeoutError past ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if len(self.buffer) >= 4:
                length = wire.frame_length(self.buffer[:4])
                if len(self.buffer) >= 4 + length:
                    data, self.buffer = self.buffer[4:4 + length], self.buffer[4 + length:]
                    return wire.parse_message(data)
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.out_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.out_fd, 1 << 20)
            if not chunk:
                raise EOFError
            self.buffer += chunk

    def _die(self, why: str) -> None:
        self.dead = why
        raise RuntimeError(why)

    def call(self, fn: wire.RemoteFunction, args: tuple, kwargs: dict):
        """Run the submission's ``fn`` in the sandbox on ``args``."""
        if self.dead:
            raise RuntimeError(self.dead)
        while self.pending:  # the reply to a call the checks stopped waiting for
            try:
                self.receive(timeout=CALL_TIME_LIMIT + CALL_GRACE)
            except (EOFError, TimeoutError, wire.ProtocolError):
                self.stop()
                self._die("the submission stopped answering (a call that never returned)")
            self.pending -= 1
        self.send(call_request(fn, args, kwargs))
        self.pending += 1
        try:
            reply = self.receive(timeout=CALL_TIME_LIMIT + CALL_GRACE)
        except TimeoutError:
            self.stop()
            self._die(f"{fn.__name__} did not return within {CALL_TIME_LIMIT + CALL_GRACE:g} s")
        except EOFError:
            self.stop()
            self._die(f"the submission's sandbox ended while running {fn.__name__} "
                      "(os._exit, a crash, or a resource limit)")
        except wire.ProtocolError as exc:
            self.stop()
            self._die(f"the submission sent something that is not an answer ({exc})")
        self.pending -= 1
        return take_reply(fn, args, reply)

    def stop(self) -> None:
        try:
            self.process.kill()
        except OSError:
            pass


def call_request(fn: wire.RemoteFunction, args: tuple, kwargs: dict) -> dict:
    """The message that asks the sandbox to run ``fn(*args, **kwargs)``."""
    encoder = wire.Encoder()
    return {"kind": "call", "ref": fn._ref, "args": [encoder.encode(a) for a in args],
            "kwargs": {str(k): encoder.encode(v) for k, v in kwargs.items()}}


def take_reply(fn: wire.RemoteFunction, args: tuple, reply: dict):
    """What the call returns here (or raises), from the sandbox's reply; a
    change the call made to an array argument is made to it here too."""
    kind = reply.get("kind")
    decoder = fn._decoder
    if kind == "returned":
        returned = reply.get("args") if isinstance(reply.get("args"), list) else []
        _copy_back(list(args), decoder.decode({"t": "list", "v": returned}))
        return decoder.decode(reply.get("value"))
    if kind == "raised":
        raise wire.raised(str(reply.get("type", "Exception")), str(reply.get("message", "")))
    if kind == "timeout":
        raise TimeoutError(f"{fn.__name__} did not return within {CALL_TIME_LIMIT:g} s")
    raise RuntimeError(f"the submission answered a call with {str(kind)[:40]!r}")


def _copy_back(before, after, depth: int = 0) -> None:
    """Make the change a call made to its array arguments (in lists and tuples too) here."""
    import numpy as np

    if isinstance(before, np.ndarray) and isinstance(after, np.ndarray):
        if before.flags.writeable and after.shape == before.shape:
            try:
                np.copyto(before, after, casting="unsafe")
            except (TypeError, ValueError):
                pass
    elif isinstance(before, (list, tuple)) and isinstance(after, list) and depth < 3:
        for b, a in zip(before, after):
            _copy_back(b, a, depth + 1)


def _drain(stream, kept: list) -> None:
    """Read the sandbox's stderr to the end, keeping only its last characters."""
    tail = b""
    for chunk in iter(lambda: stream.read(65536), b""):
        tail = (tail + chunk)[-STDERR_KEPT:]
    kept.append(tail.decode("utf-8", "replace"))


def load_tests(autograder_zip: Path, folder: Path) -> list:
    """otter's test files of the autograder, in question order."""
    from otter.nbmeta_config import NBMetadataConfig
    from otter.test_files import create_test_file

    tests = []
    with zipfile.ZipFile(autograder_zip) as zf:
        for member in zf.namelist():
            if member.startswith("tests/") and member.endswith(".py"):
                path = folder / Path(member).name
                path.write_bytes(zf.read(member))
                tests.append(create_test_file(str(path), NBMetadataConfig()))
    return sorted(tests, key=lambda t: exercises._question_order(t.name))


def test_parameters(tests: list) -> list[str]:
    """The variables the tests take (looked up by name in the submission)."""
    names = set()
    for test in tests:
        for case in test.test_cases:
            names.update(p for p in case.body._get_func_params() if p != "env")
    return sorted(names)


def clean_message(message: str | None) -> str:
    """A failing test's message without otter's frame ("❌ Test case failed",
    "Error at line N in test qN:", the test's source line)."""
    lines = [l for l in (message or "").strip().splitlines()]
    if lines and lines[0].startswith("❌"):
        lines = lines[1:]
    if lines and lines[0].startswith("Error at line"):
        lines = lines[2:]
    return " ".join(l.strip() for l in lines if l.strip())


def run_tests(tests: list, env: dict) -> list[dict]:
    """Run every test file on ``env``; the questions' results as data."""
    questions = []
    for test in tests:
        test.run(env)
        results = []
        for r in test.test_case_results:
            message = "" if r.passed else clean_message(r.message)
            if not r.passed:
                unreadable = [p for p in r.test_case.body._get_func_params()
                              if isinstance(env.get(p), wire.Unreadable)]
                if unreadable:
                    message = "Incorrect: " + "; ".join(
                        f"the grader could not read {p}: {env[p].why}" for p in unreadable)
            results.append({"name": r.test_case.name, "hidden": bool(r.test_case.hidden),
                            "points": float(r.test_case.points or 0), "passed": bool(r.passed),
                            "message": message})
        questions.append({"name": test.name, "score": float(test.score), "possible": float(test.possible),
                          "tests": results})
    return questions


def trusted_setup(master: Path, names: list[str]) -> dict:
    """The exercise's own set-up data, computed here from the master
    notebook's set-up cells (those before the first question): the values of
    ``names`` they define (``X_batch``, ``y_train``, ...). The tests take these
    from here, not from the submission, so a student who overwrites them is
    still judged on the exercise's data."""
    import nbformat

    namespace: dict = {"__name__": "__main__"}
    for cell in nbformat.read(master, as_version=4).cells:
        if cell.cell_type == "raw" and cell.source.lstrip().upper().startswith("# BEGIN QUESTION"):
            break
        if cell.cell_type == "code" and not is_otter_cell(cell.source):
            exec(compile(cell.source, f"{Path(master).name} (set-up)", "exec"), namespace)
    return {n: namespace[n] for n in names if n in namespace and not callable(namespace[n])
            and not isinstance(namespace[n], type(sys))}


def prepare_setup(master: Path, autograder_zip: Path, out: Path) -> bool:
    """Compute the exercise's set-up data (:func:`trusted_setup`) once for a
    batch and save it to ``out`` (``.npz``), so that each judge loads it
    instead of running the set-up cells (and importing Keras) again. Only
    when every value is a NumPy array of numbers (``np.load`` with
    ``allow_pickle=False`` reads them back exactly); otherwise nothing is
    written, and each judge computes them itself. True if ``out`` was written."""
    import numpy as np

    with tempfile.TemporaryDirectory(prefix="lecture-utils-judge-") as private:
        names = test_parameters(load_tests(Path(autograder_zip), Path(private)))
    values = trusted_setup(master, names)
    if not values or not all(isinstance(v, np.ndarray) and v.dtype != object for v in values.values()):
        return False
    with open(out, "wb") as f:
        np.savez(f, **values)
    return True


def load_setup(path: Path, names: list[str]) -> dict:
    """The set-up data :func:`prepare_setup` saved: the values of ``names`` it holds."""
    import numpy as np

    with np.load(path, allow_pickle=False) as saved:
        return {n: saved[n] for n in names if n in saved.files}


class ForkedSandbox:
    """One submission's sandbox, forked from the sandbox template
    (:mod:`lecture_utils.grading.template`), as the judge holds it: the channel (a
    socket), its stderr (a pipe), a pidfd to stop it, and the socket on which
    its parent says how it ended. Used as :class:`subprocess.Popen` would be."""

    def __init__(self, channel_fd: int, stderr_fd: int, pidfd: int, status_fd: int):
        self._channel = socket.socket(fileno=channel_fd)
        self.stdin = self._channel.makefile("wb")
        self.stdout = self._channel
        self.stderr = os.fdopen(stderr_fd, "rb")
        self._pidfd = pidfd
        self._status = socket.socket(fileno=status_fd)
        self.returncode: int | None = None

    def kill(self) -> None:
        try:
            signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
        except OSError:
            pass

    def wait(self, timeout: float = 10.0) -> int | None:
        """How the sandbox ended, as Popen says it (negative: the signal that killed it)."""
        if self.returncode is None:
            self._status.settimeout(timeout)
            try:
                said = self._status.recv(64).decode("ascii", "replace")
            except OSError:
                said = ""
            if said.startswith("exit ") and said[5:].strip().lstrip("-").isdigit():
                status = int(said[5:])
                if os.WIFSIGNALED(status):
                    self.returncode = -os.WTERMSIG(status)
                else:
                    code = os.WEXITSTATUS(status)   # its first process ends 128 + N when the notebook died of signal N
                    self.returncode = -(code - 128) if code > 128 else code
        return self.returncode


def judge(notebook_text: str, exercise: str, autograder_zip: Path, process: ForkedSandbox, *,
          master: Path | None = None, setup_data: Path | None = None) -> dict:
    """Run the submission in its sandbox (``process``, forked and waiting for
    the notebook) and grade its answers here (on the set-up data of
    ``master``, the exercise's solution notebook, when given, or on the data
    :func:`prepare_setup` saved in ``setup_data``)."""
    private = Path(tempfile.mkdtemp(prefix="lecture-utils-judge-"))
    try:
        tests = load_tests(Path(autograder_zip), private)
        names = test_parameters(tests)
        kept: list = []
        drainer = threading.Thread(target=_drain, args=(process.stderr, kept), daemon=True)
        drainer.start()
        channel = Channel(process)
        channel.send({"kind": "run", "notebook": notebook_text, "filename": f"{exercise}.ipynb", "names": names})
        if setup_data is not None:
            trusted = load_setup(setup_data, names)
        else:
            trusted = trusted_setup(master, names) if master else {}

        try:
            message = channel.receive(timeout=None)
        except EOFError:
            process.wait()
            drainer.join(timeout=5)
            tail = (kept[0] if kept else "").strip().splitlines()[-3:]
            why = _exit_reason(process.returncode)
            return {"status": "kernel died",
                    "message": f"the notebook stopped before it finished ({why}: os._exit, a crash, "
                               "or a resource limit)" + (": " + " / ".join(t[:200] for t in tail) if tail else "")}
        except wire.ProtocolError as exc:
            return {"status": "error", "message": f"the submission sent something that is not its answers ({exc})"}
        if message.get("kind") != "answers" or not isinstance(message.get("answers"), dict):
            return {"status": "error", "message": "the submission sent something that is not its answers"}
        decoder = wire.Decoder(call=channel.call)
        env = {}
        for name in names:
            if name in message["answers"]:
                env[name] = decoder.decode(message["answers"][name])
        env.update(trusted)
        questions = run_tests(tests, env)
        errors = message.get("cell_errors")
        errors = [str(e)[:300] for e in errors[:20]] if isinstance(errors, list) else []
        return {"status": "graded", "questions": questions, "cell_errors": errors}
    finally:
        try:
            process.stdin.close()
        except OSError:
            pass
        process.kill()
        shutil.rmtree(private, ignore_errors=True)


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def judge_limits(lim: sandbox.Limits) -> None:
    """The judge's own limits: whatever slips past the checks on answers
    (:mod:`lecture_utils.grading.wire`) kills this judge, not the machine. Its
    address space and CPU time (its sandbox then sets its own, lower); its
    memory group, made by the batch, bounds the two together."""
    import resource

    sandbox.cap(resource.RLIMIT_AS, lim.judge_memory_bytes)
    sandbox.cap(resource.RLIMIT_CPU, lim.cpu_seconds)


def send_blob(sock: socket.socket, data: bytes) -> None:
    sock.sendall(struct.pack(">Q", len(data)) + data)


def recv_blob(sock: socket.socket, timeout: float | None = None) -> bytes:
    """The next length-prefixed blob (EOFError if the other side closed first)."""
    sock.settimeout(timeout)
    try:
        def exactly(n: int) -> bytes:
            chunks, left = [], n
            while left:
                chunk = sock.recv(min(left, 1 << 20))
                if not chunk:
                    raise EOFError("closed")
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks)

        (length,) = struct.unpack(">Q", exactly(8))
        return exactly(length)
    finally:
        sock.settimeout(None)


def forked_judge(request: dict, fds: list[int]) -> None:
    """A fork of the judge template (:mod:`lecture_utils.grading.template`): ``fds``
    are [hello, log] and, to grade, [channel, the sandbox's stderr, its pidfd,
    its status socket]. After ``go`` it takes its TMPDIR, its limits, then the
    notebook (or, with ``"prepare"``, nothing) on the hello socket, and sends
    back the result (one JSON object)."""
    hello_fd, log_fd, *sandbox_fds = fds
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    hello = socket.socket(fileno=hello_fd)
    hello.sendall(b"hello")
    if hello.recv(2) != b"go":   # exactly: what follows is the notebook
        return
    os.environ.update(request.get("env", {}))
    tempfile.tempdir = request.get("tmp")
    if request.get("prepare"):
        try:
            written = prepare_setup(Path(request["master"]), Path(request["autograder"]), Path(request["prepare"]))
            result = {"status": "prepared" if written else "not arrays"}
        except BaseException as exc:  # noqa: BLE001 -- reported; the judges then compute it themselves
            result = {"status": "error", "message": f"{type(exc).__name__}: {exc}"}
        send_blob(hello, json.dumps(result).encode())
        return
    judge_limits(sandbox.Limits())
    process = ForkedSandbox(*sandbox_fds)
    try:
        notebook_text = recv_blob(hello).decode("utf-8")
        result = judge(notebook_text, request["exercise"], Path(request["autograder"]), process,
                       master=Path(request["master"]) if request.get("master") else None,
                       setup_data=Path(request["setup_data"]) if request.get("setup_data") else None)
    except BaseException as exc:  # noqa: BLE001 -- reported, never a traceback instead of a result
        result = {"status": "error", "message": f"the grader failed: {type(exc).__name__}: {exc}"}
    import resource

    result["judge_peak_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # this process's own
    send_blob(hello, json.dumps(result).encode())
