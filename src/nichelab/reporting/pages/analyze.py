"""The analyze study's page: the short answer, one section per question, then the tables of every unit."""
from __future__ import annotations

import math

import numpy as np

from ...studies.analyze.config import MAX_PROBE_FEATURES
from ...studies.analyze.findings import KIND_TEXT, layer_label
from ...studies.text import pct
from ..figures import analyze as fig
from ..model import Chart, Control, Figure, Readout, Report, Section, Table
from ..style import FigurePool

__all__ = ["page", "summary_table", "unit_datasets", "census_datasets"]

_UNIT_ROWS = 1000       # unit-table rows in the HTML report (all units are in results.json)


def _f(x, digits: int = 2) -> str:
    """Fixed decimals, ``"–"`` for NaN / None, never ``"-0.00"``."""
    if x is None or not math.isfinite(float(x)):
        return "–"
    text = f"{float(x):.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _nums(values) -> str:
    return "(" + ", ".join(f"{float(v):.3f}" for v in values) + ")"


def _n_indispensable(rec: dict) -> str:
    return str(len(rec["ablation"]["indispensable"])) if rec["ablation"] else "–"


def summary_table(r) -> Table:
    """The terminal summary: one row per layer."""
    rows = []
    for rec in r.layers:
        p = rec["probe"]
        rows.append([rec["name"], str(rec["units"]), str(rec["n_dead"]),
                     f"{len(rec['near_duplicate_groups'])} ({rec['n_in_groups']})", _f(rec["participation_ratio"], 1),
                     pct(p["test_accuracy"], 1) if p else "–", _f(rec["mean_selectivity"]), _n_indispensable(rec)])
    caption = f"analyze: {r.model['source']} on {r.data['name']}, {r.n_samples} samples" + (
        f", accuracy {pct(r.accuracy, 1)}" if r.accuracy is not None else "")
    return Table(["layer", "units", "dead", "dup groups (units)", "PR", "probe", "select.", "indisp."], rows,
                 caption + " (PR: participation ratio; probe: held-out linear-probe accuracy; select.: mean "
                           "selectivity of live units; indisp.: indispensable units)")


def page(r) -> Report:
    """The HTML report: the short answer, then one section per question, then the tables.

    Figures are rendered in parallel worker processes (:class:`~nichelab.reporting.style.FigurePool`).
    """
    f = r.findings
    if not r.layers:        # the units were not measured (training diverged): the reason in words, no figures
        return Report(title=f"What do the hidden units of {r.model['source']} do on {r.data['name']}?",
                      summary=[f"Warning: {w}" for w in r.warnings] + f["model"][1:2], setup=_setup(r),
                      sections=[_layers(r, f), _dead(f)])
    with FigurePool() as pool:
        data = census_datasets(r)
        sections = [_layers(r, f), _dead(f), _duplicates(f), _selective(r, f, data), _ablation(r, f, data),
                    _probes(r, f, data)]
        drives = _drives(r, pool)
        if drives is not None:
            sections.append(drives)
        sections.append(_units(r))
        report = Report(title=f"What do the hidden units of {r.model['source']} do on {r.data['name']}?",
                        summary=[f"Warning: {w}" for w in r.warnings] + f["model"][:1] + f["layers"],
                        setup=_setup(r), sections=sections)
    for section in report.sections:
        for figure in section.figures:
            if isinstance(figure, Figure):
                figure.png = FigurePool.resolve(figure.png)
    return report


