"""The lab report in Chromium: offline, no console error, every control changes what is drawn, and the
numbers the page draws and shows match results.json (maps recomputed here in float64 numpy)."""
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.studies.text import pct

SEEDS, EPOCHS = 16, 25

HEAT_ROWS = """(name) => { const v = window.nichelab.views[name]; const out = {heat: [], regions: []};
  for (const k of Object.keys(v._runtime.data)) { let rows; try { rows = v.data(k); } catch (e) { continue; }
    if (!rows || !rows.length) continue; const r = rows[0];
    if ('activation' in r && 'xc' in r && 'g' in r) rows.forEach(d => out.heat.push([d.unit, d.xc, d.yc, d.activation]));
    if ('pred' in r && 'h0' in r && 'xc' in r) rows.forEach(d => out.regions.push([d.xc, d.yc, d.pred])); }
  return out; }"""

SYMBOL_AT = """([name, seed]) => { const v = window.nichelab.views[name]; let found = null;
  function walk(mark, ox, oy) { for (const it of mark.items || []) { if (found) return;
      if (mark.marktype === 'symbol' && it.datum && it.datum.seed === seed) { found = [ox + it.x, oy + it.y]; return; }
      if (mark.marktype === 'group') for (const c of it.items || []) walk(c, ox + (it.x || 0), oy + (it.y || 0)); } }
  walk(v.scenegraph().root, 0, 0); if (!found) return null;
  const o = v.origin(), pad = v.padding(), r = v.container().querySelector('canvas').getBoundingClientRect();
  return [r.left + pad.left + o[0] + found[0], r.top + pad.top + o[1] + found[1]]; }"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab") / "run"
    res = CliRunner().invoke(app, ["run", "lab", "--seeds", str(SEEDS), "--epochs", str(EPOCHS), "--show-seed", "3",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "results.json").read_text())
    data["_folder"] = out
    return out, data


def _film_weights(data):
    from safetensors.numpy import load_file
    w = load_file(str(data["_folder"] / "weights.safetensors"))
    return {k[len("film."):]: v for k, v in w.items() if k.startswith("film.")}


def _film(data, seed):
    """The recorded weights of ``seed`` at every epoch, rounded as the page embeds them (4 decimals)."""
    f = _film_weights(data)
    j = f["seeds"].tolist().index(seed)
    return {k: np.round(np.asarray(f[k][j], float), 4) for k in ("W1", "b1", "W2", "b2")}


def _check_maps(o, data, seed, epoch):
    """The film's heat maps and decision regions equal the float64 formula on the recorded weights."""
    rows = o.page.evaluate(HEAT_ROWS, "film")
    w = _film(data, seed)
    W1, b1, W2, b2 = w["W1"][epoch], w["b1"][epoch], w["W2"][epoch], w["b2"][epoch]
    heat = rows["heat"]
    assert len(heat) == 2 * 64 * 36
    for unit, xc, yc, act in heat[::97]:
        u = int(unit.split(":")[1])
        assert act == pytest.approx(max(0.0, W1[u] @ [xc, yc] + b1[u]), abs=1e-9)
    reg = np.asarray(rows["regions"], float)
    assert len(reg) == 64 * 36
    logits = np.maximum(reg[:, :2] @ W1.T + b1, 0) @ W2.T + b2
    top2 = np.sort(logits, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 1e-9                    # leave exact ties aside
    assert np.array_equal(reg[clear, 2].astype(int), logits[clear].argmax(axis=1))
    return heat


def test_opens_offline_without_errors_and_draws_every_chart(run, open_page, artifacts):
    out, data = run
    o = open_page(out / "report.html")
    o.check_drawn()
    assert o.state("seed") == 3 and o.state("epoch") == EPOCHS
    _check_maps(o, data, 3, EPOCHS)
    o.page.screenshot(path=str(artifacts / "lab-1400.png"), full_page=True)


def test_legible_at_800px(run, open_page, artifacts):
    o = open_page(run[0] / "report.html", width=800)
    widths = o.page.eval_on_selector_all(".nl-chart canvas", "els => els.map(e => e.getBoundingClientRect().right)")
    assert max(widths) <= 800, "a chart is wider than the 800 px window"
    o.page.screenshot(path=str(artifacts / "lab-800.png"), full_page=True)


def test_epoch_slider_moves_the_film_by_keyboard(run, open_page, artifacts):
    out, data = run
    o = open_page(out / "report.html")
    before = _check_maps(o, data, 3, EPOCHS)
    o.page.focus("#ctl-epoch")
    o.page.keyboard.press("Home")
    o.page.evaluate("window.nichelab.ready.then(() => true)")
    assert o.state("epoch") == 0 and o.page.text_content("#out-epoch") == "0"
    after = _check_maps(o, data, 3, 0)
    assert before != after
    o.page.keyboard.press("ArrowRight")
    o.page.evaluate("window.nichelab.ready.then(() => true)")
    assert o.state("epoch") == 1
    _check_maps(o, data, 3, 1)
    o.page.locator("#chart-film").screenshot(path=str(artifacts / "lab-film-epoch1.png"))


def test_seed_selector_shows_the_seed_numbers_and_weights(run, open_page):
    out, data = run
    o = open_page(out / "report.html")
    film = _film_weights(data)["seeds"].tolist()
    seed = next(s for s in film if s != 3)
    o.page.select_option("#ctl-seed", str(seed))
    o.page.evaluate("window.nichelab.ready.then(() => true)")
    assert o.state("seed") == seed
    rec = next(p for p in data["per_seed"] if p["seed"] == seed)
    ro = {k: o.page.text_content(f'.readout dd[data-field="{k}"]') for k in ("outcome", "accuracy", "loss")}
    assert ro == {"outcome": rec["outcome"], "accuracy": pct(rec["accuracy"]), "loss": f"{rec['loss']:.3f}"}
    assert o.page.text_content(".readout h3") == f"Seed {seed}"
    _check_maps(o, data, seed, EPOCHS)
    assert o.page.get_attribute(f'table[data-select-param="seed"] tr[data-value="{seed}"]', "aria-selected") == "true"


def test_outcome_filter_narrows_seeds_and_table(run, open_page):
    out, data = run
    o = open_page(out / "report.html")
    shown = next(p for p in data["per_seed"] if p["seed"] == 3)["outcome"]
    other = [p["outcome"] for p in data["per_seed"] if p["outcome"] != shown]
    target = other[0] if other else shown
    o.page.select_option("#ctl-outcome", target)
    o.page.evaluate("window.nichelab.ready.then(() => true)")
    seeds = [p["seed"] for p in data["per_seed"] if p["outcome"] == target]
    visible = o.page.eval_on_selector_all("#ctl-seed option", "os => os.filter(o => !o.hidden).map(o => Number(o.value))")
    assert visible == seeds
    assert o.state("seed") in seeds
    rows = o.page.eval_on_selector_all('table[data-select-param="seed"] tbody tr',
                                       "rs => rs.filter(r => getComputedStyle(r).display !== 'none').length")
    assert rows == len(seeds)


def test_table_sorts_filters_and_selects(run, open_page):
    out, data = run
    o = open_page(out / "report.html")
    table = 'table[data-select-param="seed"]'
    o.page.click(f"{table} th:nth-child(4) button")  # loss, ascending
    losses = o.page.eval_on_selector_all(f"{table} tbody tr td:nth-child(4)", "tds => tds.map(t => Number(t.textContent))")
    assert losses == sorted(losses) and len(losses) == SEEDS
    block = o.page.locator(".table-block", has=o.page.locator(table))
    block.locator(".table-filter").fill("duplicate")
    n_dup = sum(p["outcome"] == "duplicate" or "duplicate" in p["description"] for p in data["per_seed"])
    assert block.locator("tbody tr:visible").count() == n_dup
    block.locator(".table-filter").fill("")
    target = data["per_seed"][5]["seed"]
    o.page.click(f'{table} tr[data-value="{target}"]')
    o.page.evaluate("window.nichelab.ready.then(() => true)")
    assert o.state("seed") == target and o.page.input_value("#ctl-seed") == str(target)
    o.page.focus(f'{table} tr[data-value="{data["per_seed"][6]["seed"]}"]')
    o.page.keyboard.press("Enter")
    assert o.state("seed") == data["per_seed"][6]["seed"]


def test_clicking_a_dot_selects_its_seed(run, open_page):
    out, data = run
    o = open_page(out / "report.html")
    target = data["per_seed"][9]["seed"]
    o.page.locator("#chart-accuracy_by_outcome").scroll_into_view_if_needed()
    xy = o.page.evaluate(SYMBOL_AT, ["accuracy_by_outcome", target])
    assert xy is not None
    o.page.mouse.click(*xy)
    o.page.evaluate("window.nichelab.ready.then(() => true)")
    clicked = o.state("seed")
    rec = next(p for p in data["per_seed"] if p["seed"] == clicked)
    # dots of seeds with the same accuracy can overlap: the clicked one has the target's outcome and accuracy
    t = data["per_seed"][9]
    assert clicked == target or (rec["outcome"], rec["accuracy"]) == (t["outcome"], t["accuracy"])
    assert o.page.text_content(".readout h3") == f"Seed {clicked}"


def test_print_hides_controls_and_unclips_tables(run, open_page, artifacts):
    o = open_page(run[0] / "report.html")
    o.page.emulate_media(media="print")
    assert o.page.eval_on_selector(".controls", "e => getComputedStyle(e).display") == "none"
    o.page.pdf(path=str(artifacts / "lab-print.pdf"))


def test_notebook_iframe_draws_the_charts(run, browser):
    from nichelab.reporting import notebook_html
    from nichelab.runs.load import load_run
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    requests = []
    page.route("**/*", lambda r: (requests.append(r.request.url), r.abort()))
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content(notebook_html(load_run(run[0])))
    frame = page.frames[1]
    frame.wait_for_function("document.body.dataset.chartsReady === '1'", timeout=30000)
    assert frame.evaluate("Object.keys(window.nichelab.views).length") >= 5
    assert frame.evaluate("window.nichelab.errors") == [] and errors == [] and requests == []
    page.close()


def test_seed_without_film_disables_the_epoch_slider_without_warnings(run, open_page, artifacts):
    """A seed without a film: the slider is disabled with its note, the loss chart (whose seed curve is
    then empty) logs no 'Infinite extent' warning; a film seed enables the slider again."""
    out, data = run
    o = open_page(out / "report.html")
    warnings = []
    o.page.on("console", lambda m: warnings.append(m.text) if m.type in ("warning", "error") else None)
    film = set(_film_weights(data)["seeds"].tolist())
    plain = next(p["seed"] for p in data["per_seed"] if p["seed"] not in film)
    assert not o.page.is_disabled("#ctl-epoch") and o.page.is_hidden("#note-epoch")
    o.page.select_option("#ctl-seed", str(plain))
    o.page.evaluate("window.nichelab.ready.then(() => true)")
    o.page.wait_for_timeout(300)
    assert o.page.is_disabled("#ctl-epoch") and o.page.is_disabled('button[data-play="epoch"]')
    assert o.page.is_visible("#note-epoch") and "No film for this seed" in o.page.text_content("#note-epoch")
    assert warnings == [], warnings
    o.page.locator(".controls").first.screenshot(path=str(artifacts / "lab-no-film-controls.png"))
    o.page.select_option("#ctl-seed", "3")
    o.page.evaluate("window.nichelab.ready.then(() => true)")
    assert not o.page.is_disabled("#ctl-epoch") and o.page.is_hidden("#note-epoch")


def test_clicking_a_row_scrolls_to_the_seed_views(run, open_page):
    out, data = run
    o = open_page(out / "report.html", height=800)
    table = 'table[data-select-param="seed"]'
    target = data["per_seed"][4]["seed"]
    o.page.locator(f'{table} tr[data-value="{target}"]').scroll_into_view_if_needed()
    assert o.page.evaluate("document.querySelector('#ctl-seed').getBoundingClientRect().bottom") < 0
    o.page.click(f'{table} tr[data-value="{target}"]')
    o.page.evaluate("window.nichelab.ready.then(() => true)")
    o.page.wait_for_timeout(300)
    top = o.page.evaluate("document.querySelector('#ctl-seed').getBoundingClientRect().top")
    assert 0 <= top < 800 and o.state("seed") == target
