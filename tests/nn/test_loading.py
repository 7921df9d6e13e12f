import sys
from collections import OrderedDict

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from nichelab.errors import NichelabError
from nichelab.nn.loading import load_model

FACTORY = '''
import torch.nn as nn
from collections import OrderedDict
def make():
    return nn.Sequential(OrderedDict(fc1=nn.Linear(4, 3), relu=nn.ReLU(), out=nn.Linear(3, 2)))
'''


def _model():
    torch.manual_seed(0)
    return nn.Sequential(OrderedDict(fc1=nn.Linear(4, 3), relu=nn.ReLU(), out=nn.Linear(3, 2))).eval()


def _relu_output(module, x):
    seen = {}
    h = dict(module.named_modules())["relu"].register_forward_hook(lambda m, i, o: seen.setdefault("relu", o))
    try:
        module(x)
    finally:
        h.remove()
    return seen["relu"]


def test_factory_plus_safetensors(tmp_path, monkeypatch):
    (tmp_path / "usermodels.py").write_text(FACTORY)
    monkeypatch.syspath_prepend(str(tmp_path))
    ref = _model()
    save_file(ref.state_dict(), str(tmp_path / "w.safetensors"))
    loaded = load_model("usermodels:make", weights=tmp_path / "w.safetensors")
    x = torch.randn(5, 4)
    torch.testing.assert_close(loaded.module(x), ref(x))
    assert loaded.kind == "factory"
    sys.modules.pop("usermodels", None)


def test_torchscript_sequential_is_hookable(tmp_path):
    ref = _model()
    torch.jit.save(torch.jit.script(ref), str(tmp_path / "m.pt"))
    loaded = load_model(tmp_path / "m.pt")
    x = torch.randn(5, 4)
    torch.testing.assert_close(loaded.module(x), ref(x))
    torch.testing.assert_close(_relu_output(loaded.module, x), torch.relu(ref.fc1(x)))


def test_export_program(tmp_path):
    ref = _model()
    x = torch.randn(6, 4)
    batch = torch.export.Dim("batch")
    torch.export.save(torch.export.export(ref, (x,), dynamic_shapes=({0: batch},)), str(tmp_path / "m.pt2"))
    loaded = load_model(tmp_path / "m.pt2")
    assert loaded.kind == "export" and loaded.fixed_batch is None
    x2 = torch.randn(9, 4)
    torch.testing.assert_close(loaded.module(x2), ref(x2))
    torch.testing.assert_close(_relu_output(loaded.module, x2), torch.relu(ref.fc1(x2)))


def test_static_export_reports_its_batch(tmp_path):
    torch.export.save(torch.export.export(_model(), (torch.randn(6, 4),)), str(tmp_path / "s.pt2"))
    assert load_model(tmp_path / "s.pt2").fixed_batch == 6


def test_pickle_needs_trust(tmp_path):
    torch.save(_model(), str(tmp_path / "full.pt"))
    with pytest.raises(NichelabError, match="--trust-pickle"):
        load_model(tmp_path / "full.pt")
    loaded = load_model(tmp_path / "full.pt", trust_pickle=True)
    assert loaded.kind == "pickle"


@pytest.mark.parametrize("bad,match", [("nope.pt2", "does not exist"), ("nosuchpkg.mod:make", "cannot import")])
def test_bad_model_paths(bad, match):
    with pytest.raises(NichelabError, match=match):
        load_model(bad)


def test_unreadable_model_file(tmp_path):
    (tmp_path / "junk.pt2").write_text("junk")
    with pytest.raises(NichelabError, match="could not be read"):
        load_model(tmp_path / "junk.pt2")


def test_weights_that_do_not_fit(tmp_path, monkeypatch):
    (tmp_path / "usermodels2.py").write_text(FACTORY.replace("nn.Linear(4, 3)", "nn.Linear(4, 3)"))
    monkeypatch.syspath_prepend(str(tmp_path))
    save_file({"other.weight": torch.zeros(2, 2)}, str(tmp_path / "w.safetensors"))
    with pytest.raises(NichelabError, match="does not fit"):
        load_model("usermodels2:make", weights=tmp_path / "w.safetensors")


def test_factory_errors_and_shape_mismatch(tmp_path, monkeypatch):
    (tmp_path / "usermodels3.py").write_text(FACTORY + "\ndef boom():\n    raise RuntimeError('factory exploded')\n"
                                             "\ndef needs(x):\n    return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for spec in ("usermodels3:boom", "usermodels3:needs"):
        with pytest.raises(NichelabError, match="factory must take no arguments"):
            load_model(spec)
    save_file({"fc1.weight": torch.zeros(16, 4), "fc1.bias": torch.zeros(16),
               "out.weight": torch.zeros(2, 3), "out.bias": torch.zeros(2)}, str(tmp_path / "w.safetensors"))
    with pytest.raises(NichelabError, match="does not fit"):
        load_model("usermodels3:make", weights=tmp_path / "w.safetensors")
    with pytest.warns(UserWarning, match="without --weights"):
        load_model("usermodels3:make")
