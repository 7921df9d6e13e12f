"""Numbers in words, one copy for every study: percentages, shares with counts and 95% intervals.

Rules (used by every finding and page):

- :func:`pct` — ``0.237 -> "24%"``; shares under 10% (but not 0) keep one decimal
  (``0.005 -> "0.5%"``); ``decimals=1`` always keeps one (accuracies: ``0.9876 -> "98.8%"``);
  NaN or None -> ``"n/a"``.
- :func:`share` — ``"24% (24 of 100; 95% CI 17–33%)"``: every share in words carries its count
  and a Wilson score interval (Wilson 1927).
- :func:`difference` — a difference of two shares with its Newcombe (1998, method 10) 95%
  interval, and whether the interval excludes zero (only then is it called a difference).
"""
from __future__ import annotations

import math

__all__ = ["pct", "share", "wilson_interval", "majority", "difference", "plural", "num"]

_Z95 = 1.959963984540054


def pct(x, decimals: int | None = None) -> str:
    """A fraction as a percentage: ``0.237 -> "24%"``, ``0.005 -> "0.5%"``, NaN -> ``"n/a"``."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    v = 100.0 * float(x)
    if decimals is None:
        decimals = 1 if 0 < abs(v) < 10 else 0
    return f"{v:.{decimals}f}%"


def num(x, digits: int = 3) -> str:
    """A number with ``digits`` significant digits (``"n/a"`` for NaN/None): ``0.333333 -> "0.333"``."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{float(x):.{digits}g}"


def plural(n: int, word: str, words: str | None = None) -> str:
    """``plural(1, "seed") -> "1 seed"``; ``plural(3, "seed") -> "3 seeds"``."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def wilson_interval(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a share ``k / n``; ``(nan, nan)`` when ``n == 0``.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    """
    if n <= 0:
        return math.nan, math.nan
    p, z2 = k / n, _Z95 ** 2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def share(k: int, n: int, of: str = "") -> str:
    """``"24% (24 of 100; 95% CI 17–33%)"`` — a share with its count and Wilson 95% interval."""
    if n <= 0:
        return "n/a (none counted)"
    lo, hi = wilson_interval(k, n)
    of = f" {of}" if of else ""
    return f"{pct(k / n)} ({k} of {n}{of}; 95% CI {pct(lo)}–{pct(hi)})"


def majority(k: int, n: int, most: str, fewer: str, unsure: str) -> str:
    """Words for whether ``k`` of ``n`` is a majority, as far as the 95% Wilson interval can tell.

    Returns ``most`` when the whole interval lies above one half, ``fewer`` when it lies below, and
    ``unsure`` otherwise (also for ``n == 0``).
    """
    lo, hi = wilson_interval(k, n)
    return most if lo > 0.5 else fewer if hi < 0.5 else unsure


def difference(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float, bool]:
    """Difference of shares ``k1/n1 - k2/n2`` with its Newcombe 95% interval.

    Returns
    -------
    (diff, low, high, separated) : separated is True when the interval excludes 0. NaNs and
    False when either count is 0.

    References
    ----------
    Newcombe, R. G. (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Statistics in Medicine 17, 873-890 (method 10).
    """
    if n1 <= 0 or n2 <= 0:
        return math.nan, math.nan, math.nan, False
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1)
    l2, u2 = wilson_interval(k2, n2)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high, bool(low > 0 or high < 0)
