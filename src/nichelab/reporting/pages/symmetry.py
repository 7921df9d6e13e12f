"""The symmetry study's page: do identical units stay identical (measured), what breaks the tie, and how fast.

Every sentence and caption about whether copies stayed identical is generated from this run's
numbers (``ConditionResult.tie``, ``identical``, ``first_gap_step``), never assumed.
"""
from __future__ import annotations

from ...studies.symmetry.findings import fmt_gap
import numpy as np

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


_TIE_WORDS = {"tied": "tied", "identical": "identical", "rounding": "rounding split",
              "dropout": "dropout", "apart": "apart", "one unit": "–", "diverged": "diverged"}


def _n_diverged(c) -> int:
    d = getattr(c, "diverged", None)
    return int(np.asarray(d, dtype=bool).sum()) if d is not None else 0


def _tie_cell(c, n_seeds: int) -> str:
    """``"identical 2/2"`` (seeds bit-identical), ``"rounding split 2/2 @1"`` (seeds, median first step), ``"tied"``..."""
    s = c.summary
    words = _TIE_WORDS.get(c.tie, c.tie)
    k = _n_diverged(c)
    if c.tie == "diverged":
        return f"diverged {k}/{n_seeds}"
    left = f"; {k}/{n_seeds} diverged" if k else ""
    if c.tie == "identical":
        return f"{words} {s.seeds_identical}/{n_seeds}{left}"
    if c.tie == "rounding":
        return f"{words} {n_seeds - s.seeds_identical - k}/{n_seeds} @{s.median_first_gap_step:.0f}{left}"
    return words + left


def summary_table(r) -> Table:
    """The terminal summary: per dataset, the main conditions, with what happened to the copies."""
    rows = []
    for ds, d in r.datasets.items():
        for name in d.main_conditions:
            c = d.conditions[name]
            s = c.summary
            gone = c.tie == "diverged"
            rows.append([ds, name, pct(s.mean_accuracy), "–" if gone else fmt_gap(s.largest_final_gap),
                         num(s.mean_distinct_final), "–" if gone else _split_text(s, len(d.seeds)),
                         _tie_cell(c, len(d.seeds))])
    return Table(["data", "condition", "acc.", "gap at end", "distinct", "split step", "copies"], rows,
                 f"symmetry: {plural(r.config.seeds, 'seed')} per condition; split step = median (seeds split); "
                 "copies: identical k/S = seeds whose copies stayed bit-identical; rounding split k/S @t = seeds "
                 "where rounding split them, from step t (median); tied = one shared vector; apart = differ at start"
                 + ("; diverged seeds are left out of every other column" if any(
                     _n_diverged(c) for d in r.datasets.values() for c in d.conditions.values()) else ""))


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
    return ([line for d in ds for line in d.findings.get("diverged", [])] + [d.findings["stay"][0] for d in ds] + [first["one_unit"][0]]
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
            "tied": "the symmetric start built so that every hidden unit reads ONE shared incoming weight vector and "
                    "bias, and sends through one shared outgoing column; the shared numbers get the mean of the "
                    "copies' gradients, i.e. exactly what identical copies get in exact arithmetic. Tied units are "
                    "identical by construction on any hardware",
            "bit-identical / split by rounding": "separate copies are bit-identical when their gap is exactly 0 "
                                                 "(every stored bit equal); rounding split them when the gap left 0 "
                                                 "without any deliberate tie-breaker (no dropout, no perturbation)",
            "one unit": "the copied unit alone (its incoming weights, bias and outgoing weights) trained the same way"}


def _lines(r, key: str) -> list[str]:
    return [line for d in r.datasets.values() for line in d.findings[key]]


_WHY = ("Why they can stay identical, and why they may not: in exact arithmetic, two units with the same incoming "
        "weights, bias and outgoing weights compute the same activation on every input and receive the same "
        "gradient, so every update moves them by the same amount (Fukumizu & Amari 2000; Saad & Solla 1995). A "
        "computer adds in floating point, and a matrix-multiply routine may add up the contributions of identical "
        "units in different orders, so their gradients can differ in the last bit (about 1e-16 of their size in "
        "float64, 6e-8 in float32). The symmetric start is unstable -- a small difference grows, as the "
        "perturbation experiment below measures -- so such a difference can grow until the units are distinct. "
        "Whether it happens depends on the CPU, the maths library and the precision, not on the network: that is "
        "why this page reports what happened in this run, and why the tied network, whose units share one set of "
        "numbers, shows exact symmetry on any hardware.")


