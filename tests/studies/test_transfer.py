"""The transfer study: cut-and-freeze machinery, every cell's weights after training, the findings'
verdicts on hand-built accuracies, and the command line (files, JSON against weights, bad input)."""
import json

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.errors import NichelabError
from nichelab.nn import build_model
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
    cfg = T.TransferConfig.quick(models=("mlp 8-8-8", "cnn 2-4 fc=8"), parts_per_class=20, epochs=2)
    return cfg, T.run(cfg)


def _seed_slice(params, i, prefix):
    return {k: v[i] for k, v in params.items() if k.split(".")[0] in prefix}


def test_frozen_blocks_stay_bit_identical_and_fine_tuned_ones_move(tiny):
    cfg, res = tiny
    for run in res.runs:
        bb = run.base_b.ensemble.params
        for cell in run.cells:
            copied = run.blocks[:cell.n]
            src = (bb if cell.condition.startswith("B") else
                   run.base_a[cell.source].ensemble.params if cell.condition.startswith("A") else None)
            for i, s in enumerate(cfg.seed_list):
                init = {k: v.detach().numpy() for k, v in fresh_model(run.spec, res.target, cfg.train_config(), s)
                        .named_parameters()}
                for k, v in cell.params.items():
                    block = k.split(".")[0]
                    if block in copied:
                        start = init[k] if src is None else src[k][i]
                        if cell.condition.endswith("+"):
                            assert not np.array_equal(v[i], start), (cell.key, k)      # fine-tuned: moved
                        else:
                            assert np.array_equal(v[i], start), (cell.key, k)          # frozen: bit-identical
                            assert k in cell.frozen
                    else:
                        assert not np.array_equal(v[i], init[k]), (cell.key, k)        # re-initialised, trained
                        assert k not in cell.frozen


def test_random_control_is_untrained_and_unlike_the_base_networks(tiny):
    cfg, res = tiny
    for run in res.runs:
        for n in run.cuts:
            cell = run.cell("random", n)
            for i, s in enumerate(cfg.seed_list):
                init = fresh_model(run.spec, res.target, cfg.train_config(), s)
                untrained = build_model(run.spec, res.target.train.input_shape, res.target.n_classes,
                                        seed=T.INIT_OFFSET + s)
                for k, p in init.named_parameters():
                    assert torch.equal(p, dict(untrained.named_parameters())[k])
                    if k.split(".")[0] in run.blocks[:n] and k.endswith("weight"):
                        assert np.array_equal(cell.params[k][i], p.detach().numpy())
                        assert not np.allclose(cell.params[k][i], run.base_b.ensemble.params[k][i])
                        for b in run.base_a.values():
                            assert not np.allclose(cell.params[k][i], b.ensemble.params[k][i])


def test_reported_accuracy_is_recomputed_from_the_weights(tiny):
    cfg, res = tiny
    run = res.runs[0]
    cell = run.cell("AnB+", 2, cfg.sources[1])
    template = run.base_b.ensemble.template
    logits = ensemble_forward(template, cell.params, res.target.test.X)
    np.testing.assert_allclose((logits.argmax(2) == res.target.test.y).mean(1), cell.accuracy)
    assert run.cka.rows[REF_UNTRAINED].shape == (cfg.seeds, len(run.blocks) - 1)
    assert np.all((run.cka.rows[REF_UNTRAINED] >= 0) & (run.cka.rows[REF_UNTRAINED] <= 1 + 1e-9))


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
    assert "drops 10.0 points below baseB at n=2" in text and "middle dip" in text
    assert "AnB+ beats baseB by 3.0 points at n=1" in fx.finetuning(run, "sim", "x", 0.02)[0]
    assert "costs 30.0 points more than the similar one" in fx.dissimilar(run, KINDS, LABELS, 0.02)[0]
    assert fx.generality(run, "sim", "x", 0.02).startswith("x: frozen transfer (AnB) costs less than 2.0 points up "
                                                           "to layer L1 (cut n=1)")


def test_findings_say_so_when_an_effect_does_not_show():
    flat = [0.95, 0.95, 0.95]
    run = _fake_run(bnb=flat, anb_sim=flat, anb_dis=flat, plus_sim=flat, rnd=flat)
    eff = {e.name.split(" (")[0]: e.shows for e in fx.effects(run, KINDS, LABELS, 0.02)}
    assert eff["fragile co-adaptation"] == eff["specificity"] == "no"
    assert eff["dissimilar tasks lose more at the top"] == eff["fine-tuned transfer beats the base network"] == "no"
    assert eff["random frozen layers are far worse than transferred ones"] == "no"
    summary = " ".join(fx.summary([run], KINDS, LABELS, 0.02, "digits 5–9"))
    assert "do not show in this small setting" in summary and "fragile co-adaptation" in summary
    assert "every hidden layer is general enough" in fx.generality(run, "sim", "x", 0.02)


def test_a_difference_within_seed_noise_is_called_unclear():
    run = _fake_run(bnb=[0.95, 0.92, 0.95], anb_sim=[0.95] * 3, anb_dis=[0.95] * 3, plus_sim=[0.95] * 3,
                    rnd=[0.95] * 3, spread=0.06)
    sentence, shows, _ = fx.coadaptation(run, 0.02)
    assert shows == "unclear" and "seed noise" in sentence


# ---- the command line ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "transfer"
    res = runner.invoke(app, ["run", "transfer", "--quick", "--model", "mlp 8-8-8", "--source", "digits:0-4",
                              "--source", "faces", "--seeds", "2", "--epochs", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out, res


def test_cli_writes_report_json_and_weights(cli_run):
    out, res = cli_run
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "results.json", "weights.safetensors"]
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3 and "Every number" in html
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
    (["--margin", "2"], "--margin"),
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, args, match):
    res = runner.invoke(app, ["run", "transfer", *args, "--out", str(tmp_path / "r")])
    assert res.exit_code == 2, res.output
    assert match in res.output and "Traceback" not in res.output
    assert not (tmp_path / "r").exists()


def test_cli_defaults_are_the_config_defaults():
    import inspect

    from nichelab.cli.transfer import transfer
    cfg = T.TransferConfig()
    sig = inspect.signature(transfer).parameters
    for name in ("target", "target_fraction", "seeds", "first_seed", "epochs", "lr", "batch_size", "optimizer",
                 "init", "test_fraction", "split_seed", "size", "margin", "threads"):
        assert sig[name].default.default == getattr(cfg, name), name


def test_finetuning_sentence_true_for_both_bounds_and_coadaptation_partly_says_partly():
    run = _fake_run(bnb=[0.95, 0.95, 0.90], anb_sim=[0.95] * 3, anb_dis=[0.95] * 3, plus_sim=[0.948, 0.99, 0.96],
                    rnd=[0.5] * 3, spread=0.2)
    text, _, shows = fx.finetuning(run, "sim", "x", 0.02)
    assert shows == "unclear" and "never more than 2.0 points below baseB" in text and "within 2.0 points" not in text
    run = _fake_run(bnb=[0.95, 0.95, 0.85], anb_sim=[0.95] * 3, anb_dis=[0.95] * 3, plus_sim=[0.95] * 3,
                    rnd=[0.5] * 3)
    text, shows, _ = fx.coadaptation(run, 0.02)
    assert shows == "partly" and "shows only partly" in text
