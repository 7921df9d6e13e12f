"""Behaviour stays: the hierarchy study's numbers equal those saved before the refactor (tests/golden).

Every key of the old ``results.json`` is compared (numbers to 1e-9 relative, words exactly),
except the run's own timings, versions, time and command line.
"""

_PER_RUN = ("timings", "versions", "created", "command")


def test_hierarchy_numbers_unchanged(golden):
    old = golden.load("hierarchy")
    new = golden.run("hierarchy", seeds=1, epochs=2, per_class=30, featvis_steps=5, model="cnn 4-8 fc=16")
    for key in old:
        if key not in _PER_RUN:
            golden.assert_same(old[key], new[key], key)
