"""The symmetry study's page: identical units stay identical, what breaks the tie, and how fast."""
from __future__ import annotations

from ...studies.symmetry.findings import fmt_gap
from ...studies.text import num, pct, plural
from ..figures import symmetry as fig
from ..model import Figure, Report, Section, Table
from ..style import FigurePool

__all__ = ["page", "summary_table"]

_DATA = {"blobs": "the lab's 4 blobs (100 points, make_blobs random_state 30)",
         "digits": "scikit-learn digits (1797 images of 8x8 pixels, 10 classes)"}


def _split_text(s, n_seeds: int) -> str:
    """``"112 (2/2)"``: median split step (seeds that split), or ``"never"``."""
    return f"{s.median_split_step:.0f} ({s.seeds_split}/{n_seeds})" if s.seeds_split else "never"


def summary_table(r) -> Table:
    """The terminal summary: per dataset, the main conditions."""
    rows = []
    for ds, d in r.datasets.items():
        for name in d.main_conditions:
            s = d.conditions[name].summary
            rows.append([ds, name, pct(s.mean_accuracy), fmt_gap(s.largest_final_gap), num(s.mean_distinct_final),
                         _split_text(s, len(d.seeds))])
    return Table(["data", "condition", "acc.", "gap at end", "distinct", "split step"], rows,
                 f"symmetry: {plural(r.config.seeds, 'seed')} per condition; split step = median (seeds split)")


def page(r) -> Report:
    """The HTML report: question, measured answer and figures, one idea per section.

    Figures are rendered in parallel worker processes (:class:`~nichelab.reporting.style.FigurePool`).
    """
    with FigurePool() as pool:
        report = Report(title="Why do hidden units differ at all? Identical units under gradient descent",
                        summary=_summary(r), setup=_setup(r),
                        sections=[_stay(r, pool), _one_unit(r, pool), _breaks(r, pool), _speed(r, pool), _zero(r),
                                  _tables(r)])
    for section in report.sections:
        for f in section.figures:
            f.png = FigurePool.resolve(f.png)
    return report


def _summary(r) -> list[str]:
    ds = list(r.datasets.values())
    first = ds[0].findings
    return ([d.findings["stay"][0] for d in ds] + [first["one_unit"][0]]
            + first["breaks"][2:3] + first["speed"][-1:])


def _setup(r) -> dict:
    c, names = r.config, list(r.datasets)
    return {"data": "; ".join(_DATA[d] for d in names),
            "model": "; ".join(f"{d}: Dense({c.hidden_for(d)}, ReLU) 'L1' -> Dense(classes) 'L2'" for d in names),
            "training": f"{c.optimizer}, lr {c.lr}, batch {c.batch_size}, "
                        + ", ".join(f"{c.epochs_for(d)} epochs on {d}" for d in names)
                        + f"; softmax cross-entropy; {c.dtype}; accuracy and loss on the training data",
            "seeds": f"{c.seeds} per condition ({c.first_seed}–{c.first_seed + c.seeds - 1}); a seed fixes the random "
                     "weights, the sample order, the dropout masks and the perturbation",
            "random init": "Keras' Glorot-uniform weights, zero biases",
            "symmetric init": "the random network's first unit that is active on at least a quarter of the training "
                              "data (unit 0 in most seeds) is copied into every hidden unit: incoming weights, bias "
                              + ("and outgoing weights, each copy sending 1/H of them (so the network starts as "
                                 "exactly the one-unit network of that unit)" if c.outgoing == "split" else
                                 "and outgoing weights (full copies)"),
            "perturbation eps": "after the symmetric init, Gaussian noise of standard deviation eps added to every "
                                "weight and bias; eps = " + ", ".join(f"{e:.0e}" for e in c.eps),
            "dropout": f"p = {c.dropout:g} after the hidden layer (masks independent per seed, step, sample and unit)",
            "gap": "Euclidean distance between two hidden units' incoming vectors (weights and bias); "
                   "the largest and the mean over all pairs, after every optimizer step",
            "split / distinct": f"two units are distinct when their gap exceeds {c.split_tol:g} times the typical "
                                "initial norm of an incoming vector; a network has split when its largest gap does",
            "one unit": "the copied unit alone (its incoming weights, bias and outgoing weights) trained the same way"}


