"""`nichelab compare A B` and `nichelab run convergence` through the CLI.

The central check: a network and a copy with its hidden units permuted (incoming and outgoing
weights alike) compute the same function; compare must report perfect one-to-one matching that
recovers the permutation, and linear CKA 1 between corresponding layers.
"""
import json

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file
from torch import nn
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.errors import NichelabError
from nichelab.runs.jsonio import dumps
from nichelab.data import load_blobs, load_digits
from nichelab.nn import build_model
from nichelab.reporting import render_page, summary_table
from nichelab.studies import STUDIES
from nichelab.studies.compare import CompareConfig

runner = CliRunner()
DIGITS = load_digits()
SPEC = "mlp 16-8"


def _net_params(seed=0):
    """An mlp 16-8 on digits whose hidden units are all live: each bias puts the unit's
    pre-activation median at 0 on the data."""
    net = build_model(SPEC, (64,), 10, seed=seed)
    with torch.no_grad():
        x = torch.as_tensor(DIGITS.X)
        for name in ("L1", "L2"):
            lin = getattr(net, name).linear
            pre = x @ lin.weight.T
            lin.bias.copy_(-pre.median(dim=0).values)
            x = torch.relu(pre + lin.bias)
    return net, {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}


def _permute(p, perms):
    """Permute the hidden units of L1 and L2: rows of their weights/biases, columns of the next layer."""
    q = {k: v.copy() for k, v in p.items()}
    for layer, nxt in (("L1", "L2"), ("L2", "L3")):
        idx = perms[layer]
        q[f"{layer}.linear.weight"] = q[f"{layer}.linear.weight"][idx]
        q[f"{layer}.linear.bias"] = q[f"{layer}.linear.bias"][idx]
        q[f"{nxt}.linear.weight"] = q[f"{nxt}.linear.weight"][:, idx]
    return q


def _write_run(folder, params_list, seeds, config, study="convergence"):
    folder.mkdir(parents=True)
    stacked = {k: np.stack([p[k] for p in params_list]) for k in params_list[0]}
    stacked["seeds"] = np.asarray(seeds, dtype=np.int64)
    save_file(stacked, str(folder / "weights.safetensors"))
    (folder / "results.json").write_text(json.dumps({"study": study, "config": config}))
    return folder


@pytest.fixture(scope="module")
def permuted_run(tmp_path_factory):
    net, p = _net_params()
    rng = np.random.default_rng(0)
    perms = {"L1": rng.permutation(16), "L2": rng.permutation(8)}
    q = _permute(p, perms)
    folder = _write_run(tmp_path_factory.mktemp("runs") / "perm", [p, q], [3, 7],
                        {"model": SPEC, "dataset": "digits"})
    return folder, net, p, q, perms


def _compare(*args):
    return runner.invoke(app, ["compare", *args])


def _results(out):
    return json.loads((out / "results.json").read_text())


def test_permuted_copy_computes_the_same_function(permuted_run):
    _, net, p, q, _ = permuted_run
    other = build_model(SPEC, (64,), 10)
    other.load_state_dict({k: torch.as_tensor(v) for k, v in q.items()})
    x = torch.as_tensor(DIGITS.X)
    with torch.no_grad():
        torch.testing.assert_close(other(x), net.eval()(x), rtol=1e-5, atol=1e-5)


def test_compare_recovers_the_permutation(permuted_run, tmp_path):
    folder, _, _, _, perms = permuted_run
    out = tmp_path / "cmp"
    res = _compare(f"{folder}#3", f"{folder}#7", "--out", str(out))
    assert res.exit_code == 0, res.output
    data = _results(out)
    assert data["a"]["seed"] == 3 and data["b"]["seed"] == 7 and data["data"]["name"] == "digits"
    assert data["layers_a"] == data["layers_b"] == ["L1", "L2", "L3"]
    m = np.array(data["matrix"], dtype=float)
    np.testing.assert_allclose(np.diag(m), 1.0, atol=1e-6)            # CKA 1 on corresponding layers
    assert [d["layer_b"] for d in data["most_similar"]] == ["L1", "L2", "L3"]
    by_layer = {d["layer_a"]: d for d in data["matching"]}
    for layer in ("L1", "L2"):
        d = by_layer[layer]
        pairs = np.array(d["match"]["pairs"])
        # unit perm[j] of A is unit j of B
        np.testing.assert_array_equal(pairs[perms[layer], 1], np.arange(len(perms[layer])))
        np.testing.assert_allclose(d["match"]["matched_corr"], 1.0, atol=1e-5)
        assert d["permutation"] and d["verdict"] == "same units" and d["frac_high"] == 1.0
        assert d["units"][0]["name"] == f"{layer}:0" and d["units"][0]["partner"].startswith(f"{layer}:")
    out3 = by_layer["L3"]  # the output units are not permuted: identity matching
    assert [j for _, j in out3["match"]["pairs"]] == list(range(10))
    assert "exact permutation" in " ".join(data["findings"]["short"])
    page = (out / "report.html").read_text()
    assert 'id="chart-unit_distributions"' in page and "data:image/png;base64," not in page   # drawn in the browser


