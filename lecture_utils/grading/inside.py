"""Runs INSIDE the sandbox: the student's notebook, then its answers as data.

Run by a fork of the sandbox template (:mod:`lecture_utils.grading.template`), in
the submission's own sandbox made inside bubblewrap's (see
:mod:`lecture_utils.grading.sandbox`), with the channel to its judge
(:mod:`lecture_utils.grading.judge`) on its standard input and output. Everything here is as untrusted as the student's code it runs: it
never sees a test, an expected value or a point, and what it sends back is
only data (:mod:`lecture_utils.grading.wire`), checked by the judge.

The conversation:

1. the judge sends ``{"kind": "run", "notebook": ..., "filename": ..., "names": [...]}``;
2. this runs the notebook's code cells in an IPython shell (not otter's own
   cells: its set-up and ``grader.check`` calls), then sends
   ``{"kind": "answers", "answers": {name: value}, "cell_errors": [...]}``
   with the values of ``names`` (the variables the tests take);
3. the judge sends ``{"kind": "call", "ref": ..., "args": [...], "kwargs": {...}}``
   to run one of the submission's functions; this answers ``returned``
   (the result, and the array arguments as the call left them), ``raised``
   or ``timeout``; and so on until ``{"kind": "bye"}`` or the channel closes.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time

CALL_TIME_LIMIT = 10.0  # seconds one call of a student's function may run here

_OTTER_CELL = re.compile(r"\s*(grader\.check(_all)?\([^)]*\)\s*)+")


def is_otter_cell(source: str) -> bool:
    """otter's own cells in a student notebook: its set-up and the checks."""
    return source.lstrip().startswith("# Initialize Otter") or _OTTER_CELL.fullmatch(source) is not None


class _TimeUp(BaseException):
    pass


def _on_alarm(signum, frame):
    raise _TimeUp()


def _first_line(source: str) -> str:
    return next((line for line in source.splitlines() if line.strip()), "")[:60]


def run_cells(cells: list, namespace_shell) -> list[str]:
    """Run the code cells; return one line per cell that raised."""
    errors = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(s) for s in source)
        if not isinstance(source, str) or is_otter_cell(source):
            continue
        result = namespace_shell.run_cell(source, store_history=True, silent=False)
        error = result.error_in_exec or result.error_before_exec
        if error is not None:
            errors.append(f"`{_first_line(source)}` raised {type(error).__name__}: {str(error)[:200]}")
    return errors


def main(argv: list[str] | None = None) -> int:
    import argparse
    import resource

    from . import wire

    parser = argparse.ArgumentParser(prog="python -m lecture_utils.grading.inside")
    parser.add_argument("--max-tasks", type=int, default=None)
    args = parser.parse_args(argv)
    if args.max_tasks:
        # In its own user namespace the sandbox's processes and threads are counted
        # apart from the user's others: this is the limit on them (the student's
        # code cannot raise it again).
        resource.setrlimit(resource.RLIMIT_NPROC, (args.max_tasks, args.max_tasks))

    # the channel moves off fds 0 and 1: the notebook's prints go nowhere
    channel_in = os.fdopen(os.dup(0), "rb", buffering=0)
    channel_out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    sys.stdin = open(os.devnull)
    sys.stdout = open(os.devnull, "w")

    request = wire.read_message(channel_in)
    if request.get("kind") != "run":
        return 2
    filename = os.path.basename(str(request.get("filename") or "submission.ipynb"))
    notebook = request.get("notebook")
    with open(filename, "w", encoding="utf-8") as f:  # in the scratch folder (otter.Notebook reads it)
        f.write(notebook if isinstance(notebook, str) else "{}")
    import json

    try:
        cells = json.loads(notebook).get("cells", [])
    except Exception:
        cells = []
    names = [n for n in request.get("names", []) if isinstance(n, str)]

    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.user_ns["__name__"] = "__main__"
    started = time.monotonic()
    errors = run_cells(cells, shell)
    encoder = wire.Encoder(scratch=os.getcwd())
    values = {name: encoder.encode(shell.user_ns[name]) for name in names if name in shell.user_ns}
    wire.write_message(channel_out, {"kind": "answers", "answers": values, "cell_errors": errors,
                                        "seconds": time.monotonic() - started})

    decoder = wire.Decoder()
    while True:
        try:
            request = wire.read_message(channel_in)
        except EOFError:
            return 0
        if request.get("kind") != "call":
            return 0
        wire.write_message(channel_out, answer_call(encoder, decoder, request))


def answer_call(encoder, decoder, request: dict) -> dict:
    """Run one call of the submission's functions; the reply, as data."""
    fn = encoder.functions.get(request.get("ref"))
    if fn is None:
        return {"kind": "raised", "type": "LookupError", "message": "no such function"}
    args = [decoder.decode(a) for a in request.get("args", [])]
    kwargs = {str(k): decoder.decode(v) for k, v in dict(request.get("kwargs", {})).items()}
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, CALL_TIME_LIMIT)
    try:
        result = fn(*args, **kwargs)
        signal.setitimer(signal.ITIMER_REAL, 0)
        return {"kind": "returned", "value": encoder.encode(result),
                "args": [_array_or_none(encoder, a) for a in args],
                "kwargs": {k: _array_or_none(encoder, v) for k, v in kwargs.items()}}
    except _TimeUp:
        return {"kind": "timeout", "seconds": CALL_TIME_LIMIT}
    except BaseException as exc:  # noqa: BLE001 -- whatever it raised, as data
        signal.setitimer(signal.ITIMER_REAL, 0)
        try:
            text = str(exc)[:2000]
        except BaseException:  # noqa: BLE001
            text = ""
        return {"kind": "raised", "type": type(exc).__name__[:80], "message": text}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _array_or_none(encoder, value, depth: int = 0):
    """An argument's arrays as the call left them (to see a change in place),
    in lists and tuples too; nothing else."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return encoder.encode(value)
    if isinstance(value, (list, tuple)) and depth < 3 and len(value) <= 1000:
        return {"t": "list", "v": [_array_or_none(encoder, v, depth + 1) for v in value]}
    return {"t": "none"}


if __name__ == "__main__":
    sys.exit(main())
