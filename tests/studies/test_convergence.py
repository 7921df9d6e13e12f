"""The convergence study: verdicts and unit matching on hand-built representations (known
answers), then one small run end to end (JSON fields, report, load_run)."""
import json

import numpy as np
import pytest

from nichelab.errors import NichelabError
from nichelab.reporting import build_report, render_page, summary_table
from nichelab.runs.jsonio import dumps
from nichelab.studies import STUDIES
from nichelab.studies import convergence as study
from nichelab.studies.convergence import findings as fx
from nichelab.studies.convergence.agreement import verdict
from nichelab.studies.convergence.analysis import analyse, layer_summaries, unit_census
from nichelab.studies.convergence.pipeline import load_data, split
from nichelab.studies.text import num, pct


# ---- verdicts ----------------------------------------------------------------------------------

def test_verdict_rules_and_thresholds():
    assert verdict(0.6, 0.5) == "same units"                      # majority of units matched
    assert verdict(0.4, 0.85) == "same subspace, different units"  # few units, high CKA
    assert verdict(0.4, 0.79) == "partly shared"
    assert verdict(0.4, 0.79, subspace_high=0.7) == "same subspace, different units"
    assert verdict(0.5, 0.0, majority=0.5) == "same units"        # the threshold is inclusive
    assert verdict(float("nan"), float("nan")) == "partly shared"


# ---- the analysis on hand-built representations ------------------------------------------------

