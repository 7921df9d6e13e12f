"""The transfer study's answers in words, generated from the measured accuracies and CKA.

Every verdict compares mean test accuracies on B (over seeds): a difference counts when it exceeds
the config's ``margin`` (a fraction: 0.02 = 2 percentage points) and its 95% interval over seeds
(Welch t interval of the difference of two means) excludes zero; one within the margin counts as
none; one in between is called unclear (the run cannot tell it from seed noise). The paper's
numbers (Yosinski, Clune, Bengio & Lipson 2014, ImageNet halves, 8-layer network) are quoted
beside this run's, and an effect that does not show here is reported as not showing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from ..text import pct, plural
from .analysis import REF_SEED, REF_UNTRAINED, ArchRun
from .words import SHORT_TERMS, TERMS, effect_groups, pts, rule, spts
from .words import arch_name as _arch_name

__all__ = ["Effect", "Diff", "diff", "arch_name", "generality",
           "coadaptation", "specificity", "finetuning", "dissimilar", "random_control", "cka_answer",
           "selffer_finetuned", "answers", "effects", "summary", "CKA_MARGIN", "TERMS", "SHORT_TERMS", "domain_answer",
           "evidence", "effect_groups",
           "domain_verdict"]


def arch_name(run: ArchRun) -> str:
    """``"MLP (mlp 64-64-64)"``."""
    return _arch_name(run.spec)


@dataclass
class Effect:
    """One of the paper's effects, as measured here.

    Attributes
    ----------
    name : str
    paper : str
        What Yosinski et al. (2014) found.
    here : str
        What this run found (numbers).
    shows : str
        ``"yes"``, ``"no"``, ``"partly"`` (for some sources or cuts only), ``"unclear"`` (beyond the
        margin but its 95% interval includes zero) or ``"n/a"``.
    """

    name: str
    paper: str
    here: str
    shows: str


@dataclass
class Diff:
    """Difference of mean accuracies ``mean(x) - mean(y)``, its standard error and 95% interval over seeds.

    ``lo`` and ``hi`` bound the Welch t interval (Welch 1947); both NaN when either side has one seed.
    """

    d: float
    se: float
    lo: float = float("nan")
    hi: float = float("nan")

    @property
    def separated(self) -> bool:
        """The 95% interval excludes zero."""
        return bool(self.lo > 0 or self.hi < 0)

    def __neg__(self) -> "Diff":
        return Diff(-self.d, self.se, -self.hi, -self.lo)

    def clear(self, margin: float) -> bool:
        """Larger than the margin, and its 95% interval excludes zero."""
        return abs(self.d) > margin and self.separated

    def interval(self) -> str:
        """``"95% CI +1.2 to +5.3 points"`` (``"no interval with one seed"`` when undefined)."""
        if not np.isfinite(self.lo):
            return "no interval with one seed"
        wide = ", too wide to tell anything with so few seeds" if self.hi - self.lo >= 1.0 else ""
        return f"95% CI {spts(self.lo)} to {spts(self.hi)} points{wide}"


def diff(x, y) -> Diff:
    """:class:`Diff` of two sets of per-seed accuracies (independent samples, Welch t interval).

    Parameters
    ----------
    x, y : array-like of shape (S,), float
        Per-seed accuracies of the two conditions; NaN (a diverged seed) is left out, and the
        difference is NaN when a side has no seed left.

    References
    ----------
    Welch, B. L. (1947). The generalization of "Student's" problem when several different population
    variances are involved. Biometrika 34, 28-35.
    """
    from scipy.stats import t
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]          # diverged seeds (NaN) are left out
    if not x.size or not y.size:
        return Diff(float("nan"), float("nan"))
    d = float(x.mean() - y.mean())
    if x.size < 2 or y.size < 2:
        return Diff(d, 0.0)
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = float(np.sqrt(vx + vy))
    if se == 0:
        return Diff(d, 0.0, d, d)
    df = (vx + vy) ** 2 / (vx ** 2 / (x.size - 1) + vy ** 2 / (y.size - 1))
    half = float(t.ppf(0.975, df)) * se
    # accuracies are fractions, so their difference lies in [-1, 1]: the t interval is clipped there
    return Diff(d, se, max(d - half, -1.0), min(d + half, 1.0))


def with_ci(d: Diff) -> str:
    """A difference in points with its 95% interval: ``"26.2 points (95% CI +20.1 to +32.3 points)"``."""
    return f"{pts(d.d)} ({d.interval()})"


def signed_ci(d: Diff) -> str:
    """``"+3.5 points (95% CI −19.8 to +26.9 points)"``."""
    return f"{spts(d.d)} points ({d.interval()})"


def accuracy(values) -> str:
    """A mean accuracy over seeds with its count and 95% t interval: ``"95.2% (mean of 3 seeds; 95% CI
    93.1–97.3%)"``; one seed: ``"95.2% (1 seed, no interval)"``; NaN seeds (diverged) are left out."""
    from scipy.stats import t
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return "n/a (every seed diverged)"
    m = float(v.mean())
    if v.size < 2:
        return f"{pct(m, 1)} (1 seed, no interval)"
    half = float(t.ppf(0.975, v.size - 1)) * float(v.std(ddof=1)) / np.sqrt(v.size)
    return f"{pct(m, 1)} (mean of {v.size} seeds; 95% CI {pct(max(m - half, 0), 1)}–{pct(min(m + half, 1), 1)})"


