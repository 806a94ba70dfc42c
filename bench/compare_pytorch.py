#!/usr/bin/env python3
"""Runs tinyml's benchmark workloads and the same workloads in PyTorch, and prints the ratios.

One invocation runs `tinyml bench --suite all --json` and then, in this process, the same
workloads in PyTorch, timed the same way:

  * fp32 GEMM 256x1024x1024 (torch.mm) and nn.Linear(1024, 1024) on a batch of 256 and of 1;
  * that Linear quantized: dynamic int8 (torch.ao.quantization.quantize_dynamic with int8 weights
    per output channel, as tinyml's; batch 256 and 1) and static int8 (QuantWrapper, the engine's
    default qconfig: per-channel weights, histogram observer; float in and float out as in tinyml);
  * the reference MLP 784-256-128-10 (ReLU): inference on 1000 test images in fp32, dynamic int8
    and static int8 (Linear+ReLU fused, as tinyml fuses them); one training epoch (Adam 1e-3,
    batch 128, cross-entropy) on Fashion-MNIST, and the test accuracy after the epochs;
  * the size of the model's state as a file: torch.save(state_dict) against tinyml's
    io::save_model file, fp32 and dynamic int8.
  * tiny models: one Adam step (zero_grad, forward, CrossEntropyLoss, backward, step) of the XOR
    MLP 2-8-2 on its 4 points and of the spirals MLP 2-64-64-3 on 600 points (tinyml bench's
    "tiny" suite); and, when bench/quantize_ints is built next to --tinyml, whether tinyml's
    quantized integers equal PyTorch's on 500 random tensors (bench/check_rounding.py).

Timing (both sides): warm-up calls for a tenth of --min-time (at least one), then single timed
calls until there are at least --repeat of them and --min-time seconds have passed; the median and
the fastest call are reported. The training figure is the median and the fastest of --repeat
epochs of one model. One thread by default on both sides (torch.set_num_threads, tinyml --threads).
Both sides run with the same OPENBLAS_CORETYPE: by default the variable is removed, so that
OpenBLAS (which PyTorch's fp32 GEMMs use too) picks the kernels of this CPU (--openblas-core).

The ratio is tinyml's cost over PyTorch's (time, or size; for a throughput PyTorch's over
tinyml's), so below 1 tinyml wins. It is given from the medians and from the fastest calls; a
side "wins" when both agree by more than 3 % (1 % for sizes), otherwise the row says "even".

Usage: /usr/bin/python3 bench/compare_pytorch.py [--tinyml build/bin/tinyml] [--repeat 5]
         [--min-time 0.5] [--threads 1] [--openblas-core detect] [--json | --markdown]
         [--save FILE] [--quick]
PyTorch is optional: without it the script prints tinyml's figures alone and exits with status 0.
The dataset is read with gzip + struct (no torchvision); without it both sides use random data of
Fashion-MNIST's shape (same arithmetic, no accuracy).
"""

