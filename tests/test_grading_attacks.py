"""Attacks on `lecture-utils grade`, each in a submission, all in one batch with
honest submissions.

Every attack is a submission of exercise 05 that answers nothing (the
exercise's metadata and one cell: the attack), so any point it gets is forged. Where the attack can report
what it managed (files it read or wrote, connections, processes), it puts
that in an answer, so the grade's message shows it. After the batch: each
attack has 0 points, nothing exists outside the sandboxes that an attack
wrote, no process is left, and the honest submissions have their exact
points. Needs bubblewrap (`.ci/run` installs it); about two and a half minutes alone on two cores.
"""
import copy
import csv
import io
import json
import os
import socket
import sys
import threading
import uuid
from pathlib import Path

import pytest

from lecture_utils import exercises
from lecture_utils.grading import batch as grading_batch, sandbox
from lecture_utils.grading.safetext import clean

ROOT = Path(__file__).resolve().parents[1]
NAME = "05_gradient_clipping"
OTHER = "01_vanishing_gradients"
SETUP = "06_transfer_learning"   # the attack on the set-up data is on this exercise
TOKEN = f"PWNED-{uuid.uuid4().hex[:8]}"
HOME = os.path.expanduser("~")
ESCAPED_NAME = "attack_name_\x1b[2J\x1b]0;pwned\x07=1+1"


# A model answer as the sandbox sends it (a .keras archive), made by hand so that the judge is
# told whatever the attack likes: `send_as(value, layer, weights)` makes the answer `value` a
# Sequential model of 784 inputs and `layer` (its config), with `weights` as its weights file.
SEND_MODEL = """
import base64, io, json, zipfile
import h5py
import lecture_utils.grading.wire as wire

def send_as(value, layer, weights=None):
    if weights is None:
        buffer = io.BytesIO()
        with h5py.File(buffer, "w"):
            pass
        weights = buffer.getvalue()
    config = {"module": "keras", "class_name": "Sequential", "registered_name": None, "config": {"name": "s",
              "layers": [{"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
                          "config": {"batch_shape": [None, 784], "dtype": "float32", "name": "i"}}, layer]}}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        zf.writestr("model.weights.h5", weights)
    node = {"t": "model", "ref": "m", "archive": base64.b64encode(archive.getvalue()).decode(), "variables": [],
            "trainable": [], "type": "Sequential"}
    real = wire.Encoder.encode
    wire.Encoder.encode = lambda self, v, depth=0: node if v is value else real(self, v, depth)

def dense(units):
    return {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
            "config": {"units": units, "name": "d"}}
"""
# What a submission may write to the instructor's terminal or spreadsheet: clear the screen,
# retitle the window, go back to the line's start to print a fake total, a formula
ESCAPES = '"\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07\\x9b31mTOTAL 14/14\\r=HYPERLINK(\\"http://x\\",\\"14\\")\\u202e"'


def _code_cell(source):
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None,
            "id": uuid.uuid4().hex[:8]}


