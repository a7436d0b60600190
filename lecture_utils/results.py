"""Headline results, recorded by the notebooks as they run, for the
reproduction report (``make bench``, ``benchmarks/REPORT.md``).

A notebook calls :func:`record` with what it measured (one value, or one per
seed) and, where the anchor notebook published one, the reference figure.
When the environment variable ``LECTURE_RESULTS_DIR`` names a folder, each
call also writes ``<folder>/<notebook>.json``; otherwise it only returns the
entry, so a student's run writes nothing.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

RESULTS_ENV = "LECTURE_RESULTS_DIR"


def _numbers(values) -> list[float]:
    if isinstance(values, (int, float)) and not isinstance(values, bool):
        values = [values]
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise ValueError(f"values must be a number or a list of numbers (one per seed); "
                         f"got {values!r}") from None
    if not out:
        raise ValueError("values must not be empty")
    return out


def summarize(values: list[float]) -> dict:
    """Mean and population standard deviation over seeds (NaN where a run
    diverged stays NaN: it is reported, not dropped)."""
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / n)
    return {"mean": mean, "std": std, "n": n}


def record(notebook: str, name: str, values, reference: float | None = None,
           source: str = "", unit: str = "") -> dict:
    """Record one headline result.

    Args:
        notebook: the notebook's number and name, e.g. ``"06_transfer_learning"``.
        name: what was measured, as a reader should see it in the report.
        values: one number, or one per seed.
        reference: the anchor notebook's published figure, if any.
        source: where ``reference`` comes from (e.g. ``"2nd ed."``).
        unit: e.g. ``"accuracy"``, ``"parameters"``.

    Returns:
        The entry: name, values, mean, std, n, reference, difference (our
        mean minus the reference), source, unit.

    Raises:
        ValueError: an empty notebook or name, or values that are not numbers.
    """
    for label, text in (("notebook", notebook), ("name", name)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{label} must be a non-empty string; got {text!r}")
    values = _numbers(values)
    entry = {"name": name, "values": values, **summarize(values), "unit": unit,
             "reference": None if reference is None else float(reference), "source": source}
    entry["difference"] = None if reference is None else entry["mean"] - float(reference)
    folder = os.environ.get(RESULTS_ENV)
    if folder:
        _store(Path(folder), notebook, entry)
    return entry


def _store(folder: Path, notebook: str, entry: dict) -> None:
    """Add ``entry`` to the notebook's file, replacing an entry of the same
    name (a re-run cell), written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.json"
    entries = load(path)["results"] if path.exists() else []
    entries = [e for e in entries if e["name"] != entry["name"]] + [entry]
    from .profile import get_profile

    payload = {"notebook": notebook, "profile": get_profile().name,
               "backend": os.environ.get("KERAS_BACKEND", "tensorflow"), "results": entries}
    with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False) as f:
        json.dump(payload, f, indent=1)
    os.replace(f.name, path)


def load(path) -> dict:
    """One notebook's recorded results (as written by :func:`record`).

    Raises:
        ValueError: the file is not such a record.
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text())
        payload["results"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path} is not a results file written by lecture_utils.results.record: {e}") from None
    return payload
