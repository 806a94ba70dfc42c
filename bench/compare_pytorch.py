#!/usr/bin/env python3
"""Runs the reference workload in PyTorch and in tinyml on this machine and prints the ratios.

The workload (DESIGN.md): MLP 784-256-128-10 with ReLU, Adam 1e-3, batch 128 on Fashion-MNIST,
one thread; plus a 256x1024x1024 fp32 matrix multiply and an nn.Linear(1024, 1024) forward on a
batch of 256. tinyml's side is `tinyml bench --suite core --json --threads 1 --repeat EPOCHS`, so
both train the same number of epochs and report the median epoch time and the accuracy after them.

Usage: /usr/bin/python3 bench/compare_pytorch.py [--tinyml build/bin/tinyml] [--epochs 5] [--json]
Needs PyTorch (Debian's python3-torch); reads the dataset with gzip + struct (no torchvision).
"""

import argparse
import gzip
import json
import os
import platform
import statistics
import struct
import subprocess
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_idx(path):
    """An unsigned-byte IDX file (raw or .gz) as (dims, bytes)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(f">{rank}I", data[4 : 4 + 4 * rank])
    return dims, data[4 + 4 * rank :]


def find(root, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(root, name)):
            return os.path.join(root, name)
    raise FileNotFoundError(f"{stem}[.gz] not found in {root} (install dataset-fashion-mnist)")


def load_split(root, split):
    dims, pixels = read_idx(find(root, f"{split}-images-idx3-ubyte"))
    _, labels = read_idx(find(root, f"{split}-labels-idx1-ubyte"))
    x = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(dims[0], dims[1] * dims[2])
    y = torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()
    return x.float() / 255.0, y


def seconds_per_call(fn, repeat, min_seconds=0.2):
    """Same method as tinyml's bench: one warm-up call, then the median over `repeat` measurements,
    each calling fn until min_seconds have passed."""
    fn()
    per_call = []
    for _ in range(max(1, repeat)):
        calls, start = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        per_call.append(elapsed / calls)
    return statistics.median(per_call)


def run_pytorch(root, epochs, repeat):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    out = {}

    a, b = torch.rand(256, 1024), torch.rand(1024, 1024)
    s = seconds_per_call(lambda: torch.mm(a, b), repeat)
    out["sgemm_256x1024x1024"] = 2.0 * 256 * 1024 * 1024 / s / 1e9

    layer, x = torch.nn.Linear(1024, 1024), torch.randn(256, 1024)
    with torch.no_grad():
        out["linear_1024x1024_b256_forward"] = seconds_per_call(lambda: layer(x), repeat) * 1e3

    train_x, train_y = load_split(root, "train")
    test_x, test_y = load_split(root, "t10k")
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(0)
    epoch_s = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(train_x.shape[0], generator=gen)
        for i in range(0, train_x.shape[0], 128):
            idx = order[i : i + 128]
            optimizer.zero_grad()
            loss = loss_fn(model(train_x[idx]), train_y[idx])
            loss.backward()
            optimizer.step()
        epoch_s.append(time.perf_counter() - start)
    out["mlp_train_epoch"] = statistics.median(epoch_s)

    model.eval()
    with torch.no_grad():
        correct = 0
        for i in range(0, test_x.shape[0], 1000):
            correct += (model(test_x[i : i + 1000]).argmax(1) == test_y[i : i + 1000]).sum().item()
        out["mlp_test_acc"] = 100.0 * correct / test_x.shape[0]
        images = test_x[:1000]
        out["mlp_infer_1000"] = seconds_per_call(lambda: model(images), repeat) * 1e3
    return out


def run_tinyml(binary, epochs):
    cmd = [binary, "bench", "--suite", "core", "--json", "--threads", "1", "--repeat", str(epochs)]
    result = subprocess.run(cmd, check=True, capture_output=True, text=True)
    report = json.loads(result.stdout)
    return report["machine"], {r["name"]: r["value"] for r in report["results"]}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# (key, label, unit, higher_is_better)
ROWS = [
    ("sgemm_256x1024x1024", "sgemm 256x1024x1024", "GFLOP/s", True),
    ("linear_1024x1024_b256_forward", "Linear 1024->1024, batch 256", "ms", False),
    ("mlp_train_epoch", "MLP training epoch", "s", False),
    ("mlp_test_acc", "test accuracy after the epochs", "%", True),
    ("mlp_infer_1000", "MLP inference, 1000 images", "ms", False),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tinyml", default=os.path.join(ROOT, "build", "bin", "tinyml"))
    parser.add_argument("--data", default=os.environ.get("TINYML_FASHION_MNIST_DIR") or
                        "/usr/share/datasets/fashion-mnist")
    parser.add_argument("--epochs", type=int, default=5, help="epochs trained by each (default 5)")
    parser.add_argument("--repeat", type=int, default=5, help="measurements per micro-benchmark")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    machine, tinyml = run_tinyml(args.tinyml, args.epochs)
    torch_results = run_pytorch(args.data, args.epochs, args.repeat)

    rows = []
    for key, label, unit, higher in ROWS:
        p, t = torch_results.get(key), tinyml.get(key)
        if p is None or t is None:
            continue
        if unit == "%":
            ratio = t - p  # accuracy: the difference in points
        else:
            ratio = t / p if higher else p / t  # > 1: tinyml is faster
        rows.append({"name": key, "label": label, "unit": unit, "pytorch": p, "tinyml": t, "ratio": ratio})

    if args.json:
        print(json.dumps({"machine": {"cpu": cpu_model(), "torch": torch.__version__, "tinyml": machine},
                          "epochs": args.epochs, "rows": rows}))
        return
    print(f"machine  {cpu_model()}, PyTorch {torch.__version__} (1 thread), tinyml: {machine['blas']}")
    if machine.get("blas_warning"):
        print(f"warning  {machine['blas_warning']}")
    print(f"workload MLP 784-256-128-10, Adam 1e-3, batch 128, {args.epochs} epochs, Fashion-MNIST\n")
    print(f"{'':34} {'PyTorch':>10} {'tinyml':>10}  {'tinyml vs PyTorch':<20}")
    for r in rows:
        if r["unit"] == "%":
            verdict = f"{r['ratio']:+.2f} points"
        else:
            verdict = f"{r['ratio']:.2f}x {'faster' if r['ratio'] >= 1 else 'slower'}"
        print(f"{r['label'] + ' (' + r['unit'] + ')':34} {r['pytorch']:>10.3f} {r['tinyml']:>10.3f}  {verdict}")


if __name__ == "__main__":
    sys.exit(main())
