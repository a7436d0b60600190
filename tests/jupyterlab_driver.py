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
import math
import os
import queue
import re
import shutil
import signal
import socket
import statistics
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
    of ``notebooks`` (outputs cleared, unless ``keep_outputs``) from ``workdir``: running cells in the
    browser never touches the committed notebooks. Kernels get the fast
    profile and TensorFlow. Use as a context manager: it always stops."""

    def __init__(self, notebooks: Path, workdir: Path, start_timeout: float = 120, env: dict | None = None,
                 keep_outputs: bool = False):
        self.notebooks, self.workdir, self.start_timeout = notebooks, workdir, start_timeout
        self.keep_outputs = keep_outputs   # serve the notebooks as committed, outputs and all
        self.extra_env = dict(env or {})
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
        for path in [] if self.keep_outputs else (self.root / self.notebooks.name).glob("*.ipynb"):
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
        env.update(self.extra_env)
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

PAGE_TIMEOUT_S = 60      # JupyterLab loads, the kernel starts
CELL_TIMEOUT_S = 300     # one cell runs
WIDGET_TIMEOUT_S = 60    # the explorer and its first figure appear
CHANGE_TIMEOUT_S = 30    # the figure is redrawn after a control change


class DriverError(AssertionError):
    """The page did not do what a reader would see it do (the message says what)."""


def wait(condition, timeout: float, what, interval: float = 0.05):
    """Poll ``condition()`` until it returns something truthy; raise
    DriverError after ``timeout`` s with ``what()``, the state at that moment."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise DriverError(f"timed out after {timeout:.0f} s: {what()}")
        time.sleep(interval)


def outputs_text(cell) -> str:
    return cell.locator(".jp-Cell-outputArea").inner_text()


def open_notebook(page, lab, explorer: Explorer, folder: str = "notebooks"):
    """Open ``explorer``'s notebook in JupyterLab; wait for its cells and kernel."""
    rel = f"{folder}/{explorer.notebook.name}"
    page.goto(f"{lab.url}/lab/workspaces/browser-test-{explorer.name}/tree/{rel}?token={lab.token}")
    n_cells = len(nbformat.read(lab.root / rel, as_version=4).cells)  # the copy it serves
    cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    wait(lambda: cells.count() == n_cells, PAGE_TIMEOUT_S,
         lambda: f"JupyterLab did not show the {n_cells} cells of {rel} (shows {cells.count()})", 0.2)
    wait(lambda: lab.kernel_state(rel) == "idle", PAGE_TIMEOUT_S,
         lambda: f"the kernel of {rel} did not start (state {lab.kernel_state(rel)!r})\n{lab.log_tail()}", 0.2)
    return rel, cells


def run_cell(page, cells, index: int, lab, rel: str) -> str:
    """Run cell ``index`` (Ctrl+Enter) and wait for it; its output text."""
    cell = cells.nth(index)
    cell.locator(".jp-InputPrompt").first.click()
    page.keyboard.press("Control+Enter")
    prompt = cell.locator(".jp-InputPrompt").first
    wait(lambda: re.fullmatch(r"\[\d+\]:", prompt.inner_text().strip()), CELL_TIMEOUT_S,
         lambda: f"cell {index} of {rel} did not finish (prompt {prompt.inner_text().strip()!r}, "
                 f"kernel {lab.kernel_state(rel)!r})\n{lab.log_tail()}", 0.2)
    text = outputs_text(cell)
    if TRACEBACK in text:
        raise DriverError(f"cell {index} of {rel} shows a traceback:\n{text[-3000:]}")
    return text


def wait_for_widget(cell, rel: str):
    """Wait until the explorer in ``cell`` shows its figure."""
    def rendered():
        text = outputs_text(cell)
        if "Error displaying widget" in text or TRACEBACK in text:
            raise DriverError(f"the explorer in {rel} failed to render:\n{text[-3000:]}")
        if "Loading widget" in text:
            return False
        return cell.locator(FIGURE_SELECTOR).count() > 0

    wait(rendered, WIDGET_TIMEOUT_S, lambda: f"the explorer in {rel} did not show its figure; its output "
                                             f"reads:\n{outputs_text(cell)[-2000:]!r}", 0.2)


