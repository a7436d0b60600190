"""What every explorer shares: a figure drawn once and updated in place, a
worker that answers the controls without a backlog, and the pieces around
the figure (status line, presets, the Keras code of what is shown).

How a control change reaches the screen:

1. the control's observer (in the kernel's main thread) records the new
   values and wakes the explorer's worker thread; it never computes;
2. the worker takes the *latest* values (older ones that arrived meanwhile
   are skipped: no backlog), calls the explorer's pure compute function,
   and updates the figure's artists through its view;
3. :class:`LiveFigure` redraws only what changed: the axes, ticks and labels
   are drawn once into a saved background; a frame restores it and draws the
   changing artists over it (lines, texts, legends), unless the axes'
   limits or scales changed, when it draws the whole figure again;
4. the frame, a PNG, becomes the value of an ``ipywidgets.Image`` (sent to
   the browser as a binary buffer; the page swaps the picture, no flicker).

When the exact computation is slow (above ``slow_s``) and the explorer has
a cheaper preview, the worker shows the preview at once and the exact
result when no newer change came for ``settle_s``; the status line says
which one is on screen.

In a notebook saved with its outputs, an explorer's cell also carries a PNG
of its starting state (``image/png`` beside the widget), which is what
readers without a kernel see: nbconvert's HTML, GitHub, or JupyterLab
before the cell is run.
"""

from __future__ import annotations

import functools
import html
import io
import json
import math
import threading
import time
import traceback
from typing import Callable

import numpy as np

from .. import palette
from .access import BOX_CLASS, access_class, figure_bundle

#: a worker with nothing to do for this long ends; the next change starts another
IDLE_EXIT_S = 20.0
#: the text beside an explorer's picture in a saved notebook (tools/build_site.py finds the pictures by it)
PICTURE_TEXT = "An explorer; with a running kernel its controls answer live. The picture shows it as it starts."


def sticky_limits(current, low: float, high: float, log: bool = False, slack: float = 3.0):
    """Axis limits that cover ``[low, high]`` and stay as they are while they
    still fit, so that most frames keep the saved background.

    ``current`` (a ``(lo, hi)`` pair, or None) is kept when it covers the data
    and is at most ``slack`` decades (``log``) or ``slack`` times (linear)
    wider than the data needs. Otherwise: whole decades around the data
    (``log``), or the data with a 10 % margin (linear).
    """
    low, high = float(low), float(high)
    if log:
        low, high = max(low, 1e-300), max(high, 1e-300)
        need = math.log10(high) - math.log10(low)
        if current is not None:
            lo, hi = current
            if lo <= low and high <= hi and math.log10(hi) - math.log10(lo) <= need + 3 + slack:
                return tuple(current)
        # whole decades, and room to move (more downward, where vanishing gradients go):
        # a new background every few frames, not every one
        lo_exp, hi_exp = math.floor(math.log10(low)) - 2, math.ceil(math.log10(high)) + 1
        if hi_exp <= lo_exp:
            hi_exp = lo_exp + 1
        return 10.0 ** lo_exp, 10.0 ** hi_exp
    span = (high - low) or max(abs(high), 1.0)
    if current is not None:
        lo, hi = current
        if lo <= low and high <= hi and hi - lo <= slack * span * 1.2:
            return tuple(current)
    return low - 0.1 * span, high + 0.1 * span


_BLAS = None


def one_blas_thread():
    """A context in which NumPy's BLAS uses one thread. An explorer's matrix
    products are small; two BLAS threads spin against each other and against
    the browser on a 2-core machine (measured: 39 ms idle, 89 ms with one core
    busy, for a 45-layer gradient flow; 50 ms either way with one thread)."""
    global _BLAS
    from threadpoolctl import ThreadpoolController

    if _BLAS is None:
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def sticky_range(current, need: tuple, widest: float, room: float = 1.0) -> tuple:
    """Axis limits for data that needs ``need`` = (low, high), high > 0:
    ``current`` while it covers ``need`` and its top is at most ``widest``
    times ``need``'s; otherwise ``need`` with ``room`` times its top (and its
    bottom, when that is negative), so that the next frames fit too."""
    low, high = need
    if current is not None and current[0] <= low and high <= current[1] <= widest * high:
        return tuple(current)
    return (low * room if low < 0 else low), high * room


