"""Run the lab study: train every seed at once, measure every unit, keep the numbers as a LabResult."""
from __future__ import annotations

import time

import numpy as np

from ...data.blobs import load_blobs
from ...nn.models import build_model
from ...train.ensemble import train_ensemble, unstack
from . import findings as fx
from . import views
from .analysis import SeedAnalysis, analyse_seeds
from .config import OUTCOMES, LabConfig
from .result import LabResult

__all__ = ["run"]


def run(config: LabConfig, *, progress=None) -> LabResult:
    """Train ``config.seeds`` lab networks at once and measure every unit.

    Parameters
    ----------
    config : LabConfig
    progress : callable (stage: str, done: int, total: int) -> None, optional

    Returns
    -------
    LabResult
    """
    cfg = config
    data = load_blobs(cfg.samples)
    t0 = time.perf_counter()
    film = cfg.hidden <= views.FILM_MAX_UNITS  # record every epoch for the training film
    tcfg = cfg.train_config(snapshot_epochs=tuple(range(cfg.epochs + 1))) if film else cfg.train_config()
    ens = train_ensemble(lambda s: build_model(cfg.model_spec, (2,), 4, init=cfg.init, seed=s),
                         data.X, data.y, tcfg, cfg.seed_list,
                         progress=(lambda d, t: progress("training", d, t)) if progress else None)
    t1 = time.perf_counter()
    a = analyse_seeds(ens.seeds, ens.params, ens.snapshots[0], data.X, data.y, 4)
    show = cfg.seed_list.index(cfg.show_seed)
    snaps = {e: unstack(p, show) for e, p in ens.snapshots.items() if e in cfg.snapshot_epochs}
    result = LabResult(
        config=cfg, seeds=cfg.seed_list,
        data={"name": data.name, "n_samples": len(data), **data.meta, "X": data.X, "y": data.y},
        summary=_summary(a, cfg), per_seed=_records(a, ens.loss), findings=_findings(a),
        loss_curves=ens.loss, views=_views(a, ens, snaps, show, cfg),
        params=dict(ens.params), initial=dict(ens.snapshots[0]),
        film=_film(a, ens, data, cfg) if film else {},
        timings={"training_s": t1 - t0, "analysis_s": time.perf_counter() - t1})
    return result


def _records(a: SeedAnalysis, loss: np.ndarray) -> list[dict]:
    H = a.active.shape[1]
    return [{
        "seed": int(a.seeds[i]), "loss": float(a.loss[i]), "accuracy": float(a.accuracy[i]),
        "outcome": a.outcome[i], "class_accuracy": a.recall[i].tolist(),
        "initial_angle_deg": float(a.init_angle[i]),
        "final_train_loss": float(loss[i, -1]) if loss.shape[1] else None,
        "description": "; ".join(fx.describe_seed(a, i)),
        "units": [{"name": f"L1:{h}", "active_classes": np.flatnonzero(a.active[i, h]).tolist(),
                   "silent_classes": np.flatnonzero(~a.active[i, h]).tolist(), "split": a.splits[i][h],
                   "dead": bool(a.dead[i, h]),
                   "initial_active_classes": np.flatnonzero(a.init_active[i, h]).tolist()}
                  for h in range(H)],
    } for i in range(len(a.seeds))]


def _summary(a: SeedAnalysis, cfg: LabConfig) -> dict:
    counts = fx.outcome_counts(a)
    acc = {o: float(np.median(a.accuracy[[i for i, x in enumerate(a.outcome) if x == o]]))
           for o in OUTCOMES if counts[o]}
    return {"outcome_counts": counts, "outcome_shares": {o: counts[o] / len(a.seeds) for o in OUTCOMES},
            "split_shares": dict(fx.split_frequencies(a)), "median_accuracy_by_outcome": acc,
            "lab_story_share": fx.lab_story_share(a) if cfg.hidden == 2 else None,
            "kept_initial_split_share": fx.keep_initial_split(a),
            "distinct_share_by_initial_splits": {k: {"share_distinct": v[0], "n_seeds": v[1]}
                                                 for k, v in fx.initial_relation(a).items()},
            "mean_accuracy": float(a.accuracy.mean())}


def _findings(a: SeedAnalysis) -> dict:
    return {"niches": fx.answer_niches(a), "origin": fx.answer_origin(a), "failures": fx.answer_failures(a)}


def _film(a: SeedAnalysis, ens, data, cfg: LabConfig) -> dict:
    seeds = views.film_seeds(cfg.seed_list, a.outcome, cfg.show_seed)
    return views.film(ens.snapshots, [cfg.seed_list.index(s) for s in seeds], seeds, ens.loss, data.X, data.y)


def _views(a: SeedAnalysis, ens, snaps: dict, show: int, cfg: LabConfig) -> dict:
    shown = views.seed_view(unstack(ens.params, show), cfg.show_seed, a.outcome[show])
    shown["snapshots"] = {int(e): views.lines(w) for e, w in snaps.items()}
    examples = []
    for o in OUTCOMES:
        idx = [i for i, x in enumerate(a.outcome) if x == o]
        if idx:
            examples.append(views.seed_view(unstack(ens.params, idx[0]), int(a.seeds[idx[0]]), o))
    return {"shown": shown, "examples": examples, "loss_bands": views.loss_bands(ens.loss, a.outcome, OUTCOMES),
            "initial_angle_deg": a.init_angle, "outcome": list(a.outcome), "accuracy": a.accuracy}
