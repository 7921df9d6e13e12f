"""The transfer study's page: the tasks, each architecture's transfer curves, pairs, CKA, effects, every number."""
from __future__ import annotations

from ...studies.text import pct
from ...studies.transfer.config import CONDITIONS, REF_SEED, REF_UNTRAINED
from ...studies.transfer.words import arch_name, pts, rule
from ..figures import transfer as fig
from ..glossary import glossary_link
from ..model import Figure, Report, Section, Table
from ..style import FigurePool

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
    """The HTML report: question, setup, measured answers, figures and every number.

    Figures are rendered in parallel worker processes (:class:`~nichelab.reporting.style.FigurePool`).
    """
    with FigurePool() as pool:
        sections = [_tasks(r, pool)]
        sections += [_arch(r, i, pool) for i in range(len(r.architectures))]
        sections += [_pairs(r, pool), _cka(r), _effects(r), _numbers(r)]
        report = Report(title="Are hidden layers general or domain-specific? Layer-by-layer transfer",
                        summary=list(r.summary) + [glossary_link()], setup=_setup(r), sections=sections)
    for section in report.sections:
        for f in section.figures:
            f.png = FigurePool.resolve(f.png)
    return report


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


def _tasks(r, pool) -> Section:
    t, labels = r.tasks["target"], r.labels
    rows = []
    for a in r.architectures:
        b = a["baseB_accuracy_on_B"]
        rows.append([a["model"], f"baseB on B ({t['label']})", pct(b["mean"], 1), pts(b["std"])])
        for s, st in a["baseA_accuracy_on_A"].items():
            rows.append([a["model"], f"baseA on A ({labels[s]})", pct(st["mean"], 1), pts(st["std"])])
    return Section(
        "The tasks and the base networks",
        question="What are A and B, and how well do networks trained from scratch do on them?",
        findings=[f"B is {t['label']}; the sources are " + ", ".join(
            f"{s['label']} ({s['kind']})" for s in r.tasks["sources"]) + ". "
            "A similar source comes from the same image collection with other classes; a dissimilar one "
            "from another collection, brought to B's image size."],
        figures=[Figure(pool.draw(fig.fig_tasks, r.views["tasks"]), "Compare the rows: the similar source looks "
                        "like B, the dissimilar one shares only pixel statistics.")],
        tables=[Table(["model", "network", "test accuracy (mean)", "std over seeds"], rows,
                      "Base networks trained from scratch on their own task")])


def _arch(r, i: int, pool) -> Section:
    a = r.architectures[i]
    f = a["findings"]
    findings = _unique(f.get("diverged", []) + f.get("domain", []) + f["generality"] + f["coadaptation"]
                       + f["specificity"] + f["finetuning"]
                + f["random_control"])
    return Section(
        f"How transferable is each layer? {arch_name(a['model'])}",
        question="If the first n layers come from a network trained on A (or B, or nowhere), how well does "
                 "the network do on B?",
        findings=findings,
        figures=[Figure(pool.draw(fig.fig_transfer, r.views["transfer"][i], r.labels),
                        "Follow AnB (vermillion squares) against the grey baseB line: where it falls away, layers "
                        "stop being general; the bottom row zooms in near baseB; the right panel shows how alike "
                        "baseA's and baseB's layers are.")],
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


def _pairs(r, pool) -> Section:
    cost = r.views.get("cost")
    figs = []
    if cost is not None:
        figs.append(Figure(pool.draw(fig.fig_cost, cost),
                           "Lines above the grey band lose accuracy (bars: ± std over seeds): compare how fast the "
                           "solid (similar) and dashed (dissimilar) lines climb with depth, and whether they climb "
                           "above the dotted grey random control -- only there are A's layers worse than random "
                           "ones, i.e. specific to A."))
    return Section("Similar vs dissimilar source tasks",
                   question="Does transfer from a different kind of image cost more, and where?",
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
    return Section("The paper's effects, here",
                   question="Which findings of Yosinski et al. (2014) on ImageNet show in this small setting?",
                   findings=[rule(r.margin).capitalize() + "; 'partly' means the effect shows for some source "
                             "tasks or cuts only, 'unclear' that a difference exceeds the margin but its 95% "
                             "interval over seeds includes zero."],
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
