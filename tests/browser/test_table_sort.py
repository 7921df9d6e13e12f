"""Sortable tables in Chromium: cells with no value ("", "–", "n/a", "nan") sort last in both directions,
numbers sort as numbers, text as text."""
from nichelab.reporting.html import render_html
from nichelab.reporting.model import Report, Section, Table

VALUES = ["3.5", "", "10%", "n/a", "-2", "–", "0.25", "NaN", "7"]
NUMBERS = [3.5, 10, -2, 0.25, 7]


def _column(o, n):
    return o.page.eval_on_selector_all(f"table tbody tr td:nth-child({n})", "tds => tds.map(t => t.textContent.trim())")


def test_missing_values_sort_last_both_ways(tmp_path, open_page):
    rows = [[f"row {i}", v, "x" if i % 3 else ""] for i, v in enumerate(VALUES)]
    report = Report(title="sorting", sections=[Section("T", tables=[Table(["name", "value", "text"], rows, "t")])])
    path = tmp_path / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    o = open_page(path)
    missing = {"", "n/a", "–", "NaN"}

    def num(t):
        return float(t.replace("%", ""))
    button = "table th:nth-child(2) button"
    o.page.click(button)                                   # ascending
    col = _column(o, 2)
    assert o.page.get_attribute("table th:nth-child(2)", "aria-sort") == "ascending"
    assert [num(t) for t in col[:5]] == sorted(NUMBERS) and set(col[5:]) == missing
    o.page.focus(button)
    o.page.keyboard.press("Enter")                         # descending, from the keyboard
    col = _column(o, 2)
    assert o.page.get_attribute("table th:nth-child(2)", "aria-sort") == "descending"
    assert [num(t) for t in col[:5]] == sorted(NUMBERS, reverse=True) and set(col[5:]) == missing
    # a text column: empty cells last both ways as well
    for _ in range(2):
        o.page.click("table th:nth-child(3) button")
        col = _column(o, 3)
        assert col[:6] == ["x"] * 6 and col[6:] == [""] * 3
    assert o.requests == [o.url] and o.errors == []
