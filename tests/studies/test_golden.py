"""Behaviour stays: each study's numbers equal those saved before the refactor (tests/golden).

Each case reruns the study with the settings of its golden file and compares the numbers the
old ``results.json`` held (under their old keys) with the new result's ``to_dict()``. Floats are
compared to 1e-9 relative (training on CPU with the same seeds gives the same numbers; the
tolerance only absorbs summation-order differences in derived statistics).
"""


def test_lab_numbers_unchanged(golden):
    old = golden.load("lab")
    new = golden.run("lab", seeds=8, epochs=30)
    for key in ("seeds", "summary", "loss_curves"):
        golden.assert_same(old[key], new[key], key)
    for a, b in zip(old["per_seed"], new["per_seed"]):
        golden.assert_same(a, b, f"per_seed/{a['seed']}")
