"""Diverged training: the one rule (nichelab.train.divergence) and studies that still report.

A diverging run (huge learning rate, or a seed whose weights were made NaN) must mark its seeds
``diverged``, never count their units as dead, say how many it left out, and still write its
report (figures included).
"""
import json
import math

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.nn import build_model
from nichelab.train import TrainConfig, diverged_seeds, train_ensemble, train_one
from nichelab.train import divergence

runner = CliRunner()


# ---- the rule ------------------------------------------------------------------------------------
def test_rule_by_hand():
    C = 4
    edge = divergence.LOSS_FACTOR * math.log(C)
    loss = np.array([[1.0, 0.5], [1.0, np.nan], [1.0, np.inf], [1.0, edge * 1.01], [1.0, edge * 0.99], [1.0, 0.5]])
    w = np.ones((6, 3))
    w[5, 1] = np.nan
    assert diverged_seeds(loss, {"w": w}, C).tolist() == [False, True, True, True, False, True]
    assert diverged_seeds(np.zeros((2, 0)), {"w": np.array([[1.0], [np.inf]])}, C).tolist() == [False, True]


def test_huge_lr_diverges_and_normal_lr_does_not():
    from nichelab.data import load_blobs
    d = load_blobs()
    build = lambda s: build_model("mlp 2", (2,), 4, seed=s)
    ok = train_ensemble(build, d.X, d.y, TrainConfig(epochs=5), [0, 1, 2])
    bad = train_ensemble(build, d.X, d.y, TrainConfig(epochs=5, optimizer="sgd", lr=1e6), [0, 1, 2])
    assert not ok.diverged.any() and bad.diverged.all()
    one = train_one(build(0), d.X, d.y, TrainConfig(epochs=5, optimizer="sgd", lr=1e6), seed=0)
    assert one.diverged
    assert not train_one(build(0), d.X, d.y, TrainConfig(epochs=5), seed=0).diverged


def _poison_first_seed(monkeypatch, module):
    """Wrap ``module.train_ensemble`` so that the first seed's weights end NaN (a simulated blow-up)."""
    real = module.train_ensemble

    def fake(*args, **kwargs):
        ens = real(*args, **kwargs)
        for v in ens.params.values():
            v[0] = np.nan
        ens.loss[0, -1] = np.nan
        ens.diverged = diverged_seeds(ens.loss, ens.params, 2)
        return ens
    monkeypatch.setattr(module, "train_ensemble", fake)


def _run(tmp_path, *args):
    out = tmp_path / "run"
    res = runner.invoke(app, ["run", *args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "report.html").stat().st_size > 0
    return json.loads((out / "results.json").read_text()), (out / "report.html").read_text()


# ---- lab -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [["--optimizer", "sgd", "--lr", "1e6"], ["--optimizer", "sgd", "--lr", "3"],
                                  ["--lr", "100"]])
def test_lab_diverging_writes_report(tmp_path, args):
    res, html = _run(tmp_path, "lab", "--seeds", "12", "--epochs", "20", *args)
    counts = res["summary"]["outcome_counts"]
    n_div = counts["diverged"]
    assert sum(counts.values()) == 12 and n_div == res["summary"]["diverged_seeds"]
    for rec in res["per_seed"]:
        if rec["outcome"] == "diverged":
            assert not any(u["dead"] for u in rec["units"])       # NaN is not silence
    if n_div:
        assert f"{n_div} of 12 seeds diverged" in res["findings"]["niches"][0]
        assert f"{n_div} of 12 seeds diverged" in html


def test_lab_sgd_1e6_all_diverged(tmp_path):
    res, _ = _run(tmp_path, "lab", "--seeds", "6", "--epochs", "10", "--optimizer", "sgd", "--lr", "1e6")
    assert res["summary"]["outcome_counts"]["diverged"] == 6 and res["summary"]["outcome_counts"]["dead"] == 0


def test_lab_one_poisoned_seed_left_out(tmp_path, monkeypatch):
    from nichelab.studies.lab import pipeline
    _poison_first_seed(monkeypatch, pipeline)
    res, _ = _run(tmp_path, "lab", "--seeds", "5", "--epochs", "10")
    assert res["per_seed"][0]["outcome"] == "diverged"
    assert res["summary"]["outcome_counts"]["diverged"] == 1
    assert sum(v for k, v in res["summary"]["outcome_counts"].items() if k != "diverged") == 4
    assert res["findings"]["niches"][0].startswith("1 of 5 seeds diverged")
    assert "Across the remaining 4 seeds" in res["findings"]["niches"][0]


