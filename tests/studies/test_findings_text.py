"""Findings in words on hand-built numbers where the right sentence is known (issue 12, items 3/4):
symmetry's one-unit comparison, width's near-copy verdicts, the lab's sentences for widths 1-4, and the
superposition caption that claims no result."""
import numpy as np
import pytest

from nichelab.metrics.partitions import split_key
from nichelab.studies import text
from nichelab.studies.lab import findings as lab
from nichelab.studies.lab.analysis import SeedAnalysis
from nichelab.studies.symmetry.findings import distinct_text, one_unit_verdict, split_meaning
from nichelab.studies.width.findings import _copies_verdict, compare_shares

# ---- symmetry: is the identical-unit network's accuracy that of one unit? --------------------------------


def test_one_unit_verdict_no_difference_from_one_unit_but_random_better():
    # 24.0% vs 23.0% of 1000 predictions: Newcombe CI about -2.7 to +4.7 points -> cannot tell; random 96% is better
    text_ = one_unit_verdict((240, 1000), (230, 1000), (960, 1000))
    assert "cannot tell its accuracy from the one-unit network's (+1.0 points" in text_
    assert "random start does better (+72.0 points" in text_
    assert "not that of" not in text_


def test_one_unit_verdict_real_difference():
    d, lo, hi, sep = text.difference(600, 1000, 230, 1000)
    assert sep and lo > 0
    text_ = one_unit_verdict((600, 1000), (230, 1000), (960, 1000))
    assert text_.startswith("so its accuracy is not that of the separately trained one-unit network here (higher: +37.0 points")


def test_one_unit_verdict_neither_differs():
    text_ = one_unit_verdict((500, 1000), (505, 1000), (510, 1000))
    assert "nor from the random start's" in text_ and "one unit is nearly enough" in text_


def test_one_unit_verdict_a_15_point_gap_on_few_predictions_is_not_a_difference():
    # the old rule called |gap| <= 15 points "close"; 20 points on 20 predictions each is within the noise
    text_ = one_unit_verdict((10, 20), (6, 20), (19, 20))
    assert "cannot tell its accuracy from the one-unit network's (+20.0 points" in text_


# ---- width: near-copies and rare events -----------------------------------------------------------------

def test_copies_verdict_follows_the_interval():
    assert _copies_verdict(80, 100) == "most of them are near-copies of another unit"
    assert _copies_verdict(2, 100) == "few are near-copies of another unit"          # CI 0.6-7.0%
    assert _copies_verdict(20, 100) == "fewer than half are near-copies of another unit"
    assert _copies_verdict(5, 9) == "some are near-copies of another unit"           # 56%, CI 27-81%


def test_compare_shares_real_difference_none_and_one_event():
    real = compare_shares(2, 200, 30, 200, 2, 12, "more often", "less often", "about as often")
    assert real.startswith("less often (difference −14.0 points, 95% CI")
    none = compare_shares(3, 100, 4, 100, 3, 4, "more often", "less often", "about as often")
    assert none.startswith("about as often: the run cannot tell them apart")
    # 1% vs 7% where the 7% are the units of a single seed: one event, never called a difference
    one = compare_shares(1, 100, 7, 100, 1, 1, "more often", "less often", "about as often")
    assert "rests on a single seed (one event)" in one and "less often" not in one


# ---- lab: every sentence right for widths 1-4 ------------------------------------------------------------

A01 = np.array([1, 1, 0, 0], bool)   # {0,1}|{2,3}
A02 = np.array([1, 0, 1, 0], bool)   # {0,2}|{1,3}
A03 = np.array([1, 0, 0, 1], bool)   # {0,3}|{1,2}
DEAD = np.zeros(4, bool)


def _analysis(units, outcomes, recall=None, init=None, acc=None):
    S = len(units)
    active = np.array(units, bool)
    dead = ~active.any(axis=2)
    recall = np.ones((S, 4)) if recall is None else np.asarray(recall, float)
    accuracy = recall.mean(axis=1) if acc is None else np.asarray(acc, float)
    return SeedAnalysis(np.arange(S), np.zeros(S), accuracy, recall, active, dead,
                        [[split_key(u) for u in s] for s in active], list(outcomes),
                        active.copy() if init is None else np.array(init, bool), np.full(S, 45.0))


def test_lab_pair_and_split_shares_carry_counts_and_intervals():
    a = _analysis([[A01, A02]] * 3 + [[A01, A01]], ["distinct"] * 3 + ["duplicate"])
    niches = lab.answer_niches(a)
    assert f"{{0,1}}|{{2,3}} in {text.share(5, 8, 'units')}" in niches[1]
    assert "over all 8 hidden units of the 4 seeds" in niches[1]
    assert niches[-1].startswith("The exact pair the lab shows")
    assert text.share(3, 4, "seeds") in niches[-1]
    # 3 of 4: 95% CI 30-95% includes one half, so the run cannot say it is the typical outcome
    assert "cannot tell whether the lab's story is the typical outcome" in niches[-1]


