#!/usr/bin/env python3
"""Bad inputs against build/bin/tinyml: mutated model files, broken IDX folders, odd command lines,
unsafe save targets and non-finite training. Every run is bounded (a time limit and an address-space
limit) and classified:

  clean error    exit status 1 or 2 with a message on stderr, nothing else (the expected refusal)
  accepted       exit status 0 where success is acceptable (a mutation that leaves a valid file)
  crash          a signal, another exit status, or "terminate called" / a sanitizer report
  hang           the time limit ran out
  wrong success  exit status 0 where the input must be refused, or a save that harmed a file

Prints the table docs/hardening.md shows (category, cases, clean errors, accepted, defects) and the
details of every defect. Standard library only.

Usage: scripts/attack.py [--bin build/bin/tinyml] [--mutations 150] [--seed 1] [--timeout 20]
                         [--vmem-mb 4096] [--json]
Exit status 1 if any defect was found.
"""
import argparse
import gzip
import json
import os
import random
import resource
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time

CLEAN, ACCEPTED, CRASH, HANG, WRONG = "clean error", "accepted", "crash", "hang", "wrong success"
DEFECTS = (CRASH, HANG, WRONG)


class Attack:
    def __init__(self, args):
        self.bin = os.path.abspath(args.bin)
        self.timeout = args.timeout
        self.vmem = args.vmem_mb * 1024 * 1024
        self.rng = random.Random(args.seed)
        self.work = tempfile.mkdtemp(prefix="tinyml-attack-")
        self.results = {}  # category -> list of (case, outcome, detail)
        self.env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")

    def path(self, name):
        return os.path.join(self.work, name)

    def _limits(self):
        resource.setrlimit(resource.RLIMIT_AS, (self.vmem, self.vmem))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    def run(self, args, env=None):
        """Runs tinyml with `args`; returns (status or None on timeout, stderr, seconds)."""
        t0 = time.monotonic()
        try:
            p = subprocess.run([self.bin] + args, capture_output=True, timeout=self.timeout,
                               env=dict(self.env, **(env or {})), preexec_fn=self._limits,
                               cwd=self.work)
            return p.returncode, p.stderr.decode(errors="replace"), time.monotonic() - t0
        except subprocess.TimeoutExpired:
            return None, "", time.monotonic() - t0

    def record(self, category, case, args, must_fail, env=None, check=None):
        """Runs one case and classifies it. `check`, when given, returns a complaint (str) about
        the state the run left (a harmed file) or None."""
        status, err, secs = self.run(args, env)
        crashed = "terminate called" in err or "Sanitizer" in err or "runtime error:" in err
        if status is None:
            outcome = HANG
        elif status < 0 or status not in (0, 1, 2) or crashed:
            outcome = CRASH
        elif status == 0:
            outcome = WRONG if must_fail else ACCEPTED
        else:
            outcome = CLEAN if err.strip() else CRASH
        complaint = check() if check else None
        if complaint and outcome not in (CRASH, HANG):
            outcome, err = WRONG, complaint + "\n" + err
        last = err.strip().splitlines()[-1] if err.strip() else ""
        detail = f"status {status}, {secs:.1f} s: {last[:200]}"
        self.results.setdefault(category, []).append((case, outcome, detail))
        return status

    # ---------------------------------------------------------------- model files

    def base_model(self):
        out = self.path("base.safetensors")
        st, err, _ = self.run(["train", "--dataset", "spirals", "--epochs", "1", "--limit", "100", "-q",
                               "--save", out])
        if st != 0:
            sys.exit(f"attack.py: cannot train the base model: {err}")
        return out

    @staticmethod
    def split(data):
        (n,) = struct.unpack("<Q", data[:8])
        return json.loads(data[8:8 + n]), data[8 + n:]

    @staticmethod
    def join(header, payload, raw_text=None):
        text = raw_text if raw_text is not None else json.dumps(header, separators=(",", ":"))
        b = text.encode()
        return struct.pack("<Q", len(b)) + b + payload

    def designed_mutations(self, data):
        """Hand-made hostile shapes: (name, bytes)."""
        header, payload = self.split(data)
        meta = header.get("__metadata__", {})
        modules = json.loads(meta.get("tinyml.modules", "[]"))
        out = []

        def with_meta(**kv):
            h = json.loads(json.dumps(header))
            h["__metadata__"].update(kv)
            for k, v in list(h["__metadata__"].items()):
                if v is None:
                    del h["__metadata__"][k]
            return self.join(h, payload)

        many = ",".join(f'"t{i}":{{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}' for i in range(20000))
        out.append(("1 MB header of 20000 empty tensors", self.join(None, b"", "{" + many + "}")))
        huge = ",".join(f'"t{i}":{{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}' for i in range(70000))
        out.append(("header of 70000 entries (above the limit)", self.join(None, b"", "{" + huge + "}")))
        out.append(("header length 2^63", struct.pack("<Q", 1 << 63) + data[8:]))
        out.append(("header 64 MB of spaces", struct.pack("<Q", 64 << 20) + b" " * (64 << 20)))
        out.append(("200000 nested brackets", self.join(None, b"", '{"x":' + "[" * 200000 + "]" * 200000 + "}")))
        out.append(("duplicate tensor key",
                    self.join(None, payload, json.dumps(header)[:-1] + ',"0.bias":' + json.dumps(header["0.bias"]) + "}")))
        ids = modules + [{"name": f"i{i}", "type": "Identity"} for i in range(100000)]
        out.append(("module tree of 100000 Identity entries", with_meta(**{"tinyml.modules": json.dumps(ids)})))
        out.append(("no module tree, arch 2-16384-16384-3",
                    with_meta(**{"tinyml.modules": None, "arch": "2-16384-16384-3"})))
        out.append(("no module tree, no arch", with_meta(**{"tinyml.modules": None, "arch": None})))
        out.append(("arch says 2-64-64-5", with_meta(arch="2-64-64-5")))
        out.append(("format_version 2", with_meta(format_version="2")))
        last = max((e for e in modules if e.get("type") == "Linear"), key=lambda e: int(e["name"]))
        for out_features, label in ((5, "5 classes"), (1, "1 class")):
            h = json.loads(json.dumps(header))
            name = last["name"]
            rows_in = last["in"]
            h[f"{name}.weight"] = {"dtype": "F32", "shape": [out_features, rows_in], "data_offsets": [0, 0]}
            h[f"{name}.bias"] = {"dtype": "F32", "shape": [out_features], "data_offsets": [0, 0]}
            m = json.loads(json.dumps(modules))
            for e in m:
                if e["name"] == name:
                    e["out"] = out_features
            h["__metadata__"]["tinyml.modules"] = json.dumps(m)
            # Rebuild the data section: every tensor's bytes in order, the edited ones zeros.
            body, offset = b"", 0
            for k, v in h.items():
                if k == "__metadata__":
                    continue
                n = 4
                for d in v["shape"]:
                    n *= d
                if k in (f"{name}.weight", f"{name}.bias"):
                    chunk = b"\0" * n
                else:
                    b0, b1 = header[k]["data_offsets"]
                    chunk = payload[b0:b1]
                v["data_offsets"] = [offset, offset + len(chunk)]
                body += chunk
                offset += len(chunk)
            out.append((f"last layer with {label}, arch still 3 classes", self.join(h, body)))
        return out

    def random_mutations(self, data, count):
        header_len = struct.unpack("<Q", data[:8])[0]
        out = []
        for i in range(count):
            b = bytearray(data)
            kind = self.rng.choice(["flip-header", "flip-header", "truncate", "digit", "length", "flip-data"])
            in_string = False
            if kind == "flip-header":
                for _ in range(self.rng.randint(1, 4)):
                    j = self.rng.randrange(8, 8 + header_len)
                    b[j] = self.rng.randrange(256)
            elif kind == "flip-data":
                j = self.rng.randrange(8 + header_len, len(b))
                b[j] ^= 1 << self.rng.randrange(8)
            elif kind == "truncate":
                b = b[: self.rng.randrange(len(b))]
            elif kind == "length":
                b[0:8] = struct.pack("<Q", self.rng.choice([0, 1, header_len - 1, header_len + 1, 2**32, 2**64 - 1]))
            else:  # a digit of the header replaced by a long number
                digits = [j for j in range(8, 8 + header_len) if chr(b[j]).isdigit()]
                j = self.rng.choice(digits)
                # Inside a string (a name, a metadata value) the result may still be a valid file.
                in_string = bytes(b[8:j]).replace(b'\\"', b"").count(b'"') % 2 == 1
                b[j:j + 1] = str(self.rng.choice([0, 2**31, 2**63 - 1, 2**64 - 1, 10**30])).encode()
                b[0:8] = struct.pack("<Q", header_len + len(b) - len(data))
            # A flip in the tensor data leaves a valid file: its success is fine. So may a random byte
            # of the header (inside a name or a metadata string) or a digit inside a string.
            must_fail = kind in ("truncate", "length") or (kind == "digit" and not in_string)
            must_fail = must_fail and bytes(b) != data  # "0" replaced by "0" changes nothing
            out.append((f"random {kind} #{i}", bytes(b), must_fail))
        return out

    def model_files(self, count):
        base = self.base_model()
        data = open(base, "rb").read()
        qfile = self.path("q.safetensors")
        self.run(["quantize", base, "--out", qfile, "--mode", "static", "--limit", "50"])
        qdata = open(qfile, "rb").read()
        cases = [(n, b, True) for n, b in self.designed_mutations(data)]
        qheader, qpayload = self.split(qdata)
        for zp in (2**64 - 1, 2**64 - 128, 2**63, -2**63 - 1, 2**31):
            h = json.loads(json.dumps(qheader))
            h["__metadata__"]["tinyml.modules"] = h["__metadata__"]["tinyml.modules"].replace(
                '"zero_point":[', f'"zero_point":[{zp},', 1)
            cases.append((f"quantized model, zero point {zp}", self.join(h, qpayload), True))
        cases += self.random_mutations(data, count)
        for i, (name, b, must_fail) in enumerate(cases):
            f = self.path(f"m{i}.safetensors")
            open(f, "wb").write(b)
            self.record("model files: eval", name, ["eval", f, "--dataset", "spirals", "--limit", "200"], must_fail)
            out = self.path(f"m{i}.q.safetensors")
            self.record("model files: quantize", name,
                        ["quantize", f, "--out", out, "--dataset", "spirals", "--limit", "200"], must_fail)
            for p in (f, out):
                if os.path.exists(p):
                    os.remove(p)

    # ---------------------------------------------------------------- IDX folders

    @staticmethod
    def idx(dims, payload):
        return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload

    def fashion_dir(self, name, n=60, images=None, labels=None, gz=False):
        d = self.path(name)
        os.makedirs(d, exist_ok=True)
        rng = random.Random(n)
        for split in ("train", "t10k"):
            img = self.idx([n, 28, 28], bytes(rng.randrange(256) for _ in range(n * 784)))
            lab = self.idx([n], bytes(rng.randrange(10) for _ in range(n)))
            if split == "t10k":
                img = images if images is not None else img
                lab = labels if labels is not None else lab
            for stem, content in ((f"{split}-images-idx3-ubyte", img), (f"{split}-labels-idx1-ubyte", lab)):
                if gz:
                    with gzip.open(os.path.join(d, stem + ".gz"), "wb") as f:
                        f.write(content)
                else:
                    open(os.path.join(d, stem), "wb").write(content)
        return d

    def idx_folders(self):
        good = self.fashion_dir("fm-good")
        model = self.path("fm.safetensors")
        st, err, _ = self.run(["train", "--dataset", "fashion-mnist", "--arch", "784-16-10", "--epochs", "1",
                               "-q", "--save", model], {"TINYML_FASHION_MNIST_DIR": good})
        if st != 0:
            sys.exit(f"attack.py: cannot train on the fake Fashion-MNIST: {err}")
        n = 60
        rng = random.Random(7)
        img = self.idx([n, 28, 28], bytes(rng.randrange(256) for _ in range(n * 784)))
        lab = self.idx([n], bytes(rng.randrange(10) for _ in range(n)))
        cases = [
            ("bad magic", dict(images=b"\1\2" + img[2:])),
            ("float32 type", dict(images=img[:2] + b"\x0d" + img[3:])),
            ("rank 5", dict(images=img[:3] + b"\5" + img[4:])),
            ("truncated header", dict(images=img[:9])),
            ("truncated payload", dict(images=img[:-1])),
            ("trailing byte", dict(images=img + b"\0")),
            ("empty file", dict(images=b"")),
            ("14x28 images", dict(images=self.idx([n, 14, 28], img[16:16 + n * 392]))),
            ("count mismatch", dict(labels=self.idx([n - 1], lab[8:-1]))),
            ("label 10", dict(labels=lab[:-1] + b"\x0a")),
            ("labels rank 2", dict(labels=self.idx([n, 1], lab[8:]))),
            ("dims over 2^31 elements", dict(images=self.idx([65536, 65536, 28], b""))),
            ("header claims 2739137 images (gzip bomb shape)", dict(images=self.idx([2739137, 28, 28], img[16:]), gz=True)),
            ("zero dim", dict(images=self.idx([0, 28, 28], b""))),
        ]
        # The real bomb: 2.1 GB of zeros in about 2 MB of gzip, written in pieces.
        d = self.fashion_dir("fm-bomb", n, gz=True)
        with gzip.open(os.path.join(d, "t10k-images-idx3-ubyte.gz"), "wb") as f:
            f.write(self.idx([2739137, 28, 28], b""))
            zeros = b"\0" * (1 << 20)
            left = 2739137 * 784
            while left > 0:
                f.write(zeros[: min(left, len(zeros))])
                left -= len(zeros)
        for limit in ([], ["--limit", "20"]):
            self.record("IDX folders", "gzip bomb: 2739137 images in 2 MB" + (" --limit 20" if limit else ""),
                        ["eval", model, "--dataset", "fashion-mnist"] + limit, True, {"TINYML_FASHION_MNIST_DIR": d})
        # Damage after the first 20 examples is not read with --limit 20: success is right there.
        past_limit = ("truncated payload", "trailing byte", "label 10")
        for i, (name, kw) in enumerate(cases):
            d = self.fashion_dir(f"fm-{i}", n, **kw)
            for limit in ([], ["--limit", "20"]):
                self.record("IDX folders", name + (" --limit 20" if limit else ""),
                            ["eval", model, "--dataset", "fashion-mnist"] + limit,
                            not (limit and name in past_limit), {"TINYML_FASHION_MNIST_DIR": d})
        # A corrupt gzip stream and a truncated one.
        d = self.fashion_dir("fm-gz", n, gz=True)
        p = os.path.join(d, "t10k-images-idx3-ubyte.gz")
        b = bytearray(open(p, "rb").read())
        open(p, "wb").write(bytes(b[:-6]))
        self.record("IDX folders", "truncated gzip", ["eval", model, "--dataset", "fashion-mnist"], True,
                    {"TINYML_FASHION_MNIST_DIR": d})
        b[-6] ^= 0xFF
        open(p, "wb").write(bytes(b))
        self.record("IDX folders", "bad gzip CRC", ["eval", model, "--dataset", "fashion-mnist"], True,
                    {"TINYML_FASHION_MNIST_DIR": d})

    # ---------------------------------------------------------------- command lines

    def command_lines(self):
        model = self.path("cl.safetensors")
        self.run(["train", "--dataset", "xor", "--epochs", "1", "-q", "--save", model])
        bad = [
            ["train", "--seed", "-1"], ["train", "--seed", "18446744073709551616"], ["train", "--seed", "1e23"],
            ["train", "--seed", ""], ["train", "--seed", "0x10"], ["train", "--lr", "-1"], ["train", "--lr", "nan"],
            ["train", "--lr", "inf"], ["train", "--lr", "1e400"], ["train", "--lr", "abc"], ["train", "--batch", "0"],
            ["train", "--batch", "3.7"], ["train", "--epochs", "-1"], ["train", "--epochs", "99999999999999999999"],
            ["train", "--threads", "-2"], ["train", "--threads", "10000"], ["train", "--threads", "4294967296"],
            ["train", "--momentum", "1"], ["train", "--arch", "2-0-2"], ["train", "--arch", "2--2"],
            ["train", "--arch", "784-10", "--dataset", "xor"], ["train", "--dataset", "mnist"],
            ["train", "--save", ""], ["train", "--save", "missing-folder/m.safetensors"],
            ["train", "--dataset", "xor", "--save", self.work], ["train", "--limit", "0"],
            ["train", "--dataset", "spirals", "--lr", "1e30", "--epochs", "2", "--limit", "100", "-q",
             "--save", "nan.safetensors"],
            ["eval"], ["eval", "/nonexistent"], ["eval", self.work], ["eval", model, "--dataset", "spirals"],
            ["eval", model, "--batch", "0"], ["eval", model, "--limit", "-5"],
            ["quantize", model], ["quantize", model, "--out", model], ["quantize", model, "--out", ""],
            ["quantize", model, "--out", "q.safetensors", "--bits", "1"],
            ["quantize", model, "--out", "q.safetensors", "--bits", "9"],
            ["quantize", model, "--out", "q.safetensors", "--mode", "fp8"],
            ["quantize", model, "--out", "q.safetensors", "--dataset", "spirals"],
            ["qat", model, "--out", model], ["qat", model, "--out", "q.safetensors", "--bits", "12"],
            ["bench", "--suite", "nothing"], ["nosuchcommand"], [],
            ["train", "--dataset"], ["train", "--dataset", "xor", "extra-positional"],
        ]
        for args in bad:
            self.record("command lines", " ".join(args) or "(no arguments)", args, True)
        good = [
            ["train", "--dataset", "xor", "--epochs", "1", "--seed", "18446744073709551615", "-q"],
            ["train", "--dataset", "xor", "--epochs", "1", "--threads", "64", "-q"],
            ["train", "--dataset", "xor", "--epochs", "1", "--threads", "0", "-q"],
            ["eval", model], ["eval", model, "--threads", "32"],
            ["quantize", model, "--out", "q2.safetensors"],
        ]
        for args in good:
            self.record("command lines", " ".join(args), args, False)

    # ---------------------------------------------------------------- save targets

    def save_targets(self):
        train = ["train", "--dataset", "xor", "--epochs", "1", "-q", "--save"]
        fifo = self.path("fifo")
        os.mkfifo(fifo)
        self.record("save targets", "--save onto a FIFO", train + [fifo], True,
                    check=lambda: None if stat.S_ISFIFO(os.lstat(fifo).st_mode) else "the FIFO was replaced")
        if os.geteuid() == 0:
            dev = self.path("fakenull")
            os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
            self.record("save targets", "--save onto a character device", train + [dev], True,
                        check=lambda: None if stat.S_ISCHR(os.lstat(dev).st_mode) else "the device was replaced")
        os.mkdir(self.path("folder"))
        self.record("save targets", "--save onto a folder", train + [self.path("folder")], True)
        # A link planted at the old fixed temporary name must not be written through.
        victim = self.path("victim")
        open(victim, "w").write("precious")
        out = self.path("planted.safetensors")
        for pid_guess in range(os.getpid(), os.getpid() + 200):
            try:
                os.symlink(victim, f"{out}.tmp.{pid_guess}")
            except FileExistsError:
                pass
        self.record("save targets", "links planted at <out>.tmp.<pid>", train + [out], False,
                    check=lambda: None if open(victim).read() == "precious" and not os.path.islink(out)
                    else "the victim was overwritten or the output is a link")
        secret = self.path("secret.safetensors")
        self.run(train + [secret])
        os.chmod(secret, 0o600)
        self.record("save targets", "overwrite a 0600 file", train + [secret], False,
                    check=lambda: None if stat.S_IMODE(os.stat(secret).st_mode) == 0o600
                    else f"mode became {oct(stat.S_IMODE(os.stat(secret).st_mode))}")
        real = self.path("real.safetensors")
        self.run(train + [real])
        link = self.path("link.safetensors")
        os.symlink(real, link)
        self.record("save targets", "--save through a symlink to a file", train + [link], False,
                    check=lambda: None if os.path.islink(link) else "the link was replaced")
        model = self.path("qin.safetensors")
        self.run(train + [model])
        size = os.path.getsize(model)
        self.record("save targets", "quantize IN --out IN (no --force)", ["quantize", model, "--out", model], True,
                    check=lambda: None if os.path.getsize(model) == size else "the input was replaced")

    # ---------------------------------------------------------------- report

    def table(self):
        rows = []
        for cat, rs in self.results.items():
            counts = {k: sum(1 for r in rs if r[1] == k) for k in (CLEAN, ACCEPTED, CRASH, HANG, WRONG)}
            rows.append((cat, len(rs), counts))
        return rows

    def report(self, as_json):
        rows = self.table()
        defects = [(c, case, o, d) for c, rs in self.results.items() for case, o, d in rs if o in DEFECTS]
        if as_json:
            print(json.dumps({"rows": [{"category": c, "cases": n, **k} for c, n, k in rows],
                              "defects": [{"category": c, "case": case, "outcome": o, "detail": d}
                                          for c, case, o, d in defects]}, indent=1))
        else:
            print("| category | cases | clean errors | accepted | defects (crash / hang / wrong success) |")
            print("|---|---|---|---|---|")
            for c, n, k in rows:
                print(f"| {c} | {n} | {k[CLEAN]} | {k[ACCEPTED]} | {k[CRASH] + k[HANG] + k[WRONG]}"
                      f" ({k[CRASH]} / {k[HANG]} / {k[WRONG]}) |")
            for c, case, o, d in defects:
                print(f"\n{o}: [{c}] {case}\n  {d}")
        return 1 if defects else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin", "tinyml"))
    ap.add_argument("--mutations", type=int, default=150, help="random model-file mutations (default 150)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per run (default 20)")
    ap.add_argument("--vmem-mb", type=int, default=4096, help="address-space limit per run (default 4096)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args()
    if not os.access(args.bin, os.X_OK):
        sys.exit(f"attack.py: {args.bin} is not built (cmake --build build)")
    a = Attack(args)
    try:
        a.model_files(args.mutations)
        a.idx_folders()
        a.command_lines()
        a.save_targets()
        status = a.report(args.json)
    finally:
        if not args.keep:
            shutil.rmtree(a.work, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