# Each attack: the cell's source (with @NAMES@ filled in below) and what must be
# true of its rows: the TOTAL status (any graded status if None) and texts its
# questions' messages must hold (proof that the attack ran and what it got).
ATTACKS = {
    "patch_checks": ("""
import lecture_utils.grading.checks as checks
def nothing(*args, **kwargs):
    return None
for name in dir(checks):
    if name.startswith("expect") or name == "fail":
        setattr(checks, name, nothing)
class Never(Exception):
    pass
checks.Incorrect = checks.NotAnswered = Never
""", None, {}),
    "patch_numpy": ("""
import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), dtype=bool)
np.array_equal = lambda *a, **k: True
np.asarray = lambda x, *a, **k: np.array(0.0)
""", None, {}),
    "patch_builtins": ("""
import builtins
builtins.isinstance = lambda *a: True
builtins.AssertionError = type("AssertionError", (Exception,), {})
builtins.abs = lambda x: 0
builtins.float = lambda *a: 0.0
""", None, {}),
    "patch_grading": ("""
import lecture_utils.grading.wire as wire, lecture_utils.grading.inside as inside
full = [{"name": f"q{i}", "score": 5, "possible": 5, "tests": []} for i in range(1, 6)]
real = wire.write_message
def forged(stream, message):
    real(stream, dict(message, status="graded", questions=full, score=14, passed=True))
wire.write_message = forged
import otter.test_files.exception_test as et
et.ExceptionTestFile.run = lambda self, env: None
import lecture_utils.grading.judge as judge
judge.run_tests = lambda tests, env: full
""", None, {}),
    "forge_channel": ("""
import json, os, struct
full = [{"name": f"q{i}", "score": 5, "possible": 5, "tests": []} for i in range(1, 6)]
for message in ({"kind": "answers", "answers": {}, "cell_errors": [], "status": "graded", "questions": full},
                {"status": "graded", "questions": full}):
    data = json.dumps(message).encode()
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            os.write(fd, struct.pack(">I", len(data)) + data)
        except OSError:
            pass
os._exit(0)
""", None, {}),
    "garbage_channel": ("""
import os
for fd in map(int, os.listdir("/proc/self/fd")):
    try:
        os.write(fd, b"\\xff\\xff\\xff\\x00 {\\"status\\": \\"graded\\"} " * 100)
    except OSError:
        pass
""", None, {}),
    "find_grader": ("""
import os
seen = []
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode()
        except OSError:
            continue
        if any(word in cmd for word in ("lecture_utils.grading.judge", "template judge", "pytest", "lecture-utils grade")):
            seen.append(pid)
        # its own sandbox is PID 1 (the namespace's init) and this process, both forks of the sandbox
        # template; any other fork visible would be another submission's
        elif "template sandbox" in cmd and int(pid) not in (1, os.getpid()):
            seen.append(pid)
by_value = f"seen [{','.join(seen)}]"
""", "graded", {"q1": 'seen []'}),
    "kill_everything": ("""
import os, signal
for pid in sorted((int(p) for p in os.listdir("/proc") if p.isdigit()), reverse=True):
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
os.kill(-1, signal.SIGKILL)
""", None, {}),
    "read_secrets": ("""
import glob, os
paths = [@AUTOGRADER@, @SOLUTION@, @ANSWERS@, @OTHER_SUBMISSION@, @CSV@, *@HOME_ENTRIES@, "/etc/shadow",
         *glob.glob("/tmp/lecture-utils-*"), *glob.glob("/tmp/lecture-utils-*/*")]
found = []
for path in paths:
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        found.append(path)
    except OSError:
        pass
by_value = f"read [{','.join(found)}]"
""", "graded", {"q1": 'read []'}),
    "write_everywhere": ("""
import os
targets = [os.path.join(@HOME@, @TOKEN@), os.path.join(@SUBMISSIONS@, @TOKEN@), @CSV@,
           os.path.join(@ROOT@, @TOKEN@), os.path.join(@LECTURE_UTILS@, @TOKEN@ + ".py"),
           os.path.join(@SITE_PACKAGES@, "sitecustomize.py"), os.path.join(@TMP@, @TOKEN@)]
wrote = []
for path in targets:
    try:
        with open(path, "w") as f:
            f.write("FORGED")
        wrote.append(path)
    except OSError:
        pass
by_value = f"wrote [{','.join(p for p in wrote if not p.startswith('/tmp/'))}]"
""", "graded", {"q1": 'wrote []'}),
    "network": ("""
import socket
connected = []
for host, port in [("127.0.0.1", @PORT@), ("localhost", @PORT@)]:
    try:
        socket.create_connection((host, port), timeout=2).sendall(b"FORGED")
        connected.append(f"{host}:{port}")
    except OSError:
        pass
by_value = f"connected [{','.join(connected)}]"
""", "graded", {"q1": 'connected []'}),
    "fork_bomb": ("""
import os, time
forked = 0
try:
    while forked < 5000:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        forked += 1
except OSError:
    pass
by_value = f"forked [{'stopped' if forked < 5000 else 'all'}]"
""", "graded", {"q1": 'forked [stopped]'}),
    "memory_hog": ("""
chunks = []
try:
    for i in range(64):
        chunks.append(bytearray(2**30))
except MemoryError:
    pass
by_value = f"allocated [{'stopped' if len(chunks) < 8 else len(chunks)}]"
del chunks
""", "memory limit", {}),   # the memory budget (4 GiB) stops it before its address space (6 GiB) does
    "output_flood": ("""
import os, sys
for i in range(100):
    sys.stdout.write("x" * 10**6)
    os.write(2, b"y" * 10**6)
""", "graded", {}),
    "sys_exit": ("import sys\nsys.exit(0)", "graded", {}),
    "os_exit": ("import os\nos._exit(0)", "kernel died", {}),
    "huge_answer": ("import numpy as np\nby_value = np.zeros(50_000_000)", "graded",
                    {"q1": "the grader could not read by_value: an array of 400000000 bytes"}),
    "lying_objects": ("""
import numpy as np
class Always(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __le__(self, other): return True
    def __gt__(self, other): return True
    def __ge__(self, other): return True
    __hash__ = float.__hash__
class Liar(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(other), bool)
by_value = by_norm = turn_degrees = Always(1.0)
def clip_by_value(g, threshold):
    return np.asarray(g, float).view(Liar)
clip_by_norm = clip_by_value
""", "graded", {}),
    "loop_ignoring_alarm": ("""
import signal
def clip_by_value(g, threshold):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    signal.setitimer(signal.ITIMER_REAL, 0)
    while True:
        pass
clip_by_norm = clip_by_value
""", "graded", {"q2": "did not return within"}),
    # each sandbox is forked from one template (lecture_utils.grading.template): it must still be a sandbox of its own,
    # property by property: no capability, no new namespace or mount, no descriptor of the template's
    # (a fork given the template's control socket would hold two)
    "escalate": ("""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
got = []
status = open("/proc/self/status").read()
for key in ("CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb"):
    value = [line.split()[1] for line in status.splitlines() if line.startswith(key + ":")][0]
    if int(value, 16):
        got.append(f"{key}={value}")
if "NoNewPrivs:\t1" not in status:
    got.append("new privileges allowed")
if libc.unshare(0x10000000) == 0:
    got.append("a user namespace")
if libc.mount(b"tmpfs", b"/scratch", b"tmpfs", 0, None) == 0:
    got.append("a mount")
sockets = set()   # the channel to its judge is one; the template's control socket must not be another
for fd in os.listdir("/proc/self/fd"):
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        continue
    if target.startswith("socket:"):
        sockets.add(target)
if len(sockets) != 1:
    got.append(f"{len(sockets)} sockets")
by_value = f"escalated [{','.join(got)}]"
""", "graded", {"q1": "escalated []"}),
    # two submissions graded side by side (the first two of the batch, by their names), the second
    # looking on after the first ended too: nothing one leaves reaches the other (files in each
    # in-memory file system, an abstract socket, System V shared memory)
    "concurrent_marks_left": ("""
import ctypes, os, socket, time
for folder in ("/tmp", "/dev/shm", "/scratch"):
    with open(os.path.join(folder, @TOKEN@), "w") as f:
        f.write("left")
beacon = socket.socket(socket.AF_UNIX)
beacon.bind("\\0" + @TOKEN@)
beacon.listen(1)
ctypes.CDLL(None).shmget(0x5EED, 4096, 0o1666)
time.sleep(8)
""", "graded", {}),
    "concurrent_marks_sought": ("""
import os, time
found = set()
for _ in range(20):
    for folder in ("/tmp", "/dev/shm", "/scratch"):
        if os.path.exists(os.path.join(folder, @TOKEN@)):
            found.add(folder)
    if @TOKEN@ in open("/proc/net/unix").read():
        found.add("the socket")
    if any(line.split()[:1] == [str(0x5EED)] for line in open("/proc/sysvipc/shm").read().splitlines()[1:]):
        found.add("the shared memory")
    time.sleep(0.5)
by_value = f"found [{','.join(sorted(found))}]"
""", "graded", {"q1": "found []"}),
    "other_exercise": (None, "graded", {}),   # the metadata claims exercise 01 (see below)
    # the judge is told of models that would take 314 GB, 31 GB of one layer's output, 40 GB of weights
    "judge_costly_models": (SEND_MODEL + """
by_value, by_norm, turn_degrees = object(), object(), object()
send_as(by_value, dense(10**8))
send_as(by_norm, {"module": "keras.layers", "class_name": "RepeatVector", "registered_name": None,
                  "config": {"n": 10**7, "name": "r"}})
buffer = io.BytesIO()
with h5py.File(buffer, "w") as h5:   # 10**10 zeros, never written: a few kilobytes in the file
    h5.create_dataset("layers/dense/vars/0", shape=(10**10,), dtype="f4", chunks=(2**20,), compression="gzip")
send_as(turn_degrees, dense(7), buffer.getvalue())
""", "graded", {"q1": ("the grader could not read by_value: a model of 78,500,000,000 parameters (the limit is 20,000,000)",
                       "could not read by_norm: a model of 7,840,000,000 values from one layer for one example "
                       "(the limit is 1,048,576)",
                       "could not read turn_degrees: a model whose weights file declares more than")}),
    "judge_many_objects": ("""
by_value = [[[0.5]] * 90 for _ in range(2000)]   # 180,000 lists of one float: 540,000 dicts and lists on the wire
""", "error", {"TOTAL": "lists and dicts or more (the limit is 200000)"}),
    # escapes and formulas in every field a submission writes: a value's repr, what its functions
    # raise, the first line of a cell that raises, what it prints as it dies, its file name (below)
    "escape_messages": ("""#\x1b]0;retitled\x07=1+1 a cell's first line
ESC = @ESCAPES@
class Loud:
    def __repr__(self):
        return ESC
by_value = by_norm = turn_degrees = Loud()
def clip_by_value(g, threshold):
    raise ValueError(ESC)
clip_by_norm = clip_by_value
raise RuntimeError(ESC)
""", "graded", {"q2": "\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07\\x9b31mTOTAL 14/14 =HYPERLINK",
                "TOTAL": "\\x1b]0;retitled\\x07"}),
    "escape_dying_words": ("""
import os
os.write(2, (@ESCAPES@ + "\\n").encode() * 3)
os._exit(3)
""", "kernel died", {"TOTAL": "\\x1b[2J"}),
    # exercise 06, blank but for counts that are right for the data it swapped in
    "overwrite_setup_data": ("""
import numpy as np
X_train, y_train = np.zeros((3, 28, 28)), np.array([0, 5, 6])
n_train_A, n_train_B = 1, 2
""", "graded", {"q2": "n_train_A = 1"}),
}


