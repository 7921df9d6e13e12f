"""Sweeps without Ray: grids checked before anything runs, seed chunks, resume, index, findings."""
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.errors import NichelabError
from nichelab.runs.sweep import headline, parse_grid, plan_cells, read_cells, run_sweep
from nichelab.runs.sweep_report import sweep_findings
from nichelab.runs.sweep_tasks import ALIGN, cell_command, chunk_bounds
from nichelab.studies import STUDIES
from nichelab.studies.text import wilson_interval

runner = CliRunner()
LAB = STUDIES["lab"]


def same_run(a, b):
    """Two run folders hold the same numbers: results.json without times/provenance, weights bit for bit."""
    from safetensors.numpy import load_file
    drop = ("timings", "versions", "command", "created")
    ra, rb = (json.loads((f / "results.json").read_text()) for f in (a, b))
    assert {k: v for k, v in ra.items() if k not in drop} == {k: v for k, v in rb.items() if k not in drop}
    wa, wb = load_file(str(a / "weights.safetensors")), load_file(str(b / "weights.safetensors"))
    assert wa.keys() == wb.keys()
    for k in wa:
        assert np.array_equal(wa[k], wb[k]), k


# ---- chunks -----------------------------------------------------------------------------------
@pytest.mark.parametrize("n,chunk", [(1, 5000), (600, 256), (1000, 300), (100_000, 5000), (5000, 5000),
                                     (5100, 5000), (5400, 5000), (300, 1)])
def test_chunk_bounds_cover_the_seeds_on_aligned_starts(n, chunk):
    b = chunk_bounds(n, chunk)
    assert b[0][0] == 0 and b[-1][1] == n
    assert all(x[1] == y[0] for x, y in zip(b, b[1:]))
    assert all(a % ALIGN == 0 and (stop - a) % ALIGN == 0 for a, stop in b[:-1])
    if len(b) > 1:
        assert b[-1][1] - b[-1][0] >= ALIGN
    assert chunk_bounds(n, chunk, chunked=False) == [(0, n)]


def test_100k_seeds_in_chunks_of_5000_make_20_chunks():
    assert len(chunk_bounds(100_000, 5000)) == 20


def test_lab_chunks_merge_to_the_whole_run():
    from nichelab.studies.lab.pipeline import merge_chunks, run, run_chunk
    cfg = LAB.Config(seeds=600, epochs=4, first_seed=7, show_seed=500)
    whole = run(cfg)
    bounds = chunk_bounds(cfg.seeds, 256)
    assert len(bounds) == 2
    merged = merge_chunks(cfg, [run_chunk(cfg, cfg.seed_list[a:b]) for a, b in bounds])
    dw, dm = whole.to_dict(), merged.to_dict()
    dw.pop("timings"), dm.pop("timings")
    assert json.dumps(dw, default=str) == json.dumps(dm, default=str)
    for k, v in whole.weights().items():
        assert np.array_equal(v, merged.weights()[k]), k
    with pytest.raises(NichelabError, match="in order"):
        merge_chunks(cfg, [run_chunk(cfg, cfg.seed_list[a:b]) for a, b in reversed(bounds)])


# ---- grids ------------------------------------------------------------------------------------
def test_parse_grid_reads_values_and_accepts_flag_spelling():
    assert parse_grid("lab", ["hidden=1,2"]) == {"hidden": ("1", "2")}
    assert parse_grid("lab", {"init": ["torch"]}) == {"init": ("torch",)}
    assert parse_grid("lab", ["batch-size=8, 16"]) == {"batch_size": ("8", "16")}


@pytest.mark.parametrize("items,words", [
    (["hiden=1,2"], ["--grid NAME", "'hiden'", "did you mean 'hidden'"]),
    (["seeds=1,2"], ["--grid seeds", "--seeds"]),
    (["hidden=1,1"], ["--grid hidden", "once", "'1'"]),
    (["hidden"], ["NAME=V1,V2", "'hidden'"]),
    (["hidden=1", "hidden=2"], ["given twice"]),
    (["hidden=1,"], ["--grid hidden must list values"]),
])
def test_bad_grid_is_one_error_naming_the_field(items, words):
    with pytest.raises(NichelabError) as err:
        parse_grid("lab", items)
    assert all(w in str(err.value) for w in words), str(err.value)


