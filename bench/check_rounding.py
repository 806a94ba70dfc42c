#!/usr/bin/env python3
"""Compare tinyml's quantization integers with PyTorch 1.13's on many random tensors.

    cmake --build build --target quantize_ints
    /usr/bin/python3 bench/check_rounding.py [--tensors 3000] [--seed 0] [--program build/bin/quantize_ints]

For each tensor (random length, scale and offset, values rounded to a few decimals so that ties
occur), in uint8 and int8 affine: PyTorch's MinMaxObserver qparams, quantize_per_tensor integers
and fake_quantize_per_tensor_affine values against tinyml's choose_qparams, QTensor::quantize and
fake_quantize (printed by bench/quantize_ints). Prints the counts of differences; exit status 1
if any.
"""
import argparse
import subprocess
import sys

import torch
from torch.ao.quantization.observer import MinMaxObserver


def random_tensors(n, seed):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n):
        length = int(torch.randint(1, 200, (1,), generator=g))
        spread = float(10 ** torch.empty(1).uniform_(-4, 2, generator=g))
        offset = float(torch.randn(1, generator=g)) * spread
        x = torch.randn(length, generator=g) * spread + offset
        decimals = int(torch.randint(2, 6, (1,), generator=g))
        yield torch.round(x * 10**decimals) / 10**decimals


def compare(program, tensors, seed):
    """Counts of differences between tinyml (bench/quantize_ints at `program`) and PyTorch."""
    cases = [(x, dt) for x in random_tensors(tensors, seed) for dt in (torch.quint8, torch.qint8)]
    lines = "".join(f"{int(dt == torch.qint8)} " + " ".join(f"{v:.9g}" for v in x.tolist()) + "\n"
                    for x, dt in cases)
    out = subprocess.run([program], input=lines, capture_output=True, text=True, check=True).stdout.splitlines()
    counts = {"tensors": len(cases), "elements": 0, "qparams": 0, "integers": 0, "fake_quantize": 0}

    def f32(v):
        return torch.tensor(v, dtype=torch.float32).item()

    for k, (x, dt) in enumerate(cases):
        head = out[2 * k].split()
        s_t, z_t, q_t = float(head[0]), int(head[1]), [int(v) for v in head[2:]]
        fq_t = torch.tensor([float(v) for v in out[2 * k + 1].split()])
        obs = MinMaxObserver(dtype=dt)
        obs(x)
        s, z = obs.calculate_qparams()
        s, z = s.item(), int(z)
        counts["qparams"] += int(f32(s) != f32(s_t) or z != z_t)
        q = torch.quantize_per_tensor(x, s, z, dt).int_repr().int().tolist()
        lo, hi = (0, 255) if dt == torch.quint8 else (-128, 127)
        fq = torch.fake_quantize_per_tensor_affine(x, s, z, lo, hi)
        counts["integers"] += sum(int(p != t) for p, t in zip(q, q_t))
        counts["fake_quantize"] += int((fq != fq_t).sum())
        counts["elements"] += len(q)
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tensors", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--program", default="build/bin/quantize_ints")
    a = ap.parse_args()
    c = compare(a.program, a.tensors, a.seed)
    print(f"{c['tensors']} tensors ({a.tensors} × uint8, int8 affine), {c['elements']} elements")
    print(f"qparams differing from MinMaxObserver's: {c['qparams']} of {c['tensors']}")
    print(f"integers differing from quantize_per_tensor's: {c['integers']} of {c['elements']}")
    print(f"values differing from fake_quantize_per_tensor_affine's: {c['fake_quantize']} of {c['elements']}")
    return 1 if c["qparams"] or c["integers"] or c["fake_quantize"] else 0


if __name__ == "__main__":
    sys.exit(main())
