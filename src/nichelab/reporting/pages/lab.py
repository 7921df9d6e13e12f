"""The lab study's page: a training film and seed browser, then the census over seeds.

Charts are Vega-Lite specs (:mod:`nichelab.reporting.figures.lab`) drawn in the browser from the
weights and numbers embedded once in the page; three page parameters tie them together:
``seed`` (the seed every view shows), ``outcome`` (filters the seed list and the seeds table) and
``epoch`` (the training film's position).
"""
from __future__ import annotations

import numpy as np

from ...metrics.partitions import split_key
from ...studies.lab.config import ALL_OUTCOMES, OUTCOMES
from ...studies.lab import views as lab_views
from ...studies.text import num, pct, share
from ...train.divergence import RULE as DIVERGENCE_RULE
from ..figures import lab as fig
from ..model import Chart, Control, Readout, Report, Section, Table

__all__ = ["page", "summary_table", "datasets", "MAX_POINTS", "MAX_MAP_UNITS"]

#: Data points drawn (a larger data set is subsampled for drawing, evenly).
MAX_POINTS = 2000
#: Networks with more hidden units get no maps (the film's expressions grow with the units).
MAX_MAP_UNITS = 16
#: Unit panels drawn in the film (the first ones).
MAX_UNIT_PANELS = 8


def summary_table(r) -> Table:
    """The terminal summary: each outcome's share of seeds (count, 95% interval) and median accuracy."""
    s = r.summary
    n = len(r.seeds)
    rows = [[row["outcome"], share(row["k"], row["n"]),
             pct(s["median_accuracy_by_outcome"][row["outcome"]], 1)
             if row["outcome"] in s["median_accuracy_by_outcome"] else "–"]
            for row in _share_rows(r, "outcome_shares")
            if row["outcome"] in OUTCOMES or row["k"]]
    c = r.config
    return Table(["outcome", "share of seeds (count; 95% CI)", "median accuracy"], rows,
                 f"lab: {n} seeds, hidden={c.hidden}, init={c.init}")


def _share_rows(r, name: str) -> list[dict]:
    """``views[name]`` (outcome or split shares with counts and 95% intervals); rebuilt from the summary's
    counts for results written before those views were stored."""
    rows = (r.views or {}).get(name)
    if rows is not None:
        return [dict(row) for row in rows]
    s = r.summary
    if name == "outcome_shares":
        return lab_views.share_rows(s["outcome_counts"].items(), len(r.seeds), "outcome")
    units = r.config.hidden * (len(r.seeds) - int(s["outcome_counts"].get("diverged", 0)))
    return lab_views.share_rows([(k, int(round(v * units))) for k, v in s["split_shares"].items()], units, "split")


def page(r) -> Report:
    """The HTML report: question, measured answer and interactive charts, one idea per section."""
    data = datasets(r)
    return Report(title=_title(r), summary=_summary(r), setup=_setup(r),
                  sections=[_one_seed(r, data), _training(r, data), _why(r), _niches(r), _failures(r, data), _table(r)])


def _title(r) -> str:
    h = r.config.hidden
    units = "the two hidden units" if h == 2 else ("the hidden unit" if h == 1 else f"the {h} hidden units")
    return f"What do{'es' if h == 1 else ''} {units} of the multiclass lab learn?"


def _summary(r) -> list[str]:
    niches = r.findings["niches"]
    return (list(r.findings.get("short", [])) + [niches[0]]
            + ([niches[-1]] if r.config.hidden == 2 and len(niches) > 2 else []))


def _setup(r) -> dict:
    c, d = r.config, r.data
    return {"data": f"4 blobs, {c.samples} points (make_blobs, centres {d.get('centers')}, std 1, random_state 30)",
            "model": f"Dense({c.hidden}, ReLU) 'L1' → Dense(4, linear) 'L2'; init {c.init}",
            "training": f"{c.optimizer}, lr {c.lr}, {c.epochs} epochs, batch {c.batch_size}, softmax cross-entropy",
            "seeds": f"{c.seeds} ({c.first_seed}–{c.first_seed + c.seeds - 1}), all trained at once",
            "shown seed": str(c.show_seed),
            "a class is 'active' for a unit": "when more than half of its points give the unit a positive output",
            "outcomes": "distinct: units split the classes differently and every class is mostly right; "
                        "duplicate: two units make the same split of the classes (active on the same side or on "
                        "opposite sides); dead: a unit outputs 0 on every point; other: the rest; "
                        "diverged: training blew up (" + DIVERGENCE_RULE + "), left out of the other numbers"}


