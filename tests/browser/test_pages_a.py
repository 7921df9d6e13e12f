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

#: Every row of every dataset a view holds (its source data and what its transforms derived), by dataset name;
#: only the rows' plain fields (numbers, strings, booleans), as JSON text.
VIEW_ROWS = """(name) => { const v = window.nichelab.views[name]; const out = {};
  for (const k of Object.keys(v._runtime.data).sort()) { let rows; try { rows = v.data(k); } catch (e) { continue; }
    if (!rows || !rows.length) continue;
    out[k] = JSON.stringify(rows.map(d => Object.keys(d).sort().filter(f => ['number', 'string', 'boolean'].includes(typeof d[f]))
                                                  .map(f => [f, d[f]]))); }
  return out; }"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """``runs(study)``: (study, folder, results.json) of a small run, made once per module."""
    made = {}

    def get(study):
        if study not in made:
            out = tmp_path_factory.mktemp(study) / "run"
            res = CliRunner().invoke(app, ["run", study, *RUNS[study], "--out", str(out)])
            assert res.exit_code == 0, res.output
            made[study] = (study, out, json.loads((out / "results.json").read_text()))
        return made[study]
    return get


@pytest.fixture(params=list(RUNS))
def run(request, runs):
    return runs(request.param)


#: Line and rule marks drawn without a colour (a value outside the colour scale's domain draws nothing).
UNCOLOURED = """() => { const bad = [];
  for (const [name, v] of Object.entries(window.nichelab.views)) {
    (function walk(mark) { for (const it of mark.items || []) {
        if ((mark.marktype === 'line' || mark.marktype === 'rule') && it.datum && !it.stroke) bad.push(name + ':' + mark.marktype);
        if (mark.marktype === 'group') for (const c of it.items || []) walk(c); } })(v.scenegraph().root); }
  return bad; }"""


def _rows(o, name):
    return o.page.evaluate(VIEW_ROWS, name)


def _drawn(o):
    """For each chart: its derived datasets (rows, as JSON), i.e. what the marks are drawn from."""
    names = o.page.evaluate("Object.keys(window.nichelab.views)")
    return {n: _rows(o, n) for n in names}


def _options(o, name):
    return o.page.eval_on_selector_all(f"#ctl-{name} option", "os => os.map(o => o.value)")


def test_opens_offline_without_errors(run, open_page, artifacts):
    study, out, data = run
    o = open_page(out / "report.html")
    names = o.check_drawn()
    assert names
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
        assert o.page.evaluate(UNCOLOURED) == []
        for value in opts:                       # every option draws its lines in colour
            _select(o, name, value)
            assert o.page.evaluate(UNCOLOURED) == [], f"{study}: {name} = {value!r}"
    o.page.screenshot(path=str(artifacts / f"{study}-controls-1400.png"), full_page=True)


#: The rows a view derived (filtered) from its named datasets whose rows carry every one of ``fields``.
DERIVED = """([name, fields]) => { const v = window.nichelab.views[name]; const out = [];
  for (const k of Object.keys(v._runtime.data)) { if (!/^data_\\d+$/.test(k)) continue; let rows;
    try { rows = v.data(k); } catch (e) { continue; }
    if (!rows || !rows.length || !fields.every(f => f in rows[0])) continue;
    out.push(rows.map(d => Object.fromEntries(fields.map(f => [f, d[f]])))); }
  return out; }"""


def _derived(o, name, fields):
    return o.page.evaluate(DERIVED, [name, fields])


def _select(o, name, value):
    o.page.select_option(f"#ctl-{name}", str(value))
    o.page.evaluate("window.nichelab.ready.then(() => true)")
    assert str(o.state(name)) == str(value)


def _sig(x):
    return float(f"{x:.4g}")


def test_symmetry_selected_condition_draws_its_median_gap(runs, open_page, artifacts):
    study, out, data = runs("symmetry")
    o = open_page(out / "report.html")
    for p in data["views"]["gap"]:
        ds = p["title"].split(":")[0]
        _select(o, "dataset", ds)
        curve = next(c for c in p["curves"] if not c["zero"])
        _select(o, "condition", curve["key"])
        lines = [rows for rows in _derived(o, "gap_conditions", ["key", "step", "median", "gap"])]
        assert lines and all({r["key"] for r in rows} == {curve["key"]} for rows in lines)
        drawn = {r["step"]: r["median"] for r in lines[0]}
        assert drawn and all(drawn[t] == pytest.approx(_sig(curve["median"][t]), rel=1e-9) for t in drawn)
        assert max(drawn) == len(curve["median"]) - 1
    o.page.locator("#chart-gap_conditions").screenshot(path=str(artifacts / "symmetry-gap-one-condition.png"))


def test_width_selected_width_and_seed_draw_their_unit_costs(runs, open_page, artifacts):
    study, out, data = runs("width")
    o = open_page(out / "report.html")
    for w in data["config"]["widths"]:
        for si, seed in enumerate(data["seeds"]):
            _select(o, "hwidth", w)
            _select(o, "seed", seed)
            rows = _derived(o, "unit_costs", ["ds", "unit", "rank", "cost"])[0]
            for ds, d in data["datasets"].items():
                change = d["per_width"][str(w)]["ablation_accuracy_change"][si]
                mine = sorted((r["rank"], r["cost"], r["unit"]) for r in rows if r["ds"] == ds)
                assert [r[2] for r in mine] and len(mine) == w
                for rank, cost, unit in mine:
                    assert cost == pytest.approx(_sig(-100 * change[int(unit.split(":")[1])]), rel=1e-9)
                assert [c for _, c, _ in mine] == sorted((c for _, c, _ in mine), reverse=True)
            lines = _derived(o, "unit_lines", ["width", "seed", "unit", "split"])
            splits = data["datasets"]["blobs"]["per_width"][str(w)]["unit_splits"][si]
            drawn = lines[0] if lines else []
            assert all(r["width"] == w and r["seed"] == seed for r in drawn)
            assert all(splits[int(r["unit"].split(":")[1])] == r["split"] != "dead" for r in drawn)
            assert o.page.text_content(".readout h3").startswith(f"Width {w}:")
    o.page.locator("#chart-unit_lines").screenshot(path=str(artifacts / "width-unit-lines.png"))


def test_superposition_level_draws_its_gram(runs, open_page, artifacts):
    study, out, data = runs("superposition")
    o = open_page(out / "report.html")
    levels = [x["sparsity"] for x in data["by_sparsity"]]
    for g in data["views"]["gram"]:
        _select(o, "level", levels.index(g["sparsity"]))
        rows = _derived(o, "gram", ["i", "j", "v", "sparsity"])[0]
        n = len(g["WtW"])
        assert len(rows) == n * n and {r["sparsity"] for r in rows} == {g["sparsity"]}
        for r in rows:
            assert r["v"] == pytest.approx(round(g["WtW"][r["i"]][r["j"]], 4), abs=1e-12)
        ring = _derived(o, "represented", ["level", "median"])
        assert any(len(x) == 1 and x[0]["level"] == levels.index(g["sparsity"]) for x in ring)
    o.page.locator("#chart-gram").screenshot(path=str(artifacts / "superposition-gram.png"))


def test_every_chart_is_valid_vega_lite(run):
    """Every chart of the three pages validates against the Vega-Lite schema (no browser needed)."""
    import altair as alt
    from altair.utils.schemapi import validate_jsonschema

    from nichelab.reporting import build_report
    from nichelab.reporting.charts import spec_with_data
    from nichelab.runs.load import load_run
    schema = alt.vegalite.v6.schema.core.load_schema()
    charts = build_report(load_run(run[1])).charts()
    assert charts
    for c in charts:
        validate_jsonschema(spec_with_data(c), schema)
