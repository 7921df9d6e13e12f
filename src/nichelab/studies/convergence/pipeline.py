"""Run the convergence study: train every seed at once, capture every layer on held-out samples,
compare every ordered pair of seeds, and keep the numbers as a ConvergenceResult."""
from __future__ import annotations

import time
from contextlib import nullcontext

import numpy as np

from ...capture import capture
from ...data.base import Dataset
from ...data.loaders import load_dataset
from ...data.split import stratified_indices
from ...errors import NichelabError
from ...nn.models import build_model
from ...nn.spec import ModelSpec, parse_spec
from ...train.divergence import RULE as DIVERGENCE_RULE, left_out
from ...train.ensemble import ensemble_forward, train_ensemble
from . import findings as fx
from . import views
from .analysis import ConvergenceAnalysis, analyse, layer_summaries, unit_census
from .config import ConvergenceConfig
from .measures import DISTANCES
from .result import ConvergenceResult

__all__ = ["run", "load_data", "split", "model_spec"]


def model_spec(cfg: ConvergenceConfig) -> ModelSpec:
    """The parsed ``cfg.model`` (:func:`~nichelab.nn.spec.parse_spec`'s NichelabError names the field ``model``)."""
    return parse_spec(cfg.model)


def load_data(cfg: ConvergenceConfig) -> Dataset:
    """The study's dataset, as images when the model is a cnn."""
    return load_dataset(cfg.dataset, images=model_spec(cfg).kind == "cnn")


