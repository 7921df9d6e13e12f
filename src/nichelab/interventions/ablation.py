"""Single-unit ablation: clamp one unit of a layer and measure accuracy, overall and per class.

Morcos et al. 2018 and Zhou et al. 2018 find that ablating one unit barely moves overall
accuracy but can hurt single classes, and that class selectivity predicts the per-class
damage rather than the overall one.
"""
from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..capture import (axis_module, batch_len, batch_shape, call_model, expected_input_hint, hooks, iter_batches,
                       model_device, model_unit_axis, n_samples, resolve_layers, split_key, unit_axis_of)
from ..errors import NichelabError, check_positive_int
from ..metrics._checks import as_labels

__all__ = ["AblationResult", "ablate_units"]

_MODES = ("zero", "mean")


@dataclass(frozen=True)
class AblationResult:
    """Accuracy of a classifier with each unit of one layer ablated in turn.

    Attributes
    ----------
    layer : str
    mode : {"zero", "mean"}
    units : numpy.ndarray of int64, shape (n_ablated,)
        The ablated units (output channels of ``layer``).
    class_counts : numpy.ndarray of int64, shape (n_classes,)
        Samples per class.
    baseline_acc : float
        Accuracy without ablation.
    baseline_class_acc : numpy.ndarray of float64, shape (n_classes,)
        Per-class accuracy without ablation; NaN for a class with no sample.
    acc : numpy.ndarray of float64, shape (n_ablated,)
        Accuracy with unit ``units[i]`` ablated.
    class_acc : numpy.ndarray of float64, shape (n_ablated, n_classes)
        Per-class accuracy with unit ``units[i]`` ablated; NaN for a class with no sample.
    n_calls : int, default 1
        How many times the ablated module runs per forward pass. Above 1 the module is
        *reused*: only the call named by ``layer`` (``relu`` = the first, ``relu#1`` = the
        second, ...) was ablated.
    """

    layer: str
    mode: str
    units: np.ndarray
    class_counts: np.ndarray
    baseline_acc: float
    baseline_class_acc: np.ndarray
    acc: np.ndarray
    class_acc: np.ndarray
    n_calls: int = 1

    @property
    def delta_acc(self) -> np.ndarray:
        """(n_ablated,) accuracy change, ablated minus baseline (negative = damage)."""
        return self.acc - self.baseline_acc

    @property
    def delta_class_acc(self) -> np.ndarray:
        """(n_ablated, n_classes) per-class accuracy change, ablated minus baseline."""
        return self.class_acc - self.baseline_class_acc

    @property
    def unit_names(self) -> list[str]:
        """``["layer:k", ...]`` for the ablated units."""
        return [f"{self.layer}:{k}" for k in self.units]


def _logits(out):
    """The logits of a model output: a tensor, a ``ModelOutput`` / dict's ``logits``, or a tuple's first tensor."""
    if isinstance(out, Mapping) and "logits" in out:
        return out["logits"]
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    return out


def _predict(out) -> torch.Tensor:
    """Class predictions from logits (n, K >= 2) or a binary logit (n,) / (n, 1)."""
    out = _logits(out)
    if not isinstance(out, torch.Tensor):
        raise NichelabError(f"the model must return a tensor of logits; got {type(out).__name__}")
    if out.ndim == 2 and out.shape[1] >= 2:
        return out.argmax(dim=1)
    if out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):
        return (out.reshape(-1) > 0).long()
    raise NichelabError(
        f"the model must return logits of shape (n, n_classes) or (n,); got {tuple(out.shape)}"
    )


def _n_outputs(out) -> int:
    out = _logits(out)
    return int(out.shape[1]) if out.ndim == 2 and out.shape[1] >= 2 else 2


def _check_output(layer: str, output) -> torch.Tensor:
    if not isinstance(output, torch.Tensor) or output.ndim < 2:
        got = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise NichelabError(f"layer {layer!r} must output a tensor (n, units, ...) to ablate; got {got}")
    return output


def _stack(t, m: int):
    """``m`` copies of a batch (tensor or dict of tensors) one after the other: (b, ...) -> (m * b, ...)."""
    if isinstance(t, Mapping):
        return {k: _stack(v, m) if isinstance(v, torch.Tensor) and v.ndim else v for k, v in t.items()}
    return t if m == 1 else t.repeat(m, *([1] * (t.ndim - 1)))


