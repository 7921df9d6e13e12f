"""The superposition study's answers in words, generated from this run's numbers."""
from __future__ import annotations

from ..text import plural, share

__all__ = ["answers", "PAPER"]

#: What Elhage et al. (2022) report for this model (REFERENCES.md, "Superposition").
PAPER = ("Elhage et al. (2022) report that with dense inputs the model keeps about m features (m = the number of "
         "hidden dimensions), one per "
         "direction, and that with sparse inputs (S ≥ 0.9) it represents more features than it has "
         "dimensions, with interference between them.")


def _level(row: dict, m: int) -> str:
    if row["n_seeds"] == 1:
        return f"at S = {row['sparsity']:g}, {row['represented_median']:g} features (1 seed) in {m} dimensions"
    rng = (f"{row['represented_min']}–{row['represented_max']}" if row["represented_min"] != row["represented_max"]
           else f"{row['represented_min']}")
    return (f"at S = {row['sparsity']:g}, a median of {row['represented_median']:g} features "
            f"(range {rng} over {plural(row['n_seeds'], 'seed')}) in {m} dimensions")


def _verdict(rows: list[dict], m: int) -> list[str]:
    dense = [r for r in rows if r["sparsity"] == 0.0]
    sparse = [r for r in rows if r["sparsity"] >= 0.9]
    out = []
    if dense:
        d = dense[0]["represented_median"]
        out.append(f"Dense inputs: {'about' if abs(d - m) <= 1 else 'not about'} one feature per dimension "
                   f"({d:g} features in {m} dimensions) — "
                   + ("as the paper reports." if abs(d - m) <= 1 else "unlike the paper's report of about m."))
    if sparse:
        more = [r for r in sparse if r["represented_median"] > m]
        out.append(f"Sparse inputs (S ≥ 0.9): more features than dimensions at {len(more)} of {len(sparse)} such "
                   "levels — " + ("as the paper reports." if len(more) == len(sparse) else
                                  "the paper reports more features than dimensions at every such level; this run "
                                  "does not show it everywhere (fewer training steps than the paper may be why)."))
    return out


def answers(cfg, rows: list[dict]) -> dict[str, list[str]]:
    """``{"short": [...], "levels": [...], "shared": [...], "meaning": [...]}`` from the per-level rows."""
    m = cfg.hidden
    short = [f"Of {cfg.features} input features, the {m} hidden dimensions represented "
             + "; ".join(_level(r, m) for r in rows) + "."]
    shared = []
    for r in rows:
        if r["represented_total"]:
            shared.append(f"At S = {r['sparsity']:g}, represented features sharing their direction with others "
                          f"(dimensionality < 0.9): "
                          f"{share(r['shared_total'], r['represented_total'], 'represented features, pooled over seeds')}.")
    meaning = [f"A feature with a dimension of its own has dimensionality 1; two features on one line share it "
               f"(1/2 each). When {m} dimensions carry more than {m} features, the features' directions cannot all "
               "be at right angles, so every direction in the hidden space responds to several features: the "
               "hidden space is polysemantic. The hidden layer of this model is linear, so nothing makes single "
               "dimensions special; Elhage et al. show that a ReLU on the hidden units does (this study does not "
               "test that)."]
    return {"short": short + _verdict(rows, m), "levels": short, "shared": shared, "meaning": meaning,
            "paper": [PAPER]}
