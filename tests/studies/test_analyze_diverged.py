"""A built-in model whose training diverges: `nichelab analyze` marks it and still writes its report.

The units of a network that blew up are not measured (NaN activations are not silence): the report
says so first, results.json has ``training.diverged`` true, and no unit is called dead.
"""
import json

import numpy as np
import torch
from torch import nn
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.studies.analyze import AnalyzeConfig
from nichelab.studies.analyze.pipeline import run

runner = CliRunner()


def test_diverging_builtin_run_through_the_cli_writes_its_report(tmp_path):
    out = tmp_path / "run"
    res = runner.invoke(app, ["analyze", "--dataset", "digits", "--model", "mlp 16-8", "--optimizer", "sgd",
                              "--lr", "1000", "--epochs", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    r = json.loads((out / "results.json").read_text())
    assert r["training"]["diverged"] is True
    assert r["training"]["train_accuracy"] is None and r["accuracy"] is None
    assert r["layers"] == [] and r["ablation_indices"] == []
    assert r["warnings"][0].startswith("Training diverged")
    assert "not measured" in " ".join(r["findings"]["model"])
    assert not any("dead" in line and "No unit" not in line for line in r["findings"]["dead"])
    html = (out / "report.html").read_text()
    assert "Training diverged" in html and "not measured" in html


def test_normal_builtin_run_is_not_marked():
    r = run(AnalyzeConfig(dataset="digits", model="mlp 16-8", epochs=1, ablation=False, probe_samples=200))
    assert r.training["diverged"] is False and r.layers and r.accuracy is not None


class _Overflow(nn.Module):
    """Finite weights, activations that overflow to inf (and then NaN) on every sample."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 8)
        self.act = nn.ReLU()
        self.out = nn.Linear(8, 10)
        with torch.no_grad():
            self.fc.weight.fill_(1e38)

    def forward(self, x):
        return self.out(self.act(self.fc(x * 10)))


def test_nonfinite_activations_of_a_user_model_are_reported_not_measured():
    from nichelab.data import load_digits
    d = load_digits()
    r = run(AnalyzeConfig(dataset=(d.X, d.y), model=_Overflow(), ablation=False))
    assert r.layers == [] and r.training is None
    assert "not finite" in r.warnings[0] and "act" in r.warnings[0]
    assert np.isfinite(r.to_dict()["data"]["n_samples"])
