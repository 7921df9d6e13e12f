"""Behaviour stays: the convergence study's numbers equal those saved before the refactor.

Settings of tests/golden/convergence.json: ``nichelab run convergence --seeds 2 --epochs 3
--model "mlp 16-16"``. Every key of the old results.json is compared except ``timings``,
``versions``, ``created``, ``command`` (the run's own) and ``findings`` (the sentences now format
numbers with :func:`nichelab.studies.text.num`, three significant digits instead of two decimals;
the numbers they quote are compared under ``layers``, ``identification`` ...).
"""
SKIP = {"timings", "versions", "created", "command", "findings", "study"}


def test_convergence_numbers_unchanged(golden):
    old = golden.load("convergence")
    new = golden.run("convergence", seeds=2, epochs=3, model="mlp 16-16")
    assert new["study"] == "convergence"
    for key in old:
        if key not in SKIP:
            golden.assert_same(old[key], new[key], key)
    # the findings without numbers in them are unchanged word for word
    for key in ("thresholds", "counterparts_first_seed"):
        golden.assert_same(old["findings"][key], new["findings"][key], f"findings/{key}")
    assert set(old["findings"]) == set(new["findings"])
