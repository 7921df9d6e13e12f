"""The symmetry page's "How fast the tie breaks" chart in Chromium: it shows the dataset its text fits (digits,
not the page's first dataset), draws each seed's fitted line, and the page logs no console warning or error
(an empty layer logs "Infinite extent"; a legend set on one channel and not the other logs "Conflicting legend")."""

import pytest


#: blobs first (the page's default dataset), where too few perturbations split to fit a line; digits fits one.
RUN = ["--seeds", "2", "--data", "blobs,digits", "--epochs", "8"]

#: Data items a view draws (legends left out): line vertices (a fitted line has 2), dots, and their datasets.
MARKS = """(name) => { const v = window.nichelab.views[name]; const out = {lines: 0, symbols: 0, ds: []};
  (function walk(mark) { for (const it of mark.items || []) {
      if (mark.role === 'mark' && mark.marktype === 'line' && it.datum) out.lines += 1;
      if (mark.role === 'mark' && mark.marktype === 'symbol' && it.datum) out.symbols += 1;
      if (mark.role === 'mark' && it.datum && it.datum.ds && !out.ds.includes(it.datum.ds)) out.ds.push(it.datum.ds);
      if (mark.marktype === 'group') for (const c of it.items || []) walk(c); } })(v.scenegraph().root);
  return out; }"""


@pytest.fixture(scope="module")
def run(study_run):
    return study_run("symmetry", *RUN)


@pytest.mark.parametrize("width", [1400, 800])
def test_speed_chart_shows_the_fitted_dataset_with_its_lines_and_no_warning(run, browser, artifacts, width):
    out, data = run
    fits = {p["title"].split(" ")[0]: p for p in data["views"]["split_vs_eps"]}
    fitted = [ds for ds, p in fits.items() if any(x[0] is not None for x in p["fit_x"])]
    assert fitted, "the run fits no dataset's time to split; choose settings that do"
    speed = [line for ds in fitted for line in data["datasets"][ds]["findings"]["speed"]]
    assert any("R²" in line for line in speed)  # the text describes the fitted dataset's lines

    page = browser.new_page(viewport={"width": width, "height": 900})
    messages = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}") if m.type in ("warning", "error") else None)
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    page.goto((out / "report.html").resolve().as_uri())
    page.wait_for_function("document.body.dataset.chartsReady === '1'", timeout=30000)
    try:
        names = page.evaluate("Object.keys(window.nichelab.views)")
        charts = [n for n in names if n.startswith("split_vs_eps")]
        assert len(charts) == len(fitted)
        for name, ds in zip(charts, fitted):
            n_fit = sum(x[0] is not None for x in fits[ds]["fit_x"])
            n_dots = sum(v is not None for row in fits[ds]["split"] for v in row)
            drawn = page.evaluate(MARKS, name)
            assert drawn == {"lines": 2 * n_fit, "symbols": n_dots, "ds": [ds]}, (name, drawn)
        page.locator("#chart-split_vs_eps").screenshot(path=str(artifacts / f"symmetry-speed-{width}.png"))
        page.wait_for_timeout(300)
        assert messages == []
    finally:
        page.close()
