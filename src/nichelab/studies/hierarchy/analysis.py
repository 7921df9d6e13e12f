"""Per-layer measurements of one network: edges, parts, objects, probes and top examples.

``measure_network(model, data, cfg)`` captures every hidden layer on the held-out set and on
oriented gratings, then applies the metrics of :mod:`nichelab.metrics`. Conv units are
reduced to one number per image by their spatial maximum (for selectivity, AUPRC, probes and
top examples); orientation tuning uses the positions whose receptive field lies inside the
image (so zero padding at the border adds no edges); Network Dissection uses the whole map.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import nn

from ...capture import capture
from ...metrics.detection import average_precision, one_vs_rest_average_precision
from ...metrics.dissection import DissectionResult, dissect, unit_masks
from ...metrics.probes import linear_probe
from ...metrics.tuning import TuningResult, orientation_tuning
from ...metrics.units import dead_units, preferred_class, selectivity_index, top_k
from .config import HierarchyConfig
from .data import StudyData, tuning_stimuli

__all__ = ["LayerGeometry", "layer_geometry", "LayerMeasures", "NetworkMeasures", "measure_network",
           "patch_box", "centre_cell", "selective_units", "accuracy"]


@dataclass(frozen=True)
class LayerGeometry:
    """Where a layer's units look: receptive field size and stride in input pixels."""

    name: str
    kind: str          # "conv" or "dense"
    n_units: int
    rf: int            # receptive field side in input pixels (the whole input for dense layers)
    jump: int          # input pixels between neighbouring map cells
    map_shape: tuple = ()   # (h, w) of a conv layer's map; () for dense layers


def layer_geometry(model: nn.Module, layers: list[tuple[str, int, str]], image_shape) -> list[LayerGeometry]:
    """Receptive field, stride and map size of every hidden block of a built-in ``nn.Sequential`` CNN."""
    rf, jump, (h, w), out = 1, 1, image_shape[1:], {}
    for name, m in model.named_children():
        conv = getattr(m, "conv", None)
        if isinstance(conv, nn.Conv2d):
            rf += (conv.kernel_size[0] - 1) * jump
            jump *= conv.stride[0]
            h, w = h // conv.stride[0], w // conv.stride[0]
        elif isinstance(m, nn.MaxPool2d):
            k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
            s = m.stride if isinstance(m.stride, int) else m.stride[0]
            rf += (k - 1) * jump
            jump *= s
            h, w = (h - k) // s + 1, (w - k) // s + 1
        out[name] = (rf, jump, (h, w))
    side = max(image_shape[1:])
    return [LayerGeometry(n, k, u, min(out[n][0], side), out[n][1], out[n][2]) if k == "conv"
            else LayerGeometry(n, k, u, side, side, ()) for n, u, k in layers]


def centre_cell(g: LayerGeometry, image_shape) -> tuple[int, int]:
    """The map cell at the centre (what a "center" feature-visualisation objective maximises)."""
    if not g.map_shape:
        return 0, 0
    return (g.map_shape[0] - 1) // 2, (g.map_shape[1] - 1) // 2


def selective_units(net: "NetworkMeasures", per_layer: int, min_share: float = 0.1) -> list[tuple[str, int]]:
    """The ``per_layer`` most class-selective units of every layer.

    Only units whose largest held-out activation is at least ``min_share`` of the median over
    the layer's live units count: a nearly silent unit can have a high selectivity index from
    a handful of tiny activations.
    """
    out = []
    for l in net.layers:
        best = l.top_act[0]
        live = ~l.dead & (best > 0)
        floor = min_share * float(np.median(best[live])) if live.any() else np.inf
        sel = np.where(live & (best >= floor) & np.isfinite(l.selectivity), l.selectivity, -np.inf)
        out += [(l.name, int(k)) for k in np.argsort(-sel, kind="stable")[:per_layer] if np.isfinite(sel[k])]
    return out


def patch_box(geom: LayerGeometry, i: int, j: int) -> tuple[int, int, int]:
    """``(row0, col0, side)`` of the input patch seen by map cell ``(i, j)`` (may reach outside)."""
    centre_r, centre_c = geom.jump * i + (geom.jump - 1) / 2, geom.jump * j + (geom.jump - 1) / 2
    half = (geom.rf - 1) / 2
    return int(np.floor(centre_r - half)), int(np.floor(centre_c - half)), geom.rf


