"""CLI edges (issue 15): each bad input is one line, exit 2, and no run folder.

Cases: compare with models of different input widths; loaders given a garbage .pt2, an
unreadable image file, CSV labels with gaps or huge values; capture given a non-Module model,
a bad device string, or batches of different widths (Python API: one NichelabError).
"""
import time

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from nichelab.capture import capture
from nichelab.cli import app
from nichelab.errors import NichelabError

runner = CliRunner()


def _one_line_error(res, out, *words):
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    errors = [l for l in res.output.splitlines() if l.startswith("error:")]
    assert len(errors) == 1, res.output
    for w in words:
        assert w in errors[0], errors[0]
    assert not out.exists()
    return errors[0]


def _export(model, width, path):
    torch.export.save(torch.export.export(model, (torch.zeros(2, width),)), str(path))


# ---- compare -------------------------------------------------------------------------------------
def test_compare_different_input_widths_names_both(tmp_path):
    torch.manual_seed(0)
    _export(nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10)), 64, tmp_path / "a.pt2")
    _export(nn.Sequential(nn.Linear(32, 8), nn.ReLU(), nn.Linear(8, 10)), 32, tmp_path / "b.pt2")
    out = tmp_path / "run"
    res = runner.invoke(app, ["compare", str(tmp_path / "a.pt2"), str(tmp_path / "b.pt2"), "--data", "digits",
                              "--out", str(out)])
    line = _one_line_error(res, out, "input width", "64", "32", "B does not fit")
    assert "must be finite" not in line


# ---- loaders -------------------------------------------------------------------------------------
def _analyze(tmp_path, dataset, model="mlp 8", *extra):
    out = tmp_path / "run"
    return runner.invoke(app, ["analyze", "--dataset", str(dataset), "--model", model, "--epochs", "1",
                               "--out", str(out), *extra]), out


def test_garbage_pt2_names_file(tmp_path):
    bad = tmp_path / "garbage.pt2"
    bad.write_bytes(b"this is not a zip archive" * 10)
    res, out = _analyze(tmp_path, "digits", str(bad))
    _one_line_error(res, out, "garbage.pt2")


def test_unreadable_image_names_file(tmp_path):
    from PIL import Image
    for c in ("cat", "dog"):
        (tmp_path / "imgs" / c).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(tmp_path / "imgs" / c / f"{i}.png")
    (tmp_path / "imgs" / "dog" / "broken.png").write_bytes(b"not a png")
    res, out = _analyze(tmp_path, tmp_path / "imgs")
    _one_line_error(res, out, "broken.png")


@pytest.mark.parametrize("labels", [(2019, 2020, 2021), (0, 5, 10**12)])
def test_csv_labels_with_gaps_give_three_classes_quickly(tmp_path, labels):
    rng = np.random.default_rng(0)
    rows = ["a,b,c,label"] + [f"{x[0]:.3f},{x[1]:.3f},{x[2]:.3f},{labels[i % 3]}"
                              for i, x in enumerate(rng.normal(size=(60, 3)))]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    t = time.perf_counter()
    res, out = _analyze(tmp_path, tmp_path / "d.csv")
    assert res.exit_code == 0, res.output
    assert time.perf_counter() - t < 120
    import json
    data = json.loads((out / "results.json").read_text())["data"]
    assert data["n_classes"] == 3
    assert data["label_mapping"] == {str(v): i for i, v in enumerate(labels)}


# ---- capture (Python API) ------------------------------------------------------------------------
def _net():
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def test_capture_non_module_is_one_error():
    with pytest.raises(NichelabError, match="model"):
        capture(lambda x: x, np.zeros((5, 4), np.float32))


def test_capture_bad_device_is_one_error():
    with pytest.raises(NichelabError, match="device"):
        capture(_net(), np.zeros((5, 4), np.float32), device="gpu:banana")


def test_capture_batches_of_different_widths_is_one_error():
    batches = [np.zeros((3, 4), np.float32), np.zeros((3, 5), np.float32)]
    with pytest.raises(NichelabError, match="batch|width|shape"):
        capture(_net(), iter(batches))


# ---- odd inputs (wave 2) ----------------------------------------------------------------------
@pytest.mark.parametrize("value", ["1e-3,,", ",1e-3", "1e-3,,1e-4"])
def test_empty_item_in_a_list_option_is_an_error_naming_it(tmp_path, value):
    out = tmp_path / "x"
    res = runner.invoke(app, ["run", "symmetry", "--eps", value, "--out", str(out)])
    line = _one_line_error(res, out, "--eps must list values separated by single commas", repr(value))
    assert line.startswith("error: --eps")


def test_export_refuses_a_folder_that_holds_something(tmp_path):
    run = tmp_path / "run"
    assert runner.invoke(app, ["run", "lab", "--seeds", "2", "--epochs", "1", "--out", str(run)]).exit_code == 0
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep me")
    res = runner.invoke(app, ["export", str(run), "--format", "svg", "--out", str(dest)])
    assert res.exit_code == 2 and "--out must be a new or empty folder" in res.output, res.output
    assert sorted(p.name for p in dest.iterdir()) == ["notes.txt"]
    res = runner.invoke(app, ["export", str(run), "--format", "svg", "--out", str(tmp_path / "new")])
    assert res.exit_code == 0 and any(p.suffix == ".svg" for p in (tmp_path / "new").iterdir())
    res = runner.invoke(app, ["export", str(run), "--format", "gif", "--out", str(tmp_path / "new2")])
    _one_line_error(res, tmp_path / "new2", "--format must be one of png, svg, pdf; got 'gif'")


def test_help_shows_choices_and_bad_choice_is_house_style(tmp_path):
    res = runner.invoke(app, ["export", "--help"])
    assert "--format <png|svg|pdf>" in res.output and "--format <str>" not in res.output
    assert "<local|ray>" in runner.invoke(app, ["sweep", "--help"]).output
    out = tmp_path / "sw"
    res = runner.invoke(app, ["sweep", "lab", "--backend", "foo", "--grid", "hidden=2", "--out", str(out)])
    line = _one_line_error(res, out)
    assert line == "error: --backend must be local or ray; got 'foo'"
