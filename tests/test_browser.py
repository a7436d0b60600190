"""The explorers in a real browser: JupyterLab driven by headless Chromium.

For every notebook in notebooks/ with an explorer cell (a code cell calling
``explore_…(``, found by scanning, so new notebooks are picked up), the test
opens the notebook in JupyterLab, runs the cells the explorer needs, waits for
the widget and its figure, then changes one control 3 + 20 times (one step:
an arrow key on the focused slider, or the next option of a drop-down) and
times each of the last 20 from the input event to the new figure painted;
then drags it over 20 steps in a second and times the last frame after the
last step. Screenshots of each explorer before and after go to
build/screenshots/ (git-ignored). ``benchmarks/browser_latency.py`` runs the
same measurement on this tree and on the explorers before they were rebuilt.

One JupyterLab server (on a copy of the notebooks: nothing is saved to the
committed ones) and one browser serve the whole module; both are always
stopped. Needs Debian's ``chromium`` (``apt-get install chromium``; .ci/run
installs it) and Playwright for Python (the ``dev`` extra); it downloads no
browser. Set CHROMIUM to use another Chromium binary, and
BROWSER_TESTS_ALL_CELLS=1 to run every cell above an explorer instead of only
those it needs.
"""
import json
import os
import time
from pathlib import Path

import pytest

from jupyterlab_driver import (EXPLORER_CALL, LabServer, cells_needed, close_notebook_tab,
                               find_explorers, kernel_says, keyboard_walk, lab_axe, lab_axe_page,
                               measure_explorer,
                               measure_training, status_state)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SCREENSHOTS = ROOT / "build" / "screenshots"
ALL_EXPLORERS = find_explorers(NOTEBOOKS, all_cells_above=os.environ.get("BROWSER_TESTS_ALL_CELLS") == "1")
# the training explorer trains while Play is on: it has a test of its own (frames per second, Pause)
EXPLORERS = [e for e in ALL_EXPLORERS if e.function != "explore_training"]
TRAINING = [e for e in ALL_EXPLORERS if e.function == "explore_training"]

N_CHANGES = 20
TARGET_MEDIAN_S = 0.15   # the target (benchmarks/, REPORT.md), on the 2-core machine
TARGET_P95_S = 0.25
LIMIT_S = 0.5            # asserted, on the median and p95: a noisy CI machine still passes
SETTLE_TARGET_S = 0.3    # a drag ends with the figure of its last value within this
SETTLE_LIMIT_S = 1.0
TARGET_FPS = 5.0         # the training explorer: frames a second while playing (10 x 100 network)
FPS_LIMIT = 2.5          # asserted: half the target (CI's machine once played at 4.2, this one at 7.9-9.3)
MIN_STEPS_PER_FRAME = 20


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One JupyterLab server for the module, on a copy of notebooks/; always stopped."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        if not old.name.startswith("site-"):  # tests/test_site.py's
            old.unlink()
    with LabServer(NOTEBOOKS, tmp_path_factory.mktemp("jupyterlab")) as server:
        yield server


def test_the_notebooks_have_explorers():
    assert EXPLORERS, f"no cell calls explore_…( in {NOTEBOOKS}"


# -- the browser test ---------------------------------------------------------------

def _verdict(value, target):
    return "met" if value <= target else "MISSED"


@pytest.mark.timing
@pytest.mark.parametrize("explorer", EXPLORERS, ids=lambda e: e.name if sum(
    x.notebook == e.notebook for x in EXPLORERS) == 1 else f"{e.name}-cell{e.cell}")
