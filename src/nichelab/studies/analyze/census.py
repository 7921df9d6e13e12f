"""The census of one layer: what every unit does on the analysed samples, and what the layer knows.

Pure numpy on captured activations (n_samples, n_units) plus, for ablation, the model itself.
Conventions (REFERENCES.md, "Per-unit measures"):

- A layer is *non-negative* when no activation is below 0 on the samples (ReLU-like). There a unit
  is dead when it is 0 on every sample or constant; in a signed layer (tanh, pre-activations) only
  when it is constant. The class selectivity index (Morcos et al. 2018) is computed on the raw
  activations of a non-negative layer and on ``acts - min over samples`` (per unit) of a signed one,
  so it stays in [0, 1]; it is NaN for dead units.
- Near-duplicates: units whose activations correlate with ``|r| >= threshold`` (linked in chains).
- A unit is *indispensable* when ablating it alone costs at least ``indispensable_overall``
  percentage points of overall accuracy, or ``indispensable_class`` points on one class.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ...errors import NichelabError
from ...interventions.ablation import AblationResult
from ...metrics.layers import correlation_groups, participation_ratio, unit_correlation_matrix
from ...metrics.probes import ProbeResult, linear_probe
from ...metrics.units import class_means, dead_units, preferred_class, selectivity_index, top_k, unit_stats
from .config import MAX_PROBE_FEATURES

__all__ = ["LayerCensus", "census_layer", "active_sides", "probe_layer", "ablation_drops", "spearman"]

#: Units active on fewer than this share of samples are "rarely active" (left out of selectivity rankings).
RARE = 0.01


@dataclass
class LayerCensus:
    """Per-unit and per-layer measures of one layer.

    Attributes
    ----------
    name : str
        The layer's ``named_modules()`` path (``name#k`` for the k-th extra call of a reused module).
    module_type : str
        ``"ReLU"``, ``"Linear"``, ``"ConvBlock"``, ...
    raw_shape : tuple of int
        Shape of one sample's output before reduction, e.g. ``(32,)`` or ``(8, 25, 25)``.
    reduce : str or None
        ``"mean"`` / ``"max"`` over space for conv outputs, None for dense outputs.
    signed : bool
        True when some activation is negative (dead = constant only; selectivity on shifted values).
    mean, std, frac_active : np.ndarray of shape (n_units,)
        ``frac_active``: share of samples with activation > 0.
    dead : np.ndarray of bool, shape (n_units,)
    class_means : np.ndarray of shape (n_classes, n_units)
        Mean activation per class (raw values; NaN for a class without samples).
    selectivity : np.ndarray of shape (n_units,)
        Class selectivity index in [0, 1]; NaN for dead units.
    preferred : np.ndarray of int64, shape (n_units,)
        Class with the largest mean activation; -1 when all class means are equal.
    partner : np.ndarray of int64, shape (n_units,)
        The unit most correlated with each unit (by ``|r|``), -1 for constant units or a 1-unit layer.
    partner_r : np.ndarray of shape (n_units,)
        That correlation (signed); NaN where ``partner`` is -1.
    groups : list of list of int
        Near-duplicate groups (size >= 2).
    participation_ratio : float
        Effective number of dimensions, in [1, n_units] (0 if every unit is constant).
    top : np.ndarray of int64, shape (k, n_units)
        Positions (in the analysed samples) of each unit's k largest activations.
    top_values : np.ndarray of shape (k, n_units)
        Those activations.
    probe : ProbeResult or None
    probe_note : str
        Why the probe is missing, if it is.
    probe_features : str
        What the probe read: ``"units"``, ``"full map"`` (a conv layer's flattened (C, H, W) output)
        or ``"spatial mean"`` / ``"spatial max"`` (one value per channel, for maps too large to flatten).
    ablation : AblationResult or None
    ablation_note : str
        Why the ablation is missing, if it is.
    active : np.ndarray of bool, shape (n_units, n_classes)
        Class ``c`` is on unit ``k``'s active side when more than half of its samples give the unit
        an activation > 0 (:func:`nichelab.metrics.active_classes`, the lab's class split).
    calls : int
        How many times the layer's module runs per forward pass (> 1: a reused module; this
        census is of the one call named by ``name``).
    """

    name: str
    module_type: str
    raw_shape: tuple
    reduce: str | None
    signed: bool
    mean: np.ndarray
    std: np.ndarray
    frac_active: np.ndarray
    dead: np.ndarray
    class_means: np.ndarray
    selectivity: np.ndarray
    preferred: np.ndarray
    partner: np.ndarray
    partner_r: np.ndarray
    groups: list
    participation_ratio: float
    top: np.ndarray
    top_values: np.ndarray
    probe: ProbeResult | None = None
    probe_note: str = ""
    probe_features: str = "units"
    ablation: AblationResult | None = None
    ablation_note: str = ""
    active: np.ndarray | None = None
    calls: int = 1

    @property
    def n_units(self) -> int:
        return len(self.dead)

    @property
    def kind(self) -> str:
        """``"conv"`` for outputs with spatial axes, else ``"dense"``."""
        return "conv" if len(self.raw_shape) > 1 else "dense"

    def unit(self, k: int) -> str:
        """``"L1:k"``."""
        return f"{self.name}:{k}"

    @property
    def mean_selectivity(self) -> float:
        """Mean selectivity of the live units (NaN when every unit is dead)."""
        live = self.selectivity[~self.dead & np.isfinite(self.selectivity)]
        return float(live.mean()) if live.size else float("nan")

    def rarely_active(self, min_frac: float = RARE) -> np.ndarray:
        """(n_units,) bool: live units of a non-negative layer active (> 0) on fewer than ``min_frac`` of the samples.

        Their selectivity rests on a handful of samples, so rankings leave them out.
        """
        if self.signed:
            return np.zeros(self.n_units, dtype=bool)
        return ~self.dead & (self.frac_active < min_frac)

    def ranked(self) -> np.ndarray:
        """Live units that are not rarely active, by decreasing selectivity (ties by index)."""
        ok = np.flatnonzero(~self.dead & ~self.rarely_active() & np.isfinite(self.selectivity))
        return ok[np.argsort(-self.selectivity[ok], kind="stable")]

    def group_of(self) -> np.ndarray:
        """(n_units,) index of each unit's near-duplicate group, -1 when it has none."""
        g = np.full(self.n_units, -1, dtype=np.int64)
        for i, members in enumerate(self.groups):
            g[members] = i
        return g


def _partners(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = r.shape[0]
    if n < 2:
        return np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
    a = np.abs(r)
    np.fill_diagonal(a, -1.0)
    best = a.argmax(axis=1)
    rows = np.arange(n)
    # constant units have an all-zero row, diagonal included (unit_correlation_matrix)
    none = (np.diag(r) == 0) | (a[rows, best] <= 0)
    val = r[rows, best]
    return np.where(none, -1, best).astype(np.int64), np.where(none, np.nan, val)


def census_layer(name: str, acts: np.ndarray, y: np.ndarray, n_classes: int, *, raw_shape: tuple,
                 module_type: str, reduce: str | None, threshold: float, k: int) -> LayerCensus:
    """Measure every unit of one layer.

    Parameters
    ----------
    name : str
    acts : np.ndarray of shape (n_samples, n_units)
        Conv layers already reduced over space.
    y : np.ndarray of int64, shape (n_samples,)
    n_classes : int
    raw_shape : tuple of int
        One sample's output shape before reduction.
    module_type : str
    reduce : {"mean", "max"} or None
    threshold : float
        Near-duplicate correlation threshold in (0, 1].
    k : int
        Top examples per unit (capped at n_samples).

    Returns
    -------
    LayerCensus
    """
    acts = np.asarray(acts)
    if acts.ndim == 1:
        acts = acts[:, None]
    signed = bool(acts.size and acts.min() < 0)
    stats = unit_stats(acts)
    dead = dead_units(acts, tol=-np.inf if signed else 0.0)
    shifted = acts - acts.min(axis=0) if signed else acts
    sel = selectivity_index(shifted, y, n_classes)
    sel[dead] = np.nan
    r = unit_correlation_matrix(acts)
    partner, partner_r = _partners(r)
    top = top_k(acts, min(k, len(acts)))
    return LayerCensus(
        name=name, module_type=module_type, raw_shape=tuple(raw_shape), reduce=reduce if len(raw_shape) > 1 else None,
        signed=signed, mean=stats["mean"], std=stats["std"], frac_active=stats["frac_active"], dead=dead,
        class_means=class_means(acts, y, n_classes), selectivity=sel, preferred=preferred_class(acts, y, n_classes),
        partner=partner, partner_r=partner_r, groups=correlation_groups(r, threshold),
        participation_ratio=participation_ratio(acts), top=top,
        top_values=acts[top, np.arange(acts.shape[1])[None, :]].astype(np.float64),
        active=active_sides(acts, y, n_classes))


def active_sides(acts: np.ndarray, y: np.ndarray, n_classes: int, *, rows: int = 4096) -> np.ndarray:
    """(n_units, n_classes) bool: more than half of class c's samples give unit k an activation > 0.

    The rule of :func:`nichelab.metrics.active_classes` (the lab's class split; a class without
    samples is never active), counted in row blocks so that no (n_samples, n_units) float64 copy
    is made: the counts are exact integers, so the result is the same.
    """
    acts = np.asarray(acts)
    on = np.zeros((n_classes, acts.shape[1]), dtype=np.int64)
    for start in range(0, len(acts), rows):
        block = acts[start:start + rows] > 0
        onehot = np.zeros((len(block), n_classes), dtype=np.float32)
        onehot[np.arange(len(block)), y[start:start + rows]] = 1.0
        on += np.rint(onehot.T @ block.astype(np.float32)).astype(np.int64)   # <= rows: exact in float32
    counts = np.bincount(y, minlength=n_classes)[:, None]
    return ((2 * on > counts) & (counts > 0)).T


def probe_layer(acts: np.ndarray, y: np.ndarray, seed: int) -> tuple[ProbeResult | None, str]:
    """A linear probe on a layer (or the input, flattened), or None and the reason it was skipped."""
    a = np.asarray(acts).reshape(len(acts), -1)
    if a.shape[1] > MAX_PROBE_FEATURES:
        return None, f"skipped: {a.shape[1]} features (> {MAX_PROBE_FEATURES})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return linear_probe(a, y, test_size=0.3, seed=seed), ""
    except NichelabError as exc:
        return None, f"skipped: {exc}"


def ablation_drops(res: AblationResult) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy lost by ablating each unit, in percentage points (positive = damage).

    Returns
    -------
    overall : np.ndarray of shape (n_units,)
    per_class : np.ndarray of shape (n_units, n_classes)
        NaN for classes without samples.
    """
    return -100.0 * res.delta_acc, -100.0 * res.delta_class_acc


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of the finite pairs; NaN with fewer than 5 pairs or a constant side."""
    from scipy.stats import spearmanr
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 5 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return float("nan")
    return float(spearmanr(a[ok], b[ok]).statistic)
