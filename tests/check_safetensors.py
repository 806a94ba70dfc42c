#!/usr/bin/env python3
"""Reads a .safetensors file with nothing but the format's specification (json + struct), checks
its layout, and rebuilds each tensor with torch when it is available (else numpy).

Used by hand to confirm that files tinyml writes are readable elsewhere; the C++ tests do not need it.

    python3 tests/check_safetensors.py model.safetensors
"""
import json
import struct
import sys

DTYPES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "I16": 2, "F16": 2,
          "BF16": 2, "U32": 4, "I32": 4, "F32": 4, "U64": 8, "I64": 8, "F64": 8}
TORCH = {"U8": "uint8", "I8": "int8", "I16": "int16", "I32": "int32", "I64": "int64",
         "F16": "float16", "BF16": "bfloat16", "F32": "float32", "F64": "float64", "BOOL": "bool"}


def main(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0, f"header length {n} is not a multiple of 8"
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    meta = header.pop("__metadata__", {})
    entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"])
    pos = 0
    try:
        import torch
    except ImportError:
        torch = None
    import numpy as np
    for name, info in entries:
        begin, end = info["data_offsets"]
        assert begin == pos, f"{name}: starts at {begin}, expected {pos}"
        count = 1
        for d in info["shape"]:
            count *= d
        size = DTYPES[info["dtype"]]
        assert end - begin == count * size, f"{name}: {end - begin} bytes for {count} elements"
        assert (8 + n + begin) % size == 0, f"{name}: not aligned to {size} bytes"
        raw = body[begin:end]
        if torch is not None and info["dtype"] in TORCH and count > 0:
            t = torch.frombuffer(bytearray(raw), dtype=getattr(torch, TORCH[info["dtype"]]))
            t = t.reshape(info["shape"])
        else:
            t = np.frombuffer(raw, dtype=np.dtype(TORCH.get(info["dtype"], "uint8")).newbyteorder("<"))
            t = t.reshape(info["shape"])
        print(f"{name}: {info['dtype']} {list(info['shape'])} {t.flatten()[:6].tolist()}")
        pos = end
    assert pos == len(body), f"{len(body) - pos} trailing bytes"
    print(f"metadata: {meta}")
    print(f"OK: {len(entries)} tensors, {len(body)} data bytes"
          f" (read with {'torch ' + torch.__version__ if torch else 'numpy'})")


if __name__ == "__main__":
    main(sys.argv[1])
