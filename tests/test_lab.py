"""`make lab` starts a JupyterLab that serves /lab (on a free local port, stopped afterwards)."""
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from jupyterlab_driver import free_port

ROOT = Path(__file__).resolve().parents[1]


def test_make_lab_serves_jupyterlab(tmp_path):
    port, token = free_port(), os.urandom(12).hex()
    args = (f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.token={token} "
            f"--ServerApp.port_retries=0")
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = open(tmp_path / "lab.log", "w+")
    server = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_ARGS={args}"], cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline, page = time.monotonic() + 120, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=5) as r:
                    page = (r.status, r.read().decode())
                break
            except OSError:
                time.sleep(1)
        log.seek(0)
        assert page is not None, f"JupyterLab did not answer on port {port}:\n{log.read()[-3000:]}"
        status, html = page
        assert status == 200 and "JupyterLab" in html
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/notebooks?token={token}",
                                    timeout=5) as r:
            assert b"00_start_here.ipynb" in r.read()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
