"""The convergence study's answers in words, generated from the measured numbers.

Every sentence is built from the layer summaries (:func:`analysis.layer_summaries`), the
identification test and the thresholds of the config; the published results (Li et al. 2015,
Kornblith et al. 2019) are quoted as references and compared, never assumed.
"""
from __future__ import annotations

import numpy as np

from ...metrics.identification import identify_layers, most_similar
from ..text import num, pct, share
from .agreement import VERDICTS, group_verdicts, overall_phrase
from .analysis import ConvergenceAnalysis
from .config import ConvergenceConfig
from .measures import DISTANCES, MEASURE_LABELS

__all__ = ["identification_counts", "identification_words", "overall_answer", "answer_short", "answer_units", "answer_subspace", "answer_identification",
           "answer_which_layers", "thresholds_note", "describe_layer", "counterpart_lists", "KORNBLITH_CKA",
           "KORNBLITH_CCA", "KORNBLITH_TEXT", "RARE"]

#: Kornblith et al. 2019, table 2: linear CKA identifies the corresponding layer of another seed in
#: 99.3% of cases (10 seeds of a 10-layer CNN on CIFAR-10); CCA-based indices in 1-15%.
KORNBLITH_CKA = 0.993
KORNBLITH_CCA = (0.01, 0.15)
KORNBLITH_TEXT = {"cka": "99.3%", "cca": "1–15%"}
_CCA_FAMILY = ("cca", "svcca", "pwcca")
#: A share of units under this is called "rare" in the findings.
RARE = 0.1


def _hidden(summ: list[dict]) -> list[dict]:
    """The hidden layers' summaries (every layer but the last, the output), or all if only one."""
    return summ[:-1] if len(summ) > 1 else summ


def _pooled(a: ConvergenceAnalysis, what: dict, layers: list[str]) -> np.ndarray:
    return np.concatenate([a.pooled(what, n) for n in layers]) if layers else np.zeros(0)


def overall_answer(summ: list[dict]) -> str:
    """The hidden layers' verdict in one phrase."""
    items = [(s["layer"], s["verdict"]) for s in _hidden(summ)]
    phrase = overall_phrase(items)
    if phrase is not None:
        return phrase
    if all(v in VERDICTS[:2] for _, v in items):
        same = [s["layer"] for s in _hidden(summ) if s["verdict"] == VERDICTS[0]]
        return f"the same subspace everywhere, and the same units only in {', '.join(same)}"
    return group_verdicts(items)


def describe_layer(s: dict, cfg: ConvergenceConfig) -> str:
    """One layer's numbers in a sentence."""
    dead = f", {s['dead_mean']:.1f} dead on average" if s["dead_mean"] else ""
    return (f"{s['layer']} ({s['width']} units{dead}): mean matched correlation {num(s['matched_mean'])}; "
            f"{pct(s['frac_high'])} of live units have a counterpart at ≥ {cfg.threshold_high:g}, "
            f"{pct(s['frac_none'])} have no counterpart (< {cfg.threshold_low:g}); linear CKA {num(s['cka'])}; "
            f"verdict: {s['verdict']}")


def answer_short(summ: list[dict], a: ConvergenceAnalysis, cfg: ConvergenceConfig) -> list[str]:
    """The short answer: same units, or only the same subspace? With this run's numbers."""
    hid = _hidden(summ)
    names = [s["layer"] for s in hid]
    m = _pooled(a, a.matched, names)
    lp = _pooled(a, a.linpred, names)
    ckas = [s["cka"] for s in hid]
    base = [s["baseline_cka"] for s in hid]
    span = names[0] if len(names) == 1 else f"{names[0]}–{names[-1]}"
    out = [f"Same units, or only the same subspace? In this run: {overall_answer(summ)}. "
           f"Across the hidden layers {span} of {len(a.within)} seeds, "
           f"{share(int((m >= cfg.threshold_high).sum()), int(m.size), 'live units, all seed pairs')} "
           f"have a one-to-one counterpart in another seed with activation correlation ≥ "
           f"{cfg.threshold_high:g} (mean matched correlation {num(np.mean(m) if m.size else np.nan)}), while the "
           f"same layer of two seeds has linear CKA {num(min(ckas))}–{num(max(ckas))} (against an untrained network: "
           f"{num(min(base))}–{num(max(base))}) and "
           f"{share(int((lp >= cfg.threshold_high).sum()), int(lp.size), 'units')} are reproduced by a linear "
           f"combination of the other seed's units (held-out correlation ≥ {cfg.threshold_high:g})."]
    acc = float(a.identified["linear_cka"].mean())
    out.append(f"Layer identification asks whether a layer's most similar layer in another seed (by linear CKA) "
               f"is the same layer: {identification_words(a)}. Kornblith et al. (2019) report "
               f"{KORNBLITH_TEXT['cka']} for a 10-layer CNN. " + _kornblith_cka_verdict(acc))
    return out


