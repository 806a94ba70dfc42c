#!/usr/bin/env bash
# ONNX interop against real runtimes: tinyml's exports run by ONNX Runtime (onnxruntime-node under
# node), and a PyTorch 1.13 model imported by tinyml. Installs nothing: scripts/interop-deps.sh does.
# Usage: scripts/check-interop.sh [BUILD_DIR]   (default build; needs its bin/tinyml and bin/interop_dump)
# Exit status: 0 all checks passed, 1 a check failed, 77 the runtimes are missing (skipped).
# Env: INTEROP_EPOCHS (default 2) epochs of the reference Fashion-MNIST MLP; INTEROP_TRAIN (default
# 20000) training examples given to PyTorch.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
BIN=$BUILD/bin
CACHE=$ROOT/.cache/interop
PY=/usr/bin/python3  # Debian's python3, which has python3-torch
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

if ! command -v node >/dev/null || [[ ! -d $CACHE/node_modules/onnxruntime-node ]] ||
  ! $PY -c 'import torch' 2>/dev/null; then
  echo "SKIPPED: ONNX interop check needs node, onnxruntime-node in .cache/interop and python3-torch; run scripts/interop-deps.sh"
  exit 77
fi
export NODE_PATH=$CACHE/node_modules
HERE=$ROOT/tests/interop
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tinyml-interop.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
status=0
check() { "$PY" "$HERE/compare.py" "$@" || status=1; }
# ORT's logits for MODEL.onnx on the test inputs; tinyml's for MODEL.safetensors.
ort() { node "$HERE/ort_run.js" "$1" test.x.f32 784 "$2" >/dev/null; }
mine() { "$BIN/interop_dump" "$1" fashion-mnist test 10000 "$2" >/dev/null; }

echo "== tinyml -> ONNX Runtime: reference Fashion-MNIST MLP 784-256-128-10"
"$BIN/tinyml" train --dataset fashion-mnist --epochs "${INTEROP_EPOCHS:-2}" --seed 0 --quiet --save fp32.safetensors |
  grep "test accuracy"
"$BIN/interop_dump" - fashion-mnist test 10000 test >/dev/null
declare -A QUANT=([int8-dynamic]="--mode dynamic" [int8-static]="--mode static" [int4-static]="--mode static --bits 4"
  [int4-dynamic]="--mode dynamic --bits 4")
for form in fp32 int8-dynamic int8-static int4-static int4-dynamic; do
  model=fp32.safetensors
  if [[ $form != fp32 ]]; then
    model=$form.safetensors
    # shellcheck disable=SC2086
    "$BIN/tinyml" quantize fp32.safetensors ${QUANT[$form]} --out "$model" >/dev/null
  fi
  "$BIN/tinyml" export "$model" --format onnx --out "$form.onnx" >/dev/null
  mine "$model" "$form"
  ort "$form.onnx" "$form.ort.f32"
  check "$([[ $form == fp32 ]] && echo fp32 || echo int)" "$form.logits.f32" "$form.ort.f32" test.y.i32 \
    "$form ($(stat -c %s "$form.onnx") bytes) ORT vs tinyml"
done

echo "== PyTorch 1.13 -> tinyml, and the full loop back to ONNX Runtime"
"$BIN/interop_dump" - fashion-mnist train "${INTEROP_TRAIN:-20000}" train >/dev/null
"$PY" "$HERE/torch_mlp.py" train test torch.onnx torch.logits.f32 2>&1 | grep -v -i warn || status=1
"$BIN/tinyml" import torch.onnx --out imported.safetensors --dataset fashion-mnist >/dev/null
mine imported.safetensors imported
check fp32 torch.logits.f32 imported.logits.f32 test.y.i32 "torch.onnx.export -> tinyml import vs PyTorch"
"$BIN/tinyml" quantize imported.safetensors --mode static --out imported-s8.safetensors | grep "test accuracy"
"$BIN/tinyml" export imported-s8.safetensors --out imported-s8.onnx >/dev/null
mine imported-s8.safetensors imported-s8
ort imported-s8.onnx imported-s8.ort.f32
check int imported-s8.logits.f32 imported-s8.ort.f32 test.y.i32 "PyTorch-trained, tinyml int8-static, ORT vs tinyml"
reported=$("$BIN/tinyml" eval imported-s8.safetensors --json)
echo "tinyml eval of the quantized import: $reported"

if ((status)); then echo "interop: FAILED"; else echo "interop: all checks passed"; fi
exit $status
