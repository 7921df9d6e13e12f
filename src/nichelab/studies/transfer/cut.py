"""Cut-and-freeze: build a network for task B whose first n blocks come from another network.

The built-in models are sequences of blocks ``L1 .. LL`` (the last one is the output layer).
For a cut ``n`` (1 <= n <= L-1) the first ``n`` blocks are copied from a source network (baseA
for AnB, baseB for BnB) or left at their random initialisation (the random control), and are
either frozen (``requires_grad=False``; the trainers leave them bit-identical) or fine-tuned
(the ``+`` conditions). The blocks above the cut keep the target model's fresh initialisation
and are always trained (Yosinski, Clune, Bengio & Lipson 2014).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import torch
from torch import nn

from ...errors import NichelabError
from .config import CONDITION_INFO, CONDITIONS

__all__ = ["CONDITIONS", "CONDITION_INFO", "blocks", "block_params", "cut_range", "transfer_model"]


def blocks(model: nn.Module) -> list[str]:
    """Names of the model's blocks ``L1 .. LL`` in order, the output layer last.

    Uses ``model.hidden`` and ``model.output`` of a built-in :class:`nichelab.nn.Net`.

    Raises
    ------
    NichelabError
        The model is not a built-in network with named blocks.
    """
    hidden, output = getattr(model, "hidden", None), getattr(model, "output", None)
    if hidden is None or output is None:
        raise NichelabError(f"transfer needs a built-in network with blocks L1..Ln (nichelab.nn.build_model); "
                            f"got {type(model).__name__}")
    return list(hidden) + [output]


def cut_range(model: nn.Module) -> list[int]:
    """The possible cuts ``1 .. L-1`` of a model with ``L`` blocks."""
    return list(range(1, len(blocks(model))))


def block_params(model: nn.Module, n: int) -> list[str]:
    """Parameter names of the first ``n`` blocks (e.g. ``L1.linear.weight``, ``L1.linear.bias``, ...)."""
    names = blocks(model)[:n]
    return [k for k, _ in model.named_parameters() if k.split(".", 1)[0] in names]


def _as_tensor(v) -> torch.Tensor:
    return v.detach() if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v))


@torch.no_grad()
def transfer_model(target: nn.Module, n: int, source: Mapping | nn.Module | None, *, freeze: bool) -> nn.Module:
    """Prepare ``target`` in place: copy its first ``n`` blocks from ``source`` and freeze them if asked.

    Parameters
    ----------
    target : nichelab.nn.Net
        A freshly initialised network for task B (its output layer has B's class count).
    n : int
        The cut, 1 <= n <= L-1: blocks ``L1 .. Ln`` are transferred; ``L{n+1} .. LL`` keep
        their fresh initialisation and are trained.
    source : dict of str -> array, nn.Module or None
        One source network's parameters keyed by name (e.g. one seed's slice of
        :attr:`EnsembleResult.params`) or the network itself; ``None`` keeps the target's
        own random initialisation (the random control).
    freeze : bool
        Set ``requires_grad=False`` on the first ``n`` blocks' parameters.

    Returns
    -------
    nn.Module
        ``target``, with its first ``n`` blocks equal to the source's, bit for bit.

    Raises
    ------
    NichelabError
        ``n`` outside 1..L-1, or the source lacks a parameter or has another shape
        (e.g. inputs of another size).
    """
    names = blocks(target)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= len(names) - 1:
        raise NichelabError(f"cut n must be an integer in 1..{len(names) - 1} (the model has {len(names)} "
                            f"blocks {', '.join(names)}); got {n!r}")
    keys = block_params(target, int(n))
    params = dict(target.named_parameters())
    if source is not None:
        src = dict(source.named_parameters()) if isinstance(source, nn.Module) else dict(source)
        for k in keys:
            if k not in src:
                raise NichelabError(f"the source network has no parameter {k!r}; it has {', '.join(src)}")
            value = _as_tensor(src[k])
            if tuple(value.shape) != tuple(params[k].shape):
                raise NichelabError(f"cannot copy {k!r}: source shape {tuple(value.shape)}, target shape "
                                    f"{tuple(params[k].shape)} (are the inputs of both tasks the same size?)")
            params[k].copy_(value.to(params[k].dtype))
    if freeze:
        for k in keys:
            params[k].requires_grad_(False)
    return target
