"""The protocol of Yosinski et al. (2014) for one architecture: base networks, then every cell.

Training is grouped so that few vectorised ensembles do all the work: cells whose trainable
parameters are the same set train at once (for a cut n: BnB, AnB from every source and the
random control; all the fine-tuned cells of every cut together), each cell with every seed.
Seed ``s`` of a cell starts from seed ``s`` of its base network; its fresh blocks start from
init seed ``INIT_OFFSET + s``; its minibatch order comes from its own order seed
``1000 * s + 1 + cell_id`` (unique within a training call).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ...data.tasks import TaskData
from ...errors import NichelabError
from ...nn.models import build_model
from ...train import EnsembleResult, TrainConfig, ensemble_forward, train_ensemble
from ...train.ensemble import unstack
from .config import CONDITION_INFO, CONDITIONS, INIT_OFFSET
from .cut import blocks, transfer_model

__all__ = ["BaseNets", "Cell", "plan_cells", "plan_groups", "train_base", "train_cells", "accuracy"]

Progress = Callable[[int], None]


@dataclass
class BaseNets:
    """baseA or baseB: one network per seed trained on a task from scratch.

    Attributes
    ----------
    task : TaskData
    ensemble : EnsembleResult
        Weights of every seed (``ensemble.seeds`` are the seeds).
    accuracy : np.ndarray of shape (S,)
        Accuracy on the task's own test set; NaN for a diverged seed.
    diverged : np.ndarray of shape (S,), bool
        Seeds whose training diverged (:mod:`nichelab.train.divergence`).
    """

    task: TaskData
    ensemble: EnsembleResult
    accuracy: np.ndarray
    diverged: np.ndarray = None

    def __post_init__(self):
        if self.diverged is None:
            self.diverged = (np.asarray(self.ensemble.diverged, dtype=bool) if self.ensemble is not None
                             else np.zeros(len(self.accuracy), dtype=bool))


@dataclass
class Cell:
    """One cell of the experiment (a condition at a cut), trained on B for every seed.

    Attributes
    ----------
    condition : str
        One of ``CONDITIONS``: BnB, BnB+, AnB, AnB+, random.
    n : int
        The cut: blocks L1..Ln transferred (or random) and frozen unless the condition ends in ``+``.
    source : str or None
        Source task text for AnB / AnB+; None for conditions that do not use baseA.
    seeds : np.ndarray of shape (S,)
    order_seeds : np.ndarray of shape (S,)
        Seeds of each member's minibatch order.
    frozen : list of str
        Parameter names kept frozen during training.
    params : dict of str -> np.ndarray of shape (S, ...)
        Final parameters.
    accuracy : np.ndarray of shape (S,)
        Accuracy on B's test set; NaN for a diverged seed.
    train_loss : np.ndarray of shape (S, epochs)
    diverged : np.ndarray of shape (S,), bool
        Seeds that diverged: the cell's own training blew up, or the base network it copies
        (same seed) diverged.
    base_diverged : np.ndarray of shape (S,), bool
        Seeds whose base network (baseA or baseB, the one the cell copies) diverged.
    """

    condition: str
    n: int
    source: str | None
    seeds: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    order_seeds: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    frozen: list = field(default_factory=list)
    params: dict = field(default_factory=dict)
    accuracy: np.ndarray = field(default_factory=lambda: np.zeros(0))
    train_loss: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    diverged: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    base_diverged: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    @property
    def not_measured(self) -> bool:
        """Every seed's base network diverged: the cell has nothing to transfer."""
        return bool(self.base_diverged.size and self.base_diverged.all())

    @property
    def key(self) -> str:
        """``"AnB+/n2/digits:0-4"``, ``"BnB/n1"``."""
        return f"{self.condition}/n{self.n}" + (f"/{self.source}" if self.source else "")


def plan_cells(cuts: list[int], sources: list[str]) -> list[Cell]:
    """Every cell, in a fixed order (its index is its cell id): per cut, each condition
    (AnB and AnB+ once per source)."""
    cells = []
    for n in cuts:
        for cond in CONDITIONS:
            if CONDITION_INFO[cond][0] == "A":
                cells += [Cell(cond, n, s) for s in sources]
            else:
                cells.append(Cell(cond, n, None))
    return cells


def plan_groups(cells: list[Cell]) -> list[list[int]]:
    """Cell ids grouped by trainable set: one group per cut of the frozen cells, one of all fine-tuned cells."""
    groups: dict = {}
    for i, c in enumerate(cells):
        frozen = CONDITION_INFO[c.condition][1]
        groups.setdefault(("frozen", c.n) if frozen else ("tuned", 0), []).append(i)
    return [groups[k] for k in sorted(groups, key=lambda k: (k[0] == "tuned", k[1]))]


