"""The subject of a census: the data, the model (built and trained here, or the user's), the samples
analysed and the layers, all checked before any measurement.

Every check that can fail on the user's input runs here, before capture, so a bad input stops the
run with one :class:`~nichelab.errors.NichelabError` and nothing written.
"""
from __future__ import annotations

import contextlib
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch import nn

from ...capture import (ACTIVATION_TYPES, batch_len, call_model, default_layers, expected_input_hint, iter_batches,
                         layer_names, n_samples, resolve_layers, Rows)
from ...data._memory import Releaser, gather, release, take
from ...data.base import Dataset
from ...data.loaders import load_dataset, model_inputs
from ...errors import NichelabError, suggest
from ...nn.checks import check_input_channels
from ...nn.loading import LoadedModel, load_model, quiet_torch
from ...nn.models import build_model
from ...nn.spec import parse_spec
from ...train.config import threads
from ...train.divergence import RULE as DIVERGED_RULE
from ...train.loop import train_one
from .config import SPEC_KINDS, AnalyzeConfig, default_spec

__all__ = ["Subject", "prepare", "forward_logits", "stratified_subset", "image_shape", "first_layer_weights",
           "restore_modes"]

_ACT_NAMES = frozenset(t.__name__ for t in ACTIVATION_TYPES)
_WEIGHT_NAMES = frozenset({"Linear", "Conv1d", "Conv2d", "Conv3d", "LazyLinear", "LazyConv2d"})
_CHECK_ROWS = 8


@dataclass
class Subject:
    """A model ready to be measured, and the samples it is measured on.

    Attributes
    ----------
    module : nn.Module
        In eval mode.
    kind : str
        ``"builtin"`` (a spec trained here), ``"export"``, ``"torchscript"``, ``"factory"``, ``"pickle"``,
        ``"keras"`` (a Keras 3 file or model object), ``"hf"`` (a Hugging Face folder or model object) or
        ``"module"`` (an ``nn.Module`` given in the library).
    source : str
        The spec text or the model's path / factory.
    fixed_batch : int or None
        The only batch size the model accepts (static ``torch.export`` programs), else None.
    data : Dataset
        Every sample loaded (images reshaped to (C, H, W) for a built-in CNN).
    census_idx : np.ndarray of int64
        Indices into ``data`` of the analysed samples (the held-out split for a built-in model).
    train_idx : np.ndarray of int64 or None
        Indices of the training split (built-in models only).
    layers : list of str
        The layers analysed, in ``named_modules()`` order of the request.
    layer_types : dict of str -> str
        Module type of every named layer (``"Linear"``, ``"ReLU"``, ...), as far as it is known.
    n_outputs : int
        Width of the model's output (1 for a single binary logit).
    classifier : bool
        True when the outputs are logits over the data's classes (accuracy and ablation possible).
    training : dict or None
        Built-in models: epochs, per-epoch loss, train and test accuracy (None when training
        diverged), ``diverged`` (:mod:`nichelab.train.divergence`) and the rule, seconds.
    notes : list of str
        Things the report should say about the set-up (skipped steps and why).
    """

    module: nn.Module
    kind: str
    source: str
    fixed_batch: int | None
    data: Dataset
    census_idx: np.ndarray
    train_idx: np.ndarray | None
    layers: list[str]
    layer_types: dict[str, str]
    n_outputs: int
    classifier: bool
    training: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def tokens(self) -> bool:
        """True for token data (``input_ids`` / ``attention_mask``), fed as keyword inputs."""
        return self.data.meta.get("inputs") == "tokens"

    def inputs(self, idx=None):
        """The model inputs of the samples ``idx`` (default: the analysed ones): an array (n, ...) or, for token
        data, ``{"input_ids", "attention_mask", ...}``. All samples in order are a view, not a copy (memory-mapped
        data stays on disk)."""
        idx = self.census_idx if idx is None else np.asarray(idx)
        if len(idx) == len(self.data) and (len(idx) == 0 or (idx[0] == 0 and np.all(np.diff(idx) == 1))):
            idx = None
        if idx is not None and not self.tokens:
            return gather(self.data.X, idx)     # blockwise: a memory map's pages are released as they are read
        return model_inputs(self.data, idx)

    def rows(self, idx=None):
        """The model inputs of the samples ``idx`` (default: the analysed ones) for a streaming pass: the data
        itself when ``idx`` is every sample in order, a :class:`~nichelab.capture.Rows` selection (gathered batch
        by batch, never copied whole) otherwise; token data as :meth:`inputs`."""
        if self.tokens:
            return self.inputs(idx)
        idx = self.census_idx if idx is None else np.asarray(idx)
        if len(idx) == len(self.data) and (len(idx) == 0 or (idx[0] == 0 and np.all(np.diff(idx) == 1))):
            return self.data.X
        return Rows(self.data.X, idx)


