"""The result of ``nichelab compare``: numbers, findings in words, report and terminal summary."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ...data.base import Dataset
from ...metrics.matching import UnitMatch
from ...reporting.model import Figure, Report, Section, Table
from ...reporting.figures import convergence as viz
from ..convergence.analysis import verdict
from ..convergence.findings import SHORT_VERDICT, group_verdicts, num, pct
from .config import DISTANCES, MEASURE_LABELS, CompareConfig
from .sources import Source

__all__ = ["PairMatch", "CompareResult", "EXACT"]

#: Matched correlation at which a unit counts as an exact copy (for the "permutation" finding).
EXACT = 0.999


def _pair_name(s: dict) -> str:
    return s["layer_a"] if s["layer_a"] == s["layer_b"] else f"{s['layer_a']}={s['layer_b']}"


@dataclass
class PairMatch:
    """Unit matching between layer ``layer_a`` of A and ``layer_b`` of B.

    Attributes
    ----------
    layer_a, layer_b : str
    match : UnitMatch — correlations, one-to-one pairs, semi-matching.
    dead_a, dead_b : (d_a,), (d_b,) bool — units constant on the data.
    linpred : (d_a,) float — held-out correlation of each A unit with its best linear prediction from
        all of B's units (fitted on one half of the samples, measured on the other; NaN when the
        half has too few samples for the fit).
    linear_cka : float — linear CKA of the two layers.
    """

    layer_a: str
    layer_b: str
    match: UnitMatch
    dead_a: np.ndarray
    dead_b: np.ndarray
    linpred: np.ndarray
    linear_cka: float

    @property
    def live_matched(self) -> np.ndarray:
        """One-to-one matched correlations of A's live units (NaN: left unmatched, B is narrower)."""
        return self.match.matched_corr[~self.dead_a]

    def summary(self, cfg: CompareConfig) -> dict:
        """Unit-level and subspace-level agreement of the pair, and the verdict."""
        m = np.nan_to_num(self.live_matched, nan=-1.0)
        s = self.match.semi_corr[~self.dead_a]
        lp = self.linpred[~self.dead_a]
        lp = lp[np.isfinite(lp)]
        n = int(m.size)
        frac_high = float(np.mean(m >= cfg.threshold_high)) if n else float("nan")
        out = {
            "layer_a": self.layer_a, "layer_b": self.layer_b,
            "units_a": int(self.dead_a.size), "units_b": int(self.dead_b.size),
            "dead_a": int(self.dead_a.sum()), "dead_b": int(self.dead_b.sum()),
            "matched_mean": float(np.mean(self.live_matched[np.isfinite(self.live_matched)]))
            if np.isfinite(self.live_matched).any() else float("nan"),
            "matched_min": float(np.nanmin(self.live_matched)) if np.isfinite(self.live_matched).any() else float("nan"),
            "frac_high": frac_high,
            "frac_low": float(np.mean(m >= cfg.threshold_low)) if n else float("nan"),
            "frac_none": float(np.mean(m < cfg.threshold_low)) if n else float("nan"),
            "semi_mean": float(np.mean(s)) if s.size else float("nan"),
            "linpred_median": float(np.median(lp)) if lp.size else float("nan"),
            "linear_cka": self.linear_cka,
        }
        out["permutation"] = bool(n and self.dead_a.size == self.dead_b.size and self.dead_a.sum() == self.dead_b.sum()
                                  and np.all(m >= EXACT))
        out["verdict"] = verdict(frac_high, self.linear_cka, cfg.majority, cfg.subspace_high)
        return out

    def to_dict(self, cfg: CompareConfig) -> dict:
        """Summary plus every unit's match (``L:k`` names), the correlation matrix included."""
        d = self.summary(cfg)
        d["match"] = self.match.to_dict(include_corr=True)
        d["units"] = [{"name": f"{self.layer_a}:{i}", "dead": bool(self.dead_a[i]),
                       "partner": f"{self.layer_b}:{j}", "matched_corr": self.match.matched_corr[i],
                       "semi_partner": f"{self.layer_b}:{int(self.match.semi_match[i])}",
                       "semi_corr": self.match.semi_corr[i], "linear_combination_corr": self.linpred[i]}
                      for i, j in self.match.pairs.tolist()]
        return d


