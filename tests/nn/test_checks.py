"""Model-vs-data checks: channels of the first layer, accuracy within noise of chance; factory imports."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import binom
from torch import nn

from nichelab.errors import NichelabError
from nichelab.nn.checks import chance_check, check_input_channels, first_layer_channels


def test_chance_check_matches_binomial_reference():
    counts = [50, 50, 50, 50]
    # exact one-sided p-value by the binomial survival function, as a reference
    for acc in (0.25, 0.29, 0.30, 0.33, 0.5):
        hits = round(acc * 200)
        p = binom.sf(hits - 1, 200, 0.25)
        warned = chance_check(acc, 200, counts) is not None
        assert warned == (p >= 0.01), acc
    msg = chance_check(0.6, 100, [60, 40])                    # majority class rate, not 1/k
    assert msg is not None and "60.0%" in msg
    assert chance_check(0.9, 100, [60, 40]) is None
    with pytest.raises(NichelabError, match="sum"):
        chance_check(0.5, 10, [3, 3])


def test_channel_mismatch_names_both():
    rgb = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    assert first_layer_channels(rgb) == ("0", 3)
    check_input_channels(rgb, (3, 8, 8))
    with pytest.raises(NichelabError, match=r"gives images with 1 channel \(1, 29, 29\).*first layer '0' expects 3 channels.*--channels 3"):
        check_input_channels(rgb, (1, 29, 29), data_name="--dataset 'imgs'")
    check_input_channels(nn.Sequential(nn.Flatten(), nn.Linear(12, 2)), (3, 2, 2))       # an MLP: nothing to check


def test_factory_imports_from_current_folder(tmp_path):
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "models.py").write_text("from torch import nn\n\ndef make_net():\n    return nn.Sequential(nn.Linear(2, 3), nn.ReLU())\n")
    code = ("import sys; sys.path = [p for p in sys.path if p not in ('', '.', %r)]\n"
            "import warnings; warnings.simplefilter('ignore')\n"
            "from nichelab.nn.loading import load_model\n"
            "print(load_model('mypkg.models:make_net').kind)\n"
            "try:\n    load_model('otherpkg.models:make_net')\nexcept Exception as e:\n    print(e)\n") % str(tmp_path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p and "site-packages" not in p))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "factory"
    assert "no module named 'otherpkg'" in lines[1] and "run nichelab from the folder that holds otherpkg/" in lines[1]
