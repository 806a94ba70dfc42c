#!/usr/bin/env bash
# Installs the Debian packages tinyml needs (only the missing ones) and builds it.
# Usage: scripts/setup.sh [extra cmake -D options...]
#          the packages below, then build/ (Release; clang-14 when build/ is new)
#        scripts/setup.sh --sanitize [extra cmake --build options, e.g. --target tinyml_fuzz]
#          also clang's sanitizer and libFuzzer runtimes, then build-asan/: built by clang with
#          AddressSanitizer + UndefinedBehaviorSanitizer (the test programs only linked with their
#          runtimes), and the fuzz targets
#          (docs/hardening.md; scripts/test.sh and scripts/fuzz.sh use it)
set -euo pipefail
cd "$(dirname "$0")/.."

SANITIZE=0
if [[ "${1:-}" == "--sanitize" ]]; then
  SANITIZE=1
  shift
fi

# ocl-icd-opencl-dev: Debian's oneDNN CMake config (dnnl-config.cmake) calls find_package(OpenCL),
# but libdnnl-dev only recommends it, and recommends are not installed here.
# ccache: a rebuild of unchanged sources (a student's copy, a second build folder) comes from its cache.
# libonnx-dev, libprotobuf-dev: ONNX export and import (docs/interop.md).
# graphviz: renders the DOT graphs of a tensor's history and of a model.
# clang-format: the test command checks the sources' format (format.check).
# git: `course make-assignment` lists a checkout's files with it, and the course tests make one.
# ninja-build: builds a new folder about 8 % faster than make on 2 cores (one graph of every file,
# where make goes target by target; docs/performance.md, "Build times").
PACKAGES=(build-essential cmake ninja-build pkg-config ccache libopenblas-dev libdnnl-dev ocl-icd-opencl-dev libfmt-dev
          libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev zlib1g-dev libbenchmark-dev
          dataset-fashion-mnist doxygen libonnx-dev libprotobuf-dev clang-format
          graphviz git clang-14 lld)
# clang-14: compiles tinyml in two thirds of GCC's CPU time (docs/performance.md, "Build times");
# CMakeLists.txt takes it for a new build folder. lld, LLVM's linker, faster than gold
# (cmake/TinymlBuildSpeed.cmake). The sanitizer build also needs clang's ASan/UBSan/
# libFuzzer runtimes (libclang-rt, only recommended by clang, so named here) and llvm-symbolizer
# (in llvm-14) for file:line in reports.
if ((SANITIZE)); then
  PACKAGES+=(libclang-rt-14-dev llvm-14)
fi

source scripts/packages.sh
missing=()
for p in "${PACKAGES[@]}"; do
  package_installed "$p" || missing+=("$p")
done
install_packages ${missing[@]+"${missing[@]}"}

# nproc reports OMP_NUM_THREADS when set (scripts/test.sh sets it to 1 for the tests): ask without it.
JOBS=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null || echo 2)
# A new build folder gets Ninja; one configured before keeps its generator (CMake refuses a change).
generator() { [[ -f "$1/CMakeCache.txt" ]] || echo "-GNinja"; }
if ((SANITIZE)); then
  # -O1: compiles in about half the time of -O3 under the instrumentation, and runs the tests
  # nearly as fast (their heavy lifting is in OpenBLAS and oneDNN). Line tables come from
  # TinymlWarnings.cmake. No benchmarks: timings under a sanitizer mean nothing.
  cmake -S . -B build-asan $(generator build-asan) -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
    -DCMAKE_CXX_COMPILER=clang++-14 -DTINYML_SANITIZE=ON -DTINYML_FUZZ=ON -DTINYML_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j "$JOBS" "$@"
else
  cmake -S . -B build $(generator build) -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build build -j "$JOBS"
fi
