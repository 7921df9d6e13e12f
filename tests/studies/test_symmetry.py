"""The symmetry study: gap measures against naive formulas, a small run end to end, bad input, load_run.

No test relies on BLAS returning bit-identical rows: the tied condition is checked exactly (one
shared vector), and for separate copies the report is checked against what this run measured and
against hand-built gap curves whose right sentence is known (copies kept; rounding split at step k).
"""
import copy
import json
import math

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import nichelab
from nichelab.cli import app
from nichelab.errors import NichelabError
from nichelab.reporting import build_report, render_page, summary_table
from nichelab.runs.jsonio import dumps
from nichelab.studies import STUDIES, symmetry
from nichelab.studies.symmetry.pipeline import measure, to_result
from nichelab.studies.symmetry import findings as fx
from nichelab.studies.symmetry.measure import (count_distinct, first_gap_step, fit_line, growth_rate, pair_gaps,
                                               pair_gaps_torch, split_step)

runner = CliRunner()


# ---- measures ------------------------------------------------------------------------------
def test_pair_gaps_match_naive_distances_and_are_exact_for_copies():
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 5))
    W[1] = W[1, :1]                         # seed 1: every unit a copy of unit 0
    b[1] = b[1, 0]
    b[0, 1:] = b[0, 0]
    W[2, 3] = W[2, 1] + 1e-9                # two units 1e-9 apart among O(1) weights
    b[2, 3] = b[2, 1]
    W[0, 1:] = W[0, :1] + 1e-9 * rng.normal(size=(4, 4))   # seed 0: a nearly symmetric layer
    mx, mean = pair_gaps_torch(torch.as_tensor(W), torch.as_tensor(b))
    V = np.concatenate([W, b[..., None]], axis=-1)
    naive = [[np.linalg.norm(V[s, i] - V[s, j]) for i in range(5) for j in range(i + 1, 5)] for s in range(3)]
    np.testing.assert_allclose(mx.numpy(), [max(n) for n in naive], rtol=1e-12)
    np.testing.assert_allclose(mean.numpy()[0], np.mean(naive[0]), rtol=1e-10)   # tiny gaps near unit 0: exact
    np.testing.assert_allclose(mean.numpy(), [np.mean(n) for n in naive], rtol=1e-8)   # documented precision
    assert mx[1].item() == 0.0 and mean[1].item() == 0.0
    assert abs(pair_gaps(V)[2, 1, 3] - 2e-9) < 1e-14        # 1e-9 on each of 4 weights


def test_count_distinct_single_linkage():
    V = np.array([[[0.0], [0.5], [1.0], [5.0]]])
    assert count_distinct(V, 0.6).tolist() == [2]       # 0 - 0.5 - 1.0 chained, 5 alone
    assert count_distinct(V, 0.1).tolist() == [4]
    assert count_distinct(np.zeros((2, 3, 2)), 0.0).tolist() == [1, 1]


def test_split_step_and_growth_rate_on_an_exponential():
    t = np.arange(200)
    gap = 1e-6 * np.exp(0.05 * t)
    tol = 1e-2
    assert split_step(gap, tol) == math.ceil(math.log(tol / 1e-6) / 0.05)
    assert growth_rate(gap, tol) == pytest.approx(0.05, rel=1e-6)
    assert math.isnan(split_step(np.zeros(5), 1.0)) and math.isnan(growth_rate(np.zeros(50), 1.0))
    late = np.where(t >= 30, 1e-16 * np.exp(0.08 * (t - 30)), 0.0)      # rounding: exactly 0, then grows
    assert first_gap_step(late) == 30 and math.isnan(first_gap_step(np.zeros(9)))
    assert math.isnan(growth_rate(late, tol)) and growth_rate(late, tol, start=30) == pytest.approx(0.08, rel=1e-6)
    fit = fit_line([1, 2, 3, 4], [3, 5, 7, 9])
    assert fit["slope"] == pytest.approx(2) and fit["intercept"] == pytest.approx(1) and fit["r2"] == pytest.approx(1)


# ---- a small run ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def measured():
    cfg = symmetry.SymmetryConfig(seeds=2, data=("blobs",), epochs=100, eps=(1e-7, 1e-4))
    datasets, timings = measure(cfg)
    return datasets["blobs"], to_result(cfg, datasets, timings)