def _first_gap(c) -> float:
    x = np.asarray(c.first_gap_step, dtype=float)
    return float(np.nanmedian(x)) if np.isfinite(x).any() else float("nan")


def _gap_caption(r) -> str:
    """One line, generated from the measured tie outcomes: what the lines at the floor show."""
    parts = []
    for ds, d in r.datasets.items():
        sym = d.conditions["symmetric"]
        if sym.tie == "identical":
            parts.append(f"on the {ds} the black line (separate copies) stays at the floor: gap exactly 0 throughout")
        elif sym.tie == "rounding":
            parts.append(f"on the {ds} the black line (separate copies) leaves the floor at step "
                         f"{_first_gap(sym):.0f} (median): rounding split the copies")
    tied = [ds for ds, d in r.datasets.items() if "tied" in d.conditions and d.conditions["tied"].tie == "tied"]
    text = "Look at the floor (gap exactly 0): " + "; ".join(parts)
    if tied:
        text += "; the sky-blue dashed line (tied) stays there by construction"
    return text + "; dropout and the perturbation pull the units apart."


def _stay(r, pool) -> Section:
    return Section(
        "Do identical units stay identical?",
        question="If every hidden unit starts as an exact copy of one unit, does gradient descent ever make them differ?",
        findings=_lines(r, "stay") + [_WHY],
        figures=[Figure(pool.draw(fig.fig_gap_conditions, r.views.gap), _gap_caption(r))])


def _training_caption(r) -> str:
    """One line from the measured distinct-unit curves: which networks kept one distinct unit."""
    bits = []
    for p in r.views.training:
        curves = {c.key: c for c in p.curves}
        ds = p.title.split(" ")[0]
        tied, sym = curves.get("tied"), curves.get("symmetric")
        if tied is not None and np.max(tied.distinct) == 1:
            bits.append(f"{ds}: tied keeps 1 distinct unit throughout")
        if sym is not None:
            end = float(np.asarray(sym.distinct)[-1])
            bits.append(f"{ds}: separate copies (black) " + ("keep 1 distinct unit" if np.max(sym.distinct) == 1 else
                                                            f"end with {end:.3g} distinct units"))
    return ("Bottom row, distinct units -- " + "; ".join(bits) + ". Top row: compare with the one-unit network "
            "(reddish purple) and the random start (blue).")


def _one_unit(r, pool) -> Section:
    return Section(
        "A network of identical units is a one-unit network",
        question="What can a network whose units are all identical learn?",
        findings=_lines(r, "one_unit"),
        figures=[Figure(pool.draw(fig.fig_training, r.views.training), _training_caption(r))])


def _breaks(r, pool) -> Section:
    figs = [Figure(pool.draw(fig.fig_gap_eps, r.views.eps), _eps_caption(r))] if any(p.curves for p in r.views.eps) else []
    return Section("What breaks the tie", question="What makes identical units become different, and how much does it take?",
                   findings=_lines(r, "breaks"), figures=figs)


def _eps_caption(r) -> str:
    """Whether the eps curves of each dataset grow along similar slopes, from the measured growth rates."""
    parts = []
    for ds, d in r.datasets.items():
        lam = [c.summary.median_growth_per_step for c in d.conditions.values()
               if c.eps > 0 and np.isfinite(c.summary.median_growth_per_step) and c.summary.median_growth_per_step > 0]
        if len(lam) < 2:
            continue
        similar = max(lam) <= 1.5 * min(lam)
        parts.append(f"on the {ds} the slopes are {'nearly the same' if similar else 'different'} "
                     f"(λ from {min(lam):.3g} to {max(lam):.3g} per step)")
    return ("Each perturbation starts the gap at its own height; dots mark the median split step"
            + (": " + "; ".join(parts) if parts else "") + ". Where the slopes match, smaller eps only shifts the "
            "curve to the right.")


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
                         num(s.median_growth_per_step), _tie_cell(c, len(d.seeds))])
        tables.append(Table(["condition", "accuracy (mean)", "loss (mean)", "largest gap at end (any seed)",
                             "mean gap at end (mean over seeds)", "distinct units at end (mean)",
                             "split step: median (seeds split)", "growth rate λ (median, per step)",
                             "copies (seeds)"], rows,
                            f"{name}: every condition ({d.hidden} hidden units, {len(d.seeds)} seeds)"))
    return Section("Every condition", question="What did each starting condition end with?", tables=tables)
