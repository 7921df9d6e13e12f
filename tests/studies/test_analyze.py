"""The analyze study: census values on hand-built activations and a hand-built model, probes,
hook safety, reused modules, conv layers, objects as inputs, findings in words, JSON and report."""
from __future__ import annotations

import importlib
import json
import sys
import uuid

import numpy as np
import pytest
import torch

from nichelab.errors import NichelabError
from nichelab.reporting import build_report, summary_table
from nichelab.runs.jsonio import dumps
from nichelab.studies.analyze import AnalyzeConfig, run
from nichelab.studies.analyze import findings as fx
from nichelab.studies.analyze.census import census_layer, probe_layer
from nichelab.studies.text import pct

# --------------------------------------------------------------------------- hand-built activations
Y6 = np.array([0, 0, 1, 1, 2, 2])
ACTS = np.array([
    # u0: class 0 only   u1: dead  u2: no preference  u3 = 2 u4 + 1  u4      u5: constant 3
    [1, 0, 1, 1, 0, 3],
    [1, 0, 2, 3, 1, 3],
    [0, 0, 1, 5, 2, 3],
    [0, 0, 2, 7, 3, 3],
    [0, 0, 1, 9, 4, 3],
    [0, 0, 2, 11, 5, 3],
], dtype=np.float32)


def _census(acts, **kw):
    return census_layer("h", acts, Y6, 3, raw_shape=(acts.shape[1],), module_type="ReLU", reduce="mean",
                        threshold=kw.get("threshold", 0.95), k=2)


def test_census_values_on_hand_built_activations():
    lc = _census(ACTS)
    np.testing.assert_array_equal(lc.dead, [False, True, False, False, False, True])
    # Morcos index: u0 (1 - 0) / (1 + 0); u2 equal class means; u3 means (2, 6, 10); u4 means (.5, 2.5, 4.5)
    np.testing.assert_allclose(lc.selectivity, [1.0, np.nan, 0.0, (10 - 4) / 14, (4.5 - 1.5) / 6, np.nan])
    np.testing.assert_array_equal(lc.preferred, [0, -1, -1, 2, 2, -1])
    assert lc.groups == [[3, 4]]
    assert lc.partner[3] == 4 and lc.partner[4] == 3 and lc.partner[1] == -1 and np.isnan(lc.partner_r[5])
    np.testing.assert_allclose(lc.partner_r[3], 1.0)
    np.testing.assert_allclose(lc.class_means[:, 0], [1, 0, 0])
    np.testing.assert_array_equal(lc.top[:, 4], [5, 4])            # the two largest activations of u4
    np.testing.assert_allclose(lc.top_values[:, 4], [5, 4])
    assert not lc.signed and lc.kind == "dense" and lc.n_units == 6
    assert lc.mean_selectivity == pytest.approx(np.mean([1.0, 0.0, 6 / 14, 0.5]))
    assert lc.ranked().tolist() == [0, 4, 3, 2]


def test_signed_layer_dead_means_constant_and_selectivity_is_shift_invariant():
    signed = ACTS - 1.0        # u1 is now constant -1, u2 varies around 0.5
    lc = _census(signed)
    assert lc.signed
    np.testing.assert_array_equal(lc.dead, [False, True, False, False, False, True])
    # selectivity of a signed layer is that of each unit shifted to start at 0, whatever the offset
    np.testing.assert_allclose(lc.selectivity, _census(ACTS - ACTS.min(axis=0)).selectivity)
    np.testing.assert_allclose(lc.selectivity, _census(signed - 5.0).selectivity)
    assert lc.selectivity[3] == pytest.approx(0.5)           # u3 - 1 = 2 u4: same index as u4
    # a varying unit that is negative on every sample is alive in a signed layer
    lc2 = _census(np.c_[ACTS, -1.0 - np.arange(6)])
    assert not lc2.dead[-1]