def test_explorer_answers_on_screen(explorer, browser, lab, capsys):
    page = browser.new_page()
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    shot = SCREENSHOTS / explorer.name
    try:
        m = measure_explorer(page, lab, explorer, SCREENSHOTS, n_changes=N_CHANGES)
        access = check_access(page, lab, explorer)   # after the timing: it changes every control
    except BaseException as e:
        try:
            page.screenshot(path=f"{shot}-failure.png")
            print(f"screenshot of the page: {shot}-failure.png")
        except Exception:
            pass
        if console_errors:
            print("browser console errors:\n  " + "\n  ".join(console_errors[-10:]))
        if isinstance(e, AssertionError):
            pytest.fail(str(e), pytrace=False)
        raise
    finally:
        page.close()
        lab.shutdown_kernels()
    drag = m["drag"]
    with capsys.disabled():
        print(f"\n[browser] {explorer.name}: {explorer.function}, {m['control']['kind']} "
              f"{m['control']['label']!r} changed {N_CHANGES}x one step: median {m['median_s']:.3f} s "
              f"(target {TARGET_MEDIAN_S}: {_verdict(m['median_s'], TARGET_MEDIAN_S)}), "
              f"p95 {m['p95_s']:.3f} s (target {TARGET_P95_S}: {_verdict(m['p95_s'], TARGET_P95_S)}), "
              f"max {max(m['latencies_s']):.3f} s; drag of {drag['steps']} steps in 1 s: last frame "
              f"{drag['settle_s']:.3f} s after the last step (target {SETTLE_TARGET_S}: "
              f"{_verdict(drag['settle_s'], SETTLE_TARGET_S)}), {drag['frames']} frames painted; "
              f"cells ran in {m['cells_s']:.1f} s, {m['total_s']:.1f} s in all; screenshots: "
              f"{shot.relative_to(ROOT)}-{{before,after}}.png")
    assert m["median_s"] <= LIMIT_S, f"median {m['median_s']:.3f} s (limit {LIMIT_S} s): {m['latencies_s']}"
    assert m["p95_s"] <= LIMIT_S, f"p95 {m['p95_s']:.3f} s (limit {LIMIT_S} s): {m['latencies_s']}"
    assert drag["settle_s"] <= SETTLE_LIMIT_S, f"the drag settled {drag['settle_s']:.3f} s after its last step"
    # the drag ended on the figure of the control's final value, exactly computed
    final = m["final_status"]
    assert final is not None and final["kind"] == "exact", final
    if m["control"]["kind"] == "slider":
        shown = str(final["values"][_slider_name(explorer, m["control"]["label"])])
        assert float(shown) == pytest.approx(float(m["slider"]), rel=1e-2, abs=1e-2), (final, m["slider"])
    assert drag["frames"] <= drag["steps"] + 2, f"{drag['frames']} frames for {drag['steps']} steps: a backlog"
    before, after = m["height_px"]
    if final is not None:  # the new explorers: the page does not jump when the figure changes
        assert abs(after - before) <= 2, f"the explorer's height went from {before} to {after} px"
    with capsys.disabled():
        print(f"[access] {explorer.name}: {access['said']}")
    assert not access["failures"], "\n".join(access["failures"])


# -- keyboard and screen reader (lecture_utils/explorers/access.py) ------------------

KNOWN_LAB_VIOLATIONS = json.loads((ROOT / "tests" / "a11y_jupyterlab_known.json").read_text())["known"]


def _not_known(violations) -> list:
    """The ``(rule, target)`` violations that tests/a11y_jupyterlab_known.json does not list."""
    return [(rule, target) for rule, target in violations if not any(
        k["rule"] == rule and k["element"] in target for k in KNOWN_LAB_VIOLATIONS)]

# what a screen reader is given beside the controls: the slider handles' names and values as
# the readouts show them (a log slider's 0.050, not its exponent), and the status line's role
ACCESS_STATE_JS = """(cell) => {
  const box = cell.querySelector('.lecture-explorer');
  const sliders = [...box.querySelectorAll('.widget-slider')].map((s) => {
    const h = s.querySelector('.noUi-handle');
    const r = s.querySelector('.widget-readout');
    return {label: h.getAttribute('aria-label'), valuetext: h.getAttribute('aria-valuetext'),
            readout: r ? r.textContent.trim() : null};
  });
  const status = box.querySelector('.explorer-status').closest('.widget-html');
  return {sliders, status: [status.getAttribute('role'), status.getAttribute('aria-live')]};
}"""


