"""Run the hierarchy study: train the CNNs, measure every hidden layer (trained and at initialisation),
visualise the chosen units, and keep the numbers as a HierarchyResult."""
from __future__ import annotations

import copy
import time

import numpy as np

from ...interventions.featvis import visualize_units
from ...nn.models import build_model
from ...train.config import threads
from ...train.divergence import left_out, nonfinite_rows
from ...train.loop import train_one
from . import findings as fx
from . import views
from .analysis import NetworkMeasures, centre_cell, measure_network, selective_units
from .config import HierarchyConfig
from .data import StudyData, load_study_data
from .result import HierarchyResult
from .summary import MEASURES, seed_mean, summarise
from ..text import plural

__all__ = ["run", "feature_visualisation"]


def run(config: HierarchyConfig, *, progress=None) -> HierarchyResult:
    """Train ``config.seeds`` CNNs and measure every hidden layer, trained and at initialisation.

    Torch runs on one intra-op thread: the networks are tiny, and threads make training and
    measuring 5-20 times slower on shared cores (benchmarks/bench_hierarchy.py).

    Follows the study protocol (:meth:`nichelab.studies.base.Study.run`): a :class:`HierarchyConfig` in, a
    :class:`HierarchyResult` out.
    """
    cfg = config
    tick = progress or (lambda stage, done, total: None)
    timings = {"data_s": 0.0, "training_s": 0.0, "measuring_s": 0.0, "featvis_s": 0.0}
    t = time.perf_counter()
    data = load_study_data(cfg.dataset, per_class=cfg.per_class, size=cfg.size, noise=cfg.noise,
                           test_fraction=cfg.test_fraction, seed=cfg.data_seed)
    timings["data_s"] = time.perf_counter() - t
    with threads(1):
        nets = _train_and_measure(cfg, data, tick, timings)
        t = time.perf_counter()
        pairs = _featvis(cfg, data, nets, tick)
        timings["featvis_s"] = time.perf_counter() - t
    if not nets["models"]:
        return _all_diverged_result(cfg, data, nets, timings)
    return _result(cfg, data, nets, pairs, timings)


def _train_and_measure(cfg: HierarchyConfig, data: StudyData, tick, timings: dict) -> dict:
    """Per seed: train, then measure the trained network (unless it diverged) and its random initialisation.

    A seed *diverged* by the rule of :mod:`nichelab.train.divergence`, or when its trained network's
    activations on the held-out images are not finite (finite but huge weights overflowing); its
    trained network is not measured (``nets["trained"][i]`` is None), its untrained control is.
    """
    S = len(cfg.seed_list)
    out = {"trained": [], "random": [], "loss": [], "params": [], "initial": [], "models": {}, "diverged": []}
    tick("training", 0, S)
    for i, seed in enumerate(cfg.seed_list):
        t = time.perf_counter()
        model = build_model(cfg.model, data.image_shape, data.train.n_classes, init=cfg.init, seed=seed)
        control = copy.deepcopy(model).eval()
        res = train_one(model, data.train.X, data.train.y, cfg.train_config(), seed=seed)
        diverged = bool(res.diverged) or _nonfinite_acts(model, data, cfg)
        timings["training_s"] += time.perf_counter() - t
        tick("training", i + 1, S)
        t = time.perf_counter()
        out["trained"].append(None if diverged else
                              measure_network(model, data, cfg, seed=seed, trained=True, examples=not out["models"]))
        out["random"].append(measure_network(control, data, cfg, seed=seed, trained=False))
        timings["measuring_s"] += time.perf_counter() - t
        tick("measuring", i + 1, S)
        out["diverged"].append(diverged)
        out["loss"].append(res.loss)
        out["params"].append({k: v.detach().numpy().copy() for k, v in model.state_dict().items()})
        out["initial"].append({k: v.detach().numpy().copy() for k, v in control.state_dict().items()})
        if not diverged and not out["models"]:
            out["models"] = {"trained": model, "random": control, "index": i}
    return out