def _clamp(h: torch.Tensor, units: torch.Tensor, fill: torch.Tensor | None) -> torch.Tensor:
    """Copy of ``m`` stacked layer outputs (m * b, C, ...) with unit ``units[j]`` clamped in copy ``j``.

    ``fill`` is (C, ...) per-unit values, or None for zero.
    """
    m = len(units)
    units = units.to(h.device)
    out = h.clone().reshape(m, -1, *h.shape[1:])
    rows = torch.arange(m, device=h.device)
    if fill is None:
        out[rows, :, units] = 0
    else:
        out[rows, :, units] = fill[units].to(out.dtype).unsqueeze(1)   # broadcast over samples
    return out.reshape(h.shape)


class _Runner:
    """Any model: one call of the layer, through :func:`nichelab.capture.hooks`, is recorded
    (baseline) or clamped (ablation); other calls of a reused module are left alone."""

    def __init__(self, model: nn.Module, layer: str, unit_axis=None):
        self.model, self.layer = model, layer
        base, call = split_key(layer)
        self.base, self.target = base, f"{base}#{call or 0}"
        self.unit_axis = unit_axis
        self.units: torch.Tensor | None = None
        self.fill: torch.Tensor | None = None
        self.sum: torch.Tensor | None = None     # sum of the layer's output over samples
        self.count = 0                           # samples summed
        self.shape: tuple | None = None          # per-sample output shape, units first
        self.n_calls = 1
        self._rec = None

    @contextlib.contextmanager
    def hooked(self):
        with hooks(self.model, [self.target], record=False, edit=self._edit, unit_axis=self.unit_axis) as rec:
            self._rec = rec
            yield

    def _record(self, h: torch.Tensor) -> None:
        self.shape = tuple(h.shape[1:])
        s = h.detach().double().sum(dim=0)
        self.sum = s if self.sum is None else self.sum + s
        self.count += h.shape[0]

    def _edit(self, key, output):
        output = _check_output(self.layer, output)
        if self.units is None:
            self._record(output)
            return None
        return _clamp(output, self.units, self.fill)

    def _call(self, fn, t):
        try:
            return fn(t)
        except NichelabError:
            raise
        except Exception as err:
            hint = "" if isinstance(t, Mapping) else expected_input_hint(self.model, t)
            raise NichelabError(
                f"ablating layer {self.layer!r} failed on a batch of shape {batch_shape(t)}: {err}{hint}"
            ) from err

    def baseline(self, batch):
        """Logits of an unablated batch; records the layer's output."""
        out = self._call(lambda t: call_model(self.model, t), batch)
        if self._rec is not None:
            self.n_calls = max(self.n_calls, self._rec.calls.get(self.base, 1))
        return out

    def prepare(self, batch):
        """Per-batch state reused for every chunk of units."""
        return batch

    def ablated(self, state, units: torch.Tensor):
        """Logits of ``len(units)`` stacked copies, copy ``j`` with ``units[j]`` clamped."""
        self.units = units
        try:
            return self._call(lambda t: call_model(self.model, t), _stack(state, len(units)))
        finally:
            self.units = None


def _chain(modules, t):
    for module in modules:
        t = module(t)
    return t


class _SequentialRunner(_Runner):
    """Plain ``nn.Sequential`` with ``layer`` a direct child: ablations rerun only what follows.

    The position of ``layer`` in the Sequential is one call of its module, so a module listed
    twice is ablated at the named position only.
    """

    def __init__(self, model: nn.Sequential, layer: str, unit_axis=None):
        super().__init__(model, layer, unit_axis)
        names = list(model._modules)
        i = names.index(layer)
        mods = list(model._modules.values())
        self.n_calls = sum(m is mods[i] for m in mods)
        self._prefix = lambda t: _chain(mods[:i + 1], t)
        self._suffix = lambda t: _chain(mods[i + 1:], t)

    def hooked(self):
        return contextlib.nullcontext()

    def baseline(self, batch):
        h = self.prepare(batch)
        self._record(h)
        return self._call(self._suffix, self._back(h))

    def prepare(self, batch):
        """The layer's output with its units on axis 1."""
        h = _check_output(self.layer, self._call(self._prefix, batch))
        self.axis = unit_axis_of(self.layer, axis_module(self.model, self.layer), tuple(h.shape), self.unit_axis)
        return h if self.axis == 1 else h.movedim(self.axis, 1)

    def _back(self, h):
        return h if self.axis == 1 else h.movedim(1, self.axis)

    def ablated(self, state, units):
        return self._call(self._suffix, self._back(_clamp(_stack(state, len(units)), units, self.fill)))

    @staticmethod
    def applies(model: nn.Module, layer: str, unit_axis=None) -> bool:
        return (isinstance(model, nn.Sequential) and type(model).forward is nn.Sequential.forward
                and layer in model._modules and not model._forward_hooks
                and not model._forward_pre_hooks)