def _lines(r, key: str) -> list[str]:
    return [line for d in r.datasets.values() for line in d.findings[key]]


def _stay(r, pool) -> Section:
    return Section(
        "Identical units stay identical",
        question="If every hidden unit starts as an exact copy of one unit, does gradient descent ever make them differ?",
        findings=_lines(r, "stay") + ["Why: two units with the same incoming weights, bias and outgoing weights "
                                      "compute the same activation on every input and receive the same gradient, so "
                                      "every update moves them by the same amount (Fukumizu & Amari 2000; Saad & "
                                      "Solla 1995)."],
        figures=[Figure(pool.draw(fig.fig_gap_conditions, r.views.gap),
                        "The black line sits at the floor for the whole run: the symmetric network's units never "
                        "differ, while dropout and a 1e-6 perturbation pull them apart.")])


def _one_unit(r, pool) -> Section:
    return Section(
        "A symmetric network is a one-unit network",
        question="What can a network whose units are all identical learn?",
        findings=_lines(r, "one_unit"),
        figures=[Figure(pool.draw(fig.fig_training, r.views.training),
                        "Compare the black (symmetric) and purple (one unit) curves: same accuracy ceiling, and a "
                        "single distinct unit throughout; every tie-breaker climbs to the random network's level.")])


def _breaks(r, pool) -> Section:
    figs = [Figure(pool.draw(fig.fig_gap_eps, r.views.eps),
                   "Each perturbation starts the gap at its own height and grows it along nearly the same slope: "
                   "smaller eps only shifts the curve to the right.")] if any(p.curves for p in r.views.eps) else []
    return Section("What breaks the tie", question="What makes identical units become different, and how much does it take?",
                   findings=_lines(r, "breaks"), figures=figs)


def _speed(r, pool) -> Section:
    figs = [Figure(pool.draw(fig.fig_split_vs_eps, r.views.split_vs_eps),
                   "Points on a straight line mean the split time grows like log(1/eps); the slope is the delay "
                   "per factor 10, set by how fast the gap grows.")] if r.views.split_vs_eps else []
    rows = [[name, s, num(t.seed_delay_per_decade[i]), num(t.seed_r2[i]), num(t.seed_growth_per_step[i]),
             num(t.seed_predicted_delay_per_decade[i])]
            for name, d in r.datasets.items() for t in [d.time_to_split] for i, s in enumerate(d.seeds)]
    tables = [Table(["data", "seed", "delay per factor 10 of eps (steps)", "R²", "growth rate λ (per step)",
                     "ln(10)/λ (steps)"], rows, "Time to split per seed: measured slope vs the growth rate")]
    return Section("How fast the tie breaks", question="How does the time until units split depend on the size of "
                   "the initial difference?", findings=_lines(r, "speed"), figures=figs, tables=tables)


def _zero(r) -> Section:
    return Section("All-zero initialisation", question="What if every weight starts at 0?", findings=_lines(r, "zero"))


def _tables(r) -> Section:
    tables = []
    for name, d in r.datasets.items():
        rows = []
        for c in d.conditions.values():
            s = c.summary
            rows.append([c.label, pct(s.mean_accuracy), num(s.mean_loss), fmt_gap(s.largest_final_gap),
                         fmt_gap(s.mean_final_gap), f"{s.mean_distinct_final:.1f}", _split_text(s, len(d.seeds)),
                         num(s.median_growth_per_step)])
        tables.append(Table(["condition", "accuracy (mean)", "loss (mean)", "largest gap at end (any seed)",
                             "mean gap at end (mean over seeds)", "distinct units at end (mean)",
                             "split step: median (seeds split)", "growth rate λ (median, per step)"], rows,
                            f"{name}: every condition ({d.hidden} hidden units, {len(d.seeds)} seeds)"))
    return Section("Every condition", question="What did each starting condition end with?", tables=tables)
