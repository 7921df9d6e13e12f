"""Activation capture: forward hooks on named layers, streamed over batches.

Layers are named by the model's own ``named_modules()`` paths::

    acts = capture(model, x)                          # default: the hidden layers
    acts = capture(model, x, layers=["L1", "L2"])     # by name
    acts = capture(model, loader, layers=lambda name, m: isinstance(m, nn.ReLU))

A module called more than once per forward pass (for example one ``nn.ReLU`` instance
used after two layers) records every call: key ``name`` for the first call, then
``name#1``, ``name#2``, ... for later calls of the same forward pass.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterable, Iterator, Sequence, Union

import numpy as np
import torch
from torch import nn
from torch.nn.modules.conv import _ConvNd

from .errors import NichelabError, check_positive_int, suggest

__all__ = [
    "capture", "hooks", "layer_names", "default_layers", "resolve_layers", "iter_batches",
    "n_samples", "expected_input_hint", "ACTIVATION_TYPES",
]

#: Modules whose output counts as a hidden representation in generic models.
ACTIVATION_TYPES: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU,
    nn.SiLU, nn.Mish, nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid,
    nn.Softplus, nn.Softsign, nn.Tanhshrink, nn.LogSigmoid, nn.GLU, nn.Threshold,
    nn.Softshrink, nn.Hardshrink,
)
_WEIGHT_TYPES = (nn.Linear, _ConvNd)
_REDUCE = (None, "mean", "max")
_MAX_LISTED = 30

Layers = Union[None, str, Sequence[str], Callable[[str, nn.Module], bool]]


def _is_block(module: nn.Module) -> bool:
    """A built-in block: children ``.act`` and ``.linear`` or ``.conv``."""
    children = module._modules
    return "act" in children and ("linear" in children or "conv" in children)


def layer_names(model: nn.Module) -> list[str]:
    """Names of every capturable module of ``model`` (``named_modules()`` paths, root excluded).

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    list of str
        In ``named_modules()`` order, e.g. ``["L1", "L1.linear", "L1.act", "L2", ...]``.
        TorchScript submodules are left out: TorchScript never runs Python hooks, so only the
        hookable wrappers around them (see :mod:`nichelab.nn.loading`) can be captured.
    """
    return [name for name, m in model.named_modules() if name and not isinstance(m, torch.jit.ScriptModule)]


def default_layers(model: nn.Module) -> list[str]:
    """The layers :func:`capture` records when ``layers=None``.

    - Built-in models (blocks with children ``.linear``/``.conv`` and ``.act``, named
      ``L1``, ``L2``, ...): the blocks, minus the output block when the model names it
      in an ``output`` attribute (as :class:`nichelab.nn.Net` does).
    - Any other model: every activation module (see :data:`ACTIVATION_TYPES`); if it
      has none (activations applied functionally), every Linear / Conv layer.

    Returns
    -------
    list of str
        Possibly empty.
    """
    named = [(name, m) for name, m in model.named_modules() if name]
    blocks = [name for name, m in named if _is_block(m)]
    if blocks:
        output = getattr(model, "output", None)
        hidden = [b for b in blocks if b != output]
        return hidden or blocks
    acts = [name for name, m in named if isinstance(m, ACTIVATION_TYPES)]
    if acts:
        return acts
    weights = [name for name, m in named if isinstance(m, _WEIGHT_TYPES)]
    return weights or loaded_activation_layers(model) or [n for n, m in named if _weight_layer(m) is not None]


_ACTIVATION_OPS = ("relu", "tanh", "sigmoid", "gelu", "silu", "elu", "selu", "celu", "mish", "hardtanh",
                   "hardswish", "hardsigmoid", "softplus", "softsign", "leaky_relu", "prelu", "relu6")


def loaded_activation_layers(module: nn.Module) -> list[str]:
    """Activation layers of a loaded TorchScript or torch.export model, whose module types are lost.

    A TorchScript leaf (see :mod:`nichelab.nn.loading`) counts when its scripted module's
    ``original_name`` is an activation class (``ReLU`` ...); an unflattened export submodule when
    every function its graph calls is an activation op (``aten.relu.default`` ...). Empty when
    none is recognised.
    """
    names = {cls.__name__ for cls in ACTIVATION_TYPES}
    out = []
    for name, m in module.named_modules():
        if not name:
            continue
        inner = getattr(m, "inner", None)
        if inner is not None and getattr(inner, "original_name", None) in names:
            out.append(name)
            continue
        graph = getattr(m, "graph", None)
        if isinstance(graph, torch.fx.Graph) and not list(m.children()):
            calls = [str(n.target).split(".")[1] if str(n.target).count(".") else str(n.target)
                     for n in graph.nodes if n.op == "call_function"]
            if calls and all(c.rstrip("_") in _ACTIVATION_OPS for c in calls):
                out.append(name)
    return out


def _listing(names: list[str]) -> str:
    if len(names) <= _MAX_LISTED:
        return ", ".join(names)
    return ", ".join(names[:_MAX_LISTED]) + f", ... ({len(names)} in all)"


def resolve_layers(model: nn.Module, layers: Layers) -> list[str]:
    """Turn ``layers`` (None, a name, names or a predicate) into a list of module names.

    Raises
    ------
    NichelabError
        Unknown name (with close matches and the model's layers), empty selection.
    """
    if layers is None:
        names = default_layers(model)
        if not names:
            raise NichelabError(
                "layers=None found no hidden layers (no built-in blocks, activation modules, "
                f"Linear or Conv layers) in {type(model).__name__}; pass layers=[...] from: "
                f"{_listing(layer_names(model)) or '(no submodules)'}"
            )
        return names
    if callable(layers) and not isinstance(layers, str):
        names = [name for name, m in model.named_modules() if name and layers(name, m)]
        if not names:
            raise NichelabError(
                f"the layers predicate selected no module; the model's layers are: "
                f"{_listing(layer_names(model))}"
            )
        return names
    requested = [layers] if isinstance(layers, str) else list(layers)
    if not requested:
        raise NichelabError("layers must name at least one layer; got an empty list")
    modules = dict(model.named_modules(remove_duplicate=False))
    known = layer_names(model)
    for name in requested:
        if not isinstance(name, str) or not name or name not in modules:
            raise NichelabError(
                f"unknown layer {name!r}{suggest(str(name), known)}; "
                f"the model's layers are: {_listing(known)}"
            )
    return list(dict.fromkeys(requested))


def _target(model: nn.Module, name: str, pre_activation: bool) -> tuple[nn.Module, bool]:
    """The module to hook for ``name`` and whether to record its input (True) or output."""
    module = model.get_submodule(name)
    if not pre_activation or isinstance(module, _WEIGHT_TYPES):
        return module, False
    if _is_block(module):
        return module.act, True
    if isinstance(module, ACTIVATION_TYPES):
        return module, True
    raise NichelabError(
        "pre_activation=True needs activation modules, built-in blocks or Linear/Conv layers; "
        f"layer {name!r} is a {type(module).__name__}"
    )


def _record(cache: dict, name: str, value, reduce: str | None) -> None:
    if not isinstance(value, torch.Tensor):
        raise NichelabError(
            f"layer {name!r} produced a {type(value).__name__}, not a tensor; "
            "capture records tensor outputs only"
        )
    t = value.detach()
    if reduce is not None and t.ndim > 2:
        dims = tuple(range(2, t.ndim))
        t = t.float().mean(dims) if reduce == "mean" else t.float().amax(dims)
    else:
        # clone: a later in-place op (e.g. ReLU(inplace=True)) must not change the record
        t = t.float().clone() if t.dtype == torch.float32 else t.float()
    key, i = name, 0
    while key in cache:
        i += 1
        key = f"{name}#{i}"
    cache[key] = t


@contextlib.contextmanager
def hooks(model: nn.Module, layers: Layers = None, *, reduce: str | None = None,
          pre_activation: bool = False) -> Iterator[dict[str, torch.Tensor]]:
    """Record named layers' outputs during forward passes, as a context manager.

    Parameters
    ----------
    model : torch.nn.Module
    layers : None, str, list of str or callable, default None
        As in :func:`capture`.
    reduce : {None, "mean", "max"}, default None
        Spatial reduction of outputs with more than 2 dimensions, (n, C, ...) -> (n, C).
    pre_activation : bool, default False
        As in :func:`capture`.

    Yields
    ------
    dict of str to torch.Tensor
        Emptied at the start of every forward pass of ``model`` and filled with that
        pass's detached float32 outputs (keys ``name``, then ``name#1``, ... for
        repeated calls). Hooks are removed on exit, also when the body raises.

    Raises
    ------
    NichelabError
        Unknown layer name (with close matches), bad ``reduce``.

    Example
    -------
    >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4))
    >>> with hooks(model, ["1"]) as cache:
    ...     logits = model(torch.zeros(5, 2))
    ...     cache["1"].shape
    torch.Size([5, 3])
    """
    if reduce not in _REDUCE:
        raise NichelabError(f"reduce must be None, 'mean' or 'max'; got {reduce!r}")
    names = resolve_layers(model, layers)
    targets = [(name, *_target(model, name, pre_activation)) for name in names]
    cache: dict[str, torch.Tensor] = {}
    handles = []
    try:
        handles.append(model.register_forward_pre_hook(lambda module, args: cache.clear()))
        for name, module, use_input in targets:
            if use_input:
                # a pre-hook sees the input before an in-place activation overwrites it
                def pre_hook(mod, args, kwargs, _name=name):
                    value = args[0] if args else next(iter(kwargs.values()), None)
                    _record(cache, _name, value, reduce)
                handles.append(module.register_forward_pre_hook(pre_hook, with_kwargs=True))
            else:
                def hook(mod, args, output, _name=name):
                    _record(cache, _name, output, reduce)
                handles.append(module.register_forward_hook(hook))
        yield cache
    finally:
        for handle in handles:
            handle.remove()


def _model_dtype(model: nn.Module) -> torch.dtype:
    for t in list(model.parameters()) + list(model.buffers()):
        if t.is_floating_point():
            return t.dtype
    return torch.float32


def _as_tensor(x, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
            raise NichelabError(f"inputs must be numeric; got an array of dtype {x.dtype}")
        x = torch.tensor(x)
    elif not isinstance(x, torch.Tensor):
        raise NichelabError(
            f"each batch must be a tensor, an array or an (x, y) tuple; got {type(x).__name__}"
        )
    if x.ndim == 0:
        raise NichelabError("each input batch must have a sample dimension; got a 0-d tensor")
    if x.is_floating_point():
        return x.to(device=device, dtype=dtype)
    return x.to(device=device)


def n_samples(inputs) -> int | None:
    """Number of samples of an array or tensor input, None for other iterables."""
    if isinstance(inputs, (np.ndarray, torch.Tensor)):
        if inputs.ndim == 0:
            raise NichelabError("inputs must have a sample dimension; got a 0-d array")
        return int(inputs.shape[0])
    return None


def iter_batches(inputs, batch_size: int, device="cpu", dtype=torch.float32) -> Iterator[torch.Tensor]:
    """Yield input batches as tensors on ``device``; floats cast to ``dtype``.

    ``inputs`` is an array or tensor (sliced into ``batch_size`` rows), a list/tuple (converted
    with ``np.asarray``), or any other iterable of batches (tensors, arrays, or ``(x, y, ...)``
    tuples whose first item is the input), such as a ``DataLoader``.
    """
    device = torch.device(device)
    if isinstance(inputs, (list, tuple)):
        inputs = np.asarray(inputs)
    if isinstance(inputs, (np.ndarray, torch.Tensor)):
        n = n_samples(inputs)
        for start in range(0, n, batch_size):
            yield _as_tensor(inputs[start:start + batch_size], device, dtype)
        return
    if isinstance(inputs, (str, bytes, dict)) or not isinstance(inputs, Iterable):
        raise NichelabError(
            "inputs must be an array, a tensor or an iterable of batches (e.g. a DataLoader); "
            f"got {type(inputs).__name__}"
        )
    for item in inputs:
        if isinstance(item, (list, tuple)):
            if not item:
                raise NichelabError("a batch from inputs is an empty tuple; expected (x, y)")
            item = item[0]
        yield _as_tensor(item, device, dtype)


def _one_line(err: Exception) -> str:
    """The informative line of an error message (TorchScript errors carry a serialized traceback)."""
    lines = [l.strip() for l in str(err).splitlines() if l.strip()]
    if not lines:
        return type(err).__name__
    return lines[-1] if len(lines) > 1 else lines[0]


def _weight_layer(m: nn.Module):
    """``m`` itself if it is a Linear/Conv, or the scripted Linear/Conv inside a TorchScript leaf."""
    inner = getattr(m, "inner", None)
    if inner is not None and getattr(inner, "original_name", "") in ("Linear", "Conv1d", "Conv2d", "Conv3d"):
        return inner
    return m if isinstance(m, (nn.Linear, _ConvNd)) else None


def expected_input_hint(model: nn.Module, batch: torch.Tensor) -> str:
    """``"; the model's first layer ... expects ..."`` when ``batch`` visibly mismatches it, else ``""``."""
    for name, m in model.named_modules():
        w = _weight_layer(m)
        if w is not None and not isinstance(w, (nn.Linear, _ConvNd)):  # scripted: read the weight's shape
            shape = tuple(w.weight.shape)
            if len(shape) == 2 and batch.shape[-1] != shape[1]:
                return (f"; the model's first layer {name!r} (Linear) expects {shape[1]} features in the last "
                        f"dimension, got {batch.shape[-1]}")
            if len(shape) > 2 and (batch.ndim != len(shape) or batch.shape[1] != shape[1]):
                return (f"; the model's first layer {name!r} (Conv) expects batches of shape "
                        f"(n, {shape[1]}{', ...' * (len(shape) - 2)})")
            return ""
        if isinstance(m, (nn.Linear, _ConvNd)):
            if isinstance(m.weight, nn.parameter.UninitializedParameter):
                return ""
            if isinstance(m, nn.Linear):
                if batch.ndim >= 1 and batch.shape[-1] != m.in_features:
                    return (f"; the model's first layer {name!r} (Linear) expects "
                            f"{m.in_features} features in the last dimension, got {batch.shape[-1]}")
                return ""
            spatial = len(m.kernel_size)
            if batch.ndim != spatial + 2 or batch.shape[1] != m.in_channels:
                return (f"; the model's first layer {name!r} ({type(m).__name__}) expects batches "
                        f"of shape (n, {m.in_channels}{', ...' * spatial}), i.e. "
                        f"{m.in_channels} input channels")
            return ""
    return ""


class _Store:
    """Per-key float32 arrays, preallocated when the sample count is known."""

    def __init__(self, n_total: int | None):
        self.n_total = n_total
        self.arrays: dict[str, np.ndarray] = {}
        self.parts: dict[str, list[np.ndarray]] = {}
        self.seen = 0

    def add(self, cache: dict[str, torch.Tensor], b: int, keep: int | None = None) -> None:
        """Store the first ``keep`` (default all ``b``) rows of every recorded output."""
        if self.seen and set(cache) != set(self.arrays or self.parts):
            raise NichelabError(
                f"the recorded calls differ between batches (first batch: "
                f"{sorted(self.arrays or self.parts)}, later: {sorted(cache)}); capture needs "
                "every batch to call the same layers the same number of times"
            )
        for key, t in cache.items():
            a = t.cpu().numpy()
            if a.ndim == 0 or a.shape[0] != b:
                raise NichelabError(
                    f"layer {key!r} output has shape {tuple(a.shape)} for a batch of {b} samples; "
                    "capture needs outputs whose first dimension is the sample"
                )
            self._put(key, a if keep is None else a[:keep])
        self.seen += b if keep is None else keep

    def _put(self, key: str, a: np.ndarray) -> None:
        if self.n_total is None:
            parts = self.parts.setdefault(key, [])
            if parts and parts[0].shape[1:] != a.shape[1:]:
                raise NichelabError(f"layer {key!r} output shape changed between batches: "
                                    f"{parts[0].shape[1:]} then {a.shape[1:]}")
            parts.append(a)
            return
        if key not in self.arrays:
            self.arrays[key] = np.empty((self.n_total,) + a.shape[1:], dtype=np.float32)
        out = self.arrays[key]
        if out.shape[1:] != a.shape[1:]:
            raise NichelabError(f"layer {key!r} output shape changed between batches: "
                                f"{out.shape[1:]} then {a.shape[1:]}")
        out[self.seen:self.seen + a.shape[0]] = a

    def result(self) -> dict[str, np.ndarray]:
        if self.n_total is None:
            out = {}
            for key in list(self.parts):
                out[key] = np.concatenate(self.parts.pop(key), axis=0)
            return out
        return self.arrays


def _padded(batches: Iterator[torch.Tensor], size: int) -> Iterator[tuple[torch.Tensor, int]]:
    """Cut batches into ``size`` rows, padding a short piece with copies of its first row.

    Yields ``(batch of exactly size rows, number of real rows)``.
    """
    for batch in batches:
        for start in range(0, batch.shape[0], size):
            piece = batch[start:start + size]
            b = piece.shape[0]
            if b < size:
                piece = torch.cat([piece, piece[:1].expand(size - b, *piece.shape[1:])])
            yield piece, b


def capture(model: nn.Module, inputs, layers: Layers = None, *, batch_size: int = 1024,
            reduce: str | None = None, pre_activation: bool = False,
            device: str | torch.device = "cpu", fixed_batch: int | None = None) -> dict[str, np.ndarray]:
    """Run ``model`` over ``inputs`` and return the named layers' outputs.

    The model runs in eval mode under ``torch.no_grad()``, batch by batch; each module's
    training flag is restored afterwards. Only the captured activations are kept in
    memory (preallocated when the number of samples is known), never the inputs.

    Parameters
    ----------
    model : torch.nn.Module
        Already on ``device``.
    inputs : array of shape (n_samples, ...), torch.Tensor, list, or iterable of batches
        Arrays and tensors are cut into batches of ``batch_size`` rows. Any other iterable
        (e.g. a ``DataLoader``) yields batches: tensors, arrays or ``(x, y, ...)`` tuples
        whose first item is the input; its own batch size is used. Floating inputs are cast
        to the model's parameter dtype.
    layers : None, str, list of str, or callable(name, module) -> bool, default None
        Names from ``model.named_modules()``. ``None`` takes :func:`default_layers`
        (the hidden blocks of built-in models; activation modules otherwise).
    batch_size : int, default 1024
    reduce : {None, "mean", "max"}, default None
        For outputs with more than 2 dimensions (conv: (n, C, H, W)), the spatial mean or
        max, giving (n, C). With None such outputs are returned unflattened.
    pre_activation : bool, default False
        Record the input of activation modules (for a built-in block: the input of its
        ``.act``, i.e. its pre-activation) instead of their output. Linear/Conv layers
        always give their output, which is already a pre-activation.
    device : str or torch.device, default "cpu"
        Where the batches are sent.
    fixed_batch : int, optional
        For models that accept a single batch size (e.g. a ``torch.export`` program traced
        with a static batch, see :class:`nichelab.nn.loading.LoadedModel`): every forward
        pass gets exactly this many rows, the last batch padded with copies of its first
        row, and the padding rows are dropped from the result. Overrides ``batch_size``.

    Returns
    -------
    dict of str to numpy.ndarray
        float32, one array per recorded call, first dimension ``n_samples``; (n, units) for
        dense layers, (n, C, H, W) for conv layers unless ``reduce``. Keys are layer names,
        in call order; a module called ``k`` times per forward gives ``name``, ``name#1``,
        ... ``name#{k-1}``. Requested layers that never run raise; with ``layers=None`` or a
        predicate they are left out.

    Raises
    ------
    NichelabError
        Unknown layer (with close names), bad ``reduce`` / ``batch_size``, empty inputs, or
        the forward pass failing (message: "capturing layers [...] failed on a batch of
        shape (...): ..." and, when the input shape visibly mismatches the first
        Linear/Conv layer, what it expects). Hooks are removed in every case.

    Example
    -------
    >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4))
    >>> acts = capture(model, np.zeros((100, 2), np.float32))
    >>> {name: a.shape for name, a in acts.items()}
    {'1': (100, 3)}
    """
    batch_size = check_positive_int("batch_size", batch_size)
    if fixed_batch is not None:
        batch_size = check_positive_int("fixed_batch", fixed_batch)
    if reduce not in _REDUCE:
        raise NichelabError(f"reduce must be None, 'mean' or 'max'; got {reduce!r}")
    names = resolve_layers(model, layers)
    explicit = layers is not None and not (callable(layers) and not isinstance(layers, str))
    store = _Store(n_samples(inputs) if not isinstance(inputs, (list, tuple)) else len(inputs))
    dtype = _model_dtype(model)
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with torch.no_grad(), hooks(model, names, reduce=reduce, pre_activation=pre_activation) as cache:
            batches = iter_batches(inputs, batch_size, device, dtype)
            if fixed_batch is None:
                batches = ((batch, None) for batch in batches)
            else:
                batches = _padded(batches, batch_size)
            for batch, keep in batches:
                try:
                    model(batch)
                except Exception as err:
                    raise NichelabError(
                        f"capturing layers {names} failed on a batch of shape {tuple(batch.shape)}: "
                        f"{_one_line(err)}{expected_input_hint(model, batch)}"
                    ) from err
                store.add(cache, int(batch.shape[0]), keep)
    finally:
        for module, flag in modes:
            module.training = flag
    if store.seen == 0:
        raise NichelabError("inputs has no samples; capture needs at least one")
    out = store.result()
    if not out:
        raise NichelabError(f"none of the layers {names} ran during the forward pass")
    if explicit:
        missing = [n for n in names if n not in out]
        if missing:
            raise NichelabError(
                f"layers {missing} never ran during the forward pass; check that the model uses them"
            )
    return out
