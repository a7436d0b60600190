"""What the browser tests share: headless Chromium (Debian's, never a
downloaded build), one for each module that asks for the ``browser`` fixture."""
import os
import shutil

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1600, "height": 1200}
PAGE_TIMEOUT_S = 60      # a page loads (JupyterLab: and its kernel starts)
INSTALL_HINT = ("The browser tests need Debian's Chromium: `sudo apt-get install chromium` "
                "(.ci/run installs it), or set CHROMIUM=/path/to/chromium.")


def _chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"Chromium not found at {path}. {INSTALL_HINT}", pytrace=False)
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium with a fresh profile, one for the module, always closed."""
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is missing: `.venv/bin/pip install -e \".[dev,jax]\"` "
                    f"(it needs no browser download). {INSTALL_HINT}", pytrace=False)
    playwright = sync_playwright().start()
    context = None
    try:
        try:
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path_factory.mktemp("chromium-profile")), executable_path=executable,
                headless=True, args=CHROMIUM_ARGS, viewport=VIEWPORT, timeout=60_000)
        except Exception as e:
            pytest.fail(f"Chromium ({executable}) did not start: {e}\n{INSTALL_HINT}", pytrace=False)
        context.set_default_timeout(PAGE_TIMEOUT_S * 1000)
        yield context
    finally:
        if context is not None:
            try:
                context.close()
            except Exception:
                pass
        playwright.stop()


@pytest.fixture
def reader(browser, server):
    """A page of the module's ``server`` (a static file server on 127.0.0.1),
    every request elsewhere refused (tests/static_pages.py); always closed."""
    from static_pages import Reader

    r = Reader(browser, server)
    yield r
    r.close()