def test_compare_seed_options_and_chosen_layers(permuted_run, tmp_path):
    folder, *_ = permuted_run
    out = tmp_path / "cmp"
    res = _compare(str(folder), str(folder), "--seed-b", "7", "--layers", "L2", "--measure", "svcca", "--out", str(out))
    assert res.exit_code == 0, res.output
    data = _results(out)
    assert data["a"]["seed"] == 3  # default: the run's first seed
    assert [d["layer_a"] for d in data["matching"]] == ["L2"] and data["measure"] == "svcca"
    np.testing.assert_allclose(np.diag(np.array(data["matrix"], float)), 1.0, atol=1e-6)


def test_compare_same_network_against_a_different_one(permuted_run, tmp_path):
    folder, *_ = permuted_run
    _, other = _net_params(seed=5)
    run2 = _write_run(tmp_path / "other", [other], [0], {"model": SPEC, "dataset": "digits"})
    out = tmp_path / "cmp"
    assert _compare(str(folder), str(run2), "--out", str(out)).exit_code == 0
    d = {m["layer_a"]: m for m in _results(out)["matching"]}
    assert not d["L1"]["permutation"] and d["L1"]["matched_mean"] < 0.99


def _script_pair(tmp_path, perms):
    """TorchScript Sequential models: a plain net and its hidden-unit permutation."""
    _, p = _net_params()
    q = _permute(p, perms)

    def seq(params):
        m = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 10))
        names = {"0": "L1", "2": "L2", "4": "L3"}
        m.load_state_dict({f"{i}.{w}": torch.as_tensor(params[f"{names[i]}.linear.{w}"])
                           for i in names for w in ("weight", "bias")})
        return torch.jit.script(m.eval())
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    torch.jit.save(seq(p), str(a))
    torch.jit.save(seq(q), str(b))
    return a, b


def test_compare_model_files_and_mixed(permuted_run, tmp_path):
    folder, _, _, _, perms = permuted_run
    a, b = _script_pair(tmp_path, perms)
    out = tmp_path / "files"
    res = _compare(str(a), str(b), "--data", "digits", "--out", str(out))
    assert res.exit_code == 0, res.output
    data = _results(out)
    assert data["layers_a"] == ["1", "3"]          # the ReLU modules of the scripted Sequential
    d = {m["layer_a"]: m for m in data["matching"]}
    assert d["1"]["permutation"] and d["3"]["permutation"]
    # a run folder against a model file, layers paired by name
    out2 = tmp_path / "mixed"
    res = _compare(f"{folder}#7", str(b), "--layers", "L1=1,L2=3", "--out", str(out2))
    assert res.exit_code == 0, res.output
    m = {x["layer_a"]: x for x in _results(out2)["matching"]}
    np.testing.assert_allclose(m["L1"]["match"]["matched_corr"], 1.0, atol=1e-5)  # the same network


def test_lab_run_folder_is_understood(tmp_path):
    blobs = load_blobs()
    net = build_model("mlp 3", (2,), 4, seed=1)
    p = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    folder = _write_run(tmp_path / "lab", [p, p], [0, 1], {"hidden": 3, "epochs": 1}, study="lab")
    out = tmp_path / "cmp"
    res = _compare(f"{folder}#0", f"{folder}#1", "--out", str(out))
    assert res.exit_code == 0, res.output
    data = _results(out)
    assert data["data"]["n_used"] == len(blobs) and data["a"]["spec"] == "mlp 3" and data["a"]["spec_from"] == "lab"


@pytest.mark.parametrize("args,needle", [
    (["{run}#3", "{run}#7", "--layers", "L7"], "did you mean"),
    (["{run}#3", "{run}#7", "--layers", "L2=Lx2"], "--layers must name layers of model B; got unknown layer 'Lx2'"),
    (["{run}#3", "{run}#7", "--data", "blobs"], "takes 64 input features"),
    (["{run}#3", "{run}#9"], "seed 9 is not in the run"),
    (["{run}#x", "{run}"], "seed number"),
    (["{run}#3", "{run}#7", "--measure", "cka3"], "--measure"),
    (["{run}#3", "{run}#7", "--measure", "rsa", "--debiased"], "--debiased"),
    (["{run}#3", "{run}#7", "--conv-reduce", "sum"], "--conv-reduce"),
    (["{notrun}", "{run}"], "not a nichelab run"),
    (["{nothing}", "{run}"], "does not exist"),
    (["{pt}", "{pt}"], "--data is required"),
    (["{pt}", "{pt}", "--data", "blobs"], "must take the data's input width"),
    (["{run}#3", "{run}#7", "--seed-a", "4"], "--seed-a must match the seed"),
    (["{run}", "{run}", "--weights-a", "w.safetensors"], "--weights-a applies to model files"),
    (["{run}#3", "{run}#7", "--threshold-low", "0.95"], "--threshold-low must be <= threshold_high"),
    (["{run}#3", "{pt}#1", "--data", "digits"], "applies to run folders only"),
])
def test_bad_input_one_message_exit_2(permuted_run, tmp_path, args, needle):
    folder, _, _, _, perms = permuted_run
    notrun = tmp_path / "notrun"
    notrun.mkdir()
    (notrun / "x.txt").write_text("x")
    pt, _ = _script_pair(tmp_path, perms)
    fill = {"run": str(folder), "notrun": str(notrun), "nothing": str(tmp_path / "nope"), "pt": str(pt)}
    out = tmp_path / "out"
    res = _compare(*[a.format(**fill) for a in args], "--out", str(out))
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_run_without_weights_is_refused(tmp_path):
    folder = tmp_path / "noweights"
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps({"study": "symmetry", "config": {}}))
    res = _compare(str(folder), str(folder), "--out", str(tmp_path / "o"))
    assert res.exit_code == 2 and "without weights.safetensors" in res.output


