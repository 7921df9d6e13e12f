"""Figure-ready numbers of the analyze study, computed once here so figures only draw.

Units of a layer are put in one ``order`` (preferred class, then selectivity, dead last) shared by
the class-mean and ablation heatmaps; heatmap cells are already scaled, box-plot statistics
already computed, and input pictures and first-layer weights already scaled to [0, 1] / [-1, 1].
Values are rounded to 4 decimals (pictures to 3) to keep ``results.json`` small (they are drawn, not measured).
"""
from __future__ import annotations

import numpy as np

from .census import LayerCensus, ablation_drops

__all__ = ["class_mean_panel", "selectivity_view", "ablation_view", "probe_view", "top_example_view",
           "first_weight_view", "box_stats", "TOP_UNITS", "MAX_WEIGHT_UNITS"]

#: Units per layer in the top-example figure.
TOP_UNITS = 8
#: First-layer units drawn as pictures.
MAX_WEIGHT_UNITS = 64
_DIGITS = 4
_PIXEL_DIGITS = 3   # pictures: 1000 grey levels are more than a screen shows


def _what(lc: LayerCensus) -> str:
    return f"channels (spatial {lc.reduce})" if lc.kind == "conv" else "units"


def class_mean_panel(lc: LayerCensus, order: np.ndarray) -> dict:
    """One layer's heatmap (n_classes, n_units) in ``order``: each unit's class means divided by its largest
    (non-negative layers) or min-max scaled over classes (signed layers); NaN for dead units."""
    m = np.asarray(lc.class_means, float)[:, order]
    dead = lc.dead[order]
    with np.errstate(invalid="ignore", divide="ignore"):
        if lc.signed:
            lo, hi = np.nanmin(m, axis=0), np.nanmax(m, axis=0)
            z = (m - lo) / np.where(hi > lo, hi - lo, np.nan)
        else:
            hi = np.nanmax(m, axis=0)
            z = m / np.where(hi > 0, hi, np.nan)
    z[:, dead] = np.nan
    return {"name": lc.name, "what": _what(lc), "order": order, "n_dead": int(dead.sum()),
            "z": np.round(z, _DIGITS)}


def box_stats(values: np.ndarray) -> dict:
    """Median, quartiles and whiskers (the most extreme values within 1.5 IQR of the box), as matplotlib's
    ``boxplot`` computes them; NaN for no values."""
    v = np.asarray(values, float)
    if not v.size:
        return {"med": np.nan, "q1": np.nan, "q3": np.nan, "whislo": np.nan, "whishi": np.nan}
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    iqr = q3 - q1
    hi, lo = v[v <= q3 + 1.5 * iqr], v[v >= q1 - 1.5 * iqr]
    return {"med": float(med), "q1": float(q1), "q3": float(q3),
            "whislo": float(lo.min()) if lo.size else float(q1), "whishi": float(hi.max()) if hi.size else float(q3)}


def selectivity_view(layers: list[LayerCensus]) -> dict:
    """Per layer: the selectivity of every live unit and its box-plot statistics."""
    live = [lc.selectivity[~lc.dead & np.isfinite(lc.selectivity)] for lc in layers]
    return {"names": [lc.name for lc in layers], "live": [np.round(v, _DIGITS) for v in live],
            "stats": [box_stats(v) for v in live]}


def ablation_view(layers: list[LayerCensus], orders: list[np.ndarray], keys: list[np.ndarray]) -> dict | None:
    """Per ablated layer: accuracy lost ((1 + n_classes), n_units: overall row, then per class) in ``order``,
    the positions of indispensable units in that order, and the colour limit shared by all panels."""
    panels = []
    for lc, order, key in zip(layers, orders, keys):
        if lc.ablation is None:
            continue
        overall, per_class = ablation_drops(lc.ablation)
        z = np.vstack([np.asarray(overall, float)[order][None, :], np.asarray(per_class, float)[order].T])
        panels.append({"name": lc.name, "what": _what(lc), "order": order, "z": np.round(z, _DIGITS),
                       "key": np.flatnonzero(key[order])})
    if not panels:
        return None
    vmax = max([float(np.nanmax(np.abs(p["z"]))) if np.isfinite(p["z"]).any() else 0.0 for p in panels] + [1.0])
    return {"vmax": vmax, "panels": panels}


