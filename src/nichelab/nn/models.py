"""Built-in models with named layers: blocks ``L1, L2, ...`` whose output is the activation.

Each block holds its affine map (``.linear`` or ``.conv``: the pre-activation) and its
activation (``.act``), so ``capture(model, x, ["L1"])`` gives activations and
``["L1.linear"]`` pre-activations. Unit ``k`` of block ``L1`` is written ``L1:k``.
"""
from __future__ import annotations

import math
from collections import OrderedDict

import torch
from torch import nn

from ..errors import NichelabError
from .init import init_model
from .spec import ModelSpec, parse_spec

__all__ = ["Dense", "ConvBlock", "Net", "build_model", "make_activation"]


def make_activation(name: str) -> nn.Module:
    """Return a fresh activation module for ``name`` (``relu``, ``tanh``, ``sigmoid``, ``gelu``, ``linear``)."""
    return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
            "linear": nn.Identity}[name]()


class Dense(nn.Module):
    """A dense layer ``act(x W' + b)``: ``.linear`` (pre-activation) then ``.act``.

    Input (batch, in_features) float32; output (batch, out_features).
    """

    def __init__(self, in_features: int, out_features: int, act: str = "relu"):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.act = make_activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.linear(x))


class ConvBlock(nn.Module):
    """A convolution layer ``act(conv(x))`` with 'same' padding; (batch, C_in, H, W) -> (batch, C_out, H, W)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 3, act: str = "relu"):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2)
        self.act = make_activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x))


class Net(nn.Sequential):
    """A built-in network: an ``nn.Sequential`` of named blocks, plus its spec.

    Attributes
    ----------
    spec : ModelSpec
    input_shape : tuple of int
        Shape of one input sample, e.g. ``(2,)`` or ``(1, 8, 8)``.
    n_classes : int
    hidden : list of str
        Names of the hidden blocks (``L1`` ... ``L{n-1}``), in order.
    output : str
        Name of the output layer (its output is the logits).
    """

    def __init__(self, layers: "OrderedDict[str, nn.Module]", spec: ModelSpec,
                 input_shape: tuple[int, ...], n_classes: int):
        super().__init__(layers)
        self.spec = spec
        self.input_shape = tuple(input_shape)
        self.n_classes = n_classes
        blocks = [n for n, m in layers.items() if isinstance(m, (Dense, ConvBlock))]
        self.hidden, self.output = blocks[:-1], blocks[-1]


def _conv_layers(spec: ModelSpec, input_shape: tuple[int, ...]) -> tuple[list, int]:
    if len(input_shape) != 3:
        raise NichelabError(
            f"a cnn needs image inputs of shape (channels, height, width); got samples of shape {input_shape}"
        )
    layers, (c, h, w) = [], input_shape
    for i, width in enumerate(spec.widths, start=1):
        layers.append((f"L{i}", ConvBlock(c, width, spec.kernel, spec.act)))
        if spec.dropout:
            layers.append((f"drop{i}", nn.Dropout(spec.dropout)))
        if spec.pool > 1 and min(h, w) >= spec.pool:
            layers.append((f"pool{i}", nn.MaxPool2d(spec.pool)))
            h, w = h // spec.pool, w // spec.pool
        c = width
    layers.append(("flatten", nn.Flatten()))
    return layers, c * h * w


def build_model(spec: str | ModelSpec, input_shape, n_classes: int, *, init: str = "glorot",
                seed: int | None = 0, generator: torch.Generator | None = None) -> Net:
    """Build and initialise a built-in model.

    Parameters
    ----------
    spec : str or ModelSpec
        See :func:`nichelab.nn.spec.parse_spec`.
    input_shape : tuple of int or int
        One sample's shape: ``(d,)`` for an MLP (images are flattened by a ``flatten`` layer),
        ``(C, H, W)`` for a CNN.
    n_classes : int
        Output units (logits, no activation).
    init : {"glorot", "torch", "zeros"}, default "glorot"
    seed : int, default 0
        Seed of the initialisation generator (ignored if ``generator`` is given).

    Returns
    -------
    Net

    Raises
    ------
    NichelabError
        Bad spec, a cnn on non-image input, or ``n_classes < 2``.
    """
    spec = parse_spec(spec)
    input_shape = (int(input_shape),) if isinstance(input_shape, int) else tuple(int(s) for s in input_shape)
    if n_classes < 2:
        raise NichelabError(f"n_classes must be >= 2; got {n_classes}")
    if spec.kind == "cnn":
        layers, d = _conv_layers(spec, input_shape)
        widths, start = spec.fc, len(spec.widths) + 1
    else:
        layers = [("flatten", nn.Flatten())] if len(input_shape) > 1 else []
        d, widths, start = int(math.prod(input_shape)), spec.widths, 1
    for i, width in enumerate(widths, start=start):
        layers.append((f"L{i}", Dense(d, width, spec.act)))
        if spec.dropout:
            layers.append((f"drop{i}", nn.Dropout(spec.dropout)))
        d = width
    layers.append((f"L{start + len(widths)}", Dense(d, n_classes, "linear")))
    net = Net(OrderedDict(layers), spec, input_shape, n_classes)
    return init_model(net, init, seed=seed, generator=generator)