def _interior(geom: LayerGeometry, h: int, w: int, image: tuple[int, int]) -> np.ndarray:
    """(h, w) bool: map cells whose receptive field lies inside the image (at least the centre cell)."""
    rows = np.array([0 <= patch_box(geom, i, 0)[0] and patch_box(geom, i, 0)[0] + geom.rf <= image[0]
                     for i in range(h)])
    cols = np.array([0 <= patch_box(geom, 0, j)[1] and patch_box(geom, 0, j)[1] + geom.rf <= image[1]
                     for j in range(w)])
    mask = rows[:, None] & cols[None, :]
    if not mask.any():
        mask[(h - 1) // 2, (w - 1) // 2] = True
    return mask


@dataclass
class LayerMeasures:
    """Everything measured on one hidden layer of one network (arrays over its units).

    Attributes
    ----------
    geometry : LayerGeometry
    dead : (K,) bool — silent (or constant) on every held-out image.
    tuning : TuningResult — orientation tuning to bars or gratings.
    drive : (K,) float — strongest response to any tuning stimulus / largest held-out activation
        (NaN for units silent on every held-out image).
    edge_detector : (K,) bool — orientation-selective and ``drive >= drive_threshold``.
    dissection : DissectionResult or None — IoU of every unit with every edge, part and object
        concept (conv layers of the parts data; see :func:`.data.concepts`).
    part_best, part_iou, part_detector : (K,) — each unit's best *part* (index into the part
        names, -1 if none), its IoU, and whether that IoU exceeds the threshold (a part detector).
    concept_level : list of str or None — level ("edge", "part", "object") of each unit's best
        concept over all levels when its IoU exceeds the threshold, else None.
    object_ap : (K,) float — AUPRC of each unit for the object class (faces) against every
        other image; for datasets without faces, for the unit's preferred class.
    object_ap_chance : (K,) float — the positives' share for each unit's target.
    object_ap_no_scrambled : (K,) float or None — face AUPRC with scrambled faces left out
        (the comparison closest to Lee et al. 2009: faces against other objects).
    preferred : (K,) int — class with the largest mean activation (-1: none).
    selectivity : (K,) float — class selectivity index (NaN: dead).
    probe_class, probe_class_chance : float — held-out accuracy of a linear probe for the class.
    probe_parts : dict part -> float; probe_parts_chance : dict part -> float.
    probe_scrambled, probe_scrambled_chance : float or None — faces vs. scrambled faces.
    top_idx : (top_k, K) int — held-out images with the largest activation of each unit.
    top_pos : (top_k, K, 2) int — where in the map that maximum is (conv; zeros for dense).
    top_act : (top_k, K) float — the activations.
    """

    geometry: LayerGeometry
    dead: np.ndarray
    tuning: TuningResult
    dissection: DissectionResult | None
    object_ap: np.ndarray
    object_ap_chance: np.ndarray
    object_ap_no_scrambled: np.ndarray | None
    preferred: np.ndarray
    selectivity: np.ndarray
    probe_class: float
    probe_class_chance: float
    probe_parts: dict = field(default_factory=dict)
    probe_parts_chance: dict = field(default_factory=dict)
    probe_scrambled: float | None = None
    probe_scrambled_chance: float | None = None
    top_idx: np.ndarray | None = None
    top_pos: np.ndarray | None = None
    top_act: np.ndarray | None = None
    iou_examples: list = field(default_factory=list)
    drive: np.ndarray | None = None
    edge_detector: np.ndarray | None = None
    part_best: np.ndarray | None = None
    part_iou: np.ndarray | None = None
    part_detector: np.ndarray | None = None
    concept_level: list | None = None

    @property
    def name(self) -> str:
        return self.geometry.name

    def object_detectors(self, threshold: float) -> np.ndarray:
        """(K,) bool: object AUPRC >= threshold."""
        return np.nan_to_num(self.object_ap, nan=-1.0) >= threshold

    @property
    def probe_parts_mean(self) -> float:
        return float(np.mean(list(self.probe_parts.values()))) if self.probe_parts else float("nan")

    @property
    def probe_parts_chance_mean(self) -> float:
        return float(np.mean(list(self.probe_parts_chance.values()))) if self.probe_parts else float("nan")


@dataclass
class NetworkMeasures:
    """One network (trained or its random-initialisation control) measured layer by layer."""

    seed: int
    trained: bool
    test_acc: float
    layers: list[LayerMeasures]

    def layer(self, name: str) -> LayerMeasures:
        return next(l for l in self.layers if l.name == name)


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    """Held-out accuracy of a classifier (argmax of the logits)."""
    model.eval()
    with torch.no_grad():
        pred = model(torch.as_tensor(X, dtype=next(model.parameters()).dtype)).argmax(1).numpy()
    return float(np.mean(pred == y))


def _probe(acts: np.ndarray, y: np.ndarray, repeats: int) -> tuple[float, float]:
    """Mean held-out probe accuracy and chance over ``repeats`` stratified splits."""
    res = [linear_probe(acts, y, test_size=0.3, seed=s) for s in range(repeats)]
    return float(np.mean([r.test_acc for r in res])), float(np.mean([r.chance for r in res]))


def _tuning(model, names, geoms, image_shape, kind: str, threshold: float):
    """Orientation tuning of every layer, and each unit's strongest response to any stimulus.

    Conv maps are reduced over the cells whose receptive field lies inside the image: by the
    maximum for bars (the best-placed cell; a bar covers few cells) and by the mean for
    gratings (which cover every cell).
    """
    stim, angles, cond = tuning_stimuli(kind, image_shape)
    maps = capture(model, stim, names)
    out = {}
    for name, g in zip(names, geoms):
        a = np.maximum(maps[name], 0.0)
        if a.ndim == 4:
            inside = _interior(g, a.shape[2], a.shape[3], image_shape[1:])
            a = a[:, :, inside]
            best = a.max(axis=2)                       # the best-placed cell: compared with the data's spatial max
            a = best if kind == "bars" else a.mean(axis=2)
        else:
            best = a
        out[name] = (orientation_tuning(a, angles, cond, threshold=threshold), best.max(axis=0))
    return out


def _object_ap(red: np.ndarray, data: StudyData, preferred: np.ndarray):
    y = data.test.y
    if data.object_class is not None:
        target = y == data.object_class
        ap = average_precision(red, target)
        chance = np.full(red.shape[1], target.mean())
        no_scr = None
        if data.scrambled_class is not None:
            keep = y != data.scrambled_class
            no_scr = average_precision(red[keep], target[keep])
        return ap, chance, no_scr
    per_class = one_vs_rest_average_precision(red, y, data.test.n_classes)   # (C, K)
    pick = np.where(preferred >= 0, preferred, 0)
    prevalence = np.bincount(y, minlength=data.test.n_classes) / len(y)
    return per_class[pick, np.arange(red.shape[1])], prevalence[pick], None


def _part_probes(red, data: StudyData, repeats: int):
    """Probe accuracy for the presence of every part (parts always present together share one probe)."""
    meta = data.test.meta
    acc, chance, done = {}, {}, {}
    for p, name in enumerate(meta["part_names"]):
        target = meta["part_present"][:, p].astype(np.int64)
        if 0 < target.sum() < len(target) - 1:
            key = target.tobytes()
            if key not in done:
                done[key] = _probe(red, target, repeats)
            acc[name], chance[name] = done[key]
    return acc, chance


def _dissect(a: np.ndarray, lm: "LayerMeasures", data: StudyData, threshold: float) -> None:
    con = data.concepts
    diss = dissect(a, con.masks, concept_names=con.names, iou_threshold=threshold)
    parts = con.indices("part")
    piou = np.where(np.isnan(diss.iou[:, parts]), -1.0, diss.iou[:, parts])
    lm.dissection = diss
    lm.part_best = np.where(piou.max(axis=1) >= 0, piou.argmax(axis=1), -1)
    lm.part_iou = np.where(lm.part_best >= 0, piou.max(axis=1), np.nan)
    lm.part_detector = np.nan_to_num(lm.part_iou, nan=-1.0) > threshold
    lm.concept_level = [con.level[b] if d else None for b, d in zip(diss.best, diss.detector)]


def _iou_examples(maps, lm: "LayerMeasures", data: StudyData, n_units: int = 2, n_images: int = 3) -> list:
    """For the best part detectors: the images where the unit's mask overlaps its part most."""
    meta = data.test.meta
    size = data.test.X.shape[2:]
    diss = lm.dissection
    order = [k for k in np.argsort(-np.nan_to_num(lm.part_iou, nan=-1), kind="stable") if lm.part_detector[k]]
    out = []
    for k in order[:n_units]:
        part = int(lm.part_best[k])
        um = unit_masks(maps[:, [k]], diss.thresholds[[k]], size)[:, 0]
        pm = meta["part_masks"][:, part]
        inter = (um & pm).sum(axis=(1, 2))
        union = (um | pm).sum(axis=(1, 2))
        score = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
        idx = np.argsort(-score, kind="stable")[:n_images]
        out.append({"unit": int(k), "part": meta["part_names"][part], "iou": float(lm.part_iou[k]),
                    "images": idx.astype(np.int64), "unit_masks": um[idx], "part_masks": pm[idx],
                    "image_iou": score[idx]})
    return out


def measure_network(model: nn.Module, data: StudyData, cfg: HierarchyConfig, *, seed: int, trained: bool,
                    examples: bool = False) -> NetworkMeasures:
    """Measure every hidden layer of ``model`` on ``data.test`` (see the module docstring).

    ``examples=True`` also keeps the IoU example masks (for the figures of the shown seed).
    BLAS runs on one thread here: the probes are tiny problems that threads only slow down.
    """
    with threadpool_limits(limits=1):
        return _measure(model, data, cfg, seed, trained, examples)


def _measure(model, data: StudyData, cfg: HierarchyConfig, seed: int, trained: bool, examples: bool):
    geoms = layer_geometry(model, cfg.layers, data.image_shape)
    names = [g.name for g in geoms]
    X, y, C = data.test.X, data.test.y, data.test.n_classes
    maps = capture(model, X, names)
    tunings = _tuning(model, names, geoms, data.image_shape, cfg.stimulus, cfg.osi_threshold)
    scr = None
    if data.scrambled_class is not None:
        scr = np.isin(y, [data.object_class, data.scrambled_class])
    layers = []
    for g in geoms:
        a = maps[g.name]
        red = a.reshape(len(a), a.shape[1], -1).max(axis=2) if a.ndim == 4 else a
        dead = dead_units(red)
        pref = preferred_class(red, y, C)
        sel = selectivity_index(red, y, C)
        ap, chance, no_scr = _object_ap(red, data, pref)
        pc, pcc = _probe(red, y, cfg.probe_repeats)
        tuning, peak = tunings[g.name]
        lm = LayerMeasures(g, dead, tuning, None, ap, chance, no_scr, pref, sel, pc, pcc)
        if data.has_masks:
            lm.probe_parts, lm.probe_parts_chance = _part_probes(red, data, 1)
            if a.ndim == 4:
                _dissect(a, lm, data, cfg.iou_threshold)
                if examples:
                    lm.iou_examples = _iou_examples(a, lm, data)
        if scr is not None:
            lm.probe_scrambled, lm.probe_scrambled_chance = _probe(red[scr], y[scr], cfg.probe_repeats)
        k = min(cfg.top_k, len(a))
        lm.top_idx = top_k(red, k)
        lm.top_act = np.take_along_axis(red, lm.top_idx, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            lm.drive = np.where(lm.top_act[0] > 0, peak / lm.top_act[0], np.nan)
        lm.edge_detector = tuning.selective & (np.nan_to_num(lm.drive, nan=0.0) >= cfg.drive_threshold)
        lm.top_pos = np.zeros((k, a.shape[1], 2), np.int64)
        if a.ndim == 4:
            flat = a.reshape(len(a), a.shape[1], -1)
            arg = flat[lm.top_idx, np.arange(a.shape[1])[None, :]].argmax(axis=2)   # (k, K)
            lm.top_pos = np.stack(np.unravel_index(arg, a.shape[2:]), axis=-1)
        layers.append(lm)
    return NetworkMeasures(seed, trained, accuracy(model, X, y), layers)
