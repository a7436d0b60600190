"""Template processes: Python with grading's imports done once, forked for
each submission (both sides of the sandbox).

Starting Python and importing NumPy, Keras and otter costs seconds; a
submission's own cells cost well under one. So a batch starts two templates
and forks each submission's processes from them, already imported:

- the **judge template** runs here, with the batch's permissions: each fork
  is one submission's judge (:mod:`lecture_utils.grading.judge`), which never runs
  the student's code;
- the **sandbox template** runs in a bubblewrap sandbox
  (:func:`lecture_utils.grading.sandbox.command`: the read-only system, no network,
  no capability, a clean environment, the resource limits). Each fork makes
  the submission's sandbox *inside* it, fresh (:func:`isolate`): new user,
  mount, PID, network, IPC and UTS namespaces; its own empty scratch folder,
  ``/tmp`` and ``/dev/shm`` (new in-memory file systems of their sizes) and
  its own ``/proc``; the template's file descriptors closed; every
  capability dropped and no new user namespace allowed; then
  :mod:`lecture_utils.grading.inside` runs the notebook there.

What the forks share is what the template holds, and it holds only imported
libraries: it never reads a notebook, a test or an answer, and no
submission's code runs in it. A fork gets a copy of its memory (copy on
write: nothing a fork writes reaches the template or another fork), cannot see
it or another fork (its own PID namespace, where the template does not
exist), cannot reach its control socket (closed before anything else runs),
and cannot write where it writes (its own mount namespace over a read-only
root). ``tests/test_grading_attacks.py`` checks each of these from a
submission.

The protocol: the batch holds one end of a ``SOCK_SEQPACKET`` socket pair,
the template the other (file descriptor 3). A request is a JSON object with
the file descriptors the fork gets (``SCM_RIGHTS``); the template forks and
takes the next. The first of those descriptors is a socket on which the
fork says hello: the batch, listening with ``SO_PASSCRED``, learns from the
kernel the fork's process ID as this machine sees it (for its memory group
and to stop it), and answers ``go`` when it has put the fork in the group.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import signal
import socket
import struct
import sys

MAX_FDS = 8

# What a fork would otherwise import first thing (the judge: otter's test
# files, NumPy, Keras for a model answer; the sandbox: what the exercises import).
PRELOAD = {
    "judge": ("numpy", "keras", "otter.test_files", "otter.nbmeta_config", "lecture_utils.grading.judge",
              "lecture_utils.grading.checks", "lecture_utils.grading.wire", "nbformat"),
    "sandbox": ("numpy", "keras", "IPython.core.interactiveshell", "lecture_utils.grading.inside",
                "lecture_utils.grading.wire", "lecture_utils.data", "lecture_utils.profile",
                "lecture_utils.diagnostics", "lecture_utils.grads", "matplotlib.pyplot", "h5py"),
}

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_CAP_AMBIENT = 1, 38, 24, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x20000, 0x4000000, 0x8000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 8192, 16384, 1 << 18)


class IsolationError(OSError):
    """A step of making a fork's sandbox failed: the fork stops, nothing of the submission runs."""


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise IsolationError(err, f"{what}: {os.strerror(err)}")


def _prctl(option: int, arg: int = 0) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)),
           f"prctl({option})")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source.encode() if source else None, target.encode(), fstype.encode() if fstype else None,
                       ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


# --------------------------------------------------------------------------
# In a fork of the sandbox template: the submission's own sandbox.

def close_other_fds(keep: list[int]) -> None:
    """Close every file descriptor but ``keep`` (and 0-2)."""
    keep_set = set(keep) | {0, 1, 2}
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep_set:
            try:
                os.close(fd)
            except OSError:
                pass


def drop_capabilities() -> None:
    """Every capability gone (bounding, ambient, effective, permitted,
    inheritable) and no regaining one through exec (``no_new_privs``)."""
    try:
        last = int(open("/proc/sys/kernel/cap_last_cap").read())
    except (OSError, ValueError):
        last = 40
    for cap in range(last + 1):
        _libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
    _libc.prctl(PR_CAP_AMBIENT, ctypes.c_ulong(PR_CAP_AMBIENT_CLEAR_ALL), ctypes.c_ulong(0), ctypes.c_ulong(0),
                ctypes.c_ulong(0))
    header = struct.pack("II", 0x20080522, 0)          # _LINUX_CAPABILITY_VERSION_3, this thread
    data = ctypes.create_string_buffer(24)              # two zeroed __user_cap_data_struct
    _check(_libc.capset(ctypes.c_char_p(header), data), "capset")
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    for line in open("/proc/self/status"):
        if line.startswith(("CapEff:", "CapPrm:", "CapBnd:")) and int(line.split()[1], 16) != 0:
            raise IsolationError(0, f"capabilities left after dropping them: {line.strip()}")


