"""The hierarchy study's answers in words, generated from the measured numbers (no fixed claims).

Every function takes per-layer values (means over seeds) of the trained networks and of their
random-initialisation controls, and the layer names, and returns sentences.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..text import difference, pct, plural, share, wilson_interval
from ..text import num as _num

__all__ = ["trend", "series", "peak", "StageVerdict", "edge_stage", "part_stage", "object_stage", "story_verdict",
           "first_layer_reaching", "added_most", "LEE_2009_AUPRC", "TOL", "num", "stages", "summary_findings",
           "edge_findings", "object_findings", "scrambled_findings", "example_findings", "featvis_findings",
           "STAGE_MEASURE", "StageControl", "unit_counts", "stage_control", "story_plainly", "UnitTotals",
           "versus", "diff_words", "silent_findings", "accuracy_warning", "LEARNED_WELL"]

#: Lee, Grosse, Ranganath & Ng 2009: mean face AUPRC of the features of layers 1-3.
LEE_2009_AUPRC = (0.39, 0.86, 0.95)
#: Differences smaller than this (a share or an AUPRC) are called "about the same".
TOL = 0.05


def num(x, digits: int = 2) -> str:
    """An AUPRC, OSI or ratio in words: two significant digits (``0.2371 -> "0.24"``), NaN -> "n/a"."""
    return _num(x, digits)


@dataclass
class UnitTotals:
    """How many units stand behind each per-layer share: ``n_units`` (L,) per network, ``n_seeds`` networks.

    A per-layer share of units is a mean over seeds of ``k_s / n``; pooled over the seeds it is
    ``k / (n_seeds * n)`` with ``k = sum k_s``, so :meth:`count` recovers the whole count.
    """

    n_units: list[int]
    n_seeds: int

    def count(self, value, i: int) -> tuple[int, int]:
        """(units with the trait, units) of layer ``i`` pooled over seeds, from its mean share ``value``."""
        n = int(self.n_units[i]) * int(self.n_seeds)
        return int(np.rint(float(value) * n)), n

    def share(self, value, i: int) -> str:
        """``"12% (3 of 24 units; 95% CI 4.3–31%)"``: layer ``i``'s share with its count and Wilson interval."""
        k, n = self.count(value, i)
        return share(k, n, "units")

    def difference(self, a, b, i: int, j: int | None = None) -> tuple[float, float, float, bool]:
        """Difference of two shares (layer ``i``'s ``a`` minus layer ``j``'s ``b``, ``j`` defaults to ``i``) with its
        Newcombe 95% interval and whether it excludes zero (:func:`nichelab.studies.text.difference`)."""
        return difference(*self.count(a, i), *self.count(b, i if j is None else j))


def _fmt(x: float, as_pct: bool) -> str:
    return pct(x) if as_pct else num(x)


def _points(x: float) -> str:
    return f"{'+' if x >= 0 else '−'}{abs(100 * x):.1f}"


def diff_words(d: float, lo: float, hi: float) -> str:
    """``"difference −5.0 points, 95% CI −11.6 to +1.6"``."""
    return f"difference {_points(d)} points, 95% CI {_points(lo)} to {_points(hi)}"


def series(values, names, as_pct: bool, units: UnitTotals | None = None) -> str:
    """``"L1 10%, L2 30%"``: each layer's finite value; with ``units``, each share with its count and 95% interval."""
    if units is not None and as_pct:
        return ", ".join(f"{n} {units.share(v, i)}" for i, (n, v) in enumerate(zip(names, values)) if np.isfinite(v))
    return ", ".join(f"{n} {_fmt(v, as_pct)}" for n, v in zip(names, values) if np.isfinite(v))


def peak(values) -> int:
    """Index of the largest finite value (the first of ties); -1 if none is finite."""
    v = np.asarray(values, dtype=float)
    return int(np.nanargmax(v)) if np.isfinite(v).any() else -1


