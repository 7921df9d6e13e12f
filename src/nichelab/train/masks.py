"""Dropout masks keyed by (seed, step, layer): the same masks in the one-seed loop and the ensemble.

``nn.Dropout`` draws its masks from torch's global random stream, so a seed's masks would
depend on what else ran before it, and a vectorised ensemble could not give every seed its own.
nichelab therefore never lets ``nn.Dropout`` draw: while training, every ``nn.Dropout`` module is
switched to its identity (eval) behaviour and a forward hook multiplies its output by a mask
computed from a counter-based hash:

    u = mix(mix(element) + key(seed, step, layer))      a 32-bit integer, uniform
    keep = u >= round(p * 2**32)                          so P(keep) = 1 - p
    output = input * (keep / (1 - p))                     as nn.Dropout scales

``element`` is the flat index of the value inside the dropout layer's input of this batch
(sample position in the batch, then unit), ``step`` the optimizer step counted from 0 over the
whole run (``epoch * batches_per_epoch + batch``), ``layer`` the position of the module among the
model's ``nn.Dropout`` modules in ``modules()`` order, and ``mix`` a 32-bit integer hash
(T. Mueller's ``hash32``, constants below 2**27 so int64 arithmetic never overflows). Masks are
therefore independent across seeds, steps, layers, samples and units, need no generator state,
and are bit-identical wherever they are computed.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

import torch
from torch import nn

from ..errors import NichelabError

__all__ = ["dropout_uniform", "dropout_noise", "dropout_modules", "KeyedDropout", "keyed_dropout",
           "install_keyed_dropout"]

_M32 = 0xFFFFFFFF
_MUL = 0x045D9F3B          # < 2**27: (x < 2**32) * _MUL < 2**59 fits int64
_SALT = 0x2545F491


def _mix(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash of int64 values in [0, 2**32) (result in the same range)."""
    x = ((x >> 16) ^ x) * _MUL & _M32
    x = ((x >> 16) ^ x) * _MUL & _M32
    return (x >> 16) ^ x


def _keys(seeds: torch.Tensor, step: int, layer: int) -> torch.Tensor:
    """One 32-bit key per seed for this (step, layer): (S,) int64."""
    s = seeds.to(torch.int64)
    k = _mix((s & _M32) ^ _SALT)
    k = _mix(k ^ ((s >> 32) & _M32))
    k = _mix(k ^ (int(step) & _M32))
    k = _mix(k ^ ((int(step) >> 32) & _M32))
    return _mix(k ^ (int(layer) & _M32))


def dropout_uniform(seeds: Sequence[int] | torch.Tensor, step: int, layer: int, numel: int) -> torch.Tensor:
    """The 32-bit random integers behind the masks of ``numel`` values: (S, numel) int64 in [0, 2**32).

    Parameters
    ----------
    seeds : sequence of int or int64 tensor of shape (S,)
    step : int
        Optimizer step counted from 0 over the whole run.
    layer : int
        Index of the dropout module among the model's ``nn.Dropout`` modules.
    numel : int
        Values in the layer's input for this batch (``batch * units``).
    """
    keys = _keys(torch.as_tensor(seeds, dtype=torch.int64).reshape(-1), step, layer)
    element = _mix(torch.arange(int(numel), dtype=torch.int64))
    return _mix((element[None, :] + keys[:, None]) & _M32)