@pytest.fixture(scope="module")
def small(measured):
    return measured[1]


def test_tied_units_are_exactly_identical_and_tie_breakers_split(measured):
    d, res = measured
    tied = d.runs["tied"]
    assert tied.max_gap.max() == 0.0 and (tied.distinct == 1).all()           # by construction, any hardware
    assert res.datasets["blobs"].conditions["tied"].tie == "tied"
    assert np.all(tied.final["L1.linear.weight"] == tied.final["L1.linear.weight"][:, :1])
    assert d.tied_collapse_error < 1e-12
    assert d.runs["random"].distinct[:, 0].tolist() == [4, 4]
    assert np.isfinite(d.runs["symmetric+dropout"].split_step).all()
    big, tiny = d.runs["symmetric+eps=1e-04"], d.runs["symmetric+eps=1e-07"]
    assert np.all(big.max_gap[:, 0] < tiny.max_gap[:, 0] * 2000) and np.all(big.max_gap[:, 0] > tiny.max_gap[:, 0] * 500)
    assert np.all(np.nan_to_num(tiny.split_step, nan=1e9) > big.split_step)   # smaller eps splits later


def test_untied_copies_are_reported_as_measured(measured):
    """Separate copies may or may not be split by rounding on this CPU: the report must say what was measured."""
    d, res = measured
    for name in ("symmetric", "symmetric, sgd", "symmetric, sgd+momentum", "symmetric, adam+weight decay"):
        r, c = d.runs[name], res.datasets["blobs"].conditions[name]
        kept = ~np.any(r.max_gap != 0, axis=1)
        assert c.identical.tolist() == kept.tolist() and c.summary.seeds_identical == kept.sum()
        assert c.tie == ("identical" if kept.all() else "rounding"), name
        assert np.array_equal(np.isnan(r.first_gap), kept)
    sym = res.datasets["blobs"].conditions["symmetric"]
    stay = res.datasets["blobs"].findings["stay"][0]
    assert ("stayed bit-identical" in stay) == (sym.tie == "identical")
    assert ("rounding split" in stay) == (sym.tie == "rounding")
    assert np.isfinite(d.collapse_error) == (sym.tie == "identical")
    if sym.tie == "identical":
        assert d.collapse_error < 1e-12
    assert res.datasets["blobs"].one_unit_collapse_max_logit_difference == d.collapse_error or (
        np.isnan(d.collapse_error))


def _with_gap(run, gap):
    r = copy.deepcopy(run)
    r.max_gap = np.array(gap, dtype=float)
    r.mean_gap = r.max_gap / 2
    tol = 1e-2
    r.split_step = np.array([split_step(g, tol) for g in r.max_gap])
    r.first_gap = np.array([first_gap_step(g) for g in r.max_gap])
    r.gap_growth = np.array([growth_rate(g, tol, start=int(f)) if np.isfinite(f) else np.nan
                             for g, f in zip(r.max_gap, r.first_gap)])
    r.distinct = np.where(r.max_gap[:, ::r.steps_per_epoch][:, :r.distinct.shape[1]] > tol, 2, 1)
    return r


def _rounding_gap(T, k, lam=0.1, seeds=2):
    """Exactly 0 up to step k - 1, then 1e-16 exp(lam (t - k)): what rounding does to copies."""
    t = np.arange(T + 1)
    g = np.where(t >= k, 1e-16 * np.exp(lam * (t - k)), 0.0)
    return np.tile(g, (seeds, 1))