def costs(run: ArchRun, condition: str, source: str | None = None) -> list[Diff]:
    """baseB minus ``condition`` per cut (the cost of its frozen or copied layers), with 95% intervals."""
    return [diff(run.base_b.accuracy, run.cell(condition, n, source).accuracy) for n in run.cuts]


def _safe_upto(ds: list[Diff], margin: float) -> int:
    """Number of leading cuts whose cost is not measurable (not above the margin with its 95% interval above
    zero); a cut not measured (NaN: every seed diverged) stops the count."""
    k = 0
    for d in ds:
        if not np.isfinite(d.d) or (d.clear(margin) and d.d > 0):
            break
        k += 1
    return k


def generality(run: ArchRun, source: str, label: str, margin: float) -> str:
    """Up to which layer does frozen transfer (AnB) have no measurable cost on B (baseB − AnB)?"""
    ds, cuts = costs(run, "AnB", source), run.cuts
    k = _safe_upto(ds, margin)
    listing = ", ".join(f"n={n}: {with_ci(d)}" for n, d in zip(cuts, ds))
    if k == 0:
        head = f"{label}: frozen transfer (AnB) costs accuracy on B already with the first layer (n=1)"
    elif k == len(cuts):
        tight = all(np.isfinite(d.hi) and d.hi <= margin for d in ds)     # every cost measurably below the margin
        head = (f"{label}: frozen transfer (AnB) has no measurable cost at any cut, up to L{k} — " +
                ("every hidden layer is general enough for B (every cost's 95% interval stays below "
                 f"{pts(margin)})" if tight else "but the intervals are too wide to call the layers general"))
    else:
        head = (f"{label}: frozen transfer (AnB) has no measurable cost up to layer L{k} (cut n={k}); "
                f"from n={k + 1} on it costs accuracy")
    return (f"{head}. baseB reaches {accuracy(run.base_b.accuracy)}; cost = baseB minus AnB, mean over seeds: "
            f"{listing}; "
            f"{rule(margin)}.")


def coadaptation(run: ArchRun, margin: float) -> tuple[str, str, str]:
    """Fragile co-adaptation: does BnB (frozen selffer) fall below baseB in the middle?

    Returns
    -------
    sentence, shows ("yes" / "no" / "partly" / "unclear"), here (short numbers)
    """
    base, cuts = run.base_b.accuracy, run.cuts
    diffs = costs(run, "BnB")                                                   # drop = base - BnB
    drop = np.array([d.d for d in diffs])
    j = int(np.nanargmax(drop)) if np.isfinite(drop).any() else 0
    here = (", ".join(f"n={n}: {pct(v, 1)}" for n, v in zip(cuts, run.means("BnB")))
            + f" (baseB {pct(base.mean(), 1)})")
    name = arch_name(run)
    if not drop[j] > margin:
        return (f"{name}: BnB stays within {pts(margin)} of baseB at every cut (largest drop "
                f"{pts(max(drop[j], 0.0))} at n={cuts[j]}, {diffs[j].interval()}), so fragile co-adaptation does not "
                "show in this setting: retraining the blocks above a frozen cut recovers what baseB had.", "no", here)
    if not diffs[j].clear(margin):
        return (f"{name}: BnB's largest drop below baseB, {pts(drop[j])} at n={cuts[j]}, exceeds {pts(margin)} but "
                f"its 95% interval includes zero ({diffs[j].interval()}): the run cannot tell it from seed noise.",
                "unclear", here)
    middle = 0 < j < len(cuts) - 1
    recovery = diff(run.cell("BnB", cuts[-1]).accuracy, run.cell("BnB", cuts[j]).accuracy)
    if middle and recovery.clear(margin) and recovery.d > 0:
        return (f"{name}: BnB drops {with_ci(diffs[j])} below baseB at n={cuts[j]} and recovers by "
                f"{with_ci(recovery)} at n={cuts[-1]} — the paper's middle dip: co-adapted layers split by the "
                "cut cannot be relearned by the layers above alone.", "yes", here)
    where = "in the middle" if middle else ("at the first cut" if j == 0 else "at the top cut")
    return (f"{name}: BnB drops {with_ci(diffs[j])} below baseB {where} (n={cuts[j]}), but not in the paper's "
            "pattern of a middle dip that measurably recovers at the top, so fragile co-adaptation shows only "
            "partly.", "partly", here)


