"""The similarity-measure registry: names shared with cka_matrix and the studies, values agree."""
from __future__ import annotations

import numpy as np
import pytest

from nichelab.errors import NichelabError
from nichelab.metrics import SIMILARITY_MEASURES, cka_matrix, get_measure

#: The names the convergence / compare studies use today (studies/convergence/config.py MEASURES).
STUDY_NAMES = ("linear_cka", "rbf_cka", "cca", "svcca", "pwcca", "procrustes_distance", "rsa")


def test_registry_covers_the_study_names_and_labels():
    assert set(STUDY_NAMES) <= set(SIMILARITY_MEASURES)
    for name, m in SIMILARITY_MEASURES.items():
        assert m.name == name and m.label and m.description.endswith(".")
        assert callable(m.function)
    assert SIMILARITY_MEASURES["procrustes_distance"].higher_is_better is False
    assert SIMILARITY_MEASURES["linear_cka"].higher_is_better is True


@pytest.mark.parametrize("name", list(SIMILARITY_MEASURES))
def test_each_measure_equals_cka_matrix_entry_and_ranks_identity_best(name):
    m = SIMILARITY_MEASURES[name]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4))
    y = rng.normal(size=(40, 3))
    _, _, mat = cka_matrix({"x": x}, {"y": y}, measure=m.matrix_name, debiased=m.debiased)
    assert m(x, y) == pytest.approx(mat[0, 0], abs=1e-12)
    same, other = m(x, 2 * x + 1), m(x, y)
    assert (same > other) if m.higher_is_better else (same < other)


def test_get_measure_aliases_and_unknown_names():
    assert get_measure("cka") is SIMILARITY_MEASURES["linear_cka"]
    assert get_measure("procrustes").name == "procrustes_distance"
    with pytest.raises(NichelabError, match="did you mean 'svcca'"):
        get_measure("svca")
