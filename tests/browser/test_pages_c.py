"""The analyze, hierarchy and transfer reports in Chromium: offline, no console error, every control changes
what is drawn, the selected unit's numbers match results.json; screenshots at 1400 and 800 px."""
import json

import pytest
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.studies.text import pct


SOURCES = ["an_units", "an_means", "an_top"]


def _wait(o):
    o.page.evaluate("window.nichelab.ready.then(() => true)")


def _drawn(o, name):
    """Every row of every dataset of chart ``name`` after its transforms (what it draws)."""
    return sorted(o.chart_rows(name, SOURCES))


def _check_open(o, artifacts, stem):
    names = o.check_drawn()
    assert names
    o.page.screenshot(path=str(artifacts / f"{stem}-1400.png"), full_page=True)
    return names


def _check_800(o, artifacts, stem):
    right = o.page.eval_on_selector_all(".nl-chart canvas", "els => els.map(e => e.getBoundingClientRect().right)")
    assert max(right) <= 800, "a chart is wider than the 800 px window"
    o.page.screenshot(path=str(artifacts / f"{stem}-800.png"), full_page=True)


# --- analyze -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def analyze_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("pages_c") / "analyze"
    res = CliRunner().invoke(app, ["analyze", "--dataset", "digits", "--model", "mlp 64-32", "--epochs", "2",
                                   "--lr", "0.01", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out, json.loads((out / "results.json").read_text())


def test_analyze_opens_offline_and_fits_800px(analyze_run, open_page, artifacts):
    out, _ = analyze_run
    names = _check_open(open_page(out / "report.html"), artifacts, "analyze")
    assert {"unit_map", "unit_class_means", "unit_top"} <= set(names)
    _check_800(open_page(out / "report.html", width=800), artifacts, "analyze")


def _unit(data, name):
    return next(u for rec in data["layers"] for u in rec["unit_records"] if u["unit"] == name)


def test_analyze_unit_selector_table_and_map_select_the_unit(analyze_run, open_page, artifacts):
    out, data = analyze_run
    o = open_page(out / "report.html")
    first = o.state("unit")
    means0, top0 = _drawn(o, "unit_class_means"), _drawn(o, "unit_top")
    # the selector: another live unit of the second layer
    target = next(u for u in data["layers"][1]["unit_records"] if not u["dead"] and u["unit"] != first)
    o.page.select_option("#ctl-unit", target["unit"])
    _wait(o)
    assert o.state("unit") == target["unit"]
    means1 = _drawn(o, "unit_class_means")
    assert means1 != means0 and _drawn(o, "unit_top") != top0
    drawn = sorted({(json.loads(r)["cls"], json.loads(r)["mean"]) for r in means1 if "\"cls\"" in r})
    assert [m for _, m in drawn] == pytest.approx(target["class_means"], abs=1e-4)
    ro = {k: o.page.text_content(f'.readout dd[data-field="{k}"]') for k in ("selectivity", "active on", "state")}
    assert ro == {"selectivity": f"{target['selectivity']:.2f}", "active on": pct(target["frac_active"], 1),
                  "state": "live"}
    cost = o.page.text_content('.readout dd[data-field="overall cost (pp)"]')
    assert cost == f"{target['ablation_drop_pp']:.1f}"
    o.page.locator("#chart-unit_top").screenshot(path=str(artifacts / "analyze-unit-top.png"))
    # a table row, chosen after sorting by selectivity (descending): the most selective unit
    block = o.page.locator(".table-block", has=o.page.locator('table[data-select-param="unit"]'))
    header = block.locator("th button.sort", has_text="selectivity")
    header.click()
    header.click()
    # (page.js sorts missing values, "–", last in both directions: the first row is the most selective unit)
    row = block.locator("tbody tr").first
    best = max((u for rec in data["layers"] for u in rec["unit_records"] if u["selectivity"] is not None),
               key=lambda u: u["selectivity"])
    assert row.locator("td").first.text_content() == best["unit"]
    row.click()
    _wait(o)
    assert o.state("unit") == best["unit"]
    # the layer filter hides the other layer's options and rows
    o.page.select_option("#ctl-layer", data["layers"][0]["name"])
    _wait(o)
    assert o.state("unit").split(":")[0] == data["layers"][0]["name"]
    hidden = block.locator("tbody tr.group-hidden").count()
    assert hidden == len(data["layers"][1]["unit_records"])


def test_analyze_clicking_a_point_of_the_unit_map_selects_it(analyze_run, open_page):
    out, data = analyze_run
    o = open_page(out / "report.html")
    first = o.state("unit")
    o.page.locator("#chart-unit_map").scroll_into_view_if_needed()
    box = o.page.locator("#chart-unit_map canvas").bounding_box()
    where = o.page.evaluate("""() => { const v = window.nichelab.views['unit_map']; const pts = []; let sel = null;
      function walk(mark, ox, oy) { for (const it of mark.items || []) {
        if (mark.marktype === 'symbol' && it.datum && it.datum.unit) {
          const p = [ox + it.x, oy + it.y, it.datum.unit];
          if (it.datum.unit === window.nichelab.state.unit) sel = p; else pts.push(p); }
        if (mark.marktype === 'group') for (const c of it.items || []) walk(c, ox + (it.x || 0), oy + (it.y || 0)); } }
      walk(v.scenegraph().root, 0, 0); const o = v.origin(), pad = v.padding();
      pts.sort((a, b) => Math.hypot(b[0] - sel[0], b[1] - sel[1]) - Math.hypot(a[0] - sel[0], a[1] - sel[1]));
      const f = pts[0]; return f && [pad.left + o[0] + f[0], pad.top + o[1] + f[1], f[2]]; }""")
    assert where is not None
    o.page.mouse.click(box["x"] + where[0], box["y"] + where[1])
    _wait(o)
    assert o.state("unit") != first


# --- hierarchy -----------------------------------------------------------------------------------------------

def test_hierarchy_opens_offline_and_fits_800px(hierarchy_run, open_page, artifacts):
    out, _ = hierarchy_run
    names = _check_open(open_page(out / "report.html"), artifacts, "hierarchy")
    assert {"hierarchy_gallery", "hierarchy_featvis", "depth_edges_0"} <= set(names)
    _check_800(open_page(out / "report.html", width=800), artifacts, "hierarchy")


def _tiles(o, name):
    """(unit, col, title) of the pictures chart ``name`` draws, and how many have an image URL."""
    rows = [json.loads(r) for r in o.chart_rows(name, ["hi_tiles"])]
    return sorted({(d["unit"], d["col"], d["title"]) for d in rows if "col" in d}), sum(1 for d in rows if d.get("url"))


def test_hierarchy_unit_selector_switches_both_galleries(hierarchy_run, open_page, artifacts):
    out, data = hierarchy_run
    o = open_page(out / "report.html")
    gallery = data["views"]["gallery"]
    first = o.state("hunit")
    assert first == gallery[0]["unit"]
    tiles0, urls0 = _tiles(o, "hierarchy_gallery")
    assert [t[0] for t in tiles0] == [first] * len(gallery[0]["titles"]) and urls0 >= len(tiles0)
    assert [t[2].split("\n")[-1] for t in tiles0] == [f"activation {a}" for a in gallery[0]["titles"]]
    fv0, _ = _tiles(o, "hierarchy_featvis")
    other = next(g["unit"] for g in gallery if g["unit"] != first)
    o.page.select_option("#ctl-hunit", other)
    _wait(o)
    tiles1, _ = _tiles(o, "hierarchy_gallery")
    assert tiles1 != tiles0 and {t[0] for t in tiles1} == {other}
    o.page.locator("#chart-hierarchy_gallery").screenshot(path=str(artifacts / "hierarchy-gallery.png"))
    # a visualised unit: its optimised input, top windows and the untrained input, with the ratios results.json holds
    fv_unit = data["featvis"][-1]["unit"]
    o.page.select_option("#ctl-hunit", fv_unit)
    _wait(o)
    fv1, n_url = _tiles(o, "hierarchy_featvis")
    assert fv1 != fv0 and {t[0] for t in fv1} == {fv_unit} and n_url >= len(fv1)
    titles = [t[2] for t in fv1]
    assert titles[0] == f"optimised\n{data['featvis'][-1]['ratio_trained']:.1f}× best"
    assert titles[-1] == f"before training\n{data['featvis'][-1]['ratio_random']:.1f}× best"
    o.page.locator("#chart-hierarchy_featvis").screenshot(path=str(artifacts / "hierarchy-featvis.png"))


def test_hierarchy_depth_chart_draws_the_layer_means(hierarchy_run, open_page):
    out, data = hierarchy_run
    o = open_page(out / "report.html")
    rows = [json.loads(r) for r in o.chart_rows("depth_edges_0", ["hi_depth_edges_0"])]
    drawn = {(d["layer"], d["kind"]): d["value"] for d in rows if d.get("kind") in ("trained", "random init (untrained)")}
    layers = [l["layer"] for l in data["units"]["trained"][0]]
    for which, kind in (("trained", "trained"), ("random", "random init (untrained)")):
        mean = data["per_layer"][which]["edge_detectors"]["mean"]
        assert [drawn[(n, kind)] for n in layers] == pytest.approx(mean, abs=1e-4)
        per_seed = data["per_layer"][which]["edge_detectors"]["per_seed"]
        band = {d["layer"]: (d["lo"], d["hi"]) for d in rows if d.get("kind") == kind and "lo" in d}
        assert [band[n] for n in layers] == [pytest.approx((min(c), max(c)), abs=1e-4) for c in zip(*per_seed)]


# --- the specs are valid Vega-Lite ----------------------------------------------------------------------------

def _validate(folder):
    import altair as alt
    from altair.utils.schemapi import validate_jsonschema

    from nichelab.reporting.charts import spec_with_data
    from nichelab.runs.load import load_run
    r = load_run(folder)
    report = __import__(f"nichelab.reporting.pages.{r.study}", fromlist=["page"]).page(r)
    schema = alt.vegalite.v6.schema.core.load_schema()
    for c in report.charts():
        validate_jsonschema(spec_with_data(c), schema)
    return [c.name for c in report.charts()]


def test_analyze_and_hierarchy_specs_are_valid_vega_lite(analyze_run, hierarchy_run):
    assert "unit_top" in _validate(analyze_run[0])
    assert "depth_edges_0" in _validate(hierarchy_run[0])
