#!/usr/bin/env bash
# Builds the libFuzzer targets (build-asan/: clang-14, ASan + UBSan) and fuzzes each one for a
# bounded time, starting from a scratch copy of its seed corpus (tests/fuzz/corpus/<target>/, which
# is never modified). Fails if any target crashes, leaks, trips a sanitizer, breaks one of its
# invariants, times out on one input or runs out of memory. docs/hardening.md has the details.
# Usage: scripts/fuzz.sh [seconds per target, default 60] [target...]   (targets: idx safetensors
#        model_file cli parse_arch; default all)
# Env:   FUZZ_JOBS    targets fuzzed at once (default: the number of cores)
#        FUZZ_RSS_MB  memory limit per target in MB (default 2048)
#        FUZZ_TIMEOUT seconds one input may take (default 10; the seeds take milliseconds)
#        FUZZ_NO_BUILD=1  use build-asan/ as it is (scripts/test.sh has just built it)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${1:-60}"
shift || true
TARGETS=("$@")
if ((${#TARGETS[@]} == 0)); then
  for f in tests/fuzz/fuzz_*.cpp; do
    t=$(basename "$f" .cpp)
    TARGETS+=("${t#fuzz_}")
  done
fi
# nproc reports OMP_NUM_THREADS when set (scripts/test.sh sets it to 1 for the tests): ask without it.
JOBS="${FUZZ_JOBS:-$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null || echo 2)}"
RSS_MB="${FUZZ_RSS_MB:-2048}"
TIMEOUT_S="${FUZZ_TIMEOUT:-10}"

if [[ "${FUZZ_NO_BUILD:-0}" != "1" ]]; then
  bash scripts/setup.sh --sanitize --target tinyml_fuzz
fi

# Reports stop the program at once; leaks count. The fuzzers are single-threaded, and so are the
# kernels they reach.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1:report_error_type=1}"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
if [[ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/tinyml-fuzz.XXXXXX")
echo "fuzzing ${TARGETS[*]} for ${SECONDS_PER_TARGET} s each, ${JOBS} at a time, in ${SCRATCH}"

run_one() {
  local t=$1 dir="$SCRATCH/$1"
  mkdir -p "$dir/artifacts"
  cp -r "tests/fuzz/corpus/$t" "$dir/corpus"
  # -timeout: one input running that long is a finding (a hang, or quadratic work on a large input),
  # as is going over -rss_limit_mb. The seeds include the large shapes that once broke both.
  "build-asan/bin/fuzz_$t" "$dir/corpus" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb="$RSS_MB" \
    -timeout="$TIMEOUT_S" -use_value_profile=1 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
    >"$dir/log" 2>&1
}

declare -A PID
for t in "${TARGETS[@]}"; do
  if [[ ! -d "tests/fuzz/corpus/$t" || ! -x "build-asan/bin/fuzz_$t" ]]; then
    echo "fuzz.sh: unknown target '$t' (no tests/fuzz/corpus/$t or build-asan/bin/fuzz_$t)" >&2
    exit 2
  fi
  while (($(jobs -rp | wc -l) >= JOBS)); do wait -n || true; done
  run_one "$t" &
  PID[$t]=$!
done

stat_of() { sed -n "s/^stat::$2: *//p" "$1" | tail -n1; }  # a libFuzzer final statistic
failed=()
printf '%-12s %10s %10s %8s %8s  %s\n' target execs "execs/s" new_units rss_mb result
for t in "${TARGETS[@]}"; do
  status=0
  wait "${PID[$t]}" || status=$?
  log="$SCRATCH/$t/log"
  if ((status == 0)); then result=ok; else result="FAILED (exit $status)"; failed+=("$t"); fi
  printf '%-12s %10s %10s %8s %8s  %s\n' "$t" "$(stat_of "$log" number_of_executed_units)" \
    "$(stat_of "$log" average_exec_per_sec)" "$(stat_of "$log" new_units_added)" "$(stat_of "$log" peak_rss_mb)" \
    "$result"
done

for t in "${failed[@]}"; do
  echo
  echo "==== fuzz_$t: last lines of $SCRATCH/$t/log"
  tail -n 60 "$SCRATCH/$t/log"
  for a in "$SCRATCH/$t"/artifacts/*; do
    [[ -e "$a" ]] || continue
    echo "---- input: $a"
    echo "     reproduce: build-asan/bin/fuzz_$t $a"
    echo "     keep as a regression test: cp $a tests/fuzz/corpus/$t/$(basename "$a")"
    # A CI machine's scratch folder is gone after the run: the log keeps the input itself.
    if (($(stat -c %s "$a") <= 65536)); then
      echo "     base64 (recreate with: base64 -d > input):"
      base64 -w 100 "$a" | sed 's/^/       /'
    fi
  done
done
if ((${#failed[@]})); then
  echo "fuzz.sh: ${#failed[@]} target(s) failed: ${failed[*]} (scratch kept in $SCRATCH)" >&2
  exit 1
fi
rm -rf "$SCRATCH"