@pytest.fixture(scope="module")
def listener():
    """A TCP server on this machine's loopback: the network attack must not reach it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    got, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                got.append(conn.recv(100))
                conn.close()
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], got
    stop.set()
    thread.join()
    server.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory, listener):
    try:
        sandbox.check()
    except sandbox.SandboxUnavailable as exc:
        pytest.fail(f"the sandbox cannot start here: {exc} (.ci/run installs bubblewrap)")
    build = tmp_path_factory.mktemp("build")
    built = {n: exercises.assign(ROOT / "solutions" / f"{n}.ipynb", build) for n in (NAME, OTHER, SETUP)}
    subs = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("grades") / "grades.csv"
    blank = json.loads(built[NAME].student)
    solution = json.loads(Path(built[NAME].solution_notebook).read_text())
    import sysconfig

    fill = {"@AUTOGRADER@": str(built[NAME].autograder_zip), "@SOLUTION@": str(ROOT / "solutions" / f"{NAME}.ipynb"),
            "@ANSWERS@": str(ROOT / "tests" / "exercises" / f"{NAME}.py"),
            "@OTHER_SUBMISSION@": str(subs / "honest_solution.ipynb"), "@CSV@": str(out), "@HOME@": HOME,
            "@TOKEN@": TOKEN, "@SUBMISSIONS@": str(subs), "@ROOT@": str(ROOT),
            "@LECTURE_UTILS@": str(ROOT / "lecture_utils"), "@SITE_PACKAGES@": sysconfig.get_paths()["purelib"],
            "@TMP@": "/tmp", "@PORT@": str(listener[0]), "@ESCAPES@": ESCAPES,
            "@HOME_ENTRIES@": [os.path.join(HOME, n) for n in os.listdir(HOME) if n != ".pyenv"][:50]}
    out.write_text("the instructor's earlier grades\n")  # graded with force=True: it must not leak
    for name, (source, _, _) in ATTACKS.items():
        nb = copy.deepcopy(blank)  # its metadata; only the attack's cell (the answers are blank: 0 points)
        nb["cells"] = []
        if source is None:  # other_exercise
            nb["metadata"]["otter"]["assignment_name"] = OTHER
            nb["cells"] = copy.deepcopy(blank["cells"])
        elif name == "overwrite_setup_data":
            nb = json.loads(built[SETUP].student)
            nb["cells"].append(_code_cell(source))
        else:
            for key, value in fill.items():
                source = source.replace(key, json.dumps(value) if key not in ("@PORT@", "@ESCAPES@") else value)
            nb["cells"].append(_code_cell(source))
        (subs / f"attack_{name}.ipynb").write_text(json.dumps(nb))
    big = copy.deepcopy(blank)
    big["cells"].append({"cell_type": "markdown", "metadata": {}, "id": "big", "source": "x" * (100 * 2**20)})
    (subs / "attack_big_notebook.ipynb").write_text(json.dumps(big))
    (subs / "honest_solution.ipynb").write_text(json.dumps(solution))
    (subs / f"{ESCAPED_NAME}.ipynb").write_bytes(built[NAME].student)   # blank, under a name that acts
    (subs / "honest_blank.ipynb").write_bytes(built[NAME].student)
    wrong = copy.deepcopy(solution)
    for cell in wrong["cells"]:
        if "def clip_by_norm" in "".join(cell["source"]):
            cell["source"] = "".join(cell["source"]).replace("np.sqrt(np.sum(np.square(g)))", "np.sum(np.square(g))")
    (subs / "honest_wrong.ipynb").write_text(json.dumps(wrong))
    (subs / "honest_other_solution.ipynb").write_text(Path(built[OTHER].solution_notebook).read_text())

    # the judges get a HOME of their own: what they leave there is theirs alone (another pytest
    # worker's kernels make ~/.ipython and the like in the real one meanwhile)
    judge_home = tmp_path_factory.mktemp("judge-home")
    real_home = os.environ.get("HOME")
    os.environ["HOME"] = str(judge_home)
    shown = io.StringIO()   # what grade prints, as the instructor's terminal would get it

    def say(text):
        shown.write(text + "\n")
    try:
        outcomes = grading_batch.grade([subs], out, solutions_dir=ROOT / "solutions", build_dir=build, timeout=200,
                                 jobs=2, force=True, say=say, progress_stream=shown)
    finally:
        print(shown.getvalue())
        if real_home is None:
            del os.environ["HOME"]
        else:
            os.environ["HOME"] = real_home
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    by = {}
    for row in rows:
        by.setdefault(Path(row["submission"]).stem, {})[row["question"]] = row
    return {"rows": by, "outcomes": outcomes, "subs": subs, "out": out, "built": built,
            "judge_home": judge_home, "got": listener[1], "shown": shown.getvalue()}


def test_the_batch_completes_with_every_submission(batch):
    expected = {f"attack_{n}" for n in ATTACKS} | {"attack_big_notebook", "honest_solution", "honest_blank",
                                                   "honest_wrong", "honest_other_solution", clean(ESCAPED_NAME)}
    assert set(batch["rows"]) == expected
    assert all(row["sandbox"] == grading_batch.SANDBOXED for sub in batch["rows"].values() for row in sub.values())


@pytest.mark.parametrize("attack", sorted(ATTACKS) + ["big_notebook"])
def test_every_attack_gets_no_point(batch, attack):
    rows = batch["rows"][f"attack_{attack}"]
    total = rows["TOTAL"]
    forged = {q: r["points"] for q, r in rows.items() if q != "TOTAL" and r["points"] != "0"}
    assert total["points"] == "0" and not forged, f"{attack} got points: {forged}, {total}"
    assert total["max"] == {"other_exercise": "12", "overwrite_setup_data": "13", "big_notebook": ""}.get(attack, "14"), total
    status, says = ATTACKS[attack][1:] if attack in ATTACKS else ("invalid notebook", {})
    if status:
        assert total["status"] == status, total
    for question, texts in says.items():
        for text in (texts,) if isinstance(texts, str) else texts:
            assert text in rows[question]["message"], rows[question]["message"]


def test_the_big_notebook_is_refused_before_it_runs(batch):
    total = batch["rows"]["attack_big_notebook"]["TOTAL"]
    assert total["status"] == "invalid notebook" and "the limit is 20 MB" in total["message"], total


def test_honest_submissions_get_their_exact_points(batch):
    rows = batch["rows"]
    points = exercises.question_points(batch["built"][NAME].autograder_zip)
    assert {q: rows["honest_solution"][q]["points"] for q in points} == {q: str(p) for q, p in points.items()}
    assert rows["honest_solution"]["TOTAL"]["points"] == str(sum(points.values()))
    assert rows["honest_blank"]["TOTAL"]["points"] == "0"
    wrong = rows["honest_wrong"]
    assert all(wrong[q]["points"] == str(p) for q, p in points.items() if q != "q2"), wrong
    assert float(wrong["q2"]["points"]) < points["q2"] and "squared norm" in wrong["q2"]["message"], wrong["q2"]
    other = exercises.question_points(batch["built"][OTHER].autograder_zip)
    assert rows["honest_other_solution"]["TOTAL"]["points"] == str(sum(other.values()))
    assert rows["attack_other_exercise"]["TOTAL"]["max"] == str(sum(other.values()))


def test_nothing_was_written_outside_the_sandboxes(batch):
    written = []
    for folder in (Path(HOME), batch["judge_home"], batch["subs"], ROOT, ROOT / "lecture_utils", Path("/tmp")):
        written += [str(p) for p in folder.glob(f"*{TOKEN}*")]
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"]) / "sitecustomize.py"
    assert not written and not site.exists(), written
    assert "FORGED" not in batch["out"].read_text() and "earlier grades" not in batch["out"].read_text()
    # the judges (outside the sandbox) keep only their libraries' caches and settings there
    own = (".cache/matplotlib", ".cache/lecture_utils", ".config/matplotlib", ".keras")
    home = batch["judge_home"]
    left = [str(p.relative_to(home)) for p in home.rglob("*") if not p.is_dir()
            and not any(str(p.relative_to(home)).startswith(o + "/") for o in own)]
    assert not left, f"the judges left {left} in their HOME"


def test_no_connection_reached_this_machine(batch):
    assert batch["got"] == []


def _another_pytest_process_started(p, psutil) -> bool:
    """Whether ``p`` is a descendant of a pytest process other than this one
    (another worker's grading, going on meanwhile), not of this one nor an orphan."""
    try:
        for parent in p.parents():
            if parent.pid == os.getpid():
                return False
            if "pytest" in " ".join(parent.cmdline()):
                return True
    except psutil.Error:
        pass
    return False


def test_no_process_is_left(batch):
    psutil = pytest.importorskip("psutil")
    left = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if any(word in cmd for word in ("lecture_utils.grading.inside", "lecture_utils.grading.judge", "lecture_utils.grading.template")):
            if p.status() != psutil.STATUS_ZOMBIE and not _another_pytest_process_started(p, psutil):
                left.append(cmd)
    assert not left, left


def test_grading_without_a_sandbox_needs_saying_so(tmp_path, monkeypatch):
    """No bwrap: grade stops, saying what to install; --no-sandbox grades, and every row says so."""
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    sub = tmp_path / "blank.ipynb"
    sub.write_bytes((ROOT / "exercises" / f"{NAME}.ipynb").read_bytes())
    with pytest.raises(grading_batch.GradingError, match="bubblewrap .* is not installed: install bubblewrap .*apt-get"):
        grading_batch.grade([sub], tmp_path / "g.csv", solutions_dir=ROOT / "solutions", build_dir=tmp_path / "build",
                      say=lambda s: None)
    assert not (tmp_path / "g.csv").exists()
    grading_batch.grade([sub], tmp_path / "g.csv", solutions_dir=ROOT / "solutions", build_dir=tmp_path / "build",
                  sandboxed=False, say=lambda s: None)
    with open(tmp_path / "g.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(row["sandbox"] == grading_batch.UNSANDBOXED for row in rows)
    assert [r["points"] for r in rows if r["question"] == "TOTAL"] == ["0"]


_CONTROLS = [chr(c) for c in range(32) if chr(c) not in "\r\n"] + [chr(0x7f)] + [chr(c) for c in range(0x80, 0xa0)] + \
    ["\u202e", "\u2066", "\u2028"]


def test_nothing_raw_from_a_submission_reaches_the_csv_or_the_terminal(batch):
    """Escape sequences and control characters arrive shown escaped (so the
    attacks' texts are there, readable), no cell starts a formula, no message
    runs on without end: in the CSV and in what grade printed."""
    text = batch["out"].read_text(encoding="utf-8")
    for where, shown in (("the CSV", text.replace("\r\n", "\n")), ("the terminal", batch["shown"])):
        raw = sorted({repr(c) for c in shown if c in _CONTROLS})
        assert not raw, f"{where} holds {raw}"
    with open(batch["out"], newline="", encoding="utf-8") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    formulas = [c for c in cells if c.lstrip(" ").startswith(("=", "+", "-", "@", "\uff1d"))]
    assert not formulas, formulas
    assert max(len(c) for c in cells) <= 2000
    assert clean(ESCAPED_NAME) in batch["shown"]    # its name, shown escaped
    messages = batch["rows"]["attack_escape_messages"]
    assert "\\x1b[2J" in messages["q2"]["message"] and "\\x1b]0;retitled" in messages["TOTAL"]["message"]


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.startswith("judge_")])
def test_the_judge_refuses_before_it_allocates(batch, attack):
    """The judge's own peak memory (what it said, from getrusage) stays that of
    an honest judge: the model or message was refused before it was built."""
    outcome = next(o for o in batch["outcomes"] if Path(o.submission.label).stem == f"attack_{attack}")
    honest = next(o for o in batch["outcomes"] if Path(o.submission.label).stem == "honest_solution")
    assert outcome.judge_peak_bytes and honest.judge_peak_bytes, (outcome, honest)
    assert outcome.judge_peak_bytes < max(2 * honest.judge_peak_bytes, 2**31), \
        f"{attack}: the judge grew to {outcome.judge_peak_bytes / 2**30:.2f} GiB"


