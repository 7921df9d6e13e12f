"""How the transfer study writes accuracy differences: percentage points, signed points, the rule.

Shared by the findings (``findings.py``) and the page (``nichelab.reporting.pages.transfer``);
plain Python, no numpy. Shares themselves are written with :func:`nichelab.studies.text.pct`.
"""
from __future__ import annotations

__all__ = ["pts", "spts", "rule", "arch_name", "pair_name"]


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
