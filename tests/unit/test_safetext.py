"""What a submission wrote, made safe for the instructor's terminal and spreadsheet."""
import pytest

from lecture_utils.grading.safetext import clean, csv_cell


@pytest.mark.parametrize("raw, shown", [
    ("\x1b[2J\x1b[H TOTAL 14/14", "\\x1b[2J\\x1b[H TOTAL 14/14"),           # clear the screen, home the cursor
    ("\x1b]0;pwned\x07title", "\\x1b]0;pwned\\x07title"),                   # retitle the window
    ("a\rTOTAL 14/14", "a\\x0dTOTAL 14/14"),                                # back to the line's start
    ("\x9b31m", "\\x9b31m"),                                               # the one-byte CSI
    ("x\x08\x08\x7f", "x\\x08\\x08\\x7f"),
    ("abc\u202edcba", "abc\\u202edcba"),                                   # right-to-left override
    ("one\ntwo\tthree", "one two three"),
    ("σ′(z) ≤ 0.25 — fine", "σ′(z) ≤ 0.25 — fine"),
])
def test_control_characters_are_shown_escaped(raw, shown):
    assert clean(raw) == shown


def test_long_text_is_cut_with_an_ellipsis():
    assert clean("x" * 5000, 100) == "x" * 99 + "…"
    assert len(clean("\x1b" * 5000, 100)) == 100


@pytest.mark.parametrize("raw", ["=HYPERLINK(\"http://x\",\"14\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1",
                                 "\r=1", "\uff1d1+1"])
def test_formulas_are_defused(raw):
    cell = csv_cell(raw)
    assert cell.startswith("'") or cell.startswith("\\x0d"), cell   # a carriage return is shown escaped
    assert "\t" not in cell and "\r" not in cell


def test_numbers_and_plain_text_stay_as_they_are():
    assert csv_cell(14) == 14 and csv_cell(0.5) == 0.5
    assert csv_cell("passed") == "passed" and csv_cell("") == ""
