#!/usr/bin/env bash
# Measures what building costs a user, from scratch, in throwaway folders (the source tree is not
# touched; ccache is off unless a row says otherwise, so every figure is a real compile):
#   release     a clean Release build of the library, the program and the tests (with the examples
#               and the course modules the tests run; without the Google Benchmark programs)
#   sanitizer   a clean build as scripts/test.sh's second pass makes it (clang-14, ASan+UBSan)
#   student     a fresh `course make-assignment` copy: configure, build tinyml-course, then the
#               first `course test 01` (which builds module 01's tests) until its summary
#   edit        in that copy, one library file edited, then `course test NN` again
# Usage: scripts/build-time.sh [--json] [--jobs N] [--only ROW[,ROW...]]   (needs build/bin/tinyml)
# Prints one line per row (wall seconds, CPU seconds) and the machine; --json prints one object.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD

JSON=0
ONLY="release,sanitizer,student,edit"
JOBS=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null || echo 2)
while (($#)); do
  case "$1" in
    --json) JSON=1 ;;
    --jobs) JOBS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    *) echo "build-time.sh: unknown argument '$1' (--json, --jobs N, --only ROWS)" >&2; exit 2 ;;
  esac
  shift
done
wanted() { [[ ",$ONLY," == *",$1,"* ]]; }
TINYML="$SRC/build/bin/tinyml"
if [[ ! -x "$TINYML" ]]; then
  echo "build-time.sh: $TINYML is missing; build first (bash scripts/setup.sh)" >&2
  exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tinyml-build-time.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROWS=()

# measure NAME DESCRIPTION COMMAND...: runs COMMAND (output to a log), records wall and CPU seconds
# (CPU: user + system time of the command and all its children).
measure() {
  local name=$1 what=$2
  shift 2
  local log="$WORK/$name.log" t0 t1 c0 c1
  t0=$(date +%s.%N)
  c0=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
  if ! "$@" >"$log" 2>&1; then
    echo "build-time.sh: '$name' failed; the end of its log:" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  c1=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
  local ticks
  ticks=$(getconf CLK_TCK)
  ROWS+=("$name|$what|$(echo "$t1 - $t0" | bc)|$(echo "scale=1; ($c1 - $c0) / $ticks" | bc)")
  ((JSON)) || printf '%-11s %8.1f s wall %8.1f s CPU   %s\n' "$name" "$(echo "$t1 - $t0" | bc)" \
    "$(echo "scale=1; ($c1 - $c0) / $ticks" | bc)" "$what" >&2
}

configure_and_build() {  # DIR [cmake -D options...]
  local dir=$1
  shift
  cmake -S "$SRC" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTINYML_CCACHE=OFF "$@" && cmake --build "$dir" -j "$JOBS"
}

# note_compiler BUILD_DIR: the compiler CMake chose there (clang++-14 unless CXX names another),
# for the machine line.
COMPILER=""
note_compiler() {
  local cxx
  cxx=$(sed -n 's/^set(CMAKE_CXX_COMPILER "\(.*\)")$/\1/p' "$1"/CMakeFiles/*/CMakeCXXCompiler.cmake)
  COMPILER="$("$cxx" --version | head -1)"
}

if wanted release; then
  measure release "clean Release build: library, program, examples, tests, course (no micro-benchmarks), -j $JOBS" \
    configure_and_build "$WORK/release" -DTINYML_BUILD_BENCH=OFF
  note_compiler "$WORK/release"
fi
if wanted sanitizer; then
  measure sanitizer "clean sanitizer build (clang-14, ASan+UBSan, fuzz targets), -j $JOBS" \
    configure_and_build "$WORK/asan" -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
    -DCMAKE_CXX_COMPILER=clang++-14 -DTINYML_SANITIZE=ON -DTINYML_FUZZ=ON -DTINYML_BUILD_BENCH=OFF
fi

# A student's copy: made by the instructor's program, then the steps modules/README.md gives.
student_first_test() {  # COPY
  local copy=$1
  (cd "$copy" && cmake -S . -B build -G Ninja -DTINYML_CCACHE=OFF &&
    cmake --build build -j "$JOBS" --target tinyml-course &&
    ./build/bin/tinyml-course test 01 -j "$JOBS" >/dev/null) || true
  # A stub copy fails its tests (that is the point); what is timed is getting to the result.
  [[ -s "$copy/build/course/grade.json" ]]
}
edit_and_test() {  # COPY: one library file of module 01 edited, then `course test 01` again
  local copy=$1
  echo "// edited" >>"$copy/tinyml/core/tensor.cpp"
  (cd "$copy" && ./build/bin/tinyml-course test 01 -j "$JOBS" >/dev/null) || true
  [[ "$copy/build/course/grade.json" -nt "$copy/tinyml/core/tensor.cpp" ]]
}
if wanted student || wanted edit; then
  "$TINYML" course make-assignment "$WORK/student" --source "$SRC" >/dev/null
  measure student "fresh student copy: configure, build tinyml-course, first course test 01 (no ccache)" \
    student_first_test "$WORK/student"
  [[ -n "$COMPILER" ]] || note_compiler "$WORK/student/build"
  if wanted edit; then
    measure edit "in that copy, tinyml/core/tensor.cpp edited, then course test 01" edit_and_test "$WORK/student"
  fi
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
if ((JSON)); then
  printf '{"machine": {"cpu": "%s", "cores": %s, "jobs": %s, "compiler": "%s"}, "rows": [' \
    "$cpu" "$(env -u OMP_NUM_THREADS nproc)" "$JOBS" "${COMPILER:-clang-14 (sanitizer row)}"
  sep=""
  for r in "${ROWS[@]}"; do
    IFS='|' read -r name what wall cpu_s <<<"$r"
    printf '%s{"name": "%s", "what": "%s", "wall_s": %s, "cpu_s": %s}' "$sep" "$name" "$what" "$wall" "$cpu_s"
    sep=", "
  done
  echo "]}"
else
  echo "machine: $cpu, $(env -u OMP_NUM_THREADS nproc) cores, -j $JOBS, ${COMPILER:-clang-14 (sanitizer row)}" >&2
fi
