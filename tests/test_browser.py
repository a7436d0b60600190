"""The explorers in a real browser: JupyterLab driven by headless Chromium.

For every notebook in notebooks/ with an explorer cell (a code cell calling
``explore_…(``, found by scanning, so new notebooks are picked up), the test
opens the notebook in JupyterLab, runs the cells the explorer needs, waits for
the widget and its figure, changes one control a few times and checks that the
figure is redrawn each time, timing it. Screenshots of each explorer before and
after the changes go to build/screenshots/ (git-ignored).

One JupyterLab server (on a copy of the notebooks: nothing is saved to the
committed ones) and one browser serve the whole module; both are always
stopped. Needs Debian's ``chromium`` (``apt-get install chromium``; .ci/run
installs it) and Playwright for Python (the ``dev`` extra); it downloads no
browser. Set CHROMIUM to use another Chromium binary, and
BROWSER_TESTS_ALL_CELLS=1 to run every cell above an explorer instead of only
those it needs.
"""
import os
import re
import shutil
import statistics
import time
from pathlib import Path

import nbformat
import pytest

from jupyterlab_driver import (ARM_CHANGE_JS, FIND_CONTROL_JS, TRACEBACK, Explorer, LabServer,
                               cells_needed, find_explorers)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SCREENSHOTS = ROOT / "build" / "screenshots"
EXPLORERS = find_explorers(NOTEBOOKS, all_cells_above=os.environ.get("BROWSER_TESTS_ALL_CELLS") == "1")

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1600, "height": 1200}
PAGE_TIMEOUT_S = 60      # JupyterLab loads, the kernel starts
CELL_TIMEOUT_S = 300     # one cell runs
WIDGET_TIMEOUT_S = 60    # the explorer and its first figure appear
CHANGE_TIMEOUT_S = 30    # the figure is redrawn after a control change
N_CHANGES = 3
LATENCY_GOAL_S = 0.5     # reported
LATENCY_LIMIT_S = 3.0    # asserted, on the median: a slow CI machine still passes

INSTALL_HINT = ("The browser tests need Debian's Chromium: `sudo apt-get install chromium` "
                "(.ci/run installs it), or set CHROMIUM=/path/to/chromium.")


def _chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"Chromium not found at {path}. {INSTALL_HINT}", pytrace=False)
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium with a fresh profile, one for the module, always closed."""
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is missing: `.venv/bin/pip install -e \".[dev,jax]\"` "
                    f"(it needs no browser download). {INSTALL_HINT}", pytrace=False)
    playwright = sync_playwright().start()
    context = None
    try:
        try:
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path_factory.mktemp("chromium-profile")), executable_path=executable,
                headless=True, args=CHROMIUM_ARGS, viewport=VIEWPORT, timeout=60_000)
        except Exception as e:
            pytest.fail(f"Chromium ({executable}) did not start: {e}\n{INSTALL_HINT}", pytrace=False)
        context.set_default_timeout(PAGE_TIMEOUT_S * 1000)
        yield context
    finally:
        if context is not None:
            try:
                context.close()
            except Exception:
                pass
        playwright.stop()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One JupyterLab server for the module, on a copy of notebooks/; always stopped."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    with LabServer(NOTEBOOKS, tmp_path_factory.mktemp("jupyterlab")) as server:
        yield server


def test_the_notebooks_have_explorers():
    assert EXPLORERS, f"no cell calls explore_…( in {NOTEBOOKS}"


# -- the browser test ---------------------------------------------------------------

def _wait(condition, timeout: float, what, interval: float = 0.2):
    """Poll ``condition()`` until it returns something truthy; fail after
    ``timeout`` s with ``what()``, the state at that moment."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s: {what()}", pytrace=False)
        time.sleep(interval)


def _outputs_text(cell) -> str:
    return cell.locator(".jp-Cell-outputArea").inner_text()


