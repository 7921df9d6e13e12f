"""`nichelab analyze` end to end: built-in models on digits and faces, the user's own model in every
format on .npz / CSV data, and every kind of bad input (one message, exit code 2, no run folder)."""
from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
import uuid
from html import unescape

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file
from safetensors.torch import save_file
from torch import nn
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.nn import build_model

runner = CliRunner()

FACTORY = '''
import torch
from collections import OrderedDict
from html import unescape
from torch import nn

def make():
    return nn.Sequential(OrderedDict(fc1=nn.Linear(6, 16), relu1=nn.ReLU(), fc2=nn.Linear(16, 8), relu2=nn.ReLU(),
                                     out=nn.Linear(8, 4)))

class Boom(nn.Module):
    def forward(self, x):
        if (x.abs() > 50).any():
            raise RuntimeError("boom: input too large")
        return x

def boom():
    return nn.Sequential(Boom(), nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 4))
'''


def _invoke(*args):
    return runner.invoke(app, ["analyze", *map(str, args)])


def _no_run_left(out):
    return not out.exists() and not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    """A user's trained model saved in every format, its data as .npz and CSV, and broken variants."""
    root = tmp_path_factory.mktemp("user")
    mod = f"usernet_{uuid.uuid4().hex[:8]}"
    (root / f"{mod}.py").write_text(FACTORY)
    sys.path.insert(0, str(root))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((240, 6)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64) + 2 * (X[:, 1] > 0)
    np.savez(root / "d.npz", X=X, y=y)
    with open(root / "d.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([f"f{i}" for i in range(6)] + ["label"])
        w.writerows([[*map(float, x), int(c)] for x, c in zip(X, y)])
    torch.manual_seed(0)
    model = __import__(mod).make()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        loss = nn.functional.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    x = torch.from_numpy(X[:10])
    torch.export.save(torch.export.export(model, (x,), dynamic_shapes=({0: torch.export.Dim("batch")},)),
                      str(root / "m.pt2"))
    torch.export.save(torch.export.export(model, (x[:7],)), str(root / "static.pt2"))
    torch.jit.save(torch.jit.script(model), str(root / "m.pt"))
    torch.save(model, str(root / "pickled.pt"))
    save_file(model.state_dict(), str(root / "w.safetensors"))
    # broken inputs
    np.savez(root / "length.npz", X=X[:20], y=y[:19])
    bad = X[:20].copy()
    bad[3, 2] = np.nan
    np.savez(root / "nan.npz", X=bad, y=y[:20])
    bad[3, 2] = np.inf
    np.savez(root / "inf.npz", X=bad, y=y[:20])
    np.savez(root / "five.npz", X=X[:20, :5], y=y[:20])
    np.savez(root / "float_labels.npz", X=X[:20], y=np.linspace(0, 1, 20))
    big = X.copy()
    big[100, 0] = 99.0
    np.savez(root / "boom.npz", X=big, y=y)
    (root / "junk.pt2").write_text("not a model")
    yield {"root": root, "mod": mod, "model": model, "X": X, "y": y}
    sys.path.remove(str(root))
    sys.modules.pop(mod, None)


# --------------------------------------------------------------------------- built-in models
@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "digits"
    res = _invoke("--dataset", "digits", "--model", "mlp 64-32", "--epochs", "2", "--lr", "0.01",
                  "--ablation-samples", "300", "--out", out)
    assert res.exit_code == 0, res.output
    return out, res


def test_digits_mlp_writes_report_json_and_weights(digits_run):
    out, res = digits_run
    assert sorted(p.name for p in out.iterdir()) == ["glossary.html", "report.html", "results.json", "weights.safetensors"]
    assert "report:" in res.output and "L1" in res.output and "L2" in res.output
    data = json.loads((out / "results.json").read_text())
    assert [(l["name"], l["units"]) for l in data["layers"]] == [("L1", 64), ("L2", 32)]
    assert data["model"]["kind"] == "builtin" and data["training"]["epochs"] == 2
    # the saved weights reproduce the reported accuracy on the analysed (held-out) samples
    model = build_model("mlp 64-32", (64,), 10)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in load_file(str(out / "weights.safetensors")).items()})
    from nichelab.data import load_digits
    d = load_digits()
    idx = np.asarray(data["data"]["analysed_indices"])
    with torch.no_grad():
        acc = (model(torch.from_numpy(d.X[idx])).argmax(1).numpy() == d.y[idx]).mean()
    assert acc == pytest.approx(data["accuracy"])
    assert not set(idx) & set(data["data"]["train_indices"])
    L1 = data["layers"][0]
    dead = [u["unit"] for u in L1["unit_records"] if u["dead"]]
    assert [f"L1:{k}" for k in L1["dead"]] == dead
    html = (out / "report.html").read_text()
    for title in ("Dead units", "Near-duplicate units", "Selective units", "Indispensable units",
                  "What each layer knows about the labels", "What drives the units", "Every unit"):
        assert title in html
    # the inlined Vega bundle mentions URLs in its code; the page loads none (tests/browser checks no request)
    assert html.count("data:image/png;base64,") >= 7 and not re.search(r'(src|href)="https?://', html)
    assert all(f"L1:{k}" in html for k in range(64))


