"""Bring-your-own-model benchmark: capture + per-unit census of a ResNet-style CNN (~1M parameters) and a
4-layer BERT-style model (hidden 256), 10,000 samples each. Records wall time and peak RSS.

    PYTHONPATH=src python benchmarks/bench_byom.py [--n 10000]

Each model runs in its own subprocess so that peak RSS is that model's alone.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402


def _resnet():
    from torch import nn

    class Block(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.relu = nn.ReLU()                          # reused: relu and relu#1
            self.down = (nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
                         if stride != 1 or c_in != c_out else nn.Identity())

        def forward(self, x):
            h = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(h)) + self.down(x))

    class ResNet(nn.Module):
        def __init__(self, widths=(32, 64, 160), n_classes=10):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
            layers, c = [], widths[0]
            for i, w in enumerate(widths):
                layers += [Block(c, w, 1 if i == 0 else 2), Block(w, w, 1)]
                c = w
            self.layers = nn.Sequential(*layers)
            self.pool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(c, n_classes)

        def forward(self, x):
            return self.fc(self.pool(self.layers(self.stem(x))).flatten(1))

    return ResNet()


def _bert():
    from transformers import BertConfig, BertForSequenceClassification
    cfg = BertConfig(vocab_size=2000, hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                     intermediate_size=1024, num_labels=4, max_position_embeddings=64)
    return BertForSequenceClassification(cfg)


def run_one(kind: str, n: int) -> dict:
    import numpy as np
    import torch

    from nichelab.capture import capture, default_layers
    from nichelab.studies.analyze.census import census_layer
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4 if kind == "bert" else 10, size=n)
    if kind == "resnet":
        model = _resnet().eval()
        inputs = rng.normal(size=(n, 3, 32, 32)).astype(np.float32)
        layers = [name for name, m in model.named_modules() if name.endswith("relu")] + ["stem.2"]
        kwargs = {"reduce": "mean"}
    else:
        from nichelab.nn.hf import wrap_hf
        model = wrap_hf(_bert())
        seq = 32
        ids = rng.integers(1, 2000, size=(n, seq))
        mask = np.ones((n, seq), np.int64)
        lengths = rng.integers(8, seq + 1, size=n)
        mask[np.arange(seq)[None, :] >= lengths[:, None]] = 0
        inputs = {"input_ids": ids * mask, "attention_mask": mask}
        layers = default_layers(model)
        kwargs = {}
    params = sum(p.numel() for p in model.parameters())
    t0 = time.perf_counter()
    acts = capture(model, inputs, layers, batch_size=256, **kwargs)
    t_cap = time.perf_counter() - t0
    t1 = time.perf_counter()
    n_classes = int(y.max()) + 1
    for name, a in acts.items():
        census_layer(name, a, y, n_classes, raw_shape=a.shape[1:], module_type="?", reduce=kwargs.get("reduce"),
                     threshold=0.9, k=5)
    t_cen = time.perf_counter() - t1
    return {"model": kind, "parameters": int(params), "samples": n, "layers": len(acts),
            "units": int(sum(a.shape[1] for a in acts.values())), "capture_s": round(t_cap, 2),
            "census_s": round(t_cen, 2), "total_s": round(t_cap + t_cen, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "torch_threads": torch.get_num_threads()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--one", choices=["resnet", "bert"])
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.n)))
        return
    rows = []
    for kind in ("resnet", "bert"):
        out = subprocess.run([sys.executable, __file__, "--one", kind, "--n", str(args.n)], capture_output=True,
                             text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    cols = ["model", "parameters", "samples", "layers", "units", "capture_s", "census_s", "total_s", "peak_rss_mb"]
    print(" | ".join(f"{c:>11}" for c in cols))
    for r in rows:
        print(" | ".join(f"{str(r[c]):>11}" for c in cols))
    print(save("byom", {"rows": rows}))


if __name__ == "__main__":
    main()