def _setup(r) -> dict:
    c, d, m, t = r.config, r.data, r.model, r.training
    shape = (f"{d['input_shape'][0]} features" if len(d["input_shape"]) == 1 else
             "samples of shape " + " x ".join(map(str, d["input_shape"])))
    names = d["class_names"]
    setup = {"data": f"{d['name']}: {d['n_samples']} samples, {shape}, {d['n_classes']} classes "
                     f"({', '.join(names[:12])}{', ...' if d['n_classes'] > 12 else ''})",
             "model": f"{m['source']} ({KIND_TEXT[m['kind']]})"}
    if d.get("label_mapping_text"):
        setup["class indices"] = d["label_mapping_text"]
    if d.get("channels") is not None:
        setup["images"] = (f"{d['channels']} channel{'s' if d['channels'] != 1 else ''} (--channels "
                           f"{c.channels}), {' x '.join(map(str, d.get('image_size') or ()))} pixels, normalize "
                           f"{d.get('normalize', c.normalize)}"
                           + (f" (per-channel mean {_nums(d['mean'])}, std {_nums(d['std'])})" if d.get("mean") else ""))
    if d.get("inputs") == "tokens":
        setup["tokens"] = {"mean": "a unit's value per sample is its mean over the tokens whose attention mask is 1",
                           "first": "a unit's value per sample is its value at the first token ([CLS])",
                           "all": "every real token (attention mask 1) is one observation, labelled with its "
                                  "sample's class; probes read the per-sample mean over real tokens"}[c.tokens]
    if c.unit_axis is not None:
        setup["unit axis"] = f"axis {c.unit_axis} of every analysed layer's output holds its units (--unit-axis)"
    if c.select is not None:
        setup["tuple outputs"] = f"tensor {c.select} of a layer's tuple output is analysed (--select)"
    reused = sorted({rec["module"] for rec in r.layers if rec.get("calls", 1) > 1})
    if reused:
        setup["reused modules"] = (", ".join(reused) + ": called more than once per forward pass; every call is "
                                   "its own row (name, name#1, ...), measured and ablated on its own")
    if t:
        setup["training"] = (f"{t['optimizer']}, lr {t['lr']}, {t['epochs']} epochs, batch {t['batch_size']}, softmax "
                             f"cross-entropy, {t['init']} init, seed {c.seed}; stratified split {t['n_train']} train / "
                             f"{t['n_test']} held out")
    subset = c.max_samples is not None and c.max_samples <= r.n_samples
    setup["analysed samples"] = (f"{r.n_samples} ({'the held-out split' if t else 'the given data'}"
                                 f"{', stratified subset' if subset else ''})")
    setup["layers"] = ", ".join(m["layers_analysed"])
    conv = any(rec["kind"] == "conv" for rec in r.layers)
    if conv:
        setup["conv layers"] = f"each channel is one unit; its activation is the spatial {c.reduce} per sample"
    setup["dead unit"] = "zero on every sample or constant (ReLU-like layers); constant (layers with negative values)"
    setup["near-duplicates"] = f"units whose activations correlate with |r| >= {c.threshold:g}, linked in chains"
    setup["selectivity"] = ("(mu_max - mu_rest) / (mu_max + mu_rest) of class means (Morcos et al. 2018); "
                            "a layer with negative values is shifted to start at 0 per unit")
    setup["ablation"] = (f"each unit alone {'set to 0' if c.ablation_mode == 'zero' else 'clamped to its mean'} "
                         f"on at most {c.ablation_samples} samples; indispensable when it costs >= "
                         f"{c.indispensable_overall:g} percentage point{'' if c.indispensable_overall == 1 else 's'} "
                         f"of accuracy overall or >= {c.indispensable_class:g} on one class"
                         if c.ablation else "not run (ablation off)")
    setup["probe"] = ("logistic regression on standardised activations, 70/30 split of the analysed samples"
                      + ("; conv layers: on the whole flattened feature map when it has at most "
                         f"{MAX_PROBE_FEATURES} values, else on the spatial {c.reduce} per channel" if conv else ""))
    return setup


def _layer_table(r) -> Table:
    rows = []
    for rec in r.layers:
        p = rec["probe"]
        probe = (pct(p["test_accuracy"], 1) + ("" if rec["probe_features"] == "units" else f" ({rec['probe_features']})")
                 if p else rec["probe_note"] or "–")
        rows.append([rec["name"], rec["module_type"], "x".join(map(str, rec["output_shape"])), rec["units"],
                     rec["n_dead"],
                     "; ".join("{" + ", ".join(map(str, g)) + "}" for g in rec["near_duplicate_groups"]) or "–",
                     _f(rec["participation_ratio"], 1), probe, _f(rec["mean_selectivity"]), _n_indispensable(rec)])
    p = r.input_probe
    return Table(["layer", "type", "output per sample", "units", "dead", "near-duplicate groups (unit indices)",
                  "participation ratio", "probe accuracy", "mean selectivity", "indispensable"], rows,
                 f"Layers (input probe: {pct(p['test_accuracy'], 1) if p else 'n/a'}; chance "
                 f"{pct(p['chance'], 1) if p else 'n/a'})")


