"""The lab study's answers in words, generated from the measured numbers (no fixed claims)."""
from __future__ import annotations

from collections import Counter

import numpy as np

from ...metrics.partitions import describe_unit
from ...train.divergence import left_out
from ..text import difference, majority, pct, plural, share
from .analysis import SeedAnalysis
from .config import ALL_OUTCOMES, OUTCOMES

__all__ = ["pct", "outcome_counts", "split_frequencies", "split_counts", "lab_story_share", "lab_story_count",
           "keep_initial_split", "initial_relation", "answer_niches", "answer_origin", "answer_failures", "describe_seed", "answer_exclusion", "answer_pull",
           "short_answer", "shared_units"]

LAB_SPLITS = frozenset({"{0,1}|{2,3}", "{0,2}|{1,3}"})


def outcome_counts(a: SeedAnalysis) -> dict[str, int]:
    """Seeds per outcome, in the order of ALL_OUTCOMES (all outcomes listed, ``diverged`` last)."""
    c = Counter(a.outcome)
    return {o: c.get(o, 0) for o in ALL_OUTCOMES}


def split_frequencies(a: SeedAnalysis) -> list[tuple[str, float]]:
    """(split, share of live hidden units) sorted by decreasing share; dead units are listed as 'dead'."""
    counts, total = split_counts(a)
    return [(k, n / total) for k, n in counts]


def split_counts(a: SeedAnalysis) -> tuple[list[tuple[str, int]], int]:
    """``([(split, units), ...], all units)``: hidden units per split (dead units as 'dead'), most common first."""
    keys = [("dead" if a.dead[s, h] else a.splits[s][h]) for s in range(len(a.seeds)) for h in range(a.dead.shape[1])]
    return Counter(keys).most_common(), len(keys)


def lab_story_count(a: SeedAnalysis) -> int:
    """Seeds ending ``distinct`` with exactly the lab's splits {0,1}|{2,3} and {0,2}|{1,3}."""
    return int(sum(set(s) == LAB_SPLITS and o == "distinct" for s, o in zip(a.splits, a.outcome)))


def lab_story_share(a: SeedAnalysis) -> float:
    """Share of seeds ending ``distinct`` with exactly the lab's splits {0,1}|{2,3} and {0,2}|{1,3}."""
    if not len(a.outcome):
        return float("nan")
    return float(np.mean([set(s) == LAB_SPLITS and o == "distinct" for s, o in zip(a.splits, a.outcome)]))


def mirrored_duplicates(a: SeedAnalysis) -> list[int]:
    """Indices of duplicate seeds whose duplicated units have opposite active sides (e.g. {0,1} vs {2,3})."""
    out = []
    for i, o in enumerate(a.outcome):
        if o != "duplicate":
            continue
        act = a.active[i]
        same_side = any(np.array_equal(act[h], act[k]) for h in range(len(act)) for k in range(h + 1, len(act))
                        if a.splits[i][h] == a.splits[i][k])
        if not same_side:
            out.append(i)
    return out


def keep_initial_split(a: SeedAnalysis) -> float:
    """Share of live units whose final split of the classes equals their split at initialisation."""
    from ...metrics.partitions import split_key
    same = [split_key(a.init_active[s, h]) == a.splits[s][h]
            for s in range(len(a.seeds)) for h in range(a.dead.shape[1]) if not a.dead[s, h]]
    return float(np.mean(same)) if same else float("nan")


def _seeds(n: int) -> str:
    return f"seed{'s' if n != 1 else ''} ({n})"


def describe_seed(a: SeedAnalysis, i: int) -> list[str]:
    """``["L1:0 active for {2,3}, silent for {0,1}", ...]`` for seed index ``i``."""
    return [describe_unit(f"L1:{h}", a.active[i, h]) + (" (dead: silent on every sample)" if a.dead[i, h] else "")
            for h in range(a.active.shape[1])]


def split_key_of(active_row) -> str:
    """The split key of one unit's active row (:func:`nichelab.metrics.partitions.split_key`)."""
    from ...metrics.partitions import split_key
    return split_key(active_row)


