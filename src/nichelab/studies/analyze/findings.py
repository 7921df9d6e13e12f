"""The census in words: every sentence is generated from the measured numbers (no fixed claims).

Each function takes layer censuses (:class:`~nichelab.studies.analyze.census.LayerCensus`) and
returns a list of sentences; units are written ``L:k``.
"""
from __future__ import annotations

import re

import numpy as np

from ...train.divergence import RULE
from ..text import difference, num, pct, plural
from .census import RARE, LayerCensus, ablation_drops, spearman

__all__ = ["KIND_TEXT", "model_lines", "class_label", "unit_list", "layer_label", "indispensable", "dead_findings",
           "duplicate_findings", "selectivity_findings", "mean_difference", "selectivity_change", "ablation_findings",
           "probe_findings", "layer_line", "diverged_lines", "nonfinite_lines"]

_LIST = 12
#: How the model came to be analysed, in words (by ``Subject.kind``).
KIND_TEXT = {"builtin": "built-in model trained here", "export": "a torch.export program",
             "torchscript": "a TorchScript Sequential", "factory": "built by a factory", "pickle": "a trusted pickle",
             "module": "an nn.Module given in Python",
             "keras": "a Keras 3 model, layers named by their Keras names",
             "hf": "a Hugging Face transformers model, layers named by module paths"}


def _pp(x: float) -> str:
    """Percentage points with one decimal, never "-0.0"."""
    return f"{float(x) + 0.0:.1f}" if abs(x) >= 0.05 else "0.0"


def _spp(x: float) -> str:
    """A signed change in percentage points, one sign only: ``+3.0`` / ``−3.0``; ``0.0`` without sign."""
    x = float(x)
    if not np.isfinite(x):
        return "n/a"
    if abs(x) < 0.05:
        return "0.0"
    return f"{'+' if x > 0 else '−'}{abs(x):.1f}"


def class_label(names: list[str], k: int) -> str:
    """``class 3`` for numeric class names, ``'face'`` otherwise."""
    name = names[k] if 0 <= k < len(names) else str(k)
    return f"class {name}" if name.lstrip("-").isdigit() else f"'{name}'"


def layer_label(name: str) -> str:
    """A layer's name as it reads in a sentence: ``"layer 1"`` for a bare number (``nn.Sequential`` / ``.pt2``
    layers are named ``"1"``, ``"3"``, or ``"1#1"`` for a second call), the name itself otherwise (``"L1"``,
    ``"features.0"``)."""
    return f"layer {name}" if re.fullmatch(r"\d+(#\d+)?", str(name)) else str(name)


def unit_list(units: list[str], limit: int = _LIST) -> str:
    """``"L1:3, L1:7 and L1:9"``; long lists end with ``"... and 12 more"``."""
    if not units:
        return "none"
    if len(units) > limit:
        return ", ".join(units[:limit]) + f" and {len(units) - limit} more"
    return units[0] if len(units) == 1 else ", ".join(units[:-1]) + " and " + units[-1]


def indispensable(lc: LayerCensus, overall_pp: float, class_pp: float) -> np.ndarray:
    """(n_units,) bool: ablating the unit costs >= ``overall_pp`` points overall or >= ``class_pp`` on a class."""
    if lc.ablation is None:
        return np.zeros(lc.n_units, dtype=bool)
    overall, per_class = ablation_drops(lc.ablation)
    worst = np.nanmax(np.where(np.isfinite(per_class), per_class, -np.inf), axis=1)
    return (overall >= overall_pp - 1e-9) | (worst >= class_pp - 1e-9)


def _what(lc: LayerCensus) -> str:
    if lc.kind == "conv":
        return f"{layer_label(lc.name)} ({lc.n_units} channels, spatial {lc.reduce} per channel)"
    return f"{layer_label(lc.name)} ({lc.n_units} units)"


def dead_findings(layers: list[LayerCensus], n_samples: int) -> list[str]:
    """Which units are dead, per layer."""
    out = []
    for lc in layers:
        idx = np.flatnonzero(lc.dead)
        dead = [lc.unit(k) for k in idx]
        if not dead:
            out.append(f"{_what(lc)}: no dead unit; every unit varies across the {n_samples} samples.")
            continue
        silent = np.all(lc.mean[idx] == 0) and not lc.signed
        rule = "output 0" if silent else "a constant output" if np.all(lc.mean[idx] != 0) else "output 0 or a constant"
        out.append(f"{_what(lc)}: {len(dead)} of {lc.n_units} units {'is' if len(dead) == 1 else 'are'} dead "
                   f"({rule} on all {n_samples} samples): "
                   f"{unit_list(dead)}. They carry no information about these samples.")
    return out


