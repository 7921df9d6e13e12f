"""The width study's result: every number, the report and the terminal summary."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ...reporting.model import Figure, Report, Section, Table
from ...reporting.figures import width as viz
from . import findings as fx
from .analysis import N_SPLITS_4, DatasetWidths
from .config import WidthConfig

__all__ = ["WidthResult"]

SHOWN_WIDTHS = (4, 16, 128)


@dataclass
class WidthResult:
    """Everything the width study measured.

    Attributes
    ----------
    config : WidthConfig
    datasets : dict of str -> DatasetWidths
    timings : dict of str -> seconds
    """

    config: WidthConfig
    datasets: dict
    timings: dict

    study = "width"

    # ---- numbers -------------------------------------------------------------------------
    def _width_json(self, d: DatasetWidths, w: int) -> dict:
        r = d.runs[w]
        out = {"accuracy": r.accuracy, "train_accuracy": r.train_accuracy, "dead_fraction": r.dead_fraction,
               "dead_units": [np.flatnonzero(x).tolist() for x in r.dead],
               "near_duplicate_pairs": r.dup_pairs, "units_with_near_duplicate": r.dup_units,
               "participation_ratio": r.participation, "frivolous_fraction": r.frivolous,
               "ablation_accuracy_change": r.ablation_delta, "final_train_loss": r.loss[:, -1],
               "loss_per_epoch": r.loss}
        if r.partitions is not None:
            out["distinct_partitions"] = r.partitions
            out["unit_splits"] = r.splits
        return out

    def dataset_json(self, d: DatasetWidths) -> dict:
        """Every number of one dataset: per width, per seed (and per unit where it applies)."""
        means = {m: fx.curve(d, m) for m in ("accuracy", "dead", "dup_pairs", "dup_units", "partitions",
                                            "participation", "frivolous")}
        return {"n_train": len(d.train), "n_eval": len(d.eval), "n_classes": d.train.n_classes,
                "widths": d.widths, "enough_width": fx.enough_width(d), "means_by_width": means,
                "per_width": {str(w): self._width_json(d, w) for w in d.widths},
                "findings": {"accuracy": fx.answer_accuracy(d), "niches": fx.answer_niches(d, self.config),
                             "dead": fx.answer_dead(d), "frivolous": fx.answer_frivolous(d, self.config),
                             "short": fx.answer_short(d)}}

    def to_json(self) -> dict:
        """Every number in the report."""
        return {"study": "width", "config": asdict(self.config), "seeds": self.config.seed_list,
                "datasets": {k: self.dataset_json(d) for k, d in self.datasets.items()}, "timings": self.timings}

    def weights(self) -> dict[str, np.ndarray]:
        """Final weights of every width, stacked over seeds: ``{dataset}/w{width}/{name}``."""
        out = {f"{ds}/w{w}/{k}": np.asarray(v) for ds, d in self.datasets.items() for w in d.widths
               for k, v in d.runs[w].params.items()}
        out["seeds"] = np.asarray(self.config.seed_list, dtype=np.int64)
        return out

    def summary_table(self) -> Table:
        """The terminal summary: one row per dataset and width."""
        rows = []
        for ds, d in self.datasets.items():
            for w in d.widths:
                r = d.runs[w]
                rows.append([ds, w, fx.pct(r.accuracy.mean()), fx.pct(r.dead_fraction.mean()),
                             fx.pct(np.nanmean(r.dup_units)) if np.isfinite(r.dup_units).any() else "–",
                             f"{r.partitions.mean():.1f}" if r.partitions is not None else "–",
                             f"{r.participation.mean():.1f}", fx.pct(r.frivolous.mean())])
        return Table(["data", "width", "acc.", "dead", "dup.", "splits", "PR", "frivolous"], rows,
                     f"width: {self.config.seeds} seed{'' if self.config.seeds == 1 else 's'} per width (means)")

    # ---- report --------------------------------------------------------------------------
    def to_report(self) -> Report:
        """The HTML report: question, measured answer and figures, one idea per section."""
        return Report(title="More units than needed: distinct niches or redundancy?",
                      summary=[fx.answer_short(d) for d in self.datasets.values()],
                      setup=self._setup(),
                      sections=[self._section_census(), self._section_niches(), self._section_dead(),
                                self._section_frivolous(), self._section_table()])

    def _setup(self) -> dict:
        c = self.config
        data = {"blobs": f"the lab's 4 blobs: trained on its 100 points, measured on {c.eval_samples} fresh points "
                         "from the same blobs (make_blobs random_state 1)",
                "digits": "scikit-learn digits, stratified split: trained on 75% of the 1797 images, measured on the "
                          "held-out 25%"}
        return {"data": "; ".join(data[d] for d in self.datasets),
                "model": "Dense(width, ReLU) 'L1' -> Dense(classes) 'L2', widths " + ", ".join(map(str, c.widths)),
                "training": f"{c.optimizer}, lr {c.lr}, batch {c.batch_size}, init {c.init}, "
                            + ", ".join(f"{c.epochs(d)} epochs on {d}" for d in self.datasets),
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

    def _series(self) -> tuple[list[int], dict]:
        widths = sorted({w for d in self.datasets.values() for w in d.widths})
        series = {}
        for name, d in self.datasets.items():
            meas = {}
            for key, attr in [("accuracy", "accuracy"), ("dead", "dead_fraction"), ("dup_units", "dup_units"),
                              ("partitions", "partitions"), ("participation", "participation"),
                              ("frivolous", "frivolous")]:
                vals = [np.asarray(getattr(d.runs[w], attr), dtype=float) if getattr(d.runs[w], attr) is not None
                        else np.full(len(d.seeds), np.nan) for w in widths]
                with np.errstate(all="ignore"):
                    meas[key] = tuple(np.array([f(v) if np.isfinite(v).any() else np.nan for v in vals])
                                      for f in (np.nanmean, np.nanmin, np.nanmax))
            series[name] = meas
        return widths, series

    def _section_census(self) -> Section:
        widths, series = self._series()
        findings = [line for d in self.datasets.values() for line in fx.answer_accuracy(d)]
        return Section(
            "The unit census against width",
            question="As the hidden layer widens, what happens to accuracy and to the units?",
            findings=findings,
            figures=[Figure(viz.fig_census(widths, series,
                                           frivolous_label=f"units removable for < {100 * self.config.ablation_cost:g}%"
                                                           " accuracy (%)", n_splits=N_SPLITS_4),
                            f"Points: mean over the {self.config.seeds} seed{'' if self.config.seeds == 1 else 's'} "
                            "at each width; error bars: the range from the lowest to the highest seed (not a "
                            "standard deviation). Read left to right: find the width where accuracy stops rising, then "
                            "see whether near-duplicates and removable units climb beyond it and how far the effective "
                            "dimension (participation ratio) stays below the diagonal.")])

    def _section_niches(self) -> Section:
        findings = [line for d in self.datasets.values() for line in fx.answer_niches(d, self.config)]
        figs = []
        if "blobs" in self.datasets:
            d = self.datasets["blobs"]
            shown = [w for w in SHOWN_WIDTHS if w in d.runs] or d.widths[-3:]
            ex = [{"width": w, "seed": int(d.seeds[0]), "W": d.runs[w].params["L1.linear.weight"][0],
                   "b": d.runs[w].params["L1.linear.bias"][0], "keys": d.runs[w].splits[0]} for w in shown]
            figs.append(Figure(viz.fig_unit_lines(ex, d.eval.X, d.eval.y),
                               "Count the colours, not the lines: however many units there are, their lines fall into a "
                               "few bundles, one per way of splitting the classes."))
        return Section("Distinct niches or copies?",
                       question="Do the extra units find niches of their own, or copy niches already taken?",
                       findings=findings, figures=figs)

    def _section_dead(self) -> Section:
        return Section("Dead units", question="Do wider layers waste units that never fire?",
                       findings=[line for d in self.datasets.values() for line in fx.answer_dead(d)])

    def _section_frivolous(self) -> Section:
        return Section("Does any single unit still matter?",
                       question="If one unit is removed, how much accuracy is lost?",
                       findings=[line for d in self.datasets.values() for line in fx.answer_frivolous(d, self.config)])

    def _section_table(self) -> Section:
        tables = []
        for name, d in self.datasets.items():
            rows = []
            for w in d.widths:
                r = d.runs[w]
                rows.append([w, fx.pct(r.accuracy.mean()), fx.pct(r.train_accuracy.mean()),
                             fx.pct(r.dead_fraction.mean()), f"{r.dup_pairs.mean():.1f}",
                             fx.pct(np.nanmean(r.dup_units)) if np.isfinite(r.dup_units).any() else "–",
                             f"{r.partitions.mean():.1f}" if r.partitions is not None else "–",
                             f"{r.participation.mean():.2f}", fx.pct(r.frivolous.mean()),
                             fx.pct(float(np.median(-r.ablation_delta.min(axis=1))))])
            tables.append(Table(["width", "accuracy", "train accuracy", "dead", "near-duplicate pairs",
                                 "live units with a near-duplicate", "class splits", "participation ratio",
                                 "frivolous units", "cost of the most important unit"], rows,
                                f"{name}: means over {len(d.seeds)} seed{'' if len(d.seeds) == 1 else 's'}"))
        return Section("Every width", question="What did each width end with?", tables=tables)
