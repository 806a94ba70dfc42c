#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (the README's second command; CI runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
JOBS=$(nproc 2>/dev/null || echo 2)
# ctest runs JOBS tests at once; one kernel thread each keeps OpenMP's spinning threads from
# fighting over the cores (a 256x1024x1024 int8 GEMM took 44 ms instead of 1 ms that way).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
ctest --test-dir build --output-on-failure -j "$JOBS"
