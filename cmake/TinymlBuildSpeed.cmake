# How tinyml builds fast: precompiled headers for the heavy headers every file parses again, unity
# builds (the library in units of 8 files, each application-layer library and each test program as
# one unit: files that parse the same headers parse them once), test-side programs (unit tests, the
# course's step tests, fuzz replays) compiled at -O0, the application layer at -O1, and a faster linker
# (lld or gold). The measured effect is in docs/performance.md ("Build times"; scripts/build-time.sh
# measures it).
option(TINYML_PCH "Precompile the standard, fmt, GoogleTest and JSON headers" ON)
option(TINYML_UNITY "Compile the library, each application-layer library and each test program in units of several files (unity build)" ON)
option(TINYML_FAST_LINK "Link tinyml's programs with LLVM's lld, or else GNU gold, when the compiler accepts it" ON)

# Linking: GNU's default linker (bfd) took 34 s of CPU to link the build's 51 programs, gold 14 s
# (the same objects relinked, -j 1); lld (the Debian package lld, which `scripts/setup.sh`
# installs) is faster again in the sanitizer build, whose programs carry the
# instrumented library: 28 CPU-s against gold's 38 (docs/performance.md, "Build times"). gold comes with binutils, so a machine without lld still
# links with it. Directory scope: tinyml's own programs only; nothing of it reaches the installed
# target.
if(TINYML_FAST_LINK)
  include(CheckLinkerFlag)
  check_linker_flag(CXX -fuse-ld=lld TINYML_HAS_LLD)
  if(TINYML_HAS_LLD)
    add_link_options(-fuse-ld=lld)
  else()
    check_linker_flag(CXX -fuse-ld=gold TINYML_HAS_GOLD)
    if(TINYML_HAS_GOLD)
      add_link_options(-fuse-ld=gold)
    endif()
  endif()
endif()

# The library's precompiled header: the standard headers and fmt, which most of its files include
# (about two thirds of a library file's compile time is parsing headers). PRIVATE: nothing of it
# reaches the installed target or its users.
function(tinyml_library_pch target)
  if(TINYML_PCH)
    target_precompile_headers(${target} PRIVATE
      <algorithm> <cmath> <cstdint> <cstring> <functional> <memory> <stdexcept> <string> <vector>
      <fmt/format.h>)
  endif()
endfunction()

# One precompiled header shared by every test-side program. It is built once, in this target, and
# reused (REUSE_FROM), which needs the same compile flags: hence tinyml_test_flags below for all.
# It holds third-party and standard headers only, so a test that forgets one of tinyml's includes
# still fails to compile.
function(tinyml_add_test_pch)
  find_package(GTest REQUIRED)
  add_library(tinyml_test_pch OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cpp)
  target_link_libraries(tinyml_test_pch PRIVATE tinyml::tinyml GTest::gtest GTest::gmock
                                                nlohmann_json::nlohmann_json)
  tinyml_test_flags(tinyml_test_pch NO_PCH)
  if(TINYML_PCH)
    target_precompile_headers(tinyml_test_pch PRIVATE
      <gtest/gtest.h> <gmock/gmock.h> <nlohmann/json.hpp> <fmt/format.h>
      <algorithm> <cmath> <cstdint> <filesystem> <fstream> <functional> <map> <memory> <sstream>
      <string> <vector>)
  endif()
endfunction()

