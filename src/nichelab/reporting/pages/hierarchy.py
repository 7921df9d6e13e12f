"""The hierarchy study's page: edges, parts, objects, faces vs. scrambled faces, examples, feature
visualisation and the numbers of every layer — each trained network against its random initialisation."""
from __future__ import annotations

import numpy as np

from ...studies.text import num, pct, plural
from ..figures import hierarchy as fig
from ..glossary import glossary_link
from ..model import Chart, Control, Report, Section, Table

__all__ = ["page", "summary_table", "tile_rows"]

_TITLE = "Edges, then parts, then faces? What each layer of a small CNN detects"


def _both(r, measure: str, i: int, as_pct: bool = True) -> str:
    """``"24% (10%)"``: a layer's value, trained (random init)."""
    f = pct if as_pct else (lambda x: num(x, 2))
    return f"{f(r.mean(measure)[i])} ({f(r.mean(measure, 'random')[i])})"


def _first(r) -> str:
    """Which seed the single-network figures show: the first seed that did not diverge."""
    if r.shown is None:
        return "none: every seed diverged"
    return "first seed" if r.shown == 0 else f"seed {r.seeds[r.shown]}, the first that did not diverge"


def _accuracy_words(r) -> str:
    acc = np.asarray(r.test_accuracy["trained"], dtype=float)
    n_div = int(sum(r.diverged or []))
    if r.shown is None:
        return f"every seed diverged ({n_div} of {len(r.seeds)})"
    out = f"test accuracy {pct(float(np.nanmean(acc)))}"
    return out + (f"; {n_div} of {len(r.seeds)} seeds diverged and are left out" if n_div else "")


def summary_table(r) -> Table:
    """The terminal summary: per layer, trained (random init)."""
    obj = r.views["object_name"]
    rows = [[n, _both(r, "edge_detectors", i), _both(r, "part_detectors", i), _both(r, "object_detectors", i),
             _both(r, "object_ap_max", i, False), _both(r, "probe_class", i)] for i, n in enumerate(r.layers)]
    return Table(["layer", "edge detectors", "part detectors", f"{obj} detectors", f"best {obj} AUPRC", "class probe"],
                 rows, f"hierarchy on {r.data['name']}: trained (random init); {_accuracy_words(r)}")


def page(r) -> Report:
    """The HTML report: the question first, the measured answer, then charts and tables.

    Every chart is a Vega-Lite specification drawn in the browser from data embedded in the page.
    """
    summary = list(r.findings["summary"]) + [glossary_link()]
    if r.shown is None:
        return Report(title=_TITLE, summary=summary, setup=_setup(r), sections=[_control_only(r), _numbers(r)])
    sections = [_edges(r), _parts(r) if "parts" in r.views else _no_parts(r), _objects(r)]
    if "scrambled" in r.findings:
        sections.append(_scrambled(r))
    sections += [_examples(r), _featvis(r), _numbers(r)]
    return Report(title=_TITLE, summary=summary, setup=_setup(r), sections=sections)


# ---- setup ----------------------------------------------------------------------------------------
_DATA = {"faces": "LFW subset from scikit-image: 100 faces and 100 non-faces, 25x25 px",
         "digits": "scikit-learn digits, 8x8 px, 10 classes"}


def _data_words(r) -> str:
    c, d = r.config, r.data
    if c.dataset == "parts":
        return (f"procedural parts images ({', '.join(d['class_names'])}), {c.per_class} per class, {c.size}x{c.size} "
                f"px, noise {c.noise}, with part masks and stroke orientations")
    return _DATA[c.dataset]


def _stimulus_words(stimulus: str) -> str:
    if stimulus == "bars":
        return ("white bars on black, 5 positions per orientation (each unit's best-placed cell whose receptive "
                "field lies inside the image, averaged over positions)")
    return ("sinusoidal gratings, 3 frequencies x 4 phases (mean over the cells whose receptive field lies inside "
            "the image; each unit at its best frequency, averaged over phase)")