def test_lab_pair_called_typical_only_when_the_interval_is_above_half():
    a = _analysis([[A01, A02]] * 40, ["distinct"] * 40)
    assert "so the lab's story is the typical outcome" in lab.answer_niches(a)[-1]
    b = _analysis([[A01, A03]] * 40, ["distinct"] * 40)
    assert "one outcome among several, not the rule" in lab.answer_niches(b)[-1]


@pytest.mark.parametrize("H", [1, 2, 3, 4])
def test_lab_sentences_fit_the_width(H):
    units = [[A01, A02, A01, A02][:H], [DEAD, A02, A03, A01][:H]]
    outcomes = ["other" if H == 1 else ("distinct" if H == 2 else "duplicate"), "dead"]
    a = _analysis(units, outcomes, acc=[0.9, 0.7])
    niches = " ".join(lab.answer_niches(a))
    died = {1: "the unit died", 2: "; a unit died", 3: "at least one unit died", 4: "at least one unit died"}[H]
    assert died in niches
    assert ("the unit implements" in niches) == (H == 1)
    origin = " ".join(lab.answer_origin(a))
    assert ("tell the units apart" in origin) == (H >= 2)
    if H > 2:
        # the start could not be compared: every seed had two units starting on one split
        assert "at least two units started on the same split" in origin
        assert "the same way" not in origin
    short = " ".join(lab.short_answer(a, {}))
    assert short.count("What a dead unit costs") == (H == 1)
    assert ("What duplicates and dead units cost" in short) == (H > 1)


def test_lab_failures_single_value_range():
    a = _analysis([[DEAD, A01], [DEAD, A02], [A01, A02]], ["dead", "dead", "distinct"], acc=[0.72, 0.72, 1.0])
    text_ = " ".join(lab.answer_failures(a))
    assert "Dead seeds (2): accuracy 72% in every one" in text_ and "72%–72%" not in text_


def test_lab_angle_verdict_names_the_missing_outcome():
    assert lab._angle_verdict({"duplicate": 6.0, "dead": 2.0}) == (
        "No seed ended distinct, so the angles of distinct and duplicate seeds cannot be compared.")


def test_lab_pull_sentence_for_one_unit():
    pull = {"epoch0_units": 3, "epoch0_top_on_active": 2, "norm": np.ones((2, 1, 4)) * [[[1, 3, 2, 0]]],
            "epochs": [0, 10], "seed": 5}
    out = lab.answer_pull(pull)
    assert "at epoch 0 the unit is pulled hardest by class 1." in out[1]


# ---- superposition: the gram caption claims no result ------------------------------------------------------

def test_gram_caption_claims_no_result():
    from nichelab.reporting.pages.superposition import GRAM_CAPTION
    assert "clean" not in GRAM_CAPTION and "diagonal" in GRAM_CAPTION and "compare" in GRAM_CAPTION


def test_symmetry_split_meaning_follows_the_distinct_units():
    # One distinct unit at the end: rounding split the copies but they still act as one unit;
    # the sentence must not claim the network stopped being a one-unit network.
    assert distinct_text(1.0) == "1 distinct unit"
    assert distinct_text(2.5) == "2.5 distinct units"
    assert "still act as one unit" in split_meaning(1.0)
    assert "no longer a one-unit network" not in split_meaning(1.0)
    assert "no longer a one-unit network" in split_meaning(2.0)


def test_lab_failures_name_the_weakest_class_plainly():
    """'class they got wrong most (mean per-class accuracy 12%)' read as the seeds' accuracy; the
    sentence must say it is the share of that class's points classified right."""
    a = _analysis([[DEAD, A01], [DEAD, A02], [A01, A02]], ["dead", "dead", "distinct"], acc=[0.72, 0.72, 1.0])
    a.recall[:2] = [[1.0, 1.0, 0.2, 0.9], [1.0, 1.0, 0.4, 0.8]]
    text_ = " ".join(lab.answer_failures(a))
    assert "their weakest class is class 2: on average over these seeds, 30% of its points are classified right" \
        in text_, text_
    assert "mean per-class accuracy" not in text_


def test_majority_follows_the_wilson_interval():
    from nichelab.studies.text import majority, wilson_interval
    # 159 of 200: interval (0.73, 0.85) above one half; 1 of 2: interval spans it; 20 of 200: below.
    assert wilson_interval(159, 200)[0] > 0.5
    assert majority(159, 200, "most", "fewer", "unsure") == "most"
    assert majority(1, 2, "most", "fewer", "unsure") == "unsure"
    assert majority(20, 200, "most", "fewer", "unsure") == "fewer"
    assert majority(0, 0, "most", "fewer", "unsure") == "unsure"
