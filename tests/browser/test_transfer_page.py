"""The transfer report in Chromium: offline, no console error, every control changes what is drawn, the drawn
numbers equal results.json (curves with their 95% intervals, the cost beside the random control, the tasks'
grey levels), screenshots at 1400 and 800 px."""
import json

import pytest


ARGS = ["--quick", "--seeds", "2", "--epochs", "2", "--parts-per-class", "20", "--model", "mlp 8-8-8,cnn 2-4 fc=8"]
CONTROLS = ["tsource", "tcond", "tzoom"]

#: Every row a chart derived (its filtered data), by chart: plain fields only, as sorted JSON strings.
ROWS = """(name) => { const v = window.nichelab.views[name]; const out = [];
  for (const k of Object.keys(v._runtime.data)) { if (!/^data_\\d+$/.test(k)) continue; let rows;
    try { rows = v.data(k); } catch (e) { continue; } if (!rows || !rows.length) continue;
    out.push(...rows.map(r => JSON.stringify(r, (f, x) => f && x !== null && typeof x === 'object' ? undefined : x))); }
  return out.sort(); }"""
#: The y scale's domain of a chart (what the zoom control changes).
YDOMAIN = "(name) => window.nichelab.views[name].scale('y').domain()"


@pytest.fixture(scope="module")
def run(study_run):
    return study_run("transfer", *ARGS)


def _wait(o):
    o.page.evaluate("window.nichelab.ready.then(() => true)")


def _select(o, name, value):
    o.page.select_option(f"#ctl-{name}", str(value))
    _wait(o)
    assert str(o.state(name)) == str(value)


def _rows(o, name):
    return [json.loads(x) for x in o.page.evaluate(ROWS, name)]


def _sig(x):
    return None if x is None else float(f"{x:.4g}")


def test_opens_offline_without_errors_and_fits_800px(run, open_page, artifacts):
    out, _ = run
    o = open_page(out / "report.html")
    names = o.check_drawn()
    assert {"tasks", "transfer_1", "transfer_2", "cka_1", "cka_2", "cost"} == set(names)
    assert "data:image/png;base64," not in (out / "report.html").read_text()      # no matplotlib picture left
    for name in names:
        assert _rows(o, name), f"{name} draws nothing"
    o.page.screenshot(path=str(artifacts / "transfer-1400.png"), full_page=True)
    o8 = open_page(out / "report.html", width=800)
    right = o8.page.eval_on_selector_all(".nl-chart canvas", "els => els.map(e => e.getBoundingClientRect().right)")
    assert max(right) <= 800, "a chart is wider than the 800 px window"
    assert o8.errors == []
    o8.page.screenshot(path=str(artifacts / "transfer-800.png"), full_page=True)
    o8.page.locator("#chart-transfer_1").screenshot(path=str(artifacts / "transfer-curves-800.png"))
    o8.page.locator("#chart-cost").screenshot(path=str(artifacts / "transfer-cost-800.png"))


def test_every_control_changes_what_is_drawn(run, open_page, artifacts):
    out, _ = run
    o = open_page(out / "report.html")
    for name in CONTROLS:
        opts = o.page.eval_on_selector_all(f"#ctl-{name} option", "os => os.map(o => o.value)")
        assert len(opts) >= 2, f"{name}: {opts}"
        o.page.focus(f"#ctl-{name}")                          # keyboard-operable: a focusable select
        assert o.page.evaluate("document.activeElement.id") == f"ctl-{name}"
        current = o.page.input_value(f"#ctl-{name}")
        before = (_rows(o, "transfer_1"), o.page.evaluate(YDOMAIN, "transfer_1"), _rows(o, "cka_1"))
        _select(o, name, next(v for v in opts if v != current))
        after = (_rows(o, "transfer_1"), o.page.evaluate(YDOMAIN, "transfer_1"), _rows(o, "cka_1"))
        assert before != after, f"changing {name} changed nothing drawn"
        assert o.errors == []
        _select(o, name, current)
    o.page.screenshot(path=str(artifacts / "transfer-controls-1400.png"), full_page=True)


def test_drawn_curves_equal_results_json(run, open_page):
    out, data = run
    o = open_page(out / "report.html")
    sources = [s["task"] for s in data["tasks"]["sources"]]
    for i, v in enumerate(data["views"]["transfer"]):
        for src in sources:
            _select(o, "tsource", src)
            _select(o, "tcond", "AnB")
            panel = next(p for p in v["panels"] if p["source"] == src)
            c = panel["curves"]["AnB"]
            drawn = {r["n"]: r for r in _rows(o, f"transfer_{i + 1}") if "lo" in r and r.get("cond") == "AnB"}
            assert sorted(drawn) == v["cuts"]
            for j, n in enumerate(v["cuts"]):
                assert drawn[n]["source"] == src
                assert drawn[n]["mean"] == pytest.approx(_sig(c["mean"][j]), rel=1e-9)
                assert drawn[n]["lo"] == pytest.approx(_sig(c["lo"][j]), rel=1e-9)
                assert drawn[n]["hi"] == pytest.approx(_sig(c["hi"][j]), rel=1e-9)
            seeds = sorted((r["n"], r["seed"], r["acc"]) for r in _rows(o, f"transfer_{i + 1}") if "acc" in r)
            assert seeds == sorted((n, s, pytest.approx(_sig(c["per_seed"][j][k]), rel=1e-9))
                                   for j, n in enumerate(v["cuts"]) for k, s in enumerate(data["seeds"]))
    _select(o, "tcond", "")


def test_cost_draws_the_random_control_beside_transfer_with_intervals(run, open_page, artifacts):
    out, data = run
    o = open_page(out / "report.html")
    cost = data["views"]["cost"]
    rows = [r for r in _rows(o, "cost") if "what" in r]
    for line in cost["lines"] + cost["controls"]:
        what = "AnB" if "source" in line else "random"
        mine = {r["n"]: r for r in rows if r["model"] == line["model"] and r["what"] == what
                and (what == "random" or line["label"] in r["label"])}
        assert sorted(mine) == cost["cuts"], (line["model"], what)
        for j, n in enumerate(cost["cuts"]):
            assert mine[n]["mean"] == pytest.approx(_sig(line["mean"][j]), rel=1e-9)
            assert mine[n]["lo"] == pytest.approx(_sig(line["lo"][j]), rel=1e-9)
            assert mine[n]["hi"] == pytest.approx(_sig(line["hi"][j]), rel=1e-9)
    assert {r["what"] for r in rows} == {"AnB", "random"}
    o.page.locator("#chart-cost").screenshot(path=str(artifacts / "transfer-cost-1400.png"))


def test_task_pictures_draw_the_stored_grey_levels(run, open_page):
    out, data = run
    o = open_page(out / "report.html")
    pixels = [r for r in _rows(o, "tasks") if "v" in r and "x2" in r]
    tasks = data["views"]["tasks"]
    assert len(pixels) == sum(len(img) * len(img[0]) for t in tasks for img in t["images"] if len(img))
    for r in pixels[:: max(1, len(pixels) // 200)]:
        assert r["v"] == pytest.approx(_sig(tasks[r["ti"]]["images"][r["ci"]][r["r"]][r["c"]]), abs=1e-12)
