"""Run the transfer study: base networks and every cell per architecture, CKA, then the numbers as data.

For every architecture: train baseA (per source task) and baseB; for every cut n = 1..L-1 train
BnB, BnB+, AnB, AnB+ and a random-frozen control on B; measure test accuracy on B for every seed,
and linear CKA between baseA's and baseB's layers on B's inputs (REFERENCES.md, "Transfer").
"""
from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np

from ...data.tasks import TaskData, pair_kind, prepare_tasks
from ...train import threads
from ..codec import to_data
from . import findings as fx
from . import views
from .analysis import ArchRun, cka_by_layer, nanmean, stats
from .config import CONDITION_INFO, CONDITIONS, INIT_OFFSET, TransferConfig
from .cut import blocks
from .protocol import fresh_model, n_trainings, train_base, train_cells
from .result import TransferResult
from .words import arch_name, pair_name

__all__ = ["run", "run_arch"]


def run_arch(spec: str, sources: list, target: TaskData, cfg: TransferConfig, progress=None) -> ArchRun:
    """The whole protocol for one architecture: base networks, every cell, CKA by layer.

    Parameters
    ----------
    spec : str
        Model spec, e.g. ``"mlp 64-64-64"``.
    sources : list of TaskData
        Source tasks A.
    target : TaskData
        Target task B.
    cfg : TransferConfig
    progress : callable (stage, done, total) -> None, optional

    Returns
    -------
    ArchRun
    """
    tc, seeds = cfg.train_config(), cfg.seed_list
    names = blocks(fresh_model(spec, target, tc, seeds[0]))
    kind = spec.split()[0]
    total = n_trainings(len(names) - 1, len(sources)) * cfg.epochs
    cb = (lambda done: progress(f"{kind} training", done, total)) if progress else None
    t0 = time.perf_counter()
    base_b = train_base(spec, target, tc, seeds, cb, 0)
    base_a = {}
    for i, s in enumerate(sources, start=1):
        base_a[str(s.spec)] = train_base(spec, s, tc, seeds, cb, i * cfg.epochs)
    t1 = time.perf_counter()
    cells = train_cells(spec, base_a, base_b, target, tc, seeds, cb, (1 + len(sources)) * cfg.epochs)
    t2 = time.perf_counter()
    untrained = [fresh_model(spec, target, tc, s) for s in seeds]
    cka = cka_by_layer(base_a, base_b, untrained, target.test.X, names[:-1])
    t3 = time.perf_counter()
    return ArchRun(spec, names, base_b, base_a, cells, cka,
                   {"bases_s": t1 - t0, "cells_s": t2 - t1, "cka_s": t3 - t2})


def run(config: TransferConfig, *, progress=None) -> TransferResult:
    """Run the transfer experiment for every architecture and source task.

    Defaults: digits 0–4 (similar) and parts images (dissimilar) → digits 5–9, an MLP
    64-64-64 and a CNN 16-32 fc=64, 3 seeds.

    Follows the study protocol (:meth:`nichelab.studies.base.Study.run`): a :class:`TransferConfig` in, a
    :class:`TransferResult` out.

    Raises
    ------
    NichelabError
        Bad tasks (unknown source or class, overlapping classes), sizes or settings.
    """
    cfg = config
    t0 = time.perf_counter()
    sources, target = prepare_tasks(cfg.sources, cfg.target, target_fraction=cfg.target_fraction,
                                    size=cfg.size, test_fraction=cfg.test_fraction, seed=cfg.split_seed,
                                    parts_per_class=cfg.parts_per_class)
    timings = {"data_s": time.perf_counter() - t0}
    runs = []
    with threads(cfg.threads):
        for spec in cfg.models:
            r = run_arch(spec, sources, target, cfg, progress)
            timings.update({f"{spec.replace(' ', '_')}/{k}": v for k, v in r.timings.items()})
            runs.append(r)
    return measured(cfg, sources, target, runs, timings)