def duplicate_findings(layers: list[LayerCensus], threshold: float) -> list[str]:
    """Which units duplicate each other (|r| >= threshold), per layer."""
    out = []
    for lc in layers:
        if not lc.groups:
            live = np.isfinite(lc.partner_r)
            best = f" (the closest pair correlates at |r| = {np.nanmax(np.abs(lc.partner_r)):.2f})" if live.any() else ""
            out.append(f"{layer_label(lc.name)}: no near-duplicate units at |r| >= {threshold:g}{best}.")
            continue
        groups = ["{" + ", ".join(lc.unit(k) for k in g) + "}" for g in lc.groups]
        n_in = sum(len(g) for g in lc.groups)
        shown = "; ".join(groups[:8]) + (f"; and {len(groups) - 8} more groups" if len(groups) > 8 else "")
        out.append(f"{layer_label(lc.name)}: {len(groups)} near-duplicate group{'s' if len(groups) > 1 else ''} "
                   f"({n_in} of {lc.n_units} units, |r| >= {threshold:g}): {shown}. Units of a group compute "
                   f"almost the same function of the input, so all but one are redundant on these data.")
    return out


def selectivity_findings(layers: list[LayerCensus], class_names: list[str], top: int = 3) -> list[str]:
    """The most selective units of each layer and how mean selectivity changes with depth."""
    out = []
    for lc in layers:
        live = np.flatnonzero(~lc.dead & np.isfinite(lc.selectivity))
        if not live.size:
            out.append(f"{layer_label(lc.name)}: every unit is dead, so no unit prefers a class.")
            continue
        ranked = lc.ranked()
        parts = [f"{lc.unit(k)} (index {lc.selectivity[k]:.2f}, prefers {class_label(class_names, int(lc.preferred[k]))})"
                 for k in ranked[:top]]
        strong = int((lc.selectivity[live] >= 0.5).sum())
        text = (f"{layer_label(lc.name)}: mean selectivity {lc.mean_selectivity:.2f} over {live.size} live units; "
                f"{strong} unit{'s' if strong != 1 else ''} with index >= 0.5 (mean response to the preferred "
                f"class at least 3 times that to the others)")
        text += f". Most selective: {'; '.join(parts)}." if parts else "."
        rare = np.flatnonzero(lc.rarely_active())
        if rare.size:
            text += (f" Left out of the ranking as rarely active (> 0 on fewer than {100 * RARE:g}% of the "
                     f"samples): {unit_list([lc.unit(k) for k in rare], 6)}.")
        out.append(text)
    change = selectivity_change(layers)
    if change:
        out.append(change)
    return out


def mean_difference(a, b) -> tuple[float, float, float, bool]:
    """Difference of means ``mean(b) - mean(a)`` with its Welch t 95% interval.

    Parameters
    ----------
    a, b : array_like of float, shape (n_a,), (n_b,)
        The two groups (here: the selectivity of each live unit of two layers); NaNs are dropped.

    Returns
    -------
    (diff, low, high, separated) : tuple of (float, float, float, bool)
        ``separated`` is True when the interval excludes 0. NaNs and False when a group has fewer than 2
        values or both have zero spread.

    References
    ----------
    Welch, B. L. (1947). The generalization of 'Student's' problem when several different population
    variances are involved. Biometrika 34, 28-35.
    """
    from scipy.stats import t as student_t   # deferred: slow to import
    a = np.asarray(a, float).ravel()
    b = np.asarray(b, float).ravel()
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    nan = float("nan")
    if a.size < 2 or b.size < 2:
        return nan, nan, nan, False
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    d = float(b.mean() - a.mean())
    se = float(np.sqrt(va + vb))
    if se == 0:
        return d, nan, nan, False
    dof = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    half = float(student_t.ppf(0.975, dof)) * se
    return d, d - half, d + half, bool(d - half > 0 or d + half < 0)


def _signed(x: float) -> str:
    return f"{'+' if x > 0 else '−' if x < 0 else ''}{abs(x):.2f}"


