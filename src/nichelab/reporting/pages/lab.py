"""The lab study's page: one seed as the lab shows it, then the census over seeds."""
from __future__ import annotations

import numpy as np

from ...studies.lab.config import OUTCOMES
from ...studies.text import num, pct
from ...train.divergence import RULE as DIVERGENCE_RULE
from ..figures import lab as fig
from ..model import Figure, Report, Section, Table
from ..style import FigurePool

__all__ = ["page", "summary_table"]


def summary_table(r) -> Table:
    """The terminal summary: outcome counts, shares and median accuracy."""
    s = r.summary
    n = len(r.seeds)
    rows = [[o, str(s["outcome_counts"][o]), pct(s["outcome_counts"][o] / n),
             pct(s["median_accuracy_by_outcome"][o], 1) if o in s["median_accuracy_by_outcome"] else "–"]
            for o in OUTCOMES]
    if s["outcome_counts"].get("diverged"):
        rows.append(["diverged", str(s["outcome_counts"]["diverged"]), pct(s["outcome_counts"]["diverged"] / n), "–"])
    c = r.config
    return Table(["outcome", "seeds", "share", "median accuracy"], rows,
                 f"lab: {n} seeds, hidden={c.hidden}, init={c.init}")


def page(r) -> Report:
    """The HTML report: question, measured answer and figures, one idea per section.

    Figures are rendered in parallel worker processes (:class:`~nichelab.reporting.style.FigurePool`).
    """
    with FigurePool() as pool:
        report = Report(title=_title(r), summary=_summary(r), setup=_setup(r),
                        sections=[_one_seed(r, pool), _training(r, pool), _niches(r, pool), _failures(r, pool),
                                  _table(r)])
    for section in report.sections:
        for f in section.figures:
            f.png = FigurePool.resolve(f.png)
    return report


def _title(r) -> str:
    h = r.config.hidden
    units = "the two hidden units" if h == 2 else ("the hidden unit" if h == 1 else f"the {h} hidden units")
    return f"What do {units} of the multiclass lab learn?"


def _summary(r) -> list[str]:
    niches = r.findings["niches"]
    return [niches[0]] + ([niches[-1]] if r.config.hidden == 2 and len(niches) > 2 else [])


def _setup(r) -> dict:
    c, d = r.config, r.data
    return {"data": f"4 blobs, {c.samples} points (make_blobs, centres {d.get('centers')}, std 1, random_state 30)",
            "model": f"Dense({c.hidden}, ReLU) 'L1' → Dense(4, linear) 'L2'; init {c.init}",
            "training": f"{c.optimizer}, lr {c.lr}, {c.epochs} epochs, batch {c.batch_size}, softmax cross-entropy",
            "seeds": f"{c.seeds} ({c.first_seed}–{c.first_seed + c.seeds - 1}), all trained at once",
            "shown seed": str(c.show_seed),
            "a class is 'active' for a unit": "when more than half of its points give the unit a positive output",
            "outcomes": "distinct: units split the classes differently and every class is mostly right; "
                        "duplicate: two units make the same split of the classes (active on the same side or on "
                        "opposite sides); dead: a unit outputs 0 on every point; other: the rest; "
                        "diverged: training blew up (" + DIVERGENCE_RULE + "), left out of the other numbers"}


def _xy(r):
    return np.asarray(r.data["X"]), np.asarray(r.data["y"])


def _record(r, seed: int) -> dict:
    return next(p for p in r.per_seed if p["seed"] == seed)


