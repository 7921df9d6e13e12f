"""The convergence study's page: same units or only the same subspace, layer by layer; which units
have a counterpart; every layer against every layer; does a measure find the corresponding layer."""
from __future__ import annotations

import numpy as np

from ...studies.convergence.agreement import SHORT_VERDICT
from ...studies.convergence.findings import KORNBLITH_CKA, KORNBLITH_TEXT
from ...studies.convergence.measures import DISTANCES, MEASURE_LABELS
from ...studies.compare.analysis import pair_name
from ...studies.text import num, pct, share
from ..figures import convergence as fig
from ..glossary import glossary_link
from ..model import Chart, Control, Readout, Report, Section, Table

__all__ = ["page", "summary_table", "DISTRIBUTION_LABELS", "distribution_datasets"]

#: How the figures name the three ways a unit is compared (keys of ``views["unit_distributions"]``).
DISTRIBUTION_LABELS = {"one_to_one": "one-to-one match (Hungarian)",
                       "semi": "best single partner (semi-matching)",
                       "linear_combination": "best linear combination"}
#: Dots drawn per layer and kind of comparison (evenly spaced over the sorted values); boxes use every value.
MAX_DOTS = 400


def _r(x, digits: int = 4):
    """A drawn number: rounded, None when not finite."""
    x = float(x)
    return round(x, digits) if np.isfinite(x) else None


def _dead(x) -> str:
    return f"{x:.1f}"


def summary_table(r) -> Table:
    """The terminal summary: one row per layer."""
    c = r.config
    rows = [[s["layer"], s["width"], _dead(s["dead_mean"]), num(s["matched_mean"]), pct(s["frac_high"]),
             pct(s["frac_none"]), num(s["linpred_median"]), num(s["cka"]), pct(s["identification"]["linear_cka"]),
             SHORT_VERDICT[s["verdict"]]] for s in r.layers]
    return Table(["layer", "units", "dead", "match r", f"≥{c.threshold_high:g}", f"<{c.threshold_low:g}",
                  "comb r", "CKA", "CKA id", "shared"], rows,
                 f"convergence: {c.seeds} seeds of {r.model['spec']} on {r.data['name']}; answer: {r.answer}; "
                 f"CKA identifies the layer in {pct(r.identification['linear_cka']['accuracy'])}")


def page(r) -> Report:
    """The HTML report: question, measured answer and interactive charts, one idea per section."""
    return Report(
        title="Do networks trained from different seeds learn the same units, or only the same subspace?",
        summary=list(r.findings["short"]) + [glossary_link()], setup=_setup(r),
        sections=[_contrast(r), _units(r), _heatmaps(r), _identification(r), _table(r)])


def _thinned(series: dict) -> str:
    """The caption's note when some layers have more dots than are drawn."""
    most = max((len(x) for per in series.values() for x in per), default=0)
    return (f"; where a layer has more than {MAX_DOTS} values, {MAX_DOTS} dots evenly spaced over the sorted "
            "values are drawn (the boxes use every value)" if most > MAX_DOTS else "")


def _align(values: np.ndarray, candidates: list) -> list | None:
    """(unit, networks) of each of ``values`` when ``candidates`` line up with them, else None.

    ``candidates``: (value, unit, networks) in the order the values were pooled, value None when the result
    does not store it per pair, NaN where the pooled values skip it.
    """
    keep = [x for x in candidates if x[0] is None or np.isfinite(x[0])]
    if len(keep) != len(values):
        return None
    if any(x[0] is not None and abs(round(float(x[0]), 4) - float(v)) > 2e-4 for x, v in zip(keep, values)):
        return None
    return [(u, w) for _, u, w in keep]


def _get(d: dict, k: int):
    return d[k] if k in d else d.get(str(k))


def _conv_candidates(r, layer: str, kind: str) -> list:
    """Candidate labels of a layer's pooled values: ordered seed pairs (i, j), then the live units of seed i."""
    S = len(r.seeds)
    out = []
    for i in range(S):
        units = (_get(r.units, i) or {}).get(layer, [])
        for j in range(S):
            if i == j:
                continue
            for u in units:
                if u["dead"]:
                    continue
                if kind == "one_to_one":
                    m = _get(u["matched"], j)
                    val = float("nan") if m is None else float(m)
                else:
                    val = None
                out.append((val, u["name"], f"seed {r.seeds[i]} vs seed {r.seeds[j]}"))
    return out