def test_a_cell_the_config_rejects_is_named_before_anything_runs(tmp_path):
    out = tmp_path / "sw"
    with pytest.raises(NichelabError) as err:
        run_sweep("lab", ["hidden=2,0", "init=glorot,xavier"], 3, out=out)
    assert str(err.value).startswith("--grid cell hidden=2, init=xavier: init must be one of glorot, torch")
    assert not out.exists()
    with pytest.raises(NichelabError, match=r"--grid cell hidden=0: hidden must be an integer >= 1.*got 0"):
        plan_cells("lab", parse_grid("lab", ["hidden=0"]), 3)


def test_cell_command_reruns_the_cell():
    cells = plan_cells("lab", parse_grid("lab", ["lr=0.1", "optimizer=sgd"]), 12, first_seed=4)
    assert cell_command(LAB, cells[0].config, ["lr", "optimizer"]) == (
        "nichelab run lab --lr 0.1 --optimizer sgd --seeds 12 --first-seed 4")


# ---- numbers in the index and the words -------------------------------------------------------
def test_headline_counts_shares_and_intervals():
    data = {"seeds": list(range(10)), "summary": {"outcome_counts": {"distinct": 3, "duplicate": 7, "dead": 0,
                                                                       "other": 0}},
            "per_seed": [{"accuracy": a} for a in [0.5, 1.0] * 5]}
    row = headline(data)
    assert row["n_seeds"] == 10 and row["n_distinct"] == 3 and row["share_duplicate"] == 0.7
    assert (row["share_distinct_lo"], row["share_distinct_hi"]) == wilson_interval(3, 10)
    sd = math.sqrt(sum((a - 0.75) ** 2 for a in [0.5, 1.0] * 5) / 9)
    assert row["accuracy_mean"] == pytest.approx(0.75)
    assert row["accuracy_hi"] - 0.75 == pytest.approx(1.959963984540054 * sd / math.sqrt(10))


def _row(cell, hidden, counts, acc=(0.8, 0.75, 0.85)):
    n = sum(counts.values())
    row = {"cell": cell, "status": "done", "hidden": hidden, "n_seeds": n,
           "accuracy_mean": acc[0], "accuracy_lo": acc[1], "accuracy_hi": acc[2]}
    for o, k in counts.items():
        lo, hi = wilson_interval(k, n)
        row.update({f"n_{o}": k, f"share_{o}": k / n, f"share_{o}_lo": lo, f"share_{o}_hi": hi})
    return row


def test_findings_call_a_change_only_when_the_interval_excludes_zero():
    spec = {"study": "lab", "grid": {"hidden": ["2", "6"]}, "seeds": 100, "first_seed": 0}
    rows = [_row("hidden=2", 2, {"distinct": 20, "duplicate": 10, "dead": 40, "other": 30}),
            _row("hidden=6", 6, {"distinct": 60, "duplicate": 12, "dead": 0, "other": 28}, (0.9, 0.88, 0.92)),
            {"cell": "hidden=9", "status": "failed", "error": "RuntimeError: boom", "hidden": 9}]
    f = sweep_findings(spec, rows)
    text = " ".join(f["grid"])
    assert "distinct rises from 20% (20 of 100; 95% CI 13%–29%) at hidden=2 to 60% (60 of 100" in text
    assert "dead falls from 40%" in text
    assert "cannot tell whether the share of seeds ending duplicate (10% vs 12%), other (30% vs 28%) changes" in text
    assert "duplicate rises" not in text and "other falls" not in text
    assert "highest at hidden=6: 90.0% (95% CI 88.0%–92.0%)" in f["accuracy"][0]
    assert "+10 points (95% CI +4.6 to +15), excludes zero" in f["accuracy"][0]
    assert f["failed"] and "hidden=9" in f["failed"][0]
    assert f["terms"][0].startswith("Each seed ends in one outcome: distinct:")


