"""The sandbox a submission runs in (host side): bubblewrap and resource limits.

:func:`command` gives the ``bwrap`` command line that runs
``python -m lecture_utils.grading.inside`` with

- new user, PID, network, IPC and UTS namespaces: no network (a loopback of
  its own), no other process visible, no capability, no new user namespace;
- a file system of its own: the system (``/usr``), the Python installation,
  the virtual environment, this package and the data **read-only**; an empty
  scratch folder (the working directory, ``HOME``), ``/tmp`` and ``/dev/shm``,
  each a private size-limited tmpfs that vanishes with the sandbox (the rest
  of ``/dev`` read-only); nothing else of
  the machine (no home folder, no submissions, no tests, no output file);
- a clean environment (only the variables listed in :data:`PASSED_ENV`);
- resource limits set before ``bwrap`` starts (:func:`limits`): address space,
  CPU time, processes, file size, open files.

:func:`check` says whether the sandbox can start here, and what to install or
enable if not (``lecture-utils doctor`` prints it).
"""

from __future__ import annotations

import dataclasses
import os
import resource
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]   # lecture_utils/ (this module is in lecture_utils/grading/)

PASSED_ENV = ("LECTURE_PROFILE", "KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL", "OPENBLAS_CORETYPE",
              "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "LANG", "LC_ALL")
SCRATCH = "/scratch"
DATA = "/data"


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one submission may use. The defaults stop a runaway notebook
    without disturbing a 2-core, 24 GiB machine grading two at a time."""

    memory_bytes: int = 6 * 2**30       # address space (every solution grades within 3 GiB, TF and JAX)
    cpu_seconds: int = 1200             # CPU time, all threads together (--timeout is wall time)
    processes: int = 256                # processes and threads (and 4 threads a core for the libraries)
    file_bytes: int = 64 * 2**20        # the largest file it may write
    open_files: int = 1024
    scratch_bytes: int = 512 * 2**20    # the scratch folder (tmpfs)
    tmp_bytes: int = 256 * 2**20        # /tmp (tmpfs)
    shm_bytes: int = 64 * 2**20         # /dev/shm (tmpfs; the rest of /dev is read-only)
    judge_memory_bytes: int = 8 * 2**30  # the judge's own address space (it imports Keras too)


    def tasks(self) -> int:
        """The processes and threads the sandbox may have at once."""
        return self.processes + 4 * (os.cpu_count() or 1)


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot start on this machine (the message says what to do)."""


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


_HOW_TO_INSTALL = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: "
                   "`sudo dnf install bubblewrap`; Arch: `sudo pacman -S bubblewrap`)")


def check(timeout: float = 20.0) -> str:
    """Start a trivial sandbox. Returns a one-line description of it; raises
    :class:`SandboxUnavailable` saying what to install or enable."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed: {_HOW_TO_INSTALL}; "
                                 "or grade with --no-sandbox (student code then runs with your permissions)")
    # the network interfaces it sees (only its own loopback), its user, its file system
    probe = ("import os\n"
             "ifaces = sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:])\n"
             "net = 'no network' if ifaces == ['lo'] else 'network: ' + ','.join(ifaces)\n"
             "print(net + ',', 'uid', os.getuid(), sorted(os.listdir('/')))\n")
    try:
        done = subprocess.run(command([sys.executable, "-c", probe]), capture_output=True, text=True,
                              timeout=timeout, preexec_fn=lambda: preexec(Limits()), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise SandboxUnavailable(f"bubblewrap did not start a sandbox within {timeout:g} s") from None
    if done.returncode != 0:
        err = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        hint = ""
        if "namespace" in err[0].lower() or "permission" in err[0].lower() or "operation not permitted" in err[0].lower():
            hint = (": user namespaces look disabled; enable them (`sudo sysctl -w kernel.unprivileged_userns_clone=1`, "
                    "or on Ubuntu 24.04+ `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`), "
                    "or run grading where they are allowed")
        raise SandboxUnavailable(f"bubblewrap could not start a sandbox ({err[0]}){hint}")
    if not done.stdout.startswith("no network"):
        raise SandboxUnavailable(f"the sandbox can reach the network ({done.stdout.strip()})")
    return f"bubblewrap sandbox works ({bwrap}): {done.stdout.strip().split(' [')[0]}, own file system"


def _python_roots() -> list[str]:
    """What the interpreter needs: its prefixes (the venv and the base
    installation) and the folder of this package, ``lecture_utils``."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
             sysconfig.get_paths()["platlib"], str(PACKAGE)}
    for exe in (sys.executable, os.path.realpath(sys.executable)):
        roots.add(str(Path(exe).parent))
    # only what is not already under /usr (bound as a whole)
    keep = sorted(r for r in roots if r and os.path.isdir(r) and not r.startswith("/usr/"))
    return [r for r in keep if not any(r != o and r.startswith(o.rstrip("/") + "/") for o in keep)]


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for etc in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
                "/etc/alternatives", "/etc/fonts"):
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    return args