def check_access(page, lab, explorer, cell=None) -> dict:
    """The explorer, open in ``page``, for a keyboard and a screen reader: axe-core
    finds no WCAG 2.0/2.1 A or AA violation in its output, and none in the rest of
    JupyterLab beyond tests/a11y_jupyterlab_known.json; a keyboard-only walk
    (Tab from its first control) reaches every enabled control, each with a name,
    and changes each (presets aside) with a key, the control keeping the focus
    and JupyterLab staying on the explorer's cell; the figure's text alternative
    follows the changes; the sliders say their values as their readouts do; the
    status line is a polite live region. Returns ``{"said": ..., "failures": [...]}``."""
    rel = f"notebooks/{explorer.notebook.name}"
    cell = cell or page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(explorer.cell)
    failures = []
    ours, rest = lab_axe(page, cell)
    failures += [f"axe, in the explorer: {rule} on {target}" for rule, target in ours]
    unknown = _not_known(rest)
    failures += [f"axe, in JupyterLab (not in tests/a11y_jupyterlab_known.json): {rule} on {target}"
                 for rule, target in unknown]
    alt_before = cell.evaluate("(c) => c.querySelector('.lecture-explorer img').alt")
    walk = keyboard_walk(page, lab, rel, cell, explorer.cell)
    reached = {r["walk"] for r in walk["reached"] if r["walk"] is not None}
    missed = cell.evaluate("""(c) => [...c.querySelectorAll('[data-walk]')].filter((e) =>
        !(e.disabled || e.closest('.noUi-target[disabled]'))).map((e) => e.getAttribute('data-walk'))""")
    missed = sorted(set(missed) - reached, key=int)
    if missed:
        failures.append(f"Tab never reached the enabled controls {missed} of {walk['controls']}")
    for r in walk["reached"]:
        if not r["name"]:
            failures.append(f"a {r['kind']} without an accessible name")
    for c in walk["changes"]:
        before, after = c["before"], c["after"]
        changed = (before["value"], before["checked"]) != (after["value"], after["checked"])
        if not (c["kept_focus"] and c["stayed_in_cell"] and changed):
            failures.append(f"{c['kind']} {c['name']!r} by keyboard: value {before['value']!r} -> "
                            f"{after['value']!r}, kept the focus: {c['kept_focus']}, JupyterLab stayed on the "
                            f"explorer's cell: {c['stayed_in_cell']}")
    kinds = {c["kind"] for c in walk["changes"]}
    alt_after = cell.evaluate("(c) => c.querySelector('.lecture-explorer img').alt")
    if len(alt_before) < 40 or alt_after == alt_before:
        failures.append(f"the figure's text alternative did not follow the changes: {alt_before!r} -> {alt_after!r}")
    state = cell.evaluate(ACCESS_STATE_JS)
    for slider in state["sliders"]:
        if not slider["label"] or slider["valuetext"] != slider["readout"]:
            failures.append(f"a slider's handle says {slider}")
    if state["status"] != ["status", "polite"]:
        failures.append(f"the status line's role and aria-live are {state['status']}")
    said = (f"axe: {len(ours)} violations in the explorer, {len(rest)} in JupyterLab (known: "
            f"{len(rest) - len(unknown)}); Tab reached {len(reached)} of {walk['controls']} controls, "
            f"changed {len(walk['changes'])} by keyboard ({', '.join(sorted(kinds))}); alt now: {alt_after[:90]}…")
    return {"said": said, "failures": failures}


def test_the_training_explorer_exists():
    assert TRAINING, f"no cell calls explore_training( in {NOTEBOOKS}"


# what the kernel is doing, asked from outside the page (quickly: the kernel's main thread
# is the one that handles the page's ticks)
TRAINING_STATE = """
import threading
from lecture_utils.explorers import training
print("STATE", [(e.playing, e.run.step) for e in list(training._PLAYING)],
      [t.name for t in threading.enumerate()].count(training.TrainingExplorer.thread_name))
"""


def _training_state(lab, rel) -> tuple[list, int]:
    """``([(playing, step) of each explorer that played], live training threads)`` in the kernel of ``rel``."""
    import ast

    said = kernel_says(lab, rel, TRAINING_STATE)
    line = next((l for l in said.splitlines() if l.startswith("STATE ")), None)
    assert line is not None, f"the kernel said: {said!r}"
    explorers, threads = line[len("STATE "):].rsplit(" ", 1)
    return ast.literal_eval(explorers), int(threads)