def distribution_datasets(layers: list[str], series: dict, labels: dict | None = None) -> tuple[list, list, float]:
    """The unit points and boxes of :func:`..figures.convergence.unit_distributions`.

    Parameters
    ----------
    layers : list of str
    series : dict of kind label -> list (one per layer) of 1-D arrays of finite correlations
    labels : dict of kind label -> list (one per layer) of [(unit, networks)] aligned with the values, or None

    Returns
    -------
    (points, boxes, y_min) : rows of the two datasets and the lowest value rounded down to 0.1 (at most -0.05)
    """
    points, boxes, lo = [], [], -0.05
    for ki, (kind, per) in enumerate(series.items()):
        for li, (layer, vals) in enumerate(zip(layers, per)):
            vals = np.asarray(vals, float)
            if not vals.size:
                continue
            centre = li + fig.KIND_OFFSETS[ki % len(fig.KIND_OFFSETS)]
            q1, med, q3 = np.percentile(vals, [25, 50, 75])
            boxes.append({"kind": kind, "layer": layer, "x": round(centre, 4), "n": int(vals.size),
                          "q1": _r(q1), "med": _r(med), "q3": _r(q3)})
            lab = (labels or {}).get(kind, [None] * len(layers))[li]
            order = np.argsort(vals, kind="stable")
            pick = order if vals.size <= MAX_DOTS else order[np.unique(np.round(np.linspace(0, vals.size - 1, MAX_DOTS)).astype(int))]
            for n, k in enumerate(pick):
                jit = ((n * 0.6180339887) % 1.0 - 0.5) * 0.16
                unit, nets = lab[k] if lab else ("", "")
                points.append({"kind": kind, "layer": layer, "x": round(centre + jit, 4), "v": _r(vals[k]),
                               "unit": unit, "seeds": nets})
            lo = min(lo, float(np.floor(vals.min() * 10) / 10))
    return points, boxes, lo


def _setup(r) -> dict:
    c, d, m = r.config, r.data, r.model
    acc = list(r.accuracy["test"].values())
    return {
        "data": f"{d['name']}: {d['n_samples']} samples, {len(d['class_names'])} classes; stratified split "
                f"(split seed {c.split_seed}): {d['n_train']} for training, {d['n_test']} held out; "
                "every measurement is on the held-out samples",
        "model": f"{m['spec']}: layers " + ", ".join(f"{n} ({w})" for n, w in zip(m["layers"], m["widths"]))
                 + f"; {m['output_layer']} is the output (logits); init {c.init}"
                 + ("; conv layers averaged over space per channel" if m["spec"].startswith("cnn") else ""),
        "training": f"{c.optimizer}, lr {c.lr}, {c.epochs} epochs, batch {c.batch_size}, softmax cross-entropy; "
                    "all seeds trained at once",
        "seeds": f"{c.seeds} ({', '.join(map(str, r.seeds))}); test accuracy {pct(min(acc))}–{pct(max(acc))}",
        "pairs": f"{len(r.seeds) * (len(r.seeds) - 1)} ordered seed pairs (i, j): matching and PWCCA read from "
                 "seed i's side",
        "measures": ", ".join(MEASURE_LABELS[x] for x in c.measures)
                    + (" (CKA debiased, Song et al. 2012)" if c.debiased else " (CKA biased, as in Kornblith et al.)")
                    + "; SVCCA keeps 99% of variance; RBF CKA σ = 0.4 × median distance",
        "unit matching": "Pearson correlation of activations; one-to-one matching maximising total correlation "
                         "(Hungarian); semi-matching = each unit's best partner; linear combination = least-squares "
                         "prediction of a unit from all units of the other seed's layer, fitted on the training "
                         "samples, correlation on the held-out ones",
        "baseline": "the same measures against an untrained network (the other seed's initial weights)",
        "thresholds": f"counterpart ≥ {c.threshold_high:g}, none < {c.threshold_low:g}, majority {pct(c.majority)}, "
                      f"same subspace: CKA ≥ {c.subspace_high:g}",
    }