def specificity(run: ArchRun, source: str, label: str, margin: float) -> tuple[str, str]:
    """Specificity: the gap BnB - AnB, largest at the top in the paper. Returns (sentence, shows)."""
    cuts = run.cuts
    gaps = [diff(run.cell("BnB", n).accuracy, run.cell("AnB", n, source).accuracy) for n in cuts]
    g = np.array([x.d for x in gaps])
    listing = ", ".join(f"n={n}: {with_ci(x)}" for n, x in zip(cuts, gaps))
    grows = bool(np.all(np.diff(g) >= -margin)) and g[-1] > g[0] + margin
    if gaps[-1].clear(margin) and gaps[-1].d > 0:
        if grows:
            verdict, shows = "specificity shows: the higher the layer, the more it is tuned to A", "yes"
        else:
            verdict, shows = ("the top layers are specific to A, though the gap does not grow steadily with depth",
                              "partly")
    elif g[-1] <= margin:
        verdict, shows = f"no measurable specificity (beyond {pts(margin)}), even at the top", "no"
    else:
        verdict, shows = (f"the gap at the top exceeds {pts(margin)} but its 95% interval includes zero "
                          f"({gaps[-1].interval()}): the run cannot tell", "unclear")
    return f"{label}: BnB − AnB = {listing}; {verdict}.", shows


def finetuning(run: ArchRun, source: str, label: str, margin: float) -> tuple[str, float, str]:
    """What fine-tuning (AnB+) recovers or adds. Returns (sentence, largest gain over baseB, shows)."""
    cuts = run.cuts
    ds = [diff(run.cell("AnB+", n, source).accuracy, run.base_b.accuracy) for n in cuts]
    d = np.array([x.d for x in ds])
    k, j = int(np.nanargmax(d)), int(np.nanargmin(d))
    rec = [diff(run.cell("AnB+", n, source).accuracy, run.cell("AnB", n, source).accuracy) for n in cuts]
    rec_txt = f"over frozen AnB it gains {', '.join(f'n={n}: {signed_ci(x)}' for n, x in zip(cuts, rec))}"
    above = [x.clear(margin) and x.d > 0 for x in ds]
    below = [x.clear(margin) and x.d < 0 for x in ds]
    if any(above):
        k = int(np.nanargmax(np.where(above, d, -np.inf)))
        head, shows = f"AnB+ beats baseB by {with_ci(ds[k])} at n={cuts[k]}: transfer adds accuracy", "yes"
    elif any(below):
        j = int(np.nanargmin(np.where(below, d, np.inf)))
        head = (f"AnB+ stays {with_ci(-ds[j])} below baseB at n={cuts[j]}: fine-tuning does not fully "
                "recover what the transferred layers cost")
        shows = "no"
    elif np.nanmax(np.abs(d)) <= margin:
        head = (f"AnB+ is within {pts(margin)} of baseB at every cut ({spts(d[j])} to {spts(d[k])} points): "
                "fine-tuning recovers baseB but adds nothing measurable")
        shows = "no"
    else:
        span = (f"is {signed_ci(ds[k])} at n={cuts[k]}" if j == k else
                f"ranges from {signed_ci(ds[j])} (n={cuts[j]}) to {signed_ci(ds[k])} (n={cuts[k]})")
        head = (f"AnB+ minus baseB {span}, no difference measurable: whether fine-tuning adds or loses accuracy, the run "
                "cannot tell")
        shows = "unclear"
    return f"{label}: {head}; {rec_txt}.", float(d[k]), shows


