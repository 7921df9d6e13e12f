"""Train every condition of one dataset and measure it: gaps per step, loss, accuracy, distinct units.

Pure bookkeeping around :func:`nichelab.train.train_ensemble`; the numbers are read by
:mod:`.findings` (words), :mod:`.views` (figure- and table-ready numbers) and :mod:`.pipeline`
(the :class:`~.result.SymmetryResult`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from ...data.base import Dataset
from ...nn.forward import hidden_forward
from ...nn.init import make_symmetric, perturb
from ...nn.models import build_model
from ...nn.tied import tie_units, untie
from ...train.divergence import nonfinite_rows
from ...train.ensemble import train_ensemble
from .config import Condition, SymmetryConfig
from .measure import GapRecorder, count_distinct, first_gap_step, fit_line, growth_rate, incoming, split_step

__all__ = ["ConditionRun", "DatasetRun", "source_unit", "run_dataset", "PERTURB_SEED_OFFSET"]

#: The perturbation of seed s is drawn from ``torch.Generator().manual_seed(PERTURB_SEED_OFFSET + s)``.
PERTURB_SEED_OFFSET = 10_000
#: A unit is "live" at initialisation when it is active on at least this share of the training data.
LIVE_SHARE = 0.25


@dataclass
class ConditionRun:
    """One condition trained for every seed.

    Attributes
    ----------
    condition : Condition
    max_gap, mean_gap : np.ndarray of shape (S, steps + 1)
        Largest / mean distance between two hidden units' incoming vectors after each step.
    loss, accuracy : np.ndarray of shape (S, epochs + 1)
        On the whole training set, with the weights after each epoch (0 = initial weights).
    distinct : np.ndarray of shape (S, epochs + 1), int
        Distinct hidden units (groups further apart than the tolerance) after each epoch.
    split_step : np.ndarray of shape (S,)
        First step with largest gap above the tolerance (NaN: never; 0: already at the start).
    growth : np.ndarray of shape (S,)
        Average growth rate of ln(largest gap) per step before the split, fitted from step 0
        (NaN when undefined, e.g. when the gap was 0 at step 0).
    first_gap : np.ndarray of shape (S,)
        First step at which the largest gap was not exactly 0 (0: apart from the start; NaN:
        exactly 0 at every step -- the copies stayed bit-identical).
    gap_growth : np.ndarray of shape (S,)
        The same growth rate fitted from ``first_gap`` (for copies split by rounding: how fast
        the rounding difference grew); equals ``growth`` when the gap started above 0.
    source : np.ndarray of shape (S,), int
        The unit every unit copies (-1 when not symmetric).
    initial, final : dict of str -> np.ndarray of shape (S, ...)
        Weights before and after training.
    steps_per_epoch : int
    diverged : np.ndarray of shape (S,), bool
        Seeds whose training diverged (:mod:`nichelab.train.divergence`, or a non-finite gap or
        final loss); their rows of every other array are NaN (left out).
    """

    condition: Condition
    max_gap: np.ndarray
    mean_gap: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    distinct: np.ndarray
    split_step: np.ndarray
    growth: np.ndarray
    source: np.ndarray
    initial: dict
    final: dict
    steps_per_epoch: int
    first_gap: np.ndarray = field(default_factory=lambda: np.zeros(0))
    gap_growth: np.ndarray = field(default_factory=lambda: np.zeros(0))
    diverged: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def name(self) -> str:
        return self.condition.name

    def kept(self) -> "ConditionRun":
        """The same run restricted to the seeds that did not diverge (itself when none did)."""
        if not self.diverged.size or not self.diverged.any():
            return self
        ok = ~self.diverged
        cut = lambda a: np.asarray(a)[ok]  # noqa: E731
        return ConditionRun(self.condition, cut(self.max_gap), cut(self.mean_gap), cut(self.loss), cut(self.accuracy),
                            cut(self.distinct), cut(self.split_step), cut(self.growth), cut(self.source),
                            {k: cut(v) for k, v in self.initial.items()}, {k: cut(v) for k, v in self.final.items()},
                            self.steps_per_epoch, cut(self.first_gap), cut(self.gap_growth), self.diverged[ok])


@dataclass
class DatasetRun:
    """Every condition of one dataset, plus the tolerance and the fits.

    Attributes
    ----------
    dataset : str
    hidden : int
    n_samples, n_classes : int
    tol : np.ndarray of shape (S,)
        Absolute split tolerance per seed (``split_tol`` times the typical initial norm).
    norm0 : np.ndarray of shape (S,)
        Typical initial norm of an incoming vector (mean over the random network's units).
    runs : dict of str -> ConditionRun
    split_fit : dict
        Line through (ln(1/eps), split step) over every seed and eps that split after step 0
        (``slope`` in steps per factor e of eps).
    seed_fits : list of dict
        The same line for each seed on its own.
    seed_growth : np.ndarray of shape (S,)
        Each seed's median growth rate of ln(gap) per step over the eps conditions.
    collapse_error : float
        Largest |logit difference| between the trained symmetric networks and one-unit networks
        built from them (unit 0, outgoing weights times H); NaN if their units are not identical.
    tied_collapse_error : float
        The same for the tied networks (NaN when not run).
    dtype : str
        Training precision (``"float32"`` or ``"float64"``).
    prior_loss : float
        Cross-entropy of predicting the class frequencies (what an all-zero network can reach).
    """

    dataset: str
    hidden: int
    n_samples: int
    n_classes: int
    seeds: np.ndarray
    tol: np.ndarray
    norm0: np.ndarray
    runs: dict = field(default_factory=dict)
    split_fit: dict = field(default_factory=dict)
    seed_fits: list = field(default_factory=list)
    seed_growth: np.ndarray = field(default_factory=lambda: np.zeros(0))
    collapse_error: float = float("nan")
    prior_loss: float = float("nan")
    tied_collapse_error: float = float("nan")
    dtype: str = "float64"

    def kept(self) -> "DatasetRun":
        """The same dataset with every condition restricted to its seeds that did not diverge; conditions
        whose every seed diverged are dropped (see :meth:`all_diverged`)."""
        import dataclasses
        runs = {n: r.kept() for n, r in self.runs.items() if not (r.diverged.size and r.diverged.all())}
        return dataclasses.replace(self, runs=runs)

    def all_diverged(self) -> list[str]:
        """Conditions whose every seed diverged."""
        return [n for n, r in self.runs.items() if r.diverged.size and r.diverged.all()]

    def eps_runs(self) -> list[ConditionRun]:
        """The perturbed-symmetric conditions, smallest eps first."""
        return sorted((r for r in self.runs.values() if r.condition.eps > 0), key=lambda r: r.condition.eps)


def source_unit(model, X: np.ndarray) -> int:
    """The first hidden unit of L1 active (ReLU > 0) on at least ``LIVE_SHARE`` of ``X``, else the most active one.

    Copying a unit that is silent on the data would leave every unit silent and the network
    untrainable -- a different story (dead units) from the one this study tells.
    """
    with torch.no_grad():
        W, b = model.L1.linear.weight.double(), model.L1.linear.bias.double()
        pre = torch.as_tensor(np.asarray(X, np.float64)).reshape(len(X), -1) @ W.T + b
    share = (pre > 0).double().mean(dim=0).numpy()
    live = np.flatnonzero(share >= LIVE_SHARE)
    return int(live[0]) if live.size else int(np.argmax(share))


def _builder(data: Dataset, cond: Condition, hidden: int, dtype: torch.dtype, outgoing: str, sources: dict):
    spec = f"mlp {hidden}" + (f" dropout={cond.dropout:g}" if cond.dropout else "")

    def build(seed: int):
        m = build_model(spec, data.input_shape, data.n_classes,
                        init="zeros" if cond.init == "zeros" else "glorot", seed=seed).to(dtype)
        if cond.tied:
            m = tie_units(m, source=sources[seed], outgoing=outgoing)
        elif cond.init == "symmetric":
            make_symmetric(m, source=sources[seed], outgoing=outgoing)
            if cond.eps:
                perturb(m, cond.eps, torch.Generator().manual_seed(PERTURB_SEED_OFFSET + seed))
        elif cond.init == "alone":
            m = _alone(m, sources[seed])
        return m
    return build


@torch.no_grad()
def _alone(model, k: int):
    """The one-hidden-unit network made of unit ``k`` of ``model`` (incoming, bias, outgoing column)."""
    one = build_model("mlp 1", model.input_shape, model.n_classes, init="zeros").to(model.L1.linear.weight.dtype)
    one.L1.linear.weight.copy_(model.L1.linear.weight[k:k + 1])
    one.L1.linear.bias.copy_(model.L1.linear.bias[k:k + 1])
    one.L2.linear.weight.copy_(model.L2.linear.weight[:, k:k + 1])
    one.L2.linear.bias.copy_(model.L2.linear.bias)
    return one


def _forward(p: dict, X: np.ndarray) -> np.ndarray:
    """Logits (S, n, C) of one-hidden-layer networks, float64 (dropout is off at evaluation)."""
    return hidden_forward(p, X)[2]


def loss_accuracy(p: dict, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean cross-entropy and accuracy of every stacked network on ``X, y``: (S,), (S,)."""
    z = _forward(p, X)
    z = z - z.max(axis=2, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
    y = np.asarray(y)
    return -logp[:, np.arange(len(y)), y].mean(axis=1), (z.argmax(axis=2) == y[None]).mean(axis=1)


def _run_condition(data: Dataset, cond: Condition, cfg: SymmetryConfig, tol: np.ndarray, sources: dict,
                   progress) -> ConditionRun:
    hidden = cfg.hidden_for(data.name)
    tcfg = cfg.train_config(data.name, **cond.optimizer)
    build = _builder(data, cond, hidden, tcfg.torch_dtype, cfg.outgoing, sources)
    rec = GapRecorder()
    template = build(cfg.seed_list[0])
    hook = rec if not cond.tied else (lambda k, p: rec(k, {n: torch.as_tensor(v) for n, v in untie(
        template, {n: p[n].detach() for n in ("L1.linear.weight", "L1.linear.bias")}).items()}))
    ens = train_ensemble(build, data.X, data.y, tcfg, cfg.seed_list, on_step=hook, progress=progress)
    snapshots = {e: untie(template, p) for e, p in ens.snapshots.items()}   # tied: every unit's own (shared) numbers
    max_gap, mean_gap = rec.arrays()
    epochs = sorted(snapshots)
    la = [loss_accuracy(snapshots[e], data.X, data.y) for e in epochs]
    distinct = np.stack([count_distinct(incoming(snapshots[e]["L1.linear.weight"],
                                                 snapshots[e]["L1.linear.bias"]), tol) for e in epochs], axis=1)
    split = np.array([split_step(max_gap[s], tol[s]) for s in range(len(tol))])
    growth = np.array([growth_rate(max_gap[s], tol[s]) for s in range(len(tol))])
    first = np.array([first_gap_step(max_gap[s]) for s in range(len(tol))])
    gap_growth = np.array([growth_rate(max_gap[s], tol[s], start=int(f)) if np.isfinite(f) else float("nan")
                           for s, f in enumerate(first)])
    used = np.array([sources[s] if cond.init in ("symmetric", "alone") else -1 for s in cfg.seed_list])
    loss, acc = np.stack([l for l, _ in la], axis=1), np.stack([a for _, a in la], axis=1)
    diverged = np.asarray(ens.diverged, dtype=bool) | nonfinite_rows(loss, max_gap)
    if diverged.any():        # left out of every other number: NaN rows (distinct units become float)
        max_gap, mean_gap, loss, acc, distinct, split, growth, first, gap_growth = (
            np.where(diverged.reshape((-1,) + (1,) * (np.ndim(a) - 1)), np.nan, np.asarray(a, dtype=np.float64))
            for a in (max_gap, mean_gap, loss, acc, distinct, split, growth, first, gap_growth))
    return ConditionRun(cond, max_gap, mean_gap, loss, acc, distinct, split, growth, used,
                        snapshots[0], untie(template, ens.params), math.ceil(len(data) / tcfg.batch_size),
                        first, gap_growth, diverged)


def _collapse_error(run: ConditionRun, X: np.ndarray) -> float:
    """Largest |logit difference| between symmetric networks and their one-unit collapse (NaN if not identical)."""
    p = run.final
    W1, b1, W2 = (np.asarray(p[k], np.float64) for k in ("L1.linear.weight", "L1.linear.bias", "L2.linear.weight"))
    if np.any(W1 != W1[:, :1]) or np.any(b1 != b1[:, :1]) or np.any(W2 != W2[:, :, :1]):
        return float("nan")
    H = W1.shape[1]
    one = {"L1.linear.weight": W1[:, :1], "L1.linear.bias": b1[:, :1],
           "L2.linear.weight": H * W2[:, :, :1], "L2.linear.bias": p["L2.linear.bias"]}
    return float(np.abs(_forward(p, X) - _forward(one, X)).max())


def run_dataset(data: Dataset, cfg: SymmetryConfig, progress=None) -> DatasetRun:
    """Train and measure every condition of ``cfg.conditions(data.name)`` on ``data``.

    Parameters
    ----------
    data : Dataset
    cfg : SymmetryConfig
    progress : callable (done, total) -> None, optional
        Epochs done over all conditions of this dataset.
    """
    hidden = cfg.hidden_for(data.name)
    conds = cfg.conditions(data.name)
    seeds = cfg.seed_list
    randoms = {s: build_model(f"mlp {hidden}", data.input_shape, data.n_classes, seed=s) for s in seeds}
    sources = {s: source_unit(m, data.X) for s, m in randoms.items()}
    V0 = np.stack([incoming(m.L1.linear.weight.detach().numpy(), m.L1.linear.bias.detach().numpy())
                   for m in randoms.values()])
    norm0 = np.linalg.norm(V0, axis=2).mean(axis=1)
    tol = cfg.split_tol * norm0
    out = DatasetRun(data.name, hidden, len(data), data.n_classes, np.asarray(seeds), tol, norm0)
    E = cfg.epochs_for(data.name)
    for i, cond in enumerate(conds):
        cb = (lambda d, t, i=i: progress(i * E + d, len(conds) * E)) if progress else None
        out.runs[cond.name] = _run_condition(data, cond, cfg, tol, sources, cb)
    eps_runs = out.eps_runs()
    xs = [math.log(1 / r.condition.eps) for r in eps_runs for _ in seeds]
    ys = [t if t > 0 else float("nan") for r in eps_runs for t in r.split_step]
    out.split_fit = fit_line(xs, ys)
    ln_inv = np.array([math.log(1 / r.condition.eps) for r in eps_runs])
    for i in range(len(seeds)):
        t = np.array([r.split_step[i] for r in eps_runs])
        out.seed_fits.append(fit_line(ln_inv, np.where(t > 0, t, np.nan)))
    growth = np.array([[r.growth[i] for r in eps_runs] for i in range(len(seeds))]).reshape(len(seeds), -1)
    with np.errstate(all="ignore"):
        out.seed_growth = np.array([np.nanmedian(g) if np.isfinite(g).any() else np.nan for g in growth])
    out.collapse_error = _collapse_error(out.runs["symmetric"], data.X)
    if "tied" in out.runs:
        out.tied_collapse_error = _collapse_error(out.runs["tied"], data.X)
    out.dtype = cfg.dtype
    freq = np.bincount(data.y, minlength=data.n_classes) / len(data.y)
    out.prior_loss = float(-(freq[freq > 0] * np.log(freq[freq > 0])).sum())
    return out
