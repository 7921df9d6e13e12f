"""Shared figure style: a colour-blind-safe palette (Okabe & Ito 2008) and PNG export."""
from __future__ import annotations

import io

from matplotlib.figure import Figure as _MplFigure

__all__ = ["FigurePool", "OKABE_ITO", "class_color", "class_marker", "to_png", "new_figure", "blank_figure",
           "SEQ_CMAP", "DIV_CMAP"]

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
    """Subplots with a per-panel size in inches and constrained layout; returns (fig, axes array).

    Figures are made without pyplot, so no matplotlib backend is chosen or switched (a notebook's
    backend is left alone); :func:`to_png` renders them with the Agg canvas.
    """
    fig = _MplFigure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def blank_figure(figsize: tuple[float, float]):
    """An empty figure of ``figsize`` inches (no pyplot, no backend switch)."""
    return _MplFigure(figsize=figsize)


def _die_with_parent() -> None:
    """In a worker: ask Linux to kill this process when its parent dies (even by SIGKILL)."""
    import signal
    import sys
    if sys.platform.startswith("linux"):
        import ctypes
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - other libc
            pass


class FigurePool:
    """Render figures in parallel worker processes (fork), or inline where fork is unavailable.

    ``pool.draw(fig_function, *args)`` returns a handle; ``resolve(x)`` turns a handle into PNG
    bytes (and passes bytes through). Figure functions must be module-level and return PNG bytes;
    workers only run matplotlib and numpy.

    Example
    -------
    >>> with FigurePool() as pool:                      # doctest: +SKIP
    ...     h = pool.draw(fig_outcome_shares, counts, n)
    >>> png = FigurePool.resolve(h)                       # doctest: +SKIP
    """

    def __init__(self, workers: int | None = None):
        import multiprocessing as mp
        import os
        self.workers = workers or min(4, os.cpu_count() or 1)
        self.executor = None
        if self.workers > 1 and "fork" in mp.get_all_start_methods():
            from concurrent.futures import ProcessPoolExecutor
            self.executor = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("fork"),
                                                initializer=_die_with_parent)

    def draw(self, fn, *args, **kwargs):
        """Start rendering ``fn(*args, **kwargs)``; returns a Future, or the PNG bytes when inline."""
        if self.executor is None:
            return fn(*args, **kwargs)
        return self.executor.submit(fn, *args, **kwargs)

    @staticmethod
    def resolve(handle) -> bytes:
        """PNG bytes of a handle returned by :meth:`draw`."""
        return handle.result() if hasattr(handle, "result") else handle

    def __enter__(self) -> "FigurePool":
        return self

    def __exit__(self, *exc) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=exc[0] is not None)


def to_png(fig, dpi: int = 110) -> bytes:
    """Render ``fig`` to PNG bytes and close it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
