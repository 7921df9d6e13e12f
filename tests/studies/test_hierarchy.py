"""The hierarchy study: settings and bad input, concept masks, geometry, findings, and a tiny end-to-end run."""
import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import nichelab
from nichelab.cli import app
from nichelab.data.parts import load_parts
from nichelab.errors import NichelabError
from nichelab.nn import build_model
from nichelab.reporting import render_page, summary_table
from nichelab.runs.jsonio import dumps
from nichelab.studies import hierarchy
from nichelab.studies.hierarchy import findings as fx
from nichelab.studies.hierarchy.analysis import layer_geometry, patch_box
from nichelab.studies.hierarchy.config import HierarchyConfig, parse_units
from nichelab.studies.hierarchy.data import EDGE_ANGLES, bar_stimuli, concepts, grating_stimuli

SPEC = "cnn 8-16-32 fc=64"


# ---------------------------------------------------------------- settings and bad input
@pytest.mark.parametrize("units,words", [
    ("L9:0", r"unknown layer 'L9'.*hidden layers are L1, L2, L3, L4"),
    ("L1:99", r"'L1:99' is out of range; layer L1 has 8 units \(L1:0..L1:7\)"),
    ("L5:0", r"L5 is the output layer"),
    ("L2-3", r"LAYER:UNIT, e.g. 'L2:5'"),
    ("l1:0", r"did you mean 'L1'"),
])
def test_malformed_units_are_rejected_with_the_field_and_close_names(units, words):
    with pytest.raises(NichelabError, match=words) as err:
        HierarchyConfig(units=(units,))
    assert err.value.field == "units" and str(err.value).startswith("units ")


def test_units_parse_lists_commas_and_spaces_and_drop_duplicates():
    assert parse_units(["L1:0,L2:3", "L4:63 L1:0"], SPEC) == [("L1", 0), ("L2", 3), ("L4", 63)]
    assert HierarchyConfig(units=("L3:5",)).unit_list() == [("L3", 5)]
    assert HierarchyConfig(units="L3:5,L1:0").units == ("L3:5", "L1:0")


@pytest.mark.parametrize("kw,words", [
    ({"dataset": "face"}, r"dataset must be one of parts, faces, digits; got 'face' \(did you mean 'faces'"),
    ({"model": "mlp 64"}, "model must be a cnn spec"),
    ({"stimulus": "bar"}, r"stimulus .*did you mean 'bars'"),
    ({"seeds": 0}, "seeds must be an integer >= 1"),
    ({"test_fraction": 0.95}, "test_fraction must be a finite number >= 0.05 and <= 0.8"),
    ({"noise": -1.0}, "noise must be a finite number >= 0; got -1.0"),
    ({"noise": float("inf")}, "noise must be a finite number >= 0; got inf"),
    ({"featvis_reduce": "centre"}, "featvis_reduce must be one of best, center, max, mean"),
])
def test_bad_settings_name_the_field(kw, words):
    with pytest.raises(NichelabError, match=words):
        HierarchyConfig(**kw)


def test_dataset_defaults():
    assert HierarchyConfig().stimulus == "bars" and HierarchyConfig().epochs == 10 and HierarchyConfig().seeds == 3
    faces = HierarchyConfig(dataset="faces")
    assert faces.stimulus == "gratings" and faces.epochs == 60
    assert HierarchyConfig(dataset="digits", epochs=3).epochs == 3


def test_config_imports_no_torch():
    code = "import sys, nichelab.studies.hierarchy.config; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("args,words", [
    (["--dataset", "mnist"], "--dataset"),
    (["--units", "L9:0"], "--units has an unknown layer 'L9'"),
    (["--units", "L1:99"], "out of range"),
    (["--noise", "-1"], "--noise must be a finite number >= 0"),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, args, words):
    res = CliRunner().invoke(app, ["run", "hierarchy", *args, "--out", str(tmp_path / "run")])
    assert res.exit_code == 2
    assert words in res.output and "Traceback" not in res.output
    assert not (tmp_path / "run").exists()


def test_help_lists_every_old_option_with_its_default():
    res = CliRunner().invoke(app, ["run", "hierarchy", "--help"])
    assert res.exit_code == 0
    for flag in ("--dataset", "--model", "--seeds", "--first-seed", "--epochs", "--lr", "--batch-size",
                 "--per-class", "--size", "--noise", "--data-seed", "--stimulus", "--units", "--units-per-layer",
                 "--featvis-steps", "--top-k"):
        assert flag in res.output, flag
    d = HierarchyConfig.__dataclass_fields__
    assert (d["seeds"].default, d["per_class"].default, d["featvis_steps"].default, d["top_k"].default,
            d["batch_size"].default, d["model"].default) == (3, 300, 200, 6, 64, "cnn 8-16-32 fc=64")


