#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, then trains the reference model
# (MLP 784-256-128-10 on Fashion-MNIST, Adam 1e-3, batch 128, 5 epochs) and prints its accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec build/bin/tinyml train --dataset fashion-mnist --arch 784-256-128-10 --optimizer adam --lr 1e-3 \
  --batch 128 --epochs 5 "$@"
