"""The analyze census charts and the sweep report in Chromium: offline, no console error, each control changes
what is drawn, drawn numbers are the stored ones, hover and clicks work; screenshots at 1400 and 800 px."""
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.reporting.html import render_html
from nichelab.reporting.pages import sweep

ITEMS = """([name, type]) => { const v = window.nichelab.views[name]; const out = [];
  const r = v.container().querySelector('canvas').getBoundingClientRect(), o = v.origin(), pad = v.padding();
  function walk(mark, ox, oy) { for (const it of mark.items || []) {
      if (mark.marktype === type && it.datum) { const w = it.width || 0, h = it.height || 0;
        out.push({d: JSON.parse(JSON.stringify(it.datum, (k, x) => k && x !== null && typeof x === 'object' ? undefined : x)),
                  x: r.left + pad.left + o[0] + ox + (it.x || 0) + w / 2, y: r.top + pad.top + o[1] + oy + (it.y || 0) + h / 2,
                  opacity: it.opacity === undefined ? 1 : it.opacity}); }
      if (mark.marktype === 'group') for (const c of it.items || []) walk(c, ox + (it.x || 0), oy + (it.y || 0)); } }
  walk(v.scenegraph().root, 0, 0); return out; }"""


def _items(o, name, marktype, key):
    return [i for i in o.page.evaluate(ITEMS, [name, marktype]) if key in i["d"]]


def _wait(o):
    o.page.evaluate("window.nichelab.ready.then(() => true)")


def _check_opened(o, width):
    names = o.check_drawn()
    assert names
    right = o.page.eval_on_selector_all(".nl-chart canvas", "els => els.map(e => e.getBoundingClientRect().right)")
    assert max(right) <= width, f"a chart is wider than the {width} px window"
    return names


