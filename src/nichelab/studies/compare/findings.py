"""``nichelab compare``'s answers in words, generated from the measured numbers."""
from __future__ import annotations

import math

from ..convergence.agreement import VERDICTS
from ..text import num, pct, share, wilson_interval
from .config import CompareConfig

__all__ = ["CANNOT_TELL", "COMPARE_VERDICTS", "SHORT_VERDICTS", "layer_verdict", "describe_pair", "answer_short",
           "answer_layers", "answer_units"]

#: The verdict when the share's 95% interval spans the majority: too few units (or a share too close
#: to the majority) to say whether the layers hold the same units.
CANNOT_TELL = "this run cannot tell"
#: Compare's verdicts on one layer pair, strongest agreement first.
COMPARE_VERDICTS = (VERDICTS[0], CANNOT_TELL, VERDICTS[1], VERDICTS[2])
#: Verdicts abbreviated for the terminal table.
SHORT_VERDICTS = {VERDICTS[0]: "units", CANNOT_TELL: "can't tell", VERDICTS[1]: "subspace", VERDICTS[2]: "partly"}
#: Matched correlation at which a unit counts as an exact copy (for the "permutation" finding).
EXACT = 0.999


def _pair_name(layer_a: str, layer_b: str) -> str:
    return layer_a if layer_a == layer_b else f"{layer_a}={layer_b}"


def layer_verdict(k: int, n: int, cka: float, majority: float = 0.5, subspace_high: float = 0.8,
                  permutation: bool = False) -> str:
    """One matched layer pair's answer to "same units, or only the same subspace?", following the
    95% interval of the share of live units with a counterpart.

    Parameters
    ----------
    k, n : int
        Live units of A with a one-to-one counterpart (matched correlation ≥ ``threshold_high``), and
        live units of A.
    cka : float
        Linear CKA of the two layers (NaN never passes a rule).
    majority : float, default 0.5
        Share of live units with a counterpart at which a layer holds "the same units".
    subspace_high : float, default 0.8
        Linear CKA at which the layers share "the same subspace".
    permutation : bool, default False
        Every live unit has an exact copy (correlation ≥ 0.999) and the layers have the same width:
        a measured fact, not an estimate, so "same units" whatever ``n``.

    Returns
    -------
    str
        ``"same units"`` when the Wilson 95% interval of ``k / n`` lies at or above ``majority`` (or
        ``permutation``); ``"this run cannot tell"`` when the interval contains ``majority`` (e.g. 1 of
        2 units: 95% CI 9.5–91%); otherwise (the interval lies below ``majority``) ``"same subspace,
        different units"`` when ``cka ≥ subspace_high``, else ``"partly shared"``. With no live unit
        (``n == 0``) only the CKA rule applies.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    Li, Y., Yosinski, J., Clune, J., Lipson, H., Hopcroft, J. (2015). Convergent learning: do
    different neural networks learn the same representations?
    """
    if permutation and n > 0:
        return VERDICTS[0]
    if n > 0:
        lo, hi = wilson_interval(k, n)
        if lo >= majority:
            return VERDICTS[0]
        if hi >= majority:
            return CANNOT_TELL
    if cka is not None and math.isfinite(cka) and cka >= subspace_high:
        return VERDICTS[1]
    return VERDICTS[2]


def _name(s: dict) -> str:
    return _pair_name(s["layer_a"], s["layer_b"])


def _high(s: dict) -> str:
    """The share of A's live units with a counterpart, with its count and 95% interval."""
    return share(s["n_high"], s["n_live"])


def _verdict_words(s: dict, cfg: CompareConfig) -> str:
    if s["verdict"] == CANNOT_TELL:
        return (f"this run cannot tell whether the units are the same: the 95% interval of the share with a "
                f"counterpart contains the {pct(cfg.majority)} needed for 'same units'")
    return s["verdict"]


