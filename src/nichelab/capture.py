"""Activation capture: forward hooks on named layers, streamed over batches.

Layers are named by the model's own ``named_modules()`` paths::

    acts = capture(model, x)                          # default: the hidden layers
    acts = capture(model, x, layers=["L1", "L2"])     # by name
    acts = capture(model, loader, layers=lambda name, m: isinstance(m, nn.ReLU))

A module called more than once per forward pass (for example one ``nn.ReLU`` instance
used after two layers) records every call: key ``name`` for the first call, then
``name#1``, ``name#2``, ... for later calls of the same forward pass; ``layers=["relu#1"]``
records (and ablation edits) the second call only.

:func:`hooks` is the one hook primitive: capture, ablation, feature visualisation and keyed
dropout all register their hooks through it, and it removes them in ``finally``.

Units: each output is recorded with its units on axis 1 -- (n, units) or (n, units, ...).
The unit axis is explicit (``unit_axis``, or declared by the model: Keras and Hugging Face
adapters say "last axis") or inferred from the module type; an output whose unit axis is
ambiguous raises instead of being reduced over the wrong axis. Token models (dict inputs with
``input_ids`` / ``attention_mask``) get their token axis reduced by a mask-aware mean (or
``tokens="first" | "all"``).
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from typing import Callable, Iterable, Iterator, Sequence, Union

import numpy as np
import torch
from torch import nn
from torch.nn.modules.conv import _ConvNd

from .data._memory import Releaser, gather, take
from .errors import NichelabError, check_positive_int, suggest

__all__ = [
    "capture", "hooks", "Recorder", "StopForward", "layer_names", "default_layers", "resolve_layers",
    "iter_batches", "Rows", "n_samples", "batch_len", "call_model", "model_device", "expected_input_hint",
    "unit_axis_of", "model_unit_axis", "axis_module", "split_key", "call_key", "call_counts", "ACTIVATION_TYPES", "TOKENS",
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
#: Token-axis reductions of (n, seq, units) outputs (see :func:`hooks`).
TOKENS = (None, "mean", "first", "all")
_CALL_RE = re.compile(r"^(.+)#(\d+)$")
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
    - Adapters (:mod:`nichelab.nn.keras`, :mod:`nichelab.nn.hf`) declare their own through a
      ``nichelab_default_layers()`` method: Keras layers with weights or an activation, but
      the output layer; a transformer's blocks and MLP activations.
    - Any other model: every activation module (see :data:`ACTIVATION_TYPES`); if it
      has none (activations applied functionally), every Linear / Conv layer.

    Returns
    -------
    list of str
        Possibly empty.
    """
    declared = getattr(model, "nichelab_default_layers", None)
    if callable(declared):
        return list(declared())
    if type(model).__module__.startswith("transformers.") and hasattr(model, "config"):
        from .nn.hf import transformer_default_layers
        names = transformer_default_layers(model)
        if names:
            return names
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
        base = split_key(name)[0] if isinstance(name, str) else name
        if not isinstance(name, str) or not name or (name not in modules and base not in modules):
            raise NichelabError(
                f"unknown layer {name!r}{suggest(str(name), known)}; "
                f"the model's layers are: {_listing(known)}"
            )
    return list(dict.fromkeys(requested))


def split_key(key: str) -> tuple[str, int | None]:
    """``"relu#1"`` -> ``("relu", 1)``; ``"relu"`` -> ``("relu", None)`` (every call).

    A name ending in ``#k`` (k >= 0) means call ``k`` of that module in one forward pass
    (``#0`` is the first call, whose key is the plain name).
    """
    m = _CALL_RE.match(key)
    if m:
        return m[1], int(m[2])
    return key, None


def call_key(name: str, call: int) -> str:
    """The key of call ``call`` of module ``name``: ``name`` for call 0, else ``name#call``."""
    return name if call == 0 else f"{name}#{call}"


def call_counts(keys: Iterable[str]) -> dict[str, int]:
    """How many calls of each module a capture recorded: ``["relu", "relu#1", "fc"]`` -> ``{"relu": 2, "fc": 1}``.

    Modules with a count above 1 are *reused* (one module instance called several times per
    forward pass); every per-unit number of such a module is per call.
    """
    out: dict[str, int] = {}
    for key in keys:
        name, call = split_key(key)
        out[name] = max(out.get(name, 0), (call or 0) + 1)
    return out


def _target(model: nn.Module, name: str, pre_activation: bool) -> tuple[nn.Module, bool]:
    """The module to hook for ``name`` and whether to record its input (True) or output."""
    module = model.get_submodule(split_key(name)[0])
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


