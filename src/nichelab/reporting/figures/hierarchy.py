"""Figures of the hierarchy study: curves by depth, filters, dissection, AUPRC, galleries.

Every function takes already-computed arrays and returns PNG bytes; nothing here measures.
Trained networks are drawn in blue with solid lines and filled markers, their random
initialisations in orange with dashed lines and open markers, chance in black dots,
thresholds in grey dashes.
"""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from ..style import DIV_CMAP, OKABE_ITO, blank_figure, new_figure, to_png

__all__ = ["cell_label", "heatmap_vmax", "TRAINED", "RANDOM", "fig_depth", "fig_filters", "fig_unit_strip", "fig_part_heatmap",
           "fig_levels", "fig_iou_examples", "fig_gallery", "fig_featvis"]

TRAINED, RANDOM = OKABE_ITO[0], OKABE_ITO[1]
_SERIES = [OKABE_ITO[0], OKABE_ITO[2], OKABE_ITO[3], OKABE_ITO[5]]
_LEVEL_COLORS = {"edge": OKABE_ITO[4], "part": OKABE_ITO[2], "object": OKABE_ITO[3], "none": "#DDDDDD"}
_MARKERS = ["o", "s", "^", "D"]


def _floats(values) -> np.ndarray:
    """A float array of numbers as the result holds them (JSON's None read back as NaN)."""
    return np.asarray(values, dtype=float)


def _band(ax, x, entry: dict, color, ls, marker, label, filled=True):
    """The mean over seeds as a line; the seeds' range as a band when there are several seeds.

    ``entry``: ``mean`` (L,) and ``per_seed`` (S, L), as in the result's ``per_layer``.
    """
    mean, v = _floats(entry["mean"]), _floats(entry["per_seed"])
    v = v[None] if v.ndim == 1 else v
    ok = np.isfinite(mean)
    xs = np.asarray(x)[ok]
    ax.plot(xs, mean[ok], ls=ls, marker=marker, color=color, lw=1.8, ms=6, label=label,
            mfc=color if filled else "white", mec=color, mew=1.5)
    if v.shape[0] > 1:
        with np.errstate(all="ignore"):
            lo, hi = np.nanmin(v, axis=0), np.nanmax(v, axis=0)
        ax.fill_between(xs, lo[ok], hi[ok], color=color, alpha=0.15, lw=0)


def _ylim(p: dict):
    """The panel's y range; ``"auto"`` zooms in on small shares, never below 0.3 so noise does not look like a trend."""
    ylim = p.get("ylim", (-0.03, 1.03))
    if ylim != "auto":
        return ylim
    values = [_floats(e["per_seed"]) for s in p["series"] for e in (s.get("trained"), s.get("random")) if e is not None]
    top = max([float(np.nanmax(v)) for v in values if np.isfinite(v).any()] + [0.0])
    return -0.01, min(1.03, max(0.3, 1.25 * top))


def fig_depth(names: list[str], panels: list[dict], *, width: float = 3.6, height: float = 3.0) -> bytes:
    """Panels of measures by layer, trained vs. random initialisation.

    Each panel is a dict: ``title``, ``ylabel``, ``series`` = list of ``{"label", "trained",
    "random"}`` where trained and random (either may be None) are ``{"mean": (L,), "per_seed":
    (S, L)}``; optional ``chance`` (L,), ``chance_label``, ``threshold`` (float),
    ``threshold_label``, ``ylim`` ((lo, hi) or "auto"), ``reference`` = ``(label, {layer index: value})``.
    """
    fig, axes = new_figure(len(panels), 1, width=width, height=height)
    x = np.arange(len(names))
    for ax, p in zip(axes[0], panels):
        single = len(p["series"]) == 1
        for j, s in enumerate(p["series"]):
            color = TRAINED if single else _SERIES[j % len(_SERIES)]
            if s.get("trained") is not None:     # None: nothing trained to draw (every seed diverged)
                _band(ax, x, s["trained"], color, "-", _MARKERS[j % 4],
                      "trained" if single else f"{s['label']}, trained")
            if s.get("random") is not None:
                _band(ax, x, s["random"], RANDOM if single else color, "--", _MARKERS[j % 4],
                      "random init (untrained)" if single else f"{s['label']}, random init", filled=False)
        if p.get("chance") is not None:
            ch = _floats(p["chance"])
            ok = np.isfinite(ch)
            ax.plot(x[ok], ch[ok], ":", color="black", lw=1.3, label=p.get("chance_label", "chance"))
        if p.get("threshold") is not None:
            ax.axhline(p["threshold"], ls=(0, (4, 3)), color="#777777", lw=1.0,
                       label=p.get("threshold_label", f"threshold {p['threshold']:g}"))
        if p.get("reference"):
            label, ref = p["reference"]
            ax.scatter(list(ref), list(ref.values()), marker="D", s=36, color="#555555", zorder=4, label=label)
        ax.set_xticks(x, names)
        ax.set_xlabel("layer (input → output)")
        ax.set_ylabel(p["ylabel"])
        ax.set_title(p["title"], fontsize=10)
        ax.set_ylim(*_ylim(p))
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7, loc=p.get("legend_loc", "best"), framealpha=0.9)
    return to_png(fig)