def _film(r) -> dict:
    f = getattr(r, "film", None)
    if not f:
        return {"seeds": [], "epochs": []}
    return {**f, "seeds": [int(s) for s in np.asarray(f["seeds"]).ravel()],
            "epochs": [int(e) for e in np.asarray(f["epochs"]).ravel()]}


def _rnd(a) -> list:
    return np.round(np.asarray(a, np.float64), 4).tolist()


def _active_text(active) -> str:
    return "{" + ",".join(str(c) for c in np.flatnonzero(active)) + "}"


def _unit_texts(active: np.ndarray) -> tuple[list, list]:
    """Split keys and active-class sets of ``active`` (..., C) bool rows, one per row (memoised by pattern)."""
    rows = active.reshape(-1, active.shape[-1])
    codes = rows @ (1 << np.arange(rows.shape[1]))
    memo: dict = {}
    for c, r in zip(codes.tolist(), rows):
        if c not in memo:
            memo[c] = (split_key(r), _active_text(r))
    keys = [memo[c][0] for c in codes.tolist()]
    acts = [memo[c][1] for c in codes.tolist()]
    shape = active.shape[:-1]
    return np.asarray(keys, dtype=object).reshape(shape), np.asarray(acts, dtype=object).reshape(shape)


def datasets(r) -> dict:
    """The named datasets the lab charts read (see :mod:`nichelab.reporting.figures.lab`).

    Returns
    -------
    dict of str -> list of dict
        ``lab_points``, ``lab_w`` (final weights of every seed, every epoch of the film seeds),
        ``lab_seeds`` and ``lab_loss``.
    """
    X, y = np.asarray(r.data["X"], np.float64), np.asarray(r.data["y"])
    keep = np.unique(np.linspace(0, len(y) - 1, MAX_POINTS).round().astype(int)) if len(y) > MAX_POINTS else np.arange(len(y))
    jit = np.random.default_rng(0).uniform(-1, 1, size=(len(keep), 2))
    points = [{"i": int(i), "x0": round(float(X[i, 0]), 4), "x1": round(float(X[i, 1]), 4), "cls": int(y[i]),
               "jx": round(float(j[0]), 3), "jy": round(float(j[1]), 3)} for i, j in zip(keep, jit)]
    seeds = [int(s) for s in r.seeds]
    film = _film(r)
    fseeds = set(film["seeds"])
    last = int(r.config.epochs)
    rows = _weight_rows(r, X[keep], seeds, film, last) if r.config.hidden <= MAX_MAP_UNITS else []
    order = {o: j for j, o in enumerate(ALL_OUTCOMES)}
    jit = np.random.default_rng(1).uniform(-1, 1, len(seeds))
    seed_rows = [{"seed": rec["seed"], "outcome": rec["outcome"], "oi": order[rec["outcome"]],
                  "accuracy": round(100 * rec["accuracy"], 2), "loss": round(rec["loss"], 5),
                  "angle": None if not np.isfinite(rec["initial_angle_deg"]) else round(rec["initial_angle_deg"], 2),
                  "jit": round(float(j), 3), "film": rec["seed"] in fseeds} for rec, j in zip(r.per_seed, jit)]
    loss = [{"seed": s, "epoch": e + 1, "loss": v} for f, s in enumerate(film["seeds"])
            for e, v in enumerate(_rnd(np.asarray(film["loss"])[f]))]
    bands = [{"outcome": name, "epoch": e + 1, "q25": round(float(lo), 5), "median": round(float(med), 5),
              "q75": round(float(hi), 5), "n": int(b["n"])}
             for name, b in r.views["loss_bands"].items()
             for e, (lo, med, hi) in enumerate(zip(b["q25"], b["median"], b["q75"]))]
    return {"lab_points": points, "lab_w": rows, "lab_seeds": seed_rows, "lab_loss": loss, "lab_bands": bands}


