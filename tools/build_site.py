"""Build the course website (``make site``) into build/site.

    python tools/build_site.py [--out build/site]

The pages come from what is committed, and nothing is re-run or downloaded:

- ``site/``: the Sphinx configuration, the start page, the site's stylesheet;
- ``notebooks/0*.ipynb``: the lecture, executed in the full profile. An
  explorer's saved output is its starting picture; the site's copy gets a line
  under it saying that it is live when the notebook runs;
- ``exercises/*.ipynb`` (the student copies, never ``solutions/``): one page
  listing what each exercise asks, its questions as written;
- ``benchmarks/REPORT.md``: the benchmark report, as a page;
- MathJax 3 from the ``django-static-mathjax`` package (MathJax's own files), served
  by the site itself.

The sources are laid out in build/site-src (rebuilt each time), and Sphinx
(MyST-NB, sphinx-book-theme) turns them into HTML; any Sphinx warning fails
the build. Open build/site/index.html, or publish the folder on any static
host (GitHub Pages, an LMS's file area, a USB stick).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import html
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat

from lecture_utils.explorers.live import PICTURE_TEXT

ROOT = Path(__file__).resolve().parents[1]
EXPLORER_NOTE = ("<p class=\"explorer-note\"><b>Live when run.</b> This is a picture of the explorer "
                 "as it starts. Run the notebook (JupyterLab, a JupyterHub or Binder) and its "
                 "controls redraw the figure as you move them.</p>")
QUESTION = re.compile(r"^\*\*Question \d+")


def lecture_notebooks(root: Path = ROOT) -> list[Path]:
    """The lecture's notebooks, in order (00 … 07)."""
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _is_explorer_picture(output) -> bool:
    data = output.get("data", {})
    return "image/png" in data and data.get("text/plain") == PICTURE_TEXT


def notebook_for_the_site(path: Path):
    """The notebook at ``path``, with a note under each explorer's picture.
    Returns it with how many notes it got."""
    nb = nbformat.read(path, as_version=4)
    notes = 0
    for cell in nb.cells:
        outputs = cell.get("outputs", [])
        for i in reversed(range(len(outputs))):
            if _is_explorer_picture(outputs[i]):
                outputs.insert(i + 1, nbformat.v4.new_output(
                    "display_data", data={"text/html": EXPLORER_NOTE}))
                notes += 1
    return nb, notes


