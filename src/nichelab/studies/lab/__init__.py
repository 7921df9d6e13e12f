"""The multiclass-lab study: what each of the two ReLU units learns, and how often, over many seeds.

``run(LabConfig()) -> LabResult``. See REFERENCES.md, "The multiclass lab".
"""
from __future__ import annotations

import time

from ...data.blobs import load_blobs
from ...nn.models import build_model
from ...train.ensemble import train_ensemble, unstack
from .analysis import SeedAnalysis, analyse_seeds
from .config import OUTCOMES, LabConfig
from .result import LabResult

__all__ = ["LabConfig", "LabResult", "run", "OUTCOMES", "SeedAnalysis"]


def run(config: LabConfig | None = None, *, progress=None) -> LabResult:
    """Train ``config.seeds`` lab networks at once and measure every unit.

    Parameters
    ----------
    config : LabConfig, optional
        Defaults reproduce the lab (100 seeds).
    progress : callable (stage: str, done: int, total: int) -> None, optional

    Returns
    -------
    LabResult
    """
    cfg = config or LabConfig()
    data = load_blobs(cfg.samples)
    tcfg = cfg.train_config()
    t0 = time.perf_counter()
    ens = train_ensemble(lambda s: build_model(cfg.model_spec, (2,), 4, init=cfg.init, seed=s),
                         data.X, data.y, tcfg, cfg.seed_list,
                         progress=(lambda d, t: progress("training", d, t)) if progress else None)
    t1 = time.perf_counter()
    analysis = analyse_seeds(ens.seeds, ens.params, ens.snapshots[0], data.X, data.y, 4)
    show = cfg.seed_list.index(cfg.show_seed)
    snaps = {e: unstack(p, show) for e, p in ens.snapshots.items() if e in cfg.snapshot_epochs}
    return LabResult(cfg, data, ens, analysis, snaps,
                     {"training_s": t1 - t0, "analysis_s": time.perf_counter() - t1})
