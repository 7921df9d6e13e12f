"""Run the analyze study: load or train the model, measure every unit, keep the numbers as an AnalyzeResult."""
from __future__ import annotations

import contextlib
import time

import numpy as np

from ...capture import call_counts, call_key, capture, split_key
from ...data._memory import count_nonfinite, release
from ...nn.checks import chance_check
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


def _head(inputs, k: int):
    """The first ``k`` samples of an array or of a dict of keyword arrays."""
    if isinstance(inputs, dict):
        return {key: v[:k] for key, v in inputs.items()}
    return inputs[:k]


def _capture_kw(cfg: AnalyzeConfig, subject: Subject) -> dict:
    """The capture options of this run: unit axis, tuple selector, token rule, fixed batch."""
    return {"unit_axis": cfg.unit_axis, "select": cfg.select, "fixed_batch": subject.fixed_batch,
            "tokens": cfg.tokens if subject.tokens else None}


def _raw_shapes(subject: Subject, inputs, kw: dict) -> dict[str, tuple]:
    """One sample's output shape of every analysed layer (a capture of a few samples, unreduced over space;
    token outputs reduced over the token axis, so their shape is (units,))."""
    kw = dict(kw, tokens="mean" if kw["tokens"] == "all" else kw["tokens"])
    acts = capture(subject.module, _head(inputs, min(subject_len(inputs), 4)), subject.layers, **kw)
    return {k: tuple(int(s) for s in v.shape[1:]) for k, v in acts.items()}


def subject_len(inputs) -> int:
    return len(inputs["input_ids"]) if isinstance(inputs, dict) else len(inputs)


def _probe_maps(subject: Subject, X, raw: dict[str, tuple], kw: dict) -> dict[str, np.ndarray]:
    """Unreduced outputs of the conv layers small enough to probe whole: {key: (n, C*H*W)}.

    A probe on the spatial mean of each channel would miss what the layer knows about *where*
    things are; maps larger than ``MAX_PROBE_FEATURES`` values are probed on the reduction instead.
    """
    keys = [k for k, s in raw.items() if len(s) > 1 and int(np.prod(s)) <= MAX_PROBE_FEATURES]
    if not keys or subject.tokens:
        return {}
    names = list(dict.fromkeys(k.split("#")[0] for k in keys))
    acts = capture(subject.module, X, names, batch_size=_CAPTURE_BATCH, **kw)
    n = subject_len(X)
    return {k: acts[k].reshape(n, -1) for k in keys if k in acts}


def _ablate(subject: Subject, cfg: AnalyzeConfig, layers: list, y: np.ndarray,
            progress) -> tuple[np.ndarray, list[str]]:
    """Single-unit ablation of every layer (every call of a reused module on its own) on a stratified subset;
    returns the subset's positions (in the analysed samples) and notes."""
    notes = []
    if not cfg.ablation:
        for lc in layers:
            lc.ablation_note = "not run (ablation off)"
        return np.arange(0), notes
    if not subject.classifier:
        for lc in layers:
            lc.ablation_note = "not run: the model's outputs are not logits over the data's classes"
        return np.arange(0), notes
    if cfg.select not in (None, 0):
        for lc in layers:
            lc.ablation_note = (f"not run: ablation edits the first tensor of a tuple output, and select={cfg.select} "
                                "analyses another one")
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
    x = subject.inputs(subject.census_idx[pos])
    release(subject.data.X)                     # the gather above mapped pages all over a memory-mapped file
    for i, lc in enumerate(layers):
        if progress:
            progress("ablation", i, len(layers))
        with _threads(subject):
            # a reused module's key names one call ("relu" = first, "relu#1" = second): only that call is clamped
            lc.ablation = ablate_units(subject.module, lc.name, x, y[pos], mode=cfg.ablation_mode,
                                       batch_size=batch, unit_axis=cfg.unit_axis)
    if progress:
        progress("ablation", len(layers), len(layers))
    return pos, notes


def _token_observations(a: np.ndarray, mask: np.ndarray, y: np.ndarray):
    """(n, units, seq) per-token activations -> every real token (mask 1) as one observation.

    Returns (obs (n_tokens, units) float32, labels of the tokens' samples, sample position of each token,
    per-sample mask-aware mean (n, units) for the probe)."""
    m = np.asarray(mask, bool)
    obs = np.ascontiguousarray(np.moveaxis(a, 1, 2)[m])
    counts = m.sum(axis=1)
    owner = np.repeat(np.arange(len(y)), counts)
    mean = (a * m[:, None, :]).sum(axis=2) / np.maximum(counts, 1)[:, None]
    return obs, y[owner], owner, mean.astype(np.float32)