def test_load_run_round_trip(digits_run):
    """The folder read back gives the result that wrote it: to_dict() equals results.json exactly."""
    import nichelab
    from nichelab.runs.jsonio import dumps
    out, _ = digits_run
    res = nichelab.load_run(out)
    assert dumps(res.to_dict()) == (out / "results.json").read_text()
    assert sorted(res.weights()) == sorted(load_file(str(out / "weights.safetensors")))
    from nichelab.reporting import build_report
    assert len([f for s in build_report(res).sections for f in s.figures]) >= 7   # the page needs no rerun


def test_faces_cnn(tmp_path):
    out = tmp_path / "faces"
    res = _invoke("--dataset", "faces", "--model", "cnn 8-16 fc=32", "--epochs", "2", "--out", out)
    assert res.exit_code == 0, res.output
    data = json.loads((out / "results.json").read_text())
    kinds = [(l["name"], l["kind"], l["units"], l["reduce"]) for l in data["layers"]]
    assert kinds == [("L1", "conv", 8, "mean"), ("L2", "conv", 16, "mean"), ("L3", "dense", 32, None)]
    assert data["layers"][0]["output_shape"] == [8, 25, 25] and data["data"]["n_classes"] == 2
    assert data["layers"][0]["ablation"]["n_samples"] == 60           # the 30% held out
    assert [l["probe_features"] for l in data["layers"]] == ["full map", "full map", "units"]
    html = (out / "report.html").read_text()
    assert "L1.conv: orange pixels excite" in html and "spatial mean" in html


# --------------------------------------------------------------------------- the user's own model
@pytest.mark.parametrize("data,model,extra,kind", [
    ("d.npz", "m.pt2", [], "export"),
    ("d.npz", "static.pt2", [], "export"),
    ("d.csv", "m.pt", [], "torchscript"),
    ("d.npz", "{mod}:make", ["--weights", "w.safetensors"], "factory"),
    ("d.npz", "pickled.pt", ["--trust-pickle"], "pickle"),
])
def test_user_model_formats(user, tmp_path, data, model, extra, kind):
    root = user["root"]
    model = model.format(mod=user["mod"])
    model = str(root / model) if "." in model and ":" not in model else model
    extra = [str(root / e) if e.endswith(".safetensors") else e for e in extra]
    out = tmp_path / "run"
    res = _invoke("--dataset", root / data, "--model", model, *extra, "--out", out)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["glossary.html", "report.html", "results.json"]   # no weights: not ours
    d = json.loads((out / "results.json").read_text())
    assert d["model"]["kind"] == kind and d["model"]["layers_analysed"] == ["relu1", "relu2"]
    with torch.no_grad():
        ref = user["model"](torch.from_numpy(user["X"])).argmax(1).numpy()
    assert d["accuracy"] == pytest.approx(np.mean(ref == user["y"]))
    # same model, same numbers whatever the format
    fc1 = user["model"].fc1
    with torch.no_grad():
        h = torch.relu(fc1(torch.from_numpy(user["X"]))).numpy()
    np.testing.assert_array_equal([u["dead"] for u in d["layers"][0]["unit_records"]], (h.max(0) <= 0) | (h.max(0) == h.min(0)))
    np.testing.assert_allclose([u["mean"] for u in d["layers"][0]["unit_records"]], h.mean(0), rtol=1e-4, atol=1e-6)
    if model.endswith("static.pt2"):
        assert d["model"]["fixed_batch"] == 7 and d["layers"][0]["ablation"]["n_samples"] == 238


