"""Run the analyze study: load or train the model, measure every unit, keep the numbers as an AnalyzeResult."""
from __future__ import annotations

import contextlib
import time

import numpy as np

from ...capture import capture
from ...errors import NichelabError
from ...interventions.ablation import ablate_units
from ...train.config import threads
from ..codec import to_data
from . import findings as fx
from . import records, views
from .census import LayerCensus, census_layer, probe_layer
from .config import MAX_PROBE_FEATURES, AnalyzeConfig
from .prepare import Subject, first_layer_weights, forward_logits, image_shape, prepare, restore_modes, stratified_subset
from .result import AnalyzeResult

__all__ = ["run"]

_CAPTURE_BATCH = 256
_ABLATION_BATCH = 1024
#: Models with fewer parameters are captured and ablated on one torch thread: their many small forward
#: passes gain little from threads and, on a busy machine, lose a lot (784-256-256-10, ablation of 512
#: units on 2,000 samples, 2 busy cores: 2.4 s on one thread, 10 s on two).
_SMALL_MODEL = 1_000_000


def _threads(subject: Subject):
    """One torch thread for small models (see ``_SMALL_MODEL``), torch's own setting otherwise."""
    small = sum(p.numel() for p in subject.module.parameters()) < _SMALL_MODEL
    return threads(1) if small else contextlib.nullcontext()


def _raw_shapes(subject: Subject, X: np.ndarray) -> dict[str, tuple]:
    """One sample's output shape of every analysed layer (a capture of a few samples, unreduced)."""
    acts = capture(subject.module, X[: min(len(X), 4)], subject.layers, fixed_batch=subject.fixed_batch)
    return {k: tuple(int(s) for s in v.shape[1:]) for k, v in acts.items()}


def _probe_maps(subject: Subject, X: np.ndarray, raw: dict[str, tuple]) -> dict[str, np.ndarray]:
    """Unreduced outputs of the conv layers small enough to probe whole: {key: (n, C*H*W)}.

    A probe on the spatial mean of each channel would miss what the layer knows about *where*
    things are; maps larger than ``MAX_PROBE_FEATURES`` values are probed on the reduction instead.
    """
    keys = [k for k, s in raw.items() if len(s) > 1 and int(np.prod(s)) <= MAX_PROBE_FEATURES]
    if not keys:
        return {}
    names = list(dict.fromkeys(k.split("#")[0] for k in keys))
    acts = capture(subject.module, X, names, batch_size=_CAPTURE_BATCH, fixed_batch=subject.fixed_batch)
    return {k: acts[k].reshape(len(X), -1) for k in keys if k in acts}