def _contrast(r) -> Section:
    s, c = r.layers, r.config
    layers = [x["layer"] for x in s]
    svcca = "svcca" in r.similarity
    series = {"one-to-one matched r (mean)": [x["matched_mean"] for x in s],
              f"share of units matched ≥ {c.threshold_high:g}": [x["frac_high"] for x in s],
              "best linear combination r (median)": [x["linpred_median"] for x in s],
              "linear CKA": [x["cka"] for x in s]}
    if svcca:
        series["SVCCA"] = [x["similarity"]["svcca"] for x in s]
    base = {"matched r vs untrained net": [x["baseline_matched_mean"] for x in s],
            "linear CKA vs untrained net": [x["baseline_cka"] for x in s]}
    rows = [{"layer": n, "series": k, "value": _r(v[i]), "untrained": False}
            for k, v in series.items() for i, n in enumerate(layers)]
    rows += [{"layer": n, "series": k, "value": _r(v[i]), "untrained": True}
             for k, v in base.items() for i, n in enumerate(layers)]
    figure = Chart("contrast", fig.contrast("conv_contrast", layers, list(series) + list(base)),
                   "Where the CKA, SVCCA and linear-combination lines sit far above the matched-r line, seeds "
                   "share the subspace but not the units; dotted lines are the untrained-network floor.",
                   datasets={"conv_contrast": rows})
    rows = [[x["layer"], num(x["matched_mean"]), pct(x["frac_high"]), num(x["semi_mean"]), num(x["linpred_median"]),
             num(x["cka"])] + ([num(x["similarity"]["svcca"])] if svcca else []) + [num(x["baseline_cka"]),
                                                                                     x["verdict"]] for x in s]
    cols = ["layer", "matched r", f"≥ {c.threshold_high:g}", "semi-match r", "lin. comb. r", "linear CKA"] \
        + (["SVCCA"] if svcca else []) + ["CKA vs untrained", "verdict"]
    return Section("Same units, or only the same subspace?",
                   question="Layer by layer, do two seeds agree unit by unit, or only as subspaces?",
                   findings=r.findings["subspace"], figures=[figure],
                   tables=[Table(cols, rows, "Unit-level vs subspace-level agreement (means over seed pairs)")],
                   notes=[r.findings["thresholds"]] + list(r.notes))


def _units(r) -> Section:
    c, v = r.config, r.views
    layers = r.model["layers"]
    kinds = [DISTRIBUTION_LABELS[k] for k in v["unit_distributions"]]
    series = {DISTRIBUTION_LABELS[k]: [np.asarray(per[n], float) for n in layers]
              for k, per in v["unit_distributions"].items()}
    labels = {DISTRIBUTION_LABELS[k]: [_align(series[DISTRIBUTION_LABELS[k]][li], _conv_candidates(r, n, k))
                                       for li, n in enumerate(layers)] for k in v["unit_distributions"]}
    points, boxes, y_min = distribution_datasets(layers, series, labels)
    dist = Chart("unit_distributions", fig.unit_distributions("conv_dist_pts", "conv_dist_box", layers, kinds,
                                                              c.threshold_high, c.threshold_low,
                                                              "layer (live units, all ordered seed pairs)", y_min),
                 "Compare the blue boxes (one unit against one unit) with the green ones (one unit against a whole "
                 "layer): the gap is agreement that lives in the subspace, not in single units. Hover a dot for "
                 f"its unit{_thinned(series)}.",
                 datasets={"conv_dist_pts": points, "conv_dist_box": boxes})
    sh = v["unit_shares"]
    shares = {f"counterpart ≥ {c.threshold_high:g}": sh["high"],
              f"{c.threshold_low:g} ≤ r < {c.threshold_high:g}": sh["loose"],
              f"no counterpart (< {c.threshold_low:g})": sh["none"], "dead on the test data": sh["dead"]}
    rows = [{"layer": n, "part": k, "order": o, "pct": _r(100 * float(x[i]), 2)}
            for o, (k, x) in enumerate(shares.items()) for i, n in enumerate(layers)]
    bars = Chart("unit_shares", fig.unit_shares("conv_shares", layers, list(shares),
                                                "all units, all ordered seed pairs"),
                 "The green part of each bar is the share of units with a near-copy in another seed; "
                 "vermilion units have no counterpart at all.", datasets={"conv_shares": rows})
    return Section("Which units have a counterpart in another seed?",
                   question="Does each unit of one network have a near-copy in another seed (Li et al. 2015)?",
                   findings=r.findings["units"], figures=[dist, bars],
                   notes=[f"Seed {r.seeds[0]}, unit by unit:"] + r.findings["counterparts_first_seed"])


