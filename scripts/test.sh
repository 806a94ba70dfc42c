#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (the README's second command; CI runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
JOBS=$(nproc 2>/dev/null || echo 2)
ctest --test-dir build --output-on-failure -j "$JOBS"