import argparse
import copy
import gzip
import io
import json
import os
import platform
import statistics
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (key, label, kind): kind "time" (lower is better), "rate" (higher is better), "size" (lower is
# better), "acc" (a difference in points, no winner).
ROWS = [
    ("sgemm_256x1024x1024", "fp32 GEMM 256×1024×1024 (GFLOP/s)", "rate"),
    ("linear_256x1024x1024_fp32", "Linear 1024→1024, batch 256, fp32 (ms)", "time"),
    ("linear_256x1024x1024_dynamic_int8", "Linear 1024→1024, batch 256, dynamic int8 (ms)", "time"),
    ("linear_256x1024x1024_static_int8", "Linear 1024→1024, batch 256, static int8 (ms)", "time"),
    ("linear_b1_fp32", "Linear 1024→1024, batch 1, fp32 (ms)", "time"),
    ("linear_b1_dynamic_int8", "Linear 1024→1024, batch 1, dynamic int8 (ms)", "time"),
    ("mlp_infer_1000_fp32", "MLP inference, 1000 images, fp32 (ms)", "time"),
    ("mlp_infer_1000_dynamic_int8", "MLP inference, 1000 images, dynamic int8 (ms)", "time"),
    ("mlp_infer_1000_static_int8", "MLP inference, 1000 images, static int8 (ms)", "time"),
    ("mlp_train_epoch", "MLP training epoch, Adam, batch 128 (s)", "time"),
    ("mlp_test_acc", "test accuracy after the epochs (%)", "acc"),
    ("mlp_file_fp32", "MLP state file, fp32 (KB)", "size"),
    ("mlp_file_dynamic_int8", "MLP state file, dynamic int8 (KB)", "size"),
    ("tiny_xor_step", "XOR MLP 2-8-2, one Adam step, batch 4 (µs)", "time"),
    ("tiny_spirals_step", "spirals MLP 2-64-64-3, one Adam step, 600 points (µs)", "time"),
]

# ---- the machine ----

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def os_name():
    pretty = None
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    pretty = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    kernel = f"{platform.system()} {platform.release()} {platform.machine()}"
    return f"{pretty}, {kernel}" if pretty else kernel


def load_average():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def machine_info():
    return {"cpu": cpu_model(), "logical_cpus": os.cpu_count(), "os": os_name(),
            "python": platform.python_version()}


# ---- timing: the same method as tinyml's bench (cli/cmd_bench.cpp, time_calls) ----

def time_calls(fn, repeat, min_time):
    """(median seconds, fastest seconds, timed calls) of one call of fn."""
    start = time.perf_counter()
    while True:
        fn()
        if time.perf_counter() - start >= 0.1 * min_time:
            break
    per_call = []
    start = time.perf_counter()
    while len(per_call) < max(1, repeat) or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        per_call.append(time.perf_counter() - t0)
    return statistics.median(per_call), min(per_call), len(per_call)


def ms_row(timing):
    med, best, calls = timing
    return {"value": med * 1e3, "best": best * 1e3, "samples": calls}


def rate_row(work, timing):
    med, best, calls = timing
    return {"value": work / med / 1e9, "best": work / best / 1e9, "samples": calls}


# ---- data ----

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
    return None


_SPLITS = {}


def load_split(torch, root, split):
    """Fashion-MNIST split as (float images in [0, 1], int64 labels), or None if not installed."""
    if (root, split) not in _SPLITS:
        _SPLITS[(root, split)] = _read_split(torch, root, split)
    return _SPLITS[(root, split)]


def _read_split(torch, root, split):
    images, labels = find(root, f"{split}-images-idx3-ubyte"), find(root, f"{split}-labels-idx1-ubyte")
    if images is None or labels is None:
        return None
    dims, pixels = read_idx(images)
    _, label_bytes = read_idx(labels)
    x = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(dims[0], dims[1] * dims[2])
    y = torch.frombuffer(bytearray(label_bytes), dtype=torch.uint8).long()
    return x.float() / 255.0, y


# ---- PyTorch ----

def openblas_threads():
    """Threads of the OpenBLAS library loaded in this process (PyTorch's fp32 GEMMs), if any."""
    try:
        import ctypes  # noqa: PLC0415
        return ctypes.CDLL("libopenblas.so.0").openblas_get_num_threads()
    except (OSError, AttributeError):
        return None


def state_file_kb(torch, module):
    buf = io.BytesIO()
    torch.save(module.state_dict(), buf)
    return buf.getbuffer().nbytes / 1e3


def make_mlp(torch):
    return torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))


def static_quantized(torch, module, calibration, fuse=None):
    """Eager-mode static int8: float in, quantize, integer layers, dequantize, float out. Works on a
    copy: prepare() attaches observers and forward hooks to the float modules it is given, which
    would otherwise keep running in the fp32 figures."""
    tq = torch.ao.quantization
    module = copy.deepcopy(module).eval()
    if fuse:
        module = tq.fuse_modules(module, fuse)
    wrapped = tq.QuantWrapper(module)
    wrapped.qconfig = tq.get_default_qconfig(torch.backends.quantized.engine)
    tq.prepare(wrapped, inplace=True)
    with torch.no_grad():
        wrapped(calibration)
    tq.convert(wrapped, inplace=True)
    return wrapped