def probe_view(input_probe: dict | None, layer_records: list[dict], model_accuracy: float | None) -> dict | None:
    """Probe accuracy by layer (input first) for the layers with a probe; None when no probe ran."""
    rows = [("input", input_probe)] + [(r["name"], r["probe"]) for r in layer_records]
    done = [(n, p) for n, p in rows if p is not None]
    if not done:
        return None
    return {"names": [n for n, _ in done], "test": [p["test_accuracy"] for _, p in done],
            "train": [p["train_accuracy"] for _, p in done], "chance": done[0][1]["chance"],
            "model_accuracy": model_accuracy}


def _picture(img: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """(C, H, W) -> (H, W) grey in [0, 1] (channel mean unless RGB) or (H, W, 3) RGB in [0, 1]."""
    scaled = (np.asarray(img, float) - lo) / (hi - lo if hi > lo else 1.0)
    return np.moveaxis(scaled, 0, -1) if img.shape[0] == 3 else scaled.mean(axis=0)


def top_example_view(layers: list[LayerCensus], images: np.ndarray, y: np.ndarray, census_idx: np.ndarray,
                     limits: tuple[float, float] | None = None) -> dict:
    """The inputs that drive each layer's most selective units most, as pictures.

    images: (n_samples, C, H, W) analysed inputs, or any object whose ``images[p]`` is sample ``p`` as
    (C, H, W) (only the pictures shown are read); limits: the (min, max) of all of them (default: computed
    from ``images``). Returns ``{"pictures": [(H, W) or (H, W, 3) in [0, 1]],
    "layers": [{"name", "n_units", "rows": [{"unit", "pictures" (positions in pictures), "labels",
    "values"}]}]}``; every picture is kept once (the sample index is ``samples``).
    """
    lo, hi = (float(np.min(images)), float(np.max(images))) if limits is None else map(float, limits)
    pictures, where, out = [], {}, []
    for lc in layers:
        chosen = lc.ranked()[:TOP_UNITS]
        rows = []
        for k in chosen:
            keep = slice(None) if lc.signed else lc.top_values[:, k] > 0   # never show a silent "top" input
            pos = lc.top[keep, k]
            for p in pos:
                if int(p) not in where:
                    where[int(p)] = len(pictures)
                    pictures.append(np.round(_picture(images[p], lo, hi), _PIXEL_DIGITS))
            rows.append({"unit": f"{lc.unit(k)}\nSI {lc.selectivity[k]:.2f}", "pictures": [where[int(p)] for p in pos],
                         "labels": y[pos], "values": lc.top_values[keep, k]})
        if rows:
            out.append({"name": lc.name, "n_units": len(rows), "rows": rows})
    samples = np.asarray(census_idx)[np.array(list(where), dtype=np.int64)] if where else np.arange(0)
    return {"pictures": pictures, "samples": samples, "layers": out}


def first_weight_view(first: tuple[str, np.ndarray] | None) -> dict | None:
    """The first layer's incoming weights of up to ``MAX_WEIGHT_UNITS`` units as pictures, each divided by its
    largest |w|: (n, h, w) in [-1, 1] (channel mean), or (n, h, w, 3) in [0, 1] for RGB inputs."""
    if first is None:
        return None
    name, weights = first
    w = np.asarray(weights, float)[:MAX_WEIGHT_UNITS]
    scale = np.abs(w).reshape(len(w), -1).max(axis=1)
    w = w / np.where(scale > 0, scale, 1.0)[:, None, None, None]
    rgb = w.shape[1] == 3
    pics = np.stack([np.moveaxis(0.5 + 0.5 * u, 0, -1) if rgb else u.mean(axis=0) for u in w])
    return {"name": name, "pictures": np.round(pics, _PIXEL_DIGITS), "rgb": rgb, "n_units": int(len(weights))}
