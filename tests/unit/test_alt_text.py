"""Figures with a text alternative: lecture_utils.plots.show stores it with the
figure's PNG, and the website (tools/build_site.py) writes it as the image's
alt instead of the file name."""
import base64
import hashlib
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