def dissimilar(run: ArchRun, kinds: dict, labels: dict, margin: float) -> tuple[str, str, str]:
    """Compare the top-cut cost of frozen transfer from similar vs dissimilar sources.

    Returns (sentence, shows, here).
    """
    sim = [s for s, k in kinds.items() if k == "similar"]
    dis = [s for s, k in kinds.items() if k == "dissimilar"]
    name = arch_name(run)
    if not sim or not dis:
        return (f"{name}: this run has no {'dissimilar' if sim else 'similar'} source task, so the two kinds of "
                "pair cannot be compared.", "n/a", "–")
    top = run.cuts[-1]
    top_d = {s: costs(run, "AnB", s)[-1] for s in sim + dis}
    first_d = {s: costs(run, "AnB", s)[0] for s in sim + dis}
    cost = {s: top_d[s].d for s in sim + dis}
    here = "; ".join(f"{labels[s]}: {pts(cost[s])}" for s in sim + dis)
    listing = " and ".join(f"{with_ci(top_d[s])} from {labels[s]} ({kinds[s]})" for s in sim + dis)
    s_worst = max(sim, key=lambda s: cost[s])
    d_best = min(dis, key=lambda s: cost[s])
    extra = diff(run.cell("AnB", top, s_worst).accuracy, run.cell("AnB", top, d_best).accuracy)
    firsts = ", ".join(f"{labels[s]} {with_ci(first_d[s])}" for s in sim + dis)
    if extra.clear(margin):
        if extra.d > 0:
            verdict, shows = (f"the dissimilar source costs {with_ci(extra)} more than the similar one, as in "
                              "the paper"), "yes"
        else:
            verdict, shows = (f"here the similar source costs {with_ci(-extra)} more — the opposite of the "
                              "paper"), "no"
    elif abs(extra.d) <= margin:
        verdict, shows = (f"the gap between them ({pts(abs(extra.d))}, {extra.interval()}) is within {pts(margin)}: "
                          "the paper's gap does not show"), "no"
    else:
        verdict, shows = (f"the gap between them ({pts(abs(extra.d))}) exceeds {pts(margin)} but its 95% interval "
                          f"includes zero ({extra.interval()}): the run cannot tell it from seed noise", "unclear")
    return (f"{name}: at the top cut (n={top}) frozen transfer costs {listing} below baseB; {verdict}. "
            f"At n=1 the costs are {firsts}.", shows, here)


def random_control(run: ArchRun, source: str, label: str, margin: float) -> tuple[str, str]:
    """How far random frozen layers fall behind transferred ones. Returns (sentence, shows)."""
    cuts = run.cuts
    ds = [diff(run.cell("AnB", n, source).accuracy, run.cell("random", n).accuracy) for n in cuts]
    listing = ", ".join(f"n={n}: {signed_ci(x)}" for n, x in zip(cuts, ds))
    behind = np.array([x.clear(margin) and x.d > 0 for x in ds])
    ahead = np.array([x.clear(margin) and x.d < 0 for x in ds])
    at = lambda mask: ", ".join(f"n={n}" for n, m in zip(cuts, mask) if m)  # noqa: E731
    if behind.all():
        verdict, shows = "random frozen layers fall behind transferred ones at every cut, as in the paper", "yes"
    elif ahead.all():
        verdict, shows = ("random frozen layers do better than transferred ones at every cut: here the transferred "
                          "features are worse than random ones"), "no"
    elif not behind.any():
        verdict, shows = ("random frozen layers are never clearly behind — at this scale random features serve B "
                          "about as well as transferred ones" + (f", and at {at(ahead)} better" if ahead.any() else "")
                          ), "no"
    else:
        verdict, shows = (f"random frozen layers fall behind transferred ones only at {at(behind)}" +
                          (f"; at {at(ahead)} they do better" if ahead.any() else "")), "partly"
    return f"{label}: AnB − random = {listing}; {verdict}.", shows


def _vs(a: Diff, worse: str, better: str) -> str:
    """``"worse (−5.2 points, 95% CI ...)"``-style words for a difference, ``worse``/``better`` by sign."""
    return f"{better if a.d > 0 else worse} ({spts(a.d)} points, {a.interval()})"


