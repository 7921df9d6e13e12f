"""``nichelab compare``'s page: every layer of A against every layer of B, then the unit matching of
the chosen layer pairs."""
from __future__ import annotations

import numpy as np

from ...studies.compare.findings import SHORT_VERDICTS
from ...studies.compare.analysis import pair_name
from ...studies.text import num, pct
from ..figures import convergence as fig
from ..model import Chart, Control, Readout, Report, Section, Table
from .convergence import (DISTRIBUTION_LABELS, _align, _heat_rows, _match_readout, _match_rows, _thinned,
                          distribution_datasets)

__all__ = ["page", "summary_table"]

_CONV = {"mean": "averaged over space per channel", "max": "maximum over space per channel",
         "flatten": "every position of every channel is a unit"}


def _pair(s: dict) -> str:
    return s["layer_a"] if s["layer_a"] == s["layer_b"] else f"{s['layer_a']}={s['layer_b']}"


def summary_table(r) -> Table:
    """The terminal summary: one row per matched layer pair."""
    c = r.config
    rows = [[_pair(s), f"{s['units_a']}/{s['units_b']}", num(s["matched_mean"]), pct(s["frac_high"]),
             pct(s["frac_none"]), num(s["linpred_median"]), num(s["linear_cka"]), SHORT_VERDICTS.get(s["verdict"], s["verdict"])]
            for s in r.matching]
    return Table(["layer", "units A/B", "match r", f"≥{c.threshold_high:g}", f"<{c.threshold_low:g}", "comb r", "CKA",
                  "shared"], rows,
                 f"compare: {r.a['label']} vs {r.b['label']} on {r.data['name']} ({r.data['n_used']} samples)")


def page(r) -> Report:
    """The HTML report: heatmap, then unit matching for the chosen layers."""
    label = r.measure_label + (" (lower = more similar)" if r.lower_is_better else "")
    matrix = np.asarray(r.matrix, float)
    c = r.config
    pairs, match, records = [], [], {}
    for m in r.matching:
        key = pair_name(m["layer_a"], m["layer_b"])
        pairs.append(key)
        units = sorted(m["units"], key=lambda u: (bool(u["dead"]), np.inf if u["matched_corr"] is None or not
                                                  np.isfinite(u["matched_corr"]) else -u["matched_corr"]))
        rows = _match_rows(key, [u["name"] for u in units], [u["partner"] for u in units],
                           [None if u["matched_corr"] is None or not np.isfinite(u["matched_corr"])
                            else round(float(u["matched_corr"]), 4) for u in units], c.threshold_high, c.threshold_low,
                           [bool(u["dead"]) for u in units])
        match += rows
        records[key] = _match_readout(rows, c.threshold_high, c.threshold_low, "A", "B")
    heat = _heat_rows(r.layers_a, r.layers_b, r.measure, label, matrix, r.views["heatmap_best"], r.lower_is_better,
                      set(pairs))
    start = pairs[0] if pairs else None
    charts = [Chart("layer_heatmap", fig.layer_heatmap("cmp_heat", r.layers_a, r.layers_b, "layer of A", "layer of B",
                                                        pair=start, text=len(r.layers_a) * len(r.layers_b) <= 144,
                                                        measures={r.measure: r.lower_is_better},
                                                        legend_title=_legend_title(r)),
                    "A white dot marks each A layer's most similar B layer; orange boxes (same names) show where a "
                    "corresponding layer would be." + (" Click a cell of a matched layer pair (see the Layer pair menu) "
                                                       "for its units."
                                                       if pairs else ""),
                    datasets={"cmp_heat": heat}, click=("pair", "pair") if pairs else None)]
    controls, readouts = [], []
    if pairs:
        controls.append(Control("pair", "Layer pair", "select", start, [(k, k, "") for k in pairs],
                                help="Whose units are matched below; clicking a heatmap cell of a matched pair "
                                     "picks it too."))
        drawn = [x["r"] for x in match if x["r"] is not None]
        y_min = float(np.floor(min(drawn) * 10) / 10) if drawn else None
        charts.append(Chart("pair_matching", fig.pair_matching("cmp_match", start, c.threshold_high, c.threshold_low,
                                                               y_min=y_min),
                            "Each bar is one unit of A and its one-to-one partner in B, best first: a long green run "
                            "means many units have a near-copy; hover a bar for the two units.",
                            datasets={"cmp_match": match}))
        readouts.append(Readout("pair", records, "Unit matching of {value}"))
    sections = [Section("Every layer of A against every layer of B",
                        question=f"How similar is each layer of A to each layer of B ({r.measure_label})?",
                        findings=r.findings["layers"], figures=charts, controls=controls, readouts=readouts,
                        tables=[Table(["layer of A"] + list(r.layers_b),
                                      [[a] + [num(v, 3) for v in row] for a, row in zip(r.layers_a, matrix)],
                                      r.measure_label)])]
    if r.matching:
        sections.append(_units(r))
    return Report(title=f"Same units, or only the same subspace? {r.a['label']} vs {r.b['label']}",
                  summary=r.findings["short"], setup=_setup(r), sections=sections)


