"""Figures with a text alternative: lecture_utils.plots.show stores it with the
figure's PNG, and the website (tools/build_site.py) writes it as the image's
alt instead of the file name."""
import base64
import hashlib
import html
import sys
from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lecture_utils import plots  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import build_site  # noqa: E402

ALT = 'gradient norm per layer, from 1e-02 at layer 10 to 6e-09 at layer 1: the "vanishing" gradient'


def _shown(monkeypatch, fig, alt):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: shown.append((a, k)))
    plots.show(fig, alt)
    return shown


def test_show_stores_the_text_alternative_with_the_png(monkeypatch):
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    [(args, kwargs)] = _shown(monkeypatch, fig, ALT)
    data = args[0]
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")
    assert kwargs == {"raw": True, "metadata": {"image/png": {"alt": ALT}}} and data["text/plain"] == ALT
    # and an <img alt> of the same picture, for JupyterLab (which ignores the metadata)
    assert data["text/html"] == (f'<img src="data:image/png;base64,{data["image/png"]}" '
                                 'alt="gradient norm per layer, from 1e-02 at layer 10 to 6e-09 at layer 1: the '
                                 '&quot;vanishing&quot; gradient"/>')
    assert not plt.fignum_exists(fig.number)   # closed: not shown a second time by the backend


@pytest.mark.parametrize("alt", ["a plot", "_images/ac90ff166b779bf489.png", "   "])
def test_show_refuses_an_alternative_that_says_nothing(monkeypatch, alt):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="alt must say what the figure shows"):
        _shown(monkeypatch, fig, alt)
    plt.close(fig)


def test_the_site_writes_each_figures_alternative(tmp_path):
    png = b"\x89PNG fake bytes"
    name = hashlib.sha256(png).hexdigest() + ".png"
    other = hashlib.sha256(b"another").hexdigest() + ".png"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": base64.b64encode(png).decode()}, metadata={"image/png": {"alt": ALT}})])])
    alts = build_site.figure_alts(nb)
    assert alts == {name: ALT}
    page = tmp_path / "p.html"
    page.write_text(f'<img alt="_images/{name}" src="_images/{name}" /><img alt="_images/{other}" src="x" />')
    build_site._accessible(page, alts)
    text = page.read_text()
    assert 'alt="gradient norm per layer, from 1e-02 at layer 10 to 6e-09 at layer 1: the &quot;vanishing' in text
    assert f'alt="_images/{other}"' in text    # a figure without one keeps what it had (a test of the notebooks finds it)


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))


def _figures(path):
    """``(cell index, cell source, output)`` of every PNG a committed notebook shows."""
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if "image/png" in output.get("data", {}):
                yield i, cell.source, output


def test_the_notebooks_have_figures():
    assert sum(1 for path in NOTEBOOKS for _ in _figures(path)) >= 30


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_figure_in_the_notebooks_says_what_it_shows(path):
    """Each figure carries a text alternative, stored where nbconvert and the site read it
    (the output's image/png metadata): at least ALT_MIN_CHARS characters, not a file name, with
    the run's numbers in it; and the cell writes it from the run (an f-string or a function of
    the result, lecture_utils' *_in_words), never typed as a fixed string."""
    import ast
    import re

    for i, source, output in _figures(path):
        alt = output.get("metadata", {}).get("image/png", {}).get("alt", "")
        where = f"{path.name}, cell {i}"
        assert len(alt) >= plots.ALT_MIN_CHARS, f"{where}: a figure without a text alternative ({alt!r})"
        assert not re.search(r"\.(png|svg|jpe?g)\b", alt), f"{where}: the alt is a file name: {alt!r}"
        assert re.search(r"\d", alt), f"{where}: the alt has none of the run's numbers: {alt!r}"
        shown = output["data"].get("text/html", "")   # what JupyterLab shows: it ignores the metadata
        assert f'alt="{html.escape(alt, quote=True)}"' in shown, f"{where}: no <img alt> for JupyterLab"
        calls = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
                 and getattr(node.func, "id", getattr(node.func, "attr", "")) == "show" and len(node.args) == 2]
        for call in calls:
            assert not isinstance(call.args[1], ast.Constant), f"{where}: the alt is typed, not written from the run"