def test_user_model_chosen_layers(user, tmp_path):
    out = tmp_path / "run"
    res = _invoke("--dataset", user["root"] / "d.npz", "--model", user["root"] / "m.pt", "--layers", "fc1,relu2,out",
                  "--no-ablation", "--out", out)
    assert res.exit_code == 0, res.output
    d = json.loads((out / "results.json").read_text())
    assert [l["name"] for l in d["layers"]] == ["fc1", "relu2", "out"]
    assert d["layers"][0]["signed"] and d["layers"][0]["module_type"] == "Linear"
    assert all(l["ablation"] is None for l in d["layers"])


# --------------------------------------------------------------------------- bad input
BAD = [
    (["--dataset", "{root}/d.npz", "--model", "{root}/m.pt2", "--layers", "relu9"],
     ["error: --layers: ", "unknown layer 'relu9'", "did you mean 'relu2'", "the model's layers are: fc1, relu1, fc2, relu2, out"]),
    (["--dataset", "digits", "--model", "mlp 8", "--layers", "L1,L5"], ["error: --layers: ", "unknown layer 'L5'", "L1.linear"]),
    (["--dataset", "{root}/length.npz", "--model", "{root}/m.pt2"], ["same number of samples", "(20, 6)", "(19,)"]),
    (["--dataset", "{root}/nan.npz", "--model", "{root}/m.pt2"], ["nan.npz", "must be finite", "1 NaN or infinite"]),
    (["--dataset", "{root}/inf.npz", "--model", "{root}/m.pt2"], ["must be finite"]),
    (["--dataset", "{root}/five.npz", "--model", "{root}/m.pt2"],
     ["shape (5,)", "does not accept", "expects inputs of shape (batch, 6)"]),
    (["--dataset", "{root}/five.npz", "--model", "{root}/m.pt"], ["shape (5,)", "'fc1' (Linear) expects 6 features"]),
    (["--dataset", "{root}/five.npz", "--model", "{mod}:make"], ["shape (5,)", "expects 6 features"]),
    (["--dataset", "{root}/d.npz", "--model", "{root}/junk.pt2"], ["junk.pt2", "could not be read"]),
    (["--dataset", "{root}/d.npz", "--model", "{root}/pickled.pt"], ["not TorchScript", "--trust-pickle"]),
    (["--dataset", "{root}/float_labels.npz", "--model", "{root}/m.pt2"], ["labels must be integers"]),
    (["--dataset", "{root}/d.npz", "--model", "mpl 64"], ["--model must be a built-in spec", "did you mean 'mlp'"]),
    (["--dataset", "{root}/d.npz", "--model", "{root}/missing.pt2"], ["does not exist"]),
    (["--dataset", "{root}/d.npz", "--model", "cnn 8"], ["a cnn needs image inputs", "(6,)"]),
    (["--dataset", "{root}/d.csv", "--model", "{root}/m.pt", "--label-column", "lable"], ["did you mean 'label'"]),
    (["--dataset", "{root}/boom.npz", "--model", "{mod}:boom"], ["capturing layers", "boom: input too large"]),
    (["--dataset", "nosuch.npz"], ["--dataset must be one of"]),
    (["--ablation-mode", "median"], ["--ablation-mode"]),
    (["--threshold", "2"], ["--threshold"]),
]


