"""The width study: census measures on hand-built networks, a small run end to end, bad input, round trip."""
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.data import load_blobs
from nichelab.errors import NichelabError
from nichelab.nn import build_model
from nichelab.reporting import build_report, render_page, summary_table
from nichelab.runs.jsonio import dumps
from nichelab.studies import width
from nichelab.data.split import stratified_split
from nichelab.studies.width.analysis import census, duplicate_pairs, hidden_acts, partitions
from nichelab.train import TrainConfig, train_ensemble

runner = CliRunner()
BLOBS = load_blobs()


def test_duplicate_pairs_on_hand_built_activations():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 1))
    acts = np.maximum(np.hstack([a, 2 * a + 0.01 * rng.normal(size=(200, 1)), rng.normal(size=(200, 1)),
                                 np.zeros((200, 1))]), 0)
    pairs, share = duplicate_pairs(acts, 0.95)
    assert pairs == 1                              # units 0 and 1; the dead unit 3 is never paired
    assert share == pytest.approx(2 / 3)           # 2 of the 3 live units


def test_partitions_count_distinct_nontrivial_splits():
    X, y = BLOBS.X, BLOBS.y
    W = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]])   # x0 twice, x1, dead, all-on
    b = np.array([0.5, 1.0, 0.0, -1.0, 100.0])
    acts = np.maximum(X @ W.T + b, 0)
    dead = ~(acts > 0).any(axis=0)
    n, keys = partitions(acts, y, 4, dead)
    assert n == 2
    assert keys == ["{0,1}|{2,3}", "{0,1}|{2,3}", "{0,2}|{1,3}", "dead", "{0,1,2,3}|{}"]