def dynamic_quantized(torch, module):
    """quantize_dynamic with int8 weights per output channel, as tinyml's dynamic mode quantizes them
    (PyTorch's default for quantize_dynamic is one scale per tensor)."""
    tq = torch.ao.quantization
    return tq.quantize_dynamic(module, {torch.nn.Linear: tq.per_channel_dynamic_qconfig}, dtype=torch.qint8)


def tiny_step_us(torch, sizes, x, y, rep, mt):
    """One Adam step (zero_grad, forward, CrossEntropyLoss, backward, step) of an MLP, in µs."""
    layers = []
    for i in range(len(sizes) - 1):
        layers += [torch.nn.Linear(sizes[i], sizes[i + 1]), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    med, best, calls = time_calls(step, rep, mt)
    return {"value": med * 1e6, "best": best * 1e6, "samples": calls}


def run_tiny(torch, rep, mt, out):
    """The tiny suite (cli/bench_tiny.cpp). tinyml's XOR step includes a shuffling DataLoader pass;
    PyTorch's takes the four points as they are (the step alone, the figure it is compared with)."""
    xor_x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    xor_y = torch.tensor([0, 1, 1, 0])
    out["tiny_xor_step"] = tiny_step_us(torch, [2, 8, 2], xor_x, xor_y, rep, mt)
    # 600 points in 3 classes; the values do not change the time.
    gen = torch.Generator().manual_seed(1)
    spirals_x, spirals_y = torch.rand(600, 2, generator=gen) * 2 - 1, torch.arange(600) // 200
    out["tiny_spirals_step"] = tiny_step_us(torch, [2, 64, 64, 3], spirals_x, spirals_y, rep, mt)


def run_pytorch(torch, args):
    torch.set_num_threads(args.threads)
    engines = torch.backends.quantized.supported_engines
    if "onednn" in engines:
        torch.backends.quantized.engine = "onednn"
    torch.manual_seed(0)
    rep, mt = args.repeat, args.min_time
    out = {}

    with torch.no_grad():
        a, b = torch.rand(256, 1024), torch.rand(1024, 1024)
        out["sgemm_256x1024x1024"] = rate_row(2.0 * 256 * 1024 * 1024, time_calls(lambda: torch.mm(a, b), rep, mt))

        layer = torch.nn.Linear(1024, 1024).eval()
        x, x1 = torch.randn(256, 1024), torch.randn(1, 1024)
        # quantize_dynamic swaps children, so the Linear goes in as the child of a Sequential; the
        # quantized Linear itself is then timed, without the container.
        dyn = dynamic_quantized(torch, torch.nn.Sequential(layer))[0]
        stat = static_quantized(torch, torch.nn.Sequential(layer), x)
        out["linear_256x1024x1024_fp32"] = ms_row(time_calls(lambda: layer(x), rep, mt))
        out["linear_256x1024x1024_dynamic_int8"] = ms_row(time_calls(lambda: dyn(x), rep, mt))
        out["linear_256x1024x1024_static_int8"] = ms_row(time_calls(lambda: stat(x), rep, mt))
        out["linear_b1_fp32"] = ms_row(time_calls(lambda: layer(x1), rep, mt))
        out["linear_b1_dynamic_int8"] = ms_row(time_calls(lambda: dyn(x1), rep, mt))

    train = load_split(torch, args.data, "train")
    test = load_split(torch, args.data, "t10k")
    real = train is not None and test is not None
    if not real:
        gen = torch.Generator().manual_seed(1)
        n = args.limit or 60000
        train = (torch.rand(n, 784, generator=gen), torch.randint(0, 10, (n,), generator=gen))
        test = (torch.rand(1000, 784, generator=gen), torch.zeros(1000, dtype=torch.long))
    train_x, train_y = train
    test_x, test_y = test
    if args.limit:
        train_x, train_y = train_x[: args.limit], train_y[: args.limit]

    model = make_mlp(torch)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(0)
    epoch_s = []
    for _ in range(max(1, rep)):
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
    out["mlp_train_epoch"] = {"value": statistics.median(epoch_s), "best": min(epoch_s), "samples": len(epoch_s)}

    model.eval()
    images = test_x[:1000]
    with torch.no_grad():
        if real:
            correct = sum((model(test_x[i : i + 1000]).argmax(1) == test_y[i : i + 1000]).sum().item()
                          for i in range(0, test_x.shape[0], 1000))
            out["mlp_test_acc"] = {"value": 100.0 * correct / test_x.shape[0]}
        dyn_mlp = dynamic_quantized(torch, model)
        # Untrained weights, as in tinyml's static MLP: the speed does not depend on them.
        stat_mlp = static_quantized(torch, make_mlp(torch).eval(), images, fuse=[["0", "1"], ["2", "3"]])
        out["mlp_infer_1000_fp32"] = ms_row(time_calls(lambda: model(images), rep, mt))
        out["mlp_infer_1000_dynamic_int8"] = ms_row(time_calls(lambda: dyn_mlp(images), rep, mt))
        out["mlp_infer_1000_static_int8"] = ms_row(time_calls(lambda: stat_mlp(images), rep, mt))
    run_tiny(torch, rep, mt, out)
    out["mlp_file_fp32"] = {"value": state_file_kb(torch, model)}
    out["mlp_file_dynamic_int8"] = {"value": state_file_kb(torch, dyn_mlp)}
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "openblas_threads": openblas_threads(),
            "quantized_engine": torch.backends.quantized.engine,
            "data": "Fashion-MNIST" if real else "random data of Fashion-MNIST's shape"}
    return info, out


