"""``nichelab compare A B``: two networks on the same inputs -- a layers-by-layers similarity heatmap
and unit matching (Li et al. 2015) for chosen layers, with a verdict in words: same units, or only
the same subspace?

``run(CompareConfig(a, b, ...)) -> CompareResult``. A and B are run folders (``FOLDER#SEED``) or
model files; see :mod:`nichelab.studies.compare.sources`.
"""
from __future__ import annotations

import time
import warnings

import numpy as np

from ...capture import capture
from ...data.loaders import load_dataset
from ...errors import NichelabError, suggest
from ...metrics.matching import match_units
from ...metrics.similarity import DegenerateCCAWarning, cka_matrix, linear_cka
from ..convergence.analysis import blas_threads, dead_units, linear_prediction
from .config import CompareConfig
from .result import CompareResult, PairMatch
from .sources import Source, build_run_model, resolve

__all__ = ["CompareConfig", "CompareResult", "PairMatch", "run", "choose_layers"]


def _data_name(cfg: CompareConfig, a: Source, b: Source) -> str:
    if cfg.data is not None:
        return cfg.data
    defaults = {d for d in (a.default_data, b.default_data) if d}
    if len(defaults) == 1:
        return defaults.pop()
    if not defaults:
        raise NichelabError("--data is required: neither A nor B is a run folder that records its dataset "
                            "(give e.g. --data digits, or a .npz / .csv file)")
    raise NichelabError(f"--data is required: A and B were trained on different datasets ({', '.join(sorted(defaults))})")


def _check_layer(name: str, src: Source, side: str) -> None:
    known = src.all_layers
    if name not in known:
        listing = ", ".join(known[:30]) + (f", ... ({len(known)} in all)" if len(known) > 30 else "")
        raise NichelabError(f"--layers: unknown layer {name!r} of model {side}{suggest(name, known)}; "
                            f"its layers are: {listing}")


def choose_layers(cfg: CompareConfig, a: Source, b: Source) -> tuple[list, list, list, list[str]]:
    """Layers of the heatmap (A's, B's) and the (A layer, B layer) pairs whose units are matched.

    Returns ``(heat_a, heat_b, pairs, notes)``.

    Raises
    ------
    NichelabError
        A layer named in ``cfg.layers`` that A or B does not have (close names suggested).
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
                         + ", ".join(f"{x}={y}" for x, y in pairs) + " (choose others with --layers A_LAYER=B_LAYER).")
        else:
            notes.append("A and B share no layer names and have different numbers of layers, so no units are matched; "
                         "choose pairs with --layers A_LAYER=B_LAYER.")
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
            return f"; its first weight {name!r} takes {p.shape[1]} input features, --data has {int(np.prod(X.shape[1:]))}"
        if p.ndim >= 3 and (X.ndim != p.ndim or X.shape[1] != p.shape[1]):
            return f"; its first weight {name!r} takes {p.shape[1]} input channels"
        if p.ndim >= 2:
            return ""
    return ""


def _capture(src: Source, X: np.ndarray, layers: list[str], reduce: str, side: str) -> dict:
    try:
        acts = capture(src.module, X, layers=layers, reduce=None if reduce == "flatten" else reduce,
                       fixed_batch=src.fixed_batch)
    except NichelabError as exc:
        raise NichelabError(f"model {side} ({src.label}) does not accept --data samples of shape "
                            f"{tuple(X.shape[1:])}{_input_hint(src.module, X)}: {_one_line(exc)}") from None
    out = {}
    for name, v in acts.items():
        out[name] = v.reshape(len(v), -1) if v.ndim > 2 else v
    return out


def _match(cfg: CompareConfig, xa: np.ndarray, xb: np.ndarray, la: str, lb: str, rng_split: np.ndarray) -> PairMatch:
    um = match_units(xa, xb, cfg.threshold_high, cfg.threshold_low)
    half = len(rng_split) // 2
    fit, test = rng_split[:half], rng_split[half:]
    if half > xb.shape[1] + 1:
        lp = linear_prediction(xb[fit], xa[fit], xb[test], xa[test])
    else:
        lp = np.full(xa.shape[1], np.nan)
    return PairMatch(la, lb, um, dead_units(xa), dead_units(xb), lp, linear_cka(xa, xb, debiased=cfg.debiased))


def run(config: CompareConfig, *, progress=None) -> CompareResult:
    """Compare two networks on the same inputs.

    Parameters
    ----------
    config : CompareConfig
    progress : callable (stage: str, done: int, total: int) -> None, optional

    Returns
    -------
    CompareResult

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
    data_name = _data_name(cfg, a, b)
    data = load_dataset(data_name, images=a.images or b.images)
    for src, side in ((a, "A"), (b, "B")):
        build_run_model(src, data.input_shape, side, data_name)
    rng = np.random.default_rng([cfg.sample_seed, 3])
    rows = np.arange(len(data))
    if len(rows) > cfg.max_samples:
        rows = np.sort(rng.choice(rows, size=cfg.max_samples, replace=False))
    X = data.X[rows]
    heat_a, heat_b, pairs, notes = choose_layers(cfg, a, b)
    with blas_threads(cfg.threads):
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
        split = rng.permutation(len(X))
        matches = []
        for k, (la, lb) in enumerate(pairs):
            matches.append(_match(cfg, acts_a[la], acts_b[lb], la, lb, split))
            tick("matching", k + 1, len(pairs))
    t2 = time.perf_counter()
    return CompareResult(cfg, a, b, data, rows, names_a, names_b, matrix, matches, notes,
                         {"loading_capture_s": t1 - t0, "analysis_s": t2 - t1})