def _layers(r, f) -> Section:
    return Section("The layers at a glance", question="How many units does each layer have, and how many are dead, "
                   "duplicated, selective or indispensable?", findings=f["model"] + f["layers"],
                   tables=[_layer_table(r)])


def _dead(f) -> Section:
    return Section("Dead units", question="Which units never respond to these samples?", findings=f["dead"])


def _duplicates(f) -> Section:
    return Section("Near-duplicate units", question="Which units compute (almost) the same thing?",
                   findings=f["duplicates"])


def _unit_names(r) -> dict:
    """Layer name -> the names of its units by index (``L1:0`` ...)."""
    return {rec["name"]: [u["unit"] for u in rec["unit_records"]] for rec in r.layers}


def census_datasets(r) -> dict:
    """The named datasets of the census charts (see :mod:`nichelab.reporting.figures.analyze`), from ``r.views``.

    Returns
    -------
    dict of str -> list of dict
        ``an_cm`` and ``an_abl`` (one row per heatmap cell), ``an_sel`` (one row per live unit), ``an_selbox``
        (one row per layer), ``an_probe`` (one row per layer and split).
    """
    v, names = r.views, r.class_names
    units = _unit_names(r)

    def name(layer, k):
        us = units.get(layer, [])
        return us[k] if k < len(us) else f"{layer}:{k}"
    cm = []
    for p in v["class_means"]:
        z = np.asarray(p["z"], float).reshape(len(names), -1)
        for pos, k in enumerate(np.asarray(p["order"]).ravel().tolist()):
            for c in range(len(names)):
                cm.append({"layer": p["name"], "pos": pos, "unit": name(p["name"], int(k)), "k": int(k), "row": c,
                           "class": names[c], "z": _r(z[c, pos])})
    abl = []
    if v.get("ablation") is not None:
        for p in v["ablation"]["panels"]:
            z = np.asarray(p["z"], float).reshape(len(names) + 1, -1)
            key = set(np.asarray(p["key"]).ravel().tolist())
            for pos, k in enumerate(np.asarray(p["order"]).ravel().tolist()):
                for row in range(len(names) + 1):
                    abl.append({"layer": p["name"], "pos": pos, "unit": name(p["name"], int(k)), "k": int(k), "row": row,
                                "class": "overall" if row == 0 else names[row - 1], "pp": _r(z[row, pos]),
                                "key": pos in key})
    s = v["selectivity"]
    sel, box = [], []
    for li, (layer, live, st) in enumerate(zip(s["names"], s["live"], s["stats"])):
        live = np.asarray(live, float).ravel()
        rec = next((x for x in r.layers if x["name"] == layer), {"unit_records": []})
        cands = [(u["selectivity"], u["unit"]) for u in rec["unit_records"] if not u["dead"]
                 and u["selectivity"] is not None and math.isfinite(float(u["selectivity"]))]
        labelled = len(cands) == len(live) and all(abs(round(c, 4) - x) <= 2e-4 for (c, _), x in zip(cands, live))
        for n, x in enumerate(live.tolist()):
            sel.append({"layer": layer, "li": li, "x": round(li + ((n * 0.6180339887) % 1.0 - 0.5) * 0.36, 4),
                        "s": _r(x), "unit": cands[n][1] if labelled else ""})
        if live.size:
            box.append({"layer": layer, "li": li, "n": int(live.size), "q1": _r(st["q1"]), "med": _r(st["med"]),
                        "q3": _r(st["q3"]), "lo": _r(st["whislo"]), "hi": _r(st["whishi"])})
    probe = []
    if v.get("probes") is not None:
        p = v["probes"]
        for li, layer in enumerate(p["names"]):
            probe.append({"layer": layer, "li": li, "split": "held-out samples", "acc": _r(100 * p["test"][li], 2)})
            probe.append({"layer": layer, "li": li, "split": "training samples", "acc": _r(100 * p["train"][li], 2)})
    return {"an_cm": cm, "an_abl": abl, "an_sel": sel, "an_selbox": box, "an_probe": probe}


def _heat_layer(r) -> str:
    return r.views["class_means"][0]["name"] if r.views["class_means"] else ""