def _seeds(n=300, d=8, seed=0):
    """Three 'seeds' with two layers: seed 1 = seed 0 with units permuted and rescaled (same units),
    seed 2 = seed 0 rotated by a random orthogonal matrix (same subspace, different units)."""
    rng = np.random.default_rng(seed)
    base = {"L1": rng.normal(size=(n, d)), "L2": rng.normal(size=(n, d // 2))}
    perm = {k: rng.permutation(v.shape[1]) for k, v in base.items()}
    rot = {k: np.linalg.qr(rng.normal(size=(v.shape[1], v.shape[1])))[0] for k, v in base.items()}
    s1 = {k: 3.0 * v[:, perm[k]] + 1.0 for k, v in base.items()}
    s2 = {k: v @ rot[k] for k, v in base.items()}
    return [base, s1, s2], perm


def test_analysis_tells_same_units_from_same_subspace():
    seeds, perm = _seeds()
    train = [{k: v[:150] for k, v in s.items()} for s in seeds]
    test = [{k: v[150:] for k, v in s.items()} for s in seeds]
    rng = np.random.default_rng(1)
    untrained = [{k: rng.normal(size=v.shape) for k, v in s.items()} for s in test]
    a = analyse(test, train, untrained, ["L1", "L2"], ["linear_cka", "svcca", "procrustes_distance"])
    p01, p02 = a.pairs.index((0, 1)), a.pairs.index((0, 2))
    for k in ("L1", "L2"):
        np.testing.assert_allclose(a.matched[k][p01], 1.0, atol=1e-9)          # permuted copy: perfect match
        # the matching recovers the permutation: unit perm[j] of seed 0 is unit j of seed 1
        np.testing.assert_array_equal(a.partner[k][p01][perm[k]], np.arange(len(perm[k])))
        assert a.matched[k][p02].mean() < 0.9                                   # rotated: units differ ...
        np.testing.assert_allclose(a.linpred[k][p02], 1.0, atol=1e-9)          # ... but span the same space
    for m in ("linear_cka", "svcca"):
        np.testing.assert_allclose(np.diagonal(a.similarity[m][p02]), 1.0, atol=1e-9)
    np.testing.assert_allclose(np.diagonal(a.similarity["procrustes_distance"][p02]), 0.0, atol=1e-9)
    assert a.identified["linear_cka"].all()        # independent layers: CKA finds each one
    census = unit_census(a, 0, "L1")
    assert [u["counterparts_high"] for u in census] == [1] * 8   # seed 1 has a copy of every unit, seed 2 not
    assert census[0]["name"] == "L1:0" and set(census[0]["matched"]) == {1, 2}
    summ = layer_summaries(a, majority=0.6)
    # pooled over pairs: 2 of 6 ordered pairs are permutations (0-1, 1-0), the other 4 are rotations
    assert summ[0]["frac_high"] == pytest.approx(2 / 6, abs=0.05)
    assert summ[0]["verdict"] == "same subspace, different units"
    assert layer_summaries(a, majority=0.3)[0]["verdict"] == "same units"


def test_dead_units_are_counted_apart():
    seeds, _ = _seeds()
    for s in seeds:
        s["L1"][:, 0] = 0.0   # unit 0 dead in every seed
    test = [{k: v[150:] for k, v in s.items()} for s in seeds]
    train = [{k: v[:150] for k, v in s.items()} for s in seeds]
    a = analyse(test, train, test, ["L1", "L2"], ["linear_cka"])
    assert all(d["L1"].tolist() == [True] + [False] * 7 for d in a.dead)
    s = layer_summaries(a)[0]
    assert s["dead_mean"] == 1.0
    assert a.pooled(a.matched, "L1").size == 7 * len(a.pairs)   # only live units are pooled


# ---- findings in words --------------------------------------------------------------------------

def _summ(layer, frac_high, cka, verdict_, matched=0.6):
    return {"layer": layer, "width": 8, "dead_mean": 0.0, "matched_mean": matched, "matched_median": matched,
            "frac_high": frac_high, "frac_low": 0.9, "frac_none": 0.1, "semi_mean": matched, "semi_frac_high": 0.0,
            "linpred_median": 0.95, "linpred_frac_high": 0.8, "baseline_matched_mean": 0.3, "baseline_frac_high": 0.0,
            "cka": cka, "baseline_cka": 0.4, "similarity": {"linear_cka": cka}, "identification": {"linear_cka": 1.0},
            "verdict": verdict_}


def test_overall_answer_from_verdicts():
    sub, same = "same subspace, different units", "same units"
    assert fx.overall_answer([_summ("L1", 0.1, 0.9, sub), _summ("L2", 0.1, 0.9, sub), _summ("L3", 1, 1, same)]) \
        == "the same subspace, not the same units"          # the output layer (last) does not count
    assert fx.overall_answer([_summ("L1", 0.9, 0.9, same), _summ("L2", 0.9, 0.9, same), _summ("L3", 0, 0, sub)]) \
        == "the same units"
    mixed = fx.overall_answer([_summ("L1", 0.9, 0.9, same), _summ("L2", 0.1, 0.5, "partly shared"),
                               _summ("L3", 0.1, 0.9, sub), _summ("L4", 1, 1, same)])
    assert mixed == "same units in L1; same subspace, different units in L3; partly shared in L2"


# ---- config ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,message", [
    ({"seeds": 1}, "seeds must be an integer >= 2"), ({"measures": "linear_cka,cka2"}, "measures must be one of"),
    ({"threshold_low": 0.95}, r"threshold_low must be <= threshold_high \(0.9\)"),
    ({"init": "he"}, "init must be one of glorot, torch"), ({"epochs": 0}, "epochs must be an integer >= 1"),
    ({"test_fraction": 0.0}, "test_fraction must be a finite number > 0 and < 1; got 0.0"),
    ({"test_fraction": 1.0}, "test_fraction must be a finite number > 0 and < 1; got 1.0"),
    ({"majority": 0.0}, "majority must be a finite number > 0"),
])
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(NichelabError, match=message) as err:
        study.ConvergenceConfig(**kwargs)
    assert err.value.field == next(iter(kwargs))


def test_bad_model_spec_is_refused_before_training():
    with pytest.raises(NichelabError, match="^model must look like") as err:
        STUDIES["convergence"].run(study.ConvergenceConfig(model="mlp"))
    assert err.value.field == "model"


def test_config_measures_aliases_and_linear_cka_always_included():
    c = study.ConvergenceConfig(measures="cka,procrustes")
    assert c.measures == ("linear_cka", "procrustes_distance")
    assert study.ConvergenceConfig(measures=("svcca",)).measures == ("linear_cka", "svcca")
    with pytest.raises(NichelabError, match="did you mean 'svcca'"):
        study.ConvergenceConfig(measures="svca")


def test_split_is_stratified_disjoint_and_seeded():
    data = load_data(study.ConvergenceConfig())
    tr, te = split(data, 0.3, 0)
    assert len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == len(data)
    for c in range(10):
        share = np.mean(data.y[te] == c) / np.mean(data.y == c)
        assert 0.9 < share < 1.1
    np.testing.assert_array_equal(te, split(data, 0.3, 0)[1])
    assert not np.array_equal(te, split(data, 0.3, 1)[1])


# ---- a small run end to end --------------------------------------------------------------------

QUICK = dict(measures=("linear_cka", "cca", "svcca", "pwcca"))


@pytest.fixture(scope="module")
def small():
    return STUDIES["convergence"].run(study.ConvergenceConfig.quick(**QUICK))


def test_small_run_numbers_are_consistent(small):
    r = small
    assert r.model["layers"] == ["L1", "L2", "L3"] and r.model["widths"] == [16, 16, 10]
    assert set(r.similarity) == {"linear_cka", "cca", "svcca", "pwcca"}
    for v in r.similarity.values():
        assert len(v["pairs"]) == 6 and all(np.shape(p["matrix"]) == (3, 3) for p in v["pairs"])
    # symmetric measures: pair (j, i) is the transpose of pair (i, j); PWCCA is not symmetric
    pairs = {(p["seed_a"], p["seed_b"]): np.asarray(p["matrix"]) for p in r.similarity["linear_cka"]["pairs"]}
    np.testing.assert_allclose(pairs[(0, 1)], pairs[(1, 0)].T)
    for w in r.within_seed_linear_cka["per_seed"].values():
        np.testing.assert_allclose(np.diagonal(np.asarray(w)), 1.0)
    assert all(a > 0.5 for a in r.accuracy["test"].values())   # trained for real, on held-out data
    # the per-layer numbers agree with the pooled matches drawn in the report (rounded to 4 decimals)
    s = r.layers[0]
    m = np.asarray(r.views["unit_distributions"]["one_to_one"]["L1"])
    assert s["matched_mean"] == pytest.approx(m.mean(), abs=1e-4)
    assert s["frac_high"] == pytest.approx(np.mean(m >= 0.9), abs=1e-9)
    assert s["verdict"] in ("same units", "same subspace, different units", "partly shared")


def test_small_run_json_fields(small):
    data = json.loads(dumps(small.to_dict()))
    assert {"schema_version", "study", "config", "seeds", "data", "model", "accuracy", "answer", "verdicts",
            "layers", "identification", "similarity", "within_seed_linear_cka", "baseline_untrained", "units",
            "findings", "timings", "views"} <= set(data)
    assert data["study"] == "convergence" and data["seeds"] == [0, 1, 2]
    assert data["model"]["layers"] == ["L1", "L2", "L3"] and data["model"]["output_layer"] == "L3"
    assert data["data"]["n_train"] + data["data"]["n_test"] == 1797
    assert set(data["identification"]) == {"linear_cka", "cca", "svcca", "pwcca"}
    assert data["identification"]["linear_cka"]["chance"] == pytest.approx(1 / 3)
    assert len(data["similarity"]["pwcca"]["pairs"]) == 6
    units = data["units"]["0"]["L1"]
    assert len(units) == 16 and units[3]["name"] == "L1:3" and set(units[3]["matched"]) == {"1", "2"}
    assert {"short", "subspace", "units", "identification", "which_layers", "thresholds"} <= set(data["findings"])
    panels = data["views"]["matching"]["panels"]
    assert [np.shape(p["matrix"]) for p in panels] == [(16, 16), (16, 16), (10, 10)]
    w = small.weights()
    assert w["L1.linear.weight"].shape == (3, 16, 64) and w["seeds"].tolist() == [0, 1, 2]
    assert "initial.L1.linear.weight" in w
    assert set(small.tables()) == {"layers", "identification", "seeds"} and len(small.tables()["seeds"]) == 3


def test_small_run_findings_quote_the_numbers(small):
    f = small.findings
    s0 = small.layers[0]
    assert num(s0["matched_mean"]) in " ".join(f["units"])
    acc = small.identification["linear_cka"]["accuracy"]
    assert pct(acc) in f["short"][1] and "99.3%" in f["short"][1]
    assert fx.overall_answer(small.layers) in f["short"][0] and small.answer == fx.overall_answer(small.layers)


def test_small_run_report_renders(small):
    html = render_page(small)
    assert html.count("data:image/png;base64,") == 0          # every figure is a Vega-Lite chart
    assert html.count("class=\"nl-chart\"") == 6    # contrast, unit agreement, shares, heatmap, unit matching, identification
    assert "Same units, or only the same subspace?" in html and "Kornblith" in html
    assert len(build_report(small).sections) == 5
    table = summary_table(small)
    assert [row[0] for row in table.rows] == ["L1", "L2", "L3"]


def test_same_seed_same_numbers(small):
    again = STUDIES["convergence"].run(study.ConvergenceConfig.quick(**QUICK))
    assert dumps(again.units) == dumps(small.units)
    assert dumps(again.similarity) == dumps(small.similarity)


# ---- layer identification: which layers are counted, on hand-built similarity matrices -----------------------
def test_identification_says_the_logits_layer_is_counted_and_gives_the_hidden_only_share():
    import types
    from nichelab.metrics.identification import identify_layers
    from nichelab.studies.convergence.findings import identification_counts, identification_words
    # 2 ordered pairs x layers L1, L2, L3 (logits): L1 always identified; L2 loses to the logits layer in
    # both pairs; the logits layer is identified in both. Without the logits layer, L2 is identified.
    m = np.array([[0.9, 0.2, 0.1], [0.3, 0.6, 0.7], [0.1, 0.2, 0.8]])
    sim = np.stack([m, m])
    a = types.SimpleNamespace(layers=["L1", "L2", "L3"], pairs=[(0, 1), (1, 0)], similarity={"linear_cka": sim},
                              identified={"linear_cka": identify_layers(sim)})
    assert identification_counts(a) == (4, 6, 3)
    assert identification_counts(a, hidden_only=True) == (4, 4, 2)
    text = identification_words(a)
    assert "67% (4 of 6 rows; 95% CI" in text and "all 3 layers, the logits (output) layer L3 included" in text
    assert "counting the 2 hidden layers only" in text and "100% (4 of 4 rows; 95% CI" in text
    a1 = types.SimpleNamespace(layers=["L1", "L2"], pairs=[(0, 1)], similarity={"linear_cka": sim[:1, :2, :2]},
                               identified={"linear_cka": identify_layers(sim[:1, :2, :2])})
    assert "hidden layers only" not in identification_words(a1)     # one hidden layer: nothing to identify