@contextlib.contextmanager
def restore_modes(module) -> Iterator[None]:
    """Leave an ``nn.Module`` given by the caller in the train / eval modes it came in (no-op for others)."""
    modes = [(m, m.training) for m in module.modules()] if isinstance(module, nn.Module) else []
    try:
        yield
    finally:
        for m, flag in modes:
            m.training = flag


# ------------------------------------------------------------------------------------------ data
def _dataset_error(text: str) -> NichelabError:
    return NichelabError(f"dataset {text}", field="dataset")


def _from_arrays(data) -> Dataset:
    """A Dataset from a tuple ``(X, y)`` given in the library (string labels numbered in sorted order)."""
    if isinstance(data, Dataset):
        return data
    if isinstance(data[0], dict) or (not hasattr(data[0], "shape") and not isinstance(data[0], (str, bytes))):
        from ...data.loaders import tokens_dataset     # token inputs: a dict of arrays or an iterable of dicts
        try:
            return tokens_dataset(data[0], data[1], name="tokens")
        except NichelabError as exc:
            raise _dataset_error(f"(inputs, y): {exc}") from None
    X, y = (np.asarray(v) for v in data)
    if y.ndim == 1 and not np.issubdtype(y.dtype, np.number):
        names, y = np.unique(y.astype(str), return_inverse=True)
        names = [str(n) for n in names]
    else:
        top = int(np.nanmax(y)) if y.size and np.issubdtype(y.dtype, np.number) and np.isfinite(y).all() else 0
        names = [str(k) for k in range(top + 1)]
    try:
        return Dataset(X, y, names, "arrays")
    except NichelabError as exc:
        raise _dataset_error(f"(X, y): {exc}") from None


def _load_data(cfg: AnalyzeConfig) -> Dataset:
    name = cfg.dataset_name
    if not isinstance(cfg.dataset, str):
        data = _from_arrays(cfg.dataset)
    else:
        try:
            data = load_dataset(cfg.dataset, label_column=cfg.label_column, image_size=cfg.image_size,
                                channels=cfg.channels, normalize=cfg.normalize)
        except NichelabError as exc:
            raise _dataset_error(_loader_message(str(exc), name)) from None
    if len(data) < 4:
        raise _dataset_error(f"{name!r} must hold at least 4 samples; got {len(data)}")
    present = np.unique(data.y)
    if len(present) < 2:
        raise _dataset_error(f"{name!r} must hold at least 2 classes to measure what units say about them; got "
                             f"only class {data.class_names[int(present[0])]!r}")
    return data


def _loader_message(msg: str, name: str) -> str:
    """A loader's message without its leading option name (the loaders write the CLI's flag, with or without
    the ``set`` suffix), starting with the file when the loader names it; ``dataset`` is prefixed by the caller."""
    text = msg.lstrip("-")
    for word in ("dataset", "data"):
        if text.startswith(word + " ") or text.startswith(word + ":"):
            rest = text[len(word):].lstrip(" :")
            return rest if rest.startswith(("'", '"', "must")) else f"{name!r}: {rest}"
    return f"{name!r}: {msg}"