def _selective(r, f, data) -> Section:
    layers = [p["name"] for p in r.views["class_means"]]
    first, layer = _first_unit(r), _heat_layer(r)
    what = {p["name"]: f"{p['name']} ({len(np.asarray(p['order']).ravel())} {p['what']}"
            + (f", {p['n_dead']} dead in grey" if p["n_dead"] else "") + ")" for p in r.views["class_means"]}
    controls = [Control("clayer", "Heatmap layer", "select", layer, [(n, what[n], "") for n in layers],
                        help="The layer the class-mean heatmap here and the ablation heatmap below show.")] if layers else []
    figs = []
    if layers:
        figs.append(Chart("class_means", fig.chart_class_means(first, layer, len(r.class_names)),
                          "Each column is a unit: a single bright cell means the unit answers to one class; an evenly "
                          "coloured column means no preference. Click a column to select its unit below.",
                          datasets={"an_cm": data["an_cm"]}, click=("unit", "unit")))
    figs.append(Chart("selectivity", fig.chart_selectivity(first, r.views["selectivity"]["names"]),
                      "Compare the boxes: a higher box means the layer's units are more class-specific; the ringed "
                      "dot is the selected unit (click a dot to select it).",
                      datasets={"an_sel": data["an_sel"], "an_selbox": data["an_selbox"]}, click=("unit", "unit")))
    return Section("Selective units", question="Which units respond to one class, and how does that change "
                   "with depth?", findings=f["selectivity"], figures=figs, controls=controls)


def _ablation(r, f, data) -> Section:
    a = r.views["ablation"]
    figs = []
    if a is not None and data["an_abl"]:
        figs.append(Chart("ablation", fig.chart_ablation(_first_unit(r), _heat_layer(r), len(r.class_names), a["vmax"]),
                          "Orange cells are damage: look for units that cost little overall (top row) but a lot on one "
                          "class; purple cells are a negative cost (accuracy rose without the unit); triangles mark "
                          "indispensable units. The layer is the one chosen above the class-mean heatmap; click a cell "
                          "to select its unit.",
                          datasets={"an_abl": data["an_abl"]}, click=("unit", "unit")))
    notes = [f"{layer_label(rec['name'])}: {rec['ablation_note']}" for rec in r.layers
             if rec["ablation"] is None and rec["ablation_note"]]
    if any(d["cost"] <= -0.05 for d in _costs(r)):
        notes.append(NEGATIVE_COST)
    return Section("Indispensable units", question="Which single units can the model not do without?",
                   findings=f["indispensable"], figures=figs, notes=notes)


#: What a negative ablation cost means, shown wherever costs are listed.
NEGATIVE_COST = ("A negative cost means accuracy rose when the unit was removed: without it, a few more samples near a "
                 "class boundary land on the right side. It is not an error; a gain of one or two samples can be "
                 "chance, and only a larger, repeated gain would mean the unit hurts the model.")


def _costs(r) -> list[dict]:
    """``{"unit", "cost"}`` of every unit with an overall ablation cost (points; positive = damage)."""
    return [{"unit": u["unit"], "cost": u.get("ablation_drop_pp")} for rec in r.layers for u in rec["unit_records"]
            if u.get("ablation_drop_pp") is not None]


def _probes(r, f, data) -> Section:
    p = r.views["probes"]
    figs = []
    if p is not None:
        figs.append(Chart("probes", fig.chart_probes(p["names"], p["chance"], p["model_accuracy"]),
                          "Follow the solid line: where it climbs, that layer makes the labels more linearly "
                          "readable than the one before.", datasets={"an_probe": data["an_probe"]}))
    return Section("What each layer knows about the labels", question="How well can a linear classifier read "
                   "the class from each layer?", findings=f["probes"], figures=figs)


def _drives(r, pool) -> Section | None:
    top, first = r.views["top_examples"], r.views["first_weights"]
    if top is None:
        return None          # the inputs are not images
    figs = [Figure(pool.draw(fig.fig_top_examples, top["pictures"], layer["rows"], r.class_names),
                   f"{layer_label(layer['name'])}, its {layer['n_units']} most selective units: if a row shows one class, the "
                   "unit is a detector for it; mixed rows show a shared feature.") for layer in top["layers"]]
    if first is not None:
        figs.append(Figure(pool.draw(fig.fig_first_weights, first["name"], first["pictures"], first["rgb"],
                                     first["n_units"]),
                           f"{layer_label(first['name'])}: orange pixels excite the unit, purple ones inhibit it; look for "
                           "strokes, edges and blobs."))
    return Section("What drives the units", question="Which inputs excite each unit most, and what do the first "
                   "layer's weights look for?", figures=figs)