def _setup(r) -> dict:
    c, d = r.config, r.data
    acc = r.test_accuracy["trained"]
    geo = ", ".join(f"{l['layer']} {l['kind']} {l['n_units']} units, RF {l['receptive_field_px']} px"
                    for l in _shown_layers(r))
    return {
        "data": f"{_data_words(r)}; {d['n_train']} training and {d['n_test']} held-out images (stratified, data "
                f"seed {c.data_seed}); every measure is taken on the held-out images",
        "model": f"{c.model}: 3x3 convs with ReLU and 2x2 max-pooling, then dense layers; {geo}",
        "training": f"{c.optimizer}, lr {c.lr}, {c.epochs} epochs, batch {c.batch_size}, init {c.init}; held-out "
                    f"accuracy {', '.join('diverged' if d else pct(a) for a, d in zip(acc, _div(r)))} (seed{'s' if len(acc) > 1 else ''} "
                    f"{', '.join(map(str, r.seeds))})",
        "control": "the same network at its random initialisation (before training), measured the same way",
        "conv units": "reduced to one number per image by their spatial maximum (post-ReLU, before pooling) for "
                      "selectivity, AUPRC, probes and top examples",
        "edge detector": (f"orientation selectivity index OSI = |Σ r e^(2iθ)| / Σ r ≥ {c.osi_threshold:g} over 12 "
                          f"orientations, and a strongest stimulus response of at least {pct(c.drive_threshold)} of "
                          f"the unit's largest held-out activation; stimuli: {_stimulus_words(c.stimulus)}"),
        "part detector": "Network Dissection: threshold at the unit's top 0.5% activation, upsample bilinearly, "
                         f"IoU with the part's mask summed over the images > {c.iou_threshold:g}",
        "object detector": f"AUPRC of the unit alone for {r.views['object_target']} ≥ {c.ap_threshold:g}",
        "probes": "logistic regression on one layer's (spatially max-reduced) units, held-out accuracy"
                  + (", one split" if c.probe_repeats == 1 else f", mean of {c.probe_repeats} splits"),
    }


def _div(r) -> list[bool]:
    return list(r.diverged) if r.diverged else [False] * len(r.seeds)


def _shown_layers(r) -> list[dict]:
    """Per-layer records of the shown seed's trained network (the untrained one when every seed diverged)."""
    return r.units["trained"][r.shown] if r.shown is not None else r.units["random"][0]


# ---- helpers for the figures ------------------------------------------------------------------------
def _bands(r) -> str:
    n = r.n_kept
    return f" Lines: mean over {n} seeds; bands: their range." if n > 1 else ""


def _series(r, measure: str, label: str, layers: list[int] | None = None) -> dict:
    """A depth series: the measure's per-layer mean and per-seed values, trained and random init."""
    def pick(which):
        if layers is None:
            return r.per_layer[which][measure]
        return {"mean": r.mean(measure, which)[layers], "per_seed": r.per_seed(measure, which)[:, layers]}
    return {"label": label, "trained": pick("trained"), "random": pick("random")}


def _panels(names: list[str], panels: list[dict], **_) -> tuple[list[str], list[dict]]:
    """The depth panels and their layer names, for :func:`_depth`.

    Each panel: ``title``, ``ylabel``, ``series`` (list of ``{"label", "trained", "random"}``, each
    ``{"mean": (L,), "per_seed": (S, L)}`` or None), optional ``chance`` (L,), ``chance_label``, ``threshold``,
    ``threshold_label``, ``ylim`` ((lo, hi) or "auto").
    """
    return names, panels


def _depth(name: str, depth: tuple, caption: str) -> list[Chart]:
    """Depth panels as Vega-Lite charts (``depth_<name>_<i>``, hover for values), each with ``caption``."""
    names, panels = depth
    out = []
    for i, p in enumerate(panels):
        key = f"hi_depth_{name}_{i}"
        rows = fig.depth_rows(names, p)
        out.append(Chart(f"depth_{name}_{i}", fig.chart_depth(key, rows, p["title"], p["ylabel"], fig.depth_ylim(p)),
                         caption, datasets={key: rows}))
    return out


def _stim(r) -> str:
    return "bars" if r.config.stimulus == "bars" else "stripes"


# ---- sections -------------------------------------------------------------------------------------
def _kept_seeds(r) -> list[int]:
    return [s for s, d in zip(r.seeds, _div(r)) if not d]


def _seed_controls(r) -> list[Control]:
    """The seed selector of the unit strips (only when more than one seed was measured)."""
    seeds = _kept_seeds(r)
    if len(seeds) < 2:
        return []
    return [Control("hseed", "Seed", "select", int(r.seeds[r.shown]), [(int(s), f"seed {s}", "") for s in seeds],
                    help="Pick a network: the unit strips below (orientation and object AUPRC) show its units.")]


