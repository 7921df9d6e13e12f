"""The census result: every number (JSON), the HTML report, the terminal summary and the weights."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ...reporting.model import Figure, Report, Section, Table
from ...reporting.figures import analyze as viz
from . import findings as fx
from .census import MAX_PROBE_FEATURES, LayerCensus, ablation_drops
from .config import AnalyzeConfig
from .prepare import Subject, image_shape

__all__ = ["AnalyzeResult"]

_KIND = {"builtin": "built-in model trained here", "export": "a torch.export program",
         "torchscript": "a TorchScript Sequential", "factory": "built by a factory", "pickle": "a trusted pickle"}
_TOP_UNITS = 8          # units per layer in the top-example figure
_UNIT_ROWS = 1000       # unit-table rows in the HTML report (all units are in results.json)


def _f(x, digits: int = 2) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    text = f"{x:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text    # never "-0.0"


@dataclass
class AnalyzeResult:
    """Everything ``nichelab analyze`` measured.

    Attributes
    ----------
    config : AnalyzeConfig
    subject : Subject
        The model, the data, the analysed samples and layers, training history.
    layers : list of LayerCensus
        One per captured layer (a reused module gives ``name``, ``name#1``, ...).
    logits : np.ndarray of shape (n_samples, n_outputs) or None
        The model's outputs on the analysed samples (None when they are not class logits).
    input_probe : (ProbeResult or None, str)
        The linear probe on the raw input (a reference for the layers) and why it is missing.
    ablation_positions : np.ndarray of int64
        Positions (in the analysed samples) of the ablation subset; empty when not run.
    first_weights : (str, np.ndarray) or None
        Name and (units, C, h, w) pictures of the first layer's weights for image inputs.
    timings : dict of str -> seconds
    """

    config: AnalyzeConfig
    subject: Subject
    layers: list[LayerCensus]
    logits: np.ndarray | None
    input_probe: tuple
    ablation_positions: np.ndarray
    first_weights: tuple | None
    timings: dict

    study = "analyze"

    # ---- numbers -----------------------------------------------------------------------------
    @property
    def y(self) -> np.ndarray:
        """Labels of the analysed samples."""
        return self.subject.data.y[self.subject.census_idx]

    @property
    def class_names(self) -> list[str]:
        return list(self.subject.data.class_names)

    @property
    def n_samples(self) -> int:
        return len(self.subject.census_idx)

    def accuracy(self) -> tuple[float | None, np.ndarray | None]:
        """The model's accuracy on the analysed samples, overall and per class (None if not a classifier)."""
        if self.logits is None:
            return None, None
        pred = self.logits.argmax(axis=1) if self.logits.shape[1] > 1 else (self.logits[:, 0] > 0).astype(int)
        hit = pred == self.y
        with np.errstate(invalid="ignore"):
            per = np.array([hit[self.y == c].mean() if np.any(self.y == c) else np.nan
                            for c in range(len(self.class_names))])
        return float(hit.mean()), per

    def indispensable(self, lc: LayerCensus) -> np.ndarray:
        """(n_units,) bool by the configured thresholds."""
        return fx.indispensable(lc, self.config.indispensable_overall, self.config.indispensable_class)

    @staticmethod
    def unit_order(lc: LayerCensus) -> np.ndarray:
        """Units sorted by preferred class, then decreasing selectivity; dead (and no-preference) units last."""
        pref = np.where(lc.dead | (lc.preferred < 0), np.iinfo(np.int64).max, lc.preferred)
        sel = np.where(np.isfinite(lc.selectivity), lc.selectivity, -1.0)
        return np.lexsort((np.arange(lc.n_units), -sel, pref, lc.dead))

    def unit_records(self, lc: LayerCensus) -> list[dict]:
        """One record per unit of a layer: every per-unit number."""
        key = self.indispensable(lc)
        group = lc.group_of()
        drops = ablation_drops(lc.ablation) if lc.ablation is not None else None
        recs = []
        for k in range(lc.n_units):
            rec = {"unit": lc.unit(k), "index": k, "dead": bool(lc.dead[k]), "mean": lc.mean[k], "std": lc.std[k],
                   "frac_active": lc.frac_active[k], "selectivity": lc.selectivity[k],
                   "preferred_class": int(lc.preferred[k]) if lc.preferred[k] >= 0 else None,
                   "class_means": lc.class_means[:, k],
                   "near_duplicate_group": int(group[k]) if group[k] >= 0 else None,
                   "closest_unit": lc.unit(int(lc.partner[k])) if lc.partner[k] >= 0 else None,
                   "closest_r": lc.partner_r[k],
                   "top_samples": self.subject.census_idx[lc.top[:, k]], "top_values": lc.top_values[:, k]}
            if drops is not None:
                rec.update({"ablation_drop_pp": drops[0][k], "ablation_class_drop_pp": drops[1][k],
                            "indispensable": bool(key[k])})
            recs.append(rec)
        return recs

    def layer_record(self, lc: LayerCensus) -> dict:
        """Every per-layer number, with the unit records."""
        p = lc.probe
        rec = {"name": lc.name, "module_type": lc.module_type, "kind": lc.kind, "output_shape": list(lc.raw_shape),
               "reduce": lc.reduce, "signed": lc.signed, "units": lc.n_units,
               "dead": np.flatnonzero(lc.dead), "n_dead": int(lc.dead.sum()),
               "near_duplicate_groups": lc.groups, "n_in_groups": sum(len(g) for g in lc.groups),
               "participation_ratio": lc.participation_ratio, "mean_selectivity": lc.mean_selectivity,
               "probe": None if p is None else {"test_accuracy": p.test_acc, "train_accuracy": p.train_acc,
                                                "chance": p.chance, "n_train": p.n_train, "n_test": p.n_test,
                                                "converged": p.converged},
               "probe_note": lc.probe_note, "probe_features": lc.probe_features, "ablation": None, "ablation_note": lc.ablation_note,
               "unit_records": self.unit_records(lc)}
        if lc.ablation is not None:
            a = lc.ablation
            rec["ablation"] = {"mode": a.mode, "n_samples": int(a.class_counts.sum()), "baseline_accuracy": a.baseline_acc,
                               "baseline_class_accuracy": a.baseline_class_acc,
                               "indispensable": np.flatnonzero(self.indispensable(lc))}
        return rec

    def label_mapping(self) -> dict | None:
        """``{"bird": 0, "cat": 1, ...}`` when the classes have names (string labels), else None."""
        names = self.class_names
        if names == [str(k) for k in range(len(names))]:
            return None
        return {n: k for k, n in enumerate(names)}

    def label_mapping_text(self) -> str | None:
        """The set-up line stating which class index (model output) each label name is scored as."""
        m = self.label_mapping()
        if m is None:
            return None
        names = list(m)
        how = "in alphabetical order" if names == sorted(names) else "in the data's order"
        shown = ", ".join(f"{n}={k}" for n, k in list(m.items())[:12]) + (", ..." if len(m) > 12 else "")
        return (f"string labels are numbered {how}: {shown}; the model's output k is scored as class k, so the "
                "model must have been trained with the same numbering")

    def to_json(self) -> dict:
        """Every number in the report: config, data, model, training, accuracy, layers and units, findings."""
        s, d = self.subject, self.subject.data
        acc, per = self.accuracy()
        probe, note = self.input_probe
        return {
            "study": "analyze", "config": asdict(self.config),
            "data": {"name": d.name, "n_samples": len(d), "n_classes": d.n_classes, "class_names": self.class_names,
                     "label_to_class_index": self.label_mapping(),
                     "label_mapping": self.label_mapping_text(),
                     "input_shape": list(d.input_shape), "analysed_samples": self.n_samples,
                     "analysed_indices": s.census_idx, "train_indices": s.train_idx,
                     **{k: v for k, v in d.meta.items() if not isinstance(v, np.ndarray)}},
            "model": {"kind": s.kind, "source": s.source, "fixed_batch": s.fixed_batch, "n_outputs": s.n_outputs,
                      "classifier": s.classifier, "n_parameters": int(sum(p.numel() for p in s.module.parameters())),
                      "layers_analysed": s.layers, "all_layers": list(s.layer_types), "layer_types": s.layer_types},
            "training": s.training, "accuracy": acc, "class_accuracy": per,
            "thresholds": {"near_duplicate_abs_r": self.config.threshold,
                           "indispensable_overall_pp": self.config.indispensable_overall,
                           "indispensable_class_pp": self.config.indispensable_class},
            "input_probe": None if probe is None else {"test_accuracy": probe.test_acc, "train_accuracy": probe.train_acc,
                                                       "chance": probe.chance, "n_train": probe.n_train,
                                                       "n_test": probe.n_test, "converged": probe.converged},
            "input_probe_note": note, "ablation_indices": s.census_idx[self.ablation_positions],
            "layers": [self.layer_record(lc) for lc in self.layers],
            "findings": self.findings(), "notes": s.notes, "timings": self.timings,
        }

    def weights(self) -> dict[str, np.ndarray]:
        """The trained weights of a built-in model (``state_dict`` names); empty for the user's own model."""
        if self.subject.kind != "builtin":
            return {}
        return {k: v.detach().cpu().numpy() for k, v in self.subject.module.state_dict().items()}

    # ---- words -------------------------------------------------------------------------------
    def findings(self) -> dict[str, list[str]]:
        """The findings in words, by topic."""
        c, names = self.config, self.class_names
        return {"model": self._model_lines(),
                "layers": [fx.layer_line(lc, c.indispensable_overall, c.indispensable_class) for lc in self.layers],
                "dead": fx.dead_findings(self.layers, self.n_samples),
                "duplicates": fx.duplicate_findings(self.layers, c.threshold),
                "selectivity": fx.selectivity_findings(self.layers, names),
                "indispensable": fx.ablation_findings(self.layers, names, c.indispensable_overall,
                                                      c.indispensable_class, c.ablation_mode),
                "probes": fx.probe_findings(self.layers, self.input_probe[0], len(names))}

    def _model_lines(self) -> list[str]:
        s, d = self.subject, self.subject.data
        acc, per = self.accuracy()
        if s.training:
            t = s.training
            out = [f"{s.source} trained on {d.name} ({t['n_train']} samples, {t['epochs']} epochs): training accuracy "
                   f"{fx.pct(t['train_accuracy'])}, held-out accuracy {fx.pct(t['test_accuracy'])} on "
                   f"{t['n_test']} samples; the census below uses {self.n_samples} held-out samples."]
        else:
            out = [f"{s.source} ({_KIND[s.kind]}) on {d.name}: "
                   + (f"accuracy {fx.pct(acc)} on the {self.n_samples} analysed samples." if acc is not None
                      else f"{self.n_samples} samples analysed.")]
        if per is not None and np.isfinite(per).any() and np.nanmin(per) < np.nanmax(per):
            worst = int(np.nanargmin(per))
            out.append(f"Hardest class: {fx.class_label(self.class_names, worst)} ({fx.pct(per[worst])} correct).")
        return out + list(s.notes)

    def summary_table(self) -> Table:
        """The terminal summary: one row per layer."""
        rows = []
        for lc in self.layers:
            p = lc.probe
            rows.append([lc.name, str(lc.n_units), str(int(lc.dead.sum())),
                         f"{len(lc.groups)} ({sum(len(g) for g in lc.groups)})", _f(lc.participation_ratio, 1),
                         fx.pct(p.test_acc) if p else "–", _f(lc.mean_selectivity),
                         str(int(self.indispensable(lc).sum())) if lc.ablation is not None else "–"])
        acc, _ = self.accuracy()
        caption = f"analyze: {self.subject.source} on {self.subject.data.name}, {self.n_samples} samples" + (
            f", accuracy {fx.pct(acc)}" if acc is not None else "")
        return Table(["layer", "units", "dead", "dup groups (units)", "PR", "probe", "select.", "indisp."], rows,
                     caption + " (PR: participation ratio; probe: held-out linear-probe accuracy; select.: mean "
                               "selectivity of live units; indisp.: indispensable units)")

    # ---- report ------------------------------------------------------------------------------
    def to_report(self) -> Report:
        """The HTML report: the short answer, then one section per question, then the tables."""
        f = self.findings()
        sections = [self._section_layers(f), self._section_dead(f), self._section_duplicates(f),
                    self._section_selective(f), self._section_ablation(f), self._section_probes(f)]
        drives = self._section_drives()
        if drives is not None:
            sections.append(drives)
        sections.append(self._section_units())
        return Report(title=f"What do the hidden units of {self.subject.source} do on {self.subject.data.name}?",
                      summary=f["model"][:1] + f["layers"], setup=self._setup(), sections=sections)

    def _setup(self) -> dict:
        c, s, d = self.config, self.subject, self.subject.data
        shape = (f"{d.input_shape[0]} features" if len(d.input_shape) == 1 else
                 "samples of shape " + " x ".join(map(str, d.input_shape)))
        setup = {"data": f"{d.name}: {len(d)} samples, {shape}, {d.n_classes} classes "
                         f"({', '.join(self.class_names[:12])}{', ...' if d.n_classes > 12 else ''})",
                 "model": f"{s.source} ({_KIND[s.kind]})"}
        if self.label_mapping_text():
            setup["class indices"] = self.label_mapping_text()
        if s.training:
            t = s.training
            setup["training"] = (f"Adam, lr {t['lr']}, {t['epochs']} epochs, batch {t['batch_size']}, softmax "
                                 f"cross-entropy, Glorot init, seed {c.seed}; stratified split {t['n_train']} train / "
                                 f"{t['n_test']} held out")
        setup["analysed samples"] = (f"{self.n_samples} ({'the held-out split' if s.training else 'the given data'}"
                                     f"{', stratified subset' if c.max_samples and c.max_samples <= self.n_samples else ''})")
        setup["layers"] = ", ".join(s.layers)
        if any(lc.kind == "conv" for lc in self.layers):
            setup["conv layers"] = f"each channel is one unit; its activation is the spatial {c.reduce} per sample"
        setup["dead unit"] = "zero on every sample or constant (ReLU-like layers); constant (layers with negative values)"
        setup["near-duplicates"] = f"units whose activations correlate with |r| >= {c.threshold:g}, linked in chains"
        setup["selectivity"] = ("(mu_max - mu_rest) / (mu_max + mu_rest) of class means (Morcos et al. 2018); "
                                "a layer with negative values is shifted to start at 0 per unit")
        setup["ablation"] = (f"each unit alone {'set to 0' if c.ablation_mode == 'zero' else 'clamped to its mean'} "
                             f"on at most {c.ablation_samples} samples; indispensable when it costs >= "
                             f"{c.indispensable_overall:g} percentage point{'' if c.indispensable_overall == 1 else 's'} "
                             f"of accuracy overall or >= {c.indispensable_class:g} on one class"
                             if c.ablation else "not run (--no-ablation)")
        setup["probe"] = ("logistic regression on standardised activations, 70/30 split of the analysed samples"
                          + ("; conv layers: on the whole flattened feature map when it has at most "
                             f"{MAX_PROBE_FEATURES} values, else on the spatial {c.reduce} per channel"
                             if any(lc.kind == "conv" for lc in self.layers) else ""))
        return setup

    def _layer_table(self) -> Table:
        rows = []
        for lc in self.layers:
            p = lc.probe
            rows.append([lc.name, lc.module_type, "x".join(map(str, lc.raw_shape)), lc.n_units, int(lc.dead.sum()),
                         "; ".join("{" + ", ".join(map(str, g)) + "}" for g in lc.groups) or "–",
                         _f(lc.participation_ratio, 1),
                         (fx.pct(p.test_acc) + ("" if lc.probe_features == "units" else f" ({lc.probe_features})"))
                         if p else lc.probe_note or "–",
                         _f(lc.mean_selectivity),
                         int(self.indispensable(lc).sum()) if lc.ablation is not None else "–"])
        p = self.input_probe[0]
        return Table(["layer", "type", "output per sample", "units", "dead", "near-duplicate groups (unit indices)",
                      "participation ratio", "probe accuracy", "mean selectivity", "indispensable"], rows,
                     f"Layers (input probe: {fx.pct(p.test_acc) if p else 'n/a'}; chance "
                     f"{fx.pct(p.chance) if p else 'n/a'})")

    def _section_layers(self, f) -> Section:
        return Section("The layers at a glance", question="How many units does each layer have, and how many are dead, "
                       "duplicated, selective or indispensable?", findings=f["model"] + f["layers"],
                       tables=[self._layer_table()])

    def _section_dead(self, f) -> Section:
        return Section("Dead units", question="Which units never respond to these samples?", findings=f["dead"])

    def _section_duplicates(self, f) -> Section:
        return Section("Near-duplicate units", question="Which units compute (almost) the same thing?",
                       findings=f["duplicates"])

    def _panels(self) -> list[dict]:
        return [{"name": lc.name, "means": lc.class_means, "dead": lc.dead, "order": self.unit_order(lc),
                 "signed": lc.signed, "what": self._what(lc)} for lc in self.layers]

    def _what(self, lc: LayerCensus) -> str:
        return f"channels (spatial {lc.reduce})" if lc.kind == "conv" else "units"

    def _section_selective(self, f) -> Section:
        figs = [Figure(viz.fig_class_means(self._panels(), self.class_names),
                       "Each column is a unit: a single bright cell means the unit answers to one class; "
                       "an evenly coloured column means no preference."),
                Figure(viz.fig_selectivity([lc.name for lc in self.layers], [lc.selectivity for lc in self.layers],
                                           [lc.dead for lc in self.layers]),
                       "Compare the boxes: a higher box means the layer's units are more class-specific.")]
        return Section("Selective units", question="Which units respond to one class, and how does that change "
                       "with depth?", findings=f["selectivity"], figures=figs)

    def _section_ablation(self, f) -> Section:
        ran = [lc for lc in self.layers if lc.ablation is not None]
        figs = []
        if ran:
            panels = []
            for lc in ran:
                overall, per_class = ablation_drops(lc.ablation)
                panels.append({"name": lc.name, "overall": overall, "per_class": per_class, "what": self._what(lc),
                               "order": self.unit_order(lc), "key": self.indispensable(lc)})
            figs.append(Figure(viz.fig_ablation(panels, self.class_names),
                               "Dark orange cells are damage: look for units that cost little overall (top row) "
                               "but a lot on one class."))
        notes = [f"{lc.name}: {lc.ablation_note}" for lc in self.layers if lc.ablation is None and lc.ablation_note]
        return Section("Indispensable units", question="Which single units can the model not do without?",
                       findings=f["indispensable"], figures=figs, notes=notes)

    def _section_probes(self, f) -> Section:
        rows = [("input", self.input_probe[0])] + [(lc.name, lc.probe) for lc in self.layers]
        done = [(n, p) for n, p in rows if p is not None]
        figs = []
        if done:
            acc, _ = self.accuracy()
            figs.append(Figure(viz.fig_probes([n for n, _ in done], [p.test_acc for _, p in done],
                                              [p.train_acc for _, p in done], done[0][1].chance, acc),
                               "Follow the solid line: where it climbs, that layer makes the labels more linearly "
                               "readable than the one before."))
        return Section("What each layer knows about the labels", question="How well can a linear classifier read "
                       "the class from each layer?", findings=f["probes"], figures=figs)

    def _section_drives(self) -> Section | None:
        shape = image_shape(self.subject.data)
        if shape is None:
            return None
        figs = []
        X = self.subject.data.X[self.subject.census_idx].reshape((self.n_samples,) + shape)
        y = self.y
        for lc in self.layers:
            chosen = lc.ranked()[:_TOP_UNITS]
            if not chosen.size:
                continue
            rows = []
            for k in chosen:
                keep = slice(None) if lc.signed else lc.top_values[:, k] > 0    # never show a silent "top" input
                idx = lc.top[keep, k]
                rows.append({"unit": f"{lc.unit(k)}\nSI {lc.selectivity[k]:.2f}", "indices": idx, "labels": y[idx],
                             "values": lc.top_values[keep, k]})
            figs.append(Figure(viz.fig_top_examples(X, rows, self.class_names),
                               f"{lc.name}, its {len(chosen)} most selective units: if a row shows one class, the "
                               "unit is a detector for it; mixed rows show a shared feature."))
        if self.first_weights is not None:
            name, w = self.first_weights
            figs.append(Figure(viz.fig_first_weights(name, w),
                               f"{name}: orange pixels excite the unit, purple ones inhibit it; look for strokes, "
                               "edges and blobs."))
        return Section("What drives the units", question="Which inputs excite each unit most, and what do the first "
                       "layer's weights look for?", figures=figs)

    def _section_units(self) -> Section:
        rows = []
        names = self.class_names
        for lc in self.layers:
            key = self.indispensable(lc)
            group = lc.group_of()
            drops = ablation_drops(lc.ablation) if lc.ablation is not None else None
            for k in range(lc.n_units):
                if drops is not None:
                    wc = int(np.nanargmax(np.where(np.isfinite(drops[1][k]), drops[1][k], -np.inf)))
                    cost = [_f(drops[0][k], 1), f"{_f(drops[1][k][wc], 1)} ({names[wc]})", "yes" if key[k] else ""]
                else:
                    cost = ["–", "–", "–"]
                rows.append([lc.unit(k), "dead" if lc.dead[k] else "", _f(lc.mean[k], 3), fx.pct(lc.frac_active[k]),
                             _f(lc.selectivity[k]), names[lc.preferred[k]] if lc.preferred[k] >= 0 else "–",
                             str(group[k]) if group[k] >= 0 else "",
                             f"{lc.unit(int(lc.partner[k]))} ({lc.partner_r[k]:+.2f})" if lc.partner[k] >= 0 else "–",
                             *cost])
        notes = []
        if len(rows) > _UNIT_ROWS:
            notes.append(f"Showing the first {_UNIT_ROWS} of {len(rows)} units; results.json has all of them.")
            rows = rows[:_UNIT_ROWS]
        return Section("Every unit", question="The numbers behind the findings, one row per unit.",
                       tables=[Table(["unit", "dead", "mean activation", "active on", "selectivity", "preferred class",
                                      "dup. group", "closest unit (r)", "overall cost (pp)", "worst class cost (pp)",
                                      "indispensable"], rows)], notes=notes)