def _as_images(data: Dataset) -> Dataset:
    """Flat samples with a known image shape (digits: 64 -> (1, 8, 8)), or (n, H, W), as (n, C, H, W)."""
    X = data.X
    if X.ndim == 3:
        X = X[:, None]
    elif X.ndim == 2:
        shape = tuple(data.meta.get("image_shape") or ())
        if len(shape) != 3 or int(np.prod(shape)) != X.shape[1]:
            raise NichelabError(f"model: a cnn needs image inputs of shape (n, channels, height, width); the dataset "
                                f"{data.name!r} gives samples of shape {X.shape[1:]} (use an image folder or an "
                                f".npz whose X is (n, C, H, W), or a model 'mlp ...')", field="model")
        X = X.reshape((len(X),) + shape)
    return Dataset(X, data.y, data.class_names, data.name, data.meta)


def image_shape(data: Dataset) -> tuple[int, int, int] | None:
    """(C, H, W) of one sample if the inputs are images, else None.

    Images are 4-D data, 3-D data (n, H, W), or flat data whose ``meta["image_shape"]`` has as
    many pixels as there are features (digits).
    """
    X = data.X
    if X.ndim == 4:
        return tuple(int(s) for s in X.shape[1:])
    if X.ndim == 3:
        return (1,) + tuple(int(s) for s in X.shape[1:])
    shape = tuple(data.meta.get("image_shape") or ())
    if X.ndim == 2 and len(shape) == 3 and int(np.prod(shape)) == X.shape[1]:
        return tuple(int(s) for s in shape)
    return None