# ---------------------------------------------------------------- data and geometry
def test_concept_masks_partition_the_ink_into_edges_and_objects():
    d = load_parts(n_per_class=6, noise=0.0)
    con = concepts(d)
    ink = d.meta["part_masks"].any(axis=1)
    edges = con.masks[:, con.indices("edge")]
    assert edges.shape[1] == len(EDGE_ANGLES)
    np.testing.assert_array_equal(edges.sum(axis=1), ink.astype(int))          # each ink pixel in one bin
    objects = con.masks[:, con.indices("object")]
    np.testing.assert_array_equal(objects.any(axis=1), ink)
    np.testing.assert_array_equal(objects.sum(axis=1) <= 1, True)
    for c in range(d.n_classes):
        assert not objects[d.y != c, c].any()
    # the generator's masks match its (noise-free) images: ink is exactly where the image is >= 0.5
    np.testing.assert_array_equal(ink, d.X[:, 0] >= 0.5)
    # a horizontal stroke lands in the 0-degree bin
    theta = np.degrees(d.meta["orientation"])
    flat = np.isfinite(theta) & ((theta < 10) | (theta > 170))
    assert edges[:, 0][flat].all()


def test_receptive_fields_strides_and_patch_boxes_of_the_default_cnn():
    model = build_model(SPEC, (1, 32, 32), 5, seed=0)
    geo = {g.name: g for g in layer_geometry(model, HierarchyConfig().layers, (1, 32, 32))}
    assert [(geo[n].rf, geo[n].jump, geo[n].map_shape) for n in ("L1", "L2", "L3")] == \
        [(3, 1, (32, 32)), (8, 2, (16, 16)), (18, 4, (8, 8))]
    assert geo["L4"].kind == "dense" and geo["L4"].rf == 32
    assert patch_box(geo["L1"], 5, 7) == (4, 6, 3)
    assert patch_box(geo["L2"], 3, 3) == (3, 3, 8)          # pooled cell 3 covers pixels 6, 7; RF 8 centred there


def test_stimuli_have_the_input_shape_even_for_8_pixel_digits():
    for shape in ((1, 32, 32), (1, 25, 25), (1, 8, 8)):
        imgs, angles = bar_stimuli(shape)
        assert imgs.shape[1:] == shape and len(angles) == len(imgs) and 0 <= imgs.min() and imgs.max() <= 1
        imgs, angles, freq = grating_stimuli(shape)
        assert imgs.shape[1:] == shape and freq.max() <= 0.5


# ---------------------------------------------------------------- findings in words
def test_trend_words_follow_the_numbers():
    names = ["L1", "L2", "L3", "L4"]
    assert fx.trend([0.1, 0.3, 0.5, 0.8], names).startswith("rises with depth (L1 10%, L2 30%")
    assert fx.trend([0.8, 0.5, 0.52, 0.1], names).startswith("falls with depth")
    assert fx.trend([0.1, 0.6, 0.2, 0.1], names).startswith("peaks at L2")
    assert fx.trend([0.5, 0.52, 0.49, 0.5], names).startswith("stays about the same")
    assert fx.trend([0.2, np.nan, 0.6, np.nan], names) == "rises with depth (L1 20%, L3 60%)"


def test_story_verdict_reports_the_failing_steps():
    ok = fx.StageVerdict("edges", True, 0, "")
    bad = fx.StageVerdict("parts", False, 0, "")
    top = fx.StageVerdict("objects", True, 3, "")
    names = ["L1", "L2", "L3", "L4"]
    assert "holds only in part" in fx.story_verdict([ok, bad, top], names)
    assert "most common in successive layers, as the story says" in fx.story_verdict(
        [ok, fx.StageVerdict("parts", True, 1, ""), top], names)
    assert "not measurable" in fx.story_verdict([ok, fx.StageVerdict("parts", None, -1, ""), top], names)


# ---------------------------------------------------------------- a tiny run, trained vs. random
@pytest.fixture(scope="module")
def tiny():
    cfg = HierarchyConfig(seeds=1, per_class=60, epochs=12, featvis_steps=15, probe_repeats=1, top_k=3,
                          units_per_layer=1)
    return hierarchy.run(cfg)