def shared_units(a: SeedAnalysis, i: int) -> str:
    """Which live units of seed index ``i`` share a split: ``"L1:0 and L1:2 share {0,1}|{2,3}"`` ("" if none)."""
    groups: dict = {}
    for h, k in enumerate(a.splits[i]):
        if not a.dead[i, h] and 0 < a.active[i, h].sum() < a.active.shape[2]:
            groups.setdefault(k, []).append(f"L1:{h}")
    parts = [f"{' and '.join(u) if len(u) < 3 else ', '.join(u[:-1]) + ' and ' + u[-1]} share {k}"
             for k, u in groups.items() if len(u) > 1]
    return "; ".join(parts)


def diverged_note(a: SeedAnalysis) -> str:
    """``"3 of 100 seeds diverged and are left out of the other numbers (...)."``; "" when none did."""
    return left_out(int(np.sum(a.diverged)), len(a.seeds))


def answer_niches(a: SeedAnalysis) -> list[str]:
    """How often does each unit find its own niche? (Diverged seeds are counted, then left out.)"""
    note = diverged_note(a)
    a = a.kept()
    if not len(a.seeds):
        return [note + " No seed trained without diverging, so no unit's niche can be measured: "
                "try a smaller --lr."]
    out = _answer_niches(a)
    if note:
        out[0] = note + " " + out[0].replace("Across", "Across the remaining", 1)
    return out


def _answer_niches(a: SeedAnalysis) -> list[str]:
    n = len(a.seeds)
    c = outcome_counts(a)
    counts, total = split_counts(a)
    H = a.active.shape[1]
    top = ", ".join(f"{'dead (silent on every sample)' if k == 'dead' else k} in {share(m, total, 'units')}"
                    for k, m in counts[:4])
    if H == 1:
        first = (f"Across {n} seeds, the single hidden unit cut the classes in two and every class was still mostly "
                 f"right in {share(c['distinct'], n, 'seeds')}; ")
    else:
        first = f"Across {n} seeds, the hidden units found distinct niches in {share(c['distinct'], n, 'seeds')}; "
    if H >= 2:
        first += (f"{'two' if H == 2 else 'at least two'} units implemented the same split in "
                  f"{share(c['duplicate'], n)}; ")
    died = "the unit died" if H == 1 else ("a unit died" if H == 2 else "at least one unit died")
    out = [first + f"{died} (silent on every sample) in {share(c['dead'], n)}; "
           f"{share(c['other'], n)} ended otherwise.",
           f"The most common splits of the classes {'the unit implements' if H == 1 else 'a unit implements'}, "
           f"over all {plural(total, 'hidden unit')} of the {plural(n, 'seed')}: {top}."]
    if H > 2 and c["duplicate"]:
        idx = [i for i, o in enumerate(a.outcome) if o == "duplicate"]
        told = int(sum(bool(np.all(a.recall[i] > 0.5)) for i in idx))
        out.append(f"With {H} units a shared split need not cost a niche: of the {c['duplicate']} duplicate seeds, "
                   f"{share(told, len(idx), 'seeds')} still tell all four classes apart (every class right on most "
                   f"of its points); for example seed {int(a.seeds[idx[0]])}: {shared_units(a, idx[0])}.")
    if a.active.shape[1] == 2:
        k = lab_story_count(a)
        verdict = majority(k, n, "so the lab's story is the typical outcome",
                           "so the lab's story is one outcome among several, not the rule",
                           "so the run cannot tell whether the lab's story is the typical outcome")
        out.append(f"The exact pair the lab shows ({{0,1}}|{{2,3}} and {{0,2}}|{{1,3}}, distinct) occurred in "
                   f"{share(k, n, 'seeds')}, {verdict}.")
    return out


