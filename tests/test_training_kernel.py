"""The training explorer in a real Jupyter kernel: a kernel interrupt pauses
it, whether the kernel is idle (the explorer training in the background) or
running a cell, and its worker thread ends."""
import time

import pytest

from jupyterlab_driver import run_code

jupyter_client = pytest.importorskip("jupyter_client")

SETUP = """
import threading, time
from lecture_utils.data import load_fashion_mnist
from lecture_utils.profile import get_profile
from lecture_utils.explorers import training
training.IDLE_EXIT_S = 0.5
d = load_fashion_mnist(get_profile("fast"), allow_download=False)
e = training.explore_training(d.X_train[:2000], d.y_train[:2000], d.X_valid, d.y_valid,
                              depth=3, width=32).explorer
e.heartbeat_s = None   # no page here to tick
"""

PLAY = """
e.press("play")
deadline = time.monotonic() + 60
while e.run.step < 100 and time.monotonic() < deadline:
    time.sleep(0.05)
assert e.playing and e.run.step >= 100, (e.playing, e.run.step)
"""

STATE = """
time.sleep(0.5)
step = e.run.step
time.sleep(1.0)
print("STATE", e.playing, step == e.run.step, e.paused_why or "-",
      [t.name for t in threading.enumerate()].count("explorer-training"))
"""


def _run(client, code, timeout=120):
    """Execute ``code``; what it printed (the test fails if it raised)."""
    status, out = run_code(client, code, timeout)
    assert status == "ok", f"{code!r} failed:\n{out}"
    return out


@pytest.fixture
def kernel():
    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    try:
        _run(client, SETUP)
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_an_interrupt_while_idle_pauses_training(kernel):
    manager, client = kernel
    _run(client, PLAY)
    step = _run(client, "print(e.run.step)")
    time.sleep(0.5)  # idle kernel, the explorer training in its thread
    assert int(_run(client, "print(e.run.step)")) > int(step)
    manager.interrupt_kernel()
    time.sleep(0.5)
    out = _run(client, STATE)
    assert "STATE False True" in out, out
    assert out.strip().endswith("0"), f"a worker thread is still there: {out}"


def test_an_interrupt_during_a_cell_pauses_training(kernel):
    manager, client = kernel
    _run(client, PLAY)
    msg_id = client.execute("time.sleep(30)")
    time.sleep(1.0)
    manager.interrupt_kernel()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the interrupted cell ends
        msg = client.get_iopub_msg(timeout=30)
        if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"):
            break
    out = _run(client, STATE)
    assert "STATE False True" in out, out