def selectivity_change(layers: list[LayerCensus]) -> str:
    """How mean selectivity differs between the first and the last layer with live units, with its interval.

    The claim "rises" / "falls" is made only when the Welch 95% interval of the difference of means over
    live units (:func:`mean_difference`) excludes zero; otherwise the sentence says this run cannot tell.
    Returns ``""`` when fewer than two layers have live units.
    """
    live = [(lc, lc.selectivity[~lc.dead & np.isfinite(lc.selectivity)]) for lc in layers]
    live = [(lc, v) for lc, v in live if v.size]
    if len(live) < 2:
        return ""
    (first, a), (last, b) = live[0], live[-1]
    means = ", ".join(f"{layer_label(lc.name)} {v.mean():.2f} ({plural(v.size, 'live unit')})" for lc, v in live)
    d, lo, hi, sep = mean_difference(a, b)
    f, l_ = layer_label(first.name), layer_label(last.name)
    lit = " (Morcos et al. 2018 report that it rises with depth in trained image classifiers)"
    if not np.isfinite(d) or not np.isfinite(lo):
        return (f"Mean selectivity per layer: {means}. Too few live units with varying selectivity to compare "
                f"{f} with {l_}: this run cannot tell whether selectivity changes with depth{lit}.")
    ci = f"95% CI {_signed(lo)} to {_signed(hi)}, Welch t interval over units"
    if sep:
        verb = "rises" if d > 0 else "falls"
        return (f"Mean selectivity per layer: {means}. From {f} to {l_} it {verb} by {abs(d):.2f} ({ci}){lit}.")
    return (f"Mean selectivity per layer: {means}. From {f} to {l_} the difference is {_signed(d)} ({ci}): the "
            f"interval includes 0, so this run cannot tell whether selectivity rises or falls with depth{lit}.")


def ablation_findings(layers: list[LayerCensus], class_names: list[str], overall_pp: float, class_pp: float,
                      mode: str) -> list[str]:
    """Which units the model cannot do without, and whether selectivity predicts the damage."""
    out = []
    ran = [lc for lc in layers if lc.ablation is not None]
    if not ran:
        notes = {lc.ablation_note for lc in layers if lc.ablation_note}
        return [f"No unit was ablated: {'; '.join(sorted(notes)) or 'ablation was not run'}."]
    a0 = ran[0].ablation
    n = int(a0.class_counts.sum())
    conv = " (a conv unit is a whole channel)" if any(lc.kind == "conv" for lc in ran) else ""
    out.append(f"Each unit was {'set to 0' if mode == 'zero' else 'clamped to its mean activation'} alone"
               f"{conv} on {n} samples (baseline accuracy {pct(a0.baseline_acc, 1)}; "
               f"one sample is {100 / n:.2f} points overall). A unit counts as indispensable when that costs "
               f">= {overall_pp:g} point{'s' if overall_pp != 1 else ''} of overall accuracy or >= {class_pp:g} "
               f"points on one class.")
    for lc in ran:
        overall, per_class = ablation_drops(lc.ablation)
        need = np.flatnonzero(indispensable(lc, overall_pp, class_pp))
        worst_cls = np.nanargmax(np.where(np.isfinite(per_class), per_class, -np.inf), axis=1)
        worst = per_class[np.arange(lc.n_units), worst_cls]
        k_all, k_cls = int(np.argmax(overall)), int(np.argmax(worst))
        if worst[k_cls] <= 0:
            text = f"{layer_label(lc.name)}: ablating any one unit costs no accuracy, overall or on any class. "
        else:
            most = (f"the largest overall cost of one unit is {_pp(overall[k_all])} points ({lc.unit(k_all)})"
                    if overall[k_all] >= 0.05 else "no single unit costs overall accuracy")
            text = (f"{layer_label(lc.name)}: {most}; the largest cost to one class is {_pp(worst[k_cls])} points "
                    f"({lc.unit(k_cls)} on {class_label(class_names, int(worst_cls[k_cls]))}). ")
        if need.size:
            order = need[np.argsort(-np.maximum(overall[need] / overall_pp, worst[need] / class_pp), kind="stable")]
            items = [f"{lc.unit(k)} ({_spp(-overall[k])} overall, {_spp(-worst[k])} on "
                     f"{class_label(class_names, int(worst_cls[k]))})" for k in order]
            text += (f"{need.size} of {lc.n_units} units {'is' if need.size == 1 else 'are'} indispensable: "
                     f"{unit_list(items, 8)}.")
        else:
            text += "No single unit is indispensable: the layer spreads what it knows over several units."
        text += _gain_text(lc, overall, n)
        out.append(text)
        rho_cls, rho_all = spearman(lc.selectivity, worst), spearman(lc.selectivity, overall)
        costly = int(np.sum(np.isfinite(lc.selectivity) & (worst > 0)))
        if np.isfinite(rho_cls) and np.isfinite(rho_all) and costly >= 3 and np.isfinite(lc.selectivity).sum() >= 8:
            verdict = ("as Morcos et al. (2018) found, selectivity predicts the damage to single classes better than "
                       "the overall damage" if rho_cls > max(rho_all + 0.1, 0.2) else
                       "here selectivity does not predict single-class damage better than overall damage "
                       "(Morcos et al. 2018 found that it does)")
            out.append(f"{layer_label(lc.name)}: rank correlation of selectivity with the worst single-class cost "
                       f"{rho_cls:+.2f}, with the overall cost {rho_all:+.2f}: {verdict}.")
    return out