def ratio_in_words(ratio: float) -> str:
    """What a first/last layer gradient-norm ratio says, in words (the figures'
    text alternatives): vanishing below 10⁻³, exploding above 10³."""
    if not math.isfinite(ratio):
        return "the gradients overflowed float32 (inf or NaN): they exploded"
    if ratio == 0:
        return "the first layer's gradient underflowed to exactly 0: it vanished completely"
    verdict = ("the gradient vanishes on its way to the input" if ratio < 1e-3 else
               "the gradient explodes on its way to the input" if ratio > 1e3 else
               "the gradient reaches the input within a factor of 1000")
    return f"the first layer's gradient is {ratio:.1e} times the output layer's: {verdict}"


def encode_png(rgba: np.ndarray, compress_level: int = 1) -> bytes:
    """A PNG of an RGBA buffer (its alpha dropped). Level 1 is about four times
    faster than the default 6 for a few percent more bytes: what a frame needs."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(out, "png", compress_level=compress_level)
    return out.getvalue()


class LiveFigure:
    """A matplotlib figure (Agg, outside pyplot: nothing is displayed behind
    the explorer's back) whose ``view`` updates its artists in place.

    ``view_class(axes)`` builds the artists; ``view.update(result)`` sets
    their data; ``view.dynamic()`` lists the artists that change from frame to
    frame (they are drawn over the saved background); ``view.overlays()`` the
    ones that change rarely but must stay on top of those (legends, with an
    opaque frame: their pixels are saved and put back over each frame);
    ``view.static_key()`` anything else drawn in the background that may
    change (the legends' labels are taken into account already). The layout
    (the figure's ``tight_layout``) is computed once, on the first frame,
    and never again: the picture does not jump.
    """

    def __init__(self, view_class, figsize=(12, 4.2), dpi: float | None = None, ncols: int = 2):
        import matplotlib as mpl
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=figsize, dpi=dpi or mpl.rcParams["figure.dpi"])
        FigureCanvasAgg(self.figure)
        make_axes = getattr(view_class, "make_axes", None)  # a view with a layout of its own
        with palette.context():   # the course's colours and line styles, whatever the notebook set
            self.view = view_class(make_axes(self.figure) if make_axes else self.figure.subplots(1, ncols))
        self._background = None
        self._signature = None
        self._overlays = []
        self.full_draws = 0     # frames that redrew everything (the rest were blitted)
        self.frames = 0

    @property
    def size_px(self) -> tuple[int, int]:
        width, height = self.figure.canvas.get_width_height()
        return int(width), int(height)

    def _layout_signature(self, overlays) -> tuple:
        legends = tuple((id(o), tuple(t.get_text() for t in getattr(o, "texts", ()))) for o in overlays)
        return tuple((ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale())
                     for ax in self.figure.axes) + legends + tuple(self.view.static_key())

    def _in_drawing_order(self, artists: list) -> list:
        """``artists`` in the order matplotlib would draw them: axes by axes,
        by z-order, then in the order they were added (figure texts last)."""
        rank = {}
        for i, ax in enumerate(self.figure.axes):
            for j, artist in enumerate(ax.get_children()):
                rank[id(artist)] = (i, artist.get_zorder(), j)
        last = len(self.figure.axes)
        return sorted(artists, key=lambda a: rank.get(id(a), (last, a.get_zorder(), 0)))

    def draw(self, result) -> np.ndarray:
        """Update the view to ``result`` and render: the RGBA buffer."""
        canvas = self.figure.canvas
        self.view.update(result)
        dynamic = self._in_drawing_order([a for a in self.view.dynamic() if a is not None])
        overlays = [a for a in self.view.overlays() if a is not None]
        for artist in dynamic:
            artist.set_animated(True)
        if self.frames == 0:
            self.figure.tight_layout()
        signature = self._layout_signature(overlays)
        if signature != self._signature:
            canvas.draw()  # everything but the animated artists
            self._background = canvas.copy_from_bbox(self.figure.bbox)
            renderer = canvas.get_renderer()
            self._overlays = [canvas.copy_from_bbox(o.get_window_extent(renderer).padded(1))
                              for o in overlays if o.get_visible()]
            self._signature = signature
            self.full_draws += 1
        else:
            canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        for artist in dynamic:
            if artist.get_visible():
                artist.draw(renderer)
        for region in self._overlays:
            canvas.restore_region(region)
        self.frames += 1
        return np.asarray(canvas.buffer_rgba())

    def frame(self, result) -> bytes:
        return encode_png(self.draw(result))

    def picture(self) -> bytes:
        """The figure as it is now, a PNG compressed for keeping (a notebook's output)."""
        return encode_png(np.asarray(self.figure.canvas.buffer_rgba()), compress_level=6)


def static_figure(view_class, result, axes=None, figsize=(12, 4.2), **view_options):
    """Draw ``result`` with ``view_class`` into ``axes`` (two new ones in a
    pyplot figure if None), as an ordinary figure: what ``plots.plot_…`` do,
    so a static figure and its explorer look the same. ``view_options`` go to
    ``view_class`` after the axes. Returns the axes."""
    import matplotlib.pyplot as plt

    with palette.context():   # the course's colours and line styles, whatever the notebook set
        if axes is None:
            make_axes = getattr(view_class, "make_axes", None)
            if make_axes is not None:
                axes = make_axes(plt.figure(figsize=figsize))
            else:
                _, axes = plt.subplots(1, 2, figsize=figsize)
        view = view_class(axes, **view_options)
    view.update(result)
    np.ravel(axes)[0].figure.tight_layout()
    return axes


class Explorer:
    """An explorer: its controls, its live figure and what surrounds it.

    Args:
        controls: ``{name: widget}``; the compute function gets
            ``{name: widget.value}``.
        compute: ``values -> result``, pure.
        view_class: draws a result (see :class:`LiveFigure`).
        rows: the controls' layout, a list of columns (each a list of names).
        presets: ``{label: {name: value}}``, one button each.
        code: ``values -> str``, the Keras code of the configuration shown.
        preview: ``values -> result``, cheaper than ``compute``; shown while a
            control moves when the exact result takes longer than ``slow_s``.
        preview_note: what the preview leaves out, for the status line.
        describe: ``values -> str`` for the status line.
        toolbar: widgets shown in a row between the controls and the figure
            (the training explorer's Play, Pause, Step and Reset).
        words: ``result -> str``, the figure in words: its text alternative,
            set with every frame (:mod:`.access` puts it on the image).
    ``rows`` may hold widgets as well as names (e.g. a strategy drop-down
    wired to the controls).
    """

    def __init__(self, controls: dict, compute: Callable, view_class, rows: list, *,
                 presets: dict | None = None, code: Callable | None = None, preview: Callable | None = None,
                 preview_note: str = "", describe: Callable | None = None, figsize=(12, 4.2),
                 slow_s: float = 0.15, settle_s: float = 0.15, toolbar: list | None = None,
                 words: Callable | None = None):
        import ipywidgets as w

        self.controls, self.compute, self.preview = controls, compute, preview
        self.preview_note, self.describe, self.code = preview_note, describe, code
        self.words = words
        self.slow_s, self.settle_s = slow_s, settle_s
        self.presets = dict(presets or {})
        self.live = LiveFigure(view_class, figsize)
        self._cond = threading.Condition()
        self._wanted = None
        self._busy = False
        self._holding = False
        self._thread = None
        self.errors = 0
        self.exact_seconds = 0.0    # how long the last exact computation took

        first = self.values()
        start = time.perf_counter()
        result = compute(first)     # bad starting values raise here, before any widget
        computed = time.perf_counter() - start  # a first call warms up (imports, Keras): not an estimate
        width, _ = self.live.size_px
        self.image = w.Image(value=self.live.frame(result), format="png",
                             layout=w.Layout(width=f"{width}px", max_width="100%", height="auto"))
        self.access = access_class()(alt=self._words(result))
        self.status = w.HTML(layout=w.Layout(min_height="1.6em"))
        self.code_view = w.HTML()
        self.shown = first          # the values whose exact result is on screen
        self._set_status(first, "exact", computed, 0.0)
        self._set_code(first)

        pieces = [w.HBox([w.VBox([controls[k] if isinstance(k, str) else k for k in column])
                          for column in rows])]
        if self.presets:
            buttons = []
            for label, values in self.presets.items():
                button = w.Button(description=label, tooltip=_preset_tip(values),
                                  layout=w.Layout(width="auto"))
                button.on_click(lambda _, values=values: self.apply(**values))
                buttons.append(button)
            self.preset_buttons = buttons
            pieces.append(w.HBox([w.Label("Try:")] + buttons, layout=w.Layout(flex_flow="row wrap")))
        if toolbar:
            pieces.append(w.HBox(list(toolbar), layout=w.Layout(flex_flow="row wrap")))
        pieces += [self.image, self.status, self.access]
        if code is not None:
            accordion = w.Accordion([self.code_view], selected_index=None)
            accordion.set_title(0, "Keras code of what you see (select, copy, paste into a cell)")
            pieces.append(accordion)
        self.widget = _box_class()(pieces, explorer=self)
        self.widget.add_class(BOX_CLASS)
        for control in controls.values():
            control.observe(self._changed, names="value")

    # -- the values ---------------------------------------------------------
    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def apply(self, **values) -> None:
        """Set several controls at once (a preset): one new frame, not one per control."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; valid: {sorted(self.controls)}")
        self._holding = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._holding = False
        self._changed()

    # -- the worker ---------------------------------------------------------
    #: the worker thread's name (tests look for it)
    thread_name = "explorer-frames"

    def _changed(self, change=None):
        if self._holding:
            return
        with self._cond:
            self._wanted = self.values()
            self._cond.notify_all()
        self._wake()

    def _wake(self):
        """Start the worker thread unless it runs (it ends when idle)."""
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name=self.thread_name, daemon=True)
                self._thread.start()

    def _work(self):
        while True:
            with self._cond:
                if self._wanted is None:
                    self._cond.wait(IDLE_EXIT_S)
                    if self._wanted is None:
                        self._thread = None
                        self._cond.notify_all()
                        return
                values, self._wanted = self._wanted, None
                self._busy = True
            try:
                if self.preview is not None and self.exact_seconds > self.slow_s:
                    self._show(values, preview=True)
                    with self._cond:  # the exact result once the control rests
                        if self._cond.wait_for(lambda: self._wanted is not None, timeout=self.settle_s):
                            continue
                self._show(values)
            except BaseException:  # never leave the explorer without its worker
                self._show_error()
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _show(self, values: dict, preview: bool = False):
        try:
            with one_blas_thread():
                start = time.perf_counter()
                result = (self.preview if preview else self.compute)(values)
                computed = time.perf_counter() - start
                png = self.live.frame(result)
                drawn = time.perf_counter() - start - computed
        except Exception:
            self._show_error()
            return
        if not preview:
            self.exact_seconds, self.shown = computed, values
        self.show_frame(png, result)
        self._set_status(values, "preview" if preview else "exact", computed, drawn)
        if not preview:
            self._set_code(values)

    def _show_error(self):
        """The exception being handled, as a traceback in the status line."""
        self.errors += 1
        self.status.value = ('<pre class="explorer-error" style="color:#b00">'
                             + html.escape(traceback.format_exc()) + "</pre>")

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every change so far is on screen (for tests and scripts)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._wanted is None and not self._busy, timeout=timeout):
                raise TimeoutError(f"the explorer did not catch up within {timeout} s")

    # -- around the figure --------------------------------------------------
    def _words(self, result) -> str:
        return self.words(result) if self.words else ""

    @property
    def alt(self) -> str:
        """The figure's text alternative as it is now (the frame on screen)."""
        return self.access.alt

    def show_frame(self, png: bytes, result) -> None:
        """Put a new frame on screen, and its text alternative (sent in a
        message of its own: the image's state carries only the picture)."""
        self.image.value = png
        self.access.alt = self._words(result)

    def _set_status(self, values, kind, computed, drawn):
        what = self.describe(values) if self.describe else ""
        if kind == "preview":
            head = f"<b>preview</b> ({self.preview_note}); the exact result follows when the control rests"
        else:
            head = "<b>exact</b>"
        state = html.escape(json.dumps({"kind": kind, "values": values, "frame": self.live.frames},
                                       default=str), quote=True)
        self.status.value = (f'<span class="explorer-status" data-state="{state}">{head} · '
                             f"{html.escape(what)} · computed in {computed * 1000:.0f} ms, "
                             f"drawn in {drawn * 1000:.0f} ms</span>")

    def _set_code(self, values):
        if self.code is not None:
            self.code_view.value = ('<pre style="font-size:12px;line-height:1.35;user-select:text">'
                                    + html.escape(self.code(values)) + "</pre>")


def _preset_tip(values: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in values.items())


@functools.cache
def _box_class():
    """The explorer's widget class (made on first use: importing this module
    does not import ipywidgets)."""
    import ipywidgets as w

    class ExplorerBox(w.VBox):
        """The explorer's widget. Saved with a notebook, its output also holds
        a PNG of the figure (``image/png``) for readers without a kernel."""

        def __init__(self, children, explorer):
            super().__init__(children)
            self.explorer = explorer

        def _repr_mimebundle_(self, **kwargs):
            bundle = super()._repr_mimebundle_(**kwargs)
            picture, metadata = figure_bundle(self.explorer.live.picture(), self.explorer.alt, PICTURE_TEXT)
            bundle.update(picture)
            return bundle, metadata

        def flush(self, timeout: float = 30.0):
            self.explorer.flush(timeout)

    return ExplorerBox

