"""Memory that an address-space limit does not count, taken by submissions:
each must be stopped at its memory budget (the sandbox and its judge
together, in one memory cgroup), the batch must go on, and the machine must
never lose more than the budget.

Submissions of exercise 05 that answer nothing and add one cell (the attack),
graded two at a time with a budget of 2 GiB each. Each attack stops by itself
at 5 GiB (two and a half budgets), so that a regression costs this machine
10 GiB for a few seconds, not all of it. A thread samples /proc/meminfo
meanwhile: ``Shmem`` (in-memory files and shared memory, the machine's whole)
must never rise by more than the two budgets. Needs bubblewrap and a memory
cgroup (as root: CI).
"""
import copy
import json
import threading
import time
from pathlib import Path

import pytest

from lecture_utils import exercises
from lecture_utils.grading import batch as grading_batch, memory, sandbox

ROOT = Path(__file__).resolve().parents[1]
NAME = "05_gradient_clipping"
BUDGET = 2 * memory.GiB
JOBS = 2
GOAL = 5 * BUDGET // 2     # what each attack tries to hold, then stops by itself
CHUNK = 60 * 2**20         # under the sandbox's 64 MB limit on one file

ATTACKS = {
    # anonymous in-memory files (memfd_create), each under the file-size limit
    "memfd_files": f"""
import os
held, fds = 0, []
try:
    while held < {GOAL}:
        fd = os.memfd_create("x")
        os.write(fd, b"x" * {CHUNK})
        fds.append(fd)
        held += {CHUNK}
except OSError:
    pass
by_value = f"held [{{held >> 20}} MB]"
""",
    # System V shared memory: attached, filled, detached (no longer in the address space), kept
    "sysv_shared_memory": f"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
held = 0
while held < {GOAL}:
    sid = libc.shmget(0, ctypes.c_size_t({CHUNK}), 0o1600)   # IPC_PRIVATE, IPC_CREAT | 0600
    if sid < 0:
        break
    at = libc.shmat(sid, None, 0)
    if at in (None, ctypes.c_void_p(-1).value):
        break
    ctypes.memset(at, 1, {CHUNK})
    libc.shmdt(ctypes.c_void_p(at))
    held += {CHUNK}
by_value = f"held [{{held >> 20}} MB]"
""",
    # every in-memory file system it can see: /dev/shm, /dev, /tmp, its scratch folder (each sized)
    "tmpfs_files": f"""
import os
held = {{}}
for folder in ("/dev/shm", "/dev", "/tmp", "."):
    held[folder] = 0
    for i in range({GOAL // CHUNK}):
        try:
            with open(os.path.join(folder, f"f{{i}}"), "wb") as f:
                f.write(b"x" * {CHUNK})
        except OSError:
            break
        held[folder] += {CHUNK}
by_value = "held [" + ", ".join(f"{{k}} {{v >> 20}} MB" for k, v in held.items()) + "]"
""",
    # plain memory under the address-space limit (6 GiB) but over the budget (2 GiB)
    "anonymous_memory": f"""
chunks = []
try:
    while len(chunks) * 2**28 < min({GOAL}, 5 * 2**30):
        chunks.append(bytearray(b"x" * 2**28))
except MemoryError:
    pass
by_value = f"held [{{len(chunks) * 256}} MB]"
""",
}
# what each must come to: stopped at the budget, or held no more than its file systems' sizes
EXPECTED = {"memfd_files": "memory limit", "sysv_shared_memory": "memory limit", "anonymous_memory": "memory limit",
            "tmpfs_files": "graded"}


def _meminfo():
    fields = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, value = line.split(":", 1)
        fields[key] = int(value.split()[0]) * 1024
    return fields


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    try:
        sandbox.check()
    except sandbox.SandboxUnavailable as exc:
        pytest.fail(f"the sandbox cannot start here: {exc} (.ci/run installs bubblewrap)")
    if not memory.support().kind:
        pytest.fail(f"no memory cgroup here: {memory.support().why_not} (CI grades as root, with cgroup v1)")
    build = tmp_path_factory.mktemp("build")
    built = exercises.assign(ROOT / "solutions" / f"{NAME}.ipynb", build)
    blank = json.loads(built.student)
    subs = tmp_path_factory.mktemp("submissions")
    for name, source in ATTACKS.items():
        nb = copy.deepcopy(blank)
        nb["cells"] = [{"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
                        "execution_count": None, "id": name[:8]}]
        (subs / f"attack_{name}.ipynb").write_text(json.dumps(nb))

    before, samples, stop = _meminfo(), [], threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(_meminfo())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out = tmp_path_factory.mktemp("grades") / "grades.csv"
    said = []
    try:
        outcomes = grading_batch.grade([subs], out, solutions_dir=ROOT / "solutions", build_dir=build, timeout=200,
                                 jobs=JOBS, memory_budget=BUDGET, say=said.append)
    finally:
        stop.set()
        sampler.join()
    shmem_rise = max(s["Shmem"] for s in samples) - before["Shmem"]
    lost = before["MemAvailable"] - min(s["MemAvailable"] for s in samples)
    print(f"[memory] Shmem rose by at most {shmem_rise / 2**20:.0f} MB, MemAvailable fell by at most "
          f"{lost / 2**20:.0f} MB ({JOBS} at a time, budget {BUDGET >> 20} MB each; each attack tried {GOAL >> 20} MB)")
    for o in outcomes:
        print(f"[memory] {Path(o.submission.label).stem}: {o.status}, peak {(o.peak_bytes or 0) >> 20} MB, "
              f"{o.rows[-1][5][:160]}")
    return {"outcomes": {Path(o.submission.label).stem: o for o in outcomes}, "shmem_rise": shmem_rise,
            "said": said}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_each_attack_is_stopped_at_its_budget(batch, attack):
    outcome = batch["outcomes"][f"attack_{attack}"]
    assert outcome.score == 0, outcome.rows
    assert outcome.status == EXPECTED[attack], outcome.rows
    assert outcome.peak_bytes is not None and outcome.peak_bytes <= BUDGET
    if outcome.status == "memory limit":
        assert "went over its memory budget of 2 GiB" in outcome.rows[-1][5], outcome.rows[-1]


def test_in_memory_file_systems_hold_no_more_than_their_size(batch):
    rows = batch["outcomes"]["attack_tmpfs_files"].rows
    message = next(r[5] for r in rows if r[1] == "q1")
    lim = sandbox.Limits()
    # /dev is read-only; /dev/shm, /tmp and the scratch folder stop at their sizes
    for folder, size in (("/dev/shm", lim.shm_bytes), ("/dev", 0), ("/tmp", lim.tmp_bytes), (".", lim.scratch_bytes)):
        held = int(message.split(f"{folder} ")[1].split(" MB")[0])
        assert held * 2**20 <= size, message


def test_the_machine_never_lost_more_than_the_budget(batch):
    # one attack alone that escaped would take GOAL, more than the two budgets
    assert batch["shmem_rise"] <= JOBS * BUDGET + 256 * 2**20, f"Shmem rose by {batch['shmem_rise'] / 2**30:.2f} GiB"


def test_the_batch_goes_on_and_says_what_the_budget_covers(batch):
    # (an honest submission within the budget: tests/test_grading_attacks.py, at the default budget)
    assert len(batch["outcomes"]) == len(ATTACKS)
    assert any("memory budget: 2 GiB per submission" in s for s in batch["said"]), batch["said"]


def test_no_memory_group_is_left(batch):
    parent = memory.support().parent
    import os

    assert not list(parent.glob(f"lecture-utils-grade-{os.getpid()}-*"))


def test_jobs_times_the_budget_must_fit_in_the_machine(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "available", lambda: 10 * memory.GiB)
    sub = tmp_path / "blank.ipynb"
    sub.write_bytes((ROOT / "exercises" / f"{NAME}.ipynb").read_bytes())
    with pytest.raises(grading_batch.GradingError, match=r"--jobs 3 with a memory budget of 4 GiB per submission needs "
                                                   r"13.0 GiB .* has 10.0 GiB available: use --jobs 2 or fewer"):
        grading_batch.grade([sub], tmp_path / "g.csv", solutions_dir=ROOT / "solutions", build_dir=tmp_path / "b",
                      jobs=3, say=lambda s: None)
    with pytest.raises(grading_batch.GradingError, match="--memory-budget must be at least 1 GiB"):
        grading_batch.grade([sub], tmp_path / "g.csv", solutions_dir=ROOT / "solutions", build_dir=tmp_path / "b",
                      memory_budget=2**20, say=lambda s: None)
    assert not (tmp_path / "g.csv").exists()


def test_without_a_memory_group_grade_and_doctor_say_what_is_not_bounded(monkeypatch, capsys):
    from lecture_utils import cli

    monkeypatch.setattr(memory, "_SUPPORT", [memory.Support(None, None, "no memory cgroup controller is mounted")])
    said = memory.describe()
    assert said.startswith("NOT bounded as a whole: no memory cgroup controller is mounted")
    assert "memfd" in said and "System V shared memory" in said
    cli.main(["doctor"])
    assert "Grading memory budget: NOT bounded as a whole" in capsys.readouterr().out
