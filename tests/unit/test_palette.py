"""lecture_utils.palette: the course's colours stay apart for viewers with the
three common colour-vision deficiencies (simulated with colorspacious, at full
severity: protanopia, deuteranopia, tritanopia), stand out from white, and
each series has a line style of its own. Matplotlib's default colours fail
the same check (so it can fail)."""
import itertools

import numpy as np
import pytest
from colorspacious import cspace_convert, deltaE

from lecture_utils import palette

DEFICIENCIES = ("protanomaly", "deuteranomaly", "tritanomaly")
MIN_DISTANCE = 10.0    # CAM02-UCS; the course's seven measure 11.0 or more (tab10's first four: 1.6)
MIN_CONTRAST = 3.0     # WCAG 2.1, 1.4.11: graphics against their background
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")


def _rgb(hex_colour):
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255


def closest(colours, deficiency=None):
    """The smallest distance (CAM02-UCS) between two of ``colours``, as seen
    with ``deficiency`` (None: typical colour vision)."""
    seen = [_rgb(c) for c in colours]
    if deficiency:
        space = {"name": "sRGB1+CVD", "cvd_type": deficiency, "severity": 100}
        seen = [np.clip(cspace_convert(c, space, "sRGB1"), 0, 1) for c in seen]
    return min(float(deltaE(a, b, input_space="sRGB1")) for a, b in itertools.combinations(seen, 2))


def contrast_with_white(hex_colour):
    c = _rgb(hex_colour)
    linear = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return 1.05 / (0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2] + 0.05)


@pytest.mark.parametrize("deficiency", (None, *DEFICIENCIES))
def test_the_cycle_stays_apart_with_each_deficiency(deficiency):
    assert closest(palette.CYCLE, deficiency) >= MIN_DISTANCE


def test_matplotlibs_default_colours_do_not():
    assert min(closest(TAB10, d) for d in DEFICIENCIES) < MIN_DISTANCE / 3


def test_the_first_five_stand_out_from_white():
    assert [round(contrast_with_white(c), 2) for c in palette.CYCLE[:5]] == [5.19, 3.87, 3.42, 3.06, 21.0]
    assert all(contrast_with_white(c) >= MIN_CONTRAST for c in palette.CYCLE[:5])
    assert contrast_with_white(palette.YELLOW) < MIN_CONTRAST     # why yellow is left out


def test_each_series_has_its_own_colour_and_line_style():
    series = list(palette.cycler())
    assert len(series) == len(palette.CYCLE)
    assert len({s["color"] for s in series}) == len({str(s["linestyle"]) for s in series}) == len(series)


def test_setup_notebooks_figures_take_the_cycle():
    import matplotlib as mpl

    with mpl.rc_context():
        palette.apply()
        assert mpl.rcParams["axes.prop_cycle"].by_key()["color"] == list(palette.CYCLE)
