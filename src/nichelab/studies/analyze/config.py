"""Settings of ``nichelab analyze``: which model on which data, and how to measure its units."""
from __future__ import annotations

import math
from dataclasses import dataclass

from ...errors import NichelabError, check_positive_int
from ...train.config import TrainConfig

__all__ = ["AnalyzeConfig", "ABLATION_MODES", "REDUCTIONS", "SPEC_KINDS", "default_spec", "is_spec"]

ABLATION_MODES = ("zero", "mean")
REDUCTIONS = ("mean", "max")
#: First word of a built-in model spec ("mlp 64-32", "cnn 8-16 fc=32").
SPEC_KINDS = ("mlp", "cnn")


def is_spec(model: str) -> bool:
    """True when ``model`` is a built-in model spec (its first word is ``mlp`` or ``cnn``)."""
    words = str(model).split()
    return len(words) >= 1 and words[0].lower() in SPEC_KINDS and not str(model).endswith((".pt", ".pt2", ".pth"))


def default_spec(dataset: str, image_inputs: bool) -> str:
    """The built-in model trained when ``--model`` is not given: a small CNN for images, else an MLP."""
    return "cnn 8-16 fc=32" if image_inputs or dataset == "faces" else "mlp 64-32"


def _fraction(name: str, value, low: float = 0.0, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low < value < high:
        raise NichelabError(f"{name} must be a number in ({low:g}, {high:g}); got {value!r}")
    return float(value)


@dataclass
class AnalyzeConfig:
    """A unit census of one model on one data set.

    Attributes
    ----------
    dataset : str, default "digits"
        A built-in name (``digits``, ``digits-images``, ``faces``, ``blobs``, ``parts``) or a path:
        ``.npz`` with ``X`` and ``y``, a CSV with a label column, an image folder (one subfolder
        per class) or ``IMAGES,LABELS`` idx files.
    model : str, optional
        A built-in model spec (``"mlp 64-32"``, ``"cnn 8-16 fc=32"``: trained here on the data),
        a ``.pt2`` (torch.export) / ``.pt`` (TorchScript) file, or ``package.module:factory``
        (analysed as given). Default: ``cnn 8-16 fc=32`` for image data, ``mlp 64-32`` otherwise.
    weights : str, optional
        ``.safetensors`` state dict for a factory-built model.
    trust_pickle : bool, default False
        Allow a ``.pt`` that is a full pickle (can run arbitrary code).
    layers : tuple of str, optional
        Layer names (``named_modules()`` paths); default every hidden layer (built-in blocks
        ``L1..L{n-1}``; otherwise every activation module, or every Linear/Conv layer if none).
    label_column : str, default "label"
        CSV label column.
    image_size : int, optional
        Resize image-folder images to ``image_size x image_size``.
    epochs : int, default 30
        Training epochs (built-in models only).
    lr : float, default 0.003
        Adam learning rate (built-in models only).
    batch_size : int, default 64
        Training minibatch size.
    seed : int, default 0
        Drives the split, initialisation, sample order, probes and the ablation subset.
    test_fraction : float, default 0.3
        Held-out share of the data for a built-in model (stratified); the census runs on it.
    max_samples : int, optional
        Analyse at most this many samples (stratified random subset); default all.
    ablation : bool, default True
        Ablate every unit of every layer, one at a time.
    ablation_mode : {"zero", "mean"}, default "zero"
        Clamp the unit (for conv layers the whole channel) to 0 or to its mean over the samples.
    ablation_samples : int, default 2000
        Ablation costs one forward pass per unit: it runs on at most this many samples
        (stratified random subset of the analysed samples).
    threshold : float, default 0.95
        Units whose activations correlate with ``|r| >= threshold`` are near-duplicates.
    reduce : {"mean", "max"}, default "mean"
        Conv layers: each channel's activation is its spatial mean (or max) per sample.
    top_k : int, default 6
        Top examples kept per unit.
    indispensable_overall : float, default 1.0
        A unit is indispensable when ablating it costs at least this many percentage points of
        overall accuracy ...
    indispensable_class : float, default 5.0
        ... or at least this many points on one class.
    """

    dataset: str = "digits"
    model: str | None = None
    weights: str | None = None
    trust_pickle: bool = False
    layers: tuple[str, ...] | None = None
    label_column: str = "label"
    image_size: int | None = None
    epochs: int = 30
    lr: float = 0.003
    batch_size: int = 64
    seed: int = 0
    test_fraction: float = 0.3
    max_samples: int | None = None
    ablation: bool = True
    ablation_mode: str = "zero"
    ablation_samples: int = 2000
    threshold: float = 0.95
    reduce: str = "mean"
    top_k: int = 6
    indispensable_overall: float = 1.0
    indispensable_class: float = 5.0

    def __post_init__(self) -> None:
        if not str(self.dataset).strip():
            raise NichelabError("--dataset must name a built-in dataset or a file; got an empty string")
        if self.model is not None and not str(self.model).strip():
            raise NichelabError("--model must be a model spec, a model file or package.module:factory; got ''")
        if self.layers is not None:
            self.layers = tuple(self.layers)
            if not self.layers:
                self.layers = None
        if self.weights is not None and self.model is not None and is_spec(self.model):
            raise NichelabError(f"--weights applies to --model package.module:factory; --model {self.model!r} "
                                "is a built-in spec trained here")
        check_positive_int("--seed", self.seed, minimum=0)
        check_positive_int("--top-k", self.top_k)
        check_positive_int("--ablation-samples", self.ablation_samples, minimum=2)
        if self.max_samples is not None:
            check_positive_int("--max-samples", self.max_samples, minimum=4)
        if self.image_size is not None:
            check_positive_int("--image-size", self.image_size, minimum=2)
        if self.ablation_mode not in ABLATION_MODES:
            raise NichelabError(f"--ablation-mode must be one of {', '.join(ABLATION_MODES)}; got {self.ablation_mode!r}")
        if self.reduce not in REDUCTIONS:
            raise NichelabError(f"--reduce must be one of {', '.join(REDUCTIONS)}; got {self.reduce!r}")
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, (int, float)) \
                or not 0 < self.threshold <= 1:
            raise NichelabError(f"--threshold must be a correlation in (0, 1]; got {self.threshold!r}")
        self.test_fraction = _fraction("--test-fraction", self.test_fraction)
        for name, v in (("indispensable_overall", self.indispensable_overall),
                        ("indispensable_class", self.indispensable_class)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 100:
                raise NichelabError(f"{name} must be percentage points in (0, 100]; got {v!r}")
        self.train_config()   # validates epochs, lr, batch size

    @property
    def builtin_model(self) -> bool:
        """True when the model is a built-in spec (trained here) rather than the user's model."""
        return self.model is None or is_spec(self.model)

    def train_config(self) -> TrainConfig:
        """Training settings for a built-in model: Adam, softmax cross-entropy, Glorot init."""
        return TrainConfig(epochs=self.epochs, lr=self.lr, batch_size=self.batch_size, optimizer="adam",
                           init="glorot")