def test_threshold_controls_duplicates():
    assert _census(ACTS, threshold=1.0).groups == [[3, 4]]   # exact linear copy: r = 1
    noisy = ACTS.copy()
    noisy[:, 3] += np.array([0, 0.9, 0, -0.9, 0, 0.9])
    assert _census(noisy, threshold=0.999).groups == []
    assert _census(noisy, threshold=0.9).groups == [[3, 4]]


def test_probes_separable_vs_random():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 60)
    sep = np.eye(3)[y] * 3 + 0.3 * rng.standard_normal((180, 3))
    rand = rng.standard_normal((180, 20))
    good, note = probe_layer(sep, y, 0)
    bad, _ = probe_layer(rand, y, 0)
    assert note == "" and good.test_acc >= 0.95
    assert bad.test_acc < 0.6 and bad.chance == pytest.approx(1 / 3, abs=0.02)
    none, why = probe_layer(sep[:3], y[:3], 0)
    assert none is None and why.startswith("skipped")


# --------------------------------------------------------------------------- a hand-built model
HAND = '''
import torch
from collections import OrderedDict
from torch import nn

class Boom(nn.Module):
    """Identity that raises when an input is huge (to make capture fail mid-run)."""
    def forward(self, x):
        if (x.abs() > 50).any():
            raise RuntimeError("boom: input too large")
        return x

def make():
    """h0 = relu(x0) alone carries class 0; h1 = h2 = relu(x1) carry class 1 together; h3 = relu(x2)
    carries class 2; h4 is dead. Logits: 2 h0, h1 + h2 + 0.5, 2 h3 (the bias decides when all are 0)."""
    m = nn.Sequential(OrderedDict(boom=Boom(), fc=nn.Linear(3, 5), act=nn.ReLU(), out=nn.Linear(5, 3)))
    with torch.no_grad():
        m.fc.weight.copy_(torch.tensor([[1., 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [-1, -1, -1]]))
        m.fc.bias.copy_(torch.tensor([0., 0, 0, 0, -1]))
        m.out.weight.copy_(torch.tensor([[2., 0, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 2, 0]]))
        m.out.bias.copy_(torch.tensor([0., 0.5, 0]))
    return m.eval()

MODEL = make()

def shared():
    return MODEL

class Reused(nn.Module):
    """One ReLU instance used after two layers."""
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.act, self.out = nn.Linear(3, 4), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 3)
    def forward(self, x):
        return self.out(self.act(self.fc2(self.act(self.fc1(x)))))

def reused():
    torch.manual_seed(0)
    return Reused().eval()

def two_outputs():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).eval()

def convnet():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 6 * 6, 3)).eval()
'''


@pytest.fixture
def hand(tmp_path, monkeypatch):
    """Module name of the hand-built factories, and an .npz of one-hot inputs (+ noise) for 3 classes."""
    name = f"hand_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(HAND)
    monkeypatch.syspath_prepend(str(tmp_path))
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [20, 24, 16])
    X = (np.eye(3)[y] + rng.uniform(0, 0.05, (60, 3))).astype(np.float32)
    np.savez(tmp_path / "hand.npz", X=X, y=y)
    yield name, tmp_path
    sys.modules.pop(name, None)


def _cfg(data, model, **kw):
    return AnalyzeConfig(dataset=str(data), model=model, **kw)


def _units(res, layer: int, key: str) -> np.ndarray:
    """One per-unit number of a layer as an array (None -> NaN)."""
    return res.unit_values(res.layers[layer]["name"], key)


def _drops(res, layer: int) -> tuple[np.ndarray, np.ndarray]:
    units = res.layers[layer]["unit_records"]
    per = np.array([[np.nan if v is None else v for v in u["ablation_class_drop_pp"]] for u in units], float)
    return _units(res, layer, "ablation_drop_pp"), per


