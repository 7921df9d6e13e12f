"""Real-browser fixtures: Playwright for Python driving Debian's Chromium (never a downloaded browser).

Outside CI the tests skip, with the reason, when Playwright or Chromium is missing; with ``CI`` set
they fail instead, so CI cannot pass by skipping them.
"""
import os
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _chromium() -> str | None:
    for p in (os.environ.get("NICHELAB_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if p and os.path.isfile(p):
            return p
    return None


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    exe = _chromium()
    if exe is None:
        _missing("no Chromium found (apt-get install -y chromium, or set NICHELAB_CHROMIUM)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Opened:
    """A page opened from a file with every request recorded and every one but the page itself aborted."""

    def __init__(self, page, url):
        self.page, self.url = page, url
        self.requests, self.errors = [], []

    def wait_ready(self, timeout=30000):
        self.page.wait_for_function("document.body.dataset.chartsReady === '1'", timeout=timeout)
        return self

    def state(self, name):
        return self.page.evaluate(f"window.nichelab.state[{name!r}]")


@pytest.fixture
def open_page(browser):
    pages = []

    def _open(path: Path, width: int = 1400, height: int = 900) -> Opened:
        page = browser.new_page(viewport={"width": width, "height": height})
        url = path.resolve().as_uri()
        o = Opened(page, url)

        def route(r):
            o.requests.append(r.request.url)
            if r.request.url == url:
                r.continue_()
            else:
                r.abort()
        page.route("**/*", route)
        page.on("console", lambda m: o.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: o.errors.append(str(e)))
        page.goto(url)
        pages.append(page)
        return o.wait_ready()

    yield _open
    for p in pages:
        p.close()


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