def _layer_verdict(run: ArchRun, source: str, n: int, margin: float) -> tuple[str, str]:
    """(verdict, words) for the first n layers from A: ``"general"``, ``"partly general"``, ``"specific"`` or
    ``"unknown"`` (cannot be told apart from random frozen layers), judged against random frozen layers, B's own
    frozen layers (BnB) and baseB, with 95% intervals over seeds."""
    anb = run.cell("AnB", n, source).accuracy
    vs_random = diff(anb, run.cell("random", n).accuracy)
    vs_own = diff(anb, run.cell("BnB", n).accuracy)
    vs_base = diff(anb, run.base_b.accuracy)
    acc = (f"{pct(float(np.nanmean(anb)), 1)} on B against {pct(run.means('random')[run.cuts.index(n)], 1)} with "
           f"random layers, means of {plural(int(np.isfinite(anb).sum()), 'seed')}")
    if vs_random.clear(margin) and vs_random.d < 0:
        return "specific", (f"worse for B than random frozen layers ({acc}; AnB − random {spts(vs_random.d)} points, "
                            f"{vs_random.interval()}), so specific to A")
    if not vs_random.clear(margin):
        own_gap = diff(run.cell("BnB", n).accuracy, anb)
        own = (f", though B's own frozen layers (BnB) do {'better' if own_gap.d > 0 else 'worse'} by "
               f"{pts(abs(own_gap.d))} ({own_gap.interval()})" if own_gap.clear(margin) else "")
        return "unknown", (f"about as good for B as random frozen layers, as far as this run can tell ({acc}; "
                           f"AnB − random {signed_ci(vs_random)}, no measurable difference){own}")
    if vs_own.clear(margin) and vs_own.d < 0:
        return "partly general", (f"better for B than random frozen layers ({acc}; {spts(vs_random.d)} points, "
                                  f"{vs_random.interval()}) but worse than B's own frozen layers (BnB, "
                                  f"{spts(vs_own.d)} points, {vs_own.interval()}): partly general, partly specific "
                                  "to A")
    near = "" if vs_base.clear(margin) else f", and not measurably below baseB (difference {vs_base.interval()})"
    return "general", (f"better for B than random frozen layers ({acc}; {spts(vs_random.d)} points, "
                       f"{vs_random.interval()}) and as good as B's own frozen layers as far as this run can tell"
                       f"{near}, so general")


def domain_answer(run: ArchRun, labels: dict, kinds: dict, margin: float) -> tuple[list[str], dict]:
    """Are the layers general or domain-specific? One sentence per source task, from the bottom and top cuts.

    The first layer (n=1) and all hidden layers (the top cut) transferred from A, frozen, are judged by
    :func:`_layer_verdict` against the random control, BnB and baseB: a difference counts only when it
    exceeds ``margin`` and its 95% interval over seeds excludes zero.

    Returns
    -------
    sentences : list of str
    verdicts : dict of source -> {"bottom": str, "top": str}
        ``"general"``, ``"partly general"``, ``"specific"`` or ``"unknown"``.
    """
    bottom, top = run.cuts[0], run.cuts[-1]
    out, verdicts = [], {}
    for s in run.base_a:
        vb, wb = _layer_verdict(run, s, bottom, margin)
        vt, wt = _layer_verdict(run, s, top, margin)
        verdicts[s] = {"bottom": vb, "top": vt}
        tail = ("" if "unknown" not in (vb, vt) else
                ". Whether " + ("they are" if vb == vt == "unknown" else
                                     "the bottom layer is" if vb == "unknown" else "the top layers are")
                + " general or specific cannot be told apart from random features at this scale")
        out.append(f"{arch_name(run)}, A = {labels[s]} ({kinds[s]}). The bottom layer trained on A (L1, frozen): "
                   f"{wb}. All {top} hidden layers trained on A (frozen, the top cut): {wt}{tail}.")
    return out, verdicts