def dropout_noise(seeds, step: int, layer: int, shape: Sequence[int], p: float,
                  dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The multiplier ``keep / (1 - p)`` of every seed: (S, *shape) of ``dtype``.

    ``shape`` is the dropout input's shape for one seed (batch first). ``p = 0`` gives ones.

    Examples
    --------
    >>> m = dropout_noise([0, 1], step=0, layer=0, shape=(32, 4), p=0.5)
    >>> tuple(m.shape), sorted(set(m.unique().tolist()))
    ((2, 32, 4), [0.0, 2.0])
    """
    shape = tuple(int(s) for s in shape)
    S = len(torch.as_tensor(seeds).reshape(-1))
    if p <= 0:
        return torch.ones((S, *shape), dtype=dtype)
    n = 1
    for s in shape:
        n *= s
    keep = dropout_uniform(seeds, step, layer, n) >= round(float(p) * 2.0 ** 32)
    return keep.to(dtype).div_(1.0 - float(p)).reshape(S, *shape)


def dropout_modules(model: nn.Module) -> list[nn.Dropout]:
    """The model's ``nn.Dropout`` modules in ``modules()`` order (their index is the mask's ``layer``).

    Raises
    ------
    NichelabError
        If the model holds another kind of dropout (``Dropout2d``, ``AlphaDropout`` ...), whose
        masks nichelab cannot key per seed.
    """
    other = [type(m).__name__ for m in model.modules()
             if isinstance(m, (nn.modules.dropout._DropoutNd,)) and not type(m) is nn.Dropout]
    if other:
        raise NichelabError(f"training supports nn.Dropout only (element-wise masks keyed by seed); "
                            f"the model has {', '.join(sorted(set(other)))}")
    return [m for m in model.modules() if type(m) is nn.Dropout]


class KeyedDropout:
    """State of :func:`keyed_dropout`: set ``step`` (and ``masks`` for a vectorised call) before a forward.

    Attributes
    ----------
    seeds : torch.Tensor of shape (S,), int64
    step : int
        Current optimizer step.
    masks : list of torch.Tensor or None
        Precomputed multipliers, one per dropout module (used inside ``vmap``, where each seed's
        slice is selected by the batching); ``None`` computes them from ``seeds`` and ``step``.
    active : bool
        False leaves every dropout module as the identity (e.g. for evaluation).
    """

    def __init__(self, seeds) -> None:
        self.seeds = torch.as_tensor(seeds, dtype=torch.int64).reshape(-1)
        self.step = 0
        self.masks: list | None = None
        self.active = True
        self.remove = lambda: None

    def apply(self, module: nn.Dropout, layer: int, output: torch.Tensor) -> torch.Tensor | None:
        """The keyed-dropout output of dropout module number ``layer`` (None: leave it unchanged)."""
        if not self.active or module.p == 0:
            return None
        if self.masks is not None:
            return output * self.masks[layer]
        noise = dropout_noise(self.seeds, self.step, layer, output.shape, module.p, output.dtype)
        return output * noise[0]


def install_keyed_dropout(model: nn.Module, seeds) -> KeyedDropout:
    """Put every ``nn.Dropout`` of ``model`` in identity mode and hook the keyed masks onto it.

    The hooks are registered through :func:`nichelab.capture.hooks` (an ``edit`` of each dropout
    module's output, every call, in the output's own layout). Returns the controller; call its
    ``remove()`` to undo (or use :func:`keyed_dropout`).
    """
    from ..capture import hooks

    mods = dropout_modules(model)
    ctrl = KeyedDropout(seeds)
    if not mods:
        return ctrl
    flags = [m.training for m in mods]
    index = {id(m): i for i, m in enumerate(mods)}
    names = {name: m for name, m in model.named_modules() if id(m) in index}

    def edit(key: str, output: torch.Tensor):
        m = names[key.split("#")[0]]
        return ctrl.apply(m, index[id(m)], output)

    cm = hooks(model, list(names), record=False, edit=edit, unit_axis=1)
    cm.__enter__()

    def remove() -> None:
        try:
            cm.__exit__(None, None, None)
        finally:
            for m, f in zip(mods, flags):
                m.training = f
    ctrl.remove = remove
    for m in mods:
        m.training = False
    return ctrl


@contextmanager
def keyed_dropout(model: nn.Module, seeds) -> Iterator[KeyedDropout]:
    """Replace the random masks of every ``nn.Dropout`` of ``model`` by keyed masks, inside a ``with``.

    The dropout modules are put in eval mode (identity) and a forward hook applies the keyed
    multiplier; on exit the hooks are removed and the modules' training flags restored, also
    when an exception is raised. With one seed the hook computes the mask itself; for ``vmap``
    set ``ctrl.masks`` to the stacked multipliers.

    Yields
    ------
    KeyedDropout
    """
    ctrl = install_keyed_dropout(model, seeds)
    try:
        yield ctrl
    finally:
        ctrl.remove()