def accuracy(template, params: dict, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Accuracy of every stacked model on ``X, y``: (S,) float64."""
    logits = ensemble_forward(template, params, X)
    return (logits.argmax(axis=2) == np.asarray(y)[None, :]).mean(axis=1)


def _epochs_cb(progress: Progress | None, offset: int):
    return (lambda done, total: progress(offset + done)) if progress else None


def train_base(spec: str, task: TaskData, cfg: TrainConfig, seeds: list[int],
               progress: Progress | None = None, offset: int = 0) -> BaseNets:
    """Train one network per seed on ``task`` from scratch (init seed and order seed = seed)."""
    shape = task.train.input_shape
    ens = train_ensemble(lambda s: build_model(spec, shape, task.n_classes, init=cfg.init, seed=s),
                         task.train.X, task.train.y, cfg, seeds, progress=_epochs_cb(progress, offset))
    acc = accuracy(ens.template, ens.params, task.test.X, task.test.y)
    return BaseNets(task, ens, np.where(ens.diverged, np.nan, acc), np.asarray(ens.diverged, dtype=bool))


def fresh_model(spec: str, target: TaskData, cfg: TrainConfig, seed: int):
    """The target network of seed ``seed`` before any transfer (init seed ``INIT_OFFSET + seed``)."""
    return build_model(spec, target.train.input_shape, target.n_classes, init=cfg.init, seed=INIT_OFFSET + seed)


def _base_diverged(cell: Cell, base_b: BaseNets, base_a: dict, S: int) -> np.ndarray:
    """(S,) bool: seeds whose base network (the one the cell copies) diverged; all False for the random control."""
    which = CONDITION_INFO[cell.condition][0]
    if which is None:
        return np.zeros(S, dtype=bool)
    return np.asarray((base_b if which == "B" else base_a[cell.source]).diverged, dtype=bool)


def _source_params(cell: Cell, i: int, base_b: BaseNets, base_a: dict) -> dict | None:
    which = CONDITION_INFO[cell.condition][0]
    if which is None:
        return None
    base = base_b if which == "B" else base_a[cell.source]
    return unstack(base.ensemble.params, i)


def train_cells(spec: str, base_a: dict, base_b: BaseNets, target: TaskData, cfg: TrainConfig,
                seeds: list[int], progress: Progress | None = None, offset: int = 0) -> list[Cell]:
    """Train every cell of every cut on B's training set and measure it on B's test set.

    Parameters
    ----------
    spec : str
        Model spec (the same for base networks and cells).
    base_a : dict of str -> BaseNets
        baseA per source task text.
    base_b : BaseNets
    target : TaskData
    cfg : TrainConfig
    seeds : list of int
        The base networks' seeds, in order.
    progress : callable (epochs done so far) -> None, optional
    offset : int
        Epochs already done before this call (for ``progress``).

    Returns
    -------
    list of Cell
        In :func:`plan_cells` order, filled with weights, accuracy and loss. A seed whose base
        network diverged is trained from its (non-finite) weights like the others and marked
        diverged with the cell's own diverged seeds.
    """
    cuts = list(range(1, len(blocks(base_b.ensemble.template))))
    cells = plan_cells(cuts, list(base_a))
    if len(cells) >= 1000:
        raise NichelabError(f"too many cells ({len(cells)}) for the order-seed scheme; use fewer sources or layers")
    for ids in plan_groups(cells):
        members = [(cid, i, s) for cid in ids for i, s in enumerate(seeds)]
        lookup = {1000 * s + 1 + cid: (cid, i, s) for cid, i, s in members}

        def build(order_seed: int, _lookup=lookup):
            cid, i, s = _lookup[order_seed]
            cell = cells[cid]
            model = fresh_model(spec, target, cfg, s)
            return transfer_model(model, cell.n, _source_params(cell, i, base_b, base_a),
                                  freeze=CONDITION_INFO[cell.condition][1])

        ens = train_ensemble(build, target.train.X, target.train.y, cfg, list(lookup),
                             progress=_epochs_cb(progress, offset))
        offset += cfg.epochs
        acc = accuracy(ens.template, ens.params, target.test.X, target.test.y)
        frozen = [k for k, p in ens.template.named_parameters() if not p.requires_grad]
        order = np.asarray(list(lookup), dtype=np.int64)
        for cid in ids:
            rows = [j for j, (c, _, _) in enumerate(members) if c == cid]
            cell = cells[cid]
            cell.seeds = np.asarray(seeds, dtype=np.int64)
            cell.order_seeds = order[rows]
            cell.frozen = frozen
            cell.params = {k: v[rows] for k, v in ens.params.items()}
            cell.base_diverged = _base_diverged(cell, base_b, base_a, len(seeds))
            cell.diverged = np.asarray(ens.diverged, dtype=bool)[rows] | cell.base_diverged
            cell.accuracy = np.where(cell.diverged, np.nan, acc[rows])
            cell.train_loss = ens.loss[rows]
    return cells


def n_trainings(n_cuts: int, n_sources: int) -> int:
    """Number of ensemble trainings for one architecture: bases, one per cut, one for fine-tuning."""
    return 1 + n_sources + n_cuts + 1
