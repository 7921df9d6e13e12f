"""Run ``nichelab compare``: open A and B, capture their layers on the same inputs, compare every
layer of A with every layer of B, match the units of the chosen layer pairs."""
from __future__ import annotations

import dataclasses
import time
import warnings
from contextlib import nullcontext

import numpy as np

from ...capture import capture
from ...data.base import Dataset
from ...data.loaders import load_dataset
from ...errors import NichelabError, suggest
from ...metrics.identification import most_similar
from ...metrics.similarity import DegenerateCCAWarning, cka_matrix
from ...metrics.registry import DISTANCES, MEASURE_LABELS
from ..convergence.views import matching_panel
from . import findings as fx
from .analysis import PairMatch, match_pair, pair_name
from .config import CompareConfig
from .result import CompareResult
from .sources import Source, build_run_model, resolve

__all__ = ["run", "choose_layers", "load_data"]


def _data_name(cfg: CompareConfig, a: Source, b: Source) -> str:
    if cfg.data is not None:
        return cfg.data
    defaults = {d for d in (a.default_data, b.default_data) if d}
    if len(defaults) == 1:
        return defaults.pop()
    if not defaults:
        raise NichelabError("data is required: neither A nor B is a run folder that records its dataset "
                            "(give e.g. digits, or a .npz / .csv file)", field="data")
    raise NichelabError(f"data is required: A and B were trained on different datasets ({', '.join(sorted(defaults))})",
                        field="data")