def _weight_rows(r, Xk: np.ndarray, seeds: list, film: dict, last: int) -> list:
    """Rows of ``lab_w``: final weights of every seed, and every epoch's of the film seeds."""
    fseeds = set(film["seeds"])
    p = r.params
    W1, b1 = np.asarray(p["L1.linear.weight"], np.float64), np.asarray(p["L1.linear.bias"], np.float64)
    W2, b2 = np.asarray(p["L2.linear.weight"], np.float64), np.asarray(p["L2.linear.bias"], np.float64)
    H = W1.shape[1]
    hi = np.maximum((np.maximum(np.einsum("nd,shd->snh", Xk, W1) + b1[:, None, :], 0)).max(axis=1), 1e-3) * 1.1
    if film["seeds"]:
        A = np.maximum(np.einsum("nd,fehd->fenh", Xk, np.asarray(film["W1"])) + np.asarray(film["b1"])[:, :, None, :], 0)
        film_hi = np.maximum(A.max(axis=(1, 2)), 1e-3) * 1.1
        for f, s in enumerate(film["seeds"]):
            i = seeds.index(s)
            hi[i] = np.maximum(hi[i], film_hi[f])
    hi0, hi1 = np.round(hi[:, 0], 4).tolist(), np.round(hi[:, 1 if H > 1 else 0], 4).tolist()
    flat = lambda a: np.round(np.asarray(a, np.float64).reshape(*np.shape(a)[:-2], -1), 4).tolist()  # noqa: E731
    Wr, br, Vr, cr = flat(W1), _rnd(b1), flat(W2), _rnd(b2)
    rows = []
    for i, rec in enumerate(r.per_seed):
        s = rec["seed"]
        if s in fseeds:
            continue
        rows.append({"k": f"{s}_{last}", "W": Wr[i], "b": br[i], "V": Vr[i], "c": cr[i],
                     "split": ["dead" if u["dead"] else u["split"] for u in rec["units"]],
                     "act": ["{" + ",".join(map(str, u["active_classes"])) + "}" for u in rec["units"]],
                     "hi0": hi0[i], "hi1": hi1[i]})
    if film["seeds"]:
        fW1, fb1, fW2, fb2 = flat(film["W1"]), _rnd(film["b1"]), flat(film["W2"]), _rnd(film["b2"])
        keys, acts = _unit_texts(np.asarray(film["active"], bool))
        for f, s in enumerate(film["seeds"]):
            i = seeds.index(s)
            for e_i, e in enumerate(film["epochs"]):
                rows.append({"k": f"{s}_{e}", "W": fW1[f][e_i], "b": fb1[f][e_i], "V": fW2[f][e_i], "c": fb2[f][e_i],
                             "split": keys[f, e_i].tolist(), "act": acts[f, e_i].tolist(),
                             "hi0": hi0[i], "hi1": hi1[i]})
    return rows


def _record(r, seed: int) -> dict:
    return next(p for p in r.per_seed if p["seed"] == seed)


def _readout(r) -> Readout:
    fseeds = set(_film(r)["seeds"])
    rec = {}
    for p in r.per_seed:
        lines = [("outcome", p["outcome"]), ("accuracy", pct(p["accuracy"])), ("loss", f"{p['loss']:.3f}")]
        lines += [(u.split(" ")[0], u[len(u.split(" ")[0]) + 1:]) for u in p["description"].split("; ")]
        ang = p["initial_angle_deg"]
        if np.isfinite(ang):
            lines.append(("initial angle", f"{ang:.0f}° between the units' weight vectors"))
        lines.append(("training film", "every epoch recorded: move the epoch slider" if p["seed"] in fseeds else
                      "not recorded for this seed: the views show its final weights (pick a seed marked 'film')"))
        rec[str(p["seed"])] = lines
    return Readout("seed", rec, "Seed {value}")


def _controls(r) -> list[Control]:
    fseeds = set(_film(r)["seeds"])
    opts = [(p["seed"], f"{p['seed']} · {p['outcome']} · {pct(p['accuracy'])}" + (" · film" if p["seed"] in fseeds else ""),
             p["outcome"]) for p in r.per_seed]
    counts = r.summary["outcome_counts"]
    out = [Control("outcome", "Outcome", "select", "", [("", f"all ({len(r.seeds)})", "")] +
                   [(o, f"{o} ({counts[o]})", "") for o in ALL_OUTCOMES if counts.get(o)], filters="seed",
                   help="Narrows the seed list and the seeds table; clicking a bar of the outcome chart does the same."),
           Control("seed", "Seed", "select", int(r.config.show_seed), opts,
                   help="Every view shows this seed; click a seed's row in the table or its dot in a chart to pick it.")]
    if fseeds:
        last = int(r.config.epochs)
        out.append(Control("epoch", "Epoch", "range", last, min=0, max=last, step=1, play=True,
                           help="Moves the training film (epoch 0 = the random start), for seeds marked 'film'.",
                           active_when=("seed", sorted(fseeds),
                                        "No film for this seed (only its final weights are kept): pick a seed "
                                        "marked 'film' to move the slider.")))
    return out