def test_findings_on_hand_built_runs_where_the_right_sentence_is_known(measured):
    d, _ = measured
    T = d.runs["symmetric"].max_gap.shape[1] - 1
    kept = copy.deepcopy(d)
    kept.runs["symmetric"] = _with_gap(d.runs["symmetric"], np.zeros((2, T + 1)))
    text = fx.answer_stay(kept)[0]
    assert "the separate copies stayed bit-identical in 100% (2 of 2 seeds; 95% CI 34%–100%)" in text
    assert f"exactly 0 at every one of the {T} optimizer steps" in text and "rounding" not in text

    split = copy.deepcopy(d)
    split.runs["symmetric"] = _with_gap(d.runs["symmetric"], _rounding_gap(T, k=7, lam=0.1))
    assert fx.tie_outcome(split.runs["symmetric"]) == "rounding"
    text = fx.answer_stay(split)[0]
    want_split = 7 + math.ceil(math.log(1e-2 / 1e-16) / 0.1)
    assert "floating-point rounding split the separate copies in 100% (2 of 2 seeds; 95% CI 34%–100%)" in text
    assert "first left 0 at step 7 (every one of the 2 seeds)" in text
    assert "λ = 0.1 per step" in text and "10-fold growth every 23 steps" in text
    assert f"at step {want_split} (every one of the 2 seeds)" in text
    assert "stayed bit-identical" not in text

    mixed = copy.deepcopy(d)
    g = _rounding_gap(T, k=3, lam=0.05)
    g[1] = 0
    mixed.runs["symmetric"] = _with_gap(d.runs["symmetric"], g)
    text = fx.answer_stay(mixed)[0]
    assert "rounding split the separate copies in 50% (1 of 2 seeds; 95% CI 9.5%–91%)" in text
    assert "first left 0 at step 3" in text and "in the other 1 seed the copies stayed bit-identical" in text


def test_report_of_a_run_split_by_rounding_never_claims_identical_copies(measured):
    d, _ = measured
    T = d.runs["symmetric"].max_gap.shape[1] - 1
    split = copy.deepcopy(d)
    split.runs["symmetric"] = _with_gap(d.runs["symmetric"], _rounding_gap(T, k=1, lam=0.2))
    split.collapse_error = float("nan")
    cfg = symmetry.SymmetryConfig(seeds=2, data=("blobs",), epochs=100, eps=(1e-7, 1e-4))
    res = to_result(cfg, {"blobs": split})
    assert res.datasets["blobs"].conditions["symmetric"].tie == "rounding"
    html = render_page(res)
    for claim in ("stay identical.", "never differ", "exactly symmetric ones", "single distinct unit throughout",
                  "black line (separate copies) stays at the floor"):
        assert claim not in html, claim
    assert "black line (separate copies) leaves the floor at step 1" in html
    assert "rounding split" in html and "the sky-blue dashed line (tied) stays there by construction" in html
    row = next(r for r in summary_table(res).rows if r[1] == "symmetric")
    assert row[-1] == "rounding split 2/2 @1"


def test_one_unit_reference_starts_where_the_symmetric_network_starts(measured):
    d, res = measured
    sym, one = d.runs["symmetric"], d.runs["one unit"]
    np.testing.assert_allclose(sym.loss[:, 0], one.loss[:, 0], rtol=1e-12)
    assert one.final["L1.linear.weight"].shape[1] == 1
    assert res.datasets["blobs"].conditions["one unit"].hidden == 1


def test_zero_init_keeps_weights_zero(small):
    w = small.weights()
    for k in ("L1.linear.weight", "L1.linear.bias", "L2.linear.weight"):
        assert np.count_nonzero(w[f"blobs/zeros/final.{k}"]) == 0
    assert np.abs(w["blobs/zeros/final.L2.linear.bias"]).max() > 0
    assert small.datasets["blobs"].zero_init_max_abs["L1.linear.weight"] == 0.0


def test_result_numbers_views_tables_and_report(small):
    data = json.loads(dumps(small.to_dict()))
    assert data["study"] == "symmetry" and data["seeds"] == [0, 1]
    blobs = data["datasets"]["blobs"]
    assert len(blobs["conditions"]["random"]["curves"]["max_gap_per_step"][0]) == 401
    assert blobs["conditions"]["tied"]["largest_gap_any_step"] == [0.0, 0.0]
    assert "exactly 0" in " ".join(blobs["findings"]["stay"])
    gap = small.views.gap[0]
    assert [c.key for c in gap.curves] == ["random", "symmetric+dropout", "symmetric+eps=1e-07", "symmetric", "tied",
                                           "zeros"]
    sym_zero = small.datasets["blobs"].conditions["symmetric"].tie == "identical"
    assert [c.zero for c in gap.curves] == [False, False, False, sym_zero, True, True]
    assert gap.tol == pytest.approx(float(np.median(small.datasets["blobs"].split_tolerance)))
    assert small.views.split_vs_eps[0].split.shape == (2, 2)
    html = render_page(small)
    assert "data:image/png;base64," not in html
    # the time-to-split chart is drawn for the datasets whose fit the text reports, and only for them
    from nichelab.reporting.pages.symmetry import fitted_datasets
    fitted = fitted_datasets(small)
    assert [c.name for c in build_report(small).charts()] == (["gap_conditions", "training", "gap_eps"]
                                                              + (["split_vs_eps"] if fitted else []))
    if not fitted:
        assert "too few perturbation sizes split" in " ".join(blobs["findings"]["speed"])
    assert "Do identical units stay identical?" in html
    rows = summary_table(small).rows
    assert any(r[1] == "tied" and r[3] == "exactly 0" and r[-1] == "tied" for r in rows)
    w = small.weights()
    assert w["blobs/symmetric/final.L1.linear.weight"].shape == (2, 4, 2)
    assert w["seeds"].tolist() == [0, 1]
    tables = small.tables()
    assert len(tables["conditions"]) == len(blobs["conditions"])
    assert tables["conditions"].set_index("condition").loc["tied", "largest_final_gap"] == 0.0
    assert len(tables["time_to_split"]) == 2


