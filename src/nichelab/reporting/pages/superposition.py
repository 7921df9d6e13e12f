"""The superposition study's page: features per dimension as inputs get sparser (Elhage et al. 2022)."""
from __future__ import annotations

import numpy as np

from ...studies.text import pct, plural
from ..figures import superposition as fig
from ..model import Chart, Control, Report, Section, Table

__all__ = ["page", "summary_table", "counts_caption"]


def summary_table(r) -> Table:
    """Terminal summary: features represented per sparsity level."""
    rows = [[f"{x['sparsity']:g}", f"{x['represented_median']:g}", f"{x['represented_min']}–{x['represented_max']}",
             f"{x['dims_per_feature_median']:.2f}"] for x in r.by_sparsity]
    return Table(["sparsity S", "features (median)", "range", "dims per feature"], rows,
                 f"superposition: {r.config.features} features, {r.config.hidden} dims, {plural(r.config.seeds, 'seed')}")


def page(r) -> Report:
    """Question, measured answer, interactive charts; one idea per section (a sparsity selector drives WᵀW)."""
    c = r.config
    data = datasets(r)
    return Report(
        title="Do hidden dimensions carry one feature each, or several at once?",
        summary=r.findings["short"],
        setup={"model": f"h = W x (W: {c.hidden} × {c.features}), x' = ReLU(Wᵀ h + b) (Elhage et al. 2022)",
               "data": f"feature i is 0 with probability S, else uniform in [0, 1]; importance {c.importance:g}^i",
               "training": f"AdamW, lr {c.lr:g}, {c.steps} steps of {c.batch_size} fresh samples",
               "seeds": f"{c.seeds} per sparsity level ({c.first_seed}–{c.first_seed + c.seeds - 1})",
               "represented": f"a feature whose direction W_i has length ||W_i|| > {c.threshold:g}",
               "dimensionality": "how much of a dimension a feature has to itself (1 alone, 1/2 shared by two)"},
        sections=[_counts(r, data), _gram(r, data), _shared(r)])


def datasets(r) -> dict:
    """The named datasets of the page's charts (see :mod:`..figures.superposition`), from the result's numbers."""
    seeds, levels, gram = [], [], []
    for k, x in enumerate(r.by_sparsity):
        ys = list(x["represented_per_seed"])
        for s_i, y in enumerate(ys):
            seeds.append({"level": k, "sparsity": x["sparsity"], "seed": int(r.seeds[s_i]),
                          "represented": int(y), "pos": k + (0.2 * (s_i / (len(ys) - 1) - 0.5) if len(ys) > 1 else 0.0)})
        levels.append({"level": k, "sparsity": x["sparsity"], "median": float(x["represented_median"]),
                       "lo": x["represented_min"], "hi": x["represented_max"],
                       "dims": round(float(x["dims_per_feature_median"]), 4)})
    for g in r.views["gram"]:
        k = [x["sparsity"] for x in r.by_sparsity].index(g["sparsity"])
        M = np.asarray(g["WtW"], dtype=float)
        gram += [{"level": k, "sparsity": g["sparsity"], "seed": int(g["seed"]), "i": i, "j": j,
                  "v": round(float(M[i, j]), 4)} for i in range(M.shape[0]) for j in range(M.shape[1])]
    return {"sp_seeds": seeds, "sp_levels": levels, "sp_gram": gram}


def _level(r) -> int:
    """The level shown first: the sparsest one (where sharing, if any, is expected)."""
    return len(r.by_sparsity) - 1


def counts_caption(n_seeds: int) -> str:
    """What the features-represented chart draws, for ``n_seeds`` seeds per level (one seed: no per-seed dots)."""
    marks = ("Blue dots: one seed each; orange squares: the median over seeds" if n_seeds > 1 else
             "Orange squares: the one seed's count at each level")
    return (f"{marks}; black ring: the level whose WᵀW is drawn below. Points above the dashed line mean more "
            "features than dimensions: look at where the sparse levels sit.")


def _counts(r, data) -> Section:
    labels = [f"{x['sparsity']:g}" for x in r.by_sparsity]
    n_seeds = len(r.seeds)
    spec = fig.fig_counts(labels, r.config.hidden, r.config.features, _level(r), per_seed=n_seeds > 1)
    return Section("How many features fit in the hidden dimensions?",
                   question="As features get sparser, do the dimensions still keep one feature each?",
                   findings=r.findings["levels"] + r.findings["paper"],
                   figures=[Chart("represented", spec, counts_caption(n_seeds),
                                  datasets={k: data[k] for k in (("sp_seeds", "sp_levels") if n_seeds > 1
                                                                 else ("sp_levels",))})],
                   tables=[Table(["sparsity S", "features represented (per seed)", "dims per feature (median)"],
                                 [[f"{x['sparsity']:g}", ", ".join(map(str, x["represented_per_seed"])),
                                   f"{x['dims_per_feature_median']:.2f}"] for x in r.by_sparsity])])


#: What to look at in the WᵀW heatmap (describes the reading, claims no result: the findings above it do).
GRAM_CAPTION = ("Each cell is the overlap of two features' hidden directions: the diagonal shows how strongly each "
                "feature is represented, colour off the diagonal means two features share directions; pick the "
                "sparsity levels in turn and compare where off-diagonal colour appears.")


def _gram(r, data) -> Section:
    grams = r.views["gram"]
    lim = max((float(np.abs(np.asarray(g["WtW"])).max()) for g in grams), default=1.0) or 1.0
    opts = [([x["sparsity"] for x in r.by_sparsity].index(g["sparsity"]), f"S = {g['sparsity']:g} (seed {g['seed']})", "")
            for g in grams]
    titles = [f"S = {x['sparsity']:g}" for x in r.by_sparsity]
    figs = [Chart("gram", fig.fig_gram(r.config.features, round(lim, 4), _level(r), titles),
                  GRAM_CAPTION, datasets={"sp_gram": data["sp_gram"]})] if grams else []
    controls = [Control("level", "Sparsity", "select", _level(r), opts,
                        help="The sparsity level whose trained model (its first seed) the WᵀW heatmap shows; "
                             "it is ringed in the chart above.")] if grams else []
    return Section("Which features share a direction?",
                   question="Inside one trained model, which features overlap?",
                   findings=r.findings["meaning"], controls=controls, figures=figs)


def _shared(r) -> Section:
    return Section("How common is sharing?", question="What share of represented features share a direction?",
                   findings=r.findings["shared"],
                   tables=[Table(["sparsity S", "represented (all seeds)", "sharing", "share"],
                                 [[f"{x['sparsity']:g}", x["represented_total"], x["shared_total"],
                                   pct(x["shared_total"] / x["represented_total"]) if x["represented_total"] else "n/a"]
                                  for x in r.by_sparsity])])
