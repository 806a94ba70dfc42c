#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, then runs `tinyml demo`: trains the
# reference model (MLP 784-256-128-10 on Fashion-MNIST, Adam 1e-3, batch 128, 5 epochs), quantizes it
# six ways (int8 dynamic and static, int4 min/max and MSE, mixed precision, int4 QAT), prints one
# table comparing them and writes out/demo/report.md with its figures. Arguments go to `tinyml demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec build/bin/tinyml demo "$@"