def _legend_title(r) -> list[str]:
    """The heatmap legend: the measure's name, its fixed range and which way is more similar."""
    lo, hi = fig.measure_range(r.measure)
    if r.lower_is_better:
        return [r.measure_label, f"({lo:g} to {hi:g}; lower = more similar,", "drawn brighter)"]
    return [r.measure_label, f"({lo:g} to {hi:g}; brighter = more similar)"]


def _setup(r) -> dict:
    c, d = r.config, r.data
    return {
        "A": r.a["label"] + (f" — {r.a.get('path')}" if r.a.get("kind") == "run" else ""),
        "B": r.b["label"] + (f" — {r.b.get('path')}" if r.b.get("kind") == "run" else ""),
        "data": f"{d['name']}: {d['n_used']} of {d['n_samples']} samples"
                + (f" (random subset, seed {c.sample_seed})" if d["n_used"] < d["n_samples"] else "")
                + "; samples a network was trained on are not excluded",
        "heatmap measure": r.measure_label,
        "unit matching": "Pearson correlation of activations; one-to-one matching maximising total correlation "
                         "(Hungarian, Li et al. 2015); semi-matching = each unit's best partner; linear combination "
                         "= least-squares prediction of an A unit from all of B's units, fitted on half the samples, "
                         "correlation on the other half",
        "conv layers": _CONV[c.conv_reduce],
        "thresholds": f"counterpart ≥ {c.threshold_high:g}, none < {c.threshold_low:g}; 'same units' when the 95% "
                      f"interval (Wilson) of the share of live units with a counterpart lies at or above "
                      f"{pct(c.majority)}; 'this run cannot tell' when it contains {pct(c.majority)}; below it, "
                      f"'same subspace' when linear CKA ≥ {c.subspace_high:g}, otherwise 'partly shared'",
    }


def _units(r) -> Section:
    c, v = r.config, r.views
    series = {DISTRIBUTION_LABELS[k]: [np.asarray(x, float) for x in per] for k, per in v["unit_distributions"].items()}
    field = {"one_to_one": "matched_corr", "semi": "semi_corr", "linear_combination": "linear_combination_corr"}
    labels = {DISTRIBUTION_LABELS[k]: [_align(series[DISTRIBUTION_LABELS[k]][p], _candidates(m, field[k]))
                                       for p, m in enumerate(r.matching)] for k in v["unit_distributions"]}
    points, boxes, y_min = distribution_datasets(v["pairs"], series, labels)
    dist = Chart("unit_distributions", fig.unit_distributions("cmp_dist_pts", "cmp_dist_box", v["pairs"], list(series),
                                                              c.threshold_high, c.threshold_low,
                                                              "matched layer pair, A=B (live units of A)", y_min),
                 "Blue: each A unit against its matched B unit; green: against all of B's units combined — a gap "
                 f"means the layers share a subspace but not single units. Hover a dot for its unit{_thinned(series)}.",
                 datasets={"cmp_dist_pts": points, "cmp_dist_box": boxes})
    rows = [[u["name"], u["partner"], num(u["matched_corr"], 3), u["semi_partner"], num(u["semi_corr"], 3),
             num(u["linear_combination_corr"], 3), "dead" if u["dead"] else ""] for m in r.matching for u in m["units"]]
    return Section("Unit matching", question="Does each unit of A have a counterpart in B (Li et al. 2015)?",
                   findings=r.findings["units"], figures=[dist],
                   tables=[Table(["unit of A", "matched unit of B", "r", "best single partner", "r (semi)",
                                  "lin. comb. r", ""], rows, "Every unit's one-to-one match")],
                   notes=list(r.notes))


def _candidates(m: dict, field: str) -> list:
    """(value, unit, networks) of the live units of A in one matched layer pair, in the stored order."""
    out = []
    for u in m["units"]:
        if u["dead"]:
            continue
        x = u.get(field)
        val = float("nan") if x is None or not np.isfinite(float(x)) else float(x)
        unit = u["name"] + (f" (B: {u['partner']})" if field == "matched_corr" and u.get("partner") is not None else "")
        out.append((val, unit, "A vs B"))
    return out
