"""How the transfer study writes accuracy differences: percentage points, signed points, the rule.

Shared by the findings (``findings.py``) and the page (``nichelab.reporting.pages.transfer``);
plain Python, no numpy. Shares themselves are written with :func:`nichelab.studies.text.pct`.
"""
from __future__ import annotations

__all__ = ["pts", "spts", "rule", "arch_name", "pair_name", "TERMS", "SHORT_TERMS", "effect_groups"]


def pts(x: float) -> str:
    """A difference of accuracies in percentage points: ``0.034 -> "3.4 points"``; NaN (not measured:
    every seed diverged) -> ``"n/a points"``."""
    if x != x:
        return "n/a points"
    return f"{100 * x:.1f} points"


def spts(x: float) -> str:
    """Signed points: ``+1.2`` / ``−0.9`` (no unit); NaN -> ``"n/a"``."""
    if x != x:
        return "n/a"
    return f"{'+' if x >= 0 else '−'}{abs(100 * x):.1f}"


def rule(margin: float) -> str:
    """The decision rule, as written in the findings."""
    return (f"a difference counts when it exceeds {pts(margin)} and its 95% interval over seeds excludes zero; "
            "otherwise the run cannot tell")


def arch_name(spec: str) -> str:
    """``"mlp 64-64-64" -> "MLP (mlp 64-64-64)"``."""
    return f"{spec.split()[0].upper()} ({spec})"


def pair_name(source_label: str, target_label: str, kind: str) -> str:
    """``"digits 0–4 → digits 5–9 (similar)"``."""
    return f"{source_label} → {target_label} ({kind})"


#: Every term of the transfer study, defined before its first use (the report's first section).
TERMS = ("Terms: task B is the task to solve and task A another task; baseA and baseB are networks trained from "
         "scratch on A or on B. A cut n keeps the first n layers (blocks) and trains the layers above anew on B: "
         "AnB copies them from baseA and freezes them (no further training); BnB, the 'selffer', copies baseB's own "
         "(it shows what cutting alone costs); the random control freezes them at random initial values (what "
         "layers that learned nothing are worth); a '+' (AnB+, BnB+) means fine-tuning: every layer, the copied "
         "ones too, is then trained further on B. Co-adaptation: neighbouring layers that only work together, so "
         "retraining the upper ones alone cannot recover what a cut between them loses. Transferred layers are "
         "general when they serve B measurably better than random frozen layers and as well as B's own; partly "
         "general when better than random ones but worse than B's own; specific to A (domain-specific) when they "
         "serve B measurably worse than random frozen layers.")


#: The terms the short answer uses, defined before their first use (the summary's first sentence); the
#: full list (:data:`TERMS`) opens the report's first section.
SHORT_TERMS = ("Terms: task B is the task to solve and task A another task. The first layers of a network trained on "
               "A are copied into a network for B and frozen (kept fixed) while the layers above are trained on B; "
               "the random control freezes layers left at random initial values instead. Transferred layers are "
               "general when they serve B measurably better than random frozen layers and as well as B's own, "
               "and specific to A (domain-specific) when they serve B measurably worse than random frozen layers.")


def effect_groups(verdicts: dict) -> list[str]:
    """The paper's effects grouped by whether they show here.

    Parameters
    ----------
    verdicts : dict of str -> list of (str, str)
        Effect name -> ``(architecture kind, shows)`` for every architecture (see :class:`Effect`).
    """
    groups = {"yes": [], "no": [], "mixed": [], "n/a": []}
    for name, vs in verdicts.items():
        got = {v for _, v in vs}
        key = ("n/a" if got == {"n/a"} else "yes" if got == {"yes"} else "no" if got <= {"no", "n/a"}
               else "mixed")
        groups[key].append(name if key != "mixed" else f"{name} ({', '.join(f'{k}: {v}' for k, v in vs)})")
    out = []
    if groups["yes"]:
        out.append("Effects of Yosinski et al. (2014) that show here: " + "; ".join(groups["yes"]) + ".")
    if groups["mixed"]:
        out.append("Effects that show only in part: " + "; ".join(groups["mixed"]) + ".")
    if groups["no"]:
        out.append("Effects that do not show in this small setting: " + "; ".join(groups["no"]) + ".")
    if groups["n/a"]:
        out.append("Not measurable with these source tasks: " + "; ".join(groups["n/a"]) + ".")
    return out