def test_one_unit_alone_carries_one_class(hand):
    name, tmp = hand
    res = run(_cfg(tmp / "hand.npz", f"{name}:make"))
    (L,) = res.layers
    assert L["name"] == "act" and L["module_type"] == "ReLU"
    np.testing.assert_array_equal(_units(res, 0, "dead"), [False, False, False, False, True])
    assert L["near_duplicate_groups"] == [[1, 2]]
    sel, pref = _units(res, 0, "selectivity"), [u["preferred_class"] for u in L["unit_records"]]
    assert sel[0] > 0.9 and pref[0] == 0 and pref[3] == 2
    overall, per_class = _drops(res, 0)
    np.testing.assert_allclose(per_class[0], [100, 0, 0])          # h0 alone carries class 0
    np.testing.assert_allclose(per_class[3], [0, 0, 100])          # h3 alone carries class 2
    np.testing.assert_allclose(per_class[[1, 2, 4]], 0)             # the duplicates cover for each other
    np.testing.assert_allclose(overall[[0, 3]], [100 * 20 / 60, 100 * 16 / 60])
    assert L["ablation"]["indispensable"] == [0, 3]
    assert res.accuracy == 1.0
    f = res.findings
    text = " ".join(f["indispensable"])
    assert "2 of 5 units are indispensable: act:0" in text and "act:3" in text
    assert "act:4" in " ".join(f["dead"]) and "{act:1, act:2}" in " ".join(f["duplicates"])
    assert "4 units with index >= 0.5" in f["selectivity"][0] and "prefers class 2" in f["selectivity"][0]
    assert res.weights() == {}                                      # the user's model: nothing to save


def test_mean_ablation_and_unit_records(hand):
    name, tmp = hand
    res = run(_cfg(tmp / "hand.npz", f"{name}:make", ablation_mode="mean"))
    rec = res.layers[0]
    assert rec["ablation"]["mode"] == "mean" and rec["n_dead"] == 1 and rec["dead"] == [4]
    units = rec["unit_records"]
    assert [u["unit"] for u in units] == [f"act:{k}" for k in range(5)]
    assert units[1]["near_duplicate_group"] == 0 and units[1]["closest_unit"] == "act:2"
    assert units[4]["dead"] and np.isnan(units[4]["selectivity"])


def test_capture_failure_leaves_no_hooks(hand):
    name, tmp = hand
    z = np.load(tmp / "hand.npz")
    X = z["X"].copy()
    X[40, 1] = 99.0                             # after the rows the input check runs on
    np.savez(tmp / "boom.npz", X=X, y=z["y"])
    with pytest.raises(NichelabError, match="boom: input too large"):
        run(_cfg(tmp / "boom.npz", f"{name}:shared"))
    model = importlib.import_module(name).MODEL
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert not any(m.training for m in model.modules())


def test_reused_module_yields_both_calls(hand, reused_relu_accuracy):
    name, tmp = hand
    res = run(_cfg(tmp / "hand.npz", f"{name}:reused"))
    assert [rec["name"] for rec in res.layers] == ["act", "act#1"]
    assert all(rec["units"] == 4 for rec in res.layers)
    assert [(rec["module"], rec["call"], rec["calls"]) for rec in res.layers] == [("act", 0, 2), ("act", 1, 2)]
    # each call is ablated on its own: a naive forward pass zeroing unit k in one call only
    model = importlib.import_module(name).reused()
    data = np.load(tmp / "hand.npz")
    X, y = torch.from_numpy(data["X"]), data["y"]

    def acc(call, k):
        return reused_relu_accuracy(model, X, y, call, k)
    base = acc(None, 0)
    for call in (0, 1):
        drops = _units(res, call, "ablation_drop_pp")
        np.testing.assert_allclose(drops, [100 * (base - acc(call, k)) for k in range(4)], atol=1e-9)
    with torch.no_grad():                                   # per-call statistics: the second call's own values
        h2 = torch.relu(model.fc2(torch.relu(model.fc1(X)))).numpy()
    np.testing.assert_allclose(_units(res, 1, "mean"), h2.mean(0), rtol=1e-5, atol=1e-7)
    assert any("'act' runs 2 times (analysed as act, act#1)" in n for n in res.notes)
    assert "reused modules" in build_report(res).setup


