"""Initialisation schemes, driven by an explicit ``torch.Generator``.

``glorot``: Keras' default (Glorot & Bengio 2010 uniform weights, limit sqrt(6 / (fan_in + fan_out)),
zero biases). ``torch``: PyTorch's default for ``nn.Linear`` / ``nn.Conv2d`` (weights and biases
uniform in +-1/sqrt(fan_in)). ``zeros``: every weight and bias 0.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import NichelabError, suggest

__all__ = ["INIT_SCHEMES", "init_model", "fans"]

INIT_SCHEMES = ("glorot", "torch", "zeros")


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
    scheme : {"glorot", "torch", "zeros"}, default "glorot"
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
        raise NichelabError(f"--init must be one of {', '.join(INIT_SCHEMES)}; got {scheme!r}{suggest(scheme, INIT_SCHEMES)}")
    gen = generator if generator is not None else torch.Generator().manual_seed(int(seed or 0))
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            _init_layer(module, scheme, gen)
    return model
