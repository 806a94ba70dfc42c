#!/usr/bin/env bash
# Installs the runtimes the ONNX interop check (scripts/check-interop.sh) runs against:
#   - ONNX Runtime, from the npm package onnxruntime-node (its CPU binaries ship inside the
#     package, so its install script, which would download more, is skipped), into .cache/interop/;
#   - PyTorch 1.13 (Debian's python3-torch) and Node.js, through apt when missing.
# Usage: scripts/interop-deps.sh   (idempotent; nothing is installed when all is present)
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/packages.sh
missing=()
package_installed python3-torch || missing+=(python3-torch)
# Debian's nodejs, or another Node.js that brings npm with it.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
install_packages ${missing[@]+"${missing[@]}"}

CACHE=.cache/interop
mkdir -p "$CACHE"
if [[ ! -d "$CACHE/node_modules/onnxruntime-node" ]]; then
  [[ -f "$CACHE/package.json" ]] || echo '{"name": "tinyml-interop", "private": true}' >"$CACHE/package.json"
  npm install --prefix "$CACHE" --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0
fi
echo "interop runtimes ready: $(node --version) with onnxruntime-node in $CACHE, $(/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)')"
