"""The explorers for a keyboard and a screen reader: a small front-end piece
(an anywidget) that sits in every explorer and fixes, in the page, what
ipywidgets' own controls leave out:

- the figure gets a text alternative (``alt``) that follows every frame:
  ipywidgets' ``Image`` has no alt option, and its ``tooltip`` cannot be
  sent with the picture's bytes (JupyterLab then fails to draw it);
- each slider's handle (noUiSlider's ``role="slider"``) is named after its
  label, says its value as the readout shows it (a log slider's 0.050, not
  its exponent -1.3), and leaves the Tab order while it is disabled;
- arrow keys, Page Up/Down, Home and End on a drop-down or slider stay with
  it (JupyterLab's command mode would otherwise move to the next cell);
- the status line is a polite live region;
- the "Keras code" accordion opens from the keyboard;
- a button that disables itself when pressed (Play, Pause) hands the focus
  to the button now enabled beside it instead of dropping it to the page.

It draws nothing and holds no state beyond ``alt``; everything it changes is
an attribute of an element the explorer already has.

:func:`figure_bundle` is the other half, for pictures saved in a notebook (the
notebooks' figures, an explorer's picture): the text alternative stored where
nbconvert, the website and JupyterLab each look for it.
"""

from __future__ import annotations

import base64
import functools
import html

#: the class the explorer's box carries, which the piece looks for around itself
BOX_CLASS = "lecture-explorer"

ESM = r"""
const KEYS = new Set(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "PageUp", "PageDown", "Home", "End"]);

function set(element, name, value) {
  if (value === null || value === undefined) {
    if (element.hasAttribute(name)) element.removeAttribute(name);
  } else if (element.getAttribute(name) !== String(value)) {
    element.setAttribute(name, String(value));
  }
}

function text(element) {
  return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
}

function fix(box, alt) {
  for (const image of box.querySelectorAll("img")) set(image, "alt", alt);
  for (const slider of box.querySelectorAll(".widget-slider")) {
    const label = text(slider.querySelector(".widget-label")) || "value";
    const readout = slider.querySelector(".widget-readout");
    const target = slider.querySelector(".noUi-target");
    const disabled = !!(target && target.hasAttribute("disabled"));
    for (const handle of slider.querySelectorAll(".noUi-handle")) {
      set(handle, "aria-label", label);
      if (readout) set(handle, "aria-valuetext", text(readout));
      set(handle, "tabindex", disabled ? "-1" : "0");
      set(handle, "aria-disabled", disabled ? "true" : null);
    }
    if (readout) {
      set(readout, "aria-label", `${label}, typed value`);
      set(readout, "role", "textbox");
    }
  }
  const status = box.querySelector(".explorer-status");
  const region = status && status.closest(".widget-html");
  if (region) {
    set(region, "role", "status");
    set(region, "aria-live", "polite");
    set(region, "aria-atomic", "true");
  }
  for (const header of box.querySelectorAll(".jupyter-widget-Collapse-header, .p-Collapse-header")) {
    set(header, "tabindex", "0");
    set(header, "role", "button");
    const open = header.parentElement && header.parentElement.classList.contains("jupyter-widget-Collapse-open");
    set(header, "aria-expanded", open ? "true" : "false");
  }
}

function render({ model, el }) {
  el.style.display = "none";
  let box = null;
  let scheduled = false;
  let focused = null;
  const run = () => {
    scheduled = false;
    if (box) fix(box, model.get("alt"));
  };
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(run);
    }
  };
  const keys = (event) => {
    const target = event.target;
    if (KEYS.has(event.key) && target.matches && target.matches("select, .noUi-handle, input")) {
      event.stopPropagation();   // the control's own; JupyterLab's command mode must not take it
    }
    if ((event.key === "Enter" || event.key === " ") && target.matches &&
        target.matches(".jupyter-widget-Collapse-header, .p-Collapse-header")) {
      event.preventDefault();
      event.stopPropagation();
      target.click();
    }
  };
  const remember = (event) => { focused = event.target; };
  const handOn = () => {
    // the focused button disabled itself (Play, Pause): focus the enabled one beside it
    if (!focused || !focused.disabled || !focused.matches("button")) return;
    const active = document.activeElement;
    if (active && active !== document.body && box && box.contains(active) && active !== focused) return;
    const next = [...focused.parentElement.querySelectorAll("button")].find((b) => !b.disabled);
    if (next) next.focus();
  };
  const observer = new MutationObserver((records) => {
    schedule();
    if (records.some((r) => r.type === "attributes" && r.attributeName === "disabled")) handOn();
  });
  const attach = () => {
    box = el.closest(".%(box)s");
    if (!box) {
      requestAnimationFrame(attach);
      return;
    }
    observer.observe(box, { subtree: true, childList: true, characterData: true, attributes: true,
                            attributeFilter: ["disabled", "class", "src"] });
    box.addEventListener("keydown", keys);
    box.addEventListener("focusin", remember);
    schedule();
  };
  attach();
  model.on("change:alt", schedule);
  return () => {
    observer.disconnect();
    model.off("change:alt", schedule);
    if (box) {
      box.removeEventListener("keydown", keys);
      box.removeEventListener("focusin", remember);
    }
  };
}

export default { render };
""" % {"box": BOX_CLASS}


@functools.cache
def access_class():
    """The widget class (made on first use: importing this module does not
    import anywidget)."""
    import anywidget
    import traitlets

    class Access(anywidget.AnyWidget):
        """An explorer's keyboard and screen-reader piece; ``alt`` is the
        figure's text alternative, set with every frame."""

        _esm = ESM
        alt = traitlets.Unicode("").tag(sync=True)

    return Access


def figure_bundle(png: bytes, alt: str, plain: str) -> tuple[dict, dict]:
    """A figure as a display's ``(data, metadata)`` with its text alternative
    ``alt`` where each reader finds it: the ``image/png`` metadata ``alt``
    (nbconvert's classic HTML, and the website: tools/build_site.py), and a
    ``text/html`` ``<img alt>`` of the same picture (JupyterLab ignores the
    metadata, and prefers the HTML; so does nbconvert's default template).
    ``plain`` is the ``text/plain`` (what a terminal shows)."""
    encoded = base64.b64encode(png).decode("ascii")
    data = {"image/png": encoded, "text/plain": plain,
            "text/html": f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt, quote=True)}"/>'}
    return data, {"image/png": {"alt": alt}}
