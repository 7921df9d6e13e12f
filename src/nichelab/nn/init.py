"""Initialisation schemes, driven by an explicit ``torch.Generator``.

``glorot``: Keras' default (Glorot & Bengio 2010 uniform weights, limit sqrt(6 / (fan_in + fan_out)),
zero biases). ``torch``: PyTorch's default for ``nn.Linear`` / ``nn.Conv2d`` (weights and biases
uniform in +-1/sqrt(fan_in)). ``zeros``: every weight and bias 0. ``symmetric``: ``glorot``, then
every hidden unit made a copy of unit 0 (:func:`make_symmetric`).

:func:`perturb` adds small Gaussian noise of a chosen size to every weight and bias, to break such
a symmetry by a controlled amount.
"""
from __future__ import annotations

import math
import numbers

import torch
from torch import nn

from ..errors import NichelabError, suggest

__all__ = ["INIT_SCHEMES", "init_model", "fans", "make_symmetric", "perturb", "weight_layers"]

INIT_SCHEMES = ("glorot", "torch", "zeros", "symmetric")


def fans(weight: torch.Tensor) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of a Linear (out, in) or Conv (out, in, kh, kw) weight, as Keras counts them."""
    receptive = int(math.prod(weight.shape[2:])) if weight.ndim > 2 else 1
    return weight.shape[1] * receptive, weight.shape[0] * receptive


@torch.no_grad()
def _init_layer(layer: nn.Module, scheme: str, gen: torch.Generator) -> None:
    w, b = layer.weight, layer.bias
    fan_in, fan_out = fans(w)
    if scheme == "glorot":
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        w.uniform_(-limit, limit, generator=gen)
        if b is not None:
            b.zero_()
    elif scheme == "torch":
        bound = 1.0 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) reduces to this bound
        w.uniform_(-bound, bound, generator=gen)
        if b is not None:
            b.uniform_(-bound, bound, generator=gen)
    else:  # zeros
        w.zero_()
        if b is not None:
            b.zero_()


def init_model(model: nn.Module, scheme: str = "glorot", *, seed: int | None = None,
               generator: torch.Generator | None = None) -> nn.Module:
    """Initialise every Linear and Conv2d layer of ``model`` in place, in ``named_modules()`` order.

    Parameters
    ----------
    model : nn.Module
    scheme : {"glorot", "torch", "zeros", "symmetric"}, default "glorot"
    seed : int, optional
        Seed of a fresh CPU generator (ignored when ``generator`` is given).
    generator : torch.Generator, optional

    Returns
    -------
    nn.Module
        The same model.

    Raises
    ------
    NichelabError
        Unknown scheme.
    """
    if scheme not in INIT_SCHEMES:
        raise NichelabError(f"init must be one of {', '.join(INIT_SCHEMES)}; got {scheme!r}{suggest(scheme, INIT_SCHEMES)}",
                            field="init")
    gen = generator if generator is not None else torch.Generator().manual_seed(int(seed or 0))
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            _init_layer(module, "glorot" if scheme == "symmetric" else scheme, gen)
    return make_symmetric(model) if scheme == "symmetric" else model


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(name, module)`` of every ``nn.Linear`` / ``nn.Conv2d`` in ``named_modules()`` order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def _resolve(model: nn.Module, layers, *, hidden_only: bool) -> list[str]:
    """Weight-layer names for ``layers`` (block or weight-layer names); None = every hidden one (or every one)."""
    names = [n for n, _ in weight_layers(model)]
    allowed = names[:-1] if hidden_only else names
    if layers is None:
        return allowed
    out = []
    for name in ([layers] if isinstance(layers, str) else list(layers)):
        match = next((c for c in (name, f"{name}.linear", f"{name}.conv") if c in names), None)
        if match is None:
            blocks = [n.rsplit(".", 1)[0] for n in names if n.endswith((".linear", ".conv"))]
            raise NichelabError(f"layers must name weight layers of the model ({', '.join(allowed)}); "
                                f"got {name!r}{suggest(name, blocks + names)}")
        if match not in allowed:
            raise NichelabError(f"layers cannot include the output layer {match!r}: its units are the classes")
        out.append(match)
    return sorted(set(out), key=names.index)


@torch.no_grad()
def make_symmetric(model: nn.Module, layers=None, *, source: int = 0, outgoing: str = "copy") -> nn.Module:
    """Make every unit of the chosen hidden layers an exact copy of unit ``source`` (0), in place.

    For each chosen layer, in order: every unit's incoming weights and bias are set to the source
    unit's, and in the next weight layer every unit's outgoing weights (its column, or for a conv
    layer followed by a flatten and a Linear, its block of ``H*W`` columns) are set to the source
    unit's. The
    units then compute the same activation and, in exact arithmetic, receive the same gradient
    (REFERENCES.md, "Symmetry"). They are separate numbers, though: a matrix-multiply routine may
    sum identical rows in different orders, and the last-bit difference can grow during training
    (on some CPUs and precisions). For units identical by construction use
    :func:`nichelab.nn.tied.tie_units`.

    Parameters
    ----------
    model : nn.Module
        Built-in models (``Net``) or any model whose weight layers (Linear / Conv2d) run in
        ``named_modules()`` order.
    layers : str or list of str, optional
        Block names (``"L1"``) or weight-layer names (``"L1.linear"``); default every weight layer
        except the output layer.
    source : int, default 0
        The unit copied (e.g. a unit known to be active on the data: copying a silent ReLU unit
        leaves every unit silent).
    outgoing : {"copy", "split"}, default "copy"
        ``copy``: every unit gets the source's outgoing weights. ``split``: every unit gets
        ``1/units`` of them, so the layer's units together send exactly what the source unit sent
        alone -- the network then starts as the network in which the source is the only unit.

    Returns
    -------
    nn.Module
        The same model.

    Raises
    ------
    NichelabError
        A name that is not a hidden weight layer; ``source`` outside a layer's units; a next
        layer whose inputs do not divide evenly among the units.

    Examples
    --------
    >>> from nichelab.nn import build_model
    >>> m = make_symmetric(build_model("mlp 4", (2,), 3, seed=0))
    >>> bool((m.L1.linear.weight == m.L1.linear.weight[0]).all())
    True
    """
    mods = dict(weight_layers(model))
    names = list(mods)
    for name in _resolve(model, layers, hidden_only=True):
        layer, nxt = mods[name], mods[names[names.index(name) + 1]]
        units = layer.weight.shape[0]
        if outgoing not in ("copy", "split"):
            raise NichelabError(f"outgoing must be 'copy' or 'split'; got {outgoing!r}")
        if not 0 <= int(source) < units:
            raise NichelabError(f"source must be a unit of {name!r} (0..{units - 1}); got {source!r}")
        k = int(source)
        layer.weight.copy_(layer.weight[k:k + 1].clone().expand_as(layer.weight))
        if layer.bias is not None:
            layer.bias.copy_(layer.bias[k:k + 1].clone().expand_as(layer.bias))
        fan = nxt.weight.shape[1]
        if fan % units:
            raise NichelabError(f"cannot copy the outgoing weights of {name!r}: the next layer has {fan} inputs, "
                                f"not a multiple of its {units} units")
        per = fan // units   # 1 for dense -> dense; H*W after a conv and a flatten; 1 for conv -> conv
        w = nxt.weight.view(nxt.weight.shape[0], units, per, *nxt.weight.shape[2:])
        w.copy_(w[:, k:k + 1].clone().expand_as(w))
        if outgoing == "split":
            w.div_(units)
    return model


@torch.no_grad()
def perturb(model: nn.Module, eps: float, generator: torch.Generator | None = None, *,
            layers=None) -> nn.Module:
    """Add ``eps * z`` (z standard normal, one draw per value) to weights and biases, in place.

    Parameters
    ----------
    model : nn.Module
    eps : float
        Size of the perturbation, >= 0 (the standard deviation of the noise per value).
    generator : torch.Generator, optional
        Source of the noise (default: a fresh generator seeded 0).
    layers : list of str, optional
        Weight layers to perturb (block or weight-layer names); default every Linear / Conv2d,
        the output layer included.

    Returns
    -------
    nn.Module
        The same model.

    Raises
    ------
    NichelabError
        Negative or non-finite ``eps``, unknown layer names.
    """
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not math.isfinite(eps) or eps < 0:
        raise NichelabError(f"eps must be a finite number >= 0; got {eps!r}")
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    mods = dict(weight_layers(model))
    for name in _resolve(model, layers, hidden_only=False):
        for p in (mods[name].weight, mods[name].bias):
            if p is not None:
                p.add_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * eps)
    return model