def _one_seed(r, data) -> Section:
    v = r.views["shown"]
    rec = _record(r, v["seed"])
    H, film = r.config.hidden, _film(r)
    figures, notes = [], []
    if H <= MAX_MAP_UNITS:
        spec = fig.fig_film(H, 4, film["seeds"], int(r.config.epochs), int(r.config.show_seed), int(r.config.epochs),
                            panels=MAX_UNIT_PANELS)
        figures.append(Chart(
            "film", spec,
            "Top: each unit outputs 0 on the light side of its zero line (drawn with the unit's dash, as in the "
            "legend of the decision regions) and grows towards the dark side — see "
            "which classes sit there. Bottom: the data in the plane of the units' outputs (points are spread by up "
            "to 2.5% of each axis so points at the same place stay visible, e.g. a class on which both units are "
            "silent sits at (0, 0)) and the decision regions; move the epoch slider to watch them form.",
            alt="Training film of the selected seed: hidden-unit ReLU maps, hidden-activation plane, decision regions.",
            datasets={k: data[k] for k in ("lab_points", "lab_w")}))
    else:
        notes.append(f"The maps are drawn for networks of up to {MAX_MAP_UNITS} hidden units; this one has {H}.")
    return Section(
        f"One seed, seen like the lab (seed {v['seed']} first)",
        question="What does each hidden unit of one trained network respond to, and how did it get there?",
        findings=([f"Seed {v['seed']} diverged: its training blew up ({DIVERGENCE_RULE}), so it has no niches to "
                   "show; pick another seed below."] if v.get("diverged") else
                  [f"Seed {v['seed']} is shown: {v['why']}." if v.get("why") else ""]
                  + [f"Seed {v['seed']} reached accuracy {pct(rec['accuracy'])} (loss {rec['loss']:.3f}); "
                   f"outcome: {rec['outcome']}."] + [line + "." for line in rec["description"].split("; ")])
                 + [f"Pick any other seed below: the views, the numbers under the controls and the rings in the "
                    f"charts further down follow it. Every epoch is recorded for {len(film['seeds'])} seeds "
                    f"(the shown seed and the first {3} of each outcome, marked 'film'); the others show their "
                    f"final weights."] * bool(film["seeds"]),
        controls=_controls(r), readouts=[_readout(r)], figures=figures, notes=notes)


def _training(r, data) -> Section:
    figs = []
    if r.config.hidden >= 2:
        rel = {k: (d["share_distinct"], d["n_seeds"]) for k, d in r.summary["distinct_share_by_initial_splits"].items()}
        figs = [Chart("init_angle", fig.fig_init_angle(OUTCOMES, int(r.config.show_seed)),
                      "If one outcome needed a particular starting angle, its dots would sit apart from the others; "
                      "click a dot to show that seed.", datasets={"lab_seeds": data["lab_seeds"]}, click=("seed", "seed")),
                Chart("init_relation", fig.fig_init_relation(rel),
                      "Compare the bars to see whether units that start with different splits end distinct more often.")]
    return Section("From random weights to niches", question="How do distinct units arise from random weights?",
                   findings=r.findings["origin"], figures=figs)


def _why(r) -> Section:
    """Why units take different niches: niche exclusion and who pulls each unit."""
    from ...studies.text import wilson_interval
    mech = getattr(r, "mechanism", None) or {}
    ex, pull = mech.get("exclusion") or {}, mech.get("pull") or {}
    figs = []
    if ex:
        n = int(ex["restarts"])
        rows = []
        for key, label in (("with_partner", "partner active (frozen)"), ("silenced", "partner silenced (control)")):
            k = int(ex[key]["same"])
            lo, hi = wilson_interval(k, n)
            rows.append({"condition": label, "share": 100 * k / n, "lo": 100 * lo, "hi": 100 * hi, "k": k, "n": n})
        figs.append(Chart("exclusion", fig.fig_exclusion(rows),
                          f"Compare the two bars (black: 95% interval): a lower left bar means the trained partner on "
                          f"{ex['partner_split']} keeps the fresh unit off that split."))
    if "norm" in pull:
        norm, ep = np.asarray(pull["norm"], float), np.asarray(pull["epochs"]).astype(int)
        rows = [{"unit": f"L1:{h}", "epoch": int(e), "cls": c, "pull": round(float(norm[i, h, c]), 6)}
                for i, e in enumerate(ep) for h in range(norm.shape[1]) for c in range(norm.shape[2])]
        figs.append(Chart("pull", fig.fig_pull(rows, norm.shape[1]),
                          f"Seed {pull['seed']}: the highest line in a panel is the class pulling that unit's line "
                          f"hardest at that epoch; watch the pulls fall as the unit settles on a split."))
    return Section(
        "Why does each unit find its own niche?",
        question="Which classes pull each unit's line during training, and does a unit that already covers a "
                 "split keep another unit off it?",
        findings=list(r.findings.get("pull", [])) + list(r.findings.get("exclusion", [])), figures=figs,
        notes=["Pull of a class on a unit: the length of the part of the loss gradient on the unit's incoming "
               "weights and bias that the points of that class contribute (the parts of all classes add up to the "
               "whole gradient). A class whose points are already right contributes almost nothing."])