def test_outputs_that_are_not_class_logits_skip_ablation(hand):
    name, tmp = hand
    res = run(_cfg(tmp / "hand.npz", f"{name}:two_outputs"))
    assert not res.model["classifier"] and res.accuracy is None
    assert all(rec["ablation"] is None for rec in res.layers)
    assert "2 outputs but the labels go up to 2" in " ".join(res.findings["model"])
    assert "No unit was ablated" in res.findings["indispensable"][0]


def test_conv_layers_reduce_over_space(hand):
    name, tmp = hand
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], 10)
    X = rng.uniform(0, 1, (30, 1, 6, 6)).astype(np.float32)
    X[y == 1, :, :3] += 1.0
    np.savez(tmp / "img.npz", X=X, y=y)
    means = run(_cfg(tmp / "img.npz", f"{name}:convnet", reduce="mean"))
    maxes = run(_cfg(tmp / "img.npz", f"{name}:convnet", reduce="max"))
    L = means.layers[0]
    assert L["kind"] == "conv" and L["output_shape"] == [3, 6, 6] and L["reduce"] == "mean" and L["units"] == 3
    from nichelab.capture import capture
    raw = capture(importlib.import_module(name).convnet(), X, ["1"])["1"]
    np.testing.assert_allclose(_units(means, 0, "mean"), raw.mean(axis=(2, 3)).mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(_units(maxes, 0, "mean"), raw.max(axis=(2, 3)).mean(axis=0), rtol=1e-5)
    assert len(L["unit_records"][0]["ablation_class_drop_pp"]) == 3   # a unit is a whole channel
    assert len([u for u in L["unit_records"] if "ablation_drop_pp" in u]) == 3
    assert L["probe_features"] == "full map" and L["probe"]["n_train"] + L["probe"]["n_test"] == 30
    first = means.views["first_weights"]
    assert first["name"] == "0" and first["pictures"].shape == (3, 3, 3) and first["n_units"] == 3


def test_max_samples_and_ablation_samples_are_stratified_subsets(hand):
    name, tmp = hand
    res = run(_cfg(tmp / "hand.npz", f"{name}:make", max_samples=30, ablation_samples=15))
    y = np.load(tmp / "hand.npz")["y"]
    assert res.n_samples == 30 and np.bincount(y[res.data["analysed_indices"]]).tolist() == [10, 12, 8]
    assert len(res.ablation_indices) == 15 and res.layers[0]["ablation"]["n_samples"] == 15
    assert set(res.ablation_indices) <= set(res.data["analysed_indices"])
    assert any("max_samples" in n for n in res.notes)


def test_unknown_layer_lists_layers_and_suggests(hand):
    name, tmp = hand
    with pytest.raises(NichelabError, match=r"unknown layer 'actt' \(did you mean 'act'.*the model's layers are: "
                                            r"boom, fc, act, out") as err:
        run(_cfg(tmp / "hand.npz", f"{name}:make", layers=("actt",)))
    assert err.value.field == "layers"


def test_shape_the_model_rejects_names_what_it_expects(hand):
    name, tmp = hand
    np.savez(tmp / "wide.npz", X=np.zeros((10, 5), np.float32), y=np.arange(10) % 2)
    with pytest.raises(NichelabError, match=r"gives samples of shape \(5,\).*'fc' \(Linear\) expects 3 features"):
        run(_cfg(tmp / "wide.npz", f"{name}:make"))


# --------------------------------------------------------------------------- objects instead of paths
def test_module_and_arrays_as_objects_give_the_numbers_of_files(hand):
    """``AnalyzeConfig(model=an nn.Module, dataset=(X, y))`` measures what the same model and data as files do."""
    name, tmp = hand
    z = np.load(tmp / "hand.npz")
    module = importlib.import_module(name).make()
    module.train()                                                  # the caller's mode is left as it was
    res = run(AnalyzeConfig(model=module, dataset=(z["X"], z["y"])))
    ref = run(_cfg(tmp / "hand.npz", f"{name}:make"))
    assert module.training and all(m.training for m in module.modules())
    assert res.model["kind"] == "module" and res.model["source"] == "Sequential"
    assert res.config.model == "<Sequential object>" and res.config.dataset == "<arrays (60, 3), (60,)>"
    assert res.data["name"] == "arrays" and res.accuracy == ref.accuracy == 1.0
    for a, b in zip(res.layers, ref.layers):
        assert dumps(a["unit_records"]) == dumps(b["unit_records"]) and dumps(a["ablation"]) == dumps(b["ablation"])
    json.loads(dumps(res.to_dict()))                                # objects are recorded as text
    with pytest.raises(NichelabError, match="weights applies to a model given as package.module:factory"):
        AnalyzeConfig(model=module, weights="w.safetensors")
    with pytest.raises(NichelabError, match="dataset must be a name, a path, a Dataset or a tuple"):
        AnalyzeConfig(model=module, dataset=(z["X"],))
    with pytest.raises(NichelabError, match="dataset .*same number of samples"):
        run(AnalyzeConfig(model=module, dataset=(z["X"], z["y"][:-1])))


# --------------------------------------------------------------------------- built-in model, JSON and report
@pytest.fixture(scope="module")
def digits_result():
    return run(AnalyzeConfig(dataset="digits", model="mlp 16-8", epochs=3, lr=0.01, max_samples=300,
                             ablation_samples=200))


def test_builtin_digits_json_report_and_weights(digits_result):
    res = digits_result
    assert [rec["name"] for rec in res.layers] == ["L1", "L2"] and res.layers[0]["units"] == 16
    t = res.training
    assert t["n_train"] + t["n_test"] == 1797 and t["n_test"] == 539 and res.n_samples == 300
    assert len(np.intersect1d(res.data["train_indices"], res.data["analysed_indices"])) == 0
    data = json.loads(dumps(res.to_dict()))                 # strictly valid JSON (NaN -> null)
    assert set(data) >= {"config", "data", "model", "training", "accuracy", "layers", "findings", "input_probe"}
    assert data["accuracy"] == pytest.approx(res.accuracy) and 0 < t["test_accuracy"] <= 1
    assert len(data["data"]["analysed_indices"]) == 300
    L1 = data["layers"][0]
    assert {"units", "n_dead", "near_duplicate_groups", "participation_ratio", "probe", "mean_selectivity",
            "ablation", "unit_records"} <= set(L1)
    assert len(L1["unit_records"]) == 16 and L1["unit_records"][0]["unit"] == "L1:0"
    assert L1["ablation"]["n_samples"] == 200
    w = res.weights()
    assert w["L1.linear.weight"].shape == (16, 64)
    report = build_report(res)
    titles = [s.title for s in report.sections]
    assert titles[:6] == ["The layers at a glance", "Dead units", "Near-duplicate units", "Selective units",
                          "Indispensable units", "What each layer knows about the labels"]
    assert "What drives the units" in titles                # digits are 8x8 images: top-k grids, weights
    figs = [f for s in report.sections for f in s.figures if not hasattr(f, "spec")]
    assert len(figs) == 2 + 1 and all(f.png.startswith(b"\x89PNG") and f.caption for f in figs)  # pictures only
    charts = [f.name for f in report.charts()]          # the census charts and the unit detail (Vega-Lite)
    assert charts == ["class_means", "selectivity", "ablation", "probes", "unit_map", "unit_class_means",
                      "unit_top"] and all(f.caption for f in report.charts())
    table = summary_table(res)
    assert [r[0] for r in table.rows] == ["L1", "L2"]
    tables = res.tables()
    assert list(tables["layers"]["layer"]) == ["L1", "L2"] and len(tables["units"]) == 16 + 8


def test_figure_views_hold_the_drawn_numbers(digits_result):
    """The heatmaps are the unit records' class means and ablation costs, in the unit order of the views."""
    res = digits_result
    panel = res.views["class_means"][0]
    order = np.asarray(panel["order"])
    means = np.array([u["class_means"] for u in res.layers[0]["unit_records"]], float).T[:, order]
    dead = _units(res, 0, "dead").astype(bool)[order]
    z = np.asarray(panel["z"], float)
    live_max = means[:, ~dead].max(axis=0)
    np.testing.assert_allclose(z[:, ~dead], np.round(means[:, ~dead] / live_max, 4), atol=1e-4)
    assert np.isnan(z[:, dead]).all()
    ab = res.views["ablation"]["panels"][0]
    overall, per_class = _drops(res, 0)
    np.testing.assert_allclose(np.asarray(ab["z"], float)[0], np.round(overall[order], 4), atol=1e-4)
    np.testing.assert_allclose(np.asarray(ab["z"], float)[1:], np.round(per_class[order].T, 4), atol=1e-4)
    key = sorted(int(order[p]) for p in ab["key"])
    assert key == res.layers[0]["ablation"]["indispensable"]
    sel = _units(res, 0, "selectivity")
    assert np.median(sel[np.isfinite(sel)]) == pytest.approx(res.views["selectivity"]["stats"][0]["med"])


def test_census_charts_draw_the_views_numbers(digits_result):
    """Every heatmap cell, selectivity dot and probe point of the page is a number of results.json's views,
    under the right unit's name."""
    from nichelab.reporting.pages.analyze import census_datasets
    res = digits_result
    data = census_datasets(res)
    names = res.class_names
    for panel in res.views["class_means"]:
        z, order = np.asarray(panel["z"], float), np.asarray(panel["order"])
        rows = [d for d in data["an_cm"] if d["layer"] == panel["name"]]
        assert len(rows) == z.size
        for d in rows:
            assert d["unit"] == f"{panel['name']}:{order[d['pos']]}" and d["class"] == names[d["row"]]
            want = z[d["row"], d["pos"]]
            assert (d["z"] is None) if np.isnan(want) else d["z"] == pytest.approx(want, abs=1e-9)
    ab = res.views["ablation"]["panels"][0]
    rows = [d for d in data["an_abl"] if d["layer"] == ab["name"]]
    z = np.asarray(ab["z"], float)
    assert len(rows) == z.size and all(d["pp"] == pytest.approx(z[d["row"], d["pos"]]) for d in rows)
    assert sorted({d["pos"] for d in rows if d["key"]}) == sorted(np.asarray(ab["key"]).tolist())
    units = {u["unit"]: u for rec in res.layers for u in rec["unit_records"]}
    for li, live in enumerate(res.views["selectivity"]["live"]):
        dots = [d for d in data["an_sel"] if d["li"] == li]
        assert sorted(d["s"] for d in dots) == pytest.approx(sorted(np.asarray(live, float)))
        assert all(d["s"] == pytest.approx(units[d["unit"]]["selectivity"], abs=1e-4) for d in dots)
    p = res.views["probes"]
    held = [d["acc"] for d in data["an_probe"] if d["split"] == "held-out samples"]
    assert held == pytest.approx([100 * x for x in p["test"]], abs=1e-2)


def test_same_seed_same_numbers(digits_result):
    again = run(AnalyzeConfig(dataset="digits", model="mlp 16-8", epochs=3, lr=0.01, max_samples=300,
                              ablation_samples=200))
    for a, b in zip(digits_result.layers, again.layers):
        assert a["dead"] == b["dead"]
        assert dumps(a["unit_records"]) == dumps(b["unit_records"]) and dumps(a["ablation"]) == dumps(b["ablation"])


# --------------------------------------------------------------------------- words
def test_findings_helpers():
    assert fx.unit_list(["a:1"]) == "a:1" and fx.unit_list(["a:1", "a:2", "a:3"]) == "a:1, a:2 and a:3"
    assert fx.unit_list([f"u:{i}" for i in range(15)], 3) == "u:0, u:1, u:2 and 12 more"
    assert fx.layer_label("1") == "layer 1" and fx.layer_label("3#1") == "layer 3#1"
    assert fx.layer_label("L1") == "L1" and fx.layer_label("features.0") == "features.0"
    assert fx.class_label(["0", "1"], 1) == "class 1" and fx.class_label(["cat", "dog"], 0) == "'cat'"
    assert pct(0.9764, 1) == "97.6%" and pct(float("nan"), 1) == "n/a"


@pytest.mark.parametrize("kw,match", [
    ({"ablation_mode": "median"}, "ablation_mode"), ({"reduce": "sum"}, "reduce"),
    ({"threshold": 0.0}, "threshold"), ({"threshold": 1.5}, "threshold"), ({"epochs": -1}, "epochs"),
    ({"test_fraction": 1.0}, "test_fraction"), ({"max_samples": 2}, "max_samples"),
    ({"model": "mlp 8", "weights": "w.safetensors"}, "weights"), ({"seed": -1}, "seed"),
    ({"layers": "a, b"}, None), ({"dataset": ""}, "dataset"),
])
def test_bad_config(kw, match):
    if match is None:                                       # comma-separated text is a tuple of names
        assert AnalyzeConfig(**kw).layers == ("a", "b")
        return
    with pytest.raises(NichelabError, match=f"^{match} ") as err:
        AnalyzeConfig(**kw)
    assert err.value.field == match


def _sel_layer(name, values, dead=None):
    from types import SimpleNamespace as NS
    v = np.asarray(values, float)
    return NS(name=name, selectivity=v, dead=np.zeros(v.size, bool) if dead is None else np.asarray(dead))


def test_mean_difference_is_welch_interval():
    """The interval equals scipy's Welch t interval (a reference computed independently)."""
    from scipy.stats import ttest_ind
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.3, 0.1, 12), rng.normal(0.5, 0.2, 7)
    d, lo, hi, sep = fx.mean_difference(a, b)
    ref = ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert d == pytest.approx(b.mean() - a.mean()) and (lo, hi) == pytest.approx((ref.low, ref.high))
    assert sep == (ref.low > 0 or ref.high < 0)
    assert np.isnan(fx.mean_difference([0.1], [0.2, 0.3])[0]) and not fx.mean_difference([0.1], [0.2, 0.3])[3]