def test_the_random_network_control_scores_lower_than_the_trained_one(tiny):
    assert tiny.test_accuracy["trained"][0] > 0.8 and tiny.test_accuracy["random"][0] < 0.5
    assert tiny.per_seed("probe_class")[0, -1] > tiny.per_seed("probe_class", "random")[0, -1] + 0.05
    assert tiny.per_seed("object_ap_max")[0, -1] > tiny.per_seed("object_ap_max", "random")[0, -1] + 0.1
    assert tiny.per_seed("selectivity_mean")[0, -1] >= 0
    assert np.isnan(tiny.per_seed("part_detectors")[0, -1])   # dense: no maps


def test_result_json_report_and_weights(tiny):
    data = json.loads(dumps(tiny.to_dict()))
    assert data["study"] == "hierarchy" and data["schema_version"] == 2
    assert data["layers"] == ["L1", "L2", "L3", "L4"]
    assert set(data["per_layer"]["trained"]) >= {"edge_detectors", "part_detectors", "object_ap_max", "probe_scrambled"}
    units = data["units"]["trained"][0][0]["units"]
    assert len(units) == 8 and {"osi", "best_part", "best_part_iou", "object_ap", "selectivity"} <= set(units[0])
    assert data["verdict"]["story"].startswith("In this run the story")
    assert len(data["featvis"]) == 4
    assert [v["label"].split("\n")[0] for v in data["views"]["featvis"]] == [f["unit"] for f in data["featvis"]]
    assert set(data["findings"]) >= {"summary", "edges", "parts", "objects", "scrambled", "examples", "featvis"}
    html = render_page(tiny)
    for title in ("Edges:", "Parts:", "Objects:", "Faces vs. scrambled faces", "Feature visualisation"):
        assert title in html
    assert html.count("data:image/png;base64,") >= 10
    w = tiny.weights()
    assert w["L1.conv.weight"].shape == (1, 8, 1, 3, 3) and "initial.L1.conv.weight" in w
    assert not np.array_equal(w["L1.conv.weight"], w["initial.L1.conv.weight"])
    assert w["images.gallery.0"].shape[0] == 3                 # top_k windows of the first gallery unit
    assert "edge detectors" in summary_table(tiny).columns
    tables = tiny.tables()
    assert list(tables["layers"]["layer"]) == ["L1", "L2", "L3", "L4"] and len(tables["units"]) == 8 + 16 + 32 + 64


def test_user_units_are_visualised_in_the_trained_and_the_random_network():
    cfg = HierarchyConfig(dataset="digits", seeds=2, epochs=1, units=("L2:1", "L4:0"), featvis_steps=5,
                          probe_repeats=1)
    res = hierarchy.run(cfg)
    assert [f["unit"] for f in res.featvis] == ["L2:1", "L4:0"]
    assert res.images["featvis.0.image_trained"].shape == (1, 8, 8)
    # a conv unit is maximised where it peaked on its best held-out image; a dense unit has no cell
    assert res.featvis[0]["cell_trained"] == res.units["trained"][0][1]["units"][1]["top_positions"][0]
    assert res.featvis[1]["cell_trained"] is None
    assert res.per_seed("probe_class").shape == (2, 4)
    assert res.weights()["L1.conv.weight"].shape[0] == 2
    assert res.data["concepts"] is None and np.isnan(res.mean("part_detectors")).all()
    assert res.verdict["stages"][1]["holds"] is None and "no part masks" in res.verdict["stages"][1]["text"]
    assert "Parts: not measurable" in render_page(res)


