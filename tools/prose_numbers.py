"""Every number in a notebook's prose comes from what the notebook shows.

Reads each markdown cell of a notebook and finds the numbers in it (0.8324,
18.3 %, 1,000, 3.4e-18, 6·10¹⁴, 10⁻³ ...). A number passes when

- an output of the same notebook shows it, rounded as the prose writes it
  (the prose's 0.86 passes with an output's 0.8588; a percentage also passes
  with a share printed as a fraction, 18.3 % with 0.183; a number in powers of
  ten passes with an output that has the same leading digits), or
- the notebook's own code writes it (a layer's 300 units, a learning rate of
  0.05: the student reads it in the cell), or
- it names something rather than measures it: a section, notebook, slide,
  equation or exercise number, a heading's number, a number inside a link's
  address or a file name; numbers inside `code` are code, not claims; a
  paragraph that starts "Things to try" lists settings for an explorer, not
  results, or
- it is listed, with where it comes from, in ``tools/prose_constants.txt``
  (784 pixels, SELU's λ ≈ 1.0507, a paper's year ...).

Only outputs of kind text count (printed text and ``text/plain`` results);
a figure's ``<Figure size ...>`` line does not.

Run it: ``python tools/prose_numbers.py notebooks/*.ipynb`` lists every number
that fails, with its cell and the words around it, and exits with 1 if any
does. ``tests/test_committed_notebooks.py`` runs it on the committed notebooks.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import sys
from pathlib import Path

CONSTANTS = Path(__file__).with_name("prose_constants.txt")

_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹"
# a number: 1,000 / 0.8324 / 3.4e-18 / 6·10¹⁴ / 6 × 10^14 / 10⁻³ / .5 is not one
NUMBER = re.compile(
    r"(?<![\w.])"
    r"(?P<mantissa>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:(?P<e>[eE][-+−]?\d+)"
    r"|\s?[·×x]\s?10(?P<power>[⁻⁺]?[" + _SUP + r"]+|\^[-−]?\d+)"
    r"|(?P<tenpower>(?<=10)[⁻⁺]?[" + _SUP + r"]+))?"
    r"(?![\w])"
)
# words before a number that make it a name, not a measurement
NAMING = re.compile(
    r"(?:section|sections|notebook|notebooks|slide|slides|exercise|exercises|chapter|equation|식|item|items|"
    r"step|issue|edition|ed\.|cell|cells|part|figure|§|#|and|or|to|[–-])\s*$", re.I)
NAME_FOLLOWERS = re.compile(r"^(?:st|nd|rd|th)\b|^_\w")


@dataclasses.dataclass(frozen=True)
class Miss:
    notebook: str
    cell: int
    text: str
    context: str

    def __str__(self) -> str:
        return f"{self.notebook} [{self.cell}] {self.text!r}: …{self.context}…"


@dataclasses.dataclass(frozen=True)
class Number:
    value: float          # absolute value
    decimals: int | None  # places after the point, for a plain number
    significant: int | None  # digits of the mantissa, for a number in powers of ten
    percent: bool
    text: str


def _number(match: re.Match, after: str) -> Number:
    mantissa = match["mantissa"].replace(",", "")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = None
    if match["e"]:
        exponent = int(match["e"][1:].replace("−", "-"))
    elif match["power"]:
        exponent = int(match["power"].lstrip("^").replace("−", "-").translate(_SUPERSCRIPT))
    elif match["tenpower"]:
        # 10⁻³: the mantissa is the 10 itself
        return Number(10.0 ** int(match["tenpower"].translate(_SUPERSCRIPT)), None, 1, False, match.group())
    value = float(mantissa)
    if exponent is not None:
        digits = len(mantissa.replace(".", "").lstrip("0")) or 1
        return Number(value * 10.0 ** exponent, None, digits, False, match.group())
    return Number(value, decimals, None, bool(re.match(r"\s?%", after)), match.group())


def numbers_in(text: str) -> list[tuple[Number, int]]:
    """(number, position) for each number in ``text``."""
    found = []
    for match in NUMBER.finditer(text):
        found.append((_number(match, text[match.end():match.end() + 2]), match.start()))
    return found


def _strip_names(markdown: str) -> str:
    """The markdown without what holds numbers that are names: link targets,
    file names, headings' numbers, HTML tags."""
    text = re.sub(r"(?ms)^(?:- )?Things to try.*?(?=\n\s*\n|\Z)", " ", markdown)  # settings, not results
    text = re.sub(r"\]\([^)]*\)", "]", text)                     # [text](address)
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\b[\w./-]*\d[\w./-]*\.(?:ipynb|py|md|json|csv|txt|h5|keras|png|html|whl)\b", " ", text)
    text = re.sub(r"\b\d\d_\w+", " ", text)                       # 03_activation_functions
    text = re.sub(r"^(#+\s*)\d+(?:\.\d+)*\.?", r"\1", text, flags=re.M)  # ## 4. Dying ReLUs
    text = re.sub(r"`[^`]*`", " ", text)                            # code: PROFILE.depth(100), clipnorm=1.0
    return text