@pytest.mark.parametrize("args,messages", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input_one_message_exit_2_nothing_written(user, tmp_path, args, messages):
    out = tmp_path / "run"
    args = [a.format(root=user["root"], mod=user["mod"]) for a in args]
    res = _invoke(*args, "--out", out)
    assert res.exit_code == 2, res.output
    errors = [line for line in res.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in res.output, res.output
    for m in messages:
        assert m in errors[0], errors[0]
    assert _no_run_left(out)


# --------------------------------------------------------------------------- bring your own model
BYOM = '''
import torch
from torch import nn

class Reused(nn.Module):
    """One ReLU instance called after two layers (a ResNet-style reuse)."""
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc1, self.fc2, self.relu, self.out = nn.Linear(6, 8), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4)
    def forward(self, x):
        return self.out(self.relu(self.fc2(self.relu(self.fc1(x)))))

def reused():
    return Reused().eval()

def conv(c):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(c, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(4, 2)).eval()

def rgbnet():
    return conv(3)

def greynet():
    return conv(1)
'''


@pytest.fixture(scope="module")
def byom(tmp_path_factory):
    """Factories (reused ReLU, RGB and grey CNNs) and an RGB image folder whose class is only in the red channel."""
    from skimage.io import imsave
    root = tmp_path_factory.mktemp("byom")
    mod = f"byom_{uuid.uuid4().hex[:8]}"
    (root / f"{mod}.py").write_text(BYOM)
    sys.path.insert(0, str(root))
    rng = np.random.default_rng(0)
    for cls, red in (("a", 40), ("b", 220)):
        (root / "rgb" / cls).mkdir(parents=True)
        for i in range(6):
            img = rng.integers(0, 255, size=(9, 9, 3)).astype(np.uint8)
            img[..., 0] = red
            imsave(root / "rgb" / cls / f"{i}.png", img, check_contrast=False)
    yield {"root": root, "mod": mod}
    sys.path.remove(str(root))
    sys.modules.pop(mod, None)


def _results(out):
    return json.loads((out / "results.json").read_text())


def test_reused_module_per_call_through_cli(user, byom, tmp_path, reused_relu_accuracy):
    out = tmp_path / "run"
    res = _invoke("--dataset", user["root"] / "d.npz", "--model", f"{byom['mod']}:reused", "--out", out)
    assert res.exit_code == 0, res.output
    d = _results(out)
    assert [(l["name"], l["module"], l["call"], l["calls"]) for l in d["layers"]] == [
        ("relu", "relu", 0, 2), ("relu#1", "relu", 1, 2)]
    assert all(l["ablation"] is not None for l in d["layers"])          # each call ablated on its own
    model = __import__(byom["mod"]).reused()
    X, y = torch.from_numpy(user["X"]), user["y"]

    def acc(call, k):
        return reused_relu_accuracy(model, X, y, call, k)
    for call, layer in enumerate(d["layers"]):
        drops = [u["ablation_drop_pp"] for u in layer["unit_records"]]
        np.testing.assert_allclose(drops, [100 * (acc(None, 0) - acc(call, k)) for k in range(8)], atol=1e-9)
    html = unescape((out / "report.html").read_text())
    assert "relu#1:0" in html and "Reused module: 'relu' runs 2 times (analysed as relu, relu#1)" in html


def test_rgb_folder_keeps_colour_and_channel_mismatch_is_one_error(byom, tmp_path):
    rgb, mod = byom["root"] / "rgb", byom["mod"]
    out = tmp_path / "rgb"
    res = _invoke("--dataset", rgb, "--model", f"{mod}:rgbnet", "--normalize", "dataset", "--no-ablation",
                  "--out", out)
    assert res.exit_code == 0, res.output
    d = _results(out)
    assert d["data"]["input_shape"] == [3, 9, 9] and d["data"]["channels"] == 3
    assert d["data"]["normalize"] == "dataset" and len(d["data"]["mean"]) == 3
    assert d["config"]["channels"] == "auto" and d["config"]["normalize"] == "dataset"
    assert d["data"]["label_mapping"] is None or all(isinstance(k, str) for k in d["data"]["label_mapping"])
    # the same folder for a grey model: one error naming the data's channels and the model's first layer
    out2 = tmp_path / "grey"
    res = _invoke("--dataset", rgb, "--model", f"{mod}:greynet", "--out", out2)
    assert res.exit_code == 2, res.output
    errors = [line for line in res.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in res.output
    for m in ("--dataset", "3 channels (3, 9, 9)", "first layer '0' expects 1 channel", "--channels 1"):
        assert m in errors[0], errors[0]
    assert _no_run_left(out2)
    # --channels 1 converts to grey, and the grey model runs
    out3 = tmp_path / "grey1"
    res = _invoke("--dataset", rgb, "--model", f"{mod}:greynet", "--channels", "1", "--no-ablation", "--out", out3)
    assert res.exit_code == 0, res.output
    assert _results(out3)["data"]["input_shape"] == [1, 9, 9]


def test_fixed_batch_pt2_is_noted_in_the_report(user, tmp_path):
    out = tmp_path / "run"
    res = _invoke("--dataset", user["root"] / "d.npz", "--model", user["root"] / "static.pt2", "--out", out)
    assert res.exit_code == 0, res.output
    d = _results(out)
    note = [n for n in d["notes"] if "fixed batch of 7" in n]
    assert len(note) == 1 and "dynamic_shapes" in note[0]
    assert "fixed batch of 7" in (out / "report.html").read_text()
    assert d["warnings"] == []                                           # a trained model: no chance warning


def test_chance_level_model_is_warned_at_the_top(user, tmp_path):
    rng = np.random.default_rng(5)
    np.savez(tmp_path / "shuffled.npz", X=user["X"], y=rng.permutation(user["y"]))
    out = tmp_path / "run"
    res = _invoke("--dataset", tmp_path / "shuffled.npz", "--model", user["root"] / "m.pt2", "--no-ablation",
                  "--out", out)
    assert res.exit_code == 0, res.output
    d = _results(out)
    assert len(d["warnings"]) == 1 and "within noise of chance" in d["warnings"][0]
    html = (out / "report.html").read_text()
    assert html.index("within noise of chance") < html.index("The layers at a glance")


# --------------------------------------------------------------------------- Keras
@pytest.fixture(scope="module")
def keras_lab(tmp_path_factory):
    """The lab's model (Dense(2, relu) 'L1' -> Dense(4) 'L2') trained by Keras on the lab blobs and saved."""
    if importlib.util.find_spec("keras") is None:
        pytest.skip("needs nichelab[keras]")
    from nichelab.data.blobs import load_blobs
    from nichelab.nn.keras import import_keras
    keras = import_keras()
    keras.utils.set_random_seed(1)
    data = load_blobs()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="relu", name="L1"),
                              keras.layers.Dense(4, activation="linear", name="L2")])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.Adam(0.01))
    model.fit(data.X, data.y, epochs=40, batch_size=32, verbose=0)
    root = tmp_path_factory.mktemp("keras")
    model.save(str(root / "lab.keras"))
    model.save(str(root / "lab.h5"))
    w = {f"{name}.linear.{kind}": np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v, np.float64)
         for name in ("L1", "L2")
         for kind, v in zip(("weight", "bias"), model.get_layer(name).get_weights())}
    # Keras stores kernels (in, out); the lab analysis wants torch's (out, in), stacked over one seed
    params = {k: (v.T if v.ndim == 2 else v)[None] for k, v in w.items()}
    return {"root": root, "params": params, "data": data}


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_keras_lab_model_gives_the_lab_studys_unit_splits(keras_lab, tmp_path, suffix):
    from nichelab.metrics.partitions import split_key
    from nichelab.studies.lab.analysis import analyse_seeds
    out = tmp_path / "run"
    res = _invoke("--dataset", "blobs", "--model", keras_lab["root"] / f"lab{suffix}", "--out", out)
    assert res.exit_code == 0, res.output
    d = _results(out)
    assert d["model"]["kind"] == "keras" and d["model"]["layers_analysed"] == ["L1"]
    assert d["model"]["all_layers"] == ["L1", "L2"] and d["model"]["layer_types"] == {"L1": "Dense", "L2": "Dense"}
    data, params = keras_lab["data"], keras_lab["params"]
    lab = analyse_seeds([0], params, params, data.X, data.y, 4)
    got = np.zeros((2, 4), bool)
    for k, u in enumerate(d["layers"][0]["unit_records"]):
        got[k, u["active_classes"]] = True
    np.testing.assert_array_equal(got, lab.active[0])
    assert [split_key(a) for a in got] == lab.splits[0]
    assert d["accuracy"] == pytest.approx(lab.accuracy[0])
    assert [u["dead"] for u in d["layers"][0]["unit_records"]] == lab.dead[0].tolist()


