"""Errors name fields, the CLI names flags: library messages start with the field, never a --flag."""
import pathlib
import re

import pytest
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.data.blobs import load_blobs
from nichelab.data.loaders import load_dataset
from nichelab.errors import NichelabError
from nichelab.nn.spec import parse_spec

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "nichelab"
#: an error built with a message that starts with a flag
FLAG_ERROR = re.compile(r"""(NichelabError(\.about)?\(\s*(\w+,\s*)?f?["']--|_error\(\s*f?["']--)""")


#: The library layers (left of reporting/, runs/ and cli/, which speak to the command line).
LIBRARY = ("data", "nn", "train", "capture.py", "metrics", "interventions", "studies", "options.py", "errors.py")


def test_no_library_error_starts_with_a_flag():
    bad = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] not in LIBRARY:
            continue
        text = path.read_text()
        bad += [f"{rel}:{text[:m.start()].count(chr(10)) + 1}" for m in FLAG_ERROR.finditer(text)]
    assert not bad, bad


@pytest.mark.parametrize("call, field", [
    (lambda: parse_spec("mlp"), "model"),
    (lambda: parse_spec("rnn 4"), "model"),
    (lambda: load_blobs(2), "n_samples"),
    (lambda: load_dataset("nope.npz"), "dataset"),
])
def test_library_errors_start_with_their_field(call, field):
    with pytest.raises(NichelabError) as err:
        call()
    assert err.value.field == field and str(err.value).startswith(field + " ")


@pytest.mark.parametrize("args, flag", [
    (["run", "convergence", "--model", "mlp"], "--model must look like"),
    (["run", "convergence", "--dataset", "nope.npz"], "--dataset must be one of"),
    (["run", "transfer", "--model", "mlpx"], "--model must look like"),
    (["run", "lab", "--init", "foo"], "--init must be one of"),
    (["run", "convergence", "--test-fraction", "0.999", "--seeds", "2", "--epochs", "1"], "--test-fraction"),
])
def test_cli_messages_name_the_flag(tmp_path, args, flag):
    out = tmp_path / "run"
    res = CliRunner().invoke(app, args + ["--out", str(out)])
    assert res.exit_code == 2 and flag in res.output and "Traceback" not in res.output, res.output
    assert not out.exists()