# ---- tinyml ----

def run_tinyml(args):
    cmd = [args.tinyml, "bench", "--suite", "all", "--json", "--threads", str(args.threads),
           "--repeat", str(args.repeat), "--min-time", str(args.min_time)]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    if not os.path.exists(args.tinyml):
        sys.exit(f"error: {args.tinyml} does not exist; build it first "
                 "(cmake --build build --target tinyml_cli) or pass --tinyml PATH")
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} failed with status {result.returncode}:\n{result.stderr}")
    report = json.loads(result.stdout)
    return report, {r["name"]: r for r in report["results"]}


# ---- the comparison ----

HIGHER_IS_BETTER_UNITS = {"GFLOP/s", "GOP/s", "x", "%"}


def higher_is_better(key, row):
    return row.get("unit") in HIGHER_IS_BETTER_UNITS or key.startswith(("sgemm", "qgemm"))


def combine(rounds):
    """One result per workload from several rounds: the median of the rounds' values (each already
    a median) and the best of their best figures."""
    out = {}
    for key in rounds[0]:
        rs = [r[key] for r in rounds if key in r]
        row = dict(rs[-1])
        row["value"] = statistics.median(r["value"] for r in rs)
        if all(r.get("best") for r in rs):
            row["best"] = (max if higher_is_better(key, row) else min)(r["best"] for r in rs)
            row["samples"] = sum(r.get("samples", 0) for r in rs)
        out[key] = row
    return out


def compare(kind, t, p):
    """(ratio from the medians, ratio from the best, winner): ratio = tinyml's cost / PyTorch's."""
    if kind == "acc":
        return t["value"] - p["value"], None, ""
    if kind == "rate":
        ratio = p["value"] / t["value"]
        ratio_best = p["best"] / t["best"] if p.get("best") and t.get("best") else None
    else:
        ratio = t["value"] / p["value"]
        ratio_best = t["best"] / p["best"] if p.get("best") and t.get("best") else None
    band = 0.01 if kind == "size" else 0.03
    ratios = [r for r in (ratio, ratio_best) if r is not None]
    if all(r < 1 - band for r in ratios):
        winner = "tinyml"
    elif all(r > 1 + band for r in ratios):
        winner = "PyTorch"
    else:
        winner = "even"
    return ratio, ratio_best, winner


def build_rows(tinyml, torch_results):
    rows = []
    for key, label, kind in ROWS:
        t = tinyml.get(key)
        if t is None:
            continue
        row = {"name": key, "label": label, "kind": kind,
               "tinyml": t["value"], "tinyml_best": t.get("best")}
        p = torch_results.get(key) if torch_results is not None else None
        if p is not None:
            ratio, ratio_best, winner = compare(kind, t, p)
            row.update({"pytorch": p["value"], "pytorch_best": p.get("best"),
                        "ratio": ratio, "ratio_best": ratio_best, "winner": winner})
        rows.append(row)
    return rows