def test_convergence_cli_then_compare(tmp_path):
    run = tmp_path / "conv"
    res = runner.invoke(app, ["run", "convergence", "--seeds", "2", "--epochs", "2", "--model", "mlp 8",
                              "--measures", "linear_cka,svcca", "--out", str(run)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in run.iterdir()) == ["glossary.html", "report.html", "results.json", "weights.safetensors"]
    data = _results(run)
    assert data["config"]["model"] == "mlp 8" and data["seeds"] == [0, 1]
    assert set(data["verdicts"]) == {"L1", "L2"} and data["timings"]["total_s"] > 0
    out = tmp_path / "cmp"
    res = _compare(f"{run}#0", f"{run}#1", "--out", str(out))
    assert res.exit_code == 0, res.output
    cmp = _results(out)
    # compare on all digits vs the study on its held-out part: the same networks, similar CKA
    study_cka = data["similarity"]["linear_cka"]["mean"][0][0]
    assert cmp["matrix"][0][0] == pytest.approx(study_cka, abs=0.1)


@pytest.mark.parametrize("args,option", [(["--seeds", "1"], "--seeds"), (["--model", "mlp x"], "widths"),
                                         (["--measures", "nope"], "--measures"),
                                         (["--model", "cnn 4", "--dataset", "blobs"], "image")])
def test_convergence_bad_input(args, option, tmp_out):
    res = runner.invoke(app, ["run", "convergence", *args, "--out", str(tmp_out)])
    assert res.exit_code == 2, res.output
    assert option in res.output and "Traceback" not in res.output
    assert not tmp_out.exists()


def test_compare_objects_in_the_library(permuted_run):
    """nn.Modules and arrays: the permuted copy is found, and the config records descriptions."""
    _, net, p, q, perms = permuted_run
    other = build_model(SPEC, (64,), 10)
    other.load_state_dict({k: torch.as_tensor(v) for k, v in q.items()})
    res = STUDIES["compare"].run(CompareConfig(a=net, b=other, data=(DIGITS.X[:600], DIGITS.y[:600]),
                                               layers=("L1", "L2")))
    assert res.data == {"name": "arrays", "n_samples": 600, "n_used": 600, "input_shape": [64]}
    by_layer = {m["layer_a"]: m for m in res.matching}
    for layer in ("L1", "L2"):
        pairs = np.array(by_layer[layer]["match"]["pairs"])
        np.testing.assert_array_equal(pairs[perms[layer], 1], np.arange(len(perms[layer])))
        assert by_layer[layer]["permutation"]
    assert res.config.a == "A: Net" and res.config.data == "arrays (600, 64)"
    data = json.loads(dumps(res.to_dict()))
    assert data["a"]["kind"] == "module" and data["config"]["data"] == "arrays (600, 64)"
    assert "exact permutation" in " ".join(res.findings["short"])
    assert 'id="chart-unit_distributions"' in render_page(res)
    assert [row[0] for row in summary_table(res).rows] == ["L1", "L2"]
    # inputs alone (no labels) are enough
    alone = STUDIES["compare"].run(CompareConfig(a=net, b=net, data=DIGITS.X[:100]))
    np.testing.assert_allclose(np.diag(np.asarray(alone.matrix)), 1.0, atol=1e-6)


def test_compare_objects_bad_input(permuted_run):
    _, net, *_ = permuted_run
    with pytest.raises(NichelabError, match="seed_b applies to run folders and model files"):
        STUDIES["compare"].run(CompareConfig(a=net, b=net, seed_b=1, data=DIGITS.X[:50]))
    with pytest.raises(NichelabError, match="A must be a run folder, a model file or an nn.Module"):
        STUDIES["compare"].run(CompareConfig(a=3, b=net, data=DIGITS.X[:50]))
    with pytest.raises(NichelabError, match="data is required") as err:
        STUDIES["compare"].run(CompareConfig(a=net, b=net))
    assert err.value.field == "data"
    with pytest.raises(NichelabError, match="a must be a non-empty string"):
        CompareConfig(a="  ", b="x")
    with pytest.raises(TypeError):
        CompareConfig()   # a and b are required
