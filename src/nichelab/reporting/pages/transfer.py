"""The transfer study's page: the tasks, each architecture's transfer curves, pairs, CKA, effects, every number."""
from __future__ import annotations

import math

from ...studies.text import pct
from ...studies.transfer.config import CONDITIONS, REF_SEED, REF_UNTRAINED
from ...studies.transfer.words import TERMS, arch_name, effect_groups, pts, rule
from ..figures import transfer as fig
from ..glossary import glossary_link
from ..model import Chart, Control, Report, Section, Table

__all__ = ["page", "summary_table"]

CONDITION_TEXT = {
    "BnB": "first n blocks copied from baseB, frozen; the rest re-initialised and trained on B (selffer)",
    "BnB+": "as BnB, but every block fine-tuned on B",
    "AnB": "first n blocks copied from baseA, frozen; the rest re-initialised and trained on B (transfer)",
    "AnB+": "as AnB, but every block fine-tuned on B",
    "random": "first n blocks left at their random initialisation and frozen; the rest trained on B (control)",
}


def _finite(v) -> bool:
    return v is not None and v == v


def _pm(m, sd) -> str:
    """``"84.3 ± 1.2"`` (percent); ``"not measured"`` when every seed diverged."""
    return f"{100 * m:.1f} ± {100 * sd:.1f}" if _finite(m) else "not measured (diverged)"