# --------------------------------------------------------------------------- Hugging Face
@pytest.fixture(scope="module")
def hf(tmp_path_factory):
    """A tiny randomly initialised BERT classifier saved with save_pretrained, and a token .npz with padding."""
    pytest.importorskip("transformers")
    from transformers import BertConfig, BertForSequenceClassification
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=24, num_labels=3, max_position_embeddings=16)
    model = BertForSequenceClassification(cfg).eval()
    root = tmp_path_factory.mktemp("hf")
    model.save_pretrained(str(root / "bert"))
    rng = np.random.default_rng(0)
    n, seq = 60, 7
    ids = rng.integers(1, 40, size=(n, seq))
    mask = np.ones((n, seq), np.int64)
    for i, L in enumerate(rng.integers(2, seq + 1, size=n)):
        mask[i, L:] = 0
        ids[i, L:] = 0
    y = np.array(["neg", "neutral", "pos"])[rng.integers(0, 3, size=n)]
    np.savez(root / "tokens.npz", input_ids=ids, attention_mask=mask, y=y)
    with torch.no_grad():
        hidden = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                       output_hidden_states=True).hidden_states[1].double().numpy()   # block 0 (n, seq, 16)
    return {"root": root, "model": model, "hidden": hidden, "mask": mask, "y": y}