def _strip_chart(r, name: str, field: str, ylabel: str, title: str, caption: str, **kw) -> Chart:
    key = f"hi_strip_{field}"
    rows = fig.strip_rows(r.seeds, r.units, field)
    spec = fig.chart_strip(key, r.layers, int(r.seeds[r.shown]), ylabel, title, **kw)
    return Chart(name, spec, caption, datasets={key: rows})


def _edges(r) -> Section:
    c = r.config
    depth = _panels(r.layers, [
        {"title": "Edge detectors by depth", "ylabel": "share of units",
         "series": [_series(r, "edge_detectors", "edge detectors")]},
        {"title": "Orientation-selective units by depth", "ylabel": "share of units",
         "series": [_series(r, "orientation_selective", "OSI ≥ threshold")]}])
    filters = r.views["filters"]
    tiles = fig.filter_tiles(filters)
    figs = [*_depth("edges", depth, "Edge detectors are tuned and strongly driven units; orientation-selective counts "
                    "every tuned unit. Where the solid (trained) and dashed (untrained) lines coincide, training did "
                    "not change how many units are tuned." + _bands(r)),
            Chart("hierarchy_filters", fig.chart_pictures("hi_filters", tiles, side=56, label_width=84),
                  f"Each first-layer 3x3 filter ({_first(r)}; first input channel; orange +, purple −, white 0) "
                  "after training and at its random initialisation: an edge detector has a light and a dark side.",
                  datasets={"hi_filters": tiles}),
            Chart("hierarchy_tuning", fig.chart_tuning("hi_tuning", _stim(r)),
                  f"Each first-layer unit's response to {_stim(r)} by orientation ({_first(r)}): one clear peak is "
                  "a tuned unit; a unit with no line is silent to every stimulus.",
                  datasets={"hi_tuning": fig.tuning_rows(filters)}),
            _strip_chart(r, "hierarchy_osi_strip", "osi", "OSI (1 − circular variance)",
                         f"Orientation selectivity of every unit to {_stim(r)}",
                         "Dots above the dashed line are orientation-selective units; compare the medians (black "
                         "bars) layer by layer; hover a dot for its unit.",
                         threshold=c.osi_threshold, threshold_label=f"selective: OSI ≥ {c.osi_threshold:g}")]
    return Section("Edges: does the first layer find edges?",
                   question="Do units respond to oriented edges, and is that most common in the first layer?",
                   findings=r.findings["edges"], controls=_seed_controls(r), figures=figs)


def _no_parts(r) -> Section:
    return Section("Parts: not measurable on this dataset", question="Does a middle layer find object parts?",
                   findings=r.findings["parts"])


def _iou_examples(r) -> list[dict]:
    return [{**e, "pixels": r.images[f"{e['images']}.pixels"], "unit_masks": r.images[f"{e['images']}.unit_masks"],
             "part_masks": r.images[f"{e['images']}.part_masks"]} for e in r.views.get("iou_examples", [])]


def _parts(r) -> Section:
    v = r.views["parts"]
    conv = list(v["conv_layers"])
    names = [r.layers[i] for i in conv]
    depth = _panels(names, [
        {"title": "Part detectors by depth (conv layers)", "ylabel": "share of units",
         "series": [_series(r, "part_detectors", "best part IoU > threshold", conv),
                    _series(r, "level_part", "best concept is a part", conv)]}])
    parts = fig.part_rows(names, v["part_names"], v["counts"], v["n_units"], r.n_kept)
    levels = fig.level_rows(names, v["levels"])
    over = f" (mean over {plural(r.n_kept, 'seed')})" if r.n_kept > 1 else ""
    figs = [*_depth("parts", depth, "Blue: units whose best part passes the IoU threshold; orange: those that "
                    "also match a part better than any edge orientation or whole object. Dashed: the untrained "
                    "network." + _bands(r)),
            Chart("hierarchy_levels", fig.chart_levels("hi_levels"),
                  f"Read each bar as the layer's census{over}: which level of concept its units match best, trained "
                  "(left) against untrained (right).", datasets={"hi_levels": levels}),
            Chart("hierarchy_parts", fig.chart_parts("hi_parts", parts),
                  f"Which parts have detectors, and in which layer{over}: darker cells hold more detectors; the "
                  "number is the units per network.", datasets={"hi_parts": parts})]
    examples = _iou_examples(r)
    if examples:
        tiles = fig.iou_tiles(examples)
        figs.append(Chart("hierarchy_iou", fig.chart_pictures("hi_iou", tiles, side=72, label_width=90),
                          f"The best part detectors ({_first(r)}) on their top images: where the orange outline (the "
                          "unit's top 0.5%) covers the blue part, the unit detects that part there.",
                          datasets={"hi_iou": tiles}))
    return Section("Parts: does a middle layer find eyes, noses and wheels?",
                   question="Which units' activation maps coincide with the masks of object parts, and in which "
                            "layers?",
                   findings=r.findings["parts"], figures=figs)


