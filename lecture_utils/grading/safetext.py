"""Text that came from a submission, made safe for where it is written.

A submission controls its file name, the messages of what it raises, the
``repr`` of its objects and what it prints when it dies. Written raw, such
text can drive the instructor's terminal (escape sequences clear the screen,
retitle the window, move the cursor over a line to show a fake total) or a
spreadsheet (a cell that starts with ``=`` is a formula). So everything from
a submission goes through :func:`clean` before it reaches a terminal, a CSV or
a report:

- control characters (C0 but tab, C1, DEL), Unicode's bidirectional overrides
  and isolates, and the line and paragraph separators are shown escaped
  (``ESC`` as the four characters ``\\x1b``): the text stays readable and
  nothing in it acts; a line break becomes a space, a tab a space;
- a text longer than ``limit`` characters is cut, ending in "…".

:func:`csv_cell` adds OWASP's advice for CSV injection on top: a cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or their
full-width forms; after spaces too) gets a leading ``'``, so a spreadsheet shows it as text.
Numbers (points) are written as they are.
"""

from __future__ import annotations

import unicodedata

MESSAGE_LIMIT = 2000    # characters of one message in the CSV
LABEL_LIMIT = 500       # characters of a submission's name

# bidirectional embeddings, overrides and isolates, and other invisible controls that reorder or hide text
_FORMAT = {"\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
           "\u2066", "\u2067", "\u2068", "\u2069", "\u061c", "\u2028", "\u2029", "\ufeff"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def _escaped(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def clean(text: object, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` with nothing in it that acts on a terminal (see the module's
    docstring), at most ``limit`` characters (a longer one ends in "…")."""
    text = text if isinstance(text, str) else str(text)
    out = []
    for ch in text:
        if ch in "\n\t":
            out.append(" ")
        elif ch in _FORMAT or unicodedata.category(ch) in ("Cc", "Cs"):
            out.append(_escaped(ch))
        else:
            out.append(ch)
    result = "".join(out)
    if len(result) > limit:
        result = result[:max(limit - 1, 0)] + "…"
    return result


def csv_cell(value: object, limit: int = MESSAGE_LIMIT) -> object:
    """A CSV cell: numbers as they are; text :func:`clean`, and a formula's
    first character defused with a leading ``'`` (OWASP, "CSV Injection")."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = clean(value, limit)
    if text.lstrip(" ").startswith(_FORMULA_START):  # some spreadsheets trim leading spaces
        text = "'" + text
    return text


def uncsv_cell(text: str) -> str:
    """A cell's text as it was before :func:`csv_cell` defused it (the leading
    ``'`` taken off again), for a reader of the CSV that escapes it itself."""
    if text.startswith("'") and text[1:].lstrip(" ").startswith(_FORMULA_START):
        return text[1:]
    return text
