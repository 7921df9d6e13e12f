"""The width study's page: the unit census against width, niches or copies, dead and frivolous units.

A width selector and a seed selector (page parameters ``hwidth`` and ``seed``) drive the per-width
views: the blob units' lines, each unit's ablation cost, and the per-width numbers; the census
charts mark the selected width.
"""
from __future__ import annotations

import math

import numpy as np

from ...studies.text import pct, plural, share
from ...studies.width.findings import census_counts
from ...studies.width.config import DATASETS, N_SPLITS_4
from ..figures import width as fig
from ..glossary import glossary_link
from ..model import Chart, Control, Readout, Report, Section, Table

__all__ = ["page", "summary_table"]

def _cell(x, fmt) -> str:
    """``fmt(x)``, or "–" where the measure is undefined (NaN)."""
    return "–" if x is None or not math.isfinite(float(x)) else fmt(x)


def summary_table(r) -> Table:
    """The terminal summary: one row per dataset and width (means over seeds)."""
    rows = []
    for name, d in r.datasets.items():
        m = d.means_by_width
        for i, w in enumerate(d.widths):
            rows.append([name, w, pct(m["accuracy"][i]), pct(m["dead"][i]), _cell(m["dup_units"][i], pct),
                         _cell(m["partitions"][i], lambda x: f"{x:.1f}"), _cell(m["participation"][i], lambda x: f"{x:.1f}"),
                         pct(m["frivolous"][i])])
    return Table(["data", "width", "acc.", "dead", "dup.", "splits", "PR", "frivolous"], rows,
                 f"width: {plural(r.config.seeds, 'seed')} per width (means)")


def page(r) -> Report:
    """The HTML report: question, measured answer and interactive charts, one idea per section."""
    data = datasets(r)
    return Report(title="More units than needed: distinct niches or redundancy?",
                  summary=[d.findings["short"] for d in r.datasets.values()] + [glossary_link()],
                  setup=_setup(r),
                  sections=[_census(r, data), _niches(r, data), _dead(r), _frivolous(r, data), _table(r)])


def _f(x, digits: int = 4):
    x = float(x)
    return float(f"{x:.{digits}g}") if math.isfinite(x) else None


def _clip(w0: float, w1: float, b: float) -> tuple | None:
    """The ends of the line ``w0 x + w1 y + b = 0`` inside the drawn window, or None if it misses it."""
    (xl, xh), (yl, yh) = fig.X0_RANGE, fig.X1_RANGE
    pts = []
    if abs(w1) > 1e-12:
        pts += [(x, -(w0 * x + b) / w1) for x in (xl, xh)]
    if abs(w0) > 1e-12:
        pts += [(-(w1 * y + b) / w0, y) for y in (yl, yh)]
    pts = sorted({(round(x, 4), round(y, 4)) for x, y in pts
                  if xl - 1e-9 <= x <= xh + 1e-9 and yl - 1e-9 <= y <= yh + 1e-9})
    return (pts[0], pts[-1]) if len(pts) >= 2 else None