def trend(values, names, *, as_pct: bool = True, tol: float = TOL, units: UnitTotals | None = None) -> str:
    """How a measure changes with depth, e.g. ``"rises with depth (L1 10%, L2 30%, L3 60%)"``.

    Rises / falls: every step moves at most ``tol`` the other way and the last layer differs from
    the first by more than ``tol``. Otherwise "peaks at" / "is lowest at" an inner layer that
    beats both ends by more than ``tol``, "stays about the same" when the range is within
    ``tol``, or "changes without a steady trend".

    With ``units`` (shares of units), "more than ``tol``" becomes "a difference whose 95% interval
    excludes zero", the values carry their counts and intervals, and a range the run cannot tell
    from zero reads "does not differ between layers by more than this run can tell".
    """
    v = np.asarray(values, dtype=float)
    keep = np.isfinite(v)
    idx = [i for i, k in enumerate(keep) if k]
    v, kept_names = v[keep], [n for n, k in zip(names, keep) if k]
    listed = f"({series(values, names, as_pct, units)})"
    if len(v) < 2:
        return f"is measured on {'one layer' if len(v) else 'no layer'} only {listed}"
    if units is not None:
        def apart(a: int, b: int) -> bool:       # layer a's share above layer b's, the interval excluding zero
            d, _, _, sep = units.difference(v[a], v[b], idx[a], idx[b])
            return sep and d > 0
    else:
        def apart(a: int, b: int) -> bool:
            return v[a] - v[b] > tol
    hi, lo = int(np.argmax(v)), int(np.argmin(v))
    if not apart(hi, lo):
        return (f"does not differ between layers by more than this run can tell {listed}" if units is not None
                else f"stays about the same across layers {listed}")
    steps = np.diff(v)
    if np.all(steps >= -tol) and apart(len(v) - 1, 0):
        return f"rises with depth {listed}"
    if np.all(steps <= tol) and apart(0, len(v) - 1):
        return f"falls with depth {listed}"
    if 0 < hi < len(v) - 1 and apart(hi, 0) and apart(hi, len(v) - 1):
        return f"peaks at {kept_names[hi]} {listed}"
    if 0 < lo < len(v) - 1 and apart(0, lo) and apart(len(v) - 1, lo):
        return f"is lowest at {kept_names[lo]} {listed}"
    return f"changes without a steady trend {listed}"


def versus(trained: float, random: float, i: int, units: UnitTotals) -> str:
    """Layer ``i``'s share after training against the untrained network's, each with its count and interval, and
    their difference: called more or fewer only when its 95% interval excludes zero."""
    if not (np.isfinite(trained) and np.isfinite(random)):
        return "not measured"
    d, lo, hi, sep = units.difference(trained, random, i)
    word = ("more than" if d > 0 else "fewer than") if sep else "not measurably different from"
    return (f"{units.share(trained, i)}, {word} the untrained network's {units.share(random, i)} "
            f"({diff_words(d, lo, hi)}{'' if sep else ': this run cannot tell them apart'})")


def first_layer_reaching(values, names, threshold: float) -> str | None:
    """Name of the first layer whose value reaches ``threshold``, or None."""
    for n, v in zip(names, values):
        if np.isfinite(v) and v >= threshold:
            return n
    return None


@dataclass
class StageVerdict:
    """Whether one stage of "edges -> parts -> objects" holds in this run.

    ``holds`` is None when the stage cannot be measured (e.g. no part masks).
    ``layer`` is the index of the layer where the stage's detectors are most common.
    ``measurable`` is False when the layer-to-layer comparison that places the detectors (e.g. "more in L3 than
    in L1") has a 95% interval including zero, so this run cannot tell whether the stage holds; ``why`` then
    names that comparison with its interval.
    """

    stage: str
    holds: bool | None
    layer: int
    sentence: str
    measurable: bool = True
    why: str = ""


#: The most the top of a share's 95% interval may be for "hardly any units" to be measured, not just seen.
HARDLY_ANY = 2 * TOL


def _above(values, i: int, others, names, units: UnitTotals) -> tuple[bool, str]:
    """Whether layer ``i``'s share is above each of layers ``others`` (finite ones, ``i`` left out) by a difference
    whose 95% interval excludes zero; if not, the first comparison that is not, in words."""
    for j in others:
        if j == i or not (np.isfinite(values[i]) and np.isfinite(values[j])):
            continue
        d, lo, hi, sep = units.difference(values[i], values[j], i, j)
        if not (sep and d > 0):
            return False, f"{names[i]} against {names[j]}: {diff_words(d, lo, hi)}"
    return True, ""


def _hardly_any(value, i: int, names, units: UnitTotals) -> tuple[bool, str]:
    """Whether layer ``i`` measurably has hardly any (the top of the share's 95% interval at most
    :data:`HARDLY_ANY`); if not, the share in words."""
    k, n = units.count(value, i)
    ok = bool(n and wilson_interval(k, n)[1] <= HARDLY_ANY)
    return ok, "" if ok else f"{names[i]}: {share(k, n, 'units')}, an interval reaching above {pct(HARDLY_ANY)}"


def added_most(det_t, det_r, names, what: str, units: UnitTotals) -> str:
    """Where training added the most detectors, counting only layers whose difference from the untrained network
    has a 95% interval excluding zero: ``"Training added the most part detectors in L2 (15% (…) against 0% (…)
    untrained; difference …)."``, or that no layer has measurably more."""
    best, best_d = -1, 0.0
    for i in range(len(names)):
        if not (np.isfinite(det_t[i]) and np.isfinite(det_r[i])):
            continue
        d, _, _, sep = units.difference(det_t[i], det_r[i], i)
        if sep and d > best_d:
            best, best_d = i, d
    if best < 0:
        return (f"No layer has more {what} than the untrained network by more than this run can tell (every "
                "difference's 95% interval includes zero), so this run does not show training adding any.")
    d, lo, hi, _ = units.difference(det_t[best], det_r[best], best)
    return (f"Training added the most {what} in {names[best]} ({units.share(det_t[best], best)} against "
            f"{units.share(det_r[best], best)} untrained; {diff_words(d, lo, hi)}).")