def _heatmaps(r) -> Section:
    layers, c = r.model["layers"], r.config
    lp = r.views.get("layer_pairs") or {"pairs": []}
    pairs = {pair_name(p["layer_a"], p["layer_b"]): p for p in lp["pairs"]}
    a_title, b_title = f"seed {lp.get('seed_a', '?')}", f"seed {lp.get('seed_b', '?')}"
    within = "linear CKA within one seed"
    heat = _heat_rows(layers, layers, "within", within, r.within_seed_linear_cka["mean"],
                      r.views["heatmap_best"]["within"], False, set())
    options = []
    for m, d in r.similarity.items():
        label = MEASURE_LABELS[m] + " across seeds" + (" (lower = more similar)" if m in DISTANCES else "")
        heat += _heat_rows(layers, layers, m, label, d["mean"], r.views["heatmap_best"][m], m in DISTANCES, pairs)
        options.append((m, label, ""))
    options.append(("within", within, ""))
    first = options[0][0]
    match, records = [], {}
    for key, p in pairs.items():
        rows = _match_rows(key, p["unit_a"], p["unit_b"], p["r"], c.threshold_high, c.threshold_low, p.get("dead"))
        match += rows
        records[key] = _match_readout(rows, c.threshold_high, c.threshold_low, a_title, b_title)
    start = pair_name(layers[0], layers[0])
    charts = [Chart("layer_heatmap", fig.layer_heatmap("conv_heat", layers, layers, "layer of seed i", "layer of seed j",
                                                        measure=first, pair=start if pairs else None,
                                                        text=len(layers) <= 12,
                                                        measures={**{m: m in DISTANCES for m in r.similarity},
                                                                  "within": False},
                                                        legend_title=["value of the measure in the", "Measure menu "
                                                                      "(fixed scale;", "brighter = more similar)"]),
                    "Orange boxes are the same layer in both seeds; a white dot marks each row's most similar "
                    "layer — when dots sit in the boxes, the measure finds the corresponding layer. Click a cell "
                    "for its units.",
                    datasets={"conv_heat": heat}, click=("pair", "pair") if pairs else None)]
    controls = [Control("measure", "Measure", "select", first, options,
                        help="Which similarity the heatmap shows; colours show its value on the measure's fixed "
                             "range (0 to 1 for CKA, CCA, SVCCA, PWCCA; -1 to 1 for RSA; 0 to 2 for the Procrustes "
                             "distance, where lower is more similar).")]
    readouts = []
    if pairs:
        controls.append(Control("pair", "Layer pair", "select", start, [(k, k, "") for k in pairs],
                                help=f"Whose units are matched below ({a_title} vs {b_title}); clicking a heatmap "
                                     "cell picks it too."))
        charts.append(Chart("pair_matching", fig.pair_matching("conv_match", start, c.threshold_high, c.threshold_low,
                                                               a_title, b_title),
                            "Each bar is one unit of seed i and its one-to-one partner in seed j, best first: a long "
                            "green run means many units have a near-copy; hover a bar for the two units.",
                            datasets={"conv_match": match}))
        readouts.append(Readout("pair", records, "Unit matching of {value}"))
    n_pairs = len(r.seeds) * (len(r.seeds) - 1)
    return Section("How similar is every layer of one seed to every layer of another?",
                   question="CKA (and the other measures) between all layers of all seed pairs: which layers agree most?",
                   findings=r.findings["which_layers"], figures=charts, controls=controls, readouts=readouts,
                   notes=[f"Each measure across seeds is the mean over {n_pairs} ordered seed pairs; 'within one "
                          "seed' compares the layers of one network with each other (mean over seeds). The unit "
                          f"matching below is of one seed pair ({a_title} against {b_title}): Pearson correlation "
                          "of activations on the held-out samples, one-to-one matching maximising the total "
                          "correlation (Hungarian; Li et al. 2015)."])


def _heat_rows(layers_a, layers_b, key, label, m, best, lower_is_better, pairs) -> list:
    """Heat rows of one measure (see figures/convergence.py): values, their place on the measure's fixed
    range (1 = the most similar end), marks."""
    m = np.asarray(m, float)
    lo, hi = fig.measure_range(key)
    rows = []
    for i, a in enumerate(layers_a):
        for j, b in enumerate(layers_b):
            v = float(m[i, j])
            s = min(1.0, max(0.0, (v - lo) / (hi - lo)))
            p = pair_name(a, b)
            rows.append({"m": key, "lab": label, "a": a, "b": b, "i": i, "j": j,
                         "v": round(v, 4) if np.isfinite(v) else None,
                         "s": round(1 - s if lower_is_better else s, 4) if np.isfinite(v) else None,
                         "best": bool(best is not None and len(best) > i and int(best[i]) == j),
                         "same": a == b, "pair": p if p in pairs else None})
    return rows


def _match_rows(pair: str, unit_a: list, unit_b: list, r: list, high: float, low: float,
                dead: list | None = None) -> list:
    """Match rows of one layer pair (best first): rank, unit names, correlation, band (``dead``: A's unit
    is constant on the data)."""
    dead = dead or [False] * len(r)
    return [{"pair": pair, "k": k + 1, "ua": ua, "ub": ub, "r": x,
             "band": "dead" if d else None if x is None else "counterpart" if x >= high
             else "loose" if x >= low else "none"}
            for k, (ua, ub, x, d) in enumerate(zip(unit_a, unit_b, r, dead))]


