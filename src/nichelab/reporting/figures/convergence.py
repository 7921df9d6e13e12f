"""Figures of the convergence study and of ``nichelab compare``.

Every function takes already-computed arrays and returns PNG bytes; nothing here measures, sorts
or picks: matching matrices come reordered and the best column of each heatmap row comes marked
(:mod:`nichelab.studies.convergence.views`).
"""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Patch, Rectangle

from ..style import DIV_CMAP, OKABE_ITO, SEQ_CMAP, new_figure, to_png

__all__ = ["fig_unit_distributions", "fig_unit_shares", "fig_contrast", "fig_layer_heatmaps",
           "fig_identification", "fig_matching_matrices"]

_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
_LINES = ["-", "--", "-.", ":"]


def _threshold_lines(ax, thresholds, horizontal: bool = True):
    for t, style in zip(thresholds, ("--", ":")):
        (ax.axhline if horizontal else ax.axvline)(t, color="#555555", ls=style, lw=1,
                                                   label=f"threshold {t:g}")


def fig_unit_distributions(layers: list[str], series: dict[str, list[np.ndarray]],
                           thresholds: tuple[float, float] = (0.9, 0.5), note: str = "") -> bytes:
    """Per layer, the distribution of units' agreement with another network, one violin per kind.

    Parameters
    ----------
    layers : list of str
    series : dict label -> list (one per layer) of 1-D arrays of finite correlations
        E.g. ``{"one-to-one match": [...], "best single partner": [...], "linear combination": [...]}``.
    thresholds : (high, low)
        Drawn as dashed and dotted lines.
    note : str
        Appended to the x-axis label (e.g. "live units, all seed pairs").
    """
    k = len(series)
    fig, axes = new_figure(1, 1, width=max(6.0, 0.5 * len(layers) * max(k, 1) + 3.0), height=3.6)
    ax = axes[0, 0]
    width = 0.8 / max(k, 1)
    handles = []
    for s, (label, values) in enumerate(series.items()):
        color = OKABE_ITO[s % len(OKABE_ITO)]
        pos = [li + (s - (k - 1) / 2) * width for li in range(len(layers))]
        data = [np.asarray(v, float) for v in values]
        keep = [i for i, d in enumerate(data) if d.size]
        if keep:
            parts = ax.violinplot([data[i] for i in keep], positions=[pos[i] for i in keep], widths=width * 0.9,
                                  showmedians=True, showextrema=False)
            for body in parts["bodies"]:
                body.set_facecolor(color)
                body.set_edgecolor("black")
                body.set_linewidth(0.5)
                body.set_alpha(0.75)
                if s % 2:
                    body.set_hatch("//")
            parts["cmedians"].set_color("black")
        handles.append(Patch(facecolor=color, edgecolor="black", hatch="//" if s % 2 else None, label=label))
    _threshold_lines(ax, thresholds)
    line_handles, _ = ax.get_legend_handles_labels()
    ax.set_xticks(range(len(layers)), layers)
    ax.set_xlabel("layer" + (f" ({note})" if note else ""))
    ax.set_ylabel("correlation with the other network\n(Pearson r, held-out data)")
    ax.set_ylim(min(-0.05, ax.get_ylim()[0]), 1.02)
    ax.legend(handles=handles + line_handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1),
              title="black bar: median", title_fontsize=7)
    return to_png(fig)


def fig_unit_shares(layers: list[str], shares: dict[str, np.ndarray], n_label: str = "") -> bytes:
    """Stacked bars per layer: share of units with a close counterpart, a loose one, none, or dead.

    ``shares``: label -> (L,) fractions (summing to 1 per layer), drawn in the given order.
    """
    fig, axes = new_figure(1, 1, width=6.2, height=0.45 * max(len(layers), 3) + 1.3)
    ax = axes[0, 0]
    left = np.zeros(len(layers))
    colors = [OKABE_ITO[2], OKABE_ITO[4], OKABE_ITO[5], "#BBBBBB"]
    hatches = [None, "..", "//", "xx"]
    y = np.arange(len(layers))[::-1]
    for s, (label, vals) in enumerate(shares.items()):
        v = 100 * np.nan_to_num(np.asarray(vals, float))
        bars = ax.barh(y, v, left=left, color=colors[s % 4], hatch=hatches[s % 4], edgecolor="black", lw=0.5,
                       label=label)
        texts = ax.bar_label(bars, labels=[f"{x:.0f}%" if x >= 6 else "" for x in v], label_type="center", fontsize=7)
        for t in texts:
            t.set_bbox(dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))
        left += v
    ax.set_yticks(y, layers)
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of units (%)" + (f", {n_label}" if n_label else ""))
    ax.set_ylabel("layer")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return to_png(fig)