@pytest.mark.timing
@pytest.mark.parametrize("explorer", TRAINING, ids=lambda e: e.name)
def test_training_explorer_plays_pauses_and_stops_with_the_page(explorer, browser, lab, capsys):
    """Play: the step counter advances by at least 20 steps a frame and the
    figure is repainted (target 5 frames a second for a 10 x 100 network,
    asserted at half that: these machines are noisy); Pause:
    nothing moves any more; Play again and close the notebook's tab (the
    kernel stays): training stops and its thread ends."""
    page = browser.new_page()
    try:
        m = measure_training(page, lab, explorer, screenshots=SCREENSHOTS)
        cell, rel = m["cell"], m["rel"]
        with capsys.disabled():
            print(f"\n[browser] {explorer.name}: {explorer.function} playing {m['seconds']:.1f} s: "
                  f"{m['fps']:.1f} frames/s (target {TARGET_FPS}: {_verdict(-m['fps'], -TARGET_FPS)}), "
                  f"{m['steps']} steps = {m['steps_per_s']:.0f} steps/s, {m['steps_per_frame']:.0f} "
                  f"steps per frame; Pause: {m['steps_after_click']} steps after the click, then "
                  f"{m['frames_after_pause']} frames and step {m['paused']['step']} -> {m['after_pause']['step']} "
                  f"in {m['paused_for_s']:.1f} s")
        start = m["start"]["values"]
        assert (start["depth"], start["width"]) == (10, 100), start  # the network the target is for
        assert m["steps"] > 0 and m["steps_per_frame"] >= MIN_STEPS_PER_FRAME, m
        assert m["fps"] >= FPS_LIMIT, f"{m['fps']:.1f} frames a second while playing (target {TARGET_FPS})"
        # Pause stops within a frame: the one in training when the click came (the status line, as
        # the page showed it at the click, may be one frame behind the kernel), then nothing moves
        assert m["steps_after_click"] <= 2 * MIN_STEPS_PER_FRAME, m
        assert m["after_pause"]["step"] == m["paused"]["step"] and m["frames_after_pause"] == 0, m
        access = check_access(page, lab, explorer, cell)   # every control changed: a new run, paused
        with capsys.disabled():
            print(f"[access] {explorer.name}: {access['said']}")
        assert not access["failures"], "\n".join(access["failures"])
        # Play again, by keyboard: the focus goes to Pause (Play disables itself), not to the page;
        # then close the notebook: the page stops ticking, the kernel stops training
        cell.locator(".jp-Cell-outputArea button.jupyter-button", has_text="Play").first.focus()
        page.keyboard.press("Enter")
        time.sleep(1.5)
        assert status_state(cell)["state"] == "playing"
        focused = page.evaluate("() => document.activeElement.textContent.trim()")
        assert focused == "Pause", f"after Play by keyboard the focus is on {focused!r}, not on Pause"
        before, _ = _training_state(lab, rel)
        time.sleep(1.0)
        playing, threads = _training_state(lab, rel)
        assert [p for p, _ in playing] == [True] and playing != before and threads == 1, (before, playing)
        close_notebook_tab(page)
        time.sleep(training_stop_s())
        before, _ = _training_state(lab, rel)
        time.sleep(1.0)
        after, threads = _training_state(lab, rel)
        assert [p for p, _ in after] == [False] and after == before and threads == 0, (before, after, threads)
    finally:
        page.close()
        lab.shutdown_kernels()


def training_stop_s() -> float:
    """How long after the page goes the kernel has stopped training and its thread has ended."""
    from lecture_utils.explorers import training

    return training.HEARTBEAT_S + training.IDLE_EXIT_S + 2.0


