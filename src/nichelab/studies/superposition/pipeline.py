"""Train the toy models of superposition (all sparsity levels and seeds at once) and measure them.

``run(SuperpositionConfig()) -> SuperpositionResult``. Model (Elhage et al. 2022): h = W x,
x' = ReLU(Wᵀ h + b), W of shape (m, n), loss sum_i importance**i (x_i - x'_i)^2 averaged over the
batch, AdamW, Xavier-normal init, zero bias.
"""
from __future__ import annotations

import time
from dataclasses import field
from typing import ClassVar

import numpy as np
import torch

from ...metrics import feature_dimensionality, feature_norms
from ...train.config import threads
from ..base import Result
from . import findings as fx
from .config import SuperpositionConfig

__all__ = ["run", "SuperpositionResult", "model_seed"]

#: A feature "shares its direction" when its dimensionality is below this (1 = a dimension of its own).
SHARED_BELOW = 0.9


class SuperpositionResult(Result):
    """Every model's measurements (K = sparsity levels x seeds models, in that order).

    Attributes
    ----------
    models : list of dict — per model: sparsity, seed, final loss, feature norms (n,),
        feature dimensionality (n,), represented (count), dims_per_feature (m / ||W||_F^2).
    by_sparsity : list of dict — per level: counts over seeds and pooled features.
    findings : dict of str -> list of str — the answers in words.
    views : dict — figure numbers: WᵀW (n, n) of the first seed of each level.
    params : dict — ``W`` (K, m, n) and ``b`` (K, n), saved to weights.safetensors.
    """

    study: ClassVar[str] = "superposition"
    flat_weights: ClassVar[str] = "params"
    config: SuperpositionConfig = None
    seeds: list[int] = field(default_factory=list)
    models: list[dict] = field(default_factory=list)
    by_sparsity: list[dict] = field(default_factory=list)
    findings: dict = field(default_factory=dict)
    views: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    def tables(self) -> dict:
        """``sparsity`` (one row per level) and ``models`` (one row per model)."""
        import pandas as pd
        keep = ("sparsity", "seed", "loss", "represented", "dims_per_feature", "shared")
        return {"sparsity": pd.DataFrame(self.by_sparsity).drop(columns=["represented_per_seed"]),
                "models": pd.DataFrame([{k: m[k] for k in keep} for m in self.models])}


def model_seed(seed: int, sparsity: float) -> int:
    """The torch seed of the model for (``seed``, ``sparsity``): independent of the other models run."""
    return int(np.random.SeedSequence([int(seed), int(round(sparsity * 1e9))]).generate_state(1)[0])


def _init(cfg: SuperpositionConfig, gens: list[torch.Generator]) -> tuple[torch.Tensor, torch.Tensor]:
    std = (2.0 / (cfg.features + cfg.hidden)) ** 0.5                     # Xavier normal
    W = torch.stack([torch.randn(cfg.hidden, cfg.features, generator=g, dtype=torch.float64) * std
                     for g in gens]).float()
    return W.requires_grad_(), torch.zeros(len(gens), cfg.features, requires_grad=True)


#: Steps whose batches are drawn at once (each model from its own generator, so a model's data
#: depends only on its own seed and sparsity, not on which other models train beside it).
CHUNK = 25


def _batches(cfg: SuperpositionConfig, gens, sparsity: torch.Tensor, steps: int) -> torch.Tensor:
    """(steps, K, batch, n) inputs: each feature 0 with probability S, else uniform in [0, 1]."""
    shape = (steps, cfg.batch_size, cfg.features)
    x = torch.stack([torch.rand(shape, generator=g) for g in gens], dim=1)
    keep = torch.stack([torch.rand(shape, generator=g) for g in gens], dim=1)
    return torch.where(keep >= sparsity[None, :, None, None], x, torch.zeros(()))


def _train(cfg: SuperpositionConfig, plan: list[tuple[float, int]], progress) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    gens = [torch.Generator().manual_seed(model_seed(s, p)) for p, s in plan]
    W, b = _init(cfg, gens)
    sparsity = torch.tensor([p for p, _ in plan], dtype=torch.float32)
    weight = cfg.importance ** torch.arange(cfg.features, dtype=torch.float32)
    opt = torch.optim.AdamW([W, b], lr=cfg.lr)
    loss = torch.zeros(len(plan))
    for step in range(cfg.steps):
        if step % CHUNK == 0:
            block = _batches(cfg, gens, sparsity, min(CHUNK, cfg.steps - step))
        x = block[step % CHUNK]
        out = torch.relu(torch.bmm(torch.bmm(x, W.transpose(1, 2)), W) + b[:, None, :])
        loss = (weight * (x - out) ** 2).sum(-1).mean(-1)                  # (K,) one loss per model
        opt.zero_grad()
        loss.sum().backward()                                               # models are independent
        opt.step()
        if progress and (step % 100 == 99 or step == cfg.steps - 1):
            progress("training", step + 1, cfg.steps)
    return W.detach().numpy().astype(np.float64), b.detach().numpy().astype(np.float64), loss.detach().numpy()


def _measure(cfg, plan, W, b, loss) -> list[dict]:
    out = []
    for k, (p, s) in enumerate(plan):
        norms, dim = feature_norms(W[k]), feature_dimensionality(W[k])
        rep = norms > cfg.threshold
        out.append({"sparsity": p, "seed": s, "loss": float(loss[k]), "norms": norms, "dimensionality": dim,
                    "represented": int(rep.sum()), "shared": int((rep & (dim < SHARED_BELOW)).sum()),
                    "dims_per_feature": float(cfg.hidden / (norms ** 2).sum()) if norms.any() else float("nan")})
    return out


def _by_sparsity(cfg, models) -> list[dict]:
    rows = []
    for p in cfg.sparsity:
        ms = [m for m in models if m["sparsity"] == p]
        rep = np.array([m["represented"] for m in ms])
        rows.append({"sparsity": p, "n_seeds": len(ms), "represented_per_seed": rep.tolist(),
                     "represented_median": float(np.median(rep)), "represented_min": int(rep.min()),
                     "represented_max": int(rep.max()), "represented_total": int(rep.sum()),
                     "shared_total": int(sum(m["shared"] for m in ms)),
                     "dims_per_feature_median": float(np.nanmedian([m["dims_per_feature"] for m in ms]))})
    return rows


def run(config: SuperpositionConfig, *, progress=None) -> SuperpositionResult:
    """Train one toy model per (sparsity level, seed), all at once, and measure its features.

    Follows the study protocol (:meth:`nichelab.studies.base.Study.run`): a :class:`SuperpositionConfig` in, a
    :class:`SuperpositionResult` out.
    """
    cfg = config
    plan = [(p, s) for p in cfg.sparsity for s in cfg.seed_list]
    t0 = time.perf_counter()
    with threads(1):
        W, b, loss = _train(cfg, plan, progress)
    t1 = time.perf_counter()
    models = _measure(cfg, plan, W, b, loss)
    rows = _by_sparsity(cfg, models)
    first = [k for k, (p, s) in enumerate(plan) if s == cfg.first_seed]
    views = {"gram": [{"sparsity": plan[k][0], "seed": plan[k][1], "WtW": W[k].T @ W[k]} for k in first]}
    return SuperpositionResult(
        config=cfg, seeds=cfg.seed_list, models=models, by_sparsity=rows, findings=fx.answers(cfg, rows),
        views=views, params={"W": W, "b": b},
        timings={"training_s": t1 - t0, "analysis_s": time.perf_counter() - t1})
