"""Keyed dropout masks: a reference implementation, their statistics, and the module hooks."""
import numpy as np
import pytest
import torch
from torch import nn

from nichelab.errors import NichelabError
from nichelab.train.masks import dropout_modules, dropout_noise, dropout_uniform, keyed_dropout

M32 = np.uint64(0xFFFFFFFF)


def _mix_ref(x):
    """T. Mueller's hash32 on uint64 numpy values (independent of the torch int64 code)."""
    x = np.asarray(x, dtype=np.uint64)
    c, s16 = np.uint64(0x045D9F3B), np.uint64(16)
    x = (((x >> s16) ^ x) * c) & M32
    x = (((x >> s16) ^ x) * c) & M32
    return (x >> s16) ^ x


def _uniform_ref(seed, step, layer, numel):
    s = np.uint64(seed)
    k = _mix_ref((s & M32) ^ np.uint64(0x2545F491))
    k = _mix_ref(k ^ ((s >> np.uint64(32)) & M32))
    k = _mix_ref(k ^ np.uint64(step & 0xFFFFFFFF))
    k = _mix_ref(k ^ np.uint64(step >> 32))
    k = _mix_ref(k ^ np.uint64(layer))
    e = _mix_ref(np.arange(numel, dtype=np.uint64))
    return _mix_ref((e + k) & M32)


@pytest.mark.parametrize("seed,step,layer", [(0, 0, 0), (7, 123, 2), (2**40 + 5, 2**33 + 1, 1)])
def test_uniform_matches_numpy_reference(seed, step, layer):
    got = dropout_uniform([seed], step, layer, 257)[0].numpy().astype(np.uint64)
    np.testing.assert_array_equal(got, _uniform_ref(seed, step, layer, 257))


def test_keep_rate_and_values():
    p = 0.3
    noise = dropout_noise(list(range(50)), step=3, layer=0, shape=(64, 32), p=p)
    assert noise.shape == (50, 64, 32)
    values = noise.unique().tolist()
    assert values[0] == 0.0 and values[1] == pytest.approx(1 / 0.7) and len(values) == 2
    keep = (noise > 0).double().mean().item()
    assert abs(keep - 0.7) < 0.01                  # 102400 draws: sd about 0.0014
    assert torch.all(dropout_noise([1], 0, 0, (4, 4), 0.0) == 1)


def test_masks_independent_across_seeds_steps_layers_and_units():
    base = dropout_noise([5], 10, 0, (256, 16), 0.5)[0] > 0
    others = [dropout_noise([6], 10, 0, (256, 16), 0.5)[0], dropout_noise([5], 11, 0, (256, 16), 0.5)[0],
              dropout_noise([5], 10, 1, (256, 16), 0.5)[0]]
    for other in others:
        agree = (base == (other > 0)).double().mean().item()
        assert 0.45 < agree < 0.55                    # independent fair coins agree half the time
    # units of one sample: not copies of each other
    cols = base.double()
    corr = np.corrcoef(cols.T.numpy())
    off = corr[~np.eye(16, dtype=bool)]
    assert np.abs(off).max() < 0.3


def test_same_key_same_mask():
    a = dropout_noise([3, 4], 9, 1, (8, 5), 0.25)
    b = dropout_noise([4], 9, 1, (8, 5), 0.25)
    assert torch.equal(a[1], b[0])


def test_keyed_dropout_hooks_removed_and_flags_restored_on_error():
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2)).train()
    with pytest.raises(RuntimeError):
        with keyed_dropout(model, [0]) as ctrl:
            assert model[1].training is False
            out = model(torch.ones(2, 3))
            assert out.shape == (2, 2)
            raise RuntimeError("boom")
    assert model[1].training is True
    assert not model[1]._forward_hooks


def test_keyed_dropout_applies_the_keyed_mask():
    model = nn.Sequential(nn.Identity(), nn.Dropout(0.4)).train()
    x = torch.ones(6, 10)
    with keyed_dropout(model, [11]) as ctrl:
        ctrl.step = 5
        out = model(x)
    np.testing.assert_array_equal(out.numpy(), dropout_noise([11], 5, 0, (6, 10), 0.4)[0].numpy())


def test_other_dropout_kinds_are_rejected():
    with pytest.raises(NichelabError, match="nn.Dropout only"):
        dropout_modules(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Dropout2d(0.2)))
