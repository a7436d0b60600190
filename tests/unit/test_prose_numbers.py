"""tools/prose_numbers.py: the check that every number in a notebook's prose is shown."""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import prose_numbers  # noqa: E402


def notebook(tmp_path, markdown, printed="", code="x = 1"):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": markdown},
             {"cell_type": "code", "metadata": {}, "source": code, "execution_count": 1,
              "outputs": [{"output_type": "stream", "name": "stdout", "text": printed}]}]
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def misses(tmp_path, markdown, printed="", code="x = 1", constants=()):
    return [m.text for m in prose_numbers.check(notebook(tmp_path, markdown, printed, code), list(constants))]


def test_a_number_no_output_shows_fails(tmp_path):
    assert misses(tmp_path, "It reached 0.8612.", "accuracy 0.8588") == ["0.8612"]


@pytest.mark.parametrize("prose, printed", [
    ("about 0.86", "accuracy 0.8588"),           # rounded as written
    ("18.3 % died", "dead share 0.183"),          # a percentage against a fraction
    ("18 % died", "dead 18.3%"),
    ("a ratio of 3.4 × 10⁻¹⁸", "ratio 3.4e-18"),  # powers of ten against e-notation
    ("about 2 × 10⁻⁵", "2.2e-05"),
    ("1,000 steps", "1000 steps"),
    ("a ratio of 1.12", "error ratio 1.12"),
])
def test_a_number_shown_as_written_passes(tmp_path, prose, printed):
    assert misses(tmp_path, prose, printed) == []


def test_rounding_must_agree(tmp_path):
    assert misses(tmp_path, "about 0.87", "accuracy 0.8588") == ["0.87"]
    assert misses(tmp_path, "about 10⁻⁵", "2.2e-05") == ["10⁻⁵"]


def test_numbers_in_code_names_and_constants_pass(tmp_path):
    assert misses(tmp_path, "a learning rate of 0.05", code="lr = 0.05") == []
    assert misses(tmp_path, "## 4. Dying\nsee section 5 and notebook 03, `depth(100)`") == []
    assert misses(tmp_path, "λ ≈ 1.0507", constants=[1.0507]) == []


def test_the_constants_file_needs_a_source_for_each_number(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("# comment\n784 | pixels of a 28 × 28 image\n")
    assert prose_numbers.load_constants(good) == [784.0]
    bad = tmp_path / "bad.txt"
    bad.write_text("784\n")
    with pytest.raises(ValueError, match="no source"):
        prose_numbers.load_constants(bad)


def test_the_listed_constants_load():
    assert prose_numbers.load_constants()


def test_a_things_to_try_paragraph_is_settings_not_results(tmp_path):
    text = "Things to try: momentum 0.999, a 1000 × 10 layer.\n\nIt reached 0.8612."
    assert misses(tmp_path, text, "accuracy 0.8588") == ["0.8612"]
