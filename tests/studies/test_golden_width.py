"""The width study's numbers equal those saved before the refactor (tests/golden/width.json).

Made with ``nichelab run width --seeds 2 --widths 1,2,4 --data blobs --epochs 20`` at 9b35ee5;
the old ``--epochs`` set the config's ``blobs_epochs`` and ``digits_epochs``, which are now the
one field ``epochs``. Every other key is compared under its old name, except each dataset's
``findings``: the sentences now give every share with its count and 95% interval (issue 12); the
numbers they quote are compared under ``means_by_width`` and ``per_width``.
"""


def test_width_numbers_unchanged(golden):
    old = golden.load("width")
    new = golden.run("width", seeds=2, widths=(1, 2, 4), data=("blobs",), epochs=20)
    config = dict(old["config"])
    assert config.pop("blobs_epochs") == config.pop("digits_epochs") == new["config"]["epochs"]
    golden.assert_same(config, new["config"], "config")
    golden.assert_same(old["seeds"], new["seeds"], "seeds")
    for name, d in old["datasets"].items():   # every number, per dataset, width and seed
        numbers = {k: v for k, v in d.items() if k != "findings"}
        golden.assert_same(numbers, new["datasets"][name], f"datasets/{name}")
        assert set(d["findings"]) == set(new["datasets"][name]["findings"])
