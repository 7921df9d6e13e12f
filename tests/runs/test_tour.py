"""``nichelab tour`` at a test-only scale (real runs of all five studies, seconds each): the page, the
linked full reports, the answers taken verbatim from each study's stored findings, the terminal
summary, and bad input (one line, exit 2, no folder)."""
import html
import io
import json
import re

import pytest
from rich.console import Console
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.runs.tour import SCALES, STEPS, TINY, TourConfig, run_tour, study_configs

runner = CliRunner()


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour") / "t"
    buf = io.StringIO()
    outcome = run_tour(TourConfig(seed=3), out, settings=TINY, argv=["tour", "--out", str(out)],
                       console=Console(file=buf, width=80, force_terminal=False))
    return outcome, buf.getvalue()


def _strings(x):
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for v in x.values():
            yield from _strings(v)
    elif isinstance(x, list):
        for v in x:
            yield from _strings(v)


def _results(folder, study):
    return json.loads((folder / study / "results.json").read_text())


def test_every_link_of_the_page_resolves_and_every_study_has_its_full_run_folder(tour):
    outcome, _ = tour
    folder = outcome.folder
    page = (folder / "report.html").read_text().split('<script id="nl-data"')[0]   # the HTML, not the Vega code
    hrefs = re.findall(r'href="([^"]+)"', page)
    local = [h for h in hrefs if not h.startswith("#")]
    assert "glossary.html" in local
    for study, _ in STEPS:
        assert f"{study}/report.html" in local
        for name in ("report.html", "results.json", "glossary.html"):
            assert (folder / study / name).is_file(), (study, name)
        sub = (folder / study / "report.html").read_text()
        assert 'href="glossary.html"' in sub            # every study page links its glossary
        assert _results(folder, study)["config"]["first_seed"] == 3
    for h in local:
        assert (folder / h).is_file(), h
    for h in hrefs:
        if h.startswith("#"):
            assert f'id="{h[1:]}"' in page, h
    assert (folder / "glossary.html").is_file() and (folder / "tour.json").is_file()


def test_answers_are_the_studies_stored_findings_verbatim(tour):
    outcome, _ = tour
    folder = outcome.folder
    info = json.loads((folder / "tour.json").read_text())
    page = html.unescape((folder / "report.html").read_text())
    res = {s: _results(folder, s) for s, _ in STEPS}
    answers = list(info["answers"].values())
    assert len(answers) == len(STEPS)
    lab, sym, conv, hier, tr = answers
    assert lab == res["lab"]["findings"]["niches"]
    stay = [s for d in res["symmetry"]["datasets"].values() for s in d["findings"]["stay"]]
    assert sym[:len(stay)] == stay and sym[len(stay):] == res["lab"]["findings"]["exclusion"][:2]
    assert conv == res["convergence"]["findings"]["short"]
    summary = res["hierarchy"]["findings"]["summary"]
    assert hier == summary[:len(hier)] and not hier[-1].startswith("Warning:")   # warnings kept, then the answer
    assert all(s.startswith("Warning:") for s in hier[:-1])
    assert tr and tr[0] in res["transfer"]["summary"] and "domain-specific?" in tr[0]
    for (study, _), said in zip(STEPS, answers):
        stored = set(_strings(res[study])) | set(_strings(res["lab"]))
        for sentence in said:
            assert sentence in stored, (study, sentence)      # never words of the tour's own
            assert sentence in page, (study, sentence)


def test_each_section_asks_answers_shows_a_figure_and_links_the_full_report(tour):
    outcome, _ = tour
    page = (outcome.folder / "report.html").read_text()
    sections = re.findall(r'<section id="s\d+">(.*?)</section>', page, flags=re.S)
    assert len(sections) == len(STEPS)
    for (study, _), body in zip(STEPS, sections):
        assert 'class="question"' in body and 'class="finding"' in body, study
        assert ('class="nl-chart"' in body) or ("<img" in body), study
        assert f'href="{study}/report.html"' in body, study
    assert "quick settings" in page.lower() or "settings" in page    # the page states its settings


def test_terminal_progress_and_summary_fit_80_columns(tour):
    outcome, out = tour
    for i, (study, question) in enumerate(STEPS, start=1):
        assert f"[{i}/5] {question}" in out
    assert f"tour page: {outcome.folder / 'report.html'}" in out
    assert all(len(line) <= 80 for line in out.splitlines()), max(out.splitlines(), key=len)


def test_tour_json_records_each_run_command_and_settings(tour):
    outcome, _ = tour
    info = json.loads((outcome.folder / "tour.json").read_text())
    assert info["scale"] == "custom" and info["seed"] == 3
    assert info["command"] == f"nichelab tour --out {outcome.folder}"
    for study, _ in STEPS:
        s = info["studies"][study]
        assert s["command"].startswith(f"nichelab run {study} ") and "--first-seed 3" in s["command"]
        assert _results(outcome.folder, study)["command"] == s["command"]


@pytest.mark.parametrize("scale", list(SCALES))
def test_every_scale_gives_valid_configs(scale):
    configs = study_configs(TourConfig(scale=scale, seed=7))
    assert list(configs) == [s for s, _ in STEPS]
    for name, (cfg, given) in configs.items():
        assert cfg.first_seed == 7
        for k, v in given.items():
            assert getattr(cfg, k) == v or k == "quick", (name, k)


@pytest.mark.parametrize("args, message", [
    (["--seed", "-1"], "error: --seed must be an integer >= 0"),
    (["--scale", "huge"], "error: --scale must be one of quick, full; got 'huge'"),
])
def test_bad_options_one_line_exit_2_no_folder(tmp_path, args, message):
    out = tmp_path / "t"
    res = runner.invoke(app, ["tour", *args, "--out", str(out)])
    assert res.exit_code == 2
    lines = [l for l in res.output.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith(message), res.output
    assert not out.exists()


def test_non_empty_out_is_refused_before_any_training(tmp_path):
    (tmp_path / "x").write_text("keep")
    res = runner.invoke(app, ["tour", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "--out must be a new or empty folder" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]


@pytest.mark.parametrize("exc", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_a_stopped_tour_leaves_no_folder(tmp_path, monkeypatch, exc):
    from nichelab.errors import NichelabError
    from nichelab.studies.base import Study
    calls = []

    def fail(self, config=None, *, progress=None):
        calls.append(self.name)
        raise exc
    monkeypatch.setattr(Study, "run", fail)
    monkeypatch.chdir(tmp_path)
    expected = KeyboardInterrupt if exc is KeyboardInterrupt else NichelabError
    with pytest.raises(expected) as info:
        run_tour(TourConfig(), None, settings=TINY, console=Console(file=io.StringIO()))
    assert calls == ["lab"]
    if expected is NichelabError:
        assert "No space left on device" in str(info.value) and "nothing was left" in str(info.value)
    assert not any(p.name.startswith("tour-") or p.name.startswith(".tour") for p in (tmp_path / "runs").iterdir())
