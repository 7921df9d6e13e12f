"""FigurePool renders the same PNG bytes in worker processes as inline (matplotlib figures of other studies)."""
import numpy as np

from nichelab.reporting.style import FigurePool, OKABE_ITO, new_figure, to_png


def fig_bars(labels: list[str], values: np.ndarray) -> bytes:
    """A small module-level matplotlib figure (worker processes need to import it)."""
    fig, axes = new_figure(1, 1, width=3.0, height=2.0)
    axes[0, 0].bar(range(len(labels)), values, color=OKABE_ITO[0])
    axes[0, 0].set_xticks(range(len(labels)), labels)
    return to_png(fig)


def test_figure_pool_matches_inline():
    values = np.array([0.5, 0.25])
    inline = fig_bars(["L1", "L2"], values)
    with FigurePool(workers=2) as pool:
        handle = pool.draw(fig_bars, ["L1", "L2"], values)
    assert FigurePool.resolve(handle) == inline
    with FigurePool(workers=1) as pool:
        assert pool.draw(fig_bars, ["L1"], np.array([1.0])) == fig_bars(["L1"], np.array([1.0]))
    assert inline[:4] == b"\x89PNG" and np.frombuffer(inline, np.uint8).size > 1000