# ---- a sweep: failure, resume, index, report -----------------------------------------------------
def test_failed_cell_is_listed_and_retried_on_resume(tmp_path, monkeypatch):
    import nichelab.studies.lab.pipeline as pipeline
    real = pipeline.run_chunk

    def flaky(config, seeds, **kw):
        if config.hidden == 3:
            raise RuntimeError("simulated failure in hidden=3")
        return real(config, seeds, **kw)
    monkeypatch.setattr(pipeline, "run_chunk", flaky)
    out = tmp_path / "sw"
    grid = ["hidden=2,3", "epochs=2"]
    first = run_sweep("lab", grid, 3, out=out, workers=1)
    assert first.done == ["hidden-2_epochs-2"] and list(first.failed) == ["hidden-3_epochs-2"]
    assert "simulated failure" in first.failed["hidden-3_epochs-2"]
    cells = read_cells(out)
    bad = cells[cells.hidden == 3].iloc[0]
    assert bad.status == "failed" and "RuntimeError: simulated failure in hidden=3" in bad.error
    assert not (out / "cells" / "hidden-3_epochs-2").exists()
    assert [p.name for p in (out / "cells").iterdir() if p.is_dir()] == ["hidden-2_epochs-2"]
    report = (out / "report.html").read_text()
    assert "simulated failure in hidden=3" in report and "did not finish" in report
    assert 'href="glossary.html"' in report and (out / "glossary.html").is_file()   # the link resolves
    done = out / "cells" / "hidden-2_epochs-2" / "results.json"
    stamp = done.stat().st_mtime_ns

    monkeypatch.setattr(pipeline, "run_chunk", real)
    second = run_sweep("lab", grid, 3, out=out, workers=1)
    assert second.skipped == ["hidden-2_epochs-2"] and second.done == ["hidden-3_epochs-2"] and not second.failed
    assert done.stat().st_mtime_ns == stamp
    cells = read_cells(out)
    assert list(cells.status) == ["done", "done"] and list(cells.n_seeds) == [3, 3]
    r3 = json.loads((out / "cells" / "hidden-3_epochs-2" / "results.json").read_text())
    assert cells.iloc[1].n_distinct == r3["summary"]["outcome_counts"]["distinct"]
    assert r3["command"] == "nichelab run lab --hidden 3 --epochs 2 --seeds 3 --first-seed 0"
    index = [json.loads(l)["folder"] for l in (out / "cells" / "index.jsonl").read_text().splitlines()]
    assert sorted(index) == ["hidden-2_epochs-2", "hidden-3_epochs-2"]
    with pytest.raises(NichelabError, match="holds a different sweep"):
        run_sweep("lab", ["hidden=2,4", "epochs=2"], 3, out=out, workers=1)


def test_cli_sweep_errors_are_one_line_exit_2_and_write_nothing(tmp_path, monkeypatch):
    out = tmp_path / "sw"
    for args, words in ((["--grid", "hiden=2"], "did you mean 'hidden'"),
                        (["--grid", "lr=0"], "--grid cell lr=0: lr must be a finite number > 0"),
                        (["--address", "127.0.0.1:1"], "--address is for --backend ray"),
                        (["--chunk", "0"], "--chunk must be an integer >= 1")):
        res = runner.invoke(app, ["sweep", "lab", *args, "--seeds", "2", "--out", str(out)])
        assert res.exit_code == 2, res.output
        assert words in res.output and len(res.output.strip().splitlines()) == 1, res.output
        assert not out.exists()
    monkeypatch.setitem(sys.modules, "ray", None)
    res = runner.invoke(app, ["sweep", "lab", "--grid", "hidden=2", "--seeds", "2", "--backend", "ray",
                              "--out", str(out)])
    assert res.exit_code == 2 and "pip install 'nichelab[ray]'" in res.output and not out.exists()
    res = runner.invoke(app, ["sweep", "width", "--seeds", "2", "--out", str(out)])
    assert res.exit_code == 2 and "--grid is required for width" in res.output


