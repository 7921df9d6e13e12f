"""The one-seed training loop: the reference semantics the ensemble must reproduce.

Plain PyTorch: the model's own forward, autograd, ``torch.optim``. Dropout masks are keyed by
(seed, step, layer) (:mod:`nichelab.train.masks`), so they equal the ensemble's for the same seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data._memory import Releaser, mapping_of, take
from .config import TrainConfig, epoch_orders, threads
from .divergence import diverged_seeds
from .masks import keyed_dropout
from .stacked import FlatOptimizer

__all__ = ["TrainResult", "train_one", "state_numpy"]


@dataclass
class TrainResult:
    """A trained model and its history.

    Attributes
    ----------
    model : nn.Module
        The trained model (left in eval mode).
    loss : np.ndarray of shape (epochs,)
        Mean training loss over each epoch's minibatches, weighted by batch size (what Keras logs).
    snapshots : dict of int -> dict of str -> np.ndarray
        Weights (``state_dict`` as float32 arrays) after the epochs in ``snapshot_epochs``.
    diverged : bool
        Training blew up (:func:`nichelab.train.divergence.diverged_seeds`: a non-finite loss or
        weight, or a last loss above 10 ln C, C the model's outputs).
    """

    model: nn.Module
    loss: np.ndarray
    snapshots: dict = field(default_factory=dict)
    diverged: bool = False


def state_numpy(model: nn.Module) -> dict[str, np.ndarray]:
    """A copy of the model's parameters as numpy arrays (in the model's dtype), keyed by parameter name."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.named_parameters()}


def train_one(model: nn.Module, X: np.ndarray, y: np.ndarray, cfg: TrainConfig, *, seed: int,
              rows: np.ndarray | None = None) -> TrainResult:
    """Train one model with minibatch gradient descent on softmax cross-entropy from logits.

    Every epoch visits the samples in the order ``epoch_orders(seed, n, epochs)[epoch]`` in
    batches of ``cfg.batch_size``. ``nn.Dropout`` modules use masks keyed by (seed, step, layer).
    Runs with one torch thread (restored afterwards; see :func:`nichelab.train.threads`): the
    operations of small models gain nothing from threads, and on a busy 2-core machine two threads
    made one lab seed 25 times slower (53 s against 2 s).

    Parameters
    ----------
    model : nn.Module
        Already initialised (see :func:`nichelab.nn.build_model`); trained in place (and converted
        to ``cfg.dtype``). Parameters with ``requires_grad=False`` stay frozen.
    X : np.ndarray of shape (n_samples, ...), float32
    y : np.ndarray of shape (n_samples,), int64
    cfg : TrainConfig
    seed : int
        Seed of the shuffling stream and of the dropout masks.
    rows : np.ndarray of int, shape (len(y),), optional
        Train on ``X[rows]`` (with labels ``y``) without copying those rows: each minibatch is
        gathered from ``X`` (a memory-mapped ``X`` is read with positioned file reads,
        :func:`nichelab.data._memory.take`, so its pages never enter the resident set). The same
        training as ``train_one(model, X[rows], y, ...)``.

    Returns
    -------
    TrainResult
    """
    model.to(cfg.torch_dtype)
    X = np.asarray(X)
    # a memory map's minibatches are read from the file (no page of it kept); the same values as X[rows][idx]
    from_file = rows is not None and mapping_of(X) is not None
    if from_file:
        Xt = None
    elif rows is not None and X.dtype == np.float32 and not X.flags.writeable:
        with warnings.catch_warnings():      # a read-only memory map: only read here, never written
            warnings.simplefilter("ignore")
            Xt = torch.from_numpy(X).to(cfg.torch_dtype)
    else:
        Xt = torch.as_tensor(X).to(cfg.torch_dtype)
    pick = None if rows is None else torch.as_tensor(np.asarray(rows, dtype=np.int64))
    file_rows = np.asarray(rows, dtype=np.int64) if from_file else None
    pages = Releaser(X) if rows is not None and not from_file else Releaser(None)   # pages leave the resident set
    row_bytes = X[:1].nbytes
    yt = torch.as_tensor(np.asarray(y, dtype=np.int64))
    # torch.optim's arithmetic, one FlatOptimizer per parameter (nichelab.train.stacked): the same updates as
    # torch.optim.Adam / SGD (single-tensor, as on CPU), without the import of torch._dynamo (and sympy) that
    # any torch.optim optimizer triggers (about 70 MB of resident memory for the rest of the process)
    trained = [p for p in model.parameters() if p.requires_grad]
    opts = [FlatOptimizer(cfg) for _ in trained]
    orders = epoch_orders(seed, len(yt), cfg.epochs)
    snaps = {0: state_numpy(model)} if 0 in cfg.snapshot_epochs else {}
    losses = np.zeros(cfg.epochs)
    model.train()
    step = 0
    with threads(1), keyed_dropout(model, [seed]) as masks:
        for epoch in range(cfg.epochs):
            total = 0.0
            for start in range(0, len(yt), cfg.batch_size):
                idx = torch.as_tensor(orders[epoch, start:start + cfg.batch_size])
                masks.step = step
                xb = (torch.from_numpy(take(X, file_rows[idx.numpy()])).to(cfg.torch_dtype) if from_file
                      else Xt[idx if pick is None else pick[idx]])
                loss = F.cross_entropy(model(xb), yt[idx])
                pages.read((row_bytes + Releaser.PAGE) * len(idx))     # scattered rows: fault-around per row
                for p in trained:
                    p.grad = None
                loss.backward()
                with torch.no_grad():
                    for p, opt in zip(trained, opts):
                        if p.grad is not None:          # as torch.optim: a parameter without a gradient is skipped
                            opt.step(p, p.grad)
                total += loss.item() * len(idx)
                step += 1
            losses[epoch] = total / len(yt)
            if epoch + 1 in cfg.snapshot_epochs:
                snaps[epoch + 1] = state_numpy(model)
    pages.close()
    model.eval()
    with torch.no_grad():
        first = (torch.from_numpy(take(X, file_rows[:1])).to(cfg.torch_dtype) if from_file
                 else Xt[:1] if pick is None else Xt[pick[:1]])
        n_out = int(model(first).reshape(1, -1).shape[1]) if len(yt) else 2
    weights = {k: v[None] for k, v in state_numpy(model).items()}
    return TrainResult(model, losses, snaps, bool(diverged_seeds(losses[None], weights, n_out)[0]))
