"""What is committed: lecture notebooks and solutions executed top to bottom
(counts 1, 2, 3, ... and no errors); exercises without outputs; widget cells
marked so nbval does not compare them."""
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import prose_numbers  # noqa: E402

EXECUTED = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
CLEAN = sorted((ROOT / "exercises").glob("*.ipynb"))


def _code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_the_course_has_notebooks():
    assert (ROOT / "notebooks" / "00_start_here.ipynb") in EXECUTED


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: str(p.relative_to(ROOT)))
def test_executed_top_to_bottom_without_errors(path):
    cells = [c for c in _code_cells(path) if c.source.strip()]
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"execution counts {counts}: run it with `make execute`"
    errors = [c.source.splitlines()[0] for c in cells for o in c.outputs if o.output_type == "error"]
    assert not errors, f"cells with errors: {errors}"


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: str(p.relative_to(ROOT)))
def test_executed_in_the_full_profile(path):
    text = "".join(o.get("text", "") for c in _code_cells(path) for o in c.outputs)
    profiles = set(re.findall(r"^Profile\s*: (\w+)", text, re.M))
    assert profiles == {"full"}, f"environment report says profile {profiles or 'missing'}"


@pytest.mark.parametrize("path", EXECUTED + CLEAN, ids=lambda p: str(p.relative_to(ROOT)))
def test_widget_cells_are_not_compared(path):
    for cell in _code_cells(path):
        if re.search(r"\bexplore_\w+\(", cell.source):
            assert "# NBVAL_IGNORE_OUTPUT" in cell.source, cell.source.splitlines()[0]


def test_exercises_carry_no_outputs():
    for path in CLEAN:  # an empty folder passes: no exercise has landed yet
        for cell in _code_cells(path):
            assert not cell.outputs and cell.execution_count is None, (path.name, cell.source.splitlines()[:1])


LECTURES = [p for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if p.stem != "00_start_here"]


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: str(p.relative_to(ROOT)))
def test_lecture_notebooks_record_their_headline_results(path):
    """make bench's report is built from what the notebooks record."""
    calls = re.findall(r'\brecord\(\s*"([^"]+)"', "".join(c.source for c in _code_cells(path)))
    assert calls, "no lecture_utils.results.record(...) call: the reproduction report would miss this notebook"
    assert set(calls) == {path.stem}, f"record() names {set(calls)}, not this notebook's {path.stem!r}"


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: str(p.relative_to(ROOT)))
def test_explorers_are_saved_as_pictures(path):
    """Readers without a kernel (GitHub, nbconvert, JupyterLab before the cell
    runs) see each explorer's starting picture: a PNG, no widget view that
    would need a kernel or JavaScript from a CDN, no saved widget state."""
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata, "saved widget state: run tools/explorer_pictures.py --strip"
    for cell in nb.cells:
        if cell.cell_type == "code" and re.search(r"\bexplore_\w+\(", cell.source):
            data = [o.get("data", {}) for o in cell.outputs]
            assert any("image/png" in d for d in data), f"no picture: {cell.source.splitlines()[-1]}"
            assert not any(WIDGET_VIEW in d for d in data), f"a widget view: {cell.source.splitlines()[-1]}"


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_every_number_in_the_prose_is_shown(path):
    """tools/prose_numbers.py: a number in a markdown cell must appear in the notebook's outputs
    (rounded as written), its code, or tools/prose_constants.txt."""
    misses = prose_numbers.check(path)
    assert not misses, "numbers in prose that nothing in the notebook shows:\n" + "\n".join(map(str, misses))