def test_killed_sweep_resumes_and_pool_cells_equal_nichelab_run(tmp_path):
    """A sweep killed (SIGKILL) after its first cell resumes without redoing it; the process pool's
    chunked cell equals `nichelab run` of the same settings and seeds."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = tmp_path / "sw"
    cmd = [sys.executable, "-m", "nichelab", "sweep", "lab", "--grid", "hidden=2,3", "--grid", "epochs=3",
           "--seeds", "600", "--chunk", "256", "--workers", "2", "--out", str(out)]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and p.poll() is None:
            if (out / "cells").is_dir() and any(c.is_dir() and not c.name.startswith(".")
                                                for c in (out / "cells").iterdir()):
                break
            time.sleep(0.2)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=60)
    finished = sorted(c.name for c in (out / "cells").iterdir() if c.is_dir() and not c.name.startswith("."))
    assert finished and all((out / "cells" / c / "results.json").is_file() for c in finished)
    stamps = {c: (out / "cells" / c / "results.json").stat().st_mtime_ns for c in finished}
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert f"{len(finished)} already finished" in res.stderr
    assert {c: (out / "cells" / c / "results.json").stat().st_mtime_ns for c in finished} == stamps
    assert not [c for c in (out / "cells").iterdir() if c.name.startswith(".")]
    assert list(read_cells(out).status) == ["done", "done"]
    ref = tmp_path / "ref"
    res = subprocess.run([sys.executable, "-m", "nichelab", "run", "lab", "--hidden", "3", "--epochs", "3",
                          "--seeds", "600", "--out", str(ref)], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    same_run(out / "cells" / "hidden-3_epochs-3", ref)


def test_bad_seeds_name_the_flag_not_a_cell():
    with pytest.raises(NichelabError, match=r"^--first-seed must be an integer >= 0"):
        plan_cells("lab", parse_grid("lab", ["hidden=2"]), 3, first_seed=-1)
    with pytest.raises(NichelabError, match=r"^--seeds must be an integer >= 1"):
        plan_cells("lab", parse_grid("lab", ["hidden=2"]), 0)


def test_ctrl_c_during_a_sweep_prints_one_line(tmp_path):
    """SIGINT to the whole process group (as Ctrl-C or `timeout -s INT` sends it) while workers are
    starting or training: one 'interrupted' line, exit 130, no worker traceback."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = tmp_path / "sw"
    cmd = [sys.executable, "-m", "nichelab", "sweep", "lab", "--grid", "hidden=1,2,3", "--grid", "epochs=30",
           "--seeds", "20", "--workers", "2", "--out", str(out)]
    for delay in (3.0, 8.0):  # while workers import torch, and while they train
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        try:
            time.sleep(delay)
            os.killpg(p.pid, signal.SIGINT)
            _, err = p.communicate(timeout=120)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
        if p.returncode == 0:  # finished before the signal (a fast machine): nothing to check
            continue
        assert p.returncode == 130, err
        lines = [ln for ln in err.strip().splitlines() if not ln.startswith("[")]
        assert lines == ["interrupted: finished cells are kept; run the same command with the same --out "
                         "to resume"], err
        assert "Traceback" not in err
        shutil.rmtree(out, ignore_errors=True)


def test_only_studies_with_seeds_can_be_swept(tmp_path):
    res = runner.invoke(app, ["sweep", "nosuch", "--grid", "epochs=1", "--out", str(tmp_path / "a")])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1, res.output
    listed = res.output.split("(")[1].split(")")[0].split(", ")
    assert "lab" in listed and "analyze" not in listed and "compare" not in listed
    assert all("seeds" in {f.name for f in __import__("dataclasses").fields(STUDIES[n].Config)} for n in listed)
    res = runner.invoke(app, ["sweep", "analyze", "--grid", "epochs=1", "--out", str(tmp_path / "b")])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1, res.output
    assert "a study that trains seeds" in res.output and "'analyze'" in res.output
    assert "unexpected keyword" not in res.output and not (tmp_path / "b").exists()


def test_findings_describe_a_rise_then_fall_with_its_peak():
    """0% at hidden=1, 40% at hidden=2, 30% at hidden=3 (the user's sweep, scaled up): a peak at 2, not a
    rise 'from 0% to 30%'."""
    spec = {"study": "lab", "grid": {"hidden": ["1", "2", "3"]}, "seeds": 200, "first_seed": 0}
    rows = [_row("hidden=1", 1, {"distinct": 0, "duplicate": 0, "dead": 0, "other": 200}),
            _row("hidden=2", 2, {"distinct": 120, "duplicate": 40, "dead": 0, "other": 40}),
            _row("hidden=3", 3, {"distinct": 60, "duplicate": 60, "dead": 0, "other": 80})]
    text = " ".join(sweep_findings(spec, rows)["grid"])
    assert ("distinct rises from 0% (0 of 200; 95% CI 0.0%–1.9%) at hidden=1 to a peak of 60% (120 of 200; "
            "95% CI 53%–67%) at hidden=2, then falls to 30% (60 of 200") in text, text
    assert "distinct rises from 0% (0 of 200; 95% CI 0.0%–1.9%) at hidden=1 to 30%" not in text
    assert "other falls from 100% (200 of 200; 95% CI 98%–100%) at hidden=1 to a low of 20%" in text
    # a path that ends higher but not steadily says so and lists every value
    rows[2] = _row("hidden=3", 3, {"distinct": 100, "duplicate": 40, "dead": 0, "other": 60})
    rows[1] = _row("hidden=2", 2, {"distinct": 110, "duplicate": 30, "dead": 0, "other": 60})
    text = " ".join(sweep_findings(spec, rows)["grid"])
    assert "distinct rises from 0%" not in text or "to a peak" not in text