def _shown_values(texts: list[str]) -> list[float]:
    values = []
    for text in texts:
        for number, _ in numbers_in(text):
            values.append(number.value)
    return values


def _matches(number: Number, shown: list[float]) -> bool:
    for value in shown:
        if number.significant is not None:
            if value == 0:
                continue
            if math.isclose(float(f"{value:.{number.significant - 1}e}"), number.value, rel_tol=1e-9):
                return True
            continue
        candidates = (value, value * 100) if number.percent else (value,)
        for candidate in candidates:
            if math.isclose(round(candidate, number.decimals), number.value, abs_tol=10 ** -(number.decimals + 3)):
                return True
    return False


def load_constants(path: Path = CONSTANTS) -> list[float]:
    """The numbers ``prose_constants.txt`` lists (each line: number | source)."""
    values = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        number, _, source = line.partition("|")
        if not source.strip():
            raise ValueError(f"{path.name}: {line!r} gives no source after '|'")
        found = numbers_in(number.strip())
        if len(found) != 1:
            raise ValueError(f"{path.name}: {number.strip()!r} is not one number")
        values.append(found[0][0].value)
    return values


def _output_texts(cell: dict) -> list[str]:
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            texts.append("".join(output.get("text", "")))
        elif "data" in output:
            data = output["data"]
            if "text/plain" in data and "image/png" not in data:
                texts.append("".join(data["text/plain"]))
    return texts


def check(path: Path, constants: list[float] | None = None) -> list[Miss]:
    """The numbers in ``path``'s markdown that nothing in it shows."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    constants = load_constants() if constants is None else constants
    outputs, code = [], []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            outputs += _output_texts(cell)
            code.append("".join(cell["source"]))
    shown = _shown_values(outputs) + [abs(v) for v in constants]
    written = _shown_values(code)
    misses = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        text = _strip_names("".join(cell["source"]))
        for number, at in numbers_in(text):
            before = text[max(0, at - 12):at]
            if NAMING.search(before) and number.decimals == 0 and number.value < 100:
                continue
            if NAME_FOLLOWERS.match(text[at + len(number.text):]):
                continue
            if _matches(number, shown) or _matches(number, written):
                continue
            context = " ".join(text[max(0, at - 40):at + len(number.text) + 30].split())
            misses.append(Miss(Path(path).name, index, number.text, context))
    return misses


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.split("\n\n")[-1].strip())
        return 2
    constants = load_constants()
    misses = [miss for path in argv for miss in check(Path(path), constants)]
    for miss in misses:
        print(miss)
    print(f"{len(misses)} number(s) in prose that no output, code or listed constant shows", file=sys.stderr)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
