"""The width study's numbers equal those saved before the refactor (tests/golden/width.json).

Made with ``nichelab run width --seeds 2 --widths 1,2,4 --data blobs --epochs 20`` at 9b35ee5;
the old ``--epochs`` set the config's ``blobs_epochs`` and ``digits_epochs``, which are now the
one field ``epochs``. Every other key is compared under its old name.
"""


def test_width_numbers_unchanged(golden):
    old = golden.load("width")
    new = golden.run("width", seeds=2, widths=(1, 2, 4), data=("blobs",), epochs=20)
    config = dict(old["config"])
    assert config.pop("blobs_epochs") == config.pop("digits_epochs") == new["config"]["epochs"]
    golden.assert_same(config, new["config"], "config")
    for key in ("seeds", "datasets"):   # every number and finding, per dataset, width and seed
        golden.assert_same(old[key], new[key], key)