def answer_origin(a: SeedAnalysis) -> list[str]:
    """How do distinct units arise from random weights? (Diverged seeds left out.)"""
    a = a.kept()
    if not len(a.seeds):
        return ["Every seed diverged, so there is no trained network whose origin could be traced."]
    keep = keep_initial_split(a)
    n_live = int((~a.dead).sum())
    k_keep = int(round(keep * n_live)) if np.isfinite(keep) else 0
    out = [f"At initialisation each unit's line already splits the classes in some way (its split: which classes "
           f"sit mostly on its active side). {share(k_keep, n_live, 'units that stayed alive')} ended with the same "
           f"split they started with; the rest moved to a different split during training."
           if np.isfinite(keep) else "Every unit died, so no unit kept or changed a split."]
    ang = a.init_angle
    groups = {o: ang[[i for i, x in enumerate(a.outcome) if x == o]] for o in OUTCOMES}
    meds = {o: float(np.nanmedian(v)) for o, v in groups.items() if len(v) and np.isfinite(v).any()}
    if len(meds) >= 2:
        parts = ", ".join(f"{o} {v:.0f}° (n={len(groups[o])})" for o, v in meds.items())
        pair = "the two units'" if a.active.shape[1] == 2 else "the closest two units'"
        out.append(f"The median initial angle between {pair} weight vectors, by outcome: {parts}. "
                   + _angle_verdict(meds))
    rel = initial_relation(a)
    if rel:
        if rel["same"][1] and rel["different"][1]:
            out.append(_relation_sentence(rel, a.active.shape[1]))
        elif a.active.shape[1] > 2:
            out.append("In every seed " + ("all units started on different splits" if rel["different"][1] else
                                           "at least two units started on the same split")
                       + ", so the start cannot be compared.")
        else:
            out.append(f"All seeds started with their units splitting the classes "
                       f"{'differently' if rel['different'][1] else 'the same way'}, so the start cannot be compared.")
    if a.active.shape[1] >= 2:
        out.append("Only the random starting weights tell the units apart; `nichelab run symmetry` tests what "
                   "happens when they start identical.")
    return out


def _relation_sentence(rel: dict, units: int = 2) -> str:
    """Distinct share when the units started on different splits vs the same split, and whether that differs."""
    (p1, n1), (p0, n0) = rel["different"], rel["same"]
    k1, k0 = int(round(p1 * n1)), int(round(p0 * n0))
    if units > 2:
        return (f"Seeds whose units all started on different splits ended distinct in {share(k1, n1, 'seeds')}; "
                f"seeds where at least two units started on the same split ended distinct in "
                f"{share(k0, n0, 'seeds')}, " + _relation_verdict(k1, n1, k0, n0, "all starting on different splits")
                + ".")
    return (f"Seeds whose units started on different splits ended distinct in {share(k1, n1, 'seeds')}; seeds whose "
            f"units started on the same split ended distinct in {share(k0, n0, 'seeds')}, "
            + _relation_verdict(k1, n1, k0, n0, "starting on different splits") + ".")


def _relation_verdict(k1: int, n1: int, k0: int, n0: int, what: str) -> str:
    d, lo, hi, sep = difference(k1, n1, k0, n0)
    return (f"so {what} {'helps' if d > 0 else 'hurts'} "
            f"({100 * d:+.0f} percentage points, 95% CI {100 * lo:+.0f} to {100 * hi:+.0f})" if sep else
            f"and the run cannot tell whether {what} matters ({100 * d:+.0f} percentage "
            f"points, 95% CI {100 * lo:+.0f} to {100 * hi:+.0f})")


def initial_relation(a: SeedAnalysis) -> dict:
    """Share of seeds ending distinct, by whether their units' initial splits were all different or not.

    Returns ``{"different": (share, n), "same": (share, n)}``; empty when H < 2.
    """
    from ...metrics.partitions import split_key
    if a.init_active.shape[1] < 2:
        return {}
    diff = np.array([len({split_key(u) for u in a.init_active[s]}) == a.init_active.shape[1]
                     for s in range(len(a.seeds))], dtype=bool)
    dist = np.array([o == "distinct" for o in a.outcome], dtype=bool)
    return {k: (float(dist[m].mean()) if m.any() else float("nan"), int(m.sum()))
            for k, m in (("different", diff), ("same", ~diff))}


def _angle_verdict(meds: dict) -> str:
    if "distinct" in meds and "duplicate" in meds:
        d = meds["distinct"] - meds["duplicate"]
        if abs(d) < 10:
            return "Distinct and duplicate seeds started at similar angles, so the starting angle alone does not decide the outcome."
        more = "wider" if d > 0 else "narrower"
        return (f"Seeds that ended distinct started with {more} angles between their units "
                f"({abs(d):.0f}° difference in median) than seeds that ended duplicated.")
    missing = [o for o in ("distinct", "duplicate") if o not in meds]
    return (f"No seed ended {' or '.join(missing)}, so the angles of distinct and duplicate seeds cannot be "
            "compared.")


