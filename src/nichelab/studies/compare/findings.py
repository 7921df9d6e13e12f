"""``nichelab compare``'s answers in words, generated from the measured numbers."""
from __future__ import annotations

from ..convergence.agreement import group_verdicts, overall_phrase
from ..text import num, pct
from .analysis import EXACT, pair_name
from .config import CompareConfig

__all__ = ["describe_pair", "answer_short", "answer_layers", "answer_units"]


def _name(s: dict) -> str:
    return pair_name(s["layer_a"], s["layer_b"])


def describe_pair(s: dict, cfg: CompareConfig) -> str:
    """One matched layer pair's numbers in a sentence (and whether B's units are A's permuted)."""
    live = s["units_a"] - s["dead_a"]
    dead = f"; {s['dead_a']} dead in A, {s['dead_b']} in B" if s["dead_a"] or s["dead_b"] else ""
    text = (f"{_name(s)} ({s['units_a']} vs {s['units_b']} units{dead}): mean matched correlation "
            f"{num(s['matched_mean'])}; {pct(s['frac_high'])} of A's {live} live units have a counterpart at "
            f"≥ {cfg.threshold_high:g}, {pct(s['frac_none'])} have none (< {cfg.threshold_low:g}); best linear "
            f"combination of B's units: median {num(s['linpred_median'])}; linear CKA {num(s['linear_cka'])} — "
            f"{s['verdict']}.")
    if s["permutation"]:
        text += (f" Every live unit has an exact counterpart (correlation ≥ {EXACT:g}, lowest "
                 f"{num(s['matched_min'], 4)}): B's layer is A's with its units permuted (up to scale and offset).")
    return text


def answer_short(sums: list[dict], cfg: CompareConfig, label_a: str, label_b: str, measure_label: str,
                 notes: list[str]) -> list[str]:
    """The short answer: same units, or only the same subspace? With this comparison's numbers."""
    if not sums:
        return [f"No layers were matched unit by unit; see the {measure_label} heatmap."] + list(notes)
    items = [(_name(s), s["verdict"]) for s in sums]
    head = overall_phrase(items) or group_verdicts(items)
    out = [f"Same units, or only the same subspace? For {label_a} vs {label_b}: {head}. "
           + "Share of A's live units with a one-to-one counterpart in B at ≥ "
           f"{cfg.threshold_high:g}: " + ", ".join(f"{_name(s)} {pct(s['frac_high'])}" for s in sums)
           + "; linear CKA: " + ", ".join(f"{_name(s)} {num(s['linear_cka'])}" for s in sums) + "."]
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
