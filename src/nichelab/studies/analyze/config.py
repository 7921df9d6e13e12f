"""Settings of ``nichelab analyze``: which model on which data, and how to measure its units."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from ...options import Options, option
from ..base import Study
from ..common import TrainOptions

__all__ = ["AnalyzeConfig", "ABLATION_MODES", "REDUCTIONS", "SPEC_KINDS", "BUILTIN_DATASETS", "MAX_PROBE_FEATURES", "STUDY",
           "default_spec", "is_spec", "describe_object"]

ABLATION_MODES = ("zero", "mean")
REDUCTIONS = ("mean", "max")
#: First word of a built-in model spec ("mlp 64-32", "cnn 8-16 fc=32").
SPEC_KINDS = ("mlp", "cnn")
#: Linear probes are skipped for layers (or inputs) wider than this (cost, not meaning); conv maps up to
#: this many values are probed whole (flattened), larger ones on their per-channel reduction.
MAX_PROBE_FEATURES = 8192
#: Built-in data sets (the loaders also read .npz, CSV, image folders and idx files).
BUILTIN_DATASETS = ("digits", "digits-images", "faces", "blobs", "parts")


def is_spec(model) -> bool:
    """True when ``model`` is a built-in model spec (a string whose first word is ``mlp`` or ``cnn``)."""
    if not isinstance(model, str):
        return False
    words = model.split()
    return len(words) >= 1 and words[0].lower() in SPEC_KINDS and not model.endswith((".pt", ".pt2", ".pth"))


def default_spec(dataset: str, image_inputs: bool) -> str:
    """The built-in model trained when no model is given: a small CNN for images, else an MLP."""
    return "cnn 8-16 fc=32" if image_inputs or dataset == "faces" else "mlp 64-32"


def describe_object(value: Any) -> str:
    """A short text for a Python object given as a setting (an ``nn.Module``, arrays ``(X, y)``)."""
    if isinstance(value, tuple):
        if isinstance(value[0], dict):
            return f"<token inputs {sorted(value[0])}, labels {tuple(getattr(value[1], 'shape', ()))}>"
        if value and not hasattr(value[0], "shape"):
            return "<token inputs (an iterable of dicts), labels>"
        shapes = ", ".join(str(tuple(getattr(v, "shape", ()))) for v in value)
        return f"<arrays {shapes}>"
    return f"<{type(value).__name__} object>"


@dataclass
class AnalyzeConfig(TrainOptions, Options):
    """A unit census of one model on one data set.

    Every field is declared once below (type, default, help, rule); ``nichelab analyze`` shows them
    as flags. In the library ``model`` may be an ``nn.Module`` and ``dataset`` a tuple ``(X, y)`` of
    arrays (or a :class:`nichelab.data.Dataset`).

    Example
    -------
    >>> AnalyzeConfig(dataset="digits", model="mlp 16-8", epochs=3)          # doctest: +SKIP
    >>> AnalyzeConfig(model=my_module, dataset=(X, y), ablation=False)        # doctest: +SKIP
    """

    dataset: str = option(
        "digits", objects=True,
        help="Built-in data (digits: 8x8 handwritten digits, 10 classes; faces: LFW faces vs non-faces, 25x25; "
             "digits-images, blobs, parts) or a path: .npz with arrays X and y (or input_ids, attention_mask and y for "
             "token models; an uncompressed .npz or a folder / X.npy,y.npy pair is memory-mapped), a CSV with a label column, an image "
             "folder with one subfolder per class, or IMAGES,LABELS idx files. Library: also a tuple (X, y).")
    model: str | None = option(
        None, objects=True,
        help="A model spec trained here ('mlp 64-32', 'cnn 8-16 fc=32': words 'mlp W1-W2-...' with options act=relu, "
             "dropout=0, or 'cnn C1-C2-...' with fc=W1-W2, k=3, pool=2, act=relu, dropout=0; layers are named "
             "L1, L2, ...), a torch.export file (.pt2), a TorchScript nn.Sequential (.pt), or package.module:factory "
             "with weights, a Keras 3 file (.keras, full-model .h5; layers named by their Keras names) or a Hugging "
             "Face folder written by save_pretrained (layers named by module paths). Default: 'cnn 8-16 fc=32' for faces and image data, 'mlp 64-32' otherwise. "
             "Library: also an nn.Module.")
    weights: str | None = option(None, help="A .safetensors state dict for a package.module:factory model.")
    trust_pickle: bool = option(False, help="Allow a .pt file that is a full pickle. Unpickling can run arbitrary "
                                            "code: only for files you trust.")
    layers: tuple[str, ...] | None = option(
        None, help="Layers to analyse (the model's named_modules() names), comma-separated. Default: every hidden "
                   "layer (built-in blocks L1..Ln-1; otherwise every activation module, or every Linear/Conv layer "
                   "if there is none).")
    label_column: str = option("label", help="CSV column holding the class labels.")
    image_size: int | None = option(None, ge=2, help="Resize image-folder images to SIZE x SIZE (default: the "
                                                      "first image's size).")
    channels: Literal["auto", "1", "3"] = option(
        "auto", help="Image folders: auto keeps the images as they are (3 channels if any image has colour, else 1); "
                     "1 converts colour to grey; 3 repeats grey into RGB.")
    normalize: Literal["none", "unit", "imagenet", "dataset"] = option(
        "unit", help="Image folders: unit scales pixels to [0, 1]; none keeps the raw values; imagenet standardises "
                     "unit values per channel with ImageNet's mean and std (RGB models such as torchvision's); "
                     "dataset standardises per channel with the folder's own mean and std.")
    tokens: Literal["mean", "first", "all"] = option(
        "mean", help="Token inputs (input_ids / attention_mask): a unit's activation per sample is the mean over "
                     "the tokens whose attention mask is 1 (mean), the first token's ([CLS], first), or every "
                     "token (all: each unit keeps one value per position; statistics then run over the reduced "
                     "mean, see the report).")
    unit_axis: int | None = option(
        None, ge=-8, le=8, help="The axis of every analysed layer's output that holds its units (-1: last, e.g. "
                                "channels-last or (n, seq, features) outputs; 1: channels-first). Default: declared "
                                "by Keras / Hugging Face models, else from the layer type.")
    select: int | None = option(
        None, ge=0, le=1000, help="For layers that output a tuple: the index of the tensor to analyse (default: the "
                                  "first tensor; a dict or ModelOutput gives last_hidden_state).")
    epochs: int = option(30, help="Training epochs (passes over the data).", ge=1, le=1_000_000)
    lr: float = option(0.003, help="Learning rate (built-in models).", gt=0)
    batch_size: int = option(64, help="Training minibatch size (built-in models).", ge=1, le=10_000_000)
    seed: int = option(0, ge=0, help="Seed of the split, initialisation, sample order, probes and ablation subset.")
    test_fraction: float = option(0.3, gt=0, lt=1, help="Held-out share for a built-in model (stratified); the "
                                                        "census runs on it.")
    max_samples: int | None = option(None, ge=4, help="Analyse at most this many samples (stratified random "
                                                      "subset).")
    ablation: bool = option(True, help="Ablate every unit alone and measure accuracy overall and per class.")
    ablation_mode: Literal["zero", "mean"] = option(
        "zero", help="zero: clamp the unit to 0; mean: to its mean activation. A conv unit is a whole channel.")
    ablation_samples: int = option(2000, ge=2, help="Ablation costs one forward pass per unit: it uses at most "
                                                    "this many samples (stratified subset).")
    probe_samples: int = option(10_000, ge=10, help="Linear probes train on at most this many samples (stratified "
                                                    "subset; cost and memory, not meaning).")
    threshold: float = option(0.95, gt=0, le=1, help="Units whose activations correlate with |r| >= THRESHOLD are "
                                                     "near-duplicates.")
    reduce: Literal["mean", "max"] = option(
        "mean", help="Conv layers: a channel's activation is its spatial mean or max per sample.")
    top_k: int = option(6, ge=1, le=10_000, help="Top examples kept per unit.")
    indispensable_overall: float = option(1.0, gt=0, le=100, help="A unit is indispensable when ablating it costs "
                                                                  "at least this many points of overall accuracy ...")
    indispensable_class: float = option(5.0, gt=0, le=100, help="... or at least this many points on one class.")

    def __post_init__(self) -> None:
        if isinstance(self.channels, int) and not isinstance(self.channels, bool):
            self.channels = str(self.channels)          # the library may say channels=3
        super().__post_init__()

    def check(self) -> None:
        if self.weights is not None and self.model is not None and (is_spec(self.model)
                                                                     or not isinstance(self.model, str)):
            what = self.model if isinstance(self.model, str) else describe_object(self.model)
            raise self.field_error("weights", f"applies to a model given as package.module:factory; model {what!r} "
                                   "is not one", self.weights)
        if not isinstance(self.dataset, str):
            self._check_arrays()

    def _check_arrays(self) -> None:
        data = self.dataset
        if hasattr(data, "X") and hasattr(data, "y"):      # a nichelab Dataset
            return
        tokens = isinstance(data, tuple) and len(data) == 2 and hasattr(data[1], "__len__") and (
            isinstance(data[0], dict) or (hasattr(data[0], "__iter__") and not hasattr(data[0], "shape")
                                          and not isinstance(data[0], (str, bytes))))
        if not tokens and (not isinstance(data, tuple) or len(data) != 2 or not all(hasattr(v, "shape") for v in data)):
            raise self.field_error("dataset", "must be a name, a path, a Dataset or a tuple: arrays (X, y), or token "
                                   "inputs and labels ({'input_ids': ..., 'attention_mask': ...} or an iterable of "
                                   "such dicts, y)", describe_object(data) if data else data)

    @property
    def builtin_model(self) -> bool:
        """True when the model is a built-in spec (trained here) rather than the user's model."""
        return self.model is None or is_spec(self.model)

    @property
    def dataset_name(self) -> str:
        """The data set as text (a description for arrays given in the library)."""
        return self.dataset if isinstance(self.dataset, str) else describe_object(self.dataset)

    def recorded(self) -> "AnalyzeConfig":
        """These settings with Python objects (a module, arrays) replaced by descriptions, for results.json."""
        if isinstance(self.dataset, str) and (self.model is None or isinstance(self.model, str)):
            return self
        model = self.model if self.model is None or isinstance(self.model, str) else describe_object(self.model)
        return replace(self, dataset=self.dataset_name, model=model)


STUDY = Study(
    "analyze", AnalyzeConfig,
    question="Unit census of a network on real data: dead, duplicated, selective and indispensable units, per layer.",
    description="With a model spec, trains it (seeded, stratified 70/30 split) and analyses the held-out samples; "
                "with the user's model file or factory, analyses it as given on all the data. Writes report.html, "
                "results.json and, for a built-in model, weights.safetensors. 'mlp 64-32' is two dense ReLU layers "
                "of 64 and 32 units; 'cnn 8-16 fc=32' is two 3x3 convolutions of 8 and 16 channels (ReLU, 2x2 "
                "max-pool after each) and a dense layer of 32 units; the output layer is added. Unit k of layer L1 "
                "is L1:k.",
    command="top")