def reused_note(counts: dict[str, int]) -> str | None:
    """The report's sentence on modules called more than once per forward pass, or None."""
    reused = {name: k for name, k in counts.items() if k > 1}
    if not reused:
        return None
    parts = [f"{name!r} runs {k} times (analysed as {', '.join(call_key(name, c) for c in range(k))})"
             for name, k in reused.items()]
    return ("Reused module" + ("s" if len(reused) > 1 else "") + ": " + "; ".join(parts) + " per forward pass. "
            "Each call is measured as its own layer: its units' statistics, selectivity and ablation are per call "
            "(ablating 'name' clamps only the first call, 'name#1' only the second, and so on).")


def run(config: AnalyzeConfig, *, progress=None) -> AnalyzeResult:
    """Train (built-in spec) or load the model, then measure every unit of every chosen layer.

    Steps: load and check the data and the model (:func:`~.prepare.prepare`); capture the layers on
    the analysed samples (conv channels reduced by ``config.reduce`` over space, token outputs by
    ``config.tokens`` over the tokens); per layer (each call of a reused module on its own): dead
    units, class means, active classes, selectivity, near-duplicate groups, participation ratio, top
    examples and a linear probe; single-unit ablation on at most ``config.ablation_samples`` samples;
    a warning when the model's accuracy is within noise of chance.

    Follows the study protocol (:meth:`nichelab.studies.base.Study.run`): a :class:`AnalyzeConfig` in, a
    :class:`AnalyzeResult` out.

    Raises
    ------
    NichelabError
        Any bad input (see :func:`~.prepare.prepare`), before anything is written.
    """
    with restore_modes(config.model):
        return _run(config, progress)


def _run(cfg: AnalyzeConfig, progress) -> AnalyzeResult:
    t0 = time.perf_counter()
    subject = prepare(cfg, progress)
    t_prep = time.perf_counter()
    data = subject.data
    y = data.y[subject.census_idx]
    if len(np.unique(y)) < 2:
        raise NichelabError(f"the analysed samples hold a single class ({data.class_names[int(y[0])]!r}); "
                            "give more samples of each class")
    if subject.training and subject.training.get("diverged"):
        return _not_measured(cfg, subject, fx.diverged_lines(subject.training, subject.source, data.name),
                             {"prepare_s": t_prep - t0, "training_s": subject.training["seconds"]})
    inputs = subject.rows()                     # streamed: a memory-mapped file is read batch by batch
    kw = _capture_kw(cfg, subject)
    with _threads(subject):
        raw = _raw_shapes(subject, inputs, kw)
        acts = capture(subject.module, inputs, subject.layers, batch_size=_CAPTURE_BATCH, reduce=cfg.reduce, **kw)
    bad = {name: n for name, a in acts.items() if (n := count_nonfinite(a))}
    if bad:
        # finite weights can still overflow to inf / NaN in the forward pass (nichelab.train.divergence)
        del acts
        if subject.training:
            subject.training["diverged"] = True
        lines = fx.nonfinite_lines(bad, subject.training, subject.source, data.name, len(y))
        timings = {"prepare_s": t_prep - t0, "capture_s": time.perf_counter() - t_prep}
        if subject.training:
            timings["training_s"] = subject.training["seconds"]
        return _not_measured(cfg, subject, lines, timings)
    with _threads(subject):
        probe_pos = stratified_subset(np.arange(len(y)), y, cfg.probe_samples, cfg.seed)
        maps = _probe_maps(subject, subject.rows(subject.census_idx[probe_pos]), raw, kw)
        logits = (forward_logits(subject.module, inputs, fixed_batch=subject.fixed_batch)
                  if subject.classifier else None)
    t_cap = time.perf_counter()
    counts = call_counts(acts)
    note = reused_note(counts)
    if note:
        subject.notes.append(note)
    token_all = subject.tokens and cfg.tokens == "all"
    mask = inputs["attention_mask"] if token_all else None
    layers = []
    for i, name in enumerate(list(acts)):
        if progress:
            progress("census", i, len(acts))
        a = acts.pop(name)                      # census layer by layer: each layer's activations freed after use
        obs, y_obs, owner, probe_acts = (_token_observations(a, mask, y) if token_all else (a, y, None, a))
        lc = census_layer(name, obs, y_obs, data.n_classes, raw_shape=raw.get(name, obs.shape[1:]),
                          module_type=subject.layer_types.get(name.split("#")[0], "?"), reduce=cfg.reduce,
                          threshold=cfg.threshold, k=cfg.top_k)
        if owner is not None:
            lc.top = owner[lc.top]               # top tokens -> the samples they belong to
        lc.calls = counts.get(split_key(name)[0], 1)
        # the probe's rows copied only now, and the layer's (n, units) activations freed before the probe runs
        probe_acts = probe_acts if len(probe_pos) == len(y) else probe_acts[probe_pos]
        del a, obs
        if name in maps:
            lc.probe, lc.probe_note = probe_layer(maps.pop(name), y[probe_pos], cfg.seed)
            lc.probe_features = "full map"
        else:
            lc.probe, lc.probe_note = probe_layer(probe_acts, y[probe_pos], cfg.seed)
            lc.probe_features = (f"spatial {cfg.reduce}" if lc.kind == "conv" else
                                 "token mean" if token_all else "units")
        del probe_acts
        layers.append(lc)
    if subject.tokens:
        input_probe = (None, "skipped: the inputs are token ids (a probe on ids would measure nothing)")
    else:
        flat = np.asarray(subject.rows(subject.census_idx[probe_pos]))   # the probe's rows only (float32)
        release(data.X)
        input_probe = probe_layer(flat, y[probe_pos], cfg.seed)
        del flat
    if len(probe_pos) < len(y):
        subject.notes.append(f"Linear probes used a stratified random subset of {len(probe_pos)} of the {len(y)} "
                             "analysed samples (probe_samples).")
    if progress:
        progress("census", len(layers), len(layers))
    t_census = time.perf_counter()
    ablation_pos, notes = _ablate(subject, cfg, layers, y, progress)
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
    warn = []
    if acc is not None:
        text = chance_check(acc, len(y), np.bincount(y, minlength=len(names)))
        if text:
            warn.append(text)
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
        notes=list(subject.notes), warnings=warn, views=_views(cfg, subject, layers, probe, layer_recs, acc), params=params,
        timings=timings)


