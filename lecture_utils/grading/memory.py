"""One memory budget per submission (host side): a memory cgroup holding the
judge and its sandbox together.

An address-space limit (``RLIMIT_AS``, :mod:`lecture_utils.grading.sandbox`) counts
what a process maps, not what it leaves in the kernel's memory: files in an
in-memory file system (tmpfs, ``/dev/shm``), anonymous in-memory files
(``memfd_create``), System V shared memory after ``shmdt``, pipe buffers. A
memory cgroup counts all of those, for every process in it and its children,
and the kernel stops the group at its limit: it kills a process of the group
(the sandbox first: its ``oom_score_adj`` is 1000), never one outside.

:func:`support` finds a memory cgroup this process may create groups under:
cgroup v1's ``memory`` controller (as root, or wherever the hierarchy is
writable). cgroup v2 (a typical desktop with systemd) is not supported yet:
there :func:`support` says what is and is not bounded, and ``grade`` and
``lecture-utils doctor`` print it.
"""

from __future__ import annotations

import dataclasses
import errno
import itertools
import os
import signal
import time
from pathlib import Path

GiB = 2**30
DEFAULT_BUDGET = 4 * GiB   # the judge and its sandbox together; docs/INSTRUCTORS.md, "What is protected", has the measure
HEADROOM = 1 * GiB         # left to the machine beyond --jobs x budget
_counter = itertools.count()


@dataclasses.dataclass(frozen=True)
class Support:
    """Where this process can make memory cgroups, or why it cannot."""

    kind: str | None          # "cgroup v1" or None
    parent: Path | None       # the folder the groups are made in
    why_not: str = ""


def _v1_memory_folders() -> tuple[list[Path], str]:
    """Where cgroup v1 memory groups could be made: this process's own memory
    group, then the hierarchy's root; or ([], why not)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError as exc:
        return [], f"cannot read /proc/self/cgroup ({exc.strerror})"
    own = next((line.split(":", 2)[2] for line in lines
                if len(line.split(":", 2)) == 3 and "memory" in line.split(":", 2)[1].split(",")), None)
    if own is None:
        unified = any(line.startswith("0::") for line in lines)
        return [], ("this machine has cgroup v2 (the unified hierarchy), which `grade` does not use yet"
                    if unified else "no memory cgroup controller is mounted")
    for line in mounts:
        fields = line.split()
        if " - cgroup " not in line:
            continue
        options = line.split(" - ", 1)[1].split()[-1].split(",")
        if "memory" in options:
            root, mountpoint = fields[3], fields[4]
            rel = os.path.relpath(own, root) if own.startswith(root) else None
            if rel is None or rel.startswith(".."):
                continue
            folder = Path(mountpoint) / ("" if rel == "." else rel)
            return list(dict.fromkeys([folder, Path(mountpoint)])), ""
    return [], "the memory cgroup controller is not mounted in this process's view"


_SUPPORT: list[Support] = []


def support() -> Support:
    """Whether per-submission memory groups can be made here (found once a process)."""
    if _SUPPORT:
        return _SUPPORT[0]
    folders, why = _v1_memory_folders()
    found = Support(None, None, why)
    for folder in folders:
        probe = folder / f"lecture-utils-probe-{os.getpid()}"
        try:
            probe.mkdir()
            (probe / "memory.limit_in_bytes").write_text(str(GiB))
            found = Support("cgroup v1", folder)
            break
        except OSError as exc:
            found = Support(None, None, f"cannot create a memory cgroup in {folder} ({exc.strerror}): "
                                        "grade as root, or where that folder is writable")
        finally:
            try:
                probe.rmdir()
            except OSError:
                pass
    _SUPPORT.append(found)
    return found


def describe(budget: int = DEFAULT_BUDGET) -> str:
    """One line: what the memory budget covers here (``doctor`` and ``grade`` print it)."""
    from .sandbox import Limits

    found = support()
    if found.kind:
        return (f"{budget / GiB:g} GiB per submission, the sandbox and its judge together, counting "
                f"in-memory files, shared memory and tmpfs pages ({found.kind} memory group under {found.parent})")
    lim = Limits()
    return (f"NOT bounded as a whole: {found.why_not}. What is bounded: each process's address space "
            f"({lim.memory_bytes / GiB:g} GiB in the sandbox, {lim.judge_memory_bytes / GiB:g} GiB for the judge), "
            f"each in-memory file system of the sandbox (its size), each file ({lim.file_bytes >> 20} MB); "
            "what is not: anonymous in-memory files (memfd) and System V shared memory, "
            "which a submission can grow until the machine runs out")


class Group:
    """One submission's memory group (cgroup v1): made with its limit, the
    judge moved into it (its sandbox follows), read and removed afterwards."""

    def __init__(self, budget: int):
        found = support()
        if not found.kind:
            raise OSError(errno.ENOTSUP, found.why_not)
        self.budget = budget
        self.path = found.parent / f"lecture-utils-grade-{os.getpid()}-{next(_counter)}"
        self.path.mkdir()
        try:
            (self.path / "memory.limit_in_bytes").write_text(str(budget))
            swap = self.path / "memory.memsw.limit_in_bytes"
            if swap.exists():  # memory + swap: no escape into swap either
                swap.write_text(str(budget))
        except OSError:
            self.remove()
            raise

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def _read(self, name: str) -> str:
        try:
            return (self.path / name).read_text()
        except OSError:
            return ""

    def peak(self) -> int | None:
        """The most memory the group held at once (in bytes, page cache included)."""
        text = self._read("memory.max_usage_in_bytes").strip()
        return int(text) if text.isdigit() else None

    def oom_kills(self) -> int:
        """How many processes the kernel killed in this group for going over the budget."""
        for line in self._read("memory.oom_control").splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
        failcnt = self._read("memory.failcnt").strip()  # kernels before 4.13 have no oom_kill count
        peak = self.peak()
        return 1 if failcnt.isdigit() and int(failcnt) > 0 and peak and peak >= self.budget else 0

    def pids(self) -> list[int]:
        return [int(p) for p in self._read("cgroup.procs").split() if p.isdigit()]

    def remove(self, timeout: float = 10.0) -> None:
        """Kill whatever is left in the group, then remove it."""
        deadline = time.monotonic() + timeout
        while True:
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.05)


def available() -> int | None:
    """The memory this machine can still give (MemAvailable), and no more than
    what this process's own memory group still allows; None if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                free = int(line.split()[1]) * 1024
                break
        else:
            return None
    except (OSError, ValueError, IndexError):
        return None
    folders, _ = _v1_memory_folders()
    if folders:  # this process's own group comes first
        try:
            limit = int((folders[0] / "memory.limit_in_bytes").read_text())
            used = int((folders[0] / "memory.usage_in_bytes").read_text())
            if limit < 2**60:
                free = min(free, limit - used)
        except (OSError, ValueError):
            pass
    return free