def test_selectivity_change_claims_only_with_interval():
    """A clear rise is called a rise, with its interval; heavily overlapping layers "cannot tell"; bare names read 'layer 1'."""
    low = [0.30, 0.32, 0.34, 0.36, 0.38, 0.31, 0.33, 0.35]
    clear = fx.selectivity_change([_sel_layer("1", low), _sel_layer("3", np.add(low, 0.3))])
    assert "From layer 1 to layer 3 it rises by 0.30 (95% CI +0.2" in clear and "cannot tell" not in clear
    assert "layer 1 0.34 (8 live units), layer 3 0.64 (8 live units)" in clear
    falls = fx.selectivity_change([_sel_layer("L1", np.add(low, 0.3)), _sel_layer("L2", low)])
    assert "From L1 to L2 it falls by 0.30" in falls
    wide = [0.05, 0.9, 0.1, 0.8, 0.2, 0.7]
    unclear = fx.selectivity_change([_sel_layer("1", wide), _sel_layer("3", np.add(wide, 0.08))])
    assert "this run cannot tell whether selectivity rises or falls with depth" in unclear
    assert "rises by" not in unclear and "the difference is +0.08 (95% CI −" in unclear
    dead = fx.selectivity_change([_sel_layer("1", [0.2, 0.3], dead=[True, True]), _sel_layer("3", low)])
    assert dead == ""                                        # one layer with live units: nothing to compare