# ---- width ---------------------------------------------------------------------------------------
def test_width_diverging_writes_report(tmp_path):
    res, html = _run(tmp_path, "width", "--seeds", "2", "--widths", "1,2", "--data", "blobs", "--epochs", "5",
                     "--optimizer", "sgd", "--lr", "1e6")
    b = res["datasets"]["blobs"]
    assert all(b["per_width"][w]["diverged"] == [True, True] for w in ("1", "2"))
    assert "2 of 2 at 1 unit" in b["findings"]["accuracy"][0]


def test_width_one_poisoned_seed_left_out(tmp_path, monkeypatch):
    from nichelab.studies.width import analysis
    _poison_first_seed(monkeypatch, analysis)
    res, _ = _run(tmp_path, "width", "--seeds", "3", "--widths", "1,2", "--data", "blobs", "--epochs", "5")
    pw = res["datasets"]["blobs"]["per_width"]["2"]
    assert pw["diverged"] == [True, False, False]
    assert pw["accuracy"][0] is None and pw["dead_fraction"][0] is None
    mean = res["datasets"]["blobs"]["means_by_width"]["accuracy"][1]
    assert mean == pytest.approx(np.mean(pw["accuracy"][1:]))


# ---- convergence ---------------------------------------------------------------------------------
def test_convergence_one_poisoned_seed_left_out(tmp_path, monkeypatch):
    from nichelab.studies.convergence import pipeline
    _poison_first_seed(monkeypatch, pipeline)
    res, html = _run(tmp_path, "convergence", "--seeds", "3", "--epochs", "2", "--model", "mlp 16-16")
    assert res["diverged_seeds"] == [0] and res["seeds"] == [1, 2]
    assert res["findings"]["short"][0].startswith("1 of 3 seeds diverged")
    text = " ".join(res["findings"]["short"]).lower()
    assert "+nan" not in text and " nan" not in text.replace("became nan", "")


def test_convergence_all_diverged_one_line(tmp_path):
    out = tmp_path / "run"
    res = runner.invoke(app, ["run", "convergence", "--seeds", "2", "--epochs", "2", "--model", "mlp 16-16",
                              "--optimizer", "sgd", "--lr", "1e6", "--out", str(out)])
    assert res.exit_code == 2 and "2 of 2 seeds diverged" in res.output and not out.exists()


# ---- hierarchy -----------------------------------------------------------------------------------
_HIER = ["hierarchy", "--epochs", "2", "--per-class", "30", "--featvis-steps", "5", "--model", "cnn 4-8 fc=16"]


def test_hierarchy_all_diverged_writes_control_only_report(tmp_path):
    res, html = _run(tmp_path, *_HIER, "--seeds", "2", "--lr", "1e6")
    assert res["diverged"] == [True, True]
    assert res["findings"]["summary"][0].startswith("2 of 2 seeds diverged")
    assert "cannot tell" in res["findings"]["summary"][1]
    per = res["per_layer"]
    assert all(v is None for row in per["trained"]["edge_detectors"]["per_seed"] for v in row)
    assert all(v is not None for v in per["random"]["edge_detectors"]["mean"])      # the control was measured
    assert res["units"]["trained"] == [None, None]
    assert "2 of 2 seeds diverged" in html and "The untrained network (the control) only" in html


def test_hierarchy_one_poisoned_seed_left_out(tmp_path, monkeypatch):
    from nichelab.studies.hierarchy import pipeline
    real = pipeline.train_one
    calls = []

    def fake(model, *args, **kwargs):
        res = real(model, *args, **kwargs)
        calls.append(1)
        if len(calls) == 1:                        # the first seed blows up
            with torch.no_grad():
                for p in model.parameters():
                    p.fill_(float("nan"))
            res.loss[-1] = np.nan
            res.diverged = True
        return res
    monkeypatch.setattr(pipeline, "train_one", fake)
    res, html = _run(tmp_path, *_HIER, "--seeds", "2")
    assert res["diverged"] == [True, False]
    assert res["findings"]["summary"][0].startswith("1 of 2 seeds diverged")
    assert "Diverged: seed 0" in res["findings"]["summary"][0]
    for which in ("trained", "random"):
        ps = np.array(res["per_layer"][which]["edge_detectors"]["per_seed"], dtype=float)
        mean = np.array(res["per_layer"][which]["edge_detectors"]["mean"], dtype=float)
        assert np.isnan(ps[0]).all() and np.isfinite(ps[1]).all()
        np.testing.assert_allclose(mean, ps[1])                   # the mean is the kept seed's value
    assert res["units"]["trained"][0] is None and res["units"]["trained"][1]
    assert res["test_accuracy"]["trained"][0] is None
    assert "seed 1, the first that did not diverge" in html
    assert "mean over 1 seed; 1 diverged and left out" in html