def _more_than_untrained(t: float, r: float, i: int, units: UnitTotals) -> bool:
    d, _, _, sep = units.difference(t, r, i)
    return bool(sep and d > 0)


def edge_stage(det_t, det_r, sel_t, level_t, names, osi_threshold: float, drive_threshold: float,
               stimulus: str, units: UnitTotals) -> StageVerdict:
    """Edges: is the first layer where edge detectors are most common, and how does it compare with the untrained
    first layer?

    Parameters
    ----------
    det_t, det_r : (L,) float — share of edge detectors per layer, trained and untrained (mean over seeds).
    sel_t : (L,) float — share of orientation-selective units (trained).
    level_t : (L,) float or None — share of units whose best Network-Dissection concept is an edge.
    names : list of str — layer names.
    units : UnitTotals — units and seeds behind each share (every share is given with its count and interval).
    """
    i = peak(det_t)
    if i < 0:
        return StageVerdict("edges", None, -1, "No layer could be measured for orientation tuning.")
    first_is_top = np.isfinite(det_t[0]) and det_t[0] >= det_t[i] - TOL and det_t[i] > TOL
    s = (f"The share of edge detectors (units tuned to the orientation of {stimulus}: OSI >= {osi_threshold:g}, "
         f"and driven by them at least {pct(drive_threshold)} as strongly as by their best held-out image) "
         f"{trend(det_t, names, units=units)}. In {names[0]} it is {versus(det_t[0], det_r[0], 0, units)}. ")
    if np.nanmax(np.abs(np.asarray(sel_t) - np.asarray(det_t))) > TOL:
        s += ("Counting every orientation-selective unit, however weakly driven, the share "
              f"{trend(sel_t, names, units=units)}. ")
    if level_t is not None and np.isfinite(level_t[0]):
        s += (f"By Network Dissection, {units.share(level_t[0], 0)} of {names[0]}'s units match an edge orientation "
              "best. ")
    s += added_most(det_t, det_r, names, "edge detectors", units) + " "
    d0, _, _, sep0 = units.difference(det_t[0], det_r[0], 0)
    if first_is_top:
        s += "So the first layer is where edge detectors are most common, as the story says"
        if sep0 and d0 < 0:
            s += (", but the untrained first layer has more of them: random 3x3 filters are already oriented, so "
                  "'edges first' is there before any training, and training did not have to find edges.")
        elif not sep0:
            s += (", but this run cannot tell the trained first layer from the untrained one: random 3x3 filters are "
                  "already oriented, so 'edges first' is not shown to be something training found.")
        else:
            s += ", and training made them more common than in the untrained first layer."
        ok, why = _above(det_t, 0, range(len(names)), names, units)
        return StageVerdict("edges", True, 0, s, ok, why)
    if not det_t[i] > TOL:
        s += (f"Hardly any unit of any layer is an edge detector (at most {units.share(det_t[i], i)}), so this step "
              "of the story does not hold in this run.")
        return StageVerdict("edges", False, -1, s, *_hardly_any(det_t[0], 0, names, units))
    s += (f"Edge detectors are most common in {names[i]}, not in the first layer, so this step of the "
          "story does not hold in this run.")
    if sep0 and d0 < 0:
        s += (f" The trained {names[0]} even has fewer than the untrained one: training turned some of the edge "
              "detectors that random filters give into something else.")
    return StageVerdict("edges", False, i, s, *_above(det_t, i, [0], names, units))