def domain_verdict(verdicts: list[dict]) -> str:
    """The one-sentence answer to "are hidden layers domain-specific?" over every architecture and source."""
    def say(where: str) -> str:
        got = [v[where] for v in verdicts]
        if all(g == "specific" for g in got):
            return "domain-specific (worse for B than random layers) in every case"
        if all(g == "general" for g in got):
            return "general (as good as B's own, better than random) in every case"
        if all(g == "unknown" for g in got):
            return "not distinguishable from random features in any case, so the run cannot tell"
        counts = {g: got.count(g) for g in ("specific", "partly general", "general", "unknown") if g in got}
        return "mixed: " + ", ".join(f"{g} in {c} of {len(got)}" for g, c in counts.items())
    return ("Is transfer evidence that hidden layers are domain-specific? In this run, the top layers are "
            f"{say('top')}; the bottom layers are {say('bottom')}. 'Specific' needs a transferred layer to do "
            "measurably worse than random frozen layers; doing worse than B's own layers alone is not enough, "
            "because random layers may lose as much.")


#: CKA above the untrained reference by more than this counts as "closer than an untrained network".
CKA_MARGIN = 0.05


def cka_answer(run: ArchRun, labels: dict) -> list[str]:
    """Do the layers that transfer well also look alike (CKA between baseA and baseB)?"""
    cka, base, name = run.cka, run.base_mean, arch_name(run)
    out, xs, ys = [], [], []
    untrained = cka.mean(REF_UNTRAINED)
    for src, label in labels.items():
        row = f"A: {src}"
        if row not in cka.rows:
            continue
        m = cka.mean(row)
        xs += list(m)
        ys += list(base - run.means("AnB", src))
        vals = ", ".join(f"{layer} {v:.2f}" for layer, v in zip(cka.layers, m))
        closer = [layer for layer, a, u in zip(cka.layers, m, untrained) if a > u + CKA_MARGIN]
        not_closer = [layer for layer in cka.layers if layer not in closer]
        rel = (f"closer to baseB than an untrained network (by more than {CKA_MARGIN}) at {', '.join(closer)}"
               if closer else f"at no layer closer to baseB than an untrained network (by more than {CKA_MARGIN})")
        if closer and not_closer:
            rel += f", not at {', '.join(not_closer)}"
        out.append(f"{name}, {label}: CKA(baseA, baseB) on B's test inputs is {vals}; {rel}.")
    refs = []
    if REF_SEED in cka.rows:
        refs.append("baseB vs baseB of another seed " + ", ".join(f"{v:.2f}" for v in cka.mean(REF_SEED)))
    refs.append("baseB vs an untrained network " + ", ".join(f"{v:.2f}" for v in untrained))
    n_closer = sum(a > u + CKA_MARGIN for src in labels if f"A: {src}" in cka.rows
                   for a, u in zip(cka.mean(f"A: {src}"), untrained))
    n_cells = len(cka.layers) * sum(f"A: {src}" in cka.rows for src in labels)
    out.append(f"{name}: in {n_closer} of {n_cells} (layer, source) cells baseA's layer is closer to baseB's than an "
               "untrained network's is: " + ("what the layers share is mostly learned from the data." if
                                             2 * n_closer > n_cells else
                                             "what they share is mostly what any network, even an untrained one, "
                                             "computes from these inputs — compare the random control."))
    gaps = np.concatenate([np.ravel(np.abs(cka.rows[r] - cka.debiased[r])) for r in cka.rows])
    gaps = gaps[np.isfinite(gaps)]                 # pairs with a diverged network were not measured
    gap = float(gaps.max()) if gaps.size else float("nan")
    out.append("For scale, layer by layer: " + "; ".join(refs) + f". Debiased CKA differs from these by at most "
               f"{gap:.3f}, so the {cka.n_samples} test inputs are enough for the values not to be inflated.")
    if len(xs) >= 3 and np.ptp(xs) > 0 and np.ptp(ys) > 0:
        rho = float(spearmanr(xs, ys).statistic)
        if rho <= -0.5:
            verdict = "layers whose representations look more alike cost less when transferred"
        elif rho >= 0.5:
            verdict = "here the more alike layers cost more when transferred"
        else:
            verdict = "similarity and transfer cost are at most weakly related"
        out.append(f"Across the {len(xs)} (layer, source) cells, the Spearman correlation between CKA and frozen "
                   f"transfer cost is {rho:+.2f}: {verdict} (|ρ| >= 0.5 counted as a relation; with this few points "
                   "read it as a tendency, and note that CKA also falls with depth for an untrained network).")
    return out