def fig_contrast(layers: list[str], series: dict[str, np.ndarray], baselines: dict[str, np.ndarray] | None = None,
                 shade_last: bool = False) -> bytes:
    """Unit-level vs subspace-level agreement per layer, one line per measure (0-1 scale).

    ``series``: label -> (L,) values; ``baselines``: label -> (L,) values drawn dashed and grey
    (e.g. against an untrained network). ``shade_last`` greys the last layer (the output).
    """
    fig, axes = new_figure(1, 1, width=max(6.0, 1.0 * len(layers) + 3.5), height=3.8)
    ax = axes[0, 0]
    x = np.arange(len(layers))
    for s, (label, vals) in enumerate(series.items()):
        ax.plot(x, vals, marker=_MARKERS[s % len(_MARKERS)], ls=_LINES[s % len(_LINES)], lw=1.8, ms=6,
                color=OKABE_ITO[s % len(OKABE_ITO)], label=label)
    for s, (label, vals) in enumerate((baselines or {}).items()):
        ax.plot(x, vals, marker=_MARKERS[(s + 5) % len(_MARKERS)], ls=":", lw=1.4, ms=5, color=["#777777", "#000000"][s % 2],
                mfc="white", label=label)
    if shade_last and len(layers) > 1:
        ax.axvspan(len(layers) - 1.5, len(layers) - 0.5, color="#DDDDDD", zorder=0, label="output layer (logits)")
    ax.set_xticks(x, layers)
    ax.set_xlim(-0.5, len(layers) - 0.5)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("layer")
    ax.set_ylabel("agreement between seeds\n(0 = none, 1 = identical)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return to_png(fig)


def fig_layer_heatmaps(rows: list[str], cols: list[str], mats: dict[str, np.ndarray],
                       lower_is_better: frozenset | set = frozenset(), row_label: str = "layer of network A",
                       col_label: str = "layer of network B", best: dict[str, list[int]] | None = None) -> bytes:
    """Layers-by-layers similarity, one panel per measure, values written in the cells.

    The diagonal is outlined when rows and columns have the same names; ``best`` (label -> the
    most similar column of each row, -1 for none) is drawn as white dots. Measures in
    ``lower_is_better`` are distances (reversed colours).
    """
    k = len(mats)
    ncols = min(k, 3)
    size = 0.55 * max(len(rows), len(cols)) + 1.8
    fig, axes = new_figure(ncols, int(np.ceil(k / ncols)), width=size + 1.0, height=size)
    same = rows == cols
    for ax, (label, m) in zip(axes.flat, mats.items()):
        m = np.asarray(m, float)
        dist = label in lower_is_better
        finite = m[np.isfinite(m)]
        # colours span the data (rounded out to 0.05, at least 0.1 wide) so that differences between
        # layers show; the numbers in the cells carry the absolute values
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        vmin, vmax = np.floor(20 * lo) / 20, np.ceil(20 * hi) / 20
        vmin = min(vmin, vmax - 0.1)
        im = ax.imshow(m, cmap=SEQ_CMAP + ("_r" if dist else ""), vmin=vmin, vmax=vmax, aspect="auto")
        fig.colorbar(im, ax=ax, label=label + (" (lower = more similar)" if dist else " (higher = more similar)"),
                     shrink=0.85)
        if len(rows) * len(cols) <= 144:
            for i in range(m.shape[0]):
                for j in range(m.shape[1]):
                    if np.isfinite(m[i, j]):
                        frac = (m[i, j] - vmin) / (vmax - vmin or 1)
                        light = (1 - frac) if dist else frac
                        ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=7,
                                color="black" if light > 0.6 else "white")
        if same:
            for i in range(len(rows)):
                ax.add_patch(Rectangle((i - 0.5, i - 0.5), 1, 1, fill=False, ec=OKABE_ITO[1], lw=2))
        if best and label in best and m.shape[1] > 1:
            for i, j in enumerate(best[label]):
                if j >= 0:
                    ax.plot(int(j) + 0.32, i - 0.3, "o", ms=4, mfc="white", mec="black", mew=0.6)
        slanted = max(map(len, cols)) > 4
        ax.set_xticks(range(len(cols)), cols, rotation=45 if slanted else 0, ha="right" if slanted else "center")
        ax.set_yticks(range(len(rows)), rows)
        ax.set_xlabel(col_label)
        ax.set_ylabel(row_label)
        ax.set_title(label, fontsize=10)
    for ax in list(axes.flat)[k:]:
        ax.set_visible(False)
    return to_png(fig)


