"""Trains a small MLP with PyTorch 1.13 and exports it with torch.onnx.export (the producer side of
scripts/check-interop.sh).

Usage: torch_mlp.py TRAIN_PREFIX TEST_PREFIX OUT.onnx OUT_LOGITS.f32
  reads PREFIX.x.f32 / PREFIX.y.i32 (written by interop_dump), trains nn.Sequential(Linear 784-128,
  ReLU, Linear 128-64, Tanh, Linear 64-10) for one epoch of Adam, exports it (opset 13, dynamic
  batch) and writes its logits on the test inputs.
"""
import sys

import numpy as np
import torch
from torch import nn


def load(prefix):
    y = np.fromfile(prefix + ".y.i32", dtype=np.int32)
    x = np.fromfile(prefix + ".x.f32", dtype=np.float32).reshape(len(y), -1)
    return torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))


def main():
    train_prefix, test_prefix, onnx_path, logits_path = sys.argv[1:5]
    torch.manual_seed(0)
    torch.set_num_threads(1)
    x, y = load(train_prefix)
    model = nn.Sequential(nn.Linear(x.shape[1], 128), nn.ReLU(), nn.Linear(128, 64), nn.Tanh(), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = torch.randperm(len(y))
    for i in range(0, len(y), 128):
        idx = order[i:i + 128]
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
    model.eval()
    xt, yt = load(test_prefix)
    torch.onnx.export(model, xt[:1], onnx_path, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, opset_version=13)
    with torch.no_grad():
        logits = model(xt)
    logits.numpy().astype(np.float32).tofile(logits_path)
    acc = 100.0 * (logits.argmax(1) == yt).float().mean().item()
    print(f"torch: trained 784-128-64-10 (ReLU, Tanh) on {len(y)} examples, test accuracy {acc:.2f}%")


if __name__ == "__main__":
    main()
