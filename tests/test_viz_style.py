"""FigurePool renders the same PNG bytes in worker processes as inline (matplotlib figures of other studies)."""
import numpy as np

from nichelab.reporting.figures import convergence as viz
from nichelab.reporting.style import FigurePool


def test_figure_pool_matches_inline():
    shares = {"close": np.array([0.5, 0.25]), "none": np.array([0.5, 0.75])}
    inline = viz.fig_unit_shares(["L1", "L2"], shares)
    with FigurePool(workers=2) as pool:
        handle = pool.draw(viz.fig_unit_shares, ["L1", "L2"], shares)
    assert FigurePool.resolve(handle) == inline
    with FigurePool(workers=1) as pool:
        assert pool.draw(viz.fig_unit_shares, ["L1"], {"a": np.array([1.0])}) == viz.fig_unit_shares(["L1"], {"a": np.array([1.0])})
    assert inline[:4] == b"\x89PNG" and np.frombuffer(inline, np.uint8).size > 1000
