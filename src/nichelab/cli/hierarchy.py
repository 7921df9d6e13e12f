"""``nichelab run hierarchy``."""
from __future__ import annotations

from typing import List, Optional

import typer

from . import run_app
from .common import OutOption, OutPath, SeedsOption


@run_app.command("hierarchy")
def hierarchy(
    dataset: str = typer.Option("parts", help="parts (procedural objects with part masks), faces (LFW subset: "
                                              "faces vs. non-faces) or digits (8x8)."),
    model: str = typer.Option("cnn 8-16-32 fc=64", help="CNN spec: conv channels, then dense layers."),
    seeds: int = SeedsOption(3, "Networks trained (seeds first-seed ...); per-layer numbers are averaged."),
    first_seed: int = typer.Option(0, help="First seed."),
    epochs: Optional[int] = typer.Option(None, help="Training epochs (default: parts 10, faces 60, digits 10).",
                                         show_default=False),
    lr: Optional[float] = typer.Option(None, help="Adam learning rate (default 0.003).", show_default=False),
    batch_size: int = typer.Option(64, help="Minibatch size."),
    per_class: int = typer.Option(300, help="Parts images per class."),
    size: int = typer.Option(32, help="Parts image side in pixels (>= 16)."),
    noise: float = typer.Option(0.05, help="Pixel noise of the parts images."),
    data_seed: int = typer.Option(0, help="Seed of the parts images and of the train/test split."),
    stimulus: Optional[str] = typer.Option(None, help="Orientation-tuning stimuli: bars or gratings "
                                                      "(default: bars for parts and digits, gratings for faces).",
                                           show_default=False),
    units: Optional[List[str]] = typer.Option(
        None, "--units", help="Units to visualise, LAYER:UNIT (e.g. --units L2:5 --units L4:0, or 'L2:5,L4:0'); "
                              "default: the most class-selective units of each layer.", show_default=False),
    units_per_layer: int = typer.Option(2, help="Units visualised per layer when --units is not given."),
    featvis_steps: int = typer.Option(200, help="Gradient-ascent steps of the feature visualisation."),
    top_k: int = typer.Option(6, help="Top-activating examples shown per unit."),
    out: OutPath = OutOption,
) -> None:
    """Edges, then parts, then objects? What each layer of a small CNN detects.

    Trains a CNN (3 conv layers and a dense layer) on procedural faces,
    scrambled faces, houses, carts and cars with known part masks (or LFW
    faces, or digits), then measures every hidden layer: orientation tuning,
    part detectors (Network Dissection), single-unit face AUPRC, class
    selectivity, linear probes, faces vs. scrambled faces, top examples and
    feature visualisation, each against the untrained network.
    """
    from ..studies import hierarchy as study
    from ..runs.runner import execute

    cfg = study.HierarchyConfig(dataset=dataset, model=model, seeds=seeds, first_seed=first_seed, epochs=epochs,
                                lr=lr, batch_size=batch_size, per_class=per_class, size=size, noise=noise,
                                data_seed=data_seed, stimulus=stimulus, units=tuple(units or ()),
                                units_per_layer=units_per_layer,
                                featvis_steps=featvis_steps, top_k=top_k)
    execute("hierarchy", study.run, cfg, out)
