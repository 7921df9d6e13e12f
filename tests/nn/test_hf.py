"""Hugging Face models: a tiny randomly initialised BERT built from a config (no download)."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from nichelab.capture import capture, default_layers
from nichelab.errors import NichelabError

pytestmark = pytest.mark.skipif(importlib.util.find_spec("transformers") is None, reason="needs nichelab[hf]")


@pytest.fixture(scope="module")
def bert():
    from transformers import BertConfig, BertForSequenceClassification
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=24, num_labels=3, max_position_embeddings=16)
    return BertForSequenceClassification(cfg).eval()


def _tokens(n=9, seq=6, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 40, size=(n, seq))
    mask = np.ones((n, seq), np.int64)
    lengths = rng.integers(2, seq + 1, size=n)
    for i, L in enumerate(lengths):
        mask[i, L:] = 0
        ids[i, L:] = 0
    return {"input_ids": ids, "attention_mask": mask}


def test_default_layers_are_blocks_and_mlp_activations(bert):
    from nichelab.nn.hf import wrap_hf
    expected = ["bert.encoder.layer.0", "bert.encoder.layer.0.intermediate.intermediate_act_fn",
                "bert.encoder.layer.1", "bert.encoder.layer.1.intermediate.intermediate_act_fn"]
    assert default_layers(bert) == expected
    assert default_layers(wrap_hf(bert)) == expected


def test_units_are_hidden_size_and_mask_aware_mean(bert):
    from nichelab.nn.hf import wrap_hf
    inputs = _tokens()
    ids, mask = (torch.from_numpy(inputs[k]) for k in ("input_ids", "attention_mask"))
    with torch.no_grad():
        out = bert(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    h1 = out.hidden_states[1].double().numpy()                       # block 0's output (n, seq, 16)
    m = inputs["attention_mask"][..., None]
    ref_mean = (h1 * m).sum(1) / m.sum(1)
    for model in (bert, wrap_hf(bert)):                                # the raw model and the wrapper
        acts = capture(model, inputs, batch_size=4)
        assert acts["bert.encoder.layer.0"].shape == (9, 16)
        assert acts["bert.encoder.layer.0.intermediate.intermediate_act_fn"].shape == (9, 24)
        np.testing.assert_allclose(acts["bert.encoder.layer.0"], ref_mean, rtol=1e-4, atol=1e-5)
    first = capture(bert, inputs, ["bert.encoder.layer.0"], tokens="first")["bert.encoder.layer.0"]
    np.testing.assert_allclose(first, h1[:, 0], rtol=1e-4, atol=1e-5)
    every = capture(bert, inputs, ["bert.encoder.layer.0"], tokens="all")["bert.encoder.layer.0"]
    assert every.shape == (9, 16, 6)
    # reduce="mean" without token inputs: units stay the hidden size, never averaged away
    ids_only = capture(bert, inputs["input_ids"], ["bert.encoder.layer.0.output.dense"], reduce="mean")
    assert ids_only["bert.encoder.layer.0.output.dense"].shape == (9, 16)


def test_iterable_of_tokenizer_style_dicts(bert):
    inputs = _tokens()
    batches = [{k: torch.from_numpy(v[i:i + 3]) for k, v in inputs.items()} for i in range(0, 9, 3)]
    a = capture(bert, batches, ["bert.encoder.layer.1"])["bert.encoder.layer.1"]
    b = capture(bert, inputs, ["bert.encoder.layer.1"])["bert.encoder.layer.1"]
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_save_pretrained_folder_loads_safely_and_ablates(bert, tmp_path):
    from nichelab.interventions import ablate_units
    from nichelab.nn.loading import load_model
    bert.save_pretrained(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.kind == "hf"
    inputs = _tokens(n=12)
    with torch.no_grad():
        logits = loaded.module(**{k: torch.from_numpy(v) for k, v in inputs.items()})
        ref = bert(**{k: torch.from_numpy(v) for k, v in inputs.items()}).logits
    np.testing.assert_allclose(logits.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    y = logits.argmax(1).numpy()
    res = ablate_units(loaded.module, "bert.encoder.layer.1.intermediate.intermediate_act_fn", inputs, y,
                       units=[0, 5])
    assert res.baseline_acc == 1.0 and res.units.tolist() == [0, 5]
    # reference: zero intermediate unit 5 of block 1 at every token by hand
    act = bert.bert.encoder.layer[1].intermediate.intermediate_act_fn
    h = act.register_forward_hook(lambda m, a, o: o.index_fill(-1, torch.tensor([5]), 0.0))
    try:
        with torch.no_grad():
            ab = bert(**{k: torch.from_numpy(v) for k, v in inputs.items()}).logits.argmax(1).numpy()
    finally:
        h.remove()
    assert res.acc[1] == pytest.approx(np.mean(ab == y))


def test_pickled_weights_refused(tmp_path, bert):
    folder = tmp_path / "p"
    bert.save_pretrained(folder)
    (folder / "model.safetensors").unlink()
    torch.save(bert.state_dict(), folder / "pytorch_model.bin")
    from nichelab.nn.loading import load_model
    with pytest.raises(NichelabError, match="no .safetensors weights.*--trust-pickle"):
        load_model(folder)