def _as_dataset(data) -> Dataset:
    """A Dataset of arrays given in the library: X, (X,), (X, y) or a Dataset."""
    if isinstance(data, Dataset):
        return data
    X, y = (data[0], data[1] if len(data) > 1 else None) if isinstance(data, (tuple, list)) else (data, None)
    try:
        X = np.asarray(X.detach().cpu() if hasattr(X, "detach") else X, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise NichelabError(f"data must be a dataset name or path, an array of inputs or an (X, y) tuple; got "
                            f"{type(data).__name__} ({exc})", field="data") from None
    if y is None:
        return Dataset(X, np.zeros(len(X), np.int64), ["all"], name="arrays")
    y = np.asarray(y.detach().cpu() if hasattr(y, "detach") else y)
    return Dataset(X, y, [str(c) for c in range(int(y.max()) + 1 if y.size else 1)], name="arrays")


def load_data(cfg: CompareConfig, a: Source, b: Source) -> tuple[Dataset, str]:
    """The inputs both networks see, and their name: ``cfg.data`` (a name, a path or arrays), else
    the dataset of the run folder(s)."""
    if cfg.data is not None and not isinstance(cfg.data, str):
        data = _as_dataset(cfg.data)
        return data, data.name
    name = _data_name(cfg, a, b)
    try:
        return load_dataset(name, images=a.images or b.images), name
    except NichelabError as exc:  # the loader's argument "dataset" is this study's field "data"
        raise (exc.renamed("data") if exc.field == "dataset" else exc) from None


def _listing(known: list[str]) -> str:
    return ", ".join(known[:30]) + (f", ... ({len(known)} in all)" if len(known) > 30 else "")


def _check_layer(name: str, src: Source, side: str) -> None:
    known = src.all_layers
    if name not in known:
        listing = _listing(known)
        raise NichelabError(f"layers must name layers of model {side}; got unknown layer {name!r}"
                            f"{suggest(name, known)}; its layers are: {listing}", field="layers")


def choose_layers(cfg: CompareConfig, a: Source, b: Source) -> tuple[list, list, list, list[str]]:
    """Layers of the heatmap (A's, B's) and the (A layer, B layer) pairs whose units are matched.

    Returns ``(heat_a, heat_b, pairs, notes)``.

    Raises
    ------
    NichelabError
        A layer named in ``cfg.layers`` that A or B does not have (close names suggested); no layers
        given while A and B share no layer name and have different numbers of layers (both lists named).
    """
    notes = []
    pairs = cfg.layer_pairs
    for la, lb in pairs:
        _check_layer(la, a, "A")
        _check_layer(lb, b, "B")
    if not pairs:
        common = [n for n in a.layers if n in b.layers]
        if common:
            pairs = [(n, n) for n in common]
        elif len(a.layers) == len(b.layers):
            pairs = list(zip(a.layers, b.layers))
            notes.append("A and B share no layer names; their default layers are paired in order: "
                         + ", ".join(f"{x}={y}" for x, y in pairs) + " (choose others with the layers option, "
                         "A_LAYER=B_LAYER).")
        else:
            raise NichelabError(
                "layers must pair a layer of A with a layer of B as A_LAYER=B_LAYER (e.g. "
                f"{a.layers[0] if a.layers else 'L1'}={b.layers[0] if b.layers else 'L1'}): A and B share no layer "
                f"names and have different numbers of layers; A's layers: {_listing(a.all_layers)}; "
                f"B's layers: {_listing(b.all_layers)}", field="layers")
    heat_a = list(dict.fromkeys(list(a.layers) + [x for x, _ in pairs]))
    heat_b = list(dict.fromkeys(list(b.layers) + [y for _, y in pairs]))
    return heat_a, heat_b, pairs, notes


def _one_line(message: str) -> str:
    """The first line of an error message, plus its last line when that names the error (TorchScript
    errors carry a serialized traceback in between)."""
    lines = [l.strip() for l in str(message).splitlines() if l.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else ""
    last = lines[-1]
    return lines[0] + (f" ... {last}" if "Error" in last.split(":")[0] else "")


def _input_hint(module, X: np.ndarray) -> str:
    """What the model's first weight expects, when it visibly differs from the data."""
    for name, p in module.named_parameters():
        if p.ndim == 2 and p.shape[1] != int(np.prod(X.shape[1:])):
            return f"; its first weight {name!r} takes {p.shape[1]} input features, the data has {int(np.prod(X.shape[1:]))}"
        if p.ndim >= 3 and (X.ndim != p.ndim or X.shape[1] != p.shape[1]):
            return f"; its first weight {name!r} takes {p.shape[1]} input channels"
        if p.ndim >= 2:
            return ""
    return ""


def _first_width(module) -> tuple[str, int] | None:
    """("features" or "channels", count) the model's first weight takes; None when it has no weight."""
    for _, p in module.named_parameters():
        if p.ndim == 2:
            return "input features", int(p.shape[1])
        if p.ndim >= 3:
            return "input channels", int(p.shape[1])
    return None


def check_input_widths(a: Source, b: Source, X: np.ndarray, data_name: str) -> None:
    """One error, before any capture, when A or B does not take the data's input width (naming both).

    Raises
    ------
    NichelabError
        ``"A takes 64 input features and B takes 32, but data 'digits' has 64 per sample ..."``.
    """
    need = {"input features": int(np.prod(X.shape[1:])), "input channels": int(X.shape[1]) if X.ndim > 1 else 1}
    widths = {side: _first_width(src.module) for side, src in (("A", a), ("B", b))}
    wrong = [side for side, w in widths.items()
             if w is not None and w[1] != need[w[0]] and not (w[0] == "input features" and X.ndim > 2)]
    if not wrong:
        return
    said = " and ".join(f"{side} ({src.label}) takes {widths[side][1]} {widths[side][0]}" if widths[side] else
                        f"{side} ({src.label}) takes an unknown width" for side, src in (("A", a), ("B", b)))
    kind = widths[wrong[0]][0]
    raise NichelabError(f"both models must take the data's input width: {said}, but data {data_name!r} has "
                        f"{need[kind]} {kind} per sample (samples of shape {tuple(X.shape[1:])}); "
                        f"{' and '.join(wrong)} {'does' if len(wrong) == 1 else 'do'} not fit")


def _capture(src: Source, X: np.ndarray, layers: list[str], reduce: str, side: str) -> dict:
    try:
        acts = capture(src.module, X, layers=layers, reduce=None if reduce == "flatten" else reduce,
                       fixed_batch=src.fixed_batch)
    except NichelabError as exc:
        raise NichelabError(f"model {side} ({src.label}) does not accept the data's samples of shape "
                            f"{tuple(X.shape[1:])}{_input_hint(src.module, X)}: {_one_line(exc)}") from None
    return {name: v.reshape(len(v), -1) if v.ndim > 2 else v for name, v in acts.items()}


def _blas_threads(n: int | None):
    if n is None:
        return nullcontext()
    from threadpoolctl import threadpool_limits
    return threadpool_limits(n)


def _recorded(cfg: CompareConfig, a: Source, b: Source, data: Dataset) -> CompareConfig:
    """The config as results.json records it: objects given in the library become their descriptions."""
    changes = {k: v for k, v in (("a", a.label), ("b", b.label), ("data", f"{data.name} {tuple(data.X.shape)}"))
               if not (getattr(cfg, k) is None or isinstance(getattr(cfg, k), str))}
    return dataclasses.replace(cfg, **changes) if changes else cfg


def run(config: CompareConfig, *, progress=None) -> CompareResult:
    """Compare two networks on the same inputs.

    Follows the study protocol (:meth:`nichelab.studies.base.Study.run`): a :class:`CompareConfig` in, a
    :class:`CompareResult` out.

    Raises
    ------
    NichelabError
        Bad A or B (see :func:`sources.resolve`), unknown layer, a model that does not accept the
        data's shape, unreadable data.
    """
    cfg = config
    tick = progress or (lambda *a: None)
    t0 = time.perf_counter()
    a = resolve(cfg.a, seed=cfg.seed_a, weights=cfg.weights_a, trust_pickle=cfg.trust_pickle, name="A")
    b = resolve(cfg.b, seed=cfg.seed_b, weights=cfg.weights_b, trust_pickle=cfg.trust_pickle, name="B")
    data, data_name = load_data(cfg, a, b)
    for src, side in ((a, "A"), (b, "B")):
        build_run_model(src, data.input_shape, side, data_name)
    rng = np.random.default_rng([cfg.sample_seed, 3])
    rows = np.arange(len(data))
    if len(rows) > cfg.max_samples:
        rows = np.sort(rng.choice(rows, size=cfg.max_samples, replace=False))
    X = data.X[rows]
    check_input_widths(a, b, X, data_name)
    heat_a, heat_b, pairs, notes = choose_layers(cfg, a, b)
    with _blas_threads(cfg.threads):
        acts_a = _capture(a, X, heat_a, cfg.conv_reduce, "A")
        acts_b = _capture(b, X, heat_b, cfg.conv_reduce, "B")
        tick("capture", 1, 1)
        t1 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DegenerateCCAWarning)
            names_a, names_b, matrix = cka_matrix({n: acts_a[n] for n in heat_a}, {n: acts_b[n] for n in heat_b},
                                                  measure=cfg.measure, debiased=cfg.debiased)
        if any(issubclass(w.category, DegenerateCCAWarning) for w in caught):
            notes.append(f"{cfg.measure}: some layer pairs have more dimensions than samples allow "
                         "(rank(x) + rank(y) > n - 1), so some canonical correlations are 1 by construction.")
        tick("similarity", 1, 1)
        order = rng.permutation(len(X))
        matches = []
        for k, (la, lb) in enumerate(pairs):
            matches.append(match_pair(cfg, acts_a[la], acts_b[lb], la, lb, order))
            tick("matching", k + 1, len(pairs))
    result = _result(cfg, a, b, data, rows, list(names_a), list(names_b), np.asarray(matrix, float), matches, notes)
    result.timings = {"loading_capture_s": t1 - t0, "analysis_s": time.perf_counter() - t1}
    return result


def _result(cfg: CompareConfig, a: Source, b: Source, data: Dataset, rows: np.ndarray, layers_a: list,
            layers_b: list, matrix: np.ndarray, matches: list[PairMatch], notes: list[str]) -> CompareResult:
    lower = cfg.measure in DISTANCES
    label = MEASURE_LABELS[cfg.measure] + (" (debiased)" if cfg.debiased else "")
    best = most_similar(matrix, lower)
    similar = [{"layer_a": n, "layer_b": layers_b[j] if j >= 0 else "", "value": float(matrix[i, j]) if j >= 0
                else float("nan")} for i, (n, j) in enumerate(zip(layers_a, best))]
    sums = [m.summary(cfg) for m in matches]
    return CompareResult(
        config=_recorded(cfg, a, b, data),
        a={**a.info, "label": a.label, "layers": layers_a}, b={**b.info, "label": b.label, "layers": layers_b},
        data={"name": data.name, "n_samples": len(data), "n_used": len(rows), "input_shape": list(data.input_shape)},
        measure=cfg.measure, debiased=cfg.debiased, lower_is_better=lower, layers_a=layers_a, layers_b=layers_b,
        matrix=matrix, most_similar=similar, matching=[m.to_dict(cfg) for m in matches],
        findings={"short": fx.answer_short(sums, cfg, a.label, b.label, label, notes),
                  "layers": fx.answer_layers(similar, layers_b, label), "units": fx.answer_units(sums, cfg)},
        notes=notes, views=_views(matches, best))


def _views(matches: list[PairMatch], best: np.ndarray) -> dict:
    """Figure-ready numbers: live units' agreement per matched pair, reordered matching matrices, and
    the most similar B layer of each A layer (-1: none)."""
    labels = [pair_name(m.layer_a, m.layer_b) for m in matches]

    def finite(v):
        v = np.asarray(v, float)
        return np.round(v[np.isfinite(v)], 4)

    dist = {"one_to_one": [finite(m.live_matched) for m in matches],
            "semi": [finite(m.match.semi_corr[~m.dead_a]) for m in matches],
            "linear_combination": [finite(m.linpred[~m.dead_a]) for m in matches]}
    panels = [matching_panel(f"{lab}: A vs B", m.match.corr, m.match.pairs) for lab, m in zip(labels, matches)]
    return {"pairs": labels, "unit_distributions": dist, "matching": panels, "heatmap_best": best}
