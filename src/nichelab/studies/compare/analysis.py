"""Unit matching between one layer of A and one layer of B, and its summary (pure numpy)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...metrics.matching import UnitMatch, match_units
from ...metrics.prediction import linear_prediction
from ...metrics.similarity import linear_cka
from ...metrics.units import constant_units
from .config import CompareConfig
from .findings import EXACT, layer_verdict

__all__ = ["PairMatch", "match_pair", "pair_name", "EXACT"]

def pair_name(layer_a: str, layer_b: str) -> str:
    """``"L1"`` when both layers have that name, else ``"L1=block.0"``."""
    return layer_a if layer_a == layer_b else f"{layer_a}={layer_b}"


@dataclass
class PairMatch:
    """Unit matching between layer ``layer_a`` of A and ``layer_b`` of B.

    Attributes
    ----------
    layer_a, layer_b : str
    match : UnitMatch — correlations, one-to-one pairs, semi-matching.
    dead_a, dead_b : (d_a,), (d_b,) bool — units constant on the data.
    linpred : (d_a,) float — held-out correlation of each A unit with its best linear prediction from
        all of B's units (fitted on one half of the samples, measured on the other; NaN when the
        half has too few samples for the fit).
    linear_cka : float — linear CKA of the two layers.
    """

    layer_a: str
    layer_b: str
    match: UnitMatch
    dead_a: np.ndarray
    dead_b: np.ndarray
    linpred: np.ndarray
    linear_cka: float

    @property
    def live_matched(self) -> np.ndarray:
        """One-to-one matched correlations of A's live units (NaN: left unmatched, B is narrower)."""
        return self.match.matched_corr[~self.dead_a]

    def summary(self, cfg: CompareConfig) -> dict:
        """Unit-level and subspace-level agreement of the pair, and the verdict."""
        m = np.nan_to_num(self.live_matched, nan=-1.0)
        s = self.match.semi_corr[~self.dead_a]
        lp = self.linpred[~self.dead_a]
        lp = lp[np.isfinite(lp)]
        n = int(m.size)
        live = self.live_matched[np.isfinite(self.live_matched)]
        n_high = int(np.sum(m >= cfg.threshold_high))
        frac_high = n_high / n if n else float("nan")
        out = {
            "layer_a": self.layer_a, "layer_b": self.layer_b,
            "units_a": int(self.dead_a.size), "units_b": int(self.dead_b.size),
            "dead_a": int(self.dead_a.sum()), "dead_b": int(self.dead_b.sum()),
            "matched_mean": float(np.mean(live)) if live.size else float("nan"),
            "matched_min": float(np.min(live)) if live.size else float("nan"),
            "frac_high": frac_high,
            "frac_low": float(np.mean(m >= cfg.threshold_low)) if n else float("nan"),
            "frac_none": float(np.mean(m < cfg.threshold_low)) if n else float("nan"),
            "semi_mean": float(np.mean(s)) if s.size else float("nan"),
            "linpred_median": float(np.median(lp)) if lp.size else float("nan"),
            "linear_cka": self.linear_cka,
            "n_live": n, "n_high": n_high, "n_none": int(np.sum(m < cfg.threshold_low)),
        }
        out["permutation"] = bool(n and self.dead_a.size == self.dead_b.size and self.dead_a.sum() == self.dead_b.sum()
                                  and np.all(m >= EXACT))
        out["verdict"] = layer_verdict(n_high, n, self.linear_cka, cfg.majority, cfg.subspace_high, out["permutation"])
        return out

    def to_dict(self, cfg: CompareConfig) -> dict:
        """Summary plus every unit's match (``L:k`` names), the correlation matrix included."""
        d = self.summary(cfg)
        d["match"] = self.match.to_dict(include_corr=True)
        d["units"] = [{"name": f"{self.layer_a}:{i}", "dead": bool(self.dead_a[i]),
                       "partner": f"{self.layer_b}:{j}", "matched_corr": self.match.matched_corr[i],
                       "semi_partner": f"{self.layer_b}:{int(self.match.semi_match[i])}",
                       "semi_corr": self.match.semi_corr[i], "linear_combination_corr": self.linpred[i]}
                      for i, j in self.match.pairs.tolist()]
        return d


def match_pair(cfg: CompareConfig, xa: np.ndarray, xb: np.ndarray, la: str, lb: str, order: np.ndarray) -> PairMatch:
    """Match the units of ``xa`` (n, d_a) with those of ``xb`` (n, d_b); ``order`` is a permutation of
    the n samples whose first half fits the linear prediction and second half measures it."""
    um = match_units(xa, xb, cfg.threshold_high, cfg.threshold_low)
    half = len(order) // 2
    fit, test = order[:half], order[half:]
    if half > xb.shape[1] + 1:
        lp = linear_prediction(xb[fit], xa[fit], xb[test], xa[test])
    else:
        lp = np.full(xa.shape[1], np.nan)
    return PairMatch(la, lb, um, constant_units(xa), constant_units(xb), lp, linear_cka(xa, xb, debiased=cfg.debiased))