def settle(lab, rel: str, cell=None, quiet: float = 0.15):
    """Wait until the kernel has handled every message, the explorer (if it
    has a status line) shows its exact result, and the figure is quiet: the
    next change's frame cannot be one still coming from this one."""
    wait(lambda: lab.kernel_state(rel) == "idle", CHANGE_TIMEOUT_S,
         lambda: f"the kernel of {rel} stays {lab.kernel_state(rel)!r}", 0.1)
    if cell is not None and status_state(cell) is not None:
        wait(lambda: status_state(cell)["kind"] == "exact", CHANGE_TIMEOUT_S,
             lambda: f"the explorer in {rel} still shows {status_state(cell)}", 0.05)
    time.sleep(quiet)


def _press(page, area, control: dict):
    """One step of ``control``: an arrow key on the focused slider (toward the
    other end when at the maximum), the next option of a drop-down, a click on
    a check box."""
    if control["kind"] == "slider":
        handle = area.locator(".noUi-target:not([disabled]) .noUi-handle").first
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        handle.focus()
        page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
    elif control["kind"] == "dropdown":
        select = area.locator(".widget-dropdown select:not([disabled])").first
        n, i = select.evaluate("s => [s.options.length, s.selectedIndex]")
        select.select_option(index=(i + 1) % n)
    else:
        area.locator(".widget-checkbox input[type=checkbox]:not([disabled])").first.click()


def change_once(page, cell, control: dict, rel: str) -> float:
    """Change ``control`` once; the seconds from the input event until the
    new figure is painted."""
    area = cell.locator(".jp-Cell-outputArea")
    cell.evaluate(ARM_CHANGE_JS)
    _press(page, area, control)
    try:
        page.wait_for_function("() => window.__explorerChange.t1 !== null || window.__explorerChange.error !== null",
                               timeout=CHANGE_TIMEOUT_S * 1000, polling="raf")
    except Exception:  # playwright's TimeoutError
        raise DriverError(f"the figure in {rel} did not change within {CHANGE_TIMEOUT_S} s after "
                          f"{control['kind']} {control['label']!r} changed; the explorer reads:\n"
                          f"{outputs_text(cell)[-2000:]}") from None
    state = page.evaluate("() => window.__explorerChange")
    if state["error"] is not None:
        raise DriverError(f"the explorer in {rel} raised after {control['kind']} {control['label']!r} "
                          f"changed:\n{state['error'][-3000:]}")
    if state["t0"] is None:
        raise DriverError(f"no input event reached the page for {control['label']!r}")
    return (state["t1"] - state["t0"]) / 1000


def drag(page, cell, control: dict, rel: str, steps: int = 20, seconds: float = 1.0,
         quiet: float = 1.5) -> dict:
    """``steps`` one-step changes spread over ``seconds`` (a drag), then quiet:
    when the last frame was painted after the last input event, how many
    frames were painted in all, and the status line at the end (new explorers
    only)."""
    area = cell.locator(".jp-Cell-outputArea")
    cell.evaluate(ARM_DRAG_JS)
    start = time.monotonic()
    for i in range(steps):  # on a clock: a key press itself takes tens of ms
        time.sleep(max(0.0, start + i * seconds / steps - time.monotonic()))
        _press(page, area, control)
    time.sleep(quiet)
    state = page.evaluate("() => window.__explorerDrag")
    if state["error"] is not None:
        raise DriverError(f"the explorer in {rel} raised during a drag:\n{state['error'][-3000:]}")
    if not state["paints"] or state["lastInput"] is None:
        raise DriverError(f"no frame was painted in {rel} during a drag of {control['label']!r}")
    last_paint = max(state["paints"])
    return {"settle_s": max(0.0, (last_paint - state["lastInput"]) / 1000), "frames": len(state["paints"]),
            "steps": steps, "status": json.loads(state["status"]) if state["status"] else None}


