"""Keras 3 models as hookable torch modules, named by their Keras layer names.

On the torch backend a Keras 3 model is a ``torch.nn.Module``, but its layers are not registered
submodules, so ``named_modules()`` does not list ``L1``, ``L2``, ``conv2d_1``. :class:`KerasModule`
wraps the model: every Keras layer becomes a thin submodule (:class:`KerasLayer`) named by its
Keras name, and the wrapper's forward calls those submodules in the model's own order --
one after the other for a ``Sequential``, through Keras' own graph walk
(``Functional._run_through_graph``, with each operation replaced by its wrapper) for a functional
model. Forward hooks on the wrappers therefore see every layer's output, and capture, ablation and
feature visualisation work unchanged. A model nested as one layer of another is one unit of
hooking (its inner layers are not listed).

Layout: Keras images are channels-last, so the wrapper declares ``nichelab_unit_axes = -1``
(units are the last axis: a Conv2D's channels, a Dense layer's units) and accepts image batches
either as the model wants them, (n, H, W, C), or channels-first (n, C, H, W) as nichelab's image
loaders give them (transposed before the first layer).

Keras runs on the torch backend only: :func:`import_keras` sets ``KERAS_BACKEND=torch`` before
importing Keras, and refuses a Keras already imported with another backend. No TensorFlow is needed.
Files are loaded with Keras' ``safe_mode=True`` (a ``Lambda`` layer holding Python bytecode is
refused) unless ``trust_pickle=True``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import torch
from torch import nn

from ..errors import NichelabError

__all__ = ["import_keras", "is_keras_model", "KerasLayer", "KerasModule", "load_keras", "wrap_keras"]

_INSTALL = "install it with: pip install 'nichelab[keras]'"


def import_keras():
    """Import Keras 3 on the torch backend.

    Sets ``KERAS_BACKEND=torch`` if Keras is not imported yet.

    Returns
    -------
    module
        The ``keras`` package.

    Raises
    ------
    NichelabError
        Keras is missing (with the install command), older than 3, or was already imported with
        another backend (e.g. TensorFlow).
    """
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "torch"
    try:
        import keras
    except ImportError as exc:
        raise NichelabError(f"loading a Keras model needs Keras 3 on the torch backend; {_INSTALL} ({exc})") from None
    version = getattr(keras, "__version__", "0")
    if int(version.split(".")[0]) < 3:
        raise NichelabError(f"loading a Keras model needs Keras 3 (torch backend); found keras {version}; {_INSTALL}")
    backend = keras.backend.backend()
    if backend != "torch":
        raise NichelabError(
            f"Keras was already imported with the {backend!r} backend; nichelab runs Keras models on the torch "
            "backend. Set KERAS_BACKEND=torch before anything imports keras (or import nichelab's loader first)"
        )
    return keras


def is_keras_model(obj) -> bool:
    """True for a Keras 3 model object (without importing Keras)."""
    return any(c.__module__.startswith("keras") and c.__name__ in ("Model", "Functional", "Sequential")
               for c in type(obj).__mro__)


def _safe_name(name: str, taken: set) -> str:
    out = name.replace(".", "_") or "layer"
    base, i = out, 1
    while out in taken:
        out, i = f"{base}_{i}", i + 1
    return out


class KerasLayer(nn.Module):
    """One Keras layer as a torch module (so hooks can be registered on it).

    The Keras layer is held as a plain attribute, not a submodule, so ``named_modules()`` lists
    only the wrapper; its variables are registered as this module's parameters (shared, not
    copied), so ``parameters()`` gives the model's dtype and device.

    Attributes
    ----------
    layer : keras.Layer
    keras_type : str
        The Keras class name (``Dense``, ``Conv2D`` ...).
    """

    def __init__(self, layer):
        super().__init__()
        object.__setattr__(self, "layer", layer)
        self.keras_type = type(layer).__name__
        taken: set = set()
        for v in getattr(layer, "weights", []):
            value = getattr(v, "value", None)
            if isinstance(value, nn.Parameter):
                name = _safe_name(str(getattr(v, "path", v.name)).replace("/", "_"), taken)
                taken.add(name)
                self.register_parameter(name, value)

    def forward(self, *args, **kwargs):
        kwargs.pop("training", None)
        return self.layer(*args, training=False, **kwargs)

    def extra_repr(self) -> str:
        return f"{self.keras_type} {self.layer.name!r}"


class KerasModule(nn.Module):
    """A Keras 3 model (torch backend) whose ``named_modules()`` are its Keras layer names.

    Parameters
    ----------
    model : keras.Model
        A built ``Sequential`` or functional model.

    Attributes
    ----------
    keras_model : keras.Model
    layer_map : dict of str to str
        Module name -> Keras layer name (they differ only if a Keras name holds a ``.``).
    keras_input_shape : tuple of int or None
        One sample's shape as Keras expects it, e.g. (28, 28, 1).
    nichelab_unit_axes : dict of str to int
        -1 (channels-last) for every layer, 1 for layers built with ``data_format="channels_first"``.
    """

    def __init__(self, model):
        super().__init__()
        object.__setattr__(self, "keras_model", model)
        self.sequential = type(model).__name__ == "Sequential"
        self.layer_map: dict[str, str] = {}
        self._by_id: dict[int, KerasLayer] = {}
        axes = {}
        for layer in model.layers:
            if type(layer).__name__ == "InputLayer":
                continue
            name = _safe_name(layer.name, set(self._modules))
            wrapper = KerasLayer(layer)
            self.add_module(name, wrapper)
            self.layer_map[name] = layer.name
            self._by_id[id(layer)] = wrapper
            axes[name] = 1 if getattr(layer, "data_format", None) == "channels_first" else -1
        self.nichelab_unit_axes = axes
        shape = None
        try:
            shape = tuple(model.inputs[0].shape[1:]) if model.inputs else None
        except (AttributeError, ValueError, IndexError):
            shape = None
        self.keras_input_shape = shape if shape and all(isinstance(s, int) for s in shape) else None

    def nichelab_default_layers(self) -> list[str]:
        """Hidden layers: every layer with weights or an activation, except the last (output) layer."""
        names = list(self._modules)
        hidden = [n for n in names[:-1]
                  if any(True for _ in self._modules[n].parameters())
                  or self._modules[n].keras_type in ("Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax")]
        return hidden or names[:-1] or names

    @property
    def input_shape(self) -> tuple | None:
        """One sample's shape in nichelab's layout: (C, H, W) for channels-last images, else Keras'."""
        s = self.keras_input_shape
        if s is not None and len(s) == 3:
            return (s[2], s[0], s[1])
        return s

    def _layout(self, x: torch.Tensor) -> torch.Tensor:
        want = self.keras_input_shape
        if want is None or not isinstance(x, torch.Tensor) or x.ndim != len(want) + 1:
            return x
        got = tuple(x.shape[1:])
        if got == want:
            return x
        if len(want) == 3 and got == (want[2], want[0], want[1]):
            return x.permute(0, 2, 3, 1)
        if len(want) == 3:
            raise NichelabError(
                f"the Keras model expects images of shape (n, {want[0]}, {want[1]}, {want[2]}) channels-last "
                f"({want[2]} channel{'s' if want[2] != 1 else ''}; or (n, {want[2]}, {want[0]}, {want[1]}) "
                f"channels-first); the data gives samples of shape {got}"
            )
        return x

    def forward(self, x):
        x = self._layout(x)
        if self.sequential:
            for module in self._modules.values():
                x = module(x)
            return x

        def operation_fn(op):
            wrapper = self._by_id.get(id(op))
            if wrapper is not None:
                return wrapper

            def call(*args, **kwargs):         # a Keras op that is not a layer (e.g. keras.ops.add)
                kwargs.pop("training", None)
                return op(*args, **kwargs)
            return call

        return self.keras_model._run_through_graph(x, operation_fn=operation_fn)


