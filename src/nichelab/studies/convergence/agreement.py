"""Same units, or only the same subspace? The thresholds and the verdict shared by the convergence
and compare studies, declared once (stdlib only: imported by the configs).

A unit *has a counterpart* when its one-to-one matched activation correlation (Hungarian
matching, Li et al. 2015) reaches ``threshold_high``, and *none* below ``threshold_low``. A layer
holds *the same units* when at least ``majority`` of its live units have a counterpart, else
*the same subspace, different units* when its linear CKA reaches ``subspace_high``, else it is
*partly shared*.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ...options import option

__all__ = ["AgreementOptions", "VERDICTS", "SHORT_VERDICT", "verdict", "group_verdicts", "overall_phrase"]

#: Verdicts on one layer, from the strongest agreement to the weakest.
VERDICTS = ("same units", "same subspace, different units", "partly shared")
#: Verdicts abbreviated for the terminal table.
SHORT_VERDICT = {VERDICTS[0]: "units", VERDICTS[1]: "subspace", VERDICTS[2]: "partly"}


@dataclass
class AgreementOptions:
    """The thresholds of the verdicts, and BLAS threads of the analysis."""

    threshold_high: float = option(0.9, help="Matched correlation at which a unit 'has a counterpart'.",
                                   ge=-1.0, le=1.0)
    threshold_low: float = option(0.5, help="Matched correlation below which a unit has 'no counterpart'.",
                                  ge=-1.0, le=1.0)
    majority: float = option(0.5, help="Share of live units with a counterpart at which a layer holds "
                                       "'the same units'.", gt=0.0, le=1.0)
    subspace_high: float = option(0.8, help="Linear CKA at which a layer shares 'the same subspace'.",
                                  ge=0.0, le=1.0)
    threads: int | None = option(1, help="BLAS threads during the analysis (one is fastest for these small "
                                         "matrices).", ge=1, le=1024)

    def check_thresholds(self) -> None:
        """threshold_low <= threshold_high (call from ``check``)."""
        if self.threshold_low > self.threshold_high:
            raise self.field_error("threshold_low", f"must be <= threshold_high ({self.threshold_high})",
                                   self.threshold_low)


def verdict(frac_high: float, cka: float, majority: float = 0.5, subspace_high: float = 0.8) -> str:
    """One layer's answer to "same units, or only the same subspace?".

    ``"same units"`` when at least ``majority`` of the live units have a one-to-one counterpart
    (``frac_high``); else ``"same subspace, different units"`` when the layer's linear CKA reaches
    ``subspace_high``; else ``"partly shared"``. NaN never passes a rule.
    """
    if frac_high is not None and math.isfinite(frac_high) and frac_high >= majority:
        return VERDICTS[0]
    if cka is not None and math.isfinite(cka) and cka >= subspace_high:
        return VERDICTS[1]
    return VERDICTS[2]


def group_verdicts(items: list[tuple[str, str]]) -> str:
    """``[("L1", "same units"), ("L2", "partly shared"), ("L3", "same units")]`` ->
    ``"same units in L1, L3; partly shared in L2"``."""
    groups: dict[str, list[str]] = {}
    for layer, v in items:
        groups.setdefault(v, []).append(layer)
    return "; ".join(f"{v} in {', '.join(groups[v])}" for v in VERDICTS if v in groups)


def overall_phrase(items: list[tuple[str, str]]) -> str | None:
    """``"the same units"`` or ``"the same subspace, not the same units"`` when every layer agrees
    on that verdict; else None."""
    verdicts = {v for _, v in items}
    if verdicts == {VERDICTS[0]}:
        return "the same units"
    if verdicts == {VERDICTS[1]}:
        return "the same subspace, not the same units"
    return None