def _auprc_strip(r) -> Chart:
    c, v = r.config, r.views
    obj, face = v["object_name"], bool(r.data["object_class"])
    ref = r.reference["lee_2009_face_auprc_layers_1_3"]
    ref = {i: x for i, x in enumerate(ref) if i < len(r.layers)} if r.data["object_class"] else None
    return _strip_chart(r, "hierarchy_ap_strip", "object_ap", f"AUPRC for {v['object_target']} (one unit alone)",
                        f"How well each unit alone detects {v['object_target']}",
                        "Dots high above the dotted chance line are units that pick out "
                        f"{obj + ' images' if face else 'one class'} on their own; hover a dot for its unit.",
                        threshold=c.ap_threshold, threshold_label=f"detector: AUPRC ≥ {c.ap_threshold:g}",
                        chance=v["strips"]["object_ap"]["chance"],
                        reference=("Lee et al. 2009 mean, layers 1–3", ref) if ref else None)


def _objects(r) -> Section:
    obj, face = r.views["object_name"], bool(r.data["object_class"])
    probes = [_series(r, "probe_class", "class")] + ([_series(r, "probe_parts", "part presence")]
                                                     if "parts" in r.views else [])
    depth = _panels(r.layers, [
        {"title": f"{obj.capitalize()} detectors by depth", "ylabel": "share of units",
         "series": [_series(r, "object_detectors", "AUPRC ≥ threshold")], "ylim": "auto"},
        {"title": "Class selectivity by depth", "ylabel": "mean selectivity index",
         "series": [_series(r, "selectivity_mean", "selectivity")]},
        {"title": "Linear probes by depth", "ylabel": "held-out accuracy", "series": probes,
         "chance": r.per_layer["trained"]["probe_class_chance"]["mean"], "chance_label": "class chance"}])
    figs = [_auprc_strip(r),
            *_depth("objects", depth, "Where the solid line rises above the dashed one, training added class "
                    "information to that layer." + _bands(r))]
    target = r.views["object_target"].replace("its ", "their ")
    return Section(f"Objects: does the top find whole {obj + 's' if face else 'objects'}?",
                   question=f"Do single units detect {target} on their own, and does that grow with depth as in Lee "
                            "et al. 2009?",
                   findings=r.findings["objects"], figures=figs)


def _scrambled(r) -> Section:
    thr = r.config.probe_threshold
    depth = _panels(r.layers, [
        {"title": "Faces vs. scrambled faces", "ylabel": "probe held-out accuracy",
         "series": [_series(r, "probe_scrambled", "probe")],
         "chance": r.per_layer["trained"]["probe_scrambled_chance"]["mean"], "threshold": thr,
         "threshold_label": f"'tells apart': {pct(thr)}", "ylim": (0.3, 1.03)}])
    note = ("Conv units are reduced to their spatial maximum, which keeps what a unit detects but not where; a layer "
            "separates the two classes only if some unit responds to the arrangement of the parts itself.")
    return Section("Faces vs. scrambled faces: which layer first tells them apart?",
                   question="Scrambled faces have every part of a face in the wrong place. Which layer first "
                            "distinguishes them from faces?",
                   findings=r.findings["scrambled"], notes=[note],
                   figures=[*_depth("scrambled", depth, "The first layer where the solid line crosses the dashed "
                                    "threshold is where the layout of a face becomes readable." + _bands(r))])


def _featvis_unit(r, i: int) -> str:
    return str(r.featvis[i].get("unit") or r.views["featvis"][i]["label"].split("\n")[0])


