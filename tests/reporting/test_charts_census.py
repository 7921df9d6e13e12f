"""The convergence, compare, analyze and sweep charts: valid Vega-Lite, and the numbers they draw are the
stored ones (hand-built inputs with known answers)."""
import numpy as np
import pytest

from nichelab.reporting.charts import spec_with_data
from nichelab.reporting.figures import analyze as afig
from nichelab.reporting.figures import convergence as cfig
from nichelab.reporting.model import Chart
from nichelab.reporting.pages import sweep
from nichelab.reporting.pages.convergence import MAX_DOTS, _align, distribution_datasets


def _valid(spec, datasets=None):
    import altair as alt
    from altair.utils.schemapi import validate_jsonschema
    validate_jsonschema(spec_with_data(Chart("x", spec, "c", datasets=datasets or {})),
                        alt.vegalite.v6.schema.core.load_schema())


def test_distribution_boxes_are_the_quartiles_and_every_value_is_a_dot():
    vals = np.array([0.1, 0.9, 0.5, 0.3, 0.7])               # quartiles 0.3, 0.5, 0.7 (linear interpolation)
    labels = {"one": [[(f"L1:{k}", "seed 0 vs seed 1") for k in range(5)]]}
    pts, boxes, y_min = distribution_datasets(["L1"], {"one": [vals]}, labels)
    assert boxes == [{"kind": "one", "layer": "L1", "x": cfig.KIND_OFFSETS[0], "n": 5, "q1": 0.3, "med": 0.5, "q3": 0.7}]
    assert sorted(p["v"] for p in pts) == sorted(vals.tolist()) and y_min == -0.05
    assert {(p["v"], p["unit"]) for p in pts} == {(v, f"L1:{k}") for k, v in enumerate(vals.tolist())}
    assert all(abs(p["x"] - cfig.KIND_OFFSETS[0]) <= 0.08 + 1e-9 for p in pts)   # jitter stays inside the box's lane
    # many values: MAX_DOTS dots spread over the sorted values (both ends kept), the box from all of them
    many = np.linspace(-0.3, 1.0, 5 * MAX_DOTS)
    pts, boxes, y_min = distribution_datasets(["L1"], {"one": [many]})
    assert len(pts) == MAX_DOTS and min(p["v"] for p in pts) == -0.3 and max(p["v"] for p in pts) == 1.0
    assert boxes[0]["med"] == pytest.approx(np.median(many), abs=1e-4) and y_min == pytest.approx(-0.3)


def test_labels_line_up_only_when_the_stored_values_agree():
    cands = [(0.5, "L1:0", "a"), (float("nan"), "L1:1", "a"), (0.25, "L1:2", "a")]
    assert _align(np.array([0.5, 0.25]), cands) == [("L1:0", "a"), ("L1:2", "a")]
    assert _align(np.array([0.5, 0.3]), cands) is None              # a value disagrees: no labels rather than wrong ones
    assert _align(np.array([0.5]), cands) is None                    # a count disagrees
    assert _align(np.array([0.1, 0.2, 0.3]), [(None, "u", "a")] * 3) == [("u", "a")] * 3   # values not stored per pair


def test_convergence_and_analyze_specs_are_valid():
    pts, boxes, y_min = distribution_datasets(["L1", "L2"], {"a": [np.r_[0.2, 0.4], np.r_[0.9]], "b": [np.r_[0.5], np.array([])]})
    _valid(cfig.unit_distributions("p", "b", ["L1", "L2"], ["a", "b"], 0.9, 0.5, "layer", y_min), {"p": pts, "b": boxes})
    cm = [{"layer": "L1", "pos": 0, "unit": "L1:0", "k": 0, "row": 0, "class": "0", "z": None}]
    _valid(afig.chart_class_means("L1:0", "L1", 1), {"an_cm": cm})
    abl = [{"layer": "L1", "pos": 0, "unit": "L1:0", "k": 0, "row": 0, "class": "overall", "pp": 2.0, "key": True}]
    _valid(afig.chart_ablation("L1:0", "L1", 1, 2.0), {"an_abl": abl})
    _valid(afig.chart_selectivity("L1:0", ["L1"]), {"an_sel": [], "an_selbox": []})
    _valid(afig.chart_probes(["input", "L1"], 0.1, 0.9), {"an_probe": []})


ROWS = [{"cell": f"hidden-{h}_lr-{lr}", "folder": f"cells/hidden-{h}_lr-{lr}", "status": "done", "hidden": h, "lr": lr,
         "n_seeds": 10, "n_distinct": h, "share_distinct": h / 10, "share_distinct_lo": h / 20, "share_distinct_hi": h / 8,
         "accuracy_mean": 0.5 + h / 10, "accuracy_lo": 0.45 + h / 10, "accuracy_hi": 0.55 + h / 10}
        for h in (2, 3, 4) for lr in (0.01, 0.1)]


def test_sweep_charts_draw_the_index_numbers():
    spec = {"study": "lab", "grid": {"hidden": [2, 3, 4], "lr": [0.01, 0.1]}, "seeds": 10, "first_seed": 0}
    rows = ROWS + [{**ROWS[0], "cell": "hidden-5_lr-0.01", "hidden": 5, "status": "failed", "error": "boom"}]
    report = sweep.page(spec, rows, {})
    charts = {c.name: c for c in report.charts()}
    assert set(charts) == {"outcome_lines", "accuracy_lines"}
    shares = charts["outcome_lines"].datasets["sweep_shares"]
    assert len(shares) == len(ROWS)                                   # the failed cell draws nothing
    for d in shares:
        r = next(x for x in ROWS if x["cell"] == d["cell"])
        assert (d["share"], d["lo"], d["hi"], d["k"], d["n"]) == pytest.approx(
            (100 * r["share_distinct"], 100 * r["share_distinct_lo"], 100 * r["share_distinct_hi"], r["n_distinct"], 10))
        assert d["series"] == f"lr={r['lr']}" and d["x"] == str(r["hidden"])
    acc = charts["accuracy_lines"].datasets["sweep_acc"]
    assert sorted(d["acc"] for d in acc) == pytest.approx(sorted(100 * r["accuracy_mean"] for r in ROWS))
    control = report.controls()[0]
    assert control.name == "series" and [o[0] for o in control.options] == ["", "lr=0.01", "lr=0.1"]
    for c in charts.values():
        _valid(c.spec, c.datasets)
