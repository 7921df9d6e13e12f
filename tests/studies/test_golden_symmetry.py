"""Behaviour stays: the symmetry study's numbers equal those saved before the refactor (tests/golden).

The old command was ``nichelab run symmetry --seeds 2 --data blobs --epochs 20``; its --epochs set
the config's ``blobs_epochs`` and ``digits_epochs``, which are now the one field ``epochs``.

Updated for issue 12 ("Truth about symmetry"), with these reasons:

- ``findings`` ``stay``, ``one_unit`` and ``breaks`` are regenerated from the measured tie outcome
  (copies bit-identical or split by rounding, the tied condition, shares with 95% intervals), so
  their words changed on purpose; ``speed`` and ``zero`` are still compared word for word.
- ``main_conditions`` gained the new ``tied`` condition; the old list must still be there, in order.
- Separate copies of the symmetric start are split by rounding on some CPUs and not on others
  (the issue's AMD EPYC report). The golden numbers were saved where they stayed identical; a
  condition this run reports as split by rounding (``tie == "rounding"``) cannot match them and is
  left out, with the report's own consistency checked in test_symmetry.py. Every other condition,
  curve and fit is compared as before.
"""

REGENERATED_FINDINGS = ("stay", "one_unit", "breaks")


def test_symmetry_numbers_unchanged(golden):
    old = golden.load("symmetry")
    new = golden.run("symmetry", seeds=2, data=("blobs",), epochs=20)
    golden.assert_same(old["seeds"], new["seeds"], "seeds")
    for ds, o in old["datasets"].items():
        n = new["datasets"][ds]
        rounding = {k for k, c in n["conditions"].items() if c.get("tie") == "rounding"}
        for key, value in o.items():
            if key == "findings":
                value = {k: v for k, v in value.items() if k not in REGENERATED_FINDINGS}
            elif key == "main_conditions":
                assert [c for c in n[key] if c != "tied"] == value
                continue
            elif key == "conditions":
                value = {k: v for k, v in value.items() if k not in rounding}
                assert len(value) >= len(o[key]) - 4          # at most the four symmetric-copy conditions left out
            elif key == "one_unit_collapse_max_logit_difference" and "symmetric" in rounding:
                continue
            golden.assert_same(value, n[key], f"datasets/{ds}/{key}")
    config = dict(old["config"])
    assert config.pop("blobs_epochs") == config.pop("digits_epochs") == new["config"]["epochs"]
    golden.assert_same(config, new["config"], "config")