def tile_rows(r) -> list[dict]:
    """Rows of the ``hi_tiles`` dataset: every gallery and feature-visualisation picture as a PNG data URL."""
    lo, hi = r.views["value_range"]
    rows = []
    for g in r.views["gallery"]:
        for j, img in enumerate(r.images[g["images"]]):
            title = f"top {j + 1}\nactivation {g['titles'][j]}" if g["titles"] else f"top {j + 1}"
            rows.append({"unit": g["unit"], "kind": "top", "col": j, "title": title,
                         "url": fig.tile_png(img, lo, hi, tuple(g["box"]))})
    for i, (v, p) in enumerate(zip(r.views["featvis"], r.featvis)):
        unit, box, key = _featvis_unit(r, i), tuple(v["box"]), v["images"]
        tiles = [(r.images[f"{key}.optimised"], f"optimised\n{p['ratio_trained']:.1f}× best")]
        tiles += [(img, f"top {j + 1}") for j, img in enumerate(r.images[f"{key}.patches"])]
        tiles.append((r.images[f"{key}.random"], f"before training\n{p['ratio_random']:.1f}× best"))
        rows += [{"unit": unit, "kind": "featvis", "col": j, "title": t, "url": fig.tile_png(img, lo, hi, box)}
                 for j, (img, t) in enumerate(tiles)]
    return rows


def _gallery_units(r) -> list[tuple[str, str]]:
    """(unit, label) of every unit with a gallery row or a feature visualisation, gallery first."""
    out = {g["unit"]: g["label"] for g in r.views["gallery"]}
    for i, v in enumerate(r.views["featvis"]):
        out.setdefault(_featvis_unit(r, i), v["label"])
    return [(u, lab.replace("\n", " – ")) for u, lab in out.items()]


def _unit_control(r) -> Control:
    units = _gallery_units(r)
    return Control("hunit", "Unit", "select", units[0][0], [(u, lab, "") for u, lab in units],
                   help="Pick a unit: its top held-out images and its feature visualisation follow.")


def _n_cols(rows: list[dict], kind: str) -> int:
    return max([d["col"] + 1 for d in rows if d["kind"] == kind] + [1])


def _examples(r) -> Section:
    tiles = tile_rows(r)
    r._hi_tiles = tiles          # reused by the feature-visualisation section (same page, same dataset)
    first = _gallery_units(r)[0][0]
    chart = Chart("hierarchy_gallery", fig.chart_tiles("top", first, _n_cols(tiles, "top")),
                  "Look at what the orange boxes share: a stroke or a corner in L1, larger pieces deeper, whole objects "
                  "in the dense layer (light blue: outside the image; number: the unit's activation).",
                  datasets={"hi_tiles": tiles})
    return Section("What do single units respond to?",
                   question="Which held-out images drive the most class-selective units of each layer hardest?",
                   findings=r.findings["examples"], controls=[_unit_control(r)], figures=[chart],
                   notes=["Units listed: the most class-selective units of each layer (top images) and the "
                          "visualised units (below); a unit without pictures of one kind shows an empty row there."])


def _featvis(r) -> Section:
    if not r.featvis:
        return Section("Feature visualisation", question="What input maximises a unit?", findings=r.findings["featvis"])
    tiles = getattr(r, "_hi_tiles", None) or tile_rows(r)
    first = _gallery_units(r)[0][0]
    return Section("Feature visualisation: what input does a unit want most?",
                   question="What input maximises a unit, and how does it compare with the unit's best real examples?",
                   findings=r.findings["featvis"],
                   figures=[Chart("hierarchy_featvis", fig.chart_tiles("featvis", first, _n_cols(tiles, "featvis")),
                                  "Compare the optimised input (left) with the unit's real top images, and with the "
                                  "same unit before training (right); pick the unit above.",
                                  datasets={"hi_tiles": tiles})],
                   notes=["Conv units: the input maximises the unit at the cell where it peaked on its best held-out "
                          "image (its pre-activation, so silent units still get a gradient) and is shown cropped "
                          "around that cell's receptive field; its activation is compared with that best image's."])


