"""The convergence and compare reports in Chromium: offline, no console error, the layer heatmap's
measure selector and cell clicks change what is drawn, and the unit matching shown for a layer pair
is the one results.json holds (convergence: recomputed here from the stored matches)."""
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from nichelab.cli import app

ROWS = """([name, key]) => { const v = window.nichelab.views[name]; const out = [], seen = new Set();
  function walk(mark) { for (const it of mark.items || []) {
      if (mark.marktype === 'rect' && it.datum && key in it.datum) { const s = JSON.stringify(it.datum);
        if (!seen.has(s)) { seen.add(s); out.push(JSON.parse(s)); } }
      if (mark.marktype === 'group') for (const c of it.items || []) walk(c); } }
  walk(v.scenegraph().root); return out; }"""

CELL_AT = """([name, a, b]) => { const v = window.nichelab.views[name]; let found = null;
  function walk(mark, ox, oy) { for (const it of mark.items || []) { if (found) return;
      if (mark.marktype === 'rect' && it.datum && it.datum.a === a && it.datum.b === b && it.datum.s !== undefined)
        { found = [ox + it.x + it.width / 2, oy + it.y + it.height / 2]; return; }
      if (mark.marktype === 'group') for (const c of it.items || []) walk(c, ox + (it.x || 0), oy + (it.y || 0)); } }
  walk(v.scenegraph().root, 0, 0); if (!found) return null;
  const o = v.origin(), pad = v.padding(), r = v.container().querySelector('canvas').getBoundingClientRect();
  return [r.left + pad.left + o[0] + found[0], r.top + pad.top + o[1] + found[1]]; }"""


