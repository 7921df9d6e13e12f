"""``run(AnalyzeConfig) -> AnalyzeResult``: the unit census of one model on one data set."""
from __future__ import annotations

import contextlib
import time

import numpy as np

from ...capture import capture
from ...errors import NichelabError
from ...interventions.ablation import ablate_units
from .census import MAX_PROBE_FEATURES, census_layer, probe_layer
from .config import AnalyzeConfig
from .prepare import (Subject, first_layer_weights, forward_logits, image_shape, prepare, single_thread,
                      stratified_subset)
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
    return single_thread() if small else contextlib.nullcontext()


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
            lc.ablation_note = "not run (--no-ablation)"
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


def run(config: AnalyzeConfig | None = None, *, progress=None) -> AnalyzeResult:
    """Train (built-in spec) or load the model, then measure every unit of every chosen layer.

    Steps: load and check the data and the model (:func:`prepare`); capture the layers on the
    analysed samples (conv channels reduced by ``config.reduce`` over space); per layer: dead units,
    class means, selectivity, near-duplicate groups, participation ratio, top examples and a linear
    probe; single-unit ablation on at most ``config.ablation_samples`` samples.

    Parameters
    ----------
    config : AnalyzeConfig, optional
        Default: ``mlp 64-32`` trained on digits.
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
    cfg = config or AnalyzeConfig()
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
    return AnalyzeResult(cfg, subject, layers, logits, input_probe, ablation_pos,
                         first_layer_weights(subject.module, image_shape(data)), timings)