# Flags of a small program (the examples, the course's milestones): tinyml's, and one precompiled
# header they share, built once in tinyml_program_pch: the standard headers and fmt, which are
# most of what one of them parses (examples/xor.cpp: 1.6 of its 1.9 CPU-seconds are parsing; with
# the header, 1.0). Standard and third-party headers only, so an example that forgets one of
# tinyml's includes still fails to compile, as it would in a user's project.
function(tinyml_program_flags target)
  tinyml_target_flags(${target})
  if(NOT TINYML_PCH)
    return()
  endif()
  if(NOT TARGET tinyml_program_pch)
    # Not in `all`: built when a program that uses it is (milestones may be left out of `all`).
    add_library(tinyml_program_pch OBJECT EXCLUDE_FROM_ALL ${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cpp)
    target_link_libraries(tinyml_program_pch PRIVATE tinyml::tinyml)
    tinyml_target_flags(tinyml_program_pch)
    if(TINYML_SANITIZE)
      target_compile_options(tinyml_program_pch PRIVATE -O0)  # as the programs (TinymlWarnings.cmake)
    endif()
    target_precompile_headers(tinyml_program_pch PRIVATE
      <algorithm> <cmath> <cstdint> <cstdlib> <functional> <memory> <optional> <stdexcept> <string>
      <vector> <fmt/format.h>)
  endif()
  target_precompile_headers(${target} REUSE_FROM tinyml_program_pch)
endfunction()

# Flags of a test-side program: tinyml's warnings, -O0 instead of the build type's optimization
# (the tests spend their time in the library, which keeps it; the app tests' unit took 37
# CPU-seconds at -O1 and 29 at -O0), not instrumented in the sanitizer build (DRIVER,
# TinymlWarnings.cmake) unless INSTRUMENTED, and the shared precompiled header. The fuzz targets
# are INSTRUMENTED: the header-only code they share with the library (CLI11's parser for fuzz_cli)
# may be linked from their copy, which must then be checked and guide libFuzzer like the library's.
function(tinyml_test_flags target)
  cmake_parse_arguments(ARG "NO_PCH;INSTRUMENTED" "" "" ${ARGN})
  if(ARG_INSTRUMENTED)
    tinyml_target_flags(${target})
  else()
    tinyml_target_flags(${target} DRIVER)
  endif()
  # Also for the shared header's own target, which is no program: a header precompiled at another
  # -O than the programs that use it is refused.
  target_compile_options(${target} PRIVATE -O0)
  if(TINYML_PCH AND NOT ARG_NO_PCH)
    target_precompile_headers(${target} REUSE_FROM tinyml_test_pch)
  endif()
endfunction()

# Flags of an application-layer library (cli/, lab/, course/, bench/suites/): tinyml's warnings at
# -O1 (-O0 in the sanitizer build), each library one unity unit. Their code parses options, runs
# the library and renders its results; the work is in the library, which keeps the build type's
# optimization. Not -O0 in the Release build: these libraries are linked into `tinyml` ahead of the
# library, and the linker keeps the first copy it meets of an inline function both compile (a
# Tensor handle's copy and destruction, shape accessors, shared_ptr's counts), so the library's
# own calls then ran the unoptimized copy: one Adam step of the XOR MLP (`tinyml bench --suite
# tiny`) took 6.3 µs instead of 4.7 with these libraries at -O0. -O1 costs about 30 CPU-seconds of
# a clean Release build (cli/ 16.6 against 8.6, lab/ 19.2 against 9.1, course/ 16.0 against 7.9,
# tinyml-course's main 6.9 against 3.4; clang 14). As one unit, the 32 files of the four libraries
# took 50 CPU-seconds instead of 144: CLI11 (2.1, header-only) and nlohmann-json are parsed and
# their inline code compiled once per library instead of once per file. Helpers in anonymous
# namespaces must therefore have names unique within their library. (A shared precompiled header
# of CLI11 and nlohmann-json was tried, per file, and made them slower: it put both libraries'
# inline code into files that use only one.)
function(tinyml_app_flags target)
  tinyml_target_flags(${target})
  if(TINYML_SANITIZE)
    target_compile_options(${target} PRIVATE -O0)
  else()
    target_compile_options(${target} PRIVATE -O1)
  endif()
  set_target_properties(${target} PROPERTIES UNITY_BUILD ${TINYML_UNITY} UNITY_BUILD_BATCH_SIZE 0)
endfunction()
