"""Grading on a Dask cluster, when one machine is not enough.

``lecture-utils grade SUBMISSIONS --out grades.csv --cluster tls://HOST:8786
--certs DIR`` sends each submission to a Dask distributed cluster (started
by hand, by ``dask-jobqueue`` on SLURM/PBS, by ``dask-kubernetes``, or over
SSH with ``dask ssh``). Who does what:

- the **batch** (here, :func:`lecture_utils.grading.batch.grade`) identifies the
  submissions, builds the autograders, sends one task per submission (its
  notebook, the autograder zip and the solution notebook travel with it),
  keeps the journal and writes the CSV: only here;
- each **worker** grades in its own local sandbox, exactly as a local batch
  does (:class:`GradingPlugin` starts the two templates of
  :mod:`lecture_utils.grading.template` when the worker joins; the worker needs this
  package, bubblewrap and the data). A worker whose sandbox cannot start
  refuses: the plugin closes it and the batch prints why.

A worker killed mid-batch loses nothing: Dask gives its tasks to another
worker, and each submission's result arrives once (one future each).

A Dask scheduler runs whatever code a client sends it, so the cluster must
never be open: :func:`make_certificates` makes a course's own certificate
authority and one certificate signed by it, and scheduler, workers and batch
all require TLS with it (mutual TLS: nobody without the key can connect).
:func:`check_address` refuses a plain ``tcp://`` address that is not on
this machine unless told explicitly.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import os
import socket
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

PLUGIN = "lecture-utils-grading"
CA, CERT, KEY = "ca.pem", "course.pem", "course-key.pem"


class ClusterError(RuntimeError):
    """A cluster that cannot be used (the message says why and what to do)."""


# --------------------------------------------------------------------------
# Addresses and certificates.

def _is_local(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def check_address(address: str, certs: str | Path | None, insecure: bool) -> None:
    """Raise :class:`ClusterError` unless ``address`` may be used: ``tls://``
    with ``certs``, or ``tcp://`` on this machine (or anywhere with ``insecure``)."""
    parts = urlsplit(address)
    if parts.scheme not in ("tls", "tcp") or not parts.hostname:
        raise ClusterError(f"--cluster must be tls://HOST:PORT (or tcp://127.0.0.1:PORT), got {address!r}")
    if parts.scheme == "tls":
        if certs is None:
            raise ClusterError("--cluster tls://... needs --certs DIR (made by `lecture-utils cluster-certs DIR`)")
        missing = [name for name in (CA, CERT, KEY) if not (Path(certs) / name).is_file()]
        if missing:
            raise ClusterError(f"--certs {certs} lacks {', '.join(missing)} "
                               "(make them with `lecture-utils cluster-certs DIR`)")
    elif not _is_local(parts.hostname) and not insecure:
        raise ClusterError(f"{address} is plain TCP to another machine: anyone who reaches it can run code on the "
                           "cluster. Use tls:// with --certs (see `lecture-utils cluster-certs`), or pass "
                           "--insecure-cluster if the network is yours alone")


def security(certs: str | Path | None):
    """Dask's :class:`~distributed.security.Security` for ``certs`` (None: none)."""
    if certs is None:
        return None
    from distributed.security import Security

    folder = Path(certs)
    return Security(tls_ca_file=str(folder / CA), tls_client_cert=str(folder / CERT),
                    tls_client_key=str(folder / KEY), tls_scheduler_cert=str(folder / CERT),
                    tls_scheduler_key=str(folder / KEY), tls_worker_cert=str(folder / CERT),
                    tls_worker_key=str(folder / KEY), require_encryption=True)