def measure_explorer(page, lab, explorer: Explorer, screenshots: Path | None = None, n_changes: int = 20,
                     warmup: int = 3, folder: str = "notebooks") -> dict:
    """Open the explorer's notebook, run the cells it needs, and time it as a
    student would use it: ``warmup`` one-step changes, then ``n_changes``
    timed ones (input event to new frame painted, each after the previous one
    has settled), then a drag of 20 steps in one second. Screenshots of the
    explorer before and after go to ``screenshots`` (if given)."""
    started = time.monotonic()
    rel, cells = open_notebook(page, lab, explorer, folder)
    profile = None
    for index in explorer.run:
        text = run_cell(page, cells, index, lab, rel)
        profile = profile or re.search(r"Profile\s*: (\w+)", text)
    if profile is not None and profile.group(1) != "fast":
        raise DriverError(f"{rel} runs in the {profile.group(1)} profile")
    ran = time.monotonic() - started
    cell = cells.nth(explorer.cell)
    wait_for_widget(cell, rel)
    settle(lab, rel, cell)
    area = cell.locator(".jp-Cell-outputArea")
    if screenshots:
        area.screenshot(path=f"{screenshots / explorer.name}-before.png")
    control = area.evaluate(FIND_CONTROL_JS)
    if not control:
        raise DriverError(f"the explorer in {rel} has no enabled slider, drop-down or check box")
    height_before = area.bounding_box()["height"]
    latencies = []
    for i in range(warmup + n_changes):
        seconds = change_once(page, cell, control, rel)
        if i >= warmup:
            latencies.append(seconds)
        settle(lab, rel, cell)
    height_after_changes = area.bounding_box()["height"]
    dragged = drag(page, cell, control, rel)
    settle(lab, rel, cell)
    final = status_state(cell)
    if screenshots:
        area.screenshot(path=f"{screenshots / explorer.name}-after.png")
    ordered = sorted(latencies)
    return {"notebook": explorer.name, "function": explorer.function, "control": control,
            "latencies_s": latencies, "median_s": statistics.median(latencies),
            "p95_s": ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)],
            "drag": dragged, "final_status": final, "slider": slider_value(cell),
            "height_px": (height_before, height_after_changes),
            "cells_s": ran, "total_s": time.monotonic() - started}


def status_state(cell) -> dict | None:
    """What the explorer's status line says is on screen (new explorers)."""
    raw = cell.evaluate("(c) => { const s = c.querySelector('.explorer-status'); "
                        "return s ? s.getAttribute('data-state') : null; }")
    return json.loads(raw) if raw else None


def slider_value(cell) -> str | None:
    """The readout of the first enabled slider (what the student reads beside it)."""
    return cell.evaluate("(c) => { const t = c.querySelector('.noUi-target:not([disabled])'); "
                         "const box = t && t.closest('.widget-slider'); "
                         "const r = box && box.querySelector('.widget-readout'); "
                         "return r ? (r.value !== undefined && r.value !== '' ? r.value : r.textContent).trim() : null; }")


# The figure of an explorer: the live image of lecture_utils.explorers, or the
# image in the output widget of the explorers before them (ipywidgets.interactive_output).
FIGURE_SELECTOR = "img.widget-image, .widget-output img"

# Arms the measurement of one control change in the explorer's cell: the time
# of the first input event (keydown, input, change, mousedown) and the time the
# explorer's figure shows an image different from the current one, decoded and
# painted (two animation frames later); or the traceback if the callback fails.
ARM_CHANGE_JS = """(cell) => {
  const figure = () => cell.querySelector('img.widget-image') || cell.querySelector('.widget-output img');
  const area = cell.querySelector('.jp-Cell-outputArea');
  const first = figure();
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
    const text = area.innerText || '';
    if (text.includes('Traceback (most recent call last)')) {
      seen = true; observer.disconnect(); state.error = text; return;
    }
    const img = figure();
    if (!img || !img.src || img.src === state.before) return;
    seen = true; observer.disconnect();
    img.decode().catch(() => null).then(() => requestAnimationFrame(() => requestAnimationFrame(() => {
      state.t1 = performance.now();
    })));
  };
  const observer = new MutationObserver(check);
  observer.observe(area, {subtree: true, childList: true, attributes: true, characterData: true});
}"""

# Arms the measurement of a drag: the time of every input event and of every
# new figure painted, until the page is asked for them.
ARM_DRAG_JS = """(cell) => {
  const figure = () => cell.querySelector('img.widget-image') || cell.querySelector('.widget-output img');
  const area = cell.querySelector('.jp-Cell-outputArea');
  const state = window.__explorerDrag = {lastInput: null, paints: [], error: null, status: null};
  let last = figure() && figure().src;
  ['keydown', 'input', 'change'].forEach(t => document.addEventListener(t, (e) => {
    state.lastInput = e.timeStamp;
  }, true));
  const observer = new MutationObserver(() => {
    const text = area.innerText || '';
    if (text.includes('Traceback (most recent call last)')) state.error = text;
    const s = cell.querySelector('.explorer-status');
    if (s) state.status = s.getAttribute('data-state');
    const img = figure();
    if (!img || !img.src || img.src === last) return;
    last = img.src;
    img.decode().catch(() => null).then(() => requestAnimationFrame(() => requestAnimationFrame(() => {
      state.paints.push(performance.now());
    })));
  });
  observer.observe(area, {subtree: true, childList: true, attributes: true, characterData: true});
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


# ---------------------------------------------------------------------------
# The training explorer: Play, frames, Pause.

def click_button(cell, label: str):
    """Click the explorer's button called ``label`` (Play, Pause, Step, Reset)."""
    cell.locator(".jp-Cell-outputArea button.jupyter-button", has_text=label).first.click()