def exercises_page(root: Path = ROOT) -> str:
    """The exercises' page (MyST Markdown): each student notebook's title, its
    first paragraph and its questions as the notebook asks them. Read from
    exercises/ (the student copies), so no solution can reach the site."""
    lines = ["# Exercises", "",
             "One graded exercise notebook per topic, in `exercises/` of the repository. Open one "
             "in JupyterLab next to its lecture notebook: a `grader.check` cell under each "
             "question says at once which checks pass and, where one fails, what is wrong. "
             "Your instructor grades a folder of submissions with `lecture-utils grade`.",
             "", "Here is what each one asks."]
    for path in sorted((root / "exercises").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        markdown = [c.source.strip() for c in nb.cells if c.cell_type == "markdown"]
        title_cell = next((m for m in markdown if m.startswith("# ")), None)
        if title_cell is None:
            raise ValueError(f"{path}: no markdown cell starting with a '# ' title")
        title, _, rest = title_cell.partition("\n")
        intro = rest.strip().split("\n\n", 1)[0]
        questions = [m for m in markdown if QUESTION.match(m)]
        if not questions:
            raise ValueError(f"{path}: no '**Question N' cell; is it an exercise notebook?")
        lines += ["", "##" + title.lstrip("#").rstrip(), "", f"`exercises/{path.name}`", "",
                  intro, ""]
        for question in questions:
            lines += [question, ""]
    return "\n".join(lines).rstrip() + "\n"


def report_page(root: Path = ROOT) -> str:
    """benchmarks/REPORT.md as a page; links to files of the repository become
    plain text (the site has no copy of them)."""
    text = (root / "benchmarks" / "REPORT.md").read_text(encoding="utf-8")
    return re.sub(r"\[([^\]]+)\]\((?!https?://|#)[^)]+\)", r"\1", text)


# What site/conf.py's mathjax_path loads (TeX in, SVG out) and what it loads
# on demand; not the speech engine (sre) or the other combined builds.
MATHJAX_PARTS = ("tex-svg.js", "input", "output", "ui", "a11y", "adaptors")


def mathjax_dir() -> Path:
    """MathJax 3's browser build (es5), as django-static-mathjax ships it."""
    try:
        import mathjax
    except ImportError as error:
        raise SystemExit("make site needs the 'site' extra: pip install -e '.[site]' "
                         f"({error})") from None
    folder = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (folder / MATHJAX_PARTS[0]).is_file():
        raise SystemExit(f"no {MATHJAX_PARTS[0]} in {folder}: is the 'mathjax' package "
                         "django-static-mathjax? pip install -e '.[site]'")
    return folder


def lay_out_sources(src: Path, root: Path = ROOT) -> dict[str, str]:
    """Write every source page of the site into ``src`` (emptied first).
    Returns the notebooks' figures' text alternatives (:func:`figure_alts`)."""
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(root / "site", src)
    mathjax, into = mathjax_dir(), src / "_static" / "mathjax"
    into.mkdir(parents=True)
    for part in MATHJAX_PARTS:
        (shutil.copytree if (mathjax / part).is_dir() else shutil.copy2)(mathjax / part, into / part)
    alts = {}
    for path in lecture_notebooks(root):
        nb = notebook_for_the_site(path)[0]
        nbformat.write(nb, src / path.name)
        alts.update(figure_alts(nb))
    (src / "exercises.md").write_text(exercises_page(root), encoding="utf-8")
    (src / "report.md").write_text(report_page(root), encoding="utf-8")
    return alts


def build(out: Path, src: Path) -> float:
    """Lay out the sources and run Sphinx; any warning is an error. Returns
    the seconds it took."""
    from sphinx.cmd.build import build_main

    start = time.perf_counter()
    alts = lay_out_sources(src)
    if out.exists():
        shutil.rmtree(out)
    code = build_main(["-b", "html", "-q", "-W", "--keep-going", "-d", str(src / ".doctrees"),
                       str(src), str(out)])
    if code:
        raise SystemExit(f"sphinx-build failed (exit {code}); its warnings are above")
    for page in out.glob("*.html"):
        _accessible(page, alts)
    return time.perf_counter() - start


def figure_alts(nb) -> dict[str, str]:
    """{the name MyST-NB gives a figure (its PNG's sha256, ``.png``): its text
    alternative}, for each figure of ``nb`` whose output carries one
    (``lecture_utils.plots.show``: the ``image/png`` metadata ``alt``). MyST-NB
    writes an image's ``alt`` from the cell's options only, so the built
    pages get them from here."""
    found = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            alt = output.get("metadata", {}).get("image/png", {}).get("alt")
            if png and alt:
                data = base64.b64decode(png if isinstance(png, str) else "".join(png))
                found[hashlib.sha256(data).hexdigest() + ".png"] = alt
    return found


# The theme's search button says "Search" to a screen reader and shows "Search Ctrl+K":
# its accessible name must hold the text it shows (WCAG 2.1, 2.5.3 Label in Name; axe's
# label-content-name-mismatch).
_SEARCH_BUTTON = ('class="btn search-button-field search-button__button pst-js-only" title="Search" '
                  'aria-label="Search"')


def _accessible(page: Path, alts: dict[str, str]) -> None:
    """What the theme writes that fails WCAG 2.1 AA, mended in the built page;
    each figure's ``alt`` the text alternative its notebook gave it (``alts``,
    :func:`figure_alts`) instead of its file name."""
    text = page.read_text(encoding="utf-8")
    mended = text.replace(_SEARCH_BUTTON, _SEARCH_BUTTON.replace('title="Search" aria-label="Search"',
                                                                 'title="Search (Ctrl+K)" aria-label="Search Ctrl+K"'))

    def alt(m):
        name = m.group(2)
        return f'alt="{html.escape(alts[name], quote=True)}"' if name in alts else m.group(0)

    mended = re.sub(r'alt="(_images/)?([0-9a-f]{64}\.png)"', alt, mended)
    if mended != text:
        page.write_text(mended, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site",
                        help="where the site goes (default: build/site)")
    parser.add_argument("--src", type=Path, default=ROOT / "build" / "site-src",
                        help="where its sources are laid out (default: build/site-src)")
    args = parser.parse_args(argv)
    seconds = build(args.out.resolve(), args.src.resolve())
    print(f"site: {args.out / 'index.html'} ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