def measured(cfg: TransferConfig, sources: list, target: TaskData, runs: list[ArchRun],
             timings: dict) -> TransferResult:
    """The TransferResult of finished architectures: every number, the findings and figure views."""
    kinds = {str(s.spec): pair_kind(s.spec, target.spec) for s in sources}
    labels = {str(s.spec): s.spec.label for s in sources}
    margin = float(cfg.margin)
    tasks = {"target": _task_record(target, None),
             "sources": [_task_record(s, kinds[str(s.spec)]) for s in sources]}
    examples = [(f"A: {s.spec.label}", s.test.X, s.test.y, list(s.spec.classes)) for s in sources]
    examples.append((f"B: {target.spec.label}", target.test.X, target.test.y, list(target.spec.classes)))
    archs, transfer_views = [], []
    for run in runs:
        pairs = {s: pair_name(labels[s], target.spec.label, kinds[s]) for s in run.base_a}
        archs.append(_arch_record(run, kinds, labels, pairs, margin))
        transfer_views.append(views.transfer_view(run, pairs, f"{arch_name(run.spec)}: transfer curves and layer "
                                                              "similarity"))
    return TransferResult(
        config=cfg, seeds=cfg.seed_list, init_offset=INIT_OFFSET, margin=margin, tasks=tasks,
        summary=fx.summary(runs, kinds, labels, margin, target.spec.label), architectures=archs,
        views={"tasks": views.tasks_view(examples), "transfer": transfer_views,
               "cost": views.cost_view(runs, labels, kinds, margin)},
        params=_params(runs), timings=timings)


def _task_record(t: TaskData, kind: str | None) -> dict:
    return {"task": str(t.spec), "label": t.spec.label, "source": t.spec.source, "kind": kind,
            "classes": list(t.spec.classes), "n_train": len(t.train), "n_train_before_fraction": t.n_train_full,
            "n_test": len(t.test), "original_size": list(t.train.meta["original_size"]),
            "image_shape": list(t.train.meta["image_shape"])}


def _curve_records(run: ArchRun) -> list[dict]:
    out = []
    for cond in CONDITIONS:
        for src in (list(run.base_a) if CONDITION_INFO[cond][0] == "A" else [None]):
            acc = run.curve(cond, src)
            sd = views.seed_std(acc, 1)                         # diverged seeds (NaN) left out
            out.append({"condition": cond, "source": src, "n": run.cuts, "mean": nanmean(acc, axis=1),
                        "std": sd, "accuracy_per_seed": acc})
    return out


def _arch_record(run: ArchRun, kinds: dict, labels: dict, pairs: dict, margin: float) -> dict:
    cka = run.cka
    return to_data({
        "model": run.spec, "blocks": run.blocks, "cuts": run.cuts,
        "baseB_accuracy_on_B": stats(run.base_b.accuracy),
        "baseA_accuracy_on_A": {s: stats(b.accuracy) for s, b in run.base_a.items()},
        "curves": _curve_records(run),
        "cells": run.cell_records(),
        "cka": {"layers": cka.layers, "n_samples": cka.n_samples, "inputs": "B's test set",
                "conv_maps": "flattened to channels x height x width features",
                "linear": cka.rows, "linear_debiased": cka.debiased,
                "linear_mean": {k: cka.mean(k) for k in cka.rows},
                "linear_debiased_mean": {k: cka.mean(k, debiased=True) for k in cka.rows}},
        "effects": [] if fx.unmeasured(run) else [asdict(e) for e in fx.effects(run, kinds, labels, margin)],
        "findings": {**({"diverged": fx.diverged_findings(run)} if fx.diverged_findings(run) else {}),
                     **fx.answers(run, kinds, labels, pairs, margin)},
        "diverged": run.diverged_counts(),
        "timings": run.timings,
    })


def _params(runs: list[ArchRun]) -> dict:
    """Every network's final weights, seeds stacked on axis 0: ``"<model>/baseB/<param>"``,
    ``"<model>/baseA/<source>/<param>"``, ``"<model>/<condition>/n<k>[/<source>]/<param>"``."""
    out: dict[str, np.ndarray] = {}
    for run in runs:
        slug = run.spec.replace(" ", "_")
        out.update({f"{slug}/baseB/{k}": v for k, v in run.base_b.ensemble.params.items()})
        for src, b in run.base_a.items():
            out.update({f"{slug}/baseA/{src}/{k}": v for k, v in b.ensemble.params.items()})
        for c in run.cells:
            out.update({f"{slug}/{c.key}/{k}": v for k, v in c.params.items()})
    return out
