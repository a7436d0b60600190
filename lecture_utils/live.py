"""Live-coding skeletons: a lecture notebook with the code an instructor types
in front of the room taken out.

Code cells tagged ``live`` keep their leading comment line (what to type
next; nbval's ``# NBVAL_…`` markers are skipped) and lose the rest and their
outputs; every other cell stays as it
is. ``lecture-utils live NOTEBOOK [-o DIR]`` writes the skeleton beside the
others in DIR.
"""

from __future__ import annotations

from pathlib import Path

LIVE_TAG = "live"


def _comment_line(source: str) -> str:
    """The cell's leading comment (what to type), skipping nbval's markers."""
    for line in source.lstrip("\n").split("\n"):
        if not line.lstrip().startswith("#"):
            return ""
        if not line.lstrip().startswith("# NBVAL_"):
            return line
    return ""


def skeleton(nb):
    """A copy of the notebook ``nb`` (an ``nbformat`` node) with every code
    cell tagged ``live`` reduced to its first comment line, without outputs.

    Returns:
        ``(skeleton, n_live)``: the new notebook and how many cells were emptied.
    """
    import copy

    out = copy.deepcopy(nb)
    n_live = 0
    for cell in out.cells:
        if cell.cell_type == "code" and LIVE_TAG in cell.get("metadata", {}).get("tags", []):
            cell.source = _comment_line(cell.source)
            cell.outputs = []
            cell.execution_count = None
            n_live += 1
    return out, n_live


def write_skeleton(notebook: Path, out_dir: Path, force: bool = False) -> tuple[Path, int]:
    """Write the skeleton of ``notebook`` to ``out_dir/<name>_live.ipynb``.

    Raises:
        FileNotFoundError: ``notebook`` does not exist.
        ValueError: it is not a notebook, or has no cell tagged ``live``.
        FileExistsError: the skeleton exists already (an instructor's notes may be in
            it) and ``force`` is not set.
    """
    import nbformat

    notebook, out_dir = Path(notebook), Path(out_dir)
    if not notebook.is_file():
        raise FileNotFoundError(f"no such notebook: {notebook}")
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as e:  # nbformat raises several kinds for a file that is not a notebook
        raise ValueError(f"{notebook} is not a Jupyter notebook: {e}") from None
    result, n_live = skeleton(nb)
    if n_live == 0:
        raise ValueError(f"{notebook} has no code cell tagged {LIVE_TAG!r}: nothing to leave out. "
                         f"Tag the cells to type live (cell metadata \"tags\": [\"{LIVE_TAG}\"]).")
    target = out_dir / f"{notebook.stem}_live.ipynb"
    if target.resolve() == notebook.resolve():
        raise ValueError(f"the skeleton would replace its own source {notebook}; choose another -o")
    if target.exists() and not force:
        raise FileExistsError(f"{target} exists (it may hold your notes); kept it. "
                              "Use --force to replace it, or -o for another folder.")
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(result, target)
    return target, n_live
