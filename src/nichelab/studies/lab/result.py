"""The lab study's result: every number, the report and the terminal summary."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ...data.base import Dataset
from ...report.model import Figure, Report, Section, Table
from ...train.ensemble import EnsembleResult, unstack
from ...viz import lab as viz
from ...viz.style import FigurePool
from .analysis import SeedAnalysis
from .config import OUTCOMES, LabConfig
from . import findings as fx

__all__ = ["LabResult"]


@dataclass
class LabResult:
    """Everything the lab study measured.

    Attributes
    ----------
    config : LabConfig
    data : Dataset
    ensemble : EnsembleResult — every seed's weights and loss curve.
    analysis : SeedAnalysis — per-seed partitions, outcomes, accuracy.
    shown_snapshots : dict of epoch -> weights of the shown seed.
    timings : dict of str -> seconds.
    """

    config: LabConfig
    data: Dataset
    ensemble: EnsembleResult
    analysis: SeedAnalysis
    shown_snapshots: dict
    timings: dict

    study = "lab"

    # ---- numbers -------------------------------------------------------------------------
    def seed_records(self) -> list[dict]:
        """One record per seed: seed, loss, accuracy, outcome, per-class accuracy, units."""
        a, H = self.analysis, self.config.hidden
        return [{
            "seed": int(a.seeds[i]), "loss": float(a.loss[i]), "accuracy": float(a.accuracy[i]),
            "outcome": a.outcome[i], "class_accuracy": a.recall[i].tolist(),
            "initial_angle_deg": float(a.init_angle[i]),
            "final_train_loss": float(self.ensemble.loss[i, -1]) if self.ensemble.loss.shape[1] else None,
            "units": [{"name": f"L1:{h}", "active_classes": np.flatnonzero(a.active[i, h]).tolist(),
                       "silent_classes": np.flatnonzero(~a.active[i, h]).tolist(), "split": a.splits[i][h],
                       "dead": bool(a.dead[i, h]),
                       "initial_active_classes": np.flatnonzero(a.init_active[i, h]).tolist()}
                      for h in range(H)],
        } for i in range(len(a.seeds))]

    def summary_numbers(self) -> dict:
        """Outcome shares, split frequencies, accuracy by outcome, initial-split retention."""
        a = self.analysis
        counts = fx.outcome_counts(a)
        acc = {o: float(np.median(a.accuracy[[i for i, x in enumerate(a.outcome) if x == o]]))
               for o in OUTCOMES if counts[o]}
        return {"outcome_counts": counts, "outcome_shares": {o: counts[o] / len(a.seeds) for o in OUTCOMES},
                "split_shares": dict(fx.split_frequencies(a)), "median_accuracy_by_outcome": acc,
                "lab_story_share": fx.lab_story_share(a) if self.config.hidden == 2 else None,
                "kept_initial_split_share": fx.keep_initial_split(a),
                "distinct_share_by_initial_splits": {k: {"share_distinct": v[0], "n_seeds": v[1]}
                                                     for k, v in fx.initial_relation(a).items()},
                "mean_accuracy": float(a.accuracy.mean())}

    def to_json(self) -> dict:
        """Every number in the report (config, seeds, summary, per-seed records, shown seed's history)."""
        return {"study": "lab", "config": asdict(self.config), "seeds": self.config.seed_list,
                "data": {"name": self.data.name, "n_samples": len(self.data), **self.data.meta},
                "summary": self.summary_numbers(), "per_seed": self.seed_records(),
                "loss_curves": self.ensemble.loss, "timings": self.timings}

    def weights(self) -> dict[str, np.ndarray]:
        """Every seed's final weights, stacked on axis 0, plus initial weights and the seed list."""
        out = {k: v for k, v in self.ensemble.params.items()}
        out.update({f"initial.{k}": v for k, v in self.ensemble.snapshots[0].items()})
        out["seeds"] = np.asarray(self.ensemble.seeds, dtype=np.int64)
        return out

    def summary_table(self) -> Table:
        """The terminal summary: outcome shares and accuracy."""
        a, counts = self.analysis, fx.outcome_counts(self.analysis)
        rows = []
        for o in OUTCOMES:
            idx = [i for i, x in enumerate(a.outcome) if x == o]
            acc = f"{100 * np.median(a.accuracy[idx]):.1f}%" if idx else "–"
            rows.append([o, str(counts[o]), fx.pct(counts[o] / len(a.seeds)), acc])
        return Table(["outcome", "seeds", "share", "median accuracy"], rows,
                     f"lab: {len(a.seeds)} seeds, hidden={self.config.hidden}, init={self.config.init}")

    # ---- report --------------------------------------------------------------------------
    def _draw(self, fn, *args):
        return self._pool.draw(fn, *args) if getattr(self, "_pool", None) else fn(*args)

    def to_report(self) -> Report:
        """The HTML report: question, measured answer and figures, one idea per section.

        Figures are rendered in parallel worker processes (see :class:`nichelab.viz.style.FigurePool`).
        """
        with FigurePool() as self._pool:
            report = self._build_report()
        self._pool = None
        for section in report.sections:
            for fig in section.figures:
                fig.png = FigurePool.resolve(fig.png)
        return report

    def _build_report(self) -> Report:
        a, cfg = self.analysis, self.config
        n, counts = len(a.seeds), fx.outcome_counts(a)
        summary = [fx.answer_niches(a)[0]]
        if cfg.hidden == 2:
            summary.append(fx.answer_niches(a)[-1])
        return Report(
            title="What do the two hidden units of the multiclass lab learn?",
            summary=summary,
            setup=self._setup(),
            sections=[self._section_one_seed(), self._section_training(), self._section_niches(),
                      self._section_failures(), self._section_table()],
        )

    def _setup(self) -> dict:
        c = self.config
        return {"data": f"4 blobs, {c.samples} points (make_blobs, centres {self.data.meta['centers']}, std 1, random_state 30)",
                "model": f"Dense({c.hidden}, ReLU) 'L1' → Dense(4, linear) 'L2'; init {c.init}",
                "training": f"{c.optimizer}, lr {c.lr}, {c.epochs} epochs, batch {c.batch_size}, softmax cross-entropy",
                "seeds": f"{c.seeds} ({c.first_seed}–{c.first_seed + c.seeds - 1}), all trained at once",
                "shown seed": str(c.show_seed),
                "a class is 'active' for a unit": "when more than half of its points give the unit a positive output",
                "outcomes": "distinct: units split the classes differently and every class is mostly right; "
                            "duplicate: two units make the same split of the classes (active on the same side or on opposite sides); dead: a unit outputs 0 on every point; other: the rest"}

    def _shown(self) -> tuple[int, dict]:
        i = self.config.seed_list.index(self.config.show_seed)
        return i, unstack(self.ensemble.params, i)

    def _section_one_seed(self) -> Section:
        i, w = self._shown()
        a, X, y, s = self.analysis, self.data.X, self.data.y, self.config.show_seed
        figs = [Figure(self._draw(viz.fig_unit_planes, w, X, y, s),
                       "Each hidden unit outputs 0 on one side of its dashed line and grows linearly on the other: "
                       "look at which classes sit on the bright side."),
                Figure(self._draw(viz.fig_decision_regions, w, X, y, s),
                       "The output layer combines the units: shaded regions are the predicted class; the lines are the hidden units'.")]
        if self.config.hidden == 2:
            figs.insert(1, Figure(self._draw(viz.fig_output_logits, w, X, y, s),
                                  "In the plane of the two hidden activations the classes become separable: each output "
                                  "unit's logit is largest where its own class lies."))
        return Section(
            f"One seed, seen like the lab (seed {s})",
            question="What does each hidden unit of one trained network respond to?",
            findings=[f"Seed {s} reached accuracy {fx.pct(a.accuracy[i])} (loss {a.loss[i]:.3f}); outcome: {a.outcome[i]}."]
            + [line + "." for line in fx.describe_seed(a, i)],
            figures=figs)

    def _section_training(self) -> Section:
        a = self.analysis
        figs = [Figure(self._draw(viz.fig_training_lines, self.shown_snapshots, self.data.X, self.data.y, self.config.show_seed),
                       "Watch the random lines of epoch 0 rotate and slide until each settles between groups of classes.")]
        if self.config.hidden >= 2:
            figs.append(Figure(self._draw(viz.fig_init_geometry, a.init_angle, a.outcome, OUTCOMES, fx.initial_relation(a)),
                               "Left (each outcome's seeds sum to 100%): if one outcome needed a particular starting angle, its curve would sit apart. "
                               "Right: compare the bars to see whether starting with different splits helps."))
        return Section("From random weights to niches", question="How do distinct units arise from random weights?",
                       findings=fx.answer_origin(a), figures=figs)

    def _section_niches(self) -> Section:
        a = self.analysis
        n, counts, freq = len(a.seeds), fx.outcome_counts(a), fx.split_frequencies(a)
        return Section(
            "How often does each unit find its own niche?",
            question=f"Over {n} seeds, do the units split the classes differently, die, or duplicate each other?",
            findings=fx.answer_niches(a),
            figures=[Figure(self._draw(viz.fig_outcome_shares, counts, n), "The tallest bar is the most common fate of a seed."),
                     Figure(self._draw(viz.fig_splits, freq, a.dead.size),
                            "Each bar is a way to cut the four classes in two; long bars are the niches units find most often.")],
            tables=[Table(["split (class-0 side | other side)", "share of units"], [[k, fx.pct(v)] for k, v in freq],
                          "Splits implemented by hidden units, over all seeds")])

    def _section_failures(self) -> Section:
        a = self.analysis
        examples = []
        for o in OUTCOMES:
            idx = [i for i, x in enumerate(a.outcome) if x == o]
            if idx:
                examples.append((o, int(a.seeds[idx[0]]), unstack(self.ensemble.params, idx[0])))
        notes = [f"Example {o} seed {s}: " + "; ".join(fx.describe_seed(a, self.config.seed_list.index(s)))
                 for o, s, _ in examples]
        return Section(
            "What happens when units duplicate or die?",
            question="When two units learn the same thing, or one goes silent, what does the network lose?",
            findings=fx.answer_failures(a),
            figures=[Figure(self._draw(viz.fig_accuracy_by_outcome, a.accuracy, a.outcome, OUTCOMES),
                            "Each dot is a seed: compare the height of the groups to see what a lost niche costs."),
                     Figure(self._draw(viz.fig_examples, examples, self.data.X, self.data.y),
                            "One seed of each outcome that occurred: see which classes end up sharing a shaded region when a niche is lost."),
                     Figure(self._draw(viz.fig_loss_curves, self.ensemble.loss, a.outcome, OUTCOMES),
                            "Curves that flatten high belong to outcomes that lost a niche: compare where each median line ends.")],
            notes=notes)

    def _section_table(self) -> Section:
        a = self.analysis
        rows = [[int(a.seeds[i]), a.outcome[i], fx.pct(a.accuracy[i]), f"{a.loss[i]:.3f}",
                 "; ".join(fx.describe_seed(a, i))] for i in range(len(a.seeds))]
        return Section("Every seed", question="What did each seed end with?",
                       tables=[Table(["seed", "outcome", "accuracy", "loss", "units"], rows)])