def answer_failures(a: SeedAnalysis) -> list[str]:
    """What happens when two units converge on the same thing, or one dies? (Diverged seeds left out.)"""
    note = diverged_note(a)
    a = a.kept()
    out = [note] if note else []
    if not len(a.seeds):
        return out
    for o in ("distinct", "duplicate", "dead", "other"):
        idx = [i for i, x in enumerate(a.outcome) if x == o]
        if not idx:
            continue
        acc = a.accuracy[idx]
        rec = a.recall[idx].mean(axis=0)
        worst = int(np.argmin(rec))
        lost = (f"their weakest class is class {worst}: on average over these seeds, {pct(rec[worst])} of its "
                f"points are classified right"
                if rec[worst] < 0.995 else "every class is right on (nearly) every point")
        spread = (f"accuracy {pct(acc[0])}" if len(idx) == 1 else
                  f"accuracy {pct(acc[0])} in every one" if pct(acc.min()) == pct(acc.max()) else
                  f"median accuracy {pct(np.median(acc))} (range {pct(acc.min())}–{pct(acc.max())})")
        out.append(f"{o.capitalize()} {_seeds(len(idx))}: {spread}; {lost}.")
        if o == "duplicate":
            mir = mirrored_duplicates(a)
            same = [i for i in idx if i not in mir]
            if mir and same:
                two = "two units" if a.active.shape[1] == 2 else "at least two units"
                out.append(f"Of the duplicate seeds, {len(same)} have {two} active on the same side of the same "
                           f"split (median accuracy {pct(np.median(a.accuracy[same]))}); {len(mir)} have the same "
                           f"split with opposite active sides, which still tells the two sides apart by which unit "
                           f"fires (median accuracy {pct(np.median(a.accuracy[mir]))}).")
    if "duplicate" not in a.outcome and "dead" not in a.outcome:
        out.append("No seed duplicated or lost a unit in this run, so there is nothing to compare.")
    return out


def _units_word(h: int) -> str:
    return "the hidden unit" if h == 1 else ("the two hidden units" if h == 2 else f"the {h} hidden units")


def answer_exclusion(ex: dict, cfg=None) -> list[str]:
    """Niche exclusion in words, from the counts of :func:`nichelab.studies.lab.mechanism.niche_exclusion`.

    ``ex`` holds ``reference_seed``, ``partner_split``, ``restarts`` and, for ``with_partner`` and
    ``silenced``, ``same`` (restarts whose unit 1 ends on the partner's split) and ``dead``. Empty
    ``ex``: says why nothing was measured (``cfg`` gives the reason).
    """
    if not ex:
        if cfg is not None and cfg.hidden != 2:
            return [f"Niche exclusion is measured on two-unit networks; this run has {plural(cfg.hidden, 'hidden unit')}."]
        if cfg is not None and cfg.exclusion_restarts == 0:
            return ["Niche exclusion was not measured (--exclusion-restarts 0)."]
        return ["Niche exclusion was not measured: no seed ended with distinct niches to take a partner from."]
    n, split, ref = int(ex["restarts"]), ex["partner_split"], ex["reference_seed"]
    k1, k0 = int(ex["with_partner"]["same"]), int(ex["silenced"]["same"])
    out = [f"Niche exclusion: we froze unit L1:0 of seed {ref} (it splits the classes {split}) and trained a fresh "
           f"unit L1:1 beside it from {plural(n, 'random start')}, with the lab's training settings. "
           f"With a partner already covering {split}, the second unit took the same split in {share(k1, n, 'restarts')}, "
           f"against {share(k0, n, 'restarts')} without it (the partner's output clamped to 0, so the second unit "
           f"trains alone)."]
    d, lo, hi, sep = difference(k1, n, k0, n)
    if sep:
        way = "lowers" if d < 0 else "raises"
        a_lo, a_hi = sorted((abs(100 * lo), abs(100 * hi)))
        out.append(f"A partner on the split {way} the chance of landing on it by {abs(100 * d):.0f} percentage points "
                   f"(95% CI {a_lo:.0f} to {a_hi:.0f})"
                   + (". This is what we expect if the partner has already removed the errors that split would fix, "
                      "so little gradient is left to pull a second unit there." if d < 0 else
                      ": here the partner draws the second unit onto its own split."))
    else:
        out.append(f"The run cannot tell the two apart (difference {100 * d:+.0f} percentage points, 95% CI "
                   f"{100 * lo:+.0f} to {100 * hi:+.0f}); more restarts (--exclusion-restarts) would narrow it.")
    dead1, dead0 = int(ex["with_partner"]["dead"]), int(ex["silenced"]["dead"])
    if dead1 or dead0:
        out.append(f"The second unit died (silent on every point) in {share(dead1, n, 'restarts')} with the partner "
                   f"and {share(dead0, n, 'restarts')} without.")
    return out


