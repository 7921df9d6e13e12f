"""The width study's page: the unit census against width, niches or copies, dead and frivolous units."""
from __future__ import annotations

import math

from ...studies.text import pct, plural
from ...studies.width.config import DATASETS, N_SPLITS_4
from ..figures import width as fig
from ..glossary import glossary_link
from ..model import Figure, Report, Section, Table
from ..style import FigurePool

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
    """The HTML report: question, measured answer and figures, one idea per section."""
    with FigurePool() as pool:
        report = Report(title="More units than needed: distinct niches or redundancy?",
                        summary=[d.findings["short"] for d in r.datasets.values()] + [glossary_link()],
                        setup=_setup(r),
                        sections=[_census(r, pool), _niches(r, pool), _dead(r), _frivolous(r), _table(r)])
    for section in report.sections:
        for f in section.figures:
            f.png = FigurePool.resolve(f.png)
    return report


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


def _census(r, pool) -> Section:
    v = r.views
    series = {name: {k: (s.mean, s.low, s.high) for k, s in meas.items()} for name, meas in v.census.items()}
    label = f"units removable for < {100 * r.config.ablation_cost:g}% accuracy (%)"
    return Section(
        "The unit census against width",
        question="As the hidden layer widens, what happens to accuracy and to the units?",
        findings=_findings(r, "accuracy"),
        figures=[Figure(pool.draw(fig.fig_census, v.widths, series, frivolous_label=label, n_splits=N_SPLITS_4),
                        f"Points: mean over the {plural(r.config.seeds, 'seed')} at each width; error bars: the range "
                        "from the lowest to the highest seed (not a standard deviation). Read left to right: find the "
                        "width where accuracy stops rising, then see whether near-duplicates and removable units climb "
                        "beyond it and how far the effective dimension (participation ratio) stays below the "
                        "diagonal.")])


def _niches(r, pool) -> Section:
    v, figs = r.views, []
    if v.unit_lines:
        ex = [{"width": u.width, "seed": u.seed, "W": u.W, "b": u.b, "keys": u.keys, "n_splits": u.n_splits,
               "n_dead": u.n_dead} for u in v.unit_lines]
        figs.append(Figure(pool.draw(fig.fig_unit_lines, ex, v.points_X, v.points_y),
                           "Count the colours, not the lines: however many units there are, their lines fall into a "
                           "few bundles, one per way of splitting the classes."))
    return Section("Distinct niches or copies?",
                   question="Do the extra units find niches of their own, or copy niches already taken?",
                   findings=_findings(r, "niches"), figures=figs)


def _dead(r) -> Section:
    return Section("Dead units", question="Do wider layers waste units that never fire?", findings=_findings(r, "dead"))


def _frivolous(r) -> Section:
    return Section("Does any single unit still matter?", question="If one unit is removed, how much accuracy is lost?",
                   findings=_findings(r, "frivolous"))


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
