"""FigurePool renders the same PNG bytes in worker processes as inline."""
import numpy as np

from nichelab.reporting.figures import lab as viz
from nichelab.reporting.style import FigurePool


def test_figure_pool_matches_inline():
    counts = {"distinct": 3, "duplicate": 1, "dead": 0, "other": 0}
    inline = viz.fig_outcome_shares(counts, 4)
    with FigurePool(workers=2) as pool:
        handle = pool.draw(viz.fig_outcome_shares, counts, 4)
    assert FigurePool.resolve(handle) == inline
    with FigurePool(workers=1) as pool:
        assert pool.draw(viz.fig_splits, [("{0,1}|{2,3}", 1.0)], 2) == viz.fig_splits([("{0,1}|{2,3}", 1.0)], 2)
    assert inline[:4] == b"\x89PNG" and np.frombuffer(inline, np.uint8).size > 1000