def test_one_unit_sentences_name_two_different_one_unit_networks(small):
    text = " ".join(small.datasets["blobs"].findings["one_unit"])
    assert "trained on its own" in text and "not the separately trained one above" in text


# ---- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize("kw,field", [({"eps": (1e-3, -1e-3)}, "eps"), ({"eps": (float("nan"),)}, "eps"),
                                      ({"data": ("mnist",)}, "data"), ({"blobs_hidden": 1}, "blobs_hidden"),
                                      ({"dropout": 1.5}, "dropout"), ({"split_tol": 0}, "split_tol"),
                                      ({"seeds": 0}, "seeds"), ({"outgoing": "half"}, "outgoing"),
                                      ({"epochs": 0}, "epochs"), ({"optimizer": "rmsprop"}, "optimizer")])
def test_config_rejects_bad_values(kw, field):
    with pytest.raises(NichelabError, match=f"^{field} must") as err:
        symmetry.SymmetryConfig(**kw)
    assert err.value.field == field


def test_config_normalises_data_and_eps():
    cfg = symmetry.SymmetryConfig(data="digits,blobs,digits", eps="1e-4,1e-8,1e-4")
    assert cfg.data == ("blobs", "digits") and cfg.eps == (1e-8, 1e-4)
    assert cfg.epochs_for("blobs") == 200 and cfg.epochs_for("digits") == 15
    assert symmetry.SymmetryConfig(epochs=7).epochs_for("digits") == 7


@pytest.mark.parametrize("args,needle", [(["--eps", "-1e-3"], "--eps must"), (["--eps", "abc"], "--eps must"),
                                         (["--data", "digitz"], "did you mean 'digits'"),
                                         (["--epochs", "-1"], "--epochs must")])
def test_cli_bad_input_is_one_line_and_exit_2(args, needle, tmp_path):
    res = runner.invoke(app, ["run", "symmetry", *args, "--out", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert needle in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x").exists()


def test_cli_small_run_and_load_run_round_trip(tmp_path):
    out = tmp_path / "sym"
    res = runner.invoke(app, ["run", "symmetry", "--seeds", "1", "--data", "digits", "--epochs", "2",
                              "--digits-hidden", "4", "--eps", "1e-6", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["glossary.html", "report.html", "results.json", "weights.safetensors"]
    text = (out / "results.json").read_text()
    data = json.loads(text)
    conds = data["datasets"]["digits"]["conditions"]
    assert conds["tied"]["largest_gap_any_step"] == [0.0] and conds["tied"]["tie"] == "tied"
    assert (conds["symmetric"]["tie"] == "identical") == (conds["symmetric"]["largest_gap_any_step"] == [0.0])
    loaded = nichelab.load_run(out)
    assert dumps(loaded.to_dict()) == dumps(data)
    assert loaded.config == symmetry.SymmetryConfig(seeds=1, data=("digits",), epochs=2, digits_hidden=4, eps=(1e-6,))
    assert loaded.weights()["digits/symmetric/final.L1.linear.weight"].shape == (1, 4, 64)
    assert "Do identical units stay identical?" in render_page(loaded)


def test_registry_runs_the_study():
    assert STUDIES["symmetry"] is symmetry.STUDY and STUDIES["symmetry"].Config is symmetry.SymmetryConfig