def rounding_differences(args):
    """Integers of tinyml's quantization that differ from PyTorch's on 500 random tensors
    (bench/check_rounding.py), or None without PyTorch or bench/quantize_ints."""
    program = os.path.join(os.path.dirname(args.tinyml), "quantize_ints")
    if not os.path.exists(program):
        return None
    try:
        sys.path.insert(0, os.path.join(ROOT, "bench"))
        import check_rounding  # noqa: PLC0415
    except ImportError:
        return None
    c = check_rounding.compare(program, 500, 0)
    return c["qparams"] + c["integers"] + c["fake_quantize"]


def targets(tinyml, torch_results, full_epoch, rounding=None):
    """The targets of docs/performance.md, from the fastest calls of this run (the least noisy figure).
    Each check: the target's text, this run's value, the limit, its direction and whether it is met."""
    def best(d, key):
        r = d.get(key) if d else None
        return None if r is None else r.get("best", r["value"])

    def ratio(key):  # tinyml's time / PyTorch's
        t, p = best(tinyml, key), best(torch_results, key)
        return None if t is None or p is None else t / p

    def speedup(key):  # PyTorch's time / tinyml's
        t, p = best(tinyml, key), best(torch_results, key)
        return None if t is None or p is None else p / t

    # (text, value, limit, higher is better); the first four are this release's performance targets.
    table = [
        ("tiny XOR step: PyTorch's time / tinyml's ≥ 25", speedup("tiny_xor_step"), 25.0, True),
        ("tiny spirals step: PyTorch's time / tinyml's ≥ 10", speedup("tiny_spirals_step"), 10.0, True),
        ("dynamic int8 Linear 256×1024→1024 / PyTorch's time ≤ 0.75",
         ratio("linear_256x1024x1024_dynamic_int8"), 0.75, False),
        ("training epoch / PyTorch's time ≤ 0.55", ratio("mlp_train_epoch"), 0.55, False),
        ("tinyml fp32 Linear / dynamic int8 Linear ≥ 3 (same run)",
         best(tinyml, "linear_dynamic_int8_speedup"), 3.0, True),
        ("batch-1 dynamic int8 Linear / PyTorch's time ≤ 1", ratio("linear_b1_dynamic_int8"), 1.0, False),
        ("batch-1 fp32 Linear / PyTorch's time ≤ 1", ratio("linear_b1_fp32"), 1.0, False),
        ("dynamic int8 MLP, 1000 images / PyTorch's time ≤ 1",
         ratio("mlp_infer_1000_dynamic_int8"), 1.0, False),
        # with --limit the epoch figure is part of an epoch
        ("training epoch ≤ 0.49 s (PyTorch's figure on an idle machine)",
         best(tinyml, "mlp_train_epoch") if full_epoch else None, 0.49, False),
        ("quantized integers differing from PyTorch's (500 random tensors) = 0", rounding, 0, False),
    ]
    checks = []
    for text, value, limit, higher in table:
        if value is None:
            continue
        met = value >= limit if higher else value <= limit
        checks.append({"target": text, "value": value, "limit": limit, "higher_is_better": higher,
                       "met": met})
    return checks


def fmt_num(v):
    if v is None:
        return "-"
    return f"{v:.4g}" if abs(v) < 1000 else f"{v:.0f}"


def fmt_ratio(kind, r):
    if r is None:
        return "-"
    return f"{r:+.2f} pt" if kind == "acc" else f"{r:.2f}"