def wrap_keras(model) -> KerasModule:
    """Wrap a Keras 3 model object (torch backend) for capture.

    Parameters
    ----------
    model : keras.Model
        A built ``Sequential`` or functional model.

    Returns
    -------
    KerasModule
        In eval mode.

    Raises
    ------
    NichelabError
        Not a Keras model, Keras not on the torch backend, or a model that is not built (no input
        shape: call it once or give ``keras.Input``).
    """
    import_keras()
    if not is_keras_model(model):
        raise NichelabError(f"expected a Keras model; got {type(model).__name__}")
    if not model.built:
        raise NichelabError("the Keras model is not built: give it a keras.Input(...) or call it once on data")
    if type(model).__name__ not in ("Sequential", "Functional") and not hasattr(model, "_run_through_graph"):
        raise NichelabError(f"a subclassed Keras model ({type(model).__name__}) has no layer graph nichelab can "
                            "follow; build it as a Sequential or functional model")
    return KerasModule(model).eval()


def load_keras(path: str | Path, *, trust_pickle: bool = False) -> KerasModule:
    """Load a ``.keras`` file or a legacy full-model ``.h5`` file with Keras 3 on the torch backend.

    Parameters
    ----------
    path : str or Path
        Written by ``model.save("model.keras")`` (or ``model.save("model.h5")``).
    trust_pickle : bool, default False
        Load with Keras' ``safe_mode=False``: allows ``Lambda`` layers whose Python bytecode runs
        when loaded. Only for files you trust.

    Returns
    -------
    KerasModule
        Layers named by their Keras names, in eval mode.

    Raises
    ------
    NichelabError
        Keras missing or on another backend, an unreadable file, a weights-only ``.h5``, or a
        file that needs ``safe_mode=False`` without ``trust_pickle`` (naming the file).
    """
    keras = import_keras()
    path = Path(path)
    if not path.is_file():
        raise NichelabError.about("model", f"model {str(path)!r}: no such Keras file")
    try:
        model = keras.saving.load_model(str(path), compile=False, safe_mode=not trust_pickle)
    except Exception as exc:  # keras raises ValueError, TypeError, OSError ... for bad files
        msg = " ".join(str(exc).split())
        if "safe_mode" in msg or "arbitrary code" in msg:
            raise NichelabError.about(
                "model", f"model {str(path)!r} holds a Lambda layer (or other Python code) that runs when loaded; Keras' "
                "safe mode refuses it. Pass --trust-pickle (trust_pickle=True) only if you trust the file"
            ) from None
        if path.suffix == ".h5" and ("model_config" in msg or "No model config" in msg or "weights" in msg):
            raise NichelabError.about("model", f"model {str(path)!r} is not a full-model .h5 file (it holds weights only?); "
                                f"save the whole model with model.save('model.keras'): {msg[:200]}") from None
        raise NichelabError.about("model", f"model {str(path)!r} could not be read as a Keras model: {type(exc).__name__}: "
                            f"{msg[:300]}") from None
    return wrap_keras(model)
