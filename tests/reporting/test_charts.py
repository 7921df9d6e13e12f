"""Interactive pages: the page model, the HTML (datasets once, no network), the lab's specs and data, export."""
import json
import math
import re

import numpy as np
import pytest

from nichelab.reporting import build_report, notebook_html
from nichelab.reporting.charts import export_chart, script_json, spec_with_data
from nichelab.reporting.html import page_data, render_html
from nichelab.reporting.model import Chart, Control, Figure, Readout, Report, Section, Table
from nichelab.studies import STUDIES

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7V\xbd\xfa\x00\x00\x00\x00IEND\xaeB`\x82")
ROWS = [{"a": i, "b": i * i, "note": "</script><b>x"} for i in range(5)]


def _spec(y="b"):
    return {"data": {"name": "shared"}, "mark": "point", "params": [{"name": "seed", "value": 1}],
            "encoding": {"x": {"field": "a", "type": "quantitative"}, "y": {"field": y, "type": "quantitative"}}}


def _report():
    return Report("t", sections=[Section(
        "s", figures=[Figure(PNG, "a png"), Chart("one", _spec(), "first", datasets={"shared": ROWS}),
                      Chart("two", _spec("a"), "second", datasets={"shared": ROWS}, click=("seed", "a"))],
        controls=[Control("seed", "Seed", "select", 1, [(1, "one", "g1"), (2, "two", "g2")])],
        readouts=[Readout("seed", {"1": [("x", "1")], "2": [("x", "2")]}, "Seed {value}")],
        tables=[Table(["a", "b"], [[1, "10%"], [2, "9%"]], "t", select=("seed", 0), group=1)])])


def test_page_holds_png_and_charts_and_each_dataset_once():
    html = render_html(_report())
    assert html.count("data:image/png;base64,") == 1
    assert html.count('class="nl-chart"') == 2
    data = json.loads(re.search(r'<script id="nl-data" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert data["datasets"] == {"shared": ROWS}
    assert data["charts"]["one"]["uses"] == ["shared"] and "datasets" not in data["charts"]["one"]["spec"]
    assert data["charts"]["two"]["click"] == ["seed", "a"] and data["params"] == {"seed": 1}
    assert html.count(script_json(ROWS)) == 1 and "</script><b>" not in html  # once, and cannot close the script
    assert html.count("window.vegaEmbed=") == 1                     # the Vega bundle is inlined once
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', html)


def test_page_without_charts_has_no_bundle():
    html = render_html(Report("t", sections=[Section("s", figures=[Figure(PNG, "c")])]))
    assert "window.vegaEmbed=" not in html and "data:image/png;base64," in html


def test_chart_names_must_be_unique():
    r = Report("t", sections=[Section("s", figures=[Chart("x", _spec(), "c"), Chart("x", _spec(), "c")])])
    with pytest.raises(ValueError, match="unique"):
        render_html(r)


def test_script_json_escapes_closing_tags():
    assert "</" not in script_json({"a": "</script>"})
    # NaN and infinities (a diverged seed's numbers) become null: valid JSON, drawn as missing
    assert script_json({"a": float("nan"), "b": [1.5, float("inf")]}) == '{"a":null,"b":[1.5,null]}'


def test_spec_with_data_puts_datasets_back():
    c = Chart("one", _spec(), "c", datasets={"shared": ROWS})
    assert spec_with_data(c)["datasets"]["shared"] == ROWS and "datasets" not in c.spec


@pytest.fixture(scope="module")
def lab():
    return STUDIES["lab"].run(STUDIES["lab"].Config(seeds=8, epochs=12, show_seed=2))


def test_lab_specs_are_valid_vega_lite(lab):
    import altair as alt
    from altair.utils.schemapi import validate_jsonschema
    schema = alt.vegalite.v6.schema.core.load_schema()
    charts = build_report(lab).charts()
    assert {c.name for c in charts} >= {"film", "outcome_shares", "accuracy_by_outcome", "loss_curves"}
    for c in charts:
        validate_jsonschema(spec_with_data(c), schema)


def test_lab_film_records_every_epoch_of_the_film_seeds(lab):
    f = lab.film
    assert f["epochs"].tolist() == list(range(13)) and "film" not in lab.views
    assert "film.W1" in lab.weights() and f["W1"].shape == (len(f["seeds"]), 13, 2, 2)
    assert 2 in f["seeds"] and len(f["seeds"]) <= 1 + 3 * 4
    for j, s in enumerate(f["seeds"]):
        i = lab.seeds.index(s)
        np.testing.assert_allclose(f["W1"][j, -1], lab.params["L1.linear.weight"][i], atol=1e-4)   # last = final
        np.testing.assert_allclose(f["b2"][j, 0], lab.initial["L2.linear.bias"][i], atol=1e-4)     # 0 = initial
        final_active = [u["active_classes"] for u in lab.per_seed[i]["units"]]
        assert [np.flatnonzero(a).tolist() for a in f["active"][j, -1]] == final_active


def test_lab_datasets_hold_every_seed_final_weights_and_film_epochs(lab):
    from nichelab.reporting.pages.lab import datasets
    d = datasets(lab)
    keys = [r["k"] for r in d["lab_w"]]
    film = lab.film["seeds"].tolist()
    assert len(keys) == len(set(keys)) == (len(lab.seeds) - len(film)) + len(film) * 13
    assert all(f"{s}_12" in keys for s in lab.seeds)
    row = next(r for r in d["lab_w"] if r["k"] == f"{lab.seeds[-1]}_12")
    np.testing.assert_allclose(row["W"], lab.params["L1.linear.weight"][-1].ravel(), atol=1e-4)
    np.testing.assert_allclose(row["V"], lab.params["L2.linear.weight"][-1].ravel(), atol=1e-4)
    assert [r["seed"] for r in d["lab_seeds"]] == lab.seeds
    assert len(d["lab_points"]) == len(lab.data["y"])


def test_lab_report_survives_a_round_trip(lab, tmp_path):
    from nichelab.runs.load import load_run
    from nichelab.runs.runner import write_run
    write_run(lab, tmp_path)
    again = load_run(tmp_path)
    for k, v in lab.film.items():
        np.testing.assert_array_equal(again.film[k], v)
    a = page_data(build_report(lab))
    b = page_data(build_report(again))
    assert a["datasets"].keys() == b["datasets"].keys()
    assert [r["k"] for r in a["datasets"]["lab_w"]] == [r["k"] for r in b["datasets"]["lab_w"]]


def test_notebook_html_is_the_page_in_an_iframe(lab):
    html = notebook_html(lab)
    assert html.startswith("<iframe srcdoc=") and "sandbox" not in html
    assert "&lt;script" in html and "vegaEmbed" in html


@pytest.mark.parametrize("fmt,magic", [("png", b"\x89PNG"), ("svg", b"<svg"), ("pdf", b"%PDF")])
def test_export_chart_writes_static_files(tmp_path, fmt, magic):
    c = Chart("one", _spec(), "c", datasets={"shared": ROWS})
    path = export_chart(c, tmp_path / "one", fmt)
    assert path.name == f"one.{fmt}" and path.read_bytes()[:4].startswith(magic[:4])


def test_export_rejects_unknown_format(tmp_path):
    from nichelab.errors import NichelabError
    with pytest.raises(NichelabError, match="--format must be one of png, svg, pdf; got 'gif'"):
        export_chart(Chart("one", _spec(), "c"), tmp_path / "x", "gif")


def test_cli_export_writes_every_chart(tmp_path):
    from typer.testing import CliRunner
    from nichelab.cli import app
    runner = CliRunner()
    out = tmp_path / "run"
    assert runner.invoke(app, ["run", "lab", "--seeds", "2", "--epochs", "2", "--out", str(out)]).exit_code == 0
    res = runner.invoke(app, ["export", str(out), "--format", "svg"])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in (out / "figures").iterdir())
    assert "film.svg" in names and "outcome_shares.svg" in names and all(n.endswith(".svg") for n in names)
    bad = runner.invoke(app, ["export", str(out), "--format", "gif"])
    assert bad.exit_code == 2 and "--format" in bad.output


def test_lab_film_rows_name_the_same_splits_as_the_result(lab):
    from nichelab.reporting.pages.lab import datasets
    rows = {r["k"]: r for r in datasets(lab)["lab_w"]}
    for s in lab.film["seeds"].tolist():
        rec = next(p for p in lab.per_seed if p["seed"] == s)
        row = rows[f"{s}_12"]
        assert row["split"] == [u["split"] for u in rec["units"]]
        assert row["act"] == ["{" + ",".join(map(str, u["active_classes"])) + "}" for u in rec["units"]]


def test_every_lab_chart_that_reads_a_page_parameter_declares_it(lab):
    report = build_report(lab)
    controls = {c.name for c in report.controls()}
    assert controls == {"seed", "outcome", "epoch"}
    for c in report.charts():
        text = json.dumps(c.spec)
        declared = {p["name"] for p in c.spec.get("params", [])}
        for name in ("seed", "epoch"):
            if re.search(rf"(?<![\w.'\"]){name}(?![\w'\"])", " ".join(re.findall(r'"(?:filter|calculate|expr)": "([^"]*)"', text))):
                assert name in declared, f"{c.name} reads {name} without declaring it"


def _wilson_ref(k, n, z=1.959963984540054):
    """Wilson 95% interval written out in float64 (the reference for the stored views)."""
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, c - h), min(1.0, c + h)


def test_lab_shares_carry_counts_and_intervals_from_the_stored_views(lab):
    from nichelab.reporting.pages.lab import summary_table
    n = len(lab.seeds)
    rows = lab.views["outcome_shares"]
    assert [r["outcome"] for r in rows] == list(lab.summary["outcome_counts"])
    for r in rows:
        assert r["k"] == lab.summary["outcome_counts"][r["outcome"]] and r["n"] == n
        assert (r["lo"], r["hi"]) == pytest.approx(_wilson_ref(r["k"], n), abs=1e-12)
    splits = lab.views["split_shares"]
    assert sum(r["k"] for r in splits) == splits[0]["n"] == n * lab.config.hidden
    assert {r["split"]: r["k"] / r["n"] for r in splits} == pytest.approx(lab.summary["split_shares"])
    report = build_report(lab)
    chart = next(c for c in report.charts() if c.name == "outcome_shares")
    text = json.dumps(chart.spec)
    assert '"y2"' in text and "95% CI" in text
    drawn = {v["outcome"]: v for v in _values(chart.spec)}
    for r in rows[:4]:
        assert drawn[r["outcome"]]["lo"] == pytest.approx(100 * r["lo"]) and drawn[r["outcome"]]["seeds"] == r["k"]
    splits_chart = next(c for c in report.charts() if c.name == "splits")
    assert '"x2"' in json.dumps(splits_chart.spec)
    table = next(t for s in report.sections for t in s.tables if t.columns[0].startswith("split"))
    assert all(re.fullmatch(r"\d+(\.\d)?% \(\d+ of \d+; 95% CI .+\)", row[1]) for row in table.rows), table.rows
    summ = summary_table(lab)
    assert "95% CI" in summ.columns[1]
    for row in summ.rows:
        assert re.fullmatch(r"\d+(\.\d)?% \(\d+ of \d+; 95% CI .+\)", row[1]), row


def _values(spec):
    out = []
    if isinstance(spec, dict):
        if isinstance(spec.get("data"), dict) and "values" in spec["data"]:
            out += spec["data"]["values"]
        for v in spec.values():
            out += _values(v)
    elif isinstance(spec, list):
        for v in spec:
            out += _values(v)
    return out


def test_terminal_summary_fits_80_columns(lab):
    import io
    from rich.console import Console
    from nichelab.reporting.pages.lab import summary_table
    from nichelab.reporting.terminal import print_summary
    buf = io.StringIO()
    print_summary(Console(file=buf, width=80, force_terminal=False), summary_table(lab), "/tmp/x", 1.0)
    lines = buf.getvalue().splitlines()
    assert max(len(ln) for ln in lines) <= 80
    assert any("95% CI" in ln for ln in lines)
    assert not any("…" in ln for ln in lines)


def test_film_zero_lines_use_one_dash_per_unit_everywhere(lab):
    """L1:0's zero line has the same dash in its map panel as in the decision-region panel and its legend."""
    from nichelab.reporting.figures.lab import unit_dash
    spec = next(c for c in build_report(lab).charts() if c.name == "film").spec
    panels = spec["vconcat"][0]["concat"]
    for u, panel in enumerate(panels):
        line = next(l for l in panel["layer"] if l["mark"]["type"] == "line")
        assert line["mark"]["strokeDash"] == unit_dash(u)
    regions = spec["vconcat"][1]["hconcat"][-1]
    line = next(l for l in regions["layer"] if l["mark"]["type"] == "line")
    scale = line["encoding"]["strokeDash"]["scale"]
    assert scale["domain"] == [f"L1:{u} = 0" for u in range(lab.config.hidden)]
    assert scale["range"] == [unit_dash(u) for u in range(lab.config.hidden)]
    assert unit_dash(0) == [1, 0]  # solid, as the legend draws it


def test_loss_legend_shows_the_median_line_styles(lab):
    spec = next(c for c in build_report(lab).charts() if c.name == "loss_curves").spec
    med = spec["layer"][1]
    enc = med["encoding"]
    assert enc["strokeDash"]["legend"]["title"] == enc["color"]["legend"]["title"]  # one merged legend
    assert enc["color"]["legend"]["symbolType"] == "stroke"
    assert all(l["encoding"].get("color", {}).get("legend") is not None for l in spec["layer"]
               if "color" in l.get("encoding", {}))
    assert spec["layer"][0]["encoding"]["x"]["scale"]["domain"] == [1, lab.config.epochs]