def fig_identification(labels: list[str], overall: np.ndarray, per_layer: np.ndarray, layers: list[str],
                       chance: float, references: dict[str, float] | None = None) -> bytes:
    """Layer identification: overall accuracy per measure (left), and per layer (right).

    ``references``: measure label -> published accuracy, drawn as black diamonds.
    """
    fig, axes = new_figure(2, 1, width=4.6, height=0.42 * max(len(labels), 4) + 1.6)
    ax = axes[0, 0]
    y = np.arange(len(labels))[::-1]
    ax.barh(y, 100 * np.asarray(overall), color=OKABE_ITO[0], edgecolor="black", lw=0.5, label="this run")
    for yi, v in zip(y, overall):
        ax.text(min(100 * v + 2, 88), yi, f"{100 * v:.0f}%", va="center", fontsize=7)
    ax.axvline(100 * chance, color=OKABE_ITO[5], ls="--", lw=1.2, label=f"chance (1/{len(layers)})")
    if references:
        ref_y = [yi for yi, lab in zip(y, labels) if lab in references]
        ref_v = [100 * references[lab] for lab in labels if lab in references]
        ax.plot(ref_v, ref_y, "D", color="black", ms=5, label="Kornblith et al. 2019")
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 105)
    ax.set_xlabel("layer identified correctly (%)")
    ax.set_ylabel("similarity measure")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3, frameon=False)
    ax = axes[0, 1]
    im = ax.imshow(100 * np.asarray(per_layer), cmap=SEQ_CMAP, vmin=0, vmax=100, aspect="auto")
    fig.colorbar(im, ax=ax, label="identified correctly (%)")
    for i in range(per_layer.shape[0]):
        for j in range(per_layer.shape[1]):
            v = 100 * per_layer[i, j]
            ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7, color="black" if v > 60 else "white")
    ax.set_xticks(range(len(layers)), layers)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("layer of seed i")
    ax.set_ylabel("similarity measure")
    return to_png(fig)


def fig_matching_matrices(panels: list[dict], a_label: str = "network A", b_label: str = "network B") -> bytes:
    """Unit correlation matrices reordered so that one-to-one matches sit on the diagonal.

    ``panels``: per layer ``{"title": str, "matrix": (d1, d2)}``, already reordered (best match
    first; :func:`nichelab.studies.convergence.views.matching_panel`). A bright diagonal that fades
    slowly means most units have a counterpart; a diagonal that fades fast means few do.
    """
    n = len(panels)
    ncols = min(n, 3)
    fig, axes = new_figure(ncols, int(np.ceil(n / ncols)), width=3.4, height=3.0)
    im = None
    for ax, panel in zip(axes.flat, panels):
        im = ax.imshow(np.asarray(panel["matrix"], float), cmap=DIV_CMAP, vmin=-1, vmax=1, interpolation="nearest")
        ax.set_title(panel["title"], fontsize=9)
        ax.set_xlabel(f"unit of {b_label} (matched order)")
        ax.set_ylabel(f"unit of {a_label}\n(sorted by matched r)")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    if im is not None:
        fig.colorbar(im, ax=axes.ravel().tolist(), label="activation correlation (Pearson r)", shrink=0.8)
    return to_png(fig)