def _run(args, out):
    res = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    return json.loads((out / "results.json").read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("pages_b")
    conv = _run(["run", "convergence", "--seeds", "3", "--epochs", "3", "--model", "mlp 16-16",
                 "--measures", "linear_cka,svcca,procrustes"], base / "conv")
    cmp = _run(["compare", f"{base / 'conv'}#0", f"{base / 'conv'}#1"], base / "cmp")
    return base, conv, cmp


def _drawn(o, name, key):
    return o.page.evaluate(ROWS, [name, key])


def _check_opened(o):
    names = o.check_drawn()
    assert {"layer_heatmap", "pair_matching"} <= set(names)


def _domain(o, name, scale):
    return o.page.evaluate("([n, s]) => window.nichelab.views[n].scale(s).domain()", [name, scale])


def _cells(o):
    """The heatmap's drawn cells (one per layer pair: the outline layers repeat some)."""
    return list({(d["a"], d["b"]): d for d in _drawn(o, "layer_heatmap", "s")}.values())


def _matching_drawn(o):
    rows = _drawn(o, "pair_matching", "ua")
    return [(d["ua"], d["ub"], d["r"]) for d in sorted(rows, key=lambda d: d["k"])]


def _click_cell(o, a, b):
    o.page.locator("#chart-layer_heatmap").scroll_into_view_if_needed()
    xy = o.page.evaluate(CELL_AT, ["layer_heatmap", a, b])
    assert xy is not None, f"no cell {a}, {b} drawn"
    o.page.mouse.click(*xy)
    o.page.mouse.move(0, 0)            # no tooltip over the screenshots
    o.page.evaluate("window.nichelab.ready.then(() => 1)")


@pytest.mark.parametrize("width", [1400, 800])
def test_convergence_page(runs, open_page, artifacts, width):
    base, data, _ = runs
    o = open_page(base / "conv" / "report.html", width=width)
    _check_opened(o)
    o.page.screenshot(path=str(artifacts / f"convergence_{width}.png"), full_page=True)
    for name in ("contrast", "unit_shares", "identification"):
        o.page.locator(f"#chart-{name}").screenshot(path=str(artifacts / f"convergence_{width}_{name}.png"))
    layers = data["model"]["layers"]
    lp = data["views"]["layer_pairs"]
    assert len(lp["pairs"]) == len(layers) ** 2

    # measure selector: the heatmap's drawn values are the chosen measure's mean matrix
    for m in list(data["similarity"])[::-1]:
        o.page.select_option("select[data-param=measure]", m)
        o.page.evaluate("window.nichelab.ready.then(() => 1)")
        cells = _cells(o)
        assert {d["m"] for d in cells} == {m} and len(cells) == len(layers) ** 2
        mean = np.asarray(data["similarity"][m]["mean"], float)
        for d in cells:
            assert d["v"] == pytest.approx(mean[d["i"], d["j"]], abs=1e-4)
        # colours: the measure's own value on its fixed range (bright = similar), not rescaled per panel
        assert _domain(o, "layer_heatmap", "color") == ([2, 0] if m == "procrustes_distance" else [0, 1])
    o.page.select_option("select[data-param=measure]", "within")
    o.page.evaluate("window.nichelab.ready.then(() => 1)")
    cells = _cells(o)
    assert {d["m"] for d in cells} == {"within"}

    # clicking a cell selects its layer pair; the matching drawn is the stored one, best first
    o.page.select_option("select[data-param=measure]", "linear_cka")
    o.page.evaluate("window.nichelab.ready.then(() => 1)")
    before = _matching_drawn(o)
    a, b = layers[0], layers[1]
    _click_cell(o, a, b)
    assert o.state("pair") == f"{a}={b}"
    after = _matching_drawn(o)
    assert after != before
    stored = next(p for p in lp["pairs"] if p["layer_a"] == a and p["layer_b"] == b)
    assert [x[0] for x in after] == stored["unit_a"] and [x[1] for x in after] == stored["unit_b"]
    live = [x[2] for x, d in zip(after, stored["dead"]) if not d]
    assert live == sorted(live, reverse=True) and stored["dead"] == sorted(stored["dead"])
    # and it is the one-to-one matching of those activations: each unit of a used once
    assert len(set(stored["unit_a"])) == len(stored["unit_a"]) and len(set(stored["unit_b"])) == len(stored["unit_b"])
    assert o.page.text_content("select[data-param=pair]") is not None
    assert o.page.eval_on_selector("select[data-param=pair]", "e => e.value") == f"{a}={b}"
    readout = o.page.text_content("section.readout")
    assert f"{a}={b}" in readout and stored["unit_a"][0] in readout
    # the pair selector does the same (keyboard path)
    o.page.select_option("select[data-param=pair]", layers[1])
    o.page.evaluate("window.nichelab.ready.then(() => 1)")
    assert _matching_drawn(o) != after and o.state("pair") == layers[1]
    o.page.screenshot(path=str(artifacts / f"convergence_{width}_clicked.png"), full_page=True)
    o.page.locator("section:has(#chart-layer_heatmap)").last.screenshot(
        path=str(artifacts / f"convergence_{width}_heatmap.png"))
    assert o.errors == []


@pytest.mark.parametrize("width", [1400, 800])
def test_compare_page(runs, open_page, artifacts, width):
    base, _, data = runs
    o = open_page(base / "cmp" / "report.html", width=width)
    _check_opened(o)
    o.page.screenshot(path=str(artifacts / f"compare_{width}.png"), full_page=True)
    cells = _cells(o)
    m = np.asarray(data["matrix"], float)
    assert len(cells) == m.size
    for d in cells:
        assert d["v"] == pytest.approx(m[d["i"], d["j"]], abs=1e-4)
    assert _domain(o, "layer_heatmap", "color") == [0, 1]       # linear CKA on 0 to 1
    layers = [x["layer_a"] for x in data["matching"]]
    lowest = min(u["matched_corr"] for x in data["matching"] for u in x["units"] if u["matched_corr"] is not None)
    y_lo, y_hi = _domain(o, "pair_matching", "y")
    assert y_lo <= lowest and y_hi >= 1                          # no bar is cut off
    before = _matching_drawn(o)
    _click_cell(o, layers[-1], layers[-1])
    assert o.state("pair") == layers[-1]
    after = _matching_drawn(o)
    assert after != before
    stored = data["matching"][-1]["units"]
    want = [(u["name"], u["partner"], u["matched_corr"])
            for u in sorted(stored, key=lambda u: (u["dead"], -u["matched_corr"]))]
    assert [x[:2] for x in after] == [w[:2] for w in want]
    np.testing.assert_allclose([x[2] for x in after], [w[2] for w in want], atol=1e-4)
    # clicking a cell whose units were not matched changes nothing
    if len(layers) > 1:
        _click_cell(o, layers[0], layers[1])
        assert o.state("pair") == layers[-1]
    o.page.screenshot(path=str(artifacts / f"compare_{width}_clicked.png"), full_page=True)
    o.page.locator("section:has(#chart-layer_heatmap)").last.screenshot(
        path=str(artifacts / f"compare_{width}_heatmap.png"))
    assert o.errors == []


def test_specs_are_valid_vega_lite_and_export(runs, tmp_path):
    """No browser needed: every chart of both pages validates against the Vega-Lite schema and
    renders to PNG with vl-convert (the static export)."""
    import altair as alt
    from altair.utils.schemapi import validate_jsonschema

    from nichelab.reporting import build_report
    from nichelab.reporting.charts import export_chart, spec_with_data
    from nichelab.runs import load_run

    base, *_ = runs
    schema = alt.vegalite.v6.schema.core.load_schema()
    for folder, n in (("conv", 6), ("cmp", 3)):   # the unit-agreement chart on both pages
        charts = build_report(load_run(base / folder)).charts()
        assert len(charts) == n
        for c in charts:
            validate_jsonschema(spec_with_data(c), schema)
            assert export_chart(c, tmp_path / f"{folder}_{c.name}", "png").read_bytes()[:4] == b"\x89PNG"


# --- the unit-agreement chart (boxes and one dot per unit) -----------------------------------------------------

ITEMS = """([name, type]) => { const v = window.nichelab.views[name]; const out = [];
  const r = v.container().querySelector('canvas').getBoundingClientRect(), o = v.origin(), pad = v.padding();
  function walk(mark, ox, oy) { for (const it of mark.items || []) {
      if (mark.marktype === type && it.datum) { const w = it.width || 0, h = it.height || 0;
        out.push({d: JSON.parse(JSON.stringify(it.datum, (k, x) => k && x !== null && typeof x === 'object' ? undefined : x)),
                  x: r.left + pad.left + o[0] + ox + (it.x || 0) + w / 2, y: r.top + pad.top + o[1] + oy + (it.y || 0) + h / 2}); }
      if (mark.marktype === 'group') for (const c of it.items || []) walk(c, ox + (it.x || 0), oy + (it.y || 0)); } }
  walk(v.scenegraph().root, 0, 0); return out; }"""


def _check_distributions(o, dist, pairs, artifacts, stem, width):
    """Every stored value is a dot (these runs have fewer than MAX_DOTS per box) and hovering a dot names its unit."""
    from nichelab.reporting.pages.convergence import DISTRIBUTION_LABELS, MAX_DOTS
    o.page.locator("#chart-unit_distributions").scroll_into_view_if_needed()
    dots = [d for d in o.page.evaluate(ITEMS, ["unit_distributions", "symbol"]) if "v" in d["d"]]   # not the legend
    for key, per in dist.items():
        for layer, vals in per.items():
            assert len(vals) <= MAX_DOTS
            drawn = sorted(d["d"]["v"] for d in dots if d["d"]["kind"] == DISTRIBUTION_LABELS[key] and d["d"]["layer"] == layer)
            assert drawn == pytest.approx(sorted(vals), abs=1e-4), (key, layer)
    boxes = [b for b in o.page.evaluate(ITEMS, ["unit_distributions", "rect"]) if "med" in b["d"]]
    assert len(boxes) == sum(len(v) > 0 for per in dist.values() for v in per.values())
    for b in boxes:
        vals = dist[{v: k for k, v in DISTRIBUTION_LABELS.items()}[b["d"]["kind"]]][b["d"]["layer"]]
        assert b["d"]["med"] == pytest.approx(np.median(vals), abs=1e-4) and b["d"]["n"] == len(vals)
    one = [d for d in dots if d["d"]["kind"] == DISTRIBUTION_LABELS["one_to_one"] and d["d"]["unit"]]
    assert len(one) == sum(len(v) for v in dist["one_to_one"].values())      # every one-to-one dot knows its unit
    target = max(one, key=lambda d: d["d"]["v"])
    text = o.tooltip(target["x"], target["y"])
    assert target["d"]["unit"] in text and f"{target['d']['v']:.3f}" in text and pairs in text
    o.page.locator("#chart-unit_distributions").screenshot(path=str(artifacts / f"{stem}_{width}_unit_distributions.png"))
    right = o.page.eval_on_selector_all(".nl-chart canvas", "els => els.map(e => e.getBoundingClientRect().right)")
    assert max(right) <= width, "a chart is wider than the window"


@pytest.mark.parametrize("width", [1400, 800])
def test_convergence_unit_distributions(runs, open_page, artifacts, width):
    base, data, _ = runs
    o = open_page(base / "conv" / "report.html", width=width)
    _check_opened(o)
    _check_distributions(o, data["views"]["unit_distributions"], "seed", artifacts, "convergence", width)


@pytest.mark.parametrize("width", [1400, 800])
def test_compare_unit_distributions(runs, open_page, artifacts, width):
    base, _, data = runs
    o = open_page(base / "cmp" / "report.html", width=width)
    _check_opened(o)
    dist = {k: dict(zip(data["views"]["pairs"], per)) for k, per in data["views"]["unit_distributions"].items()}
    _check_distributions(o, dist, "A vs B", artifacts, "compare", width)


def test_convergence_page_says_which_layers_the_identification_counts(runs):
    """Issue 12: the page says the layer identification counts the logits layer, and gives the hidden layers'
    share alone, with its count and 95% interval (numbers from results.json)."""
    import re

    base, data, _ = runs
    html = (base / "conv" / "report.html").read_text()
    text = " ".join(re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", html, flags=re.S)).split())
    layers = data["model"]["layers"]
    assert f"the logits (output) layer {layers[-1]} included" in text
    assert re.search(rf"counting the {len(layers) - 1} hidden layers only .*?\d+% \(\d+ of \d+ rows; 95% CI", text)
    assert f"over all {len(layers)} layers, the logits layer {layers[-1]} included" in text     # the table says so too
