"""The transfer study: which layers are general, which specific? (Yosinski et al. 2014, small scale.)

``run(TransferConfig()) -> TransferResult``. For every architecture: train baseA (per source task)
and baseB; for every cut n = 1..L-1 train BnB, BnB+, AnB, AnB+ and a random-frozen control on B;
measure test accuracy on B for every seed, and linear CKA between baseA's and baseB's layers
on B's inputs. See REFERENCES.md, "Transfer".
"""
from __future__ import annotations

import time

from ...data.tasks import pair_kind, prepare_tasks
from ...train import threads
from .analysis import ArchRun, CkaResult, cka_by_layer
from .config import INIT_OFFSET, TransferConfig
from .cut import CONDITIONS, blocks, transfer_model
from .protocol import BaseNets, Cell, fresh_model, n_trainings, train_base, train_cells
from .result import TransferResult

__all__ = ["TransferConfig", "TransferResult", "ArchRun", "BaseNets", "Cell", "CkaResult", "CONDITIONS",
           "INIT_OFFSET", "run", "run_arch", "transfer_model"]


def run_arch(spec: str, sources: list, target, cfg: TransferConfig, progress=None) -> ArchRun:
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


def run(config: TransferConfig | None = None, *, progress=None) -> TransferResult:
    """Run the transfer experiment for every architecture and source task.

    Parameters
    ----------
    config : TransferConfig, optional
        Defaults: digits 0–4 (similar) and parts images (dissimilar) → digits 5–9, an MLP
        64-64-64 and a CNN 16-32 fc=64, 3 seeds.
    progress : callable (stage: str, done: int, total: int) -> None, optional

    Returns
    -------
    TransferResult

    Raises
    ------
    NichelabError
        Bad tasks (unknown source or class, overlapping classes), sizes or settings.
    """
    cfg = config or TransferConfig()
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
    kinds = {str(s.spec): pair_kind(s.spec, target.spec) for s in sources}
    return TransferResult(cfg, sources, target, kinds, runs, timings)