def selffer_finetuned(run: ArchRun, margin: float) -> str:
    """BnB+ against baseB per cut (same task: no gain is expected)."""
    ds = [diff(run.cell("BnB+", n).accuracy, run.base_b.accuracy) for n in run.cuts]
    clear = [n for n, d in zip(run.cuts, ds) if d.clear(margin)]
    return (f"{arch_name(run)}: selffer fine-tuned (BnB+) minus baseB: "
            + ", ".join(f"n={n}: {signed_ci(d)}" for n, d in zip(run.cuts, ds))
            + (f" — a measurable difference at {', '.join(f'n={n}' for n in clear)}" if clear else
               " — no measurable difference") + " (same task, so no gain is expected).")


def unmeasured(run: ArchRun) -> bool:
    """Every seed of baseB, or of every baseA, diverged: no transfer cell can be compared."""
    return bool(run.base_b.diverged.all() or all(b.diverged.all() for b in run.base_a.values()))


def answers(run: ArchRun, kinds: dict, labels: dict, pairs: dict, margin: float) -> dict[str, list[str]]:
    """Every answer in words for one architecture, by question (``pairs``: source -> pair name).

    When every seed of a base network every comparison needs diverged (:func:`unmeasured`), each
    answer is "not measured (base diverged)".
    """
    if unmeasured(run):
        which = "baseB" if run.base_b.diverged.all() else "baseA (every source task)"
        no = [f"{arch_name(run)}: not measured (base diverged): every seed of {which} diverged, so the "
              "transfer cells have nothing to be compared with."]
        return {k: list(no) for k in ("domain", "generality", "coadaptation", "specificity", "finetuning",
                                      "random_control", "dissimilar", "cka")}
    return {
        "domain": domain_answer(run, labels, kinds, margin)[0],
        "generality": [generality(run, s, pairs[s], margin) for s in run.base_a],
        "coadaptation": [coadaptation(run, margin)[0]],
        "specificity": [specificity(run, s, pairs[s], margin)[0] for s in run.base_a],
        "finetuning": [finetuning(run, s, pairs[s], margin)[0] for s in run.base_a]
        + [selffer_finetuned(run, margin)],
        "random_control": [random_control(run, s, pairs[s], margin)[0] for s in run.base_a],
        "dissimilar": [dissimilar(run, kinds, labels, margin)[0]],
        "cka": cka_answer(run, labels),
    }


def effects(run: ArchRun, kinds: dict, labels: dict, margin: float) -> list[Effect]:
    """The paper's effects, one row each, for one architecture."""
    base = run.base_mean
    s0 = ([s for s, k in kinds.items() if k == "similar"] or list(kinds))[0]
    early = costs(run, "AnB", s0)[: min(2, len(run.cuts))]
    free = [not (d.clear(margin) and d.d > 0) for d in early]
    rows = [Effect("layers 1–2 transfer almost perfectly (frozen AnB)", "AnB at n=1, 2 matches baseB",
                   f"{labels[s0]}: cost " + ", ".join(f"n={i + 1} {with_ci(c)}" for i, c in enumerate(early)),
                   "yes" if all(free) else ("partly" if free[0] else "no"))]
    _, shows, here = coadaptation(run, margin)
    rows.append(Effect("fragile co-adaptation (BnB dips in the middle)", "BnB drops at n=3–5 of 7, recovers at 6–7",
                       "BnB " + here, shows))
    sp = [specificity(run, s, labels[s], margin)[1] for s in kinds]
    gaps = "; ".join(f"{labels[s]}: {pts(run.means('BnB')[-1] - run.means('AnB', s)[-1])}" for s in kinds)
    rows.append(Effect("specificity (AnB falls at the top)", "the BnB − AnB gap grows with depth",
                       f"gap at n={run.cuts[-1]}: {gaps}", _combine(sp)))
    ft = [finetuning(run, s, labels[s], margin) for s in kinds]
    rows.append(Effect("fine-tuned transfer beats the base network (AnB+ > baseB)", "+1.6 to +2.1 points",
                       "largest AnB+ − baseB: " + "; ".join(f"{labels[s]} {spts(f[1])} points" for s, f in zip(kinds, ft)),
                       _combine([f[2] for f in ft])))
    _, shows, here = dissimilar(run, kinds, labels, margin)
    rows.append(Effect("dissimilar tasks lose more at the top", "about 8 (similar) vs 25 (dissimilar) points",
                       f"cost at n={run.cuts[-1]}: {here}", shows))
    rc = [random_control(run, s, labels[s], margin)[1] for s in kinds]
    d = "; ".join(f"{labels[s]}: " + ", ".join(spts(v) for v in run.means("AnB", s) - run.means("random"))
                  for s in kinds)
    rows.append(Effect("random frozen layers are far worse than transferred ones", "large drop already at n=1–2",
                       f"AnB − random per cut (points): {d}", _combine(rc)))
    return rows


