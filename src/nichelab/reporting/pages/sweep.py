"""The sweep report: outcome shares and accuracy over the grid, findings, the cells and failures.

``page(spec, rows, findings) -> Report`` draws numbers the sweep's index holds (``cells.csv``
rows: counts, shares and their 95% intervals, mean accuracy and its interval); the findings in
words come computed (:mod:`nichelab.runs.sweep_report`). Nothing here measures.
"""
from __future__ import annotations

import math

import numpy as np

from ...studies import text
from ..model import Figure, Report, Section, Table
from ..style import OKABE_ITO, class_marker, new_figure, to_png

__all__ = ["page", "x_field", "outcomes_of", "fig_outcome_lines", "fig_accuracy_lines"]

_STYLES = ["-", "--", ":", "-."]


def outcomes_of(rows: list[dict]) -> list[str]:
    """The outcomes counted in the rows (columns ``n_<outcome>``): the lab's in its order, then others."""
    from ...studies.lab.config import OUTCOMES
    names = {k[2:] for r in rows for k in r if k.startswith("n_") and k != "n_seeds"}
    return [o for o in OUTCOMES if o in names] + sorted(names - set(OUTCOMES))


def x_field(grid: dict) -> str | None:
    """The grid field drawn on the x axis: the one with most values, numbers preferred."""
    def numeric(vals):
        try:
            [float(v) for v in vals]
            return True
        except ValueError:
            return False
    fields = [f for f, v in grid.items() if len(v) > 1] or list(grid)
    return max(fields, key=lambda f: (len(grid[f]), numeric(grid[f]), -list(grid).index(f)), default=None)


def _series(grid: dict, rows: list[dict], xf: str):
    """Line label -> rows in x order, one line per combination of the other fields."""
    others = [f for f in grid if f != xf and len(grid[f]) > 1]
    lines: dict = {}
    for r in rows:
        label = ", ".join(f"{f}={r[f]}" for f in others) or "all cells"
        lines.setdefault(label, []).append(r)
    order = {str(v): i for i, v in enumerate(grid[xf])}
    return {k: sorted(v, key=lambda r: order.get(str(r[xf]), 0)) for k, v in lines.items()}


