"""Behaviour stays: the symmetry study's numbers equal those saved before the refactor (tests/golden).

The old command was ``nichelab run symmetry --seeds 2 --data blobs --epochs 20``; its --epochs set
the config's ``blobs_epochs`` and ``digits_epochs``, which are now the one field ``epochs``.
"""


def test_symmetry_numbers_unchanged(golden):
    old = golden.load("symmetry")
    new = golden.run("symmetry", seeds=2, data=("blobs",), epochs=20)
    for key in ("seeds", "datasets"):        # every dataset, condition, curve, fit and finding
        golden.assert_same(old[key], new[key], key)
    config = dict(old["config"])
    assert config.pop("blobs_epochs") == config.pop("digits_epochs") == new["config"]["epochs"]
    golden.assert_same(config, new["config"], "config")
