"""``nichelab analyze``: the unit census of a built-in or the user's own model on real data."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from . import app
from .common import EpochsOption, OutOption, OutPath


def _split_layers(layers: Optional[List[str]]) -> Optional[tuple[str, ...]]:
    """``--layers a,b --layers c`` -> ("a", "b", "c"); None when not given."""
    if not layers:
        return None
    names = [n.strip() for item in layers for n in item.split(",")]
    return tuple(n for n in names if n) or None


@app.command("analyze")
def analyze(
    dataset: str = typer.Option(
        "digits", "--dataset", "--data",
        help="Built-in data (digits: 8x8 handwritten digits, 10 classes; faces: LFW faces vs non-faces, 25x25; "
             "digits-images, blobs, parts) or a path: .npz with arrays X and y, a CSV with a label column, an image "
             "folder with one subfolder per class, or IMAGES,LABELS idx files."),
    model: Optional[str] = typer.Option(
        None, "--model", show_default=False,
        help="A model spec trained here ('mlp 64-32', 'cnn 8-16 fc=32'; grammar above), a torch.export file "
             "(.pt2), a TorchScript nn.Sequential (.pt), or package.module:factory with --weights. "
             "Default: 'cnn 8-16 fc=32' for faces and image data, 'mlp 64-32' otherwise."),
    weights: Optional[Path] = typer.Option(None, "--weights", show_default=False,
                                           help="A .safetensors state dict for a package.module:factory model."),
    trust_pickle: bool = typer.Option(False, "--trust-pickle",
                                      help="Allow a .pt file that is a full pickle. Unpickling can run arbitrary "
                                           "code: only for files you trust."),
    layers: Optional[List[str]] = typer.Option(
        None, "--layers", show_default=False,
        help="Layers to analyse (the model's named_modules() names), repeatable or comma-separated. Default: every "
             "hidden layer (built-in blocks L1..Ln-1; otherwise every activation module, or every Linear/Conv "
             "layer if there is none)."),
    label_column: str = typer.Option("label", "--label-column", help="CSV column holding the class labels."),
    image_size: Optional[int] = typer.Option(None, "--image-size", show_default=False,
                                             help="Resize image-folder images to SIZE x SIZE (default: the first "
                                                  "image's size)."),
    epochs: int = EpochsOption(30),
    lr: float = typer.Option(0.003, "--lr", help="Adam learning rate (built-in models)."),
    batch_size: int = typer.Option(64, "--batch-size", help="Training minibatch size (built-in models)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split, initialisation, sample order, probes and "
                                               "ablation subset."),
    test_fraction: float = typer.Option(0.3, "--test-fraction",
                                        help="Held-out share for a built-in model (stratified); the census runs on it."),
    max_samples: Optional[int] = typer.Option(None, "--max-samples", show_default=False,
                                              help="Analyse at most this many samples (stratified random subset)."),
    ablation: bool = typer.Option(True, "--ablation/--no-ablation",
                                  help="Ablate every unit alone and measure accuracy overall and per class."),
    ablation_mode: str = typer.Option("zero", "--ablation-mode",
                                      help="zero: clamp the unit to 0; mean: to its mean activation. A conv unit "
                                           "is a whole channel."),
    ablation_samples: int = typer.Option(2000, "--ablation-samples",
                                         help="Ablation costs one forward pass per unit: it uses at most this many "
                                              "samples (stratified subset)."),
    threshold: float = typer.Option(0.95, "--threshold",
                                    help="Units whose activations correlate with |r| >= THRESHOLD are near-duplicates."),
    reduce: str = typer.Option("mean", "--reduce",
                               help="Conv layers: a channel's activation is its spatial mean or max per sample."),
    out: OutPath = OutOption,
) -> None:
    """Unit census of a network on real data: dead, duplicated, selective and indispensable units, per layer.

    With a model spec, trains it (seeded, stratified 70/30 split) and analyses the held-out samples; with the
    user's model file or factory, analyses it as given on all the data. Writes report.html, results.json and,
    for a built-in model, weights.safetensors.

    Model specs (words separated by spaces; options optional, defaults shown):

      mlp W1-W2-...   options: act=relu (or tanh, sigmoid, gelu), dropout=0

      cnn C1-C2-...   options: fc=W1-W2 (dense layers after the convolutions), k=3, pool=2, act=relu, dropout=0

    'mlp 64-32' is two dense ReLU layers of 64 and 32 units; 'cnn 8-16 fc=32' is two 3x3 convolutions of 8 and
    16 channels (ReLU, 2x2 max-pool after each) and a dense layer of 32 units; the output layer is added. Layers
    are named L1, L2, ... (unit k of layer L1 is L1:k).

    Examples: nichelab analyze --dataset digits --model "mlp 64-32";
    nichelab analyze --dataset faces --model "cnn 8-16 fc=32";
    nichelab analyze --dataset my.npz --model model.pt2 --layers relu1,relu2
    """
    from ..studies import analyze as study
    from ..runs.runner import execute

    cfg = study.AnalyzeConfig(
        dataset=dataset, model=model, weights=None if weights is None else str(weights), trust_pickle=trust_pickle,
        layers=_split_layers(layers), label_column=label_column, image_size=image_size, epochs=epochs, lr=lr,
        batch_size=batch_size, seed=seed, test_fraction=test_fraction, max_samples=max_samples, ablation=ablation,
        ablation_mode=ablation_mode, ablation_samples=ablation_samples, threshold=threshold, reduce=reduce)
    execute("analyze", study.run, cfg, out)
