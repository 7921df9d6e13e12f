"""The symmetry study's page: do identical units stay identical (measured), what breaks the tie, and how fast.

Every sentence and caption about whether copies stayed identical is generated from this run's
numbers (``ConditionResult.tie``, ``identical``, ``first_gap_step``), never assumed.
"""
from __future__ import annotations

import math
import re

import numpy as np

from ...studies.symmetry.findings import fmt_gap
from ...studies.text import num, pct, plural
from ..figures import symmetry as fig
from ..model import Chart, Control, Report, Section, Table

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
    """The HTML report: question, measured answer and interactive charts, one idea per section.

    A dataset selector and a condition selector (page parameters ``dataset`` and ``condition``) drive
    every chart; the charts draw the study's panels (``r.views``), arranged by :func:`datasets`.
    """
    data = datasets(r)
    return Report(title="Why do hidden units differ at all? Identical units under gradient descent",
                  summary=_summary(r), setup=_setup(r),
                  sections=[_stay(r, data), _one_unit(r, data), _breaks(r, data), _speed(r, data), _zero(r),
                            _tables(r)])


#: At most this many steps of a curve are drawn (every k-th step; the last one always).
MAX_POINTS = 600


def _steps(n: int) -> list[int]:
    k = max(1, math.ceil(n / MAX_POINTS))
    idx = list(range(0, n, k))
    return idx if idx[-1] == n - 1 else idx + [n - 1]


def _f(x, digits: int = 4):
    x = float(x)
    return float(f"{x:.{digits}g}") if math.isfinite(x) else None


def _ds_name(panel_title: str) -> str:
    return panel_title.split(":")[0].split(" ")[0]


def datasets(r) -> dict:
    """The named datasets of the page's charts, from the study's panels (see :mod:`..figures.symmetry`)."""
    gap, ref, train, eps, eps_split, split, fit = [], [], [], [], [], [], []
    for p in r.views.gap:
        ds = _ds_name(p.title)
        ref.append({"ds": ds, "tol": _f(p.tol), "floor": _f(p.floor)})
        n_zero = 0
        for c in p.curves:
            med, lo, hi = (np.asarray(a, float) for a in (c.median, c.lo, c.hi))
            level = p.floor / 2 ** n_zero if c.zero else p.floor  # exact zeros side by side, not on top of each other
            n_zero += bool(c.zero)
            for t in _steps(len(med)):
                gap.append({"ds": ds, "key": c.key, "label": c.label, "step": t, "zero": bool(c.zero),
                            "y": _f(med[t] if med[t] > 0 else level), "lo": _f(lo[t] if lo[t] > 0 else p.floor),
                            "hi": _f(hi[t] if hi[t] > 0 else p.floor), "median": _f(med[t]), "lo_v": _f(lo[t]),
                            "hi_v": _f(hi[t])})
    for p in r.views.training:
        ds = _ds_name(p.title)
        for c in p.curves:
            for e, (a, d) in enumerate(zip(np.asarray(c.accuracy, float), np.asarray(c.distinct, float))):
                train.append({"ds": ds, "key": c.key, "label": c.label, "epoch": e, "accuracy": _f(100 * a),
                              "distinct": _f(d)})
    for p in r.views.eps:
        ds = _ds_name(p.title)
        for c in p.curves:
            med = np.asarray(c.median, float)
            label = f"eps = {c.eps:.0e}"
            for t in _steps(min(len(med), int(p.xmax) + 1 if p.xmax else len(med))):
                if med[t] > 0:
                    eps.append({"ds": ds, "eps": c.eps, "label": label, "step": t, "median": _f(med[t])})
            if math.isfinite(c.split) and c.split > 0:
                eps_split.append({"ds": ds, "eps": c.eps, "label": label, "split": _f(c.split), "tol": _f(p.tol)})
    for p in r.views.split_vs_eps:
        ds = _ds_name(p.title)
        xs, sp, fx, fy = (np.asarray(a, float) for a in (p.x, p.split, p.fit_x, p.fit_y))
        for i, seed in enumerate(p.seeds):
            for k, x in enumerate(xs):
                if math.isfinite(sp[i, k]):
                    split.append({"ds": ds, "seed": int(seed), "x": _f(x), "eps": _f(10 ** -x), "split": _f(sp[i, k])})
            if np.isfinite(fx[i]).all():
                fit += [{"ds": ds, "seed": int(seed), "x": _f(fx[i, j]), "y": _f(fy[i, j])} for j in (0, 1)]
    return {"sym_gap": gap, "sym_ref": ref, "sym_train": train, "sym_eps": eps, "sym_eps_split": eps_split,
            "sym_split": split, "sym_fit": fit}


