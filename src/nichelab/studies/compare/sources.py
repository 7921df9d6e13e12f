"""What ``nichelab compare A B`` compares: a seed of a nichelab run folder, or a model file.

A *run folder* is what ``nichelab run STUDY`` writes: ``results.json`` (its ``config`` names the
model, e.g. ``"model": "mlp 64-64-64-64"``; a ``lab`` run has ``"hidden"``) and
``weights.safetensors`` with every seed's weights stacked on axis 0 plus a ``seeds`` array. The
seed is chosen by value with ``FOLDER#SEED`` (or ``seed_a`` / ``seed_b``); the default is the
run's first seed. A *model file* is anything :func:`nichelab.nn.loading.load_model` reads:
``.pt2`` (torch.export), ``.pt`` / ``.pth`` (TorchScript Sequential), or
``package.module:factory`` with ``weights_a`` / ``weights_b``. In the library a side may also be a
``torch.nn.Module`` object, used as it is (in eval mode).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...capture import default_layers, layer_names, loaded_activation_layers
from ...errors import NichelabError
from ...nn.loading import load_model
from ...nn.models import Net, build_model
from ...nn.spec import ModelSpec, parse_spec

__all__ = ["Source", "split_seed", "resolve", "run_spec", "build_run_model", "loaded_activation_layers", "RUN_FILES"]

RUN_FILES = ("results.json", "weights.safetensors")
_BLOCK = re.compile(r"^L(\d+)\.(linear|conv)\.weight$")


@dataclass
class Source:
    """One side of a comparison, ready for capture.

    Attributes
    ----------
    text : str
        What the user gave (``runs/conv#2``, ``model.pt2``).
    kind : str
        ``"run"`` or the model file kind (``"export"``, ``"torchscript"``, ``"factory"``, ``"pickle"``).
    module : nn.Module
        In eval mode.
    layers : list of str
        Layers compared by default (all blocks of a nichelab model, the output included; the
        activation modules of another model).
    label : str
        A short description for the report.
    fixed_batch : int or None
        The only batch size an exported program accepts (capture pads to it).
    default_data : str or None
        The dataset a run was trained on (used when ``data`` is not given).
    images : bool
        The run's model is a cnn (digits are then loaded as images).
    seed : int or None
    info : dict
        JSON-ready description (path, kind, study, spec, seed).
    run : dict or None
        For a run folder until :func:`build_run_model`: its weights, spec and seed index.
    """

    text: str
    kind: str
    module: nn.Module
    layers: list
    label: str
    fixed_batch: int | None = None
    default_data: str | None = None
    images: bool = False
    seed: int | None = None
    info: dict = field(default_factory=dict)
    run: dict | None = field(default=None, repr=False)

    @property
    def all_layers(self) -> list[str]:
        """Every capturable module name."""
        return layer_names(self.module)


def split_seed(text: str, seed: int | None, option: str) -> tuple[str, int | None]:
    """Split ``FOLDER#SEED`` into the path and the seed; ``seed`` is the ``seed_a`` / ``seed_b`` field.

    Raises
    ------
    NichelabError
        A seed that is not an integer, or ``#SEED`` and the seed field disagreeing.
    """
    base, hashed = text, None
    if "#" in text and not Path(text).exists():
        base, _, tail = text.rpartition("#")
        try:
            hashed = int(tail)
        except ValueError:
            raise NichelabError(f"{option}: the part after '#' must be a seed number, e.g. runs/conv#2; "
                                f"got {text!r}") from None
    if hashed is not None and seed is not None and hashed != seed:
        field = f"seed_{option[-1].lower()}"
        raise NichelabError(f"{field} must match the seed in {text!r} ({hashed}); got {seed}", field=field)
    return base, hashed if hashed is not None else seed


def _read_run(folder: Path, name: str) -> tuple[dict, dict]:
    missing = [f for f in RUN_FILES if not (folder / f).is_file()]
    if "results.json" in missing:
        raise NichelabError(f"{name} {str(folder)!r} is a folder but not a nichelab run: it has no results.json "
                            "(expected a folder written by `nichelab run STUDY`, or a model file)")
    try:
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NichelabError(f"{name} {str(folder)!r}: results.json is not readable JSON: {exc}") from None
    if "weights.safetensors" in missing:
        raise NichelabError(f"{name} {str(folder)!r} is a {results.get('study', 'nichelab')!r} run without "
                            "weights.safetensors, so there is no model to compare")
    from safetensors.numpy import load_file
    try:
        weights = load_file(str(folder / "weights.safetensors"))
    except Exception as exc:  # safetensors raises several types for bad files
        raise NichelabError(f"{name} {str(folder)!r}: weights.safetensors is not readable: {exc}") from None
    return results, weights


def run_spec(results: dict, weights: dict, name: str) -> tuple[ModelSpec, str]:
    """The model spec of a run and how it was found (``"config"``, ``"lab"`` or ``"weights"``).

    Read from ``config["model"]`` (a spec string), from a lab run's ``config["hidden"]``, or
    else inferred from the weights of an MLP (``L1.linear.weight`` ...) with the activation of
    ``config["act"]`` (default relu).
    """
    cfg = results.get("config") or {}
    if isinstance(cfg.get("model"), str):
        return parse_spec(cfg["model"]), "config"
    if results.get("study") == "lab" and isinstance(cfg.get("hidden"), int):
        return parse_spec(f"mlp {cfg['hidden']}"), "lab"
    blocks = sorted((int(m.group(1)), m.group(2), k) for k in weights if (m := _BLOCK.match(k)))
    if not blocks or any(kind == "conv" for _, kind, _ in blocks):
        raise NichelabError(
            f"{name}: cannot tell which model this {results.get('study', '?')!r} run trained: its results.json config "
            f"has no 'model' spec{' and its weights hold conv layers' if blocks else ' and no L1..Ln weights'}")
    shapes = [weights[k].shape for _, _, k in blocks]
    widths = [s[-2] for s in shapes[:-1]]
    if not widths:
        raise NichelabError(f"{name}: the run's weights hold a single layer; nothing hidden to compare")
    act = cfg.get("act", "relu")
    return parse_spec(f"mlp {'-'.join(map(str, widths))} act={act}"), "weights"


def _check_fits(spec: ModelSpec, weights: dict, input_shape: tuple, name: str, data_name: str) -> None:
    """Raise a clear error when the run's model cannot take samples of ``input_shape``."""
    first = weights.get("L1.linear.weight" if spec.kind == "mlp" else "L1.conv.weight")
    if first is None:
        return
    if spec.kind == "mlp":
        need = int(first.shape[-1])
        have = int(np.prod(input_shape))
        if need != have:
            raise NichelabError(f"{name}: the run's model ({spec}) takes {need} input features; data {data_name!r} "
                                f"has samples of shape {tuple(input_shape)} ({have} values)")
    elif len(input_shape) != 3 or input_shape[0] != first.shape[-3]:
        raise NichelabError(f"{name}: the run's model ({spec}) takes images with {first.shape[-3]} channel(s), "
                            f"(n, {first.shape[-3]}, H, W); data {data_name!r} has samples of shape {tuple(input_shape)}")


def _run_source(text: str, folder: Path, seed: int | None, name: str) -> Source:
    results, weights = _read_run(folder, name)
    spec, how = run_spec(results, weights, name)
    seeds = [int(s) for s in np.asarray(weights.get("seeds", []), dtype=np.int64).ravel()]
    stacked = bool(seeds)
    if seed is None:
        index = 0
        seed = seeds[0] if stacked else None
    elif not stacked:
        raise NichelabError(f"{name}: the run {str(folder)!r} holds one unstacked model; it has no seed {seed}")
    elif seed not in seeds:
        shown = ", ".join(map(str, seeds[:20])) + (" ..." if len(seeds) > 20 else "")
        raise NichelabError(f"{name}: seed {seed} is not in the run {str(folder)!r}; its seeds are {shown}")
    else:
        index = seeds.index(seed)
    cfg = results.get("config") or {}
    default_data = cfg.get("dataset") if isinstance(cfg.get("dataset"), str) else (
        "blobs" if results.get("study") == "lab" else None)
    info = {"path": str(folder), "kind": "run", "study": results.get("study"), "spec": str(spec),
            "spec_from": how, "seed": seed, "seeds_in_run": seeds}
    run = {"weights": weights, "index": index, "spec": spec, "stacked": stacked}
    return Source(text, "run", nn.Identity(), [], f"{results.get('study')} run {folder.name}", None, default_data,
                  spec.kind == "cnn", seed, info, run)


def build_run_model(src: Source, input_shape: tuple, name: str, data_name: str) -> None:
    """Build the run's model for samples of ``input_shape`` and load the chosen seed's weights."""
    if src.run is None:
        return
    spec, weights, index, stacked = (src.run[k] for k in ("spec", "weights", "index", "stacked"))
    _check_fits(spec, weights, input_shape, name, data_name)
    blocks = sorted((int(m.group(1)), k) for k in weights if (m := _BLOCK.match(k)))
    n_classes = int(weights[blocks[-1][1]].shape[1 if stacked else 0])
    try:
        model = build_model(spec, input_shape, n_classes, seed=0)
    except NichelabError as exc:
        raise NichelabError(f"{name}: cannot rebuild the run's model for data {data_name!r}: {exc}") from None
    state = {}
    for key, param in model.state_dict().items():
        if key not in weights:
            raise NichelabError(f"{name}: weights.safetensors has no {key!r} for the model {spec}; "
                                f"it has {sorted(k for k in weights if not k.startswith('initial.'))[:8]}")
        value = weights[key][index] if stacked else weights[key]
        if tuple(value.shape) != tuple(param.shape):
            raise NichelabError(f"{name}: the run's {key} has shape {tuple(value.shape)} but the model {spec} built for "
                                f"data {data_name!r} (samples of shape {tuple(input_shape)}) needs {tuple(param.shape)}")
        state[key] = torch.as_tensor(np.ascontiguousarray(value))
    model.load_state_dict(state)
    model.eval()
    seed_txt = f", seed {src.seed}" if src.seed is not None else ""
    src.module = model
    src.layers = list(model.hidden) + [model.output]
    src.label = f"{src.info['study']} run {Path(src.info['path']).name}{seed_txt} ({spec})"
    src.run = None


def _compared_layers(module: nn.Module) -> list[str]:
    """Layers compared by default: a nichelab Net's blocks (output included), else the activation
    modules, else the top-level children."""
    if isinstance(module, Net):
        return list(module.hidden) + [module.output]
    return default_layers(module) or loaded_activation_layers(module) or [n for n, _ in module.named_children()]


def _file_source(text: str, seed: int | None, weights: str | None, trust_pickle: bool, name: str) -> Source:
    if seed is not None:
        raise NichelabError(f"{name}: a seed (#N or seed_{name[-1].lower()}) applies to run folders only; "
                            f"{text!r} is not a folder")
    loaded = load_model(text, weights=weights, trust_pickle=trust_pickle)
    module = loaded.module
    layers = _compared_layers(module)
    info = {"path": text, "kind": loaded.kind, "weights": weights, "fixed_batch": loaded.fixed_batch}
    return Source(text, loaded.kind, module, layers, f"{Path(text).name} ({loaded.kind})", loaded.fixed_batch,
                  None, False, None, info)


def _module_source(module: nn.Module, seed: int | None, weights: str | None, name: str) -> Source:
    if seed is not None or weights is not None:
        field = f"seed_{name[-1].lower()}" if seed is not None else f"weights_{name[-1].lower()}"
        raise NichelabError(f"{field} applies to run folders and model files; {name} is an nn.Module object",
                            field=field)
    module.eval()
    layers = _compared_layers(module)
    label = f"{name}: {type(module).__name__}"
    return Source(label, "module", module, layers, label, info={"kind": "module", "class": type(module).__name__})


def resolve(text, *, seed: int | None = None, weights: str | None = None, trust_pickle: bool = False,
            name: str = "A") -> Source:
    """Open one side of the comparison (a run folder's seed, a model file, or an ``nn.Module``).

    A run folder's model is built later, by :func:`build_run_model`, once the data (and so the
    input shape) is known.

    Raises
    ------
    NichelabError
        Missing path, a folder that is not a run (no results.json / weights), an unknown seed, a
        model file that cannot be read safely.
    """
    if isinstance(text, nn.Module):
        return _module_source(text, seed, weights, name)
    if not isinstance(text, (str, Path)):
        raise NichelabError(f"{name} must be a run folder, a model file or an nn.Module; got "
                            f"{type(text).__name__}")
    path_text, seed = split_seed(str(text), seed, name)
    path = Path(path_text)
    if path.is_dir():
        if weights is not None:
            field = f"weights_{name[-1].lower()}"
            raise NichelabError(f"{field} applies to model files; {path_text!r} is a run folder", field=field)
        return _run_source(str(text), path, seed, name)
    if not path.exists() and ":" not in path_text:
        raise NichelabError(f"{name} must be a nichelab run folder or a model file (.pt2, .pt, package.module:factory); "
                            f"{path_text!r} does not exist")
    return _file_source(path_text, seed, weights, trust_pickle, name)