# ---- transfer ------------------------------------------------------------------------------------
def test_transfer_all_diverged_writes_report(tmp_path):
    res, html = _run(tmp_path, "transfer", "--quick", "--optimizer", "sgd", "--lr", "1e6")
    for a in res["architectures"]:
        div = a["diverged"]
        assert div["seeds"]["baseB"] == 2                                     # both seeds of baseB diverged
        cells = [c for c in a["cells"] if c["condition"] not in ("baseA", "baseB")]
        copying = [c for c in cells if c["condition"] != "random"]
        assert copying and all(c["status"] == "not measured (base diverged)" for c in copying)
        assert sorted(div["not_measured"]) == sorted(f"{c['condition']}/n{c['n']}" + (f"/{c['source']}" if c["source"]
                                                                                      else "") for c in copying)
        assert a["baseB_accuracy_on_B"]["mean"] is None
        assert all("not measured (base diverged)" in a["findings"][k][0] for k in ("generality", "cka"))
    text = " ".join(res["summary"])
    assert "baseB 2 of 2" in text and "not measured (base diverged)" in text
    assert "nan" not in text.lower().replace("became nan", "")
    assert "not measured (base diverged)" in html


def test_transfer_one_poisoned_base_seed_left_out(tmp_path, monkeypatch):
    from nichelab.studies.transfer import protocol
    real = protocol.train_ensemble
    calls = []

    def fake(*args, **kwargs):
        ens = real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:                     # the first training is baseB: its seed 0 blows up
            for v in ens.params.values():
                v[0] = np.nan
            ens.loss[0, -1] = np.nan
            ens.diverged = diverged_seeds(ens.loss, ens.params, 2)
        return ens
    monkeypatch.setattr(protocol, "train_ensemble", fake)
    res, html = _run(tmp_path, "transfer", "--quick", "--model", "mlp 8-8", "--source", "digits:0-4",
                     "--epochs", "2")
    a = res["architectures"][0]
    assert a["diverged"]["seeds"]["baseB"] == 1 and a["diverged"]["not_measured"] == []
    base = a["baseB_accuracy_on_B"]
    assert base["values"][0] is None and base["mean"] == pytest.approx(base["values"][1]) and base["diverged"] == 1
    for c in a["cells"]:
        if c["condition"] in ("BnB", "BnB+"):                # they copy baseB: seed 0 diverged with it
            assert c["diverged"] == [True, False] and c["accuracy"]["values"][0] is None
            assert c["accuracy"]["mean"] == pytest.approx(c["accuracy"]["values"][1])
        elif c["condition"] in ("AnB", "AnB+", "random"):
            assert "diverged" not in c
    bnb = next(cv for cv in a["curves"] if cv["condition"] == "BnB")
    np.testing.assert_allclose(bnb["mean"], np.array(bnb["accuracy_per_seed"], dtype=float)[:, 1])
    assert any("baseB 1 of 2" in line for line in res["summary"])
    assert "cells lost seeds to divergence" in " ".join(res["summary"])
    assert "nan" not in " ".join(res["summary"]).lower().replace("became nan", "")


# ---- symmetry ------------------------------------------------------------------------------------
_SYM = ["symmetry", "--seeds", "2", "--data", "blobs", "--epochs", "5"]


def test_symmetry_all_diverged_writes_report(tmp_path):
    res, html = _run(tmp_path, *_SYM, "--lr", "1e6")
    d = res["datasets"]["blobs"]
    gone = [n for n, c in d["conditions"].items() if c["tie"] == "diverged"]
    assert "symmetric" in gone and "random" in gone
    for n in gone:
        c = d["conditions"][n]
        assert c["diverged"] == [True, True] and c["identical"] == [False, False]
        assert c["summary"]["mean_accuracy"] is None and c["summary"]["seeds_split"] == 0
    assert d["findings"]["diverged"][0].startswith("Diverged seeds (")
    assert "random init (4 units) 2 of 2" in d["findings"]["diverged"][0]
    assert d["findings"]["stay"] == ["Not measured: every seed of the symmetric condition diverged."]
    assert "diverged 2/2" in html and "Not measured (every seed diverged)" in html


def test_symmetry_one_poisoned_seed_left_out(tmp_path, monkeypatch):
    from nichelab.studies.symmetry import analysis
    _poison_first_seed(monkeypatch, analysis)
    res, html = _run(tmp_path, *_SYM)
    d = res["datasets"]["blobs"]
    for name, c in d["conditions"].items():
        assert c["diverged"] == [True, False], name
        assert c["accuracy"][0] is None and c["accuracy"][1] is not None
        assert c["summary"]["mean_accuracy"] == pytest.approx(c["accuracy"][1])    # the kept seed alone
        assert c["tie"] != "diverged"
    sym = d["conditions"]["symmetric"]
    assert sym["summary"]["seeds_identical"] + sym["summary"]["seeds_split"] <= 1
    assert "symmetric init (4 identical units) 1 of 2" in d["findings"]["diverged"][0]
    assert "Not measured" not in " ".join(d["findings"]["stay"])
    assert "1/2 diverged" in html