def _control_only(r) -> Section:
    """Every seed diverged: the untrained networks (the control), layer by layer."""
    def ctrl(measure, label):
        return {"label": label, "trained": None, "random": r.per_layer["random"][measure]}
    depth = _panels(r.layers, [
        {"title": "Edge detectors by depth", "ylabel": "share of units",
         "series": [ctrl("edge_detectors", "edge detectors")]},
        {"title": f"{r.views['object_name'].capitalize()} detectors by depth", "ylabel": "share of units",
         "series": [ctrl("object_detectors", "AUPRC ≥ threshold")], "ylim": "auto"},
        {"title": "Class probe by depth", "ylabel": "held-out accuracy",
         "series": [ctrl("probe_class", "class")],
         "chance": r.per_layer["random"]["probe_class_chance"]["mean"], "chance_label": "class chance"}])
    n = len(r.seeds)
    return Section("The untrained network (the control) only",
                   question="What do the layers detect before any training?",
                   findings=[f"Every one of the {plural(n, 'trained network')} diverged, so there is no trained "
                             "network to compare with; these are the untrained networks' numbers, for reference."],
                   figures=_depth("control", depth, "Dashed: the untrained networks (no trained line: every seed "
                                  "diverged)." + (f" Lines: mean over {n} seeds; bands: their range." if n > 1
                                                  else "")))


# ---- tables ---------------------------------------------------------------------------------------
def _layer_table(r) -> Table:
    obj = r.views["object_name"]
    cols = ["layer", "units", "RF px", "edge detectors", "orientation-selective", "median OSI", "part detectors",
            f"parts detected ({_first(r)})", f"{obj} detectors", f"mean {obj} AUPRC", f"best {obj} AUPRC",
            "mean selectivity", "class probe", "part probe", "face vs scrambled"]
    rows = []
    for i, (layer, parts) in enumerate(zip(_shown_layers(r), r.views["parts_by_layer"])):
        rows.append([layer["layer"], layer["n_units"], layer["receptive_field_px"], _both(r, "edge_detectors", i),
                     _both(r, "orientation_selective", i), _both(r, "osi_median", i, False),
                     _both(r, "part_detectors", i), parts or "–", _both(r, "object_detectors", i),
                     _both(r, "object_ap_mean", i, False), _both(r, "object_ap_max", i, False),
                     _both(r, "selectivity_mean", i, False), _both(r, "probe_class", i), _both(r, "probe_parts", i),
                     _both(r, "probe_scrambled", i)])
    n_div = len(r.seeds) - r.n_kept
    if r.shown is None:
        return Table(cols, rows, f"Per layer, trained (random init): every seed diverged, so only the untrained "
                                 f"networks were measured (mean over {plural(len(r.seeds), 'seed')})")
    left = f"; {n_div} diverged and left out" if n_div else ""
    return Table(cols, rows, f"Per layer, trained (random init), mean over {plural(r.n_kept, 'seed')}{left}")


def _named(name, value) -> str:
    return "–" if name is None else f"{name} ({num(value, 2)})"


def _unit_row(u: dict, class_names: list[str]) -> list:
    angle = u["preferred_angle_deg"]
    finite = angle is not None and np.isfinite(angle)
    return [u["name"], "silent" if u["dead"] else ("edge" if u["edge_detector"] else ""), num(u["osi"], 2),
            num(u["drive"], 2), f"{angle:.0f}°" if finite else "–",
            _named(u.get("best_concept"), u.get("best_concept_iou")),
            _named(u.get("best_part"), u.get("best_part_iou")),
            num(u["object_ap"], 2), num(u["selectivity"], 2),
            class_names[u["preferred_class"]] if u["preferred_class"] >= 0 else "–"]


def _unit_table(r) -> Table:
    trained = r.shown is not None
    rows = [_unit_row(u, r.data["class_names"]) for layer in _shown_layers(r) for u in layer["units"]]
    return Table(["unit", "", "OSI", "drive", "preferred angle", "best concept (IoU)", "best part (IoU)",
                  f"{r.views['object_name']} AUPRC", "selectivity", "preferred class"], rows,
                 f"Every unit of the trained network, seed {r.seeds[r.shown]}" if trained else
                 f"Every unit of the untrained network (the control), seed {r.seeds[0]}: every trained network "
                 "diverged")


def _numbers(r) -> Section:
    return Section("Every layer in numbers", question="What was measured in each layer?",
                   tables=[_layer_table(r), _unit_table(r)],
                   notes=["Part detectors count units whose best part has IoU above the threshold; 'best concept' is "
                          "taken over edge orientations, parts and whole objects."])