def make_certificates(folder: str | Path, days: int = 365) -> list[Path]:
    """A course's own certificate authority (``ca.pem``) and one certificate
    signed by it (``course.pem``, ``course-key.pem``) for the scheduler, the
    workers and the batch. Refuses to overwrite existing files. The key is
    readable by its owner only."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = Path(folder)
    paths = [folder / name for name in (CA, CERT, KEY)]
    existing = [str(p) for p in paths if p.exists()]
    if existing:
        raise ClusterError(f"{', '.join(existing)} exist: choose another folder (the cluster's running "
                           "scheduler and workers use them)")
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lecture-utils course CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now)
          .not_valid_after(now + datetime.timedelta(days=days))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lecture-utils grading")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
                                                  x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(paths[2], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


# --------------------------------------------------------------------------
# On a worker.

from distributed.diagnostics.plugin import WorkerPlugin  # noqa: E402 -- this module is imported only for --cluster


class GradingPlugin(WorkerPlugin):
    """Dask worker plugin (registered by the batch): starts the worker's two
    templates when it joins, stops them when it leaves. A worker whose
    sandbox cannot start closes itself, and the reason reaches the batch."""

    name = PLUGIN

    def __init__(self, sandboxed: bool = True):
        self.sandboxed = sandboxed
        self.templates = None
        self.folder = None
        self.lock = threading.Lock()
        self.files: dict = {}
        self.prepared: dict = {}

    def __getstate__(self):
        return {"sandboxed": self.sandboxed}

    def __setstate__(self, state):
        self.__init__(state["sandboxed"])

    def setup(self, worker=None):
        from .. import data
        from . import sandbox, submission

        try:
            if self.sandboxed:
                sandbox.check()
            source = data.find_source()
            self.folder = tempfile.mkdtemp(prefix="lecture-utils-worker-")
            self.templates = submission.Templates(self.folder, self.sandboxed, str(source.path) if source else None)
        except (sandbox.SandboxUnavailable, submission.GradingError) as exc:
            why = f"worker {getattr(worker, 'address', '?')} cannot grade: {exc}"
            if worker is not None:
                import asyncio

                asyncio.ensure_future(worker.close(reason=why))
            raise RuntimeError(why) from None

    def teardown(self, worker=None):
        import shutil

        if self.templates is not None:
            self.templates.stop()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def file(self, name: str, content: bytes) -> Path:
        """``content`` as a file of this worker's (written once; named by its SHA-256)."""
        digest = hashlib.sha256(content).hexdigest()[:16]
        with self.lock:
            if digest not in self.files:
                path = Path(self.folder) / digest / name
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(content)
                self.files[digest] = path
            return self.files[digest]


def can_grade(dask_worker=None) -> bool:
    """Run on a worker (``client.run``): whether its grading templates are running."""
    plugin = dask_worker.plugins.get(PLUGIN) if dask_worker is not None else None
    return bool(plugin is not None and plugin.templates is not None and not dask_worker.status.name.startswith("clos"))


@dataclasses.dataclass
class Task:
    """One submission, as it travels to a worker."""

    index: int
    label: str
    exercise: str
    message: str
    notebook: dict
    autograder: bytes
    master: bytes
    points: dict
    timeout: float
    budget: int


def grade_task(task: Task) -> dict:
    """Run on a worker: grade one submission in this worker's sandbox. The
    outcome as data (its rows without the label, which the batch adds)."""
    from distributed import get_worker

    from . import submission as one

    plugin = get_worker().plugins[PLUGIN]
    if plugin.templates is None:
        raise RuntimeError("this worker's grading templates did not start")
    zip_path = plugin.file(f"{task.exercise}.zip", task.autograder)
    master = plugin.file(f"{task.exercise}.ipynb", task.master)
    with plugin.lock:   # the set-up data: computed once per exercise on this worker
        key = (task.exercise, zip_path)
        if key not in plugin.prepared:
            plugin.prepared[key] = one.prepare_setup(task.exercise, zip_path, master, zip_path.parent,
                                                         task.timeout, plugin.templates)
    sub = one.Submission(Path(task.label), task.label, task.exercise, None, task.message, task.notebook)
    outcome = one.grade_one(sub, zip_path, task.points, task.timeout, plugin.templates, master=master,
                                setup_data=plugin.prepared[key], budget=task.budget)
    return {"index": task.index, "status": outcome.status, "rows": [row[1:] for row in outcome.rows],
            "score": outcome.score, "possible": outcome.possible, "seconds": outcome.seconds,
            "peak_bytes": outcome.peak_bytes, "worker": get_worker().address}
