"""Figure-ready numbers and images of the hierarchy study, computed once when the study runs.

The report's figures only draw what these functions return (and the result stores): medians,
counts, shares, unit labels, and the image windows of galleries and feature visualisations.
Images are returned separately as ``{key: array}`` (they go to the weights file); the JSON side
refers to them by key.
"""
from __future__ import annotations

import numpy as np

from .analysis import LayerGeometry, LayerMeasures, NetworkMeasures, centre_cell, patch_box, selective_units
from .summary import LEVELS

__all__ = ["crop", "top_patches", "unit_label", "parts_by_layer", "filters", "strip", "part_counts", "levels",
           "iou_examples", "gallery", "featvis_rows", "GALLERY_UNITS"]

#: Units per layer shown in the gallery of top examples.
GALLERY_UNITS = 3


def _window_side(g: LayerGeometry, image_side: int) -> int:
    """Side of the context window shown around a receptive field: twice it, at least 12 px, at most the image."""
    return min(max(2 * g.rf, 12), image_side)


def crop(img: np.ndarray, g: LayerGeometry, i: int, j: int) -> tuple[np.ndarray, tuple[int, int, int]]:
    """The context window around map cell ``(i, j)``'s receptive field (NaN outside the image).

    Returns the window (C, w, w) and the receptive field's ``(row, col, side)`` inside it.
    Dense layers see the whole image: the image itself and a box around all of it.
    """
    if g.kind != "conv":
        return img, (0, 0, img.shape[1])
    r0, c0, rf = patch_box(g, i, j)
    w = _window_side(g, max(img.shape[1:]))
    wr0, wc0 = r0 + rf // 2 - w // 2, c0 + rf // 2 - w // 2
    out = np.full((img.shape[0], w, w), np.nan, dtype=np.float32)
    rs, cs = max(wr0, 0), max(wc0, 0)
    re, ce = min(wr0 + w, img.shape[1]), min(wc0 + w, img.shape[2])
    if re > rs and ce > cs:
        out[:, rs - wr0:re - wr0, cs - wc0:ce - wc0] = img[:, rs:re, cs:ce]
    return out, (r0 - wr0, c0 - wc0, rf)