def isolate() -> None:
    """Make this process (a fork of the sandbox template, one thread) the
    parent of a fresh sandbox; returns in the sandbox's first process (PID 1
    of its namespace), with the new scratch folder, ``/tmp``, ``/dev/shm``
    and ``/proc`` mounted and every capability dropped. The process that
    called it waits outside and ends with the sandbox (see
    :func:`sandbox_child`); raises :class:`IsolationError` if a step fails."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS),
           "unshare")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")


def make_root(sizes: dict, keep: list[str]) -> None:
    """In the sandbox's first process (PID 1, capabilities of its own user
    namespace): its own in-memory file systems and /proc, then no capability.
    ``keep``: the read-only folders under /tmp (Python, this package) to keep
    (:func:`lecture_utils.grading.sandbox.bound_under_tmp`)."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    # The new /tmp is made on /dev/shm first: what bubblewrap bound read-only under /tmp (a
    # virtual environment or a checkout there) is bound into it again, then it moves onto /tmp.
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(sizes['tmp'])},mode=1777")
    for path in keep:
        target = "/dev/shm" + path[len("/tmp"):]
        os.makedirs(target, exist_ok=True)
        _mount(path, target, None, MS_BIND | MS_REC)   # read-only still: the flag is locked from bubblewrap's
    _mount("/dev/shm", "/tmp", None, MS_MOVE)
    for where, size, mode in (("/scratch", sizes["scratch"], "0700"), ("/dev/shm", sizes["shm"], "1777")):
        _mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(size)},mode={mode}")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _write("/proc/sys/user/max_user_namespaces", "0")   # no user namespace from here on (it cannot be raised back)
    for path in ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"):   # as bubblewrap leaves them
        if os.path.exists(path):
            _mount(path, path, None, MS_BIND | MS_REC)
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _check(_libc.sethostname(b"sandbox", 7), "sethostname")
    os.chdir("/scratch")
    drop_capabilities()


def _reap_until(pid: int) -> int:
    """As PID 1: reap every child until ``pid`` ends; its wait status."""
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
        if done == pid:
            return status


def sandbox_child(request: dict, fds: list[int]) -> None:
    """A fork of the sandbox template: ``fds`` are [hello, channel, stderr].
    Says hello, waits for ``go``, makes the sandbox and runs the notebook's
    conversation in it (:func:`lecture_utils.grading.inside.main`); reports how the
    sandbox ended on the hello socket."""
    hello_fd, channel_fd, stderr_fd = fds[:3]
    os.dup2(stderr_fd, 2)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    os.close(stderr_fd)
    hello = socket.socket(fileno=hello_fd)
    hello.sendall(b"hello")
    if hello.recv(2) != b"go":   # exactly: what follows is the notebook
        os._exit(0)
    if not request.get("isolate", True):   # --no-sandbox: a folder of its own, the instructor's permissions
        import tempfile

        os.chdir(tempfile.mkdtemp(prefix="lecture-utils-nosandbox-"))
        hello.close()
        _run_inside(channel_fd, [])
    isolate()
    first = os.fork()
    if first:  # outside: wait for the sandbox, then say how it ended
        os.close(channel_fd)
        os.close(2)
        _, status = os.waitpid(first, 0)
        try:
            hello.sendall(f"exit {status}".encode())
        except OSError:
            pass
        os._exit(0)
    hello.close()
    make_root(request["sizes"], request.get("keep", []))
    runner = os.fork()
    if runner:   # PID 1: reap, and end (with everything in the namespace) when the notebook's process ends
        os.close(channel_fd)
        status = _reap_until(runner)
        os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
    os.setsid()
    _run_inside(channel_fd, ["--max-tasks", str(request["max_tasks"])])


def _run_inside(channel_fd: int, argv: list[str]) -> None:
    """The channel on standard input and output, then the notebook's conversation
    (:func:`lecture_utils.grading.inside.main`); never returns."""
    os.dup2(channel_fd, 0)
    os.dup2(channel_fd, 1)
    os.close(channel_fd)
    from . import inside

    os._exit(inside.main(argv) or 0)


# --------------------------------------------------------------------------
# The template process.

def _fork_child(kind: str, request: dict, fds: list[int], control: socket.socket) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)   # the template gone (the batch ended): this fork too
    control.close()
    close_other_fds(fds)   # nothing of the template's: only what the batch gave this fork
    try:
        if kind == "sandbox":
            sandbox_child(request, fds)
        else:
            from . import judge

            judge.forked_judge(request, fds)
    except BaseException as exc:  # noqa: BLE001 -- said on stderr; the batch reports the missing result
        try:
            os.write(2, f"lecture-utils template ({kind}): {type(exc).__name__}: {exc}\n".encode())
        except OSError:
            pass
        os._exit(70)
    os._exit(0)