def _unique(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def _kind(a: dict) -> str:
    return a["model"].split()[0]


def _curves(a: dict):
    """(condition, source or None, curve record) in the order of CONDITIONS, sources in config order."""
    for cond in CONDITIONS:
        for c in a["curves"]:
            if c["condition"] == cond:
                yield cond, c["source"], c


def summary_table(r) -> Table:
    """The terminal summary: mean accuracy on B of every condition at every cut."""
    rows, labels = [], r.labels
    width = max(len(a["cuts"]) for a in r.architectures)
    for a in r.architectures:
        rows.append([_kind(a), "baseB", "", pct(a["baseB_accuracy_on_B"]["mean"], 1)] + [""] * (width - 1))
        for cond, s, c in _curves(a):
            m = c["mean"]
            rows.append([_kind(a), cond, labels[s] if s else "", *[pct(v, 1) for v in m], *[""] * (width - len(m))])
    return Table(["model", "condition", "source A"] + [f"n={n}" for n in range(1, width + 1)], rows,
                 f"transfer to {r.tasks['target']['label']}: test accuracy on B, mean of {r.config.seeds} seeds")


def page(r) -> Report:
    """The HTML report: question, setup, measured answers, interactive charts and every number.

    A source selector (``tsource``: whose AnB / AnB+ curves are drawn), a condition selector (``tcond``)
    and an axis selector (``tzoom``: whole range or near baseB) drive the transfer and CKA charts.
    """
    data = datasets(r)
    sections = [_tasks(r, data)]
    sections += [_arch(r, i, data) for i in range(len(r.architectures))]
    sections += [_pairs(r, data), _cka(r), _effects(r), _numbers(r)]
    summary = list(r.summary)
    summary.insert(1 if summary else 0, glossary_link())
    return Report(title="Are hidden layers general or domain-specific? Layer-by-layer transfer",
                  summary=summary, setup=_setup(r), sections=sections)


def _f(x, digits: int = 4):
    """A number for a chart (``digits`` significant digits), None (JSON null) when not finite."""
    if x is None:
        return None
    x = float(x)
    return float(f"{x:.{digits}g}") if math.isfinite(x) else None


def datasets(r) -> dict:
    """The named datasets of the page's charts (see :mod:`..figures.transfer`), from ``r.views``."""
    curves, seeds, base, cka, cost, pixels = [], [], [], [], [], []
    labels = r.labels
    for a, v in zip(r.architectures, r.views["transfer"]):
        m = a["model"]
        b = v["base"]
        base.append({"model": m, "mean": _f(b["mean"]), "lo": _f(b.get("lo")), "hi": _f(b.get("hi")),
                     "seeds": b.get("n_seeds", len(b["per_seed"]))})
        done = set()
        for p in v["panels"]:
            for cond, c in p["curves"].items():
                src = p["source"] if cond in ("AnB", "AnB+") else ""
                if (cond, src) in done:
                    continue
                done.add((cond, src))
                for j, n in enumerate(v["cuts"]):
                    per = c["per_seed"][j]
                    curves.append({"model": m, "cond": cond, "source": src, "label": labels.get(src, "–"),
                                   "n": int(n), "mean": _f(c["mean"][j]), "lo": _f(c["lo"][j]) if "lo" in c else None,
                                   "hi": _f(c["hi"][j]) if "hi" in c else None,
                                   "seeds": c["n_seeds"][j] if "n_seeds" in c else sum(x == x for x in per)})
                    seeds += [{"model": m, "cond": cond, "source": src, "n": int(n), "seed": int(s), "acc": _f(x)}
                              for s, x in zip(r.seeds, per) if x == x]
        for row in v["cka"]["rows"]:
            src = row["source"]
            for li, layer in enumerate(v["cka"]["layers"]):
                cka.append({"model": m, "row": row["row"], "source": src or "", "kind": "A" if src else "reference",
                            "label": f"baseA vs baseB, A = {labels.get(src, src)}" if src else row["row"],
                            "layer": layer, "li": li, "mean": _f(row["mean"][li]),
                            "lo": _f(row["lo"][li]) if "lo" in row else None,
                            "hi": _f(row["hi"][li]) if "hi" in row else None})
    view = r.views.get("cost")
    if view is not None:
        everything = view["lines"] + view["controls"]
        for line in everything:
            same = [x for x in everything if x["model"] == line["model"]]
            off = round(0.06 * (same.index(line) - (len(same) - 1) / 2), 3)     # side by side at each cut
            what = "AnB" if "source" in line else "random"
            label = (f"AnB from {line['label']} ({line['kind']})" if what == "AnB"
                     else "random control (random frozen layers)")
            seeds_n = _seed_count(r, line["model"])
            for j, n in enumerate(view["cuts"]):
                cost.append({"model": line["model"], "what": what, "label": label, "n": int(n), "off": off,
                             "mean": _f(line["mean"][j]), "lo": _f(line["lo"][j]) if "lo" in line else None,
                             "hi": _f(line["hi"][j]) if "hi" in line else None, "seeds": seeds_n})
    for ti, t in enumerate(r.views["tasks"]):
        for ci, (cls, img) in enumerate(zip(t["classes"], t["images"])):
            pixels += [{"task": t["label"], "ti": ti, "cls": str(cls), "ci": ci, "r": y, "c": x, "v": _f(val)}
                       for y, row in enumerate(img) for x, val in enumerate(row)]
    return {"tr_curves": curves, "tr_seeds": seeds, "tr_base": base, "tr_cka": cka, "tr_cost": cost,
            "tr_pixels": pixels}


def _seed_count(r, model: str) -> int:
    v = next((v for a, v in zip(r.architectures, r.views["transfer"]) if a["model"] == model), None)
    return int(v["base"].get("n_seeds", len(v["base"]["per_seed"]))) if v else len(r.seeds)


def _used(data: dict, spec: dict) -> dict:
    """The named datasets a spec refers to."""
    text = str(spec)
    return {k: v for k, v in data.items() if f"'name': '{k}'" in text}


def _chart(name: str, spec: dict, caption: str, data: dict) -> Chart:
    return Chart(name, spec, caption, datasets=_used(data, spec))


def _controls(r) -> list[Control]:
    srcs = [(s["task"], f"{s['label']} ({s['kind']})", "") for s in r.tasks["sources"]]
    return [Control("tsource", "Source task A", "select", srcs[0][0], srcs,
                    help="AnB and AnB+ (layers from baseA) are drawn for this source; the CKA line of this source "
                         "is drawn bold."),
            Control("tcond", "Condition", "select", "", [("", "all conditions", "")] +
                    [(c, fig.CONDITION_NAMES[c], "") for c in CONDITIONS],
                    help="Show one condition alone (with every seed), or all of them."),
            Control("tzoom", "Accuracy axis", "select", "full", [("full", "whole range", ""),
                                                                ("near", "zoom near baseB", "")],
                    help="Zoom in near baseB to see small differences.")]


def _setup(r) -> dict:
    c, t = r.config, r.tasks["target"]
    h, w = t["image_shape"][1:]
    src = "; ".join(f"{s['label']} ({s['kind']}, {s['n_train']} train / {s['n_test']} test, from "
                    f"{s['original_size'][0]}×{s['original_size'][1]})" for s in r.tasks["sources"])
    frac = (f", {c.target_fraction:g} of its {t['n_train_before_fraction']} training images"
            if c.target_fraction < 1 else "")
    return {
        "target task B": f"{t['label']}: {t['n_train']} train{frac} / {t['n_test']} test images",
        "source tasks A": src,
        "inputs": f"grayscale {h}×{w}, values 0–1; sources resized with skimage.transform.resize (anti-aliased)",
        "splits": f"stratified, {c.test_fraction:g} of each task held out for testing (split seed {c.split_seed})",
        "models": "; ".join(f"{a['model']}: blocks {', '.join(a['blocks'])} (cuts n = 1..{len(a['blocks']) - 1})"
                            for a in r.architectures),
        "training": f"{c.optimizer}, lr {c.lr}, {c.epochs} epochs, batch {c.batch_size}, init {c.init}, "
                    "softmax cross-entropy; the same for base networks and every cell",
        "seeds": f"{c.seeds} per cell ({c.first_seed}–{c.first_seed + c.seeds - 1}); seed s of a cell copies "
                 f"seed s of its base network; re-initialised blocks start from init seed {r.init_offset} + s",
        "conditions": "; ".join(f"{k}: {v}" for k, v in CONDITION_TEXT.items()),
        "margin": f"{100 * r.margin:g} percentage points: {rule(r.margin)}; smaller differences count as "
                  "none, larger ones whose 95% interval includes zero as unclear",
        "CKA": "linear CKA (Kornblith et al. 2019) between baseA and baseB of the same seed, per hidden "
               f"block, on B's {t['n_test']} test inputs; conv maps flattened",
    }


def _tasks(r, data) -> Section:
    t, labels = r.tasks["target"], r.labels
    rows = []
    for a in r.architectures:
        b = a["baseB_accuracy_on_B"]
        rows.append([a["model"], f"baseB on B ({t['label']})", pct(b["mean"], 1), pts(b["std"])])
        for s, st in a["baseA_accuracy_on_A"].items():
            rows.append([a["model"], f"baseA on A ({labels[s]})", pct(st["mean"], 1), pts(st["std"])])
    tasks = r.views["tasks"]
    figs = []
    shapes = [(len(img), len(img[0])) for tv in tasks for img in tv["images"] if len(img)]
    if shapes:
        h, w = shapes[0]
        spec = fig.fig_tasks(len(tasks), max(len(tv["classes"]) for tv in tasks), h, w)
        figs.append(_chart("tasks", spec, f"Compare the rows ({h}×{w} pixels, as the networks see them; hover a "
                           "pixel for its grey level): the similar source looks like B, the dissimilar one shares "
                           "only pixel statistics.", data))
    return Section(
        "The tasks and the base networks",
        question="What are A and B, and how well do networks trained from scratch do on them?",
        findings=[TERMS, f"B is {t['label']}; the sources are " + ", ".join(
            f"{s['label']} ({s['kind']})" for s in r.tasks["sources"]) + ". "
            "A similar source comes from the same image collection with other classes; a dissimilar one "
            "from another collection, brought to B's image size."],
        figures=figs,
        tables=[Table(["model", "network", "test accuracy (mean)", "std over seeds"], rows,
                      "Base networks trained from scratch on their own task")])


def _arch(r, i: int, data) -> Section:
    a = r.architectures[i]
    v = r.views["transfer"][i]
    f = a["findings"]
    findings = _unique(f.get("diverged", []) + f.get("domain", []) + f["generality"] + f["coadaptation"]
                       + f["specificity"] + f["finetuning"] + f["random_control"])
    source = r.tasks["sources"][0]["task"]
    curves = fig.fig_curves(a["model"], list(v["cuts"]), source, list(v["ylim"]), list(v["ylim_zoom"]))
    figs = [_chart(f"transfer_{i + 1}", curves,
                   "Follow AnB (vermillion squares) against the grey baseB line and the black dotted random "
                   "control: where AnB falls below baseB, copying A's layers costs accuracy; only where it also "
                   "falls below the random control are A's layers worse than random, i.e. specific to A.", data)]
    if v.get("cka"):
        rows = v["cka"]["rows"]
        names = [f"baseA vs baseB, A = {r.labels.get(x['source'], x['source'])}" for x in rows if x["source"]]
        names += [x["row"] for x in rows if not x["source"]]
        spec = fig.fig_cka(a["model"], list(v["cka"]["layers"]), source, names,
                           sum(1 for x in rows if x["source"]))
        figs.append(_chart(f"cka_{i + 1}", spec,
                           "Compare each baseA line (solid) with the dashed references (grey: baseB of another "
                           "seed; black: an untrained network): a layer far above the untrained network is alike "
                           "because of training, not because of the inputs.", data))
    return Section(
        f"How transferable is each layer? {arch_name(a['model'])}",
        question="If the first n layers come from a network trained on A (or B, or nowhere), how well does "
                 "the network do on B?",
        findings=findings, controls=_controls(r) if i == 0 else [], figures=figs,
        tables=[_arch_table(r, a)])


def _arch_table(r, a: dict) -> Table:
    rows = []
    for cond, s, c in _curves(a):
        rows.append([cond, r.labels[s] if s else "–"] +
                    [_pm(m, sd) for m, sd in zip(c["mean"], c["std"])])
    b = a["baseB_accuracy_on_B"]
    return Table(["condition", "source A"] + [f"n={n}" for n in a["cuts"]], rows,
                 f"Test accuracy on B (%), mean ± std over {r.config.seeds} seeds"
                 f"{' (diverged seeds left out)' if a.get('diverged', {}).get('seeds') else ''}; "
                 f"baseB {_pm(b['mean'], b['std'])}")


def _pairs(r, data) -> Section:
    cost = r.views.get("cost")
    figs = []
    if cost is not None:
        models = list(dict.fromkeys([c["model"] for c in cost["controls"]] + [c["model"] for c in cost["lines"]]))
        labels = list(dict.fromkeys(f"AnB from {x['label']} ({x['kind']})" for x in cost["lines"]))
        labels.append("random control (random frozen layers)")
        figs.append(_chart("cost", fig.fig_cost(models, list(cost["cuts"]), float(cost["margin_points"]), labels),
                           "Compare each AnB line with the black dotted random control beside it: only where AnB "
                           "costs more than random frozen layers (bars apart) are A's layers specific to A; the "
                           "grey band is the margin below which a cost counts as none.", data))
    return Section("Similar vs dissimilar source tasks, beside random frozen layers",
                   question="Does transfer from a different kind of image cost more, and where? Does it cost more "
                            "than layers that learned nothing?",
                   findings=_unique([a["findings"]["dissimilar"][0] for a in r.architectures]), figures=figs)


def _cka(r) -> Section:
    findings = _unique([line for a in r.architectures for line in a["findings"]["cka"]])
    rows = []
    for a in r.architectures:
        k = a["cka"]
        for name in k["linear_mean"]:
            rows.append([_kind(a), name.replace("A: ", "baseA vs baseB, A = "),
                         *[f"{v:.3f}" if _finite(v) else "–" for v in k["linear_mean"][name]],
                         *[f"{v:.3f}" if _finite(v) else "–" for v in k["linear_debiased_mean"][name]]])
    width = max(len(a["cka"]["layers"]) for a in r.architectures)
    layer_cols = [f"L{k}" for k in range(1, width + 1)]
    return Section("Do the layers that transfer well also look alike?",
                   question="Is linear CKA between baseA's and baseB's layers high where frozen transfer is cheap?",
                   findings=findings,
                   tables=[Table(["model", "comparison"] + layer_cols + [f"{c} debiased" for c in layer_cols],
                                 [row + [""] * (2 + 2 * width - len(row)) for row in rows],
                                 f"Linear CKA on B's test inputs, mean over seeds; '{REF_SEED}' and "
                                 f"'{REF_UNTRAINED}' give the scale; debiased CKA is near 0 for unrelated "
                                 "representations")])


def _effects(r) -> Section:
    rows = [[_kind(a), e["name"], e["paper"], e["here"], e["shows"]] for a in r.architectures for e in a["effects"]]
    verdicts: dict = {}
    for a in r.architectures:
        for e in a["effects"]:
            verdicts.setdefault(e["name"], []).append((_kind(a), e["shows"]))
    return Section("The paper's effects, here",
                   question="Which findings of Yosinski et al. (2014) on ImageNet show in this small setting?",
                   findings=effect_groups(verdicts) + [
                       rule(r.margin).capitalize() + "; 'partly' means the effect shows for some source tasks or "
                       "cuts only, 'unclear' that a difference exceeds the margin but its 95% interval over seeds "
                       "includes zero."],
                   tables=[Table(["model", "effect", "paper (ImageNet, 8 layers)", "this run", "shows here?"], rows)])


def _numbers(r) -> Section:
    rows = []
    for a in r.architectures:
        for c in a["cells"]:
            if c["condition"] == "baseA":
                continue
            if c["condition"] == "baseB":
                rows.append([_kind(a), "baseB", "–", "–", *_seed_cells(c["accuracy"])])
            else:
                rows.append([_kind(a), c["condition"], r.labels[c["source"]] if c["source"] else "–", c["n"],
                             *_seed_cells(c["accuracy"])])
    return Section("Every number", question="What did every seed of every cell reach on B's test set?",
                   tables=[Table(["model", "condition", "source A", "n", "mean", "std"] +
                                 [f"seed {s}" for s in r.seeds], rows, "Test accuracy on B (%)")])


def _seed_cells(st: dict) -> list[str]:
    """Mean, std and every seed's accuracy (%); a diverged seed reads "diverged"."""
    cell = lambda v: f"{100 * v:.1f}" if _finite(v) else "diverged"  # noqa: E731
    return [cell(st["mean"]), cell(st["std"]) if _finite(st["mean"]) else "–"] + [cell(v) for v in st["values"]]
