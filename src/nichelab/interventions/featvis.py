"""Feature visualisation: the input that maximises a unit, found by gradient ascent.

Starting from faint noise, the input is changed step by step to increase one unit's
activation, with the usual regularisers that keep it image-like (Olah, Mordvintsev &
Schubert 2017; Mahendran & Vedaldi 2016):

- jitter: the image is shifted by a random number of pixels (up to ``jitter``, wrapping
  around) before every step, so the result cannot rely on one exact pixel grid;
- total variation: ``tv * mean((x[i+1, j] - x[i, j])^2 + (x[i, j+1] - x[i, j])^2)``
  penalises high spatial frequencies;
- L2: ``l2 * mean((x - baseline)^2)`` keeps the input near a plain background;
- a box: pixels are clipped to ``value_range`` (the data's range) after every step, so the
  optimised input's activation can be compared with the dataset's.

Every unit gets its own image; all images are optimised together, in one batch and one
forward pass per step (which stops after the deepest requested layer). Randomness (the start
and the jitter) comes from a seeded ``torch.Generator``.

For the built-in blocks (``L2`` = conv + ReLU) the objective is the block's *pre-activation*
(``L2.conv``) by default: a ReLU unit that is silent at the start would otherwise get no
gradient at all. The reported activation is then the block's output, ``max(pre, 0)``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..capture import StopForward, call_key, hooks, resolve_layers, split_key
from ..errors import NichelabError, check_positive_int

__all__ = ["FeatVisResult", "visualize_units", "REDUCE"]

#: How a conv unit's (H, W) map becomes one number: the centre cell (a neuron, Olah et al.'s
#: default), the maximum over positions, or the mean (a "channel" objective).
REDUCE = ("center", "max", "mean")


@dataclass(frozen=True)
class FeatVisResult:
    """Optimised inputs, one per requested unit.

    Attributes
    ----------
    targets : list of (str, int)
        ``(layer, unit)`` of every image, as requested.
    images : (k, *input_shape) float32
        Image ``i`` maximises ``targets[i]``.
    activation : (k,) float64
        Each unit's activation on its own image (reduced over space with ``reduce``; after the
        block's ReLU when the pre-activation was optimised), without jitter.
    history : (steps, k) float64
        The optimised quantity (with that step's jitter) at every step.
    reduce : str
    settings : dict
        steps, lr, jitter, tv, l2, baseline, value_range, seed, pre_activation, positions.
    """

    targets: list
    images: np.ndarray
    activation: np.ndarray
    history: np.ndarray
    reduce: str
    settings: dict = field(default_factory=dict)

    @property
    def unit_names(self) -> list[str]:
        """``["layer:k", ...]``."""
        return [f"{layer}:{int(k)}" for layer, k in self.targets]


def _forward_to(model: nn.Module, layers: list[str], x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Run ``model`` on ``x`` until every layer in ``layers`` has run; return their outputs (with graph).

    Uses :func:`nichelab.capture.hooks` (``stop=True``: the forward pass stops after the deepest
    layer; the hooks are removed in every case). Outputs have their units on axis 1.
    """
    names = list(dict.fromkeys(layers))
    try:
        with hooks(model, names, keep_graph=True, stop=True) as box:
            try:
                model(x)
            except StopForward:
                pass
            box = dict(box)
    except NichelabError as err:
        raise NichelabError(f"feature visualisation: {err}") from None
    missing = [n for n in names if call_key(*_first(n)) not in box]
    if missing:
        raise NichelabError(f"layers {missing} never ran during the forward pass; check that the model uses them")
    out = {}
    for n in names:
        t = box[call_key(*_first(n))]
        if not isinstance(t, torch.Tensor) or t.ndim < 2:
            raise NichelabError(f"layer {n!r} must output a tensor of shape (n, units, ...); got {type(t).__name__}")
        out[n] = t
    return out


def _first(name: str) -> tuple[str, int]:
    base, call = split_key(name)
    return base, call or 0


def _reduce(out: torch.Tensor, reduce: str) -> torch.Tensor:
    """(n, units, *spatial) -> (n, units)."""
    if out.ndim == 2:
        return out
    flat = out.flatten(2)
    if reduce == "max":
        return flat.amax(dim=2)
    if reduce == "mean":
        return flat.mean(dim=2)
    idx = [(s - 1) // 2 for s in out.shape[2:]]
    return out[(slice(None), slice(None), *idx)]


def _tv(x: torch.Tensor) -> torch.Tensor:
    """Per-image mean squared difference between neighbouring pixels: (n, C, H, W) -> (n,)."""
    dh = (x[..., 1:, :] - x[..., :-1, :]).pow(2).flatten(1).mean(1)
    dw = (x[..., :, 1:] - x[..., :, :-1]).pow(2).flatten(1).mean(1)
    return dh + dw


def _parse_targets(targets) -> list[tuple[str, int]]:
    items = [targets] if isinstance(targets, (str, tuple)) else list(targets)
    out = []
    for t in items:
        if isinstance(t, str):
            m = re.match(r"^\s*(.+?)\s*:\s*(\d+)\s*$", t)
            if not m:
                raise NichelabError(f"units must look like 'LAYER:UNIT', e.g. 'L2:5'; got {t!r}")
            t = (m[1], int(m[2]))
        if (not isinstance(t, tuple) or len(t) != 2 or not isinstance(t[0], str)
                or isinstance(t[1], bool) or not isinstance(t[1], (int, np.integer))):
            raise NichelabError(f"units must be 'LAYER:UNIT' strings or (layer, unit) pairs; got {t!r}")
        out.append((t[0], int(t[1])))
    if not out:
        raise NichelabError("units must name at least one unit, e.g. ['L2:5']")
    return out


def _objective_layer(model: nn.Module, layer: str, pre_activation: bool) -> tuple[str, bool]:
    """The module whose output is maximised, and whether a ReLU-like block activation follows it."""
    base, call = split_key(layer)
    module = model.get_submodule(base)
    children = module._modules
    if pre_activation and call is None and "act" in children and ("conv" in children or "linear" in children):
        inner = "conv" if "conv" in children else "linear"
        return f"{layer}.{inner}", True
    return layer, False


def visualize_units(model: nn.Module, units, *, input_shape=None, steps: int = 200, lr: float = 0.05,
                    jitter=1, tv: float = 5.0, l2: float = 0.5, baseline: float | None = None,
                    value_range: tuple[float, float] = (0.0, 1.0), reduce: str = "center",
                    positions=None, pre_activation: bool = True, scale=None, seed: int = 0) -> FeatVisResult:
    """Find, for each unit, an input that maximises its activation (regularised gradient ascent).

    Parameters
    ----------
    model : torch.nn.Module
        A trained model; it is used in eval mode and left in the mode it had. Its parameters
        get no gradients.
    units : list of str or of (str, int)
        Units to visualise, ``"L2:5"`` or ``("L2", 5)``: layer names from
        ``model.named_modules()`` and unit (channel) indices. One image each.
    input_shape : tuple of int, optional
        One sample's shape, e.g. ``(1, 32, 32)``; default ``model.input_shape`` (built-in models).
    steps : int, default 200
        Adam steps.
    lr : float, default 0.05
        Adam learning rate (pixels in ``value_range`` units).
    jitter : int or sequence of int (one per unit), default 1
        Largest random shift in pixels per step (0 = none). Keep it well below a unit's
        receptive field: a 3x3 filter shifted by 1 pixel sees a different pattern.
    tv : float, default 5.0
        Weight of the total-variation penalty (per unit of the scaled objective).
    l2 : float, default 0.5
        Weight of the L2 penalty towards ``baseline``.
    baseline : float, optional
        Background value of the start and of the L2 penalty; default the middle of ``value_range``.
    value_range : (float, float), default (0, 1)
        Pixels are clipped to this range after every step.
    reduce : {"center", "max", "mean"}, default "center"
        How a conv unit's map becomes the maximised number (ignored for dense layers).
    positions : list of (int, int) or None, optional
        One entry per unit: the map cell ``(row, col)`` to maximise instead of ``reduce``
        (e.g. where the unit peaked on its best real image); None entries use ``reduce``.
    pre_activation : bool, default True
        For built-in blocks (children ``.conv``/``.linear`` and ``.act``), maximise the
        pre-activation and report ``act(pre)``, so silent ReLU units still get a gradient.
    scale : float or array of shape (k,), optional
        Divide each unit's activation by this in the objective (e.g. its largest activation on
        the data), so the regularisers weigh the same for every layer. Default 1.
    seed : int, default 0
        Seed of the start noise and the jitter.

    Returns
    -------
    FeatVisResult

    Raises
    ------
    NichelabError
        Unknown layer (with close names), malformed units, units out of range, bad settings,
        no input shape.

    Example
    -------
    >>> res = visualize_units(model, ["L1:0", "L3:4"], steps=100)  # doctest: +SKIP
    >>> res.images.shape, res.unit_names
    ((2, 1, 32, 32), ['L1:0', 'L3:4'])

    References
    ----------
    Erhan, Bengio, Courville & Vincent 2009, "Visualizing higher-layer features of a deep
    network"; Mahendran & Vedaldi 2016, "Visualizing deep convolutional neural networks using
    natural pre-images", IJCV; Olah, Mordvintsev & Schubert 2017, "Feature visualization",
    Distill.
    """
    targets = _parse_targets(units)
    resolve_layers(model, [layer for layer, _ in targets])           # unknown names -> close matches
    if reduce not in REDUCE:
        raise NichelabError(f"reduce must be one of {', '.join(REDUCE)}; got {reduce!r}")
    steps = check_positive_int("steps", steps)
    jit = [jitter] * len(targets) if np.ndim(jitter) == 0 else list(jitter)
    if len(jit) != len(targets):
        raise NichelabError(f"jitter must be one int or one per unit ({len(targets)}); got {len(jit)} values")
    jit = [check_positive_int("jitter", j, minimum=0) for j in jit]
    for name, v, low in (("lr", lr, 1e-12), ("tv", tv, 0.0), ("l2", l2, 0.0)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (np.isfinite(v) and v >= low):
            raise NichelabError(f"{name} must be a finite number {'> 0' if name == 'lr' else '>= 0'}; got {v!r}")
    lo, hi = (float(v) for v in value_range)
    if not lo < hi:
        raise NichelabError(f"value_range must be (low, high) with low < high; got {value_range!r}")
    shape = tuple(input_shape) if input_shape is not None else tuple(getattr(model, "input_shape", ()) or ())
    if not shape:
        raise NichelabError("input_shape is needed for models without an input_shape attribute, e.g. (1, 32, 32)")
    base = (lo + hi) / 2 if baseline is None else float(baseline)
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    gen = torch.Generator().manual_seed(int(seed))
    pos = [None] * len(targets) if positions is None else list(positions)
    if len(pos) != len(targets):
        raise NichelabError(f"positions must have one entry per unit ({len(targets)}); got {len(pos)}")
    objective = [_objective_layer(model, layer, pre_activation) for layer, _ in targets]
    obj_layers = list(dict.fromkeys(o for o, _ in objective))
    k = len(targets)

    was_training = model.training
    model.eval()
    try:
        x = (base + 0.01 * (hi - lo) * torch.randn((k, *shape), generator=gen, dtype=dtype)).clamp(lo, hi)
        with torch.no_grad():
            outs = _forward_to(model, obj_layers, x)
        for (layer, unit), (o, _), p in zip(targets, objective, pos):
            n_units = outs[o].shape[1]
            if not 0 <= unit < n_units:
                raise NichelabError(f"unit {unit} of layer {layer!r} is out of range; it has {n_units} units "
                                    f"({layer}:0..{layer}:{n_units - 1})")
            if p is not None and (outs[o].ndim != 4 or len(p) != 2
                                  or not all(0 <= int(v) < n for v, n in zip(p, outs[o].shape[2:]))):
                raise NichelabError(f"position {p!r} of {layer}:{unit} must be a (row, col) cell of its "
                                    f"{tuple(outs[o].shape[2:])} map")
        sc = torch.ones(k, dtype=dtype) if scale is None else torch.as_tensor(
            np.broadcast_to(np.asarray(scale, dtype=np.float64), (k,)).copy(), dtype=dtype)
        sc = torch.where(sc.abs() > 1e-12, sc.abs(), torch.ones_like(sc))
        units_t = torch.as_tensor([u for _, u in targets])

        def values(xi: torch.Tensor) -> torch.Tensor:
            outs = _forward_to(model, obj_layers, xi)
            vals = []
            for i, ((o, _), p) in enumerate(zip(objective, pos)):
                m = outs[o][i, units_t[i]]                            # image i's own unit map (or value)
                vals.append(m[int(p[0]), int(p[1])] if p is not None else _reduce(m[None, None], reduce)[0, 0])
            return torch.stack(vals)

        x.requires_grad_(True)
        opt = torch.optim.Adam([x], lr=lr)
        history = np.zeros((steps, k))
        spatial = tuple(range(2, 1 + len(shape))) if len(shape) >= 2 else ()
        shift_dims = tuple(d - 1 for d in spatial)                    # dims of one image
        for step in range(steps):
            xi = x
            if any(jit) and spatial:
                u = torch.rand((k, len(spatial)), generator=gen, dtype=torch.float64)
                shifts = torch.floor(u * (2 * torch.tensor(jit)[:, None] + 1)).long() - torch.tensor(jit)[:, None]
                xi = torch.stack([torch.roll(x[i], shifts=shifts[i].tolist(), dims=shift_dims) if jit[i] else x[i]
                                  for i in range(k)])
            v = values(xi)
            loss = -(v / sc).sum()
            if tv and len(shape) == 3:
                loss = loss + tv * _tv(x).sum()
            if l2:
                loss = loss + l2 * (x - base).pow(2).flatten(1).mean(1).sum()
            (grad,) = torch.autograd.grad(loss, [x])
            opt.zero_grad()
            x.grad = grad
            opt.step()
            with torch.no_grad():
                x.clamp_(lo, hi)
            history[step] = v.detach().double().numpy()
        with torch.no_grad():
            final = values(x).double().numpy()
    finally:
        model.train(was_training)
    act = np.array([_block_act(model, layer, v) if relu else v
                    for v, (layer, _), (_, relu) in zip(final, targets, objective)])
    settings = {"steps": steps, "lr": float(lr), "jitter": jit, "tv": float(tv), "l2": float(l2),
                "baseline": base, "value_range": (lo, hi), "seed": int(seed), "pre_activation": bool(pre_activation),
                "positions": pos}
    return FeatVisResult(targets, x.detach().float().numpy(), act, history, reduce, settings)


def _block_act(model: nn.Module, layer: str, pre: float) -> float:
    """The block's activation function applied to one pre-activation value."""
    with torch.no_grad():
        return float(model.get_submodule(layer).act(torch.tensor([pre])).item())