NOBODY = 65534


_STAGE: list = []


def _stage_dir() -> str:
    """An empty folder, ``nobody`` may enter, where the child (as root, in a
    mount namespace of its own) binds what the sandbox reads; on the machine it stays empty."""
    if not _STAGE:
        import atexit
        import tempfile

        # in /tmp, not $TMPDIR (which may be private); named after this process, for stage_dirs()
        path = tempfile.mkdtemp(prefix=f"lecture-utils-sandbox-{os.getpid()}-", dir="/tmp")
        os.chmod(path, 0o755)
        _STAGE.append(path)
        atexit.register(lambda: shutil.rmtree(path, ignore_errors=True))
    return _STAGE[0]


def _mounts(data_dir: str | None) -> list[tuple[str, str]]:
    """(source, where it appears in the sandbox) for what is bound read-only."""
    binds = [(root, root) for root in _python_roots()]
    if data_dir:
        binds.append((str(data_dir), DATA))
    return binds


def bound_under_tmp(data_dir: str | None = None) -> list[str]:
    """What the sandbox binds read-only under /tmp (a virtual environment or a
    checkout there): each fork of the sandbox template binds it again into its
    own new /tmp (:mod:`lecture_utils.grading.template`)."""
    return [target for _, target in _mounts(data_dir) if target.startswith("/tmp/")]