def _one_seed(r, pool) -> Section:
    X, y = _xy(r)
    v = r.views["shown"]
    rec = _record(r, v["seed"])
    figs = [Figure(pool.draw(fig.fig_unit_planes, v, X, y),
                   "Each hidden unit outputs 0 on one side of its dashed line and grows linearly on the other: "
                   "look at which classes sit on the bright side."),
            Figure(pool.draw(fig.fig_decision_regions, v, X, y),
                   "The output layer combines the units: shaded regions are the predicted class; the lines are the "
                   "hidden units'.")]
    if v.get("diverged"):
        figs = []
    elif "logit_planes" in v:
        figs.insert(1, Figure(pool.draw(fig.fig_output_logits, v, y),
                              "In the plane of the two hidden activations the classes become separable: each output "
                              "unit's logit is largest where its own class lies."))
    return Section(
        f"One seed, seen like the lab (seed {v['seed']})",
        question="What does each hidden unit of one trained network respond to?",
        findings=([f"Seed {v['seed']} diverged: its training blew up (loss or weights infinite or NaN, or a "
                   f"last training loss above 10 ln 4), so it has no niches to show; pick another with --show-seed."]
                  if v.get("diverged") else
                  [f"Seed {v['seed']} reached accuracy {pct(rec['accuracy'])} (loss {rec['loss']:.3f}); "
                   f"outcome: {rec['outcome']}."] + [line + "." for line in rec["description"].split("; ")]),
        figures=figs)


def _training(r, pool) -> Section:
    X, y = _xy(r)
    v = r.views["shown"]
    snaps = {int(e): {"L1.linear.weight": w["W"], "L1.linear.bias": w["b"]} for e, w in v["snapshots"].items()}
    figs = [Figure(pool.draw(fig.fig_training_lines, snaps, X, y, v["seed"]),
                   "Watch the random lines of epoch 0 rotate and slide until each settles between groups of classes.")]
    if r.config.hidden >= 2:
        rel = {k: (d["share_distinct"], d["n_seeds"]) for k, d in r.summary["distinct_share_by_initial_splits"].items()}
        figs.append(Figure(pool.draw(fig.fig_init_geometry, np.asarray(r.views["initial_angle_deg"], float),
                                     list(r.views["outcome"]), OUTCOMES, rel),
                           "Left (each outcome's seeds sum to 100%): if one outcome needed a particular starting "
                           "angle, its curve would sit apart. Right: compare the bars to see whether starting with "
                           "different splits helps."))
    return Section("From random weights to niches", question="How do distinct units arise from random weights?",
                   findings=r.findings["origin"], figures=figs)


def _niches(r, pool) -> Section:
    s, n = r.summary, len(r.seeds)
    freq = list(s["split_shares"].items())
    n_units = n * r.config.hidden
    return Section(
        "How often does each unit find its own niche?",
        question=f"Over {n} seeds, do the units split the classes differently, die, or duplicate each other?",
        findings=r.findings["niches"],
        figures=[Figure(pool.draw(fig.fig_outcome_shares, s["outcome_counts"], n),
                        "The tallest bar is the most common fate of a seed."),
                 Figure(pool.draw(fig.fig_splits, freq, n_units),
                        "Each bar is a way to cut the four classes in two; long bars are the niches units find most "
                        "often.")],
        tables=[Table(["split (class-0 side | other side)", "share of units"], [[k, pct(v)] for k, v in freq],
                      "Splits implemented by hidden units, over all seeds")])


def _failures(r, pool) -> Section:
    X, y = _xy(r)
    ex = r.views["examples"]
    notes = [f"Example {e['outcome']} seed {e['seed']}: " + _record(r, e["seed"])["description"] for e in ex]
    return Section(
        "What happens when units duplicate or die?",
        question="When two units learn the same thing, or one goes silent, what does the network lose?",
        findings=r.findings["failures"],
        figures=[Figure(pool.draw(fig.fig_accuracy_by_outcome, np.asarray(r.views["accuracy"], float),
                                  list(r.views["outcome"]), OUTCOMES),
                        "Each dot is a seed: compare the height of the groups to see what a lost niche costs."),
                 *([Figure(pool.draw(fig.fig_examples, ex, X, y),
                           "One seed of each outcome that occurred: see which classes end up sharing a shaded region "
                           "when a niche is lost.")] if ex else []),
                 Figure(pool.draw(fig.fig_loss_curves, r.views["loss_bands"], OUTCOMES),
                        "Curves that flatten high belong to outcomes that lost a niche: compare where each median "
                        "line ends.")],
        notes=notes)


def _table(r) -> Section:
    rows = [[p["seed"], p["outcome"], pct(p["accuracy"]), num(p["loss"]), p["description"]] for p in r.per_seed]
    return Section("Every seed", question="What did each seed end with?",
                   tables=[Table(["seed", "outcome", "accuracy", "loss", "units"], rows)])