def test_the_templates_share_no_writable_memory_with_their_forks(tmp_path):
    """What a fork shares with its template and with the other forks is what
    the template mapped; none of it may be a writable shared mapping (a
    channel from one submission to the next). And the sandbox template runs as
    the sandbox does: as `nobody` when grading as root, with no capability."""
    psutil = pytest.importorskip("psutil")
    from lecture_utils import data

    source = data.find_source()
    templates = grading_batch.Templates(str(tmp_path), True, str(source.path) if source else None)
    try:
        box = [p for p in psutil.Process(templates.sandbox.process.pid).children(recursive=True)
               if p.name().startswith("python") and "lecture_utils.grading.template" in " ".join(p.cmdline())]
        assert len(box) == 1, box
        for process in (psutil.Process(templates.judge.process.pid), box[0]):
            shared = [line for line in Path(f"/proc/{process.pid}/maps").read_text().splitlines()
                      if len(line.split()) > 1 and line.split()[1][1] == "w" and line.split()[1][3] == "s"]
            assert not shared, (process.cmdline(), shared)
        status = Path(f"/proc/{box[0].pid}/status").read_text()
        caps = {line.split()[0]: int(line.split()[1], 16) for line in status.splitlines()
                if line.startswith(("CapEff", "CapPrm"))}
        assert caps == {"CapEff:": 0, "CapPrm:": 0}, caps
        if os.getuid() == 0:
            assert box[0].uids().real == sandbox.NOBODY
    finally:
        templates.stop()
