"""Figure-ready numbers of the width study, computed once here so figures only draw.

The census figure draws, per dataset and measure, the mean over seeds at every width with the
range from the lowest to the highest seed; the unit-lines figure draws, for a few widths of the
blobs, each unit's line ``w.x + b = 0`` coloured by the class split it makes.
"""
from __future__ import annotations

import numpy as np

from .analysis import DatasetWidths
from .findings import seed_values
from .result import CensusSeries, UnitLines, WidthViews

__all__ = ["CENSUS_MEASURES", "SHOWN_WIDTHS", "census_series", "unit_lines", "width_views"]

#: Measures of the census figure, in panel order.
CENSUS_MEASURES = ("accuracy", "dead", "dup_units", "partitions", "participation", "frivolous")
#: Widths whose blob units are drawn (those that were trained; else the three widest).
SHOWN_WIDTHS = (4, 16, 128)


def width_views(datasets: dict[str, DatasetWidths], widths: list[int]) -> WidthViews:
    """Every figure's numbers: the census series, and the blob networks' unit lines (when blobs ran).

    The blob points drawn under the lines are rounded to 4 decimals (drawn, not measured).
    """
    views = WidthViews(widths=list(widths), census=census_series(datasets, widths))
    if "blobs" in datasets:
        d = datasets["blobs"]
        views.points_X, views.points_y = np.round(np.asarray(d.eval.X, float), 4), np.asarray(d.eval.y)
        views.unit_lines = unit_lines(d)
    return views


def census_series(datasets: dict[str, DatasetWidths], widths: list[int]) -> dict[str, dict[str, CensusSeries]]:
    """``{dataset: {measure: CensusSeries}}``: mean, lowest and highest seed per width (NaN: undefined)."""
    series = {}
    for name, d in datasets.items():
        series[name] = {}
        for key in CENSUS_MEASURES:
            vals = [seed_values(d, w, key) if w in d.runs else np.full(len(d.seeds), np.nan) for w in widths]
            with np.errstate(all="ignore"):
                mean, low, high = (np.array([f(v) if np.isfinite(v).any() else np.nan for v in vals])
                                   for f in (np.nanmean, np.nanmin, np.nanmax))
            series[name][key] = CensusSeries(mean, low, high)
    return series


def unit_lines(d: DatasetWidths) -> list[UnitLines]:
    """The first seed's L1 lines at a few widths (:data:`SHOWN_WIDTHS`, else the three widest) of the blobs."""
    out = []
    for w in [w for w in SHOWN_WIDTHS if w in d.runs] or d.widths[-3:]:
        r = d.runs[w]
        keys = list(r.splits[0])
        out.append(UnitLines(width=int(w), seed=int(d.seeds[0]), W=np.asarray(r.params["L1.linear.weight"][0], float),
                             b=np.asarray(r.params["L1.linear.bias"][0], float), keys=keys,
                             n_splits=len({k for k in keys if k != "dead"}), n_dead=keys.count("dead")))
    return out
