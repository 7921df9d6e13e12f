"""The hierarchy study: is there an "edges -> parts -> objects" hierarchy in a small CNN?

``run(HierarchyConfig()) -> HierarchyResult``. Trains the CNN on the parts images (or LFW faces,
or digits), then measures every hidden layer of the trained network and of its own random
initialisation: orientation tuning, part detectors (Network Dissection), single-unit object
AUPRC and class selectivity, linear probes, faces vs. scrambled faces, top examples and
feature visualisation. See REFERENCES.md, "Hierarchy" and "Per-unit measures".
"""
from __future__ import annotations

import contextlib
import copy
import time

import numpy as np
import torch

from ...interventions.featvis import visualize_units
from ...nn.models import build_model
from ...train.loop import train_one
from .analysis import NetworkMeasures, centre_cell, measure_network, selective_units
from .config import DATASETS, HierarchyConfig, parse_units
from .data import StudyData, load_study_data
from .result import FeatVisPair, HierarchyResult

__all__ = ["HierarchyConfig", "HierarchyResult", "run", "DATASETS", "parse_units", "default_units",
           "feature_visualisation"]


def default_units(net: NetworkMeasures, per_layer: int) -> list[tuple[str, int]]:
    """The ``per_layer`` most class-selective (and not nearly silent) units of every layer."""
    return selective_units(net, per_layer)


def feature_visualisation(model, net: NetworkMeasures, units: list[tuple[str, int]], data: StudyData,
                          cfg: HierarchyConfig, seed: int) -> dict:
    """Optimise an input for every chosen unit; ``{(layer, unit): (image, activation, cell)}``.

    Each unit's objective is scaled by its largest held-out activation and jittered by an
    eighth of its receptive field (0 for 3x3 first-layer units). With ``featvis_reduce="best"``
    a conv unit is maximised at the cell where it peaked on its best held-out image.
    """
    geoms = {l.name: l.geometry for l in net.layers}
    scale = [max(float(net.layer(layer).top_act[0, k]), 1e-3) for layer, k in units]
    jitter = [geoms[layer].rf // 8 for layer, _ in units]
    best = cfg.featvis_reduce == "best"
    cells = [tuple(int(v) for v in net.layer(layer).top_pos[0, k]) if geoms[layer].kind == "conv" and best
             else (centre_cell(geoms[layer], data.image_shape) if geoms[layer].kind == "conv"
                   and cfg.featvis_reduce == "center" else None)
             for layer, k in units]
    res = visualize_units(model, units, input_shape=data.image_shape, steps=cfg.featvis_steps,
                          baseline=float(data.train.X.mean()),
                          value_range=(float(data.train.X.min()), float(data.train.X.max())),
                          reduce="center" if best else cfg.featvis_reduce, positions=cells if best else None,
                          jitter=jitter, scale=scale, seed=seed)
    return {t: (res.images[i], float(res.activation[i]), cells[i]) for i, t in enumerate(res.targets)}


@contextlib.contextmanager
def _torch_threads(n: int):
    """Run the block with ``n`` torch intra-op threads, then restore the previous number.

    The study's networks are tiny (batches of 64 images of 32x32 through 8-32 channels, and
    feature visualisation on a few images): intra-op threads gain little on them and, when the
    cores are shared with other processes, make training and measuring 5-20 times slower
    (measured on 2 cores; see benchmarks/bench_hierarchy.py).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run(config: HierarchyConfig | None = None, *, progress=None) -> HierarchyResult:
    """Train ``config.seeds`` CNNs and measure every hidden layer, trained and at initialisation.

    Parameters
    ----------
    config : HierarchyConfig, optional
        Defaults: parts images, ``cnn 8-16-32 fc=64``, 10 epochs of Adam, 3 seeds.
    progress : callable (stage: str, done: int, total: int) -> None, optional

    Returns
    -------
    HierarchyResult
    """
    cfg = config or HierarchyConfig()
    tick = progress or (lambda stage, done, total: None)
    timings = {"data_s": 0.0, "training_s": 0.0, "measuring_s": 0.0, "featvis_s": 0.0}
    t = time.perf_counter()
    data = load_study_data(cfg.dataset, per_class=cfg.per_class, size=cfg.size, noise=cfg.noise,
                           test_fraction=cfg.test_fraction, seed=cfg.data_seed)
    timings["data_s"] = time.perf_counter() - t
    S = len(cfg.seed_list)
    trained, random, losses, params, init_params = [], [], [], [], []
    shown = {}
    tick("training", 0, S)
    for i, seed in enumerate(cfg.seed_list):
        t = time.perf_counter()
        model = build_model(cfg.model, data.image_shape, data.train.n_classes, init=cfg.init, seed=seed)
        control = copy.deepcopy(model).eval()
        with _torch_threads(1):
            res = train_one(model, data.train.X, data.train.y, cfg.train_config(), seed=seed)
        timings["training_s"] += time.perf_counter() - t
        tick("training", i + 1, S)
        t = time.perf_counter()
        with _torch_threads(1):
            trained.append(measure_network(model, data, cfg, seed=seed, trained=True, examples=i == 0))
            random.append(measure_network(control, data, cfg, seed=seed, trained=False))
        timings["measuring_s"] += time.perf_counter() - t
        tick("measuring", i + 1, S)
        losses.append(res.loss)
        params.append({k: v.detach().numpy().copy() for k, v in model.state_dict().items()})
        init_params.append({k: v.detach().numpy().copy() for k, v in control.state_dict().items()})
        if i == 0:
            shown = {"trained": model, "random": control}
    t = time.perf_counter()
    units = cfg.unit_list() or default_units(trained[0], cfg.units_per_layer)
    featvis = []
    if units:
        tick("featvis", 0, 2)
        with _torch_threads(1):
            fv_t = feature_visualisation(shown["trained"], trained[0], units, data, cfg, cfg.seed_list[0])
            tick("featvis", 1, 2)
            fv_r = feature_visualisation(shown["random"], random[0], units, data, cfg, cfg.seed_list[0])
        tick("featvis", 2, 2)
        for layer, k in units:
            (it, at, ct), (ir, ar, cr) = fv_t[(layer, k)], fv_r[(layer, k)]
            featvis.append(FeatVisPair(layer, k, it, at, float(trained[0].layer(layer).top_act[0, k]),
                                       ir, ar, float(random[0].layer(layer).top_act[0, k]), ct, cr))
    timings["featvis_s"] = time.perf_counter() - t
    return HierarchyResult(cfg, data, trained, random, np.array(losses), params, init_params, featvis,
                           user_units=bool(cfg.units), timings=timings)