def _draw(ax, grid, rows, xf, key, lo_key, hi_key, scale=100.0):
    xs_all = [str(v) for v in grid[xf]]
    for j, (label, rs) in enumerate(_series(grid, rows, xf).items()):
        rs = [r for r in rs if r.get("status") == "done" and _finite(r.get(key))]
        if not rs:
            continue
        x = np.array([xs_all.index(str(r[xf])) for r in rs], float)
        off = (j - (len(_series(grid, rows, xf)) - 1) / 2) * 0.04  # keep error bars apart
        y = np.array([r[key] for r in rs], float) * scale
        err = np.array([[r[key] - r[lo_key], r[hi_key] - r[key]] for r in rs], float).T.clip(0, None) * scale
        ax.errorbar(x + off, y, yerr=err, color=OKABE_ITO[j % 8], marker=class_marker(j),
                    ls=_STYLES[(j // 8) % 4], lw=1.4, ms=4, capsize=2.5, label=label)
    ax.set_xticks(range(len(xs_all)), xs_all)
    ax.set_xlabel(xf)
    ax.grid(alpha=0.3)


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def fig_outcome_lines(grid: dict, rows: list[dict], outcomes: list[str]) -> bytes:
    """One panel per outcome: its share of seeds (%) over the x field, a line per other setting, 95% bars."""
    xf = x_field(grid)
    ncols = min(2, len(outcomes))
    fig, axes = new_figure(ncols, math.ceil(len(outcomes) / ncols), width=4.2, height=3.1)
    for k, ax in enumerate(axes.flat):
        if k >= len(outcomes):
            ax.set_visible(False)
            continue
        o = outcomes[k]
        _draw(ax, grid, rows, xf, f"share_{o}", f"share_{o}_lo", f"share_{o}_hi")
        ax.set_ylabel(f"seeds ending {o} (%)")
        ax.set_ylim(-3, 103)
        ax.set_title(o, fontsize=10)
    axes.flat[0].legend(fontsize=7, loc="best")
    return to_png(fig)


def fig_accuracy_lines(grid: dict, rows: list[dict]) -> bytes:
    """Mean accuracy (%) of each cell over the x field, a line per other setting, 95% bars."""
    xf = x_field(grid)
    fig, axes = new_figure(1, 1, width=6.0, height=3.4)
    ax = axes[0, 0]
    _draw(ax, grid, rows, xf, "accuracy_mean", "accuracy_lo", "accuracy_hi")
    ax.set_ylabel("mean accuracy over seeds (%)")
    ax.legend(fontsize=7, loc="best")
    return to_png(fig)


def _cell_table(rows: list[dict], outcomes: list[str]) -> Table:
    cols = ["cell", "status"] + outcomes + (["mean accuracy"] if any("accuracy_mean" in r for r in rows) else []) + ["folder"]
    body = []
    for r in rows:
        line = [r["cell"], r.get("status", "")]
        for o in outcomes:
            line.append(text.share(int(r[f"n_{o}"]), int(r["n_seeds"])) if _finite(r.get(f"n_{o}")) else "")
        if "mean accuracy" in cols:
            line.append(f"{text.pct(r['accuracy_mean'], 1)} ({text.pct(r['accuracy_lo'], 1)}–"
                        f"{text.pct(r['accuracy_hi'], 1)})" if _finite(r.get("accuracy_mean")) else "")
        line.append(r["folder"])
        body.append(line)
    return Table(cols, body, caption="Every cell: the share of its seeds ending in each outcome (count of seeds, "
                                     "95% Wilson interval) and the mean accuracy (95% interval); each folder is a "
                                     "complete run, open its report.html for the details.")


def page(spec: dict, rows: list[dict], findings: dict) -> Report:
    """The sweep report.

    Parameters
    ----------
    spec : dict
        ``study``, ``grid`` (field -> list of values as typed), ``seeds``, ``first_seed``.
    rows : list of dict
        One per cell, as in ``cells.csv``: ``cell``, ``folder``, ``status``, ``error``, the grid
        fields, and the headline numbers (``n_seeds``, ``n_<outcome>``, ``share_<outcome>`` with
        ``_lo``/``_hi``, ``accuracy_mean``/``_lo``/``_hi``).
    findings : dict of str -> list of str
        From :func:`nichelab.runs.sweep_report.sweep_findings`.

    Returns
    -------
    Report
    """
    grid = {k: [str(v) for v in vals] for k, vals in spec["grid"].items()}
    done = [r for r in rows if r.get("status") == "done"]
    outcomes = outcomes_of(done)
    xf = x_field(grid)
    setup = {"study": spec["study"], "grid": " × ".join(f"{k} ({', '.join(v)})" for k, v in grid.items()),
             "cells": f"{len(rows)} ({len(done)} finished)",
             "seeds per cell": f"{spec['seeds']} (seeds {spec['first_seed']}–{spec['first_seed'] + spec['seeds'] - 1}, "
                               "the same in every cell)"}
    summary = findings.get("terms", []) + findings.get("grid", [])[:2] + findings.get("failed", [])
    sections = []
    if outcomes and done:
        sections.append(Section(
            "Outcomes over the grid",
            question=f"How does the share of each outcome move with {', '.join(grid)}?",
            findings=findings.get("grid", []) + findings.get("cells", []),
            figures=[Figure(fig_outcome_lines(grid, rows, outcomes),
                            f"Look at how far each line climbs or falls along {xf}: each point is one cell's share "
                            "of seeds, the bars its 95% interval.",
                            alt=f"Share of seeds per outcome against {xf}, one line per combination of the "
                                "other settings")]))
    if any(_finite(r.get("accuracy_mean")) for r in done):
        sections.append(Section(
            "Accuracy by cell", question="How well do the trained networks classify, cell by cell?",
            findings=findings.get("accuracy", []),
            figures=[Figure(fig_accuracy_lines(grid, rows),
                            f"Look for cells whose bars do not overlap: mean accuracy against {xf}, 95% intervals.",
                            alt=f"Mean accuracy against {xf}, one line per combination of the other settings")]))
    sections.append(Section("Cells", question="What did each cell measure, and where is its run?",
                            tables=[_cell_table(rows, outcomes)]))
    bad = [r for r in rows if r.get("status") != "done"]
    if bad:
        sections.append(Section(
            "Cells that did not finish", findings=findings.get("failed", []),
            tables=[Table(["cell", "status", "error"], [[r["cell"], r.get("status", ""), r.get("error", "")] for r in bad],
                          caption="No folder is written for these cells; re-running the same command retries them.")]))
    return Report(title=f"Sweep: {spec['study']} over {' × '.join(grid)}", summary=summary, setup=setup,
                  sections=sections)
