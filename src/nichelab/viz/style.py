"""Shared figure style: a colour-blind-safe palette (Okabe & Ito 2008) and PNG export."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["OKABE_ITO", "class_color", "class_marker", "to_png", "new_figure", "SEQ_CMAP", "DIV_CMAP"]

#: Okabe-Ito colours, distinguishable with the common colour-vision deficiencies.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
#: Perceptually uniform colour maps readable with colour-vision deficiencies.
SEQ_CMAP = "cividis"
DIV_CMAP = "PuOr_r"

_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def class_color(k: int) -> str:
    """Colour of class ``k`` (cycles through the palette)."""
    return OKABE_ITO[k % len(OKABE_ITO)]


def class_marker(k: int) -> str:
    """Marker of class ``k``, so classes differ by shape as well as colour."""
    return _MARKERS[k % len(_MARKERS)]


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 3.4, height: float = 3.0, **kw):
    """``plt.subplots`` with a per-panel size in inches and constrained layout; returns (fig, axes array)."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                             layout="constrained", **kw)
    return fig, axes


def to_png(fig, dpi: int = 110) -> bytes:
    """Render ``fig`` to PNG bytes and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()