def _not_measured(cfg: AnalyzeConfig, subject: Subject, lines: list[str], timings: dict) -> AnalyzeResult:
    """The result of a run whose units cannot be measured (training diverged, or the activations are not finite):
    no layer census, no accuracy, no ablation or probe, and the reason first in the findings and the warnings.

    NaN activations are not silence: no unit is called dead, selective or indispensable on them."""
    data, idx = subject.data, subject.census_idx
    skipped = "not measured: " + lines[0][0].lower() + lines[0][1:]
    findings = {"model": lines + list(subject.notes), "layers": [],
                "dead": ["No unit is called dead: the units were not measured (NaN or infinite activations are not "
                         "silence)."],
                "duplicates": [], "selectivity": [], "indispensable": [], "probes": []}
    views_ = {"class_means": [], "selectivity": views.selectivity_view([]), "ablation": None, "probes": None,
              "top_examples": None, "first_weights": None}
    return AnalyzeResult(
        config=cfg.recorded(), data=records.data_record(subject), model=records.model_record(subject),
        training=to_data(subject.training), accuracy=None, class_accuracy=None,
        thresholds={"near_duplicate_abs_r": cfg.threshold, "indispensable_overall_pp": cfg.indispensable_overall,
                    "indispensable_class_pp": cfg.indispensable_class},
        input_probe=None, input_probe_note=skipped, ablation_indices=[], layers=[], findings=findings,
        notes=list(subject.notes), warnings=[lines[0]], views=views_, params={}, timings=timings)


class _Pictures:
    """Sample ``p`` of the analysed inputs as one (C, H, W) picture, read when asked (no copy of all of them)."""

    def __init__(self, rows, shape: tuple):
        self.rows, self.shape = rows, tuple(shape)

    def __getitem__(self, p) -> np.ndarray:
        return np.asarray(self.rows[int(p):int(p) + 1]).reshape(self.shape)


def _limits(rows, block: int = 4096) -> tuple[float, float]:
    """(min, max) of all analysed inputs, read in blocks of rows (exact: the same as over the whole array)."""
    lo, hi = np.inf, -np.inf
    for start in range(0, len(rows), block):
        part = np.asarray(rows[start:start + block])
        lo, hi = min(lo, float(part.min())), max(hi, float(part.max()))
    release(getattr(rows, "X", rows))
    return lo, hi


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
        rows = s.rows()                     # read blockwise for the limits, then only the pictures shown
        out["top_examples"] = views.top_example_view(layers, _Pictures(rows, shape), s.data.y[idx], idx,
                                                     limits=_limits(rows))
        out["first_weights"] = views.first_weight_view(first_layer_weights(s.module, shape))
    return out
