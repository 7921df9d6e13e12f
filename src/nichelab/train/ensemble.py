"""Many seeds trained at once as one vectorised model (``torch.func.vmap`` over stacked weights).

Each seed keeps its own initialisation, sample order and optimizer state: the stacked
parameters are leaves of one element-wise optimizer (Adam and SGD act element by element), and
the summed loss gives each seed exactly its own gradient. Result: seed ``s`` ends where
:func:`nichelab.train.loop.train_one` with the same seed ends, up to float reduction order.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from ..errors import NichelabError
from .config import TrainConfig, epoch_orders, make_optimizer

__all__ = ["EnsembleResult", "train_ensemble", "ensemble_forward", "unstack"]


@dataclass
class EnsembleResult:
    """Weights and history of every seed.

    Attributes
    ----------
    seeds : np.ndarray of shape (S,), int64
    params : dict of str -> np.ndarray of shape (S, ...), float32
        Final parameters, keyed by the model's parameter names (e.g. ``L1.linear.weight``).
    loss : np.ndarray of shape (S, epochs), float64
        Per-epoch mean training loss of each seed (weighted by batch size, as Keras logs).
    snapshots : dict of int -> dict of str -> np.ndarray of shape (S, ...)
        Parameters after the epochs in ``cfg.snapshot_epochs`` (0 = initial).
    template : nn.Module
        A model of the same architecture, used by :meth:`model`.
    """

    seeds: np.ndarray
    params: dict
    loss: np.ndarray
    snapshots: dict = field(default_factory=dict)
    template: nn.Module | None = None

    def model(self, i: int, params: dict | None = None) -> nn.Module:
        """The ``i``-th seed's model (a copy of the template loaded with its weights), in eval mode."""
        m = copy.deepcopy(self.template)
        src = self.params if params is None else params
        m.load_state_dict({k: torch.as_tensor(v[i]) for k, v in src.items()}, strict=False)
        return m.eval()


def unstack(params: dict, i: int) -> dict:
    """Seed ``i``'s slice of stacked parameters."""
    return {k: v[i] for k, v in params.items()}


def _functional(template: nn.Module):
    base = copy.deepcopy(template).to("meta")

    def f(p, b, x):
        return functional_call(base, (p, b), (x,))
    return f


def ensemble_forward(template: nn.Module, params: dict, X: np.ndarray | torch.Tensor,
                     batch_size: int = 4096) -> np.ndarray:
    """Logits of every seed on the same inputs: (S, n_samples, n_outputs) float32, in eval mode."""
    template = copy.deepcopy(template).eval()
    f = vmap(_functional(template), in_dims=(0, 0, None))
    p = {k: torch.as_tensor(np.asarray(v)) for k, v in params.items()}
    S = next(iter(p.values())).shape[0]
    b = {k: v.expand(S, *v.shape) for k, v in template.named_buffers()}
    Xt = torch.as_tensor(np.asarray(X, dtype=np.float32))
    with torch.no_grad():
        out = [f(p, b, Xt[i:i + batch_size]) for i in range(0, len(Xt), batch_size)]
    return torch.cat(out, dim=1).numpy()


def train_ensemble(build: Callable[[int], nn.Module], X: np.ndarray, y: np.ndarray, cfg: TrainConfig,
                   seeds: Sequence[int], *, progress: Callable[[int, int], None] | None = None) -> EnsembleResult:
    """Train one model per seed, all at once.

    Parameters
    ----------
    build : callable seed -> nn.Module
        Returns the seed's initialised model (e.g. ``lambda s: build_model(spec, shape, k, seed=s)``).
        Parameters with ``requires_grad=False`` (in the first seed's model) stay frozen: they are
        left out of the optimizer and keep their initial values bit for bit.
    X : np.ndarray of shape (n_samples, ...), float32
    y : np.ndarray of shape (n_samples,), int64
    cfg : TrainConfig
    seeds : sequence of int
        One model per seed; the seed drives both initialisation (via ``build``) and sample order.
    progress : callable (epochs_done, epochs) -> None, optional

    Returns
    -------
    EnsembleResult

    Raises
    ------
    NichelabError
        Empty ``seeds``, or a model with dropout (masks are not yet vectorised per seed).
    """
    seeds = np.asarray(list(seeds), dtype=np.int64)
    if seeds.size == 0:
        raise NichelabError("--seeds must be >= 1; got no seeds")
    models = [build(int(s)) for s in seeds]
    if any(isinstance(m, nn.Dropout) and m.p > 0 for m in models[0].modules()):
        raise NichelabError("the ensemble trainer does not support dropout yet; use train_one per seed")
    trainable = {k for k, p in models[0].named_parameters() if p.requires_grad}
    params, buffers = stack_module_state(models)
    params = {k: v.detach().clone().requires_grad_(k in trainable) for k, v in params.items()}
    template = copy.deepcopy(models[0])
    step = _make_step(template, params, buffers, X, y, cfg)
    S, n = len(seeds), len(y)
    orders = torch.as_tensor(np.stack([epoch_orders(int(s), n, cfg.epochs) for s in seeds], axis=1))
    snaps = {0: _numpy(params)} if 0 in cfg.snapshot_epochs else {}
    losses = np.zeros((S, cfg.epochs))
    for epoch in range(cfg.epochs):
        total = torch.zeros(S, dtype=torch.float64)
        for start in range(0, n, cfg.batch_size):
            idx = orders[epoch, :, start:start + cfg.batch_size]
            total += step(idx) * idx.shape[1]
        losses[:, epoch] = (total / n).numpy()
        if epoch + 1 in cfg.snapshot_epochs:
            snaps[epoch + 1] = _numpy(params)
        if progress is not None:
            progress(epoch + 1, cfg.epochs)
    return EnsembleResult(seeds, _numpy(params), losses, snaps, template.eval())


def _make_step(template, params, buffers, X, y, cfg):
    f = _functional(template.train())
    Xt = torch.as_tensor(np.asarray(X, dtype=np.float32))
    yt = torch.as_tensor(np.asarray(y, dtype=np.int64))

    def seed_loss(p, b, xb, yb):
        return F.cross_entropy(f(p, b, xb), yb)

    batched = vmap(seed_loss)
    opt = make_optimizer([p for p in params.values() if p.requires_grad], cfg)

    def step(idx: torch.Tensor) -> torch.Tensor:
        loss = batched(params, buffers, Xt[idx], yt[idx])
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
        return loss.detach().double()
    return step


def _numpy(params: dict) -> dict:
    return {k: v.detach().cpu().numpy().copy() for k, v in params.items()}