def _shown_width(r) -> int:
    widths = list(r.views.widths)
    return 16 if 16 in widths else widths[len(widths) // 2]


def datasets(r) -> dict:
    """The named datasets of the page's charts (see :mod:`..figures.width`), from the result's numbers."""
    census, ref = [], []
    percent = {k for k, _, p in fig.PANELS if p}
    for name, meas in r.views.census.items():
        for key, s in meas.items():
            k = 100.0 if key in percent else 1.0
            for i, w in enumerate(r.views.widths):
                census.append({"ds": name, "measure": key, "width": int(w), "mean": _f(k * s.mean[i]),
                               "lo": _f(k * s.low[i]), "hi": _f(k * s.high[i])})
    for w in r.views.widths:
        ref.append({"measure": "participation", "width": int(w), "y": int(w), "note": "one dimension per unit"})
        ref.append({"measure": "partitions", "width": int(w), "y": N_SPLITS_4, "note": f"all {N_SPLITS_4} possible splits"})
    cost, lines, points = [], [], []
    for name, d in r.datasets.items():
        for w, pw in d.per_width.items():
            ch = np.asarray(pw.ablation_accuracy_change, float)
            for si, seed in enumerate(r.seeds):
                c = -100.0 * ch[si]
                order = np.argsort(-np.nan_to_num(c, nan=-np.inf), kind="stable")
                cost += [{"ds": name, "width": int(w), "seed": int(seed), "unit": f"L1:{int(u)}", "rank": rank + 1,
                          "cost": _f(c[u])} for rank, u in enumerate(order)]
            key = f"{name}/w{w}/L1.linear.weight"
            if name == "blobs" and pw.unit_splits is not None and key in r.params:
                W, B = np.asarray(r.params[key], float), np.asarray(r.params[f"{name}/w{w}/L1.linear.bias"], float)
                for si, seed in enumerate(r.seeds):
                    for u, split in enumerate(pw.unit_splits[si]):
                        ends = None if split == "dead" else _clip(W[si, u, 0], W[si, u, 1], B[si, u])
                        if ends:
                            (xa, ya), (xb, yb) = ends
                            lines.append({"width": int(w), "seed": int(seed), "unit": f"L1:{u}", "split": split,
                                          "w0": _f(W[si, u, 0]), "w1": _f(W[si, u, 1]), "b": _f(B[si, u]),
                                          "xa": xa, "ya": ya, "xb": xb, "yb": yb})
    if getattr(r.views, "points_X", None) is not None and len(r.views.points_X):
        points = [{"x0": _f(x[0]), "x1": _f(x[1]), "cls": int(c)} for x, c in zip(r.views.points_X, r.views.points_y)]
    return {"width_census": census, "width_ref": ref, "width_cost": cost, "width_lines": lines, "width_points": points}


def _used(data: dict, spec: dict) -> dict:
    text = str(spec)
    return {k: v for k, v in data.items() if f"'name': '{k}'" in text}


def _controls(r) -> list[Control]:
    return [Control("hwidth", "Width", "select", _shown_width(r),
                    [(int(w), f"{w} hidden unit{'s' if w != 1 else ''}", "") for w in r.views.widths],
                    help="The hidden width the unit lines, the ablation costs and the numbers below show; "
                         "the census charts mark it."),
            Control("seed", "Seed", "select", int(r.seeds[0]), [(int(s), f"seed {s}", "") for s in r.seeds],
                    help="The trained network whose units are drawn.")]


def _readout(r) -> Readout:
    records = {}
    for i, w in enumerate(r.views.widths):
        lines = []
        for name, d in r.datasets.items():
            m = d.means_by_width
            j = d.widths.index(w) if w in d.widths else None
            if j is None:
                continue
            lines += [(f"{name}: accuracy", pct(m["accuracy"][j])),
                      (f"{name}: dead units", _unit_share(d, w, "dead", "units")),
                      (f"{name}: live units with a near-duplicate", _unit_share(d, w, "dup_units", "live units")),
                      (f"{name}: participation ratio", _cell(m["participation"][j], lambda x: f"{x:.2f}")),
                      (f"{name}: frivolous units", _unit_share(d, w, "frivolous", "units"))]
        records[str(int(w))] = lines
    return Readout("hwidth", records, "Width {value}: means over " + plural(len(r.seeds), "seed"))


def _unit_share(d, w: int, measure: str, of: str) -> str:
    """``"38% (12 of 32 units; 95% CI 23%–55%)"``: a share of units at width ``w``, pooled over the seeds
    that did not diverge, with its count and Wilson 95% interval ("–" when no unit is counted)."""
    k, n = census_counts(d.per_width[int(w)], int(w), measure)
    return share(k, n, of) if n else "–"


def _findings(r, key: str) -> list[str]:
    return [line for d in r.datasets.values() for line in d.findings[key]]


def _setup(r) -> dict:
    c = r.config
    data = {"blobs": f"the lab's 4 blobs: trained on its 100 points, measured on {c.eval_samples} fresh points "
                     "from the same blobs (make_blobs random_state 1)",
            "digits": "scikit-learn digits, stratified split: trained on 75% of the 1797 images, measured on the "
                      "held-out 25%"}
    names = [d for d in DATASETS if d in r.datasets]
    return {"data": "; ".join(data[d] for d in names),
            "model": "Dense(width, ReLU) 'L1' -> Dense(classes) 'L2', widths " + ", ".join(map(str, c.widths)),
            "training": f"{c.optimizer}, lr {c.lr}, batch {c.batch_size}, init {c.init}, "
                        + ", ".join(f"{c.epochs_for(d)} epochs on {d}" for d in names),
            "seeds": f"{c.seeds} per width ({c.first_seed}–{c.first_seed + c.seeds - 1}), trained at once",
            "dead unit": "ReLU output 0 (or constant) on every evaluation sample",
            "near-duplicate": f"two live units whose activations correlate at r >= {c.dup_threshold:g} on the "
                              "evaluation data",
            "distinct class splits": "blobs: a class is on a unit's active side when most of its points activate "
                                     "it; different live units' splits of the 4 classes are counted "
                                     f"(at most {N_SPLITS_4})",
            "participation ratio": "(sum of covariance eigenvalues)^2 / sum of squared eigenvalues of the hidden "
                                   "activations: their effective number of dimensions",
            "frivolous unit": f"setting the unit to 0 costs less than {100 * c.ablation_cost:g}% accuracy on the "
                              "evaluation data"}


def _census(r, data) -> Section:
    v = r.views
    label = f"units removable for < {100 * r.config.ablation_cost:g}% accuracy (%)"
    spec = fig.fig_census(list(v.widths), list(r.datasets), _shown_width(r), frivolous_title=label)
    return Section(
        "The unit census against width",
        question="As the hidden layer widens, what happens to accuracy and to the units?",
        findings=_findings(r, "accuracy"), controls=_controls(r), readouts=[_readout(r)],
        figures=[Chart("census", spec,
                        f"Points: mean over the {plural(r.config.seeds, 'seed')} at each width; error bars: the range "
                        "from the lowest to the highest seed (not a standard deviation). Read left to right: find the "
                        "width where accuracy stops rising, then see whether near-duplicates and removable units climb "
                        "beyond it and how far the effective dimension (participation ratio) stays below the "
                        "diagonal (dotted). The dashed rule is the selected width.", datasets=_used(data, spec))])


def _niches(r, data) -> Section:
    figs = []
    if data["width_lines"]:
        spec = fig.fig_unit_lines(_shown_width(r), int(r.seeds[0]))
        figs.append(Chart("unit_lines", spec,
                          "Count the colours, not the lines: move the width up and the new units' lines fall into a "
                          "few bundles, one per way of splitting the classes.", datasets=_used(data, spec)))
    return Section("Distinct niches or copies?",
                   question="Do the extra units find niches of their own, or copy niches already taken?",
                   findings=_findings(r, "niches"), figures=figs)


def _dead(r) -> Section:
    return Section("Dead units", question="Do wider layers waste units that never fire?", findings=_findings(r, "dead"))


def _frivolous(r, data) -> Section:
    spec = fig.fig_unit_costs(list(r.datasets), _shown_width(r), int(r.seeds[0]))
    return Section("Does any single unit still matter?", question="If one unit is removed, how much accuracy is lost?",
                   findings=_findings(r, "frivolous"),
                   figures=[Chart("unit_costs", spec, "Look at how fast the curve falls to 0: at wide widths most units "
                                  "cost almost nothing when removed alone.", datasets=_used(data, spec))])


def _table(r) -> Section:
    tables = []
    for name, d in r.datasets.items():
        m = d.means_by_width
        rows = [[w, pct(m["accuracy"][i]), pct(m["train_accuracy"][i]), pct(m["dead"][i]), _cell(m['dup_pairs'][i], lambda x: f"{x:.1f}"),
                 _cell(m["dup_units"][i], pct), _cell(m["partitions"][i], lambda x: f"{x:.1f}"),
                 _cell(m['participation'][i], lambda x: f"{x:.2f}"), pct(m["frivolous"][i]), pct(m["top_unit_cost"][i])]
                for i, w in enumerate(d.widths)]
        tables.append(Table(["width", "accuracy", "train accuracy", "dead", "near-duplicate pairs",
                             "live units with a near-duplicate", "class splits", "participation ratio",
                             "frivolous units", "cost of the most important unit"], rows,
                            f"{name}: means over {plural(len(r.seeds), 'seed')} (near-duplicate pairs: the mean "
                            "number per network; the text's shares pool the units of all seeds, with counts)"))
    return Section("Every width", question="What did each width end with?", tables=tables)
