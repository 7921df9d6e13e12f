"""Run the lab study: train every seed at once, measure every unit, keep the numbers as a LabResult."""
from __future__ import annotations

import time
from dataclasses import dataclass, field, fields

import numpy as np

from ...data.blobs import load_blobs
from ...errors import NichelabError
from ...nn.models import build_model
from ...train.ensemble import train_ensemble, unstack
from . import findings as fx
from . import views
from .analysis import SeedAnalysis, analyse_seeds
from .config import ALL_OUTCOMES, DIVERGED, OUTCOMES, LabConfig
from .result import LabResult

__all__ = ["run", "run_chunk", "merge_chunks", "LabChunk"]


def run(config: LabConfig, *, progress=None) -> LabResult:
    """Train ``config.seeds`` lab networks at once and measure every unit.

    Follows the study protocol (:meth:`nichelab.studies.base.Study.run`): a :class:`LabConfig` in, a
    :class:`LabResult` out.
    """
    return merge_chunks(config, [run_chunk(config, config.seed_list, progress=progress)])


@dataclass
class LabChunk:
    """What training and measuring a subset of a lab run's seeds gives (see :func:`run_chunk`).

    Attributes
    ----------
    seeds : list of int
    params, initial : dict of str -> (S, ...) float32 — final and initial weights of these seeds.
    loss : (S, epochs) float64 — per-epoch training loss.
    snapshots : dict of int -> dict of str -> array — the shown seed's weights at the snapshot
        epochs (empty when the shown seed is not in this chunk).
    film : dict — every epoch's weights of this chunk's film candidates (:func:`views.film`).
    analysis : SeedAnalysis — the per-seed measurements.
    timings : dict of str -> float
    """

    seeds: list
    params: dict
    initial: dict
    loss: np.ndarray
    snapshots: dict
    analysis: SeedAnalysis
    timings: dict = field(default_factory=dict)
    film: dict = field(default_factory=dict)


def run_chunk(config: LabConfig, seeds, *, progress=None) -> LabChunk:
    """Train and measure the seeds ``seeds`` (a run of consecutive seeds of ``config.seed_list``).

    Every seed's numbers depend only on the seed and the settings, so
    ``merge_chunks(config, [run_chunk(config, part) for part in parts])`` equals ``run(config)``
    when the parts, in order, make up ``config.seed_list`` and each part starts at a multiple of
    256 seeds and holds at least 256 seeds (the last part: any size), which keeps every seed in the
    same lane of the vectorised training kernels as in the whole run (float rounding stays the same).
    """
    cfg = config
    seeds = [int(s) for s in seeds]
    data = load_blobs(cfg.samples)
    t0 = time.perf_counter()
    film = cfg.hidden <= views.FILM_MAX_UNITS  # record every epoch for the training film
    tcfg = cfg.train_config(snapshot_epochs=tuple(range(cfg.epochs + 1))) if film else cfg.train_config()
    ens = train_ensemble(lambda s: build_model(cfg.model_spec, (2,), 4, init=cfg.init, seed=s),
                         data.X, data.y, tcfg, seeds,
                         progress=(lambda d, t: progress("training", d, t)) if progress else None)
    t1 = time.perf_counter()
    a = analyse_seeds(ens.seeds, ens.params, ens.snapshots[0], data.X, data.y, 4, diverged=ens.diverged)
    snaps = {}
    if cfg.show_seed in seeds:
        show = seeds.index(cfg.show_seed)
        snaps = {e: unstack(p, show) for e, p in ens.snapshots.items() if e in cfg.snapshot_epochs}
    return LabChunk(seeds, dict(ens.params), dict(ens.snapshots[0]), ens.loss, snaps, a,
                    {"training_s": t1 - t0, "analysis_s": time.perf_counter() - t1},
                    film=_chunk_film(a, ens, seeds, data, cfg) if film else {})


