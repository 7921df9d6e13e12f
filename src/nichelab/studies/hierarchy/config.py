"""Settings of the hierarchy study (edges -> parts -> objects; REFERENCES.md, "Hierarchy")."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ...errors import NichelabError, suggest
from ...options import Options, option
from ..base import Study
from ..common import SeedOptions, TrainOptions

__all__ = ["HierarchyConfig", "DATASETS", "DATASET_DEFAULTS", "STIMULI", "FEATVIS_REDUCE", "hidden_layers",
           "parse_units", "STUDY"]

#: Datasets the study runs on: procedural parts images (with part masks), LFW faces vs.
#: non-faces (scikit-image's subset), scikit-learn's 8x8 digits.
DATASETS = ("parts", "faces", "digits")
#: Orientation-tuning stimuli: white bars on black, or sinusoidal gratings.
STIMULI = ("bars", "gratings")
#: Which activation of a conv unit's map feature visualisation maximises.
FEATVIS_REDUCE = ("best", "center", "max", "mean")
#: Training defaults per dataset (the LFW subset has 140 training images, so it needs more epochs).
DATASET_DEFAULTS = {"parts": {"epochs": 10, "lr": 0.003, "stimulus": "bars"},
                    "faces": {"epochs": 60, "lr": 0.003, "stimulus": "gratings"},
                    "digits": {"epochs": 10, "lr": 0.003, "stimulus": "bars"}}

_UNIT = re.compile(r"^\s*(?P<layer>[A-Za-z_][\w.]*)\s*:\s*(?P<unit>\d+)\s*$")


def _parse_spec(spec):
    from ...nn.spec import parse_spec  # deferred: nichelab.nn imports torch
    return parse_spec(spec)


def hidden_layers(spec) -> list[tuple[str, int, str]]:
    """The hidden blocks of a built-in model spec: ``[(name, n_units, "conv" | "dense"), ...]``.

    ``cnn 8-16-32 fc=64`` gives L1 (8, conv), L2 (16, conv), L3 (32, conv), L4 (64, dense);
    the output block (L5) is not hidden.
    """
    spec = _parse_spec(spec)
    if spec.kind == "cnn":
        kinds = [(w, "conv") for w in spec.widths] + [(w, "dense") for w in spec.fc]
    else:
        kinds = [(w, "dense") for w in spec.widths]
    return [(f"L{i}", w, k) for i, (w, k) in enumerate(kinds, start=1)]


def _unit_error(rule: str) -> NichelabError:
    return NichelabError(f"units {rule}", field="units")


def parse_units(units, spec) -> list[tuple[str, int]]:
    """Parse units given as ``"L2:5"`` (several per string separated by commas or spaces).

    Returns
    -------
    list of (layer, unit)
        In the given order, duplicates dropped.

    Raises
    ------
    NichelabError
        A malformed entry, an unknown or output layer (with close names), a unit out of range
        (about the field ``units``).
    """
    widths = {name: w for name, w, _ in hidden_layers(spec)}
    names = list(widths)
    items = [units] if isinstance(units, str) else list(units or ())
    out: list[tuple[str, int]] = []
    for text in (t for item in items for t in re.split(r"[,\s]+", str(item)) if t):
        m = _UNIT.match(text)
        if not m:
            raise _unit_error(f"entries must look like LAYER:UNIT, e.g. 'L2:5'; got {text!r}")
        layer, k = m["layer"], int(m["unit"])
        if layer not in widths:
            extra = f"; {layer} is the output layer (logits)" if layer == f"L{len(names) + 1}" else ""
            raise _unit_error(f"has an unknown layer {layer!r} in {text!r}{suggest(layer, names)}{extra}; "
                              f"the model's hidden layers are {', '.join(names)}")
        if k >= widths[layer]:
            raise _unit_error(f"entry {text!r} is out of range; layer {layer} has {widths[layer]} units "
                              f"({layer}:0..{layer}:{widths[layer] - 1})")
        if (layer, k) not in out:
            out.append((layer, k))
    return out


@dataclass
class HierarchyConfig(TrainOptions, SeedOptions, Options):
    """Train a small CNN, then measure edges, parts and objects in every hidden layer.

    Every field is declared once below (type, default, help, rule); ``nichelab run hierarchy``
    shows them as flags. ``epochs``, ``lr`` and ``stimulus`` left at None take the dataset's
    default (:data:`DATASET_DEFAULTS`). Per-layer numbers are averaged over seeds (figures show
    the range); galleries show the first seed.
    """

    seeds: int = option(3, help="Networks trained (seeds first-seed ...); per-layer numbers are averaged.",
                        ge=1, le=10_000_000)
    epochs: int | None = option(None, help="Training epochs (default: parts 10, faces 60, digits 10).",
                                ge=1, le=1_000_000)
    lr: float | None = option(None, help="Adam learning rate (default 0.003).", gt=0)
    batch_size: int = option(64, help="Minibatch size.", ge=1, le=10_000_000)
    dataset: Literal["parts", "faces", "digits"] = option(
        "parts", help="parts (procedural objects with part masks), faces (LFW subset: faces vs. non-faces) "
                      "or digits (8x8).")
    model: str = option("cnn 8-16-32 fc=64", help="CNN spec: conv channels, then dense layers.")
    per_class: int = option(300, help="Parts images per class.", ge=4, le=1_000_000)
    size: int = option(32, help="Parts image side in pixels (>= 16).", ge=16, le=4096)
    noise: float = option(0.05, help="Pixel noise of the parts images.", ge=0)
    test_fraction: float = option(0.3, help="Share of the data held out (stratified); every measure is taken on it.",
                                  ge=0.05, le=0.8)
    data_seed: int = option(0, help="Seed of the parts images and of the train/test split.", ge=0)
    stimulus: Literal["bars", "gratings"] | None = option(
        None, help="Orientation-tuning stimuli: bars or gratings (default: bars for parts and digits, "
                   "gratings for faces).")
    units: tuple[str, ...] = option(
        (), min_items=0, help="Units to visualise, LAYER:UNIT, comma-separated (e.g. 'L2:5,L4:0'); default: the "
                              "most class-selective units of each layer.")
    units_per_layer: int = option(2, help="Units visualised per layer when units are not given.", ge=0)
    featvis_steps: int = option(200, help="Gradient-ascent steps of the feature visualisation.", ge=1)
    featvis_reduce: Literal["best", "center", "max", "mean"] = option(
        "best", help="Which activation of a conv unit's map is maximised: best (the cell where it peaked on its "
                     "best held-out image), center, max or mean over positions.")
    top_k: int = option(6, help="Top-activating examples shown per unit.", ge=1)
    osi_threshold: float = option(0.3, help="Orientation-selective: OSI (1 - circular variance) >= this.",
                                  ge=0, le=1)
    drive_threshold: float = option(
        0.5, help="Edge detector: orientation-selective, and its strongest stimulus response is at least this "
                  "share of its largest held-out activation.", ge=0)
    iou_threshold: float = option(0.04, help="Part detector: best part IoU > this (Network Dissection).", ge=0, le=1)
    ap_threshold: float = option(0.8, help="Object detector: AUPRC for the object class (faces; the preferred "
                                           "class) >= this.", ge=0, le=1)
    probe_threshold: float = option(0.9, help="A layer tells faces from scrambled faces apart when its probe's "
                                              "held-out accuracy reaches this.", ge=0, le=1)
    probe_repeats: int = option(3, help="Train/test splits each probe is averaged over.", ge=1, le=1000)

    def check(self) -> None:
        spec = _parse_spec(self.model)
        if spec.kind != "cnn":
            raise self.field_error("model", "must be a cnn spec such as 'cnn 8-16-32 fc=64'", self.model)
        defaults = DATASET_DEFAULTS[self.dataset]
        for name in ("epochs", "lr", "stimulus"):
            if getattr(self, name) is None:
                setattr(self, name, defaults[name])
        self.units = tuple(f"{layer}:{k}" for layer, k in parse_units(self.units, spec))

    @property
    def layers(self) -> list[tuple[str, int, str]]:
        """The measured (hidden) layers: ``[(name, n_units, kind), ...]``."""
        return hidden_layers(self.model)

    def unit_list(self) -> list[tuple[str, int]]:
        """The chosen units as (layer, unit) pairs (empty: the most selective per layer)."""
        return parse_units(self.units, self.model)


STUDY = Study(
    "hierarchy", HierarchyConfig,
    question="Edges, then parts, then objects? What each layer of a small CNN detects.",
    description="Trains a CNN (3 conv layers and a dense layer) on procedural faces, scrambled faces, houses, "
                "carts and cars with known part masks (or LFW faces, or digits), then measures every hidden layer: "
                "orientation tuning, part detectors (Network Dissection), single-unit face AUPRC, class "
                "selectivity, linear probes, faces vs. scrambled faces, top examples and feature visualisation, "
                "each against the untrained network.")
