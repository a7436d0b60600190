"""The explorers' pictures in the committed notebooks.

An explorer's output, saved with its notebook, holds the live widget
(``application/vnd.jupyter.widget-view+json``) and a PNG of its starting state
(``image/png``). A saved widget needs its kernel, or its state stored in the
notebook and JavaScript from a CDN to show; the picture needs nothing. So the
committed notebooks keep only the picture (and the text), and no widget state:
JupyterLab before the cell is run, nbconvert's HTML and GitHub all show it.

    python tools/explorer_pictures.py --strip notebooks/*.ipynb
        what ``make execute`` runs after executing: drop the widget views
        (where a picture is beside them) and the saved widget state.

    python tools/explorer_pictures.py --refresh notebooks/*.ipynb
        run, in a fresh kernel in the full profile, the cells that draw with
        the explorers (explorer cells, and cells using lecture_utils.explorers
        for static figures) and only the cells they need (the notebook's set-up
        cell and those that bind what they read:
        tests/jupyterlab_driver.cells_needed); replace those cells' outputs
        with the new ones (then strip). The other cells' outputs are not
        touched. For when the explorers changed and the rest of the notebook
        did not: minutes, where ``make execute`` takes about an hour.
"""
from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from jupyterlab_driver import EXPLORER_CALL, cells_needed  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def strip(nb) -> int:
    """Drop widget views that have a picture beside them, and the saved widget
    state. Returns how many outputs changed."""
    changed = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and "image/png" in data:
                del data[WIDGET_VIEW]
                changed += 1
    nb.metadata.pop("widgets", None)
    return changed


def _draws_an_explorer(cell) -> bool:
    """An explorer cell, or a cell that draws with lecture_utils.explorers (the
    notebooks' static figures of other settings)."""
    return cell.cell_type == "code" and bool(EXPLORER_CALL.search(cell.source)
                                             or "lecture_utils.explorers" in cell.source)


def refresh(path: Path, timeout: int = 1800) -> list[int]:
    """Re-run, in one fresh kernel (full profile, TensorFlow), the cells of
    ``path`` that draw with the explorers and the cells they need; their new
    outputs replace the old ones. Returns the cells replaced."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    targets = [i for i, cell in enumerate(nb.cells) if _draws_an_explorer(cell)]
    if not targets:
        return []
    needed = sorted(set().union(*(cells_needed(nb.cells, i) for i in targets)))
    part = copy.deepcopy(nb)
    part.cells = [copy.deepcopy(nb.cells[i]) for i in needed]
    env = {"LECTURE_PROFILE": "full", "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        start = time.perf_counter()
        NotebookClient(part, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:  # the kernel inherited these; this process gets its own back
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    report = "".join(o.get("text", "") for o in part.cells[0].outputs)
    if "Profile" not in report or "full" not in report.split("Profile", 1)[1].splitlines()[0]:
        raise RuntimeError(f"{path.name}: the set-up cell did not report the full profile:\n{report}")
    errors = [o for c in part.cells for o in c.outputs if o.output_type == "error"]
    if errors:
        raise RuntimeError(f"{path.name}: {errors[0].ename}: {errors[0].evalue}")
    ran = dict(zip(needed, part.cells))
    for i in targets:
        cell = nb.cells[i]
        cell.outputs = ran[i].outputs
        for output in cell.outputs:
            if "execution_count" in output:
                output["execution_count"] = cell.execution_count
    print(f"{path.name}: cells {targets} re-run (with {[i for i in needed if i not in targets]}) "
          f"in {time.perf_counter() - start:.0f} s", flush=True)
    strip(nb)
    nbformat.write(nb, path)
    return targets


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--strip", action="store_true", help="drop widget views beside pictures, and widget state")
    mode.add_argument("--refresh", action="store_true", help="re-run the explorer cells, then strip")
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if not path.is_file():
            parser.error(f"{path}: no such notebook")
        if args.refresh:
            refresh(path)
        else:
            nb = nbformat.read(path, as_version=4)
            n = strip(nb)
            nbformat.write(nb, path)
            print(f"{path}: {n} widget view(s) stripped")


if __name__ == "__main__":
    main()
