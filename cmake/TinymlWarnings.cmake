# Compile flags for tinyml's own targets: warnings are errors, optional -march=native, sanitizers
# and libFuzzer coverage (docs/hardening.md describes the sanitizer build).
if(TINYML_FUZZ AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "TINYML_FUZZ needs clang (libFuzzer ships with it), not ${CMAKE_CXX_COMPILER_ID}; "
                      "configure with -DCMAKE_CXX_COMPILER=clang++-14 (scripts/fuzz.sh does)")
endif()
if(TINYML_FUZZ AND NOT TINYML_SANITIZE)
  # Without the sanitizers a fuzzer only sees crashes, not silent out-of-bounds reads; and the
  # sanitizer runtime is what provides the coverage callbacks to the programs that are not fuzzers.
  message(FATAL_ERROR "TINYML_FUZZ needs TINYML_SANITIZE=ON")
endif()

# Reports must point at a line: a sanitizer build keeps line tables (cheap) in every build type.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  set(TINYML_LINE_TABLES -gline-tables-only)
else()
  set(TINYML_LINE_TABLES -g1)
endif()

# tinyml_target_flags(target [DRIVER]): DRIVER marks a test program (unit tests, the course's step
# tests and snippets), which in the sanitizer build links the runtimes without being instrumented
# itself (see below).
function(tinyml_target_flags target)
  cmake_parse_arguments(ARG "DRIVER" "" "" ${ARGN})
  # -fno-math-errno lets loops with sqrt vectorize (errno is never read).
  target_compile_options(${target} PRIVATE -Wall -Wextra -fno-math-errno)
  if(TINYML_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(TINYML_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
  get_target_property(type ${target} TYPE)
  if(TINYML_SANITIZE)
    # Frame pointers and line tables make every report's stack trace name files and lines; the
    # runtimes are linked into every program.
    target_compile_options(${target} PRIVATE -fno-omit-frame-pointer ${TINYML_LINE_TABLES})
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(TINYML_SANITIZE AND ARG_DRIVER)
    # The code under test is the library's and the application layer's, instrumented below. A
    # test program only calls it: it links the runtimes, so every heap block still has redzones,
    # every leak is reported and tinyml's own functions are checked, but its own code (GoogleTest's
    # macros, fixtures) is compiled as is, in half the time (tests/test_app's unit alone, without
    # the precompiled header: 37 CPU-s instrumented, 19 without). docs/hardening.md gives the limits.
    # TINYML_SANITIZER_RUNTIME tells such a program that the runtimes are there (its own code
    # cannot see it: __has_feature(address_sanitizer) is false in it).
    target_compile_definitions(${target} PRIVATE TINYML_SANITIZER_RUNTIME=1)
  elseif(TINYML_SANITIZE)
    # Every report stops the program (-fno-sanitize-recover): a test that triggers undefined
    # behaviour fails instead of printing a line nobody reads.
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-sanitize-recover=all)
    if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
      # The instrumentation keeps `#pragma omp simd` loops from vectorizing, which clang reports
      # as an error under -Werror; the pragma is about speed, which this build does not measure.
      target_compile_options(${target} PRIVATE -Wno-pass-failed)
    endif()
    if(type STREQUAL "EXECUTABLE")
      # Examples, milestones, fuzz targets and the programs' main files spend their time in the
      # library, which keeps the build type's optimization; at -O0 they compile in about 60 % of
      # the time. (Test programs are at -O0 in every build, tinyml_test_flags.)
      target_compile_options(${target} PRIVATE -O0)
    endif()
    if(type STREQUAL "STATIC_LIBRARY")
      # Programs of another project that link this instrumented archive need the runtimes too.
      target_link_options(${target} INTERFACE $<BUILD_INTERFACE:-fsanitize=address,undefined>)
    endif()
  endif()
endfunction()

# Coverage feedback for libFuzzer in a library the fuzz targets exercise (the library, and cli/,
# whose option parsing fuzz_cli runs). Programs that are not fuzzers get the coverage callbacks as
# no-ops from the sanitizer runtime, so one build serves both the tests and the fuzz targets
# (tests/fuzz adds -fsanitize=fuzzer to those). Not for lab/, course/ and bench/suites/: fuzz_cli
# parses their options but runs no command, and their code would only grow (lab/'s unit compiled
# in 25 s with the coverage, 17 s without).
function(tinyml_fuzz_coverage target)
  if(TINYML_FUZZ)
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()