def part_stage(det_t, det_r, level_t, level_r, level_edge_t, names, threshold: float, parts_by_layer: list[str],
               first_rf: int, units: UnitTotals) -> StageVerdict:
    """Parts: are part detectors most common in a middle layer, after the first, and above the control?

    The layer is chosen by the units whose best concept over edges, parts and objects is a part; "above the
    control" means a difference from the untrained network whose 95% interval excludes zero.
    """
    det_t = np.asarray(det_t, dtype=float)
    if not np.isfinite(det_t).any():
        return StageVerdict("parts", None, -1, "This dataset has no part masks, so part detectors cannot be "
                                               "measured here; run with the dataset parts.")
    conv = [n for n, v in zip(names, det_t) if np.isfinite(v)]
    s = (f"The share of part detectors (units whose best part has IoU > {threshold:g}) "
         f"{trend(det_t, names, units=units)}; in the untrained network it {trend(det_r, names, units=units)}. ")
    s += (f"Counting only units that match a part better than any edge orientation or whole object, the share "
          f"{trend(level_t, names, units=units)} (untrained: {series(level_r, names, True, units)}). ")
    found = [f"{n}: {p}" for n, p in zip(names, parts_by_layer) if p]
    if found:
        s += "Parts detected (first seed): " + "; ".join(found) + ". "
    s += added_most(level_t, level_r, names, "part detectors", units) + " "
    best = peak(level_t)
    holds = best > 0 and _more_than_untrained(level_t[best], level_r[best], best, units)
    if holds:
        s += (f"Part detectors are most common in {names[best]}, after the first layer and measurably above the "
              "untrained network, as the story says.")
    elif best == 0:
        s += (f"Part detectors are most common in the first layer; there, {units.share(level_edge_t[0], 0)} of the "
              f"units match an edge orientation better than any part, and a {first_rf}x{first_rf}-pixel receptive "
              "field can overlap a part but not see all of it. So the 'parts in the middle' step does not hold in "
              "this run.")
    else:
        s += (f"The layer with the most part detectors ({names[best]}) does not have measurably more than the "
              "untrained network, so the 'parts in the middle' step does not hold in this run.")
    if len(conv) < len(names):
        s += " Dense layers have no maps, so they cannot be dissected."
    if holds:
        ok, why = _above(level_t, best, [0], names, units)
    elif best == 0:
        ok, why = _above(level_t, 0, range(len(names)), names, units)
    else:       # fails on the control: measured only when the untrained network has measurably more
        d, lo, hi, ok = units.difference(level_t[best], level_r[best], best)
        why = f"{names[best]} trained against untrained: {diff_words(d, lo, hi)}"
    return StageVerdict("parts", bool(holds), best, s, bool(ok), "" if ok else why)


def object_stage(det_t, det_r, apmax_t, apmax_r, names, threshold: float, object_name: str,
                 target: str | None = None, *, units: UnitTotals) -> StageVerdict:
    """Objects: are single-unit object detectors (AUPRC >= threshold) most common in the last layers, and measurably
    more common there than in the untrained network?

    ``object_name`` names the detectors ("face", "class"); ``target`` what they detect
    (default ``"the {object_name} class"``).
    """
    i = peak(det_t)
    last = len(names) - 1
    what = f"{object_name} detectors"
    target = target or f"the {object_name} class"
    s = (f"The share of {what} (units that alone reach AUPRC >= {threshold:g} for {target}) "
         f"{trend(det_t, names, units=units)}; in the untrained network it {trend(det_r, names, units=units)}. "
         f"The best single unit's AUPRC {trend(apmax_t, names, as_pct=False)} "
         f"(untrained: {series(apmax_r, names, False)}). ")
    if i < 0 or not det_t[i] > 0:
        s += (f"No unit of any layer detects {target} this well, so the 'whole objects at the top' step "
              "does not hold in this run.")
        return StageVerdict("objects", False, int(np.nanargmax(apmax_t)) if np.isfinite(apmax_t).any() else -1, s,
                            *_hardly_any(det_t[last], last, names, units))
    s += added_most(det_t, det_r, names, what, units) + " "
    deep = i >= last - 1 and det_t[last] >= det_t[i] - TOL
    if deep and _more_than_untrained(det_t[i], det_r[i], i, units):
        s += (f"{what.capitalize()} sit at the top ({names[i]}), measurably above the untrained network, as the "
              "story says.")
        return StageVerdict("objects", True, i, s, *_above(det_t, i, range(last - 1), names, units))
    if deep:
        s += (f"{what.capitalize()} are most common at the top ({names[i]}), but this run cannot tell their share "
              "from the untrained network's, so it does not show training creating them.")
        d, lo, hi, sep = units.difference(det_t[i], det_r[i], i)
        return StageVerdict("objects", False, i, s, bool(sep),
                            "" if sep else f"{names[i]} trained against untrained: {diff_words(d, lo, hi)}")
    s += f"{what.capitalize()} are most common in {names[i]}, not at the top, so this step does not hold."
    return StageVerdict("objects", False, i, s, *_above(det_t, i, [last], names, units))


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def story_verdict(stages: list[StageVerdict], names) -> str:
    """One paragraph: does "edges -> parts -> objects" hold in this run, in order and against the control?"""
    measured = [s for s in stages if s.holds is not None]
    ok = [s.stage for s in measured if s.holds]
    bad = [s.stage for s in measured if not s.holds]
    order = [s.layer for s in measured if s.layer >= 0]
    in_order = all(a < b for a, b in zip(order, order[1:]))
    where = ", ".join(f"{s.stage} in {names[s.layer]}" for s in measured if s.layer >= 0)
    missing = [s.stage for s in stages if s.holds is None]
    tail = f"; {_join(missing)}: not measurable on this dataset" if missing else ""
    if not bad and in_order:
        return (f"In this run the detectors of each kind are most common in successive layers, as the story says "
                f"({where}){tail}; see the untrained-network comparison for whether training made them.")
    where = f" (most common: {where})" if where else ""
    if not ok:
        return f"In this run the story fails at every measured step{where}{tail}."
    steps = lambda xs: f"the {_join(xs)} step{'s' if len(xs) > 1 else ''}"  # noqa: E731
    order_txt = "" if in_order else ", and the detectors are not in the story's order"
    return (f"In this run the story holds only in part: {steps(ok)} hold{'s' if len(ok) == 1 else ''} as told; "
            f"{steps(bad)} do{'es' if len(bad) == 1 else ''} not{order_txt}{where}{tail}.")