def identification_counts(a: ConvergenceAnalysis, measure: str = "linear_cka",
                          hidden_only: bool = False) -> tuple[int, int, int]:
    """(rows identified, rows, layers compared) of the layer identification by ``measure``.

    Rows are (ordered seed pair, layer). ``hidden_only`` leaves the last layer (the logits) out both as
    a row and as a candidate, i.e. identifies each hidden layer among the hidden layers only.
    """
    if hidden_only:
        H = len(a.layers) - 1
        ident = identify_layers(np.asarray(a.similarity[measure])[:, :H, :H], measure in DISTANCES)
    else:
        ident = np.asarray(a.identified[measure])
    return int(ident.sum()), int(ident.size), int(ident.shape[1])


def identification_words(a: ConvergenceAnalysis, measure: str = "linear_cka") -> str:
    """Which layers the identification counts, its share with count and 95% interval, and the hidden-only share."""
    k, n, L = identification_counts(a, measure)
    out = (f"{share(k, n, 'rows')} over {len(a.pairs)} ordered seed pairs × all {L} layers, the logits (output) "
           f"layer {a.layers[-1]} included (chance {pct(1 / L)})")
    if L >= 3:
        kh, nh, H = identification_counts(a, measure, hidden_only=True)
        out += (f"; counting the {H} hidden layers only (the logits layer left out as a row and as a candidate), "
                f"{share(kh, nh, 'rows')} (chance {pct(1 / H)})")
    return out


def _kornblith_cka_verdict(acc: float) -> str:
    if acc >= 0.95:
        return "This run reproduces that result."
    if acc >= 0.8:
        return "This run comes close to that result but falls short of it."
    return "This run does not reproduce that result (see the layer-identification section for why)."


def answer_units(summ: list[dict], a: ConvergenceAnalysis, cfg: ConvergenceConfig) -> list[str]:
    """Unit-level agreement: which units have a counterpart, which do not; the first layer or not."""
    out = [describe_layer(s, cfg) + "." for s in summ]
    hid = _hidden(summ)
    names = [s["layer"] for s in hid]
    m = _pooled(a, a.matched, names)
    b = _pooled(a, a.baseline_matched, names)
    if m.size:
        hi, none = float(np.mean(m >= cfg.threshold_high)), float(np.mean(m < cfg.threshold_low))
        if hi >= RARE and none >= RARE:
            kind = "both kinds occur here too, as Li et al. found"
        elif none >= RARE:
            kind = ("units without a counterpart occur, as Li et al. found, but near-perfect matches are rare here, "
                    "unlike their finding")
        elif hi >= RARE:
            kind = "near-perfect matches occur, as Li et al. found, but units without any counterpart are rare here"
        else:
            kind = "both are rare here: most units match partly"
        out.append(f"Li et al. (2015) found, in convolutional networks trained on images, that some units match almost "
                   f"perfectly across seeds while others have no counterpart. Over all hidden layers here, {pct(hi)} of live units match at ≥ {cfg.threshold_high:g} "
                   f"and {pct(none)} stay below {cfg.threshold_low:g}: {kind}. Against an untrained network of "
                   f"another seed the same matching gives mean {num(float(np.mean(b)) if b.size else np.nan)} "
                   f"(vs {num(float(np.mean(m)))} between trained seeds).")
    if len(hid) >= 2:
        order = sorted(hid, key=lambda s: -np.nan_to_num(s["matched_mean"], nan=-2))
        best = order[0]
        rank = [s["layer"] for s in order].index(hid[0]["layer"]) + 1
        if best["layer"] == hid[0]["layer"]:
            verdict = "so Li et al.'s finding that the first layer matches best is reproduced"
        else:
            verdict = (f"so Li et al.'s finding that the first layer matches best is not reproduced "
                       f"({hid[0]['layer']} ranks {rank} of {len(hid)} hidden layers, mean "
                       f"{num(hid[0]['matched_mean'])})")
        out.append(f"The best-matching hidden layer is {best['layer']} (mean matched correlation "
                   f"{num(best['matched_mean'])}), {verdict}.")
    if len(summ) > 1:
        o = summ[-1]
        out.append(f"The output layer {o['layer']} matches with mean {num(o['matched_mean'])} "
                   f"({pct(o['frac_high'])} at ≥ {cfg.threshold_high:g}): each output unit is tied to a class by "
                   f"the loss, so its counterpart is fixed by construction; it is left out of the hidden-layer shares above.")
    return out