def test_cli_run_folder_loads_back_to_the_same_json(tmp_path):
    out = tmp_path / "hierarchy"
    res = CliRunner().invoke(app, ["run", "hierarchy", "--seeds", "1", "--epochs", "1", "--per-class", "20",
                                   "--featvis-steps", "2", "--model", "cnn 4-8 fc=16", "--probe-repeats", "1",
                                   "--top-k", "2", "--units-per-layer", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["glossary.html", "report.html", "results.json", "weights.safetensors"]
    loaded = nichelab.load_run(out)
    assert dumps(loaded.to_dict()) == (out / "results.json").read_text()
    assert loaded.images and loaded.params["L1.conv.weight"].shape == (1, 4, 1, 3, 3)
    assert "Feature visualisation" in render_page(loaded)


# ---- "edges, then parts, then objects" in plain words, on hand-built counts ------------------------------------
def _stage(name, holds, layer):
    from nichelab.studies.hierarchy.findings import StageVerdict
    return StageVerdict(name, holds, layer, "")


def test_fewer_edge_detectors_than_untrained_means_edges_are_there_before_training():
    from nichelab.studies.hierarchy import findings as hf
    stages = [_stage("edges", True, 0), _stage("parts", True, 1), _stage("objects", True, 2)]
    controls = [hf.stage_control(stages[0], "L1", 12, 100, 40, 100),      # clearly fewer after training
                hf.stage_control(stages[1], "L2", 30, 100, 5, 100),
                hf.stage_control(stages[2], "L3", 20, 64, 1, 64)]
    assert [c.learned for c in controls] == [False, True, True]
    assert "12% (12 of 100 units; 95% CI" in controls[0].sentence and "training made them rarer" in controls[0].sentence
    text = hf.story_plainly(stages, controls)
    assert ("hold in this run? Only in part: the layers are in the story's order, but for edges training did not "
            "measurably") in text
    assert "What the control means for 'edges first': the untrained network has more edge detectors in L1" in text
    assert "edge detectors are there before any training" in text


def test_the_story_holds_only_when_every_stage_beats_the_untrained_network():
    from nichelab.studies.hierarchy import findings as hf
    stages = [_stage("edges", True, 0), _stage("parts", True, 1), _stage("objects", True, 2)]
    controls = [hf.stage_control(s, f"L{i + 1}", 40, 100, 5, 100) for i, s in enumerate(stages)]
    assert "hold in this run? Yes: each kind is most common in a later layer" in hf.story_plainly(stages, controls)


def test_no_difference_from_untrained_is_called_cannot_tell_and_a_missing_stage_is_named():
    from nichelab.studies.hierarchy import findings as hf
    stages = [_stage("edges", True, 0), _stage("parts", None, -1), _stage("objects", False, 2)]
    controls = [hf.stage_control(stages[0], "L1", 3, 16, 2, 16), hf.stage_control(stages[2], "L3", 0, 16, 0, 16)]
    assert controls[0].learned is None and "the run cannot tell the two apart" in controls[0].sentence
    text = hf.story_plainly(stages, controls)
    assert "objects: none in any layer" in text and "hold in this run? No: the objects step does not hold" in text
    assert "What the control means for 'edges first': this run cannot tell the trained L1" in text
    assert "(Parts: not measurable on this dataset.)" in text


def test_unit_counts_pool_seeds():
    from nichelab.studies.hierarchy.findings import unit_counts
    assert unit_counts([0.25, 0.5, np.nan], 8) == (6, 16)


def test_heatmap_labels_are_short_and_the_colour_bar_covers_the_data():
    from nichelab.reporting.figures.hierarchy import cell_label, heatmap_vmax
    assert [cell_label(x) for x in (2.0, 0.333333, 2.3333333, 0.5)] == ["2", "0.33", "2.3", "0.5"]
    assert heatmap_vmax(np.array([[0.0, 2.33]]), np.array([[1.0, np.nan]])) == pytest.approx(2.33)
    assert heatmap_vmax(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0


# ---- per-section findings on hand-built per-layer numbers: counts, intervals, differences -------------------------
def _totals(n_units=(16, 32, 64, 128), n_seeds=3):
    from nichelab.studies.hierarchy.findings import UnitTotals
    return UnitTotals(list(n_units), n_seeds)


def _wilson(k, n):
    """Reference: the Wilson 95% interval, written out in float64."""
    z = 1.959963984540054
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return c - h, c + h


def test_unit_totals_recover_pooled_counts_and_intervals():
    t = _totals()
    # 3 seeds of a 16-unit layer with 2, 3 and 4 detectors: mean share 3/16; pooled 9 of 48
    assert t.count(np.mean([2 / 16, 3 / 16, 4 / 16]), 0) == (9, 48)
    lo, hi = _wilson(9, 48)
    assert t.share(9 / 48, 0) == f"19% (9 of 48 units; 95% CI {100 * lo:.0f}%–{100 * hi:.0f}%)"


def test_a_real_difference_from_the_untrained_network_is_called_one():
    names, t = ["L1", "L2", "L3", "L4"], _totals()
    det_t = np.array([40, 10, 10, 10]) / 48         # L1: 40 of 48 after training
    det_r = np.array([5, 10, 10, 10]) / 48          # against 5 of 48 untrained
    st = fx.edge_stage(det_t, det_r, det_t, None, names, 0.3, 0.5, "bars", t)
    assert st.holds is True and st.layer == 0
    assert "In L1 it is 83% (40 of 48 units; 95% CI" in st.sentence
    assert "more than the untrained network's 10% (5 of 48 units;" in st.sentence
    assert "Training added the most edge detectors in L1" in st.sentence
    assert "training made them more common than in the untrained first layer" in st.sentence
    assert "cannot tell" not in st.sentence.split("Training added")[1]


def test_no_difference_from_the_untrained_network_is_not_called_one():
    names, t = ["L1", "L2", "L3", "L4"], _totals()
    det_t = np.array([6, 1, 1, 1]) / 48
    det_r = np.array([5, 1, 1, 1]) / 48
    st = fx.edge_stage(det_t, det_r, det_t, None, names, 0.3, 0.5, "bars", t)
    assert "not measurably different from the untrained network's" in st.sentence
    assert "this run cannot tell them apart" in st.sentence
    assert "No layer has more edge detectors than the untrained network by more than this run can tell" in st.sentence
    assert "more common than" not in st.sentence and "fewer than" not in st.sentence
    # the same shares with 10x the units: now the layers differ and the trend says so
    big = _totals((160, 320, 640, 1280), 3)
    wide = np.array([0.5, 0.1, 0.1, 0.1])
    assert fx.trend(wide, names, units=big).startswith("falls with depth (L1 50% (240 of 480 units")
    assert fx.trend(np.array([3, 1, 1, 1]) / 48, names, units=t).startswith(
        "does not differ between layers by more than this run can tell")


def test_fewer_trained_edge_detectors_in_the_first_layer_means_edges_come_before_training():
    names, t = ["L1", "L2", "L3"], _totals((16, 32, 64))
    det_t = np.array([10, 2, 2]) / 48
    det_r = np.array([40, 2, 2]) / 48
    st = fx.edge_stage(det_t, det_r, det_t, None, names, 0.3, 0.5, "bars", t)
    assert "fewer than the untrained network's 83% (40 of 48 units" in st.sentence
    assert "the untrained first layer has more of them" in st.sentence
    assert "'edges first' is there before any training" in st.sentence


def test_a_single_seed_still_gives_counts_and_intervals():
    names, t = ["L1", "L2"], _totals((8, 16), 1)
    text = fx.trend(np.array([1 / 8, 8 / 16]), names, units=t)
    lo, hi = _wilson(1, 8)
    assert f"L1 12% (1 of 8 units; 95% CI {100 * lo:.1f}%–{100 * hi:.0f}%)" in text
    assert "L2 50% (8 of 16 units;" in text


def test_silent_units_are_counted_and_never_prefer_a_class():
    names, t = ["L1", "L2"], _totals((8, 16), 2)
    dead = {"trained": np.array([0.0, 0.5]), "random": np.array([0.0, 0.0])}
    text = fx.silent_findings(lambda m, w="trained": dead[w], names, t)
    assert "Silent units" in text and "L2 50% (16 of 32 units;" in text and "untrained: L1 0% (0 of 16 units;" in text
    from types import SimpleNamespace

    from nichelab.studies.hierarchy.views import unit_label
    layer = SimpleNamespace(name="L2", dead=np.array([True, False]), preferred=np.array([1, 0]), part_detector=None,
                            edge_detector=None)
    assert unit_label(layer, 0, ["face", "house"], None) == "L2:0\nsilent"
    assert unit_label(layer, 1, ["face", "house"], None) == "L2:1\nprefers face"


def test_object_stage_holds_only_when_the_top_layer_beats_the_untrained_one_measurably():
    names, t = ["L1", "L2", "L3"], _totals((16, 32, 64))
    ap = np.array([0.3, 0.5, 0.9])
    real = fx.object_stage(np.array([0, 0, 60]) / 192, np.array([0, 0, 2]) / 192, ap, ap, names, 0.8, "face",
                           units=t)
    assert real.holds is True and "measurably above the untrained network" in real.sentence
    same = fx.object_stage(np.array([0, 0, 3]) / 192, np.array([0, 0, 2]) / 192, ap, ap, names, 0.8, "face",
                           units=t)
    assert same.holds is False and "this run cannot tell their share from the untrained network's" in same.sentence


def test_featvis_share_above_the_best_image_has_its_count_and_interval():
    text = fx.featvis_findings([0.5, 1.5, 2.0, 0.9], [0.1, 0.2, 0.3, 0.4], how="two units", steps=5)[0]
    lo, hi = _wilson(2, 4)
    assert f"above 1 for 50% (2 of 4 units; 95% CI {100 * lo:.0f}%–{100 * hi:.0f}%)" in text
