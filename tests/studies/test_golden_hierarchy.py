"""Behaviour stays: the hierarchy study's numbers equal those saved before the refactor (tests/golden).

Every key of the old ``results.json`` is compared (numbers to 1e-9 relative, words exactly),
except the run's own timings, versions, time and command line, and the words issue 12 changed:

- ``findings["summary"]`` (it now opens with "did 'edges, then parts, then objects' hold?", each stage
  against the untrained network with unit counts and 95% intervals) and ``verdict["story"]`` (it no
  longer claims every stage beats the untrained network; the new ``verdict["controls"]`` says whether
  each does);
- the per-section sentences ``findings["edges" | "parts" | "objects" | "featvis"]`` and each stage's
  ``text`` in ``verdict["stages"]``: every share of units now carries its count and 95% interval, and a difference
  from the untrained network (or between layers) is called one only when its interval excludes zero.
  Each stage's name, layer and verdict are still compared.
"""

_PER_RUN = ("timings", "versions", "created", "command")
_CHANGED = {"findings": ("summary", "edges", "parts", "objects", "featvis"), "verdict": ("story", "stages")}


def test_hierarchy_numbers_unchanged(golden):
    old = golden.load("hierarchy")
    new = golden.run("hierarchy", seeds=1, epochs=2, per_class=30, featvis_steps=5, model="cnn 4-8 fc=16")
    for key in old:
        if key in _CHANGED:
            kept = {k: v for k, v in old[key].items() if k not in _CHANGED[key]}
            golden.assert_same(kept, new[key], key)
            assert set(_CHANGED[key]) <= set(new[key])
        elif key not in _PER_RUN:
            golden.assert_same(old[key], new[key], key)
    stages = [{k: v for k, v in s.items() if k != "text"} for s in old["verdict"]["stages"]]
    golden.assert_same(stages, [{k: v for k, v in s.items() if k != "text"} for s in new["verdict"]["stages"]],
                       "verdict/stages")
