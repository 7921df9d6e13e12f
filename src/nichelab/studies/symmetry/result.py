"""The symmetry study's result: every number, the report and the terminal summary."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ...reporting.model import Figure, Report, Section, Table
from ...reporting.figures import symmetry as viz
from . import findings as fx
from .analysis import ConditionRun, DatasetRun
from .config import SymmetryConfig

__all__ = ["SymmetryResult"]

SHOWN_EPS = 1e-6     # the perturbation drawn beside the other conditions (the nearest one tried)


@dataclass
class SymmetryResult:
    """Everything the symmetry study measured.

    Attributes
    ----------
    config : SymmetryConfig
    datasets : dict of str -> DatasetRun
    timings : dict of str -> seconds
    """

    config: SymmetryConfig
    datasets: dict
    timings: dict

    study = "symmetry"

    # ---- numbers -------------------------------------------------------------------------
    @staticmethod
    def _condition_json(r: ConditionRun) -> dict:
        c = r.condition
        return {"label": c.label, "init": c.init, "eps": c.eps, "dropout": c.dropout, "optimizer": c.optimizer,
                "hidden": r.final["L1.linear.weight"].shape[1], "source_unit": r.source,
                "accuracy": r.accuracy[:, -1], "loss": r.loss[:, -1],
                "final_max_gap": r.max_gap[:, -1], "largest_gap_any_step": r.max_gap.max(axis=1),
                "distinct_units_final": r.distinct[:, -1], "split_step": r.split_step,
                "growth_rate_per_step": r.growth, "steps_per_epoch": r.steps_per_epoch,
                "curves": {"max_gap_per_step": _sig(r.max_gap),
                           "mean_gap_per_epoch": _sig(r.mean_gap[:, ::r.steps_per_epoch]),
                           "loss_per_epoch": _sig(r.loss), "accuracy_per_epoch": r.accuracy,
                           "distinct_units_per_epoch": r.distinct}}

    def dataset_json(self, d: DatasetRun) -> dict:
        """Every number of one dataset."""
        zeros = d.runs.get("zeros")
        return {"hidden": d.hidden, "n_samples": d.n_samples, "n_classes": d.n_classes, "seeds": d.seeds,
                "typical_initial_norm": d.norm0, "split_tolerance": d.tol,
                "conditions": {n: self._condition_json(r) for n, r in d.runs.items()},
                "time_to_split": fx.speed_numbers(d) | {"seed_fits": d.seed_fits},
                "one_unit_collapse_max_logit_difference": d.collapse_error,
                "class_frequency_entropy": d.prior_loss,
                "zero_init_max_abs": ({k: float(np.abs(v).max()) for k, v in zeros.final.items()} if zeros else None),
                "findings": self._findings(d)}

    def _findings(self, d: DatasetRun) -> dict:
        return {"stay": fx.answer_stay(d), "one_unit": fx.answer_one_unit(d), "breaks": fx.answer_breaks(d),
                "speed": fx.answer_speed(d), "zero": fx.answer_zero(d)}

    def to_json(self) -> dict:
        """Every number in the report: config, seeds, per dataset and condition, per step and epoch."""
        return {"study": "symmetry", "config": asdict(self.config), "seeds": self.config.seed_list,
                "datasets": {k: self.dataset_json(d) for k, d in self.datasets.items()}, "timings": self.timings}

    def weights(self) -> dict[str, np.ndarray]:
        """Initial and final weights of every condition, stacked over seeds: ``{dataset}/{condition}/{initial|final}.{name}``."""
        out = {}
        for ds, d in self.datasets.items():
            for name, r in d.runs.items():
                for when, params in (("initial", r.initial), ("final", r.final)):
                    for k, v in params.items():
                        out[f"{ds}/{name}/{when}.{k}"] = np.asarray(v)
        out["seeds"] = np.asarray(self.config.seed_list, dtype=np.int64)
        return out

    def summary_table(self) -> Table:
        """The terminal summary: per dataset, the main conditions."""
        rows = []
        for ds, d in self.datasets.items():
            for r in self._main_runs(d):
                n_split = int(np.isfinite(r.split_step).sum())
                split = (f"{np.nanmedian(r.split_step):.0f} ({n_split}/{len(d.seeds)})" if n_split else "never")
                rows.append([ds, r.name, fx.pct(r.accuracy[:, -1].mean()),
                             fx.fmt_gap(float(r.max_gap[:, -1].max())), f"{r.distinct[:, -1].mean():.3g}", split])
        return Table(["data", "condition", "acc.", "gap at end", "distinct", "split step"],
                     rows, f"symmetry: {self.config.seeds} seed{'' if self.config.seeds == 1 else 's'} per condition; split step = median (seeds split)")

    def _main_runs(self, d: DatasetRun) -> list[ConditionRun]:
        names = ["random", "symmetric", "one unit", "symmetric+dropout"]
        eps = d.eps_runs()
        shown = [eps[0], self._shown_eps(d), eps[-1]] if eps else []
        out = [d.runs[n] for n in names if n in d.runs]
        for r in shown:
            if r not in out:
                out.append(r)
        return out + ([d.runs["zeros"]] if "zeros" in d.runs else [])

    @staticmethod
    def _shown_eps(d: DatasetRun) -> ConditionRun | None:
        eps = d.eps_runs()
        return min(eps, key=lambda r: abs(math.log(r.condition.eps / SHOWN_EPS))) if eps else None

    # ---- report --------------------------------------------------------------------------
    def to_report(self) -> Report:
        """The HTML report: question, measured answer and figures, one idea per section."""
        ds = list(self.datasets.values())
        summary = [fx.answer_stay(d)[0] for d in ds] + [fx.answer_one_unit(d)[0] for d in ds[:1]]
        summary += [fx.answer_breaks(d)[2] for d in ds[:1] if len(fx.answer_breaks(d)) > 2]
        summary += [fx.answer_speed(d)[-1] for d in ds[:1]]
        return Report(title="Why do hidden units differ at all? Identical units under gradient descent",
                      summary=summary, setup=self._setup(),
                      sections=[self._section_stay(), self._section_one_unit(), self._section_breaks(),
                                self._section_speed(), self._section_zero(), self._section_tables()])

    def _setup(self) -> dict:
        c = self.config
        data = {"blobs": "the lab's 4 blobs (100 points, make_blobs random_state 30)",
                "digits": "scikit-learn digits (1797 images of 8x8 pixels, 10 classes)"}
        out = {"data": "; ".join(data[d] for d in self.datasets),
               "model": "; ".join(f"{d}: Dense({self.config.hidden(d)}, ReLU) 'L1' -> Dense(classes) 'L2'"
                                  for d in self.datasets),
               "training": f"{c.optimizer}, lr {c.lr}, batch {c.batch_size}, "
                           + ", ".join(f"{c.epochs(d)} epochs on {d}" for d in self.datasets)
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
        return out

    def _panels_gap(self) -> list[dict]:
        panels = []
        for name, d in self.datasets.items():
            keys = ["random", "symmetric+dropout"]
            shown = self._shown_eps(d)
            curves = []
            for r in [d.runs[k] for k in keys if k in d.runs] + ([shown] if shown else []) \
                    + [d.runs[k] for k in ("symmetric", "zeros") if k in d.runs]:
                g = r.max_gap
                curves.append((r.name, r.condition.label, np.median(g, axis=0), g.min(axis=0), g.max(axis=0)))
            panels.append({"title": f"{name}: {d.hidden} hidden units, {len(d.seeds)} seeds (band: all seeds)",
                           "tol": float(np.median(d.tol)), "curves": curves})
        return panels

    def _section_stay(self) -> Section:
        findings = [line for d in self.datasets.values() for line in fx.answer_stay(d)]
        return Section(
            "Identical units stay identical",
            question="If every hidden unit starts as an exact copy of one unit, does gradient descent ever make them differ?",
            findings=findings + ["Why: two units with the same incoming weights, bias and outgoing weights compute the "
                                 "same activation on every input and receive the same gradient, so every update "
                                 "moves them by the same amount (Fukumizu & Amari 2000; Saad & Solla 1995)."],
            figures=[Figure(viz.fig_gap_conditions(self._panels_gap()),
                            "The black line sits at the floor for the whole run: the symmetric network's units never "
                            "differ, while dropout and a 1e-6 perturbation pull them apart.")])

    def _panels_training(self) -> list[dict]:
        panels = []
        for name, d in self.datasets.items():
            shown = self._shown_eps(d)
            runs = [d.runs[k] for k in ("random", "symmetric", "one unit", "symmetric+dropout") if k in d.runs]
            runs += ([shown] if shown else []) + ([d.runs["zeros"]] if "zeros" in d.runs else [])
            panels.append({"title": f"{name} ({d.hidden} hidden units)", "hidden": d.hidden,
                           "curves": [(r.name, r.condition.label, r.accuracy.mean(axis=0), r.distinct.mean(axis=0))
                                      for r in runs]})
        return panels

    def _section_one_unit(self) -> Section:
        findings = [line for d in self.datasets.values() for line in fx.answer_one_unit(d)]
        return Section(
            "A symmetric network is a one-unit network",
            question="What can a network whose units are all identical learn?",
            findings=findings,
            figures=[Figure(viz.fig_training(self._panels_training()),
                            "Compare the black (symmetric) and purple (one unit) curves: same accuracy ceiling, and a "
                            "single distinct unit throughout; every tie-breaker climbs to the random network's level.")])

    def _section_breaks(self) -> Section:
        findings = [line for d in self.datasets.values() for line in fx.answer_breaks(d)]
        panels = []
        for name, d in self.datasets.items():
            curves = [(r.condition.eps, np.median(r.max_gap, axis=0),
                       float(np.nanmedian(r.split_step)) if np.isfinite(r.split_step).any() else float("nan"))
                      for r in d.eps_runs()]
            splits = [c[2] for c in curves if np.isfinite(c[2])]
            T = d.runs["symmetric"].max_gap.shape[1] - 1
            xmax = min(T, max(3 * max(splits), 4 * d.runs["symmetric"].steps_per_epoch)) if splits else T
            panels.append({"title": f"{name}: symmetric start + noise of size eps", "tol": float(np.median(d.tol)),
                           "curves": curves, "xmax": xmax})
        figs = [Figure(viz.fig_gap_eps(panels),
                       "Each perturbation starts the gap at its own height and grows it along nearly the same slope: "
                       "smaller eps only shifts the curve to the right.")] if any(p["curves"] for p in panels) else []
        return Section("What breaks the tie", question="What makes identical units become different, and how much does it take?",
                       findings=findings, figures=figs)

    def _section_speed(self) -> Section:
        findings = [line for d in self.datasets.values() for line in fx.answer_speed(d)]
        panels = []
        for name, d in self.datasets.items():
            eps_runs = d.eps_runs()
            if not eps_runs:
                continue
            split = np.array([[t if t > 0 else np.nan for t in (r.split_step[i] for r in eps_runs)]
                              for i in range(len(d.seeds))])
            panels.append({"title": f"{name} ({d.runs['symmetric'].steps_per_epoch} steps per epoch)",
                           "eps": [r.condition.eps for r in eps_runs], "split": split, "seeds": d.seeds,
                           "fits": [(f["slope"], f["intercept"]) for f in d.seed_fits]})
        figs = [Figure(viz.fig_split_vs_eps(panels),
                       "Points on a straight line mean the split time grows like log(1/eps); the slope is the delay "
                       "per factor 10, set by how fast the gap grows.")] if panels else []
        rows = []
        for name, d in self.datasets.items():
            n = fx.speed_numbers(d)
            for i, s in enumerate(d.seeds):
                f = d.seed_fits[i]
                rows.append([name, int(s), _num(f["slope"] * math.log(10)), _num(f["r2"], 3),
                             _num(n["seed_growth_per_step"][i], 4),
                             _num(math.log(10) / n["seed_growth_per_step"][i]
                                  if n["seed_growth_per_step"][i] > 0 else float("nan"))])
        tables = [Table(["data", "seed", "delay per factor 10 of eps (steps)", "R²", "growth rate λ (per step)",
                         "ln(10)/λ (steps)"], rows, "Time to split per seed: measured slope vs the growth rate")]
        return Section("How fast the tie breaks", question="How does the time until units split depend on the size of "
                       "the initial difference?", findings=findings, figures=figs, tables=tables)

    def _section_zero(self) -> Section:
        findings = [line for d in self.datasets.values() for line in fx.answer_zero(d)]
        return Section("All-zero initialisation", question="What if every weight starts at 0?", findings=findings)

    def _section_tables(self) -> Section:
        tables = []
        for name, d in self.datasets.items():
            rows = []
            for r in d.runs.values():
                n_split = int(np.isfinite(r.split_step).sum())
                rows.append([r.condition.label, fx.pct(r.accuracy[:, -1].mean()), f"{r.loss[:, -1].mean():.3f}",
                             fx.fmt_gap(float(r.max_gap[:, -1].max())), fx.fmt_gap(float(r.mean_gap[:, -1].mean())),
                             f"{r.distinct[:, -1].mean():.1f}",
                             f"{np.nanmedian(r.split_step):.0f} ({n_split}/{len(d.seeds)})" if n_split else "never",
                             _num(np.nanmedian(r.growth), 4) if np.isfinite(r.growth).any() else "–"])
            tables.append(Table(["condition", "accuracy (mean)", "loss (mean)", "largest gap at end (any seed)",
                                 "mean gap at end (mean over seeds)", "distinct units at end (mean)", "split step: median (seeds split)",
                                 "growth rate λ (median, per step)"], rows,
                                f"{name}: every condition ({d.hidden} hidden units, {len(d.seeds)} seeds)"))
        return Section("Every condition", question="What did each starting condition end with?", tables=tables)


def _sig(a: np.ndarray, digits: int = 4) -> list:
    """Round an array to ``digits`` significant digits for JSON (curves only; exact zeros stay 0)."""
    a = np.asarray(a, dtype=np.float64)
    return [[float(f"{v:.{digits}g}") for v in row] for row in a.reshape(len(a), -1)]


def _num(x: float, digits: int = 0) -> str:
    return f"{x:.{digits}f}" if np.isfinite(x) else "–"
