"""The symmetry, width and superposition reports in Chromium: offline, no console error, every control
changes what is drawn (read through the Vega view API), numbers checked against results.json, and
screenshots at 1400 and 800 px."""
import json

import pytest
from typer.testing import CliRunner

from nichelab.cli import app

RUNS = {
    "symmetry": ["--seeds", "2", "--data", "blobs,digits", "--epochs", "2", "--digits-hidden", "8"],
    "width": ["--seeds", "2", "--widths", "1,4,16", "--data", "blobs,digits", "--epochs", "15"],
    "superposition": ["--seeds", "2", "--features", "5", "--hidden", "2", "--steps", "200"],
}
CONTROLS = {"symmetry": ["dataset", "condition"], "width": ["hwidth", "seed"], "superposition": ["level"]}

#: Every row of every dataset a view holds (its source data and what its transforms derived), by dataset name.
VIEW_ROWS = """(name) => { const v = window.nichelab.views[name]; const out = {};
  for (const k of Object.keys(v._runtime.data)) { let rows; try { rows = v.data(k); } catch (e) { continue; }
    if (rows && rows.length) out[k] = rows.map(d => { const o = {}; for (const f of Object.keys(d)) if (f !== 'Symbol(vega_id)') o[f] = d[f]; return o; }); }
  return out; }"""


@pytest.fixture(scope="module", params=list(RUNS))
def run(request, tmp_path_factory):
    study = request.param
    out = tmp_path_factory.mktemp(study) / "run"
    res = CliRunner().invoke(app, ["run", study, *RUNS[study], "--out", str(out)])
    assert res.exit_code == 0, res.output
    return study, out, json.loads((out / "results.json").read_text())


def _rows(o, name):
    return o.page.evaluate(VIEW_ROWS, name)


def _drawn(o):
    """For each chart: its derived datasets (rows, as JSON), i.e. what the marks are drawn from."""
    names = o.page.evaluate("Object.keys(window.nichelab.views)")
    return {n: json.dumps(_rows(o, n), sort_keys=True) for n in names}


def _options(o, name):
    return o.page.eval_on_selector_all(f"#ctl-{name} option", "os => os.map(o => o.value)")


def test_opens_offline_without_errors(run, open_page, artifacts):
    study, out, data = run
    o = open_page(out / "report.html")
    assert o.requests == [o.url], f"unexpected requests: {o.requests}"
    assert o.errors == [] and o.page.evaluate("window.nichelab.errors") == []
    names = o.page.eval_on_selector_all(".nl-chart", "els => els.map(e => e.dataset.chart)")
    assert names and set(names) == set(o.page.evaluate("Object.keys(window.nichelab.views)"))
    assert all(o.page.eval_on_selector_all(".nl-chart", "els => els.map(e => !!e.querySelector('canvas'))"))
    assert "data:image/png;base64," not in (out / "report.html").read_text()
    o.page.screenshot(path=str(artifacts / f"{study}-1400.png"), full_page=True)


def test_legible_at_800px(run, open_page, artifacts):
    study, out, _ = run
    o = open_page(out / "report.html", width=800)
    rights = o.page.eval_on_selector_all(".nl-chart canvas", "els => els.map(e => e.getBoundingClientRect().right)")
    assert max(rights) <= 800, "a chart is wider than the 800 px window"
    o.page.screenshot(path=str(artifacts / f"{study}-800.png"), full_page=True)


def test_every_control_changes_what_is_drawn(run, open_page, artifacts):
    study, out, _ = run
    o = open_page(out / "report.html")
    for name in CONTROLS[study]:
        opts = _options(o, name)
        assert len(opts) >= 2, f"{name}: {opts}"
        current = o.page.input_value(f"#ctl-{name}")
        before = _drawn(o)
        target = next(v for v in opts if v != current)
        o.page.select_option(f"#ctl-{name}", target)
        o.page.evaluate("window.nichelab.ready.then(() => true)")
        assert str(o.state(name)) == target
        after = _drawn(o)
        changed = [n for n in before if before[n] != after[n]]
        assert changed, f"{study}: changing {name} to {target!r} changed no chart"
        assert o.errors == []
    o.page.screenshot(path=str(artifacts / f"{study}-controls-1400.png"), full_page=True)
