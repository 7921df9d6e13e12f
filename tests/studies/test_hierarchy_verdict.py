"""The hierarchy study's short answer follows its intervals, and warns when the network learned little.

Hand-built per-layer shares where the right sentence is known: with few units the layer-to-layer differences
that place a kind of detector include zero, so the answer must say the run cannot tell (not "No"); with many
units the same shares are measurable and the answer says "No" or "Yes".
"""
import numpy as np

from nichelab.studies.hierarchy import findings as hf

NAMES = ["L1", "L2", "L3"]


def _stages(units):
    """Edges most common in L3 (not the first layer), parts in L2, objects at the top: the stage functions on
    hand-built shares, with ``units`` behind every share."""
    edges = hf.edge_stage(np.array([0.25, 0.3, 0.5]), np.array([0.25, 0.3, 0.45]), np.array([0.25, 0.3, 0.5]),
                          None, NAMES, 0.3, 0.5, "bars", units)
    parts = hf.part_stage(np.array([0.1, 0.4, 0.2]), np.array([0.1, 0.05, 0.05]), np.array([0.1, 0.4, 0.2]),
                          np.array([0.1, 0.05, 0.05]), np.array([0.5, 0.1, 0.1]), NAMES, 0.04, ["", "", ""], 3, units)
    objects = hf.object_stage(np.array([0.0, 0.1, 0.5]), np.array([0.0, 0.0, 0.0]), np.array([0.3, 0.5, 0.9]),
                              np.array([0.3, 0.3, 0.3]), NAMES, 0.8, "face", units=units)
    return [edges, parts, objects]


def _controls(stages, units):
    out = []
    for s, t, r in zip(stages, (0.5, 0.4, 0.5), (0.45, 0.05, 0.0)):
        n = units.n_units[s.layer] * units.n_seeds
        out.append(hf.stage_control(s, NAMES[s.layer], round(t * n), n, round(r * n), n))
    return out


def test_few_units_the_answer_is_cannot_tell_not_no():
    units = hf.UnitTotals([8, 8, 16], 1)
    stages = _stages(units)
    assert [s.stage for s in stages if not s.measurable] == ["edges", "parts"]
    assert "L3 against L1: difference +25.0 points, 95% CI" in stages[0].why
    text = hf.story_plainly(stages, _controls(stages, units), units)
    assert "hold in this run? No" not in text and "hold in this run? Yes" not in text
    assert ("hold in this run? This run cannot tell: this run cannot tell whether the edges and parts steps hold: "
            "the layer-to-layer differences that place them have 95% intervals that include zero") in text
    assert "only 8 to 16 units per layer and 1 seed), too few units to tell the layers apart" in text
    assert "edges: L3 (not measurably more than elsewhere)" in text


def test_many_units_the_same_shares_give_a_measured_no():
    units = hf.UnitTotals([400, 400, 400], 5)
    stages = _stages(units)
    assert all(s.measurable for s in stages) and [s.holds for s in stages] == [False, True, True]
    text = hf.story_plainly(stages, _controls(stages, units), units)
    assert "hold in this run? No: the edges step does not hold where the story puts it." in text
    assert "cannot tell whether" not in text and "not measurably more than elsewhere" not in text


def test_a_measured_failure_and_an_unclear_stage_are_both_said():
    units = hf.UnitTotals([8, 8, 16], 1)
    stages = _stages(units)
    stages[2] = hf.StageVerdict("objects", False, 2, "", True, "")      # measured: not at the top
    text = hf.story_plainly(stages, _controls(stages, units), units)
    assert ("No: the objects step does not hold where the story puts it; and this run cannot tell whether the "
            "edges and parts steps hold") in text


def test_low_accuracy_is_warned_from_its_interval_against_chance():
    # 54 of 90 correct, chance 20%: Wilson interval 49.7%-69.7%, wholly below 80% (3/4 of the way from chance to 100%)
    w = hf.accuracy_warning([0.6], 90, 0.2)
    assert w and w[0].startswith("Warning: the trained network’s held-out accuracy is 60% (54 of 90 test images; "
                                 "95% CI 50%–70%), against 20% by chance")
    assert "the network learned little" in w[0] and "say little about what trained networks learn" in w[0]
    # at chance: cannot tell it from guessing
    assert "cannot tell it from guessing" in hf.accuracy_warning([0.22], 90, 0.2)[0]
    # well learned: no warning; 85% of only 20 images straddles 80%: "cannot tell whether ... well"
    assert hf.accuracy_warning([0.97, 0.95], 300, 0.2) == []
    assert "cannot tell whether the network learned its task well" in hf.accuracy_warning([0.85], 20, 0.2)[0]
    # the same 60% against 50% by chance (two balanced classes): the interval reaches chance
    assert "cannot tell it from guessing" in hf.accuracy_warning([0.6], 90, 0.5)[0]
    assert hf.accuracy_warning([np.nan], 90, 0.2) == []


def test_probe_splits_are_counted_in_the_singular_for_one():
    import inspect

    from nichelab.reporting.pages import hierarchy as page
    src = inspect.getsource(page)
    assert "mean of 1 splits" not in src
    assert '", one split" if c.probe_repeats == 1' in src
