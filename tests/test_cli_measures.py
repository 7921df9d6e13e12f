"""The CLI's similarity-measure choices and help are read from the one registry (metrics.registry)."""
import typer.main
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.metrics.registry import MEASURE_ALIASES, SIMILARITY_MEASURES, measures_help
from nichelab.options import option_specs
from nichelab.studies import STUDIES

#: study -> its measure option
FIELDS = {"compare": "measure", "convergence": "measures"}


def _registry_choices():
    return tuple(n for n, m in SIMILARITY_MEASURES.items() if not m.debiased) + tuple(MEASURE_ALIASES)


def _click_option(study, field):
    group = typer.main.get_command(app)
    cmd = group.commands[study] if study in group.commands else group.commands["run"].commands[study]
    return next(p for p in cmd.params if p.name == field)


def test_measure_choices_equal_the_registry_names():
    expected = _registry_choices()
    for study, field in FIELDS.items():
        spec = next(s for s in option_specs(STUDIES[study].Config) if s.name == field)
        assert tuple(spec.choices) == expected, study
        param = _click_option(study, field)
        shown = param.metavar.strip("<>").removesuffix(",...").split("|")
        assert tuple(shown) == expected, study
        assert measures_help() in param.help


def test_every_non_debiased_registry_measure_is_accepted_and_others_are_not(tmp_path):
    cfg = STUDIES["convergence"].Config
    for name in SIMILARITY_MEASURES:
        if not SIMILARITY_MEASURES[name].debiased:
            assert name in cfg(measures=(name,)).measures
    res = CliRunner().invoke(app, ["run", "convergence", "--measures", "linear_cka,nope", "--out",
                                   str(tmp_path / "x")])
    assert res.exit_code == 2 and "--measures" in res.output and "nope" in res.output
    assert not (tmp_path / "x").exists()