def _group(sums: list[dict]) -> str:
    """``"same units in L1; this run cannot tell in L2"`` (verdicts strongest first)."""
    groups: dict[str, list[str]] = {}
    for s in sums:
        groups.setdefault(s["verdict"], []).append(_name(s))
    if len(groups) == 1:
        v = next(iter(groups))
        if v == VERDICTS[0]:
            return "the same units"
        if v == VERDICTS[1]:
            return "the same subspace, not the same units"
    return "; ".join(f"{v} {'for' if v == CANNOT_TELL else 'in'} {', '.join(groups[v])}"
                     for v in COMPARE_VERDICTS if v in groups)


def describe_pair(s: dict, cfg: CompareConfig) -> str:
    """One matched layer pair's numbers in a sentence (and whether B's units are A's permuted)."""
    live = s["units_a"] - s["dead_a"]
    dead = f"; {s['dead_a']} dead in A, {s['dead_b']} in B" if s["dead_a"] or s["dead_b"] else ""
    text = (f"{_name(s)} ({s['units_a']} vs {s['units_b']} units{dead}): mean matched correlation "
            f"{num(s['matched_mean'])} (lowest {num(s['matched_min'])}); {share(s['n_high'], live)} of A's live units "
            f"have a counterpart at ≥ {cfg.threshold_high:g}, {share(s['n_none'], live)} have none "
            f"(< {cfg.threshold_low:g}); best linear combination of B's units: median {num(s['linpred_median'])}; "
            f"linear CKA {num(s['linear_cka'])} — {_verdict_words(s, cfg)}.")
    if s["permutation"]:
        text += (f" Every live unit has an exact counterpart (correlation ≥ {EXACT:g}, lowest "
                 f"{num(s['matched_min'], 4)}): B's layer is A's with its units permuted (up to scale and offset).")
    return text


def answer_short(sums: list[dict], cfg: CompareConfig, label_a: str, label_b: str, measure_label: str,
                 notes: list[str]) -> list[str]:
    """The short answer: same units, or only the same subspace? With this comparison's numbers."""
    if not sums:
        return [f"No layers were matched unit by unit; see the {measure_label} heatmap."] + list(notes)
    head = _group(sums)
    out = [f"Same units, or only the same subspace? For {label_a} vs {label_b}: {head}. "
           + "Share of A's live units with a one-to-one counterpart in B at ≥ "
           f"{cfg.threshold_high:g}: " + ", ".join(f"{_name(s)} {_high(s)}" for s in sums)
           + "; mean matched correlation: " + ", ".join(f"{_name(s)} {num(s['matched_mean'])}" for s in sums)
           + "; linear CKA: " + ", ".join(f"{_name(s)} {num(s['linear_cka'])}" for s in sums) + "."]
    if any(s["verdict"] == CANNOT_TELL for s in sums):
        out.append(f"'Same units' needs the 95% interval of that share to lie at or above {pct(cfg.majority)}; "
                   "where it spans that value, more units (a wider layer) or more networks are needed to tell.")
    perm = [_name(s) for s in sums if s["permutation"]]
    if perm:
        out.append(f"In {', '.join(perm)} B's units are an exact permutation of A's "
                   f"(every matched correlation ≥ {EXACT:g}).")
    return out


def answer_layers(most_similar: list[dict], layers_b: list[str], measure_label: str) -> list[str]:
    """Which layer of B is most similar to each layer of A."""
    parts = ", ".join(f"{d['layer_a']} → {d['layer_b']} ({num(d['value'])})" for d in most_similar if d["layer_b"])
    out = [f"Most similar layer of B for each layer of A by {measure_label}: {parts}."]
    shared = [d["layer_a"] for d in most_similar if d["layer_a"] in layers_b]
    if shared:
        same = [d["layer_a"] for d in most_similar if d["layer_a"] == d["layer_b"]]
        out.append(f"{len(same)} of the {len(shared)} layers of A whose name B also has are most similar to "
                   f"B's layer of the same name.")
    return out


def answer_units(sums: list[dict], cfg: CompareConfig) -> list[str]:
    """One sentence per matched layer pair."""
    return [describe_pair(s, cfg) for s in sums]