# ------------------------------------------------------------------------------- output selection
def _select(name: str, output, select) -> tuple[torch.Tensor, object]:
    """The tensor of a layer's output to record, and where it sits (for putting an edit back).

    ``select`` is None (a tensor as is; the first tensor of a tuple / list; ``last_hidden_state``
    or the first tensor value of a dict / ``ModelOutput``), an int (tuple index), a str (key or
    attribute) or a callable ``(name, output) -> tensor``.
    """
    if isinstance(select, dict):
        select = select.get(name, select.get(split_key(name)[0]))
    if callable(select):
        value, where = select(name, output), "callable"
    elif select is None:
        if isinstance(output, torch.Tensor):
            return output, None
        if isinstance(output, (tuple, list)):
            where = next((i for i, v in enumerate(output) if isinstance(v, torch.Tensor)), None)
            value = None if where is None else output[where]
        elif isinstance(output, Mapping):
            where = "last_hidden_state" if "last_hidden_state" in output else next(
                (k for k, v in output.items() if isinstance(v, torch.Tensor)), None)
            value = None if where is None else output[where]
        else:
            value, where = output, None
    elif isinstance(select, int) and isinstance(output, (tuple, list)):
        if not -len(output) <= select < len(output):
            raise NichelabError(f"select={select} is out of range for layer {name!r}, which outputs a "
                                f"{type(output).__name__} of {len(output)} items")
        value, where = output[select], select
    elif isinstance(select, str) and isinstance(output, Mapping) and select in output:
        value, where = output[select], select
    elif isinstance(select, str) and hasattr(output, select):
        value, where = getattr(output, select), ("attr", select)
    else:
        raise NichelabError(f"select={select!r} does not apply to layer {name!r}, which outputs a "
                            f"{type(output).__name__}; use an int for tuples, a key for dicts / ModelOutput, "
                            "or a callable (name, output) -> tensor")
    if not isinstance(value, torch.Tensor):
        raise NichelabError(
            f"layer {name!r} produced a {type(output).__name__} holding no tensor to record; pass "
            "select=INDEX or KEY (or a callable) to choose the tensor"
        )
    return value, where


def _put_back(output, where, value: torch.Tensor):
    """``output`` with the selected tensor replaced by ``value``."""
    if where is None:
        return value
    if where == "callable":
        raise NichelabError("an edit (ablation) cannot write back through a callable select; use an index or key")
    if isinstance(where, tuple) and where[0] == "attr":
        setattr(output, where[1], value)
        return output
    if isinstance(output, (tuple, list)):
        items = list(output)
        items[where] = value
        return type(output)(items) if isinstance(output, list) or type(output) is tuple else type(output)(*items)
    output[where] = value
    return output


# ---------------------------------------------------------------------------------------- unit axis
#: Modules whose >2-D outputs are channels-first (units on axis 1).
_CHANNELS_FIRST = (_ConvNd, nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm,
                   nn.GroupNorm, nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd,
                   nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd,
                   nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.Upsample)