def _nonfinite_acts(model, data: StudyData, cfg: HierarchyConfig) -> bool:
    """True when the network's hidden activations on the held-out images hold a NaN or infinity."""
    from ...capture import capture
    from .analysis import layer_geometry
    names = [g.name for g in layer_geometry(model, cfg.layers, data.image_shape)]
    maps = capture(model, data.test.X, names)
    return bool(any(nonfinite_rows(np.asarray(a)[None]).any() for a in maps.values()))


def feature_visualisation(model, net: NetworkMeasures, units: list[tuple[str, int]], data: StudyData,
                          cfg: HierarchyConfig, seed: int) -> dict:
    """Optimise an input for every chosen unit; ``{(layer, unit): (image, activation, cell)}``.

    Each unit's objective is scaled by its largest held-out activation and jittered by an
    eighth of its receptive field (0 for 3x3 first-layer units). With ``featvis_reduce="best"``
    a conv unit is maximised at the cell where it peaked on its best held-out image.
    """
    geoms = {l.name: l.geometry for l in net.layers}
    scale = [max(float(net.layer(layer).top_act[0, k]), 1e-3) for layer, k in units]
    jitter = [geoms[layer].rf // 8 for layer, _ in units]
    best = cfg.featvis_reduce == "best"
    cells = [tuple(int(v) for v in net.layer(layer).top_pos[0, k]) if geoms[layer].kind == "conv" and best
             else (centre_cell(geoms[layer], data.image_shape) if geoms[layer].kind == "conv"
                   and cfg.featvis_reduce == "center" else None)
             for layer, k in units]
    res = visualize_units(model, units, input_shape=data.image_shape, steps=cfg.featvis_steps,
                          baseline=float(data.train.X.mean()),
                          value_range=(float(data.train.X.min()), float(data.train.X.max())),
                          reduce="center" if best else cfg.featvis_reduce, positions=cells if best else None,
                          jitter=jitter, scale=scale, seed=seed)
    return {t: (res.images[i], float(res.activation[i]), cells[i]) for i, t in enumerate(res.targets)}


def _featvis(cfg: HierarchyConfig, data: StudyData, nets: dict, tick) -> list[dict]:
    """Feature visualisation of the chosen units in the shown seed's trained and random network
    (the first seed that did not diverge; none when every seed diverged)."""
    if not nets["models"]:
        return []
    shown = nets["models"]["index"]
    trained, random = nets["trained"][shown], nets["random"][shown]
    units = cfg.unit_list() or selective_units(trained, cfg.units_per_layer)
    if not units:
        return []
    seed = cfg.seed_list[shown]
    tick("featvis", 0, 2)
    fv_t = feature_visualisation(nets["models"]["trained"], trained, units, data, cfg, seed)
    tick("featvis", 1, 2)
    fv_r = feature_visualisation(nets["models"]["random"], random, units, data, cfg, seed)
    tick("featvis", 2, 2)
    out = []
    for layer, k in units:
        (it, at, ct), (ir, ar, cr) = fv_t[(layer, k)], fv_r[(layer, k)]
        out.append({"layer": layer, "unit_index": k, "image_trained": it, "act_trained": at,
                    "best_trained": float(trained.layer(layer).top_act[0, k]), "cell_trained": ct,
                    "image_random": ir, "act_random": ar, "best_random": float(random.layer(layer).top_act[0, k]),
                    "cell_random": cr})
    return out


# ---- the result ---------------------------------------------------------------------------------
def _ratio(act: float, best: float) -> float:
    return act / best if best > 0 else float("nan")


def _featvis_records(pairs: list[dict]) -> list[dict]:
    return [{"unit": f"{p['layer']}:{p['unit_index']}", "activation_trained": p["act_trained"],
             "best_example_trained": p["best_trained"], "ratio_trained": _ratio(p["act_trained"], p["best_trained"]),
             "activation_random": p["act_random"], "best_example_random": p["best_random"],
             "ratio_random": _ratio(p["act_random"], p["best_random"]),
             "cell_trained": None if p["cell_trained"] is None else list(p["cell_trained"]),
             "cell_random": None if p["cell_random"] is None else list(p["cell_random"])} for p in pairs]


def _data_record(data: StudyData) -> dict:
    return {"name": data.train.name, "n_train": len(data.train), "n_test": len(data.test),
            "image_shape": list(data.image_shape), "class_names": list(data.train.class_names),
            "part_names": data.test.meta.get("part_names"),
            "concepts": None if data.concepts is None else {"names": data.concepts.names,
                                                            "level": data.concepts.level},
            "object_class": data.object_name}


def _unit_record(l, k: int, data: StudyData) -> dict:
    u = {"name": f"{l.name}:{k}", "dead": bool(l.dead[k]), "osi": l.tuning.osi[k],
         "preferred_angle_deg": np.degrees(l.tuning.preferred[k]),
         "orientation_selective": bool(l.tuning.selective[k]), "drive": l.drive[k],
         "edge_detector": bool(l.edge_detector[k]),
         "object_ap": l.object_ap[k], "object_ap_chance": l.object_ap_chance[k],
         "selectivity": l.selectivity[k], "preferred_class": int(l.preferred[k]),
         "top_examples": l.top_idx[:, k].tolist(), "top_activations": l.top_act[:, k].tolist(),
         "top_positions": l.top_pos[:, k].tolist()}
    if l.object_ap_no_scrambled is not None:
        u["object_ap_no_scrambled"] = l.object_ap_no_scrambled[k]
    if l.dissection is not None:
        d, con, part_names = l.dissection, data.concepts, data.test.meta["part_names"]
        u.update({"best_part": part_names[l.part_best[k]] if l.part_best[k] >= 0 else None,
                  "best_part_iou": l.part_iou[k], "part_detector": bool(l.part_detector[k]),
                  "best_concept": con.names[d.best[k]] if d.best[k] >= 0 else None,
                  "best_concept_iou": d.best_iou[k], "best_concept_level": l.concept_level[k],
                  "threshold": d.thresholds[k]})
    return u


def _unit_records(net: NetworkMeasures, data: StudyData) -> list[dict]:
    """Per layer: geometry, probes, and every unit's measures."""
    return [{"layer": l.name, "kind": l.geometry.kind, "n_units": l.geometry.n_units,
             "receptive_field_px": l.geometry.rf, "stride_px": l.geometry.jump,
             "probe_class": l.probe_class, "probe_class_chance": l.probe_class_chance,
             "probe_parts": l.probe_parts, "probe_parts_chance": l.probe_parts_chance,
             "probe_scrambled": l.probe_scrambled, "probe_scrambled_chance": l.probe_scrambled_chance,
             "units": [_unit_record(l, k, data) for k in range(l.geometry.n_units)]} for l in net.layers]


def _per_layer(nets: dict, ap_threshold: float) -> dict:
    """``{which: {measure: {"mean": (L,), "per_seed": (S, L)}}}``."""
    out = {}
    for which in ("trained", "random"):
        summary = summarise(nets[which], ap_threshold)
        out[which] = {m: {"mean": seed_mean(v), "per_seed": v} for m, v in summary.items()}
    return out


def _verdict(stages: list[fx.StageVerdict], names: list[str], first: dict) -> dict:
    return {"story": fx.story_verdict(stages, names),
            "stages": [{"stage": s.stage, "holds": s.holds, "layer": names[s.layer] if s.layer >= 0 else None,
                        "text": s.sentence} for s in stages],
            "first_layer_face_vs_scrambled": first}


def _controls(stage_list, names: list[str], nets: dict, per_layer: dict) -> list:
    """Each placed stage's detectors in its layer, trained against untrained, as unit counts over seeds."""
    out = []
    for st in stage_list:
        if st.holds is None or st.layer < 0:
            continue
        measure = fx.STAGE_MEASURE[st.stage][0]
        n_units = nets["trained"][0].layers[st.layer].geometry.n_units
        k_t, n_t = fx.unit_counts(per_layer["trained"][measure]["per_seed"][:, st.layer], n_units)
        k_r, n_r = fx.unit_counts(per_layer["random"][measure]["per_seed"][:, st.layer], n_units)
        out.append(fx.stage_control(st, names[st.layer], k_t, n_t, k_r, n_r))
    return out


def _object_words(data: StudyData) -> tuple[str, str]:
    """What the object measures detect ("face", or "class") and their target in words."""
    if data.object_name:
        return data.object_name, f"the {data.object_name} class"
    return "class", "its preferred class"


def _kept(nets: dict) -> tuple[dict, list[int]]:
    """The networks of the seeds that did not diverge (the shown seed first), and their indices."""
    idx = [i for i, d in enumerate(nets["diverged"]) if not d]
    return {**{k: [nets[k][i] for i in idx] for k in ("trained", "random", "params", "initial")},
            "models": nets["models"]}, idx


def _expand(per_layer: dict, idx: list[int], S: int) -> dict:
    """Per-seed rows of the kept seeds put back at their places among S seeds; NaN rows for diverged seeds."""
    for which in per_layer.values():
        for v in which.values():
            full = np.full((S,) + v["per_seed"].shape[1:], np.nan)
            full[idx] = v["per_seed"]
            v["per_seed"] = full
    return per_layer


def _diverged_sentence(cfg: HierarchyConfig, diverged: list[bool]) -> list[str]:
    n = int(sum(diverged))
    if not n:
        return []
    which = ", ".join(str(s) for s, d in zip(cfg.seed_list, diverged) if d)
    control = ("" if n == len(diverged) else
               f" {'Their' if n > 1 else 'Its'} untrained control{'s are' if n > 1 else ' is'} left out with "
               f"{'them' if n > 1 else 'it'}.")
    return [left_out(n, len(diverged)) + f" Diverged: seed{'s' if n > 1 else ''} {which}; a diverged network's "
            "units are neither dead nor alive (its activations are not numbers)." + control]


def _result(cfg: HierarchyConfig, data: StudyData, all_nets: dict, pairs: list[dict], timings: dict) -> HierarchyResult:
    S = len(cfg.seed_list)
    nets, idx = _kept(all_nets)
    shown_seed = cfg.seed_list[idx[0]]
    names = [l.name for l in nets["trained"][0].layers]
    per_layer = _expand(_per_layer(nets, cfg.ap_threshold), idx, S)

    def m(measure: str, which: str = "trained") -> np.ndarray:
        return per_layer[which][measure]["mean"]

    first = {w: fx.first_layer_reaching(m("probe_scrambled", w), names, cfg.probe_threshold)
             for w in ("trained", "random")}
    view, images = _views(cfg, data, nets, pairs, per_layer)
    totals = fx.UnitTotals([l.geometry.n_units for l in nets["trained"][0].layers], len(idx))
    stage_list = fx.stages(m, names, cfg, has_masks=data.has_masks, object_name=view["object_name"],
                           object_target=view["object_target"], parts_by_layer=view["parts_by_layer"],
                           first_rf=nets["trained"][0].layers[0].geometry.rf, units=totals)
    verdict = _verdict(stage_list, names, first)
    controls = _controls(stage_list, names, nets, per_layer)
    verdict["controls"] = [{"stage": c.stage, "layer": c.layer, "trained": [c.k_trained, c.n_trained],
                            "untrained": [c.k_random, c.n_random], "learned": c.learned} for c in controls]
    verdict["plainly"] = fx.story_plainly(stage_list, controls, totals)
    featvis = _featvis_records(pairs)
    for i, p in enumerate(pairs):
        images[f"featvis.{i}.image_trained"] = np.asarray(p["image_trained"], dtype=np.float32)
        images[f"featvis.{i}.image_random"] = np.asarray(p["image_random"], dtype=np.float32)
    return HierarchyResult(
        config=cfg, seeds=cfg.seed_list, data=_data_record(data), layers=names,
        measures={k: {"label": v[0], "description": v[1]} for k, v in MEASURES.items()},
        per_layer=per_layer,
        test_accuracy={"trained": [float("nan") if n is None else n.test_acc for n in all_nets["trained"]],
                       "random": [n.test_acc for n in all_nets["random"]]},
        verdict=verdict, reference={"lee_2009_face_auprc_layers_1_3": list(fx.LEE_2009_AUPRC)},
        featvis=featvis,
        units={w: [None if n is None else _unit_records(n, data) for n in all_nets[w]] for w in ("trained", "random")},
        loss_curves=np.array(all_nets["loss"]),
        findings=_findings(cfg, data, nets, stage_list, verdict, featvis, m, names, first, shown_seed,
                           all_nets["diverged"], totals),
        views=view, timings=timings,
        params={k: np.stack([p[k] for p in all_nets["params"]]) for k in all_nets["params"][0]},
        initial={k: np.stack([p[k] for p in all_nets["initial"]]) for k in all_nets["initial"][0]},
        images=images, diverged=[bool(d) for d in all_nets["diverged"]])


def _findings(cfg, data: StudyData, nets: dict, stage_list, verdict: dict, featvis: list[dict], m, names,
              first: dict, shown_seed: int, diverged: list[bool], totals) -> dict:
    l1 = nets["trained"][0].layers[0]
    scrambled = first if data.scrambled_class is not None else None
    how = ("the units given in units" if cfg.units else
           f"the {cfg.units_per_layer} most class-selective units of each layer")
    y = np.asarray(data.test.y)
    chance = float(np.bincount(y).max() / len(y)) if len(y) else float("nan")
    out = {"summary": _diverged_sentence(cfg, diverged)
           + fx.accuracy_warning([n.test_acc for n in nets["trained"]], len(y), chance)
           + [verdict["plainly"]] + fx.summary_findings(verdict["story"], stage_list, scrambled,
                                                                 cfg.probe_threshold)[1:],
           "edges": fx.edge_findings(stage_list[0], m, names, stimulus=cfg.stimulus, first_layer=l1.name,
                                     seed=shown_seed,
                                     preferred_deg=[float(np.degrees(p)) for p, e in
                                                    zip(l1.tuning.preferred, l1.edge_detector) if e], units=totals),
           "parts": [stage_list[1].sentence],
           "objects": fx.object_findings(stage_list[2], m, names, has_object=data.object_class is not None,
                                         has_scrambled=data.scrambled_class is not None,
                                         has_masks=data.has_masks),
           "examples": fx.example_findings(shown_seed),
           "featvis": fx.featvis_findings([f["ratio_trained"] for f in featvis],
                                          [f["ratio_random"] for f in featvis], how=how, steps=cfg.featvis_steps)}
    if scrambled is not None:
        out["scrambled"] = fx.scrambled_findings(m, names, first, cfg.probe_threshold)
    return out


def _all_diverged_result(cfg: HierarchyConfig, data: StudyData, nets: dict, timings: dict) -> HierarchyResult:
    """Every seed diverged: nothing trained to measure; the untrained networks (the control) only."""
    S = len(cfg.seed_list)
    names = [l.name for l in nets["random"][0].layers]
    per_layer = _per_layer({"trained": nets["random"], "random": nets["random"]}, cfg.ap_threshold)
    for v in per_layer["trained"].values():
        v["mean"] = np.full_like(v["mean"], np.nan)
        v["per_seed"] = np.full_like(v["per_seed"], np.nan)
    obj, target = _object_words(data)
    story = (f"{'Every one of the' if S > 1 else 'The'} {plural(S, 'trained network') if S > 1 else 'trained network'} diverged, so this run cannot tell whether the layers learn "
             "edges, then parts, then objects; only the untrained networks (the control) were measured.")
    summary = _diverged_sentence(cfg, nets["diverged"]) + [
        story, f"Try a smaller learning rate (this run used --lr {cfg.lr:g}) or fewer epochs."]
    return HierarchyResult(
        config=cfg, seeds=cfg.seed_list, data=_data_record(data), layers=names,
        measures={k: {"label": v[0], "description": v[1]} for k, v in MEASURES.items()},
        per_layer=per_layer,
        test_accuracy={"trained": [float("nan")] * S, "random": [n.test_acc for n in nets["random"]]},
        verdict={"story": story, "stages": [], "first_layer_face_vs_scrambled": {}, "controls": [],
                 "plainly": story},
        reference={"lee_2009_face_auprc_layers_1_3": list(fx.LEE_2009_AUPRC)}, featvis=[],
        units={"trained": [None] * S, "random": [_unit_records(n, data) for n in nets["random"]]},
        loss_curves=np.array(nets["loss"]), findings={"summary": summary},
        views={"object_name": obj, "object_target": target, "user_units": bool(cfg.units),
               "parts_by_layer": [""] * len(names)},
        timings=timings,
        params={k: np.stack([p[k] for p in nets["params"]]) for k in nets["params"][0]},
        initial={k: np.stack([p[k] for p in nets["initial"]]) for k in nets["initial"][0]},
        images={}, diverged=[True] * S)


def _views(cfg: HierarchyConfig, data: StudyData, nets: dict, pairs: list[dict], per_layer: dict) -> tuple[dict, dict]:
    """Figure-ready numbers (JSON) and images (weights file) of the first seed and the per-layer means."""
    net_t, net_r = nets["trained"][0], nets["random"][0]
    X, classes = data.test.X, list(data.train.class_names)
    part_names = data.test.meta.get("part_names")
    obj, target = _object_words(data)
    l1t, l1r = net_t.layers[0], net_r.layers[0]
    key = f"{l1t.name}.conv.weight"
    out = {"object_name": obj, "object_target": target, "user_units": bool(cfg.units),
           "value_range": [float(X.min()), float(X.max())],
           "parts_by_layer": views.parts_by_layer(net_t, part_names) if data.has_masks else [""] * len(net_t.layers),
           "filters": views.filters(l1t, l1r, nets["params"][0][key][:, :1], nets["initial"][0][key][:, :1]),
           "strips": {"osi": views.strip([l.tuning.osi for l in net_t.layers], [l.tuning.osi for l in net_r.layers]),
                      "object_ap": {**views.strip([l.object_ap for l in net_t.layers],
                                                  [l.object_ap for l in net_r.layers]),
                                    "chance": np.array([np.nanmean(l.object_ap_chance) for l in net_t.layers])}}}
    images = {}
    if data.has_masks:
        conv = [i for i, l in enumerate(net_t.layers) if l.dissection is not None]
        n_parts = len(part_names)
        level_mean = {w: {lvl: per_layer[w][f"level_{lvl}"]["mean"] for lvl in ("edge", "part", "object")}
                      for w in ("trained", "random")}
        out["parts"] = {"conv_layers": conv, "part_names": list(part_names),
                        "n_units": [net_t.layers[i].geometry.n_units for i in conv],
                        "counts": {w: views.part_counts(nets[w], conv, n_parts) for w in ("trained", "random")},
                        "levels": {w: views.levels(level_mean[w], conv) for w in ("trained", "random")}}
        out["iou_examples"], images_iou = views.iou_examples(net_t, X)
        images.update(images_iou)
    out["gallery"], images_g = views.gallery(net_t, X, classes, part_names)
    out["featvis"], images_f = views.featvis_rows(pairs, net_t, X, data.image_shape, classes, part_names)
    images.update(images_g)
    images.update(images_f)
    return out, images