def fig_filters(filters: dict, stimulus: str = "bars") -> bytes:
    """First-layer filters as images (first input channel) with their orientation tuning curves.

    ``filters``: ``angles_deg`` (n_angles,), and for ``"trained"`` and ``"random"``: ``weights``
    (K, C, kh, kw), ``curves`` (n_angles, K) scaled to each unit's maximum, ``silent`` (K,) bool,
    ``osi`` (K,), ``edge`` (K,) bool.
    """
    deg = np.asarray(filters["angles_deg"], dtype=float)
    K = len(filters["trained"]["osi"])
    fig, axes = new_figure(K, 4, width=1.05, height=1.2)
    for row, (key, tag) in enumerate((("trained", "trained"), ("random", "random init"))):
        f = filters[key]
        w, curves = _floats(f["weights"]), _floats(f["curves"])
        osi, edge, silent = _floats(f["osi"]), list(f["edge"]), list(f["silent"])
        color = TRAINED if row == 0 else RANDOM
        for k in range(K):
            ax = axes[2 * row, k]
            m = max(float(np.abs(w[k, 0]).max()), 1e-12)
            ax.imshow(w[k, 0], cmap=DIV_CMAP, vmin=-m, vmax=m)
            ax.set_xticks([])
            ax.set_yticks([])
            sel = "" if not np.isfinite(osi[k]) else f"\nOSI {osi[k]:.2f}{' edge' if edge[k] else ''}"
            ax.set_title(f"L1:{k}{sel}", fontsize=7, fontweight="bold" if edge[k] else "normal")
            if k == 0:
                ax.set_ylabel(tag, fontsize=8)
            ax2 = axes[2 * row + 1, k]
            if not silent[k]:
                ax2.plot(deg, curves[:, k], "-o", ms=2, lw=1.2, color=color)
            else:
                ax2.text(0.5, 0.5, "silent", ha="center", va="center", fontsize=7, transform=ax2.transAxes)
            ax2.set_ylim(0, 1.08)
            ax2.set_xticks([0, 90])
            ax2.tick_params(labelsize=6)
            if k == 0:
                ax2.set_ylabel("response\n(/ max)", fontsize=7)
            else:
                ax2.set_yticklabels([])
            ax2.set_xlabel(f"{stimulus} angle (°)", fontsize=6)
    fig.suptitle("First-layer 3x3 filters (orange +, purple −; rows 1–2 trained, rows 3–4 random init) "
                 f"and their responses to {stimulus} by orientation", fontsize=8)
    return to_png(fig)