def _open(page, lab, explorer: Explorer):
    rel = f"{NOTEBOOKS.name}/{explorer.notebook.name}"
    page.goto(f"{lab.url}/lab/workspaces/browser-test-{explorer.name}/tree/{rel}?token={lab.token}")
    n_cells = len(nbformat.read(lab.root / rel, as_version=4).cells)  # the copy it serves
    cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    _wait(lambda: cells.count() == n_cells, PAGE_TIMEOUT_S,
          lambda: f"JupyterLab did not show the {n_cells} cells of {rel} (shows {cells.count()})")
    _wait(lambda: lab.kernel_state(rel) == "idle", PAGE_TIMEOUT_S,
          lambda: f"the kernel of {rel} did not start (state {lab.kernel_state(rel)!r})\n{lab.log_tail()}")
    return rel, cells


def _run(page, cells, index: int, lab, rel: str):
    cell = cells.nth(index)
    cell.locator(".jp-InputPrompt").first.click()
    page.keyboard.press("Control+Enter")
    prompt = cell.locator(".jp-InputPrompt").first
    _wait(lambda: re.fullmatch(r"\[\d+\]:", prompt.inner_text().strip()), CELL_TIMEOUT_S,
          lambda: f"cell {index} of {rel} did not finish (prompt {prompt.inner_text().strip()!r}, "
                  f"kernel {lab.kernel_state(rel)!r})\n{lab.log_tail()}")
    text = _outputs_text(cell)
    if TRACEBACK in text:
        pytest.fail(f"cell {index} of {rel} shows a traceback:\n{text[-3000:]}", pytrace=False)
    profile = re.search(r"Profile\s*: (\w+)", text)
    assert profile is None or profile.group(1) == "fast", f"{rel} runs in the {profile.group(1)} profile"


def _wait_for_widget(cell, rel: str):
    def rendered():
        text = _outputs_text(cell)
        if "Error displaying widget" in text or TRACEBACK in text:
            pytest.fail(f"the explorer in {rel} failed to render:\n{text[-3000:]}", pytrace=False)
        if "Loading widget" in text:
            return False
        return cell.locator(".widget-output img").count() > 0

    _wait(rendered, WIDGET_TIMEOUT_S,
          lambda: f"the explorer in {rel} did not show its figure; its output reads:\n"
                  f"{_outputs_text(cell)[-2000:]!r}")


def _settle(lab, rel: str):
    """Wait until the kernel has handled every message (the redraw is done)."""
    _wait(lambda: lab.kernel_state(rel) == "idle", CHANGE_TIMEOUT_S,
          lambda: f"the kernel of {rel} stays {lab.kernel_state(rel)!r}")
    time.sleep(0.2)


def _change(page, cell, control: dict, rel: str) -> float:
    """Change ``control`` once; return the seconds until the new figure is on screen."""
    area = cell.locator(".jp-Cell-outputArea")
    cell.evaluate(ARM_CHANGE_JS)
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
    try:
        page.wait_for_function("() => window.__explorerChange.t1 !== null || window.__explorerChange.error !== null",
                               timeout=CHANGE_TIMEOUT_S * 1000)
        changed = True
    except Exception:  # playwright's TimeoutError
        changed = False
    if not changed:
        pytest.fail(f"the figure in {rel} did not change within {CHANGE_TIMEOUT_S} s after "
                    f"{control['kind']} {control['label']!r} changed; the explorer reads:\n"
                    f"{_outputs_text(cell)[-2000:]}", pytrace=False)
    state = page.evaluate("() => window.__explorerChange")
    if state["error"] is not None:
        pytest.fail(f"the explorer in {rel} raised after {control['kind']} {control['label']!r} changed:\n"
                    f"{state['error'][-3000:]}", pytrace=False)
    assert state["t0"] is not None, f"no input event reached the page for {control['label']!r}"
    return (state["t1"] - state["t0"]) / 1000


