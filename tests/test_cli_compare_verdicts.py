"""`nichelab compare`: the verdict follows its interval, figures draw the measure's own values and
every drawn bar, model files load quietly, and mismatches are one clear message.

Hand-built networks with known answers: A = [x0, x1] and B = [x0, -x1 + 0.6 x2] on independent
standard normal inputs, so unit 0 has an exact counterpart (r = 1) and unit 1's partner has
r = -1/sqrt(1.36) = -0.857: 1 of 2 units has a counterpart (Wilson 95% CI 9.5%-91%).
"""
import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.nn.loading import load_model
from nichelab.reporting.figures import convergence as fig
from nichelab.reporting.pages import compare as cmp_page
from nichelab.studies import STUDIES
from nichelab.studies.compare import CompareConfig
from nichelab.studies.compare.findings import CANNOT_TELL, layer_verdict
from nichelab.studies.text import wilson_interval

runner = CliRunner()
R_NEG = -1 / math.sqrt(1.36)


def _linear(w):
    lin = nn.Linear(3, len(w), bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(w, dtype=torch.float32))
    return nn.Sequential(lin).eval()


@pytest.fixture(scope="module")
def half_matched():
    x = np.random.default_rng(0).standard_normal((2000, 3)).astype(np.float32)
    a = _linear([[1, 0, 0], [0, 1, 0]])
    b = _linear([[1, 0, 0], [0, -1, 0.6]])
    return STUDIES["compare"].run(CompareConfig(a=a, b=b, data=x, layers=("0",)))


def test_verdict_rule_follows_the_wilson_interval():
    assert wilson_interval(1, 2)[0] < 0.5 < wilson_interval(1, 2)[1]
    assert layer_verdict(1, 2, 0.95) == CANNOT_TELL           # was "same units" (1 of 2 reaches 50%)
    assert layer_verdict(2, 2, 0.95) == CANNOT_TELL           # 95% CI 34%-100% contains 50%
    assert layer_verdict(2, 2, 0.95, permutation=True) == "same units"   # exact copies: no estimate
    assert layer_verdict(16, 16, 0.2) == "same units"         # CI 81%-100%
    assert layer_verdict(0, 16, 0.9) == "same subspace, different units"   # CI 0%-19%, below 50%
    assert layer_verdict(0, 16, 0.5) == "partly shared"
    assert layer_verdict(0, 0, 0.9) == "same subspace, different units"


def test_half_matched_layer_cannot_tell(half_matched):
    s = half_matched.matching[0]
    assert s["frac_high"] == 0.5 and (s["n_high"], s["n_live"]) == (1, 2)
    assert s["matched_min"] == pytest.approx(R_NEG, abs=0.03)
    assert s["verdict"] == CANNOT_TELL
    short = " ".join(half_matched.findings["short"])
    assert "same units" not in short.split(".")[0]
    assert "this run cannot tell" in short and "1 of 2; 95% CI 9.5%–91%" in short
    assert "can't tell" in cmp_page.summary_table(half_matched).rows[0]


def _chart(report, cid):
    return next(f for s in report.sections for f in s.figures if f.name == cid)


def _find(spec, key):
    if isinstance(spec, dict):
        if key in spec:
            yield spec[key]
        for v in spec.values():
            yield from _find(v, key)
    elif isinstance(spec, list):
        for v in spec:
            yield from _find(v, key)


def test_pair_matching_axis_covers_every_bar(half_matched):
    chart = _chart(cmp_page.page(half_matched), "pair_matching")
    drawn = min(row["r"] for row in chart.datasets["cmp_match"] if row["r"] is not None)
    assert drawn == pytest.approx(R_NEG, abs=0.03)
    y = next(e["y"] for e in _find(chart.spec, "encoding") if "y" in e and e["y"].get("field") == "r")
    lo, hi = y["scale"]["domain"]
    assert lo <= drawn and hi >= 1.0 and not y["scale"].get("clamp")
    # without a lower end, the axis stretches to the data
    assert fig.pair_matching("d", "p", 0.9, 0.5)["layer"][0]["encoding"]["y"]["scale"]["domain"] == \
        {"unionWith": [-0.2, 1.0]}


