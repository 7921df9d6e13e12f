"""`nichelab run lab` through the CLI: files, JSON consistent with weights, bad input."""
import json

import numpy as np
import pytest
from safetensors.numpy import load_file
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.data import load_blobs
from nichelab.studies.lab.analysis import analyse_seeds

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, ["run", "lab", *args])


@pytest.fixture(scope="module")
def lab_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "lab"
    res = _run("--seeds", "4", "--epochs", "20", "--out", str(out))
    assert res.exit_code == 0, res.output
    return out, res


def test_run_folder_has_every_output(lab_run):
    out, res = lab_run
    assert sorted(p.name for p in out.iterdir()) == ["glossary.html", "report.html", "results.json", "weights.safetensors"]
    html = (out / "report.html").read_text()
    # interactive charts (no PNG): the Vega JavaScript and the specs are inlined, nothing is fetched
    # (tests/browser checks that in Chromium); no element loads a URL
    assert 'class="nl-chart"' in html and "window.vegaEmbed=" in html and "data:image/png" not in html
    import re
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', html)
    assert "report:" in res.output and str(out) in res.output
    index = (out.parent / "index.jsonl").read_text().splitlines()
    assert json.loads(index[-1])["folder"] == "lab"


def test_json_fields_and_consistency_with_weights(lab_run):
    out, _ = lab_run
    data = json.loads((out / "results.json").read_text())
    assert data["seeds"] == [0, 1, 2, 3] and data["config"]["epochs"] == 20
    assert {"torch", "numpy", "nichelab"} <= set(data["versions"]) and data["timings"]["total_s"] > 0
    w = load_file(str(out / "weights.safetensors"))
    assert w["L1.linear.weight"].shape == (4, 2, 2) and w["seeds"].tolist() == [0, 1, 2, 3]
    d = load_blobs()
    init = {k[len("initial."):]: v for k, v in w.items() if k.startswith("initial.")}
    a = analyse_seeds(w["seeds"], w, init, d.X, d.y)
    for i, rec in enumerate(data["per_seed"]):
        assert set(rec) >= {"seed", "loss", "accuracy", "outcome", "units"}
        assert rec["outcome"] == a.outcome[i]
        assert rec["accuracy"] == pytest.approx(a.accuracy[i], abs=1e-6)
        assert rec["loss"] == pytest.approx(a.loss[i], rel=1e-4)
        assert [u["name"] for u in rec["units"]] == ["L1:0", "L1:1"]
        assert [u["active_classes"] for u in rec["units"]] == [np.flatnonzero(r).tolist() for r in a.active[i]]
    assert sum(data["summary"]["outcome_counts"].values()) == 4


@pytest.mark.parametrize("args,option", [
    (["--seeds", "0"], "--seeds"), (["--hidden", "0"], "--hidden"), (["--epochs", "-1"], "--epochs"),
    (["--optimizer", "adamw"], "--optimizer"), (["--init", "he"], "--init"), (["--seeds", "many"], "--seeds"),
])
def test_bad_input_one_message_exit_2(args, option, tmp_out):
    res = _run(*args, "--out", str(tmp_out))
    assert res.exit_code == 2
    assert option in res.output and "Traceback" not in res.output
    assert not tmp_out.exists()


def test_unwritable_out_is_reported(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    res = _run("--seeds", "1", "--epochs", "1", "--out", str(blocker / "run"))
    assert res.exit_code == 2 and "--out" in res.output and "Traceback" not in res.output


def test_existing_nonempty_out_is_refused(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    res = _run("--seeds", "1", "--epochs", "1", "--out", str(tmp_path))
    assert res.exit_code == 2 and "not empty" in res.output
    assert (tmp_path / "keep.txt").read_text() == "x"


def test_failed_run_leaves_no_folder(tmp_out, monkeypatch):
    import nichelab.reporting as reporting

    def boom(result, footer=""):
        raise RuntimeError("disk full")
    monkeypatch.setattr(reporting, "render_page", boom)
    res = _run("--seeds", "1", "--epochs", "1", "--out", str(tmp_out))
    assert res.exit_code != 0
    assert not tmp_out.exists()
    assert not [p for p in tmp_out.parent.iterdir() if p.name.startswith(".run")]


def test_out_that_is_a_file_is_named_as_such(tmp_path):
    f = tmp_path / "f.txt"
    f.write_text("x")
    res = _run("--seeds", "1", "--epochs", "1", "--out", str(f))
    assert res.exit_code == 2 and "is an existing file" in res.output
    res = _run("--seeds", "1", "--epochs", "1", "--out", str(f / "sub"))
    assert res.exit_code == 2 and "in its path is a file" in res.output


def test_zero_epochs_is_refused_and_every_study_trains_at_least_one_epoch(tmp_out):
    """--epochs 0 would report untrained networks as if they had learned: one error, no folder."""
    res = _run("--seeds", "2", "--epochs", "0", "--out", str(tmp_out))
    assert res.exit_code == 2, res.output
    assert res.output.strip() == "error: --epochs must be an integer >= 1 and <= 1000000; got 0"
    assert not tmp_out.exists()
    from nichelab.options import option_specs
    from nichelab.studies import STUDIES
    for name, study in STUDIES.items():
        for spec in option_specs(study.Config):
            if spec.name == "epochs":
                assert spec.ge == 1, name


def test_show_seed_may_be_any_trained_seed_up_to_the_largest_first_seed():
    from nichelab.errors import NichelabError
    from nichelab.studies.lab.config import LabConfig
    top = 2**32 - 1 - 10_000_000
    assert LabConfig(first_seed=3_000_000_000, seeds=2, show_seed=3_000_000_001).show_seed == 3_000_000_001
    assert LabConfig(first_seed=top, seeds=10_000_000, show_seed=2**32 - 2).show_seed == 2**32 - 2
    with pytest.raises(NichelabError, match=r"show_seed must be one of the trained seeds 3000000000..3000000001; "
                                            r"got 3000000002"):
        LabConfig(first_seed=3_000_000_000, seeds=2, show_seed=3_000_000_002)
    res = _run("--first-seed", "3000000000", "--seeds", "2", "--show-seed", "4294967296", "--epochs", "1")
    assert res.exit_code == 2 and "--show-seed must be" in res.output and len(res.output.splitlines()) == 1


def test_sigterm_leaves_no_partial_folder(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "nichelab", "run", "lab", "--seeds", "3000", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(6)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert not out.exists() and not [p for p in tmp_path.iterdir() if "partial" in p.name]


def test_type_errors_are_one_line():
    res = _run("--seeds", "abc")
    assert res.exit_code == 2
    lines = [l for l in res.output.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "--seeds" in lines[0]
