"""The course's colours: Okabe and Ito's palette, which viewers with the
common colour-vision deficiencies tell apart, with a line style per series.

Matplotlib's default colours (tab10) put red and green side by side: with
protanopia, two of its first four colours are nearly one (their distance,
simulated, is 1.6 in CAM02-UCS; the course's seven stay 11 or more apart
with each deficiency). Okabe and
Ito's eight colours ("Color Universal Design", 2002; also Wong, "Points of
view: Color blindness", Nature Methods 8, 441, 2011) were chosen to stay
apart for viewers with protanopia, deuteranopia and tritanopia. The order
here puts first the five that stand out from a white background (contrast at
least 3:1, WCAG 2.1's minimum for graphics) and keeps the closest pairs
apart; each series also gets its own line style, so that colour is never
the only thing that tells two lines apart. ``tests/unit/test_palette.py``
checks the distances (simulated with colorspacious) and the contrasts.

:func:`apply` makes them Matplotlib's default (``setup_notebook`` does);
the explorers draw with :func:`cycler` and the named colours whatever the
notebook's settings.
"""

from __future__ import annotations

BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREEN = "#009E73"        # Okabe and Ito's "bluish green"
PURPLE = "#CC79A7"       # "reddish purple"
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
YELLOW = "#F0E442"       # not in the cycle: too light on white (1.3:1)

CYCLE = (BLUE, VERMILLION, GREEN, PURPLE, BLACK, ORANGE, SKY_BLUE)
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 3)))
NEUTRALS = ("#000000", "#808080", "#dddddd", "#ffffff")   # axes, reference lines, missing data


def cycler():
    """Matplotlib's property cycle of the course: a colour and a line style per series."""
    from cycler import cycler as make

    return make(color=list(CYCLE)) + make(linestyle=list(LINESTYLES))


def apply(params=None) -> None:
    """Make :func:`cycler` the default of ``params`` (Matplotlib's rcParams by default)."""
    if params is None:
        import matplotlib as mpl

        params = mpl.rcParams
    params["axes.prop_cycle"] = cycler()


def context():
    """A ``with`` block in which new axes take the course's cycle."""
    import matplotlib as mpl

    return mpl.rc_context({"axes.prop_cycle": cycler()})