def _match_readout(rows: list, high: float, low: float, a_title: str, b_title: str, limit: int = 12) -> list:
    """The numbers a selected layer pair shows in words: shares with counts and intervals, best and worst matches."""
    live = [x for x in rows if x["r"] is not None and x["band"] != "dead"]
    n = len(live)
    k_high = sum(x["r"] >= high for x in live)
    k_none = sum(x["r"] < low for x in live)
    dead = sum(x["band"] == "dead" for x in rows)
    out = [("matched unit pairs", f"{len(rows)}" + (f" ({dead} with a constant (dead) unit of {a_title}, left out "
                                                     "of the numbers below)" if dead else "")),
           (f"counterpart (r ≥ {high:g})", share(k_high, n, "pairs")),
           (f"no counterpart (r < {low:g})", share(k_none, n, "pairs")),
           ("mean matched r", num(float(np.mean([x["r"] for x in live]))) if n else "n/a")]

    def fmt(xs):
        return "; ".join(f"{x['ua']} → {x['ub']} (r = {num(x['r'])})" for x in xs)
    out.append((f"best matches ({a_title} → {b_title})", fmt(live[:limit])))
    if n > limit:
        out.append(("worst matches", fmt(live[-min(limit, n - limit):])))
    return out


def _identification(r) -> Section:
    layers = r.model["layers"]
    ident = r.identification
    labels = [MEASURE_LABELS[m] for m in ident]
    chance = ident["linear_cka"]["chance"]
    rows = [{"measure": MEASURE_LABELS[m], "pct": _r(100 * v["accuracy"], 2),
             "ref": 100 * KORNBLITH_CKA if m == "linear_cka" else None} for m, v in ident.items()]
    figure = Chart("identification", fig.identification("conv_ident", labels, chance, len(layers)),
                   "Bars right of the dashed chance line find the corresponding layer more often than guessing; "
                   f"the diamond is Kornblith et al.'s {KORNBLITH_TEXT['cka']} for linear CKA. Every layer counts, "
                   f"the logits layer {layers[-1]} included (the text gives the hidden layers alone).",
                   datasets={"conv_ident": rows})
    rows = [[MEASURE_LABELS[m], pct(v["accuracy"])] + [pct(v["per_layer"][n]) for n in layers]
            for m, v in ident.items()]
    return Section("Does a similarity measure find the corresponding layer of another seed?",
                   question="Kornblith et al. 2019, table 2, in this run: for each layer of one seed, is the most "
                            "similar layer of another seed the same layer?",
                   findings=r.findings["identification"], figures=[figure],
                   tables=[Table(["measure", "overall"] + layers, rows,
                                 f"Share of (seed pair, layer) rows whose most similar layer is the same layer, "
                                 f"over all {len(layers)} layers, the logits layer {layers[-1]} included (as a row "
                                 "and as a candidate); ties count as misses")])


def _table(r) -> Section:
    c = r.config
    rows = [[s["layer"], s["width"], _dead(s["dead_mean"]), num(s["matched_mean"]), num(s["matched_median"]),
             pct(s["frac_high"]), pct(s["frac_low"]), pct(s["frac_none"]), num(s["semi_mean"]),
             num(s["linpred_median"]), pct(s["linpred_frac_high"]), num(s["baseline_matched_mean"]),
             num(s["cka"]), num(s["baseline_cka"]), s["verdict"]] for s in r.layers]
    cols = ["layer", "units", "dead (mean)", "matched r mean", "matched r median", f"matched ≥ {c.threshold_high:g}",
            f"matched ≥ {c.threshold_low:g}", f"none (< {c.threshold_low:g})", "semi-match r", "lin. comb. r median",
            f"lin. comb. ≥ {c.threshold_high:g}", "matched r vs untrained", "linear CKA", "CKA vs untrained", "verdict"]
    loss = r.accuracy.get("final_train_loss", {})
    acc = [[s, pct(r.accuracy["test"][str(s)], 1), num(loss.get(str(s)), 4)] for s in r.seeds]
    return Section("Every layer's numbers", question="All the per-layer numbers behind the findings.",
                   tables=[Table(cols, rows, "Per layer, pooled over live units and ordered seed pairs"),
                           Table(["seed", "test accuracy", "final training loss"], acc, "Every seed")])
