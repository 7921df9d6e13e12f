"""Behaviour stays: the transfer study's numbers equal those saved before the refactor (tests/golden).

``tests/golden/transfer.json`` is the ``results.json`` of ``nichelab run transfer --quick`` at commit
9b35ee5. Every number of the old layout is kept: ``config`` (the old fields), ``seeds``,
``init_offset``, ``margin``, ``tasks`` and every architecture's record — base networks, curves, every
cell per seed, CKA — except its ``timings`` (seconds, which differ from run to run).

Words changed with issue 12 and are not compared word for word: ``summary`` and each architecture's
``findings`` (they now define the terms first, answer "general or domain-specific?" and call a
difference only when its 95% interval over seeds excludes zero, instead of twice its standard
error) and the effects' ``here``/``shows`` (same rule). The effects' names and the paper's numbers are.
"""

KEYS = ("config", "seeds", "init_offset", "margin", "tasks")
WORDS = ("timings", "findings", "effects")


def test_transfer_numbers_unchanged(golden):
    old = golden.load("transfer")
    new = golden.run("transfer", quick=True)
    for key in KEYS:
        golden.assert_same(old[key], new[key], key)
    assert len(old["architectures"]) == len(new["architectures"])
    for a, b in zip(old["architectures"], new["architectures"]):
        for key, value in a.items():
            if key not in WORDS:
                golden.assert_same(value, b[key], f"architectures/{a['model']}/{key}")
        assert [(e["name"], e["paper"]) for e in a["effects"]] == [(e["name"], e["paper"]) for e in b["effects"]]
        assert set(a["findings"]) <= set(b["findings"])
