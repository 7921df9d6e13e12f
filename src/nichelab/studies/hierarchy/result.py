"""The hierarchy study's result: every number, the report and the terminal summary."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property

import numpy as np

from ...reporting.model import Figure, Report, Section, Table
from ...reporting.figures import hierarchy as viz
from . import findings as fx
from .analysis import LayerGeometry, LayerMeasures, NetworkMeasures, centre_cell, patch_box, selective_units
from .config import HierarchyConfig
from .data import StudyData
from .summary import LEVELS, MEASURES, summarise

__all__ = ["HierarchyResult", "FeatVisPair", "top_patches", "crop"]


@dataclass
class FeatVisPair:
    """Feature visualisation of one unit in the trained network and in its random initialisation.

    ``act_*`` is the unit's activation on its optimised input, ``best_*`` its largest activation
    on a held-out image, ``cell_*`` the map cell that was maximised (None: dense layer, or a
    spatial max / mean objective).
    """

    layer: str
    unit: int
    image_trained: np.ndarray
    act_trained: float
    best_trained: float
    image_random: np.ndarray
    act_random: float
    best_random: float
    cell_trained: tuple | None = None
    cell_random: tuple | None = None

    @property
    def name(self) -> str:
        return f"{self.layer}:{self.unit}"

    @staticmethod
    def ratio(act: float, best: float) -> float:
        return act / best if best > 0 else float("nan")


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


def top_patches(lm: LayerMeasures, unit: int, X: np.ndarray) -> tuple[list[np.ndarray], tuple[int, int, int]]:
    """Context windows around the receptive field of a unit's top activations, and the field's box in them."""
    out, box = [], (0, 0, 0)
    for r in range(lm.top_idx.shape[0]):
        win, box = crop(X[lm.top_idx[r, unit]], lm.geometry, *lm.top_pos[r, unit])
        out.append(win)
    return out, box


def _mean(a: np.ndarray) -> np.ndarray:
    """Mean over seeds (axis 0), ignoring NaN; NaN where every seed is NaN (e.g. dense layers' IoU)."""
    a = np.asarray(a, dtype=float)
    n = np.isfinite(a).sum(axis=0)
    return np.where(n > 0, np.where(np.isfinite(a), a, 0.0).sum(axis=0) / np.maximum(n, 1), np.nan)


@dataclass
class HierarchyResult:
    """Everything the hierarchy study measured.

    Attributes
    ----------
    config : HierarchyConfig
    data : StudyData
    trained, random : list of NetworkMeasures
        One per seed: the trained network and its random initialisation (the control).
    loss : (S, epochs) float — training loss per epoch.
    params, init_params : list of dict — each seed's trained and initial weights.
    featvis : list of FeatVisPair — the visualised units (of the first seed).
    user_units : bool — the units came from ``--units`` (else the most selective per layer).
    timings : dict of str -> seconds.
    """

    config: HierarchyConfig
    data: StudyData
    trained: list
    random: list
    loss: np.ndarray
    params: list
    init_params: list
    featvis: list
    user_units: bool = False
    timings: dict = field(default_factory=dict)

    study = "hierarchy"

    # ---- numbers -------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [l.name for l in self.trained[0].layers]

    @cached_property
    def summary(self) -> dict[str, dict[str, np.ndarray]]:
        """``{"trained" | "random": {measure: (S, L)}}``."""
        thr = self.config.ap_threshold
        return {"trained": summarise(self.trained, thr), "random": summarise(self.random, thr)}

    def mean(self, measure: str, which: str = "trained") -> np.ndarray:
        """(L,) mean over seeds."""
        return _mean(self.summary[which][measure])

    @property
    def object_name(self) -> str:
        """What the object measures detect: "face", or "class" (each unit's preferred class)."""
        return self.data.object_name or "class"

    @property
    def object_target(self) -> str:
        return f"the {self.data.object_name} class" if self.data.object_name else "its preferred class"

    def parts_by_layer(self, which: str = "trained") -> list[str]:
        """Per layer: ``"eye ×2, window"`` — the parts the first seed's part detectors detect."""
        out = []
        net = (self.trained if which == "trained" else self.random)[0]
        names = self.data.test.meta.get("part_names", [])
        for l in net.layers:
            if l.part_detector is None:
                out.append("")
                continue
            found = [names[b] for b in l.part_best[l.part_detector]]
            out.append(", ".join(f"{p} ×{found.count(p)}" if found.count(p) > 1 else p
                                 for p in dict.fromkeys(found)))
        return out

    @cached_property
    def stages(self) -> list[fx.StageVerdict]:
        """The verdict on edges, parts and objects."""
        m, names, c = self.mean, self.names, self.config
        level = m("level_edge") if self.data.has_masks else None
        edges = fx.edge_stage(m("edge_detectors"), m("edge_detectors", "random"), m("orientation_selective"), level,
                              names, c.osi_threshold, c.drive_threshold, c.stimulus)
        parts = fx.part_stage(m("part_detectors"), m("part_detectors", "random"), m("level_part"),
                              m("level_part", "random"), m("level_edge"), names, c.iou_threshold,
                              self.parts_by_layer(), self.trained[0].layers[0].geometry.rf)
        objects = fx.object_stage(m("object_detectors"), m("object_detectors", "random"), m("object_ap_max"),
                                  m("object_ap_max", "random"), names, c.ap_threshold, self.object_name,
                                  self.object_target.replace("its ", "their "))
        return [edges, parts, objects]

    def verdict(self) -> str:
        return fx.story_verdict(self.stages, self.names)

    def scrambled_layers(self) -> tuple[str | None, str | None]:
        """First layer whose face-vs-scrambled probe reaches the threshold: (trained, random)."""
        thr = self.config.probe_threshold
        return (fx.first_layer_reaching(self.mean("probe_scrambled"), self.names, thr),
                fx.first_layer_reaching(self.mean("probe_scrambled", "random"), self.names, thr))

    def _unit_records(self, net: NetworkMeasures) -> list[dict]:
        con = self.data.concepts
        out = []
        for l in net.layers:
            units = []
            for k in range(l.geometry.n_units):
                u = {"name": f"{l.name}:{k}", "dead": bool(l.dead[k]), "osi": l.tuning.osi[k],
                     "preferred_angle_deg": np.degrees(l.tuning.preferred[k]),
                     "orientation_selective": bool(l.tuning.selective[k]), "drive": l.drive[k],
                     "edge_detector": bool(l.edge_detector[k]),
                     "object_ap": l.object_ap[k], "object_ap_chance": l.object_ap_chance[k],
                     "selectivity": l.selectivity[k], "preferred_class": int(l.preferred[k]),
                     "top_examples": l.top_idx[:, k].tolist(), "top_activations": l.top_act[:, k].tolist()}
                if l.object_ap_no_scrambled is not None:
                    u["object_ap_no_scrambled"] = l.object_ap_no_scrambled[k]
                if l.dissection is not None:
                    d = l.dissection
                    part_names = self.data.test.meta["part_names"]
                    u.update({"best_part": part_names[l.part_best[k]] if l.part_best[k] >= 0 else None,
                              "best_part_iou": l.part_iou[k], "part_detector": bool(l.part_detector[k]),
                              "best_concept": con.names[d.best[k]] if d.best[k] >= 0 else None,
                              "best_concept_iou": d.best_iou[k], "best_concept_level": l.concept_level[k],
                              "threshold": d.thresholds[k]})
                units.append(u)
            out.append({"layer": l.name, "kind": l.geometry.kind, "n_units": l.geometry.n_units,
                        "receptive_field_px": l.geometry.rf, "stride_px": l.geometry.jump,
                        "probe_class": l.probe_class, "probe_class_chance": l.probe_class_chance,
                        "probe_parts": l.probe_parts, "probe_parts_chance": l.probe_parts_chance,
                        "probe_scrambled": l.probe_scrambled, "probe_scrambled_chance": l.probe_scrambled_chance,
                        "units": units})
        return out

    def to_json(self) -> dict:
        """Every number in the report: config, per-layer summaries, per-unit records, verdicts."""
        d = self.data
        per_layer = {which: {m: {"mean": self.mean(m, which), "per_seed": v}
                             for m, v in self.summary[which].items()} for which in ("trained", "random")}
        t_first, r_first = self.scrambled_layers()
        return {
            "study": "hierarchy", "config": asdict(self.config), "seeds": self.config.seed_list,
            "data": {"name": d.train.name, "n_train": len(d.train), "n_test": len(d.test),
                     "image_shape": d.image_shape, "class_names": d.train.class_names,
                     "part_names": d.test.meta.get("part_names"),
                     "concepts": None if d.concepts is None else {"names": d.concepts.names, "level": d.concepts.level},
                     "object_class": d.object_name},
            "layers": self.names, "measures": {k: {"label": v[0], "description": v[1]} for k, v in MEASURES.items()},
            "per_layer": per_layer,
            "test_accuracy": {"trained": [n.test_acc for n in self.trained], "random": [n.test_acc for n in self.random]},
            "verdict": {"story": self.verdict(),
                        "stages": [{"stage": s.stage, "holds": s.holds,
                                    "layer": self.names[s.layer] if s.layer >= 0 else None,
                                    "text": s.sentence} for s in self.stages],
                        "first_layer_face_vs_scrambled": {"trained": t_first, "random": r_first}},
            "reference": {"lee_2009_face_auprc_layers_1_3": fx.LEE_2009_AUPRC},
            "featvis": [{"unit": p.name, "activation_trained": p.act_trained, "best_example_trained": p.best_trained,
                         "ratio_trained": p.ratio(p.act_trained, p.best_trained), "activation_random": p.act_random,
                         "best_example_random": p.best_random, "ratio_random": p.ratio(p.act_random, p.best_random)}
                        for p in self.featvis],
            "units": {"trained": [self._unit_records(n) for n in self.trained],
                      "random": [self._unit_records(n) for n in self.random]},
            "loss_curves": self.loss, "timings": self.timings,
        }

    def weights(self) -> dict[str, np.ndarray]:
        """Every seed's trained weights stacked on axis 0, its initial weights (``initial.*``) and the seeds."""
        out = {k: np.stack([p[k] for p in self.params]) for k in self.params[0]}
        out.update({f"initial.{k}": np.stack([p[k] for p in self.init_params]) for k in self.init_params[0]})
        out["seeds"] = np.asarray(self.config.seed_list, dtype=np.int64)
        return out

    def summary_table(self) -> Table:
        """The terminal summary: per layer, trained (random init)."""
        def cell(measure, i, as_pct=True):
            f = fx.pct if as_pct else fx.num
            return f"{f(self.mean(measure)[i])} ({f(self.mean(measure, 'random')[i])})"
        rows = [[n, cell("edge_detectors", i), cell("part_detectors", i), cell("object_detectors", i),
                 cell("object_ap_max", i, False), cell("probe_class", i)] for i, n in enumerate(self.names)]
        acc = np.mean([n.test_acc for n in self.trained])
        return Table(["layer", "edge detectors", "part detectors", f"{self.object_name} detectors",
                      f"best {self.object_name} AUPRC", "class probe"], rows,
                     f"hierarchy on {self.data.train.name}: trained (random init); test accuracy {fx.pct(acc)}")

    # ---- report --------------------------------------------------------------------------
    def to_report(self) -> Report:
        """The HTML report: the question first, the measured answer, then figures and tables."""
        sections = [self._section_edges()]
        sections.append(self._section_parts() if self.data.has_masks else self._section_no_parts())
        sections.append(self._section_objects())
        if self.data.scrambled_class is not None:
            sections.append(self._section_scrambled())
        sections += [self._section_examples(), self._section_featvis(), self._section_table()]
        summary = [self.verdict()] + [s.sentence.split(". ")[0] + "." for s in self.stages if s.holds is not None]
        if self.data.scrambled_class is not None:
            t_first, r_first = self.scrambled_layers()
            thr = fx.pct(self.config.probe_threshold)
            summary.append(f"A linear probe first tells faces from scrambled faces ({thr} held-out accuracy) at "
                           f"{t_first or 'no layer'}; in the untrained network at {r_first or 'no layer'}.")
        return Report(title="Edges, then parts, then faces? What each layer of a small CNN detects",
                      summary=summary, setup=self._setup(), sections=sections)

    def _setup(self) -> dict:
        c, d = self.config, self.data
        data = {"parts": f"procedural parts images ({', '.join(d.train.class_names)}), {c.per_class} per class, "
                         f"{c.size}x{c.size} px, noise {c.noise}, with part masks and stroke orientations",
                "faces": "LFW subset from scikit-image: 100 faces and 100 non-faces, 25x25 px",
                "digits": "scikit-learn digits, 8x8 px, 10 classes"}[c.dataset]
        acc = [n.test_acc for n in self.trained]
        geo = ", ".join(f"{l.name} {l.geometry.kind} {l.geometry.n_units} units, RF {l.geometry.rf} px"
                        for l in self.trained[0].layers)
        return {
            "data": f"{data}; {len(d.train)} training and {len(d.test)} held-out images (stratified, data seed "
                    f"{c.data_seed}); every measure is taken on the held-out images",
            "model": f"{c.model}: 3x3 convs with ReLU and 2x2 max-pooling, then dense layers; {geo}",
            "training": f"{c.optimizer}, lr {c.lr}, {c.epochs} epochs, batch {c.batch_size}, init {c.init}; "
                        f"held-out accuracy {', '.join(fx.pct(a) for a in acc)} (seed{'s' if len(acc) > 1 else ''} "
                        f"{', '.join(map(str, c.seed_list))})",
            "control": "the same network at its random initialisation (before training), measured the same way",
            "conv units": "reduced to one number per image by their spatial maximum (post-ReLU, before pooling) for "
                          "selectivity, AUPRC, probes and top examples",
            "edge detector": (f"orientation selectivity index OSI = |Σ r e^(2iθ)| / Σ r ≥ {c.osi_threshold:g} over 12 "
                              "orientations, and a strongest stimulus response of at least "
                              f"{fx.pct(c.drive_threshold)} of the unit's largest held-out activation; stimuli: "
                              + ("white bars on black, 5 positions per orientation (each unit's best-placed cell whose "
                                 "receptive field lies inside the image, averaged over positions)" if c.stimulus == "bars"
                                 else "sinusoidal gratings, 3 frequencies x 4 phases (mean over the cells whose "
                                      "receptive field lies inside the image; each unit at its best frequency, "
                                      "averaged over phase)")),
            "part detector": f"Network Dissection: threshold at the unit's top 0.5% activation, upsample bilinearly, "
                             f"IoU with the part's mask summed over the images > {c.iou_threshold:g}",
            "object detector": f"AUPRC of the unit alone for {self.object_target} ≥ {c.ap_threshold:g}",
            "probes": f"logistic regression on one layer's (spatially max-reduced) units, held-out accuracy, mean of "
                      f"{c.probe_repeats} splits",
        }

    # -- sections
    def _depth(self, panels: list[dict]) -> bytes:
        return viz.fig_depth(self.names, panels)

    def _bands(self) -> str:
        n = len(self.trained)
        return f" Lines: mean over {n} seeds; bands: their range." if n > 1 else ""

    def _series(self, measure: str, label: str):
        return (label, self.summary["trained"][measure], self.summary["random"][measure])

    def _section_edges(self) -> Section:
        c, st = self.config, self.stages[0]
        net_t, net_r = self.trained[0], self.random[0]
        l1t, l1r = net_t.layers[0], net_r.layers[0]
        w_t = self.params[0][f"{l1t.name}.conv.weight"]
        w_r = self.init_params[0][f"{l1t.name}.conv.weight"]
        pref = [f"{np.degrees(p):.0f}°" for p, e in zip(l1t.tuning.preferred, l1t.edge_detector) if e]
        stim = "bars" if c.stimulus == "bars" else "stripes"
        findings = [st.sentence,
                    f"The median drive (strongest response to a {stim[:-1]} / largest response to a held-out image) "
                    f"{fx.trend(self.mean('drive_median'), self.names, as_pct=False)}; untrained: "
                    f"{fx._series(self.mean('drive_median', 'random'), self.names, False)}.",
                    (f"The edge detectors of {l1t.name} (seed {c.seed_list[0]}) prefer {stim} at "
                     f"{', '.join(pref)} (0° horizontal, 90° vertical)." if pref else
                     f"No unit of {l1t.name} (seed {c.seed_list[0]}) is an edge detector.")]
        figs = [Figure(self._depth([{"title": "Edge detectors by depth", "ylabel": "share of units",
                                     "series": [self._series("edge_detectors", "edge detectors")]},
                                    {"title": "Orientation-selective units by depth", "ylabel": "share of units",
                                     "series": [self._series("orientation_selective", "OSI ≥ threshold")]}]),
                       "Left: tuned and strongly driven units; right: every tuned unit. Where the solid (trained) and "
                       "dashed (untrained) lines coincide, training did not change how many units are tuned."
                       + self._bands()),
                Figure(viz.fig_filters(w_t, w_r, l1t.tuning.angles, l1t.tuning.curves, l1r.tuning.curves,
                                       l1t.tuning.osi, l1r.tuning.osi, l1t.edge_detector, l1r.edge_detector, stim),
                       "Each first-layer filter before and after training: an edge detector has a light and a dark "
                       "side and a tuning curve with one clear peak."),
                Figure(viz.fig_unit_strip(self.names, [l.tuning.osi for l in net_t.layers],
                                          [l.tuning.osi for l in net_r.layers], "OSI (1 − circular variance)",
                                          f"Orientation selectivity of every unit to {stim} (first seed)",
                                          threshold=c.osi_threshold,
                                          threshold_label=f"selective: OSI ≥ {c.osi_threshold:g}"),
                       "Dots above the dashed line are orientation-selective units; compare the medians (black bars) "
                       "layer by layer.")]
        return Section("Edges: does the first layer find edges?",
                       question="Do units respond to oriented edges, and is that most common in the first layer?",
                       findings=findings, figures=figs)

    def _section_no_parts(self) -> Section:
        return Section("Parts: not measurable on this dataset",
                       question="Does a middle layer find object parts?",
                       findings=[self.stages[1].sentence])

    def _section_parts(self) -> Section:
        c, st = self.config, self.stages[1]
        conv = [i for i, l in enumerate(self.trained[0].layers) if l.dissection is not None]
        names = [self.names[i] for i in conv]
        part_names = self.data.test.meta["part_names"]

        def counts(nets):
            return np.mean([[np.bincount(net.layers[i].part_best[net.layers[i].part_detector], minlength=len(part_names))
                             for i in conv] for net in nets], axis=0)

        lv = {which: {lvl: self.mean(f"level_{lvl}", which)[conv] for lvl in LEVELS} for which in ("trained", "random")}
        for which in lv:
            lv[which]["none"] = 1 - sum(lv[which][lvl] for lvl in LEVELS)
        figs = [Figure(viz.fig_depth(names, [{"title": "Part detectors by depth (conv layers)",
                                              "ylabel": "share of units",
                                              "series": [self._conv_series("part_detectors",
                                                                           "best part IoU > threshold", conv),
                                                         self._conv_series("level_part", "best concept is a part", conv)]}],
                                     width=5.0),
                       "Blue: units whose best part passes the IoU threshold; green: those that also match a part "
                       "better than any edge orientation or whole object. Dashed: the untrained network."
                       + self._bands()),
                Figure(viz.fig_levels(names, lv["trained"], lv["random"]),
                       "Read each pair of bars as the layer's census: which level of concept its units match best."),
                Figure(viz.fig_part_heatmap(names, part_names, counts(self.trained), counts(self.random),
                                            [self.trained[0].layers[i].geometry.n_units for i in conv]),
                       "Which parts have detectors, and in which layer: darker cells hold more detectors.")]
        ex = []
        for i in conv:
            for e in self.trained[0].layers[i].iou_examples:
                ex.append({**e, "title": f"{self.names[i]}:{e['unit']}\n{e['part']}\nIoU {e['iou']:.2f}"})
        if ex:
            figs.append(Figure(viz.fig_iou_examples(ex, self.data.test.X),
                               "Where the orange outline covers the blue part, the unit detects that part on that image."))
        return Section("Parts: does a middle layer find eyes, noses and wheels?",
                       question="Which units' activation maps coincide with the masks of object parts, and in "
                                "which layers?",
                       findings=[st.sentence], figures=figs)

    def _conv_series(self, measure: str, label: str, conv: list[int]):
        return (label, self.summary["trained"][measure][:, conv], self.summary["random"][measure][:, conv])

    def _section_objects(self) -> Section:
        c, st = self.config, self.stages[2]
        obj = self.object_name
        net_t, net_r = self.trained[0], self.random[0]
        findings = [st.sentence]
        mean_t = self.mean("object_ap_mean")
        if self.data.object_class is not None:
            lee = ", ".join(f"{v:.2f}" for v in fx.LEE_2009_AUPRC)
            extra = ""
            if self.data.scrambled_class is not None:
                extra = (f" Leaving scrambled faces out (faces against the other objects only, as in Lee et al.), "
                         f"the mean is {fx._series(self.mean('object_ap_no_scrambled_mean'), self.names, False)} and "
                         f"the best unit {fx._series(self.mean('object_ap_no_scrambled_max'), self.names, False)}.")
            findings.append(
                f"For comparison, Lee et al. 2009 report a mean face AUPRC of {lee} for the features of layers 1–3 of a "
                f"network trained on faces alone. Here the mean over all units is "
                f"{fx._series(mean_t, self.names, False)} (chance {fx.num(self.mean('object_ap_chance')[0])}): most units "
                f"here serve the other classes, so the best units and the trend are the fair comparison.{extra}")
        sel_t, sel_r = self.mean("selectivity_mean"), self.mean("selectivity_mean", "random")
        same = bool(np.nanmax(np.abs(sel_t - sel_r)) <= fx.TOL) if np.isfinite(sel_t - sel_r).any() else False
        findings.append(f"Mean class selectivity of live units {fx.trend(sel_t, self.names, as_pct=False)}; "
                        f"untrained: {fx._series(sel_r, self.names, False)}. Morcos et al. 2018 found it rises with depth"
                        + ("; here the untrained network's is within 0.05 of the trained one's in every layer, so the "
                           "change with depth is not something training produced." if same else "."))
        pr_t, pr_r = self.mean("probe_class"), self.mean("probe_class", "random")
        findings.append(f"The held-out accuracy of a linear probe for the class {fx.trend(pr_t, self.names)}; on the "
                        f"untrained network it is {fx._series(pr_r, self.names, True)} (chance "
                        f"{fx.pct(self.mean('probe_class_chance')[0])}). " + self._probe_gain(pr_t, pr_r))
        if self.data.has_masks:
            findings.append(f"The accuracy of a probe for the presence of each part "
                            f"{fx.trend(self.mean('probe_parts'), self.names)} "
                            f"(untrained: {fx._series(self.mean('probe_parts', 'random'), self.names, True)}; chance "
                            f"{fx.pct(self.mean('probe_parts_chance')[0])}); part presence follows from the class here, "
                            "so it measures the same information as the class probe, per part.")
        ref = ({i: v for i, v in enumerate(fx.LEE_2009_AUPRC) if i < len(self.names)}
               if self.data.object_class is not None else None)
        chance = np.array([np.nanmean(l.object_ap_chance) for l in net_t.layers])
        probes = [self._series("probe_class", "class")]
        if self.data.has_masks:
            probes.append(self._series("probe_parts", "part presence"))
        figs = [Figure(viz.fig_unit_strip(self.names, [l.object_ap for l in net_t.layers],
                                          [l.object_ap for l in net_r.layers],
                                          f"AUPRC for {self.object_target} (one unit alone)",
                                          f"How well each unit alone detects {self.object_target} (first seed)",
                                          threshold=c.ap_threshold,
                                          threshold_label=f"detector: AUPRC ≥ {c.ap_threshold:g}",
                                          chance=chance,
                                          reference=("Lee et al. 2009 mean, layers 1–3", ref) if ref else None),
                       "Dots high above the dotted chance line are units that pick out "
                       f"{obj + ' images' if self.data.object_name else 'one class'} on their own."),
                Figure(self._depth([{"title": f"{obj.capitalize()} detectors by depth", "ylabel": "share of units",
                                     "series": [self._series("object_detectors", "AUPRC ≥ threshold")], "ylim": "auto"},
                                    {"title": "Class selectivity by depth", "ylabel": "mean selectivity index",
                                     "series": [self._series("selectivity_mean", "selectivity")]},
                                    {"title": "Linear probes by depth", "ylabel": "held-out accuracy",
                                     "series": probes, "chance": self.mean("probe_class_chance"),
                                     "chance_label": "class chance", "legend_loc": "lower right"}]),
                       "Where the solid line rises above the dashed one, training added class information to that layer."
                       + self._bands())]
        return Section(f"Objects: does the top find whole {obj + 's' if self.data.object_name else 'objects'}?",
                       question=f"Do single units detect {self.object_target.replace('its ', 'their ')} on their own, "
                                "and does that grow with depth as in Lee et al. 2009?",
                       findings=findings, figures=figs)

    def _probe_gain(self, t: np.ndarray, r: np.ndarray) -> str:
        gain = t - r
        i = fx.peak(gain)
        if i < 0 or not gain[i] > fx.TOL:
            return "No layer's probe beats the untrained network's by more than 5 points."
        return (f"Training added the most linearly readable class information in {self.names[i]} "
                f"(+{100 * gain[i]:.0f} points).")

    def _section_scrambled(self) -> Section:
        c = self.config
        t_first, r_first = self.scrambled_layers()
        acc_t, acc_r = self.mean("probe_scrambled"), self.mean("probe_scrambled", "random")
        s = (f"A linear probe on each layer's units tells faces from scrambled faces (same parts, wrong layout) with "
             f"held-out accuracy {fx._series(acc_t, self.names, True)} "
             f"(chance {fx.pct(self.mean('probe_scrambled_chance')[0])}). ")
        s += (f"The first layer to reach {fx.pct(c.probe_threshold)} is {t_first}. " if t_first else
              f"No layer reaches {fx.pct(c.probe_threshold)}. ")
        s += (f"In the untrained network: {fx._series(acc_r, self.names, True)}; "
              + (f"it first reaches {fx.pct(c.probe_threshold)} at {r_first}." if r_first else
                 f"it never reaches {fx.pct(c.probe_threshold)}."))
        note = ("Conv units are reduced to their spatial maximum, which keeps what a unit detects but not where; "
                "a layer separates the two classes only if some unit responds to the arrangement of the parts itself.")
        fig = Figure(self._depth([{"title": "Faces vs. scrambled faces", "ylabel": "probe held-out accuracy",
                                   "series": [self._series("probe_scrambled", "probe")],
                                   "chance": self.mean("probe_scrambled_chance"),
                                   "threshold": c.probe_threshold,
                                   "threshold_label": f"'tells apart': {fx.pct(c.probe_threshold)}",
                                   "ylim": (0.3, 1.03), "legend_loc": "lower right"}]),
                     "The first layer where the solid line crosses the dashed threshold is where the layout of a face "
                     "becomes readable." + self._bands())
        return Section("Faces vs. scrambled faces: which layer first tells them apart?",
                       question="Scrambled faces have every part of a face in the wrong place. Which layer first "
                                "distinguishes them from faces?",
                       findings=[s], figures=[fig], notes=[note])

    def _selective_units(self, net: NetworkMeasures, per_layer: int = 3) -> list[tuple[LayerMeasures, int]]:
        return [(net.layer(layer), k) for layer, k in selective_units(net, per_layer)]

    def _unit_label(self, l: LayerMeasures, k: int) -> str:
        cls = self.data.train.class_names
        label = f"{l.name}:{k}"
        if l.preferred[k] >= 0:
            label += f"\nprefers {cls[l.preferred[k]]}"
        if l.part_detector is not None and l.part_detector[k]:
            label += f"\n{self.data.test.meta['part_names'][l.part_best[k]]} IoU {l.part_iou[k]:.2f}"
        if l.edge_detector is not None and l.edge_detector[k]:
            label += f"\nedge {np.degrees(l.tuning.preferred[k]):.0f}°"
        return label

    def _value_range(self) -> tuple[float, float]:
        X = self.data.test.X
        return float(X.min()), float(X.max())

    def _section_examples(self) -> Section:
        net = self.trained[0]
        X = self.data.test.X
        rows = []
        for l, k in self._selective_units(net):
            patches, box = top_patches(l, k, X)
            rows.append((self._unit_label(l, k), patches, [f"{a:.1f}" for a in l.top_act[:, k]], box))
        lo, hi = self._value_range()
        fig = Figure(viz.fig_gallery(rows, vmin=lo, vmax=hi,
                                     title="Top held-out images of the most class-selective units of each layer\n"
                                           "(orange box: the unit's receptive field; number: its activation)"),
                     "Look at what the boxes of one row share: a stroke or a corner in L1, larger pieces deeper, "
                     "whole objects in the dense layer (light blue: outside the image).")
        return Section("What do single units respond to?",
                       question="Which held-out images drive the most class-selective units of each layer hardest?",
                       findings=[f"Rows are the three most class-selective units of each layer of seed "
                                 f"{self.config.seed_list[0]} (among units whose largest activation is at least a tenth "
                                 "of the layer's typical one), labelled with their preferred class, and their part or "
                                 "edge orientation when they detect one."],
                       figures=[fig])

    def _section_featvis(self) -> Section:
        if not self.featvis:
            return Section("Feature visualisation", question="What input maximises a unit?",
                           findings=["No unit was chosen (--units-per-layer 0 and no --units)."])
        X = self.data.test.X
        rows, ratios_t, ratios_r = [], [], []
        for p in self.featvis:
            l = self.trained[0].layer(p.layer)
            g = l.geometry
            rt, rr = p.ratio(p.act_trained, p.best_trained), p.ratio(p.act_random, p.best_random)
            ratios_t.append(rt)
            ratios_r.append(rr)
            centre = centre_cell(g, self.data.image_shape)
            patches, box = top_patches(l, p.unit, X)
            rows.append({"label": self._unit_label(l, p.unit),
                         "optimised": crop(p.image_trained, g, *(p.cell_trained or centre))[0], "ratio": rt,
                         "patches": patches, "random": crop(p.image_random, g, *(p.cell_random or centre))[0],
                         "random_ratio": rr, "box": box})
        lo, hi = self._value_range()
        how = "the units given with --units" if self.user_units else \
            f"the {self.config.units_per_layer} most class-selective units of each layer"
        rt = np.asarray(ratios_t, dtype=float)
        rr = np.asarray(ratios_r, dtype=float)
        findings = [f"For {how}, gradient ascent (Adam, {self.config.featvis_steps} steps; jitter, total-variation and L2 "
                    f"penalties; pixels kept in the data's range) found inputs that drive the trained unit to "
                    f"{fx.num(np.nanmin(rt), 1)}–{fx.num(np.nanmax(rt), 1)} times its best held-out image's activation "
                    f"({int(np.sum(rt > 1))} of {len(rt)} above 1); the same units before training reach "
                    f"{fx.num(np.nanmin(rr), 1)}–{fx.num(np.nanmax(rr), 1)} times theirs.",
                    "An optimised input shows what can drive a unit, not what drives it on real images: compare it with "
                    "the real examples beside it before reading it as a 'part' or a 'face'."]
        fig = Figure(viz.fig_featvis(rows, vmin=lo, vmax=hi),
                     "Compare each optimised input (left) with the real examples in its row, and with the same unit "
                     "before training (right).")
        return Section("Feature visualisation: what input does a unit want most?",
                       question="What input maximises a unit, and how does it compare with the unit's best real examples?",
                       findings=findings, figures=[fig],
                       notes=["Conv units: the input maximises the unit at the cell where it peaked on its best "
                              "held-out image (its pre-activation, so silent units still get a gradient) and is shown "
                              "cropped around that cell's receptive field; its activation is compared with that best "
                              "image's."])

    def _section_table(self) -> Section:
        m = self.mean
        cols = ["layer", "units", "RF px", "edge detectors", "orientation-selective", "median OSI", "part detectors",
                "parts detected (first seed)",
                f"{self.object_name} detectors", f"mean {self.object_name} AUPRC", f"best {self.object_name} AUPRC",
                "mean selectivity", "class probe", "part probe", "face vs scrambled"]
        parts = self.parts_by_layer()
        rows = []
        for i, (n, l) in enumerate(zip(self.names, self.trained[0].layers)):
            def both(measure, as_pct=True):
                f = fx.pct if as_pct else fx.num
                return f"{f(m(measure)[i])} ({f(m(measure, 'random')[i])})"
            rows.append([n, l.geometry.n_units, l.geometry.rf, both("edge_detectors"), both("orientation_selective"),
                         both("osi_median", False),
                         both("part_detectors"), parts[i] or "–", both("object_detectors"), both("object_ap_mean", False),
                         both("object_ap_max", False), both("selectivity_mean", False), both("probe_class"),
                         both("probe_parts"), both("probe_scrambled")])
        tables = [Table(cols, rows, f"Per layer, trained (random init), mean over {len(self.trained)} seed(s)")]
        units = []
        for l in self.trained[0].layers:
            for k in range(l.geometry.n_units):
                units.append([f"{l.name}:{k}", "dead" if l.dead[k] else ("edge" if l.edge_detector[k] else ""),
                              fx.num(l.tuning.osi[k]), fx.num(l.drive[k]), "–" if not np.isfinite(l.tuning.preferred[k])
                              else f"{np.degrees(l.tuning.preferred[k]):.0f}°",
                              "–" if l.dissection is None or l.dissection.best[k] < 0 else
                              f"{self.data.concepts.names[l.dissection.best[k]]} ({fx.num(l.dissection.best_iou[k])})",
                              "–" if l.part_best is None or l.part_best[k] < 0 else
                              f"{self.data.test.meta['part_names'][l.part_best[k]]} ({fx.num(l.part_iou[k])})",
                              fx.num(l.object_ap[k]), fx.num(l.selectivity[k]),
                              self.data.train.class_names[l.preferred[k]] if l.preferred[k] >= 0 else "–"])
        tables.append(Table(["unit", "", "OSI", "drive", "preferred angle", "best concept (IoU)", "best part (IoU)",
                             f"{self.object_name} AUPRC", "selectivity", "preferred class"], units,
                            f"Every unit of the trained network, seed {self.config.seed_list[0]}"))
        return Section("Every layer in numbers", question="What was measured in each layer?", tables=tables,
                       notes=["Part detectors count units whose best part has IoU above the threshold; 'best concept' "
                              "is taken over edge orientations, parts and whole objects."])
