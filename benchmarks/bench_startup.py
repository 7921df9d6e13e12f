"""How fast the library and the CLI start: ``import nichelab`` and ``nichelab --help``.

Target (issue "One shape for every study"): ``nichelab --help`` under 0.5 s (median of 5), and
``import nichelab`` imports no torch or matplotlib. Prints a table and saves
``benchmarks/results/startup.json``.
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

from _common import save

COMMANDS = {
    "nichelab --help": [shutil.which("nichelab") or "nichelab", "--help"],
    "nichelab run --help": [shutil.which("nichelab") or "nichelab", "run", "--help"],
    "nichelab run lab --help": [shutil.which("nichelab") or "nichelab", "run", "lab", "--help"],
    "python -c 'import nichelab'": [sys.executable, "-c", "import nichelab"],
}
HEAVY = ("torch", "matplotlib", "scipy", "sklearn")


def time_command(argv: list[str], repeats: int = 5) -> list[float]:
    """Wall-clock seconds of ``repeats`` runs of ``argv`` (after one warm-up run)."""
    subprocess.run(argv, check=True, capture_output=True)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return times


def heavy_modules_after_import() -> list[str]:
    code = ("import sys, nichelab, nichelab.cli; list(nichelab.STUDIES); "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()
    return [m for m in out.split(",") if m]


def main() -> None:
    rows = {}
    print(f"{'command':<32} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, argv in COMMANDS.items():
        t = time_command(argv)
        rows[name] = {"median_s": statistics.median(t), "min_s": min(t), "max_s": max(t), "runs": t}
        print(f"{name:<32} {rows[name]['median_s']:>9.3f} {min(t):>7.3f} {max(t):>7.3f}")
    heavy = heavy_modules_after_import()
    target = rows["nichelab --help"]["median_s"] < 0.5
    print(f"heavy modules imported by 'import nichelab, nichelab.cli': {heavy or 'none'}")
    print(f"target 'nichelab --help' < 0.5 s (median of 5): {'YES' if target else 'NO'}")
    path = save("startup", {"commands": rows, "heavy_modules_on_import": heavy, "help_under_0_5_s": target})
    print(f"saved {path}")


if __name__ == "__main__":
    main()
