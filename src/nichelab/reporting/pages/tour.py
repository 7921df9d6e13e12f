"""The tour page: the learner's four questions, answered in order by the studies that measure them.

``page(results, info) -> Report``. Each section asks its question, quotes the measured answer
from the study's own findings (stored in that run's ``results.json``, computed from its
numbers), shows one figure taken from the study's own page (the same Vega-Lite chart, or PNG
figure where the study has no chart) and links the study's full report in its sub-folder.
Nothing here measures or words a result: :func:`answers` only selects stored sentences.
"""
from __future__ import annotations

import copy
import re

from markupsafe import Markup

from ..glossary import glossary_link
from ..model import Chart, Figure, Report, Section

__all__ = ["page", "answers", "figures", "QUESTIONS", "INTRO"]

#: The learner's question, as the tour page opens with it.
INTRO = ("The question: why do hidden units seem to specialise (edges, then eyes and noses, then faces; in the multiclass lab one "
         "ReLU unit splits the four classes {0,1}|{2,3}, the other {0,2}|{1,3})? How can random weights lead there? "
         "Why does each unit find its own niche instead of two converging on the same thing? Is transfer learning "
         "evidence that hidden layers are domain-specific? Each section below asks one part of the question, "
         "answers it with the words of a study run for this page (computed from that run's numbers, with counts "
         "and 95% intervals), shows one of its figures and links its full report.")

#: Section title, question, study per section (page order); the symmetry section also quotes the lab.
QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("Niches in the lab", "lab",
     "In the multiclass lab (4 blobs, a layer of ReLU units, then 4 outputs), does each hidden unit find its own "
     "niche, a way of splitting the classes that no other unit makes? How often, over many random starts (seeds)?"),
    ("Why units don't converge on the same thing", "symmetry",
     "If every unit follows the gradient of the same error, why don't they all end up computing the same thing? "
     "Two measurements: units started as identical copies (do they stay identical, or does rounding split "
     "them?), and niche exclusion in the lab (does a unit that already covers a split keep a fresh unit off it?)."),
    ("Do different seeds learn the same units?", "convergence",
     "Train the same network from several seeds: does a unit of one network have a one-to-one counterpart in the "
     "other, or do they only share the same subspace (the same information spread differently over the units)?"),
    ("Edges, then parts, then objects?", "hierarchy",
     "In a small convolutional network trained on images of objects with known parts, are edge detectors most "
     "common in the first layer, part detectors in the middle and object detectors at the top, and more so than "
     "in the same network untrained?"),
    ("General or domain-specific layers?", "transfer",
     "Reuse the first layers of a network trained on task A for task B: do they serve B as well as B's own layers "
     "(general), or worse than B's own and random frozen layers (domain-specific)?"),
)

#: Charts taken from each study's page, by name (the first found is used); PNG fallbacks below.
_CHARTS = {"lab": ("outcome_shares",), "symmetry": ("gap_conditions",), "convergence": ("contrast", "unit_shares"),
           "hierarchy": ("depth_edges_0", "depth_parts_0", "depth_objects_0"), "transfer": ()}
#: The lab's niche-exclusion chart, shown in the symmetry section.
_EXCLUSION = "exclusion"


def _list(x) -> list[str]:
    return [str(s) for s in (x or []) if str(s).strip()]


def answers(study: str, result, lab=None) -> list[str]:
    """The stored sentences that answer the tour's question for ``study`` (verbatim from the result).

    Parameters
    ----------
    study : str
        ``lab``, ``symmetry``, ``convergence``, ``hierarchy`` or ``transfer``.
    result : Result
        That study's result.
    lab : LabResult, optional
        For ``symmetry``: the lab's result, whose niche-exclusion findings complete the answer.

    Returns
    -------
    list of str
        Sentences taken unchanged from the result's findings (or its short answer).
    """
    if study == "lab":
        return _list(result.findings.get("niches"))
    if study == "symmetry":
        out = [s for d in result.datasets.values() for s in _list(d.findings.get("stay"))]
        if lab is not None:
            out += _list(lab.findings.get("exclusion"))[:2]
        return out
    if study == "convergence":
        return _list(result.findings.get("short"))
    if study == "hierarchy":
        summary = _list(result.findings.get("summary"))
        first = next((i for i, x in enumerate(summary) if not x.startswith("Warning:")), len(summary) - 1)
        return summary[:first + 1] or _list([result.verdict.get("plainly")])   # warnings, then the answer
    if study == "transfer":
        summary = _list(result.summary)
        verdict = [i for i, s in enumerate(summary) if "domain-specific?" in s]
        if not verdict:
            return summary[1:2]
        return [summary[verdict[0]]] + [s for s in summary[1:verdict[0]] if "random" in s]
    raise ValueError(f"study must be one of {', '.join(q[1] for q in QUESTIONS)}; got {study!r}")


def _rename(spec, names: dict):
    """``spec`` with every reference to a named dataset renamed (``{"data": {"name": old}}``)."""
    if isinstance(spec, dict):
        out = {}
        for k, v in spec.items():
            if k == "data" and isinstance(v, dict) and v.get("name") in names:
                v = {**v, "name": names[v["name"]]}
            out[k] = _rename(v, names)
        return out
    if isinstance(spec, list):
        return [_rename(v, names) for v in spec]
    return spec


