"""Helpers for tests/test_browser.py: find the explorer cells in the
notebooks, pick the cells an explorer needs, run a JupyterLab server on a
copy of the notebooks, and drive a notebook in it with Playwright.

Nothing here starts a browser; the fixtures in test_browser.py do, and they
always stop what they started.
"""
from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat

EXPLORER_CALL = re.compile(r"\b(explore_\w+)\(")
TRACEBACK = "Traceback (most recent call last)"

# ---------------------------------------------------------------------------
# Which cells an explorer needs.


@dataclasses.dataclass(frozen=True)
class Explorer:
    notebook: Path          # the notebook, in the repository
    cell: int               # index of the explorer cell in notebook.cells
    function: str           # explore_...
    run: tuple[int, ...]    # the cells to run, in order, the explorer cell last

    @property
    def name(self) -> str:
        return self.notebook.stem


def find_explorers(folder: Path, all_cells_above: bool = False) -> list[Explorer]:
    """Every code cell that calls ``explore_…(`` in ``folder/*.ipynb``, with the
    cells to run before it (see :func:`cells_needed`)."""
    found = []
    for path in sorted(folder.glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        for i, cell in enumerate(cells):
            m = EXPLORER_CALL.search(cell.source) if cell.cell_type == "code" else None
            if m:
                found.append(Explorer(path, i, m.group(1), cells_needed(cells, i, all_cells_above)))
    return found


@dataclasses.dataclass
class _Names:
    binds: set      # names the cell (re)binds unconditionally, at top level
    touches: set    # names it binds conditionally or mutates (x.a = …, x[i] = …, x += …)
    uses: set       # every name it reads, also inside functions it defines
    opaque: bool    # star import or IPython magic: side effects we cannot see


def _names(source: str) -> _Names | None:
    """The names a cell binds, mutates and reads; None if it does not parse."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        code = TransformerManager().transform_cell(source)
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    names = _Names(set(), set(), set(), "get_ipython()" in code)

    def base(target):
        while isinstance(target, (ast.Attribute, ast.Subscript, ast.Starred)):
            target = target.value
        return target.id if isinstance(target, ast.Name) else None

    def bound(target, into):
        if isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                bound(t, into)
        elif isinstance(target, ast.Name):
            into.add(target.id)
        elif (name := base(target)) is not None:  # x.a = …, x[i] = …: a mutation
            names.touches.add(name)

    def statement(node, top):
        into = names.binds if top else names.touches
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            into.add(node.name)
            return  # its body runs later; its reads are counted below
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    names.opaque = True
                else:
                    into.add(alias.asname or alias.name.split(".")[0])
            return
        if isinstance(node, ast.Assign):
            for t in node.targets:
                bound(t, into)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            bound(node.target, into)
        elif isinstance(node, ast.AugAssign):
            bound(node.target, names.touches)
            if (name := base(node.target)) is not None:
                names.touches.add(name)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            bound(node.target, names.touches)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    bound(item.optional_vars, names.touches)
        elif isinstance(node, ast.Delete):
            for t in node.targets:
                bound(t, names.touches)
        for child in ast.iter_child_nodes(node):  # nested blocks: conditional
            if isinstance(child, ast.stmt):
                statement(child, top=False)
            elif isinstance(child, ast.excepthandler):
                if child.name:
                    names.touches.add(child.name)
                for s in child.body:
                    statement(s, top=False)

    for node in tree.body:
        statement(node, top=True)
    for node in ast.walk(tree):
        if isinstance(node, ast.NamedExpr):
            names.touches.add(node.target.id)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            names.uses.add(node.id)
    return names


def cells_needed(cells, explorer: int, all_cells_above: bool = False) -> tuple[int, ...]:
    """The code cells to run, in order, for the explorer cell ``explorer``:
    the notebook's first code cell (its set-up: seeds, matplotlib settings),
    every cell above that binds or changes a name the explorer cell reads,
    directly or through other such cells, cells whose effects cannot be seen
    from their names (magics, star imports, cells that do not parse), then the
    explorer cell. With ``all_cells_above``: every code cell above it."""
    above = [i for i in range(explorer) if cells[i].cell_type == "code" and cells[i].source.strip()]
    if all_cells_above or not above:
        return tuple(above) + (explorer,)
    info = _names(cells[explorer].source)
    needed = set(info.uses) if info else set()
    chosen = {above[0]}
    for i in reversed(above):
        info = _names(cells[i].source)
        if info is None or info.opaque:
            chosen.add(i)
            needed |= info.uses if info else set()
        elif needed & (info.binds | info.touches):
            chosen.add(i)
            needed = (needed - info.binds) | info.uses
    return tuple(sorted(chosen)) + (explorer,)


# ---------------------------------------------------------------------------
# The JupyterLab server.

# JupyterLab user settings: no news/update pop-up over the cells, every cell in
# the DOM (no windowing), nothing saved to disk behind our back.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """JupyterLab on 127.0.0.1, a free port and a random token, serving a copy
    of ``notebooks`` (outputs cleared) from ``workdir``: running cells in the
    browser never touches the committed notebooks. Kernels get the fast
    profile and TensorFlow. Use as a context manager: it always stops."""

    def __init__(self, notebooks: Path, workdir: Path, start_timeout: float = 120):
        self.notebooks, self.workdir, self.start_timeout = notebooks, workdir, start_timeout
        self.port, self.token = free_port(), os.urandom(16).hex()
        self.url = f"http://127.0.0.1:{self.port}"
        self.root = workdir / "root"
        self.runtime = workdir / "runtime"
        self.log_path = workdir / "jupyterlab.log"
        self.process = None

    # -- set-up --------------------------------------------------------------
    def _prepare(self):
        shutil.copytree(self.notebooks, self.root / self.notebooks.name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        for path in (self.root / self.notebooks.name).glob("*.ipynb"):
            nb = nbformat.read(path, as_version=4)
            nb.metadata.pop("widgets", None)
            for cell in nb.cells:
                if cell.cell_type == "code":
                    cell.outputs, cell.execution_count = [], None
            nbformat.write(nb, path)
        for plugin, values in LAB_SETTINGS.items():
            path = self.workdir / "settings" / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))

    def environment(self) -> dict:
        env = dict(os.environ)
        env.update(
            LECTURE_PROFILE="fast", TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow",
            # the root conftest sets Agg for nbval; in the browser figures are inline
            MPLBACKEND="module://matplotlib_inline.backend_inline",
            JUPYTER_RUNTIME_DIR=str(self.runtime),
            JUPYTER_CONFIG_DIR=str(self.workdir / "config"),
            JUPYTERLAB_SETTINGS_DIR=str(self.workdir / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(self.workdir / "workspaces"),
            IPYTHONDIR=str(self.workdir / "ipython"),
        )
        return env

    def __enter__(self):
        self._prepare()
        args = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
                f"--port={self.port}", "--ServerApp.port_retries=0", f"--ServerApp.token={self.token}",
                f"--ServerApp.root_dir={self.root}"]
        if os.geteuid() == 0:
            args.append("--allow-root")
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(args, cwd=self.root, env=self.environment(), stdout=self._log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        try:
            deadline = time.monotonic() + self.start_timeout
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"JupyterLab exited with {self.process.returncode}:\n{self.log_tail()}")
                try:
                    self.api("GET", "/api/status", timeout=5)
                    break
                except (OSError, ValueError):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"JupyterLab did not answer on port {self.port} within "
                                           f"{self.start_timeout:.0f} s:\n{self.log_tail()}") from None
                    time.sleep(0.5)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- the REST API --------------------------------------------------------
    def api(self, method: str, path: str, timeout: float = 10):
        request = urllib.request.Request(self.url + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else None

    def kernel_state(self, notebook_path: str) -> str | None:
        """The execution state ('idle', 'busy', 'starting', …) of the kernel
        of the notebook at ``notebook_path`` (relative to the root)."""
        for session in self.api("GET", "/api/sessions"):
            if session.get("path") == notebook_path and session.get("kernel"):
                return session["kernel"].get("execution_state")
        return None

    def shutdown_kernels(self):
        """Stop every session and kernel (frees memory between notebooks)."""
        try:
            for session in self.api("GET", "/api/sessions"):
                self.api("DELETE", f"/api/sessions/{session['id']}", timeout=30)
            for kernel in self.api("GET", "/api/kernels"):
                self.api("DELETE", f"/api/kernels/{kernel['id']}", timeout=30)
        except (OSError, ValueError):
            pass

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    # -- tear-down -----------------------------------------------------------
    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.shutdown_kernels()
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        self._kill_leftover_kernels()
        self._log.close()
        self.process = None

    def _kill_leftover_kernels(self):
        """Kernels run in their own sessions; any still alive after the server
        stopped is ours if its connection file is in our runtime folder."""
        marker = str(self.runtime).encode()
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if marker in (proc / "cmdline").read_bytes():
                    os.kill(int(proc.name), signal.SIGKILL)
            except (OSError, ValueError):
                pass


# ---------------------------------------------------------------------------
# Driving a notebook in the page.

# Arms the measurement of one control change in the explorer's cell: the time
# of the first input event (keydown, input, change, mousedown) and the time the
# widget's output shows an image different from the current one, decoded and
# painted (two animation frames later); or the traceback if the callback fails.
ARM_CHANGE_JS = """(cell) => {
  const out = cell.querySelector('.widget-output');
  const first = out.querySelector('img');
  const state = window.__explorerChange = {t0: null, t1: null, error: null, before: first && first.src};
  const types = ['keydown', 'input', 'change', 'mousedown'];
  const mark = (e) => {
    if (state.t0 === null) state.t0 = e.timeStamp;
    types.forEach(t => document.removeEventListener(t, mark, true));
  };
  types.forEach(t => document.addEventListener(t, mark, true));
  let seen = false;
  const check = () => {
    if (seen) return;
    const text = out.innerText || '';
    if (text.includes('Traceback (most recent call last)')) {
      seen = true; observer.disconnect(); state.error = text; return;
    }
    const img = out.querySelector('img');
    if (!img || !img.src || img.src === state.before) return;
    seen = true; observer.disconnect();
    img.decode().catch(() => null).then(() => requestAnimationFrame(() => requestAnimationFrame(() => {
      state.t1 = performance.now();
    })));
  };
  const observer = new MutationObserver(check);
  observer.observe(out, {subtree: true, childList: true, attributes: true, characterData: true});
}"""

# The control to change: the first enabled slider, else drop-down, else check box.
FIND_CONTROL_JS = """(area) => {
  const label = (el) => {
    const box = el.closest('.widget-slider, .widget-dropdown, .widget-checkbox');
    const l = box && box.querySelector('.widget-label, .widget-label-basic');
    return (l && l.textContent.trim()) || '?';
  };
  const handle = area.querySelector('.noUi-target:not([disabled]) .noUi-handle');
  if (handle) return {kind: 'slider', label: label(handle)};
  const select = area.querySelector('.widget-dropdown select:not([disabled])');
  if (select) return {kind: 'dropdown', label: label(select)};
  const box = area.querySelector('.widget-checkbox input[type=checkbox]:not([disabled])');
  if (box) return {kind: 'checkbox', label: label(box)};
  return null;
}"""