def _class_correct(pred: torch.Tensor, y: torch.Tensor, n_classes: int) -> np.ndarray:
    """Correct predictions per class; pred (m, b) or (b,), y (b,) -> (m, n_classes) or (n_classes,)."""
    pred, y = pred.numpy(), y.numpy()
    hit = (pred == y).reshape(-1, len(y))                     # (m, b)
    m = hit.shape[0]
    cell = (np.arange(m)[:, None] * n_classes + y).ravel()   # (copy, class) of every row
    counts = np.bincount(cell, weights=hit.ravel(), minlength=m * n_classes)
    return counts.reshape(m, n_classes) if pred.ndim > 1 else counts


def ablate_units(model: nn.Module, layer: str, x, y, *, mode: str = "zero", units=None,
                 batch_size: int = 1024, device: str | torch.device | None = None,
                 unit_axis=None) -> AblationResult:
    """Ablate each unit of ``layer`` in turn and measure the classifier's accuracy.

    Unit ``k`` is output channel ``k`` of ``layer`` (for a conv layer the whole feature map
    ``k``; for a sequence output (n, seq, d) feature ``k`` at every token). A forward hook
    (:func:`nichelab.capture.hooks`) replaces it by 0 (``mode="zero"``) or by its mean over
    ``x`` (``mode="mean"``; for conv layers the mean map over samples, position by position).
    Predictions are the argmax of the model's output (its ``logits`` for a ``ModelOutput``),
    or ``logit > 0`` for a single output.

    A module called several times per forward pass (a *reused* module, e.g. one ``nn.ReLU``
    applied after two layers) is ablated in one call only: ``layer="relu"`` is its first call,
    ``"relu#1"`` its second, ... -- the keys :func:`nichelab.capture.capture` gives its calls.
    ``AblationResult.n_calls`` says how many calls the module has.

    To ablate many units at once, a batch of ``b`` samples is stacked ``m`` times
    (``m * b <= batch_size`` when ``b < batch_size``) and copy ``j`` gets unit ``j`` ablated;
    this assumes the model treats samples independently in eval mode (true for MLPs, CNNs,
    transformers, batch norm in eval mode). When ``model`` is a plain ``nn.Sequential``
    (built-in models are) and ``layer`` one of its direct children, the layers up to ``layer``
    run once per batch and only the layers after it run once per ablated unit; otherwise the
    whole model runs with a hook on the layer's call.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier; run in eval mode under ``no_grad``, its training flags restored afterwards.
    layer : str
        A name from ``model.named_modules()``, optionally ``"name#k"`` for call ``k``.
    x : array or tensor of shape (n_samples, ...), or dict of such arrays
        A dict holds keyword inputs (e.g. ``input_ids``, ``attention_mask``), passed as
        ``model(**batch)``.
    y : int array of shape (n_samples,)
        Class labels, ``< n_outputs`` of the model.
    mode : {"zero", "mean"}, default "zero"
    units : sequence of int, optional
        Units to ablate; default all units of ``layer``.
    batch_size : int, default 1024
        Rows per forward pass.
    device : str or torch.device, optional
        Default: the model's device.
    unit_axis : None, int or dict, default None
        The axis of the layer's output holding its units, as in :func:`nichelab.capture.capture`.

    Returns
    -------
    AblationResult

    Raises
    ------
    NichelabError
        Unknown layer (with close names), bad ``mode`` / ``units`` / ``y``, an output that is
        not logits, an ambiguous unit axis, or the forward pass failing. Hooks are removed in
        every case.

    Example
    -------
    >>> res = ablate_units(model, "L1", X, y)  # doctest: +SKIP
    >>> res.delta_class_acc.min()  # doctest: +SKIP
    -0.4

    References
    ----------
    Morcos, Barrett, Rabinowitz & Botvinick 2018, "On the importance of single directions
    for generalization", ICLR. Zhou, Sun, Bau & Torralba 2018, "Revisiting the importance
    of individual units in CNNs via ablation", arXiv:1806.02891.
    """
    if not isinstance(layer, str):
        raise NichelabError(f"layer must be a layer name (str); got {type(layer).__name__}")
    (layer,) = resolve_layers(model, [layer])
    if mode not in _MODES:
        raise NichelabError(f"mode must be 'zero' or 'mean'; got {mode!r}")
    batch_size = check_positive_int("batch_size", batch_size)
    n = n_samples(x)
    if n is None:
        raise NichelabError(f"x must be an array, a tensor or a dict of arrays; got {type(x).__name__}")
    if n == 0:
        raise NichelabError("x has no samples; ablation needs at least one")
    y = torch.as_tensor(as_labels(y, np.empty((n, 0)) if isinstance(x, Mapping) else x, names=("x", "y")))
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    device = model_device(model) if device is None else device
    axes = unit_axis if unit_axis is not None else model_unit_axis(model)

    modes = [(m, m.training) for m in model.modules()]
    runner = (_SequentialRunner if _SequentialRunner.applies(model, layer) else _Runner)(model, layer, axes)
    model.eval()
    try:
        with torch.no_grad(), runner.hooked():
            base_pred, n_classes = [], None
            for batch in iter_batches(x, batch_size, device, dtype):
                out = runner.baseline(batch)
                n_classes = n_classes or _n_outputs(out)
                base_pred.append(_predict(out).cpu())
            base_pred = torch.cat(base_pred)
            if int(y.max()) >= n_classes:
                raise NichelabError(
                    f"y must hold class labels < {n_classes} (the model's outputs); got {int(y.max())}"
                )
            if runner.shape is None:
                raise NichelabError(f"layer {layer!r} never ran during the forward pass")
            units = _check_units(units, runner.shape[0], layer)
            runner.fill = None if mode == "zero" else (runner.sum / runner.count).to(device)
            correct = _ablation_correct(runner, x, y, units, n_classes, batch_size, device, dtype)
    finally:
        for module, flag in modes:
            module.training = flag

    counts = np.bincount(y.numpy(), minlength=n_classes)
    base_correct = _class_correct(base_pred, y, n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return AblationResult(
            layer=layer, mode=mode, units=units.numpy(), class_counts=counts,
            baseline_acc=float(base_correct.sum() / n),
            baseline_class_acc=base_correct / counts,
            acc=correct.sum(axis=1) / n,
            class_acc=correct / counts, n_calls=int(runner.n_calls),
        )


def _check_units(units, n_units: int, layer: str) -> torch.Tensor:
    if units is None:
        return torch.arange(n_units)
    arr = np.asarray(units)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer) or arr.size == 0:
        raise NichelabError(f"units must be a non-empty list of unit indices; got {units!r}")
    bad = arr[(arr < 0) | (arr >= n_units)]
    if bad.size:
        raise NichelabError(
            f"units must be in [0, {n_units}) (layer {layer!r} has {n_units} units); got {int(bad[0])}"
        )
    return torch.as_tensor(arr, dtype=torch.long)


def _ablation_correct(runner: _Runner, x, y, units, n_classes, batch_size, device,
                      dtype) -> np.ndarray:
    """Correct predictions per (ablated unit, class), shape (n_ablated, n_classes)."""
    n = y.shape[0]
    b = min(batch_size, n)
    per_pass = max(1, batch_size // b)          # units ablated in one forward pass
    correct = np.zeros((len(units), n_classes))
    for start, batch in zip(range(0, n, b), iter_batches(x, b, device, dtype)):
        y_b = y[start:start + batch_len(batch)]
        state = runner.prepare(batch)
        for u0 in range(0, len(units), per_pass):
            chunk = units[u0:u0 + per_pass]
            pred = _predict(runner.ablated(state, chunk)).cpu().reshape(len(chunk), -1)
            correct[u0:u0 + len(chunk)] += _class_correct(pred, y_b, n_classes)
    return correct
