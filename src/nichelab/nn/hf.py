"""Hugging Face ``transformers`` models: loaded safely, captured by their own module paths.

:class:`HFModule` wraps a ``PreTrainedModel`` so that nichelab can treat it like any classifier:

- its ``named_modules()`` are the model's own paths (``bert.encoder.layer.0``,
  ``bert.encoder.layer.0.intermediate.intermediate_act_fn`` ...): the model's children are
  registered on the wrapper directly, so hooks see the very same modules;
- ``forward(input_ids=..., attention_mask=..., token_type_ids=...)`` (or one tensor of token ids)
  returns one tensor: the ``logits`` of a model with a head, else ``last_hidden_state``;
- units are the hidden size: the wrapper declares ``nichelab_unit_axes = -1``, so a
  (n, seq, hidden) output has ``hidden`` units and its token axis is reduced by
  :func:`nichelab.capture.capture`'s ``tokens`` rule (mask-aware mean by default);
- default layers (:func:`transformer_default_layers`): every block's output (the elements of the
  model's stack of identical blocks, e.g. ``encoder.layer``) and every MLP activation inside a
  block (``intermediate_act_fn``, ``mlp.act`` ...).

A folder written by ``save_pretrained`` is loaded with ``use_safetensors=True``,
``local_files_only=True`` and ``trust_remote_code=False`` (no download, no code from the folder);
pickled ``pytorch_model.bin`` weights only with ``trust_pickle=True``.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from ..errors import NichelabError

__all__ = ["HFModule", "wrap_hf", "load_hf", "is_hf_model", "transformer_default_layers", "TOKEN_INPUTS"]

_INSTALL = "install it with: pip install 'nichelab[hf]'"
#: Keyword inputs passed on to the model when present in a batch.
TOKEN_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "position_ids")


def is_hf_model(obj) -> bool:
    """True for a ``transformers`` model (without importing transformers)."""
    return isinstance(obj, nn.Module) and type(obj).__module__.startswith("transformers.") and hasattr(obj, "config")


def _import_transformers():
    try:
        import transformers
    except ImportError as exc:
        raise NichelabError(f"loading a Hugging Face model needs transformers; {_INSTALL} ({exc})") from None
    return transformers


def _is_activation(m: nn.Module) -> bool:
    from ..capture import ACTIVATION_TYPES
    return isinstance(m, ACTIVATION_TYPES) or type(m).__module__.startswith("transformers.activations")


def _block_lists(model: nn.Module) -> list[tuple[str, nn.ModuleList]]:
    """``nn.ModuleList`` s of two or more modules of one type (the stacks of transformer blocks)."""
    out = []
    for name, m in model.named_modules():
        if isinstance(m, nn.ModuleList) and len(m) >= 1 and len({type(c) for c in m}) == 1 \
                and any(True for _ in m[0].parameters()):
            out.append((name, m))
    return out


def transformer_default_layers(model: nn.Module) -> list[str]:
    """Block outputs and MLP activations of a transformer, in ``named_modules()`` order.

    The blocks are the elements of the longest ``nn.ModuleList`` of identical modules with
    parameters (``bert.encoder.layer``, ``transformer.h`` ...); the MLP activations are the
    activation modules inside a block (torch activations or ``transformers.activations``).
    Empty when the model has no such list.
    """
    lists = _block_lists(model)
    if not lists:
        return []
    prefix, blocks = max(lists, key=lambda item: (len(item[1]), -item[0].count(".")))
    names = []
    for i, block in enumerate(blocks):
        path = f"{prefix}.{i}" if prefix else str(i)
        names.append(path)
        names += [f"{path}.{sub}" for sub, m in block.named_modules() if sub and _is_activation(m)]
    return names


class HFModule(nn.Module):
    """A ``transformers`` model as a classifier over token inputs, with the model's own layer names.

    Parameters
    ----------
    model : transformers.PreTrainedModel

    Attributes
    ----------
    hf_model : transformers.PreTrainedModel
    nichelab_unit_axes : int
        -1: hidden units are the last axis of every output.
    """

    nichelab_unit_axes = -1

    def __init__(self, model: nn.Module):
        super().__init__()
        object.__setattr__(self, "hf_model", model)
        for name, child in model.named_children():
            self.add_module(name, child)
        self.config = model.config

    def nichelab_default_layers(self) -> list[str]:
        """:func:`transformer_default_layers` of the model."""
        return transformer_default_layers(self)

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        """Logits (n, n_labels) of a model with a head, else the last hidden state (n, seq, hidden)."""
        if isinstance(input_ids, torch.Tensor) and input_ids.is_floating_point():
            input_ids = input_ids.long()            # token ids stored as floats by an array loader
        extra = {k: v for k, v in kwargs.items() if k in TOKEN_INPUTS}
        out = self.hf_model(input_ids=input_ids, attention_mask=attention_mask, **extra)
        for key in ("logits", "last_hidden_state"):
            value = getattr(out, key, None)
            if isinstance(value, torch.Tensor):
                return value
        return out[0] if isinstance(out, (tuple, list)) else out


def wrap_hf(model: nn.Module) -> HFModule:
    """Wrap a ``transformers`` model object for capture, ablation and the census.

    Raises
    ------
    NichelabError
        Not a ``transformers`` model.
    """
    if isinstance(model, HFModule):
        return model
    if not is_hf_model(model):
        raise NichelabError(f"expected a Hugging Face transformers model; got {type(model).__name__}")
    return HFModule(model).eval()


def load_hf(path: str | Path, *, trust_pickle: bool = False) -> HFModule:
    """Load a model folder written by ``save_pretrained`` (no download, no remote code).

    The class is chosen from ``config.json``: ``AutoModelForSequenceClassification`` when the
    saved architecture ends in ``ForSequenceClassification``, else ``AutoModel`` (outputs are then
    the last hidden state, not logits).

    Parameters
    ----------
    path : str or Path
        A folder with ``config.json`` and ``model.safetensors`` (or ``pytorch_model.bin``).
    trust_pickle : bool, default False
        Allow pickled ``pytorch_model.bin`` weights (unpickling can run code).

    Returns
    -------
    HFModule

    Raises
    ------
    NichelabError
        transformers missing, no ``config.json``, pickled weights without ``trust_pickle``, or a
        folder transformers cannot read (naming the folder).
    """
    root = Path(path)
    config_file = root / "config.json"
    if not config_file.is_file():
        raise NichelabError.about("model", f"model {str(root)!r} must be a folder written by save_pretrained (with config.json); "
                            f"found {sorted(p.name for p in root.iterdir())[:8] if root.is_dir() else 'no folder'}")
    has_safe = any(root.glob("*.safetensors"))
    if not has_safe and not trust_pickle:
        raise NichelabError.about("model", f"model {str(root)!r} has no .safetensors weights (only pickled ones, which can run code "
                            "when loaded); re-save with model.save_pretrained(..., safe_serialization=True) or pass "
                            "--trust-pickle if you trust the folder")
    transformers = _import_transformers()
    try:
        arch = json.loads(config_file.read_text()).get("architectures") or []
    except ValueError as exc:
        raise NichelabError.about("model", f"model {str(config_file)!r} is not valid JSON: {exc}") from None
    auto = (transformers.AutoModelForSequenceClassification
            if any(str(a).endswith("ForSequenceClassification") for a in arch) else transformers.AutoModel)
    try:
        model = auto.from_pretrained(str(root), local_files_only=True, trust_remote_code=False,
                                     use_safetensors=has_safe)
    except Exception as exc:  # transformers raises OSError, ValueError, KeyError ... for bad folders
        raise NichelabError.about("model", f"model {str(root)!r} could not be loaded by transformers: {type(exc).__name__}: "
                            f"{' '.join(str(exc).split())[:300]}") from None
    return wrap_hf(model)