@dataclass
class CompareResult:
    """Everything ``nichelab compare`` measured.

    Attributes
    ----------
    config : CompareConfig
    a, b : Source — the two networks.
    data : Dataset — the whole dataset; ``rows`` are the samples used.
    rows : (n,) int
    layers_a, layers_b : list of str — rows and columns of ``matrix``.
    matrix : (La, Lb) float — ``config.measure`` between every layer of A and every layer of B.
    matches : list of PairMatch
    notes : list of str
    timings : dict of str -> seconds
    """

    config: CompareConfig
    a: Source
    b: Source
    data: Dataset
    rows: np.ndarray
    layers_a: list
    layers_b: list
    matrix: np.ndarray
    matches: list
    notes: list
    timings: dict

    study = "compare"

    @property
    def measure_label(self) -> str:
        return MEASURE_LABELS[self.config.measure] + (" (debiased)" if self.config.debiased else "")

    def best_in_b(self) -> list[tuple[str, str, float]]:
        """For each layer of A, the most similar layer of B and the value."""
        out = []
        dist = self.config.measure in DISTANCES
        for i, name in enumerate(self.layers_a):
            row = self.matrix[i]
            if not np.isfinite(row).any():
                out.append((name, "", float("nan")))
                continue
            j = int(np.nanargmin(row) if dist else np.nanargmax(row))
            out.append((name, self.layers_b[j], float(row[j])))
        return out

    # ---- numbers -------------------------------------------------------------------------
    def to_json(self) -> dict:
        """Every number in the report."""
        cfg = self.config
        return {
            "study": "compare", "config": asdict(cfg),
            "a": {**self.a.info, "label": self.a.label, "layers": self.layers_a},
            "b": {**self.b.info, "label": self.b.label, "layers": self.layers_b},
            "data": {"name": self.data.name, "n_samples": len(self.data), "n_used": len(self.rows),
                     "input_shape": list(self.data.input_shape)},
            "measure": cfg.measure, "debiased": cfg.debiased, "lower_is_better": cfg.measure in DISTANCES,
            "layers_a": self.layers_a, "layers_b": self.layers_b, "matrix": self.matrix,
            "most_similar": [{"layer_a": a, "layer_b": b, "value": v} for a, b, v in self.best_in_b()],
            "matching": [m.to_dict(cfg) for m in self.matches],
            "findings": {"short": self._short(), "layers": self._heat_findings(), "units": self._unit_findings()},
            "notes": self.notes, "timings": self.timings,
        }

    def summary_table(self) -> Table:
        """The terminal summary: one row per matched layer pair."""
        cfg = self.config
        rows = [[_pair_name(s),
                 f"{s['units_a']}/{s['units_b']}", num(s["matched_mean"]), pct(s["frac_high"]), pct(s["frac_none"]),
                 num(s["linpred_median"]), num(s["linear_cka"]), SHORT_VERDICT[s["verdict"]]]
                for s in (m.summary(cfg) for m in self.matches)]
        return Table(["layer", "units A/B", "match r", f"≥{cfg.threshold_high:g}", f"<{cfg.threshold_low:g}",
                      "comb r", "CKA", "shared"], rows,
                     f"compare: {self.a.label} vs {self.b.label} on {self.data.name} ({len(self.rows)} samples)")

    # ---- words ---------------------------------------------------------------------------
    def _describe(self, s: dict) -> str:
        cfg = self.config
        name = _pair_name(s)
        live = s["units_a"] - s["dead_a"]
        dead = f"; {s['dead_a']} dead in A, {s['dead_b']} in B" if s["dead_a"] or s["dead_b"] else ""
        text = (f"{name} ({s['units_a']} vs {s['units_b']} units{dead}): mean matched correlation "
                f"{num(s['matched_mean'])}; {pct(s['frac_high'])} of A's {live} live units have a counterpart at "
                f"≥ {cfg.threshold_high:g}, {pct(s['frac_none'])} have none (< {cfg.threshold_low:g}); best linear "
                f"combination of B's units: median {num(s['linpred_median'])}; linear CKA {num(s['linear_cka'])} — "
                f"{s['verdict']}.")
        if s["permutation"]:
            text += (f" Every live unit has an exact counterpart (correlation ≥ {EXACT:g}, lowest "
                     f"{num(s['matched_min'], 4)}): B's layer is A's with its units permuted (up to scale and offset).")
        return text

    def _short(self) -> list[str]:
        if not self.matches:
            return [f"No layers were matched unit by unit; see the {self.measure_label} heatmap."] + self.notes
        cfg = self.config
        sums = [m.summary(cfg) for m in self.matches]
        verdicts = {s["verdict"] for s in sums}
        if verdicts == {"same units"}:
            head = "the same units"
        elif verdicts == {"same subspace, different units"}:
            head = "the same subspace, not the same units"
        else:
            head = group_verdicts([(_pair_name(s), s["verdict"]) for s in sums])
        out = [f"Same units, or only the same subspace? For {self.a.label} vs {self.b.label}: {head}. "
               + "Share of A's live units with a one-to-one counterpart in B at ≥ "
               f"{cfg.threshold_high:g}: " + ", ".join(f"{_pair_name(s)} {pct(s['frac_high'])}" for s in sums)
               + "; linear CKA: " + ", ".join(f"{_pair_name(s)} {num(s['linear_cka'])}" for s in sums) + "."]
        perm = [_pair_name(s) for s in sums if s["permutation"]]
        if perm:
            out.append(f"In {', '.join(perm)} B's units are an exact permutation of A's "
                       f"(every matched correlation ≥ {EXACT:g}).")
        return out

    def _heat_findings(self) -> list[str]:
        best = self.best_in_b()
        parts = ", ".join(f"{a} → {b} ({num(v)})" for a, b, v in best if b)
        out = [f"Most similar layer of B for each layer of A by {self.measure_label}: {parts}."]
        shared = [a for a, _, _ in best if a in self.layers_b]
        if shared:
            same = [a for a, b, _ in best if a == b]
            out.append(f"{len(same)} of the {len(shared)} layers of A whose name B also has are most similar to "
                       f"B's layer of the same name.")
        return out

    def _unit_findings(self) -> list[str]:
        return [self._describe(m.summary(self.config)) for m in self.matches]

    # ---- report --------------------------------------------------------------------------
    def to_report(self) -> Report:
        """The HTML report: heatmap, then unit matching for the chosen layers."""
        cfg = self.config
        dist = {self.measure_label} if cfg.measure in DISTANCES else set()
        heat = Figure(viz.fig_layer_heatmaps(self.layers_a, self.layers_b, {self.measure_label: self.matrix}, dist,
                                             "layer of A", "layer of B"),
                      "A white dot marks each A layer's most similar B layer; orange boxes (same names) show where "
                      "a corresponding layer would be.")
        sections = [Section("Every layer of A against every layer of B",
                            question=f"How similar is each layer of A to each layer of B ({self.measure_label})?",
                            findings=self._heat_findings(), figures=[heat],
                            tables=[Table(["layer of A"] + self.layers_b,
                                          [[a] + [num(v, 3) for v in row] for a, row in zip(self.layers_a, self.matrix)],
                                          self.measure_label)])]
        if self.matches:
            sections.append(self._section_units())
        return Report(title=f"Same units, or only the same subspace? {self.a.label} vs {self.b.label}",
                      summary=self._short(), setup=self._setup(), sections=sections)

    def _setup(self) -> dict:
        cfg = self.config
        return {
            "A": self.a.label + (f" — {self.a.info.get('path')}" if self.a.kind == "run" else ""),
            "B": self.b.label + (f" — {self.b.info.get('path')}" if self.b.kind == "run" else ""),
            "data": f"{self.data.name}: {len(self.rows)} of {len(self.data)} samples"
                    + (f" (random subset, seed {cfg.sample_seed})" if len(self.rows) < len(self.data) else "")
                    + "; samples a network was trained on are not excluded",
            "heatmap measure": self.measure_label,
            "unit matching": "Pearson correlation of activations; one-to-one matching maximising total correlation "
                             "(Hungarian, Li et al. 2015); semi-matching = each unit's best partner; linear combination "
                             "= least-squares prediction of an A unit from all of B's units, fitted on half the samples, "
                             "correlation on the other half",
            "conv layers": {"mean": "averaged over space per channel", "max": "maximum over space per channel",
                            "flatten": "every position of every channel is a unit"}[cfg.conv_reduce],
            "thresholds": f"counterpart ≥ {cfg.threshold_high:g}, none < {cfg.threshold_low:g}; 'same units' when at "
                          f"least {pct(cfg.majority)} of live units have a counterpart; 'same subspace' when linear "
                          f"CKA ≥ {cfg.subspace_high:g}; otherwise 'partly shared'",
        }

    def _section_units(self) -> Section:
        cfg = self.config
        labels = [m.layer_a if m.layer_a == m.layer_b else f"{m.layer_a}={m.layer_b}" for m in self.matches]
        series = {"one-to-one match (Hungarian)": [m.live_matched for m in self.matches],
                  "best single partner (semi-matching)": [m.match.semi_corr[~m.dead_a] for m in self.matches],
                  "best linear combination": [m.linpred[~m.dead_a] for m in self.matches]}
        dist = Figure(viz.fig_unit_distributions(labels, series, (cfg.threshold_high, cfg.threshold_low),
                                                 "live units of A"),
                      "Blue: each A unit against its matched B unit; green: against all of B's units combined — "
                      "a gap means the layers share a subspace but not single units.")
        panels = [(f"{lab}: A vs B", m.match.corr, m.match.pairs) for lab, m in zip(labels, self.matches)]
        mats = Figure(viz.fig_matching_matrices(panels, "A", "B"),
                      "Matched units sit on the diagonal, best first: a diagonal that stays dark brown far down means "
                      "most units have a counterpart.")
        rows = []
        for m in self.matches:
            for i, j in m.match.pairs.tolist():
                rows.append([f"{m.layer_a}:{i}", f"{m.layer_b}:{j}", num(m.match.matched_corr[i], 3),
                             f"{m.layer_b}:{int(m.match.semi_match[i])}", num(m.match.semi_corr[i], 3),
                             num(m.linpred[i], 3), "dead" if m.dead_a[i] else ""])
        return Section("Unit matching", question="Does each unit of A have a counterpart in B (Li et al. 2015)?",
                       findings=self._unit_findings(), figures=[dist, mats],
                       tables=[Table(["unit of A", "matched unit of B", "r", "best single partner", "r (semi)",
                                      "lin. comb. r", ""], rows, "Every unit's one-to-one match")],
                       notes=self.notes)