def test_probe_words_rest_on_newcombe_interval():
    from types import SimpleNamespace as NS

    from nichelab.studies.text import difference
    lc = lambda name, acc: NS(name=name, probe=NS(test_acc=acc, chance=0.1, n_train=200, n_test=100))  # noqa: E731
    text = " ".join(fx.probe_findings([lc("1", 0.60), lc("3", 0.90)], None, 10))
    d, lo, hi, _ = difference(90, 100, 60, 100)
    assert (f"most linearly decodable from layer 3 (90.0%), 30.0 points above the next layer, layer 1 (60.0%; "
            f"95% CI +{100 * lo:.1f} to +{100 * hi:.1f} points)") in text
    text = " ".join(fx.probe_findings([lc("1", 0.88), lc("3", 0.90)], None, 10))
    assert "this run cannot tell it from layer 1 (88.0%; difference +2.0 points" in text
    assert "most linearly decodable" not in text
    inp = NS(test_acc=0.93, chance=0.1, n_train=200, n_test=100)
    assert "raw input is more" not in " ".join(fx.probe_findings([lc("1", 0.88), lc("3", 0.90)], inp, 10))
    inp.test_acc = 0.99
    assert "raw input is more linearly decodable" in " ".join(fx.probe_findings([lc("1", 0.5), lc("3", 0.6)], inp, 10))


