# How tinyml builds fast: precompiled headers for the heavy headers every file parses again, unity
# builds (the library in units of 8 files, each test program as one unit: files that parse the same
# headers parse them once), and test-side programs (unit tests, the course's step tests) compiled
# at -O1. The measured effect is in docs/performance.md ("Build times"; scripts/build-time.sh
# measures it).
option(TINYML_PCH "Precompile the standard, fmt, GoogleTest and JSON headers" ON)
option(TINYML_UNITY "Compile the library and each test program in units of several files (unity build)" ON)

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

# Flags of a test-side program: tinyml's warnings, -O1 instead of the build type's optimization
# (the tests spend their time in the library, which keeps it; -O1 halves their compile time), and
# the shared precompiled header.
function(tinyml_test_flags target)
  cmake_parse_arguments(ARG "NO_PCH" "" "" ${ARGN})
  tinyml_target_flags(${target})
  # The sanitizer build compiles its programs at -O0 (TinymlWarnings.cmake); the shared header's own
  # target is no program, so it is named here too: a header precompiled at another -O is refused.
  if(TINYML_SANITIZE)
    target_compile_options(${target} PRIVATE -O0)
  else()
    target_compile_options(${target} PRIVATE -O1)
  endif()
  if(TINYML_PCH AND NOT ARG_NO_PCH)
    target_precompile_headers(${target} REUSE_FROM tinyml_test_pch)
  endif()
endfunction()

# Flags of an application-layer library (cli/, lab/, bench/suites/, course/): tinyml's warnings at
# -O1. Their code parses options and renders results; the work is in the library, which keeps -O3.
# Measured on cli/cmd_eval.cpp: 12.4 CPU-seconds at -O3, 9.9 at -O1, of which 4.9 are parsing. (A
# shared precompiled header of CLI11 and nlohmann-json was tried and made these files slower: it
# put both libraries' inline code into files that use only one, and OpenMP's macro, which the
# library's users get, invalidates a header precompiled without it.)
function(tinyml_app_flags target)
  tinyml_target_flags(${target})
  if(NOT TINYML_SANITIZE)
    target_compile_options(${target} PRIVATE -O1)
  endif()
endfunction()