def _combine(verdicts: list[str]) -> str:
    v = set(verdicts) - {"n/a"}
    if not v:
        return "n/a"
    if len(v) == 1:
        return v.pop()
    return "partly"


def diverged_findings(run: ArchRun) -> list[str]:
    """What diverged in one architecture's networks, in words ([] when nothing did).

    A base network that diverged makes every cell that copies it (same seed) diverged too; a
    diverged seed is left out of its cell's mean; a cell whose base diverged in every seed is
    not measured.
    """
    from ...train.divergence import RULE
    counts = run.diverged_counts()
    if not counts["seeds"]:
        return []
    S = len(run.base_b.diverged)
    name = arch_name(run)
    bases = [("baseB", run.base_b.diverged)] + [(f"baseA from {s}", b.diverged) for s, b in run.base_a.items()]
    bad_bases = [f"{n} {int(d.sum())} of {S}" for n, d in bases if d.any()]
    out = []
    if bad_bases:
        out.append(f"{name}: base networks diverged ({RULE}): " + ", ".join(bad_bases) + ". Every cell that copies a "
                   "diverged base network (same seed) is diverged too.")
    cells = [c for c in run.cells if c.diverged.any() and not c.not_measured]
    if cells:
        out.append(f"{name}: {plural(len(cells), 'cell')} lost seeds to divergence, left out of "
                   f"{'its' if len(cells) == 1 else 'their'} means: "
                   + ", ".join(f"{c.key} {int(c.diverged.sum())} of {S}" for c in cells) + ".")
    if counts["not_measured"]:
        out.append(f"{name}: not measured (base diverged): " + ", ".join(counts["not_measured"]) + ".")
    return out


def evidence(runs: list[ArchRun], labels: dict) -> list[str]:
    """The numbers the plain answer rests on: transferred minus random frozen layers (accuracy on B, mean over
    seeds, with its 95% interval), at the top cut and at the first layer, per architecture and source."""
    def at(which: str) -> str:
        parts = []
        for run in runs:
            n = run.cuts[-1] if which == "top" else run.cuts[0]
            ds = [f"{spts(d.d)} ({d.interval().replace(' points', '')}) from {labels[s]}" for s in run.base_a
                  for d in [diff(run.cell("AnB", n, s).accuracy, run.cell("random", n).accuracy)]]
            parts.append(f"{run.kind.upper()} " + " and ".join(ds))
        return "; ".join(parts)
    seeds = sorted({int(np.isfinite(run.base_b.accuracy).sum()) for run in runs})
    over = f"mean over {plural(seeds[0], 'seed')}" if len(seeds) == 1 else "mean over seeds"
    return [f"What it rests on: accuracy on B with transferred frozen layers minus with random frozen layers, in "
            f"percentage points ({over}). All hidden layers transferred: {at('top')}. The first layer only: "
            f"{at('bottom')}. The sections below give every cut, B's own layers and the paper's other effects."]


def summary(runs: list[ArchRun], kinds: dict, labels: dict, margin: float, target_label: str) -> list[str]:
    """The short answer at the top of the report: the terms it uses, what diverged (if anything), the plain
    domain-specific answer, the numbers it rests on (each with its 95% interval) and the decision rule.

    Every other sentence (per cut, per source, the paper's effects) is in the report's sections
    (:func:`answers`, :func:`effect_groups`). ``target_label`` is kept for callers; B is named in the terms.
    """
    out, verdicts = [SHORT_TERMS], []
    for run in runs:
        out += diverged_findings(run)
    lost = [run for run in runs if unmeasured(run)]
    runs = [run for run in runs if not unmeasured(run)]
    for run in lost:
        out.append(f"{arch_name(run)}: not measured (base diverged); try a smaller learning rate.")
    if not runs:
        out.append("No architecture could be measured: the base networks diverged in every seed.")
        return out
    for run in runs:
        verdicts += list(domain_answer(run, labels, kinds, margin)[1].values())
    out.append(domain_verdict(verdicts))           # the plain answer first, then the numbers it rests on
    out += evidence(runs, labels)
    out.append(rule(margin).capitalize() + ".")
    return out
