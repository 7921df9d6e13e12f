"""The tour page in Chromium: offline (no request but the page), no console error, every chart drawn,
the linked study reports open too, legible at 800 px; screenshots at 1400 and 800 px."""
import io

import pytest
from rich.console import Console

from nichelab.runs.tour import STEPS, TINY, TourConfig, run_tour


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour") / "t"
    return run_tour(TourConfig(), out, settings=TINY, console=Console(file=io.StringIO()))


def test_tour_page_opens_offline_without_errors(tour, open_page, artifacts):
    o = open_page(tour.page, width=1400)
    names = o.check_drawn()
    assert names
    # every section has a drawn figure (chart canvas or PNG)
    per_section = o.page.eval_on_selector_all(
        "main > section[id^='s']:not(#setup)", "ss => ss.map(s => s.querySelectorAll('canvas, figure img').length)")
    assert len(per_section) == len(STEPS) and all(per_section), per_section
    o.page.screenshot(path=str(artifacts / "tour-1400.png"), full_page=True)


def test_tour_page_legible_at_800px(tour, open_page, artifacts):
    o = open_page(tour.page, width=800)
    rights = o.page.eval_on_selector_all(".nl-chart canvas, figure img",
                                         "els => els.map(e => e.getBoundingClientRect().right)")
    assert rights and max(rights) <= 800, "a figure is wider than the 800 px window"
    o.page.screenshot(path=str(artifacts / "tour-800.png"), full_page=True)


def test_linked_study_reports_open_offline(tour, open_page):
    for study, _ in STEPS:
        o = open_page(tour.folder / study / "report.html")
        assert o.requests == [o.url], (study, o.requests)
        assert o.errors == [], (study, o.errors)
