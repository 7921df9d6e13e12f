"""The transfer study: cut-and-freeze machinery, every cell's weights after training, the findings'
verdicts on hand-built accuracies, the config, and the command line (files, JSON against weights,
bad input, the run folder read back)."""
import json
import types

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file
from typer.testing import CliRunner

import nichelab
from nichelab.cli import app
from nichelab.errors import NichelabError
from nichelab.nn import build_model
from nichelab.reporting import build_report, render_page, summary_table
from nichelab.runs.jsonio import dumps
from nichelab.studies import STUDIES
from nichelab.studies import transfer as T
from nichelab.studies.transfer import findings as fx
from nichelab.studies.transfer.analysis import REF_UNTRAINED, ArchRun, CkaResult
from nichelab.studies.transfer.cut import block_params, blocks, transfer_model
from nichelab.studies.transfer.protocol import BaseNets, Cell, fresh_model, plan_cells, plan_groups
from nichelab.train import ensemble_forward

runner = CliRunner()
SPEC = "mlp 8-8-8"


def _params(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


# ---- the machinery on single models -------------------------------------------------------------

def test_copied_blocks_equal_the_source_and_the_rest_stays_fresh():
    src = build_model(SPEC, (1, 8, 8), 3, seed=1)            # A has another class count: the output is not copied
    tgt = build_model(SPEC, (1, 8, 8), 5, seed=2)
    fresh = _params(tgt)
    transfer_model(tgt, 2, src, freeze=True)
    names = blocks(tgt)
    assert names == ["L1", "L2", "L3", "L4"]
    assert block_params(tgt, 2) == ["L1.linear.weight", "L1.linear.bias", "L2.linear.weight", "L2.linear.bias"]
    for k, p in tgt.named_parameters():
        copied = k.split(".")[0] in ("L1", "L2")
        ref = dict(src.named_parameters())[k] if copied else fresh[k]
        assert torch.equal(p, ref), k
        assert p.requires_grad is (not copied), k


def test_fine_tuned_copy_is_trainable_and_random_control_keeps_its_init():
    src = build_model(SPEC, (1, 8, 8), 5, seed=1)
    tuned = transfer_model(build_model(SPEC, (1, 8, 8), 5, seed=2), 3, {k: v.numpy() for k, v in _params(src).items()},
                           freeze=False)
    assert all(p.requires_grad for p in tuned.parameters())
    assert torch.equal(tuned.L3.linear.weight, src.L3.linear.weight)
    init = _params(build_model(SPEC, (1, 8, 8), 5, seed=2))
    rnd = transfer_model(build_model(SPEC, (1, 8, 8), 5, seed=2), 1, None, freeze=True)
    assert torch.equal(rnd.L1.linear.weight, init["L1.linear.weight"]) and not rnd.L1.linear.weight.requires_grad


def test_bad_cuts_and_shapes_are_rejected():
    tgt = build_model(SPEC, (1, 8, 8), 5, seed=0)
    for n in (0, 4, 1.5, True):
        with pytest.raises(NichelabError, match="cut n must be"):
            transfer_model(tgt, n, None, freeze=True)
    other = build_model(SPEC, (1, 16, 16), 5, seed=0)
    with pytest.raises(NichelabError, match="same size"):
        transfer_model(tgt, 1, other, freeze=True)


def test_cells_are_grouped_by_their_trainable_set():
    cells = plan_cells([1, 2, 3], ["digits:0-4", "parts"])
    assert len(cells) == 3 * 7
    groups = plan_groups(cells)
    assert len(groups) == 4                                     # one per cut (frozen) + one for all fine-tuned
    for ids in groups[:3]:
        assert {cells[i].n for i in ids} == {ids and cells[ids[0]].n}
        assert all(not cells[i].condition.endswith("+") for i in ids)
    assert all(cells[i].condition.endswith("+") for i in groups[3])


# ---- a whole (tiny) run: every cell's weights checked against its base networks -------------------

@pytest.fixture(scope="module")
def tiny():
    cfg = T.TransferConfig(quick=True, models=("mlp 8-8-8", "cnn 2-4 fc=8"), parts_per_class=20, epochs=2)
    return cfg, STUDIES["transfer"].run(cfg)


def _slug(a):
    return a["model"].replace(" ", "_")


def _net(res, a, key):
    """Stacked parameters of network ``key`` (e.g. "baseB", "AnB/n2/parts") of architecture ``a``."""
    prefix = f"{_slug(a)}/{key}/"
    return {k[len(prefix):]: v for k, v in res.params.items() if k.startswith(prefix)}


def _init(res, a, s, cfg):
    """The target network of seed s before any transfer (init seed INIT_OFFSET + s)."""
    t = res.tasks["target"]
    return build_model(a["model"], tuple(t["image_shape"]), len(t["classes"]), init=cfg.init, seed=T.INIT_OFFSET + s)


def _cells(a):
    return [c for c in a["cells"] if c["n"] is not None]


def _key(c):
    return f"{c['condition']}/n{c['n']}" + (f"/{c['source']}" if c["source"] else "")


def test_frozen_blocks_stay_bit_identical_and_fine_tuned_ones_move(tiny):
    cfg, res = tiny
    for a in res.architectures:
        bb = _net(res, a, "baseB")
        for cell in _cells(a):
            copied = a["blocks"][:cell["n"]]
            src = (bb if cell["condition"].startswith("B") else
                   _net(res, a, f"baseA/{cell['source']}") if cell["condition"].startswith("A") else None)
            params = _net(res, a, _key(cell))
            assert params and cell["seeds"] == cfg.seed_list
            for i, s in enumerate(cfg.seed_list):
                init = {k: v.detach().numpy() for k, v in _init(res, a, s, cfg).named_parameters()}
                for k, v in params.items():
                    block = k.split(".")[0]
                    if block in copied:
                        start = init[k] if src is None else src[k][i]
                        if cell["condition"].endswith("+"):
                            assert not np.array_equal(v[i], start), (_key(cell), k)      # fine-tuned: moved
                        else:
                            assert np.array_equal(v[i], start), (_key(cell), k)          # frozen: bit-identical
                            assert k in cell["frozen_parameters"]
                    else:
                        assert not np.array_equal(v[i], init[k]), (_key(cell), k)        # re-initialised, trained
                        assert k not in cell["frozen_parameters"]


def test_random_control_is_untrained_and_unlike_the_base_networks(tiny):
    cfg, res = tiny
    t = res.tasks["target"]
    target = types.SimpleNamespace(train=types.SimpleNamespace(input_shape=tuple(t["image_shape"])),
                                   n_classes=len(t["classes"]))
    for a in res.architectures:
        bb = _net(res, a, "baseB")
        bas = [_net(res, a, f"baseA/{s}") for s in a["baseA_accuracy_on_A"]]
        for n in a["cuts"]:
            cell = _net(res, a, f"random/n{n}")
            for i, s in enumerate(cfg.seed_list):
                init = fresh_model(a["model"], target, cfg.train_config(), s)
                untrained = dict(_init(res, a, s, cfg).named_parameters())
                for k, p in init.named_parameters():
                    assert torch.equal(p, untrained[k])
                    if k.split(".")[0] in a["blocks"][:n] and k.endswith("weight"):
                        assert np.array_equal(cell[k][i], p.detach().numpy())
                        assert not np.allclose(cell[k][i], bb[k][i])
                        for b in bas:
                            assert not np.allclose(cell[k][i], b[k][i])


def test_reported_accuracy_is_recomputed_from_the_weights(tiny):
    cfg, res = tiny
    from nichelab.data.tasks import prepare_tasks
    _, target = prepare_tasks(["digits:0-4"], "digits:5-9")
    a = res.architectures[0]
    rec = next(c for c in a["cells"] if c["condition"] == "AnB+" and c["n"] == 2 and c["source"] == cfg.sources[1])
    template = build_model(a["model"], (1, 8, 8), 5)
    logits = ensemble_forward(template, _net(res, a, f"AnB+/n2/{cfg.sources[1]}"), target.test.X)
    np.testing.assert_allclose((logits.argmax(2) == target.test.y).mean(1), rec["accuracy"]["values"])
    cka = np.asarray(a["cka"]["linear"][REF_UNTRAINED])
    assert cka.shape == (cfg.seeds, len(a["blocks"]) - 1)
    assert np.all((cka >= 0) & (cka <= 1 + 1e-9))
    np.testing.assert_allclose(a["cka"]["linear_mean"][REF_UNTRAINED], cka.mean(axis=0))


def test_curves_tables_and_views_agree_with_the_cells(tiny):
    cfg, res = tiny
    tables = res.tables()
    assert set(tables) == {"base_networks", "accuracy", "cka", "effects", "cells"}
    for i, a in enumerate(res.architectures):
        for c in a["curves"]:
            per_seed = np.asarray(c["accuracy_per_seed"])
            cells = {x["n"]: x["accuracy"]["values"] for x in a["cells"]
                     if x["condition"] == c["condition"] and x["source"] == c["source"]}
            np.testing.assert_array_equal(per_seed, [cells[n] for n in c["n"]])
            np.testing.assert_allclose(c["mean"], per_seed.mean(axis=1))
            np.testing.assert_allclose(c["std"], per_seed.std(axis=1, ddof=1))
            drawn = res.views["transfer"][i]["panels"][0]["curves"][c["condition"]]
            if c["source"] in (None, cfg.sources[0]):
                np.testing.assert_allclose(drawn["mean"], 100 * per_seed.mean(axis=1))
        base = a["baseB_accuracy_on_B"]
        assert res.views["transfer"][i]["base"]["mean"] == pytest.approx(100 * base["mean"])
    cost = res.views["cost"]
    for a, control in zip(res.architectures, cost["controls"]):   # the random control on the cost figure
        rnd = np.asarray(next(c for c in a["curves"] if c["condition"] == "random")["accuracy_per_seed"])
        assert control["model"] == a["model"]
        np.testing.assert_allclose(control["mean"], 100 * (a["baseB_accuracy_on_B"]["mean"] - rnd.mean(axis=1)))
    acc = tables["accuracy"]
    assert len(acc) == sum(len(a["curves"]) * len(a["cuts"]) for a in res.architectures)
    assert len(tables["cells"]) == cfg.seeds * sum(len(a["cells"]) - len(a["baseA_accuracy_on_A"])
                                                   for a in res.architectures)


def test_report_and_summary_render_from_the_result(tiny):
    cfg, res = tiny
    report = build_report(res)
    titles = [s.title for s in report.sections]
    assert titles[0] == "The tasks and the base networks" and titles[-1] == "Every number"
    names = [c.name for c in report.charts()]                      # tasks, per architecture curves + CKA, cost
    assert names == ["tasks"] + [f"{k}_{i + 1}" for i in range(len(res.architectures)) for k in ("transfer", "cka")] \
        + ["cost"]
    assert sum(len(s.figures) for s in report.sections) == len(names)
    table = summary_table(res)
    assert table.rows[0][:2] == ["mlp", "baseB"]
    html = render_page(res)
    assert "Every number" in html and 'href="glossary.html"' in html
    assert html.index("Terms: task B") < html.index("AnB") and "domain-specific?" in html


# ---- findings from hand-built accuracies ---------------------------------------------------------

def _fake_run(bnb, anb_sim, anb_dis, plus_sim, rnd, base=0.95, spread=0.002, S=4):
    """An ArchRun whose cells have the given mean accuracies per cut (tiny seed spread)."""
    offs = spread * np.linspace(-1, 1, S)
    acc = lambda m: np.clip(m + offs, 0, 1)
    cuts = [1, 2, 3]
    cells = []
    for i, n in enumerate(cuts):
        cells += [Cell("BnB", n, None, accuracy=acc(bnb[i])), Cell("BnB+", n, None, accuracy=acc(base)),
                  Cell("AnB", n, "sim", accuracy=acc(anb_sim[i])), Cell("AnB", n, "dis", accuracy=acc(anb_dis[i])),
                  Cell("AnB+", n, "sim", accuracy=acc(plus_sim[i])), Cell("AnB+", n, "dis", accuracy=acc(base)),
                  Cell("random", n, None, accuracy=acc(rnd[i]))]
    layers = ["L1", "L2", "L3"]
    cka = CkaResult(layers, {"A: sim": np.tile([0.9, 0.6, 0.3], (S, 1)), "A: dis": np.tile([0.8, 0.5, 0.2], (S, 1)),
                             REF_UNTRAINED: np.tile([0.5, 0.4, 0.3], (S, 1))},
                    {k: np.zeros((S, 3)) for k in ("A: sim", "A: dis", REF_UNTRAINED)}, 100)
    base_nets = BaseNets(None, None, acc(base))
    return ArchRun("mlp 8-8-8", ["L1", "L2", "L3", "L4"], base_nets,
                   {"sim": BaseNets(None, None, acc(0.99)), "dis": BaseNets(None, None, acc(0.99))}, cells, cka)


KINDS = {"sim": "similar", "dis": "dissimilar"}
LABELS = {"sim": "digits 0–4", "dis": "parts"}


def test_findings_see_the_papers_effects_when_the_numbers_have_them():
    run = _fake_run(bnb=[0.95, 0.85, 0.94], anb_sim=[0.95, 0.85, 0.80], anb_dis=[0.94, 0.70, 0.50],
                    plus_sim=[0.98, 0.97, 0.96], rnd=[0.60, 0.40, 0.30])
    eff = {e.name.split(" (")[0]: e.shows for e in fx.effects(run, KINDS, LABELS, 0.02)}
    assert eff == {"layers 1–2 transfer almost perfectly": "partly", "fragile co-adaptation": "yes",
                   "specificity": "yes", "fine-tuned transfer beats the base network": "partly",
                   "dissimilar tasks lose more at the top": "yes",
                   "random frozen layers are far worse than transferred ones": "yes"}
    text = fx.coadaptation(run, 0.02)[0]
    assert "drops 10.0 points (95% CI +9.7 to +10.3 points) below baseB at n=2" in text and "middle dip" in text
    assert "AnB+ beats baseB by 3.0 points (95% CI" in fx.finetuning(run, "sim", "x", 0.02)[0]
    assert "costs 30.0 points (95% CI" in fx.dissimilar(run, KINDS, LABELS, 0.02)[0]
    assert "more than the similar one" in fx.dissimilar(run, KINDS, LABELS, 0.02)[0]
    assert fx.generality(run, "sim", "x", 0.02).startswith("x: frozen transfer (AnB) has no measurable cost up "
                                                           "to layer L1 (cut n=1)")


def test_findings_say_so_when_an_effect_does_not_show():
    flat = [0.95, 0.95, 0.95]
    run = _fake_run(bnb=flat, anb_sim=flat, anb_dis=flat, plus_sim=flat, rnd=flat)
    eff = {e.name.split(" (")[0]: e.shows for e in fx.effects(run, KINDS, LABELS, 0.02)}
    assert eff["fragile co-adaptation"] == eff["specificity"] == "no"
    assert eff["dissimilar tasks lose more at the top"] == eff["fine-tuned transfer beats the base network"] == "no"
    assert eff["random frozen layers are far worse than transferred ones"] == "no"
    groups = " ".join(fx.effect_groups({e.name: [("mlp", e.shows)] for e in fx.effects(run, KINDS, LABELS, 0.02)}))
    assert "do not show in this small setting" in groups and "fragile co-adaptation" in groups
    assert "every hidden layer is general enough" in fx.generality(run, "sim", "x", 0.02)
    assert "no measurable difference" in fx.selffer_finetuned(run, 0.02)


def test_a_difference_within_seed_noise_is_called_unclear():
    run = _fake_run(bnb=[0.95, 0.92, 0.95], anb_sim=[0.95] * 3, anb_dis=[0.95] * 3, plus_sim=[0.95] * 3,
                    rnd=[0.95] * 3, spread=0.06)
    sentence, shows, _ = fx.coadaptation(run, 0.02)
    assert shows == "unclear" and "seed noise" in sentence


# ---- the config ----------------------------------------------------------------------------------

def test_quick_replaces_defaults_only():
    q = T.TransferConfig(quick=True)
    assert (q.seeds, q.epochs, q.models, q.parts_per_class, q.lr) == (2, 8, ("mlp 16-16-16", "cnn 4-8 fc=16"), 60,
                                                                      0.003)
    q = T.TransferConfig(quick=True, seeds=5, models="mlp 8-8-8", epochs=3)
    assert (q.seeds, q.epochs, q.models, q.parts_per_class) == (5, 3, ("mlp 8-8-8",), 60)
    assert T.TransferConfig().seeds == 3


def test_a_quick_run_with_default_valued_options_reads_back_its_own_config(tmp_path):
    from nichelab.studies.transfer.result import TransferResult
    cfg = T.TransferConfig(quick=True, seeds=1, epochs=1, models="mlp 4-4", parts_per_class=10)
    res = TransferResult(config=cfg)
    cfg.seeds, cfg.epochs = 3, 20          # as if given explicitly, equal to the defaults
    data = res.to_dict()
    back = TransferResult.from_dict(data)
    assert back.config == cfg and back.to_dict()["config"] == data["config"]


def test_task_lists_keep_commas_inside_a_task():
    cfg = T.TransferConfig(sources="digits:0,2,4,parts:face,house,faces", target="digits:5,7,9")
    assert cfg.sources == ("digits:0,2,4", "parts:face,house", "faces") and cfg.target == "digits:5,7,9"
    assert T.TransferConfig(sources=("digits:0,2,4", "parts")).sources == ("digits:0,2,4", "parts")


@pytest.mark.parametrize("kw, field, match", [
    ({"sources": "digits:3-7"}, "sources", "must not share classes"),
    ({"sources": "digit:0-4"}, "sources", "did you mean 'digits'"),
    ({"sources": "parts,parts"}, "sources", "must differ"),
    ({"target": "digits:5"}, "target", "at least 2 classes"),
    ({"models": "mlp 8"}, "models", "at least 2 hidden layers"),
    ({"models": "mlp 8-8,mlp 8-8"}, "models", "different architectures"),
    ({"models": "rnn 8-8"}, "models", "kind must be"),
    ({"target_fraction": 0}, "target_fraction", r"> 0 and <= 1"),
    ({"test_fraction": 1}, "test_fraction", r"< 1"),
    ({"margin": 1}, "margin", r"< 1"),
    ({"size": 2}, "size", ">= 4"),
    ({"threads": 0}, "threads", ">= 1"),
    ({"init": "he"}, "init", "glorot"),
])
def test_config_errors_name_the_field(kw, field, match):
    with pytest.raises(NichelabError, match=match) as err:
        T.TransferConfig(**kw)
    assert err.value.field == field and str(err.value).startswith(field)


# ---- the command line ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "transfer"
    res = runner.invoke(app, ["run", "transfer", "--quick", "--model", "mlp 8-8-8", "--source", "digits:0-4,faces",
                              "--seeds", "2", "--epochs", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out, res


def test_cli_writes_report_json_and_weights(cli_run):
    out, res = cli_run
    assert sorted(p.name for p in out.iterdir()) == ["glossary.html", "report.html", "results.json", "weights.safetensors"]
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 0 and "Every number" in html     # charts, not pictures
    assert 'id="chart-cost"' in html and 'id="ctl-tsource"' in html
    data = json.loads((out / "results.json").read_text())
    assert data["config"]["sources"] == ["digits:0-4", "faces"] and data["config"]["epochs"] == 2
    assert [s["kind"] for s in data["tasks"]["sources"]] == ["similar", "dissimilar"]
    arch = data["architectures"][0]
    assert arch["cuts"] == [1, 2, 3] and len(arch["effects"]) == 6
    assert len(arch["cells"]) == 1 + 2 + 3 * 7                    # baseB, baseA x2, cells


def test_json_accuracies_match_the_saved_weights(cli_run):
    out, _ = cli_run
    data = json.loads((out / "results.json").read_text())
    w = load_file(str(out / "weights.safetensors"))
    from nichelab.data.tasks import prepare_tasks
    _, target = prepare_tasks(["digits:0-4"], "digits:5-9")
    rec = next(c for c in data["architectures"][0]["cells"] if c["condition"] == "AnB" and c["n"] == 2
               and c["source"] == "faces")
    params = {k.split("/")[-1]: v for k, v in w.items() if k.startswith("mlp_8-8-8/AnB/n2/faces/")}
    template = build_model("mlp 8-8-8", (1, 8, 8), 5)
    acc = (ensemble_forward(template, params, target.test.X).argmax(2) == target.test.y).mean(1)
    np.testing.assert_allclose(acc, rec["accuracy"]["values"])
    np.testing.assert_array_equal(w["mlp_8-8-8/AnB/n2/faces/L1.linear.weight"],
                                  w["mlp_8-8-8/baseA/faces/L1.linear.weight"])


@pytest.mark.parametrize("args, match", [
    (["--source", "digits:3-7"], "must not share classes"),
    (["--source", "digit:0-4"], "did you mean 'digits'"),
    (["--target-fraction", "0"], "--target-fraction"),
    (["--target-fraction", "1.5"], "--target-fraction"),
    (["--model", "mlp 8"], "at least 2 hidden layers"),
    (["--model", "mlp 8"], "--model must each have"),
    (["--margin", "2"], "--margin"),
    (["--source", "parts:face,hous"], "--source task 'parts:face,hous'"),
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, args, match):
    res = runner.invoke(app, ["run", "transfer", *args, "--out", str(tmp_path / "r")])
    assert res.exit_code == 2, res.output
    assert match in res.output and "Traceback" not in res.output
    assert not (tmp_path / "r").exists()


def test_run_folder_reads_back_exactly(cli_run):
    out, _ = cli_run
    text = (out / "results.json").read_text()
    res = nichelab.load_run(out)
    assert dumps(res.to_dict()) == text
    assert json.loads(dumps(res.to_dict())) == json.loads(text)
    w = load_file(str(out / "weights.safetensors"))
    assert set(res.weights()) == set(w)
    for k, v in res.weights().items():
        np.testing.assert_array_equal(v, w[k])
    assert "Every number" in render_page(res)


#: The flags and defaults of ``nichelab run transfer`` before the generated CLI (repeatable --source
#: and --model are now comma-separated).
OLD_DEFAULTS = {"--source": "digits:0-4,parts", "--target": "digits:5-9", "--target-fraction": 1.0,
                "--model": "mlp 64-64-64,cnn 16-32 fc=64", "--seeds": 3, "--first-seed": 0, "--epochs": 20,
                "--lr": 0.002, "--batch-size": 64, "--optimizer": "adam", "--init": "glorot", "--test-fraction": 0.3,
                "--split-seed": 0, "--size": None, "--margin": 0.02, "--threads": 1, "--quick": False}


def test_cli_has_every_old_option_with_its_default():
    import typer.main
    cmd = typer.main.get_command(app).commands["run"].commands["transfer"]
    params = {p.opts[0]: p.default for p in cmd.params}
    for flag, default in OLD_DEFAULTS.items():
        assert flag in params and params[flag] == default, flag
    res = runner.invoke(app, ["run", "transfer", "--help"])
    assert res.exit_code == 0 and "--source" in res.output and "--parts-per-class" in res.output


def test_finetuning_sentence_true_for_both_bounds_and_coadaptation_partly_says_partly():
    run = _fake_run(bnb=[0.95, 0.95, 0.90], anb_sim=[0.95] * 3, anb_dis=[0.95] * 3, plus_sim=[0.948, 0.99, 0.96],
                    rnd=[0.5] * 3, spread=0.2)
    text, _, shows = fx.finetuning(run, "sim", "x", 0.02)
    assert shows == "unclear" and "no difference measurable" in text and "within 2.0 points" not in text
    assert "the run cannot tell" in text and "stays" not in text
    run = _fake_run(bnb=[0.95, 0.95, 0.85], anb_sim=[0.95] * 3, anb_dis=[0.95] * 3, plus_sim=[0.95] * 3,
                    rnd=[0.5] * 3)
    text, shows, _ = fx.coadaptation(run, 0.02)
    assert shows == "partly" and "shows only partly" in text


# ---- the domain-specific answer, from hand-built accuracies whose right sentence is known ----------------------

def test_welch_interval_matches_a_hand_computed_one():
    from scipy.stats import ttest_ind
    x, y = np.array([0.8, 0.82, 0.85]), np.array([0.7, 0.75, 0.71, 0.74])
    d = fx.diff(x, y)
    ci = ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
    assert d.d == pytest.approx(x.mean() - y.mean())
    assert (d.lo, d.hi) == pytest.approx((ci.low, ci.high)) and d.separated
    assert not fx.diff([0.8, 0.9], [0.85, 0.86]).separated
    assert fx.diff([0.8], [0.7]).interval() == "no interval with one seed"


def test_top_layers_worse_than_random_are_specific_and_bottom_like_random_cannot_be_told():
    """The issue's case: transferred top layers lose to random ones; the bottom ones tie with random ones."""
    run = _fake_run(bnb=[0.95, 0.93, 0.90], anb_sim=[0.86, 0.70, 0.40], anb_dis=[0.85, 0.60, 0.35],
                    plus_sim=[0.95] * 3, rnd=[0.85, 0.75, 0.60], spread=0.05)
    sentences, verdicts = fx.domain_answer(run, LABELS, KINDS, 0.02)
    assert verdicts == {"sim": {"bottom": "unknown", "top": "specific"},
                        "dis": {"bottom": "unknown", "top": "specific"}}
    assert "All 3 hidden layers trained on A (frozen, the top cut): worse for B than random frozen layers" in sentences[0]
    assert "Whether the bottom layer is general or specific cannot be told apart from random features at this scale" in sentences[0]
    verdict = fx.domain_verdict(list(verdicts.values()))
    assert "the top layers are domain-specific (worse for B than random layers) in every case" in verdict
    assert "the bottom layers are not distinguishable from random features in any case" in verdict
    summary = fx.summary([run], KINDS, LABELS, 0.02, "digits 5–9")
    assert summary[0] == fx.SHORT_TERMS and summary[1].startswith("Is transfer evidence that hidden layers are "
                                                            "domain-specific? In this run, the top layers are "
                                                            "domain-specific")
    for term in ("AnB", "BnB", "selffer", "fine-tuning", "Co-adaptation", "random control"):
        assert term in fx.TERMS


def test_layers_as_good_as_bs_own_and_better_than_random_are_general():
    run = _fake_run(bnb=[0.95] * 3, anb_sim=[0.95] * 3, anb_dis=[0.95] * 3, plus_sim=[0.95] * 3,
                    rnd=[0.80, 0.60, 0.40])
    _, verdicts = fx.domain_answer(run, LABELS, KINDS, 0.02)
    assert all(v == {"bottom": "general", "top": "general"} for v in verdicts.values())
    assert "general (as good as B's own, better than random) in every case" in fx.domain_verdict(list(verdicts.values()))


def test_no_difference_anywhere_means_the_run_cannot_tell():
    flat = [0.95] * 3
    run = _fake_run(bnb=flat, anb_sim=flat, anb_dis=flat, plus_sim=flat, rnd=flat)
    _, verdicts = fx.domain_answer(run, LABELS, KINDS, 0.02)
    assert all(v == {"bottom": "unknown", "top": "unknown"} for v in verdicts.values())
    assert "specific" not in fx.domain_verdict(list(verdicts.values())).split("?")[1].split("'Specific'")[0]


def test_better_than_random_but_below_bs_own_is_partly_general():
    run = _fake_run(bnb=[0.95] * 3, anb_sim=[0.85] * 3, anb_dis=[0.85] * 3, plus_sim=[0.95] * 3, rnd=[0.5] * 3)
    _, verdicts = fx.domain_answer(run, LABELS, KINDS, 0.02)
    assert verdicts["sim"] == {"bottom": "partly general", "top": "partly general"}


# ---- every comparison in words carries its count and 95% interval; a difference only when it excludes zero -----

def _numbers_have_intervals(sentence):
    """Every 'x points' difference in the sentence is followed by its 95% interval (or says it has none)."""
    import re
    for m in re.finditer(r"\d+\.\d points(?! \(95% CI|, 95% CI| \(no interval|\)|, too wide| below baseB at n=\d+ and| more)", sentence):
        before = sentence[max(0, m.start() - 12): m.start()]
        if not before.endswith(("exceeds ", "within ", "than ")):       # the margin, not a measured difference
            yield m.group(0), sentence[max(0, m.start() - 60): m.end() + 40]


def test_a_real_difference_is_stated_with_its_interval_and_every_cost_carries_one():
    """Frozen transfer from A costs 20 points at the top with 4 seeds spread 0.4 points: a real difference."""
    run = _fake_run(bnb=[0.95] * 3, anb_sim=[0.95, 0.90, 0.75], anb_dis=[0.95, 0.90, 0.75], plus_sim=[0.95] * 3,
                    rnd=[0.95] * 3)
    text = fx.generality(run, "sim", "x", 0.02)
    assert text.startswith("x: frozen transfer (AnB) has no measurable cost up to layer L1 (cut n=1); from n=2 on")
    d = fx.diff(run.base_b.accuracy, run.cell("AnB", 3, "sim").accuracy)
    assert d.d == pytest.approx(0.20) and d.clear(0.02)
    assert f"n=3: 20.0 points (95% CI {fx.spts(d.lo)} to {fx.spts(d.hi)} points)" in text
    assert "95.0% (mean of 4 seeds; 95% CI" in text
    for sentence in [text, fx.random_control(run, "sim", "x", 0.02)[0], fx.specificity(run, "sim", "x", 0.02)[0],
                     fx.dissimilar(run, KINDS, LABELS, 0.02)[0], fx.selffer_finetuned(run, 0.02),
                     *fx.summary([run], KINDS, LABELS, 0.02, "digits 5–9")[1:]]:
        assert not list(_numbers_have_intervals(sentence)), sentence
    # the top layers are worse than random ones here: specific, said in the plain answer first
    summary = fx.summary([run], KINDS, LABELS, 0.02, "digits 5–9")
    assert "the top layers are domain-specific (worse for B than random layers) in every case" in summary[1]


def test_no_difference_is_not_called_one():
    """Means 5 points apart but seeds spread 20 points: every comparison says the run cannot tell."""
    run = _fake_run(bnb=[0.90] * 3, anb_sim=[0.85] * 3, anb_dis=[0.85] * 3, plus_sim=[0.90] * 3, rnd=[0.90] * 3,
                    spread=0.2, base=0.90)
    text = fx.generality(run, "sim", "x", 0.02)
    assert "has no measurable cost at any cut" in text and "costs accuracy" not in text
    assert "random frozen layers are never clearly behind" in fx.random_control(run, "sim", "x", 0.02)[0]
    _, verdicts = fx.domain_answer(run, LABELS, KINDS, 0.02)
    assert all(v == {"bottom": "unknown", "top": "unknown"} for v in verdicts.values())
    ft, _, shows = fx.finetuning(run, "sim", "x", 0.02)
    assert shows == "no" and "within 2.0 points of baseB" in ft


def test_a_single_seed_gives_no_interval_and_no_verdict():
    """One seed: no interval can be computed, so nothing is called a difference, however large."""
    run = _fake_run(bnb=[0.95, 0.60, 0.95], anb_sim=[0.30] * 3, anb_dis=[0.30] * 3, plus_sim=[0.99] * 3,
                    rnd=[0.95] * 3, S=1)
    assert "no measurable cost at any cut" in fx.generality(run, "sim", "x", 0.02)
    assert "% (1 seed, no interval)" in fx.generality(run, "sim", "x", 0.02)
    sentence, shows, _ = fx.coadaptation(run, 0.02)
    assert shows == "unclear" and "no interval with one seed" in sentence
    _, verdicts = fx.domain_answer(run, LABELS, KINDS, 0.02)
    assert all(v == {"bottom": "unknown", "top": "unknown"} for v in verdicts.values())
    summary = " ".join(fx.summary([run], KINDS, LABELS, 0.02, "digits 5–9"))
    assert "not distinguishable from random features in any case" in summary
    assert "1 seed" in summary


def test_short_answer_is_short_and_rests_on_numbers_with_intervals():
    """The short answer: terms, the plain verdict, the transferred-minus-random numbers (each with its interval),
    the rule; every other sentence lives in the sections. No doubled parentheses anywhere."""
    run = _fake_run(bnb=[0.95, 0.93, 0.90], anb_sim=[0.86, 0.70, 0.40], anb_dis=[0.85, 0.60, 0.35],
                    plus_sim=[0.95] * 3, rnd=[0.85, 0.75, 0.60], spread=0.05)
    summary = fx.summary([run], KINDS, LABELS, 0.02, "digits 5–9")
    assert summary[0] == fx.SHORT_TERMS and "domain-specific?" in summary[1] and len(summary) == 4
    assert sum(len(s.split()) for s in summary) < 300
    top = fx.diff(run.cell("AnB", 3, "sim").accuracy, run.cell("random", 3).accuracy)
    assert top.d == pytest.approx(-0.20)
    assert (f"All hidden layers transferred: {run.kind.upper()} −20.0 (95% CI {fx.spts(top.lo)} to "
            f"{fx.spts(top.hi)}) from {LABELS['sim']}") in summary[2] and "in percentage points" in summary[2]
    assert not list(_numbers_have_intervals(summary[2])), summary[2]
    answers = fx.answers(run, KINDS, LABELS, {s: LABELS[s] for s in KINDS}, 0.02)
    wide = _fake_run(bnb=[0.9] * 3, anb_sim=[0.5] * 3, anb_dis=[0.5] * 3, plus_sim=[0.9] * 3, rnd=[0.6] * 3,
                     spread=0.45, S=2)
    wide_text = fx.summary([wide], KINDS, LABELS, 0.02, "digits 5–9") + [
        s for v in fx.answers(wide, KINDS, LABELS, {s: LABELS[s] for s in KINDS}, 0.02).values() for s in v]
    assert any("too wide to tell anything with so few seeds" in s for s in wide_text)
    for sentence in summary + [s for v in answers.values() for s in v] + wide_text:
        assert "))" not in sentence, sentence


def test_effect_groups_in_words():
    from nichelab.studies.transfer.words import effect_groups
    text = effect_groups({"a": [("mlp", "yes"), ("cnn", "yes")], "b": [("mlp", "no"), ("cnn", "partly")],
                          "c": [("mlp", "no"), ("cnn", "n/a")], "d": [("mlp", "n/a")]})
    assert text == ["Effects of Yosinski et al. (2014) that show here: a.",
                    "Effects that show only in part: b (mlp: no, cnn: partly).",
                    "Effects that do not show in this small setting: c.",
                    "Not measurable with these source tasks: d."]
