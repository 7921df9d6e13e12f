"""The study registry, the generated CLI and the library-first import."""
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.cli.generate import cli_options
from nichelab.options import option_specs
from nichelab.studies import STUDIES

runner = CliRunner()


def _command(study):
    import typer.main
    group = typer.main.get_command(app)
    if study.command == "run":
        group = group.commands["run"]
    return group.commands[study.name]


@pytest.mark.parametrize("name", list(STUDIES))
def test_cli_options_equal_config_fields_and_defaults(name):
    """Every CLI option of a study is a config field with the same default, and vice versa."""
    study = STUDIES[name]
    cmd = _command(study)
    params = {p.name: p for p in cmd.params if p.name != "out"}
    specs = {s.name: s for s in cli_options(study.Config)}
    assert set(params) == set(specs)
    for field, spec in specs.items():
        default = spec.default
        if spec.sequence and default is not None:
            default = ",".join(str(v) for v in default)
        assert params[field].default == default, field
        assert (spec.help in (params[field].help or "")), field


@pytest.mark.parametrize("name", list(STUDIES))
def test_every_study_declares_protocol(name):
    study = STUDIES[name]
    assert study.name == name and study.question
    assert option_specs(study.Config), "a config declares its options with option()"
    assert study.Result.study == name


def test_unknown_study_suggests():
    from nichelab.errors import NichelabError
    with pytest.raises(NichelabError, match="did you mean 'lab'"):
        STUDIES["labb"]


def test_import_nichelab_does_not_import_torch_or_matplotlib():
    code = ("import sys, nichelab, nichelab.studies, nichelab.cli; "
            "list(nichelab.studies.STUDIES); "
            "bad = [m for m in ('torch', 'matplotlib', 'sklearn', 'scipy') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_study_packages_and_configs_import_no_torch():
    """Every Config (built with its defaults) and every study package import without torch."""
    code = ("import sys, importlib, nichelab, nichelab.studies; from nichelab.studies import STUDIES; "
            "[STUDIES[n].Config for n in STUDIES]; import nichelab.metrics.registry; "
            "assert 'numpy' not in sys.modules, 'numpy'; "
            "[STUDIES[n].Config() for n in STUDIES if n != 'compare']; "
            "[importlib.import_module(STUDIES[n].package) for n in STUDIES]; "
            "import nichelab.studies.hierarchy.config; "
            "bad = [m for m in ('torch', 'matplotlib') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_field_errors_name_the_flag(tmp_path):
    res = runner.invoke(app, ["run", "lab", "--first-seed", "-3", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2
    assert "--first-seed must be an integer >= 0" in res.output and "got -3" in res.output
    assert not (tmp_path / "r").exists()


def test_huge_integers_are_one_clear_error(tmp_path):
    for flag in ("--seeds", "--first-seed"):
        res = runner.invoke(app, ["run", "lab", flag, "99999999999999999999", "--out", str(tmp_path / "r")])
        assert res.exit_code == 2 and flag in res.output and "Traceback" not in res.output
        assert len(res.output.strip().splitlines()) == 1