# --- interactive charts (Vega-Lite specs built with Altair, drawn in the browser) ---------------------
#
# Named datasets (arranged by pages/convergence.py and pages/compare.py):
#
# - heat rows: ``m`` (measure key), ``a``, ``b`` (layer names), ``i``, ``j`` (their order), ``v``
#   (value), ``s`` (shade in [0, 1]: 1 = the most similar cell of that measure's panel), ``best``
#   (the row's most similar column), ``same`` (same layer name), ``pair`` (key of the layer pair's
#   unit matching, or null when none was measured), ``lab`` (the measure's label).
# - match rows: ``pair``, ``k`` (rank, best first), ``ua``, ``ub`` (unit names), ``r`` (matched
#   correlation), ``band`` (counterpart / loose / none / dead: a constant unit of A).
#
# Page parameters: ``measure`` (string, when several measures exist) and ``pair`` (string).

import altair as alt  # noqa: E402

from ..charts import OKABE_ITO as OI, axis  # noqa: E402

BANDS = ["counterpart", "loose", "none", "dead"]
_LINE_COLOURS = [OI[0], OI[1], OI[2], OI[3], OI[4], OI[5], OI[7]]  # Okabe-Ito without yellow (faint on white)
BAND_COLOURS = [OI[2], OI[1], OI[5], "#999999"]


def _leaf(data: str, transforms: list, fn) -> dict:
    d = fn(alt.Chart(alt.Data(name=data), transform=transforms or alt.Undefined)).to_dict(validate=False)
    d.pop("$schema", None)
    d.pop("config", None)
    return d


