"""Settings of the hierarchy study (edges -> parts -> objects; REFERENCES.md, "Hierarchy")."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ...errors import NichelabError, check_positive_int, suggest
from ...interventions.featvis import REDUCE
from ...metrics.dissection import IOU_THRESHOLD
from ...metrics.tuning import OSI_THRESHOLD
from ...nn.init import INIT_SCHEMES
from ...nn.spec import parse_spec
from ...train.config import TrainConfig
from .data import STIMULI

__all__ = ["HierarchyConfig", "DATASETS", "DATASET_DEFAULTS", "hidden_layers", "parse_units"]

#: Datasets the study runs on: procedural parts images (with part masks), LFW faces vs.
#: non-faces (scikit-image's subset), scikit-learn's 8x8 digits.
DATASETS = ("parts", "faces", "digits")
#: Training defaults per dataset (the LFW subset has 140 training images, so it needs more epochs).
DATASET_DEFAULTS = {"parts": {"epochs": 10, "lr": 0.003, "stimulus": "bars"},
                    "faces": {"epochs": 60, "lr": 0.003, "stimulus": "gratings"},
                    "digits": {"epochs": 10, "lr": 0.003, "stimulus": "bars"}}

_UNIT = re.compile(r"^\s*(?P<layer>[A-Za-z_][\w.]*)\s*:\s*(?P<unit>\d+)\s*$")


def hidden_layers(spec) -> list[tuple[str, int, str]]:
    """The hidden blocks of a built-in model spec: ``[(name, n_units, "conv" | "dense"), ...]``.

    ``cnn 8-16-32 fc=64`` gives L1 (8, conv), L2 (16, conv), L3 (32, conv), L4 (64, dense);
    the output block (L5) is not hidden.
    """
    spec = parse_spec(spec)
    if spec.kind == "cnn":
        kinds = [(w, "conv") for w in spec.widths] + [(w, "dense") for w in spec.fc]
    else:
        kinds = [(w, "dense") for w in spec.widths]
    return [(f"L{i}", w, k) for i, (w, k) in enumerate(kinds, start=1)]


def parse_units(units, spec) -> list[tuple[str, int]]:
    """Parse ``--units`` (``"L2:5"``; several per string separated by commas or spaces).

    Returns
    -------
    list of (layer, unit)
        In the given order, duplicates dropped.

    Raises
    ------
    NichelabError
        A malformed entry, an unknown or output layer (with close names), a unit out of range.
    """
    layers = hidden_layers(spec)
    widths = {name: w for name, w, _ in layers}
    names = list(widths)
    n_layers = len(names)
    items = [units] if isinstance(units, str) else list(units or ())
    out: list[tuple[str, int]] = []
    for text in (t for item in items for t in re.split(r"[,\s]+", str(item)) if t):
        m = _UNIT.match(text)
        if not m:
            raise NichelabError(f"--units entries must look like LAYER:UNIT, e.g. 'L2:5'; got {text!r}")
        layer, k = m["layer"], int(m["unit"])
        if layer not in widths:
            extra = (f"; {layer} is the output layer (logits)" if layer == f"L{n_layers + 1}" else "")
            raise NichelabError(
                f"--units: unknown layer {layer!r} in {text!r}{suggest(layer, names)}{extra}; "
                f"the model's hidden layers are {', '.join(names)}")
        if k >= widths[layer]:
            raise NichelabError(
                f"--units: {text!r} is out of range; layer {layer} has {widths[layer]} units "
                f"({layer}:0..{layer}:{widths[layer] - 1})")
        if (layer, k) not in out:
            out.append((layer, k))
    return out


@dataclass
class HierarchyConfig:
    """Train a small CNN, then measure edges, parts and objects in every hidden layer.

    Attributes
    ----------
    dataset : {"parts", "faces", "digits"}, default "parts"
        ``parts``: procedural objects with part masks (all measures); ``faces``: LFW faces vs.
        non-faces (25x25, 200 images); ``digits``: scikit-learn's 8x8 digits. Faces and digits
        have no part masks, so part detection and the scrambled-face test are left out.
    model : str, default "cnn 8-16-32 fc=64"
        A ``nichelab.nn`` cnn spec: 3x3 convs, ReLU, 2x2 max-pool after each, dense layers.
    seeds : int, default 3
        Networks trained (seeds ``first_seed ...``); each has its own random-network control.
        Per-layer numbers are averaged over seeds (figures show the range); galleries show the
        first seed.
    first_seed : int, default 0
    epochs : int, optional
        Default per dataset (``DATASET_DEFAULTS``: parts 10, faces 60, digits 10).
    lr : float, optional
        Adam learning rate; default per dataset (0.003).
    batch_size : int, default 64
    optimizer : {"adam", "sgd"}, default "adam"
    init : {"glorot", "torch"}, default "glorot"
    per_class : int, default 300
        Parts images per class (parts only).
    size : int, default 32
        Parts image side in pixels (parts only; >= 16).
    noise : float, default 0.05
        Pixel noise of the parts images.
    test_fraction : float, default 0.3
        Share of the data held out (stratified); every measure is taken on it.
    data_seed : int, default 0
        Seed of the parts images and of the train/test split.
    units : tuple of str, default ()
        Units to visualise, ``"L2:5"``; default the ``units_per_layer`` most class-selective
        live units of every hidden layer.
    units_per_layer : int, default 2
    featvis_steps : int, default 200
        Gradient-ascent steps of the feature visualisation.
    featvis_reduce : {"best", "center", "max", "mean"}, default "best"
        Which activation of a conv unit's map is maximised: the cell where the unit peaked on
        its best held-out image (so the two are compared at the same place), the centre cell,
        or the maximum or mean over positions.
    stimulus : {"bars", "gratings"}, optional
        Orientation-tuning stimuli; default per dataset: bars (white strokes on black, like the
        parts images and digits) or gratings (faces).
    top_k : int, default 6
        Top-activating dataset examples shown per unit.
    osi_threshold : float, default 0.3
        Orientation-selective: OSI (1 - circular variance) >= this.
    drive_threshold : float, default 0.5
        Edge detector: orientation-selective, and its strongest response to a stimulus is at
        least this share of its largest activation on a held-out image (so a unit that barely
        responds to any bar does not count as tuned to bars).
    iou_threshold : float, default 0.04
        Part detector: best part IoU > this (Network Dissection).
    ap_threshold : float, default 0.8
        Object detector: AUPRC for the object class (faces; the preferred digit) >= this.
    probe_threshold : float, default 0.9
        A layer "tells faces from scrambled faces apart" when its linear probe's held-out
        accuracy reaches this.
    probe_repeats : int, default 3
        Train/test splits each probe is averaged over.
    """

    dataset: str = "parts"
    model: str = "cnn 8-16-32 fc=64"
    seeds: int = 3
    first_seed: int = 0
    epochs: int | None = None
    lr: float | None = None
    batch_size: int = 64
    optimizer: str = "adam"
    init: str = "glorot"
    per_class: int = 300
    size: int = 32
    noise: float = 0.05
    test_fraction: float = 0.3
    data_seed: int = 0
    units: tuple[str, ...] = field(default_factory=tuple)
    units_per_layer: int = 2
    featvis_steps: int = 200
    featvis_reduce: str = "best"
    stimulus: str | None = None
    top_k: int = 6
    osi_threshold: float = OSI_THRESHOLD
    drive_threshold: float = 0.5
    iou_threshold: float = IOU_THRESHOLD
    ap_threshold: float = 0.8
    probe_threshold: float = 0.9
    probe_repeats: int = 3

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise NichelabError(f"--dataset must be one of {', '.join(DATASETS)}; got {self.dataset!r}"
                                + suggest(str(self.dataset), DATASETS))
        spec = parse_spec(self.model)
        if spec.kind != "cnn":
            raise NichelabError(f"--model must be a cnn spec such as 'cnn 8-16-32 fc=64'; got {self.model!r}")
        defaults = DATASET_DEFAULTS[self.dataset]
        if self.epochs is None:
            self.epochs = defaults["epochs"]
        if self.lr is None:
            self.lr = defaults["lr"]
        if self.stimulus is None:
            self.stimulus = defaults["stimulus"]
        if self.stimulus not in STIMULI:
            raise NichelabError(f"--stimulus must be one of {', '.join(STIMULI)}; got {self.stimulus!r}"
                                + suggest(str(self.stimulus), STIMULI))
        check_positive_int("--seeds", self.seeds)
        check_positive_int("--first-seed", self.first_seed, minimum=0)
        check_positive_int("--per-class", self.per_class, minimum=4)
        check_positive_int("--size", self.size, minimum=16)
        check_positive_int("--data-seed", self.data_seed, minimum=0)
        check_positive_int("--units-per-layer", self.units_per_layer, minimum=0)
        check_positive_int("--featvis-steps", self.featvis_steps)
        check_positive_int("--top-k", self.top_k)
        check_positive_int("--probe-repeats", self.probe_repeats)
        if self.init not in INIT_SCHEMES[:2]:
            raise NichelabError(f"--init must be one of glorot, torch; got {self.init!r}")
        if self.featvis_reduce not in ("best",) + REDUCE:
            raise NichelabError(f"--featvis-reduce must be one of best, {', '.join(REDUCE)}; got "
                                f"{self.featvis_reduce!r}" + suggest(str(self.featvis_reduce), ("best",) + REDUCE))
        for name, v, lo, hi in (("--noise", self.noise, 0.0, np.inf), ("--test-fraction", self.test_fraction, 0.05, 0.8),
                                ("--osi-threshold", self.osi_threshold, 0.0, 1.0),
                                ("--drive-threshold", self.drive_threshold, 0.0, np.inf),
                                ("--iou-threshold", self.iou_threshold, 0.0, 1.0),
                                ("--ap-threshold", self.ap_threshold, 0.0, 1.0),
                                ("--probe-threshold", self.probe_threshold, 0.0, 1.0)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (lo <= v <= hi) or not np.isfinite(v):
                rule = f"a finite number >= {lo:g}" if hi == np.inf else f"a number in [{lo:g}, {hi:g}]"
                raise NichelabError(f"{name} must be {rule}; got {v!r}")
        self.units = tuple(f"{l}:{k}" for l, k in parse_units(self.units, spec))
        self.train_config()  # validates epochs, lr, batch size, optimizer

    @property
    def seed_list(self) -> list[int]:
        """The trained seeds."""
        return list(range(self.first_seed, self.first_seed + self.seeds))

    @property
    def layers(self) -> list[tuple[str, int, str]]:
        """The measured (hidden) layers: ``[(name, n_units, kind), ...]``."""
        return hidden_layers(self.model)

    def unit_list(self) -> list[tuple[str, int]]:
        """The ``--units`` as (layer, unit) pairs."""
        return parse_units(self.units, self.model)

    def train_config(self) -> TrainConfig:
        """The training settings."""
        return TrainConfig(epochs=self.epochs, lr=self.lr, batch_size=self.batch_size,
                           optimizer=self.optimizer, init=self.init)
