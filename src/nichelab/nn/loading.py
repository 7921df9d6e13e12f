"""Load a user's model safely: torch.export (.pt2), TorchScript (.pt), or ``package.module:factory``
plus safetensors weights. Arbitrary pickles only with ``trust_pickle=True``.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import os
import re
import sys
import warnings
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import NichelabError

__all__ = ["LoadedModel", "load_model", "plain_from_script", "quiet_torch"]


@contextlib.contextmanager
def quiet_torch():
    """Silence torch's own warnings (e.g. ``isinstance(treespec, LeafSpec) is deprecated``) and log lines
    while reading or unflattening a model file; nichelab's errors report problems as one line."""
    logger = logging.getLogger("torch")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        logger.setLevel(level)


#: torch's advice appended to a shape mismatch of an exported program (about re-exporting, not the data).
_TORCH_ADVICE = re.compile(r"\s*If you meant for this dimension to be dynamic.*$", re.S)
_EXPECTED = re.compile(r"Expected input at \*?args\[(\d+)\]\.shape\[(\d+)\] to be equal to (\d+), but got (\d+)")


def export_input_message(message: str, source: str, shapes: list) -> str:
    """An exported program's input error as one line naming the file, what it expects and what it got.

    ``"Expected input at *args[0].shape[1] to be equal to 64, but got 12. If you meant ... re-export"``
    -> ``"model file 'm.pt2' expects inputs of shape (batch, 64): 64 values along axis 1 of each
    sample batch, the data has 12"``; torch's advice about re-exporting is dropped. ``shapes`` are the
    program's input shapes (``"batch"`` for a dynamic axis).
    """
    text = _TORCH_ADVICE.sub("", str(message).strip()).strip()
    m = _EXPECTED.search(text)
    if not m:
        return text
    arg, axis, want, got = (int(g) for g in m.groups())
    shape = shapes[arg] if arg < len(shapes) else None
    what = ("input features per sample" if axis == 1 and shape is not None and len(shape) == 2
            else f"values along axis {axis} of the input")
    shown = f" (inputs of shape ({', '.join(map(str, shape))}))" if shape is not None else ""
    return f"model file {source!r} expects {want} {what}{shown}, the data has {got}"


def _input_shapes(ep) -> list:
    """Shapes of an exported program's user inputs; a symbolic (dynamic) axis shows as ``"batch"``
    on axis 0, else its symbol."""
    users = set(ep.graph_signature.user_inputs)
    out = []
    for node in ep.graph.nodes:
        if node.op == "placeholder" and node.name in users:
            val = node.meta.get("val")
            shape = getattr(val, "shape", None)
            out.append(None if shape is None else tuple(
                int(d) if str(d).isdigit() else ("batch" if i == 0 else str(d)) for i, d in enumerate(shape)))
    return out


def _checked(module: nn.Module, source: str, shapes: list) -> nn.Module:
    """The unflattened program, whose input errors name the file and the widths (same modules and names)."""
    base = type(module)

    def forward(self, *args, **kwargs):
        try:
            return base.forward(self, *args, **kwargs)
        except RuntimeError as exc:
            if "Expected input at" not in str(exc):
                raise
            raise RuntimeError(export_input_message(str(exc), source, shapes)) from None

    module.__class__ = type(base.__name__, (base,), {"forward": forward, "__module__": base.__module__})
    return module


@dataclass
class LoadedModel:
    """A loaded model ready for hooks.

    Attributes
    ----------
    module : nn.Module
        In eval mode; its ``named_modules()`` names are the layer names.
    kind : str
        ``"export"``, ``"torchscript"``, ``"factory"``, ``"pickle"``, ``"keras"``, ``"hf"`` or
        ``"module"`` (an object given in Python).
    fixed_batch : int or None
        For an exported program traced with a static batch size, the only batch size it accepts
        (capture pads the last batch to it); None when any batch size works.
    source : str
    """

    module: nn.Module
    kind: str
    fixed_batch: int | None
    source: str