def _gain_text(lc: LayerCensus, overall: np.ndarray, n: int) -> str:
    """Units whose removal raised overall accuracy (a negative cost), in plain words; ``""`` when there are none."""
    gain = np.flatnonzero(overall <= -0.05)
    if not gain.size:
        return ""
    k = int(gain[np.argmin(overall[gain])])
    flips = int(round(-overall[k] * n / 100))
    return (f" Removing {plural(int(gain.size), 'unit')} of this layer ({unit_list([lc.unit(j) for j in gain], 6)}) "
            f"raised overall accuracy instead: a negative cost, at most {_pp(-overall[k])} points ({lc.unit(k)}, "
            f"{plural(flips, 'sample')} more answered correctly of {n}). This is not an error: without the unit, "
            f"more samples near a class boundary move to the right side than to the wrong one. "
            + ("A gain of one or two samples is what chance can do, so it does not show that the unit hurts the model."
               if flips <= 2 else
               "On these samples the model does slightly better without the unit; other samples may differ."))


def _probe_gap(p1, p2) -> tuple[float, float, float, bool]:
    """Held-out accuracy of probe 1 minus probe 2 in points, with its Newcombe 95% interval (in points)."""
    k1, k2 = int(round(p1.test_acc * p1.n_test)), int(round(p2.test_acc * p2.n_test))
    d, lo, hi, sep = difference(k1, int(p1.n_test), k2, int(p2.n_test))
    return 100 * d, 100 * lo, 100 * hi, sep


def probe_findings(layers: list[LayerCensus], input_probe, n_classes: int) -> list[str]:
    """How much each layer knows about the labels (linear probe accuracy vs chance).

    A layer is called more (or less) decodable than another only when the Newcombe 95% interval of the
    difference of held-out accuracies (:func:`nichelab.studies.text.difference`, the held-out samples
    counted as independent draws) excludes zero; otherwise the sentence says this run cannot tell.
    """
    rows = [("input", input_probe)] + [(layer_label(lc.name), lc.probe) for lc in layers]
    done = [(n, p) for n, p in rows if p is not None]
    if not done:
        return ["No linear probe could be trained (see the layer table)."]
    chance = done[0][1].chance
    text = (f"A linear probe (logistic regression on one layer's activations, {done[0][1].n_train} training and "
            f"{done[0][1].n_test} held-out samples) reaches held-out accuracy "
            + ", ".join(f"{n} {pct(p.test_acc, 1)}" for n, p in done)
            + f"; always answering the most frequent class scores {pct(chance, 1)} ({n_classes} classes).")
    out = [text]
    layer_probes = [(n, p) for n, p in done if n != "input"]
    if layer_probes:
        best = max(layer_probes, key=lambda t: t[1].test_acc)
        low = [n for n, p in layer_probes if p.test_acc < chance + 0.1 * (1 - chance)]
        tied = [n for n, p in layer_probes if pct(p.test_acc, 1) == pct(best[1].test_acc, 1)]
        rest = [(n, p) for n, p in layer_probes if n not in tied]
        if len(tied) == len(layer_probes) > 1:
            lead = f"Every analysed layer reaches {pct(best[1].test_acc, 1)}."
        elif not rest:
            lead = f"The only analysed layer, {best[0]}, reaches {pct(best[1].test_acc, 1)}."
        else:
            top = unit_list(tied)
            nxt = max(rest, key=lambda t: t[1].test_acc)
            d, lo, hi, sep = _probe_gap(best[1], nxt[1])
            ci = f"95% CI {_spp(lo)} to {_spp(hi)} points"
            if sep:
                lead = (f"The labels are most linearly decodable from {top} ({pct(best[1].test_acc, 1)}), "
                        f"{_pp(d)} points above the next layer, {nxt[0]} ({pct(nxt[1].test_acc, 1)}; {ci}).")
            else:
                lead = (f"The highest held-out probe accuracy is {top}'s ({pct(best[1].test_acc, 1)}), but this run "
                        f"cannot tell it from {nxt[0]} ({pct(nxt[1].test_acc, 1)}; difference {_spp(d)} points, "
                        f"{ci}).")
        out.append(lead
                   + (f" Close to chance: {', '.join(low)}." if low else
                      " Every analysed layer decodes the labels well above chance."))
        if input_probe is not None and input_probe.test_acc > best[1].test_acc:
            d, lo, hi, sep = _probe_gap(input_probe, best[1])
            if sep:
                out.append(f"The raw input is more linearly decodable ({pct(input_probe.test_acc, 1)}) than any "
                           f"analysed layer ({_pp(d)} points above {best[0]}; 95% CI {_spp(lo)} to {_spp(hi)} "
                           "points): the probes see few samples, or the layers discard label information.")
    return out