#: Modules whose >2-D outputs are features-last (units on the last axis: sequences of vectors).
_FEATURES_LAST = (nn.Linear, nn.LayerNorm, nn.Embedding, nn.MultiheadAttention, nn.Bilinear,
                  nn.TransformerEncoderLayer, nn.TransformerDecoderLayer) + (
                  (nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ())


def model_unit_axis(model: nn.Module):
    """The unit axis a model declares for its layers: its ``nichelab_unit_axes`` attribute (an int
    or a dict ``{layer: axis}``, set by nichelab's Keras and Hugging Face adapters), -1 for a
    Hugging Face ``transformers`` model (hidden units last), else None (inferred per layer)."""
    declared = getattr(model, "nichelab_unit_axes", None)
    if declared is not None:
        return declared
    if type(model).__module__.startswith("transformers.") and hasattr(model, "config"):
        return -1
    return None


def axis_module(model: nn.Module, name: str) -> nn.Module:
    """The module whose type decides the unit axis of layer ``name``.

    The module itself, except for a parameter-free module (activation, dropout, identity) inside a
    plain ``nn.Sequential``: there the closest earlier sibling of a known layout (Conv, BatchNorm,
    pooling / Linear, LayerNorm, ...) decides, since its output is what flows in.
    """
    base = split_key(name)[0]
    module = model.get_submodule(base)
    if isinstance(module, _CHANNELS_FIRST + _FEATURES_LAST) or any(True for _ in module.parameters()):
        return module
    parent_name, _, child = base.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    if not isinstance(parent, nn.Sequential) or type(parent).forward is not nn.Sequential.forward:
        return module
    names = list(parent._modules)
    for prev in reversed(names[:names.index(child)] if child in names else []):
        m = parent._modules[prev]
        if isinstance(m, _CHANNELS_FIRST + _FEATURES_LAST):
            return m
        if any(True for _ in m.parameters()):
            break
    return module


def _explicit_axis(unit_axis, name: str):
    if isinstance(unit_axis, Mapping):
        base = split_key(name)[0]
        return unit_axis.get(name, unit_axis.get(base))
    return unit_axis


def unit_axis_of(name: str, module: nn.Module, shape: tuple, unit_axis=None, *, needed: bool = True) -> int | None:
    """Which axis of a layer's output holds its units (positive index), or None to leave it as is.

    Parameters
    ----------
    name : str
        The layer (for messages and dict look-ups).
    module : torch.nn.Module
        The module that produced the output (its type decides when ``unit_axis`` is None).
    shape : tuple of int
        The output's shape, samples first.
    unit_axis : None, int or dict of str to int, default None
        Explicit axis (negative counts from the end), for every layer or per layer name.
    needed : bool, default True
        Whether the output will be reduced or edited per unit. When False and the axis is not
        explicit, a > 2-D output is left as it is (None).

    Returns
    -------
    int or None
        1 for 2-D outputs; otherwise the explicit axis, else inferred: 1 for channels-first
        modules (Conv, BatchNorm, pooling) and for any 4-D / 5-D output (torch's image
        layout), the last axis for Linear / LayerNorm / Embedding / attention outputs.

    Raises
    ------
    NichelabError
        An explicit axis out of range, or a 3-D output of another module (e.g. a ReLU applied to
        either (n, C, L) or (n, seq, features)) whose unit axis is ambiguous, naming the layer,
        its shape and the options.
    """
    ndim = len(shape)
    if ndim < 2:
        return None
    axis = _explicit_axis(unit_axis, name)
    if axis is not None:
        if isinstance(axis, bool) or not isinstance(axis, int) or not (1 <= axis % ndim if axis < 0 else 1 <= axis < ndim):
            raise NichelabError(f"unit_axis for layer {name!r} must be an axis other than 0 (samples) of its "
                                f"output of shape {tuple(shape)}; got {axis!r}")
        return axis % ndim
    if ndim == 2:
        return 1
    if not needed:
        return None
    if isinstance(module, _CHANNELS_FIRST):
        return 1
    if isinstance(module, _FEATURES_LAST):
        return ndim - 1
    if ndim >= 4:
        return 1
    raise NichelabError(
        f"layer {name!r} ({type(module).__name__}) outputs shape {tuple(shape)}, whose unit axis is ambiguous: "
        f"axis 1 for channels-first outputs (n, channels, length), axis {ndim - 1} for sequences of "
        f"vectors (n, seq, features); pass unit_axis=1 or unit_axis=-1 (or a dict {{{name!r}: axis}}), "
        "or reduce=None to keep the output as it is"
    )


# ------------------------------------------------------------------------------------------- tokens
def _token_reduce(t: torch.Tensor, mode: str, mask: torch.Tensor | None) -> torch.Tensor:
    """(n, units, seq) -> (n, units) by ``mode`` ("first" or mask-aware "mean"); "all" keeps it."""
    if mode == "first":
        return t[:, :, 0]
    if mode == "all":
        return t
    if mask is None:
        return t.mean(dim=2)
    w = mask.to(t.dtype)[:, None, :]                               # (n, 1, seq)
    return (t * w).sum(dim=2) / w.sum(dim=2).clamp_min(1)


class Recorder(dict):
    """What :func:`hooks` yields: ``{key: tensor}`` of the current forward pass, plus state.

    Attributes
    ----------
    calls : dict of str to int
        How many times each hooked module ran in the last forward pass (2 or more = reused).
    mask : torch.Tensor of shape (n, seq) or None
        The ``attention_mask`` keyword of the current forward pass (token models).
    seq_len : int or None
        Length of the token axis of the current forward pass (from ``input_ids`` /
        ``attention_mask``), None for other inputs.
    """

    def __init__(self):
        super().__init__()
        self.calls: dict[str, int] = {}
        self.mask: torch.Tensor | None = None
        self.seq_len: int | None = None

    def start(self, args, kwargs) -> None:
        """Reset for a new forward pass of the root model (called by its pre-hook)."""
        self.clear()
        self.calls = {}
        found = kwargs.get("attention_mask")
        ids = kwargs.get("input_ids")
        if found is None and args and isinstance(args[0], Mapping):       # model(batch_dict)
            found, ids = args[0].get("attention_mask"), args[0].get("input_ids")
        self.mask = found if isinstance(found, torch.Tensor) else None
        ref = self.mask if self.mask is not None else ids
        self.seq_len = int(ref.shape[1]) if isinstance(ref, torch.Tensor) and ref.ndim == 2 else None


class StopForward(Exception):
    """Raised inside a forward pass by ``hooks(..., stop=True)`` once every requested layer ran."""


@contextlib.contextmanager
def hooks(model: nn.Module, layers: Layers = None, *, reduce: str | None = None,
          pre_activation: bool = False, unit_axis=None, select=None, tokens: str | None = None,
          edit: Callable[[str, torch.Tensor], torch.Tensor | None] | None = None,
          record: bool = True, keep_graph: bool = False, stop: bool = False) -> Iterator[Recorder]:
    """The one hook primitive: record (and optionally edit) named layers' outputs during forward passes.

    :func:`capture`, :func:`nichelab.interventions.ablate_units`,
    :func:`nichelab.interventions.visualize_units` and keyed dropout
    (:mod:`nichelab.train.masks`) all register their hooks through this context manager. Hooks
    are removed on exit, also when the forward pass or the body raises.

    Every forward pass of ``model`` counts the calls of each hooked module: call ``k`` of module
    ``name`` has key ``name`` (k = 0) or ``name#k``. A requested ``"name"`` covers every call;
    ``"name#k"`` only call ``k`` (``"name#0"``: the first call only).

    Parameters
    ----------
    model : torch.nn.Module
    layers : None, str, list of str or callable, default None
        As in :func:`capture`; names may end in ``#k``.
    reduce : {None, "mean", "max"}, default None
        Reduction of the non-unit axes of outputs with more than 2 dimensions: (n, C, ...) -> (n, C).
    pre_activation : bool, default False
        As in :func:`capture`.
    unit_axis : None, int or dict of str to int, default None
        The axis of each output that holds the units; see :func:`unit_axis_of`. Outputs are
        recorded (and passed to ``edit``) with the units moved to axis 1.
    select : None, int, str, callable or dict, default None
        Which tensor of a tuple / dict / ``ModelOutput`` output to record (see :func:`capture`).
    tokens : {None, "mean", "first", "all"}, default None
        Reduction of the token axis of (n, seq, units) outputs when the forward pass gets
        ``input_ids`` / ``attention_mask``: "mean" (the default for such inputs) averages the
        tokens whose mask is 1; "first" takes token 0 (e.g. [CLS]); "all" keeps
        (n, units, seq). Outputs whose non-unit axis is not the token axis are left to ``reduce``.
    edit : callable (key, tensor) -> tensor or None, optional
        Called on every recorded call's output (units on axis 1, before any reduction); a
        returned tensor of the same shape replaces the output in the forward pass.
    record : bool, default True
        Keep the (reduced) outputs in the yielded dict; False only runs ``edit``.
    keep_graph : bool, default False
        Record the outputs as they are (same dtype, autograd graph kept) instead of detached
        float32 copies.
    stop : bool, default False
        Raise :class:`StopForward` as soon as every requested layer has run (the caller catches
        it), to skip the rest of the model.

    Yields
    ------
    Recorder
        A dict emptied at the start of every forward pass of ``model`` and filled with that
        pass's outputs; its ``calls`` attribute counts each module's calls in the pass.

    Raises
    ------
    NichelabError
        Unknown layer name (with close matches), bad ``reduce`` / ``tokens``, an output with no
        tensor or an ambiguous unit axis (raised from the forward pass).

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
    if tokens not in TOKENS:
        raise NichelabError(f"tokens must be None, 'mean', 'first' or 'all'; got {tokens!r}")
    if edit is not None and pre_activation:
        raise NichelabError("edit applies to layer outputs; it cannot be combined with pre_activation=True")
    names = resolve_layers(model, layers)
    axes = unit_axis if unit_axis is not None else model_unit_axis(model)
    wanted: dict[str, set | None] = {}
    for name in names:
        base, call = split_key(name)
        if call is None or wanted.get(base, ()) is None:
            wanted[base] = None
        else:
            wanted.setdefault(base, set()).add(call)
    rec = Recorder()
    targets = [(base, *_target(model, base, pre_activation), calls) for base, calls in wanted.items()]
    kinds = {base: axis_module(model, base) for base in wanted}
    needed = {call_key(b, c) for b, calls in wanted.items() for c in (calls or {0})}

    def handle(name: str, module: nn.Module, value, is_input: bool):
        call = rec.calls.get(name, 0)
        rec.calls[name] = call + 1
        calls = wanted[name]
        if calls is not None and call not in calls:
            return None
        key = call_key(name, call)
        t, where = _select(key, value, None if is_input else select)
        token = rec.seq_len is not None and t.ndim == 3 and rec.seq_len in t.shape[1:]
        mode = tokens or ("mean" if token else None)
        axis = unit_axis_of(key, kinds[name] if not is_input else module, tuple(t.shape), axes,
                            needed=edit is not None or (reduce is not None and t.ndim > 2) or token)
        tu = t if axis in (None, 1) else t.movedim(axis, 1)
        if record:
            rec[key] = _process(tu, reduce, mode if token and tu.shape[2:] == (rec.seq_len,) else None,
                                rec.mask, keep_graph)
        out = None
        if edit is not None:
            new = edit(key, tu)
            if new is not None:
                out = _put_back(value, where, new if axis in (None, 1) else new.movedim(1, axis))
        if stop and needed <= set(rec):
            raise StopForward
        return out

    handles = []
    try:
        handles.append(model.register_forward_pre_hook(lambda m, args, kwargs: rec.start(args, kwargs),
                                                       with_kwargs=True))
        for name, module, use_input, _ in targets:
            if use_input:
                # a pre-hook sees the input before an in-place activation overwrites it
                def pre_hook(mod, args, kwargs, _name=name):
                    value = args[0] if args else next(iter(kwargs.values()), None)
                    handle(_name, mod, value, True)
                handles.append(module.register_forward_pre_hook(pre_hook, with_kwargs=True))
            else:
                def hook(mod, args, output, _name=name):
                    return handle(_name, mod, output, False)
                handles.append(module.register_forward_hook(hook))
        yield rec
    finally:
        for h in handles:
            h.remove()


def _process(t: torch.Tensor, reduce: str | None, token_mode: str | None, mask, keep_graph: bool) -> torch.Tensor:
    """Token and spatial reductions of a unit-first output; a detached float32 copy unless ``keep_graph``."""
    if not keep_graph:
        t = t.detach()
    if token_mode is not None:
        t = _token_reduce(t if keep_graph else t.float(), token_mode, mask)
        if token_mode == "all":
            return t if keep_graph else t.float().clone()
    if reduce is not None and t.ndim > 2:
        dims = tuple(range(2, t.ndim))
        t = t if keep_graph else t.float()
        return t.mean(dims) if reduce == "mean" else t.amax(dims)
    if keep_graph:
        return t
    # clone: a later in-place op (e.g. ReLU(inplace=True)) must not change the record
    return t.float().clone() if t.dtype == torch.float32 else t.float()


def _model_dtype(model: nn.Module) -> torch.dtype:
    for t in list(model.parameters()) + list(model.buffers()):
        if t.is_floating_point():
            return t.dtype
    return torch.float32


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (CPU for a model without any)."""
    for t in list(model.parameters()) + list(model.buffers()):
        return t.device
    return torch.device("cpu")


def _as_tensor(x, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
            raise NichelabError(f"inputs must be numeric; got an array of dtype {x.dtype}")
        x = torch.tensor(x)
    elif isinstance(x, (list, tuple)) and x and not isinstance(x[0], (str, bytes)):
        x = torch.as_tensor(np.asarray(x))
    elif not isinstance(x, torch.Tensor):
        raise NichelabError(
            "each batch must be a tensor, an array, a dict of them (keyword inputs such as input_ids) "
            f"or an (x, y) tuple; got {type(x).__name__}"
        )
    if x.ndim == 0:
        raise NichelabError("each input batch must have a sample dimension; got a 0-d tensor")
    if x.is_floating_point():
        return x.to(device=device, dtype=dtype)
    return x.to(device=device)


def _as_batch(x, device: torch.device, dtype: torch.dtype):
    """A tensor, or a dict of tensors for keyword inputs (non-tensor values passed through)."""
    if isinstance(x, Mapping):
        if not x:
            raise NichelabError("a batch from inputs is an empty dict; expected keyword inputs such as input_ids")
        return {k: (_as_tensor(v, device, dtype) if isinstance(v, (np.ndarray, torch.Tensor, list)) else v)
                for k, v in x.items()}
    return _as_tensor(x, device, dtype)


def batch_len(batch) -> int:
    """Samples in a batch: the first dimension of a tensor or of a dict's first tensor."""
    if isinstance(batch, Mapping):
        for v in batch.values():
            if isinstance(v, torch.Tensor) and v.ndim:
                return int(v.shape[0])
        raise NichelabError(f"a dict batch must hold tensors with a sample dimension; got keys {list(batch)}")
    return int(batch.shape[0])


def batch_shape(batch) -> tuple | dict:
    """Shape of a tensor batch, or ``{key: shape}`` of a dict batch (for messages)."""
    if isinstance(batch, Mapping):
        return {k: tuple(v.shape) for k, v in batch.items() if isinstance(v, torch.Tensor)}
    return tuple(batch.shape)


def call_model(model: nn.Module, batch):
    """``model(**batch)`` for a dict batch (keyword inputs), else ``model(batch)``."""
    return model(**batch) if isinstance(batch, Mapping) else model(batch)


def n_samples(inputs) -> int | None:
    """Number of samples of an array, tensor or dict-of-arrays input; None for other iterables."""
    if isinstance(inputs, Mapping):
        arrays = [v for v in inputs.values() if isinstance(v, (np.ndarray, torch.Tensor))]
        if not arrays:
            raise NichelabError(f"a dict of inputs must hold arrays (e.g. input_ids, attention_mask); got keys {list(inputs)}")
        lens = {k: (int(v.shape[0]) if v.ndim else None) for k, v in inputs.items() if isinstance(v, (np.ndarray, torch.Tensor))}
        if None in lens.values() or len(set(lens.values())) != 1:
            raise NichelabError(f"every array of a dict of inputs must have the same number of samples; got {lens}")
        return next(iter(lens.values()))
    if isinstance(inputs, Rows):
        return len(inputs)
    if isinstance(inputs, (np.ndarray, torch.Tensor)):
        if inputs.ndim == 0:
            raise NichelabError("inputs must have a sample dimension; got a 0-d array")
        return int(inputs.shape[0])
    return None


class Rows:
    """The rows ``X[index]`` of an array, read batch by batch instead of copied whole.

    :func:`capture`, :func:`iter_batches` and :func:`n_samples` treat it as the array ``X[index]``:
    batches ``X[index[start:stop]]`` are gathered one at a time, and the pages of a memory-mapped
    ``X`` are dropped from the resident set as they are read (:mod:`nichelab.data._memory`). The
    values are exactly those of ``X[index]``.

    Parameters
    ----------
    X : np.ndarray of shape (n, ...)
        Any array, typically a read-only memory map of a large file.
    index : array of int of shape (m,)
        Rows of ``X``, in the order wanted.

    Examples
    --------
    >>> r = Rows(np.arange(10.0).reshape(5, 2), [4, 0])
    >>> len(r), r[:1].tolist(), np.asarray(r).shape
    (2, [[8.0, 9.0]], (2, 2))
    """

    def __init__(self, X: np.ndarray, index):
        self.X = X
        self.index = np.asarray(index, dtype=np.int64)
        self.shape = (len(self.index),) + tuple(X.shape[1:])
        self.ndim = len(self.shape)
        self.dtype = X.dtype

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, key):
        """Rows of the selection: ``r[a:b]`` is ``X[index[a:b]]`` (any index into the selection works); a
        memory-mapped ``X`` is read from its file (:func:`nichelab.data._memory.take`: no page of it kept)."""
        pick = self.index[key]
        return take(self.X, pick) if np.ndim(pick) == 1 else self.X[pick]

    def __array__(self, dtype=None, copy=None):
        out = gather(self.X, self.index)
        return out if dtype is None else out.astype(dtype, copy=False)


def iter_batches(inputs, batch_size: int, device=None, dtype=torch.float32) -> Iterator:
    """Yield input batches as tensors (or dicts of tensors) on ``device``; floats cast to ``dtype``.

    ``inputs`` is an array or tensor (sliced into ``batch_size`` rows), or :class:`Rows` (a selection of
    an array's rows, gathered batch by batch); a dict of arrays
    (keyword inputs such as ``{"input_ids": (n, seq), "attention_mask": (n, seq)}``, sliced
    together); a list/tuple of samples (converted with ``np.asarray``); or any other iterable of
    batches (tensors, arrays, dicts such as a tokenizer's output, or ``(x, y, ...)`` tuples whose
    first item is the input), such as a ``DataLoader``.
    """
    device = torch.device(device if device is not None else "cpu")
    if isinstance(inputs, (list, tuple)) and not (inputs and isinstance(inputs[0], Mapping)):
        inputs = np.asarray(inputs)
    if isinstance(inputs, Mapping):
        n = n_samples(inputs)
        for start in range(0, n, batch_size):
            yield _as_batch({k: (v[start:start + batch_size] if isinstance(v, (np.ndarray, torch.Tensor)) else v)
                             for k, v in inputs.items()}, device, dtype)
        return
    if isinstance(inputs, Rows):
        pages = Releaser(inputs.X)
        try:
            for start in range(0, len(inputs), batch_size):
                rows = inputs[start:start + batch_size]
                batch = _as_tensor(rows, device, dtype)
                pages.read(rows.nbytes + len(rows) * Releaser.PAGE)   # scattered rows: fault-around per row
                yield batch
        finally:
            pages.close()
        return
    if isinstance(inputs, (np.ndarray, torch.Tensor)):
        n = n_samples(inputs)
        # a memory-mapped array is read batch by batch; its pages are dropped from the resident set every
        # few MB (nichelab.data._memory), so a pass over a large file never holds the whole file
        pages = Releaser(inputs) if isinstance(inputs, np.ndarray) else None
        try:
            for start in range(0, n, batch_size):
                rows = inputs[start:start + batch_size]
                batch = _as_tensor(rows, device, dtype)
                if pages is not None:
                    pages.read(rows.nbytes)
                yield batch
        finally:
            if pages is not None:
                pages.close()
        return
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise NichelabError(
            "inputs must be an array, a tensor, a dict of arrays or an iterable of batches (e.g. a DataLoader); "
            f"got {type(inputs).__name__}"
        )
    for item in inputs:
        if isinstance(item, (list, tuple)):
            if not item:
                raise NichelabError("a batch from inputs is an empty tuple; expected (x, y)")
            item = item[0]
        yield _as_batch(item, device, dtype)


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


def _pad(batch, size: int):
    """A short batch (tensor or dict of tensors) padded to ``size`` rows with copies of its first row."""
    if isinstance(batch, Mapping):
        return {k: _pad(v, size) if isinstance(v, torch.Tensor) and v.ndim else v for k, v in batch.items()}
    b = batch.shape[0]
    return batch if b >= size else torch.cat([batch, batch[:1].expand(size - b, *batch.shape[1:])])


def _slice(batch, start: int, stop: int):
    if isinstance(batch, Mapping):
        return {k: v[start:stop] if isinstance(v, torch.Tensor) and v.ndim else v for k, v in batch.items()}
    return batch[start:stop]


def _padded(batches: Iterator, size: int) -> Iterator[tuple[object, int]]:
    """Cut batches into ``size`` rows, padding a short piece with copies of its first row.

    Yields ``(batch of exactly size rows, number of real rows)``.
    """
    for batch in batches:
        n = batch_len(batch)
        for start in range(0, n, size):
            piece = _slice(batch, start, start + size)
            b = batch_len(piece)
            yield _pad(piece, size), b


def capture(model: nn.Module, inputs, layers: Layers = None, *, batch_size: int = 1024,
            reduce: str | None = None, pre_activation: bool = False,
            device: str | torch.device | None = None, fixed_batch: int | None = None,
            unit_axis=None, select=None, tokens: str | None = None) -> dict[str, np.ndarray]:
    """Run ``model`` over ``inputs`` and return the named layers' outputs.

    The model runs in eval mode under ``torch.no_grad()``, batch by batch; each module's
    training flag is restored afterwards. Only the captured activations are kept in
    memory (preallocated when the number of samples is known), never the inputs.

    Parameters
    ----------
    model : torch.nn.Module
    inputs : array of shape (n_samples, ...), torch.Tensor, dict of arrays, list, or iterable of batches
        Arrays and tensors are cut into batches of ``batch_size`` rows. A dict of arrays
        (keyword inputs, e.g. ``{"input_ids": (n, seq) int, "attention_mask": (n, seq)}``) is
        sliced together and the model called as ``model(**batch)``. Any other iterable (e.g. a
        ``DataLoader``, or a list of tokenizer outputs) yields batches: tensors, arrays, dicts or
        ``(x, y, ...)`` tuples whose first item is the input; its own batch size is used.
        Inputs are moved to ``device`` and floating inputs cast to the model's parameter dtype;
        integer inputs (token ids) keep their dtype.
    layers : None, str, list of str, or callable(name, module) -> bool, default None
        Names from ``model.named_modules()``; ``"name#k"`` records only call ``k`` of a module
        called several times per forward pass. ``None`` takes :func:`default_layers` (the hidden
        blocks of built-in models; activation modules otherwise).
    batch_size : int, default 1024
    reduce : {None, "mean", "max"}, default None
        For outputs with more than 2 dimensions (conv: (n, C, H, W)), the mean or max over
        every axis except samples and units, giving (n, C). With None such outputs are
        returned unflattened (units on axis 1 when the unit axis is known).
    pre_activation : bool, default False
        Record the input of activation modules (for a built-in block: the input of its
        ``.act``, i.e. its pre-activation) instead of their output. Linear/Conv layers
        always give their output, which is already a pre-activation.
    device : str or torch.device, optional
        Where the batches are sent; default the device of the model's parameters.
    fixed_batch : int, optional
        For models that accept a single batch size (e.g. a ``torch.export`` program traced
        with a static batch, see :class:`nichelab.nn.loading.LoadedModel`): every forward
        pass gets exactly this many rows, the last batch padded with copies of its first
        row, and the padding rows are dropped from the result. Overrides ``batch_size``.
    unit_axis : None, int or dict of str to int, default None
        The axis of each layer's output that holds its units (e.g. -1 for channels-last
        outputs); see :func:`unit_axis_of`. Default: what the model declares
        (:func:`model_unit_axis`; Keras and Hugging Face adapters declare -1), else inferred
        from the module type; an ambiguous 3-D output raises when it must be reduced.
    select : None, int, str, callable or dict, default None
        For layers whose output is a tuple, dict or ``ModelOutput``: which tensor to record (an
        index, a key / attribute, a callable ``(name, output) -> tensor``, or a dict of these
        per layer). Default: the first tensor of a tuple, ``last_hidden_state`` or the first
        tensor of a dict / ``ModelOutput``.
    tokens : {None, "mean", "first", "all"}, default None
        How the token axis of (n, seq, units) outputs is reduced when the inputs carry
        ``input_ids`` / ``attention_mask``: mask-aware "mean" (default), "first" token, or
        "all" tokens kept as (n, units, seq) (padding positions included).

    Returns
    -------
    dict of str to numpy.ndarray
        float32, one array per recorded call, first dimension ``n_samples``; (n, units) for
        dense layers, (n, C, H, W) for conv layers unless ``reduce``. Keys are layer names,
        in call order; a module called ``k`` times per forward gives ``name``, ``name#1``,
        ... ``name#{k-1}`` (see :func:`call_counts`). Requested layers that never run raise;
        with ``layers=None`` or a predicate they are left out.

    Raises
    ------
    NichelabError
        ``model`` not an ``nn.Module``, a ``device`` torch cannot parse, unknown layer (with
        close names), bad ``reduce`` / ``batch_size`` / ``tokens``, empty
        inputs, an output whose unit axis is ambiguous (naming the layer, its shape and the
        options), or the forward pass failing (message: "capturing layers [...] failed on a
        batch of shape (...): ..." and, when the input shape visibly mismatches the first
        Linear/Conv layer, what it expects). Hooks are removed in every case.

    Example
    -------
    >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4))
    >>> acts = capture(model, np.zeros((100, 2), np.float32))
    >>> {name: a.shape for name, a in acts.items()}
    {'1': (100, 3)}
    """
    if not isinstance(model, nn.Module):
        raise NichelabError(f"model must be a torch.nn.Module; got {type(model).__name__} "
                            "(load a file with nichelab.nn.loading.load_model first)")
    if device is not None:
        try:
            device = torch.device(device)
        except (RuntimeError, TypeError, ValueError):
            raise NichelabError(f"device must be a torch device such as 'cpu' or 'cuda:0'; got {device!r}") from None
    batch_size = check_positive_int("batch_size", batch_size)
    if fixed_batch is not None:
        batch_size = check_positive_int("fixed_batch", fixed_batch)
    if reduce not in _REDUCE:
        raise NichelabError(f"reduce must be None, 'mean' or 'max'; got {reduce!r}")
    names = resolve_layers(model, layers)
    explicit = layers is not None and not (callable(layers) and not isinstance(layers, str))
    listy = isinstance(inputs, (list, tuple)) and not (inputs and isinstance(inputs[0], Mapping))
    store = _Store(len(inputs) if listy else n_samples(inputs))
    dtype = _model_dtype(model)
    device = model_device(model) if device is None else device
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with torch.no_grad(), hooks(model, names, reduce=reduce, pre_activation=pre_activation,
                                    unit_axis=unit_axis, select=select, tokens=tokens) as cache:
            batches = iter_batches(inputs, batch_size, device, dtype)
            if fixed_batch is None:
                batches = ((batch, None) for batch in batches)
            else:
                batches = _padded(batches, batch_size)
            for batch, keep in batches:
                try:
                    call_model(model, batch)
                except NichelabError:
                    raise
                except Exception as err:
                    hint = "" if isinstance(batch, Mapping) else expected_input_hint(model, batch)
                    raise NichelabError(
                        f"capturing layers {names} failed on a batch of shape {batch_shape(batch)}: "
                        f"{_one_line(err)}{hint}"
                    ) from err
                store.add(cache, batch_len(batch), keep)
    finally:
        for module, flag in modes:
            module.training = flag
    if store.seen == 0:
        raise NichelabError("inputs has no samples; capture needs at least one")
    out = store.result()
    if not out:
        raise NichelabError(f"none of the layers {names} ran during the forward pass")
    if explicit:
        missing = [n for n in names if call_key(*_as_call(n)) not in out]
        if missing:
            raise NichelabError(
                f"layers {missing} never ran during the forward pass; check that the model uses them"
            )
    return out


def _as_call(name: str) -> tuple[str, int]:
    base, call = split_key(name)
    return base, call or 0