def merge_chunks(config: LabConfig, chunks: list) -> LabResult:
    """The LabResult of ``config`` from :class:`LabChunk` s covering ``config.seed_list`` in order.

    Per-seed arrays and records are concatenated; the summary, findings and views are computed
    from the merged measurements, as :func:`run` does. Timings add up over the chunks.

    Raises
    ------
    NichelabError
        The chunks' seeds are not ``config.seed_list`` in order.
    """
    cfg = config
    if [s for c in chunks for s in c.seeds] != cfg.seed_list:
        raise NichelabError(f"the chunks' seeds must be the config's seeds {cfg.first_seed}.."
                            f"{cfg.first_seed + cfg.seeds - 1} in order")
    data = load_blobs(cfg.samples)
    cat = (lambda f: f(chunks[0])) if len(chunks) == 1 else (lambda f: _concat([f(c) for c in chunks]))
    a = SeedAnalysis(**{k.name: cat(lambda c, n=k.name: getattr(c.analysis, n)) for k in fields(SeedAnalysis)})
    params, initial, loss = cat(lambda c: c.params), cat(lambda c: c.initial), cat(lambda c: c.loss)
    snaps = next(c.snapshots for c in chunks if cfg.show_seed in c.seeds)
    t1 = time.perf_counter()
    film = _merge_films(chunks, a, cfg)
    why = _choose_shown(cfg, a, film)
    if why:  # the shown seed was chosen by the run: its snapshots come from the film (every epoch recorded)
        snaps = _film_snapshots(film, cfg)
    show = cfg.seed_list.index(cfg.show_seed)
    clock: dict = {}
    mech = _mechanism(a, params, initial, film, data, cfg, clock)
    result = LabResult(
        config=cfg, seeds=cfg.seed_list,
        data={"name": data.name, "n_samples": len(data), **data.meta, "X": data.X, "y": data.y},
        summary=_summary(a, cfg), per_seed=_records(a, loss), findings=_findings(a, mech, cfg),
        loss_curves=loss, views=_views(a, params, loss, snaps, show, cfg),
        mechanism=mech, params=params, initial=initial, film=film,
        timings={k: sum(c.timings.get(k, 0.0) for c in chunks) for k in ("training_s", "analysis_s")})
    result.views["shown"]["why"] = why or ("chosen with --show-seed" if not getattr(cfg, "_auto_show", False) else
                                           "the first seed (no seed ended distinct after its splits changed)")
    # the niche-exclusion experiment trains 2 x exclusion_restarts networks: training, not analysis
    result.timings["exclusion_training_s"] = clock.get("exclusion_training_s", 0.0)
    result.timings["analysis_s"] += time.perf_counter() - t1 - result.timings["exclusion_training_s"]
    return result


def _changed(a: SeedAnalysis) -> np.ndarray:
    """(S,) bool: some live unit's final split differs from its split at initialisation."""
    from ...metrics.partitions import split_key
    return np.array([any(not a.dead[s, h] and split_key(a.init_active[s, h]) != a.splits[s][h]
                         for h in range(a.dead.shape[1])) for s in range(len(a.seeds))], dtype=bool)


def _choose_shown(cfg: LabConfig, a: SeedAnalysis, film: dict) -> str:
    """When the user gave no --show-seed: show the first distinct seed whose splits change (in words why; "" if not)."""
    if not getattr(cfg, "_auto_show", False) or not film:
        return ""
    s = views.changing_seed(a.seeds, a.outcome, _changed(a))
    if s < 0 or s not in [int(x) for x in film["seeds"]]:
        return ""
    cfg.show_seed = s
    i = [int(x) for x in a.seeds].index(s)
    moved = [f"L1:{h} from {fx.split_key_of(a.init_active[i, h])} to {a.splits[i][h]}"
             for h in range(a.dead.shape[1]) if fx.split_key_of(a.init_active[i, h]) != a.splits[i][h]]
    return (f"the first seed that ended distinct after its units' splits changed during training "
            f"({'; '.join(moved)}), so the film shows the lines move into their niches")


def _film_snapshots(film: dict, cfg: LabConfig) -> dict:
    """The shown seed's weights at the snapshot epochs, from the film."""
    f = [int(s) for s in film["seeds"]].index(cfg.show_seed)
    ep = [int(e) for e in film["epochs"]]
    names = {"L1.linear.weight": "W1", "L1.linear.bias": "b1", "L2.linear.weight": "W2", "L2.linear.bias": "b2"}
    return {e: {k: np.asarray(film[v][f, ep.index(e)]) for k, v in names.items()} for e in cfg.snapshot_epochs if e in ep}


def _concat(parts: list):
    """Concatenate per-seed values along the seed axis: arrays, lists, or dicts of arrays."""
    first = parts[0]
    if isinstance(first, dict):
        return {k: np.concatenate([p[k] for p in parts]) for k in first}
    if isinstance(first, list):
        return [x for p in parts for x in p]
    return np.concatenate(parts)


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
    """Outcome counts and shares over all seeds (``diverged`` included); every other number over
    the seeds that did not diverge."""
    counts = fx.outcome_counts(a)
    shares = {o: counts[o] / len(a.seeds) for o in ALL_OUTCOMES}
    a = a.kept()
    acc = {o: float(np.median(a.accuracy[[i for i, x in enumerate(a.outcome) if x == o]]))
           for o in OUTCOMES if counts[o]}
    return {"outcome_counts": counts, "outcome_shares": shares, "diverged_seeds": counts[DIVERGED],
            "split_shares": dict(fx.split_frequencies(a)), "median_accuracy_by_outcome": acc,
            "lab_story_share": fx.lab_story_share(a) if cfg.hidden == 2 else None,
            "kept_initial_split_share": fx.keep_initial_split(a),
            "distinct_share_by_initial_splits": {k: {"share_distinct": v[0], "n_seeds": v[1]}
                                                 for k, v in fx.initial_relation(a).items()},
            "mean_accuracy": float(a.accuracy.mean()) if len(a.seeds) else float("nan")}