class _Leaf(nn.Module):
    """Wraps a TorchScript submodule so that forward hooks can be registered on it."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, *args):
        return self.inner(*args)


def plain_from_script(module) -> nn.Module:
    """Rebuild a scripted ``nn.Sequential`` as a plain one whose layers accept forward hooks.

    Nested scripted Sequentials are rebuilt recursively; any other scripted submodule becomes
    a hookable leaf (its internals are not reachable). Layer names are preserved.

    Raises
    ------
    NichelabError
        The scripted root is not a Sequential (TorchScript does not run Python hooks).
    """
    if getattr(module, "original_name", type(module).__name__) != "Sequential":
        raise NichelabError(
            f"TorchScript model is a scripted {getattr(module, 'original_name', '?')}, not an nn.Sequential: TorchScript "
            "does not run forward hooks, so nichelab cannot capture its layers. Export it with torch.export "
            "(torch.export.save(..., 'model.pt2')) or give --model package.module:factory --weights file.safetensors"
        )
    children = OrderedDict()
    for name, child in module.named_children():
        is_seq = getattr(child, "original_name", "") == "Sequential"
        children[name] = plain_from_script(child) if is_seq else _Leaf(child)
    return nn.Sequential(children)


def _static_batch(ep) -> int | None:
    for node in ep.graph.nodes:
        if node.op == "placeholder" and node.name in ep.graph_signature.user_inputs:
            val = node.meta.get("val")
            if val is not None and len(val.shape) and isinstance(val.shape[0], int):
                return int(val.shape[0])
            return None
    return None


#: Members of a .pt2 archive that torch reads as plain text (never unpickled).
_PT2_TEXT_MEMBERS = ("archive_format", "archive_version", "byteorder", ".data/version",
                     ".data/serialization_id", ".data/.format_version", ".data/.storage_alignment")


def _raw_payloads(members: dict[str, bytes]) -> set[str]:
    """Archive paths of tensor payloads a .pt2 declares as raw bytes (``use_pickle: false``)."""
    raw = set()
    for name, data in members.items():
        if not name.endswith("_config.json"):
            continue
        try:
            config = json.loads(data).get("config", {})
        except (ValueError, AttributeError):
            continue  # not a payload config; checked like any other member below
        folder = name.rsplit("/", 1)[0]
        for meta in config.values() if isinstance(config, dict) else ():
            if isinstance(meta, dict) and meta.get("use_pickle") is False and meta.get("path_name"):
                raw.add(f"{folder}/{meta['path_name']}")
    return raw


def _unsafe_pt2_members(members: dict[str, bytes]) -> list[str]:
    """Members that only a full unpickle could read (each may run code when loaded).

    Every member is accounted for (fail closed): text metadata, JSON, raw tensor payloads declared
    in the archive's own payload configs, or a torch file that ``torch.load(weights_only=True)``
    reads. Anything else is reported.
    """
    raw = _raw_payloads(members)
    unsafe = []
    for name, data in members.items():
        inner = name.split("/", 1)[1] if "/" in name else name
        if inner in _PT2_TEXT_MEMBERS or name in raw or name.endswith("/"):
            continue
        if name.endswith(".json"):
            try:
                json.loads(data)
                continue
            except ValueError:
                pass
        try:
            torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
        except Exception:
            unsafe.append(name)
    return unsafe


def _read_pt2(path: Path, trust_pickle: bool) -> bytes:
    """The bytes of a .pt2 archive, after checking that loading them runs no code.

    torch.export.load unpickles some members with ``weights_only=False`` (sample inputs after a
    failed safe load, pickled weights and constants), so a crafted archive could run code. Unless
    ``trust_pickle``, every member must be readable without a full unpickle.
    """
    blob = path.read_bytes()
    if trust_pickle:
        return blob
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            members = {info.filename: archive.read(info) for info in archive.infolist()}
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:
        raise NichelabError.about("model", f"model {str(path)!r} could not be read: it is not a torch.export archive (a .pt2 file is a zip archive): {exc}") from None
    unsafe = _unsafe_pt2_members(members)
    if unsafe:
        raise NichelabError.about(
            "model", f"model {str(path)!r}: the .pt2 archive has members that only a full unpickle can read "
            f"({', '.join(unsafe[:3])}{', ...' if len(unsafe) > 3 else ''}); unpickling can run arbitrary code. "
            "Pass trust_pickle=True (--trust-pickle) only if you trust the file, or re-export it with torch.export.save"
        )
    return blob


def _load_export(path: Path, trust_pickle: bool = False) -> LoadedModel:
    blob = _read_pt2(path, trust_pickle)
    with quiet_torch():  # torch's own LeafSpec deprecation notice, from load and unflatten alike
        ep = torch.export.load(io.BytesIO(blob))
        module = _checked(torch.export.unflatten(ep), path.name, _input_shapes(ep))
    fixed = _static_batch(ep)
    if fixed is not None:
        warnings.warn(
            f"--model {str(path)!r} was exported with a fixed batch of {fixed} samples: nichelab runs it in batches of "
            f"exactly {fixed} (the last one padded), which can be several times slower. Re-export it with a dynamic "
            "batch dimension: torch.export.export(model, (x,), dynamic_shapes={'x': {0: torch.export.Dim('batch')}}) "
            "(x = your example batch, at least 2 rows)", stacklevel=3)
    return LoadedModel(module, "export", fixed, str(path))


def _import_factory_module(spec: str, mod_name: str):
    """Import ``mod_name`` as ``python -m`` would: with the current folder on the import path."""
    top = mod_name.split(".")[0]
    cwd = os.getcwd()
    try:
        return importlib.import_module(mod_name)
    except ModuleNotFoundError as exc:
        if exc.name not in (top, mod_name):
            raise
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)                         # after site-packages: never shadows an installed module
        try:
            return importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name not in (top, mod_name):
                raise
    raise NichelabError.about(
        "model", f"model {spec!r}: cannot import factory from module {mod_name!r}: no module named {top!r} in the current folder {cwd!r} or on the Python path; run "
        f"nichelab from the folder that holds {top}/ (or {top}.py), or add that folder to PYTHONPATH")


def _load_factory(spec: str, weights: str | None) -> LoadedModel:
    mod_name, _, attr = spec.partition(":")
    try:
        factory = getattr(_import_factory_module(spec, mod_name), attr)
    except NichelabError:
        raise
    except (ImportError, AttributeError) as exc:
        raise NichelabError.about("model", f"model {spec!r}: cannot import factory {attr!r} from module {mod_name!r}: {exc}") from None
    try:
        model = factory()
    except Exception as exc:
        raise NichelabError.about("model", f"model {spec!r}: calling {attr}() failed (the factory must take no arguments and "
                            f"return an nn.Module): {type(exc).__name__}: {exc}") from None
    if not isinstance(model, nn.Module):
        raise NichelabError.about("model", f"model {spec!r}: the factory must return a torch.nn.Module; got {type(model).__name__}")
    if weights is not None:
        _load_weights(model, Path(weights))
    else:
        warnings.warn(f"--model {spec!r} was given without --weights: the model is analysed with the weights "
                      "its factory returns", stacklevel=3)
    return LoadedModel(model.eval(), "factory", None, spec)


def _load_weights(model: nn.Module, path: Path) -> None:
    if path.suffix != ".safetensors":
        raise NichelabError.about("weights", f"weights must be a .safetensors file; got {str(path)!r}")
    from safetensors.torch import load_file
    try:
        state = load_file(str(path))
    except Exception as exc:  # safetensors raises several types for bad files
        raise NichelabError.about("weights", f"weights {str(path)!r} is not a readable safetensors file: {exc}") from None
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        lines = [l.strip() for l in str(exc).splitlines() if l.strip()]
        raise NichelabError.about("weights", f"weights {str(path)!r} does not fit the model: {' '.join(lines[1:3]) or lines[0]}") from None
    if missing or unexpected:
        raise NichelabError.about("weights", f"weights {str(path)!r} does not fit the model: missing {list(missing)[:5]}, "
                            f"unexpected {list(unexpected)[:5]}")


def _load_pt(path: Path, trust_pickle: bool) -> LoadedModel:
    try:
        scripted = torch.jit.load(str(path), map_location="cpu")
    except Exception:
        scripted = None
    if scripted is not None:
        return LoadedModel(plain_from_script(scripted).eval(), "torchscript", None, str(path))
    if not trust_pickle:
        raise NichelabError.about(
            "model", f"model {str(path)!r} is not TorchScript; loading it as a pickle could run arbitrary code. "
            "Pass trust_pickle=True (--trust-pickle) only if you trust the file, or save the model with torch.export (.pt2), "
            "or give --model package.module:factory --weights file.safetensors"
        )
    obj = torch.load(str(path), map_location="cpu", weights_only=False)
    if not isinstance(obj, nn.Module):
        raise NichelabError.about("model", f"model {str(path)!r} holds a {type(obj).__name__}, not a torch.nn.Module "
                            "(a state dict needs --model package.module:factory --weights ...)")
    return LoadedModel(obj.eval(), "pickle", None, str(path))


def _load_object(model) -> LoadedModel:
    """A model object given in Python: a Keras model, a transformers model or any nn.Module."""
    from .hf import is_hf_model, wrap_hf
    from .keras import is_keras_model, wrap_keras
    if is_keras_model(model):
        return LoadedModel(wrap_keras(model), "keras", None, type(model).__name__)
    if is_hf_model(model):
        return LoadedModel(wrap_hf(model), "hf", None, type(model).__name__)
    if isinstance(model, nn.Module):
        return LoadedModel(model.eval(), "module", None, type(model).__name__)
    raise NichelabError(f"model must be a path, package.module:factory, an nn.Module, a Keras or a transformers "
                        f"model; got {type(model).__name__}", field="model")


def load_model(model: str | Path, *, weights: str | Path | None = None, trust_pickle: bool = False) -> LoadedModel:
    """Load a user's model for analysis.

    Parameters
    ----------
    model : str, Path or model object
        A ``.pt2`` file (``torch.export.save``), a ``.pt``/``.pth`` TorchScript file
        (``torch.jit.save`` of an ``nn.Sequential``), a Keras 3 ``.keras`` / full-model ``.h5``
        file (:func:`nichelab.nn.keras.load_keras`), a Hugging Face folder written by
        ``save_pretrained`` (:func:`nichelab.nn.hf.load_hf`), or ``package.module:factory``
        naming a function that returns an ``nn.Module`` (imported as ``python -m`` would, with
        the current folder on the import path). A model object (Keras, transformers or any
        ``nn.Module``) is wrapped as it is.
    weights : str or Path, optional
        A ``.safetensors`` state dict to load into a factory-built model.
    trust_pickle : bool, default False
        Allow a full unpickle: ``torch.load(weights_only=False)`` for a ``.pt``/``.pth`` that is
        not TorchScript, and ``.pt2`` archives with members that ``weights_only`` loading cannot
        read (pickled sample inputs, weights or constants). Unpickling can run arbitrary code:
        only for files you trust. Without it, such ``.pt2`` files are refused before torch
        reads them.

    Returns
    -------
    LoadedModel

    Raises
    ------
    NichelabError
        Missing or unreadable file, an unsafe file without ``trust_pickle``, a factory that
        cannot be imported, or weights that do not fit.
    """
    if not isinstance(model, (str, Path)):
        return _load_object(model)
    text = str(model)
    path = Path(text)
    if path.is_dir() and (path / "config.json").is_file():
        from .hf import load_hf
        loaded = LoadedModel(load_hf(path, trust_pickle=trust_pickle), "hf", None, text)
        if weights is not None:
            _load_weights(loaded.module, Path(weights))
        return loaded
    if ":" in text and not path.exists() and not text.endswith((".pt", ".pt2", ".pth")):
        return _load_factory(text, None if weights is None else str(weights))
    if not path.is_file():
        raise NichelabError.about("model", f"model must be a .pt2 / .pt file or package.module:factory; {text!r} does not exist")
    try:
        if path.suffix in (".keras", ".h5"):
            from .keras import load_keras
            loaded = LoadedModel(load_keras(path, trust_pickle=trust_pickle), "keras", None, str(path))
        elif path.suffix == ".pt2":
            loaded = _load_export(path, trust_pickle)
        elif path.suffix in (".pt", ".pth"):
            loaded = _load_pt(path, trust_pickle)
        else:
            raise NichelabError.about("model", f"model file must end in .pt2 (torch.export), .pt/.pth (TorchScript) or "
                                f".keras/.h5 (Keras 3); got {path.name!r}")
    except NichelabError:
        raise
    except Exception as exc:
        raise NichelabError.about("model", f"model {text!r} could not be read: {type(exc).__name__}: {exc}") from None
    if weights is not None:
        _load_weights(loaded.module, Path(weights))
    loaded.module.eval()
    return loaded