def stratified_subset(idx: np.ndarray, y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """At most ``n`` of ``idx``, drawn per class in proportion (seeded), sorted; all of ``idx`` if n >= len."""
    idx = np.asarray(idx, dtype=np.int64)
    if n >= len(idx):
        return idx
    from sklearn.model_selection import train_test_split
    labels = y[idx]
    _, counts = np.unique(labels, return_counts=True)
    strat = labels if counts.min() >= 2 and len(counts) <= min(n, len(idx) - n) else None
    keep, _ = train_test_split(idx, train_size=n, random_state=seed, stratify=strat)
    return np.sort(keep)


def _split(data: Dataset, cfg: AnalyzeConfig) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (seeded) train / held-out indices for a built-in model."""
    from sklearn.model_selection import train_test_split
    idx = np.arange(len(data))
    n_test = max(1, int(round(cfg.test_fraction * len(data))))
    if len(data) - n_test < 2:
        raise NichelabError(f"test_fraction {cfg.test_fraction} leaves {len(data) - n_test} training samples "
                            f"of {len(data)}; need at least 2", field="test_fraction")
    _, counts = np.unique(data.y, return_counts=True)
    strat = data.y if counts.min() >= 2 and len(counts) <= min(n_test, len(data) - n_test) else None
    train, test = train_test_split(idx, test_size=n_test, random_state=cfg.seed, stratify=strat)
    return np.sort(train), np.sort(test)


# ----------------------------------------------------------------------------------------- model
def _model_kind_error(text: str) -> NichelabError:
    first = text.split()[0] if text.split() else text
    return NichelabError(
        f"model must be a built-in spec ('mlp 64-32', 'cnn 8-16 fc=32'), a .pt2 / .pt model file or "
        f"package.module:factory; {text!r} is none of these (no such file){suggest(first.lower(), SPEC_KINDS)}",
        field="model")


def _load_user_model(cfg: AnalyzeConfig) -> LoadedModel:
    if not isinstance(cfg.model, str):
        try:
            loaded = load_model(cfg.model)            # a Keras or transformers model object, or any nn.Module
        except NichelabError as exc:
            raise NichelabError(f"model {exc}".replace("model model must", "model must"), field="model") from None
        loaded.notes = []
        return loaded
    text = cfg.model
    looks_like_file = text.endswith((".pt", ".pt2", ".pth", ".keras", ".h5")) or "/" in text or "\\" in text
    if not Path(text).exists() and ":" not in text and not looks_like_file:
        raise _model_kind_error(text)
    with quiet_torch(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_model(text, weights=cfg.weights, trust_pickle=cfg.trust_pickle)
    # nichelab's own loader warnings (a fixed-batch .pt2, a factory without weights) belong in the report
    loaded.notes = [str(w.message).replace("--model ", "The model ", 1) for w in caught
                    if str(w.message).startswith("--model ")]
    return loaded


def _layer_types(module: nn.Module, kind: str, source: str) -> dict[str, str]:
    """Type name of every named layer; TorchScript leaves and exported programs report the original type."""
    types = {}
    for name, m in module.named_modules():
        if not name:
            continue
        if isinstance(m, torch.jit.ScriptModule):
            continue            # inside a TorchScript leaf: no Python hooks run there
        inner = getattr(m, "inner", None) if type(m).__name__ == "_Leaf" else None
        types[name] = (getattr(inner, "original_name", None) or getattr(m, "keras_type", None)
                       or type(m).__name__)
    if kind == "export":
        try:
            with quiet_torch():
                ep = torch.export.load(source)
            for node in ep.graph.nodes:
                for path, qual in (node.meta.get("nn_module_stack") or {}).values():
                    if path in types:
                        types[path] = str(qual).rsplit(".", 1)[-1]
        except Exception:   # the types only improve defaults and messages
            pass
    return types


def _default_layers(module: nn.Module, types: dict[str, str]) -> list[str]:
    """capture's default layers; for TorchScript / exported models (whose modules are wrappers) the same
    rule on the original module types: every activation module, else every Linear / Conv layer."""
    names = default_layers(module)
    if names:
        return names
    acts = [n for n, t in types.items() if t in _ACT_NAMES]
    return acts or [n for n, t in types.items() if t in _WEIGHT_NAMES]


def _one_line(err: Exception) -> str:
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    text = lines[-1] if "TorchScript" in lines[0] or lines[0].startswith("Traceback") else lines[0]
    return text[:300]


def _input_hint(module: nn.Module, kind: str, source: str, types: dict[str, str], batch: torch.Tensor) -> str:
    """What input the model expects, from its first layer or, for an exported program, its signature."""
    hint = expected_input_hint(module, batch)
    if hint:
        return hint
    if kind == "export":
        try:
            with quiet_torch():
                ep = torch.export.load(source)
            for node in ep.graph.nodes:
                if node.op == "placeholder" and node.name in ep.graph_signature.user_inputs:
                    dims = ["batch" if i == 0 and not isinstance(d, int) else str(d)
                            for i, d in enumerate(node.meta["val"].shape)]
                    return f"; the exported program expects inputs of shape ({', '.join(dims)})"
        except Exception:
            pass
    for pname, p in module.named_parameters():
        if not pname.endswith("weight") or p.ndim not in (2, 4):
            continue
        layer = pname[: -len(".weight")].removesuffix(".inner")
        what = types.get(layer, "layer")
        if p.ndim == 2:
            return f"; the model's first layer {layer!r} ({what}) expects {p.shape[1]} features in the last dimension"
        return (f"; the model's first layer {layer!r} ({what}) expects batches of shape (n, {p.shape[1]}, H, W), "
                f"i.e. {p.shape[1]} input channels")
    return ""


@contextlib.contextmanager
def _eval(module: nn.Module) -> Iterator[None]:
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for m, flag in modes:
            m.training = flag


def _model_dtype(module: nn.Module) -> torch.dtype:
    return next((p.dtype for p in module.parameters() if p.is_floating_point()), torch.float32)


def _outputs(module: nn.Module, inputs, size: int, fixed_batch: int | None) -> Iterator[torch.Tensor]:
    """The model's output tensor on each batch of ``inputs`` (an array or a dict of keyword arrays), padding
    removed; in eval mode, without gradients."""
    with _eval(module):
        for batch in iter_batches(inputs, size, model_device(module), _model_dtype(module)):
            b = batch_len(batch)
            if fixed_batch and b < fixed_batch:
                batch = _pad_batch(batch, fixed_batch)
            res = call_model(module, batch)
            if not isinstance(res, torch.Tensor):
                res = getattr(res, "logits", None) if hasattr(res, "logits") else res
            if not isinstance(res, torch.Tensor) or res.ndim == 0 or res.shape[0] != batch_len(batch):
                got = tuple(res.shape) if isinstance(res, torch.Tensor) else type(res).__name__
                raise NichelabError(f"model must return one tensor of logits (n, n_classes); got {got} "
                                    f"for a batch of {batch_len(batch)}", field="model")
            yield res[:b].detach()


def _pad_batch(batch, size: int):
    if isinstance(batch, dict):
        return {k: _pad_batch(v, size) if isinstance(v, torch.Tensor) and v.ndim else v for k, v in batch.items()}
    return torch.cat([batch, batch[:1].expand(size - len(batch), *batch.shape[1:])])


def model_device(module: nn.Module) -> torch.device:
    return next((t.device for t in module.parameters()), torch.device("cpu"))


def _row_batches(X, rows: np.ndarray, size: int) -> Iterator:
    """``X[rows]`` (an array, or a dict of keyword arrays) in batches of ``size`` rows, gathered batch by batch
    (never the whole selection at once); the pages of a memory-mapped ``X`` are released as they are read."""
    pages = Releaser(X if not isinstance(X, dict) else None)
    try:
        for start in range(0, len(rows), size):
            pick = rows[start:start + size]
            if isinstance(X, dict):
                yield {k: (v[pick] if isinstance(v, np.ndarray) else v) for k, v in X.items()}
            else:
                batch = take(X, pick)           # a memory map: read from the file, no page kept
                pages.read(batch.nbytes + len(batch) * Releaser.PAGE)
                yield batch
    finally:
        pages.close()


def forward_logits(module: nn.Module, X, *, batch_size: int = 512, fixed_batch: int | None = None,
                   rows: np.ndarray | None = None) -> np.ndarray:
    """The model's outputs on ``X`` as float64 (n, n_outputs), in eval mode, without gradients.

    ``X`` is an array (n, ...) or, for token models, a dict of keyword arrays (``input_ids``,
    ``attention_mask`` ...; the model is called as ``model(**batch)``). With ``fixed_batch`` every
    pass gets exactly that many rows (the last batch padded with copies of its first row, the
    padding dropped). A 1-D output (n,) becomes (n, 1).

    With ``rows`` (int array of shape (m,)), the outputs of ``X[rows]`` (m, n_outputs), gathered
    batch by batch: the same batches as ``forward_logits(X[rows])`` without the (m, ...) copy.
    The output array is allocated once (many small per-batch arrays kept alive fragment the heap:
    100,000 samples grew the resident set by 185 MB for an 8 MB result).

    Raises
    ------
    NichelabError
        The model fails, returns something other than one tensor with a sample axis, or returns
        per-token outputs (n, seq, d) rather than logits.
    """
    size = fixed_batch or batch_size
    if rows is not None:
        rows = np.asarray(rows, dtype=np.int64)
        n, inputs = len(rows), _row_batches(X, rows, size)
    else:
        n, inputs = n_samples(X), X
    out, parts, seen = None, [], 0
    for res in _outputs(module, inputs, size, fixed_batch):
        if res.ndim > 2:
            raise NichelabError(f"model must return logits (n, n_classes); got outputs of shape "
                                f"{tuple(res.shape)} per batch", field="model")
        part = res.double().reshape(len(res), -1).cpu().numpy()
        if n is None:
            parts.append(part)
            continue
        if out is None:
            out = np.empty((n, part.shape[1]), dtype=np.float64)
        out[seen:seen + len(part)] = part
        seen += len(part)
    if n is None:
        return np.concatenate(parts)
    return out if out is not None else np.empty((0, 0), dtype=np.float64)


def _check_input(subject_module: nn.Module, kind: str, source: str, fixed_batch: int | None,
                 types: dict[str, str], data: Dataset, dataset: str) -> torch.Tensor:
    """Run a few samples through the model; a rejection becomes one message saying what it expects.

    Returns the model's raw output on those samples (its first axis is the sample)."""
    if data.X.ndim == 4:
        try:
            check_input_channels(subject_module, data.X.shape[1:], data_name=f"dataset {dataset!r}")
        except NichelabError as exc:
            raise NichelabError(str(exc), field="dataset") from None
    rows = min(len(data), _CHECK_ROWS)
    inputs = model_inputs(data, slice(0, rows))
    try:
        return torch.cat(list(_outputs(subject_module, inputs, fixed_batch or rows, fixed_batch)))
    except NichelabError:
        raise
    except Exception as err:
        if data.meta.get("inputs") == "tokens":
            raise _dataset_error(f"{dataset!r} gives token inputs {sorted(inputs)} of shape {tuple(data.X.shape[1:])}, "
                                 f"which the model does not accept: {_one_line(err)}") from None
        batch = torch.tensor(np.asarray(data.X[:rows])).to(_model_dtype(subject_module))
        hint = _input_hint(subject_module, kind, source, types, batch)
        extra = ""
        if dataset == "digits" and ("channels" in hint or ", 8, 8)" in hint):
            extra = " (for digits as 1x8x8 images use the dataset digits-images)"
        raise _dataset_error(f"{dataset!r} gives samples of shape {tuple(data.X.shape[1:])}, which the "
                             f"model does not accept: {_one_line(err)}{hint}{extra}") from None


def _classifier(out: torch.Tensor, data: Dataset) -> tuple[int, bool, str]:
    """(n_outputs, whether outputs are class logits for the data's labels, note if not)."""
    if out.ndim > 2:
        return int(out.shape[-1]), False, (
            f"The model outputs {tuple(out.shape[1:])} per sample (hidden states, not class logits): accuracy and "
            "ablation are skipped; the census of the hidden units still uses the labels.")
    k = int(np.prod(out.shape[1:])) if out.ndim > 1 else 1
    top = int(data.y.max())
    if k >= 2 and top < k or k == 1 and top <= 1:
        return k, True, ""
    return k, False, (f"The model has {k} output{'s' if k != 1 else ''} but the labels go up to {top} "
                      f"({data.n_classes} classes): its outputs are not logits over these classes, so accuracy "
                      "and ablation are skipped; the census of the hidden units still uses the labels.")


def _resolve(module: nn.Module, layers, types: dict[str, str]) -> list[str]:
    if layers:
        try:
            return resolve_layers(module, list(layers))
        except NichelabError as e:
            msg = str(e).lstrip("-")
            raise NichelabError(msg if msg.startswith("layers") else f"layers: {msg}", field="layers") from None
    names = _default_layers(module, types)
    if not names:
        raise NichelabError("layers: found no hidden layers (activation modules, Linear or Conv layers) in the model; "
                            f"choose layers from: {', '.join(layer_names(module)) or '(no submodules)'}",
                            field="layers")
    return names


def _accuracy(module: nn.Module, X: np.ndarray, y: np.ndarray, rows: np.ndarray) -> float:
    """Accuracy on ``X[rows]`` against ``y[rows]``, gathered batch by batch (no copy of the split)."""
    return float(np.mean(forward_logits(module, X, rows=rows).argmax(axis=1) == y[rows]))


def _train_builtin(cfg: AnalyzeConfig, data: Dataset, progress) -> tuple[Subject, Dataset]:
    if data.meta.get("inputs") == "tokens":
        raise NichelabError(f"model: the dataset {data.name!r} holds token ids (input_ids): give the model they were "
                            "made for (a Hugging Face folder or model object), not a built-in spec", field="model")
    spec = parse_spec(cfg.model or default_spec(cfg.dataset_name, data.X.ndim == 4))
    if spec.kind == "cnn":
        data = _as_images(data)
    model = build_model(spec, data.input_shape, data.n_classes, init=cfg.init, seed=cfg.seed)
    types = _layer_types(model, "builtin", str(spec))
    layers = _resolve(model, cfg.layers, types)          # before training: a typo must not cost a training run
    train_idx, test_idx = _split(data, cfg)
    if progress:
        progress("training", 0, cfg.epochs)
    t0 = time.perf_counter()
    with threads(1):
        # rows: the training split read in place (a memory map stays on disk), not an (n_train, ...) copy
        res = train_one(model, data.X, data.y[train_idx], cfg.train_config(), seed=cfg.seed, rows=train_idx)
        release(data.X)
        model.to(torch.float32).eval()
        # a diverged network's outputs are NaN or meaningless: no accuracy is claimed for it
        train_acc = None if res.diverged else _accuracy(model, data.X, data.y, train_idx)
        test_acc = None if res.diverged else _accuracy(model, data.X, data.y, test_idx)
    if progress:
        progress("training", cfg.epochs, cfg.epochs)
    training = {"spec": str(spec), "epochs": cfg.epochs, "lr": cfg.lr, "batch_size": cfg.batch_size,
                "optimizer": cfg.optimizer, "init": cfg.init, "loss": res.loss, "train_accuracy": train_acc,
                "test_accuracy": test_acc, "n_train": int(len(train_idx)), "n_test": int(len(test_idx)),
                "diverged": bool(res.diverged), "diverged_rule": DIVERGED_RULE,
                "seconds": time.perf_counter() - t0}
    subject = Subject(model, "builtin", str(spec), None, data, test_idx, train_idx, layers, types,
                      data.n_classes, True, training)
    return subject, data


def prepare(cfg: AnalyzeConfig, progress=None) -> Subject:
    """Load the data and the model, train a built-in model, choose the samples and layers, check shapes.

    Parameters
    ----------
    cfg : AnalyzeConfig
    progress : callable (stage, done, total), optional

    Returns
    -------
    Subject

    Raises
    ------
    NichelabError
        Unreadable or inconsistent data (lengths, NaN / inf, non-integer labels, fewer than 2
        classes), an unreadable or unsafe model file, unknown layers (with the model's layers and
        close names), or data the model does not accept (with the input shape it expects).
    """
    data = _load_data(cfg)
    if cfg.builtin_model:
        subject, data = _train_builtin(cfg, data, progress)
    else:
        loaded = _load_user_model(cfg)
        module = loaded.module.eval()
        types = _layer_types(module, loaded.kind, loaded.source)
        out = _check_input(module, loaded.kind, loaded.source, loaded.fixed_batch, types, data, cfg.dataset_name)
        layers = _resolve(module, cfg.layers, types)
        n_out, is_clf, note = _classifier(out, data)
        subject = Subject(module, loaded.kind, loaded.source, loaded.fixed_batch, data,
                          np.arange(len(data), dtype=np.int64), None, layers, types, n_out, is_clf,
                          notes=list(loaded.notes) + ([note] if note else []))
    if cfg.max_samples is not None and cfg.max_samples < len(subject.census_idx):
        subject.notes.append(f"Analysed a stratified random subset of {cfg.max_samples} of the "
                             f"{len(subject.census_idx)} available samples (max_samples).")
        subject.census_idx = stratified_subset(subject.census_idx, data.y, cfg.max_samples, cfg.seed)
    return subject


def first_layer_weights(module: nn.Module, shape: tuple[int, int, int] | None) -> tuple[str, np.ndarray] | None:
    """The first weight matrix that reads the input image, as (n_units, C, h, w) pictures.

    A Linear weight (units, C*H*W) is reshaped to (units, C, H, W); a Conv2d weight
    (units, C, kh, kw) is kept. None when the inputs are not images or the first weight does not
    read them directly.

    Returns
    -------
    (layer name, array float64 of shape (n_units, C, h, w)) or None
    """
    if shape is None:
        return None
    c = shape[0]
    for pname, p in module.named_parameters():
        if not pname.endswith("weight") or p.ndim not in (2, 4):
            continue
        w = p.detach().double().cpu().numpy()
        layer = pname[: -len(".weight")].removesuffix(".inner")
        if w.ndim == 2 and w.shape[1] == int(np.prod(shape)):
            return layer, w.reshape((w.shape[0],) + tuple(shape))
        if w.ndim == 4 and w.shape[1] == c:
            return layer, w
        return None
    return None