def _findings(a: SeedAnalysis, mech: dict | None = None, cfg: LabConfig | None = None) -> dict:
    out = {"niches": fx.answer_niches(a), "origin": fx.answer_origin(a), "failures": fx.answer_failures(a)}
    mech = mech or {}
    out["exclusion"] = fx.answer_exclusion(mech.get("exclusion") or {}, cfg)
    out["pull"] = fx.answer_pull(mech.get("pull") or {})
    out["short"] = fx.short_answer(a, mech.get("exclusion") or {})
    return out


def _mechanism(a: SeedAnalysis, params: dict, initial: dict, film: dict, data, cfg: LabConfig,
               clock: dict | None = None) -> dict:
    """Why the units take different niches: niche exclusion and who pulls each unit (:mod:`.mechanism`).
    The seconds spent training the exclusion networks go to ``clock["exclusion_training_s"]``."""
    from collections import Counter

    from . import mechanism as mx
    out: dict = {"exclusion": {}, "pull": {}}
    if cfg.hidden == 2 and cfg.exclusion_restarts > 0:
        ref = mx.reference_seed(a.seeds, a.outcome, cfg.show_seed)
        if ref >= 0:
            t0 = time.perf_counter()
            ex = mx.niche_exclusion(unstack(params, list(map(int, a.seeds)).index(ref)), data.X, data.y,
                                    restarts=cfg.exclusion_restarts, epochs=cfg.epochs, lr=cfg.lr,
                                    batch_size=cfg.batch_size, optimizer=cfg.optimizer, seed=ref)
            if clock is not None:
                clock["exclusion_training_s"] = time.perf_counter() - t0
            for k in ("with_partner", "silenced"):
                ex[k]["split_counts"] = dict(Counter(ex[k].pop("splits")).most_common())
            out["exclusion"] = {"reference_seed": ref, **ex}
    # who pulls each unit: every seed at epoch 0, and the shown seed at every recorded epoch
    pull0 = mx.class_pull(initial["L1.linear.weight"], initial["L1.linear.bias"], initial["L2.linear.weight"],
                          initial["L2.linear.bias"], data.X, data.y)
    live = ~a.dead & ~a.diverged[:, None] & np.isfinite(pull0).all(axis=2)
    top = pull0.argmax(axis=2)
    on_active = np.take_along_axis(a.active, top[..., None], axis=2)[..., 0]
    pull = {"epoch0_top_class": top, "epoch0_live": live, "epoch0_top_on_active": int((on_active & live).sum()),
            "epoch0_units": int(live.sum())}
    if film and cfg.show_seed in [int(s) for s in film["seeds"]]:
        f = [int(s) for s in film["seeds"]].index(cfg.show_seed)
        pull.update(seed=int(cfg.show_seed), epochs=np.asarray(film["epochs"]),
                    norm=mx.class_pull(film["W1"][f], film["b1"][f], film["W2"][f], film["b2"][f], data.X, data.y))
    out["pull"] = pull
    return out


def _chunk_film(a: SeedAnalysis, ens, seeds: list[int], data, cfg: LabConfig) -> dict:
    """The film of this chunk's candidates: its shown seed and first seeds of each outcome."""
    chosen = views.film_seeds(seeds, a.outcome, cfg.show_seed, extra=[views.changing_seed(seeds, a.outcome, _changed(a))])
    return views.film(ens.snapshots, [seeds.index(s) for s in chosen], chosen, ens.loss, data.X, data.y)


def _merge_films(chunks: list, a: SeedAnalysis, cfg: LabConfig) -> dict:
    """The run's film seeds (chosen over all seeds) gathered from the chunks' candidates."""
    films = [c.film for c in chunks if c.film]
    if not films:
        return {}
    keep = views.film_seeds(cfg.seed_list, a.outcome, cfg.show_seed,
                            extra=[views.changing_seed(cfg.seed_list, a.outcome, _changed(a))])
    seeds = np.concatenate([f["seeds"] for f in films])
    rows = [int(np.flatnonzero(seeds == s)[0]) for s in keep]
    out = {k: np.concatenate([f[k] for f in films])[rows] for k in films[0] if k != "epochs"}
    out["epochs"] = films[0]["epochs"]
    return out


def _views(a: SeedAnalysis, params: dict, loss: np.ndarray, snaps: dict, show: int, cfg: LabConfig) -> dict:
    shown = views.seed_view(unstack(params, show), cfg.show_seed, a.outcome[show], diverged=bool(a.diverged[show]))
    shown["snapshots"] = {int(e): views.lines(w) for e, w in snaps.items()}
    examples = []
    for o in OUTCOMES:
        idx = [i for i, x in enumerate(a.outcome) if x == o]
        if idx:
            examples.append(views.seed_view(unstack(params, idx[0]), int(a.seeds[idx[0]]), o))
    counts = fx.outcome_counts(a)
    return {"shown": shown, "examples": examples, "loss_bands": views.loss_bands(loss, a.outcome, OUTCOMES),
            "initial_angle_deg": a.init_angle, "outcome": list(a.outcome), "accuracy": a.accuracy,
            "outcome_shares": views.share_rows(counts.items(), len(a.seeds), "outcome"),
            "split_shares": views.share_rows(*fx.split_counts(a.kept()), "split")}