def test_heatmap_draws_the_measure_on_its_fixed_scale(half_matched):
    chart = _chart(cmp_page.page(half_matched), "layer_heatmap")
    colour = next(e["color"] for e in _find(chart.spec, "encoding") if "color" in e and "scale" in e["color"])
    assert colour["field"] == "v" and colour["scale"]["domain"] == [0.0, 1.0]
    assert "linear CKA" in colour["legend"]["title"][0]
    assert "relative" not in str(chart.spec)
    cka = half_matched.matrix[0][0]
    row = chart.datasets["cmp_heat"][0]
    assert row["v"] == pytest.approx(cka, abs=1e-4) and row["s"] == pytest.approx(cka, abs=1e-4)
    # distances: natural range, reversed so that bright is similar; a menu of measures: an expression
    heat = fig.layer_heatmap("d", ["a"], ["b"], "A", "B", measures={"procrustes_distance": True},
                             legend_title="Procrustes distance")
    assert heat["layer"][0]["encoding"]["color"]["scale"]["domain"] == [2.0, 0.0]
    many = fig.layer_heatmap("d", ["a"], ["b"], "A", "B", measure="linear_cka",
                             measures={"linear_cka": False, "procrustes_distance": True})
    expr = many["layer"][0]["encoding"]["color"]["scale"]["domain"]["expr"]
    assert '"procrustes_distance" ? [2.0, 0.0]' in expr and '"linear_cka" ? [0.0, 1.0]' in expr


class _Deep(nn.Module):
    """Two hidden layers named hidden1/hidden2: no layer name in common with a Sequential's."""

    def __init__(self):
        super().__init__()
        self.fc1, self.hidden1 = nn.Linear(64, 8), nn.ReLU()
        self.fc2, self.hidden2 = nn.Linear(8, 8), nn.ReLU()
        self.out = nn.Linear(8, 10)

    def forward(self, x):
        return self.out(self.hidden2(self.fc2(self.hidden1(self.fc1(x)))))


@pytest.fixture(scope="module")
def pt2_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("pt2")
    x = torch.randn(8, 64)
    for seed in (0, 1):
        torch.manual_seed(seed)
        m = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10)).eval()
        torch.export.save(torch.export.export(m, (x,), dynamic_shapes=({0: torch.export.Dim("batch")},)),
                          str(root / f"m{seed}.pt2"))
    torch.manual_seed(2)
    deep = _Deep().eval()
    torch.export.save(torch.export.export(deep, (x,), dynamic_shapes=({0: torch.export.Dim("batch")},)),
                      str(root / "deep.pt2"))
    return root


def test_pt2_loads_without_torch_warnings(pt2_files):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_model(str(pt2_files / "m0.pt2"))
    assert not [w for w in caught if issubclass(w.category, FutureWarning)], [str(w.message) for w in caught]


def test_pt2_width_mismatch_names_file_and_widths(pt2_files):
    loaded = load_model(str(pt2_files / "m0.pt2"))
    with pytest.raises(RuntimeError) as err:
        loaded.module(torch.zeros(3, 12))
    text = str(err.value)
    assert "'m0.pt2' expects 64 input features" in text and "the data has 12" in text
    assert "re-export" not in text and "dynamic" not in text
    assert loaded.module(torch.zeros(3, 64)).shape == (3, 10)          # still runs
    assert "0" in dict(loaded.module.named_modules())                   # layer names unchanged


def test_no_shared_layer_names_is_one_error(pt2_files, tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(app, ["compare", str(pt2_files / "m0.pt2"), str(pt2_files / "deep.pt2"),
                              "--data", "digits", "--out", str(out)])
    assert res.exit_code == 2, res.output
    line = " ".join(res.output.split())
    assert "--layers" in line and "A_LAYER=B_LAYER" in line and "A's layers:" in line and "B's layers:" in line
    assert "Traceback" not in res.output and not out.exists()