# Arms a record of what the status line says at the moment of the next click
# in the page (before the button's own handler sends it to the kernel), not
# when Python last read it: Playwright's click takes a while to find, scroll to
# and press the button, and a playing explorer shows frames meanwhile.
ARM_CLICK_JS = """(cell) => {
  window.__clickedState = null;
  document.addEventListener('click', () => {
    const s = cell.querySelector('.explorer-status');
    window.__clickedState = s ? s.getAttribute('data-state') : null;
  }, {capture: true, once: true});
}"""


def click_button_noting_status(page, cell, label: str) -> dict | None:
    """Click the button called ``label``; what the status line said as the click happened."""
    cell.evaluate(ARM_CLICK_JS)
    click_button(cell, label)
    raw = page.evaluate("() => window.__clickedState")
    return json.loads(raw) if raw else None


def measure_training(page, lab, explorer: Explorer, play_s: float = 6.0, paused_s: float = 2.0,
                     screenshots: Path | None = None, folder: str = "notebooks") -> dict:
    """Open the training explorer's notebook, run the cells it needs, press
    Play and count the frames painted for ``play_s`` seconds (from the first
    one), with the step counter of the status line; press Pause: how many
    steps were trained after the click (the frame in training then is
    finished and shown), and whether anything moved in the ``paused_s``
    seconds after that. The page stays open."""
    rel, cells = open_notebook(page, lab, explorer, folder)
    for index in explorer.run:
        run_cell(page, cells, index, lab, rel)
    cell = cells.nth(explorer.cell)
    wait_for_widget(cell, rel)
    settle(lab, rel)
    area = cell.locator(".jp-Cell-outputArea")
    start_state = status_state(cell)
    cell.evaluate(ARM_DRAG_JS)  # records every new figure painted, and the status line
    click_button(cell, "Play")
    wait(lambda: page.evaluate("() => window.__explorerDrag.paints.length") > 0, WIDGET_TIMEOUT_S,
         lambda: f"no frame was painted after Play in {rel}:\n{outputs_text(cell)[-2000:]}")
    first = page.evaluate("() => window.__explorerDrag.paints[0]")
    first_state = status_state(cell)
    time.sleep(play_s)
    state = page.evaluate("() => window.__explorerDrag")
    if state["error"] is not None:
        raise DriverError(f"the training explorer in {rel} raised:\n{state['error'][-3000:]}")
    played = status_state(cell)
    window = [t for t in state["paints"] if t >= first]
    fps = (len(window) - 1) / ((window[-1] - first) / 1000) if len(window) > 1 else 0.0
    if screenshots:
        area.screenshot(path=f"{screenshots / explorer.name}-playing.png")
    clicked = click_button_noting_status(page, cell, "Pause")
    wait(lambda: status_state(cell)["state"] == "paused", CHANGE_TIMEOUT_S,
         lambda: f"the explorer in {rel} did not pause: {status_state(cell)}")
    time.sleep(0.5)  # the frame being trained when Pause came (it is shown, then nothing more)
    paused_at = time.monotonic()
    paused = status_state(cell)
    paints_at_pause = page.evaluate("() => window.__explorerDrag.paints.length")
    time.sleep(paused_s)
    later = status_state(cell)
    return {"notebook": explorer.name, "function": explorer.function, "start": start_state,
            "fps": fps, "frames": len(window), "seconds": (window[-1] - first) / 1000 if window else 0.0,
            "steps": played["step"] - first_state["step"],
            "steps_per_s": (played["step"] - first_state["step"]) / play_s,
            # by the kernel's own counters (the status line of each frame): steps trained per frame drawn
            "steps_per_frame": ((played["step"] - first_state["step"]) / (played["frame"] - first_state["frame"])
                                if played["frame"] > first_state["frame"] else 0.0),
            "played": played, "paused": paused, "after_pause": later,
            "steps_after_click": paused["step"] - clicked["step"],
            "frames_after_pause": page.evaluate("() => window.__explorerDrag.paints.length") - paints_at_pause,
            "paused_for_s": time.monotonic() - paused_at, "rel": rel, "cell": cell}


