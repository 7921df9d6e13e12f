"""The sweep's findings in words, computed from the cells' counts, and its report page.

Every share in words carries its count and 95% interval (:func:`nichelab.studies.text.share`);
a change over the grid is called a change only when the Newcombe 95% interval of the difference
excludes zero (:func:`nichelab.studies.text.difference`), otherwise the text says the sweep
cannot tell.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from ..reporting.pages.sweep import outcomes_of
from ..studies import text

_Z95 = 1.959963984540054

__all__ = ["OUTCOME_WORDS", "sweep_findings", "write_report"]

#: What each lab outcome means, in words (defined before first use in the report).
OUTCOME_WORDS = {
    "distinct": ("distinct", "every unit implements its own split of the four classes and every class is "
                 "mostly classified right"),
    "duplicate": ("duplicate", "two units implement the same split of the classes"),
    "dead": ("dead", "a unit is silent (outputs 0) on every sample"),
    "other": ("other", "none of the above, e.g. distinct splits but a class mostly misclassified"),
}


def _done(rows):
    return [r for r in rows if r.get("status") == "done"]


def _pooled(rows, field, value, outcome) -> tuple[int, int]:
    sel = [r for r in rows if str(r.get(field)) == str(value)]
    return sum(int(r[f"n_{outcome}"]) for r in sel), sum(int(r["n_seeds"]) for r in sel)


def _points(d: float) -> str:
    """A difference of shares in percentage points: ``0.093 -> "+9.3"``, ``0.1 -> "+10"``."""
    v = round(100 * d, 1)
    return f"{v:+.0f}" if abs(v) >= 10 or v == 0 else f"{v:+.1f}"


def _diff(a: tuple, b: tuple) -> tuple[float, float, float, bool]:
    """Difference of shares ``a - b`` (each ``(value, k, n)``) with its Newcombe 95% interval."""
    return text.difference(a[1], a[2], b[1], b[2])


def _ci_points(d: tuple) -> str:
    return f"{_points(d[0])} points, 95% CI {_points(d[1])} to {_points(d[2])}"


def _shape(field: str, o: str, pts: list[tuple], pooled: str) -> str | None:
    """Words for one outcome's share over a field's values (``pts``: ``(value, k, n)`` in grid order), or
    None when no change is separated from zero.

    An interior peak (or low) is named when it differs from both ends; otherwise the first and last
    values are compared, and a path that does not move one way is said to, with every value listed.
    """
    at = lambda p: f"{text.share(p[1], p[2])} at {field}={p[0]}"  # noqa: E731
    listing = "; ".join(f"{field}={p[0]}: {text.share(p[1], p[2])}" for p in pts)
    shares = [p[1] / p[2] for p in pts]
    for kind, pick in (("peak", max), ("low", min)):
        j = shares.index(pick(shares))
        if 0 < j < len(pts) - 1:
            first, last = _diff(pts[j], pts[0]), _diff(pts[j], pts[-1])
            if first[3] and last[3]:
                up, down = ("rises", "falls") if kind == "peak" else ("falls", "rises")
                return (f"The share of seeds ending {o} {up} from {at(pts[0])} to a {kind} of {at(pts[j])}, then "
                        f"{down} to {at(pts[-1])} ({kind} minus first: {_ci_points(first)}; {kind} minus last: "
                        f"{_ci_points(last)}){pooled}.")
    d = _diff(pts[-1], pts[0])
    if not d[3]:
        return None
    steps = [b - a for a, b in zip(shares, shares[1:])]
    steady = all(x >= 0 for x in steps) or all(x <= 0 for x in steps)
    if steady:
        verb = "rises" if d[0] > 0 else "falls"
        out = (f"The share of seeds ending {o} {verb} from {at(pts[0])} to {at(pts[-1])} "
               f"(difference {_ci_points(d)}){pooled}")
    else:
        verb = "higher" if d[0] > 0 else "lower"
        out = (f"The share of seeds ending {o} is {verb} at {field}={pts[-1][0]} than at {field}={pts[0][0]} "
               f"(difference {_ci_points(d)}){pooled}, but it does not move one way in between")
    return out + (f" ({listing})." if len(pts) > 2 else ".")


def _field_findings(rows, grid: dict, outcomes: list[str]) -> list[str]:
    out = []
    for field, values in grid.items():
        if len(values) < 2:
            continue
        others = [f for f in grid if f != field and len(grid[f]) > 1]
        pooled = f", pooled over {' and '.join(others)}" if others else ""
        unclear = []
        for o in outcomes:
            pts = [(v, *_pooled(rows, field, v, o)) for v in values]
            pts = [p for p in pts if p[2]]
            if len(pts) < 2:
                continue
            words = _shape(field, o, pts, pooled)
            if words:
                out.append(words)
            else:
                unclear.append(f"{o} ({' vs '.join(text.pct(p[1] / p[2]) for p in pts)})")
        if unclear:
            span = f"{field}={values[0]} and {field}={values[-1]}" if len(values) == 2 else \
                f"the values of {field} ({', '.join(map(str, values))})"
            out.append(f"Between {span} this sweep cannot tell whether the share of seeds ending "
                       f"{', '.join(unclear)} changes: the 95% interval of each difference includes zero{pooled}.")
    return out


def _extremes(rows, outcome: str) -> str | None:
    done = [r for r in _done(rows) if r.get("n_seeds")]
    if len(done) < 2:
        return None
    hi = max(done, key=lambda r: r[f"share_{outcome}"])
    lo = min(done, key=lambda r: r[f"share_{outcome}"])
    if hi is lo:
        return None
    *_, sep = text.difference(int(hi[f"n_{outcome}"]), int(hi["n_seeds"]), int(lo[f"n_{outcome}"]), int(lo["n_seeds"]))
    verdict = ("the two cells differ (the 95% interval of the difference excludes zero)" if sep else
               "the sweep cannot tell these two cells apart (the interval of the difference includes zero)")
    return (f"Seeds ended {outcome} most often at {hi['cell']}: {text.share(int(hi[f'n_{outcome}']), int(hi['n_seeds']))}, "
            f"and least often at {lo['cell']}: {text.share(int(lo[f'n_{outcome}']), int(lo['n_seeds']))}; {verdict}.")


def _accuracy(rows) -> str | None:
    done = [r for r in _done(rows) if isinstance(r.get("accuracy_mean"), (int, float))
            and math.isfinite(r["accuracy_mean"])]
    if len(done) < 2:
        return None
    hi = max(done, key=lambda r: r["accuracy_mean"])
    lo = min(done, key=lambda r: r["accuracy_mean"])
    ci = lambda r: (f"{text.pct(r['accuracy_mean'], 1)} (95% CI {text.pct(r['accuracy_lo'], 1)}–"  # noqa: E731
                    f"{text.pct(r['accuracy_hi'], 1)})")
    se = lambda r: (r["accuracy_hi"] - r["accuracy_lo"]) / (2 * _Z95)  # noqa: E731
    d = hi["accuracy_mean"] - lo["accuracy_mean"]
    half = _Z95 * math.sqrt(se(hi) ** 2 + se(lo) ** 2)
    verdict = (f"the difference, {_points(d)} points (95% CI {_points(d - half)} to {_points(d + half)}), "
               + ("excludes zero, so these cells differ" if d - half > 0 else
                  "includes zero, so the sweep cannot tell them apart"))
    return (f"Mean accuracy over the seeds (the share of the training points classified right, averaged over "
            f"seeds) was highest at {hi['cell']}: {ci(hi)}, and lowest at {lo['cell']}: {ci(lo)}; {verdict}.")


def sweep_findings(spec: dict, rows: list[dict]) -> dict:
    """The sweep's answers in words, from the cells' counts.

    Parameters
    ----------
    spec : dict
        ``study``, ``grid`` (field -> values as typed), ``seeds``, ``first_seed``.
    rows : list of dict
        The rows of ``cells.csv`` (:func:`nichelab.runs.sweep.headline` numbers per cell).

    Returns
    -------
    dict of str -> list of str
        ``terms`` (the outcomes defined), ``grid`` (how each outcome's share moves with each swept
        setting), ``cells`` (where each outcome was most and least common), ``accuracy``,
        ``failed``.
    """
    done = _done(rows)
    outcomes = outcomes_of(done)
    grid = {k: [str(v) for v in vals] for k, vals in spec["grid"].items()}
    out = {"terms": [], "grid": [], "cells": [], "accuracy": [], "failed": []}
    if outcomes:
        out["terms"].append("Each seed ends in one outcome: " + "; ".join(
            f"{OUTCOME_WORDS[o][0]}: {OUTCOME_WORDS[o][1]}" for o in outcomes if o in OUTCOME_WORDS) + ".")
        out["grid"] = _field_findings(done, grid, outcomes)
        out["cells"] = [s for s in (_extremes(rows, o) for o in outcomes) if s]
    acc = _accuracy(rows)
    if acc:
        out["accuracy"].append(acc)
    bad = [r for r in rows if r.get("status") != "done"]
    if bad:
        out["failed"].append(f"{text.plural(len(bad), 'cell')} of {len(rows)} did not finish "
                             f"({', '.join(r['cell'] for r in bad[:5])}{' ...' if len(bad) > 5 else ''}); "
                             "they are listed at the end with their error. Re-run the same command to retry "
                             "them: finished cells are skipped.")
    return out


def write_report(out: Path, study: str, spec: dict, rows: list[dict], seconds: float) -> Path:
    """Compute the findings, store them in ``sweep.json`` and write ``report.html``."""
    from ..reporting.html import render_html
    from ..reporting.pages.sweep import page
    from .provenance import versions
    findings = sweep_findings(spec, rows)
    meta_path = Path(out) / "sweep.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.update(findings=findings, seconds=seconds, versions=versions())
    tmp = meta_path.with_name(".sweep.json.tmp")
    tmp.write_text(json.dumps(meta, indent=1, default=str), encoding="utf-8")
    tmp.replace(meta_path)
    report = page(spec, rows, findings)
    v = meta["versions"]
    report.footer = (f"nichelab {v.get('nichelab')} · torch {v.get('torch')} · numpy {v.get('numpy')} · "
                     f"sweep ran {seconds:.1f} s")
    from ..reporting.glossary import FILENAME, render_glossary
    (Path(out) / FILENAME).write_text(render_glossary(), encoding="utf-8")   # the page links it
    path = Path(out) / "report.html"
    tmp = path.with_name(".report.html.tmp")
    tmp.write_text(render_html(report), encoding="utf-8")
    tmp.replace(path)
    return path