def _niches(r) -> Section:
    n = len(r.seeds)
    splits = _share_rows(r, "split_shares")
    return Section(
        "How often does each unit find its own niche?",
        question=f"Over {n} seeds, do the units split the classes differently, die, or duplicate each other?",
        findings=r.findings["niches"],
        figures=[Chart("outcome_shares", fig.fig_outcome_shares(_share_rows(r, "outcome_shares"), OUTCOMES),
                       "The tallest bar is the most common fate of a seed (black: 95% interval); click a bar to list "
                       "only its seeds.",
                       click=("outcome", "outcome")),
                 Chart("splits", fig.fig_splits(splits),
                       "Each bar is a way to cut the four classes in two (black: 95% interval); long bars are the "
                       "niches units find most often.")],
        tables=[Table(["split (class-0 side | other side)", "share of units (count; 95% CI)"],
                      [[row["split"], share(row["k"], row["n"])] for row in splits],
                      "Splits implemented by hidden units, over all seeds that did not diverge")])


def _failures(r, data) -> Section:
    ex = r.views["examples"]
    notes = [f"Example {e['outcome']} seed {e['seed']}: " + _record(r, e["seed"])["description"]
             + _shared(_record(r, e["seed"])) + " (pick it in the seed list to see it; the film draws every unit, "
             "dead ones included)." for e in ex]
    film = _film(r)
    return Section(
        "What happens when units duplicate or die?",
        question="When two units learn the same thing, or one goes silent, what does the network lose?",
        findings=r.findings["failures"],
        figures=[Chart("accuracy_by_outcome", fig.fig_accuracy_by_outcome(OUTCOMES, int(r.config.show_seed)),
                       "Each dot is a seed (ringed: the selected one): compare the height of the groups to see what a "
                       "lost niche costs; click a dot to show that seed.",
                       datasets={"lab_seeds": data["lab_seeds"]}, click=("seed", "seed"))]
        + [Chart("loss_curves", fig.fig_loss_curves(OUTCOMES, int(r.config.show_seed), int(r.config.epochs),
                                                    with_seed=bool(film["seeds"]), loss_range=_loss_range(r, data)),
                 "Curves that flatten high belong to outcomes that lost a niche: compare where each median line "
                 "ends (shaded band: the middle half of that outcome's seeds; black: the selected seed, for seeds "
                 "with a film; dotted rule: the film's epoch).",
                 datasets={k: data[k] for k in ("lab_loss", "lab_bands")})] * (r.config.epochs > 0),
        notes=notes)


def _loss_range(r, data) -> tuple | None:
    """(lowest, highest) positive loss of the bands and film curves drawn, and the last epoch."""
    vals = [v for b in data["lab_bands"] for v in (b["q25"], b["q75"])] + [d["loss"] for d in data["lab_loss"]]
    vals = [float(v) for v in vals if v is not None and np.isfinite(v) and v > 0]
    if not vals:
        return None
    return min(vals), max(vals), int(r.config.epochs)


def _shared(rec: dict) -> str:
    """``" — L1:0 and L1:2 share {0,1}|{2,3}"`` for a record whose live units share a split ("" if none)."""
    groups: dict = {}
    for u in rec["units"]:
        if not u["dead"] and u["active_classes"] and u["silent_classes"]:
            groups.setdefault(u["split"], []).append(u["name"])
    parts = [f"{', '.join(n[:-1])} and {n[-1]} share {k}" for k, n in groups.items() if len(n) > 1]
    return (" — " + "; ".join(parts)) if parts else ""


def _table(r) -> Section:
    rows = [[p["seed"], p["outcome"], pct(p["accuracy"]), num(p["loss"]), p["description"]] for p in r.per_seed]
    return Section("Every seed", question="What did each seed end with?",
                   tables=[Table(["seed", "outcome", "accuracy", "loss", "units"], rows,
                                 "Every seed (click a row, or focus it and press Enter, to show that seed above)",
                                 select=("seed", 0), group=1)])