# --- analyze ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def analyze_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("census") / "analyze"
    res = CliRunner().invoke(app, ["analyze", "--dataset", "digits", "--model", "mlp 32-16", "--epochs", "2",
                                   "--lr", "0.01", "--max-samples", "400", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out, json.loads((out / "results.json").read_text())


@pytest.mark.parametrize("width", [1400, 800])
def test_analyze_census_charts(analyze_run, open_page, artifacts, width):
    out, data = analyze_run
    v = data["views"]
    o = open_page(out / "report.html", width=width)
    names = _check_opened(o, width)
    assert {"class_means", "selectivity", "ablation", "probes"} <= set(names)
    o.page.screenshot(path=str(artifacts / f"analyze_census_{width}.png"), full_page=True)
    for name in ("class_means", "selectivity", "ablation", "probes"):
        o.page.locator(f"#chart-{name}").screenshot(path=str(artifacts / f"analyze_{width}_{name}.png"))

    # the heatmap layer selector: both heatmaps draw the chosen layer's stored numbers
    for panel, abl in zip(v["class_means"][::-1], v["ablation"]["panels"][::-1]):
        o.page.select_option("#ctl-clayer", panel["name"])
        _wait(o)
        cells = {(c["d"]["row"], c["d"]["pos"]): c["d"] for c in _items(o, "class_means", "rect", "z")}
        z = np.asarray(panel["z"], float)
        assert len(cells) == z.size and {c["layer"] for c in cells.values()} == {panel["name"]}
        for (row, pos), c in cells.items():
            assert (c["z"] is None) if np.isnan(z[row, pos]) else c["z"] == pytest.approx(z[row, pos], abs=1e-9)
            assert c["unit"] == f"{panel['name']}:{panel['order'][pos]}"
        cost = {(c["d"]["row"], c["d"]["pos"]): c["d"]["pp"] for c in _items(o, "ablation", "rect", "pp")}
        assert cost == pytest.approx({(r, p): x for (r, p), x in np.ndenumerate(np.asarray(abl["z"], float))})
        keys = _items(o, "ablation", "symbol", "key")
        assert sorted(k["d"]["pos"] for k in keys) == sorted(abl["key"])

    # clicking a class-mean column selects its unit everywhere (the readout and the selectivity ring)
    o.page.locator("#chart-class_means").scroll_into_view_if_needed()
    cell = next(c for c in _items(o, "class_means", "rect", "z") if c["d"]["z"] is not None
                and c["d"]["unit"] != o.state("unit"))
    o.page.mouse.click(cell["x"], cell["y"])
    o.page.mouse.move(0, 0)
    _wait(o)
    assert o.state("unit") == cell["d"]["unit"]
    assert o.page.eval_on_selector("#ctl-unit", "e => e.value") == cell["d"]["unit"]
    ring = [i for i in o.page.evaluate(ITEMS, ["selectivity", "symbol"]) if i["d"].get("unit") == cell["d"]["unit"]]
    assert ring, "the selected unit is not drawn in the selectivity chart"

    # every live unit's selectivity is a dot; hovering one names it
    o.page.locator("#chart-selectivity").scroll_into_view_if_needed()
    dots = _items(o, "selectivity", "symbol", "s")
    for li, live in enumerate(v["selectivity"]["live"]):
        mine = sorted({(d["d"]["unit"], d["d"]["s"]) for d in dots if d["d"]["li"] == li})
        assert sorted(s for _, s in mine) == pytest.approx(sorted(live))
    units = {u["unit"]: u for rec in data["layers"] for u in rec["unit_records"]}
    top = max(dots, key=lambda d: d["d"]["s"])
    assert top["d"]["s"] == pytest.approx(units[top["d"]["unit"]]["selectivity"], abs=1e-4)
    assert top["d"]["unit"] in o.tooltip(top["x"], top["y"])

    # probes: the held-out line is the stored accuracy
    held = sorted((p["d"]["li"], p["d"]["acc"]) for p in _items(o, "probes", "symbol", "acc")
                  if p["d"]["split"] == "held-out samples")
    assert [a for _, a in held] == pytest.approx([100 * x for x in v["probes"]["test"]], abs=1e-2)
    assert o.errors == []


# --- sweep -----------------------------------------------------------------------------------------------------

ROWS = [{"cell": f"hidden-{h}_init-{i}", "folder": f"cells/hidden-{h}_init-{i}", "status": "done", "hidden": h, "init": i,
         "n_seeds": 50, **{f"n_{o}": k for o, k in zip(("distinct", "duplicate", "dead", "other"), (20 + h + j, 20 - h, 5, 5 - j))},
         "accuracy_mean": 0.8 + 0.03 * h - 0.02 * j, "accuracy_lo": 0.78 + 0.03 * h - 0.02 * j,
         "accuracy_hi": 0.82 + 0.03 * h - 0.02 * j}
        for h in (2, 3, 4) for j, i in enumerate(("glorot", "torch"))]


def _sweep_page(tmp_path):
    from nichelab.studies.text import wilson_interval as wilson
    rows = []
    for r in ROWS:
        r = dict(r)
        for o in ("distinct", "duplicate", "dead", "other"):
            lo, hi = wilson(r[f"n_{o}"], r["n_seeds"])
            r.update({f"share_{o}": r[f"n_{o}"] / r["n_seeds"], f"share_{o}_lo": lo, f"share_{o}_hi": hi})
        rows.append(r)
    spec = {"study": "lab", "grid": {"hidden": [2, 3, 4], "init": ["glorot", "torch"]}, "seeds": 50, "first_seed": 0}
    path = tmp_path / "report.html"
    path.write_text(render_html(sweep.page(spec, rows, {})), encoding="utf-8")
    return path, rows


@pytest.mark.parametrize("width", [1400, 800])
def test_sweep_report(tmp_path, open_page, artifacts, width):
    path, rows = _sweep_page(tmp_path)
    o = open_page(path, width=width)
    assert {"outcome_lines", "accuracy_lines"} <= set(_check_opened(o, width))
    o.page.screenshot(path=str(artifacts / f"sweep_{width}.png"), full_page=True)
    pts = _items(o, "outcome_lines", "symbol", "share")
    assert len(pts) == 4 * len(rows)
    for p in pts:
        r = next(x for x in rows if x["cell"] == p["d"]["cell"])
        o_ = p["d"]["outcome"]
        assert (p["d"]["share"], p["d"]["lo"], p["d"]["hi"]) == pytest.approx(
            (100 * r[f"share_{o_}"], 100 * r[f"share_{o_}_lo"], 100 * r[f"share_{o_}_hi"]), abs=1e-3)
    acc = _items(o, "accuracy_lines", "symbol", "acc")
    assert sorted(a["d"]["acc"] for a in acc) == pytest.approx(sorted(100 * r["accuracy_mean"] for r in rows))
    o.page.locator("#chart-accuracy_lines").scroll_into_view_if_needed()
    acc = _items(o, "accuracy_lines", "symbol", "acc")                 # positions after scrolling
    first = max(acc, key=lambda a: a["d"]["acc"])
    assert first["d"]["cell"] in o.tooltip(first["x"], first["y"])
    # the line selector: the chosen line stays opaque, the others fade (keyboard: select + arrow keys)
    assert {a["opacity"] for a in acc} == {1}
    o.page.focus("#ctl-series")
    o.page.select_option("#ctl-series", "init=torch")
    _wait(o)
    acc = _items(o, "accuracy_lines", "symbol", "acc")
    assert {a["opacity"] for a in acc if a["d"]["series"] == "init=torch"} == {1}
    assert max(a["opacity"] for a in acc if a["d"]["series"] == "init=glorot") < 0.5
    shares = _items(o, "outcome_lines", "symbol", "share")
    assert max(a["opacity"] for a in shares if a["d"]["series"] == "init=glorot") < 0.5
    o.page.evaluate("window.scrollTo(0, 0)")                          # (the control bar sticks to the top)
    o.page.screenshot(path=str(artifacts / f"sweep_{width}_one_line.png"), full_page=True)
    assert o.errors == []