def print_text(report, rows, checks):
    m = report["machine"]
    print(f"machine   {m['cpu']}, {m['logical_cpus']} logical CPUs, {m['os']}")
    print(f"load      {report['load_before']} before, {report['load_after']} after (1, 5, 15 min)")
    ob = report["openblas_coretype"]
    print(f"env       OPENBLAS_CORETYPE={ob['used'] or '(unset)'} for both (inherited: {ob['inherited'] or '(unset)'})")
    t = report["tinyml"]
    print(f"tinyml    {t['blas']}; int8: {t['int8']}")
    if t.get("blas_warning"):
        print(f"warning   {t['blas_warning']}")
    if report.get("pytorch"):
        p = report["pytorch"]
        print(f"PyTorch   {p['torch']}, {p['threads']} thread(s) (OpenBLAS: {p['openblas_threads']}), quantized engine "
              f"{p['quantized_engine']}, {p['data']}")
    else:
        print(f"PyTorch   not available: {report['pytorch_missing']}")
    print(f"timing    {report['threads']} thread(s); at least {report['repeat']} calls and {report['min_time']} s "
          f"per figure, {report['rounds']} round(s); median (fastest)\n")
    w = max(len(r["label"]) for r in rows)
    if report.get("pytorch"):
        print(f"{'workload':<{w}}  {'tinyml':>18}  {'PyTorch':>18}  {'tinyml/PyTorch':>15}  winner")
    else:
        print(f"{'workload':<{w}}  {'tinyml':>18}")
    for r in rows:
        tt = fmt_num(r["tinyml"]) + (f" ({fmt_num(r['tinyml_best'])})" if r.get("tinyml_best") else "")
        line = f"{r['label']:<{w}}  {tt:>18}"
        if "pytorch" in r:
            pp = fmt_num(r["pytorch"]) + (f" ({fmt_num(r['pytorch_best'])})" if r.get("pytorch_best") else "")
            rr = fmt_ratio(r["kind"], r["ratio"]) + (f" ({fmt_ratio(r['kind'], r['ratio_best'])})"
                                                      if r.get("ratio_best") is not None else "")
            line += f"  {pp:>18}  {rr:>15}  {r['winner']}"
        print(line)
    if checks:
        print("\ntargets (docs/performance.md), from the fastest calls:")
        for c in checks:
            print(f"  {'met    ' if c['met'] else 'not met'}  {c['target']}: {c['value']:.3f}")


