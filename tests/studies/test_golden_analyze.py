"""The analyze study's numbers equal those saved before the refactor (tests/golden/analyze.json).

Reruns ``nichelab analyze --dataset digits --model "mlp 16-8" --epochs 3`` through the library and
compares every key of the old results.json, under the same names (the layout of the study's own
keys did not change). Timings are not numbers of the study: the envelope's ``timings`` and
``training/seconds`` are left out.
"""

ENVELOPE = ("schema_version", "study", "versions", "timings", "command", "created")


def test_analyze_numbers_unchanged(golden):
    old = golden.load("analyze")
    new = golden.run("analyze", dataset="digits", model="mlp 16-8", epochs=3)
    old["training"].pop("seconds")
    for key in old:
        if key not in ENVELOPE:
            golden.assert_same(old[key], new[key], key)