def _cost(u: dict, names: list[str]) -> list[str]:
    """Overall cost, worst class cost (with the class) and the indispensable mark of one unit."""
    if "ablation_drop_pp" not in u:
        return ["–", "–", "–"]
    per = np.array([np.nan if v is None else v for v in u["ablation_class_drop_pp"]], float)
    wc = int(np.nanargmax(np.where(np.isfinite(per), per, -np.inf)))
    return [_f(u["ablation_drop_pp"], 1), f"{_f(per[wc], 1)} ({names[wc]})", "yes" if u["indispensable"] else ""]


def _png_url(pic) -> str:
    """A picture ((H, W) grey or (H, W, 3) RGB in [0, 1]) as a PNG data URL, enlarged to at least 56 px."""
    import base64
    import io

    from PIL import Image
    a = np.clip(np.nan_to_num(np.asarray(pic, float)), 0, 1)
    img = Image.fromarray((255 * a).round().astype(np.uint8), "RGB" if a.ndim == 3 else "L")
    k = max(1, -(-56 // max(img.size)))
    if k > 1:
        img = img.resize((img.size[0] * k, img.size[1] * k), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _unit_list(r) -> list[tuple[str, dict]]:
    """(layer name, unit record) of the units shown on the page (the first ``_UNIT_ROWS``)."""
    return [(rec["name"], u) for rec in r.layers for u in rec["unit_records"]][:_UNIT_ROWS]


def _r(x, digits: int = 4):
    return None if x is None or not math.isfinite(float(x)) else round(float(x), digits)


def unit_datasets(r) -> dict:
    """The named datasets the unit charts read (see :mod:`nichelab.reporting.figures.analyze`).

    Returns
    -------
    dict of str -> list of dict
        ``an_units`` (one row per unit), ``an_means`` (one row per unit and class) and ``an_top`` (one row per
        unit and top input; ``url`` a PNG data URL when results.json stores that input's picture, else None).
    """
    names = r.class_names
    top = r.views.get("top_examples")
    pic_of, label_of = {}, {}
    if top is not None:
        samples_of = np.asarray(top["samples"]).ravel().tolist()
        pic_of = {int(s): i for i, s in enumerate(samples_of)}
        for layer in top["layers"]:
            for row in layer["rows"]:
                for j, lab in zip(np.asarray(row["pictures"]).ravel().tolist(), np.asarray(row["labels"]).ravel().tolist()):
                    label_of[int(samples_of[j])] = int(lab)
    urls: dict = {}
    units, means, tops = [], [], []
    for layer, u in _unit_list(r):
        pref = u["preferred_class"]
        units.append({"unit": u["unit"], "layer": layer, "selectivity": _r(u["selectivity"]),
                      "cost": _r(u.get("ablation_drop_pp"), 2), "dead": "dead" if u["dead"] else "live",
                      "pref": names[pref] if pref is not None else "–"})
        for c, m in enumerate(np.asarray(u["class_means"], float).ravel().tolist()):
            means.append({"unit": u["unit"], "cls": c, "class": names[c], "mean": _r(m), "pref": pref == c})
        samples = np.asarray(u["top_samples"]).ravel().tolist()
        values = np.asarray(u["top_values"], float).ravel().tolist()
        for k, (s, v) in enumerate(zip(samples, values)):
            lab = label_of.get(int(s))
            if u["dead"] or not math.isfinite(v):
                continue
            j = pic_of.get(int(s))
            if j is not None and j not in urls:
                urls[j] = _png_url(top["pictures"][j])
            tops.append({"unit": u["unit"], "rank": k + 1, "sample": int(s), "class": names[lab] if lab is not None else "not stored",
                         "value": _r(v), "url": urls.get(j) if j is not None else None})
    return {"an_units": units, "an_means": means, "an_top": tops}


def _first_unit(r) -> str:
    """The unit shown first: the most selective unit of the first layer in the top-example view, else the first."""
    top = r.views.get("top_examples")
    if top is not None and top["layers"]:
        return top["layers"][0]["rows"][0]["unit"].split("\n")[0]
    live = [(u["selectivity"], u["unit"]) for _, u in _unit_list(r)
            if not u["dead"] and u["selectivity"] is not None and math.isfinite(u["selectivity"])]
    return max(live)[1] if live else _unit_list(r)[0][1]["unit"]


def _readout(r) -> Readout:
    names = r.class_names
    rec = {}
    for layer, u in _unit_list(r):
        pref = u["preferred_class"]
        cost = _cost(u, names)
        lines = [("layer", layer), ("state", "dead" if u["dead"] else "live"),
                 ("mean activation", _f(u["mean"], 3)), ("std", _f(u["std"], 3)),
                 ("active on", pct(u["frac_active"], 1)), ("selectivity", _f(u["selectivity"])),
                 ("preferred class", names[pref] if pref is not None else "–"),
                 ("near-duplicate group", str(u["near_duplicate_group"]) if u["near_duplicate_group"] is not None else "none"),
                 ("closest unit (r)", f"{u['closest_unit']} ({u['closest_r']:+.2f})" if u["closest_unit"] is not None else "–")]
        if "ablation_drop_pp" in u:
            lines += [("overall cost (pp)", cost[0]), ("worst class cost (pp)", cost[1]),
                      ("indispensable", "yes" if u["indispensable"] else "no")]
        rec[u["unit"]] = lines
    return Readout("unit", rec, "Unit {value}")


def _units(r) -> Section:
    rows = []
    names = r.class_names
    for layer, u in _unit_list(r):
        pref = u["preferred_class"]
        group = u["near_duplicate_group"]
        rows.append([u["unit"], layer, "dead" if u["dead"] else "live", _f(u["mean"], 3), pct(u["frac_active"], 1),
                     _f(u["selectivity"]), names[pref] if pref is not None else "–",
                     str(group) if group is not None else "",
                     f"{u['closest_unit']} ({u['closest_r']:+.2f})" if u["closest_unit"] is not None else "–",
                     *_cost(u, names)])
    n_all = sum(len(rec["unit_records"]) for rec in r.layers)
    notes = []
    if any(d["cost"] <= -0.05 for d in _costs(r)):
        notes.append("Cost columns: percentage points of accuracy lost when the unit alone is removed. " + NEGATIVE_COST)
    if n_all > _UNIT_ROWS:
        notes.append(f"Showing the first {_UNIT_ROWS} of {n_all} units; results.json has all of them.")
    data = unit_datasets(r)
    first = _first_unit(r)
    ablation = any(d["cost"] is not None for d in data["an_units"])
    pictures = any(d["url"] for d in data["an_top"])
    layers = [rec["name"] for rec in r.layers]
    controls = [Control("layer", "Layer", "select", "", [("", f"all ({len(rows)} units)", "")]
                        + [(n, n, "") for n in layers], filters="unit",
                        help="Show only this layer's units in the unit list and the table."),
                Control("unit", "Unit", "select", first, [(row[0], row[0], row[1]) for row in rows],
                        help="Or click a row of the table or a point of the map.")]
    charts = [Chart("unit_map", fig.chart_unit_map(first, ablation),
                    ("Look to the upper right: units that are class-specific and costly to remove; the ringed point "
                     "is the selected unit (click a point to select it)." if ablation else
                     "Each point is a unit: further right means more class-specific; the ringed point is the "
                     "selected unit (click a point to select it)."),
                    datasets={"an_units": data["an_units"]}, click=("unit", "unit")),
              Chart("unit_class_means", fig.chart_unit_class_means(first, len(names), max(map(len, names)) > 3),
                    "One tall orange bar means the unit answers to one class; even bars mean no preference.",
                    datasets={"an_means": data["an_means"]}),
              Chart("unit_top", fig.chart_unit_top(first, pictures, names),
                    "The inputs that drive the selected unit most: if they share a class colour, the unit detects "
                    "that class" + ("; pictures are stored for each layer's most selective units." if pictures else "."),
                    datasets={"an_top": data["an_top"]})]
    return Section("Every unit", question="What does one unit respond to, and what does removing it cost? Pick a "
                   "unit; sort the table by selectivity, cost or state (click a column header) to find units.",
                   controls=controls, readouts=[_readout(r)], figures=charts,
                   tables=[Table(["unit", "layer", "state", "mean activation", "active on", "selectivity",
                                  "preferred class", "dup. group", "closest unit (r)", "overall cost (pp)",
                                  "worst class cost (pp)", "indispensable"], rows, select=("unit", 0), group=1)],
                   notes=notes)
