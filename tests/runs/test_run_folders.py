"""Run folders: unique default names, clean errors on write failures, interrupts, orphan workers."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.runs.store import default_out

runner = CliRunner()
LAB = ["run", "lab", "--seeds", "2", "--epochs", "2"]


def test_default_out_is_unique_within_one_second(tmp_path):
    folders = [default_out("lab", tmp_path) for _ in range(5)]
    assert len({f.name for f in folders}) == 5 and all(f.is_dir() for f in folders)


def test_two_default_runs_started_together_both_land(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "nichelab", *LAB], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    runs = sorted(p for p in (tmp_path / "runs").iterdir() if p.is_dir())
    assert len(runs) == 2 and all((r / "results.json").is_file() for r in runs)
    index = (tmp_path / "runs" / "index.jsonl").read_text().splitlines()
    assert sorted(json.loads(l)["folder"] for l in index) == [r.name for r in runs]


def test_write_failure_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    import nichelab.runs.runner as runner_mod

    def full(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(runner_mod, "dumps", full)
    out = tmp_path / "run"
    res = runner.invoke(app, [*LAB, "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert "No space left on device" in res.output and "Traceback" not in res.output
    assert not out.exists() and not list(tmp_path.iterdir())


def test_interrupt_after_the_folder_is_complete_says_so(tmp_path, monkeypatch):
    import nichelab.reporting.terminal as terminal

    def ctrl_c(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(terminal, "print_summary", ctrl_c)
    out = tmp_path / "run"
    res = runner.invoke(app, [*LAB, "--out", str(out)])
    assert res.exit_code == 130
    assert "complete" in res.output and str(out) in res.output and "no run folder" not in res.output
    assert (out / "results.json").is_file()


def test_interrupt_before_the_folder_exists_says_nothing_was_written(tmp_path, monkeypatch):
    from nichelab.studies import STUDIES
    study = STUDIES["lab"]

    def ctrl_c(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(type(study), "run", ctrl_c)
    res = runner.invoke(app, [*LAB, "--out", str(tmp_path / "run")])
    assert res.exit_code == 130 and "no run folder was written" in res.output
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_figure_workers_die_with_their_parent(tmp_path):
    """SIGKILL of the process rendering figures leaves no worker process alive."""
    code = textwrap.dedent(f"""
        import os, time
        from nichelab.reporting.style import FigurePool
        pool = FigurePool(workers=2)
        futures = [pool.executor.submit(time.sleep, 60) for _ in range(2)]
        time.sleep(1.5)
        pids = [p.pid for p in pool.executor._processes.values()]
        open({str(tmp_path / 'pids')!r}, 'w').write(' '.join(map(str, pids)))
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code])
    pid_file = tmp_path / "pids"
    for _ in range(100):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        time.sleep(0.1)
    pids = [int(p) for p in pid_file.read_text().split()]
    assert pids
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.time() + 10
    alive = pids
    while alive and time.time() < deadline:
        time.sleep(0.2)
        alive = [p for p in pids if os.path.exists(f"/proc/{p}") and
                 "zombie" not in open(f"/proc/{p}/status").read().lower()]
    assert not alive, f"workers still alive: {alive}"
