"""`nichelab analyze` end to end: built-in models on digits and faces, the user's own model in every
format on .npz / CSV data, and every kind of bad input (one message, exit code 2, no run folder)."""
from __future__ import annotations

import csv
import json
import sys
import uuid
from collections import OrderedDict

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
    assert html.count("data:image/png;base64,") >= 7 and "https://" not in html
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
