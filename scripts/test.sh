#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (the README's second command; CI runs it).
#   1. normal pass: build/ (Release, the default compiler), every test.
#   2. sanitizer pass: build-asan/ (clang-14, AddressSanitizer + UndefinedBehaviorSanitizer, leak
#      detection; the first report fails the test), the tests again minus the exclusions below,
#      then each libFuzzer target for TINYML_FUZZ_SECONDS (default 15) seconds.
# TINYML_SKIP_SANITIZE=1 skips pass 2 (a quick local run; pass 2 roughly doubles the time; CI runs
# it on a fresh Debian root, see .ci/run). docs/hardening.md describes both passes.
set -euo pipefail
cd "$(dirname "$0")/.."
# Not nproc alone: it reports OMP_NUM_THREADS when that is set, and this script sets it below.
JOBS=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null || echo 2)

stage_start=$SECONDS
stage() {  # prints how long the previous stage took
  echo "== test.sh: $1 took $((SECONDS - stage_start)) s"
  stage_start=$SECONDS
}

bash scripts/setup.sh
stage "normal build"
# ctest runs JOBS tests at once; one kernel thread each keeps OpenMP's spinning threads from
# fighting over the cores (a 256x1024x1024 int8 GEMM took 44 ms instead of 1 ms that way).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
ctest --test-dir build --output-on-failure -j "$JOBS"
stage "normal tests"

if [[ "${TINYML_SKIP_SANITIZE:-0}" == "1" ]]; then
  echo "== test.sh: TINYML_SKIP_SANITIZE=1: sanitizer pass skipped"
  exit 0
fi

bash scripts/setup.sh --sanitize
stage "sanitizer build"
# halt_on_error/abort_on_error: the first report ends the program, so the test fails (the build
# also uses -fno-sanitize-recover=all). detect_leaks: LeakSanitizer runs at every exit.
# detect_stack_use_after_return: catches references to locals that outlive them (a lambda
# capturing [&] called after its frame returned).
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:report_error_type=1"
if [[ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi
# Not run under the sanitizers (all of them run in the normal pass above; docs/hardening.md):
#   label "slow": the course tests that configure and build whole copies of the project with the
#     default compiler; they test the course tooling, and a nested build takes minutes.
#   QuantizeAccuracy.SmallFashionMnistMlpKeepsItsAccuracy: two full Fashion-MNIST epochs (about
#     80 s under ASan) for accuracy figures; training, quantizing and evaluating on Fashion-MNIST
#     run here through smaller tests (06_training, Determinism, CliTrain, Examples, Demo).
#   docs.doxygen: builds the API reference, nothing a sanitizer checks.
#   install.find_package is not even registered in build-asan (see tests/CMakeLists.txt).
ctest --test-dir build-asan --output-on-failure -j "$JOBS" -LE '^slow$' \
  -E '^(QuantizeAccuracy\.SmallFashionMnistMlpKeepsItsAccuracy|docs\.doxygen)$'
stage "sanitizer tests"
FUZZ_NO_BUILD=1 bash scripts/fuzz.sh "${TINYML_FUZZ_SECONDS:-15}"
stage "fuzzing"
