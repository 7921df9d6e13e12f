"""Orientation tuning: preferred angle and orientation selectivity of units shown oriented stimuli.

Stimuli are bars or gratings at angles ``theta`` in [0, pi) (see
:func:`nichelab.data.parts.oriented_bars` and :func:`~nichelab.data.parts.gratings`).
Each unit's responses are averaged per angle into a tuning curve ``r(theta)``, and summarised
by the vector sum on the doubled angle (orientation is periodic in pi)::

    z = sum_theta r(theta) exp(2 i theta)
    OSI = |z| / sum_theta r(theta)             (= 1 - circular variance), in [0, 1]
    preferred angle = arg(z) / 2  (mod pi)

OSI is 0 for a flat curve and 1 for a unit that answers one angle only. For a curve
``a + cos(2 (theta - theta0))`` (a >= 1) it is ``1 / (2a)``, so the default criterion
``OSI >= 0.3`` means, for such a unit, at least 4 times more response at the preferred angle
than at the orthogonal one; a half-wave rectified cosine scores pi/4 = 0.79.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import NichelabError
from ._validate import check_finite, check_number, real_array

__all__ = ["OSI_THRESHOLD", "TuningResult", "tuning_curves", "orientation_selectivity", "orientation_tuning"]

#: A unit is called orientation-selective when its OSI (1 - circular variance) is at least this.
OSI_THRESHOLD = 0.3


def _responses(responses, n_stimuli_name: str = "angles") -> np.ndarray:
    r = real_array(responses, "responses")      # complex is refused, never truncated
    if r.ndim == 1:
        r = r[:, None]
    if r.ndim != 2 or r.shape[0] == 0:
        raise NichelabError(f"responses must have shape (n_stimuli, n_units); got shape {r.shape}")
    r = r.astype(np.float64)
    check_finite(r, "responses")
    if r.size and r.min() < 0:
        raise NichelabError(
            f"responses must be non-negative (e.g. ReLU outputs); got minimum {r.min():.4g}; "
            "shift signed responses first, e.g. r - r.min(axis=0)")
    return r


def _angles(angles, n: int) -> np.ndarray:
    a = real_array(angles, "angles")
    if a.shape != (n,):
        raise NichelabError(f"angles must have shape ({n},), one angle per stimulus; got shape {a.shape}")
    a = a.astype(np.float64)
    check_finite(a, "angles")
    return a


def tuning_curves(responses, angles, conditions=None):
    """Mean response of every unit at every angle, at each unit's preferred condition.

    Parameters
    ----------
    responses : array of shape (n_stimuli, n_units) or (n_stimuli,)
        (1-D: one unit, the same as ``responses[:, None]``).
        Non-negative responses (e.g. ReLU outputs reduced over space).
    angles : array of shape (n_stimuli,)
        Stimulus orientation in radians (taken mod pi).
    conditions : array of shape (n_stimuli,), optional
        Another stimulus parameter (e.g. spatial frequency). Curves are computed per condition
        and each unit keeps the condition with its largest mean response; the other stimulus
        parameters (phases, positions) are averaged.

    Returns
    -------
    angles : numpy.ndarray of float64, shape (n_angles,)
        The distinct angles mod pi, ascending.
    curves : numpy.ndarray of float64, shape (n_angles, n_units)
    preferred_condition : numpy.ndarray of shape (n_units,)
        The condition value each unit's curve comes from (all equal when ``conditions`` is None).

    Raises
    ------
    NichelabError
        Bad shapes, negative or non-finite responses, or a condition that lacks some angle.

    Example
    -------
    >>> th, curves, _ = tuning_curves([[1.0], [3.0], [2.0]], [0.0, np.pi / 2, np.pi])
    >>> th.tolist(), curves[:, 0].tolist()
    ([0.0, 1.5707963267948966], [1.5, 3.0])
    """
    r = _responses(responses)
    a = np.mod(_angles(angles, r.shape[0]), np.pi)
    a = np.where(np.isclose(a, np.pi), 0.0, a)
    _, first, inv = np.unique(np.round(a, 9), return_index=True, return_inverse=True)   # equal up to rounding
    uniq = a[first]
    cond = np.zeros(r.shape[0]) if conditions is None else real_array(conditions, "conditions")
    if cond.shape != (r.shape[0],):
        raise NichelabError(
            f"conditions must have shape ({r.shape[0]},), one entry per stimulus; got shape {cond.shape}")
    if cond.dtype.kind == "f":
        check_finite(cond, "conditions")
    levels, cinv = np.unique(cond, return_inverse=True)
    counts = np.zeros((len(levels), len(uniq)))
    np.add.at(counts, (cinv, inv), 1.0)
    if (counts == 0).any():
        raise NichelabError("every condition must include every angle; some (condition, angle) pair has no stimulus")
    sums = np.zeros((len(levels), len(uniq), r.shape[1]))
    np.add.at(sums, (cinv, inv), r)
    curves = sums / counts[:, :, None]                      # (n_levels, n_angles, n_units)
    best = curves.mean(axis=1).argmax(axis=0)               # (n_units,)
    return uniq, curves[best, :, np.arange(r.shape[1])].T, levels[best]


def orientation_selectivity(curves, angles) -> tuple[np.ndarray, np.ndarray]:
    """OSI (1 - circular variance) and preferred orientation of tuning curves.

    Parameters
    ----------
    curves : array of shape (n_angles, n_units) or (n_angles,) (one unit)
        Non-negative mean responses per angle (see :func:`tuning_curves`).
    angles : array of shape (n_angles,)
        Radians; orientation is periodic in pi.

    Returns
    -------
    osi : numpy.ndarray of float64, shape (n_units,)
        ``|sum r exp(2i theta)| / sum r`` in [0, 1]; NaN for a unit with zero response to
        every angle (dead: no tuning defined).
    preferred : numpy.ndarray of float64, shape (n_units,)
        ``arg(sum r exp(2i theta)) / 2`` in [0, pi); NaN where ``osi`` is NaN.

    Raises
    ------
    NichelabError
        Bad shapes, negative or non-finite values.

    Example
    -------
    >>> osi, pref = orientation_selectivity([[0.0], [1.0], [0.0], [0.0]], np.arange(4) * np.pi / 4)
    >>> float(osi[0]), float(pref[0])
    (1.0, 0.7853981633974483)

    References
    ----------
    Ringach, Shapley & Hawken 2002, "Orientation selectivity in macaque V1: diversity and
    laminar dependence", J. Neurosci. (1 - circular variance).
    """
    r = _responses(curves)
    a = _angles(angles, r.shape[0])
    z = (r * np.exp(2j * a)[:, None]).sum(axis=0)
    total = r.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        osi = np.where(total > 0, np.abs(z) / total, np.nan)
    pref = np.where(total > 0, np.mod(np.angle(z) / 2, np.pi), np.nan)
    return np.clip(osi, 0.0, 1.0), pref


@dataclass(frozen=True)
class TuningResult:
    """Orientation tuning of a layer's units.

    Attributes
    ----------
    angles : (n_angles,) float64 — radians in [0, pi).
    curves : (n_angles, n_units) float64 — mean response per angle.
    osi : (n_units,) float64 — 1 - circular variance; NaN for units silent to every stimulus.
    preferred : (n_units,) float64 — preferred orientation in radians; NaN with ``osi``.
    selective : (n_units,) bool — ``osi >= threshold``.
    threshold : float
    condition : (n_units,) — the stimulus condition each curve was taken at.
    """

    angles: np.ndarray
    curves: np.ndarray
    osi: np.ndarray
    preferred: np.ndarray
    selective: np.ndarray
    threshold: float
    condition: np.ndarray

    @property
    def selective_fraction(self) -> float:
        """Share of the layer's units that are orientation-selective (silent units count as not)."""
        return float(self.selective.mean()) if self.selective.size else float("nan")


