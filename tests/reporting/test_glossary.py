"""The glossary: every term the pages use is defined, the page renders, and run folders hold it."""
import html
import re

import pytest

from nichelab.reporting.glossary import GLOSSARY, anchor, glossary_link, render_glossary
from nichelab.reporting.html import render_html
from nichelab.reporting.model import Report

#: Terms the issue and the study pages use (matched against the glossary's terms, case-insensitive).
NEEDED = ["ReLU", "pre-activation", "unit", "layer", "split", "niche", "dead unit", "duplicate", "CKA",
          "linear probe", "selectivity index", "AnB", "BnB (selffer)", "co-adaptation", "fine-tuning",
          "Network Dissection / IoU", "AUPRC", "participation ratio", "random control", "baseA / baseB",
          "untrained-network control", "95% confidence interval", "general / domain-specific layer",
          "edge detector", "logits", "seed", "frivolous unit", "near-duplicate", "layer identification",
          "niche exclusion", "tied units", "subspace", "outcome", "pull of a class", "a.u.", "SVCCA", "CCA",
          "PWCCA", "Procrustes", "superposition", "polysemantic", "sparsity", "Hungarian", "IQR", "cross-entropy",
          "nats", "Welch t interval"]

#: Technical terms as they appear in the text the pages show (regex) -> the glossary term that defines them.
#: The scan below fails when a page's text (its source) uses one of them and the glossary lacks it.
TECHNICAL = {r"\ba\.u\.": "a.u.", r"\bSVCCA\b": "SVCCA", r"(?<![A-Z])CCA\b": "CCA", r"\bPWCCA\b": "PWCCA",
             r"Procrustes": "Procrustes", r"\bsuperposition\b": "superposition", r"\bpolysemantic": "polysemantic",
             r"\bsparsity\b": "sparsity", r"\bHungarian\b": "Hungarian", r"\bIQR\b": "IQR",
             r"cross-entropy": "cross-entropy", r"\bnats\b": "nats", r"\bCKA\b": "CKA", r"\bAUPRC\b": "AUPRC",
             r"\bIoU\b": "IoU", r"participation ratio": "participation ratio", r"\blogits\b": "logits",
             r"\bWelch\b": "Welch t interval", r"\bSpearman\b": "Spearman", r"linear probe": "linear probe",
             r"selectivity": "selectivity index", r"\bablat": "ablation", r"\bfine-tun": "fine-tuning",
             r"co-adapt": "co-adaptation", r"\bselffer": "BnB (selffer)", r"percentage point": "percentage points"}


def _page_sources() -> str:
    """The text the study pages show, as written in their sources: pages, figures, findings and words."""
    from pathlib import Path

    import nichelab
    root = Path(nichelab.__file__).parent
    files = [*(root / "reporting" / "pages").glob("*.py"), *(root / "reporting" / "figures").glob("*.py"),
             *(root / "studies").glob("*/findings.py"), *(root / "studies").glob("*/words.py"),
             *(root / "studies").glob("*/config.py")]
    assert len(files) > 20
    return "\n".join(f.read_text() for f in files)


@pytest.mark.parametrize("pattern", sorted(TECHNICAL))
def test_every_technical_term_the_pages_use_is_defined(pattern):
    term = TECHNICAL[pattern]
    if re.search(pattern, _page_sources()) is None:
        pytest.skip(f"no page uses {term!r}")
    assert any(term.lower() in t.lower() for t, _ in GLOSSARY), f"pages use {term!r}; the glossary lacks it"


@pytest.mark.parametrize("word", NEEDED)
def test_every_needed_term_is_defined(word):
    hits = [(t, d) for t, d in GLOSSARY if word.lower() in t.lower()]
    assert hits, f"{word!r} is not in the glossary"
    assert all(len(d.split()) >= 8 and d.endswith((".", ")")) for _, d in hits)


def test_terms_are_unique_and_anchors_distinct():
    terms = [t for t, _ in GLOSSARY]
    assert len(set(terms)) == len(terms)
    assert len({anchor(t) for t in terms}) == len(terms)
    assert anchor("BnB (selffer)") == "bnb-selffer"


def test_page_lists_every_term_once_in_order():
    page = render_glossary()
    assert page.startswith("<!DOCTYPE html>") and "http" not in page.split("<body>")[0].split("<style>")[0]
    terms = re.findall(r'<dt id="([^"]+)"><strong>(.*?)</strong></dt><dd>(.*?)</dd>', page)
    assert [html.unescape(t) for _, t, _ in terms] == [t for t, _ in GLOSSARY]
    assert [html.unescape(d) for _, _, d in terms] == [d for _, d in GLOSSARY]


def test_link_renders_as_a_link_in_a_report_and_as_text_elsewhere():
    page = render_html(Report(title="t", summary=["a <b> stays escaped", glossary_link()]))
    assert '<a href="glossary.html">the glossary</a>' in page
    assert "a &lt;b&gt; stays escaped" in page
    assert "glossary.html" in str(glossary_link())


def test_run_folder_holds_the_glossary(tmp_path):
    from nichelab.runs import execute
    from nichelab.studies import STUDIES
    study = STUDIES["width"]
    out = execute(study, study.Config(seeds=1, widths=(2,), data=("blobs",), epochs=2, eval_samples=40),
                  tmp_path / "run", argv=["run", "width"])
    assert (out / "glossary.html").read_text() == render_glossary()
    assert 'href="glossary.html"' in (out / "report.html").read_text()
