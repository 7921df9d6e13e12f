"""The superposition study (Elhage et al. 2022): numbers from the weights, seed independence, words."""
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from nichelab.cli import app
from nichelab.runs.jsonio import dumps
from nichelab.studies import STUDIES
from nichelab.studies.superposition import findings as fx
from nichelab.studies.superposition.config import SuperpositionConfig

SMALL = dict(seeds=2, features=6, hidden=2, sparsity=(0.0, 0.9), steps=200, batch_size=128)


@pytest.fixture(scope="module")
def small():
    return STUDIES["superposition"].run(SuperpositionConfig(**SMALL))


def test_counts_follow_from_the_saved_weights(small):
    W = small.params["W"]
    assert W.shape == (4, 2, 6) and small.params["b"].shape == (4, 6)
    for k, m in enumerate(small.models):
        norms = np.linalg.norm(W[k], axis=0)                      # naive float64 reference
        np.testing.assert_allclose(m["norms"], norms, rtol=1e-12)
        assert m["represented"] == int((norms > 0.5).sum())
        assert m["dims_per_feature"] == pytest.approx(2 / (norms ** 2).sum(), rel=1e-12)
    rows = {r["sparsity"]: r for r in small.by_sparsity}
    assert rows[0.9]["represented_total"] == sum(m["represented"] for m in small.models if m["sparsity"] == 0.9)


def test_a_model_depends_only_on_its_own_seed_and_sparsity(small):
    """Training one level alone gives the same model as training it beside the others."""
    alone = STUDIES["superposition"].run(SuperpositionConfig(**{**SMALL, "sparsity": (0.9,), "seeds": 1}))
    k = next(i for i, m in enumerate(small.models) if m["sparsity"] == 0.9 and m["seed"] == 0)
    np.testing.assert_allclose(alone.params["W"][0], small.params["W"][k], atol=1e-5)


def _rows(med_dense, med_sparse, m=5):
    row = lambda s, med: {"sparsity": s, "n_seeds": 3, "represented_median": med, "represented_min": med,  # noqa: E731
                          "represented_max": med, "represented_total": 3 * med, "shared_total": 0}
    return [row(0.0, med_dense), row(0.99, med_sparse)]


def test_words_agree_or_disagree_with_the_paper_from_the_numbers():
    cfg = SuperpositionConfig(hidden=5)
    agree = " ".join(fx.answers(cfg, _rows(5, 12))["short"])
    assert "Dense inputs: about one feature per dimension" in agree and agree.count("as the paper reports") == 2
    differ = " ".join(fx.answers(cfg, _rows(9, 4))["short"])
    assert "not about" in differ and "unlike the paper" in differ and "does not show it" in differ


def test_bad_options_name_the_field():
    from nichelab.errors import NichelabError
    for kw, field in [({"sparsity": (1.0,)}, "sparsity"), ({"hidden": 0}, "hidden"), ({"importance": 0}, "importance")]:
        with pytest.raises(NichelabError, match=f"^{field} "):
            SuperpositionConfig(**kw)


def test_cli_run_and_load_run_round_trip(tmp_path):
    import nichelab
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", "superposition", "--seeds", "1", "--features", "5", "--hidden", "2",
                                   "--sparsity", "0,0.9", "--steps", "50", "--batch-size", "64", "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = (out / "results.json").read_text()
    assert json.loads(text)["study"] == "superposition"
    assert dumps(nichelab.load_run(out).to_dict()) == text
    assert "Do hidden dimensions carry one feature each" in (out / "report.html").read_text()


def test_one_seed_is_said_without_a_median_or_range():
    cfg = SuperpositionConfig(hidden=5)
    one = [{"sparsity": 0.0, "n_seeds": 1, "represented_median": 5, "represented_min": 5, "represented_max": 5,
            "represented_total": 5, "shared_total": 0}]
    text = fx.answers(cfg, one)["short"][0]
    assert "at S = 0, 5 features (1 seed) in 5 dimensions" in text
    assert "median" not in text and "range" not in text
    three = fx.answers(cfg, _rows(5, 12))["short"][0]
    assert "at S = 0, a median of 5 features (range 5 over 3 seeds)" in three


def test_the_caption_names_only_what_the_chart_draws():
    from nichelab.reporting.figures.superposition import fig_counts
    from nichelab.reporting.pages.superposition import counts_caption
    assert "Blue dots" not in counts_caption(1) and "one seed's count" in counts_caption(1)
    assert "Blue dots: one seed each" in counts_caption(3)
    # one seed: no per-seed dots layer (its dot would hide under the median's square)
    names = lambda spec: [leaf.get("data", {}).get("name") for leaf in spec["layer"]]  # noqa: E731
    assert "sp_seeds" not in names(fig_counts(["0", "0.9"], 5, 20, 1, per_seed=False))
    assert "sp_seeds" in names(fig_counts(["0", "0.9"], 5, 20, 1))
