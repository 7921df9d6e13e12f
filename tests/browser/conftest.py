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


_ROWS = ("([name, skip]) => { const v = window.nichelab.views[name]; const out = [];"
         " for (const k of Object.keys(v._runtime.data)) { if (skip.includes(k)) continue; let rows;"
         " try { rows = v.data(k); } catch (e) { continue; } if (!rows || !rows.length) continue;"
         " out.push(...rows.map(r => JSON.stringify(r, (f, x) => f && x !== null && typeof x === 'object'"
         " ? undefined : x))); } return out; }")

#: The small hierarchy run the hierarchy page tests share (one run per session).
HIERARCHY_ARGS = ("--seeds", "2", "--epochs", "1", "--per-class", "20", "--featvis-steps", "2",
                  "--model", "cnn 4-8 fc=16", "--probe-repeats", "1")


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

    def check_drawn(self) -> list:
        """Assert the page asked for nothing but itself, logged no error, and drew every chart (one Vega
        view with a canvas per ``.nl-chart``); return the chart names in page order."""
        assert self.requests == [self.url], f"unexpected requests: {self.requests}"
        assert self.errors == [] and self.page.evaluate("window.nichelab.errors") == []
        names = self.page.eval_on_selector_all(".nl-chart", "els => els.map(e => e.dataset.chart)")
        assert set(names) == set(self.page.evaluate("Object.keys(window.nichelab.views)"))
        assert all(self.page.eval_on_selector_all(".nl-chart", "els => els.map(e => !!e.querySelector('canvas'))"))
        return names

    def chart_rows(self, name: str, skip=()) -> list:
        """Every row of every dataset of chart ``name``'s Vega view (but those named in ``skip``), each as
        a JSON string of its scalar fields, in the view's order."""
        return self.page.evaluate(_ROWS, [name, list(skip)])

    def tooltip(self, x, y) -> str:
        """The text of the Vega tooltip shown when hovering page point (x, y)."""
        self.page.mouse.move(x, y)
        self.page.wait_for_selector("#vg-tooltip-element.visible", timeout=5000)
        text = self.page.text_content("#vg-tooltip-element")
        self.page.mouse.move(0, 0)
        return text


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


@pytest.fixture(scope="session")
def study_run(tmp_path_factory):
    """``study_run(study, *args) -> (folder, results)``: one ``nichelab run`` per distinct command in the
    session (pages of the same run are shared between test modules)."""
    import json

    from typer.testing import CliRunner

    from nichelab.cli import app
    done = {}

    def _run(study: str, *args: str):
        key = (study, *args)
        if key not in done:
            out = tmp_path_factory.mktemp(study) / "run"
            res = CliRunner().invoke(app, ["run", study, *args, "--out", str(out)])
            assert res.exit_code == 0, res.output
            done[key] = out, json.loads((out / "results.json").read_text())
        return done[key]
    return _run


@pytest.fixture(scope="session")
def hierarchy_run(study_run):
    """``(folder, results)`` of the small hierarchy run (``HIERARCHY_ARGS``)."""
    return study_run("hierarchy", *HIERARCHY_ARGS)