def print_markdown(report, rows, checks):
    m, t = report["machine"], report["tinyml"]
    p = report.get("pytorch")
    print(f"Machine: {m['cpu']}, {m['logical_cpus']} logical CPUs, {m['os']}; load average "
          f"{report['load_before'][0] if report['load_before'] else '?'} before the run; OPENBLAS_CORETYPE="
          f"{report['openblas_coretype']['used'] or '(unset)'} for both. tinyml: {t['blas']}; "
          f"int8: {t['int8']}." + (f" PyTorch {p['torch']} (OpenBLAS threads: {p.get('openblas_threads')}), quantized "
                                   f"engine `{p['quantized_engine']}`, {p['data']}." if p else " PyTorch: not available."))
    print()
    print("Each cell: median (fastest) of at least "
          f"{report['repeat']} calls and {report['min_time']} s, {report['rounds']} round(s) alternating which side "
          f"goes first; {report['threads']} thread(s). "
          "Ratio = tinyml's cost / PyTorch's (below 1: tinyml is faster or smaller).")
    print()
    if p:
        print("| workload | tinyml | PyTorch | tinyml / PyTorch | winner |")
        print("|---|---:|---:|---:|---|")
    else:
        print("| workload | tinyml |")
        print("|---|---:|")
    for r in rows:
        tt = fmt_num(r["tinyml"]) + (f" ({fmt_num(r['tinyml_best'])})" if r.get("tinyml_best") else "")
        if "pytorch" in r:
            pp = fmt_num(r["pytorch"]) + (f" ({fmt_num(r['pytorch_best'])})" if r.get("pytorch_best") else "")
            rr = fmt_ratio(r["kind"], r["ratio"]) + (f" ({fmt_ratio(r['kind'], r['ratio_best'])})"
                                                      if r.get("ratio_best") is not None else "")
            print(f"| {r['label']} | {tt} | {pp} | {rr} | {r['winner']} |")
        else:
            print(f"| {r['label']} | {tt} |")
    if checks:
        print()
        print("| target (docs/performance.md), from the fastest calls | this run | met |")
        print("|---|---:|---|")
        for c in checks:
            print(f"| {c['target']} | {c['value']:.3f} | {'met' if c['met'] else '**not met**'} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tinyml", default=os.path.join(ROOT, "build", "bin", "tinyml"),
                        help="the tinyml program (default: build/bin/tinyml)")
    parser.add_argument("--data", default=os.environ.get("TINYML_FASHION_MNIST_DIR") or
                        "/usr/share/datasets/fashion-mnist", help="Fashion-MNIST folder")
    parser.add_argument("--repeat", type=int, default=5,
                        help="timed calls per figure, at least; epochs trained (default 5)")
    parser.add_argument("--min-time", type=float, default=0.5, help="seconds of timed calls per figure (default 0.5)")
    parser.add_argument("--threads", type=int, default=1, help="threads on both sides (default 1)")
    parser.add_argument("--limit", type=int, default=0, help="train on at most N examples")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run both sides this many times, alternating which goes first; each figure is then "
                             "the median of the rounds' medians and the fastest of their fastest (default 1)")
    parser.add_argument("--openblas-core", default="detect", metavar="detect|keep|NAME",
                        help="OPENBLAS_CORETYPE for both sides: detect (unset it, so OpenBLAS picks the kernels "
                             "of this CPU; the default), keep (the inherited value), or a core name")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run, figures meaningless: --repeat 1 --min-time 0 --limit 1000")
    parser.add_argument("--save", metavar="FILE", help="also write the whole report as JSON to FILE")
    out_format = parser.add_mutually_exclusive_group()
    out_format.add_argument("--json", action="store_true", help="print one JSON object")
    out_format.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.min_time, args.limit = 1, 0.0, args.limit or 1000
    if args.repeat < 1 or args.rounds < 1 or args.threads < 1 or args.min_time < 0 or args.limit < 0:
        parser.error("--repeat, --rounds and --threads must be >= 1, --min-time and --limit >= 0")

    # OpenBLAS reads OPENBLAS_CORETYPE once, when it is loaded: set it before tinyml starts and
    # before torch is imported. Both sides get the same value.
    inherited = os.environ.get("OPENBLAS_CORETYPE")
    if args.openblas_core == "detect":
        os.environ.pop("OPENBLAS_CORETYPE", None)
    elif args.openblas_core != "keep":
        os.environ["OPENBLAS_CORETYPE"] = args.openblas_core
    # PyTorch's torch.set_num_threads does not reach OpenBLAS, whose pthread build otherwise starts
    # one thread per core: without this, PyTorch's fp32 GEMMs were seen running on two threads.
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    report = {"machine": machine_info(), "load_before": load_average(), "threads": args.threads,
              "repeat": args.repeat, "min_time": args.min_time, "limit": args.limit, "rounds": args.rounds,
              "openblas_coretype": {"inherited": inherited, "used": os.environ.get("OPENBLAS_CORETYPE")}}
    try:
        import torch  # noqa: PLC0415 (optional: the comparison is a benchmark, not a dependency)
    except ImportError as e:
        torch = None
        report["pytorch_missing"] = (f"{e} (interpreter {sys.executable}; Debian: apt install python3-torch, "
                                     "then run with /usr/bin/python3); showing tinyml's figures alone")
        print(f"note: PyTorch is not available: {report['pytorch_missing']}", file=sys.stderr)

    # Rounds alternate which side goes first, so that a change of the machine's load during the run
    # does not fall on one side only.
    tinyml_rounds, torch_rounds = [], []
    for r in range(args.rounds):
        sides = ["tinyml", "pytorch"] if r % 2 == 0 else ["pytorch", "tinyml"]
        for side in sides:
            if side == "tinyml":
                tinyml_report, results = run_tinyml(args)
                report["tinyml"] = tinyml_report["machine"]
                tinyml_rounds.append(results)
            elif torch is not None:
                report["pytorch"], results = run_pytorch(torch, args)
                torch_rounds.append(results)
    tinyml = combine(tinyml_rounds)
    torch_results = combine(torch_rounds) if torch_rounds else None
    report["load_after"] = load_average()

    rows = build_rows(tinyml, torch_results)
    rounding = rounding_differences(args) if torch is not None else None
    checks = targets(tinyml, torch_results, full_epoch=not args.limit, rounding=rounding)
    report["rows"] = rows
    report["targets"] = checks
    report["tinyml_results"] = list(tinyml.values())
    if torch_results is not None:
        report["pytorch_results"] = torch_results
    if args.save:
        with open(args.save, "w") as f:
            json.dump(report, f, indent=1)
    if args.json:
        print(json.dumps(report))
    elif args.markdown:
        print_markdown(report, rows, checks)
    else:
        print_text(report, rows, checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