def close_notebook_tab(page):
    """Close the current notebook's tab in JupyterLab (the kernel stays: by
    default JupyterLab does not shut it down), answering "don't save"."""
    page.locator(".jp-NotebookPanel").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Alt+w")
    dialog = page.locator(".jp-Dialog")
    try:
        dialog.wait_for(timeout=5000)
    except Exception:  # playwright's TimeoutError: closed without asking
        return
    dialog.locator("button", has_text=re.compile("Discard|Don.t save", re.I)).first.click()


def kernel_says(lab, rel: str, code: str, timeout: float = 60) -> str:
    """Run ``code`` in the kernel of the notebook ``rel`` (from outside the
    page, as a second client of that kernel); what it printed."""
    from jupyter_client import BlockingKernelClient

    sessions = [s for s in lab.api("GET", "/api/sessions") if s.get("path") == rel and s.get("kernel")]
    if not sessions:
        raise DriverError(f"no kernel for {rel}: the sessions are {lab.api('GET', '/api/sessions')}")
    client = BlockingKernelClient(connection_file=str(lab.runtime / f"kernel-{sessions[0]['kernel']['id']}.json"))
    client.load_connection_file()
    client.start_channels()
    try:
        wait_until_connected(client, timeout)
        status, out = run_code(client, code, timeout)
    finally:
        client.stop_channels()
    if status != "ok":
        raise DriverError(f"{code!r} failed in the kernel of {rel}:\n{out}")
    return out


def wait_until_connected(client, timeout: float = 60) -> None:
    """The first part of ``jupyter_client``'s ``wait_for_ready``: the kernel
    answers ``kernel_info`` on the shell channel and a message comes on IOPub
    (it is connected). Not its last part: it then drains IOPub until 0.2 s pass
    without a message, which may not happen for a long while when an explorer
    plays (about 10 frames a second, each several messages): 41-44 s a call was
    measured. ``execute_interactive`` skips the messages that are not its own,
    so nothing needs draining."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client.kernel_info()
        try:
            reply = client.get_shell_msg(timeout=1)
        except queue.Empty:
            continue
        if reply["msg_type"] != "kernel_info_reply":
            continue
        try:
            client.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            continue
        return
    raise DriverError(f"the kernel did not answer kernel_info within {timeout:.0f} s")


def run_code(client, code: str, timeout: float = 60) -> tuple[str, str]:
    """Execute ``code`` through a started ``jupyter_client`` client: the
    reply's status (``ok``, ``error``) and what the code printed, tracebacks included."""
    out = []
    reply = client.execute_interactive(code, timeout=timeout, output_hook=lambda msg: out.append(
        msg["content"].get("text", "") if msg["msg_type"] == "stream" else
        "\n".join(msg["content"].get("traceback", [])) if msg["msg_type"] == "error" else ""))
    return reply["content"]["status"], "".join(out)


# ---------------------------------------------------------------------------
# Keyboard and screen reader (lecture_utils/explorers/access.py).

# Marks every control of the explorer a keyboard user must reach (data-walk="i")
# and says what each is; the presets are buttons like the others.
MARK_CONTROLS_JS = """(cell) => {
  const box = cell.querySelector('.lecture-explorer');
  const found = [...box.querySelectorAll(
    'select, .noUi-handle, input, button, .jupyter-widget-Collapse-header')];
  const controls = found.filter((e) => !(e.disabled || e.closest('.noUi-target[disabled]')
                                          || e.closest('[style*="display: none"]')));
  controls.forEach((e, i) => e.setAttribute('data-walk', String(i)));
  return controls.length;
}"""