# ---------------------------------------------------------------------------------------------
# The answers of a whole run, section by section. ``m(measure, which="trained")`` gives a
# measure's (L,) mean over seeds (see :func:`.summary.seed_mean`).
# ---------------------------------------------------------------------------------------------
def stages(m, names, cfg, *, has_masks: bool, object_name: str, object_target: str,
           parts_by_layer: list[str], first_rf: int, units: UnitTotals) -> list[StageVerdict]:
    """The verdicts on edges, parts and objects (``units``: the units and seeds behind every share)."""
    level = m("level_edge") if has_masks else None
    edges = edge_stage(m("edge_detectors"), m("edge_detectors", "random"), m("orientation_selective"), level,
                       names, cfg.osi_threshold, cfg.drive_threshold, cfg.stimulus, units)
    parts = part_stage(m("part_detectors"), m("part_detectors", "random"), m("level_part"), m("level_part", "random"),
                       m("level_edge"), names, cfg.iou_threshold, parts_by_layer, first_rf, units)
    objects = object_stage(m("object_detectors"), m("object_detectors", "random"), m("object_ap_max"),
                           m("object_ap_max", "random"), names, cfg.ap_threshold, object_name,
                           object_target.replace("its ", "their "), units=units)
    return [edges, parts, objects]


def summary_findings(verdict: str, stage_list: list[StageVerdict], scrambled: dict | None,
                     probe_threshold: float) -> list[str]:
    """The short answer after :func:`story_plainly`: the story's verdict and the scrambled-face layer.

    Each stage's numbers (every layer, with counts and intervals) are in its own section; the short answer
    keeps only where each kind is most common and its control (:func:`story_plainly`).
    """
    out = [verdict]
    if scrambled is not None:
        out.append(f"A linear probe first tells faces from scrambled faces ({pct(probe_threshold)} held-out accuracy) "
                   f"at {scrambled['trained'] or 'no layer'}; in the untrained network at "
                   f"{scrambled['random'] or 'no layer'}.")
    return out


def silent_findings(m, names, units: UnitTotals) -> str:
    """Silent units per layer, trained and untrained, with counts and intervals."""
    dt, dr = m("dead"), m("dead", "random")
    return ("Silent units (no response to any held-out image, so they prefer no class and are labelled silent, "
            f"not counted as detectors of anything): {series(dt, names, True, units)}; untrained: "
            f"{series(dr, names, True, units)}.")


def edge_findings(stage: StageVerdict, m, names, *, stimulus: str, first_layer: str, seed: int,
                  preferred_deg: list[float], units: UnitTotals) -> list[str]:
    """Edges: the stage, the drive by depth, silent units, and the first layer's preferred orientations."""
    stim = "bars" if stimulus == "bars" else "stripes"
    pref = ", ".join(f"{p:.0f}°" for p in preferred_deg)
    return [stage.sentence,
            f"The median drive (strongest response to a {stim[:-1]} / largest response to a held-out image) "
            f"{trend(m('drive_median'), names, as_pct=False)}; untrained: "
            f"{series(m('drive_median', 'random'), names, False)}.",
            silent_findings(m, names, units),
            (f"The edge detectors of {first_layer} (seed {seed}) prefer {stim} at {pref} (0° horizontal, 90° "
             f"vertical)." if preferred_deg else f"No unit of {first_layer} (seed {seed}) is an edge detector.")]


def _probe_gain(t: np.ndarray, r: np.ndarray, names) -> str:
    gain = t - r
    i = peak(gain)
    if i < 0 or not gain[i] > TOL:
        return "No layer's probe beats the untrained network's by more than 5 points."
    return f"Training added the most linearly readable class information in {names[i]} (+{100 * gain[i]:.0f} points)."


