"""Behaviour stays: ``nichelab compare RUN#0 RUN#1`` gives the numbers saved before the refactor,
and both run folders read back exactly (``load_run``).

tests/golden/compare.json compared seeds 0 and 1 of the golden convergence run
(``nichelab run convergence --seeds 2 --epochs 3 --model "mlp 16-16"``, folder ``convergence``).
The convergence run is made here through the CLI, in a folder of the same name under tmp_path;
every key is compared except the folder paths (``config.a`` / ``config.b``, ``a.path`` /
``b.path``), the run's own ``timings``, ``versions``, ``created``, ``command``, and the findings
sentences (numbers now formatted by :func:`nichelab.studies.text.num`).
"""
import json

import pytest
from typer.testing import CliRunner

import nichelab
from nichelab.cli import app
from nichelab.runs.jsonio import dumps

SKIP = {"timings", "versions", "created", "command", "findings", "study", "config", "a", "b"}


@pytest.fixture(scope="module")
def conv_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("golden") / "convergence"
    res = CliRunner().invoke(app, ["run", "convergence", "--seeds", "2", "--epochs", "3", "--model", "mlp 16-16",
                                   "--out", str(folder)])
    assert res.exit_code == 0, res.output
    return folder


def _round_trip(folder):
    text = (folder / "results.json").read_text()
    assert dumps(nichelab.load_run(folder).to_dict()) == text


def test_compare_numbers_unchanged(golden, conv_run):
    old = golden.load("compare")
    new = golden.run("compare", a=f"{conv_run}#0", b=f"{conv_run}#1")
    for key in old:
        if key not in SKIP:
            golden.assert_same(old[key], new[key], key)
    for side in ("a", "b"):
        golden.assert_same({k: v for k, v in old[side].items() if k != "path"}, new[side], side)
        assert new[side]["path"] == str(conv_run)
    golden.assert_same({k: v for k, v in old["config"].items() if k not in ("a", "b")}, new["config"], "config")
    assert set(old["findings"]) == set(new["findings"])


def test_run_folders_read_back_exactly(conv_run, tmp_path):
    _round_trip(conv_run)
    out = tmp_path / "cmp"
    res = CliRunner().invoke(app, ["compare", f"{conv_run}#0", f"{conv_run}#1", "--layers", "L1,L2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    _round_trip(out)
    data = json.loads((out / "results.json").read_text())
    assert [m["layer_a"] for m in data["matching"]] == ["L1", "L2"] and data["config"]["layers"] == ["L1", "L2"]