def fig_unit_strip(names: list[str], strip: dict, ylabel: str, title: str, *, threshold: float | None = None,
                   threshold_label: str = "", chance=None, reference: tuple | None = None,
                   ylim=(-0.03, 1.03)) -> bytes:
    """Every unit's value by layer, trained (left of each tick) and random init (right), with medians.

    ``strip``: ``trained`` and ``random`` (per layer, every unit's value), ``median_trained`` and
    ``median_random`` (per layer).
    """
    fig, axes = new_figure(1, 1, width=6.4, height=3.4)
    ax = axes[0, 0]
    rng = np.random.default_rng(0)       # horizontal jitter of the dots only
    for key, dx, color, marker, label in (("trained", -0.18, TRAINED, "o", "trained (one dot per unit)"),
                                          ("random", 0.18, RANDOM, "s", "random init")):
        medians = _floats(strip[f"median_{key}"])
        for i, v in enumerate(strip[key]):
            v = _floats(v)
            v = v[np.isfinite(v)]
            if not v.size:
                continue
            ax.scatter(i + dx + rng.uniform(-0.09, 0.09, v.size), v, s=9, color=color, marker=marker,
                       alpha=0.65, lw=0, label=label if i == 0 else None)
            ax.hlines(medians[i], i + dx - 0.14, i + dx + 0.14, color="black", lw=1.8,
                      label="median" if (i == 0 and dx < 0) else None)
    if chance is not None:
        ax.plot(np.arange(len(names)), _floats(chance), ":", color="black", lw=1.3, label="chance (share of positives)")
    if threshold is not None:
        ax.axhline(threshold, ls=(0, (4, 3)), color="#777777", lw=1.0, label=threshold_label)
    if reference:
        label, ref = reference
        ax.scatter(list(ref), list(ref.values()), marker="D", s=40, color="#555555", zorder=5, label=label)
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_xlabel("layer (input → output)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(*ylim)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return to_png(fig)


def cell_label(c: float) -> str:
    """A heatmap cell's text: whole numbers as they are, others with two significant digits
    (``2 -> "2"``, ``0.333333 -> "0.33"``, ``2.3333 -> "2.3"``)."""
    c = float(c)
    return f"{c:.0f}" if c == round(c) else f"{c:.2g}"


def heatmap_vmax(*arrays) -> float:
    """The colour scale's top: the largest finite value of the arrays (at least 1), so the bar covers the data."""
    finite = [float(np.nanmax(a)) for a in arrays if np.size(a) and np.isfinite(a).any()]
    return max(finite + [1.0])


def fig_part_heatmap(names: list[str], part_names: list[str], counts_t, counts_r, n_units: list[int]) -> bytes:
    """How many units of each conv layer detect each part (layers, parts), trained and random init."""
    counts_t, counts_r = _floats(counts_t), _floats(counts_r)
    fig, axes = new_figure(2, 1, width=5.2, height=0.45 * len(names) + 1.6)
    vmax = heatmap_vmax(counts_t, counts_r)
    for ax, counts, tag in ((axes[0, 0], counts_t, "trained"), (axes[0, 1], counts_r, "random init")):
        im = ax.imshow(counts, cmap="Blues", vmin=0, vmax=vmax, aspect="auto")
        for (i, j), c in np.ndenumerate(counts):
            if c:
                ax.text(j, i, cell_label(c), ha="center", va="center", fontsize=7,
                        color="white" if c > vmax / 2 else "black")
        ax.set_xticks(np.arange(len(part_names)), part_names, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(np.arange(len(names)), [f"{n} ({u} units)" for n, u in zip(names, n_units)], fontsize=8)
        ax.set_title(f"part detectors, {tag}", fontsize=10)
        ax.set_xlabel("part (best part of the unit, IoU above threshold)")
    fig.colorbar(im, ax=axes[0, 1], label="units (mean over seeds)")
    return to_png(fig)


def fig_levels(names: list[str], levels_t: dict, levels_r: dict) -> bytes:
    """Share of units whose best concept is an edge, a part, an object, or none above threshold."""
    fig, axes = new_figure(1, 1, width=6.0, height=3.2)
    ax = axes[0, 0]
    x = np.arange(len(names))
    for dx, levels, hatch, tag in ((-0.2, levels_t, "", "trained"), (0.2, levels_r, "///", "random init")):
        bottom = np.zeros(len(names))
        for level in ("edge", "part", "object", "none"):
            v = np.nan_to_num(np.asarray(levels[level], dtype=float))
            ax.bar(x + dx, v, 0.38, bottom=bottom, color=_LEVEL_COLORS[level], hatch=hatch, edgecolor="white",
                   lw=0.5, label=f"{level}" if dx < 0 else None)
            bottom += v
    ax.set_xticks(x, [f"{n}\ntrained | random" for n in names], fontsize=8)
    ax.set_ylabel("share of the layer's units")
    ax.set_ylim(0, 1.02)
    ax.set_title("Network Dissection: the level of each unit's best concept (IoU > threshold)", fontsize=10)
    ax.legend(title="best concept", fontsize=7, title_fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return to_png(fig)


def fig_iou_examples(examples: list[dict]) -> bytes:
    """Each example unit: images with its thresholded map (orange outline) and its part's mask (blue).

    ``examples``: dicts with ``title`` (str), ``pixels`` (m, H, W) images, ``unit_masks`` and
    ``part_masks`` (m, H, W) bool, ``image_iou`` (m,).
    """
    m = max(len(e["pixels"]) for e in examples)
    fig, axes = new_figure(m, len(examples), width=1.55, height=1.7)
    for r, e in enumerate(examples):
        for c in range(m):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(e["pixels"]):
                ax.set_visible(False)
                continue
            rgb = np.stack([np.asarray(e["pixels"][c], dtype=float) * 0.55] * 3, -1)
            part = np.asarray(e["part_masks"][c], dtype=bool)
            rgb[part] = 0.35 * rgb[part] + 0.65 * np.array([0.0, 0.45, 0.70])      # blue: the part
            ax.imshow(rgb, interpolation="nearest")
            ax.contour(np.asarray(e["unit_masks"][c], dtype=float), levels=[0.5], colors=[OKABE_ITO[1]],
                       linewidths=1.4)
            ax.set_title(f"IoU {e['image_iou'][c]:.2f}", fontsize=7)
            if c == 0:
                ax.set_ylabel(e["title"], fontsize=7)
    fig.suptitle("blue: the part's pixels; orange outline: where the unit is in its top 0.5%", fontsize=8)
    return to_png(fig)


_OUTSIDE = np.array([0.78, 0.85, 0.91])     # light blue: outside the image (windows at the border)
_TILE = 40                                   # display pixels per tile side
_GAP = 5


def _tile_rgb(img: np.ndarray, vmin: float, vmax: float) -> tuple[np.ndarray, float]:
    """(C, h, w) or (h, w) image -> (_TILE, _TILE, 3) RGB (nearest-neighbour), and the scale factor."""
    img = np.asarray(img, dtype=float)
    if img.ndim == 3:
        img = img[0] if img.shape[0] == 1 else np.moveaxis(img, 0, -1)
    h, w = img.shape[:2]
    rows = np.minimum((np.arange(_TILE) * h / _TILE).astype(int), h - 1)
    cols = np.minimum((np.arange(_TILE) * w / _TILE).astype(int), w - 1)
    big = img[rows][:, cols]
    norm = np.clip((big - vmin) / max(vmax - vmin, 1e-12), 0, 1)
    rgb = np.repeat(norm[..., None], 3, axis=-1) if norm.ndim == 2 else norm
    rgb[~np.isfinite(big) if big.ndim == 2 else ~np.isfinite(big).all(-1)] = _OUTSIDE
    return rgb, _TILE / max(h, w)


def _mosaic(rows: list[dict], *, vmin: float, vmax: float, title: str) -> bytes:
    """Draw rows of image tiles as one picture (fast): each row ``{"label", "tiles": [(img, title, color, box)]}``.

    ``box`` is ``(row, col, side)`` in the tile's own pixels, drawn as an orange square (skipped when
    it covers the whole tile or is None).
    """
    n_cols = max(len(r["tiles"]) for r in rows)
    step = _TILE + _GAP
    two_lines = any("\n" in str((list(t) + [None, ""])[1] or "") for r in rows for t in r["tiles"])
    top = 17 if two_lines else 10                          # room for the tile titles
    H, W = len(rows) * (step + top), n_cols * step
    canvas = np.ones((H, W, 3))
    boxes, texts = [], []
    for i, r in enumerate(rows):
        y0 = i * (step + top) + top
        for j, tile in enumerate(r["tiles"]):
            img, ttl, color, box = (list(tile) + [None] * 4)[:4]
            if img is None:
                continue
            rgb, f = _tile_rgb(img, vmin, vmax)
            x0 = j * step
            canvas[y0:y0 + _TILE, x0:x0 + _TILE] = rgb
            if box is not None and box[2] * f < _TILE - 1e-9:
                boxes.append((x0 + box[1] * f - 0.5, y0 + box[0] * f - 0.5, box[2] * f))
            if ttl:
                texts.append((x0 + _TILE / 2, y0 - 2, ttl, color or "black"))
    inch = 0.95 / step                                    # inches per display pixel
    longest = max(len(line) for r in rows for line in str(r["label"]).split("\n"))
    label_w = 0.25 + 0.062 * longest                      # inches for the row labels (fontsize 7)
    title_h = (0.2 + 0.14 * title.count("\n")) if title else 0.05
    w_in, h_in = W * inch, H * inch
    fig = blank_figure(figsize=(w_in + label_w + 0.1, h_in + title_h + 0.1))
    ax = fig.add_axes([label_w / (w_in + label_w + 0.1), 0.05 / (h_in + title_h + 0.1),
                       w_in / (w_in + label_w + 0.1), h_in / (h_in + title_h + 0.1)])
    ax.imshow(canvas, interpolation="nearest")
    for x, y, side in boxes:
        ax.add_patch(Rectangle((x, y), side, side, fill=False, ec=OKABE_ITO[1], lw=1.1))
    for x, y, t, color in texts:
        ax.text(x, y, t, ha="center", va="bottom", fontsize=6, color=color)
    for i, r in enumerate(rows):
        ax.text(-_GAP, i * (step + top) + top + _TILE / 2, r["label"], ha="right", va="center", fontsize=7)
    ax.set_axis_off()
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)
    if title:
        fig.text(0.5, 1 - 0.04 / (h_in + title_h + 0.1), title, ha="center", va="top", fontsize=8)
    return to_png(fig, dpi=130)


def fig_gallery(rows: list[tuple], *, vmin: float = 0.0, vmax: float = 1.0, title: str = "") -> bytes:
    """Rows of small images: ``(row label, images, per-image titles[, box])``; box = (row, col, side) drawn on each."""
    return _mosaic([{"label": r[0], "tiles": [(img, (r[2][j] if r[2] else ""), None, r[3] if len(r) > 3 else None)
                                             for j, img in enumerate(r[1])]} for r in rows],
                   vmin=vmin, vmax=vmax, title=title)


def fig_featvis(rows: list[dict], *, vmin: float = 0.0, vmax: float = 1.0) -> bytes:
    """For each unit: optimised input (trained), top held-out examples, optimised input (random init).

    ``rows``: dicts with ``label``, ``optimised`` (image), ``ratio`` (activation / best example's),
    ``patches`` (list of images), ``random`` (image), ``random_ratio``, optional ``box``.
    """
    n_p = max(len(r["patches"]) for r in rows)
    out = []
    for r in rows:
        box = r.get("box")
        tiles = [(r["optimised"], f"optimised\n{r['ratio']:.1f}× best", TRAINED, box)]
        tiles += [(r["patches"][j], f"top {j + 1}", None, box) if j < len(r["patches"]) else (None,)
                  for j in range(n_p)]
        tiles.append((r["random"], f"before training\n{r['random_ratio']:.1f}× best", RANDOM, box))
        out.append({"label": r["label"], "tiles": tiles})
    return _mosaic(out, vmin=vmin, vmax=vmax,
                   title="Left: input found by gradient ascent (its activation as a multiple of the best held-out "
                         "image's); middle: top held-out images;\nright: the same unit's optimised input before "
                         "training (orange box: receptive field; light blue: outside the image)")


# --- interactive galleries and depth charts (Vega-Lite via Altair), drawn in the browser ---------------------------
# Named dataset ``hi_tiles`` (built by nichelab.reporting.pages.hierarchy.tile_rows): one row per picture,
#   unit, kind ("top" | "featvis"), col (position in its row), title, url (PNG data URL, receptive field boxed).
# Named dataset ``hi_depth``: panel, layer, li (layer position), series, init ("trained" | "random init"),
#   value, lo, hi (range over seeds).
# Page parameter: ``hunit`` (a unit name such as "L2:5").

def tile_png(img, vmin: float, vmax: float, box=None) -> str:
    """One gallery picture as a PNG data URL: grey (or RGB) tile of ``_TILE`` px, NaN (outside the image) light
    blue, the receptive field ``box`` = (row, col, side) outlined in orange."""
    import base64
    import io

    from PIL import Image
    rgb, f = _tile_rgb(img, vmin, vmax)
    if box is not None and box[2] * f < _TILE - 1e-9:
        r0, c0, s = (int(round(v * f)) for v in box)
        r1, c1 = min(r0 + s, _TILE) - 1, min(c0 + s, _TILE) - 1
        r0, c0 = max(r0, 0), max(c0, 0)
        orange = np.array([0xE6, 0x9F, 0x00]) / 255
        rgb[r0, c0:c1 + 1] = rgb[r1, c0:c1 + 1] = orange
        rgb[r0:r1 + 1, c0] = rgb[r0:r1 + 1, c1] = orange
    im = Image.fromarray((255 * np.clip(rgb, 0, 1)).round().astype(np.uint8), "RGB").resize((2 * _TILE, 2 * _TILE),
                                                                                           Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _vl(chart) -> dict:
    d = chart.to_dict(validate=False)
    d.pop("$schema", None)
    d.pop("config", None)
    return d


def chart_tiles(kind: str, unit: str, n_cols: int) -> dict:
    """The selected unit's pictures of one ``kind`` ("top": its top held-out windows; "featvis": its optimised
    input, top windows and optimised input before training), each titled (activation or multiple of the best)."""
    import altair as alt
    side = 72
    data = alt.Data(name="hi_tiles")
    tf = [{"filter": f"datum.unit == hunit && datum.kind == '{kind}'"}]
    x = alt.X("col:O", scale=alt.Scale(domain=list(range(n_cols)), paddingInner=0.12),
              axis=alt.Axis(title=None, labels=False, ticks=False, domain=False, grid=False))
    imgs = alt.Chart(data, transform=tf).mark_image(width=side, height=side, smooth=False).encode(
        x=x, y=alt.value(side / 2 + 34), url=alt.Url("url:N"),
        tooltip=[alt.Tooltip("unit:N"), alt.Tooltip("title:N", title="picture")])
    text = alt.Chart(data, transform=tf + [{"calculate": "split(datum.title, '\\n')", "as": "lines"}]).mark_text(
        fontSize=11, baseline="top", lineHeight=13).encode(x=x, y=alt.value(2), text=alt.Text("lines:N"))
    spec = _vl(alt.layer(imgs, text).properties(width=min(700, n_cols * (side + 14)), height=side + 38,
                                                 view={"stroke": None}))
    spec["params"] = [{"name": "hunit", "value": unit}]
    return spec


def depth_rows(names: list[str], panel: dict) -> list[dict]:
    """Rows of one depth panel (the ``fig_depth`` panel dict): per series, network and layer its mean and range
    over seeds; ``chance`` and ``threshold`` as reference lines. NaN values (a layer without the measure) are left
    out."""
    single = len(panel["series"]) == 1
    rows = []

    def add(line, kind, series, mean, per_seed=None):
        m = _floats(mean)
        ps = _floats(per_seed) if per_seed is not None else m[None, :]
        ps = ps.reshape(-1, len(names)) if ps.size else m[None, :]
        with np.errstate(all="ignore"):
            lo, hi = np.nanmin(ps, axis=0), np.nanmax(ps, axis=0)
        for i, n in enumerate(names):
            if np.isfinite(m[i]):
                rows.append({"layer": n, "li": i, "series": series, "line": line, "kind": kind,
                             "value": round(float(m[i]), 4), "lo": round(float(lo[i]), 4) if np.isfinite(lo[i]) else None,
                             "hi": round(float(hi[i]), 4) if np.isfinite(hi[i]) else None})

    for s in panel["series"]:
        add("trained" if single else s["label"], "trained", s["label"], s["trained"]["mean"], s["trained"].get("per_seed"))
        if s.get("random") is not None:
            add("random init (untrained)" if single else s["label"], "random init (untrained)", s["label"],
                s["random"]["mean"], s["random"].get("per_seed"))
    if panel.get("chance") is not None:
        add(panel.get("chance_label", "chance"), "reference", panel.get("chance_label", "chance"), panel["chance"])
    if panel.get("threshold") is not None:
        label = panel.get("threshold_label", f"threshold {panel['threshold']:g}")
        add(label, "reference", label, [panel["threshold"]] * len(names))
    return rows


def depth_ylim(panel: dict) -> tuple[float, float]:
    """The y range of a depth panel (``"auto"`` zooms in on small shares, never below 0.3)."""
    return tuple(_ylim(panel))


def chart_depth(data_name: str, rows: list[dict], title: str, ylabel: str, ylim=(-0.03, 1.03)) -> dict:
    """One depth panel: a measure by layer; trained solid, random init dashed, reference lines dotted; one colour per
    measure (blue trained / orange random init when there is one measure); the range over seeds as a band; hover a
    point for its value."""
    import altair as alt

    from ..charts import axis
    lines = list(dict.fromkeys(d["line"] for d in rows))
    palette = [c for c in OKABE_ITO if c not in ("#F0E442",)]
    ref = {d["line"] for d in rows if d["kind"] == "reference"}
    colours, k = [], 0
    for ln in lines:
        if ln in ref:
            colours.append("#555555")
        else:
            colours.append(palette[k % len(palette)])
            k += 1
    data = alt.Data(name=data_name)
    x = alt.X("layer:N", sort=alt.EncodingSortField(field="li", order="ascending"),
              axis=alt.Axis(**axis("layer (input → output)", labelAngle=0)))
    scale = alt.Scale(domain=[float(v) for v in ylim], nice=False)
    y = alt.Y("value:Q", scale=scale, axis=alt.Axis(**axis(ylabel)))
    colour = alt.Color("line:N", scale=alt.Scale(domain=lines, range=colours),
                       legend=alt.Legend(title=None, orient="bottom", columns=2, labelLimit=300, symbolType="stroke",
                                         symbolStrokeWidth=3))
    dash = alt.StrokeDash("kind:N", scale=alt.Scale(domain=["trained", "random init (untrained)", "reference"],
                                                    range=[[1, 0], [6, 3], [2, 2]]),
                          legend=None)   # solid / dashed / dotted is said in the captions
    tips = [alt.Tooltip("layer:N"), alt.Tooltip("series:N", title="measure"), alt.Tooltip("kind:N", title="network"),
            alt.Tooltip("value:Q", format=".3f", title="mean"), alt.Tooltip("lo:Q", format=".3f", title="lowest seed"),
            alt.Tooltip("hi:Q", format=".3f", title="highest seed")]
    base = alt.Chart(data)
    band = base.transform_filter("isValid(datum.lo) && datum.kind != 'reference'").transform_calculate(
        band="datum.line").mark_area(
        opacity=0.15).encode(x=x, y=alt.Y("lo:Q", scale=scale), y2=alt.Y2("hi:Q"),
                             fill=alt.Fill("band:N", scale=alt.Scale(domain=lines, range=colours), legend=None),
                             detail=alt.Detail("kind:N"))
    line = base.mark_line(point=True, strokeWidth=2, clip=True).encode(
        x=x, y=y, color=colour, strokeDash=dash, detail=alt.Detail("kind:N"), tooltip=tips)
    banded = any(d["lo"] is not None and d["lo"] != d["hi"] and d["kind"] != "reference" for d in rows)
    layers = [band, line] if banded else [line]
    spec = _vl(alt.layer(*layers).properties(width=300, height=220, title=alt.TitleParams(title, fontSize=13)))
    if banded:   # the band's fill has no legend of its own; keep the lines' colour legend
        spec["resolve"] = {"scale": {"fill": "independent"}, "legend": {"fill": "independent", "color": "independent"}}
    return spec