def _lee_comparison(m, names, has_scrambled: bool) -> str:
    lee = ", ".join(f"{v:.2f}" for v in LEE_2009_AUPRC)
    extra = ""
    if has_scrambled:
        extra = (f" Leaving scrambled faces out (faces against the other objects only, as in Lee et al.), the mean "
                 f"is {series(m('object_ap_no_scrambled_mean'), names, False)} and the best unit "
                 f"{series(m('object_ap_no_scrambled_max'), names, False)}.")
    return (f"For comparison, Lee et al. 2009 report a mean face AUPRC of {lee} for the features of layers 1–3 of a "
            f"network trained on faces alone. Here the mean over all units is "
            f"{series(m('object_ap_mean'), names, False)} (chance {num(m('object_ap_chance')[0])}): most units here "
            f"serve the other classes, so the best units and the trend are the fair comparison.{extra}")


def object_findings(stage: StageVerdict, m, names, *, has_object: bool, has_scrambled: bool,
                    has_masks: bool) -> list[str]:
    """Objects: the stage, Lee et al.'s AUPRC, class selectivity and the linear probes by depth."""
    out = [stage.sentence]
    if has_object:
        out.append(_lee_comparison(m, names, has_scrambled))
    sel_t, sel_r = m("selectivity_mean"), m("selectivity_mean", "random")
    same = bool(np.nanmax(np.abs(sel_t - sel_r)) <= TOL) if np.isfinite(sel_t - sel_r).any() else False
    out.append(f"Mean class selectivity of live units {trend(sel_t, names, as_pct=False)}; "
               f"untrained: {series(sel_r, names, False)}. Morcos et al. 2018 found it rises with depth"
               + ("; here the untrained network's is within 0.05 of the trained one's in every layer, so the "
                  "change with depth is not something training produced." if same else "."))
    pr_t, pr_r = m("probe_class"), m("probe_class", "random")
    out.append(f"The held-out accuracy of a linear probe for the class {trend(pr_t, names)}; on the untrained "
               f"network it is {series(pr_r, names, True)} (chance {pct(m('probe_class_chance')[0])}). "
               + _probe_gain(pr_t, pr_r, names))
    if has_masks:
        out.append(f"The accuracy of a probe for the presence of each part {trend(m('probe_parts'), names)} "
                   f"(untrained: {series(m('probe_parts', 'random'), names, True)}; chance "
                   f"{pct(m('probe_parts_chance')[0])}); part presence follows from the class here, "
                   "so it measures the same information as the class probe, per part.")
    return out


def scrambled_findings(m, names, first: dict, threshold: float) -> list[str]:
    """Faces vs. scrambled faces: the probe's accuracy by depth and the first layer reaching ``threshold``."""
    acc_t, acc_r = m("probe_scrambled"), m("probe_scrambled", "random")
    s = (f"A linear probe on each layer's units tells faces from scrambled faces (same parts, wrong layout) with "
         f"held-out accuracy {series(acc_t, names, True)} (chance {pct(m('probe_scrambled_chance')[0])}). ")
    s += (f"The first layer to reach {pct(threshold)} is {first['trained']}. " if first["trained"] else
          f"No layer reaches {pct(threshold)}. ")
    s += (f"In the untrained network: {series(acc_r, names, True)}; "
          + (f"it first reaches {pct(threshold)} at {first['random']}." if first["random"] else
             f"it never reaches {pct(threshold)}."))
    return [s]


def example_findings(seed: int) -> list[str]:
    """What the gallery of top examples shows."""
    return [f"Rows are the three most class-selective units of each layer of seed {seed} (among units whose largest "
            "activation is at least a tenth of the layer's typical one), labelled with their preferred class, and "
            "their part or edge orientation when they detect one."]


def featvis_findings(ratio_t, ratio_r, *, how: str, steps: int) -> list[str]:
    """Feature visualisation: how far the optimised inputs drive the units, trained and untrained."""
    rt, rr = np.asarray(ratio_t, dtype=float), np.asarray(ratio_r, dtype=float)
    if not rt.size:
        return ["No unit was chosen (units_per_layer 0 and no units given)."]
    return [f"For {how}, gradient ascent (Adam, {steps} steps; jitter, total-variation and L2 penalties; pixels "
            f"kept in the data's range) found inputs that drive the trained unit to {num(np.nanmin(rt))}–"
            f"{num(np.nanmax(rt))} times its best held-out image's activation (above 1 for "
            f"{share(int(np.sum(rt > 1)), len(rt), 'units')}); the same units before training reach "
            f"{num(np.nanmin(rr))}–{num(np.nanmax(rr))} times theirs.",
            "An optimised input shows what can drive a unit, not what drives it on real images: compare it with "
            "the real examples beside it before reading it as a 'part' or a 'face'."]


# ---------------------------------------------------------------------------------------------
# "Edges, then parts, then objects": said plainly, each stage against the untrained network with
# unit counts, 95% intervals and a difference only when its interval excludes zero.
# ---------------------------------------------------------------------------------------------
#: The measure that places each stage (as in :func:`stages`) and the detectors' name in words.
STAGE_MEASURE = {"edges": ("edge_detectors", "edge detectors"), "parts": ("level_part", "part detectors"),
                 "objects": ("object_detectors", "object detectors")}