def command(argv: list[str], data_dir: str | None = None, lim: Limits = Limits(), *,
            nested: bool = False, environ: dict | None = None) -> list[str]:
    """The ``bwrap`` command that runs ``argv`` in the sandbox (started with
    :func:`preexec` as ``preexec_fn``). ``nested``: for the sandbox template
    (:mod:`lecture_utils.grading.template`), which makes each submission's sandbox
    inside this one, so it may make one user namespace a fork (each fork then
    forbids any more). ``environ``: where the variables of
    :data:`PASSED_ENV` come from (default: this process's)."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed: {_HOW_TO_INSTALL}")
    args = [bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", "65534", "--gid", "65534", "--hostname", "sandbox"]
    if not nested and _supports("--disable-userns"):
        args += ["--disable-userns"]
    args += _system_binds()
    # /tmp first: a venv or checkout under /tmp is bound on top of it, and stays visible
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(lim.shm_bytes), "--tmpfs", "/dev/shm",
             "--size", str(lim.tmp_bytes), "--tmpfs", "/tmp",
             "--size", str(lim.scratch_bytes), "--perms", "0700", "--tmpfs", SCRATCH]
    for i, (source, target) in enumerate(_mounts(data_dir)):
        if os.getuid() == 0:  # bwrap runs as nobody: it binds the copies :func:`preexec` mounted for it
            source = f"{_stage_dir()}/{i}"
        args += ["--ro-bind", source, target]
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": SCRATCH, "TMPDIR": "/tmp",
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{SCRATCH}/.matplotlib", "KERAS_HOME": f"{SCRATCH}/.keras",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "LECTURE_SANDBOX": "1"}
    if data_dir:
        env["FASHION_MNIST_DIR"] = DATA
    environ = os.environ if environ is None else environ
    for key in PASSED_ENV:
        if key in environ:
            env[key] = environ[key]
    args += ["--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    # the root, with its mount points, read-only too; /dev (bwrap's tmpfs, of no size limit) as well
    args += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", SCRATCH, "--"]
    return args + list(argv)


_SUPPORTED: dict[str, bool] = {}


def _supports(flag: str) -> bool:
    if flag not in _SUPPORTED:
        try:
            out = subprocess.run([bwrap_path(), "--help"], capture_output=True, text=True, timeout=10)
            _SUPPORTED[flag] = flag in out.stdout + out.stderr
        except (OSError, subprocess.TimeoutExpired):
            _SUPPORTED[flag] = False
    return _SUPPORTED[flag]


def _user_tasks() -> int:
    """The processes and threads this user runs now (what RLIMIT_NPROC counts)."""
    uid, count = os.getuid(), 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                count += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            pass
    return count


def preexec(lim: Limits, data_dir: str | None = None) -> None:
    """In the child, before ``bwrap`` starts: the resource limits, and, when
    grading as root, an unprivileged user to run it as.

    Root is exempt from the limit on processes, so as root the sandbox runs as
    ``nobody``. What it must read but ``nobody`` cannot reach (a Python under
    ``/root``) is bound, in a mount namespace of this child alone, onto a
    folder ``nobody`` can reach; nothing changes on the machine.

    Its ``oom_score_adj`` is 1000 (a process may raise its own, and never lower
    it again without privileges): where memory runs out in its memory group
    (:mod:`lecture_utils.grading.memory`), the kernel kills the sandbox, not its judge."""
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass
    if os.getuid() == 0:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        CLONE_NEWNS, MS_BIND, MS_REC, MS_PRIVATE, MS_RDONLY, MS_REMOUNT = 0x20000, 4096, 16384, 1 << 18, 1, 32
        if libc.unshare(CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS) failed")
        libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None)
        stage = _stage_dir()  # made by the parent, before the fork
        if libc.mount(b"tmpfs", stage.encode(), b"tmpfs", 0, b"mode=0755") != 0:
            raise OSError(ctypes.get_errno(), f"cannot mount a tmpfs on {stage}")
        for i, (source, _) in enumerate(_mounts(data_dir)):
            target = f"{stage}/{i}"
            os.mkdir(target, 0o755)
            if libc.mount(source.encode(), target.encode(), None, MS_BIND | MS_REC, None) != 0:
                raise OSError(ctypes.get_errno(), f"cannot bind {source} for the sandbox")
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    limits(lim)


def cap(which: int, value: int) -> None:
    """Set a resource limit of this process (soft and hard), no higher than its hard limit now."""
    soft, hard = resource.getrlimit(which)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(which, (value, value))


def limits(lim: Limits) -> None:
    """Set the resource limits of this process (called in the child, before
    ``bwrap`` starts; the sandbox inherits them)."""
    cap(resource.RLIMIT_AS, lim.memory_bytes)
    cap(resource.RLIMIT_CPU, lim.cpu_seconds)
    # counted over all of this user's processes (the sandbox's own limit,
    # lim.tasks(), is set inside it, in its user namespace: see inside.main)
    cap(resource.RLIMIT_NPROC, _user_tasks() + 16 * lim.tasks())
    cap(resource.RLIMIT_FSIZE, lim.file_bytes)
    cap(resource.RLIMIT_NOFILE, lim.open_files)
    cap(resource.RLIMIT_CORE, 0)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails (EFBIG) instead of killing
