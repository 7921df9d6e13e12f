"""No file a user hands us runs code unless --trust-pickle is given (crafted pickles in every format)."""
import io
import os
import pickle
import zipfile
from collections import OrderedDict

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from nichelab.errors import NichelabError
from nichelab.nn.loading import load_model


class _Touch:
    """Unpickling this calls os.system-free code: it creates the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _model():
    torch.manual_seed(0)
    return nn.Sequential(OrderedDict(fc1=nn.Linear(4, 3), relu=nn.ReLU(), out=nn.Linear(3, 2))).eval()


def _export(path):
    ep = torch.export.export(_model(), (torch.randn(5, 4),))
    torch.export.save(ep, str(path))


def _replace_member(path, suffix, payload: bytes):
    """Rewrite the .pt2 zip with the member ending in ``suffix`` replaced by ``payload``."""
    src = zipfile.ZipFile(path)
    items = [(i, src.read(i.filename)) for i in src.infolist()]
    src.close()
    hit = False
    with zipfile.ZipFile(path, "w") as dst:
        for info, data in items:
            if info.filename.endswith(suffix):
                data, hit = payload, True
            dst.writestr(info, data)
    assert hit, suffix


def _evil_torch_save(marker) -> bytes:
    buf = io.BytesIO()
    torch.save({"x": _Touch(marker)}, buf)
    return buf.getvalue()


@pytest.mark.parametrize("payload", ["torch_save", "raw_pickle"])
def test_pt2_with_crafted_sample_inputs_never_runs_code(tmp_path, payload):
    path, marker = tmp_path / "evil.pt2", tmp_path / "PWNED"
    _export(path)
    data = _evil_torch_save(marker) if payload == "torch_save" else pickle.dumps((_Touch(marker),), protocol=2)
    _replace_member(path, "sample_inputs/model.pt", data)
    with pytest.raises(NichelabError, match="trust-pickle"):
        load_model(path)
    assert not marker.exists()


def test_pt2_with_crafted_weight_config_never_runs_code(tmp_path):
    """A weight declared ``use_pickle`` whose bytes are a malicious pickle."""
    import json
    path, marker = tmp_path / "evil.pt2", tmp_path / "PWNED"
    _export(path)
    src = zipfile.ZipFile(path)
    cfg_name = next(n for n in src.namelist() if n.endswith("model_weights_config.json"))
    cfg = json.loads(src.read(cfg_name))
    src.close()
    first = next(iter(cfg["config"]))
    cfg["config"][first]["use_pickle"] = True
    _replace_member(path, "model_weights_config.json", json.dumps(cfg).encode())
    _replace_member(path, "weights/" + cfg["config"][first]["path_name"], _evil_torch_save(marker))
    with pytest.raises(NichelabError, match="only a full unpickle"):
        load_model(path)
    assert not marker.exists()


def test_pt2_unknown_member_is_checked(tmp_path):
    path, marker = tmp_path / "evil.pt2", tmp_path / "PWNED"
    _export(path)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("m/data/extra.pt", pickle.dumps(_Touch(marker), protocol=0))
    with pytest.raises(NichelabError):
        load_model(path)
    assert not marker.exists()


def test_clean_pt2_still_loads_and_matches(tmp_path):
    path = tmp_path / "ok.pt2"
    _export(path)
    loaded = load_model(path)
    x = torch.randn(5, 4)
    torch.testing.assert_close(loaded.module(x), _model()(x))


def test_trust_pickle_allows_the_full_unpickle(tmp_path):
    """With --trust-pickle the user's choice is honoured (the marker may appear)."""
    path, marker = tmp_path / "evil.pt2", tmp_path / "PWNED"
    _export(path)
    _replace_member(path, "sample_inputs/model.pt", _evil_torch_save(marker))
    try:
        load_model(path, trust_pickle=True)
    except Exception:
        pass  # the crafted sample input is not a valid one; what matters is that it was unpickled
    assert marker.exists()


def test_pt_pickle_refused(tmp_path):
    path, marker = tmp_path / "evil.pt", tmp_path / "PWNED"
    torch.save(_Touch(marker), str(path))
    with pytest.raises(NichelabError, match="trust-pickle"):
        load_model(path)
    assert not marker.exists()


def test_torchscript_with_pickle_payload_is_not_unpickled(tmp_path):
    """A zip named .pt whose data.pkl is a malicious pickle is neither TorchScript nor loaded."""
    path, marker = tmp_path / "evil.pt", tmp_path / "PWNED"
    torch.jit.save(torch.jit.script(_model()), str(path))
    _replace_member(path, "data.pkl", pickle.dumps(_Touch(marker), protocol=2))
    with pytest.raises(NichelabError):
        load_model(path)
    assert not marker.exists()


def test_safetensors_weights_never_run_code(tmp_path, monkeypatch):
    (tmp_path / "usermodels_safe.py").write_text(
        "import torch.nn as nn\nfrom collections import OrderedDict\n"
        "def make():\n    return nn.Sequential(OrderedDict(fc1=nn.Linear(4, 3), relu=nn.ReLU(), out=nn.Linear(3, 2)))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    marker = tmp_path / "PWNED"
    bad = tmp_path / "w.safetensors"
    bad.write_bytes(pickle.dumps(_Touch(marker)))
    with pytest.raises(NichelabError, match="safetensors"):
        load_model("usermodels_safe:make", weights=bad)
    assert not marker.exists()


def test_cli_refuses_crafted_pt2(tmp_path):
    """Through the CLI (analyze and compare): exit 2, one line, no marker, no run folder."""
    import numpy as np
    from typer.testing import CliRunner
    from nichelab.cli import app
    path, marker = tmp_path / "evil.pt2", tmp_path / "PWNED"
    _export(path)
    _replace_member(path, "sample_inputs/model.pt", _evil_torch_save(marker))
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", X=rng.normal(size=(20, 4)).astype("float32"), y=np.arange(20) % 2)
    for args in (["analyze", "--model", str(path), "--dataset", str(tmp_path / "d.npz"), "--out", str(tmp_path / "r1")],
                 ["compare", str(path), str(path), "--data", str(tmp_path / "d.npz"), "--out", str(tmp_path / "r2")]):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2, res.output
        assert "trust-pickle" in res.output
        assert not marker.exists()
    assert not (tmp_path / "r1").exists() and not (tmp_path / "r2").exists()
