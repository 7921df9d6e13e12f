"""The transfer study's result: every number, the report and the terminal summary."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ...data.tasks import TaskData
from ...reporting.model import Figure, Report, Section, Table
from ...reporting.figures import transfer as viz
from . import findings as fx
from .analysis import REF_SEED, REF_UNTRAINED, ArchRun, stats
from .config import INIT_OFFSET, TransferConfig
from .cut import CONDITION_INFO, CONDITIONS

__all__ = ["TransferResult"]

_CONDITION_TEXT = {
    "BnB": "first n blocks copied from baseB, frozen; the rest re-initialised and trained on B (selffer)",
    "BnB+": "as BnB, but every block fine-tuned on B",
    "AnB": "first n blocks copied from baseA, frozen; the rest re-initialised and trained on B (transfer)",
    "AnB+": "as AnB, but every block fine-tuned on B",
    "random": "first n blocks left at their random initialisation and frozen; the rest trained on B (control)",
}


@dataclass
class TransferResult:
    """Everything the transfer study measured.

    Attributes
    ----------
    config : TransferConfig
    sources : list of TaskData
        Source tasks A.
    target : TaskData
        Target task B.
    kinds : dict of str -> str
        ``"similar"`` or ``"dissimilar"`` per source task text.
    runs : list of ArchRun
        One per architecture.
    timings : dict of str -> seconds
    """

    config: TransferConfig
    sources: list
    target: TaskData
    kinds: dict
    runs: list
    timings: dict

    study = "transfer"

    # ---- helpers ---------------------------------------------------------------------------
    @property
    def labels(self) -> dict:
        """Readable name of each source task, keyed by its text."""
        return {str(s.spec): s.spec.label for s in self.sources}

    def _pair(self, src: str) -> str:
        return fx.pair_name(self.labels[src], self.target.spec.label, self.kinds[src])

    @property
    def margin(self) -> float:
        return float(self.config.margin)

    def _curve_records(self, run: ArchRun) -> list[dict]:
        out = []
        for cond in CONDITIONS:
            srcs = list(run.base_a) if CONDITION_INFO[cond][0] == "A" else [None]
            for src in srcs:
                acc = run.curve(cond, src)
                sd = acc.std(axis=1, ddof=1) if acc.shape[1] > 1 else np.zeros(len(acc))
                out.append({"condition": cond, "source": src, "n": run.cuts, "mean": acc.mean(axis=1),
                            "std": sd, "accuracy_per_seed": acc})
        return out

    def _findings(self, run: ArchRun) -> dict:
        m, labels = self.margin, self.labels
        pairs = {s: self._pair(s) for s in run.base_a}
        return {
            "generality": [fx.generality(run, s, pairs[s], m) for s in run.base_a],
            "coadaptation": [fx.coadaptation(run, m)[0]],
            "specificity": [fx.specificity(run, s, pairs[s], m)[0] for s in run.base_a],
            "finetuning": [fx.finetuning(run, s, pairs[s], m)[0] for s in run.base_a]
            + [self._bnb_plus(run)],
            "random_control": [fx.random_control(run, s, pairs[s], m)[0] for s in run.base_a],
            "dissimilar": [fx.dissimilar(run, self.kinds, labels, m)[0]],
            "cka": fx.cka_answer(run, labels),
        }

    def _bnb_plus(self, run: ArchRun) -> str:
        d = run.means("BnB+") - run.base_mean
        return (f"{fx.arch_name(run)}: selffer fine-tuned (BnB+) minus baseB: "
                + ", ".join(f"n={n}: {fx.spts(v)}" for n, v in zip(run.cuts, d))
                + f" points — {'within' if np.all(np.abs(d) <= self.margin) else 'not all within'} "
                f"{fx.pts(self.margin)} (same task, so no gain is expected).")

    # ---- numbers ---------------------------------------------------------------------------
    def _task_json(self, t: TaskData, kind: str | None) -> dict:
        return {"task": str(t.spec), "label": t.spec.label, "source": t.spec.source, "kind": kind,
                "classes": list(t.spec.classes), "n_train": len(t.train), "n_train_before_fraction": t.n_train_full,
                "n_test": len(t.test), "original_size": t.train.meta["original_size"],
                "image_shape": t.train.meta["image_shape"]}

    def summary_text(self) -> list[str]:
        """The short answer (same text as the report's summary)."""
        return fx.summary(self.runs, self.kinds, self.labels, self.margin, self.target.spec.label)

    def to_json(self) -> dict:
        """Every number in the report: config, tasks, curves, every cell per seed, CKA, effects, findings."""
        archs = []
        for run in self.runs:
            archs.append({
                "model": run.spec, "blocks": run.blocks, "cuts": run.cuts,
                "baseB_accuracy_on_B": stats(run.base_b.accuracy),
                "baseA_accuracy_on_A": {s: stats(b.accuracy) for s, b in run.base_a.items()},
                "curves": self._curve_records(run),
                "cells": run.cell_records(),
                "cka": {"layers": run.cka.layers, "n_samples": run.cka.n_samples, "inputs": "B's test set",
                        "conv_maps": "flattened to channels x height x width features",
                        "linear": run.cka.rows, "linear_debiased": run.cka.debiased},
                "effects": [asdict(e) for e in fx.effects(run, self.kinds, self.labels, self.margin)],
                "findings": self._findings(run),
                "timings": run.timings,
            })
        return {"study": "transfer", "config": asdict(self.config), "seeds": self.config.seed_list,
                "init_offset": INIT_OFFSET, "margin": self.margin,
                "tasks": {"target": self._task_json(self.target, None),
                          "sources": [self._task_json(s, self.kinds[str(s.spec)]) for s in self.sources]},
                "summary": self.summary_text(), "architectures": archs, "timings": self.timings}

    def weights(self) -> dict[str, np.ndarray]:
        """Every network's final weights, seeds stacked on axis 0: ``"<model>/baseB/<param>"``,
        ``"<model>/baseA/<source>/<param>"``, ``"<model>/<condition>/n<k>[/<source>]/<param>"``."""
        out: dict[str, np.ndarray] = {"seeds": np.asarray(self.config.seed_list, dtype=np.int64)}
        for run in self.runs:
            slug = run.spec.replace(" ", "_")
            out.update({f"{slug}/baseB/{k}": v for k, v in run.base_b.ensemble.params.items()})
            for src, b in run.base_a.items():
                out.update({f"{slug}/baseA/{src}/{k}": v for k, v in b.ensemble.params.items()})
            for c in run.cells:
                out.update({f"{slug}/{c.key}/{k}": v for k, v in c.params.items()})
        return out

    def summary_table(self) -> Table:
        """The terminal summary: mean accuracy on B of every condition at every cut."""
        rows = []
        width = max(len(r.cuts) for r in self.runs)
        for run in self.runs:
            rows.append([run.kind, "baseB", "", fx.pct(run.base_mean)] + [""] * (width - 1))
            for cond in CONDITIONS:
                srcs = list(run.base_a) if CONDITION_INFO[cond][0] == "A" else [None]
                for s in srcs:
                    m = run.means(cond, s)
                    rows.append([run.kind, cond, self.labels[s] if s else "",
                                 *[fx.pct(v) for v in m], *[""] * (width - len(m))])
        return Table(["model", "condition", "source A"] + [f"n={n}" for n in range(1, width + 1)], rows,
                     f"transfer to {self.target.spec.label}: test accuracy on B, mean of {self.config.seeds} seeds")

    # ---- report ----------------------------------------------------------------------------
    def to_report(self) -> Report:
        """The HTML report: question, setup, measured answers, figures and every number."""
        sections = [self._section_tasks()]
        sections += [self._section_arch(run) for run in self.runs]
        sections += [self._section_pairs(), self._section_cka(), self._section_effects(), self._section_numbers()]
        return Report(title="Which layers are general, which specific? Layer-by-layer transfer",
                      summary=self.summary_text(), setup=self._setup(), sections=sections)

    def _setup(self) -> dict:
        c, t = self.config, self.target
        h, w = t.train.meta["image_shape"][1:]
        src = "; ".join(f"{self.labels[str(s.spec)]} ({self.kinds[str(s.spec)]}, {len(s.train)} train / "
                        f"{len(s.test)} test, from {s.train.meta['original_size'][0]}×{s.train.meta['original_size'][1]})"
                        for s in self.sources)
        frac = (f", {c.target_fraction:g} of its {t.n_train_full} training images" if c.target_fraction < 1 else "")
        return {
            "target task B": f"{t.spec.label}: {len(t.train)} train{frac} / {len(t.test)} test images",
            "source tasks A": src,
            "inputs": f"grayscale {h}×{w}, values 0–1; sources resized with skimage.transform.resize (anti-aliased)",
            "splits": f"stratified, {c.test_fraction:g} of each task held out for testing (split seed {c.split_seed})",
            "models": "; ".join(f"{r.spec}: blocks {', '.join(r.blocks)} (cuts n = 1..{len(r.blocks) - 1})"
                                for r in self.runs),
            "training": f"{c.optimizer}, lr {c.lr}, {c.epochs} epochs, batch {c.batch_size}, init {c.init}, "
                        "softmax cross-entropy; the same for base networks and every cell",
            "seeds": f"{c.seeds} per cell ({c.first_seed}–{c.first_seed + c.seeds - 1}); seed s of a cell copies "
                     f"seed s of its base network; re-initialised blocks start from init seed {INIT_OFFSET} + s",
            "conditions": "; ".join(f"{k}: {v}" for k, v in _CONDITION_TEXT.items()),
            "margin": f"{100 * c.margin:g} percentage points: {fx.rule(c.margin)}; smaller differences count as "
                      "none, larger ones within twice the standard error as unclear",
            "CKA": "linear CKA (Kornblith et al. 2019) between baseA and baseB of the same seed, per hidden "
                   f"block, on B's {len(t.test)} test inputs; conv maps flattened",
        }

    def _section_tasks(self) -> Section:
        t = self.target
        tasks = [(f"A: {s.spec.label}", s.test.X, s.test.y, list(s.spec.classes)) for s in self.sources]
        tasks.append((f"B: {t.spec.label}", t.test.X, t.test.y, list(t.spec.classes)))
        rows = []
        for run in self.runs:
            rows.append([run.spec, f"baseB on B ({t.spec.label})", fx.pct(run.base_mean),
                         fx.pts(stats(run.base_b.accuracy)["std"])])
            for s, b in run.base_a.items():
                rows.append([run.spec, f"baseA on A ({self.labels[s]})", fx.pct(b.accuracy.mean()),
                             fx.pts(stats(b.accuracy)["std"])])
        return Section(
            "The tasks and the base networks",
            question="What are A and B, and how well do networks trained from scratch do on them?",
            findings=[f"B is {t.spec.label}; the sources are " + ", ".join(
                f"{self.labels[str(s.spec)]} ({self.kinds[str(s.spec)]})" for s in self.sources) + ". "
                "A similar source comes from the same image collection with other classes; a dissimilar one "
                "from another collection, brought to B's image size."],
            figures=[Figure(viz.fig_tasks(tasks), "Compare the rows: the similar source looks like B, the "
                            "dissimilar one shares only pixel statistics.")],
            tables=[Table(["model", "network", "test accuracy (mean)", "std over seeds"], rows,
                          "Base networks trained from scratch on their own task")])

    def _section_arch(self, run: ArchRun) -> Section:
        f = self._findings(run)
        panels = []
        for s in run.base_a:
            curves = {c: run.curve(c, s if CONDITION_INFO[c][0] == "A" else None) for c in CONDITIONS}
            panels.append((self._pair(s), curves))
        cka_rows = dict(run.cka.rows)
        fig = viz.fig_transfer(run.cuts, panels, run.base_b.accuracy, cka_rows, run.cka.layers,
                               f"{fx.arch_name(run)}: transfer curves and layer similarity",
                               source_names=self.labels)
        findings = f["generality"] + f["coadaptation"] + f["specificity"] + f["finetuning"] + f["random_control"]
        return Section(
            f"How transferable is each layer? {fx.arch_name(run)}",
            question="If the first n layers come from a network trained on A (or B, or nowhere), how well does "
                     "the network do on B?",
            findings=findings,
            figures=[Figure(fig, "Follow AnB (vermillion squares) against the grey baseB line: where it falls away, "
                                 "layers stop being general; the bottom row zooms in near baseB; the right panel "
                                 "shows how alike baseA's and baseB's layers are.")],
            tables=[self._arch_table(run)])

    def _arch_table(self, run: ArchRun) -> Table:
        rows = []
        for cond in CONDITIONS:
            for s in (list(run.base_a) if CONDITION_INFO[cond][0] == "A" else [None]):
                acc = run.curve(cond, s)
                rows.append([cond, self.labels[s] if s else "–"] +
                            [f"{100 * a.mean():.1f} ± {100 * (a.std(ddof=1) if a.size > 1 else 0):.1f}" for a in acc])
        return Table(["condition", "source A"] + [f"n={n}" for n in run.cuts], rows,
                     f"Test accuracy on B (%), mean ± std over {self.config.seeds} seeds; baseB "
                     f"{100 * run.base_mean:.1f} ± {100 * stats(run.base_b.accuracy)['std']:.1f}")

    def _section_pairs(self) -> Section:
        costs, cuts = [], self.runs[0].cuts
        for run in self.runs:
            for s in run.base_a:
                costs.append((run.spec, self.labels[s], self.kinds[s], run.base_mean - run.curve("AnB", s)))
        same = len({len(r.cuts) for r in self.runs}) == 1
        figs = []
        if same:
            figs.append(Figure(viz.fig_cost(cuts, costs, self.margin, "cost of frozen transfer from A, by cut"),
                               "Lines above the grey band lose accuracy (bars: ± std over seeds): compare how fast "
                               "the solid (similar) and dashed (dissimilar) lines climb with depth."))
        return Section("Similar vs dissimilar source tasks",
                       question="Does transfer from a different kind of image cost more, and where?",
                       findings=[fx.dissimilar(r, self.kinds, self.labels, self.margin)[0] for r in self.runs],
                       figures=figs)

    def _section_cka(self) -> Section:
        findings = [line for r in self.runs for line in fx.cka_answer(r, self.labels)]
        rows = []
        for r in self.runs:
            for name in r.cka.rows:
                rows.append([r.kind, name.replace("A: ", "baseA vs baseB, A = "),
                             *[f"{v:.3f}" for v in r.cka.mean(name)],
                             *[f"{v:.3f}" for v in r.cka.mean(name, debiased=True)]])
        width = max(len(r.cka.layers) for r in self.runs)
        layer_cols = [f"L{k}" for k in range(1, width + 1)]
        return Section("Do the layers that transfer well also look alike?",
                       question="Is linear CKA between baseA's and baseB's layers high where frozen transfer is cheap?",
                       findings=findings,
                       tables=[Table(["model", "comparison"] + layer_cols + [f"{c} debiased" for c in layer_cols],
                                     [row + [""] * (2 + 2 * width - len(row)) for row in rows],
                                     f"Linear CKA on B's test inputs, mean over seeds; '{REF_SEED}' and "
                                     f"'{REF_UNTRAINED}' give the scale; debiased CKA is near 0 for unrelated "
                                     "representations")])

    def _section_effects(self) -> Section:
        rows = [[r.kind, e.name, e.paper, e.here, e.shows]
                for r in self.runs for e in fx.effects(r, self.kinds, self.labels, self.margin)]
        return Section("The paper's effects, here",
                       question="Which findings of Yosinski et al. (2014) on ImageNet show in this small setting?",
                       findings=[fx.rule(self.margin).capitalize() + "; 'partly' means the effect shows for some "
                                 "source tasks or cuts only, 'unclear' that a difference exceeds the margin but not "
                                 "twice its standard error."],
                       tables=[Table(["model", "effect", "paper (ImageNet, 8 layers)", "this run", "shows here?"],
                                     rows)])

    def _section_numbers(self) -> Section:
        rows = []
        for r in self.runs:
            rows.append([r.kind, "baseB", "–", "–", *self._seed_cells(r.base_b.accuracy)])
            for c in sorted(r.cells, key=lambda c: (c.n, CONDITIONS.index(c.condition), c.source or "")):
                rows.append([r.kind, c.condition, self.labels[c.source] if c.source else "–", c.n,
                             *self._seed_cells(c.accuracy)])
        seeds = self.config.seed_list
        return Section("Every number", question="What did every seed of every cell reach on B's test set?",
                       tables=[Table(["model", "condition", "source A", "n", "mean", "std"] +
                                     [f"seed {s}" for s in seeds], rows, "Test accuracy on B (%)")])

    @staticmethod
    def _seed_cells(acc) -> list[str]:
        a = 100 * np.asarray(acc)
        sd = a.std(ddof=1) if a.size > 1 else 0.0
        return [f"{a.mean():.1f}", f"{sd:.1f}"] + [f"{v:.1f}" for v in a]
