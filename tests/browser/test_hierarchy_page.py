"""The hierarchy report in Chromium: offline, no console error, every chart drawn in the browser from the numbers
results.json holds; the seed and unit selectors change what is drawn; screenshots at 1400 and 800 px."""
import json

import pytest

from nichelab.reporting.figures.hierarchy import cell_label


CHARTS = {"depth_edges_0", "depth_edges_1", "hierarchy_filters", "hierarchy_tuning", "hierarchy_osi_strip",
          "depth_parts_0", "hierarchy_levels", "hierarchy_parts", "hierarchy_iou", "hierarchy_ap_strip",
          "depth_objects_0", "hierarchy_gallery", "hierarchy_featvis"}


@pytest.fixture(scope="module")
def run(hierarchy_run):
    return hierarchy_run


def _rows(o, name, skip=()):
    return [json.loads(r) for r in o.chart_rows(name, skip)]


def _wait(o):
    o.page.evaluate("window.nichelab.ready.then(() => true)")


def test_page_opens_offline_with_every_chart_and_fits_800px(run, open_page, artifacts):
    out, data = run
    o = open_page(out / "report.html")
    names = set(o.check_drawn())
    assert CHARTS <= names, CHARTS - names
    assert o.page.locator("img[src^='data:image/png']").count() == 0, "a static matplotlib picture is left"
    o.page.screenshot(path=str(artifacts / "hierarchy-page-1400.png"), full_page=True)
    for name in ("hierarchy_osi_strip", "hierarchy_parts", "hierarchy_levels", "hierarchy_filters", "hierarchy_iou"):
        o.page.locator(f"#chart-{name}").screenshot(path=str(artifacts / f"{name}-1400.png"))
    narrow = open_page(out / "report.html", width=800)
    assert narrow.errors == []
    right = narrow.page.eval_on_selector_all(".nl-chart canvas", "els => els.map(e => e.getBoundingClientRect().right)")
    assert max(right) <= 800, "a chart is wider than the 800 px window"
    narrow.page.screenshot(path=str(artifacts / "hierarchy-page-800.png"), full_page=True)


def _dots(o, name, source):
    return {(d["unit"], d["network"]): d["value"] for d in _rows(o, name, [source]) if "value" in d and "x" in d}


def _units(data, which, s, field):
    return {u["name"]: u[field] for layer in data["units"][which][s] for u in layer["units"]
            if u[field] is not None}


def test_seed_selector_switches_the_unit_strips_to_that_seeds_units(run, open_page, artifacts):
    out, data = run
    o = open_page(out / "report.html")
    assert o.state("hseed") == data["seeds"][0]
    for name, field in (("hierarchy_osi_strip", "osi"), ("hierarchy_ap_strip", "object_ap")):
        source = f"hi_strip_{field}"
        drawn = _dots(o, name, source)
        for which, net in (("trained", "trained"), ("random", "random init (untrained)")):
            want = _units(data, which, 0, field)
            got = {u: v for (u, n), v in drawn.items() if n == net}
            assert got == pytest.approx(want, abs=1e-4)
    # the medians drawn are those results.json holds for the first seed
    med = {(d["li"], d["network"]): d["median"] for d in _rows(o, "hierarchy_osi_strip", ["hi_strip_osi"])
           if "median" in d}
    strips = data["views"]["strips"]["osi"]
    assert [med[(i, "trained")] for i in range(len(data["layers"]))] == pytest.approx(strips["median_trained"],
                                                                                       abs=1e-3)
    before = o.page.locator("#chart-hierarchy_osi_strip").screenshot()
    o.page.select_option("#ctl-hseed", str(data["seeds"][1]))
    _wait(o)
    assert o.state("hseed") == data["seeds"][1]
    drawn = _dots(o, "hierarchy_osi_strip", "hi_strip_osi")
    want = _units(data, "trained", 1, "osi")
    assert {u: v for (u, n), v in drawn.items() if n == "trained"} == pytest.approx(want, abs=1e-4)
    assert o.page.locator("#chart-hierarchy_osi_strip").screenshot() != before
    o.page.locator("#chart-hierarchy_osi_strip").screenshot(path=str(artifacts / "hierarchy-osi-strip-seed1.png"))


def test_unit_selector_changes_the_gallery(run, open_page):
    out, data = run
    o = open_page(out / "report.html")
    before = o.page.locator("#chart-hierarchy_gallery").screenshot()
    other = next(g["unit"] for g in data["views"]["gallery"] if g["unit"] != o.state("hunit"))
    o.page.select_option("#ctl-hunit", other)
    _wait(o)
    assert o.state("hunit") == other
    assert o.page.locator("#chart-hierarchy_gallery").screenshot() != before


def test_part_heatmap_labels_are_short_and_its_colour_scale_covers_every_cell(run, open_page):
    out, data = run
    o = open_page(out / "report.html")
    parts = data["views"]["parts"]
    cells = [d for d in _rows(o, "hierarchy_parts", ["hi_parts"]) if "label" in d and "mean" in d]
    want = {("trained" if w == "trained" else "random init (untrained)", li, pi): v
            for w in ("trained", "random") for li, row in enumerate(parts["counts"][w]) for pi, v in enumerate(row)}
    got = {(d["network"], d["li"], d["pi"]): d["mean"] for d in cells}
    assert got == pytest.approx(want, abs=1e-4)
    labels = {d["label"] for d in cells if d["mean"] > 0}
    assert all(len(t) <= 4 for t in labels), labels
    assert labels == {cell_label(v) for v in want.values() if v > 0}
    top = max(want.values())
    domain = o.page.evaluate("window.nichelab.views['hierarchy_parts'].scale('color').domain()")
    assert domain[0] == 0 and domain[1] >= top - 1e-9


def test_levels_chart_draws_the_shares_results_json_holds(run, open_page):
    out, data = run
    o = open_page(out / "report.html")
    lv = data["views"]["parts"]["levels"]
    rows = [d for d in _rows(o, "hierarchy_levels", ["hi_levels"]) if "share" in d and "level" in d]
    got = {(d["network"], d["level"], d["li"]): d["share"] for d in rows}
    for w, net in (("trained", "trained"), ("random", "random init (untrained)")):
        for level, values in lv[w].items():
            for li, v in enumerate(values):
                assert got[(net, level, li)] == pytest.approx(v or 0.0, abs=1e-4)


def test_silent_units_are_never_said_to_prefer_a_class(run, open_page):
    out, data = run
    dead = {u["name"] for layer in data["units"]["trained"][0] for u in layer["units"] if u["dead"]}
    labels = [g["label"] for g in data["views"]["gallery"]] + [f["label"] for f in data["views"]["featvis"]]
    for label in labels:
        if label.split("\n")[0] in dead:
            assert "prefers" not in label and "silent" in label
    o = open_page(out / "report.html")
    options = o.page.eval_on_selector_all("#ctl-hunit option", "els => els.map(e => [e.value, e.textContent])")
    assert all("prefers" not in text for value, text in options if value in dead)
