"""Helpers for the tests that read static pages in headless Chromium (the
website, tests/test_site.py; the grading report, tests/test_report.py): a file
server on 127.0.0.1 for a folder, a page opened with every request to
anywhere else refused and every problem collected, and axe-core's verdict on
a page against WCAG 2.1 A and AA."""
from __future__ import annotations

import contextlib
import functools
import http.server
import threading


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder):
    """A static file server on 127.0.0.1 for ``folder``: yields its origin; always stopped."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class Reader:
    """A page opened with every request off ``origin`` refused; what went
    wrong (console errors, script errors, failed requests, HTTP errors,
    requests elsewhere) is collected in ``problems``."""

    def __init__(self, browser, origin):
        self.page = browser.new_page()
        self.origin = origin
        self.problems = []
        self.page.route("**/*", self._route)
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} ({r.failure})"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))

    def _route(self, route):
        if route.request.url.startswith(self.origin):
            route.continue_()
        else:
            self.problems.append(f"asked the network: {route.request.url}")
            route.abort()

    def open(self, path):
        self.page.goto(f"{self.origin}/{path}")
        self.page.wait_for_load_state("networkidle")
        # MathJax 3 typesets after load; its promise settles when it is done
        self.page.evaluate("() => window.MathJax?.startup?.promise")
        return self.page

    def close(self):
        self.page.close()


# axe-core's rules for WCAG 2.0 and 2.1, levels A and AA; and label-content-name-mismatch
# (2.5.3 Label in Name), which axe counts as experimental and runs only when asked
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "rules": {"label-content-name-mismatch": {"enabled": True}}}


def load_axe(page) -> None:
    """Put axe-core in ``page``: the axe.min.js that the axe-playwright-python package
    carries (nothing is downloaded)."""
    from importlib import resources

    page.evaluate(resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8"))


def axe_violations(page) -> list[str]:
    """axe-core's violations of WCAG 2.1 A and AA on ``page`` (:func:`load_axe`), one line each."""
    load_axe(page)
    result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [f"{v['id']} ({v['impact']}): {len(v['nodes'])} element(s), e.g. {v['nodes'][0]['target']}: "
            f"{v['help']}" for v in result["violations"]]