# What has the focus: inside the explorer or not, which control (data-walk),
# its kind and accessible name as the access piece or the page gives it.
FOCUSED_JS = """(cell) => {
  const a = document.activeElement;
  const box = cell.querySelector('.lecture-explorer');
  const inside = !!(a && box.contains(a));
  let kind = a ? a.tagName.toLowerCase() : '';
  if (a && a.classList.contains('noUi-handle')) kind = 'slider';
  else if (a && a.classList.contains('jupyter-widget-Collapse-header')) kind = 'accordion';
  else if (a && a.tagName === 'INPUT') kind = a.type === 'checkbox' ? 'checkbox' : 'text';
  let name = a ? (a.getAttribute('aria-label') || '') : '';
  if (!name && a && a.labels && a.labels.length) name = a.labels[0].textContent.trim();
  if (!name && a) name = (a.textContent || a.getAttribute('title') || '').trim();
  const active = [...document.querySelectorAll('.jp-Notebook .jp-Cell')].findIndex(
    (c) => c.classList.contains('jp-mod-active'));
  // at the end of its range, a step goes the other way
  const atEnd = !!a && ((kind === 'slider' && a.getAttribute('aria-valuenow') === a.getAttribute('aria-valuemax'))
                        || (kind === 'select' && a.selectedIndex === a.options.length - 1));
  return {inside, walk: a && a.getAttribute('data-walk'), kind, name, atEnd,
          value: a ? (a.value ?? a.getAttribute('aria-valuetext') ?? a.getAttribute('aria-expanded')) : null,
          checked: a && a.type === 'checkbox' ? a.checked : null, activeCell: active,
          alt: (box.querySelector('img') || {}).alt || ''};
}"""

# the key that changes a control of each kind by one step (a text field: a number)
STEP_KEY = {"select": "ArrowDown", "slider": "ArrowRight", "checkbox": "Space", "text": "ArrowUp",
            "accordion": "Enter"}


def keyboard_walk(page, lab, rel: str, cell, explorer_cell: int, limit: int = 80) -> dict:
    """Drive the explorer in ``cell`` by keyboard alone: focus its first control,
    then Tab from control to control; on each (presets excepted: a click would
    replace every value) press the key that changes it by one step, wait for the
    explorer, and record what changed. Returns ``{"controls": n, "reached":
    [...], "changes": [...]}``: each change says whether the control kept the
    focus, whether JupyterLab's active cell stayed the explorer's (command mode
    did not take the key), and the figure's text alternative before and after."""
    n = cell.evaluate(MARK_CONTROLS_JS)
    # the training explorer's status says "training", never "exact": wait for the kernel only
    watched = None if (status_state(cell) or {}).get("kind") == "training" else cell
    cell.evaluate("(cell) => cell.querySelector('[data-walk=\"0\"]').focus()")
    reached, changes = [], []
    for _ in range(limit):
        here = cell.evaluate(FOCUSED_JS)
        if not here["inside"]:
            break
        reached.append(here)
        key = STEP_KEY.get(here["kind"])
        if here["atEnd"]:
            key = {"ArrowDown": "ArrowUp", "ArrowRight": "ArrowLeft"}[key]
        if key is not None and here["walk"] is not None:
            page.keyboard.press(key)
            settle(lab, rel, watched, quiet=0.3)
            after = cell.evaluate(FOCUSED_JS)
            changes.append({"kind": here["kind"], "name": here["name"], "before": here, "after": after,
                            "kept_focus": after["walk"] == here["walk"],
                            "stayed_in_cell": after["activeCell"] in (explorer_cell, -1)})
        page.keyboard.press("Tab")
    return {"controls": n, "reached": reached, "changes": changes}


def lab_axe(page, cell) -> tuple[list, list]:
    """axe-core's WCAG 2.0/2.1 A and AA violations: ``(in the explorer's output,
    in the rest of the page)``, each ``(rule id, CSS target)`` per element."""
    cell.evaluate("(cell) => cell.querySelector('.jp-Cell-outputArea').setAttribute('data-axe', 'explorer')")
    return lab_axe_page(page, "[data-axe=explorer]")


def lab_axe_page(page, part: str | None = None) -> tuple[list, list]:
    """axe-core's WCAG 2.0/2.1 A and AA violations (static_pages.load_axe):
    ``(in the elements matching the CSS selector ``part``, in the rest of the
    page)``, each ``(rule id, CSS target)``."""
    from static_pages import AXE_OPTIONS, load_axe

    load_axe(page)
    flat = lambda result: [(v["id"], " ".join(map(str, node["target"])))  # noqa: E731
                           for v in result["violations"] for node in v["nodes"]]
    ours = flat(page.evaluate("([part, o]) => axe.run(part, o)", [part, AXE_OPTIONS])) if part else []
    everything = flat(page.evaluate("o => axe.run(document, o)", AXE_OPTIONS))
    return ours, [v for v in everything if v not in ours]