@pytest.mark.parametrize("explorer", EXPLORERS, ids=lambda e: e.name if sum(
    x.notebook == e.notebook for x in EXPLORERS) == 1 else f"{e.name}-cell{e.cell}")
def test_explorer_redraws_in_jupyterlab(explorer, browser, lab, capsys):
    started = time.monotonic()
    page = browser.new_page()
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    shot = SCREENSHOTS / explorer.name
    try:
        rel, cells = _open(page, lab, explorer)
        for index in explorer.run:
            _run(page, cells, index, lab, rel)
        ran = time.monotonic() - started
        cell = cells.nth(explorer.cell)
        _wait_for_widget(cell, rel)
        _settle(lab, rel)
        area = cell.locator(".jp-Cell-outputArea")
        area.screenshot(path=f"{shot}-before.png")
        control = area.evaluate(FIND_CONTROL_JS)
        assert control, f"the explorer in {rel} has no enabled slider, drop-down or check box"
        latencies = []
        for _ in range(N_CHANGES):
            latencies.append(_change(page, cell, control, rel))
            _settle(lab, rel)
        area.screenshot(path=f"{shot}-after.png")
    except BaseException:
        try:
            page.screenshot(path=f"{shot}-failure.png")
            print(f"screenshot of the page: {shot}-failure.png")
        except Exception:
            pass
        if console_errors:
            print("browser console errors:\n  " + "\n  ".join(console_errors[-10:]))
        raise
    finally:
        page.close()
        lab.shutdown_kernels()
    median = statistics.median(latencies)
    with capsys.disabled():
        print(f"\n[browser] {explorer.name}: {explorer.function}, {control['kind']} {control['label']!r} "
              f"changed {N_CHANGES}x, figure redrawn in {' / '.join(f'{t:.2f}' for t in latencies)} s, "
              f"median {median:.2f} s (goal {LATENCY_GOAL_S} s: {'met' if median < LATENCY_GOAL_S else 'MISSED'}); "
              f"ran cells {list(explorer.run)} in {ran:.1f} s, {time.monotonic() - started:.1f} s in all; "
              f"screenshots: {shot.relative_to(ROOT)}-{{before,after}}.png in {SCREENSHOTS.relative_to(ROOT)}/")
    assert median < LATENCY_LIMIT_S, f"median redraw {median:.2f} s (limit {LATENCY_LIMIT_S} s)"


# -- which cells an explorer needs (no browser) ------------------------------------------

def test_cells_needed_follow_the_names_the_explorer_reads():
    from nbformat.v4 import new_code_cell, new_markdown_cell

    cells = [
        new_markdown_cell("# title"),
        new_code_cell("PROFILE = setup_notebook(seed=42)"),                  # 1: set-up, always
        new_code_cell("import numpy as np\ndata = load(PROFILE)\nX = data.X"),  # 2: binds X
        new_code_cell("model = train(X)\nfor i in range(3):\n    slow()"),  # 3: not needed
        new_code_cell("X_small = X[:256]"),                                  # 4: binds X_small
        new_code_cell("X_small[0] = 0"),                                     # 5: mutates it
        new_code_cell("X_small = np.zeros(3)\nunused = 1") ,                 # 6: rebinds it
        new_code_cell("%matplotlib inline"),                                 # 7: a magic
        new_code_cell("def f(:"),                                            # 8: does not parse
        new_code_cell("other = 2"),                                          # 9: not needed
        new_code_cell("from lecture_utils.widgets import explore_x\nexplore_x(X_small)"),
    ]
    # 6 rebinds X_small from np: 4 and 5 are dead, 2 is needed for np (and binds X)
    assert cells_needed(cells, 10) == (1, 2, 6, 7, 8, 10)
    assert cells_needed(cells, 10, all_cells_above=True) == (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
    cells[6] = new_code_cell("if True:\n    X_small = np.zeros(3)")          # conditional: 4, 5 stay
    assert cells_needed(cells, 10) == (1, 2, 4, 5, 6, 7, 8, 10)