def split(data: Dataset, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train / test row indices (sorted, disjoint), the same for every network.

    :func:`nichelab.data.split.stratified_indices` (scikit-learn's stratified split,
    ``random_state=seed``).

    Raises
    ------
    NichelabError
        A class too small to appear on both sides.
    """
    return stratified_indices(data.y, test_fraction, seed)


def _blas_threads(n: int | None):
    if n is None:
        return nullcontext()
    from threadpoolctl import threadpool_limits
    return threadpool_limits(n)


def run(config: ConvergenceConfig, *, progress=None) -> ConvergenceResult:
    """Train ``config.seeds`` networks at once and compare every pair, layer by layer and unit by unit.

    Defaults: 5 seeds of ``mlp 64-64-64-64`` on digits (30% held out for measuring).

    Follows the study protocol (:meth:`nichelab.studies.base.Study.run`): a :class:`ConvergenceConfig` in, a
    :class:`ConvergenceResult` out.

    Raises
    ------
    NichelabError
        A model that is not a spec or does not fit the data (checked before training).
    """
    cfg = config
    tick = progress or (lambda *a: None)
    spec = model_spec(cfg)
    data = load_data(cfg)
    tr, te = split(data, cfg.test_fraction, cfg.split_seed)

    def build(s: int):
        return build_model(spec, data.input_shape, data.n_classes, init=cfg.init, seed=s)

    build(cfg.first_seed)  # rejects a cnn on vector data before training
    t0 = time.perf_counter()
    ens = train_ensemble(build, data.X[tr], data.y[tr], cfg.train_config(), cfg.seed_list,
                         progress=lambda d, t: tick("training", d, t))
    t1 = time.perf_counter()
    with _blas_threads(cfg.threads):
        keep, acts_test = _trained_seeds(ens, data.X[te], cfg)
        trained = [ens.model(i) for i in keep]
        untrained = [ens.model(i, ens.snapshots[0]) for i in keep]
        layers = list(trained[0].hidden) + [trained[0].output]
        acts_train = [capture(m, data.X[tr], layers=layers, reduce="mean") for m in trained]
        acts_init = [capture(m, data.X[te], layers=layers, reduce="mean") for m in untrained]
        tick("capture", 1, 1)
        t2 = time.perf_counter()
        a = analyse(acts_test, acts_train, acts_init, layers, cfg.measures, debiased=cfg.debiased,
                    threshold_high=cfg.threshold_high, threshold_low=cfg.threshold_low, progress=tick)
        summaries = layer_summaries(a, threshold_high=cfg.threshold_high, threshold_low=cfg.threshold_low,
                                    majority=cfg.majority, subspace_high=cfg.subspace_high)
        logits = ensemble_forward(ens.template, {k: v[keep] for k, v in ens.params.items()}, data.X[te])
        accuracy = (logits.argmax(axis=2) == data.y[te][None, :]).mean(axis=1)
        seeds = [int(ens.seeds[i]) for i in keep]
        diverged = [int(s) for s, bad in zip(ens.seeds, ens.diverged) if bad]
        census = {i: {n: unit_census(a, i, n, cfg.threshold_high, cfg.threshold_low) for n in a.layers}
                  for i in range(len(seeds))}
        final_loss = ens.loss[keep, -1].tolist() if ens.loss.shape[1] else []
        result = ConvergenceResult(
            config=cfg, seeds=seeds,
            data={"name": data.name, "n_samples": len(data), "n_train": len(tr), "n_test": len(te),
                  "input_shape": list(data.input_shape), "class_names": list(data.class_names),
                  "test_indices": te.tolist()},
            model={"spec": str(spec), "layers": a.layers, "widths": a.widths, "output_layer": a.layers[-1]},
            accuracy={"test": dict(zip(map(str, seeds), accuracy.tolist())),
                      "final_train_loss": dict(zip(map(str, seeds), final_loss))},
            answer=fx.overall_answer(summaries),
            verdicts={s["layer"]: s["verdict"] for s in summaries},
            layers=summaries, identification=_identification(a),
            similarity={m: {"mean": a.cross_mean(m), "pairs": _pairs(a, v, seeds)} for m, v in a.similarity.items()},
            within_seed_linear_cka={"mean": a.within.mean(axis=0), "per_seed": dict(zip(map(str, seeds), a.within))},
            baseline_untrained={"linear_cka": dict(zip(a.layers, a.baseline_cka.mean(axis=0).tolist())),
                                "matched_mean": {s["layer"]: s["baseline_matched_mean"] for s in summaries}},
            units=_census_json(census, seeds),
            findings=_findings(summaries, a, cfg, census[0], diverged), notes=list(a.notes),
            diverged_seeds=diverged,
            views=_views(a, summaries, acts_test, seeds, cfg),
            params=dict(ens.params), initial=dict(ens.snapshots[0]),
            timings={"training_s": t1 - t0, "capture_s": t2 - t1})
    result.timings["analysis_s"] = time.perf_counter() - t2
    return result


def _identification(a: ConvergenceAnalysis) -> dict:
    """Per measure: overall accuracy, per-layer accuracy, chance level."""
    return {m: {"accuracy": float(v.mean()), "per_layer": dict(zip(a.layers, v.mean(axis=0).tolist())),
                "chance": 1.0 / len(a.layers), "lower_is_better": m in DISTANCES}
            for m, v in a.identified.items()}


def _pairs(a: ConvergenceAnalysis, m: np.ndarray, seeds: list[int]) -> list[dict]:
    return [{"seed_a": seeds[i], "seed_b": seeds[j], "matrix": m[p]} for p, (i, j) in enumerate(a.pairs)]


def _census_json(census: dict, seeds: list[int]) -> dict:
    """Every seed's unit census, the other seeds named by seed value (not index)."""
    out = {}
    for i, cen in census.items():
        layers = {}
        for name, units in cen.items():
            layers[name] = [{**u, "matched": {str(seeds[j]): v for j, v in u["matched"].items()},
                             "partner": {str(seeds[j]): v for j, v in u["partner"].items()}} for u in units]
        out[str(seeds[i])] = layers
    return out


def _trained_seeds(ens, X: np.ndarray, cfg: ConvergenceConfig) -> tuple[list[int], list[dict]]:
    """Indices of the seeds that did not diverge and their captured test activations.

    A seed is left out when ``ens.diverged`` marks it or its activations are not finite (the
    one rule of :mod:`nichelab.train.divergence`); ``ens.diverged`` is updated to match.

    Raises
    ------
    NichelabError
        Fewer than 2 seeds trained without diverging (nothing to compare).
    """
    keep, acts = [], []
    for i in range(len(ens.seeds)):
        if ens.diverged[i]:
            continue
        m = ens.model(i)
        with np.errstate(all="ignore"):
            a = capture(m, X, layers=list(m.hidden) + [m.output], reduce="mean")
        if all(np.isfinite(v).all() for v in a.values()):
            keep.append(i)
            acts.append(a)
        else:
            ens.diverged[i] = True
    if len(keep) < 2:
        raise NichelabError(
            f"{int(ens.diverged.sum())} of {len(ens.seeds)} seeds diverged ({DIVERGENCE_RULE}); convergence "
            f"compares seeds and needs at least 2 that trained: try a smaller --lr (got {cfg.lr:g})")
    return keep, acts


def _findings(s: list[dict], a: ConvergenceAnalysis, cfg: ConvergenceConfig, first_census: dict,
              diverged: list[int]) -> dict:
    note = left_out(len(diverged), cfg.seeds)
    short = fx.answer_short(s, a, cfg)
    return {"short": ([note] if note else []) + short, "subspace": fx.answer_subspace(s, a, cfg),
            "units": fx.answer_units(s, a, cfg), "which_layers": fx.answer_which_layers(s),
            "identification": fx.answer_identification(a, cfg),
            "counterparts_first_seed": fx.counterpart_lists(first_census, cfg.seeds - len(diverged) - 1),
            "thresholds": fx.thresholds_note(cfg)}


def _views(a: ConvergenceAnalysis, summaries: list[dict], acts: list[dict], seeds: list[int], cfg) -> dict:
    """Figure-ready numbers: pooled unit agreement, unit shares, matching matrices, heatmap marks."""
    return {
        "unit_distributions": views.unit_distributions(a),
        "unit_shares": views.unit_shares(summaries),
        "matching": views.matching_panels(a, acts, seeds, pair=0),
        "heatmap_best": views.heatmap_best(a),
        "layer_pairs": views.layer_pair_matches(a, acts, seeds, 0, cfg.threshold_high, cfg.threshold_low),
    }