def _caption(text: str) -> str:
    """The study's caption without its clauses about clicking (the tour page has no controls)."""
    parts = re.split(r"(?<=[.;])\s+", text)
    kept = [p for p in parts if "click" not in p.lower()]
    out = " ".join(kept).strip() or text
    return out[:-1] + "." if out.endswith(";") else out


def _chart(study: str, chart: Chart) -> Chart:
    """A copy of ``chart`` for the tour page: names prefixed by the study, no click, no click captions."""
    names = {k: f"{study}_{k}" for k in chart.datasets}
    return Chart(f"{study}-{chart.name}", _rename(copy.deepcopy(chart.spec), names), _caption(chart.caption),
                 alt=chart.alt, datasets={names[k]: v for k, v in chart.datasets.items()})


def figures(study: str, report: Report) -> list:
    """The figure(s) the tour shows for ``study``, taken from the study's own report.

    Interactive charts are found by name; for a study whose page has no chart for the answer
    (transfer), the first figure of its first "How transferable" section (else of its second
    section) is used as the PNG it is.
    """
    charts = {c.name: c for c in report.charts()}
    wanted = _CHARTS.get(study, ())
    if study == "hierarchy":   # one depth chart per stage: edges, parts, objects
        picked = [charts[n] for n in wanted if n in charts]
    else:
        picked = [charts[n] for n in wanted if n in charts][:1]
    if picked:
        return [_chart(study, c) for c in picked]
    for s in report.sections:
        if s.title.lower().startswith("how transferable") and s.figures:
            f = s.figures[0]
            return [_chart(study, f) if isinstance(f, Chart) else Figure(f.png, _caption(f.caption), f.alt)]
    figs = [f for s in report.sections[1:] for f in s.figures]
    if not figs:
        return []
    f = figs[0]
    return [_chart(study, f) if isinstance(f, Chart) else Figure(f.png, _caption(f.caption), f.alt)]


def _link(study: str, seconds: float | None) -> Markup:
    took = f" (ran {seconds:.0f} s)" if seconds is not None else ""
    return Markup('The full {} report, with every figure, table and the settings{}: <a href="{}/report.html">'
                  '{}/report.html</a>.').format(study, took, study, study)


def _settings(given: dict) -> str:
    items = [(k, v) for k, v in given.items() if k not in ("first_seed", "quick")]
    if not items:
        return "the study's default settings"
    return ", ".join(f"{k.replace('_', ' ')} {','.join(map(str, v)) if isinstance(v, (list, tuple)) else v}"
                     for k, v in items)


def page(results: dict, info: dict, reports: dict | None = None) -> Report:
    """The tour report.

    Parameters
    ----------
    results : dict of str -> Result
        The five studies' results (``lab``, ``symmetry``, ``convergence``, ``hierarchy``, ``transfer``).
    info : dict
        ``scale``, ``seed``, ``command``, ``seconds``, ``versions`` and ``studies`` (name ->
        ``{"folder", "seconds", "command", "settings"}``), as :func:`nichelab.runs.tour.run_tour` records them.

    reports : dict of str -> Report, optional
        The studies' own reports if already built (``build_report(result)``); built here otherwise.

    Returns
    -------
    Report
    """
    from .. import build_report
    reports = dict(reports or {})
    for name, r in results.items():
        if name not in reports:
            reports[name] = build_report(r)
    studies = info.get("studies", {})
    sections = []
    for title, study, question in QUESTIONS:
        r = results[study]
        figs = figures(study, reports[study])
        if study == "symmetry" and "lab" in results:
            ex = {c.name: c for c in reports["lab"].charts()}.get(_EXCLUSION)
            if ex is not None:
                figs.append(_chart("lab", ex))
        notes = [_link(study, studies.get(study, {}).get("seconds"))]
        if study == "symmetry":
            notes.append(_link("lab", None) if "lab" in results else "")
            notes.append("The niche-exclusion measurement is part of the lab study: its full report explains it "
                         "in the section 'Why does each unit find its own niche?'.")
        sections.append(Section(title, question=question,
                                findings=answers(study, r, results.get("lab") if study == "symmetry" else None),
                                figures=figs, notes=[n for n in notes if n]))
    scale = info.get("scale", "quick")
    small = ("These are quick settings, small enough that the tour finishes in a few minutes. With few seeds the "
             "95% intervals are wide, so a section may say that this run cannot tell; the full studies use more "
             "seeds, epochs and conditions, and their answers are firmer (run “nichelab tour --scale full”, "
             "or each study's command below without its settings)."
             if scale != "full" else "These are the studies' full default settings.")
    setup = {"question and study": "settings (every study's seeds start at " + str(info.get("seed", 0)) + ")"}
    for i, (_, study, _) in enumerate(QUESTIONS, 1):
        s = studies.get(study, {})
        setup[f"{i}. {study}"] = (f"{_settings(s.get('settings', {}))} · ran {s.get('seconds', 0):.0f} s"
                                                   f" · same run alone: {s.get('command', '')}")
    setup["scale"] = scale
    v = info.get("versions", {})
    footer = (f"nichelab {v.get('nichelab')} · torch {v.get('torch')} · numpy {v.get('numpy')} · {info.get('created', '')}"
              f" · tour ran {info.get('seconds', 0):.1f} s · command: {info.get('command', '')}")
    return Report(title="Why do hidden units specialise? The learner's questions, measured",
                  summary=[INTRO, small, glossary_link()], setup=setup, sections=sections, footer=footer)
