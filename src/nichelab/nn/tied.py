"""Tied units: hidden units that are identical by construction (one shared parameter vector).

:func:`~nichelab.nn.init.make_symmetric` makes units *copies* of one unit: separate numbers that
are equal at the start. In exact arithmetic they stay equal, but a computer sums in floating
point, and a matrix-multiply routine may add up identical rows in different orders, so copies can
receive gradients that differ in the last bit and then drift apart (the symmetric point is
unstable). :func:`tie_units` instead gives the units of a layer ONE incoming row and bias (and the
next layer one shared column for them): the units read the same numbers in memory, so they are
identical whatever the hardware does.

The shared parameter receives the *mean* of the gradients its copies would receive, so a tied
layer follows the path that exactly identical copies follow in exact arithmetic (every copy gets
the same gradient, which is that mean), with any optimizer (SGD, momentum, Adam, weight decay act
element-wise). See REFERENCES.md, "Symmetry" (Fukumizu & Amari 2000).
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import NichelabError
from .init import make_symmetric

__all__ = ["TiedLinear", "tie_units", "untie", "tied_layers"]


def _share(p: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """``p`` broadcast to ``shape``; its value is ``p`` exactly, its gradient the mean over the copies."""
    n = math.prod(shape) // p.numel()
    if n == 1:
        return p.reshape(shape)
    fixed = p.detach()
    g = fixed + (p - fixed) / n      # value: fixed + 0 = p exactly; d g / d p = 1/n
    return g.expand(shape)


class TiedLinear(nn.Module):
    """A linear map whose output units share one row and/or whose inputs share one column.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of the full map (what an ``nn.Linear`` of the same shape computes).
    tie_out : bool
        Every output unit reads one shared incoming row and bias: ``weight`` has shape
        (1, in) and ``bias`` (1,).
    tie_in : bool
        Every input (a tied unit of the previous layer) sends through one shared column:
        ``weight`` has shape (out, 1). Both: ``weight`` is (1, 1).

    Attributes
    ----------
    weight : nn.Parameter of shape (1 or out, 1 or in)
    bias : nn.Parameter of shape (1 or out,)

    Notes
    -----
    ``forward(x)`` equals ``F.linear(x, full_weight(), full_bias())``: input (batch, in),
    output (batch, out), in the parameters' dtype.
    """

    def __init__(self, in_features: int, out_features: int, *, tie_out: bool, tie_in: bool):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.tie_out, self.tie_in = bool(tie_out), bool(tie_in)
        self.weight = nn.Parameter(torch.zeros(1 if tie_out else out_features, 1 if tie_in else in_features))
        self.bias = nn.Parameter(torch.zeros(1 if tie_out else out_features))

    def full_weight(self) -> torch.Tensor:
        """The (out, in) weight every unit uses (a broadcast view of the shared numbers)."""
        return _share(self.weight, (self.out_features, self.in_features))

    def full_bias(self) -> torch.Tensor:
        """The (out,) bias."""
        return _share(self.bias, (self.out_features,))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.full_weight(), self.full_bias())

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"tie_out={self.tie_out}, tie_in={self.tie_in}")


def tied_layers(model: nn.Module) -> dict[str, TiedLinear]:
    """``{module name: TiedLinear}`` of every tied map in ``model`` (empty for an ordinary model)."""
    return {n: m for n, m in model.named_modules() if isinstance(m, TiedLinear)}


@torch.no_grad()
def tie_units(model: nn.Module, layers=None, *, source: int = 0, outgoing: str = "split") -> nn.Module:
    """A copy of an MLP whose chosen hidden layers' units are tied to unit ``source``.

    Every unit of a chosen layer reads one shared incoming row and bias (unit ``source``'s), and
    the next layer sends every such unit through one shared column (unit ``source``'s outgoing
    weights; divided by the number of units with ``outgoing="split"``). Parameter names stay
    ``L1.linear.weight`` etc., with the tied axis of size 1; :func:`untie` expands them back.

    Parameters
    ----------
    model : nn.Module
        A built-in MLP (``build_model("mlp ...")``); not modified.
    layers : str or list of str, optional
        Hidden blocks to tie (``"L1"``); default every hidden layer.
    source : int, default 0
        The unit whose weights every tied unit shares.
    outgoing : {"split", "copy"}, default "split"
        As in :func:`~nichelab.nn.init.make_symmetric`: ``split`` makes the tied network start as
        the network in which ``source`` is the only unit.

    Returns
    -------
    nn.Module
        A new model computing, at the start, exactly what ``make_symmetric(model, ...)`` computes.

    Raises
    ------
    NichelabError
        A model whose weight layers are not all ``nn.Linear`` (e.g. a CNN), or a bad layer name,
        ``source`` or ``outgoing`` (as in ``make_symmetric``).

    References
    ----------
    Fukumizu, K. & Amari, S. (2000). Local minima and plateaus in hierarchical structures of
    multilayer perceptrons. Neural Networks 13, 317-327.

    Examples
    --------
    >>> from nichelab.nn import build_model
    >>> t = tie_units(build_model("mlp 4", (2,), 3, seed=0))
    >>> tuple(t.L1.linear.weight.shape), tuple(t.L2.linear.weight.shape)
    ((1, 2), (3, 1))
    """
    mods = [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d, TiedLinear))]
    if not mods or any(type(m) is not nn.Linear for _, m in mods):
        raise NichelabError("tie_units needs an MLP whose weight layers are all nn.Linear (no convolutions, "
                            f"no tied layers already); got {type(model).__name__}")
    out = make_symmetric(copy.deepcopy(model), layers, source=source, outgoing=outgoing)
    from .init import _resolve
    tied = set(_resolve(out, layers, hidden_only=True))
    names = [n for n, _ in mods]
    k = int(source)
    for i, name in enumerate(names):
        tie_out, tie_in = name in tied, i > 0 and names[i - 1] in tied
        if not (tie_out or tie_in):
            continue
        parent_name, _, attr = name.rpartition(".")
        parent = out.get_submodule(parent_name) if parent_name else out
        old = getattr(parent, attr)
        new = TiedLinear(old.in_features, old.out_features, tie_out=tie_out, tie_in=tie_in).to(old.weight.dtype)
        w = old.weight
        w = w[k:k + 1] if tie_out else w
        w = w[:, k:k + 1] if tie_in else w
        new.weight.copy_(w)
        new.bias.copy_(old.bias[k:k + 1] if tie_out else old.bias)
        setattr(parent, attr, new)
    return out


def untie(model: nn.Module, params: dict) -> dict:
    """Parameters of ``model`` (tied or not) expanded to the full shapes of the untied network.

    Parameters
    ----------
    model : nn.Module
        The tied model (gives the full shapes); an untied model returns ``params`` unchanged.
    params : dict of str -> array of shape (..., *parameter shape)
        Parameters, optionally with leading axes (e.g. seeds: (S, 1, d)); numpy arrays or tensors.

    Returns
    -------
    dict of str -> np.ndarray
        Same keys; tied weights become (..., out, in) and tied biases (..., out), every copy
        holding the shared numbers exactly.
    """
    full = {}
    for name, m in tied_layers(model).items():
        full[f"{name}.weight"] = (m.out_features, m.in_features)
        full[f"{name}.bias"] = (m.out_features,)
    out = {}
    for k, v in params.items():
        a = v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)
        if k in full:
            shape = full[k]
            a = np.broadcast_to(a, a.shape[:a.ndim - len(shape)] + shape).copy()
        out[k] = a
    return out
