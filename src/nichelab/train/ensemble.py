"""Many seeds trained at once as one vectorised model.

Each seed keeps its own initialisation, sample order, dropout masks and optimizer state, so
seed ``s`` ends where :func:`nichelab.train.loop.train_one` with the same seed ends, up to float
rounding. Two back ends do the work:

- plain MLPs (``build_model("mlp ...")``: Dense blocks, optional dropout) use the fast path of
  :mod:`nichelab.train.stacked`: stacked weights, batched matrix products, a hand-written
  backward pass and one flat optimizer tensor;
- everything else (CNNs, frozen layers inside other modules, buffers) runs the model with
  ``torch.func.vmap`` over ``functional_call`` on stacked parameters, with autograd and an
  element-wise ``torch.optim`` optimizer over the stacked leaves.

Dropout masks come from :mod:`nichelab.train.masks` (keyed by seed, step and layer) in both back
ends and in the one-seed loop.

The fast path runs with one intra-op thread (restored afterwards): its operations are small
(tens of microseconds), so splitting each over threads saves little, and on a busy machine every
parallel region can wait a whole scheduler time slice for a descheduled thread -- measured on
2 busy cores: 4 s with one thread, over 100 s with two, for the same 1000-seed lab training.
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
from .config import TrainConfig, epoch_orders, make_optimizer, threads
from .divergence import diverged_seeds
from .masks import dropout_modules, dropout_noise, install_keyed_dropout
from .stacked import FlatOptimizer, StackedMLP, mlp_plan

__all__ = ["EnsembleResult", "train_ensemble", "ensemble_forward", "unstack"]

#: ``on_step(step, params)``: called with step 0 before training and after every optimizer step.
StepHook = Callable[[int, dict], None]


@dataclass
class EnsembleResult:
    """Weights and history of every seed.

    Attributes
    ----------
    seeds : np.ndarray of shape (S,), int64
    params : dict of str -> np.ndarray of shape (S, ...)
        Final parameters (float32, or float64 with ``cfg.dtype="float64"``), keyed by the model's
        parameter names (e.g. ``L1.linear.weight``).
    loss : np.ndarray of shape (S, epochs), float64
        Per-epoch mean training loss of each seed (weighted by batch size, as Keras logs).
    snapshots : dict of int -> dict of str -> np.ndarray of shape (S, ...)
        Parameters after the epochs in ``cfg.snapshot_epochs`` (0 = initial).
    template : nn.Module
        A model of the same architecture (and dtype), used by :meth:`model`.
    backend : str
        ``"stacked"`` (the fast MLP path) or ``"vmap"``.
    diverged : np.ndarray of shape (S,), bool
        Seeds whose training blew up (:func:`nichelab.train.divergence.diverged_seeds`: a
        non-finite loss or weight, or a last loss above 10 ln C). Studies report them as a
        separate outcome and leave them out of their other statistics.
    """

    seeds: np.ndarray
    params: dict
    loss: np.ndarray
    snapshots: dict = field(default_factory=dict)
    template: nn.Module | None = None
    backend: str = "vmap"
    diverged: np.ndarray = None

    def __post_init__(self) -> None:
        if self.diverged is None:
            self.diverged = np.zeros(len(self.seeds), dtype=bool)

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
    return f, base


def ensemble_forward(template: nn.Module, params: dict, X: np.ndarray | torch.Tensor,
                     batch_size: int = 4096) -> np.ndarray:
    """Logits of every seed on the same inputs: (S, n_samples, n_outputs), in eval mode.

    Computed in the parameters' dtype (float32 or float64).
    """
    p = {k: torch.as_tensor(np.asarray(v)) for k, v in params.items()}
    dtype = next(iter(p.values())).dtype
    template = copy.deepcopy(template).eval().to(dtype)
    f, _ = _functional(template)
    f = vmap(f, in_dims=(0, 0, None))
    S = next(iter(p.values())).shape[0]
    b = {k: v.expand(S, *v.shape) for k, v in template.named_buffers()}
    Xt = torch.as_tensor(np.asarray(X)).to(dtype)
    with torch.no_grad():
        out = [f(p, b, Xt[i:i + batch_size]) for i in range(0, len(Xt), batch_size)]
    return torch.cat(out, dim=1).numpy()


def train_ensemble(build: Callable[[int], nn.Module], X: np.ndarray, y: np.ndarray, cfg: TrainConfig,
                   seeds: Sequence[int], *, progress: Callable[[int, int], None] | None = None,
                   on_step: StepHook | None = None, backend: str = "auto") -> EnsembleResult:
    """Train one model per seed, all at once.

    Parameters
    ----------
    build : callable seed -> nn.Module
        Returns the seed's initialised model (e.g. ``lambda s: build_model(spec, shape, k, seed=s)``).
        Parameters with ``requires_grad=False`` (in the first seed's model) stay frozen: they are
        left out of the optimizer and keep their initial values bit for bit.
    X : np.ndarray of shape (n_samples, ...), float
    y : np.ndarray of shape (n_samples,), int64
    cfg : TrainConfig
    seeds : sequence of int
        One model per seed; the seed drives initialisation (via ``build``), sample order and
        dropout masks.
    progress : callable (epochs_done, epochs) -> None, optional
    on_step : callable (step, params) -> None, optional
        Called with step 0 before training and after every optimizer step, with the live stacked
        parameters ``{name: tensor (S, ...)}`` (read them, do not modify them).
    backend : {"auto", "stacked", "vmap"}, default "auto"
        ``auto`` takes the fast stacked path for plain MLPs and ``vmap`` otherwise.

    Returns
    -------
    EnsembleResult

    Raises
    ------
    NichelabError
        Empty ``seeds``; ``backend="stacked"`` for a model that is not a plain MLP; a dropout
        module other than ``nn.Dropout``.
    """
    seeds = np.asarray(list(seeds), dtype=np.int64)
    if seeds.size == 0:
        raise NichelabError("seeds must be >= 1; got no seeds", field="seeds")
    if backend not in ("auto", "stacked", "vmap"):
        raise NichelabError(f"backend must be 'auto', 'stacked' or 'vmap'; got {backend!r}")
    models = [build(int(s)) for s in seeds]
    dropout_modules(models[0])  # rejects dropout kinds whose masks cannot be keyed
    trainable = {k for k, p in models[0].named_parameters() if p.requires_grad}
    plan = mlp_plan(models[0]) if backend != "vmap" else None
    if backend == "stacked" and plan is None:
        raise NichelabError("backend='stacked' needs a plain MLP (Dense blocks, optional nn.Dropout); "
                            f"got {type(models[0]).__name__}")
    dtype = cfg.torch_dtype
    params, buffers = stack_module_state(models)
    template = copy.deepcopy(models[0]).to(dtype)
    del models
    Xt = torch.as_tensor(np.asarray(X)).to(dtype)
    yt = torch.as_tensor(np.asarray(y, dtype=np.int64))
    seeds_t = torch.as_tensor(seeds)
    if plan is not None:
        state, step = _stacked_step(plan, params, trainable, Xt, yt, cfg, seeds_t)
    else:
        state, step = _vmap_step(template, params, trainable, buffers, Xt, yt, cfg, seeds_t)
    with threads(1 if plan is not None else None):
        snaps, losses = _run(step, state, cfg, seeds, len(yt), progress, on_step)
    names = [k for k, _ in template.named_parameters()]
    final = _numpy(state)
    params = {k: final[k] for k in names}
    return EnsembleResult(seeds, params, losses,
                          {e: {k: s[k] for k in names} for e, s in snaps.items()}, template.eval(),
                          "stacked" if plan is not None else "vmap",
                          diverged_seeds(losses, params, _n_outputs(template, Xt)))


def _n_outputs(template: nn.Module, Xt: torch.Tensor) -> int:
    """Number of outputs (classes) of the model: one eval forward on one sample."""
    with torch.no_grad():
        return int(copy.deepcopy(template).eval()(Xt[:1]).reshape(1, -1).shape[1])


def _run(step, state: dict, cfg: TrainConfig, seeds: np.ndarray, n: int, progress, on_step):
    """The epoch / minibatch loop shared by both back ends: returns (snapshots, losses (S, epochs))."""
    S = len(seeds)
    orders = np.empty((cfg.epochs, S, n), dtype=np.int64)
    for i, s in enumerate(seeds):
        orders[:, i, :] = epoch_orders(int(s), n, cfg.epochs)
    orders = torch.from_numpy(orders)
    snaps = {0: _numpy(state)} if 0 in cfg.snapshot_epochs else {}
    losses = np.zeros((S, cfg.epochs))
    if on_step is not None:
        on_step(0, state)
    k = 0
    for epoch in range(cfg.epochs):
        total = torch.zeros(S, dtype=torch.float64)
        for start in range(0, n, cfg.batch_size):
            idx = orders[epoch, :, start:start + cfg.batch_size]
            total += step(idx, k) * idx.shape[1]
            k += 1
            if on_step is not None:
                on_step(k, state)
        losses[:, epoch] = (total / n).numpy()
        if epoch + 1 in cfg.snapshot_epochs:
            snaps[epoch + 1] = _numpy(state)
        if progress is not None:
            progress(epoch + 1, cfg.epochs)
    return snaps, losses


def _stacked_step(plan, params, trainable, Xt, yt, cfg, seeds):
    net = StackedMLP(plan, params, trainable, Xt.dtype)
    opt = FlatOptimizer(cfg)
    net.set_data(Xt.reshape(len(Xt), -1), yt)

    @torch.no_grad()
    def step(idx: torch.Tensor, k: int) -> torch.Tensor:
        xb, target = net.batch(idx)
        loss, g = net.loss_and_grads(xb, target, net.noises(seeds, k, idx.shape[1]))
        if g is not None:
            opt.step(net.train_view, g)
        return loss.double()
    return net.params, step


def _dropout_shapes(template: nn.Module, x1: torch.Tensor) -> list[tuple]:
    """Per-sample input shape of every nn.Dropout of ``template`` (one eval forward on one sample)."""
    mods = dropout_modules(template)
    shapes: list = [None] * len(mods)
    handles = [m.register_forward_hook(lambda mod, a, out, i=i: shapes.__setitem__(i, tuple(out.shape[1:])))
               for i, m in enumerate(mods)]
    try:
        with torch.no_grad():
            template.eval()(x1)
    finally:
        for h in handles:
            h.remove()
    return shapes


def _vmap_step(template, params, trainable, buffers, Xt, yt, cfg, seeds):
    dtype = Xt.dtype
    params = {k: v.detach().to(dtype).clone().requires_grad_(k in trainable) for k, v in params.items()}
    buffers = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in buffers.items()}
    mods = dropout_modules(template)
    probs = [m.p for m in mods]
    shapes = _dropout_shapes(template, Xt[:1]) if mods else []
    f, base = _functional(template.train())
    ctrl = install_keyed_dropout(base, seeds)  # on the private meta copy, for the life of `step`

    def seed_loss(p, b, xb, yb, masks):
        ctrl.masks = masks
        try:
            return F.cross_entropy(f(p, b, xb), yb)
        finally:
            ctrl.masks = None

    batched = vmap(seed_loss)
    opt = make_optimizer([p for p in params.values() if p.requires_grad], cfg)

    def step(idx: torch.Tensor, k: int) -> torch.Tensor:
        B = idx.shape[1]
        masks = [dropout_noise(seeds, k, i, (B, *shapes[i]), probs[i], dtype) for i in range(len(mods))]
        loss = batched(params, buffers, Xt[idx], yt[idx], masks)
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
        return loss.detach().double()
    return params, step


def _numpy(params: dict) -> dict:
    return {k: v.detach().cpu().numpy().copy() for k, v in params.items()}
