"""Grading on a Dask cluster, for real: a `dask scheduler` and `dask worker`
processes on 127.0.0.1, all with the course's TLS certificates. A batch
graded there equals the same batch graded here, even with one worker killed
mid-batch (every row exactly once); a worker that cannot sandbox refuses and
the batch says why; a cluster that is not locked is refused."""
import copy
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lecture_utils import exercises
from lecture_utils.grading import batch

pytest.importorskip("distributed", reason="make test installs the cluster extra (distributed, cryptography)")
from lecture_utils.grading import cluster  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NAME = "05_gradient_clipping"
DASK = str(Path(sys.executable).parent / "dask")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tls(certs: Path) -> list[str]:
    return ["--tls-ca-file", str(certs / cluster.CA), "--tls-cert", str(certs / cluster.CERT),
            "--tls-key", str(certs / cluster.KEY)]


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("certs")
    cluster.make_certificates(folder)
    return folder


@pytest.fixture(scope="module")
def dask_cluster(certs, tmp_path_factory):
    """A scheduler and three workers (one submission at a time each): two that can grade, and one
    that cannot (no bubblewrap on its PATH)."""
    port = _free_port()
    address = f"tls://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask-logs")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", DASK_DISTRIBUTED__WORKER__DAEMON="False")
    started = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--protocol", "tls",
                                 "--no-dashboard", *_tls(certs)], env=env, stdout=subprocess.DEVNULL,
                                stderr=open(logs / "scheduler.log", "wb"))]
    workers = []
    for i, path in enumerate([env["PATH"], env["PATH"], str(Path(sys.executable).parent)]):
        workers.append(subprocess.Popen(
            [DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--memory-limit", "0",
             "--name", f"w{i}", *_tls(certs)], env=dict(env, PATH=path), stdout=subprocess.DEVNULL,
            stderr=open(logs / f"worker{i}.log", "wb")))
    started += workers
    try:
        from distributed import Client

        with Client(address, security=cluster.security(certs), timeout="60s") as client:
            client.wait_for_workers(3, timeout=120)
        yield {"address": address, "workers": workers, "logs": logs}
    finally:
        for p in started:
            p.kill()
            p.wait()


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    """Six submissions of exercise 05 (right, wrong, blank), each taking a second or two."""
    build = tmp_path_factory.mktemp("build")
    built = exercises.assign(ROOT / "solutions" / f"{NAME}.ipynb", build, run_tests=False)
    exercises.autograder(NAME, ROOT / "solutions", build, say=lambda s: None)
    solution = json.loads(Path(built.solution_notebook).read_text())
    wrong = copy.deepcopy(solution)
    for cell in wrong["cells"]:
        cell["source"] = "".join(cell["source"]).replace("np.sqrt(np.sum(np.square(g)))", "np.sum(np.square(g))")
    blank = json.loads(built.student)
    subs = tmp_path_factory.mktemp("submissions")
    for i, nb in enumerate([solution, wrong, blank, solution, wrong, solution]):
        nb = copy.deepcopy(nb)
        nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "import time\ntime.sleep(1.5)",
                            "outputs": [], "execution_count": None, "id": "sleeps"})
        (subs / f"student{i}.ipynb").write_text(json.dumps(nb))
    return build, subs


def _rows(out):
    with open(out, newline="") as f:
        return sorted((Path(r["submission"]).name, r["question"], r["points"], r["status"], r["message"])
                      for r in csv.DictReader(f))


class _KillOnFirstResult:
    """The progress stream of the cluster batch: at its first line, one worker is killed."""

    def __init__(self, worker):
        self.worker, self.lines = worker, []

    def write(self, text):
        self.lines.append(text)
        if self.worker.poll() is None:
            self.worker.send_signal(signal.SIGKILL)

    def flush(self):
        pass


def test_a_batch_on_the_cluster_equals_it_graded_here_even_with_a_worker_killed(dask_cluster, submissions, certs,
                                                                              tmp_path):
    build, subs = submissions
    here, there = tmp_path / "here.csv", tmp_path / "there.csv"
    batch.grade([subs], here, solutions_dir=ROOT / "solutions", build_dir=build, jobs=2, say=lambda s: None)
    said = []
    stream = _KillOnFirstResult(dask_cluster["workers"][0])
    started = time.monotonic()
    outcomes = batch.grade([subs], there, solutions_dir=ROOT / "solutions", build_dir=build, say=said.append,
                             cluster=dask_cluster["address"], certs=certs, progress_stream=stream)
    assert dask_cluster["workers"][0].poll() is not None, "the worker was not killed"
    assert len(stream.lines) == 6, stream.lines   # each submission once
    assert _rows(there) == _rows(here)
    assert sorted(o.status for o in outcomes) == ["graded"] * 6
    refused = [line for line in said if "refused" in line]
    assert refused and "cannot grade: bubblewrap (bwrap) is not installed" in refused[0], said
    assert any(line.startswith("cluster ") and "2 workers grading" in line for line in said), said
    assert "memory budget: 4 GiB per submission, on each worker of the cluster" in said, said
    print(f"[cluster] 6 submissions in {time.monotonic() - started:.0f} s with a worker killed; {said}")


def test_an_open_cluster_is_refused(certs, tmp_path):
    def grade(**kwargs):
        with pytest.raises(batch.GradingError) as caught:
            batch.grade([ROOT / "solutions"], tmp_path / "g.csv", solutions_dir=ROOT / "solutions",
                          build_dir=tmp_path, say=lambda s: None, **kwargs)
        return str(caught.value)

    assert "plain TCP to another machine" in grade(cluster="tcp://192.0.2.1:8786")
    assert "needs --certs" in grade(cluster="tls://192.0.2.1:8786")
    assert "lacks ca.pem" in grade(cluster="tls://192.0.2.1:8786", certs=tmp_path)
    assert "must be tls://HOST:PORT" in grade(cluster="http://192.0.2.1:8786", certs=certs)
    assert "--memory-budget must be at least 1 GiB" in grade(cluster="tcp://127.0.0.1:8786", memory_budget=2**20)
    assert not (tmp_path / "g.csv").exists()
    with pytest.raises(cluster.ClusterError, match="exist"):   # the running cluster's certificates are kept
        cluster.make_certificates(certs)
    assert oct((certs / cluster.KEY).stat().st_mode & 0o777) == "0o600"
