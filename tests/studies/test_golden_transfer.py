"""Behaviour stays: the transfer study's numbers equal those saved before the refactor (tests/golden).

``tests/golden/transfer.json`` is the ``results.json`` of ``nichelab run transfer --quick`` at commit
9b35ee5. Every key of the old layout is kept: ``config`` (the old fields), ``seeds``,
``init_offset``, ``margin``, ``tasks``, ``summary`` (words included) and every architecture's
record — base networks, curves, every cell per seed, CKA, effects and findings — except its
``timings`` (seconds, which differ from run to run).
"""

KEYS = ("config", "seeds", "init_offset", "margin", "tasks", "summary")


def test_transfer_numbers_unchanged(golden):
    old = golden.load("transfer")
    new = golden.run("transfer", quick=True)
    for key in KEYS:
        golden.assert_same(old[key], new[key], key)
    assert len(old["architectures"]) == len(new["architectures"])
    for a, b in zip(old["architectures"], new["architectures"]):
        for key, value in a.items():
            if key != "timings":
                golden.assert_same(value, b[key], f"architectures/{a['model']}/{key}")
