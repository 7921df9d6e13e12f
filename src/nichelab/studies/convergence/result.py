"""The convergence study's result: every number, the report and the terminal summary."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ...data.base import Dataset
from ...metrics.matching import unit_correlation
from ...reporting.model import Figure, Report, Section, Table
from ...train.ensemble import EnsembleResult
from ...reporting.figures import convergence as viz
from . import findings as fx
from .analysis import ConvergenceAnalysis, unit_census
from .config import DISTANCES, MEASURE_LABELS, ConvergenceConfig

__all__ = ["ConvergenceResult"]


@dataclass
class ConvergenceResult:
    """Everything the convergence study measured.

    Attributes
    ----------
    config : ConvergenceConfig
    data : Dataset — the whole dataset (train and test rows).
    train_idx, test_idx : (n,) int — the rows used for training and for measuring.
    ensemble : EnsembleResult — every seed's weights (and initial weights, snapshot 0).
    analysis : ConvergenceAnalysis — pairwise similarity, matching, identification.
    summaries : list of dict — one per layer (:func:`analysis.layer_summaries`).
    accuracy : (S,) float — test accuracy of every seed.
    timings : dict of str -> seconds.
    acts : list over seeds of dict layer -> (n_test, units) — held-out activations (not in the JSON).
    """

    config: ConvergenceConfig
    data: Dataset
    train_idx: np.ndarray
    test_idx: np.ndarray
    ensemble: EnsembleResult
    analysis: ConvergenceAnalysis
    summaries: list
    accuracy: np.ndarray
    timings: dict
    acts: list

    study = "convergence"

    # ---- numbers -------------------------------------------------------------------------
    @property
    def seeds(self) -> list[int]:
        return [int(s) for s in self.ensemble.seeds]

    def census(self, seed_index: int = 0) -> dict[str, list[dict]]:
        """Per layer, every unit of one seed: its counterparts in the other seeds."""
        c = self.config
        return {n: unit_census(self.analysis, seed_index, n, c.threshold_high, c.threshold_low)
                for n in self.analysis.layers}

    def _census_json(self) -> dict:
        out = {}
        for i, s in enumerate(self.seeds):
            cen = self.census(i)
            for units in cen.values():
                for u in units:  # other seeds by seed value, not index
                    u["matched"] = {str(self.seeds[j]): v for j, v in u["matched"].items()}
                    u["partner"] = {str(self.seeds[j]): v for j, v in u["partner"].items()}
            out[str(s)] = cen
        return out

    def _pairs_json(self, m: np.ndarray) -> list[dict]:
        return [{"seed_a": self.seeds[i], "seed_b": self.seeds[j], "matrix": m[p]}
                for p, (i, j) in enumerate(self.analysis.pairs)]

    def identification(self) -> dict:
        """Per measure: overall accuracy, per-layer accuracy, chance level."""
        a = self.analysis
        return {m: {"accuracy": float(v.mean()), "per_layer": dict(zip(a.layers, v.mean(axis=0).tolist())),
                    "chance": 1.0 / len(a.layers), "lower_is_better": m in DISTANCES}
                for m, v in a.identified.items()}

    def to_json(self) -> dict:
        """Every number in the report: config, seeds, per-layer summaries, matrices, every unit's matches."""
        a, c = self.analysis, self.config
        return {
            "study": "convergence", "config": asdict(c), "seeds": self.seeds,
            "data": {"name": self.data.name, "n_samples": len(self.data), "n_train": len(self.train_idx),
                     "n_test": len(self.test_idx), "input_shape": list(self.data.input_shape),
                     "class_names": self.data.class_names, "test_indices": self.test_idx},
            "model": {"spec": c.model, "layers": a.layers, "widths": a.widths, "output_layer": a.layers[-1]},
            "accuracy": {"test": dict(zip(map(str, self.seeds), self.accuracy.tolist())),
                         "final_train_loss": dict(zip(map(str, self.seeds), self.ensemble.loss[:, -1].tolist()))
                         if self.ensemble.loss.shape[1] else {}},
            "answer": fx.overall_answer(self.summaries),
            "verdicts": {s["layer"]: s["verdict"] for s in self.summaries},
            "layers": self.summaries,
            "identification": self.identification(),
            "similarity": {m: {"mean": a.cross_mean(m), "pairs": self._pairs_json(v)} for m, v in a.similarity.items()},
            "within_seed_linear_cka": {"mean": a.within.mean(axis=0),
                                       "per_seed": dict(zip(map(str, self.seeds), a.within))},
            "baseline_untrained": {"linear_cka": dict(zip(a.layers, a.baseline_cka.mean(axis=0).tolist())),
                                   "matched_mean": {s["layer"]: s["baseline_matched_mean"] for s in self.summaries}},
            "units": self._census_json(),
            "findings": self._findings(),
            "notes": a.notes,
            "timings": self.timings,
        }

    def weights(self) -> dict[str, np.ndarray]:
        """Every seed's final weights stacked on axis 0, the initial ones (``initial.*``) and the seed list."""
        out = dict(self.ensemble.params)
        out.update({f"initial.{k}": v for k, v in self.ensemble.snapshots[0].items()})
        out["seeds"] = np.asarray(self.ensemble.seeds, dtype=np.int64)
        return out

    def summary_table(self) -> Table:
        """The terminal summary: one row per layer."""
        c = self.config
        rows = [[s["layer"], s["width"], f"{s['dead_mean']:.1f}", fx.num(s["matched_mean"]), fx.pct(s["frac_high"]),
                 fx.pct(s["frac_none"]), fx.num(s["linpred_median"]), fx.num(s["cka"]),
                 fx.pct(s["identification"]["linear_cka"]), fx.SHORT_VERDICT[s["verdict"]]] for s in self.summaries]
        acc = float(self.analysis.identified["linear_cka"].mean())
        return Table(["layer", "units", "dead", "match r", f"≥{c.threshold_high:g}", f"<{c.threshold_low:g}",
                      "comb r", "CKA", "CKA id", "shared"], rows,
                     f"convergence: {c.seeds} seeds of {c.model} on {self.data.name}; answer: "
                     f"{fx.overall_answer(self.summaries)}; CKA identifies the layer in {fx.pct(acc)}")

    def _findings(self) -> dict:
        a, c, s = self.analysis, self.config, self.summaries
        return {"short": fx.answer_short(s, a, c), "subspace": fx.answer_subspace(s, a, c),
                "units": fx.answer_units(s, a, c), "which_layers": fx.answer_which_layers(s),
                "identification": fx.answer_identification(a, c),
                "counterparts_first_seed": fx.counterpart_lists(self.census(0), self.config.seeds - 1),
                "thresholds": fx.thresholds_note(c)}

    # ---- report --------------------------------------------------------------------------
    def to_report(self) -> Report:
        """The HTML report: question, measured answer and figures, one idea per section."""
        f = self._findings()
        return Report(
            title="Do networks trained from different seeds learn the same units, or only the same subspace?",
            summary=f["short"], setup=self._setup(),
            sections=[self._section_contrast(f), self._section_units(f), self._section_heatmaps(f),
                      self._section_identification(f), self._section_table()])

    def _setup(self) -> dict:
        c, a = self.config, self.analysis
        acc = self.accuracy
        return {
            "data": f"{self.data.name}: {len(self.data)} samples, {self.data.n_classes} classes; stratified split "
                    f"(split seed {c.split_seed}): {len(self.train_idx)} for training, {len(self.test_idx)} held out; "
                    "every measurement is on the held-out samples",
            "model": f"{c.model}: layers " + ", ".join(f"{n} ({w})" for n, w in zip(a.layers, a.widths))
                     + f"; {a.layers[-1]} is the output (logits); init {c.init}"
                     + ("; conv layers averaged over space per channel" if "cnn" in c.model else ""),
            "training": f"{c.optimizer}, lr {c.lr}, {c.epochs} epochs, batch {c.batch_size}, softmax cross-entropy; "
                        "all seeds trained at once",
            "seeds": f"{c.seeds} ({', '.join(map(str, self.seeds))}); test accuracy {fx.pct(acc.min())}–{fx.pct(acc.max())}",
            "pairs": f"{len(a.pairs)} ordered seed pairs (i, j): matching and PWCCA read from seed i's side",
            "measures": ", ".join(MEASURE_LABELS[m] for m in c.measures)
                        + (" (CKA debiased, Song et al. 2012)" if c.debiased else " (CKA biased, as in Kornblith et al.)")
                        + "; SVCCA keeps 99% of variance; RBF CKA σ = 0.4 × median distance",
            "unit matching": "Pearson correlation of activations; one-to-one matching maximising total correlation "
                             "(Hungarian); semi-matching = each unit's best partner; linear combination = least-squares "
                             "prediction of a unit from all units of the other seed's layer, fitted on the training "
                             "samples, correlation on the held-out ones",
            "baseline": "the same measures against an untrained network (the other seed's initial weights)",
            "thresholds": f"counterpart ≥ {c.threshold_high:g}, none < {c.threshold_low:g}, majority {fx.pct(c.majority)}, "
                          f"same subspace: CKA ≥ {c.subspace_high:g}",
        }

    def _hidden_names(self) -> list[str]:
        return self.analysis.layers[:-1] if len(self.analysis.layers) > 1 else self.analysis.layers

    def _section_contrast(self, f: dict) -> Section:
        s = self.summaries
        layers = [r["layer"] for r in s]
        c = self.config
        series = {"one-to-one matched r (mean)": [r["matched_mean"] for r in s],
                  f"share of units matched ≥ {c.threshold_high:g}": [r["frac_high"] for r in s],
                  "best linear combination r (median)": [r["linpred_median"] for r in s],
                  "linear CKA": [r["cka"] for r in s]}
        if "svcca" in self.analysis.similarity:
            series["SVCCA"] = [r["similarity"]["svcca"] for r in s]
        base = {"matched r vs untrained net": [r["baseline_matched_mean"] for r in s],
                "linear CKA vs untrained net": [r["baseline_cka"] for r in s]}
        fig = Figure(viz.fig_contrast(layers, series, base, shade_last=len(layers) > 1),
                     "Where the CKA, SVCCA and linear-combination lines sit far above the matched-r line, seeds "
                     "share the subspace but not the units; dotted lines are the untrained-network floor.")
        rows = [[r["layer"], fx.num(r["matched_mean"]), fx.pct(r["frac_high"]), fx.num(r["semi_mean"]),
                 fx.num(r["linpred_median"]), fx.num(r["cka"])]
                + ([fx.num(r["similarity"]["svcca"])] if "svcca" in r["similarity"] else [])
                + [fx.num(r["baseline_cka"]), r["verdict"]] for r in s]
        cols = ["layer", "matched r", f"≥ {c.threshold_high:g}", "semi-match r", "lin. comb. r", "linear CKA"] \
            + (["SVCCA"] if "svcca" in self.analysis.similarity else []) + ["CKA vs untrained", "verdict"]
        return Section("Same units, or only the same subspace?",
                       question="Layer by layer, do two seeds agree unit by unit, or only as subspaces?",
                       findings=f["subspace"], figures=[fig],
                       tables=[Table(cols, rows, "Unit-level vs subspace-level agreement (means over seed pairs)")],
                       notes=[f["thresholds"]] + self.analysis.notes)

    def _section_units(self, f: dict) -> Section:
        a, c, s = self.analysis, self.config, self.summaries
        layers = a.layers
        series = {"one-to-one match (Hungarian)": [a.pooled(a.matched, n) for n in layers],
                  "best single partner (semi-matching)": [a.pooled(a.semi, n) for n in layers],
                  "best linear combination": [a.pooled(a.linpred, n) for n in layers]}
        dist = Figure(viz.fig_unit_distributions(layers, series, (c.threshold_high, c.threshold_low),
                                                 "live units, all ordered seed pairs"),
                      "Compare the blue violins (one unit against one unit) with the green ones (one unit against a "
                      "whole layer): the gap is agreement that lives in the subspace, not in single units.")
        live = [1 - r["dead_mean"] / r["width"] for r in s]
        shares = {f"counterpart ≥ {c.threshold_high:g}": [r["frac_high"] * lv for r, lv in zip(s, live)],
                  f"{c.threshold_low:g} ≤ r < {c.threshold_high:g}": [(r["frac_low"] - r["frac_high"]) * lv
                                                                      for r, lv in zip(s, live)],
                  f"no counterpart (< {c.threshold_low:g})": [r["frac_none"] * lv for r, lv in zip(s, live)],
                  "dead on the test data": [1 - lv for lv in live]}
        bars = Figure(viz.fig_unit_shares(layers, shares, "all units, all ordered seed pairs"),
                      "The green part of each bar is the share of units with a near-copy in another seed; "
                      "orange-red units have no counterpart at all.")
        p = 0  # the first pair: seeds 0 and 1
        i, j = a.pairs[p]
        panels = []
        for n in layers:
            corr = unit_correlation(self.acts[i][n], self.acts[j][n])
            pairs = np.stack([np.arange(corr.shape[0]), a.partner[n][p]], axis=1)
            pairs = pairs[pairs[:, 1] >= 0]
            panels.append((f"{n}: seed {self.seeds[i]} vs seed {self.seeds[j]}", corr, pairs))
        mats = Figure(viz.fig_matching_matrices(panels, f"seed {self.seeds[i]}", f"seed {self.seeds[j]}"),
                      "Matched units sit on the diagonal, best first: a diagonal that stays dark brown far down "
                      "means many units have a counterpart; colour spread off the diagonal means units are mixtures.")
        return Section("Which units have a counterpart in another seed?",
                       question="Does each unit of one network have a near-copy in another seed (Li et al. 2015)?",
                       findings=f["units"], figures=[dist, bars, mats],
                       notes=[f"Seed {self.seeds[0]}, unit by unit:"] + f["counterparts_first_seed"])

    def _section_heatmaps(self, f: dict) -> Section:
        a = self.analysis
        mats = {"linear CKA within one seed": a.within.mean(axis=0)}
        mats.update({MEASURE_LABELS[m] + " across seeds": a.cross_mean(m) for m in a.similarity})
        dist = {MEASURE_LABELS[m] + " across seeds" for m in DISTANCES}
        fig = Figure(viz.fig_layer_heatmaps(a.layers, a.layers, mats, dist, "layer of seed i", "layer of seed j"),
                     "Orange boxes are the same layer in both seeds; a white dot marks each row's most similar layer — "
                     "when dots sit in the boxes, the measure finds the corresponding layer.")
        return Section("How similar is every layer of one seed to every layer of another?",
                       question="CKA (and the other measures) between all layers of all seed pairs: which layers agree most?",
                       findings=f["which_layers"], figures=[fig],
                       notes=[f"Each panel after the first is the mean over {len(a.pairs)} ordered seed pairs; the first "
                              "compares the layers of one network with each other (mean over seeds)."])

    def _section_identification(self, f: dict) -> Section:
        a = self.analysis
        ident = self.identification()
        labels = [MEASURE_LABELS[m] for m in ident]
        overall = np.array([v["accuracy"] for v in ident.values()])
        per_layer = np.array([[v["per_layer"][n] for n in a.layers] for v in ident.values()])
        refs = {MEASURE_LABELS["linear_cka"]: fx.KORNBLITH_CKA}
        fig = Figure(viz.fig_identification(labels, overall, per_layer, a.layers, 1 / len(a.layers), refs),
                     "Bars right of the dashed chance line find the corresponding layer more often than guessing; "
                     f"the diamond is Kornblith et al.'s {fx.KORNBLITH_TEXT['cka']} for linear CKA.")
        rows = [[MEASURE_LABELS[m], fx.pct(v["accuracy"])] + [fx.pct(v["per_layer"][n]) for n in a.layers]
                for m, v in ident.items()]
        return Section("Does a similarity measure find the corresponding layer of another seed?",
                       question="Kornblith et al. 2019, table 2, in this run: for each layer of one seed, is the most "
                                "similar layer of another seed the same layer?",
                       findings=f["identification"], figures=[fig],
                       tables=[Table(["measure", "overall"] + a.layers, rows,
                                     "Share of (seed pair, layer) rows whose most similar layer is the same layer; "
                                     "ties count as misses")])

    def _section_table(self) -> Section:
        c = self.config
        rows = [[s["layer"], s["width"], f"{s['dead_mean']:.1f}", fx.num(s["matched_mean"]), fx.num(s["matched_median"]),
                 fx.pct(s["frac_high"]), fx.pct(s["frac_low"]), fx.pct(s["frac_none"]), fx.num(s["semi_mean"]),
                 fx.num(s["linpred_median"]), fx.pct(s["linpred_frac_high"]), fx.num(s["baseline_matched_mean"]),
                 fx.num(s["cka"]), fx.num(s["baseline_cka"]), s["verdict"]] for s in self.summaries]
        cols = ["layer", "units", "dead (mean)", "matched r mean", "matched r median", f"matched ≥ {c.threshold_high:g}",
                f"matched ≥ {c.threshold_low:g}", f"none (< {c.threshold_low:g})", "semi-match r", "lin. comb. r median",
                f"lin. comb. ≥ {c.threshold_high:g}", "matched r vs untrained", "linear CKA", "CKA vs untrained", "verdict"]
        acc = [[s, fx.pct(v), f"{float(l):.4f}"] for s, v, l in
               zip(self.seeds, self.accuracy, self.ensemble.loss[:, -1] if self.ensemble.loss.shape[1] else
                   [np.nan] * len(self.seeds))]
        return Section("Every layer's numbers", question="All the per-layer numbers behind the findings.",
                       tables=[Table(cols, rows, "Per layer, pooled over live units and ordered seed pairs"),
                               Table(["seed", "test accuracy", "final training loss"], acc, "Every seed")])