def counterpart_lists(census: dict[str, list[dict]], n_others: int, limit: int = 12) -> list[str]:
    """Sentences naming the units of one seed with a counterpart in every other seed, and with none."""
    out = []
    for layer, units in census.items():
        always = [u["name"] for u in units if not u["dead"] and u["counterparts_high"] == n_others]
        never = [u["name"] for u in units if not u["dead"] and u["counterparts_low"] == 0]
        dead = [u["name"] for u in units if u["dead"]]

        def names(v):
            return ", ".join(v[:limit]) + (f" and {len(v) - limit} more" if len(v) > limit else "") if v else "none"
        out.append(f"{layer}: counterpart in all {n_others} other seeds: {names(always)}; no counterpart in any: "
                   f"{names(never)}" + (f"; dead on the test data: {names(dead)}" if dead else "") + ".")
    return out


def answer_subspace(summ: list[dict], a: ConvergenceAnalysis, cfg: ConvergenceConfig) -> list[str]:
    """Subspace-level agreement and its contrast with unit-level agreement, layer by layer."""
    out = []
    for s in summ:
        extra = [f"{MEASURE_LABELS[k]} {num(v)}" for k, v in s["similarity"].items() if k != "linear_cka"]
        out.append(f"{s['layer']}: linear CKA {num(s['cka'])} (untrained network of another seed: "
                   f"{num(s['baseline_cka'])})" + (f", {', '.join(extra)}" if extra else "")
                   + f"; units: mean best one-to-one correlation {num(s['matched_mean'])}, mean best single "
                   f"partner (semi-matching) {num(s['semi_mean'])}, median best linear combination "
                   f"{num(s['linpred_median'])} — {s['verdict']}.")
    hid = _hidden(summ)
    gap = [s["linpred_median"] - s["matched_median"] for s in hid]
    if hid and np.all(np.isfinite(gap)):
        g = float(np.mean(gap))
        out.append(f"In the hidden layers a unit's activation is predicted {num(g)} better (correlation, held-out "
                   f"data) by a linear combination of the other seed's units than by the single best-matched unit. "
                   + ("Li et al. found shared subspaces where single units differ; so does this run."
                      if g >= 0.1 else "The units themselves carry most of the agreement: the subspace adds little."))
    return out


def _most_picked(a: ConvergenceAnalysis, measure: str) -> tuple[str, float] | None:
    """The layer of seed j chosen most often in the rows where identification failed, and its share."""
    m = a.similarity[measure]
    pick = most_similar(m, measure in DISTANCES)
    wrong = ~a.identified[measure] & (pick >= 0)
    if not wrong.any():
        return None
    vals, counts = np.unique(pick[wrong], return_counts=True)
    k = int(vals[np.argmax(counts)])
    return a.layers[k], float(counts.max() / wrong.sum())