def _slider_name(explorer, label: str) -> str:
    """The control behind a slider's label (as the explorer's status line names it)."""
    names = {"depth": "depth", "scale": "scale", "α / β": "parameter", "α": "parameter", "β": "parameter",
             "batch size": "batch_size", "∂L/∂w₁": "g1", "layers reused from A": "n_reused"}
    if label not in names:
        pytest.fail(f"{explorer.name}: which control is the slider {label!r}? Add it to _slider_name.")
    return names[label]


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
        new_code_cell("from lecture_utils.explorers import explore_x\nexplore_x(X_small)"),
    ]
    # 6 rebinds X_small from np: 4 and 5 are dead, 2 is needed for np (and binds X)
    assert cells_needed(cells, 10) == (1, 2, 6, 7, 8, 10)
    assert cells_needed(cells, 10, all_cells_above=True) == (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
    cells[6] = new_code_cell("if True:\n    X_small = np.zeros(3)")          # conditional: 4, 5 stay
    assert cells_needed(cells, 10) == (1, 2, 4, 5, 6, 7, 8, 10)


# -- the committed notebooks as HTML, offline --------------------------------------------

COMMITTED = sorted({e.notebook for e in ALL_EXPLORERS})


@pytest.mark.parametrize("notebook", COMMITTED, ids=lambda p: p.stem)
def test_the_html_export_shows_each_explorer_picture_offline(notebook, browser, tmp_path):
    """The HTML export of a committed notebook (``jupyter nbconvert --to
    html``'s exporter, with its defaults, in this process: no interpreter to
    start for each notebook), opened in Chromium with every request off the
    file itself refused: each explorer cell shows its picture (an image that
    loaded), and nothing asks for the widgets' JavaScript."""
    import nbformat
    from nbconvert import HTMLExporter

    html = tmp_path / f"{notebook.stem}.html"
    body, _ = HTMLExporter().from_filename(str(notebook))
    html.write_text(body, encoding="utf-8")
    cells = nbformat.read(notebook, as_version=4).cells
    explorer_cells = [c for c in cells if c.cell_type == "code" and EXPLORER_CALL.search(c.source)]
    page = browser.new_page()
    asked = []
    page.route("**/*", lambda route: (asked.append(route.request.url), route.abort())
               if not route.request.url.startswith("file://") else route.continue_())
    try:
        page.goto(html.as_uri())
        page.wait_for_load_state("load")
        # the explorer cells' outputs: the cells whose source calls explore_…(
        alts = page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea img')].map(i => i.alt)")
        found = page.evaluate("""() => [...document.querySelectorAll('.jp-CodeCell')]
            .filter(c => /explore_\\w+\\(/.test(c.querySelector('.jp-InputArea')?.innerText || ''))
            .map(c => [...c.querySelectorAll('.jp-OutputArea img')].map(i => [i.complete, i.naturalWidth]))""")
        page.screenshot(path=str(SCREENSHOTS / f"{notebook.stem}-html.png"), full_page=False)
    finally:
        page.close()
    assert len(found) == len(explorer_cells), f"{len(found)} explorer cells in the HTML, {len(explorer_cells)} in the notebook"
    for images in found:
        assert images and all(done and width > 0 for done, width in images), f"an explorer without its picture: {images}"
    # every figure of the export says what it shows (nbconvert shows the figures' <img alt>)
    assert alts and all(len(alt) >= 40 for alt in alts), f"figures without a text alternative: {alts}"
    widget_js = [u for u in asked if "jupyter-widgets" in u or "html-manager" in u or "unpkg" in u]
    assert not widget_js, f"the page asks for the widgets' JavaScript: {widget_js}"


# -- the committed notebooks in JupyterLab, by axe-core ------------------------------------

ALL_NOTEBOOKS = sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.fixture(scope="module")
def lab_as_committed(tmp_path_factory):
    """JupyterLab serving a copy of notebooks/ as committed, outputs and all; always stopped."""
    with LabServer(NOTEBOOKS, tmp_path_factory.mktemp("jupyterlab-committed"), keep_outputs=True) as server:
        yield server


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_as_committed_meets_wcag_in_jupyterlab(notebook, browser, lab_as_committed):
    """A student opens a committed notebook in JupyterLab: every figure shows with its text
    alternative (JupyterLab renders the figures' <img alt>, not the image/png metadata), and
    axe-core finds no WCAG 2.0/2.1 A or AA violation beyond JupyterLab's own, listed in
    tests/a11y_jupyterlab_known.json."""
    import nbformat

    from jupyterlab_driver import PAGE_TIMEOUT_S, wait

    lab, rel = lab_as_committed, f"notebooks/{notebook.name}"
    cells = nbformat.read(notebook, as_version=4).cells
    figures = sum("image/png" in o.get("data", {}) for c in cells if c.cell_type == "code" for o in c.outputs)
    page = browser.new_page()
    try:
        page.goto(f"{lab.url}/lab/workspaces/committed-{notebook.stem}/tree/{rel}?token={lab.token}")
        shown = page.locator(".jp-NotebookPanel .jp-OutputArea-output img")
        wait(lambda: shown.count() >= figures, PAGE_TIMEOUT_S,
             lambda: f"JupyterLab shows {shown.count()} of the {figures} figures of {rel}", 0.2)
        alts = shown.evaluate_all("(images) => images.map((i) => i.alt)")
        ours, rest = lab_axe_page(page)
    finally:
        page.close()
        lab.shutdown_kernels()
    assert all(len(alt) >= 40 for alt in alts), f"figures without a text alternative in JupyterLab: {alts}"
    unknown = _not_known(ours + rest)
    assert not unknown, f"{rel} in JupyterLab: " + "; ".join(f"{r} on {t}" for r, t in unknown)