def layer_line(lc: LayerCensus, overall_pp: float, class_pp: float) -> str:
    """One sentence per layer for the short answer."""
    n_dead = int(lc.dead.sum())
    n_dup = sum(len(g) for g in lc.groups)
    parts = [f"{n_dead} dead", f"{len(lc.groups)} near-duplicate group{'s' if len(lc.groups) != 1 else ''}"
             + (f" ({n_dup} units)" if n_dup else "")]
    if np.isfinite(lc.mean_selectivity):
        parts.append(f"mean selectivity {lc.mean_selectivity:.2f}")
    if lc.ablation is not None:
        parts.append(f"{int(indispensable(lc, overall_pp, class_pp).sum())} indispensable")
    if lc.probe is not None:
        parts.append(f"probe accuracy {pct(lc.probe.test_acc, 1)} (chance {pct(lc.probe.chance, 1)})")
    return f"{_what(lc)}: " + ", ".join(parts) + "."


def model_lines(source: str, kind: str, data_name: str, training: dict | None, n_samples: int,
                acc: float | None, per_class: np.ndarray | None, class_names: list[str]) -> list[str]:
    """The model and its accuracy in words, and the hardest class."""
    if training:
        t = training
        out = [f"{source} trained on {data_name} ({t['n_train']} samples, {t['epochs']} epochs): training accuracy "
               f"{pct(t['train_accuracy'], 1)}, held-out accuracy {pct(t['test_accuracy'], 1)} on "
               f"{t['n_test']} samples; the census below uses {n_samples} held-out samples."]
    else:
        out = [f"{source} ({KIND_TEXT[kind]}) on {data_name}: "
               + (f"accuracy {pct(acc, 1)} on the {n_samples} analysed samples." if acc is not None
                  else f"{n_samples} samples analysed.")]
    if per_class is not None and np.isfinite(per_class).any() and np.nanmin(per_class) < np.nanmax(per_class):
        worst = int(np.nanargmin(per_class))
        out.append(f"Hardest class: {class_label(class_names, worst)} ({pct(per_class[worst], 1)} correct).")
    return out


_NOT_MEASURED = ("The units were not measured: activations of a network that blew up say nothing about what its units "
                 "learned, so this report makes no claim about dead, duplicate, selective or indispensable units.")


def diverged_lines(training: dict, source: str, data_name: str) -> list[str]:
    """Training of a built-in model diverged (:mod:`nichelab.train.divergence`): what happened, and what was not measured."""
    loss = [float(v) for v in np.asarray(training.get("loss", []), float).ravel()]
    last = f" (last epoch's mean training loss: {num(loss[-1])})" if loss else ""
    return [f"Training diverged: {source} trained on {data_name} with learning rate {num(training['lr'])} "
            f"({training['optimizer']}, {plural(int(training['epochs']), 'epoch')}) blew up{last}. A training is "
            f"called diverged when the {RULE}.",
            _NOT_MEASURED + " Try a smaller learning rate."]


def nonfinite_lines(bad: dict[str, int], training: dict | None, source: str, data_name: str, n_samples: int) -> list[str]:
    """The model's activations hold NaN or infinite values on the analysed samples: where, and what was not measured."""
    where = ", ".join(f"{name} ({plural(n, 'value')})" for name, n in bad.items())
    if training:
        return [f"Training diverged: {source} trained on {data_name} gives NaN or infinite activations on the "
                f"{n_samples} analysed samples in {where}: its weights are finite but so large that the forward pass "
                "overflows.", _NOT_MEASURED + " Try a smaller learning rate."]
    return [f"The model's activations are not finite: {source} gives NaN or infinite values on the {n_samples} "
            f"analysed samples of {data_name} in {where}.",
            "The units were not measured: NaN or infinite activations are not silence, so this report makes no claim "
            "about dead, duplicate, selective or indispensable units. Check the model's weights and the scale of the "
            "inputs."]