def answer_identification(a: ConvergenceAnalysis, cfg: ConvergenceConfig) -> list[str]:
    """Kornblith et al.'s table 2 in this run: how often each measure finds the corresponding layer."""
    L = len(a.layers)
    accs = {m: float(v.mean()) for m, v in a.identified.items()}
    parts = ", ".join(f"{MEASURE_LABELS[m]} {pct(v)}" for m, v in accs.items())
    out = [f"Share of rows whose most similar layer is the same layer, over {len(a.pairs)} ordered seed pairs × "
           f"{L} layers, the logits layer included (chance {pct(1 / L)}): {parts}. For linear CKA: "
           f"{identification_words(a)}."]
    cka = accs["linear_cka"]
    mean = a.cross_mean("linear_cka")
    off = mean[~np.eye(L, dtype=bool)]
    near = sorted(((mean[i, j] - mean[i, i], a.layers[i], a.layers[j], mean[i, j]) for i in range(L) for j in range(L)
                   if i != j and mean[i, j] >= mean[i, i]), reverse=True)
    text = (f"Kornblith et al. (2019, table 2) found {KORNBLITH_TEXT['cka']} for linear CKA on 10 seeds of a 10-layer CNN. "
            f"Here linear CKA reaches {pct(cka)}. ")
    if cka < 0.95:
        text += (f"The layers of this network are alike even across depth: the mean CKA between different layers "
                 f"of two seeds is {num(float(off.mean()))} (same layer: {num(float(np.mean(np.diag(mean))))})")
        if near:
            _, i, j, v = near[0]
            text += (f", and on average {i} of one seed is at least as similar to {j} of another seed ({num(v)}) as to "
                     f"its own counterpart ({num(mean[a.layers.index(i), a.layers.index(i)])})")
        text += "."
    out.append(text)
    cca = {m: accs[m] for m in _CCA_FAMILY if m in accs}
    if cca:
        lo, hi = min(cca.values()), max(cca.values())
        rng = pct(lo) if lo == hi else f"{pct(lo)}–{pct(hi)}"
        like = (f"in line with Kornblith et al.'s {KORNBLITH_TEXT['cca']}" if hi <= 0.2
                else f"better than Kornblith et al.'s {KORNBLITH_TEXT['cca']}")
        text = f"The CCA-based measures score {rng}, {like}."
        worst = min(cca, key=cca.get)
        picked = _most_picked(a, worst)
        if picked is not None:
            layer, share = picked
            w = a.widths[a.layers.index(layer)]
            text += (f" When {MEASURE_LABELS[worst]} misses, it picks {layer} in {pct(share)} of cases")
            if w == min(a.widths) and w < max(a.widths):
                text += (f"; {layer} has the fewest units ({w}), and a mean of canonical correlations over only "
                         f"{w} directions keeps just the strongest ones, so it rates high against any layer")
            text += "."
        out.append(text)
    return out


def answer_which_layers(summ: list[dict]) -> list[str]:
    """Which layers agree most across seeds, by CKA and by unit matching?"""
    by_cka = sorted(summ, key=lambda s: -np.nan_to_num(s["cka"], nan=-2))
    hid = _hidden(summ)
    by_units = sorted(hid, key=lambda s: -np.nan_to_num(s["matched_mean"], nan=-2))
    out = [f"By linear CKA the layers agree most in {by_cka[0]['layer']} ({num(by_cka[0]['cka'])}) and least in "
           f"{by_cka[-1]['layer']} ({num(by_cka[-1]['cka'])}); order: "
           + " > ".join(f"{s['layer']} {num(s['cka'])}" for s in by_cka) + "."]
    if len(hid) >= 2:
        out.append("By unit matching (hidden layers): " + " > ".join(
            f"{s['layer']} {num(s['matched_mean'])}" for s in by_units) + ".")
    gains = [(s["layer"], s["cka"] - s["baseline_cka"]) for s in summ]
    top = max(gains, key=lambda g: np.nan_to_num(g[1], nan=-9))
    out.append("What training adds over an untrained network (CKA trained vs trained minus trained vs untrained): "
               + ", ".join(f"{n} {g:+.2f}" for n, g in gains) + f"; most in {top[0]}.")
    return out


def thresholds_note(cfg: ConvergenceConfig) -> str:
    """How the verdicts are decided."""
    return (f"Verdicts: a layer holds 'the same units' when at least {pct(cfg.majority)} of its live units have a "
            f"one-to-one counterpart (Hungarian matching on activation correlation, Li et al. 2015) with correlation "
            f"≥ {cfg.threshold_high:g}; otherwise 'the same subspace, different units' when the mean linear CKA of "
            f"that layer between seeds is ≥ {cfg.subspace_high:g}; otherwise 'partly shared'. A unit has 'no "
            f"counterpart' below {cfg.threshold_low:g}. Dead units (constant on the test data) are counted "
            f"separately. Shares are over the live units of each seed, pooled over all ordered seed pairs; a share "
            f"under {pct(RARE)} is called rare.")