def test_census_ablation_and_duplicates_on_a_hand_built_network():
    """Two copies of one unit: each alone is removable, and they are a near-duplicate pair."""
    def build(seed):
        m = build_model("mlp 3", (2,), 4, seed=seed)
        with torch.no_grad():
            m.L1.linear.weight.copy_(torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
            m.L1.linear.bias.copy_(torch.tensor([0.5, 0.5, 0.0]))
        return m
    ens = train_ensemble(build, BLOBS.X, BLOBS.y, TrainConfig(epochs=0), [0])
    with torch.no_grad():   # outgoing weights: classes from the two splits, split evenly over the copies
        W2 = np.array([[-1, -1, 1], [-1, -1, -1], [1, 1, 1], [1, 1, -1]], dtype=np.float32) * 4
        ens.params["L2.linear.weight"] = W2[None]
        ens.params["L2.linear.bias"] = np.array([[0.0, 2.0, -6.0, -2.0]], dtype=np.float32)
    cfg = width.WidthConfig(seeds=1, widths=(3,), data=("blobs",))
    r = census(3, ens, BLOBS, BLOBS, cfg)
    assert r.dup_pairs.tolist() == [1]
    assert r.partitions.tolist() == [2]
    delta = r.ablation_delta[0]
    assert delta[2] < -0.2                       # the only unit splitting {0,2}|{1,3}
    assert r.frivolous[0] == pytest.approx(np.mean(delta > -cfg.ablation_cost))
    np.testing.assert_allclose(hidden_acts(ens.params, BLOBS.X)[0, :, 0], np.maximum(BLOBS.X[:, 0] + 0.5, 0), rtol=1e-6)


def test_stratified_split_keeps_class_shares():
    from nichelab.data import load_digits
    tr, te = stratified_split(load_digits(), 0.25, seed=0)
    assert len(tr) + len(te) == 1797 and abs(len(te) - 450) <= 10
    shares = np.bincount(te.y) / np.bincount(np.r_[tr.y, te.y])
    assert np.all(np.abs(shares - 0.25) < 0.02)


@pytest.fixture(scope="module")
def small():
    return width.run(width.WidthConfig(seeds=2, widths=(1, 4, 32), data=("blobs",), epochs=60, eval_samples=300))


def test_small_run_census_trends(small):
    d = small.datasets["blobs"]
    assert d.widths == [1, 4, 32]
    assert d.per_width[32].accuracy.mean() > d.per_width[1].accuracy.mean()
    assert d.per_width[32].near_duplicate_pairs.mean() > d.per_width[4].near_duplicate_pairs.mean()
    assert np.all(d.per_width[32].participation_ratio < 32)
    assert d.per_width[32].ablation_accuracy_change.shape == (2, 32)
    assert np.all(d.per_width[32].distinct_partitions <= 7)
    np.testing.assert_allclose(d.means_by_width["accuracy"], [d.per_width[w].accuracy.mean() for w in d.widths])


def test_small_run_report_json_summary(small):
    data = json.loads(dumps(small.to_dict()))
    assert data["study"] == "width" and data["config"]["epochs"] == 60 and data["seeds"] == [0, 1]
    blobs = data["datasets"]["blobs"]
    assert set(blobs["per_width"]) == {"1", "4", "32"}
    assert len(blobs["per_width"]["32"]["ablation_accuracy_change"][0]) == 32
    assert blobs["findings"]["short"].startswith("On the blobs")
    assert len(data["views"]["points_X"]) == 300
    html = render_page(small)
    assert "data:image/png;base64," not in html
    assert [c.name for c in build_report(small).charts()] == ["census", "unit_lines", "unit_costs"]
    assert len(build_report(small).sections) == 5
    assert len(summary_table(small).rows) == 3
    assert small.weights()["blobs/w32/L1.linear.weight"].shape == (2, 32, 2)
    tables = small.tables()
    assert list(tables["widths"]["width"]) == [1, 4, 32] and len(tables["seeds"]) == 6


def test_figure_views_hold_what_is_drawn(small):
    v = small.views
    assert v.widths == [1, 4, 32] and set(v.census) == {"blobs"}
    acc = v.census["blobs"]["accuracy"]
    d = small.datasets["blobs"]
    np.testing.assert_allclose(acc.mean, d.means_by_width["accuracy"])
    np.testing.assert_allclose(acc.low, [d.per_width[w].accuracy.min() for w in d.widths])
    assert [u.width for u in v.unit_lines] == [4]          # of the shown widths 4, 16, 128
    u = v.unit_lines[0]
    assert u.W.shape == (4, 2) and u.n_dead == u.keys.count("dead") and u.seed == 0
    assert u.keys == d.per_width[4].unit_splits[0]
    assert u.n_splits == len({k for k in u.keys if k != "dead"})


def test_epochs_default_per_dataset():
    cfg = width.WidthConfig()
    assert cfg.epochs is None and (cfg.epochs_for("blobs"), cfg.epochs_for("digits")) == (200, 30)
    assert width.WidthConfig(epochs=7).epochs_for("digits") == 7
    assert width.WidthConfig(widths="8,2,2", data="digits,blobs").widths == (2, 8)
    assert width.WidthConfig(data=("digits", "blobs")).data == ("blobs", "digits")


@pytest.mark.parametrize("kw,field", [({"widths": (0, 4)}, "widths"), ({"widths": ()}, "widths"),
                                      ({"widths": (2.5,)}, "widths"), ({"data": ("digit",)}, "data"),
                                      ({"dup_threshold": 1.5}, "dup_threshold"),
                                      ({"ablation_cost": -0.1}, "ablation_cost"), ({"seeds": 0}, "seeds"),
                                      ({"init": "zeros"}, "init"), ({"epochs": 0}, "epochs")])
def test_config_rejects_bad_values(kw, field):
    with pytest.raises(NichelabError, match=f"^{field} ") as err:
        width.WidthConfig(**kw)
    assert err.value.field == field


@pytest.mark.parametrize("args,needle", [(["--widths", "0"], "--widths"), (["--widths", "4,x"], "--widths"),
                                         (["--widths", "-2,4"], "--widths"),
                                         (["--epochs", "-1"], "--epochs must")])
def test_cli_bad_input_is_one_line_and_exit_2(args, needle, tmp_path):
    res = runner.invoke(app, ["run", "width", *args, "--out", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert needle in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x").exists()


def test_cli_small_run_and_load_run_round_trip(tmp_path):
    from nichelab import load_run
    out = tmp_path / "w"
    res = runner.invoke(app, ["run", "width", "--seeds", "1", "--widths", "2,8", "--data", "digits,blobs",
                              "--epochs", "2", "--eval-samples", "50", "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = (out / "results.json").read_text()
    data = json.loads(text)
    assert data["datasets"]["digits"]["widths"] == [2, 8] and data["config"]["epochs"] == 2
    assert "distinct_partitions" not in data["datasets"]["digits"]["per_width"]["2"]
    assert "distinct_partitions" in data["datasets"]["blobs"]["per_width"]["2"]
    assert sorted(p.name for p in out.iterdir()) == ["glossary.html", "report.html", "results.json", "weights.safetensors"]
    loaded = load_run(out)
    assert json.loads(dumps(loaded.to_dict())) == data
    assert dumps(loaded.to_dict()) == text
    assert loaded.params["digits/w8/L1.linear.weight"].shape == (1, 8, 64)
    assert [c.name for c in build_report(loaded).charts()] == ["census", "unit_lines", "unit_costs"]


def test_cli_help_lists_every_old_option():
    res = runner.invoke(app, ["run", "width", "--help"], terminal_width=200)
    assert res.exit_code == 0, res.output
    for flag in ("--seeds", "--first-seed", "--widths", "--data", "--epochs", "--eval-samples", "--dup-threshold",
                 "--ablation-cost", "--lr", "--batch-size", "--optimizer", "--init", "--out"):
        assert flag in res.output, flag


def test_dims_verdict_depends_on_the_numbers():
    from nichelab.studies.width.findings import _dims_verdict
    assert "mostly repeat" in _dims_verdict(1.2, 8, 70, 100)        # 95% CI 60-78%: a majority
    low = _dims_verdict(1.2, 8, 0, 100)
    assert "mostly repeat" not in low and "fewer than half of them are near-copies" in low
    assert "add new directions" in _dims_verdict(6.0, 8, 0, 100)
    unsure = _dims_verdict(1.2, 8, 6, 10)                            # 60%, 95% CI 31-83%: cannot tell
    assert "cannot tell" in unsure and "mostly" not in unsure and "fewer than half" not in unsure


# ---- findings on hand-built censuses whose right sentence is known ---------------------------------------------
def _census(dead_by_width: dict, seeds: int = 20, acc=None, dup=None) -> "object":
    """A DatasetWidths with the given dead units: ``{width: [(seed, n_dead), ...]}``; accuracy 50% at width 1,
    90% above (so 2 units are enough unless ``acc`` says otherwise)."""
    from nichelab.studies.width.analysis import DatasetWidths, WidthRun
    d = DatasetWidths("blobs", BLOBS, BLOBS, np.arange(seeds))
    for w, events in dead_by_width.items():
        dead = np.zeros((seeds, w), bool)
        for s, n in events:
            dead[s, :n] = True
        a = np.full(seeds, (acc or {}).get(w, 0.5 if w == 1 else 0.9))
        share = np.full(seeds, (dup or {}).get(w, 0.0))
        d.runs[w] = WidthRun(w, a, a, dead, np.zeros(seeds, int), share, np.ones(seeds, int), None,
                             np.ones(seeds), np.full((seeds, w), -0.1), np.zeros(seeds), np.zeros((seeds, 1)), {})
    return d


def test_dead_finding_calls_a_real_difference():
    from nichelab.studies.width.findings import answer_dead
    d = _census({1: [(s, 1) for s in range(10)], 2: [(s, 2) for s in range(5)], 32: [(s, 1) for s in range(5)]})
    text = answer_dead(d)[0]
    assert "lose 0.8% (5 of 640 units; 95% CI" in text and "the narrower ones 33% (20 of 60 units;" in text
    assert "wider layers lose units less often (difference −32.6 points, 95% CI" in text


def test_dead_finding_says_the_run_cannot_tell_when_intervals_overlap():
    from nichelab.studies.width.findings import answer_dead
    d = _census({1: [(0, 1)], 2: [], 32: [(s, 1) for s in range(10)]})
    text = answer_dead(d)[0]
    assert "1 of 20 at 1 unit (in 1 seed), 0 of 40 at 2 units, 10 of 640 at 32 units (in 10 seeds)" in text
    assert "the run cannot tell them apart" in text and "less often" not in text and "more often" not in text


def test_dead_finding_does_not_rest_a_difference_on_one_dead_network():
    from nichelab.studies.width.findings import answer_dead
    d = _census({1: [], 2: [(0, 2)], 32: []})
    text = answer_dead(d)[0]
    assert "rests on a single seed (one event)" in text and "less often" not in text


def test_dead_finding_without_any_dead_unit():
    from nichelab.studies.width.findings import answer_dead
    assert "No width lost a unit" in answer_dead(_census({1: [], 2: [], 32: []}))[0]


def test_pairs_are_quoted_as_the_mean_per_network_that_the_table_shows():
    from nichelab.studies.width.findings import answer_niches
    d = _census({1: [], 2: [], 32: []}, seeds=5, dup={32: 2 / 32})
    d.runs[32].dup_pairs = np.array([1, 0, 0, 0, 0])
    text = answer_niches(d, width.WidthConfig(seeds=5))[1]
    assert "0.2 near-duplicate pairs per network on average over the 5 seeds; 1 of 5 networks have at least one" in text
    assert "10 of 160 live units" in text          # 2 per seed, pooled


def test_per_width_card_gives_counts_and_intervals(small):
    """The width card's shares of units carry their counts and 95% intervals (pooled over seeds)."""
    import re
    from nichelab.reporting import build_report
    readout = next(ro for s in build_report(small).sections for ro in s.readouts if ro.param == "hwidth")
    for w in (1, 4, 32):
        lines = dict(readout.records[str(w)])
        k = int(round(float(np.nansum(small.datasets["blobs"].per_width[w].dead_fraction)) * w)); n = 2 * w
        assert n == 2 * w
        assert re.fullmatch(rf"\d+(\.\d)?% \({k} of {n} units; 95% CI .+\)", lines["blobs: dead units"]), lines
        assert "95% CI" in lines["blobs: frivolous units"]