@dataclass
class StageControl:
    """One stage's detectors in its layer, trained against untrained, pooled over seeds.

    ``k_*`` detectors of ``n_*`` units; ``learned`` is True (more after training), False (fewer),
    or None (the 95% interval of the difference includes zero: the run cannot tell).
    """

    stage: str
    layer: str
    k_trained: int
    n_trained: int
    k_random: int
    n_random: int
    learned: bool | None
    sentence: str


def unit_counts(per_seed, n_units: int) -> tuple[int, int]:
    """(units with the trait, units) pooled over seeds from per-seed shares (S,) of a layer of ``n_units``."""
    v = np.asarray(per_seed, dtype=float)
    v = v[np.isfinite(v)]
    return int(np.rint(v * n_units).sum()), int(v.size * n_units)


def stage_control(stage: StageVerdict, layer: str, k_t: int, n_t: int, k_r: int, n_r: int) -> StageControl:
    """Words for one stage's detectors in ``layer``: trained against untrained, with counts and intervals."""
    what = STAGE_MEASURE[stage.stage][1]
    d, lo, hi, sep = difference(k_t, n_t, k_r, n_r)
    head = (f"in {layer}, {share(k_t, n_t, 'units')} are {what} after training, against "
            f"{share(k_r, n_r, 'units')} in the untrained network")
    ci = diff_words(d, lo, hi) if n_t and n_r else "no units counted"
    if sep and d > 0:
        return StageControl(stage.stage, layer, k_t, n_t, k_r, n_r, True,
                            f"{head} ({ci}): training made them more common")
    if sep:
        return StageControl(stage.stage, layer, k_t, n_t, k_r, n_r, False,
                            f"{head} ({ci}): training made them rarer; random weights already give them, so "
                            "they are not something training had to find")
    return StageControl(stage.stage, layer, k_t, n_t, k_r, n_r, None,
                        f"{head} ({ci}): the run cannot tell the two apart, so these {what} are not shown to be "
                        "learned")


def _units_words(units: UnitTotals | None) -> str:
    if units is None:
        return ""
    lo, hi = min(units.n_units), max(units.n_units)
    per = plural(lo, "unit") if lo == hi else f"{lo} to {hi} units"
    return f"; only {per} per layer and {plural(units.n_seeds, 'seed')}"


