// Shared by the fuzz targets: invariant checks that stop the run, and the one error type inputs may raise.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "tinyml/core/error.hpp"

// A broken invariant is a finding like a crash: print it and abort, so libFuzzer saves the input.
#define FUZZ_CHECK(cond)                                                                        \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "fuzz invariant violated: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                             \
    }                                                                                           \
  } while (0)

namespace tinyml::fuzz {

// Runs `f`; tinyml::Error (a refused input) returns false. Any other exception is a finding: a
// reader must turn every bad input into tinyml::Error, never std::length_error or the like.
template <class F>
bool accepts(F&& f) {
  try {
    f();
    return true;
  } catch (const Error&) {
    return false;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unexpected exception (not tinyml::Error): %s\n", e.what());
    std::abort();
  }
}

}  // namespace tinyml::fuzz
