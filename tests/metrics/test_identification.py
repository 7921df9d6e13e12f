"""Layer identification (Kornblith et al. 2019, table 2) and the most similar column of each row."""
import numpy as np
import pytest

from nichelab.metrics.identification import identify_layers, most_similar


def test_identification_on_hand_built_matrices():
    m = np.array([
        [[0.9, 0.2, 0.1], [0.3, 0.8, 0.7], [0.1, 0.9, 0.6]],   # L3's best is L2: miss
        [[0.5, 0.5, 0.1], [0.1, 0.8, np.nan], [0.2, 0.1, 0.4]],  # tie in row 0: miss; NaN ignored
    ])
    assert identify_layers(m).tolist() == [[True, True, False], [False, True, True]]
    d = 1 - m  # as distances, the same answer
    assert identify_layers(d, lower_is_better=True).tolist() == [[True, True, False], [False, True, True]]
    # a NaN on the diagonal is a miss, whatever the rest
    assert identify_layers(np.array([[[np.nan, 0.1], [0.0, 1.0]]])).tolist() == [[False, True]]


def test_identification_rejects_non_square():
    with pytest.raises(ValueError):
        identify_layers(np.zeros((2, 3, 4)))


def test_most_similar_ignores_nan_and_agrees_with_identification():
    m = np.array([[0.2, np.nan, 0.9], [np.nan, np.nan, np.nan], [0.5, 0.5, 0.1]])
    assert most_similar(m).tolist() == [2, -1, 0]          # first of a tie; -1 for no finite value
    assert most_similar(1 - m, lower_is_better=True).tolist() == [2, -1, 0]
    rng = np.random.default_rng(0)
    stack = rng.normal(size=(4, 5, 5))
    hit = most_similar(stack) == np.arange(5)
    np.testing.assert_array_equal(hit, identify_layers(stack))   # no ties in random data
    with pytest.raises(ValueError):
        most_similar(np.zeros(3))