def top_patches(lm: LayerMeasures, unit: int, X: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Context windows (top_k, C, w, w) around the receptive field of a unit's top activations, and the box."""
    out, box = [], (0, 0, 0)
    for r in range(lm.top_idx.shape[0]):
        win, box = crop(X[lm.top_idx[r, unit]], lm.geometry, *lm.top_pos[r, unit])
        out.append(np.asarray(win, dtype=np.float32))
    return np.stack(out), box


def unit_label(l: LayerMeasures, k: int, class_names: list[str], part_names: list[str] | None) -> str:
    """``"L2:5\\nprefers face\\neye IoU 0.12\\nedge 45°"``: the unit, its class, part and edge;
    a silent unit (no response to any held-out image) is labelled ``"L2:5\\nsilent"``."""
    label = f"{l.name}:{k}"
    if l.dead[k]:                # silent on every held-out image: it prefers nothing
        return label + "\nsilent"
    if l.preferred[k] >= 0:
        label += f"\nprefers {class_names[l.preferred[k]]}"
    if l.part_detector is not None and l.part_detector[k]:
        label += f"\n{part_names[l.part_best[k]]} IoU {l.part_iou[k]:.2f}"
    if l.edge_detector is not None and l.edge_detector[k]:
        label += f"\nedge {np.degrees(l.tuning.preferred[k]):.0f}°"
    return label


def parts_by_layer(net: NetworkMeasures, part_names: list[str]) -> list[str]:
    """Per layer: ``"eye ×2, window"`` — the parts the network's part detectors detect ("" for none)."""
    out = []
    for l in net.layers:
        if l.part_detector is None:
            out.append("")
            continue
        found = [part_names[b] for b in l.part_best[l.part_detector]]
        out.append(", ".join(f"{p} ×{found.count(p)}" if found.count(p) > 1 else p for p in dict.fromkeys(found)))
    return out


def filters(l1_trained: LayerMeasures, l1_random: LayerMeasures, w_trained: np.ndarray,
            w_random: np.ndarray) -> dict:
    """The first layer's filters (K, C, kh, kw) and tuning curves, trained and at initialisation."""
    out = {"angles_deg": np.degrees(l1_trained.tuning.angles)}
    for tag, l, w in (("trained", l1_trained, w_trained), ("random", l1_random, w_random)):
        curves = l.tuning.curves
        top = np.array([np.nanmax(c) if np.isfinite(c).any() else 0.0 for c in curves.T])
        with np.errstate(invalid="ignore", divide="ignore"):
            shape = np.where(top > 0, curves / np.where(top > 0, top, 1.0), np.nan)
        out[tag] = {"weights": np.asarray(w, dtype=float), "curves": shape, "silent": ~(top > 0),
                    "osi": l.tuning.osi, "edge": l.edge_detector.astype(bool)}
    return out


def _finite_median(v) -> float:
    v = np.asarray(v, dtype=float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else float("nan")


def strip(values_t: list, values_r: list) -> dict:
    """Every unit's value by layer, trained and random init, with each layer's median of finite values."""
    return {"trained": [np.asarray(v, dtype=float) for v in values_t],
            "random": [np.asarray(v, dtype=float) for v in values_r],
            "median_trained": np.array([_finite_median(v) for v in values_t]),
            "median_random": np.array([_finite_median(v) for v in values_r])}


def part_counts(nets: list[NetworkMeasures], conv: list[int], n_parts: int) -> np.ndarray:
    """(conv layers, parts): units whose best part passes the IoU threshold, mean over networks."""
    return np.mean([[np.bincount(net.layers[i].part_best[net.layers[i].part_detector], minlength=n_parts)
                     for i in conv] for net in nets], axis=0)


def levels(mean_level: dict, conv: list[int]) -> dict:
    """Share of each conv layer's units whose best concept is an edge, a part, an object, or none."""
    out = {lvl: np.asarray(mean_level[lvl], dtype=float)[conv] for lvl in LEVELS}
    out["none"] = 1 - sum(out[lvl] for lvl in LEVELS)
    return out


def iou_examples(net: NetworkMeasures, X: np.ndarray) -> tuple[list[dict], dict]:
    """The best part detectors' example images with their unit and part masks: (rows, images by key)."""
    rows, images = [], {}
    for l in net.layers:
        for e in l.iou_examples:
            key = f"iou.{len(rows)}"
            rows.append({"title": f"{l.name}:{e['unit']}\n{e['part']}\nIoU {e['iou']:.2f}",
                         "image_iou": e["image_iou"], "images": key})
            images[f"{key}.pixels"] = np.asarray(X[e["images"], 0], dtype=np.float32)
            images[f"{key}.unit_masks"] = np.asarray(e["unit_masks"], dtype=bool)
            images[f"{key}.part_masks"] = np.asarray(e["part_masks"], dtype=bool)
    return rows, images


def gallery(net: NetworkMeasures, X: np.ndarray, class_names, part_names) -> tuple[list[dict], dict]:
    """Top held-out windows of the most class-selective units of each layer: (rows, images by key)."""
    rows, images = [], {}
    for layer, k in selective_units(net, GALLERY_UNITS):
        l = net.layer(layer)
        patches, box = top_patches(l, k, X)
        key = f"gallery.{len(rows)}"
        images[key] = patches
        rows.append({"unit": f"{layer}:{k}", "label": unit_label(l, k, class_names, part_names),
                     "titles": [f"{a:.1f}" for a in l.top_act[:, k]], "box": list(box), "images": key})
    return rows, images


def featvis_rows(pairs: list[dict], net: NetworkMeasures, X: np.ndarray, image_shape, class_names,
                 part_names) -> tuple[list[dict], dict]:
    """Per visualised unit: its label, box, and the optimised inputs cropped like its top windows."""
    rows, images = [], {}
    for i, p in enumerate(pairs):
        l = net.layer(p["layer"])
        centre = centre_cell(l.geometry, image_shape)
        patches, box = top_patches(l, p["unit_index"], X)
        key = f"featvis.{i}"
        images[f"{key}.patches"] = patches
        images[f"{key}.optimised"] = np.asarray(crop(p["image_trained"], l.geometry,
                                                     *(p["cell_trained"] or centre))[0], dtype=np.float32)
        images[f"{key}.random"] = np.asarray(crop(p["image_random"], l.geometry,
                                                  *(p["cell_random"] or centre))[0], dtype=np.float32)
        rows.append({"label": unit_label(l, p["unit_index"], class_names, part_names), "box": list(box),
                     "images": key})
    return rows, images