def answer_pull(pull: dict) -> list[str]:
    """Who pulls each unit, in words: at epoch 0, which class pulls hardest, and does it end on the active side."""
    if not pull or not pull.get("epoch0_units"):
        return ["No live unit to measure the pull on."]
    n, k = int(pull["epoch0_units"]), int(pull["epoch0_top_on_active"])
    out = [f"At the random start, the class whose errors pull hardest on a unit's line (the largest norm of that "
           f"class's part of the gradient on the unit's incoming weights) ended on the unit's active side in "
           f"{share(k, n, 'live units')}."]
    if "norm" in pull:
        norm = np.asarray(pull["norm"], float)
        ep = np.asarray(pull["epochs"])
        first = [int(np.argmax(norm[0, h])) for h in range(norm.shape[1])]
        parts = "; ".join(f"L1:{h} by class {c}" for h, c in enumerate(first))
        total0, total1 = float(norm[0].sum()), float(norm[-1].sum())
        how = ("the unit is pulled hardest by class " + str(first[0]) if len(first) == 1 else
               f"the units are pulled hardest as follows: {parts}")
        out.append(f"In seed {pull['seed']}, at epoch 0 {how}. By epoch "
                   f"{int(ep[-1])} the total pull has fallen to {pct(total1 / total0) if total0 > 0 else 'n/a'} of its "
                   f"start: once a unit's split fixes the errors of the classes that pulled it, they stop pulling.")
    return out


def short_answer(a: SeedAnalysis, ex: dict) -> list[str]:
    """The short answer to the three lab questions, one paragraph, from this run's numbers."""
    a = a.kept()
    if not len(a.seeds):
        return ["Every seed diverged, so this run cannot answer the lab's questions: try a smaller --lr."]
    from ...metrics.partitions import split_key
    H = a.active.shape[1]
    same = [split_key(a.init_active[s, h]) == a.splits[s][h]
            for s in range(len(a.seeds)) for h in range(H) if not a.dead[s, h]]
    parts = []
    if same:
        k, m = int(sum(same)), len(same)
        verdict = majority(k, m, "so the start decides the niche more often than not",
                           "so training, not the start, decides most niches",
                           "so the run cannot tell whether the start or training decides most niches")
        parts.append(f"How random lines become niches: each unit starts as a random line that already cuts the "
                     f"classes in two; {share(k, m, 'live units')} kept the cut they started with, {verdict}")
        parts[-1] += ("; training then turns and shifts each line, pulled by the classes whose errors are largest "
                      "(see 'Why does each unit find its own niche?').")
    if ex:
        n, k1, k0 = int(ex["restarts"]), int(ex["with_partner"]["same"]), int(ex["silenced"]["same"])
        d, lo, hi, sep = difference(k1, n, k0, n)
        parts.append(f"Why units rarely duplicate: a fresh unit trained beside a partner that already covers "
                     f"{ex['partner_split']} took the same split in {share(k1, n, 'restarts')}, against "
                     f"{share(k0, n, 'restarts')} when it trained alone"
                     + (" — once one unit covers a split, taking it again no longer reduces the error much, so the "
                        "other unit settles elsewhere."
                        if sep and d < 0 else
                        (" — here the partner attracts it." if sep else " — the run cannot tell these apart.")))
    c = outcome_counts(a)
    costs = [f"{o} seeds {pct(np.median(a.accuracy[[i for i, x in enumerate(a.outcome) if x == o]]))} "
             f"(n={c[o]})" for o in OUTCOMES if c[o]]
    what = "What a dead unit costs" if H == 1 else "What duplicates and dead units cost"
    parts.append(f"{what}: median accuracy by outcome is {', '.join(costs)}.")
    return [" ".join(p if p.endswith(".") else p + "." for p in parts)]