def story_plainly(stage_list: list[StageVerdict], controls: list[StageControl],
                  units: UnitTotals | None = None) -> str:
    """Did "edges, then parts, then objects" hold in this run, and what does the untrained control say?

    The answer comes first, then where each kind of detector is most common, then each stage against the
    untrained network (counts, 95% intervals, a difference only when its interval excludes zero), and what the
    control means for "edges first". The answer is "Yes", "Only in part" or "No" only as far as the intervals
    support it: a stage whose placing comparison (:attr:`StageVerdict.measurable`) has an interval including zero
    makes the answer "This run cannot tell" for that stage, with the comparison and the units behind it.

    Parameters
    ----------
    stage_list : the verdicts of :func:`stages` (where each kind of detector is most common).
    controls : one :class:`StageControl` per stage with a layer (same order, measured stages only).
    units : UnitTotals, optional — units per layer and seeds, named when the run cannot tell.
    """
    measured = [s for s in stage_list if s.holds is not None]
    unclear = [s for s in measured if not s.measurable]
    clear = [s for s in measured if s.measurable]
    placed = all(s.holds for s in measured) and measured
    order = [s.layer for s in measured if s.layer >= 0]
    in_order = all(a < b for a, b in zip(order, order[1:]))
    not_learned = [c.stage for c in controls if c.learned is not True]
    bad = [s.stage for s in clear if not s.holds]

    def steps(xs, verb):    # "the edges step does not" / "the edges and parts steps do not"
        return f"the {_join(xs)} step{'s' if len(xs) > 1 else ''} {verb[1] if len(xs) > 1 else verb[0]}"
    cannot = ""
    if unclear:
        many = len(unclear) > 1
        cannot = (f"this run cannot tell whether {steps([s.stage for s in unclear], ('holds', 'hold'))}: the "
                  f"layer-to-layer difference{'s' if many else ''} that place{'' if many else 's'} "
                  f"{'them have 95% intervals that include' if many else 'it has a 95% interval that includes'} zero ("
                  + "; ".join(f"{s.stage}: {s.why}" for s in unclear) + f"{_units_words(units)}), too few units to "
                  "tell the layers apart; more seeds (--seeds) would narrow the intervals")
    if bad:
        verdict = (f"No: {steps(bad, ('does not hold', 'do not hold'))} where the story puts "
                   f"{'them' if len(bad) > 1 else 'it'}" + (f"; and {cannot}" if cannot else "") + ".")
    elif unclear:
        ok = [s.stage for s in clear if s.holds]
        verdict = ("This run cannot tell: " + cannot
                   + (f". Measurably, {steps(ok, ('holds', 'hold'))} as told" if ok else "") + ".")
    elif placed and in_order and not not_learned:
        verdict = ("Yes: each kind is most common in a later layer than the one before, and training made each "
                   "more common than it is in the untrained network.")
    elif placed and in_order:
        verdict = (f"Only in part: the layers are in the story's order, but for {_join(not_learned)} training did "
                   "not measurably add detectors over the untrained network, so this run does not show training "
                   f"creating {'those steps' if len(not_learned) > 1 else 'that step'}.")
    else:
        verdict = "No: the detectors are not in the story's order."
    by_stage = {s.stage: s for s in stage_list}

    def most(c):
        if not c.k_trained:
            return "none in any layer"
        st = by_stage.get(c.stage)
        return c.layer + (" (not measurably more than elsewhere)" if st is not None and not st.measurable else "")
    where = (" Where each kind of detector is most common: "
             + ("; ".join(f"{c.stage}: {most(c)}" for c in controls) or "nowhere") + ".")
    against = (" Against the untrained network (the same architecture at its random initial weights): "
               + "; ".join(f"{c.stage}: {c.sentence}" for c in controls) + ".") if controls else ""
    edges = next((c for c in controls if c.stage == "edges"), None)
    step = "'edges first'" if any(s.stage == "edges" and s.layer == 0 for s in stage_list) else "the edges step"
    note = ""
    if edges is not None and edges.learned is False:
        note = (f" What the control means for {step}: the untrained network has more edge detectors in "
                f"{edges.layer} than the trained one, so edge detectors are there before any training (random "
                "filters are already oriented) and training turned some of them into something else; they come "
                "from the architecture and its random start, not from something training found.")
    elif edges is not None and edges.learned is None:
        note = (f" What the control means for {step}: this run cannot tell the trained {edges.layer} from "
                "the untrained one, so edge detectors are not shown to come from training: random filters are "
                "already oriented.")
    missing = [s.stage for s in stage_list if s.holds is None]
    tail = f" ({_join(missing).capitalize()}: not measurable on this dataset.)" if missing else ""
    return "Did 'edges, then parts, then objects' hold in this run? " + verdict + where + against + note + tail


#: "Learned its task well": the share of the way from chance to 100% held-out accuracy the network must cover.
LEARNED_WELL = 0.75


def accuracy_warning(accuracy, n_test: int, chance: float) -> list[str]:
    """A plain warning when the trained networks' held-out accuracy says they learned little (else ``[]``).

    The accuracy is pooled over seeds (``round(acc * n_test)`` correct of ``n_test`` per seed) with its Wilson
    95% interval and set against ``chance`` (always guessing the commonest held-out class). Warned: an
    interval reaching chance ("cannot tell it from guessing"); an interval wholly below :data:`LEARNED_WELL` of
    the way from chance to 100% ("learned little"); an interval straddling that point ("cannot tell whether it
    learned its task well").

    Parameters
    ----------
    accuracy : sequence of float — held-out accuracy of each seed's trained network (NaN: diverged, left out).
    n_test : int — held-out images.
    chance : float — the commonest class's share of the held-out images.
    """
    acc = np.asarray(accuracy, dtype=float)
    acc = acc[np.isfinite(acc)]
    if not (acc.size and n_test > 0 and 0 < chance < 1):
        return []
    k, n = int(np.rint(acc * n_test).sum()), int(acc.size * n_test)
    lo, hi = wilson_interval(k, n)
    well = chance + LEARNED_WELL * (1 - chance)
    acc_words = (f"the trained {'networks' if acc.size > 1 else 'network'}’ held-out accuracy is "
                 f"{share(k, n, 'test images' + (', pooled over seeds' if acc.size > 1 else ''))}, against "
                 f"{pct(chance)} by chance (always guessing the commonest class)")
    if acc.size == 1:
        acc_words = acc_words.replace("network’", "network’s")
    point = f"{pct(well)}, three quarters of the way from chance to 100%"
    advice = (" Train longer (--epochs) or on more images (--per-class) before reading the answers below as "
              "what trained networks learn.")
    if lo <= chance:
        return [f"Warning: {acc_words}: this run cannot tell it from guessing, so the network learned nothing "
                "measurable and its units say nothing about what trained networks learn." + advice]
    if hi < well:
        return [f"Warning: {acc_words}: the network learned little (even the top of the interval is below {point}), "
                "so its units say little about what trained networks learn." + advice]
    if lo < well:
        return [f"Note: {acc_words}: this run cannot tell whether the network learned its task well (the interval "
                f"reaches below {point})." + advice]
    return []
