"""Compares two sets of logits (raw float32, N x classes) on labelled examples.

Usage: compare.py KIND EXPECTED.f32 ACTUAL.f32 LABELS.i32 WHAT
  KIND fp32: every logit within 1e-5 relative (|a - e| <= 1e-5 * max(1, |e|));
  KIND int:  every logit within one output quantization step, the int8 step of the expected
             logits' range ((max - min) / 255);
  both:      the accuracies (argmax vs label) equal to the hundredth of a percentage point.
Prints one line of figures; exits 1 when a check fails.
"""
import sys

import numpy as np


def main():
    kind, exp_path, act_path, y_path, what = sys.argv[1:6]
    y = np.fromfile(y_path, dtype=np.int32)
    e = np.fromfile(exp_path, dtype=np.float32).reshape(len(y), -1)
    a = np.fromfile(act_path, dtype=np.float32).reshape(len(y), -1)
    diff = np.abs(a.astype(np.float64) - e.astype(np.float64))
    acc_e = 100.0 * np.mean(np.argmax(e, axis=1) == y)
    acc_a = 100.0 * np.mean(np.argmax(a, axis=1) == y)
    rel = float(np.max(diff / np.maximum(1.0, np.abs(e))))
    step = float(e.max() - e.min()) / 255.0
    if kind == "fp32":
        ok_logits = rel <= 1e-5
        bound = f"max relative diff {rel:.2e} (bound 1e-5)"
    else:
        ok_logits = float(diff.max()) <= step
        bound = f"max diff {diff.max():.3e} = {diff.max() / step:.3f} output steps of {step:.3e}"
    ok_acc = round(acc_e, 2) == round(acc_a, 2)
    agree = 100.0 * np.mean(np.argmax(e, axis=1) == np.argmax(a, axis=1))
    status = "ok" if ok_logits and ok_acc else "FAIL"
    print(f"{status:4} {what}: {bound}; accuracy {acc_e:.2f}% vs {acc_a:.2f}%, argmax agree {agree:.2f}% "
          f"({len(y)} examples)")
    return 0 if status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