def _used(data: dict, spec: dict) -> dict:
    """The named datasets a spec refers to."""
    text = str(spec)
    return {k: v for k, v in data.items() if f"'name': '{k}'" in text}


def _generic(label: str) -> str:
    """A condition's label without its dataset's unit count ("random init (4 units)" -> "random init (all units)")."""
    return re.sub(r"\b\d+ (identical )?units", lambda m: "all " + (m.group(1) or "") + "units", label)


def _conditions(r) -> list[tuple[str, str]]:
    """(key, label) of every condition drawn in the gap or training charts, in drawing order; labels name no
    unit count (datasets differ), the tooltips do."""
    seen = {}
    for p in list(r.views.gap) + list(r.views.training):
        for c in p.curves:
            seen.setdefault(c.key, _generic(c.label).replace("'", "’"))
    return list(seen.items())


def _controls(r) -> list[Control]:
    names = list(r.datasets)
    return [Control("dataset", "Dataset", "select", names[0], [(n, f"{n} ({r.datasets[n].hidden} hidden units)", "")
                                                               for n in names],
                    help="The charts of the first three sections show this dataset; the time-to-split chart shows each "
                         "dataset whose time to split could be fitted, named above it."),
            Control("condition", "Condition", "select", "", [("", "all conditions", "")] +
                    [(k, lab, "") for k, lab in _conditions(r)],
                    help="Show one starting condition alone (with the range over seeds as a band), or all of them.")]


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


def _chart(name, spec, caption, data) -> Chart:
    return Chart(name, spec, caption, datasets=_used(data, spec))


def _stay(r, data) -> Section:
    keys, labels = zip(*_conditions(r))
    lows = {_ds_name(p.title): p.floor / 2 ** (sum(c.zero for c in p.curves) + 1) for p in r.views.gap}
    highs = {}
    for p in r.views.gap:
        top = max([float(np.nanmax(np.asarray(c.hi, float))) for c in p.curves if np.any(np.asarray(c.hi) > 0)]
                  + [p.tol, p.floor])
        highs[_ds_name(p.title)] = 3 * top   # headroom: a line at the largest gap stays inside the plot
    spec = fig.fig_gap_conditions(list(keys), list(labels), list(r.datasets)[0], lows, highs)
    return Section(
        "Do identical units stay identical?",
        question="If every hidden unit starts as an exact copy of one unit, does gradient descent ever make them differ?",
        findings=_lines(r, "stay") + [_WHY], controls=_controls(r),
        figures=[_chart("gap_conditions", spec, _gap_caption(r), data)])


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
    return ("Bottom, distinct units -- " + "; ".join(bits) + ". Top: compare with the one-unit network "
            "(reddish purple) and the random start (blue).")


def _one_unit(r, data) -> Section:
    keys, labels = zip(*_conditions(r))
    return Section(
        "A network of identical units is a one-unit network",
        question="What can a network whose units are all identical learn?",
        findings=_lines(r, "one_unit"),
        figures=[_chart("training", fig.fig_training(list(keys), list(labels), list(r.datasets)[0]),
                        _training_caption(r), data)])


def _eps_dataset(r) -> str:
    return _ds_name(r.views.eps[0].title) if r.views.eps else list(r.datasets)[0]


def _breaks(r, data) -> Section:
    n_eps = max((len(p.curves) for p in r.views.eps), default=0)
    figs = ([_chart("gap_eps", fig.fig_gap_eps(_eps_dataset(r), n_eps), _eps_caption(r), data)]
            if any(p.curves for p in r.views.eps) else [])
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


def fitted_datasets(r) -> list[str]:
    """Datasets whose time to split was fitted (some seed has a finite fitted line): the ones the "How fast" text
    describes with a slope and R², and the ones its charts show."""
    return [_ds_name(p.title) for p in r.views.split_vs_eps if np.isfinite(np.asarray(p.fit_x, float)).all(axis=1).any()]


def _speed(r, data) -> Section:
    figs = [_chart(f"split_vs_eps_{ds}" if i else "split_vs_eps", fig.fig_split_vs_eps(ds),
                   f"{ds}: points on a straight line mean the split time grows like log(1/eps); the slope of each "
                   "seed's line is the delay per factor 10, set by how fast the gap grows.", data)
            for i, ds in enumerate(fitted_datasets(r))]
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