def test_negative_ablation_cost_explained():
    """A unit whose removal raised accuracy is named and explained, not shown as a bare negative cost."""
    from types import SimpleNamespace as NS
    n = 200
    abl = NS(delta_acc=np.array([-0.02, 0.0, 0.01]), delta_class_acc=np.array([[-0.04, 0.0], [0.0, 0.0], [0.02, 0.0]]),
             class_counts=np.array([100, 100]), baseline_acc=0.9)
    lc = NS(name="1", ablation=abl, n_units=3, kind="dense", selectivity=np.array([0.1, 0.2, 0.3]),
            unit=lambda k: f"1:{k}")
    text = " ".join(fx.ablation_findings([lc], ["0", "1"], 5.0, 10.0, "zero"))
    assert "Removing 1 unit of this layer (1:2) raised overall accuracy instead" in text
    assert "at most 1.0 points (1:2, 2 samples more answered correctly of 200)" in text
    assert "what chance can do" in text and "layer 1: the largest overall cost of one unit is 2.0 points (1:0)" in text
    assert n == int(abl.class_counts.sum())


def test_signed_points_and_tied_probes_words():
    assert fx._spp(3.0) == "+3.0" and fx._spp(-3.0) == "−3.0" and fx._spp(-0.01) == "0.0" and fx._spp(0.0) == "0.0"
    from types import SimpleNamespace as NS
    p = NS(test_acc=1.0, chance=0.25, n_train=7, n_test=3)
    layers = [NS(name="L1", probe=p), NS(name="L2", probe=p)]
    text = " ".join(fx.probe_findings(layers, None, 4))
    assert "Every analysed layer reaches 100.0%." in text and "most linearly decodable" not in text


def test_active_sides_equal_active_classes_in_blocks():
    """The census's blockwise active-class count gives metrics.active_classes exactly (blocks of any size)."""
    from nichelab.metrics.partitions import active_classes
    from nichelab.studies.analyze.census import active_sides
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 1001)
    y[y == 3] = 2                                    # class 3 without samples: never active
    acts = rng.standard_normal((1001, 7)).astype(np.float32) + np.array([0, 0.3, -0.3, 2, -2, 0, 0], np.float32)
    acts[y == 0, 5] = 1.0                            # exactly half of class 1 on for unit 6 below
    on1 = np.flatnonzero(y == 1)
    acts[:, 6] = -1.0
    acts[on1[: len(on1) // 2], 6] = 1.0
    ref = active_classes(acts, y, 4)
    for rows in (1, 7, 100, 5000):
        np.testing.assert_array_equal(active_sides(acts, y, 4, rows=rows), ref)
    assert not ref[:, 3].any() and ref[5, 0] and (not ref[6, 1] if len(on1) % 2 == 0 else True)