def orientation_tuning(responses, angles, conditions=None, *, threshold: float = OSI_THRESHOLD) -> TuningResult:
    """Tuning curves, OSI, preferred orientation and the orientation-selective units.

    Parameters
    ----------
    responses : array of shape (n_stimuli, n_units) or (n_stimuli,)
        (1-D: one unit, the same as ``responses[:, None]``).
        Non-negative responses to oriented stimuli.
    angles : array of shape (n_stimuli,)
        Stimulus orientations in radians.
    conditions : array of shape (n_stimuli,), optional
        E.g. the spatial frequency of each grating; see :func:`tuning_curves`.
    threshold : float, default 0.3
        A unit is orientation-selective when its OSI is at least this.

    Returns
    -------
    TuningResult

    Raises
    ------
    NichelabError
        As :func:`tuning_curves`; ``threshold`` outside [0, 1] or NaN.

    Example
    -------
    >>> th = np.arange(8) * np.pi / 8
    >>> res = orientation_tuning(np.maximum(np.cos(2 * (th - np.pi / 2)), 0)[:, None], th)
    >>> bool(res.selective[0]), round(float(res.preferred[0]), 3)
    (True, 1.571)

    References
    ----------
    Hubel & Wiesel 1962 (orientation tuning); Ringach, Shapley & Hawken 2002 (circular variance).
    """
    threshold = check_number("threshold", threshold, lo=0.0, hi=1.0)
    th, curves, cond = tuning_curves(responses, angles, conditions)
    osi, pref = orientation_selectivity(curves, th)
    with np.errstate(invalid="ignore"):
        selective = np.nan_to_num(osi, nan=-1.0) >= threshold
    return TuningResult(th, curves, osi, pref, selective, float(threshold), cond)