def layer_heatmap(data: str, rows: list[str], cols: list[str], row_title: str, col_title: str,
                  measure: str | None = None, pair: str | None = None, text: bool = True) -> dict:
    """Layers-by-layers similarity heatmap; clicking a cell selects its layer pair.

    Parameters
    ----------
    data : str — named dataset of heat rows (see module notes).
    rows, cols : list of str — layer names (y from top, x from left).
    row_title, col_title : str — axis titles.
    measure : str, optional — initial measure; given, the chart shows the rows of page parameter
        ``measure`` only.
    pair : str, optional — initial layer pair; given, the selected pair's cell is outlined in black.
    text : bool — write each cell's value in it.
    """
    step = max(34, min(72, 480 // max(len(rows), len(cols), 1)))
    filt = [{"filter": "datum.m == measure"}] if measure is not None else []
    x = alt.X("b:N", sort=list(cols), axis=alt.Axis(**axis(col_title, labelAngle=-40 if max(map(len, cols)) > 5 else 0,
                                                           labelLimit=140)))
    y = alt.Y("a:N", sort=list(rows), axis=alt.Axis(**axis(row_title, labelLimit=140)))
    tips = [alt.Tooltip("lab:N", title="measure"), alt.Tooltip("a:N", title=row_title),
            alt.Tooltip("b:N", title=col_title), alt.Tooltip("v:Q", title="value", format=".3f"),
            alt.Tooltip("bestText:N", title="most similar in its row"), alt.Tooltip("clickText:N", title="click")]
    calc = [{"calculate": "datum.best ? 'yes' : 'no'", "as": "bestText"},
            {"calculate": "datum.pair ? 'shows its matched units below' : 'no unit matching measured'",
             "as": "clickText"}]
    cells = _leaf(data, filt + calc, lambda c: c.mark_rect(cursor="pointer").encode(
        x=x, y=y, color=alt.Color("s:Q", scale=alt.Scale(scheme="viridis", domain=[0, 1]),
                                  legend=alt.Legend(title=["relative similarity", "(1 = most similar)"], orient="right",
                                                    titleFontSize=12, labelFontSize=11, gradientLength=160)),
        tooltip=tips))
    layers = [cells]
    if text:
        layers.append(_leaf(data, filt + calc, lambda c: c.mark_text(fontSize=12, dy=-5).encode(
            x=x, y=y, text=alt.Text("v:Q", format=".2f"),
            color=alt.condition("datum.s > 0.55", alt.value("black"), alt.value("white")), tooltip=tips)))
    layers.append(_leaf(data, filt + calc + [{"filter": "datum.best"}], lambda c: c.mark_point(
        shape="circle", filled=True, size=45, yOffset=10, stroke="black", strokeWidth=0.8).encode(
        x=x, y=y, fill=alt.value("white"), tooltip=tips)))
    layers.append(_leaf(data, filt + [{"filter": "datum.same"}], lambda c: c.mark_rect(
        fill=None, stroke=OI[1], strokeWidth=2.5).encode(x=x, y=y)))
    if pair is not None:
        layers.append(_leaf(data, filt + [{"filter": "datum.pair == pair"}], lambda c: c.mark_rect(
            fill=None, stroke="black", strokeWidth=4).encode(x=x, y=y)))
    params = ([{"name": "measure", "value": measure}] if measure is not None else []) \
        + ([{"name": "pair", "value": pair}] if pair is not None else [])
    return {"params": params, "layer": layers, "width": step * len(cols), "height": step * len(rows)}


def pair_matching(data: str, pair: str, high: float, low: float, a_title: str = "A", b_title: str = "B") -> dict:
    """The selected layer pair's one-to-one unit matching: one bar per matched pair, best first.

    Parameters
    ----------
    data : str — named dataset of match rows.
    pair : str — initial value of page parameter ``pair``.
    high, low : float — counterpart thresholds (dashed / dotted rules).
    a_title, b_title : str — what the two sides are (e.g. "seed 0").
    """
    x = alt.X("k:O", axis=alt.Axis(**axis("matched unit pair, best first (rank)", labelOverlap=True, labelAngle=0)))
    bars = _leaf(data, [{"filter": "datum.pair == pair"}], lambda c: c.mark_bar().encode(
        x=x, y=alt.Y("r:Q", scale=alt.Scale(domain=[-0.2, 1], clamp=True),
                     axis=alt.Axis(**axis("matched correlation (Pearson r)"))),
        color=alt.Color("band:N", scale=alt.Scale(domain=BANDS, range=BAND_COLOURS),
                        legend=alt.Legend(title="unit of A has", orient="bottom", labelExpr=(
                            f"datum.label == 'counterpart' ? 'a counterpart (r ≥ {high:g})' : datum.label == 'loose' "
                            f"? 'a loose match ({low:g} ≤ r < {high:g})' : datum.label == 'none' ? 'no counterpart (r < {low:g})' "
                            ": 'constant output (dead)'"),
                            titleFontSize=12, labelFontSize=11, labelLimit=260)),
        tooltip=[alt.Tooltip("k:O", title="rank"), alt.Tooltip("ua:N", title=f"unit of {a_title}"),
                 alt.Tooltip("ub:N", title=f"matched unit of {b_title}"),
                 alt.Tooltip("r:Q", title="correlation r", format=".3f")]))
    rules = [{"data": {"values": [{}]}, "mark": {"type": "rule", "strokeDash": dash, "color": "#555555"},
              "encoding": {"y": {"datum": t}}}
             for t, dash in ((high, [6, 3]), (low, [2, 2]))]
    return {"params": [{"name": "pair", "value": pair}],
            "title": {"text": {"expr": f"'Unit matching of ' + pair + ' ({a_title} vs {b_title})'"}, "fontSize": 13},
            "layer": [bars] + rules, "width": 640, "height": 220}


def contrast(data: str, layers: list[str], series: list[str]) -> dict:
    """Per layer, unit-level against subspace-level agreement: one line per measure, dotted lines the
    untrained-network floor. Rows: ``layer, series, value, untrained`` (bool)."""
    x = alt.X("layer:N", sort=list(layers), axis=alt.Axis(**axis("layer", labelAngle=0)))
    y = alt.Y("value:Q", scale=alt.Scale(domain=[0, 1]),
              axis=alt.Axis(**axis("agreement between seeds (0 = none, 1 = identical)")))
    colour = alt.Color("series:N", sort=list(series),
                       scale=alt.Scale(domain=list(series), range=(_LINE_COLOURS * 2)[:len(series)]),
                       legend=alt.Legend(title=None, orient="right", labelFontSize=11, labelLimit=300))
    dash = alt.StrokeDash("untrained:N", scale=alt.Scale(domain=[False, True], range=[[1, 0], [2, 3]]),
                          legend=alt.Legend(title=None, orient="right", labelFontSize=11, labelLimit=300, labelExpr=(
                              "datum.label == 'true' ? 'dotted: against an untrained network' "
                              ": 'solid: trained seeds'")))
    tips = [alt.Tooltip("series:N", title="measure"), alt.Tooltip("layer:N"), alt.Tooltip("value:Q", format=".3f")]
    line = _leaf(data, [], lambda c: c.mark_line(strokeWidth=2).encode(x=x, y=y, color=colour, strokeDash=dash,
                                                                        detail=alt.Detail("series:N")))
    pts = _leaf(data, [], lambda c: c.mark_point(filled=True, size=60).encode(
        x=x, y=y, color=colour, shape=alt.Shape("series:N", sort=list(series), legend=None), tooltip=tips))
    return {"layer": [line, pts], "width": 420, "height": 260, "resolve": {"scale": {"shape": "independent"}}}


def unit_shares(data: str, layers: list[str], parts: list[str], note: str) -> dict:
    """Per layer, the shares of all units by how well they are matched (stacked bars, %).
    Rows: ``layer, part, order, pct``."""
    colours = [OI[2], OI[1], OI[5], "#999999"]
    return _leaf(data, [], lambda c: c.mark_bar().encode(
        x=alt.X("layer:N", sort=list(layers), axis=alt.Axis(**axis("layer", labelAngle=0))),
        y=alt.Y("pct:Q", stack="zero", scale=alt.Scale(domain=[0, 100]), axis=alt.Axis(**axis(f"units (%; {note})"))),
        color=alt.Color("part:N", sort=list(parts), scale=alt.Scale(domain=list(parts), range=colours[:len(parts)]),
                        legend=alt.Legend(title="unit", orient="right", labelFontSize=11, titleFontSize=12,
                                          labelLimit=300)),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("layer:N"), alt.Tooltip("part:N", title="unit"),
                 alt.Tooltip("pct:Q", title="share (%)", format=".1f")])) | {"width": 60 * max(len(layers), 4),
                                                                            "height": 240}


def identification(data: str, measures: list[str], chance: float, n_layers: int) -> dict:
    """Per measure, the share of (seed pair, layer) rows whose most similar layer is the same layer (%),
    the chance line, and published values as black diamonds. Rows: ``measure, pct, ref`` (ref may be null)."""
    y = alt.Y("measure:N", sort=list(measures), axis=alt.Axis(**axis("similarity measure", labelLimit=220)))
    x = alt.X("pct:Q", scale=alt.Scale(domain=[0, 100]), axis=alt.Axis(**axis("layer identified correctly (%)")))
    bars = _leaf(data, [], lambda c: c.mark_bar(color=OI[0]).encode(
        x=x, y=y, tooltip=[alt.Tooltip("measure:N"), alt.Tooltip("pct:Q", title="this run (%)", format=".1f")]))
    refs = _leaf(data, [{"filter": "isValid(datum.ref)"}], lambda c: c.mark_point(
        shape="diamond", filled=True, size=90, color="black").encode(
        x=alt.X("ref:Q"), y=y, tooltip=[alt.Tooltip("ref:Q", title="Kornblith et al. 2019 (%)", format=".0f")]))
    rule = {"data": {"values": [{}]}, "mark": {"type": "rule", "color": OI[5], "strokeDash": [5, 3], "strokeWidth": 2},
            "encoding": {"x": {"datum": 100 * chance}}}
    label = {"data": {"values": [{}]}, "mark": {"type": "text", "color": OI[5], "align": "left", "dx": 4, "dy": -4,
                                                "baseline": "bottom", "fontSize": 11},
             "encoding": {"x": {"datum": 100 * chance}, "y": {"value": 0}, "text": {"value": f"chance (1/{n_layers})"}}}
    return {"layer": [bars, refs, rule, label], "width": 460, "height": 30 * max(len(measures), 3)}