def _ablate(subject: Subject, cfg: AnalyzeConfig, layers: list, X: np.ndarray, y: np.ndarray,
            progress) -> tuple[np.ndarray, list[str]]:
    """Single-unit ablation of every layer on a stratified subset; returns the subset's positions and notes."""
    notes = []
    if not cfg.ablation:
        for lc in layers:
            lc.ablation_note = "not run (ablation off)"
        return np.arange(0), notes
    if not subject.classifier:
        for lc in layers:
            lc.ablation_note = "not run: the model's outputs are not logits over the data's classes"
        return np.arange(0), notes
    pos = stratified_subset(np.arange(len(y)), y, cfg.ablation_samples, cfg.seed)
    batch = _ABLATION_BATCH
    if subject.fixed_batch:
        batch = subject.fixed_batch
        usable = (len(pos) // batch) * batch
        if usable == 0:
            for lc in layers:
                lc.ablation_note = (f"not run: the exported program accepts only batches of {batch} samples and "
                                    f"there are {len(pos)}; re-export it with a dynamic batch dimension")
            return np.arange(0), notes
        if usable < len(pos):
            notes.append(f"The exported program accepts only batches of {batch}: ablation used {usable} of "
                         f"{len(pos)} samples (a multiple of {batch}).")
            pos = stratified_subset(pos, y, usable, cfg.seed)
    for i, lc in enumerate(layers):
        if progress:
            progress("ablation", i, len(layers))
        if "#" in lc.name:
            lc.ablation_note = ("not run separately: this module runs several times per forward pass and ablation "
                                f"clamps every call; see {lc.name.split('#')[0]!r}")
            continue
        with _threads(subject):
            lc.ablation = ablate_units(subject.module, lc.name, X[pos], y[pos], mode=cfg.ablation_mode,
                                       batch_size=batch)
    if progress:
        progress("ablation", len(layers), len(layers))
    return pos, notes


def run(config: AnalyzeConfig, *, progress=None) -> AnalyzeResult:
    """Train (built-in spec) or load the model, then measure every unit of every chosen layer.

    Steps: load and check the data and the model (:func:`~.prepare.prepare`); capture the layers on
    the analysed samples (conv channels reduced by ``config.reduce`` over space); per layer: dead
    units, class means, selectivity, near-duplicate groups, participation ratio, top examples and a
    linear probe; single-unit ablation on at most ``config.ablation_samples`` samples.

    Parameters
    ----------
    config : AnalyzeConfig
    progress : callable (stage: str, done: int, total: int) -> None, optional

    Returns
    -------
    AnalyzeResult

    Raises
    ------
    NichelabError
        Any bad input (see :func:`nichelab.studies.analyze.prepare.prepare`); raised before
        anything is written.
    """
    with restore_modes(config.model):
        return _run(config, progress)


def _run(cfg: AnalyzeConfig, progress) -> AnalyzeResult:
    t0 = time.perf_counter()
    subject = prepare(cfg, progress)
    t_prep = time.perf_counter()
    data = subject.data
    X, y = data.X[subject.census_idx], data.y[subject.census_idx]
    if len(np.unique(y)) < 2:
        raise NichelabError(f"the analysed samples hold a single class ({data.class_names[int(y[0])]!r}); "
                            "give more samples of each class")
    with _threads(subject):
        raw = _raw_shapes(subject, X)
        acts = capture(subject.module, X, subject.layers, batch_size=_CAPTURE_BATCH, reduce=cfg.reduce,
                       fixed_batch=subject.fixed_batch)
        maps = _probe_maps(subject, X, raw)
        logits = forward_logits(subject.module, X, fixed_batch=subject.fixed_batch) if subject.classifier else None
    t_cap = time.perf_counter()
    layers = []
    for i, (name, a) in enumerate(acts.items()):
        if progress:
            progress("census", i, len(acts))
        lc = census_layer(name, a, y, data.n_classes, raw_shape=raw.get(name, a.shape[1:]),
                          module_type=subject.layer_types.get(name.split("#")[0], "?"), reduce=cfg.reduce,
                          threshold=cfg.threshold, k=cfg.top_k)
        if name in maps:
            lc.probe, lc.probe_note = probe_layer(maps.pop(name), y, cfg.seed)
            lc.probe_features = "full map"
        else:
            lc.probe, lc.probe_note = probe_layer(a, y, cfg.seed)
            lc.probe_features = f"spatial {cfg.reduce}" if lc.kind == "conv" else "units"
        layers.append(lc)
    input_probe = probe_layer(X, y, cfg.seed)
    if progress:
        progress("census", len(acts), len(acts))
    t_census = time.perf_counter()
    ablation_pos, notes = _ablate(subject, cfg, layers, X, y, progress)
    subject.notes.extend(notes)
    t_abl = time.perf_counter()
    timings = {"prepare_s": t_prep - t0, "capture_s": t_cap - t_prep, "census_s": t_census - t_cap,
               "ablation_s": t_abl - t_census}
    if subject.training:
        timings["training_s"] = subject.training["seconds"]
    return _result(cfg, subject, layers, logits, input_probe, ablation_pos, timings)


def _result(cfg: AnalyzeConfig, subject: Subject, layers: list[LayerCensus], logits, input_probe: tuple,
            ablation_pos: np.ndarray, timings: dict) -> AnalyzeResult:
    """The result: the records of every number, the findings in words and the figure-ready views."""
    data, idx = subject.data, subject.census_idx
    names = list(data.class_names)
    y = data.y[idx]
    acc, per = records.accuracy(logits, y, len(names))
    layer_recs = [records.layer_record(lc, idx, cfg) for lc in layers]
    probe = records.probe_record(input_probe[0])
    params = ({k: v.detach().cpu().numpy() for k, v in subject.module.state_dict().items()}
              if subject.kind == "builtin" else {})
    return AnalyzeResult(
        config=cfg.recorded(), data=records.data_record(subject), model=records.model_record(subject),
        training=to_data(subject.training), accuracy=acc, class_accuracy=None if per is None else per.tolist(),
        thresholds={"near_duplicate_abs_r": cfg.threshold, "indispensable_overall_pp": cfg.indispensable_overall,
                    "indispensable_class_pp": cfg.indispensable_class},
        input_probe=probe, input_probe_note=input_probe[1], ablation_indices=idx[ablation_pos].tolist(),
        layers=layer_recs, findings=_findings(cfg, subject, layers, input_probe[0], acc, per),
        notes=list(subject.notes), views=_views(cfg, subject, layers, probe, layer_recs, acc), params=params,
        timings=timings)


def _findings(cfg: AnalyzeConfig, s: Subject, layers: list[LayerCensus], input_probe, acc, per) -> dict:
    names, n = list(s.data.class_names), len(s.census_idx)
    return {"model": fx.model_lines(s.source, s.kind, s.data.name, s.training, n, acc, per, names) + list(s.notes),
            "layers": [fx.layer_line(lc, cfg.indispensable_overall, cfg.indispensable_class) for lc in layers],
            "dead": fx.dead_findings(layers, n),
            "duplicates": fx.duplicate_findings(layers, cfg.threshold),
            "selectivity": fx.selectivity_findings(layers, names),
            "indispensable": fx.ablation_findings(layers, names, cfg.indispensable_overall, cfg.indispensable_class,
                                                  cfg.ablation_mode),
            "probes": fx.probe_findings(layers, input_probe, len(names))}


def _views(cfg: AnalyzeConfig, s: Subject, layers: list[LayerCensus], probe: dict | None, layer_recs: list[dict],
           acc: float | None) -> dict:
    orders = [records.unit_order(lc) for lc in layers]
    keys = [fx.indispensable(lc, cfg.indispensable_overall, cfg.indispensable_class) for lc in layers]
    shape = image_shape(s.data)
    out = {"class_means": [views.class_mean_panel(lc, o) for lc, o in zip(layers, orders)],
           "selectivity": views.selectivity_view(layers), "ablation": views.ablation_view(layers, orders, keys),
           "probes": views.probe_view(probe, layer_recs, acc), "top_examples": None, "first_weights": None}
    if shape is not None:
        idx = s.census_idx
        images = s.data.X[idx].reshape((len(idx),) + shape)
        out["top_examples"] = views.top_example_view(layers, images, s.data.y[idx], idx)
        out["first_weights"] = views.first_weight_view(first_layer_weights(s.module, shape))
    return out