@pytest.mark.parametrize("tokens", ["mean", "first", "all"])
def test_hf_folder_on_token_npz(hf, tmp_path, tokens):
    out = tmp_path / "run"
    res = _invoke("--dataset", hf["root"] / "tokens.npz", "--model", hf["root"] / "bert", "--tokens", tokens,
                  "--ablation-samples", "30", "--out", out)
    assert res.exit_code == 0, res.output
    d = _results(out)
    assert d["model"]["kind"] == "hf" and d["config"]["tokens"] == tokens
    assert d["model"]["layers_analysed"] == [
        "bert.encoder.layer.0", "bert.encoder.layer.0.intermediate.intermediate_act_fn",
        "bert.encoder.layer.1", "bert.encoder.layer.1.intermediate.intermediate_act_fn"]
    by_name = {l["name"]: l for l in d["layers"]}
    block = by_name["bert.encoder.layer.0"]
    assert block["units"] == 16 and block["output_shape"] == [16] and block["kind"] == "dense"
    assert by_name["bert.encoder.layer.0.intermediate.intermediate_act_fn"]["units"] == 24
    assert d["data"]["label_mapping"] == {"neg": 0, "neutral": 1, "pos": 2}
    assert d["data"]["inputs"] == "tokens" and d["input_probe"] is None
    h, m = hf["hidden"], hf["mask"][..., None]
    ref = {"mean": ((h * m).sum(1) / m.sum(1)).mean(0),                  # mask-aware mean per sample
           "first": h[:, 0].mean(0),
           "all": (h * m).sum((0, 1)) / m.sum()}[tokens]                  # every real token one observation
    np.testing.assert_allclose([u["mean"] for u in block["unit_records"]], ref, rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        logits = hf["model"](input_ids=torch.from_numpy(np.load(hf["root"] / "tokens.npz")["input_ids"]),
                             attention_mask=torch.from_numpy(hf["mask"])).logits.numpy()
    y = np.searchsorted(["neg", "neutral", "pos"], hf["y"])
    assert d["accuracy"] == pytest.approx(np.mean(logits.argmax(1) == y))
    assert block["ablation"]["n_samples"] == 30
    html = (out / "report.html").read_text()
    said = {"mean": "mean over the tokens whose attention mask is 1", "first": "value at the first token",
            "all": "every real token (attention mask 1) is one observation"}[tokens]
    assert "bert.encoder.layer.0:15" in html and said in html


def test_hf_object_and_token_dicts_in_the_library(hf):
    from nichelab.studies.analyze import AnalyzeConfig, run
    z = np.load(hf["root"] / "tokens.npz")
    items = [{"input_ids": z["input_ids"][i:i + 10], "attention_mask": z["attention_mask"][i:i + 10]}
             for i in range(0, 60, 10)]                                # an iterable of tokenizer-style batches
    res = run(AnalyzeConfig(model=hf["model"], dataset=(items, hf["y"]), ablation=False,
                            layers=("bert.encoder.layer.0",)))
    ref = ((hf["hidden"] * hf["mask"][..., None]).sum(1) / hf["mask"].sum(1)[:, None]).mean(0)
    np.testing.assert_allclose(res.unit_values("bert.encoder.layer.0", "mean"), ref, rtol=1e-4, atol=1e-5)
    assert res.model["kind"] == "hf" and res.config.dataset.startswith("<token inputs")
