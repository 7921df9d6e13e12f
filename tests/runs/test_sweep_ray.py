"""Sweeps on a real local Ray (2 CPUs, loopback, no dashboard, temp files under the test's folder).

Skipped with a reason when Ray is not installed, except in CI (CI=true), where the `ray` extra is
part of the test install and these tests must run.
"""
import json
import os
import shutil
import tempfile

import pytest

try:
    import ray
except ImportError:  # pragma: no cover - depends on the install
    ray = None

from nichelab.runs.sweep import read_cells, run_sweep

from .test_sweep import same_run

pytestmark = pytest.mark.skipif(ray is None and not os.environ.get("CI"),
                                reason="ray is not installed (pip install 'nichelab[ray]'); CI runs these")


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    base = tmp_path_factory.mktemp("r", numbered=True)
    # Ray's socket paths must stay under ~100 characters: use the test folder when it is short.
    tmp = str(base) if len(str(base)) <= 40 else tempfile.mkdtemp(prefix="nlr", dir="/tmp")
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=tmp, _node_ip_address="127.0.0.1",
             log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()
        if tmp != str(base):
            shutil.rmtree(tmp, ignore_errors=True)


def test_ray_chunked_and_whole_cells_equal_nichelab_run(local_ray, tmp_path):
    out = tmp_path / "sw"
    got = run_sweep("lab", ["hidden=2", "epochs=3", "lr=0.01,0.05"], 600, backend="ray", chunk=256, out=out)
    assert sorted(got.done) == ["hidden-2_epochs-3_lr-0.01", "hidden-2_epochs-3_lr-0.05"] and not got.failed
    whole = tmp_path / "whole"
    one = run_sweep("lab", ["hidden=2", "epochs=3", "lr=0.05"], 600, backend="ray", chunk=None, out=whole)
    assert one.done == ["hidden-2_epochs-3_lr-0.05"]
    from nichelab.runs.runner import execute
    ref = execute("lab", __import__("nichelab").studies.STUDIES["lab"].Config(
        hidden=2, epochs=3, lr=0.05, seeds=600), tmp_path / "ref", argv=["run", "lab"])
    same_run(out / "cells" / "hidden-2_epochs-3_lr-0.05", ref)       # 3 Ray chunks, merged
    same_run(whole / "cells" / "hidden-2_epochs-3_lr-0.05", ref)     # one Ray task
    cells = read_cells(out)
    data = json.loads((ref / "results.json").read_text())
    row = cells[cells.lr == 0.05].iloc[0]
    assert row.n_dead == data["summary"]["outcome_counts"]["dead"] and row.n_seeds == 600


def test_ray_resumes_after_a_killed_cell(local_ray, tmp_path):
    out = tmp_path / "sw"
    grid = ["hidden=2,3", "epochs=2"]
    first = run_sweep("lab", grid, 4, backend="ray", out=out)
    assert len(first.done) == 2
    keep = out / "cells" / "hidden-2_epochs-2" / "results.json"
    stamp = keep.stat().st_mtime_ns
    # what a sweep killed while writing hidden=3 leaves: no folder for the cell, a hidden partial one
    shutil.rmtree(out / "cells" / "hidden-3_epochs-2")
    partial = out / "cells" / ".hidden-3_epochs-2.partial-x1"
    partial.mkdir()
    (partial / "report.html").write_text("half")
    second = run_sweep("lab", grid, 4, backend="ray", out=out)
    assert second.skipped == ["hidden-2_epochs-2"] and second.done == ["hidden-3_epochs-2"]
    assert keep.stat().st_mtime_ns == stamp and not partial.exists()
    assert list(read_cells(out).status) == ["done", "done"]


def test_a_lost_ray_worker_is_retried(local_ray, tmp_path, monkeypatch):
    import nichelab.runs.sweep_backends as backends
    marker = str(tmp_path / "died-once")

    def die_once(study, config, command):
        import os as _os
        from nichelab.runs.sweep_tasks import run_cell
        if not _os.path.exists(marker):
            open(marker, "w").close()
            _os._exit(1)  # the worker process dies mid-cell
        return run_cell(study, config, command)
    monkeypatch.setattr(backends, "run_cell", die_once)
    got = run_sweep("lab", ["hidden=2", "epochs=2"], 3, backend="ray", out=tmp_path / "sw")
    assert os.path.exists(marker) and got.done == ["hidden-2_epochs-2"] and not got.failed


def test_a_failing_cell_on_ray_is_reported_not_retried(local_ray, tmp_path, monkeypatch):
    import nichelab.runs.sweep_backends as backends
    calls = tmp_path / "calls"
    calls.mkdir()

    def boom(study, config, command):
        import uuid
        open(os.path.join(str(calls), uuid.uuid4().hex), "w").close()
        raise RuntimeError(f"cell broke at hidden={config.hidden}")
    monkeypatch.setattr(backends, "run_cell", boom)
    out = tmp_path / "sw"
    got = run_sweep("lab", ["hidden=2", "epochs=2"], 3, backend="ray", out=out)
    assert got.failed == {"hidden-2_epochs-2": "RuntimeError: cell broke at hidden=2"}
    assert len(list(calls.iterdir())) == 1
    assert not (out / "cells" / "hidden-2_epochs-2").exists()
    assert read_cells(out).iloc[0].status == "failed"
