"""Per-unit AUPRC: hand-computed cases, ties, scikit-learn as the reference, and bad input."""
import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from nichelab.errors import NichelabError
from nichelab.metrics.detection import average_precision, one_vs_rest_average_precision


def test_hand_computed_cases():
    # ranks: + - + -  -> precision at the positives 1/1 and 2/3
    assert average_precision([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0]) == pytest.approx((1 + 2 / 3) / 2)
    # a perfect detector, and the worst ranking of 2 positives among 4
    assert average_precision([4, 3, 2, 1], [1, 1, 0, 0]) == pytest.approx(1.0)
    assert average_precision([4, 3, 2, 1], [0, 0, 1, 1]) == pytest.approx((1 / 3 + 2 / 4) / 2)


def test_ties_form_one_threshold_and_a_constant_unit_scores_the_prevalence():
    # scores 2,1,1,0 with labels 1,1,0,0: thresholds 2 (P=1, R=.5) and 1 (P=2/3, R=1)
    assert average_precision([2, 1, 1, 0], [1, 1, 0, 0]) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert average_precision(np.ones(5), [1, 0, 0, 0, 1]) == pytest.approx(0.4)


def test_columns_are_units_and_match_scikit_learn_on_random_ties():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(2, 60))
        s = rng.integers(0, 6, (n, 4)).astype(float)          # many ties
        t = rng.random(n) < 0.3
        if not t.any():
            t[0] = True
        ref = [average_precision_score(t, s[:, j]) for j in range(4)]
        np.testing.assert_allclose(average_precision(s, t), ref, atol=1e-12)


def test_no_positive_gives_nan_and_order_of_samples_does_not_matter():
    assert np.isnan(average_precision([1.0, 2.0], [0, 0]))
    rng = np.random.default_rng(1)
    s, t = rng.random((30, 3)), rng.random(30) < 0.5
    p = rng.permutation(30)
    np.testing.assert_allclose(average_precision(s, t), average_precision(s[p], t[p]))


def test_one_vs_rest_rows_are_classes():
    s = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8]])
    y = np.array([0, 0, 1, 1])
    ap = one_vs_rest_average_precision(s, y)
    np.testing.assert_allclose(ap, [[1.0, 5 / 12], [5 / 12, 1.0]])


@pytest.mark.parametrize("call,words", [
    (lambda: average_precision(np.ones((3, 2)), [1, 0]), "target must have shape"),
    (lambda: average_precision(np.ones(3), [2, 0, 1]), "boolean or 0/1"),
    (lambda: average_precision([np.nan, 1.0], [1, 0]), "scores must not contain NaN"),
    (lambda: average_precision(np.ones((2, 2, 2)), [1, 0]), "scores must have shape"),
    (lambda: one_vs_rest_average_precision(np.ones((3, 1)), [0.5, 1, 0]), "integer class labels"),
])
def test_bad_input_names_the_argument(call, words):
    with pytest.raises(NichelabError, match=words):
        call()