def serve(kind: str, control_fd: int) -> int:
    """The template's loop: import, then fork one child per request until the batch closes the socket."""
    for name in PRELOAD[kind]:
        importlib.import_module(name)
    if kind == "sandbox":   # the data too, read and verified once (public, read-only arrays: each fork has a copy)
        from .. import data

        try:
            data.warm()
        except data.DataError:
            pass   # each notebook then says what is wrong with it, as it would anyway
    control = socket.socket(fileno=control_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # forks are reaped by the kernel
    control.sendall(b"ready")
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 16, MAX_FDS)
        except InterruptedError:
            continue
        if not message:   # the batch closed it (or ended): go at once, without tearing down the imports
            os._exit(0)
        try:
            request = json.loads(message)
        except ValueError:
            request = None
        if isinstance(request, dict):
            pid = os.fork()
            if pid == 0:
                _fork_child(kind, request, fds, control)
        for fd in fds:
            os.close(fd)




# --------------------------------------------------------------------------
# The batch's side: starting a template and asking it for forks.

class TemplateError(RuntimeError):
    """A template could not start, or stopped answering (the message says what it printed)."""


class Fork:
    """One fork of a template, as the batch sees it: its process ID here, a
    pidfd to stop it by (never another process that reused its ID), and the
    socket it said hello on."""

    def __init__(self, pid: int, sock: socket.socket):
        self.pid, self.sock = pid, sock
        self.pidfd: int | None = os.pidfd_open(pid)   # taken while the fork waits for go: it is this process

    def go(self) -> None:
        self.sock.sendall(b"go")

    def kill(self) -> None:
        """Stop it (a no-op once closed: the pidfd's number may belong to another file by then)."""
        if self.pidfd is None:
            return
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except OSError:
            pass

    def close(self) -> None:
        """Close its socket and pidfd, once (later calls do nothing)."""
        pidfd, self.pidfd = self.pidfd, None
        self.sock.close()
        if pidfd is not None:
            os.close(pidfd)


def _peer_pid(sock: socket.socket, timeout: float) -> int:
    """Read the hello on ``sock`` (``SO_PASSCRED`` set): the sender's process ID, as this machine sees it."""
    sock.settimeout(timeout)
    size = struct.calcsize("3i")
    try:
        data, ancillary, _, _ = sock.recvmsg(16, socket.CMSG_SPACE(size))
    finally:
        sock.settimeout(None)
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and data == b"hello":
            pid, _, _ = struct.unpack("3i", value[:size])
            if pid > 0:
                return pid
    raise TemplateError("a fork of the template did not say hello")


class Template:
    """A template process (``python -m lecture_utils.grading.template KIND``), started
    with ``command`` (bubblewrap's, for the sandbox's) and asked for forks.
    Start it from the thread that will outlive it: bubblewrap's
    ``--die-with-parent`` follows the thread that started it."""

    def __init__(self, kind: str, command: list[str], *, env: dict | None = None, cwd: str | None = None,
                 preexec_fn=None, log_path: str):
        import subprocess
        import threading

        self.kind = kind
        self.lock = threading.Lock()
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                command + ["--control", str(theirs.fileno())], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=env, cwd=cwd, pass_fds=(theirs.fileno(),), preexec_fn=preexec_fn, start_new_session=True)
        theirs.close()

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until it has imported what it preloads (TemplateError if it does not)."""
        self.control.settimeout(timeout)
        try:
            ready = self.control.recv(16)
        except (socket.timeout, OSError):
            ready = b""
        self.control.settimeout(None)
        if ready != b"ready":
            self.stop()
            raise TemplateError(f"the {self.kind} template did not start: {self.said()}")

    def said(self) -> str:
        try:
            lines = open(self.log_path, errors="replace").read().strip().splitlines()[-5:]
        except OSError:
            lines = []
        return " / ".join(line[:300] for line in lines) or f"exit status {self.process.poll()}"

    def fork(self, request: dict, fds: list[int], timeout: float = 60.0) -> Fork:
        """A new fork given ``fds`` (after its hello socket), waiting for :meth:`Fork.go`."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        try:
            with self.lock:
                socket.send_fds(self.control, [json.dumps(request).encode()], [theirs.fileno(), *fds])
            theirs.close()
            return Fork(_peer_pid(ours, timeout), ours)
        except (OSError, socket.timeout) as exc:
            ours.close()
            theirs.close()
            raise TemplateError(f"the {self.kind} template did not fork ({exc}): {self.said()}") from None

    def stop(self) -> None:
        try:
            self.control.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except Exception:  # noqa: BLE001
            self.process.kill()
            self.process.wait()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in PRELOAD or sys.argv[2] != "--control":
        sys.exit("usage: python -m lecture_utils.grading.template judge|sandbox --control FD (started by `lecture-utils grade`)")
    sys.exit(serve(sys.argv[1], int(sys.argv[3])))
